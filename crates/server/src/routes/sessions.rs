//! Checkout sessions: created by the merchant's server (secret key), read
//! by the merchant (how it stands, how it was paid) or by the shopper's
//! browser with the session's client secret (the methods for its device).

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use contract::{
    CheckoutSession, ClientContext, CreateCheckoutSession, CreatedCheckoutSession, ErrorCode,
    SessionStatus,
};

use crate::auth::{
    bearer, hash_secret, key_hash, random_id, same_secret, session_of_secret, KeyMode,
};
use crate::config::MerchantConfig;
use crate::eligibility::methods_for;
use crate::error::{ApiError, JsonBody};
use crate::store::{SessionInserted, SessionRow};
use crate::views;
use crate::AppState;
use sha2::Digest;

/// The largest order: Alipay's limit of 100 000 000 yuan, in fen.
const MAX_AMOUNT: i64 = 10_000_000_000;

/// `POST /checkout-sessions`, with the merchant's secret key and, to make
/// a retry safe, an `Idempotency-Key`.
pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody(request): JsonBody<CreateCheckoutSession>,
) -> Result<(StatusCode, Json<CreatedCheckoutSession>), ApiError> {
    let merchant_id = merchant(&state, &headers)?.id.clone();
    let keyed = match super::idempotency_key(&headers, false)? {
        Some(key) => Some(Keyed {
            key,
            merchant_key: bearer(&headers).ok_or_else(ApiError::unauthorized)?,
        }),
        None => None,
    };
    let (status, created) = open_session(&state, &merchant_id, request, keyed).await?;
    Ok((status, Json(created)))
}

/// A session request made with an `Idempotency-Key`.
pub struct Keyed<'a> {
    /// The key.
    pub key: &'a str,
    /// The merchant's secret key the request carried: it seals the client
    /// secret for a repeat, which must carry it too.
    pub merchant_key: &'a str,
}

/// `GET /checkout-sessions/{id}`: with the merchant's secret key, how the
/// session stands; with its client secret (`?device=…&in_app=…`), what the
/// shopper's browser shows.
pub async fn read(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    context: Result<Query<ClientContext>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    if crate::auth::has_secret_key(&headers) {
        let merchant = merchant(&state, &headers)?;
        let session = state
            .inner
            .store
            .merchant_session(&merchant.id, &id)
            .await?
            .ok_or_else(|| ApiError::not_found("checkout session"))?;
        let paid_by = match &session.paid_intent_id {
            Some(intent) => state.inner.store.intent(intent).await?,
            None => None,
        };
        return Ok(Json(views::merchant_session(&session, paid_by.as_ref())?).into_response());
    }
    let Query(context) = context.map_err(|rejection| ApiError::invalid(rejection.body_text()))?;
    let session = authorize(&state, &headers, &id).await?;
    Ok(Json(view(&state, &session, context)?).into_response())
}

/// The merchant whose secret key the request carries.
pub fn merchant<'a>(
    state: &'a AppState,
    headers: &HeaderMap,
) -> Result<&'a MerchantConfig, ApiError> {
    let key = bearer(headers).ok_or_else(ApiError::unauthorized)?;
    let live = state.inner.sandbox.is_none();
    if live && KeyMode::of_key(key) == Some(KeyMode::Test) {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthorized,
            "a live server refuses test keys",
        ));
    }
    let hash = key_hash(key).ok_or_else(ApiError::unauthorized)?;
    state
        .inner
        .config
        .merchants
        .iter()
        .find(|merchant| same_secret(&merchant.secret_key_hash, &hash))
        .ok_or_else(ApiError::unauthorized)
}

/// Opens a session for a merchant after checking the request, or answers
/// the one its key already opened.
pub async fn open_session(
    state: &AppState,
    merchant_id: &str,
    request: CreateCheckoutSession,
    keyed: Option<Keyed<'_>>,
) -> Result<(StatusCode, CreatedCheckoutSession), ApiError> {
    let fingerprint = crate::auth::hex(&sha2::Sha256::digest(
        serde_json::to_string(&request)
            .unwrap_or_default()
            .as_bytes(),
    ));
    if let Some(keyed) = &keyed {
        if let Some(existing) = state
            .inner
            .store
            .session_by_key(merchant_id, keyed.key)
            .await?
        {
            return replay(state, &existing, &fingerprint, keyed);
        }
    }
    if !(1..=MAX_AMOUNT).contains(&request.amount.value) {
        return Err(ApiError::invalid(format!(
            "amount.value must be 1 to {MAX_AMOUNT} minor units"
        )));
    }
    if !state
        .inner
        .config
        .currencies
        .contains(&request.amount.currency)
    {
        let taken: Vec<&str> = state
            .inner
            .config
            .currencies
            .iter()
            .map(|c| c.code())
            .collect();
        return Err(ApiError::invalid(format!(
            "amount.currency {} is not taken here (only {})",
            request.amount.currency,
            taken.join(", ")
        )));
    }
    if request.reference.trim().is_empty() || request.reference.len() > 64 {
        return Err(ApiError::invalid("reference must be 1 to 64 characters"));
    }
    let url = &request.return_url;
    let secure = url.starts_with("https://");
    if url.len() > 2048
        || !(secure || (state.inner.sandbox.is_some() && url.starts_with("http://")))
    {
        return Err(ApiError::invalid(
            "return_url must be an https URL of at most 2048 characters (plain http only on a sandbox server)",
        ));
    }
    let ttl = request
        .expires_in_seconds
        .unwrap_or(state.inner.config.session_ttl_seconds);
    if !(60..=7 * 24 * 3600).contains(&ttl) {
        return Err(ApiError::invalid("expires_in_seconds must be 60 to 604800"));
    }
    let now = state.now();
    let id = random_id("cs");
    let client_secret = format!("{id}_secret_{}", crate::auth::random_hex(16));
    let sealed = match &keyed {
        Some(keyed) => Some(
            crate::auth::seal(keyed.merchant_key, &id, &client_secret)
                .map_err(ApiError::internal)?,
        ),
        None => None,
    };
    let row = SessionRow {
        id,
        merchant_id: merchant_id.to_owned(),
        amount_value: request.amount.value,
        currency: request.amount.currency.code().to_owned(),
        reference: request.reference,
        return_url: request.return_url,
        client_secret_hash: hash_secret(&client_secret),
        status: SessionStatus::Open.as_str().to_owned(),
        expires_at: now + ttl,
        created_at: now,
        completed_at: None,
        paid_intent_id: None,
        idempotency_key: keyed.as_ref().map(|keyed| keyed.key.to_owned()),
        request_fingerprint: keyed.as_ref().map(|_| fingerprint.clone()),
        client_secret_sealed: sealed,
    };
    match state.inner.store.insert_session(&row).await? {
        SessionInserted::Yes => {}
        SessionInserted::KeyTaken => {
            // A concurrent request with the same key was first.
            let keyed = keyed.ok_or_else(|| ApiError::internal("a key conflict with no key"))?;
            let winner = state
                .inner
                .store
                .session_by_key(merchant_id, keyed.key)
                .await?
                .ok_or_else(|| ApiError::internal("lost session"))?;
            return replay(state, &winner, &fingerprint, &keyed);
        }
    }
    let session = view(state, &row, ClientContext::default())?;
    Ok((
        StatusCode::CREATED,
        CreatedCheckoutSession {
            session,
            client_secret,
        },
    ))
}

/// Answers a repeated create with the session its key opened.
fn replay(
    state: &AppState,
    existing: &SessionRow,
    fingerprint: &str,
    keyed: &Keyed<'_>,
) -> Result<(StatusCode, CreatedCheckoutSession), ApiError> {
    let reused = || {
        ApiError::conflict(
            ErrorCode::IdempotencyKeyReused,
            "this Idempotency-Key was already used with a different request",
        )
    };
    if existing.request_fingerprint.as_deref() != Some(fingerprint) {
        return Err(reused());
    }
    let client_secret = existing
        .client_secret_sealed
        .as_deref()
        .and_then(|sealed| crate::auth::unseal(keyed.merchant_key, &existing.id, sealed))
        .ok_or_else(|| {
            ApiError::conflict(
                ErrorCode::IdempotencyKeyReused,
                "this Idempotency-Key was used with another secret key",
            )
        })?;
    let session = view(state, existing, ClientContext::default())?;
    Ok((
        StatusCode::OK,
        CreatedCheckoutSession {
            session,
            client_secret,
        },
    ))
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
    let amount = views::session_amount(session)?;
    let providers = &state.inner.providers;
    let methods = methods_for(
        config,
        merchant,
        &amount,
        context,
        state.now(),
        |kind, flow| providers.implements(&merchant.id, kind, flow),
    );
    // Expired the moment its time is up, whether or not the sweeper has
    // been by yet.
    let status = match session.status() {
        SessionStatus::Open if state.now() >= session.expires_at => SessionStatus::Expired,
        status => status,
    };
    Ok(CheckoutSession {
        id: session.id.clone(),
        amount,
        merchant_name: merchant.display_name.clone(),
        expires_at: session.expires_at,
        livemode: state.inner.sandbox.is_none(),
        status,
        paid_intent: session.paid_intent_id.clone(),
        methods,
    })
}
