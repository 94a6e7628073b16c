//! One phone's cookies (RFC 6265, as far as loopback needs): kept per host
//! and path, never per port, sent back to the paths under theirs.
//!
//! Left out: `Domain` (every cookie is host-only), `Expires` (a cookie is
//! removed by `Max-Age` ≤ 0 only), `Secure` and `SameSite` (the phone's
//! pages are all on one site).

use reqwest::Url;

/// A phone's cookies.
#[derive(Debug, Default)]
pub(super) struct Jar {
    cookies: Vec<Cookie>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Cookie {
    host: String,
    path: String,
    name: String,
    value: String,
}

impl Jar {
    /// Keeps (or removes) the cookie of a `Set-Cookie` that `url` answered.
    pub fn store(&mut self, url: &Url, set_cookie: &str) {
        let Some(host) = url.host_str() else {
            return;
        };
        let mut parts = set_cookie.split(';');
        let Some((name, value)) = parts.next().and_then(|pair| pair.split_once('=')) else {
            return;
        };
        let name = name.trim();
        if name.is_empty() {
            return;
        }
        let mut path = default_path(url.path());
        let mut removed = false;
        for attribute in parts {
            let (key, val) = attribute.split_once('=').unwrap_or((attribute, ""));
            let (key, val) = (key.trim(), val.trim());
            if key.eq_ignore_ascii_case("path") && val.starts_with('/') {
                path = val.to_owned();
            } else if key.eq_ignore_ascii_case("max-age") {
                removed = val.parse::<i64>().is_ok_and(|seconds| seconds <= 0);
            }
        }
        let cookie = Cookie {
            host: host.to_ascii_lowercase(),
            path,
            name: name.to_owned(),
            value: value.trim().to_owned(),
        };
        self.cookies.retain(|kept| {
            (&kept.host, &kept.path, &kept.name) != (&cookie.host, &cookie.path, &cookie.name)
        });
        if !removed {
            self.cookies.push(cookie);
        }
    }

    /// The `Cookie` header for a request to `url`, longest paths first.
    pub fn header(&self, url: &Url) -> Option<String> {
        let host = url.host_str()?.to_ascii_lowercase();
        let mut sent: Vec<&Cookie> = self
            .cookies
            .iter()
            .filter(|cookie| cookie.host == host && path_matches(url.path(), &cookie.path))
            .collect();
        sent.sort_by_key(|cookie| std::cmp::Reverse(cookie.path.len()));
        let pairs: Vec<String> = sent
            .iter()
            .map(|cookie| format!("{}={}", cookie.name, cookie.value))
            .collect();
        (!pairs.is_empty()).then(|| pairs.join("; "))
    }
}

/// The path a cookie without `Path` gets: the request's, up to its last `/`.
fn default_path(request_path: &str) -> String {
    match request_path.rfind('/') {
        Some(0) | None => "/".to_owned(),
        Some(last) => request_path[..last].to_owned(),
    }
}

/// Whether a cookie of `cookie_path` goes with a request for `request_path`.
fn path_matches(request_path: &str, cookie_path: &str) -> bool {
    request_path == cookie_path
        || request_path
            .strip_prefix(cookie_path)
            .is_some_and(|rest| cookie_path.ends_with('/') || rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    #[test]
    fn sends_a_cookie_back_only_under_its_path_on_its_host() {
        let mut jar = Jar::default();
        jar.store(
            &url("http://127.0.0.1:8080/pay/tok"),
            "ps_claim=c1; Path=/pay/tok; HttpOnly; SameSite=Lax",
        );
        assert_eq!(
            jar.header(&url("http://127.0.0.1:8080/pay/tok")).as_deref(),
            Some("ps_claim=c1")
        );
        // Cookies are not kept apart by port.
        assert_eq!(
            jar.header(&url("http://127.0.0.1:9090/pay/tok/x"))
                .as_deref(),
            Some("ps_claim=c1")
        );
        assert_eq!(jar.header(&url("http://127.0.0.1:8080/pay/tokX")), None);
        assert_eq!(jar.header(&url("http://127.0.0.1:8080/oauth/cb")), None);
        assert_eq!(jar.header(&url("http://localhost:8080/pay/tok")), None);
    }

    #[test]
    fn replaces_and_removes() {
        let mut jar = Jar::default();
        let here = url("http://127.0.0.1:8080/pay/tok");
        jar.store(&here, "a=1; Path=/");
        jar.store(&here, "b=2; Path=/pay");
        jar.store(&here, "a=3; Path=/");
        assert_eq!(jar.header(&here).as_deref(), Some("b=2; a=3"));
        jar.store(&here, "a=; Path=/; Max-Age=0");
        assert_eq!(jar.header(&here).as_deref(), Some("b=2"));
    }

    #[test]
    fn without_a_path_a_cookie_stays_in_the_request_s_folder() {
        let mut jar = Jar::default();
        jar.store(&url("http://h/oauth/cb?code=1"), "s=1");
        assert_eq!(
            jar.header(&url("http://h/oauth/other")).as_deref(),
            Some("s=1")
        );
        assert_eq!(jar.header(&url("http://h/pay/tok")), None);
        jar.store(&url("http://h/top"), "t=1; Path=relative");
        assert_eq!(jar.header(&url("http://h/pay/tok")).as_deref(), Some("t=1"));
    }

    #[test]
    fn ignores_what_is_not_a_cookie() {
        let mut jar = Jar::default();
        let here = url("http://h/");
        jar.store(&here, "no pair here");
        jar.store(&here, "=nameless");
        assert_eq!(jar.header(&here), None);
    }
}
