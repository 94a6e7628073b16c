//! The storefront package's size, raw and brotli, checked against
//! `size-budget.toml`: what a page loads before Pay works (the script, the
//! wasm's first part, the stylesheet) and the wasm's later parts; with
//! `--why`, the first part's largest functions (twiggy on a build that
//! keeps names).

use crate::release::brotli;
use crate::setup::{self, Tools};
use crate::{dist, root, run_step, Result};

/// Prints the package's size and fails when either part is over budget:
/// what a page loads before Pay works (the script, the wasm's first part,
/// the stylesheet), and the wasm's later parts, fetched once the first is
/// in; with `why`, also what in the wasm is largest.
pub fn run(tools: &Tools, build: bool, why: bool) -> Result {
    if build {
        dist::run(tools)?;
    }
    let (budget, later_budget) = (
        budget("max_brotli_bytes")?,
        budget("max_later_brotli_bytes")?,
    );
    let dir = dist::dir();
    println!("\n==> the storefront package, what a page loads before Pay works (brotli -q 11)");
    let first = print_total(&dir, &[dist::SCRIPT, dist::WASM, dist::STYLESHEET])?;
    println!("{budget:>21}  budget for brotli (size-budget.toml)");
    println!("\n==> the wasm's later parts, fetched once the first is in (brotli -q 11)");
    let later_names = later_parts(&dir)?;
    let later_names: Vec<&str> = later_names.iter().map(String::as_str).collect();
    let later = print_total(&dir, &later_names)?;
    println!("{later_budget:>21}  budget for brotli (size-budget.toml)");
    if why {
        largest(tools)?;
    }
    if first > budget {
        return Err(format!(
            "the package is {first} bytes brotli before Pay works, over the budget of {budget}"
        ));
    }
    if later > later_budget {
        return Err(format!(
            "the wasm's later parts are {later} bytes brotli, over the budget of {later_budget}"
        ));
    }
    Ok(())
}

/// Prints each file's raw and brotli size and their total; the brotli total.
fn print_total(dir: &std::path::Path, names: &[&str]) -> Result<usize> {
    let (mut raw_total, mut brotli_total) = (0, 0);
    for name in names {
        let path = dir.join(name);
        let bytes = std::fs::read(&path)
            .map_err(|e| format!("{}: {e}; build it with cargo xtask dist", path.display()))?;
        let compressed = brotli(&bytes)?.len();
        raw_total += bytes.len();
        brotli_total += compressed;
        println!("{:>10} {:>10}  {name}", bytes.len(), compressed);
    }
    println!("{raw_total:>10} {brotli_total:>10}  total (raw, brotli) bytes");
    Ok(brotli_total)
}

/// The later parts' names (`payment-selector_<part>.<hash>.wasm`).
fn later_parts(dir: &std::path::Path) -> Result<Vec<String>> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| {
            name.starts_with("payment-selector_")
                && name.ends_with(".wasm")
                && !name.starts_with(dist::WASM.trim_end_matches(".wasm"))
        })
        .collect();
    names.sort();
    if names.is_empty() {
        return Err(format!("{} has no later part of the wasm", dir.display()));
    }
    Ok(names)
}

/// The largest functions and data of the wasm's first part, by twiggy, on
/// the release build run through wasm-bindgen and wasm-opt again with
/// names kept.
fn largest(tools: &Tools) -> Result {
    setup::twiggy(tools)?;
    // The first part as wasm-split left it (`split.rs`), before its glue.
    let built = root().join("target/element-parts/first.wasm");
    let named = root().join("target").join("element-names");
    let _ = std::fs::remove_dir_all(&named);
    run_step(
        "wasm-bindgen, keeping names",
        tools
            .command("wasm-bindgen")
            .args([
                "--keep-debug",
                "--keep-lld-exports",
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
        "twiggy top: the largest items of the wasm's first part (raw bytes, before compression)",
        tools
            .command("twiggy")
            .args(["top", "-n", "40"])
            .arg(&optimised),
    )
}

/// The budget `name` from `size-budget.toml`.
fn budget(name: &str) -> Result<usize> {
    let path = root().join("size-budget.toml");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    text.lines()
        .filter_map(|line| line.split_once('='))
        .find(|(key, _)| key.trim() == name)
        .and_then(|(_, value)| value.trim().replace('_', "").parse().ok())
        .ok_or_else(|| format!("{}: no {name} = <number>", path.display()))
}
