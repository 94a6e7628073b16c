//! What a payment does, whoever asks: create an intent (idempotently, one
//! payable intent per session), learn its outcome from a notification or a
//! query and record it once, close it with its provider, expire it, give
//! it back. The handlers, the sweeper and the tests all go through here.
//!
//! - [`create`]: a new intent and its hand-off;
//! - [`claim`]: one code for every wallet, taken by the phone that opened it;
//! - [`settle`]: what the provider says of an intent, recorded (a payment,
//!   a decline, a close, or something a person must look at);
//! - [`close`]: closing an intent's order so it can no longer be paid;
//! - [`refund`]: money given back through the provider that took it.

mod claim;
mod close;
mod create;
mod refund;
mod settle;

use std::sync::Arc;

use axum::http::StatusCode;
use contract::{ErrorCode, ReviewReason};

pub use claim::{can_be_taken, claim, offer, resume, Claimed, Offer, Phone};
pub use close::{close, close_order, expire, Ended};
pub use create::{create_intent, payer_authorized, with_query, NewIntent};
pub use refund::{advance_refund, create_refund, refund_notified, NewRefund};
pub use settle::{apply, query, refresh, review};

use crate::error::ApiError;
use crate::providers::Provider;
use crate::store::{from_text, IntentRow, SessionRow, Tx};
use crate::AppState;

/// Background work on one row (a provider call, a webhook) holds it this
/// long before another worker may take it over; provider calls time out
/// well before.
pub const LEASE_SECONDS: i64 = 60;

/// When to try again after `failures` failed tries: 5 s, 10 s, 20 s, …,
/// up to `cap`, each moved by up to a fifth either way so that rows that
/// failed together do not come back together.
pub fn backoff(now: contract::UnixSeconds, failures: i64, cap: i64) -> contract::UnixSeconds {
    use rand::Rng;
    let base = 5i64.saturating_mul(1 << failures.clamp(0, 20)).min(cap);
    let spread = base / 5;
    let jitter = if spread > 0 {
        rand::thread_rng().gen_range(-spread..=spread)
    } else {
        0
    };
    now + (base + jitter).max(1)
}

/// Writes a webhook event, in the transaction of the change it reports:
/// for delivery when the merchant has an endpoint, and for the merchant to
/// read (`GET /events`) in any case.
pub(crate) async fn queue(
    state: &AppState,
    tx: &mut Tx,
    merchant_id: &str,
    event: &contract::WebhookEvent,
) -> Result<(), ApiError> {
    let payload = serde_json::to_string(event).map_err(ApiError::internal)?;
    let deliver = state
        .inner
        .config
        .merchant(merchant_id)
        .is_some_and(|merchant| merchant.webhook.is_some());
    tx.queue_event(
        &event.id,
        merchant_id,
        event.kind,
        &payload,
        event.created,
        deliver,
    )
    .await?;
    Ok(())
}

/// The intent as stored now.
pub async fn reload(state: &AppState, id: &str) -> Result<IntentRow, ApiError> {
    state
        .inner
        .store
        .intent(id)
        .await?
        .ok_or_else(|| ApiError::not_found("intent"))
}

/// The provider account an intent was made with. When the merchant no
/// longer has it, nothing can be asked of the provider about the intent:
/// it goes to a person (`requires_review`), and the caller is told so.
pub async fn provider_of(
    state: &AppState,
    intent: &IntentRow,
) -> Result<Arc<dyn Provider>, ApiError> {
    Ok(session_and_provider(state, intent).await?.1)
}

/// The intent's session.
pub async fn session_of(state: &AppState, intent: &IntentRow) -> Result<SessionRow, ApiError> {
    state
        .inner
        .store
        .session(&intent.session_id)
        .await?
        .ok_or_else(|| ApiError::not_found("checkout session"))
}

/// The intent's session, and the provider account it was made with (see
/// [`provider_of`]).
async fn session_and_provider(
    state: &AppState,
    intent: &IntentRow,
) -> Result<(SessionRow, Arc<dyn Provider>), ApiError> {
    let session = session_of(state, intent).await?;
    let method = from_text(&intent.method)?;
    let provider = state
        .inner
        .providers
        .of_account(
            &session.merchant_id,
            method,
            intent.provider_account.as_deref(),
        )
        .cloned();
    match provider {
        Some(provider) => Ok((session, provider)),
        None => {
            tracing::error!(
                "{}: its provider account ({}) is no longer configured: kept for review",
                intent.id,
                intent.provider_account.as_deref().unwrap_or(&intent.method)
            );
            review(state, intent, ReviewReason::ProviderMissing, None).await?;
            Err(provider_missing())
        }
    }
}

/// The answer when the provider account behind a payment is gone.
/// How a provider is asked about an intent's order.
pub(crate) fn order_ref(intent: &IntentRow) -> crate::providers::OrderRef<'_> {
    crate::providers::OrderRef {
        out_trade_no: &intent.id,
        created_at: intent.ordered_at(),
        time_expire: intent.expires_at,
    }
}

fn provider_missing() -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::MethodUnavailable,
        "the provider account this payment was made with is no longer configured",
    )
}

/// The request's identity for idempotency: its canonical JSON, hashed.
fn fingerprint<T: serde::Serialize>(request: &T) -> String {
    use sha2::{Digest, Sha256};
    let canonical = serde_json::to_string(request).unwrap_or_default();
    crate::auth::hex(&Sha256::digest(canonical.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::backoff;

    #[test]
    fn backoff_doubles_to_its_cap_with_a_little_jitter() {
        for (failures, base) in [(0, 5), (1, 10), (3, 40), (12, 600), (60, 600)] {
            for _ in 0..50 {
                let wait = backoff(1_000, failures, 600) - 1_000;
                assert!(
                    (base - base / 5..=base + base / 5).contains(&wait),
                    "{failures} failures: waited {wait}, not about {base}"
                );
            }
        }
    }
}
