//! The storefront package on pages it must not break: loaded twice and
//! beside another wasm-bindgen widget, given its session before it is
//! defined, re-configured and moved while the shopper is choosing, pinned
//! to its content-hashed files, and carried across a provider's redirect by
//! the plain HTML shop.

use serde_json::{json, Value};

use crate::app::App;
use crate::browser::{Browser, Device};
use crate::checkout_page::CheckoutPage;

/// Another widget on the shop's page built with wasm-bindgen's no-modules
/// target, in its shape: a global `let wasm_bindgen` that loads its own
/// wasm (a module whose `answer` returns 42) and then holds its exports.
const OTHER_WIDGET: &str = r#"let wasm_bindgen = (function () {
  const bytes = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 127, 3, 2, 1, 0,
    7, 10, 1, 6, 97, 110, 115, 119, 101, 114, 0, 0, 10, 6, 1, 4, 0, 65, 42, 11]);
  async function init() {
    const { instance } = await WebAssembly.instantiate(bytes);
    return Object.assign(wasm_bindgen, instance.exports);
  }
  return init;
})();
wasm_bindgen().then((widget) => {
  document.querySelector("[data-testid=other-widget]").textContent = "The other widget says " + widget.answer();
});
"#;

/// The shop's page with the package's ES module (which defines the
/// element: deferred scripts run in order) and its classic script twice,
/// the second after the other widget's glue.
const TWICE: &str = r#"<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>Demo Tea House · Checkout</title>
    <script type="module" src="payment-selector/payment-selector.mjs"></script>
    <script src="payment-selector/payment-selector.js" defer></script>
    <script src="other-widget.js" defer></script>
    <script src="payment-selector/payment-selector.js" defer></script>
    <script src="shop.js" defer></script>
    <link rel="stylesheet" href="shop.css" />
  </head>
  <body>
    <main class="shop">
      <payment-selector api-base="/api"></payment-selector>
      <p class="shop__result" role="status" data-testid="shop-result"></p>
      <p data-testid="other-widget"></p>
    </main>
  </body>
</html>
"#;

/// A page with the element and nothing else: the test's script gives it a
/// session and then loads the package.
const BARE: &str = r#"<!DOCTYPE html>
<html lang="en">
  <head><meta charset="utf-8" /><title>Checkout</title></head>
  <body><main class="shop"><payment-selector api-base="/api"></payment-selector></main></body>
</html>
"#;

/// Every error the page reports (uncaught exceptions, rejected promises,
/// scripts that fail to parse), gathered from the first script on.
const GATHER_ERRORS: &str = "window.__errors = [];
    addEventListener('error', (e) => __errors.push(String(e.message || e.target && e.target.src)), true);
    addEventListener('unhandledrejection', (e) => __errors.push(String(e.reason)));";

async fn run(browser: &Browser, script: &str, args: Vec<Value>) -> Value {
    browser
        .client
        .execute(script, args)
        .await
        .unwrap_or_else(|e| panic!("{script}: {e}"))
}

async fn run_async(browser: &Browser, script: &str) -> Value {
    browser
        .client
        .execute_async(script, vec![])
        .await
        .unwrap_or_else(|e| panic!("{script}: {e}"))
}

async fn errors(browser: &Browser) -> Value {
    run(browser, "return window.__errors;", vec![]).await
}

/// How many checkouts the element has mounted on this page.
async fn mounts(browser: &Browser) -> u64 {
    run(
        browser,
        "return performance.getEntriesByName('payment-selector:mount', 'measure').length;",
        vec![],
    )
    .await
    .as_u64()
    .unwrap_or_default()
}

/// Pays with WeChat Pay by scanning, and waits for the shop to hear it.
async fn pay_by_scanning(browser: &Browser, page: &CheckoutPage) {
    page.choose("wechat_pay").await;
    page.pay().await;
    pay_by_scanning_the_code(browser, page).await;
}

/// Scans the code on the screen, pays, and checks the shop was told.
async fn pay_by_scanning_the_code(browser: &Browser, page: &CheckoutPage) {
    page.scan_qr_code().await;
    page.press("simulate-scan").await;
    page.wait_for_text("outcome-headline", |text| text == "Payment succeeded")
        .await;
    let said = CheckoutPage::returned(&browser.client)
        .wait_for_text("shop-result", |text| !text.is_empty())
        .await;
    assert!(said.starts_with("Payment succeeded (pi_"), "{said:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shop_takes_a_payment_with_the_package_loaded_twice_beside_another_wasm_widget() {
    let app = App::start_shop_with(&[
        ("twice.html", TWICE.as_bytes()),
        ("other-widget.js", OTHER_WIDGET.as_bytes()),
    ])
    .await;
    let browser = Browser::start("en-US").await;
    browser.on_every_page(GATHER_ERRORS).await;
    let page =
        CheckoutPage::open_element(&browser.client, &format!("{}twice.html", app.url())).await;

    CheckoutPage::returned(&browser.client)
        .wait_for_text("other-widget", |text| text == "The other widget says 42")
        .await;
    assert_eq!(page.amount().await, "¥128.00");
    pay_by_scanning(&browser, &page).await;
    let wasm = run(
        &browser,
        "return performance.getEntriesByType('resource').map((entry) => new URL(entry.name).pathname).filter((path) => path.endsWith('.wasm'));",
        vec![],
    )
    .await;
    // The first part by its stable name, and the later parts (the view's,
    // the chunk it shares with the payment's, the payment's) by their
    // hashed ones, each once.
    let mut parts: Vec<String> = package_integrity()
        .keys()
        .filter(|name| {
            *name == "payment-selector_bg.wasm"
                || name.starts_with("payment-selector_chunk_")
                || name.starts_with("payment-selector_split_")
        })
        .map(|name| format!("/payment-selector/{name}"))
        .collect();
    assert_eq!(parts.len(), 4, "{parts:?}");
    parts.sort();
    let mut loaded: Vec<String> = serde_json::from_value(wasm).expect("a list of paths");
    loaded.sort();
    assert_eq!(
        loaded, parts,
        "the module found its wasm's parts beside it, and the copies loaded none"
    );
    assert_eq!(mounts(&browser).await, 1, "one checkout, mounted once");
    assert_eq!(
        run(&browser, "return document.querySelectorAll('payment-selector').length === 1 && typeof customElements.get('payment-selector');", vec![]).await,
        json!("function")
    );
    assert_eq!(
        errors(&browser).await,
        json!([]),
        "the page reported no error"
    );
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_set_before_the_element_is_defined_is_the_one_it_shows() {
    let app = App::start_shop_with(&[("bare.html", BARE.as_bytes())]).await;
    let browser = Browser::start("en-US").await;
    browser.on_every_page(GATHER_ERRORS).await;
    browser
        .client
        .goto(&format!("{}bare.html", app.url()))
        .await
        .expect("the page opens");
    // As React 19 does: the property is set on the element as it is, then
    // the package loads and defines it.
    let undefined_before = run_async(
        &browser,
        "const done = arguments[arguments.length - 1];
         (async () => {
           const demo = await (await fetch('/api/dev/demo-session', { method: 'POST' })).json();
           const session = await (await fetch('/api/checkout-sessions/' + demo.session_id, {
             headers: { Authorization: 'Bearer ' + demo.client_secret },
           })).json();
           const element = document.querySelector('payment-selector');
           const before = customElements.get('payment-selector') === undefined;
           element.session = { session, client_secret: demo.client_secret };
           const script = document.createElement('script');
           script.src = 'payment-selector/payment-selector.js';
           document.head.append(script);
           await customElements.whenDefined('payment-selector');
           done(before);
         })().catch((error) => done(String(error)));",
    )
    .await;
    assert_eq!(undefined_before, json!(true), "the property came first");
    let page = CheckoutPage::returned_element(&browser.client);
    page.wait_for("method-list").await;
    assert_eq!(page.amount().await, "¥128.00");
    assert_eq!(
        run(
            &browser,
            "const e = document.querySelector('payment-selector');
             return !Object.prototype.hasOwnProperty.call(e, 'session') && e.session.client_secret.startsWith('cs_');",
            vec![],
        )
        .await,
        json!(true),
        "the element holds the session through its accessor"
    );
    assert_eq!(
        run(
            &browser,
            "const e = document.querySelector('payment-selector');
             const drawn = e.shadowRoot.querySelector('.ps-checkout').getBoundingClientRect().height;
             return [getComputedStyle(e).display, e.hasAttribute('data-ps-ready'),
                     Math.abs(e.getBoundingClientRect().height - drawn) < 2];",
            vec![],
        )
        .await,
        json!(["block", true, true]),
        "on a page that styles nothing, the element is a block as tall as its checkout once drawn"
    );
    assert_eq!(errors(&browser).await, json!([]));
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_language_a_repeated_attribute_and_a_move_keep_the_shopper_s_choice() {
    let app = App::start_shop().await;
    let browser = Browser::start("en-US").await;
    let page = CheckoutPage::open_element(&browser.client, &app.url()).await;
    page.choose("alipay").await;
    assert_eq!(page.chosen().await.as_deref(), Some("alipay"));
    let focused = browser.focused().await;
    assert_eq!(focused, "ps-method__radio", "the shopper is on the radio");

    let set = |name: &'static str, value: &'static str| {
        let client = browser.client.clone();
        async move {
            client
                .execute(
                    "document.querySelector('payment-selector').setAttribute(arguments[0], arguments[1]); return true;",
                    vec![json!(name), json!(value)],
                )
                .await
                .expect("the attribute is set");
        }
    };
    set("locale", "zh-CN").await;
    page.wait_for_text("method-alipay", |text| text == "支付宝")
        .await;
    assert_eq!(page.text("pay-button").await, "支付 ¥128.00");
    assert_eq!(
        page.chosen().await.as_deref(),
        Some("alipay"),
        "the choice survives a new language"
    );
    assert_eq!(browser.focused().await, focused, "and so does the focus");

    // A framework's re-render sets the same attributes again.
    run(
        &browser,
        "const e = document.querySelector('payment-selector');
         for (const name of ['session-id', 'client-secret', 'locale']) e.setAttribute(name, e.getAttribute(name));
         return true;",
        vec![],
    )
    .await;
    // Moved to another place on the page, as a framework moves it.
    run(
        &browser,
        "const e = document.querySelector('payment-selector');
         const aside = document.createElement('aside');
         document.body.append(aside);
         aside.append(e);
         return true;",
        vec![],
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(page.chosen().await.as_deref(), Some("alipay"));
    assert_eq!(page.text("method-alipay").await, "支付宝");
    assert_eq!(mounts(&browser).await, 1, "never mounted again");

    page.pay().await;
    page.scan_qr_code().await;
    page.press("simulate-scan").await;
    page.wait_for_text("outcome-headline", |text| text == "支付成功")
        .await;

    // Taken off the page for good, it lets its checkout go.
    let left = run_async(
        &browser,
        "const done = arguments[arguments.length - 1];
         const e = document.querySelector('payment-selector');
         e.remove();
         setTimeout(() => done(e.shadowRoot.querySelector('[data-testid=checkout]') === null), 100);",
    )
    .await;
    assert_eq!(left, json!(true), "the checkout is unmounted");
    browser.close().await;
}

/// The shop, with a page (`page`) that loads the package's `script` as
/// it would be if `hash`, which it carries, were another: expecting other
/// bytes than the server's (as when a file was altered on the server).
async fn shop_with_script_expecting_other(script: &str, hash: &str, page: &str) -> App {
    let dist = std::env::var_os("PS_DIST_DIR").expect("PS_DIST_DIR");
    let path = std::path::Path::new(&dist)
        .join("payment-selector")
        .join(script);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(text.contains(hash), "{script} carries the hash {hash}");
    let expecting_other = text.replace(hash, &format!("sha384-{}", "A".repeat(64)));
    let other_page = pinned_page("expecting-other.js", "").replace(" integrity=\"\"", "");
    App::start_shop_with(&[
        (page, other_page.as_bytes()),
        (
            "payment-selector/expecting-other.js",
            expecting_other.as_bytes(),
        ),
    ])
    .await
}

/// The package's files by name, with their subresource-integrity hashes.
fn package_integrity() -> serde_json::Map<String, Value> {
    let dist = std::env::var_os("PS_DIST_DIR").expect("PS_DIST_DIR");
    let path = std::path::Path::new(&dist).join("payment-selector/integrity.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("integrity.json is JSON")
}

/// The content-hashed name of a stable one (`payment-selector.js` →
/// `payment-selector.<hash>.js`).
fn hashed_name(files: &serde_json::Map<String, Value>, stable: &str) -> String {
    let (stem, extension) = stable.rsplit_once('.').expect("a name with an extension");
    files
        .keys()
        .find(|name| {
            name.starts_with(&format!("{stem}."))
                && name.ends_with(&format!(".{extension}"))
                && *name != stable
        })
        .unwrap_or_else(|| panic!("no hashed {stable} in integrity.json"))
        .clone()
}

fn pinned_page(script: &str, integrity: &str) -> String {
    format!(
        r#"<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>Checkout</title>
    <script src="payment-selector/{script}" integrity="{integrity}" defer></script>
    <script src="shop.js" defer></script>
    <link rel="stylesheet" href="shop.css" />
  </head>
  <body>
    <main class="shop">
      <payment-selector api-base="/api"></payment-selector>
      <p class="shop__result" role="status" data-testid="shop-result"></p>
    </main>
  </body>
</html>
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pinned_script_loads_its_own_wasm_and_styles_and_refuses_a_wasm_that_differs() {
    let files = package_integrity();
    let script = hashed_name(&files, "payment-selector.js");
    let wasm = hashed_name(&files, "payment-selector_bg.wasm");
    let later = hashed_name(&files, "payment-selector_split_after_pay.wasm");
    let css = hashed_name(&files, "payment-selector.css");
    let page_html = pinned_page(&script, files[&script].as_str().expect("a hash"));

    let app = App::start_shop_with(&[("pinned.html", page_html.as_bytes())]).await;
    let browser = Browser::start("en-US").await;
    browser.on_every_page(GATHER_ERRORS).await;
    let page =
        CheckoutPage::open_element(&browser.client, &format!("{}pinned.html", app.url())).await;
    assert_eq!(page.amount().await, "¥128.00");
    assert_eq!(
        page.style("pay-button", "background-color").await,
        "rgba(154, 91, 19, 1)",
        "styled by its own stylesheet and the shop's --ps-accent"
    );
    // The screens after Pay, from the wasm's hashed second part.
    page.choose("wechat_pay").await;
    page.pay().await;
    page.scan_qr_code().await;
    let loaded = run(
        &browser,
        "return performance.getEntriesByType('resource').map((entry) => new URL(entry.name).pathname);",
        vec![],
    )
    .await;
    for name in [&wasm, &later, &css] {
        assert!(
            loaded
                .as_array()
                .is_some_and(|paths| paths.contains(&json!(format!("/payment-selector/{name}")))),
            "{name} loaded: {loaded}"
        );
    }
    assert_eq!(errors(&browser).await, json!([]));
    browser.close().await;

    // The pinned script again, expecting other bytes than the server's wasm
    // (as when the wasm was altered on the server): it refuses the wasm and
    // says so.
    let wasm_hash = files[&wasm].as_str().expect("a hash");
    let app = shop_with_script_expecting_other(&script, wasm_hash, "pinned.html").await;
    let browser = Browser::start("en-US").await;
    browser.on_every_page(
        "window.__refused = [];
         addEventListener('payment-selector:error', (e) => __refused.push(String(e.detail.error)));",
    )
    .await;
    browser
        .client
        .goto(&format!("{}pinned.html", app.url()))
        .await
        .expect("the page opens");
    let said = CheckoutPage::returned(&browser.client)
        .wait_for_text("shop-result", |text| !text.is_empty())
        .await;
    assert_eq!(
        said,
        "The checkout could not load. Reload the page, or pay another way."
    );
    let refused = run(&browser, "return window.__refused;", vec![]).await;
    assert_eq!(refused.as_array().map(Vec::len), Some(1), "{refused}");
    assert!(
        !CheckoutPage::returned_element(&browser.client)
            .shows("method-list")
            .await,
        "no checkout from an altered wasm"
    );
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_shopper_of_the_static_plain_html_shop_pays_on_the_h5_cashier_and_comes_back_paid()
{
    // Served as static files, with no server of its own: shop.js asks for
    // a demo session and keeps it in sessionStorage for the return.
    let app = App::start_shop().await;
    let browser = Browser::start_as("en-US", Device::Phone).await;
    let page = CheckoutPage::open_element(&browser.client, &app.url()).await;
    page.choose("wechat_pay").await;
    page.pay().await;
    pays_on_the_h5_cashier_and_comes_back(&browser, &app.url(), "Payment succeeded").await;
    browser.close().await;
}

/// After Pay on a phone: the page leaves for WeChat Pay's H5 cashier, the
/// shopper pays and comes back to `shop` told `succeeded`, and so does the
/// shop's own line; a reload of the return tells the same, and the shop's
/// next visit is a new order.
pub async fn pays_on_the_h5_cashier_and_comes_back(browser: &Browser, shop: &str, succeeded: &str) {
    browser.click("[data-testid=h5-pay]").await;
    let back = browser
        .arrived_at(|url| url.contains("payment_intent="))
        .await;
    assert!(
        back.starts_with(shop) && back.contains("payment_intent=pi_"),
        "{back}"
    );
    let page = CheckoutPage::returned_element(&browser.client);
    page.wait_for_text("outcome-headline", |text| text == succeeded)
        .await;
    let said = CheckoutPage::returned(&browser.client)
        .wait_for_text("shop-result", |text| !text.is_empty())
        .await;
    assert!(said.starts_with("Payment succeeded (pi_"), "{said:?}");
    // The outcome is shorter than the methods were: the room reserved for
    // them is not left blank above the shop's line.
    let blank = run(
        browser,
        "const e = document.querySelector('payment-selector');
         return e.getBoundingClientRect().height
             - e.shadowRoot.querySelector('.ps-checkout').getBoundingClientRect().height;",
        vec![],
    )
    .await;
    assert!(
        blank.as_f64().is_some_and(|px| px.abs() < 2.0),
        "{blank}px left blank under the outcome"
    );

    // A reload of the return keeps telling the same story; the shop's next
    // visit (no intent in the address) gets a new order.
    browser.client.refresh().await.expect("a reload");
    CheckoutPage::returned_element(&browser.client)
        .wait_for_text("outcome-headline", |text| text == succeeded)
        .await;
    let fresh = CheckoutPage::open_element(&browser.client, shop).await;
    assert_eq!(fresh.chosen().await, None, "a new order to pay");
    assert_eq!(fresh.amount().await, "¥128.00");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shop_does_not_move_when_the_checkout_appears() {
    let app = App::start_shop().await;
    let browser = Browser::start("en-US").await;
    // Where the shop's line under the checkout is when the page is parsed
    // (the package defined, its wasm still on the way).
    browser
        .on_every_page(
            "document.addEventListener('DOMContentLoaded', () => {
               window.__before = document.querySelector('.shop__result').getBoundingClientRect().top;
             });",
        )
        .await;
    CheckoutPage::open_element(&browser.client, &app.url()).await;
    let moved = run(
        &browser,
        "return document.querySelector('.shop__result').getBoundingClientRect().top - window.__before;",
        vec![],
    )
    .await;
    assert!(
        moved.as_f64().is_some_and(|px| px.abs() < 2.0),
        "the shop's line moved {moved}px"
    );
    browser.close().await;
}

/// What a payment under way needs (reading Pay's answer, the code, the
/// outcomes) comes in the wasm's second part, fetched once the checkout is
/// up. While it cannot be fetched, a shopper who pays is told the checkout
/// is still trying, and the code shows once the line is back; one who
/// comes back to a payment under way is told so too, and can go back to
/// the methods.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_goes_on_when_its_part_of_the_wasm_can_be_fetched_again() {
    let app = App::start_shop().await;
    let browser = Browser::start("en-US").await;
    browser.on_every_page(GATHER_ERRORS).await;
    browser.devtools("Network.enable", json!({})).await;
    let block = |urls: Value| browser.devtools("Network.setBlockedURLs", json!({ "urls": urls }));
    let still_trying = |text: &str| text == "Connection trouble, still trying…";
    block(json!(["*payment-selector_split_after_pay*"])).await;
    let page = CheckoutPage::open_element(&browser.client, &app.url()).await;
    assert_eq!(page.amount().await, "¥128.00");

    page.choose("wechat_pay").await;
    page.pay().await;
    page.wait_for_text("still-trying", still_trying).await;
    assert!(!page.shows("qr-code").await, "no code without its part");
    assert!(!page.can_pay().await, "Pay is not pressed twice");

    block(json!([])).await;
    page.wait_for("qr-code").await;

    // Back to the code on a line that has lost the part again.
    block(json!(["*payment-selector_split_after_pay*"])).await;
    browser.client.refresh().await.expect("a reload");
    let page = CheckoutPage::returned_element(&browser.client);
    page.wait_for_text("still-trying", still_trying).await;
    assert!(!page.shows("qr-code").await, "no code without its part");
    page.press("choose-another").await;
    page.wait_for("method-list").await;
    assert!(!page.shows("still-trying").await, "back to the methods");

    block(json!([])).await;
    browser.client.refresh().await.expect("a reload");
    let page = CheckoutPage::returned_element(&browser.client);
    page.choose("wechat_pay").await;
    page.pay().await;
    pay_by_scanning_the_code(&browser, &page).await;
    assert_eq!(errors(&browser).await, json!([]));
    browser.close().await;
}

/// A second part that is not the one its script was built with (altered on
/// the server, or another build's under the same name) is refused: the
/// shopper who pays is told the checkout is still trying.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_part_that_differs_from_the_script_s_is_refused_and_the_shopper_is_told() {
    let files = package_integrity();
    let later = hashed_name(&files, "payment-selector_split_after_pay.wasm");
    let later_hash = files[&later].as_str().expect("a hash");
    let app =
        shop_with_script_expecting_other("payment-selector.js", later_hash, "altered.html").await;
    let browser = Browser::start("en-US").await;
    let page =
        CheckoutPage::open_element(&browser.client, &format!("{}altered.html", app.url())).await;
    page.choose("wechat_pay").await;
    page.pay().await;
    page.wait_for_text("still-trying", |text| {
        text == "Connection trouble, still trying…"
    })
    .await;
    assert!(!page.shows("qr-code").await, "no code from another part");
    assert!(!page.can_pay().await, "Pay is not pressed twice");
    browser.close().await;
}
