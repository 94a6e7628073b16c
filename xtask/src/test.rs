//! Every check, in the order that fails fastest; the first failure stops the
//! run. CI calls exactly this.

use crate::setup::{self, CHROMEDRIVER};
use crate::{root, run_step, size, Result};

const WASM: &str = "wasm32-unknown-unknown";

/// Runs formatting, lints, native tests, browser component tests, the
/// end-to-end journeys and the size check.
pub fn run() -> Result {
    let tools = setup::run()?;
    run_step(
        "cargo fmt --check",
        tools.command("cargo").args(["fmt", "--all", "--check"]),
    )?;
    run_step(
        "clippy (native)",
        tools.command("cargo").args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--all-features",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    run_step(
        "clippy (wasm32)",
        tools.command("cargo").args([
            "clippy",
            "--package",
            "payment-selector",
            "--target",
            WASM,
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    run_step(
        "native tests",
        tools.command("cargo").args(["test", "--workspace"]),
    )?;
    run_step(
        "component tests in headless Chromium",
        tools
            .command("cargo")
            .args(["test", "--package", "payment-selector", "--target", WASM]),
    )?;
    size::build_release(&tools)?;
    let dist = root().join("dist");
    run_step(
        "end-to-end journeys (real browser, real server, release page)",
        tools
            .command("cargo")
            .args([
                "test",
                "--package",
                "payment-selector",
                "--features",
                "e2e",
                "--test",
                "e2e",
            ])
            .env("PS_DIST_DIR", &dist)
            .env("PS_CHROMEDRIVER", CHROMEDRIVER)
            .env("PS_CHROMIUM", setup::CHROMIUM),
    )?;
    size::run(&tools, false)?;
    println!("\nall checks passed");
    Ok(())
}
