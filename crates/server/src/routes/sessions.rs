//! Checkout sessions: created by the merchant's server, read by the
//! shopper's browser with the session's client secret.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use contract::{
    CheckoutSession, ClientContext, CreateCheckoutSession, CreatedCheckoutSession, Money,
};

use crate::auth::{bearer, hash_secret, random_id, same_secret, session_of_secret};
use crate::eligibility::methods_for;
use crate::error::{ApiError, JsonBody};
use crate::store::SessionRow;
use crate::AppState;

/// The largest order: Alipay's limit of 100 000 000 yuan, in fen.
const MAX_AMOUNT: i64 = 10_000_000_000;

/// `POST /checkout-sessions`, with the merchant's secret key.
pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody(request): JsonBody<CreateCheckoutSession>,
) -> Result<(StatusCode, Json<CreatedCheckoutSession>), ApiError> {
    let key = bearer(&headers).ok_or_else(ApiError::unauthorized)?;
    let merchant_id = state
        .inner
        .config
        .merchant_by_key(key)
        .ok_or_else(ApiError::unauthorized)?
        .id
        .clone();
    let created = open_session(&state, &merchant_id, request).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// `GET /checkout-sessions/{id}?device=…&in_app=…`, with the client secret.
pub async fn read(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    context: Result<Query<ClientContext>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<CheckoutSession>, ApiError> {
    let Query(context) = context.map_err(|rejection| ApiError::invalid(rejection.body_text()))?;
    let session = authorize(&state, &headers, &id).await?;
    Ok(Json(view(&state, &session, context)?))
}

/// Opens a session for a merchant after checking the request.
pub async fn open_session(
    state: &AppState,
    merchant_id: &str,
    request: CreateCheckoutSession,
) -> Result<CreatedCheckoutSession, ApiError> {
    if !(1..=MAX_AMOUNT).contains(&request.amount.value) {
        return Err(ApiError::invalid(format!(
            "amount.value must be 1 to {MAX_AMOUNT} minor units"
        )));
    }
    if request.reference.trim().is_empty() || request.reference.len() > 64 {
        return Err(ApiError::invalid("reference must be 1 to 64 characters"));
    }
    let url = &request.return_url;
    let secure = url.starts_with("https://");
    if !(secure || (state.inner.sandbox && url.starts_with("http://"))) {
        return Err(ApiError::invalid(
            "return_url must be an https URL (plain http only on a sandbox server)",
        ));
    }
    let ttl = request
        .expires_in_seconds
        .unwrap_or(state.inner.config.session_ttl_seconds);
    if !(60..=7 * 24 * 3600).contains(&ttl) {
        return Err(ApiError::invalid("expires_in_seconds must be 60 to 604800"));
    }
    let now = crate::now();
    let id = random_id("cs");
    let client_secret = format!("{id}_secret_{}", crate::auth::random_hex(16));
    let row = SessionRow {
        id,
        merchant_id: merchant_id.to_owned(),
        amount_value: request.amount.value,
        currency: request.amount.currency.code().to_owned(),
        reference: request.reference,
        return_url: request.return_url,
        client_secret_hash: hash_secret(&client_secret),
        expires_at: now + ttl,
        created_at: now,
        completed_at: None,
    };
    state.inner.store.insert_session(&row).await?;
    let session = view(state, &row, ClientContext::default())?;
    Ok(CreatedCheckoutSession {
        session,
        client_secret,
    })
}

/// The session whose client secret the request carries, if it is `id`.
pub async fn authorize(
    state: &AppState,
    headers: &HeaderMap,
    id: &str,
) -> Result<SessionRow, ApiError> {
    let secret = bearer(headers).ok_or_else(ApiError::unauthorized)?;
    if session_of_secret(secret) != Some(id) {
        return Err(ApiError::unauthorized());
    }
    let session = state
        .inner
        .store
        .session(id)
        .await?
        .ok_or_else(|| ApiError::not_found("checkout session"))?;
    if !same_secret(&session.client_secret_hash, &hash_secret(secret)) {
        return Err(ApiError::unauthorized());
    }
    Ok(session)
}

/// The session's amount.
pub fn amount(session: &SessionRow) -> Result<Money, ApiError> {
    let currency = session.currency.parse().map_err(ApiError::internal)?;
    Ok(Money::new(session.amount_value, currency))
}

/// The session as the browser sees it in `context`.
pub fn view(
    state: &AppState,
    session: &SessionRow,
    context: ClientContext,
) -> Result<CheckoutSession, ApiError> {
    let config = &state.inner.config;
    let merchant = config.merchant(&session.merchant_id).ok_or_else(|| {
        ApiError::internal(format!(
            "merchant {} is not configured",
            session.merchant_id
        ))
    })?;
    let amount = amount(session)?;
    let providers = &state.inner.providers;
    let methods = methods_for(merchant, &amount, context, |kind, flow| {
        providers.implements(kind, flow)
    });
    Ok(CheckoutSession {
        id: session.id.clone(),
        amount,
        merchant_name: merchant.display_name.clone(),
        expires_at: session.expires_at,
        livemode: !state.inner.sandbox,
        methods,
    })
}
