//! The gateway's wire format: form fields in, `k=v&...` out, signatures
//! both ways, and the response codes.
//!
//! Documented (the 5.1.0 SDKs' `SDKUtil.sign`/`validate` and PHP
//! `acp_service`; vectors verified by the research notes):
//! - Requests are `application/x-www-form-urlencoded` UTF-8 forms.
//! - The string to sign is every field but `signature`, sorted by name,
//!   `k=v` joined with `&`, values raw (not URL-encoded). The SDKs leave
//!   out fields with empty values before they sign ("若值为空，则删除这个
//!   字段"), and so does the emulator, both ways.
//! - `signMethod=01`: SHA-256 of that string as lowercase hex, then
//!   SHA256withRSA (PKCS#1 v1.5) over the bytes of the hex text, base64.
//! - Answers of `backTransReq.do` and `queryTrans.do` are `k=v&...` with
//!   the values raw, not URL-encoded (`+`, `/`, `=` and CRLF as they are);
//!   the fields come sorted by name, then `signPubKeyCert`, then
//!   `signature` (the order of the verified query answer). Notifications
//!   and front returns are ordinary URL-encoded forms.
//! - Response codes, from two third-party copies of the ACP table that
//!   agree (the official table was not found): 00 成功, 01 交易失败, 02
//!   系统未开放或暂时关闭, 05 交易已受理, 10 报文格式错误, 11 验证签名失败,
//!   12 重复交易, 13 报文交易要素缺失, 31 商户状态不正确, 32 无此交易权限,
//!   33 交易金额超限, 34 查无此交易, 35 原交易不存在或状态不正确, 36
//!   与原交易信息不符, 45 原交易已被成功退货或已被成功撤销, 60
//!   交易失败，详情请咨询您的发卡行, 64 卡上的余额不足, 69
//!   您的输入超时，交易失败, 71 短信验证码校验失败. Verified answers write
//!   `respMsg` as `成功[0000000]` and `查无此交易[2600000]`.
//!
//! Assumed: when a field is repeated, the first occurrence counts; a
//! refusal's `respMsg` is the table's text with a `(sandbox: ...)` note
//! saying what was wrong.

use aws_lc_rs::digest::{digest, SHA256};

use super::keys::{Keys, Signer};

/// A response code and its text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Resp {
    pub code: &'static str,
    pub msg: &'static str,
}

impl Resp {
    const fn new(code: &'static str, msg: &'static str) -> Resp {
        Resp { code, msg }
    }
}

/// 00: done.
pub(crate) const SUCCESS: Resp = Resp::new("00", "成功[0000000]");
/// 01: failed (a refund the merchant's balance could not cover).
pub(crate) const FAILED: Resp = Resp::new("01", "交易失败。详情请咨询95516");
/// 02: the gateway is down (`/unionpay/control` outage, on the card page).
pub(crate) const CLOSED: Resp = Resp::new("02", "系统未开放或暂时关闭，请稍后再试");
/// 05: accepted, the result is not known yet.
pub(crate) const PROCESSING: Resp = Resp::new("05", "交易已受理，请稍后查询交易结果");
/// 10: a field is malformed or has a value the gateway does not take.
pub(crate) const FORMAT: Resp = Resp::new("10", "报文格式错误");
/// 11: the signature does not verify (or names no known certificate).
pub(crate) const SIGNATURE: Resp = Resp::new("11", "验证签名失败");
/// 12: this `orderId` + `txnTime` was used already.
pub(crate) const DUPLICATE: Resp = Resp::new("12", "重复交易");
/// 13: a required field is missing.
pub(crate) const MISSING: Resp = Resp::new("13", "报文交易要素缺失");
/// 31: not the emulated merchant.
pub(crate) const MERCHANT: Resp = Resp::new("31", "商户状态不正确");
/// 32: a transaction type the emulator does not play.
pub(crate) const NO_PERMISSION: Resp = Resp::new("32", "无此交易权限");
/// 33: more than is left to refund.
pub(crate) const AMOUNT_LIMIT: Resp = Resp::new("33", "交易金额超限");
/// 34: no such transaction.
pub(crate) const NOT_FOUND: Resp = Resp::new("34", "查无此交易[2600000]");
/// 35: the original transaction does not exist or cannot take this.
pub(crate) const ORIGINAL: Resp = Resp::new("35", "原交易不存在或状态不正确");
/// 36: does not match the original (a cancellation of another amount).
pub(crate) const MISMATCH: Resp = Resp::new("36", "与原交易信息不符");
/// 45: the original was refunded in full or cancelled.
pub(crate) const REVERSED: Resp = Resp::new("45", "原交易已被成功退货或已被成功撤销");
/// 60: the card's bank declined.
pub(crate) const ISSUER_DECLINED: Resp = Resp::new("60", "交易失败，详情请咨询您的发卡行");
/// 64: not enough money on the card.
pub(crate) const INSUFFICIENT_FUNDS: Resp = Resp::new("64", "卡上的余额不足");
/// 69: the shopper did not finish before `payTimeout`.
pub(crate) const TIMED_OUT: Resp = Resp::new("69", "您的输入超时，交易失败");
/// 71: the SMS code was wrong too many times.
pub(crate) const SMS_FAILED: Resp = Resp::new("71", "动态口令或短信验证码校验失败");

/// A refused request: its code, and what was wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub resp: Resp,
    pub detail: String,
}

impl Refusal {
    pub(crate) fn new(resp: Resp, detail: impl Into<String>) -> Refusal {
        Refusal {
            resp,
            detail: detail.into(),
        }
    }

    /// `respMsg`: the table's text and the sandbox's note.
    pub(crate) fn msg(&self) -> String {
        if self.detail.is_empty() {
            self.resp.msg.to_owned()
        } else {
            format!("{} (sandbox: {})", self.resp.msg, self.detail)
        }
    }
}

/// A request's fields, in the order they came.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Fields {
    pairs: Vec<(String, String)>,
}

impl Fields {
    /// Reads a form body (URL-decoded, `+` as a space); the first
    /// occurrence of a name wins.
    pub(crate) fn parse(body: &[u8]) -> Fields {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for (name, value) in form_urlencoded::parse(body) {
            if !pairs.iter().any(|(known, _)| *known == name) {
                pairs.push((name.into_owned(), value.into_owned()));
            }
        }
        Fields { pairs }
    }

    /// The value of `name`, when it is present and not empty.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(known, _)| known == name)
            .map(|(_, value)| value.as_str())
            .filter(|value| !value.is_empty())
    }

    /// The value of `name`, or 13 saying it is missing.
    pub(crate) fn require(&self, name: &str) -> Result<&str, Refusal> {
        self.get(name)
            .ok_or_else(|| Refusal::new(MISSING, format!("{name} is missing")))
    }

    /// The string the merchant signed.
    pub(crate) fn sign_content(&self) -> String {
        sign_content(
            self.pairs
                .iter()
                .map(|(name, value)| (name.as_str(), value.as_str())),
        )
    }
}

/// Every field but `signature` and those with empty values, sorted by
/// name, `k=v` joined with `&`.
pub(crate) fn sign_content<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    let mut pairs: Vec<(&str, &str)> = pairs
        .filter(|(name, value)| *name != "signature" && !value.is_empty())
        .collect();
    pairs.sort_by(|a, b| a.0.cmp(b.0));
    pairs
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// What `signMethod=01` signs: the SHA-256 of the content, lowercase hex.
pub(crate) fn digest_hex(content: &str) -> String {
    digest(&SHA256, content.as_bytes())
        .as_ref()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Fields the gateway sends, kept sorted by name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Message {
    fields: std::collections::BTreeMap<String, String>,
}

impl Message {
    pub(crate) fn new() -> Message {
        Message::default()
    }

    /// Adds a field; an empty value is not sent.
    pub(crate) fn with(mut self, name: &str, value: impl Into<String>) -> Message {
        self.set(name, value);
        self
    }

    /// Adds a field when there is a value.
    pub(crate) fn with_some(self, name: &str, value: Option<impl Into<String>>) -> Message {
        match value {
            Some(value) => self.with(name, value),
            None => self,
        }
    }

    /// Sets a field; an empty value is not sent.
    pub(crate) fn set(&mut self, name: &str, value: impl Into<String>) {
        let value = value.into();
        if value.is_empty() {
            self.fields.remove(name);
        } else {
            self.fields.insert(name.to_owned(), value);
        }
    }

    /// Copies the named fields that `request` has.
    pub(crate) fn echo(mut self, request: &Fields, names: &[&str]) -> Message {
        for name in names {
            if let Some(value) = request.get(name) {
                self.set(name, value);
            }
        }
        self
    }

    /// A field's value.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }

    /// The fields, `signPubKeyCert` of `signer` and its `signature` over
    /// all of them, in the order the gateway sends them.
    pub(crate) fn signed(
        &self,
        keys: &Keys,
        signer: Signer,
    ) -> Result<Vec<(String, String)>, String> {
        let mut pairs: Vec<(String, String)> = self
            .fields
            .iter()
            .filter(|(name, _)| *name != "signPubKeyCert" && *name != "signature")
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect();
        pairs.push(("signPubKeyCert".into(), keys.cert_pem(signer).to_owned()));
        let content = sign_content(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let signature = keys.sign(signer, digest_hex(&content).as_bytes())?;
        pairs.push(("signature".into(), signature));
        Ok(pairs)
    }
}

/// An answer's body: `k=v&...`, values raw.
pub(crate) fn answer_text(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// A form body (a notification's): URL-encoded as a browser encodes it.
pub(crate) fn form_text(pairs: &[(String, String)]) -> String {
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.extend_pairs(pairs.iter());
    form.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_every_non_empty_field_but_signature_sorted_and_raw() {
        let fields = Fields::parse(
            b"version=5.1.0&txnAmt=1&signature=a%2Bb&frontUrl=http%3A%2F%2Fx%2Fy%3Fa%3D1&empty=&orderId=a1b2c3d4&txnAmt=2",
        );
        assert_eq!(fields.get("txnAmt"), Some("1"), "the first one counts");
        assert_eq!(fields.get("signature"), Some("a+b"));
        assert_eq!(fields.get("empty"), None);
        assert_eq!(
            fields.require("certId"),
            Err(Refusal::new(MISSING, "certId is missing"))
        );
        assert_eq!(
            fields.sign_content(),
            "frontUrl=http://x/y?a=1&orderId=a1b2c3d4&txnAmt=1&version=5.1.0"
        );
        assert_eq!(
            digest_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn answers_are_raw_and_forms_are_encoded() {
        let pairs = vec![
            ("respMsg".to_owned(), "成功[0000000]".to_owned()),
            ("signature".to_owned(), "a+b/c=".to_owned()),
        ];
        assert_eq!(
            answer_text(&pairs),
            "respMsg=成功[0000000]&signature=a+b/c="
        );
        assert_eq!(
            form_text(&pairs),
            "respMsg=%E6%88%90%E5%8A%9F%5B0000000%5D&signature=a%2Bb%2Fc%3D"
        );
    }

    #[test]
    fn refusals_say_what_was_wrong() {
        assert_eq!(
            Refusal::new(FORMAT, "orderId must be 8 to 32 letters and digits").msg(),
            "报文格式错误 (sandbox: orderId must be 8 to 32 letters and digits)"
        );
        assert_eq!(Refusal::new(DUPLICATE, "").msg(), "重复交易");
    }
}
