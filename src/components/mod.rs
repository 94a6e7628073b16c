//! The views. [`Checkout`] is the whole checkout; the others are its parts,
//! each rendering a slice of the state and reporting what the shopper does.

mod checkout;
mod method_list;
mod outcome;
mod pay_button;
mod qr_code;
mod qr_panel;
mod status_line;

pub use checkout::{Checkout, CheckoutFixture};
pub use method_list::MethodList;
pub use outcome::Outcome;
pub use pay_button::PayButton;
pub use qr_code::{encode_qr, QrCode};
pub use qr_panel::QrPanel;
pub use status_line::StatusLine;

use std::sync::atomic::{AtomicUsize, Ordering};

/// A prefix for element ids that no other instance on the page uses.
fn unique_prefix() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(1);
    format!("ps{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// `text` safe in HTML's text and in a double-quoted attribute.
pub(crate) fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '"' => escaped.push_str("&quot;"),
            '<' => escaped.push_str("&lt;"),
            c => escaped.push(c),
        }
    }
    escaped
}
