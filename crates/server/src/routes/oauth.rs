//! Where a provider's payer authorisation comes back (WeChat's web
//! authorisation before JSAPI, Alipay's `auth_base` before `tradePay`): the
//! code becomes the payer's id, the order is made, and the shopper goes
//! back to the shop's page, which asks the server for the hand-off.

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::payments;
use crate::AppState;

/// The authorisation's answer.
#[derive(Debug, Deserialize)]
pub struct Authorized {
    /// The one-time code: WeChat's `code`, Alipay's `auth_code`.
    #[serde(default, alias = "auth_code")]
    code: Option<String>,
    /// The intent it was asked for.
    state: String,
}

/// `GET /oauth/{provider}/{merchant}?code=…&state=<intent id>`.
pub async fn callback(
    State(state): State<AppState>,
    Path((_provider, merchant_id)): Path<(String, String)>,
    query: Result<Query<Authorized>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(authorized)) = query else {
        return (StatusCode::BAD_REQUEST, "missing state").into_response();
    };
    let store = &state.inner.store;
    let Ok(Some(intent)) = store.merchant_intent(&merchant_id, &authorized.state).await else {
        return (StatusCode::NOT_FOUND, "no such payment").into_response();
    };
    let Ok(Some(session)) = store.session(&intent.session_id).await else {
        return (StatusCode::NOT_FOUND, "no such payment").into_response();
    };
    // Declined or failed authorisation, or a provider that did not answer:
    // the shop's page asks the server anyway, and offers another method.
    if let Some(code) = &authorized.code {
        if let Err(error) = payments::payer_authorized(&state, &intent.id, code).await {
            tracing::warn!("{}: payer authorisation: {}", intent.id, error.message);
        }
    }
    // A phone paying one code for every wallet goes back to the code's page.
    let back = match &intent.pay_token {
        Some(token) => format!("{}?back", state.pay_url(token)),
        None => payments::with_query(&session.return_url, "payment_intent", &intent.id),
    };
    (StatusCode::SEE_OTHER, [(header::LOCATION, back)]).into_response()
}
