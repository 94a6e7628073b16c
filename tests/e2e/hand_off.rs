//! Hand-offs that do not go as planned: a provider's page that never
//! opens, a return through the back/forward cache, a return the page
//! cannot read, and a storefront whose shopper is elsewhere on the page
//! when the checkout moves on.

use std::time::Duration;

use serde_json::{json, Value};

use crate::app::App;
use crate::browser::Browser;
use crate::checkout_page::CheckoutPage;

/// Forbids the page's forms to leave its origin, as a storefront's own
/// `form-action` would: the card page's form is then never sent.
async fn forbid_forms_elsewhere(browser: &Browser) {
    browser
        .client
        .execute(
            "const policy = document.createElement('meta');
             policy.httpEquiv = 'Content-Security-Policy';
             policy.content = \"form-action 'self'\";
             document.head.append(policy);
             return true;",
            vec![],
        )
        .await
        .expect("the policy is added");
}

/// A desktop shopper pays by card on a page whose own policy holds the
/// card page's form back: the checkout says it is taking them there.
async fn paying_by_card_held_back(app: &App) -> (Browser, CheckoutPage) {
    let browser = Browser::start("en-US").await;
    let page = CheckoutPage::open(&browser.client, &app.url()).await;
    forbid_forms_elsewhere(&browser).await;
    page.choose("card").await;
    page.pay().await;
    page.wait_for_text("outcome-headline", |text| {
        text == "Taking you to the payment page…"
    })
    .await;
    (browser, page)
}

/// Waits until the server holds the newest intent as `status`.
async fn intent_becomes(app: &App, status: &str) -> Value {
    let mut intent = Value::Null;
    for _ in 0..100 {
        intent = app.latest_intent().await;
        if intent["status"] == status {
            return intent;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the intent never became {status}: {intent}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_card_page_that_never_opens_offers_to_try_again_or_pay_another_way() {
    let app = App::start().await;
    let (browser, page) = paying_by_card_held_back(&app).await;
    let stalled = "The payment didn't open? Try again or choose another method.";
    page.wait_for_text_within(
        "outcome-headline",
        |text| text == stalled,
        Duration::from_secs(10),
    )
    .await;
    assert!(
        browser.client.current_url().await.expect("a URL").as_str() == app.url(),
        "still on the shop's page"
    );

    // "Try again" sends the form again (held back again here).
    page.press("retry-hand-off").await;
    page.wait_for_text("outcome-headline", |text| {
        text == "Taking you to the payment page…"
    })
    .await;
    page.wait_for_text_within(
        "outcome-headline",
        |text| text == stalled,
        Duration::from_secs(10),
    )
    .await;

    // "Choose another method": the card's intent is closed, the card stays
    // chosen, and another method pays.
    page.press("choose-another").await;
    page.wait_for("method-list").await;
    assert_eq!(page.chosen().await.as_deref(), Some("card"));
    intent_becomes(&app, "canceled").await;
    page.choose("wechat_pay").await;
    page.pay().await;
    let code_url = page.scan_qr_code().await;
    assert!(code_url.starts_with("weixin://"), "{code_url}");
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn back_through_the_back_forward_cache_the_checkout_asks_the_server() {
    let app = App::start().await;
    let (browser, page) = paying_by_card_held_back(&app).await;
    // What the browser fires when it shows the page again from its
    // back/forward cache (some fire no visibility change then).
    browser
        .client
        .execute(
            "window.dispatchEvent(new PageTransitionEvent('pageshow', { persisted: true }));
             return true;",
            vec![],
        )
        .await
        .expect("the page is shown again");
    page.wait_for_text_within(
        "outcome-headline",
        |text| text == "Checking the payment…",
        Duration::from_secs(3),
    )
    .await;
    assert!(page.shows("check-again").await);
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_return_whose_payment_this_page_cannot_read_never_offers_a_new_payment() {
    let app = App::start().await;
    // An intent of another session (a shop that made a new session on the
    // way back): the page's session may not read it.
    let http = reqwest::Client::new();
    let other: Value = http
        .post(format!("{}api{}", app.url(), contract::paths::DEMO_SESSION))
        .json(&json!({ "return_url": app.url() }))
        .send()
        .await
        .expect("a demo session")
        .json()
        .await
        .expect("JSON");
    let session_id = other["session_id"].as_str().expect("an id");
    let intent: Value = http
        .post(format!(
            "{}api{}",
            app.url(),
            contract::paths::session_intents(session_id)
        ))
        .bearer_auth(other["client_secret"].as_str().expect("a secret"))
        .header(contract::IDEMPOTENCY_KEY_HEADER, "e2e-other-session")
        .json(&json!({ "method": "wechat_pay", "client": { "device": "desktop" } }))
        .send()
        .await
        .expect("an intent")
        .json()
        .await
        .expect("JSON");
    let intent_id = intent["id"].as_str().expect("an intent id");

    let browser = Browser::start("zh-CN").await;
    browser
        .client
        .goto(&format!("{}?payment_intent={intent_id}", app.url()))
        .await
        .expect("the page opens");
    let page = CheckoutPage::returned(&browser.client);
    page.wait_for_text("outcome-headline", |text| {
        text == "此页面无法确认支付结果。如已付款，商家会收到通知，请勿重复支付"
    })
    .await;
    for way_to_pay in ["pay-button", "choose-another", "reload", "refresh-code"] {
        assert!(
            !page.shows(way_to_pay).await,
            "{way_to_pay}: nothing here starts a new payment"
        );
    }
    assert!(page.shows("check-again").await);
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shopper_at_the_storefront_s_own_form_keeps_focus_and_place_when_the_checkout_moves_on() {
    let app = App::start().await;
    let browser = Browser::start("en-US").await;
    let page = CheckoutPage::open(&browser.client, &app.url()).await;
    page.choose("wechat_pay").await;
    page.pay().await;
    let code_url = page.scan_qr_code().await;
    // The shopper goes on to the storefront's own form further down the
    // page (a gift note), and reads on.
    browser
        .client
        .execute(
            "const note = document.createElement('input');
             note.id = 'gift-note';
             note.setAttribute('aria-label', 'Gift note');
             note.style.marginBottom = '3000px';
             document.body.append(note);
             return true;",
            vec![],
        )
        .await
        .expect("the shop's form");
    browser.click("#gift-note").await;
    let (top, focused) = browser
        .client
        .execute(
            "window.scrollTo(0, 2000);
             return [window.scrollY, document.activeElement.tagName];",
            vec![],
        )
        .await
        .map(|read| (read[0].clone(), read[1].clone()))
        .expect("the page scrolls");
    assert_eq!(focused, "INPUT");
    // Paid on the phone: the checkout shows it while the shopper is away.
    assert!(app.sandbox_scan(&code_url).await.status().is_success());
    page.wait_for_text("outcome-headline", |text| text == "Payment succeeded")
        .await;
    browser
        .client
        .execute_async(
            "const done = arguments[0]; requestAnimationFrame(() => requestAnimationFrame(done));",
            vec![],
        )
        .await
        .expect("two frames");
    let after = browser
        .client
        .execute(
            "return [window.scrollY, document.activeElement.tagName];",
            vec![],
        )
        .await
        .expect("the page is read");
    assert_eq!(
        (after[0].clone(), after[1].clone()),
        (top, json!("INPUT")),
        "the page neither scrolled nor took the shopper's focus"
    );
    browser.close().await;
}
