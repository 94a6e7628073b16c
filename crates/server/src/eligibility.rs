//! Which methods a shopper is offered, and how each hands off: decided
//! here, from the merchant's configuration, the amount and where the shopper
//! is. The component shows the result and decides nothing.

use contract::{
    Availability, ClientContext, Currency, Device, Flow, InApp, MethodKind, Money, PaymentMethod,
    UnavailableReason,
};

use crate::config::MerchantConfig;

/// The flow a method uses in a context: QR on desktop for the wallets, a
/// redirect on a phone (never a QR the same phone would have to scan), the
/// JS bridge for WeChat Pay inside WeChat, and a hosted page for cards.
pub fn flow_for(method: MethodKind, context: ClientContext) -> Flow {
    match (method, context.in_app, context.device) {
        (MethodKind::WechatPay, Some(InApp::Wechat), _) => Flow::WechatJsapi,
        (MethodKind::WechatPay | MethodKind::Alipay, _, Device::Desktop) => Flow::QrCode,
        (MethodKind::Unsupported, _, _) => Flow::Unsupported,
        _ => Flow::Redirect,
    }
}

/// The merchant's methods for this shopper, in the merchant's order, each
/// with its flow and whether it can be chosen. `implemented` says whether
/// this server can carry out a method's flow yet.
pub fn methods_for(
    merchant: &MerchantConfig,
    amount: &Money,
    context: ClientContext,
    implemented: impl Fn(MethodKind, Flow) -> bool,
) -> Vec<PaymentMethod> {
    merchant
        .methods
        .iter()
        .map(|configured| {
            let kind = configured.kind;
            let flow = flow_for(kind, context);
            let reason = if kind == MethodKind::Alipay && context.in_app == Some(InApp::Wechat) {
                Some(UnavailableReason::BlockedInWechat)
            } else if kind != MethodKind::Card && amount.currency != Currency::CNY {
                Some(UnavailableReason::CurrencyNotSupported)
            } else if !configured.enabled || !implemented(kind, flow) {
                Some(UnavailableReason::NotYetEnabled)
            } else {
                None
            };
            let availability = match reason {
                None => Availability::Available,
                Some(reason) => Availability::Unavailable { reason },
            };
            PaymentMethod {
                kind,
                flow,
                availability,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn demo() -> MerchantConfig {
        let config = Config::embedded().unwrap();
        config.merchant("demo").unwrap().clone()
    }

    fn everything(_: MethodKind, _: Flow) -> bool {
        true
    }

    fn offered(methods: &[PaymentMethod], kind: MethodKind) -> &PaymentMethod {
        methods.iter().find(|m| m.kind == kind).unwrap()
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
        let desktop = methods_for(&demo(), &cny, DESKTOP, everything);
        assert_eq!(offered(&desktop, MethodKind::WechatPay).flow, Flow::QrCode);
        assert_eq!(offered(&desktop, MethodKind::Alipay).flow, Flow::QrCode);
        assert_eq!(offered(&desktop, MethodKind::Unionpay).flow, Flow::Redirect);
        let phone = methods_for(&demo(), &cny, PHONE, everything);
        assert!(phone.iter().all(|m| m.flow == Flow::Redirect), "{phone:?}");
    }

    #[test]
    fn inside_wechat_wechat_pay_uses_the_bridge_and_alipay_is_blocked() {
        let methods = methods_for(
            &demo(),
            &Money::new(100, Currency::CNY),
            IN_WECHAT,
            everything,
        );
        assert_eq!(
            offered(&methods, MethodKind::WechatPay).flow,
            Flow::WechatJsapi
        );
        assert_eq!(
            offered(&methods, MethodKind::Alipay).availability,
            Availability::Unavailable {
                reason: UnavailableReason::BlockedInWechat
            }
        );
    }

    #[test]
    fn pending_and_unimplemented_methods_are_shown_but_not_selectable() {
        let only_wechat_qr = |kind, flow| kind == MethodKind::WechatPay && flow == Flow::QrCode;
        let methods = methods_for(
            &demo(),
            &Money::new(100, Currency::CNY),
            DESKTOP,
            only_wechat_qr,
        );
        assert_eq!(
            methods.len(),
            5,
            "every configured method is listed, in order"
        );
        assert_eq!(methods[0].availability, Availability::Available);
        let coming = Availability::Unavailable {
            reason: UnavailableReason::NotYetEnabled,
        };
        assert!(
            methods[1..].iter().all(|m| m.availability == coming),
            "{methods:?}"
        );
        let all = methods_for(
            &demo(),
            &Money::new(100, Currency::CNY),
            DESKTOP,
            everything,
        );
        assert_eq!(
            offered(&all, MethodKind::ChinaMobilePay).availability,
            coming,
            "pending switch-on"
        );
    }

    #[test]
    fn wallets_take_only_yuan() {
        let methods = methods_for(
            &demo(),
            &Money::new(100, Currency::USD),
            DESKTOP,
            everything,
        );
        assert_eq!(
            offered(&methods, MethodKind::WechatPay).availability,
            Availability::Unavailable {
                reason: UnavailableReason::CurrencyNotSupported
            }
        );
        assert_eq!(
            offered(&methods, MethodKind::Card).availability,
            Availability::Available
        );
    }
}
