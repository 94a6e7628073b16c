//! Every outcome reaches the shopper truthfully, and nothing waits
//! forever: declines with their reason, an unreachable provider that
//! changes nothing, lost and late notifications found by asking.

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{RsaKeyPair, RSA_PKCS1_SHA256};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use contract::{ErrorCode, FailureReason, IntentStatus, PaymentIntent};
use reqwest::StatusCode;
use serde_json::json;

use crate::world::{code_of, desktop, error_of, send, World};

#[tokio::test]
async fn a_decline_reaches_the_shopper_with_its_reason_and_the_merchant_as_an_event() {
    let world = World::start().await;
    let created = world.session().await;
    let intent = world.qr_intent(&created, "k").await;
    assert!(world
        .scan(&code_of(&intent), "decline")
        .await
        .status()
        .is_success());
    // WeChat Pay notifies no declines: "check again" asks it.
    let intent = world.read_intent_asking(&created, &intent.id, true).await;
    assert_eq!(intent.status, IntentStatus::Failed);
    assert_eq!(intent.failure_reason, Some(FailureReason::Declined));
    let events = world.events_after_sweeps(1).await;
    assert_eq!(events[0]["type"], "payment_intent.failed");
    assert_eq!(
        events[0]["data"]["payment_intent"]["failure_reason"],
        "declined"
    );
}

#[tokio::test]
async fn an_unreachable_or_rate_limited_provider_answers_503_changes_nothing_and_the_same_key_tries_again(
) {
    // An outage is a 500 SYSTEM_ERROR; a rate limit a 429 FREQUENCY_LIMITED.
    // Each answer says when to send it again: soon, or after a rate
    // limit's pause.
    for (trouble, retry_after) in [("outage", "2"), ("busy", "5")] {
        let world = World::start().await;
        let created = world.session().await;
        world.control(json!({ trouble: true })).await;
        let body = json!({"method": "wechat_pay", "client": desktop()});
        let refused = world.create_intent(&created, Some("k"), body.clone()).await;
        assert_eq!(refused.headers()["retry-after"], retry_after, "{trouble}");
        assert_eq!(
            error_of(refused).await,
            (
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::ProviderUnavailable
            ),
            "{trouble}"
        );
        let failed: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM payment_intents WHERE status = 'failed'")
                .fetch_one(&world.database().await)
                .await
                .unwrap();
        assert_eq!(failed, 0, "nothing is failed for the provider's {trouble}");

        world.control(json!({ trouble: false })).await;
        let retried = world.create_intent(&created, Some("k"), body).await;
        assert!(retried.status().is_success(), "{}", retried.status());
        let intent: PaymentIntent = retried.json().await.unwrap();
        assert_eq!(intent.status, IntentStatus::RequiresAction);
        assert!(code_of(&intent).starts_with("weixin://wxpay/bizpayurl?pr="));
    }
}

#[tokio::test]
async fn paid_and_ended_intents_refuse_a_cancel_each_with_its_own_code() {
    let world = World::start().await;
    let created = world.session().await;
    let paid = world.qr_intent(&created, "k").await;
    assert!(world
        .scan(&code_of(&paid), "pay")
        .await
        .status()
        .is_success());
    world.settled(&created, &paid.id).await;
    assert_eq!(
        error_of(world.cancel(&created, &paid.id).await).await,
        (StatusCode::CONFLICT, ErrorCode::IntentPaid)
    );

    let other = world.session().await;
    let ended = world.qr_intent(&other, "k").await;
    world.advance(16 * 60);
    assert_eq!(
        world.read_intent(&other, &ended.id).await.status,
        IntentStatus::Expired
    );
    assert_eq!(
        error_of(world.cancel(&other, &ended.id).await).await,
        (StatusCode::CONFLICT, ErrorCode::IntentFinished)
    );
}

#[tokio::test]
async fn a_lost_notification_is_found_by_asking_the_provider() {
    let world = World::start().await;
    world.control(json!({"notify": "drop"})).await;
    let created = world.session().await;
    let intent = world.qr_intent(&created, "k").await;
    assert!(world
        .scan(&code_of(&intent), "pay")
        .await
        .status()
        .is_success());
    assert_eq!(
        world.read_intent(&created, &intent.id).await.status,
        IntentStatus::RequiresAction,
        "a poll alone does not trouble the provider at once"
    );
    let asked = world.read_intent_asking(&created, &intent.id, true).await;
    assert_eq!(
        asked.status,
        IntentStatus::Succeeded,
        "check again asks WeChat Pay"
    );
    let seen = world.merchant_get(&format!("/intents/{}", intent.id)).await;
    assert!(
        seen["transaction_id"]
            .as_str()
            .is_some_and(|id| id.starts_with("42000")),
        "the provider's transaction id is kept: {seen}"
    );
    assert!(
        asked.transaction_id.is_none(),
        "and not shown to the browser"
    );
}

#[tokio::test]
async fn the_sweeper_asks_about_quiet_intents_and_expires_due_ones_with_their_provider() {
    let world = World::start().await;
    world.control(json!({"notify": "drop"})).await;
    let paid_session = world.session().await;
    let paid = world.qr_intent(&paid_session, "k").await;
    assert!(world
        .scan(&code_of(&paid), "pay")
        .await
        .status()
        .is_success());
    let idle_session = world.session().await;
    let idle = world.qr_intent(&idle_session, "k").await;

    world.advance(61);
    world.sweep().await;
    assert_eq!(
        world.read_intent(&paid_session, &paid.id).await.status,
        IntentStatus::Succeeded
    );

    world.advance(15 * 60);
    world.sweep().await;
    let expired = world.read_intent(&idle_session, &idle.id).await;
    assert_eq!(expired.status, IntentStatus::Expired);
    assert_eq!(
        world.scan(&code_of(&idle), "pay").await.status(),
        StatusCode::CONFLICT,
        "its order is closed at WeChat Pay too"
    );
}

#[tokio::test]
async fn an_intent_paid_in_its_last_seconds_is_not_expired() {
    let world = World::start().await;
    world.control(json!({"notify": "drop"})).await;
    let created = world.session().await;
    let intent = world.qr_intent(&created, "k").await;
    world.advance(15 * 60 - 2);
    assert!(world
        .scan(&code_of(&intent), "pay")
        .await
        .status()
        .is_success());
    world.advance(10);
    let read = world.read_intent(&created, &intent.id).await;
    assert_eq!(
        read.status,
        IntentStatus::Succeeded,
        "asked before expiring"
    );
}

#[tokio::test]
async fn duplicate_and_late_notifications_are_applied_once() {
    let world = World::start().await;
    world.control(json!({"notify": "duplicate"})).await;
    let created = world.session().await;
    let intent = world.qr_intent(&created, "k").await;
    assert!(world
        .scan(&code_of(&intent), "pay")
        .await
        .status()
        .is_success());
    assert_eq!(
        world.settled(&created, &intent.id).await.status,
        IntentStatus::Succeeded
    );
    world
        .control(json!({"notify": "late", "notify_delay_ms": 300}))
        .await;
    let other = world.session().await;
    let late = world.qr_intent(&other, "k").await;
    assert!(world
        .scan(&code_of(&late), "pay")
        .await
        .status()
        .is_success());
    // Asked before its notification comes: the payment is recorded first,
    // and the notification lands on an intent already paid.
    assert_eq!(
        world
            .read_intent_asking(&other, &late.id, true)
            .await
            .status,
        IntentStatus::Succeeded
    );
    let database = world.database().await;
    let mut heard = 0;
    for _ in 0..100 {
        heard = sqlx::query_scalar(
            "SELECT COUNT(*) FROM provider_notifications WHERE out_trade_no = $1",
        )
        .bind(&late.id)
        .fetch_one(&database)
        .await
        .unwrap();
        if heard > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(heard, 1, "the late notification arrived");

    let events = world.events_after_sweeps(2).await;
    world.sweep().await;
    let completed = world
        .received_events()
        .await
        .iter()
        .filter(|event| event["type"] == "checkout_session.completed")
        .count();
    assert_eq!(
        completed, 2,
        "one event per session, duplicates or not: {events:?}"
    );
}

#[tokio::test]
async fn a_notification_with_another_amount_sends_the_intent_to_review_and_the_sweeper_leaves_it() {
    let world = World::start().await;
    let created = world.session().await;
    let intent = world.qr_intent(&created, "k").await;
    // WeChat Pay's signed word that 1 fen was paid for a ¥128.00 order.
    let notification = signed_notification(&intent.id, 1);
    let answer = send(
        world
            .http
            .post(world.url("/notify/wechat-pay/demo"))
            .headers(notification.0)
            .body(notification.1),
    )
    .await;
    assert!(
        answer.status().is_success(),
        "accepted, so WeChat stops sending it"
    );
    assert_eq!(
        world.read_intent(&created, &intent.id).await.status,
        IntentStatus::RequiresReview,
        "neither paid nor payable: a person looks"
    );
    let merchant = world.merchant_get(&format!("/intents/{}", intent.id)).await;
    assert_eq!(merchant["review_reason"], "amount_mismatch");
    assert_eq!(merchant["transaction_id"], "4200000000202611230000000001");
    let kept: String = sqlx::query_scalar("SELECT outcome FROM provider_notifications")
        .fetch_one(&world.database().await)
        .await
        .unwrap();
    assert_eq!(kept, "amount_mismatch");
    let events = world.events_after_sweeps(1).await;
    assert_eq!(events[0]["type"], "payment_intent.requires_review");
    assert_eq!(
        events[0]["data"]["payment_intent"]["id"],
        intent.id.as_str()
    );

    // Past its time, the sweeper does not pick it (it would ask and close
    // it on every pass): it stays as it is, and the session can expire.
    world.advance(31 * 60);
    for _ in 0..3 {
        world.sweep().await;
    }
    assert_eq!(
        world.read_intent(&created, &intent.id).await.status,
        IntentStatus::RequiresReview
    );
    let queried: Option<i64> =
        sqlx::query_scalar("SELECT last_queried_at FROM payment_intents WHERE id = $1")
            .bind(&intent.id)
            .fetch_one(&world.database().await)
            .await
            .unwrap();
    assert_eq!(queried, None, "never asked about again");
    let session = world
        .merchant_get(&format!("/checkout-sessions/{}", created.session.id))
        .await;
    assert_eq!(session["status"], "expired");
}

#[tokio::test]
async fn a_notification_that_does_not_verify_or_is_not_ours_is_refused_in_wechat_s_terms() {
    let world = World::start().await;
    let created = world.session().await;
    let intent = world.qr_intent(&created, "k").await;
    let forged = |headers: &mut reqwest::header::HeaderMap| {
        headers.insert("Wechatpay-Signature", "Zm9yZ2Vk".parse().unwrap());
    };
    // A timestamp no clock is near: refused, not a crash.
    let far = |headers: &mut reqwest::header::HeaderMap| {
        headers.insert("Wechatpay-Timestamp", i64::MIN.to_string().parse().unwrap());
    };
    let mut others = paid_transaction(&intent.id, 12800);
    others["mchid"] = json!("1900009999");
    let another_merchant = signed_notification_of(&others);
    for (name, (headers, body)) in [
        (
            "forged",
            tampered(signed_notification(&intent.id, 12800), forged),
        ),
        ("far", tampered(signed_notification(&intent.id, 12800), far)),
        ("another merchant's", another_merchant),
    ] {
        let answer = send(
            world
                .http
                .post(world.url("/notify/wechat-pay/demo"))
                .headers(headers)
                .body(body),
        )
        .await;
        assert_eq!(answer.status(), StatusCode::INTERNAL_SERVER_ERROR, "{name}");
        let said: serde_json::Value = answer.json().await.unwrap();
        assert_eq!(said["code"], "FAIL", "{name}");
    }
    assert_eq!(
        world.read_intent(&created, &intent.id).await.status,
        IntentStatus::RequiresAction
    );
}

fn tampered(
    (mut headers, body): (reqwest::header::HeaderMap, String),
    change: impl Fn(&mut reqwest::header::HeaderMap),
) -> (reqwest::header::HeaderMap, String) {
    change(&mut headers);
    (headers, body)
}

/// A success notification for `out_trade_no` of `total` fen, signed and
/// encrypted with the sandbox's keys as WeChat Pay would.
pub fn signed_notification(out_trade_no: &str, total: i64) -> (reqwest::header::HeaderMap, String) {
    signed_notification_of(&paid_transaction(out_trade_no, total))
}

/// The demo merchant's transaction: `out_trade_no` paid, `total` fen.
pub fn paid_transaction(out_trade_no: &str, total: i64) -> serde_json::Value {
    let config = payment_sandbox::WechatConfig::demo();
    json!({
        "mchid": config.mchid, "appid": config.appid, "out_trade_no": out_trade_no,
        "transaction_id": "4200000000202611230000000001", "trade_type": "NATIVE",
        "trade_state": "SUCCESS", "trade_state_desc": "支付成功",
        "success_time": "2026-11-23T12:00:00+08:00",
        "amount": {"total": total, "payer_total": total, "currency": "CNY", "payer_currency": "CNY"},
    })
}

/// `transaction` as a notification, signed and encrypted with the
/// sandbox's keys as WeChat Pay would.
pub fn signed_notification_of(
    transaction: &serde_json::Value,
) -> (reqwest::header::HeaderMap, String) {
    sealed_notification(
        transaction,
        "TRANSACTION.SUCCESS",
        "transaction",
        system_now(),
    )
}

/// [`signed_notification`], signed at `at` (a server whose clock a test
/// moved refuses a notification signed five minutes from its time).
pub fn signed_notification_at(
    out_trade_no: &str,
    total: i64,
    at: i64,
) -> (reqwest::header::HeaderMap, String) {
    sealed_notification(
        &paid_transaction(out_trade_no, total),
        "TRANSACTION.SUCCESS",
        "transaction",
        at,
    )
}

fn system_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs() as i64)
        .unwrap_or_default()
}

/// WeChat Pay's word that refund `out_refund_no` of `out_trade_no` (the
/// whole ¥128.00) succeeded, signed and encrypted with the sandbox's keys.
pub fn signed_refund_notification(
    out_trade_no: &str,
    out_refund_no: &str,
) -> (reqwest::header::HeaderMap, String) {
    let config = payment_sandbox::WechatConfig::demo();
    let refund = json!({
        "mchid": config.mchid, "out_trade_no": out_trade_no,
        "transaction_id": "4200000000202611230000000001", "out_refund_no": out_refund_no,
        "refund_id": "50000000382019052709732678859", "refund_status": "SUCCESS",
        "success_time": "2026-11-23T12:00:00+08:00", "user_received_account": "支付用户零钱",
        "amount": {"total": 12800, "refund": 12800, "payer_total": 12800, "payer_refund": 12800},
    });
    sealed_notification(&refund, "REFUND.SUCCESS", "refund", system_now())
}

/// `resource` sealed as an `original_type` resource of an `event_type`
/// notification, signed with the sandbox's platform key.
fn sealed_notification(
    resource: &serde_json::Value,
    event_type: &str,
    original_type: &str,
    at: i64,
) -> (reqwest::header::HeaderMap, String) {
    let config = payment_sandbox::WechatConfig::demo();
    let nonce = "0123456789ab";
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, config.apiv3_key.as_bytes()).unwrap());
    let mut sealed = resource.to_string().into_bytes();
    key.seal_in_place_append_tag(
        Nonce::try_assume_unique_for_key(nonce.as_bytes()).unwrap(),
        Aad::from(original_type.as_bytes()),
        &mut sealed,
    )
    .unwrap();
    let body = json!({
        "id": format!("EV-{event_type}"), "create_time": "2026-11-23T12:00:00+08:00",
        "resource_type": "encrypt-resource", "event_type": event_type, "summary": "通知",
        "resource": {"original_type": original_type, "algorithm": "AEAD_AES_256_GCM",
                     "ciphertext": BASE64.encode(&sealed), "associated_data": original_type, "nonce": nonce},
    })
    .to_string();
    let timestamp = at.to_string();
    let signed_nonce = "fixed-nonce-for-a-test";
    let pem = config.platform_private_key_pem;
    let der: String = pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    let pair = RsaKeyPair::from_pkcs8(&BASE64.decode(der).unwrap()).unwrap();
    let mut signature = vec![0; pair.public_modulus_len()];
    let message = format!("{timestamp}\n{signed_nonce}\n{body}\n");
    pair.sign(
        &RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        message.as_bytes(),
        &mut signature,
    )
    .unwrap();
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("Content-Type", "application/json".parse().unwrap());
    headers.insert("Wechatpay-Timestamp", timestamp.parse().unwrap());
    headers.insert("Wechatpay-Nonce", signed_nonce.parse().unwrap());
    headers.insert(
        "Wechatpay-Signature",
        BASE64.encode(signature).parse().unwrap(),
    );
    headers.insert("Wechatpay-Serial", config.platform_key_id.parse().unwrap());
    (headers, body)
}
