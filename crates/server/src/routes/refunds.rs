//! Refunds, for the merchant (secret key): asked for idempotently, read
//! one at a time or by intent.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use contract::{CreateRefund, Refund, RefundList};

use super::idempotency_key;
use super::sessions::merchant;
use crate::error::ApiError;
use crate::payments::{self, NewRefund};
use crate::store::IntentRow;
use crate::views;
use crate::AppState;

/// `POST /intents/{id}/refunds` with the merchant's secret key and an
/// `Idempotency-Key`; the body ([`CreateRefund`]) may be left out for a
/// refund of everything that is left.
pub async fn create(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Refund>), ApiError> {
    let merchant = merchant(&state, &headers)?;
    let key = idempotency_key(&headers, true)?
        .ok_or_else(|| ApiError::internal("a required key went missing"))?;
    let request: CreateRefund = if body.iter().all(u8::is_ascii_whitespace) {
        CreateRefund::default()
    } else {
        serde_json::from_slice(&body).map_err(|error| ApiError::invalid(error.to_string()))?
    };
    let intent = merchant_intent(&state, &merchant.id, &id).await?;
    let new = NewRefund { key, request };
    let (status, refund) = payments::create_refund(&state, merchant, &intent, new).await?;
    Ok((status, Json(views::refund(&refund)?)))
}

/// `GET /intents/{id}/refunds`, with the merchant's secret key.
pub async fn of_intent(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<RefundList>, ApiError> {
    let merchant = merchant(&state, &headers)?;
    let intent = merchant_intent(&state, &merchant.id, &id).await?;
    let rows = state.inner.store.refunds_of(&intent.id).await?;
    let data = rows.iter().map(views::refund).collect::<Result<_, _>>()?;
    Ok(Json(RefundList { data }))
}

/// `GET /refunds/{id}`, with the merchant's secret key.
pub async fn read(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Refund>, ApiError> {
    let merchant = merchant(&state, &headers)?;
    let refund = state
        .inner
        .store
        .merchant_refund(&merchant.id, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("refund"))?;
    Ok(Json(views::refund(&refund)?))
}

async fn merchant_intent(
    state: &AppState,
    merchant_id: &str,
    id: &str,
) -> Result<IntentRow, ApiError> {
    state
        .inner
        .store
        .merchant_intent(merchant_id, id)
        .await?
        .ok_or_else(|| ApiError::not_found("intent"))
}
