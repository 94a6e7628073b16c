//! Merchants kept apart: every row a request reads or changes belongs to
//! the merchant whose key or provider account the request proved. A
//! correctly signed notification of one merchant settles nothing of
//! another's; one merchant's key reads, cancels, refunds and lists none of
//! another's; a provider account that left the configuration settles
//! nothing, and its intents wait for a person.

use contract::{IntentStatus, ReviewReason};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::outcomes::{
    paid_transaction, signed_notification, signed_notification_at, signed_notification_of,
};
use crate::world::{sandbox_account, send, with_other_merchant, World, MERCHANT_KEY, OTHER_KEY};

#[tokio::test]
async fn another_merchant_s_correctly_signed_notification_settles_nothing_of_ours() {
    // Both merchants pay through the sandbox's WeChat Pay account here, so
    // the notification verifies under the other merchant's keys too: only
    // the order's owner can stop it.
    let world = World::with_config(Some(with_other_merchant(""))).await;
    let created = world.session().await;
    let intent = world.qr_intent(&created, "k").await;
    let (headers, body) = signed_notification(&intent.id, 12800);
    let answer = send(
        world
            .http
            .post(world.url("/notify/wechat-pay/other"))
            .headers(headers.clone())
            .body(body.clone()),
    )
    .await;
    assert_eq!(answer.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let said: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(said["code"], "FAIL", "refused in WeChat's words");
    assert_eq!(
        world.read_intent(&created, &intent.id).await.status,
        IntentStatus::RequiresAction,
        "nothing applied"
    );
    let session = world
        .merchant_get(&format!("/checkout-sessions/{}", created.session.id))
        .await;
    assert_eq!(session["status"], "open");
    let recorded: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM provider_notifications")
        .fetch_one(&world.database().await)
        .await
        .unwrap();
    assert_eq!(recorded, 0);

    // The same notification at its own merchant's address is applied.
    let answer = send(
        world
            .http
            .post(world.url("/notify/wechat-pay/demo"))
            .headers(headers)
            .body(body),
    )
    .await;
    assert_eq!(answer.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        world.read_intent(&created, &intent.id).await.status,
        IntentStatus::Succeeded
    );
}

#[tokio::test]
async fn another_merchant_s_key_reads_cancels_refunds_and_lists_nothing_of_ours() {
    let world = World::with_config(Some(with_other_merchant(""))).await;
    let (created, paid) = world.paid(MERCHANT_KEY).await;
    let open = world.session().await;
    let waiting = world.qr_intent(&open, "k").await;
    let theirs = world.session_of(OTHER_KEY).await;

    for (method, path) in [
        (Method::GET, format!("/intents/{}", paid.id)),
        (Method::GET, format!("/intents/{}/refunds", paid.id)),
        (Method::POST, format!("/intents/{}/cancel", waiting.id)),
        (
            Method::GET,
            format!("/checkout-sessions/{}", created.session.id),
        ),
    ] {
        let answer = world.as_merchant(OTHER_KEY, method.clone(), &path).await;
        assert_eq!(answer.status(), StatusCode::NOT_FOUND, "{method} {path}");
    }
    let refund = send(
        world
            .http
            .post(world.url(&format!("/intents/{}/refunds", paid.id)))
            .bearer_auth(OTHER_KEY)
            .header("Idempotency-Key", "theirs")
            .json(&json!({})),
    )
    .await;
    assert_eq!(refund.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        world.read_intent(&open, &waiting.id).await.status,
        IntentStatus::RequiresAction,
        "not canceled"
    );
    let refunds = world
        .merchant_get(&format!("/intents/{}/refunds", paid.id))
        .await;
    assert_eq!(refunds["data"], json!([]), "not refunded");

    let listed: serde_json::Value = world
        .as_merchant(OTHER_KEY, Method::GET, "/intents")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["data"], json!([]), "{listed}");
    let events: serde_json::Value = world
        .as_merchant(OTHER_KEY, Method::GET, "/events")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(events["data"], json!([]), "{events}");
    // Their own session is theirs to read.
    let answer = world
        .as_merchant(
            OTHER_KEY,
            Method::GET,
            &format!("/checkout-sessions/{}", theirs.session.id),
        )
        .await;
    assert_eq!(answer.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_intent_whose_provider_account_left_the_configuration_waits_for_a_person() {
    let sandbox_config = with_other_merchant("");
    let mut world = World::with_config(Some(sandbox_config)).await;
    let created = world.session_of(OTHER_KEY).await;
    let intent = world.qr_intent(&created, "k").await;

    // The merchant moves to a WeChat Pay account of its own: the order was
    // made with the sandbox's, which the server no longer has for it.
    let moved = with_other_merchant(&sandbox_account(
        "1900000002",
        &format!("{}/wechat-pay", world.sandbox),
        &world.sandbox,
    ));
    world.restart_with(Some(moved)).await;

    // A notification that verifies under the new account, about the order
    // the old one made, is not the new account's to settle.
    let mut transaction = paid_transaction(&intent.id, 12800);
    transaction["mchid"] = json!("1900000002");
    let (headers, body) = signed_notification_of(&transaction);
    let answer = send(
        world
            .http
            .post(world.url("/notify/wechat-pay/other"))
            .headers(headers)
            .body(body),
    )
    .await;
    assert_eq!(answer.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        world.read_intent(&created, &intent.id).await.status,
        IntentStatus::RequiresAction,
        "nothing applied"
    );

    // Past its time, nothing can be asked of its provider: it goes to a
    // person, is reported, and is not picked again.
    world.advance(16 * 60);
    world.sweep().await;
    let merchant = world
        .as_merchant(OTHER_KEY, Method::GET, &format!("/intents/{}", intent.id))
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(merchant["status"], "requires_review");
    assert_eq!(
        merchant["review_reason"],
        serde_json::to_value(ReviewReason::ProviderMissing).unwrap()
    );
    let events: serde_json::Value = world
        .as_merchant(OTHER_KEY, Method::GET, "/events")
        .await
        .json()
        .await
        .unwrap();
    let kinds: Vec<&str> = events["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|event| event["type"].as_str())
        .collect();
    assert_eq!(kinds, ["payment_intent.requires_review"]);
    assert_eq!(
        world.read_intent(&created, &intent.id).await.status,
        IntentStatus::RequiresReview
    );
    let queried: i64 =
        sqlx::query_scalar("SELECT provider_failures FROM payment_intents WHERE id = $1")
            .bind(&intent.id)
            .fetch_one(&world.database().await)
            .await
            .unwrap();
    world.advance(3600);
    world.sweep().await;
    let queried_again: i64 =
        sqlx::query_scalar("SELECT provider_failures FROM payment_intents WHERE id = $1")
            .bind(&intent.id)
            .fetch_one(&world.database().await)
            .await
            .unwrap();
    assert_eq!(queried, queried_again, "not picked again");

    // The account comes back, and with it WeChat Pay's word that the
    // shopper had paid: a payment is never dropped, review or not.
    world.restart_with(Some(with_other_merchant(""))).await;
    let (headers, body) = signed_notification_at(&intent.id, 12800, world.state.now());
    let answer = send(
        world
            .http
            .post(world.url("/notify/wechat-pay/other"))
            .headers(headers)
            .body(body),
    )
    .await;
    assert_eq!(answer.status(), StatusCode::NO_CONTENT);
    let paid = world
        .as_merchant(OTHER_KEY, Method::GET, &format!("/intents/{}", intent.id))
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(
        paid["status"], "requires_refund",
        "its session had expired meanwhile"
    );
    assert_eq!(paid["transaction_id"], "4200000000202611230000000001");
}
