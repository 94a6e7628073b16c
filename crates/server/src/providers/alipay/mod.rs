//! Alipay, through its OpenAPI gateway (`gateway.do`): which call for which
//! flow (`alipay.trade.precreate` for a QR code on a desktop,
//! `alipay.trade.wap.pay` for a phone browser, `alipay.trade.create` with
//! the buyer's id inside the Alipay app, after `auth_base` authorisation),
//! every request signed RSA2 with the application's key, every answer,
//! return and notification verified with Alipay's key; query, close and
//! refunds by `out_trade_no` (and `out_request_no`). It talks to the hosts
//! its configuration names: Alipay's, or the sandbox's emulator.
//!
//! What Alipay allows, and how the server lives with it:
//! - A precreated code has no trade until a phone scans it: asking about
//!   it answers `ACQ.TRADE_NOT_EXIST` (still waiting), and it cannot be
//!   closed then; a code left unscanned stays payable until its
//!   `time_expire`, and a payment it takes after the shopper moved on is
//!   given back (the one-payment-per-session rule and automatic refunds).
//! - `WAIT_BUYER_PAY` with a buyer means the shopper has the trade in the
//!   app and is confirming (`processing`); without one, merely open.
//! - A refund answered with `fund_change` `N` is followed by
//!   `alipay.trade.fastpay.refund.query` until money has moved.

pub mod signature;
mod transformers;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use contract::{Flow, FormMethod, MethodKind, NextAction, RefundFailureReason};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::value::RawValue;

use self::transformers as wire;
use super::rsa::{SigningKey, VerifyingKey};
use super::{
    Closed, HandOff, Notification, Notified, OrderRef, Provider, ProviderError, ProviderOrder,
    ProviderRefund, ProviderStatus, RefundRef, RefundState,
};
use crate::clock::Clock;
use crate::config::{pem_text, AlipayConfig, ConfigError};

/// A `qr_code` is valid two hours, whatever the trade's own limit.
const QR_CODE_SECONDS: i64 = 2 * 60 * 60;

/// How long a signed `wap.pay` form is handed out before it is signed
/// again (the gateway checks its `timestamp`).
const WAP_FORM_SECONDS: i64 = 5 * 60;

/// The answer code of a successful call.
const SUCCESS: &str = "10000";

/// The answer code of a gateway that is unavailable for now.
const SERVICE_UNAVAILABLE: &str = "20000";

/// The answer code of a call over the application's rate limit
/// (`isv.app-call-limited` and its kin).
const CALL_LIMITED: &str = "40005";

/// Sub-codes of a passing condition: the call is to be made again.
const TRANSIENT_SUB_CODES: [&str; 3] = [
    "ACQ.SYSTEM_ERROR",
    "aop.ACQ.SYSTEM_ERROR",
    "ACQ.SELLER_BALANCE_NOT_ENOUGH",
];

/// One Alipay application (one merchant's).
pub struct Alipay {
    app_id: String,
    seller_id: String,
    key: SigningKey,
    alipay: VerifyingKey,
    gateway: String,
    authorize: String,
    http: reqwest::Client,
    clock: Arc<dyn Clock>,
}

/// A gateway answer whose signature verified: its common fields, and its
/// object's text.
struct Answer {
    common: wire::Common,
    object: String,
}

impl Alipay {
    /// An adapter for this application.
    pub fn new(config: &AlipayConfig, clock: Arc<dyn Clock>) -> Result<Alipay, ConfigError> {
        let key = SigningKey::from_pem(&pem_text(&config.app_private_key)?)
            .map_err(|e| ConfigError::Invalid(format!("alipay app_private_key: {e}")))?;
        let alipay = VerifyingKey::from_pem(&pem_text(&config.alipay_public_key)?)
            .map_err(|e| ConfigError::Invalid(format!("alipay alipay_public_key: {e}")))?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| ConfigError::Invalid(format!("an HTTP client: {e}")))?;
        Ok(Alipay {
            app_id: config.app_id.clone(),
            seller_id: config.seller_id.clone(),
            key,
            alipay,
            gateway: config.gateway_url.clone(),
            authorize: config.authorize_url.clone(),
            http,
            clock,
        })
    }

    /// The common parameters of a request of `method`, `extra` and
    /// `biz_content`, signed.
    fn signed(
        &self,
        method: &str,
        extra: &[(&str, &str)],
        biz: Option<String>,
    ) -> Result<Vec<(String, String)>, ProviderError> {
        let mut params: Vec<(String, String)> = [
            ("app_id", self.app_id.as_str()),
            ("method", method),
            ("format", "JSON"),
            ("charset", "utf-8"),
            ("sign_type", "RSA2"),
            ("version", "1.0"),
        ]
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect();
        params.push(("timestamp".into(), wire::alipay_time(self.clock.now())));
        params.extend(
            extra
                .iter()
                .filter(|(_, value)| !value.is_empty())
                .map(|(name, value)| (name.to_string(), value.to_string())),
        );
        if let Some(biz) = biz {
            params.push(("biz_content".into(), biz));
        }
        let sign = signature::sign(&self.key, &params)
            .map_err(|e| ProviderError::BadAnswer(e.to_string()))?;
        params.push(("sign".into(), sign));
        Ok(params)
    }

    /// Calls `method` at the gateway and answers its verified object: a
    /// failure Alipay signed is a refusal (or, for a passing condition,
    /// "unavailable"); anything unsigned or unverified changes nothing.
    async fn call<B: Serialize>(
        &self,
        method: &str,
        extra: &[(&str, &str)],
        biz: Option<&B>,
    ) -> Result<Answer, ProviderError> {
        let biz = match biz {
            Some(biz) => Some(
                serde_json::to_string(biz).map_err(|e| ProviderError::BadAnswer(e.to_string()))?,
            ),
            None => None,
        };
        let params = self.signed(method, extra, biz)?;
        let answer = self
            .http
            .post(&self.gateway)
            .header(
                header::CONTENT_TYPE,
                "application/x-www-form-urlencoded;charset=utf-8",
            )
            .body(form(&params))
            .send()
            .await
            .map_err(unreachable)?;
        let status = answer.status();
        let text = answer.text().await.map_err(unreachable)?;
        if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
            return Err(ProviderError::Unavailable(status.to_string()));
        }
        self.verified(method, &text)
    }

    /// The object of an answer to `method`, once its signature verifies.
    fn verified(&self, method: &str, text: &str) -> Result<Answer, ProviderError> {
        let bad = |why: String| ProviderError::BadAnswer(why);
        let envelope: BTreeMap<String, Box<RawValue>> =
            serde_json::from_str(text).map_err(|e| bad(format!("not a gateway answer: {e}")))?;
        let key = format!("{}_response", method.replace('.', "_"));
        let (object, failed) = match (envelope.get(&key), envelope.get("error_response")) {
            (Some(object), _) => (object.get().to_owned(), false),
            (None, Some(error)) => (error.get().to_owned(), true),
            (None, None) => return Err(bad(format!("no {key}"))),
        };
        let common: wire::Common =
            serde_json::from_str(&object).map_err(|e| bad(format!("{key}: {e}")))?;
        if failed && common.code == SUCCESS {
            return Err(bad("an error_response without an error code".into()));
        }
        let sign = envelope
            .get("sign")
            .and_then(|raw| serde_json::from_str::<String>(raw.get()).ok());
        let verified = sign
            .as_deref()
            .is_some_and(|sign| self.alipay.verifies(object.as_bytes(), sign));
        if !verified {
            // Unsigned, Alipay's own trouble is only the gateway's; any
            // other unsigned word could be anyone's.
            if common.code == SERVICE_UNAVAILABLE && sign.is_none() {
                return Err(ProviderError::Unavailable(said(&common)));
            }
            return Err(bad(format!(
                "an answer whose signature does not verify ({})",
                said(&common)
            )));
        }
        if common.code == SUCCESS {
            return Ok(Answer { common, object });
        }
        let sub_code = common.sub_code.as_deref().unwrap_or_default();
        if common.code == SERVICE_UNAVAILABLE || TRANSIENT_SUB_CODES.contains(&sub_code) {
            return Err(ProviderError::Unavailable(said(&common)));
        }
        if common.code == CALL_LIMITED {
            return Err(ProviderError::Busy {
                said: said(&common),
                retry_after: None,
            });
        }
        Err(ProviderError::Refused {
            code: common.sub_code.clone().unwrap_or(common.code.clone()),
            message: common
                .sub_msg
                .clone()
                .or(common.msg.clone())
                .unwrap_or_default(),
        })
    }

    fn parse<T: DeserializeOwned>(answer: &Answer) -> Result<T, ProviderError> {
        serde_json::from_str(&answer.object)
            .map_err(|e| ProviderError::BadAnswer(format!("{}: {e}", answer.common.code)))
    }

    /// An answer is about the trade asked about.
    fn check_trade(said: &str, asked: &str) -> Result<(), ProviderError> {
        if said != asked {
            return Err(ProviderError::BadAnswer(format!(
                "asked about {asked}, told about {said}"
            )));
        }
        Ok(())
    }
}

/// An answer's code and words, for the logs.
fn said(common: &wire::Common) -> String {
    format!(
        "{} {} {} {}",
        common.code,
        common.msg.as_deref().unwrap_or_default(),
        common.sub_code.as_deref().unwrap_or_default(),
        common.sub_msg.as_deref().unwrap_or_default()
    )
    .trim()
    .to_owned()
}

/// Parameters as a form body.
fn form(params: &[(String, String)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish()
}

/// A request that got no answer (without its URL: it holds nothing
/// secret here, but the logs need none of it).
fn unreachable(error: reqwest::Error) -> ProviderError {
    ProviderError::Unavailable(error.without_url().to_string())
}

fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[async_trait::async_trait]
impl Provider for Alipay {
    fn method(&self) -> MethodKind {
        MethodKind::Alipay
    }

    fn name(&self) -> &'static str {
        "alipay"
    }

    fn account(&self) -> String {
        format!("alipay:{}", self.app_id)
    }

    fn supports(&self, flow: Flow) -> bool {
        matches!(flow, Flow::QrCode | Flow::Redirect | Flow::AlipayTradePay)
    }

    fn payer_authorization(&self, flow: Flow, callback: &str, state: &str) -> Option<String> {
        (flow == Flow::AlipayTradePay).then(|| {
            format!(
                "{}?app_id={}&scope=auth_base&redirect_uri={}&state={}",
                self.authorize,
                encode(&self.app_id),
                encode(callback),
                encode(state)
            )
        })
    }

    async fn payer_id(&self, code: &str) -> Result<String, ProviderError> {
        let answer = self
            .call::<()>(
                "alipay.system.oauth.token",
                &[("grant_type", "authorization_code"), ("code", code)],
                None,
            )
            .await?;
        let token: wire::Token = Self::parse(&answer)?;
        token
            .user_id
            .or(token.open_id)
            .ok_or_else(|| ProviderError::BadAnswer("a token without the buyer's id".into()))
    }

    async fn create(&self, order: &ProviderOrder) -> Result<HandOff, ProviderError> {
        let now = self.clock.now();
        let total_amount = wire::yuan(&order.amount)?;
        let time_expire = wire::alipay_time(order.time_expire);
        match order.flow {
            Flow::QrCode => {
                let biz = wire::Precreate {
                    out_trade_no: &order.out_trade_no,
                    total_amount,
                    subject: &order.description,
                    time_expire,
                };
                let answer = self
                    .call(
                        "alipay.trade.precreate",
                        &[("notify_url", &order.notify_url)],
                        Some(&biz),
                    )
                    .await?;
                let precreated: wire::PrecreateAnswer = Self::parse(&answer)?;
                Self::check_trade(&precreated.out_trade_no, &order.out_trade_no)?;
                Ok(HandOff {
                    action: NextAction::DisplayQrCode {
                        payload: precreated.qr_code,
                        expires_at: (now + QR_CODE_SECONDS).min(order.time_expire),
                    },
                    renew_at: None,
                })
            }
            Flow::Redirect => {
                // Not a call: the shopper's browser carries the signed
                // request to the gateway, which shows Alipay's cashier.
                let biz = wire::WapPay {
                    out_trade_no: &order.out_trade_no,
                    total_amount,
                    subject: &order.description,
                    product_code: "QUICK_WAP_WAY",
                    quit_url: &order.return_url,
                    time_expire,
                };
                let biz = serde_json::to_string(&biz)
                    .map_err(|e| ProviderError::BadAnswer(e.to_string()))?;
                let fields = self.signed(
                    "alipay.trade.wap.pay",
                    &[
                        ("notify_url", &order.notify_url),
                        ("return_url", &order.return_url),
                    ],
                    Some(biz),
                )?;
                Ok(HandOff {
                    action: NextAction::Redirect {
                        url: format!("{}?charset=utf-8", self.gateway),
                        method: FormMethod::Post,
                        fields,
                    },
                    // The form's `timestamp` is checked when the browser
                    // brings it: a form kept longer is signed again.
                    renew_at: Some(now + WAP_FORM_SECONDS),
                })
            }
            Flow::AlipayTradePay => {
                let payer = order
                    .payer_id
                    .as_deref()
                    .ok_or_else(|| ProviderError::Refused {
                        code: "MISSING_BUYER".into(),
                        message: "trade.create needs the buyer's id".into(),
                    })?;
                // A `2088…` user id, or an open id (applications created
                // since Alipay moved to them).
                let user_id = payer.len() == 16 && payer.starts_with("2088");
                let biz = wire::Create {
                    out_trade_no: &order.out_trade_no,
                    total_amount,
                    subject: &order.description,
                    product_code: "JSAPI_PAY",
                    time_expire,
                    buyer_id: user_id.then_some(payer),
                    buyer_open_id: (!user_id).then_some(payer),
                };
                let answer = self
                    .call(
                        "alipay.trade.create",
                        &[("notify_url", &order.notify_url)],
                        Some(&biz),
                    )
                    .await?;
                let created: wire::CreateAnswer = Self::parse(&answer)?;
                Self::check_trade(&created.out_trade_no, &order.out_trade_no)?;
                Ok(HandOff {
                    action: NextAction::InvokeAlipayTradePay {
                        trade_no: created.trade_no,
                    },
                    renew_at: None,
                })
            }
            Flow::WechatJsapi | Flow::Unsupported => Err(ProviderError::Refused {
                code: "UNSUPPORTED_FLOW".into(),
                message: "not an Alipay flow".into(),
            }),
        }
    }

    async fn query(&self, order: OrderRef<'_>) -> Result<ProviderStatus, ProviderError> {
        let out_trade_no = order.out_trade_no;
        let biz = wire::TradeRef { out_trade_no };
        match self.call("alipay.trade.query", &[], Some(&biz)).await {
            Ok(answer) => {
                let trade: wire::Trade = Self::parse(&answer)?;
                Self::check_trade(&trade.out_trade_no, out_trade_no)?;
                wire::status(&trade, None)
            }
            // A precreated code not scanned yet, or a cashier not opened.
            Err(ProviderError::Refused { code, .. }) if code == "ACQ.TRADE_NOT_EXIST" => {
                Ok(ProviderStatus::NotFound)
            }
            Err(error) => Err(error),
        }
    }

    async fn close(&self, order: OrderRef<'_>) -> Result<Closed, ProviderError> {
        let out_trade_no = order.out_trade_no;
        let biz = wire::TradeRef { out_trade_no };
        match self.call("alipay.trade.close", &[], Some(&biz)).await {
            Ok(_) => Ok(Closed::Closed),
            // A code not scanned, a cashier not opened: no trade to close,
            // though one can still be made and paid until `time_expire`.
            Err(ProviderError::Refused { code, .. }) if code == "ACQ.TRADE_NOT_EXIST" => {
                Ok(Closed::NotYet)
            }
            // Not waiting for its buyer: paid, or closed already; the
            // caller asks which.
            Err(ProviderError::Refused { code, .. })
                if code == "ACQ.TRADE_STATUS_ERROR"
                    || code == "ACQ.REASON_TRADE_STATUS_INVALID" =>
            {
                Ok(Closed::AlreadyPaid)
            }
            Err(error) => Err(error),
        }
    }

    async fn refund(&self, refund: &ProviderRefund) -> Result<RefundState, ProviderError> {
        let biz = wire::Refund {
            out_trade_no: &refund.out_trade_no,
            refund_amount: wire::yuan(&refund.amount)?,
            out_request_no: &refund.out_refund_no,
            refund_reason: refund.reason.as_deref(),
        };
        let answer = self.call("alipay.trade.refund", &[], Some(&biz)).await?;
        let refunded: wire::RefundAnswer = Self::parse(&answer)?;
        Self::check_trade(&refunded.out_trade_no, &refund.out_trade_no)?;
        Ok(match refunded.fund_change.as_deref() {
            Some("Y") => RefundState::Succeeded,
            // No money moved with this answer: it may have moved with an
            // earlier one, or be on its way; the refund query says.
            _ => RefundState::Pending,
        })
    }

    async fn refund_status(
        &self,
        order: OrderRef<'_>,
        refund: RefundRef<'_>,
    ) -> Result<RefundState, ProviderError> {
        let (out_trade_no, out_refund_no) = (order.out_trade_no, refund.out_refund_no);
        let biz = wire::RefundQuery {
            out_trade_no,
            out_request_no: out_refund_no,
        };
        let answer = self
            .call("alipay.trade.fastpay.refund.query", &[], Some(&biz))
            .await?;
        let found: wire::RefundQueryAnswer = Self::parse(&answer)?;
        let ours = found.out_request_no.as_deref() == Some(out_refund_no)
            && found
                .out_trade_no
                .as_deref()
                .is_none_or(|no| no == out_trade_no);
        if found.refund_amount.is_none() {
            // Nothing found: the request never arrived.
            return Ok(RefundState::NotFound);
        }
        if !ours {
            return Err(ProviderError::BadAnswer(format!(
                "asked about refund {out_refund_no} of {out_trade_no}, told about another"
            )));
        }
        Ok(match found.refund_status.as_deref() {
            Some("REFUND_SUCCESS") => RefundState::Succeeded,
            // Without a status the request was not received, failed, or is
            // not done yet: asked for again with the same `out_request_no`,
            // which Alipay refunds at most once.
            None => RefundState::NotFound,
            Some("REFUND_FAIL") => RefundState::Failed(RefundFailureReason::ProviderRefused),
            _ => RefundState::Pending,
        })
    }

    fn parse_notification(
        &self,
        _headers: &HeaderMap,
        body: &[u8],
    ) -> Result<Notification, ProviderError> {
        let bad = |why: String| ProviderError::BadNotification(why);
        let params: Vec<(String, String)> = url::form_urlencoded::parse(body)
            .map(|(name, value)| (name.into_owned(), value.into_owned()))
            .collect();
        // The signed text leaves empty fields out, so a field sent twice,
        // or an empty one added, would be unsigned words: refused, and
        // empty fields read as absent.
        if !super::wire::names_once(&params) {
            return Err(bad("a field sent twice".into()));
        }
        if !signature::notification_verifies(&self.alipay, &params) {
            return Err(bad("the signature does not verify".into()));
        }
        let get = |name: &str| {
            params
                .iter()
                .find(|(key, value)| key == name && !value.is_empty())
                .map(|(_, value)| value.as_str())
        };
        if get("notify_type") != Some("trade_status_sync") {
            return Err(bad("not a trade notification".into()));
        }
        if get("app_id") != Some(self.app_id.as_str())
            || get("seller_id") != Some(self.seller_id.as_str())
        {
            return Err(bad("a notification of another application or seller".into()));
        }
        let id = get("notify_id").ok_or_else(|| bad("no notify_id".into()))?;
        let out_trade_no = get("out_trade_no").ok_or_else(|| bad("no out_trade_no".into()))?;
        let trade_status = get("trade_status").ok_or_else(|| bad("no trade_status".into()))?;
        // A refund's notification names its request (`out_biz_no`) and
        // what it gave back.
        if let (Some(out_biz_no), Some(_)) = (get("out_biz_no"), get("refund_fee")) {
            return Ok(Notification {
                id: id.to_owned(),
                out_trade_no: out_trade_no.to_owned(),
                about: Notified::Refund {
                    out_refund_no: out_biz_no.to_owned(),
                    state: RefundState::Succeeded,
                },
            });
        }
        let trade = wire::Trade {
            out_trade_no: out_trade_no.to_owned(),
            trade_no: get("trade_no").map(str::to_owned),
            trade_status: trade_status.to_owned(),
            total_amount: get("total_amount").map(str::to_owned),
            buyer_logon_id: get("buyer_logon_id").map(str::to_owned),
            buyer_user_id: get("buyer_id").map(str::to_owned),
            buyer_open_id: get("buyer_open_id").map(str::to_owned),
        };
        Ok(Notification {
            id: id.to_owned(),
            out_trade_no: out_trade_no.to_owned(),
            about: Notified::Payment(wire::status(&trade, None).map_err(|e| bad(e.to_string()))?),
        })
    }

    fn notification_answer(&self, refused: Option<&str>) -> Response {
        // Alipay reads the body: `success` stops it, anything else has it
        // send the notification again.
        let body = if refused.is_some() { "fail" } else { "success" };
        (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            body,
        )
            .into_response()
    }
}

#[cfg(test)]
mod tests {
    //! The published vectors of Alipay's official SDKs: alipay-sdk-java-all
    //! (`RSACheckTest`, its `ProdCert` fixture key) for request signatures,
    //! alipay-sdk-nodejs-all (v4.14.0 `test/alipay.test.ts` and fixtures)
    //! for a notification and a gateway answer.

    use super::*;
    use crate::clock::SystemClock;

    /// alipay-sdk-java-all `src/test/resources/fixture/privateKey.json`,
    /// `ProdCert`: PKCS#8, bare base64, as Alipay's console gives keys.
    const JAVA_PRIVATE_KEY: &str = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCO5ajRITPs5rqH3bsMUQvx3gHGFtUtf2JqERBe9RFdm7eMXsXLNKd4TxhMTNSF7q+xxGX3NY7Kvu1NpIUaDRFbGnQWTLFT07XN2oroh1jf4FIkm+LjP4ZwEUElLdTO5hF8aSUc9JFibElKo3MdgaL7tNHBhWyGRl7/x/OkMwXz6UXfagE99K30omW9wo7YnlTE6utMJliHXfP9a2aRsvhBFwRhpFzkKBkwYFF6H0CM8K1ooAEzbf/jYMetLjjTHiUy5NUWKPtRf1doljYLBAqoVOtvN4kOknI5lIazlVbodtEzkmhcdsXMzQtQsOaj/oRrSE52LhiEw1cUoaNZPtOFAgMBAAECggEAYwQ4alE7jdiDQEogpnQydrKDQCPqK9Cs/Ro94c6m7dpM4XN6U0h1EySbjaNfUD8Id4HDtfziqRKLlNV/dYHAmQRHlHwoFBILVE0vG9lNeDQUN1HdceI+4cDTB1Qutf8t9qtVEC9X3n9yecmwpq2BpjCxeAtgG9r/UPXYmdrRMSVWGp/bpGjmbhm1EtEtCPKjkzSC0WdALvFosK1xnjHFwCcT+R4r2N7GKE0HyvjP0PQFRuR4/7oA4MuLhgzLfxbeWS8sDci1PhW7PolSVb1jp0v7HQ85qtx3NCgezBqAc+OtpmM3ZN/DUz062IxJFs9Rhl77PiRyJegULSuOBoYtsQKBgQDFDThfBLzByYCV7Oca5IUODyT7wiKBUhC6qBuNWmfEsGfGMw06d2twemFG98/KBDV8kcYGK5XL/6dpsPDEZFPV65vc7A9f2KnglaFyaPKduA8msRaxxLp5Oj/Nwuvnd0rTL2TPK0t8JH1oo8LDdAvh449P89yzTqB3L8+ioq7XTwKBgQC5pSE0hUYFsx/9bgMHB4PuN4r1WJNhGy5J5SQABmklnnUWiiCtt0rE23//tT7UICB4AqePt+Qa7zjEjV1DTIZccmPuX2yje9ayZbPXJLJT/tGawBlzuO5aLjbfkMDQy67nV8NE8rZ7c5aQLNsv3XA1fucwLauc2XJkvwHJ88Jy6wKBgQC5hhvn4ibxcQ0emwBvom3fccTJP9uK1EAp7TKboF2IounhgplWza6bJK3HynOZaOMO2JSPpKORgK8XZF8bGLaR9xU1KA/FltFCQL7TYBnlArFJJXwPfQBwOLZvvLCsqfUJ5lpMbx/Pzu9AAMbTjMPPNpfsl9XYABQ2gw5DulVRIwKBgF0x7I11KkXKOpD7HUH2H+ECuRuZr8Lb5kzqXzwz+60K8zSxet46WaqhloxD7JqI1kPo8T1Qz45F8XWakesrC3h1ZH1SIjOgA5PjQnkKzwsjrQ3GygAyIlXbRWjOPj2TQuaYRErknX8z863FFvPccmwonN6uzqwa7TZuPPOpD0CpAoGAG8HpnPrWT93skha2o9CT2ISnptlAts6a2wcMGrKgM77zQiFpR/P/eHcJTyJdlp8ap6sEGIwQM430CqR41Za/0L/uRkbGi2gjBcdz+2OlyvsWIhPAWAGqI4lYB7K/NWtzSBvI8Zdzw4brAgH9GrbIBqd/VV81KXf13kBnsRjBwA0=";

    /// `RSACheckTest.should_pass_rsa_check_when_sign_type_is_rsa2`.
    const JAVA_SIGNATURE_1: &str = "JzoDc8VxY1/w6yN9WdWV10aipS3YcRpK+jw4xfLybf90ZK9L3AHLUJbNLWVnHW3IuLoJbBeSGVxSbPBhe4ggPklcYUkPowgtlZ6YlthuQDtjF23h2obXuXkQRd+RPbDWvOA5AYQjsKH8uSHil5aRARewPIPhukl9Mn4HEovUccsBR/RirQFSGmGYiMM0zvhVSR7pXZDEhiADzvzAkvVVTI1/HbNqcoBU4ctSPAGsuDPO/mah1+IwGQAuPP6xoEPL+3zQ0wztQCwHT2o8aQmxFJ9a09q8ybRprHaNjCgTaLDeTWE0o1pllZIE8c7wnG3cOuj6quYjTcQyLm6P4M87Zw==";

    /// `RSACheckTest.should_pass_rsa_check_when_charset_is_utf8`.
    const JAVA_SIGNATURE_2: &str = "KrRGUY3/2JX3KtlLgus8CbK0xuUIBDCpOdJkVzJDefez6HvlA8RA6uCVj2rrMd7DgVfarG5SROdSnkZbf8MLKHbVoFqi9w0QCvto9mc8n3ezfWejZECJVCZhbJ3OslB+4gij9+F70usrnCNEJZm02ntyNdVzcqMbgdRMB93BJIRC1jjmCotpXgXWrRdTb/SfhIAkoHqgGi2aCUHuLDInLGZCn8NeziGWMnFOic6/sE/nMpwriOmwLb2nyzD0fGiolwuuxlOGMcBHAb22J8XqchFHyCpbs2A/rWdJMjhUfqsErbtZQM93fi1xfL2pUa9RMWX0Q81Qk7iSEeHCR+NGyQ==";

    /// alipay-sdk-nodejs-all `test/alipay.test.ts`, "verify sign should
    /// delete sign_type": Alipay's key, inline in the test.
    const NODE_NOTIFY_PUBLIC_KEY: &str = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAqObrdC7hrgAVM98tK0nv3hSQRGGKT4lBsQjHiGjeYZjOPIPHR5knm2jnnz/YGIXIofVHkA/tAlBAd5DrY7YpvI4tP5EONLtZKC2ghBMx7McI2wRD0xiqzxOQr1FuhZGJ8/AUokBzJrzY+aGX2xcOrxFYRlFilvVLTXg4LWjR1tdPkO6+i7wQZAIVMClPkwVRZEbaERRHlKqTzv2gGv5rDU8gRoe1LeaN+6BlbTqHWkQcNCUNrA8C6l17XAXGKDsm/9TFWwO8EPHHHCaQdjtV5/FdcWIt+L8SR1ss7EXTjYDFtxcKVv9rEoY1lX8T4mX+GbXfZHraG5NCF1+XioL5JwIDAQAB";

    /// That test's payment notification, field by field.
    fn node_notification() -> Vec<(String, String)> {
        [
            ("gmt_create", "2019-08-15 15:56:22"),
            ("charset", "utf-8"),
            ("seller_email", "z97-yuquerevenue@service.aliyun.com"),
            ("subject", "语雀空间 500人规模"),
            ("sign", "QfTb8tqE1BMhS5qAnXtvsF3/jBkEvu9q9en0pdbBUDDjvKycZhQb7h8GDs4FKfi049PynaNuatxSgLb/nLWZpXyyh0LEWdK2S6Ri7nPwrVgOs08zugLO20vOQz44y3ti2Ncm8/wZts1Fr2gZ7pShnVX3d1B50hbsXnObT1r/U8ONNQjWXd0HIul4TG+Q3fm3svmSvFEy0WnzuhcyHPX5Gm4ELNctL6Qd5YniGJFNcc7kopHYtI/XD9YCKCH6Ct02rzUs9i11C9CsadtZn+WhxF26Dqt9sGEFajkJ8cxUTLi8+VCpLHsgPE8P0y095uQcDdK0YjCh4x7wVSov+lrmOQ=="),
            ("buyer_id", "2088102534368455"),
            ("invoice_amount", "0.10"),
            ("notify_id", "2019081500222155624068450559358070"),
            ("fund_bill_list", r#"[{"amount":"0.10","fundChannel":"ALIPAYACCOUNT"}]"#),
            ("notify_type", "trade_status_sync"),
            ("trade_status", "TRADE_SUCCESS"),
            ("receipt_amount", "0.10"),
            ("buyer_pay_amount", "0.10"),
            ("sign_type", "RSA2"),
            ("app_id", "2019073166072302"),
            ("seller_id", "2088531891668739"),
            ("gmt_payment", "2019-08-15 15:56:24"),
            ("notify_time", "2019-08-15 15:56:25"),
            ("version", "1.0"),
            ("out_trade_no", "20190815155618536-564-57"),
            ("total_amount", "0.10"),
            ("trade_no", "2019081522001468450512505578"),
            ("auth_app_id", "2019073166072302"),
            ("buyer_logon_id", "xud***@126.com"),
            ("point_amount", "0.00"),
        ]
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect()
    }

    /// alipay-sdk-nodejs-all `test/fixtures/alipay-public-key.pem`, and the
    /// answer of "checkResponseSign should work".
    const NODE_ANSWER_PUBLIC_KEY: &str = "-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAk7LzhmMa2c4qQd4fqAqenfbuFoA7stPKvoS1LrZEsVnOOGUUjwoa1oU9xsSPjcOWhIerU/VAN4J95GIAXx59ipcleIyfLn2FhHXPgLJpvo+b2jJFyn/1/DbeJDh+0yDVAOf50Z7HhI0mdUhFMkXlT7BU0ZMtJf/TmISFEfhDU/w6qFd6D42L97byAkq0K6LroglSVF24GqJEa7hSeUIkZWj7RasykXrc2uVJ1+ejkXE0LyPxa2AHykMGbJLf5SiZvaNzUZgnKIR36mLOHpQ/2JCXxhXZYUWHzy0kMH54JcUEeksFWBYLGvLjV1phbcUIc3Q76tIuqApY6E222OoZZQIDAQAB
-----END PUBLIC KEY-----";
    const NODE_ANSWER: &str = r#"{"alipay_open_file_upload_response":{"code":"10000","msg":"Success","file_id":"CAxAToWB1JsAAAAAAAAAAAAADgSLAQBr"},"sign":"F+LDzpTNiavn7xVZPGuPCSSVRSmWzJGgtuji6tVELGEaqMaNj0jRKXUEr5nloZJBBmwEnddOyCjjepMmrTKTvoOqQ0Efxpr/R1iEeHTHVbb/Q8TTh6Up5gHJDkILdaWS2q1cWeQ6VT+HQY9P3WRXS7uhILHuDODIhpAyCu5KhWGt0rMCIG+Im6NODJP2oohtSCtmTFXg58HH587Z2y2bdbjzOxLvzD9IrU1imghXQ2S/Q+wMIvRk9on6cWnBLkrNvJKapA2ReNGWOwyuASvB9zDVzhMPbR+3mfRGkVDxsq5HYLjBKGskJMXHw0HuugZij6ScRuaLPODhmHwr/pJ9yw=="}"#;

    /// An adapter of `app_id` and `seller_id` that trusts `alipay_key`.
    fn adapter(app_id: &str, seller_id: &str, alipay_key: &str) -> Alipay {
        Alipay::new(
            &AlipayConfig {
                app_id: app_id.into(),
                seller_id: seller_id.into(),
                app_private_key: JAVA_PRIVATE_KEY.into(),
                alipay_public_key: alipay_key.into(),
                gateway_url: "https://openapi.alipay.com/gateway.do".into(),
                authorize_url: "https://openauth.alipay.com/oauth2/publicAppAuthorize.htm".into(),
            },
            Arc::new(SystemClock),
        )
        .unwrap()
    }

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect()
    }

    #[test]
    fn requests_are_signed_as_the_java_sdk_signs_them() {
        let key = SigningKey::from_pem(JAVA_PRIVATE_KEY).unwrap();
        let first = params(&[
            ("method", "koubei.marketing.data.indicator.query"),
            ("app_id", "2019090366875133"),
            ("sign_type", "RSA2"),
        ]);
        assert_eq!(signature::sign(&key, &first).unwrap(), JAVA_SIGNATURE_1);
        let mut second = first.clone();
        second.push(("extra".into(), "中文测试".into()));
        assert_eq!(signature::sign(&key, &second).unwrap(), JAVA_SIGNATURE_2);
    }

    #[test]
    fn the_node_sdk_s_notification_verifies_and_reads_as_a_payment() {
        let alipay = adapter(
            "2019073166072302",
            "2088531891668739",
            NODE_NOTIFY_PUBLIC_KEY,
        );
        let body = form(&node_notification());
        let notification = alipay
            .parse_notification(&HeaderMap::new(), body.as_bytes())
            .unwrap();
        assert_eq!(notification.id, "2019081500222155624068450559358070");
        assert_eq!(notification.out_trade_no, "20190815155618536-564-57");
        assert_eq!(
            notification.about,
            Notified::Payment(ProviderStatus::Paid {
                transaction_id: "2019081522001468450512505578".into(),
                amount: contract::Money::new(10, contract::Currency::CNY),
            })
        );

        let mut tampered = node_notification();
        for (name, value) in &mut tampered {
            if name == "total_amount" {
                *value = "0.01".into();
            }
        }
        assert!(alipay
            .parse_notification(&HeaderMap::new(), form(&tampered).as_bytes())
            .is_err());
        let another_app = adapter(
            "2019000000000000",
            "2088531891668739",
            NODE_NOTIFY_PUBLIC_KEY,
        );
        assert!(
            another_app
                .parse_notification(&HeaderMap::new(), body.as_bytes())
                .is_err(),
            "one application's notification settles nothing of another's"
        );
        let another_seller = adapter(
            "2019073166072302",
            "2088000000000000",
            NODE_NOTIFY_PUBLIC_KEY,
        );
        assert!(another_seller
            .parse_notification(&HeaderMap::new(), body.as_bytes())
            .is_err());
    }

    #[test]
    fn the_node_sdk_s_answer_verifies_over_its_object_s_text() {
        let alipay = adapter(
            "2019073166072302",
            "2088531891668739",
            NODE_ANSWER_PUBLIC_KEY,
        );
        let answer = alipay
            .verified("alipay.open.file.upload", NODE_ANSWER)
            .unwrap();
        assert_eq!(answer.common.code, "10000");
        let altered = NODE_ANSWER.replace(
            "CAxAToWB1JsAAAAAAAAAAAAADgSLAQBr",
            "CAxAToWB1JsAAAAAAAAAAAAADgSLAQBs",
        );
        assert!(matches!(
            alipay.verified("alipay.open.file.upload", &altered),
            Err(ProviderError::BadAnswer(_))
        ));
    }
}
