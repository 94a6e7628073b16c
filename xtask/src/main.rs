//! `cargo xtask <command>`: everything the project needs on a fresh machine.
//!
//! - `setup`: install what is missing (idempotent);
//! - `serve`: the demo: reference server with SQLite, and `trunk serve`
//!   (`--port`, `--api-port` to move it);
//! - `test`: every check CI runs, ending with the bundle's size;
//! - `e2e [filter…]`: build the page and package, then the end-to-end
//!   journeys whose names contain a filter (all without one);
//! - `dist`: the storefront package, `dist/payment-selector/`;
//! - `size`: build the package and check it against the budget (`--why`:
//!   what is largest in it);
//! - `bench`: what shoppers feel and what the server takes, measured;
//! - `openapi`: rewrite `crates/contract/openapi.json` from the contract.

mod bench;
mod dist;
mod names;
mod openapi;
mod package;
mod postgres;
mod release;
mod serve;
mod setup;
mod size;
mod split;
mod test;

use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("setup") => setup::run().map(drop),
        Some("serve") => serve::run(&args[1..]),
        Some("test") => test::run(),
        Some("e2e") => test::e2e(&args[1..]),
        Some("api-on-postgres") => {
            setup::run().and_then(|tools| test::api_on_postgres(&tools, &args[1..]))
        }
        Some("size") => {
            let why = args.iter().any(|arg| arg == "--why");
            setup::run().and_then(|tools| size::run(&tools, true, why))
        }
        Some("dist") => setup::run().and_then(|tools| dist::run(&tools)),
        Some("bench") => setup::run().and_then(|tools| bench::run(&tools, &args[1..])),
        Some("openapi") => openapi::run(),
        _ => {
            eprintln!(
                "usage: cargo xtask <setup | serve | test | e2e [filter…] | api-on-postgres [filter…] | dist | size [--why] | bench | openapi>"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("\nxtask: {error}");
            ExitCode::FAILURE
        }
    }
}

/// What went wrong, for a person to read.
pub type Result<T = ()> = std::result::Result<T, String>;

/// The workspace root.
pub fn root() -> std::path::PathBuf {
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// Runs a command to the end, failing unless it succeeds.
pub fn run_step(title: &str, command: &mut Command) -> Result {
    println!("\n==> {title}");
    let status = command
        .current_dir(root())
        .status()
        .map_err(|e| format!("{title}: cannot start: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{title} failed ({status})"))
    }
}

/// A command's standard output, if it ran and succeeded.
pub fn output_of(program: &str, args: &[&str]) -> Option<String> {
    let output = Command::new(program).args(args).output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}
