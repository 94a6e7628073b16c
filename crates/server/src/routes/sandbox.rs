//! Sandbox-only endpoints: a demo session for the preview, and the shopper's
//! phone scanning a WeChat Pay code.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use contract::{CreateCheckoutSession, Currency, DemoSession, ErrorCode, Money, SandboxScan};
use serde_json::{json, Value};

use super::sessions::open_session;
use crate::error::{ApiError, JsonBody};
use crate::providers::{sign_notification, WECHAT_NOTIFY_PATH};
use crate::AppState;

fn sandbox_only(state: &AppState) -> Result<(), ApiError> {
    if state.inner.sandbox {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::SandboxOnly,
            "only on a sandbox server",
        ))
    }
}

/// `POST /dev/demo-session`: a ¥128.00 session for the demo merchant.
pub async fn demo_session(
    State(state): State<AppState>,
) -> Result<(StatusCode, Json<DemoSession>), ApiError> {
    sandbox_only(&state)?;
    let request = CreateCheckoutSession {
        amount: Money::new(12800, Currency::CNY),
        reference: crate::auth::random_id("demo"),
        return_url: format!("{}/", state.inner.own_url),
        expires_in_seconds: None,
    };
    let merchant = state.inner.config.demo_merchant.clone();
    let created = open_session(&state, &merchant, request).await?;
    let demo = DemoSession {
        session_id: created.session.id,
        client_secret: created.client_secret,
    };
    Ok((StatusCode::CREATED, Json(demo)))
}

/// `POST /sandbox/wechat-pay/scan`: the shopper scans and pays. The sandbox
/// marks its order paid and notifies the server over HTTP, signed, exactly
/// where WeChat would; it answers once the server has accepted that.
pub async fn wechat_scan(
    State(state): State<AppState>,
    JsonBody(scan): JsonBody<SandboxScan>,
) -> Result<Json<Value>, ApiError> {
    sandbox_only(&state)?;
    let store = &state.inner.store;
    let order = store
        .sandbox_order_by_code(&scan.code_url)
        .await?
        .ok_or_else(|| ApiError::not_found("code"))?;
    let refused =
        |message: &str| ApiError::new(StatusCode::CONFLICT, ErrorCode::InvalidRequest, message);
    if crate::now() >= order.time_expire {
        store
            .sandbox_order_transition(&order.out_trade_no, "NOTPAY", "CLOSED", None)
            .await?;
        return Err(refused("the code has expired"));
    }
    let transaction_id = crate::auth::random_id("4200");
    if !store
        .sandbox_order_transition(
            &order.out_trade_no,
            "NOTPAY",
            "SUCCESS",
            Some(&transaction_id),
        )
        .await?
    {
        return Err(refused("the order is closed or already paid"));
    }
    let body = json!({
        "id": crate::auth::random_id("EV"),
        "create_time": crate::now().to_string(),
        "event_type": "TRANSACTION.SUCCESS",
        "resource": {
            "out_trade_no": order.out_trade_no,
            "transaction_id": transaction_id,
            "trade_state": "SUCCESS",
            "amount": { "total": order.amount_total, "currency": order.currency },
        },
    })
    .to_string();
    let timestamp = crate::now().to_string();
    let nonce = crate::auth::random_id("n");
    let signature = sign_notification(
        state.inner.wechat.key(),
        &timestamp,
        &nonce,
        body.as_bytes(),
    );
    let url = format!("{}/api{WECHAT_NOTIFY_PATH}", state.inner.own_url);
    let answer = state
        .inner
        .http
        .post(url)
        .header("Content-Type", "application/json")
        .header("Wechatpay-Timestamp", &timestamp)
        .header("Wechatpay-Nonce", &nonce)
        .header("Wechatpay-Signature", signature)
        .body(body)
        .send()
        .await
        .map_err(|error| {
            ApiError::new(
                StatusCode::BAD_GATEWAY,
                ErrorCode::ProviderError,
                error.to_string(),
            )
        })?;
    if !answer.status().is_success() {
        let message = format!("the server refused the notification: {}", answer.status());
        return Err(ApiError::new(
            StatusCode::BAD_GATEWAY,
            ErrorCode::ProviderError,
            message,
        ));
    }
    Ok(Json(json!({})))
}
