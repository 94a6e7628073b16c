//! Stored rows as the contract shows them: to the shopper's browser, to the
//! merchant, and in webhook events.

use contract::{
    EventData, EventType, MerchantCheckoutSession, Money, NextAction, PaymentIntent, Refund,
    SessionPayment, WebhookEvent,
};

use crate::error::ApiError;
use crate::store::{from_text, IntentRow, RefundRow, SessionRow};

/// Who reads an intent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    /// The shopper's browser (client secret).
    Browser,
    /// The merchant's server (secret key), with what has been refunded of
    /// the payment (minor units).
    Merchant {
        /// The sum of the intent's refunds that succeeded.
        refunded: i64,
    },
}

/// The session's amount.
pub fn session_amount(session: &SessionRow) -> Result<Money, ApiError> {
    let currency = session.currency.parse().map_err(ApiError::internal)?;
    Ok(Money::new(session.amount_value, currency))
}

/// The intent's amount.
pub fn intent_amount(intent: &IntentRow) -> Result<Money, ApiError> {
    let currency = intent.currency.parse().map_err(ApiError::internal)?;
    Ok(Money::new(intent.amount_value, currency))
}

/// A refund's amount.
pub fn refund_amount(refund: &RefundRow) -> Result<Money, ApiError> {
    let currency = refund.currency.parse().map_err(ApiError::internal)?;
    Ok(Money::new(refund.amount_value, currency))
}

/// An intent as `reader` sees it: the hand-off only while it is due, the
/// provider's transaction id, what was refunded and why it waits for
/// review only for the merchant.
pub fn intent(row: &IntentRow, reader: Reader) -> Result<PaymentIntent, ApiError> {
    let mut status = row.status();
    // One code for every wallet, opened by a phone: the desktop that shows
    // the code learns the wallet, and that the shopper is paying on the
    // phone; the phone's hand-off is the phone's.
    let on_phone = row.is_claimed() && reader == Reader::Browser && status.is_open();
    if on_phone {
        status = contract::IntentStatus::Processing;
    }
    let next_action = match (&row.next_action, status.is_open() && !on_phone) {
        (Some(json), true) => {
            Some(serde_json::from_str::<NextAction>(json).map_err(ApiError::internal)?)
        }
        _ => None,
    };
    let failure_reason = match &row.failure_reason {
        Some(reason) => Some(from_text(reason)?),
        None => None,
    };
    let amount = intent_amount(row)?;
    let (transaction_id, amount_refunded, review_reason) = match reader {
        Reader::Merchant { refunded } => (
            row.transaction_id.clone(),
            row.amount_received
                .map(|_| Money::new(refunded, amount.currency)),
            match (&row.review_reason, status) {
                (Some(reason), contract::IntentStatus::RequiresReview) => Some(from_text(reason)?),
                _ => None,
            },
        ),
        Reader::Browser => (None, None, None),
    };
    Ok(PaymentIntent {
        id: row.id.clone(),
        session_id: row.session_id.clone(),
        method: from_text(&row.method)?,
        amount,
        status,
        expires_at: row.expires_at,
        next_action,
        failure_reason,
        transaction_id,
        amount_refunded,
        review_reason,
    })
}

/// A refund, as its merchant reads it.
pub fn refund(row: &RefundRow) -> Result<Refund, ApiError> {
    Ok(Refund {
        id: row.id.clone(),
        intent_id: row.intent_id.clone(),
        amount: refund_amount(row)?,
        status: row.status(),
        reason: row.reason.clone(),
        failure_reason: match &row.failure_reason {
            Some(reason) => Some(from_text(reason)?),
            None => None,
        },
        automatic: row.automatic,
        created_at: row.created_at,
    })
}

/// A session as its merchant reads it.
pub fn merchant_session(
    session: &SessionRow,
    paid_by: Option<&IntentRow>,
) -> Result<MerchantCheckoutSession, ApiError> {
    let payment = match paid_by {
        Some(intent) => Some(SessionPayment {
            intent_id: intent.id.clone(),
            method: from_text(&intent.method)?,
            transaction_id: intent.transaction_id.clone(),
        }),
        None => None,
    };
    Ok(MerchantCheckoutSession {
        id: session.id.clone(),
        status: session.status(),
        amount: session_amount(session)?,
        reference: session.reference.clone(),
        created_at: session.created_at,
        expires_at: session.expires_at,
        completed_at: session.completed_at,
        payment,
    })
}

/// A webhook event about a session.
pub fn session_event(
    kind: EventType,
    session: &SessionRow,
    paid_by: Option<&IntentRow>,
    now: i64,
) -> Result<WebhookEvent, ApiError> {
    Ok(WebhookEvent {
        id: crate::auth::random_id("evt"),
        kind,
        created: now,
        data: EventData {
            checkout_session: Some(merchant_session(session, paid_by)?),
            payment_intent: None,
            refund: None,
        },
    })
}

/// A webhook event about an intent (`refunded` of it so far).
pub fn intent_event(
    kind: EventType,
    row: &IntentRow,
    refunded: i64,
    now: i64,
) -> Result<WebhookEvent, ApiError> {
    Ok(WebhookEvent {
        id: crate::auth::random_id("evt"),
        kind,
        created: now,
        data: EventData {
            checkout_session: None,
            payment_intent: Some(intent(row, Reader::Merchant { refunded })?),
            refund: None,
        },
    })
}

/// A webhook event about a refund.
pub fn refund_event(kind: EventType, row: &RefundRow, now: i64) -> Result<WebhookEvent, ApiError> {
    Ok(WebhookEvent {
        id: crate::auth::random_id("evt"),
        kind,
        created: now,
        data: EventData {
            checkout_session: None,
            payment_intent: None,
            refund: Some(refund(row)?),
        },
    })
}
