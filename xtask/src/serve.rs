//! The demo: the reference server (sandbox mode, SQLite file under `.data/`)
//! on 127.0.0.1:8080, and `trunk serve` on 127.0.0.1:8000 with `/api`
//! proxied to it. Stops both when either stops.

use std::net::{SocketAddr, TcpStream};
use std::process::Child;
use std::time::{Duration, Instant};

use crate::{root, run_step, setup, Result};

const SERVER_ADDR: &str = "127.0.0.1:8080";
const PREVIEW_URL: &str = "http://127.0.0.1:8000/";

/// Starts the demo and waits for it to stop.
pub fn run() -> Result {
    let tools = setup::run()?;
    run_step(
        "build the reference server",
        tools
            .command("cargo")
            .args(["build", "--package", "payment-server"]),
    )?;
    let database = root().join(".data").join("payment-selector.sqlite");
    let mut server = tools
        .command(&root().join("target/debug/payment-server").to_string_lossy())
        .args(["--sandbox", "--addr", SERVER_ADDR, "--db"])
        .arg(&database)
        .spawn()
        .map_err(|e| format!("cannot start the reference server: {e}"))?;
    wait_for_port(SERVER_ADDR, Duration::from_secs(30), &mut server)?;
    let mut trunk = match tools.command("trunk").arg("serve").spawn() {
        Ok(child) => child,
        Err(error) => {
            let _ = server.kill();
            return Err(format!("cannot start trunk serve: {error}"));
        }
    };
    println!(
        "\n==> the reference server is on http://{SERVER_ADDR} (SQLite: {})",
        database.display()
    );
    println!(
        "==> the preview will be on {PREVIEW_URL} once trunk has built it; Ctrl-C stops both\n"
    );
    let stopped = loop {
        if let Ok(Some(status)) = server.try_wait() {
            break format!("the reference server stopped ({status})");
        }
        if let Ok(Some(status)) = trunk.try_wait() {
            break format!("trunk serve stopped ({status})");
        }
        std::thread::sleep(Duration::from_millis(300));
    };
    let _ = server.kill();
    let _ = trunk.kill();
    Err(stopped)
}

fn wait_for_port(addr: &str, limit: Duration, child: &mut Child) -> Result {
    let addr: SocketAddr = addr.parse().map_err(|e| format!("{addr}: {e}"))?;
    let start = Instant::now();
    while start.elapsed() < limit {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!(
                "the reference server exited ({status}); is {addr} already in use?"
            ));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = child.kill();
    Err(format!(
        "the reference server did not listen on {addr} within {limit:?}"
    ))
}
