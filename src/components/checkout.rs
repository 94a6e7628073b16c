use contract::{CheckoutSession, ClientContext, MethodKind};
use leptos::either::EitherOf5;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use super::after_pay::{self, After};
use super::outcome::OutcomeKind;
use super::{MethodList, PayButton, StatusLine};
use crate::api::Api;
use crate::browser;
use crate::checkout::{Checkout as State, Command, Completion, Event, Phase};
use crate::driver::Driver;
use crate::i18n::{Key, Locale};
use crate::later::{self, Arrival};
use crate::money;

/// Which screen the checkout shows; the parts inside each screen update
/// finely, so a poll or a clock tick never rebuilds the QR code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Screen {
    Loading,
    LoadFailed,
    Choosing,
    Scan(MethodKind),
    Outcome(OutcomeKind),
}

impl Screen {
    fn of(state: &State) -> Screen {
        match &state.phase {
            Phase::Loading => Screen::Loading,
            Phase::LoadFailed(_) => Screen::LoadFailed,
            Phase::Choosing | Phase::Creating(_) => Screen::Choosing,
            // After a reload the code can come back before the session:
            // the screen waits for it, to show the amount and controls.
            Phase::AwaitingScan { .. } if state.session.is_none() => Screen::Loading,
            Phase::AwaitingScan { intent, .. } => Screen::Scan(intent.method),
            Phase::Redirecting { stalled, .. } | Phase::InvokingWallet { stalled, .. } => {
                Screen::Outcome(if *stalled {
                    OutcomeKind::Stalled
                } else {
                    OutcomeKind::Leaving
                })
            }
            Phase::Checking { .. } => Screen::Outcome(OutcomeKind::Checking),
            Phase::Unconfirmed { .. } => Screen::Outcome(OutcomeKind::Unconfirmed),
            Phase::Succeeded(_) | Phase::PaidTwice(_) => Screen::Outcome(OutcomeKind::Succeeded),
            Phase::Failed(_) => Screen::Outcome(OutcomeKind::Failed),
            Phase::Canceled(_) => Screen::Outcome(OutcomeKind::Canceled),
            Phase::Expired(_) => Screen::Outcome(OutcomeKind::Expired),
        }
    }
}

/// The whole checkout for one session: the amount, the methods, the Pay
/// button, the hand-off and the outcome.
///
/// ```no_run
/// use leptos::prelude::*;
/// use payment_selector::components::Checkout;
///
/// leptos::mount::mount_to_body(|| view! {
///     <Checkout api_base="/api" session_id="cs_123" client_secret="cs_123_secret_abc" />
/// });
/// ```
#[component]
pub fn Checkout(
    /// The merchant backend's base URL for the contract, such as `"/api"`.
    #[prop(into)]
    api_base: String,
    /// The checkout session to pay.
    #[prop(into)]
    session_id: String,
    /// The session's client secret, handed to the page by the merchant's server.
    #[prop(into)]
    client_secret: String,
    /// The shopper's language; from the browser's languages when absent. A
    /// change redraws the screen in place: the payment and the shopper's
    /// choice stay.
    #[prop(optional, into)]
    locale: Option<Signal<Locale>>,
    /// The intent named by a provider's return URL, when the page is that
    /// return: the checkout then asks the server how the payment went.
    #[prop(optional_no_strip)]
    returning_intent: Option<String>,
    /// Where the shopper is; from the user agent when absent.
    #[prop(optional)]
    context: Option<ClientContext>,
    /// The session, when the storefront's page already has it (the answer
    /// of its create-session call): the methods show without waiting for
    /// the network, and are loaded again for this shopper's device.
    #[prop(optional_no_strip)]
    session: Option<CheckoutSession>,
    /// Called when the payment ends (paid, declined, canceled or expired),
    /// with its intent's id.
    #[prop(optional)]
    on_complete: Option<Callback<(Completion, String)>>,
) -> impl IntoView {
    let context = context.unwrap_or_else(browser::client_context);
    let (initial, commands) = opening(&session_id, returning_intent, session);
    let driver = Driver::new(
        RwSignal::new(initial),
        Api::new(api_base, client_secret),
        &session_id,
        context,
    )
    .on_complete(on_complete);
    live(driver, commands, locale)
}

/// Where a checkout for `session_id` starts, and the work it starts with:
/// back from a provider (`returning_intent`), reloaded while an intent was
/// in flight, or fresh; showing `session` at once when the page has it.
pub(crate) fn opening(
    session_id: &str,
    returning_intent: Option<String>,
    session: Option<CheckoutSession>,
) -> (State, Vec<Command>) {
    let (mut initial, mut commands) = match returning_intent {
        Some(intent_id) => State::returning(intent_id),
        None => match browser::remembered_intent(session_id) {
            Some(intent_id) => State::resuming(intent_id),
            None => State::start(),
        },
    };
    if let Some(session) = session {
        if let Ok(loaded) = initial.update_before_paying(Event::SessionLoaded(session)) {
            commands.extend(loaded);
        }
    }
    (initial, commands)
}

/// The checkout `driver` moves, on the page: runs `commands` (what it
/// starts with), looks again when the shopper comes back to the page, and
/// draws its screens in `locale` (the browser's languages when absent).
pub(crate) fn live(
    driver: Driver,
    commands: Vec<Command>,
    locale: Option<Signal<Locale>>,
) -> impl IntoView {
    driver.run_all(commands);
    let waker = driver.clone();
    let visibility = window_event_listener(leptos::ev::visibilitychange, move |_| {
        if browser::page_visible() {
            waker.dispatch(Event::CheckNow {
                ask_provider: false,
            });
        }
    });
    // Back from the provider's page through the back/forward cache: the
    // page is shown again as it was left, with no visibility change on
    // some browsers.
    let waker = driver.clone();
    let restored = window_event_listener(leptos::ev::pageshow, move |event| {
        if event.persisted() {
            waker.dispatch(Event::CheckNow {
                ask_provider: false,
            });
        }
    });
    on_cleanup(move || {
        visibility.remove();
        restored.remove();
    });
    // A new language draws the screens again from the same state: the
    // payment and the shopper's choice stay.
    move || {
        let locale = locale.map_or_else(browser::preferred_locale, |locale| locale.get());
        screens(driver.clone(), locale)
    }
}

/// A checkout shown in `state` and talking to no server: what the designer
/// gallery draws each state with. The shopper's actions still move it (a
/// QR code's countdown runs, "choose another" goes back to the methods),
/// but nothing is sent.
#[component]
pub fn CheckoutFixture(
    /// The state to show.
    state: State,
    /// The language.
    locale: Locale,
) -> impl IntoView {
    screens(Driver::fixture(state), locale)
}

/// Everything the shopper sees of the checkout `driver` moves.
fn screens(driver: Driver, locale: Locale) -> impl IntoView {
    let state = driver.state();
    let now = RwSignal::new(browser::now());
    // A server drawing the first screen has no clock to run.
    #[cfg(target_arch = "wasm32")]
    {
        let ticker = driver.clone();
        if let Ok(handle) = set_interval_with_handle(
            move || {
                let time = browser::now();
                now.set(time);
                ticker.dispatch(Event::Tick { now: time });
            },
            std::time::Duration::from_secs(1),
        ) {
            on_cleanup(move || handle.clear());
        }
    }

    let screen = Memo::new(move |_| state.with(Screen::of));
    // Formatted once per amount, not once per read or per poll.
    let total = Memo::new(move |_| {
        state.with(|s| s.session.as_ref().map(|session| session.amount.clone()))
    });
    let amount: Signal<String> = Memo::new(move |_| {
        total
            .get()
            .map(|total| money::format(&total, locale))
            .unwrap_or_default()
    })
    .into();
    let merchant = move || {
        state.with(|s| {
            s.session
                .as_ref()
                .map(|session| session.merchant_name.clone())
        })
    };
    let status = Signal::derive(move || state.with(State::status).map(|key| locale.text(key)));
    // The status an outcome's heading says as it takes the focus: the live
    // region then keeps quiet about it, so it is heard once.
    let focused_status = RwSignal::new(None);
    let announced = Signal::derive(move || {
        let key = state.with(State::status)?;
        (focused_status.get() != Some(key)).then(|| locale.text(key))
    });
    let error = move || state.with(State::error_message);

    let root = NodeRef::<leptos::html::Section>::new();
    // Whether the shopper is in the checkout: focus came into it and has
    // not moved to another element of the page since. A control disabled
    // or removed under their focus does not take them out.
    let engaged = StoredValue::new(false);
    let focus_left = move |event: leptos::ev::FocusEvent| {
        let outside = match event.related_target() {
            Some(to) => root
                .get_untracked()
                .is_some_and(|root| !root.contains(to.dyn_ref::<web_sys::Node>())),
            // Focus went nowhere: the shopper clicked away (or into a
            // frame), unless the control was taken from under them.
            None => event
                .target()
                .and_then(|from| from.dyn_into::<web_sys::Element>().ok())
                .is_some_and(|from| {
                    from.is_connected() && !from.matches(":disabled").unwrap_or(true)
                }),
        };
        if outside {
            engaged.set_value(false);
        }
    };
    let arrival = later::arrival();
    let body = {
        let driver = driver.clone();
        move || {
            let current = screen.get();
            // Focus follows the screen for a shopper who is in the checkout
            // (the control they were on goes with the old screen): the new
            // screen's heading (or first control) takes it. A shopper
            // elsewhere on the storefront's page keeps their place.
            let engaged = match root.get_untracked() {
                Some(root) if engaged.get_value() => {
                    request_animation_frame(move || browser::refocus(&root));
                    true
                }
                _ => false,
            };
            // An outcome's heading says its status, once its screen is here.
            let heading_says = (engaged
                && matches!(current, Screen::Outcome(_))
                && matches!(arrival.get(), Arrival::Ready(_)))
            .then(|| state.with_untracked(State::status))
            .flatten();
            focused_status.set(heading_says);
            match current {
                Screen::Loading => {
                    EitherOf5::A(view! { <div class="ps-skeleton" aria-hidden="true"></div> })
                }
                Screen::LoadFailed => {
                    let driver = driver.clone();
                    EitherOf5::B(view! {
                        <button class="ps-button" type="button" data-testid="reload"
                            on:click=move |_| driver.dispatch(Event::Reload)>
                            {locale.text(Key::TryAgain)}
                        </button>
                    })
                }
                Screen::Choosing => EitherOf5::C(choosing(driver.clone(), amount, arrival, locale)),
                // The screens after Pay come with the wasm's payment part,
                // which a slow line may still be bringing.
                Screen::Scan(_) | Screen::Outcome(_) => match arrival.get() {
                    Arrival::Ready(later) => EitherOf5::D((later.render)(After {
                        driver: driver.clone(),
                        screen: current,
                        now,
                        amount,
                        status,
                        locale,
                    })),
                    arrival => EitherOf5::E(after_pay::waiting(arrival, driver.clone(), locale)),
                },
            }
        }
    };

    view! {
        <section
            class="ps-checkout"
            part="checkout"
            lang=locale.tag()
            data-testid="checkout"
            node_ref=root
            on:focusin=move |_| engaged.set_value(true)
            on:focusout=focus_left
        >
            <header class="ps-checkout__header">
                <span class="ps-checkout__merchant" data-testid="merchant">{merchant}</span>
                <span class="ps-checkout__total">
                    <span class="ps-checkout__total-label">{locale.text(Key::Total)}</span>
                    " "
                    <strong class="ps-checkout__amount" data-testid="amount">{amount}</strong>
                </span>
            </header>
            {move || error().map(|key| {
                // The shopper's own act (closing a wallet's sheet) is told
                // politely, not as an alarm.
                let notice = key == Key::WalletClosed;
                view! {
                    <p
                        class=if notice { "ps-notice" } else { "ps-error" }
                        role=if notice { "status" } else { "alert" }
                        part="error"
                        data-testid="error"
                    >
                        {locale.text(key)}
                    </p>
                }
            })}
            {body}
            <StatusLine text=announced />
        </section>
    }
}

/// The method list and the Pay button, as one form.
fn choosing(
    driver: Driver,
    amount: Signal<String>,
    arrival: RwSignal<Arrival>,
    locale: Locale,
) -> impl IntoView {
    let state = driver.state();
    let methods = Signal::derive(move || {
        state.with(|s| {
            s.session
                .as_ref()
                .map(|session| session.methods.clone())
                .unwrap_or_default()
        })
    });
    let selected = Signal::derive(move || state.with(|s| s.selected));
    let busy = Signal::derive(move || state.with(|s| matches!(s.phase, Phase::Creating(_))));
    let no_choice = Signal::derive(move || state.with(|s| s.selected.is_none()));
    let select = {
        let driver = driver.clone();
        Callback::new(move |method| driver.dispatch(Event::Select(method)))
    };
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        driver.dispatch(Event::Pay {
            fresh_key: browser::random_key(),
        });
    };
    view! {
        // `method="dialog"`: a Pay tapped on a server-drawn first screen
        // before any script has run submits nowhere (no reload).
        <form class="ps-form" method="dialog" on:submit=submit>
            <MethodList methods selected disabled=busy locale on_select=select />
            <PayButton amount disabled=no_choice busy locale />
            // Pay's answer is read by the wasm's payment part.
            {move || (busy.get() && matches!(arrival.get(), Arrival::Retrying)).then(|| view! {
                <p class="ps-notice" role="status" data-testid="still-trying">
                    {locale.text(Key::StillTrying)}
                </p>
            })}
        </form>
    }
}
