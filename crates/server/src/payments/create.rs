//! A new intent for a session: idempotent on its key, one payable intent
//! per session (the open one is closed with its provider first), stored
//! before the provider is called, then handed off.

use axum::http::StatusCode;
use contract::{
    Availability, CreateIntent, ErrorCode, FailureReason, Flow, IntentStatus, MethodKind,
    SessionStatus, UnixSeconds,
};

use super::close::{close, Ended};
use super::settle::fail;
use super::{fingerprint, provider_of, reload, session_and_provider};
use crate::eligibility::methods_for;
use crate::error::ApiError;
use crate::providers::{HandOff, ProviderOrder};
use crate::store::{to_text, Inserted, IntentRow, SessionRow};
use crate::views;
use crate::AppState;

/// WeChat Pay (like the others) needs an order to stay payable for at
/// least a minute.
pub(super) const MIN_PAYABLE_SECONDS: i64 = 60;

/// What the browser asked for, and what the server learns of its request.
pub struct NewIntent<'a> {
    /// The `Idempotency-Key`.
    pub key: &'a str,
    /// The body.
    pub request: CreateIntent,
    /// The shopper's IP address (for WeChat's H5).
    pub payer_ip: Option<String>,
}

/// Creates an intent for `session`, or answers the one its key already
/// made. A session has at most one payable intent: the one it had is
/// closed with its provider first (if the shopper paid it meanwhile, that
/// payment completes the session and no new intent is made; if the shopper
/// is confirming it on the phone, nothing new starts either). The intent
/// is stored before the provider is called, so that no order the provider
/// made can go unrecorded; a provider that cannot be reached leaves it
/// waiting for its hand-off, and the same request tries again.
pub async fn create_intent(
    state: &AppState,
    session: &SessionRow,
    new: NewIntent<'_>,
) -> Result<(StatusCode, IntentRow), ApiError> {
    let store = &state.inner.store;
    let fingerprint = fingerprint(&new.request);
    if let Some(existing) = store.intent_by_key(&session.id, new.key).await? {
        return replay(state, existing, &fingerprint).await;
    }
    let now = state.now();
    check_payable(session, now)?;
    let method = eligible(state, session, &new.request, now)?;
    let provider_account = state
        .inner
        .providers
        .get(&session.merchant_id, method.kind)
        .map(|provider| provider.account());
    let code = method.kind == MethodKind::AnyWallet;
    let row = IntentRow {
        id: crate::auth::random_id("pi"),
        session_id: session.id.clone(),
        idempotency_key: new.key.to_owned(),
        request_fingerprint: fingerprint.clone(),
        method: to_text(&method.kind),
        flow: to_text(&method.flow),
        amount_value: session.amount_value,
        currency: session.currency.clone(),
        status: IntentStatus::RequiresAction.as_str().to_owned(),
        failure_reason: None,
        // One code for every wallet stays payable for the whole session:
        // the wallet's order is made when a phone opens it.
        expires_at: match code {
            true => session.expires_at,
            false => (now + state.inner.config.intent_ttl_seconds).min(session.expires_at),
        },
        next_action: None,
        next_action_expires_at: None,
        payer_ip: new.payer_ip,
        payer_id: match method.flow {
            Flow::WechatJsapi | Flow::AlipayTradePay => {
                store
                    .payer_of_session(&session.id, &to_text(&method.kind))
                    .await?
            }
            _ => None,
        },
        transaction_id: None,
        created_at: now,
        updated_at: now,
        last_queried_at: None,
        provider_account,
        amount_received: None,
        review_reason: None,
        provider_failures: 0,
        provider_retry_at: 0,
        device: Some(to_text(&new.request.client.device)),
        pay_token: code.then(|| crate::auth::random_hex(16)),
        claimed_by: None,
        claimed_at: None,
    };
    // A concurrent create can take the session's one payable slot: close
    // that one too, and try again. One made with this very key is this
    // request's own, repeated (by the shopper, or through another server):
    // it is the answer, never a thing to close.
    for _ in 0..3 {
        if let Some(open) = store.open_intent(&session.id).await? {
            if open.idempotency_key == new.key {
                return replay(state, open, &fingerprint).await;
            }
            supersede(state, &open).await?;
        }
        let mut tx = store.begin().await?;
        match tx.insert_intent(&row).await? {
            Inserted::Yes => {
                tx.commit().await?;
                let intent = hand_off(state, &row).await?;
                return Ok((StatusCode::CREATED, intent));
            }
            Inserted::KeyTaken => {
                drop(tx);
                let winner = store
                    .intent_by_key(&session.id, new.key)
                    .await?
                    .ok_or_else(|| ApiError::internal("lost intent"))?;
                return replay(state, winner, &fingerprint).await;
            }
            Inserted::SessionBusy => drop(tx),
            Inserted::SessionClosed => {
                drop(tx);
                let session = store
                    .session(&session.id)
                    .await?
                    .ok_or_else(|| ApiError::not_found("checkout session"))?;
                check_payable(&session, state.now())?;
                return Err(ApiError::internal("the session closed during the create"));
            }
        }
    }
    Err(ApiError::conflict(
        ErrorCode::IdempotencyKeyInUse,
        "other payments of this session kept starting; try again",
    ))
}

/// Asks the provider for a stored intent's hand-off (or, for a flow that
/// needs the payer's id first, sends the shopper to the provider's
/// authorisation). A refusal fails the intent; an unreachable provider
/// leaves it waiting, for the same request to try again.
pub(super) async fn hand_off(state: &AppState, intent: &IntentRow) -> Result<IntentRow, ApiError> {
    if let (true, Some(token)) = (intent.is_unclaimed_code(), &intent.pay_token) {
        let code = HandOff {
            action: contract::NextAction::DisplayQrCode {
                payload: state.pay_url(token),
                expires_at: intent.expires_at,
            },
            renew_at: None,
        };
        return save_hand_off(state, &intent.id, &code).await;
    }
    let (session, provider) = session_and_provider(state, intent).await?;
    let flow: Flow = crate::store::from_text(&intent.flow)?;
    let callback = state.oauth_url(&session.merchant_id, provider.name());
    let authorization = match intent.payer_id {
        None => provider.payer_authorization(flow, &callback, &intent.id),
        Some(_) => None,
    };
    let hand_off = match authorization {
        Some(url) => Ok(HandOff {
            action: contract::NextAction::Redirect {
                url,
                method: contract::FormMethod::Get,
                fields: vec![],
            },
            renew_at: None,
        }),
        None => {
            provider
                .create(&order(state, &session, intent, provider.name())?)
                .await
        }
    };
    let now = state.now();
    match hand_off {
        Ok(hand_off) => save_hand_off(state, &intent.id, &hand_off).await,
        Err(crate::providers::ProviderError::Refused { code, message }) => {
            tracing::warn!(
                "{} refused {}: {code} {message}",
                provider.name(),
                intent.id
            );
            let mut tx = state.inner.store.begin().await?;
            fail(state, &mut tx, intent, FailureReason::ProviderRefused, now).await?;
            tx.commit().await?;
            reload(state, &intent.id).await
        }
        Err(error) => {
            // Let the next request with this key try at once.
            state.inner.store.release(&intent.id).await?;
            Err(error.into())
        }
    }
}

/// The order a provider is asked to make (or make again) for an intent.
fn order(
    state: &AppState,
    session: &SessionRow,
    intent: &IntentRow,
    provider: &str,
) -> Result<ProviderOrder, ApiError> {
    Ok(ProviderOrder {
        out_trade_no: intent.id.clone(),
        created_at: intent.ordered_at(),
        amount: views::intent_amount(intent)?,
        description: format!("{} {}", display_name(state, session), session.reference),
        time_expire: intent.expires_at,
        flow: crate::store::from_text(&intent.flow)?,
        notify_url: state.notify_url(&session.merchant_id, provider),
        return_url: match &intent.pay_token {
            Some(token) => state.pay_url(token),
            None => with_query(&session.return_url, "payment_intent", &intent.id),
        },
        post_return_url: state.return_url(&session.merchant_id, provider, &intent.id),
        payer_ip: intent.payer_ip.clone(),
        payer_id: intent.payer_id.clone(),
        device: match &intent.device {
            Some(device) => crate::store::from_text(device)?,
            None => contract::Device::default(),
        },
    })
}

/// How long a request may be busy getting an intent's hand-off before a
/// repeat of it takes over (provider calls time out well before this).
const HAND_OFF_LEASE_SECONDS: i64 = 30;

/// How long a repeated request waits for the first one's hand-off.
const REPLAY_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Answers a repeated request: the same intent if the body is the same,
/// once its hand-off is there (waiting a little for the first request, or
/// taking over when that one gave up or died).
async fn replay(
    state: &AppState,
    mut existing: IntentRow,
    fingerprint: &str,
) -> Result<(StatusCode, IntentRow), ApiError> {
    if existing.request_fingerprint != fingerprint {
        return Err(ApiError::conflict(
            ErrorCode::IdempotencyKeyReused,
            "this Idempotency-Key was already used with a different request",
        ));
    }
    let started = tokio::time::Instant::now();
    while awaits_hand_off(&existing) {
        if state.now() - existing.updated_at >= HAND_OFF_LEASE_SECONDS
            && state
                .inner
                .store
                .take_over(&existing.id, state.now())
                .await?
        {
            existing = hand_off(state, &existing).await?;
            break;
        }
        if started.elapsed() >= REPLAY_WAIT {
            return Err(ApiError::conflict(
                ErrorCode::IdempotencyKeyInUse,
                "the first request with this Idempotency-Key is still being carried out",
            ));
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        existing = reload(state, &existing.id).await?;
    }
    Ok((StatusCode::OK, existing))
}

/// True while an intent waits for its provider's hand-off.
fn awaits_hand_off(intent: &IntentRow) -> bool {
    intent.next_action.is_none() && intent.status() == IntentStatus::RequiresAction
}

/// Closes the session's payable intent to make room for a new one; if it
/// was paid meanwhile, the session is complete and nothing new can start,
/// and while the shopper confirms it on the phone, nothing new starts
/// either (the shopper may cancel it first).
async fn supersede(state: &AppState, open: &IntentRow) -> Result<(), ApiError> {
    if open.status() == IntentStatus::Processing {
        return Err(ApiError::conflict(
            ErrorCode::PaymentInProgress,
            "the shopper is confirming a payment of this session on the phone: it must end \
             (or be canceled) before another starts",
        ));
    }
    if close(state, open, IntentStatus::Canceled).await? == Ended::Paid {
        return Err(ApiError::conflict(
            ErrorCode::SessionCompleted,
            "the session has just been paid",
        ));
    }
    Ok(())
}

/// Comes back from the provider's payer authorisation with a code: learns
/// the payer's id and makes the order, whose hand-off the browser finds
/// when it asks.
pub async fn payer_authorized(
    state: &AppState,
    intent_id: &str,
    code: &str,
) -> Result<IntentRow, ApiError> {
    let intent = reload(state, intent_id).await?;
    if intent.status() != IntentStatus::RequiresAction || intent.payer_id.is_some() {
        return Ok(intent);
    }
    let provider = provider_of(state, &intent).await?;
    let payer_id = provider.payer_id(code).await?;
    let now = state.now();
    state
        .inner
        .store
        .set_payer_id(&intent.id, &payer_id, now)
        .await?;
    let intent = reload(state, intent_id).await?;
    renew_hand_off(state, &intent).await
}

/// Asks the provider for the hand-off again (a fresh H5 URL; the JSAPI
/// arguments once the payer is known): the same order number, so the
/// provider answers for the same order.
pub(super) async fn renew_hand_off(
    state: &AppState,
    intent: &IntentRow,
) -> Result<IntentRow, ApiError> {
    let (session, provider) = session_and_provider(state, intent).await?;
    let order = order(state, &session, intent, provider.name())?;
    let hand_off = provider.create(&order).await?;
    save_hand_off(state, &intent.id, &hand_off).await
}

/// Stores the hand-off the provider gave for an intent.
async fn save_hand_off(
    state: &AppState,
    intent_id: &str,
    hand_off: &HandOff,
) -> Result<IntentRow, ApiError> {
    let action = serde_json::to_string(&hand_off.action).map_err(ApiError::internal)?;
    let now = state.now();
    let store = &state.inner.store;
    if !store
        .set_next_action(intent_id, &action, hand_off.renew_at, now)
        .await?
    {
        // Canceled or expired while the provider made the order (by
        // another request, or the sweeper): the order it just made must
        // not stay payable.
        let mut tx = store.begin().await?;
        tx.queue_close(intent_id, now).await?;
        tx.commit().await?;
    }
    reload(state, intent_id).await
}

fn check_payable(session: &SessionRow, now: UnixSeconds) -> Result<(), ApiError> {
    match session.status() {
        SessionStatus::Completed => Err(ApiError::conflict(
            ErrorCode::SessionCompleted,
            "the session is already paid",
        )),
        _ if session.status() != SessionStatus::Open
            || now + MIN_PAYABLE_SECONDS > session.expires_at =>
        {
            Err(ApiError::new(
                StatusCode::GONE,
                ErrorCode::SessionExpired,
                "the session has expired, or has less than a minute left",
            ))
        }
        _ => Ok(()),
    }
}

/// The method asked for, as the session offers it in the shopper's context.
fn eligible(
    state: &AppState,
    session: &SessionRow,
    request: &CreateIntent,
    now: UnixSeconds,
) -> Result<contract::PaymentMethod, ApiError> {
    let config = &state.inner.config;
    let merchant = config
        .merchant(&session.merchant_id)
        .ok_or_else(|| ApiError::internal("unknown merchant"))?;
    let amount = views::session_amount(session)?;
    let providers = &state.inner.providers;
    let offered = methods_for(
        config,
        merchant,
        &amount,
        request.client,
        now,
        |kind, flow| providers.implements(&merchant.id, kind, flow),
    )
    .into_iter()
    .find(|method| method.kind == request.method);
    match offered {
        Some(method) if method.availability == Availability::Available => Ok(method),
        Some(method) => Err(unavailable(format!(
            "{} is not available here: {:?}",
            request.method.as_str(),
            method.availability
        ))),
        None => Err(unavailable(format!(
            "the merchant does not take {}",
            request.method.as_str()
        ))),
    }
}

fn display_name(state: &AppState, session: &SessionRow) -> String {
    state
        .inner
        .config
        .merchant(&session.merchant_id)
        .map(|merchant| merchant.display_name.clone())
        .unwrap_or_default()
}

fn unavailable(message: String) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::MethodUnavailable,
        message,
    )
}

/// `url` with one more query parameter (`value` is URL-safe: an id).
pub fn with_query(url: &str, name: &str, value: &str) -> String {
    let (base, fragment) = match url.split_once('#') {
        Some((base, fragment)) => (base, format!("#{fragment}")),
        None => (url, String::new()),
    };
    let separator = if base.contains('?') { '&' } else { '?' };
    format!("{base}{separator}{name}={value}{fragment}")
}

#[cfg(test)]
mod tests {
    use super::with_query;

    #[test]
    fn the_intent_id_joins_the_return_url_s_own_query() {
        assert_eq!(
            with_query("https://shop.example/done", "payment_intent", "pi_1"),
            "https://shop.example/done?payment_intent=pi_1"
        );
        assert_eq!(
            with_query(
                "https://shop.example/done?order=7#top",
                "payment_intent",
                "pi_1"
            ),
            "https://shop.example/done?order=7&payment_intent=pi_1#top"
        );
    }
}
