//! The first screen with the page: a storefront's server writes the
//! checkout's first screen (from `GET /checkout-sessions/{id}/first-screen`)
//! inside `<payment-selector>`, and the shopper sees and chooses a method
//! before any script runs. The element takes the screen over without a
//! shift, keeping the choice and the focus, carries out a Pay tapped while
//! its wasm was still on the way, and says so plainly when it cannot come.

use serde_json::{json, Value};

use crate::app::App;
use crate::browser::{Browser, Device};
use crate::checkout_page::CheckoutPage;
use crate::package::pays_on_the_h5_cashier_and_comes_back;
use crate::shop_server::ShopServer;

/// A desktop Chromium's user agent, as the shop's server forwards it.
const DESKTOP: &str =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36";

/// The shop's page as its server renders it, `first` inside the element;
/// the package's script comes with the page unless `script` is false.
fn page(first: &str, script: bool) -> String {
    let script = if script {
        r#"<script src="payment-selector/payment-selector.js" defer></script>"#
    } else {
        ""
    };
    format!(
        r#"<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Demo Tea House · Checkout</title>
    {script}
    <script src="shop.js" defer></script>
    <link rel="stylesheet" href="shop.css" />
  </head>
  <body>
    <main class="shop">
      <h1 class="shop__title">Demo Tea House</h1>
      <payment-selector api-base="/api">{first}</payment-selector>
      <p class="shop__result" role="status" data-testid="shop-result"></p>
      <p data-testid="delivery">Delivered in 2 to 3 days.</p>
    </main>
  </body>
</html>
"#
    )
}

/// Every layout shift the page has had, summed (whatever the input before
/// it), gathered from the first frame.
const WATCH_SHIFTS: &str = "window.__shifts = 0;
    new PerformanceObserver((list) => list.getEntries().forEach((entry) => (window.__shifts += entry.value)))
      .observe({ type: 'layout-shift', buffered: true });";

/// The checkout's screen as a shopper meets it: each element's tag, class,
/// test hook, state and words, and where it is (ids left out: the server's
/// and the browser's differ, unseen).
const SCREEN: &str = "const host = document.querySelector('payment-selector');
    const section = host.shadowRoot.querySelector('.ps-checkout');
    const draw = (el) => {
      const box = el.getBoundingClientRect();
      return [el.localName, el.className, el.dataset.testid || '', !!el.disabled, !!el.checked,
              [Math.round(box.x), Math.round(box.y), Math.round(box.width), Math.round(box.height)],
              el.children.length ? [...el.children].map(draw) : el.textContent];
    };
    return { ready: host.hasAttribute('data-ps-ready'), screen: draw(section) };";

async fn run(browser: &Browser, script: &str) -> Value {
    browser
        .client
        .execute(script, vec![])
        .await
        .unwrap_or_else(|e| panic!("{script}: {e}"))
}

/// The page's downloads slowed to `bytes_per_second` (the wasm then takes
/// seconds to come), as on a slow phone line.
async fn slow_line(browser: &Browser, bytes_per_second: u32) {
    browser.devtools("Network.enable", json!({})).await;
    browser
        .devtools(
            "Network.emulateNetworkConditions",
            json!({
                "offline": false,
                "latency": 0,
                "downloadThroughput": bytes_per_second,
                "uploadThroughput": 10_000_000,
            }),
        )
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_checkout_takes_the_server_s_first_screen_over_unchanged_with_the_choice_and_focus() {
    let app = App::start_shop().await;
    app.put(
        "first.html",
        &page(&app.first_screen(DESKTOP, "en-US,en").await, true),
    );
    let browser = Browser::start("en-US").await;
    browser.on_every_page(WATCH_SHIFTS).await;
    slow_line(&browser, 25_000).await;
    let page =
        CheckoutPage::open_element(&browser.client, &format!("{}first.html", app.url())).await;

    // Before the wasm: the amount and the methods are there, and one can
    // be chosen (with the keyboard's focus on it).
    let before = run(&browser, SCREEN).await;
    assert_eq!(
        before["ready"],
        json!(false),
        "the wasm has not taken over yet"
    );
    assert_eq!(page.amount().await, "¥128.00");
    assert!(!page.can_pay().await, "nothing chosen yet");
    page.choose("alipay").await;
    assert_eq!(page.chosen().await.as_deref(), Some("alipay"));
    assert!(
        page.can_pay().await,
        "a choice enables Pay before the checkout is in"
    );
    assert_eq!(page.text("pay-button").await, "Pay ¥128.00");
    let chosen = run(&browser, SCREEN).await;
    assert_eq!(chosen["ready"], json!(false), "still the server's screen");
    // What the page has shifted so far (its own stylesheet arriving, say),
    // against which the takeover's is counted.
    let shifted_before = run(&browser, "return window.__shifts;").await;
    assert_eq!(browser.focused().await, "ps-method__radio");

    // The checkout takes over: the same screen, in the same place, the
    // choice and the focus kept, nothing on the page moved.
    for _ in 0..200 {
        if run(&browser, SCREEN).await["ready"] == json!(true) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let after = run(&browser, SCREEN).await;
    assert_eq!(after["ready"], json!(true), "the checkout took over");
    assert_eq!(
        after["screen"], chosen["screen"],
        "the wasm draws what the server drew"
    );
    assert_eq!(page.chosen().await.as_deref(), Some("alipay"));
    assert_eq!(
        run(&browser, "let at = document.activeElement; while (at.shadowRoot && at.shadowRoot.activeElement) at = at.shadowRoot.activeElement; return at.value;").await,
        json!("alipay"),
        "the focus is on the chosen method's radio"
    );
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        run(&browser, "return window.__shifts;").await,
        shifted_before,
        "the takeover shifted nothing"
    );
    assert_eq!(
        run(&browser, "return document.querySelector('payment-selector').shadowRoot.querySelectorAll('.ps-checkout, .ps-unloaded').length;").await,
        json!(1),
        "one checkout, and no notice"
    );

    // It works as the checkout: Pay shows Alipay's code.
    page.pay().await;
    page.wait_for("qr-code").await;
    assert_eq!(app.latest_intent().await["method"], json!("alipay"));
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pay_tapped_before_the_wasm_arrives_is_carried_out_when_it_does_even_after_ten_seconds() {
    let app = App::start_shop().await;
    app.put(
        "first.html",
        &page(&app.first_screen(DESKTOP, "zh-CN").await, true),
    );
    let browser = Browser::start("zh-CN").await;
    // What comes before Pay works (~71 KB brotli, after the page) takes
    // over 14 s on this line: longer than the loader waits for a wasm that
    // has not begun to arrive.
    slow_line(&browser, 5_000).await;
    let page =
        CheckoutPage::open_element(&browser.client, &format!("{}first.html", app.url())).await;
    page.choose("wechat_pay").await;
    page.pay().await;
    assert_eq!(
        run(&browser, SCREEN).await["ready"],
        json!(false),
        "tapped before the checkout was in"
    );
    assert_eq!(page.text("pay-button").await, "正在发起支付…");
    assert!(!page.can_pay().await, "held, not tapped twice");
    // Still arriving after 10 s: the shopper is not told it is broken, and
    // the Pay stays held.
    let mut waited = 0;
    while run(&browser, SCREEN).await["ready"] == json!(false) {
        let notice = run(&browser, "return document.querySelector('payment-selector').shadowRoot.querySelector('.ps-unloaded').checkVisibility({ visibilityProperty: true });").await;
        assert_eq!(notice, json!(false), "no 'could not load' while it arrives");
        assert!(waited < 60_000, "the checkout never came");
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        waited += 500;
    }
    assert!(
        waited > 9_000,
        "the line was meant to take over 10 s ({waited} ms)"
    );
    page.scan_qr_code().await;
    assert_eq!(app.latest_intent().await["method"], json!("wechat_pay"));
    page.press("simulate-scan").await;
    page.wait_for_text("outcome-headline", |text| text == "支付成功")
        .await;
    browser.close().await;
}

/// Pay works once the wasm's small first part is in: the payment goes to
/// the server while the checkout's view is still on its way (here, held
/// back), and the view shows that same payment once it comes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pay_tapped_on_the_first_screen_goes_out_before_the_checkout_is_drawn() {
    let app = App::start_shop().await;
    app.put(
        "first.html",
        &page(&app.first_screen(DESKTOP, "zh-CN").await, true),
    );
    let browser = Browser::start("zh-CN").await;
    browser
        .on_every_page(
            "window.__rejections = []; addEventListener('unhandledrejection', (e) => __rejections.push(String(e.reason)));",
        )
        .await;
    browser.devtools("Network.enable", json!({})).await;
    let block = |urls: Value| browser.devtools("Network.setBlockedURLs", json!({ "urls": urls }));
    block(json!(["*payment-selector_split_view*"])).await;
    let page =
        CheckoutPage::open_element(&browser.client, &format!("{}first.html", app.url())).await;
    let working =
        "return document.querySelector('payment-selector').hasAttribute('data-ps-working');";
    let mut waited = 0;
    while run(&browser, working).await != json!(true) {
        assert!(waited < 10_000, "the first part never came");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        waited += 100;
    }
    page.choose("alipay").await;
    page.pay().await;
    let mut intent = app.latest_intent().await;
    for _ in 0..100 {
        if !intent.is_null() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        intent = app.latest_intent().await;
    }
    assert_eq!(intent["method"], json!("alipay"), "Pay went out: {intent}");
    assert_eq!(
        run(&browser, SCREEN).await["ready"],
        json!(false),
        "the checkout's view has not come"
    );
    assert_eq!(page.text("pay-button").await, "正在发起支付…");
    assert!(!page.can_pay().await, "not tapped twice");

    block(json!([])).await;
    page.scan_qr_code().await;
    assert_eq!(
        app.latest_intent().await["id"],
        intent["id"],
        "the code is the payment sent before, not a second one"
    );
    assert_eq!(
        run(&browser, "return window.__rejections;").await,
        json!([]),
        "a part that failed to load is the loader's to report, not the page's"
    );
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_that_cannot_run_the_checkout_says_so_at_once_and_one_without_its_script_soon() {
    let app = App::start_shop().await;
    let first = app.first_screen(DESKTOP, "en").await;
    app.put("first.html", &page(&first, true));
    app.put("scriptless.html", &page(&first, false));
    let notice = "return (() => { const host = document.querySelector('payment-selector');
        const notice = host.shadowRoot.querySelector('.ps-unloaded');
        return notice && notice.checkVisibility({ visibilityProperty: true }) ? notice.textContent : null; })();";

    // An old in-app browser without WebAssembly.
    let browser = Browser::start("en-US").await;
    browser.on_every_page("delete window.WebAssembly;").await;
    let page =
        CheckoutPage::open_element(&browser.client, &format!("{}first.html", app.url())).await;
    let told = run(&browser, notice).await;
    assert_eq!(
        told,
        json!(
            "The checkout could not load in this browser. Reload the page, or try another browser."
        ),
    );
    page.choose("wechat_pay").await;
    assert!(!page.can_pay().await, "no dead button that seems to work");
    browser.close().await;

    // No script at all (blocked, or never arrived): the page itself says
    // so after a few seconds; the methods show meanwhile.
    let browser = Browser::start("en-US").await;
    let page =
        CheckoutPage::open_element(&browser.client, &format!("{}scriptless.html", app.url())).await;
    assert_eq!(run(&browser, notice).await, json!(null), "not at first");
    assert_eq!(page.amount().await, "¥128.00");
    // The shop's theme holds before any script: light on a dark system.
    browser
        .devtools(
            "Emulation.setEmulatedMedia",
            json!({ "features": [{ "name": "prefers-color-scheme", "value": "dark" }] }),
        )
        .await;
    let surface = "return getComputedStyle(document.querySelector('payment-selector').shadowRoot.querySelector('.ps-checkout')).backgroundColor;";
    assert_eq!(run(&browser, surface).await, json!("rgb(22, 27, 34)"));
    run(
        &browser,
        "document.querySelector('payment-selector').setAttribute('theme', 'light'); return true;",
    )
    .await;
    assert_eq!(
        run(&browser, surface).await,
        json!("rgb(255, 255, 255)"),
        "theme=\"light\" before the script"
    );
    tokio::time::sleep(std::time::Duration::from_secs(9)).await;
    assert!(run(&browser, notice).await.is_string(), "told within 9 s");
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inside_wechat_the_server_s_screen_has_wechat_pay_chosen_and_a_pay_that_is_held() {
    /// The user agent `Device::InWechat` gives the browser.
    const IN_WECHAT: &str = "Mozilla/5.0 (Linux; Android 14; V2309A) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36 MicroMessenger/8.0.49.2600 WeChat/arm64 NetType/WIFI Language/zh_CN";
    let app = App::start_shop().await;
    app.put(
        "first.html",
        &page(&app.first_screen(IN_WECHAT, "zh-CN").await, true),
    );
    let browser = Browser::start_as("zh-CN", Device::InWechat).await;
    slow_line(&browser, 25_000).await;
    let page =
        CheckoutPage::open_element(&browser.client, &format!("{}first.html", app.url())).await;
    assert_eq!(run(&browser, SCREEN).await["ready"], json!(false));
    // The one method WeChat's browser can pay with is chosen, as the
    // checkout itself would choose it, and Pay names the amount.
    assert_eq!(page.chosen().await.as_deref(), Some("wechat_pay"));
    assert!(page.can_pay().await);
    assert_eq!(page.text("pay-button").await, "支付 ¥128.00");
    page.pay().await;
    assert_eq!(page.text("pay-button").await, "正在发起支付…");
    assert_eq!(
        run(&browser, SCREEN).await["ready"],
        json!(false),
        "held, not yet paid"
    );
    // Carried out once the checkout is in: a WeChat Pay intent for this session.
    for _ in 0..200 {
        if app.latest_intent().await["method"] == json!("wechat_pay") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(app.latest_intent().await["method"], json!("wechat_pay"));
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plain_html_shop_s_own_server_sends_the_first_screen_and_a_phone_pays_on_the_h5_cashier(
) {
    /// The user agent `Device::Phone` gives the browser.
    const PHONE: &str = "Mozilla/5.0 (Linux; Android 14; V2309A) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36";
    let app = App::start().await;
    let shop = ShopServer::start(&app);

    // The page as the shop's server sends it: the checkout's screen inside
    // the element, for this phone and language, its styles allowed by hash.
    let sent = reqwest::Client::new()
        .get(&shop.url)
        .header("User-Agent", PHONE)
        .header("Accept-Language", "zh-CN,zh;q=0.9")
        .send()
        .await
        .expect("the shop's server answers");
    let policy = sent.headers()["content-security-policy"]
        .to_str()
        .expect("a policy")
        .to_owned();
    assert!(policy.contains("style-src 'self' 'sha256-"), "{policy}");
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    let html = sent.text().await.expect("the page");
    assert!(
        html.contains(r#"<payment-selector api-base="/api"><template shadowrootmode="open">"#),
        "{html}"
    );
    assert!(html.contains("订单交易金额") && html.contains("¥128.00"));
    // A cookie the shop never set is no order of its own: a new one.
    let stranger = reqwest::Client::new()
        .get(&shop.url)
        .header("Cookie", "tea_house_order=%E0%A4%A; other=1")
        .send()
        .await
        .expect("the shop's server answers");
    assert_eq!(stranger.status(), 200);
    assert!(stranger
        .text()
        .await
        .expect("the page")
        .contains("shadowrootmode"));
    // A way back to an order the shop does not know goes to the shop's
    // page, not to a checkout of a new order told of another's payment.
    let unknown = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client")
        .get(format!(
            "{}?order=f00d&payment_intent=pi_someone_else",
            shop.url
        ))
        .send()
        .await
        .expect("the shop's server answers");
    assert_eq!(
        (
            unknown.status().as_u16(),
            unknown.headers()["location"].to_str().ok()
        ),
        (303, Some("/"))
    );
    // Only /api is passed on: no way round it to the payment server's
    // operations routes.
    let sneaked = shop.raw_get("/api/../metrics").await;
    assert!(sneaked.starts_with("HTTP/1.1 404"), "{sneaked}");

    let browser = Browser::start_as("zh-CN", Device::Phone).await;
    slow_line(&browser, 25_000).await;
    let page = CheckoutPage::open_element(&browser.client, &shop.url).await;
    assert_eq!(
        run(&browser, SCREEN).await["ready"],
        json!(false),
        "the methods are there before the package"
    );
    assert_eq!(page.amount().await, "¥128.00");
    page.choose("wechat_pay").await;
    page.pay().await;
    // The page leaves for WeChat Pay's H5 cashier once the package is in
    // (on a quick line from here on).
    browser
        .devtools(
            "Network.emulateNetworkConditions",
            json!({ "offline": false, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1 }),
        )
        .await;
    pays_on_the_h5_cashier_and_comes_back(&browser, &shop.url, "支付成功").await;
    browser.close().await;
}
