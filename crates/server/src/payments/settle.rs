//! What a provider says of an intent, recorded once: a payment (completing
//! the session, or kept to be given back), the shopper confirming on the
//! phone, a decline, a close, or something a person must look at. A
//! notification and a query's answer take the same path.

use contract::{EventType, FailureReason, IntentStatus, ReviewReason, UnixSeconds};

use super::close::expire;
use super::create::renew_hand_off;
use super::refund::queue_automatic_refund;
use super::{provider_of, queue, reload};
use crate::error::ApiError;
use crate::providers::ProviderStatus;
use crate::store::{IntentRow, Settled, Tx};
use crate::views;
use crate::AppState;

/// A shopper who keeps looking at an open intent makes the server ask the
/// provider at most this often (a notification may be late or lost).
const QUERY_EVERY_SECONDS: i64 = 15;

/// However often a shopper presses "check again", the provider is asked
/// about one intent at most this often.
const ASK_AT_MOST_EVERY_SECONDS: i64 = 3;

/// An intent as it stands now, with what the browser needs kept fresh: a
/// due intent is expired (unless the provider says it was paid), a stale
/// hand-off asked for again, and the provider asked when a notification
/// is overdue or the shopper asks (`ask`; not twice within a few seconds).
pub async fn refresh(
    state: &AppState,
    intent: IntentRow,
    ask: bool,
) -> Result<IntentRow, ApiError> {
    if !intent.status().is_open() {
        return Ok(intent);
    }
    let now = state.now();
    let asked = now - intent.last_queried_at.unwrap_or(intent.created_at);
    let may_ask = intent.last_queried_at.is_none() || asked >= ASK_AT_MOST_EVERY_SECONDS;
    if now >= intent.expires_at {
        // Due: settled with its provider now, unless the provider was just
        // asked or is backing off (the background work will).
        if !may_ask || intent.provider_retry_at > now {
            return Ok(intent);
        }
        return match expire(state, &intent).await {
            Ok(expired) => Ok(expired),
            Err(error) => {
                tracing::warn!("{}: expiring: {}", intent.id, error.message);
                reload(state, &intent.id).await
            }
        };
    }
    let overdue = asked >= QUERY_EVERY_SECONDS;
    let mut intent = intent;
    if overdue || (ask && may_ask) {
        match query(state, &intent).await {
            Ok(updated) => intent = updated,
            // A read never fails for the provider's trouble: it says what
            // is known.
            Err(error) => {
                tracing::warn!("{}: {error}", intent.id);
                intent = reload(state, &intent.id).await?;
            }
        }
    }
    if intent.status() == IntentStatus::RequiresAction
        && intent.next_action_expires_at.is_some_and(|at| now >= at)
    {
        match renew_hand_off(state, &intent).await {
            Ok(renewed) => intent = renewed,
            Err(error) => tracing::warn!("{}: a fresh hand-off: {error}", intent.id),
        }
    }
    Ok(intent)
}

/// Asks the provider how an intent stands and records the answer.
pub async fn query(state: &AppState, intent: &IntentRow) -> Result<IntentRow, ApiError> {
    state
        .inner
        .store
        .mark_queried(&intent.id, state.now())
        .await?;
    if intent.is_unclaimed_code() {
        // No phone has opened it: no provider has an order to ask about.
        return reload(state, &intent.id).await;
    }
    let provider = provider_of(state, intent).await?;
    let status = provider.query(super::order_ref(intent)).await?;
    apply(state, intent, status).await
}

/// Records what the provider says of an intent: a payment (completing the
/// session, or kept to be given back if the session was paid already), the
/// shopper confirming, a decline, a close. A payment of another amount than
/// the order's is not applied: the intent waits for a person. Events for
/// the merchant commit with the change.
pub async fn apply(
    state: &AppState,
    intent: &IntentRow,
    status: ProviderStatus,
) -> Result<IntentRow, ApiError> {
    let now = state.now();
    let store = &state.inner.store;
    let mut tx = store.begin().await?;
    let current = tx.intent(&intent.id).await?;
    let mut automatic_refund = None;
    let mut completed = false;
    match status {
        ProviderStatus::Paid {
            transaction_id,
            amount,
        } => {
            let expected = views::intent_amount(&current)?;
            if amount != expected {
                tracing::error!(
                    "{}: the provider took {amount:?}, the order was {expected:?}; kept for review",
                    intent.id
                );
                let paid = (transaction_id.as_str(), amount.value);
                send_to_review(
                    state,
                    &mut tx,
                    &current,
                    ReviewReason::AmountMismatch,
                    Some(paid),
                )
                .await?;
            } else {
                let (settled, paid) = tx
                    .record_payment(&current, &transaction_id, amount.value, now)
                    .await?;
                let session = tx.session(&paid.session_id).await?;
                match settled {
                    Settled::Completed => {
                        let event = views::session_event(
                            EventType::CheckoutSessionCompleted,
                            &session,
                            Some(&paid),
                            now,
                        )?;
                        queue(state, &mut tx, &session.merchant_id, &event).await?;
                        completed = true;
                    }
                    Settled::RequiresRefund => {
                        tracing::warn!(
                            "{} paid session {} a second time: to be given back",
                            paid.id,
                            paid.session_id
                        );
                        let event = views::intent_event(
                            EventType::PaymentIntentRequiresRefund,
                            &paid,
                            0,
                            now,
                        )?;
                        queue(state, &mut tx, &session.merchant_id, &event).await?;
                        automatic_refund =
                            queue_automatic_refund(state, &mut tx, &session.merchant_id, &paid)
                                .await?;
                    }
                    Settled::AlreadyRecorded => {}
                }
            }
        }
        ProviderStatus::Processing => {
            tx.mark_processing(&current.id, now).await?;
        }
        ProviderStatus::Failed(reason) => {
            // A declined attempt need not end the order at the provider
            // (UnionPay's page takes another card until its payTimeout):
            // it is watched until then, and a payment found is given back.
            if fail(state, &mut tx, &current, reason, now).await? {
                tx.queue_close(&current.id, now).await?;
            }
        }
        ProviderStatus::Closed if current.status().is_open() => {
            if now >= current.expires_at {
                tx.finish(&current.id, IntentStatus::Expired, None, now)
                    .await?;
            } else {
                fail(
                    state,
                    &mut tx,
                    &current,
                    FailureReason::ClosedByProvider,
                    now,
                )
                .await?;
            }
        }
        ProviderStatus::Closed | ProviderStatus::Pending | ProviderStatus::NotFound => {}
    }
    let updated = tx.intent(&intent.id).await?;
    tx.commit().await?;
    if let Some(refund) = automatic_refund {
        // Given back at once, not at the next pass of the background work.
        let state = state.clone();
        tokio::spawn(async move { super::advance_refund(&state, &refund).await });
    }
    if completed {
        // The session's other codes were canceled with the payment: closed
        // with their provider at once, so that a shopper still looking at
        // one pays nothing more (not at the next pass of the background
        // work).
        tokio::spawn(crate::sweeper::close_now(state.clone()));
    }
    Ok(updated)
}

/// Fails a payable intent and tells the merchant.
pub(super) async fn fail(
    state: &AppState,
    tx: &mut Tx,
    intent: &IntentRow,
    reason: FailureReason,
    now: UnixSeconds,
) -> Result<bool, ApiError> {
    let failed = tx
        .finish(&intent.id, IntentStatus::Failed, Some(reason), now)
        .await?;
    if failed {
        let failed = tx.intent(&intent.id).await?;
        let session = tx.session(&failed.session_id).await?;
        let event = views::intent_event(EventType::PaymentIntentFailed, &failed, 0, now)?;
        queue(state, tx, &session.merchant_id, &event).await?;
    }
    Ok(failed)
}

/// Hands an intent to a person (`requires_review`, and an event that says
/// why): the server stops asking its provider about it.
pub async fn review(
    state: &AppState,
    intent: &IntentRow,
    reason: ReviewReason,
    paid: Option<(&str, i64)>,
) -> Result<(), ApiError> {
    let mut tx = state.inner.store.begin().await?;
    send_to_review(state, &mut tx, intent, reason, paid).await?;
    tx.commit().await?;
    Ok(())
}

async fn send_to_review(
    state: &AppState,
    tx: &mut Tx,
    intent: &IntentRow,
    reason: ReviewReason,
    paid: Option<(&str, i64)>,
) -> Result<(), ApiError> {
    let now = state.now();
    if tx.review(&intent.id, reason, paid, now).await? {
        let reviewed = tx.intent(&intent.id).await?;
        let session = tx.session(&reviewed.session_id).await?;
        let event = views::intent_event(EventType::PaymentIntentRequiresReview, &reviewed, 0, now)?;
        queue(state, tx, &session.merchant_id, &event).await?;
    }
    Ok(())
}
