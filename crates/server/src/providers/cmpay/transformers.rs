//! China Mobile's words and ours: the fields of each message in the order
//! its `hmac` takes them, order numbers, amounts in fen, Beijing dates,
//! the `k=v&…` text of answers and the `payUrl` inside one, and what a
//! `status` says.

use contract::{Currency, FailureReason, Money, UnixSeconds};
use time::macros::format_description;

use crate::providers::{ProviderError, ProviderStatus};

/// Fields of a message, in the order they came.
pub type Fields = Vec<(String, String)>;

/// The pay request's fields (`DirectPayConfirm`, `WAPDirectPayConfirm`),
/// in `hmac` order.
pub const PAY_REQUEST: [&str; 27] = [
    "characterSet",
    "callbackUrl",
    "notifyUrl",
    "ipAddress",
    "merchantId",
    "requestId",
    "signType",
    "type",
    "version",
    "amount",
    "bankAbbr",
    "currency",
    "orderDate",
    "orderId",
    "merAcDate",
    "period",
    "periodUnit",
    "merchantAbbr",
    "productDesc",
    "productId",
    "productName",
    "productNum",
    "reserved1",
    "reserved2",
    "userToken",
    "showUrl",
    "couponsFlag",
];

/// Its answer's.
pub const PAY_ANSWER: [&str; 8] = [
    "merchantId",
    "requestId",
    "signType",
    "type",
    "version",
    "returnCode",
    "message",
    "payUrl",
];

/// A notification's (`OfflineNotify`, and the browser's `PageNotify`).
pub const NOTIFICATION: [&str; 19] = [
    "merchantId",
    "payNo",
    "returnCode",
    "message",
    "signType",
    "type",
    "version",
    "amount",
    "amtItem",
    "bankAbbr",
    "mobile",
    "orderId",
    "payDate",
    "accountDate",
    "reserved1",
    "reserved2",
    "status",
    "orderDate",
    "fee",
];

/// `OrderQuery`'s request.
pub const QUERY_REQUEST: [&str; 6] = [
    "merchantId",
    "requestId",
    "signType",
    "type",
    "version",
    "orderId",
];

/// Its answer's: a notification's without `accountDate`.
pub const QUERY_ANSWER: [&str; 18] = [
    "merchantId",
    "payNo",
    "returnCode",
    "message",
    "signType",
    "type",
    "version",
    "amount",
    "amtItem",
    "bankAbbr",
    "mobile",
    "orderId",
    "payDate",
    "reserved1",
    "reserved2",
    "status",
    "orderDate",
    "fee",
];

/// `OrderRefund`'s request.
pub const REFUND_REQUEST: [&str; 7] = [
    "merchantId",
    "requestId",
    "signType",
    "type",
    "version",
    "orderId",
    "amount",
];

/// Its answer's.
pub const REFUND_ANSWER: [&str; 10] = [
    "merchantId",
    "payNo",
    "returnCode",
    "message",
    "signType",
    "type",
    "version",
    "amount",
    "orderId",
    "status",
];

/// The answer code of a request carried out.
pub const SUCCESS: &str = "000000";

/// 订单不存在, no such order: `RPM22201` in the pay interface's list,
/// `D22201` in the query's and refund's.
pub fn no_such_order(code: &str) -> bool {
    matches!(code, "RPM22201" | "D22201")
}

/// 订单状态异常, which also answers a `requestId` sent twice: for a refund
/// asked for again, the first may have been carried out.
pub fn state_or_repeat(code: &str) -> bool {
    matches!(code, "RPM22208" | "D22208")
}

/// True if `code` looks like one of the interface's answer codes (six
/// digits, or letters and digits such as `RPM22201`, `IPS0008`).
pub fn is_code(code: &str) -> bool {
    (4..=10).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// `period` and `periodUnit` for `seconds` of validity: minutes (00) while
/// they fit the field's three digits, else hours (01), else days (02);
/// rounded down, at least one.
pub fn period(seconds: i64) -> (String, &'static str) {
    let minutes = (seconds / 60).max(1);
    if minutes <= 999 {
        (minutes.to_string(), "00")
    } else if minutes / 60 <= 999 {
        ((minutes / 60).to_string(), "01")
    } else {
        ((minutes / (60 * 24)).min(999).to_string(), "02")
    }
}

/// A `productName` within the field's 50 bytes (cut at a character), never
/// empty.
pub fn product_name(description: &str) -> String {
    let mut name = String::new();
    for c in description.chars() {
        if name.len() + c.len_utf8() > 50 {
            break;
        }
        name.push(c);
    }
    if name.trim().is_empty() {
        "订单".into()
    } else {
        name
    }
}

/// A field's value, empty when absent.
pub fn get<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(key, _)| key == name)
        .map_or("", |(_, value)| value.as_str())
}

/// The values of `names`, in that order, from `fields`.
pub fn values<'a>(fields: &'a [(String, String)], names: &[&str]) -> Vec<&'a str> {
    names.iter().map(|name| get(fields, name)).collect()
}

pub use crate::providers::wire::{names_once, order_number as order_id, our_id};

/// A day as China Mobile writes it: `yyyyMMdd`, Beijing time.
pub fn beijing_date(at: UnixSeconds) -> String {
    crate::providers::wire::beijing(at, format_description!("[year][month][day]"))
}

/// `amount`: fen, as digits; the wallet takes CNY (`currency` 00).
pub fn amount(money: &Money) -> Result<String, ProviderError> {
    if money.currency != Currency::CNY || money.value <= 0 {
        return Err(ProviderError::Refused {
            code: "AMOUNT".into(),
            message: "China Mobile Pay takes a positive amount in CNY".into(),
        });
    }
    Ok(money.value.to_string())
}

/// An amount in fen as the wallet writes it.
pub fn fen(text: &str) -> Option<i64> {
    if text.is_empty() || text.len() > 12 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// The fields of an answer: `k=v&…`, not URL-encoded as a whole (`payUrl`
/// and `amtItem` keep their `=`), split at each field's first `=`; its
/// `message` and reserved fields come URL-encoded and are signed decoded.
pub fn answer_fields(text: &str) -> Result<Fields, ProviderError> {
    text.trim()
        .split('&')
        .map(|pair| {
            let (name, value) = pair.split_once('=').ok_or_else(|| {
                ProviderError::BadAnswer(format!("not a cmpayService answer near {pair:.40}"))
            })?;
            let value = match name {
                "message" | "reserved1" | "reserved2" => {
                    url::form_urlencoded::parse(format!("v={value}").as_bytes())
                        .next()
                        .map(|(_, decoded)| decoded.into_owned())
                        .unwrap_or_default()
                }
                _ => value.to_owned(),
            };
            Ok((name.to_owned(), value))
        })
        .collect()
}

/// Where the shopper goes, from a `payUrl`
/// (`url<hi:=>…<hi:$$>method<hi:=>POST<hi:$$>sessionId<hi:=>…`): the
/// cashier's address with its `sessionId`, navigated to with a GET as the
/// Java and .NET demo kits do (a form would need the cashier's host, which
/// the answer names, in the page's `form-action`, and its `http` address
/// would meet the browser's insecure-form warning).
pub fn cashier(pay_url: &str) -> Result<String, ProviderError> {
    let mut url = None;
    let mut session = None;
    for part in pay_url.split("<hi:$$>") {
        match part.split_once("<hi:=>") {
            Some(("url", value)) => url = Some(value),
            Some(("sessionId", value)) => session = Some(value),
            _ => {}
        }
    }
    let (Some(url), Some(session)) = (url, session) else {
        return Err(ProviderError::BadAnswer(format!(
            "a payUrl without its url or sessionId: {pay_url:.80}"
        )));
    };
    let web = url.starts_with("https://") || url.starts_with("http://");
    if !web || !session.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(ProviderError::BadAnswer(format!("a payUrl to {url:.80}")));
    }
    Ok(format!("{url}?sessionId={session}"))
}

/// What an order's `status` says (a notification's, or a query's).
pub fn payment_status(fields: &[(String, String)]) -> Result<ProviderStatus, ProviderError> {
    match get(fields, "status") {
        "SUCCESS" => {
            let pay_no = get(fields, "payNo");
            let value = fen(get(fields, "amount"));
            match (pay_no.is_empty(), value) {
                (false, Some(value)) => Ok(ProviderStatus::Paid {
                    transaction_id: pay_no.to_owned(),
                    amount: Money::new(value, Currency::CNY),
                }),
                _ => Err(ProviderError::BadAnswer(
                    "a payment without its payNo or amount".into(),
                )),
            }
        }
        "FAILED" => Ok(ProviderStatus::Failed(FailureReason::Declined)),
        // Only SUCCESS and FAILED are published: anything else is an
        // order not paid yet.
        _ => Ok(ProviderStatus::Pending),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pay_urls_read_as_the_cashier_and_its_method() {
        let pay_url = "url<hi:=>http://ipos.10086.cn/wap/index.xhtml<hi:$$>method<hi:=>POST<hi:$$>sessionId<hi:=>20160408201604080466790130";
        assert_eq!(
            cashier(pay_url).unwrap(),
            "http://ipos.10086.cn/wap/index.xhtml?sessionId=20160408201604080466790130"
        );
        assert!(cashier("url<hi:=>javascript:alert(1)<hi:$$>sessionId<hi:=>1").is_err());
        assert!(cashier("url<hi:=>https://ipos.10086.cn/wap").is_err());
    }

    #[test]
    fn answers_keep_their_equals_signs_and_decode_their_message() {
        let fields = answer_fields(
            "returnCode=000000&message=%E6%88%90%E5%8A%9F&payUrl=url<hi:=>https://x/y<hi:$$>sessionId<hi:=>1&amtItem=CNY_AMT=1#CMY_AMT=0",
        )
        .unwrap();
        assert_eq!(get(&fields, "message"), "成功");
        assert_eq!(
            get(&fields, "payUrl"),
            "url<hi:=>https://x/y<hi:$$>sessionId<hi:=>1"
        );
        assert_eq!(get(&fields, "amtItem"), "CNY_AMT=1#CMY_AMT=0");
    }

    #[test]
    fn fields_fit_their_sizes() {
        assert_eq!(period(15 * 60), ("15".into(), "00"));
        assert_eq!(period(24 * 60 * 60), ("24".into(), "01"));
        assert_eq!(period(90 * 24 * 60 * 60), ("90".into(), "02"));
        assert_eq!(period(10), ("1".into(), "00"));
        let long = "龙井".repeat(30);
        assert!(product_name(&long).len() <= 50);
        assert_eq!(product_name(" "), "订单");
        assert!(is_code("RPM22201") && is_code("000000") && !is_code("") && !is_code("<html>"));
    }

    #[test]
    fn ids_dates_and_amounts() {
        assert_eq!(order_id("pi_1f0c"), "pi1f0c");
        assert_eq!(our_id("pi1f0c").unwrap(), "pi_1f0c");
        // 2026-12-06T20:00:00Z is already the 7th in Beijing.
        assert_eq!(beijing_date(1_796_587_200), "20261207");
        assert_eq!(amount(&Money::new(12800, Currency::CNY)).unwrap(), "12800");
        assert_eq!(fen("12800"), Some(12800));
        assert_eq!(fen("1.00"), None);
    }
}
