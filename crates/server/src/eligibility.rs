//! Which methods a shopper is offered, and how each hands off: decided
//! here, from the merchant's configuration, the amount and where the shopper
//! is. The component shows the result and decides nothing.

use contract::{
    Availability, ClientContext, Currency, Device, Flow, InApp, MethodKind, Money, PaymentMethod,
    UnavailableReason, UnixSeconds,
};

use crate::config::{Config, MerchantConfig};

/// The flow a method uses in a context: QR on desktop for the wallets
/// (QuickPass included), a redirect on a phone (never a QR the same phone
/// would have to scan), WeChat's and Alipay's JS bridges inside their own
/// apps, UnionPay's phone page inside QuickPass (it pays there with the
/// app, and needs no app registration), and UnionPay's hosted card page
/// for cards everywhere.
pub fn flow_for(method: MethodKind, context: ClientContext) -> Flow {
    match (method, context.in_app, context.device) {
        (MethodKind::WechatPay, Some(InApp::Wechat), _) => Flow::WechatJsapi,
        (MethodKind::Alipay, Some(InApp::Alipay), _) => Flow::AlipayTradePay,
        (MethodKind::WechatPay | MethodKind::Alipay | MethodKind::Unionpay, _, Device::Desktop) => {
            Flow::QrCode
        }
        (MethodKind::AnyWallet, _, _) => Flow::QrCode,
        (MethodKind::Unsupported, _, _) => Flow::Unsupported,
        _ => Flow::Redirect,
    }
}

/// Why a method cannot work in the app whose browser shows the page: each
/// wallet's pages are blocked inside the other's app.
fn blocked_in(method: MethodKind, in_app: Option<InApp>) -> Option<UnavailableReason> {
    match (method, in_app) {
        (MethodKind::Alipay, Some(InApp::Wechat)) => Some(UnavailableReason::BlockedInWechat),
        (MethodKind::WechatPay, Some(InApp::Alipay)) => Some(UnavailableReason::BlockedInAlipay),
        _ => None,
    }
}

/// The merchant's methods for this shopper at `now`, in the merchant's
/// order, each with its flow and whether it can be chosen: a method whose
/// switch-on (its own date, or its batch's) is still ahead shows as coming
/// soon, with the date. `implemented` says whether this server can carry
/// out a method's flow.
pub fn methods_for(
    config: &Config,
    merchant: &MerchantConfig,
    amount: &Money,
    context: ClientContext,
    now: UnixSeconds,
    implemented: impl Fn(MethodKind, Flow) -> bool,
) -> Vec<PaymentMethod> {
    merchant
        .methods
        .iter()
        .filter_map(|configured| {
            let kind = configured.kind;
            let flow = flow_for(kind, context);
            let switch_on = config.switch_on(configured);
            if kind == MethodKind::AnyWallet
                && (context.device != Device::Desktop
                    || code_wallets(config, merchant, amount, now, &implemented).len() < 2)
            {
                // A code for phones to scan, worth offering only where
                // the shopper has chosen among several wallets.
                return None;
            }
            let implemented = |kind, flow| kind == MethodKind::AnyWallet || implemented(kind, flow);
            let (reason, available_from) = if let Some(blocked) = blocked_in(kind, context.in_app) {
                (Some(blocked), None)
            } else if kind != MethodKind::Card && amount.currency != Currency::CNY {
                (Some(UnavailableReason::CurrencyNotSupported), None)
            } else if switch_on.is_none_or(|at| at > now) {
                (Some(UnavailableReason::NotYetEnabled), switch_on)
            } else if !implemented(kind, flow) {
                (Some(UnavailableReason::NotYetEnabled), None)
            } else {
                (None, None)
            };
            let availability = match reason {
                None => Availability::Available,
                Some(reason) => Availability::Unavailable {
                    reason,
                    available_from,
                },
            };
            Some(PaymentMethod {
                kind,
                flow,
                availability,
            })
        })
        .collect()
}

/// The wallet apps that can scan one code for every wallet, and the method
/// each pays with inside its app.
pub const CODE_APPS: [(InApp, MethodKind); 3] = [
    (InApp::Wechat, MethodKind::WechatPay),
    (InApp::Alipay, MethodKind::Alipay),
    (InApp::Quickpass, MethodKind::Unionpay),
];

/// The wallets whose apps can pay the merchant's one code for every wallet
/// now: those the merchant takes, and could take inside their own app.
pub fn code_wallets(
    config: &Config,
    merchant: &MerchantConfig,
    amount: &Money,
    now: UnixSeconds,
    implemented: &dyn Fn(MethodKind, Flow) -> bool,
) -> Vec<MethodKind> {
    CODE_APPS
        .into_iter()
        .filter(|&(app, kind)| {
            let inside = ClientContext {
                device: Device::Mobile,
                in_app: Some(app),
            };
            methods_for(config, merchant, amount, inside, now, implemented)
                .iter()
                .any(|method| method.kind == kind && method.availability == Availability::Available)
        })
        .map(|(_, kind)| kind)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        Config::parse(
            r#"
            session_ttl_seconds = 1800
            intent_ttl_seconds = 900
            [[batches]]
            id = "wave"
            switch_on_at = "2027-01-15T10:00:00+08:00"
            [[merchants]]
            id = "demo"
            display_name = "Demo"
            secret_key_hash = "test:sha256:00"
            methods = [
              { type = "wechat_pay" },
              { type = "alipay" },
              { type = "unionpay", batch = "wave" },
              { type = "china_mobile_pay", enabled = false },
              { type = "card" },
            ]
            "#,
        )
        .unwrap()
    }

    /// 2026-11-23, before the batch.
    const NOW: UnixSeconds = 1_795_400_000;
    /// The batch's switch-on, 2027-01-15T10:00:00+08:00.
    const WAVE: UnixSeconds = 1_799_978_400;
    /// After it: UnionPay is on.
    const LATER: UnixSeconds = WAVE + 1;

    fn everything(_: MethodKind, _: Flow) -> bool {
        true
    }

    fn offered(methods: &[PaymentMethod], kind: MethodKind) -> &PaymentMethod {
        methods.iter().find(|m| m.kind == kind).unwrap()
    }

    fn methods(amount: Money, context: ClientContext, now: UnixSeconds) -> Vec<PaymentMethod> {
        let config = config();
        methods_for(
            &config,
            &config.merchants[0],
            &amount,
            context,
            now,
            everything,
        )
    }

    const DESKTOP: ClientContext = ClientContext {
        device: Device::Desktop,
        in_app: None,
    };
    const PHONE: ClientContext = ClientContext {
        device: Device::Mobile,
        in_app: None,
    };
    const IN_WECHAT: ClientContext = ClientContext {
        device: Device::Mobile,
        in_app: Some(InApp::Wechat),
    };

    #[test]
    fn desktops_scan_codes_and_phones_are_redirected() {
        let cny = Money::new(12800, Currency::CNY);
        let desktop = methods(cny.clone(), DESKTOP, NOW);
        assert_eq!(offered(&desktop, MethodKind::WechatPay).flow, Flow::QrCode);
        assert_eq!(offered(&desktop, MethodKind::Alipay).flow, Flow::QrCode);
        assert_eq!(offered(&desktop, MethodKind::Unionpay).flow, Flow::QrCode);
        assert_eq!(offered(&desktop, MethodKind::Card).flow, Flow::Redirect);
        let phone = methods(cny, PHONE, NOW);
        assert!(phone.iter().all(|m| m.flow == Flow::Redirect), "{phone:?}");
    }

    #[test]
    fn inside_wechat_wechat_pay_uses_the_bridge_and_alipay_is_blocked() {
        let inside = methods(Money::new(100, Currency::CNY), IN_WECHAT, NOW);
        assert_eq!(
            offered(&inside, MethodKind::WechatPay).flow,
            Flow::WechatJsapi
        );
        assert_eq!(
            offered(&inside, MethodKind::Alipay).availability,
            Availability::unavailable(UnavailableReason::BlockedInWechat)
        );
    }

    const IN_ALIPAY: ClientContext = ClientContext {
        device: Device::Mobile,
        in_app: Some(InApp::Alipay),
    };
    const IN_QUICKPASS: ClientContext = ClientContext {
        device: Device::Mobile,
        in_app: Some(InApp::Quickpass),
    };

    /// Each method in each context: its flow, or why it cannot be used.
    #[test]
    fn every_method_in_every_context_has_its_row() {
        use MethodKind::*;
        let unavailable = |reason| Err(reason);
        #[rustfmt::skip]
        let table: [(MethodKind, ClientContext, Result<Flow, UnavailableReason>); 20] = [
            (WechatPay, DESKTOP, Ok(Flow::QrCode)),
            (WechatPay, PHONE, Ok(Flow::Redirect)),
            (WechatPay, IN_WECHAT, Ok(Flow::WechatJsapi)),
            (WechatPay, IN_ALIPAY, unavailable(UnavailableReason::BlockedInAlipay)),
            (Alipay, DESKTOP, Ok(Flow::QrCode)),
            (Alipay, PHONE, Ok(Flow::Redirect)),
            (Alipay, IN_WECHAT, unavailable(UnavailableReason::BlockedInWechat)),
            (Alipay, IN_ALIPAY, Ok(Flow::AlipayTradePay)),
            (WechatPay, IN_QUICKPASS, Ok(Flow::Redirect)),
            (Alipay, IN_QUICKPASS, Ok(Flow::Redirect)),
            (Unionpay, DESKTOP, Ok(Flow::QrCode)),
            (Unionpay, PHONE, Ok(Flow::Redirect)),
            (Unionpay, IN_WECHAT, Ok(Flow::Redirect)),
            (Unionpay, IN_ALIPAY, Ok(Flow::Redirect)),
            (Unionpay, IN_QUICKPASS, Ok(Flow::Redirect)),
            (Card, DESKTOP, Ok(Flow::Redirect)),
            (Card, PHONE, Ok(Flow::Redirect)),
            (Card, IN_WECHAT, Ok(Flow::Redirect)),
            (Card, IN_ALIPAY, Ok(Flow::Redirect)),
            (Card, IN_QUICKPASS, Ok(Flow::Redirect)),
        ];
        for (kind, context, expected) in table {
            let offered = methods(Money::new(100, Currency::CNY), context, LATER)
                .into_iter()
                .find(|method| method.kind == kind)
                .unwrap();
            let got = match offered.availability {
                Availability::Available => Ok(offered.flow),
                Availability::Unavailable { reason, .. } => Err(reason),
            };
            assert_eq!(got, expected, "{kind:?} in {context:?}");
        }
    }

    #[test]
    fn china_mobile_s_cashier_is_a_redirect_everywhere() {
        for context in [DESKTOP, PHONE, IN_WECHAT, IN_ALIPAY, IN_QUICKPASS] {
            assert_eq!(
                flow_for(MethodKind::ChinaMobilePay, context),
                Flow::Redirect,
                "{context:?}"
            );
        }
    }

    #[test]
    fn a_batch_switches_its_methods_on_at_its_time_and_not_before() {
        let before = methods(Money::new(100, Currency::CNY), DESKTOP, WAVE - 1);
        assert_eq!(
            offered(&before, MethodKind::Unionpay).availability,
            Availability::Unavailable {
                reason: UnavailableReason::NotYetEnabled,
                available_from: Some(WAVE)
            },
            "coming soon, with its date"
        );
        let after = methods(Money::new(100, Currency::CNY), DESKTOP, WAVE);
        assert_eq!(
            offered(&after, MethodKind::Unionpay).availability,
            Availability::Available
        );
        assert_eq!(
            offered(&after, MethodKind::ChinaMobilePay).availability,
            Availability::unavailable(UnavailableReason::NotYetEnabled),
            "no date: still coming soon"
        );
    }

    #[test]
    fn unimplemented_methods_are_shown_but_not_selectable() {
        let config = config();
        let only_wechat = |kind, _| kind == MethodKind::WechatPay;
        let methods = methods_for(
            &config,
            &config.merchants[0],
            &Money::new(100, Currency::CNY),
            DESKTOP,
            NOW,
            only_wechat,
        );
        assert_eq!(
            methods.len(),
            5,
            "every configured method is listed, in order"
        );
        assert_eq!(methods[0].availability, Availability::Available);
        assert!(methods[1..]
            .iter()
            .all(|m| m.availability != Availability::Available));
    }

    #[test]
    fn wallets_take_only_yuan() {
        let usd = methods(Money::new(100, Currency::USD), DESKTOP, NOW);
        assert_eq!(
            offered(&usd, MethodKind::WechatPay).availability,
            Availability::unavailable(UnavailableReason::CurrencyNotSupported)
        );
        assert_eq!(
            offered(&usd, MethodKind::Card).availability,
            Availability::Available
        );
    }

    fn with_methods(methods: &str) -> Config {
        Config::parse(&crate::config::one_merchant(
            "test",
            &format!("methods = [{methods}]"),
        ))
        .unwrap()
    }

    fn code_offered(methods: &str, context: ClientContext, amount: Money) -> bool {
        let config = with_methods(methods);
        methods_for(
            &config,
            &config.merchants[0],
            &amount,
            context,
            NOW,
            everything,
        )
        .iter()
        .any(|method| method.kind == MethodKind::AnyWallet)
    }

    #[test]
    fn one_code_is_offered_on_a_desktop_where_two_wallets_can_pay_inside_their_apps() {
        let cny = || Money::new(100, Currency::CNY);
        let two = r#"{ type = "wechat_pay" }, { type = "alipay" }, { type = "any_wallet" }"#;
        assert!(code_offered(two, DESKTOP, cny()));
        for context in [PHONE, IN_WECHAT, IN_ALIPAY, IN_QUICKPASS] {
            assert!(!code_offered(two, context, cny()), "{context:?}");
        }
        // One wallet (cards and China Mobile's cashier are no wallet app
        // that scans): its own code is the one code.
        let one = r#"{ type = "wechat_pay" }, { type = "card" }, { type = "china_mobile_pay" }, { type = "any_wallet" }"#;
        assert!(!code_offered(one, DESKTOP, cny()));
        let not_yet = r#"{ type = "wechat_pay" }, { type = "alipay", enabled = false }, { type = "any_wallet" }"#;
        assert!(!code_offered(not_yet, DESKTOP, cny()));
        assert!(
            !code_offered(two, DESKTOP, Money::new(100, Currency::USD)),
            "the wallets take yuan only"
        );
        let config = with_methods(two);
        let no_jsapi = |kind, flow| !(kind == MethodKind::WechatPay && flow == Flow::WechatJsapi);
        assert_eq!(
            code_wallets(&config, &config.merchants[0], &cny(), NOW, &no_jsapi),
            [MethodKind::Alipay],
            "a wallet whose in-app flow this server cannot carry out cannot pay the code"
        );
    }
}
