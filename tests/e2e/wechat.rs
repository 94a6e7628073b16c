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
        text == "The payment was declined"
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
async fn answer_bridge(app: &App, browser: &Browser, outcome: &str) -> String {
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
async fn inside_wechat_closing_the_payment_sheet_goes_back_to_the_methods() {
    let app = App::start().await;
    let browser = pay_inside_wechat(&app).await;
    assert_eq!(
        answer_bridge(&app, &browser, "cancel").await,
        "get_brand_wcpay_request:cancel"
    );
    let page = CheckoutPage::returned(&browser.client);
    page.wait_for("method-list").await;
    // The code is canceled in the background: its answer is in before the
    // page is read, so an error it brought would be on screen.
    let mut canceled = false;
    for _ in 0..100 {
        canceled = browser
            .client
            .execute(
                "return performance.getEntriesByType('resource')
                    .some((entry) => entry.name.endsWith('/cancel') && entry.responseEnd > 0);",
                vec![],
            )
            .await
            .ok()
            .and_then(|done| done.as_bool())
            .unwrap_or(false);
        if canceled {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(canceled, "the page canceled the code it left");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !page.shows("error").await,
        "closing the sheet is not an error"
    );
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
