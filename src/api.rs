//! The HTTP client for the merchant backend's contract: one function per
//! endpoint, no view code. Every answer's status is checked before its body
//! is read, and every failure becomes a [`CheckoutError`]. Requests go
//! through the browser's `fetch`, and answers through its `JSON.parse`, so
//! the bundle carries no HTTP or JSON code of its own.

use contract::{
    paths, CheckoutSession, ClientContext, CreateIntent, DemoSession, ErrorBody, ErrorCode,
    PaymentIntent, IDEMPOTENCY_KEY_HEADER,
};
use serde::de::DeserializeOwned;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::decode::from_js;
use crate::error::CheckoutError;
use crate::js::set;

/// A client for one checkout session's endpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Api {
    base: String,
    client_secret: String,
}

impl Api {
    /// A client for the backend at `base` (such as `"/api"`), acting with a
    /// session's client secret.
    pub fn new(base: impl Into<String>, client_secret: impl Into<String>) -> Self {
        let base = base.into().trim_end_matches('/').to_owned();
        Self {
            base,
            client_secret: client_secret.into(),
        }
    }

    /// The session and the methods offered in `context`.
    pub async fn session(
        &self,
        session_id: &str,
        context: ClientContext,
    ) -> Result<CheckoutSession, CheckoutError> {
        let mut url = self.url(&paths::checkout_session(session_id));
        url.push_str("?device=");
        url.push_str(device_name(context));
        if let Some(app) = context.in_app {
            url.push_str("&in_app=");
            url.push_str(in_app_name(app));
        }
        decode(self.fetch("GET", &url, None, None).await?)
    }

    /// Starts paying the session with one method. Sending the same
    /// `idempotency_key` again returns the same intent.
    pub async fn create_intent(
        &self,
        session_id: &str,
        body: &CreateIntent,
        idempotency_key: &str,
    ) -> Result<IntentAnswer, CheckoutError> {
        let url = self.url(&paths::session_intents(session_id));
        let body = create_intent_json(body);
        self.fetch("POST", &url, Some(&body), Some(idempotency_key))
            .await
            .map(IntentAnswer)
    }

    /// The intent's current status; `ask_provider` has the server ask the
    /// provider first (the shopper's "check again").
    pub async fn intent(
        &self,
        intent_id: &str,
        ask_provider: bool,
    ) -> Result<PaymentIntent, CheckoutError> {
        let mut url = self.url(&paths::intent(intent_id));
        if ask_provider {
            url.push_str("?refresh=true");
        }
        decode(self.fetch("GET", &url, None, None).await?)
    }

    /// Cancels an intent the shopper walked away from.
    pub async fn cancel_intent(&self, intent_id: &str) -> Result<(), CheckoutError> {
        let url = self.url(&paths::cancel_intent(intent_id));
        self.fetch("POST", &url, None, None).await.map(drop)
    }

    /// Sandbox servers only: plays the shopper's phone scanning `code_url`
    /// and paying (or declining).
    pub async fn sandbox_scan(&self, code_url: &str, decline: bool) -> Result<(), CheckoutError> {
        let body = format!(
            r#"{{"code_url":{},"decline":{decline}}}"#,
            json_string(code_url)
        );
        let url = self.url(paths::SANDBOX_SCAN);
        fetch_json("POST", &url, None, Some(&body), None)
            .await
            .map(drop)
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends a request with the session's secret; the answer's JSON, parsed.
    async fn fetch(
        &self,
        method: &str,
        url: &str,
        body: Option<&str>,
        idempotency_key: Option<&str>,
    ) -> Result<JsValue, CheckoutError> {
        let secret = Some(self.client_secret.as_str());
        fetch_json(method, url, secret, body, idempotency_key).await
    }
}

/// An intent as the server answered it, parsed but not yet read: reading it
/// is [`IntentAnswer::read`], which the storefront package carries in the
/// wasm's payment part (the parts before it only send Pay).
#[derive(Debug)]
pub struct IntentAnswer(JsValue);

impl IntentAnswer {
    /// The intent, or why the answer is not one.
    pub fn read(self) -> Result<PaymentIntent, CheckoutError> {
        decode(self.0)
    }
}

/// Sandbox servers only: a fresh session for the demo merchant, whose
/// redirect flows come back to `return_url`.
pub async fn demo_session(base: &str, return_url: &str) -> Result<DemoSession, CheckoutError> {
    let url = format!("{}{}", base.trim_end_matches('/'), paths::DEMO_SESSION);
    let body = format!(r#"{{"return_url":{}}}"#, json_string(return_url));
    decode(fetch_json("POST", &url, None, Some(&body), None).await?)
}

fn decode<T: DeserializeOwned>(value: JsValue) -> Result<T, CheckoutError> {
    from_js(value).map_err(|_| CheckoutError::BadResponse("not the contract's shape".into()))
}

/// Sends a request and reads a 2xx answer with the browser's own
/// `JSON.parse`. Not generic, so the network code exists once in the
/// bundle, not once per answer type.
async fn fetch_json(
    method: &str,
    url: &str,
    bearer: Option<&str>,
    body: Option<&str>,
    idempotency_key: Option<&str>,
) -> Result<JsValue, CheckoutError> {
    let window = web_sys::window().ok_or(CheckoutError::Network)?;
    // Plain objects, as `fetch` takes them: one setter for everything
    // rather than a binding per header and option.
    let headers = js_sys::Object::new();
    if let Some(secret) = bearer {
        set(
            &headers,
            "Authorization",
            &format!("Bearer {secret}").into(),
        );
    }
    if let Some(key) = idempotency_key {
        set(&headers, IDEMPOTENCY_KEY_HEADER, &key.into());
    }
    let init = js_sys::Object::new();
    set(&init, "method", &method.into());
    if let Some(body) = body {
        set(&headers, "Content-Type", &"application/json".into());
        set(&init, "body", &body.into());
    }
    set(&init, "headers", &headers);
    if let Some(signal) = timeout_signal() {
        set(&init, "signal", &signal);
    }
    let init: &web_sys::RequestInit = init.unchecked_ref();
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str_and_init(url, init))
        .await
        .map_err(|_| CheckoutError::Network)?
        .unchecked_into();
    if let Ok(Some(date)) = response.headers().get("date") {
        crate::browser::server_date(&date);
    }
    let status = response.status();
    let text = match response.text() {
        Ok(promise) => JsFuture::from(promise)
            .await
            .map_err(|_| CheckoutError::Network)?
            .as_string()
            .unwrap_or_default(),
        Err(_) => return Err(CheckoutError::Network),
    };
    let parsed = js_sys::JSON::parse(&text).ok();
    if !response.ok() {
        let body = parsed.and_then(|value| from_js(value).ok());
        return Err(refusal(status, body, &text));
    }
    parsed.ok_or_else(|| CheckoutError::BadResponse("not JSON".into()))
}

/// The create-intent body. Its strings are the contract's own names, which
/// need no escaping.
fn create_intent_json(body: &CreateIntent) -> String {
    let in_app = match body.client.in_app {
        Some(app) => format!(r#","in_app":"{}""#, in_app_name(app)),
        None => String::new(),
    };
    format!(
        r#"{{"method":"{}","client":{{"device":"{}"{in_app}}}}}"#,
        body.method.as_str(),
        device_name(body.client),
    )
}

/// `text` as a JSON string literal.
/// `text` as a JSON string literal.
pub(crate) fn json_string(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for c in text.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            c if (c as u32) < 0x20 => quoted.push_str(&format!("\\u{:04x}", c as u32)),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

/// The error for a non-2xx answer: its error body, or what can be said
/// without one (a proxy's HTML page, say).
pub fn refusal(status: u16, body: Option<ErrorBody>, text: &str) -> CheckoutError {
    match body {
        Some(ErrorBody { code, message }) => CheckoutError::Refused {
            status,
            code,
            message,
        },
        None => CheckoutError::Refused {
            status,
            code: if status >= 500 {
                ErrorCode::Internal
            } else {
                ErrorCode::Unknown
            },
            message: text.chars().take(200).collect(),
        },
    }
}

fn device_name(context: ClientContext) -> &'static str {
    match context.device {
        contract::Device::Desktop => "desktop",
        contract::Device::Mobile => "mobile",
    }
}

fn in_app_name(app: contract::InApp) -> &'static str {
    match app {
        contract::InApp::Wechat => "wechat",
        contract::InApp::Alipay => "alipay",
        contract::InApp::Quickpass => "quickpass",
    }
}

/// A request that has not answered after 15 s is treated as a dropped
/// connection (where the browser has `AbortSignal.timeout`: not before
/// iOS 16, whose requests then wait as long as the browser lets them).
#[cfg(target_arch = "wasm32")]
fn timeout_signal() -> Option<web_sys::AbortSignal> {
    let constructor = js_sys::Reflect::get(&js_sys::global(), &"AbortSignal".into()).ok()?;
    js_sys::Reflect::has(&constructor, &"timeout".into())
        .unwrap_or(false)
        .then(|| web_sys::AbortSignal::timeout_with_u32(15_000))
}

#[cfg(not(target_arch = "wasm32"))]
fn timeout_signal() -> Option<web_sys::AbortSignal> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_body_keeps_its_code() {
        let body = ErrorBody {
            code: ErrorCode::IdempotencyKeyReused,
            message: "other body".into(),
        };
        let error = refusal(409, Some(body), "");
        assert_eq!(
            error,
            CheckoutError::Refused {
                status: 409,
                code: ErrorCode::IdempotencyKeyReused,
                message: "other body".into()
            }
        );
    }

    #[test]
    fn a_key_still_in_use_is_worth_retrying_and_a_reused_one_is_not() {
        let refused = |code| {
            let body = ErrorBody {
                code,
                message: String::new(),
            };
            refusal(409, Some(body), "")
        };
        assert!(refused(ErrorCode::IdempotencyKeyInUse).is_transient());
        assert!(!refused(ErrorCode::IdempotencyKeyReused).is_transient());
    }

    #[test]
    fn a_proxy_page_instead_of_an_error_body_is_still_an_error() {
        let error = refusal(502, None, "<html>Bad Gateway</html>");
        assert!(matches!(
            error,
            CheckoutError::Refused {
                status: 502,
                code: ErrorCode::Internal,
                ..
            }
        ));
        assert!(error.is_transient());
    }

    #[test]
    fn request_bodies_are_the_contract_s_json() {
        let body = CreateIntent {
            method: contract::MethodKind::WechatPay,
            client: ClientContext {
                device: contract::Device::Mobile,
                in_app: Some(contract::InApp::Wechat),
            },
        };
        let json = create_intent_json(&body);
        let parsed: CreateIntent = serde_json::from_str(&json).expect(&json);
        assert_eq!(parsed, body);
        let desktop = CreateIntent {
            method: contract::MethodKind::Card,
            client: ClientContext::default(),
        };
        let parsed: CreateIntent = serde_json::from_str(&create_intent_json(&desktop)).unwrap();
        assert_eq!(parsed, desktop);
    }

    #[test]
    fn strings_are_escaped_for_json() {
        let tricky = "weixin://x?a=\"b\"\\\n";
        let quoted = json_string(tricky);
        assert_eq!(serde_json::from_str::<String>(&quoted).unwrap(), tricky);
    }

    #[test]
    fn the_base_url_may_end_with_a_slash() {
        assert_eq!(
            Api::new("/api/", "s").url("/intents/pi_1"),
            "/api/intents/pi_1"
        );
    }
}
