//! The HTTP contract between the payment-selector component and a merchant
//! backend: every type that crosses the wire, in one place, so the component
//! and the reference server cannot drift apart.
//!
//! Conventions:
//! - money is [`Money`]: an integer in the currency's minor unit;
//! - times are Unix seconds ([`UnixSeconds`]);
//! - enums are `snake_case` strings; tagged unions carry a `type` field;
//! - an error is always an [`ErrorBody`] with a non-2xx status.
//!
//! The endpoints, relative to the backend's base URL (the component's
//! `api_base`), are listed in [`paths`]. The whole contract, with every
//! status and error code, is `openapi.json` beside this crate's manifest:
//! an OpenAPI 3.1 document that the `openapi` module (feature `openapi`)
//! builds from these types.

mod error;
mod event;
mod intent;
mod list;
mod money;
mod refund;
mod session;

#[cfg(feature = "openapi")]
pub mod openapi;

pub use error::{ErrorBody, ErrorCode};
pub use event::{
    EventData, EventType, WebhookEvent, WEBHOOK_SIGNATURE_HEADER, WEBHOOK_TOLERANCE_SECONDS,
};
pub use intent::{
    CreateIntent, FailureReason, FormMethod, IntentStatus, NextAction, PaymentIntent, ReviewReason,
    WechatJsapiParams,
};
pub use list::{EventList, IntentList, RefundList};
pub use money::{Currency, InvalidCurrency, Money};
pub use refund::{CreateRefund, Refund, RefundFailureReason, RefundStatus};
pub use session::{
    Availability, CheckoutSession, ClientContext, CreateCheckoutSession, CreatedCheckoutSession,
    DemoSession, Device, Flow, InApp, MerchantCheckoutSession, MethodKind, PaymentMethod,
    SandboxScan, SessionPayment, SessionStatus, UnavailableReason,
};

/// Seconds since the Unix epoch, UTC.
pub type UnixSeconds = i64;

/// The header that makes intent creation safe to retry.
pub const IDEMPOTENCY_KEY_HEADER: &str = "Idempotency-Key";

/// Endpoint paths, relative to the backend's base URL.
pub mod paths {
    /// `POST`, server to server with the merchant's secret key:
    /// [`CreateCheckoutSession`](crate::CreateCheckoutSession) in,
    /// [`CreatedCheckoutSession`](crate::CreatedCheckoutSession) out.
    pub const CHECKOUT_SESSIONS: &str = "/checkout-sessions";

    /// `GET` with the session's client secret and a
    /// [`ClientContext`](crate::ClientContext) query:
    /// [`CheckoutSession`](crate::CheckoutSession).
    pub fn checkout_session(session_id: &str) -> String {
        format!("/checkout-sessions/{}", segment(session_id))
    }

    /// `POST` with the client secret and an `Idempotency-Key` header:
    /// [`CreateIntent`](crate::CreateIntent) in,
    /// [`PaymentIntent`](crate::PaymentIntent) out.
    pub fn session_intents(session_id: &str) -> String {
        format!("/checkout-sessions/{}/intents", segment(session_id))
    }

    /// `GET` with the client secret: [`PaymentIntent`](crate::PaymentIntent).
    pub fn intent(intent_id: &str) -> String {
        format!("/intents/{}", segment(intent_id))
    }

    /// `POST` with the client secret: the canceled
    /// [`PaymentIntent`](crate::PaymentIntent).
    pub fn cancel_intent(intent_id: &str) -> String {
        format!("/intents/{}/cancel", segment(intent_id))
    }

    /// `GET`, with the merchant's secret key: an
    /// [`IntentList`](crate::IntentList), newest first, filtered by
    /// `session`, `status` and `created_gte`, paged by `limit` and
    /// `starting_after`.
    pub const INTENTS: &str = "/intents";

    /// `POST` with the merchant's secret key and an `Idempotency-Key`:
    /// [`CreateRefund`](crate::CreateRefund) in,
    /// [`Refund`](crate::Refund) out; `GET`: a
    /// [`RefundList`](crate::RefundList).
    pub fn intent_refunds(intent_id: &str) -> String {
        format!("/intents/{}/refunds", segment(intent_id))
    }

    /// `GET`, with the merchant's secret key: a [`Refund`](crate::Refund).
    pub fn refund(refund_id: &str) -> String {
        format!("/refunds/{}", segment(refund_id))
    }

    /// `GET`, with the merchant's secret key: an
    /// [`EventList`](crate::EventList) of every event the server made for
    /// the merchant, oldest first, paged by `after` and `limit`.
    pub const EVENTS: &str = "/events";

    /// `POST`, only on a server started in sandbox mode: a session for the
    /// demo merchant, as [`DemoSession`](crate::DemoSession).
    pub const DEMO_SESSION: &str = "/dev/demo-session";

    /// `POST`, only in sandbox mode: plays the shopper scanning a QR code
    /// (WeChat Pay's or Alipay's) and paying. The body is a
    /// [`SandboxScan`](crate::SandboxScan).
    pub const SANDBOX_SCAN: &str = "/sandbox/scan";

    /// An id as one path segment: ids the server issues are plain letters,
    /// digits and `_`, but one read from a URL could hold `/`, `?` or `..`.
    fn segment(id: &str) -> String {
        let mut out = String::with_capacity(id.len());
        for byte in id.bytes() {
            if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'~') {
                out.push(char::from(byte));
            } else {
                out.push('%');
                for nibble in [byte >> 4, byte & 0xf] {
                    out.push(char::from_digit(u32::from(nibble), 16).unwrap_or('0'));
                }
            }
        }
        out
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn an_id_stays_inside_its_path_segment() {
            assert_eq!(super::intent("pi_1a2B"), "/intents/pi_1a2B");
            assert_eq!(
                super::cancel_intent("../checkout-sessions/cs_1?x"),
                "/intents/%2e%2e%2fcheckout-sessions%2fcs_1%3fx/cancel"
            );
        }
    }
}
