//! A real headless Chromium, driven over WebDriver by chromedriver. Each
//! browser has its own chromedriver, port and profile, so tests run in
//! parallel.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};

/// Where the shopper is, as the browser presents itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Device {
    /// A desktop browser, 1024x900.
    Desktop,
    /// A phone's browser, 412x823.
    Phone,
    /// WeChat's own browser on a phone.
    InWechat,
    /// The Alipay app's browser on a phone.
    InAlipay,
    /// UnionPay QuickPass's browser on a phone (a sample of the app's user
    /// agent from third-party material: `UnionPay/<version> <app id>`).
    InQuickpass,
}

impl Device {
    fn user_agent(self) -> Option<&'static str> {
        match self {
            Device::Desktop => None,
            Device::Phone => Some(
                "Mozilla/5.0 (Linux; Android 14; V2309A) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36",
            ),
            Device::InWechat => Some(
                "Mozilla/5.0 (Linux; Android 14; V2309A) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36 MicroMessenger/8.0.49.2600 WeChat/arm64 NetType/WIFI Language/zh_CN",
            ),
            Device::InAlipay => Some(
                "Mozilla/5.0 (Linux; Android 14; V2309A) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36 NebulaSDK/1.8.100112 Nebula AlipayDefined(nt:WIFI,ws:412|823|2.625) AliApp(AP/10.6.18.8000) AlipayClient/10.6.18.8000 Language/zh-Hans Region/CN",
            ),
            Device::InQuickpass => Some(
                "Mozilla/5.0 (Linux; Android 14; V2309A) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36 (com.unionpay.chsp) (cordova 4.5.4) (updebug 0) (version 1011) (UnionPay/1.0 CloudPay) (clientVersion 311)",
            ),
        }
    }

    fn window(self) -> &'static str {
        match self {
            Device::Desktop => "--window-size=1024,900",
            Device::Phone | Device::InWechat | Device::InAlipay | Device::InQuickpass => {
                "--window-size=412,823"
            }
        }
    }
}

/// A browser session; chromedriver stops when it is dropped.
pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver and a headless desktop Chromium speaking
    /// `language`.
    pub async fn start(language: &str) -> Browser {
        Browser::start_as(language, Device::Desktop).await
    }

    /// Starts chromedriver and a headless Chromium speaking `language`, on
    /// `device`.
    pub async fn start_as(language: &str, device: Device) -> Browser {
        let chromedriver =
            std::env::var("PS_CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
        let chromium = std::env::var("PS_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let port = free_port();
        let mut driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start {chromedriver}: {e} (cargo xtask setup installs it)")
            });
        let url = format!("http://127.0.0.1:{port}");
        wait_until_listening(port, &mut driver).await;

        let profile = tempfile::tempdir().expect("a profile directory");
        let mut args = vec![
            "--headless=new".to_owned(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-dev-shm-usage".into(),
            device.window().into(),
            format!("--lang={language}"),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        if let Some(agent) = device.user_agent() {
            args.push(format!("--user-agent={agent}"));
        }
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium,
                "args": args,
                "prefs": { "intl.accept_languages": language },
            }),
        );
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&url)
            .await
            .expect("a WebDriver session");
        Browser {
            client,
            driver,
            _profile: profile,
        }
    }

    /// Runs `source` in every document this tab opens, before the page's
    /// own scripts (through the DevTools protocol: a page's CSP does not
    /// apply to it).
    pub async fn on_every_page(&self, source: &str) {
        self.client
            .issue_cmd(Cdp {
                cmd: "Page.addScriptToEvaluateOnNewDocument",
                params: json!({ "source": source }),
            })
            .await
            .expect("the script is added");
    }

    /// Sends one DevTools protocol command to the tab.
    pub async fn devtools(&self, cmd: &'static str, params: Value) -> Value {
        self.client
            .issue_cmd(Cdp { cmd, params })
            .await
            .unwrap_or_else(|e| panic!("{cmd}: {e}"))
    }

    /// Presses keys one after another, as a keyboard does: each goes to
    /// whatever has the focus at that moment.
    pub async fn press_keys(&self, keys: &[fantoccini::key::Key]) {
        use fantoccini::actions::{InputSource, KeyAction, KeyActions};
        let mut keyboard = KeyActions::new("keyboard".into());
        for &key in keys {
            let value = char::from(key);
            keyboard = keyboard
                .then(KeyAction::Down { value })
                .then(KeyAction::Up { value });
        }
        self.client
            .perform_actions(keyboard)
            .await
            .expect("the keys are pressed");
    }

    /// What has the focus, looking into shadow roots: its `data-testid`,
    /// else its class, else its tag.
    pub async fn focused(&self) -> String {
        let found = self
            .client
            .execute(
                "let at = document.activeElement;
                 while (at && at.shadowRoot && at.shadowRoot.activeElement) at = at.shadowRoot.activeElement;
                 return at ? (at.dataset.testid || at.className || at.tagName) : null;",
                vec![],
            )
            .await
            .expect("the focus is read");
        found.as_str().unwrap_or("nothing").to_owned()
    }

    /// Waits for a CSS selector in the document the browser is heading to and
    /// clicks it. A lookup that lands mid-navigation is answered "aborted by
    /// navigation" rather than "no such element", so every failure is retried
    /// until the deadline.
    pub async fn click(&self, selector: &str) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        let element = loop {
            match self.client.find(Locator::Css(selector)).await {
                Ok(element) => break element,
                Err(e) if tokio::time::Instant::now() >= deadline => {
                    panic!("{selector} did not appear: {e}")
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        };
        element.click().await.expect("a click");
    }

    /// Waits for a CSS selector in the document the browser is heading to and
    /// types `text` into it.
    pub async fn type_into(&self, selector: &str, text: &str) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        let element = loop {
            match self.client.find(Locator::Css(selector)).await {
                Ok(element) => break element,
                Err(e) if tokio::time::Instant::now() >= deadline => {
                    panic!("{selector} did not appear: {e}")
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        };
        element.send_keys(text).await.expect("typing");
    }

    /// Waits (up to 10 s) for the browser to arrive at a URL that satisfies
    /// `done`, and returns it; the last one seen if it never does.
    pub async fn arrived_at(&self, done: impl Fn(&str) -> bool) -> String {
        let mut last = String::new();
        for _ in 0..100 {
            if let Ok(url) = self.client.current_url().await {
                last = url.to_string();
                if done(&last) {
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        last
    }

    /// Ends the session (chromedriver stops on drop).
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address").port()
}

async fn wait_until_listening(port: u16, driver: &mut Child) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return;
        }
        if let Ok(Some(status)) = driver.try_wait() {
            panic!("chromedriver exited: {status}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("chromedriver did not listen on {port}");
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
