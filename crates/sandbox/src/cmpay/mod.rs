//! China Mobile Pay (和包支付, "cmpay"), the IPOS `cmpayService` interface
//! version 2.0.0, played on loopback under `/cmpay`: the service endpoint
//! as `https://ipos.10086.cn/ips/cmpayService` has it, the cashier the
//! browser is sent to, the shopper's statement, and the switches of
//! `/cmpay/control`.
//!
//! | route | plays |
//! |---|---|
//! | `POST /cmpay/ips/cmpayService` | `DirectPayConfirm`, `WAPDirectPayConfirm`, `OrderQuery`, `OrderRefund` |
//! | `GET\|POST /cmpay/wap/index.xhtml?sessionId=…` | the cashier a `payUrl` leads to |
//! | `POST /cmpay/wap/confirm` | the cashier's pay and decline buttons |
//! | `GET /cmpay/wap/return.js` | the script that submits `PageNotify` to `callbackUrl` |
//! | `GET\|POST /cmpay/phone` | the shopper's statement: payments and refunds |
//! | `GET\|POST /cmpay/control` | outages, notification behaviour, failing refunds |
//!
//! What 和包 documents and what the emulator assumes is said in each
//! module: `wire` (the hmac, the answer format, the return codes),
//! `service` (the requests and their checks), `orders` (the state
//! machine), `results` (the fields of results), `cashier`, `notify`. The
//! facts come from the official 2.0.0 PDFs and demo kits (PHP, Java, .NET)
//! and from integrators' code whose published keys reproduce the PDFs'
//! and their own signed samples, gathered in the research notes; no WAP
//! PDF was found. Where a module says "assumed", the emulator chose.

mod cashier;
mod control;
mod notify;
mod orders;
mod pages;
mod phone;
mod results;
mod service;
mod wire;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::routing::{get, post};
use axum::Router;

use crate::clock::cst_digits;
use crate::crypto::digits;
use crate::{Clock, CmpayConfig};
use control::Control;
use orders::{Order, Orders};
use wire::Message;

/// The emulated platform: configuration and in-memory state.
pub(crate) struct Cmpay {
    config: CmpayConfig,
    public_url: String,
    clock: Clock,
    http: reqwest::Client,
    state: Mutex<EmulatorState>,
}

/// Everything that changes, behind one lock (never held across an await).
#[derive(Default)]
pub(crate) struct EmulatorState {
    orders: Orders,
    control: Control,
}

/// The routes of the emulated platform; `public_url` is where the sandbox
/// is reachable, for `payUrl`.
pub(crate) fn router(config: CmpayConfig, public_url: String, clock: Clock) -> Router {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_default();
    let cmpay = Arc::new(Cmpay {
        config,
        public_url,
        clock,
        http,
        state: Mutex::new(EmulatorState::default()),
    });
    Router::new()
        .route("/cmpay/ips/cmpayService", post(service::service))
        .route(
            "/cmpay/wap/index.xhtml",
            get(cashier::open_get).post(cashier::open_post),
        )
        .route("/cmpay/wap/confirm", post(cashier::confirm))
        .route("/cmpay/wap/return.js", get(cashier::script))
        .route("/cmpay/phone", get(phone::statement).post(phone::statement))
        .route("/cmpay/control", get(control::read).post(control::update))
        .with_state(cmpay)
}

impl Cmpay {
    fn lock(&self) -> MutexGuard<'_, EmulatorState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn control(&self) -> Control {
        self.lock().control.clone()
    }

    fn now(&self) -> i64 {
        self.clock.unix_seconds()
    }

    /// Today in Beijing, `yyyyMMdd`.
    fn today(&self) -> String {
        cst_digits(self.now()).chars().take(8).collect()
    }

    /// A platform serial (`payNo`, a refund's): the date and 10 digits, as
    /// the published `201605226650729006`.
    fn serial(&self) -> String {
        format!("{}{}", self.today(), digits(10))
    }

    /// A cashier session: 26 digits, as the published
    /// `20160408201604080466790130`.
    fn session_id(&self) -> String {
        let today = self.today();
        format!("{today}{today}{}", digits(10))
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

    /// Tells the merchant's `notifyUrl` how `order` was decided, in the
    /// background, as `/cmpay/control` says.
    fn notify_decision(self: &Arc<Self>, order: &Order) {
        let Some(message) = results::payment(order, &self.config.merchant_id, "OfflineNotify")
        else {
            return;
        };
        let order_id = order.params.order_id.clone();
        let Some(plan) = self.control().plan() else {
            tracing::info!(%order_id, "cmpay notification lost (control: lost)");
            return;
        };
        let mut signed: Message = message.signed(&self.config.sign_key);
        if plan.tampered {
            let amount = signed.get("amount").parse::<i64>().unwrap_or(0) + 1;
            signed.set("amount", amount.to_string());
        }
        tokio::spawn(notify::deliver(
            self.clone(),
            order.params.notify_url.clone(),
            order_id,
            signed.form_text(),
            plan,
        ));
    }
}
