//! The reference backend for payment-selector's HTTP contract
//! ([`contract`]): checkout sessions, payment intents with idempotency,
//! provider notifications, and a sandbox that plays WeChat Pay, on SQLite.
//!
//! Start it in-process (as the tests do) with [`serve`]:
//!
//! ```no_run
//! # async fn run() -> Result<(), payment_server::StartError> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let options = payment_server::ServerOptions { sandbox: true, ..Default::default() };
//! payment_server::serve(options, listener).await
//! # }
//! ```

pub mod auth;
pub mod config;
pub mod eligibility;
pub mod error;
pub mod providers;
mod routes;
mod static_files;
pub mod store;

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use rand::RngCore;
use tokio::net::TcpListener;

pub use config::Config;
use providers::{Providers, WechatPaySandbox};
use store::Store;

/// How to run the server.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// The SQLite file; created with its schema when missing.
    pub database: PathBuf,
    /// Merchants and limits; the embedded default when `None`.
    pub config: Option<Config>,
    /// Enables the demo-session endpoint and the provider sandbox.
    pub sandbox: bool,
    /// A built page (trunk's `dist/`) to serve at `/`, beside `/api`.
    pub static_dir: Option<PathBuf>,
    /// The key the WeChat Pay sandbox signs its notifications with, as a
    /// merchant's API key would be configured; a fresh random key when
    /// `None`.
    pub wechat_sandbox_key: Option<Vec<u8>>,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            database: PathBuf::from(".data/payment-selector.sqlite"),
            config: None,
            sandbox: false,
            static_dir: None,
            wechat_sandbox_key: None,
        }
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    /// The database could not be opened or migrated.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// The listener or the static folder failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
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
    wechat: Arc<WechatPaySandbox>,
    sandbox: bool,
    /// This server's own address, for the sandbox's notifications.
    own_url: String,
    http: reqwest::Client,
}

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs() as i64)
        .unwrap_or(0)
}

/// Opens the database, seeds the merchants and serves on `listener` until
/// the task is dropped.
pub async fn serve(options: ServerOptions, listener: TcpListener) -> Result<(), StartError> {
    let app = app(options, &listener).await?;
    axum::serve(listener, app).await?;
    Ok(())
}

/// The whole application for `listener`: `/api` and, if asked, the page.
pub async fn app(options: ServerOptions, listener: &TcpListener) -> Result<Router, StartError> {
    let config = match options.config {
        Some(config) => config,
        None => Config::embedded()?,
    };
    let store = Store::open(&options.database).await?;
    store.seed_merchants(&config).await?;
    let key = options.wechat_sandbox_key.unwrap_or_else(|| {
        let mut key = vec![0u8; 32];
        rand::thread_rng().fill_bytes(&mut key);
        key
    });
    let wechat = Arc::new(WechatPaySandbox::new(store.clone(), key));
    // Only the sandbox plays WeChat Pay for now: a live server offers no
    // method it cannot really take, so its WeChat Pay shows as not enabled.
    let providers = if options.sandbox {
        Providers::new(vec![wechat.clone()])
    } else {
        Providers::default()
    };
    let own_url = format!("http://{}", listener.local_addr()?);
    let state = AppState {
        inner: Arc::new(Inner {
            store,
            config,
            providers,
            wechat,
            sandbox: options.sandbox,
            own_url,
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(10))
                .build()
                .map_err(std::io::Error::other)?,
        }),
    };
    // JSON answers are compressed when the client asks (the static files
    // come precompressed).
    let api = routes::router(state).layer(tower_http::compression::CompressionLayer::new());
    let app = Router::new().nest("/api", api);
    Ok(match options.static_dir {
        Some(dir) => app.merge(static_files::service(&dir)?),
        None => app,
    })
}
