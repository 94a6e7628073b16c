//! The server's answers as the browser parses them (`JSON.parse`), read
//! into the contract's types, in headless Chromium.
#![cfg(target_arch = "wasm32")]

use contract::{
    Availability, CheckoutSession, Currency, ErrorBody, ErrorCode, FormMethod, IntentStatus,
    MethodKind, Money, NextAction, PaymentIntent, UnavailableReason,
};
use payment_selector::decode::{from_js, DecodeError};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn parse(json: &str) -> wasm_bindgen::JsValue {
    js_sys::JSON::parse(json).expect("valid JSON")
}

#[wasm_bindgen_test]
fn a_session_reads_with_its_methods_in_order() {
    let session: CheckoutSession = from_js(parse(
        r#"{"id":"cs_1","amount":{"value":12800,"currency":"CNY"},"merchant_name":"Demo",
            "expires_at":1800000000,"livemode":false,"extra":{"ignored":[1,2]},
            "methods":[
              {"type":"wechat_pay","flow":"qr_code","availability":{"status":"available"}},
              {"type":"alipay","flow":"redirect",
               "availability":{"status":"unavailable","reason":"blocked_in_wechat"}},
              {"type":"paypay","flow":"app_switch",
               "availability":{"status":"unavailable","reason":"moon_phase"}}]}"#,
    ))
    .expect("a session");
    assert_eq!(session.amount, Money::new(12800, Currency::CNY));
    let kinds: Vec<_> = session.methods.iter().map(|m| m.kind).collect();
    assert_eq!(
        kinds,
        [
            MethodKind::WechatPay,
            MethodKind::Alipay,
            MethodKind::Unsupported
        ],
        "a kind from a newer server still reads"
    );
    assert_eq!(
        session.methods[1].availability,
        Availability::unavailable(UnavailableReason::BlockedInWechat)
    );
    assert_eq!(
        session.methods[2].availability,
        Availability::unavailable(UnavailableReason::Other)
    );
}

#[wasm_bindgen_test]
fn a_post_redirect_keeps_its_fields_in_order() {
    let intent: PaymentIntent = from_js(parse(
        r#"{"id":"pi_1","session_id":"cs_1","method":"unionpay",
            "amount":{"value":1,"currency":"CNY"},"status":"requires_action","expires_at":7,
            "next_action":{"type":"redirect","url":"https://gateway.test/frontTransReq.do",
                           "method":"POST","fields":{"txnAmt":"1","orderId":"A1"}}}"#,
    ))
    .expect("an intent");
    assert_eq!(intent.status, IntentStatus::RequiresAction);
    assert_eq!(
        intent.next_action,
        Some(NextAction::Redirect {
            url: "https://gateway.test/frontTransReq.do".into(),
            method: FormMethod::Post,
            fields: vec![
                ("txnAmt".into(), "1".into()),
                ("orderId".into(), "A1".into())
            ],
        })
    );
}

#[wasm_bindgen_test]
fn alipay_s_trade_pay_reads_and_one_without_its_trade_is_refused() {
    let intent = |next_action: &str| {
        from_js::<PaymentIntent>(parse(&format!(
            r#"{{"id":"pi_1","session_id":"cs_1","method":"alipay",
                "amount":{{"value":12800,"currency":"CNY"}},"status":"processing",
                "expires_at":7,"next_action":{next_action}}}"#
        )))
    };
    let paying =
        intent(r#"{"type":"invoke_alipay_trade_pay","trade_no":"2026120622001491561000012345"}"#)
            .expect("an intent");
    assert_eq!(paying.method, MethodKind::Alipay);
    assert_eq!(paying.status, IntentStatus::Processing);
    assert_eq!(
        paying.next_action,
        Some(NextAction::InvokeAlipayTradePay {
            trade_no: "2026120622001491561000012345".into()
        })
    );
    assert_eq!(
        intent(r#"{"type":"invoke_alipay_trade_pay"}"#),
        Err(DecodeError)
    );
}

#[wasm_bindgen_test]
fn an_error_body_reads_and_an_unknown_code_is_unknown() {
    let body: ErrorBody = from_js(parse(r#"{"code":"session_expired","message":"late"}"#)).unwrap();
    assert_eq!(body.code, ErrorCode::SessionExpired);
    let body: ErrorBody = from_js(parse(r#"{"code":"rate_limited","message":""}"#)).unwrap();
    assert_eq!(body.code, ErrorCode::Unknown);
}

#[wasm_bindgen_test]
fn answers_that_break_the_contract_are_refused_not_panicked() {
    let money = |json: &str| from_js::<Money>(parse(json));
    assert_eq!(
        money(r#"{"value":128.5,"currency":"CNY"}"#),
        Err(DecodeError)
    );
    assert_eq!(
        money(r#"{"value":"12800","currency":"CNY"}"#),
        Err(DecodeError)
    );
    assert_eq!(
        money(r#"{"value":1e300,"currency":"CNY"}"#),
        Err(DecodeError)
    );
    assert_eq!(money(r#"{"currency":"CNY"}"#), Err(DecodeError));
    assert_eq!(money(r#"{"value":1,"currency":"cny"}"#), Err(DecodeError));
    assert_eq!(money("null"), Err(DecodeError));
    assert!(from_js::<PaymentIntent>(parse(r#"[1,2,3]"#)).is_err());
    let no_payload = r#"{"id":"pi_1","session_id":"cs_1","method":"wechat_pay",
        "amount":{"value":1,"currency":"CNY"},"status":"requires_action","expires_at":7,
        "next_action":{"type":"display_qr_code"}}"#;
    assert!(from_js::<PaymentIntent>(parse(no_payload)).is_err());
}
