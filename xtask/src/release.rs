//! Release builds of the page and the element (trunk, nightly build-std,
//! for size) and the compression a storefront serves them with.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::setup::{self, Tools};
use crate::{root, run_step, Result};

/// The environment of every release build: the standard library rebuilt
/// for size, panics abort at once (no messages, no formatting machinery),
/// no panic locations, no `Debug` output. That needs nightly's
/// `-Zbuild-std`; only these builds use it, in their own target directory.
pub fn trunk_release(tools: &Tools, target: &str, dist: &Path, what: &str) -> Result {
    trunk_release_in(tools, target, dist, what, &size_target_dir(), "")
}

/// Where [`trunk_release`] has cargo build.
fn size_target_dir() -> PathBuf {
    root().join("target").join("size")
}

/// [`trunk_release`] with cargo building in `target_dir`, with
/// `rustflags` added (a build with other flags gets its own folder: cargo
/// would otherwise rebuild everything each time the flags change).
pub fn trunk_release_in(
    tools: &Tools,
    target: &str,
    dist: &Path,
    what: &str,
    target_dir: &Path,
    rustflags: &str,
) -> Result {
    let mut trunk = tools.command("trunk");
    trunk
        .args(["build", "--release", "true", "--dist"])
        .arg(dist)
        .arg(target)
        .env("RUSTUP_TOOLCHAIN", setup::SIZE_TOOLCHAIN)
        .env("CARGO_TARGET_DIR", target_dir)
        .env("CARGO_UNSTABLE_BUILD_STD", "std,panic_abort")
        .env("CARGO_UNSTABLE_BUILD_STD_FEATURES", "optimize_for_size")
        .env(
            "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS",
            format!(
                "-Zlocation-detail=none -Zfmt-debug=none -Zunstable-options \
                 -Cpanic=immediate-abort {rustflags}"
            ),
        );
    run_step(
        &format!("trunk build --release {target}: {what} (nightly build-std, for size)"),
        &mut trunk,
    )
}

/// The preview page, released into `dist/` for the end-to-end journeys.
pub fn build_preview(tools: &Tools) -> Result {
    trunk_release(
        tools,
        "index.html",
        &root().join("dist"),
        "the preview page",
    )
}

/// `bytes`, brotli -q 11.
pub fn brotli(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    {
        let mut writer = brotli::CompressorWriter::new(&mut out, 1 << 16, 11, 22);
        writer.write_all(bytes).map_err(|e| e.to_string())?;
    }
    Ok(out)
}
