//! What the gateway says about a transaction: the fields of a payment's or
//! a refund's result, as its notification, its front return and a query's
//! answer carry them (signed elsewhere).
//!
//! Documented (verified vectors: a consumption notification, query answers
//! with `origRespCode` 00 and 05; field lists of refund and cancellation
//! answers): a consumption result has `accessType`, `bizType`,
//! `currencyCode`, `encoding`, `merId`, `orderId`, `queryId`, `respCode`,
//! `respMsg`, `settleAmt`, `settleCurrencyCode`, `settleDate`,
//! `signMethod`, `traceNo`, `traceTime`, `txnAmt`, `txnSubType`,
//! `txnTime`, `txnType`, `version`, `accNo`; a query answer has those of
//! the original transaction with the query's `bizType`, `respCode` 00 and
//! `origRespCode`/`origRespMsg`, and `issuerIdentifyMode`; while the
//! payment is processing it has `settleAmt=0` and no `queryId`. A refund's
//! or cancellation's has `origQryId` and its own `queryId`.
//!
//! Assumed: `accNo` goes in clear, masked (the real gateway encrypts it
//! with the merchant's encryption certificate, which the emulator does not
//! play); `payCardType` (01 debit, 02 credit) is sent and `payType` is 0001
//! for the card page; `reqReserved` is echoed; refund and cancellation
//! notifications have the fields of their query answers (none was found
//! captured); a failed refund or payment has no `settle*` fields.

use super::txns::{Order, Outcome, Product, Reversal};
use super::wire::{Message, Resp, PROCESSING, SUCCESS};

/// `version`.
pub(crate) const VERSION: &str = "5.1.0";
/// `currencyCode`: yuan.
pub(crate) const CNY: &str = "156";

/// The result of an outcome: its code and text.
pub(crate) fn resp(outcome: &Outcome) -> Resp {
    match outcome {
        Outcome::Pending => PROCESSING,
        Outcome::Succeeded { .. } => SUCCESS,
        Outcome::Failed { resp, .. } => *resp,
    }
}

fn with_settlement(message: Message, outcome: &Outcome, amount: i64) -> Message {
    match outcome {
        Outcome::Succeeded { settle_date, .. } => message
            .with("settleAmt", amount.to_string())
            .with("settleCurrencyCode", CNY)
            .with("settleDate", settle_date.clone()),
        Outcome::Pending => message.with("settleAmt", "0"),
        Outcome::Failed { .. } => message,
    }
}

/// A consumption's fields, without `respCode`/`respMsg`.
fn order_fields(order: &Order) -> Message {
    let params = &order.params;
    let mut message = Message::new()
        .with("version", VERSION)
        .with("encoding", params.encoding.clone())
        .with("signMethod", "01")
        .with("txnType", "01")
        .with("txnSubType", params.txn_sub_type())
        .with("bizType", params.biz_type.clone())
        .with("accessType", "0")
        .with("merId", params.key.mer_id.clone())
        .with("orderId", params.key.order_id.clone())
        .with("txnTime", params.key.txn_time.clone())
        .with("txnAmt", params.amount.to_string())
        .with("currencyCode", CNY)
        .with_some("reqReserved", params.req_reserved.clone());
    if let Some(attempt) = &order.attempt {
        message = message
            .with("accNo", attempt.card.masked())
            .with("payCardType", attempt.card.kind.pay_card_type());
        if params.product == Product::Front {
            message = message.with("payType", "0001");
        }
        if attempt.outcome != Outcome::Pending {
            message = message
                .with("queryId", attempt.ids.query_id.clone())
                .with("traceNo", attempt.ids.trace_no.clone())
                .with("traceTime", attempt.ids.trace_time.clone());
        }
        message = with_settlement(message, &attempt.outcome, params.amount);
    }
    message
}

/// A consumption's result: its notification and its front return.
pub(crate) fn payment(order: &Order) -> Message {
    let outcome = order
        .attempt
        .as_ref()
        .map(|attempt| &attempt.outcome)
        .unwrap_or(&Outcome::Pending);
    let resp = resp(outcome);
    order_fields(order)
        .with("respCode", resp.code)
        .with("respMsg", resp.msg)
}

/// A refund's or cancellation's fields, without `respCode`/`respMsg`.
fn reversal_fields(reversal: &Reversal) -> Message {
    let params = &reversal.params;
    let message = Message::new()
        .with("version", VERSION)
        .with("encoding", params.encoding.clone())
        .with("signMethod", "01")
        .with("txnType", params.kind.txn_type())
        .with("txnSubType", "00")
        .with("bizType", params.biz_type.clone())
        .with("accessType", "0")
        .with("merId", params.key.mer_id.clone())
        .with("orderId", params.key.order_id.clone())
        .with("txnTime", params.key.txn_time.clone())
        .with("txnAmt", params.amount.to_string())
        .with("currencyCode", CNY)
        .with("origQryId", params.orig_query_id.clone())
        .with("queryId", reversal.ids.query_id.clone())
        .with("traceNo", reversal.ids.trace_no.clone())
        .with("traceTime", reversal.ids.trace_time.clone())
        .with_some("reqReserved", params.req_reserved.clone());
    with_settlement(message, &reversal.outcome, params.amount)
}

/// A refund's or cancellation's result: its notification.
pub(crate) fn reversal(reversal: &Reversal) -> Message {
    let resp = resp(&reversal.outcome);
    reversal_fields(reversal)
        .with("respCode", resp.code)
        .with("respMsg", resp.msg)
}

/// A query's answer about a transaction the gateway knows: 00, and how
/// the transaction stands in `origRespCode`.
pub(crate) fn query_answer(fields: Message, outcome: &Outcome, biz_type: &str) -> Message {
    let orig = resp(outcome);
    let mut answer = fields
        .with("respCode", SUCCESS.code)
        .with("respMsg", SUCCESS.msg)
        .with("origRespCode", orig.code)
        .with("origRespMsg", orig.msg)
        .with("issuerIdentifyMode", "0");
    answer.set("bizType", biz_type);
    answer
}

/// [`query_answer`] for a consumption that was attempted.
pub(crate) fn order_query(order: &Order, biz_type: &str) -> Option<Message> {
    let attempt = order.attempt.as_ref()?;
    Some(query_answer(
        order_fields(order),
        &attempt.outcome,
        biz_type,
    ))
}

/// [`query_answer`] for a refund or cancellation.
pub(crate) fn reversal_query(reversal: &Reversal, biz_type: &str) -> Message {
    query_answer(reversal_fields(reversal), &reversal.outcome, biz_type)
}
