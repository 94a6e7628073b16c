//! China Mobile Pay (和包支付): the checkout sends the whole page to China
//! Mobile's cashier (the address `cmpayService` answered), the shopper
//! pays, is declined or gives up there, and comes back through the server
//! to a page that asks it; on a desktop and on a phone.

use serde_json::json;

use crate::app::App;
use crate::browser::{Browser, Device};
use crate::checkout_page::CheckoutPage;

/// Chooses China Mobile Pay and presses Pay: the cashier.
async fn to_the_cashier(app: &App, browser: &Browser) {
    let page = CheckoutPage::open(&browser.client, &app.url()).await;
    page.choose("china_mobile_pay").await;
    page.pay().await;
    let at = browser
        .arrived_at(|url| url.contains("/cmpay/wap/index.xhtml"))
        .await;
    assert!(at.starts_with(&app.sandbox), "{at}");
}

/// Back at the shop's page.
async fn back_at_the_shop(app: &App, browser: &Browser) -> CheckoutPage {
    let back = browser
        .arrived_at(|url| url.contains("payment_intent="))
        .await;
    assert!(
        back.starts_with(&app.url()) && back.contains("payment_intent=pi_"),
        "{back}"
    );
    CheckoutPage::returned(&browser.client)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_desktop_shopper_pays_at_china_mobile_s_cashier_and_comes_back_paid() {
    let app = App::start().await;
    let browser = Browser::start("zh-CN").await;
    let page = CheckoutPage::open(&browser.client, &app.url()).await;
    assert_eq!(page.text("method-china_mobile_pay").await, "和包支付");
    to_the_cashier(&app, &browser).await;
    browser.click("[data-testid=cmpay-pay]").await;
    let page = back_at_the_shop(&app, &browser).await;
    page.wait_for_text("outcome-headline", |text| text == "支付成功")
        .await;
    let intent = app.latest_intent().await;
    assert_eq!(
        (&intent["status"], &intent["method"]),
        (&json!("succeeded"), &json!("china_mobile_pay")),
        "{intent}"
    );
    assert!(intent["transaction_id"].is_string(), "{intent}");
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_shopper_declined_at_china_mobile_s_cashier_can_pay_another_way() {
    let app = App::start().await;
    let browser = Browser::start_as("en-US", Device::Phone).await;
    to_the_cashier(&app, &browser).await;
    browser.click("[data-testid=cmpay-decline]").await;
    let page = back_at_the_shop(&app, &browser).await;
    page.wait_for_text("outcome-headline", |text| {
        text == "The payment institution declined the payment"
    })
    .await;
    page.press("choose-another").await;
    page.wait_for("method-list").await;
    page.choose("alipay").await;
    assert!(page.can_pay().await, "another method can be chosen");
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_shopper_who_gives_up_at_china_mobile_s_cashier_comes_back_to_choose_again() {
    let app = App::start().await;
    let browser = Browser::start_as("zh-TW", Device::Phone).await;
    to_the_cashier(&app, &browser).await;
    browser.click("[data-testid=cmpay-back]").await;
    let page = back_at_the_shop(&app, &browser).await;
    page.wait_for_text("outcome-headline", |text| text.starts_with("尚未收到付款"))
        .await;
    assert_eq!(app.latest_intent().await["status"], "requires_action");
    page.press("choose-another").await;
    page.wait_for("method-list").await;
    assert!(page.can_pay().await, "another try can start");
    browser.close().await;
}
