//! What a storefront's toolchain reads of the package: `package.json` (an
//! ES module entry and the classic script), the TypeScript declarations
//! (the element, its attributes, property and events; React and Vue
//! typings beside), and `custom-elements.json`. The declarations and the
//! manifest are written by hand in `xtask/package/`; the shape of the
//! `session` property is made here from `crates/contract/openapi.json`, so
//! it follows the contract.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::{root, Result};

/// The declarations, with `// CONTRACT TYPES` where the contract's go.
const DECLARATIONS: &str = include_str!("../package/payment-selector.d.ts");
const REACT: &str = include_str!("../package/payment-selector.react.d.ts");
const VUE: &str = include_str!("../package/payment-selector.vue.d.ts");
const MANIFEST: &str = include_str!("../package/custom-elements.json");
/// `package.json`, with `0.0.0-VERSION` for the component's version. (By
/// hand, not serialised: the order of the `exports` conditions matters.)
const PACKAGE: &str = include_str!("../package/package.json");

/// The schemas the element's `session` property needs, from the contract.
const SESSION_SCHEMA: &str = "CreatedCheckoutSession";

/// `dist/payment-selector@<version>/`: the package under a name that never
/// changes content, for a storefront to pin (the path a package CDN gives
/// the npm package too).
pub fn versioned_dir(version: &str) -> PathBuf {
    root()
        .join("dist")
        .join(format!("payment-selector@{version}"))
}

/// Writes `package.json`, the declarations and the manifest into `out`.
pub fn write(out: &Path, version: &str) -> Result {
    let openapi = root().join("crates/contract/openapi.json");
    let openapi: Value = serde_json::from_str(
        &std::fs::read_to_string(&openapi).map_err(|e| format!("{}: {e}", openapi.display()))?,
    )
    .map_err(|e| format!("openapi.json: {e}"))?;
    let contract = typescript(&openapi["components"]["schemas"], SESSION_SCHEMA)?;
    let marker = "// CONTRACT TYPES\n";
    if !DECLARATIONS.contains(marker) {
        return Err("xtask/package/payment-selector.d.ts lost its // CONTRACT TYPES line".into());
    }
    let files = [
        (
            "payment-selector.d.ts",
            DECLARATIONS.replace(marker, &contract),
        ),
        ("payment-selector.react.d.ts", REACT.to_owned()),
        ("payment-selector.vue.d.ts", VUE.to_owned()),
        ("custom-elements.json", MANIFEST.to_owned()),
        ("package.json", PACKAGE.replace("0.0.0-VERSION", version)),
    ];
    for (name, text) in files {
        let path = out.join(name);
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

/// TypeScript declarations of `name` and every schema it refers to, in the
/// order first met.
fn typescript(schemas: &Value, name: &str) -> Result<String> {
    let mut queue = vec![name.to_owned()];
    let mut done: Vec<String> = Vec::new();
    let mut out = String::new();
    while let Some(name) = queue.pop() {
        if done.contains(&name) {
            continue;
        }
        let schema = schemas
            .get(&name)
            .ok_or_else(|| format!("openapi.json has no schema {name}"))?;
        let mut refs = Vec::new();
        let body = type_of(schema, &mut refs, 0);
        doc(&mut out, schema, "");
        if schema.get("properties").is_some() {
            let _ = writeln!(out, "export interface {name} {body}\n");
        } else {
            let _ = writeln!(out, "export type {name} = {body};\n");
        }
        done.push(name);
        queue.extend(refs.into_iter().rev());
    }
    Ok(out)
}

/// A `/** … */` comment from a schema's description.
fn doc(out: &mut String, schema: &Value, indent: &str) {
    if let Some(text) = schema.get("description").and_then(Value::as_str) {
        let _ = writeln!(out, "{indent}/**");
        for line in text.lines() {
            let _ = writeln!(out, "{indent} * {}", line.replace("*/", "*\\/"));
        }
        let _ = writeln!(out, "{indent} */");
    }
}

/// The TypeScript type of one schema; `refs` collects the schemas it names.
fn type_of(schema: &Value, refs: &mut Vec<String>, depth: usize) -> String {
    if let Some(target) = schema.get("$ref").and_then(Value::as_str) {
        let name = target.rsplit('/').next().unwrap_or(target).to_owned();
        refs.push(name.clone());
        return name;
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        return values
            .iter()
            .map(Value::to_string)
            .collect::<Vec<_>>()
            .join(" | ");
    }
    if let Some(options) = schema.get("oneOf").and_then(Value::as_array) {
        return options
            .iter()
            .map(|option| type_of(option, refs, depth))
            .collect::<Vec<_>>()
            .join(" | ");
    }
    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        let required: Vec<&str> = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|names| names.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let indent = "  ".repeat(depth + 1);
        let mut out = String::from("{\n");
        for (key, property) in properties {
            doc(&mut out, property, &indent);
            let optional = if required.contains(&key.as_str()) {
                ""
            } else {
                "?"
            };
            let _ = writeln!(
                out,
                "{indent}{key}{optional}: {};",
                type_of(property, refs, depth + 1)
            );
        }
        out.push_str(&"  ".repeat(depth));
        out.push('}');
        return out;
    }
    let one = |kind: &str| match kind {
        "string" => "string".to_owned(),
        "integer" | "number" => "number".to_owned(),
        "boolean" => "boolean".to_owned(),
        "null" => "null".to_owned(),
        "array" => format!(
            "Array<{}>",
            schema
                .get("items")
                .map(|items| type_of(items, &mut Vec::new(), depth))
                .unwrap_or_else(|| "unknown".into())
        ),
        "object" => "Record<string, unknown>".to_owned(),
        _ => "unknown".to_owned(),
    };
    match schema.get("type") {
        Some(Value::String(kind)) if kind == "array" => {
            let items = schema
                .get("items")
                .map(|items| type_of(items, refs, depth))
                .unwrap_or_else(|| "unknown".into());
            format!("Array<{items}>")
        }
        Some(Value::String(kind)) => one(kind),
        Some(Value::Array(kinds)) => kinds
            .iter()
            .filter_map(Value::as_str)
            .map(one)
            .collect::<Vec<_>>()
            .join(" | "),
        _ => "unknown".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_session_property_follows_the_contract() {
        let schemas = json!({
            "Created": {
                "description": "The answer.",
                "type": "object",
                "properties": {
                    "session": { "$ref": "#/components/schemas/Session" },
                    "note": { "type": ["string", "null"] }
                },
                "required": ["session"]
            },
            "Session": {
                "type": "object",
                "properties": {
                    "methods": { "type": "array", "items": { "$ref": "#/components/schemas/Kind" } },
                    "when": { "oneOf": [{ "type": "null" }, { "type": "integer" }] }
                },
                "required": ["methods"]
            },
            "Kind": { "type": "string", "enum": ["wechat_pay", "alipay"] }
        });
        let typescript = typescript(&schemas, "Created").expect("declarations");
        for expected in [
            "/**\n * The answer.\n */\nexport interface Created {",
            "  session: Session;\n",
            "  note?: string | null;\n",
            "export interface Session {\n  methods: Array<Kind>;\n  when?: null | number;\n}",
            "export type Kind = \"wechat_pay\" | \"alipay\";",
        ] {
            assert!(
                typescript.contains(expected),
                "{expected:?} in\n{typescript}"
            );
        }
    }
}

#[cfg(test)]
mod manifest {
    use super::*;

    fn element() -> Value {
        let manifest: Value = serde_json::from_str(MANIFEST).expect("custom-elements.json is JSON");
        manifest["modules"][0]["declarations"][0].clone()
    }

    fn names(list: &Value) -> Vec<String> {
        let mut names: Vec<String> = list
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|item| item["name"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    fn source(path: &str) -> String {
        std::fs::read_to_string(root().join(path)).expect(path)
    }

    /// Every `"<word>"` after `needle` in `text`.
    fn quoted_after(text: &str, needle: &str) -> Vec<String> {
        let mut found: Vec<String> = text
            .split(needle)
            .skip(1)
            .filter_map(|rest| rest.split('"').next().map(str::to_owned))
            .collect();
        found.sort();
        found.dedup();
        found
    }

    #[test]
    fn the_manifest_names_every_part_the_views_carry() {
        let mut parts = Vec::new();
        for entry in std::fs::read_dir(root().join("src/components")).expect("the views") {
            let path = entry.expect("a view").path();
            parts.extend(quoted_after(
                &std::fs::read_to_string(path).expect("a view"),
                "part=\"",
            ));
        }
        parts.extend(quoted_after(&source("src/element/drawn.rs"), "part=\""));
        parts.sort();
        parts.dedup();
        assert_eq!(names(&element()["cssParts"]), parts);
    }

    #[test]
    fn the_manifest_names_every_custom_property_the_stylesheet_reads() {
        let mut properties = quoted_after(
            &source("style/payment-selector.css").replace(['(', ',', ')'], "\""),
            "var\"--",
        );
        properties.retain(|name| name.starts_with("ps-"));
        let properties: Vec<String> = properties.iter().map(|name| format!("--{name}")).collect();
        assert_eq!(names(&element()["cssProperties"]), properties);
    }

    #[test]
    fn the_manifest_and_the_typings_name_the_element_s_attributes_and_events() {
        let loader = source("src/element.js");
        let observed = loader
            .split("observedAttributes = [")
            .nth(1)
            .and_then(|rest| rest.split(']').next())
            .expect("the loader's observedAttributes");
        let mut attributes: Vec<String> = observed
            .split(',')
            .map(|name| name.trim().trim_matches('"').to_owned())
            .collect();
        attributes.sort();
        assert_eq!(names(&element()["attributes"]), attributes);
        for attribute in &attributes {
            assert!(
                DECLARATIONS.contains(&format!("\"{attribute}\"?:"))
                    || DECLARATIONS.contains(&format!("  {attribute}?:")),
                "{attribute} in payment-selector.d.ts"
            );
        }
        for event in names(&element()["events"]) {
            assert!(
                DECLARATIONS.contains(&format!("\"{event}\": CustomEvent<")),
                "{event} in payment-selector.d.ts"
            );
        }
    }
}
