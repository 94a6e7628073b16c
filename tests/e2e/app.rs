//! The reference server, started in-process on a free port with a fresh
//! SQLite file, serving the release page (`PS_DIST_DIR`) beside `/api`, on
//! one origin as a storefront would deploy it.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A running server; its database is deleted when it is dropped.
pub struct App {
    addr: SocketAddr,
    _data: tempfile::TempDir,
}

impl App {
    /// Starts the server in sandbox mode.
    pub async fn start() -> App {
        let dist = std::env::var_os("PS_DIST_DIR")
            .map(PathBuf::from)
            .expect("PS_DIST_DIR names the built page: run the journeys with `cargo xtask test`");
        assert!(
            dist.join("index.html").exists(),
            "{} has no index.html: build it with trunk",
            dist.display()
        );
        let data = tempfile::tempdir().expect("a data directory");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let addr = listener.local_addr().expect("its address");
        let options = server::ServerOptions {
            database: data.path().join("e2e.sqlite"),
            sandbox: true,
            static_dir: Some(dist),
            ..server::ServerOptions::default()
        };
        tokio::spawn(async move {
            if let Err(error) = server::serve(options, listener).await {
                panic!("the server stopped: {error}");
            }
        });
        App { addr, _data: data }
    }

    /// The preview page.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Plays a phone scanning `code_url`, straight at the sandbox.
    pub async fn sandbox_scan(&self, code_url: &str) -> Status {
        let body = serde_json::json!({ "code_url": code_url }).to_string();
        let path = format!("/api{}", contract::paths::SANDBOX_WECHAT_SCAN);
        self.post(&path, &body).await
    }

    async fn post(&self, path: &str, body: &str) -> Status {
        let mut stream = TcpStream::connect(self.addr)
            .await
            .expect("the server answers");
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.addr,
            body.len()
        );
        stream
            .write_all(request.as_bytes())
            .await
            .expect("the request is sent");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.expect("an answer");
        let code = answer
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or(0);
        Status { code, answer }
    }
}

/// An HTTP answer's status, with the whole answer for messages.
pub struct Status {
    code: u16,
    answer: String,
}

impl Status {
    /// True for a 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.code)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.answer)
    }
}
