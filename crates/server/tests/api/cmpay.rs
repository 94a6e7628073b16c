//! China Mobile Pay, server and emulator speaking `cmpayService` 2.0.0
//! (HMAC-MD5-signed forms both ways): the cashier on a desktop and a
//! phone, paid, declined or given up; refunds; notifications that must be
//! signed with the merchant's key and be about its own orders.

use contract::{
    CreatedCheckoutSession, FailureReason, FormMethod, IntentStatus, NextAction, PaymentIntent,
};
use hmac::{Hmac, Mac};
use md5::Md5;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::pages::{come_back, press};
use crate::world::{desktop, phone, send, with_other_merchant, World};

/// The sandbox merchant's key (`crates/sandbox`'s demo).
const KEY: &str = "sandboxCmpayKey0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLM";
const MERCHANT_ID: &str = "888009900000001";

/// The browser goes to the intent's cashier: the page.
async fn open_cashier(world: &World, intent: &PaymentIntent) -> String {
    let Some(NextAction::Redirect {
        url,
        method,
        fields,
    }) = &intent.next_action
    else {
        panic!("not a redirect: {intent:?}");
    };
    assert!(
        url.starts_with(&format!(
            "{}/cmpay/wap/index.xhtml?sessionId=",
            world.sandbox
        )),
        "{url}"
    );
    let page = match method {
        FormMethod::Post => world.http.post(url).form(fields).send().await,
        FormMethod::Get => world.http.get(url).send().await,
    };
    let page = page.unwrap().text().await.unwrap();
    assert!(page.contains("128.00"), "the amount on the cashier: {page}");
    page
}

/// A China Mobile Pay intent on `client`, paid at the cashier; the intent
/// once the shopper is back.
async fn paid(world: &World, created: &CreatedCheckoutSession, client: Value) -> PaymentIntent {
    let intent = world
        .intent_with(created, "cmpay", "china_mobile_pay", client)
        .await;
    let cashier = open_cashier(world, &intent).await;
    world.advance(5);
    let done = press(world, &cashier, "cmpay-pay", "pay").await;
    let back = come_back(world, &done, "cmpay-return").await;
    assert_eq!(
        back,
        format!("https://shop.example/thanks?payment_intent={}", intent.id)
    );
    world.read_intent(created, &intent.id).await
}

#[tokio::test]
async fn a_desktop_shopper_pays_at_china_mobile_s_cashier_and_comes_back_paid() {
    let world = World::start().await;
    let created = world.session().await;
    let intent = paid(&world, &created, desktop()).await;
    assert_eq!(intent.status, IntentStatus::Succeeded, "{intent:?}");
    let seen = world.merchant_get(&format!("/intents/{}", intent.id)).await;
    assert!(
        seen["transaction_id"].is_string(),
        "China Mobile's payNo: {seen}"
    );
    let events = world.events_after_sweeps(1).await;
    assert!(
        events
            .iter()
            .any(|event| event["type"] == "checkout_session.completed"
                && event["data"]["checkout_session"]["payment"]["method"] == "china_mobile_pay"),
        "{events:?}"
    );
}

#[tokio::test]
async fn a_phone_shopper_declined_at_the_cashier_is_told_and_one_who_gives_up_is_not() {
    let world = World::start().await;
    let created = world.session().await;
    let intent = world
        .intent_with(&created, "k", "china_mobile_pay", phone())
        .await;
    let cashier = open_cashier(&world, &intent).await;
    world.advance(5);
    let done = press(&world, &cashier, "cmpay-decline", "decline").await;
    come_back(&world, &done, "cmpay-return").await;
    // A query's FAILED is not final while the cashier may take another
    // attempt: the notification's is.
    let declined = world.settled(&created, &intent.id).await;
    assert_eq!(
        (declined.status, declined.failure_reason),
        (IntentStatus::Failed, Some(FailureReason::Declined))
    );

    let again = world
        .intent_with(&created, "k2", "china_mobile_pay", phone())
        .await;
    let cashier = open_cashier(&world, &again).await;
    let back = come_back(&world, &cashier, "cmpay-back").await;
    assert!(
        back.ends_with(&format!("payment_intent={}", again.id)),
        "{back}"
    );
    let open = world.read_intent_asking(&created, &again.id, true).await;
    assert_eq!(
        open.status,
        IntentStatus::RequiresAction,
        "nothing paid, nothing ended"
    );
}

#[tokio::test]
async fn refunds_go_back_through_china_mobile_and_show_on_the_shopper_s_statement() {
    let world = World::start().await;
    let created = world.session().await;
    let intent = paid(&world, &created, phone()).await;
    assert_eq!(intent.status, IntentStatus::Succeeded);
    let part = world
        .refund(
            &intent.id,
            "r1",
            json!({"amount": {"value": 2800, "currency": "CNY"}}),
        )
        .await;
    assert_eq!(part.status(), StatusCode::CREATED);
    let part: Value = part.json().await.unwrap();
    assert_eq!(part["status"], "succeeded", "answered at once: {part}");
    let rest: Value = world
        .refund(&intent.id, "r2", json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rest["status"], "succeeded", "{rest}");
    let third = world.refund(&intent.id, "r3", json!({})).await;
    assert_eq!(third.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let statement = world
        .http
        .get(format!("{}/cmpay/phone", world.sandbox))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        statement.contains("28.00") && statement.contains("100.00"),
        "{statement}"
    );
}

/// A notification of `orderId`, as China Mobile's would be, signed with
/// `key`.
fn notification(order_id: &str, merchant_id: &str, key: &str) -> String {
    let fields: Vec<(&str, String)> = vec![
        ("merchantId", merchant_id.into()),
        ("payNo", "201612061200000001".into()),
        ("returnCode", "000000".into()),
        ("message", "SUCCESS".into()),
        ("signType", "MD5".into()),
        ("type", "OfflineNotify".into()),
        ("version", "2.0.0".into()),
        ("amount", "12800".into()),
        (
            "amtItem",
            "CNY_AMT=12800#CMY_AMT=0#RED_AMT=0#VCH_AMT=0#POT_CHG_AMT=0".into(),
        ),
        ("bankAbbr", String::new()),
        ("mobile", "150****8779".into()),
        ("orderId", order_id.into()),
        ("payDate", "20261206120000".into()),
        ("accountDate", "20261206".into()),
        ("reserved1", String::new()),
        ("reserved2", String::new()),
        ("status", "SUCCESS".into()),
        ("orderDate", "20261206".into()),
        ("fee", "0".into()),
    ];
    // The rule, written here apart from the adapter's: the values joined,
    // HMAC-MD5 with an empty key, its hex HMAC-MD5'd with the merchant's.
    let data: String = fields.iter().map(|(_, value)| value.as_str()).collect();
    let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let mut inner = Hmac::<Md5>::new_from_slice(b"").unwrap();
    inner.update(data.as_bytes());
    let inner = hex(&inner.finalize().into_bytes());
    let mut outer = Hmac::<Md5>::new_from_slice(key.as_bytes()).unwrap();
    outer.update(inner.as_bytes());
    let hmac = hex(&outer.finalize().into_bytes());
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields.iter().map(|(name, value)| (*name, value.as_str())))
        .append_pair("hmac", &hmac)
        .finish()
}

async fn notify(world: &World, merchant: &str, body: String) -> StatusCode {
    send(
        world
            .http
            .post(world.url(&format!("/notify/cmpay/{merchant}")))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body),
    )
    .await
    .status()
}

#[tokio::test]
async fn tampered_and_foreign_notifications_are_refused_and_a_true_one_is_taken_once() {
    let world = World::with_config(Some(with_other_merchant(""))).await;
    let created = world.session().await;
    let intent = world
        .intent_with(&created, "k", "china_mobile_pay", desktop())
        .await;
    let order_id = intent.id.replace('_', "");

    let forged = notification(&order_id, MERCHANT_ID, "not the merchant's key");
    assert_eq!(
        notify(&world, "demo", forged).await,
        StatusCode::BAD_REQUEST
    );
    let tampered = notification(&order_id, MERCHANT_ID, KEY).replace("amount=12800", "amount=1");
    assert_eq!(
        notify(&world, "demo", tampered).await,
        StatusCode::BAD_REQUEST
    );
    let elsewhere = notification(&order_id, "888009900000002", KEY);
    assert_eq!(
        notify(&world, "demo", elsewhere).await,
        StatusCode::BAD_REQUEST
    );
    let genuine = notification(&order_id, MERCHANT_ID, KEY);
    assert_eq!(
        notify(&world, "other", genuine.clone()).await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        world.read_intent(&created, &intent.id).await.status,
        IntentStatus::RequiresAction,
        "nothing applied"
    );
    assert_eq!(
        notify(&world, "demo", genuine.clone()).await,
        StatusCode::OK
    );
    assert_eq!(notify(&world, "demo", genuine).await, StatusCode::OK);
    assert_eq!(
        world.read_intent(&created, &intent.id).await.status,
        IntentStatus::Succeeded
    );

    // The emulator told to tamper with its own notification: refused, and
    // the payment found by asking.
    let response = world
        .http
        .post(format!("{}/cmpay/control", world.sandbox))
        .json(&json!({"notify": "tampered"}))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    let created = world.session().await;
    let second = paid(&world, &created, desktop()).await;
    assert_eq!(second.status, IntentStatus::Succeeded, "the return asked");
    let database = world.database().await;
    let taken: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM provider_notifications WHERE out_trade_no = $1")
            .bind(&second.id)
            .fetch_one(&database)
            .await
            .unwrap();
    assert_eq!(taken, 0, "the tampered notification was not taken");
}

/// Sweeps until refund `id` has ended.
async fn refund_ended(world: &World, id: &str) -> Value {
    for _ in 0..20 {
        world.advance(60);
        world.sweep().await;
        let refund = world.merchant_get(&format!("/refunds/{id}")).await;
        if refund["status"] != "pending" {
            return refund;
        }
    }
    world.merchant_get(&format!("/refunds/{id}")).await
}

#[tokio::test]
async fn a_refund_whose_answer_was_lost_is_held_for_the_merchant_never_made_twice() {
    let world = World::start().await;
    let created = world.session().await;
    let intent = paid(&world, &created, desktop()).await;
    // China Mobile makes the refund and its answer is lost; asked again
    // with the same requestId, it refuses the repeat, as its documents say.
    let control = |strict: bool| {
        world
            .http
            .post(format!("{}/cmpay/control", world.sandbox))
            .json(&json!({"strict_refunds": strict}))
            .send()
    };
    assert!(control(true).await.unwrap().status().is_success());
    let refund = world
        .refund(
            &intent.id,
            "r1",
            json!({"amount": {"value": 2800, "currency": "CNY"}}),
        )
        .await;
    let refund: Value = refund.json().await.unwrap();
    assert_eq!(refund["status"], "pending", "no answer: {refund}");
    let held = refund_ended(&world, refund["id"].as_str().unwrap()).await;
    assert_eq!(
        (&held["status"], &held["failure_reason"]),
        (&json!("failed"), &json!("abnormal")),
        "held for the merchant, not failed outright: {held}"
    );
    let statement = world
        .http
        .get(format!("{}/cmpay/phone", world.sandbox))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        statement.matches("退款成功").count(),
        1,
        "one refund made: {statement}"
    );
    // What is held counts: what is left is all a later refund gives back.
    assert!(control(false).await.unwrap().status().is_success());
    let rest: Value = world
        .refund(&intent.id, "r2", json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rest["amount"]["value"], 10000, "{rest}");
    assert_eq!(rest["status"], "succeeded", "{rest}");
}
