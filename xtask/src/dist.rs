//! `cargo xtask dist`: the storefront package, `dist/payment-selector/`.
//!
//! Trunk builds `xtask/element.html` (the element's wasm, the loader and
//! the stylesheet, minified); `split.rs` cuts the wasm in two parts and
//! makes the first's glue; this module assembles what a storefront
//! serves: the glue and loader in one function scope, as a
//! classic script and an ES module, stable names, content-hashed copies
//! that load each other checked by their subresource-integrity hashes,
//! `integrity.json`, `.br`/`.gz` siblings, what a toolchain reads
//! (`package.json`, typings, `custom-elements.json`: see `package.rs`), and
//! the whole again under `dist/payment-selector@<version>/`.

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use sha2::{Digest, Sha256, Sha384};

use crate::setup::Tools;
use crate::{names, package, release, root, setup, split, Result};

/// The package's three files a page loads before Pay works, by their
/// stable names (the wasm's later parts follow: `split.rs`).
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
    let cargo_dir = root().join("target").join("size-element");
    release::trunk_release_in(
        tools,
        "xtask/element.html",
        &built,
        "the element",
        &cargo_dir,
        "-Clink-args=--emit-relocs",
    )?;
    let parts = split::cut(
        tools,
        &cargo_dir.join("wasm32-unknown-unknown/release/payment-selector-element.wasm"),
    )?;
    assemble(&built, parts, &dir())?;
    let pinned = package::versioned_dir(&version()?);
    copy_folder(&dir(), &pinned)?;
    println!("==> wrote {} and {}", dir().display(), pinned.display());
    Ok(())
}

/// The package's ES module: the same element, for bundlers and
/// `import "payment-selector"`.
pub const MODULE: &str = "payment-selector.mjs";

fn assemble(built: &Path, parts: split::Parts, out: &Path) -> Result {
    let files = list(built)?;
    let find = |test: &dyn Fn(&str) -> bool, what: &str| {
        files
            .iter()
            .find(|name| test(name))
            .cloned()
            .ok_or_else(|| format!("trunk wrote no {what} in {}", built.display()))
    };
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
    let loader = String::from_utf8_lossy(&read(&loader)?).into_owned();
    if !parts.glue.contains("let wasm_bindgen") || !loader.contains("files") {
        return Err(
            "wasm-bindgen's glue or trunk's loader is no longer what the package wraps".into(),
        );
    }
    let (wasm, glue) = names::shorten(&parts.first, &parts.glue)?;
    let css = read(&css)?;
    let hashed_wasm = hashed(WASM, &wasm);
    let hashed_css = hashed(STYLESHEET, &css);
    let later: Vec<(String, Vec<Part>)> = parts
        .later
        .into_iter()
        .map(|(point, files)| {
            let files = files
                .into_iter()
                .map(|(stem, bytes)| Part {
                    hashed: hashed(&format!("payment-selector_{stem}.wasm"), &bytes),
                    integrity: sri(&bytes),
                    bytes,
                })
                .collect();
            (point, files)
        })
        .collect();

    let script = minify(
        &package_script(
            &glue,
            &loader,
            &classic_files(WASM, STYLESHEET, None, &later),
        ),
        false,
    )?;
    // The content-hashed script names the hashed wasm and stylesheet and
    // checks them against their hashes: a page that pins one script (with
    // its own integrity attribute) gets exactly that build's parts.
    let pinned = classic_files(
        &hashed_wasm,
        &hashed_css,
        Some((&sri(&wasm), &sri(&css))),
        &later,
    );
    let hashed_script_text = minify(&package_script(&glue, &loader, &pinned), false)?;
    let module = minify(&package_script(&glue, &loader, &module_files(&later)), true)?;
    let hashed_script = hashed(SCRIPT, hashed_script_text.as_bytes());

    if out.exists() {
        std::fs::remove_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    }
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let mut integrity = Vec::new();
    for (name, bytes) in [
        (WASM.to_owned(), &wasm),
        (STYLESHEET.to_owned(), &css),
        (SCRIPT.to_owned(), &script.into_bytes()),
        (MODULE.to_owned(), &module.into_bytes()),
        (hashed_wasm, &wasm),
        (hashed_css, &css),
        (hashed_script, &hashed_script_text.into_bytes()),
    ] {
        write(out, &name, bytes)?;
        integrity.push((name, sri(bytes)));
    }
    for part in later.iter().flat_map(|(_, files)| files) {
        // A chunk that split points share is listed under each.
        if integrity.iter().any(|(name, _)| *name == part.hashed) {
            continue;
        }
        write(out, &part.hashed, &part.bytes)?;
        integrity.push((part.hashed.clone(), part.integrity.clone()));
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
    )?;
    package::write(out, &version()?)
}

/// `script` through terser (names inside its function shortened, dead code
/// dropped; `new URL("./…", import.meta.url)` is kept as bundlers need it).
fn minify(script: &str, module: bool) -> Result<String> {
    let terser = setup::terser_script();
    if !terser.exists() {
        return Err(format!(
            "{} is missing: cargo xtask setup installs it",
            terser.display()
        ));
    }
    let mut command = std::process::Command::new("node");
    command
        .arg(terser)
        .args(["--compress", "passes=2", "--mangle", "--ecma", "2020"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    if module {
        command.arg("--module");
    }
    let mut child = command.spawn().map_err(|e| format!("terser: {e}"))?;
    let mut stdin = child.stdin.take().ok_or("terser's input")?;
    let input = script.to_owned();
    // Written from another thread: terser answers as it reads, and a full
    // pipe either way would stall both.
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child
        .wait_with_output()
        .map_err(|e| format!("terser: {e}"))?;
    writer
        .join()
        .map_err(|_| "terser's input thread")?
        .map_err(|e| format!("terser's input: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "terser: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let minified = String::from_utf8(output.stdout).map_err(|e| format!("terser's output: {e}"))?;
    if module && !minified.contains(&format!("new URL(\"./{WASM}\",import.meta.url)")) {
        return Err("terser rewrote the module's new URL(\"./…\", import.meta.url)".into());
    }
    Ok(minified)
}

/// A file of the wasm's second part (see `split.rs`).
struct Part {
    /// Its content-hashed name (`payment-selector_<part>.<hash>.wasm`).
    hashed: String,
    integrity: String,
    bytes: Vec<u8>,
}

/// The glue and the loader in one function, so that neither leaves a name
/// in the page's global scope: the glue's `let wasm_bindgen` would make a
/// second copy of the script, or another wasm-bindgen widget, throw. `files`
/// is an expression for where the wasm, its later parts and the stylesheet
/// are (see `src/element.js`); the glue asks `src/element-parts.js` for
/// the later parts' loaders.
fn package_script(glue: &str, loader: &str, files: &str) -> String {
    // The glue may end without a semicolon; the loader starts with a (.
    format!("(function(files){{{PARTS}\n{glue};\n{loader}\n}})({files});\n")
}

/// What answers the glue's `require` of the later parts' loaders.
const PARTS: &str = include_str!("../../src/element-parts.js");

/// A classic script's files: beside the script (its `src`), with their
/// integrity hashes when the names are content-hashed.
fn classic_files(
    wasm: &str,
    css: &str,
    integrity: Option<(&str, &str)>,
    later: &[(String, Vec<Part>)],
) -> String {
    let (wasm_integrity, css_integrity) = integrity.unwrap_or_default();
    let later = later_files(later, "", "b");
    format!(
        "(b=>({{wasm:new URL(\"{wasm}\",b).href,wasmIntegrity:\"{wasm_integrity}\",\
         style:new URL(\"{css}\",b).href,styleIntegrity:\"{css_integrity}\",later:{later}}}))\
         (document.currentScript?document.currentScript.src:location.href)"
    )
}

/// The module's files: `new URL("./…", import.meta.url)`, the form bundlers
/// recognise and copy the file for.
fn module_files(later: &[(String, Vec<Part>)]) -> String {
    let later = later_files(later, "./", "import.meta.url");
    format!(
        "{{wasm:new URL(\"./{WASM}\",import.meta.url).href,wasmIntegrity:\"\",\
         style:new URL(\"./{STYLESHEET}\",import.meta.url).href,styleIntegrity:\"\",later:{later}}}"
    )
}

/// `{<split point>:[{url:…,integrity:"…"},…],…}`: each part's URL is
/// `new URL("<prefix><its hashed name>", <base>)`. Every script, with
/// stable names or not, names the later parts by their content hash, with
/// their integrity: a part of another build would run on this build's
/// memory and function table.
fn later_files(later: &[(String, Vec<Part>)], prefix: &str, base: &str) -> String {
    let points: Vec<String> = later
        .iter()
        .map(|(point, files)| {
            let files: Vec<String> = files
                .iter()
                .map(|part| {
                    format!(
                        "{{url:new URL(\"{prefix}{}\",{base}).href,integrity:\"{}\"}}",
                        part.hashed, part.integrity
                    )
                })
                .collect();
            format!("{point}:[{}]", files.join(","))
        })
        .collect();
    format!("{{{}}}", points.join(","))
}

/// The component's version, from the root `Cargo.toml`.
pub fn version() -> Result<String> {
    let path = root().join("Cargo.toml");
    let manifest =
        std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    manifest
        .split("\n[")
        .find(|section| section.starts_with("package]"))
        .and_then(|section| {
            section.lines().find_map(|line| {
                let (key, value) = line.split_once('=')?;
                (key.trim() == "version").then(|| value.trim().trim_matches('"').to_owned())
            })
        })
        .ok_or_else(|| format!("{}: no [package] version", path.display()))
}

/// A copy of the package under its versioned name, replacing any before.
fn copy_folder(from: &Path, to: &Path) -> Result {
    if to.exists() {
        std::fs::remove_dir_all(to).map_err(|e| format!("{}: {e}", to.display()))?;
    }
    std::fs::create_dir_all(to).map_err(|e| format!("{}: {e}", to.display()))?;
    for name in list(from)? {
        std::fs::copy(from.join(&name), to.join(&name))
            .map_err(|e| format!("{}: {e}", to.join(&name).display()))?;
    }
    Ok(())
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
    std::fs::write(out.join(format!("{name}.br")), release::brotli(bytes)?).map_err(fail)?;
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
