//! Sandbox-only endpoints: a demo session for the preview, and the
//! shopper's phone scanning a code, forwarded to the emulator's phone.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use contract::{CreateCheckoutSession, Currency, DemoSession, ErrorCode, Money, SandboxScan};
use serde::Deserialize;
use serde_json::Value;

use super::sessions::open_session;
use crate::error::ApiError;
use crate::AppState;

fn sandbox_url(state: &AppState) -> Result<&str, ApiError> {
    state.inner.sandbox.as_deref().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::SandboxOnly,
            "only on a sandbox server",
        )
    })
}

/// What the preview may say of its demo session.
#[derive(Debug, Default, Deserialize)]
pub struct DemoRequest {
    /// Where a redirect flow brings the shopper back (the preview's page).
    #[serde(default)]
    return_url: Option<String>,
}

/// `POST /dev/demo-session [{"return_url": …}]`: a ¥128.00 session for the
/// demo merchant.
pub async fn demo_session(
    State(state): State<AppState>,
    body: Option<Json<DemoRequest>>,
) -> Result<(StatusCode, Json<DemoSession>), ApiError> {
    sandbox_url(&state)?;
    let merchant = state
        .inner
        .config
        .demo_merchant
        .clone()
        .ok_or_else(|| ApiError::not_found("demo merchant"))?;
    let return_url = body
        .and_then(|Json(request)| request.return_url)
        .unwrap_or_else(|| format!("{}/", state.inner.public_url));
    let request = CreateCheckoutSession {
        amount: Money::new(12800, Currency::CNY),
        // What the shopper reads at the provider's cashier, after the
        // shop's name: an order number, as a shop's would be.
        reference: demo_order_number(),
        return_url,
        expires_in_seconds: None,
    };
    let (_, created) = open_session(&state, &merchant, request, None).await?;
    let demo = DemoSession {
        session_id: created.session.id,
        client_secret: created.client_secret,
    };
    Ok((StatusCode::CREATED, Json(demo)))
}

/// A ten-digit order number for a demo session, `No.0048213907`.
fn demo_order_number() -> String {
    let random = u64::from_str_radix(&crate::auth::random_hex(5), 16).unwrap_or_default();
    format!("No.{:010}", random % 10_000_000_000)
}

/// `POST /sandbox/scan`: the shopper's phone scans the code and pays (or
/// declines), at the emulator of the wallet whose code it is, which then
/// notifies this server as that wallet would; one code for every wallet
/// is opened in the emulated WeChat app.
pub async fn scan(
    State(state): State<AppState>,
    crate::error::JsonBody(scan): crate::error::JsonBody<SandboxScan>,
) -> Result<Json<Value>, ApiError> {
    let sandbox = sandbox_url(&state)?;
    let outcome = if scan.decline { "decline" } else { "pay" };
    let (phone, body) = if scan.code_url.starts_with(&state.pay_url("")) {
        // One code for every wallet: a phone's WeChat opens it (the
        // emulator's `/apps` plays the other apps too).
        (
            format!("{sandbox}/apps/scan"),
            serde_json::json!({"url": scan.code_url, "app": "wechat", "outcome": outcome}),
        )
    } else if scan.code_url.starts_with("weixin://") {
        (
            format!("{sandbox}/phone/scan"),
            serde_json::json!({"code_url": scan.code_url, "outcome": outcome}),
        )
    } else if scan.code_url.starts_with("https://qr.95516.com/") {
        (
            format!("{sandbox}/unionpay/phone/scan"),
            serde_json::json!({"qr_code": scan.code_url, "outcome": outcome}),
        )
    } else {
        (
            format!("{sandbox}/alipay/phone/scan"),
            serde_json::json!({"qr_code": scan.code_url, "outcome": outcome}),
        )
    };
    let answer = state
        .inner
        .http
        .post(phone)
        .json(&body)
        .send()
        .await
        .map_err(|error| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::ProviderUnavailable,
                format!("the sandbox's phone could not be reached: {error}"),
            )
        })?;
    let status = answer.status();
    let said: Value = answer.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            ErrorCode::InvalidRequest,
            format!("the phone could not pay this code: {said}"),
        ));
    }
    Ok(Json(said))
}
