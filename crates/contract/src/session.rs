use serde::{Deserialize, Serialize};

use crate::{Money, UnixSeconds};

/// What the merchant's server sends to open a checkout. The amount is decided
/// here, server to server; the browser never sends one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateCheckoutSession {
    /// The order total.
    pub amount: Money,
    /// The merchant's own order reference, echoed back and sent to providers.
    pub reference: String,
    /// Where a redirect flow brings the shopper back; the intent id is added
    /// as the `payment_intent` query parameter.
    pub return_url: String,
    /// How long the session stays open; the server's default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in_seconds: Option<i64>,
}

/// The answer to [`CreateCheckoutSession`]: the session, and the secret the
/// merchant hands to its page so the component can act on this session only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedCheckoutSession {
    /// The session as the shopper's browser will see it.
    pub session: CheckoutSession,
    /// A bearer token for this session's browser-facing endpoints.
    pub client_secret: String,
}

/// A session made by a sandbox server's demo endpoint, for the preview page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DemoSession {
    /// The session to show.
    pub session_id: String,
    /// Its client secret.
    pub client_secret: String,
}

/// The body of a sandbox scan: the QR payload the shopper's phone "read".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SandboxScan {
    /// The scanned code: a WeChat Pay `code_url`, an Alipay `qr_code` or
    /// a UnionPay `qrCode`.
    pub code_url: String,
    /// Decline instead of paying.
    #[serde(default)]
    pub decline: bool,
}

/// One checkout: an order total and the ways this shopper may pay it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CheckoutSession {
    /// The session id (`cs_...`).
    pub id: String,
    /// The order total, decided by the merchant's server.
    pub amount: Money,
    /// The merchant's name as shoppers know it.
    pub merchant_name: String,
    /// After this moment no new payment can start.
    pub expires_at: UnixSeconds,
    /// False on a sandbox server: nothing is really charged, and the
    /// component offers sandbox controls.
    pub livemode: bool,
    /// Open, or already paid or expired.
    #[serde(default)]
    pub status: SessionStatus,
    /// The intent that paid it, once completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paid_intent: Option<String>,
    /// The methods the merchant may take, in display order, each with the
    /// flow the server chose for this shopper's context.
    pub methods: Vec<PaymentMethod>,
}

/// Where a checkout session stands. A newer server may send a status not
/// listed here, which a client must accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    /// It can be paid.
    #[default]
    Open,
    /// It has been paid.
    Completed,
    /// It was not paid in time.
    Expired,
    /// A status this build does not know.
    #[serde(other)]
    Unknown,
}

impl SessionStatus {
    /// The wire name, such as `"completed"`.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionStatus::Open => "open",
            SessionStatus::Completed => "completed",
            SessionStatus::Expired => "expired",
            SessionStatus::Unknown => "unknown",
        }
    }
}

/// A session as its merchant reads it (with the secret key): how it
/// stands and, once paid, how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MerchantCheckoutSession {
    /// The session id.
    pub id: String,
    /// Open, completed or expired.
    pub status: SessionStatus,
    /// The order total.
    pub amount: Money,
    /// The merchant's order reference.
    pub reference: String,
    /// When it was opened.
    pub created_at: UnixSeconds,
    /// After this moment no new payment can start.
    pub expires_at: UnixSeconds,
    /// When it was paid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<UnixSeconds>,
    /// The payment that completed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment: Option<SessionPayment>,
}

/// The payment that completed a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionPayment {
    /// The intent that paid.
    pub intent_id: String,
    /// With which method.
    pub method: MethodKind,
    /// The provider's id for the payment (WeChat Pay's `transaction_id`).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub transaction_id: Option<String>,
}

/// One way to pay, as offered to this shopper.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PaymentMethod {
    /// Which institution.
    #[serde(rename = "type")]
    pub kind: MethodKind,
    /// How the hand-off will go for this shopper.
    pub flow: Flow,
    /// Whether it can be chosen here, and why not.
    pub availability: Availability,
}

/// A payment institution. A newer server may offer one not listed here: a
/// client that does not know it leaves it out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MethodKind {
    /// WeChat Pay (Weixin Pay).
    WechatPay,
    /// Alipay.
    Alipay,
    /// UnionPay online gateway.
    Unionpay,
    /// China Mobile's wallet (Hebao).
    ChinaMobilePay,
    /// A card, on a hosted card page.
    Card,
    /// One code on the desktop that WeChat, Alipay and UnionPay QuickPass
    /// can each scan: the wallet is known only when a phone scans it, and
    /// the intent's `method` then names it.
    AnyWallet,
    /// A kind this build does not know (a newer server); never chosen.
    #[serde(other)]
    Unsupported,
}

impl MethodKind {
    /// The wire name, such as `"wechat_pay"`.
    pub fn as_str(&self) -> &'static str {
        match self {
            MethodKind::WechatPay => "wechat_pay",
            MethodKind::Alipay => "alipay",
            MethodKind::Unionpay => "unionpay",
            MethodKind::ChinaMobilePay => "china_mobile_pay",
            MethodKind::Card => "card",
            MethodKind::AnyWallet => "any_wallet",
            MethodKind::Unsupported => "unsupported",
        }
    }
}

/// How a payment hands the shopper to the provider. A newer server may send
/// a flow not listed here, which a client must accept: the intent's
/// `next_action` still says what to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Flow {
    /// A QR code to scan with a phone (desktop).
    QrCode,
    /// A top-level navigation (GET or POST form) to the provider's page.
    Redirect,
    /// The WeChat JS bridge, inside the WeChat app.
    WechatJsapi,
    /// Alipay's JS bridge (`tradePay`), inside the Alipay app.
    AlipayTradePay,
    /// A flow this build does not know.
    #[serde(other)]
    Unsupported,
}

/// Whether a method can be chosen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Availability {
    /// It can be chosen.
    Available,
    /// It is shown but cannot be chosen, for a reason the shopper is told.
    Unavailable {
        /// Why not.
        reason: UnavailableReason,
        /// When it will become available (a switch-on date), if known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        available_from: Option<UnixSeconds>,
    },
}

impl Availability {
    /// Unavailable for `reason`, with no date.
    pub fn unavailable(reason: UnavailableReason) -> Availability {
        Availability::Unavailable {
            reason,
            available_from: None,
        }
    }
}

/// [`Availability`] as it arrives, decoded without serde's buffering of
/// internally tagged enums (see `WireNextAction`).
#[derive(Deserialize)]
struct WireAvailability {
    status: AvailabilityStatus,
    reason: Option<UnavailableReason>,
    available_from: Option<UnixSeconds>,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum AvailabilityStatus {
    Available,
    Unavailable,
}

impl<'de> Deserialize<'de> for Availability {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = WireAvailability::deserialize(deserializer)?;
        Ok(match wire.status {
            AvailabilityStatus::Available => Availability::Available,
            AvailabilityStatus::Unavailable => Availability::Unavailable {
                reason: wire
                    .reason
                    .ok_or_else(|| serde::de::Error::missing_field("reason"))?,
                available_from: wire.available_from,
            },
        })
    }
}

/// Why a method the merchant takes cannot be used here. A newer server may
/// send a reason not listed here: show the method as unavailable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum UnavailableReason {
    /// Alipay pages do not open inside the WeChat app.
    BlockedInWechat,
    /// WeChat Pay's pages do not complete inside the Alipay app.
    BlockedInAlipay,
    /// The merchant's switch-on for this method is still pending.
    NotYetEnabled,
    /// The amount is outside the method's limits.
    AmountOutOfRange,
    /// The currency is not taken by this method.
    CurrencyNotSupported,
    /// A reason this build does not know.
    #[serde(other)]
    Other,
}

/// What the browser tells the server about where the shopper is, so the
/// server can choose each method's flow. Sent as query parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema, utoipa::IntoParams),
    into_params(parameter_in = Query)
)]
pub struct ClientContext {
    /// Phone or desktop; desktop when absent.
    #[serde(default)]
    pub device: Device,
    /// The app whose built-in browser shows the page, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_app: Option<InApp>,
}

/// The shopper's kind of device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Device {
    /// A desktop or laptop browser: QR codes are scanned with a phone.
    #[default]
    Desktop,
    /// A phone browser: redirects, never a QR code to scan with itself.
    Mobile,
}

/// An app with its own built-in browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum InApp {
    /// WeChat's built-in browser.
    Wechat,
    /// Alipay's built-in browser.
    Alipay,
    /// UnionPay QuickPass (云闪付), or a bank's app that embeds it
    /// (`UnionPay/` in the user agent).
    Quickpass,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::Currency;

    #[test]
    fn a_session_has_this_shape() {
        let session = CheckoutSession {
            id: "cs_1".into(),
            amount: Money::new(12800, Currency::CNY),
            merchant_name: "Demo".into(),
            expires_at: 1_800_000_000,
            livemode: false,
            methods: vec![
                PaymentMethod {
                    kind: MethodKind::WechatPay,
                    flow: Flow::QrCode,
                    availability: Availability::Available,
                },
                PaymentMethod {
                    kind: MethodKind::Alipay,
                    flow: Flow::Redirect,
                    availability: Availability::unavailable(UnavailableReason::BlockedInWechat),
                },
                PaymentMethod {
                    kind: MethodKind::Unionpay,
                    flow: Flow::Redirect,
                    availability: Availability::Unavailable {
                        reason: UnavailableReason::NotYetEnabled,
                        available_from: Some(1_800_086_400),
                    },
                },
            ],
            status: SessionStatus::Open,
            paid_intent: None,
        };
        let expected = json!({
            "id": "cs_1",
            "amount": {"value": 12800, "currency": "CNY"},
            "merchant_name": "Demo",
            "expires_at": 1_800_000_000,
            "livemode": false,
            "status": "open",
            "methods": [
                {"type": "wechat_pay", "flow": "qr_code", "availability": {"status": "available"}},
                {"type": "alipay", "flow": "redirect",
                 "availability": {"status": "unavailable", "reason": "blocked_in_wechat"}},
                {"type": "unionpay", "flow": "redirect",
                 "availability": {"status": "unavailable", "reason": "not_yet_enabled",
                                  "available_from": 1_800_086_400}},
            ],
        });
        assert_eq!(serde_json::to_value(&session).unwrap(), expected);
        assert_eq!(
            serde_json::from_value::<CheckoutSession>(expected).unwrap(),
            session
        );
    }

    #[test]
    fn unknown_kinds_flows_and_reasons_from_a_newer_server_still_decode() {
        let method: PaymentMethod = serde_json::from_value(json!({
            "type": "paypay", "flow": "app_switch",
            "availability": {"status": "unavailable", "reason": "moon_phase"},
        }))
        .unwrap();
        assert_eq!(method.kind, MethodKind::Unsupported);
        assert_eq!(method.flow, Flow::Unsupported);
        assert_eq!(
            method.availability,
            Availability::unavailable(UnavailableReason::Other)
        );
    }

    #[test]
    fn method_kind_names_match_serde() {
        for kind in [
            MethodKind::WechatPay,
            MethodKind::Alipay,
            MethodKind::Unionpay,
            MethodKind::ChinaMobilePay,
            MethodKind::Card,
        ] {
            assert_eq!(serde_json::to_value(kind).unwrap(), json!(kind.as_str()));
        }
    }

    #[test]
    fn client_context_defaults_to_a_desktop_browser() {
        let context: ClientContext = serde_json::from_value(json!({"device": "desktop"})).unwrap();
        assert_eq!(context, ClientContext::default());
        let wechat = ClientContext {
            device: Device::Mobile,
            in_app: Some(InApp::Wechat),
        };
        assert_eq!(
            serde_json::to_value(wechat).unwrap(),
            json!({"device": "mobile", "in_app": "wechat"})
        );
    }
}
