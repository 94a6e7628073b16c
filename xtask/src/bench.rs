//! `cargo xtask bench`: builds the storefront package and runs
//! `payment-bench` (crates/bench) against it, with the server built for
//! speed. Not part of `cargo xtask test`: its numbers are noisy, and tests
//! never time things.

use crate::setup::{self, Tools};
use crate::{dist, run_step, Result};

/// Runs the bench; `args` (such as `--runs 3`) go to `payment-bench`.
pub fn run(tools: &Tools, args: &[String]) -> Result {
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
            .args(args)
            .env("PS_CHROMEDRIVER", setup::CHROMEDRIVER)
            .env("PS_CHROMIUM", setup::CHROMIUM),
    )
}
