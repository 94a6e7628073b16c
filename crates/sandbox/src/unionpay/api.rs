//! The server-to-server transactions, once [`super::gateway::verify`] has
//! passed: applying for an order code, refunds, cancellations, queries.
//!
//! Documented (UnionPay's demos `Form_6_4_Refund`, `Form_6_3_ConsumeUndo`,
//! `Form_6_5_Query`; the QR product's request classes in open-source SDKs;
//! verified answers):
//! - 申请消费二维码: `txnType=01`, `txnSubType=07`, `bizType=000000`,
//!   `channelType=08`, `txnAmt`, `currencyCode=156`, `backUrl`, optional
//!   `payTimeout`; the answer 00 carries `qrCode`, seen as
//!   `https://qr.95516.com/00010000/` and 32 digits.
//! - Refund: `txnType=04`, `txnSubType=00`, `bizType` (000201 in the
//!   demo, 000000 for order codes), `channelType`, `origQryId`, its own
//!   `orderId` and `txnTime`, `txnAmt` (at most the original), `backUrl`;
//!   00 only accepts it. Cancellation: the same with `txnType=31`, the
//!   amount equal to the original's. Their answers have `origQryId` and
//!   their own `queryId`.
//! - Query: `txnType=00`, `txnSubType=00`, `bizType=000000`, `orderId` and
//!   `txnTime` of the transaction asked about; 34 when unknown, else 00 and
//!   `origRespCode`.
//!
//! Assumed: `channelType` may be left out of refunds and cancellations
//! (07 or 08 when given); their `currencyCode` may be left out; an order
//! code's `txnAmt` is required (UnionPay lets the shopper type the amount
//! when it is missing; that is not played).

use std::sync::Arc;

use super::gateway::{amount, currency, deadline, echo, txn_key, url};
use super::results;
use super::txns::{OpenRefused, OrderParams, Product, ReversalKind, ReversalParams, Txn};
use super::wire::{Fields, Message, Refusal, DUPLICATE, FORMAT, NOT_FOUND, SUCCESS};
use super::Unionpay;

fn expect(fields: &Fields, name: &str, allowed: &[&str]) -> Result<String, Refusal> {
    let value = fields.require(name)?;
    if allowed.contains(&value) {
        Ok(value.to_owned())
    } else {
        Err(Refusal::new(
            FORMAT,
            format!("{name} must be {}", allowed.join(" or ")),
        ))
    }
}

/// 申请消费二维码: an order code the shopper's phone can pay until
/// `payTimeout`.
pub(super) fn apply_qr(unionpay: &Arc<Unionpay>, fields: &Fields) -> Result<Message, Refusal> {
    let biz_type = expect(fields, "bizType", &["000000"])?;
    let channel_type = expect(fields, "channelType", &["08"])?;
    let key = txn_key(fields)?;
    let amount = amount(fields)?;
    currency(fields, true)?;
    let back_url = url(fields, "backUrl")?;
    let now = unionpay.now();
    let deadline = deadline(fields, &key.txn_time, now)?;
    let params = OrderParams {
        key,
        product: Product::Qr,
        biz_type,
        channel_type,
        amount,
        front_url: None,
        back_url,
        deadline,
        req_reserved: fields.get("reqReserved").map(str::to_owned),
        order_desc: fields.get("orderDesc").map(str::to_owned),
        encoding: fields.require("encoding")?.to_owned(),
    };
    let order = unionpay
        .lock()
        .txns
        .apply_qr(params, now)
        .map_err(|OpenRefused::Duplicate| {
            Refusal::new(DUPLICATE, "this orderId + txnTime was used already")
        })?;
    let qr_code = order.qr_code.unwrap_or_default();
    tracing::info!(order_id = %order.params.key.order_id, %qr_code, "unionpay order code applied for");
    Ok(echo(fields)
        .with("respCode", SUCCESS.code)
        .with("respMsg", SUCCESS.msg)
        .with("qrCode", qr_code))
}

/// 退货: accepted now, completed (and notified) later.
pub(super) fn refund(unionpay: &Arc<Unionpay>, fields: &Fields) -> Result<Message, Refusal> {
    reverse(unionpay, fields, ReversalKind::Refund)
}

/// 消费撤销: the whole payment, on its settlement day.
pub(super) fn cancel(unionpay: &Arc<Unionpay>, fields: &Fields) -> Result<Message, Refusal> {
    reverse(unionpay, fields, ReversalKind::Cancel)
}

fn reverse(
    unionpay: &Arc<Unionpay>,
    fields: &Fields,
    kind: ReversalKind,
) -> Result<Message, Refusal> {
    let biz_type = expect(fields, "bizType", &["000201", "000000"])?;
    let channel_type = match fields.get("channelType") {
        Some(_) => Some(expect(fields, "channelType", &["07", "08"])?),
        None => None,
    };
    let orig_query_id = fields.require("origQryId")?.to_owned();
    let key = txn_key(fields)?;
    let amount = amount(fields)?;
    currency(fields, false)?;
    let back_url = url(fields, "backUrl")?;
    let params = ReversalParams {
        key,
        kind,
        orig_query_id,
        amount,
        back_url,
        biz_type,
        channel_type,
        req_reserved: fields.get("reqReserved").map(str::to_owned),
        encoding: fields.require("encoding")?.to_owned(),
    };
    let now = unionpay.now();
    let reversal = {
        let mut state = unionpay.lock();
        let fails = state.control.balance_short;
        state.txns.reverse(params, fails, now)?
    };
    tracing::info!(order_id = %reversal.params.key.order_id, txn_type = kind.txn_type(), amount, "unionpay refund or cancellation accepted");
    unionpay.finish_reversal_later(reversal.params.key.clone());
    Ok(echo(fields)
        .with("respCode", SUCCESS.code)
        .with("respMsg", SUCCESS.msg)
        .with("queryId", reversal.ids.query_id))
}

/// 交易状态查询.
pub(super) fn query(unionpay: &Arc<Unionpay>, fields: &Fields) -> Result<Message, Refusal> {
    let biz_type = expect(fields, "bizType", &["000000"])?;
    let key = txn_key(fields)?;
    let now = unionpay.now();
    let answer = match unionpay.lock().txns.get(&key, now) {
        Some(Txn::Order(order)) => results::order_query(order, &biz_type),
        Some(Txn::Reversal(reversal)) => Some(results::reversal_query(reversal, &biz_type)),
        None => None,
    };
    answer.ok_or_else(|| Refusal::new(NOT_FOUND, ""))
}
