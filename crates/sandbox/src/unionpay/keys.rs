//! The certificates and keys of the emulated gateway: the merchant's
//! signing certificate, which checks what the merchant signs and whose
//! serial (in decimal) is the `certId` its requests name, and UnionPay's
//! signing certificate and key, which sign everything the gateway sends;
//! also the rogue pair that `/unionpay/control` can sign notifications with.
//!
//! Documented (the 5.1.0 SDKs' `CertUtil`/`SDKUtil`, as the research notes
//! read them; the verified vectors): `certId` is the certificate's serial
//! number in decimal; `signPubKeyCert` is the PEM text of the signing
//! certificate, and the real gateway sends it with CRLF line breaks and no
//! final line break, and signs it so, so the emulator does the same.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::RsaKeyPair;
use x509_cert::der::DecodePem;
use x509_cert::Certificate;

use crate::crypto::{rsa_private_key, rsa_sign, rsa_verify};
use crate::UnionpayConfig;

/// The rsaEncryption algorithm identifier.
const RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";

/// Which certificate signs a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Signer {
    /// UnionPay's signing certificate, under the test chain.
    UnionPay,
    /// The self-signed impostor (notification mode `rogue_cert`).
    Rogue,
}

struct SigningCert {
    /// `signPubKeyCert`: the PEM with CRLF line breaks.
    pem: String,
    key: RsaKeyPair,
}

/// The parsed certificates and keys of the emulated gateway.
pub(crate) struct Keys {
    merchant_cert_id: String,
    /// The merchant certificate's public key, PKCS#1 `RSAPublicKey`.
    merchant_public: Vec<u8>,
    unionpay: SigningCert,
    rogue: SigningCert,
    rng: SystemRandom,
}

impl Keys {
    /// Parses the certificates and keys of `config`, saying which is wrong.
    pub(crate) fn load(config: &UnionpayConfig) -> Result<Keys, String> {
        let merchant = Certificate::from_pem(config.merchant_cert_pem.as_bytes())
            .map_err(|e| format!("merchant_cert_pem: not a certificate: {e}"))?;
        let merchant_public =
            rsa_public_key(&merchant).map_err(|e| format!("merchant_cert_pem: {e}"))?;
        let merchant_cert_id = decimal(merchant.tbs_certificate.serial_number.as_bytes());
        let signing = |cert_pem: &str, key_pem: &str, name: &str| {
            Certificate::from_pem(cert_pem.as_bytes())
                .map_err(|e| format!("{name}_cert_pem: not a certificate: {e}"))?;
            let key =
                rsa_private_key(key_pem).map_err(|e| format!("{name}_private_key_pem: {e}"))?;
            Ok::<_, String>(SigningCert {
                pem: crlf(cert_pem),
                key,
            })
        };
        Ok(Keys {
            merchant_cert_id,
            merchant_public,
            unionpay: signing(&config.sign_cert_pem, &config.sign_private_key_pem, "sign")?,
            rogue: signing(
                &config.rogue_cert_pem,
                &config.rogue_private_key_pem,
                "rogue",
            )?,
            rng: SystemRandom::new(),
        })
    }

    /// The `certId` the merchant's requests must name.
    pub(crate) fn merchant_cert_id(&self) -> &str {
        &self.merchant_cert_id
    }

    /// Checks a base64 SHA256withRSA signature made with the merchant's key.
    pub(crate) fn merchant_signed(&self, message: &[u8], signature_base64: &str) -> bool {
        rsa_verify(&self.merchant_public, message, signature_base64)
    }

    /// The `signPubKeyCert` that goes with `signer`'s signatures.
    pub(crate) fn cert_pem(&self, signer: Signer) -> &str {
        &self.cert(signer).pem
    }

    /// SHA256withRSA with `signer`'s key, base64.
    pub(crate) fn sign(&self, signer: Signer, message: &[u8]) -> Result<String, String> {
        rsa_sign(&self.cert(signer).key, &self.rng, message)
    }

    fn cert(&self, signer: Signer) -> &SigningCert {
        match signer {
            Signer::UnionPay => &self.unionpay,
            Signer::Rogue => &self.rogue,
        }
    }
}

/// The certificate's RSA public key as PKCS#1 `RSAPublicKey`.
fn rsa_public_key(cert: &Certificate) -> Result<Vec<u8>, String> {
    let spki = &cert.tbs_certificate.subject_public_key_info;
    if spki.algorithm.oid.to_string() != RSA_ENCRYPTION {
        return Err("the certificate's key is not RSA".into());
    }
    spki.subject_public_key
        .as_bytes()
        .map(<[u8]>::to_vec)
        .ok_or_else(|| "the certificate's key is not a whole-byte BIT STRING".into())
}

/// A big-endian unsigned integer (a serial number's bytes) in decimal.
pub(crate) fn decimal(bytes: &[u8]) -> String {
    let mut number: Vec<u8> = bytes.iter().copied().skip_while(|b| *b == 0).collect();
    let mut digits = Vec::new();
    while !number.is_empty() {
        // One long division by ten, most significant byte first.
        let mut remainder = 0u32;
        for byte in &mut number {
            let value = (remainder << 8) | u32::from(*byte);
            *byte = u8::try_from(value / 10).unwrap_or(0);
            remainder = value % 10;
        }
        digits.push(char::from(b'0' + u8::try_from(remainder).unwrap_or(0)));
        let leading = number.iter().take_while(|b| **b == 0).count();
        number.drain(..leading);
    }
    if digits.is_empty() {
        return "0".into();
    }
    digits.iter().rev().collect()
}

/// A PEM with CRLF line breaks and no final one, as UnionPay sends it.
fn crlf(pem: &str) -> String {
    pem.trim()
        .lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\r\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::unionpay::certs::{MERCHANT_SERIAL, SIGN_SERIAL};

    #[test]
    fn writes_serials_in_decimal() {
        assert_eq!(decimal(&[0x10, 0x46, 0x90, 0x01, 0x49]), "69903319369");
        assert_eq!(
            decimal(&[0x00, 0x10, 0x36, 0x41, 0x24, 0x84]),
            "69629715588"
        );
        assert_eq!(decimal(&[0]), "0");
        assert_eq!(decimal(&[1, 0]), "256");
    }

    #[test]
    fn the_demo_certificates_load_and_pair() {
        let keys = Keys::load(&UnionpayConfig::demo()).unwrap();
        assert_eq!(keys.merchant_cert_id(), MERCHANT_SERIAL.to_string());
        let merchant =
            rsa_private_key(include_str!("../../keys/unionpay_merchant_private.pem")).unwrap();
        let signature = rsa_sign(&merchant, &SystemRandom::new(), b"paired").unwrap();
        assert!(keys.merchant_signed(b"paired", &signature));
        assert!(!keys.merchant_signed(b"other", &signature));

        let pem = keys.cert_pem(Signer::UnionPay);
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----\r\n"));
        assert!(pem.ends_with("\r\n-----END CERTIFICATE-----"));
        assert!(!pem.replace("\r\n", "").contains('\n'));
        let cert = Certificate::from_pem(pem.as_bytes()).unwrap();
        assert_eq!(
            decimal(cert.tbs_certificate.serial_number.as_bytes()),
            SIGN_SERIAL.to_string()
        );
        let public = rsa_public_key(&cert).unwrap();
        let signature = keys.sign(Signer::UnionPay, b"paired").unwrap();
        assert!(rsa_verify(&public, b"paired", &signature));
        let rogue = keys.sign(Signer::Rogue, b"paired").unwrap();
        assert!(!rsa_verify(&public, b"paired", &rogue));
    }

    #[test]
    fn says_which_certificate_is_wrong() {
        let mut config = UnionpayConfig::demo();
        config.merchant_cert_pem = "not a certificate".into();
        assert!(Keys::load(&config)
            .err()
            .is_some_and(|e| e.starts_with("merchant_cert_pem")));
        let mut config = UnionpayConfig::demo();
        config.rogue_private_key_pem = "not a key".into();
        assert!(Keys::load(&config)
            .err()
            .is_some_and(|e| e.starts_with("rogue_private_key_pem")));
    }
}
