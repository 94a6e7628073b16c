//! The Rust half of the `<payment-selector>` custom element: the page's
//! loader (`src/element.js`) calls [`mount`] with the element's settings
//! and a function to report endings through, and [`unmount`] when the
//! element leaves the page. The element's wasm (`src/bin/element.rs`)
//! exports both to the loader.

use std::any::Any;
use std::cell::RefCell;

use contract::CreatedCheckoutSession;
use leptos::prelude::*;
use serde::Deserialize;
use wasm_bindgen::JsValue;

use crate::components::Checkout;
use crate::i18n::{Key, Locale};

/// What the element passes from its attributes, its inline JSON and the
/// page's address.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Options {
    session_id: Option<String>,
    client_secret: Option<String>,
    api_base: Option<String>,
    locale: Option<String>,
    /// The merchant server's create-session answer, given inline.
    created: Option<CreatedCheckoutSession>,
    /// `payment_intent` from the address: the page is a provider's return.
    returning_intent: Option<String>,
}

thread_local! {
    /// The checkouts on the page, by handle; dropping one unmounts it.
    static MOUNTED: RefCell<Vec<Option<Box<dyn Any>>>> = const { RefCell::new(Vec::new()) };
}

/// Mounts a checkout into `root` and returns a handle for [`unmount`].
/// `emit(kind, intent_id)` is called when the payment ends (`kind` is
/// `succeeded`, `failed`, `canceled` or `expired`). Settings that cannot
/// be read, or a missing session, show an error in the element instead.
pub fn mount(root: web_sys::HtmlElement, options: JsValue, emit: js_sys::Function) -> u32 {
    let options: Options = crate::decode::from_js(options).unwrap_or_default();
    let locale = options
        .locale
        .as_deref()
        .and_then(Locale::from_tag)
        .unwrap_or_else(crate::browser::preferred_locale);
    let (session, inline_secret) = match options.created {
        Some(created) => (Some(created.session), Some(created.client_secret)),
        None => (None, None),
    };
    let session_id = options
        .session_id
        .or_else(|| session.as_ref().map(|session| session.id.clone()));
    let client_secret = options.client_secret.or(inline_secret);
    let api_base = options.api_base.unwrap_or_else(|| "/api".into());
    let returning_intent = options.returning_intent;
    let on_complete = Callback::new(
        move |(completion, intent_id): (crate::checkout::Completion, String)| {
            let _ = emit.call2(
                &JsValue::NULL,
                &completion.as_str().into(),
                &intent_id.into(),
            );
        },
    );
    let handle = match (session_id, client_secret) {
        (Some(session_id), Some(client_secret)) => {
            let handle = leptos::mount::mount_to(root, move || {
                view! {
                    <Checkout
                        api_base
                        session_id
                        client_secret
                        locale
                        returning_intent=returning_intent
                        session=session
                        on_complete
                    />
                }
            });
            Box::new(handle) as Box<dyn Any>
        }
        _ => Box::new(leptos::mount::mount_to(root, move || {
            view! {
                <p class="ps-error" role="alert" data-testid="error">
                    {locale.text(Key::ErrorMisconfigured)}
                </p>
            }
        })),
    };
    MOUNTED.with_borrow_mut(|mounted| {
        mounted.push(Some(handle));
        (mounted.len() - 1) as u32
    })
}

/// Unmounts the checkout [`mount`] returned `handle` for.
pub fn unmount(handle: u32) {
    let checkout =
        MOUNTED.with_borrow_mut(|mounted| mounted.get_mut(handle as usize).and_then(Option::take));
    drop(checkout);
}
