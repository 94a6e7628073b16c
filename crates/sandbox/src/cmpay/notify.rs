//! Background notifications to the merchant's `notifyUrl`: an
//! `application/x-www-form-urlencoded` POST of the `OfflineNotify` fields
//! and `hmac`, retried until the merchant answers. Always in a background
//! task, never on the request that decided the payment.
//!
//! Documented (DOC-DPC §8): the merchant answers the plain text `SUCCESS`;
//! otherwise 和包 tries again 7 times, 1, 5, 10, 60, 120, 360 and 900
//! minutes later.
//!
//! Emulated: a sandbox-short schedule, five attempts 1, 2, 4 and 8 seconds
//! apart; an attempt succeeds when the answer is 2xx and its body, trimmed,
//! is `SUCCESS`. Assumed: a declined payment is notified too, with
//! `status=FAILED` (the notification carries `status` for that); the form
//! is standard URL encoding in UTF-8.

use std::sync::Arc;
use std::time::Duration;

use super::control::Plan;
use super::Cmpay;

/// Pauses before each retry: 和包's minutes played as seconds.
const RETRY_PAUSES_SECONDS: [u64; 4] = [1, 2, 4, 8];

/// Sends `body` to `url` as `plan` says, each copy retried until the
/// merchant answers `SUCCESS` or the attempts run out.
pub(crate) async fn deliver(
    cmpay: Arc<Cmpay>,
    url: String,
    order_id: String,
    body: String,
    plan: Plan,
) {
    tokio::time::sleep(plan.delay).await;
    for copy in 1..=plan.copies {
        for attempt in 1..=RETRY_PAUSES_SECONDS.len() + 1 {
            match send_once(&cmpay, &url, &body).await {
                Ok(()) => {
                    tracing::info!(%order_id, %url, copy, attempt, "cmpay notification delivered");
                    break;
                }
                Err(reason) => {
                    tracing::warn!(%order_id, %url, copy, attempt, %reason, "cmpay notification not accepted");
                }
            }
            let Some(pause) = RETRY_PAUSES_SECONDS.get(attempt - 1) else {
                tracing::warn!(%order_id, %url, "cmpay notification given up");
                break;
            };
            tokio::time::sleep(Duration::from_secs(*pause)).await;
        }
    }
}

/// One POST; `Ok` when the merchant answered 2xx with `SUCCESS`.
async fn send_once(cmpay: &Cmpay, url: &str, body: &str) -> Result<(), String> {
    let response = cmpay
        .http
        .post(url)
        .header(
            "Content-Type",
            "application/x-www-form-urlencoded; charset=UTF-8",
        )
        .body(body.to_owned())
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    let text = response.text().await.map_err(|e| e.to_string())?;
    if status.is_success() && text.trim() == "SUCCESS" {
        Ok(())
    } else {
        Err(format!(
            "HTTP {status}: {:?}",
            text.chars().take(80).collect::<String>()
        ))
    }
}
