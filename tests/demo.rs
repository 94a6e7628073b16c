//! The demo as a person uses it: the page `trunk serve` builds, its `/api`
//! proxied to the reference server, whose SQLite file sits where
//! `cargo xtask serve` keeps it. `cargo xtask test` starts such a demo on
//! free ports and names it in `PS_DEMO_URL`.

// The page objects are shared with the journeys in tests/e2e, which use
// more of them than this check does.
#[allow(dead_code)]
#[path = "e2e/browser.rs"]
mod browser;
#[allow(dead_code)]
#[path = "e2e/checkout_page.rs"]
mod checkout_page;

use std::time::Duration;

use browser::Browser;
use checkout_page::CheckoutPage;

/// Set on `window` once the page is up; a reload takes it away.
const MARKER: &str = "__psSamePage";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_qr_screen_stays_put_while_the_checkout_polls() {
    let url = std::env::var("PS_DEMO_URL")
        .expect("PS_DEMO_URL names a running demo: run this check with `cargo xtask test`");
    let browser = Browser::start("en-US").await;
    let page = CheckoutPage::open(&browser.client, &url).await;
    let client = &browser.client;
    client
        .execute(&format!("window.{MARKER} = true; return true;"), vec![])
        .await
        .expect("the marker is set");
    // A script that fails (a lookup chromedriver drops) is asked again; a
    // reloaded page answers, without the marker.
    let same_page = || async {
        for _ in 0..5 {
            let asked = client
                .execute(&format!("return window.{MARKER} === true;"), vec![])
                .await;
            if let Ok(value) = asked {
                return value.as_bool() == Some(true);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        false
    };

    page.choose("wechat_pay").await;
    page.pay().await;
    let code = page.scan_qr_code().await;
    // A shopper takes their phone out and opens WeChat: the code must stay.
    for second in 1..=12 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert!(
            same_page().await,
            "the page reloaded {second} s into the QR screen"
        );
        assert!(
            page.shows("qr-code").await,
            "the code left the screen after {second} s"
        );
    }
    let status_requests = client
        .execute(
            "return performance.getEntriesByType('resource')
                .filter(entry => entry.name.includes('/api/intents/')).length;",
            vec![],
        )
        .await
        .ok()
        .and_then(|value| value.as_u64())
        .unwrap_or(0);
    assert!(
        status_requests >= 4,
        "the checkout asked for the status while the shopper looked at the code \
         ({status_requests} requests in 12 s)"
    );
    assert_eq!(page.scan_qr_code().await, code, "the same code all along");

    page.press("simulate-scan").await;
    page.wait_for_text("outcome-headline", |text| text == "Payment succeeded")
        .await;
    assert!(same_page().await, "the page reloaded after the payment");
    browser.close().await;
}
