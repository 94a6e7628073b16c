//! For the operator, beside `/api`: liveness (`/healthz`: the process
//! answers), readiness (`/readyz`: the database answers and its schema is
//! this build's) and the metrics (`/metrics`, Prometheus' text format).
//! Keep them off the public internet: the metrics say how much the shop
//! sells.

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::AppState;

/// The operator's endpoints.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route(
            "/healthz",
            get(|| async { plain(StatusCode::OK, "ok\n".into()) }),
        )
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
        .with_state(state)
}

async fn ready(State(state): State<AppState>) -> Response {
    match state.inner.store.ready().await {
        Ok(()) => plain(StatusCode::OK, "ready\n".into()),
        Err(why) => {
            tracing::warn!("not ready: {why}");
            plain(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("not ready: {why}\n"),
            )
        }
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    match state
        .inner
        .metrics
        .render(&state.inner.store, state.now())
        .await
    {
        Ok(text) => {
            let mut response = plain(StatusCode::OK, text);
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            );
            response
        }
        Err(why) => {
            tracing::error!("metrics: {why}");
            plain(StatusCode::SERVICE_UNAVAILABLE, format!("metrics: {why}\n"))
        }
    }
}

fn plain(status: StatusCode, text: String) -> Response {
    let mut response = (status, text).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
