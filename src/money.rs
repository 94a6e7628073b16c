//! Amounts and dates for people to read. Money stays integer minor units
//! until this point. The words are this crate's own, not the browser's
//! `Intl`: a server drawing the first screen writes exactly what the
//! browser will draw over it, and a slow phone does not spend a quarter of
//! a second loading `Intl`'s data. `tests/components.rs` checks every
//! currency and month against Chromium's `Intl` in each language.

use contract::{Currency, Money};

use crate::i18n::Locale;

/// The amount as the shopper's locale writes it, such as `¥128.00`,
/// `US$1,234.50` (zh-CN) or `CHF 12.00`.
pub fn format(money: &Money, locale: Locale) -> String {
    let exact = money.to_major_string();
    let (sign, digits) = match exact.strip_prefix('-') {
        Some(digits) => ("-", digits),
        None => ("", exact.as_str()),
    };
    let (whole, fraction) = match digits.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (digits, None),
    };
    let mut written = String::from(sign);
    match symbol(money.currency, locale) {
        Some(symbol) => written.push_str(symbol),
        // CLDR has no symbol: the code, then a no-break space.
        None => {
            written.push_str(money.currency.code());
            written.push('\u{a0}');
        }
    }
    for (index, digit) in whole.chars().enumerate() {
        if index > 0 && (whole.len() - index) % 3 == 0 {
            written.push(',');
        }
        written.push(digit);
    }
    if let Some(fraction) = fraction {
        written.push('.');
        written.push_str(fraction);
    }
    written
}

/// The currency's symbol in `locale` (CLDR's, as `Intl` shows it with
/// `currencyDisplay: "symbol"`; the yuan's narrow "¥", this checkout's home
/// currency, rather than "CN¥").
fn symbol(currency: Currency, locale: Locale) -> Option<&'static str> {
    let zh = locale != Locale::En;
    Some(match currency.code() {
        "CNY" => "¥",
        "HKD" => "HK$",
        "TWD" if locale == Locale::ZhTw => "$",
        "TWD" => "NT$",
        "USD" if zh => "US$",
        "USD" => "$",
        "EUR" => "€",
        "GBP" => "£",
        "JPY" if locale == Locale::ZhCn => "JP¥",
        "JPY" => "¥",
        "KRW" if locale == Locale::ZhTw => "￦",
        "KRW" => "₩",
        "AUD" if zh => "AU$",
        "AUD" => "A$",
        "CAD" => "CA$",
        "NZD" => "NZ$",
        _ => return None,
    })
}

/// Beijing's offset from UTC, in seconds (no daylight saving since 1991).
const BEIJING_OFFSET: i64 = 8 * 3600;

/// A day in Beijing as the shopper's locale writes it (`Jan 15`,
/// `1月15日`), for a method's switch-on date: a method switched on at
/// midnight there is not "available from" the day before in Europe.
pub fn date(at: contract::UnixSeconds, locale: Locale) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (_, month, day) = civil_date(at + BEIJING_OFFSET);
    match locale {
        Locale::En => format!("{} {day}", MONTHS[(month - 1) as usize % 12]),
        Locale::ZhCn | Locale::ZhTw => format!("{month}月{day}日"),
    }
}

/// The UTC civil date (year, month 1-12, day) of a Unix time (Howard
/// Hinnant's days-to-civil algorithm).
fn civil_date(at: contract::UnixSeconds) -> (i64, i64, i64) {
    let days = at.div_euclid(86_400) + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    (year_of_era + era * 400 + i64::from(month <= 2), month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_is_the_day_in_beijing() {
        assert_eq!(date(1_799_978_400, Locale::En), "Jan 15");
        // Midnight in Beijing is still the 14th in UTC.
        assert_eq!(date(1_799_942_400, Locale::ZhCn), "1月15日");
        assert_eq!(date(1_799_942_399, Locale::ZhTw), "1月14日");
        assert_eq!(date(951_782_400, Locale::En), "Feb 29");
        assert_eq!(civil_date(0), (1970, 1, 1));
    }

    #[test]
    fn amounts_are_grouped_with_their_symbol_or_code() {
        let yuan = Money::new(12_345_678, Currency::CNY);
        assert_eq!(format(&yuan, Locale::ZhCn), "¥123,456.78");
        assert_eq!(format(&Money::new(5, Currency::JPY), Locale::ZhCn), "JP¥5");
        let francs = Money::new(1_200, "CHF".parse().unwrap());
        assert_eq!(format(&francs, Locale::En), "CHF\u{a0}12.00");
        assert_eq!(
            format(&Money::new(100, Currency::USD), Locale::ZhTw),
            "US$1.00"
        );
    }
}
