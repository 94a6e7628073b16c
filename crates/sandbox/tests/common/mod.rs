//! Helpers of the sandbox's tests, written apart from the emulator's code:
//! a merchant that signs its requests and checks the answers, a
//! notification receiver, and WeChat's decryption (Alipay's merchant is in
//! `alipay`, UnionPay's in `unionpay`, China Mobile Pay's in `cmpay`).

#![allow(dead_code)]

pub mod alipay;
pub mod cmpay;
pub mod unionpay;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    KeyPair, RsaKeyPair, UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256,
};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use payment_sandbox::{app_with_clock, Clock, SandboxConfig};
use rand::distributions::{Alphanumeric, DistString};
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

pub const MCHID: &str = "1900000001";
pub const APPID: &str = "wx8888888888888888";
pub const APP_SECRET: &str = "sandbox-app-secret";
pub const MERCHANT_PRIVATE_KEY: &str = include_str!("../../keys/merchant_private.pem");
pub const PLATFORM_PRIVATE_KEY: &str = include_str!("../../keys/platform_private.pem");
pub const PLATFORM_PUBLIC_KEY: &str = include_str!("../../keys/platform_public.pem");

/// The DER of a PEM's first block.
pub fn pem_der(pem: &str) -> Vec<u8> {
    let body: String = pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    STANDARD.decode(body).expect("PEM base64")
}

/// A running sandbox, and a merchant talking to it.
pub struct Sandbox {
    pub url: String,
    pub clock: Clock,
    pub http: reqwest::Client,
    pub config: SandboxConfig,
    merchant_key: RsaKeyPair,
    platform_public: Vec<u8>,
}

impl Sandbox {
    /// The demo sandbox on 127.0.0.1:0.
    pub async fn start() -> Sandbox {
        Sandbox::start_with(SandboxConfig::demo()).await
    }

    pub async fn start_with(config: SandboxConfig) -> Sandbox {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let clock = Clock::system();
        let app = app_with_clock(config.clone(), url.clone(), clock.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });

        let merchant_key = RsaKeyPair::from_pkcs8(&pem_der(MERCHANT_PRIVATE_KEY)).unwrap();
        // The platform's public key, as aws-lc-rs takes it (PKCS#1), is the tail
        // of the SPKI the merchant was given; check the two files agree.
        let platform = RsaKeyPair::from_pkcs8(&pem_der(PLATFORM_PRIVATE_KEY)).unwrap();
        let platform_public = platform.public_key().as_ref().to_vec();
        assert!(pem_der(PLATFORM_PUBLIC_KEY).ends_with(&platform_public));

        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Sandbox {
            url,
            clock,
            http,
            config,
            merchant_key,
            platform_public,
        }
    }

    pub fn now(&self) -> i64 {
        self.clock.unix_seconds()
    }

    /// SHA256withRSA with the merchant key, base64.
    pub fn merchant_sign(&self, message: &str) -> String {
        let mut signature = vec![0; self.merchant_key.public_modulus_len()];
        self.merchant_key
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                message.as_bytes(),
                &mut signature,
            )
            .unwrap();
        STANDARD.encode(signature)
    }

    /// An `Authorization` header for a request, in wechatpay-go's field order.
    pub fn authorization(
        &self,
        method: &str,
        signed_path: &str,
        timestamp: i64,
        body: &str,
    ) -> String {
        let nonce = Alphanumeric.sample_string(&mut rand::thread_rng(), 32);
        let signature = self.merchant_sign(&format!(
            "{method}\n{signed_path}\n{timestamp}\n{nonce}\n{body}\n"
        ));
        format!(
            "WECHATPAY2-SHA256-RSA2048 mchid=\"{MCHID}\",nonce_str=\"{nonce}\",timestamp=\"{timestamp}\",serial_no=\"{}\",signature=\"{signature}\"",
            self.config.wechat.merchant_serial
        )
    }

    /// A call to the pay API (`path` after the base URL), signed now over
    /// the path as the host receives it.
    pub async fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Answer {
        let body = body.map(Value::to_string).unwrap_or_default();
        let received = format!("/wechat-pay{path}");
        let authorization = self.authorization(method, &received, self.now(), &body);
        self.send(method, path, &body, Some(authorization)).await
    }

    /// A request to the pay API with the given `Authorization`.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        body: &str,
        authorization: Option<String>,
    ) -> Answer {
        let url = format!("{}/wechat-pay{path}", self.url);
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self
            .http
            .request(method, url)
            .header("Accept", "application/json");
        if let Some(authorization) = authorization {
            request = request.header("Authorization", authorization);
        }
        if !body.is_empty() {
            request = request
                .header("Content-Type", "application/json")
                .body(body.to_owned());
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.bytes().await.unwrap().to_vec();
        let answer = Answer {
            status,
            headers,
            body,
        };
        self.assert_signed(&answer.headers, &answer.body);
        answer
    }

    /// Checks `Wechatpay-*` headers over `body` with the platform key.
    pub fn assert_signed(&self, headers: &reqwest::header::HeaderMap, body: &[u8]) {
        let get = |name: &str| {
            headers
                .get(name)
                .unwrap_or_else(|| panic!("no {name} header"))
                .to_str()
                .unwrap()
                .to_owned()
        };
        assert_eq!(get("Wechatpay-Serial"), self.config.wechat.platform_key_id);
        let timestamp = get("Wechatpay-Timestamp");
        let at: i64 = timestamp.parse().unwrap();
        assert!((self.now() - at).abs() < 300, "a fresh timestamp");
        let mut message = format!("{timestamp}\n{}\n", get("Wechatpay-Nonce")).into_bytes();
        message.extend_from_slice(body);
        message.push(b'\n');
        let signature = STANDARD.decode(get("Wechatpay-Signature")).unwrap();
        UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &self.platform_public)
            .verify(&message, &signature)
            .expect("the platform's signature verifies");
    }

    /// A prepay body for `kind` ("native", "h5", "jsapi").
    pub fn prepay(&self, kind: &str, out_trade_no: &str, total: i64, notify_url: &str) -> Value {
        let mut body = serde_json::json!({
            "appid": APPID,
            "mchid": MCHID,
            "description": "Demo Tea House - Longjing 250 g",
            "out_trade_no": out_trade_no,
            "time_expire": self.wechat_time(self.now() + 900),
            "notify_url": notify_url,
            "amount": { "total": total, "currency": "CNY" },
        });
        if kind == "h5" {
            body["scene_info"] = serde_json::json!({
                "payer_client_ip": "127.0.0.1",
                "h5_info": { "type": "Wap" },
            });
        }
        body
    }

    /// RFC 3339 in Beijing time.
    pub fn wechat_time(&self, at: i64) -> String {
        OffsetDateTime::from_unix_timestamp(at)
            .unwrap()
            .to_offset(UtcOffset::from_hms(8, 0, 0).unwrap())
            .format(&Rfc3339)
            .unwrap()
    }

    /// `GET .../out-trade-no/{no}?mchid=`.
    pub async fn query(&self, out_trade_no: &str) -> Answer {
        self.call(
            "GET",
            &format!("/v3/pay/transactions/out-trade-no/{out_trade_no}?mchid={MCHID}"),
            None,
        )
        .await
    }

    /// A native order's `code_url`.
    pub async fn create_native(&self, out_trade_no: &str, notify_url: &str) -> String {
        let answer = self
            .call(
                "POST",
                "/v3/pay/transactions/native",
                Some(&self.prepay("native", out_trade_no, 12800, notify_url)),
            )
            .await;
        assert_eq!(answer.status, 200, "{}", answer.text());
        answer.json()["code_url"].as_str().unwrap().to_owned()
    }

    /// The phone scans and pays or declines.
    pub async fn scan(&self, code_url: &str, outcome: &str) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}/phone/scan", self.url))
            .json(&serde_json::json!({ "code_url": code_url, "outcome": outcome }))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    /// `POST /control`.
    pub async fn control(&self, change: Value) -> Value {
        let response = self
            .http
            .post(format!("{}/control", self.url))
            .json(&change)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    /// Decrypts a notification's resource with the APIv3 key.
    pub fn decrypt(&self, resource: &Value) -> Value {
        let key = LessSafeKey::new(
            UnboundKey::new(&AES_256_GCM, self.config.wechat.apiv3_key.as_bytes()).unwrap(),
        );
        let nonce =
            Nonce::try_assume_unique_for_key(resource["nonce"].as_str().unwrap().as_bytes())
                .unwrap();
        let aad = resource["associated_data"].as_str().unwrap();
        let mut sealed = STANDARD
            .decode(resource["ciphertext"].as_str().unwrap())
            .unwrap();
        let plain = key
            .open_in_place(nonce, Aad::from(aad.as_bytes()), &mut sealed)
            .expect("the resource decrypts");
        serde_json::from_slice(plain).unwrap()
    }

    /// Checks a refund notification's signature and envelope; its event
    /// type and its refund.
    pub fn open_refund_notification(&self, notification: &Received) -> (String, Value) {
        let mut headers = reqwest::header::HeaderMap::new();
        for (name, value) in &notification.headers {
            headers.insert(name.clone(), value.clone());
        }
        self.assert_signed(&headers, &notification.body);
        let envelope: Value = serde_json::from_slice(&notification.body).unwrap();
        assert_eq!(envelope["resource_type"], "encrypt-resource");
        let resource = &envelope["resource"];
        assert_eq!(resource["original_type"], "refund");
        assert_eq!(resource["algorithm"], "AEAD_AES_256_GCM");
        assert_eq!(resource["associated_data"], "refund");
        let kind = envelope["event_type"].as_str().unwrap().to_owned();
        (kind, self.decrypt(resource))
    }

    /// Checks a notification's signature and envelope; its transaction.
    pub fn open_notification(&self, notification: &Received) -> Value {
        let mut headers = reqwest::header::HeaderMap::new();
        for (name, value) in &notification.headers {
            headers.insert(name.clone(), value.clone());
        }
        self.assert_signed(&headers, &notification.body);
        assert_eq!(headers["content-type"], "application/json");
        let envelope: Value = serde_json::from_slice(&notification.body).unwrap();
        assert_eq!(envelope["resource_type"], "encrypt-resource");
        assert_eq!(envelope["event_type"], "TRANSACTION.SUCCESS");
        assert_eq!(envelope["summary"], "支付成功");
        assert!(envelope["create_time"]
            .as_str()
            .unwrap()
            .ends_with("+08:00"));
        let resource = &envelope["resource"];
        assert_eq!(resource["original_type"], "transaction");
        assert_eq!(resource["algorithm"], "AEAD_AES_256_GCM");
        assert_eq!(resource["associated_data"], "transaction");
        assert_eq!(resource["nonce"].as_str().unwrap().len(), 12);
        self.decrypt(resource)
    }
}

/// An answer of the pay API.
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|_| panic!("JSON: {}", self.text()))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Asserts a WeChat error answer.
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "{}", self.text());
        let body = self.json();
        assert_eq!(body["code"], code, "{body}");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
}

/// One request the receiver got.
#[derive(Clone, Debug)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Bytes,
    pub at: Instant,
}

impl Received {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

#[derive(Default)]
struct ReceiverState {
    received: Vec<Received>,
    fail_first: usize,
}

/// A merchant's notify endpoint: records what arrives, answers 204 (or 500
/// to the first `fail_first`).
#[derive(Clone)]
pub struct NotifyReceiver {
    pub url: String,
    state: Arc<Mutex<ReceiverState>>,
}

impl NotifyReceiver {
    pub async fn start() -> NotifyReceiver {
        NotifyReceiver::failing_first(0).await
    }

    pub async fn failing_first(fail_first: usize) -> NotifyReceiver {
        let state = Arc::new(Mutex::new(ReceiverState {
            received: Vec::new(),
            fail_first,
        }));
        let app = Router::new()
            .route("/notify/wechat-pay", post(receive))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "http://{}/notify/wechat-pay",
            listener.local_addr().unwrap()
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        NotifyReceiver { url, state }
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }

    /// Waits until `count` requests have arrived (at most `within`).
    pub async fn wait_for(&self, count: usize, within: Duration) -> Vec<Received> {
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
) -> StatusCode {
    let mut state = state.lock().unwrap();
    state.received.push(Received {
        headers,
        body,
        at: Instant::now(),
    });
    if state.received.len() <= state.fail_first {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::NO_CONTENT
    }
}

/// Percent-encodes a query value.
pub fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
