//! Every check, in the order that fails fastest; the first failure stops the
//! run. CI calls exactly this.

use crate::serve::{self, Ports};
use crate::setup::{self, CHROMEDRIVER};
use crate::{release, root, run_step, size, Result};

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
            // The package's build: the split point and its loader.
            "--features",
            "split",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    run_step(
        "the library in a Leptos app that renders on its server (no csr)",
        tools.command("cargo").args([
            "check",
            "--package",
            "payment-selector",
            "--lib",
            "--no-default-features",
            "--features",
            "ssr",
        ]),
    )?;
    run_step(
        "native tests",
        tools.command("cargo").args(["test", "--workspace"]),
    )?;
    api_on_postgres(&tools, &[])?;
    run_step(
        "component tests in headless Chromium",
        tools
            .command("cargo")
            .args(["test", "--package", "payment-selector", "--target", WASM]),
    )?;
    release::build_preview(&tools)?;
    crate::dist::run(&tools)?;
    typecheck()?;
    journeys(&tools, &[])?;
    demo_stays_put(&tools)?;
    size::run(&tools, false, false)?;
    println!("\nall checks passed");
    Ok(())
}

/// `cargo xtask api-on-postgres [filter…]`: the reference server's API
/// tests (those whose names contain a filter, or all) again, each on a
/// database of its own on a throwaway PostgreSQL server (the native run
/// had SQLite).
pub fn api_on_postgres(tools: &setup::Tools, filters: &[String]) -> Result {
    let postgres = crate::postgres::Throwaway::start()?;
    run_step(
        "API tests on PostgreSQL",
        tools
            .command("cargo")
            .args(["test", "--package", "payment-server", "--test", "api", "--"])
            .args(filters)
            .env("PS_TEST_POSTGRES", &postgres.url),
    )
}

/// `cargo xtask e2e [filter…]`: the release page and package built, then
/// the end-to-end journeys (those whose names contain a filter, or all).
pub fn e2e(filters: &[String]) -> Result {
    let tools = setup::run()?;
    release::build_preview(&tools)?;
    crate::dist::run(&tools)?;
    journeys(&tools, filters)
}

/// The end-to-end journeys against the built page and package.
fn journeys(tools: &setup::Tools, filters: &[String]) -> Result {
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
                "--",
            ])
            .args(filters)
            .env("PS_DIST_DIR", &dist)
            .env("PS_AXE_CORE", setup::axe_core_script())
            .env("PS_CHROMEDRIVER", CHROMEDRIVER)
            .env("PS_CHROMIUM", setup::CHROMIUM),
    )
}

/// The package's typings as a storefront's toolchain reads them: a
/// TypeScript consumer (a page, React 19's JSX, Vue's components) and the
/// plain HTML shop's script, checked by `tsc` against the built package.
fn typecheck() -> Result {
    let modules = setup::typecheck_dir().join("node_modules");
    // The consumer's node_modules, as `npm install` would leave it: the
    // package, and React's and Vue's typings.
    let linked = root().join("examples/typescript/node_modules");
    if linked.exists() {
        std::fs::remove_dir_all(&linked).map_err(|e| format!("{}: {e}", linked.display()))?;
    }
    std::fs::create_dir_all(&linked).map_err(|e| format!("{}: {e}", linked.display()))?;
    let link = |from: &std::path::Path, name: &std::ffi::OsStr| {
        std::os::unix::fs::symlink(from, linked.join(name))
            .map_err(|e| format!("{}: {e}", linked.join(name).display()))
    };
    // A copy, not a link: its typings find React's and Vue's where an
    // installed package would, in the node_modules around it.
    let package = linked.join("payment-selector");
    std::fs::create_dir_all(&package).map_err(|e| format!("{}: {e}", package.display()))?;
    let dist = crate::dist::dir();
    for entry in std::fs::read_dir(&dist).map_err(|e| format!("{}: {e}", dist.display()))? {
        let entry = entry.map_err(|e| e.to_string())?;
        std::fs::copy(entry.path(), package.join(entry.file_name()))
            .map_err(|e| format!("{}: {e}", entry.path().display()))?;
    }
    for entry in std::fs::read_dir(&modules).map_err(|e| format!("{}: {e}", modules.display()))? {
        let entry = entry.map_err(|e| e.to_string())?;
        if !entry.file_name().to_string_lossy().starts_with('.') {
            link(&entry.path(), &entry.file_name())?;
        }
    }
    let tsc = modules.join("typescript/bin/tsc");
    for (what, project) in [
        (
            "a TypeScript storefront (page, React, Vue)",
            "examples/typescript",
        ),
        (
            "the plain HTML shop's script",
            "examples/plain-html/jsconfig.json",
        ),
    ] {
        run_step(
            &format!("tsc: {what} against the package's typings"),
            std::process::Command::new("node").arg(&tsc).args([
                "--project",
                project,
                "--pretty",
                "false",
            ]),
        )?;
    }
    Ok(())
}

/// The demo as `cargo xtask serve` runs it (trunk's page, its proxy, the
/// server's SQLite file in the demo's folder), on free ports: a shopper
/// stays on the QR screen while it polls, and the page must not reload.
fn demo_stays_put(tools: &setup::Tools) -> Result {
    let database = serve::data_dir().join("demo-check.sqlite");
    let demo = serve::start(tools, free_ports()?, &database.display().to_string())?;
    let checked = run_step(
        "the demo stays put while the checkout polls (cargo xtask serve's page)",
        tools
            .command("cargo")
            .args([
                "test",
                "--package",
                "payment-selector",
                "--features",
                "e2e",
                "--test",
                "demo",
            ])
            .env("PS_DEMO_URL", &demo.url)
            .env("PS_CHROMEDRIVER", CHROMEDRIVER)
            .env("PS_CHROMIUM", setup::CHROMIUM),
    );
    drop(demo);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", database.display()));
    }
    checked
}

/// Two ports nothing listens on now.
fn free_ports() -> Result<Ports> {
    let bind = || {
        std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| Ok((listener.local_addr()?.port(), listener)))
            .map_err(|e| format!("no free port: {e}"))
    };
    let (preview, _first) = bind()?;
    let (api, _second) = bind()?;
    let (sandbox, _third) = bind()?;
    Ok(Ports {
        preview,
        api,
        sandbox,
    })
}
