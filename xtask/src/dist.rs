//! `cargo xtask dist`: the storefront package, `dist/payment-selector/`.
//!
//! Trunk builds `xtask/element.html` (the element's wasm, its glue, the
//! loader and the stylesheet, minified); this module assembles what a
//! storefront serves: stable names, content-hashed copies that load each
//! other, subresource-integrity hashes, and `.br`/`.gz` siblings.

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use sha2::{Digest, Sha256, Sha384};

use crate::setup::Tools;
use crate::{names, root, size, Result};

/// The package's three files a page loads, by their stable names.
pub const SCRIPT: &str = "payment-selector.js";
/// The element's WebAssembly, loaded by the script.
pub const WASM: &str = "payment-selector_bg.wasm";
/// The stylesheet, linked into each element's shadow root.
pub const STYLESHEET: &str = "payment-selector.css";

/// Where the package goes.
pub fn dir() -> PathBuf {
    root().join("dist").join("payment-selector")
}

/// Builds the element with trunk and writes the package.
pub fn run(tools: &Tools) -> Result {
    let built = root().join("target").join("element");
    size::trunk_release(tools, "xtask/element.html", &built, "the element")?;
    assemble(&built, &dir())?;
    println!("==> wrote {}", dir().display());
    Ok(())
}

/// One file of the package, before it is written.
struct Asset {
    name: &'static str,
    bytes: Vec<u8>,
}

fn assemble(built: &Path, out: &Path) -> Result {
    let files = list(built)?;
    let find = |test: &dyn Fn(&str) -> bool, what: &str| {
        files
            .iter()
            .find(|name| test(name))
            .cloned()
            .ok_or_else(|| format!("trunk wrote no {what} in {}", built.display()))
    };
    let wasm = find(
        &|n| n.starts_with("payment-selector-element-") && n.ends_with("_bg.wasm"),
        "wasm",
    )?;
    let glue = wasm.replace("_bg.wasm", ".js");
    let loader = find(
        &|n| n.starts_with("element-") && n.ends_with(".js"),
        "loader",
    )?;
    let css = find(
        &|n| n.starts_with("payment-selector-") && n.ends_with(".css"),
        "stylesheet",
    )?;

    let read = |name: &str| {
        let path = built.join(name);
        std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))
    };
    let glue = String::from_utf8(read(&glue)?).map_err(|e| format!("{glue}: {e}"))?;
    let (wasm, glue) = names::shorten(&read(&wasm)?, &glue)?;
    let mut script = glue.into_bytes();
    // The glue may end without a semicolon; the loader starts with a (.
    script.extend_from_slice(b";\n");
    script.extend(read(&loader)?);
    let stable = [
        Asset {
            name: WASM,
            bytes: wasm,
        },
        Asset {
            name: STYLESHEET,
            bytes: read(&css)?,
        },
        Asset {
            name: SCRIPT,
            bytes: script,
        },
    ];

    if out.exists() {
        std::fs::remove_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    }
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let mut integrity = Vec::new();
    for asset in &stable {
        write(out, asset.name, &asset.bytes)?;
        integrity.push((asset.name.to_owned(), sri(&asset.bytes)));
    }
    // The hashed copies: the script names the hashed wasm and stylesheet,
    // so a page that loads one version gets that version's parts.
    let hashed_wasm = hashed(WASM, &stable[0].bytes);
    let hashed_css = hashed(STYLESHEET, &stable[1].bytes);
    let mut script_text = String::from_utf8_lossy(&stable[2].bytes).into_owned();
    for quote in ['"', '\'', '`'] {
        for (from, to) in [(WASM, &hashed_wasm), (STYLESHEET, &hashed_css)] {
            script_text = script_text.replace(
                &format!("{quote}{from}{quote}"),
                &format!("{quote}{to}{quote}"),
            );
        }
    }
    if !script_text.contains(&hashed_wasm) || !script_text.contains(&hashed_css) {
        return Err("the loader no longer names its wasm and stylesheet as literals".into());
    }
    let hashed_script = hashed(SCRIPT, script_text.as_bytes());
    for (name, bytes) in [
        (hashed_wasm, stable[0].bytes.clone()),
        (hashed_css, stable[1].bytes.clone()),
        (hashed_script, script_text.into_bytes()),
    ] {
        write(out, &name, &bytes)?;
        integrity.push((name, sri(&bytes)));
    }
    let manifest = integrity
        .iter()
        .map(|(name, hash)| format!("  \"{name}\": \"{hash}\""))
        .collect::<Vec<_>>()
        .join(",\n");
    write(
        out,
        "integrity.json",
        format!("{{\n{manifest}\n}}\n").as_bytes(),
    )
}

fn list(dir: &Path) -> Result<Vec<String>> {
    Ok(std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect())
}

/// Writes a file and its precompressed siblings.
fn write(out: &Path, name: &str, bytes: &[u8]) -> Result {
    let path = out.join(name);
    let fail = |e: std::io::Error| format!("{}: {e}", path.display());
    std::fs::write(&path, bytes).map_err(fail)?;
    std::fs::write(out.join(format!("{name}.br")), size::brotli(bytes)?).map_err(fail)?;
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gzip.write_all(bytes).map_err(fail)?;
    std::fs::write(out.join(format!("{name}.gz")), gzip.finish().map_err(fail)?).map_err(fail)
}

/// `payment-selector.js` → `payment-selector.<16 hex digits>.js`.
fn hashed(name: &str, bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let hash: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    match name.rsplit_once('.') {
        Some((stem, extension)) => format!("{stem}.{hash}.{extension}"),
        None => format!("{name}.{hash}"),
    }
}

/// A subresource-integrity value: `sha384-<base64>`.
fn sri(bytes: &[u8]) -> String {
    let digest = Sha384::digest(bytes);
    format!(
        "sha384-{}",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}
