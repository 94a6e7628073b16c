//! URL plumbing the emulators' pages share: reading a URL's host (for the
//! merchant's registered domains) and adding parameters to a return address.

/// The host of a URL (a Referer, a redirect_uri), lowercased, without
/// userinfo or port.
pub(crate) fn url_host(url: &str) -> Option<String> {
    let authority = url.split_once("://")?.1.split(['/', '?', '#']).next()?;
    // Browsers read `\` as `/` in http(s) addresses: an authority with one
    // is not what it seems (`evil.example\@shop.example`).
    if authority.contains('\\') {
        return None;
    }
    let host_port = authority.rsplit('@').next()?;
    let host = if let Some(bracketed) = host_port.strip_prefix('[') {
        bracketed.split(']').next()?
    } else {
        host_port.split(':').next()?
    };
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// `url` with `pairs` added to its query, before any fragment.
pub(crate) fn append_query(url: &str, pairs: &str) -> String {
    let (base, fragment) = match url.split_once('#') {
        Some((base, fragment)) => (base, Some(fragment)),
        None => (url, None),
    };
    let separator = match base.find('?') {
        None => "?",
        Some(_) if base.ends_with('?') || base.ends_with('&') => "",
        Some(_) => "&",
    };
    let mut out = format!("{base}{separator}{pairs}");
    if let Some(fragment) = fragment {
        out.push('#');
        out.push_str(fragment);
    }
    out
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub(crate) fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_url_host() {
        assert_eq!(
            url_host("https://shop.example.com:8443/cart?x=1").as_deref(),
            Some("shop.example.com")
        );
        assert_eq!(
            url_host("http://user@127.0.0.1:8000/").as_deref(),
            Some("127.0.0.1")
        );
        assert_eq!(url_host("http://[::1]:8000/").as_deref(), Some("::1"));
        assert_eq!(url_host("not a url"), None);
    }

    #[test]
    fn appends_to_any_query_before_the_fragment() {
        assert_eq!(
            append_query("https://m.example/cb", "code=c"),
            "https://m.example/cb?code=c"
        );
        assert_eq!(
            append_query("https://m.example/cb?x=1", "code=c"),
            "https://m.example/cb?x=1&code=c"
        );
        assert_eq!(
            append_query("https://m.example/cb?", "code=c"),
            "https://m.example/cb?code=c"
        );
        assert_eq!(
            append_query("https://m.example/cb#top", "code=c"),
            "https://m.example/cb?code=c#top"
        );
    }

    #[test]
    fn encodes_state() {
        assert_eq!(percent_encode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
        assert_eq!(percent_encode("Ab-1_.~"), "Ab-1_.~");
    }
}
