//! What the platform says about an order, field by field in hmac order:
//! the payment result (the `OfflineNotify` notification and the browser's
//! `PageNotify`), the `OrderQuery` answer and the `OrderRefund` answer.
//! Signed by the caller.
//!
//! Documented (DOC-DPC §7.2/§8.2, DOC-Q §7.2, DOC-R §7.2; vectors in
//! `wire`): the payment result's 19 fields end with `accountDate`,
//! `reserved1`, `reserved2`, `status`, `orderDate`, `fee`; the query's 18
//! are the same without `accountDate`; `amtItem` splits the amount into
//! cash, top-up card, e-coupon, voucher and points
//! (`CNY_AMT=..#CMY_AMT=..#RED_AMT=..#VCH_AMT=..#POT_CHG_AMT=..`, fen);
//! `mobile` is masked (first 3, `****`, last 4); `status` is `SUCCESS` or
//! `FAILED`; a query answer may say `returnCode=000000` with
//! `status=FAILED` (the PDF's sample).
//!
//! Assumed: the shopper always pays in cash from `150****8779` (the
//! published notification's number) with no fee (`fee=0`); `message` is
//! `SUCCESS` whenever `returnCode` is `000000`, a declined payment
//! included; an order made but not decided is answered `status=WAITPAY`
//! with `payNo`, `amtItem`, `mobile` and `payDate` empty (only SUCCESS and
//! FAILED are published: WAITPAY is the emulator's word for "not yet"),
//! and one that expired undecided `FAILED`.

use super::orders::{Order, Refund, Status};
use super::wire::{Message, SUCCESS};
use crate::clock::cst_digits;

/// `version`.
pub(crate) const VERSION: &str = "2.0.0";
/// `signType`: the only one played.
pub(crate) const MD5: &str = "MD5";
/// The shopper's masked number.
pub(crate) const MOBILE: &str = "150****8779";

/// All in cash.
fn amt_item(amount: i64) -> String {
    format!("CNY_AMT={amount}#CMY_AMT=0#RED_AMT=0#VCH_AMT=0#POT_CHG_AMT=0")
}

fn status_text(status: Status) -> &'static str {
    match status {
        Status::WaitPay => "WAITPAY",
        Status::Success => "SUCCESS",
        Status::Failed => "FAILED",
    }
}

/// A decided payment's result; `kind` is `OfflineNotify` or `PageNotify`.
/// `None` while undecided.
pub(crate) fn payment(order: &Order, merchant_id: &str, kind: &'static str) -> Option<Message> {
    let decision = order.decision.as_ref()?;
    let params = &order.params;
    let pay_date = cst_digits(decision.at);
    let account_date = pay_date.get(..8).unwrap_or_default().to_owned();
    Some(
        Message::new()
            .with("merchantId", merchant_id)
            .with("payNo", decision.pay_no.clone())
            .with("returnCode", SUCCESS.code)
            .with("message", SUCCESS.msg)
            .with("signType", MD5)
            .with("type", kind)
            .with("version", VERSION)
            .with("amount", params.amount.to_string())
            .with("amtItem", amt_item(params.amount))
            .with("bankAbbr", params.bank_abbr.clone())
            .with("mobile", MOBILE)
            .with("orderId", params.order_id.clone())
            .with("payDate", pay_date)
            .with("accountDate", account_date)
            .with("reserved1", params.reserved1.clone())
            .with("reserved2", params.reserved2.clone())
            .with("status", if decision.paid { "SUCCESS" } else { "FAILED" })
            .with("orderDate", params.order_date.clone())
            .with("fee", "0"),
    )
}

/// The `OrderQuery` answer about a known order.
pub(crate) fn query(order: &Order, merchant_id: &str, now: i64) -> Message {
    let params = &order.params;
    let decision = order.decision.as_ref();
    let decided = |value: String| {
        if decision.is_some() {
            value
        } else {
            String::new()
        }
    };
    Message::new()
        .with("merchantId", merchant_id)
        .with(
            "payNo",
            decision.map(|d| d.pay_no.clone()).unwrap_or_default(),
        )
        .with("returnCode", SUCCESS.code)
        .with("message", SUCCESS.msg)
        .with("signType", MD5)
        .with("type", "OrderQuery")
        .with("version", VERSION)
        .with("amount", params.amount.to_string())
        .with("amtItem", decided(amt_item(params.amount)))
        .with("bankAbbr", params.bank_abbr.clone())
        .with("mobile", decided(MOBILE.to_owned()))
        .with("orderId", params.order_id.clone())
        .with(
            "payDate",
            decision.map(|d| cst_digits(d.at)).unwrap_or_default(),
        )
        .with("reserved1", params.reserved1.clone())
        .with("reserved2", params.reserved2.clone())
        .with("status", status_text(order.status(now)))
        .with("orderDate", params.order_date.clone())
        .with("fee", "0")
}

/// An `OrderQuery` refused: the answer's fields, empty but the echoes.
pub(crate) fn query_refused(
    merchant_id: &str,
    code: &str,
    message: &str,
    order_id: &str,
) -> Message {
    let mut answer = Message::new()
        .with("merchantId", merchant_id)
        .with("payNo", "")
        .with("returnCode", code)
        .with("message", message)
        .with("signType", MD5)
        .with("type", "OrderQuery")
        .with("version", VERSION);
    for name in ["amount", "amtItem", "bankAbbr", "mobile"] {
        answer = answer.with(name, "");
    }
    answer = answer.with("orderId", order_id);
    for name in [
        "payDate",
        "reserved1",
        "reserved2",
        "status",
        "orderDate",
        "fee",
    ] {
        answer = answer.with(name, "");
    }
    answer
}

/// The `OrderRefund` answer about a refund made (or made before).
pub(crate) fn refund(refund: &Refund, merchant_id: &str) -> Message {
    refund_message(
        merchant_id,
        &refund.serial,
        SUCCESS.code,
        SUCCESS.msg,
        &refund.amount.to_string(),
        &refund.order_id,
        if refund.succeeded {
            "SUCCESS"
        } else {
            "FAILED"
        },
    )
}

/// The `OrderRefund` answer's fields.
pub(crate) fn refund_message(
    merchant_id: &str,
    serial: &str,
    code: &str,
    message: &str,
    amount: &str,
    order_id: &str,
    status: &str,
) -> Message {
    Message::new()
        .with("merchantId", merchant_id)
        .with("payNo", serial)
        .with("returnCode", code)
        .with("message", message)
        .with("signType", MD5)
        .with("type", "OrderRefund")
        .with("version", VERSION)
        .with("amount", amount)
        .with("orderId", order_id)
        .with("status", status)
}
