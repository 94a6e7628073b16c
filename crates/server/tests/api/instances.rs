//! Several servers on one database, as a merchant that outgrew one machine
//! runs them behind a load balancer: requests for one session land on
//! either, providers notify the one that made the order, and both run the
//! background work. On PostgreSQL (`cargo xtask test`'s second run) this
//! is what the backend is for; on SQLite, two servers on one file must
//! still answer without a 5xx.

use std::time::Duration;

use contract::{CreatedCheckoutSession, IntentStatus, PaymentIntent};
use futures::future::join_all;
use serde_json::{json, Value};

use crate::merchant::wait_for;
use crate::world::{
    code_of, desktop, fresh_database, order, spawn_binary, Process, World, MERCHANT_KEY,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_creates_with_one_key_split_across_two_servers_make_one_payable_intent() {
    let first = World::start().await;
    let second = first.another_server().await;
    let created = first.session().await;
    let body = json!({"method": "wechat_pay", "client": desktop()});
    let answers = join_all((0..100).map(|i| {
        let server = if i % 2 == 0 { &first } else { &second };
        server.create_intent(&created, Some("one-click"), body.clone())
    }))
    .await;
    let mut ids = Vec::new();
    for answer in answers {
        let status = answer.status();
        let text = answer.text().await.unwrap_or_default();
        assert!(status.is_success(), "{status}: {text}");
        let intent: PaymentIntent = serde_json::from_str(&text).expect("an intent");
        ids.push(intent.id);
    }
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 1, "one intent for one key: {ids:?}");
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM payment_intents")
        .fetch_one(&first.database().await)
        .await
        .unwrap();
    assert_eq!(count, 1);
    // The intent every answer named is the one the shopper can pay: no
    // request closed it as another's.
    for server in [&first, &second] {
        let intent = server.read_intent(&created, &ids[0]).await;
        assert_eq!(intent.status, IntentStatus::RequiresAction);
        assert!(!code_of(&intent).is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_codes_paid_at_once_notified_to_two_servers_complete_once_and_refund_the_other() {
    let first = World::start().await;
    let second = first.another_server().await;
    let created = first.session().await;
    // The second tab's request lands on the other server, which made its
    // order, so WeChat Pay notifies each payment to a different server.
    let (one, other) = first.two_codes_paid_at_once(&created, &second).await;
    let mut statuses = [one.status, other.status];
    statuses.sort_by_key(|status| status.as_str());
    assert_eq!(
        statuses,
        [IntentStatus::Refunded, IntentStatus::Succeeded],
        "one payment completes the session, the other is given back"
    );
    let refunds: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM refunds")
        .fetch_one(&first.database().await)
        .await
        .unwrap();
    assert_eq!(refunds, 1, "one refund, not one per server");
    let session = second
        .merchant_get(&format!("/checkout-sessions/{}", created.session.id))
        .await;
    assert_eq!(session["status"], "completed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn refunds_asked_of_two_servers_at_once_never_give_back_more_than_was_paid() {
    let first = World::start().await;
    let second = first.another_server().await;
    for round in 0..5 {
        let (_, paid) = first.paid(crate::world::MERCHANT_KEY).await;
        // The merchant's back office asks for the whole amount back twice
        // (two people, two keys), each request on another server.
        let whole = json!({});
        let (key_a, key_b) = (format!("desk-a-{round}"), format!("desk-b-{round}"));
        let (one, other) = tokio::join!(
            first.refund(&paid.id, &key_a, whole.clone()),
            second.refund(&paid.id, &key_b, whole.clone()),
        );
        let mut statuses = [one.status().as_u16(), other.status().as_u16()];
        statuses.sort_unstable();
        assert_eq!(
            statuses,
            [201, 422],
            "one refund fits, the other is refused"
        );
        let held: i64 = sqlx::query_scalar(
            "SELECT CAST(COALESCE(SUM(amount_value), 0) AS BIGINT) FROM refunds WHERE intent_id = $1",
        )
        .bind(&paid.id)
        .fetch_one(&first.database().await)
        .await
        .unwrap();
        assert_eq!(held, 12800);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_servers_running_the_outbox_together_deliver_every_event_once() {
    let first = World::start().await;
    let second = first.another_server().await;
    first.receiver_down(true).await;
    for i in 0..8 {
        pay_one(if i % 2 == 0 { &first } else { &second }).await;
    }
    // Every event waits, already tried once, when the endpoint is back.
    tokio::join!(first.sweep(), second.sweep());
    first.receiver_down(false).await;
    let database = first.database().await;
    let owed: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM webhook_events WHERE next_attempt_at IS NOT NULL")
            .fetch_one(&database)
            .await
            .unwrap();
    assert!(owed >= 8, "{owed} events to deliver");
    // Both servers' outboxes run at once, pass after pass, as the hour
    // goes by.
    for _ in 0..30 {
        first.advance(120);
        tokio::join!(first.sweep(), second.sweep(), first.sweep(), second.sweep());
        let waiting: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM webhook_events WHERE delivered_at IS NULL")
                .fetch_one(&database)
                .await
                .unwrap();
        if waiting == 0 {
            break;
        }
    }
    let received = first.received_events().await;
    let mut ids: Vec<&str> = received.iter().filter_map(|e| e["id"].as_str()).collect();
    ids.sort_unstable();
    let all = ids.len();
    ids.dedup();
    assert_eq!(all, ids.len(), "an event delivered twice");
    assert_eq!(all as i64, owed, "every event delivered");
}

/// `payment-server serve` on `database`; the process and its API's base.
async fn server_process(sandbox: &str, database: &payment_server::Database) -> (Process, String) {
    let (child, base) = spawn_binary(sandbox, database).await;
    (Process(child), base)
}

/// A ¥128.00 session opened through the server at `base`; `None` if it
/// did not answer (a killed server).
async fn new_session(http: &reqwest::Client, base: &str) -> Option<CreatedCheckoutSession> {
    http.post(format!("{base}/checkout-sessions"))
        .bearer_auth(MERCHANT_KEY)
        .json(&order(12800))
        .send()
        .await
        .ok()
        .filter(|answer| answer.status().is_success())?
        .json()
        .await
        .ok()
}

/// A desktop's request for a WeChat Pay code of `created`, with `key`, to
/// the server at `base`.
fn qr_intent_request(
    http: &reqwest::Client,
    base: &str,
    created: &CreatedCheckoutSession,
    key: &str,
) -> reqwest::RequestBuilder {
    http.post(format!(
        "{base}/checkout-sessions/{}/intents",
        created.session.id
    ))
    .bearer_auth(&created.client_secret)
    .header("Idempotency-Key", key)
    .json(&json!({"method": "wechat_pay", "client": desktop()}))
}

/// A session and a QR intent made through the server at `base`; `None` if
/// it did not answer both.
async fn order_and_intent(
    http: &reqwest::Client,
    base: &str,
    key: &str,
) -> Option<(CreatedCheckoutSession, PaymentIntent)> {
    let created = new_session(http, base).await?;
    let intent = qr_intent_request(http, base, &created, key)
        .send()
        .await
        .ok()
        .filter(|answer| answer.status().is_success())?
        .json()
        .await
        .ok()?;
    Some((created, intent))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_server_killed_under_load_loses_no_acknowledged_intent_and_the_other_finishes_its_deliveries(
) {
    let world = World::start().await;
    let folder = tempfile::tempdir().unwrap();
    let database = fresh_database(&folder).await;
    let http = reqwest::Client::new();
    // The first server takes a payment and starts delivering its event
    // (the session completed) to an endpoint that hangs: it holds it
    // claimed when it dies.
    world.receiver_hanging(true).await;
    let (mut doomed, doomed_base) = server_process(&world.sandbox, &database).await;
    let (created, intent) = order_and_intent(&http, &doomed_base, "k")
        .await
        .expect("the first server answers");
    assert!(world
        .scan(&code_of(&intent), "pay")
        .await
        .status()
        .is_success());
    let inspect = crate::world::inspect(&database).await;
    let owed = wait_for(|| async {
        let owed: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM webhook_events WHERE next_attempt_at IS NOT NULL",
        )
        .fetch_one(&inspect)
        .await
        .ok()?;
        (owed > 0 && world.receiver_holds().await == owed as u64).then_some(owed)
    })
    .await
    .expect("the first server delivers the payment's events, and they hang");

    // The second server joins; requests go to both, and the first is
    // killed (SIGKILL) while they do.
    let (_survivor, survivor_base) = server_process(&world.sandbox, &database).await;
    let acknowledged = std::sync::Mutex::new(Vec::new());
    let kill_after = 8;
    let workers = (0..4).map(|worker| {
        let (http, acknowledged) = (&http, &acknowledged);
        let bases = [&doomed_base, &survivor_base];
        async move {
            for round in 0..10 {
                let base = bases[(worker + round) % 2];
                if let Some(made) =
                    order_and_intent(http, base, &format!("w{worker}-{round}")).await
                {
                    acknowledged.lock().unwrap().push(made);
                }
            }
        }
    });
    let killer = async {
        wait_for(|| async { (acknowledged.lock().unwrap().len() >= kill_after).then_some(()) })
            .await
            .expect("the load runs");
        doomed.0.kill().expect("SIGKILL");
        doomed.0.wait().expect("it died");
    };
    tokio::join!(join_all(workers), killer);

    let acknowledged = acknowledged.into_inner().unwrap();
    assert!(acknowledged.len() > kill_after, "{}", acknowledged.len());
    for (created, intent) in &acknowledged {
        let read: PaymentIntent = http
            .get(format!("{survivor_base}/intents/{}", intent.id))
            .bearer_auth(&created.client_secret)
            .send()
            .await
            .expect("the second server answers")
            .json()
            .await
            .expect("an acknowledged intent is kept");
        assert_eq!(read.status, IntentStatus::RequiresAction, "{}", intent.id);
    }

    // The endpoint is back; what the dead server had claimed is delivered
    // by the other once its lease runs out, each event once.
    world.receiver_hanging(false).await;
    let mut delivered = Vec::new();
    for _ in 0..120 {
        delivered = world.received_events().await;
        if delivered.len() as i64 >= owed {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let mut ids: Vec<&str> = delivered.iter().filter_map(|e| e["id"].as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len() as i64, owed, "{delivered:?}");
    assert_eq!(delivered.len() as i64, owed, "none twice: {delivered:?}");
    let session: Value = http
        .get(format!(
            "{survivor_base}/checkout-sessions/{}",
            created.session.id
        ))
        .bearer_auth(MERCHANT_KEY)
        .send()
        .await
        .expect("the second server answers")
        .json()
        .await
        .expect("a session");
    assert_eq!(session["status"], "completed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_server_processes_on_one_database_answer_a_hundred_creates_with_one_key_with_one_intent(
) {
    let world = World::start().await;
    let folder = tempfile::tempdir().unwrap();
    let database = fresh_database(&folder).await;
    let (_one, one_base) = server_process(&world.sandbox, &database).await;
    let (_two, two_base) = server_process(&world.sandbox, &database).await;
    let http = reqwest::Client::new();
    let created = new_session(&http, &one_base)
        .await
        .expect("the server answers");
    // One click, repeated a hundred times across both servers.
    let answers = join_all((0..100).map(|i| {
        let base = if i % 2 == 0 { &one_base } else { &two_base };
        qr_intent_request(&http, base, &created, "one-click").send()
    }))
    .await;
    let mut ids = Vec::new();
    for answer in answers {
        let answer = answer.expect("an answer");
        let status = answer.status();
        let text = answer.text().await.unwrap_or_default();
        assert!(status.is_success(), "{status}: {text}");
        ids.push(
            serde_json::from_str::<PaymentIntent>(&text)
                .expect("an intent")
                .id,
        );
    }
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 1, "{ids:?}");
    let read: PaymentIntent = http
        .get(format!("{two_base}/intents/{}", ids[0]))
        .bearer_auth(&created.client_secret)
        .send()
        .await
        .expect("an answer")
        .json()
        .await
        .expect("an intent");
    assert_eq!(read.status, IntentStatus::RequiresAction);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn servers_started_together_on_a_new_database_all_migrate_it_and_answer() {
    let world = World::start().await;
    let folder = tempfile::tempdir().unwrap();
    let database = fresh_database(&folder).await;
    let servers = join_all((0..3).map(|_| server_process(&world.sandbox, &database))).await;
    let http = reqwest::Client::new();
    for (_process, base) in &servers {
        let created = new_session(&http, base).await;
        assert!(
            created.is_some(),
            "{base} answers after starting with the others"
        );
    }
}

/// Pays a new session through `server`, from the desktop code.
async fn pay_one(server: &World) {
    let created = server.session().await;
    let intent = server.qr_intent(&created, "k").await;
    assert!(server
        .scan(&code_of(&intent), "pay")
        .await
        .status()
        .is_success());
    server.settled(&created, &intent.id).await;
}

/// Every event of the demo merchant, from the first, through `server`.
async fn all_events(server: &World, after: Option<&str>) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    let mut cursor = after.map(str::to_owned);
    loop {
        let query = match &cursor {
            Some(id) => format!("/events?limit=100&after={id}"),
            None => "/events?limit=100".to_owned(),
        };
        let page = server.merchant_get(&query).await;
        let data = page["data"].as_array().cloned().unwrap_or_default();
        ids.extend(
            data.iter()
                .filter_map(|e| e["id"].as_str().map(str::to_owned)),
        );
        cursor = ids.last().cloned().or(cursor);
        if page["has_more"] != true {
            return ids;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_servers_running_their_background_work_deliver_every_event_once_as_it_happens() {
    let first = World::start().await;
    let second = first.another_server().await;
    let _running = [
        first.background(Duration::from_millis(50)),
        second.background(Duration::from_millis(50)),
    ];
    join_all((0..10).map(|i| pay_one(if i % 2 == 0 { &first } else { &second }))).await;
    let written: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM webhook_events")
        .fetch_one(&first.database().await)
        .await
        .unwrap();
    assert!(written >= 10, "{written}");
    let mut received = Vec::new();
    for _ in 0..100 {
        received = first.received_events().await;
        if received.len() as i64 >= written {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A moment more, for a second delivery that should not come.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let received = first.received_events().await.len().max(received.len());
    assert_eq!(received as i64, written, "each event delivered once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_merchant_reading_its_events_while_two_servers_write_them_misses_none() {
    let first = World::start().await;
    let second = first.another_server().await;
    let payments = join_all((0..16).map(|i| pay_one(if i % 2 == 0 { &first } else { &second })));
    // The merchant's back office follows the feed as it grows, each read
    // on either server.
    let reader = async {
        let mut seen: Vec<String> = Vec::new();
        for round in 0..40 {
            let server = if round % 2 == 0 { &first } else { &second };
            let after = seen.last().cloned();
            seen.extend(all_events(server, after.as_deref()).await);
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        seen
    };
    let (_, mut seen) = tokio::join!(payments, reader);
    let after = seen.last().cloned();
    seen.extend(all_events(&first, after.as_deref()).await);
    let every = all_events(&second, None).await;
    assert!(every.len() >= 16, "{}", every.len());
    assert_eq!(
        seen, every,
        "followed page by page, the feed is the whole feed"
    );
}
