//! Payment intents: one attempt to pay a session with one method, created
//! idempotently, read while the browser waits (or by the merchant), and
//! canceled when the shopper walks away; listed for the merchant.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use contract::{CreateIntent, ErrorCode, IntentList, IntentStatus, PaymentIntent, UnixSeconds};
use serde::Deserialize;

use super::sessions::{authorize, merchant};
use super::{idempotency_key, page_size};
use crate::auth::{bearer, has_secret_key, session_of_secret};
use crate::client_ip::ClientIp;
use crate::error::{ApiError, JsonBody};
use crate::payments::{self, Ended, NewIntent};
use crate::store::{IntentFilter, IntentRow};
use crate::views::{self, Reader};
use crate::AppState;

/// `POST /checkout-sessions/{id}/intents`, with the client secret and an
/// `Idempotency-Key`.
pub async fn create(
    State(state): State<AppState>,
    Path(session_id): Path<String>,
    ClientIp(payer_ip): ClientIp,
    headers: HeaderMap,
    JsonBody(request): JsonBody<CreateIntent>,
) -> Result<(StatusCode, Json<PaymentIntent>), ApiError> {
    let session = authorize(&state, &headers, &session_id).await?;
    let key = idempotency_key(&headers, true)?
        .ok_or_else(|| ApiError::internal("a required key went missing"))?;
    let new = NewIntent {
        key,
        request,
        payer_ip: payer_ip.map(|ip| ip.to_string()),
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

/// `POST /intents/{id}/cancel`, with the client secret of its session (or
/// the merchant's secret key).
pub async fn cancel(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<PaymentIntent>, ApiError> {
    let (intent, reader) = owned_intent(&state, &headers, &id).await?;
    let intent = payments::refresh(&state, intent, false).await?;
    match intent.status() {
        IntentStatus::Canceled => {}
        IntentStatus::RequiresAction | IntentStatus::Processing => {
            if payments::close(&state, &intent, IntentStatus::Canceled).await? == Ended::Paid {
                return Err(paid());
            }
        }
        IntentStatus::Succeeded | IntentStatus::RequiresRefund | IntentStatus::Refunded => {
            return Err(paid())
        }
        IntentStatus::Failed
        | IntentStatus::Expired
        | IntentStatus::RequiresReview
        | IntentStatus::Unknown => {
            return Err(ApiError::conflict(
                ErrorCode::IntentFinished,
                format!("the intent has already ended ({})", intent.status),
            ))
        }
    }
    let intent = payments::reload(&state, &id).await?;
    Ok(Json(views::intent(&intent, reader)?))
}

fn paid() -> ApiError {
    ApiError::conflict(ErrorCode::IntentPaid, "the shopper has already paid")
}

/// What a merchant's list of intents may be narrowed to.
#[derive(Debug, Default, Deserialize)]
pub struct ListOptions {
    /// One session's intents.
    session: Option<String>,
    /// In this status.
    status: Option<IntentStatus>,
    /// Created at or after this time.
    created_gte: Option<UnixSeconds>,
    /// How many (1 to 100; 10 by default).
    limit: Option<i64>,
    /// The page after this intent.
    starting_after: Option<String>,
}

/// `GET /intents?session=&status=&created_gte=&limit=&starting_after=`,
/// with the merchant's secret key: its intents, newest first.
pub async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    options: Result<Query<ListOptions>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<IntentList>, ApiError> {
    let merchant = merchant(&state, &headers)?;
    let Query(options) = options.map_err(|rejection| ApiError::invalid(rejection.body_text()))?;
    let limit = page_size(options.limit)?;
    if options.status == Some(IntentStatus::Unknown) {
        return Err(ApiError::invalid("status: not a status of the contract"));
    }
    let store = &state.inner.store;
    let starting_after = match &options.starting_after {
        Some(id) => {
            let after = store
                .merchant_intent(&merchant.id, id)
                .await?
                .ok_or_else(|| {
                    ApiError::invalid(format!("starting_after: no intent {id} of yours"))
                })?;
            Some((after.created_at, after.id))
        }
        None => None,
    };
    let filter = IntentFilter {
        session: options.session,
        status: options.status,
        created_gte: options.created_gte,
        starting_after,
    };
    let mut rows = store
        .merchant_intents(&merchant.id, &filter, limit + 1)
        .await?;
    let has_more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let data = rows
        .iter()
        .map(|row| {
            views::intent(
                &row.intent,
                Reader::Merchant {
                    refunded: row.refunded_value,
                },
            )
        })
        .collect::<Result<_, _>>()?;
    Ok(Json(IntentList { data, has_more }))
}

/// The intent, if the request's credentials reach it: its merchant's
/// secret key, or its session's client secret.
async fn owned_intent(
    state: &AppState,
    headers: &HeaderMap,
    id: &str,
) -> Result<(IntentRow, Reader), ApiError> {
    let store = &state.inner.store;
    if has_secret_key(headers) {
        let merchant = merchant(state, headers)?;
        let intent = store
            .merchant_intent(&merchant.id, id)
            .await?
            .ok_or_else(|| ApiError::not_found("intent"))?;
        let refunded = store.refunded(&intent.id).await?;
        return Ok((intent, Reader::Merchant { refunded }));
    }
    let session_id = bearer(headers)
        .and_then(session_of_secret)
        .ok_or_else(ApiError::unauthorized)?;
    let session = authorize(state, headers, session_id).await?;
    // Another session's intent is not this secret's to know of.
    let intent = store
        .session_intent(&session.id, id)
        .await?
        .ok_or_else(ApiError::unauthorized)?;
    Ok((intent, Reader::Browser))
}
