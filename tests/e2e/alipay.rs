//! Alipay on every device: its code on a desktop (scanned, confirmed on the
//! phone), its WAP cashier in a phone's browser (a POST form to Alipay's
//! gateway), and `tradePay` inside the Alipay app (a stand-in
//! `AlipayJSBridge` that announces itself late and has Alipay's emulator
//! pay, as the app's own would).

use std::time::Duration;

use serde_json::{json, Value};

use crate::app::App;
use crate::bridge;
use crate::browser::{Browser, Device};
use crate::checkout_page::CheckoutPage;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_desktop_shopper_scans_alipay_s_code_finishes_on_the_phone_and_the_payment_lands() {
    let app = App::start().await;
    let browser = Browser::start("zh-CN").await;
    let page = CheckoutPage::open(&browser.client, &app.url()).await;
    assert_eq!(page.text("method-alipay").await, "支付宝");
    page.choose("alipay").await;
    assert_eq!(page.text("pay-button").await, "支付 ¥128.00");
    page.pay().await;
    let code = page.scan_qr_code().await;
    assert!(
        code.starts_with("https://qr.alipay.com/"),
        "scanned {code:?}"
    );
    assert_eq!(
        page.text("qr-panel").await.lines().next(),
        Some("请使用支付宝扫一扫完成支付")
    );

    // Scanned: Alipay has the trade, waiting for the shopper to confirm.
    // The server learns it when it next asks Alipay (a notification is
    // overdue after 15 s); the code gives way to the word to finish there.
    assert!(app.alipay_scan(&code, "scan").await.status().is_success());
    page.wait_for_text_within(
        "outcome-headline",
        |text| text == "请在手机上完成支付",
        Duration::from_secs(30),
    )
    .await;
    assert!(!page.shows("qr-code").await, "no code to scan twice");
    assert!(app.alipay_scan(&code, "pay").await.status().is_success());
    page.wait_for_text("outcome-headline", |text| text == "支付成功")
        .await;
    paid_with_alipay(&app).await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_shopper_pays_at_alipay_s_cashier_and_comes_back_paid() {
    let app = App::start().await;
    let browser = Browser::start_as("en-US", Device::Phone).await;
    let page = CheckoutPage::open(&browser.client, &app.url()).await;
    page.choose("alipay").await;
    page.pay().await;
    // The page posts the signed request to Alipay's gateway, which shows
    // its cashier.
    browser.click("[data-testid=alipay-pay]").await;
    let back = browser
        .arrived_at(|url| url.contains("payment_intent="))
        .await;
    assert!(
        back.starts_with(&app.url()) && back.contains("payment_intent=pi_"),
        "{back}"
    );
    let page = CheckoutPage::returned(&browser.client);
    page.wait_for_text("outcome-headline", |text| text == "Payment succeeded")
        .await;
    paid_with_alipay(&app).await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_shopper_refused_at_alipay_s_cashier_is_told_and_can_pay_another_way() {
    let app = App::start().await;
    let browser = Browser::start_as("zh-TW", Device::Phone).await;
    let page = CheckoutPage::open(&browser.client, &app.url()).await;
    page.choose("alipay").await;
    page.pay().await;
    browser.click("[data-testid=alipay-decline]").await;
    // Alipay's page says the trade is closed, with a way back to the shop.
    browser.click("[data-testid=alipay-back]").await;
    let page = CheckoutPage::returned(&browser.client);
    page.wait_for_text("outcome-headline", |text| text == "支付機構已關閉本次付款")
        .await;
    let closed = app.latest_intent().await;
    assert_eq!(
        (&closed["status"], &closed["failure_reason"]),
        (&json!("failed"), &json!("closed_by_provider"))
    );
    page.press("choose-another").await;
    page.wait_for("method-list").await;
    page.choose("wechat_pay").await;
    assert!(page.can_pay().await, "another method can be chosen");
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_shopper_who_gives_up_at_alipay_s_cashier_hears_nothing_was_paid() {
    let app = App::start().await;
    let browser = Browser::start_as("en-US", Device::Phone).await;
    let page = CheckoutPage::open(&browser.client, &app.url()).await;
    page.choose("alipay").await;
    page.pay().await;
    browser.click("[data-testid=alipay-quit]").await;
    let page = CheckoutPage::returned(&browser.client);
    page.wait_for_text("outcome-headline", |text| {
        text.starts_with("No payment received yet.")
    })
    .await;
    assert_eq!(
        app.latest_intent().await["status"],
        "requires_action",
        "nothing paid, nothing ended: the order can still be paid"
    );
    page.press("choose-another").await;
    page.wait_for("method-list").await;
    assert!(page.can_pay().await, "another try can start");
    browser.close().await;
}

/// The server holds the order as paid with Alipay, Alipay's trade number
/// beside it.
async fn paid_with_alipay(app: &App) {
    let intent = app.latest_intent().await;
    assert_eq!(
        (&intent["status"], &intent["method"]),
        (&json!("succeeded"), &json!("alipay")),
        "{intent}"
    );
    assert!(intent["transaction_id"].is_string(), "{intent}");
}

/// Alipay's bridge: `AlipayJSBridge.call(name, args, callback)`.
fn alipay_bridge() -> String {
    bridge::stand_in("AlipayJSBridge", "call", "AlipayJSBridgeReady")
}

/// The Alipay app: the shopper acts in the payment sheet, Alipay's
/// emulator settles the trade, and the page's callback hears `resultCode`.
pub async fn answer_bridge(app: &App, browser: &Browser, outcome: &str) -> String {
    let call = bridge::first_call(browser).await;
    assert_eq!(call["name"], "tradePay");
    let trade_no = call["args"]["tradeNO"].as_str().unwrap_or_default();
    assert!(!trade_no.is_empty(), "{call}");
    let answer: Value = reqwest::Client::new()
        .post(format!("{}/alipay/phone/trade-pay", app.sandbox))
        .json(&json!({ "trade_no": trade_no, "outcome": outcome }))
        .send()
        .await
        .expect("the emulator answers")
        .json()
        .await
        .expect("JSON");
    bridge::answer(browser, answer.clone()).await;
    answer["resultCode"].as_str().unwrap_or_default().to_owned()
}

/// Opens the checkout inside the Alipay app and presses Pay: Alipay's
/// silent authorisation and back, then the bridge.
async fn pay_inside_alipay(app: &App) -> Browser {
    let browser = Browser::start_as("zh-CN", Device::InAlipay).await;
    browser.on_every_page(&alipay_bridge()).await;
    let page = CheckoutPage::open(&browser.client, &app.url()).await;
    assert_eq!(
        page.chosen().await.as_deref(),
        Some("alipay"),
        "the only method that can be chosen here"
    );
    let methods = page.methods().await;
    assert!(
        methods
            .iter()
            .any(|(kind, _, selectable)| kind == "wechat_pay" && !selectable),
        "WeChat Pay cannot be chosen inside Alipay: {methods:?}"
    );
    page.pay().await;
    browser
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inside_alipay_the_shopper_pays_with_trade_pay() {
    let app = App::start().await;
    let browser = pay_inside_alipay(&app).await;
    assert_eq!(answer_bridge(&app, &browser, "pay").await, "9000");
    let page = CheckoutPage::returned(&browser.client);
    page.wait_for_text("outcome-headline", |text| text == "支付成功")
        .await;
    paid_with_alipay(&app).await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inside_alipay_closing_the_sheet_goes_back_and_a_refusal_says_so() {
    let app = App::start().await;
    let browser = pay_inside_alipay(&app).await;
    assert_eq!(answer_bridge(&app, &browser, "cancel").await, "6001");
    let page = CheckoutPage::returned(&browser.client);
    page.wait_for("method-list").await;
    page.wait_for_text("error", |text| {
        text == "支付已取消，可再次支付或选择其他支付方式"
    })
    .await;
    assert_eq!(page.chosen().await.as_deref(), Some("alipay"));

    // Again, refused by Alipay this time: no second authorisation.
    bridge::forget_calls(&browser).await;
    page.pay().await;
    assert_eq!(answer_bridge(&app, &browser, "decline").await, "4000");
    page.wait_for_text("error", |text| text == "支付宝无法发起支付")
        .await;
    page.wait_for("method-list").await;
    browser.close().await;
}
