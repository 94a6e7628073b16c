//! `frontTransReq.do`: the shopper's browser brings the merchant's signed
//! consumption form, and gets the card page (or an error page).
//!
//! Documented (UnionPay's 5.1.0 demos; `providers.md`): the merchant's
//! page POSTs an auto-submitted `application/x-www-form-urlencoded` form,
//! never a GET, with `txnType=01`, `txnSubType=01`, `bizType=000201`,
//! `channelType` 07 (PC) or 08 (phone), `txnAmt` in fen, `currencyCode`
//! 156, `frontUrl`, `backUrl`, `payTimeout`, optional `orderDesc`,
//! `reqReserved` and `riskRateInfo`, and the common fields. UnionPay
//! answers with its payment page; after paying the shopper is sent back to
//! `frontUrl` with the signed result, and `backUrl` gets the notification.
//!
//! Assumed: the error page is HTTP 200 and shows `respCode` and `respMsg`
//! (UnionPay's shows a message; its look is the emulator's own); when the
//! merchant registered return domains, `frontUrl` must be on one (10); an
//! outage shows the page with 02.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;

use super::gateway::{amount, currency, deadline, txn_key, url, verify};
use super::pages::{card_page, error_page};
use super::txns::{OpenRefused, OrderParams, Product};
use super::wire::{Fields, Refusal, CLOSED, DUPLICATE, FORMAT, NO_PERMISSION};
use super::Unionpay;

/// `POST /unionpay/gateway/api/frontTransReq.do`.
pub(super) async fn submit(State(unionpay): State<Arc<Unionpay>>, body: Bytes) -> Response {
    if unionpay.control().outage {
        return error_page(CLOSED.code, CLOSED.msg);
    }
    let fields = Fields::parse(&body);
    let now = unionpay.now();
    let opened = verify(&unionpay, &fields)
        .and_then(|()| consumption(&unionpay, &fields, now))
        .and_then(|params| {
            let mut state = unionpay.lock();
            let order = state
                .txns
                .open_front(params, now)
                .map_err(|OpenRefused::Duplicate| {
                    Refusal::new(DUPLICATE, "this orderId + txnTime was paid or used already")
                })?;
            let token = state.txns.issue_token(&order.params.key);
            Ok((order, token))
        });
    match opened {
        Ok((order, token)) => {
            tracing::info!(order_id = %order.params.key.order_id, "unionpay card page opened");
            card_page(&order, &token, None)
        }
        Err(refusal) => {
            tracing::info!(code = refusal.resp.code, msg = %refusal.msg(), "unionpay front request refused");
            error_page(refusal.resp.code, &refusal.msg())
        }
    }
}

/// The consumption the form asks for, checked.
fn consumption(unionpay: &Unionpay, fields: &Fields, now: i64) -> Result<OrderParams, Refusal> {
    let types = (
        fields.require("txnType")?,
        fields.require("txnSubType")?,
        fields.require("bizType")?,
    );
    if types != ("01", "01", "000201") {
        return Err(Refusal::new(
            NO_PERMISSION,
            "frontTransReq.do plays consumption: txnType 01, txnSubType 01, bizType 000201",
        ));
    }
    let channel_type = fields.require("channelType")?;
    if channel_type != "07" && channel_type != "08" {
        return Err(Refusal::new(
            FORMAT,
            "channelType must be 07 (PC) or 08 (phone)",
        ));
    }
    let key = txn_key(fields)?;
    let amount = amount(fields)?;
    currency(fields, true)?;
    let front_url = url(fields, "frontUrl")?;
    if !unionpay.on_return_domains(&front_url) {
        return Err(Refusal::new(
            FORMAT,
            "frontUrl's host is not one of the merchant's registered domains",
        ));
    }
    let back_url = url(fields, "backUrl")?;
    let deadline = deadline(fields, &key.txn_time, now)?;
    Ok(OrderParams {
        key,
        product: Product::Front,
        biz_type: "000201".into(),
        channel_type: channel_type.to_owned(),
        amount,
        front_url: Some(front_url),
        back_url,
        deadline,
        req_reserved: fields.get("reqReserved").map(str::to_owned),
        order_desc: fields.get("orderDesc").map(str::to_owned),
        encoding: fields.require("encoding")?.to_owned(),
    })
}
