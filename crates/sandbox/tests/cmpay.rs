//! The China Mobile Pay (和包) emulator over real HTTP: a merchant that
//! signs its requests with the demo key and checks every answer, page
//! return and notification the way the official kits do (its own code, in
//! `common/cmpay.rs`), a shopper at the cashier, and a `notifyUrl`
//! receiver.

mod common;

use std::time::Duration;

use common::cmpay::{
    pay_url_parts, sign, sign_data, verifies, Cmpay, Notice, Receiver, CALLBACK_URL, MERCHANT_ID,
    NOTIFY, PAY_ANSWER, PAY_ORDER, QUERY, QUERY_ANSWER,
};
use common::unionpay::{form_action, hidden_inputs, parse_form, Fields};
use payment_sandbox::SandboxConfig;
use serde_json::json;

const WAIT: Duration = Duration::from_secs(10);

/// A notification's form, hmac and common fields.
fn open_notice(notice: &Notice) -> &Fields {
    assert!(
        notice
            .content_type
            .starts_with("application/x-www-form-urlencoded"),
        "{}",
        notice.content_type
    );
    let fields = &notice.fields;
    assert!(verifies(fields, &NOTIFY), "{fields:?}");
    assert_eq!(fields.names()[..19], NOTIFY, "the documented order");
    assert_eq!(fields.get("merchantId"), Some(MERCHANT_ID));
    assert_eq!(fields.get("type"), Some("OfflineNotify"));
    assert_eq!(fields.get("returnCode"), Some("000000"));
    assert_eq!(fields.get("version"), Some("2.0.0"));
    fields
}

fn digits(text: &str, len: usize) -> bool {
    text.len() == len && text.bytes().all(|b| b.is_ascii_digit())
}

/// A paid order; its `payNo`.
async fn paid(cmpay: &Cmpay, kind: &str, order_id: &str, notify_url: &str) -> String {
    let answer = cmpay.pay(kind, order_id, notify_url).await;
    assert_eq!(answer.get("returnCode"), Some("000000"), "{answer:?}");
    let page = cmpay.confirm(answer.must("payUrl"), "pay").await;
    hidden_inputs(&page, Some("cmpay-return"))
        .must("payNo")
        .to_owned()
}

#[test]
fn the_test_signer_reproduces_the_published_vectors() {
    let jfshare = "UVLujdX0lBRBG3KPJbprdBRoJzXCM7KvGZ17wJ4v8M3uYYoVyO0iTiSmX3E4HMSO";
    // The WAP request of the jfshare javadoc, its empty fields included.
    let request = parse_form(
        "characterSet=02&callbackUrl=http%3A%2F%2Fh5.jfshare.com%2Fshare%2Fhtml%2Fpay-success.html&notifyUrl=http%3A%2F%2F120.24.153.102%3A13005%2Fpay%2Fnotify%2Fhebaowap&ipAddress=127.0.0.1&merchantId=888009953110701&requestId=ef3c240626f2e00ea032b4b00ff768f81&signType=MD5&type=WAPDirectPayConfirm&version=2.0.0&amount=1&bankAbbr=&currency=00&orderDate=20160408&orderId=ef3c240626f2e00ea032b4b00ff768f81&merAcDate=20160408&period=24&periodUnit=01&merchantAbbr=&productDesc=dd&productId=&productName=jssss&productNum=&reserved1=&reserved2=&userToken=&showUrl=&couponsFlag=00",
    );
    assert_eq!(request.names(), PAY_ORDER);
    assert_eq!(
        sign(jfshare, &sign_data(&request, &PAY_ORDER)),
        "22526be0233a1d842d955f128fb24f61"
    );
    assert_eq!(
        sign(jfshare, "888009953110701ef3c240626f2e00ea032b4b00ff768f81MD5WAPDirectPayConfirm2.0.0000000SUCCESSurl<hi:=>http://ipos.10086.cn/wap/index.xhtml<hi:$$>method<hi:=>POST<hi:$$>sessionId<hi:=>20160408201604080466790130"),
        "89937537b442211b99e1d2a72d2f4e3a"
    );
    assert_eq!(
        sign(jfshare, "888009953110701201605226650729006000000SUCCESSMD5OfflineNotify2.0.01CNY_AMT=1#CMY_AMT=0#RED_AMT=0#VCH_AMT=0#POT_CHG_AMT=0150****87793404ab75feb1a15d9d34cce62385a5b22016052217320920160522SUCCESS201605220"),
        "d0d0de92470f9d00ea4ad3c817c3f17e"
    );
}

#[tokio::test]
async fn desktop_and_wap_orders_pay_notify_and_return_signed() {
    let cmpay = Cmpay::start().await;
    let receiver = Receiver::start().await;
    for (round, kind) in ["DirectPayConfirm", "WAPDirectPayConfirm"]
        .iter()
        .enumerate()
    {
        let order_id = format!("order-{round}");
        let answer = cmpay.pay(kind, &order_id, &receiver.url).await;
        assert_eq!(answer.names(), [&PAY_ANSWER[..], &["hmac"]].concat());
        assert_eq!(answer.get("returnCode"), Some("000000"));
        assert_eq!(answer.get("message"), Some("SUCCESS"));
        assert_eq!(answer.get("type"), Some(*kind));
        assert_eq!(answer.get("requestId").unwrap(), format!("req-{order_id}"));
        let pay_url = answer.must("payUrl");
        let (url, _, session) = pay_url_parts(pay_url);
        assert_eq!(url, format!("{}/cmpay/wap/index.xhtml", cmpay.url));
        assert!(digits(&session, 26), "{session}");

        // Desktop: the Java kit's GET redirect; phone: the PHP kit's form.
        let page = cmpay.cashier(pay_url, round == 1).await;
        for testid in ["cmpay-pay", "cmpay-decline", "cmpay-back", "cmpay-amount"] {
            assert!(
                page.contains(&format!("data-testid=\"{testid}\"")),
                "{testid}: {page}"
            );
        }
        assert!(page.contains("¥128.00"));
        assert!(page.contains("Demo Tea House"));
        assert!(page.contains("龙井茶"));
        assert!(!page.contains("<script>"), "no inline script");

        let result = cmpay.confirm(pay_url, "pay").await;
        assert!(result.contains("支付成功"), "{result}");
        assert!(result.contains("<script src=\"/cmpay/wap/return.js\""));
        assert_eq!(form_action(&result, "cmpay-return"), CALLBACK_URL);
        let back = hidden_inputs(&result, Some("cmpay-return"));
        assert!(verifies(&back, &NOTIFY), "PageNotify: {back:?}");
        assert_eq!(back.get("type"), Some("PageNotify"));
        assert_eq!(back.get("status"), Some("SUCCESS"));
        assert_eq!(back.get("amount"), Some("12800"));
        assert_eq!(back.get("reserved1"), Some("保留1"));
        let pay_no = back.must("payNo").to_owned();
        assert!(digits(&pay_no, 18), "{pay_no}");

        let notices = receiver.wait_for(round + 1, WAIT).await;
        assert_eq!(notices.len(), round + 1);
        let notice = open_notice(&notices[round]);
        assert_eq!(notice.get("orderId"), Some(order_id.as_str()));
        assert_eq!(notice.get("payNo"), Some(pay_no.as_str()));
        assert_eq!(notice.get("status"), Some("SUCCESS"));
        assert_eq!(notice.get("amount"), Some("12800"));
        assert_eq!(
            notice.get("amtItem"),
            Some("CNY_AMT=12800#CMY_AMT=0#RED_AMT=0#VCH_AMT=0#POT_CHG_AMT=0")
        );
        assert_eq!(notice.get("mobile"), Some("150****8779"));
        assert_eq!(notice.get("fee"), Some("0"));
        assert_eq!(notice.get("orderDate"), Some(cmpay.today().as_str()));
        let pay_date = notice.must("payDate");
        assert!(digits(pay_date, 14));
        assert_eq!(notice.get("accountDate"), Some(&pay_date[..8]));

        let query = cmpay.query(&order_id).await;
        assert_eq!(query.names(), [&QUERY_ANSWER[..], &["hmac"]].concat());
        assert_eq!(query.get("returnCode"), Some("000000"));
        assert_eq!(query.get("status"), Some("SUCCESS"));
        assert_eq!(query.get("payNo"), Some(pay_no.as_str()));
        assert_eq!(query.get("payDate"), Some(pay_date));
        assert_eq!(query.get("reserved1"), Some("保留1"));

        // Paid: the same order cannot be made again; the session shows the result.
        let again = cmpay.pay(kind, &order_id, &receiver.url).await;
        assert_eq!(again.get("returnCode"), Some("RPM22208"));
        assert_eq!(again.get("payUrl"), Some(""));
        let revisit = cmpay.cashier(pay_url, false).await;
        assert_eq!(
            hidden_inputs(&revisit, Some("cmpay-return")).get("payNo"),
            Some(pay_no.as_str())
        );
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.received().len(), 2, "one notification each");
    let statement = cmpay.get_text("/cmpay/phone").await;
    assert_eq!(statement.matches("支付成功").count(), 2, "{statement}");
    assert!(statement.contains("-¥128.00"));
}

#[tokio::test]
async fn a_declined_payment_fails_and_giving_up_leaves_it_waiting() {
    let cmpay = Cmpay::start().await;
    let receiver = Receiver::start().await;

    let answer = cmpay
        .pay("WAPDirectPayConfirm", "declined-1", &receiver.url)
        .await;
    let result = cmpay.confirm(answer.must("payUrl"), "decline").await;
    assert!(result.contains("支付失败"), "{result}");
    let back = hidden_inputs(&result, Some("cmpay-return"));
    assert!(verifies(&back, &NOTIFY));
    assert_eq!(back.get("status"), Some("FAILED"));
    let notices = receiver.wait_for(1, WAIT).await;
    assert_eq!(open_notice(&notices[0]).get("status"), Some("FAILED"));
    assert_eq!(
        cmpay.query("declined-1").await.get("status"),
        Some("FAILED")
    );
    // Paying after the decline changes nothing.
    let again = cmpay.confirm(answer.must("payUrl"), "pay").await;
    assert_eq!(
        hidden_inputs(&again, Some("cmpay-return")).get("status"),
        Some("FAILED")
    );

    // Give up: a plain POST of merchantId and orderId to callbackUrl.
    let answer = cmpay
        .pay("WAPDirectPayConfirm", "given-up-1", &receiver.url)
        .await;
    let first_url = answer.must("payUrl").to_owned();
    let page = cmpay.cashier(&first_url, false).await;
    let start = page.find("data-testid=\"cmpay-back\"").unwrap();
    let form_start = page[..start].rfind("<form").unwrap();
    let back_form = &page[form_start..start];
    assert!(
        back_form.contains(&format!("action=\"{CALLBACK_URL}\"")),
        "{back_form}"
    );
    let back = hidden_inputs(&page[form_start..], Some("cmpay-back"));
    assert_eq!(
        back.0,
        vec![
            ("merchantId".to_owned(), MERCHANT_ID.to_owned()),
            ("orderId".to_owned(), "given-up-1".to_owned())
        ]
    );
    let query = cmpay.query("given-up-1").await;
    assert_eq!(query.get("returnCode"), Some("000000"));
    assert_eq!(query.get("status"), Some("WAITPAY"));
    assert_eq!(query.get("payNo"), Some(""));
    assert_eq!(query.get("payDate"), Some(""));

    // The same orderId again: the same order, a fresh session; both open it.
    let again = cmpay
        .pay("WAPDirectPayConfirm", "given-up-1", &receiver.url)
        .await;
    assert_eq!(again.get("returnCode"), Some("000000"));
    assert_ne!(again.get("payUrl"), Some(first_url.as_str()));
    assert!(cmpay
        .cashier(again.must("payUrl"), false)
        .await
        .contains("cmpay-pay"));
    cmpay.confirm(&first_url, "pay").await;
    assert_eq!(
        cmpay.query("given-up-1").await.get("status"),
        Some("SUCCESS")
    );
    assert_eq!(receiver.wait_for(2, WAIT).await.len(), 2);
}

#[tokio::test]
async fn requests_are_checked_and_refusals_signed() {
    let cmpay = Cmpay::start().await;
    let receiver = Receiver::start().await;
    let refused = |fields: Fields| async {
        let (status, text) = cmpay.post(&cmpay.signed(fields, &PAY_ORDER)).await;
        assert_eq!(status, 200);
        let answer = common::cmpay::parse_answer(&text);
        assert!(
            verifies(&answer, &PAY_ANSWER),
            "refusals are signed too: {text}"
        );
        assert_eq!(answer.get("payUrl"), Some(""));
        answer.must("returnCode").to_owned()
    };
    let fields = || cmpay.pay_fields("WAPDirectPayConfirm", "checked-1", &receiver.url);

    // Tampered after signing.
    let mut tampered = cmpay.signed(fields(), &PAY_ORDER);
    tampered.set("amount", "1");
    let (_, text) = cmpay.post(&tampered).await;
    let answer = common::cmpay::parse_answer(&text);
    assert_eq!(answer.get("returnCode"), Some("IPS0008"));
    assert!(answer.must("message").starts_with("签名不符"), "{text}");
    // Another key's hmac.
    let mut other_key = fields();
    other_key.set(
        "hmac",
        &sign("another-key", &sign_data(&fields(), &PAY_ORDER)),
    );
    assert_eq!(
        common::cmpay::parse_answer(&cmpay.post(&other_key).await.1).get("returnCode"),
        Some("IPS0008")
    );

    let with = |name: &str, value: &str| {
        let mut fields = fields();
        fields.set(name, value);
        fields
    };
    for (name, value, code) in [
        ("merchantId", "888009900000002", "IPS0001"),
        ("signType", "RSA", "IPS0008"),
        ("version", "1.0.0", "RPM77040"),
        ("amount", "0", "MCG01014"),
        ("amount", "12.80", "MCG01014"),
        ("currency", "", "MCG01018"),
        ("currency", "01", "MCG01019"),
        ("orderDate", "", "MCG01024"),
        ("orderDate", "20260231", "MCG01025"),
        ("period", "", "MCG01027"),
        ("period", "0", "MCG01028"),
        ("periodUnit", "04", "MCG01030"),
        ("productName", "", "MCG01033"),
        ("productName", &"茶".repeat(51), "MCG01081"),
        ("callbackUrl", "", "SBX0001"),
        ("orderId", "", "SBX0001"),
    ] {
        assert_eq!(refused(with(name, value)).await, code, "{name}={value}");
    }
    assert_eq!(refused(with("type", "GWDirectPay")).await, "RPM77040");

    // Queries: unknown order, and a bad hmac.
    let query = cmpay.query("nobody").await;
    assert_eq!(query.get("returnCode"), Some("RPM22201"));
    assert!(query.must("message").starts_with("订单不存在"));
    let mut bad = cmpay.signed(
        Fields(
            [
                ("merchantId", MERCHANT_ID),
                ("requestId", "q1"),
                ("signType", "MD5"),
                ("type", "OrderQuery"),
                ("version", "2.0.0"),
                ("orderId", "nobody"),
            ]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ),
        &QUERY,
    );
    bad.set("orderId", "somebody");
    let answer = common::cmpay::parse_answer(&cmpay.post(&bad).await.1);
    assert_eq!(answer.get("returnCode"), Some("IPS0008"));
    assert!(verifies(&answer, &QUERY_ANSWER));

    // Registered domains: the loopback demo refuses another host.
    let local = Cmpay::start_with(SandboxConfig::local_demo()).await;
    let (_, text) = local
        .post(&local.signed(
            local.pay_fields("WAPDirectPayConfirm", "domains-1", &receiver.url),
            &PAY_ORDER,
        ))
        .await;
    assert_eq!(
        common::cmpay::parse_answer(&text).get("returnCode"),
        Some("SBX0001"),
        "{text}"
    );
    let mut on_loopback = local.pay_fields("WAPDirectPayConfirm", "domains-2", &receiver.url);
    on_loopback.set("callbackUrl", "http://127.0.0.1:8000/return");
    let (_, text) = local.post(&local.signed(on_loopback, &PAY_ORDER)).await;
    assert_eq!(
        common::cmpay::parse_answer(&text).get("returnCode"),
        Some("000000"),
        "{text}"
    );
}

#[tokio::test]
async fn refunds_are_bounded_and_a_repeated_request_refunds_once() {
    let cmpay = Cmpay::start().await;
    let receiver = Receiver::start().await;
    let pay_no = paid(&cmpay, "DirectPayConfirm", "refund-1", &receiver.url).await;

    let (first, text) = cmpay.refund("r-1", "refund-1", "5000").await;
    assert_eq!(first.get("returnCode"), Some("000000"));
    assert_eq!(first.get("status"), Some("SUCCESS"));
    assert_eq!(first.get("amount"), Some("5000"));
    assert_eq!(first.get("orderId"), Some("refund-1"));
    let serial = first.must("payNo");
    assert!(digits(serial, 18));
    assert_ne!(serial, pay_no);
    let (_, repeated) = cmpay.refund("r-1", "refund-1", "5000").await;
    assert_eq!(repeated, text, "the same answer again");

    let (too_much, _) = cmpay.refund("r-2", "refund-1", "7801").await;
    assert_eq!(too_much.get("returnCode"), Some("RPM22407"));
    let (rest, _) = cmpay.refund("r-3", "refund-1", "7800").await;
    assert_eq!(rest.get("status"), Some("SUCCESS"));
    let (over, _) = cmpay.refund("r-4", "refund-1", "1").await;
    assert_eq!(over.get("returnCode"), Some("RPM22407"));
    let (reused, _) = cmpay.refund("r-1", "refund-1", "100").await;
    assert_eq!(reused.get("returnCode"), Some("RPM22208"));
    let (zero, _) = cmpay.refund("r-5", "refund-1", "0").await;
    assert_eq!(zero.get("returnCode"), Some("MCG01088"));

    let (unknown, _) = cmpay.refund("r-6", "nobody", "100").await;
    assert_eq!(unknown.get("returnCode"), Some("RPM22201"));
    let answer = cmpay
        .pay("WAPDirectPayConfirm", "unpaid-1", &receiver.url)
        .await;
    assert_eq!(answer.get("returnCode"), Some("000000"));
    let (unpaid, _) = cmpay.refund("r-7", "unpaid-1", "100").await;
    assert_eq!(unpaid.get("returnCode"), Some("RPM22208"));

    paid(&cmpay, "DirectPayConfirm", "refund-2", &receiver.url).await;
    let control = cmpay.control(json!({ "refunds_fail": true })).await;
    assert_eq!(control["refunds_fail"], true);
    let (failed, _) = cmpay.refund("r-8", "refund-2", "100").await;
    assert_eq!(failed.get("returnCode"), Some("000000"));
    assert_eq!(failed.get("status"), Some("FAILED"));
    cmpay.control(json!({ "refunds_fail": false })).await;
    let (whole, _) = cmpay.refund("r-9", "refund-2", "12800").await;
    assert_eq!(
        whole.get("status"),
        Some("SUCCESS"),
        "a failed refund took nothing"
    );

    let statement = cmpay.get_text("/cmpay/phone").await;
    assert!(statement.contains("退款成功"));
    assert!(statement.contains("+¥50.00"), "{statement}");
    assert!(statement.contains("+¥78.00"));
    assert!(statement.contains("退款失败"));
}

#[tokio::test]
async fn notifications_follow_the_controls() {
    let cmpay = Cmpay::start().await;
    let control = cmpay.get_text("/cmpay/control").await;
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&control).unwrap(),
        json!({ "outage": false, "notify": "normal", "notify_delay_ms": 2000, "refunds_fail": false, "strict_refunds": false })
    );

    // Lost: nothing comes; the query tells.
    let receiver = Receiver::start().await;
    cmpay.control(json!({ "notify": "lost" })).await;
    paid(&cmpay, "WAPDirectPayConfirm", "lost-1", &receiver.url).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(receiver.received().is_empty());
    assert_eq!(cmpay.query("lost-1").await.get("status"), Some("SUCCESS"));

    // Duplicate: the same notification twice.
    let receiver = Receiver::start().await;
    cmpay.control(json!({ "notify": "duplicate" })).await;
    paid(&cmpay, "WAPDirectPayConfirm", "dup-1", &receiver.url).await;
    let notices = receiver.wait_for(2, WAIT).await;
    assert_eq!(notices.len(), 2);
    assert_eq!(open_notice(&notices[0]), open_notice(&notices[1]));

    // Tampered: the amount changed after signing, so the hmac fails.
    let receiver = Receiver::start().await;
    cmpay.control(json!({ "notify": "tampered" })).await;
    paid(&cmpay, "WAPDirectPayConfirm", "tampered-1", &receiver.url).await;
    let notices = receiver.wait_for(1, WAIT).await;
    assert_eq!(notices[0].fields.get("amount"), Some("12801"));
    assert!(
        !verifies(&notices[0].fields, &NOTIFY),
        "a verifier refuses it"
    );

    // Late, and retried until the merchant answers SUCCESS.
    let receiver = Receiver::failing_first(1).await;
    cmpay
        .control(json!({ "notify": "late", "notify_delay_ms": 300 }))
        .await;
    let started = std::time::Instant::now();
    paid(&cmpay, "WAPDirectPayConfirm", "late-1", &receiver.url).await;
    let notices = receiver.wait_for(2, WAIT).await;
    assert_eq!(notices.len(), 2, "retried after FAIL");
    assert!(notices[0].at - started >= Duration::from_millis(300));
    assert!(
        notices[1].at - notices[0].at >= Duration::from_millis(900),
        "about a second later"
    );
    assert_eq!(open_notice(&notices[0]), open_notice(&notices[1]));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(receiver.received().len(), 2, "SUCCESS ends it");
}

#[tokio::test]
async fn an_outage_stops_the_service_and_the_cashier() {
    let cmpay = Cmpay::start().await;
    let receiver = Receiver::start().await;
    let answer = cmpay
        .pay("WAPDirectPayConfirm", "outage-1", &receiver.url)
        .await;
    let pay_url = answer.must("payUrl").to_owned();

    cmpay.control(json!({ "outage": true })).await;
    let (status, _) = cmpay
        .post(&cmpay.signed(
            cmpay.pay_fields("WAPDirectPayConfirm", "outage-2", &receiver.url),
            &PAY_ORDER,
        ))
        .await;
    assert_eq!(status, 503);
    assert!(cmpay
        .cashier(&pay_url, false)
        .await
        .contains("data-testid=\"cmpay-error\""));
    assert!(cmpay
        .confirm(&pay_url, "pay")
        .await
        .contains("data-testid=\"cmpay-error\""));

    cmpay.control(json!({ "outage": false })).await;
    assert_eq!(cmpay.query("outage-1").await.get("status"), Some("WAITPAY"));
    assert!(cmpay.confirm(&pay_url, "pay").await.contains("支付成功"));
}

#[tokio::test]
async fn an_order_expires_after_its_period() {
    let cmpay = Cmpay::start().await;
    let receiver = Receiver::start().await;
    let mut fields = cmpay.pay_fields("WAPDirectPayConfirm", "expiring-1", &receiver.url);
    fields.set("period", "5");
    let answer = cmpay.call(fields.clone(), &PAY_ORDER, &PAY_ANSWER).await;
    let pay_url = answer.must("payUrl").to_owned();
    cmpay.clock.advance(Duration::from_secs(4 * 60));
    assert!(
        cmpay.cashier(&pay_url, false).await.contains("cmpay-pay"),
        "still payable"
    );

    cmpay.clock.advance(Duration::from_secs(61));
    let page = cmpay.cashier(&pay_url, false).await;
    assert!(page.contains("data-testid=\"cmpay-error\""), "{page}");
    assert!(page.contains("RPM99981"));
    assert!(cmpay.confirm(&pay_url, "pay").await.contains("RPM99981"));
    let again = cmpay.call(fields, &PAY_ORDER, &PAY_ANSWER).await;
    assert_eq!(again.get("returnCode"), Some("RPM99981"));
    assert_eq!(
        cmpay.query("expiring-1").await.get("status"),
        Some("FAILED")
    );

    // An unknown session is an error page too.
    let unknown = cmpay
        .get_text("/cmpay/wap/index.xhtml?sessionId=12345")
        .await;
    assert!(unknown.contains("data-testid=\"cmpay-error\""));
}
