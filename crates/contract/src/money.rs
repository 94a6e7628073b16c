use std::fmt;

use serde::{Deserialize, Serialize};

/// An amount of money in the currency's minor unit (fen for CNY, yen for JPY).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Money {
    /// Integer minor units; never a float.
    pub value: i64,
    /// ISO 4217 code.
    pub currency: Currency,
}

impl Money {
    /// An amount of `value` minor units of `currency`.
    pub fn new(value: i64, currency: Currency) -> Self {
        Self { value, currency }
    }

    /// True for an amount a shopper may be asked to pay: more than zero,
    /// in a currency checkouts know ([`Currency::is_known`]).
    pub fn is_payable(&self) -> bool {
        self.value > 0 && self.currency.is_known()
    }

    /// The amount as an exact decimal string in major units (`"128.00"`),
    /// for APIs that want yuan rather than fen and for `Intl.NumberFormat`.
    ///
    /// ```
    /// # use payment_contract::{Currency, Money};
    /// let price = Money::new(12800, Currency::CNY);
    /// assert_eq!(price.to_major_string(), "128.00");
    /// ```
    pub fn to_major_string(&self) -> String {
        let sign = if self.value < 0 { "-" } else { "" };
        let exponent = u32::from(self.currency.exponent());
        let unit = 10_u64.pow(exponent);
        let (major, minor) = (
            self.value.unsigned_abs() / unit,
            self.value.unsigned_abs() % unit,
        );
        if exponent == 0 {
            format!("{sign}{major}")
        } else {
            format!("{sign}{major}.{minor:0width$}", width = exponent as usize)
        }
    }
}

/// An ISO 4217 currency code: three upper-case ASCII letters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(
    feature = "openapi",
    schema(value_type = String, pattern = "^[A-Z]{3}$", example = "CNY")
)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

impl Currency {
    /// Chinese yuan renminbi.
    pub const CNY: Currency = Currency(*b"CNY");
    /// Hong Kong dollar.
    pub const HKD: Currency = Currency(*b"HKD");
    /// Japanese yen.
    pub const JPY: Currency = Currency(*b"JPY");
    /// US dollar.
    pub const USD: Currency = Currency(*b"USD");

    /// The currencies a checkout shows and a merchant may price in: the
    /// yuan and the currencies card shoppers in and around China use.
    pub const KNOWN: [Currency; 16] = [
        Currency::CNY,
        Currency::HKD,
        Currency(*b"MOP"),
        Currency(*b"TWD"),
        Currency::USD,
        Currency(*b"EUR"),
        Currency(*b"GBP"),
        Currency::JPY,
        Currency(*b"KRW"),
        Currency(*b"SGD"),
        Currency(*b"AUD"),
        Currency(*b"CAD"),
        Currency(*b"CHF"),
        Currency(*b"NZD"),
        Currency(*b"THB"),
        Currency(*b"MYR"),
    ];

    /// True for a currency in [`Currency::KNOWN`].
    pub fn is_known(&self) -> bool {
        Currency::KNOWN.contains(self)
    }

    /// The code, such as `"CNY"`.
    pub fn code(&self) -> &str {
        // The constructor admits ASCII letters only.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }

    /// How many decimal places the minor unit has (ISO 4217): 2 for CNY,
    /// 0 for JPY, 3 for the dinars.
    pub fn exponent(&self) -> u8 {
        match &self.0 {
            b"BIF" | b"CLP" | b"DJF" | b"GNF" | b"ISK" | b"JPY" | b"KMF" | b"KRW" | b"PYG"
            | b"RWF" | b"UGX" | b"UYI" | b"VND" | b"VUV" | b"XAF" | b"XOF" | b"XPF" => 0,
            b"BHD" | b"IQD" | b"JOD" | b"KWD" | b"LYD" | b"OMR" | b"TND" => 3,
            _ => 2,
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A currency code that is not three upper-case ASCII letters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidCurrency(pub String);

impl fmt::Display for InvalidCurrency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not an ISO 4217 currency code: {:?}", self.0)
    }
}

impl std::error::Error for InvalidCurrency {}

impl TryFrom<String> for Currency {
    type Error = InvalidCurrency;

    fn try_from(code: String) -> Result<Self, Self::Error> {
        code.as_str().parse()
    }
}

impl std::str::FromStr for Currency {
    type Err = InvalidCurrency;

    fn from_str(code: &str) -> Result<Self, Self::Err> {
        match code.as_bytes() {
            &[a, b, c] if [a, b, c].iter().all(u8::is_ascii_uppercase) => Ok(Currency([a, b, c])),
            _ => Err(InvalidCurrency(code.to_owned())),
        }
    }
}

impl From<Currency> for String {
    fn from(currency: Currency) -> Self {
        currency.code().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_an_integer_and_a_code_on_the_wire() {
        let json = serde_json::to_string(&Money::new(12800, Currency::CNY)).unwrap();
        assert_eq!(json, r#"{"value":12800,"currency":"CNY"}"#);
    }

    #[test]
    fn only_positive_amounts_in_known_currencies_are_payable() {
        assert!(Money::new(1, Currency::CNY).is_payable());
        assert!(Money::new(500, Currency::JPY).is_payable());
        assert!(!Money::new(0, Currency::CNY).is_payable());
        assert!(!Money::new(-12800, Currency::CNY).is_payable());
        let unknown: Currency = "ZZZ".parse().unwrap();
        assert!(!Money::new(12800, unknown).is_payable());
    }

    #[test]
    fn a_fractional_or_float_amount_is_refused() {
        assert!(serde_json::from_str::<Money>(r#"{"value":128.5,"currency":"CNY"}"#).is_err());
        assert!(serde_json::from_str::<Money>(r#"{"value":"12800","currency":"CNY"}"#).is_err());
    }

    #[test]
    fn currency_codes_must_be_three_capitals() {
        for bad in ["cny", "CN", "CNYX", "C1Y", ""] {
            let json = format!(r#"{{"value":1,"currency":"{bad}"}}"#);
            assert!(
                serde_json::from_str::<Money>(&json).is_err(),
                "{bad} accepted"
            );
        }
    }

    #[test]
    fn major_strings_are_exact() {
        let cases = [
            (12800, Currency::CNY, "128.00"),
            (1, Currency::CNY, "0.01"),
            (10, Currency::CNY, "0.10"),
            (0, Currency::CNY, "0.00"),
            (-250, Currency::CNY, "-2.50"),
            (500, Currency::JPY, "500"),
            (1234, Currency(*b"KWD"), "1.234"),
            (9_999_999_999_999_999, Currency::CNY, "99999999999999.99"),
            (i64::MIN, Currency::CNY, "-92233720368547758.08"),
        ];
        for (value, currency, expected) in cases {
            assert_eq!(Money::new(value, currency).to_major_string(), expected);
        }
    }
}
