//! Bearer tokens: the merchant's secret key (server to server, kept here
//! only as a hash) and a session's client secret (the shopper's browser,
//! for that session only).

use axum::http::HeaderMap;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Whether a key moves real money.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyMode {
    /// `sk_live_…`: a live server's.
    Live,
    /// `sk_test_…`: a sandbox server's.
    Test,
}

impl KeyMode {
    /// The mode a secret key says it is for.
    pub fn of_key(key: &str) -> Option<KeyMode> {
        if key.starts_with("sk_live_") {
            Some(KeyMode::Live)
        } else if key.starts_with("sk_test_") {
            Some(KeyMode::Test)
        } else {
            None
        }
    }

    /// The mode of a configured `live:sha256:…` or `test:sha256:…` hash.
    pub fn of_hash(hash: &str) -> Option<KeyMode> {
        let (mode, digest) = hash.split_once(":sha256:")?;
        if digest.is_empty() || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        match mode {
            "live" => Some(KeyMode::Live),
            "test" => Some(KeyMode::Test),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            KeyMode::Live => "live",
            KeyMode::Test => "test",
        }
    }
}

/// The configured form of a secret key: `<mode>:sha256:<hex>`. Keys are 32
/// random bytes, so a plain hash is as hard to reverse as the key is to
/// guess.
pub fn key_hash(key: &str) -> Option<String> {
    let mode = KeyMode::of_key(key)?;
    Some(format!(
        "{}:sha256:{}",
        mode.name(),
        hex(&Sha256::digest(key.as_bytes()))
    ))
}

/// A new secret key for `mode`.
pub fn new_key(mode: KeyMode) -> String {
    format!("sk_{}_{}", mode.name(), random_hex(32))
}

/// The token of an `Authorization: Bearer ...` header.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|token| !token.is_empty())
}

/// True if the request carries a merchant's secret key (`sk_…`) rather
/// than a session's client secret.
pub fn has_secret_key(headers: &HeaderMap) -> bool {
    bearer(headers).is_some_and(|token| token.starts_with("sk_"))
}

/// Compares secrets in time independent of where they differ.
pub fn same_secret(expected: &str, given: &str) -> bool {
    let (a, b) = (
        Sha256::digest(expected.as_bytes()),
        Sha256::digest(given.as_bytes()),
    );
    a.iter()
        .zip(b.iter())
        .fold(0u8, |diff, (x, y)| diff | (x ^ y))
        == 0
}

/// The stored form of a client secret: its SHA-256, hex.
pub fn hash_secret(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// A random id with a prefix, such as `pi_1f0c…`.
pub fn random_id(prefix: &str) -> String {
    format!("{prefix}_{}", random_hex(12))
}

/// `bytes` random bytes, in hex.
pub fn random_hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut buffer);
    hex(&buffer)
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Seals a session's client secret for a repeat of the request that made
/// it: AES-256-GCM under a key derived from the merchant's secret key
/// (which the server keeps only as a hash), bound to the session's id. The
/// database alone opens nothing.
pub fn seal(merchant_key: &str, session_id: &str, client_secret: &str) -> Result<String, String> {
    use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, NONCE_LEN};
    let key = LessSafeKey::new(seal_key(merchant_key)?);
    let mut nonce = [0u8; NONCE_LEN];
    aws_lc_rs::rand::fill(&mut nonce).map_err(|_| "no randomness".to_owned())?;
    let mut sealed = client_secret.as_bytes().to_vec();
    key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce),
        Aad::from(session_id.as_bytes()),
        &mut sealed,
    )
    .map_err(|_| "sealing failed".to_owned())?;
    Ok(format!("{}.{}", hex(&nonce), hex(&sealed)))
}

/// Opens what [`seal`] sealed, with the same merchant key and session.
pub fn unseal(merchant_key: &str, session_id: &str, sealed: &str) -> Option<String> {
    use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce};
    let key = LessSafeKey::new(seal_key(merchant_key).ok()?);
    let (nonce, text) = sealed.split_once('.')?;
    let nonce = Nonce::try_assume_unique_for_key(&unhex(nonce)?).ok()?;
    let mut text = unhex(text)?;
    let plain = key
        .open_in_place(nonce, Aad::from(session_id.as_bytes()), &mut text)
        .ok()?;
    String::from_utf8(plain.to_vec()).ok()
}

fn seal_key(merchant_key: &str) -> Result<aws_lc_rs::aead::UnboundKey, String> {
    use aws_lc_rs::hmac;
    let derived = hmac::sign(
        &hmac::Key::new(hmac::HMAC_SHA256, merchant_key.as_bytes()),
        b"payment-selector client secret seal v1",
    );
    aws_lc_rs::aead::UnboundKey::new(&aws_lc_rs::aead::AES_256_GCM, derived.as_ref())
        .map_err(|_| "an unusable sealing key".to_owned())
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(text.get(at..at + 2)?, 16).ok())
        .collect()
}

/// The session a client secret belongs to (`cs_…_secret_…`).
pub fn session_of_secret(secret: &str) -> Option<&str> {
    secret.split_once("_secret_").map(|(session, _)| session)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens_are_read_from_the_header() {
        let mut headers = HeaderMap::new();
        assert_eq!(bearer(&headers), None);
        headers.insert("authorization", "Bearer cs_1_secret_x".parse().unwrap());
        assert_eq!(bearer(&headers), Some("cs_1_secret_x"));
        headers.insert("authorization", "Basic abc".parse().unwrap());
        assert_eq!(bearer(&headers), None);
    }

    #[test]
    fn secrets_compare_exactly() {
        assert!(same_secret("sk_a", "sk_a"));
        assert!(!same_secret("sk_a", "sk_b"));
        assert!(!same_secret("sk_a", "sk_a "));
        assert_eq!(session_of_secret("cs_1_secret_x"), Some("cs_1"));
        assert_eq!(session_of_secret("garbage"), None);
    }

    #[test]
    fn a_sealed_secret_opens_only_with_its_merchant_key_and_session() {
        let sealed = seal("sk_test_a", "cs_1", "cs_1_secret_x").unwrap();
        assert!(!sealed.contains("cs_1_secret_x"));
        assert_eq!(
            unseal("sk_test_a", "cs_1", &sealed).as_deref(),
            Some("cs_1_secret_x")
        );
        assert_eq!(unseal("sk_test_b", "cs_1", &sealed), None);
        assert_eq!(unseal("sk_test_a", "cs_2", &sealed), None);
        assert_eq!(unseal("sk_test_a", "cs_1", "zz.zz"), None);
        assert_ne!(seal("sk_test_a", "cs_1", "cs_1_secret_x").unwrap(), sealed);
    }

    #[test]
    fn keys_are_kept_as_hashes_that_say_their_mode() {
        let live = new_key(KeyMode::Live);
        assert!(live.starts_with("sk_live_") && live.len() == "sk_live_".len() + 64);
        let hash = key_hash(&live).unwrap();
        assert!(hash.starts_with("live:sha256:"));
        assert_eq!(KeyMode::of_hash(&hash), Some(KeyMode::Live));
        assert_ne!(key_hash(&new_key(KeyMode::Live)), Some(hash));
        assert_eq!(
            key_hash("sk_test_demo_merchant").as_deref(),
            Some("test:sha256:f22ae673a16f35f60235cbbabaccc99e1a73219c4c57ab4b956778f4adda1c70")
        );
        assert_eq!(key_hash("pk_whatever"), None);
        assert_eq!(KeyMode::of_hash("sha256:00"), None);
    }
}
