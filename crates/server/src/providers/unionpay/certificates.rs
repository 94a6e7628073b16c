//! Whose key signed an answer or a notification. UnionPay puts its signing
//! certificate in each (`signPubKeyCert`); it is trusted only if it is valid
//! now, was issued by the configured intermediate, itself issued by the
//! configured root (both valid now), and names UnionPay: the part of its
//! common name after the second `@` is `中国银联股份有限公司`, or, in
//! UnionPay's test environment only, `00040000:SIGN` (the rule of
//! UnionPay's Java and PHP SDKs, `CertUtil.verifyCertificate`).
//!
//! UnionPay's CFCA roots sign with SHA-1 as well as SHA-256: both are
//! accepted for the chain, SHA-256 only for messages.

use aws_lc_rs::signature::{self, UnparsedPublicKey, VerificationAlgorithm};
use contract::UnixSeconds;
use x509_cert::der::{Decode, Encode, Tag, Tagged};
use x509_cert::name::Name;
use x509_cert::Certificate;

use crate::providers::rsa::{KeyError, VerifyingKey};

/// The name UnionPay's production signing certificates carry.
pub const UNIONPAY_NAME: &str = "中国银联股份有限公司";

/// The name of the signing certificates of UnionPay's test environment.
pub const TEST_NAME: &str = "00040000:SIGN";

/// sha1WithRSAEncryption.
const SHA1_WITH_RSA: &str = "1.2.840.113549.1.1.5";
/// sha256WithRSAEncryption.
const SHA256_WITH_RSA: &str = "1.2.840.113549.1.1.11";

/// A certificate, parsed, with the DER it came as.
pub struct Parsed {
    certificate: Certificate,
    der: Vec<u8>,
}

impl Parsed {
    /// Reads a PEM certificate (line breaks LF or CRLF).
    pub fn from_pem(pem: &str) -> Result<Parsed, KeyError> {
        let der = pem_der(pem)?;
        let certificate = Certificate::from_der(&der)
            .map_err(|e| KeyError::new(format!("not an X.509 certificate: {e}")))?;
        Ok(Parsed { certificate, der })
    }

    /// The serial number in decimal: UnionPay's `certId`.
    pub fn serial_decimal(&self) -> String {
        decimal(self.certificate.tbs_certificate.serial_number.as_bytes())
    }

    /// The key it certifies.
    pub fn key(&self) -> Result<VerifyingKey, KeyError> {
        let spki = self
            .certificate
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .map_err(|e| KeyError::new(e.to_string()))?;
        VerifyingKey::from_spki_der(&spki)
    }

    /// The part of the common name after its second `@`.
    pub fn holder(&self) -> Option<String> {
        common_name(&self.certificate.tbs_certificate.subject)?
            .split('@')
            .nth(2)
            .map(str::to_owned)
    }

    /// True if `now` is within its validity.
    fn valid_at(&self, now: UnixSeconds) -> bool {
        let validity = &self.certificate.tbs_certificate.validity;
        let seconds = |time: x509_cert::time::Time| time.to_unix_duration().as_secs() as i64;
        seconds(validity.not_before) <= now && now <= seconds(validity.not_after)
    }

    /// True if `issuer` issued it: the names match and `issuer`'s key
    /// verifies its signature.
    fn issued_by(&self, issuer: &Parsed) -> bool {
        if self.certificate.tbs_certificate.issuer != issuer.certificate.tbs_certificate.subject {
            return false;
        }
        let algorithm: &dyn VerificationAlgorithm = match self
            .certificate
            .signature_algorithm
            .oid
            .to_string()
            .as_str()
        {
            SHA256_WITH_RSA => &signature::RSA_PKCS1_2048_8192_SHA256,
            SHA1_WITH_RSA => &signature::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
            _ => return false,
        };
        let Some(signed) = tbs_der(&self.der) else {
            return false;
        };
        let Some(signature) = self.certificate.signature.as_bytes() else {
            return false;
        };
        let Some(key) = issuer
            .certificate
            .tbs_certificate
            .subject_public_key_info
            .subject_public_key
            .as_bytes()
        else {
            return false;
        };
        UnparsedPublicKey::new(algorithm, key)
            .verify(signed, signature)
            .is_ok()
    }
}

/// The root and intermediate that UnionPay's signing certificates must
/// chain to, and the names they may carry.
pub struct Trust {
    root: Parsed,
    middle: Parsed,
    test_names: bool,
}

impl Trust {
    /// Trusts certificates issued by `middle` under `root`; with
    /// `test_names`, also those named as UnionPay's test environment names
    /// its own.
    pub fn new(root: &str, middle: &str, test_names: bool) -> Result<Trust, KeyError> {
        let root = Parsed::from_pem(root).map_err(|e| KeyError::new(format!("root: {e}")))?;
        let middle = Parsed::from_pem(middle).map_err(|e| KeyError::new(format!("middle: {e}")))?;
        if !middle.issued_by(&root) {
            return Err(KeyError::new(
                "the intermediate certificate was not issued by the root",
            ));
        }
        Ok(Trust {
            root,
            middle,
            test_names,
        })
    }

    /// The key of `pem` if it is UnionPay's signing certificate at `now`;
    /// else why not.
    pub fn signer(&self, pem: &str, now: UnixSeconds) -> Result<VerifyingKey, String> {
        let certificate = Parsed::from_pem(pem).map_err(|e| e.to_string())?;
        if !certificate.issued_by(&self.middle) || !self.middle.issued_by(&self.root) {
            return Err("a certificate that does not chain to UnionPay's root".into());
        }
        if ![&certificate, &self.middle, &self.root]
            .iter()
            .all(|link| link.valid_at(now))
        {
            return Err("a certificate outside its validity".into());
        }
        let holder = certificate.holder().unwrap_or_default();
        let named = holder == UNIONPAY_NAME || (self.test_names && holder == TEST_NAME);
        if !named {
            return Err(format!("a certificate of {holder:?}, not of UnionPay"));
        }
        certificate.key().map_err(|e| e.to_string())
    }
}

/// True if any of these certificates was made for testing (CFCA's test
/// hierarchy, or this project's sandbox): by the common names of its
/// subject and issuer. Unreadable ones count as not.
pub fn issued_for_tests(pems: &[&str]) -> bool {
    pems.iter()
        .filter_map(|pem| Parsed::from_pem(pem).ok())
        .flat_map(|parsed| {
            let tbs = &parsed.certificate.tbs_certificate;
            [common_name(&tbs.subject), common_name(&tbs.issuer)]
        })
        .flatten()
        .any(|name| name.contains("TEST") || name.contains("payment-sandbox"))
}

/// The common name of a distinguished name, in whichever string type it
/// came (CFCA's certificates use UTF8String, PrintableString and
/// TeletexString, the last with ASCII only).
fn common_name(name: &Name) -> Option<String> {
    const COMMON_NAME: &str = "2.5.4.3";
    let text_tags = [
        Tag::Utf8String,
        Tag::PrintableString,
        Tag::TeletexString,
        Tag::Ia5String,
    ];
    name.0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .find(|attribute| attribute.oid.to_string() == COMMON_NAME)
        .filter(|attribute| text_tags.contains(&attribute.value.tag()))
        .and_then(|attribute| std::str::from_utf8(attribute.value.value()).ok())
        .map(str::to_owned)
}

/// The DER of a PEM `CERTIFICATE`.
fn pem_der(pem: &str) -> Result<Vec<u8>, KeyError> {
    use base64::Engine;
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let start = pem
        .find(BEGIN)
        .ok_or_else(|| KeyError::new("no certificate"))?
        + BEGIN.len();
    let stop = pem[start..]
        .find(END)
        .ok_or_else(|| KeyError::new("an unfinished certificate"))?
        + start;
    let text: String = pem[start..stop].split_whitespace().collect();
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|_| KeyError::new("a certificate that is not base64"))
}

/// The signed part of a certificate's DER, as it came: re-encoding a parsed
/// certificate could differ from what its issuer signed.
fn tbs_der(certificate: &[u8]) -> Option<&[u8]> {
    let (_, contents) = der_element(certificate)?;
    let (header, tbs_contents) = der_element(contents)?;
    Some(&contents[..header + tbs_contents.len()])
}

/// A DER element's header length and contents.
fn der_element(input: &[u8]) -> Option<(usize, &[u8])> {
    let first = *input.get(1)?;
    let (header, length) = if first < 0x80 {
        (2, usize::from(first))
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 {
            return None;
        }
        let bytes = input.get(2..2 + count)?;
        (
            2 + count,
            bytes.iter().fold(0usize, |n, &b| n << 8 | usize::from(b)),
        )
    };
    Some((header, input.get(header..header.checked_add(length)?)?))
}

/// A big-endian unsigned integer in decimal.
fn decimal(bytes: &[u8]) -> String {
    let mut number: Vec<u8> = bytes.iter().copied().skip_while(|&b| b == 0).collect();
    let mut digits = Vec::new();
    while !number.is_empty() {
        let mut remainder = 0u32;
        for byte in &mut number {
            let value = remainder << 8 | u32::from(*byte);
            *byte = (value / 10) as u8;
            remainder = value % 10;
        }
        digits.push(b'0' + remainder as u8);
        let zeros = number.iter().take_while(|&&b| b == 0).count();
        number.drain(..zeros);
    }
    if digits.is_empty() {
        return "0".into();
    }
    digits.reverse();
    String::from_utf8(digits).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_read_in_decimal() {
        assert_eq!(decimal(&[0x10, 0x46, 0x90, 0x01, 0x49]), "69903319369");
        assert_eq!(decimal(&[0x00, 0xff]), "255");
        assert_eq!(decimal(&[]), "0");
    }
}
