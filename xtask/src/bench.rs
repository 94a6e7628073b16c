//! `cargo xtask bench`: builds the storefront package and runs
//! `payment-bench` (crates/bench) against it, with the server built for
//! speed. Not part of `cargo xtask test`: its numbers are noisy, and tests
//! never time things.

use crate::setup::{self, Tools};
use crate::{dist, run_step, Result};

/// Runs the bench; `args` (such as `--runs 3`) go to `payment-bench`,
/// but for `--database postgres`, which measures the server on a
/// throwaway PostgreSQL too.
pub fn run(tools: &Tools, args: &[String]) -> Result {
    let mut passed = Vec::new();
    let mut postgres = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        if arg == "--database" {
            match args.next().map(String::as_str) {
                Some("postgres") => postgres = Some(crate::postgres::Throwaway::start_durable()?),
                Some("sqlite") => {}
                other => return Err(format!("--database sqlite | postgres, not {other:?}")),
            }
        } else {
            passed.push(arg.clone());
        }
    }
    if let Some(postgres) = &postgres {
        passed.extend(["--postgres".to_owned(), postgres.url.clone()]);
    }
    dist::run(tools)?;
    run_step(
        "payment-bench: time to usable, Pay to QR, the server (a few minutes)",
        tools
            .command("cargo")
            .args([
                "run",
                "--quiet",
                "--profile",
                "bench-server",
                "--package",
                "payment-bench",
                "--",
                "--package",
            ])
            .arg(dist::dir())
            .args(&passed)
            .env("PS_CHROMEDRIVER", setup::CHROMEDRIVER)
            .env("PS_CHROMIUM", setup::CHROMIUM),
    )
}
