//! The plumbing both emulators sign with: PEM and just enough DER to load
//! RSA keys into aws-lc-rs, SHA256withRSA (PKCS#1 v1.5) in base64, and the
//! random identifiers they hand out.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    RsaKeyPair, UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256,
};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rand::Rng;

/// The DER inside a PEM block with the given label.
pub(crate) fn pem_to_der(pem: &str, label: &str) -> Result<Vec<u8>, String> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = pem.find(&begin).ok_or_else(|| format!("no {begin} line"))? + begin.len();
    let stop = pem[start..]
        .find(&end)
        .ok_or_else(|| format!("no {end} line"))?
        + start;
    let text: String = pem[start..stop]
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    STANDARD
        .decode(text)
        .map_err(|e| format!("bad base64 in PEM: {e}"))
}

/// A PKCS#8 RSA private key from PEM.
pub(crate) fn rsa_private_key(pem: &str) -> Result<RsaKeyPair, String> {
    let der = pem_to_der(pem, "PRIVATE KEY")?;
    RsaKeyPair::from_pkcs8(&der).map_err(|e| format!("not a usable PKCS#8 RSA key: {e}"))
}

/// One DER element: its tag, its contents and what follows it.
fn der_element(input: &[u8]) -> Result<(u8, &[u8], &[u8]), String> {
    let (&tag, rest) = input.split_first().ok_or("truncated DER")?;
    let (&first, rest) = rest.split_first().ok_or("truncated DER length")?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return Err("unsupported DER length".into());
        }
        let len = rest[..count]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (len, &rest[count..])
    };
    if rest.len() < len {
        return Err("DER element longer than its input".into());
    }
    Ok((tag, &rest[..len], &rest[len..]))
}

/// The rsaEncryption algorithm identifier, 1.2.840.113549.1.1.1.
const RSA_ENCRYPTION_OID: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];

/// The PKCS#1 `RSAPublicKey` inside a `SubjectPublicKeyInfo`.
pub(crate) fn spki_to_pkcs1(spki: &[u8]) -> Result<&[u8], String> {
    const SEQUENCE: u8 = 0x30;
    const OID: u8 = 0x06;
    const BIT_STRING: u8 = 0x03;
    let (tag, info, _) = der_element(spki)?;
    if tag != SEQUENCE {
        return Err("SubjectPublicKeyInfo is not a SEQUENCE".into());
    }
    let (tag, algorithm, rest) = der_element(info)?;
    if tag != SEQUENCE {
        return Err("AlgorithmIdentifier is not a SEQUENCE".into());
    }
    let (tag, oid, _) = der_element(algorithm)?;
    if tag != OID || oid != RSA_ENCRYPTION_OID {
        return Err("not an RSA public key".into());
    }
    let (tag, bits, _) = der_element(rest)?;
    match bits.split_first() {
        Some((0, key)) if tag == BIT_STRING => Ok(key),
        _ => Err("subjectPublicKey is not a whole-byte BIT STRING".into()),
    }
}

/// An SPKI public key PEM (`-----BEGIN PUBLIC KEY-----`) as the PKCS#1
/// `RSAPublicKey` aws-lc-rs verifies with.
pub(crate) fn rsa_public_key(pem: &str) -> Result<Vec<u8>, String> {
    let spki = pem_to_der(pem, "PUBLIC KEY")?;
    spki_to_pkcs1(&spki).map(<[u8]>::to_vec)
}

/// SHA256withRSA (PKCS#1 v1.5), base64 with padding.
pub(crate) fn rsa_sign(
    key: &RsaKeyPair,
    rng: &SystemRandom,
    message: &[u8],
) -> Result<String, String> {
    let mut signature = vec![0; key.public_modulus_len()];
    key.sign(&RSA_PKCS1_SHA256, rng, message, &mut signature)
        .map_err(|_| "RSA signing failed".to_owned())?;
    Ok(STANDARD.encode(signature))
}

/// Checks a base64 SHA256withRSA signature against a PKCS#1 public key.
pub(crate) fn rsa_verify(pkcs1_public_key: &[u8], message: &[u8], signature_base64: &str) -> bool {
    let Ok(signature) = STANDARD.decode(signature_base64.trim()) else {
        return false;
    };
    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, pkcs1_public_key)
        .verify(message, &signature)
        .is_ok()
}

const ALPHANUMERIC: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Random characters from `alphabet`.
pub(crate) fn random_from(alphabet: &[u8], len: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| char::from(alphabet[rng.gen_range(0..alphabet.len())]))
        .collect()
}

/// Random letters and digits (a nonce as the SDKs make them).
pub(crate) fn nonce(len: usize) -> String {
    random_from(ALPHANUMERIC, len)
}

/// Random decimal digits.
pub(crate) fn digits(len: usize) -> String {
    random_from(b"0123456789", len)
}

/// Random lowercase hex.
pub(crate) fn hex(len: usize) -> String {
    random_from(b"0123456789abcdef", len)
}
