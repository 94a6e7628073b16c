//! Alipay's `RSA2` signatures (SHA256withRSA, base64; `super::super::rsa`)
//! and what they are made over: for a request or a return, every
//! parameter with a value but `sign`, sorted by name, joined `k=v&…` with
//! the values as they are (not URL-encoded); for a notification the same
//! without `sign_type` either; for a gateway answer, the text of its
//! `…_response` object exactly as it came.

use crate::providers::rsa::{KeyError, SigningKey, VerifyingKey};

/// The text a request (or a return) signs: `sign` left out, and
/// `sign_type` too when `with_sign_type` is false (notifications).
pub fn content(params: &[(String, String)], with_sign_type: bool) -> String {
    let mut signed: Vec<&(String, String)> = params
        .iter()
        .filter(|(name, value)| {
            !value.is_empty() && name != "sign" && (with_sign_type || name != "sign_type")
        })
        .collect();
    signed.sort_by(|a, b| a.0.cmp(&b.0));
    signed
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Signs request parameters: their `sign`.
pub fn sign(key: &SigningKey, params: &[(String, String)]) -> Result<String, KeyError> {
    key.sign(content(params, true).as_bytes())
}

/// True if a notification's `sign` is Alipay's over its other parameters
/// (`sign` and `sign_type` left out).
pub fn notification_verifies(key: &VerifyingKey, params: &[(String, String)]) -> bool {
    let Some((_, sign)) = params.iter().find(|(name, _)| name == "sign") else {
        return false;
    };
    key.verifies(content(params, false).as_bytes(), sign)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect()
    }

    #[test]
    fn a_request_signs_its_non_empty_parameters_sorted_without_sign() {
        let request = params(&[
            ("method", "alipay.trade.query"),
            ("app_id", "2021000000000000"),
            ("sign", "ignored"),
            ("notify_url", ""),
            ("biz_content", r#"{"out_trade_no":"pi_1"}"#),
            ("sign_type", "RSA2"),
        ]);
        assert_eq!(
            content(&request, true),
            r#"app_id=2021000000000000&biz_content={"out_trade_no":"pi_1"}&method=alipay.trade.query&sign_type=RSA2"#
        );
        assert_eq!(
            content(&request, false),
            r#"app_id=2021000000000000&biz_content={"out_trade_no":"pi_1"}&method=alipay.trade.query"#,
            "a notification leaves sign_type out too"
        );
    }
}
