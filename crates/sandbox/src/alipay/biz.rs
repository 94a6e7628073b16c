//! Reading `biz_content`: the business parameters of a call, with the rules
//! Alipay documents for them.
//!
//! Documented (opendocs open/05osv9, 02ekfs, 02ivbs; Alipay's SDK samples):
//! `out_trade_no` has at most 64 letters, digits and underscores; amounts
//! are yuan with two decimals (the samples send them as JSON strings or
//! numbers); `subject` at most 256 characters; `timeout_express` is 1m to
//! 15d written `90m`, `3h`, `2d` (no decimals) or `1c`; `time_expire` is
//! `yyyy-MM-dd HH:mm:ss` (older WAP pages: `yyyy-MM-dd HH:mm`) and wins over
//! `timeout_express`; a malformed amount is ACQ.INVALID_PARAMETER ("参数无效：
//! 订单总金额格式错误"), too large an order ACQ.TOTAL_FEE_EXCEED, a
//! `time_expire` already past ACQ.NOW_TIME_AFTER_EXPIRE_TIME_ERROR.
//!
//! Assumed: a missing or malformed business parameter is 40004
//! ACQ.INVALID_PARAMETER naming it (the gateway's 40001 codes are for the
//! common parameters); `subject`'s advice against `/ = &` is not enforced.

use serde_json::{Map, Value};

use super::money::{parse_yuan, AmountError};
use super::trades::Timeout;
use super::wire::Refusal;

/// `timeout_express`'s range: 1 minute to 15 days.
const TIMEOUT_RANGE_SECONDS: std::ops::RangeInclusive<i64> = 60..=15 * 24 * 60 * 60;

/// A call's business parameters.
pub(crate) struct Biz<'a> {
    map: &'a Map<String, Value>,
}

impl<'a> Biz<'a> {
    pub(crate) fn new(map: &'a Map<String, Value>) -> Biz<'a> {
        Biz { map }
    }

    /// A field as text (a string, or a number's digits), when present and
    /// not empty.
    pub(crate) fn text(&self, name: &str) -> Option<String> {
        match self.map.get(name)? {
            Value::String(text) if !text.is_empty() => Some(text.clone()),
            Value::Number(number) => Some(number.to_string()),
            _ => None,
        }
    }

    /// A field that must be there.
    pub(crate) fn required(&self, name: &str) -> Result<String, Refusal> {
        self.text(name)
            .ok_or_else(|| Refusal::invalid_parameter(format!("缺少必选参数{name}")))
    }

    /// An optional field of at most `max` characters.
    pub(crate) fn optional(&self, name: &str, max: usize) -> Result<Option<String>, Refusal> {
        match self.text(name) {
            Some(text) if text.chars().count() > max => Err(Refusal::invalid_parameter(format!(
                "{name}长度不能超过{max}"
            ))),
            other => Ok(other),
        }
    }

    /// `out_trade_no`, required.
    pub(crate) fn out_trade_no(&self) -> Result<String, Refusal> {
        let no = self.required("out_trade_no")?;
        check_out_trade_no(&no)?;
        Ok(no)
    }

    /// `trade_no` and `out_trade_no`: at least one.
    pub(crate) fn trade_ref(&self) -> Result<(Option<String>, Option<String>), Refusal> {
        let trade_no = self.optional("trade_no", 64)?;
        let out_trade_no = self.optional("out_trade_no", 64)?;
        if trade_no.is_none() && out_trade_no.is_none() {
            return Err(Refusal::invalid_parameter(
                "out_trade_no和trade_no不能同时为空",
            ));
        }
        Ok((trade_no, out_trade_no))
    }

    /// `subject`, required.
    pub(crate) fn subject(&self) -> Result<String, Refusal> {
        let subject = self.required("subject")?;
        if subject.chars().count() > 256 {
            return Err(Refusal::invalid_parameter("subject长度不能超过256"));
        }
        Ok(subject)
    }

    /// `total_amount` in fen.
    pub(crate) fn total_amount(&self) -> Result<i64, Refusal> {
        match parse_yuan(&self.required("total_amount")?) {
            Ok(fen) => Ok(fen),
            Err(AmountError::Malformed) => Err(Refusal::invalid_parameter("订单总金额格式错误")),
            Err(AmountError::OutOfRange) if self.text("total_amount").is_some_and(is_zero) => {
                Err(Refusal::invalid_parameter("订单总金额必须大于0"))
            }
            Err(AmountError::OutOfRange) => Err(Refusal::business(
                "ACQ.TOTAL_FEE_EXCEED",
                "订单金额超过限额",
            )),
        }
    }

    /// `refund_amount` in fen.
    pub(crate) fn refund_amount(&self) -> Result<i64, Refusal> {
        match parse_yuan(&self.required("refund_amount")?) {
            Ok(fen) => Ok(fen),
            Err(AmountError::Malformed) => Err(Refusal::invalid_parameter("退款金额格式错误")),
            Err(AmountError::OutOfRange) => Err(Refusal::business(
                "ACQ.REASON_TRADE_REFUND_FEE_ERR",
                "退款金额无效",
            )),
        }
    }

    /// `time_expire` or `timeout_express` (the former wins).
    pub(crate) fn timeout(&self, now: i64) -> Result<Option<Timeout>, Refusal> {
        if let Some(text) = self.text("time_expire") {
            let at = crate::clock::parse_cst_datetime(&text, true).ok_or_else(|| {
                Refusal::invalid_parameter("time_expire格式应为yyyy-MM-dd HH:mm:ss")
            })?;
            if at <= now {
                return Err(Refusal::business(
                    "ACQ.NOW_TIME_AFTER_EXPIRE_TIME_ERROR",
                    "当前时间已超过订单绝对超时时间",
                ));
            }
            return Ok(Some(Timeout::At(at)));
        }
        self.text("timeout_express")
            .map(|text| parse_timeout_express(&text))
            .transpose()
    }
}

/// At most 64 letters, digits and underscores.
pub(crate) fn check_out_trade_no(no: &str) -> Result<(), Refusal> {
    let ok =
        (1..=64).contains(&no.len()) && no.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(Refusal::invalid_parameter(
            "out_trade_no应为64个字符以内，仅支持字母、数字、下划线",
        ))
    }
}

fn is_zero(text: String) -> bool {
    text.bytes().all(|b| b == b'0' || b == b'.')
}

/// `90m`, `3h`, `15d` or `1c`.
fn parse_timeout_express(text: &str) -> Result<Timeout, Refusal> {
    let refuse = || Refusal::invalid_parameter("timeout_express取值范围为1m～15d，如90m、3h、1c");
    if text == "1c" {
        return Ok(Timeout::EndOfDay);
    }
    let unit = match text.chars().last() {
        Some('m') => 60,
        Some('h') => 60 * 60,
        Some('d') => 24 * 60 * 60,
        _ => return Err(refuse()),
    };
    let count = &text[..text.len() - 1];
    if count.is_empty() || !count.bytes().all(|b| b.is_ascii_digit()) || count.len() > 6 {
        return Err(refuse());
    }
    let seconds = count.parse::<i64>().map_err(|_| refuse())? * unit;
    if TIMEOUT_RANGE_SECONDS.contains(&seconds) {
        Ok(Timeout::After(seconds))
    } else {
        Err(refuse())
    }
}

/// An absolute http(s) URL (`notify_url`, `return_url`, `quit_url`).
pub(crate) fn is_web_url(url: &str) -> bool {
    (url.starts_with("https://") || url.starts_with("http://"))
        && crate::urls::url_host(url).is_some()
        && !url.chars().any(|c| c.is_control() || c == ' ')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn biz(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    #[test]
    fn reads_amounts_given_as_strings_or_numbers() {
        let map = biz(json!({ "total_amount": 88.88 }));
        assert_eq!(Biz::new(&map).total_amount(), Ok(8888));
        let map = biz(json!({ "total_amount": "128.00" }));
        assert_eq!(Biz::new(&map).total_amount(), Ok(12800));
        let map = biz(json!({ "total_amount": "12.345" }));
        assert_eq!(
            Biz::new(&map).total_amount().err().map(|r| r.sub_code),
            Some("ACQ.INVALID_PARAMETER".to_owned())
        );
        let map = biz(json!({ "total_amount": "100000000.01" }));
        assert_eq!(
            Biz::new(&map).total_amount().err().map(|r| r.sub_code),
            Some("ACQ.TOTAL_FEE_EXCEED".to_owned())
        );
        let map = biz(json!({}));
        assert!(Biz::new(&map)
            .total_amount()
            .err()
            .is_some_and(|r| r.sub_msg.contains("total_amount")));
    }

    #[test]
    fn reads_timeouts() {
        assert_eq!(parse_timeout_express("90m"), Ok(Timeout::After(5400)));
        assert_eq!(parse_timeout_express("15d"), Ok(Timeout::After(1_296_000)));
        assert_eq!(parse_timeout_express("1c"), Ok(Timeout::EndOfDay));
        for bad in ["1.5h", "0m", "16d", "m", "10s", "-5m", "", "5"] {
            assert!(parse_timeout_express(bad).is_err(), "{bad:?}");
        }
        let map = biz(json!({ "time_expire": "2018-06-08 10:40:00", "timeout_express": "5m" }));
        assert_eq!(
            Biz::new(&map).timeout(1_528_425_296),
            Ok(Some(Timeout::At(1_528_425_600)))
        );
        assert!(Biz::new(&map).timeout(1_528_425_600).is_err());
    }

    #[test]
    fn checks_out_trade_no() {
        assert!(check_out_trade_no("pi_20240101_0001").is_ok());
        for bad in ["", "has-dash", "空格", &"x".repeat(65)] {
            assert!(check_out_trade_no(bad).is_err(), "{bad:?}");
        }
    }
}
