//! A reference server and the provider sandbox, both in-process on free
//! ports, on a real SQLite file (or, when `PS_TEST_POSTGRES` names a
//! PostgreSQL server, a database of its own on it), with clocks the tests
//! move together.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use contract::{
    CheckoutSession, CreatedCheckoutSession, ErrorBody, ErrorCode, IntentStatus, PaymentIntent,
};
use payment_server::clock::ManualClock;
use payment_server::{AppState, Config, Database, ServerOptions};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::conformance::check_event;
pub use crate::conformance::send;

/// The embedded demo merchant's secret key.
pub const MERCHANT_KEY: &str = "sk_test_demo_merchant";

/// The secret key of the second merchant of [`with_other_merchant`].
pub const OTHER_KEY: &str = "sk_test_other_merchant";

/// The demo configuration and a second merchant, `other`, taking WeChat
/// Pay (the sandbox's account, unless `extra` names its own), with the
/// TOML lines of `extra` added to its entry.
pub fn with_other_merchant(extra: &str) -> Config {
    let hash = payment_server::auth::key_hash(OTHER_KEY).expect("a test key");
    let text = format!(
        "{}\n[[merchants]]\nid = \"other\"\ndisplay_name = \"Other Shop\"\n\
         secret_key_hash = \"{hash}\"\nmethods = [{{ type = \"wechat_pay\" }}]\n{extra}\n",
        payment_server::config::DEFAULT_CONFIG
    );
    Config::parse(&text).expect("a valid configuration")
}

/// A `[merchants.wechat_pay]` table for the sandbox's keys under `mchid`,
/// with the pay API at `pay_base_url`.
pub fn sandbox_account(mchid: &str, pay_base_url: &str, sandbox: &str) -> String {
    let demo = payment_sandbox::WechatConfig::demo();
    format!(
        r#"
        [merchants.wechat_pay]
        mchid = "{mchid}"
        appid = "{appid}"
        app_secret = "sandbox-app-secret"
        merchant_serial = "{serial}"
        merchant_private_key = "file:{keys}/merchant_private.pem"
        platform_public_key = "file:{keys}/platform_public.pem"
        platform_key_id = "{key_id}"
        apiv3_key = "{apiv3}"
        pay_base_url = "{pay_base_url}"
        open_base_url = "{sandbox}/wechat-open"
        api_base_url = "{sandbox}/wechat-api"
        "#,
        appid = demo.appid,
        serial = demo.merchant_serial,
        key_id = demo.platform_key_id,
        apiv3 = demo.apiv3_key,
        keys = concat!(env!("CARGO_MANIFEST_DIR"), "/../sandbox/keys"),
    )
}

/// A listener that takes connections and never answers: a host that
/// hangs. Its address, and the task that holds the connections.
pub async fn black_hole() -> (String, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    let address = format!("http://{}", listener.local_addr().expect("an address"));
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((connection, _)) = listener.accept().await {
            held.push(connection);
        }
    });
    (address, task)
}

/// A desktop browser's context for a create.
pub fn desktop() -> Value {
    json!({"device": "desktop"})
}

/// A phone browser's.
pub fn phone() -> Value {
    json!({"device": "mobile"})
}

/// WeChat's own browser's.
pub fn in_wechat() -> Value {
    json!({"device": "mobile", "in_app": "wechat"})
}

/// Alipay's own browser's.
pub fn in_alipay() -> Value {
    json!({"device": "mobile", "in_app": "alipay"})
}

/// UnionPay QuickPass's own browser's (or a bank app's that embeds it).
pub fn in_quickpass() -> Value {
    json!({"device": "mobile", "in_app": "quickpass"})
}

/// The sandbox (emulators, webhook receiver) and a server that uses it.
pub struct World {
    /// Holds the SQLite file until the world ends (the first server's).
    _folder: Option<tempfile::TempDir>,
    /// Where the server keeps everything.
    pub database: Database,
    pub sandbox: String,
    /// The sandbox's, on the world that started it.
    sandbox_task: Option<JoinHandle<()>>,
    sandbox_clock: payment_sandbox::Clock,
    pub clock: ManualClock,
    pub state: AppState,
    pub base: String,
    server: JoinHandle<()>,
    trusted_proxies: Vec<ipnet::IpNet>,
    config: Option<Config>,
    pub http: reqwest::Client,
}

impl World {
    /// A fresh world with the embedded demo configuration.
    pub async fn start() -> World {
        World::with_config(None).await
    }

    /// A fresh world with this configuration.
    pub async fn with_config(config: Option<Config>) -> World {
        World::with_options(config, Vec::new()).await
    }

    /// A fresh world whose server believes these proxies' X-Forwarded-For.
    pub async fn behind(trusted_proxies: Vec<ipnet::IpNet>) -> World {
        World::with_options(None, trusted_proxies).await
    }

    /// A world whose database was made by the first migration alone, with
    /// `old_rows` in it: the server upgrades it as it opens it.
    pub async fn upgrading(old_rows: &str) -> World {
        let folder = tempfile::tempdir().expect("a temporary folder");
        let database = fresh_database(&folder).await;
        let first = tempfile::tempdir().expect("a temporary folder");
        let migrations = match database {
            Database::Sqlite(_) => concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite"),
            Database::Postgres(_) => concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres"),
        };
        std::fs::copy(
            format!("{migrations}/0001_init.sql"),
            first.path().join("0001_init.sql"),
        )
        .expect("the first migration");
        let pool = inspect(&database).await;
        sqlx::migrate::Migrator::new(first.path())
            .await
            .expect("a migrator")
            .run(&pool)
            .await
            .expect("the first migration runs");
        sqlx::raw_sql(old_rows)
            .execute(&pool)
            .await
            .expect("the old rows");
        pool.close().await;
        World::in_folder(folder, database, None, Vec::new()).await
    }

    async fn with_options(config: Option<Config>, trusted_proxies: Vec<ipnet::IpNet>) -> World {
        let folder = tempfile::tempdir().expect("a temporary folder");
        let database = fresh_database(&folder).await;
        World::in_folder(folder, database, config, trusted_proxies).await
    }

    async fn in_folder(
        folder: tempfile::TempDir,
        database: Database,
        config: Option<Config>,
        trusted_proxies: Vec<ipnet::IpNet>,
    ) -> World {
        let sandbox_clock = payment_sandbox::Clock::system();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let sandbox = payment_sandbox::public_url(listener.local_addr().expect("its address"));
        let app = payment_sandbox::app_with_clock(
            payment_sandbox::SandboxConfig::demo(),
            sandbox.clone(),
            sandbox_clock.clone(),
        );
        let sandbox_task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let clock = ManualClock::starting_now();
        let (state, base, server) = start_server(
            &database,
            &sandbox,
            &clock,
            config.clone(),
            trusted_proxies.clone(),
        )
        .await;
        World {
            _folder: Some(folder),
            database,
            sandbox,
            sandbox_task: Some(sandbox_task),
            sandbox_clock,
            clock,
            state,
            base,
            server,
            trusted_proxies,
            config,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("an HTTP client"),
        }
    }

    /// Moves time on, for the server and the sandbox alike.
    pub fn advance(&self, seconds: i64) {
        self.clock.advance(seconds);
        self.sandbox_clock
            .advance(Duration::from_secs(seconds.max(0) as u64));
    }

    /// Moves time on to the next `hour`:00 in Beijing (UTC+8), for what
    /// depends on the time of day there, such as UnionPay's settlement day.
    pub fn advance_to_beijing_hour(&self, hour: i64) {
        use payment_server::clock::Clock;
        const DAY: i64 = 24 * 60 * 60;
        let beijing_seconds_into_day = (self.clock.now() + 8 * 60 * 60).rem_euclid(DAY);
        let wanted = hour * 60 * 60;
        self.advance((wanted - beijing_seconds_into_day).rem_euclid(DAY));
    }

    /// One pass of the server's background work (expiry, queries, the
    /// provider outbox, webhooks).
    pub async fn sweep(&self) {
        payment_server::sweeper::pass(&self.state).await;
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// An address beside `/api`, such as `/metrics`.
    pub fn root_url(&self, path: &str) -> String {
        format!("{}{path}", self.base.trim_end_matches("/api"))
    }

    /// The database, for what only the database can show (queries with
    /// `$1` placeholders, which both backends read).
    pub async fn database(&self) -> sqlx::AnyPool {
        inspect(&self.database).await
    }

    pub async fn create_session(&self, body: Value) -> reqwest::Response {
        self.create_session_as(MERCHANT_KEY, body).await
    }

    pub async fn create_session_as(&self, key: &str, body: Value) -> reqwest::Response {
        send(
            self.http
                .post(self.url("/checkout-sessions"))
                .bearer_auth(key)
                .json(&body),
        )
        .await
    }

    /// A ¥128.00 session, as a merchant's server opens it.
    pub async fn session(&self) -> CreatedCheckoutSession {
        self.session_of(MERCHANT_KEY).await
    }

    /// A ¥128.00 session of the merchant whose secret key this is.
    pub async fn session_of(&self, key: &str) -> CreatedCheckoutSession {
        let response = self.create_session_as(key, order(12800)).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json().await.expect("a session")
    }

    /// The session as the component reads it for a shopper in `client`'s
    /// context (`device`, `in_app`), with the client secret.
    pub async fn session_in(
        &self,
        created: &CreatedCheckoutSession,
        client: &Value,
    ) -> CheckoutSession {
        let context: Vec<(&str, &str)> = ["device", "in_app"]
            .into_iter()
            .filter_map(|name| Some((name, client[name].as_str()?)))
            .collect();
        let response = send(
            self.http
                .get(self.url(&format!("/checkout-sessions/{}", created.session.id)))
                .query(&context)
                .bearer_auth(&created.client_secret),
        )
        .await;
        assert_eq!(response.status(), StatusCode::OK, "{client}");
        response.json().await.expect("a session")
    }

    /// A request with a merchant's secret key, checked against the
    /// contract.
    pub async fn as_merchant(
        &self,
        key: &str,
        method: reqwest::Method,
        path: &str,
    ) -> reqwest::Response {
        send(self.http.request(method, self.url(path)).bearer_auth(key)).await
    }

    /// Asks for a refund as the demo merchant.
    pub async fn refund(&self, intent_id: &str, key: &str, body: Value) -> reqwest::Response {
        send(
            self.http
                .post(self.url(&format!("/intents/{intent_id}/refunds")))
                .bearer_auth(MERCHANT_KEY)
                .header("Idempotency-Key", key)
                .json(&body),
        )
        .await
    }

    /// The server's background work, running as `serve` runs it, until
    /// the handle is dropped.
    pub fn background(&self, every: Duration) -> Background {
        Background(tokio::spawn(payment_server::sweeper::run(
            self.state.clone(),
            every,
        )))
    }

    /// Two codes of one session paid at once: the first (made here) held
    /// at the phone's confirmation while the shopper opens a second through
    /// `second_tab`'s server (WeChat Pay closes the first, but its
    /// `pay_after_close` fault lets the held phone pay anyway), then both
    /// paid together. Reads both until one has succeeded and the other has
    /// been given back, or 10 s have gone: the two as they stand then.
    pub async fn two_codes_paid_at_once(
        &self,
        created: &CreatedCheckoutSession,
        second_tab: &World,
    ) -> (PaymentIntent, PaymentIntent) {
        self.control(json!({"pay_after_close": true})).await;
        let first = self.qr_intent(created, "tab-1").await;
        assert!(self
            .scan(&code_of(&first), "hold")
            .await
            .status()
            .is_success());
        let second = second_tab.qr_intent(created, "tab-2").await;
        let (first_code, second_code) = (code_of(&first), code_of(&second));
        let (late, paid) = tokio::join!(
            self.scan(&first_code, "pay"),
            self.scan(&second_code, "pay")
        );
        assert!(late.status().is_success() && paid.status().is_success());
        let (mut first, mut second) = (first, second);
        for _ in 0..200 {
            first = self.read_intent(created, &first.id).await;
            second = second_tab.read_intent(created, &second.id).await;
            let mut statuses = [first.status, second.status];
            statuses.sort_by_key(|status| status.as_str());
            if statuses == [IntentStatus::Refunded, IntentStatus::Succeeded] {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        (first, second)
    }

    /// A second server on this world's database, with its sandbox, clocks
    /// and configuration, as a merchant runs several behind a load
    /// balancer: the world's helpers on it speak to that server (and
    /// providers notify the server that made the order).
    pub async fn another_server(&self) -> World {
        let (state, base, server) = start_server(
            &self.database,
            &self.sandbox,
            &self.clock,
            self.config.clone(),
            self.trusted_proxies.clone(),
        )
        .await;
        World {
            _folder: None,
            database: self.database.clone(),
            sandbox: self.sandbox.clone(),
            sandbox_task: None,
            sandbox_clock: self.sandbox_clock.clone(),
            clock: self.clock.clone(),
            state,
            base,
            server,
            trusted_proxies: self.trusted_proxies.clone(),
            config: self.config.clone(),
            http: self.http.clone(),
        }
    }

    /// Stops the server and starts another on the same database (and the
    /// same sandbox) with `config`.
    pub async fn restart_with(&mut self, config: Option<Config>) {
        self.server.abort();
        let (state, base, server) = start_server(
            &self.database,
            &self.sandbox,
            &self.clock,
            config.clone(),
            self.trusted_proxies.clone(),
        )
        .await;
        self.config = config;
        self.state = state;
        self.base = base;
        self.server = server;
    }

    pub async fn create_intent(
        &self,
        created: &CreatedCheckoutSession,
        key: Option<&str>,
        body: Value,
    ) -> reqwest::Response {
        let mut request = self
            .http
            .post(self.url(&format!(
                "/checkout-sessions/{}/intents",
                created.session.id
            )))
            .bearer_auth(&created.client_secret)
            .json(&body);
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        send(request).await
    }

    /// A WeChat Pay intent for `client`, which the server must create.
    pub async fn intent_for(
        &self,
        created: &CreatedCheckoutSession,
        key: &str,
        client: Value,
    ) -> PaymentIntent {
        self.intent_with(created, key, "wechat_pay", client).await
    }

    /// An intent of `method` for `client`, which the server must create.
    pub async fn intent_with(
        &self,
        created: &CreatedCheckoutSession,
        key: &str,
        method: &str,
        client: Value,
    ) -> PaymentIntent {
        let body = json!({"method": method, "client": client});
        let response = self.create_intent(created, Some(key), body).await;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        assert!(status.is_success(), "{status}: {text}");
        serde_json::from_str(&text).expect("an intent")
    }

    /// A desktop WeChat Pay intent (a QR code).
    pub async fn qr_intent(&self, created: &CreatedCheckoutSession, key: &str) -> PaymentIntent {
        self.intent_for(created, key, desktop()).await
    }

    pub async fn read_intent(&self, created: &CreatedCheckoutSession, id: &str) -> PaymentIntent {
        self.read_intent_asking(created, id, false).await
    }

    pub async fn read_intent_asking(
        &self,
        created: &CreatedCheckoutSession,
        id: &str,
        refresh: bool,
    ) -> PaymentIntent {
        let query = if refresh { "?refresh=true" } else { "" };
        let response = send(
            self.http
                .get(self.url(&format!("/intents/{id}{query}")))
                .bearer_auth(&created.client_secret),
        )
        .await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.expect("an intent")
    }

    pub async fn cancel(&self, created: &CreatedCheckoutSession, id: &str) -> reqwest::Response {
        send(
            self.http
                .post(self.url(&format!("/intents/{id}/cancel")))
                .bearer_auth(&created.client_secret),
        )
        .await
    }

    /// Follows a wallet's silent authorisation for an in-app intent, as the
    /// app's browser would: to the wallet (at a URL starting with `at`),
    /// back to the server (at `callback`, under `/api`), back to the shop.
    /// The wallet's URL.
    pub async fn authorise(&self, intent: &PaymentIntent, at: &str, callback: &str) -> String {
        let Some(contract::NextAction::Redirect {
            url,
            method: contract::FormMethod::Get,
            ..
        }) = &intent.next_action
        else {
            panic!("not sent to the wallet's authorisation: {intent:?}");
        };
        assert!(url.starts_with(at), "{url}");
        let at_wallet = self.http.get(url).send().await.expect("the wallet answers");
        assert_eq!(at_wallet.status(), StatusCode::FOUND);
        let back = at_wallet.headers()["location"]
            .to_str()
            .expect("a location")
            .to_owned();
        assert!(back.starts_with(&self.url(callback)), "{back}");
        let at_server = send(self.http.get(&back)).await;
        assert_eq!(at_server.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            at_server.headers()["location"],
            format!("https://shop.example/thanks?payment_intent={}", intent.id).as_str()
        );
        url.clone()
    }

    /// Reads a session or intent as its merchant does.
    pub async fn merchant_get(&self, path: &str) -> Value {
        let response = send(self.http.get(self.url(path)).bearer_auth(MERCHANT_KEY)).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        response.json().await.expect("JSON")
    }

    /// The shopper's phone scans a code at the sandbox: `pay`, `decline`
    /// or `hold` (scanned, still confirming).
    pub async fn scan(&self, code_url: &str, outcome: &str) -> reqwest::Response {
        self.http
            .post(format!("{}/phone/scan", self.sandbox))
            .json(&json!({"code_url": code_url, "outcome": outcome}))
            .send()
            .await
            .expect("the sandbox answers")
    }

    /// The shopper's phone scans an Alipay code: `pay`, `decline`, or
    /// `scan` (scanned, still confirming).
    pub async fn alipay_scan(&self, qr_code: &str, outcome: &str) -> reqwest::Response {
        self.http
            .post(format!("{}/alipay/phone/scan", self.sandbox))
            .json(&json!({"qr_code": qr_code, "outcome": outcome}))
            .send()
            .await
            .expect("the sandbox answers")
    }

    /// The Alipay app's `tradePay` for `trade_no`: `pay`, `decline` or
    /// `cancel`; the `resultCode` the page's callback gets.
    pub async fn alipay_trade_pay(&self, trade_no: &str, outcome: &str) -> String {
        let answer: Value = self
            .http
            .post(format!("{}/alipay/phone/trade-pay", self.sandbox))
            .json(&json!({"trade_no": trade_no, "outcome": outcome}))
            .send()
            .await
            .expect("the sandbox answers")
            .json()
            .await
            .expect("the bridge's answer");
        answer["resultCode"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| answer["resultCode"].to_string())
    }

    /// Changes the Alipay emulator's behaviour.
    pub async fn alipay_control(&self, control: Value) {
        let response = self
            .http
            .post(format!("{}/alipay/control", self.sandbox))
            .json(&control)
            .send()
            .await
            .expect("the sandbox answers");
        assert!(response.status().is_success());
    }

    /// The shopper's statement on the emulator's phone page.
    pub async fn phone_statement(&self) -> String {
        self.sandbox_page("/phone").await
    }

    /// A page of the sandbox, such as a wallet's statement
    /// (`/alipay/phone`).
    pub async fn sandbox_page(&self, path: &str) -> String {
        self.http
            .get(format!("{}{path}", self.sandbox))
            .send()
            .await
            .expect("the sandbox answers")
            .text()
            .await
            .expect("a page")
    }

    /// Changes the WeChat Pay emulator's behaviour.
    pub async fn control(&self, control: Value) {
        let response = self
            .http
            .post(format!("{}/control", self.sandbox))
            .json(&control)
            .send()
            .await
            .expect("the sandbox answers");
        assert!(response.status().is_success());
    }

    /// The webhook receiver up or down.
    pub async fn receiver_down(&self, down: bool) {
        let response = self
            .http
            .post(format!("{}/webhooks/control", self.sandbox))
            .json(&json!({"down": down}))
            .send()
            .await
            .expect("the sandbox answers");
        assert!(response.status().is_success());
    }

    /// The webhook receiver holding every request unanswered (`true`), or
    /// answering again.
    pub async fn receiver_hanging(&self, hanging: bool) {
        let response = self
            .http
            .post(format!("{}/webhooks/control", self.sandbox))
            .json(&json!({"down": false, "hanging": hanging}))
            .send()
            .await
            .expect("the sandbox answers");
        assert!(response.status().is_success());
    }

    /// How many requests the hanging receiver holds now.
    pub async fn receiver_holds(&self) -> u64 {
        let control: Value = self
            .http
            .get(format!("{}/webhooks/control", self.sandbox))
            .send()
            .await
            .expect("the sandbox answers")
            .json()
            .await
            .expect("its control");
        control["held"].as_u64().unwrap_or(0)
    }

    /// The events the webhook receiver has accepted, in arrival order, each
    /// checked against the contract's webhooks.
    pub async fn received_events(&self) -> Vec<Value> {
        let events: Vec<Value> = self
            .http
            .get(format!("{}/webhooks", self.sandbox))
            .send()
            .await
            .expect("the sandbox answers")
            .json()
            .await
            .expect("a list");
        events.iter().for_each(check_event);
        events
    }

    /// Sweeps until the receiver has `count` events (the notifications and
    /// deliveries run in the background).
    pub async fn events_after_sweeps(&self, count: usize) -> Vec<Value> {
        for _ in 0..100 {
            self.sweep().await;
            let events = self.received_events().await;
            if events.len() >= count {
                return events;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.received_events().await
    }

    /// A ¥128.00 session paid with a QR code, once the server knows.
    pub async fn paid(&self, key: &str) -> (CreatedCheckoutSession, PaymentIntent) {
        let created = self.session_of(key).await;
        let intent = self.qr_intent(&created, "pay").await;
        assert!(self
            .scan(&code_of(&intent), "pay")
            .await
            .status()
            .is_success());
        let paid = self.settled(&created, &intent.id).await;
        assert_eq!(paid.status, contract::IntentStatus::Succeeded);
        (created, paid)
    }

    /// Reads the intent until it stops requiring action (the emulator's
    /// notification arrives in the background).
    pub async fn settled(&self, created: &CreatedCheckoutSession, id: &str) -> PaymentIntent {
        for _ in 0..100 {
            let intent = self.read_intent(created, id).await;
            if !intent.status.is_open() {
                return intent;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.read_intent(created, id).await
    }
}

/// Background work that stops when dropped.
pub struct Background(JoinHandle<()>);

impl Drop for Background {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Drop for World {
    fn drop(&mut self) {
        self.server.abort();
        if let Some(sandbox) = &self.sandbox_task {
            sandbox.abort();
        }
    }
}

async fn start_server(
    database: &Database,
    sandbox: &str,
    clock: &ManualClock,
    config: Option<Config>,
    trusted_proxies: Vec<ipnet::IpNet>,
) -> (AppState, String, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    let base = format!("http://{}/api", listener.local_addr().expect("an address"));
    let options = ServerOptions {
        database: database.clone(),
        config,
        sandbox: Some(sandbox.to_owned()),
        clock: Arc::new(clock.clone()),
        trusted_proxies,
        ..ServerOptions::default()
    };
    let (state, app) = payment_server::app(options, &listener)
        .await
        .expect("the server starts");
    let task = tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });
    (state, base, task)
}

/// A new, empty database for one server (or for several that share it):
/// a SQLite file in `folder`, or a database of its own on the PostgreSQL
/// server that `PS_TEST_POSTGRES` names (its URL, with a user that may
/// create databases).
pub async fn fresh_database(folder: &tempfile::TempDir) -> Database {
    let Ok(admin) = std::env::var("PS_TEST_POSTGRES") else {
        return Database::Sqlite(folder.path().join("server.sqlite"));
    };
    use sqlx::Connection;
    let name = payment_server::auth::random_id("test").to_ascii_lowercase();
    let mut connection = sqlx::PgConnection::connect(&admin)
        .await
        .expect("PS_TEST_POSTGRES answers");
    sqlx::raw_sql(&format!("CREATE DATABASE \"{name}\""))
        .execute(&mut connection)
        .await
        .expect("a test database");
    let _ = connection.close().await;
    let mut url = url::Url::parse(&admin).expect("PS_TEST_POSTGRES is a URL");
    url.set_path(&name);
    Database::Postgres(url.to_string())
}

/// How the server's line naming its address begins.
const LISTENING: &str = "payment-server listening on http://";

/// The real `payment-server` binary in sandbox mode on a port the system
/// chose (asking for port 0 leaves no gap in which another socket could
/// take a port picked beforehand); the address comes from its first line.
pub async fn spawn_binary(sandbox: &str, database: &Database) -> (Child, String) {
    let (child, base, _logs) = spawn_binary_with(&[], sandbox, database).await;
    (child, base)
}

/// [`spawn_binary`] with `options` before `serve` (`--log-format json`),
/// and the lines it writes after the one naming its address, until it ends.
pub async fn spawn_binary_with(
    options: &[&str],
    sandbox: &str,
    database: &Database,
) -> (Child, String, std::sync::mpsc::Receiver<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_payment-server"))
        .args(options)
        .args(["serve", "--sandbox", sandbox, "--addr", "127.0.0.1:0"])
        .arg("--database")
        .arg(database_arg(database))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the server binary starts");
    let stdout = child.stdout.take().expect("a piped stdout");
    let stderr = child.stderr.take().expect("a piped stderr");
    let (said, line) = tokio::sync::oneshot::channel();
    let (logged, logs) = std::sync::mpsc::channel();
    // Finds the listening line, then keeps reading what follows so that
    // the server never writes into a full or closed pipe.
    std::thread::spawn(move || {
        use std::io::BufRead;
        let mut lines = std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok);
        let listening = lines.find(|line| line.starts_with(LISTENING));
        let _ = said.send(listening);
        for line in lines {
            let _ = logged.send(line);
        }
    });
    let errors = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap_or_default());
    let listening = tokio::time::timeout(Duration::from_secs(60), line)
        .await
        .ok()
        .and_then(Result::ok)
        .flatten();
    let addr = listening.as_deref().and_then(|line| {
        let rest = line.strip_prefix(LISTENING)?;
        rest.split_whitespace().next()
    });
    match addr {
        Some(addr) => {
            let base = format!("http://{addr}/api");
            (child, base, logs)
        }
        None => {
            let _ = child.kill();
            let _ = child.wait();
            let errors = errors.join().unwrap_or_default();
            panic!("the server binary did not say where it listens ({listening:?}): {errors}");
        }
    }
}

/// A server process, killed when the test ends however it ends (or when
/// dropped).
pub struct Process(pub Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `database` as `payment-server serve --database` takes it.
pub fn database_arg(database: &Database) -> String {
    match database {
        Database::Sqlite(path) => path.display().to_string(),
        Database::Postgres(url) => url.clone(),
    }
}

/// A pool on `database` for reading what only the database can show.
pub async fn inspect(database: &Database) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    let url = match database {
        Database::Sqlite(path) => format!("sqlite://{}?mode=rwc", path.display()),
        Database::Postgres(url) => url.clone(),
    };
    sqlx::AnyPool::connect(&url)
        .await
        .expect("the database opens")
}

/// A merchant's order of `value` fen.
pub fn order(value: i64) -> Value {
    json!({
        "amount": {"value": value, "currency": "CNY"},
        "reference": "order-42",
        "return_url": "https://shop.example/thanks",
    })
}

/// The status and code of an error answer.
pub async fn error_of(response: reqwest::Response) -> (StatusCode, ErrorCode) {
    let status = response.status();
    let body: ErrorBody = response.json().await.expect("an error body");
    (status, body.code)
}

/// The code of a QR intent.
pub fn code_of(intent: &PaymentIntent) -> String {
    match &intent.next_action {
        Some(contract::NextAction::DisplayQrCode { payload, .. }) => payload.clone(),
        other => panic!("no QR code: {other:?}"),
    }
}
