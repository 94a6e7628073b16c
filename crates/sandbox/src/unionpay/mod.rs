//! UnionPay's online gateway (UPOP, 全渠道, interface version 5.1.0),
//! played on loopback under `/unionpay`: the gateway's three endpoints as
//! `https://gateway.test.95516.com` has them, the card page the browser is
//! sent to, the phone of a shopper who scans order codes, and the switches
//! of `/unionpay/control`.
//!
//! | route | plays |
//! |---|---|
//! | `POST /unionpay/gateway/api/frontTransReq.do` | the browser's signed consumption form: the card page, or an error page |
//! | `POST /unionpay/cashier/card`, `/unionpay/cashier/sms` | the card page's steps: card number, then SMS code |
//! | `GET /unionpay/cashier/return.js` | the script that submits the result to `frontUrl` |
//! | `POST /unionpay/gateway/api/backTransReq.do` | order codes (`txnType=01`, `txnSubType=07`), refunds (`04`), cancellations (`31`) |
//! | `POST /unionpay/gateway/api/queryTrans.do` | the query (`txnType=00`) |
//! | `POST /unionpay/phone/scan` | the shopper's phone scanning an order code |
//! | `GET\|POST /unionpay/phone` | the phone as a page, with the shopper's statement |
//! | `GET\|POST /unionpay/control` | outages, notification behaviour, slow or failing refunds |
//!
//! What UnionPay documents and what the emulator assumes is said in each
//! module: `wire` (the format, the signatures, the response codes),
//! `keys` (`certId`, `signPubKeyCert`), `gateway` (the common checks),
//! `front` and `cashier` (the card page), `api` (order codes, refunds,
//! cancellations, queries), `txns` (the state machine), `results` (the
//! fields of results), `notify`, `phone`. The facts come from UnionPay's
//! 5.1.0 SDKs and demos and from signed messages published in open-source
//! SDKs' tests (verified against the test certificates), gathered in the
//! research notes; the response codes come from third-party copies of
//! UnionPay's table. No official specification was at hand: where a
//! module says "assumed", the emulator chose.
//!
//! The test chain (`crates/sandbox/keys/unionpay_*.pem`, made by
//! [`certs`]) stands in for CFCA's test chain: a merchant verifies
//! `signPubKeyCert` against `unionpay_root.pem` and `unionpay_middle.pem`.

pub mod certs;

mod api;
mod cashier;
mod control;
mod front;
mod gateway;
mod keys;
mod notify;
mod pages;
mod phone;
mod results;
mod txns;
mod wire;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::routing::{get, post};
use axum::Router;

use crate::{Clock, UnionpayConfig};
use control::Control;
use keys::Keys;
use notify::Notification;
use txns::{Outcome, TxnKey, Txns};
use wire::Message;

/// The emulated gateway: configuration, keys and in-memory state.
pub(crate) struct Unionpay {
    config: UnionpayConfig,
    keys: Keys,
    clock: Clock,
    http: reqwest::Client,
    state: Mutex<EmulatorState>,
}

/// Everything that changes, behind one lock (never held across an await).
#[derive(Default)]
pub(crate) struct EmulatorState {
    txns: Txns,
    control: Control,
    /// Notifications planned but not yet sent once, by order.
    unsent: HashMap<TxnKey, usize>,
}

/// The routes of the emulated gateway.
///
/// # Panics
/// When the configuration's certificates or keys cannot be used.
pub(crate) fn router(config: UnionpayConfig, clock: Clock) -> Router {
    let keys = Keys::load(&config).unwrap_or_else(|error| {
        panic!("payment-sandbox: unusable UnionPay configuration: {error}")
    });
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_default();
    let unionpay = Arc::new(Unionpay {
        config,
        keys,
        clock,
        http,
        state: Mutex::new(EmulatorState::default()),
    });
    Router::new()
        .route(
            "/unionpay/gateway/api/frontTransReq.do",
            post(front::submit),
        )
        .route("/unionpay/gateway/api/backTransReq.do", post(gateway::back))
        .route("/unionpay/gateway/api/queryTrans.do", post(gateway::query))
        .route("/unionpay/cashier/card", post(cashier::card))
        .route("/unionpay/cashier/sms", post(cashier::sms))
        .route("/unionpay/cashier/return.js", get(cashier::script))
        .route(
            "/unionpay/phone",
            get(phone::page_view).post(phone::page_submit),
        )
        .route("/unionpay/phone/scan", post(phone::scan))
        .route(
            "/unionpay/control",
            get(control::read).post(control::update),
        )
        .with_state(unionpay)
}

impl Unionpay {
    fn lock(&self) -> MutexGuard<'_, EmulatorState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn control(&self) -> Control {
        self.lock().control.clone()
    }

    fn now(&self) -> i64 {
        self.clock.unix_seconds()
    }

    /// Whether `url`'s host is one the merchant registered (any, when it
    /// registered none).
    fn on_return_domains(&self, url: &str) -> bool {
        let domains = &self.config.return_domains;
        domains.is_empty()
            || crate::urls::url_host(url).is_some_and(|host| {
                domains
                    .iter()
                    .any(|domain| domain.trim().eq_ignore_ascii_case(&host))
            })
    }

    /// Tells the merchant's `backUrl` about a consumption that succeeded.
    fn notify_payment(self: &Arc<Self>, order: &txns::Order) {
        let succeeded = order
            .attempt
            .as_ref()
            .is_some_and(|attempt| matches!(attempt.outcome, Outcome::Succeeded { .. }));
        if succeeded {
            self.notify(
                order.params.key.clone(),
                order.params.back_url.clone(),
                results::payment(order),
            );
        }
    }

    /// Sends `message` to `url` in the background, as `/unionpay/control`
    /// says; `order` groups the notifications of one order.
    fn notify(self: &Arc<Self>, order: TxnKey, url: String, message: Message) {
        let plan = {
            let mut state = self.lock();
            let earlier_waiting = state.unsent.get(&order).is_some_and(|count| *count > 0);
            let plan = state.control.plan(earlier_waiting);
            if plan.is_some() {
                *state.unsent.entry(order.clone()).or_default() += 1;
            }
            plan
        };
        let order_id = message.get("orderId").unwrap_or_default().to_owned();
        let Some(plan) = plan else {
            tracing::info!(%order_id, "unionpay notification lost (control: lost)");
            return;
        };
        match Notification::sign(self, order.clone(), &message, &plan) {
            Ok(notification) => {
                tokio::spawn(notify::deliver(self.clone(), url, notification, plan));
            }
            Err(error) => {
                tracing::error!(%error, %order_id, "cannot sign a unionpay notification");
                self.sent_once(&order);
            }
        }
    }

    /// A notification of `order` has had its first attempt.
    fn sent_once(&self, order: &TxnKey) {
        let mut state = self.lock();
        if let Some(count) = state.unsent.get_mut(order) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                state.unsent.remove(order);
            }
        }
    }

    /// A refund or cancellation completes once `refund_delay_ms` has
    /// passed; then it is notified.
    fn finish_reversal_later(self: &Arc<Self>, key: TxnKey) {
        let unionpay = self.clone();
        tokio::spawn(async move {
            let delay = unionpay.control().refund_delay_ms;
            tokio::time::sleep(Duration::from_millis(delay)).await;
            let now = unionpay.now();
            let finished = unionpay.lock().txns.finish_reversal(&key, now);
            if let Some(reversal) = finished {
                tracing::info!(order_id = %key.order_id, outcome = ?reversal.outcome, "unionpay refund or cancellation completed");
                unionpay.notify(
                    reversal.order.clone(),
                    reversal.params.back_url.clone(),
                    results::reversal(&reversal),
                );
            }
        });
    }
}
