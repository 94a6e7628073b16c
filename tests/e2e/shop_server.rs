//! The plain HTML shop's own server (`examples/plain-html/server.mjs`, in
//! Node) in front of a running reference server: it renders the shop's
//! page with the checkout's first screen inside, serves the package beside
//! it and passes `/api` on, as a storefront's server would.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use crate::app::{self, App};

/// A running shop server; stopped when dropped.
pub struct ShopServer {
    child: Child,
    /// The shop's page.
    pub url: String,
}

impl ShopServer {
    /// Starts the example's server on a free port, asking `app` for
    /// sessions and first screens, with the built package beside the page.
    pub fn start(app: &App) -> ShopServer {
        let script =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/plain-html/server.mjs");
        let mut child = Command::new("node")
            .arg(&script)
            .env("PORT", "0")
            .env("PAYMENT_SERVER", app.url())
            .env("PACKAGE", app::dist().join("payment-selector"))
            .stdout(Stdio::piped())
            .spawn()
            .expect("node runs the shop's server (cargo xtask setup installs it)");
        let stdout = child.stdout.take().expect("its output");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the shop's server says where it listens");
        // "the Demo Tea House on http://127.0.0.1:PORT/ (payments: …)"
        let url = line
            .split_whitespace()
            .find(|word| word.starts_with("http://127.0.0.1:"))
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .to_owned();
        ShopServer { child, url }
    }

    /// The shop's answer to `GET path` sent as written (no client
    /// resolving `..` first), as text.
    pub async fn raw_get(&self, path: &str) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let address = self
            .url
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        let mut stream = tokio::net::TcpStream::connect(&address)
            .await
            .expect("the shop's server listens");
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
        stream
            .write_all(request.as_bytes())
            .await
            .expect("the request is sent");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.expect("an answer");
        answer
    }
}

impl Drop for ShopServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
