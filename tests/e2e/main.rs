//! End-to-end journeys: the release page, served by the real reference
//! server (sandbox mode, a fresh SQLite file), in a real headless Chromium.
//! `cargo xtask test` builds the page first and points `PS_DIST_DIR` at it.

mod alipay;
mod app;
mod bridge;
mod browser;
mod checkout_page;
mod cmpay;
mod first_screen;
mod gallery;
mod hand_off;
mod one_code;
mod package;
mod shop_server;
mod shopper;
mod unionpay;
mod wechat;

use app::App;
use browser::Browser;
use checkout_page::CheckoutPage;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_desktop_shopper_pays_with_wechat_by_scanning_the_code() {
    let app = App::start().await;
    let browser = Browser::start("en-US").await;
    let page = CheckoutPage::open(&browser.client, &app.url()).await;

    // The whole journey below runs under a policy with no inline styles
    // (but a server-drawn first screen's, by its hash) and no script but
    // the page's own.
    let policy = app.page_policy().await;
    assert!(
        policy.contains("script-src 'self' 'wasm-unsafe-eval' 'sha256-"),
        "{policy}"
    );
    assert_first_screen_styles_only(&policy);
    assert!(!policy.contains("unsafe-inline"), "{policy}");

    assert_eq!(page.amount().await, "¥128.00");
    let methods = page.methods().await;
    assert!(
        methods
            .iter()
            .any(|(kind, label, selectable)| kind == "wechat_pay"
                && label == "WeChat Pay"
                && *selectable),
        "WeChat Pay is offered: {methods:?}"
    );
    assert!(
        methods
            .iter()
            .any(|(kind, label, selectable)| kind == "alipay" && label == "Alipay" && *selectable),
        "Alipay is offered: {methods:?}"
    );
    assert_eq!(
        page.chosen().await,
        None,
        "with two methods to choose from, the shopper chooses"
    );
    assert!(!page.can_pay().await, "nothing to pay with yet");

    page.choose("wechat_pay").await;
    assert!(page.can_pay().await);
    assert_eq!(page.text("pay-button").await, "Pay ¥128.00");
    page.pay().await;

    let payload = page.scan_qr_code().await;
    assert!(
        payload.starts_with("weixin://wxpay/bizpayurl?pr="),
        "scanned {payload:?}"
    );
    assert_eq!(page.text("qr-amount").await, "¥128.00");
    let countdown = page.text("countdown").await;
    assert!(countdown.starts_with("Expires in "), "{countdown}");
    page.wait_for_text("status", |status| status == "Waiting for payment…")
        .await;

    page.press("simulate-scan").await;
    page.wait_for_text("outcome-headline", |text| text == "Payment succeeded")
        .await;
    // The shopper pressed a button in the checkout: the outcome's heading
    // takes the focus and says it; the live region does not say it again.
    assert_eq!(page.text("status").await, "");
    assert!(!page.shows("qr-code").await, "the code is gone once paid");
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leaving_a_code_cancels_it_and_a_new_payment_gets_a_new_code() {
    let app = App::start().await;
    let browser = Browser::start("en-US").await;
    let page = CheckoutPage::open(&browser.client, &app.url()).await;

    page.choose("wechat_pay").await;
    page.pay().await;
    let first = page.scan_qr_code().await;
    page.press("choose-another").await;
    page.wait_for("method-list").await;

    page.choose("wechat_pay").await;
    page.pay().await;
    let second = page.scan_qr_code().await;
    assert_ne!(first, second, "a new payment shows a new code");

    // The abandoned code is closed: scanning it now pays nothing.
    let refused = app.sandbox_scan(&first).await;
    assert_eq!(
        refused.status(),
        409,
        "an abandoned code is refused: {:?}",
        refused.text().await
    );
    assert!(
        page.shows("qr-code").await,
        "the current code is still on screen"
    );
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chinese_shopper_reads_the_checkout_in_chinese() {
    let app = App::start().await;
    let browser = Browser::start("zh-CN").await;
    let page = CheckoutPage::open(&browser.client, &app.url()).await;

    assert_eq!(page.amount().await, "¥128.00");
    assert_eq!(page.text("method-wechat_pay").await, "微信支付");
    page.choose("wechat_pay").await;
    assert_eq!(page.text("pay-button").await, "支付 ¥128.00");
    page.pay().await;
    page.wait_for("qr-code").await;
    page.press("simulate-scan").await;
    page.wait_for_text("outcome-headline", |text| text == "支付成功")
        .await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_html_shop_takes_a_payment_through_the_element_and_hears_of_it() {
    let app = App::start_shop().await;
    let policy = app.page_policy().await;
    assert_first_screen_styles_only(&policy);
    assert!(
        policy.contains("script-src 'self' 'wasm-unsafe-eval'"),
        "{policy}"
    );
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    let browser = Browser::start("en-US").await;
    let page = CheckoutPage::open_element(&browser.client, &app.url()).await;

    assert_eq!(page.amount().await, "¥128.00");
    assert_eq!(
        page.style("pay-button", "background-color").await,
        "rgba(154, 91, 19, 1)",
        "the shop's --ps-accent reaches into the shadow root"
    );
    page.choose("wechat_pay").await;
    page.pay().await;
    let payload = page.scan_qr_code().await;
    assert!(
        payload.starts_with("weixin://wxpay/bizpayurl?pr="),
        "{payload}"
    );
    page.press("simulate-scan").await;
    page.wait_for_text("outcome-headline", |text| text == "Payment succeeded")
        .await;

    // The shop heard it through the element's event, outside the shadow root.
    let said = CheckoutPage::returned(&browser.client)
        .wait_for_text("shop-result", |text| !text.is_empty())
        .await;
    assert!(said.starts_with("Payment succeeded (pi_"), "{said:?}");
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dark_preset_follows_the_system_and_the_theme_attribute_forces_either() {
    let app = App::start_shop().await;
    let browser = Browser::start("en-US").await;
    let system =
        |scheme: &str| json!({ "features": [{ "name": "prefers-color-scheme", "value": scheme }] });
    browser
        .devtools("Emulation.setEmulatedMedia", system("dark"))
        .await;
    let page = CheckoutPage::open_element(&browser.client, &app.url()).await;
    let surface = || page.style("checkout", "background-color");
    let (dark, light) = ("rgba(22, 27, 34, 1)", "rgba(255, 255, 255, 1)");
    assert_eq!(surface().await, dark, "a dark system gets the dark preset");

    let set_theme = |theme: &'static str| {
        let client = browser.client.clone();
        async move {
            client
                .execute(
                    "document.querySelector('payment-selector').setAttribute('theme', arguments[0]); return true;",
                    vec![json!(theme)],
                )
                .await
                .expect("the attribute is set");
        }
    };
    set_theme("light").await;
    assert_eq!(surface().await, light, "theme=\"light\" forces light");
    browser
        .devtools("Emulation.setEmulatedMedia", system("light"))
        .await;
    set_theme("dark").await;
    assert_eq!(surface().await, dark, "theme=\"dark\" forces dark");
    assert!(
        page.shows("method-list").await,
        "a theme is only styles: the checkout keeps its place"
    );
    browser.close().await;
}

/// The policy's `style-src` allows this origin's stylesheets and one inline
/// style by its hash (a server-drawn first screen's), nothing else.
fn assert_first_screen_styles_only(policy: &str) {
    let style_src = policy
        .split(';')
        .map(str::trim)
        .find_map(|directive| directive.strip_prefix("style-src "))
        .unwrap_or_else(|| panic!("no style-src in {policy}"));
    let sources: Vec<&str> = style_src.split_whitespace().collect();
    assert!(
        sources.len() == 2 && sources[0] == "'self'" && sources[1].starts_with("'sha256-"),
        "style-src {style_src}"
    );
}
