//! The reference backend for payment-selector's HTTP contract
//! ([`contract`]): checkout sessions, payment intents (idempotent, one
//! payable intent per session), refunds through the provider that took the
//! money, provider adapters that speak each institution's protocol,
//! notifications, queries and background work so that nothing waits
//! forever (and nothing stuck holds up the rest), webhooks and an event
//! feed for the merchant, health and metrics for the operator, on SQLite
//! (one server) or PostgreSQL (any number of servers on one database).
//!
//! Start it in-process (as the tests do) with [`serve`]:
//!
//! ```no_run
//! # async fn run() -> Result<(), payment_server::StartError> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let options = payment_server::ServerOptions {
//!     sandbox: Some("http://127.0.0.1:8090".into()),
//!     database: payment_server::Database::parse("postgres://payments@127.0.0.1/payments"),
//!     ..Default::default()
//! };
//! payment_server::serve(options, listener).await
//! # }
//! ```

pub mod auth;
pub mod client_ip;
pub mod clock;
pub mod config;
pub mod eligibility;
pub mod error;
pub mod metrics;
mod observe;
mod pay_page;
pub mod payments;
pub mod providers;
mod routes;
mod static_files;
pub mod store;
pub mod sweeper;
pub mod views;
pub mod webhooks;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use contract::UnixSeconds;
use ipnet::IpNet;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use clock::{Clock, SystemClock};
pub use config::Config;
use config::{AlipayConfig, CmpayConfig, ConfigError, UnionpayConfig, WechatPayConfig};
use metrics::Metrics;
use providers::alipay::Alipay;
use providers::cmpay::Cmpay;
use providers::unionpay::UnionPay;
use providers::wechat_pay::WechatPay;
use providers::Providers;
pub use store::Database;
use store::Store;

/// How to run the server.
#[derive(Clone)]
pub struct ServerOptions {
    /// The database: a SQLite file (created with its schema when missing)
    /// or PostgreSQL.
    pub database: Database,
    /// Merchants and limits; the embedded sandbox default when `None`.
    pub config: Option<Config>,
    /// The sandbox's address (provider emulators, webhook receiver): the
    /// server then talks to the emulators with their test credentials and
    /// offers the demo endpoints. `None`: a live server.
    pub sandbox: Option<String>,
    /// A built page to serve at `/`, beside `/api`.
    pub static_dir: Option<PathBuf>,
    /// Where providers and browsers reach this server (notifications,
    /// authorisation callbacks); the listener's own address when `None`.
    pub public_url: Option<String>,
    /// Where the server reads the time.
    pub clock: Arc<dyn Clock>,
    /// How often the sweeper and the webhook outbox run.
    pub sweep_every: Duration,
    /// Proxies whose `X-Forwarded-For` names the shopper (a TLS
    /// terminator, a load balancer); nobody else's is believed.
    pub trusted_proxies: Vec<IpNet>,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            database: Database::Sqlite(PathBuf::from(".data/payment-selector.sqlite")),
            config: None,
            sandbox: None,
            static_dir: None,
            public_url: None,
            clock: Arc::new(SystemClock),
            sweep_every: Duration::from_secs(1),
            trusted_proxies: Vec::new(),
        }
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The database could not be opened or migrated.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// The schema migration failed.
    #[error("database migration: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// The listener or the static folder failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The metrics could not be set up.
    #[error("metrics: {0}")]
    Metrics(#[from] prometheus::Error),
}

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    config: Config,
    providers: Providers,
    clock: Arc<dyn Clock>,
    sandbox: Option<String>,
    public_url: String,
    http: reqwest::Client,
    metrics: Arc<Metrics>,
    trusted_proxies: Vec<IpNet>,
    /// Background provider calls in flight, at most.
    provider_work: Arc<Semaphore>,
    /// Webhook deliveries in flight, per endpoint.
    webhook_slots: webhooks::Slots,
}

impl AppState {
    /// The time now, by the server's clock.
    pub fn now(&self) -> UnixSeconds {
        self.inner.clock.now()
    }

    /// Where a merchant's provider notifies this server.
    pub fn notify_url(&self, merchant_id: &str, provider: &str) -> String {
        format!(
            "{}/api/notify/{provider}/{merchant_id}",
            self.inner.public_url
        )
    }

    /// Where a provider that sends the shopper back with a form POST sends
    /// them, for this server to send them on to the checkout.
    pub fn return_url(&self, merchant_id: &str, provider: &str, intent_id: &str) -> String {
        format!(
            "{}/api/return/{provider}/{merchant_id}/{intent_id}",
            self.inner.public_url
        )
    }

    /// One code for every wallet: the address its QR code holds.
    pub fn pay_url(&self, token: &str) -> String {
        format!("{}/pay/{token}", self.inner.public_url)
    }

    /// Where a provider's payer authorisation comes back to.
    pub fn oauth_url(&self, merchant_id: &str, provider: &str) -> String {
        format!(
            "{}/api/oauth/{provider}/{merchant_id}",
            self.inner.public_url
        )
    }
}

/// Opens the database and serves on `listener` until SIGTERM or Ctrl-C,
/// then finishes the requests in flight. The sweeper runs beside it.
pub async fn serve(options: ServerOptions, listener: TcpListener) -> Result<(), StartError> {
    // Heard from now on, not from when serving starts: a supervisor's
    // SIGTERM while the database opens must stop the server cleanly, not
    // kill it.
    let stop = stop_signal();
    let every = options.sweep_every;
    let (state, app) = app(options, &listener).await?;
    let sweeper = tokio::spawn(sweeper::run(state.clone(), every));
    let served = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(stop)
    .await;
    sweeper.abort();
    served?;
    Ok(())
}

/// Resolves at SIGTERM or SIGINT (Ctrl-C), whose handlers it installs at
/// once.
fn stop_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let stopped = {
        use tokio::signal::unix::{signal, SignalKind};
        let signals = signal(SignalKind::terminate()).and_then(|terminate| {
            signal(SignalKind::interrupt()).map(|interrupt| (terminate, interrupt))
        });
        async move {
            match signals {
                Ok((mut terminate, mut interrupt)) => {
                    tokio::select! {
                        _ = terminate.recv() => {}
                        _ = interrupt.recv() => {}
                    }
                }
                Err(_) => std::future::pending().await,
            }
        }
    };
    #[cfg(not(unix))]
    let stopped = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    async move {
        stopped.await;
        tracing::info!("stopping: finishing the requests in flight");
    }
}

/// The application for `listener` (`/api` and, if asked, the page) and the
/// state it shares, without the background work: tests drive the sweeper
/// themselves, or start it with [`sweeper::run`].
pub async fn app(
    options: ServerOptions,
    listener: &TcpListener,
) -> Result<(AppState, Router), StartError> {
    let sandbox = options
        .sandbox
        .as_deref()
        .map(|url| url.trim_end_matches('/').to_owned());
    let config = match (options.config, &sandbox) {
        (Some(config), _) => config,
        (None, Some(_)) => Config::embedded()?,
        (None, None) => {
            return Err(ConfigError::Invalid(
                "a live server needs its own configuration (--config)".into(),
            )
            .into())
        }
    };
    let config = match &sandbox {
        Some(sandbox) => config.with_sandbox(sandbox),
        None => {
            config.check_live()?;
            config
        }
    };
    let public_url = match options.public_url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => format!("http://{}", listener.local_addr()?),
    };
    let metrics = Arc::new(Metrics::new()?);
    let mut providers = Providers::default();
    for merchant in &config.merchants {
        let wechat = match (&merchant.wechat_pay, &sandbox) {
            (Some(account), _) => Some(account.clone()),
            (None, Some(sandbox)) => Some(sandbox_wechat_pay(sandbox)),
            (None, None) => None,
        };
        if let Some(account) = wechat {
            providers.add(
                &merchant.id,
                Arc::new(WechatPay::new(&account, options.clock.clone())?),
                metrics.clone(),
            );
        }
        let alipay = match (&merchant.alipay, &sandbox) {
            (Some(application), _) => Some(application.clone()),
            (None, Some(sandbox)) => Some(sandbox_alipay(sandbox)),
            (None, None) => None,
        };
        if let Some(application) = alipay {
            providers.add(
                &merchant.id,
                Arc::new(Alipay::new(&application, options.clock.clone())?),
                metrics.clone(),
            );
        }
        let cmpay = match (&merchant.cmpay, &sandbox) {
            (Some(account), _) => Some(account.clone()),
            (None, Some(sandbox)) => Some(sandbox_cmpay(sandbox)),
            (None, None) => None,
        };
        if let Some(account) = cmpay {
            providers.add(
                &merchant.id,
                Arc::new(Cmpay::new(&account, options.clock.clone())?),
                metrics.clone(),
            );
        }
        let unionpay = match (&merchant.unionpay, &sandbox) {
            (Some(account), _) => Some(account.clone()),
            (None, Some(sandbox)) => Some(sandbox_unionpay(sandbox)),
            (None, None) => None,
        };
        if let Some(account) = unionpay {
            // One gateway merchant, two methods: cards, and QuickPass.
            for method in [contract::MethodKind::Card, contract::MethodKind::Unionpay] {
                let adapter =
                    UnionPay::new(&account, method, sandbox.is_some(), options.clock.clone())?;
                providers.add(&merchant.id, Arc::new(adapter), metrics.clone());
            }
        }
    }
    let store = Store::open(&options.database).await?;
    let state = AppState {
        inner: Arc::new(Inner {
            store,
            config,
            providers,
            clock: options.clock,
            sandbox,
            public_url,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .map_err(std::io::Error::other)?,
            metrics,
            trusted_proxies: options.trusted_proxies,
            provider_work: Arc::new(Semaphore::new(sweeper::PROVIDER_CALLS_IN_FLIGHT)),
            webhook_slots: webhooks::Slots::default(),
        }),
    };
    let app = Router::new()
        .nest("/api", routes::router(state.clone()))
        .merge(routes::operations(state.clone()))
        .merge(routes::pay(state.clone()));
    let app = match options.static_dir {
        Some(dir) => app.merge(static_files::service(
            &dir,
            &form_targets(&state.inner.config, state.inner.sandbox.as_deref()),
        )?),
        None => app,
    };
    let app = app.layer(axum::middleware::from_fn_with_state(
        state.clone(),
        observe::observe,
    ));
    Ok((state, app))
}

/// The origins the checkout's page may send a form to: the providers'
/// gateways that take a POST form (Alipay's, UnionPay's), and the sandbox's
/// emulators in sandbox mode.
fn form_targets(config: &config::Config, sandbox: Option<&str>) -> Vec<String> {
    let gateways = config.merchants.iter().flat_map(|merchant| {
        let alipay = merchant.alipay.as_ref().map(|a| a.gateway_url.as_str());
        let unionpay = merchant.unionpay.as_ref().map(|u| u.gateway_url.as_str());
        alipay.into_iter().chain(unionpay)
    });
    let mut origins: Vec<String> = gateways
        .chain(sandbox)
        .filter_map(|address| url::Url::parse(address).ok())
        .map(|address| address.origin().ascii_serialization())
        .collect();
    origins.sort();
    origins.dedup();
    origins
}

/// The origins a phone's page for one code for every wallet may send a
/// form to: the gateways, and the wallets' payer authorisations, where the
/// page's claim is redirected (a redirect after a form is held to
/// `form-action` too).
pub(crate) fn pay_form_targets(config: &config::Config, sandbox: Option<&str>) -> Vec<String> {
    let authorisations = config.merchants.iter().flat_map(|merchant| {
        let wechat = merchant
            .wechat_pay
            .as_ref()
            .map(|w| w.open_base_url.as_str());
        let alipay = merchant.alipay.as_ref().map(|a| a.authorize_url.as_str());
        wechat.into_iter().chain(alipay)
    });
    let mut origins = form_targets(config, sandbox);
    origins.extend(
        authorisations
            .filter_map(|address| url::Url::parse(address).ok())
            .map(|address| address.origin().ascii_serialization()),
    );
    origins.sort();
    origins.dedup();
    origins
}

/// The sandbox emulator's WeChat Pay test account (the keys under
/// crates/sandbox/keys, which protect nothing).
fn sandbox_wechat_pay(sandbox: &str) -> WechatPayConfig {
    WechatPayConfig {
        mchid: "1900000001".into(),
        appid: "wx8888888888888888".into(),
        app_secret: "sandbox-app-secret".into(),
        merchant_serial: SANDBOX_MERCHANT_SERIAL.into(),
        merchant_private_key: include_str!("../../sandbox/keys/merchant_private.pem").into(),
        platform_public_key: include_str!("../../sandbox/keys/platform_public.pem").into(),
        platform_key_id: "PUB_KEY_ID_0119000000012026112300000000000001".into(),
        apiv3_key: SANDBOX_APIV3_KEY.into(),
        pay_base_url: format!("{sandbox}/wechat-pay"),
        open_base_url: format!("{sandbox}/wechat-open"),
        api_base_url: format!("{sandbox}/wechat-api"),
    }
}

/// The sandbox emulator's Alipay application (the keys under
/// crates/sandbox/keys, which protect nothing).
fn sandbox_alipay(sandbox: &str) -> AlipayConfig {
    AlipayConfig {
        app_id: "9021000142691120".into(),
        seller_id: "2088721000000001".into(),
        app_private_key: include_str!("../../sandbox/keys/alipay_app_private.pem").into(),
        alipay_public_key: include_str!("../../sandbox/keys/alipay_platform_public.pem").into(),
        gateway_url: format!("{sandbox}/alipay/gateway.do"),
        authorize_url: format!("{sandbox}/alipay/oauth2/publicAppAuthorize.htm"),
    }
}

/// The sandbox emulator's UnionPay merchant (UnionPay's published test
/// merchant number; the certificates under crates/sandbox/keys, which the
/// emulator made and which protect nothing).
fn sandbox_unionpay(sandbox: &str) -> UnionpayConfig {
    UnionpayConfig {
        mer_id: "777290058110048".into(),
        sign_key: include_str!("../../sandbox/keys/unionpay_merchant_private.pem").into(),
        sign_cert: include_str!("../../sandbox/keys/unionpay_merchant.pem").into(),
        root_cert: include_str!("../../sandbox/keys/unionpay_root.pem").into(),
        middle_cert: include_str!("../../sandbox/keys/unionpay_middle.pem").into(),
        gateway_url: format!("{sandbox}/unionpay/gateway/api"),
    }
}

/// The sandbox emulator's China Mobile Pay merchant (its key protects
/// nothing).
fn sandbox_cmpay(sandbox: &str) -> CmpayConfig {
    CmpayConfig {
        merchant_id: "888009900000001".into(),
        sign_key: SANDBOX_CMPAY_KEY.into(),
        service_url: format!("{sandbox}/cmpay/ips/cmpayService"),
    }
}

/// The sandbox's China Mobile Pay signing key.
const SANDBOX_CMPAY_KEY: &str = "sandboxCmpayKey0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLM";

/// The serial the sandbox's merchant certificate has.
const SANDBOX_MERCHANT_SERIAL: &str = "4F1C2B3A5D6E7F8091A2B3C4D5E6F708192A3B4C";

/// The sandbox account's APIv3 key.
const SANDBOX_APIV3_KEY: &str = "sandbox-apiv3-key-0123456789abcd";
