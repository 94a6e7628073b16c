//! Where providers tell the server how an order (or a refund) went. A
//! notification is verified by the adapter of the merchant in its URL, and
//! applied only to that merchant's order made with that provider account:
//! a correctly signed word about anyone else's order is refused and
//! logged, nothing applied. It is recorded once by its id and applied
//! through the same path as a query's answer; a refund the server did not
//! make is recorded and logged for an operator.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};

use crate::payments;
use crate::providers::{Notified, ProviderStatus};
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
    let account = provider.account();
    let intent = match store
        .merchant_intent(&merchant_id, &notification.out_trade_no)
        .await
    {
        Ok(Some(intent))
            if intent
                .provider_account
                .as_deref()
                .is_none_or(|made_with| made_with == account) =>
        {
            intent
        }
        // Another merchant's order, or one made with another account:
        // refused, and nothing applied.
        Ok(Some(_)) => {
            tracing::warn!(
                "{provider_name} notification {} from {account} names {} of another account: refused",
                notification.id,
                notification.out_trade_no
            );
            return provider.notification_answer(Some("not an order of this account"));
        }
        // Not this merchant's; or not stored yet (a notification can
        // overtake the create's own write): the provider sends it again.
        Ok(None) => {
            tracing::warn!(
                "{provider_name} notification {} for {merchant_id} names {}, no order of theirs",
                notification.id,
                notification.out_trade_no
            );
            return provider.notification_answer(Some("unknown order, for now"));
        }
        Err(error) => {
            tracing::error!("reading {}: {error}", notification.out_trade_no);
            return provider.notification_answer(Some("try again"));
        }
    };
    let outcome = match notification.about {
        Notified::Payment(status) => {
            let Ok(expected) = crate::views::intent_amount(&intent) else {
                return provider.notification_answer(Some("try again"));
            };
            let outcome = match &status {
                ProviderStatus::Paid { amount, .. } if *amount != expected => "amount_mismatch",
                _ => "received",
            };
            // Applying is idempotent (a payment is recorded once), so a
            // duplicate or a retry after a failure below does no harm.
            if let Err(error) = payments::apply(&state, &intent, status).await {
                tracing::error!(
                    "applying notification {}: {}",
                    notification.id,
                    error.message
                );
                return provider.notification_answer(Some("try again"));
            }
            outcome
        }
        Notified::Refund {
            out_refund_no,
            state: refund_state,
        } => {
            match payments::refund_notified(
                &state,
                &merchant_id,
                &account,
                &intent.id,
                &out_refund_no,
                refund_state,
            )
            .await
            {
                Ok(true) => "refund",
                // A refund of this merchant's order made elsewhere (in the
                // provider's merchant platform): the provider has settled
                // it, and refuses a later refund beyond the payment; kept
                // for an operator, not asked about again.
                Ok(false) => {
                    tracing::error!(
                        "{provider_name} notification {} tells of refund {out_refund_no} of {}, \
                         not made through this server: kept, not applied",
                        notification.id,
                        intent.id
                    );
                    "unknown_refund"
                }
                Err(error) => {
                    tracing::error!(
                        "applying notification {}: {}",
                        notification.id,
                        error.message
                    );
                    return provider.notification_answer(Some("try again"));
                }
            }
        }
    };
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
