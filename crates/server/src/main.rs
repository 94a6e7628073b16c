//! `payment-server [--addr 127.0.0.1:8080] [--db FILE] [--config FILE]
//! [--sandbox] [--static-dir DIR]`

use std::path::PathBuf;
use std::process::ExitCode;

use payment_server::{serve, Config, ServerOptions};

const USAGE: &str =
    "usage: payment-server [--addr 127.0.0.1:8080] [--db FILE] [--config FILE] [--sandbox] [--static-dir DIR]";

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "payment_server=info".into()),
        )
        .init();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("payment-server: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), String> {
    let mut addr = "127.0.0.1:8080".to_owned();
    let mut options = ServerOptions::default();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .ok_or_else(|| format!("{arg} needs a value\n{USAGE}"))
        };
        match arg.as_str() {
            "--addr" => addr = value()?,
            "--db" => options.database = PathBuf::from(value()?),
            "--config" => {
                let path = PathBuf::from(value()?);
                options.config = Some(Config::from_file(&path).map_err(|e| e.to_string())?);
            }
            "--sandbox" => options.sandbox = true,
            "--static-dir" => options.static_dir = Some(PathBuf::from(value()?)),
            "--help" | "-h" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let mode = if options.sandbox { " (sandbox)" } else { "" };
    println!(
        "payment-server listening on http://{addr}{mode}, database {}",
        options.database.display()
    );
    serve(options, listener).await.map_err(|e| e.to_string())
}
