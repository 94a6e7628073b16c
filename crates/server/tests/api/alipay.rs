//! Alipay on every device, server and emulator speaking Alipay's OpenAPI
//! (RSA2-signed gateway calls and notifications): a code on a desktop, the
//! WAP cashier on a phone, silent authorisation and `tradePay` inside the
//! Alipay app; refunds through Alipay.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{RsaKeyPair, RSA_PKCS1_SHA256};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use contract::{
    CreatedCheckoutSession, ErrorCode, FailureReason, FormMethod, IntentStatus, NextAction,
    PaymentIntent, RefundStatus,
};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::world::{desktop, error_of, in_alipay, phone, send, World};

/// A desktop Alipay intent and its code.
async fn alipay_code(world: &World, created: &CreatedCheckoutSession) -> (PaymentIntent, String) {
    let intent = world.intent_with(created, "k", "alipay", desktop()).await;
    let Some(NextAction::DisplayQrCode {
        payload,
        expires_at,
    }) = &intent.next_action
    else {
        panic!("no code: {intent:?}");
    };
    assert!(payload.starts_with("https://qr.alipay.com/"), "{payload}");
    assert!(
        *expires_at <= intent.expires_at,
        "the code ends with the order"
    );
    let payload = payload.clone();
    (intent, payload)
}

#[tokio::test]
async fn a_desktop_shopper_scans_alipay_s_code_confirms_and_the_notification_pays_it() {
    let world = World::start().await;
    let created = world.session().await;
    let (intent, code) = alipay_code(&world, &created).await;
    assert_eq!(intent.method, contract::MethodKind::Alipay);

    // Not scanned: Alipay has no trade yet, the order still waits.
    let asked = world.read_intent_asking(&created, &intent.id, true).await;
    assert_eq!(asked.status, IntentStatus::RequiresAction);

    assert_eq!(
        world.alipay_scan(&code, "scan").await.status(),
        StatusCode::OK
    );
    // The server asks the provider at most every few seconds.
    world.advance(5);
    let scanned = world.read_intent_asking(&created, &intent.id, true).await;
    assert_eq!(
        scanned.status,
        IntentStatus::Processing,
        "scanned and confirming on the phone"
    );
    // A second payment cannot start while this one is being confirmed.
    let second = world
        .create_intent(
            &created,
            Some("k2"),
            json!({"method": "wechat_pay", "client": desktop()}),
        )
        .await;
    assert_eq!(
        error_of(second).await,
        (StatusCode::CONFLICT, ErrorCode::PaymentInProgress)
    );

    assert_eq!(
        world.alipay_scan(&code, "pay").await.status(),
        StatusCode::OK
    );
    let paid = world.settled(&created, &intent.id).await;
    assert_eq!(paid.status, IntentStatus::Succeeded);
    let seen = world.merchant_get(&format!("/intents/{}", intent.id)).await;
    assert!(
        seen["transaction_id"].is_string(),
        "Alipay's trade_no: {seen}"
    );
    let events = world.events_after_sweeps(1).await;
    assert!(
        events
            .iter()
            .any(|event| event["type"] == "checkout_session.completed"
                && event["data"]["checkout_session"]["payment"]["intent_id"] == intent.id.as_str()
                && event["data"]["checkout_session"]["payment"]["method"] == "alipay"),
        "{events:?}"
    );
}

#[tokio::test]
async fn a_refusal_by_alipay_s_risk_control_closes_the_order_and_the_shopper_can_pay_again() {
    let world = World::start().await;
    let created = world.session().await;
    let (intent, code) = alipay_code(&world, &created).await;
    assert_eq!(
        world.alipay_scan(&code, "decline").await.status(),
        StatusCode::OK
    );
    let closed = world.read_intent_asking(&created, &intent.id, true).await;
    assert_eq!(closed.status, IntentStatus::Failed);
    assert_eq!(closed.failure_reason, Some(FailureReason::ClosedByProvider));

    let again = world.intent_with(&created, "k2", "alipay", desktop()).await;
    assert_ne!(again.id, intent.id);
    let Some(NextAction::DisplayQrCode { payload, .. }) = &again.next_action else {
        panic!("{again:?}");
    };
    assert_ne!(*payload, code, "a new code");
}

/// The WAP form of a phone intent: where it posts and its fields.
fn wap_form(intent: &PaymentIntent) -> (String, Vec<(String, String)>) {
    let Some(NextAction::Redirect {
        url,
        method,
        fields,
    }) = &intent.next_action
    else {
        panic!("not a redirect: {intent:?}");
    };
    assert_eq!(*method, FormMethod::Post, "Alipay's pages take a POST form");
    (url.clone(), fields.clone())
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
        .unwrap_or_else(|| panic!("no {name} in {fields:?}"))
}

/// The shopper's browser submits the form and is shown the cashier; the
/// cashier's token.
async fn open_cashier(world: &World, intent: &PaymentIntent) -> String {
    let (url, fields) = wap_form(intent);
    assert!(
        url.starts_with(&format!("{}/alipay/gateway.do", world.sandbox)),
        "{url}"
    );
    assert_eq!(field(&fields, "method"), "alipay.trade.wap.pay");
    assert_eq!(field(&fields, "sign_type"), "RSA2");
    let page = world.http.post(&url).form(&fields).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    assert!(
        page.contains("¥128.00"),
        "the amount on the cashier: {page}"
    );
    let start = page
        .find("name=\"token\" value=\"")
        .map(|at| at + "name=\"token\" value=\"".len())
        .unwrap_or_else(|| panic!("not the cashier: {page}"));
    let length = page[start..].find('"').unwrap();
    page[start..start + length].to_owned()
}

async fn at_cashier(world: &World, token: &str, outcome: &str) -> reqwest::Response {
    world
        .http
        .post(format!("{}/alipay/cashier", world.sandbox))
        .form(&[("token", token), ("outcome", outcome)])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_phone_browser_pays_at_alipay_s_cashier_and_comes_back_to_the_shop() {
    let world = World::start().await;
    let created = world.session().await;
    let intent = world.intent_with(&created, "k", "alipay", phone()).await;
    let token = open_cashier(&world, &intent).await;
    let paid = at_cashier(&world, &token, "pay").await;
    assert_eq!(paid.status(), StatusCode::SEE_OTHER);
    let back = paid.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        back.starts_with(&format!(
            "https://shop.example/thanks?payment_intent={}&",
            intent.id
        )),
        "back to the shop, which asks the server: {back}"
    );
    assert_eq!(
        world.settled(&created, &intent.id).await.status,
        IntentStatus::Succeeded
    );
}

#[tokio::test]
async fn a_phone_shopper_who_gives_up_at_the_cashier_returns_to_an_order_still_open() {
    let world = World::start().await;
    let created = world.session().await;
    let intent = world.intent_with(&created, "k", "alipay", phone()).await;
    let token = open_cashier(&world, &intent).await;
    let quit = at_cashier(&world, &token, "quit").await;
    assert_eq!(quit.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        quit.headers()["location"],
        format!("https://shop.example/thanks?payment_intent={}", intent.id).as_str()
    );
    let open = world.read_intent_asking(&created, &intent.id, true).await;
    assert_eq!(open.status, IntentStatus::RequiresAction);
    // The shopper chooses WeChat Pay instead: the Alipay order is closed.
    assert_eq!(
        world.cancel(&created, &intent.id).await.status(),
        StatusCode::OK
    );
    let wechat = world.qr_intent(&created, "k2").await;
    assert_eq!(wechat.status, IntentStatus::RequiresAction);
    let reopened = world
        .http
        .post(&wap_form(&intent).0)
        .form(&wap_form(&intent).1)
        .send()
        .await;
    let page = reopened.unwrap().text().await.unwrap();
    assert!(
        !page.contains("name=\"token\""),
        "a closed order's cashier does not open: {page}"
    );
}

#[tokio::test]
async fn a_phone_shopper_refused_at_the_cashier_hears_the_order_was_closed() {
    let world = World::start().await;
    let created = world.session().await;
    let intent = world.intent_with(&created, "k", "alipay", phone()).await;
    let token = open_cashier(&world, &intent).await;
    let refused = at_cashier(&world, &token, "decline").await;
    assert_eq!(refused.status(), StatusCode::OK);
    let checked = world.read_intent_asking(&created, &intent.id, true).await;
    assert_eq!(checked.status, IntentStatus::Failed);
    assert_eq!(
        checked.failure_reason,
        Some(FailureReason::ClosedByProvider)
    );
}

/// Follows Alipay's silent authorisation (`auth_base`) for an in-Alipay
/// intent.
pub async fn authorise(world: &World, intent: &PaymentIntent) {
    let at = format!("{}/alipay/oauth2/publicAppAuthorize.htm?", world.sandbox);
    let url = world.authorise(intent, &at, "/oauth/alipay/demo?").await;
    assert!(url.contains("scope=auth_base"), "{url}");
}

pub fn trade_no(intent: &PaymentIntent) -> String {
    match &intent.next_action {
        Some(NextAction::InvokeAlipayTradePay { trade_no }) => trade_no.clone(),
        other => panic!("no tradePay: {other:?}"),
    }
}

#[tokio::test]
async fn inside_alipay_the_shopper_authorises_silently_then_pays_with_trade_pay() {
    let world = World::start().await;
    let created = world.session().await;
    let intent = world
        .intent_with(&created, "k", "alipay", in_alipay())
        .await;
    authorise(&world, &intent).await;
    let ready = world.read_intent(&created, &intent.id).await;
    let trade = trade_no(&ready);
    assert_eq!(world.alipay_trade_pay(&trade, "pay").await, "9000");
    assert_eq!(
        world.settled(&created, &intent.id).await.status,
        IntentStatus::Succeeded
    );
}

#[tokio::test]
async fn inside_alipay_a_cancelled_sheet_leaves_the_order_and_another_needs_no_authorisation() {
    let world = World::start().await;
    let created = world.session().await;
    let first = world
        .intent_with(&created, "k1", "alipay", in_alipay())
        .await;
    authorise(&world, &first).await;
    let trade = trade_no(&world.read_intent(&created, &first.id).await);
    assert_eq!(world.alipay_trade_pay(&trade, "cancel").await, "6001");
    assert_eq!(
        world.cancel(&created, &first.id).await.status(),
        StatusCode::OK
    );
    // The shopper's id is kept for the session: straight to tradePay.
    let second = world
        .intent_with(&created, "k2", "alipay", in_alipay())
        .await;
    let trade = trade_no(&second);
    assert_eq!(world.alipay_trade_pay(&trade, "decline").await, "4000");
    let checked = world.read_intent_asking(&created, &second.id, true).await;
    assert_eq!(checked.status, IntentStatus::Failed);
}

#[tokio::test]
async fn inside_wechat_alipay_cannot_be_chosen() {
    let world = World::start().await;
    let created = world.session().await;
    let response = world
        .create_intent(
            &created,
            Some("k"),
            json!({"method": "alipay", "client": crate::world::in_wechat()}),
        )
        .await;
    assert_eq!(
        error_of(response).await,
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::MethodUnavailable
        )
    );
}

/// A ¥128.00 session paid by scanning Alipay's code, once the server knows.
async fn paid_with_alipay(world: &World) -> (CreatedCheckoutSession, PaymentIntent) {
    let created = world.session().await;
    let (intent, code) = alipay_code(world, &created).await;
    assert_eq!(
        world.alipay_scan(&code, "pay").await.status(),
        StatusCode::OK
    );
    let paid = world.settled(&created, &intent.id).await;
    assert_eq!(paid.status, IntentStatus::Succeeded);
    (created, paid)
}

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
async fn a_partial_then_a_full_refund_go_back_through_alipay_and_a_third_is_refused() {
    let world = World::start().await;
    let (_, paid) = paid_with_alipay(&world).await;

    let partial = world
        .refund(
            &paid.id,
            "r1",
            json!({"amount": {"value": 2800, "currency": "CNY"}}),
        )
        .await;
    assert_eq!(partial.status(), StatusCode::CREATED);
    let partial: Value = partial.json().await.unwrap();
    let partial = refund_ended(&world, partial["id"].as_str().unwrap()).await;
    assert_eq!(
        partial["status"],
        serde_json::to_value(RefundStatus::Succeeded).unwrap()
    );

    let rest = world.refund(&paid.id, "r2", json!({})).await;
    assert_eq!(rest.status(), StatusCode::CREATED);
    let rest: Value = rest.json().await.unwrap();
    assert_eq!(rest["amount"]["value"], 10000, "the rest of the payment");
    refund_ended(&world, rest["id"].as_str().unwrap()).await;

    let intent = world.merchant_get(&format!("/intents/{}", paid.id)).await;
    assert_eq!(intent["amount_refunded"]["value"], 12800);
    let third = world
        .refund(
            &paid.id,
            "r3",
            json!({"amount": {"value": 1, "currency": "CNY"}}),
        )
        .await;
    assert_eq!(
        error_of(third).await,
        (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::RefundTooLarge)
    );

    let statement = world
        .http
        .get(format!("{}/alipay/phone", world.sandbox))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        statement.contains("28.00") && statement.contains("100.00"),
        "both refunds reach the shopper: {statement}"
    );
    let events = world.events_after_sweeps(3).await;
    let refunds = events
        .iter()
        .filter(|event| event["type"] == "refund.succeeded")
        .count();
    assert_eq!(refunds, 2, "{events:?}");
}

#[tokio::test]
async fn a_refund_whose_money_moves_later_is_followed_until_alipay_says_it_moved() {
    let world = World::start().await;
    let (_, paid) = paid_with_alipay(&world).await;
    world
        .alipay_control(json!({"refund_fund_change_later": true, "refund_delay_ms": 300}))
        .await;
    let asked = world
        .refund(
            &paid.id,
            "r1",
            json!({"amount": {"value": 500, "currency": "CNY"}}),
        )
        .await;
    let asked: Value = asked.json().await.unwrap();
    assert_eq!(asked["status"], "pending", "no money moved yet: {asked}");
    let ended = refund_ended(&world, asked["id"].as_str().unwrap()).await;
    assert_eq!(ended["status"], "succeeded", "{ended}");
}

#[tokio::test]
async fn a_refund_asked_while_alipay_is_down_is_sent_when_it_is_back() {
    let world = World::start().await;
    let (_, paid) = paid_with_alipay(&world).await;
    world.alipay_control(json!({"outage": true})).await;
    let asked = world
        .refund(
            &paid.id,
            "r1",
            json!({"amount": {"value": 500, "currency": "CNY"}}),
        )
        .await;
    assert_eq!(asked.status(), StatusCode::CREATED, "kept, to send later");
    let asked: Value = asked.json().await.unwrap();
    assert_eq!(asked["status"], "pending");
    world.alipay_control(json!({"outage": false})).await;
    world.advance(120);
    let ended = refund_ended(&world, asked["id"].as_str().unwrap()).await;
    assert_eq!(ended["status"], "succeeded", "{ended}");
}

#[tokio::test]
async fn an_outage_at_alipay_answers_503_and_the_same_key_works_once_it_is_back() {
    let world = World::start().await;
    let created = world.session().await;
    world.alipay_control(json!({"outage": true})).await;
    let body = json!({"method": "alipay", "client": desktop()});
    let refused = world.create_intent(&created, Some("k"), body.clone()).await;
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    world.alipay_control(json!({"outage": false})).await;
    let made = world.create_intent(&created, Some("k"), body).await;
    assert_eq!(made.status(), StatusCode::OK, "{:?}", made.text().await);
}

#[tokio::test]
async fn a_lost_notification_is_found_by_asking_alipay() {
    let world = World::start().await;
    world.alipay_control(json!({"notify": "drop"})).await;
    let created = world.session().await;
    let (intent, code) = alipay_code(&world, &created).await;
    assert_eq!(
        world.alipay_scan(&code, "pay").await.status(),
        StatusCode::OK
    );
    let unheard = world.read_intent(&created, &intent.id).await;
    assert_eq!(unheard.status, IntentStatus::RequiresAction);
    let asked = world.read_intent_asking(&created, &intent.id, true).await;
    assert_eq!(asked.status, IntentStatus::Succeeded);
}

/// Alipay's notification of `fields`, signed with the sandbox's Alipay key
/// as Alipay signs (every field but `sign` and `sign_type`, sorted), here
/// by aws-lc-rs directly rather than by the server's code.
fn signed_notification(fields: &[(&str, &str)]) -> String {
    let pem = include_str!("../../../sandbox/keys/alipay_platform_private.pem");
    let der = BASE64
        .decode(
            pem.lines()
                .filter(|line| !line.starts_with("-----"))
                .collect::<String>(),
        )
        .unwrap();
    let key = RsaKeyPair::from_pkcs8(&der).unwrap();
    let mut sorted: Vec<_> = fields.to_vec();
    sorted.sort();
    let text = sorted
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("&");
    let mut signature = vec![0; key.public_modulus_len()];
    key.sign(
        &RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        text.as_bytes(),
        &mut signature,
    )
    .unwrap();
    let sign = BASE64.encode(signature);
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in fields {
        form.append_pair(name, value);
    }
    form.append_pair("sign_type", "RSA2");
    form.append_pair("sign", &sign);
    form.finish()
}

/// A TRADE_SUCCESS notification of the demo application for `out_trade_no`.
fn paid_notification<'a>(
    out_trade_no: &'a str,
    app_id: &'a str,
    amount: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("notify_time", "2026-12-06 12:00:00"),
        ("notify_type", "trade_status_sync"),
        ("notify_id", "2026120600222120000012345678901234"),
        ("charset", "utf-8"),
        ("version", "1.0"),
        ("app_id", app_id),
        ("seller_id", "2088721000000001"),
        ("out_trade_no", out_trade_no),
        ("trade_no", "2026120622001491561000012345"),
        ("trade_status", "TRADE_SUCCESS"),
        ("total_amount", amount),
        ("buyer_id", "2088722003891562"),
        ("gmt_payment", "2026-12-06 11:59:58"),
    ]
}

async fn notify(world: &World, merchant: &str, body: String) -> String {
    let answer = send(
        world
            .http
            .post(world.url(&format!("/notify/alipay/{merchant}")))
            .header(
                "content-type",
                "application/x-www-form-urlencoded; charset=utf-8",
            )
            .body(body),
    )
    .await;
    assert_eq!(answer.status(), StatusCode::OK, "Alipay reads the body");
    answer.text().await.unwrap()
}

#[tokio::test]
async fn notifications_are_verified_and_only_the_merchant_s_own_are_applied() {
    let world = World::with_config(Some(crate::world::with_other_merchant(""))).await;
    let created = world.session().await;
    let (intent, _) = alipay_code(&world, &created).await;
    let app_id = payment_sandbox::AlipayConfig::demo().app_id;

    let tampered = signed_notification(&paid_notification(&intent.id, &app_id, "128.00"))
        .replace("total_amount=128.00", "total_amount=1.28");
    assert_eq!(notify(&world, "demo", tampered).await, "fail", "tampered");
    // A field sent twice would be an unsigned word.
    let twice = format!(
        "{}&trade_status=TRADE_CLOSED",
        signed_notification(&paid_notification(&intent.id, &app_id, "128.00"))
    );
    assert_eq!(notify(&world, "demo", twice).await, "fail", "a field twice");
    let other_app =
        signed_notification(&paid_notification(&intent.id, "2021000000000001", "128.00"));
    assert_eq!(
        notify(&world, "demo", other_app).await,
        "fail",
        "another application's"
    );
    let genuine = signed_notification(&paid_notification(&intent.id, &app_id, "128.00"));
    assert_eq!(
        notify(&world, "other", genuine.clone()).await,
        "fail",
        "another merchant's order"
    );
    assert_eq!(
        world.read_intent(&created, &intent.id).await.status,
        IntentStatus::RequiresAction,
        "nothing applied"
    );

    // Empty fields are left out of the signed text: added ones are read as
    // absent (this stays the payment it signs, not a refund).
    let padded = format!("{genuine}&out_biz_no=&refund_fee=");
    assert_eq!(notify(&world, "demo", padded).await, "success");
    assert_eq!(
        notify(&world, "demo", genuine).await,
        "success",
        "again, once applied"
    );
    let paid = world.read_intent(&created, &intent.id).await;
    assert_eq!(paid.status, IntentStatus::Succeeded);
    let seen = world.merchant_get(&format!("/intents/{}", intent.id)).await;
    assert_eq!(seen["transaction_id"], "2026120622001491561000012345");
}

#[tokio::test]
async fn a_signed_notification_of_another_amount_sends_the_intent_to_review() {
    let world = World::start().await;
    let created = world.session().await;
    let (intent, _) = alipay_code(&world, &created).await;
    let app_id = payment_sandbox::AlipayConfig::demo().app_id;
    let short = signed_notification(&paid_notification(&intent.id, &app_id, "1.28"));
    assert_eq!(
        notify(&world, "demo", short).await,
        "success",
        "taken, not applied"
    );
    let held = world.merchant_get(&format!("/intents/{}", intent.id)).await;
    assert_eq!(held["status"], "requires_review", "{held}");
    assert_eq!(held["review_reason"], "amount_mismatch");
}

#[tokio::test]
async fn a_code_left_unscanned_and_paid_later_unheard_is_found_and_given_back() {
    let world = World::start().await;
    let created = world.session().await;
    let (left, code) = alipay_code(&world, &created).await;
    // The shopper leaves the code before scanning it: Alipay has no trade
    // to close yet, and the code stays payable until it expires.
    assert_eq!(
        world.cancel(&created, &left.id).await.status(),
        StatusCode::OK
    );
    let wechat = world.qr_intent(&created, "k2").await;
    assert!(world
        .scan(&crate::world::code_of(&wechat), "pay")
        .await
        .status()
        .is_success());
    assert_eq!(
        world.settled(&created, &wechat.id).await.status,
        IntentStatus::Succeeded
    );
    // Then a phone scans the old code and pays, and every notification of
    // it is lost: the server keeps asking Alipay about the code it could
    // not close, finds the payment, and gives it back.
    world.alipay_control(json!({"notify": "drop"})).await;
    assert_eq!(
        world.alipay_scan(&code, "pay").await.status(),
        StatusCode::OK
    );
    let mut found = Value::Null;
    for _ in 0..40 {
        world.advance(30);
        world.sweep().await;
        found = world.merchant_get(&format!("/intents/{}", left.id)).await;
        if found["status"] == "refunded" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(found["status"], "refunded", "{found}");
    assert_eq!(found["amount_refunded"]["value"], 12800);
}

#[tokio::test]
async fn a_wap_form_kept_past_five_minutes_is_signed_again_and_still_opens() {
    let world = World::start().await;
    let created = world.session().await;
    let intent = world.intent_with(&created, "k", "alipay", phone()).await;
    let (_, first) = wap_form(&intent);
    world.advance(6 * 60);
    let renewed = world.read_intent(&created, &intent.id).await;
    let (_, fresh) = wap_form(&renewed);
    assert_ne!(
        field(&fresh, "timestamp"),
        field(&first, "timestamp"),
        "a fresh signature"
    );
    assert_eq!(
        field(&fresh, "biz_content"),
        field(&first, "biz_content"),
        "the same order"
    );
    let token = open_cashier(&world, &renewed).await;
    assert!(!token.is_empty());
}
