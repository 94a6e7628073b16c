//! The `<payment-selector>` custom element's wasm: what the loader
//! (`src/element.js`) calls, and nothing of the preview. `cargo xtask dist`
//! builds it into the storefront package.

use wasm_bindgen::prelude::*;

/// Mounts a checkout into `root`; see [`payment_selector::element::mount`].
#[wasm_bindgen]
pub fn mount(
    root: web_sys::HtmlElement,
    options: JsValue,
    emit: js_sys::Function,
    drawn: js_sys::Function,
) -> u32 {
    payment_selector::element::mount(root, options, emit, drawn)
}

/// Pays before the checkout is drawn; see [`payment_selector::element::pay`].
#[wasm_bindgen]
pub fn pay(handle: u32, method: JsValue) -> bool {
    payment_selector::element::pay(handle, method)
}

/// Switches a checkout's language; see
/// [`payment_selector::element::set_locale`].
#[wasm_bindgen]
pub fn set_locale(handle: u32, tag: Option<String>) {
    payment_selector::element::set_locale(handle, tag)
}

/// Unmounts a checkout [`mount`] made.
#[wasm_bindgen]
pub fn unmount(handle: u32) {
    payment_selector::element::unmount(handle)
}

fn main() {}
