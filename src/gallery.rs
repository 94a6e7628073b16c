//! The designer gallery: every state of the checkout at once, drawn from
//! fixtures by the real views, with no server. Each fixture is reached
//! through the state machine's own events, so a state the gallery shows is
//! one a shopper can meet.

use contract::{
    Availability, CheckoutSession, Currency, ErrorCode, FailureReason, Flow, FormMethod,
    IntentStatus, MethodKind, Money, NextAction, PaymentIntent, PaymentMethod, SessionStatus,
    UnavailableReason, UnixSeconds,
};
use leptos::prelude::*;

use crate::checkout::{BridgeAnswer, Checkout, Event};
use crate::components::CheckoutFixture;
use crate::error::CheckoutError;
use crate::i18n::Locale;

/// A switch-on date the fixtures' methods wait for: noon, 15 January 2027, in Beijing.
const SWITCH_ON: UnixSeconds = 1_799_985_600;

/// Every state, named for designers, as of `now`.
pub fn fixtures(now: UnixSeconds) -> Vec<(&'static str, Checkout)> {
    let loaded =
        |session: CheckoutSession| after(Checkout::start().0, [Event::SessionLoaded(session)]);
    let choosing = loaded(session(now, typical_methods()));
    let creating = after(
        choosing.clone(),
        [
            Event::Select(MethodKind::WechatPay),
            Event::Pay {
                fresh_key: "gallery".into(),
            },
        ],
    );
    let handed_off = |next_action| {
        after(
            creating.clone(),
            [Event::IntentCreated(intent(
                now,
                IntentStatus::RequiresAction,
                Some(next_action),
            ))],
        )
    };
    let scanning = handed_off(NextAction::DisplayQrCode {
        payload: "weixin://wxpay/bizpayurl?pr=GaLLeRy01".into(),
        expires_at: now + 15 * 60,
    });
    let ended = |status, failure_reason| {
        let mut ending = intent(now, status, None);
        ending.failure_reason = failure_reason;
        after(scanning.clone(), [Event::IntentFetched(ending)])
    };
    let one_code = {
        let mut code = intent(
            now,
            IntentStatus::RequiresAction,
            Some(NextAction::DisplayQrCode {
                payload: "https://shop.example/pay/9f86d081884c7d659a2feaa0c55ad015".into(),
                expires_at: now + 30 * 60,
            }),
        );
        code.method = MethodKind::AnyWallet;
        let chosen = [
            Event::Select(MethodKind::AnyWallet),
            Event::Pay {
                fresh_key: "gallery".into(),
            },
            Event::IntentCreated(code),
        ];
        after(choosing.clone(), chosen)
    };
    let mut paid_in_alipay = intent(now, IntentStatus::Processing, None);
    paid_in_alipay.method = MethodKind::Alipay;
    let returned = after(
        Checkout::returning("pi_gallery".into()).0,
        [Event::SessionLoaded(session(now, typical_methods()))],
    );
    let open = intent(now, IntentStatus::RequiresAction, None);
    let leaving = handed_off(NextAction::Redirect {
        url: "https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb".into(),
        method: FormMethod::Get,
        fields: vec![],
    });
    let in_wechat = loaded(session(now, in_wechat_methods()));
    let opening_wechat = after(
        in_wechat.clone(),
        [
            Event::Pay {
                fresh_key: "gallery".into(),
            },
            Event::IntentCreated(intent(
                now,
                IntentStatus::RequiresAction,
                Some(NextAction::InvokeWechatJsapi {
                    params: contract::WechatJsapiParams {
                        app_id: "wx0000000000gallery".into(),
                        time_stamp: "1800000000".into(),
                        nonce_str: "gallery".into(),
                        package: "prepay_id=wx_gallery".into(),
                        sign_type: "RSA".into(),
                        pay_sign: "gallery".into(),
                    },
                }),
            )),
        ],
    );
    let stalled = |handing_off: &Checkout| {
        after(
            handing_off.clone(),
            [Event::HandOffStalled {
                intent_id: "pi_gallery".into(),
            }],
        )
    };
    let mut sandbox = session(now, typical_methods());
    sandbox.livemode = false;
    let sandbox_scanning = after(
        loaded(sandbox),
        [
            Event::Select(MethodKind::WechatPay),
            Event::Pay {
                fresh_key: "gallery".into(),
            },
            Event::IntentCreated(intent(
                now,
                IntentStatus::RequiresAction,
                Some(NextAction::DisplayQrCode {
                    payload: "weixin://wxpay/bizpayurl?pr=GaLLeRy02".into(),
                    expires_at: now + 15 * 60,
                }),
            )),
        ],
    );
    let refused = |status, code| CheckoutError::Refused {
        status,
        code,
        message: String::new(),
    };
    vec![
        ("Loading", Checkout::start().0),
        (
            "Load failed: offline",
            after(
                Checkout::start().0,
                [Event::SessionFailed(CheckoutError::Network)],
            ),
        ),
        (
            "Load failed: the link is not valid",
            after(
                Checkout::start().0,
                [Event::SessionFailed(refused(404, ErrorCode::NotFound))],
            ),
        ),
        (
            "Load failed: the checkout has expired",
            after(
                Checkout::start().0,
                [Event::SessionFailed(refused(410, ErrorCode::SessionExpired))],
            ),
        ),
        ("Choosing", choosing.clone()),
        (
            "Choosing: every reason a method is unavailable",
            loaded(session(now, unavailable_methods())),
        ),
        (
            "Choosing, after the provider could not be reached",
            after(
                creating.clone(),
                [Event::CreateFailed(CheckoutError::Refused {
                    status: 503,
                    code: ErrorCode::ProviderUnavailable,
                    message: String::new(),
                })],
            ),
        ),
        (
            "Choosing, while another payment is confirmed on a phone",
            after(
                creating.clone(),
                [Event::CreateFailed(CheckoutError::Refused {
                    status: 409,
                    code: ErrorCode::PaymentInProgress,
                    message: String::new(),
                })],
            ),
        ),
        (
            "Choosing, after the server sent something unreadable",
            after(
                creating.clone(),
                [Event::CreateFailed(CheckoutError::BadResponse(String::new()))],
            ),
        ),
        ("Creating the payment", creating.clone()),
        (
            "Inside WeChat: the other wallet cannot work there",
            in_wechat.clone(),
        ),
        ("Inside WeChat: opening WeChat Pay", opening_wechat.clone()),
        (
            "Inside WeChat: the pay sheet did not open in time",
            stalled(&opening_wechat),
        ),
        (
            "Inside WeChat: the shopper closed the pay sheet",
            after(
                opening_wechat.clone(),
                [Event::WalletReturned(BridgeAnswer::Cancel)],
            ),
        ),
        (
            "Inside the Alipay app: WeChat Pay cannot work there",
            loaded(session(now, in_alipay_methods())),
        ),
        (
            "Inside the Alipay app: opening Alipay's sheet",
            after(
                loaded(session(now, in_alipay_methods())),
                [
                    Event::Select(MethodKind::Alipay),
                    Event::Pay {
                        fresh_key: "gallery".into(),
                    },
                    Event::IntentCreated(paid_with(
                        MethodKind::Alipay,
                        intent(now, IntentStatus::RequiresAction, None),
                        NextAction::InvokeAlipayTradePay {
                            trade_no: "2026120622001400000000000001".into(),
                        },
                    )),
                ],
            ),
        ),
        (
            "Inside the Alipay app: the sheet could not open",
            after(
                loaded(session(now, in_alipay_methods())),
                [
                    Event::Select(MethodKind::Alipay),
                    Event::Pay {
                        fresh_key: "gallery".into(),
                    },
                    Event::IntentCreated(paid_with(
                        MethodKind::Alipay,
                        intent(now, IntentStatus::RequiresAction, None),
                        NextAction::InvokeAlipayTradePay {
                            trade_no: "2026120622001400000000000001".into(),
                        },
                    )),
                    Event::WalletReturned(BridgeAnswer::Fail),
                ],
            ),
        ),
        (
            "Alipay's QR code",
            after(
                choosing.clone(),
                [
                    Event::Select(MethodKind::Alipay),
                    Event::Pay {
                        fresh_key: "gallery".into(),
                    },
                    Event::IntentCreated(paid_with(
                        MethodKind::Alipay,
                        intent(now, IntentStatus::RequiresAction, None),
                        NextAction::DisplayQrCode {
                            payload: "https://qr.alipay.com/bax00000gallery0000001".into(),
                            expires_at: now + 15 * 60,
                        },
                    )),
                ],
            ),
        ),
        (
            "UnionPay QuickPass's QR code",
            after(
                choosing.clone(),
                [
                    Event::Select(MethodKind::Unionpay),
                    Event::Pay {
                        fresh_key: "gallery".into(),
                    },
                    Event::IntentCreated(paid_with(
                        MethodKind::Unionpay,
                        intent(now, IntentStatus::RequiresAction, None),
                        NextAction::DisplayQrCode {
                            payload: "https://qr.95516.com/00010000/62112028173283416953".into(),
                            expires_at: now + 15 * 60,
                        },
                    )),
                ],
            ),
        ),
        (
            "Bank card: leaving for UnionPay's card page",
            after(
                choosing.clone(),
                [
                    Event::Select(MethodKind::Card),
                    Event::Pay {
                        fresh_key: "gallery".into(),
                    },
                    Event::IntentCreated(paid_with(
                        MethodKind::Card,
                        intent(now, IntentStatus::RequiresAction, None),
                        NextAction::Redirect {
                            url: "https://gateway.95516.com/gateway/api/frontTransReq.do".into(),
                            method: FormMethod::Post,
                            fields: vec![("txnType".into(), "01".into())],
                        },
                    )),
                ],
            ),
        ),
        (
            "China Mobile Pay: leaving for its cashier",
            after(
                choosing.clone(),
                [
                    Event::Select(MethodKind::ChinaMobilePay),
                    Event::Pay {
                        fresh_key: "gallery".into(),
                    },
                    Event::IntentCreated(paid_with(
                        MethodKind::ChinaMobilePay,
                        intent(now, IntentStatus::RequiresAction, None),
                        NextAction::Redirect {
                            url: "https://ipos.10086.cn/wap/index.xhtml?sessionId=20261206000000000000000001".into(),
                            method: FormMethod::Post,
                            fields: vec![],
                        },
                    )),
                ],
            ),
        ),
        ("QR code, counting down", scanning.clone()),
        (
            "QR code, the connection dropped: still trying",
            after(
                scanning.clone(),
                [Event::FetchFailed {
                    intent_id: "pi_gallery".into(),
                    error: CheckoutError::Network,
                }],
            ),
        ),
        ("QR code on a sandbox server", sandbox_scanning),
        ("QR code expired", ended(IntentStatus::Expired, None)),
        ("Leaving for the provider's page", leaving.clone()),
        (
            "The provider's page did not open in time",
            stalled(&leaving),
        ),
        ("Checking, back from the provider", returned.clone()),
        (
            "Checking, the connection dropped: still trying",
            after(
                returned.clone(),
                [Event::FetchFailed {
                    intent_id: "pi_gallery".into(),
                    error: CheckoutError::Network,
                }],
            ),
        ),
        (
            "Back from the provider, the payment cannot be read here",
            after(
                returned.clone(),
                [Event::FetchFailed {
                    intent_id: "pi_gallery".into(),
                    error: refused(401, ErrorCode::Unauthorized),
                }],
            ),
        ),
        (
            "Checking, nothing paid yet",
            after(
                returned,
                [
                    Event::IntentFetched(open.clone()),
                    Event::IntentFetched(open.clone()),
                    Event::IntentFetched(open),
                ],
            ),
        ),
        (
            "Scanned: confirming on the phone",
            ended(IntentStatus::Processing, None),
        ),
        ("One code for every wallet", one_code.clone()),
        (
            "One code, opened in Alipay on a phone",
            after(one_code, [Event::IntentFetched(paid_in_alipay)]),
        ),
        (
            "Paid, checked by the shop",
            ended(IntentStatus::RequiresReview, None),
        ),
        ("Succeeded", ended(IntentStatus::Succeeded, None)),
        (
            "Paid twice: this payment is refunded",
            ended(IntentStatus::RequiresRefund, None),
        ),
        ("Failed", ended(IntentStatus::Failed, None)),
        (
            "Failed: declined",
            ended(IntentStatus::Failed, Some(FailureReason::Declined)),
        ),
        (
            "Failed: closed by the provider",
            ended(IntentStatus::Failed, Some(FailureReason::ClosedByProvider)),
        ),
        (
            "Canceled",
            after(
                ended(IntentStatus::Canceled, None),
                [
                    // Not paid otherwise, the session says: canceled it is.
                    Event::SessionLoaded(session(now, typical_methods())),
                    Event::IntentFetched(intent(now, IntentStatus::Canceled, None)),
                ],
            ),
        ),
    ]
}

fn after<const N: usize>(mut checkout: Checkout, events: [Event; N]) -> Checkout {
    for event in events {
        // A fixture's commands are never run: it stays where it is put.
        checkout.update(event);
    }
    checkout
}

fn session(now: UnixSeconds, methods: Vec<PaymentMethod>) -> CheckoutSession {
    CheckoutSession {
        id: "cs_gallery".into(),
        amount: Money::new(12800, Currency::CNY),
        merchant_name: "Demo Tea House".into(),
        expires_at: now + 3600,
        livemode: true,
        status: SessionStatus::Open,
        paid_intent: None,
        methods,
    }
}

fn method(kind: MethodKind, availability: Availability) -> PaymentMethod {
    PaymentMethod {
        kind,
        flow: contract::Flow::QrCode,
        availability,
    }
}

/// What a merchant offers on a desktop: the two wallets, QuickPass and
/// cards now, China Mobile's wallet from a switch-on date.
fn typical_methods() -> Vec<PaymentMethod> {
    let from = |kind| {
        method(
            kind,
            Availability::Unavailable {
                reason: UnavailableReason::NotYetEnabled,
                available_from: Some(SWITCH_ON),
            },
        )
    };
    vec![
        method(MethodKind::WechatPay, Availability::Available),
        method(MethodKind::Alipay, Availability::Available),
        method(MethodKind::Unionpay, Availability::Available),
        method(MethodKind::Card, Availability::Available),
        from(MethodKind::ChinaMobilePay),
        method(MethodKind::AnyWallet, Availability::Available),
    ]
}

/// Inside WeChat: WeChat Pay through its own bridge, Alipay blocked.
fn in_wechat_methods() -> Vec<PaymentMethod> {
    vec![
        PaymentMethod {
            kind: MethodKind::WechatPay,
            flow: Flow::WechatJsapi,
            availability: Availability::Available,
        },
        method(
            MethodKind::Alipay,
            Availability::unavailable(UnavailableReason::BlockedInWechat),
        ),
    ]
}

/// Inside the Alipay app: Alipay through its own sheet, WeChat Pay blocked.
fn in_alipay_methods() -> Vec<PaymentMethod> {
    vec![
        method(
            MethodKind::WechatPay,
            Availability::unavailable(UnavailableReason::BlockedInAlipay),
        ),
        PaymentMethod {
            kind: MethodKind::Alipay,
            flow: Flow::AlipayTradePay,
            availability: Availability::Available,
        },
    ]
}

/// `intent`, paid with `method` through `next_action`.
fn paid_with(
    method: MethodKind,
    mut intent: PaymentIntent,
    next_action: NextAction,
) -> PaymentIntent {
    intent.method = method;
    intent.next_action = Some(next_action);
    intent
}

/// One method per reason it can be shown but not chosen.
fn unavailable_methods() -> Vec<PaymentMethod> {
    let not = |kind, reason| method(kind, Availability::unavailable(reason));
    vec![
        method(MethodKind::WechatPay, Availability::Available),
        not(MethodKind::Alipay, UnavailableReason::BlockedInWechat),
        not(MethodKind::Unionpay, UnavailableReason::AmountOutOfRange),
        not(
            MethodKind::ChinaMobilePay,
            UnavailableReason::CurrencyNotSupported,
        ),
        not(MethodKind::Card, UnavailableReason::Other),
    ]
}

fn intent(
    now: UnixSeconds,
    status: IntentStatus,
    next_action: Option<NextAction>,
) -> PaymentIntent {
    PaymentIntent {
        id: "pi_gallery".into(),
        session_id: "cs_gallery".into(),
        method: MethodKind::WechatPay,
        amount: Money::new(12800, Currency::CNY),
        status,
        expires_at: now + 15 * 60,
        next_action,
        failure_reason: None,
        transaction_id: None,
        amount_refunded: None,
        review_reason: None,
    }
}

/// How the gallery is looked at: language, colours and width, from the
/// page's address (`?gallery&locale=zh-TW&theme=dark&width=phone`) and
/// switched on the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct View {
    locale: Locale,
    dark: bool,
    phone: bool,
}

impl View {
    fn from_address() -> View {
        let parameter = crate::browser::query_parameter;
        View {
            locale: parameter("locale")
                .as_deref()
                .and_then(Locale::from_tag)
                .unwrap_or(Locale::ZhCn),
            dark: parameter("theme").as_deref() == Some("dark"),
            phone: parameter("width").as_deref() == Some("phone"),
        }
    }
}

/// Every state of the checkout side by side, with switches for language,
/// theme and width.
#[component]
pub fn Gallery() -> impl IntoView {
    let view = RwSignal::new(View::from_address());
    let now = crate::browser::now();
    let locale = Memo::new(move |_| view.with(|view| view.locale));
    let cards = move || {
        let locale = locale.get();
        fixtures(now)
            .into_iter()
            .map(|(name, state)| {
                view! {
                    <figure class="ps-gallery__card" data-testid="gallery-state">
                        <figcaption class="ps-gallery__name">{name}</figcaption>
                        <CheckoutFixture state locale />
                    </figure>
                }
            })
            .collect_view()
    };
    let languages = [
        (Locale::ZhCn, "简体中文", "zh-CN"),
        (Locale::ZhTw, "繁體中文", "zh-TW"),
        (Locale::En, "English", "en"),
    ]
    .map(|(locale, name, tag)| {
        view! {
            <label class="ps-gallery__choice" lang=tag>
                <input type="radio" name="ps-gallery-locale" value=tag
                    prop:checked=move || view.with(|view| view.locale == locale)
                    on:change=move |_| view.update(|view| view.locale = locale) />
                {name}
            </label>
        }
    });
    let switch = |name: &'static str,
                  options: [(&'static str, bool); 2],
                  set: fn(&mut View, bool),
                  get: fn(&View) -> bool| {
        options.map(|(label, value)| {
            view! {
                <label class="ps-gallery__choice">
                    <input type="radio" name=name value=label
                        prop:checked=move || view.with(|view| get(view) == value)
                        on:change=move |_| view.update(|view| set(view, value)) />
                    {label}
                </label>
            }
        })
    };
    let themes = switch(
        "ps-gallery-theme",
        [("Light", false), ("Dark", true)],
        |view, dark| view.dark = dark,
        |view| view.dark,
    );
    let widths = switch(
        "ps-gallery-width",
        [("Desktop", false), ("Phone", true)],
        |view, phone| view.phone = phone,
        |view| view.phone,
    );
    view! {
        <div class="ps-gallery">
            <form class="ps-gallery__controls">
                <fieldset>
                    <legend>"Language"</legend>
                    {languages}
                </fieldset>
                <fieldset>
                    <legend>"Theme"</legend>
                    {themes}
                </fieldset>
                <fieldset>
                    <legend>"Width"</legend>
                    {widths}
                </fieldset>
            </form>
            <div
                class="ps-gallery__states"
                class:ps-gallery__states--phone=move || view.with(|view| view.phone)
                data-ps-theme=move || if view.with(|view| view.dark) { "dark" } else { "light" }
                data-testid="gallery"
            >
                {cards}
            </div>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkout::Phase;

    /// How many ways of [`phase_name`] there are: a new phase does not
    /// compile until it is named there, and then fails the test below until
    /// this counts it and the gallery shows it.
    const PHASES: usize = 21;

    /// Each phase, with the variants that are drawn differently told apart.
    fn phase_name(phase: &Phase) -> &'static str {
        match phase {
            Phase::Loading => "loading",
            Phase::LoadFailed(_) => "load failed",
            Phase::Choosing => "choosing",
            Phase::Creating(_) => "creating",
            Phase::AwaitingScan { trouble: true, .. } => "scan, trouble",
            Phase::AwaitingScan { .. } => "scan",
            Phase::Redirecting { stalled: true, .. } => "redirect stalled",
            Phase::Redirecting { .. } => "redirecting",
            Phase::InvokingWallet { stalled: true, .. } => "wallet stalled",
            Phase::InvokingWallet { .. } => "wallet",
            Phase::Checking {
                said: IntentStatus::Processing,
                ..
            } => "confirming on the phone",
            Phase::Checking {
                said: IntentStatus::RequiresReview,
                ..
            } => "under review",
            Phase::Checking { polls: 3.., .. } => "not paid yet",
            Phase::Checking { trouble: true, .. } => "checking, trouble",
            Phase::Checking { .. } => "checking",
            Phase::Unconfirmed { .. } => "unconfirmed",
            Phase::Succeeded(_) => "succeeded",
            Phase::PaidTwice(_) => "paid twice",
            Phase::Failed(_) => "failed",
            Phase::Canceled(_) => "canceled",
            Phase::Expired(_) => "expired",
        }
    }

    #[test]
    fn the_gallery_shows_every_phase_the_checkout_has() {
        let mut shown: Vec<&str> = fixtures(1_000_000)
            .iter()
            .map(|(_, state)| phase_name(&state.phase))
            .collect();
        shown.sort_unstable();
        shown.dedup();
        assert_eq!(shown.len(), PHASES, "phases shown: {shown:?}");
    }

    #[test]
    fn the_gallery_shows_each_kind_of_error_beside_the_methods() {
        let errors: Vec<_> = fixtures(1_000_000)
            .into_iter()
            .filter(|(_, state)| matches!(state.phase, Phase::Choosing))
            .filter_map(|(_, state)| state.error)
            .collect();
        for wanted in [
            CheckoutError::BadResponse(String::new()),
            CheckoutError::WalletClosed(MethodKind::WechatPay),
            CheckoutError::WalletBridge(MethodKind::Alipay),
        ] {
            assert!(errors.contains(&wanted), "{wanted:?} in {errors:?}");
        }
        assert!(errors
            .iter()
            .any(|error| matches!(error, CheckoutError::Refused { status: 409, .. })));
    }

    #[test]
    fn every_reason_a_method_is_unavailable_is_shown() {
        let reasons: Vec<_> = fixtures(1_000_000)
            .into_iter()
            .filter_map(|(_, state)| state.session)
            .flat_map(|session| session.methods)
            .filter_map(|method| match method.availability {
                Availability::Unavailable {
                    reason,
                    available_from,
                } => Some((reason, available_from.is_some())),
                Availability::Available => None,
            })
            .collect();
        for reason in [
            UnavailableReason::BlockedInWechat,
            UnavailableReason::BlockedInAlipay,
            UnavailableReason::NotYetEnabled,
            UnavailableReason::AmountOutOfRange,
            UnavailableReason::CurrencyNotSupported,
            UnavailableReason::Other,
        ] {
            assert!(
                reasons.iter().any(|(shown, _)| *shown == reason),
                "{reason:?}"
            );
        }
        assert!(reasons.iter().any(|(_, dated)| *dated), "a switch-on date");
    }
}
