//! The HTTP endpoints under `/api`, one module per resource, and what every
//! answer carries: a contract error body for any failure (a timeout
//! included), `nosniff`, no referrer, no caching (answers carry client
//! secrets and payment states), bodies no larger than the contract needs.

mod events;
mod first_screen;
mod intents;
mod notify;
mod oauth;
mod operations;
mod pay;
mod refunds;
mod returns;
mod sandbox;
mod sessions;

pub use operations::router as operations;
pub use pay::router as pay;

use std::time::Duration;

use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::http::HeaderMap;
use axum::http::{header, HeaderValue, Request, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use contract::{ErrorCode, IDEMPOTENCY_KEY_HEADER};

use crate::error::ApiError;
use crate::AppState;

/// The largest request body: sessions and intents are a few hundred bytes,
/// providers' notifications a few kilobytes.
const MAX_BODY: usize = 64 * 1024;

/// A request that takes longer than this is answered 503 (provider calls
/// time out at 10 s, so a create that calls two stays well within).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Every endpoint of the contract, the providers' notification and
/// authorisation endpoints and, on a sandbox server, the demo endpoints.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/checkout-sessions", post(sessions::create))
        .route("/checkout-sessions/{id}", get(sessions::read))
        .route(
            "/checkout-sessions/{id}/first-screen",
            get(first_screen::first_screen),
        )
        .route("/checkout-sessions/{id}/intents", post(intents::create))
        .route("/intents", get(intents::list))
        .route("/intents/{id}", get(intents::read))
        .route("/intents/{id}/cancel", post(intents::cancel))
        .route(
            "/intents/{id}/refunds",
            post(refunds::create).get(refunds::of_intent),
        )
        .route("/refunds/{id}", get(refunds::read))
        .route("/events", get(events::list))
        .route("/notify/{provider}/{merchant}", post(notify::receive))
        .route("/oauth/{provider}/{merchant}", get(oauth::callback))
        .route(
            "/return/{provider}/{merchant}/{intent}",
            get(returns::back).post(returns::back),
        )
        .route("/dev/demo-session", post(sandbox::demo_session))
        .route("/sandbox/scan", post(sandbox::scan))
        .fallback(|| async { ApiError::not_found("endpoint") })
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::from_fn(guard))
        .with_state(state)
}

/// Answers a request that runs too long, and sets the headers every
/// answer carries.
async fn guard(request: Request<Body>, next: Next) -> Response {
    let mut response = match tokio::time::timeout(REQUEST_TIMEOUT, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Internal,
            "the request took too long",
        )
        .retry_after(crate::error::UNAVAILABLE_RETRY_SECONDS)
        .into_response(),
    };
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The `Idempotency-Key` header: required (400 `idempotency_key_missing`
/// without it) or optional, at most 255 characters.
fn idempotency_key(headers: &HeaderMap, required: bool) -> Result<Option<&str>, ApiError> {
    let key = headers
        .get(IDEMPOTENCY_KEY_HEADER)
        .map(|value| value.to_str().map(str::trim));
    match key {
        Some(Err(_)) => Err(ApiError::invalid(
            "Idempotency-Key must be visible ASCII characters",
        )),
        None | Some(Ok("")) if required => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::IdempotencyKeyMissing,
            "this request needs an Idempotency-Key header",
        )),
        None | Some(Ok("")) => Ok(None),
        Some(Ok(key)) if key.len() > 255 => Err(ApiError::invalid(
            "Idempotency-Key is longer than 255 characters",
        )),
        Some(Ok(key)) => Ok(Some(key)),
    }
}

/// How many rows a page holds: `limit` when given (1 to 100), else 10.
fn page_size(limit: Option<i64>) -> Result<i64, ApiError> {
    match limit {
        None => Ok(10),
        Some(limit @ 1..=100) => Ok(limit),
        Some(_) => Err(ApiError::invalid("limit must be 1 to 100")),
    }
}
