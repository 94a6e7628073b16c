//! The merchant learns the outcome (reads with its secret key, signed
//! webhooks delivered until accepted, across restarts and a SIGKILL),
//! methods switch on in batches, and a live server is safe to run.

use std::process::{Child, Command};
use std::time::Duration;

use contract::{Availability, CheckoutSession, ErrorCode, IntentStatus, MethodKind};
use payment_server::{Config, ServerOptions};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::net::TcpListener;

use crate::world::{
    code_of, error_of, fresh_database, order, send, spawn_binary, World, MERCHANT_KEY,
};

#[tokio::test]
async fn the_merchant_reads_how_its_session_stands_and_how_it_was_paid() {
    let world = World::start().await;
    let created = world.session().await;
    let path = format!("/checkout-sessions/{}", created.session.id);
    let open = world.merchant_get(&path).await;
    assert_eq!(open["status"], "open");
    assert_eq!(open["reference"], "order-42");
    assert!(open.get("payment").is_none());

    let intent = world.qr_intent(&created, "k").await;
    assert!(world
        .scan(&code_of(&intent), "pay")
        .await
        .status()
        .is_success());
    world.settled(&created, &intent.id).await;
    let paid = world.merchant_get(&path).await;
    assert_eq!(paid["status"], "completed");
    assert_eq!(paid["payment"]["intent_id"], intent.id.as_str());
    assert_eq!(paid["payment"]["method"], "wechat_pay");
    assert!(paid["payment"]["transaction_id"].as_str().is_some());
    let read = world.merchant_get(&format!("/intents/{}", intent.id)).await;
    assert_eq!(read["status"], "succeeded");
    assert_eq!(read["transaction_id"], paid["payment"]["transaction_id"]);

    let other_merchant = send(
        world
            .http
            .get(world.url(&path))
            .bearer_auth("sk_test_someone_else"),
    )
    .await;
    assert_eq!(other_merchant.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn webhooks_are_signed_and_report_completed_failed_and_expired_sessions() {
    let world = World::start().await;
    let paid = world.session().await;
    let declined = world.session().await;
    let _abandoned = world.session().await;
    let pay = world.qr_intent(&paid, "k").await;
    assert!(world
        .scan(&code_of(&pay), "pay")
        .await
        .status()
        .is_success());
    world.settled(&paid, &pay.id).await;
    let decline = world.qr_intent(&declined, "k").await;
    assert!(world
        .scan(&code_of(&decline), "decline")
        .await
        .status()
        .is_success());
    world.read_intent_asking(&declined, &decline.id, true).await;
    world.advance(31 * 60);
    // The receiver verifies each signature (HMAC-SHA256 over "t.body",
    // fresh): what it kept, it verified.
    let events = world.events_after_sweeps(4).await;
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["type"].as_str()).collect();
    assert!(kinds.contains(&"checkout_session.completed"), "{kinds:?}");
    assert!(kinds.contains(&"payment_intent.failed"), "{kinds:?}");
    assert_eq!(
        kinds
            .iter()
            .filter(|kind| **kind == "checkout_session.expired")
            .count(),
        2,
        "the declined and the abandoned session expire unpaid: {kinds:?}"
    );
    let mut ids: Vec<&str> = events.iter().filter_map(|e| e["id"].as_str()).collect();
    let count = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), count, "every event has its own id");
    assert!(ids.iter().all(|id| id.starts_with("evt_")));
}

#[tokio::test]
async fn a_webhook_endpoint_down_for_a_while_then_receives_every_event_once() {
    let world = World::start().await;
    world.receiver_down(true).await;
    for key in ["a", "b"] {
        let created = world.session().await;
        let intent = world.qr_intent(&created, key).await;
        assert!(world
            .scan(&code_of(&intent), "pay")
            .await
            .status()
            .is_success());
        world.settled(&created, &intent.id).await;
    }
    for _ in 0..4 {
        world.sweep().await;
        world.advance(30);
    }
    assert!(world.received_events().await.is_empty());
    let database = world.database().await;
    let waiting: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM webhook_events WHERE delivered_at IS NULL")
            .fetch_one(&database)
            .await
            .unwrap();
    assert_eq!(waiting, 2, "both sessions' events wait for the endpoint");
    let attempts: i64 = sqlx::query_scalar("SELECT MIN(attempts) FROM webhook_events")
        .fetch_one(&database)
        .await
        .unwrap();
    assert!(attempts >= 2, "tried and tried again ({attempts})");

    world.receiver_down(false).await;
    world.advance(3600);
    let events = world.events_after_sweeps(2).await;
    for _ in 0..3 {
        world.advance(3600);
        world.sweep().await;
    }
    let events_now = world.received_events().await;
    assert_eq!(events.len(), 2);
    assert_eq!(events_now.len(), 2, "each delivered once, not again");
}

#[tokio::test]
async fn pending_webhooks_survive_a_sigkill_of_the_real_server_binary() {
    let world = World::start().await;
    world.receiver_down(true).await;
    let folder = tempfile::tempdir().unwrap();
    let database = fresh_database(&folder).await;
    let (mut server, base) = spawn_binary(&world.sandbox, &database).await;

    let http = reqwest::Client::new();
    let created: contract::CreatedCheckoutSession = send(
        http.post(format!("{base}/checkout-sessions"))
            .bearer_auth(MERCHANT_KEY)
            .json(&order(12800)),
    )
    .await
    .json()
    .await
    .unwrap();
    let intent: contract::PaymentIntent = send(
        http.post(format!(
            "{base}/checkout-sessions/{}/intents",
            created.session.id
        ))
        .bearer_auth(&created.client_secret)
        .header("Idempotency-Key", "k")
        .json(&json!({"method": "wechat_pay", "client": {"device": "desktop"}})),
    )
    .await
    .json()
    .await
    .unwrap();
    assert!(world
        .scan(&code_of(&intent), "pay")
        .await
        .status()
        .is_success());
    let completed = wait_for(|| async {
        let session: Value = send(
            http.get(format!("{base}/checkout-sessions/{}", created.session.id))
                .bearer_auth(MERCHANT_KEY),
        )
        .await
        .json()
        .await
        .ok()?;
        (session["status"] == "completed").then_some(())
    })
    .await;
    assert!(completed.is_some(), "the payment was recorded");

    server.kill().expect("SIGKILL");
    server.wait().expect("it died");
    world.receiver_down(false).await;
    let (mut restarted, _) = spawn_binary(&world.sandbox, &database).await;
    let delivered = wait_for(|| async {
        let events = world.received_events().await;
        (!events.is_empty()).then_some(events)
    })
    .await;
    let _ = restarted.kill();
    let _ = restarted.wait();
    let events = delivered.expect("the pending event is delivered after the restart");
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["type"], "checkout_session.completed");
}

#[tokio::test]
async fn sigterm_lets_the_real_server_finish_and_exit_cleanly() {
    let world = World::start().await;
    let folder = tempfile::tempdir().unwrap();
    let (server, base) = spawn_binary(&world.sandbox, &fresh_database(&folder).await).await;
    let status = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exited = wait_for_exit(server).await;
    assert_eq!(exited, Some(0), "a clean exit after SIGTERM");
    assert!(
        reqwest::get(format!("{base}/nowhere")).await.is_err(),
        "and it no longer listens"
    );
}

#[tokio::test]
async fn a_method_switches_on_at_its_batch_time_without_a_restart() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let switch_on = time::OffsetDateTime::from_unix_timestamp(now + 120)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let config = payment_server::config::DEFAULT_CONFIG
        .replace("2027-01-15T10:00:00+08:00", &switch_on)
        .replace(
            r#"{ type = "wechat_pay" },"#,
            r#"{ type = "wechat_pay", batch = "wave-2027-01" },"#,
        );
    let world = World::with_config(Some(Config::parse(&config).unwrap())).await;
    let created = world.session().await;
    let wechat = |session: CheckoutSession| {
        session
            .methods
            .into_iter()
            .find(|method| method.kind == MethodKind::WechatPay)
            .unwrap()
            .availability
    };
    let before = world.read_session(&created).await;
    assert!(
        matches!(wechat(before), Availability::Unavailable { available_from: Some(at), .. } if (at - now - 120).abs() <= 1),
        "coming soon, with its date"
    );
    world.advance(121);
    assert_eq!(
        wechat(world.read_session(&created).await),
        Availability::Available
    );
    let intent = world.qr_intent(&created, "k").await;
    assert_eq!(intent.status, IntentStatus::RequiresAction);
}

#[tokio::test]
async fn a_live_server_needs_its_configuration_and_takes_live_keys_only() {
    let folder = tempfile::tempdir().unwrap();
    let live = fresh_database(&folder).await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let no_config = ServerOptions {
        database: live.clone(),
        ..ServerOptions::default()
    };
    assert!(
        payment_server::app(no_config, &listener).await.is_err(),
        "no config, no live server"
    );
    let test_keys = ServerOptions {
        database: live.clone(),
        config: Some(Config::embedded().unwrap()),
        ..ServerOptions::default()
    };
    let refused = payment_server::app(test_keys, &listener).await;
    assert!(
        matches!(refused, Err(ref error) if error.to_string().contains("live keys only")),
        "a test key in a live configuration"
    );

    // A live merchant (its WeChat Pay account points at the sandbox here).
    let world = World::start().await;
    let live_key = payment_server::auth::new_key(payment_server::auth::KeyMode::Live);
    let hash = payment_server::auth::key_hash(&live_key).unwrap();
    let config = format!(
        r#"
        session_ttl_seconds = 1800
        intent_ttl_seconds = 900
        [[merchants]]
        id = "shop"
        display_name = "Live Shop"
        secret_key_hash = "{hash}"
        methods = [{{ type = "wechat_pay" }}]
        [merchants.wechat_pay]
        mchid = "1900000001"
        appid = "wx8888888888888888"
        app_secret = "sandbox-app-secret"
        merchant_serial = "{serial}"
        merchant_private_key = "file:{keys}/merchant_private.pem"
        platform_public_key = "file:{keys}/platform_public.pem"
        platform_key_id = "{key_id}"
        apiv3_key = "{apiv3}"
        pay_base_url = "{sandbox}/wechat-pay"
        open_base_url = "{sandbox}/wechat-open"
        api_base_url = "{sandbox}/wechat-api"
        "#,
        serial = payment_sandbox::WechatConfig::demo().merchant_serial,
        key_id = payment_sandbox::WechatConfig::demo().platform_key_id,
        apiv3 = payment_sandbox::WechatConfig::demo().apiv3_key,
        keys = concat!(env!("CARGO_MANIFEST_DIR"), "/../sandbox/keys"),
        sandbox = world.sandbox,
    );
    let live = ServerOptions {
        database: live.clone(),
        config: Some(Config::parse(&config).unwrap()),
        public_url: Some("https://pay.shop.example".into()),
        ..ServerOptions::default()
    };
    let (_, app) = payment_server::app(live, &listener)
        .await
        .expect("a live server starts");
    let base = format!("http://{}/api", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let http = reqwest::Client::new();
    let create = |key: String| {
        send(
            http.post(format!("{base}/checkout-sessions"))
                .bearer_auth(key)
                .json(&order(100)),
        )
    };
    let with_test_key = create("sk_test_demo_merchant".into()).await;
    assert_eq!(with_test_key.status(), StatusCode::UNAUTHORIZED);
    let said: Value = with_test_key.json().await.unwrap();
    assert!(
        said["message"]
            .as_str()
            .unwrap_or_default()
            .contains("test keys"),
        "{said}"
    );
    let with_live_key = create(live_key).await;
    assert_eq!(with_live_key.status(), StatusCode::CREATED);
    let created: contract::CreatedCheckoutSession = with_live_key.json().await.unwrap();
    assert!(created.session.livemode);
    let demo = send(http.post(format!("{base}/dev/demo-session"))).await;
    assert_eq!(
        error_of(demo).await,
        (StatusCode::NOT_FOUND, ErrorCode::SandboxOnly),
        "no demo endpoints live"
    );
}

impl World {
    async fn read_session(&self, created: &contract::CreatedCheckoutSession) -> CheckoutSession {
        send(
            self.http
                .get(self.url(&format!(
                    "/checkout-sessions/{}?device=desktop",
                    created.session.id
                )))
                .bearer_auth(&created.client_secret),
        )
        .await
        .json()
        .await
        .unwrap()
    }
}

pub async fn wait_for<T, F, Fut>(mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    for _ in 0..300 {
        if let Some(found) = check().await {
            return Some(found);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    None
}

async fn wait_for_exit(mut child: Child) -> Option<i32> {
    for _ in 0..100 {
        if let Ok(Some(status)) = child.try_wait() {
            return status.code();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = child.kill();
    None
}

#[tokio::test]
async fn the_merchant_lists_its_intents_newest_first_page_by_page() {
    let world = World::start().await;
    let (paid_session, paid) = world.paid(MERCHANT_KEY).await;
    world.advance(1);
    let open = world.session().await;
    let first = world.qr_intent(&open, "a").await;
    world.advance(1);
    let second = world.qr_intent(&open, "b").await;
    let list = |query: &str| {
        let path = format!("/intents{query}");
        let world = &world;
        async move { world.merchant_get(&path).await }
    };

    let all = list("").await;
    let ids: Vec<&str> = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|intent| intent["id"].as_str())
        .collect();
    assert_eq!(
        ids,
        [second.id.as_str(), first.id.as_str(), paid.id.as_str()]
    );
    assert_eq!(all["has_more"], false);
    assert!(
        all["data"][2]["transaction_id"].as_str().is_some(),
        "the merchant's view"
    );

    let page = list("?limit=2").await;
    assert_eq!(page["has_more"], true);
    let next = list(&format!("?limit=2&starting_after={}", first.id)).await;
    assert_eq!(next["data"][0]["id"], paid.id.as_str());
    assert_eq!(next["has_more"], false);

    let succeeded = list("?status=succeeded").await;
    assert_eq!(succeeded["data"].as_array().unwrap().len(), 1);
    let canceled = list(&format!("?session={}&status=canceled", open.session.id)).await;
    assert_eq!(
        canceled["data"][0]["id"],
        first.id.as_str(),
        "superseded by the second"
    );
    let of_session = list(&format!("?session={}", paid_session.session.id)).await;
    assert_eq!(of_session["data"].as_array().unwrap().len(), 1);
    let recent = list(&format!("?created_gte={}", world.state.now())).await;
    assert_eq!(recent["data"][0]["id"], second.id.as_str());
    assert_eq!(recent["data"].as_array().unwrap().len(), 1);
    for bad in [
        "?limit=0",
        "?status=lost",
        "?starting_after=pi_nowhere",
        "?created_gte=soon",
    ] {
        let answer = send(
            world
                .http
                .get(world.url(&format!("/intents{bad}")))
                .bearer_auth(MERCHANT_KEY),
        )
        .await;
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
    let browser = send(
        world
            .http
            .get(world.url("/intents"))
            .bearer_auth(&open.client_secret),
    )
    .await;
    assert_eq!(
        browser.status(),
        StatusCode::UNAUTHORIZED,
        "a client secret lists nothing"
    );
}
