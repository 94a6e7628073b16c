//! The UnionPay gateway emulator over real HTTP: a merchant that signs its
//! requests with the committed merchant key and checks every answer,
//! front return and notification the way UnionPay's SDKs do (its own code,
//! in `common/unionpay.rs`), a shopper on the card page and the phone, and
//! a `backUrl` receiver.

mod common;

use std::time::Duration;

use common::unionpay::{
    check_chain, form_action, hidden, hidden_inputs, issued_by, parse_answer, validate, Fields,
    Notice, Receiver, Unionpay, CERT_ID, MERCHANT_CERT, MER_ID, MIDDLE, ROGUE_CERT, ROOT,
    SIGN_CERT,
};
use payment_sandbox::SandboxConfig;
use serde_json::{json, Value};
use x509_cert::der::DecodePem;
use x509_cert::Certificate;

const FRONT_URL: &str = "https://shop.example/unionpay/return";
const DEBIT: &str = "6216261000000000018";
const CREDIT: &str = "6221558812340000";
const BROKE: &str = "6216261000000000026";
const SMS: &str = "111111";
const WAIT: Duration = Duration::from_secs(10);

/// Checks a notification's form, signature, chain and common fields.
fn open_notice(notice: &Notice) -> &Fields {
    assert!(
        notice
            .content_type
            .starts_with("application/x-www-form-urlencoded"),
        "{}",
        notice.content_type
    );
    assert_eq!(validate(&notice.fields), Ok(()), "{:?}", notice.fields);
    let fields = &notice.fields;
    assert_eq!(fields.get("version"), Some("5.1.0"));
    assert_eq!(fields.get("signMethod"), Some("01"));
    assert_eq!(fields.get("merId"), Some(MER_ID));
    assert_eq!(fields.get("accessType"), Some("0"));
    assert!(
        fields.get("certId").is_none(),
        "no certId in what UnionPay sends"
    );
    fields
}

/// The card page for a new order: its token.
async fn open_card_page(
    unionpay: &Unionpay,
    order_id: &str,
    txn_time: &str,
    back_url: &str,
) -> String {
    let page = unionpay
        .front(&unionpay.front_form(order_id, txn_time, "12800", FRONT_URL, back_url))
        .await;
    assert!(
        page.contains("data-testid=\"unionpay-card-number\""),
        "{page}"
    );
    assert!(page.contains("135****5506"));
    assert!(page.contains("¥128.00"));
    hidden(&page, "token")
}

/// A card page paid with `card`; the result page.
async fn pay_on_card_page(unionpay: &Unionpay, token: &str, card: &str) -> String {
    let page = unionpay
        .step("card", &[("token", token), ("cardNo", card)])
        .await;
    assert!(page.contains("data-testid=\"unionpay-sms-code\""), "{page}");
    unionpay
        .step("sms", &[("token", token), ("smsCode", SMS)])
        .await
}

/// A payment made on the card page; its `queryId`.
async fn paid_order(unionpay: &Unionpay, order_id: &str, txn_time: &str, back_url: &str) -> String {
    let token = open_card_page(unionpay, order_id, txn_time, back_url).await;
    let page = pay_on_card_page(unionpay, &token, DEBIT).await;
    hidden_inputs(&page, Some("unionpay-return"))
        .must("queryId")
        .to_owned()
}

#[test]
fn the_committed_chain_holds_and_the_rogue_is_outside_it() {
    let root = Certificate::from_pem(ROOT.as_bytes()).unwrap();
    let middle = Certificate::from_pem(MIDDLE.as_bytes()).unwrap();
    assert!(issued_by(&root, &root));
    assert!(issued_by(&middle, &root));
    let sign = check_chain(SIGN_CERT).unwrap();
    assert_eq!(format!("{}", 0x10_3641_2484_u64), "69629715588");
    assert_eq!(
        sign.tbs_certificate.serial_number.as_bytes(),
        [0x10, 0x36, 0x41, 0x24, 0x84]
    );
    let merchant = Certificate::from_pem(MERCHANT_CERT.as_bytes()).unwrap();
    assert!(issued_by(&merchant, &middle));
    assert_eq!(format!("{}", 0x10_1347_2121_u64), CERT_ID);
    assert_eq!(
        merchant.tbs_certificate.serial_number.as_bytes(),
        [0x10, 0x13, 0x47, 0x21, 0x21]
    );
    let rogue = Certificate::from_pem(ROGUE_CERT.as_bytes()).unwrap();
    assert_eq!(rogue.tbs_certificate.subject, sign.tbs_certificate.subject);
    assert_eq!(
        check_chain(ROGUE_CERT).err().as_deref(),
        Some("does not chain to the root")
    );
}

#[tokio::test]
async fn requests_are_checked_and_answers_are_signed() {
    let unionpay = Unionpay::start().await;
    let txn_time = unionpay.beijing(0);

    // A query signed with the committed merchant key: 34, signed by UnionPay.
    let answer = unionpay.query("unknown00001", &txn_time).await;
    assert_eq!(answer.get("respCode"), Some("34"));
    assert_eq!(answer.get("respMsg"), Some("查无此交易[2600000]"));
    assert_eq!(answer.get("txnType"), Some("00"));
    assert_eq!(answer.get("orderId"), Some("unknown00001"));
    let names = answer.names();
    assert_eq!(
        &names[names.len() - 2..],
        ["signPubKeyCert", "signature"],
        "then signPubKeyCert and signature"
    );
    let mut sorted = names[..names.len() - 2].to_vec();
    sorted.sort_unstable();
    assert_eq!(sorted, names[..names.len() - 2], "the rest sorted");
    let cert = answer.must("signPubKeyCert");
    assert!(cert.starts_with("-----BEGIN CERTIFICATE-----\r\n"), "CRLF");
    assert!(cert.ends_with("\r\n-----END CERTIFICATE-----"));

    let query = |order_id: &str| {
        let mut fields = unionpay.common("00", "00", "000000");
        fields.set("orderId", order_id);
        fields.set("txnTime", &txn_time);
        fields
    };
    let merchant_side = &unionpay;
    let refused = move |fields: Fields| async move {
        let (status, text) = merchant_side.post("queryTrans.do", &fields).await;
        assert_eq!(status, 200);
        let answer = parse_answer(&text);
        assert_eq!(validate(&answer), Ok(()), "refusals are signed too: {text}");
        (
            answer.must("respCode").to_owned(),
            answer.must("respMsg").to_owned(),
        )
    };

    // Tampered after signing.
    let mut tampered = unionpay.signed(query("order00000001"));
    tampered.set("orderId", "order00000002");
    let (code, msg) = refused(tampered).await;
    assert_eq!(code, "11");
    assert!(msg.starts_with("验证签名失败"), "{msg}");

    // Another certificate's serial.
    let mut other_cert = query("order00000001");
    other_cert.set("certId", "69629715588");
    assert_eq!(refused(unionpay.signed(other_cert)).await.0, "11");

    // No signature at all; the wrong version; another merchant; a bad orderId.
    let mut unsigned = query("order00000001");
    unsigned.remove("signature");
    assert_eq!(refused(unsigned).await.0, "13");
    let mut version = query("order00000001");
    version.set("version", "5.0.0");
    assert_eq!(refused(unionpay.signed(version)).await.0, "10");
    let mut merchant = query("order00000001");
    merchant.set("merId", "777290058110049");
    assert_eq!(refused(unionpay.signed(merchant)).await.0, "31");
    assert_eq!(refused(unionpay.signed(query("order_0001"))).await.0, "10");
    let mut missing = query("order00000001");
    missing.remove("txnTime");
    let (code, msg) = refused(unionpay.signed(missing)).await;
    assert_eq!(code, "13");
    assert!(msg.contains("txnTime"), "{msg}");

    // Empty fields are not signed: sent empty, they do not break the check.
    let mut with_empty = query("unknown00002");
    with_empty.set("reqReserved", "");
    let signed = unionpay.signed(with_empty);
    assert_eq!(refused(signed).await.0, "34");
}

#[tokio::test]
async fn the_card_page_pays_notifies_and_returns_signed() {
    let unionpay = Unionpay::start().await;
    let receiver = Receiver::start().await;
    let txn_time = unionpay.beijing(0);

    // Opened but no card entered: the gateway has nothing to find.
    let token = open_card_page(&unionpay, "cardpay0001", &txn_time, &receiver.url).await;
    assert_eq!(
        unionpay
            .query("cardpay0001", &txn_time)
            .await
            .get("respCode"),
        Some("34")
    );

    // A card no bank here knows: the page says so and stays.
    let page = unionpay
        .step(
            "card",
            &[("token", &token), ("cardNo", "6212260000000000000")],
        )
        .await;
    assert!(page.contains("该卡暂不支持"), "{page}");
    assert!(page.contains("data-testid=\"unionpay-card-number\""));

    // The card, then the SMS step: processing meanwhile.
    let page = unionpay
        .step(
            "card",
            &[("token", &token), ("cardNo", "6216 2610 0000 0000 018")],
        )
        .await;
    assert!(page.contains("6216********0018"), "{page}");
    let processing = unionpay.query("cardpay0001", &txn_time).await;
    assert_eq!(processing.get("respCode"), Some("00"));
    assert_eq!(processing.get("origRespCode"), Some("05"));
    assert_eq!(processing.get("settleAmt"), Some("0"));

    let page = unionpay
        .step("sms", &[("token", &token), ("smsCode", SMS)])
        .await;
    assert!(page.contains("支付成功"), "{page}");
    assert!(page.contains("src=\"/unionpay/cashier/return.js\""));
    assert!(!page.contains("<script>"), "no inline script");
    assert_eq!(form_action(&page, "unionpay-return"), FRONT_URL);
    let front = hidden_inputs(&page, Some("unionpay-return"));
    assert_eq!(
        validate(&front),
        Ok(()),
        "the front return is signed: {front:?}"
    );
    assert!(
        front.must("signPubKeyCert").contains("\r\n"),
        "CRLF survives the page"
    );
    assert_eq!(front.get("respCode"), Some("00"));
    assert_eq!(front.get("orderId"), Some("cardpay0001"));
    assert_eq!(front.get("txnAmt"), Some("12800"));
    let query_id = front.must("queryId").to_owned();
    assert_eq!(query_id.len(), 21);
    assert_eq!(&query_id[2..14], &txn_time[2..]);
    assert_eq!(front.get("traceNo"), Some(&query_id[14..20]));
    assert_eq!(front.get("traceTime"), Some(&txn_time[4..]));
    assert_eq!(front.get("settleDate"), Some(&txn_time[4..8]));

    let notices = receiver.wait_for(1, WAIT).await;
    assert_eq!(notices.len(), 1);
    let notice = open_notice(&notices[0]);
    for (name, value) in [
        ("txnType", "01"),
        ("txnSubType", "01"),
        ("bizType", "000201"),
        ("orderId", "cardpay0001"),
        ("txnTime", txn_time.as_str()),
        ("txnAmt", "12800"),
        ("currencyCode", "156"),
        ("respCode", "00"),
        ("respMsg", "成功[0000000]"),
        ("queryId", query_id.as_str()),
        ("settleAmt", "12800"),
        ("settleCurrencyCode", "156"),
        ("settleDate", &txn_time[4..8]),
        ("traceTime", &txn_time[4..]),
        ("accNo", "6216********0018"),
        ("payCardType", "01"),
        ("payType", "0001"),
    ] {
        assert_eq!(notice.get(name), Some(value), "{name}: {notice:?}");
    }

    let paid = unionpay.query("cardpay0001", &txn_time).await;
    assert_eq!(paid.get("respCode"), Some("00"));
    assert_eq!(paid.get("origRespCode"), Some("00"));
    assert_eq!(paid.get("origRespMsg"), Some("成功[0000000]"));
    assert_eq!(paid.get("queryId"), Some(query_id.as_str()));
    assert_eq!(paid.get("txnType"), Some("01"));
    assert_eq!(paid.get("txnSubType"), Some("01"));
    assert_eq!(paid.get("settleAmt"), Some("12800"));
    assert_eq!(paid.get("accNo"), Some("6216********0018"));

    // The same orderId + txnTime again: 12, and a step of the old page
    // says it is paid.
    let page = unionpay
        .front(&unionpay.front_form("cardpay0001", &txn_time, "12800", FRONT_URL, &receiver.url))
        .await;
    assert!(
        page.contains("data-testid=\"unionpay-error-code\">12<"),
        "{page}"
    );
    assert!(page.contains("重复交易"));
    let page = unionpay
        .step("sms", &[("token", &token), ("smsCode", SMS)])
        .await;
    assert!(page.contains("unionpay-already-paid"), "{page}");

    let script = unionpay.get_text("/unionpay/cashier/return.js").await;
    assert!(script.contains("form[data-autosubmit]"));
    assert_eq!(receiver.received().len(), 1, "one notification");
}

#[tokio::test]
async fn a_credit_card_pays_and_the_shopper_may_go_back_unpaid() {
    let unionpay = Unionpay::start().await;
    let receiver = Receiver::start().await;
    let txn_time = unionpay.beijing(0);
    let token = open_card_page(&unionpay, "credit00001", &txn_time, &receiver.url).await;
    let page = pay_on_card_page(&unionpay, &token, CREDIT).await;
    let front = hidden_inputs(&page, Some("unionpay-return"));
    assert_eq!(front.get("payCardType"), Some("02"));
    assert_eq!(front.get("accNo"), Some("6221********0000"));

    // "返回商户" on a step: merId, orderId and txnTime, unsigned, to frontUrl.
    let page = unionpay
        .front(&unionpay.front_form("giveup00001", &txn_time, "100", FRONT_URL, &receiver.url))
        .await;
    assert_eq!(form_action(&page, "unionpay-back"), FRONT_URL);
    let back = hidden_inputs(&page, Some("unionpay-back"));
    assert_eq!(back.names(), ["merId", "orderId", "txnTime"]);
    assert_eq!(back.get("orderId"), Some("giveup00001"));
    assert_eq!(back.get("txnTime"), Some(txn_time.as_str()));
    let token = hidden(&page, "token");
    let page = unionpay
        .step("card", &[("token", &token), ("cardNo", DEBIT)])
        .await;
    assert!(hidden_inputs(&page, Some("unionpay-back"))
        .get("signature")
        .is_none());
    assert_eq!(
        unionpay
            .query("giveup00001", &txn_time)
            .await
            .get("origRespCode"),
        Some("05"),
        "nothing paid"
    );
}

#[tokio::test]
async fn declines_and_wrong_sms_codes_fail_without_notifications() {
    let unionpay = Unionpay::start().await;
    let receiver = Receiver::start().await;
    let txn_time = unionpay.beijing(0);

    let token = open_card_page(&unionpay, "declined001", &txn_time, &receiver.url).await;
    let page = pay_on_card_page(&unionpay, &token, BROKE).await;
    assert!(page.contains("支付失败"), "{page}");
    let front = hidden_inputs(&page, Some("unionpay-return"));
    assert_eq!(validate(&front), Ok(()));
    assert_eq!(front.get("respCode"), Some("64"));
    assert_eq!(front.get("respMsg"), Some("卡上的余额不足"));
    assert!(front.get("settleAmt").is_none());
    let query = unionpay.query("declined001", &txn_time).await;
    assert_eq!(query.get("respCode"), Some("00"));
    assert_eq!(query.get("origRespCode"), Some("64"));

    let token = open_card_page(&unionpay, "wrongsms001", &txn_time, &receiver.url).await;
    unionpay
        .step("card", &[("token", &token), ("cardNo", DEBIT)])
        .await;
    for left in ["2", "1"] {
        let page = unionpay
            .step("sms", &[("token", &token), ("smsCode", "123456")])
            .await;
        assert!(page.contains(&format!("还可输入{left}次")), "{page}");
        assert!(page.contains("data-testid=\"unionpay-sms-code\""));
    }
    let page = unionpay
        .step("sms", &[("token", &token), ("smsCode", "123456")])
        .await;
    let front = hidden_inputs(&page, Some("unionpay-return"));
    assert_eq!(front.get("respCode"), Some("71"));
    assert_eq!(
        unionpay
            .query("wrongsms001", &txn_time)
            .await
            .get("origRespCode"),
        Some("71")
    );
    let page = unionpay
        .step("sms", &[("token", &token), ("smsCode", SMS)])
        .await;
    assert!(page.contains("unionpay-order-failed"), "{page}");
    let page = unionpay
        .front(&unionpay.front_form("wrongsms001", &txn_time, "12800", FRONT_URL, &receiver.url))
        .await;
    assert!(
        page.contains(">12<"),
        "failed: the same order is not opened again"
    );

    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(receiver.received().is_empty(), "failures are not notified");
}

#[tokio::test]
async fn orders_time_out_at_pay_timeout() {
    let unionpay = Unionpay::start().await;
    let receiver = Receiver::start().await;
    let txn_time = unionpay.beijing(0);
    let untouched = open_card_page(&unionpay, "timeout0001", &txn_time, &receiver.url).await;
    let pending = open_card_page(&unionpay, "timeout0002", &txn_time, &receiver.url).await;
    unionpay
        .step("card", &[("token", &pending), ("cardNo", DEBIT)])
        .await;

    unionpay.clock.advance(Duration::from_secs(15 * 60 + 1));
    let page = unionpay
        .step("card", &[("token", &untouched), ("cardNo", DEBIT)])
        .await;
    assert!(page.contains("订单已超时"), "{page}");
    assert!(page.contains("unionpay-timed-out"));
    let page = unionpay
        .step("sms", &[("token", &pending), ("smsCode", SMS)])
        .await;
    assert!(page.contains("订单已超时"), "{page}");
    assert_eq!(
        unionpay
            .query("timeout0001", &txn_time)
            .await
            .get("respCode"),
        Some("34"),
        "never attempted"
    );
    let timed_out = unionpay.query("timeout0002", &txn_time).await;
    assert_eq!(timed_out.get("origRespCode"), Some("69"));

    // A form whose payTimeout has passed is refused at once.
    let mut form = unionpay.front_form("timeout0003", &txn_time, "100", FRONT_URL, &receiver.url);
    form.set("payTimeout", &unionpay.beijing(-1));
    let page = unionpay.front(&unionpay.signed(form)).await;
    assert!(page.contains(">69<"), "{page}");
}

#[tokio::test]
async fn front_forms_are_checked_and_return_domains_enforced() {
    let unionpay = Unionpay::start_with(SandboxConfig::local_demo()).await;
    let txn_time = unionpay.beijing(0);
    let form = unionpay.front_form(
        "domain00001",
        &txn_time,
        "100",
        FRONT_URL,
        "http://127.0.0.1:9/n",
    );
    let page = unionpay.front(&form).await;
    assert!(page.contains(">10<") && page.contains("frontUrl"), "{page}");
    let form = unionpay.front_form(
        "domain00001",
        &txn_time,
        "100",
        "http://127.0.0.1:8000/return",
        "http://127.0.0.1:9/n",
    );
    assert!(unionpay.front(&form).await.contains("unionpay-card-number"));

    let mut tampered = form.clone();
    tampered.set("txnAmt", "1");
    assert!(unionpay.front(&tampered).await.contains(">11<"));
    let amount = unionpay.front_form(
        "domain00002",
        &txn_time,
        "1.00",
        "http://localhost/r",
        "http://localhost/n",
    );
    assert!(unionpay.front(&amount).await.contains(">10<"));
    let mut channel = unionpay.front_form(
        "domain00003",
        &txn_time,
        "100",
        "http://localhost/r",
        "http://localhost/n",
    );
    channel.set("channelType", "05");
    assert!(unionpay
        .front(&unionpay.signed(channel))
        .await
        .contains(">10<"));
}

#[tokio::test]
async fn an_order_code_is_scanned_paid_and_queried() {
    let unionpay = Unionpay::start().await;
    let receiver = Receiver::start().await;
    let txn_time = unionpay.beijing(0);
    let answer = unionpay
        .apply_qr("qrorder0001", &txn_time, "2500", &receiver.url)
        .await;
    assert_eq!(answer.get("respCode"), Some("00"));
    assert_eq!(answer.get("txnSubType"), Some("07"));
    let qr_code = answer.must("qrCode").to_owned();
    let digits = qr_code
        .strip_prefix("https://qr.95516.com/00010000/")
        .unwrap();
    assert!(digits.len() == 32 && digits.bytes().all(|b| b.is_ascii_digit()));
    assert_eq!(
        unionpay
            .query("qrorder0001", &txn_time)
            .await
            .get("respCode"),
        Some("34"),
        "nobody scanned it yet"
    );
    let page = unionpay.get_text("/unionpay/phone").await;
    assert!(page.contains(&qr_code), "the phone lists the code");

    let (status, body) = unionpay.scan(&qr_code, "scan").await;
    assert_eq!(status, 200);
    assert_eq!(body["origRespCode"], "05");
    assert_eq!(
        unionpay
            .query("qrorder0001", &txn_time)
            .await
            .get("origRespCode"),
        Some("05")
    );
    let (status, body) = unionpay.scan(&qr_code, "pay").await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({
            "orderId": "qrorder0001",
            "txnAmt": 2500,
            "origRespCode": "00",
            "origRespMsg": "成功[0000000]",
        })
    );
    let notices = receiver.wait_for(1, WAIT).await;
    let notice = open_notice(&notices[0]);
    assert_eq!(notice.get("txnSubType"), Some("07"));
    assert_eq!(notice.get("bizType"), Some("000000"));
    assert_eq!(notice.get("respCode"), Some("00"));
    let query = unionpay.query("qrorder0001", &txn_time).await;
    assert_eq!(query.get("origRespCode"), Some("00"));
    assert_eq!(query.get("queryId"), notice.get("queryId"));

    let (status, body) = unionpay.scan(&qr_code, "pay").await;
    assert_eq!((status, body["code"].as_str()), (409, Some("ORDER_PAID")));
    let (status, _) = unionpay
        .scan("https://qr.95516.com/00010000/0000", "pay")
        .await;
    assert_eq!(status, 404);

    // Declined by the bank; and a code past its payTimeout.
    let declined = unionpay
        .apply_qr("qrorder0002", &txn_time, "100", &receiver.url)
        .await;
    let (_, body) = unionpay.scan(declined.must("qrCode"), "decline").await;
    assert_eq!(body["origRespCode"], "60");
    let late = unionpay
        .apply_qr("qrorder0003", &txn_time, "100", &receiver.url)
        .await;
    let again = unionpay
        .apply_qr("qrorder0003", &txn_time, "100", &receiver.url)
        .await;
    assert_eq!(again.get("respCode"), Some("12"));
    unionpay.clock.advance(Duration::from_secs(15 * 60));
    let (status, body) = unionpay.scan(late.must("qrCode"), "pay").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (410, Some("ORDER_TIMED_OUT"))
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        receiver.received().len(),
        1,
        "only the payment was notified"
    );
}

#[tokio::test]
async fn refunds_partial_repeated_too_large_and_of_nothing() {
    let unionpay = Unionpay::start().await;
    unionpay.control(json!({ "refund_delay_ms": 100 })).await;
    let receiver = Receiver::start().await;
    let txn_time = unionpay.beijing(0);
    let query_id = paid_order(&unionpay, "refunded001", &txn_time, &receiver.url).await;
    receiver.wait_for(1, WAIT).await;

    let refund_time = unionpay.beijing(1);
    let accepted = unionpay
        .reverse(
            "04",
            &query_id,
            "refund00001",
            &refund_time,
            "2800",
            &receiver.url,
        )
        .await;
    assert_eq!(accepted.get("respCode"), Some("00"));
    assert_eq!(accepted.get("origQryId"), Some(query_id.as_str()));
    let refund_query_id = accepted.must("queryId").to_owned();
    assert_ne!(refund_query_id, query_id);

    let again = unionpay
        .reverse(
            "04",
            &query_id,
            "refund00001",
            &refund_time,
            "2800",
            &receiver.url,
        )
        .await;
    assert_eq!(again.get("respCode"), Some("12"), "no second refund");
    let too_much = unionpay
        .reverse(
            "04",
            &query_id,
            "refund00002",
            &refund_time,
            "10001",
            &receiver.url,
        )
        .await;
    assert_eq!(too_much.get("respCode"), Some("33"));
    let unknown = unionpay
        .reverse(
            "04",
            "012345678901234567890",
            "refund00003",
            &refund_time,
            "1",
            &receiver.url,
        )
        .await;
    assert_eq!(unknown.get("respCode"), Some("35"));

    let notices = receiver.wait_for(2, WAIT).await;
    assert_eq!(notices.len(), 2);
    let notice = open_notice(&notices[1]);
    for (name, value) in [
        ("txnType", "04"),
        ("txnSubType", "00"),
        ("respCode", "00"),
        ("orderId", "refund00001"),
        ("txnTime", refund_time.as_str()),
        ("txnAmt", "2800"),
        ("settleAmt", "2800"),
        ("origQryId", query_id.as_str()),
        ("queryId", refund_query_id.as_str()),
    ] {
        assert_eq!(notice.get(name), Some(value), "{name}: {notice:?}");
    }
    let query = unionpay.query("refund00001", &refund_time).await;
    assert_eq!(query.get("respCode"), Some("00"));
    assert_eq!(query.get("origRespCode"), Some("00"));
    assert_eq!(query.get("txnType"), Some("04"));
    assert_eq!(query.get("origQryId"), Some(query_id.as_str()));

    // The rest, then nothing is left.
    let rest = unionpay
        .reverse(
            "04",
            &query_id,
            "refund00004",
            &refund_time,
            "10000",
            &receiver.url,
        )
        .await;
    assert_eq!(rest.get("respCode"), Some("00"));
    receiver.wait_for(3, WAIT).await;
    let nothing = unionpay
        .reverse(
            "04",
            &query_id,
            "refund00005",
            &refund_time,
            "1",
            &receiver.url,
        )
        .await;
    assert_eq!(nothing.get("respCode"), Some("45"));

    let page = unionpay.get_text("/unionpay/phone").await;
    assert_eq!(page.matches("退款成功").count(), 2, "{page}");
    assert!(page.contains("支付成功"));
}

#[tokio::test]
async fn cancellations_are_whole_and_same_day() {
    let unionpay = Unionpay::start().await;
    unionpay.control(json!({ "refund_delay_ms": 100 })).await;
    let receiver = Receiver::start().await;
    let txn_time = unionpay.beijing(0);
    let query_id = paid_order(&unionpay, "cancelled01", &txn_time, &receiver.url).await;
    let cancel_time = unionpay.beijing(1);

    let partial = unionpay
        .reverse(
            "31",
            &query_id,
            "cancel00001",
            &cancel_time,
            "100",
            &receiver.url,
        )
        .await;
    assert_eq!(partial.get("respCode"), Some("36"));
    let whole = unionpay
        .reverse(
            "31",
            &query_id,
            "cancel00002",
            &cancel_time,
            "12800",
            &receiver.url,
        )
        .await;
    assert_eq!(whole.get("respCode"), Some("00"));
    assert_eq!(whole.get("txnType"), Some("31"));
    let notices = receiver.wait_for(2, WAIT).await;
    let notice = open_notice(&notices[1]);
    assert_eq!(notice.get("txnType"), Some("31"));
    assert_eq!(notice.get("respCode"), Some("00"));
    assert_eq!(notice.get("origQryId"), Some(query_id.as_str()));
    let refund = unionpay
        .reverse(
            "04",
            &query_id,
            "refund00001",
            &cancel_time,
            "1",
            &receiver.url,
        )
        .await;
    assert_eq!(
        refund.get("respCode"),
        Some("45"),
        "cancelled: nothing left"
    );

    // Another payment, cancelled the next day: refused.
    let query_id = paid_order(&unionpay, "cancelled02", &txn_time, &receiver.url).await;
    unionpay.clock.advance(Duration::from_secs(24 * 60 * 60));
    let next_day = unionpay
        .reverse(
            "31",
            &query_id,
            "cancel00003",
            &unionpay.beijing(0),
            "12800",
            &receiver.url,
        )
        .await;
    assert_eq!(next_day.get("respCode"), Some("35"));
    assert!(next_day.must("respMsg").contains("隔日"));
}

#[tokio::test]
async fn a_short_balance_fails_refunds() {
    let unionpay = Unionpay::start().await;
    let receiver = Receiver::start().await;
    let txn_time = unionpay.beijing(0);
    let query_id = paid_order(&unionpay, "shortbal001", &txn_time, &receiver.url).await;
    unionpay
        .control(json!({ "balance_short": true, "refund_delay_ms": 300 }))
        .await;
    let accepted = unionpay
        .reverse(
            "04",
            &query_id,
            "refund00001",
            &txn_time,
            "100",
            &receiver.url,
        )
        .await;
    assert_eq!(accepted.get("respCode"), Some("00"), "accepted first");
    assert_eq!(
        unionpay
            .query("refund00001", &txn_time)
            .await
            .get("origRespCode"),
        Some("05"),
        "processing"
    );
    let notices = receiver.wait_for(2, WAIT).await;
    let notice = open_notice(&notices[1]);
    assert_eq!(notice.get("respCode"), Some("01"));
    assert!(notice.get("settleAmt").is_none());
    assert_eq!(
        unionpay
            .query("refund00001", &txn_time)
            .await
            .get("origRespCode"),
        Some("01")
    );
    let page = unionpay.get_text("/unionpay/phone").await;
    assert!(
        page.contains("失败") && !page.contains("退款成功"),
        "{page}"
    );
}

#[tokio::test]
async fn notifications_are_retried_until_the_merchant_answers_200() {
    let unionpay = Unionpay::start().await;
    let receiver = Receiver::failing_first(2).await;
    let txn_time = unionpay.beijing(0);
    paid_order(&unionpay, "retried0001", &txn_time, &receiver.url).await;
    let notices = receiver.wait_for(3, WAIT).await;
    assert_eq!(notices.len(), 3);
    assert!(notices[1].at - notices[0].at >= Duration::from_millis(900));
    for notice in &notices {
        open_notice(notice);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.received().len(), 3, "after 200, no more");
}

#[tokio::test]
async fn lost_late_duplicate_and_rogue_notifications() {
    let unionpay = Unionpay::start().await;
    let txn_time = unionpay.beijing(0);

    unionpay.control(json!({ "notify": "lost" })).await;
    let receiver = Receiver::start().await;
    paid_order(&unionpay, "lostnote001", &txn_time, &receiver.url).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(receiver.received().is_empty());
    assert_eq!(
        unionpay
            .query("lostnote001", &txn_time)
            .await
            .get("origRespCode"),
        Some("00"),
        "only a query tells"
    );

    unionpay
        .control(json!({ "notify": "late", "notify_delay_ms": 800 }))
        .await;
    let receiver = Receiver::start().await;
    let paid_at = std::time::Instant::now();
    paid_order(&unionpay, "latenote001", &txn_time, &receiver.url).await;
    let notices = receiver.wait_for(1, WAIT).await;
    assert!(notices[0].at - paid_at >= Duration::from_millis(800));

    unionpay.control(json!({ "notify": "duplicate" })).await;
    let receiver = Receiver::start().await;
    paid_order(&unionpay, "dupnote0001", &txn_time, &receiver.url).await;
    let notices = receiver.wait_for(2, WAIT).await;
    assert_eq!(notices.len(), 2);
    assert_eq!(notices[0].fields, notices[1].fields);

    unionpay.control(json!({ "notify": "rogue_cert" })).await;
    let receiver = Receiver::start().await;
    paid_order(&unionpay, "roguenote01", &txn_time, &receiver.url).await;
    let notices = receiver.wait_for(1, WAIT).await;
    let fields = &notices[0].fields;
    assert_eq!(
        validate(fields).err().as_deref(),
        Some("does not chain to the root"),
        "a verifier that checks the chain refuses it"
    );
    let rogue_pem: String = ROGUE_CERT.trim().lines().collect::<Vec<_>>().join("\r\n");
    assert_eq!(fields.get("signPubKeyCert"), Some(rogue_pem.as_str()));
}

#[tokio::test]
async fn out_of_order_notifications_send_the_refund_first() {
    let unionpay = Unionpay::start().await;
    unionpay
        .control(
            json!({ "notify": "out_of_order", "notify_delay_ms": 1500, "refund_delay_ms": 50 }),
        )
        .await;
    let receiver = Receiver::start().await;
    let txn_time = unionpay.beijing(0);
    let query_id = paid_order(&unionpay, "outoforder1", &txn_time, &receiver.url).await;
    unionpay
        .reverse(
            "04",
            &query_id,
            "refund00001",
            &txn_time,
            "100",
            &receiver.url,
        )
        .await;
    let notices = receiver.wait_for(2, WAIT).await;
    assert_eq!(
        notices[0].fields.get("txnType"),
        Some("04"),
        "the refund first"
    );
    assert_eq!(notices[1].fields.get("txnType"), Some("01"));
}

#[tokio::test]
async fn outages_and_the_control_state() {
    let unionpay = Unionpay::start().await;
    let state = unionpay.control(json!({ "outage": true })).await;
    assert_eq!(
        state,
        json!({
            "outage": true,
            "notify": "normal",
            "notify_delay_ms": 2000,
            "refund_delay_ms": 1000,
            "balance_short": false,
            "late_decisions": false,
        })
    );
    let txn_time = unionpay.beijing(0);
    let mut query = unionpay.common("00", "00", "000000");
    query.set("orderId", "outage00001");
    query.set("txnTime", &txn_time);
    let (status, _) = unionpay
        .post("queryTrans.do", &unionpay.signed(query.clone()))
        .await;
    assert_eq!(status, 503);
    let page = unionpay
        .front(&unionpay.front_form(
            "outage00001",
            &txn_time,
            "100",
            FRONT_URL,
            "https://shop.example/n",
        ))
        .await;
    assert!(page.contains(">02<"), "{page}");

    unionpay.control(json!({ "outage": false })).await;
    assert_eq!(
        unionpay
            .query("outage00001", &txn_time)
            .await
            .get("respCode"),
        Some("34")
    );
    let response = unionpay
        .http
        .post(format!("{}/unionpay/control", unionpay.url))
        .json(&json!({ "notify": "sometimes" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let read: Value = unionpay
        .http
        .get(format!("{}/unionpay/control", unionpay.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(read["outage"], false);
    let page = unionpay
        .http
        .get(format!("{}/unionpay/control", unionpay.url))
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("rogue_cert") && page.contains("<form"),
        "{page}"
    );
    let page = unionpay
        .http
        .post(format!("{}/unionpay/control", unionpay.url))
        .form(&[("notify", "duplicate"), ("refund_delay_ms", "10")])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("value=\"duplicate\" selected"), "{page}");
    assert_eq!(unionpay.control(json!({})).await["refund_delay_ms"], 10);
}
