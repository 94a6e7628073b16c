//! UnionPay: a bank card on UnionPay's own page (the checkout posts the
//! signed form as the whole page; the card number and the bank's SMS code
//! are entered there; UnionPay's page posts the result back through the
//! server), on a desktop and on a phone, declined, or given up; and a
//! QuickPass code on a desktop, read from the screen as a phone would.

use std::time::Duration;

use serde_json::json;

use crate::app::App;
use crate::browser::{Browser, Device};
use crate::checkout_page::CheckoutPage;

pub const DEBIT: &str = "6216261000000000018";
const CREDIT: &str = "6221558812340000";
const SHORT_OF_FUNDS: &str = "6216261000000000026";
const SMS: &str = "111111";

/// On UnionPay's card page: the card, then the SMS code.
pub async fn pay_on_unionpay_s_page(browser: &Browser, card: &str) {
    browser
        .type_into("[data-testid=unionpay-card-number]", card)
        .await;
    browser.click("[data-testid=unionpay-next]").await;
    browser
        .type_into("[data-testid=unionpay-sms-code]", SMS)
        .await;
    browser.click("[data-testid=unionpay-pay]").await;
}

/// Back at the shop's page, once UnionPay's page has posted its result to
/// the server and the server has sent the browser on.
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

/// The server holds the order as paid with `method`, UnionPay's `queryId`
/// beside it.
async fn paid_with(app: &App, method: &str) {
    let intent = app.latest_intent().await;
    assert_eq!(
        (&intent["status"], &intent["method"]),
        (&json!("succeeded"), &json!(method)),
        "{intent}"
    );
    assert_eq!(
        intent["transaction_id"].as_str().map(str::len),
        Some(21),
        "{intent}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_desktop_shopper_pays_by_card_on_unionpay_s_page_and_comes_back_paid() {
    let app = App::start().await;
    // The page's forms may go to its own origin and to the gateways the
    // server's configuration names (here the sandbox's), nowhere else.
    let policy = app.page_policy().await;
    assert!(
        policy.contains(&format!("form-action 'self' {};", app.sandbox)),
        "{policy}"
    );
    let browser = Browser::start("zh-CN").await;
    let page = CheckoutPage::open(&browser.client, &app.url()).await;
    assert_eq!(page.text("method-card").await, "银行卡");
    page.choose("card").await;
    page.pay().await;
    // The whole page goes to UnionPay's gateway with the signed form.
    let at = browser
        .arrived_at(|url| url.contains("/unionpay/gateway/api/frontTransReq.do"))
        .await;
    assert!(at.starts_with(&app.sandbox), "{at}");
    pay_on_unionpay_s_page(&browser, DEBIT).await;
    let page = back_at_the_shop(&app, &browser).await;
    page.wait_for_text("outcome-headline", |text| text == "支付成功")
        .await;
    paid_with(&app, "card").await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_shopper_pays_by_credit_card_on_unionpay_s_phone_page() {
    let app = App::start().await;
    let browser = Browser::start_as("en-US", Device::Phone).await;
    let page = CheckoutPage::open(&browser.client, &app.url()).await;
    assert_eq!(page.text("method-card").await, "Bank card");
    page.choose("card").await;
    page.pay().await;
    pay_on_unionpay_s_page(&browser, CREDIT).await;
    let page = back_at_the_shop(&app, &browser).await;
    page.wait_for_text("outcome-headline", |text| text == "Payment succeeded")
        .await;
    paid_with(&app, "card").await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_card_short_of_funds_is_declined_and_the_shopper_can_pay_another_way() {
    let app = App::start().await;
    let browser = Browser::start_as("zh-TW", Device::Phone).await;
    let page = CheckoutPage::open(&browser.client, &app.url()).await;
    page.choose("card").await;
    page.pay().await;
    pay_on_unionpay_s_page(&browser, SHORT_OF_FUNDS).await;
    let page = back_at_the_shop(&app, &browser).await;
    page.wait_for_text("outcome-headline", |text| text == "支付機構拒絕了本次付款")
        .await;
    let declined = app.latest_intent().await;
    assert_eq!(
        (&declined["status"], &declined["failure_reason"]),
        (&json!("failed"), &json!("declined"))
    );
    page.press("choose-another").await;
    page.wait_for("method-list").await;
    page.choose("alipay").await;
    assert!(page.can_pay().await, "another method can be chosen");
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shopper_who_gives_up_on_unionpay_s_page_hears_nothing_was_paid() {
    let app = App::start().await;
    let browser = Browser::start("en-US").await;
    let page = CheckoutPage::open(&browser.client, &app.url()).await;
    page.choose("card").await;
    page.pay().await;
    browser.click("[data-testid=unionpay-back]").await;
    let page = back_at_the_shop(&app, &browser).await;
    page.wait_for_text("outcome-headline", |text| {
        text.starts_with("No payment received yet.")
    })
    .await;
    assert_eq!(
        app.latest_intent().await["status"],
        "requires_action",
        "nothing paid, nothing ended"
    );
    page.press("choose-another").await;
    page.wait_for("method-list").await;
    assert!(page.can_pay().await, "another try can start");
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_desktop_shopper_scans_the_quickpass_code_and_the_payment_lands() {
    let app = App::start().await;
    let browser = Browser::start("zh-CN").await;
    let page = CheckoutPage::open(&browser.client, &app.url()).await;
    assert_eq!(page.text("method-unionpay").await, "银联云闪付");
    page.choose("unionpay").await;
    page.pay().await;
    let code = page.scan_qr_code().await;
    assert!(
        code.starts_with("https://qr.95516.com/"),
        "scanned {code:?}"
    );
    assert_eq!(
        page.text("qr-panel").await.lines().next(),
        Some("请使用云闪付扫码支付")
    );
    assert!(app
        .quickpass_scan(&code, "scan")
        .await
        .status()
        .is_success());
    page.wait_for_text_within(
        "outcome-headline",
        |text| text == "请在手机上完成支付",
        Duration::from_secs(30),
    )
    .await;
    assert!(app.quickpass_scan(&code, "pay").await.status().is_success());
    page.wait_for_text("outcome-headline", |text| text == "支付成功")
        .await;
    paid_with(&app, "unionpay").await;
    browser.close().await;
}
