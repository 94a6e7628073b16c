//! One payment per session: at most one payable intent at a time, the
//! session completed by the same write that records a payment, and a
//! second payment the provider still takes given back through it.

use contract::{ErrorCode, IntentStatus};
use reqwest::StatusCode;
use serde_json::json;

use crate::world::{code_of, error_of, World};

#[tokio::test]
async fn a_new_intent_closes_the_session_s_open_one_with_its_provider() {
    let world = World::start().await;
    let created = world.session().await;
    let first = world.qr_intent(&created, "tab-1").await;
    let second = world.qr_intent(&created, "tab-2").await;
    assert_ne!(first.id, second.id);

    let first_now = world.read_intent(&created, &first.id).await;
    assert_eq!(
        first_now.status,
        IntentStatus::Canceled,
        "the older code is closed"
    );
    let scanned = world.scan(&code_of(&first), "pay").await;
    assert_eq!(
        scanned.status(),
        StatusCode::CONFLICT,
        "and WeChat Pay refuses it"
    );

    assert!(world
        .scan(&code_of(&second), "pay")
        .await
        .status()
        .is_success());
    assert_eq!(
        world.settled(&created, &second.id).await.status,
        IntentStatus::Succeeded
    );
    let third = world
        .create_intent(
            &created,
            Some("tab-3"),
            json!({"method": "wechat_pay", "client": {"device": "desktop"}}),
        )
        .await;
    assert_eq!(
        error_of(third).await,
        (StatusCode::CONFLICT, ErrorCode::SessionCompleted)
    );
}

#[tokio::test]
async fn a_code_paid_as_the_shopper_leaves_it_counts_and_no_second_one_opens() {
    let world = World::start().await;
    world.control(json!({"notify": "drop"})).await;
    let created = world.session().await;
    let first = world.qr_intent(&created, "tab-1").await;
    // Paid on the phone; the notification is lost.
    assert!(world
        .scan(&code_of(&first), "pay")
        .await
        .status()
        .is_success());
    let second = world
        .create_intent(
            &created,
            Some("tab-2"),
            json!({"method": "wechat_pay", "client": {"device": "desktop"}}),
        )
        .await;
    assert_eq!(
        error_of(second).await,
        (StatusCode::CONFLICT, ErrorCode::SessionCompleted),
        "closing the first code found it paid"
    );
    assert_eq!(
        world.read_intent(&created, &first.id).await.status,
        IntentStatus::Succeeded
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_codes_paid_at_once_one_completes_the_session_the_other_is_refunded_through_the_provider(
) {
    let world = World::start().await;
    let created = world.session().await;
    // A phone scans the first code and stops at WeChat's confirmation while
    // the shopper opens a second code in another tab (the first is closed
    // with WeChat Pay, but the phone's payment is already under way); both
    // notifications arrive in the background, in either order, and the
    // second payment is given back at once, through WeChat Pay.
    let (first, second) = world.two_codes_paid_at_once(&created, &world).await;
    let mut statuses = [first.status, second.status];
    statuses.sort_by_key(|status| status.as_str());
    assert_eq!(
        statuses,
        [IntentStatus::Refunded, IntentStatus::Succeeded],
        "one payment completes the session, the other is given back"
    );
    let (paid_by, refunded) = if first.status == IntentStatus::Succeeded {
        (&first, &second)
    } else {
        (&second, &first)
    };
    let session = world
        .merchant_get(&format!("/checkout-sessions/{}", created.session.id))
        .await;
    assert_eq!(session["status"], "completed");
    assert_eq!(session["payment"]["intent_id"], paid_by.id.as_str());

    let given_back = world
        .merchant_get(&format!("/intents/{}/refunds", refunded.id))
        .await;
    let refunds = given_back["data"].as_array().unwrap();
    assert_eq!(refunds.len(), 1, "{given_back}");
    assert_eq!(refunds[0]["status"], "succeeded");
    assert_eq!(refunds[0]["automatic"], true);
    assert_eq!(
        refunds[0]["amount"],
        json!({"value": 12800, "currency": "CNY"})
    );
    let read = world
        .merchant_get(&format!("/intents/{}", refunded.id))
        .await;
    assert_eq!(
        read["amount_refunded"],
        json!({"value": 12800, "currency": "CNY"})
    );
    // The shopper's wallet shows the money back.
    let statement = world.phone_statement().await;
    assert!(
        statement.contains("+¥128.00") && statement.contains("退款成功"),
        "{statement}"
    );

    let events = world.events_after_sweeps(3).await;
    let kinds: Vec<(&str, &str)> = events
        .iter()
        .map(|event| {
            let kind = event["type"].as_str().unwrap_or_default();
            let object = &event["data"];
            let id = object["payment_intent"]["id"]
                .as_str()
                .or(object["checkout_session"]["payment"]["intent_id"].as_str())
                .or(object["refund"]["intent_id"].as_str())
                .unwrap_or_default();
            (kind, id)
        })
        .collect();
    assert!(
        kinds.contains(&("checkout_session.completed", paid_by.id.as_str())),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&("payment_intent.requires_refund", refunded.id.as_str())),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&("refund.succeeded", refunded.id.as_str())),
        "{kinds:?}"
    );
    assert_eq!(kinds.len(), 3, "each reported once: {kinds:?}");
}

#[tokio::test]
async fn without_automatic_refunds_a_second_payment_waits_for_the_merchant() {
    let config = payment_server::config::DEFAULT_CONFIG.replace(
        r#"webhook = { url = "{sandbox}/webhooks""#,
        "auto_refund = false\nwebhook = { url = \"{sandbox}/webhooks\"",
    );
    let world = World::with_config(Some(payment_server::Config::parse(&config).unwrap())).await;
    world.control(json!({"pay_after_close": true})).await;
    let created = world.session().await;
    let first = world.qr_intent(&created, "tab-1").await;
    assert!(world
        .scan(&code_of(&first), "hold")
        .await
        .status()
        .is_success());
    let second = world.qr_intent(&created, "tab-2").await;
    assert!(world
        .scan(&code_of(&second), "pay")
        .await
        .status()
        .is_success());
    assert_eq!(
        world.settled(&created, &second.id).await.status,
        IntentStatus::Succeeded
    );
    assert!(world
        .scan(&code_of(&first), "pay")
        .await
        .status()
        .is_success());
    let mut late = world.read_intent(&created, &first.id).await;
    for _ in 0..100 {
        if late.status == IntentStatus::RequiresRefund {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        late = world.read_intent(&created, &first.id).await;
    }
    assert_eq!(late.status, IntentStatus::RequiresRefund);
    world.sweep().await;
    let refunds = world
        .merchant_get(&format!("/intents/{}/refunds", first.id))
        .await;
    assert_eq!(refunds["data"], json!([]), "the merchant decides");
}

#[tokio::test]
async fn without_the_fault_the_phone_cannot_hold_a_code_nor_pay_a_closed_one() {
    let world = World::start().await;
    let created = world.session().await;
    let first = world.qr_intent(&created, "tab-1").await;
    let held = world.scan(&code_of(&first), "hold").await;
    assert_eq!(
        held.status(),
        StatusCode::CONFLICT,
        "WeChat Pay holds no Native order"
    );
    let second = world.qr_intent(&created, "tab-2").await;
    let late = world.scan(&code_of(&first), "pay").await;
    assert_eq!(late.status(), StatusCode::CONFLICT);
    let said: serde_json::Value = late.json().await.unwrap();
    assert_eq!(
        said["code"], "ORDER_CLOSED",
        "the phone says the order is closed"
    );
    assert!(world
        .scan(&code_of(&second), "pay")
        .await
        .status()
        .is_success());
    assert_eq!(
        world.settled(&created, &second.id).await.status,
        IntentStatus::Succeeded
    );
    assert_eq!(
        world.read_intent(&created, &first.id).await.status,
        IntentStatus::Canceled
    );
}

#[tokio::test]
async fn leaving_a_code_closes_it_so_it_cannot_be_paid_later() {
    let world = World::start().await;
    let created = world.session().await;
    let intent = world.qr_intent(&created, "k").await;
    let canceled = world.cancel(&created, &intent.id).await;
    assert_eq!(canceled.status(), StatusCode::OK);
    assert_eq!(
        world.read_intent(&created, &intent.id).await.status,
        IntentStatus::Canceled
    );
    assert_eq!(
        world.scan(&code_of(&intent), "pay").await.status(),
        StatusCode::CONFLICT
    );
    let again = world.cancel(&created, &intent.id).await;
    assert_eq!(again.status(), StatusCode::OK, "canceling twice is fine");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cancel_racing_a_notification_ends_one_way_only() {
    let world = World::start().await;
    for round in 0..5 {
        let created = world.session().await;
        let intent = world.qr_intent(&created, &format!("race-{round}")).await;
        let code = code_of(&intent);
        let (canceled, scanned) =
            tokio::join!(world.cancel(&created, &intent.id), world.scan(&code, "pay"),);
        let cancel_status = canceled.status();
        let cancel_body: serde_json::Value = canceled.json().await.unwrap();
        let settled = world.settled(&created, &intent.id).await;
        if cancel_status == StatusCode::OK {
            assert_eq!(settled.status, IntentStatus::Canceled, "round {round}");
            assert_eq!(
                scanned.status(),
                StatusCode::CONFLICT,
                "round {round}: a closed code pays nothing"
            );
        } else {
            assert_eq!(
                cancel_status,
                StatusCode::CONFLICT,
                "round {round}: {cancel_body}"
            );
            assert_eq!(cancel_body["code"], "intent_paid", "round {round}");
            assert_eq!(settled.status, IntentStatus::Succeeded, "round {round}");
        }
    }
}

#[tokio::test]
async fn a_payment_confirmed_on_the_phone_holds_the_session_until_it_ends_or_is_canceled() {
    let world = World::start().await;
    // A provider that reports the shopper confirming (as Alipay does after
    // a scan); WeChat Pay's emulator does under this fault only.
    world.control(json!({"pay_after_close": true})).await;
    let created = world.session().await;
    let first = world.qr_intent(&created, "tab-1").await;
    assert!(world
        .scan(&code_of(&first), "hold")
        .await
        .status()
        .is_success());
    let confirming = world.read_intent_asking(&created, &first.id, true).await;
    assert_eq!(confirming.status, IntentStatus::Processing);

    let another = world
        .create_intent(
            &created,
            Some("tab-2"),
            json!({"method": "wechat_pay", "client": {"device": "desktop"}}),
        )
        .await;
    assert_eq!(
        error_of(another).await,
        (StatusCode::CONFLICT, ErrorCode::PaymentInProgress)
    );
    // The shopper gives up on the phone's payment: canceled, closed with
    // WeChat Pay, and a new one may start.
    assert_eq!(
        world.cancel(&created, &first.id).await.status(),
        StatusCode::OK
    );
    let second = world.qr_intent(&created, "tab-2").await;
    assert_eq!(second.status, IntentStatus::RequiresAction);
}

#[tokio::test]
async fn a_session_paid_by_a_late_payment_closes_its_other_code_at_once() {
    let world = World::start().await;
    world.control(json!({"pay_after_close": true})).await;
    let created = world.session().await;
    let first = world.qr_intent(&created, "tab-1").await;
    assert!(world
        .scan(&code_of(&first), "hold")
        .await
        .status()
        .is_success());
    let second = world.qr_intent(&created, "tab-2").await;
    // The first code's late payment pays the session; the second code, on
    // the shopper's screen, must take no money now, with no pass of the
    // background work.
    assert!(world
        .scan(&code_of(&first), "pay")
        .await
        .status()
        .is_success());
    let mut paid = world.read_intent(&created, &first.id).await;
    for _ in 0..100 {
        if paid.status == IntentStatus::Succeeded {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        paid = world.read_intent(&created, &first.id).await;
    }
    assert_eq!(
        paid.status,
        IntentStatus::Succeeded,
        "the late payment counts"
    );
    let database = world.database().await;
    for _ in 0..100 {
        let open: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM provider_jobs WHERE done_at IS NULL")
                .fetch_one(&database)
                .await
                .unwrap();
        if open == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let late = world.scan(&code_of(&second), "pay").await;
    assert_eq!(
        late.status(),
        StatusCode::CONFLICT,
        "closed with WeChat Pay"
    );
    assert_eq!(
        world.read_intent(&created, &second.id).await.status,
        IntentStatus::Canceled
    );
}
