//! Writes `crates/contract/openapi.json`, the HTTP contract as OpenAPI 3.1,
//! from the contract's types: `cargo xtask openapi` runs it.

fn main() -> std::io::Result<()> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");
    std::fs::write(path, payment_contract::openapi::to_json())?;
    println!("wrote {path}");
    Ok(())
}
