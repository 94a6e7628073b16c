//! The HTTP client for the merchant backend's contract: one function per
//! endpoint, no view code. Every answer's status is checked before its body
//! is read, and every failure becomes a [`CheckoutError`].

use contract::{
    paths, CheckoutSession, ClientContext, CreateIntent, DemoSession, ErrorBody, ErrorCode,
    PaymentIntent, SandboxScan, IDEMPOTENCY_KEY_HEADER,
};
use gloo_net::http::{Request, RequestBuilder};
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::JsValue;

use crate::error::CheckoutError;

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
        let mut query = vec![("device", device_name(context))];
        if let Some(app) = context.in_app {
            query.push(("in_app", in_app_name(app)));
        }
        let request = self.authorized(Request::get(
            &self.url(&paths::checkout_session(session_id)),
        ));
        send(request.query(query).build()).await
    }

    /// Starts paying the session with one method. Sending the same
    /// `idempotency_key` again returns the same intent.
    pub async fn create_intent(
        &self,
        session_id: &str,
        body: &CreateIntent,
        idempotency_key: &str,
    ) -> Result<PaymentIntent, CheckoutError> {
        let request = self
            .authorized(Request::post(
                &self.url(&paths::session_intents(session_id)),
            ))
            .header(IDEMPOTENCY_KEY_HEADER, idempotency_key)
            .header("Content-Type", "application/json")
            .body(json_body(body)?);
        send(request).await
    }

    /// The intent's current status.
    pub async fn intent(&self, intent_id: &str) -> Result<PaymentIntent, CheckoutError> {
        send(
            self.authorized(Request::get(&self.url(&paths::intent(intent_id))))
                .build(),
        )
        .await
    }

    /// Cancels an intent the shopper walked away from.
    pub async fn cancel_intent(&self, intent_id: &str) -> Result<PaymentIntent, CheckoutError> {
        send(
            self.authorized(Request::post(&self.url(&paths::cancel_intent(intent_id))))
                .build(),
        )
        .await
    }

    /// Sandbox servers only: plays the shopper's phone scanning `code_url`
    /// and paying.
    pub async fn sandbox_scan(&self, code_url: &str) -> Result<(), CheckoutError> {
        let body = json_body(&SandboxScan {
            code_url: code_url.to_owned(),
        })?;
        let request = Request::post(&self.url(paths::SANDBOX_WECHAT_SCAN))
            .header("Content-Type", "application/json")
            .body(body);
        fetch_json(request).await.map(drop)
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn authorized(&self, request: RequestBuilder) -> RequestBuilder {
        request
            .header("Authorization", &format!("Bearer {}", self.client_secret))
            .abort_signal(timeout_signal().as_ref())
    }
}

/// Sandbox servers only: a fresh session for the demo merchant.
pub async fn demo_session(base: &str) -> Result<DemoSession, CheckoutError> {
    let url = format!("{}{}", base.trim_end_matches('/'), paths::DEMO_SESSION);
    send(
        Request::post(&url)
            .abort_signal(timeout_signal().as_ref())
            .build(),
    )
    .await
}

async fn send<T: DeserializeOwned>(
    request: Result<Request, gloo_net::Error>,
) -> Result<T, CheckoutError> {
    let value = fetch_json(request).await?;
    serde_wasm_bindgen::from_value(value)
        .map_err(|error| CheckoutError::BadResponse(error.to_string()))
}

/// Sends a request and reads a 2xx answer with the browser's own
/// `JSON.parse` (no JSON parser in the wasm). Not generic, so the network
/// code exists once in the bundle, not once per answer type.
async fn fetch_json(request: Result<Request, gloo_net::Error>) -> Result<JsValue, CheckoutError> {
    let request = request.map_err(|error| CheckoutError::Misconfigured(error.to_string()))?;
    let response = request.send().await.map_err(|_| CheckoutError::Network)?;
    let status = response.status();
    let text = response.text().await.map_err(|_| CheckoutError::Network)?;
    let parsed = js_sys::JSON::parse(&text).ok();
    if !response.ok() {
        let body = parsed.and_then(|value| serde_wasm_bindgen::from_value(value).ok());
        return Err(refusal(status, body, &text));
    }
    parsed.ok_or_else(|| CheckoutError::BadResponse("not JSON".into()))
}

/// A request body as JSON text, written by the browser's `JSON.stringify`.
fn json_body<T: Serialize>(body: &T) -> Result<String, CheckoutError> {
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    let value = body
        .serialize(&serializer)
        .map_err(|e| CheckoutError::Misconfigured(e.to_string()))?;
    js_sys::JSON::stringify(&value)
        .map(String::from)
        .map_err(|_| CheckoutError::Misconfigured("the request could not be written".into()))
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
    fn the_base_url_may_end_with_a_slash() {
        assert_eq!(
            Api::new("/api/", "s").url("/intents/pi_1"),
            "/api/intents/pi_1"
        );
    }
}
