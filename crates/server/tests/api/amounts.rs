//! No surcharge: whichever method a shopper takes, wherever they are, the
//! checkout shows the session's amount, the intent carries it, and the
//! provider is asked for it and takes it. The provider's side is read on
//! its own terms (its pages, its phone, its statement), not through the
//! server's view.

use std::collections::BTreeSet;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

use contract::{
    Availability, CreatedCheckoutSession, Currency, Flow, FormMethod, IntentStatus, MethodKind,
    Money, NextAction, PaymentIntent,
};
use futures::FutureExt;
use reqwest::header::REFERER;
use reqwest::StatusCode;
use serde_json::Value;

use crate::pages::{come_back, hidden, press};
use crate::world::{desktop, in_alipay, in_quickpass, in_wechat, order, phone, World};
use crate::{alipay, unionpay, wechat};

/// ¥123.45: no method's fee or rounding could leave it as it is.
const AMOUNT: i64 = 12345;
/// How the providers' pages and statements write it.
const YUAN: &str = "¥123.45";

#[tokio::test]
async fn every_method_in_every_context_shows_sends_and_takes_the_session_s_amount() {
    let world = World::start().await;
    let contexts = [
        ("desktop browser", desktop()),
        ("phone browser", phone()),
        ("inside WeChat", in_wechat()),
        ("inside Alipay", in_alipay()),
        ("inside QuickPass", in_quickpass()),
    ];
    let mut covered = BTreeSet::new();
    let mut failures = Vec::new();
    for (context, client) in &contexts {
        // What the component offers here, read as it reads it.
        let offered = world.session_in(&open_session(&world).await, client).await;
        let methods: Vec<MethodKind> = offered
            .methods
            .iter()
            .filter(|method| method.availability == Availability::Available)
            .map(|method| method.kind)
            .collect();
        assert!(!methods.is_empty(), "{context}: no method offered");
        for kind in methods {
            covered.insert(kind.as_str());
            let label = format!("{context}, {}", kind.as_str());
            // One payment per session: a fresh one for each pair. A pair
            // that fails is reported with the others, not in their stead.
            let paid = AssertUnwindSafe(pay_the_session_s_amount(&world, &label, client, kind))
                .catch_unwind()
                .await;
            if let Err(panic) = paid {
                let why = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                failures.push(format!("{label}: {why}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of the pairs did not take {YUAN}:\n{}",
        failures.len(),
        failures.join("\n")
    );
    let every = [
        "wechat_pay",
        "alipay",
        "unionpay",
        "card",
        "china_mobile_pay",
        "any_wallet",
    ];
    let missing: Vec<_> = every.iter().filter(|m| !covered.contains(*m)).collect();
    assert!(missing.is_empty(), "offered in no context: {missing:?}");
}

/// A session of [`AMOUNT`], as a merchant's server opens it.
async fn open_session(world: &World) -> CreatedCheckoutSession {
    let response = world.create_session(order(AMOUNT)).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.expect("a session")
}

/// A fresh session paid with `kind` by a shopper in `client`'s context,
/// the way the component and the provider's side would do it; every check
/// names `label`.
async fn pay_the_session_s_amount(world: &World, label: &str, client: &Value, kind: MethodKind) {
    let created = open_session(world).await;
    let seen = world.session_in(&created, client).await;
    let amount = Money::new(AMOUNT, Currency::CNY);
    assert_eq!(
        seen.amount, amount,
        "{label}: the amount the checkout shows"
    );
    let method = seen
        .methods
        .iter()
        .find(|method| method.kind == kind)
        .unwrap_or_else(|| panic!("{label}: not in the session: {seen:?}"));
    assert_eq!(method.availability, Availability::Available, "{label}");

    let intent = world
        .intent_with(&created, "pay", kind.as_str(), client.clone())
        .await;
    assert_eq!(intent.amount, amount, "{label}: the intent's amount");

    match method.flow {
        Flow::QrCode => scan_and_pay(world, label, &intent).await,
        Flow::Redirect => pay_on_the_provider_s_page(world, label, &intent).await,
        Flow::WechatJsapi => {
            wechat::authorise(world, &intent).await;
            let ready = world.read_intent(&created, &intent.id).await;
            let params = wechat::bridge_params(&ready);
            assert_eq!(
                wechat::bridge(world, &params, "pay").await,
                "get_brand_wcpay_request:ok",
                "{label}: WeChat's bridge"
            );
        }
        Flow::AlipayTradePay => {
            alipay::authorise(world, &intent).await;
            let ready = world.read_intent(&created, &intent.id).await;
            let trade = alipay::trade_no(&ready);
            assert_eq!(
                world.alipay_trade_pay(&trade, "pay").await,
                "9000",
                "{label}: Alipay's tradePay"
            );
        }
        Flow::Unsupported => panic!("{label}: a flow this test cannot follow"),
    }

    // The server checks every payment it hears of, by notification
    // (routes/notify.rs) or by asking (`refresh`, `payments::query`),
    // against the order: `payments::apply` (crates/server/src/payments/
    // settle.rs) sends another amount to `requires_review`
    // (`amount_mismatch`) instead of recording it, so `succeeded` means the
    // provider reported taking exactly the intent's amount.
    let paid = settled_asking(world, &created, &intent.id).await;
    assert_eq!(
        paid.status,
        IntentStatus::Succeeded,
        "{label}: not paid at the order's amount (`requires_review`: the provider took another): {paid:?}"
    );
    assert_eq!(paid.amount, amount, "{label}: the paid intent's amount");

    // And the wallet's own record of what the shopper paid.
    let line = statement_line(world, paid.method, &intent.id).await;
    let line =
        line.unwrap_or_else(|| panic!("{label}: no line for {} on the statement", intent.id));
    assert_eq!(
        line_amount(&line),
        format!("-{YUAN}"),
        "{label}: the shopper's statement: {line}"
    );
    assert!(line.contains("支付成功"), "{label}: {line}");
}

/// The shopper's phone scans the intent's code with the wallet it is for,
/// and pays.
async fn scan_and_pay(world: &World, label: &str, intent: &PaymentIntent) {
    let Some(NextAction::DisplayQrCode { payload, .. }) = &intent.next_action else {
        panic!("{label}: no code to scan: {intent:?}");
    };
    match intent.method {
        MethodKind::WechatPay => {
            let scanned = world.scan(payload, "pay").await;
            assert!(scanned.status().is_success(), "{label}: WeChat's scan");
        }
        MethodKind::Alipay => {
            let scanned = world.alipay_scan(payload, "pay").await;
            assert_eq!(scanned.status(), StatusCode::OK, "{label}: Alipay's scan");
        }
        MethodKind::Unionpay => {
            let scanned = unionpay::quickpass_scan(world, payload, "pay").await;
            assert_eq!(
                scanned["txnAmt"], AMOUNT,
                "{label}: what QuickPass charged: {scanned}"
            );
        }
        MethodKind::AnyWallet => {
            let page = crate::one_code::paid_inside_alipay(world, payload).await;
            assert!(
                page.contains(YUAN),
                "{label}: the amount on the phone: {page}"
            );
        }
        other => panic!("{label}: a code of {other:?}"),
    }
}

/// The browser follows the redirect (a GET, or the POST form), the
/// provider's page shows the amount, and the shopper pays there and, where
/// the page sends them back through the server, comes back.
async fn pay_on_the_provider_s_page(world: &World, label: &str, intent: &PaymentIntent) {
    let Some(NextAction::Redirect {
        url,
        method,
        fields,
    }) = &intent.next_action
    else {
        panic!("{label}: not a redirect: {intent:?}");
    };
    let request = match method {
        FormMethod::Get => world.http.get(url),
        FormMethod::Post => world.http.post(url).form(fields),
    };
    let page = request
        .header(REFERER, "https://shop.example/")
        .send()
        .await
        .expect("the provider answers");
    assert_eq!(page.status(), StatusCode::OK, "{label}: {url}");
    let page = page.text().await.expect("a page");
    let testid = match intent.method {
        MethodKind::WechatPay => "h5-amount",
        MethodKind::Alipay => "alipay-amount",
        MethodKind::Unionpay | MethodKind::Card => "unionpay-amount",
        MethodKind::ChinaMobilePay => "cmpay-amount",
        other => panic!("{label}: a page of {other:?}"),
    };
    let on_page = shown(&page, testid).unwrap_or_else(|| panic!("{label}: no {testid} on {page}"));
    assert_eq!(on_page, YUAN, "{label}: the amount on the provider's page");

    // The shopper takes a moment on the page.
    world.advance(5);
    match intent.method {
        MethodKind::WechatPay => {
            press(world, &page, "h5-pay", "pay").await;
        }
        MethodKind::Alipay => {
            press(world, &page, "alipay-pay", "pay").await;
        }
        MethodKind::Unionpay | MethodKind::Card => {
            let token = hidden(&page, "token");
            let done = unionpay::pay_by_card(world, &token, unionpay::DEBIT).await;
            come_back(world, &done, "unionpay-return").await;
        }
        MethodKind::ChinaMobilePay => {
            let done = press(world, &page, "cmpay-pay", "pay").await;
            come_back(world, &done, "cmpay-return").await;
        }
        _ => unreachable!(),
    }
}

/// The text of the element `testid` on `page`.
fn shown<'a>(page: &'a str, testid: &str) -> Option<&'a str> {
    let marker = format!("data-testid=\"{testid}\">");
    let start = page.find(&marker)? + marker.len();
    let length = page[start..].find('<')?;
    Some(&page[start..start + length])
}

/// Reads the intent, asking the provider, until it stops requiring action.
async fn settled_asking(
    world: &World,
    created: &CreatedCheckoutSession,
    id: &str,
) -> PaymentIntent {
    for _ in 0..100 {
        let intent = world.read_intent_asking(created, id, true).await;
        if !intent.status.is_open() {
            return intent;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    world.read_intent(created, id).await
}

/// The line of the wallet's statement (the sandbox phone's) that names the
/// intent's order.
async fn statement_line(world: &World, kind: MethodKind, intent_id: &str) -> Option<String> {
    let path = match kind {
        MethodKind::WechatPay => "/phone",
        MethodKind::Alipay => "/alipay/phone",
        MethodKind::Unionpay | MethodKind::Card => "/unionpay/phone",
        MethodKind::ChinaMobilePay => "/cmpay/phone",
        other => panic!("no statement for {other:?}"),
    };
    let page = world.sandbox_page(path).await;
    // Some providers take our ids without their underscore.
    let order_number = intent_id.replace('_', "");
    page.split("data-testid=\"statement-line\"")
        .skip(1)
        .find(|line| line.contains(intent_id) || line.contains(&order_number))
        .map(str::to_owned)
}

/// The amount a statement line shows, such as `-¥123.45`.
fn line_amount(line: &str) -> &str {
    let start = line
        .find("line__amount")
        .and_then(|at| line[at..].find('>').map(|end| at + end + 1))
        .unwrap_or(0);
    let length = line[start..].find('<').unwrap_or(0);
    &line[start..start + length]
}
