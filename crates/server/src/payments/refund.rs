//! Money given back through the provider that took it. A refund is stored
//! (what is left of the payment counted in the same transaction) before
//! the provider is asked, asked again with the same refund number until
//! the provider has it, then followed, by its notifications or by asking,
//! until it ends; the merchant hears of each ending. A second payment of a
//! paid session is given back by the server itself.

use axum::http::StatusCode;
use contract::{
    CreateRefund, ErrorCode, EventType, IntentStatus, Money, RefundFailureReason, RefundStatus,
};

use super::{backoff, fingerprint, queue, reload, LEASE_SECONDS};
use crate::config::MerchantConfig;
use crate::error::ApiError;
use crate::providers::{ProviderError, ProviderRefund, RefundState};
use crate::store::{IntentRow, RefundInserted, RefundRow, Tx};
use crate::views;
use crate::AppState;

/// The longest refund reason WeChat Pay and Alipay both take.
const MAX_REASON_CHARS: usize = 80;

/// A pending refund is asked about at most this far apart.
const MAX_CHECK_SECONDS: i64 = 60 * 60;

/// What the merchant asked for.
pub struct NewRefund<'a> {
    /// The `Idempotency-Key`.
    pub key: &'a str,
    /// The body.
    pub request: CreateRefund,
}

/// Gives back some or all of an intent's payment, or answers the refund
/// its key already made. The refund is stored, then asked of the provider
/// at once; a provider that cannot be reached leaves it pending, and the
/// server asks again until it has it.
pub async fn create_refund(
    state: &AppState,
    merchant: &MerchantConfig,
    intent: &IntentRow,
    new: NewRefund<'_>,
) -> Result<(StatusCode, RefundRow), ApiError> {
    let store = &state.inner.store;
    let fingerprint = fingerprint(&new.request);
    if let Some(existing) = store.refund_by_key(&intent.id, new.key).await? {
        return replay(existing, &fingerprint);
    }
    let received = match (intent.status(), intent.amount_received) {
        (
            IntentStatus::Succeeded
            | IntentStatus::RequiresRefund
            | IntentStatus::Refunded
            | IntentStatus::RequiresReview,
            Some(received),
        ) => received,
        _ => {
            return Err(ApiError::conflict(
                ErrorCode::IntentNotPaid,
                format!(
                    "the intent holds no payment to give back ({})",
                    intent.status
                ),
            ))
        }
    };
    let currency = views::intent_amount(intent)?.currency;
    if let Some(amount) = &new.request.amount {
        if amount.currency != currency {
            return Err(ApiError::invalid(format!(
                "amount.currency must be the payment's, {currency}"
            )));
        }
        if amount.value < 1 {
            return Err(ApiError::invalid(
                "amount.value must be at least 1 minor unit",
            ));
        }
    }
    let reason = new
        .request
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|reason| !reason.is_empty());
    if reason.is_some_and(|reason| reason.chars().count() > MAX_REASON_CHARS) {
        return Err(ApiError::invalid(format!(
            "reason must be at most {MAX_REASON_CHARS} characters"
        )));
    }
    super::provider_of(state, intent).await?;
    let now = state.now();
    let mut tx = store.begin().await?;
    let left = received - tx.refunds_held(&intent.id).await?;
    let value = new
        .request
        .amount
        .as_ref()
        .map_or(left, |amount| amount.value);
    if value > left || value < 1 {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::RefundTooLarge,
            format!(
                "{} is left to refund of this payment",
                Money::new(left.max(0), currency).to_major_string()
            ),
        ));
    }
    let row = RefundRow {
        seq: 0,
        id: crate::auth::random_id("re"),
        intent_id: intent.id.clone(),
        merchant_id: merchant.id.clone(),
        idempotency_key: Some(new.key.to_owned()),
        request_fingerprint: Some(fingerprint.clone()),
        amount_value: value,
        currency: currency.code().to_owned(),
        reason: reason.map(str::to_owned),
        status: RefundStatus::Pending.as_str().to_owned(),
        failure_reason: None,
        automatic: false,
        submitted_at: None,
        attempts: 0,
        // Held for this request's own call to the provider, below.
        next_attempt_at: now + LEASE_SECONDS,
        created_at: now,
        updated_at: now,
    };
    match tx.insert_refund(&row).await? {
        RefundInserted::Yes => tx.commit().await?,
        RefundInserted::KeyTaken => {
            drop(tx);
            let winner = store
                .refund_by_key(&intent.id, new.key)
                .await?
                .ok_or_else(|| ApiError::internal("lost refund"))?;
            return replay(winner, &fingerprint);
        }
    }
    submit(state, &row).await;
    Ok((StatusCode::CREATED, reload_refund(state, &row.id).await?))
}

/// Answers a repeated refund request with the refund it made.
fn replay(existing: RefundRow, fingerprint: &str) -> Result<(StatusCode, RefundRow), ApiError> {
    if existing.request_fingerprint.as_deref() != Some(fingerprint) {
        return Err(ApiError::conflict(
            ErrorCode::IdempotencyKeyReused,
            "this Idempotency-Key was already used with a different request",
        ));
    }
    Ok((StatusCode::OK, existing))
}

/// Stores the server's own refund of a second payment (everything it
/// took), if the merchant lets the server give such payments back; the
/// caller sends it once the transaction is committed.
pub(super) async fn queue_automatic_refund(
    state: &AppState,
    tx: &mut Tx,
    merchant_id: &str,
    paid: &IntentRow,
) -> Result<Option<RefundRow>, ApiError> {
    let automatic = state
        .inner
        .config
        .merchant(merchant_id)
        .is_some_and(|merchant| merchant.auto_refund);
    let Some(received) = paid.amount_received.filter(|_| automatic) else {
        return Ok(None);
    };
    let now = state.now();
    let row = RefundRow {
        seq: 0,
        id: crate::auth::random_id("re"),
        intent_id: paid.id.clone(),
        merchant_id: merchant_id.to_owned(),
        idempotency_key: None,
        request_fingerprint: None,
        amount_value: received,
        currency: paid.currency.clone(),
        reason: Some("duplicate payment".into()),
        status: RefundStatus::Pending.as_str().to_owned(),
        failure_reason: None,
        automatic: true,
        submitted_at: None,
        attempts: 0,
        next_attempt_at: now,
        created_at: now,
        updated_at: now,
    };
    Ok(match tx.insert_refund(&row).await? {
        RefundInserted::Yes => Some(row),
        RefundInserted::KeyTaken => None,
    })
}

/// Moves a pending refund on, if no one else is doing so: asks the
/// provider for it (again, with the same number) until the provider has
/// it, then asks how it stands.
pub async fn advance_refund(state: &AppState, refund: &RefundRow) {
    let now = state.now();
    match state
        .inner
        .store
        .claim_refund(&refund.id, now, now + LEASE_SECONDS)
        .await
    {
        Ok(true) => submit(state, refund).await,
        Ok(false) => {}
        Err(error) => tracing::error!("taking on {}: {error}", refund.id),
    }
}

/// The provider call for a refund this worker holds.
async fn submit(state: &AppState, refund: &RefundRow) {
    if let Err(error) = try_submit(state, refund).await {
        tracing::error!("{}: {}", refund.id, error.message);
    }
}

async fn try_submit(state: &AppState, held: &RefundRow) -> Result<(), ApiError> {
    let refund = reload_refund(state, &held.id).await?;
    if refund.status() != RefundStatus::Pending {
        return Ok(());
    }
    let intent = reload(state, &refund.intent_id).await?;
    let store = &state.inner.store;
    let provider = match super::provider_of(state, &intent).await {
        Ok(provider) => provider,
        Err(_) => {
            // The provider may have it already: it stays pending (and holds
            // its amount) until its account is configured again.
            tracing::error!(
                "{}: the provider account that took {} is not configured; the refund waits",
                refund.id,
                intent.id
            );
            let next = backoff(state.now(), refund.attempts, MAX_CHECK_SECONDS);
            store.refund_trouble(&refund.id, next).await?;
            return Ok(());
        }
    };
    let submitting = refund.submitted_at.is_none();
    let answer = if submitting {
        let session = super::session_of(state, &intent).await?;
        let asked = ProviderRefund {
            out_trade_no: intent.id.clone(),
            order_created_at: intent.ordered_at(),
            transaction_id: intent.transaction_id.clone(),
            out_refund_no: refund.id.clone(),
            created_at: refund.created_at,
            amount: views::refund_amount(&refund)?,
            total: Money::new(
                intent.amount_received.unwrap_or(intent.amount_value),
                views::intent_amount(&intent)?.currency,
            ),
            reason: refund.reason.clone(),
            notify_url: state.notify_url(&session.merchant_id, provider.name()),
        };
        provider.refund(&asked).await
    } else {
        provider
            .refund_status(
                super::order_ref(&intent),
                crate::providers::RefundRef {
                    out_refund_no: &refund.id,
                    created_at: refund.created_at,
                },
            )
            .await
    };
    let now = state.now();
    match answer {
        Ok(RefundState::Pending) => {
            let next = backoff(now, refund.attempts, MAX_CHECK_SECONDS);
            store.refund_submitted(&refund.id, next, now).await?;
            Ok(())
        }
        // Asked about but never received: ask for it again.
        Ok(RefundState::NotFound) => {
            tracing::warn!(
                "{}: the provider has no such refund; asking again",
                refund.id
            );
            let next = backoff(now, refund.attempts, MAX_CHECK_SECONDS);
            store.unsubmit_refund(&refund.id, next).await?;
            Ok(())
        }
        Ok(ended) => {
            store.refund_submitted(&refund.id, now, now).await?;
            settle(state, &refund.id, ended).await
        }
        // Refused as a request: nothing was given back. (A refused
        // question about it says nothing of the refund: asked again below.)
        Err(ProviderError::Refused { code, message }) if submitting => {
            tracing::warn!(
                "{} refused {}: {code} {message}",
                provider.name(),
                refund.id
            );
            settle(
                state,
                &refund.id,
                RefundState::Failed(RefundFailureReason::ProviderRefused),
            )
            .await
        }
        Err(error) => {
            tracing::warn!("{}: {error}", refund.id);
            let next = backoff(now, refund.attempts, MAX_CHECK_SECONDS);
            store.refund_trouble(&refund.id, next).await?;
            Ok(())
        }
    }
}

/// Records how a refund ended, tells the merchant, and marks a second
/// payment given back in full as `refunded`.
async fn settle(state: &AppState, refund_id: &str, ended: RefundState) -> Result<(), ApiError> {
    let (status, reason, kind) = match ended {
        RefundState::Succeeded => (RefundStatus::Succeeded, None, EventType::RefundSucceeded),
        RefundState::Failed(reason) => {
            (RefundStatus::Failed, Some(reason), EventType::RefundFailed)
        }
        RefundState::Pending | RefundState::NotFound => return Ok(()),
    };
    let now = state.now();
    let mut tx = state.inner.store.begin().await?;
    if tx.finish_refund(refund_id, status, reason, now).await? {
        let refund = tx.refund(refund_id).await?;
        if status == RefundStatus::Succeeded {
            let intent = tx.intent(&refund.intent_id).await?;
            let refunded = tx.refunded(&intent.id).await?;
            if intent
                .amount_received
                .is_some_and(|received| refunded >= received)
            {
                tx.mark_refunded(&intent.id, now).await?;
            }
        }
        let event = views::refund_event(kind, &refund, now)?;
        queue(state, &mut tx, &refund.merchant_id, &event).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Applies what a verified notification of `provider_account` (for
/// `merchant_id`) says of refund `out_refund_no` of order `out_trade_no`;
/// false if that is no refund of theirs.
pub async fn refund_notified(
    state: &AppState,
    merchant_id: &str,
    provider_account: &str,
    out_trade_no: &str,
    out_refund_no: &str,
    ended: RefundState,
) -> Result<bool, ApiError> {
    let store = &state.inner.store;
    let Some(refund) = store.merchant_refund(merchant_id, out_refund_no).await? else {
        return Ok(false);
    };
    let intent = reload(state, &refund.intent_id).await?;
    let ours = refund.intent_id == out_trade_no
        && intent
            .provider_account
            .as_deref()
            .is_none_or(|account| account == provider_account);
    if !ours {
        return Ok(false);
    }
    settle(state, &refund.id, ended).await?;
    Ok(true)
}

async fn reload_refund(state: &AppState, id: &str) -> Result<RefundRow, ApiError> {
    state
        .inner
        .store
        .refund(id)
        .await?
        .ok_or_else(|| ApiError::not_found("refund"))
}
