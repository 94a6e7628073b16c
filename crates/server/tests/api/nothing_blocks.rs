//! Nothing stuck holds up the rest: a dead webhook endpoint delays only
//! its own merchant, a provider that hangs delays only its own intents, a
//! provider that is down is asked again with backoff rather than on every
//! pass, and events wait for a merchant that has no endpoint.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::Value;

use crate::world::{
    black_hole, code_of, sandbox_account, with_other_merchant, World, MERCHANT_KEY, OTHER_KEY,
};

/// The server's default pace of background work.
const EVERY: Duration = Duration::from_secs(1);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_dead_webhook_endpoint_does_not_hold_up_another_merchant_s_events() {
    let (dead, _hole) = black_hole().await;
    let world = World::with_config(Some(with_other_merchant(&format!(
        r#"webhook = {{ url = "{dead}/hooks", secret = "whsec_other" }}"#
    ))))
    .await;
    // Six events for the endpoint that never answers: more than it may have
    // in flight at once.
    for _ in 0..6 {
        world.paid(OTHER_KEY).await;
    }
    let _background = world.background(EVERY);
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let (created, _) = world.paid(MERCHANT_KEY).await;
    let paid_at = Instant::now();
    let delivered = loop {
        let events = world.received_events().await;
        let ours = events
            .iter()
            .any(|event| event["data"]["checkout_session"]["id"] == created.session.id.as_str());
        if ours || paid_at.elapsed() > Duration::from_secs(15) {
            break paid_at.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    // One pass of the background work at most (1 s), and the delivery
    // itself: the dead endpoint's ten-second timeouts are not ours.
    assert!(
        delivered < EVERY + Duration::from_millis(800),
        "delivered {delivered:?} after the payment"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_intent_whose_provider_hangs_does_not_hold_up_the_expiry_of_others() {
    let mut world = World::start().await;
    let sandbox = world.sandbox.clone();
    let account = |pay: &str| with_other_merchant(&sandbox_account("1900000001", pay, &sandbox));
    let healthy = account(&format!("{}/wechat-pay", world.sandbox));
    world.restart_with(Some(healthy)).await;
    // The other merchant's intent is older: it comes due first.
    let theirs = world.session_of(OTHER_KEY).await;
    let stuck = world.qr_intent(&theirs, "k").await;
    world.advance(5);
    let ours = world.session().await;
    let intent = world.qr_intent(&ours, "k").await;

    // Its provider now takes connections and never answers.
    let (hole, _hole) = black_hole().await;
    world
        .restart_with(Some(account(&format!("{hole}/wechat-pay"))))
        .await;
    world.advance(16 * 60);
    let _background = world.background(EVERY);
    let started = Instant::now();
    let database = world.database().await;
    let status = |id: String| {
        let database = database.clone();
        async move {
            sqlx::query_scalar::<_, String>("SELECT status FROM payment_intents WHERE id = $1")
                .bind(id)
                .fetch_one(&database)
                .await
                .unwrap()
        }
    };
    while status(intent.id.clone()).await != "expired"
        && started.elapsed() < Duration::from_secs(15)
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let expired_after = started.elapsed();
    assert!(
        expired_after < Duration::from_secs(3),
        "ours expired {expired_after:?} in, behind a provider that hangs 10 s a call"
    );
    assert_eq!(
        status(stuck.id.clone()).await,
        "requires_action",
        "theirs waits"
    );
    assert_eq!(
        world.read_intent(&ours, &intent.id).await.status,
        contract::IntentStatus::Expired
    );
}

#[tokio::test]
async fn a_provider_that_is_down_is_asked_again_with_backoff_not_on_every_pass() {
    let world = World::start().await;
    let created = world.session().await;
    let intent = world.qr_intent(&created, "k").await;
    world.control(serde_json::json!({"outage": true})).await;
    world.advance(16 * 60);
    let database = world.database().await;
    let failures = || async {
        sqlx::query_scalar::<_, i64>("SELECT provider_failures FROM payment_intents WHERE id = $1")
            .bind(&intent.id)
            .fetch_one(&database)
            .await
            .unwrap()
    };
    world.sweep().await;
    assert_eq!(failures().await, 1);
    for _ in 0..5 {
        world.sweep().await;
    }
    assert_eq!(failures().await, 1, "left alone while it backs off");
    world.advance(7);
    world.sweep().await;
    assert_eq!(failures().await, 2, "asked again after about five seconds");
    world.advance(7);
    world.sweep().await;
    assert_eq!(failures().await, 2, "then after about ten");
    world.control(serde_json::json!({"outage": false})).await;
    world.advance(10);
    world.sweep().await;
    assert_eq!(
        world.read_intent(&created, &intent.id).await.status,
        contract::IntentStatus::Expired,
        "settled once the provider is back"
    );
    assert!(world
        .scan(&code_of(&intent), "pay")
        .await
        .status()
        .is_client_error());
}

#[tokio::test]
async fn an_intent_its_provider_never_settles_goes_to_a_person_a_day_later_and_its_session_ends() {
    let world = World::start().await;
    let created = world.session().await;
    let intent = world.qr_intent(&created, "k").await;
    world.control(serde_json::json!({"outage": true})).await;
    world.advance(16 * 60);
    world.sweep().await;
    // A shopper still looking at it is told what is known, and does not
    // make the server ask a provider that is backing off.
    let read = world.read_intent(&created, &intent.id).await;
    assert_eq!(read.status, contract::IntentStatus::RequiresAction);
    world.advance(24 * 60 * 60);
    world.sweep().await;
    assert_eq!(
        world.read_intent(&created, &intent.id).await.status,
        contract::IntentStatus::RequiresReview
    );
    let merchant = world.merchant_get(&format!("/intents/{}", intent.id)).await;
    assert_eq!(merchant["review_reason"], "unsettled");
    world.sweep().await;
    let session = world
        .merchant_get(&format!("/checkout-sessions/{}", created.session.id))
        .await;
    assert_eq!(session["status"], "expired", "no longer held open by it");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_dead_endpoint_s_backlog_does_not_crowd_out_another_merchant_s_events() {
    let (dead, _hole) = black_hole().await;
    let world = World::with_config(Some(with_other_merchant(&format!(
        r#"webhook = {{ url = "{dead}/hooks", secret = "whsec_other" }}"#
    ))))
    .await;
    // More events for the dead endpoint than one pass reads: 110 sessions
    // that end unpaid.
    let sessions = futures::future::join_all((0..110).map(|_| world.session_of(OTHER_KEY))).await;
    assert_eq!(sessions.len(), 110);
    world.advance(31 * 60);
    let _background = world.background(EVERY);
    let database = world.database().await;
    for _ in 0..100 {
        let queued: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM webhook_events")
            .fetch_one(&database)
            .await
            .unwrap();
        if queued >= 110 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (created, _) = world.paid(MERCHANT_KEY).await;
    let paid_at = Instant::now();
    let delivered = loop {
        let events = world.received_events().await;
        let ours = events
            .iter()
            .any(|event| event["data"]["checkout_session"]["id"] == created.session.id.as_str());
        if ours || paid_at.elapsed() > Duration::from_secs(15) {
            break paid_at.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(
        delivered < EVERY + Duration::from_millis(800),
        "delivered {delivered:?} after the payment, behind 110 events for a dead endpoint"
    );
}

#[tokio::test]
async fn a_merchant_without_an_endpoint_reads_its_events_in_order() {
    let world = World::with_config(Some(with_other_merchant(""))).await;
    let mut sessions = Vec::new();
    for _ in 0..3 {
        sessions.push(world.paid(OTHER_KEY).await.0.session.id);
    }
    world.sweep().await;
    assert!(
        world.received_events().await.is_empty(),
        "nothing went to the demo merchant's endpoint"
    );
    let page = |query: String| {
        let world = &world;
        async move {
            world
                .as_merchant(OTHER_KEY, Method::GET, &format!("/events{query}"))
                .await
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let first = page("?limit=2".into()).await;
    assert_eq!(first["has_more"], true);
    let first = first["data"].as_array().unwrap().clone();
    assert_eq!(first.len(), 2);
    let last = first[1]["id"].as_str().unwrap();
    let rest = page(format!("?after={last}")).await;
    assert_eq!(rest["has_more"], false);
    let rest = rest["data"].as_array().unwrap().clone();
    assert_eq!(rest.len(), 1);
    let order: Vec<&str> = first
        .iter()
        .chain(&rest)
        .map(|event| event["data"]["checkout_session"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(order, sessions, "in the order they happened");
    assert!(first
        .iter()
        .chain(&rest)
        .all(|event| event["type"] == "checkout_session.completed"));
    let unknown = world
        .as_merchant(OTHER_KEY, Method::GET, "/events?after=evt_nowhere")
        .await;
    assert_eq!(unknown.status(), reqwest::StatusCode::BAD_REQUEST);
    let too_many = world
        .as_merchant(OTHER_KEY, Method::GET, "/events?limit=101")
        .await;
    assert_eq!(too_many.status(), reqwest::StatusCode::BAD_REQUEST);
}
