//! The few facts and acts the checkout needs from the browser, in one place:
//! the shopper's languages and device, the clock, random keys, and leaving
//! the page for a provider's.

use std::cell::Cell;
use std::rc::Rc;

use contract::{ClientContext, FormMethod, UnixSeconds};
use wasm_bindgen::{JsCast, JsValue};

use crate::checkout::BridgeAnswer;
use crate::context::from_navigator;
use crate::error::CheckoutError;
use crate::i18n::Locale;
use crate::js::set;

/// The checkout's language from `navigator.languages`.
pub fn preferred_locale() -> Locale {
    let languages: Vec<String> = web_sys::window()
        .map(|window| window.navigator().languages())
        .map(|list| list.iter().filter_map(|value| value.as_string()).collect())
        .unwrap_or_default();
    Locale::negotiate(languages.iter().map(String::as_str))
}

/// Where the shopper is, from the user agent and the touch screen.
pub fn client_context() -> ClientContext {
    let Some(navigator) = web_sys::window().map(|window| window.navigator()) else {
        return from_navigator("", 0);
    };
    let user_agent = navigator.user_agent().unwrap_or_default();
    from_navigator(&user_agent, navigator.max_touch_points())
}

thread_local! {
    /// How far the server's clock is ahead of the browser's, in ms.
    static SERVER_AHEAD_MS: std::cell::Cell<f64> = const { std::cell::Cell::new(0.0) };
}

/// The time now by the server's clock (as far as its answers' `Date`
/// headers tell), in Unix seconds: a code's countdown ends when the server
/// says, whatever the phone's clock says.
pub fn now() -> UnixSeconds {
    let ahead = SERVER_AHEAD_MS.with(std::cell::Cell::get);
    ((date_now_ms() + ahead) / 1000.0).floor() as UnixSeconds
}

#[cfg(target_arch = "wasm32")]
fn date_now_ms() -> f64 {
    js_sys::Date::now()
}

/// Natively (a server drawing the first screen), the system's clock.
#[cfg(not(target_arch = "wasm32"))]
fn date_now_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |since| since.as_secs_f64() * 1000.0)
}

/// Learns the server's clock from an answer's `Date` header.
pub fn server_date(date: &str) {
    // The header has whole seconds: the server's time is up to one more.
    let server = js_sys::Date::parse(date) + 500.0;
    if server.is_nan() {
        return;
    }
    let ahead = server - js_sys::Date::now();
    SERVER_AHEAD_MS.with(|known| {
        // Only a clock off by more than the header's precision is followed,
        // so that the countdown does not jitter with each answer.
        if (ahead - known.get()).abs() > 2_000.0 {
            known.set(ahead);
        }
    });
}

/// A random idempotency key: 128 bits from the browser's CSPRNG, in hex.
pub fn random_key() -> String {
    let mut bytes = [0u8; 16];
    let filled = web_sys::window()
        .and_then(|window| window.crypto().ok())
        .and_then(|crypto| crypto.get_random_values_with_u8_array(&mut bytes).ok())
        .is_some();
    if !filled {
        // No Web Crypto: a key need only be unique, not secret.
        for byte in &mut bytes {
            *byte = (js_sys::Math::random() * 256.0) as u8;
        }
    }
    const HEX: &[u8; 16] = b"0123456789abcdef";
    bytes
        .iter()
        .flat_map(|byte| [HEX[usize::from(byte >> 4)], HEX[usize::from(byte & 15)]])
        .map(char::from)
        .collect()
}

/// A parameter of the page's address (`?payment_intent=…`).
pub fn query_parameter(name: &str) -> Option<String> {
    let search = web_sys::window()?.location().search().ok()?;
    search
        .trim_start_matches('?')
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
        .filter(|value| !value.is_empty())
}

/// The page's address without its query or fragment.
pub fn page_url() -> String {
    web_sys::window()
        .and_then(|window| {
            let location = window.location();
            Some(format!(
                "{}{}",
                location.origin().ok()?,
                location.pathname().ok()?
            ))
        })
        .unwrap_or_default()
}

/// The tab's sessionStorage, where the browser allows it.
pub fn session_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok()?
}

/// The intent in flight for a session, kept in sessionStorage so that a
/// reload or Back resumes it.
pub fn remembered_intent(session_id: &str) -> Option<String> {
    session_storage()?.get_item(&intent_key(session_id)).ok()?
}

/// Keeps (or, with `None`, forgets) the intent in flight for a session.
pub fn remember_intent(session_id: &str, intent_id: Option<&str>) {
    let Some(storage) = session_storage() else {
        return;
    };
    let key = intent_key(session_id);
    // Storage may be full or refused: the checkout works without it.
    let _ = match intent_id {
        Some(intent_id) => storage.set_item(&key, intent_id),
        None => storage.remove_item(&key),
    };
}

fn intent_key(session_id: &str) -> String {
    format!("payment-selector:{session_id}")
}

/// True when the page is on screen.
pub fn page_visible() -> bool {
    web_sys::window()
        .and_then(|window| window.document())
        .is_none_or(|document| document.visibility_state() == web_sys::VisibilityState::Visible)
}

/// Gives the checkout's screen the focus, if the focus was lost (the
/// control that had it is gone): to the element marked `data-ps-focus`
/// (a screen's heading), else the chosen or first usable control.
pub fn refocus(root: &web_sys::Element) {
    let Some(document) = root.owner_document() else {
        return;
    };
    let lost = document
        .active_element()
        .is_none_or(|active| document.body().is_some_and(|body| *body == active));
    if !lost {
        return;
    }
    for selector in [
        "[data-ps-focus]",
        "input:checked",
        "input:enabled",
        "button",
    ] {
        if let Ok(Some(target)) = root.query_selector(selector) {
            let _ = target.unchecked_into::<web_sys::HtmlElement>().focus();
            return;
        }
    }
}

/// Sends the whole page to a provider: a GET navigation, or a hidden form
/// built from data and submitted as the top-level document, in UTF-8
/// whatever the page's own charset (UnionPay's gateway reads its signed
/// fields so; never HTML from the server).
pub fn navigate(
    url: &str,
    method: FormMethod,
    fields: &[(String, String)],
) -> Result<(), CheckoutError> {
    let failed =
        |_: JsValue| CheckoutError::Misconfigured("the redirect could not be built".into());
    let window =
        web_sys::window().ok_or_else(|| CheckoutError::Misconfigured("no window".into()))?;
    if !is_web_page(url) {
        return Err(CheckoutError::Misconfigured(
            "refusing to redirect to a page that is not http(s)".into(),
        ));
    }
    if method == FormMethod::Get {
        return window.location().assign(url).map_err(failed);
    }
    let document = window
        .document()
        .ok_or_else(|| CheckoutError::Misconfigured("no document".into()))?;
    let form: web_sys::HtmlFormElement = document
        .create_element("form")
        .map_err(failed)?
        .unchecked_into();
    form.set_method("post");
    form.set_action(url);
    form.set_accept_charset("UTF-8");
    form.set_target("_top");
    form.set_hidden(true);
    for (name, value) in fields {
        let input: web_sys::HtmlInputElement = document
            .create_element("input")
            .map_err(failed)?
            .unchecked_into();
        input.set_type("hidden");
        input.set_name(name);
        input.set_value(value);
        form.append_child(&input).map_err(failed)?;
    }
    document
        .body()
        .ok_or_else(|| CheckoutError::Misconfigured("no body".into()))?
        .append_child(&form)
        .map_err(failed)?;
    form.submit().map_err(failed)
}

/// Only a web page is a payment page: never `javascript:` or `data:`. A
/// URL that starts with its scheme as written here is of that scheme.
pub fn is_web_page(url: &str) -> bool {
    let url = url.trim_start().to_ascii_lowercase();
    url.starts_with("https://") || url.starts_with("http://")
}

/// A wallet app's JS bridge, as its app puts it on the page.
pub struct Bridge {
    /// The global object (`WeixinJSBridge`).
    global: &'static str,
    /// Its function that starts a payment (`invoke`).
    function: &'static str,
    /// The payment's name (`getBrandWCPayRequest`).
    action: &'static str,
    /// The event that says the bridge is there (`WeixinJSBridgeReady`).
    ready: &'static str,
    /// The field of the callback's argument that says how it went.
    result: &'static str,
    /// What that field says.
    answer: fn(&str) -> BridgeAnswer,
}

/// WeChat's: `WeixinJSBridge.invoke('getBrandWCPayRequest', params, cb)`,
/// `err_msg`.
pub const WECHAT: Bridge = Bridge {
    global: "WeixinJSBridge",
    function: "invoke",
    action: "getBrandWCPayRequest",
    ready: "WeixinJSBridgeReady",
    result: "err_msg",
    answer: BridgeAnswer::from_err_msg,
};

/// Alipay's: `AlipayJSBridge.call('tradePay', {tradeNO}, cb)`, `resultCode`.
pub const ALIPAY: Bridge = Bridge {
    global: "AlipayJSBridge",
    function: "call",
    action: "tradePay",
    ready: "AlipayJSBridgeReady",
    result: "resultCode",
    answer: BridgeAnswer::from_result_code,
};

/// Starts a payment through a wallet's bridge with `args`, once the app has
/// put its bridge on the page (its ready event, when it is not there yet).
/// `said` gets what the wallet said, which is only a hint: only the server
/// can tell whether the shopper paid. A bridge that cannot be called, or
/// never comes (the page is not in that app after all), says `Fail`.
/// `wanted` says whether the checkout still waits for this payment when a
/// late bridge arrives. A newer call makes this one's wait moot.
pub fn invoke_wallet(
    bridge: &'static Bridge,
    args: JsValue,
    wanted: Rc<dyn Fn() -> bool>,
    said: Rc<dyn Fn(BridgeAnswer)>,
) {
    let call = WALLET_CALLS.with(|calls| {
        calls.set(calls.get().wrapping_add(1));
        calls.get()
    });
    let current = move || WALLET_CALLS.with(Cell::get) == call;
    let invoke = {
        let said = said.clone();
        move || -> Option<()> {
            let window = web_sys::window()?;
            let global = js_sys::Reflect::get(&window, &bridge.global.into()).ok()?;
            let call: js_sys::Function = js_sys::Reflect::get(&global, &bridge.function.into())
                .ok()?
                .dyn_into()
                .ok()?;
            let callback = wasm_bindgen::closure::Closure::once_into_js(move |answer: JsValue| {
                let result = js_sys::Reflect::get(&answer, &bridge.result.into())
                    .ok()
                    .and_then(|result| result.as_string())
                    .unwrap_or_default();
                said((bridge.answer)(&result))
            });
            call.call3(&global, &bridge.action.into(), &args, &callback)
                .ok()
                .map(drop)
        }
    };
    let present = web_sys::window()
        .and_then(|window| js_sys::Reflect::get(&window, &bridge.global.into()).ok())
        .is_some_and(|global| global.is_object());
    if present {
        if invoke().is_none() {
            said(BridgeAnswer::Fail);
        }
        return;
    }
    // The app adds its bridge a moment after the page loads.
    let invoked = Rc::new(Cell::new(false));
    let given_up = Rc::new(Cell::new(false));
    let (done, late) = (invoked.clone(), given_up.clone());
    let on_ready = wasm_bindgen::closure::Closure::once_into_js(move || {
        // Too late: the shopper was told it failed and its intent closed,
        // or has moved on, or tried again.
        if late.get() || !current() || !wanted() {
            return;
        }
        // A bridge that came but could not be called counts as missing.
        done.set(invoke().is_some());
    });
    let listening = web_sys::window()
        .and_then(|window| window.document())
        .is_some_and(|document| {
            document
                .add_event_listener_with_callback(bridge.ready, on_ready.unchecked_ref())
                .is_ok()
        });
    if !listening {
        said(BridgeAnswer::Fail);
        return;
    }
    leptos::prelude::set_timeout(
        move || {
            if !invoked.get() && current() {
                given_up.set(true);
                said(BridgeAnswer::Fail);
            }
        },
        std::time::Duration::from_secs(10),
    );
}

thread_local! {
    /// How many wallet calls the page has made: only the latest may still
    /// open a sheet or give up.
    static WALLET_CALLS: Cell<u32> = const { Cell::new(0) };
}

/// Stops a navigation the page has started (the provider's page is still
/// loading) so that it does not land later.
pub fn stop_loading() {
    if let Some(window) = web_sys::window() {
        let _ = window.stop();
    }
}

/// `tradePay`'s argument: `{tradeNO}`.
pub fn trade_pay_args(trade_no: &str) -> JsValue {
    let object = js_sys::Object::new();
    set(&object, "tradeNO", &trade_no.into());
    object.into()
}

/// `getBrandWCPayRequest`'s argument, with WeChat's field names.
pub fn wechat_pay_args(params: &contract::WechatJsapiParams) -> JsValue {
    let object = js_sys::Object::new();
    for (name, value) in [
        ("appId", &params.app_id),
        ("timeStamp", &params.time_stamp),
        ("nonceStr", &params.nonce_str),
        ("package", &params.package),
        ("signType", &params.sign_type),
        ("paySign", &params.pay_sign),
    ] {
        set(&object, name, &value.into());
    }
    object.into()
}

#[cfg(test)]
mod tests {
    use super::is_web_page;

    #[test]
    fn only_web_pages_are_left_for() {
        assert!(is_web_page(
            "https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?x=1"
        ));
        assert!(is_web_page(" HTTP://gateway.test/frontTransReq.do"));
        for url in [
            "javascript:alert(1)",
            "data:text/html,x",
            "weixin://x",
            "/relative",
            "ht\ttps://x",
        ] {
            assert!(!is_web_page(url), "{url}");
        }
    }
}
