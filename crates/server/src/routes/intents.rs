//! Payment intents: one attempt to pay a session with one method, created
//! idempotently, read while the browser waits, canceled when abandoned.

use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use contract::{
    Availability, CreateIntent, ErrorCode, IntentStatus, Money, NextAction, PaymentIntent,
    IDEMPOTENCY_KEY_HEADER,
};
use sha2::{Digest, Sha256};

use super::sessions::{amount, authorize};
use crate::eligibility::methods_for;
use crate::error::{ApiError, JsonBody};
use crate::providers::{Closed, ProviderOrder};
use crate::store::{from_text, to_text, IntentRow, OPEN};
use crate::AppState;

/// How long a replayed request waits for the first one to finish.
const REPLAY_WAIT: Duration = Duration::from_secs(10);

/// An intent still without a hand-off this long after its creation was
/// abandoned by its request (provider calls time out well before this).
const ABANDONED_AFTER_SECONDS: i64 = 60;

/// WeChat Pay (like the others) needs an order to stay payable for at
/// least a minute.
const MIN_PAYABLE_SECONDS: i64 = 60;

/// `POST /checkout-sessions/{id}/intents`, with the client secret and an
/// `Idempotency-Key`.
pub async fn create(
    State(state): State<AppState>,
    Path(session_id): Path<String>,
    headers: HeaderMap,
    JsonBody(request): JsonBody<CreateIntent>,
) -> Result<(StatusCode, Json<PaymentIntent>), ApiError> {
    let session = authorize(&state, &headers, &session_id).await?;
    let key = idempotency_key(&headers)?;
    let fingerprint = fingerprint(&request);
    let store = &state.inner.store;
    if let Some(existing) = store.intent_by_key(&session.id, key).await? {
        return replay(&state, existing, &fingerprint).await;
    }

    let now = crate::now();
    if session.completed_at.is_some() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            ErrorCode::SessionCompleted,
            "the session is already paid",
        ));
    }
    if now + MIN_PAYABLE_SECONDS > session.expires_at {
        return Err(ApiError::new(
            StatusCode::GONE,
            ErrorCode::SessionExpired,
            "the session has expired, or has less than a minute left",
        ));
    }
    let config = &state.inner.config;
    let merchant = config
        .merchant(&session.merchant_id)
        .ok_or_else(|| ApiError::internal("unknown merchant"))?;
    let amount = amount(&session)?;
    let providers = &state.inner.providers;
    let offered = methods_for(merchant, &amount, request.client, |kind, flow| {
        providers.implements(kind, flow)
    })
    .into_iter()
    .find(|method| method.kind == request.method);
    let method = match offered {
        Some(method) if method.availability == Availability::Available => method,
        Some(method) => {
            return Err(unavailable(format!(
                "{} is not available here: {:?}",
                request.method.as_str(),
                method.availability
            )))
        }
        None => {
            return Err(unavailable(format!(
                "the merchant does not take {}",
                request.method.as_str()
            )))
        }
    };
    let provider = providers
        .for_method(method.kind)
        .ok_or_else(|| unavailable("no provider".into()))?;

    let row = IntentRow {
        id: crate::auth::random_id("pi"),
        session_id: session.id.clone(),
        idempotency_key: key.to_owned(),
        request_fingerprint: fingerprint.clone(),
        method: to_text(&method.kind),
        flow: to_text(&method.flow),
        amount_value: amount.value,
        currency: amount.currency.code().to_owned(),
        status: to_text(&IntentStatus::RequiresAction),
        expires_at: (now + config.intent_ttl_seconds).min(session.expires_at),
        next_action: None,
        created_at: now,
        updated_at: now,
    };
    if !store.insert_intent_if_new(&row).await? {
        // A concurrent request with the same key got there first.
        let existing = store
            .intent_by_key(&session.id, key)
            .await?
            .ok_or_else(|| ApiError::internal("lost intent"))?;
        return replay(&state, existing, &fingerprint).await;
    }

    let order = ProviderOrder {
        out_trade_no: row.id.clone(),
        amount,
        description: format!("{} {}", merchant.display_name, session.reference),
        time_expire: row.expires_at,
        flow: method.flow,
        return_url: with_query(&session.return_url, "payment_intent", &row.id),
    };
    match provider.create(&order).await {
        Ok(action) => {
            let action = serde_json::to_string(&action).map_err(ApiError::internal)?;
            store
                .set_next_action(&row.id, &action, crate::now())
                .await?;
        }
        Err(error) => {
            tracing::warn!("{} refused {}: {error}", provider.name(), row.id);
            store
                .transition(
                    &row.id,
                    &[IntentStatus::RequiresAction],
                    IntentStatus::Failed,
                    crate::now(),
                )
                .await?;
            return Err(ApiError::new(
                StatusCode::BAD_GATEWAY,
                ErrorCode::ProviderError,
                error.to_string(),
            ));
        }
    }
    let created = store
        .intent(&row.id)
        .await?
        .ok_or_else(|| ApiError::internal("lost intent"))?;
    Ok((StatusCode::CREATED, Json(view(&created)?)))
}

/// `GET /intents/{id}`, with the client secret of its session.
pub async fn read(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<PaymentIntent>, ApiError> {
    let intent = owned_intent(&state, &headers, &id).await?;
    let intent = expire_if_due(&state, intent).await?;
    Ok(Json(view(&intent)?))
}

/// `POST /intents/{id}/cancel`, with the client secret of its session.
pub async fn cancel(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<PaymentIntent>, ApiError> {
    let intent = expire_if_due(&state, owned_intent(&state, &headers, &id).await?).await?;
    let status: IntentStatus = from_text(&intent.status)?;
    match status {
        IntentStatus::Canceled => return Ok(Json(view(&intent)?)),
        IntentStatus::RequiresAction | IntentStatus::Processing => {}
        _ => return Err(not_cancelable(format!("the intent is {}", intent.status))),
    }
    if close_as(&state, &intent, IntentStatus::Canceled).await? == Closed::AlreadyPaid {
        return Err(not_cancelable("the shopper has already paid".into()));
    }
    Ok(Json(view(&reload(&state, &id).await?)?))
}

async fn owned_intent(
    state: &AppState,
    headers: &HeaderMap,
    id: &str,
) -> Result<IntentRow, ApiError> {
    let intent = reload(state, id).await?;
    authorize(state, headers, &intent.session_id).await?;
    Ok(intent)
}

/// Marks an open intent expired once its time is up, closing the order.
async fn expire_if_due(state: &AppState, intent: IntentRow) -> Result<IntentRow, ApiError> {
    let status: IntentStatus = from_text(&intent.status)?;
    if status.is_final() || crate::now() < intent.expires_at {
        return Ok(intent);
    }
    close_as(state, &intent, IntentStatus::Expired).await?;
    reload(state, &intent.id).await
}

/// Closes an open intent's order and, unless the shopper paid it first,
/// gives the intent its final status `to`.
async fn close_as(
    state: &AppState,
    intent: &IntentRow,
    to: IntentStatus,
) -> Result<Closed, ApiError> {
    let closed = close_with_provider(state, intent).await?;
    if closed == Closed::Closed {
        state
            .inner
            .store
            .transition(&intent.id, &OPEN, to, crate::now())
            .await?;
    }
    Ok(closed)
}

/// The intent as stored now.
async fn reload(state: &AppState, id: &str) -> Result<IntentRow, ApiError> {
    state
        .inner
        .store
        .intent(id)
        .await?
        .ok_or_else(|| ApiError::not_found("intent"))
}

async fn close_with_provider(state: &AppState, intent: &IntentRow) -> Result<Closed, ApiError> {
    let method = from_text(&intent.method)?;
    let Some(provider) = state.inner.providers.for_method(method) else {
        return Ok(Closed::Closed);
    };
    match provider.close(&intent.id).await {
        Ok(closed) => Ok(closed),
        // The provider never got the order (its creation failed).
        Err(crate::providers::ProviderError::UnknownOrder) => Ok(Closed::Closed),
        Err(error) => Err(ApiError::new(
            StatusCode::BAD_GATEWAY,
            ErrorCode::ProviderError,
            error.to_string(),
        )),
    }
}

/// Answers a repeated request: the same intent if the body is the same,
/// waiting for the first request's provider call to finish.
async fn replay(
    state: &AppState,
    mut existing: IntentRow,
    fingerprint: &str,
) -> Result<(StatusCode, Json<PaymentIntent>), ApiError> {
    if existing.request_fingerprint != fingerprint {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            ErrorCode::IdempotencyKeyReused,
            "this Idempotency-Key was already used with a different request",
        ));
    }
    let started = tokio::time::Instant::now();
    while awaits_hand_off(&existing) && !abandoned(&existing) && started.elapsed() < REPLAY_WAIT {
        tokio::time::sleep(Duration::from_millis(25)).await;
        existing = reload(state, &existing.id).await?;
    }
    if awaits_hand_off(&existing) {
        if !abandoned(&existing) {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                ErrorCode::IdempotencyKeyInUse,
                "the first request with this Idempotency-Key is still being carried out",
            ));
        }
        existing = fail_abandoned(state, existing).await?;
    }
    Ok((StatusCode::OK, Json(view(&existing)?)))
}

/// True while an intent has been created but its provider call has not
/// finished: it has no hand-off yet.
fn awaits_hand_off(intent: &IntentRow) -> bool {
    intent.next_action.is_none() && intent.status == to_text(&IntentStatus::RequiresAction)
}

/// True if the request that created this intent has not touched it for
/// longer than any provider call takes.
fn abandoned(intent: &IntentRow) -> bool {
    crate::now() - intent.updated_at >= ABANDONED_AFTER_SECONDS
}

/// Fails an intent whose creating request died before the provider
/// answered (a crash or a restart). Its hand-off never reached a shopper,
/// so nobody can have paid it; its order, if the provider made one, is
/// closed.
async fn fail_abandoned(state: &AppState, intent: IntentRow) -> Result<IntentRow, ApiError> {
    tracing::warn!(
        "{} was abandoned before its hand-off: failing it",
        intent.id
    );
    close_as(state, &intent, IntentStatus::Failed).await?;
    reload(state, &intent.id).await
}

/// Closes every other open intent of a paid session with its provider, so
/// that no second code can take the shopper's money again.
pub async fn close_others(state: &AppState, paid: &IntentRow) -> Result<(), ApiError> {
    for other in state.inner.store.open_intents(&paid.session_id).await? {
        if other.id == paid.id {
            continue;
        }
        if close_as(state, &other, IntentStatus::Canceled).await? == Closed::AlreadyPaid {
            tracing::error!(
                "session {} was paid by both {} and {}: refund one",
                paid.session_id,
                paid.id,
                other.id
            );
        }
    }
    Ok(())
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

/// The request's identity for idempotency: its canonical JSON, hashed.
fn fingerprint(request: &CreateIntent) -> String {
    let canonical = serde_json::to_string(request).unwrap_or_default();
    crate::auth::hex(&Sha256::digest(canonical.as_bytes()))
}

/// `url` with one more query parameter (`value` is URL-safe: an id).
fn with_query(url: &str, name: &str, value: &str) -> String {
    let (base, fragment) = match url.split_once('#') {
        Some((base, fragment)) => (base, format!("#{fragment}")),
        None => (url, String::new()),
    };
    let separator = if base.contains('?') { '&' } else { '?' };
    format!("{base}{separator}{name}={value}{fragment}")
}

fn unavailable(message: String) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::MethodUnavailable,
        message,
    )
}

fn not_cancelable(message: String) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        ErrorCode::IntentNotCancelable,
        message,
    )
}

/// The intent as the browser sees it; the hand-off only while it is due.
pub fn view(row: &IntentRow) -> Result<PaymentIntent, ApiError> {
    let status: IntentStatus = from_text(&row.status)?;
    let next_action = match (&row.next_action, status) {
        (Some(json), IntentStatus::RequiresAction) => {
            Some(serde_json::from_str::<NextAction>(json).map_err(ApiError::internal)?)
        }
        _ => None,
    };
    Ok(PaymentIntent {
        id: row.id.clone(),
        session_id: row.session_id.clone(),
        method: from_text(&row.method)?,
        amount: Money::new(
            row.amount_value,
            row.currency.parse().map_err(ApiError::internal)?,
        ),
        status,
        expires_at: row.expires_at,
        next_action,
    })
}

#[cfg(test)]
mod tests {
    use super::with_query;

    #[test]
    fn the_intent_id_joins_the_return_url_s_own_query() {
        assert_eq!(
            with_query("https://shop.example/done", "payment_intent", "pi_1"),
            "https://shop.example/done?payment_intent=pi_1"
        );
        assert_eq!(
            with_query(
                "https://shop.example/done?order=7#top",
                "payment_intent",
                "pi_1"
            ),
            "https://shop.example/done?order=7&payment_intent=pi_1#top"
        );
    }
}
