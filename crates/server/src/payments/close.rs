//! Closing an intent's order with its provider, so that it can no longer
//! be paid: when the shopper walks away, a new code replaces it, or its
//! time is up. A provider that says the order was paid meanwhile wins: the
//! payment is recorded instead.

use contract::IntentStatus;

use super::settle::{apply, query};
use super::{provider_of, reload};
use crate::error::ApiError;
use crate::providers::Closed;
use crate::store::IntentRow;
use crate::AppState;

/// How closing an open intent ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// It is closed with its provider and has its final status.
    Closed,
    /// The shopper had paid it: the payment is recorded.
    Paid,
    /// The provider has no order to close yet, though one could still be
    /// paid until the intent's expiry: a close job asks again until then.
    NotYet,
    /// The provider is still deciding a payment of it: a close job asks
    /// again until it has, past the intent's expiry if need be.
    Deciding,
}

/// Closes an open intent with its provider, then gives it `to`; if the
/// provider says it was paid, records that payment instead.
pub async fn close(
    state: &AppState,
    intent: &IntentRow,
    to: IntentStatus,
) -> Result<Ended, ApiError> {
    let ended = close_order(state, intent).await?;
    if ended != Ended::Paid {
        let now = state.now();
        let mut tx = state.inner.store.begin().await?;
        let watched = matches!(ended, Ended::NotYet | Ended::Deciding);
        if tx.finish(&intent.id, to, None, now).await? && watched {
            tx.queue_close(&intent.id, now).await?;
        }
        tx.commit().await?;
    }
    Ok(ended)
}

/// Closes an intent's order with its provider, leaving its status to the
/// caller; if the provider says it was paid, records that payment.
pub async fn close_order(state: &AppState, intent: &IntentRow) -> Result<Ended, ApiError> {
    let claimed;
    let intent = if intent.is_unclaimed_code() {
        if state.inner.store.seal_code(&intent.id).await? {
            // No phone can open it now, and none had: no order anywhere.
            return Ok(Ended::Closed);
        }
        claimed = reload(state, &intent.id).await?;
        &claimed
    } else {
        intent
    };
    let provider = provider_of(state, intent).await?;
    match provider.close(super::order_ref(intent)).await? {
        Closed::Closed => Ok(Ended::Closed),
        Closed::NotYet => Ok(Ended::NotYet),
        Closed::Deciding => Ok(Ended::Deciding),
        Closed::AlreadyPaid => {
            let status = provider.query(super::order_ref(intent)).await?;
            let settled = apply(state, intent, status).await?;
            Ok(match settled.status() {
                IntentStatus::Succeeded | IntentStatus::RequiresRefund | IntentStatus::Refunded => {
                    Ended::Paid
                }
                // Paid with another amount: a person looks at it, and it
                // is no longer payable.
                _ => Ended::Closed,
            })
        }
    }
}

/// Expires a due intent: asked first (a notification may be late), then
/// closed.
pub async fn expire(state: &AppState, intent: &IntentRow) -> Result<IntentRow, ApiError> {
    let updated = query(state, intent).await?;
    if updated.status().is_open() {
        close(state, &updated, IntentStatus::Expired).await?;
    }
    reload(state, &intent.id).await
}
