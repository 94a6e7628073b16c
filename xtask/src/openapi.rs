//! `cargo xtask openapi`: rewrites `crates/contract/openapi.json` from the
//! contract's types, for when `cargo test` says it is stale.

use std::process::Command;

use crate::{run_step, Result};

/// Runs the contract's `openapi` example, which writes the document.
pub fn run() -> Result {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    run_step(
        "write crates/contract/openapi.json",
        Command::new(cargo).args([
            "run",
            "--quiet",
            "--package",
            "payment-contract",
            "--features",
            "openapi",
            "--example",
            "openapi",
        ]),
    )
}
