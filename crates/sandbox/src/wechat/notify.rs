//! Payment notifications: the v3 envelope with the transaction sealed under
//! the APIv3 key, signed like a response, POSTed to the order's
//! `notify_url` and retried with backoff until the merchant answers 200 or
//! 204. Always in a background task: never on the request that paid.

use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use tokio::sync::oneshot;

use super::control::Plan;
use super::crypto::{self, Keys};
use super::protocol::{EncryptedResource, NotificationEnvelope, Transaction, AUTH_SCHEME};
use super::Wechat;
use crate::clock::rfc3339_cst;

/// Tries per notification (the real one keeps trying for about a day).
const MAX_TRIES: u32 = 8;
/// The `associated_data` of a transaction resource.
const ASSOCIATED_DATA: &str = "transaction";

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
    let nonce = crypto::nonce(12);
    let sealed = keys.apiv3_seal(nonce.as_bytes(), ASSOCIATED_DATA.as_bytes(), &plaintext)?;
    let id = uuid_like();
    let envelope = NotificationEnvelope {
        id: id.clone(),
        create_time: rfc3339_cst(now),
        resource_type: "encrypt-resource",
        event_type: "TRANSACTION.SUCCESS",
        summary: "支付成功",
        resource: EncryptedResource {
            original_type: "transaction",
            algorithm: "AEAD_AES_256_GCM",
            ciphertext: STANDARD.encode(sealed),
            associated_data: ASSOCIATED_DATA,
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
