//! Payment intents: one attempt to pay a session with one method, created
//! idempotently, read while the browser waits (or by the merchant), and
//! canceled when the shopper walks away.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use contract::{CreateIntent, ErrorCode, IntentStatus, PaymentIntent, IDEMPOTENCY_KEY_HEADER};
use serde::Deserialize;

use super::sessions::{authorize, merchant};
use crate::error::{ApiError, JsonBody};
use crate::payments::{self, Ended, NewIntent};
use crate::store::IntentRow;
use crate::views::{self, Reader};
use crate::AppState;

/// `POST /checkout-sessions/{id}/intents`, with the client secret and an
/// `Idempotency-Key`.
pub async fn create(
    State(state): State<AppState>,
    Path(session_id): Path<String>,
    PayerIp(payer_ip): PayerIp,
    headers: HeaderMap,
    JsonBody(request): JsonBody<CreateIntent>,
) -> Result<(StatusCode, Json<PaymentIntent>), ApiError> {
    let session = authorize(&state, &headers, &session_id).await?;
    let key = idempotency_key(&headers)?;
    let new = NewIntent {
        key,
        request,
        payer_ip,
    };
    let (status, intent) = payments::create_intent(&state, &session, new).await?;
    Ok((status, Json(views::intent(&intent, Reader::Browser)?)))
}

/// What a read may ask for.
#[derive(Debug, Default, Deserialize)]
pub struct ReadOptions {
    /// "Check again": ask the provider now.
    #[serde(default)]
    refresh: bool,
}

/// `GET /intents/{id}[?refresh=true]`, with the client secret of its
/// session, or the merchant's secret key.
pub async fn read(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    options: Result<Query<ReadOptions>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<PaymentIntent>, ApiError> {
    let Query(options) = options.map_err(|rejection| ApiError::invalid(rejection.body_text()))?;
    let (intent, reader) = owned_intent(&state, &headers, &id).await?;
    let intent = payments::refresh(&state, intent, options.refresh).await?;
    Ok(Json(views::intent(&intent, reader)?))
}

/// `POST /intents/{id}/cancel`, with the client secret of its session.
pub async fn cancel(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<PaymentIntent>, ApiError> {
    let (intent, _) = owned_intent(&state, &headers, &id).await?;
    let intent = payments::refresh(&state, intent, false).await?;
    match intent.status() {
        IntentStatus::Canceled => {}
        IntentStatus::RequiresAction | IntentStatus::Processing => {
            if payments::close(&state, &intent, IntentStatus::Canceled).await? == Ended::Paid {
                return Err(paid());
            }
        }
        IntentStatus::Succeeded | IntentStatus::RequiresRefund => return Err(paid()),
        IntentStatus::Failed | IntentStatus::Expired | IntentStatus::Unknown => {
            return Err(ApiError::conflict(
                ErrorCode::IntentFinished,
                format!("the intent has already ended ({})", intent.status),
            ))
        }
    }
    let intent = payments::reload(&state, &id).await?;
    Ok(Json(views::intent(&intent, Reader::Browser)?))
}

fn paid() -> ApiError {
    ApiError::conflict(ErrorCode::IntentPaid, "the shopper has already paid")
}

/// The intent, if the request's credentials reach it: its session's client
/// secret, or its merchant's secret key.
async fn owned_intent(
    state: &AppState,
    headers: &HeaderMap,
    id: &str,
) -> Result<(IntentRow, Reader), ApiError> {
    let intent = state
        .inner
        .store
        .intent(id)
        .await?
        .ok_or_else(|| ApiError::not_found("intent"))?;
    if crate::auth::has_secret_key(headers) {
        let merchant = merchant(state, headers)?;
        let session = state.inner.store.session(&intent.session_id).await?;
        if session.is_none_or(|session| session.merchant_id != merchant.id) {
            return Err(ApiError::not_found("intent"));
        }
        return Ok((intent, Reader::Merchant));
    }
    authorize(state, headers, &intent.session_id).await?;
    Ok((intent, Reader::Browser))
}

fn idempotency_key(headers: &HeaderMap) -> Result<&str, ApiError> {
    let key = headers
        .get(IDEMPOTENCY_KEY_HEADER)
        .and_then(|value| value.to_str().ok())
        .map(str::trim);
    match key {
        None | Some("") => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::IdempotencyKeyMissing,
            "creating an intent needs an Idempotency-Key header",
        )),
        Some(key) if key.len() > 255 => Err(ApiError::invalid(
            "Idempotency-Key is longer than 255 characters",
        )),
        Some(key) => Ok(key),
    }
}

/// The shopper's IP address: the connection's peer (a server behind a
/// proxy would read the proxy's `X-Forwarded-For`, which only the operator
/// knows to trust).
pub struct PayerIp(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for PayerIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(PayerIp(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(peer)| peer.ip().to_string()),
        ))
    }
}
