//! Short names for the wasm's imports from its glue and for the glue's
//! calls into closures. wasm-bindgen names each import after its function
//! and a 16-digit hash (`__wbg_addEventListener_847fd86b8c33ec43`), and
//! each closure trampoline after its full Rust type; every name is written
//! twice, in the wasm and in the script, and the hashes do not compress;
//! every import also names the glue's file. The names are renamed in both,
//! the same way; the code is not touched. Custom sections (the producers,
//! the target features), which no browser reads, are left out.

use std::collections::HashMap;

use wasm_encoder::{EntityType, ExportKind, ExportSection, ImportSection, Module, RawSection};
use wasmparser::{ExternalKind, Parser, Payload, TypeRef};

use crate::Result;

/// What the glue's import module is renamed to (wasm-bindgen names it
/// after the glue's file, `./payment-selector-element_bg.js`, on every
/// import).
const GLUE_MODULE: &str = "w";

/// Renames the glue's imports (`__wbg_…`) and closure trampolines
/// (`wasm_bindgen_…`) in `wasm` and in `script`, which must name each of
/// them; the module's other names (`memory`, `mount`, `__wbindgen_…`)
/// stay.
pub fn shorten(wasm: &[u8], script: &str) -> Result<(Vec<u8>, String)> {
    let mut renames: HashMap<String, String> = HashMap::new();
    let mut rename = |name: &str| -> String {
        let next = renames.len();
        renames
            .entry(name.to_owned())
            .or_insert_with(|| short_name(next))
            .clone()
    };
    let mut glue_module = None;
    let mut module = Module::new();
    let fail = |e: wasmparser::BinaryReaderError| format!("the wasm could not be read: {e}");
    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload.map_err(fail)?;
        match &payload {
            Payload::ImportSection(reader) => {
                let mut imports = ImportSection::new();
                for import in reader.clone().into_imports() {
                    let import = import.map_err(fail)?;
                    let TypeRef::Func(index) = import.ty else {
                        return Err(format!(
                            "unexpected import {}.{}",
                            import.module, import.name
                        ));
                    };
                    // The loader of the wasm's second part keeps its name:
                    // the glue asks for it by that name (see split.rs).
                    if import.module == crate::split::LINK_MODULE {
                        imports.import(import.module, import.name, EntityType::Function(index));
                        continue;
                    }
                    if !import.module.ends_with("_bg.js") {
                        return Err(format!("an import not from the glue: {}", import.module));
                    }
                    glue_module = Some(import.module.to_owned());
                    let name = if import.name.starts_with("__wbg_") {
                        rename(import.name)
                    } else {
                        import.name.to_owned()
                    };
                    imports.import(GLUE_MODULE, &name, EntityType::Function(index));
                }
                module.section(&imports);
            }
            Payload::ExportSection(reader) => {
                let mut exports = ExportSection::new();
                for export in reader.clone() {
                    let export = export.map_err(fail)?;
                    let kind = match export.kind {
                        ExternalKind::Func | ExternalKind::FuncExact => ExportKind::Func,
                        ExternalKind::Table => ExportKind::Table,
                        ExternalKind::Memory => ExportKind::Memory,
                        ExternalKind::Global => ExportKind::Global,
                        ExternalKind::Tag => ExportKind::Tag,
                    };
                    let name = if export.name.starts_with("wasm_bindgen_") {
                        rename(export.name)
                    } else {
                        export.name.to_owned()
                    };
                    exports.export(&name, kind, export.index);
                }
                module.section(&exports);
            }
            // The producers, target features and the like: the browser
            // reads none of them.
            Payload::CustomSection(_) => {}
            other => {
                if let Some((id, range)) = other.as_section() {
                    module.section(&RawSection {
                        id,
                        data: &wasm[range],
                    });
                }
            }
        }
    }
    let mut script = script.to_owned();
    if let Some(long) = glue_module {
        let quoted = format!("\"{long}\"");
        if !script.contains(&quoted) {
            return Err(format!("the glue does not name its module {quoted}"));
        }
        script = script.replace(&quoted, &format!("\"{GLUE_MODULE}\""));
    }
    // Longest first: one trampoline's name can start another's.
    let mut renames: Vec<(String, String)> = renames.into_iter().collect();
    renames.sort_by_key(|(long, _)| std::cmp::Reverse(long.len()));
    for (long, short) in &renames {
        if !script.contains(long.as_str()) {
            return Err(format!("the glue does not name {long}"));
        }
        script = script.replace(long.as_str(), short);
    }
    Ok((module.finish(), script))
}

/// `$0`, `$1`, … `$z`, `$10`, …: JavaScript identifiers that no other name
/// in the glue has.
fn short_name(index: usize) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut digits = Vec::new();
    let mut rest = index;
    loop {
        digits.push(DIGITS[rest % 36]);
        rest /= 36;
        if rest == 0 {
            break;
        }
    }
    digits.push(b'$');
    digits.reverse();
    String::from_utf8_lossy(&digits).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_are_distinct_identifiers() {
        let names: Vec<String> = (0..2000).map(short_name).collect();
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.len());
        assert_eq!(names[0], "$0");
        assert_eq!(names[36], "$10");
    }

    #[test]
    fn imports_and_trampolines_are_renamed_in_both_and_nothing_else() {
        // (module (import "wbg" "__wbg_log_0123456789abcdef" (func))
        //   (func $f) (export "mount" (func 1))
        //   (export "wasm_bindgen_closure_invoke" (func 1)))
        let wasm = wat_module();
        let script = r#"return {"./element_bg.js":{__wbg_log_0123456789abcdef:()=>{}}};E.wasm_bindgen_closure_invoke();E.mount()"#;
        let (renamed, script) = shorten(&wasm, script).expect("renamed");
        assert!(!script.contains("__wbg_log"), "{script}");
        assert!(!script.contains("wasm_bindgen_closure"), "{script}");
        assert!(script.contains("E.mount()"), "{script}");
        assert!(script.contains(r#"{"w":{"#), "{script}");
        let mut names = Vec::new();
        for payload in Parser::new(0).parse_all(&renamed) {
            match payload.expect("valid") {
                Payload::ImportSection(reader) => {
                    for import in reader.into_imports() {
                        let import = import.expect("an import");
                        names.push(format!("{}.{}", import.module, import.name));
                    }
                }
                Payload::ExportSection(reader) => {
                    for export in reader {
                        names.push(export.expect("an export").name.to_owned());
                    }
                }
                _ => {}
            }
        }
        let short: Vec<&str> = names.iter().map(String::as_str).collect();
        assert_eq!(short.len(), 3);
        assert!(short.contains(&"mount"));
        for name in &short {
            let bare = name.trim_start_matches("w.");
            assert!(
                *name == "mount" || script.contains(bare),
                "{name} is named in the script: {script}"
            );
        }
        wasmparser::validate(&renamed).expect("still a valid module");
    }

    /// A module built with wasm-encoder: one import, one function, two
    /// exports.
    fn wat_module() -> Vec<u8> {
        use wasm_encoder::{CodeSection, Function, FunctionSection, Instruction, TypeSection};
        let mut module = Module::new();
        let mut types = TypeSection::new();
        types.ty().function([], []);
        module.section(&types);
        let mut imports = ImportSection::new();
        imports.import(
            "./element_bg.js",
            "__wbg_log_0123456789abcdef",
            EntityType::Function(0),
        );
        module.section(&imports);
        let mut functions = FunctionSection::new();
        functions.function(0);
        module.section(&functions);
        let mut exports = ExportSection::new();
        exports.export("mount", ExportKind::Func, 1);
        exports.export("wasm_bindgen_closure_invoke", ExportKind::Func, 1);
        module.section(&exports);
        let mut code = CodeSection::new();
        let mut body = Function::new([]);
        body.instruction(&Instruction::Call(0));
        body.instruction(&Instruction::End);
        code.function(&body);
        module.section(&code);
        module.finish()
    }
}
