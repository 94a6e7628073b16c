//! UnionPay's online gateway (全渠道, version 5.1.0), for bank cards and
//! for UnionPay QuickPass (云闪付): which request for which flow, every
//! request signed with the merchant's certificate key, every answer and
//! notification verified with the certificate it carries once that chains
//! to UnionPay's root. It talks to the gateway its configuration names:
//! UnionPay's, or the sandbox's emulator.
//!
//! | method | flow | request |
//! |---|---|---|
//! | card | redirect (desktop, phone, in any app) | the consumption form (`txnType` 01/01, `bizType` 000201, `channelType` 07 on a desktop, 08 on a phone) POSTed by the browser to `frontTransReq.do`: the card is entered on UnionPay's page |
//! | QuickPass | QR code (desktop) | "apply for a consumption code" (`txnType` 01/07, `bizType` 000000) at `backTransReq.do`: `qrCode`, scanned by QuickPass or a bank app |
//! | QuickPass | redirect (phone browser; inside QuickPass) | the same gateway form, `channelType` 08: UnionPay's phone page pays with the QuickPass app or a card, and works inside QuickPass and the bank apps that embed it with no app registration or `userAuthCode` |
//!
//! What UnionPay allows, and how the server lives with it:
//! - An order is named by its `orderId` and `txnTime` together; ours are
//!   the intent's id without its `_` and the intent's creation time, so a
//!   query needs nothing stored.
//! - There is no closing an unpaid order: it lasts until its `payTimeout`
//!   (the intent's expiry). A close asks whether it was paid, and is asked
//!   again until then; a payment after the shopper moved on is given back.
//! - A query (`queryTrans.do`) answers `34` for an order not attempted yet,
//!   and `origRespCode` 03/04/05 while it is being decided.
//! - Money goes back by cancellation (`txnType` 31) when it is all of it on
//!   the day of the order (free, and the shopper never sees the charge
//!   settle), by refund (`txnType` 04) otherwise; both are asynchronous.
//!   UnionPay returns `reqReserved` as it was sent: a refund carries its
//!   intent's id there, for its notification to name the order.

mod certificates;
mod signature;
mod transformers;

use std::sync::Arc;
use std::time::Duration;

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use contract::{Device, Flow, FormMethod, MethodKind, NextAction};

use self::certificates::{Parsed, Trust};
use self::transformers::{self as wire, get, Fields};
use super::rsa::SigningKey;
use super::{
    Closed, HandOff, Notification, Notified, OrderRef, Provider, ProviderError, ProviderOrder,
    ProviderRefund, ProviderStatus, RefundRef, RefundState,
};
use crate::clock::Clock;
use crate::config::{pem_text, ConfigError, UnionpayConfig};

/// The interface version whose fields and signature this adapter speaks.
const VERSION: &str = "5.1.0";

/// One UnionPay merchant, for one of the two methods it serves.
pub struct UnionPay {
    method: MethodKind,
    mer_id: String,
    cert_id: String,
    key: SigningKey,
    trust: Trust,
    gateway: String,
    http: reqwest::Client,
    clock: Arc<dyn Clock>,
}

impl UnionPay {
    /// An adapter for this merchant serving `method` (cards or
    /// QuickPass). `test_environment` accepts the signing certificates of
    /// UnionPay's test environment (and of the sandbox), named
    /// `00040000:SIGN`; a live server does not.
    pub fn new(
        config: &UnionpayConfig,
        method: MethodKind,
        test_environment: bool,
        clock: Arc<dyn Clock>,
    ) -> Result<UnionPay, ConfigError> {
        let invalid =
            |what: &str, why: String| ConfigError::Invalid(format!("unionpay {what}: {why}"));
        let key = SigningKey::from_pem(&pem_text(&config.sign_key)?)
            .map_err(|e| invalid("sign_key", e.to_string()))?;
        let certificate = Parsed::from_pem(&pem_text(&config.sign_cert)?)
            .map_err(|e| invalid("sign_cert", e.to_string()))?;
        let paired = key
            .sign(b"pair")
            .ok()
            .zip(certificate.key().ok())
            .is_some_and(|(signature, public)| public.verifies(b"pair", &signature));
        if !paired {
            return Err(invalid(
                "sign_cert",
                "not the certificate of sign_key".into(),
            ));
        }
        let root = pem_text(&config.root_cert)?;
        let middle = pem_text(&config.middle_cert)?;
        let trust = Trust::new(&root, &middle, test_environment)
            .map_err(|e| invalid("root_cert and middle_cert", e.to_string()))?;
        if !test_environment && certificates::issued_for_tests(&[&root, &middle]) {
            return Err(invalid(
                "root_cert",
                "a test certificate: a live server trusts UnionPay's production root".into(),
            ));
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| ConfigError::Invalid(format!("an HTTP client: {e}")))?;
        Ok(UnionPay {
            method,
            mer_id: config.mer_id.clone(),
            cert_id: certificate.serial_decimal(),
            key,
            trust,
            gateway: config.gateway_url.trim_end_matches('/').to_owned(),
            http,
            clock,
        })
    }

    /// The fields every request of this kind starts with.
    fn common(&self, txn: (&str, &str, &str), order_id: &str, txn_time: &str) -> Fields {
        let (txn_type, txn_sub_type, biz_type) = txn;
        [
            ("version", VERSION),
            ("encoding", "UTF-8"),
            ("signMethod", "01"),
            ("txnType", txn_type),
            ("txnSubType", txn_sub_type),
            ("bizType", biz_type),
            ("accessType", "0"),
            ("merId", &self.mer_id),
            ("orderId", order_id),
            ("txnTime", txn_time),
            ("certId", &self.cert_id),
        ]
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect()
    }

    /// The fields with their `signature`.
    fn signed(&self, mut fields: Fields) -> Result<Fields, ProviderError> {
        fields.retain(|(_, value)| !value.is_empty());
        let signature = signature::sign(&self.key, &fields)
            .map_err(|e| ProviderError::BadAnswer(e.to_string()))?;
        fields.push(("signature".into(), signature));
        Ok(fields)
    }

    /// Why fields UnionPay sent cannot be trusted, if they cannot: a field
    /// twice, no certificate, a certificate not UnionPay's, a signature
    /// that does not verify, another merchant's.
    fn distrust(&self, fields: &Fields) -> Option<String> {
        if !wire::names_once(fields) {
            return Some("a field sent twice".into());
        }
        let Some(certificate) = get(fields, "signPubKeyCert") else {
            return Some("no signPubKeyCert".into());
        };
        let key = match self.trust.signer(certificate, self.clock.now()) {
            Ok(key) => key,
            Err(why) => return Some(why),
        };
        if !signature::verifies(&key, fields) {
            return Some("the signature does not verify".into());
        }
        match get(fields, "merId") {
            Some(mer_id) if mer_id != self.mer_id => Some(format!("about merchant {mer_id}")),
            _ => None,
        }
    }

    /// POSTs signed fields to `endpoint` and answers UnionPay's verified
    /// answer, whatever its `respCode`.
    async fn call(&self, endpoint: &str, fields: Fields) -> Result<Fields, ProviderError> {
        let fields = self.signed(fields)?;
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&fields)
            .finish();
        let answer = self
            .http
            .post(format!("{}/{endpoint}", self.gateway))
            .header(
                header::CONTENT_TYPE,
                "application/x-www-form-urlencoded;charset=UTF-8",
            )
            .body(body)
            .send()
            .await
            .map_err(|e| ProviderError::Unavailable(e.without_url().to_string()))?;
        let status = answer.status();
        let text = answer
            .text()
            .await
            .map_err(|e| ProviderError::Unavailable(e.without_url().to_string()))?;
        if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
            return Err(ProviderError::Unavailable(status.to_string()));
        }
        let answer = wire::answer_fields(&text)?;
        if let Some(why) = self.distrust(&answer) {
            return Err(ProviderError::BadAnswer(format!(
                "{why} ({} {})",
                get(&answer, "respCode").unwrap_or_default(),
                get(&answer, "respMsg").unwrap_or_default()
            )));
        }
        Ok(answer)
    }

    /// Asks about the transaction `order_id` made at `txn_time`: its
    /// verified answer (`respCode` 00), or `None` for 34, no such
    /// transaction.
    async fn query_transaction(
        &self,
        order_id: &str,
        txn_time: &str,
    ) -> Result<Option<Fields>, ProviderError> {
        let fields = self.common(("00", "00", "000000"), order_id, txn_time);
        let answer = self.call("queryTrans.do", fields).await?;
        match get(&answer, "respCode").unwrap_or_default() {
            wire::SUCCESS => {
                if get(&answer, "orderId") != Some(order_id) {
                    return Err(ProviderError::BadAnswer(format!(
                        "asked about {order_id}, told about another"
                    )));
                }
                Ok(Some(answer))
            }
            wire::NO_SUCH_TRANSACTION => Ok(None),
            _ => Err(refusal(&answer)),
        }
    }

    /// How a refund (or cancellation) stands, by its own `orderId` and
    /// `txnTime`.
    async fn refund_query(&self, refund: RefundRef<'_>) -> Result<RefundState, ProviderError> {
        let order_id = wire::order_id(refund.out_refund_no)?;
        let txn_time = wire::beijing_time(refund.created_at);
        match self.query_transaction(&order_id, &txn_time).await {
            Ok(Some(answer)) => wire::refund_state(&answer, wire::Said::Query),
            Ok(None) => Ok(RefundState::NotFound),
            // A refund being decided, or UnionPay busy: asked again later.
            Err(ProviderError::Unavailable(_)) => Ok(RefundState::Pending),
            Err(error) => Err(error),
        }
    }

    /// The `bizType` of this method's products.
    fn biz_type(&self) -> &'static str {
        match self.method {
            MethodKind::Card => "000201",
            _ => "000000",
        }
    }
}

/// What a `respCode` other than success says: undecided or busy (the same
/// request may be made again), or refused.
fn refusal(answer: &Fields) -> ProviderError {
    let code = get(answer, "respCode").unwrap_or_default().to_owned();
    let message = get(answer, "respMsg").unwrap_or_default().to_owned();
    if wire::undecided(&code) {
        return ProviderError::Unavailable(format!("{code} {message}"));
    }
    // 37: queried too often.
    if code == "37" {
        return ProviderError::Busy {
            said: format!("{code} {message}"),
            retry_after: None,
        };
    }
    ProviderError::Refused { code, message }
}

/// UnionPay's time limit for an order: a little before the intent's, so
/// that no payment UnionPay takes comes after the server stopped
/// expecting one; never less than a minute.
fn pay_timeout(
    created_at: contract::UnixSeconds,
    expires: contract::UnixSeconds,
) -> contract::UnixSeconds {
    (expires - PAY_TIMEOUT_MARGIN_SECONDS).max(created_at + 60)
}

/// How much sooner than the intent UnionPay's order stops taking payment.
const PAY_TIMEOUT_MARGIN_SECONDS: i64 = 120;

/// True if a payment whose order was made at `order` can still be
/// cancelled (rather than refunded) at `at`: the same day in Beijing, and
/// before 22:30, half an hour before UnionPay's settlement day ends.
fn cancellable(order: contract::UnixSeconds, at: contract::UnixSeconds) -> bool {
    let (order, at) = (wire::beijing_time(order), wire::beijing_time(at));
    order.get(..8) == at.get(..8)
        && at
            .get(8..12)
            .is_some_and(|hour_minute| hour_minute < "2230")
}

#[async_trait::async_trait]
impl Provider for UnionPay {
    fn method(&self) -> MethodKind {
        self.method
    }

    fn name(&self) -> &'static str {
        match self.method {
            MethodKind::Card => "unionpay-card",
            _ => "unionpay",
        }
    }

    fn account(&self) -> String {
        format!("unionpay:{}", self.mer_id)
    }

    fn supports(&self, flow: Flow) -> bool {
        match self.method {
            MethodKind::Card => flow == Flow::Redirect,
            _ => matches!(flow, Flow::QrCode | Flow::Redirect),
        }
    }

    fn payer_authorization(&self, _flow: Flow, _callback: &str, _state: &str) -> Option<String> {
        None
    }

    async fn payer_id(&self, _code: &str) -> Result<String, ProviderError> {
        Err(ProviderError::Refused {
            code: "UNSUPPORTED_FLOW".into(),
            message: "UnionPay's flows here need no payer id".into(),
        })
    }

    async fn create(&self, order: &ProviderOrder) -> Result<HandOff, ProviderError> {
        let order_id = wire::order_id(&order.out_trade_no)?;
        let txn_time = wire::beijing_time(order.created_at);
        let amount = wire::txn_amt(&order.amount)?;
        let pay_timeout = pay_timeout(order.created_at, order.time_expire);
        let pay_timeout_text = wire::beijing_time(pay_timeout);
        let money = [
            ("txnAmt", amount.as_str()),
            ("currencyCode", "156"),
            ("backUrl", order.notify_url.as_str()),
            ("payTimeout", pay_timeout_text.as_str()),
        ];
        let with = |mut fields: Fields, more: &[(&str, &str)]| {
            fields.extend(
                more.iter()
                    .map(|(name, value)| (name.to_string(), value.to_string())),
            );
            fields
        };
        match order.flow {
            Flow::Redirect => {
                // Not a call: the shopper's browser carries the signed form
                // to the gateway, which shows UnionPay's card page.
                let channel = match order.device {
                    Device::Desktop => "07",
                    Device::Mobile => "08",
                };
                let fields = with(
                    self.common(("01", "01", "000201"), &order_id, &txn_time),
                    &money,
                );
                let fields = with(
                    fields,
                    &[
                        ("channelType", channel),
                        ("frontUrl", &order.post_return_url),
                    ],
                );
                Ok(HandOff {
                    action: NextAction::Redirect {
                        url: format!("{}/frontTransReq.do", self.gateway),
                        method: FormMethod::Post,
                        fields: self.signed(fields)?,
                    },
                    renew_at: None,
                })
            }
            Flow::QrCode => {
                let fields = with(
                    self.common(("01", "07", "000000"), &order_id, &txn_time),
                    &money,
                );
                let answer = self
                    .call("backTransReq.do", with(fields, &[("channelType", "08")]))
                    .await?;
                if get(&answer, "respCode") != Some(wire::SUCCESS) {
                    // 12 here is a code asked for before whose answer was
                    // lost: it cannot be had again, and this order fails.
                    return Err(refusal(&answer));
                }
                let code = get(&answer, "qrCode")
                    .ok_or_else(|| ProviderError::BadAnswer("a code without its qrCode".into()))?;
                Ok(HandOff {
                    action: NextAction::DisplayQrCode {
                        payload: code.to_owned(),
                        expires_at: pay_timeout,
                    },
                    renew_at: None,
                })
            }
            Flow::WechatJsapi | Flow::AlipayTradePay | Flow::Unsupported => {
                Err(ProviderError::Refused {
                    code: "UNSUPPORTED_FLOW".into(),
                    message: "not a UnionPay flow".into(),
                })
            }
        }
    }

    async fn query(&self, order: OrderRef<'_>) -> Result<ProviderStatus, ProviderError> {
        let order_id = wire::order_id(order.out_trade_no)?;
        let txn_time = wire::beijing_time(order.created_at);
        match self.query_transaction(&order_id, &txn_time).await? {
            Some(answer) => wire::payment_status(&answer, wire::Said::Query),
            None => Ok(ProviderStatus::NotFound),
        }
    }

    async fn close(&self, order: OrderRef<'_>) -> Result<Closed, ProviderError> {
        // Nothing closes an unpaid order: it can be paid until its
        // `payTimeout`, so the caller asks again until then; and a payment
        // UnionPay is still deciding may land after it.
        Ok(match self.query(order).await? {
            ProviderStatus::Paid { .. } => Closed::AlreadyPaid,
            ProviderStatus::Pending | ProviderStatus::Processing => Closed::Deciding,
            _ => Closed::NotYet,
        })
    }

    async fn refund(&self, refund: &ProviderRefund) -> Result<RefundState, ProviderError> {
        let original = refund
            .transaction_id
            .as_deref()
            .ok_or_else(|| ProviderError::Refused {
                code: "NO_QUERY_ID".into(),
                message: "a refund needs the payment's queryId".into(),
            })?;
        let order_id = wire::order_id(&refund.out_refund_no)?;
        let txn_time = wire::beijing_time(refund.created_at);
        // Decided from the refund's own time, so that asking again says
        // the same; and well inside the settlement day, which ends at
        // 23:00 in Beijing.
        let whole_on_the_day = refund.amount == refund.total
            && cancellable(refund.order_created_at, refund.created_at);
        let txn_type = if whole_on_the_day { "31" } else { "04" };
        let amount = wire::txn_amt(&refund.amount)?;
        let mut fields = self.common((txn_type, "00", self.biz_type()), &order_id, &txn_time);
        fields.extend(
            [
                ("channelType", "07"),
                ("txnAmt", amount.as_str()),
                ("origQryId", original),
                ("backUrl", refund.notify_url.as_str()),
                ("reqReserved", refund.out_trade_no.as_str()),
            ]
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string())),
        );
        let answer = self.call("backTransReq.do", fields).await?;
        match get(&answer, "respCode").unwrap_or_default() {
            // Accepted: the outcome follows by notification or query.
            wire::SUCCESS => Ok(RefundState::Pending),
            // Asked before (an answer lost on the way): this is the same
            // refund, and the query says how it stands.
            wire::DUPLICATE => {
                self.refund_query(RefundRef {
                    out_refund_no: &refund.out_refund_no,
                    created_at: refund.created_at,
                })
                .await
            }
            code if wire::undecided(code) => Ok(RefundState::Pending),
            _ => Err(refusal(&answer)),
        }
    }

    async fn refund_status(
        &self,
        _order: OrderRef<'_>,
        refund: RefundRef<'_>,
    ) -> Result<RefundState, ProviderError> {
        self.refund_query(refund).await
    }

    fn parse_notification(
        &self,
        _headers: &HeaderMap,
        body: &[u8],
    ) -> Result<Notification, ProviderError> {
        let bad = |why: String| ProviderError::BadNotification(why);
        let fields = wire::form_fields(body);
        if let Some(why) = self.distrust(&fields) {
            return Err(bad(why));
        }
        if get(&fields, "merId").is_none() {
            return Err(bad("no merId".into()));
        }
        let order_id = get(&fields, "orderId").ok_or_else(|| bad("no orderId".into()))?;
        let ours = wire::our_id(order_id).ok_or_else(|| bad(format!("orderId {order_id}")))?;
        let query_id = get(&fields, "queryId").ok_or_else(|| bad("no queryId".into()))?;
        let txn_type = get(&fields, "txnType").unwrap_or_default();
        let id = format!("{query_id}:{txn_type}");
        match txn_type {
            "01" => Ok(Notification {
                id,
                out_trade_no: ours,
                about: Notified::Payment(
                    wire::payment_status(&fields, wire::Said::Notification)
                        .map_err(|e| bad(e.to_string()))?,
                ),
            }),
            "04" | "31" => {
                let out_trade_no = get(&fields, "reqReserved")
                    .ok_or_else(|| bad("a refund notification without its order".into()))?;
                Ok(Notification {
                    id,
                    out_trade_no: out_trade_no.to_owned(),
                    about: Notified::Refund {
                        out_refund_no: ours,
                        state: wire::refund_state(&fields, wire::Said::Notification)
                            .map_err(|e| bad(e.to_string()))?,
                    },
                })
            }
            other => Err(bad(format!("a notification of txnType {other:?}"))),
        }
    }

    fn notification_answer(&self, refused: Option<&str>) -> Response {
        // UnionPay reads the status: 200 stops it, anything else has it
        // send the notification again.
        match refused {
            None => (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                "ok",
            )
                .into_response(),
            Some(why) => (
                StatusCode::BAD_REQUEST,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                why.to_owned(),
            )
                .into_response(),
        }
    }
}

#[cfg(test)]
mod tests;
