use serde::{Deserialize, Serialize};

use crate::{ClientContext, MethodKind, Money, UnixSeconds};

/// The browser's request to start paying with one method. It names no amount:
/// the server takes it from the session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateIntent {
    /// The chosen method.
    pub method: MethodKind,
    /// Where the shopper is, so the server picks the flow.
    #[serde(default)]
    pub client: ClientContext,
}

/// One attempt to pay a session with one method.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PaymentIntent {
    /// The intent id (`pi_...`).
    pub id: String,
    /// The session it pays.
    pub session_id: String,
    /// The method chosen.
    pub method: MethodKind,
    /// The amount, copied from the session.
    pub amount: Money,
    /// Where it stands. Only the server moves it.
    pub status: IntentStatus,
    /// After this moment the attempt can no longer be paid.
    pub expires_at: UnixSeconds,
    /// What the browser must do next; present while `status` is
    /// `requires_action`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_action: Option<NextAction>,
    /// Why it failed, when `status` is `failed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<FailureReason>,
    // The merchant's fields below are never sent to a browser, so the
    // component's wasm does not carry their decoding (bytes it would ship
    // for nothing); everything else reads them.
    /// The provider's id for the payment, once paid; only in answers to
    /// the merchant (secret key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(target_arch = "wasm32", serde(skip_deserializing))]
    pub transaction_id: Option<String>,
    /// How much of the payment has been given back (refunds that
    /// succeeded), once paid; only in answers to the merchant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(target_arch = "wasm32", serde(skip_deserializing))]
    pub amount_refunded: Option<Money>,
    /// Why the payment waits for a person, when `status` is
    /// `requires_review`; only in answers to the merchant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(target_arch = "wasm32", serde(skip_deserializing))]
    pub review_reason: Option<ReviewReason>,
}

/// Why a payment waits for a person: the server cannot settle it by
/// itself, and has stopped trying.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReviewReason {
    /// The provider took another amount than the order's: look at the
    /// payment (its `transaction_id`) and refund what is due.
    AmountMismatch,
    /// The provider account the payment was made with is no longer in the
    /// server's configuration: nothing can be asked of it.
    ProviderMissing,
    /// A day after it ended, the provider has still not said how: it could
    /// not be reached, or its answers could not be read. Ask the provider's
    /// merchant platform.
    Unsettled,
    /// A reason this build does not know.
    #[serde(other)]
    Other,
}

/// Why an intent failed, for the shopper to be told in words. A newer server
/// may send a reason not listed here: tell the shopper the payment failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FailureReason {
    /// The shopper's wallet or bank declined the payment.
    Declined,
    /// The provider closed the order (it was revoked or ran out there).
    ClosedByProvider,
    /// The provider refused to start the payment.
    ProviderRefused,
    /// A reason this build does not know.
    #[serde(other)]
    Other,
}

/// Where a payment intent stands. A newer server may send a status not
/// listed here: treat it as undecided, and ask again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum IntentStatus {
    /// Waiting for the shopper: see `next_action`.
    RequiresAction,
    /// The shopper acted; the provider has not confirmed yet.
    Processing,
    /// Paid: confirmed by the provider to the server.
    Succeeded,
    /// The provider declined or the payment failed.
    Failed,
    /// Canceled by the shopper or the merchant.
    Canceled,
    /// Not paid in time.
    Expired,
    /// Paid after the session had already been paid by another intent: the
    /// provider took the money twice, and this payment must be given back
    /// (a webhook tells the merchant; the server refunds it by itself
    /// unless the merchant turned that off).
    RequiresRefund,
    /// A `requires_refund` payment, given back in full.
    Refunded,
    /// The provider reported something the server cannot settle by itself
    /// (see `review_reason`): a person must look. It is no longer payable,
    /// and nothing changes it but the merchant.
    RequiresReview,
    /// A status this build does not know (a newer server): ask again.
    #[serde(other)]
    Unknown,
}

impl IntentStatus {
    /// True when the status can no longer change.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            IntentStatus::Succeeded
                | IntentStatus::Failed
                | IntentStatus::Canceled
                | IntentStatus::Expired
                | IntentStatus::RequiresRefund
                | IntentStatus::Refunded
        )
    }

    /// True while the intent can still be paid.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            IntentStatus::RequiresAction | IntentStatus::Processing
        )
    }

    /// The wire name, such as `"requires_action"`.
    pub fn as_str(self) -> &'static str {
        match self {
            IntentStatus::RequiresAction => "requires_action",
            IntentStatus::Processing => "processing",
            IntentStatus::Succeeded => "succeeded",
            IntentStatus::Failed => "failed",
            IntentStatus::Canceled => "canceled",
            IntentStatus::Expired => "expired",
            IntentStatus::RequiresRefund => "requires_refund",
            IntentStatus::Refunded => "refunded",
            IntentStatus::RequiresReview => "requires_review",
            IntentStatus::Unknown => "unknown",
        }
    }
}

/// The hand-off: what the browser does to take the shopper to the provider.
/// Each flow is one variant; a component matches on all of them. A newer
/// server may send another `type`: offer the shopper another method then.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum NextAction {
    /// Show `payload` as a QR code for the shopper's phone to scan.
    DisplayQrCode {
        /// The text to encode (for WeChat Pay, the `code_url`).
        payload: String,
        /// When the code stops working; it cannot be extended.
        expires_at: UnixSeconds,
    },
    /// Send the whole page to the provider: a GET to `url`, or a POST form
    /// of `fields` to `url`.
    Redirect {
        /// Where to go.
        url: String,
        /// GET or POST.
        method: FormMethod,
        /// Form fields for a POST (empty for a GET), in order; a JSON
        /// object on the wire.
        #[serde(default, with = "form_fields")]
        #[cfg_attr(
            feature = "openapi",
            schema(value_type = std::collections::BTreeMap<String, String>)
        )]
        fields: Vec<(String, String)>,
    },
    /// Call `WeixinJSBridge.invoke('getBrandWCPayRequest', params)`.
    InvokeWechatJsapi {
        /// The bridge's arguments, as WeChat names them.
        params: WechatJsapiParams,
    },
    /// Call `AlipayJSBridge.call('tradePay', {tradeNO: trade_no})` (after
    /// `AlipayJSBridgeReady` if the bridge is not there yet).
    InvokeAlipayTradePay {
        /// Alipay's number for the trade to pay.
        trade_no: String,
    },
    /// A hand-off this build does not know (a newer server).
    Unsupported,
}

/// [`NextAction`] as it arrives: one flat object whose `type` says which
/// fields matter. Decoding through it, rather than serde's internally
/// tagged enums, keeps the component's wasm small (no buffering).
#[derive(Deserialize)]
struct WireNextAction {
    #[serde(rename = "type")]
    kind: NextActionType,
    payload: Option<String>,
    expires_at: Option<UnixSeconds>,
    url: Option<String>,
    method: Option<FormMethod>,
    #[serde(default, with = "form_fields")]
    fields: Vec<(String, String)>,
    params: Option<WechatJsapiParams>,
    trade_no: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum NextActionType {
    DisplayQrCode,
    Redirect,
    InvokeWechatJsapi,
    InvokeAlipayTradePay,
    #[serde(other)]
    Unsupported,
}

impl<'de> Deserialize<'de> for NextAction {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let wire = WireNextAction::deserialize(deserializer)?;
        let missing = |field| D::Error::missing_field(field);
        Ok(match wire.kind {
            NextActionType::DisplayQrCode => NextAction::DisplayQrCode {
                payload: wire.payload.ok_or_else(|| missing("payload"))?,
                expires_at: wire.expires_at.ok_or_else(|| missing("expires_at"))?,
            },
            NextActionType::Redirect => NextAction::Redirect {
                url: wire.url.ok_or_else(|| missing("url"))?,
                method: wire.method.ok_or_else(|| missing("method"))?,
                fields: wire.fields,
            },
            NextActionType::InvokeWechatJsapi => NextAction::InvokeWechatJsapi {
                params: wire.params.ok_or_else(|| missing("params"))?,
            },
            NextActionType::InvokeAlipayTradePay => NextAction::InvokeAlipayTradePay {
                trade_no: wire.trade_no.ok_or_else(|| missing("trade_no"))?,
            },
            NextActionType::Unsupported => NextAction::Unsupported,
        })
    }
}

/// Form fields: a JSON object on the wire, pairs in memory (a form needs
/// no sorted map, and the component's bundle no map code).
mod form_fields {
    use std::fmt;

    use serde::de::{MapAccess, Visitor};
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(fields: &[(String, String)], s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(fields.iter().map(|(name, value)| (name, value)))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(String, String)>, D::Error> {
        struct Pairs;
        impl<'de> Visitor<'de> for Pairs {
            type Value = Vec<(String, String)>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object of strings")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut pairs = Vec::new();
                while let Some(pair) = map.next_entry()? {
                    pairs.push(pair);
                }
                Ok(pairs)
            }
        }
        d.deserialize_map(Pairs)
    }
}

/// How a redirect goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "UPPERCASE")]
pub enum FormMethod {
    /// A plain navigation.
    Get,
    /// An auto-submitted form.
    Post,
}

/// The arguments of WeChat's `getBrandWCPayRequest`, named as WeChat names
/// them on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct WechatJsapiParams {
    /// The merchant's official-account app id.
    pub app_id: String,
    /// Unix seconds, as a string.
    pub time_stamp: String,
    /// A random string.
    pub nonce_str: String,
    /// `prepay_id=...`.
    pub package: String,
    /// `RSA`.
    pub sign_type: String,
    /// The signature over the other fields.
    pub pay_sign: String,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::Currency;

    fn intent(next_action: Option<NextAction>) -> PaymentIntent {
        PaymentIntent {
            id: "pi_1".into(),
            session_id: "cs_1".into(),
            method: MethodKind::WechatPay,
            amount: Money::new(12800, Currency::CNY),
            status: IntentStatus::RequiresAction,
            expires_at: 1_800_000_600,
            next_action,
            failure_reason: None,
            transaction_id: None,
            amount_refunded: None,
            review_reason: None,
        }
    }

    #[test]
    fn a_qr_intent_has_this_shape() {
        let value = serde_json::to_value(intent(Some(NextAction::DisplayQrCode {
            payload: "weixin://wxpay/bizpayurl?pr=abc".into(),
            expires_at: 1_800_007_200,
        })))
        .unwrap();
        assert_eq!(
            value,
            json!({
                "id": "pi_1",
                "session_id": "cs_1",
                "method": "wechat_pay",
                "amount": {"value": 12800, "currency": "CNY"},
                "status": "requires_action",
                "expires_at": 1_800_000_600,
                "next_action": {
                    "type": "display_qr_code",
                    "payload": "weixin://wxpay/bizpayurl?pr=abc",
                    "expires_at": 1_800_007_200,
                },
            })
        );
    }

    #[test]
    fn a_post_redirect_carries_its_fields_as_data() {
        let action = NextAction::Redirect {
            url: "https://gateway.test/frontTransReq.do".into(),
            method: FormMethod::Post,
            fields: vec![("txnAmt".into(), "12800".into())],
        };
        assert_eq!(
            serde_json::to_value(&action).unwrap(),
            json!({"type": "redirect", "url": "https://gateway.test/frontTransReq.do",
                   "method": "POST", "fields": {"txnAmt": "12800"}})
        );
    }

    #[test]
    fn jsapi_params_use_wechat_names() {
        let action = NextAction::InvokeWechatJsapi {
            params: WechatJsapiParams {
                app_id: "wx1".into(),
                time_stamp: "1800000000".into(),
                nonce_str: "n".into(),
                package: "prepay_id=p".into(),
                sign_type: "RSA".into(),
                pay_sign: "s".into(),
            },
        };
        assert_eq!(
            serde_json::to_value(&action).unwrap(),
            json!({"type": "invoke_wechat_jsapi", "params": {
                "appId": "wx1", "timeStamp": "1800000000", "nonceStr": "n",
                "package": "prepay_id=p", "signType": "RSA", "paySign": "s"}})
        );
    }

    #[test]
    fn a_finished_intent_has_no_next_action() {
        let mut paid = intent(None);
        paid.status = IntentStatus::Succeeded;
        let value = serde_json::to_value(&paid).unwrap();
        assert!(value.get("next_action").is_none());
        assert_eq!(value["status"], "succeeded");
    }

    #[test]
    fn every_hand_off_decodes_back_to_itself() {
        let actions = [
            NextAction::DisplayQrCode {
                payload: "weixin://x".into(),
                expires_at: 7,
            },
            NextAction::Redirect {
                url: "https://pay.test/".into(),
                method: FormMethod::Get,
                fields: vec![],
            },
            NextAction::InvokeWechatJsapi {
                params: WechatJsapiParams {
                    app_id: "wx1".into(),
                    time_stamp: "1".into(),
                    nonce_str: "n".into(),
                    package: "prepay_id=p".into(),
                    sign_type: "RSA".into(),
                    pay_sign: "s".into(),
                },
            },
            NextAction::InvokeAlipayTradePay {
                trade_no: "2026120622001400000000000001".into(),
            },
        ];
        for action in actions {
            let json = serde_json::to_value(&action).unwrap();
            assert_eq!(serde_json::from_value::<NextAction>(json).unwrap(), action);
        }
    }

    #[test]
    fn a_hand_off_missing_its_fields_is_refused() {
        let error = serde_json::from_value::<NextAction>(json!({"type": "display_qr_code"}))
            .unwrap_err()
            .to_string();
        assert!(error.contains("payload"), "{error}");
        assert!(
            serde_json::from_value::<NextAction>(json!({"type": "redirect", "url": "x"})).is_err()
        );
    }

    #[test]
    fn an_unknown_hand_off_decodes_as_unsupported() {
        let action: NextAction =
            serde_json::from_value(json!({"type": "app_switch", "deeplink": "x://"})).unwrap();
        assert_eq!(action, NextAction::Unsupported);
    }

    #[test]
    fn final_statuses() {
        use IntentStatus::*;
        let finals: Vec<_> = [
            RequiresAction,
            Processing,
            Succeeded,
            Failed,
            Canceled,
            Expired,
        ]
        .into_iter()
        .filter(|s| s.is_final())
        .collect();
        assert_eq!(finals, [Succeeded, Failed, Canceled, Expired]);
        assert!(RequiresRefund.is_final() && !RequiresRefund.is_open());
        assert!(Refunded.is_final() && !Refunded.is_open());
        assert!(
            !RequiresReview.is_final() && !RequiresReview.is_open(),
            "neither payable nor settled: a person decides"
        );
        assert!(!Unknown.is_final() && !Unknown.is_open());
    }

    #[test]
    fn statuses_and_reasons_from_a_newer_server_still_decode() {
        let intent: PaymentIntent = serde_json::from_value(json!({
            "id": "pi_1", "session_id": "cs_1", "method": "wechat_pay",
            "amount": {"value": 1, "currency": "CNY"}, "status": "disputed",
            "expires_at": 7, "failure_reason": "moon_phase",
        }))
        .unwrap();
        assert_eq!(intent.status, IntentStatus::Unknown);
        assert_eq!(intent.failure_reason, Some(FailureReason::Other));
        for status in [
            IntentStatus::RequiresAction,
            IntentStatus::Processing,
            IntentStatus::Succeeded,
            IntentStatus::Failed,
            IntentStatus::Canceled,
            IntentStatus::Expired,
            IntentStatus::RequiresRefund,
            IntentStatus::Refunded,
            IntentStatus::RequiresReview,
        ] {
            assert_eq!(
                serde_json::to_value(status).unwrap(),
                json!(status.as_str())
            );
        }
    }
}
