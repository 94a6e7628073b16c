//! Bearer tokens: the merchant's secret key (server to server) and a
//! session's client secret (the shopper's browser, for that session only).

use axum::http::HeaderMap;
use rand::RngCore;
use sha2::{Digest, Sha256};

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
}
