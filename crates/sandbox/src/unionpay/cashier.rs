//! The card page's steps: the shopper types a card number, then the SMS
//! code the bank sent, and is sent back to the merchant with the result.
//!
//! Documented (UnionPay's demos; `providers.md`): the browser comes back to
//! `frontUrl` by a POST of the signed result fields (the demo: "点击'返回
//! 商户'按钮的时候将异步通知报文post到该地址"), which the merchant must
//! not take as proof of payment; the `backUrl` notification and the query
//! are. 64 is 卡上的余额不足, 71 a failed SMS code, 69 a shopper too slow.
//!
//! Assumed (the emulator's own test bank): the cards `6216261000000000018`
//! (debit) and `6221558812340000` (credit) pay, `6216261000000000026` is
//! declined for insufficient funds (64) once the SMS code is right, any
//! other number is not supported and the page says so; every card's phone
//! is `135****5506` and its SMS code `111111`; the third wrong code fails
//! the payment (71); once the card is entered the payment is processing
//! (05) until it ends; after `payTimeout` the page says 订单已超时; a
//! declined or failed payment is posted to `frontUrl` (signed, with its
//! code) and not notified; "返回商户" on a step posts `merId`, `orderId`
//! and `txnTime` unsigned and pays nothing.

use std::sync::Arc;

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::keys::Signer;
use super::pages::{card_page, error_page, message_page, result_page, sms_page};
use super::results;
use super::txns::{Card, Order, PayRefused, SmsResult, TxnKey};
use super::wire::{FORMAT, TIMED_OUT};
use super::Unionpay;

/// Submits the result form to the merchant, as UnionPay's result page does
/// after a moment.
const RETURN_JS: &str = "window.addEventListener(\"DOMContentLoaded\", () => {\n  \
    const form = document.querySelector(\"form[data-autosubmit]\");\n  \
    if (form) setTimeout(() => form.submit(), 1000);\n});\n";

/// `GET /unionpay/cashier/return.js`.
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

/// The card step's form.
#[derive(Debug, Deserialize)]
pub(super) struct CardForm {
    token: String,
    #[serde(rename = "cardNo")]
    card_no: String,
}

/// The SMS step's form.
#[derive(Debug, Deserialize)]
pub(super) struct SmsForm {
    token: String,
    #[serde(rename = "smsCode")]
    sms_code: String,
}

fn expired_session() -> Response {
    error_page(
        FORMAT.code,
        "支付页面已失效，请返回商户重新发起支付 (sandbox: unknown card page token)",
    )
}

/// The order a step's token is for.
fn order_of(unionpay: &Unionpay, token: &str) -> Option<(TxnKey, Order)> {
    let now = unionpay.now();
    let mut state = unionpay.lock();
    let key = state.txns.by_token(token)?;
    let order = state.txns.order(&key, now)?.clone();
    Some((key, order))
}

/// The page for an order that cannot be paid here (any more).
fn unpayable_page(order: &Order, refused: PayRefused) -> Response {
    match refused {
        PayRefused::Failed(resp) if resp != TIMED_OUT => message_page(
            Some(order),
            "unionpay-order-failed",
            "该订单支付失败，请返回商户重新下单",
            "This payment failed: go back to the merchant and order again",
        ),
        PayRefused::TimedOut | PayRefused::Failed(_) => message_page(
            Some(order),
            "unionpay-timed-out",
            "订单已超时",
            "The order has timed out and cannot be paid",
        ),
        PayRefused::Paid => message_page(
            Some(order),
            "unionpay-already-paid",
            "该订单已支付",
            "This order is paid already",
        ),
        PayRefused::NotFound => message_page(
            Some(order),
            "unionpay-order-failed",
            "该订单支付失败，请返回商户重新下单",
            "This payment failed: go back to the merchant and order again",
        ),
    }
}

/// `POST /unionpay/cashier/card`: the card number.
pub(super) async fn card(
    State(unionpay): State<Arc<Unionpay>>,
    form: Result<Form<CardForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return expired_session();
    };
    let Some((key, order)) = order_of(&unionpay, &form.token) else {
        return expired_session();
    };
    if let Err(refused) = order.payable(unionpay.now()) {
        return unpayable_page(&order, refused);
    }
    let number: String = form
        .card_no
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    let Some(card) = Card::test(&number) else {
        return card_page(
            &order,
            &form.token,
            Some(&super::pages::both(
                "该卡暂不支持，请更换其他银联卡",
                "This card is not supported: use another UnionPay card",
            )),
        );
    };
    let now = unionpay.now();
    let entered = unionpay.lock().txns.enter_card(&key, card.clone(), now);
    match entered {
        Ok(order) => {
            tracing::info!(order_id = %key.order_id, card = %card.masked(), "unionpay card entered, SMS code awaited");
            sms_page(&order, &form.token, &card.masked(), None)
        }
        Err(refused) => unpayable_page(&order, refused),
    }
}

/// `POST /unionpay/cashier/sms`: the SMS code, and the end of the payment.
pub(super) async fn sms(
    State(unionpay): State<Arc<Unionpay>>,
    form: Result<Form<SmsForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return expired_session();
    };
    let Some((key, order)) = order_of(&unionpay, &form.token) else {
        return expired_session();
    };
    let now = unionpay.now();
    let taken = unionpay.lock().txns.sms(&key, &form.sms_code, now);
    let (order, result) = match taken {
        Ok(taken) => taken,
        Err(refused) => return unpayable_page(&order, refused),
    };
    let masked = order
        .attempt
        .as_ref()
        .map(|attempt| attempt.card.masked())
        .unwrap_or_default();
    match result {
        SmsResult::Wrong(left) => sms_page(
            &order,
            &form.token,
            &masked,
            Some(&super::pages::both(
                &format!("验证码错误，还可输入{left}次"),
                &format!("Wrong code: {left} more tries"),
            )),
        ),
        SmsResult::Paid => {
            tracing::info!(order_id = %key.order_id, "unionpay payment succeeded");
            unionpay.notify_payment(&order);
            finished(&unionpay, &order, true)
        }
        SmsResult::Declined(_) | SmsResult::Failed => {
            tracing::info!(order_id = %key.order_id, ?result, "unionpay payment failed");
            finished(&unionpay, &order, false)
        }
    }
}

/// The result page with the signed front return.
fn finished(unionpay: &Unionpay, order: &Order, succeeded: bool) -> Response {
    let message = results::payment(order);
    let resp_msg = message.get("respMsg").unwrap_or_default().to_owned();
    match message.signed(&unionpay.keys, Signer::UnionPay) {
        Ok(signed) => result_page(order, succeeded, &resp_msg, &signed),
        Err(error) => {
            tracing::error!(%error, "cannot sign a unionpay front return");
            error_page("01", "交易失败 (sandbox: the result could not be signed)")
        }
    }
}
