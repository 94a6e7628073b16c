//! The storefront package's size: the script, the wasm and the stylesheet
//! a page loads, raw and brotli, checked against `size-budget.toml`; with
//! `--why`, the largest functions (twiggy on a build that keeps names).

use crate::release::brotli;
use crate::setup::{self, Tools};
use crate::{dist, root, run_step, Result};

/// Prints the package's size and fails when its brotli total is over
/// budget; with `why`, also what in the wasm is largest.
pub fn run(tools: &Tools, build: bool, why: bool) -> Result {
    if build {
        dist::run(tools)?;
    }
    let budget = budget()?;
    let dir = dist::dir();
    println!("\n==> the storefront package, what a page loads (brotli -q 11)");
    let (mut raw_total, mut brotli_total) = (0, 0);
    for name in [dist::SCRIPT, dist::WASM, dist::STYLESHEET] {
        let path = dir.join(name);
        let bytes = std::fs::read(&path)
            .map_err(|e| format!("{}: {e}; build it with cargo xtask dist", path.display()))?;
        let compressed = brotli(&bytes)?.len();
        raw_total += bytes.len();
        brotli_total += compressed;
        println!("{:>10} {:>10}  {name}", bytes.len(), compressed);
    }
    println!("{raw_total:>10} {brotli_total:>10}  total (raw, brotli) bytes");
    println!("{budget:>21}  budget for brotli (size-budget.toml)");
    if why {
        largest(tools)?;
    }
    if brotli_total > budget {
        return Err(format!(
            "the package is {brotli_total} bytes brotli, over the budget of {budget}"
        ));
    }
    Ok(())
}

/// The wasm's largest functions and data, by twiggy, on the release build
/// run through wasm-bindgen and wasm-opt again with names kept.
fn largest(tools: &Tools) -> Result {
    setup::twiggy(tools)?;
    let built =
        root().join("target/size/wasm32-unknown-unknown/release/payment-selector-element.wasm");
    let named = root().join("target").join("element-names");
    let _ = std::fs::remove_dir_all(&named);
    run_step(
        "wasm-bindgen, keeping names",
        tools
            .command("wasm-bindgen")
            .args([
                "--keep-debug",
                "--target",
                "no-modules",
                "--out-name",
                "named",
                "--out-dir",
            ])
            .arg(&named)
            .arg(&built),
    )?;
    let optimised = named.join("named.wasm");
    run_step(
        "wasm-opt -Oz, keeping names",
        tools
            .command("wasm-opt")
            .args([
                "-Oz",
                "-g",
                "--enable-bulk-memory",
                "--enable-nontrapping-float-to-int",
            ])
            .arg(named.join("named_bg.wasm"))
            .arg("-o")
            .arg(&optimised),
    )?;
    run_step(
        "twiggy top: the largest items of the wasm (raw bytes, before compression)",
        tools
            .command("twiggy")
            .args(["top", "-n", "40"])
            .arg(&optimised),
    )
}

/// `max_brotli_bytes` from `size-budget.toml`.
fn budget() -> Result<usize> {
    let path = root().join("size-budget.toml");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    text.lines()
        .filter_map(|line| line.split_once('='))
        .find(|(key, _)| key.trim() == "max_brotli_bytes")
        .and_then(|(_, value)| value.trim().replace('_', "").parse().ok())
        .ok_or_else(|| format!("{}: no max_brotli_bytes = <number>", path.display()))
}
