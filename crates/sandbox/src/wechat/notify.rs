//! Notifications of payments and refunds: the v3 envelope with the
//! transaction (or the refund) sealed under the APIv3 key, signed like a
//! response, POSTed to the order's (or the refund's) `notify_url` and
//! retried with backoff until the merchant answers 200 or 204. Always in a
//! background task: never on the request that paid.

use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use tokio::sync::oneshot;

use super::control::Plan;
use super::crypto::{self, Keys};
use super::protocol::{
    EncryptedResource, NotificationEnvelope, RefundNotice, RefundNoticeAmount, Transaction,
    AUTH_SCHEME,
};
use super::refunds::{RefundRecord, RefundStatus};
use super::Wechat;
use crate::clock::rfc3339_cst;

/// Tries per notification (the real one keeps trying for about a day).
const MAX_TRIES: u32 = 8;
/// The `original_type` (and `associated_data`) of a payment's resource.
const TRANSACTION: &str = "transaction";
/// The `original_type` (and `associated_data`) of a refund's resource.
const REFUND: &str = "refund";

/// One notification, ready to send (and to send again, byte for byte).
#[derive(Clone, Debug)]
pub(crate) struct Notification {
    pub id: String,
    pub body: String,
}

/// The `TRANSACTION.SUCCESS` notification for a paid transaction.
pub(crate) fn build(
    keys: &Keys,
    transaction: &Transaction,
    now: i64,
) -> Result<Notification, String> {
    let plaintext = serde_json::to_vec(transaction).map_err(|e| e.to_string())?;
    seal(
        keys,
        "TRANSACTION.SUCCESS",
        "支付成功",
        TRANSACTION,
        &plaintext,
        now,
    )
}

/// The `REFUND.SUCCESS`, `REFUND.ABNORMAL` or `REFUND.CLOSED` notification
/// for a refund that ended.
pub(crate) fn build_refund(
    keys: &Keys,
    mchid: &str,
    refund: &RefundRecord,
    now: i64,
) -> Result<Notification, String> {
    let (event_type, summary) = match refund.status {
        RefundStatus::Success => ("REFUND.SUCCESS", "退款成功"),
        RefundStatus::Abnormal => ("REFUND.ABNORMAL", "退款异常"),
        RefundStatus::Closed => ("REFUND.CLOSED", "退款关闭"),
        RefundStatus::Processing => return Err("a refund still processing is not notified".into()),
    };
    let notice = RefundNotice {
        mchid: mchid.to_owned(),
        out_trade_no: refund.params.out_trade_no.clone(),
        transaction_id: refund.transaction_id.clone(),
        out_refund_no: refund.params.out_refund_no.clone(),
        refund_id: refund.refund_id.clone(),
        refund_status: refund.status.wire(),
        success_time: refund.success_time.map(rfc3339_cst),
        user_received_account: "支付用户零钱",
        amount: RefundNoticeAmount {
            total: refund.params.total,
            refund: refund.params.refund,
            payer_total: refund.params.total,
            payer_refund: refund.params.refund,
        },
    };
    let plaintext = serde_json::to_vec(&notice).map_err(|e| e.to_string())?;
    seal(keys, event_type, summary, REFUND, &plaintext, now)
}

/// The envelope, its resource sealed under the APIv3 key with
/// `original_type` as its associated data.
fn seal(
    keys: &Keys,
    event_type: &'static str,
    summary: &'static str,
    original_type: &'static str,
    plaintext: &[u8],
    now: i64,
) -> Result<Notification, String> {
    let nonce = crypto::nonce(12);
    let sealed = keys.apiv3_seal(nonce.as_bytes(), original_type.as_bytes(), plaintext)?;
    let id = uuid_like();
    let envelope = NotificationEnvelope {
        id: id.clone(),
        create_time: rfc3339_cst(now),
        resource_type: "encrypt-resource",
        event_type,
        summary,
        resource: EncryptedResource {
            original_type,
            algorithm: "AEAD_AES_256_GCM",
            ciphertext: STANDARD.encode(sealed),
            associated_data: original_type,
            nonce,
        },
    };
    let body = serde_json::to_string(&envelope).map_err(|e| e.to_string())?;
    Ok(Notification { id, body })
}

/// A random id shaped like a UUID, as WeChat's notification ids are.
fn uuid_like() -> String {
    let hex = crypto::hex(32);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// Sends `notification` to `url` as `plan` says. `first_attempt` hears when
/// the first try has had its answer (or failed), whatever it was.
pub(crate) async fn deliver(
    wechat: Arc<Wechat>,
    url: String,
    notification: Notification,
    plan: Plan,
    mut first_attempt: Option<oneshot::Sender<()>>,
) {
    tokio::time::sleep(plan.delay).await;
    for copy in 1..=plan.copies {
        for attempt in 1..=MAX_TRIES {
            let outcome = send_once(&wechat, &url, &notification).await;
            if let Some(heard) = first_attempt.take() {
                let _ = heard.send(());
            }
            match outcome {
                Ok(status) if status == 200 || status == 204 => {
                    tracing::info!(id = %notification.id, %url, copy, attempt, "notification delivered");
                    break;
                }
                Ok(status) => {
                    tracing::warn!(id = %notification.id, %url, copy, attempt, status, "notification refused")
                }
                Err(error) => {
                    tracing::warn!(id = %notification.id, %url, copy, attempt, %error, "notification not delivered")
                }
            }
            if attempt == MAX_TRIES {
                tracing::warn!(id = %notification.id, %url, "notification given up");
                break;
            }
            tokio::time::sleep(Duration::from_secs(1 << (attempt - 1))).await;
        }
    }
}

/// One POST, freshly signed; the merchant's status code.
async fn send_once(wechat: &Wechat, url: &str, notification: &Notification) -> Result<u16, String> {
    let timestamp = wechat.clock.unix_seconds().to_string();
    let nonce = crypto::nonce(32);
    let message = format!("{timestamp}\n{nonce}\n{}\n", notification.body);
    let signature = wechat.keys.platform_sign(message.as_bytes())?;
    let response = wechat
        .http
        .post(url)
        .header("Content-Type", "application/json")
        .header("Wechatpay-Timestamp", timestamp)
        .header("Wechatpay-Nonce", nonce)
        .header("Wechatpay-Signature", signature)
        .header("Wechatpay-Serial", &wechat.config.platform_key_id)
        .header("Wechatpay-Signature-Type", AUTH_SCHEME)
        .body(notification.body.clone())
        .send()
        .await
        .map_err(|e| e.to_string())?;
    Ok(response.status().as_u16())
}
