//! Headless Chromium through chromedriver, a fresh profile per session,
//! and the DevTools protocol (through chromedriver's `goog/cdp/execute`)
//! for the throttles.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};

/// A running chromedriver; it stops when dropped.
pub struct Driver {
    process: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// The shopper's phone: a 412×823 screen.
pub const PHONE: (u32, u32) = (412, 823);

/// The browser's user agent, which the shop's server forwards for the
/// first screen: a desktop's (the phone's screen is emulated, its user
/// agent is not, so the checkout offers the desktop's codes either way).
pub const USER_AGENT: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 \
    (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36";

impl Driver {
    /// Starts chromedriver on a free port.
    pub async fn start() -> Result<Driver, String> {
        let chromedriver =
            std::env::var("PS_CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let process = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {chromedriver}: {e}"))?;
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Ok(Driver {
                    process,
                    url: format!("http://127.0.0.1:{port}"),
                });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err("chromedriver did not start".into())
    }

    /// A new browser with its own empty profile; `phone` gives it the
    /// phone's screen.
    pub async fn browser(&self, phone: bool) -> Result<Browser, String> {
        let profile = tempfile::tempdir().map_err(|e| e.to_string())?;
        let chromium = std::env::var("PS_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let mut options = json!({
            "binary": chromium,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                "--disable-extensions", "--lang=en-US",
                format!("--user-agent={USER_AGENT}"),
                format!("--user-data-dir={}", profile.path().display()),
            ],
        });
        if phone {
            options["mobileEmulation"] = json!({
                "deviceMetrics": {
                    "width": PHONE.0, "height": PHONE.1, "pixelRatio": 2.625,
                    "touch": true, "mobile": true,
                },
            });
        }
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("goog:chromeOptions".into(), options);
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&self.url)
            .await
            .map_err(|e| format!("a browser session: {e}"))?;
        Ok(Browser {
            client,
            _profile: profile,
        })
    }
}

/// One browser session.
pub struct Browser {
    pub client: Client,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Sends a DevTools command to the current tab.
    pub async fn cdp(&self, cmd: &'static str, params: Value) -> Result<Value, String> {
        self.client
            .issue_cmd(Cdp { cmd, params })
            .await
            .map_err(|e| format!("{cmd}: {e}"))
    }

    /// A slow phone on a slow network: the CPU slowed `cpu` times, 150 ms
    /// latency, 200,000 B/s down and 93,750 B/s up, nothing cached.
    pub async fn throttle(&self, cpu: u32) -> Result<(), String> {
        self.cdp("Network.enable", json!({})).await?;
        self.cdp("Network.setCacheDisabled", json!({"cacheDisabled": true}))
            .await?;
        self.cdp(
            "Network.emulateNetworkConditions",
            json!({
                "offline": false, "latency": 150,
                "downloadThroughput": 200_000, "uploadThroughput": 93_750,
            }),
        )
        .await?;
        self.cdp("Emulation.setCPUThrottlingRate", json!({ "rate": cpu }))
            .await
            .map(drop)
    }

    /// Runs `source` in every document this tab opens, before its own
    /// scripts.
    pub async fn on_every_page(&self, source: &str) -> Result<(), String> {
        self.cdp(
            "Page.addScriptToEvaluateOnNewDocument",
            json!({ "source": source }),
        )
        .await
        .map(drop)
    }

    /// Ends the session.
    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}

/// chromedriver's door to the DevTools protocol.
#[derive(Debug)]
struct Cdp {
    cmd: &'static str,
    params: Value,
}

impl WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!(
            "session/{}/goog/cdp/execute",
            session.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        let body = json!({ "cmd": self.cmd, "params": self.params });
        (http::Method::POST, Some(body.to_string()))
    }
}
