//! The demo: the provider sandbox (WeChat Pay's emulator, a webhook
//! receiver that logs what it gets), the reference server against it
//! (SQLite file under `.data/`, or a throwaway PostgreSQL), and `trunk
//! serve` with `/api` proxied to the server. Stops them all when one
//! stops, or on Ctrl-C.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::Child;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::setup::Tools;
use crate::{root, run_step, setup, Result};

/// Where the demo listens.
#[derive(Debug, Clone, Copy)]
pub struct Ports {
    /// The preview page (`trunk serve`).
    pub preview: u16,
    /// The reference server, behind the preview's `/api` proxy.
    pub api: u16,
    /// The provider sandbox.
    pub sandbox: u16,
}

impl Default for Ports {
    fn default() -> Self {
        Ports {
            preview: 8000,
            api: 8080,
            sandbox: 8090,
        }
    }
}

/// The folder the demo server keeps its SQLite file in. It is inside the
/// project, so Trunk.toml's `[watch]` list must leave it out.
pub fn data_dir() -> PathBuf {
    root().join(".data")
}

/// A running demo; its processes stop when it is dropped.
pub struct Demo {
    sandbox: Child,
    server: Child,
    trunk: Child,
    /// The preview page.
    pub url: String,
}

impl Drop for Demo {
    fn drop(&mut self) {
        for child in [&mut self.trunk, &mut self.server, &mut self.sandbox] {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// `cargo xtask serve [--port 8000] [--api-port 8080] [--database
/// postgres]`: starts the demo and waits for it to stop.
pub fn run(args: &[String]) -> Result {
    let (ports, on_postgres) = parse_args(args)?;
    let tools = setup::run()?;
    // Stopped and removed when the demo stops.
    let postgres = match on_postgres {
        true => Some(crate::postgres::Throwaway::start_durable()?),
        false => None,
    };
    let database = match &postgres {
        Some(postgres) => postgres.url.clone(),
        None => data_dir().join("demo.sqlite").display().to_string(),
    };
    let mut demo = start(&tools, ports, &database)?;
    println!();
    println!("==> the demo is ready: open {}", demo.url);
    println!(
        "    reference server http://127.0.0.1:{}/api (sandbox), database {database}; its metrics at /metrics, health at /healthz",
        ports.api,
    );
    if postgres.is_some() {
        println!(
            "    a second server on the same database, serving the page too: target/debug/payment-server serve --addr 127.0.0.1:{} --sandbox http://127.0.0.1:{} --database {database} --static-dir target/preview",
            ports.api + 1,
            ports.sandbox
        );
    }
    println!(
        "    provider sandbox http://127.0.0.1:{}/ (WeChat Pay's, Alipay's, UnionPay's and China Mobile's emulators; webhooks it receives are logged here)",
        ports.sandbox
    );
    println!(
        "    pay with a wallet's code, then \"Simulate scan and pay\" plays the shopper's phone"
    );
    println!("    a bank card goes to UnionPay's card page: 6216261000000000018, SMS code 111111");
    println!(
        "    the shopper's statements (payments, refunds) at http://127.0.0.1:{}/phone, /alipay/phone, /unionpay/phone, /cmpay/phone; faults at /control, /alipay/control, /unionpay/control, /cmpay/control",
        ports.sandbox
    );
    println!(
        "    every state of the checkout, side by side: {}?gallery",
        demo.url
    );
    println!("    a phone-sized window with a phone's user agent pays on WeChat's H5 page instead");
    println!("    edits to src/ and style/ rebuild the page; reload it to see them (no auto-reload mid-payment)");
    println!(
        "    delete {} to start afresh; Ctrl-C stops the demo",
        data_dir().display()
    );
    println!();
    let interrupted = Arc::new(AtomicBool::new(false));
    let flag = interrupted.clone();
    ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst))
        .map_err(|e| format!("cannot catch Ctrl-C: {e}"))?;
    let stopped = loop {
        if interrupted.load(Ordering::SeqCst) {
            drop(demo);
            println!("\n==> the demo has stopped");
            return Ok(());
        }
        if let Ok(Some(status)) = demo.server.try_wait() {
            break format!("the reference server stopped ({status})");
        }
        if let Ok(Some(status)) = demo.sandbox.try_wait() {
            break format!("the provider sandbox stopped ({status})");
        }
        if let Ok(Some(status)) = demo.trunk.try_wait() {
            break format!("trunk serve stopped ({status})");
        }
        std::thread::sleep(Duration::from_millis(300));
    };
    Err(stopped)
}

fn parse_args(args: &[String]) -> Result<(Ports, bool)> {
    let usage = "usage: cargo xtask serve [--port 8000] [--api-port 8080] [--sandbox-port 8090] [--database sqlite|postgres]";
    let mut ports = Ports::default();
    let mut on_postgres = false;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let target = match arg.as_str() {
            "--port" => &mut ports.preview,
            "--api-port" => &mut ports.api,
            "--sandbox-port" => &mut ports.sandbox,
            "--database" => {
                on_postgres = match args.next().map(String::as_str) {
                    Some("postgres") => true,
                    Some("sqlite") => false,
                    _ => return Err(format!("--database sqlite | postgres\n{usage}")),
                };
                continue;
            }
            other => return Err(format!("unknown argument {other}\n{usage}")),
        };
        *target = args
            .next()
            .and_then(|value| value.parse().ok())
            .ok_or_else(|| format!("{arg} needs a port number"))?;
    }
    Ok((ports, on_postgres))
}

/// Builds and starts the provider sandbox on `ports.sandbox`, the reference
/// server on `ports.api` with its `database` (a SQLite file's path or a
/// PostgreSQL URL), then
/// `trunk serve` on `ports.preview`; returns once the preview answers
/// (trunk builds the page first).
pub fn start(tools: &Tools, ports: Ports, database: &str) -> Result<Demo> {
    for (port, flag) in [
        (ports.sandbox, "--sandbox-port"),
        (ports.api, "--api-port"),
        (ports.preview, "--port"),
    ] {
        if TcpListener::bind(("127.0.0.1", port)).is_err() {
            return Err(format!(
                "port {port} is taken (another demo running?): stop it, or choose another with `cargo xtask serve {flag} <port>`"
            ));
        }
    }
    run_step(
        "build the reference server and the provider sandbox",
        tools.command("cargo").args([
            "build",
            "--package",
            "payment-server",
            "--package",
            "payment-sandbox",
        ]),
    )?;
    let sandbox_addr = format!("127.0.0.1:{}", ports.sandbox);
    let sandbox = tools
        .command(
            &root()
                .join("target/debug/payment-sandbox")
                .to_string_lossy(),
        )
        .args(["--addr", &sandbox_addr])
        .env(
            "RUST_LOG",
            std::env::var("RUST_LOG").unwrap_or_else(|_| "payment_sandbox=info".into()),
        )
        .spawn()
        .map_err(|e| format!("cannot start the provider sandbox: {e}"))?;
    let api = format!("127.0.0.1:{}", ports.api);
    let server = tools
        .command(&root().join("target/debug/payment-server").to_string_lossy())
        .args(["serve", "--addr", &api, "--sandbox"])
        .arg(format!("http://{sandbox_addr}"))
        .arg("--database")
        .arg(database)
        .env(
            "RUST_LOG",
            std::env::var("RUST_LOG").unwrap_or_else(|_| "payment_server=info".into()),
        )
        .spawn();
    let server = match server {
        Ok(server) => server,
        Err(error) => {
            let mut sandbox = sandbox;
            let _ = sandbox.kill();
            return Err(format!("cannot start the reference server: {error}"));
        }
    };
    let trunk = tools
        .command("trunk")
        .args(["serve", "--port", &ports.preview.to_string()])
        // Not dist/: that is the release build the tests and the size check use.
        .args(["--dist", "target/preview"])
        .arg(format!("--proxy-backend=http://{api}/api"))
        // A shopper back from a provider's page must not have the page
        // reloaded under them by the dev server: a rebuild waits for F5.
        .arg("--no-autoreload=true")
        .spawn();
    let trunk = match trunk {
        Ok(trunk) => trunk,
        Err(error) => {
            let (mut server, mut sandbox) = (server, sandbox);
            let _ = server.kill();
            let _ = sandbox.kill();
            return Err(format!("cannot start trunk serve: {error}"));
        }
    };
    let mut demo = Demo {
        sandbox,
        server,
        trunk,
        url: format!("http://127.0.0.1:{}/", ports.preview),
    };
    println!("\n==> building the preview page (the first build takes a few minutes)");
    wait_for_port(&sandbox_addr, Duration::from_secs(60), &mut demo)?;
    wait_for_port(&api, Duration::from_secs(60), &mut demo)?;
    let preview = format!("127.0.0.1:{}", ports.preview);
    wait_for_port(&preview, Duration::from_secs(20 * 60), &mut demo)?;
    Ok(demo)
}

/// Waits until something listens on `addr`, failing early if either
/// process of the demo exits.
fn wait_for_port(addr: &str, limit: Duration, demo: &mut Demo) -> Result {
    let socket: SocketAddr = addr.parse().map_err(|e| format!("{addr}: {e}"))?;
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Ok(Some(status)) = demo.server.try_wait() {
            return Err(format!("the reference server exited ({status})"));
        }
        if let Ok(Some(status)) = demo.sandbox.try_wait() {
            return Err(format!("the provider sandbox exited ({status})"));
        }
        if let Ok(Some(status)) = demo.trunk.try_wait() {
            return Err(format!("trunk serve exited ({status})"));
        }
        if TcpStream::connect_timeout(&socket, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Err(format!("nothing listened on {addr} within {limit:?}"))
}
