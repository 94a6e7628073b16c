//! A stand-in for `wasm-streams`, patched in for this workspace only.
//!
//! Leptos 0.8 always turns on `server_fn`'s browser feature, which links
//! `wasm-streams`; that crate's `#[wasm_bindgen]` stream classes are
//! exports, so link-time optimisation keeps them, with their JS glue, in
//! every bundle: about 2.5 KB brotli of the storefront's checkout, which
//! has no server functions and never streams. This crate offers the four
//! calls `server_fn` makes (`from_raw`, `from_stream`, `into_raw`,
//! `into_stream`) without the classes. Making a stream traps: a
//! streaming server function stops the wasm at once rather than send or
//! receive nothing and look as if it worked (the checkout has none;
//! `tests/patches.rs` checks the patch still applies). Crates that
//! depend on payment-selector are not affected (`[patch]` applies to this
//! workspace alone).

use futures_util::stream::{self, Stream};
use wasm_bindgen::{JsCast, JsValue};

/// A readable stream, as `wasm_streams::ReadableStream` names it.
pub struct ReadableStream {
    raw: web_sys::ReadableStream,
}

impl ReadableStream {
    /// Wraps a browser stream.
    pub fn from_raw(raw: web_sys::ReadableStream) -> Self {
        Self { raw }
    }

    /// Not available: traps.
    pub fn from_stream<St>(_stream: St) -> Self
    where
        St: Stream<Item = Result<JsValue, JsValue>> + 'static,
    {
        streams_are_not_shipped();
        Self {
            raw: JsValue::UNDEFINED.unchecked_into(),
        }
    }

    /// The browser stream.
    pub fn into_raw(self) -> web_sys::ReadableStream {
        self.raw
    }

    /// Not available: traps.
    pub fn into_stream(self) -> impl Stream<Item = Result<JsValue, JsValue>> {
        streams_are_not_shipped();
        stream::empty()
    }
}

pub mod readable {
    //! Where `wasm_streams` keeps [`ReadableStream`](crate::ReadableStream).
    pub use crate::ReadableStream;
}

/// Stops the program: this stand-in has no streams to give.
fn streams_are_not_shipped() {
    std::process::abort()
}
