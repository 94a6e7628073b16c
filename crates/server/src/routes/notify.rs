//! Where providers tell the server how an order went. A notification is
//! verified by its provider's adapter, recorded once by its id, and applied
//! through the same path as a query's answer; one whose amount does not
//! match the order is kept for review, not applied.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};

use crate::payments;
use crate::providers::ProviderStatus;
use crate::AppState;

/// `POST /notify/{provider}/{merchant}`.
pub async fn receive(
    State(state): State<AppState>,
    Path((provider_name, merchant_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(provider) = state
        .inner
        .providers
        .named(&merchant_id, &provider_name)
        .cloned()
    else {
        return crate::error::ApiError::not_found("endpoint").into_response();
    };
    let notification = match provider.parse_notification(&headers, &body) {
        Ok(notification) => notification,
        Err(error) => {
            tracing::warn!("{provider_name} notification refused: {error}");
            return provider.notification_answer(Some("the notification did not verify"));
        }
    };
    let store = &state.inner.store;
    let now = state.now();
    let text = String::from_utf8_lossy(&body);
    let intent = match store.intent(&notification.out_trade_no).await {
        Ok(Some(intent)) => intent,
        // Not stored yet (a notification can overtake the create's own
        // write) or a store failure: the provider sends it again later.
        Ok(None) => return provider.notification_answer(Some("unknown order, for now")),
        Err(error) => {
            tracing::error!("reading {}: {error}", notification.out_trade_no);
            return provider.notification_answer(Some("try again"));
        }
    };
    let Ok(expected) = crate::views::intent_amount(&intent) else {
        return provider.notification_answer(Some("try again"));
    };
    let outcome = match &notification.status {
        ProviderStatus::Paid { amount, .. } if *amount != expected => "amount_mismatch",
        _ => "received",
    };
    if outcome == "amount_mismatch" {
        tracing::error!(
            "notification {} for {} paid another amount than the order: kept for review",
            notification.id,
            intent.id
        );
        return match store
            .record_notification(
                &provider_name,
                &notification.id,
                &intent.id,
                outcome,
                &text,
                now,
            )
            .await
        {
            Ok(_) => provider.notification_answer(None),
            Err(_) => provider.notification_answer(Some("try again")),
        };
    }
    // Applying is idempotent (a payment is recorded once), so a duplicate
    // or a retry after a failure below does no harm.
    if let Err(error) = payments::apply(&state, &intent, notification.status).await {
        tracing::error!(
            "applying notification {}: {}",
            notification.id,
            error.message
        );
        return provider.notification_answer(Some("try again"));
    }
    match store
        .record_notification(
            &provider_name,
            &notification.id,
            &intent.id,
            outcome,
            &text,
            now,
        )
        .await
    {
        Ok(true) => {}
        Ok(false) => tracing::info!("notification {} seen before", notification.id),
        Err(error) => tracing::error!("recording notification {}: {error}", notification.id),
    }
    provider.notification_answer(None)
}
