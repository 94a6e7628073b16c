//! Alipay's OpenAPI request and answer bodies, with Alipay's field names,
//! and their conversions from and to the server's terms: yuan strings from
//! integer fen and back (exactly, never through floats), Beijing times,
//! `trade_status` and `refund_status`.

use contract::{Currency, Money, UnixSeconds};
use serde::{Deserialize, Serialize};
use time::macros::format_description;

use crate::providers::{ProviderError, ProviderStatus};

/// `biz_content` of `alipay.trade.precreate` (a QR code to scan).
#[derive(Debug, Serialize)]
pub struct Precreate<'a> {
    pub out_trade_no: &'a str,
    pub total_amount: String,
    pub subject: &'a str,
    pub time_expire: String,
}

/// `biz_content` of `alipay.trade.wap.pay` (the phone's cashier).
#[derive(Debug, Serialize)]
pub struct WapPay<'a> {
    pub out_trade_no: &'a str,
    pub total_amount: String,
    pub subject: &'a str,
    pub product_code: &'static str,
    pub quit_url: &'a str,
    pub time_expire: String,
}

/// `biz_content` of `alipay.trade.create` (inside the Alipay app).
#[derive(Debug, Serialize)]
pub struct Create<'a> {
    pub out_trade_no: &'a str,
    pub total_amount: String,
    pub subject: &'a str,
    pub product_code: &'static str,
    pub time_expire: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub buyer_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub buyer_open_id: Option<&'a str>,
}

/// `biz_content` naming a trade (query, close).
#[derive(Debug, Serialize)]
pub struct TradeRef<'a> {
    pub out_trade_no: &'a str,
}

/// `biz_content` of `alipay.trade.refund`.
#[derive(Debug, Serialize)]
pub struct Refund<'a> {
    pub out_trade_no: &'a str,
    pub refund_amount: String,
    pub out_request_no: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refund_reason: Option<&'a str>,
}

/// `biz_content` of `alipay.trade.fastpay.refund.query`.
#[derive(Debug, Serialize)]
pub struct RefundQuery<'a> {
    pub out_trade_no: &'a str,
    pub out_request_no: &'a str,
}

/// The fields every answer object has.
#[derive(Debug, Deserialize)]
pub struct Common {
    /// `alipay.system.oauth.token` answers success with no code at all.
    #[serde(default = "success")]
    pub code: String,
    #[serde(default)]
    pub msg: Option<String>,
    #[serde(default)]
    pub sub_code: Option<String>,
    #[serde(default)]
    pub sub_msg: Option<String>,
}

fn success() -> String {
    "10000".into()
}

/// `alipay.trade.precreate`'s answer.
#[derive(Debug, Deserialize)]
pub struct PrecreateAnswer {
    pub out_trade_no: String,
    pub qr_code: String,
}

/// `alipay.trade.create`'s answer.
#[derive(Debug, Deserialize)]
pub struct CreateAnswer {
    pub out_trade_no: String,
    pub trade_no: String,
}

/// `alipay.trade.query`'s answer.
#[derive(Debug, Deserialize)]
pub struct Trade {
    pub out_trade_no: String,
    #[serde(default)]
    pub trade_no: Option<String>,
    pub trade_status: String,
    #[serde(default)]
    pub total_amount: Option<String>,
    #[serde(default)]
    pub buyer_logon_id: Option<String>,
    #[serde(default)]
    pub buyer_user_id: Option<String>,
    #[serde(default)]
    pub buyer_open_id: Option<String>,
}

/// `alipay.trade.refund`'s answer.
#[derive(Debug, Deserialize)]
pub struct RefundAnswer {
    pub out_trade_no: String,
    /// `Y` when money moved with this request.
    #[serde(default)]
    pub fund_change: Option<String>,
}

/// `alipay.trade.fastpay.refund.query`'s answer.
#[derive(Debug, Deserialize)]
pub struct RefundQueryAnswer {
    #[serde(default)]
    pub out_trade_no: Option<String>,
    #[serde(default)]
    pub out_request_no: Option<String>,
    #[serde(default)]
    pub refund_amount: Option<String>,
    #[serde(default)]
    pub refund_status: Option<String>,
}

/// `alipay.system.oauth.token`'s answer.
#[derive(Debug, Deserialize)]
pub struct Token {
    #[serde(default)]
    pub user_id: Option<String>,
    #[serde(default)]
    pub open_id: Option<String>,
}

/// Fen as Alipay's yuan string: `12800` → `"128.00"`.
pub fn yuan(money: &Money) -> Result<String, ProviderError> {
    if money.currency != Currency::CNY {
        return Err(ProviderError::Refused {
            code: "UNSUPPORTED_CURRENCY".into(),
            message: "Alipay's domestic trades are in CNY".into(),
        });
    }
    Ok(money.to_major_string())
}

/// Alipay's yuan string back into fen, exactly: at most two decimals, no
/// sign, no exponent.
pub fn fen(yuan: &str) -> Option<i64> {
    let (whole, fraction) = yuan.split_once('.').unwrap_or((yuan, ""));
    let digits = |text: &str| !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || fraction.len() > 2 || (!fraction.is_empty() && !digits(fraction)) {
        return None;
    }
    let cents = format!("{fraction:0<2}");
    whole
        .parse::<i64>()
        .ok()?
        .checked_mul(100)?
        .checked_add(cents.parse::<i64>().ok()?)
}

/// A time as Alipay writes it: `yyyy-MM-dd HH:mm:ss`, Beijing time.
pub fn alipay_time(at: UnixSeconds) -> String {
    crate::providers::wire::beijing(
        at,
        format_description!("[year]-[month]-[day] [hour]:[minute]:[second]"),
    )
}

/// What a trade's status says of its order. A trade waiting for its buyer
/// is being paid once a buyer has it (a scanned code, the in-app cashier),
/// and merely open before.
pub fn status(trade: &Trade, total: Option<&str>) -> Result<ProviderStatus, ProviderError> {
    Ok(match trade.trade_status.as_str() {
        "TRADE_SUCCESS" | "TRADE_FINISHED" => {
            let bad = |what: &str| ProviderError::BadAnswer(format!("a paid trade without {what}"));
            let transaction_id = trade.trade_no.clone().ok_or_else(|| bad("trade_no"))?;
            let amount = total
                .or(trade.total_amount.as_deref())
                .ok_or_else(|| bad("total_amount"))?;
            let value = fen(amount)
                .ok_or_else(|| ProviderError::BadAnswer(format!("total_amount {amount:?}")))?;
            ProviderStatus::Paid {
                transaction_id,
                amount: Money::new(value, Currency::CNY),
            }
        }
        "WAIT_BUYER_PAY" => {
            let buyer = trade.buyer_logon_id.is_some()
                || trade.buyer_user_id.is_some()
                || trade.buyer_open_id.is_some();
            if buyer {
                ProviderStatus::Processing
            } else {
                ProviderStatus::Pending
            }
        }
        // Unpaid and closed, or paid and then refunded in full (a payment
        // recorded earlier stays recorded).
        "TRADE_CLOSED" => ProviderStatus::Closed,
        other => return Err(ProviderError::BadAnswer(format!("trade_status {other:?}"))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuan_strings_are_read_exactly() {
        assert_eq!(fen("128.00"), Some(12800));
        assert_eq!(fen("0.01"), Some(1));
        assert_eq!(fen("0.1"), Some(10));
        assert_eq!(fen("128"), Some(12800));
        assert_eq!(fen("100000000.00"), Some(10_000_000_000));
        for bad in [
            "",
            ".5",
            "1.234",
            "-1.00",
            "1e2",
            "1.0x",
            "12,80",
            "9999999999999999999.00",
        ] {
            assert_eq!(fen(bad), None, "{bad:?}");
        }
        assert_eq!(yuan(&Money::new(12800, Currency::CNY)).unwrap(), "128.00");
        assert_eq!(yuan(&Money::new(1, Currency::CNY)).unwrap(), "0.01");
    }

    #[test]
    fn times_are_beijing_time() {
        assert_eq!(alipay_time(1_796_090_400), "2026-12-01 10:00:00");
    }

    fn trade(json: &str) -> Trade {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn trade_statuses_become_statuses() {
        let paid = trade(
            r#"{"out_trade_no":"pi_1","trade_no":"2026120622001400001","trade_status":"TRADE_SUCCESS","total_amount":"128.00"}"#,
        );
        assert_eq!(
            status(&paid, None).unwrap(),
            ProviderStatus::Paid {
                transaction_id: "2026120622001400001".into(),
                amount: Money::new(12800, Currency::CNY)
            }
        );
        let open = trade(r#"{"out_trade_no":"pi_1","trade_status":"WAIT_BUYER_PAY"}"#);
        assert_eq!(status(&open, None).unwrap(), ProviderStatus::Pending);
        let scanned = trade(
            r#"{"out_trade_no":"pi_1","trade_status":"WAIT_BUYER_PAY","buyer_logon_id":"158****1562"}"#,
        );
        assert_eq!(status(&scanned, None).unwrap(), ProviderStatus::Processing);
        let closed = trade(r#"{"out_trade_no":"pi_1","trade_status":"TRADE_CLOSED"}"#);
        assert_eq!(status(&closed, None).unwrap(), ProviderStatus::Closed);
        let odd = trade(
            r#"{"out_trade_no":"pi_1","trade_no":"1","trade_status":"TRADE_SUCCESS","total_amount":"1.001"}"#,
        );
        assert!(status(&odd, None).is_err());
    }
}
