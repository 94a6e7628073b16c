//! Runs the state machine in the browser: applies events to the checkout
//! signal and carries out the commands they return, feeding each result back
//! as an event.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use contract::{ClientContext, CreateIntent};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{Api, IntentAnswer};
use crate::browser;
use crate::checkout::{Checkout, Command, Completion, Event};
use crate::error::CheckoutError;
use crate::later;

/// The checkout's state and the means to move it. Cheap to clone; every
/// clone drives the same checkout.
#[derive(Clone)]
pub struct Driver {
    state: RwSignal<Checkout>,
    api: Api,
    session_id: Arc<str>,
    context: ClientContext,
    polls: Arc<PollGate>,
    on_complete: Option<Callback<(Completion, String)>>,
    /// False for a fixture: its commands are dropped, not run.
    live: bool,
}

/// Keeps status requests to one at a time per intent, and lets a newer
/// scheduled request replace an older one still waiting.
#[derive(Default)]
struct PollGate {
    generation: AtomicU64,
    /// The intent whose status request is running, if any, and whether a
    /// check that asks the provider came while it ran.
    in_flight: Mutex<Option<(String, bool)>>,
}

impl PollGate {
    /// Claims the right to ask about `intent_id`; false if a request about
    /// it is already running (that one schedules the next itself, and asks
    /// the provider next if `ask_provider` is owed).
    fn claim(&self, intent_id: &str, ask_provider: bool) -> bool {
        let Ok(mut in_flight) = self.in_flight.lock() else {
            return false;
        };
        if let Some((running, owed)) = in_flight.as_mut() {
            if running == intent_id {
                *owed |= ask_provider;
                return false;
            }
        }
        *in_flight = Some((intent_id.to_owned(), false));
        true
    }

    /// Ends the request about `intent_id`; true if a check that asks the
    /// provider is owed.
    fn release(&self, intent_id: &str) -> bool {
        let Ok(mut in_flight) = self.in_flight.lock() else {
            return false;
        };
        match in_flight.take() {
            Some((running, owed)) if running == intent_id => owed,
            other => {
                *in_flight = other;
                false
            }
        }
    }
}

impl Driver {
    /// A driver for `session_id`, starting from `state`.
    pub fn new(
        state: RwSignal<Checkout>,
        api: Api,
        session_id: &str,
        context: ClientContext,
    ) -> Self {
        Self {
            state,
            api,
            session_id: session_id.into(),
            context,
            polls: Arc::default(),
            on_complete: None,
            live: true,
        }
    }

    /// A driver that moves `state` but runs nothing: no requests, no
    /// redirects (the designer gallery's fixtures).
    pub fn fixture(state: Checkout) -> Self {
        let context = ClientContext::default();
        Self {
            live: false,
            ..Driver::new(RwSignal::new(state), Api::new("", ""), "", context)
        }
    }

    /// Calls `on_complete` with each ending the checkout reaches, and its
    /// intent's id.
    pub fn on_complete(mut self, on_complete: Option<Callback<(Completion, String)>>) -> Self {
        self.on_complete = on_complete;
        self
    }

    /// The checkout, for views to read.
    pub fn state(&self) -> RwSignal<Checkout> {
        self.state
    }

    /// The API client, for the sandbox controls.
    pub fn api(&self) -> &Api {
        &self.api
    }

    /// Applies `event` and runs what it calls for. An event of a payment
    /// under way that comes before the wasm's payment part waits for it,
    /// but for the page's nudges (a clock tick, a look again on coming
    /// back to the page), which are dropped: no payment on the page has
    /// moved yet for them to act on, and a nudge replayed later would act
    /// on whatever phase the checkout has reached by then.
    pub fn dispatch(&self, event: Event) {
        // A clock tick changes the checkout only when a code runs out, and
        // then it asks for a status check: views hear of no other tick.
        let is_tick = matches!(event, Event::Tick { .. });
        let is_nudge = is_tick || matches!(event, Event::CheckNow { .. });
        let mut ended = None;
        let mut early = None;
        let commands = self
            .state
            .try_maybe_update(|checkout| {
                let ongoing = checkout.completion().is_none();
                let awaited = checkout.awaited_intent().map(str::to_owned);
                let commands = match checkout.update_before_paying(event) {
                    Ok(commands) => commands,
                    Err(event) => match later::here() {
                        Some(later) => (later.update_paying)(checkout, event),
                        None => {
                            early = Some(event);
                            return (false, vec![]);
                        }
                    },
                };
                if ongoing {
                    ended = checkout
                        .completion()
                        .map(|(completion, intent)| (completion, intent.id.clone()));
                }
                if checkout.awaited_intent() != awaited.as_deref() {
                    browser::remember_intent(&self.session_id, checkout.awaited_intent());
                }
                (!is_tick || !commands.is_empty(), commands)
            })
            .unwrap_or_default();
        if let Some(event) = early.filter(|_| !is_nudge) {
            let driver = self.clone();
            spawn_local(async move {
                later::wait().await;
                driver.dispatch(event);
            });
        }
        if let (Some(ending), Some(on_complete)) = (ended, self.on_complete) {
            on_complete.run(ending);
        }
        self.run_all(commands);
    }

    /// Runs commands, such as those a fresh [`Checkout`] starts with.
    pub fn run_all(&self, commands: Vec<Command>) {
        for command in commands {
            self.run(command);
        }
    }

    fn run(&self, command: Command) {
        if !self.live {
            return;
        }
        let driver = self.clone();
        match command {
            Command::LoadSession => spawn_local(async move {
                // A page that had the session inline shows it first: loading
                // it again for this device waits until that is on screen.
                if driver
                    .state
                    .with_untracked(|checkout| checkout.session.is_some())
                {
                    after_paint().await;
                }
                let event = match driver.api.session(&driver.session_id, driver.context).await {
                    Ok(session) => Event::SessionLoaded(session),
                    Err(error) => Event::SessionFailed(error),
                };
                driver.dispatch(event);
            }),
            Command::CreateIntent(attempt) => spawn_local(async move {
                let body = CreateIntent {
                    method: attempt.method,
                    client: driver.context,
                };
                let answer = driver
                    .api
                    .create_intent(&driver.session_id, &body, &attempt.idempotency_key)
                    .await;
                driver.created(answer).await;
            }),
            // The rest are a payment's, under way: the wasm's payment part
            // carries them out.
            paying => match later::here() {
                Some(later) => (later.run)(self, paying),
                None => spawn_local(async move { (later::wait().await.run)(&driver, paying) }),
            },
        }
    }

    /// Moves the checkout on with Pay's answer, read once the wasm's second
    /// part is here (the storefront package may have sent Pay before this
    /// checkout was drawn: `crate::element`).
    pub(crate) async fn created(&self, answer: Result<IntentAnswer, CheckoutError>) {
        let created = match answer {
            Ok(answer) => (later::wait().await.read_intent)(answer),
            Err(error) => Err(error),
        };
        self.dispatch(match created {
            Ok(intent) => Event::IntentCreated(intent),
            Err(error) => Event::CreateFailed(error),
        });
    }

    async fn poll(&self, intent_id: String, delay_ms: u32, ask_provider: bool, generation: u64) {
        if delay_ms > 0 {
            gloo_timers::future::sleep(Duration::from_millis(delay_ms.into())).await;
        }
        let superseded = self.polls.generation.load(Ordering::SeqCst) != generation;
        if superseded || !self.awaits(&intent_id) || !self.polls.claim(&intent_id, ask_provider) {
            return;
        }
        let answer = self.api.intent(&intent_id, ask_provider).await;
        let owed = self.polls.release(&intent_id);
        self.dispatch(match answer {
            Ok(intent) => Event::IntentFetched(intent),
            Err(error) => Event::FetchFailed {
                intent_id: intent_id.clone(),
                error,
            },
        });
        // A "check again" (or a sandbox decline) that came while this
        // request ran still asks the provider.
        if owed {
            self.run(Command::FetchIntent {
                intent_id,
                delay_ms: 0,
                ask_provider: true,
            });
        }
    }

    /// True while the checkout (still mounted) waits for this intent.
    fn awaits(&self, intent_id: &str) -> bool {
        self.state
            .try_with_untracked(|checkout| checkout.awaited_intent() == Some(intent_id))
            .unwrap_or(false)
    }
}

/// Carries out a command of a payment under way: the polls, the hand-offs
/// to the providers, the watch on them and the cancel. The storefront
/// package has this in the wasm's payment part (`crate::later`).
pub(crate) fn run_paying(driver: &Driver, command: Command) {
    let driver = driver.clone();
    match command {
        Command::FetchIntent {
            intent_id,
            delay_ms,
            ask_provider,
        } => {
            let generation = driver.polls.generation.fetch_add(1, Ordering::SeqCst) + 1;
            spawn_local(async move {
                driver
                    .poll(intent_id, delay_ms, ask_provider, generation)
                    .await
            });
        }
        Command::Navigate {
            url,
            method,
            fields,
        } => {
            if let Err(error) = browser::navigate(&url, method, &fields) {
                driver.dispatch(Event::RedirectFailed(error));
            }
        }
        Command::InvokeWechat(params) => {
            invoke_wallet(driver, &browser::WECHAT, browser::wechat_pay_args(&params));
        }
        Command::InvokeAlipay { trade_no } => {
            invoke_wallet(driver, &browser::ALIPAY, browser::trade_pay_args(&trade_no));
        }
        Command::StopLeaving => browser::stop_loading(),
        Command::WatchHandOff {
            intent_id,
            delay_ms,
        } => set_timeout(
            move || driver.dispatch(Event::HandOffStalled { intent_id }),
            Duration::from_millis(delay_ms.into()),
        ),
        Command::CancelIntent { intent_id } => spawn_local(async move {
            // Best effort otherwise: the server also expires an abandoned
            // intent.
            if let Err(error) = driver.api.cancel_intent(&intent_id).await {
                driver.dispatch(Event::CancelRefused { intent_id, error });
            }
        }),
        Command::LoadSession | Command::CreateIntent(_) => driver.run(command),
    }
}

/// Starts a payment in a wallet's sheet; what it says comes back as events.
/// A bridge that arrives once the checkout has moved on (another method, a
/// payment seen meanwhile) opens nothing.
fn invoke_wallet(driver: Driver, bridge: &'static browser::Bridge, args: wasm_bindgen::JsValue) {
    let state = driver.state;
    let intent_id = state
        .try_with_untracked(|checkout| checkout.awaited_intent().map(str::to_owned))
        .flatten();
    let wanted = move || {
        state
            .try_with_untracked(|checkout| {
                matches!(
                    checkout.phase,
                    crate::checkout::Phase::InvokingWallet { .. }
                ) && checkout.awaited_intent() == intent_id.as_deref()
            })
            .unwrap_or(false)
    };
    browser::invoke_wallet(
        bridge,
        args,
        std::rc::Rc::new(wanted),
        std::rc::Rc::new(move |answer| driver.dispatch(Event::WalletReturned(answer))),
    );
}

/// Resolves once the browser has painted the current frame: after the next
/// animation frame, in the task that follows it.
async fn after_paint() {
    let painted = js_sys::Promise::new(&mut |resolve, _| {
        request_animation_frame(move || {
            set_timeout(
                move || drop(resolve.call0(&wasm_bindgen::JsValue::NULL)),
                Duration::ZERO,
            );
        });
    });
    let _ = wasm_bindgen_futures::JsFuture::from(painted).await;
}

#[cfg(test)]
mod tests {
    use super::PollGate;

    #[test]
    fn a_provider_check_asked_during_a_running_poll_is_owed_to_the_next() {
        let gate = PollGate::default();
        assert!(gate.claim("pi_1", false));
        assert!(!gate.claim("pi_1", true), "one request at a time");
        assert!(gate.release("pi_1"), "the provider check is still owed");
        assert!(gate.claim("pi_1", false));
        assert!(!gate.claim("pi_1", false));
        assert!(!gate.release("pi_1"), "nothing owed");
        assert!(gate.claim("pi_2", false), "free again");
    }
}
