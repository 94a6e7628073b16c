use contract::{
    Currency, ErrorCode, FailureReason, Flow, Money, PaymentMethod, SessionStatus,
    UnavailableReason,
};

use super::*;

fn method(kind: MethodKind, availability: Availability) -> PaymentMethod {
    PaymentMethod {
        kind,
        flow: Flow::QrCode,
        availability,
    }
}

fn session() -> CheckoutSession {
    CheckoutSession {
        id: "cs_1".into(),
        amount: Money::new(12800, Currency::CNY),
        merchant_name: "Demo".into(),
        expires_at: 2_000,
        livemode: false,
        status: SessionStatus::Open,
        paid_intent: None,
        methods: vec![
            method(MethodKind::WechatPay, Availability::Available),
            method(MethodKind::Card, Availability::Available),
            method(
                MethodKind::Alipay,
                Availability::unavailable(UnavailableReason::BlockedInWechat),
            ),
        ],
    }
}

fn intent(status: IntentStatus, next_action: Option<NextAction>) -> PaymentIntent {
    PaymentIntent {
        id: "pi_1".into(),
        session_id: "cs_1".into(),
        method: MethodKind::WechatPay,
        amount: Money::new(12800, Currency::CNY),
        status,
        expires_at: 1_900,
        next_action,
        failure_reason: None,
        transaction_id: None,
        amount_refunded: None,
        review_reason: None,
    }
}

fn qr_intent() -> PaymentIntent {
    intent(
        IntentStatus::RequiresAction,
        Some(NextAction::DisplayQrCode {
            payload: "weixin://wxpay/bizpayurl?pr=x".into(),
            expires_at: 1_600,
        }),
    )
}

fn choosing() -> Checkout {
    let (mut checkout, commands) = Checkout::start();
    assert_eq!(commands, [Command::LoadSession]);
    assert!(checkout.update(Event::SessionLoaded(session())).is_empty());
    checkout
}

fn pay_with_wechat(checkout: &mut Checkout) -> Vec<Command> {
    checkout.update(Event::Select(MethodKind::WechatPay));
    checkout.update(Event::Pay {
        fresh_key: "key-1".into(),
    })
}

fn awaiting_scan() -> Checkout {
    let mut checkout = choosing();
    pay_with_wechat(&mut checkout);
    checkout.update(Event::IntentCreated(qr_intent()));
    checkout
}

fn refused(code: ErrorCode, status: u16) -> CheckoutError {
    CheckoutError::Refused {
        status,
        code,
        message: String::new(),
    }
}

#[test]
fn loading_a_session_shows_its_methods_with_none_chosen() {
    let checkout = choosing();
    assert_eq!(checkout.phase, Phase::Choosing);
    assert_eq!(checkout.selected, None);
    assert_eq!(checkout.status(), None);
    assert_eq!(checkout.error_message(), None);
}

#[test]
fn a_single_available_method_is_chosen_for_the_shopper() {
    let mut only_wechat = session();
    only_wechat.methods.retain(|m| m.kind != MethodKind::Card);
    let (mut checkout, _) = Checkout::start();
    checkout.update(Event::SessionLoaded(only_wechat));
    assert_eq!(checkout.selected, Some(MethodKind::WechatPay));
}

#[test]
fn inside_a_wallet_s_app_its_own_method_is_chosen_for_the_shopper() {
    let mut inside_wechat = session();
    inside_wechat.methods[0].flow = Flow::WechatJsapi;
    inside_wechat.methods[1].flow = Flow::Redirect;
    let (mut checkout, _) = Checkout::start();
    checkout.update(Event::SessionLoaded(inside_wechat));
    assert_eq!(
        checkout.selected,
        Some(MethodKind::WechatPay),
        "WeChat Pay through WeChat's own bridge, though cards could be paid too"
    );
    let (mut elsewhere, _) = Checkout::start();
    elsewhere.update(Event::SessionLoaded(session()));
    assert_eq!(
        elsewhere.selected, None,
        "two methods, no bridge: the shopper picks"
    );
}

#[test]
fn a_session_that_cannot_load_says_why() {
    let (mut checkout, _) = Checkout::start();
    checkout.update(Event::SessionFailed(CheckoutError::Network));
    assert_eq!(checkout.phase, Phase::LoadFailed(CheckoutError::Network));
    assert_eq!(checkout.error_message(), Some(Key::ErrorNetwork));
    assert_eq!(checkout.update(Event::Reload), [Command::LoadSession]);
    assert_eq!(checkout.phase, Phase::Loading);
}

#[test]
fn unavailable_methods_cannot_be_chosen() {
    let mut checkout = choosing();
    checkout.update(Event::Select(MethodKind::Alipay));
    assert_eq!(checkout.selected, None);
    checkout.update(Event::Select(MethodKind::Unionpay));
    assert_eq!(
        checkout.selected, None,
        "a method the merchant does not take"
    );
}

#[test]
fn pay_does_nothing_until_a_method_is_chosen() {
    let mut checkout = choosing();
    assert!(checkout
        .update(Event::Pay {
            fresh_key: "k".into()
        })
        .is_empty());
    assert_eq!(checkout.phase, Phase::Choosing);
}

#[test]
fn pay_creates_one_intent_even_when_clicked_twice() {
    let mut checkout = choosing();
    let attempt = Attempt {
        method: MethodKind::WechatPay,
        idempotency_key: "key-1".into(),
    };
    assert_eq!(
        pay_with_wechat(&mut checkout),
        [Command::CreateIntent(attempt.clone())]
    );
    assert_eq!(checkout.phase, Phase::Creating(attempt));
    assert!(checkout
        .update(Event::Pay {
            fresh_key: "key-2".into()
        })
        .is_empty());
    assert!(checkout.update(Event::Select(MethodKind::Card)).is_empty());
    assert_eq!(checkout.selected, Some(MethodKind::WechatPay));
}

/// The storefront package applies the events of a payment under way only
/// once the wasm's second part is here: everything up to Pay, Pay refused
/// and the way back to the methods must not wait for it.
#[test]
fn choosing_paying_and_going_back_need_no_event_of_a_payment_under_way() {
    let (mut checkout, _) = Checkout::start();
    let before = [
        Event::SessionLoaded(session()),
        Event::Select(MethodKind::WechatPay),
        Event::Pay {
            fresh_key: "key-1".into(),
        },
        Event::CreateFailed(CheckoutError::Network),
        Event::Pay {
            fresh_key: "key-2".into(),
        },
    ];
    for event in before {
        assert!(checkout.update_before_paying(event).is_ok());
    }
    assert!(matches!(checkout.phase, Phase::Creating(_)));
    for nudge in [
        Event::Tick { now: 1_000 },
        Event::CheckNow {
            ask_provider: false,
        },
    ] {
        assert!(checkout.update_before_paying(nudge).is_err(), "handed back");
    }
    let created = checkout.update_before_paying(Event::IntentCreated(qr_intent()));
    assert!(
        matches!(created, Err(Event::IntentCreated(_))),
        "handed back"
    );
    assert!(matches!(checkout.phase, Phase::Creating(_)), "unchanged");
    checkout.update_paying(Event::IntentCreated(qr_intent()));
    assert!(matches!(checkout.phase, Phase::AwaitingScan { .. }));

    let mut resumed = Checkout::resuming("pi_1".into()).0;
    assert!(resumed
        .update_before_paying(Event::SessionLoaded(session()))
        .is_ok());
    let back = resumed.update_before_paying(Event::ChooseAnother);
    assert!(back.is_ok(), "the way back needs no second part");
    assert_eq!(resumed.phase, Phase::Choosing);
}

#[test]
fn a_qr_intent_shows_the_code_and_starts_polling() {
    let mut checkout = choosing();
    pay_with_wechat(&mut checkout);
    let commands = checkout.update(Event::IntentCreated(qr_intent()));
    assert_eq!(
        commands,
        [Command::FetchIntent {
            intent_id: "pi_1".into(),
            delay_ms: 2_000,
            ask_provider: false
        }]
    );
    let Phase::AwaitingScan {
        payload,
        expires_at,
        ..
    } = &checkout.phase
    else {
        panic!("expected the QR code, got {:?}", checkout.phase);
    };
    assert_eq!(payload, "weixin://wxpay/bizpayurl?pr=x");
    assert_eq!(*expires_at, 1_600);
    assert_eq!(checkout.status(), Some(Key::Waiting));
}

#[test]
fn polling_continues_until_the_server_says_paid() {
    let mut checkout = awaiting_scan();
    let still_waiting = checkout.update(Event::IntentFetched(qr_intent()));
    assert_eq!(
        still_waiting,
        [Command::FetchIntent {
            intent_id: "pi_1".into(),
            delay_ms: 2_000,
            ask_provider: false
        }]
    );
    let paid = intent(IntentStatus::Succeeded, None);
    assert!(checkout
        .update(Event::IntentFetched(paid.clone()))
        .is_empty());
    assert_eq!(checkout.phase, Phase::Succeeded(paid));
    assert_eq!(checkout.status(), Some(Key::Succeeded));
}

#[test]
fn polling_slows_down_after_a_minute() {
    let mut checkout = awaiting_scan();
    let mut delays = vec![];
    for _ in 0..40 {
        for command in checkout.update(Event::IntentFetched(qr_intent())) {
            if let Command::FetchIntent { delay_ms, .. } = command {
                delays.push(delay_ms);
            }
        }
    }
    assert_eq!(delays.len(), 40);
    assert!(delays[..29].iter().all(|&d| d == 2_000));
    assert!(delays[29..].iter().all(|&d| d == 10_000));
}

#[test]
fn a_session_whose_amount_is_not_payable_is_refused_like_any_malformed_answer() {
    for amount in [
        Money::new(-12800, Currency::CNY),
        Money::new(0, Currency::CNY),
        Money::new(12800, "ZZZ".parse().expect("a code")),
    ] {
        let (mut checkout, _) = Checkout::start();
        let mut lying = session();
        lying.amount = amount.clone();
        checkout.update(Event::SessionLoaded(lying));
        assert!(
            matches!(
                checkout.phase,
                Phase::LoadFailed(CheckoutError::BadResponse(_))
            ),
            "{amount:?}: {:?}",
            checkout.phase
        );
        assert_eq!(checkout.session, None, "{amount:?} is never shown");
        assert_eq!(checkout.error_message(), Some(Key::ErrorBadResponse));
    }
}

#[test]
fn a_refused_poll_stops_and_never_offers_to_pay_again() {
    let mut checkout = awaiting_scan();
    let refused = CheckoutError::Refused {
        status: 401,
        code: contract::ErrorCode::Unauthorized,
        message: "bad secret".into(),
    };
    let commands = checkout.update(Event::FetchFailed {
        intent_id: "pi_1".into(),
        error: refused,
    });
    assert_eq!(commands, [], "asking again the same way cannot help");
    assert_eq!(checkout.status(), Some(Key::Unconfirmed));
    for event in [
        Event::Reload,
        Event::ChooseAnother,
        Event::Pay {
            fresh_key: "k2".into(),
        },
    ] {
        assert_eq!(checkout.update(event), [], "nothing new is paid from here");
        assert!(!checkout.can_choose());
    }
    // The shopper's "check again" asks once more, and an answer ends it.
    assert!(matches!(
        checkout.update(Event::CheckNow { ask_provider: true })[..],
        [Command::FetchIntent { .. }]
    ));
    checkout.update(Event::IntentFetched(intent(IntentStatus::Succeeded, None)));
    assert!(matches!(checkout.phase, Phase::Succeeded(_)));
}

#[test]
fn a_shopper_back_from_the_provider_whose_payment_this_page_cannot_read_is_not_offered_a_new_one() {
    // The page's session is another than the intent's (a shop that made a
    // new session on every page load): the status read is refused.
    let (mut checkout, _) = Checkout::returning("pi_of_another_session".into());
    checkout.update(Event::SessionLoaded(session()));
    checkout.update(Event::FetchFailed {
        intent_id: "pi_of_another_session".into(),
        error: CheckoutError::Refused {
            status: 401,
            code: contract::ErrorCode::Unauthorized,
            message: String::new(),
        },
    });
    assert_eq!(checkout.status(), Some(Key::Unconfirmed));
    assert_eq!(checkout.error_message(), None);
    assert!(!checkout.can_choose());
    // Still open to being told: a later answer (the shop fixed its page,
    // or the server came back) shows the payment.
    checkout.update(Event::CheckNow { ask_provider: true });
    let mut paid = intent(IntentStatus::Succeeded, None);
    paid.id = "pi_of_another_session".into();
    checkout.update(Event::IntentFetched(paid));
    assert!(matches!(checkout.phase, Phase::Succeeded(_)));
}

#[test]
fn a_failed_poll_keeps_the_code_and_retries_later() {
    let mut checkout = awaiting_scan();
    let commands = checkout.update(Event::FetchFailed {
        intent_id: "pi_1".into(),
        error: CheckoutError::Network,
    });
    assert_eq!(
        commands,
        [Command::FetchIntent {
            intent_id: "pi_1".into(),
            delay_ms: 5_000,
            ask_provider: false
        }]
    );
    assert!(matches!(
        checkout.phase,
        Phase::AwaitingScan { trouble: true, .. }
    ));
    assert_eq!(checkout.status(), Some(Key::StillTrying));
    checkout.update(Event::IntentFetched(qr_intent()));
    assert_eq!(checkout.status(), Some(Key::Waiting));
}

#[test]
fn an_answer_about_another_intent_is_ignored() {
    let mut checkout = awaiting_scan();
    let mut other = intent(IntentStatus::Succeeded, None);
    other.id = "pi_old".into();
    let before = checkout.clone();
    assert!(checkout.update(Event::IntentFetched(other)).is_empty());
    let late_failure = Event::FetchFailed {
        intent_id: "pi_old".into(),
        error: CheckoutError::Network,
    };
    assert!(checkout.update(late_failure).is_empty());
    assert_eq!(checkout, before, "the current code shows no trouble");
}

#[test]
fn a_tick_that_asks_for_nothing_changes_nothing() {
    // The driver tells the views of a tick only when it returns commands.
    let mut checkout = awaiting_scan();
    let before = checkout.clone();
    assert!(checkout.update(Event::Tick { now: 1_599 }).is_empty());
    assert_eq!(checkout, before);
}

#[test]
fn the_code_expires_on_time_and_a_new_one_can_be_had() {
    let mut checkout = awaiting_scan();
    assert!(checkout.update(Event::Tick { now: 1_599 }).is_empty());
    let commands = checkout.update(Event::Tick { now: 1_600 });
    assert_eq!(
        commands,
        [Command::FetchIntent {
            intent_id: "pi_1".into(),
            delay_ms: 0,
            ask_provider: false
        }],
        "the server says whether it was paid in its last seconds"
    );
    assert_eq!(checkout.status(), Some(Key::Checking));
    assert!(checkout
        .update(Event::IntentFetched(qr_intent()))
        .iter()
        .all(|command| matches!(command, Command::FetchIntent { .. })));
    checkout.update(Event::IntentFetched(intent(IntentStatus::Expired, None)));
    assert_eq!(
        checkout.phase,
        Phase::Expired(intent(IntentStatus::Expired, None))
    );
    assert_eq!(checkout.status(), Some(Key::CodeExpired));

    let commands = checkout.update(Event::RefreshCode {
        fresh_key: "key-2".into(),
    });
    let attempt = Attempt {
        method: MethodKind::WechatPay,
        idempotency_key: "key-2".into(),
    };
    assert_eq!(commands, [Command::CreateIntent(attempt)]);
}

#[test]
fn a_code_paid_in_its_last_second_shows_the_payment() {
    let mut checkout = awaiting_scan();
    checkout.update(Event::Tick { now: 1_600 });
    checkout.update(Event::IntentFetched(intent(IntentStatus::Succeeded, None)));
    assert!(matches!(checkout.phase, Phase::Succeeded(_)));
}

#[test]
fn a_code_being_paid_is_not_expired_under_the_shopper() {
    let mut checkout = awaiting_scan();
    let commands = checkout.update(Event::IntentFetched(intent(IntentStatus::Processing, None)));
    assert!(matches!(
        commands.as_slice(),
        [Command::FetchIntent { delay_ms: 0, .. }]
    ));
    assert_eq!(
        checkout.status(),
        Some(Key::ConfirmOnPhone),
        "the shopper is told to finish on the phone"
    );
    for _ in 0..4 {
        checkout.update(Event::IntentFetched(intent(IntentStatus::Processing, None)));
    }
    assert_eq!(
        checkout.status(),
        Some(Key::ConfirmOnPhone),
        "not \"no payment received\": it is being paid"
    );
    assert!(checkout.update(Event::Tick { now: 9_999 }).is_empty());
    assert!(
        checkout.update(Event::ChooseAnother).is_empty(),
        "leaving a payment in progress does not cancel it"
    );
    assert!(checkout.can_choose());
}

#[test]
fn a_payment_the_shop_must_check_keeps_the_shopper_from_paying_again() {
    let mut checkout = awaiting_scan();
    let commands = checkout.update(Event::IntentFetched(intent(
        IntentStatus::RequiresReview,
        None,
    )));
    assert!(matches!(
        commands.as_slice(),
        [Command::FetchIntent { delay_ms: 0, .. }]
    ));
    assert_eq!(checkout.status(), Some(Key::UnderReview));
    checkout.update(Event::IntentFetched(intent(
        IntentStatus::RequiresReview,
        None,
    )));
    assert_eq!(checkout.status(), Some(Key::UnderReview));
    assert_eq!(
        checkout.completion(),
        None,
        "not an ending the page acts on"
    );
}

#[test]
fn a_second_payment_given_back_shows_the_order_paid() {
    let mut checkout = awaiting_scan();
    checkout.update(Event::IntentFetched(intent(IntentStatus::Refunded, None)));
    assert!(matches!(checkout.phase, Phase::PaidTwice(_)));
    assert_eq!(checkout.status(), Some(Key::PaidTwice));
}

#[test]
fn another_payment_confirming_on_a_phone_is_said_so() {
    let error = CheckoutError::Refused {
        status: 409,
        code: ErrorCode::PaymentInProgress,
        message: String::new(),
    };
    assert_eq!(error.message_key(), Key::ConfirmOnPhone);
    assert!(!error.is_transient());
}

#[test]
fn a_code_paid_just_as_the_shopper_left_it_shows_the_payment() {
    let mut checkout = awaiting_scan();
    let commands = checkout.update(Event::ChooseAnother);
    assert_eq!(
        commands,
        [Command::CancelIntent {
            intent_id: "pi_1".into()
        }]
    );
    let paid = CheckoutError::Refused {
        status: 409,
        code: contract::ErrorCode::IntentPaid,
        message: "the shopper has already paid".into(),
    };
    let commands = checkout.update(Event::CancelRefused {
        intent_id: "pi_1".into(),
        error: paid,
    });
    assert_eq!(
        commands,
        [Command::FetchIntent {
            intent_id: "pi_1".into(),
            delay_ms: 0,
            ask_provider: false
        }]
    );
    checkout.update(Event::IntentFetched(intent(IntentStatus::Succeeded, None)));
    assert!(matches!(checkout.phase, Phase::Succeeded(_)));

    let mut checkout = awaiting_scan();
    checkout.update(Event::ChooseAnother);
    let commands = checkout.update(Event::CancelRefused {
        intent_id: "pi_1".into(),
        error: CheckoutError::Network,
    });
    assert!(
        commands.is_empty(),
        "a cancel lost on the network changes nothing"
    );
    assert!(checkout.can_choose());
}

#[test]
fn the_server_can_expire_the_intent_too() {
    let mut checkout = awaiting_scan();
    checkout.update(Event::IntentFetched(intent(IntentStatus::Expired, None)));
    assert_eq!(
        checkout.phase,
        Phase::Expired(intent(IntentStatus::Expired, None))
    );
}

#[test]
fn a_declined_payment_is_shown_and_another_method_can_be_tried() {
    let mut checkout = awaiting_scan();
    checkout.update(Event::IntentFetched(intent(IntentStatus::Failed, None)));
    assert_eq!(checkout.status(), Some(Key::Failed));
    assert!(checkout.update(Event::ChooseAnother).is_empty());
    assert_eq!(checkout.phase, Phase::Choosing);
}

#[test]
fn leaving_a_code_cancels_it_so_it_cannot_be_paid_later() {
    let mut checkout = awaiting_scan();
    assert_eq!(
        checkout.update(Event::ChooseAnother),
        [Command::CancelIntent {
            intent_id: "pi_1".into()
        }]
    );
    assert_eq!(checkout.phase, Phase::Choosing);
}

#[test]
fn leaving_the_check_after_a_redirect_does_not_cancel_a_payment_in_flight() {
    let (mut checkout, _) = Checkout::returning("pi_1".into());
    checkout.update(Event::SessionLoaded(session()));
    assert!(checkout.update(Event::ChooseAnother).is_empty());
    assert_eq!(checkout.phase, Phase::Choosing);
}

#[test]
fn a_dropped_connection_on_create_reuses_the_key_on_retry() {
    let mut checkout = choosing();
    pay_with_wechat(&mut checkout);
    checkout.update(Event::CreateFailed(CheckoutError::Network));
    assert_eq!(checkout.phase, Phase::Choosing);
    assert_eq!(checkout.error_message(), Some(Key::ErrorNetwork));
    let commands = checkout.update(Event::Pay {
        fresh_key: "key-2".into(),
    });
    let same = Attempt {
        method: MethodKind::WechatPay,
        idempotency_key: "key-1".into(),
    };
    assert_eq!(commands, [Command::CreateIntent(same)]);
}

#[test]
fn a_refusal_or_another_method_gets_a_fresh_key() {
    let mut checkout = choosing();
    pay_with_wechat(&mut checkout);
    checkout.update(Event::CreateFailed(refused(
        ErrorCode::MethodUnavailable,
        422,
    )));
    assert_eq!(checkout.error_message(), Some(Key::ErrorMethodUnavailable));
    let commands = checkout.update(Event::Pay {
        fresh_key: "key-2".into(),
    });
    assert_eq!(
        commands,
        [Command::CreateIntent(Attempt {
            method: MethodKind::WechatPay,
            idempotency_key: "key-2".into()
        })]
    );

    let mut checkout = choosing();
    pay_with_wechat(&mut checkout);
    checkout.update(Event::CreateFailed(refused(ErrorCode::Internal, 503)));
    checkout.update(Event::Select(MethodKind::Card));
    let commands = checkout.update(Event::Pay {
        fresh_key: "key-3".into(),
    });
    assert_eq!(
        commands,
        [Command::CreateIntent(Attempt {
            method: MethodKind::Card,
            idempotency_key: "key-3".into()
        })]
    );
}

#[test]
fn redirects_navigate_as_data() {
    let mut checkout = choosing();
    checkout.update(Event::Select(MethodKind::Card));
    checkout.update(Event::Pay {
        fresh_key: "k".into(),
    });
    let fields = vec![("txnAmt".to_owned(), "12800".to_owned())];
    let mut card = intent(
        IntentStatus::RequiresAction,
        Some(NextAction::Redirect {
            url: "https://pay.test/".into(),
            method: FormMethod::Post,
            fields: fields.clone(),
        }),
    );
    card.method = MethodKind::Card;
    let commands = checkout.update(Event::IntentCreated(card));
    assert_eq!(
        commands,
        [
            Command::Navigate {
                url: "https://pay.test/".into(),
                method: FormMethod::Post,
                fields
            },
            Command::WatchHandOff {
                intent_id: "pi_1".into(),
                delay_ms: HAND_OFF_PATIENCE_MS
            }
        ]
    );
    assert_eq!(checkout.status(), Some(Key::Redirecting));

    let refused = CheckoutError::Misconfigured("javascript: URL".into());
    let commands = checkout.update(Event::RedirectFailed(refused));
    assert_eq!(
        commands,
        [Command::CancelIntent {
            intent_id: "pi_1".into()
        }],
        "a redirect that never happened closes its attempt"
    );
    assert!(checkout.can_choose(), "the shopper can choose again");
    assert!(checkout.error_message().is_some());
}

#[test]
fn back_from_the_provider_s_page_asks_the_server_and_offers_a_way_on() {
    let mut checkout = choosing();
    checkout.update(Event::Select(MethodKind::Card));
    checkout.update(Event::Pay {
        fresh_key: "k".into(),
    });
    let mut card = intent(
        IntentStatus::RequiresAction,
        Some(NextAction::Redirect {
            url: "https://pay.test/".into(),
            method: FormMethod::Get,
            fields: vec![],
        }),
    );
    card.method = MethodKind::Card;
    checkout.update(Event::IntentCreated(card));
    assert_eq!(checkout.status(), Some(Key::Redirecting));

    let commands = checkout.update(Event::CheckNow {
        ask_provider: false,
    });
    assert_eq!(
        commands,
        [Command::FetchIntent {
            intent_id: "pi_1".into(),
            delay_ms: 0,
            ask_provider: false
        }]
    );
    assert_eq!(checkout.status(), Some(Key::Checking));
    assert!(checkout.update(Event::ChooseAnother).is_empty());
    assert!(checkout.can_choose());
}

#[test]
fn choosing_again_after_a_return_loads_the_methods_first() {
    let (mut checkout, _) = Checkout::returning("pi_1".into());
    checkout.update(Event::SessionFailed(CheckoutError::Network));
    let commands = checkout.update(Event::ChooseAnother);
    assert_eq!(commands, [Command::LoadSession]);
    assert_eq!(checkout.status(), Some(Key::Loading));
}

#[test]
fn a_return_from_the_provider_only_asks_the_server() {
    let (mut checkout, commands) = Checkout::returning("pi_1".into());
    // The server, not the page, asks the provider: the notification may
    // not have arrived when the shopper is back.
    assert_eq!(
        commands,
        [
            Command::LoadSession,
            Command::FetchIntent {
                intent_id: "pi_1".into(),
                delay_ms: 0,
                ask_provider: true
            }
        ]
    );
    checkout.update(Event::SessionLoaded(session()));
    assert!(
        matches!(checkout.phase, Phase::Checking { .. }),
        "the session must not reset the check"
    );
    assert_eq!(checkout.status(), Some(Key::Checking));
    assert_eq!(
        checkout.update(Event::CheckNow {
            ask_provider: false
        }),
        [Command::FetchIntent {
            intent_id: "pi_1".into(),
            delay_ms: 0,
            ask_provider: false
        }]
    );
    checkout.update(Event::IntentFetched(intent(IntentStatus::Succeeded, None)));
    assert_eq!(checkout.status(), Some(Key::Succeeded));
}

#[test]
fn the_wechat_bridge_hands_over_to_the_server_for_the_verdict() {
    let mut checkout = choosing();
    pay_with_wechat(&mut checkout);
    let params = WechatJsapiParams {
        app_id: "wx".into(),
        time_stamp: "1".into(),
        nonce_str: "n".into(),
        package: "prepay_id=p".into(),
        sign_type: "RSA".into(),
        pay_sign: "s".into(),
    };
    let jsapi = intent(
        IntentStatus::RequiresAction,
        Some(NextAction::InvokeWechatJsapi {
            params: params.clone(),
        }),
    );
    assert_eq!(
        checkout.update(Event::IntentCreated(jsapi)),
        [
            Command::InvokeWechat(params),
            Command::WatchHandOff {
                intent_id: "pi_1".into(),
                delay_ms: HAND_OFF_PATIENCE_MS
            }
        ]
    );
    assert_eq!(
        checkout.update(Event::WalletReturned(BridgeAnswer::Ok)),
        [Command::FetchIntent {
            intent_id: "pi_1".into(),
            delay_ms: 0,
            ask_provider: true
        }]
    );
    assert_eq!(checkout.status(), Some(Key::Checking));
}

#[test]
fn an_unknown_hand_off_is_an_error_not_a_crash() {
    let mut checkout = choosing();
    pay_with_wechat(&mut checkout);
    let commands = checkout.update(Event::IntentCreated(intent(
        IntentStatus::RequiresAction,
        Some(NextAction::Unsupported),
    )));
    assert_eq!(
        commands,
        [Command::CancelIntent {
            intent_id: "pi_1".into()
        }]
    );
    assert_eq!(checkout.phase, Phase::Choosing);
    assert_eq!(checkout.error, Some(CheckoutError::UnsupportedHandOff));
}

#[test]
fn an_intent_already_paid_goes_straight_to_success() {
    let mut checkout = choosing();
    pay_with_wechat(&mut checkout);
    checkout.update(Event::IntentCreated(intent(IntentStatus::Succeeded, None)));
    assert!(matches!(checkout.phase, Phase::Succeeded(_)));
}

#[test]
fn late_events_after_success_change_nothing() {
    let mut checkout = awaiting_scan();
    checkout.update(Event::IntentFetched(intent(IntentStatus::Succeeded, None)));
    let before = checkout.clone();
    for event in [
        Event::FetchFailed {
            intent_id: "pi_1".into(),
            error: CheckoutError::Network,
        },
        Event::IntentFetched(qr_intent()),
        Event::Tick { now: 9_999 },
        Event::CheckNow { ask_provider: true },
        Event::ChooseAnother,
        Event::Pay {
            fresh_key: "k".into(),
        },
    ] {
        assert!(checkout.update(event).is_empty());
    }
    assert_eq!(checkout, before);
}

#[test]
fn an_ending_names_its_intent_for_the_page_around_the_checkout() {
    let mut checkout = awaiting_scan();
    assert_eq!(checkout.completion(), None);
    checkout.update(Event::IntentFetched(intent(IntentStatus::Succeeded, None)));
    let (completion, paid) = checkout.completion().expect("an ending");
    assert_eq!(
        (completion, paid.id.as_str()),
        (Completion::Succeeded, "pi_1")
    );

    let mut checkout = awaiting_scan();
    let commands = checkout.update(Event::IntentFetched(intent(IntentStatus::Canceled, None)));
    assert_eq!(
        commands,
        [Command::LoadSession],
        "was the order paid otherwise?"
    );
    assert_eq!(checkout.completion(), None, "not yet said");
    let commands = checkout.update(Event::SessionLoaded(session()));
    assert!(matches!(
        commands.as_slice(),
        [Command::FetchIntent { delay_ms: 0, .. }]
    ));
    checkout.update(Event::IntentFetched(intent(IntentStatus::Canceled, None)));
    assert_eq!(
        checkout.completion().map(|(kind, _)| kind.as_str()),
        Some("canceled")
    );
}

#[test]
fn a_code_canceled_because_another_payment_paid_the_order_shows_that_payment() {
    let mut checkout = awaiting_scan();
    checkout.update(Event::IntentFetched(intent(IntentStatus::Canceled, None)));
    assert_eq!(checkout.status(), Some(Key::Checking));
    let mut paid = session();
    paid.status = SessionStatus::Completed;
    paid.paid_intent = Some("pi_late".into());
    let commands = checkout.update(Event::SessionLoaded(paid));
    assert!(matches!(
        commands.as_slice(),
        [Command::FetchIntent { intent_id, .. }] if intent_id == "pi_late"
    ));
    let mut late = intent(IntentStatus::Succeeded, None);
    late.id = "pi_late".into();
    checkout.update(Event::IntentFetched(late));
    let (completion, intent) = checkout.completion().expect("an ending");
    assert_eq!(
        (completion, intent.id.as_str()),
        (Completion::Succeeded, "pi_late"),
        "the order is paid: never \"payment canceled\""
    );
}

#[test]
fn a_canceled_code_whose_session_cannot_be_read_ends_canceled() {
    let mut checkout = awaiting_scan();
    checkout.update(Event::IntentFetched(intent(IntentStatus::Canceled, None)));
    let commands = checkout.update(Event::SessionFailed(CheckoutError::Network));
    assert!(matches!(commands.as_slice(), [Command::FetchIntent { .. }]));
    checkout.update(Event::IntentFetched(intent(IntentStatus::Canceled, None)));
    assert!(matches!(checkout.phase, Phase::Canceled(_)));
}

#[test]
fn a_session_the_page_had_inline_shows_at_once_and_is_loaded_again() {
    let (mut checkout, commands) = Checkout::start();
    checkout.update(Event::SessionLoaded(session()));
    assert!(checkout.can_choose(), "the methods show before any request");
    assert_eq!(
        commands,
        [Command::LoadSession],
        "and the session is asked for"
    );

    checkout.update(Event::Select(MethodKind::Card));
    // Loaded for this device, the card is gone and WeChat Pay alone is left.
    let mut fresh = session();
    fresh.methods.retain(|m| m.kind == MethodKind::WechatPay);
    checkout.update(Event::SessionLoaded(fresh));
    assert_eq!(
        checkout.selected,
        Some(MethodKind::WechatPay),
        "a choice that went away is not kept; the only method left is chosen"
    );
}

fn jsapi_params() -> WechatJsapiParams {
    WechatJsapiParams {
        app_id: "wx".into(),
        time_stamp: "1".into(),
        nonce_str: "n".into(),
        package: "prepay_id=p".into(),
        sign_type: "RSA".into(),
        pay_sign: "s".into(),
    }
}

fn jsapi_intent() -> PaymentIntent {
    intent(
        IntentStatus::RequiresAction,
        Some(NextAction::InvokeWechatJsapi {
            params: jsapi_params(),
        }),
    )
}

fn bridge_open() -> Checkout {
    let mut checkout = choosing();
    pay_with_wechat(&mut checkout);
    checkout.update(Event::IntentCreated(jsapi_intent()));
    checkout
}

#[test]
fn closing_wechat_s_payment_sheet_goes_back_to_the_methods_says_so_and_closes_the_intent() {
    let mut checkout = bridge_open();
    let commands = checkout.update(Event::WalletReturned(BridgeAnswer::Cancel));
    assert_eq!(
        commands,
        [Command::CancelIntent {
            intent_id: "pi_1".into()
        }]
    );
    assert!(checkout.can_choose());
    assert_eq!(checkout.error_message(), Some(Key::WalletClosed));
    assert_eq!(
        checkout.selected,
        Some(MethodKind::WechatPay),
        "WeChat Pay stays chosen: Pay tries again"
    );
    assert!(matches!(
        checkout.update(Event::Pay {
            fresh_key: "k2".into()
        })[..],
        [Command::CreateIntent(_)]
    ));
}

#[test]
fn a_failing_wechat_sheet_is_an_error_and_closes_the_intent() {
    let mut checkout = bridge_open();
    let commands = checkout.update(Event::WalletReturned(BridgeAnswer::Fail));
    assert_eq!(
        commands,
        [Command::CancelIntent {
            intent_id: "pi_1".into()
        }]
    );
    assert_eq!(checkout.error_message(), Some(Key::ErrorWechatBridge));
    assert_eq!(checkout.selected, Some(MethodKind::WechatPay));
    assert_eq!(
        BridgeAnswer::from_err_msg("get_brand_wcpay_request:ok"),
        BridgeAnswer::Ok
    );
    assert_eq!(
        BridgeAnswer::from_err_msg("get_brand_wcpay_request:cancel"),
        BridgeAnswer::Cancel
    );
    assert_eq!(
        BridgeAnswer::from_err_msg("get_brand_wcpay_request:fail"),
        BridgeAnswer::Fail
    );
    assert_eq!(
        BridgeAnswer::from_err_msg("get_brand_wcpay_request:fail_invalid appid"),
        BridgeAnswer::Fail
    );
}

#[test]
fn an_unknown_word_from_wechat_asks_the_server_and_closes_nothing() {
    for err_msg in ["system:access_denied", "get_brand_wcpay_request:", ""] {
        assert_eq!(
            BridgeAnswer::from_err_msg(err_msg),
            BridgeAnswer::Unknown,
            "{err_msg:?}"
        );
    }
    let mut checkout = bridge_open();
    let commands = checkout.update(Event::WalletReturned(BridgeAnswer::Unknown));
    assert_eq!(
        commands,
        [Command::FetchIntent {
            intent_id: "pi_1".into(),
            delay_ms: 0,
            ask_provider: true
        }],
        "the server is asked; the intent is not canceled"
    );
    assert_eq!(checkout.error, None);
}

#[test]
fn a_hand_off_that_does_not_happen_offers_to_try_again_or_choose_another_way() {
    // A redirect the page held back (a shop's "leave this page?").
    let mut checkout = choosing();
    checkout.update(Event::Select(MethodKind::Card));
    checkout.update(Event::Pay {
        fresh_key: "k".into(),
    });
    let mut card = intent(
        IntentStatus::RequiresAction,
        Some(NextAction::Redirect {
            url: "https://pay.test/".into(),
            method: FormMethod::Get,
            fields: vec![],
        }),
    );
    card.method = MethodKind::Card;
    checkout.update(Event::IntentCreated(card));
    assert_eq!(checkout.status(), Some(Key::Redirecting));
    // A stall of another intent is not this one's.
    assert_eq!(
        checkout.update(Event::HandOffStalled {
            intent_id: "pi_old".into()
        }),
        []
    );
    let commands = checkout.update(Event::HandOffStalled {
        intent_id: "pi_1".into(),
    });
    assert_eq!(checkout.status(), Some(Key::HandOffStalled));
    assert_eq!(
        commands,
        [Command::FetchIntent {
            intent_id: "pi_1".into(),
            delay_ms: 0,
            ask_provider: false
        }],
        "the server is watched meanwhile"
    );
    // Still open: asked again, slowly.
    let open = |checkout: &mut Checkout| {
        let mut open = intent(IntentStatus::RequiresAction, None);
        open.method = MethodKind::Card;
        checkout.update(Event::IntentFetched(open))
    };
    assert!(matches!(
        open(&mut checkout)[..],
        [Command::FetchIntent {
            delay_ms: 5_000,
            ..
        }]
    ));
    // "Try again" stops the page's loading, navigates again, and watches
    // again.
    let again = checkout.update(Event::RetryHandOff);
    assert!(matches!(
        &again[..],
        [
            Command::StopLeaving,
            Command::Navigate { .. },
            Command::WatchHandOff { .. }
        ]
    ));
    assert_eq!(checkout.status(), Some(Key::Redirecting));
    assert_eq!(
        checkout.update(Event::RetryHandOff),
        [],
        "only once stalled"
    );
    // "Choose another way" closes the intent and shows the methods.
    checkout.update(Event::HandOffStalled {
        intent_id: "pi_1".into(),
    });
    assert_eq!(
        checkout.update(Event::ChooseAnother),
        [
            Command::StopLeaving,
            Command::CancelIntent {
                intent_id: "pi_1".into()
            }
        ],
        "a navigation still loading must not land on the closed order"
    );
    assert!(checkout.can_choose());
    assert_eq!(checkout.selected, Some(MethodKind::Card));
}

#[test]
fn a_stalled_hand_off_found_being_paid_or_under_review_offers_no_second_payment() {
    for said in [IntentStatus::Processing, IntentStatus::RequiresReview] {
        let mut checkout = bridge_open();
        checkout.update(Event::HandOffStalled {
            intent_id: "pi_1".into(),
        });
        let mut paying = jsapi_intent();
        paying.status = said;
        checkout.update(Event::IntentFetched(paying));
        assert!(
            matches!(checkout.phase, Phase::Checking { .. }),
            "{said:?}: {:?}",
            checkout.phase
        );
        assert_eq!(checkout.update(Event::RetryHandOff), [], "{said:?}");
    }
    // And a cancel refused because the intent has finished shows it.
    let mut checkout = bridge_open();
    checkout.update(Event::HandOffStalled {
        intent_id: "pi_1".into(),
    });
    checkout.update(Event::ChooseAnother);
    let commands = checkout.update(Event::CancelRefused {
        intent_id: "pi_1".into(),
        error: CheckoutError::Refused {
            status: 409,
            code: ErrorCode::IntentFinished,
            message: String::new(),
        },
    });
    assert!(matches!(commands[..], [Command::FetchIntent { .. }]));
    assert!(!checkout.can_choose());
}

#[test]
fn a_code_whose_poll_gets_a_proxy_s_page_stays_on_screen_and_is_asked_again() {
    let mut checkout = awaiting_scan();
    let commands = checkout.update(Event::FetchFailed {
        intent_id: "pi_1".into(),
        error: CheckoutError::BadResponse("an HTML page".into()),
    });
    assert!(matches!(checkout.phase, Phase::AwaitingScan { .. }));
    assert!(matches!(
        commands[..],
        [Command::FetchIntent {
            delay_ms: 5_000,
            ..
        }]
    ));
}

#[test]
fn a_wallet_sheet_that_never_answers_can_be_opened_again_and_a_payment_meanwhile_shows() {
    let mut checkout = bridge_open();
    checkout.update(Event::HandOffStalled {
        intent_id: "pi_1".into(),
    });
    assert_eq!(checkout.status(), Some(Key::HandOffStalled));
    assert_eq!(
        checkout.update(Event::RetryHandOff),
        [
            Command::InvokeWechat(jsapi_params()),
            Command::WatchHandOff {
                intent_id: "pi_1".into(),
                delay_ms: HAND_OFF_PATIENCE_MS
            }
        ],
        "the shopper asked: the sheet opens again"
    );
    checkout.update(Event::HandOffStalled {
        intent_id: "pi_1".into(),
    });
    // Paid in the sheet, whose answer never came: the server says so.
    checkout.update(Event::IntentFetched(intent(IntentStatus::Succeeded, None)));
    assert!(matches!(checkout.phase, Phase::Succeeded(_)));
}

#[test]
fn back_from_wechat_s_authorisation_the_bridge_opens_once() {
    let (mut checkout, _) = Checkout::returning("pi_1".into());
    checkout.update(Event::SessionLoaded(session()));
    assert_eq!(
        checkout.update(Event::IntentFetched(jsapi_intent())),
        [
            Command::InvokeWechat(jsapi_params()),
            Command::WatchHandOff {
                intent_id: "pi_1".into(),
                delay_ms: HAND_OFF_PATIENCE_MS
            }
        ],
        "the order was made while the shopper authorised: pay it"
    );
    checkout.update(Event::WalletReturned(BridgeAnswer::Ok));
    // Paid, says WeChat; the notification has not come yet.
    let commands = checkout.update(Event::IntentFetched(jsapi_intent()));
    assert!(
        commands
            .iter()
            .all(|command| matches!(command, Command::FetchIntent { .. })),
        "the bridge does not open a second time: {commands:?}"
    );
}

#[test]
fn a_second_payment_of_a_paid_order_says_it_will_be_refunded() {
    let mut checkout = awaiting_scan();
    checkout.update(Event::IntentFetched(intent(
        IntentStatus::RequiresRefund,
        None,
    )));
    assert_eq!(checkout.status(), Some(Key::PaidTwice));
    assert_eq!(
        checkout.completion().map(|(kind, _)| kind),
        Some(Completion::Succeeded),
        "for the shop, the order is paid"
    );
}

#[test]
fn a_declined_payment_says_it_was_declined() {
    let mut checkout = awaiting_scan();
    let mut declined = intent(IntentStatus::Failed, None);
    declined.failure_reason = Some(contract::FailureReason::Declined);
    checkout.update(Event::IntentFetched(declined));
    assert_eq!(checkout.status(), Some(Key::Declined));
}

#[test]
fn a_status_from_a_newer_server_keeps_the_checkout_asking() {
    let mut checkout = awaiting_scan();
    let commands = checkout.update(Event::IntentFetched(intent(IntentStatus::Unknown, None)));
    assert!(
        matches!(commands.as_slice(), [Command::FetchIntent { .. }]),
        "{commands:?}"
    );
    assert_eq!(checkout.completion(), None);
}

#[test]
fn a_session_already_paid_loads_as_paid_and_an_expired_one_as_expired() {
    let (mut checkout, _) = Checkout::start();
    let mut paid = session();
    paid.status = SessionStatus::Completed;
    paid.paid_intent = Some("pi_9".into());
    let commands = checkout.update(Event::SessionLoaded(paid));
    assert_eq!(
        commands,
        [Command::FetchIntent {
            intent_id: "pi_9".into(),
            delay_ms: 0,
            ask_provider: false
        }]
    );
    assert_eq!(checkout.awaited_intent(), Some("pi_9"));

    let (mut checkout, _) = Checkout::start();
    let mut expired = session();
    expired.status = SessionStatus::Expired;
    checkout.update(Event::SessionLoaded(expired));
    assert_eq!(checkout.error_message(), Some(Key::ErrorSessionExpired));
    assert!(!checkout.can_choose());
}

#[test]
fn check_again_asks_the_provider_through_the_server() {
    let (mut checkout, _) = Checkout::returning("pi_1".into());
    assert_eq!(
        checkout.update(Event::CheckNow { ask_provider: true }),
        [Command::FetchIntent {
            intent_id: "pi_1".into(),
            delay_ms: 0,
            ask_provider: true
        }]
    );
}

#[test]
fn a_reload_shows_the_same_code_again_not_a_second_one() {
    let (mut checkout, commands) = Checkout::resuming("pi_1".into());
    assert_eq!(
        commands,
        [
            Command::LoadSession,
            Command::FetchIntent {
                intent_id: "pi_1".into(),
                delay_ms: 0,
                ask_provider: false
            }
        ]
    );
    checkout.update(Event::SessionLoaded(session()));
    assert_eq!(checkout.status(), Some(Key::Checking));
    checkout.update(Event::IntentFetched(qr_intent()));
    assert!(
        matches!(&checkout.phase, Phase::AwaitingScan { payload, .. } if payload == "weixin://wxpay/bizpayurl?pr=x"),
        "{:?}",
        checkout.phase
    );
    assert_eq!(checkout.awaited_intent(), Some("pi_1"));
}

#[test]
fn a_reloaded_code_that_comes_back_before_the_session_stays_when_the_session_comes() {
    let (mut checkout, _) = Checkout::resuming("pi_1".into());
    checkout.update(Event::IntentFetched(qr_intent()));
    assert!(matches!(checkout.phase, Phase::AwaitingScan { .. }));
    assert!(checkout.session.is_none());
    checkout.update(Event::SessionLoaded(session()));
    assert!(
        matches!(checkout.phase, Phase::AwaitingScan { .. }),
        "{:?}",
        checkout.phase
    );
    assert!(checkout.session.is_some());
}

#[test]
fn a_reloaded_code_whose_session_fails_to_load_says_so_and_can_load_again() {
    let (mut checkout, _) = Checkout::resuming("pi_1".into());
    checkout.update(Event::IntentFetched(qr_intent()));
    checkout.update(Event::SessionFailed(CheckoutError::Network));
    assert!(
        matches!(checkout.phase, Phase::LoadFailed(_)),
        "not a code screen waiting for ever: {:?}",
        checkout.phase
    );
    assert_eq!(checkout.update(Event::Reload), [Command::LoadSession]);
    checkout.update(Event::SessionLoaded(session()));
    assert!(checkout.can_choose());
}

#[test]
fn a_reload_after_leaving_for_the_provider_checks_and_opens_nothing_by_itself() {
    let (mut checkout, _) = Checkout::resuming("pi_1".into());
    checkout.update(Event::SessionLoaded(session()));
    let commands = checkout.update(Event::IntentFetched(jsapi_intent()));
    assert!(
        !commands
            .iter()
            .any(|command| matches!(command, Command::InvokeWechat(_))),
        "{commands:?}"
    );
    assert_eq!(checkout.status(), Some(Key::Checking));
    // Only the first answer resumes: a QR seen later while checking (a
    // code at its end, say) is not shown again.
    checkout.update(Event::IntentFetched(qr_intent()));
    assert!(matches!(checkout.phase, Phase::Checking { .. }));
}

#[test]
fn a_reload_onto_an_ended_payment_resumes_nothing_later() {
    let (mut checkout, _) = Checkout::resuming("pi_1".into());
    checkout.update(Event::SessionLoaded(session()));
    checkout.update(Event::IntentFetched(intent(IntentStatus::Failed, None)));
    assert_eq!(checkout.status(), Some(Key::Failed));
    checkout.update(Event::ChooseAnother);
    pay_with_wechat(&mut checkout);
    let mut second = qr_intent();
    second.id = "pi_2".into();
    checkout.update(Event::IntentCreated(second));
    // The server refuses to say how the new payment goes: that is an
    // error to show, not the end of a reload to pass over in silence.
    checkout.update(Event::FetchFailed {
        intent_id: "pi_2".into(),
        error: refused(ErrorCode::NotFound, 404),
    });
    assert!(
        matches!(checkout.phase, Phase::Unconfirmed { .. }),
        "{:?}",
        checkout.phase
    );
}

#[test]
fn a_reload_whose_intent_is_gone_starts_afresh() {
    let mut only_wechat = session();
    only_wechat.methods.retain(|m| m.kind != MethodKind::Card);
    let (mut checkout, _) = Checkout::resuming("pi_1".into());
    checkout.update(Event::SessionLoaded(only_wechat));
    checkout.update(Event::FetchFailed {
        intent_id: "pi_1".into(),
        error: refused(ErrorCode::NotFound, 404),
    });
    assert!(checkout.can_choose());
    assert_eq!(checkout.error_message(), None);
    assert_eq!(
        checkout.selected,
        Some(MethodKind::WechatPay),
        "the only method is chosen, as on a first visit"
    );
}

#[test]
fn a_reload_whose_session_failed_while_its_intent_was_asked_loads_it_again() {
    let (mut checkout, _) = Checkout::resuming("pi_1".into());
    checkout.update(Event::SessionFailed(CheckoutError::Network));
    let commands = checkout.update(Event::FetchFailed {
        intent_id: "pi_1".into(),
        error: refused(ErrorCode::NotFound, 404),
    });
    assert_eq!(commands, [Command::LoadSession]);
    checkout.update(Event::SessionLoaded(session()));
    assert!(checkout.can_choose());
}

#[test]
fn a_check_that_keeps_finding_nothing_paid_says_so() {
    let (mut checkout, _) = Checkout::returning("pi_1".into());
    checkout.update(Event::SessionLoaded(session()));
    let open = intent(IntentStatus::RequiresAction, None);
    for _ in 0..2 {
        checkout.update(Event::IntentFetched(open.clone()));
        assert_eq!(checkout.status(), Some(Key::Checking));
    }
    checkout.update(Event::IntentFetched(open));
    assert_eq!(checkout.status(), Some(Key::NotPaidYet));
}

#[test]
fn choosing_again_after_a_return_picks_the_only_method_as_the_first_visit_did() {
    let mut only_wechat = session();
    only_wechat.methods.retain(|m| m.kind != MethodKind::Card);
    let (mut checkout, _) = Checkout::returning("pi_1".into());
    checkout.update(Event::SessionLoaded(only_wechat));
    assert_eq!(checkout.selected, None, "nothing is chosen while checking");
    checkout.update(Event::ChooseAnother);
    assert!(checkout.can_choose());
    assert_eq!(checkout.selected, Some(MethodKind::WechatPay));
}

fn alipay_session() -> CheckoutSession {
    let mut session = session();
    session.methods = vec![
        method(
            MethodKind::WechatPay,
            Availability::unavailable(UnavailableReason::BlockedInAlipay),
        ),
        method(MethodKind::Alipay, Availability::Available),
    ];
    session
}

/// Alipay's trade made for the buyer: waiting for them in `tradePay`.
fn trade_pay_intent() -> PaymentIntent {
    PaymentIntent {
        method: MethodKind::Alipay,
        ..intent(
            IntentStatus::Processing,
            Some(NextAction::InvokeAlipayTradePay {
                trade_no: "2026120622001491561000012345".into(),
            }),
        )
    }
}

#[test]
fn back_from_alipay_s_authorisation_trade_pay_opens_once_for_the_buyer_s_trade() {
    let (mut checkout, _) = Checkout::returning("pi_1".into());
    checkout.update(Event::SessionLoaded(alipay_session()));
    assert_eq!(
        checkout.update(Event::IntentFetched(trade_pay_intent())),
        [
            Command::InvokeAlipay {
                trade_no: "2026120622001491561000012345".into()
            },
            Command::WatchHandOff {
                intent_id: "pi_1".into(),
                delay_ms: HAND_OFF_PATIENCE_MS
            }
        ],
        "the trade waits for its buyer, who pays it in Alipay's sheet"
    );
    assert_eq!(checkout.status(), Some(Key::OpeningAlipay));
    assert_eq!(
        checkout.update(Event::WalletReturned(BridgeAnswer::Ok)),
        [Command::FetchIntent {
            intent_id: "pi_1".into(),
            delay_ms: 0,
            ask_provider: true
        }]
    );
    let commands = checkout.update(Event::IntentFetched(trade_pay_intent()));
    assert!(
        commands
            .iter()
            .all(|command| matches!(command, Command::FetchIntent { .. })),
        "not opened twice: {commands:?}"
    );
}

#[test]
fn alipay_s_result_codes_are_read_and_a_failure_says_alipay() {
    assert_eq!(BridgeAnswer::from_result_code("9000"), BridgeAnswer::Ok);
    assert_eq!(BridgeAnswer::from_result_code("6001"), BridgeAnswer::Cancel);
    assert_eq!(BridgeAnswer::from_result_code("4000"), BridgeAnswer::Fail);
    // Processing, a network error, unknown: only the server can tell.
    for code in ["8000", "6002", "6004", "7777", ""] {
        assert_eq!(BridgeAnswer::from_result_code(code), BridgeAnswer::Unknown);
    }
    let (mut checkout, _) = Checkout::returning("pi_1".into());
    checkout.update(Event::SessionLoaded(alipay_session()));
    checkout.update(Event::IntentFetched(trade_pay_intent()));
    assert_eq!(
        checkout.update(Event::WalletReturned(BridgeAnswer::Fail)),
        [Command::CancelIntent {
            intent_id: "pi_1".into()
        }]
    );
    assert_eq!(checkout.error_message(), Some(Key::ErrorAlipayBridge));
    assert!(checkout.can_choose());
    assert_eq!(
        checkout.selected,
        Some(MethodKind::Alipay),
        "the method just tried stays chosen for another try"
    );
}

#[test]
fn back_from_a_provider_s_page_the_method_tried_stays_chosen() {
    let (mut checkout, _) = Checkout::returning("pi_1".into());
    checkout.update(Event::SessionLoaded(alipay_session()));
    let closed = PaymentIntent {
        method: MethodKind::Alipay,
        failure_reason: Some(FailureReason::ClosedByProvider),
        ..intent(IntentStatus::Failed, None)
    };
    checkout.update(Event::IntentFetched(closed));
    checkout.update(Event::ChooseAnother);
    assert!(checkout.can_choose());
    assert_eq!(checkout.selected, Some(MethodKind::Alipay));
}

/// A desktop shopper has chosen one code for every wallet and pressed Pay.
fn creating_one_code() -> Checkout {
    let (mut checkout, _) = Checkout::start();
    let mut with_code = session();
    with_code
        .methods
        .push(method(MethodKind::AnyWallet, Availability::Available));
    checkout.update(Event::SessionLoaded(with_code));
    checkout.update(Event::Select(MethodKind::AnyWallet));
    checkout.update(Event::Pay {
        fresh_key: "key-1".into(),
    });
    checkout
}

/// A desktop shopper shows one code for every wallet: `checkout` awaiting
/// its scan.
fn awaiting_one_code() -> Checkout {
    let mut checkout = creating_one_code();
    let mut code = qr_intent();
    code.method = MethodKind::AnyWallet;
    checkout.update(Event::IntentCreated(code));
    assert!(matches!(checkout.phase, Phase::AwaitingScan { .. }));
    checkout
}

#[test]
fn one_code_opened_on_a_phone_says_which_wallet_pays_it_until_it_is_paid() {
    for (wallet, said) in [
        (MethodKind::WechatPay, Key::PayingWithWechat),
        (MethodKind::Alipay, Key::PayingWithAlipay),
        (MethodKind::Unionpay, Key::PayingWithQuickpass),
    ] {
        let mut checkout = awaiting_one_code();
        assert_eq!(checkout.status(), Some(Key::Waiting));
        let mut on_phone = intent(IntentStatus::Processing, None);
        on_phone.method = wallet;
        checkout.update(Event::IntentFetched(on_phone.clone()));
        assert_eq!(checkout.status(), Some(said), "{wallet:?}");
        assert_eq!(
            checkout.selected,
            Some(MethodKind::AnyWallet),
            "the shopper's choice stays"
        );
        let mut paid = on_phone;
        paid.status = IntentStatus::Succeeded;
        checkout.update(Event::IntentFetched(paid));
        assert!(matches!(&checkout.phase, Phase::Succeeded(intent) if intent.method == wallet));
    }
}

#[test]
fn a_single_wallet_code_after_one_code_is_not_said_to_be_paid_with_the_other_wallet() {
    let mut checkout = awaiting_one_code();
    let mut on_phone = intent(IntentStatus::Processing, None);
    on_phone.method = MethodKind::Alipay;
    checkout.update(Event::IntentFetched(on_phone));
    assert_eq!(checkout.status(), Some(Key::PayingWithAlipay));
    let mut canceled = intent(IntentStatus::Canceled, None);
    canceled.method = MethodKind::Alipay;
    checkout.update(Event::IntentFetched(canceled));
    checkout.update(Event::ChooseAnother);
    pay_with_wechat(&mut checkout);
    checkout.update(Event::IntentCreated(qr_intent()));
    checkout.update(Event::IntentFetched(intent(IntentStatus::Processing, None)));
    assert_eq!(checkout.status(), Some(Key::ConfirmOnPhone));
}

#[test]
fn one_code_asked_for_again_after_a_phone_opened_it_is_shown_as_the_wallet_s() {
    let mut checkout = creating_one_code();
    // The create's answer is a replay: a phone had taken the code.
    let mut taken = intent(IntentStatus::Processing, None);
    taken.method = MethodKind::Alipay;
    let commands = checkout.update(Event::IntentCreated(taken));
    assert!(!commands.is_empty(), "the checkout follows it");
    assert!(!matches!(checkout.phase, Phase::Creating(_)));
}
