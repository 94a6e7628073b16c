//! The adapter against what others published: the test certificates and
//! key of UnionPay's 5.1.0 demo kit (`acp_test_root.cer`,
//! `acp_test_middle.cer`, `acp_test_sign.pfx` with its password `000000`),
//! a request signed with that key, and notifications and answers captured
//! from UnionPay's test environment, in the tests of two independent SDKs:
//! yansongda/pay (`tests/Provider/UnipayTest.php`,
//! `tests/Plugin/Unipay/Open/CallbackPluginTest.php`,
//! `VerifySignaturePluginTest.php`) and zhangv/union-pay
//! (`test/UnionPayTest.php`, `test/service/B2CTest.php`). See
//! `vectors/README.md`.

use super::*;
use crate::clock::ManualClock;

const ROOT: &str = include_str!("vectors/acp_test_root.pem");
const MIDDLE: &str = include_str!("vectors/acp_test_middle.pem");
const SIGN_KEY: &str = include_str!("vectors/acp_test_sign_key.pem");
const SIGN_CERT: &str = include_str!("vectors/acp_test_sign_cert.pem");

/// 2022-09-08T05:22:06Z: yansongda's notification arrived then.
const SEPTEMBER_2022: i64 = 1_662_614_526;
/// 2018-06-14T00:00:00Z: zhangv's answers and notification are of then.
const JUNE_2018: i64 = 1_528_934_400;

fn adapter(mer_id: &str, now: i64, test_environment: bool) -> UnionPay {
    UnionPay::new(
        &UnionpayConfig {
            mer_id: mer_id.into(),
            sign_key: SIGN_KEY.into(),
            sign_cert: SIGN_CERT.into(),
            root_cert: ROOT.into(),
            middle_cert: MIDDLE.into(),
            gateway_url: "https://gateway.test.95516.com/gateway/api".into(),
        },
        MethodKind::Card,
        test_environment,
        Arc::new(ManualClock::at(now)),
    )
    .unwrap()
}

fn form(fields: &Fields) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish()
}

fn replaced(fields: &Fields, name: &str, value: &str) -> Fields {
    fields
        .iter()
        .map(|(key, old)| {
            let value = if key == name { value } else { old.as_str() };
            (key.clone(), value.to_owned())
        })
        .collect()
}

#[test]
fn requests_are_signed_as_the_demo_kit_s_key_signs_them() {
    let sent = wire::form_fields(include_bytes!("vectors/yansongda_front_request.form"));
    let published = get(&sent, "signature").unwrap().to_owned();
    let unionpay = adapter("777290058167151", SEPTEMBER_2022, true);
    assert_eq!(
        unionpay.cert_id, "69903319369",
        "certId is the serial in decimal"
    );
    assert_eq!(get(&sent, "certId"), Some("69903319369"));
    let unsigned: Fields = sent
        .into_iter()
        .filter(|(name, _)| name != "signature")
        .collect();
    let signed = unionpay.signed(unsigned).unwrap();
    assert_eq!(get(&signed, "signature"), Some(published.as_str()));
}

#[test]
fn a_captured_notification_verifies_through_the_test_chain_and_reads_as_a_payment() {
    let body = include_bytes!("vectors/yansongda_notify.form");
    let unionpay = adapter("777290058167151", SEPTEMBER_2022, true);
    let notification = unionpay
        .parse_notification(&HeaderMap::new(), body)
        .unwrap();
    {
        assert_eq!(notification.id, "782209081322060674028:01");
        assert_eq!(
            notification.about,
            Notified::Payment(ProviderStatus::Paid {
                transaction_id: "782209081322060674028".into(),
                amount: contract::Money::new(1, contract::Currency::CNY),
            })
        );
    }
    let fields = wire::form_fields(body);
    // Its certificate names UnionPay as production certificates do: the
    // names a live server takes.
    let live = Trust::new(ROOT, MIDDLE, false).unwrap();
    assert!(live
        .signer(get(&fields, "signPubKeyCert").unwrap(), SEPTEMBER_2022)
        .is_ok());
    let tampered = form(&replaced(&fields, "txnAmt", "100"));
    assert!(unionpay
        .parse_notification(&HeaderMap::new(), tampered.as_bytes())
        .is_err());
    let mut twice = fields.clone();
    twice.push(("txnAmt".into(), "100".into()));
    assert!(unionpay
        .parse_notification(&HeaderMap::new(), form(&twice).as_bytes())
        .is_err());
    let another_merchant = adapter("777290058110048", SEPTEMBER_2022, true);
    assert!(another_merchant
        .parse_notification(&HeaderMap::new(), body)
        .is_err());
    // 2026-12-06: its certificate expired in July 2025.
    let later = adapter("777290058167151", 1_796_517_000, true);
    assert!(later.parse_notification(&HeaderMap::new(), body).is_err());
}

#[test]
fn a_test_environment_certificate_is_taken_only_by_a_test_adapter() {
    let fields = wire::answer_fields(include_str!("vectors/zhangv_notify.txt")).unwrap();
    let body = form(&fields);
    let test = adapter("777290058158470", JUNE_2018, true);
    let notification = test
        .parse_notification(&HeaderMap::new(), body.as_bytes())
        .unwrap();
    assert_eq!(
        notification.about,
        Notified::Payment(ProviderStatus::Paid {
            transaction_id: "121804140255385818028".into(),
            amount: contract::Money::new(1000, contract::Currency::CNY),
        })
    );
    let live = Trust::new(ROOT, MIDDLE, false).unwrap();
    let refused = live.signer(get(&fields, "signPubKeyCert").unwrap(), JUNE_2018);
    assert!(
        matches!(&refused, Err(why) if why.contains("00040000:SIGN")),
        "{:?}",
        refused.err()
    );
}

#[test]
fn a_certificate_under_another_root_is_refused() {
    let sandbox = UnionPay::new(
        &UnionpayConfig {
            mer_id: "777290058167151".into(),
            sign_key: SIGN_KEY.into(),
            sign_cert: SIGN_CERT.into(),
            root_cert: include_str!("../../../../sandbox/keys/unionpay_root.pem").into(),
            middle_cert: include_str!("../../../../sandbox/keys/unionpay_middle.pem").into(),
            gateway_url: "https://gateway.test.95516.com/gateway/api".into(),
        },
        MethodKind::Card,
        true,
        Arc::new(ManualClock::at(SEPTEMBER_2022)),
    )
    .unwrap();
    let refused = sandbox.parse_notification(
        &HeaderMap::new(),
        include_bytes!("vectors/yansongda_notify.form"),
    );
    assert!(
        matches!(&refused, Err(ProviderError::BadNotification(why)) if why.contains("chain")),
        "{refused:?}"
    );
}

#[test]
fn captured_query_answers_read_as_paid_processing_and_not_found() {
    let paid = wire::answer_fields(include_str!("vectors/yansongda_query_paid.txt")).unwrap();
    let unionpay = adapter("777290058167151", SEPTEMBER_2022, true);
    assert_eq!(unionpay.distrust(&paid), None);
    assert_eq!(
        wire::payment_status(&paid, wire::Said::Query).unwrap(),
        ProviderStatus::Paid {
            transaction_id: "512209110416475616528".into(),
            amount: contract::Money::new(1, contract::Currency::CNY),
        }
    );
    let altered = replaced(&paid, "origRespCode", "05");
    assert!(unionpay.distrust(&altered).is_some());

    let zhangv = adapter("700000000000001", JUNE_2018, true);
    let processing =
        wire::answer_fields(include_str!("vectors/zhangv_query_processing.txt")).unwrap();
    assert_eq!(zhangv.distrust(&processing), None);
    assert_eq!(
        wire::payment_status(&processing, wire::Said::Query).unwrap(),
        ProviderStatus::Pending,
        "a card payment being decided is still open"
    );
    let none = wire::answer_fields(include_str!("vectors/zhangv_query_not_found.txt")).unwrap();
    assert_eq!(zhangv.distrust(&none), None);
    assert_eq!(get(&none, "respCode"), Some(wire::NO_SUCH_TRANSACTION));
}

#[test]
fn a_live_adapter_refuses_the_test_hierarchy() {
    let refused = UnionPay::new(
        &UnionpayConfig {
            mer_id: "777290058167151".into(),
            sign_key: SIGN_KEY.into(),
            sign_cert: SIGN_CERT.into(),
            root_cert: ROOT.into(),
            middle_cert: MIDDLE.into(),
            gateway_url: "https://gateway.95516.com/gateway/api".into(),
        },
        MethodKind::Card,
        false,
        Arc::new(ManualClock::at(SEPTEMBER_2022)),
    );
    assert!(refused.is_err());
    let mismatched = UnionPay::new(
        &UnionpayConfig {
            mer_id: "777290058167151".into(),
            sign_key: include_str!("../../../../sandbox/keys/unionpay_merchant_private.pem").into(),
            sign_cert: SIGN_CERT.into(),
            root_cert: ROOT.into(),
            middle_cert: MIDDLE.into(),
            gateway_url: "https://gateway.test.95516.com/gateway/api".into(),
        },
        MethodKind::Card,
        true,
        Arc::new(ManualClock::at(SEPTEMBER_2022)),
    );
    assert!(
        matches!(&mismatched, Err(ConfigError::Invalid(why)) if why.contains("sign_cert")),
        "a key and another's certificate"
    );
}

#[test]
fn money_goes_back_by_cancellation_only_well_inside_the_day_of_the_order() {
    // 2026-12-06 10:00 and 22:40 in Beijing; the next day 09:00.
    let morning = 1_796_522_400;
    assert!(cancellable(morning, morning + 60 * 60));
    assert!(
        !cancellable(morning, morning + (12 * 60 + 40) * 60),
        "22:40"
    );
    assert!(
        !cancellable(morning, morning + 23 * 60 * 60),
        "the next day"
    );
}

#[test]
fn unionpay_stops_taking_payment_before_the_intent_does() {
    assert_eq!(pay_timeout(1_000, 1_900), 1_780);
    assert_eq!(pay_timeout(1_000, 1_100), 1_060, "at least a minute");
}
