//! The element's wasm in parts. The first holds what a working Pay on the
//! server's first screen needs, and no view code; the others are each
//! split point's: the checkout's view (`src/element/drawn.rs`), which the
//! first asks for at once, and what a payment under way needs
//! (`src/later.rs`), asked for once the checkout is drawn, with a chunk the
//! two share (`src/element-parts.js` loads them). A slow line then carries
//! only the first part before the shopper's Pay goes out.
//!
//! Cargo builds the element with the `split` feature and relocations kept
//! (`--emit-relocs`); `wasm_split_cli_support` (the splitter Leptos's
//! tooling uses) cuts the wasm at its split points; wasm-bindgen makes the
//! first part's glue; wasm-opt shrinks each part as trunk does the whole.

use std::path::Path;

use crate::setup::Tools;
use crate::{root, run_step, Result};

/// The module the first part imports its loaders of the second from
/// (`__wasm_split_load_<split point>`); the glue asks for it by this name
/// with `require`, which the package script answers.
pub const LINK_MODULE: &str = "./__wasm_split.js";

/// wasm-opt's passes for each part (trunk's were `-Oz` and these for the
/// whole); names, producers and target features, which no browser reads,
/// are left out.
const WASM_OPT: &[&str] = &[
    "-Oz",
    "--flatten",
    "--rereloop",
    "-Oz",
    "-Oz",
    "--converge",
    "--strip-debug",
    "--strip-producers",
    "--strip-target-features",
];

/// The parts, ready for the package.
pub struct Parts {
    /// The first part.
    pub first: Vec<u8>,
    /// wasm-bindgen's glue for the first part.
    pub glue: String,
    /// Each split point with its files.
    pub later: Vec<(String, Files)>,
}

/// A split point's files, in the order they are instantiated: (file stem,
/// wasm).
pub type Files = Vec<(String, Vec<u8>)>;

/// Cuts the release build of the element (`built`) into its parts.
pub fn cut(tools: &Tools, built: &Path) -> Result<Parts> {
    let work = root().join("target").join("element-parts");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
    let input = std::fs::read(built).map_err(|e| format!("{}: {e}", built.display()))?;
    let first_in = work.join("first.wasm");
    let mut options = wasm_split_cli_support::Options::new(&input);
    options.output_dir = &work;
    options.main_out_path = &first_in;
    options.link_name = LINK_MODULE;
    println!("\n==> wasm-split: the element's wasm in two parts");
    let split =
        wasm_split_cli_support::transform(options).map_err(|e| format!("wasm-split: {e:#}"))?;
    // `src/element.js` fetches this point's files ahead by name, and the
    // loader looks it up without a fallback.
    if !split.prefetch_map.contains_key(FETCHED_AHEAD) {
        return Err(format!(
            "wasm-split found no `{FETCHED_AHEAD}` split point: was the element built with `split`?"
        ));
    }

    let bindgen = work.join("bindgen");
    run_step(
        "wasm-bindgen: the first part's glue",
        tools
            .command("wasm-bindgen")
            .args(["--target", "no-modules", "--keep-lld-exports"])
            .args(["--out-name", "first", "--out-dir"])
            .arg(&bindgen)
            .arg(&first_in),
    )?;
    let glue_path = bindgen.join("first.js");
    let glue =
        std::fs::read_to_string(&glue_path).map_err(|e| format!("{}: {e}", glue_path.display()))?;
    if !glue.contains(&format!("require(\"{LINK_MODULE}\")")) {
        return Err(format!(
            "the glue no longer asks for {LINK_MODULE} with require"
        ));
    }
    let first = optimised(
        tools,
        &bindgen.join("first_bg.wasm"),
        &work.join("first.opt.wasm"),
    )?;

    let mut later = Vec::new();
    let mut points: Vec<_> = split.prefetch_map.into_iter().collect();
    points.sort();
    for (point, stems) in points {
        let mut files = Vec::new();
        for stem in stems {
            let wasm = optimised(
                tools,
                &work.join(format!("{stem}.wasm")),
                &work.join(format!("{stem}.opt.wasm")),
            )?;
            files.push((stem, wasm));
        }
        later.push((point, files));
    }
    Ok(Parts { first, glue, later })
}

/// The split point the element's loader fetches before the first part asks.
const FETCHED_AHEAD: &str = "view";

/// `input` through wasm-opt, as trunk does the whole wasm, read back.
fn optimised(tools: &Tools, input: &Path, output: &Path) -> Result<Vec<u8>> {
    run_step(
        &format!("wasm-opt {}", input.display()),
        tools
            .command("wasm-opt")
            .args(WASM_OPT)
            .arg(input)
            .arg("-o")
            .arg(output),
    )?;
    std::fs::read(output).map_err(|e| format!("{}: {e}", output.display()))
}
