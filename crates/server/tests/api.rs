//! The HTTP contract, over real HTTP, against a server on a real SQLite file.

use std::path::PathBuf;

use contract::{
    Availability, CheckoutSession, CreatedCheckoutSession, Currency, DemoSession, ErrorBody,
    ErrorCode, Flow, IntentStatus, MethodKind, Money, NextAction, PaymentIntent, UnavailableReason,
};
use payment_server::providers::{sign_notification, WECHAT_NOTIFY_PATH};
use payment_server::ServerOptions;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

const MERCHANT_KEY: &str = "sk_test_demo_merchant";
const SANDBOX_KEY: &[u8] = b"integration-test-notification-key";

/// A reference server on a free port, with its SQLite file in a temporary
/// folder that outlives restarts.
struct Server {
    folder: tempfile::TempDir,
    base: String,
    task: JoinHandle<()>,
    http: reqwest::Client,
}

impl Server {
    async fn start() -> Server {
        Server::start_in(tempfile::tempdir().expect("temporary folder"), true).await
    }

    async fn start_in(folder: tempfile::TempDir, sandbox: bool) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("free port");
        let base = format!("http://{}/api", listener.local_addr().expect("address"));
        let options = ServerOptions {
            database: database_in(&folder),
            sandbox,
            wechat_sandbox_key: Some(SANDBOX_KEY.to_vec()),
            ..ServerOptions::default()
        };
        let app = payment_server::app(options, &listener)
            .await
            .expect("the server starts");
        let task = tokio::spawn(async move {
            axum_serve(listener, app).await;
        });
        Server {
            folder,
            base,
            task,
            http: reqwest::Client::new(),
        }
    }

    /// Stops this server and starts another on the same database file.
    async fn restart(self) -> Server {
        self.task.abort();
        let _ = self.task.await;
        Server::start_in(self.folder, true).await
    }

    async fn database(&self) -> sqlx::SqlitePool {
        sqlx::SqlitePool::connect(&format!("sqlite://{}", database_in(&self.folder).display()))
            .await
            .expect("the database file opens")
    }

    /// Moves a session's or an intent's `expires_at`, as time passing would.
    async fn expire(&self, table: &str, id: &str, at: i64) {
        sqlx::query(&format!("UPDATE {table} SET expires_at = ? WHERE id = ?"))
            .bind(at)
            .bind(id)
            .execute(&self.database().await)
            .await
            .expect("the time limit moved");
    }

    /// How the server refuses a new WeChat Pay intent with `key`.
    async fn intent_refusal(
        &self,
        created: &CreatedCheckoutSession,
        key: &str,
    ) -> (StatusCode, ErrorCode) {
        error_of(
            self.create_intent(created, Some(key), wechat_desktop())
                .await,
        )
        .await
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn create_session(&self, body: Value) -> reqwest::Response {
        self.http
            .post(self.url("/checkout-sessions"))
            .bearer_auth(MERCHANT_KEY)
            .json(&body)
            .send()
            .await
            .expect("request sent")
    }

    /// A ¥128.00 session, as a merchant's server would open it.
    async fn session(&self) -> CreatedCheckoutSession {
        let response = self.create_session(order(12800)).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json().await.expect("a session")
    }

    async fn read_session(&self, created: &CreatedCheckoutSession, query: &str) -> CheckoutSession {
        let response = self
            .http
            .get(self.url(&format!("/checkout-sessions/{}{query}", created.session.id)))
            .bearer_auth(&created.client_secret)
            .send()
            .await
            .expect("request sent");
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.expect("a session")
    }

    async fn create_intent(
        &self,
        created: &CreatedCheckoutSession,
        key: Option<&str>,
        body: Value,
    ) -> reqwest::Response {
        self.intent_request(created, key, body)
            .send()
            .await
            .expect("request sent")
    }

    fn intent_request(
        &self,
        created: &CreatedCheckoutSession,
        key: Option<&str>,
        body: Value,
    ) -> reqwest::RequestBuilder {
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
        request
    }

    /// A WeChat Pay intent for a desktop shopper, with its code.
    async fn wechat_intent(
        &self,
        created: &CreatedCheckoutSession,
        key: &str,
    ) -> (PaymentIntent, String) {
        let response = self
            .create_intent(created, Some(key), wechat_desktop())
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let intent: PaymentIntent = response.json().await.expect("an intent");
        let code = match &intent.next_action {
            Some(NextAction::DisplayQrCode { payload, .. }) => payload.clone(),
            other => panic!("a QR code to scan, not {other:?}"),
        };
        (intent, code)
    }

    async fn read_intent(&self, created: &CreatedCheckoutSession, id: &str) -> PaymentIntent {
        let response = self
            .http
            .get(self.url(&format!("/intents/{id}")))
            .bearer_auth(&created.client_secret)
            .send()
            .await
            .expect("request sent");
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.expect("an intent")
    }

    async fn cancel(&self, created: &CreatedCheckoutSession, id: &str) -> reqwest::Response {
        self.http
            .post(self.url(&format!("/intents/{id}/cancel")))
            .bearer_auth(&created.client_secret)
            .send()
            .await
            .expect("request sent")
    }

    async fn scan(&self, code: &str) -> reqwest::Response {
        self.http
            .post(self.url("/sandbox/wechat-pay/scan"))
            .json(&json!({ "code_url": code }))
            .send()
            .await
            .expect("request sent")
    }

    /// Delivers a WeChat Pay notification, signed as `key` would sign it.
    async fn notify(&self, body: &str, key: &[u8], timestamp: i64) -> reqwest::Response {
        let timestamp = timestamp.to_string();
        let nonce = "nonce-1";
        let signature = sign_notification(key, &timestamp, nonce, body.as_bytes());
        self.http
            .post(self.url(WECHAT_NOTIFY_PATH))
            .header("Content-Type", "application/json")
            .header("Wechatpay-Timestamp", timestamp)
            .header("Wechatpay-Nonce", nonce)
            .header("Wechatpay-Signature", signature)
            .body(body.to_owned())
            .send()
            .await
            .expect("request sent")
    }
}

async fn axum_serve(listener: TcpListener, app: axum::Router) {
    if let Err(error) = axum::serve(listener, app).await {
        panic!("the server stopped: {error}");
    }
}

fn database_in(folder: &tempfile::TempDir) -> PathBuf {
    folder.path().join("payment-selector.sqlite")
}

fn order(value: i64) -> Value {
    json!({
        "amount": { "value": value, "currency": "CNY" },
        "reference": "order-1001",
        "return_url": "https://shop.example/thanks",
    })
}

fn wechat_desktop() -> Value {
    json!({ "method": "wechat_pay", "client": { "device": "desktop" } })
}

fn paid_notification(id: &str, intent: &PaymentIntent, total: i64) -> String {
    json!({
        "id": id,
        "create_time": payment_server::now().to_string(),
        "event_type": "TRANSACTION.SUCCESS",
        "resource": {
            "out_trade_no": intent.id,
            "transaction_id": "4200000001",
            "trade_state": "SUCCESS",
            "amount": { "total": total, "currency": "CNY" },
        },
    })
    .to_string()
}

async fn error_of(response: reqwest::Response) -> (StatusCode, ErrorCode) {
    let status = response.status();
    let body: ErrorBody = response.json().await.expect("an error body");
    assert!(!body.message.is_empty(), "an error explains itself");
    (status, body.code)
}

fn method(session: &CheckoutSession, kind: MethodKind) -> &contract::PaymentMethod {
    session
        .methods
        .iter()
        .find(|method| method.kind == kind)
        .unwrap_or_else(|| panic!("{kind:?} is listed in {:?}", session.methods))
}

#[tokio::test]
async fn a_merchant_opens_a_session_and_the_browser_sees_its_methods() {
    let server = Server::start().await;
    let created = server.session().await;
    assert_eq!(created.session.amount, Money::new(12800, Currency::CNY));
    assert_eq!(created.session.merchant_name, "Demo Tea House");
    assert!(created.session.expires_at > payment_server::now());

    let desktop = server.read_session(&created, "?device=desktop").await;
    let wechat = method(&desktop, MethodKind::WechatPay);
    assert_eq!(wechat.flow, Flow::QrCode);
    assert_eq!(wechat.availability, Availability::Available);
    assert_eq!(
        method(&desktop, MethodKind::ChinaMobilePay).availability,
        Availability::Unavailable {
            reason: UnavailableReason::NotYetEnabled
        },
        "a method whose switch-on is pending is shown as not yet enabled"
    );

    let in_wechat = server
        .read_session(&created, "?device=mobile&in_app=wechat")
        .await;
    assert_eq!(
        method(&in_wechat, MethodKind::Alipay).availability,
        Availability::Unavailable {
            reason: UnavailableReason::BlockedInWechat
        }
    );
}

#[tokio::test]
async fn wrong_credentials_and_bad_orders_are_refused_clearly() {
    let server = Server::start().await;
    let response = server
        .http
        .post(server.url("/checkout-sessions"))
        .bearer_auth("sk_test_wrong")
        .json(&order(12800))
        .send()
        .await
        .expect("request sent");
    assert_eq!(
        error_of(response).await,
        (StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized)
    );

    for amount in [0, -100] {
        assert_eq!(
            error_of(server.create_session(order(amount)).await).await,
            (StatusCode::BAD_REQUEST, ErrorCode::InvalidRequest),
            "an amount of {amount} is refused"
        );
    }
    let response = server
        .http
        .post(server.url("/checkout-sessions"))
        .bearer_auth(MERCHANT_KEY)
        .header("Content-Type", "application/json")
        .body("{\"amount\": ")
        .send()
        .await
        .expect("request sent");
    assert_eq!(
        error_of(response).await,
        (StatusCode::BAD_REQUEST, ErrorCode::InvalidRequest)
    );

    let created = server.session().await;
    let other = server.session().await;
    let response = server
        .http
        .get(server.url(&format!("/checkout-sessions/{}", created.session.id)))
        .bearer_auth(&other.client_secret)
        .send()
        .await
        .expect("request sent");
    assert_eq!(
        error_of(response).await,
        (StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized),
        "one session's secret does not open another"
    );
}

#[tokio::test]
async fn an_intent_shows_a_code_that_expires_with_it() {
    let server = Server::start().await;
    let created = server.session().await;
    let (intent, code) = server.wechat_intent(&created, "key-1").await;
    assert_eq!(intent.status, IntentStatus::RequiresAction);
    assert_eq!(intent.method, MethodKind::WechatPay);
    assert_eq!(intent.amount, Money::new(12800, Currency::CNY));
    assert!(code.starts_with("weixin://wxpay/bizpayurl?pr="), "{code}");
    let Some(NextAction::DisplayQrCode { expires_at, .. }) = intent.next_action else {
        unreachable!("checked by wechat_intent");
    };
    assert!(expires_at > payment_server::now());
    assert!(expires_at <= intent.expires_at.min(created.session.expires_at));
}

#[tokio::test]
async fn an_intent_needs_an_idempotency_key() {
    let server = Server::start().await;
    let created = server.session().await;
    let response = server.create_intent(&created, None, wechat_desktop()).await;
    assert_eq!(
        error_of(response).await,
        (StatusCode::BAD_REQUEST, ErrorCode::IdempotencyKeyMissing)
    );
}

#[tokio::test]
async fn the_same_key_returns_the_same_intent_and_refuses_another_body() {
    let server = Server::start().await;
    let created = server.session().await;
    let (first, first_code) = server.wechat_intent(&created, "key-1").await;

    let replay = server
        .create_intent(&created, Some("key-1"), wechat_desktop())
        .await;
    assert_eq!(replay.status(), StatusCode::OK);
    let replayed: PaymentIntent = replay.json().await.expect("an intent");
    assert_eq!(
        replayed, first,
        "a retried request gets the same intent and code"
    );

    let mobile = json!({ "method": "wechat_pay", "client": { "device": "mobile" } });
    let response = server.create_intent(&created, Some("key-1"), mobile).await;
    assert_eq!(
        error_of(response).await,
        (StatusCode::CONFLICT, ErrorCode::IdempotencyKeyReused)
    );

    let (second, second_code) = server.wechat_intent(&created, "key-2").await;
    assert_ne!(second.id, first.id, "a new key is a new payment");
    assert_ne!(second_code, first_code);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_creates_with_one_key_make_one_intent() {
    let server = Server::start().await;
    let created = server.session().await;
    let requests: Vec<_> = (0..8)
        .map(|_| {
            let request = server.intent_request(&created, Some("double-click"), wechat_desktop());
            tokio::spawn(request.send())
        })
        .collect();
    let mut ids = Vec::new();
    for request in requests {
        let response = request.await.expect("joined").expect("request sent");
        assert!(response.status().is_success(), "{}", response.status());
        let intent: PaymentIntent = response.json().await.expect("an intent");
        assert!(
            matches!(intent.next_action, Some(NextAction::DisplayQrCode { .. })),
            "every answer carries the code: {intent:?}"
        );
        ids.push(intent.id);
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 1, "one intent for one key: {ids:?}");
    let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM payment_intents")
        .fetch_one(&server.database().await)
        .await
        .expect("counted");
    assert_eq!(count, 1);
}

#[tokio::test]
async fn scanning_the_code_pays_the_intent_once() {
    let server = Server::start().await;
    let created = server.session().await;
    let (intent, code) = server.wechat_intent(&created, "key-1").await;

    let scan = server.scan(&code).await;
    assert_eq!(scan.status(), StatusCode::OK);
    let paid = server.read_intent(&created, &intent.id).await;
    assert_eq!(paid.status, IntentStatus::Succeeded);
    assert_eq!(paid.next_action, None, "nothing left to do once paid");

    assert_eq!(
        error_of(server.scan(&code).await).await,
        (StatusCode::CONFLICT, ErrorCode::InvalidRequest),
        "a code pays once"
    );
    assert_eq!(
        error_of(server.cancel(&created, &intent.id).await).await,
        (StatusCode::CONFLICT, ErrorCode::IntentNotCancelable)
    );
    assert_eq!(
        server.intent_refusal(&created, "key-2").await,
        (StatusCode::CONFLICT, ErrorCode::SessionCompleted),
        "a paid session takes no second payment"
    );
}

#[tokio::test]
async fn notifications_are_verified_checked_and_applied_once() {
    let server = Server::start().await;
    let created = server.session().await;
    let (intent, _) = server.wechat_intent(&created, "key-1").await;
    let now = payment_server::now();

    let forged = paid_notification("EV-forged", &intent, 12800);
    let response = server.notify(&forged, b"someone else's key", now).await;
    assert_eq!(
        error_of(response).await,
        (StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized)
    );
    let stale = paid_notification("EV-stale", &intent, 12800);
    let response = server.notify(&stale, SANDBOX_KEY, now - 3600).await;
    assert_eq!(
        error_of(response).await,
        (StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized),
        "an old notification is a replay"
    );
    let short = paid_notification("EV-short", &intent, 1);
    let response = server.notify(&short, SANDBOX_KEY, now).await;
    assert_eq!(
        error_of(response).await,
        (StatusCode::BAD_REQUEST, ErrorCode::InvalidRequest),
        "a payment of the wrong amount is not applied"
    );
    assert_eq!(
        server.read_intent(&created, &intent.id).await.status,
        IntentStatus::RequiresAction
    );

    let genuine = paid_notification("EV-1", &intent, 12800);
    for _ in 0..2 {
        let response = server.notify(&genuine, SANDBOX_KEY, now).await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.expect("WeChat's answer");
        assert_eq!(body["code"], "SUCCESS", "a duplicate is acknowledged too");
    }
    assert_eq!(
        server.read_intent(&created, &intent.id).await.status,
        IntentStatus::Succeeded
    );
    let (recorded,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM provider_notifications")
        .fetch_one(&server.database().await)
        .await
        .expect("counted");
    assert_eq!(recorded, 1, "the duplicate was recognised");
}

#[tokio::test]
async fn a_canceled_code_cannot_be_paid() {
    let server = Server::start().await;
    let created = server.session().await;
    let (intent, code) = server.wechat_intent(&created, "key-1").await;

    let response = server.cancel(&created, &intent.id).await;
    assert_eq!(response.status(), StatusCode::OK);
    let canceled: PaymentIntent = response.json().await.expect("an intent");
    assert_eq!(canceled.status, IntentStatus::Canceled);
    assert_eq!(canceled.next_action, None);
    let again = server.cancel(&created, &intent.id).await;
    assert_eq!(
        again.status(),
        StatusCode::OK,
        "canceling twice is harmless"
    );

    assert_eq!(
        error_of(server.scan(&code).await).await,
        (StatusCode::CONFLICT, ErrorCode::InvalidRequest)
    );
    assert_eq!(
        server.read_intent(&created, &intent.id).await.status,
        IntentStatus::Canceled
    );
    let (_, new_code) = server.wechat_intent(&created, "key-2").await;
    assert_eq!(server.scan(&new_code).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn time_runs_out_for_intents_and_sessions() {
    let server = Server::start().await;
    let created = server.session().await;
    let (intent, code) = server.wechat_intent(&created, "key-1").await;

    server
        .expire("payment_intents", &intent.id, payment_server::now() - 1)
        .await;
    let expired = server.read_intent(&created, &intent.id).await;
    assert_eq!(expired.status, IntentStatus::Expired);
    assert_eq!(expired.next_action, None);
    assert_eq!(
        error_of(server.scan(&code).await).await,
        (StatusCode::CONFLICT, ErrorCode::InvalidRequest),
        "an expired code pays nothing"
    );

    server
        .expire(
            "checkout_sessions",
            &created.session.id,
            payment_server::now() - 1,
        )
        .await;
    assert_eq!(
        server.intent_refusal(&created, "key-2").await,
        (StatusCode::GONE, ErrorCode::SessionExpired)
    );
}

#[tokio::test]
async fn a_method_that_is_not_available_is_refused() {
    let server = Server::start().await;
    let created = server.session().await;
    for method in ["china_mobile_pay", "paypal"] {
        let body = json!({ "method": method, "client": { "device": "desktop" } });
        let response = server.create_intent(&created, Some(method), body).await;
        assert_eq!(
            error_of(response).await,
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::MethodUnavailable
            ),
            "{method} is refused"
        );
    }
}

#[tokio::test]
async fn the_demo_session_exists_only_in_the_sandbox() {
    let live = Server::start_in(tempfile::tempdir().expect("folder"), false).await;
    let response = live
        .http
        .post(live.url("/dev/demo-session"))
        .send()
        .await
        .expect("request sent");
    assert_eq!(
        error_of(response).await,
        (StatusCode::NOT_FOUND, ErrorCode::SandboxOnly)
    );
    assert_eq!(
        error_of(live.scan("weixin://wxpay/bizpayurl?pr=1").await).await,
        (StatusCode::NOT_FOUND, ErrorCode::SandboxOnly)
    );

    let sandbox = Server::start().await;
    let response = sandbox
        .http
        .post(sandbox.url("/dev/demo-session"))
        .send()
        .await
        .expect("request sent");
    assert_eq!(response.status(), StatusCode::CREATED);
    let demo: DemoSession = response.json().await.expect("a demo session");
    let response = sandbox
        .http
        .get(sandbox.url(&format!("/checkout-sessions/{}", demo.session_id)))
        .bearer_auth(&demo.client_secret)
        .send()
        .await
        .expect("request sent");
    let session: CheckoutSession = response.json().await.expect("a session");
    assert_eq!(session.amount, Money::new(12800, Currency::CNY));
    assert!(!session.livemode, "the demo says it is a sandbox");
}

#[tokio::test]
async fn sessions_and_payments_survive_a_restart() {
    let server = Server::start().await;
    let created = server.session().await;
    let (intent, code) = server.wechat_intent(&created, "key-1").await;

    let server = server.restart().await;
    let session = server.read_session(&created, "").await;
    assert_eq!(session.id, created.session.id);
    let replay = server
        .create_intent(&created, Some("key-1"), wechat_desktop())
        .await;
    assert_eq!(replay.status(), StatusCode::OK);
    let replayed: PaymentIntent = replay.json().await.expect("an intent");
    assert_eq!(replayed, intent, "idempotency outlives the process");
    assert_eq!(server.scan(&code).await.status(), StatusCode::OK);
    assert_eq!(
        server.read_intent(&created, &intent.id).await.status,
        IntentStatus::Succeeded
    );
}

#[tokio::test]
async fn unknown_endpoints_answer_in_the_contract_shape() {
    let server = Server::start().await;
    let response = server
        .http
        .get(server.url("/nothing-here"))
        .send()
        .await
        .expect("request sent");
    assert_eq!(
        error_of(response).await,
        (StatusCode::NOT_FOUND, ErrorCode::NotFound)
    );
}

#[tokio::test]
async fn paying_one_code_closes_the_session_s_other_codes() {
    let server = Server::start().await;
    let created = server.session().await;
    let (first, first_code) = server.wechat_intent(&created, "key-1").await;
    let (second, second_code) = server.wechat_intent(&created, "key-2").await;

    assert_eq!(server.scan(&second_code).await.status(), StatusCode::OK);
    assert_eq!(
        server.read_intent(&created, &first.id).await.status,
        IntentStatus::Canceled,
        "the other code is withdrawn once the session is paid"
    );
    assert_eq!(
        error_of(server.scan(&first_code).await).await,
        (StatusCode::CONFLICT, ErrorCode::InvalidRequest),
        "the shopper cannot pay twice"
    );
    assert_eq!(
        server.read_intent(&created, &second.id).await.status,
        IntentStatus::Succeeded
    );
}

#[tokio::test]
async fn one_session_s_secret_opens_none_of_another_s_intents() {
    let server = Server::start().await;
    let created = server.session().await;
    let (intent, _) = server.wechat_intent(&created, "key-1").await;
    let other = server.session().await;

    let read = server
        .http
        .get(server.url(&format!("/intents/{}", intent.id)))
        .bearer_auth(&other.client_secret)
        .send()
        .await
        .expect("request sent");
    assert_eq!(
        error_of(read).await,
        (StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized)
    );
    assert_eq!(
        error_of(server.cancel(&other, &intent.id).await).await,
        (StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized)
    );
    let create = server
        .http
        .post(server.url(&format!(
            "/checkout-sessions/{}/intents",
            created.session.id
        )))
        .bearer_auth(&other.client_secret)
        .header("Idempotency-Key", "key-2")
        .json(&wechat_desktop())
        .send()
        .await
        .expect("request sent");
    assert_eq!(
        error_of(create).await,
        (StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized)
    );
    assert_eq!(
        server.read_intent(&created, &intent.id).await.status,
        IntentStatus::RequiresAction,
        "the intent is untouched"
    );
}

#[tokio::test]
async fn a_live_server_offers_no_sandbox_payments() {
    let live = Server::start_in(tempfile::tempdir().expect("folder"), false).await;
    let created = live.session().await;
    let session = live.read_session(&created, "?device=desktop").await;
    assert!(session.livemode);
    assert_eq!(
        method(&session, MethodKind::WechatPay).availability,
        Availability::Unavailable {
            reason: UnavailableReason::NotYetEnabled
        },
        "no fake codes on a live server"
    );
    let mut plain_http = order(12800);
    plain_http["return_url"] = json!("http://shop.example/thanks");
    assert_eq!(
        error_of(live.create_session(plain_http).await).await,
        (StatusCode::BAD_REQUEST, ErrorCode::InvalidRequest),
        "a live shopper never returns over plain http"
    );
    let response = live
        .create_intent(&created, Some("key-1"), wechat_desktop())
        .await;
    assert_eq!(
        error_of(response).await,
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::MethodUnavailable
        )
    );
    let notification = json!({ "id": "EV-1" }).to_string();
    let response = live
        .notify(&notification, SANDBOX_KEY, payment_server::now())
        .await;
    assert_eq!(
        error_of(response).await,
        (StatusCode::NOT_FOUND, ErrorCode::NotFound)
    );
}

#[tokio::test]
async fn a_create_that_died_before_its_hand_off_is_failed_not_left_hanging() {
    let server = Server::start().await;
    let created = server.session().await;
    let (intent, code) = server.wechat_intent(&created, "key-1").await;
    let database = server.database().await;
    let forget_hand_off = |updated_at: i64| {
        sqlx::query("UPDATE payment_intents SET next_action = NULL, updated_at = ? WHERE id = ?")
            .bind(updated_at)
            .bind(&intent.id)
            .execute(&database)
    };

    // As if the first request were still waiting for the provider.
    forget_hand_off(payment_server::now())
        .await
        .expect("updated");
    assert_eq!(
        server.intent_refusal(&created, "key-1").await,
        (StatusCode::CONFLICT, ErrorCode::IdempotencyKeyInUse),
        "a retry is told to come back, not handed an intent without a code"
    );

    // As if the process had died in the middle, minutes ago.
    forget_hand_off(payment_server::now() - 300)
        .await
        .expect("updated");
    let response = server
        .create_intent(&created, Some("key-1"), wechat_desktop())
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let failed: PaymentIntent = response.json().await.expect("an intent");
    assert_eq!(failed.status, IntentStatus::Failed);
    assert_eq!(
        error_of(server.scan(&code).await).await,
        (StatusCode::CONFLICT, ErrorCode::InvalidRequest),
        "its order was closed"
    );
    let (_, new_code) = server.wechat_intent(&created, "key-2").await;
    assert_eq!(server.scan(&new_code).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_payment_the_provider_took_counts_even_after_the_code_expired_here() {
    let server = Server::start().await;
    let created = server.session().await;
    let (intent, _) = server.wechat_intent(&created, "key-1").await;
    server
        .expire("payment_intents", &intent.id, payment_server::now() - 1)
        .await;
    assert_eq!(
        server.read_intent(&created, &intent.id).await.status,
        IntentStatus::Expired
    );

    let late = paid_notification("EV-late", &intent, 12800);
    let response = server
        .notify(&late, SANDBOX_KEY, payment_server::now())
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        server.read_intent(&created, &intent.id).await.status,
        IntentStatus::Succeeded,
        "the money moved, so the intent says so"
    );
    assert_eq!(
        server.intent_refusal(&created, "key-2").await,
        (StatusCode::CONFLICT, ErrorCode::SessionCompleted)
    );
}

#[tokio::test]
async fn a_session_with_under_a_minute_left_takes_no_new_payment() {
    let server = Server::start().await;
    let created = server.session().await;
    server
        .expire(
            "checkout_sessions",
            &created.session.id,
            payment_server::now() + 30,
        )
        .await;
    assert_eq!(
        server.intent_refusal(&created, "key-1").await,
        (StatusCode::GONE, ErrorCode::SessionExpired)
    );
}
