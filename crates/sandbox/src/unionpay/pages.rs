//! The pages of the card page (UnionPay's 银联在线支付 cashier) as the
//! emulator draws them: Chinese with English under it, one column that
//! fits a 360 px phone, no script but the one that submits the result to
//! the merchant (and a button that does the same without it).

use axum::http::StatusCode;
use axum::response::Response;

use super::txns::Order;
use crate::html::{escape, page, yuan};

/// The pages' title.
pub(crate) const TITLE: &str = "银联在线支付 · UnionPay Online Payment (sandbox)";
/// The phone number the emulated bank has for every card, masked.
pub(crate) const PHONE: &str = "135****5506";

/// Escapes an attribute value, line breaks too, so that the browser sends
/// `signPubKeyCert` back with the CRLF UnionPay signed.
fn attr(value: &str) -> String {
    escape(value).replace('\r', "&#13;").replace('\n', "&#10;")
}

/// Chinese, with its English under it.
pub(crate) fn both(chinese: &str, english: &str) -> String {
    format!(
        "{}<span class=\"en\">{}</span>",
        escape(chinese),
        escape(english)
    )
}

fn shell(status: StatusCode, body: &str) -> Response {
    page(
        status,
        TITLE,
        &format!(
            "<header class=\"unionpay\">{}</header>{body}",
            both("银联在线支付", "UnionPay Online Payment · sandbox")
        ),
    )
}

/// The order, as every step shows it.
fn summary(order: &Order) -> String {
    let desc = order
        .params
        .order_desc
        .as_deref()
        .map(|desc| {
            format!(
                "<p class=\"merchant\" data-testid=\"unionpay-order-desc\">{}</p>",
                escape(desc)
            )
        })
        .unwrap_or_default();
    format!(
        "{desc}<p class=\"amount\" data-testid=\"unionpay-amount\">¥{}</p>\
         <p class=\"note\">商户号 Merchant {} · 订单号 Order <span data-testid=\"unionpay-order-id\">{}</span></p>",
        yuan(order.params.amount),
        escape(&order.params.key.mer_id),
        escape(&order.params.key.order_id),
    )
}

/// "返回商户": the browser goes to `frontUrl` with `merId`, `orderId` and
/// `txnTime` (unsigned), nothing paid.
fn back_form(order: &Order) -> String {
    let Some(front_url) = &order.params.front_url else {
        return String::new();
    };
    let key = &order.params.key;
    format!(
        "<form method=\"post\" action=\"{}\" class=\"back\">\
         <input type=\"hidden\" name=\"merId\" value=\"{}\">\
         <input type=\"hidden\" name=\"orderId\" value=\"{}\">\
         <input type=\"hidden\" name=\"txnTime\" value=\"{}\">\
         <button type=\"submit\" class=\"plain\" data-testid=\"unionpay-back\">{}</button></form>",
        attr(front_url),
        attr(&key.mer_id),
        attr(&key.order_id),
        attr(&key.txn_time),
        both("返回商户", "Back to the merchant"),
    )
}

fn error_line(error: Option<&str>) -> String {
    error
        .map(|message| {
            format!(
                "<p class=\"error\" role=\"alert\" data-testid=\"unionpay-step-error\">{message}</p>"
            )
        })
        .unwrap_or_default()
}

/// The gateway refused the browser's request: its `respCode` and `respMsg`.
pub(crate) fn error_page(resp_code: &str, resp_msg: &str) -> Response {
    shell(
        StatusCode::OK,
        &format!(
            "<section class=\"card\" data-testid=\"unionpay-error\">\
             <h1>{}</h1>\
             <p>respCode <code data-testid=\"unionpay-error-code\">{}</code></p>\
             <p class=\"note\" data-testid=\"unionpay-error-msg\">{}</p></section>",
            both("交易失败", "The payment cannot be made"),
            escape(resp_code),
            escape(resp_msg),
        ),
    )
}

/// Step one: the card number. `error` is trusted HTML.
pub(crate) fn card_page(order: &Order, token: &str, error: Option<&str>) -> Response {
    shell(
        StatusCode::OK,
        &format!(
            "<section class=\"card\">{summary}\
             <form method=\"post\" action=\"/unionpay/cashier/card\" class=\"fields\">\
             <input type=\"hidden\" name=\"token\" value=\"{token}\">\
             <label for=\"cardNo\">{card_label}</label>\
             <input class=\"field\" id=\"cardNo\" name=\"cardNo\" inputmode=\"numeric\" autocomplete=\"cc-number\" required data-testid=\"unionpay-card-number\">\
             <label for=\"phone\">{phone_label}</label>\
             <input class=\"field\" id=\"phone\" value=\"{PHONE}\" readonly>\
             {error}\
             <button type=\"submit\" class=\"unionpay\" data-testid=\"unionpay-next\">{next}</button>\
             </form>{back}</section>\
             <section class=\"card\"><h2>{cards_heading}</h2><ul class=\"note\">\
             <li><code>6216261000000000018</code> 借记卡 debit: pays</li>\
             <li><code>6221558812340000</code> 信用卡 credit: pays</li>\
             <li><code>6216261000000000026</code> 借记卡 debit: 余额不足 insufficient funds (64)</li>\
             <li>短信验证码 SMS code <code>111111</code></li></ul></section>",
            summary = summary(order),
            token = attr(token),
            card_label = both("银行卡号", "Card number"),
            phone_label = both("手机号", "Mobile number"),
            error = error_line(error),
            next = both("下一步", "Next"),
            back = back_form(order),
            cards_heading = both("测试卡", "Test cards"),
        ),
    )
}

/// Step two: the SMS code. `error` is trusted HTML.
pub(crate) fn sms_page(
    order: &Order,
    token: &str,
    masked_card: &str,
    error: Option<&str>,
) -> Response {
    shell(
        StatusCode::OK,
        &format!(
            "<section class=\"card\">{summary}\
             <p class=\"note\">{card_label} <span data-testid=\"unionpay-card\">{card}</span></p>\
             <form method=\"post\" action=\"/unionpay/cashier/sms\" class=\"fields\">\
             <input type=\"hidden\" name=\"token\" value=\"{token}\">\
             <label for=\"smsCode\">{sms_label}</label>\
             <input class=\"field\" id=\"smsCode\" name=\"smsCode\" inputmode=\"numeric\" autocomplete=\"one-time-code\" maxlength=\"6\" required data-testid=\"unionpay-sms-code\">\
             {error}\
             <button type=\"submit\" class=\"unionpay\" data-testid=\"unionpay-pay\">{pay}</button>\
             </form>{back}</section>",
            summary = summary(order),
            card_label = both("付款卡", "Card"),
            card = escape(masked_card),
            token = attr(token),
            sms_label = both(
                &format!("短信验证码已发送至 {PHONE}"),
                "SMS code sent to your phone (sandbox: 111111)"
            ),
            error = error_line(error),
            pay = both("确认付款", "Pay"),
            back = back_form(order),
        ),
    )
}

/// The end of a payment on the card page: the signed result, submitted to
/// `frontUrl` by `return.js`, or by the shopper's button.
pub(crate) fn result_page(
    order: &Order,
    succeeded: bool,
    resp_msg: &str,
    signed: &[(String, String)],
) -> Response {
    let heading = if succeeded {
        both("支付成功", "Payment successful")
    } else {
        both("支付失败", "Payment failed")
    };
    let inputs: String = signed
        .iter()
        .map(|(name, value)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                attr(name),
                attr(value)
            )
        })
        .collect();
    let form = match &order.params.front_url {
        Some(front_url) => format!(
            "<form method=\"post\" action=\"{}\" data-autosubmit data-testid=\"unionpay-return\">{inputs}\
             <button type=\"submit\" class=\"unionpay\" data-testid=\"unionpay-return-button\">{}</button></form>\
             <script src=\"/unionpay/cashier/return.js\" defer></script>",
            attr(front_url),
            both("返回商户", "Back to the merchant"),
        ),
        None => String::new(),
    };
    shell(
        StatusCode::OK,
        &format!(
            "<section class=\"card\"><h1 data-testid=\"unionpay-result\">{heading}</h1>{summary}\
             <p class=\"note\" data-testid=\"unionpay-result-msg\">{msg}</p>{form}</section>",
            summary = summary(order),
            msg = escape(resp_msg),
        ),
    )
}

/// A page that says why the order cannot be paid here (any more).
pub(crate) fn message_page(
    order: Option<&Order>,
    testid: &str,
    chinese: &str,
    english: &str,
) -> Response {
    let (summary, back) = order
        .map(|order| (summary(order), back_form(order)))
        .unwrap_or_default();
    shell(
        StatusCode::OK,
        &format!(
            "<section class=\"card\"><h1 data-testid=\"{}\">{}</h1>{summary}{back}</section>",
            attr(testid),
            both(chinese, english),
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_keep_line_breaks_as_references() {
        assert_eq!(
            attr("-----BEGIN\r\nA\"B\r\n-----END"),
            "-----BEGIN&#13;&#10;A&quot;B&#13;&#10;-----END"
        );
    }
}
