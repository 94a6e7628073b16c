//! The checkout as one state machine: [`Checkout::update`] takes an
//! [`Event`] and returns the [`Command`]s to run. It is pure, with no
//! browser and no clock, so every transition is tested natively; the
//! components only render a [`Checkout`] and feed events back.

use contract::{
    Availability, CheckoutSession, ErrorCode, Flow, FormMethod, IntentStatus, MethodKind,
    NextAction, PaymentIntent, PaymentMethod, SessionStatus, UnixSeconds, WechatJsapiParams,
};

use crate::error::CheckoutError;
use crate::i18n::Key;

/// How long to wait before asking for an intent's status again, by how many
/// times it has been asked: every 2 s for about a minute, then every 10 s.
pub fn poll_delay_ms(polls: u32) -> u32 {
    if polls < 30 {
        2_000
    } else {
        10_000
    }
}

/// After a failed status request, wait at least this long before the next.
const RETRY_AFTER_FAILURE_MS: u32 = 5_000;

/// How long a hand-off may take before the shopper is offered to try it
/// again or pay another way: a navigation the page held back (a shop's
/// "leave this page?", a CSP `form-action`, a sandboxed frame), or a
/// wallet's sheet that never came.
pub const HAND_OFF_PATIENCE_MS: u32 = 5_000;

/// One try at paying with one method. Its key makes the create request safe
/// to send again after a dropped connection: the server answers with the
/// same intent instead of making a second one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// The chosen method.
    pub method: MethodKind,
    /// The `Idempotency-Key` for this try.
    pub idempotency_key: String,
}

/// The whole checkout, as the shopper sees it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Checkout {
    /// The session, once loaded.
    pub session: Option<CheckoutSession>,
    /// The method the shopper picked.
    pub selected: Option<MethodKind>,
    /// Where the checkout stands.
    pub phase: Phase,
    /// What went wrong last, shown beside the method list.
    pub error: Option<CheckoutError>,
    /// A try whose create request failed in a way a retry may fix; pressing
    /// Pay again with the same method reuses its key.
    pub retry: Option<Attempt>,
    /// The intent whose wallet bridge was opened: it is never opened twice.
    pub bridged: Option<String>,
    /// The intent the page was showing before a reload (or Back), until its
    /// first answer: a code still payable is shown again.
    pub resumed: Option<String>,
    /// An intent found canceled whose session has been read since: a
    /// payment of the session by another of its intents would have shown.
    pub canceled_checked: Option<String>,
    /// The wallet a phone pays one code for every wallet with, as the
    /// server tells once a phone has opened it.
    pub paying_with: Option<MethodKind>,
}

/// Where the checkout stands.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Phase {
    /// Fetching the session and its methods.
    #[default]
    Loading,
    /// The session could not be loaded: nothing can be paid.
    LoadFailed(CheckoutError),
    /// Choosing a method.
    Choosing,
    /// Asking the server to start paying.
    Creating(Attempt),
    /// Showing a QR code and waiting for the shopper's phone.
    AwaitingScan {
        /// The intent being paid.
        intent: PaymentIntent,
        /// What the QR code encodes.
        payload: String,
        /// When the code stops working.
        expires_at: UnixSeconds,
        /// Status requests made so far.
        polls: u32,
        /// The last status request failed.
        trouble: bool,
    },
    /// Leaving the page for the provider's.
    Redirecting {
        /// The intent being paid.
        intent: PaymentIntent,
        /// The page is still here after [`HAND_OFF_PATIENCE_MS`]: the
        /// shopper can try again or choose another way, and the server is
        /// asked meanwhile.
        stalled: bool,
    },
    /// Waiting for a wallet's JS bridge (WeChat's inside WeChat, Alipay's
    /// inside Alipay; the intent's method says whose).
    InvokingWallet {
        /// The intent being paid.
        intent: PaymentIntent,
        /// The wallet has not answered after [`HAND_OFF_PATIENCE_MS`]: as
        /// for a redirect.
        stalled: bool,
    },
    /// The shopper acted (or came back); asking the server for the outcome.
    Checking {
        /// The intent being checked.
        intent_id: String,
        /// Status requests made so far.
        polls: u32,
        /// The last status request failed.
        trouble: bool,
        /// What the server last said of it, while it has not ended:
        /// `processing` (the shopper confirms on the phone) and
        /// `requires_review` (the shop checks it) each have their words.
        said: IntentStatus,
    },
    /// The server will not tell this page how the intent went (it belongs
    /// to another session, say): the shopper is told so, never offered to
    /// pay again; the shop's server, which hears from the provider, decides.
    Unconfirmed {
        /// The intent whose status could not be read.
        intent_id: String,
    },
    /// Paid, as confirmed by the server.
    Succeeded(PaymentIntent),
    /// This intent was paid after another had paid the order: the order is
    /// paid, and this payment will be refunded.
    PaidTwice(PaymentIntent),
    /// The provider declined.
    Failed(PaymentIntent),
    /// The intent was canceled elsewhere (by the merchant, say).
    Canceled(PaymentIntent),
    /// The code or the intent ran out of time; a new one can be made with
    /// its method.
    Expired(PaymentIntent),
}

/// How a payment ended, for the page around the checkout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completion {
    /// Paid, as the server confirmed.
    Succeeded,
    /// Declined.
    Failed,
    /// Canceled elsewhere.
    Canceled,
    /// Not paid in time.
    Expired,
}

impl Completion {
    /// The name in events, such as `"succeeded"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Completion::Succeeded => "succeeded",
            Completion::Failed => "failed",
            Completion::Canceled => "canceled",
            Completion::Expired => "expired",
        }
    }
}

/// Something that happened: the shopper acted, or an answer came back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The session arrived.
    SessionLoaded(CheckoutSession),
    /// The session could not be had.
    SessionFailed(CheckoutError),
    /// The shopper asked to load the session again after it failed.
    Reload,
    /// The shopper picked a method.
    Select(MethodKind),
    /// The shopper pressed Pay; `fresh_key` is used unless a retry is due.
    Pay {
        /// A new random idempotency key.
        fresh_key: String,
    },
    /// The server started the payment.
    IntentCreated(PaymentIntent),
    /// The server did not start the payment.
    CreateFailed(CheckoutError),
    /// A status request answered.
    IntentFetched(PaymentIntent),
    /// A status request failed.
    FetchFailed {
        /// The intent it asked about.
        intent_id: String,
        /// Why it failed.
        error: CheckoutError,
    },
    /// The server would not cancel an intent the shopper left.
    CancelRefused {
        /// The intent.
        intent_id: String,
        /// Why: `intent_not_cancelable` means it was paid meanwhile.
        error: CheckoutError,
    },
    /// A second passed.
    Tick {
        /// The time now.
        now: UnixSeconds,
    },
    /// Ask for the status now (tab visible again, "check again", a sandbox
    /// scan).
    CheckNow {
        /// Have the server ask the provider too (the shopper's "check
        /// again": a notification may be late).
        ask_provider: bool,
    },
    /// The shopper asked for a new code after one expired.
    RefreshCode {
        /// A new random idempotency key.
        fresh_key: String,
    },
    /// The shopper wants to go back to the method list.
    ChooseAnother,
    /// The wallet's bridge returned (or never came): a hint only; the
    /// server says paid.
    WalletReturned(BridgeAnswer),
    /// The browser would not go to the provider's page.
    RedirectFailed(CheckoutError),
    /// A hand-off was not done after [`HAND_OFF_PATIENCE_MS`].
    HandOffStalled {
        /// The intent handed off.
        intent_id: String,
    },
    /// The shopper asked to hand off again after it stalled.
    RetryHandOff,
}

/// What a wallet's bridge reported: WeChat's `getBrandWCPayRequest` (its
/// `err_msg`), Alipay's `tradePay` (its `resultCode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BridgeAnswer {
    /// Paid, says the wallet: the server is asked.
    Ok,
    /// The wallet said something else, or cannot tell yet: the server is
    /// asked, as only it knows.
    Unknown,
    /// The shopper closed the payment.
    Cancel,
    /// The wallet could not pay, or its bridge is not on the page (not in
    /// that app after all).
    Fail,
}

impl BridgeAnswer {
    /// Reads Alipay's `resultCode`: 9000 paid, 6001 closed by the shopper,
    /// 4000 failed; 8000 (processing), 6002 (network), 6004 (unknown) and
    /// anything else leave it to the server.
    pub fn from_result_code(code: &str) -> BridgeAnswer {
        match code {
            "9000" => BridgeAnswer::Ok,
            "6001" => BridgeAnswer::Cancel,
            "4000" => BridgeAnswer::Fail,
            _ => BridgeAnswer::Unknown,
        }
    }

    /// Reads WeChat's `err_msg` (`get_brand_wcpay_request:ok`, `:cancel`,
    /// `:fail`); anything else leaves it to the server.
    pub fn from_err_msg(err_msg: &str) -> BridgeAnswer {
        // By bytes, not `rsplit`: the bundle then carries no string searcher.
        let bytes = err_msg.as_bytes();
        let last = bytes
            .iter()
            .rposition(|&byte| byte == b':')
            .map_or(&[][..], |colon| &bytes[colon + 1..]);
        match last {
            b"ok" => BridgeAnswer::Ok,
            b"cancel" => BridgeAnswer::Cancel,
            // `fail`, or `fail_invalid appid` and the like.
            last if last.starts_with(b"fail") => BridgeAnswer::Fail,
            _ => BridgeAnswer::Unknown,
        }
    }
}

/// Work for the browser side to do; its result comes back as an [`Event`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Fetch the session.
    LoadSession,
    /// Create an intent for this try.
    CreateIntent(Attempt),
    /// Ask for the intent's status after `delay_ms`. A newer `FetchIntent`
    /// replaces one still waiting; only one request runs at a time.
    FetchIntent {
        /// Which intent.
        intent_id: String,
        /// How long to wait first.
        delay_ms: u32,
        /// Have the server ask the provider.
        ask_provider: bool,
    },
    /// Send the whole page to the provider.
    Navigate {
        /// Where.
        url: String,
        /// GET, or an auto-submitted POST form.
        method: FormMethod,
        /// The form's fields.
        fields: Vec<(String, String)>,
    },
    /// Call WeChat's `getBrandWCPayRequest`.
    InvokeWechat(WechatJsapiParams),
    /// Call Alipay's `tradePay` for this trade.
    InvokeAlipay {
        /// Alipay's trade number.
        trade_no: String,
    },
    /// Cancel an intent the shopper walked away from (best effort).
    CancelIntent {
        /// Which intent.
        intent_id: String,
    },
    /// Stop a navigation still under way (a stalled redirect the shopper
    /// has given up on: it must not land on an order about to be closed).
    StopLeaving,
    /// Send [`Event::HandOffStalled`] for this intent after `delay_ms`
    /// (a page that has left never does).
    WatchHandOff {
        /// The intent handed off.
        intent_id: String,
        /// How long to wait.
        delay_ms: u32,
    },
}

impl Checkout {
    /// A checkout that starts by loading its session.
    pub fn start() -> (Checkout, Vec<Command>) {
        (Checkout::default(), vec![Command::LoadSession])
    }

    /// A checkout opened by a provider's return URL: it loads the session
    /// and asks the server how the payment went.
    pub fn returning(intent_id: String) -> (Checkout, Vec<Command>) {
        let (mut checkout, mut commands) = Checkout::start();
        commands.extend(checkout.check_asking(intent_id));
        (checkout, commands)
    }

    /// A checkout reloaded (or come Back to) while an intent was in flight:
    /// it asks the server about that intent, and shows its code again if it
    /// can still be paid, rather than open a second payable one.
    pub fn resuming(intent_id: String) -> (Checkout, Vec<Command>) {
        let (mut checkout, mut commands) = Checkout::start();
        checkout.resumed = Some(intent_id.clone());
        // The WeChat sheet is not opened again unasked.
        checkout.bridged = Some(intent_id.clone());
        commands.extend(checkout.check(intent_id));
        (checkout, commands)
    }

    /// Applies one event and returns the work it calls for. Events that do
    /// not fit the current phase (a double click, a late answer) change
    /// nothing.
    pub fn update(&mut self, event: Event) -> Vec<Command> {
        self.update_before_paying(event)
            .unwrap_or_else(|event| self.update_paying(event))
    }

    /// [`Checkout::update`] for the events that come before a payment is
    /// under way, or without one: the session, the shopper's choice and
    /// Pay, Pay refused, going back to the methods. Any other event is
    /// handed back, for [`Checkout::update_paying`].
    // The event handed back is the caller's own, moved back: boxing it
    // would allocate for every event.
    #[allow(clippy::result_large_err)]
    pub fn update_before_paying(&mut self, event: Event) -> Result<Vec<Command>, Event> {
        Ok(match event {
            // An amount that is not positive, or in a currency this
            // checkout does not know, is not one a shopper may be asked for.
            Event::SessionLoaded(session) if !session.amount.is_payable() => self.session_failed(
                CheckoutError::BadResponse("the amount is not payable".into()),
            ),
            Event::SessionLoaded(session) => self.session_loaded(session),
            Event::SessionFailed(error) => self.session_failed(error),
            Event::Reload => match self.phase {
                Phase::LoadFailed(_) => {
                    self.phase = Phase::Loading;
                    vec![Command::LoadSession]
                }
                _ => vec![],
            },
            Event::Select(method) => {
                if self.can_choose() && self.is_available(method) {
                    self.selected = Some(method);
                    self.error = None;
                }
                vec![]
            }
            Event::Pay { fresh_key } => self.pay(fresh_key),
            Event::CreateFailed(error) => {
                if let Phase::Creating(attempt) = &self.phase {
                    self.retry = error.is_transient().then(|| attempt.clone());
                    self.error = Some(error);
                    self.phase = Phase::Choosing;
                }
                vec![]
            }
            Event::ChooseAnother => self.choose_another(),
            event => return Err(event),
        })
    }

    /// [`Checkout::update`] for the events of a payment under way: its
    /// intent's answers, its hand-off, its clock, checks and retries. The
    /// storefront package carries this in the wasm's second part, which
    /// reads the intents these events bring.
    pub fn update_paying(&mut self, event: Event) -> Vec<Command> {
        match event {
            Event::IntentCreated(intent) => match &self.phase {
                // One code for every wallet, asked for again after a phone
                // opened it, comes back as the phone's wallet's.
                Phase::Creating(attempt)
                    if attempt.method == intent.method
                        || attempt.method == MethodKind::AnyWallet =>
                {
                    self.retry = None;
                    self.enter_intent(intent)
                }
                _ => vec![],
            },
            Event::IntentFetched(intent) => self.intent_fetched(intent),
            Event::FetchFailed { intent_id, error } => self.fetch_failed(intent_id, error),
            Event::CancelRefused { intent_id, error } => self.cancel_refused(intent_id, error),
            Event::Tick { now } => self.tick(now),
            Event::CheckNow { ask_provider } => match &self.phase {
                // The page is shown again while it was handing off: the
                // shopper came Back from the provider's page (restored from
                // the browser's cache) or from the WeChat prompt. Ask the
                // server, with the controls of the checking screen.
                Phase::Redirecting { intent, .. } | Phase::InvokingWallet { intent, .. } => {
                    let intent_id = intent.id.clone();
                    self.check(intent_id)
                }
                _ => match self.awaited_intent() {
                    Some(intent_id) => vec![Command::FetchIntent {
                        intent_id: intent_id.to_owned(),
                        delay_ms: 0,
                        ask_provider,
                    }],
                    None => vec![],
                },
            },
            Event::RefreshCode { fresh_key } => match &self.phase {
                Phase::Expired(intent) => self.create(Attempt {
                    method: intent.method,
                    idempotency_key: fresh_key,
                }),
                _ => vec![],
            },
            // Back from the provider, or told by WeChat it is paid: the
            // notification may not be here yet, so the server asks.
            Event::WalletReturned(answer) => match &self.phase {
                Phase::InvokingWallet { intent, .. } => {
                    let (intent_id, method) = (intent.id.clone(), intent.method);
                    let error = match answer {
                        // Only the server can say it is paid.
                        BridgeAnswer::Ok | BridgeAnswer::Unknown => {
                            return self.check_asking(intent_id)
                        }
                        BridgeAnswer::Cancel => CheckoutError::WalletClosed(method),
                        BridgeAnswer::Fail => CheckoutError::WalletBridge(method),
                    };
                    // Back at the methods with the wallet still chosen and
                    // a word of what happened: Pay tries again.
                    self.error = Some(error);
                    self.back_to_methods(vec![Command::CancelIntent { intent_id }])
                }
                _ => vec![],
            },
            Event::RedirectFailed(error) => match &self.phase {
                // The shopper never reached the provider: nothing can have
                // been paid, so the attempt is closed and they choose again.
                Phase::Redirecting { intent, .. } => {
                    let intent_id = intent.id.clone();
                    self.error = Some(error);
                    self.phase = Phase::Choosing;
                    vec![Command::CancelIntent { intent_id }]
                }
                _ => vec![],
            },
            Event::HandOffStalled { intent_id } => match &mut self.phase {
                Phase::Redirecting { intent, stalled }
                | Phase::InvokingWallet { intent, stalled }
                    if intent.id == intent_id && !*stalled =>
                {
                    // The shopper may have paid all the same (a wallet whose
                    // answer was lost): the server is asked from now on.
                    *stalled = true;
                    vec![fetch(intent_id, 0)]
                }
                _ => vec![],
            },
            Event::RetryHandOff => match std::mem::take(&mut self.phase) {
                Phase::Redirecting {
                    intent,
                    stalled: true,
                } => {
                    let mut commands = vec![Command::StopLeaving];
                    commands.extend(self.enter_intent(intent));
                    commands
                }
                Phase::InvokingWallet {
                    intent,
                    stalled: true,
                } => {
                    self.bridged = None;
                    self.enter_intent(intent)
                }
                phase => {
                    self.phase = phase;
                    vec![]
                }
            },
            // Handled before a payment is under way.
            Event::SessionLoaded(_)
            | Event::SessionFailed(_)
            | Event::Reload
            | Event::Select(_)
            | Event::Pay { .. }
            | Event::CreateFailed(_)
            | Event::ChooseAnother => self.update_before_paying(event).unwrap_or_default(),
        }
    }

    /// The id of the intent whose outcome the checkout is waiting for.
    pub fn awaited_intent(&self) -> Option<&str> {
        match &self.phase {
            Phase::AwaitingScan { intent, .. }
            | Phase::Redirecting { intent, .. }
            | Phase::InvokingWallet { intent, .. } => Some(&intent.id),
            Phase::Checking { intent_id, .. } | Phase::Unconfirmed { intent_id } => Some(intent_id),
            _ => None,
        }
    }

    /// How the payment ended, with its intent, once it has.
    pub fn completion(&self) -> Option<(Completion, &PaymentIntent)> {
        Some(match &self.phase {
            Phase::Succeeded(intent) | Phase::PaidTwice(intent) => (Completion::Succeeded, intent),
            Phase::Failed(intent) => (Completion::Failed, intent),
            Phase::Canceled(intent) => (Completion::Canceled, intent),
            Phase::Expired(intent) => (Completion::Expired, intent),
            _ => return None,
        })
    }

    /// True while the shopper can pick a method and press Pay.
    pub fn can_choose(&self) -> bool {
        matches!(self.phase, Phase::Choosing)
    }

    /// The progress line for the live region, if any.
    pub fn status(&self) -> Option<Key> {
        Some(match &self.phase {
            Phase::Loading => Key::Loading,
            Phase::LoadFailed(_) | Phase::Choosing => return None,
            Phase::Creating(_) => Key::Creating,
            Phase::AwaitingScan { trouble: true, .. } | Phase::Checking { trouble: true, .. } => {
                Key::StillTrying
            }
            Phase::AwaitingScan { .. } => Key::Waiting,
            Phase::Redirecting { stalled: true, .. }
            | Phase::InvokingWallet { stalled: true, .. } => Key::HandOffStalled,
            Phase::Redirecting { .. } => Key::Redirecting,
            Phase::InvokingWallet { intent, .. } if intent.method == MethodKind::Alipay => {
                Key::OpeningAlipay
            }
            Phase::InvokingWallet { .. } => Key::OpeningWechat,
            Phase::Unconfirmed { .. } => Key::Unconfirmed,
            Phase::Checking {
                said: IntentStatus::Processing,
                ..
            } => match self.paying_with {
                Some(MethodKind::WechatPay) => Key::PayingWithWechat,
                Some(MethodKind::Alipay) => Key::PayingWithAlipay,
                Some(MethodKind::Unionpay) => Key::PayingWithQuickpass,
                _ => Key::ConfirmOnPhone,
            },
            Phase::Checking {
                said: IntentStatus::RequiresReview,
                ..
            } => Key::UnderReview,
            // A few answers later, still open: the shopper most likely left
            // the provider's page without paying.
            Phase::Checking { polls: 3.., .. } => Key::NotPaidYet,
            Phase::Checking { .. } => Key::Checking,
            Phase::Succeeded(_) => Key::Succeeded,
            Phase::PaidTwice(_) => Key::PaidTwice,
            Phase::Failed(intent) => match intent.failure_reason {
                Some(contract::FailureReason::Declined) => Key::Declined,
                Some(contract::FailureReason::ClosedByProvider) => Key::ClosedByProvider,
                _ => Key::Failed,
            },
            Phase::Canceled(_) => Key::Canceled,
            Phase::Expired(_) => Key::CodeExpired,
        })
    }

    /// The error to show the shopper, if any.
    pub fn error_message(&self) -> Option<Key> {
        match &self.phase {
            Phase::LoadFailed(error) => Some(error.message_key()),
            Phase::Choosing => self.error.as_ref().map(CheckoutError::message_key),
            _ => None,
        }
    }

    fn is_available(&self, method: MethodKind) -> bool {
        self.session.as_ref().is_some_and(|session| {
            session
                .methods
                .iter()
                .any(|offered| offered.kind == method && choosable(offered))
        })
    }

    /// Takes a session, first or fresh: a page that had it inline loads it
    /// again for this shopper's device, and may learn that a method went
    /// (or came).
    fn session_loaded(&mut self, session: CheckoutSession) -> Vec<Command> {
        let status = session.status;
        let paid_intent = session.paid_intent.clone();
        self.session = Some(session);
        if let Some(canceled) = self.canceled_awaiting_session() {
            return match (status, paid_intent) {
                (SessionStatus::Completed, Some(paid)) if paid != canceled => self.check(paid),
                _ => self.canceled_after_all(canceled),
            };
        }
        if matches!(self.phase, Phase::Loading | Phase::Choosing) {
            match (status, paid_intent) {
                // Paid already (another tab, a reload after paying): show
                // that payment.
                (SessionStatus::Completed, Some(intent_id)) => return self.check(intent_id),
                (SessionStatus::Expired, _) => {
                    self.phase = Phase::LoadFailed(CheckoutError::Refused {
                        status: 410,
                        code: ErrorCode::SessionExpired,
                        message: String::new(),
                    });
                    return vec![];
                }
                _ => {}
            }
        }
        if matches!(self.phase, Phase::Loading) {
            self.phase = Phase::Choosing;
        }
        if self.can_choose() {
            self.choose_for_the_shopper();
        }
        vec![]
    }

    fn session_failed(&mut self, error: CheckoutError) -> Vec<Command> {
        if let Some(canceled) = self.canceled_awaiting_session() {
            return self.canceled_after_all(canceled);
        }
        // A code kept over a reload waits for its session to be shown (its
        // amount, its controls): without one, it cannot.
        let waiting = matches!(self.phase, Phase::AwaitingScan { .. }) && self.session.is_none();
        if matches!(self.phase, Phase::Loading) || waiting {
            self.phase = Phase::LoadFailed(error);
        }
        vec![]
    }

    /// Drops a choice that is no longer available, and picks the only
    /// method that can be chosen, if there is just one, or else, inside a
    /// wallet's app, that wallet's own method (paid through the app's
    /// bridge): the shopper's evident choice there.
    fn choose_for_the_shopper(&mut self) {
        if self
            .selected
            .is_some_and(|method| !self.is_available(method))
        {
            self.selected = None;
        }
        if self.selected.is_some() {
            return;
        }
        // One pass: the last choosable method, how many there are, and the
        // one paid through its app's bridge.
        let (mut last, mut count, mut own) = (None, 0, None);
        let methods = self
            .session
            .as_ref()
            .map_or(&[][..], |session| &session.methods);
        for method in methods.iter().filter(|method| choosable(method)) {
            last = Some(method.kind);
            count += 1;
            if matches!(method.flow, Flow::WechatJsapi | Flow::AlipayTradePay) {
                own = Some(method.kind);
            }
        }
        self.selected = if count == 1 { last } else { own };
    }

    fn pay(&mut self, fresh_key: String) -> Vec<Command> {
        let Some(method) = self.selected.filter(|_| self.can_choose()) else {
            return vec![];
        };
        let attempt = match self.retry.take() {
            Some(retry) if retry.method == method => retry,
            _ => Attempt {
                method,
                idempotency_key: fresh_key,
            },
        };
        self.create(attempt)
    }

    fn create(&mut self, attempt: Attempt) -> Vec<Command> {
        self.error = None;
        self.paying_with = None;
        self.selected = Some(attempt.method);
        self.phase = Phase::Creating(attempt.clone());
        vec![Command::CreateIntent(attempt)]
    }

    /// Moves to whatever a fresh or fetched intent calls for.
    fn enter_intent(&mut self, intent: PaymentIntent) -> Vec<Command> {
        if intent.status.is_final() {
            return self.finish(intent);
        }
        let intent_id = intent.id.clone();
        // A wallet's trade waiting for its buyer (Alipay's, once made for
        // the buyer) is paid in the wallet's own sheet.
        let in_wallet = intent.status == IntentStatus::Processing && wallet_bridge(&intent);
        // Being paid, checked by the shop, or a status this build does not
        // know: ask again.
        if intent.status != IntentStatus::RequiresAction && !in_wallet {
            self.phase = Phase::Checking {
                intent_id: intent_id.clone(),
                polls: 0,
                trouble: false,
                said: intent.status,
            };
            return vec![fetch(intent_id, poll_delay_ms(0))];
        }
        match intent.next_action.clone() {
            Some(NextAction::DisplayQrCode {
                payload,
                expires_at,
            }) => {
                self.phase = Phase::AwaitingScan {
                    intent,
                    payload,
                    expires_at,
                    polls: 0,
                    trouble: false,
                };
                vec![fetch(intent_id, poll_delay_ms(0))]
            }
            Some(NextAction::Redirect {
                url,
                method,
                fields,
            }) => {
                self.phase = Phase::Redirecting {
                    intent,
                    stalled: false,
                };
                vec![
                    Command::Navigate {
                        url,
                        method,
                        fields,
                    },
                    watch(intent_id),
                ]
            }
            Some(NextAction::InvokeWechatJsapi { params }) => {
                self.bridged = Some(intent_id.clone());
                self.phase = Phase::InvokingWallet {
                    intent,
                    stalled: false,
                };
                vec![Command::InvokeWechat(params), watch(intent_id)]
            }
            Some(NextAction::InvokeAlipayTradePay { trade_no }) => {
                self.bridged = Some(intent_id.clone());
                self.phase = Phase::InvokingWallet {
                    intent,
                    stalled: false,
                };
                vec![Command::InvokeAlipay { trade_no }, watch(intent_id)]
            }
            Some(NextAction::Unsupported) | None => {
                self.error = Some(CheckoutError::UnsupportedHandOff);
                self.phase = Phase::Choosing;
                vec![Command::CancelIntent { intent_id }]
            }
        }
    }

    fn finish(&mut self, intent: PaymentIntent) -> Vec<Command> {
        self.phase = match intent.status {
            IntentStatus::Succeeded => Phase::Succeeded(intent),
            IntentStatus::RequiresRefund | IntentStatus::Refunded => Phase::PaidTwice(intent),
            IntentStatus::Failed => Phase::Failed(intent),
            // Canceled under the shopper: another payment of the session
            // (a late one, say) may have paid the order. The session says.
            IntentStatus::Canceled if self.canceled_checked.as_deref() != Some(&intent.id) => {
                self.phase = Phase::Checking {
                    intent_id: intent.id,
                    polls: 0,
                    trouble: false,
                    said: IntentStatus::Canceled,
                };
                return vec![Command::LoadSession];
            }
            IntentStatus::Canceled => Phase::Canceled(intent),
            IntentStatus::Expired => Phase::Expired(intent),
            IntentStatus::RequiresAction
            | IntentStatus::Processing
            | IntentStatus::RequiresReview
            | IntentStatus::Unknown => return vec![],
        };
        vec![]
    }

    fn intent_fetched(&mut self, intent: PaymentIntent) -> Vec<Command> {
        if self.awaited_intent() != Some(intent.id.as_str()) {
            return vec![];
        }
        // Back on the page (a reload, a return from the provider), the
        // shopper's choice is the method of the payment they came back to.
        if self.selected.is_none() {
            self.selected = Some(intent.method);
        }
        if self.selected == Some(MethodKind::AnyWallet) && intent.method != MethodKind::AnyWallet {
            self.paying_with = Some(intent.method);
        }
        // The first answer about the intent of before a reload, whatever it
        // says, ends the resuming.
        let resumed = self.resumed.take().is_some_and(|id| id == intent.id);
        if intent.status.is_final() {
            return self.finish(intent);
        }
        if resumed
            && intent.status == IntentStatus::RequiresAction
            && matches!(intent.next_action, Some(NextAction::DisplayQrCode { .. }))
        {
            return self.enter_intent(intent);
        }
        // Being paid (not an Alipay trade waiting in the wallet for its
        // buyer), or paid and checked by the shop.
        let waits_in_alipay = matches!(
            intent.next_action,
            Some(NextAction::InvokeAlipayTradePay { .. })
        );
        let under_way = intent.status == IntentStatus::RequiresReview
            || (intent.status == IntentStatus::Processing && !waits_in_alipay);
        if under_way
            && matches!(
                self.phase,
                Phase::AwaitingScan { .. }
                    | Phase::Redirecting { stalled: true, .. }
                    | Phase::InvokingWallet { stalled: true, .. }
            )
        {
            // Scanned and being paid (or paid, and checked by the shop): the
            // code has done its job, and must not be expired or canceled
            // under the shopper now.
            let commands = self.check(intent.id);
            if let Phase::Checking { said, .. } = &mut self.phase {
                *said = intent.status;
            }
            return commands;
        }
        // Back from the wallet's authorisation: the order is made, and the
        // bridge opens (once: after it, only the server tells).
        let bridge_due = matches!(self.phase, Phase::Checking { .. })
            && wallet_bridge(&intent)
            && self.bridged.as_deref() != Some(intent.id.as_str());
        if bridge_due {
            return self.enter_intent(intent);
        }
        if let Phase::Checking { said, .. } = &mut self.phase {
            *said = intent.status;
        }
        match &mut self.phase {
            Phase::AwaitingScan { polls, trouble, .. } | Phase::Checking { polls, trouble, .. } => {
                *polls += 1;
                *trouble = false;
                vec![fetch(intent.id, poll_delay_ms(*polls))]
            }
            // A hand-off that stalled is watched, slowly, until the shopper
            // acts or the server says it ended.
            Phase::Redirecting { stalled: true, .. }
            | Phase::InvokingWallet { stalled: true, .. } => {
                vec![fetch(intent.id, RETRY_AFTER_FAILURE_MS)]
            }
            // The server answers again (a "check again"): a code still
            // payable is shown again; anything else is watched until it
            // ends, never handed off anew from here.
            Phase::Unconfirmed { .. }
                if matches!(intent.next_action, Some(NextAction::DisplayQrCode { .. })) =>
            {
                self.enter_intent(intent)
            }
            Phase::Unconfirmed { .. } => self.check(intent.id),
            // Otherwise redirecting and the wallets wait for the page to
            // leave or the bridge to answer, not for polls.
            _ => vec![],
        }
    }

    fn fetch_failed(&mut self, intent_id: String, error: CheckoutError) -> Vec<Command> {
        // A late failure about a code the shopper has left is not news.
        if self.awaited_intent() != Some(intent_id.as_str()) {
            return vec![];
        }
        let resumed = self.resumed.take().is_some_and(|id| id == intent_id);
        if !error.is_transient() && resumed {
            // The intent of before the reload is gone: start afresh.
            if self.session.is_none() {
                // Its load may have failed while this was asked: ask again.
                self.phase = Phase::Loading;
                return vec![Command::LoadSession];
            }
            self.phase = Phase::Choosing;
            self.choose_for_the_shopper();
            return vec![];
        }
        // The server will not tell this page how the payment went (the
        // intent is not this session's): the shopper may have paid, so
        // nothing here offers to pay again. Any other refusal (a proxy's
        // page, a firewall) is retried, slowly, like a dropped connection.
        let foreign = matches!(
            error,
            CheckoutError::Refused {
                code: ErrorCode::NotFound | ErrorCode::Unauthorized,
                ..
            }
        );
        let handing_off = matches!(
            self.phase,
            Phase::Redirecting { .. } | Phase::InvokingWallet { .. }
        );
        if foreign && !handing_off {
            self.phase = Phase::Unconfirmed { intent_id };
            return vec![];
        }
        match &mut self.phase {
            Phase::AwaitingScan { polls, trouble, .. } | Phase::Checking { polls, trouble, .. } => {
                *polls += 1;
                *trouble = true;
                let delay_ms = poll_delay_ms(*polls).max(RETRY_AFTER_FAILURE_MS);
                vec![fetch(intent_id, delay_ms)]
            }
            Phase::Redirecting { stalled: true, .. }
            | Phase::InvokingWallet { stalled: true, .. } => {
                vec![fetch(intent_id, RETRY_AFTER_FAILURE_MS)]
            }
            _ => vec![],
        }
    }

    fn tick(&mut self, now: UnixSeconds) -> Vec<Command> {
        match &self.phase {
            // The code's time is up here; whether it was paid in its last
            // seconds only the server knows (it expires the intent, closing
            // the order, unless the shopper paid).
            Phase::AwaitingScan {
                intent, expires_at, ..
            } if now >= *expires_at => {
                let intent_id = intent.id.clone();
                self.check(intent_id)
            }
            _ => vec![],
        }
    }

    /// Hides the hand-off and asks the server how the intent stands.
    #[inline(never)]
    fn check(&mut self, intent_id: String) -> Vec<Command> {
        self.phase = Phase::Checking {
            intent_id: intent_id.clone(),
            polls: 0,
            trouble: false,
            said: IntentStatus::RequiresAction,
        };
        vec![fetch(intent_id, 0)]
    }

    /// As [`Checkout::check`], with the server asking the provider first.
    fn check_asking(&mut self, intent_id: String) -> Vec<Command> {
        let mut commands = self.check(intent_id);
        if let Some(Command::FetchIntent { ask_provider, .. }) = commands.first_mut() {
            *ask_provider = true;
        }
        commands
    }

    /// The canceled intent whose session is being read, if any.
    fn canceled_awaiting_session(&self) -> Option<String> {
        match &self.phase {
            Phase::Checking {
                intent_id,
                said: IntentStatus::Canceled,
                ..
            } => Some(intent_id.clone()),
            _ => None,
        }
    }

    /// The session did not show another payment: the intent is canceled
    /// (its answer, asked for again, ends the checking).
    fn canceled_after_all(&mut self, intent_id: String) -> Vec<Command> {
        self.canceled_checked = Some(intent_id.clone());
        vec![fetch(intent_id, 0)]
    }

    fn cancel_refused(&mut self, intent_id: String, error: CheckoutError) -> Vec<Command> {
        let paid_meanwhile = matches!(
            error,
            CheckoutError::Refused {
                code: ErrorCode::IntentPaid | ErrorCode::IntentFinished,
                ..
            }
        );
        // The shopper paid the code just as they left it: show that payment
        // rather than take a second one.
        if paid_meanwhile && matches!(self.phase, Phase::Choosing | Phase::Creating(_)) {
            return self.check(intent_id);
        }
        vec![]
    }

    fn choose_another(&mut self) -> Vec<Command> {
        let commands = match &self.phase {
            // The code is still on screen, or the hand-off stalled: close
            // it so it cannot be paid too (a payment made meanwhile makes
            // the server refuse, and the checkout shows that payment).
            Phase::AwaitingScan { intent, .. }
            | Phase::InvokingWallet {
                intent,
                stalled: true,
            } => {
                vec![Command::CancelIntent {
                    intent_id: intent.id.clone(),
                }]
            }
            Phase::Redirecting {
                intent,
                stalled: true,
            } => {
                vec![
                    Command::StopLeaving,
                    Command::CancelIntent {
                        intent_id: intent.id.clone(),
                    },
                ]
            }
            // The shopper may have paid on the provider's page with the
            // notification still on its way: canceling could lose a payment.
            // The server refuses a second payment of a paid session.
            Phase::Checking { .. }
            | Phase::Failed(_)
            | Phase::Canceled(_)
            | Phase::Expired(_)
            | Phase::PaidTwice(_) => {
                vec![]
            }
            _ => return vec![],
        };
        self.error = None;
        self.back_to_methods(commands)
    }

    /// Shows the methods again (loading the session first if this page
    /// never had it), after `commands`.
    fn back_to_methods(&mut self, mut commands: Vec<Command>) -> Vec<Command> {
        if self.session.is_none() {
            // Back from a provider before the session ever loaded here.
            self.phase = Phase::Loading;
            commands.push(Command::LoadSession);
            return commands;
        }
        self.phase = Phase::Choosing;
        self.choose_for_the_shopper();
        commands
    }
}

/// Watches a hand-off for [`HAND_OFF_PATIENCE_MS`].
fn watch(intent_id: String) -> Command {
    Command::WatchHandOff {
        intent_id,
        delay_ms: HAND_OFF_PATIENCE_MS,
    }
}

/// True when the intent is paid through a wallet's JS bridge.
fn wallet_bridge(intent: &PaymentIntent) -> bool {
    matches!(
        intent.next_action,
        Some(NextAction::InvokeWechatJsapi { .. } | NextAction::InvokeAlipayTradePay { .. })
    )
}

/// A status request for `intent_id` after `delay_ms`, without troubling
/// the provider.
fn fetch(intent_id: String, delay_ms: u32) -> Command {
    Command::FetchIntent {
        intent_id,
        delay_ms,
        ask_provider: false,
    }
}

/// True if the shopper can pick this method now.
fn choosable(method: &PaymentMethod) -> bool {
    method.kind != MethodKind::Unsupported && method.availability == Availability::Available
}

#[cfg(test)]
mod tests;
