//! Asynchronous notifications: a form POST to the trade's `notify_url`,
//! retried until the merchant answers `success`. Always in a background
//! task, never on the request that paid or refunded.
//!
//! Documented (opendocs open/00f7nu, 00f7nj, 00dn7l; common/02mse7):
//! - `application/x-www-form-urlencoded` fields: `notify_time`,
//!   `notify_type` = `trade_status_sync`, `notify_id`, `app_id`,
//!   `auth_app_id`, `charset`, `version`, `sign_type`, `sign`, `trade_no`,
//!   `out_trade_no`, `out_biz_no` (a refund's `out_request_no`), `buyer_id`
//!   or `buyer_open_id`, `buyer_logon_id`, `seller_id`, `trade_status`,
//!   `total_amount`, `receipt_amount`, `invoice_amount`, `buyer_pay_amount`,
//!   `point_amount`, `refund_fee`, `send_back_fee`, `subject`, `body`,
//!   `gmt_create`, `gmt_payment`, `gmt_refund`, `gmt_close`,
//!   `fund_bill_list` (a JSON string), `passback_params` (as given).
//! - The merchant verifies over every field but `sign` and `sign_type`,
//!   sorted by name, joined `k=v&...`, with Alipay's public key (the SDKs'
//!   `rsaCheckV1`), and answers the seven characters `success`; anything
//!   else is retried, "4m, 10m, 10m, 1h, 2h, 6h, 15h" (当面付: three times
//!   at once first), with the same `notify_id` each time.
//! - A partial refund is notified TRADE_SUCCESS with `refund_fee` (the total
//!   refunded) and `gmt_refund`; a full one TRADE_CLOSED (with `gmt_close`).
//!
//! Emulated: three immediate retries, then the documented intervals with a
//! minute played as a second; `notify_time` is the time of each attempt.
//! Assumed: every product notifies payments and refunds (当面付 documents
//! TRADE_SUCCESS only by default); closing an unpaid trade is not notified;
//! both `buyer_id` and `buyer_open_id` are sent (an application gets one or
//! the other, as it is configured); the answer must also be HTTP 200.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use super::control::Plan;
use super::keys::Keys;
use super::refunds::Refund;
use super::trades::{Trade, TradeStatus};
use super::Alipay;
use crate::clock::{cst_datetime, cst_digits};
use crate::crypto;
use crate::html::yuan;

/// Pauses before each retry, in seconds: three at once, then Alipay's
/// 4m, 10m, 10m, 1h, 2h, 6h, 15h with a minute played as a second.
const RETRY_PAUSES_SECONDS: [u64; 10] = [0, 0, 0, 4, 10, 10, 60, 120, 360, 900];
/// What the merchant must answer.
const SUCCESS: &[u8] = b"success";

/// One notification, ready to send (and send again, freshly dated).
#[derive(Clone, Debug)]
pub(crate) struct Notification {
    pub trade_no: String,
    pub notify_id: String,
    /// Every field but `notify_time` and `sign`.
    fields: Vec<(&'static str, String)>,
}

/// The notification of a payment (`refund: None`) or of a refund that
/// succeeded.
pub(crate) fn build(
    alipay: &Alipay,
    trade: &Trade,
    refund: Option<&Refund>,
    now: i64,
) -> Notification {
    let notify_id = format!(
        "{}00222{}",
        cst_digits(now).get(..8).unwrap_or("19700101"),
        crypto::digits(21)
    );
    let total = yuan(trade.params.total);
    let mut fields: Vec<(&'static str, String)> = vec![
        ("notify_type", "trade_status_sync".into()),
        ("notify_id", notify_id.clone()),
        ("app_id", alipay.config.app_id.clone()),
        ("auth_app_id", alipay.config.app_id.clone()),
        ("charset", "utf-8".into()),
        ("version", "1.0".into()),
        ("sign_type", "RSA2".into()),
        ("trade_no", trade.trade_no.clone()),
        ("out_trade_no", trade.params.out_trade_no.clone()),
        ("seller_id", alipay.config.seller_id.clone()),
        ("trade_status", trade.status.wire().into()),
        ("total_amount", total.clone()),
        ("receipt_amount", total.clone()),
        ("invoice_amount", total.clone()),
        ("buyer_pay_amount", total.clone()),
        ("point_amount", "0.00".into()),
        ("subject", trade.params.subject.clone()),
        ("gmt_create", cst_datetime(trade.created_at)),
        (
            "fund_bill_list",
            json!([{ "amount": total, "fundChannel": "ALIPAYACCOUNT" }]).to_string(),
        ),
    ];
    if let Some(buyer) = &trade.buyer {
        fields.push(("buyer_id", buyer.user_id.clone()));
        fields.push(("buyer_open_id", buyer.open_id.clone()));
        fields.push(("buyer_logon_id", buyer.logon_id.clone()));
    }
    if let Some(paid_at) = trade.paid_at {
        fields.push(("gmt_payment", cst_datetime(paid_at)));
    }
    if let Some(body) = &trade.params.body {
        fields.push(("body", body.clone()));
    }
    if let Some(passback) = &trade.params.passback_params {
        fields.push(("passback_params", passback.clone()));
    }
    if let Some(refund) = refund {
        fields.push(("out_biz_no", refund.out_request_no.clone()));
        fields.push(("refund_fee", yuan(trade.refunded())));
        fields.push(("send_back_fee", yuan(refund.amount)));
        fields.push((
            "gmt_refund",
            cst_datetime(refund.succeeded_at.unwrap_or(now)),
        ));
    }
    if let (TradeStatus::Closed, Some(closed_at)) = (trade.status, trade.closed_at) {
        fields.push(("gmt_close", cst_datetime(closed_at)));
    }
    Notification {
        trade_no: trade.trade_no.clone(),
        notify_id,
        fields,
    }
}

/// The form body of one attempt: the fields, `notify_time` and `sign`.
fn signed_form(keys: &Keys, notification: &Notification, now: i64) -> Result<String, String> {
    let notify_time = cst_datetime(now);
    let mut fields: Vec<(&str, &str)> = notification
        .fields
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect();
    fields.push(("notify_time", &notify_time));
    let mut signed: Vec<&(&str, &str)> = fields
        .iter()
        .filter(|(name, value)| *name != "sign" && *name != "sign_type" && !value.is_empty())
        .collect();
    signed.sort_by(|a, b| a.0.cmp(b.0));
    let content = signed
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("&");
    let sign = keys.sign(content.as_bytes())?;
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.extend_pairs(fields.iter());
    form.append_pair("sign", &sign);
    Ok(form.finish())
}

/// Sends `notification` to `url` as `plan` says, each copy retried until
/// the merchant answers `success` or the retries run out.
pub(crate) async fn deliver(
    alipay: Arc<Alipay>,
    url: String,
    notification: Notification,
    plan: Plan,
) {
    tokio::time::sleep(plan.delay).await;
    let mut first_attempt = true;
    for copy in 1..=plan.copies {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let outcome = send_once(&alipay, &url, &notification).await;
            if first_attempt {
                first_attempt = false;
                alipay.sent_once(&notification.trade_no);
            }
            match outcome {
                Ok(()) => {
                    tracing::info!(notify_id = %notification.notify_id, %url, copy, attempt, "alipay notification delivered");
                    break;
                }
                Err(reason) => {
                    tracing::warn!(notify_id = %notification.notify_id, %url, copy, attempt, %reason, "alipay notification not accepted")
                }
            }
            let Some(pause) = RETRY_PAUSES_SECONDS.get(attempt - 1) else {
                tracing::warn!(notify_id = %notification.notify_id, %url, "alipay notification given up");
                break;
            };
            tokio::time::sleep(Duration::from_secs(*pause)).await;
        }
    }
}

/// One POST, freshly dated and signed; `Ok` when the merchant said `success`.
async fn send_once(alipay: &Alipay, url: &str, notification: &Notification) -> Result<(), String> {
    let body = signed_form(&alipay.keys, notification, alipay.clock.unix_seconds())?;
    let response = alipay
        .http
        .post(url)
        .header(
            "Content-Type",
            "application/x-www-form-urlencoded; charset=utf-8",
        )
        .body(body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let answer = response.bytes().await.map_err(|e| e.to_string())?;
    if status == 200 && answer.as_ref() == SUCCESS {
        Ok(())
    } else {
        Err(format!(
            "HTTP {status}, answered {:?}",
            String::from_utf8_lossy(&answer.slice(..answer.len().min(64)))
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AlipayConfig;

    #[test]
    fn signs_every_field_but_sign_and_sign_type() {
        let keys = Keys::load(&AlipayConfig::demo()).unwrap();
        let notification = Notification {
            trade_no: "t".into(),
            notify_id: "n".into(),
            fields: vec![
                ("sign_type", "RSA2".into()),
                ("trade_status", "TRADE_SUCCESS".into()),
                ("app_id", "9021".into()),
                ("empty", String::new()),
            ],
        };
        let form = signed_form(&keys, &notification, 1_528_425_296).unwrap();
        let fields: Vec<(String, String)> = form_urlencoded::parse(form.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let sign = &fields.iter().find(|(k, _)| k == "sign").unwrap().1;
        let content = "app_id=9021&notify_time=2018-06-08 10:34:56&trade_status=TRADE_SUCCESS";
        let public =
            crate::crypto::rsa_public_key(include_str!("../../keys/alipay_platform_public.pem"))
                .unwrap();
        assert!(crate::crypto::rsa_verify(&public, content.as_bytes(), sign));
    }
}
