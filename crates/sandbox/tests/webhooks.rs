//! The merchant webhook receiver over real HTTP.

mod common;

use aws_lc_rs::hmac;
use common::Sandbox;
use serde_json::{json, Value};

const SECRET: &str = "whsec_sandbox_demo";

/// `t=<t>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
fn signature(secret: &str, t: i64, body: &str) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let tag = hmac::sign(&key, format!("{t}.{body}").as_bytes());
    let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("t={t},v1={hex}")
}

async fn post(sandbox: &Sandbox, body: &str, signature: Option<String>) -> (u16, Value) {
    let mut request = sandbox
        .http
        .post(format!("{}/webhooks", sandbox.url))
        .header("Content-Type", "application/json")
        .body(body.to_owned());
    if let Some(signature) = signature {
        request = request.header("Payment-Selector-Signature", signature);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

async fn received(sandbox: &Sandbox) -> Vec<Value> {
    sandbox
        .http
        .get(format!("{}/webhooks", sandbox.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn set_down(sandbox: &Sandbox, down: bool) {
    let response = sandbox
        .http
        .post(format!("{}/webhooks/control", sandbox.url))
        .json(&json!({ "down": down }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({ "down": down, "hanging": false, "held": 0 })
    );
}

fn event(id: &str) -> String {
    json!({ "id": id, "type": "payment_intent.succeeded", "data": { "intent": "pi_1" } })
        .to_string()
}

#[tokio::test]
async fn a_signed_event_is_kept_in_arrival_order() {
    let sandbox = Sandbox::start().await;
    for id in ["evt_1", "evt_2"] {
        let body = event(id);
        let (status, _) = post(
            &sandbox,
            &body,
            Some(signature(SECRET, sandbox.now(), &body)),
        )
        .await;
        assert_eq!(status, 200);
    }
    let events = received(&sandbox).await;
    let ids: Vec<&str> = events.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["evt_1", "evt_2"]);
    assert_eq!(
        events[0],
        serde_json::from_str::<Value>(&event("evt_1")).unwrap()
    );
}

#[tokio::test]
async fn bad_and_stale_signatures_are_refused() {
    let sandbox = Sandbox::start().await;
    let body = event("evt_bad");
    let now = sandbox.now();
    for signature in [
        None,
        Some(signature("whsec_other", now, &body)),
        Some(signature(SECRET, now, &event("evt_other"))),
        Some(signature(SECRET, now - 400, &body)),
        Some(signature(SECRET, now + 400, &body)),
        Some(format!("t={now}")),
        Some("v1=00".to_owned()),
    ] {
        let (status, refused) = post(&sandbox, &body, signature.clone()).await;
        assert_eq!(status, 400, "{signature:?}");
        assert!(refused["code"].as_str().is_some() && refused["message"].as_str().is_some());
    }
    assert!(received(&sandbox).await.is_empty());
}

#[tokio::test]
async fn a_receiver_that_is_down_answers_503() {
    let sandbox = Sandbox::start().await;
    set_down(&sandbox, true).await;
    let body = event("evt_down");
    let (status, _) = post(
        &sandbox,
        &body,
        Some(signature(SECRET, sandbox.now(), &body)),
    )
    .await;
    assert_eq!(status, 503);
    assert!(received(&sandbox).await.is_empty());
    set_down(&sandbox, false).await;
    let (status, _) = post(
        &sandbox,
        &body,
        Some(signature(SECRET, sandbox.now(), &body)),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(received(&sandbox).await.len(), 1);
}
