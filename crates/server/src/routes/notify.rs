//! Where providers tell the server how an order went: the only way (with a
//! server-side query) an intent becomes `succeeded`.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use contract::{ErrorCode, MethodKind, Money};
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::providers::Outcome;
use crate::AppState;

/// `POST /notify/wechat-pay`: verified, deduplicated on its id, applied once.
pub async fn wechat_pay(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let provider = state
        .inner
        .providers
        .for_method(MethodKind::WechatPay)
        .ok_or_else(|| ApiError::not_found("endpoint"))?;
    let now = crate::now();
    let notification = provider
        .verify_notification(&headers, &body, now)
        .map_err(|error| {
            tracing::warn!("{error}");
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                ErrorCode::Unauthorized,
                error.to_string(),
            )
        })?;
    let store = &state.inner.store;
    let intent = store
        .intent(&notification.out_trade_no)
        .await?
        .ok_or_else(|| ApiError::not_found("order"))?;
    if notification.outcome == Outcome::Paid {
        let expected = Money::new(
            intent.amount_value,
            intent.currency.parse().map_err(ApiError::internal)?,
        );
        if notification.amount != expected {
            tracing::error!(
                "{} paid {:?}, expected {:?}: not applied",
                intent.id,
                notification.amount,
                expected
            );
            return Err(ApiError::invalid(
                "the paid amount does not match the order",
            ));
        }
        let new = store
            .apply_payment_notification(&notification.id, provider.name(), &intent.id, now)
            .await?;
        if new {
            super::intents::close_others(&state, &intent).await?;
        } else {
            tracing::info!("notification {} already applied", notification.id);
        }
    }
    Ok(Json(json!({ "code": "SUCCESS", "message": "OK" })))
}
