//! The cashier's pages as the emulator draws them: 和包's look, Chinese
//! with English under it, one column that fits a 360 px phone, no script
//! but the one that submits the result to the merchant (and a button that
//! does the same without it).

use axum::http::StatusCode;
use axum::response::Response;

use super::orders::Order;
use super::results::MOBILE;
use super::wire::Message;
use crate::html::{escape, page, yuan};

/// The pages' title.
const TITLE: &str = "和包支付 · China Mobile Pay (sandbox)";

/// Chinese, with its English under it.
pub(crate) fn both(chinese: &str, english: &str) -> String {
    format!(
        "{}<span class=\"en\">{}</span>",
        escape(chinese),
        escape(english)
    )
}

fn shell(body: &str) -> Response {
    page(
        StatusCode::OK,
        TITLE,
        &format!(
            "<header class=\"cmpay\">{}</header>{body}",
            both("和包支付", "China Mobile Pay · sandbox")
        ),
    )
}

/// The order, as every page shows it.
fn summary(order: &Order, merchant_id: &str) -> String {
    let params = &order.params;
    let merchant = if params.merchant_abbr.is_empty() {
        merchant_id
    } else {
        &params.merchant_abbr
    };
    format!(
        "<p class=\"merchant\" data-testid=\"cmpay-merchant\">{}</p>\
         <p class=\"merchant\" data-testid=\"cmpay-product\">{}</p>\
         <p class=\"amount\" data-testid=\"cmpay-amount\">¥{}</p>\
         <p class=\"note\">订单号 Order <span data-testid=\"cmpay-order-id\">{}</span></p>",
        escape(merchant),
        escape(&params.product_name),
        yuan(params.amount),
        escape(&params.order_id),
    )
}

/// "返回商户": the browser goes to `callbackUrl` with `merchantId` and
/// `orderId` (unsigned), nothing paid.
fn back_form(order: &Order, merchant_id: &str) -> String {
    format!(
        "<form method=\"post\" action=\"{}\" class=\"back\">\
         <input type=\"hidden\" name=\"merchantId\" value=\"{}\">\
         <input type=\"hidden\" name=\"orderId\" value=\"{}\">\
         <button type=\"submit\" class=\"plain\" data-testid=\"cmpay-back\">{}</button></form>",
        escape(&order.params.callback_url),
        escape(merchant_id),
        escape(&order.params.order_id),
        both("放弃支付，返回商户", "Give up and go back to the merchant"),
    )
}

/// The cashier: pay, decline, or go back.
pub(crate) fn cashier_page(order: &Order, session: &str, merchant_id: &str) -> Response {
    shell(&format!(
        "<section class=\"card\">{summary}\
         <p class=\"note\">{account} <span data-testid=\"cmpay-mobile\">{MOBILE}</span></p>\
         <form method=\"post\" action=\"/cmpay/wap/confirm\">\
         <input type=\"hidden\" name=\"sessionId\" value=\"{session}\">\
         <button type=\"submit\" name=\"outcome\" value=\"pay\" class=\"cmpay\" data-testid=\"cmpay-pay\">{pay}</button>\
         <button type=\"submit\" name=\"outcome\" value=\"decline\" class=\"secondary\" data-testid=\"cmpay-decline\">{decline}</button>\
         </form>{back}</section>",
        summary = summary(order, merchant_id),
        account = both("和包账户", "和包 account"),
        session = escape(session),
        pay = both("确认支付", "Pay"),
        decline = both("支付失败（模拟）", "Fail the payment (sandbox)"),
        back = back_form(order, merchant_id),
    ))
}

/// The end of a payment: the signed `PageNotify`, submitted to
/// `callbackUrl` by `return.js`, or by the shopper's button.
pub(crate) fn result_page(order: &Order, signed: &Message, merchant_id: &str) -> Response {
    let paid = signed.get("status") == "SUCCESS";
    let heading = if paid {
        both("支付成功", "Payment successful")
    } else {
        both("支付失败", "Payment failed")
    };
    let inputs: String = signed
        .pairs()
        .iter()
        .map(|(name, value)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                escape(name),
                escape(value)
            )
        })
        .collect();
    shell(&format!(
        "<section class=\"card\"><h1 data-testid=\"cmpay-result\">{heading}</h1>{summary}\
         <form method=\"post\" action=\"{action}\" data-autosubmit data-testid=\"cmpay-return\">{inputs}\
         <button type=\"submit\" class=\"cmpay\" data-testid=\"cmpay-return-button\">{back}</button></form>\
         <script src=\"/cmpay/wap/return.js\" defer></script></section>",
        summary = summary(order, merchant_id),
        action = escape(&order.params.callback_url),
        back = both("返回商户", "Back to the merchant"),
    ))
}

/// Why the cashier cannot go on; `code` is a return code when there is
/// one.
pub(crate) fn error_page(code: Option<&str>, chinese: &str, english: &str) -> Response {
    let code = code
        .map(|code| {
            format!(
                "<p class=\"note\">returnCode <code data-testid=\"cmpay-error-code\">{}</code></p>",
                escape(code)
            )
        })
        .unwrap_or_default();
    shell(&format!(
        "<section class=\"card\" data-testid=\"cmpay-error\"><h1>{}</h1>{code}</section>",
        both(chinese, english),
    ))
}
