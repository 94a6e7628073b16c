//! The reference server, started in-process on a free port with a fresh
//! SQLite file, serving the release page (`PS_DIST_DIR`) beside `/api`, on
//! one origin as a storefront would deploy it.

use std::net::SocketAddr;
use std::path::PathBuf;

use tokio::net::TcpListener;

/// A running server and its provider sandbox; its database is deleted when
/// it is dropped.
pub struct App {
    addr: SocketAddr,
    /// The sandbox's address (WeChat Pay's emulator, the phone).
    pub sandbox: String,
    _data: tempfile::TempDir,
    _site: Option<tempfile::TempDir>,
}

/// The release build (`cargo xtask test` builds it): the preview page, with
/// the storefront package in `payment-selector/`.
pub fn dist() -> PathBuf {
    let dist = std::env::var_os("PS_DIST_DIR")
        .map(PathBuf::from)
        .expect("PS_DIST_DIR names the built page: run the journeys with `cargo xtask test`");
    assert!(
        dist.join("index.html").exists(),
        "{} has no index.html: build it with trunk",
        dist.display()
    );
    dist
}

impl App {
    /// Starts the server in sandbox mode, serving the preview page.
    pub async fn start() -> App {
        App::serving(dist(), None).await
    }

    /// Starts the server in sandbox mode, serving the plain HTML shop of
    /// `examples/plain-html` with the package beside it, as a storefront
    /// would deploy them.
    pub async fn start_shop() -> App {
        App::start_shop_with(&[]).await
    }

    /// As [`App::start_shop`], with `files` (path in the site, contents)
    /// written over the shop's and the package's.
    pub async fn start_shop_with(files: &[(&str, &[u8])]) -> App {
        let site = tempfile::tempdir().expect("a site directory");
        let example = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/plain-html");
        copy_folder(&example, site.path());
        copy_folder(
            &dist().join("payment-selector"),
            &site.path().join("payment-selector"),
        );
        for (path, contents) in files {
            std::fs::write(site.path().join(path), contents).expect("a file of the site");
        }
        App::serving(site.path().to_owned(), Some(site)).await
    }

    async fn serving(dist: PathBuf, site: Option<tempfile::TempDir>) -> App {
        let data = tempfile::tempdir().expect("a data directory");
        let sandbox_listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let sandbox =
            payment_sandbox::public_url(sandbox_listener.local_addr().expect("its address"));
        tokio::spawn(async move {
            let config = payment_sandbox::SandboxConfig::local_demo();
            if let Err(error) = payment_sandbox::serve(config, sandbox_listener).await {
                panic!("the sandbox stopped: {error}");
            }
        });
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let addr = listener.local_addr().expect("its address");
        let options = server::ServerOptions {
            database: data.path().join("e2e.sqlite").into(),
            sandbox: Some(sandbox.clone()),
            static_dir: Some(dist),
            ..server::ServerOptions::default()
        };
        tokio::spawn(async move {
            if let Err(error) = server::serve(options, listener).await {
                panic!("the server stopped: {error}");
            }
        });
        App {
            addr,
            sandbox,
            _data: data,
            _site: site,
        }
    }

    /// The preview page.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Plays a phone scanning `code_url`, straight at the sandbox.
    pub async fn sandbox_scan(&self, code_url: &str) -> reqwest::Response {
        let body = serde_json::json!({ "code_url": code_url }).to_string();
        let url = format!("http://{}/api{}", self.addr, contract::paths::SANDBOX_SCAN);
        reqwest::Client::new()
            .post(url)
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .expect("the server answers")
    }

    /// The newest payment intent, as the merchant reads it with its secret
    /// key: what the server holds, whatever the page says.
    pub async fn latest_intent(&self) -> serde_json::Value {
        let list: serde_json::Value = reqwest::Client::new()
            .get(format!("http://{}/api/intents?limit=1", self.addr))
            .bearer_auth("sk_test_demo_merchant")
            .send()
            .await
            .expect("the server answers")
            .json()
            .await
            .expect("a list of intents");
        list["data"][0].clone()
    }

    /// The emulator's phone scans Alipay's `qr_code`: `pay`, `decline`, or
    /// `scan` (at the confirmation).
    pub async fn alipay_scan(&self, qr_code: &str, outcome: &str) -> reqwest::Response {
        reqwest::Client::new()
            .post(format!("{}/alipay/phone/scan", self.sandbox))
            .json(&serde_json::json!({ "qr_code": qr_code, "outcome": outcome }))
            .send()
            .await
            .expect("the sandbox answers")
    }

    /// One code for every wallet, as a merchant's backend and a desktop's
    /// checkout would make it through the API, for a session that ends in
    /// `expires_in_seconds`: the URL the code holds.
    pub async fn one_code_ending_in(&self, expires_in_seconds: i64) -> String {
        let http = reqwest::Client::new();
        let api = format!("http://{}/api", self.addr);
        let created: serde_json::Value = http
            .post(format!("{api}{}", contract::paths::CHECKOUT_SESSIONS))
            .bearer_auth("sk_test_demo_merchant")
            .json(&serde_json::json!({
                "amount": {"value": 12800, "currency": "CNY"},
                "reference": "No.0000000001",
                "return_url": self.url(),
                "expires_in_seconds": expires_in_seconds,
            }))
            .send()
            .await
            .expect("the server answers")
            .json()
            .await
            .expect("a session");
        let session = created["session"]["id"].as_str().expect("a session id");
        let intent: serde_json::Value = http
            .post(format!(
                "{api}{}",
                contract::paths::session_intents(session)
            ))
            .bearer_auth(created["client_secret"].as_str().expect("its secret"))
            .header(contract::IDEMPOTENCY_KEY_HEADER, "one-code")
            .json(&serde_json::json!({"method": "any_wallet", "client": {"device": "desktop"}}))
            .send()
            .await
            .expect("the server answers")
            .json()
            .await
            .expect("an intent");
        intent["next_action"]["payload"]
            .as_str()
            .unwrap_or_else(|| panic!("no code: {intent}"))
            .to_owned()
    }

    /// UnionPay's emulated phone scans a QuickPass `qr_code`: `pay`,
    /// `decline`, or `scan` (at the confirmation).
    pub async fn quickpass_scan(&self, qr_code: &str, outcome: &str) -> reqwest::Response {
        reqwest::Client::new()
            .post(format!("{}/unionpay/phone/scan", self.sandbox))
            .json(&serde_json::json!({ "qr_code": qr_code, "outcome": outcome }))
            .send()
            .await
            .expect("the sandbox answers")
    }

    /// Writes a file into the shop's site (started with
    /// [`App::start_shop_with`]), as a storefront's server renders a page.
    pub fn put(&self, path: &str, contents: &str) {
        let site = self._site.as_ref().expect("a shop's site");
        std::fs::write(site.path().join(path), contents).expect("a page of the site");
    }

    /// What a storefront's server does for one shopper's page: a demo
    /// session, and its first screen for the shopper's `user_agent` and
    /// `language`, to write inside `<payment-selector>`.
    pub async fn first_screen(&self, user_agent: &str, language: &str) -> String {
        let http = reqwest::Client::new();
        let demo: serde_json::Value = http
            .post(format!("http://{}/api/dev/demo-session", self.addr))
            .send()
            .await
            .expect("the server answers")
            .json()
            .await
            .expect("a demo session");
        let answer = http
            .get(format!(
                "http://{}/api/checkout-sessions/{}/first-screen",
                self.addr,
                demo["session_id"].as_str().expect("its id")
            ))
            .bearer_auth(demo["client_secret"].as_str().expect("its secret"))
            .header("User-Agent", user_agent)
            .header("Accept-Language", language)
            .send()
            .await
            .expect("the server answers");
        assert!(
            answer.status().is_success(),
            "first screen: {}",
            answer.status()
        );
        answer.text().await.expect("its HTML")
    }

    /// The Content-Security-Policy the page is served with.
    pub async fn page_policy(&self) -> String {
        let page = reqwest::get(self.url()).await.expect("the server answers");
        page.headers()
            .get("content-security-policy")
            .and_then(|value| value.to_str().ok())
            .expect("the page has a Content-Security-Policy")
            .to_owned()
    }
}

fn copy_folder(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).expect("a folder");
    for entry in std::fs::read_dir(from).unwrap_or_else(|e| panic!("{}: {e}", from.display())) {
        let entry = entry.expect("an entry");
        std::fs::copy(entry.path(), to.join(entry.file_name())).expect("a copy");
    }
}
