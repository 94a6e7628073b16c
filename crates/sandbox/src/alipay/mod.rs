//! Alipay's OpenAPI, played on loopback under `/alipay`: the gateway
//! (`gateway.do`, like `https://openapi.alipay.com/gateway.do`), the WAP
//! cashier it opens, the web authorisation of `openauth.alipay.com`, the
//! shopper's phone, and the switches of `/alipay/control`.
//!
//! | route | plays |
//! |---|---|
//! | `GET\|POST /alipay/gateway.do` | the gateway: `alipay.trade.precreate`, `.create`, `.wap.pay` (a page), `.query`, `.close`, `.refund`, `.fastpay.refund.query`, `alipay.system.oauth.token` |
//! | `POST /alipay/cashier` | the WAP cashier's buttons (pay, refused by risk control, give up) |
//! | `GET /alipay/oauth2/publicAppAuthorize.htm` | `openauth.alipay.com`'s silent `auth_base` |
//! | `POST /alipay/phone/scan`, `/alipay/phone/trade-pay` | the shopper's phone: scanning a code, the app's `tradePay` |
//! | `GET\|POST /alipay/phone` | the phone as a page, with the shopper's statement |
//! | `GET\|POST /alipay/control` | outages, rate limits, notification behaviour, slow refunds |
//!
//! What Alipay documents and what the emulator assumes is said in each
//! module: `wire` (the format and the signatures), `gateway` (the common
//! checks), `api` and `biz` (the methods), `trades` and `refunds` (the state
//! machines), `cashier`, `oauth`, `phone`, `notify`. The facts come from
//! opendocs.alipay.com (and its English pages at docs.antom.com) and from
//! Alipay's own SDKs; where the documents are silent the module says so.
//!
//! The emulated shopper is one Alipay user: user id `2088722003891562`,
//! logon id `158****1562`, and an `open_id` that is stable per application.

mod api;
mod biz;
mod cashier;
mod control;
mod gateway;
mod keys;
mod money;
mod notify;
mod oauth;
mod phone;
mod refunds;
mod trades;
mod wire;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::routing::{any, get, post};
use axum::Router;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::{AlipayConfig, Clock};
use control::Control;
use keys::Keys;
use refunds::Refund;
use trades::{PayRefused, Trade, Trades};

/// The emulated shopper's Alipay user id (16 digits from 2088).
const SHOPPER_USER_ID: &str = "2088722003891562";
/// The emulated shopper's account as Alipay shows it to merchants, masked.
const SHOPPER_LOGON_ID: &str = "158****1562";

/// The emulated Alipay: configuration, keys and in-memory state.
pub(crate) struct Alipay {
    config: AlipayConfig,
    keys: Keys,
    clock: Clock,
    http: reqwest::Client,
    shopper: Shopper,
    state: Mutex<EmulatorState>,
}

/// Everything that changes, behind one lock (never held across an await).
#[derive(Default)]
pub(crate) struct EmulatorState {
    trades: Trades,
    oauth: oauth::Codes,
    control: Control,
    /// Notifications planned but not yet sent once, by `trade_no`.
    unsent: HashMap<String, usize>,
}

/// The one shopper who scans, logs in and pays.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Shopper {
    /// `buyer_id`, `buyer_user_id`, `user_id`.
    pub user_id: String,
    /// `buyer_open_id`, `open_id`: stable per application.
    pub open_id: String,
    /// `buyer_logon_id`, masked.
    pub logon_id: String,
}

impl Shopper {
    fn for_app(app_id: &str) -> Shopper {
        let digest = aws_lc_rs::digest::digest(
            &aws_lc_rs::digest::SHA256,
            format!("payment-sandbox alipay shopper\n{app_id}").as_bytes(),
        );
        Shopper {
            user_id: SHOPPER_USER_ID.to_owned(),
            open_id: format!("0{}", URL_SAFE_NO_PAD.encode(digest.as_ref())),
            logon_id: SHOPPER_LOGON_ID.to_owned(),
        }
    }
}

/// The routes of every Alipay host the emulator plays.
///
/// # Panics
/// When the configuration's keys cannot be used.
pub(crate) fn router(config: AlipayConfig, clock: Clock) -> Router {
    let keys = Keys::load(&config)
        .unwrap_or_else(|error| panic!("payment-sandbox: unusable Alipay configuration: {error}"));
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_default();
    let alipay = Arc::new(Alipay {
        shopper: Shopper::for_app(&config.app_id),
        config,
        keys,
        clock,
        http,
        state: Mutex::new(EmulatorState::default()),
    });
    Router::new()
        .route("/alipay/gateway.do", any(gateway::handle))
        .route("/alipay/cashier", post(cashier::submit))
        .route(
            "/alipay/oauth2/publicAppAuthorize.htm",
            get(oauth::authorize),
        )
        .route(
            "/alipay/phone",
            get(phone::page_view).post(phone::page_submit),
        )
        .route("/alipay/phone/scan", post(phone::scan))
        .route("/alipay/phone/trade-pay", post(phone::trade_pay))
        .route("/alipay/control", get(control::read).post(control::update))
        .with_state(alipay)
}

impl Alipay {
    fn lock(&self) -> MutexGuard<'_, EmulatorState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn control(&self) -> Control {
        self.lock().control.clone()
    }

    /// Whether `url`'s host is one the application registered (any, when
    /// it registered none).
    fn on_return_domains(&self, url: &str) -> bool {
        let domains = &self.config.return_domains;
        domains.is_empty()
            || crate::urls::url_host(url).is_some_and(|host| {
                domains
                    .iter()
                    .any(|domain| domain.trim().eq_ignore_ascii_case(&host))
            })
    }

    /// The shopper pays a waiting trade; the payment is notified.
    fn pay(self: &Arc<Self>, out_trade_no: &str) -> Result<Trade, PayRefused> {
        let now = self.clock.unix_seconds();
        let paid = self.lock().trades.pay(out_trade_no, &self.shopper, now)?;
        tracing::info!(out_trade_no, trade_no = %paid.trade_no, "alipay trade paid");
        self.notify(&paid, None);
        Ok(paid)
    }

    /// Risk control refuses the payment: the trade closes (not notified).
    fn decline(self: &Arc<Self>, out_trade_no: &str) -> Result<Trade, PayRefused> {
        let now = self.clock.unix_seconds();
        let declined = self.lock().trades.decline(out_trade_no, now)?;
        tracing::info!(out_trade_no, "alipay payment refused by risk control");
        Ok(declined)
    }

    /// Notifies a payment (`refund: None`) or a refund that succeeded, in
    /// the background, as `/alipay/control` says.
    fn notify(self: &Arc<Self>, trade: &Trade, refund: Option<&Refund>) {
        let Some(url) = trade.params.notify_url.clone() else {
            return;
        };
        let notification = notify::build(self, trade, refund, self.clock.unix_seconds());
        let plan = {
            let mut state = self.lock();
            let earlier_waiting = state
                .unsent
                .get(&trade.trade_no)
                .is_some_and(|count| *count > 0);
            let plan = state.control.plan(earlier_waiting);
            if plan.is_some() {
                *state.unsent.entry(trade.trade_no.clone()).or_default() += 1;
            }
            plan
        };
        match plan {
            Some(plan) => {
                tokio::spawn(notify::deliver(self.clone(), url, notification, plan));
            }
            None => {
                tracing::info!(notify_id = %notification.notify_id, "alipay notification dropped (control: drop)")
            }
        }
    }

    /// A notification of `trade_no` has had its first attempt.
    fn sent_once(&self, trade_no: &str) {
        let mut state = self.lock();
        if let Some(count) = state.unsent.get_mut(trade_no) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                state.unsent.remove(trade_no);
            }
        }
    }

    /// The money of a processing refund moves once `refund_delay_ms` has
    /// passed; then it is notified.
    fn finish_refund_later(self: &Arc<Self>, out_trade_no: String, out_request_no: String) {
        let alipay = self.clone();
        tokio::spawn(async move {
            let delay = alipay.control().refund_delay_ms;
            tokio::time::sleep(Duration::from_millis(delay)).await;
            let now = alipay.clock.unix_seconds();
            let finished = alipay
                .lock()
                .trades
                .finish_refund(&out_trade_no, &out_request_no, now);
            if let Some((trade, refund)) = finished {
                tracing::info!(%out_trade_no, %out_request_no, "alipay refund succeeded");
                alipay.notify(&trade, Some(&refund));
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shopper_is_stable_per_application() {
        let one = Shopper::for_app("9021000142691120");
        assert_eq!(one, Shopper::for_app("9021000142691120"));
        assert_ne!(one.open_id, Shopper::for_app("2021000000000000").open_id);
        assert!(one.user_id.starts_with("2088") && one.user_id.len() == 16);
        assert!(one.user_id.bytes().all(|b| b.is_ascii_digit()));
        assert_ne!(one.user_id, AlipayConfig::demo().seller_id);
    }
}
