//! The gateway's wire format, as Alipay documents it and its SDKs read it.
//!
//! Documented (opendocs common/057k53 "自行实现签名", 02mse7 "自行实现验签",
//! 02km9f "公共错误码"; the official Python and Node.js SDKs):
//! - A request's parameters are form fields; the SDKs send the common ones
//!   in the query string and `biz_content` in an
//!   `application/x-www-form-urlencoded` body, so the gateway reads both.
//!   Values are signed as they are after URL decoding.
//! - The string to sign is every parameter with a non-empty value except
//!   `sign` (`sign_type` included), sorted by name, joined `k=v&...`.
//! - An answer is `{"<method, dots as underscores>_response":{...},"sign":"..."}`
//!   where `sign` is RSA2 over the exact text of the response object as
//!   sent; every answer is HTTP 200 and `code` says how it went: 10000
//!   Success, 20000 unavailable, 40001 missing, 40002 invalid, 40004
//!   business failure (`sub_code` `ACQ.*`), 40005 call limited.
//! - Errors the gateway raises before it knows the application carry no
//!   `sign` (a probe of the real gateway, recorded in public notes:
//!   `isv.invalid-app-id` came unsigned), nor do `error_response` answers
//!   (as the SDKs' tests record them, e.g. `isv.code-invalid`).
//!
//! Observed rather than documented, and emulated: answers are
//! `text/html;charset=utf-8` with a JSON body; `/` in values is written
//! `\/` (the Java SDK retries a failed check with that escaping; a merchant
//! that verifies the raw text is unaffected); `code` and `msg` come first,
//! then `sub_code` and `sub_msg`, then the other fields by name.
//!
//! Assumed: when a name is repeated (in the query and the body, say), the
//! first occurrence counts.

use std::collections::BTreeMap;

use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::keys::Keys;

/// The node an error answer uses when it cannot name the method.
pub(crate) const ERROR_RESPONSE: &str = "error_response";

/// A request's parameters: the query string's first, then the form body's.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    /// Reads `query` and a form `body` (URL-decoded, `+` as a space); the
    /// first occurrence of a name wins.
    pub(crate) fn parse(query: Option<&str>, body: &[u8]) -> Params {
        let query = query.unwrap_or_default().as_bytes();
        let mut pairs: Vec<(String, String)> = Vec::new();
        for (name, value) in form_urlencoded::parse(query).chain(form_urlencoded::parse(body)) {
            if !pairs.iter().any(|(known, _)| *known == name) {
                pairs.push((name.into_owned(), value.into_owned()));
            }
        }
        Params { pairs }
    }

    /// The value of `name`, when it is present and not empty.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(known, _)| known == name)
            .map(|(_, value)| value.as_str())
            .filter(|value| !value.is_empty())
    }

    /// The string the merchant signed: every non-empty parameter but `sign`,
    /// sorted by name, `k=v` joined with `&`.
    pub(crate) fn sign_content(&self) -> String {
        let mut pairs: Vec<&(String, String)> = self
            .pairs
            .iter()
            .filter(|(name, value)| name != "sign" && !value.is_empty())
            .collect();
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        pairs
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// A response object: `code` and `msg` (and `sub_code`, `sub_msg`) first,
/// then the other fields by name.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Node {
    head: Vec<(&'static str, Value)>,
    rest: BTreeMap<&'static str, Value>,
}

impl Node {
    /// `{"code":"10000","msg":"Success", ...}`.
    pub(crate) fn success() -> Node {
        Node {
            head: vec![("code", "10000".into()), ("msg", "Success".into())],
            rest: BTreeMap::new(),
        }
    }

    /// A node with no `code` at all (`alipay.system.oauth.token` answers so).
    pub(crate) fn bare() -> Node {
        Node::default()
    }

    /// Adds a field.
    pub(crate) fn with(mut self, name: &'static str, value: impl Into<Value>) -> Node {
        self.rest.insert(name, value.into());
        self
    }

    /// Adds a field when there is a value.
    pub(crate) fn with_some(self, name: &'static str, value: Option<impl Into<Value>>) -> Node {
        match value {
            Some(value) => self.with(name, value),
            None => self,
        }
    }

    /// The object's JSON text exactly as the gateway sends (and signs) it.
    pub(crate) fn text(&self) -> String {
        let fields = self
            .head
            .iter()
            .map(|(name, value)| (*name, value))
            .chain(self.rest.iter().map(|(name, value)| (*name, value)));
        let members: Vec<String> = fields
            .map(|(name, value)| format!("{}:{value}", Value::from(name)))
            .collect();
        // JSON has `/` only inside strings, so this escapes exactly those.
        format!("{{{}}}", members.join(",")).replace('/', "\\/")
    }
}

/// A refused call: its node, and how the gateway sends it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Refusal {
    node: Node,
    /// The `sub_code`, for logs and the cashier's error page.
    pub(crate) sub_code: String,
    /// The `sub_msg`.
    pub(crate) sub_msg: String,
    signed: bool,
    error_node: bool,
}

impl Refusal {
    fn new(code: &str, msg: &str, sub_code: &str, sub_msg: impl Into<String>) -> Refusal {
        let sub_msg = sub_msg.into();
        Refusal {
            node: Node {
                head: vec![
                    ("code", code.into()),
                    ("msg", msg.into()),
                    ("sub_code", sub_code.into()),
                    ("sub_msg", sub_msg.clone().into()),
                ],
                rest: BTreeMap::new(),
            },
            sub_code: sub_code.to_owned(),
            sub_msg,
            signed: true,
            error_node: false,
        }
    }

    /// 40001: a required common parameter is missing.
    pub(crate) fn missing(sub_code: &str, sub_msg: impl Into<String>) -> Refusal {
        Refusal::new("40001", "Missing Required Arguments", sub_code, sub_msg)
    }

    /// 40002: a common parameter is invalid.
    pub(crate) fn invalid(sub_code: &str, sub_msg: impl Into<String>) -> Refusal {
        Refusal::new("40002", "Invalid Arguments", sub_code, sub_msg)
    }

    /// 40004: the business refused (`ACQ.*`).
    pub(crate) fn business(sub_code: &str, sub_msg: impl Into<String>) -> Refusal {
        Refusal::new("40004", "Business Failed", sub_code, sub_msg)
    }

    /// 40004 `ACQ.INVALID_PARAMETER`, saying what is wrong.
    pub(crate) fn invalid_parameter(detail: impl std::fmt::Display) -> Refusal {
        Refusal::business("ACQ.INVALID_PARAMETER", format!("参数无效：{detail}"))
    }

    /// 20000 `isp.unknow-error` (sic): the service is down.
    pub(crate) fn unavailable() -> Refusal {
        Refusal::new(
            "20000",
            "Service Currently Unavailable",
            "isp.unknow-error",
            "系统繁忙",
        )
    }

    /// 40005 `isv.app-call-limited`: too many calls.
    pub(crate) fn call_limited() -> Refusal {
        Refusal::new(
            "40005",
            "Call Limited",
            "isv.app-call-limited",
            "应用调用频次超限",
        )
    }

    /// Sent without `sign` (the gateway does not know the application yet).
    pub(crate) fn unsigned(mut self) -> Refusal {
        self.signed = false;
        self
    }

    /// Sent in `error_response` rather than the method's node (and, as
    /// those are, unsigned).
    pub(crate) fn in_error_response(mut self) -> Refusal {
        self.error_node = true;
        self.signed = false;
        self
    }

    /// Adds a business field to the node (`out_trade_no`, `refund_fee`, ...).
    pub(crate) fn with(mut self, name: &'static str, value: impl Into<Value>) -> Refusal {
        self.node.rest.insert(name, value.into());
        self
    }

    /// Adds a field when there is a value.
    pub(crate) fn with_some(self, name: &'static str, value: Option<impl Into<Value>>) -> Refusal {
        match value {
            Some(value) => self.with(name, value),
            None => self,
        }
    }
}

/// `alipay.trade.query` -> `alipay_trade_query_response`.
pub(crate) fn response_key(method: &str) -> String {
    format!("{}_response", method.replace('.', "_"))
}

/// The gateway's HTTP answer for `method` (`None`: not known yet).
pub(crate) fn respond(
    keys: &Keys,
    method: Option<&str>,
    outcome: Result<Node, Refusal>,
) -> Response {
    let (key, node, signed) = match outcome {
        Ok(node) => (method.map(response_key), node, true),
        Err(refusal) => {
            let key = (!refusal.error_node).then(|| method.map(response_key));
            (key.flatten(), refusal.node, refusal.signed)
        }
    };
    let key = key.unwrap_or_else(|| ERROR_RESPONSE.to_owned());
    let text = node.text();
    // The key is serialised too: an unknown method is the caller's text.
    let mut body = format!("{{{}:{text}", Value::from(key));
    if signed {
        match keys.sign(text.as_bytes()) {
            Ok(signature) => {
                body.push_str(",\"sign\":");
                body.push_str(&Value::from(signature).to_string());
            }
            Err(error) => tracing::error!(%error, "cannot sign a gateway answer"),
        }
    }
    body.push('}');
    (
        StatusCode::OK,
        [(CONTENT_TYPE, "text/html;charset=utf-8")],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_the_query_and_the_body_and_decodes_them() {
        let params = Params::parse(
            Some("app_id=1&timestamp=2024-01-02+03%3A04%3A05&sign=a%2Bb%3D"),
            b"biz_content=%7B%22a%22%3A1%7D&app_id=2&empty=",
        );
        assert_eq!(params.get("app_id"), Some("1"), "the query's comes first");
        assert_eq!(params.get("timestamp"), Some("2024-01-02 03:04:05"));
        assert_eq!(params.get("sign"), Some("a+b="));
        assert_eq!(params.get("biz_content"), Some("{\"a\":1}"));
        assert_eq!(params.get("empty"), None);
        assert_eq!(params.get("absent"), None);
    }

    #[test]
    fn signs_every_non_empty_parameter_but_sign_sorted() {
        let params = Params::parse(
            Some("sign_type=RSA2&sign=xyz&app_id=9021&method=alipay.trade.query&empty="),
            b"biz_content=%7B%7D&charset=utf-8",
        );
        assert_eq!(
            params.sign_content(),
            "app_id=9021&biz_content={}&charset=utf-8&method=alipay.trade.query&sign_type=RSA2"
        );
    }

    #[test]
    fn writes_code_and_msg_first_and_escapes_slashes() {
        let node = Node::success()
            .with("qr_code", "https://qr.alipay.com/bax01")
            .with("out_trade_no", "o_1");
        assert_eq!(
            node.text(),
            r#"{"code":"10000","msg":"Success","out_trade_no":"o_1","qr_code":"https:\/\/qr.alipay.com\/bax01"}"#
        );
        assert_eq!(
            Node::bare().with("user_id", "2088").text(),
            r#"{"user_id":"2088"}"#
        );
        let refusal =
            Refusal::business("ACQ.TRADE_NOT_EXIST", "交易不存在").with("out_trade_no", "o");
        assert_eq!(
            refusal.node.text(),
            r#"{"code":"40004","msg":"Business Failed","sub_code":"ACQ.TRADE_NOT_EXIST","sub_msg":"交易不存在","out_trade_no":"o"}"#
        );
    }

    #[test]
    fn names_the_node_after_the_method() {
        assert_eq!(
            response_key("alipay.trade.fastpay.refund.query"),
            "alipay_trade_fastpay_refund_query_response"
        );
    }
}
