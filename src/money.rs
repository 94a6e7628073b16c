//! Amounts for people to read. Money stays integer minor units until this
//! point; the browser's `Intl.NumberFormat` formats an exact decimal string.

use contract::Money;

use crate::i18n::Locale;

/// The amount as the shopper's locale writes it, such as `¥128.00`.
pub fn format(money: &Money, locale: Locale) -> String {
    intl_format(money, locale).unwrap_or_else(|| fallback(money))
}

/// Without `Intl` (natively, or in a browser that refuses the options):
/// the code and the exact amount.
fn fallback(money: &Money) -> String {
    format!("{} {}", money.currency, money.to_major_string())
}

/// Switch-on dates are days in Beijing, whatever the shopper's time zone:
/// a method switched on at midnight there is not "available from" the day
/// before in Europe.
#[cfg(target_arch = "wasm32")]
const BEIJING: &str = "Asia/Shanghai";

/// Beijing's offset from UTC, in seconds (no daylight saving since 1991).
const BEIJING_OFFSET: i64 = 8 * 3600;

/// A day in Beijing as the shopper's locale writes it (`Jan 15`,
/// `1月15日`), for a method's switch-on date.
pub fn date(at: contract::UnixSeconds, locale: Locale) -> String {
    intl_date(at, locale).unwrap_or_else(|| iso_date(at))
}

/// `YYYY-MM-DD` (Beijing), where `Intl` is missing.
fn iso_date(at: contract::UnixSeconds) -> String {
    // Days to a civil date (Howard Hinnant's algorithm).
    let days = (at + BEIJING_OFFSET).div_euclid(86_400) + 719_468;
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
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!("{year}-{month:02}-{day:02}")
}

#[cfg(target_arch = "wasm32")]
fn intl_date(at: contract::UnixSeconds, locale: Locale) -> Option<String> {
    use crate::js::set;
    use js_sys::{Array, Date, Intl, Object};
    use wasm_bindgen::JsValue;

    let options = Object::new();
    set(&options, "month", &"short".into());
    set(&options, "day", &"numeric".into());
    set(&options, "timeZone", &BEIJING.into());
    let locales = Array::of1(&locale.tag().into());
    let formatter = Intl::DateTimeFormat::new(&locales, &options);
    let day = Date::new(&JsValue::from_f64(at as f64 * 1000.0));
    formatter
        .format()
        .call1(&JsValue::NULL, &day)
        .ok()?
        .as_string()
}

#[cfg(not(target_arch = "wasm32"))]
fn intl_date(_: contract::UnixSeconds, _: Locale) -> Option<String> {
    None
}

#[cfg(target_arch = "wasm32")]
fn intl_format(money: &Money, locale: Locale) -> Option<String> {
    use crate::js::set;
    use contract::Currency;
    use js_sys::{Array, Intl, Object};
    use wasm_bindgen::{JsCast, JsValue};

    let options = Object::new();
    set(&options, "style", &"currency".into());
    set(&options, "currency", &money.currency.code().into());
    // "¥" rather than "CN¥": this checkout's home currency is the yuan.
    if money.currency == Currency::CNY {
        set(&options, "currencyDisplay", &"narrowSymbol".into());
    }
    let locales = Array::of1(&locale.tag().into());
    let formatter = Intl::NumberFormat::new(&locales, &options);
    // A string is formatted as an exact decimal, with no float in between.
    let formatted = formatter
        .format()
        .call1(&JsValue::NULL, &money.to_major_string().into())
        .ok()?;
    formatted
        .dyn_into::<js_sys::JsString>()
        .ok()
        .map(String::from)
}

#[cfg(not(target_arch = "wasm32"))]
fn intl_format(_: &Money, _: Locale) -> Option<String> {
    None
}

#[cfg(test)]
mod tests {
    use contract::Currency;

    use super::*;

    #[test]
    fn without_intl_a_day_is_an_iso_date_in_beijing() {
        assert_eq!(date(1_799_978_400, Locale::En), "2027-01-15");
        // Midnight in Beijing is still the 14th in UTC.
        assert_eq!(date(1_799_942_400, Locale::En), "2027-01-15");
        assert_eq!(date(1_799_942_399, Locale::En), "2027-01-14");
        assert_eq!(date(0, Locale::En), "1970-01-01");
        assert_eq!(date(951_782_400, Locale::En), "2000-02-29");
    }

    #[test]
    fn without_intl_the_code_and_exact_amount_are_shown() {
        assert_eq!(
            format(&Money::new(12800, Currency::CNY), Locale::En),
            "CNY 128.00"
        );
        assert_eq!(format(&Money::new(5, Currency::JPY), Locale::En), "JPY 5");
    }
}
