//! `backTransReq.do` and `queryTrans.do` over HTTP, and the checks every
//! request to the gateway goes through (the browser's `frontTransReq.do`
//! too).
//!
//! Documented (the 5.1.0 demos and SDK configuration; verified request
//! vectors): requests carry `version` 5.1.0, `encoding` UTF-8 (the SDKs
//! write `UTF-8` or `utf-8`), `signMethod` 01, `txnType`, `txnSubType`,
//! `bizType`, `accessType` 0 (a merchant connected directly), `merId`,
//! `orderId` (8 to 32 letters and digits in the PHP demo, 40 in the Java
//! one; no `-` or `_`), `txnTime` (`yyyyMMddHHmmss`, Beijing), `certId` and
//! `signature`; amounts are fen, currency 156; `payTimeout` is
//! `yyyyMMddHHmmss` in Beijing, after which the gateway refuses to take
//! the payment. Answers are signed `k=v&...` (see `wire`).
//!
//! Assumed: the checks run in the order of [`verify`]: a missing field is
//! 13, a malformed one 10, another `merId` 31, an `accessType` other than 0
//! or a transaction type the emulator does not play 32, a `certId` that is
//! not the merchant's certificate 11 like a signature that does not verify;
//! `orderId` is held to 32 characters; a `payTimeout` already past is 69;
//! during an outage the gateway answers HTTP 503 with no fields; answers
//! are `text/plain;charset=UTF-8`; a body that is not a form is 10.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use time::macros::{format_description, offset};
use time::PrimitiveDateTime;

use super::txns::{TxnKey, DEFAULT_PAY_SECONDS};
use super::wire::{
    answer_text, Fields, Message, Refusal, FORMAT, MERCHANT, NO_PERMISSION, SIGNATURE, TIMED_OUT,
};
use super::{api, keys::Signer, results::VERSION, Unionpay};

/// The fields an answer echoes from its request.
const ECHOED: [&str; 13] = [
    "version",
    "encoding",
    "signMethod",
    "txnType",
    "txnSubType",
    "bizType",
    "accessType",
    "merId",
    "orderId",
    "txnTime",
    "txnAmt",
    "origQryId",
    "reqReserved",
];

/// `POST /unionpay/gateway/api/backTransReq.do`.
pub(super) async fn back(
    State(unionpay): State<Arc<Unionpay>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(&unionpay, &headers, &body, |unionpay, fields| {
        match (fields.get("txnType"), fields.get("txnSubType")) {
            (Some("01"), Some("07")) => api::apply_qr(unionpay, fields),
            (Some("04"), Some("00")) => api::refund(unionpay, fields),
            (Some("31"), Some("00")) => api::cancel(unionpay, fields),
            _ => Err(no_permission(fields)),
        }
    })
}

/// `POST /unionpay/gateway/api/queryTrans.do`.
pub(super) async fn query(
    State(unionpay): State<Arc<Unionpay>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(&unionpay, &headers, &body, |unionpay, fields| {
        match (fields.get("txnType"), fields.get("txnSubType")) {
            (Some("00"), Some("00")) => api::query(unionpay, fields),
            _ => Err(no_permission(fields)),
        }
    })
}

fn no_permission(fields: &Fields) -> Refusal {
    Refusal::new(
        NO_PERMISSION,
        format!(
            "txnType {} txnSubType {} is not played at this endpoint",
            fields.get("txnType").unwrap_or("-"),
            fields.get("txnSubType").unwrap_or("-")
        ),
    )
}

/// Reads, checks and answers one server-to-server request.
fn handle(
    unionpay: &Arc<Unionpay>,
    headers: &HeaderMap,
    body: &[u8],
    call: impl FnOnce(&Arc<Unionpay>, &Fields) -> Result<Message, Refusal>,
) -> Response {
    if unionpay.control().outage {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(CONTENT_TYPE, "text/plain;charset=UTF-8")],
            "503 Service Unavailable (sandbox: /unionpay/control outage)",
        )
            .into_response();
    }
    let fields = Fields::parse(body);
    let outcome = if is_form(headers) {
        verify(unionpay, &fields).and_then(|()| call(unionpay, &fields))
    } else {
        Err(Refusal::new(
            FORMAT,
            "requests are application/x-www-form-urlencoded forms",
        ))
    };
    let answer = outcome.unwrap_or_else(|refusal| {
        tracing::info!(code = refusal.resp.code, msg = %refusal.msg(), "unionpay gateway refused a request");
        refusal_answer(&fields, &refusal)
    });
    match answer.signed(&unionpay.keys, Signer::UnionPay) {
        Ok(pairs) => (
            StatusCode::OK,
            [(CONTENT_TYPE, "text/plain;charset=UTF-8")],
            answer_text(&pairs),
        )
            .into_response(),
        Err(error) => {
            tracing::error!(%error, "cannot sign a unionpay answer");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            value
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        })
}

/// An answer that echoes the request.
pub(super) fn echo(fields: &Fields) -> Message {
    Message::new().echo(fields, &ECHOED)
}

/// The answer to a refused request.
pub(super) fn refusal_answer(fields: &Fields, refusal: &Refusal) -> Message {
    echo(fields)
        .with("respCode", refusal.resp.code)
        .with("respMsg", refusal.msg())
}

/// The checks of every request: the protocol, the merchant, its
/// certificate and its signature.
pub(super) fn verify(unionpay: &Unionpay, fields: &Fields) -> Result<(), Refusal> {
    let version = fields.require("version")?;
    if version != VERSION {
        return Err(Refusal::new(FORMAT, "version must be 5.1.0"));
    }
    if fields.require("signMethod")? != "01" {
        return Err(Refusal::new(
            FORMAT,
            "signMethod must be 01 (RSA with SHA-256)",
        ));
    }
    if !fields.require("encoding")?.eq_ignore_ascii_case("UTF-8") {
        return Err(Refusal::new(FORMAT, "encoding must be UTF-8"));
    }
    if fields.require("accessType")? != "0" {
        return Err(Refusal::new(
            NO_PERMISSION,
            "the merchant connects directly: accessType 0",
        ));
    }
    if fields.require("merId")? != unionpay.config.mer_id {
        return Err(Refusal::new(MERCHANT, "not the sandbox's merchant"));
    }
    if fields.require("certId")? != unionpay.keys.merchant_cert_id() {
        return Err(Refusal::new(
            SIGNATURE,
            "certId names no signing certificate of this merchant",
        ));
    }
    let signature = fields.require("signature")?;
    let digest = super::wire::digest_hex(&fields.sign_content());
    if !unionpay.keys.merchant_signed(digest.as_bytes(), signature) {
        return Err(Refusal::new(
            SIGNATURE,
            "the signature does not verify with the certificate certId names",
        ));
    }
    Ok(())
}

/// `merId`, `orderId` and `txnTime`, checked.
pub(super) fn txn_key(fields: &Fields) -> Result<TxnKey, Refusal> {
    let order_id = fields.require("orderId")?;
    let well_formed =
        (8..=32).contains(&order_id.len()) && order_id.bytes().all(|b| b.is_ascii_alphanumeric());
    if !well_formed {
        return Err(Refusal::new(
            FORMAT,
            "orderId must be 8 to 32 letters and digits",
        ));
    }
    let txn_time = fields.require("txnTime")?;
    if parse_beijing(txn_time).is_none() {
        return Err(Refusal::new(
            FORMAT,
            "txnTime must be yyyyMMddHHmmss (Beijing time)",
        ));
    }
    Ok(TxnKey {
        mer_id: fields.require("merId")?.to_owned(),
        order_id: order_id.to_owned(),
        txn_time: txn_time.to_owned(),
    })
}

/// `txnAmt`: fen, digits only, more than zero.
pub(super) fn amount(fields: &Fields) -> Result<i64, Refusal> {
    let text = fields.require("txnAmt")?;
    let amount = (text.len() <= 12 && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse::<i64>().ok())
        .flatten()
        .filter(|amount| *amount > 0);
    amount.ok_or_else(|| Refusal::new(FORMAT, "txnAmt must be fen: digits, more than 0"))
}

/// `currencyCode`: 156 when `required` or present.
pub(super) fn currency(fields: &Fields, required: bool) -> Result<(), Refusal> {
    let code = if required {
        Some(fields.require("currencyCode")?)
    } else {
        fields.get("currencyCode")
    };
    match code {
        Some(code) if code != "156" => Err(Refusal::new(FORMAT, "currencyCode must be 156 (yuan)")),
        _ => Ok(()),
    }
}

/// A required `http(s)` URL field.
pub(super) fn url(fields: &Fields, name: &str) -> Result<String, Refusal> {
    let url = fields.require(name)?;
    let lower = url.to_ascii_lowercase();
    let http = lower.starts_with("http://") || lower.starts_with("https://");
    if !http || crate::urls::url_host(url).is_none() {
        return Err(Refusal::new(
            FORMAT,
            format!("{name} must be an http(s) URL"),
        ));
    }
    Ok(url.to_owned())
}

/// When the order stops being payable: `payTimeout` (after `txnTime`, not
/// yet past), or the default.
pub(super) fn deadline(fields: &Fields, txn_time: &str, now: i64) -> Result<i64, Refusal> {
    let Some(text) = fields.get("payTimeout") else {
        return Ok(now + DEFAULT_PAY_SECONDS);
    };
    let at = parse_beijing(text)
        .ok_or_else(|| Refusal::new(FORMAT, "payTimeout must be yyyyMMddHHmmss (Beijing time)"))?;
    if parse_beijing(txn_time).is_some_and(|start| at <= start) {
        return Err(Refusal::new(FORMAT, "payTimeout must be after txnTime"));
    }
    if at <= now {
        return Err(Refusal::new(TIMED_OUT, "订单已超时: payTimeout has passed"));
    }
    Ok(at)
}

/// `yyyyMMddHHmmss` in Beijing as Unix seconds.
pub(super) fn parse_beijing(text: &str) -> Option<i64> {
    let format = format_description!("[year][month][day][hour][minute][second]");
    if text.len() != 14 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    PrimitiveDateTime::parse(text, format)
        .ok()
        .map(|t| t.assume_offset(offset!(+8)).unix_timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::unionpay::wire::MISSING;

    #[test]
    fn reads_beijing_times() {
        assert_eq!(parse_beijing("20180608103456"), Some(1_528_425_296));
        assert_eq!(parse_beijing("20181308103456"), None);
        assert_eq!(parse_beijing("2018060810345"), None);
        assert_eq!(parse_beijing("+0180608103456"), None);
    }

    #[test]
    fn checks_keys_amounts_and_urls() {
        let fields = Fields::parse(
            b"merId=777290058110048&orderId=abc123XY&txnTime=20260102030405&txnAmt=0100&frontUrl=ftp%3A%2F%2Fx&backUrl=https%3A%2F%2Fshop.example%2Fn",
        );
        assert_eq!(txn_key(&fields).unwrap().order_id, "abc123XY");
        assert_eq!(amount(&fields), Ok(100));
        assert_eq!(url(&fields, "frontUrl").map_err(|e| e.resp), Err(FORMAT));
        assert_eq!(url(&fields, "backUrl").unwrap(), "https://shop.example/n");
        assert_eq!(url(&fields, "other").map_err(|e| e.resp), Err(MISSING));
        let bad = |body: &[u8]| txn_key(&Fields::parse(body)).map_err(|e| e.resp);
        assert_eq!(
            bad(b"merId=1&orderId=abc-1234&txnTime=20260102030405"),
            Err(FORMAT)
        );
        assert_eq!(
            bad(b"merId=1&orderId=abc1234&txnTime=20260102030405"),
            Err(FORMAT),
            "seven characters"
        );
        assert_eq!(bad(b"merId=1&orderId=abc12345&txnTime=2026"), Err(FORMAT));
        assert_eq!(
            amount(&Fields::parse(b"txnAmt=0")).map_err(|e| e.resp),
            Err(FORMAT)
        );
        assert_eq!(
            amount(&Fields::parse(b"txnAmt=1.00")).map_err(|e| e.resp),
            Err(FORMAT)
        );
    }

    #[test]
    fn pay_timeouts_come_after_txn_time_and_now() {
        let txn_time = "20260102030405";
        let start = parse_beijing(txn_time).unwrap();
        let fields = Fields::parse(b"payTimeout=20260102031905");
        assert_eq!(deadline(&fields, txn_time, start), Ok(start + 900));
        assert_eq!(
            deadline(&fields, txn_time, start + 900).map_err(|e| e.resp),
            Err(TIMED_OUT)
        );
        let early = Fields::parse(b"payTimeout=20260102030405");
        assert_eq!(
            deadline(&early, txn_time, start).map_err(|e| e.resp),
            Err(FORMAT)
        );
        assert_eq!(
            deadline(&Fields::default(), txn_time, start),
            Ok(start + DEFAULT_PAY_SECONDS)
        );
    }
}
