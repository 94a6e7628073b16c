//! What shoppers do that a happy path never tries: a reload on the code, a
//! phone whose clock is wrong, a keyboard and no mouse, a decline, a phone
//! left at the confirmation.

use fantoccini::key::Key;

use crate::app::App;
use crate::browser::Browser;
use crate::checkout_page::CheckoutPage;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_on_the_code_shows_the_same_code_and_it_still_pays() {
    let app = App::start().await;
    let browser = Browser::start("en-US").await;
    let page = CheckoutPage::open(&browser.client, &app.url()).await;
    page.choose("wechat_pay").await;
    page.pay().await;
    let before = page.scan_qr_code().await;

    browser.client.refresh().await.expect("the page reloads");
    let after = page.scan_qr_code().await;
    assert_eq!(after, before, "the reload shows the code already paid for");

    // And Back from another page does too.
    browser
        .client
        .goto(&format!("{}favicon.ico", app.url()))
        .await
        .expect("another page");
    browser.client.back().await.expect("Back");
    assert_eq!(page.scan_qr_code().await, before);

    page.press("simulate-scan").await;
    page.wait_for_text("outcome-headline", |text| text == "Payment succeeded")
        .await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_whose_session_answers_after_its_code_still_shows_the_whole_code_screen() {
    let app = App::start().await;
    let browser = Browser::start("en-US").await;
    // A slow network: the session's answer comes 1.5 s after it is asked
    // for, so after the reload the code's answer comes first.
    browser
        .on_every_page(
            r#"{ const fetch = window.fetch;
               window.fetch = (request, ...rest) => {
                 const url = String(request.url || request);
                 const session = /\/checkout-sessions\/[^/?]+(\?|$)/.test(url);
                 const wait = session ? new Promise((done) => setTimeout(done, 1500)) : null;
                 return wait ? wait.then(() => fetch(request, ...rest)) : fetch(request, ...rest);
               }; }"#,
        )
        .await;
    let page = CheckoutPage::open(&browser.client, &app.url()).await;
    page.choose("wechat_pay").await;
    page.pay().await;
    let before = page.scan_qr_code().await;

    browser.client.refresh().await.expect("the page reloads");
    assert_eq!(page.scan_qr_code().await, before);
    assert_eq!(page.text("qr-amount").await, "¥128.00");
    page.press("simulate-scan").await;
    page.wait_for_text("outcome-headline", |text| text == "Payment succeeded")
        .await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_simulated_scan_that_never_reached_the_sandbox_can_be_tried_again() {
    let app = App::start().await;
    let browser = Browser::start("en-US").await;
    // The first simulated scan's connection drops, half a second after it
    // was asked for.
    browser
        .on_every_page(
            r#"{ const fetch = window.fetch; let dropped = false;
               window.fetch = (request, ...rest) => {
                 const scan = String(request.url || request).includes("/sandbox/scan");
                 if (scan && !dropped) {
                   dropped = true;
                   return new Promise((_, fail) => setTimeout(() => fail(new TypeError("Failed to fetch")), 500));
                 }
                 return fetch(request, ...rest);
               }; }"#,
        )
        .await;
    let page = CheckoutPage::open(&browser.client, &app.url()).await;
    page.choose("wechat_pay").await;
    page.pay().await;
    page.scan_qr_code().await;
    page.press("simulate-scan").await;
    page.wait_until_enabled("simulate-scan", false).await;
    // The code stays, and its buttons come back.
    page.wait_until_enabled("simulate-scan", true).await;
    assert!(page.shows("qr-code").await);
    page.press("simulate-scan").await;
    page.wait_for_text("outcome-headline", |text| text == "Payment succeeded")
        .await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_countdown_keeps_the_server_s_time_when_the_phone_s_clock_is_wrong() {
    let app = App::start().await;
    let browser = Browser::start("en-US").await;
    // This browser's clock runs 20 minutes fast: by it, every 15-minute
    // code would be over before it was shown.
    browser
        .on_every_page(
            "{ const now = Date.now; Date.now = () => now.call(Date) + 20 * 60 * 1000; }",
        )
        .await;
    let page = CheckoutPage::open(&browser.client, &app.url()).await;
    page.choose("wechat_pay").await;
    page.pay().await;
    page.wait_for("qr-code").await;
    // The countdown runs on from the server's 15 minutes (by the phone's
    // own clock the code would read as over), and the code stays.
    page.wait_for_text("countdown", |text| text.starts_with("Expires in 14:"))
        .await;
    assert!(page.shows("qr-code").await, "the code is still on screen");
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_payment_works_by_keyboard_alone_and_focus_follows_each_screen() {
    let app = App::start().await;
    let browser = Browser::start("en-US").await;
    let page = CheckoutPage::open(&browser.client, &app.url()).await;
    // Focus would move a frame after a screen change: let two pass.
    browser
        .client
        .execute_async(
            "const done = arguments[0]; requestAnimationFrame(() => requestAnimationFrame(done));",
            vec![],
        )
        .await
        .expect("two frames");
    assert_eq!(
        browser.focused().await,
        "BODY",
        "a checkout the shopper has not touched takes no focus"
    );

    // Tab reaches the methods (past the preview's own links), Space chooses
    // the first (WeChat Pay), and Tab goes on to Pay.
    tab_to(&browser, "ps-method__radio").await;
    browser.press_keys(&[Key::Space, Key::Tab]).await;
    assert_eq!(browser.focused().await, "pay-button");
    browser.press_keys(&[Key::Enter]).await;

    // The code's screen replaced the Pay button: its heading has the focus.
    page.wait_for("qr-code").await;
    wait_for_focus(&browser, "ps-qr__instruction").await;
    browser.press_keys(&[Key::Tab]).await;
    assert_eq!(browser.focused().await, "simulate-scan");
    browser.press_keys(&[Key::Enter]).await;
    page.wait_for_text("outcome-headline", |text| text == "Payment succeeded")
        .await;
    wait_for_focus(&browser, "outcome-headline").await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leaving_the_code_by_keyboard_brings_the_focus_back_to_the_methods() {
    let app = App::start().await;
    let browser = Browser::start("zh-CN").await;
    let page = CheckoutPage::open(&browser.client, &app.url()).await;
    tab_to(&browser, "ps-method__radio").await;
    browser
        .press_keys(&[Key::Space, Key::Tab, Key::Enter])
        .await;
    page.wait_for("qr-code").await;
    wait_for_focus(&browser, "ps-qr__instruction").await;
    // Past the two sandbox buttons to "choose another method".
    browser.press_keys(&[Key::Tab, Key::Tab, Key::Tab]).await;
    assert_eq!(browser.focused().await, "choose-another");
    browser.press_keys(&[Key::Enter]).await;
    page.wait_for("method-list").await;
    wait_for_focus(&browser, "ps-method__radio").await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declined_scan_says_declined_and_the_shopper_can_try_again() {
    let app = App::start().await;
    let browser = Browser::start("en-US").await;
    let page = CheckoutPage::open(&browser.client, &app.url()).await;
    page.choose("wechat_pay").await;
    page.pay().await;
    let declined = page.scan_qr_code().await;
    page.press("simulate-decline").await;
    page.wait_for_text("outcome-headline", |text| {
        text == "The payment institution declined the payment"
    })
    .await;

    page.press("choose-another").await;
    page.wait_for("method-list").await;
    page.choose("wechat_pay").await;
    page.pay().await;
    let second = page.scan_qr_code().await;
    assert_ne!(second, declined, "a new try gets a new code");
    page.press("simulate-scan").await;
    page.wait_for_text("outcome-headline", |text| text == "Payment succeeded")
        .await;
    browser.close().await;
}

/// Presses Tab (up to 5 times) until the focus reaches `what`.
async fn tab_to(browser: &Browser, what: &str) {
    for _ in 0..5 {
        browser.press_keys(&[Key::Tab]).await;
        if browser.focused().await == what {
            return;
        }
    }
    panic!("Tab never reached {what}");
}

/// Waits (up to 2 s) for the focus to reach `what` (see
/// [`Browser::focused`]): it moves on the frame after the screen changes.
async fn wait_for_focus(browser: &Browser, what: &str) {
    let mut focused = String::new();
    for _ in 0..20 {
        focused = browser.focused().await;
        if focused.split(' ').any(|name| name == what) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the focus went to {focused:?}, not {what}");
}
