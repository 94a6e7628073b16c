//! `/pay/{token}`: one code for every wallet, opened on a phone. A GET only
//! shows where the code stands (a link preview or a second look changes
//! nothing); the page's POST takes the code for this phone, which a cookie
//! scoped to the code's path remembers, and sends it on to its wallet.

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use contract::{FormMethod, IntentStatus, MethodKind, NextAction, SessionStatus};
use payment_selector::context::from_user_agent;
use payment_selector::i18n::Locale;
use serde::Deserialize;

use crate::auth::{hash_secret, random_hex};
use crate::client_ip::ClientIp;
use crate::error::ApiError;
use crate::pay_page::{render, Order, Screen};
use crate::payments::{self, Claimed, Offer, Phone};
use crate::store::{from_text, IntentRow};
use crate::{views, AppState};

/// The cookie that tells the phone that claimed a code.
const CLAIM_COOKIE: &str = "ps_claim";

/// The script and style the pages load (they allow nothing inline).
const SCRIPT: &str = include_str!("../../assets/pay.js");
const STYLE: &str = include_str!("../../assets/pay.css");

/// The pages and their script and style.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route(
            "/pay/pay.js",
            get(|| asset("text/javascript; charset=utf-8", SCRIPT)),
        )
        .route(
            "/pay/pay.css",
            get(|| asset("text/css; charset=utf-8", STYLE)),
        )
        .route("/pay/{token}", get(show).post(take))
        .with_state(state)
}

async fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=300"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}

/// What the phone's page may say it has done.
#[derive(Debug, Default, Deserialize)]
pub struct Seen {
    /// The wallet said it paid (or the shopper says so): show the outcome
    /// (asking the provider), never the hand-off again.
    done: Option<String>,
    /// Back from the wallet's payer authorisation: never sent there again
    /// unasked (a failed authorisation would loop).
    back: Option<String>,
}

/// A code's token: 32 lowercase hex digits (`auth::random_hex(16)`).
fn is_token(token: &str) -> bool {
    token.len() == 32
        && token
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// `GET /pay/{token}[?done|?back]`.
pub async fn show(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    query: Result<Query<Seen>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let seen = query.map(|Query(seen)| seen).unwrap_or_default();
    let shown = if is_token(&token) {
        page(&state, &token, &headers, &seen).await
    } else {
        Err(ApiError::not_found("code"))
    };
    match shown {
        Ok(response) => response,
        Err(error) => {
            tracing::warn!("/pay: {}", error.message);
            let status = error.status;
            let order = Order {
                merchant: "",
                amount: "",
                path: "",
            };
            let screen = match status {
                StatusCode::NOT_FOUND => Screen::Ended,
                _ => Screen::Checking,
            };
            html(&state, status, render(&screen, &order, locale(&headers)))
        }
    }
}

async fn page(
    state: &AppState,
    token: &str,
    headers: &HeaderMap,
    seen: &Seen,
) -> Result<Response, ApiError> {
    let intent = state
        .inner
        .store
        .intent_by_pay_token(token)
        .await?
        .ok_or_else(|| ApiError::not_found("code"))?;
    let session = payments::session_of(state, &intent).await?;
    let locale = locale(headers);
    let mine = claim_cookie(headers)
        .is_some_and(|cookie| intent.claimed_by.as_deref() == Some(hash_secret(cookie).as_str()));
    let paid = session.status() == SessionStatus::Completed;
    let screen = if mine {
        match phone_s_screen(state, intent.clone(), seen).await? {
            Screen::Ended if paid => Screen::PaidElsewhere,
            screen => screen,
        }
    } else if paid {
        Screen::PaidElsewhere
    } else if intent.is_claimed() && intent.status().is_open() {
        Screen::PayingElsewhere
    } else if !payments::can_be_taken(state, &intent) {
        Screen::Ended
    } else {
        let context = from_user_agent(header_text(headers, header::USER_AGENT));
        match payments::offer(state, &session, &intent, context)? {
            Offer::Pay(method) => Screen::Claim(method),
            Offer::OtherApps(wallets) => Screen::ScanWithApp(wallets),
        }
    };
    let amount = views::intent_amount(&intent)?;
    let merchant = state
        .inner
        .config
        .merchant(&session.merchant_id)
        .map(|merchant| merchant.display_name.as_str())
        .unwrap_or_default();
    let order = Order {
        merchant,
        amount: &payment_selector::money::format(&amount, locale),
        path: &format!("/pay/{token}"),
    };
    let status = match screen {
        Screen::Ended => StatusCode::GONE,
        _ => StatusCode::OK,
    };
    Ok(html(state, status, render(&screen, &order, locale)))
}

/// What the phone that claimed the code is shown: its wallet's hand-off
/// until it has paid, then the outcome, as the provider tells it.
async fn phone_s_screen(
    state: &AppState,
    intent: IntentRow,
    seen: &Seen,
) -> Result<Screen, ApiError> {
    let done = seen.done.is_some();
    let intent = match payments::refresh(state, intent.clone(), done).await {
        Ok(intent) => intent,
        Err(error) => {
            tracing::warn!("{}: on the phone: {}", intent.id, error.message);
            payments::reload(state, &intent.id).await?
        }
    };
    let action = match &intent.next_action {
        Some(json) => Some(serde_json::from_str::<NextAction>(json).map_err(ApiError::internal)?),
        None => None,
    };
    // Inside the apps the one GET hand-off is the payer authorisation.
    let authorisation = matches!(
        action,
        Some(NextAction::Redirect {
            method: FormMethod::Get,
            ..
        })
    );
    if intent.status() == IntentStatus::RequiresAction && !done {
        let order_missing = action.is_none() || (authorisation && intent.payer_id.is_some());
        if order_missing {
            // The wallet's order could not be made when the code was taken,
            // or after the authorisation: this look tries again.
            match payments::resume(state, &intent).await {
                Ok(resumed) => return Box::pin(phone_s_screen(state, resumed, seen)).await,
                Err(error) => {
                    tracing::warn!("{}: the wallet's order: {}", intent.id, error.message);
                    return Ok(Screen::TryAgain);
                }
            }
        }
        if authorisation && seen.back.is_some() {
            // The authorisation came back without the payer.
            return Ok(Screen::TryAgain);
        }
    }
    let method: MethodKind = from_text(&intent.method)?;
    // A wallet's own sheet can still pay a trade made for this payer even
    // once the provider calls it processing (Alipay's, waiting for the buyer).
    let in_wallet = matches!(
        action,
        Some(NextAction::InvokeAlipayTradePay { .. } | NextAction::InvokeWechatJsapi { .. })
    );
    Ok(match (intent.status(), &intent.next_action) {
        (IntentStatus::Succeeded | IntentStatus::RequiresRefund | IntentStatus::Refunded, _) => {
            Screen::Paid
        }
        (IntentStatus::RequiresAction, Some(action)) if !done => Screen::Pay {
            method,
            action_json: action.clone(),
        },
        (IntentStatus::Processing, Some(action)) if !done && in_wallet => Screen::Pay {
            method,
            action_json: action.clone(),
        },
        (IntentStatus::RequiresAction | IntentStatus::Processing, _) => Screen::Checking,
        (IntentStatus::RequiresReview, _) => Screen::Checking,
        (IntentStatus::Failed, _) => Screen::Failed,
        _ => Screen::Ended,
    })
}

/// `POST /pay/{token}`: takes the code for this phone, and sends it to its
/// wallet (the payer authorisation first, inside WeChat and Alipay), or
/// back to the page, which says why it cannot pay.
pub async fn take(
    State(state): State<AppState>,
    Path(token): Path<String>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
) -> Response {
    if !is_token(&token) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let back = format!("/pay/{token}");
    let intent = match state.inner.store.intent_by_pay_token(&token).await {
        Ok(Some(intent)) => intent,
        Ok(None) => return see_other(&back, None),
        Err(error) => {
            tracing::warn!("/pay: {error}");
            return see_other(&back, None);
        }
    };
    let intent_expires_at = intent.expires_at;
    let cookie = random_hex(16);
    let phone = Phone {
        context: from_user_agent(header_text(&headers, header::USER_AGENT)),
        cookie_hash: &hash_secret(&cookie),
        ip: ip.map(|ip| ip.to_string()),
    };
    let claimed = match payments::session_of(&state, &intent).await {
        Ok(session) => payments::claim(&state, &session, &intent, phone).await,
        Err(error) => Err(error),
    };
    match claimed {
        Ok(Claimed::Mine(intent)) => {
            let set_cookie = format!(
                "{CLAIM_COOKIE}={cookie}; Path={back}; HttpOnly; SameSite=Lax; Max-Age={}{}",
                (intent_expires_at - state.now()).max(0) + 3600,
                if state.inner.public_url.starts_with("https://") {
                    "; Secure"
                } else {
                    ""
                }
            );
            let next = intent
                .and_then(|intent| intent.next_action)
                .and_then(|json| serde_json::from_str::<NextAction>(&json).ok());
            let to = match next {
                Some(NextAction::Redirect {
                    url,
                    method: FormMethod::Get,
                    ..
                }) => url,
                _ => back,
            };
            see_other(&to, Some(set_cookie))
        }
        Ok(Claimed::Taken | Claimed::WrongApp) => see_other(&back, None),
        Err(error) => {
            tracing::warn!("{}: taking the code: {}", intent.id, error.message);
            see_other(&back, None)
        }
    }
}

fn see_other(to: &str, cookie: Option<String>) -> Response {
    let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, to.to_owned())]).into_response();
    if let Some(cookie) = cookie.and_then(|cookie| HeaderValue::from_str(&cookie).ok()) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    no_store(&mut response);
    response
}

fn html(state: &AppState, status: StatusCode, body: String) -> Response {
    let policy = format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
         form-action 'self' {}; base-uri 'none'; frame-ancestors 'none'",
        crate::pay_form_targets(&state.inner.config, state.inner.sandbox.as_deref()).join(" ")
    );
    let mut response = (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8".to_owned())],
        body,
    )
        .into_response();
    if let Ok(policy) = HeaderValue::from_str(&policy) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    no_store(&mut response);
    response
}

/// Pages about one shopper's payment: never cached, and the code (in the
/// path) never sent on as a referrer.
fn no_store(response: &mut Response) {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
}

fn header_text(headers: &HeaderMap, name: header::HeaderName) -> &str {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
}

fn locale(headers: &HeaderMap) -> Locale {
    Locale::negotiate(
        header_text(headers, header::ACCEPT_LANGUAGE)
            .split(',')
            .map(|tag| tag.split(';').next().unwrap_or_default().trim()),
    )
}

/// The claim cookie this phone holds for the code, if any.
fn claim_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|cookies| cookies.split(';'))
        .filter_map(|cookie| cookie.trim().split_once('='))
        .find(|(name, _)| *name == CLAIM_COOKIE)
        .map(|(_, value)| value)
}
