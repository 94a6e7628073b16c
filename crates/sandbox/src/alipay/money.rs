//! Alipay's amounts: yuan with at most two decimals, "from 0.01 to
//! 100000000" (`total_amount`, `refund_amount`; opendocs open/05osv9,
//! 02ekfs). The emulator keeps integer fen and never goes through floats;
//! it writes amounts back with two decimals (`crate::html::yuan`), as the
//! answers and notifications in Alipay's samples do ("88.88", "0.00").

/// The largest amount, in fen: 100000000 yuan.
pub(crate) const MAX_FEN: i64 = 100_000_000 * 100;

/// Why an amount is refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum AmountError {
    /// Not digits with an optional point and one or two decimals.
    Malformed,
    /// Below 0.01 or above 100000000.
    OutOfRange,
}

/// Reads a yuan amount into fen: `88.88` -> 8888, `9` -> 900, `0.5` -> 50.
pub(crate) fn parse_yuan(text: &str) -> Result<i64, AmountError> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    let well_formed = !whole.is_empty()
        && whole.len() <= 12
        && digits(whole)
        && fraction.len() <= 2
        && digits(fraction)
        && !(text.contains('.') && fraction.is_empty());
    if !well_formed {
        return Err(AmountError::Malformed);
    }
    let whole: i64 = whole.parse().map_err(|_| AmountError::Malformed)?;
    let cents: i64 = match fraction.len() {
        0 => 0,
        1 => {
            fraction
                .parse::<i64>()
                .map_err(|_| AmountError::Malformed)?
                * 10
        }
        _ => fraction.parse().map_err(|_| AmountError::Malformed)?,
    };
    let fen = whole * 100 + cents;
    if (1..=MAX_FEN).contains(&fen) {
        Ok(fen)
    } else {
        Err(AmountError::OutOfRange)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_yuan_exactly() {
        assert_eq!(parse_yuan("88.88"), Ok(8888));
        assert_eq!(parse_yuan("128.00"), Ok(12800));
        assert_eq!(parse_yuan("9"), Ok(900));
        assert_eq!(parse_yuan("0.5"), Ok(50));
        assert_eq!(parse_yuan("0.01"), Ok(1));
        assert_eq!(parse_yuan("100000000"), Ok(MAX_FEN));
    }

    #[test]
    fn refuses_what_is_not_an_amount() {
        for text in [
            "", "abc", "1.234", "1.", ".5", "-1", "1e3", "1,00", " 1", "0x10", "１",
        ] {
            assert_eq!(parse_yuan(text), Err(AmountError::Malformed), "{text:?}");
        }
        for text in ["0", "0.00", "100000000.01", "999999999999"] {
            assert_eq!(parse_yuan(text), Err(AmountError::OutOfRange), "{text:?}");
        }
    }
}
