//! What every request carries, whatever it asks: an id (the caller's
//! `x-request-id` when it sends a sane one, a new one otherwise) answered
//! back and named in every log line written while it runs, and its route,
//! status and latency counted in the metrics.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

use crate::AppState;

/// The header that names a request, both ways.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The longest request id taken from a caller.
const MAX_ID_CHARS: usize = 64;

/// The middleware: id, span, metrics.
pub async fn observe(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .filter(|id| sane(id))
        .map(str::to_owned)
        .unwrap_or_else(|| crate::auth::random_id("req"));
    // The template, not the path: ids in paths would make a series each.
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("other", |path| path.as_str())
        .to_owned();
    let method = request.method().clone();
    let span = tracing::info_span!("request", id = %id, method = %method, route = %route);
    let started = Instant::now();
    let mut response = next.run(request).instrument(span.clone()).await;
    let took = started.elapsed();
    let status = response.status().as_u16();
    state
        .inner
        .metrics
        .request(&route, method.as_str(), status, took);
    span.in_scope(|| tracing::debug!(status, ms = took.as_millis() as u64, "answered"));
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    response
}

/// An id worth keeping: short, and only characters that cannot forge a log
/// line or a header.
fn sane(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_CHARS
        && id
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b':'))
}

#[cfg(test)]
mod tests {
    use super::sane;

    #[test]
    fn only_short_plain_ids_are_taken_from_callers() {
        assert!(sane("4bf92f3577b34da6a3ce929d0e0e4736"));
        assert!(sane("req_1:retry.2"));
        assert!(!sane(""));
        assert!(!sane("a\nforged log line"));
        assert!(!sane(&"x".repeat(65)));
    }
}
