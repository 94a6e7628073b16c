//! The shopper's pages: WeChat's H5 cashier (what an `h5_url` opens) and
//! the phone page for paying a pasted `code_url` by hand.

use std::sync::Arc;

use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Query, State};
use axum::http::header::{LOCATION, REFERER, USER_AGENT};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::orders::{PayRefused, TradeState, H5_URL_SECONDS};
use super::{Outcome, Wechat};
use crate::html::{escape, page, yuan};
use crate::urls::url_host;

/// The cashier's title.
const TITLE: &str = "微信支付 · WeChat Pay (sandbox)";
/// What WeChat shows for a bad H5 request, a wrong Referer included.
const MERCHANT_PARAMS_WRONG: &str = "商家参数格式有误，请联系商家解决";

/// A page with one message.
pub(crate) fn message_page(status: StatusCode, heading: &str, message: &str) -> Response {
    page(
        status,
        TITLE,
        &format!(
            "<header>微信支付</header><section class=\"card\"><h1>{}</h1><p class=\"note\">{}</p></section>",
            escape(heading),
            escape(message)
        ),
    )
}

#[derive(Debug, Deserialize)]
pub(super) struct H5Query {
    prepay_id: Option<String>,
    package: Option<String>,
    redirect_url: Option<String>,
}

/// `redirect_url` when given: an absolute http(s) URL, else refused.
fn redirect_url(given: Option<String>) -> Result<Option<String>, ()> {
    match given.filter(|url| !url.is_empty()) {
        None => Ok(None),
        Some(url)
            if (url.starts_with("https://") || url.starts_with("http://"))
                && !url.chars().any(char::is_control) =>
        {
            Ok(Some(url))
        }
        Some(_) => Err(()),
    }
}

/// Whether the page that linked here is on a registered H5 domain (or a
/// subdomain of one).
fn referer_allowed(headers: &HeaderMap, domains: &[String]) -> bool {
    headers
        .get(REFERER)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|referer| on_domains(referer, domains))
}

/// Whether `url`'s host is one of `domains` (or a subdomain of one).
fn on_domains(url: &str, domains: &[String]) -> bool {
    let Some(host) = url_host(url) else {
        return false;
    };
    domains.iter().any(|domain| {
        let domain = domain.trim().to_ascii_lowercase();
        host == domain || host.ends_with(&format!(".{domain}"))
    })
}

/// `GET /wechat-pay/h5/pay?prepay_id=&package=[&redirect_url=]`: the cashier.
pub(super) async fn h5_page(
    State(wechat): State<Arc<Wechat>>,
    headers: HeaderMap,
    query: Result<Query<H5Query>, QueryRejection>,
) -> Response {
    let refuse = || message_page(StatusCode::BAD_REQUEST, "支付异常", MERCHANT_PARAMS_WRONG);
    let Ok(Query(query)) = query else {
        return refuse();
    };
    if !wechat.config.h5_domains.is_empty() && !referer_allowed(&headers, &wechat.config.h5_domains)
    {
        return refuse();
    }
    // Inside WeChat, a merchant must use JSAPI: H5 fails there.
    let in_wechat = headers
        .get(USER_AGENT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|agent| agent.contains("MicroMessenger"));
    if in_wechat {
        return message_page(
            StatusCode::BAD_REQUEST,
            "支付异常",
            "请在微信外打开订单，进行支付",
        );
    }
    let (Some(prepay_id), Some(package)) = (query.prepay_id, query.package) else {
        return refuse();
    };
    let Ok(redirect) = redirect_url(query.redirect_url) else {
        return refuse();
    };
    let now = wechat.clock.unix_seconds();
    let mut state = wechat.lock();
    let Some(ticket) = state.orders.h5_ticket(&prepay_id, &package).cloned() else {
        return message_page(StatusCode::NOT_FOUND, "支付异常", "订单不存在或链接无效");
    };
    if now >= ticket.issued_at + H5_URL_SECONDS {
        return message_page(
            StatusCode::GONE,
            "链接已失效",
            "支付链接已过期，请返回商家页面重新发起支付",
        );
    }
    let Some(order) = state.orders.get(&ticket.out_trade_no, now) else {
        return message_page(StatusCode::NOT_FOUND, "支付异常", "订单不存在或链接无效");
    };
    match order.state {
        TradeState::Success | TradeState::Refund => {
            return message_page(StatusCode::CONFLICT, "该订单已支付", "请勿重复支付")
        }
        TradeState::Closed => {
            return message_page(StatusCode::CONFLICT, "订单已关闭", "请返回商家页面重新下单")
        }
        TradeState::NotPay | TradeState::UserPaying | TradeState::PayError => {}
    }
    let redirect_field = redirect
        .map(|url| {
            format!(
                "<input type=\"hidden\" name=\"redirect_url\" value=\"{}\">",
                escape(&url)
            )
        })
        .unwrap_or_default();
    let body = format!(
        "<header>微信支付 · WeChat Pay (sandbox)</header>\
         <section class=\"card\">\
         <p class=\"merchant\" data-testid=\"h5-description\">{description}</p>\
         <p class=\"amount\" data-testid=\"h5-amount\">¥{amount}</p>\
         <form method=\"post\" action=\"/wechat-pay/h5/pay\">\
         <input type=\"hidden\" name=\"prepay_id\" value=\"{prepay_id}\">\
         <input type=\"hidden\" name=\"package\" value=\"{package}\">\
         {redirect_field}\
         <button type=\"submit\" name=\"outcome\" value=\"pay\" class=\"primary\" data-testid=\"h5-pay\">支付</button>\
         <button type=\"submit\" name=\"outcome\" value=\"decline\" class=\"secondary\" data-testid=\"h5-decline\">模拟失败</button>\
         <button type=\"submit\" name=\"outcome\" value=\"cancel\" class=\"plain\" data-testid=\"h5-cancel\">取消</button>\
         </form>\
         </section>",
        description = escape(&order.params.description),
        amount = yuan(order.params.total),
        prepay_id = escape(&prepay_id),
        package = escape(&package),
    );
    drop(state);
    page(StatusCode::OK, TITLE, &body)
}

#[derive(Debug, Deserialize)]
pub(super) struct H5Form {
    prepay_id: String,
    package: String,
    redirect_url: Option<String>,
    outcome: String,
}

/// `POST /wechat-pay/h5/pay`: the shopper's choice, then back to the
/// merchant (303 to `redirect_url`) or a result page.
pub(super) async fn h5_submit(
    State(wechat): State<Arc<Wechat>>,
    form: Result<Form<H5Form>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return message_page(StatusCode::BAD_REQUEST, "支付异常", MERCHANT_PARAMS_WRONG);
    };
    let Ok(redirect) = redirect_url(form.redirect_url) else {
        return message_page(StatusCode::BAD_REQUEST, "支付异常", MERCHANT_PARAMS_WRONG);
    };
    // The link's five minutes count until the page is opened, not until the
    // shopper decides; the order's own expiry still applies.
    let ticket = wechat
        .lock()
        .orders
        .h5_ticket(&form.prepay_id, &form.package)
        .cloned();
    let Some(ticket) = ticket else {
        return message_page(StatusCode::NOT_FOUND, "支付异常", "订单不存在或链接无效");
    };
    let outcome = match form.outcome.as_str() {
        "pay" => Some(Outcome::Pay),
        "decline" => Some(Outcome::Decline),
        "cancel" => None,
        _ => return message_page(StatusCode::BAD_REQUEST, "支付异常", MERCHANT_PARAMS_WRONG),
    };
    let (heading, note) = match outcome.map(|outcome| wechat.settle(&ticket.out_trade_no, outcome))
    {
        None => ("已取消支付", "订单未支付"),
        Some(Ok(order)) if order.state == TradeState::Success => {
            ("支付成功", "请返回商家页面查看订单")
        }
        Some(Ok(_)) => ("支付失败", "模拟的支付失败 (PAYERROR)"),
        Some(Err(refused)) => {
            let message = match refused {
                PayRefused::Paid => "该订单已支付",
                PayRefused::Closed => "订单已关闭",
                PayRefused::NotFound => "订单不存在",
                PayRefused::NoHold => "无法暂停支付",
            };
            let back = redirect
                .map(|url| format!("<p><a href=\"{}\">返回商家</a></p>", escape(&url)))
                .unwrap_or_default();
            return page(
                StatusCode::CONFLICT,
                TITLE,
                &format!(
                    "<header>微信支付</header><section class=\"card\"><h1>{message}</h1>{back}</section>"
                ),
            );
        }
    };
    match redirect {
        Some(url) => (StatusCode::SEE_OTHER, [(LOCATION, url)]).into_response(),
        None => message_page(StatusCode::OK, heading, note),
    }
}

/// `GET /phone`: pay, decline or hold a pasted `code_url`, for people
/// trying the demo; below, the shopper's statement: payments and refunds.
pub(super) async fn phone_page(State(wechat): State<Arc<Wechat>>) -> Response {
    let lines = wechat.lock().orders.statement();
    let rows: String = lines
        .iter()
        .map(|line| {
            let (sign, direction) = if line.amount < 0 {
                ("-", "out")
            } else {
                ("+", "in")
            };
            let when = crate::clock::rfc3339_cst(line.at);
            format!(
                "<div class=\"line\" data-testid=\"statement-line\">\
                 <div><div class=\"line__what\">{what}</div>\
                 <div class=\"line__when\">{when}</div></div>\
                 <div><div class=\"line__amount line__amount--{direction}\">{sign}¥{amount}</div>\
                 <div class=\"line__state\">{state}</div></div></div>",
                what = escape(&line.what),
                when = escape(when.get(..19).unwrap_or(&when)).replace('T', " "),
                amount = yuan(line.amount.abs()),
                state = line.state,
            )
        })
        .collect();
    let statement = if rows.is_empty() {
        "<p class=\"note\">还没有交易 · no payments yet</p>".to_owned()
    } else {
        format!("<div data-testid=\"statement\">{rows}</div>")
    };
    page(
        StatusCode::OK,
        "手机微信 · Phone (sandbox)",
        &format!(
            "<header>手机微信 · the shopper's phone (sandbox)</header>\
             <section class=\"card\">\
             <form method=\"post\" action=\"/phone\">\
             <label for=\"code_url\">扫码内容 code_url</label>\
             <textarea id=\"code_url\" name=\"code_url\" required placeholder=\"weixin://wxpay/bizpayurl?pr=...\"></textarea>\
             <button type=\"submit\" name=\"outcome\" value=\"pay\" class=\"primary\" data-testid=\"phone-pay\">支付</button>\
             <button type=\"submit\" name=\"outcome\" value=\"decline\" class=\"secondary\" data-testid=\"phone-decline\">模拟失败</button>\
             <button type=\"submit\" name=\"outcome\" value=\"hold\" class=\"plain\" data-testid=\"phone-hold\">扫码后暂停 (hold; needs the pay_after_close fault)</button>\
             </form></section>\
             <section class=\"card\"><h2>账单 · statement</h2>{statement}</section>"
        ),
    )
}

#[derive(Debug, Deserialize)]
pub(super) struct PhoneForm {
    code_url: String,
    outcome: String,
}

/// `POST /phone`: the form of [`phone_page`], answered as a page.
pub(super) async fn phone_submit(
    State(wechat): State<Arc<Wechat>>,
    form: Result<Form<PhoneForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return message_page(StatusCode::BAD_REQUEST, "扫码失败", "缺少 code_url");
    };
    let outcome = match form.outcome.as_str() {
        "pay" => Outcome::Pay,
        "decline" => Outcome::Decline,
        "hold" => Outcome::Hold,
        _ => return message_page(StatusCode::BAD_REQUEST, "扫码失败", "未知操作"),
    };
    match wechat.scan(&form.code_url, outcome) {
        Ok(order) => message_page(
            StatusCode::OK,
            match order.state {
                TradeState::Success => "支付成功",
                TradeState::UserPaying => "等待确认支付",
                _ => "支付失败",
            },
            &format!(
                "{} ¥{} · trade_state {}",
                order.params.description,
                yuan(order.params.total),
                order.state.wire()
            ),
        ),
        Err(error) => message_page(
            error.status,
            "扫码失败",
            &format!("{} ({})", error.message, error.code),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn allows_registered_domains_and_their_subdomains() {
        let domains = vec!["example.com".to_owned()];
        let mut headers = HeaderMap::new();
        assert!(!referer_allowed(&headers, &domains));
        headers.insert(
            REFERER,
            HeaderValue::from_static("https://pay.example.com/checkout"),
        );
        assert!(referer_allowed(&headers, &domains));
        headers.insert(
            REFERER,
            HeaderValue::from_static("https://example.com.evil.test/"),
        );
        assert!(!referer_allowed(&headers, &domains));
    }
}
