//! `POST /cmpay/ips/cmpayService`: the one endpoint, by `type`:
//! `DirectPayConfirm` (desktop) and `WAPDirectPayConfirm` (phone) make an
//! order and answer a `payUrl`, `OrderQuery` tells how an order stands,
//! `OrderRefund` gives money back at once.
//!
//! Documented (DOC-DPC §6, DOC-Q §6–7, DOC-R §6–7, the demo kits): the
//! request fields and their hmac order ([`PAY_ORDER`], [`QUERY_ORDER`],
//! [`REFUND_ORDER`]); `version=2.0.0`; `amount` in fen; `currency=00`
//! (CNY); `orderDate` and `merAcDate` as `yyyyMMdd`; `period` up to three
//! digits with `periodUnit` 00 minute, 01 hour, 02 day, 03 month;
//! `productName` required (at most 50); the answer to a pay request is
//! `merchantId`, `requestId`, `signType`, `type`, `version`, `returnCode`,
//! `message`, `payUrl`, `hmac`, where `payUrl` is
//! `url<hi:=>…<hi:$$>method<hi:=>POST<hi:$$>sessionId<hi:=>…` and the
//! browser is sent to `url?sessionId=…` (the Java and .NET kits redirect,
//! the PHP kit submits an empty form to `url?SESSIONID=…`).
//!
//! Assumed: every refusal is answered in the layout of its type's answer
//! (the pay answer's for an unknown `type`), with the request's echoes and
//! signed the same way, although no demo verifies an answer whose
//! `returnCode` is not `000000`; a `signType` other than MD5 is IPS0008
//! (the emulator plays no RSA), a `version` other than 2.0.0 or an unknown
//! `type` RPM77040; `callbackUrl` and `notifyUrl` must be http(s) and, when
//! the merchant registered return domains, on one of them (SBX0001); the
//! answers are `text/plain; charset=UTF-8`; an outage is HTTP 503.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use time::macros::format_description;

use super::orders::{OrderParams, PayType};
use super::results::{self, MD5, VERSION};
use super::wire::{
    verify, Fields, Message, Refusal, AMOUNT, CURRENCY, CURRENCY_EMPTY, FIELD, MERCHANT, NOT_FOUND,
    NO_PERMISSION, ORDER_DATE, ORDER_DATE_EMPTY, PERIOD_EMPTY, PERIOD_UNIT, PERIOD_ZERO,
    PRODUCT_EMPTY, PRODUCT_LONG, REFUND_AMOUNT, SIGNATURE, SUCCESS,
};
use super::Cmpay;

/// The hmac order of `DirectPayConfirm` and `WAPDirectPayConfirm`.
pub(crate) const PAY_ORDER: [&str; 27] = [
    "characterSet",
    "callbackUrl",
    "notifyUrl",
    "ipAddress",
    "merchantId",
    "requestId",
    "signType",
    "type",
    "version",
    "amount",
    "bankAbbr",
    "currency",
    "orderDate",
    "orderId",
    "merAcDate",
    "period",
    "periodUnit",
    "merchantAbbr",
    "productDesc",
    "productId",
    "productName",
    "productNum",
    "reserved1",
    "reserved2",
    "userToken",
    "showUrl",
    "couponsFlag",
];
/// The hmac order of `OrderQuery`.
pub(crate) const QUERY_ORDER: [&str; 6] = [
    "merchantId",
    "requestId",
    "signType",
    "type",
    "version",
    "orderId",
];
/// The hmac order of `OrderRefund`.
pub(crate) const REFUND_ORDER: [&str; 7] = [
    "merchantId",
    "requestId",
    "signType",
    "type",
    "version",
    "orderId",
    "amount",
];

/// `POST /cmpay/ips/cmpayService`.
pub(super) async fn service(State(cmpay): State<Arc<Cmpay>>, body: Bytes) -> Response {
    if cmpay.control().outage {
        return (StatusCode::SERVICE_UNAVAILABLE, "503 Service Unavailable").into_response();
    }
    let fields = Fields::parse(&body);
    let answer = match fields.get("type") {
        "DirectPayConfirm" | "WAPDirectPayConfirm" => pay(&cmpay, &fields),
        "OrderQuery" => query(&cmpay, &fields),
        "OrderRefund" => {
            let answer = refund(&cmpay, &fields);
            // Made, and its answer lost on the way back.
            if cmpay.control().strict_refunds && answer.get("returnCode") == SUCCESS.code {
                return (StatusCode::BAD_GATEWAY, "502 Bad Gateway").into_response();
            }
            answer
        }
        other => {
            let refusal = Refusal::new(NO_PERMISSION, format!("type {other:?} is not played"));
            pay_answer(&fields, refusal.code.code, &refusal.message(), "")
        }
    };
    let returned = answer.get("returnCode").to_owned();
    tracing::info!(kind = fields.get("type"), order_id = fields.get("orderId"), %returned, "cmpay service answered");
    (
        [(CONTENT_TYPE, "text/plain; charset=UTF-8")],
        answer.signed(&cmpay.config.sign_key).answer_text(),
    )
        .into_response()
}

/// The merchant, its hmac over `order`, and the version.
fn authenticate(cmpay: &Cmpay, fields: &Fields, order: &[&str]) -> Result<(), Refusal> {
    if fields.get("merchantId") != cmpay.config.merchant_id {
        return Err(Refusal::new(MERCHANT, "unknown merchantId"));
    }
    if fields.get("signType") != MD5 {
        return Err(Refusal::new(SIGNATURE, "signType must be MD5"));
    }
    if !verify(
        &cmpay.config.sign_key,
        &fields.sign_data(order),
        fields.get("hmac"),
    ) {
        return Err(Refusal::new(SIGNATURE, "the hmac does not match"));
    }
    if fields.get("version") != VERSION {
        return Err(Refusal::new(NO_PERMISSION, "version must be 2.0.0"));
    }
    Ok(())
}

/// The answer to a pay request.
fn pay_answer(fields: &Fields, code: &str, message: &str, pay_url: &str) -> Message {
    Message::new()
        .with("merchantId", fields.get("merchantId"))
        .with("requestId", fields.get("requestId"))
        .with("signType", MD5)
        .with("type", fields.get("type"))
        .with("version", VERSION)
        .with("returnCode", code)
        .with("message", message)
        .with("payUrl", pay_url)
}

fn pay(cmpay: &Arc<Cmpay>, fields: &Fields) -> Message {
    let opened = authenticate(cmpay, fields, &PAY_ORDER)
        .and_then(|()| pay_params(cmpay, fields))
        .and_then(|params| {
            let now = cmpay.now();
            let session = cmpay.session_id();
            cmpay
                .lock()
                .orders
                .open(params, session.clone(), now)
                .map(|order| (order, session))
        });
    match opened {
        Ok((order, session)) => {
            tracing::info!(order_id = %order.params.order_id, %session, "cmpay order opened");
            let pay_url = format!(
                "url<hi:=>{}/cmpay/wap/index.xhtml<hi:$$>method<hi:=>POST<hi:$$>sessionId<hi:=>{session}",
                cmpay.public_url
            );
            pay_answer(fields, SUCCESS.code, SUCCESS.msg, &pay_url)
        }
        Err(refusal) => pay_answer(fields, refusal.code.code, &refusal.message(), ""),
    }
}

fn is_date(text: &str) -> bool {
    text.len() == 8 && time::Date::parse(text, format_description!("[year][month][day]")).is_ok()
}

fn digits(text: &str, max: usize) -> Option<i64> {
    if text.is_empty() || text.len() > max || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// A return address: http(s), on the merchant's domains when it has some.
fn return_url(cmpay: &Cmpay, fields: &Fields, name: &str) -> Result<String, Refusal> {
    let url = fields.require(name)?;
    let web = url.starts_with("http://") || url.starts_with("https://");
    if !web || crate::urls::url_host(url).is_none() {
        return Err(Refusal::new(
            FIELD,
            format!("{name} must be an http(s) URL"),
        ));
    }
    if !cmpay.on_return_domains(url) {
        return Err(Refusal::new(
            FIELD,
            format!("{name}'s host is not one of the merchant's registered domains"),
        ));
    }
    Ok(url.to_owned())
}

/// The order a pay request asks for, checked.
fn pay_params(cmpay: &Cmpay, fields: &Fields) -> Result<OrderParams, Refusal> {
    let callback_url = return_url(cmpay, fields, "callbackUrl")?;
    let notify_url = return_url(cmpay, fields, "notifyUrl")?;
    fields.require("ipAddress")?;
    fields.require("requestId")?;
    let order_id = fields.require("orderId")?;
    if order_id.chars().count() > 50 {
        return Err(Refusal::new(FIELD, "orderId is longer than 50"));
    }
    let amount = digits(fields.get("amount"), 10)
        .filter(|amount| *amount > 0)
        .ok_or_else(|| Refusal::new(AMOUNT, "amount must be fen, more than 0"))?;
    match fields.get("currency") {
        "" => return Err(CURRENCY_EMPTY.into()),
        "00" => {}
        _ => return Err(Refusal::new(CURRENCY, "currency must be 00 (CNY)")),
    }
    match fields.get("orderDate") {
        "" => return Err(ORDER_DATE_EMPTY.into()),
        date if !is_date(date) => return Err(Refusal::new(ORDER_DATE, "orderDate is yyyyMMdd")),
        _ => {}
    }
    if !is_date(fields.get("merAcDate")) {
        return Err(Refusal::new(FIELD, "merAcDate is required, yyyyMMdd"));
    }
    let period = digits(fields.get("period"), 3)
        .ok_or_else(|| Refusal::new(PERIOD_EMPTY, "period is up to 3 digits"))?;
    if period == 0 {
        return Err(PERIOD_ZERO.into());
    }
    let unit_seconds = match fields.get("periodUnit") {
        "00" => 60,
        "01" => 60 * 60,
        "02" => 24 * 60 * 60,
        "03" => 30 * 24 * 60 * 60,
        _ => return Err(Refusal::new(PERIOD_UNIT, "periodUnit is 00, 01, 02 or 03")),
    };
    let product_name = fields.get("productName");
    if product_name.is_empty() {
        return Err(PRODUCT_EMPTY.into());
    }
    if product_name.chars().count() > 50 {
        return Err(Refusal::new(PRODUCT_LONG, "productName is at most 50"));
    }
    Ok(OrderParams {
        pay_type: if fields.get("type") == "WAPDirectPayConfirm" {
            PayType::Wap
        } else {
            PayType::Desktop
        },
        order_id: order_id.to_owned(),
        amount,
        bank_abbr: fields.get("bankAbbr").to_owned(),
        order_date: fields.get("orderDate").to_owned(),
        callback_url,
        notify_url,
        merchant_abbr: fields.get("merchantAbbr").to_owned(),
        product_name: product_name.to_owned(),
        reserved1: fields.get("reserved1").to_owned(),
        reserved2: fields.get("reserved2").to_owned(),
        lifetime: period * unit_seconds,
    })
}

fn query(cmpay: &Cmpay, fields: &Fields) -> Message {
    let merchant_id = &cmpay.config.merchant_id;
    let found = authenticate(cmpay, fields, &QUERY_ORDER)
        .and_then(|()| fields.require("orderId").map(str::to_owned))
        .and_then(|order_id| {
            let now = cmpay.now();
            cmpay
                .lock()
                .orders
                .get(&order_id)
                .map(|order| results::query(order, merchant_id, now))
                .ok_or_else(|| NOT_FOUND.into())
        });
    found.unwrap_or_else(|refusal| {
        results::query_refused(
            fields.get("merchantId"),
            refusal.code.code,
            &refusal.message(),
            fields.get("orderId"),
        )
    })
}

fn refund(cmpay: &Cmpay, fields: &Fields) -> Message {
    let merchant_id = &cmpay.config.merchant_id;
    let made = authenticate(cmpay, fields, &REFUND_ORDER).and_then(|()| {
        let request_id = fields.require("requestId")?;
        let order_id = fields.require("orderId")?;
        let amount = digits(fields.get("amount"), 10)
            .filter(|amount| *amount > 0)
            .ok_or_else(|| Refusal::new(REFUND_AMOUNT, "amount must be fen, more than 0"))?;
        let serial = cmpay.serial();
        let now = cmpay.now();
        let mut state = cmpay.lock();
        let fails = state.control.refunds_fail;
        let strict = state.control.strict_refunds;
        state
            .orders
            .refund(request_id, order_id, amount, fails, strict, serial, now)
    });
    match made {
        Ok(refund) => {
            tracing::info!(order_id = %refund.order_id, amount = refund.amount, succeeded = refund.succeeded, "cmpay refund answered");
            results::refund(&refund, merchant_id)
        }
        Err(refusal) => results::refund_message(
            fields.get("merchantId"),
            "",
            refusal.code.code,
            &refusal.message(),
            fields.get("amount"),
            fields.get("orderId"),
            "",
        ),
    }
}
