//! The HTTP endpoints under `/api`, one module per resource.

mod intents;
mod notify;
mod sandbox;
mod sessions;

use axum::routing::{get, post};
use axum::Router;

use crate::error::ApiError;
use crate::AppState;

/// Every endpoint of the contract, the notification receivers and, on a
/// sandbox server, the sandbox.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/checkout-sessions", post(sessions::create))
        .route("/checkout-sessions/{id}", get(sessions::read))
        .route("/checkout-sessions/{id}/intents", post(intents::create))
        .route("/intents/{id}", get(intents::read))
        .route("/intents/{id}/cancel", post(intents::cancel))
        .route(
            crate::providers::WECHAT_NOTIFY_PATH,
            post(notify::wechat_pay),
        )
        .route("/dev/demo-session", post(sandbox::demo_session))
        .route("/sandbox/wechat-pay/scan", post(sandbox::wechat_scan))
        .fallback(|| async { ApiError::not_found("endpoint") })
        .with_state(state)
}
