//! UnionPay's online gateway, server and emulator speaking version 5.1.0
//! (certificate-signed forms both ways): a card on UnionPay's page (the
//! browser posts the signed form; card, SMS code, back by a POST), a
//! QuickPass code on a desktop, refunds and cancellations, and
//! notifications that must come from UnionPay's certificate and be about
//! the merchant's own orders.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{RsaKeyPair, RSA_PKCS1_SHA256};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use contract::{
    CreatedCheckoutSession, FailureReason, FormMethod, IntentStatus, NextAction, PaymentIntent,
    RefundStatus,
};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::pages::{come_back, hidden};
use crate::world::{desktop, phone, send, with_other_merchant, World};

pub const DEBIT: &str = "6216261000000000018";
const SHORT_OF_FUNDS: &str = "6216261000000000026";
const SMS: &str = "111111";

/// The signed form of a card intent: where it posts and its fields.
fn card_form(intent: &PaymentIntent) -> (String, Vec<(String, String)>) {
    let Some(NextAction::Redirect {
        url,
        method,
        fields,
    }) = &intent.next_action
    else {
        panic!("not a redirect: {intent:?}");
    };
    assert_eq!(
        *method,
        FormMethod::Post,
        "UnionPay's gateway takes a POST form"
    );
    (url.clone(), fields.clone())
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
        .unwrap_or_else(|| panic!("no {name} in {fields:?}"))
}

/// The browser posts the intent's form; UnionPay's card page and its token.
async fn open_card_page(world: &World, intent: &PaymentIntent) -> String {
    let (url, fields) = card_form(intent);
    let page = world
        .http
        .post(&url)
        .form(&fields)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("¥128.00"), "the amount on the page: {page}");
    hidden(&page, "token")
}

/// The shopper enters `card` and the SMS code: the page at the end.
pub async fn pay_by_card(world: &World, token: &str, card: &str) -> String {
    let step = |path: &'static str, form: Vec<(&'static str, String)>| async move {
        world
            .http
            .post(format!("{}/unionpay/cashier/{path}", world.sandbox))
            .form(&form)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    let sms = step(
        "card",
        vec![("token", token.into()), ("cardNo", card.into())],
    )
    .await;
    assert!(sms.contains("data-testid=\"unionpay-sms-code\""), "{sms}");
    step(
        "sms",
        vec![("token", token.into()), ("smsCode", SMS.into())],
    )
    .await
}

/// A card intent of `created` on `client`, paid with the debit card; the
/// intent once the server knows.
async fn paid_by_card(world: &World, created: &CreatedCheckoutSession) -> PaymentIntent {
    let intent = world.intent_with(created, "card", "card", desktop()).await;
    let token = open_card_page(world, &intent).await;
    let done = pay_by_card(world, &token, DEBIT).await;
    come_back(world, &done, "unionpay-return").await;
    let paid = world.settled(created, &intent.id).await;
    assert_eq!(paid.status, IntentStatus::Succeeded, "{paid:?}");
    paid
}

#[tokio::test]
async fn a_desktop_shopper_pays_by_card_on_unionpay_s_page_and_comes_back_paid() {
    let world = World::start().await;
    let created = world.session().await;
    let intent = world.intent_with(&created, "k", "card", desktop()).await;
    let (url, fields) = card_form(&intent);
    assert_eq!(
        url,
        format!("{}/unionpay/gateway/api/frontTransReq.do", world.sandbox)
    );
    assert_eq!(field(&fields, "version"), "5.1.0");
    assert_eq!(field(&fields, "signMethod"), "01");
    assert_eq!(
        (
            field(&fields, "txnType"),
            field(&fields, "txnSubType"),
            field(&fields, "bizType")
        ),
        ("01", "01", "000201")
    );
    assert_eq!(field(&fields, "channelType"), "07", "the desktop page");
    assert_eq!(field(&fields, "txnAmt"), "12800", "fen");
    assert_eq!(field(&fields, "currencyCode"), "156");
    assert_eq!(field(&fields, "orderId"), intent.id.replace('_', ""));
    assert_eq!(
        field(&fields, "frontUrl"),
        world.url(&format!("/return/unionpay-card/demo/{}", intent.id))
    );
    assert_eq!(
        field(&fields, "backUrl"),
        world.url("/notify/unionpay-card/demo")
    );

    let token = open_card_page(&world, &intent).await;
    // Nothing entered yet: UnionPay has no transaction, the order waits.
    let waiting = world.read_intent_asking(&created, &intent.id, true).await;
    assert_eq!(waiting.status, IntentStatus::RequiresAction);

    // The shopper takes a while over the card and the SMS code.
    world.advance(5);
    let done = pay_by_card(&world, &token, DEBIT).await;
    assert!(done.contains("data-testid=\"unionpay-result\""), "{done}");
    let back = come_back(&world, &done, "unionpay-return").await;
    assert_eq!(
        back,
        format!("https://shop.example/thanks?payment_intent={}", intent.id)
    );
    // The return asked UnionPay: the page's first look finds it paid.
    let paid = world.read_intent(&created, &intent.id).await;
    assert_eq!(paid.status, IntentStatus::Succeeded);
    let seen = world.merchant_get(&format!("/intents/{}", intent.id)).await;
    let query_id = seen["transaction_id"].as_str().unwrap_or_default();
    assert_eq!(query_id.len(), 21, "UnionPay's queryId: {seen}");
    let events = world.events_after_sweeps(1).await;
    assert!(
        events
            .iter()
            .any(|event| event["type"] == "checkout_session.completed"
                && event["data"]["checkout_session"]["payment"]["method"] == "card"
                && event["data"]["checkout_session"]["payment"]["transaction_id"] == query_id),
        "{events:?}"
    );
}

#[tokio::test]
async fn a_phone_gets_the_phone_page_and_a_card_short_of_funds_is_declined() {
    let world = World::start().await;
    let created = world.session().await;
    let intent = world.intent_with(&created, "k", "card", phone()).await;
    assert_eq!(field(&card_form(&intent).1, "channelType"), "08");
    let token = open_card_page(&world, &intent).await;
    let done = pay_by_card(&world, &token, SHORT_OF_FUNDS).await;
    come_back(&world, &done, "unionpay-return").await;
    let declined = world.read_intent(&created, &intent.id).await;
    assert_eq!(declined.status, IntentStatus::Failed);
    assert_eq!(declined.failure_reason, Some(FailureReason::Declined));
    // The shopper can pay another way.
    let again = world
        .intent_with(&created, "k2", "wechat_pay", phone())
        .await;
    assert_eq!(again.status, IntentStatus::RequiresAction);
}

#[tokio::test]
async fn a_shopper_who_gives_up_on_the_card_page_comes_back_to_an_open_order() {
    let world = World::start().await;
    let created = world.session().await;
    let intent = world.intent_with(&created, "k", "card", desktop()).await;
    let (url, fields) = card_form(&intent);
    let page = world.http.post(&url).form(&fields).send().await.unwrap();
    let page = page.text().await.unwrap();
    let back = come_back(&world, &page, "unionpay-back").await;
    assert!(
        back.ends_with(&format!("payment_intent={}", intent.id)),
        "{back}"
    );
    let open = world.read_intent_asking(&created, &intent.id, true).await;
    assert_eq!(open.status, IntentStatus::RequiresAction);
    // QuickPass instead: the card order cannot be closed at UnionPay, so
    // the intent is canceled and the order watched until its payTimeout.
    let quickpass = world
        .intent_with(&created, "k2", "unionpay", desktop())
        .await;
    assert_eq!(quickpass.status, IntentStatus::RequiresAction);
    let canceled = world.read_intent(&created, &intent.id).await;
    assert_eq!(canceled.status, IntentStatus::Canceled);
}

/// A desktop QuickPass intent and its code.
async fn quickpass_code(
    world: &World,
    created: &CreatedCheckoutSession,
) -> (PaymentIntent, String) {
    let intent = world.intent_with(created, "k", "unionpay", desktop()).await;
    let Some(NextAction::DisplayQrCode {
        payload,
        expires_at,
    }) = &intent.next_action
    else {
        panic!("no code: {intent:?}");
    };
    assert!(payload.starts_with("https://qr.95516.com/"), "{payload}");
    assert_eq!(
        *expires_at,
        intent.expires_at - 120,
        "payable until its payTimeout, which ends before the intent"
    );
    let payload = payload.clone();
    (intent, payload)
}

pub async fn quickpass_scan(world: &World, code: &str, outcome: &str) -> Value {
    let answer = world
        .http
        .post(format!("{}/unionpay/phone/scan", world.sandbox))
        .json(&json!({"qr_code": code, "outcome": outcome}))
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success(), "{}", answer.status());
    answer.json().await.unwrap()
}

async fn unionpay_control(world: &World, control: Value) {
    let answer = world
        .http
        .post(format!("{}/unionpay/control", world.sandbox))
        .json(&control)
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success(), "{}", answer.status());
}

#[tokio::test]
async fn a_quickpass_code_is_scanned_confirmed_on_the_phone_and_paid() {
    let world = World::start().await;
    let created = world.session().await;
    let (intent, code) = quickpass_code(&world, &created).await;
    let waiting = world.read_intent_asking(&created, &intent.id, true).await;
    assert_eq!(
        waiting.status,
        IntentStatus::RequiresAction,
        "nobody scanned it"
    );

    quickpass_scan(&world, &code, "scan").await;
    world.advance(5);
    let scanned = world.read_intent_asking(&created, &intent.id, true).await;
    assert_eq!(
        scanned.status,
        IntentStatus::Processing,
        "confirming in the app"
    );

    quickpass_scan(&world, &code, "pay").await;
    let paid = world.settled(&created, &intent.id).await;
    assert_eq!(paid.status, IntentStatus::Succeeded);
    let events = world.events_after_sweeps(1).await;
    assert!(
        events
            .iter()
            .any(|event| event["type"] == "checkout_session.completed"
                && event["data"]["checkout_session"]["payment"]["method"] == "unionpay"),
        "{events:?}"
    );
}

#[tokio::test]
async fn a_quickpass_code_declined_by_the_bank_fails_and_the_sandbox_scan_pays_another() {
    let world = World::start().await;
    let created = world.session().await;
    let (intent, code) = quickpass_code(&world, &created).await;
    quickpass_scan(&world, &code, "decline").await;
    let declined = world.read_intent_asking(&created, &intent.id, true).await;
    assert_eq!(
        (declined.status, declined.failure_reason),
        (IntentStatus::Failed, Some(FailureReason::Declined))
    );
    let again = world
        .intent_with(&created, "k2", "unionpay", desktop())
        .await;
    let Some(NextAction::DisplayQrCode { payload, .. }) = &again.next_action else {
        panic!("{again:?}");
    };
    // The server's sandbox endpoint finds UnionPay's phone by the code.
    let scanned = send(
        world
            .http
            .post(world.url("/sandbox/scan"))
            .json(&json!({"code_url": payload})),
    )
    .await;
    assert_eq!(scanned.status(), StatusCode::OK);
    assert_eq!(
        world.settled(&created, &again.id).await.status,
        IntentStatus::Succeeded
    );
}

async fn refund_of(world: &World, intent_id: &str, key: &str, body: Value) -> Value {
    let answer = world.refund(intent_id, key, body).await;
    assert_eq!(answer.status(), StatusCode::CREATED);
    answer.json().await.unwrap()
}

/// Sweeps until refund `id` has ended.
async fn refund_ended(world: &World, id: &str) -> Value {
    for _ in 0..100 {
        world.sweep().await;
        let refund = world.merchant_get(&format!("/refunds/{id}")).await;
        if refund["status"] != "pending" {
            return refund;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    world.merchant_get(&format!("/refunds/{id}")).await
}

#[tokio::test]
async fn refunds_go_back_through_unionpay_and_show_on_the_shopper_s_statement() {
    let world = World::start().await;
    unionpay_control(&world, json!({"refund_delay_ms": 100})).await;
    let created = world.session().await;
    let paid = paid_by_card(&world, &created).await;

    let part = refund_of(
        &world,
        &paid.id,
        "r1",
        json!({"amount": {"value": 2800, "currency": "CNY"}}),
    )
    .await;
    assert_eq!(
        part["status"], "pending",
        "UnionPay refunds are asynchronous"
    );
    let part = refund_ended(&world, part["id"].as_str().unwrap()).await;
    assert_eq!(part["status"], "succeeded", "{part}");
    let rest = refund_of(&world, &paid.id, "r2", json!({})).await;
    let rest = refund_ended(&world, rest["id"].as_str().unwrap()).await;
    assert_eq!(rest["status"], "succeeded", "{rest}");
    let seen = world.merchant_get(&format!("/intents/{}", paid.id)).await;
    assert_eq!(seen["amount_refunded"]["value"], 12800);
    let third = world.refund(&paid.id, "r3", json!({})).await;
    assert_eq!(third.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let statement = world
        .http
        .get(format!("{}/unionpay/phone", world.sandbox))
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
    let events = world.events_after_sweeps(1).await;
    let refunds = events
        .iter()
        .filter(|event| event["type"] == "refund.succeeded")
        .count();
    assert_eq!(refunds, 2, "{events:?}");
}

#[tokio::test]
async fn a_whole_payment_goes_back_by_cancellation_on_its_day_and_by_refund_after() {
    let world = World::start().await;
    // A cancellation is made before 22:30 in Beijing; whenever the test
    // runs, the first refund comes in the morning there.
    world.advance_to_beijing_hour(9);
    unionpay_control(&world, json!({"refund_delay_ms": 100})).await;
    let created = world.session().await;
    let today = paid_by_card(&world, &created).await;
    let refund = refund_of(&world, &today.id, "r1", json!({})).await;
    let refund = refund_ended(&world, refund["id"].as_str().unwrap()).await;
    assert_eq!(refund["status"], "succeeded", "{refund}");

    let created = world.session().await;
    let yesterday = paid_by_card(&world, &created).await;
    world.advance(24 * 60 * 60);
    let refund = refund_of(&world, &yesterday.id, "r1", json!({})).await;
    let refund = refund_ended(&world, refund["id"].as_str().unwrap()).await;
    assert_eq!(refund["status"], "succeeded", "{refund}");

    let statement = world
        .http
        .get(format!("{}/unionpay/phone", world.sandbox))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        statement.contains("撤销成功") && statement.contains("退款成功"),
        "one cancellation, one refund: {statement}"
    );
}

#[tokio::test]
async fn a_refund_unionpay_cannot_make_fails_and_says_so() {
    let world = World::start().await;
    unionpay_control(&world, json!({"refund_delay_ms": 100})).await;
    let created = world.session().await;
    let paid = paid_by_card(&world, &created).await;
    unionpay_control(&world, json!({"balance_short": true})).await;
    let refund = refund_of(
        &world,
        &paid.id,
        "r1",
        json!({"amount": {"value": 100, "currency": "CNY"}}),
    )
    .await;
    let refund = refund_ended(&world, refund["id"].as_str().unwrap()).await;
    assert_eq!(refund["status"], "failed", "{refund}");
    assert_eq!(
        serde_json::from_value::<RefundStatus>(refund["status"].clone()).unwrap(),
        RefundStatus::Failed
    );
}

/// A payment notification for `intent`, as UnionPay's would be, signed with
/// `key` and carrying `certificate`.
fn notification(intent: &PaymentIntent, mer_id: &str, key: &str, certificate: &str) -> String {
    let order_id = intent.id.replace('_', "");
    let mut fields: Vec<(String, String)> = [
        ("version", "5.1.0"),
        ("encoding", "UTF-8"),
        ("signMethod", "01"),
        ("txnType", "01"),
        ("txnSubType", "01"),
        ("bizType", "000201"),
        ("accessType", "0"),
        ("merId", mer_id),
        ("orderId", &order_id),
        ("txnTime", "20261206120000"),
        ("txnAmt", "12800"),
        ("currencyCode", "156"),
        ("queryId", "712612061200000000001"),
        ("respCode", "00"),
        ("respMsg", "成功[0000000]"),
        ("signPubKeyCert", certificate),
    ]
    .iter()
    .map(|(name, value)| (name.to_string(), value.to_string()))
    .collect();
    fields.sort();
    let text = fields
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("&");
    let digest: String = Sha256::digest(text.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    let der: String = key
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    let pair = RsaKeyPair::from_pkcs8(&BASE64.decode(der).unwrap()).unwrap();
    let mut signature = vec![0; pair.public_modulus_len()];
    pair.sign(
        &RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        digest.as_bytes(),
        &mut signature,
    )
    .unwrap();
    fields.push(("signature".into(), BASE64.encode(signature)));
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&fields)
        .finish()
}

const SIGN_KEY: &str = include_str!("../../../sandbox/keys/unionpay_sign_private.pem");
const SIGN_CERT: &str = include_str!("../../../sandbox/keys/unionpay_sign.pem");
const ROGUE_KEY: &str = include_str!("../../../sandbox/keys/unionpay_rogue_private.pem");
const ROGUE_CERT: &str = include_str!("../../../sandbox/keys/unionpay_rogue.pem");
const MER_ID: &str = "777290058110048";

async fn notify(world: &World, merchant: &str, body: String) -> StatusCode {
    send(
        world
            .http
            .post(world.url(&format!("/notify/unionpay-card/{merchant}")))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body),
    )
    .await
    .status()
}

#[tokio::test]
async fn notifications_signed_by_a_certificate_not_unionpay_s_or_about_another_s_order_are_refused()
{
    let world = World::with_config(Some(with_other_merchant(""))).await;
    let created = world.session().await;
    let intent = world.intent_with(&created, "k", "card", desktop()).await;

    // The same name as UnionPay's certificate, but not under its root.
    let rogue = notification(&intent, MER_ID, ROGUE_KEY, ROGUE_CERT);
    assert_eq!(notify(&world, "demo", rogue).await, StatusCode::BAD_REQUEST);
    // UnionPay's own, about another merchant number.
    let elsewhere = notification(&intent, "777290058199999", SIGN_KEY, SIGN_CERT);
    assert_eq!(
        notify(&world, "demo", elsewhere).await,
        StatusCode::BAD_REQUEST
    );
    // UnionPay's own, about this order, sent to another merchant's address.
    let genuine = notification(&intent, MER_ID, SIGN_KEY, SIGN_CERT);
    assert_eq!(
        notify(&world, "other", genuine.clone()).await,
        StatusCode::BAD_REQUEST
    );
    let untouched = world.read_intent(&created, &intent.id).await;
    assert_eq!(
        untouched.status,
        IntentStatus::RequiresAction,
        "nothing applied"
    );

    // The emulator itself, told to sign with the rogue certificate: its
    // notification is refused, and the server learns of the payment by
    // asking.
    unionpay_control(&world, json!({"notify": "rogue_cert"})).await;
    let (quick, code) = quickpass_code(&world, &world.session().await).await;
    quickpass_scan(&world, &code, "pay").await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let database = world.database().await;
    let applied: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM provider_notifications WHERE out_trade_no = $1")
            .bind(&quick.id)
            .fetch_one(&database)
            .await
            .unwrap();
    assert_eq!(applied, 0, "the rogue notification was not taken");

    // And UnionPay's genuine notification is taken: once.
    assert_eq!(
        notify(&world, "demo", genuine.clone()).await,
        StatusCode::OK
    );
    assert_eq!(notify(&world, "demo", genuine).await, StatusCode::OK);
    let paid = world.read_intent(&created, &intent.id).await;
    assert_eq!(paid.status, IntentStatus::Succeeded);
}

#[tokio::test]
async fn a_payment_unionpay_decides_after_the_order_s_time_is_still_found() {
    let world = World::start().await;
    // UnionPay decides the scanned payment late, and its notification is
    // lost: only the server's asking can find it.
    unionpay_control(&world, json!({"late_decisions": true, "notify": "lost"})).await;
    let created = world.session().await;
    let (intent, code) = quickpass_code(&world, &created).await;
    quickpass_scan(&world, &code, "scan").await;
    world.advance(5);
    let scanned = world.read_intent_asking(&created, &intent.id, true).await;
    assert_eq!(scanned.status, IntentStatus::Processing);

    world.advance(16 * 60);
    world.sweep().await;
    let expired = world.read_intent(&created, &intent.id).await;
    assert_eq!(expired.status, IntentStatus::Expired, "{expired:?}");

    // Decided after the time ran out: paid.
    let paid = quickpass_scan(&world, &code, "pay").await;
    assert_eq!(paid["origRespCode"], "00", "{paid}");
    for _ in 0..5 {
        world.advance(10 * 60);
        world.sweep().await;
    }
    let found = world.merchant_get(&format!("/intents/{}", intent.id)).await;
    assert!(
        found["transaction_id"].is_string(),
        "the late payment is recorded: {found}"
    );
    // Nothing else paid the session, which was still open: it is the
    // session's payment, and the merchant hears so.
    assert_eq!(found["status"], "succeeded", "{found}");
    let events = world.events_after_sweeps(1).await;
    assert!(
        events
            .iter()
            .any(|event| event["type"] == "checkout_session.completed"
                && event["data"]["checkout_session"]["payment"]["intent_id"] == intent.id.as_str()),
        "{events:?}"
    );
}
