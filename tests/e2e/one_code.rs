//! One code for every wallet, in Chromium: a desktop shows one code
//! (decoded from its screenshot); phones in the wallets' apps (their user
//! agents, and stand-ins for their JS bridges) open it; the first pays
//! inside its app, the others are told it is being paid or is paid, and
//! the desktop says which wallet paid; a browser that is no wallet is told
//! which apps can scan; a code the desktop gave up, or whose checkout is
//! ending, is worth nothing.

use std::time::Duration;

use serde_json::json;

use crate::app::App;
use crate::bridge;
use crate::browser::{Browser, Device};
use crate::checkout_page::CheckoutPage;
use crate::unionpay::{pay_on_unionpay_s_page, DEBIT};
use crate::{alipay, wechat};

/// The desktop chooses the one code and pays: the page, and the URL the
/// code holds.
async fn desktop_shows_one_code(app: &App, browser: &Browser) -> (CheckoutPage, String) {
    let page = CheckoutPage::open(&browser.client, &app.url()).await;
    let methods = page.methods().await;
    assert!(
        methods
            .iter()
            .any(|(kind, label, selectable)| kind == "any_wallet"
                && label == "Any wallet, one code"
                && *selectable),
        "{methods:?}"
    );
    page.choose("any_wallet").await;
    page.pay().await;
    let code = page.scan_qr_code().await;
    assert!(
        code.starts_with(&format!("{}pay/", app.url())),
        "scanned {code:?}"
    );
    assert_eq!(
        page.text("qr-panel").await.lines().next(),
        Some("Scan with your phone to pay")
    );
    (page, code)
}

/// A phone in `device`'s app, with its bridge when the app has one.
async fn phone(device: Device) -> Browser {
    let browser = Browser::start_as("zh-CN", device).await;
    let stand_in = match device {
        Device::InWechat => Some(bridge::stand_in(
            "WeixinJSBridge",
            "invoke",
            "WeixinJSBridgeReady",
        )),
        Device::InAlipay => Some(bridge::stand_in(
            "AlipayJSBridge",
            "call",
            "AlipayJSBridgeReady",
        )),
        _ => None,
    };
    if let Some(stand_in) = stand_in {
        browser.on_every_page(&stand_in).await;
    }
    browser
}

/// The phone's page, once it shows `screen`: its headline.
async fn phone_shows(browser: &Browser, screen: &str) -> String {
    let mut last = String::new();
    for _ in 0..150 {
        let shown = browser
            .client
            .execute(
                "const h = document.getElementById('ps-screen'); \
                 return h ? [h.dataset.screen, h.textContent] : null;",
                vec![],
            )
            .await
            .unwrap_or_default();
        if let Some([kind, text]) = shown.as_array().map(Vec::as_slice) {
            last = format!("{kind} {text}");
            if kind == screen {
                return text.as_str().unwrap_or_default().to_owned();
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the phone never showed {screen}: last {last}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_code_paid_in_alipay_while_wechat_and_quickpass_phones_are_turned_away() {
    let app = App::start().await;
    let desktop = Browser::start("en-US").await;
    let (page, code) = desktop_shows_one_code(&app, &desktop).await;

    // The Alipay app opens it: takes it, authorises silently, and the
    // page opens Alipay's pay sheet through the app's bridge.
    let alipay = phone(Device::InAlipay).await;
    alipay.client.goto(&code).await.expect("the code opens");
    let call = bridge::first_call(&alipay).await;
    assert_eq!(call["name"], "tradePay");
    assert_eq!(
        phone_shows(&alipay, "pay").await,
        "确认付款 ¥128.00（支付宝）"
    );
    page.wait_for_text_within(
        "outcome-headline",
        |text| text == "Paying with Alipay on your phone…",
        Duration::from_secs(20),
    )
    .await;

    // A WeChat phone scanning now is told; it cannot take the code.
    let wechat = phone(Device::InWechat).await;
    wechat.client.goto(&code).await.expect("the code opens");
    assert_eq!(
        phone_shows(&wechat, "paying_elsewhere").await,
        "该订单正在另一部手机上支付"
    );
    assert!(
        wechat
            .client
            .execute("return window.__bridgeCalls.length", vec![])
            .await
            .unwrap()
            == json!(0),
        "no pay sheet on the second phone"
    );

    // The shopper pays in Alipay.
    assert_eq!(alipay::answer_bridge(&app, &alipay, "pay").await, "9000");
    assert_eq!(phone_shows(&alipay, "paid").await, "支付成功");
    page.wait_for_text("outcome-headline", |text| text == "Payment succeeded")
        .await;
    let outcome = page.text("outcome").await;
    assert!(
        outcome.contains("¥128.00 · Alipay"),
        "the wallet that paid: {outcome}"
    );
    assert_eq!(app.latest_intent().await["method"], "alipay");

    // Phones that look later are told the order is paid.
    wechat.client.refresh().await.expect("a second look");
    assert_eq!(phone_shows(&wechat, "paid_elsewhere").await, "该订单已支付");
    let quickpass = phone(Device::InQuickpass).await;
    quickpass.client.goto(&code).await.expect("the code opens");
    assert_eq!(
        phone_shows(&quickpass, "paid_elsewhere").await,
        "该订单已支付"
    );
    for browser in [desktop, alipay, wechat, quickpass] {
        browser.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_code_paid_in_wechat_then_another_paid_in_quickpass_and_a_browser_told_which_apps() {
    let app = App::start().await;
    let desktop = Browser::start("en-US").await;
    let (page, code) = desktop_shows_one_code(&app, &desktop).await;

    // A phone's own browser is no wallet: it is told which apps can pay.
    let browser = phone(Device::Phone).await;
    browser.client.goto(&code).await.expect("the code opens");
    assert_eq!(
        phone_shows(&browser, "scan_with_app").await,
        "请使用以下应用扫码支付"
    );
    let apps = browser
        .client
        .execute(
            "return [...document.querySelectorAll('li')].map(li => li.textContent)",
            vec![],
        )
        .await
        .expect("the list");
    assert_eq!(apps, json!(["微信支付", "支付宝", "银联云闪付"]));

    // WeChat pays it through its bridge.
    let wechat = phone(Device::InWechat).await;
    wechat.client.goto(&code).await.expect("the code opens");
    assert_eq!(
        wechat::answer_bridge(&app, &wechat, "pay").await,
        "get_brand_wcpay_request:ok"
    );
    assert_eq!(phone_shows(&wechat, "paid").await, "支付成功");
    page.wait_for_text_within(
        "outcome-headline",
        |text| text == "Payment succeeded",
        Duration::from_secs(20),
    )
    .await;
    assert_eq!(app.latest_intent().await["method"], "wechat_pay");
    desktop.close().await;
    browser.close().await;
    wechat.close().await;

    // A new checkout: its code, paid in QuickPass on UnionPay's phone page.
    let desktop = Browser::start("zh-CN").await;
    let page = CheckoutPage::open(&desktop.client, &app.url()).await;
    page.choose("any_wallet").await;
    page.pay().await;
    let code = page.scan_qr_code().await;
    let quickpass = phone(Device::InQuickpass).await;
    quickpass.client.goto(&code).await.expect("the code opens");
    pay_on_unionpay_s_page(&quickpass, DEBIT).await;
    assert_eq!(phone_shows(&quickpass, "paid").await, "支付成功");
    page.wait_for_text_within(
        "outcome-headline",
        |text| text == "支付成功",
        Duration::from_secs(20),
    )
    .await;
    assert_eq!(app.latest_intent().await["method"], "unionpay");
    desktop.close().await;
    quickpass.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_the_desktop_gave_up_or_whose_checkout_ends_is_worth_nothing_on_a_phone() {
    let app = App::start().await;
    let desktop = Browser::start("en-US").await;
    let (page, code) = desktop_shows_one_code(&app, &desktop).await;
    page.press("choose-another").await;
    page.wait_for("method-list").await;
    let mut canceled = false;
    for _ in 0..100 {
        canceled = app.latest_intent().await["status"] == "canceled";
        if canceled {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(canceled, "the page canceled the code it left");
    let alipay = phone(Device::InAlipay).await;
    alipay.client.goto(&code).await.expect("the code opens");
    assert_eq!(phone_shows(&alipay, "ended").await, "该付款码已失效");
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(
        alipay
            .client
            .execute("return window.__bridgeCalls.length", vec![])
            .await
            .unwrap(),
        json!(0),
        "nothing to pay"
    );

    // A checkout in its last minute: its code can no longer start a
    // wallet's order (WeChat Pay's need at least a minute), and says so.
    let ending = app.one_code_ending_in(62).await;
    tokio::time::sleep(Duration::from_millis(3_100)).await;
    alipay.client.goto(&ending).await.expect("the code opens");
    assert_eq!(phone_shows(&alipay, "ended").await, "该付款码已失效");
    desktop.close().await;
    alipay.close().await;
}
