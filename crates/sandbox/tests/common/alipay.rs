//! The tests' own Alipay merchant, written from Alipay's documents apart
//! from the emulator's code: it signs gateway calls with the application's
//! key (RSA2 over every non-empty parameter but `sign`, sorted), cuts the
//! response object out of an answer and checks it with Alipay's public key,
//! and checks sync returns and notifications the way merchants do (every
//! field but `sign` and `sign_type`). Also a notify endpoint that answers
//! `success`, or `fail` to the first few.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    RsaKeyPair, UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256,
};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::Router;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use payment_sandbox::{app_with_clock, Clock, SandboxConfig};
use serde_json::{json, Value};
use time::macros::{format_description, offset};
use time::OffsetDateTime;

use super::pem_der;

pub const APP_ID: &str = "9021000142691120";
pub const SELLER_ID: &str = "2088721000000001";
pub const APP_PRIVATE_KEY: &str = include_str!("../../keys/alipay_app_private.pem");
pub const ALIPAY_PUBLIC_KEY: &str = include_str!("../../keys/alipay_platform_public.pem");

/// A running sandbox, and an Alipay merchant talking to it.
pub struct Alipay {
    pub url: String,
    pub clock: Clock,
    pub http: reqwest::Client,
    app_key: RsaKeyPair,
    /// Alipay's public key as SPKI DER (aws-lc-rs reads it as is).
    alipay_public: Vec<u8>,
}

impl Alipay {
    /// The demo sandbox on 127.0.0.1:0.
    pub async fn start() -> Alipay {
        Alipay::start_with(SandboxConfig::demo()).await
    }

    pub async fn start_with(config: SandboxConfig) -> Alipay {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let clock = Clock::system();
        let app = app_with_clock(config, url.clone(), clock.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Alipay {
            url,
            clock,
            http,
            app_key: RsaKeyPair::from_pkcs8(&pem_der(APP_PRIVATE_KEY)).unwrap(),
            alipay_public: pem_der(ALIPAY_PUBLIC_KEY),
        }
    }

    pub fn gateway(&self) -> String {
        format!("{}/alipay/gateway.do", self.url)
    }

    /// `yyyy-MM-dd HH:mm:ss` in Beijing.
    pub fn beijing(&self, at: i64) -> String {
        OffsetDateTime::from_unix_timestamp(at)
            .unwrap()
            .to_offset(offset!(+8))
            .format(format_description!(
                "[year]-[month]-[day] [hour]:[minute]:[second]"
            ))
            .unwrap()
    }

    pub fn now(&self) -> i64 {
        self.clock.unix_seconds()
    }

    /// RSA2 with the application's key, base64.
    pub fn sign(&self, content: &str) -> String {
        let mut signature = vec![0; self.app_key.public_modulus_len()];
        self.app_key
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                content.as_bytes(),
                &mut signature,
            )
            .unwrap();
        STANDARD.encode(signature)
    }

    /// Whether `sign` is Alipay's RSA2 signature of `content`.
    pub fn alipay_signed(&self, content: &str, sign: &str) -> bool {
        let Ok(signature) = STANDARD.decode(sign) else {
            return false;
        };
        UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &self.alipay_public)
            .verify(content.as_bytes(), &signature)
            .is_ok()
    }

    /// The common parameters of a call made now.
    pub fn common(&self, method: &str) -> Vec<(String, String)> {
        [
            ("app_id", APP_ID.to_owned()),
            ("method", method.to_owned()),
            ("format", "JSON".to_owned()),
            ("charset", "utf-8".to_owned()),
            ("sign_type", "RSA2".to_owned()),
            ("timestamp", self.beijing(self.now())),
            ("version", "1.0".to_owned()),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect()
    }

    /// `params` with their `sign` added.
    pub fn signed(&self, mut params: Vec<(String, String)>) -> Vec<(String, String)> {
        let sign = self.sign(&string_to_sign(&params, &["sign"]));
        params.push(("sign".to_owned(), sign));
        params
    }

    /// A signed call's parameters: the common ones, `extra`, `biz_content`.
    pub fn call_params(
        &self,
        method: &str,
        biz: &Value,
        extra: &[(&str, &str)],
    ) -> Vec<(String, String)> {
        let mut params = self.common(method);
        params.extend(extra.iter().map(|(n, v)| (n.to_string(), v.to_string())));
        params.push(("biz_content".to_owned(), biz.to_string()));
        self.signed(params)
    }

    /// A call as the SDKs send it: `biz_content` in the form body, the
    /// rest in the query string.
    pub async fn call(&self, method: &str, biz: &Value) -> Reply {
        self.call_with(method, biz, &[]).await
    }

    pub async fn call_with(&self, method: &str, biz: &Value, extra: &[(&str, &str)]) -> Reply {
        let params = self.call_params(method, biz, extra);
        let (form, query): (Vec<_>, Vec<_>) = params
            .into_iter()
            .partition(|(name, _)| name == "biz_content");
        self.send(method, &query, &form).await
    }

    /// A POST with these query and form parameters.
    pub async fn send(
        &self,
        method: &str,
        query: &[(String, String)],
        form: &[(String, String)],
    ) -> Reply {
        let response = self
            .http
            .post(self.gateway())
            .query(query)
            .form(form)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            200,
            "the gateway answers 200, whatever happened"
        );
        Reply {
            key: format!("{}_response", method.replace('.', "_")),
            raw: response.text().await.unwrap(),
        }
    }

    /// `POST /alipay/control`.
    pub async fn control(&self, change: Value) -> Value {
        let response = self
            .http
            .post(format!("{}/alipay/control", self.url))
            .json(&change)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    /// The phone scans `qr_code`: status and body.
    pub async fn scan(&self, qr_code: &str, outcome: &str) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}/alipay/phone/scan", self.url))
            .json(&json!({ "qr_code": qr_code, "outcome": outcome }))
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.json().await.unwrap())
    }

    /// What `tradePay`'s callback gets.
    pub async fn trade_pay(&self, trade_no: &str, outcome: &str) -> Value {
        let response = self
            .http
            .post(format!("{}/alipay/phone/trade-pay", self.url))
            .json(&json!({ "trade_no": trade_no, "outcome": outcome }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    /// A precreated order code for `total` yuan.
    pub async fn precreate(&self, out_trade_no: &str, total: &str, notify_url: &str) -> String {
        let reply = self
            .call_with(
                "alipay.trade.precreate",
                &json!({
                    "out_trade_no": out_trade_no,
                    "total_amount": total,
                    "subject": "Demo Tea House - Longjing 250 g",
                    "product_code": "QR_CODE_OFFLINE",
                }),
                &[("notify_url", notify_url)],
            )
            .await;
        reply.success(self)["qr_code"].as_str().unwrap().to_owned()
    }

    /// `alipay.trade.query` by `out_trade_no`.
    pub async fn query(&self, out_trade_no: &str) -> Reply {
        self.call(
            "alipay.trade.query",
            &json!({ "out_trade_no": out_trade_no }),
        )
        .await
    }

    /// Checks a notification (or a sync return) as merchants do: every
    /// field but `sign` and `sign_type`, sorted, over Alipay's key.
    pub fn check_form_signature(&self, fields: &[(String, String)]) -> bool {
        let Some((_, sign)) = fields.iter().find(|(name, _)| name == "sign") else {
            return false;
        };
        self.alipay_signed(&string_to_sign(fields, &["sign", "sign_type"]), sign)
    }
}

/// Alipay's string to sign: the parameters not `left_out` and not empty,
/// sorted by name, `name=value` joined with `&`, values as they are.
pub fn string_to_sign(params: &[(String, String)], left_out: &[&str]) -> String {
    let mut kept: Vec<&(String, String)> = params
        .iter()
        .filter(|(name, value)| !left_out.contains(&name.as_str()) && !value.is_empty())
        .collect();
    kept.sort_by(|a, b| a.0.cmp(&b.0));
    kept.iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Form fields (a body, a query string) decoded.
pub fn form_fields(text: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(text.as_bytes())
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect()
}

/// A field's value.
pub fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(known, _)| known == name)
        .map(|(_, value)| value.as_str())
}

/// A gateway answer, as text.
pub struct Reply {
    /// The node a successful answer of this method uses.
    pub key: String,
    pub raw: String,
}

impl Reply {
    /// The whole body as JSON.
    pub fn body(&self) -> Value {
        serde_json::from_str(&self.raw).unwrap_or_else(|_| panic!("JSON: {}", self.raw))
    }

    /// The response object exactly as sent: from the `{` after `"<key>":`
    /// to its matching `}`.
    pub fn node_text(&self, key: &str) -> String {
        let start = self
            .raw
            .find(&format!("\"{key}\""))
            .unwrap_or_else(|| panic!("no {key} in {}", self.raw));
        let open = start + self.raw[start..].find('{').unwrap();
        let (mut depth, mut in_string, mut escaped) = (0, false, false);
        for (offset, c) in self.raw[open..].char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' if in_string => escaped = true,
                '"' => in_string = !in_string,
                '{' if !in_string => depth += 1,
                '}' if !in_string => {
                    depth -= 1;
                    if depth == 0 {
                        return self.raw[open..=open + offset].to_owned();
                    }
                }
                _ => {}
            }
        }
        panic!("unbalanced answer: {}", self.raw)
    }

    /// The top-level `sign`, if any.
    pub fn sign(&self) -> Option<String> {
        self.body()["sign"].as_str().map(str::to_owned)
    }

    /// The node, its signature checked when there is one (`must_sign`:
    /// there must be one).
    fn checked_node(&self, key: &str, must_sign: bool, alipay: Option<&Alipay>) -> Value {
        let text = self.node_text(key);
        match (self.sign(), alipay) {
            (Some(sign), Some(alipay)) => assert!(
                alipay.alipay_signed(&text, &sign),
                "Alipay's signature over the node as sent: {}",
                self.raw
            ),
            (None, _) if must_sign => panic!("unsigned: {}", self.raw),
            _ => {}
        }
        serde_json::from_str(&text).unwrap()
    }

    /// A 10000 answer's node, its signature checked.
    pub fn success(&self, alipay: &Alipay) -> Value {
        let node = self.verified(alipay);
        assert_eq!(node["code"], "10000", "{}", self.raw);
        assert_eq!(node["msg"], "Success", "{}", self.raw);
        node
    }

    /// The method's node, signed, its signature checked.
    pub fn verified(&self, alipay: &Alipay) -> Value {
        self.checked_node(&self.key, true, Some(alipay))
    }

    /// A refusal in the method's node: `code`, `sub_code`; its signature
    /// checked when it has one.
    pub fn refused(&self, alipay: &Alipay, code: &str, sub_code: &str) -> Value {
        let node = self.checked_node(&self.key, false, Some(alipay));
        assert_eq!(node["code"], code, "{}", self.raw);
        assert_eq!(node["sub_code"], sub_code, "{}", self.raw);
        assert!(node["sub_msg"].as_str().is_some_and(|m| !m.is_empty()));
        node
    }

    /// A refusal in `error_response`.
    pub fn refused_in_error_response(&self, code: &str, sub_code: &str) -> Value {
        let node = self.body()["error_response"].clone();
        assert_eq!(node["code"], code, "{}", self.raw);
        assert_eq!(node["sub_code"], sub_code, "{}", self.raw);
        node
    }
}

/// One notification the receiver got.
#[derive(Clone, Debug)]
pub struct Notice {
    pub content_type: String,
    pub fields: Vec<(String, String)>,
    pub at: Instant,
}

impl Notice {
    pub fn get(&self, name: &str) -> Option<&str> {
        field(&self.fields, name)
    }
}

#[derive(Default)]
struct ReceiverState {
    received: Vec<Notice>,
    fail_first: usize,
}

/// A merchant's `notify_url`: records what arrives, answers `success` (or
/// `fail` to the first `fail_first`).
#[derive(Clone)]
pub struct FormReceiver {
    pub url: String,
    state: Arc<Mutex<ReceiverState>>,
}

impl FormReceiver {
    pub async fn start() -> FormReceiver {
        FormReceiver::failing_first(0).await
    }

    pub async fn failing_first(fail_first: usize) -> FormReceiver {
        let state = Arc::new(Mutex::new(ReceiverState {
            received: Vec::new(),
            fail_first,
        }));
        let app = Router::new()
            .route("/notify/alipay", post(receive))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/notify/alipay", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        FormReceiver { url, state }
    }

    pub fn received(&self) -> Vec<Notice> {
        self.state.lock().unwrap().received.clone()
    }

    /// Waits until `count` notifications have arrived (at most `within`).
    pub async fn wait_for(&self, count: usize, within: Duration) -> Vec<Notice> {
        let deadline = Instant::now() + within;
        loop {
            let received = self.received();
            if received.len() >= count || Instant::now() >= deadline {
                return received;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

async fn receive(
    State(state): State<Arc<Mutex<ReceiverState>>>,
    headers: HeaderMap,
    body: Bytes,
) -> &'static str {
    let mut state = state.lock().unwrap();
    state.received.push(Notice {
        content_type: headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned(),
        fields: form_fields(&String::from_utf8_lossy(&body)),
        at: Instant::now(),
    });
    if state.received.len() <= state.fail_first {
        "fail"
    } else {
        "success"
    }
}
