//! UnionPay's signature, version 5.1.0 with `signMethod` 01: every field
//! but `signature`, blank ones left out, sorted by name, joined `k=v&…`
//! with the values as they are (not URL-encoded); the SHA-256 of that text
//! as lowercase hex; those hex characters signed SHA256withRSA (PKCS#1
//! v1.5), base64. The same text is verified with the signer's certificate.

use sha2::{Digest, Sha256};

use crate::providers::rsa::{KeyError, SigningKey, VerifyingKey};

/// The text that is hashed and signed.
pub fn signed_text(fields: &[(String, String)]) -> String {
    let mut signed: Vec<&(String, String)> = fields
        .iter()
        .filter(|(name, value)| name != "signature" && !value.is_empty())
        .collect();
    signed.sort_by(|a, b| a.0.cmp(&b.0));
    signed
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// What is signed: the SHA-256 of [`signed_text`] as lowercase hex.
fn digest_hex(fields: &[(String, String)]) -> String {
    crate::auth::hex(&Sha256::digest(signed_text(fields).as_bytes()))
}

/// The `signature` of these fields.
pub fn sign(key: &SigningKey, fields: &[(String, String)]) -> Result<String, KeyError> {
    key.sign(digest_hex(fields).as_bytes())
}

/// True if the fields' `signature` was made over them with `key`'s pair.
pub fn verifies(key: &VerifyingKey, fields: &[(String, String)]) -> bool {
    fields
        .iter()
        .find(|(name, _)| name == "signature")
        .is_some_and(|(_, signature)| key.verifies(digest_hex(fields).as_bytes(), signature))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect()
    }

    #[test]
    fn blanks_and_the_signature_are_left_out_and_the_rest_sorted() {
        let text = signed_text(&fields(&[
            ("txnAmt", "1"),
            ("signature", "x"),
            ("reqReserved", ""),
            ("backUrl", "https://shop.example/n?a=1&b=2"),
            ("accessType", "0"),
        ]));
        assert_eq!(
            text,
            "accessType=0&backUrl=https://shop.example/n?a=1&b=2&txnAmt=1"
        );
    }
}
