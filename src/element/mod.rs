//! The Rust half of the `<payment-selector>` custom element: the page's
//! loader (`src/element.js`) calls [`mount`] with the element's settings,
//! a function to report endings through and one to say the checkout is
//! drawn; [`pay`] for a Pay the shopper tapped on the server's first
//! screen; [`set_locale`] when its `locale` attribute changes, and
//! [`unmount`] when the element leaves the page. The element's wasm
//! (`src/bin/element.rs`) exports them to the loader.
//!
//! This module holds each checkout's state until its view is drawn, with
//! no view code: the storefront package (feature `split`) carries it in the
//! wasm's first part, so that a Pay on the first screen goes out as soon
//! as that small part is in. The view (`drawn`) comes in the next part.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::task::{Poll, Waker};

use contract::{ClientContext, CreateIntent, CreatedCheckoutSession, MethodKind};
use serde::Deserialize;
use wasm_bindgen::JsValue;

use crate::api::{Api, IntentAnswer};
use crate::checkout::{Checkout, Command, Event};
use crate::error::CheckoutError;

mod drawn;

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

/// A checkout for a session, as it stands before its view is drawn.
struct Opening {
    state: Checkout,
    /// What the checkout starts with, for the view's driver to run.
    commands: Vec<Command>,
    api: Api,
    session_id: String,
    context: ClientContext,
    /// Pay's request, when the shopper paid before the view was drawn.
    sent: Option<Rc<Sent>>,
}

/// What a checkout's view is drawn from.
struct Placed {
    root: web_sys::HtmlElement,
    /// `None` when the settings name no session: the view says the
    /// checkout is misconfigured.
    opening: Option<Opening>,
    /// The `locale` attribute, last as set.
    locale: Option<String>,
    emit: js_sys::Function,
    drawn: js_sys::Function,
}

/// A checkout on the page, by handle.
enum Slot {
    /// Waiting for its view.
    Placed(Box<Placed>),
    /// Drawn: its handle among the views.
    Drawn(u32),
    /// Unmounted.
    Gone,
}

thread_local! {
    /// The checkouts on the page, by handle.
    static SLOTS: RefCell<Vec<Slot>> = const { RefCell::new(Vec::new()) };
}

/// Mounts a checkout into `root` and returns a handle for [`pay`],
/// [`set_locale`] and [`unmount`]. `emit(kind, intent_id)` is called when
/// the payment ends (`kind` is `succeeded`, `failed`, `canceled` or
/// `expired`); `drawn()` once the checkout is drawn in `root`, which may be
/// after this returns (the storefront package brings the view's part of
/// the wasm first). Settings that cannot be read, or a missing session,
/// show an error in the element instead.
pub fn mount(
    root: web_sys::HtmlElement,
    options: JsValue,
    emit: js_sys::Function,
    drawn: js_sys::Function,
) -> u32 {
    let options: Options = crate::decode::from_js(options).unwrap_or_default();
    let (session, inline_secret) = match options.created {
        Some(created) => (Some(created.session), Some(created.client_secret)),
        None => (None, None),
    };
    let session_id = options
        .session_id
        .or_else(|| session.as_ref().map(|session| session.id.clone()));
    let client_secret = options.client_secret.or(inline_secret);
    let opening = match (session_id, client_secret) {
        (Some(session_id), Some(client_secret)) => {
            let (state, commands) = crate::components::checkout::opening(
                &session_id,
                options.returning_intent,
                session,
            );
            let api_base = options.api_base.unwrap_or_else(|| "/api".into());
            Some(Opening {
                state,
                commands,
                api: Api::new(api_base, client_secret),
                session_id,
                context: crate::browser::client_context(),
                sent: None,
            })
        }
        _ => None,
    };
    let placed = Placed {
        root,
        opening,
        locale: options.locale,
        emit,
        drawn,
    };
    let handle = SLOTS.with_borrow_mut(|slots| {
        slots.push(Slot::Placed(Box::new(placed)));
        (slots.len() - 1) as u32
    });
    wasm_bindgen_futures::spawn_local(draw_when_here(handle));
    handle
}

/// Draws the checkout `handle` names once the view's part is here, unless
/// it was unmounted meanwhile.
async fn draw_when_here(handle: u32) {
    let view = drawn::wait().await;
    let placed = SLOTS.with_borrow_mut(|slots| {
        let slot = slots.get_mut(handle as usize)?;
        match std::mem::replace(slot, Slot::Gone) {
            Slot::Placed(placed) => Some(placed),
            other => {
                *slot = other;
                None
            }
        }
    });
    let Some(placed) = placed else {
        return;
    };
    let told = placed.drawn.clone();
    let drawn = (view.draw)(*placed);
    SLOTS.with_borrow_mut(|slots| {
        if let Some(slot) = slots.get_mut(handle as usize) {
            *slot = Slot::Drawn(drawn);
        }
    });
    let _ = told.call0(&JsValue::NULL);
}

/// Pays with `method` (a method's id, such as `"wechat_pay"`) in the
/// checkout `handle` names, before its view is drawn: Pay's request goes
/// out now, and the view shows its answer. False, and nothing sent, if the
/// checkout is drawn already (the loader then hands Pay to its form) or
/// cannot pay with that method now.
pub fn pay(handle: u32, method: JsValue) -> bool {
    let Ok(method) = crate::decode::from_js::<MethodKind>(method) else {
        return false;
    };
    SLOTS.with_borrow_mut(|slots| {
        let Some(Slot::Placed(placed)) = slots.get_mut(handle as usize) else {
            return false;
        };
        let Some(opening) = placed.opening.as_mut() else {
            return false;
        };
        opening.send_pay(method)
    })
}

impl Opening {
    /// Chooses `method` and sends Pay's request; false if nothing went.
    fn send_pay(&mut self, method: MethodKind) -> bool {
        if self.sent.is_some() {
            return false;
        }
        let _ = self.state.update_before_paying(Event::Select(method));
        let pay = Event::Pay {
            fresh_key: crate::browser::random_key(),
        };
        let Ok(commands) = self.state.update_before_paying(pay) else {
            return false;
        };
        let mut attempt = None;
        for command in commands {
            match command {
                Command::CreateIntent(created) => attempt = Some(created),
                other => self.commands.push(other),
            }
        }
        let Some(attempt) = attempt else {
            return false;
        };
        let sent = Rc::new(Sent::default());
        self.sent = Some(sent.clone());
        let (api, session_id) = (self.api.clone(), self.session_id.clone());
        let body = CreateIntent {
            method: attempt.method,
            client: self.context,
        };
        wasm_bindgen_futures::spawn_local(async move {
            let answer = api
                .create_intent(&session_id, &body, &attempt.idempotency_key)
                .await;
            sent.arrive(answer);
        });
        true
    }
}

/// Pay's request, sent before the checkout's view was drawn, and its
/// answer once here.
#[derive(Default)]
struct Sent {
    answer: RefCell<Option<Result<IntentAnswer, CheckoutError>>>,
    waiting: Cell<Option<Waker>>,
}

impl Sent {
    fn arrive(&self, answer: Result<IntentAnswer, CheckoutError>) {
        self.answer.replace(Some(answer));
        if let Some(waker) = self.waiting.take() {
            waker.wake();
        }
    }

    /// The answer, once it is here (taken: asked for once).
    async fn answer(&self) -> Result<IntentAnswer, CheckoutError> {
        std::future::poll_fn(|context| match self.answer.take() {
            Some(answer) => Poll::Ready(answer),
            None => {
                self.waiting.set(Some(context.waker().clone()));
                Poll::Pending
            }
        })
        .await
    }
}

/// Redraws the checkout [`mount`] returned `handle` for in the language
/// `tag` names (the browser's when `None`), keeping its payment and the
/// shopper's choice.
pub fn set_locale(handle: u32, tag: Option<String>) {
    let drawn = SLOTS.with_borrow_mut(|slots| match slots.get_mut(handle as usize) {
        Some(Slot::Placed(placed)) => {
            placed.locale = tag.clone();
            None
        }
        Some(Slot::Drawn(drawn)) => Some(*drawn),
        _ => None,
    });
    if let (Some(drawn), Some(view)) = (drawn, drawn::here()) {
        (view.set_locale)(drawn, tag);
    }
}

/// Unmounts the checkout [`mount`] returned `handle` for.
pub fn unmount(handle: u32) {
    let slot = SLOTS.with_borrow_mut(|slots| {
        slots
            .get_mut(handle as usize)
            .map(|slot| std::mem::replace(slot, Slot::Gone))
    });
    if let (Some(Slot::Drawn(drawn)), Some(view)) = (slot, drawn::here()) {
        (view.unmount)(drawn);
    }
}
