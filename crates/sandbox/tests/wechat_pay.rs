//! WeChat Pay API v3 against the emulator over real HTTP: a merchant that
//! signs with the merchant key and checks every answer with the platform
//! key, a shopper on the emulated phone and cashier, a notify endpoint.

mod common;

use std::time::{Duration, Instant};

use common::{encode, Answer, NotifyReceiver, Sandbox, APPID, APP_SECRET, MCHID};
use payment_sandbox::SandboxConfig;
use serde_json::{json, Value};

const NATIVE: &str = "/v3/pay/transactions/native";
const H5: &str = "/v3/pay/transactions/h5";
const JSAPI: &str = "/v3/pay/transactions/jsapi";

fn close_path(out_trade_no: &str) -> String {
    format!("/v3/pay/transactions/out-trade-no/{out_trade_no}/close")
}

#[tokio::test]
async fn unsigned_badly_signed_and_stale_requests_are_refused() {
    let sandbox = Sandbox::start().await;
    let body = sandbox
        .prepay(
            "native",
            "order_sig_1",
            100,
            "https://merchant.example/notify",
        )
        .to_string();
    let now = sandbox.now();

    let unsigned = sandbox.send("POST", NATIVE, &body, None).await;
    unsigned.assert_error(401, "SIGN_ERROR");

    let tampered = sandbox.authorization(
        "POST",
        &format!("/wechat-pay{NATIVE}"),
        now,
        &body.replace("100", "1"),
    );
    sandbox
        .send("POST", NATIVE, &body, Some(tampered))
        .await
        .assert_error(401, "SIGN_ERROR");

    for stale in [now - 400, now + 400] {
        let authorization =
            sandbox.authorization("POST", &format!("/wechat-pay{NATIVE}"), stale, &body);
        sandbox
            .send("POST", NATIVE, &body, Some(authorization))
            .await
            .assert_error(401, "SIGN_ERROR");
    }

    // Signed, but with no nonce, or a timestamp no clock is near (the
    // skew must not overflow: 401, not a dropped connection).
    let long_nonce = "n".repeat(33);
    for (nonce, timestamp) in [
        ("", now.to_string()),
        (long_nonce.as_str(), now.to_string()),
        ("abc", i64::MIN.to_string()),
    ] {
        let signature = sandbox.merchant_sign(&format!(
            "POST\n/wechat-pay{NATIVE}\n{timestamp}\n{nonce}\n{body}\n"
        ));
        let authorization = format!(
            "WECHATPAY2-SHA256-RSA2048 mchid=\"{MCHID}\",nonce_str=\"{nonce}\",timestamp=\"{timestamp}\",serial_no=\"{}\",signature=\"{signature}\"",
            sandbox.config.wechat.merchant_serial
        );
        sandbox
            .send("POST", NATIVE, &body, Some(authorization))
            .await
            .assert_error(401, "SIGN_ERROR");
    }

    let other_path = sandbox.authorization("POST", &format!("/wechat-pay{H5}"), now, &body);
    sandbox
        .send("POST", NATIVE, &body, Some(other_path))
        .await
        .assert_error(401, "SIGN_ERROR");

    let good = sandbox.authorization("POST", &format!("/wechat-pay{NATIVE}"), now, &body);
    let wrong_serial = good.replace(&sandbox.config.wechat.merchant_serial, "0000000000000000");
    sandbox
        .send("POST", NATIVE, &body, Some(wrong_serial))
        .await
        .assert_error(401, "SIGN_ERROR");
    let wrong_mchid = good.replace(&format!("mchid=\"{MCHID}\""), "mchid=\"1900000002\"");
    sandbox
        .send("POST", NATIVE, &body, Some(wrong_mchid))
        .await
        .assert_error(401, "SIGN_ERROR");
    let wrong_scheme = good.replace("WECHATPAY2-SHA256-RSA2048", "WECHATPAY2-SM2-WITH-SM3");
    sandbox
        .send("POST", NATIVE, &body, Some(wrong_scheme))
        .await
        .assert_error(401, "SIGN_ERROR");

    // The fields in PHP's order are fine; a signature over the path after
    // the base URL, not the one the host received, is not.
    let fields: Vec<&str> = good
        .trim_start_matches("WECHATPAY2-SHA256-RSA2048 ")
        .split(',')
        .collect();
    let php_order = format!(
        "WECHATPAY2-SHA256-RSA2048 {},{},{},{},{}",
        fields[0], fields[3], fields[2], fields[1], fields[4]
    );
    let answer = sandbox.send("POST", NATIVE, &body, Some(php_order)).await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    let short_path = sandbox.authorization(
        "GET",
        "/v3/pay/transactions/out-trade-no/order_sig_1?mchid=1900000001",
        now,
        "",
    );
    sandbox
        .send(
            "GET",
            "/v3/pay/transactions/out-trade-no/order_sig_1?mchid=1900000001",
            "",
            Some(short_path),
        )
        .await
        .assert_error(401, "SIGN_ERROR");
}

#[tokio::test]
async fn a_native_order_is_paid_by_a_scan_and_notified() {
    let sandbox = Sandbox::start().await;
    let receiver = NotifyReceiver::start().await;
    let code_url = sandbox.create_native("order_native_1", &receiver.url).await;
    assert!(
        code_url.starts_with("weixin://wxpay/bizpayurl?pr="),
        "{code_url}"
    );

    let waiting = sandbox.query("order_native_1").await;
    assert_eq!(waiting.status, 200);
    let waiting = waiting.json();
    assert_eq!(waiting["trade_state"], "NOTPAY");
    assert_eq!(waiting["trade_type"], "NATIVE");
    assert_eq!(waiting["appid"], APPID);
    assert_eq!(waiting["mchid"], MCHID);
    assert_eq!(waiting["amount"]["total"], 12800);
    assert!(waiting.get("transaction_id").is_none());
    assert!(waiting.get("success_time").is_none());

    let (status, scanned) = sandbox.scan(&code_url, "pay").await;
    assert_eq!(
        (status, scanned),
        (200, json!({ "trade_state": "SUCCESS" }))
    );

    let paid = sandbox.query("order_native_1").await.json();
    assert_eq!(paid["trade_state"], "SUCCESS");
    assert_eq!(paid["trade_state_desc"], "支付成功");
    let transaction_id = paid["transaction_id"].as_str().unwrap().to_owned();
    assert_eq!(transaction_id.len(), 28);
    assert!(paid["success_time"].as_str().unwrap().ends_with("+08:00"));
    assert_eq!(paid["amount"]["payer_total"], 12800);
    assert!(paid["payer"]["openid"].as_str().unwrap().starts_with('o'));

    let by_id = sandbox
        .call(
            "GET",
            &format!("/v3/pay/transactions/id/{transaction_id}?mchid={MCHID}"),
            None,
        )
        .await;
    assert_eq!(by_id.json()["out_trade_no"], "order_native_1");

    let notifications = receiver.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(notifications.len(), 1, "one notification");
    let transaction = sandbox.open_notification(&notifications[0]);
    assert_eq!(transaction["out_trade_no"], "order_native_1");
    assert_eq!(transaction["transaction_id"], transaction_id.as_str());
    assert_eq!(transaction["trade_state"], "SUCCESS");
    assert_eq!(transaction["trade_type"], "NATIVE");
    assert_eq!(transaction["amount"]["total"], 12800);
    assert_eq!(transaction["amount"]["currency"], "CNY");
    assert_eq!(transaction, paid, "the resource is the query's transaction");

    let (status, again) = sandbox.scan(&code_url, "pay").await;
    assert_eq!((status, again["code"].as_str()), (409, Some("ORDERPAID")));
    let (status, _) = sandbox
        .scan("weixin://wxpay/bizpayurl?pr=unknown", "pay")
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_decline_shows_only_in_a_query() {
    let sandbox = Sandbox::start().await;
    let receiver = NotifyReceiver::start().await;
    let code_url = sandbox
        .create_native("order_decline_1", &receiver.url)
        .await;
    let (status, declined) = sandbox.scan(&code_url, "decline").await;
    assert_eq!(
        (status, declined),
        (200, json!({ "trade_state": "PAYERROR" }))
    );
    let queried = sandbox.query("order_decline_1").await.json();
    assert_eq!(queried["trade_state"], "PAYERROR");
    assert!(queried.get("transaction_id").is_none());
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        receiver.received().is_empty(),
        "WeChat does not notify declines"
    );
}

#[tokio::test]
async fn closing_orders() {
    let sandbox = Sandbox::start().await;
    let receiver = NotifyReceiver::start().await;
    let code_url = sandbox.create_native("order_close_1", &receiver.url).await;
    let closed = sandbox
        .call(
            "POST",
            &close_path("order_close_1"),
            Some(&json!({ "mchid": MCHID })),
        )
        .await;
    assert_eq!(closed.status, 204);
    assert!(closed.body.is_empty());
    let (status, refused) = sandbox.scan(&code_url, "pay").await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (409, Some("ORDER_CLOSED"))
    );
    assert_eq!(
        sandbox.query("order_close_1").await.json()["trade_state"],
        "CLOSED"
    );
    let again = sandbox
        .call(
            "POST",
            &close_path("order_close_1"),
            Some(&json!({ "mchid": MCHID })),
        )
        .await;
    assert_eq!(again.status, 204, "closing twice is fine");
    sandbox
        .call(
            "POST",
            NATIVE,
            Some(&sandbox.prepay("native", "order_close_1", 12800, &receiver.url)),
        )
        .await
        .assert_error(400, "ORDER_CLOSED");

    // WeChat Pay never holds a Native order at USERPAYING: without the
    // fault, a held scan is refused and the order stays payable as before.
    let code_url = sandbox
        .create_native("order_close_held", &receiver.url)
        .await;
    let (status, refused) = sandbox.scan(&code_url, "hold").await;
    assert_eq!((status, refused["code"].as_str()), (409, Some("FAULT_OFF")));
    assert_eq!(
        sandbox.query("order_close_held").await.json()["trade_state"],
        "NOTPAY"
    );
    // Under the named fault, a phone at the confirmation when the order is
    // closed (twice, as a retrying merchant may) still pays: a closed order
    // paid anyway, the second payment merchants must give back.
    sandbox.control(json!({ "pay_after_close": true })).await;
    assert_eq!(sandbox.scan(&code_url, "hold").await.0, 200);
    for _ in 0..2 {
        let closed = sandbox
            .call(
                "POST",
                &close_path("order_close_held"),
                Some(&json!({ "mchid": MCHID })),
            )
            .await;
        assert_eq!(closed.status, 204);
    }
    assert_eq!(sandbox.scan(&code_url, "pay").await.0, 200);
    assert_eq!(
        sandbox.query("order_close_held").await.json()["trade_state"],
        "SUCCESS"
    );

    let code_url = sandbox.create_native("order_close_2", &receiver.url).await;
    sandbox.scan(&code_url, "pay").await;
    sandbox
        .call(
            "POST",
            &close_path("order_close_2"),
            Some(&json!({ "mchid": MCHID })),
        )
        .await
        .assert_error(400, "ORDERPAID");

    sandbox
        .call(
            "POST",
            &close_path("order_unknown"),
            Some(&json!({ "mchid": MCHID })),
        )
        .await
        .assert_error(404, "ORDER_NOT_EXIST");
    let unknown = sandbox.query("order_unknown").await;
    unknown.assert_error(404, "ORDER_NOT_EXIST");
    assert_eq!(unknown.json()["message"], "订单不存在");
}

#[tokio::test]
async fn repeated_creates_answer_the_same_order() {
    let sandbox = Sandbox::start().await;
    let receiver = NotifyReceiver::start().await;
    let body = sandbox.prepay("native", "order_repeat_1", 12800, &receiver.url);
    let first = sandbox.call("POST", NATIVE, Some(&body)).await.json();
    let second = sandbox.call("POST", NATIVE, Some(&body)).await.json();
    assert_eq!(first, second);

    // Without time_expire the order's own deadline is not part of the ask:
    // a retry a while later is still the same order.
    let mut open_ended = sandbox.prepay("native", "order_repeat_2", 12800, &receiver.url);
    open_ended.as_object_mut().unwrap().remove("time_expire");
    let first_open = sandbox.call("POST", NATIVE, Some(&open_ended)).await.json();
    sandbox.clock.advance(Duration::from_secs(10));
    let again = sandbox.call("POST", NATIVE, Some(&open_ended)).await;
    assert_eq!(again.status, 200, "{}", again.text());
    assert_eq!(again.json(), first_open);

    let mut other = body.clone();
    other["amount"]["total"] = json!(12900);
    sandbox
        .call("POST", NATIVE, Some(&other))
        .await
        .assert_error(400, "INVALID_REQUEST");
    sandbox
        .call(
            "POST",
            H5,
            Some(&sandbox.prepay("h5", "order_repeat_1", 12800, &receiver.url)),
        )
        .await
        .assert_error(400, "INVALID_REQUEST");

    sandbox
        .scan(first["code_url"].as_str().unwrap(), "pay")
        .await;
    sandbox
        .call("POST", NATIVE, Some(&body))
        .await
        .assert_error(400, "ORDERPAID");
}

#[tokio::test]
async fn bad_bodies_are_param_errors() {
    let sandbox = Sandbox::start().await;
    let notify = "https://merchant.example/notify/wechat-pay";
    let base = sandbox.prepay("native", "order_param_1", 100, notify);
    let with = |path: &[&str], value: Value| {
        let mut body = base.clone();
        let mut slot = &mut body;
        for key in &path[..path.len() - 1] {
            slot = &mut slot[*key];
        }
        slot[path[path.len() - 1]] = value;
        body
    };
    let cases = [
        with(
            &["time_expire"],
            json!(sandbox.wechat_time(sandbox.now() + 30)),
        ),
        with(&["time_expire"], json!("tomorrow")),
        with(&["amount", "total"], json!(0)),
        with(&["amount", "total"], json!(1.5)),
        with(&["amount", "currency"], json!("USD")),
        with(&["out_trade_no"], json!("abc")),
        with(&["out_trade_no"], json!("order#1")),
        with(&["description"], json!("")),
        with(&["description"], json!("茶".repeat(128))),
        with(&["notify_url"], json!("ftp://merchant.example/notify")),
        with(
            &["notify_url"],
            json!("https://merchant.example/notify?order=1"),
        ),
        with(&["mchid"], json!("1900000002")),
        json!({ "appid": APPID }),
    ];
    for body in &cases {
        sandbox
            .call("POST", NATIVE, Some(body))
            .await
            .assert_error(400, "PARAM_ERROR");
    }
    let not_json =
        sandbox.authorization("POST", &format!("/wechat-pay{NATIVE}"), sandbox.now(), "{");
    sandbox
        .send("POST", NATIVE, "{", Some(not_json))
        .await
        .assert_error(400, "PARAM_ERROR");
    sandbox
        .call(
            "POST",
            NATIVE,
            Some(&with(&["appid"], json!("wx0000000000000000"))),
        )
        .await
        .assert_error(400, "APPID_MCHID_NOT_MATCH");

    let h5_without_scene = sandbox.prepay("native", "order_param_2", 100, notify);
    sandbox
        .call("POST", H5, Some(&h5_without_scene))
        .await
        .assert_error(400, "PARAM_ERROR");
    let jsapi_without_payer = sandbox.prepay("native", "order_param_3", 100, notify);
    sandbox
        .call("POST", JSAPI, Some(&jsapi_without_payer))
        .await
        .assert_error(400, "PARAM_ERROR");
    let mut jsapi_stranger = jsapi_without_payer.clone();
    jsapi_stranger["payer"] = json!({ "openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o" });
    sandbox
        .call("POST", JSAPI, Some(&jsapi_stranger))
        .await
        .assert_error(400, "PARAM_ERROR");

    sandbox
        .call(
            "GET",
            "/v3/pay/transactions/out-trade-no/order_param_1",
            None,
        )
        .await
        .assert_error(400, "PARAM_ERROR");
}

#[tokio::test]
async fn an_order_closes_at_its_time_expire() {
    let sandbox = Sandbox::start().await;
    let mut body = sandbox.prepay(
        "native",
        "order_expire_1",
        100,
        "https://merchant.example/notify",
    );
    body["time_expire"] = json!(sandbox.wechat_time(sandbox.now() + 90));
    let code_url = sandbox.call("POST", NATIVE, Some(&body)).await.json()["code_url"]
        .as_str()
        .unwrap()
        .to_owned();
    sandbox.clock.advance(Duration::from_secs(91));
    assert_eq!(
        sandbox.query("order_expire_1").await.json()["trade_state"],
        "CLOSED"
    );
    let (status, refused) = sandbox.scan(&code_url, "pay").await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (409, Some("ORDER_CLOSED"))
    );
}

/// Creates an H5 order; its `h5_url`.
async fn create_h5(sandbox: &Sandbox, out_trade_no: &str, notify_url: &str) -> String {
    let answer = sandbox
        .call(
            "POST",
            H5,
            Some(&sandbox.prepay("h5", out_trade_no, 12800, notify_url)),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    answer.json()["h5_url"].as_str().unwrap().to_owned()
}

async fn get_page(sandbox: &Sandbox, url: &str, referer: Option<&str>) -> (u16, String) {
    let mut request = sandbox.http.get(url);
    if let Some(referer) = referer {
        request = request.header("Referer", referer);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

/// The value of a hidden input on a page.
fn hidden(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {page}"))
        + marker.len();
    let end = page[start..].find('"').unwrap() + start;
    page[start..end].replace("&amp;", "&")
}

#[tokio::test]
async fn an_h5_order_is_paid_on_the_cashier_and_returns() {
    let sandbox = Sandbox::start().await;
    let receiver = NotifyReceiver::start().await;
    let h5_url = create_h5(&sandbox, "order_h5_1", &receiver.url).await;
    assert!(
        h5_url.starts_with(&format!("{}/wechat-pay/h5/pay?prepay_id=wx", sandbox.url)),
        "{h5_url}"
    );
    assert!(h5_url.contains("&package="));

    let return_url = "http://127.0.0.1:9/shop/return?intent=pi_1&x=a b";
    let (status, page) = get_page(
        &sandbox,
        &format!("{h5_url}&redirect_url={}", encode(return_url)),
        None,
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("<title>微信支付 · WeChat Pay (sandbox)</title>"));
    assert!(page.contains("128.00"));
    assert!(page.contains("Demo Tea House - Longjing 250 g"));
    for testid in ["h5-pay", "h5-decline", "h5-cancel"] {
        assert!(
            page.contains(&format!("data-testid=\"{testid}\"")),
            "{testid}"
        );
    }
    assert!(!page.contains("style=\""), "no inline styles");
    assert!(!page.contains("src=\"http"), "no external assets");

    let response = sandbox
        .http
        .post(format!("{}/wechat-pay/h5/pay", sandbox.url))
        .form(&[
            ("prepay_id", hidden(&page, "prepay_id")),
            ("package", hidden(&page, "package")),
            ("redirect_url", hidden(&page, "redirect_url")),
            ("outcome", "pay".to_owned()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], return_url);

    let paid = sandbox.query("order_h5_1").await.json();
    assert_eq!(paid["trade_state"], "SUCCESS");
    assert_eq!(paid["trade_type"], "MWEB");
    let notifications = receiver.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(
        sandbox.open_notification(&notifications[0])["out_trade_no"],
        "order_h5_1"
    );

    let (status, _) = get_page(&sandbox, &h5_url, None).await;
    assert_eq!(status, 409, "a paid order's cashier says so");
    sandbox
        .call(
            "POST",
            H5,
            Some(&sandbox.prepay("h5", "order_h5_1", 12800, &receiver.url)),
        )
        .await
        .assert_error(400, "ORDERPAID");
}

#[tokio::test]
async fn h5_cancel_and_decline() {
    let sandbox = Sandbox::start().await;
    let h5_url = create_h5(&sandbox, "order_h5_2", "https://merchant.example/notify").await;
    let (_, page) = get_page(&sandbox, &h5_url, None).await;
    let submit = |outcome: &'static str| {
        sandbox
            .http
            .post(format!("{}/wechat-pay/h5/pay", sandbox.url))
            .form(&[
                ("prepay_id", hidden(&page, "prepay_id")),
                ("package", hidden(&page, "package")),
                ("outcome", outcome.to_owned()),
            ])
            .send()
    };
    assert_eq!(submit("cancel").await.unwrap().status(), 200);
    assert_eq!(
        sandbox.query("order_h5_2").await.json()["trade_state"],
        "NOTPAY"
    );
    assert_eq!(submit("decline").await.unwrap().status(), 200);
    assert_eq!(
        sandbox.query("order_h5_2").await.json()["trade_state"],
        "PAYERROR"
    );
}

#[tokio::test]
async fn an_h5_url_expires_after_five_minutes_and_a_new_create_renews_it() {
    let sandbox = Sandbox::start().await;
    let body = sandbox.prepay("h5", "order_h5_3", 12800, "https://merchant.example/notify");
    let h5_url = sandbox.call("POST", H5, Some(&body)).await.json()["h5_url"].clone();
    let h5_url = h5_url.as_str().unwrap();
    sandbox.clock.advance(Duration::from_secs(301));
    let (status, page) = get_page(&sandbox, h5_url, None).await;
    assert_eq!(status, 410, "{page}");

    // The same create again (same body, time_expire included) renews it.
    let fresh = sandbox.call("POST", H5, Some(&body)).await.json()["h5_url"].clone();
    let fresh = fresh.as_str().unwrap();
    assert_ne!(fresh, h5_url);
    let (status, _) = get_page(&sandbox, fresh, None).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn the_cashier_checks_the_referer_against_the_h5_domains() {
    let mut config = SandboxConfig::demo();
    config.wechat.h5_domains = vec!["shop.example".to_owned()];
    let sandbox = Sandbox::start_with(config).await;
    let h5_url = create_h5(&sandbox, "order_h5_4", "https://merchant.example/notify").await;
    for referer in [
        None,
        Some("https://evil.example/"),
        Some("https://shop.example.evil.test/"),
        Some("https://evil.example\\@shop.example/"),
    ] {
        let (status, page) = get_page(&sandbox, &h5_url, referer).await;
        assert_eq!(status, 400, "{referer:?}");
        assert!(page.contains("商家参数格式有误，请联系商家解决"));
    }
    let (status, _) = get_page(&sandbox, &h5_url, Some("https://shop.example/checkout")).await;
    assert_eq!(status, 200);
    let (status, _) = get_page(&sandbox, &h5_url, Some("https://m.shop.example/checkout")).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn the_cashier_refuses_to_open_inside_wechat() {
    let sandbox = Sandbox::start().await;
    let h5_url = create_h5(&sandbox, "order_h5_5", "https://merchant.example/notify").await;
    let inside = sandbox
        .http
        .get(&h5_url)
        .header(
            "User-Agent",
            "Mozilla/5.0 (Linux; Android 13) AppleWebKit/537.36 MicroMessenger/8.0.50",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(inside.status().as_u16(), 400);
    assert!(inside
        .text()
        .await
        .unwrap()
        .contains("请在微信外打开订单，进行支付"));
    let (status, _) = get_page(&sandbox, &h5_url, None).await;
    assert_eq!(status, 200, "outside WeChat the same page opens");
}

/// Runs snsapi_base: the openid for a fresh code.
async fn oauth_openid(sandbox: &Sandbox) -> String {
    let callback = "http://127.0.0.1:9/api/wechat/callback?session=cs_1";
    let authorize = format!(
        "{}/wechat-open/connect/oauth2/authorize?appid={APPID}&redirect_uri={}&response_type=code&scope=snsapi_base&state=st_42",
        sandbox.url,
        encode(callback)
    );
    let response = sandbox.http.get(authorize).send().await.unwrap();
    assert_eq!(response.status(), 302);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let prefix = format!("{callback}&code=");
    assert!(location.starts_with(&prefix), "{location}");
    let (code, state) = location[prefix.len()..].split_once("&state=").unwrap();
    assert_eq!(state, "st_42");

    let token = access_token(sandbox, APPID, APP_SECRET, code).await;
    assert_eq!(token["expires_in"], 7200);
    assert_eq!(token["scope"], "snsapi_base");
    assert!(token["access_token"]
        .as_str()
        .is_some_and(|t| !t.is_empty()));
    assert!(token["refresh_token"]
        .as_str()
        .is_some_and(|t| !t.is_empty()));
    assert_eq!(
        access_token(sandbox, APPID, APP_SECRET, code).await["errcode"],
        40163,
        "a code is good once"
    );
    token["openid"].as_str().unwrap().to_owned()
}

async fn access_token(sandbox: &Sandbox, appid: &str, secret: &str, code: &str) -> Value {
    let url = format!(
        "{}/wechat-api/sns/oauth2/access_token?appid={appid}&secret={secret}&code={code}&grant_type=authorization_code",
        sandbox.url
    );
    let response = sandbox.http.get(url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// The bridge's arguments for a prepay id, signed as the merchant's page would.
fn bridge_args(sandbox: &Sandbox, prepay_id: &str, outcome: &str) -> Value {
    let time_stamp = sandbox.now().to_string();
    let nonce_str = "5K8264ILTKCH16CQ2502SI8ZNMTM67VS";
    let package = format!("prepay_id={prepay_id}");
    let pay_sign =
        sandbox.merchant_sign(&format!("{APPID}\n{time_stamp}\n{nonce_str}\n{package}\n"));
    json!({
        "appId": APPID,
        "timeStamp": time_stamp,
        "nonceStr": nonce_str,
        "package": package,
        "signType": "RSA",
        "paySign": pay_sign,
        "outcome": outcome,
    })
}

async fn bridge(sandbox: &Sandbox, args: &Value) -> String {
    let response = sandbox
        .http
        .post(format!("{}/phone/jsapi", sandbox.url))
        .json(args)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.unwrap();
    answer["err_msg"].as_str().unwrap().to_owned()
}

async fn create_jsapi(
    sandbox: &Sandbox,
    out_trade_no: &str,
    openid: &str,
    notify_url: &str,
) -> String {
    let mut body = sandbox.prepay("jsapi", out_trade_no, 12800, notify_url);
    body["payer"] = json!({ "openid": openid });
    let answer = sandbox.call("POST", JSAPI, Some(&body)).await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    answer.json()["prepay_id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_jsapi_order_is_paid_through_the_bridge_after_snsapi_base() {
    let sandbox = Sandbox::start().await;
    let receiver = NotifyReceiver::start().await;
    let openid = oauth_openid(&sandbox).await;
    assert!(openid.starts_with('o') && openid.len() == 28, "{openid}");

    let prepay_id = create_jsapi(&sandbox, "order_jsapi_1", &openid, &receiver.url).await;
    assert!(prepay_id.starts_with("wx"), "{prepay_id}");
    assert_eq!(
        bridge(&sandbox, &bridge_args(&sandbox, &prepay_id, "pay")).await,
        "get_brand_wcpay_request:ok"
    );

    let paid = sandbox.query("order_jsapi_1").await.json();
    assert_eq!(paid["trade_state"], "SUCCESS");
    assert_eq!(paid["trade_type"], "JSAPI");
    assert_eq!(paid["payer"]["openid"], openid.as_str());
    let notifications = receiver.wait_for(1, Duration::from_secs(10)).await;
    let transaction = sandbox.open_notification(&notifications[0]);
    assert_eq!(transaction["out_trade_no"], "order_jsapi_1");
    assert_eq!(transaction["payer"]["openid"], openid.as_str());

    assert_eq!(
        bridge(&sandbox, &bridge_args(&sandbox, &prepay_id, "pay")).await,
        "get_brand_wcpay_request:fail",
        "a paid order cannot be paid again"
    );
}

#[tokio::test]
async fn the_bridge_refuses_a_bad_pay_sign_and_reports_cancel_and_decline() {
    let sandbox = Sandbox::start().await;
    let openid = oauth_openid(&sandbox).await;
    let prepay_id = create_jsapi(
        &sandbox,
        "order_jsapi_2",
        &openid,
        "https://merchant.example/notify",
    )
    .await;

    let mut forged = bridge_args(&sandbox, &prepay_id, "pay");
    forged["nonceStr"] = json!("another-nonce");
    assert_eq!(
        bridge(&sandbox, &forged).await,
        "get_brand_wcpay_request:fail"
    );
    let mut unsigned = bridge_args(&sandbox, &prepay_id, "pay");
    unsigned["paySign"] = json!("c2lnbmF0dXJl");
    assert_eq!(
        bridge(&sandbox, &unsigned).await,
        "get_brand_wcpay_request:fail"
    );
    let mut other_prepay = bridge_args(&sandbox, "wx20261123000000abcdefabcdefabcdefab", "pay");
    other_prepay["appId"] = json!(APPID);
    assert_eq!(
        bridge(&sandbox, &other_prepay).await,
        "get_brand_wcpay_request:fail"
    );
    assert_eq!(
        sandbox.query("order_jsapi_2").await.json()["trade_state"],
        "NOTPAY"
    );

    assert_eq!(
        bridge(&sandbox, &bridge_args(&sandbox, &prepay_id, "cancel")).await,
        "get_brand_wcpay_request:cancel"
    );
    assert_eq!(
        sandbox.query("order_jsapi_2").await.json()["trade_state"],
        "NOTPAY"
    );
    assert_eq!(
        bridge(&sandbox, &bridge_args(&sandbox, &prepay_id, "decline")).await,
        "get_brand_wcpay_request:fail"
    );
    assert_eq!(
        sandbox.query("order_jsapi_2").await.json()["trade_state"],
        "PAYERROR"
    );
}

#[tokio::test]
async fn web_authorisation_returns_only_to_the_registered_domains() {
    let mut config = SandboxConfig::demo();
    config.wechat.oauth_domains = vec!["shop.example".to_owned()];
    let sandbox = Sandbox::start_with(config).await;
    let authorize = |redirect: &str| {
        format!(
            "{}/wechat-open/connect/oauth2/authorize?appid={APPID}&redirect_uri={}&response_type=code&scope=snsapi_base&state=s",
            sandbox.url,
            encode(redirect)
        )
    };
    // Not even a subdomain: WeChat takes exactly the registered domain.
    for elsewhere in [
        "https://evil.example/cb",
        "https://shop.example.evil.test/cb",
        "https://m.shop.example/cb",
        "https://evil.example\\@shop.example/cb",
    ] {
        let refused = sandbox.http.get(authorize(elsewhere)).send().await.unwrap();
        assert_eq!(refused.status(), 400, "{elsewhere}");
        assert!(refused.text().await.unwrap().contains("10003"));
    }
    let allowed = sandbox
        .http
        .get(authorize("https://shop.example/cb"))
        .send()
        .await
        .unwrap();
    assert_eq!(allowed.status(), 302);
}

#[tokio::test]
async fn oauth_errors_are_wechats() {
    let sandbox = Sandbox::start().await;
    let authorize = |appid: &str, scope: &str| {
        format!(
            "{}/wechat-open/connect/oauth2/authorize?appid={appid}&redirect_uri={}&response_type=code&scope={scope}&state=s",
            sandbox.url,
            encode("http://127.0.0.1:9/cb")
        )
    };
    for url in [
        authorize("wx0000000000000000", "snsapi_base"),
        authorize(APPID, "snsapi_login"),
    ] {
        let response = sandbox.http.get(url).send().await.unwrap();
        assert_eq!(response.status(), 400);
        assert!(response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
    }
    assert_eq!(
        access_token(&sandbox, APPID, APP_SECRET, "no-such-code").await["errcode"],
        40029
    );
    assert_eq!(
        access_token(&sandbox, APPID, "wrong", "no-such-code").await["errcode"],
        40125
    );
    let wrong_appid = access_token(&sandbox, "wx0000000000000000", APP_SECRET, "c").await;
    assert_eq!(wrong_appid["errcode"], 40013);
    assert!(wrong_appid["errmsg"].as_str().is_some());
}

#[tokio::test]
async fn a_refused_notification_is_retried() {
    let sandbox = Sandbox::start().await;
    let receiver = NotifyReceiver::failing_first(1).await;
    let code_url = sandbox.create_native("order_retry_1", &receiver.url).await;
    sandbox.scan(&code_url, "pay").await;
    let notifications = receiver.wait_for(2, Duration::from_secs(10)).await;
    assert_eq!(notifications.len(), 2);
    assert_eq!(notifications[0].json()["id"], notifications[1].json()["id"]);
    assert!(
        notifications[1].at - notifications[0].at >= Duration::from_millis(900),
        "after about 1 s"
    );
    sandbox.open_notification(&notifications[1]);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(receiver.received().len(), 2, "a 204 ends it");
}

#[tokio::test]
async fn duplicate_notifications_share_their_id() {
    let sandbox = Sandbox::start().await;
    let receiver = NotifyReceiver::start().await;
    sandbox.control(json!({ "notify": "duplicate" })).await;
    let code_url = sandbox.create_native("order_dup_1", &receiver.url).await;
    sandbox.scan(&code_url, "pay").await;
    let notifications = receiver.wait_for(2, Duration::from_secs(10)).await;
    assert_eq!(notifications.len(), 2);
    assert_eq!(notifications[0].json()["id"], notifications[1].json()["id"]);
    for notification in &notifications {
        assert_eq!(
            sandbox.open_notification(notification)["out_trade_no"],
            "order_dup_1"
        );
    }
}

#[tokio::test]
async fn late_notifications_wait() {
    let sandbox = Sandbox::start().await;
    let receiver = NotifyReceiver::start().await;
    let control = sandbox
        .control(json!({ "notify": "late", "notify_delay_ms": 1200 }))
        .await;
    assert_eq!(control["notify"], "late");
    assert_eq!(control["notify_delay_ms"], 1200);
    let code_url = sandbox.create_native("order_late_1", &receiver.url).await;
    let paid_at = Instant::now();
    sandbox.scan(&code_url, "pay").await;
    assert_eq!(
        sandbox.query("order_late_1").await.json()["trade_state"],
        "SUCCESS"
    );
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(receiver.received().is_empty(), "not yet");
    let notifications = receiver.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(notifications.len(), 1);
    assert!(notifications[0].at - paid_at >= Duration::from_millis(1200));
}

#[tokio::test]
async fn dropped_notifications_leave_only_the_query() {
    let sandbox = Sandbox::start().await;
    let receiver = NotifyReceiver::start().await;
    sandbox.control(json!({ "notify": "drop" })).await;
    let code_url = sandbox.create_native("order_drop_1", &receiver.url).await;
    sandbox.scan(&code_url, "pay").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(receiver.received().is_empty());
    assert_eq!(
        sandbox.query("order_drop_1").await.json()["trade_state"],
        "SUCCESS"
    );
}

#[tokio::test]
async fn an_early_notification_arrives_before_the_create_answer() {
    let sandbox = Sandbox::start().await;
    let receiver = NotifyReceiver::start().await;
    let control = sandbox
        .control(json!({ "notify": "early", "pay_on_create": true }))
        .await;
    assert_eq!(control["pay_on_create"], true);
    sandbox.create_native("order_early_1", &receiver.url).await;
    let received = receiver.received();
    assert_eq!(received.len(), 1, "notified before the create answered");
    assert_eq!(
        sandbox.open_notification(&received[0])["out_trade_no"],
        "order_early_1"
    );
    assert_eq!(
        sandbox.query("order_early_1").await.json()["trade_state"],
        "SUCCESS"
    );
}

#[tokio::test]
async fn pay_on_create_notifies_after_the_answer_by_default() {
    let sandbox = Sandbox::start().await;
    let receiver = NotifyReceiver::start().await;
    sandbox.control(json!({ "pay_on_create": true })).await;
    sandbox
        .create_native("order_on_create_1", &receiver.url)
        .await;
    assert!(receiver.received().is_empty());
    assert_eq!(
        sandbox.query("order_on_create_1").await.json()["trade_state"],
        "SUCCESS"
    );
    let notifications = receiver.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(notifications.len(), 1);
}

#[tokio::test]
async fn an_outage_answers_signed_system_errors() {
    let sandbox = Sandbox::start().await;
    let control = sandbox.control(json!({ "outage": true })).await;
    assert_eq!(control["outage"], true);
    let body = sandbox.prepay(
        "native",
        "order_outage_1",
        100,
        "https://merchant.example/notify",
    );
    let down: Answer = sandbox.call("POST", NATIVE, Some(&body)).await;
    down.assert_error(500, "SYSTEM_ERROR");
    assert_eq!(down.json()["message"], "系统错误");
    sandbox
        .query("order_outage_1")
        .await
        .assert_error(500, "SYSTEM_ERROR");

    sandbox.control(json!({ "outage": false })).await;
    assert_eq!(sandbox.call("POST", NATIVE, Some(&body)).await.status, 200);
}

#[tokio::test]
async fn a_rate_limit_answers_signed_429s() {
    let sandbox = Sandbox::start().await;
    assert_eq!(sandbox.control(json!({ "busy": true })).await["busy"], true);
    let body = sandbox.prepay(
        "native",
        "order_busy_1",
        100,
        "https://merchant.example/notify",
    );
    sandbox
        .call("POST", NATIVE, Some(&body))
        .await
        .assert_error(429, "FREQUENCY_LIMITED");
    sandbox.control(json!({ "busy": false })).await;
    assert_eq!(sandbox.call("POST", NATIVE, Some(&body)).await.status, 200);
}

#[tokio::test]
async fn the_control_api_reads_and_changes_the_state() {
    let sandbox = Sandbox::start().await;
    let read: Value = sandbox
        .http
        .get(format!("{}/control", sandbox.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        read,
        json!({ "outage": false, "busy": false, "notify": "normal", "notify_delay_ms": 2000,
                "pay_on_create": false, "refund": "success", "refund_delay_ms": 500,
                "balance_short": false, "pay_after_close": false })
    );
    let changed = sandbox.control(json!({ "notify_delay_ms": 10 })).await;
    assert_eq!(changed["notify_delay_ms"], 10);
    assert_eq!(changed["notify"], "normal");
    let refused = sandbox
        .http
        .post(format!("{}/control", sandbox.url))
        .json(&json!({ "notify": "sometimes" }))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
}

#[tokio::test]
async fn the_phone_page_pays_a_pasted_code() {
    let sandbox = Sandbox::start().await;
    let code_url = sandbox
        .create_native("order_phone_1", "https://merchant.example/notify")
        .await;
    let (status, page) = get_page(&sandbox, &format!("{}/phone", sandbox.url), None).await;
    assert_eq!(status, 200);
    assert!(page.contains("name=\"code_url\""));
    let response = sandbox
        .http
        .post(format!("{}/phone", sandbox.url))
        .form(&[("code_url", code_url.as_str()), ("outcome", "pay")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().contains("支付成功"));
    assert_eq!(
        sandbox.query("order_phone_1").await.json()["trade_state"],
        "SUCCESS"
    );
}
