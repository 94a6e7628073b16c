//! The built page, served beside `/api` on one origin, as a storefront
//! would deploy it: under a strict Content-Security-Policy, precompressed
//! (`.br`, `.gz` siblings when present), and cached for a year when the
//! name carries a content hash.

use std::path::Path;

use axum::body::Body;
use axum::http::{header, HeaderValue, Request};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use sha2::{Digest, Sha256};
use tower::Layer;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

/// `dir` as a service (unknown paths get `index.html`), every answer with a
/// CSP that allows only this origin, the wasm, the page's own inline
/// loader scripts by hash, and forms sent only here and to `form_targets`
/// (the providers' gateways that take a POST form).
pub fn service(dir: &Path, form_targets: &[String]) -> std::io::Result<axum::Router> {
    let index = dir.join("index.html");
    let html = std::fs::read_to_string(&index)?;
    let policy = content_security_policy(&html, form_targets);
    let value = HeaderValue::from_str(&policy).map_err(std::io::Error::other)?;
    let files = ServeDir::new(dir)
        .precompressed_br()
        .precompressed_gzip()
        .fallback(
            ServeFile::new(index)
                .precompressed_br()
                .precompressed_gzip(),
        );
    let files =
        SetResponseHeaderLayer::overriding(header::CONTENT_SECURITY_POLICY, value).layer(files);
    Ok(axum::Router::new()
        .fallback_service(files)
        .layer(axum::middleware::from_fn(cache_control)))
}

/// Hashed names never change content: a year, immutable. Anything else
/// (the page itself, stable names) is checked with the server each time.
async fn cache_control(request: Request<Body>, next: Next) -> Response {
    let hashed = is_hashed(request.uri().path());
    let mut response = next.run(request).await;
    let policy = if hashed && response.status().is_success() {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // The origin, not the path, goes with a shopper leaving for a provider's
    // page: WeChat Pay's H5 checks it against the merchant's domain.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    response
}

/// True when a file name carries a content hash of 16 or more hex digits,
/// as trunk's `payment-selector-<hash>_bg.wasm` and the package's
/// `payment-selector.<hash>.js` do.
pub fn is_hashed(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.split(['-', '_', '.'])
        .any(|part| part.len() >= 16 && part.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The policy for a page: `'self'` everywhere, no inline styles but the
/// checkout's first screen's (by SHA-256), scripts
/// only from this origin plus the page's inline scripts by SHA-256, forms
/// only to this origin and `form_targets` (`form-action` does not fall
/// back to `default-src`: without it a form could go anywhere).
pub fn content_security_policy(html: &str, form_targets: &[String]) -> String {
    let hashes: Vec<String> = inline_scripts(html)
        .map(|script| {
            let digest = Sha256::digest(script.as_bytes());
            format!(
                "'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(digest)
            )
        })
        .collect();
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' {}; style-src 'self' {}; \
         img-src 'self' data:; connect-src 'self'; form-action 'self' {}; object-src 'none'; \
         base-uri 'none'; frame-ancestors 'none'",
        hashes.join(" "),
        first_screen_styles(),
        form_targets.join(" ")
    )
}

/// The `style-src` source that allows the checkout's first screen's inline
/// styles (`payment_selector::first_screen::inline_styles`) and nothing else
/// inline.
pub fn first_screen_styles() -> String {
    let styles = payment_selector::first_screen::inline_styles();
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(styles.as_bytes()))
    )
}

/// The bodies of `<script>` elements with no `src` that run (not JSON data
/// blocks, which need no hash).
fn inline_scripts(html: &str) -> impl Iterator<Item = &str> {
    html.split("<script").skip(1).filter_map(|rest| {
        let (attributes, after) = rest.split_once('>')?;
        let (body, _) = after.split_once("</script>")?;
        let data = attributes.contains("application/json");
        (!attributes.contains("src=") && !data).then_some(body)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_scripts_are_allowed_by_hash_and_nothing_else_inline() {
        let html = r#"<script type=module>import init from '/a.js';</script><script src="/b.js"></script>"#;
        let policy = content_security_policy(html, &["https://gateway.95516.com".into()]);
        let digest = Sha256::digest(b"import init from '/a.js';");
        let expected = base64::engine::general_purpose::STANDARD.encode(digest);
        assert!(policy.contains(&format!("'sha256-{expected}'")), "{policy}");
        assert_eq!(policy.matches("'sha256-").count(), 2);
        assert!(policy.contains(&format!("style-src 'self' {};", first_screen_styles())));
        assert!(!policy.contains("unsafe-inline"));
        assert!(policy.contains("form-action 'self' https://gateway.95516.com;"));
    }

    #[test]
    fn only_content_hashed_names_are_immutable() {
        assert!(is_hashed("/payment-selector-5d1c0f9a8b7e6d4c_bg.wasm"));
        assert!(is_hashed("/pkg/payment-selector.5d1c0f9a8b7e6d4c.js"));
        assert!(!is_hashed("/payment-selector.js"));
        assert!(!is_hashed("/index.html"));
        assert!(!is_hashed("/"));
        assert!(!is_hashed("/favicon-12ab.svg"));
    }
}
