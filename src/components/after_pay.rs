//! The screens after Pay: the QR code and the outcomes, which the
//! storefront package carries in the wasm's payment part (`crate::later`),
//! and what the checkout shows while that part is not here.

use contract::MethodKind;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::checkout::Screen;
use super::outcome::OutcomeAction;
use super::{Outcome, QrPanel};
use crate::browser;
use crate::checkout::{Event, Phase};
use crate::driver::Driver;
use crate::i18n::{Key, Locale};
use crate::later::Arrival;

/// What the screens after Pay are drawn from.
pub(crate) struct After {
    pub driver: Driver,
    pub screen: Screen,
    pub now: RwSignal<i64>,
    pub amount: Signal<String>,
    pub status: Signal<Option<&'static str>>,
    pub locale: Locale,
}

/// What the checkout shows while the screens after Pay are not here: a
/// skeleton, and after a failed or long load a word that it is still
/// trying, with the way back to the methods.
pub(super) fn waiting(arrival: Arrival, driver: Driver, locale: Locale) -> impl IntoView {
    let retrying = matches!(arrival, Arrival::Retrying);
    view! {
        <div class="ps-skeleton" aria-hidden="true"></div>
        {retrying.then(|| view! {
            <p class="ps-notice" role="status" data-testid="still-trying">
                {locale.text(Key::StillTrying)}
            </p>
            <button
                class="ps-button ps-button--secondary"
                type="button"
                data-testid="choose-another"
                on:click=move |_| driver.dispatch(Event::ChooseAnother)
            >
                {locale.text(Key::ChooseAnother)}
            </button>
        })}
    }
}

/// Draws the screen after Pay that `after.screen` names.
pub(crate) fn render(after: After) -> AnyView {
    let After {
        driver,
        screen,
        now,
        amount,
        status,
        locale,
    } = after;
    match screen {
        Screen::Scan(method) => scanning(driver, method, now, amount, locale).into_any(),
        Screen::Outcome(kind) => {
            let state = driver.state();
            let on_action = Callback::new(move |action| {
                driver.dispatch(match action {
                    OutcomeAction::RetryHandOff => Event::RetryHandOff,
                    OutcomeAction::CheckAgain => Event::CheckNow { ask_provider: true },
                    OutcomeAction::RefreshCode => Event::RefreshCode {
                        fresh_key: browser::random_key(),
                    },
                    OutcomeAction::ChooseAnother => Event::ChooseAnother,
                })
            });
            // One code for every wallet: the wallet the phone paid with.
            let amount = Signal::derive(move || match state.with(|s| s.paying_with) {
                Some(wallet) => format!("{} · {}", amount.get(), locale.method_name(wallet)),
                None => amount.get(),
            });
            view! { <Outcome kind headline=status amount locale on_action /> }.into_any()
        }
        // The checkout draws the others itself.
        Screen::Loading | Screen::LoadFailed | Screen::Choosing => ().into_any(),
    }
}

/// The QR code screen, with its countdown and sandbox control.
fn scanning(
    driver: Driver,
    method: MethodKind,
    now: RwSignal<i64>,
    amount: Signal<String>,
    locale: Locale,
) -> impl IntoView {
    let state = driver.state();
    // The code is drawn once: a new code is a new intent, which reaches this
    // screen only through another one (Creating), so it gets a new panel.
    let (payload, expires_at) = state.with_untracked(|s| match &s.phase {
        Phase::AwaitingScan {
            payload,
            expires_at,
            ..
        } => (payload.clone(), *expires_at),
        _ => (String::new(), 0),
    });
    // The clock is read afresh, not from the last tick: the answer that
    // brought this code may have just set the server's time.
    let seconds_left = Signal::derive(move || {
        now.track();
        expires_at - browser::now()
    });
    let sandbox =
        state.with_untracked(|s| s.session.as_ref().is_some_and(|session| !session.livemode));
    let simulating = RwSignal::new(false);
    let on_simulate_scan = {
        let driver = driver.clone();
        let code_url = payload.clone();
        Callback::new(move |decline| {
            let driver = driver.clone();
            let code_url = code_url.clone();
            spawn_local(async move {
                // Whether or not the sandbox took the scan, the server tells
                // how the code stands; a scan that did not happen can be tried again.
                if driver.api().sandbox_scan(&code_url, decline).await.is_err() {
                    simulating.try_set(false);
                }
                // A decline is not notified (WeChat Pay only notifies
                // payments): the server must ask.
                driver.dispatch(Event::CheckNow {
                    ask_provider: decline,
                });
            });
        })
    };
    let on_choose_another = Callback::new(move |()| driver.dispatch(Event::ChooseAnother));
    view! {
        <QrPanel
            method
            payload
            seconds_left
            amount
            sandbox
            locale
            on_simulate_scan
            simulating
            on_choose_another
        />
    }
}
