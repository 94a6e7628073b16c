//! payment-selector: a checkout component that shows the payment methods a
//! merchant may take and hands the shopper to each provider the right way.
//!
//! - [`checkout`]: the checkout state machine, pure and browser-free;
//! - [`api`]: the HTTP client for the merchant backend's contract;
//! - [`components`]: the Leptos views, with [`components::Checkout`] on top
//!   (QR codes from Project Nayuki's `qrcodegen` crate);
//! - [`driver`]: runs the state machine's commands in the browser;
//! - `first_screen` (feature `ssr`): the first screen as HTML, for a server;
//! - [`i18n`], [`money`], [`context`]: words, amounts and the shopper's device.

pub mod api;
pub mod browser;
pub mod checkout;
pub mod components;
pub mod context;
pub mod decode;
pub mod driver;
pub mod element;
pub mod error;
#[cfg(feature = "ssr")]
pub mod first_screen;
pub mod gallery;
pub mod i18n;
mod js;
mod later;
pub mod money;
pub mod preview;
