//! The element's checkouts drawn: Leptos mounts each into its element,
//! started from the state the first part kept (and Pay's request, if it
//! sent one). The storefront package (feature `split`) fetches this part
//! of the wasm as soon as the first part is in; every other build has it
//! at once.

use std::any::Any;
use std::cell::RefCell;

use leptos::prelude::*;
use wasm_bindgen::JsValue;

use super::Placed;
use crate::components::checkout::live;
use crate::driver::Driver;
use crate::i18n::{Key, Locale};

/// What this part brings, as the first part calls it.
#[derive(Clone, Copy)]
pub(super) struct View {
    /// Draws a checkout; the handle names it to the two below.
    pub draw: fn(Placed) -> u32,
    pub set_locale: fn(u32, Option<String>),
    pub unmount: fn(u32),
}

/// The part's functions. Built where it is called: a table of them in the
/// first part's data would keep them in the first part.
fn view() -> View {
    View {
        draw,
        set_locale,
        unmount,
    }
}

/// A checkout drawn: its view (dropping it unmounts) and its language.
type Mounted = (Box<dyn Any>, ArcRwSignal<Locale>);

thread_local! {
    /// The checkouts drawn, by handle.
    static MOUNTED: RefCell<Vec<Option<Mounted>>> = const { RefCell::new(Vec::new()) };
}

/// The language a `locale` attribute asks for, else the browser's.
fn locale_of(tag: Option<&str>) -> Locale {
    tag.and_then(Locale::from_tag)
        .unwrap_or_else(crate::browser::preferred_locale)
}

fn draw(placed: Placed) -> u32 {
    let Placed {
        root,
        opening,
        locale,
        emit,
        drawn: _,
    } = placed;
    let locale = locale_of(locale.as_deref());
    let language = ArcRwSignal::new(locale);
    let view = match opening {
        Some(opening) => {
            let language = language.clone();
            let on_complete = Callback::new(
                move |(completion, intent_id): (crate::checkout::Completion, String)| {
                    let _ = emit.call2(
                        &JsValue::NULL,
                        &completion.as_str().into(),
                        &intent_id.into(),
                    );
                },
            );
            let handle = leptos::mount::mount_to(root, move || {
                // Made here, so that the checkout's owner frees them.
                let driver = Driver::new(
                    RwSignal::new(opening.state),
                    opening.api,
                    &opening.session_id,
                    opening.context,
                )
                .on_complete(Some(on_complete));
                if let Some(sent) = opening.sent {
                    let driver = driver.clone();
                    leptos::task::spawn_local(async move {
                        driver.created(sent.answer().await).await;
                    });
                }
                live(driver, opening.commands, Some(language.into()))
            });
            Box::new(handle) as Box<dyn Any>
        }
        None => Box::new(leptos::mount::mount_to(root, move || {
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

fn set_locale(handle: u32, tag: Option<String>) {
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

fn unmount(handle: u32) {
    let checkout =
        MOUNTED.with_borrow_mut(|mounted| mounted.get_mut(handle as usize).and_then(Option::take));
    drop(checkout);
}

#[cfg(not(feature = "split"))]
mod one_wasm {
    use super::*;

    /// The view's part, if it is here.
    pub(in crate::element) fn here() -> Option<View> {
        Some(view())
    }

    /// The view's part, once it is here.
    pub(in crate::element) async fn wait() -> View {
        view()
    }
}

#[cfg(not(feature = "split"))]
pub(super) use one_wasm::{here, wait};

#[cfg(feature = "split")]
mod split {
    use std::cell::Cell;
    use std::time::Duration;

    use super::*;

    /// How long after the first failed load the next one starts; each
    /// failure after it doubles the wait, up to `LONGEST_WAIT`.
    const RETRY_AFTER: Duration = Duration::from_secs(3);
    const LONGEST_WAIT: Duration = Duration::from_secs(60);

    thread_local! {
        static HERE: Cell<Option<View>> = const { Cell::new(None) };
    }

    /// The view's part, if it is here.
    pub(in crate::element) fn here() -> Option<View> {
        HERE.get()
    }

    /// The view's part, once it is here: failed loads are tried again for
    /// as long as the page is open (the loader tells the shopper if the
    /// checkout takes too long).
    pub(in crate::element) async fn wait() -> View {
        let mut wait = RETRY_AFTER;
        loop {
            if let Some(view) = here() {
                return view;
            }
            match loaded().await {
                Ok(view) => {
                    HERE.set(Some(view));
                    return view;
                }
                Err(_) => {
                    gloo_timers::future::sleep(wait).await;
                    wait = (wait * 2).min(LONGEST_WAIT);
                }
            }
        }
    }

    /// The split point: the view's part holds what `view` names and all
    /// that it alone uses.
    #[leptos::wasm_split::wasm_split(view, fallible, wasm_split_path = ::leptos::wasm_split)]
    fn loaded() -> Result<View, leptos::wasm_split::SplitLoaderError> {
        Ok(view())
    }
}

#[cfg(feature = "split")]
pub(super) use split::{here, wait};
