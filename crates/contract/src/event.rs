use serde::{Deserialize, Serialize};

use crate::{MerchantCheckoutSession, PaymentIntent, Refund, UnixSeconds};

/// The header that carries a webhook's signature:
/// `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
pub const WEBHOOK_SIGNATURE_HEADER: &str = "Payment-Selector-Signature";

/// How far a webhook's `t` may be from the receiver's clock before the
/// receiver refuses it as a replay.
pub const WEBHOOK_TOLERANCE_SECONDS: i64 = 300;

/// What the server tells a merchant's webhook endpoint: one event, sent
/// until the endpoint answers 2xx (at least once; `id` is unique, so a
/// receiver drops what it has seen).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookEvent {
    /// Unique per event (`evt_…`).
    pub id: String,
    /// What happened.
    #[serde(rename = "type")]
    pub kind: EventType,
    /// When it happened.
    pub created: UnixSeconds,
    /// What it happened to.
    pub data: EventData,
}

/// What an event is about: the session or the intent, as the merchant
/// reads them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventData {
    /// For `checkout_session.*` events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkout_session: Option<MerchantCheckoutSession>,
    /// For `payment_intent.*` events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_intent: Option<PaymentIntent>,
    /// For `refund.*` events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund: Option<Refund>,
}

/// The kinds of webhook event. More may be added: acknowledge an event of a
/// type you do not know, and otherwise leave it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum EventType {
    /// The session was paid: ship the order.
    #[serde(rename = "checkout_session.completed")]
    CheckoutSessionCompleted,
    /// The session ended unpaid.
    #[serde(rename = "checkout_session.expired")]
    CheckoutSessionExpired,
    /// A payment attempt was declined or closed by the provider.
    #[serde(rename = "payment_intent.failed")]
    PaymentIntentFailed,
    /// A second payment was taken for an already paid session: it must be
    /// given back (the server refunds it by itself unless the merchant
    /// turned that off; a `refund.*` event follows then).
    #[serde(rename = "payment_intent.requires_refund")]
    PaymentIntentRequiresRefund,
    /// A payment the server cannot settle by itself (see its
    /// `review_reason`): a person must look.
    #[serde(rename = "payment_intent.requires_review")]
    PaymentIntentRequiresReview,
    /// A refund went through: the shopper has the money back.
    #[serde(rename = "refund.succeeded")]
    RefundSucceeded,
    /// A refund did not go through (see its `failure_reason`): the money
    /// is still the merchant's to give back.
    #[serde(rename = "refund.failed")]
    RefundFailed,
    /// A kind this build does not know.
    #[serde(other)]
    Unknown,
}

impl EventType {
    /// The wire name, such as `"checkout_session.completed"`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::CheckoutSessionCompleted => "checkout_session.completed",
            EventType::CheckoutSessionExpired => "checkout_session.expired",
            EventType::PaymentIntentFailed => "payment_intent.failed",
            EventType::PaymentIntentRequiresRefund => "payment_intent.requires_refund",
            EventType::PaymentIntentRequiresReview => "payment_intent.requires_review",
            EventType::RefundSucceeded => "refund.succeeded",
            EventType::RefundFailed => "refund.failed",
            EventType::Unknown => "unknown",
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn event_types_have_dotted_names() {
        for kind in [
            EventType::CheckoutSessionCompleted,
            EventType::CheckoutSessionExpired,
            EventType::PaymentIntentFailed,
            EventType::PaymentIntentRequiresRefund,
            EventType::PaymentIntentRequiresReview,
            EventType::RefundSucceeded,
            EventType::RefundFailed,
        ] {
            assert_eq!(serde_json::to_value(kind).unwrap(), json!(kind.as_str()));
        }
        let later: EventType = serde_json::from_value(json!("dispute.created")).unwrap();
        assert_eq!(later, EventType::Unknown);
    }
}
