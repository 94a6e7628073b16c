//! The built page, served beside `/api` on one origin, as a storefront
//! would deploy it, under a strict Content-Security-Policy.

use std::path::Path;

use axum::http::{header, HeaderValue};
use base64::Engine;
use sha2::{Digest, Sha256};
use tower::Layer;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

/// `dir` as a service (unknown paths get `index.html`), every answer with a
/// CSP that allows only this origin, the wasm, and the page's own inline
/// loader scripts by hash.
pub fn service(dir: &Path) -> std::io::Result<axum::routing::MethodRouter> {
    let index = dir.join("index.html");
    let html = std::fs::read_to_string(&index)?;
    let policy = content_security_policy(&html);
    let value = HeaderValue::from_str(&policy).map_err(std::io::Error::other)?;
    let files = ServeDir::new(dir).fallback(ServeFile::new(index));
    let files =
        SetResponseHeaderLayer::overriding(header::CONTENT_SECURITY_POLICY, value).layer(files);
    Ok(axum::routing::get_service(files))
}

/// The policy for a page: `'self'` everywhere, no inline styles, scripts
/// only from this origin plus the page's inline scripts by SHA-256.
pub fn content_security_policy(html: &str) -> String {
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
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' {}; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
        hashes.join(" ")
    )
}

/// The bodies of `<script>` elements with no `src`.
fn inline_scripts(html: &str) -> impl Iterator<Item = &str> {
    html.split("<script").skip(1).filter_map(|rest| {
        let (attributes, after) = rest.split_once('>')?;
        let (body, _) = after.split_once("</script>")?;
        (!attributes.contains("src=")).then_some(body)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_scripts_are_allowed_by_hash_and_nothing_else_inline() {
        let html = r#"<script type=module>import init from '/a.js';</script><script src="/b.js"></script>"#;
        let policy = content_security_policy(html);
        let digest = Sha256::digest(b"import init from '/a.js';");
        let expected = base64::engine::general_purpose::STANDARD.encode(digest);
        assert!(policy.contains(&format!("'sha256-{expected}'")), "{policy}");
        assert_eq!(policy.matches("'sha256-").count(), 1);
        assert!(policy.contains("style-src 'self';"));
        assert!(!policy.contains("unsafe-inline"));
    }
}
