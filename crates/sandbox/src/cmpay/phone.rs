//! `/cmpay/phone`: the shopper's 和包 statement, as the app lists it:
//! payments (支付成功, or 支付失败 for one that failed) and refunds
//! (退款成功, or 退款失败), newest first, amounts in yuan.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::pages::both;
use super::Cmpay;
use crate::clock::cst_datetime;
use crate::html::{escape, page, yuan};

/// A line of the statement.
struct Line {
    at: i64,
    what: String,
    /// Fen.
    amount: i64,
    /// How the money moved: `-` out, `+` back in, empty when it did not.
    sign: &'static str,
    state: &'static str,
}

/// `GET|POST /cmpay/phone`.
pub(super) async fn statement(State(cmpay): State<Arc<Cmpay>>) -> Response {
    let orders = cmpay.lock().orders.statement();
    let mut lines = Vec::new();
    for order in &orders {
        let name = format!("{} · {}", order.params.product_name, order.params.order_id);
        if let Some(decision) = &order.decision {
            lines.push(Line {
                at: decision.at,
                what: name.clone(),
                amount: order.params.amount,
                sign: if decision.paid { "-" } else { "" },
                state: if decision.paid {
                    "支付成功"
                } else {
                    "支付失败"
                },
            });
        }
        for refund in &order.refunds {
            lines.push(Line {
                at: refund.at,
                what: format!("退款 · {name}"),
                amount: refund.amount,
                sign: if refund.succeeded { "+" } else { "" },
                state: if refund.succeeded {
                    "退款成功"
                } else {
                    "退款失败"
                },
            });
        }
    }
    lines.sort_by(|a, b| b.at.cmp(&a.at).then_with(|| a.what.cmp(&b.what)));
    let rows: String = lines
        .iter()
        .map(|line| {
            let direction = if line.sign == "+" { "in cmpay" } else { "out" };
            format!(
                "<div class=\"line\" data-testid=\"statement-line\">\
                 <div><div class=\"line__what\">{what}</div>\
                 <div class=\"line__when\">{when}</div></div>\
                 <div><div class=\"line__amount line__amount--{direction}\">{sign}¥{amount}</div>\
                 <div class=\"line__state\">{state}</div></div></div>",
                what = escape(&line.what),
                when = cst_datetime(line.at),
                sign = line.sign,
                amount = yuan(line.amount),
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
        "和包 · China Mobile Pay phone (sandbox)",
        &format!(
            "<header class=\"cmpay\">{}</header>\
             <section class=\"card\"><h2>账单 · statement</h2>{statement}</section>",
            both("和包 · the shopper's phone", "China Mobile Pay sandbox"),
        ),
    )
}
