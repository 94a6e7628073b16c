//! China Mobile's `hmac` (cmpayService 2.0.0, `signType` MD5): the values
//! of a message's fields, in the order its interface lists them, joined
//! with nothing between (an empty field adds nothing), as UTF-8; then
//! `hex(HMAC-MD5(key, hex(HMAC-MD5("", data))))`, lowercase — the rule of
//! the official Java, .NET and PHP demo kits (`SignUtil.HmacSign`,
//! `MD5sign`).

use hmac::{Hmac, Mac};
use md5::Md5;

/// The `hmac` of `values`, in their documented order, under `key`.
pub fn hmac(key: &str, values: &[&str]) -> String {
    let data = values.concat();
    let inner = hmac_md5(b"", data.as_bytes());
    hmac_md5(key.as_bytes(), inner.as_bytes())
}

/// True if `said` is the `hmac` of `values` under `key` (compared in
/// constant time).
pub fn verifies(key: &str, values: &[&str], said: &str) -> bool {
    let expected = hmac(key, values);
    expected.len() == said.len()
        && expected
            .bytes()
            .zip(said.to_ascii_lowercase().bytes())
            .fold(0u8, |differ, (a, b)| differ | (a ^ b))
            == 0
}

fn hmac_md5(key: &[u8], data: &[u8]) -> String {
    // HMAC takes a key of any length: `new_from_slice` cannot fail for it.
    let Ok(mut mac) = Hmac::<Md5>::new_from_slice(key) else {
        return String::new();
    };
    mac.update(data);
    crate::auth::hex(&mac.finalize().into_bytes())
}
