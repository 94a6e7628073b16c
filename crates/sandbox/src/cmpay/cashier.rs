//! The cashier a `payUrl` leads to: the shopper sees the order, pays,
//! fails the payment, or gives up, and is sent back to the merchant.
//!
//! Documented (DOC-DPC §7, the demo kits): the browser arrives at `url`
//! with `?sessionId=…` (by a GET redirect, or an empty form submitted with
//! the `method` of `payUrl`, the PHP kit spelling it `SESSIONID`); after
//! paying it comes back to `callbackUrl` by a POST of the signed
//! `PageNotify` fields (the same 19 as the notification), which the
//! merchant verifies but must not take as proof of payment on its own; an
//! order past its `period` is 订单已过期 (RPM99981).
//!
//! Assumed (the emulator's own cashier): the session may also come in a
//! form body; "支付失败" plays a payment that fails (`status=FAILED`,
//! notified and returned like a success); "放弃支付" posts `merchantId` and
//! `orderId` unsigned to `callbackUrl` and pays nothing (the order stays
//! WAITPAY); a decided order's session shows its result again (no second
//! notification); an outage shows an error page.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, RawQuery, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::orders::{Order, Undecidable};
use super::pages::{cashier_page, error_page, result_page};
use super::results;
use super::wire::EXPIRED;
use super::Cmpay;

/// Submits the result form to the merchant after a moment.
const RETURN_JS: &str = "window.addEventListener(\"DOMContentLoaded\", () => {\n  \
    const form = document.querySelector(\"form[data-autosubmit]\");\n  \
    if (form) setTimeout(() => form.submit(), 1000);\n});\n";

/// `GET /cmpay/wap/return.js`.
pub(super) async fn script() -> Response {
    (
        [
            (CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (CACHE_CONTROL, "no-cache"),
        ],
        RETURN_JS,
    )
        .into_response()
}

/// `sessionId` (any case) in a query string or form body.
fn session_in(text: &[u8]) -> Option<String> {
    form_urlencoded::parse(text)
        .find(|(name, _)| name.eq_ignore_ascii_case("sessionId"))
        .map(|(_, value)| value.into_owned())
}

/// `GET /cmpay/wap/index.xhtml?sessionId=…`.
pub(super) async fn open_get(
    State(cmpay): State<Arc<Cmpay>>,
    RawQuery(query): RawQuery,
) -> Response {
    show(
        &cmpay,
        query.as_deref().and_then(|q| session_in(q.as_bytes())),
    )
}

/// `POST /cmpay/wap/index.xhtml?sessionId=…` (the form may be empty).
pub(super) async fn open_post(
    State(cmpay): State<Arc<Cmpay>>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let session = query
        .as_deref()
        .and_then(|q| session_in(q.as_bytes()))
        .or_else(|| session_in(&body));
    show(&cmpay, session)
}

fn outage_page() -> Response {
    error_page(
        None,
        "系统繁忙，请稍后再试",
        "The service is unavailable: try again later",
    )
}

fn unknown_session() -> Response {
    error_page(
        None,
        "支付会话不存在或已失效，请返回商户重新发起支付",
        "This payment session is unknown: go back to the merchant and pay again",
    )
}

fn expired_page() -> Response {
    error_page(
        Some(EXPIRED.code),
        "订单已过期",
        "The order has expired and cannot be paid",
    )
}

/// The result page with the signed `PageNotify`.
fn finished(cmpay: &Cmpay, order: &Order) -> Response {
    let merchant_id = &cmpay.config.merchant_id;
    match results::payment(order, merchant_id, "PageNotify") {
        Some(message) => result_page(order, &message.signed(&cmpay.config.sign_key), merchant_id),
        None => unknown_session(),
    }
}

fn show(cmpay: &Cmpay, session: Option<String>) -> Response {
    if cmpay.control().outage {
        return outage_page();
    }
    let Some(session) = session else {
        return unknown_session();
    };
    let now = cmpay.now();
    let Some(order) = cmpay.lock().orders.by_session(&session).cloned() else {
        return unknown_session();
    };
    if order.decision.is_some() {
        finished(cmpay, &order)
    } else if now >= order.expires_at() {
        expired_page()
    } else {
        cashier_page(&order, &session, &cmpay.config.merchant_id)
    }
}

/// The cashier's form.
#[derive(Debug, Deserialize)]
pub(super) struct ConfirmForm {
    #[serde(rename = "sessionId")]
    session_id: String,
    outcome: Outcome,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum Outcome {
    Pay,
    Decline,
}

/// `POST /cmpay/wap/confirm`: the shopper pays or fails the payment.
pub(super) async fn confirm(
    State(cmpay): State<Arc<Cmpay>>,
    form: Result<Form<ConfirmForm>, FormRejection>,
) -> Response {
    if cmpay.control().outage {
        return outage_page();
    }
    let Ok(Form(form)) = form else {
        return unknown_session();
    };
    let paid = form.outcome == Outcome::Pay;
    let pay_no = cmpay.serial();
    let now = cmpay.now();
    let decided = cmpay
        .lock()
        .orders
        .decide(&form.session_id, paid, pay_no, now);
    match decided {
        Ok(order) => {
            tracing::info!(order_id = %order.params.order_id, paid, "cmpay payment decided");
            cmpay.notify_decision(&order);
            finished(&cmpay, &order)
        }
        Err(Undecidable::Decided(order)) => finished(&cmpay, &order),
        Err(Undecidable::Expired) => expired_page(),
        Err(Undecidable::Unknown) => unknown_session(),
    }
}
