//! The Alipay OpenAPI emulator over real HTTP: a merchant that signs its
//! gateway calls with the application's key and checks every answer, sync
//! return and notification with Alipay's public key (its own code, in
//! `common/alipay.rs`), a shopper on the emulated phone and cashier, and a
//! notify endpoint.

mod common;

use std::time::Duration;

use common::alipay::{
    field, form_fields, string_to_sign, Alipay, FormReceiver, Notice, APP_ID, SELLER_ID,
};
use payment_sandbox::SandboxConfig;
use serde_json::{json, Value};

const PRECREATE: &str = "alipay.trade.precreate";
const CREATE: &str = "alipay.trade.create";
const QUERY: &str = "alipay.trade.query";
const CLOSE: &str = "alipay.trade.close";
const REFUND: &str = "alipay.trade.refund";
const REFUND_QUERY: &str = "alipay.trade.fastpay.refund.query";
const OAUTH_TOKEN: &str = "alipay.system.oauth.token";

fn order(out_trade_no: &str) -> Value {
    json!({
        "out_trade_no": out_trade_no,
        "total_amount": "128.00",
        "subject": "Demo Tea House - Longjing 250 g",
    })
}

/// Checks a notification's form, signature and the fields every one has.
fn open_notice(alipay: &Alipay, notice: &Notice) {
    assert!(
        notice
            .content_type
            .starts_with("application/x-www-form-urlencoded"),
        "{}",
        notice.content_type
    );
    assert!(
        alipay.check_form_signature(&notice.fields),
        "Alipay's signature over every field but sign and sign_type: {:?}",
        notice.fields
    );
    assert_eq!(notice.get("notify_type"), Some("trade_status_sync"));
    assert_eq!(notice.get("app_id"), Some(APP_ID));
    assert_eq!(notice.get("auth_app_id"), Some(APP_ID));
    assert_eq!(notice.get("seller_id"), Some(SELLER_ID));
    assert_eq!(notice.get("charset"), Some("utf-8"));
    assert_eq!(notice.get("version"), Some("1.0"));
    assert_eq!(notice.get("sign_type"), Some("RSA2"));
    assert!(notice.get("notify_id").is_some_and(|id| id.len() >= 20));
    assert!(notice.get("notify_time").is_some_and(|t| t.len() == 19));
}

#[tokio::test]
async fn refuses_bad_signatures_other_apps_and_missing_parameters() {
    let alipay = Alipay::start().await;
    let biz = order("o_sig_1");

    // Tampered after signing: the sub_msg quotes the string the gateway checked.
    let mut params = alipay.call_params(PRECREATE, &biz, &[]);
    for (name, value) in &mut params {
        if name == "biz_content" {
            *value = value.replace("128.00", "0.01");
        }
    }
    let node = alipay.send(PRECREATE, &params, &[]).await.refused(
        &alipay,
        "40002",
        "isv.invalid-signature",
    );
    assert!(node["sub_msg"].as_str().unwrap().contains("验签出错"));
    assert!(node["sub_msg"]
        .as_str()
        .unwrap()
        .contains("&amp;biz_content={"));

    // sign_type is part of what is signed.
    let mut params = alipay.common(PRECREATE);
    params.push(("biz_content".into(), biz.to_string()));
    let without_type = alipay.sign(&string_to_sign(&params, &["sign", "sign_type"]));
    params.push(("sign".into(), without_type));
    alipay
        .send(PRECREATE, &params, &[])
        .await
        .refused(&alipay, "40002", "isv.invalid-signature");

    // Signed over the URL-encoded values: wrong, the gateway decodes first.
    let mut params = alipay.common(PRECREATE);
    params.push(("biz_content".into(), biz.to_string()));
    let encoded: Vec<(String, String)> = params
        .iter()
        .map(|(n, v)| (n.clone(), v.replace(' ', "+").replace(':', "%3A")))
        .collect();
    params.push((
        "sign".into(),
        alipay.sign(&string_to_sign(&encoded, &["sign"])),
    ));
    alipay
        .send(PRECREATE, &params, &[])
        .await
        .refused(&alipay, "40002", "isv.invalid-signature");

    // Another application: refused before the signature, and unsigned.
    let mut params = alipay.common(PRECREATE);
    params[0].1 = "2021000000000000".into();
    params.push(("biz_content".into(), biz.to_string()));
    let reply = alipay.send(PRECREATE, &alipay.signed(params), &[]).await;
    reply.refused(&alipay, "40002", "isv.invalid-app-id");
    assert!(reply.sign().is_none(), "{}", reply.raw);

    let without = |name: &'static str| {
        let mut params = alipay.common(PRECREATE);
        params.retain(|(n, _)| n != name);
        params.push(("biz_content".into(), biz.to_string()));
        alipay.signed(params)
    };
    for (name, sub_code) in [
        ("timestamp", "isv.missing-timestamp"),
        ("sign_type", "isv.missing-signature-type"),
        ("version", "isv.missing-version"),
    ] {
        alipay
            .send(PRECREATE, &without(name), &[])
            .await
            .refused(&alipay, "40001", sub_code);
    }
    let reply = alipay.send(PRECREATE, &without("app_id"), &[]).await;
    reply.refused(&alipay, "40001", "isv.missing-app-id");
    assert!(reply.sign().is_none());
    let mut unsigned = without("nothing");
    unsigned.retain(|(n, _)| n != "sign");
    alipay
        .send(PRECREATE, &unsigned, &[])
        .await
        .refused(&alipay, "40001", "isv.missing-signature");
    alipay
        .send("-", &without("method"), &[])
        .await
        .refused_in_error_response("40001", "isv.missing-method");
    let mut params = alipay.common("alipay.trade.page.pay");
    params.push(("biz_content".into(), biz.to_string()));
    alipay
        .send("alipay.trade.page.pay", &alipay.signed(params), &[])
        .await
        .refused_in_error_response("40002", "isv.invalid-method");

    // Timestamps: the format, and no more than minutes away from now.
    for timestamp in [
        alipay.beijing(alipay.now() - 20 * 60),
        alipay.beijing(alipay.now() + 20 * 60),
        "2024/01/02 03:04:05".to_owned(),
    ] {
        let mut params = alipay.common(PRECREATE);
        params[5].1 = timestamp;
        params.push(("biz_content".into(), biz.to_string()));
        alipay
            .send(PRECREATE, &alipay.signed(params), &[])
            .await
            .refused(&alipay, "40002", "isv.invalid-timestamp");
    }
    let mut params = alipay.common(PRECREATE);
    params[4].1 = "RSA".into();
    params.push(("biz_content".into(), biz.to_string()));
    alipay
        .send(PRECREATE, &alipay.signed(params), &[])
        .await
        .refused(&alipay, "40002", "isv.invalid-signature-type");

    // Every parameter in the body, or every one in the query, is fine too.
    let params = alipay.call_params(PRECREATE, &order("o_sig_2"), &[]);
    alipay.send(PRECREATE, &[], &params).await.success(&alipay);
    let params = alipay.call_params(PRECREATE, &order("o_sig_3"), &[]);
    let response = alipay
        .http
        .get(alipay.gateway())
        .query(&params)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["content-type"],
        "text/html;charset=utf-8"
    );
    let reply = common::alipay::Reply {
        key: "alipay_trade_precreate_response".into(),
        raw: response.text().await.unwrap(),
    };
    reply.success(&alipay);
}

#[tokio::test]
async fn business_parameters_are_checked() {
    let alipay = Alipay::start().await;
    let refused = |biz: Value| {
        let alipay = &alipay;
        async move { alipay.call(PRECREATE, &biz).await }
    };
    for amount in [json!("12.345"), json!("abc"), json!("-1"), json!("1e3")] {
        let mut biz = order("o_biz_1");
        biz["total_amount"] = amount;
        let node = refused(biz)
            .await
            .refused(&alipay, "40004", "ACQ.INVALID_PARAMETER");
        assert!(node["sub_msg"].as_str().unwrap().contains("金额"), "{node}");
    }
    let mut biz = order("o_biz_1");
    biz["total_amount"] = json!("100000000.01");
    refused(biz)
        .await
        .refused(&alipay, "40004", "ACQ.TOTAL_FEE_EXCEED");
    let mut biz = order("o_biz_1");
    biz.as_object_mut().unwrap().remove("subject");
    let node = refused(biz)
        .await
        .refused(&alipay, "40004", "ACQ.INVALID_PARAMETER");
    assert!(node["sub_msg"].as_str().unwrap().contains("subject"));
    refused(order("has-a-dash"))
        .await
        .refused(&alipay, "40004", "ACQ.INVALID_PARAMETER");
    let mut biz = order("o_biz_1");
    biz["timeout_express"] = json!("1.5h");
    refused(biz)
        .await
        .refused(&alipay, "40004", "ACQ.INVALID_PARAMETER");
    let mut biz = order("o_biz_1");
    biz["time_expire"] = json!(alipay.beijing(alipay.now() - 60));
    refused(biz)
        .await
        .refused(&alipay, "40004", "ACQ.NOW_TIME_AFTER_EXPIRE_TIME_ERROR");
    let mut biz = order("o_biz_1");
    biz["product_code"] = json!("FAST_INSTANT_TRADE_PAY");
    refused(biz)
        .await
        .refused(&alipay, "40004", "ACQ.INVALID_PARAMETER");

    let mut params = alipay.common(PRECREATE);
    params.push(("biz_content".into(), "{not json".into()));
    alipay
        .send(PRECREATE, &alipay.signed(params), &[])
        .await
        .refused(&alipay, "40002", "isv.illegal-json");

    // As in Alipay's SDK samples, a number is an amount too.
    let mut biz = order("o_biz_2");
    biz["total_amount"] = json!(88.88);
    alipay.call(PRECREATE, &biz).await.success(&alipay);
    let node = alipay
        .query("o_biz_2")
        .await
        .refused(&alipay, "40004", "ACQ.TRADE_NOT_EXIST");
    assert_eq!(node["out_trade_no"], "o_biz_2");
}

#[tokio::test]
async fn a_precreated_trade_exists_only_once_scanned_and_a_close_before_does_not_stop_it() {
    let alipay = Alipay::start().await;
    let receiver = FormReceiver::start().await;
    let reply = alipay
        .call_with(
            PRECREATE,
            &order("o_qr_1"),
            &[("notify_url", &receiver.url)],
        )
        .await;
    let node = reply.success(&alipay);
    assert!(
        reply.raw.contains(r"https:\/\/qr.alipay.com\/bax"),
        "slashes are escaped as Alipay writes them, and signed so: {}",
        reply.raw
    );
    let qr_code = node["qr_code"].as_str().unwrap().to_owned();
    assert!(qr_code.starts_with("https://qr.alipay.com/bax"));
    assert_eq!(node["out_trade_no"], "o_qr_1");

    let node = alipay
        .query("o_qr_1")
        .await
        .refused(&alipay, "40004", "ACQ.TRADE_NOT_EXIST");
    assert_eq!(node["receipt_amount"], "0.00");
    alipay
        .call(CLOSE, &json!({ "out_trade_no": "o_qr_1" }))
        .await
        .refused(&alipay, "40004", "ACQ.TRADE_NOT_EXIST");

    assert_eq!(
        alipay.scan(&qr_code, "scan").await,
        (200, json!({ "trade_status": "WAIT_BUYER_PAY" }))
    );
    let waiting = alipay.query("o_qr_1").await.success(&alipay);
    assert_eq!(waiting["trade_status"], "WAIT_BUYER_PAY");
    assert_eq!(waiting["total_amount"], "128.00");
    assert_eq!(waiting["buyer_logon_id"], "158****1562");
    let buyer = waiting["buyer_user_id"].as_str().unwrap().to_owned();
    assert!(buyer.starts_with("2088") && buyer.len() == 16);
    let trade_no = waiting["trade_no"].as_str().unwrap().to_owned();
    assert!(waiting.get("send_pay_date").is_none());

    assert_eq!(
        alipay.scan(&qr_code, "pay").await,
        (200, json!({ "trade_status": "TRADE_SUCCESS" }))
    );
    let paid = alipay
        .call(QUERY, &json!({ "trade_no": trade_no }))
        .await
        .success(&alipay);
    assert_eq!(paid["trade_status"], "TRADE_SUCCESS");
    assert_eq!(paid["out_trade_no"], "o_qr_1");
    assert_eq!(paid["receipt_amount"], "128.00");
    assert_eq!(paid["buyer_pay_amount"], "128.00");
    assert_eq!(paid["send_pay_date"].as_str().unwrap().len(), 19);
    assert_eq!(paid["fund_bill_list"][0]["amount"], "128.00");

    let notices = receiver.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(notices.len(), 1);
    let notice = &notices[0];
    open_notice(&alipay, notice);
    assert_eq!(notice.get("trade_status"), Some("TRADE_SUCCESS"));
    assert_eq!(notice.get("out_trade_no"), Some("o_qr_1"));
    assert_eq!(notice.get("trade_no"), Some(trade_no.as_str()));
    assert_eq!(notice.get("total_amount"), Some("128.00"));
    assert_eq!(notice.get("receipt_amount"), Some("128.00"));
    assert_eq!(notice.get("buyer_id"), Some(buyer.as_str()));
    assert!(notice.get("buyer_open_id").is_some());
    assert!(notice.get("gmt_payment").is_some());
    assert!(notice.get("refund_fee").is_none());
    let bills: Value = serde_json::from_str(notice.get("fund_bill_list").unwrap()).unwrap();
    assert_eq!(bills[0]["fundChannel"], "ALIPAYACCOUNT");

    alipay.call(PRECREATE, &order("o_qr_1")).await.refused(
        &alipay,
        "40004",
        "ACQ.TRADE_HAS_SUCCESS",
    );
    let (status, again) = alipay.scan(&qr_code, "pay").await;
    assert_eq!(
        (status, again["code"].as_str()),
        (409, Some("TRADE_HAS_SUCCESS"))
    );
    let (status, _) = alipay.scan("https://qr.alipay.com/baxunknown", "pay").await;
    assert_eq!(status, 404);
    alipay
        .call(CLOSE, &json!({ "out_trade_no": "o_qr_1" }))
        .await
        .refused(&alipay, "40004", "ACQ.TRADE_STATUS_ERROR");
}

#[tokio::test]
async fn repeated_precreates_and_closing_scanned_trades() {
    let alipay = Alipay::start().await;
    let first = alipay
        .precreate("o_close_1", "128.00", "https://merchant.example/n")
        .await;
    let again = alipay
        .precreate("o_close_1", "128.00", "https://merchant.example/n")
        .await;
    assert_eq!(first, again, "the same order asked again is the same code");
    let mut other = order("o_close_1");
    other["total_amount"] = json!("1.00");
    alipay
        .call(PRECREATE, &other)
        .await
        .refused(&alipay, "40004", "ACQ.CONTEXT_INCONSISTENT");

    assert_eq!(alipay.scan(&first, "scan").await.0, 200);
    let closed = alipay
        .call(CLOSE, &json!({ "out_trade_no": "o_close_1" }))
        .await
        .success(&alipay);
    assert_eq!(closed["out_trade_no"], "o_close_1");
    assert!(closed["trade_no"].as_str().is_some_and(|n| n.len() == 28));
    assert_eq!(
        alipay.query("o_close_1").await.success(&alipay)["trade_status"],
        "TRADE_CLOSED"
    );
    let (status, refused) = alipay.scan(&first, "pay").await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (409, Some("TRADE_HAS_CLOSE"))
    );
    alipay
        .call(CLOSE, &json!({ "out_trade_no": "o_close_1" }))
        .await
        .refused(&alipay, "40004", "ACQ.TRADE_STATUS_ERROR");
    alipay.call(PRECREATE, &order("o_close_1")).await.refused(
        &alipay,
        "40004",
        "ACQ.TRADE_HAS_CLOSE",
    );

    // Refused by risk control: the trade closes.
    let code = alipay
        .precreate("o_close_2", "9.90", "https://merchant.example/n")
        .await;
    assert_eq!(
        alipay.scan(&code, "decline").await,
        (200, json!({ "trade_status": "TRADE_CLOSED" }))
    );
    assert_eq!(
        alipay.query("o_close_2").await.success(&alipay)["trade_status"],
        "TRADE_CLOSED"
    );
}

#[tokio::test]
async fn codes_and_trades_expire() {
    let alipay = Alipay::start().await;
    let mut biz = order("o_exp_1");
    biz["timeout_express"] = json!("5m");
    let code = alipay.call(PRECREATE, &biz).await.success(&alipay)["qr_code"]
        .as_str()
        .unwrap()
        .to_owned();
    alipay.clock.advance(Duration::from_secs(5 * 60));
    let (status, expired) = alipay.scan(&code, "pay").await;
    assert_eq!(
        (status, expired["code"].as_str()),
        (410, Some("QR_CODE_EXPIRED"))
    );
    alipay
        .query("o_exp_1")
        .await
        .refused(&alipay, "40004", "ACQ.TRADE_NOT_EXIST");

    // A code is good two hours, whatever the order's timeout.
    let code = alipay
        .precreate("o_exp_2", "1.00", "https://merchant.example/n")
        .await;
    alipay.clock.advance(Duration::from_secs(2 * 60 * 60));
    assert_eq!(alipay.scan(&code, "scan").await.0, 410);

    // A scanned trade closes at its time_expire.
    let mut biz = order("o_exp_3");
    biz["time_expire"] = json!(alipay.beijing(alipay.now() + 120));
    let code = alipay.call(PRECREATE, &biz).await.success(&alipay)["qr_code"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(alipay.scan(&code, "scan").await.0, 200);
    alipay.clock.advance(Duration::from_secs(120));
    assert_eq!(
        alipay.query("o_exp_3").await.success(&alipay)["trade_status"],
        "TRADE_CLOSED"
    );
    assert_eq!(alipay.scan(&code, "pay").await.0, 409);
}

/// A signed `alipay.trade.wap.pay` for the browser, as a GET URL.
fn wap_url(alipay: &Alipay, biz: &Value, extra: &[(&str, &str)]) -> String {
    let params = alipay.call_params("alipay.trade.wap.pay", biz, extra);
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.extend_pairs(params.iter());
    format!("{}?{}", alipay.gateway(), query.finish())
}

fn wap_order(out_trade_no: &str, quit_url: &str) -> Value {
    let mut biz = order(out_trade_no);
    biz["product_code"] = json!("QUICK_WAP_WAY");
    biz["quit_url"] = json!(quit_url);
    biz
}

async fn get_page(alipay: &Alipay, url: &str, user_agent: Option<&str>) -> (u16, String) {
    let mut request = alipay.http.get(url);
    if let Some(agent) = user_agent {
        request = request.header("User-Agent", agent);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// A hidden field's value in a page.
fn hidden(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name}: {page}"))
        + marker.len();
    page[start..][..page[start..].find('"').unwrap()].to_owned()
}

async fn submit(alipay: &Alipay, token: &str, outcome: &str) -> reqwest::Response {
    alipay
        .http
        .post(format!("{}/alipay/cashier", alipay.url))
        .form(&[("token", token), ("outcome", outcome)])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_wap_cashier_pays_and_returns_signed() {
    let alipay = Alipay::start().await;
    let receiver = FormReceiver::start().await;
    let return_url = "https://shop.example/return?session=cs_1";
    let url = wap_url(
        &alipay,
        &wap_order("o_wap_1", "https://shop.example/quit"),
        &[("return_url", return_url), ("notify_url", &receiver.url)],
    );
    let (status, page) = get_page(&alipay, &url, None).await;
    assert_eq!(status, 200, "{page}");
    for testid in ["alipay-pay", "alipay-decline", "alipay-quit"] {
        assert!(
            page.contains(&format!("data-testid=\"{testid}\"")),
            "{testid}"
        );
    }
    assert!(page.contains("¥128.00"));
    assert_eq!(
        alipay.query("o_wap_1").await.success(&alipay)["trade_status"],
        "WAIT_BUYER_PAY",
        "the trade exists once the cashier opens"
    );

    let response = submit(&alipay, &hidden(&page, "token"), "pay").await;
    assert_eq!(response.status(), 303);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let (base, query) = location.split_once("?session=cs_1&").unwrap();
    assert_eq!(base, "https://shop.example/return");
    let returned = form_fields(query);
    assert!(alipay.check_form_signature(&returned), "{location}");
    assert_eq!(
        field(&returned, "method"),
        Some("alipay.trade.wap.pay.return")
    );
    assert_eq!(field(&returned, "out_trade_no"), Some("o_wap_1"));
    assert_eq!(field(&returned, "total_amount"), Some("128.00"));
    assert_eq!(field(&returned, "seller_id"), Some(SELLER_ID));
    assert_eq!(field(&returned, "app_id"), Some(APP_ID));
    assert_eq!(field(&returned, "auth_app_id"), Some(APP_ID));
    assert_eq!(field(&returned, "charset"), Some("utf-8"));
    assert_eq!(field(&returned, "version"), Some("1.0"));
    assert_eq!(field(&returned, "sign_type"), Some("RSA2"));
    assert!(field(&returned, "timestamp").is_some_and(|t| t.len() == 19));
    assert!(field(&returned, "trade_status").is_none());

    let paid = alipay.query("o_wap_1").await.success(&alipay);
    assert_eq!(paid["trade_status"], "TRADE_SUCCESS");
    assert_eq!(
        Some(paid["trade_no"].as_str().unwrap()),
        field(&returned, "trade_no")
    );
    let notices = receiver.wait_for(1, Duration::from_secs(10)).await;
    open_notice(&alipay, &notices[0]);
    assert_eq!(notices[0].get("trade_status"), Some("TRADE_SUCCESS"));

    // The same page again: paid.
    let response = submit(&alipay, &hidden(&page, "token"), "pay").await;
    assert_eq!(response.status(), 409);

    // An auto-submitted form: common parameters in the action, biz_content a field.
    let params = alipay.call_params(
        "alipay.trade.wap.pay",
        &wap_order("o_wap_2", "https://shop.example/quit"),
        &[("return_url", return_url)],
    );
    let (form, query): (Vec<_>, Vec<_>) = params.into_iter().partition(|(n, _)| n == "biz_content");
    let response = alipay
        .http
        .post(alipay.gateway())
        .query(&query)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("data-testid=\"alipay-pay\""));
}

#[tokio::test]
async fn the_wap_cashier_refusal_and_giving_up() {
    let alipay = Alipay::start().await;
    let url = wap_url(
        &alipay,
        &wap_order("o_wap_3", "https://shop.example/quit"),
        &[("return_url", "https://shop.example/return")],
    );
    let (_, page) = get_page(&alipay, &url, None).await;
    let response = submit(&alipay, &hidden(&page, "token"), "decline").await;
    assert_eq!(response.status(), 200);
    let refused = response.text().await.unwrap();
    assert!(refused.contains("交易已关闭"), "{refused}");
    assert!(refused.contains("data-testid=\"alipay-back\""), "{refused}");
    assert!(refused.contains("href=\"https://shop.example/quit\""));
    assert_eq!(
        alipay.query("o_wap_3").await.success(&alipay)["trade_status"],
        "TRADE_CLOSED"
    );
    let (status, page) = get_page(&alipay, &url, None).await;
    assert_eq!(status, 200);
    assert!(page.contains("ACQ.TRADE_HAS_CLOSE"), "{page}");

    let url = wap_url(
        &alipay,
        &wap_order("o_wap_4", "https://shop.example/quit"),
        &[("return_url", "https://shop.example/return")],
    );
    let (_, page) = get_page(&alipay, &url, None).await;
    let response = submit(&alipay, &hidden(&page, "token"), "quit").await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "https://shop.example/quit");
    assert_eq!(
        alipay.query("o_wap_4").await.success(&alipay)["trade_status"],
        "WAIT_BUYER_PAY"
    );
}

#[tokio::test]
async fn the_wap_cashier_shows_alipays_errors_and_not_inside_wechat() {
    let mut config = SandboxConfig::demo();
    config.alipay.return_domains = vec!["shop.example".to_owned()];
    let alipay = Alipay::start_with(config).await;
    let good = wap_url(
        &alipay,
        &wap_order("o_wap_5", "https://shop.example/quit"),
        &[("return_url", "https://shop.example/return")],
    );
    let (status, page) = get_page(
        &alipay,
        &good,
        Some("Mozilla/5.0 (iPhone) AppleWebKit/605.1.15 MicroMessenger/8.0.50"),
    )
    .await;
    assert_eq!(status, 403);
    assert!(page.contains("data-testid=\"alipay-in-wechat\""));
    assert!(alipay
        .query("o_wap_5")
        .await
        .raw
        .contains("ACQ.TRADE_NOT_EXIST"));

    let tampered = good.replace("128.00", "1.00");
    let (status, page) = get_page(&alipay, &tampered, None).await;
    assert_eq!(status, 200, "Alipay's error pages are 200s");
    assert!(page.contains("错误代码"), "{page}");
    assert!(page.contains("invalid-signature"), "{page}");

    for (return_url, quit_url) in [
        ("https://evil.example/return", "https://shop.example/quit"),
        (
            "https://shop.example/return",
            "https://shop.example.evil.test/quit",
        ),
    ] {
        let url = wap_url(
            &alipay,
            &wap_order("o_wap_5", quit_url),
            &[("return_url", return_url)],
        );
        let (_, page) = get_page(&alipay, &url, None).await;
        assert!(page.contains("ACQ.INVALID_PARAMETER"), "{page}");
    }
    let mut no_product = order("o_wap_5");
    no_product["quit_url"] = json!("https://shop.example/quit");
    let (_, page) = get_page(&alipay, &wap_url(&alipay, &no_product, &[]), None).await;
    assert!(page.contains("product_code"), "{page}");

    let (status, page) = get_page(&alipay, &good, None).await;
    assert_eq!(status, 200);
    assert!(page.contains("data-testid=\"alipay-pay\""));
}

/// `auth_base`: the shopper's `user_id` for a fresh code.
async fn auth_base(alipay: &Alipay) -> Value {
    let callback = "https://shop.example/api/alipay/callback?session=cs_1";
    let authorize = format!(
        "{}/alipay/oauth2/publicAppAuthorize.htm?app_id={APP_ID}&scope=auth_base&redirect_uri={}&state=st_42",
        alipay.url,
        common::encode(callback)
    );
    let response = alipay.http.get(authorize).send().await.unwrap();
    assert_eq!(response.status(), 302);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let (base, query) = location.split_once("?session=cs_1&").unwrap();
    assert_eq!(base, "https://shop.example/api/alipay/callback");
    let fields = form_fields(query);
    assert_eq!(field(&fields, "app_id"), Some(APP_ID));
    assert_eq!(field(&fields, "source"), Some("alipay_wallet"));
    assert_eq!(field(&fields, "scope"), Some("auth_base"));
    assert_eq!(field(&fields, "state"), Some("st_42"));
    let code = field(&fields, "auth_code").unwrap().to_owned();
    assert_eq!(code.len(), 32);

    let exchange = |code: String| {
        let mut params = alipay.common(OAUTH_TOKEN);
        params.push(("grant_type".into(), "authorization_code".into()));
        params.push(("code".into(), code));
        async move { alipay.send(OAUTH_TOKEN, &[], &alipay.signed(params)).await }
    };
    let reply = exchange(code.clone()).await;
    let token = reply.verified(alipay);
    assert!(
        token.get("code").is_none(),
        "oauth.token answers no code: {token}"
    );
    assert!(token["access_token"]
        .as_str()
        .is_some_and(|t| !t.is_empty()));
    assert!(token["refresh_token"]
        .as_str()
        .is_some_and(|t| !t.is_empty()));
    assert!(token["expires_in"].is_number());
    assert!(token["re_expires_in"].is_number());
    assert!(token["open_id"].as_str().is_some_and(|t| !t.is_empty()));
    let reply = exchange(code).await;
    reply.refused_in_error_response("40002", "isv.code-invalid");
    assert!(reply.sign().is_none());
    token
}

#[tokio::test]
async fn auth_base_gives_the_shopper_to_oauth_token() {
    let mut config = SandboxConfig::demo();
    config.alipay.return_domains = vec!["shop.example".to_owned()];
    let alipay = Alipay::start_with(config).await;
    let token = auth_base(&alipay).await;
    let user_id = token["user_id"].as_str().unwrap();
    assert!(user_id.starts_with("2088") && user_id.len() == 16);
    assert_eq!(
        auth_base(&alipay).await["user_id"],
        user_id,
        "the same shopper"
    );

    // A code is good three minutes.
    let authorize = |app_id: &str, scope: &str, redirect: &str| {
        format!(
            "{}/alipay/oauth2/publicAppAuthorize.htm?app_id={app_id}&scope={scope}&redirect_uri={}",
            alipay.url,
            common::encode(redirect)
        )
    };
    let response = alipay
        .http
        .get(authorize(APP_ID, "auth_base", "https://shop.example/cb"))
        .send()
        .await
        .unwrap();
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let code = field(
        &form_fields(location.split_once('?').unwrap().1),
        "auth_code",
    )
    .unwrap()
    .to_owned();
    alipay.clock.advance(Duration::from_secs(181));
    let mut params = alipay.common(OAUTH_TOKEN);
    params.push(("grant_type".into(), "authorization_code".into()));
    params.push(("code".into(), code));
    alipay
        .send(OAUTH_TOKEN, &[], &alipay.signed(params))
        .await
        .refused_in_error_response("40002", "isv.code-invalid");

    let mut params = alipay.common(OAUTH_TOKEN);
    params.push(("grant_type".into(), "password".into()));
    alipay
        .send(OAUTH_TOKEN, &[], &alipay.signed(params))
        .await
        .refused_in_error_response("40002", "isv.grant-type-invalid");

    let mut params = alipay.common(OAUTH_TOKEN);
    params.push(("grant_type".into(), "refresh_token".into()));
    params.push((
        "refresh_token".into(),
        token["refresh_token"].as_str().unwrap().into(),
    ));
    let refreshed = alipay
        .send(OAUTH_TOKEN, &[], &alipay.signed(params))
        .await
        .verified(&alipay);
    assert_eq!(refreshed["user_id"], user_id);

    for (url, code) in [
        (
            authorize("2021000000000000", "auth_base", "https://shop.example/cb"),
            "invalid-app-id",
        ),
        (
            authorize(APP_ID, "auth_base", "https://evil.example/cb"),
            "invalid-redirect-uri",
        ),
        (
            authorize(APP_ID, "auth_user", "https://shop.example/cb"),
            "invalid-scope",
        ),
    ] {
        let (status, page) = get_page(&alipay, &url, None).await;
        assert_eq!(status, 200);
        assert!(page.contains(code), "{page}");
    }
}

async fn create_trade(
    alipay: &Alipay,
    out_trade_no: &str,
    buyer: (&str, &str),
    notify_url: &str,
) -> String {
    let mut biz = order(out_trade_no);
    biz[buyer.0] = json!(buyer.1);
    biz["product_code"] = json!("JSAPI_PAY");
    let node = alipay
        .call_with(CREATE, &biz, &[("notify_url", notify_url)])
        .await
        .success(alipay);
    assert_eq!(node["out_trade_no"], out_trade_no);
    node["trade_no"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn an_in_app_trade_is_paid_with_trade_pay() {
    let alipay = Alipay::start().await;
    let receiver = FormReceiver::start().await;
    let token = auth_base(&alipay).await;
    let user_id = token["user_id"].as_str().unwrap();
    let trade_no = create_trade(&alipay, "o_app_1", ("buyer_id", user_id), &receiver.url).await;
    let waiting = alipay.query("o_app_1").await.success(&alipay);
    assert_eq!(waiting["trade_status"], "WAIT_BUYER_PAY");
    assert_eq!(waiting["buyer_user_id"], user_id);

    assert_eq!(
        alipay.trade_pay(&trade_no, "cancel").await["resultCode"],
        "6001"
    );
    assert_eq!(
        alipay.query("o_app_1").await.success(&alipay)["trade_status"],
        "WAIT_BUYER_PAY"
    );
    let paid = alipay.trade_pay(&trade_no, "pay").await;
    assert_eq!(paid["resultCode"], "9000");
    for key in ["memo", "result", "callbackUrl"] {
        assert!(paid.get(key).is_some(), "{paid}");
    }
    assert_eq!(
        alipay.query("o_app_1").await.success(&alipay)["trade_status"],
        "TRADE_SUCCESS"
    );
    let notices = receiver.wait_for(1, Duration::from_secs(10)).await;
    open_notice(&alipay, &notices[0]);
    assert_eq!(notices[0].get("buyer_id"), Some(user_id));
    assert_eq!(
        alipay.trade_pay(&trade_no, "pay").await["resultCode"],
        "4000"
    );
    assert_eq!(
        alipay
            .trade_pay("2099010122001000000000000000", "pay")
            .await["resultCode"],
        "4000"
    );

    // By open_id; refused by risk control.
    let open_id = token["open_id"].as_str().unwrap();
    let trade_no = create_trade(
        &alipay,
        "o_app_2",
        ("buyer_open_id", open_id),
        &receiver.url,
    )
    .await;
    assert_eq!(
        alipay.trade_pay(&trade_no, "decline").await["resultCode"],
        "4000"
    );
    assert_eq!(
        alipay.query("o_app_2").await.success(&alipay)["trade_status"],
        "TRADE_CLOSED"
    );

    let mut biz = order("o_app_3");
    biz["buyer_id"] = json!("2088000000000000");
    alipay
        .call(CREATE, &biz)
        .await
        .refused(&alipay, "40004", "ACQ.INVALID_PARAMETER");
    biz["buyer_id"] = json!(SELLER_ID);
    alipay
        .call(CREATE, &biz)
        .await
        .refused(&alipay, "40004", "ACQ.BUYER_SELLER_EQUAL");
    alipay
        .call(CREATE, &order("o_app_3"))
        .await
        .refused(&alipay, "40004", "ACQ.INVALID_PARAMETER");

    // A trade.create waits its timeout.
    let mut biz = order("o_app_4");
    biz["buyer_id"] = json!(user_id);
    biz["timeout_express"] = json!("1m");
    let trade_no = alipay.call(CREATE, &biz).await.success(&alipay)["trade_no"]
        .as_str()
        .unwrap()
        .to_owned();
    alipay.clock.advance(Duration::from_secs(60));
    assert_eq!(
        alipay.trade_pay(&trade_no, "pay").await["resultCode"],
        "4000"
    );
    assert_eq!(
        alipay.query("o_app_4").await.success(&alipay)["trade_status"],
        "TRADE_CLOSED"
    );
}

/// A paid in-app trade of 128.00.
async fn paid_trade(alipay: &Alipay, out_trade_no: &str, notify_url: &str) -> String {
    let trade_no = create_trade(
        alipay,
        out_trade_no,
        ("buyer_id", "2088722003891562"),
        notify_url,
    )
    .await;
    assert_eq!(
        alipay.trade_pay(&trade_no, "pay").await["resultCode"],
        "9000"
    );
    trade_no
}

fn refund_biz(out_trade_no: &str, amount: &str, out_request_no: Option<&str>) -> Value {
    let mut biz = json!({ "out_trade_no": out_trade_no, "refund_amount": amount });
    if let Some(no) = out_request_no {
        biz["out_request_no"] = json!(no);
    }
    biz
}

#[tokio::test]
async fn refunds_partial_full_too_large_and_repeated() {
    let alipay = Alipay::start().await;
    let receiver = FormReceiver::start().await;
    let trade_no = paid_trade(&alipay, "o_ref_1", &receiver.url).await;

    let first = alipay
        .call(REFUND, &refund_biz("o_ref_1", "28.00", Some("r1")))
        .await
        .success(&alipay);
    assert_eq!(first["fund_change"], "Y");
    assert_eq!(first["refund_fee"], "28.00");
    assert_eq!(first["trade_no"], trade_no.as_str());
    assert_eq!(first["buyer_logon_id"], "158****1562");
    assert!(first["gmt_refund_pay"].as_str().is_some());
    assert_eq!(
        alipay.query("o_ref_1").await.success(&alipay)["trade_status"],
        "TRADE_SUCCESS",
        "a partial refund leaves the trade paid"
    );

    let repeat = alipay
        .call(REFUND, &refund_biz("o_ref_1", "28.00", Some("r1")))
        .await
        .success(&alipay);
    assert_eq!(
        repeat["fund_change"], "N",
        "the same refund again moves no money"
    );
    assert_eq!(repeat["refund_fee"], "28.00");
    alipay
        .call(REFUND, &refund_biz("o_ref_1", "27.00", Some("r1")))
        .await
        .refused(&alipay, "40004", "ACQ.DISCORDANT_REPEAT_REQUEST");
    let node = alipay
        .call(REFUND, &refund_biz("o_ref_1", "100.01", Some("r2")))
        .await
        .refused(&alipay, "40004", "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL");
    assert_eq!(node["refund_fee"], "0.00");
    alipay
        .call(REFUND, &refund_biz("o_ref_1", "10.00", None))
        .await
        .refused(&alipay, "40004", "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL");
    alipay
        .call(REFUND, &refund_biz("o_ref_1", "0", Some("r2")))
        .await
        .refused(&alipay, "40004", "ACQ.REASON_TRADE_REFUND_FEE_ERR");
    alipay
        .call(REFUND, &refund_biz("o_ref_1", "1.234", Some("r2")))
        .await
        .refused(&alipay, "40004", "ACQ.INVALID_PARAMETER");

    let last = alipay
        .call(
            REFUND,
            &json!({ "trade_no": trade_no, "refund_amount": "100.00", "out_request_no": "r2" }),
        )
        .await
        .success(&alipay);
    assert_eq!(last["fund_change"], "Y");
    assert_eq!(last["refund_fee"], "128.00");
    assert_eq!(
        alipay.query("o_ref_1").await.success(&alipay)["trade_status"],
        "TRADE_CLOSED",
        "refunded in full, the trade closes"
    );
    alipay
        .call(REFUND, &refund_biz("o_ref_1", "1.00", Some("r3")))
        .await
        .refused(&alipay, "40004", "ACQ.TRADE_HAS_CLOSE");

    let notices = receiver.wait_for(3, Duration::from_secs(10)).await;
    assert_eq!(notices.len(), 3, "the payment and two refunds");
    for notice in &notices {
        open_notice(&alipay, notice);
    }
    let by_biz_no = |no: &str| {
        notices
            .iter()
            .find(|n| n.get("out_biz_no") == Some(no))
            .unwrap_or_else(|| panic!("no notification of {no}"))
    };
    let partial = by_biz_no("r1");
    assert_eq!(partial.get("trade_status"), Some("TRADE_SUCCESS"));
    assert_eq!(partial.get("refund_fee"), Some("28.00"));
    assert!(partial.get("gmt_refund").is_some());
    let full = by_biz_no("r2");
    assert_eq!(full.get("trade_status"), Some("TRADE_CLOSED"));
    assert_eq!(full.get("refund_fee"), Some("128.00"));
    assert!(full.get("gmt_close").is_some());

    // Only paid trades, only known ones.
    create_trade(
        &alipay,
        "o_ref_2",
        ("buyer_id", "2088722003891562"),
        &receiver.url,
    )
    .await;
    alipay
        .call(REFUND, &refund_biz("o_ref_2", "1.00", Some("r1")))
        .await
        .refused(&alipay, "40004", "ACQ.TRADE_STATUS_ERROR");
    alipay
        .call(REFUND, &refund_biz("nowhere", "1.00", Some("r1")))
        .await
        .refused(&alipay, "40004", "ACQ.TRADE_NOT_EXIST");
    // Without out_request_no, the whole amount.
    paid_trade(&alipay, "o_ref_3", &receiver.url).await;
    let whole = alipay
        .call(REFUND, &refund_biz("o_ref_3", "128.00", None))
        .await
        .success(&alipay);
    assert_eq!(whole["fund_change"], "Y");
}

#[tokio::test]
async fn refund_queries() {
    let alipay = Alipay::start().await;
    paid_trade(&alipay, "o_rq_1", "https://merchant.example/notify").await;
    alipay
        .call(REFUND, &json!({ "out_trade_no": "o_rq_1", "refund_amount": "8.00", "out_request_no": "r1", "refund_reason": "缺货" }))
        .await
        .success(&alipay);
    let known = alipay
        .call(
            REFUND_QUERY,
            &json!({ "out_trade_no": "o_rq_1", "out_request_no": "r1", "query_options": ["gmt_refund_pay"] }),
        )
        .await
        .success(&alipay);
    assert_eq!(known["refund_status"], "REFUND_SUCCESS");
    assert_eq!(known["refund_amount"], "8.00");
    assert_eq!(known["total_amount"], "128.00");
    assert_eq!(known["out_request_no"], "r1");
    assert_eq!(known["refund_reason"], "缺货");
    assert!(known["gmt_refund_pay"].as_str().is_some());

    let unknown = alipay
        .call(
            REFUND_QUERY,
            &json!({ "out_trade_no": "o_rq_1", "out_request_no": "r9" }),
        )
        .await
        .success(&alipay);
    assert_eq!(
        unknown,
        json!({ "code": "10000", "msg": "Success" }),
        "a refund it does not know: Success, without refund information"
    );
    alipay
        .call(
            REFUND_QUERY,
            &json!({ "out_trade_no": "nowhere", "out_request_no": "r1" }),
        )
        .await
        .refused(&alipay, "40004", "ACQ.TRADE_NOT_EXIST");
    alipay
        .call(REFUND_QUERY, &json!({ "out_trade_no": "o_rq_1" }))
        .await
        .refused(&alipay, "40004", "ACQ.INVALID_PARAMETER");
}

#[tokio::test]
async fn notifications_are_retried_until_the_merchant_says_success() {
    let alipay = Alipay::start().await;
    let receiver = FormReceiver::failing_first(2).await;
    let code = alipay.precreate("o_retry_1", "1.00", &receiver.url).await;
    alipay.scan(&code, "pay").await;
    let notices = receiver.wait_for(3, Duration::from_secs(10)).await;
    assert_eq!(notices.len(), 3);
    for notice in &notices {
        open_notice(&alipay, notice);
        assert_eq!(notice.get("notify_id"), notices[0].get("notify_id"));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.received().len(), 3, "after success, no more");
}

#[tokio::test]
async fn outages_and_rate_limits() {
    let alipay = Alipay::start().await;
    let state = alipay.control(json!({ "outage": true })).await;
    assert_eq!(
        state,
        json!({
            "outage": true,
            "busy": false,
            "notify": "normal",
            "notify_delay_ms": 2000,
            "refund_fund_change_later": false,
            "refund_delay_ms": 500,
            "balance_short": false,
        })
    );
    alipay
        .call(PRECREATE, &order("o_ctl_1"))
        .await
        .refused(&alipay, "20000", "isp.unknow-error");
    let reply = alipay.query("o_ctl_1").await;
    reply.refused(&alipay, "20000", "isp.unknow-error");
    assert!(reply.sign().is_some(), "signed: {}", reply.raw);
    let url = wap_url(
        &alipay,
        &wap_order("o_ctl_1", "https://shop.example/q"),
        &[],
    );
    assert!(get_page(&alipay, &url, None)
        .await
        .1
        .contains("isp.unknow-error"));

    alipay
        .control(json!({ "outage": false, "busy": true }))
        .await;
    let node = alipay.call(PRECREATE, &order("o_ctl_1")).await.refused(
        &alipay,
        "40005",
        "isv.app-call-limited",
    );
    assert_eq!(node["msg"], "Call Limited");
    alipay.control(json!({ "busy": false })).await;
    alipay
        .call(PRECREATE, &order("o_ctl_1"))
        .await
        .success(&alipay);

    let response = alipay
        .http
        .post(format!("{}/alipay/control", alipay.url))
        .json(&json!({ "notify": "sometimes" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let read: Value = alipay
        .http
        .get(format!("{}/alipay/control", alipay.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(read["busy"], false);
}

#[tokio::test]
async fn late_duplicate_and_dropped_notifications() {
    let alipay = Alipay::start().await;
    alipay
        .control(json!({ "notify": "late", "notify_delay_ms": 800 }))
        .await;
    let receiver = FormReceiver::start().await;
    let code = alipay.precreate("o_late_1", "1.00", &receiver.url).await;
    let paid_at = std::time::Instant::now();
    alipay.scan(&code, "pay").await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(receiver.received().is_empty(), "not before the delay");
    let notices = receiver.wait_for(1, Duration::from_secs(10)).await;
    assert!(notices[0].at - paid_at >= Duration::from_millis(800));

    alipay.control(json!({ "notify": "duplicate" })).await;
    let receiver = FormReceiver::start().await;
    let code = alipay.precreate("o_dup_1", "1.00", &receiver.url).await;
    alipay.scan(&code, "pay").await;
    let notices = receiver.wait_for(2, Duration::from_secs(10)).await;
    assert_eq!(notices.len(), 2);
    assert_eq!(notices[0].get("notify_id"), notices[1].get("notify_id"));

    alipay.control(json!({ "notify": "drop" })).await;
    let receiver = FormReceiver::start().await;
    let code = alipay.precreate("o_drop_1", "1.00", &receiver.url).await;
    alipay.scan(&code, "pay").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(receiver.received().is_empty());
    assert_eq!(
        alipay.query("o_drop_1").await.success(&alipay)["trade_status"],
        "TRADE_SUCCESS",
        "only a query tells"
    );
}

#[tokio::test]
async fn out_of_order_notifications_send_the_later_first() {
    let alipay = Alipay::start().await;
    alipay
        .control(json!({ "notify": "out_of_order", "notify_delay_ms": 1000 }))
        .await;
    let receiver = FormReceiver::start().await;
    paid_trade(&alipay, "o_ooo_1", &receiver.url).await;
    alipay
        .call(REFUND, &refund_biz("o_ooo_1", "128.00", Some("r1")))
        .await
        .success(&alipay);
    let notices = receiver.wait_for(2, Duration::from_secs(10)).await;
    assert_eq!(notices.len(), 2);
    assert_eq!(notices[0].get("out_biz_no"), Some("r1"), "the refund first");
    assert_eq!(notices[0].get("trade_status"), Some("TRADE_CLOSED"));
    assert_eq!(notices[1].get("trade_status"), Some("TRADE_SUCCESS"));
    assert!(notices[1].get("out_biz_no").is_none(), "then the payment");
}

#[tokio::test]
async fn refunds_whose_money_moves_later_and_a_short_balance() {
    let alipay = Alipay::start().await;
    alipay
        .control(json!({ "refund_fund_change_later": true, "refund_delay_ms": 300 }))
        .await;
    let receiver = FormReceiver::start().await;
    paid_trade(&alipay, "o_slow_1", &receiver.url).await;
    let asked = alipay
        .call(REFUND, &refund_biz("o_slow_1", "20.00", Some("r1")))
        .await
        .success(&alipay);
    assert_eq!(asked["fund_change"], "N");
    assert_eq!(asked["refund_fee"], "0.00");
    let query = json!({ "out_trade_no": "o_slow_1", "out_request_no": "r1" });
    let processing = alipay.call(REFUND_QUERY, &query).await.success(&alipay);
    assert!(processing.get("refund_status").is_none(), "{processing}");
    assert_eq!(processing["refund_amount"], "20.00");

    let notices = receiver.wait_for(2, Duration::from_secs(10)).await;
    let refund_notice = notices
        .iter()
        .find(|n| n.get("out_biz_no") == Some("r1"))
        .expect("the refund is notified once its money moved");
    open_notice(&alipay, refund_notice);
    assert_eq!(refund_notice.get("refund_fee"), Some("20.00"));
    let done = alipay.call(REFUND_QUERY, &query).await.success(&alipay);
    assert_eq!(done["refund_status"], "REFUND_SUCCESS");

    alipay
        .control(json!({ "refund_fund_change_later": false, "balance_short": true }))
        .await;
    alipay
        .call(REFUND, &refund_biz("o_slow_1", "1.00", Some("r2")))
        .await
        .refused(&alipay, "40004", "ACQ.SELLER_BALANCE_NOT_ENOUGH");
    alipay.control(json!({ "balance_short": false })).await;
    alipay
        .call(REFUND, &refund_biz("o_slow_1", "1.00", Some("r2")))
        .await
        .success(&alipay);
}

#[tokio::test]
async fn the_phone_page_pays_a_pasted_code_and_keeps_a_statement() {
    let alipay = Alipay::start().await;
    let page = alipay
        .http
        .get(format!("{}/alipay/phone", alipay.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("data-testid=\"alipay-phone-pay\""));
    assert!(!page.contains("data-testid=\"statement-line\""));

    let code = alipay
        .precreate("o_phone_1", "12.50", "https://merchant.example/n")
        .await;
    let response = alipay
        .http
        .post(format!("{}/alipay/phone", alipay.url))
        .form(&[("qr_code", code.as_str()), ("outcome", "pay")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().contains("TRADE_SUCCESS"));
    alipay
        .call(REFUND, &refund_biz("o_phone_1", "2.50", Some("r1")))
        .await
        .success(&alipay);

    let page = alipay
        .http
        .get(format!("{}/alipay/phone", alipay.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(page.matches("data-testid=\"statement-line\"").count(), 2);
    assert!(
        page.contains("-¥12.50") && page.contains("+¥2.50"),
        "{page}"
    );

    let response = alipay
        .http
        .post(format!("{}/alipay/phone", alipay.url))
        .form(&[("qr_code", code.as_str()), ("outcome", "pay")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 409);
}
