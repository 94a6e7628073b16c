//! The WAP cashier: what the shopper's mobile browser gets when it brings
//! `alipay.trade.wap.pay` to the gateway, and where it goes afterwards.
//!
//! Documented (opendocs open/00f7nh, 02ivbs, common/0i2kxr, and a public
//! probe of the gateway): the browser arrives at `gateway.do` with the
//! signed parameters in the query (GET) or as an auto-submitted form (the
//! common ones in the action's query, `biz_content` a field); errors are a
//! page, HTTP 200, "调试错误，请回到请求来源地，重新发起请求。错误代码
//! invalid-app-id 错误原因: 无效的AppID参数". After paying, the browser
//! returns to `return_url` with `charset`, `out_trade_no`, `method`
//! (`alipay.trade.wap.pay.return`), `total_amount`, `sign`, `trade_no`,
//! `auth_app_id`, `version`, `app_id`, `sign_type`, `seller_id` and
//! `timestamp`, verified like a notification (every field but `sign` and
//! `sign_type`). A shopper who gives up goes to `quit_url`. Alipay's pages
//! do not open inside WeChat.
//!
//! Assumed: the page is UTF-8 (Alipay's is GBK); the cashier posts the
//! shopper's choice to `/alipay/cashier` with a token the page carried; a
//! refusal by risk control closes the trade and says so, with a link back
//! to `quit_url` (else `return_url`); giving up without a `quit_url` goes
//! to `return_url`; the sync return is a 303; the blocked page inside
//! WeChat is a 403 of the emulator's own wording.

use std::sync::Arc;

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::header::{LOCATION, USER_AGENT};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::trades::{PayRefused, Trade};
use super::wire::Params;
use super::{api, gateway, Alipay};
use crate::clock::cst_datetime;
use crate::html::{escape, page, yuan};
use crate::urls::append_query;

/// The cashier's title.
const TITLE: &str = "支付宝 · Alipay (sandbox)";

/// Alipay's error page for a page request: HTTP 200, the error's code and
/// reason (an `isv.` code is shown without its prefix).
pub(crate) fn error_page(code: &str, reason: &str) -> Response {
    let code = code.strip_prefix("isv.").unwrap_or(code);
    page(
        StatusCode::OK,
        TITLE,
        &format!(
            "<header class=\"alipay\">支付宝</header><section class=\"card\" data-testid=\"alipay-error\">\
             <h1>调试错误，请回到请求来源地，重新发起请求。</h1>\
             <p>错误代码 <code data-testid=\"alipay-error-code\">{}</code></p>\
             <p class=\"note\">错误原因: {}</p></section>",
            escape(code),
            escape(reason)
        ),
    )
}

/// A page with one message, and a way back to the merchant when there is one.
fn message_page(status: StatusCode, heading: &str, message: &str, back: Option<&str>) -> Response {
    let back = back
        .map(|url| {
            format!(
                "<p><a href=\"{}\" data-testid=\"alipay-back\">返回商家</a></p>",
                escape(url)
            )
        })
        .unwrap_or_default();
    page(
        status,
        TITLE,
        &format!(
            "<header class=\"alipay\">支付宝</header><section class=\"card\">\
             <h1 data-testid=\"alipay-result\">{}</h1><p class=\"note\">{}</p>{back}</section>",
            escape(heading),
            escape(message)
        ),
    )
}

fn in_wechat(headers: &HeaderMap) -> bool {
    headers
        .get(USER_AGENT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|agent| agent.contains("MicroMessenger"))
}

/// `alipay.trade.wap.pay` at the gateway: the cashier page, or an error page.
pub(super) fn open(alipay: &Arc<Alipay>, headers: &HeaderMap, params: &Params) -> Response {
    if in_wechat(headers) {
        return page(
            StatusCode::FORBIDDEN,
            TITLE,
            "<header class=\"alipay\">支付宝</header><section class=\"card\" data-testid=\"alipay-in-wechat\">\
             <h1>微信内无法打开支付宝</h1>\
             <p class=\"note\">请点击右上角「…」，选择「在浏览器中打开」后再付款。</p></section>",
        );
    }
    let control = alipay.control();
    if control.outage {
        return error_page("isp.unknow-error", "系统繁忙，请稍后再试");
    }
    if control.busy {
        return error_page("app-call-limited", "应用调用频次超限");
    }
    let now = alipay.clock.unix_seconds();
    let trade = gateway::verify(alipay, params)
        .and_then(|()| gateway::biz_content(params))
        .and_then(|biz| api::wap_params(alipay, params, &biz, now));
    let trade = match trade {
        Ok(trade) => trade,
        Err(refusal) => {
            tracing::info!(sub_code = %refusal.sub_code, sub_msg = %refusal.sub_msg, "alipay cashier refused");
            return error_page(&refusal.sub_code, &refusal.sub_msg);
        }
    };
    let opened = {
        let mut state = alipay.lock();
        state.trades.open_wap(trade, now).map(|trade| {
            let token = state.trades.issue_cashier_token(&trade.params.out_trade_no);
            (trade, token)
        })
    };
    let (trade, token) = match opened {
        Ok(opened) => opened,
        Err(refused) => {
            let refusal = api::create_refusal(refused);
            return error_page(&refusal.sub_code, &refusal.sub_msg);
        }
    };
    tracing::info!(out_trade_no = %trade.params.out_trade_no, trade_no = %trade.trade_no, "alipay cashier opened");
    let body = format!(
        "<header class=\"alipay\">{TITLE}</header>\
         <section class=\"card\">\
         <p class=\"merchant\" data-testid=\"alipay-subject\">{subject}</p>\
         <p class=\"amount\" data-testid=\"alipay-amount\">¥{amount}</p>\
         <form method=\"post\" action=\"/alipay/cashier\">\
         <input type=\"hidden\" name=\"token\" value=\"{token}\">\
         <button type=\"submit\" name=\"outcome\" value=\"pay\" class=\"alipay\" data-testid=\"alipay-pay\">确认付款</button>\
         <button type=\"submit\" name=\"outcome\" value=\"decline\" class=\"secondary\" data-testid=\"alipay-decline\">模拟风控拒绝</button>\
         <button type=\"submit\" name=\"outcome\" value=\"quit\" class=\"plain\" data-testid=\"alipay-quit\">放弃付款</button>\
         </form>\
         <p class=\"note\">付款账户 {logon_id}</p>\
         </section>",
        subject = escape(&trade.params.subject),
        amount = yuan(trade.params.total),
        token = escape(&token),
        logon_id = escape(&alipay.shopper.logon_id),
    );
    page(StatusCode::OK, TITLE, &body)
}

/// The cashier's form.
#[derive(Debug, Deserialize)]
pub(super) struct CashierForm {
    token: String,
    outcome: String,
}

/// `POST /alipay/cashier`: the shopper pays, is refused, or gives up.
pub(super) async fn submit(
    State(alipay): State<Arc<Alipay>>,
    form: Result<Form<CashierForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return error_page("invalid-parameter", "缺少token或outcome");
    };
    let now = alipay.clock.unix_seconds();
    let trade = {
        let mut state = alipay.lock();
        let found = state.trades.by_cashier_token(&form.token);
        found.and_then(|no| state.trades.get(&no, now).cloned())
    };
    let Some(trade) = trade else {
        return error_page(
            "invalid-parameter",
            "收银台页面已失效，请返回商家重新发起付款",
        );
    };
    let no = trade.params.out_trade_no.clone();
    let back = trade
        .params
        .quit_url
        .clone()
        .or_else(|| trade.params.return_url.clone());
    match form.outcome.as_str() {
        "pay" => match alipay.pay(&no) {
            Ok(paid) => match &paid.params.return_url {
                Some(url) => match sync_return(&alipay, &paid, url) {
                    Ok(location) => (StatusCode::SEE_OTHER, [(LOCATION, location)]).into_response(),
                    Err(error) => {
                        tracing::error!(%error, "cannot sign a sync return");
                        message_page(StatusCode::OK, "付款成功", "请返回商家查看订单", None)
                    }
                },
                None => message_page(StatusCode::OK, "付款成功", "请返回商家查看订单", None),
            },
            Err(refused) => refused_page(refused, back.as_deref()),
        },
        "decline" => match alipay.decline(&no) {
            Ok(_) => message_page(
                StatusCode::OK,
                "付款失败",
                "本次付款存在风险，已被支付宝拒绝，交易已关闭。(sandbox: risk control)",
                back.as_deref(),
            ),
            Err(refused) => refused_page(refused, back.as_deref()),
        },
        "quit" => match back {
            Some(url) => (StatusCode::SEE_OTHER, [(LOCATION, url)]).into_response(),
            None => message_page(StatusCode::OK, "已放弃付款", "订单未付款", None),
        },
        _ => error_page("invalid-parameter", "outcome应为pay、decline或quit"),
    }
}

fn refused_page(refused: PayRefused, back: Option<&str>) -> Response {
    let (heading, message) = match refused {
        PayRefused::Paid => ("该订单已支付", "请勿重复付款"),
        PayRefused::Closed => ("交易已关闭", "请返回商家重新下单"),
        PayRefused::NotFound => ("交易不存在", "请返回商家重新下单"),
    };
    message_page(StatusCode::CONFLICT, heading, message, back)
}

/// `return_url` with Alipay's signed sync return parameters.
fn sync_return(alipay: &Alipay, trade: &Trade, return_url: &str) -> Result<String, String> {
    let config = &alipay.config;
    let timestamp = cst_datetime(alipay.clock.unix_seconds());
    let total = yuan(trade.params.total);
    let fields: [(&str, &str); 11] = [
        ("charset", "utf-8"),
        ("out_trade_no", &trade.params.out_trade_no),
        ("method", "alipay.trade.wap.pay.return"),
        ("total_amount", &total),
        ("trade_no", &trade.trade_no),
        ("auth_app_id", &config.app_id),
        ("version", "1.0"),
        ("app_id", &config.app_id),
        ("sign_type", "RSA2"),
        ("seller_id", &config.seller_id),
        ("timestamp", &timestamp),
    ];
    let mut signed: Vec<&(&str, &str)> = fields
        .iter()
        .filter(|(name, _)| *name != "sign_type")
        .collect();
    signed.sort_by(|a, b| a.0.cmp(b.0));
    let content = signed
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("&");
    let sign = alipay.keys.sign(content.as_bytes())?;
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.extend_pairs(fields.iter());
    query.append_pair("sign", &sign);
    Ok(append_query(return_url, &query.finish()))
}
