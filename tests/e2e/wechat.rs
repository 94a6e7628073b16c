//! WeChat Pay on a phone: the H5 page in a phone's browser, and the JS
//! bridge inside WeChat (a stand-in `WeixinJSBridge` that announces itself
//! late and has WeChat Pay's emulator pay, as WeChat's own would).

use std::time::Duration;

use serde_json::{json, Value};

use crate::app::App;
use crate::bridge;
use crate::browser::{Browser, Device};
use crate::checkout_page::CheckoutPage;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_shopper_pays_on_wechat_s_h5_page_and_comes_back_paid() {
    let app = App::start().await;
    let browser = Browser::start_as("en-US", Device::Phone).await;
    let page = CheckoutPage::open(&browser.client, &app.url()).await;
    page.choose("wechat_pay").await;
    page.pay().await;
    // The page leaves for WeChat Pay's H5 page.
    browser.click("[data-testid=h5-pay]").await;
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
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_shopper_who_declines_on_the_h5_page_is_told_so_and_can_try_again() {
    let app = App::start().await;
    let browser = Browser::start_as("en-US", Device::Phone).await;
    let page = CheckoutPage::open(&browser.client, &app.url()).await;
    page.choose("wechat_pay").await;
    page.pay().await;
    browser.click("[data-testid=h5-decline]").await;
    let page = CheckoutPage::returned(&browser.client);
    page.wait_for_text("outcome-headline", |text| {
        text == "The payment institution declined the payment"
    })
    .await;
    page.press("choose-another").await;
    page.wait_for("method-list").await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_shopper_who_cancels_on_the_h5_page_hears_nothing_was_paid_and_chooses_again() {
    let app = App::start().await;
    let browser = Browser::start_as("en-US", Device::Phone).await;
    let page = CheckoutPage::open(&browser.client, &app.url()).await;
    page.choose("wechat_pay").await;
    page.pay().await;
    // WeChat sends the shopper back whether or not they paid, and tells
    // nobody of a cancel: the checkout can only keep asking, and say so.
    browser.click("[data-testid=h5-cancel]").await;
    let page = CheckoutPage::returned(&browser.client);
    page.wait_for_text("outcome-headline", |text| text == "Checking the payment…")
        .await;
    page.wait_for_text("outcome-headline", |text| {
        text.starts_with("No payment received yet.")
    })
    .await;
    page.press("choose-another").await;
    page.wait_for("method-list").await;
    assert!(page.can_pay().await, "another try can start");
    browser.close().await;
}

/// WeChat's bridge: `WeixinJSBridge.invoke(name, params, callback)`.
fn wechat_bridge() -> String {
    bridge::stand_in("WeixinJSBridge", "invoke", "WeixinJSBridgeReady")
}

/// WeChat's client: the shopper acts in the sheet, WeChat Pay's emulator
/// settles the payment, and the page's callback hears `err_msg`.
pub async fn answer_bridge(app: &App, browser: &Browser, outcome: &str) -> String {
    let call = bridge::first_call(browser).await;
    assert_eq!(call["name"], "getBrandWCPayRequest");
    let mut request = call["args"].clone();
    for field in [
        "appId",
        "timeStamp",
        "nonceStr",
        "package",
        "signType",
        "paySign",
    ] {
        assert!(request[field].is_string(), "{field} in {request}");
    }
    request["outcome"] = json!(outcome);
    let answer: Value = reqwest::Client::new()
        .post(format!("{}/phone/jsapi", app.sandbox))
        .json(&request)
        .send()
        .await
        .expect("the emulator answers")
        .json()
        .await
        .expect("JSON");
    let err_msg = answer["err_msg"].as_str().unwrap_or_default().to_owned();
    bridge::answer(browser, json!({ "err_msg": err_msg })).await;
    err_msg
}

/// Opens the checkout inside WeChat and presses Pay: WeChat's authorisation
/// and back, then the bridge.
async fn pay_inside_wechat(app: &App) -> Browser {
    let browser = Browser::start_as("zh-CN", Device::InWechat).await;
    browser.on_every_page(&wechat_bridge()).await;
    let page = CheckoutPage::open(&browser.client, &app.url()).await;
    assert_eq!(page.chosen().await.as_deref(), Some("wechat_pay"));
    let methods = page.methods().await;
    assert!(
        methods
            .iter()
            .any(|(kind, _, selectable)| kind == "alipay" && !selectable),
        "Alipay cannot be chosen inside WeChat: {methods:?}"
    );
    page.pay().await;
    browser
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inside_wechat_the_shopper_authorises_and_pays_through_the_bridge() {
    let app = App::start().await;
    let browser = pay_inside_wechat(&app).await;
    assert_eq!(
        answer_bridge(&app, &browser, "pay").await,
        "get_brand_wcpay_request:ok"
    );
    let page = CheckoutPage::returned(&browser.client);
    page.wait_for_text("outcome-headline", |text| text == "支付成功")
        .await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inside_wechat_closing_the_payment_sheet_says_so_and_pay_tries_again() {
    let app = App::start().await;
    let browser = pay_inside_wechat(&app).await;
    assert_eq!(
        answer_bridge(&app, &browser, "cancel").await,
        "get_brand_wcpay_request:cancel"
    );
    let page = CheckoutPage::returned(&browser.client);
    page.wait_for_text("error", |text| {
        text == "支付已取消，可再次支付或选择其他支付方式"
    })
    .await;
    assert_eq!(
        page.chosen().await.as_deref(),
        Some("wechat_pay"),
        "WeChat Pay is still chosen"
    );
    assert!(page.can_pay().await, "Pay is there to try again");
    // The code is canceled in the background.
    let mut canceled = false;
    for _ in 0..100 {
        canceled = app.latest_intent().await["status"] == "canceled";
        if canceled {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(canceled, "the page canceled the intent it left");
    // Pay opens the sheet again, for a new intent.
    bridge::forget_calls(&browser).await;
    page.pay().await;
    assert_eq!(
        answer_bridge(&app, &browser, "pay").await,
        "get_brand_wcpay_request:ok"
    );
    page.wait_for_text("outcome-headline", |text| text == "支付成功")
        .await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inside_wechat_an_answer_the_checkout_does_not_know_asks_the_server_and_closes_nothing() {
    let app = App::start().await;
    let browser = pay_inside_wechat(&app).await;
    let call = bridge::first_call(&browser).await;
    assert_eq!(call["name"], "getBrandWCPayRequest");
    bridge::answer(&browser, json!({ "err_msg": "system:access_denied" })).await;
    let page = CheckoutPage::returned(&browser.client);
    page.wait_for_text("outcome-headline", |text| text == "正在确认支付结果…")
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        app.latest_intent().await["status"],
        "requires_action",
        "the intent stays payable: only the server knows how it went"
    );
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inside_wechat_a_bridge_that_never_comes_is_told_and_a_late_one_opens_nothing() {
    let app = App::start().await;
    let browser = Browser::start_as("zh-CN", Device::InWechat).await;
    // WeChat's bridge arrives 12 s after each page: after the checkout
    // has given up on it (10 s).
    browser
        .on_every_page(&bridge::stand_in_after(
            "WeixinJSBridge",
            "invoke",
            "WeixinJSBridgeReady",
            12_000,
        ))
        .await;
    let page = CheckoutPage::open(&browser.client, &app.url()).await;
    page.pay().await;
    let page = CheckoutPage::returned(&browser.client);
    // First the sheet is opening, then, a few seconds on, a way out.
    page.wait_for_text("outcome-headline", |text| text == "正在打开微信支付…")
        .await;
    page.wait_for_text_within(
        "outcome-headline",
        |text| text == "支付没有打开？请重试或选择其他支付方式",
        Duration::from_secs(10),
    )
    .await;
    assert!(page.shows("retry-hand-off").await);
    assert!(page.shows("choose-another").await);
    // Then the checkout gives up: said, with WeChat Pay still chosen.
    page.wait_for_text_within(
        "error",
        |text| text == "微信无法发起支付",
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(page.chosen().await.as_deref(), Some("wechat_pay"));
    // The bridge that comes now opens nothing for the intent just closed.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let calls = browser
        .client
        .execute("return window.__bridgeCalls || [];", vec![])
        .await
        .expect("the calls");
    assert_eq!(calls, json!([]), "no sheet opened late");
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inside_wechat_a_failed_payment_says_so_and_the_methods_come_back() {
    let app = App::start().await;
    let browser = pay_inside_wechat(&app).await;
    assert_eq!(
        answer_bridge(&app, &browser, "decline").await,
        "get_brand_wcpay_request:fail"
    );
    let page = CheckoutPage::returned(&browser.client);
    page.wait_for_text("error", |text| text == "微信无法发起支付")
        .await;
    page.wait_for("method-list").await;
    browser.close().await;
}
