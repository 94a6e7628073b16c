//! Plain JavaScript objects built from Rust, as browser APIs (`fetch`,
//! the wallets' bridges) take their options.

use wasm_bindgen::JsValue;

/// Sets a property of a plain object the caller made.
pub(crate) fn set(object: &js_sys::Object, key: &str, value: &JsValue) {
    // Setting a property on a fresh plain object cannot fail.
    let _ = js_sys::Reflect::set(object, &key.into(), value);
}
