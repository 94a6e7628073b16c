//! The workspace's `[patch]` of wasm-streams (crates/wasm-streams-shim)
//! must stay in force: if Leptos moved to another wasm-streams, cargo
//! would only warn, and the real crate's stream classes would ship.

#[test]
fn the_wasm_streams_stand_in_is_the_only_wasm_streams_built() {
    let lock_path = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.lock");
    let lock = std::fs::read_to_string(lock_path).expect("Cargo.lock");
    let packages: Vec<&str> = lock
        .split("[[package]]")
        .filter(|package| package.contains("\nname = \"wasm-streams\"\n"))
        .collect();
    assert_eq!(packages.len(), 1, "one wasm-streams: {packages:?}");
    assert!(
        !packages[0].contains("source ="),
        "the wasm-streams built is the workspace's stand-in, not a registry crate: {}",
        packages[0]
    );
    let unused = lock.split("[[patch.unused]]").skip(1).collect::<Vec<_>>();
    assert!(
        unused
            .iter()
            .all(|patch| !patch.contains("name = \"wasm-streams\"")),
        "the patch is in use: {unused:?}"
    );
}
