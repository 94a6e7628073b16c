//! One code for every wallet, opened on a phone: the wallet app that
//! scanned it (told by its user agent) claims the intent, which becomes an
//! intent of that wallet, and that wallet's in-app order is made. The
//! first phone wins; any other finds the code taken.

use contract::{ClientContext, MethodKind};

use super::create::hand_off;
use super::reload;
use crate::eligibility::{code_wallets, flow_for, CODE_APPS};
use crate::error::ApiError;
use crate::store::{to_text, Claim, IntentRow};
use crate::{views, AppState};

/// A code stays claimable while its wallet's order would still be payable
/// for this long (WeChat Pay's shortest).
const MIN_PAYABLE_SECONDS: i64 = 60;

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

/// The phone that opened the code.
pub struct Phone<'a> {
    /// Where it is: the wallet app, from its user agent.
    pub context: ClientContext,
    /// The hash of its claim cookie.
    pub cookie_hash: &'a str,
    /// Its IP address.
    pub ip: Option<String>,
}

/// The wallets whose apps can pay `intent`'s code.
pub async fn wallets_of(state: &AppState, intent: &IntentRow) -> Result<Vec<MethodKind>, ApiError> {
    let session = state
        .inner
        .store
        .session(&intent.session_id)
        .await?
        .ok_or_else(|| ApiError::not_found("checkout session"))?;
    let config = &state.inner.config;
    let merchant = config
        .merchant(&session.merchant_id)
        .ok_or_else(|| ApiError::internal("unknown merchant"))?;
    let amount = views::intent_amount(intent)?;
    let providers = &state.inner.providers;
    let implemented = |kind, flow| providers.implements(&merchant.id, kind, flow);
    Ok(code_wallets(
        config,
        merchant,
        &amount,
        state.now(),
        &implemented,
    ))
}

/// Claims `intent`'s code for `phone` and makes its wallet's order.
pub async fn claim(
    state: &AppState,
    intent: &IntentRow,
    phone: Phone<'_>,
) -> Result<Claimed, ApiError> {
    let Some(method) = CODE_APPS
        .iter()
        .find(|(app, _)| phone.context.in_app == Some(*app))
        .map(|&(_, method)| method)
    else {
        return Ok(Claimed::WrongApp);
    };
    if !wallets_of(state, intent).await?.contains(&method) {
        return Ok(Claimed::WrongApp);
    }
    let session = state
        .inner
        .store
        .session(&intent.session_id)
        .await?
        .ok_or_else(|| ApiError::not_found("checkout session"))?;
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
