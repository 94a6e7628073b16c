//! RSA as payment providers use it: SHA256withRSA (PKCS#1 v1.5) signatures,
//! base64, made with the merchant's private key and checked with the
//! provider's public key. WeChat Pay signs its requests and answers this
//! way; Alipay's `RSA2` is the same signature over other bytes. Keys come
//! as PEM (PKCS#8 or PKCS#1 private keys, SPKI public keys or X.509
//! certificates) or, as Alipay's console hands them out, as the bare
//! base64 of the same DER.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, RsaKeyPair, UnparsedPublicKey};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;

/// A key that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct KeyError(String);

impl KeyError {
    /// A key error saying `why`.
    pub fn new(why: impl Into<String>) -> KeyError {
        KeyError(why.into())
    }
}

/// A merchant's private key: what it signs with.
pub struct SigningKey(RsaKeyPair);

impl SigningKey {
    /// Reads a private key: PKCS#8 PEM (`PRIVATE KEY`), PKCS#1 PEM (`RSA
    /// PRIVATE KEY`), or the bare base64 of either.
    pub fn from_pem(pem: &str) -> Result<SigningKey, KeyError> {
        let pair = if pem.contains("-----BEGIN RSA PRIVATE KEY-----") {
            RsaKeyPair::from_der(&pem_body(pem, "RSA PRIVATE KEY")?)
        } else if pem.contains("-----BEGIN") {
            RsaKeyPair::from_pkcs8(&pem_body(pem, "PRIVATE KEY")?)
        } else {
            let der = bare_base64(pem)?;
            RsaKeyPair::from_pkcs8(&der).or_else(|_| RsaKeyPair::from_der(&der))
        };
        pair.map(SigningKey)
            .map_err(|error| KeyError(format!("not an RSA private key: {error}")))
    }

    /// SHA256withRSA over `message`, base64.
    pub fn sign(&self, message: &[u8]) -> Result<String, KeyError> {
        let mut signature = vec![0; self.0.public_modulus_len()];
        self.0
            .sign(
                &signature::RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                message,
                &mut signature,
            )
            .map_err(|_| KeyError("signing failed".into()))?;
        Ok(BASE64.encode(signature))
    }
}

/// A provider's public key (or a certificate's): what its signatures are
/// checked with.
pub struct VerifyingKey(Vec<u8>);

impl VerifyingKey {
    /// Reads an SPKI PEM public key (`PUBLIC KEY`), an X.509 certificate
    /// (`CERTIFICATE`), or the bare base64 of an SPKI.
    pub fn from_pem(pem: &str) -> Result<VerifyingKey, KeyError> {
        let spki = if pem.contains("BEGIN CERTIFICATE") {
            certificate_spki(&pem_body(pem, "CERTIFICATE")?)?
        } else if pem.contains("-----BEGIN") {
            pem_body(pem, "PUBLIC KEY")?
        } else {
            bare_base64(pem)?
        };
        rsa_public_key(&spki).map(VerifyingKey)
    }

    /// Reads the DER of an SPKI.
    pub fn from_spki_der(spki: &[u8]) -> Result<VerifyingKey, KeyError> {
        rsa_public_key(spki).map(VerifyingKey)
    }

    /// True if `signature` (base64) is SHA256withRSA over `message`.
    pub fn verifies(&self, message: &[u8], signature: &str) -> bool {
        let Ok(signature) = BASE64.decode(signature.trim()) else {
            return false;
        };
        UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, &self.0)
            .verify(message, &signature)
            .is_ok()
    }
}

/// The DER inside a PEM block with this label.
fn pem_body(pem: &str, label: &str) -> Result<Vec<u8>, KeyError> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = pem
        .find(&begin)
        .ok_or_else(|| KeyError(format!("no {begin}")))?
        + begin.len();
    let stop = pem[start..]
        .find(&end)
        .ok_or_else(|| KeyError(format!("no {end}")))?
        + start;
    let text: String = pem[start..stop].split_whitespace().collect();
    BASE64
        .decode(text)
        .map_err(|_| KeyError(format!("the {label} is not base64")))
}

/// A key given as bare base64 (no PEM armour).
fn bare_base64(text: &str) -> Result<Vec<u8>, KeyError> {
    let text: String = text.split_whitespace().collect();
    BASE64
        .decode(text)
        .map_err(|_| KeyError("a key is neither PEM nor base64".into()))
}

/// One DER element: its tag, its contents, and what follows it.
fn der(input: &[u8]) -> Result<(u8, &[u8], &[u8]), KeyError> {
    let bad = || KeyError("malformed DER".into());
    let (&tag, rest) = input.split_first().ok_or_else(bad)?;
    let (&first, mut rest) = rest.split_first().ok_or_else(bad)?;
    let length = if first < 0x80 {
        usize::from(first)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return Err(bad());
        }
        let (bytes, after) = rest.split_at(count);
        rest = after;
        bytes.iter().fold(0usize, |n, &b| n << 8 | usize::from(b))
    };
    if rest.len() < length {
        return Err(bad());
    }
    let (contents, after) = rest.split_at(length);
    Ok((tag, contents, after))
}

/// The SubjectPublicKeyInfo of an X.509 certificate.
fn certificate_spki(certificate: &[u8]) -> Result<Vec<u8>, KeyError> {
    let (_, certificate, _) = der(certificate)?;
    let (_, tbs, _) = der(certificate)?;
    let mut rest = tbs;
    // [0] version (optional), serial, signature, issuer, validity, subject.
    let (tag, _, after) = der(rest)?;
    if tag == 0xa0 {
        rest = after;
    }
    for _ in 0..5 {
        rest = der(rest)?.2;
    }
    let (tag, _, after) = der(rest)?;
    if tag != 0x30 {
        return Err(KeyError(
            "no subjectPublicKeyInfo in the certificate".into(),
        ));
    }
    Ok(rest[..rest.len() - after.len()].to_vec())
}

/// The PKCS#1 RSAPublicKey inside an SPKI (what the verifier is given).
fn rsa_public_key(spki: &[u8]) -> Result<Vec<u8>, KeyError> {
    let (_, info, _) = der(spki)?;
    let (_, _algorithm, rest) = der(info)?;
    let (tag, bits, _) = der(rest)?;
    match (tag, bits.split_first()) {
        (0x03, Some((0, key))) => Ok(key.to_vec()),
        _ => Err(KeyError("not an RSA public key".into())),
    }
}
