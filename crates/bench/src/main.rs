//! `payment-bench`: what `cargo xtask bench` prints. What a shopper feels
//! (how long a cold page on a slow phone takes to offer a usable payment
//! method, beside a static page with three radio buttons; how long Pay
//! takes to show the QR code) and what the reference server takes
//! (create-intent throughput beside SQLite's own ceiling, and on
//! PostgreSQL through one server and through two).
//!
//! `payment-bench --package DIR [--runs 9] [--tries 50] [--requests 1000]
//! [--postgres URL] [--server-only]` where DIR is `cargo xtask dist`'s
//! `dist/payment-selector` and URL a PostgreSQL server's, with a user that
//! may create databases; with `--serve`, it only serves the measured pages,
//! for a look in a browser or a profiler, until stopped.

mod browser;
mod load;
mod pages;
mod report;
mod site;
mod stats;

use std::path::PathBuf;
use std::process::ExitCode;

/// What to measure, from the command line.
pub struct Settings {
    package: PathBuf,
    runs: usize,
    tries: usize,
    requests: usize,
    serve: bool,
    postgres: Option<String>,
    server_only: bool,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    let settings = match settings() {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("payment-bench: {error}");
            return ExitCode::from(2);
        }
    };
    match run(&settings).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("payment-bench: {error}");
            ExitCode::FAILURE
        }
    }
}

fn settings() -> Result<Settings, String> {
    let usage = "usage: payment-bench --package DIR [--runs 9] [--tries 50] [--requests 1000] \
                 [--postgres URL] [--server-only] [--serve]";
    let mut package = None;
    let mut serve = false;
    let mut postgres = None;
    let mut server_only = false;
    let (mut runs, mut tries, mut requests) = (9, 50, 1000);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .ok_or_else(|| format!("{arg} needs a value\n{usage}"))
        };
        let number = |text: String| text.parse::<usize>().map_err(|e| format!("{text}: {e}"));
        match arg.as_str() {
            "--package" => package = Some(PathBuf::from(value()?)),
            "--runs" => runs = number(value()?)?.max(1),
            "--tries" => tries = number(value()?)?.max(1),
            "--requests" => requests = number(value()?)?.max(1),
            "--serve" => serve = true,
            "--postgres" => postgres = Some(value()?),
            "--server-only" => server_only = true,
            _ => return Err(format!("unknown argument {arg}\n{usage}")),
        }
    }
    let package = package.ok_or(usage)?;
    Ok(Settings {
        package,
        runs,
        tries,
        requests,
        serve,
        postgres,
        server_only,
    })
}

async fn run(settings: &Settings) -> Result<(), String> {
    if settings.server_only {
        let (server, scaled) = measure_server(settings).await?;
        println!("\n{}", report::server(&server, &scaled));
        return Ok(());
    }
    let site = site::Site::start(&settings.package).await?;
    println!("payment-bench: {}", site.describe());
    if settings.serve {
        println!("  checkout: {}", site.checkout_page(true).await?);
        println!("  static:   {}", site.url("static.html"));
        println!("serving until stopped (Ctrl-C)");
        return tokio::signal::ctrl_c().await.map_err(|e| e.to_string());
    }

    println!("\n==> checking that the throttles apply");
    let throttles = pages::check_throttles(&site).await?;
    println!(
        "==> time to usable: {} cold runs of each page after a warm-up",
        settings.runs
    );
    let usable = pages::time_to_usable(&site, settings.runs).await?;
    println!("==> Pay to QR: {} tries in the page", settings.tries);
    let pay = pages::pay_to_qr(&site, settings.tries).await?;
    let (server, scaled) = measure_server(settings).await?;

    println!(
        "\n{}{}",
        report::table(&throttles, &usable, &pay),
        report::server(&server, &scaled)
    );
    Ok(())
}

/// The server's create-intent rates: on SQLite beside its ceiling, and on
/// PostgreSQL when there is one.
async fn measure_server(
    settings: &Settings,
) -> Result<(Vec<load::Level>, Vec<load::Scaled>), String> {
    println!("==> the server: create-intent at 1, 8 and 64 clients");
    let server = load::create_intents(settings.requests).await?;
    let scaled = match &settings.postgres {
        Some(admin) => {
            println!("==> the server on PostgreSQL: one server, then two on one database");
            load::create_intents_on_postgres(admin, settings.requests).await?
        }
        None => Vec::new(),
    };
    Ok((server, scaled))
}
