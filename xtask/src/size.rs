//! The release bundle's size: wasm + JS + CSS, raw and brotli, checked
//! against `size-budget.toml`.

use std::io::Write;
use std::path::Path;

use crate::setup::{self, Tools};
use crate::{root, run_step, Result};

/// Builds the release page into `dist/`, with the standard library rebuilt
/// for size: panics abort at once (no messages, no formatting machinery),
/// no panic locations, no `Debug` output. That needs nightly's
/// `-Zbuild-std`; only this build uses it, in its own target directory.
pub fn build_release(tools: &Tools) -> Result {
    let mut trunk = tools.command("trunk");
    trunk
        .args(["build", "--release"])
        .env("RUSTUP_TOOLCHAIN", setup::SIZE_TOOLCHAIN)
        .env("CARGO_TARGET_DIR", root().join("target").join("size"))
        .env("CARGO_UNSTABLE_BUILD_STD", "std,panic_abort")
        .env("CARGO_UNSTABLE_BUILD_STD_FEATURES", "optimize_for_size")
        .env(
            "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS",
            "-Zlocation-detail=none -Zfmt-debug=none -Zunstable-options -Cpanic=immediate-abort",
        );
    run_step(
        "trunk build --release (nightly build-std, for size)",
        &mut trunk,
    )
}

/// Prints the bundle's size and fails when its brotli total is over budget.
pub fn run(tools: &Tools, build: bool) -> Result {
    if build {
        build_release(tools)?;
    }
    let budget = budget()?;
    let dist = root().join("dist");
    let mut files: Vec<_> = std::fs::read_dir(&dist)
        .map_err(|e| format!("{}: {e}; build it first", dist.display()))?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| {
            matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("wasm" | "js" | "css")
            )
        })
        .collect();
    files.sort();
    println!("\n==> release bundle size (brotli -q 11)");
    let (mut raw_total, mut brotli_total) = (0, 0);
    for file in &files {
        let bytes = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
        let compressed = brotli_size(&bytes)?;
        raw_total += bytes.len();
        brotli_total += compressed;
        println!("{:>10} {:>10}  {}", bytes.len(), compressed, name(file));
    }
    println!("{raw_total:>10} {brotli_total:>10}  total (raw, brotli) bytes");
    println!("{:>21}  budget for brotli (size-budget.toml)", budget);
    if files.is_empty() {
        return Err("dist/ has no wasm, JS or CSS".into());
    }
    if brotli_total > budget {
        return Err(format!(
            "the bundle is {brotli_total} bytes brotli, over the budget of {budget}"
        ));
    }
    Ok(())
}

fn name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn brotli_size(bytes: &[u8]) -> Result<usize> {
    let mut out = Vec::new();
    {
        let mut writer = brotli::CompressorWriter::new(&mut out, 1 << 16, 11, 22);
        writer.write_all(bytes).map_err(|e| e.to_string())?;
    }
    Ok(out.len())
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
