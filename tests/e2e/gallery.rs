//! The designer gallery, as a designer and as axe-core see it: every state
//! drawn, in each language and theme, at a desktop's width and a 320 px
//! phone's, with no accessibility violation.

use serde_json::Value;

use crate::app::App;
use crate::browser::Browser;

/// How many states the gallery draws.
fn states() -> usize {
    payment_selector::gallery::fixtures(0).len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_gallery_state_passes_axe_in_every_language_theme_and_width() {
    let axe = std::env::var("PS_AXE_CORE").expect(
        "PS_AXE_CORE names axe-core's axe.min.js: run the journeys with `cargo xtask test`",
    );
    let axe = std::fs::read_to_string(&axe).unwrap_or_else(|e| panic!("{axe}: {e}"));
    let app = App::start().await;
    let browser = Browser::start("en-US").await;
    for (locale, lang) in [("zh-CN", "zh-CN"), ("zh-TW", "zh-TW"), ("en", "en")] {
        for (theme, width) in [
            ("light", "desktop"),
            ("dark", "desktop"),
            ("light", "phone"),
            ("dark", "phone"),
        ] {
            let url = format!(
                "{}?gallery&locale={locale}&theme={theme}&width={width}",
                app.url()
            );
            browser.client.goto(&url).await.expect("the gallery opens");
            let drawn = wait_for_states(&browser).await;
            assert_eq!(drawn, states(), "{url}: every state is drawn");
            let langs = browser
                .client
                .execute(
                    "return [...document.querySelectorAll('.ps-checkout')].map(c => c.lang);",
                    vec![],
                )
                .await
                .expect("the checkouts' languages");
            assert!(
                langs
                    .as_array()
                    .is_some_and(|langs| langs.iter().all(|l| l == lang)),
                "{url}: every checkout speaks {lang}: {langs}"
            );

            let violations = run_axe(&browser, &axe).await;
            assert!(
                violations.is_empty(),
                "{url}: axe-core found {} violation(s):\n{}",
                violations.len(),
                describe(&violations)
            );
        }
    }
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gallery_needs_no_server_and_the_live_checkout_is_one_click_away() {
    let app = App::start().await;
    let browser = Browser::start("zh-CN").await;
    browser
        .client
        .goto(&format!("{}?gallery", app.url()))
        .await
        .expect("the gallery opens");
    assert_eq!(wait_for_states(&browser).await, states());
    let requests = browser
        .client
        .execute(
            "return performance.getEntriesByType('resource').map(e => e.name).filter(n => n.includes('/api/'));",
            vec![],
        )
        .await
        .expect("the page's requests");
    assert_eq!(requests, Value::Array(vec![]), "the gallery asks no server");
    // Drawn at a phone's width, nothing runs off the side of the page.
    let overflow = browser
        .client
        .execute(
            "document.querySelector('input[name=ps-gallery-width][value=Phone]').click();
             return new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(() =>
                 done([...document.querySelectorAll('.ps-checkout')]
                     .filter((c) => c.getBoundingClientRect().width > 320).length))));",
            vec![],
        )
        .await
        .expect("the phone width");
    assert_eq!(overflow, Value::from(0), "every checkout fits 320 px");
    browser
        .client
        .set_window_size(412, 823)
        .await
        .expect("a phone-sized window");
    let wider = browser
        .client
        .execute(
            "return new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(() =>
                 done(document.documentElement.scrollWidth - document.documentElement.clientWidth))));",
            vec![],
        )
        .await
        .expect("the page's width");
    assert_eq!(wider, Value::from(0), "the gallery fits a phone's page");

    let live = browser
        .client
        .find(fantoccini::Locator::LinkText("实时收银台"))
        .await
        .expect("a link to the live checkout");
    live.click().await.expect("the link is followed");
    let page = crate::checkout_page::CheckoutPage::returned(&browser.client);
    page.wait_for("method-list").await;
    assert_eq!(page.amount().await, "¥128.00");
    browser.close().await;
}

/// Waits (up to 10 s) for the gallery's states and returns how many are
/// drawn with their checkout.
async fn wait_for_states(browser: &Browser) -> usize {
    let mut drawn = 0;
    for _ in 0..100 {
        drawn = browser
            .client
            .execute(
                "return document.querySelectorAll('[data-testid=gallery-state] .ps-checkout').length;",
                vec![],
            )
            .await
            .ok()
            .and_then(|count| count.as_u64())
            .unwrap_or(0) as usize;
        if drawn >= states() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    drawn
}

/// Runs axe-core over the whole page and returns its violations, once it
/// has shown that it finds one planted on purpose.
async fn run_axe(browser: &Browser, axe: &str) -> Vec<Value> {
    // Injected through WebDriver, which the page's CSP does not govern.
    browser
        .client
        .execute(&format!("{axe}\nreturn true;"), vec![])
        .await
        .expect("axe-core loads");
    let planted = "const field = document.createElement('input'); field.id = 'axe-canary'; document.body.append(field); return true;";
    browser
        .client
        .execute(planted, vec![])
        .await
        .expect("a field with no label");
    let caught = axe_violations(browser).await;
    assert!(
        caught.iter().any(|violation| violation["id"] == "label"),
        "axe-core must catch a field with no label: {}",
        describe(&caught)
    );
    browser
        .client
        .execute(
            "document.getElementById('axe-canary').remove(); return true;",
            vec![],
        )
        .await
        .expect("the field goes");
    axe_violations(browser).await
}

async fn axe_violations(browser: &Browser) -> Vec<Value> {
    let result = browser
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { resultTypes: ['violations'] })
                .then(r => done(r.violations), e => done([{ id: 'axe-error', help: String(e), nodes: [] }]));",
            vec![],
        )
        .await
        .expect("axe-core runs");
    result.as_array().cloned().unwrap_or_default()
}

fn describe(violations: &[Value]) -> String {
    violations
        .iter()
        .map(|violation| {
            let targets: Vec<String> = violation["nodes"]
                .as_array()
                .map(|nodes| {
                    nodes
                        .iter()
                        .take(3)
                        .map(|node| format!("{} ({})", node["target"], node["failureSummary"]))
                        .collect()
                })
                .unwrap_or_default();
            format!(
                "- {} [{}]: {}\n    {}",
                violation["id"],
                violation["impact"],
                violation["help"],
                targets.join("\n    ")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}
