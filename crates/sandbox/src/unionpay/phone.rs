//! The shopper's phone for order codes (UnionPay's app, or a bank's app
//! that scans UnionPay codes), and a page for people trying the demo, with
//! the codes waiting to be paid and the shopper's statement.
//!
//! Documented: an order code is paid in the shopper's app after scanning;
//! the merchant learns the result by `backUrl` or by query (a code being
//! confirmed queries as 05, as does any consumption in progress).
//!
//! Assumed (the emulator's own): the JSON of `/unionpay/phone/scan` and its
//! errors (`{"code", "message"}` with 400, 404, 409 or 410); a decline is
//! the card's bank's (60); the phone pays with the debit card
//! `6216********0018`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use super::pages::both;
use super::results;
use super::txns::{Order, Outcome, PayRefused, Product, ReversalKind, ScanOutcome, ScanRefused};
use super::Unionpay;
use crate::clock::cst_datetime;
use crate::html::{escape, page, yuan};

/// What the shopper does with a scanned code, as the JSON names it.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum WireOutcome {
    Scan,
    Pay,
    Decline,
}

impl From<WireOutcome> for ScanOutcome {
    fn from(outcome: WireOutcome) -> ScanOutcome {
        match outcome {
            WireOutcome::Scan => ScanOutcome::Scan,
            WireOutcome::Pay => ScanOutcome::Pay,
            WireOutcome::Decline => ScanOutcome::Decline,
        }
    }
}

#[derive(Debug, Deserialize)]
struct ScanRequest {
    qr_code: String,
    outcome: WireOutcome,
}

/// An error of the phone: a status and `{"code", "message"}`.
#[derive(Debug)]
pub(crate) struct PhoneError {
    status: StatusCode,
    code: &'static str,
    message: &'static str,
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

fn phone_error(refused: ScanRefused) -> PhoneError {
    let (status, code, message) = match refused {
        ScanRefused::Unknown => (StatusCode::NOT_FOUND, "QR_CODE_INVALID", "二维码无效"),
        ScanRefused::Unpayable(PayRefused::NotFound) => {
            (StatusCode::NOT_FOUND, "QR_CODE_INVALID", "二维码无效")
        }
        ScanRefused::Unpayable(PayRefused::TimedOut) => {
            (StatusCode::GONE, "ORDER_TIMED_OUT", "订单已超时")
        }
        ScanRefused::Unpayable(PayRefused::Paid) => {
            (StatusCode::CONFLICT, "ORDER_PAID", "订单已支付")
        }
        ScanRefused::Unpayable(PayRefused::Failed(_)) => {
            (StatusCode::CONFLICT, "ORDER_FAILED", "订单支付失败")
        }
    };
    PhoneError {
        status,
        code,
        message,
    }
}

impl Unionpay {
    /// The phone scans `qr_code`, then the shopper stops at the
    /// confirmation, pays, or the bank declines.
    fn scan(self: &Arc<Self>, qr_code: &str, outcome: ScanOutcome) -> Result<Order, PhoneError> {
        let now = self.now();
        let order = self
            .lock()
            .txns
            .scan(qr_code, outcome, now)
            .map_err(phone_error)?;
        tracing::info!(order_id = %order.params.key.order_id, ?outcome, "unionpay order code scanned");
        self.notify_payment(&order);
        Ok(order)
    }
}

/// `POST /unionpay/phone/scan` `{"qr_code", "outcome": "scan"|"pay"|"decline"}`:
/// answers `{"orderId", "txnAmt", "origRespCode", "origRespMsg"}`.
pub(super) async fn scan(State(unionpay): State<Arc<Unionpay>>, body: Bytes) -> Response {
    let Ok(request) = serde_json::from_slice::<ScanRequest>(&body) else {
        return PhoneError {
            status: StatusCode::BAD_REQUEST,
            code: "INVALID_REQUEST",
            message: "expected {\"qr_code\": \"...\", \"outcome\": \"scan\"|\"pay\"|\"decline\"}",
        }
        .into_response();
    };
    match unionpay.scan(&request.qr_code, request.outcome.into()) {
        Ok(order) => {
            let resp = order
                .attempt
                .as_ref()
                .map(|attempt| results::resp(&attempt.outcome))
                .unwrap_or(super::wire::PROCESSING);
            Json(json!({
                "orderId": order.params.key.order_id,
                "txnAmt": order.params.amount,
                "origRespCode": resp.code,
                "origRespMsg": resp.msg,
            }))
            .into_response()
        }
        Err(error) => error.into_response(),
    }
}

/// A line of the shopper's statement.
struct StatementLine {
    at: i64,
    what: String,
    /// Fen: negative for a payment, positive for money back.
    amount: i64,
    state: &'static str,
}

fn order_name(order: &Order) -> String {
    let desc = order.params.order_desc.as_deref().unwrap_or("订单 order");
    format!("{desc} · {}", order.params.key.order_id)
}

/// `GET /unionpay/phone`: the codes waiting, a box to paste one, and the
/// shopper's statement of payments, refunds and cancellations.
pub(super) async fn page_view(State(unionpay): State<Arc<Unionpay>>) -> Response {
    let now = unionpay.now();
    let statement = unionpay.lock().txns.statement();
    let mut waiting = String::new();
    let mut lines = Vec::new();
    for (order, reversals) in &statement {
        let code = order
            .qr_code
            .as_deref()
            .filter(|_| order.params.product == Product::Qr && order.payable(now).is_ok());
        if let Some(code) = code {
            waiting.push_str(&format!(
                "<div class=\"line\" data-testid=\"unionpay-waiting-code\"><div>\
                 <div class=\"line__what\">{what}</div><div class=\"line__when\"><code>{code}</code></div></div>\
                 <form method=\"post\" action=\"/unionpay/phone\">\
                 <input type=\"hidden\" name=\"qr_code\" value=\"{code}\">\
                 <button type=\"submit\" name=\"outcome\" value=\"pay\" class=\"unionpay\">付款 ¥{amount}</button></form></div>",
                what = escape(&order_name(order)),
                code = escape(code),
                amount = yuan(order.params.amount),
            ));
        }
        if let Some(Outcome::Succeeded { at, .. }) = order.attempt.as_ref().map(|a| &a.outcome) {
            lines.push(StatementLine {
                at: *at,
                what: order_name(order),
                amount: -order.params.amount,
                state: "支付成功",
            });
        }
        for reversal in reversals {
            let (verb, done) = match reversal.params.kind {
                ReversalKind::Refund => ("退款", "退款成功"),
                ReversalKind::Cancel => ("撤销", "撤销成功"),
            };
            let (at, state) = match &reversal.outcome {
                Outcome::Pending => (reversal.asked_at, "处理中"),
                Outcome::Succeeded { at, .. } => (*at, done),
                Outcome::Failed { at, .. } => (*at, "失败"),
            };
            lines.push(StatementLine {
                at,
                what: format!("{verb} · {}", order_name(order)),
                amount: reversal.params.amount,
                state,
            });
        }
    }
    lines.sort_by(|a, b| b.at.cmp(&a.at).then_with(|| a.what.cmp(&b.what)));
    let rows: String = lines
        .iter()
        .map(|line| {
            let (sign, direction) = if line.amount < 0 {
                ("-", "out")
            } else {
                ("+", "in unionpay")
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
    let waiting = if waiting.is_empty() {
        "<p class=\"note\">没有待付款的二维码 · no codes waiting</p>".to_owned()
    } else {
        waiting
    };
    page(
        StatusCode::OK,
        "云闪付 · UnionPay phone (sandbox)",
        &format!(
            "<header class=\"unionpay\">{title}</header>\
             <section class=\"card\"><h2>{waiting_heading}</h2>{waiting}</section>\
             <section class=\"card\">\
             <form method=\"post\" action=\"/unionpay/phone\">\
             <label for=\"qr_code\">扫码内容 qrCode</label>\
             <textarea id=\"qr_code\" name=\"qr_code\" required placeholder=\"https://qr.95516.com/00010000/...\"></textarea>\
             <button type=\"submit\" name=\"outcome\" value=\"pay\" class=\"unionpay\" data-testid=\"unionpay-phone-pay\">扫码并付款 Scan and pay</button>\
             <button type=\"submit\" name=\"outcome\" value=\"scan\" class=\"plain\" data-testid=\"unionpay-phone-scan\">只扫码 Scan, stop at the confirmation</button>\
             <button type=\"submit\" name=\"outcome\" value=\"decline\" class=\"secondary\" data-testid=\"unionpay-phone-decline\">发卡行拒绝 The bank declines</button>\
             </form></section>\
             <section class=\"card\"><h2>账单 · statement</h2>{statement}</section>",
            title = both("云闪付 · the shopper's phone", "UnionPay sandbox"),
            waiting_heading = both("待付款", "Codes waiting"),
        ),
    )
}

/// The form of [`page_view`].
#[derive(Debug, Deserialize)]
pub(super) struct PhoneForm {
    qr_code: String,
    outcome: WireOutcome,
}

/// `POST /unionpay/phone`: the form of [`page_view`], answered as a page.
pub(super) async fn page_submit(
    State(unionpay): State<Arc<Unionpay>>,
    form: Result<Form<PhoneForm>, FormRejection>,
) -> Response {
    let message = |status: StatusCode, heading: &str, note: &str| {
        page(
            status,
            "云闪付 · UnionPay phone (sandbox)",
            &format!(
                "<header class=\"unionpay\">云闪付</header><section class=\"card\">\
                 <h1 data-testid=\"unionpay-phone-result\">{}</h1><p class=\"note\">{}</p>\
                 <p><a href=\"/unionpay/phone\">返回 Back</a></p></section>",
                escape(heading),
                escape(note)
            ),
        )
    };
    let Ok(Form(form)) = form else {
        return message(StatusCode::BAD_REQUEST, "扫码失败", "缺少 qr_code 或操作");
    };
    match unionpay.scan(&form.qr_code, form.outcome.into()) {
        Ok(order) => {
            let resp = order
                .attempt
                .as_ref()
                .map(|attempt| results::resp(&attempt.outcome))
                .unwrap_or(super::wire::PROCESSING);
            let heading = match resp.code {
                "00" => "付款成功",
                "05" => "请确认付款",
                _ => "付款失败",
            };
            message(
                StatusCode::OK,
                heading,
                &format!(
                    "{} ¥{} · origRespCode {} {}",
                    order_name(&order),
                    yuan(order.params.amount),
                    resp.code,
                    resp.msg
                ),
            )
        }
        Err(error) => message(
            error.status,
            "扫码失败",
            &format!("{} ({})", error.message, error.code),
        ),
    }
}
