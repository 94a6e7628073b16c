//! Installs what the build and tests need, only where it is missing or the
//! wrong version. See `../shared/docs/toolchain.md` for why each pin.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{output_of, root, run_step, Result};

const TRUNK_VERSION: &str = "0.21.14";
const BINARYEN_VERSION: &str = "132";
/// The minifier of the package's script (trunk's leaves ~250 B brotli).
const TERSER_VERSION: &str = "5.51.4";
/// The accessibility checker the end-to-end tests inject into the gallery.
const AXE_VERSION: &str = "4.14.1";
/// What `cargo xtask test` type-checks the package's typings and the
/// examples with: TypeScript, and React's and Vue's own typings (a
/// storefront's, which ours augment).
const TYPECHECK_PACKAGES: [&str; 3] = ["typescript@5.9.3", "@types/react@19.3.3", "vue@3.5.47"];
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// The toolchain of the size-optimised release build (`-Zbuild-std`),
/// pinned by date so that a new nightly cannot change the bundle (or break
/// CI) overnight. It is the nightly these machines come with
/// (rustc 1.97.0-nightly e50aa6fba 2026-05-19).
pub const SIZE_TOOLCHAIN: &str = "nightly-2026-05-20";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Where the tools are, for the commands that use them.
pub struct Tools {
    /// PATH with binaryen's and cargo's bins first.
    pub path: String,
}

impl Tools {
    /// A command with the tools on PATH and the browser-test variables set.
    pub fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command
            .env("PATH", &self.path)
            .env("CHROMEDRIVER", CHROMEDRIVER)
            .env(
                "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
                "wasm-bindgen-test-runner",
            )
            .current_dir(root());
        command
    }
}

/// Installs what is missing and says where everything is.
pub fn run() -> Result<Tools> {
    let cargo_bin = cargo_home().join("bin");
    let binaryen_bin = binaryen_dir().join("node_modules").join(".bin");
    let path = format!(
        "{}:{}:{}",
        binaryen_bin.display(),
        cargo_bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let tools = Tools { path };

    wasm_target()?;
    trunk(&tools)?;
    wasm_bindgen(&tools)?;
    binaryen(&tools)?;
    axe_core()?;
    terser()?;
    typecheck_tools()?;
    browser()?;
    postgres()?;
    println!("==> tools ready");
    Ok(tools)
}

fn cargo_home() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from(".cargo"))
}

/// Packages from npm live outside the clone so that fresh clones on one
/// machine share them.
fn npm_cache() -> PathBuf {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cache")))
        .unwrap_or_else(|| root().join("target"))
        .join("payment-selector")
}

fn binaryen_dir() -> PathBuf {
    npm_cache().join(format!("binaryen-{BINARYEN_VERSION}"))
}

/// axe-core's browser build, which the end-to-end tests read
/// (`PS_AXE_CORE`).
pub fn axe_core_script() -> PathBuf {
    npm_cache()
        .join(format!("axe-core-{AXE_VERSION}"))
        .join("node_modules/axe-core/axe.min.js")
}

fn wasm_target() -> Result {
    let has_target = |toolchain: &str| {
        output_of(
            "rustup",
            &[&format!("+{toolchain}"), "target", "list", "--installed"],
        )
        .is_some_and(|list| {
            list.lines()
                .any(|line| line.trim() == "wasm32-unknown-unknown")
        })
    };
    if !has_target("stable") {
        run_step(
            "install the wasm32 target",
            Command::new("rustup").args([
                "target",
                "add",
                "wasm32-unknown-unknown",
                "--toolchain",
                "stable",
            ]),
        )?;
    }
    // The release bundle rebuilds std for size, which needs nightly's
    // sources.
    if output_of("rustup", &["run", SIZE_TOOLCHAIN, "rustc", "--version"]).is_none() {
        run_step(
            &format!("install the {SIZE_TOOLCHAIN} toolchain for the size build"),
            Command::new("rustup").args([
                "toolchain",
                "install",
                SIZE_TOOLCHAIN,
                "--profile",
                "minimal",
            ]),
        )?;
    }
    if !has_target(SIZE_TOOLCHAIN) {
        run_step(
            "install the wasm32 target for the size build",
            Command::new("rustup").args([
                "target",
                "add",
                "wasm32-unknown-unknown",
                "--toolchain",
                SIZE_TOOLCHAIN,
            ]),
        )?;
    }
    let components = output_of(
        "rustup",
        &[
            &format!("+{SIZE_TOOLCHAIN}"),
            "component",
            "list",
            "--installed",
        ],
    )
    .unwrap_or_default();
    if !components.lines().any(|line| line.starts_with("rust-src")) {
        run_step(
            "install rust-src for the size build",
            Command::new("rustup").args([
                "component",
                "add",
                "rust-src",
                "--toolchain",
                SIZE_TOOLCHAIN,
            ]),
        )?;
    }
    Ok(())
}

fn version_of(tools: &Tools, program: &str) -> String {
    tools
        .command(program)
        .arg("--version")
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| String::from_utf8_lossy(&output.stdout).into_owned())
        .unwrap_or_default()
}

fn trunk(tools: &Tools) -> Result {
    if version_of(tools, "trunk")
        .split_whitespace()
        .any(|word| word == TRUNK_VERSION)
    {
        return Ok(());
    }
    // trunk 0.22 needs a newer rustc than these machines have.
    run_step(
        &format!("install trunk {TRUNK_VERSION} (about 6 minutes)"),
        tools
            .command("cargo")
            .args(["install", "--locked", "trunk", "--version", TRUNK_VERSION]),
    )
}

/// The `wasm-bindgen` version in Cargo.lock: the CLI must match it exactly.
pub fn locked_wasm_bindgen() -> Result<String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock"))
        .map_err(|e| format!("Cargo.lock: {e}"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "name = \"wasm-bindgen\"" {
            if let Some(version) = lines
                .next()
                .and_then(|l| l.trim().strip_prefix("version = \""))
            {
                return Ok(version.trim_end_matches('"').to_owned());
            }
        }
    }
    Err("Cargo.lock has no wasm-bindgen".into())
}

fn wasm_bindgen(tools: &Tools) -> Result {
    let version = locked_wasm_bindgen()?;
    let has = |program| {
        version_of(tools, program)
            .split_whitespace()
            .any(|word| word == version)
    };
    if has("wasm-bindgen") && has("wasm-bindgen-test-runner") {
        return Ok(());
    }
    // Without --locked: the CLI's own lock file pins a crate that no longer builds.
    run_step(
        &format!("install wasm-bindgen-cli {version}"),
        tools.command("cargo").args([
            "install",
            "--force",
            "wasm-bindgen-cli",
            "--version",
            &version,
        ]),
    )
}

fn binaryen(tools: &Tools) -> Result {
    if version_of(tools, "wasm-opt").contains(&format!("version {BINARYEN_VERSION}")) {
        return Ok(());
    }
    // Debian's binaryen (108) builds a module that fails at start-up.
    npm_install(&binaryen_dir(), &[&format!("binaryen@{BINARYEN_VERSION}")])
}

fn axe_core() -> Result {
    if axe_core_script().exists() {
        return Ok(());
    }
    npm_install(
        &npm_cache().join(format!("axe-core-{AXE_VERSION}")),
        &[&format!("axe-core@{AXE_VERSION}")],
    )
}

fn terser_dir() -> PathBuf {
    npm_cache().join(format!("terser-{TERSER_VERSION}"))
}

/// terser, which minifies the package's script (`cargo xtask dist`).
pub fn terser_script() -> PathBuf {
    terser_dir().join("node_modules/terser/bin/terser")
}

fn terser() -> Result {
    if terser_script().exists() {
        return Ok(());
    }
    npm_install(&terser_dir(), &[&format!("terser@{TERSER_VERSION}")])
}

/// `packages` from npm into `dir`'s `node_modules` (npm itself first, if
/// the machine has none).
fn npm_install(dir: &Path, packages: &[&str]) -> Result {
    if output_of("npm", &["--version"]).is_none() {
        apt_install(&["nodejs", "npm"])?;
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    run_step(
        &format!("install {} from npm", packages.join(", ")),
        Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(dir)
            .args(packages),
    )
}

/// The folder holding TypeScript and the typings it checks against, in
/// its `node_modules`.
pub fn typecheck_dir() -> PathBuf {
    npm_cache().join(format!(
        "typecheck-{}",
        TYPECHECK_PACKAGES.join("-").replace('/', "+")
    ))
}

fn typecheck_tools() -> Result {
    let dir = typecheck_dir();
    if dir.join("node_modules/.bin/tsc").exists() {
        return Ok(());
    }
    npm_install(&dir, &TYPECHECK_PACKAGES)
}

fn browser() -> Result {
    if Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists() {
        return Ok(());
    }
    apt_install(&["chromium", "chromium-driver"])
}

/// PostgreSQL's server programs, for the throwaway cluster the tests and
/// the bench run the reference server on.
fn postgres() -> Result {
    if crate::postgres::bin_dir().is_some() {
        return Ok(());
    }
    apt_install(&["postgresql"])
}

fn apt_install(packages: &[&str]) -> Result {
    let root_user = output_of("id", &["-u"]).is_some_and(|id| id.trim() == "0");
    let apt = |args: &[&str]| {
        let mut command = if root_user {
            Command::new("apt-get")
        } else {
            Command::new("sudo")
        };
        if !root_user {
            command.arg("apt-get");
        }
        command.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        command
    };
    run_step("apt-get update", &mut apt(&["update", "-q"]))?;
    let mut args = vec!["install", "-y", "-q"];
    args.extend_from_slice(packages);
    run_step(&format!("install {}", packages.join(" ")), &mut apt(&args))
}

/// twiggy, for `cargo xtask size --why` only.
pub fn twiggy(tools: &Tools) -> Result {
    if !version_of(tools, "twiggy").is_empty() {
        return Ok(());
    }
    run_step(
        "install twiggy (about 2 minutes)",
        tools
            .command("cargo")
            .args(["install", "--locked", "twiggy", "--version", "0.8.0"]),
    )
}
