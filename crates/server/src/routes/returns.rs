//! Where a provider that sends the shopper back with a form POST sends
//! them (UnionPay's `frontUrl`: its page posts the signed result there, and
//! a shop's static page cannot take a POST). The shopper goes on to the
//! shop's page with a GET; that page asks the server. What the POST says is
//! not taken as the outcome (UnionPay's advice too: only the notification
//! or a query says); it prompts a query, so that the page's first question
//! already finds the outcome.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::payments;
use crate::AppState;

/// `GET|POST /return/{provider}/{merchant}/{intent}`.
pub async fn back(
    State(state): State<AppState>,
    Path((_provider, merchant_id, intent_id)): Path<(String, String, String)>,
) -> Response {
    let store = &state.inner.store;
    let Ok(Some(intent)) = store.merchant_intent(&merchant_id, &intent_id).await else {
        return (StatusCode::NOT_FOUND, "no such payment").into_response();
    };
    let Ok(Some(session)) = store.session(&intent.session_id).await else {
        return (StatusCode::NOT_FOUND, "no such payment").into_response();
    };
    // Asked as a page's refresh asks: at most every few seconds, however
    // often this address is called.
    if let Err(error) = payments::refresh(&state, intent.clone(), true).await {
        tracing::warn!(
            "{}: asking on the shopper's return: {}",
            intent.id,
            error.message
        );
    }
    let back = match &intent.pay_token {
        Some(token) => format!("{}?done", state.pay_url(token)),
        None => payments::with_query(&session.return_url, "payment_intent", &intent.id),
    };
    (StatusCode::SEE_OTHER, [(header::LOCATION, back)]).into_response()
}
