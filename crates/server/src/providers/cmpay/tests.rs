//! The `hmac` rule against values others computed: the signed examples an
//! integrator published with its merchant key (changmingwei1/jfshare_java,
//! `jfshare_pay_serv/.../hebaopay/`: a WAP request, its answer, a
//! notification) and the samples of the interface's own PDFs (as carried by
//! joshLV/hs_pay, `document/第三方支付接口文档/中移动支付/`), which the key
//! of moutainhigh/happycat's `platform/cmpay` reproduces. None of them was
//! computed by this code.

use super::*;
use crate::clock::SystemClock;

/// jfshare's merchant key, published in its code.
const JFSHARE_KEY: &str = "UVLujdX0lBRBG3KPJbprdBRoJzXCM7KvGZ17wJ4v8M3uYYoVyO0iTiSmX3E4HMSO";
/// The key that reproduces the PDFs' samples (merchant 888009941120001).
const DOC_KEY: &str = "8Fb5j7RAYj4Dw3s6bZ11hVynY9oyx0LHdTz3Xww8xmNsfzGd1qABCerSz0ZRXMA3";

#[test]
fn a_published_wap_request_and_its_answer_sign_as_published() {
    let request = [
        "02",
        "http://h5.jfshare.com/share/html/pay-success.html",
        "http://120.24.153.102:13005/pay/notify/hebaowap",
        "127.0.0.1",
        "888009953110701",
        "ef3c240626f2e00ea032b4b00ff768f81",
        "MD5",
        "WAPDirectPayConfirm",
        "2.0.0",
        "1",
        "",
        "00",
        "20160408",
        "ef3c240626f2e00ea032b4b00ff768f81",
        "20160408",
        "24",
        "01",
        "",
        "dd",
        "",
        "jssss",
        "",
        "",
        "",
        "",
        "",
        "00",
    ];
    assert_eq!(request.len(), wire::PAY_REQUEST.len());
    assert_eq!(
        signature::hmac(JFSHARE_KEY, &request),
        "22526be0233a1d842d955f128fb24f61"
    );
    let answer = wire::answer_fields(
        "merchantId=888009953110701&requestId=ef3c240626f2e00ea032b4b00ff768f81&signType=MD5&type=WAPDirectPayConfirm&version=2.0.0&returnCode=000000&message=SUCCESS&payUrl=url<hi:=>http://ipos.10086.cn/wap/index.xhtml<hi:$$>method<hi:=>POST<hi:$$>sessionId<hi:=>20160408201604080466790130&hmac=89937537b442211b99e1d2a72d2f4e3a",
    )
    .unwrap();
    assert!(signature::verifies(
        JFSHARE_KEY,
        &wire::values(&answer, &wire::PAY_ANSWER),
        get(&answer, "hmac")
    ));
    assert!(!signature::verifies(
        DOC_KEY,
        &wire::values(&answer, &wire::PAY_ANSWER),
        get(&answer, "hmac")
    ));
}

fn form(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// jfshare's published `OfflineNotify`.
const NOTIFICATION: [(&str, &str); 20] = [
    ("merchantId", "888009953110701"),
    ("payNo", "201605226650729006"),
    ("returnCode", "000000"),
    ("message", "SUCCESS"),
    ("signType", "MD5"),
    ("type", "OfflineNotify"),
    ("version", "2.0.0"),
    ("amount", "1"),
    (
        "amtItem",
        "CNY_AMT=1#CMY_AMT=0#RED_AMT=0#VCH_AMT=0#POT_CHG_AMT=0",
    ),
    ("bankAbbr", ""),
    ("mobile", "150****8779"),
    ("orderId", "3404ab75feb1a15d9d34cce62385a5b2"),
    ("payDate", "20160522173209"),
    ("accountDate", "20160522"),
    ("reserved1", ""),
    ("reserved2", ""),
    ("status", "SUCCESS"),
    ("orderDate", "20160522"),
    ("fee", "0"),
    ("hmac", "d0d0de92470f9d00ea4ad3c817c3f17e"),
];

fn adapter(merchant_id: &str, key: &str) -> Cmpay {
    Cmpay::new(
        &CmpayConfig {
            merchant_id: merchant_id.into(),
            sign_key: key.into(),
            service_url: "https://ipos.10086.cn/ips/cmpayService".into(),
        },
        Arc::new(SystemClock),
    )
    .unwrap()
}

#[test]
fn a_published_notification_verifies_and_reads_as_a_payment() {
    let cmpay = adapter("888009953110701", JFSHARE_KEY);
    let notification = cmpay
        .parse_notification(&HeaderMap::new(), form(&NOTIFICATION).as_bytes())
        .unwrap();
    assert_eq!(
        notification.out_trade_no,
        "34_04ab75feb1a15d9d34cce62385a5b2"
    );
    assert_eq!(
        notification.about,
        Notified::Payment(ProviderStatus::Paid {
            transaction_id: "201605226650729006".into(),
            amount: contract::Money::new(1, contract::Currency::CNY),
        })
    );
    let mut tampered = NOTIFICATION;
    tampered[7] = ("amount", "100");
    assert!(cmpay
        .parse_notification(&HeaderMap::new(), form(&tampered).as_bytes())
        .is_err());
    let mut twice = NOTIFICATION.to_vec();
    twice.push(("amount", "100"));
    assert!(cmpay
        .parse_notification(&HeaderMap::new(), form(&twice).as_bytes())
        .is_err());
    let another_merchant = adapter("888009900000001", JFSHARE_KEY);
    assert!(another_merchant
        .parse_notification(&HeaderMap::new(), form(&NOTIFICATION).as_bytes())
        .is_err());
    let another_key = adapter("888009953110701", DOC_KEY);
    assert!(another_key
        .parse_notification(&HeaderMap::new(), form(&NOTIFICATION).as_bytes())
        .is_err());
}

#[test]
fn the_interface_s_own_samples_sign_as_printed() {
    // §7.3, a PageNotify: the notification order, accountDate included.
    let page_notify = [
        "888009941120001",
        "201901310005378468",
        "000000",
        "SUCCESS",
        "MD5",
        "PageNotify",
        "2.0.0",
        "100",
        "CNY_AMT=100#CMY_AMT=0#RED_AMT=0#VCH_AMT=0#POT_CHG_AMT=0",
        "ICBC",
        "151****0263",
        "201103091030298930",
        "20190131102735",
        "20190131",
        "11",
        "12",
        "SUCCESS",
        "20110309",
        "0",
    ];
    assert_eq!(page_notify.len(), wire::NOTIFICATION.len());
    assert_eq!(
        signature::hmac(DOC_KEY, &page_notify),
        "c0a1bfd0a3458ccb21d910739789bece"
    );
    // A query's answer, with Chinese reserved fields signed as UTF-8 and
    // no accountDate.
    let query_answer = wire::answer_fields(
        "merchantId=888009941120001&payNo=201902010005385674&returnCode=000000&message=SUCCESS&signType=MD5&type=OrderQuery&version=2.0.0&amount=100&amtItem=CNY_AMT=100#CMY_AMT=0#RED_AMT=0#VCH_AMT=0#POT_CHG_AMT=0&bankAbbr=ICBC&mobile=138****0773&orderId=2011030953515&payDate=20190131145219&reserved1=%E4%BF%9D%E7%95%99%E6%95%B0%E6%8D%AE1&reserved2=%E4%BF%9D%E7%95%99%E6%95%B0%E6%8D%AE2&status=FAILED&orderDate=20110309&fee=0&hmac=f6be881aed52114f3b9ff4c8345232f5",
    )
    .unwrap();
    assert_eq!(get(&query_answer, "reserved1"), "保留数据1");
    assert!(signature::verifies(
        DOC_KEY,
        &wire::values(&query_answer, &wire::QUERY_ANSWER),
        get(&query_answer, "hmac")
    ));
    assert_eq!(
        wire::payment_status(&query_answer).unwrap(),
        ProviderStatus::Failed(contract::FailureReason::Declined)
    );
    // The query and refund requests (their request ids as the PDF's text
    // lost a space from them).
    let query = [
        "888009941120001",
        "2011/3/9 15:34:47",
        "MD5",
        "OrderQuery",
        "2.0.0",
        "2011030953515",
    ];
    assert_eq!(
        signature::hmac(DOC_KEY, &query),
        "c0353365e28b13e9789973fbec15a9ef"
    );
    let refund = [
        "888009941120001",
        "2011/3/9 14:57:56",
        "MD5",
        "OrderRefund",
        "2.0.0",
        "2011030953515",
        "100",
    ];
    assert_eq!(
        signature::hmac(DOC_KEY, &refund),
        "cd21ac1f968afdd8a51094fa8a1f8315"
    );
}
