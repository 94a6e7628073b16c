//! Refunds through the provider that took the money: partial then full,
//! never more than was paid, idempotent on their key, followed to their
//! end by notification or by asking, kept when the provider is away, and
//! reported to the merchant.

use std::time::Duration;

use contract::{ErrorCode, IntentStatus, Refund, RefundFailureReason, RefundStatus};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::outcomes::signed_refund_notification;
use crate::world::{error_of, send, World, MERCHANT_KEY};

/// Reads a refund until it has ended (or gives up and answers it as is).
async fn ended(world: &World, id: &str) -> Refund {
    let mut refund: Refund =
        serde_json::from_value(world.merchant_get(&format!("/refunds/{id}")).await)
            .expect("a refund");
    for _ in 0..100 {
        if refund.status != RefundStatus::Pending {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        refund = serde_json::from_value(world.merchant_get(&format!("/refunds/{id}")).await)
            .expect("a refund");
    }
    refund
}

fn cny(value: i64) -> Value {
    json!({"value": value, "currency": "CNY"})
}

#[tokio::test]
async fn a_partial_then_a_full_refund_go_through_wechat_pay_and_a_third_is_refused() {
    let world = World::start().await;
    let (_, paid) = world.paid(MERCHANT_KEY).await;

    let partial = world
        .refund(
            &paid.id,
            "r-1",
            json!({"amount": cny(2800), "reason": "one cup broke"}),
        )
        .await;
    assert_eq!(partial.status(), StatusCode::CREATED);
    let partial: Refund = partial.json().await.unwrap();
    assert_eq!(
        partial.status,
        RefundStatus::Pending,
        "WeChat Pay is processing it"
    );
    assert_eq!(partial.amount.value, 2800);
    assert_eq!(partial.reason.as_deref(), Some("one cup broke"));
    assert!(!partial.automatic);
    let partial = ended(&world, &partial.id).await;
    assert_eq!(
        partial.status,
        RefundStatus::Succeeded,
        "its notification came"
    );

    // No amount: everything that is left.
    let rest = world.refund(&paid.id, "r-2", json!({})).await;
    assert_eq!(rest.status(), StatusCode::CREATED);
    let rest: Refund = rest.json().await.unwrap();
    assert_eq!(rest.amount.value, 10000);
    assert_eq!(
        ended(&world, &rest.id).await.status,
        RefundStatus::Succeeded
    );

    let third = world
        .refund(&paid.id, "r-3", json!({"amount": cny(1)}))
        .await;
    assert_eq!(
        error_of(third).await,
        (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::RefundTooLarge)
    );

    let intent = world.merchant_get(&format!("/intents/{}", paid.id)).await;
    assert_eq!(
        intent["status"], "succeeded",
        "a refund does not undo the sale"
    );
    assert_eq!(intent["amount_refunded"], cny(12800));
    let list = world
        .merchant_get(&format!("/intents/{}/refunds", paid.id))
        .await;
    let ids: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|refund| refund["id"].as_str())
        .collect();
    assert_eq!(ids, [partial.id.as_str(), rest.id.as_str()]);

    // The merchant is told of each, and the shopper's wallet shows both.
    let events = world.events_after_sweeps(3).await;
    let refunded: Vec<&Value> = events
        .iter()
        .filter(|event| event["type"] == "refund.succeeded")
        .collect();
    assert_eq!(refunded.len(), 2, "{events:?}");
    let statement = world.phone_statement().await;
    assert!(
        statement.contains("+¥28.00") && statement.contains("+¥100.00"),
        "{statement}"
    );
}

#[tokio::test]
async fn a_refund_request_is_idempotent_on_its_key() {
    let world = World::start().await;
    let (_, paid) = world.paid(MERCHANT_KEY).await;
    let body = json!({"amount": cny(500)});
    let first: Refund = world
        .refund(&paid.id, "same", body.clone())
        .await
        .json()
        .await
        .unwrap();
    let again = world.refund(&paid.id, "same", body).await;
    assert_eq!(again.status(), StatusCode::OK);
    let again: Refund = again.json().await.unwrap();
    assert_eq!(again.id, first.id, "one refund, not two");
    let other = world
        .refund(&paid.id, "same", json!({"amount": cny(600)}))
        .await;
    assert_eq!(
        error_of(other).await,
        (StatusCode::CONFLICT, ErrorCode::IdempotencyKeyReused)
    );
    let missing = send(
        world
            .http
            .post(world.url(&format!("/intents/{}/refunds", paid.id)))
            .bearer_auth(MERCHANT_KEY)
            .json(&json!({})),
    )
    .await;
    assert_eq!(
        error_of(missing).await,
        (StatusCode::BAD_REQUEST, ErrorCode::IdempotencyKeyMissing)
    );
    let list = world
        .merchant_get(&format!("/intents/{}/refunds", paid.id))
        .await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn only_a_payment_is_refunded_in_its_own_currency() {
    let world = World::start().await;
    let created = world.session().await;
    let open = world.qr_intent(&created, "k").await;
    assert_eq!(
        error_of(world.refund(&open.id, "r", json!({})).await).await,
        (StatusCode::CONFLICT, ErrorCode::IntentNotPaid)
    );
    let (_, paid) = world.paid(MERCHANT_KEY).await;
    for body in [
        json!({"amount": {"value": 100, "currency": "HKD"}}),
        json!({"amount": cny(0)}),
        json!({"reason": "x".repeat(81)}),
        json!({"amount": "all"}),
    ] {
        assert_eq!(
            error_of(world.refund(&paid.id, "r", body.clone()).await).await,
            (StatusCode::BAD_REQUEST, ErrorCode::InvalidRequest),
            "{body}"
        );
    }
    let too_much = world
        .refund(&paid.id, "r2", json!({"amount": cny(12801)}))
        .await;
    let status = too_much.status();
    let said: Value = too_much.json().await.unwrap();
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(said["code"], "refund_too_large");
    assert!(
        said["message"].as_str().unwrap().contains("128.00"),
        "says what is left: {said}"
    );
}

#[tokio::test]
async fn a_refund_whose_notification_is_lost_is_found_by_asking() {
    let world = World::start().await;
    let (_, paid) = world.paid(MERCHANT_KEY).await;
    world
        .control(json!({"notify": "drop", "refund_delay_ms": 10}))
        .await;
    let refund: Refund = world
        .refund(&paid.id, "r", json!({}))
        .await
        .json()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stored: Refund =
        serde_json::from_value(world.merchant_get(&format!("/refunds/{}", refund.id)).await)
            .unwrap();
    assert_eq!(
        stored.status,
        RefundStatus::Pending,
        "no word from WeChat Pay"
    );
    // The server asks again after its backoff (5 s, give or take a fifth).
    world.advance(10);
    world.sweep().await;
    assert_eq!(
        ended(&world, &refund.id).await.status,
        RefundStatus::Succeeded
    );
}

#[tokio::test]
async fn a_refund_asked_while_the_provider_is_away_is_sent_when_it_is_back() {
    let world = World::start().await;
    let (_, paid) = world.paid(MERCHANT_KEY).await;
    world.control(json!({"outage": true})).await;
    let refund = world
        .refund(&paid.id, "r", json!({"amount": cny(800)}))
        .await;
    assert_eq!(refund.status(), StatusCode::CREATED, "kept, and said so");
    let refund: Refund = refund.json().await.unwrap();
    assert_eq!(refund.status, RefundStatus::Pending);
    // It holds its amount meanwhile: no second refund of the same money.
    assert_eq!(
        error_of(
            world
                .refund(&paid.id, "r2", json!({"amount": cny(12001)}))
                .await
        )
        .await,
        (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::RefundTooLarge)
    );
    world.sweep().await;
    world
        .control(json!({"outage": false, "refund_delay_ms": 10}))
        .await;
    world.advance(20);
    world.sweep().await;
    assert_eq!(
        ended(&world, &refund.id).await.status,
        RefundStatus::Succeeded
    );
    let statement = world.phone_statement().await;
    assert!(statement.contains("+¥8.00"), "once: {statement}");
    assert_eq!(statement.matches("+¥8.00").count(), 1);
}

#[tokio::test]
async fn an_abnormal_refund_fails_keeps_its_amount_and_is_reported() {
    let world = World::start().await;
    let (_, paid) = world.paid(MERCHANT_KEY).await;
    world
        .control(json!({"refund": "abnormal", "refund_delay_ms": 10}))
        .await;
    let refund: Refund = world
        .refund(&paid.id, "r", json!({"amount": cny(12000)}))
        .await
        .json()
        .await
        .unwrap();
    let refund = ended(&world, &refund.id).await;
    assert_eq!(refund.status, RefundStatus::Failed);
    assert_eq!(refund.failure_reason, Some(RefundFailureReason::Abnormal));
    // WeChat Pay holds the money of an abnormal refund until the merchant
    // settles it there: it cannot be refunded a second time here.
    assert_eq!(
        error_of(
            world
                .refund(&paid.id, "r2", json!({"amount": cny(1000)}))
                .await
        )
        .await,
        (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::RefundTooLarge)
    );
    let events = world.events_after_sweeps(2).await;
    let failed: Vec<&Value> = events
        .iter()
        .filter(|event| event["type"] == "refund.failed")
        .collect();
    assert_eq!(failed.len(), 1, "{events:?}");
    assert_eq!(failed[0]["data"]["refund"]["failure_reason"], "abnormal");

    // A closed refund frees its amount.
    world.control(json!({"refund": "closed"})).await;
    let closed: Refund = world
        .refund(&paid.id, "r3", json!({"amount": cny(800)}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ended(&world, &closed.id).await.status, RefundStatus::Failed);
    world.control(json!({"refund": "success"})).await;
    let again: Refund = world
        .refund(&paid.id, "r4", json!({"amount": cny(800)}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        ended(&world, &again.id).await.status,
        RefundStatus::Succeeded
    );
    let intent = world.merchant_get(&format!("/intents/{}", paid.id)).await;
    assert_eq!(intent["amount_refunded"], cny(800));
    assert_eq!(intent["status"], IntentStatus::Succeeded.as_str());
}

#[tokio::test]
async fn a_refund_refused_for_want_of_balance_is_asked_again_once_the_balance_covers_it() {
    let world = World::start().await;
    let (_, paid) = world.paid(MERCHANT_KEY).await;
    world
        .control(json!({"balance_short": true, "refund_delay_ms": 10}))
        .await;
    let refund = world.refund(&paid.id, "r", json!({})).await;
    assert_eq!(refund.status(), StatusCode::CREATED);
    let refund: Refund = refund.json().await.unwrap();
    assert_eq!(
        refund.status,
        RefundStatus::Pending,
        "not a failure: WeChat Pay says top up"
    );
    world.advance(10);
    world.sweep().await;
    assert_eq!(
        ended(&world, &refund.id).await.status,
        RefundStatus::Pending
    );
    world.control(json!({"balance_short": false})).await;
    world.advance(30);
    world.sweep().await;
    assert_eq!(
        ended(&world, &refund.id).await.status,
        RefundStatus::Succeeded
    );
}

#[tokio::test]
async fn a_refund_made_in_wechat_pay_s_own_platform_is_kept_not_refused_for_a_day() {
    let world = World::start().await;
    let (_, paid) = world.paid(MERCHANT_KEY).await;
    let (headers, body) = signed_refund_notification(&paid.id, "made-in-the-platform-1");
    let answer = send(
        world
            .http
            .post(world.url("/notify/wechat-pay/demo"))
            .headers(headers)
            .body(body),
    )
    .await;
    assert_eq!(
        answer.status(),
        StatusCode::NO_CONTENT,
        "WeChat Pay stops sending it"
    );
    let kept: String = sqlx::query_scalar(
        "SELECT outcome FROM provider_notifications WHERE id = 'EV-REFUND.SUCCESS'",
    )
    .fetch_one(&world.database().await)
    .await
    .unwrap();
    assert_eq!(kept, "unknown_refund");
    let refunds = world
        .merchant_get(&format!("/intents/{}/refunds", paid.id))
        .await;
    assert_eq!(refunds["data"], json!([]), "nothing invented");
}

#[tokio::test]
async fn a_payment_recorded_before_the_upgrade_can_still_be_given_back() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let world = World::upgrading(&format!(
        "INSERT INTO checkout_sessions (id, merchant_id, amount_value, currency, reference,
            return_url, client_secret_hash, status, expires_at, created_at, completed_at,
            paid_intent_id)
         VALUES ('cs_old', 'demo', 12800, 'CNY', 'order-1', 'https://shop.example/', 'x',
            'completed', {expires}, {now}, {now}, 'pi_old');
         INSERT INTO payment_intents (id, session_id, idempotency_key, request_fingerprint,
            method, flow, amount_value, currency, status, expires_at, transaction_id,
            created_at, updated_at)
         VALUES ('pi_old', 'cs_old', 'k', 'f', 'wechat_pay', 'qr_code', 12800, 'CNY',
            'succeeded', {expires}, '4200000000202611230000000009', {now}, {now});",
        expires = now + 900
    ))
    .await;
    let intent = world.merchant_get("/intents/pi_old").await;
    assert_eq!(intent["status"], "succeeded");
    assert_eq!(
        intent["amount_refunded"],
        cny(0),
        "a payment that can be refunded"
    );
    let refund = world
        .refund("pi_old", "r", json!({"amount": cny(100)}))
        .await;
    assert_eq!(refund.status(), StatusCode::CREATED);
}
