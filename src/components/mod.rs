//! The views. [`Checkout`] is the whole checkout; the others are its parts,
//! each rendering a slice of the state and reporting what the shopper does.

pub(crate) mod after_pay;
pub(crate) mod checkout;
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
#[cfg(feature = "ssr")]
pub(crate) use qr_code::escape;
pub use qr_code::{encode_qr, QrCode};
pub use qr_panel::QrPanel;
pub use status_line::StatusLine;

use std::sync::atomic::{AtomicUsize, Ordering};

/// A prefix for element ids that no other instance on the page uses.
fn unique_prefix() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(1);
    format!("ps{}", NEXT.fetch_add(1, Ordering::Relaxed))
}
