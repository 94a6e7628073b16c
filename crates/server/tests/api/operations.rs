//! What an operator runs the server with: liveness and readiness, metrics
//! in Prometheus' text format, a request id on every answer and in the
//! logs, the shopper's address behind a trusted proxy, and "check again"
//! that cannot hammer a provider.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::world::{fresh_database, phone, send, spawn_binary_with, Process, World, MERCHANT_KEY};

#[tokio::test]
async fn health_and_readiness_say_whether_the_database_is_this_build_s() {
    let world = World::start().await;
    let health = world
        .http
        .get(world.root_url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    assert_eq!(health.text().await.unwrap(), "ok\n");
    let ready = world
        .http
        .get(world.root_url("/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), StatusCode::OK);

    // A database missing a migration this build needs is not ready.
    sqlx::query("DELETE FROM _sqlx_migrations WHERE version = 2")
        .execute(&world.database().await)
        .await
        .unwrap();
    let ready = world
        .http
        .get(world.root_url("/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let said = ready.text().await.unwrap();
    assert!(said.contains("migration 2"), "{said}");
}

/// The value of one series in a Prometheus text page.
fn series(page: &str, name_and_labels: &str) -> Option<f64> {
    page.lines()
        .find_map(|line| line.strip_prefix(name_and_labels)?.trim().parse().ok())
}

#[tokio::test]
async fn metrics_count_requests_provider_calls_intents_and_the_outbox() {
    let world = World::start().await;
    world.receiver_down(true).await;
    world.paid(MERCHANT_KEY).await;
    world.sweep().await;
    let page = world
        .http
        .get(world.root_url("/metrics"))
        .send()
        .await
        .unwrap();
    assert!(page.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let page = page.text().await.unwrap();
    assert!(
        page.contains("# TYPE http_request_duration_seconds histogram"),
        "{page}"
    );
    assert_eq!(
        series(
            &page,
            r#"http_request_duration_seconds_count{method="POST",route="/api/checkout-sessions",status="201"}"#
        ),
        Some(1.0),
        "{page}"
    );
    assert!(
        series(
            &page,
            r#"http_request_duration_seconds_count{method="GET",route="/api/intents/{id}",status="200"}"#
        )
        .is_some_and(|reads| reads >= 1.0),
        "by route template, not by path: {page}"
    );
    assert_eq!(
        series(
            &page,
            r#"provider_call_duration_seconds_count{call="create",outcome="ok",provider="wechat-pay"}"#
        ),
        Some(1.0),
        "{page}"
    );
    assert_eq!(
        series(&page, r#"payment_intents{status="succeeded"}"#),
        Some(1.0)
    );
    assert_eq!(
        series(&page, r#"outbox_waiting{outbox="webhooks"}"#),
        Some(1.0),
        "the completed event waits for the endpoint that is down"
    );
    assert!(series(&page, r#"outbox_oldest_age_seconds{outbox="webhooks"}"#).is_some());
    assert_eq!(
        series(&page, r#"webhook_deliveries_total{outcome="failed"}"#),
        Some(1.0)
    );
    assert_eq!(series(&page, "refunds_pending"), Some(0.0));
}

#[tokio::test]
async fn every_answer_names_its_request() {
    let world = World::start().await;
    let named = send(
        world
            .http
            .get(world.url("/intents/pi_nowhere"))
            .bearer_auth(MERCHANT_KEY)
            .header("x-request-id", "shop-7f3a:retry.1"),
    )
    .await;
    assert_eq!(named.headers()["x-request-id"], "shop-7f3a:retry.1");
    let unnamed = send(
        world
            .http
            .get(world.url("/intents/pi_nowhere"))
            .bearer_auth(MERCHANT_KEY),
    )
    .await;
    let id = unnamed.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(id.starts_with("req_") && id.len() > 10, "{id}");
    let forged = send(
        world
            .http
            .get(world.url("/intents/pi_nowhere"))
            .bearer_auth(MERCHANT_KEY)
            .header("x-request-id", "a b\tc"),
    )
    .await;
    assert_ne!(forged.headers()["x-request-id"], "a b\tc");
    let health = world
        .http
        .get(world.root_url("/healthz"))
        .send()
        .await
        .unwrap();
    assert!(health.headers().contains_key("x-request-id"));
}

#[tokio::test]
async fn json_logs_carry_the_request_id_of_what_they_tell() {
    let world = World::start().await;
    let folder = tempfile::tempdir().unwrap();
    let database = fresh_database(&folder).await;
    let (server, base, logs) =
        spawn_binary_with(&["--log-format", "json"], &world.sandbox, &database).await;
    let server = Process(server);
    // A forged notification: refused, and logged as a warning.
    let answer = reqwest::Client::new()
        .post(format!("{base}/notify/wechat-pay/demo"))
        .header("x-request-id", "trace-me-42")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.headers()["x-request-id"], "trace-me-42");
    // Its logs end when it does.
    drop(server);
    let lines: Vec<Value> = logs
        .iter()
        .filter_map(|line| serde_json::from_str(&line).ok())
        .collect();
    let told = lines
        .iter()
        .find(|line| {
            line["fields"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("notification refused"))
        })
        .unwrap_or_else(|| panic!("no such line in {lines:?}"));
    assert_eq!(told["span"]["id"], "trace-me-42", "{told}");
    assert_eq!(told["level"], "WARN");
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_shopper_s_address_is_the_one_it_forwarded() {
    let body = json!({"method": "wechat_pay", "client": phone()});
    async fn payer_ip(world: &World, id: String) -> String {
        sqlx::query_scalar::<_, String>("SELECT payer_ip FROM payment_intents WHERE id = $1")
            .bind(id)
            .fetch_one(&world.database().await)
            .await
            .unwrap()
    }
    let forwarded = |world: &World, created: &contract::CreatedCheckoutSession| {
        send(
            world
                .http
                .post(world.url(&format!(
                    "/checkout-sessions/{}/intents",
                    created.session.id
                )))
                .bearer_auth(&created.client_secret)
                .header("Idempotency-Key", "k")
                .header("X-Forwarded-For", "198.51.100.23, 203.0.113.9")
                .json(&body),
        )
    };

    let proxied = World::behind(vec!["127.0.0.0/8".parse().unwrap()]).await;
    let created = proxied.session().await;
    let intent: contract::PaymentIntent = forwarded(&proxied, &created).await.json().await.unwrap();
    assert_eq!(payer_ip(&proxied, intent.id).await, "203.0.113.9");

    // Without the operator's word, the header is anyone's to forge.
    let direct = World::start().await;
    let created = direct.session().await;
    let intent: contract::PaymentIntent = forwarded(&direct, &created).await.json().await.unwrap();
    assert_eq!(payer_ip(&direct, intent.id).await, "127.0.0.1");
}

#[tokio::test]
async fn check_again_asks_the_provider_at_most_every_few_seconds() {
    let world = World::start().await;
    let created = world.session().await;
    let intent = world.qr_intent(&created, "k").await;
    let queries = || async {
        let page = world
            .http
            .get(world.root_url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        series(
            &page,
            r#"provider_call_duration_seconds_count{call="query",outcome="ok",provider="wechat-pay"}"#,
        )
        .unwrap_or(0.0)
    };
    for _ in 0..5 {
        world.read_intent_asking(&created, &intent.id, true).await;
    }
    assert_eq!(queries().await, 1.0, "five presses, one question");
    world.advance(3);
    world.read_intent_asking(&created, &intent.id, true).await;
    assert_eq!(queries().await, 2.0);
}
