//! The wasm's part for a payment under way: reading the server's intents,
//! the hand-offs to providers, the polls, and the screens after Pay. The
//! storefront package (feature `split`) fetches it once the checkout is
//! drawn (`crate::element`), so the first screen and Pay wait only for the
//! parts before it: Pay's request goes out at once, and its answer is read
//! once this part is here. Every other build has it all in the one wasm,
//! here at once.

use contract::PaymentIntent;
use leptos::prelude::*;

use crate::api::IntentAnswer;
use crate::checkout::{Checkout, Command, Event};
use crate::components::after_pay::{self, After};
use crate::driver::{self, Driver};
use crate::error::CheckoutError;

/// What the payment part brings, as the parts before it call it.
#[derive(Clone, Copy)]
pub(crate) struct Later {
    /// Draws the screen after Pay that `After::screen` names.
    pub render: fn(After) -> AnyView,
    /// Reads the intent Pay's request was answered with.
    pub read_intent: fn(IntentAnswer) -> Result<PaymentIntent, CheckoutError>,
    /// Carries out a command of a payment under way.
    pub run: fn(&Driver, Command),
    /// Applies an event of a payment under way.
    pub update_paying: fn(&mut Checkout, Event) -> Vec<Command>,
}

/// The payment part's functions. Built where it is called: a table of them
/// in the first part's data would keep them in the first part.
fn later() -> Later {
    Later {
        render: after_pay::render,
        read_intent: IntentAnswer::read,
        run: driver::run_paying,
        update_paying: Checkout::update_paying,
    }
}

/// Where the payment part is.
#[derive(Clone, Copy)]
pub(crate) enum Arrival {
    /// On its way.
    #[cfg_attr(not(feature = "split"), allow(dead_code))]
    Coming,
    /// A load failed or is taking long; another is on its way.
    #[cfg_attr(not(feature = "split"), allow(dead_code))]
    Retrying,
    /// Here.
    Ready(Later),
}

#[cfg(not(feature = "split"))]
mod one_wasm {
    use super::*;

    /// The payment part, if it is here.
    pub(crate) fn here() -> Option<Later> {
        Some(later())
    }

    /// The payment part, once it is here.
    pub(crate) async fn wait() -> Later {
        later()
    }

    /// Where the payment part is, for views to follow.
    pub(crate) fn arrival() -> RwSignal<Arrival> {
        RwSignal::new(Arrival::Ready(later()))
    }
}

#[cfg(not(feature = "split"))]
pub(crate) use one_wasm::{arrival, here, wait};

#[cfg(feature = "split")]
mod split {
    use std::cell::{Cell, RefCell};
    use std::task::{Poll, Waker};
    use std::time::Duration;

    use leptos::task::spawn_local;

    use super::*;

    /// How long after the first failed load the next one starts; each
    /// failure after it doubles the wait, up to `LONGEST_WAIT`.
    const RETRY_AFTER: Duration = Duration::from_secs(3);
    const LONGEST_WAIT: Duration = Duration::from_secs(60);

    /// How long a load may take before the shopper is told it is still
    /// trying (a stalled line fails no fetch).
    const TOO_LONG: Duration = Duration::from_secs(10);

    /// The page's one load of the payment part, which every checkout on it
    /// waits for.
    struct Loader {
        arrival: ArcRwSignal<Arrival>,
        started: Cell<bool>,
        waiting: RefCell<Vec<Waker>>,
    }

    thread_local! {
        static LOADER: Loader = Loader {
            arrival: ArcRwSignal::new(Arrival::Coming),
            started: Cell::new(false),
            waiting: RefCell::new(Vec::new()),
        };
    }

    /// The payment part, if it is here.
    pub(crate) fn here() -> Option<Later> {
        match LOADER.with(|loader| loader.arrival.get_untracked()) {
            Arrival::Ready(later) => Some(later),
            Arrival::Coming | Arrival::Retrying => None,
        }
    }

    /// The payment part, once it is here (starting to bring it if nothing
    /// has yet).
    pub(crate) async fn wait() -> Later {
        bring();
        std::future::poll_fn(|context| match here() {
            Some(later) => Poll::Ready(later),
            None => {
                LOADER.with(|loader| loader.waiting.borrow_mut().push(context.waker().clone()));
                Poll::Pending
            }
        })
        .await
    }

    /// Where the payment part is, for views to follow; starts bringing it.
    pub(crate) fn arrival() -> RwSignal<Arrival> {
        bring();
        LOADER.with(|loader| loader.arrival.clone()).into()
    }

    fn arrive(arrival: Arrival) {
        let signal = LOADER.with(|loader| loader.arrival.clone());
        signal.set(arrival);
        if matches!(arrival, Arrival::Ready(_)) {
            let waiting = LOADER.with(|loader| loader.waiting.take());
            waiting.into_iter().for_each(Waker::wake);
        }
    }

    /// Starts the page's one load, unless it has started: failed loads are
    /// tried again, for as long as the page is open.
    fn bring() {
        if LOADER.with(|loader| loader.started.replace(true)) {
            return;
        }
        set_timeout(
            || {
                if here().is_none() {
                    arrive(Arrival::Retrying);
                }
            },
            TOO_LONG,
        );
        spawn_local(async {
            let mut wait = RETRY_AFTER;
            loop {
                match loaded().await {
                    Ok(later) => return arrive(Arrival::Ready(later)),
                    Err(_) => {
                        arrive(Arrival::Retrying);
                        gloo_timers::future::sleep(wait).await;
                        wait = (wait * 2).min(LONGEST_WAIT);
                    }
                }
            }
        });
    }

    /// The split point: the payment part holds what `later` names and all
    /// that it alone uses.
    #[leptos::wasm_split::wasm_split(
        after_pay,
        fallible,
        wasm_split_path = ::leptos::wasm_split
    )]
    fn loaded() -> Result<Later, leptos::wasm_split::SplitLoaderError> {
        Ok(later())
    }
}

#[cfg(feature = "split")]
pub(crate) use split::{arrival, here, wait};
