//! Sessions, credentials and idempotency: the contract's ground rules.

use contract::{
    Availability, CheckoutSession, CreatedCheckoutSession, ErrorCode, Flow, IntentStatus,
    MethodKind, PaymentIntent, UnavailableReason,
};
use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::json;

use crate::world::{desktop, error_of, order, send, World, MERCHANT_KEY};

#[tokio::test]
async fn a_merchant_opens_a_session_and_each_browser_sees_its_flows() {
    let world = World::start().await;
    let created = world.session().await;
    assert!(created.client_secret.starts_with(&created.session.id));
    let read = |query: &'static str| {
        let world = &world;
        let created = &created;
        async move {
            let response = send(
                world
                    .http
                    .get(world.url(&format!("/checkout-sessions/{}{query}", created.session.id)))
                    .bearer_auth(&created.client_secret),
            )
            .await;
            assert_eq!(response.status(), StatusCode::OK);
            response.json::<CheckoutSession>().await.unwrap()
        }
    };
    let wechat = |session: &CheckoutSession| {
        let method = session
            .methods
            .iter()
            .find(|m| m.kind == MethodKind::WechatPay)
            .unwrap();
        (method.flow, method.availability.clone())
    };
    assert_eq!(
        wechat(&read("?device=desktop").await),
        (Flow::QrCode, Availability::Available)
    );
    assert_eq!(
        wechat(&read("?device=mobile").await),
        (Flow::Redirect, Availability::Available)
    );
    let inside = read("?device=mobile&in_app=wechat").await;
    assert_eq!(
        wechat(&inside),
        (Flow::WechatJsapi, Availability::Available)
    );
    let alipay = inside
        .methods
        .iter()
        .find(|m| m.kind == MethodKind::Alipay)
        .unwrap();
    assert_eq!(
        alipay.availability,
        Availability::unavailable(UnavailableReason::BlockedInWechat)
    );
    let session = read("?device=desktop").await;
    assert_eq!(session.merchant_name, "Demo Tea House");
    assert!(!session.livemode);
}

#[tokio::test]
async fn wrong_credentials_and_bad_orders_are_refused_clearly() {
    let world = World::start().await;
    let anonymous = send(
        world
            .http
            .post(world.url("/checkout-sessions"))
            .json(&order(100)),
    )
    .await;
    assert_eq!(
        error_of(anonymous).await,
        (StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized)
    );
    let wrong_key = send(
        world
            .http
            .post(world.url("/checkout-sessions"))
            .bearer_auth("sk_test_nope")
            .json(&order(100)),
    )
    .await;
    assert_eq!(error_of(wrong_key).await.1, ErrorCode::Unauthorized);
    for bad in [
        order(0),
        order(-5),
        json!({"amount": {"value": 100, "currency": "XXX"}, "reference": "r", "return_url": "https://s/"}),
        json!({"amount": {"value": 100, "currency": "USD"}, "reference": "r", "return_url": "https://s/"}),
        json!({"amount": {"value": 100.5, "currency": "CNY"}, "reference": "r", "return_url": "https://s/"}),
        json!({"amount": {"value": 100, "currency": "CNY"}, "reference": "", "return_url": "https://s/"}),
        json!({"amount": {"value": 100, "currency": "CNY"}, "reference": "r", "return_url": "javascript:alert(1)"}),
        json!({"amount": {"value": 100, "currency": "CNY"}, "reference": "r", "return_url": "https://s/", "expires_in_seconds": 5}),
        json!("not an object"),
    ] {
        let response = world.create_session(bad.clone()).await;
        assert_eq!(
            error_of(response).await,
            (StatusCode::BAD_REQUEST, ErrorCode::InvalidRequest),
            "{bad}"
        );
    }
    let created = world.session().await;
    let other = world.session().await;
    let stolen = send(
        world
            .http
            .get(world.url(&format!("/checkout-sessions/{}", created.session.id)))
            .bearer_auth(&other.client_secret),
    )
    .await;
    assert_eq!(
        error_of(stolen).await.1,
        ErrorCode::Unauthorized,
        "one session's secret opens no other"
    );
}

#[tokio::test]
async fn every_answer_carries_nosniff_no_referrer_and_no_store() {
    let world = World::start().await;
    let created = world.create_session(order(100)).await;
    for (name, value) in [
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("cache-control", "no-store"),
    ] {
        assert_eq!(
            created.headers().get(name).map(|v| v.to_str().unwrap()),
            Some(value),
            "{name}"
        );
    }
    let missing = send(world.http.get(world.url("/nowhere"))).await;
    assert_eq!(missing.headers()["x-content-type-options"], "nosniff");
    assert_eq!(
        error_of(missing).await,
        (StatusCode::NOT_FOUND, ErrorCode::NotFound)
    );
}

#[tokio::test]
async fn a_body_larger_than_the_contract_needs_is_refused_with_its_error() {
    let world = World::start().await;
    let huge = json!({
        "amount": {"value": 100, "currency": "CNY"},
        "reference": "x".repeat(100_000),
        "return_url": "https://shop.example/",
    });
    let response = world.create_session(huge).await;
    assert_eq!(
        error_of(response).await,
        (StatusCode::BAD_REQUEST, ErrorCode::InvalidRequest)
    );
}

#[tokio::test]
async fn an_intent_needs_an_idempotency_key() {
    let world = World::start().await;
    let created = world.session().await;
    let body = json!({"method": "wechat_pay", "client": desktop()});
    let response = world.create_intent(&created, None, body).await;
    assert_eq!(
        error_of(response).await,
        (StatusCode::BAD_REQUEST, ErrorCode::IdempotencyKeyMissing)
    );
}

#[tokio::test]
async fn the_same_key_returns_the_same_intent_and_refuses_another_body() {
    let world = World::start().await;
    let created = world.session().await;
    let body = json!({"method": "wechat_pay", "client": desktop()});
    let first = world
        .create_intent(&created, Some("k1"), body.clone())
        .await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: PaymentIntent = first.json().await.unwrap();
    let again = world.create_intent(&created, Some("k1"), body).await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(again.json::<PaymentIntent>().await.unwrap(), first);
    let other = json!({"method": "wechat_pay", "client": {"device": "mobile"}});
    let reused = world.create_intent(&created, Some("k1"), other).await;
    assert_eq!(
        error_of(reused).await,
        (StatusCode::CONFLICT, ErrorCode::IdempotencyKeyReused)
    );
    assert_eq!(first.status, IntentStatus::RequiresAction);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creates_with_one_key_make_one_intent() {
    let world = World::start().await;
    let created = world.session().await;
    let body = json!({"method": "wechat_pay", "client": desktop()});
    let answers =
        join_all((0..20).map(|_| world.create_intent(&created, Some("same"), body.clone()))).await;
    let mut ids = vec![];
    for answer in answers {
        assert!(answer.status().is_success(), "{}", answer.status());
        ids.push(answer.json::<PaymentIntent>().await.unwrap().id);
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "one intent for one key");
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM payment_intents")
        .fetch_one(&world.database().await)
        .await
        .unwrap();
    assert_eq!(count, 1);
}

#[tokio::test]
async fn a_method_the_merchant_does_not_offer_here_is_refused() {
    // China Mobile Pay waiting for its batch's date.
    let config = payment_server::config::DEFAULT_CONFIG.replace(
        r#"{ type = "china_mobile_pay" }"#,
        r#"{ type = "china_mobile_pay", batch = "wave-2027-01" }"#,
    );
    let config = payment_server::config::Config::parse(&config).expect("a configuration");
    let world = World::with_config(Some(config)).await;
    let created = world.session().await;
    // Not switched on yet, and not a method this contract knows.
    for method in ["china_mobile_pay", "paypal"] {
        let body = json!({"method": method, "client": desktop()});
        let response = world.create_intent(&created, Some(method), body).await;
        assert_eq!(
            error_of(response).await,
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::MethodUnavailable
            ),
            "{method}"
        );
    }
}

#[tokio::test]
async fn one_session_s_secret_opens_none_of_another_s_intents() {
    let world = World::start().await;
    let created = world.session().await;
    let intent = world.qr_intent(&created, "key-1").await;
    let other = world.session().await;
    let read = send(
        world
            .http
            .get(world.url(&format!("/intents/{}", intent.id)))
            .bearer_auth(&other.client_secret),
    )
    .await;
    assert_eq!(
        error_of(read).await,
        (StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized)
    );
    assert_eq!(
        error_of(world.cancel(&other, &intent.id).await).await,
        (StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized)
    );
    let create = send(
        world
            .http
            .post(world.url(&format!(
                "/checkout-sessions/{}/intents",
                created.session.id
            )))
            .bearer_auth(&other.client_secret)
            .header("Idempotency-Key", "key-2")
            .json(&json!({"method": "wechat_pay", "client": desktop()})),
    )
    .await;
    assert_eq!(
        error_of(create).await,
        (StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized)
    );
    assert_eq!(
        world.read_intent(&created, &intent.id).await.status,
        IntentStatus::RequiresAction,
        "the intent is untouched"
    );
}

#[tokio::test]
async fn a_session_with_under_a_minute_left_or_past_its_end_takes_no_new_payment() {
    let world = World::start().await;
    let created = world.session().await;
    let body = json!({"method": "wechat_pay", "client": desktop()});
    // 30 s left: too little for WeChat Pay to take an order.
    world.advance(created.session.expires_at - world.state.now() - 30);
    let response = world
        .create_intent(&created, Some("k1"), body.clone())
        .await;
    assert_eq!(
        error_of(response).await,
        (StatusCode::GONE, ErrorCode::SessionExpired)
    );
    world.advance(60);
    let response = world.create_intent(&created, Some("k2"), body).await;
    assert_eq!(
        error_of(response).await,
        (StatusCode::GONE, ErrorCode::SessionExpired)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_retried_create_session_with_its_key_opens_one_session() {
    let world = World::start().await;
    let create = |key: &'static str, body: serde_json::Value, secret: &'static str| {
        let world = &world;
        async move {
            send(
                world
                    .http
                    .post(world.url("/checkout-sessions"))
                    .bearer_auth(secret)
                    .header("Idempotency-Key", key)
                    .json(&body),
            )
            .await
        }
    };
    // A merchant's server retries after a lost answer, several times at
    // once: one session, the same client secret each time.
    let (a, b, c) = tokio::join!(
        create("order-42", order(12800), MERCHANT_KEY),
        create("order-42", order(12800), MERCHANT_KEY),
        create("order-42", order(12800), MERCHANT_KEY),
    );
    let mut statuses = vec![a.status(), b.status(), c.status()];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::OK, StatusCode::OK, StatusCode::CREATED],
        "one made it, the others answer it"
    );
    let answers: Vec<CreatedCheckoutSession> = vec![
        a.json().await.unwrap(),
        b.json().await.unwrap(),
        c.json().await.unwrap(),
    ];
    assert!(answers
        .iter()
        .all(|answer| answer.session.id == answers[0].session.id));
    assert!(answers
        .iter()
        .all(|answer| answer.client_secret == answers[0].client_secret));
    // The secret it answers opens the session.
    let intent = world.qr_intent(&answers[0], "pay").await;
    assert_eq!(intent.session_id, answers[0].session.id);

    let other_body = create("order-42", order(100), MERCHANT_KEY).await;
    assert_eq!(
        error_of(other_body).await,
        (StatusCode::CONFLICT, ErrorCode::IdempotencyKeyReused)
    );
    let without_key = world.create_session(order(12800)).await;
    assert_eq!(without_key.status(), StatusCode::CREATED);
    let created: CreatedCheckoutSession = without_key.json().await.unwrap();
    assert_ne!(created.session.id, answers[0].session.id);
    let sessions: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM checkout_sessions")
        .fetch_one(&world.database().await)
        .await
        .unwrap();
    assert_eq!(sessions, 2);
    // The stored row holds no client secret a database reader could use.
    let sealed: String = sqlx::query_scalar(
        "SELECT client_secret_sealed FROM checkout_sessions WHERE idempotency_key = 'order-42'",
    )
    .fetch_one(&world.database().await)
    .await
    .unwrap();
    assert!(!sealed.contains(&answers[0].client_secret));
}

#[tokio::test]
async fn the_first_screen_is_the_element_s_content_for_this_shopper_s_device_and_language() {
    let world = World::start().await;
    let created = world.session().await;
    let first_screen = |query: &'static str, user_agent: &'static str, language: &'static str| {
        let world = &world;
        let created = &created;
        async move {
            send(
                world
                    .http
                    .get(world.url(&format!(
                        "/checkout-sessions/{}/first-screen{query}",
                        created.session.id
                    )))
                    .bearer_auth(&created.client_secret)
                    .header("User-Agent", user_agent)
                    .header("Accept-Language", language),
            )
            .await
        }
    };
    const DESKTOP: &str =
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/156.0 Safari/537.36";
    const IN_WECHAT: &str =
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit Mobile MicroMessenger/8.0.49";

    let answer = first_screen("", DESKTOP, "zh-TW,zh;q=0.9,en;q=0.8").await;
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(answer.headers()["content-type"], "text/html; charset=utf-8");
    let style_src = answer.headers()["payment-selector-style-src"]
        .to_str()
        .unwrap()
        .to_owned();
    let html = answer.text().await.unwrap();
    // The styles inline, allowed by the source the answer names (which the
    // server's own pages allow: static_files' tests).
    let (styles, _) = html
        .strip_prefix(r#"<template shadowrootmode="open"><style>"#)
        .and_then(|rest| rest.split_once("</style>"))
        .expect("inline styles first");
    use base64::Engine;
    use sha2::Digest;
    let digest = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(styles));
    assert_eq!(style_src, format!("'sha256-{digest}'"));
    // Drawn in the shopper's language, with the session's amount and the
    // desktop's methods as radio buttons.
    assert!(
        html.contains(r#"lang="zh-TW""#) && html.contains("訂單交易金額"),
        "{html}"
    );
    assert!(html.contains("¥128.00"), "{html}");
    assert!(html.contains(r#"type="radio""#) && html.contains(r#"value="wechat_pay""#));
    // Then the session this browser reads, with its client secret, inline.
    let (_, inline) = html
        .split_once(r#"</template><script type="application/json">"#)
        .expect("the session follows the template");
    let inline = inline
        .strip_suffix("</script>")
        .expect("and ends the answer");
    let inline: CreatedCheckoutSession = serde_json::from_str(inline).unwrap();
    assert_eq!(inline.client_secret, created.client_secret);
    let wechat = |session: &CheckoutSession| {
        session
            .methods
            .iter()
            .find(|m| m.kind == MethodKind::WechatPay)
            .map(|m| m.flow)
    };
    assert_eq!(wechat(&inline.session), Some(Flow::QrCode));

    // A linked stylesheet, where the page says it serves it.
    let linked = first_screen("?stylesheet=/ps/payment-selector.css", DESKTOP, "en").await;
    assert!(linked.text().await.unwrap().starts_with(
        r#"<template shadowrootmode="open"><link rel="stylesheet" href="/ps/payment-selector.css">"#
    ));

    // Inside WeChat: its in-app flow, in the language asked for.
    let html = first_screen("?locale=en", IN_WECHAT, "zh-CN")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Order transaction amount"), "{html}");
    let inline = html
        .split_once(r#"<script type="application/json">"#)
        .unwrap()
        .1;
    let inline: CreatedCheckoutSession =
        serde_json::from_str(inline.strip_suffix("</script>").unwrap()).unwrap();
    assert_eq!(wechat(&inline.session), Some(Flow::WechatJsapi));

    // A language it does not speak, or a stylesheet that would break out of
    // its attribute, is refused; without the client secret, nothing.
    for query in [
        "?locale=fr",
        "?stylesheet=%22%3E%3Cscript%3E",
        "?stylesheet=//evil.example/x.css",
        "?stylesheet=/%5Cevil.example/x.css",
    ] {
        let answer = first_screen(query, DESKTOP, "en").await;
        assert_eq!(
            error_of(answer).await,
            (StatusCode::BAD_REQUEST, ErrorCode::InvalidRequest),
            "{query}"
        );
    }
    let anonymous = send(world.http.get(world.url(&format!(
        "/checkout-sessions/{}/first-screen",
        created.session.id
    ))))
    .await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}
