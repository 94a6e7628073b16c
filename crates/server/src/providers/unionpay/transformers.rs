//! UnionPay's words and ours: order numbers, Beijing times, amounts in
//! fen, the `k=v&…` text of its answers, and what its response codes say
//! of a payment or a refund.

use contract::{Currency, FailureReason, Money, RefundFailureReason, UnixSeconds};
use time::macros::format_description;

use crate::providers::{ProviderError, ProviderStatus, RefundState};

/// Fields of a message, in the order they came.
pub type Fields = Vec<(String, String)>;

/// A field's value, if present and not blank.
pub fn get<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(key, value)| key == name && !value.is_empty())
        .map(|(_, value)| value.as_str())
}

/// UnionPay's `orderId` for one of our ids (`pi_1f0c…` → `pi1f0c…`): 8 to
/// 32 letters and digits, no `_`.
pub fn order_id(id: &str) -> Result<String, ProviderError> {
    let order = super::super::wire::order_number(id);
    let fits = (8..=32).contains(&order.len()) && order.bytes().all(|b| b.is_ascii_alphanumeric());
    if !fits || id.find('_') != Some(2) {
        return Err(ProviderError::Refused {
            code: "ORDER_ID".into(),
            message: format!("{id} cannot be a UnionPay orderId"),
        });
    }
    Ok(order)
}

pub use crate::providers::wire::{names_once, our_id};

/// A moment as UnionPay writes it: `yyyyMMddHHmmss`, Beijing time.
pub fn beijing_time(at: UnixSeconds) -> String {
    crate::providers::wire::beijing(
        at,
        format_description!("[year][month][day][hour][minute][second]"),
    )
}

/// `txnAmt`: the amount in fen, as digits; UnionPay's gateway takes CNY
/// (`currencyCode` 156).
pub fn txn_amt(money: &Money) -> Result<String, ProviderError> {
    if money.currency != Currency::CNY || money.value <= 0 {
        return Err(ProviderError::Refused {
            code: "AMOUNT".into(),
            message: "UnionPay's gateway takes a positive amount in CNY".into(),
        });
    }
    Ok(money.value.to_string())
}

/// An amount in fen as UnionPay writes it: digits only.
pub fn fen(text: &str) -> Option<i64> {
    if text.is_empty() || text.len() > 12 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// The fields of a synchronous answer: `k=v&…`, not URL-encoded (values
/// keep their `=`, `+`, `/` and line breaks); an `&` inside `{…}` or `[…]`
/// belongs to its value, as UnionPay's SDKs read it.
pub fn answer_fields(text: &str) -> Result<Fields, ProviderError> {
    let mut fields = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    let text = text.trim_end_matches(['\r', '\n']);
    for (at, c) in text.char_indices() {
        match c {
            '{' | '[' => depth += 1,
            '}' | ']' => depth = depth.saturating_sub(1),
            '&' if depth == 0 => {
                fields.push(pair(&text[start..at])?);
                start = at + 1;
            }
            _ => {}
        }
    }
    if start < text.len() {
        fields.push(pair(&text[start..])?);
    }
    Ok(fields)
}

fn pair(text: &str) -> Result<(String, String), ProviderError> {
    let (name, value) = text.split_once('=').ok_or_else(|| {
        ProviderError::BadAnswer(format!("not a UnionPay answer near {text:.40}"))
    })?;
    Ok((name.to_owned(), value.to_owned()))
}

/// The fields of a form body (a notification, a front return).
pub fn form_fields(body: &[u8]) -> Fields {
    url::form_urlencoded::parse(body)
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect()
}

/// Success.
pub const SUCCESS: &str = "00";
/// "Success with a defect": UnionPay's demos take it as success.
pub const SUCCESS_WITH_DEFECT: &str = "A6";
/// 查无此交易: no such transaction (for a payment: not attempted yet).
pub const NO_SUCH_TRANSACTION: &str = "34";
/// 重复交易: a request with this `orderId` and `txnTime` was made before.
pub const DUPLICATE: &str = "12";

/// 03 timeout, 04 state unknown, 05 accepted: not decided yet.
pub fn undecided(code: &str) -> bool {
    matches!(code, "03" | "04" | "05")
}

/// Which of a message's codes says how the transaction went: a query's
/// `respCode` says only that the query worked, its `origRespCode` how the
/// transaction went; a notification's `respCode` is the transaction's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Said {
    /// An answer of `queryTrans.do`.
    Query,
    /// A notification (or a front return).
    Notification,
}

fn outcome(fields: &[(String, String)], said: Said) -> Result<&str, ProviderError> {
    let name = match said {
        Said::Query => "origRespCode",
        Said::Notification => "respCode",
    };
    get(fields, name).ok_or_else(|| ProviderError::BadAnswer(format!("no {name}")))
}

/// What a query answer or a notification of a payment says.
pub fn payment_status(
    fields: &[(String, String)],
    said: Said,
) -> Result<ProviderStatus, ProviderError> {
    let outcome = outcome(fields, said)?;
    if outcome == SUCCESS || outcome == SUCCESS_WITH_DEFECT {
        let transaction_id = get(fields, "queryId")
            .ok_or_else(|| ProviderError::BadAnswer("a payment without its queryId".into()))?;
        let value = get(fields, "txnAmt")
            .and_then(fen)
            .ok_or_else(|| ProviderError::BadAnswer("a payment without its txnAmt".into()))?;
        return Ok(ProviderStatus::Paid {
            transaction_id: transaction_id.to_owned(),
            amount: Money::new(value, Currency::CNY),
        });
    }
    if undecided(outcome) {
        // A QR code scanned and being confirmed in the wallet is the
        // shopper's; a card page waiting for its SMS code is still open
        // (the shopper may have left it).
        return Ok(if get(fields, "txnSubType") == Some("07") {
            ProviderStatus::Processing
        } else {
            ProviderStatus::Pending
        });
    }
    Ok(ProviderStatus::Failed(match outcome {
        // 38 risk control, 42 paid after its time, 60-78 the card's bank.
        "38" | "42" => FailureReason::ProviderRefused,
        code if code.starts_with('6') || code.starts_with('7') => FailureReason::Declined,
        _ => FailureReason::ProviderRefused,
    }))
}

/// What a query answer or a notification of a refund or cancellation says.
pub fn refund_state(fields: &[(String, String)], said: Said) -> Result<RefundState, ProviderError> {
    Ok(match outcome(fields, said)? {
        SUCCESS | SUCCESS_WITH_DEFECT => RefundState::Succeeded,
        code if undecided(code) => RefundState::Pending,
        _ => RefundState::Failed(RefundFailureReason::ProviderRefused),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_ids_become_order_ids_and_back() {
        let order = order_id("pi_1f0c2b3a4d5e6f708192a3b4").unwrap();
        assert_eq!(order, "pi1f0c2b3a4d5e6f708192a3b4");
        assert_eq!(our_id(&order).unwrap(), "pi_1f0c2b3a4d5e6f708192a3b4");
        assert!(order_id("pi_1").is_err(), "too short");
        assert!(order_id("pi_1f0c-2b3a4d5e6f708192a3b4").is_err());
        assert!(our_id("p").is_none());
    }

    #[test]
    fn times_are_beijing_s() {
        // 2026-12-06T00:30:00Z is 08:30 in Beijing.
        assert_eq!(beijing_time(1_796_517_000), "20261206083000");
    }

    #[test]
    fn amounts_are_fen_digits() {
        assert_eq!(txn_amt(&Money::new(12800, Currency::CNY)).unwrap(), "12800");
        assert!(txn_amt(&Money::new(100, Currency::USD)).is_err());
        assert_eq!(fen("1"), Some(1));
        assert_eq!(fen("-1"), None);
        assert_eq!(fen("1.00"), None);
        assert_eq!(fen(""), None);
    }

    #[test]
    fn answers_split_outside_braces_only() {
        let fields =
            answer_fields("a=1&reqReserved={x=1&y=2}&cert=--AB+/=\r\nCD==&b=\r\n").unwrap();
        assert_eq!(
            fields,
            vec![
                ("a".into(), "1".into()),
                ("reqReserved".into(), "{x=1&y=2}".into()),
                ("cert".into(), "--AB+/=\r\nCD==".into()),
                ("b".into(), "".into()),
            ]
        );
        assert!(answer_fields("<html>").is_err());
    }

    fn with(pairs: &[(&str, &str)]) -> Fields {
        pairs
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect()
    }

    #[test]
    fn response_codes_read_as_states() {
        let paid = with(&[
            ("respCode", "00"),
            ("origRespCode", "00"),
            ("queryId", "782209081322060674028"),
            ("txnAmt", "12800"),
        ]);
        assert_eq!(
            payment_status(&paid, Said::Query).unwrap(),
            ProviderStatus::Paid {
                transaction_id: "782209081322060674028".into(),
                amount: Money::new(12800, Currency::CNY)
            }
        );
        let scanned = with(&[
            ("respCode", "00"),
            ("origRespCode", "05"),
            ("txnSubType", "07"),
        ]);
        assert_eq!(
            payment_status(&scanned, Said::Query).unwrap(),
            ProviderStatus::Processing
        );
        let sms = with(&[
            ("respCode", "00"),
            ("origRespCode", "05"),
            ("txnSubType", "01"),
        ]);
        assert_eq!(
            payment_status(&sms, Said::Query).unwrap(),
            ProviderStatus::Pending
        );
        let short = with(&[("respCode", "00"), ("origRespCode", "64")]);
        assert_eq!(
            payment_status(&short, Said::Query).unwrap(),
            ProviderStatus::Failed(FailureReason::Declined)
        );
        assert!(
            payment_status(
                &with(&[("respCode", "00"), ("origRespCode", "00")]),
                Said::Query
            )
            .is_err(),
            "paid, but by which payment?"
        );
        let query_id = ("queryId", "782209081322060674028");
        let without_outcome = with(&[("respCode", "00"), query_id, ("txnAmt", "12800")]);
        assert!(
            payment_status(&without_outcome, Said::Query).is_err(),
            "a query that worked says nothing of the payment by itself"
        );
        assert!(matches!(
            payment_status(&without_outcome, Said::Notification),
            Ok(ProviderStatus::Paid { .. })
        ));
        assert_eq!(
            refund_state(
                &with(&[("respCode", "00"), ("origRespCode", "03")]),
                Said::Query
            )
            .unwrap(),
            RefundState::Pending
        );
    }
}
