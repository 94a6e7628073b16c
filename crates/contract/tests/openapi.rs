//! `openapi.json` is the document the contract's types make: a change to a
//! wire type that is not written out there fails here.

#[test]
fn the_checked_in_document_is_the_one_the_types_make() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");
    let generated = payment_contract::openapi::to_json();
    let checked_in = std::fs::read_to_string(path).unwrap_or_default();
    if checked_in.replace("\r\n", "\n") == generated {
        return;
    }
    let first_difference = checked_in
        .lines()
        .zip(generated.lines())
        .position(|(old, new)| old != new)
        .unwrap_or_else(|| checked_in.lines().count().min(generated.lines().count()));
    panic!(
        "crates/contract/openapi.json is stale (from line {}): run `cargo xtask openapi` \
         to rewrite it, and review the change: it is the contract merchants read",
        first_difference + 1
    );
}
