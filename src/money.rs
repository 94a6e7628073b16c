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

#[cfg(target_arch = "wasm32")]
fn intl_format(money: &Money, locale: Locale) -> Option<String> {
    use contract::Currency;
    use js_sys::{Array, Intl, Object, Reflect};
    use wasm_bindgen::{JsCast, JsValue};

    let options = Object::new();
    Reflect::set(&options, &"style".into(), &"currency".into()).ok()?;
    Reflect::set(&options, &"currency".into(), &money.currency.code().into()).ok()?;
    // "¥" rather than "CN¥": this checkout's home currency is the yuan.
    if money.currency == Currency::CNY {
        Reflect::set(&options, &"currencyDisplay".into(), &"narrowSymbol".into()).ok()?;
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
    fn without_intl_the_code_and_exact_amount_are_shown() {
        assert_eq!(
            format(&Money::new(12800, Currency::CNY), Locale::En),
            "CNY 128.00"
        );
        assert_eq!(format(&Money::new(5, Currency::JPY), Locale::En), "JPY 5");
    }
}
