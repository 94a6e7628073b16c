//! One code for every wallet, opened on a phone: the wallet app that
//! scanned it (told by its user agent) claims the intent, which becomes an
//! intent of that wallet, and that wallet's in-app order is made. The
//! first phone wins; any other finds the code taken.

use contract::{ClientContext, IntentStatus, MethodKind};

use super::create::{hand_off, MIN_PAYABLE_SECONDS};
use super::reload;
use crate::eligibility::{code_wallets, flow_for, CODE_APPS};
use crate::error::ApiError;
use crate::store::{to_text, Claim, IntentRow, SessionRow};
use crate::{views, AppState};

/// What opening a code on a phone came to.
#[derive(Debug)]
pub enum Claimed {
    /// This phone pays it: the intent with its wallet's hand-off (the
    /// payer authorisation first, for WeChat and Alipay), unless it could
    /// not be read back (the phone's next look has it).
    Mine(Option<Box<IntentRow>>),
    /// Another phone took it first, or it ended.
    Taken,
    /// The app that opened it cannot pay it (not a wallet app, or a wallet
    /// the merchant does not take).
    WrongApp,
}

/// What a phone may do with a code no phone has taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Offer {
    /// Pay it with this wallet, inside its app.
    Pay(MethodKind),
    /// Nothing here: these wallets' apps can pay it.
    OtherApps(Vec<MethodKind>),
}

/// The phone that opened the code.
pub struct Phone<'a> {
    /// Where it is: the wallet app, from its user agent.
    pub context: ClientContext,
    /// The hash of its claim cookie.
    pub cookie_hash: &'a str,
    /// Its IP address.
    pub ip: Option<String>,
}

/// True while `intent` is a code a phone could still take: untaken, open,
/// and with time left for its wallet's order (the condition `claim_code`
/// applies again as it takes it).
pub fn can_be_taken(state: &AppState, intent: &IntentRow) -> bool {
    intent.is_unclaimed_code()
        && intent.claimed_by.is_none()
        && intent.status() == IntentStatus::RequiresAction
        && state.now() + MIN_PAYABLE_SECONDS < intent.expires_at
}

/// What a phone in `context` may do with `session`'s code `intent`: pay
/// with its app's wallet if that wallet can pay the code here, else be
/// told which apps can.
pub fn offer(
    state: &AppState,
    session: &SessionRow,
    intent: &IntentRow,
    context: ClientContext,
) -> Result<Offer, ApiError> {
    let config = &state.inner.config;
    let merchant = config
        .merchant(&session.merchant_id)
        .ok_or_else(|| ApiError::internal("unknown merchant"))?;
    let amount = views::intent_amount(intent)?;
    let providers = &state.inner.providers;
    let implemented = |kind, flow| providers.implements(&merchant.id, kind, flow);
    let wallets = code_wallets(config, merchant, &amount, state.now(), &implemented);
    let app = CODE_APPS
        .iter()
        .find(|(app, method)| context.in_app == Some(*app) && wallets.contains(method));
    Ok(match app {
        Some(&(_, method)) => Offer::Pay(method),
        None => Offer::OtherApps(wallets),
    })
}

/// Claims `session`'s code `intent` for `phone` and makes its wallet's
/// order.
pub async fn claim(
    state: &AppState,
    session: &SessionRow,
    intent: &IntentRow,
    phone: Phone<'_>,
) -> Result<Claimed, ApiError> {
    let Offer::Pay(method) = offer(state, session, intent, phone.context)? else {
        return Ok(Claimed::WrongApp);
    };
    let provider_account = state
        .inner
        .providers
        .get(&session.merchant_id, method)
        .map(|provider| provider.account());
    let claim = Claim {
        by: phone.cookie_hash,
        method: &to_text(&method),
        flow: &to_text(&flow_for(method, phone.context)),
        provider_account: provider_account.as_deref(),
        payer_ip: phone.ip.as_deref(),
    };
    let claimed = state
        .inner
        .store
        .claim_code(&intent.id, &claim, state.now(), MIN_PAYABLE_SECONDS)
        .await?;
    if !claimed {
        return Ok(Claimed::Taken);
    }
    // The code is this phone's now, whatever fails next: its next look
    // tries again.
    let handed = match reload(state, &intent.id).await {
        Ok(claimed) => hand_off(state, &claimed).await,
        Err(error) => Err(error),
    };
    match handed {
        Ok(handed) => Ok(Claimed::Mine(Some(Box::new(handed)))),
        Err(error) => {
            tracing::warn!("{}: the wallet's order: {}", intent.id, error.message);
            Ok(Claimed::Mine(None))
        }
    }
}

/// Makes the wallet's order for a code this phone took, when it could not
/// be made as the phone took it.
pub async fn resume(state: &AppState, intent: &IntentRow) -> Result<IntentRow, ApiError> {
    hand_off(state, intent).await
}
