//! The Alipay shopper's phone: scanning an order code, the app's JS bridge
//! (`AlipayJSBridge.call("tradePay", {tradeNO}, callback)`), and a page for
//! people trying the demo, with the shopper's statement.
//!
//! Documented (Alipay's JSAPI `tradePay` page; opendocs 05osuz): scanning
//! an order code starts the trade and shows the confirmation; the bridge's
//! callback gets `{resultCode, callbackUrl, memo, result}`, `resultCode`
//! 9000 paid, 8000 processing, 4000 failed, 6001 cancelled by the shopper,
//! 6002 network error, 6004 unknown.
//!
//! Assumed: `memo` is a short reason and `result` empty (their content is
//! not documented for `tradeNO` payments); a refusal by risk control closes
//! the trade (4000); `tradePay` pays only trades of `alipay.trade.create`;
//! the phone's JSON errors (`{"code", "message"}` with 404, 409 or 410) are
//! the emulator's own.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::refunds::RefundStatus;
use super::trades::{PayRefused, Product, ScanRefused, Trade, TradeStatus};
use super::Alipay;
use crate::clock::cst_datetime;
use crate::html::{escape, page, yuan};

/// What the shopper does with a scanned code.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ScanOutcome {
    /// Scan and stop at the confirmation: WAIT_BUYER_PAY.
    Scan,
    Pay,
    /// Risk control refuses: TRADE_CLOSED.
    Decline,
}

#[derive(Debug, Deserialize)]
struct ScanRequest {
    qr_code: String,
    outcome: ScanOutcome,
}

/// An error of the phone: a status and `{"code", "message"}`.
#[derive(Debug)]
pub(crate) struct PhoneError {
    status: StatusCode,
    code: &'static str,
    message: &'static str,
}

impl PhoneError {
    fn new(status: StatusCode, code: &'static str, message: &'static str) -> PhoneError {
        PhoneError {
            status,
            code,
            message,
        }
    }
}

impl IntoResponse for PhoneError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({ "code": self.code, "message": self.message })),
        )
            .into_response()
    }
}

fn unusable(refused: PayRefused) -> PhoneError {
    match refused {
        PayRefused::NotFound => {
            PhoneError::new(StatusCode::NOT_FOUND, "QR_CODE_INVALID", "二维码无效")
        }
        PayRefused::Paid => {
            PhoneError::new(StatusCode::CONFLICT, "TRADE_HAS_SUCCESS", "交易已被支付")
        }
        PayRefused::Closed => {
            PhoneError::new(StatusCode::CONFLICT, "TRADE_HAS_CLOSE", "交易已关闭")
        }
    }
}

impl Alipay {
    /// The phone scans `qr_code`, then the shopper stops there, pays or is
    /// refused.
    pub(crate) fn scan(
        self: &Arc<Self>,
        qr_code: &str,
        outcome: ScanOutcome,
    ) -> Result<Trade, PhoneError> {
        let now = self.clock.unix_seconds();
        let scanned = self.lock().trades.scan(qr_code, &self.shopper, now);
        let trade = scanned.map_err(|refused| match refused {
            ScanRefused::Unknown => {
                PhoneError::new(StatusCode::NOT_FOUND, "QR_CODE_INVALID", "二维码无效")
            }
            ScanRefused::Expired => {
                PhoneError::new(StatusCode::GONE, "QR_CODE_EXPIRED", "二维码已过期")
            }
        })?;
        match (trade.status, trade.paid_at) {
            (TradeStatus::WaitBuyerPay, _) => {}
            (TradeStatus::Success, _) | (TradeStatus::Closed, Some(_)) => {
                return Err(unusable(PayRefused::Paid))
            }
            (TradeStatus::Closed, None) => return Err(unusable(PayRefused::Closed)),
        }
        let no = &trade.params.out_trade_no;
        tracing::info!(out_trade_no = %no, ?outcome, "alipay code scanned");
        match outcome {
            ScanOutcome::Scan => Ok(trade),
            ScanOutcome::Pay => self.pay(no).map_err(unusable),
            ScanOutcome::Decline => self.decline(no).map_err(unusable),
        }
    }
}

/// `POST /alipay/phone/scan` `{"qr_code", "outcome": "scan"|"pay"|"decline"}`.
pub(super) async fn scan(State(alipay): State<Arc<Alipay>>, body: Bytes) -> Response {
    let request: ScanRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(_) => {
            return PhoneError::new(
                StatusCode::BAD_REQUEST,
                "INVALID_REQUEST",
                "expected {\"qr_code\": \"...\", \"outcome\": \"scan\"|\"pay\"|\"decline\"}",
            )
            .into_response()
        }
    };
    match alipay.scan(&request.qr_code, request.outcome) {
        Ok(trade) => Json(json!({ "trade_status": trade.status.wire() })).into_response(),
        Err(error) => error.into_response(),
    }
}

#[derive(Debug, Deserialize)]
struct TradePayRequest {
    trade_no: String,
    outcome: BridgeOutcome,
}

#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
enum BridgeOutcome {
    Pay,
    Decline,
    Cancel,
}

/// What `tradePay` hands the page's callback.
#[derive(Debug, Serialize)]
struct BridgeResult {
    #[serde(rename = "resultCode")]
    result_code: &'static str,
    memo: &'static str,
    result: &'static str,
    #[serde(rename = "callbackUrl")]
    callback_url: &'static str,
}

fn bridge_result(result_code: &'static str, memo: &'static str) -> Json<BridgeResult> {
    Json(BridgeResult {
        result_code,
        memo,
        result: "",
        callback_url: "",
    })
}

/// `POST /alipay/phone/trade-pay` `{"trade_no", "outcome": "pay"|"decline"|"cancel"}`:
/// the callback of `AlipayJSBridge.call("tradePay", {tradeNO})`.
pub(super) async fn trade_pay(State(alipay): State<Arc<Alipay>>, body: Bytes) -> Response {
    let request: TradePayRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(_) => {
            return PhoneError::new(
                StatusCode::BAD_REQUEST,
                "INVALID_REQUEST",
                "expected {\"trade_no\": \"...\", \"outcome\": \"pay\"|\"decline\"|\"cancel\"}",
            )
            .into_response()
        }
    };
    let now = alipay.clock.unix_seconds();
    let trade = {
        let mut state = alipay.lock();
        let found = state.trades.find(Some(&request.trade_no), None);
        found.and_then(|no| state.trades.get(&no, now).cloned())
    };
    let Some(trade) = trade.filter(|trade| trade.params.product == Product::Create) else {
        return bridge_result("4000", "交易不存在").into_response();
    };
    let no = &trade.params.out_trade_no;
    let settled = match request.outcome {
        BridgeOutcome::Cancel => match trade.status {
            TradeStatus::WaitBuyerPay => Ok(bridge_result("6001", "用户中途取消")),
            TradeStatus::Success => Err(PayRefused::Paid),
            TradeStatus::Closed if trade.paid_at.is_some() => Err(PayRefused::Paid),
            TradeStatus::Closed => Err(PayRefused::Closed),
        },
        BridgeOutcome::Pay => alipay.pay(no).map(|_| bridge_result("9000", "")),
        BridgeOutcome::Decline => alipay
            .decline(no)
            .map(|_| bridge_result("4000", "支付失败：风险控制拒绝，交易已关闭")),
    };
    let result = settled.unwrap_or_else(|refused| match refused {
        PayRefused::Paid => bridge_result("4000", "交易已支付"),
        PayRefused::Closed => bridge_result("4000", "交易已关闭"),
        PayRefused::NotFound => bridge_result("4000", "交易不存在"),
    });
    result.into_response()
}

/// A line of the shopper's statement: a payment or a refund.
struct StatementLine {
    at: i64,
    what: String,
    /// Fen: negative for a payment, positive for money back.
    amount: i64,
    state: &'static str,
}

fn statement(trades: Vec<Trade>) -> Vec<StatementLine> {
    let mut lines = Vec::new();
    for trade in trades {
        let what = format!("{} · {}", trade.params.subject, trade.params.out_trade_no);
        if let Some(at) = trade.paid_at {
            lines.push(StatementLine {
                at,
                what: what.clone(),
                amount: -trade.params.total,
                state: "支付成功",
            });
        }
        for refund in &trade.refunds {
            lines.push(StatementLine {
                at: refund.succeeded_at.unwrap_or(refund.asked_at),
                what: format!("退款 · {what}"),
                amount: refund.amount,
                state: match refund.status {
                    RefundStatus::Success => "退款成功",
                    RefundStatus::Processing => "退款处理中",
                },
            });
        }
    }
    lines.sort_by(|a, b| b.at.cmp(&a.at).then_with(|| a.what.cmp(&b.what)));
    lines
}

/// `GET /alipay/phone`: pay, scan or decline a pasted `qr_code`; below,
/// the shopper's statement of payments and refunds.
pub(super) async fn page_view(State(alipay): State<Arc<Alipay>>) -> Response {
    let trades: Vec<Trade> = alipay.lock().trades.all().cloned().collect();
    let rows: String = statement(trades)
        .iter()
        .map(|line| {
            let (sign, direction) = if line.amount < 0 {
                ("-", "out")
            } else {
                ("+", "in alipay")
            };
            format!(
                "<div class=\"line\" data-testid=\"statement-line\">\
                 <div><div class=\"line__what\">{what}</div>\
                 <div class=\"line__when\">{when}</div></div>\
                 <div><div class=\"line__amount line__amount--{direction}\">{sign}¥{amount}</div>\
                 <div class=\"line__state\">{state}</div></div></div>",
                what = escape(&line.what),
                when = cst_datetime(line.at),
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
        "手机支付宝 · Phone (sandbox)",
        &format!(
            "<header class=\"alipay\">手机支付宝 · the shopper's phone (sandbox)</header>\
             <section class=\"card\">\
             <form method=\"post\" action=\"/alipay/phone\">\
             <label for=\"qr_code\">扫码内容 qr_code</label>\
             <textarea id=\"qr_code\" name=\"qr_code\" required placeholder=\"https://qr.alipay.com/bax...\"></textarea>\
             <button type=\"submit\" name=\"outcome\" value=\"pay\" class=\"alipay\" data-testid=\"alipay-phone-pay\">扫码并付款</button>\
             <button type=\"submit\" name=\"outcome\" value=\"scan\" class=\"plain\" data-testid=\"alipay-phone-scan\">只扫码 (停在确认页)</button>\
             <button type=\"submit\" name=\"outcome\" value=\"decline\" class=\"secondary\" data-testid=\"alipay-phone-decline\">模拟风控拒绝</button>\
             </form></section>\
             <section class=\"card\"><h2>账单 · statement</h2>{statement}</section>"
        ),
    )
}

#[derive(Debug, Deserialize)]
pub(super) struct PhoneForm {
    qr_code: String,
    outcome: ScanOutcome,
}

/// `POST /alipay/phone`: the form of [`page_view`], answered as a page.
pub(super) async fn page_submit(
    State(alipay): State<Arc<Alipay>>,
    form: Result<Form<PhoneForm>, FormRejection>,
) -> Response {
    let message = |status: StatusCode, heading: &str, note: &str| {
        page(
            status,
            "手机支付宝 · Phone (sandbox)",
            &format!(
                "<header class=\"alipay\">手机支付宝</header><section class=\"card\">\
                 <h1 data-testid=\"alipay-result\">{}</h1><p class=\"note\">{}</p>\
                 <p><a href=\"/alipay/phone\">返回</a></p></section>",
                escape(heading),
                escape(note)
            ),
        )
    };
    let Ok(Form(form)) = form else {
        return message(StatusCode::BAD_REQUEST, "扫码失败", "缺少 qr_code 或操作");
    };
    match alipay.scan(&form.qr_code, form.outcome) {
        Ok(trade) => message(
            StatusCode::OK,
            match trade.status {
                TradeStatus::Success => "付款成功",
                TradeStatus::WaitBuyerPay => "请确认付款",
                TradeStatus::Closed => "付款失败",
            },
            &format!(
                "{} ¥{} · trade_status {}",
                trade.params.subject,
                yuan(trade.params.total),
                trade.status.wire()
            ),
        ),
        Err(error) => message(
            error.status,
            "扫码失败",
            &format!("{} ({})", error.message, error.code),
        ),
    }
}
