//! WeChat Pay on every device, server and emulator speaking API v3: a QR
//! code on a desktop, the H5 page on a phone, web authorisation and the JS
//! bridge inside WeChat.

use aws_lc_rs::signature::{UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use contract::{FailureReason, FormMethod, IntentStatus, NextAction, PaymentIntent};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::world::{in_wechat, phone, World};

#[tokio::test]
async fn a_desktop_shopper_scans_the_code_and_the_notification_pays_it() {
    let world = World::start().await;
    let created = world.session().await;
    let intent = world.qr_intent(&created, "k").await;
    let Some(NextAction::DisplayQrCode {
        payload,
        expires_at,
    }) = &intent.next_action
    else {
        panic!("{intent:?}");
    };
    assert!(payload.starts_with("weixin://wxpay/bizpayurl?pr="));
    assert!(
        *expires_at <= intent.expires_at,
        "the code ends with the order"
    );
    assert!(world.scan(payload, "pay").await.status().is_success());
    assert_eq!(
        world.settled(&created, &intent.id).await.status,
        IntentStatus::Succeeded
    );
}

/// The H5 URL of a phone intent, and its query.
fn h5_url(intent: &PaymentIntent) -> (String, Vec<(String, String)>) {
    let Some(NextAction::Redirect {
        url,
        method,
        fields,
    }) = &intent.next_action
    else {
        panic!("not a redirect: {intent:?}");
    };
    assert_eq!(*method, FormMethod::Get);
    assert!(fields.is_empty());
    let parsed = url::Url::parse(url).unwrap();
    let query = parsed.query_pairs().into_owned().collect();
    (url.clone(), query)
}

fn field<'a>(query: &'a [(String, String)], name: &str) -> &'a str {
    query
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
        .unwrap_or_else(|| panic!("no {name} in {query:?}"))
}

#[tokio::test]
async fn a_phone_browser_pays_on_wechat_s_h5_page_and_comes_back_to_check() {
    let world = World::start().await;
    let created = world.session().await;
    let intent = world.intent_for(&created, "k", phone()).await;
    let (url, query) = h5_url(&intent);
    assert!(
        url.starts_with(&format!("{}/wechat-pay/h5/pay?prepay_id=", world.sandbox)),
        "{url}"
    );
    let back = field(&query, "redirect_url");
    assert_eq!(
        back,
        format!("https://shop.example/thanks?payment_intent={}", intent.id)
    );

    let page = world
        .http
        .get(&url)
        .header("Referer", "https://shop.example/")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        page.text().await.unwrap().contains("128.00"),
        "the amount on WeChat's page"
    );
    let paid = world
        .http
        .post(format!("{}/wechat-pay/h5/pay", world.sandbox))
        .form(&[
            ("prepay_id", field(&query, "prepay_id")),
            ("package", field(&query, "package")),
            ("redirect_url", back),
            ("outcome", "pay"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(paid.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        paid.headers()["location"],
        back,
        "back to the shop, which asks the server"
    );
    assert_eq!(
        world.settled(&created, &intent.id).await.status,
        IntentStatus::Succeeded
    );
}

#[tokio::test]
async fn a_phone_shopper_who_declines_on_the_h5_page_is_told_so() {
    let world = World::start().await;
    let created = world.session().await;
    let intent = world.intent_for(&created, "k", phone()).await;
    let (_, query) = h5_url(&intent);
    let declined = world
        .http
        .post(format!("{}/wechat-pay/h5/pay", world.sandbox))
        .form(&[
            ("prepay_id", field(&query, "prepay_id")),
            ("package", field(&query, "package")),
            ("redirect_url", field(&query, "redirect_url")),
            ("outcome", "decline"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(declined.status(), StatusCode::SEE_OTHER);
    let checked = world.read_intent_asking(&created, &intent.id, true).await;
    assert_eq!(checked.status, IntentStatus::Failed);
    assert_eq!(checked.failure_reason, Some(FailureReason::Declined));
}

#[tokio::test]
async fn an_h5_url_is_asked_for_again_rather_than_replayed_after_four_minutes() {
    let world = World::start().await;
    let created = world.session().await;
    let intent = world.intent_for(&created, "k", phone()).await;
    let (first, _) = h5_url(&intent);
    world.advance(2 * 60);
    let (same, _) = h5_url(&world.read_intent(&created, &intent.id).await);
    assert_eq!(same, first, "still fresh");
    world.advance(3 * 60);
    let (fresh, query) = h5_url(&world.read_intent(&created, &intent.id).await);
    assert_ne!(fresh, first, "a five-minute link is not replayed");
    let page = world.http.get(&fresh).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK, "the fresh one opens");
    assert!(field(&query, "prepay_id").starts_with("wx"));
}

/// Follows WeChat's web authorisation (`snsapi_base`) for an in-WeChat
/// intent.
pub async fn authorise(world: &World, intent: &PaymentIntent) {
    let at = format!("{}/wechat-open/connect/oauth2/authorize?", world.sandbox);
    let url = world
        .authorise(intent, &at, "/oauth/wechat-pay/demo?")
        .await;
    assert!(
        url.contains("scope=snsapi_base") && url.ends_with("#wechat_redirect"),
        "{url}"
    );
}

/// The bridge's arguments, checked as WeChat's client checks them.
pub fn bridge_params(intent: &PaymentIntent) -> Value {
    let Some(NextAction::InvokeWechatJsapi { params }) = &intent.next_action else {
        panic!("no bridge arguments: {intent:?}");
    };
    assert_eq!(params.sign_type, "RSA");
    assert!(params.package.starts_with("prepay_id=wx"));
    let message = format!(
        "{}\n{}\n{}\n{}\n",
        params.app_id, params.time_stamp, params.nonce_str, params.package
    );
    let pem = payment_sandbox::WechatConfig::demo().merchant_public_key_pem;
    let spki = BASE64
        .decode(
            pem.lines()
                .filter(|l| !l.starts_with("-----"))
                .collect::<String>(),
        )
        .unwrap();
    // The RSAPublicKey is the SPKI's last 270 bytes for a 2048-bit key.
    let key = &spki[spki.len() - 270..];
    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, key)
        .verify(
            message.as_bytes(),
            &BASE64.decode(&params.pay_sign).unwrap(),
        )
        .expect("paySign verifies with the merchant's key");
    serde_json::to_value(params).unwrap()
}

/// What WeChat's client says after `getBrandWCPayRequest`.
pub async fn bridge(world: &World, params: &Value, outcome: &str) -> String {
    let mut request = params.clone();
    request["outcome"] = json!(outcome);
    let answer: Value = world
        .http
        .post(format!("{}/phone/jsapi", world.sandbox))
        .json(&request)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["err_msg"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn inside_wechat_the_shopper_authorises_then_pays_through_the_bridge() {
    let world = World::start().await;
    let created = world.session().await;
    let intent = world.intent_for(&created, "k", in_wechat()).await;
    authorise(&world, &intent).await;
    let ready = world.read_intent(&created, &intent.id).await;
    let params = bridge_params(&ready);
    assert_eq!(
        bridge(&world, &params, "pay").await,
        "get_brand_wcpay_request:ok"
    );
    assert_eq!(
        world.settled(&created, &intent.id).await.status,
        IntentStatus::Succeeded
    );
}

#[tokio::test]
async fn a_shopper_who_closes_wechat_s_sheet_chooses_again_without_authorising_twice() {
    let world = World::start().await;
    let created = world.session().await;
    let first = world.intent_for(&created, "k1", in_wechat()).await;
    authorise(&world, &first).await;
    let params = bridge_params(&world.read_intent(&created, &first.id).await);
    assert_eq!(
        bridge(&world, &params, "cancel").await,
        "get_brand_wcpay_request:cancel"
    );
    assert_eq!(
        world.cancel(&created, &first.id).await.status(),
        StatusCode::OK
    );

    let second = world.intent_for(&created, "k2", in_wechat()).await;
    let params = bridge_params(&second);
    assert_eq!(
        bridge(&world, &params, "decline").await,
        "get_brand_wcpay_request:fail"
    );
    let checked = world.read_intent_asking(&created, &second.id, true).await;
    assert_eq!(checked.failure_reason, Some(FailureReason::Declined));
}
