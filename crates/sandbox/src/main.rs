//! `payment-sandbox [--addr 127.0.0.1:8090]`: the provider emulators with
//! the demo configuration for pages on this machine
//! ([`SandboxConfig::local_demo`]: WeChat's H5 page and web authorisation,
//! and Alipay's, UnionPay's and China Mobile Pay's returns and
//! authorisation, take only the
//! loopback names as the merchant's domains); `payment-sandbox
//! unionpay-certs DIR` writes a fresh UnionPay test certificate chain.

use std::process::ExitCode;

use payment_sandbox::{public_url, serve, unionpay_certs, SandboxConfig};

const USAGE: &str =
    "usage: payment-sandbox [--addr 127.0.0.1:8090]\n       payment-sandbox unionpay-certs DIR";

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "payment_sandbox=info".into()),
        )
        .init();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("payment-sandbox: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), String> {
    let mut addr = "127.0.0.1:8090".to_owned();
    let mut args = std::env::args().skip(1).peekable();
    if args.peek().map(String::as_str) == Some("unionpay-certs") {
        args.next();
        return write_certs(args);
    }
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--addr" => {
                addr = args
                    .next()
                    .ok_or(format!("--addr needs a value\n{USAGE}"))?
            }
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
    let url = public_url(listener.local_addr().map_err(|e| e.to_string())?);
    println!(
        "payment-sandbox listening on {url}: WeChat Pay API v3 at {url}/wechat-pay (Native, H5, JSAPI), \
         WeChat OAuth at {url}/wechat-open and {url}/wechat-api, the shopper's phone at {url}/phone, \
         the Alipay gateway at {url}/alipay/gateway.do (its phone at {url}/alipay/phone), \
         the UnionPay gateway at {url}/unionpay/gateway/api/ (its phone at {url}/unionpay/phone), \
         China Mobile Pay at {url}/cmpay/ips/cmpayService (its phone at {url}/cmpay/phone), \
         a webhook receiver at {url}/webhooks"
    );
    serve(SandboxConfig::local_demo(), listener)
        .await
        .map_err(|e| e.to_string())
}

/// `unionpay-certs DIR`: a fresh UnionPay test chain, written to DIR.
fn write_certs(mut args: impl Iterator<Item = String>) -> Result<(), String> {
    let (Some(dir), None) = (args.next(), args.next()) else {
        return Err(format!("unionpay-certs takes one directory\n{USAGE}"));
    };
    for path in unionpay_certs::write(std::path::Path::new(&dir))? {
        println!("{}", path.display());
    }
    Ok(())
}
