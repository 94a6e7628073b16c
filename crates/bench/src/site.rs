//! The storefront the browser measures: the reference server (release,
//! in-process, sandbox) serving the package as a shop deploys it
//! (precompressed, hashed names cached), a checkout page per run with the
//! session written in by the "shop's server" (this bench), and a static
//! page with three radio buttons as the floor. Every page is served
//! brotli, as a shop's server compresses the HTML it sends.

use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::net::TcpListener;

/// The secret key of the embedded configuration's demo merchant.
const MERCHANT_KEY: &str = "sk_test_demo_merchant";

/// A served site and the server behind it.
pub struct Site {
    folder: tempfile::TempDir,
    base: String,
    pages: AtomicUsize,
    http: reqwest::Client,
}

impl Site {
    /// Copies the package into a fresh folder and serves it.
    pub async fn start(package: &Path) -> Result<Site, String> {
        let folder = tempfile::tempdir().map_err(|e| e.to_string())?;
        let target = folder.path().join("payment-selector");
        std::fs::create_dir_all(&target).map_err(|e| e.to_string())?;
        let files = std::fs::read_dir(package).map_err(|e| {
            format!(
                "{}: {e} (build it with cargo xtask dist)",
                package.display()
            )
        })?;
        for entry in files.filter_map(Result::ok) {
            std::fs::copy(entry.path(), target.join(entry.file_name()))
                .map_err(|e| e.to_string())?;
        }
        // The server computes the pages' CSP from index.html.
        write_page(
            folder.path(),
            "index.html",
            "<!DOCTYPE html><title>bench</title>",
        )?;
        write_page(folder.path(), "static.html", STATIC_PAGE)?;
        std::fs::write(folder.path().join("probe.bin"), vec![7u8; 200_000])
            .map_err(|e| e.to_string())?;

        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| e.to_string())?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let options = server::ServerOptions {
            database: folder.path().join("site.sqlite").into(),
            sandbox: Some(start_sandbox().await?),
            static_dir: Some(folder.path().to_owned()),
            ..server::ServerOptions::default()
        };
        tokio::spawn(async move {
            if let Err(error) = server::serve(options, listener).await {
                eprintln!("payment-bench: the site's server stopped: {error}");
            }
        });
        Ok(Site {
            folder,
            base: format!("http://{addr}"),
            pages: AtomicUsize::new(0),
            http: reqwest::Client::new(),
        })
    }

    /// One line about where and what is served.
    pub fn describe(&self) -> String {
        format!("site {} (reference server, release, in-process)", self.base)
    }

    /// The address of a page of the site.
    pub fn url(&self, page: &str) -> String {
        format!("{}/{page}", self.base)
    }

    /// A fresh checkout page, as a shop's server renders it: a new session
    /// created with the merchant's key and written into the element, with
    /// the checkout's first screen drawn by the server when `first_screen`.
    pub async fn checkout_page(&self, first_screen: bool) -> Result<String, String> {
        let body = serde_json::json!({
            "amount": {"value": 12800, "currency": "CNY"},
            "reference": format!("bench-{}", self.pages.load(Ordering::SeqCst)),
            "return_url": self.url(""),
        });
        let answer = self
            .http
            .post(self.url("api/checkout-sessions"))
            .bearer_auth(MERCHANT_KEY)
            .json(&body)
            .send()
            .await
            .map_err(|e| format!("creating a session: {e}"))?;
        if !answer.status().is_success() {
            return Err(format!("creating a session: {}", answer.status()));
        }
        let created = answer.text().await.map_err(|e| e.to_string())?;
        let name = format!(
            "checkout-{}.html",
            self.pages.fetch_add(1, Ordering::SeqCst)
        );
        let inside = if first_screen {
            self.first_screen(&created).await?
        } else {
            // `</` cannot end the data block early once escaped.
            format!(
                r#"<script type="application/json">{}</script>"#,
                created.replace("</", "<\\/")
            )
        };
        write_page(
            self.folder.path(),
            &name,
            &CHECKOUT_PAGE.replace("{inside}", &inside),
        )?;
        Ok(self.url(&name))
    }

    /// The element's content for the session `created` answers, from the
    /// server's first-screen call, for the measuring browser (its user
    /// agent and language).
    async fn first_screen(&self, created: &str) -> Result<String, String> {
        let created: serde_json::Value =
            serde_json::from_str(created).map_err(|e| format!("the session: {e}"))?;
        let (Some(id), Some(secret)) = (
            created["session"]["id"].as_str(),
            created["client_secret"].as_str(),
        ) else {
            return Err(format!("a session without id or secret: {created}"));
        };
        let answer = self
            .http
            .get(self.url(&format!("api/checkout-sessions/{id}/first-screen")))
            .bearer_auth(secret)
            .header("User-Agent", crate::browser::USER_AGENT)
            .header("Accept-Language", "en-US")
            .send()
            .await
            .map_err(|e| format!("the first screen: {e}"))?;
        if !answer.status().is_success() {
            return Err(format!("the first screen: {}", answer.status()));
        }
        answer.text().await.map_err(|e| e.to_string())
    }
}

/// Writes the page `name` in `folder`, and beside it the brotli the
/// server sends a browser that takes it (quality 5, a shop's server's
/// compression on the fly).
fn write_page(folder: &Path, name: &str, page: &str) -> Result<(), String> {
    let mut compressed = Vec::new();
    {
        let mut writer = brotli::CompressorWriter::new(&mut compressed, 1 << 16, 5, 22);
        writer
            .write_all(page.as_bytes())
            .map_err(|e| e.to_string())?;
    }
    std::fs::write(folder.join(name), page).map_err(|e| e.to_string())?;
    std::fs::write(folder.join(format!("{name}.br")), compressed).map_err(|e| e.to_string())
}

/// The provider sandbox (WeChat Pay's emulator), in-process on a free port.
pub async fn start_sandbox() -> Result<String, String> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let url = payment_sandbox::public_url(listener.local_addr().map_err(|e| e.to_string())?);
    tokio::spawn(async move {
        if let Err(error) =
            payment_sandbox::serve(payment_sandbox::SandboxConfig::demo(), listener).await
        {
            eprintln!("payment-bench: the sandbox stopped: {error}");
        }
    });
    Ok(url)
}

/// A shop's checkout page: the package preloaded, the session (and the
/// first screen) inside the element, and the shop's words below it, which
/// a takeover that changed the checkout's size would move.
const CHECKOUT_PAGE: &str = r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Demo Tea House · Checkout</title>
<link rel="icon" href="data:,">
<link rel="preload" href="payment-selector/payment-selector_bg.wasm" as="fetch" type="application/wasm" crossorigin>
<script src="payment-selector/payment-selector.js" defer></script>
</head>
<body>
<h1>Demo Tea House</h1>
<payment-selector api-base="/api">{inside}</payment-selector>
<p>Delivered in 2 to 3 days. Questions about your order? Call the tea house.</p>
</body>
</html>
"#;

/// The floor: what a checkout costs with no script at all.
const STATIC_PAGE: &str = r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Demo Tea House · Checkout</title>
<link rel="icon" href="data:,">
</head>
<body>
<h1>Demo Tea House</h1>
<form>
<fieldset>
<legend>Payment method</legend>
<label><input type="radio" name="method" value="wechat_pay" checked> WeChat Pay</label>
<label><input type="radio" name="method" value="alipay"> Alipay</label>
<label><input type="radio" name="method" value="unionpay"> UnionPay</label>
</fieldset>
<button>Pay ¥128.00</button>
</form>
</body>
</html>
"#;
