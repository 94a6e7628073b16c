//! China Mobile's wallet (和包支付), through its web payment interface
//! `cmpayService` 2.0.0: a form POST per request, `signType` MD5, every
//! request and answer signed with the merchant's key (see `signature`).
//! It talks to the service its configuration names: China Mobile's, or the
//! sandbox's emulator.
//!
//! | flow | request | hand-off |
//! |---|---|---|
//! | redirect, desktop | `DirectPayConfirm` | the answer's `payUrl`: the cashier's address and `sessionId`, by GET |
//! | redirect, phone (and in any app) | `WAPDirectPayConfirm` | the same |
//!
//! What is documented (the interface's PDFs and the official Java, .NET and
//! PHP demo kits, whose published samples the tests reproduce): the fields
//! and their `hmac` orders; `payUrl`'s `<hi:$$>`/`<hi:=>` format; answers
//! as `k=v&…` whose `message` and reserved fields come URL-encoded;
//! `OrderQuery` and `OrderRefund` on the same service; notifications
//! (`OfflineNotify`) to `notifyUrl`, answered `SUCCESS`, and the browser's
//! `PageNotify` to `callbackUrl` with the same fields; `returnCode` 000000
//! meaning "request carried out", the outcome being `status` (`SUCCESS`,
//! `FAILED`).
//!
//! What is assumed, for lack of documents:
//! - A query of an order not paid yet answers a `status` other than the
//!   two published ones: read as "not paid yet".
//! - `OrderRefund` is synchronous and has no query; its `requestId` is the
//!   refund's number. A refund whose answer was lost is asked for again
//!   with it: answered, that is its outcome; refused as a repeat
//!   (`RPM22208`: a `requestId` must not repeat), the first may have been
//!   carried out, so it is held as `abnormal` for the merchant to settle in
//!   China Mobile's merchant platform, and its amount stays counted (never
//!   refunded twice, never marked failed while the money may have gone).
//! - A query's `FAILED` before the order's time is up may be a failed
//!   attempt while the cashier still takes another: read as not paid yet;
//!   the notification's `FAILED`, and a query's after that time, as
//!   declined.
//! - There is no closing an order: it can be paid for its `period`, which
//!   is the intent's time; a close asks whether it was paid, and a payment
//!   after the shopper moved on is given back.
//! - The demo kits verify no error answer: an error refuses the request,
//!   which changes no money.

mod signature;
mod transformers;

use std::sync::Arc;
use std::time::Duration;

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use contract::{Device, Flow, FormMethod, MethodKind, NextAction, RefundFailureReason};

use self::transformers::{self as wire, get, Fields};
use super::{
    Closed, HandOff, Notification, Notified, OrderRef, Provider, ProviderError, ProviderOrder,
    ProviderRefund, ProviderStatus, RefundRef, RefundState,
};
use crate::clock::Clock;
use crate::config::{pem_text, CmpayConfig, ConfigError};

/// The interface version this adapter speaks.
const VERSION: &str = "2.0.0";

/// `characterSet` 02: UTF-8 (00 is GBK, 01 GB2312).
const UTF_8: &str = "02";

/// One China Mobile Pay merchant.
pub struct Cmpay {
    merchant_id: String,
    key: String,
    service: String,
    http: reqwest::Client,
    clock: Arc<dyn Clock>,
}

impl Cmpay {
    /// An adapter for this merchant.
    pub fn new(config: &CmpayConfig, clock: Arc<dyn Clock>) -> Result<Cmpay, ConfigError> {
        let key = pem_text(&config.sign_key)?.trim().to_owned();
        if key.is_empty() {
            return Err(ConfigError::Invalid("cmpay sign_key is empty".into()));
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| ConfigError::Invalid(format!("an HTTP client: {e}")))?;
        Ok(Cmpay {
            merchant_id: config.merchant_id.clone(),
            key,
            service: config.service_url.clone(),
            http,
            clock,
        })
    }

    /// `fields` (in `order`) with their `hmac`.
    fn signed(&self, fields: Vec<(&str, String)>, order: &[&str]) -> Fields {
        let mut fields: Fields = fields
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value))
            .collect();
        let hmac = signature::hmac(&self.key, &wire::values(&fields, order));
        fields.push(("hmac".into(), hmac));
        fields
    }

    /// The fields every request starts with.
    fn common(&self, kind: &str, request_id: String) -> Vec<(&'static str, String)> {
        vec![
            ("merchantId", self.merchant_id.clone()),
            ("requestId", request_id),
            ("signType", "MD5".into()),
            ("type", kind.to_owned()),
            ("version", VERSION.into()),
        ]
    }

    /// POSTs a request and answers its fields: verified with `order` when
    /// it says `000000`; otherwise a refusal (or the service unavailable).
    async fn call(&self, fields: Fields, order: &[&str]) -> Result<Fields, ProviderError> {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&fields)
            .finish();
        let answer = self
            .http
            .post(&self.service)
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
        if !status.is_success() {
            return Err(ProviderError::BadAnswer(format!("HTTP {status}")));
        }
        let answer = wire::answer_fields(&text)?;
        let code = get(&answer, "returnCode");
        if !wire::is_code(code) {
            return Err(ProviderError::BadAnswer(
                "an answer without a returnCode".into(),
            ));
        }
        if code != wire::SUCCESS {
            return Err(ProviderError::Refused {
                code: code.to_owned(),
                message: get(&answer, "message").to_owned(),
            });
        }
        if !wire::names_once(&answer)
            || !signature::verifies(
                &self.key,
                &wire::values(&answer, order),
                get(&answer, "hmac"),
            )
        {
            return Err(ProviderError::BadAnswer(
                "an answer whose hmac does not verify".into(),
            ));
        }
        if get(&answer, "merchantId") != self.merchant_id {
            return Err(ProviderError::BadAnswer(
                "an answer about another merchant".into(),
            ));
        }
        Ok(answer)
    }
}

#[async_trait::async_trait]
impl Provider for Cmpay {
    fn method(&self) -> MethodKind {
        MethodKind::ChinaMobilePay
    }

    fn name(&self) -> &'static str {
        "cmpay"
    }

    fn account(&self) -> String {
        format!("cmpay:{}", self.merchant_id)
    }

    fn supports(&self, flow: Flow) -> bool {
        flow == Flow::Redirect
    }

    fn payer_authorization(&self, _flow: Flow, _callback: &str, _state: &str) -> Option<String> {
        None
    }

    async fn payer_id(&self, _code: &str) -> Result<String, ProviderError> {
        Err(ProviderError::Refused {
            code: "UNSUPPORTED_FLOW".into(),
            message: "China Mobile Pay's cashier needs no payer id".into(),
        })
    }

    async fn create(&self, order: &ProviderOrder) -> Result<HandOff, ProviderError> {
        if order.flow != Flow::Redirect {
            return Err(ProviderError::Refused {
                code: "UNSUPPORTED_FLOW".into(),
                message: "China Mobile Pay hands off by redirect".into(),
            });
        }
        let kind = match order.device {
            Device::Desktop => "DirectPayConfirm",
            Device::Mobile => "WAPDirectPayConfirm",
        };
        let date = wire::beijing_date(order.created_at);
        let (period, unit) = wire::period(order.time_expire - self.clock.now());
        // The field takes an IPv4 address.
        let ip = order
            .payer_ip
            .as_deref()
            .filter(|ip| ip.parse::<std::net::Ipv4Addr>().is_ok())
            .unwrap_or("127.0.0.1");
        let mut fields = vec![
            ("characterSet", UTF_8.to_owned()),
            ("callbackUrl", order.post_return_url.clone()),
            ("notifyUrl", order.notify_url.clone()),
            ("ipAddress", ip.to_owned()),
        ];
        // A fresh request number each time: the interface refuses one twice.
        fields.extend(self.common(kind, crate::auth::random_hex(16)));
        fields.extend([
            ("amount", wire::amount(&order.amount)?),
            ("bankAbbr", String::new()),
            ("currency", "00".into()),
            ("orderDate", date.clone()),
            ("orderId", wire::order_id(&order.out_trade_no)),
            ("merAcDate", date),
            ("period", period),
            ("periodUnit", unit.into()),
            ("merchantAbbr", String::new()),
            ("productDesc", order.description.clone()),
            ("productId", String::new()),
            ("productName", wire::product_name(&order.description)),
            ("productNum", String::new()),
            ("reserved1", String::new()),
            ("reserved2", String::new()),
            ("userToken", String::new()),
            ("showUrl", String::new()),
            ("couponsFlag", "00".into()),
        ]);
        let request = self.signed(fields, &wire::PAY_REQUEST);
        let answer = self.call(request, &wire::PAY_ANSWER).await?;
        Ok(HandOff {
            action: NextAction::Redirect {
                url: wire::cashier(get(&answer, "payUrl"))?,
                method: FormMethod::Get,
                fields: vec![],
            },
            renew_at: None,
        })
    }

    async fn query(&self, order: OrderRef<'_>) -> Result<ProviderStatus, ProviderError> {
        let order_id = wire::order_id(order.out_trade_no);
        let mut fields = self.common("OrderQuery", crate::auth::random_hex(16));
        fields.push(("orderId", order_id.clone()));
        let request = self.signed(fields, &wire::QUERY_REQUEST);
        match self.call(request, &wire::QUERY_ANSWER).await {
            Ok(answer) => {
                if get(&answer, "orderId") != order_id {
                    return Err(ProviderError::BadAnswer(format!(
                        "asked about {order_id}, told about another"
                    )));
                }
                match wire::payment_status(&answer)? {
                    ProviderStatus::Failed(_) if self.clock.now() < order.time_expire => {
                        Ok(ProviderStatus::Pending)
                    }
                    status => Ok(status),
                }
            }
            Err(ProviderError::Refused { code, .. }) if wire::no_such_order(&code) => {
                Ok(ProviderStatus::NotFound)
            }
            Err(error) => Err(error),
        }
    }

    async fn close(&self, order: OrderRef<'_>) -> Result<Closed, ProviderError> {
        // No order can be closed: it is asked about until its period ends.
        Ok(match self.query(order).await? {
            ProviderStatus::Paid { .. } => Closed::AlreadyPaid,
            _ => Closed::NotYet,
        })
    }

    async fn refund(&self, refund: &ProviderRefund) -> Result<RefundState, ProviderError> {
        // The refund's own number as the request's: asked again, the same
        // refund.
        let mut fields = self.common("OrderRefund", wire::order_id(&refund.out_refund_no));
        fields.push(("orderId", wire::order_id(&refund.out_trade_no)));
        fields.push(("amount", wire::amount(&refund.amount)?));
        let request = self.signed(fields, &wire::REFUND_REQUEST);
        let answer = match self.call(request, &wire::REFUND_ANSWER).await {
            Ok(answer) => answer,
            Err(ProviderError::Refused { code, message }) if wire::state_or_repeat(&code) => {
                tracing::error!(
                    "{}: China Mobile refused it as {code} {message}; an earlier ask may have \
                     been carried out: held for the merchant",
                    refund.out_refund_no
                );
                return Ok(RefundState::Failed(RefundFailureReason::Abnormal));
            }
            Err(error) => return Err(error),
        };
        let about_it = get(&answer, "orderId") == wire::order_id(&refund.out_trade_no)
            && wire::fen(get(&answer, "amount")) == Some(refund.amount.value);
        if !about_it {
            return Err(ProviderError::BadAnswer(
                "a refund answer about another order or amount".into(),
            ));
        }
        Ok(match get(&answer, "status") {
            "SUCCESS" => RefundState::Succeeded,
            "FAILED" => RefundState::Failed(RefundFailureReason::ProviderRefused),
            _ => RefundState::Pending,
        })
    }

    async fn refund_status(
        &self,
        _order: OrderRef<'_>,
        _refund: RefundRef<'_>,
    ) -> Result<RefundState, ProviderError> {
        // No refund query exists: asked for again with the same number,
        // which answers for the same refund.
        Ok(RefundState::NotFound)
    }

    fn parse_notification(
        &self,
        _headers: &HeaderMap,
        body: &[u8],
    ) -> Result<Notification, ProviderError> {
        let bad = |why: &str| ProviderError::BadNotification(why.to_owned());
        let fields: Fields = url::form_urlencoded::parse(body)
            .map(|(name, value)| (name.into_owned(), value.into_owned()))
            .collect();
        if !wire::names_once(&fields) {
            return Err(bad("a field sent twice"));
        }
        let values = wire::values(&fields, &wire::NOTIFICATION);
        if !signature::verifies(&self.key, &values, get(&fields, "hmac")) {
            return Err(bad("the hmac does not verify"));
        }
        if get(&fields, "merchantId") != self.merchant_id {
            return Err(bad("a notification of another merchant"));
        }
        if get(&fields, "type") != "OfflineNotify" {
            return Err(bad("not an OfflineNotify"));
        }
        let out_trade_no =
            wire::our_id(get(&fields, "orderId")).ok_or_else(|| bad("no orderId"))?;
        let status = wire::payment_status(&fields).map_err(|e| bad(&e.to_string()))?;
        Ok(Notification {
            id: format!(
                "{}:{}:{}",
                get(&fields, "orderId"),
                get(&fields, "payNo"),
                get(&fields, "status")
            ),
            out_trade_no,
            about: Notified::Payment(status),
        })
    }

    fn notification_answer(&self, refused: Option<&str>) -> Response {
        // The plain text SUCCESS stops it; anything else has it sent again.
        let (status, body) = match refused {
            None => (StatusCode::OK, "SUCCESS"),
            Some(_) => (StatusCode::BAD_REQUEST, "FAIL"),
        };
        (
            status,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            body,
        )
            .into_response()
    }
}

#[cfg(test)]
mod tests;
