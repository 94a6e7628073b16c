//! Component tests in a real browser (headless Chromium through
//! wasm-bindgen-test): mount a component into a fresh element, act, and
//! check what a shopper would see.
#![cfg(target_arch = "wasm32")]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use contract::{
    Availability, CheckoutSession, Currency, Flow, MethodKind, Money, PaymentMethod,
    UnavailableReason,
};
use leptos::prelude::*;
use payment_selector::components::{Checkout, MethodList, PayButton, QrPanel, StatusLine};
use payment_selector::i18n::Locale;
use payment_selector::money;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement, HtmlInputElement};

wasm_bindgen_test_configure!(run_in_browser);

/// A component mounted into its own element; unmounted when dropped.
struct Mounted {
    root: HtmlElement,
    _handle: leptos::mount::UnmountHandle<leptos::tachys::view::any_view::AnyViewState>,
}

fn mount<V: IntoView + 'static>(view: impl FnOnce() -> V + 'static) -> Mounted {
    let document = web_sys::window().unwrap().document().unwrap();
    let root: HtmlElement = document.create_element("div").unwrap().unchecked_into();
    document.body().unwrap().append_child(&root).unwrap();
    let handle = leptos::mount::mount_to(root.clone(), move || view().into_any());
    Mounted {
        root,
        _handle: handle,
    }
}

impl Mounted {
    fn find(&self, selector: &str) -> Option<Element> {
        self.root.query_selector(selector).unwrap()
    }

    fn get(&self, selector: &str) -> Element {
        self.find(selector)
            .unwrap_or_else(|| panic!("nothing matches {selector}: {}", self.root.inner_html()))
    }

    fn all(&self, selector: &str) -> Vec<Element> {
        let list = self.root.query_selector_all(selector).unwrap();
        (0..list.length())
            .filter_map(|i| list.item(i))
            .map(JsCast::unchecked_into)
            .collect()
    }

    fn text(&self, selector: &str) -> String {
        self.get(selector).text_content().unwrap_or_default()
    }

    /// Waits (up to 10 s) until `selector` matches, as a shopper would.
    async fn wait_for(&self, selector: &str) -> Element {
        for _ in 0..200 {
            if let Some(element) = self.find(selector) {
                return element;
            }
            settle().await;
        }
        panic!("{selector} never appeared: {}", self.root.inner_html());
    }
}

async fn settle() {
    gloo_timers::future::sleep(Duration::from_millis(50)).await;
}

fn methods() -> Vec<PaymentMethod> {
    let available = |kind| PaymentMethod {
        kind,
        flow: Flow::QrCode,
        availability: Availability::Available,
    };
    vec![
        available(MethodKind::WechatPay),
        available(MethodKind::Card),
        PaymentMethod {
            kind: MethodKind::Alipay,
            flow: Flow::Redirect,
            availability: Availability::unavailable(UnavailableReason::BlockedInWechat),
        },
    ]
}

#[wasm_bindgen_test]
async fn the_method_list_is_one_group_of_labelled_native_radios() {
    let picked = Arc::new(Mutex::new(Vec::new()));
    let record = picked.clone();
    let page = mount(move || {
        let nothing_chosen: Option<MethodKind> = None;
        view! {
            <MethodList
                methods=methods()
                selected=nothing_chosen
                disabled=false
                locale=Locale::En
                on_select=Callback::new(move |kind| record.lock().unwrap().push(kind))
            />
        }
    });
    settle().await;

    assert_eq!(page.text("fieldset legend"), "Payment method");
    let radios: Vec<HtmlInputElement> = page
        .all("input[type=radio]")
        .into_iter()
        .map(JsCast::unchecked_into)
        .collect();
    assert_eq!(radios.len(), 3);
    let group = radios[0].name();
    assert!(
        radios.iter().all(|radio| radio.name() == group),
        "one radio group"
    );
    for radio in &radios {
        let label = page.get(&format!("label[for='{}']", radio.id()));
        assert!(!label.text_content().unwrap_or_default().is_empty());
    }
    assert_eq!(
        page.text("[data-testid=method-wechat_pay] label"),
        "WeChat Pay"
    );

    let alipay: HtmlInputElement = page
        .get("[data-testid=method-alipay] input")
        .unchecked_into();
    assert!(alipay.disabled(), "an unavailable method cannot be chosen");
    let reason_id = alipay
        .get_attribute("aria-describedby")
        .expect("the reason is linked");
    assert!(page
        .text(&format!("#{reason_id}"))
        .contains("inside WeChat"));

    radios[1].click();
    alipay.click();
    settle().await;
    assert_eq!(*picked.lock().unwrap(), [MethodKind::Card]);
}

/// What Chromium's `Intl` writes for `options` in `locale`: the
/// independent hand the crate's own amounts and dates are checked against.
fn intl(
    locale: Locale,
    options: &[(&str, &str)],
    format: impl Fn(&js_sys::Function) -> JsValue,
) -> String {
    let settings = js_sys::Object::new();
    for (key, value) in options {
        js_sys::Reflect::set(&settings, &(*key).into(), &(*value).into()).unwrap();
    }
    let locales = js_sys::Array::of1(&locale.tag().into());
    let formatter: js_sys::Function = if options.iter().any(|(key, _)| *key == "currency") {
        js_sys::Intl::NumberFormat::new(&locales, &settings).format()
    } else {
        js_sys::Intl::DateTimeFormat::new(&locales, &settings).format()
    };
    format(&formatter).as_string().unwrap()
}

#[wasm_bindgen_test]
async fn amounts_and_dates_are_written_as_the_browser_s_intl_writes_them() {
    for locale in [Locale::ZhCn, Locale::ZhTw, Locale::En] {
        for currency in Currency::KNOWN {
            for value in [1, 999, 12_800, 123_456, 100_000_000, 9_876_543_210] {
                let money = Money::new(value, currency);
                let display = if currency == Currency::CNY {
                    "narrowSymbol"
                } else {
                    "symbol"
                };
                let options = [
                    ("style", "currency"),
                    ("currency", currency.code()),
                    ("currencyDisplay", display),
                ];
                let exact = money.to_major_string();
                let expected = intl(locale, &options, |f| {
                    f.call1(&JsValue::NULL, &exact.clone().into()).unwrap()
                });
                assert_eq!(
                    money::format(&money, locale),
                    expected,
                    "{currency} {value} in {locale:?}"
                );
            }
        }
        // Each month's 1st and last day, at Beijing midnight and the second before.
        for month_start in (0..24).map(|m| 1_767_196_800 + m * 2_629_746) {
            for at in [month_start, month_start - 1, month_start + 86_399] {
                let options = [
                    ("month", "short"),
                    ("day", "numeric"),
                    ("timeZone", "Asia/Shanghai"),
                ];
                let day = js_sys::Date::new(&JsValue::from_f64(at as f64 * 1000.0));
                let expected = intl(locale, &options, |f| f.call1(&JsValue::NULL, &day).unwrap());
                assert_eq!(money::date(at, locale), expected, "{at} in {locale:?}");
            }
        }
    }
}

#[wasm_bindgen_test]
async fn the_pay_button_names_the_amount_and_waits_for_a_choice() {
    let chosen = RwSignal::new(false);
    let page = mount(move || {
        view! { <PayButton amount="¥128.00" disabled=Signal::derive(move || !chosen.get()) busy=false locale=Locale::ZhCn /> }
    });
    settle().await;
    let button: web_sys::HtmlButtonElement = page.get("[data-testid=pay-button]").unchecked_into();
    assert!(button.disabled());
    assert_eq!(button.text_content().unwrap(), "请选择支付方式");
    chosen.set(true);
    settle().await;
    assert!(!button.disabled());
    assert_eq!(button.text_content().unwrap(), "支付 ¥128.00");
}

#[wasm_bindgen_test]
async fn the_qr_panel_shows_a_code_the_time_left_and_sandbox_controls() {
    let seconds_left = RwSignal::new(300_i64);
    let scans = Arc::new(Mutex::new(Vec::new()));
    let counter = scans.clone();
    let simulating = RwSignal::new(false);
    let page = mount(move || {
        view! {
            <QrPanel
                method=MethodKind::WechatPay
                payload="weixin://wxpay/bizpayurl?pr=abc123"
                seconds_left=seconds_left
                amount="¥128.00"
                sandbox=true
                locale=Locale::En
                on_simulate_scan=Callback::new(move |decline: bool| counter.lock().unwrap().push(decline))
                simulating
                on_choose_another=Callback::new(|()| {})
            />
        }
    });
    settle().await;
    let code = page.get("[data-testid=qr-code]");
    assert_eq!(code.get_attribute("role").as_deref(), Some("img"));
    assert_eq!(
        code.get_attribute("aria-label").as_deref(),
        Some("Payment QR code")
    );
    let path = page
        .get("[data-testid=qr-code] path")
        .get_attribute("d")
        .unwrap_or_default();
    assert!(
        path.matches('M').count() > 50,
        "a QR code has many runs of dark modules"
    );
    assert_eq!(page.text("[data-testid=countdown]"), "Expires in 5:00");
    assert_eq!(page.text("[data-testid=qr-amount]"), "¥128.00");
    seconds_left.set(61);
    settle().await;
    assert_eq!(page.text("[data-testid=countdown]"), "Expires in 1:01");

    let simulate: HtmlElement = page.get("[data-testid=simulate-scan]").unchecked_into();
    simulate.click();
    simulate.click();
    settle().await;
    assert_eq!(
        *scans.lock().unwrap(),
        [false],
        "one scan that pays: a second click while the first runs does nothing"
    );
    assert!(simulate.has_attribute("disabled"));

    // The sandbox refused that scan: the checkout lets it be tried again.
    simulating.set(false);
    settle().await;
    assert!(!simulate.has_attribute("disabled"));
    page.get("[data-testid=simulate-decline]")
        .unchecked_into::<HtmlElement>()
        .click();
    settle().await;
    assert_eq!(*scans.lock().unwrap(), [false, true]);
}

#[wasm_bindgen_test]
async fn a_live_checkout_has_no_sandbox_controls() {
    let page = mount(|| {
        view! {
            <QrPanel
                method=MethodKind::WechatPay
                payload="weixin://wxpay/bizpayurl?pr=abc123"
                seconds_left=120_i64
                amount="¥128.00"
                sandbox=false
                locale=Locale::En
                on_simulate_scan=Callback::new(|_: bool| {})
                simulating=RwSignal::new(false)
                on_choose_another=Callback::new(|()| {})
            />
        }
    });
    settle().await;
    assert!(page.find("[data-testid=simulate-scan]").is_none());
    assert!(page.find("[data-testid=qr-code]").is_some());
}

#[wasm_bindgen_test]
async fn the_status_line_is_a_polite_live_region() {
    let text = RwSignal::new(None::<&'static str>);
    let page = mount(move || view! { <StatusLine text /> });
    settle().await;
    let status = page.get("[data-testid=status]");
    assert_eq!(status.get_attribute("role").as_deref(), Some("status"));
    assert_eq!(status.get_attribute("aria-live").as_deref(), Some("polite"));
    text.set(Some("Payment succeeded"));
    settle().await;
    assert_eq!(page.text("[data-testid=status]"), "Payment succeeded");
}

#[wasm_bindgen_test]
async fn an_unreachable_server_is_a_clear_error_with_a_way_to_retry() {
    // Port 9 (discard) has no server: the connection is refused.
    let page = mount(|| {
        view! { <Checkout api_base="http://127.0.0.1:9/api" session_id="cs_x" client_secret="secret" locale=Locale::En /> }
    });
    let error = page.wait_for("[data-testid=error]").await;
    assert_eq!(error.get_attribute("role").as_deref(), Some("alert"));
    assert_eq!(
        error.text_content().unwrap_or_default(),
        "Can't reach the payment server. Check your connection and try again."
    );
    assert!(
        page.find("[data-testid=pay-button]").is_none(),
        "nothing to pay without a session"
    );
    let retry: HtmlElement = page.get("[data-testid=reload]").unchecked_into();
    retry.click();
    settle().await;
    // It tries again, and fails again, without breaking.
    page.wait_for("[data-testid=error]").await;
    page.wait_for("[data-testid=reload]").await;
}

#[wasm_bindgen_test]
async fn an_answer_that_is_not_the_contract_is_an_error_not_a_crash() {
    // The test runner's own server answers this path with a 404 page that is
    // not an error body.
    let page = mount(|| {
        view! { <Checkout api_base="/no-such-api" session_id="cs_x" client_secret="secret" locale=Locale::ZhCn /> }
    });
    let error = page.wait_for("[data-testid=error]").await;
    assert_eq!(
        error.text_content().as_deref(),
        Some("无法发起支付，请稍后重试"),
        "a refusal without an error body still reads as a refusal, in Chinese"
    );
    assert_eq!(
        page.get("[data-testid=checkout]")
            .get_attribute("lang")
            .as_deref(),
        Some("zh-CN")
    );
}

#[wasm_bindgen_test]
async fn a_server_that_asks_for_a_negative_amount_is_refused_not_shown() {
    // A lying answer (the page's inline session): the amount negated.
    let lying = CheckoutSession {
        id: "cs_lie".into(),
        amount: Money::new(-12800, Currency::CNY),
        merchant_name: "Demo".into(),
        expires_at: 4_000_000_000,
        livemode: true,
        status: contract::SessionStatus::Open,
        paid_intent: None,
        methods: methods(),
    };
    let page = mount(move || {
        view! {
            <Checkout api_base="http://127.0.0.1:9/api" session_id="cs_lie" client_secret="secret"
                locale=Locale::En session=Some(lying) />
        }
    });
    let error = page.wait_for("[data-testid=error]").await;
    assert_eq!(
        error.text_content().unwrap_or_default(),
        "The payment server sent an unexpected answer. Please try again."
    );
    let shown = page.text("[data-testid=checkout]");
    assert!(!shown.contains("128"), "no amount is shown: {shown}");
    assert!(page.find("[data-testid=pay-button]").is_none());
}
