//! Background notifications to the merchant's `backUrl`: an
//! `application/x-www-form-urlencoded` POST of the result's fields,
//! `signPubKeyCert` and `signature`, retried until the merchant answers.
//! Always in a background task, never on the request that paid or
//! refunded.
//!
//! Documented (the 5.1.0 demos' comments; a captured notification body):
//! the notification is an ordinary URL-encoded form, signed like an answer
//! (`signPubKeyCert` included in what is signed); the merchant should
//! answer HTTP 200 (or 302) within 10 s, else UnionPay tries again, up to
//! five times in all, the waits growing (the demos say 1, 2, 4 minutes
//! and so on). A `backUrl` may carry its own query string: the POST goes to
//! it as it is, and the merchant must leave those parameters out of what it
//! verifies.
//!
//! Emulated: five attempts, 1, 2, 4 and 8 seconds apart (a minute played as
//! a second); HTTP 200 or 302 ends them. Assumed: consumption results are
//! notified only when they succeed (a decline is told to the browser's
//! `frontUrl` and to queries); refund and cancellation results are
//! notified whether they succeed or fail.

use std::sync::Arc;
use std::time::Duration;

use super::control::Plan;
use super::txns::TxnKey;
use super::wire::{form_text, Message};
use super::Unionpay;

/// Pauses before each retry: UnionPay's minutes played as seconds.
const RETRY_PAUSES_SECONDS: [u64; 4] = [1, 2, 4, 8];

/// One notification, signed, ready to send (and send again).
#[derive(Clone, Debug)]
pub(crate) struct Notification {
    /// The order it belongs to (a refund's: the payment's).
    pub order: TxnKey,
    /// `orderId` of the transaction, for logs.
    pub order_id: String,
    body: String,
}

impl Notification {
    /// Signs `message` as `plan` says.
    pub(crate) fn sign(
        unionpay: &Unionpay,
        order: TxnKey,
        message: &Message,
        plan: &Plan,
    ) -> Result<Notification, String> {
        let pairs = message.signed(&unionpay.keys, plan.signer)?;
        Ok(Notification {
            order,
            order_id: message.get("orderId").unwrap_or_default().to_owned(),
            body: form_text(&pairs),
        })
    }
}

/// Sends `notification` to `url` as `plan` says, each copy retried until
/// the merchant answers 200 (or 302) or the attempts run out.
pub(crate) async fn deliver(
    unionpay: Arc<Unionpay>,
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
            let outcome = send_once(&unionpay, &url, &notification).await;
            if first_attempt {
                first_attempt = false;
                unionpay.sent_once(&notification.order);
            }
            match outcome {
                Ok(()) => {
                    tracing::info!(order_id = %notification.order_id, %url, copy, attempt, "unionpay notification delivered");
                    break;
                }
                Err(reason) => {
                    tracing::warn!(order_id = %notification.order_id, %url, copy, attempt, %reason, "unionpay notification not accepted")
                }
            }
            let Some(pause) = RETRY_PAUSES_SECONDS.get(attempt - 1) else {
                tracing::warn!(order_id = %notification.order_id, %url, "unionpay notification given up");
                break;
            };
            tokio::time::sleep(Duration::from_secs(*pause)).await;
        }
    }
}

/// One POST; `Ok` when the merchant answered 200 or 302.
async fn send_once(
    unionpay: &Unionpay,
    url: &str,
    notification: &Notification,
) -> Result<(), String> {
    let response = unionpay
        .http
        .post(url)
        .header(
            "Content-Type",
            "application/x-www-form-urlencoded; charset=UTF-8",
        )
        .body(notification.body.clone())
        .send()
        .await
        .map_err(|e| e.to_string())?;
    match response.status().as_u16() {
        200 | 302 => Ok(()),
        status => Err(format!("HTTP {status}")),
    }
}
