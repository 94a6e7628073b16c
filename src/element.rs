//! The Rust half of the `<payment-selector>` custom element: the page's
//! loader (`src/element.js`) calls [`mount`] with the element's settings
//! and a function to report endings through, [`set_locale`] when its
//! `locale` attribute changes, and [`unmount`] when the element leaves the
//! page. The element's wasm (`src/bin/element.rs`) exports them to the
//! loader.

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

/// A checkout on the page: its view (dropping it unmounts) and its language.
type Mounted = (Box<dyn Any>, ArcRwSignal<Locale>);

thread_local! {
    /// The checkouts on the page, by handle.
    static MOUNTED: RefCell<Vec<Option<Mounted>>> = const { RefCell::new(Vec::new()) };
}

/// The language a `locale` attribute asks for, else the browser's.
fn locale_of(tag: Option<&str>) -> Locale {
    tag.and_then(Locale::from_tag)
        .unwrap_or_else(crate::browser::preferred_locale)
}

/// Mounts a checkout into `root` and returns a handle for [`unmount`].
/// `emit(kind, intent_id)` is called when the payment ends (`kind` is
/// `succeeded`, `failed`, `canceled` or `expired`). Settings that cannot
/// be read, or a missing session, show an error in the element instead.
pub fn mount(root: web_sys::HtmlElement, options: JsValue, emit: js_sys::Function) -> u32 {
    let options: Options = crate::decode::from_js(options).unwrap_or_default();
    let locale = locale_of(options.locale.as_deref());
    let language = ArcRwSignal::new(locale);
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
    let view = match (session_id, client_secret) {
        (Some(session_id), Some(client_secret)) => {
            let language = language.clone();
            let handle = leptos::mount::mount_to(root, move || {
                // Made here, so that the checkout's owner frees it.
                let language: Signal<Locale> = language.into();
                view! {
                    <Checkout
                        api_base
                        session_id
                        client_secret
                        locale=language
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
                <p class="ps-error" part="error" role="alert" data-testid="error">
                    {locale.text(Key::ErrorMisconfigured)}
                </p>
            }
        })),
    };
    MOUNTED.with_borrow_mut(|mounted| {
        mounted.push(Some((view, language)));
        (mounted.len() - 1) as u32
    })
}

/// Redraws the checkout [`mount`] returned `handle` for in the language
/// `tag` names (the browser's when `None`), keeping its payment and the
/// shopper's choice.
pub fn set_locale(handle: u32, tag: Option<String>) {
    let language = MOUNTED.with_borrow(|mounted| {
        mounted
            .get(handle as usize)
            .and_then(Option::as_ref)
            .map(|(_, language)| language.clone())
    });
    if let Some(language) = language {
        language.set(locale_of(tag.as_deref()));
    }
}

/// Unmounts the checkout [`mount`] returned `handle` for.
pub fn unmount(handle: u32) {
    let checkout =
        MOUNTED.with_borrow_mut(|mounted| mounted.get_mut(handle as usize).and_then(Option::take));
    drop(checkout);
}
