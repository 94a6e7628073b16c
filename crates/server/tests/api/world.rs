//! A reference server and the provider sandbox, both in-process on free
//! ports, on a real SQLite file, with clocks the tests move together.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use contract::{CreatedCheckoutSession, ErrorBody, ErrorCode, PaymentIntent};
use payment_server::clock::ManualClock;
use payment_server::{AppState, Config, ServerOptions};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::conformance::check_event;
pub use crate::conformance::send;

/// The embedded demo merchant's secret key.
pub const MERCHANT_KEY: &str = "sk_test_demo_merchant";

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

/// The sandbox (emulators, webhook receiver) and a server that uses it.
pub struct World {
    pub folder: tempfile::TempDir,
    pub sandbox: String,
    sandbox_task: JoinHandle<()>,
    sandbox_clock: payment_sandbox::Clock,
    pub clock: ManualClock,
    pub state: AppState,
    pub base: String,
    server: JoinHandle<()>,
    pub http: reqwest::Client,
}

impl World {
    /// A fresh world with the embedded demo configuration.
    pub async fn start() -> World {
        World::with_config(None).await
    }

    /// A fresh world with this configuration.
    pub async fn with_config(config: Option<Config>) -> World {
        let folder = tempfile::tempdir().expect("a temporary folder");
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
        let (state, base, server) = start_server(&folder, &sandbox, &clock, config).await;
        World {
            folder,
            sandbox,
            sandbox_task,
            sandbox_clock,
            clock,
            state,
            base,
            server,
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

    /// One pass of the server's background work (expiry, queries, the
    /// provider outbox, webhooks).
    pub async fn sweep(&self) {
        payment_server::sweeper::pass(&self.state).await;
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The database, for what only the database can show.
    pub async fn database(&self) -> sqlx::SqlitePool {
        sqlx::SqlitePool::connect(&format!("sqlite://{}", database_in(&self.folder).display()))
            .await
            .expect("the database file opens")
    }

    pub async fn create_session(&self, body: Value) -> reqwest::Response {
        send(
            self.http
                .post(self.url("/checkout-sessions"))
                .bearer_auth(MERCHANT_KEY)
                .json(&body),
        )
        .await
    }

    /// A ¥128.00 session, as a merchant's server opens it.
    pub async fn session(&self) -> CreatedCheckoutSession {
        let response = self.create_session(order(12800)).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json().await.expect("a session")
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
        let body = json!({"method": "wechat_pay", "client": client});
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

    /// The shopper's statement on the emulator's phone page.
    pub async fn phone_statement(&self) -> String {
        self.http
            .get(format!("{}/phone", self.sandbox))
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

impl Drop for World {
    fn drop(&mut self) {
        self.server.abort();
        self.sandbox_task.abort();
    }
}

async fn start_server(
    folder: &tempfile::TempDir,
    sandbox: &str,
    clock: &ManualClock,
    config: Option<Config>,
) -> (AppState, String, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    let base = format!("http://{}/api", listener.local_addr().expect("an address"));
    let options = ServerOptions {
        database: database_in(folder),
        config,
        sandbox: Some(sandbox.to_owned()),
        clock: Arc::new(clock.clone()),
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

pub fn database_in(folder: &tempfile::TempDir) -> PathBuf {
    folder.path().join("server.sqlite")
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
