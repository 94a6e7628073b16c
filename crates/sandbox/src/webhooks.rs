//! A merchant's webhook endpoint, for the demo and for tests of the
//! reference server's webhooks: it checks `Payment-Selector-Signature`,
//! keeps every event it accepts, and can be taken down (or made to hang)
//! to exercise retries.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use aws_lc_rs::hmac;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::Clock;

/// The header that carries `t=<unix seconds>,v1=<hex HMAC-SHA256>`.
pub(crate) const SIGNATURE_HEADER: &str = "payment-selector-signature";
/// A signature's `t` may be this far from now.
const TOLERANCE_SECONDS: i64 = 300;

struct Receiver {
    key: hmac::Key,
    clock: Clock,
    state: Mutex<ReceiverState>,
}

#[derive(Default)]
struct ReceiverState {
    events: Vec<Value>,
    down: bool,
    hanging: bool,
    held: usize,
}

/// What the receiver does with an event.
#[derive(Debug, Serialize, Deserialize)]
struct Control {
    /// Answers 503 at once.
    down: bool,
    /// Holds each request unanswered (a sender that dies meanwhile leaves
    /// its event unsent); once released, answers them 503.
    #[serde(default)]
    hanging: bool,
    /// Requests held unanswered now (read only).
    #[serde(default)]
    held: usize,
}

/// `/webhooks` and `/webhooks/control`.
pub(crate) fn router(secret: &str, clock: Clock) -> Router {
    let receiver = Arc::new(Receiver {
        key: hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes()),
        clock,
        state: Mutex::new(ReceiverState::default()),
    });
    Router::new()
        .route("/webhooks", post(receive).get(list))
        .route("/webhooks/control", post(control).get(read_control))
        .with_state(receiver)
}

impl Receiver {
    fn lock(&self) -> MutexGuard<'_, ReceiverState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Checks `t=...,v1=...` (any `v1` may match) over `"<t>.<body>"`.
    fn verify(&self, header: Option<&str>, body: &[u8]) -> Result<(), String> {
        let header = header.ok_or("no Payment-Selector-Signature header")?;
        let mut timestamp = None;
        let mut signatures = Vec::new();
        for part in header.split(',') {
            match part.trim().split_once('=') {
                Some(("t", value)) => timestamp = Some(value),
                Some(("v1", value)) => signatures.push(value),
                _ => {}
            }
        }
        let timestamp = timestamp.ok_or("the signature has no t=")?;
        let seconds: i64 = timestamp
            .parse()
            .map_err(|_| "t is not a number of seconds")?;
        if (self.clock.unix_seconds() - seconds).abs() > TOLERANCE_SECONDS {
            return Err("t is more than 300 s away from now".into());
        }
        let mut message = format!("{timestamp}.").into_bytes();
        message.extend_from_slice(body);
        let matches = signatures
            .iter()
            .filter_map(|hex| decode_hex(hex))
            .any(|tag| hmac::verify(&self.key, &message, &tag).is_ok());
        if matches {
            Ok(())
        } else {
            Err("no v1 signature matches".into())
        }
    }
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

fn refuse(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({ "code": code, "message": message }))).into_response()
}

/// `POST /webhooks`: one event, signed.
async fn receive(
    State(receiver): State<Arc<Receiver>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if receiver.lock().hanging {
        let _held = Held::new(&receiver);
        while receiver.lock().hanging {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        return refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "receiver_hung",
            "the webhook receiver held this request unanswered",
        );
    }
    if receiver.lock().down {
        return refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "receiver_down",
            "the webhook receiver is down (POST /webhooks/control)",
        );
    }
    let header = headers
        .get(SIGNATURE_HEADER)
        .and_then(|value| value.to_str().ok());
    if let Err(reason) = receiver.verify(header, &body) {
        tracing::warn!(%reason, "webhook refused");
        return refuse(StatusCode::BAD_REQUEST, "invalid_signature", &reason);
    }
    let event: Value = match serde_json::from_slice(&body) {
        Ok(event) => event,
        Err(error) => return refuse(StatusCode::BAD_REQUEST, "invalid_body", &error.to_string()),
    };
    let text = |name: &str| {
        event
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_owned()
    };
    tracing::info!(r#type = %text("type"), id = %text("id"), "webhook received");
    receiver.lock().events.push(event);
    Json(json!({ "received": true })).into_response()
}

/// Counts a request held unanswered for as long as it is (its sender may
/// go away first).
struct Held<'a>(&'a Receiver);

impl<'a> Held<'a> {
    fn new(receiver: &'a Receiver) -> Held<'a> {
        receiver.lock().held += 1;
        Held(receiver)
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.0.lock().held -= 1;
    }
}

/// `GET /webhooks`: every accepted event, in arrival order.
async fn list(State(receiver): State<Arc<Receiver>>) -> Json<Vec<Value>> {
    Json(receiver.lock().events.clone())
}

/// `POST /webhooks/control` `{"down": bool, "hanging": bool}`.
async fn control(State(receiver): State<Arc<Receiver>>, body: Bytes) -> Response {
    let Ok(Control { down, hanging, .. }) = serde_json::from_slice(&body) else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "invalid_body",
            "expected {\"down\": bool, \"hanging\": bool}",
        );
    };
    {
        let mut state = receiver.lock();
        state.down = down;
        state.hanging = hanging;
    }
    tracing::info!(down, hanging, "webhook receiver control changed");
    read_control(State(receiver)).await.into_response()
}

/// `GET /webhooks/control`.
async fn read_control(State(receiver): State<Arc<Receiver>>) -> Json<Control> {
    let state = receiver.lock();
    Json(Control {
        down: state.down,
        hanging: state.hanging,
        held: state.held,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_hex() {
        assert_eq!(decode_hex("00ff10"), Some(vec![0, 255, 16]));
        assert_eq!(decode_hex("0"), None);
        assert_eq!(decode_hex("zz"), None);
        assert_eq!(decode_hex("é0"), None);
    }
}
