//! The tests' own UnionPay merchant, written from UnionPay's SDKs apart
//! from the emulator's code: it signs requests with the merchant's
//! committed key (SHA-256 of the sorted non-empty fields as lowercase hex,
//! signed SHA256withRSA), reads the gateway's raw `k=v&...` answers, and
//! checks what the gateway signs the way the SDKs' `validate` does: the
//! certificate in `signPubKeyCert` must chain to the committed root through
//! the intermediate, carry `00040000:SIGN` after its second `@`, be valid
//! now, and its key must verify the signature. Also a `backUrl` receiver
//! that can refuse the first few notifications.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    RsaKeyPair, UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256,
};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use payment_sandbox::{app_with_clock, Clock, SandboxConfig};
use serde_json::{json, Value};
use time::macros::{format_description, offset};
use time::OffsetDateTime;
use x509_cert::der::{DecodePem, Encode};
use x509_cert::Certificate;

use super::pem_der;

pub const MER_ID: &str = "777290058110048";
pub const CERT_ID: &str = "69042905377";
pub const MERCHANT_KEY: &str = include_str!("../../keys/unionpay_merchant_private.pem");
pub const MERCHANT_CERT: &str = include_str!("../../keys/unionpay_merchant.pem");
pub const ROOT: &str = include_str!("../../keys/unionpay_root.pem");
pub const MIDDLE: &str = include_str!("../../keys/unionpay_middle.pem");
pub const SIGN_CERT: &str = include_str!("../../keys/unionpay_sign.pem");
pub const ROGUE_CERT: &str = include_str!("../../keys/unionpay_rogue.pem");

/// A running sandbox, and a UnionPay merchant talking to it.
pub struct Unionpay {
    pub url: String,
    pub clock: Clock,
    pub http: reqwest::Client,
    merchant_key: RsaKeyPair,
}

impl Unionpay {
    pub async fn start() -> Unionpay {
        Unionpay::start_with(SandboxConfig::demo()).await
    }

    pub async fn start_with(config: SandboxConfig) -> Unionpay {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let clock = Clock::system();
        let app = app_with_clock(config, url.clone(), clock.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Unionpay {
            url,
            clock,
            http,
            merchant_key: RsaKeyPair::from_pkcs8(&pem_der(MERCHANT_KEY)).unwrap(),
        }
    }

    pub fn endpoint(&self, name: &str) -> String {
        format!("{}/unionpay/gateway/api/{name}", self.url)
    }

    /// `yyyyMMddHHmmss` in Beijing, `seconds` from now.
    pub fn beijing(&self, seconds: i64) -> String {
        OffsetDateTime::from_unix_timestamp(self.clock.unix_seconds() + seconds)
            .unwrap()
            .to_offset(offset!(+8))
            .format(format_description!(
                "[year][month][day][hour][minute][second]"
            ))
            .unwrap()
    }

    /// The common fields of a request made now, `certId` included.
    pub fn common(&self, txn_type: &str, txn_sub_type: &str, biz_type: &str) -> Fields {
        Fields(
            [
                ("version", "5.1.0"),
                ("encoding", "UTF-8"),
                ("signMethod", "01"),
                ("txnType", txn_type),
                ("txnSubType", txn_sub_type),
                ("bizType", biz_type),
                ("accessType", "0"),
                ("merId", MER_ID),
                ("certId", CERT_ID),
            ]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        )
    }

    /// `fields` with their `signature`.
    pub fn signed(&self, mut fields: Fields) -> Fields {
        fields.remove("signature");
        let digest = sha256_hex(&sign_content(&fields.0));
        let mut signature = vec![0; self.merchant_key.public_modulus_len()];
        self.merchant_key
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                digest.as_bytes(),
                &mut signature,
            )
            .unwrap();
        fields.set("signature", &STANDARD.encode(signature));
        fields
    }

    /// A form POST to one of the gateway's endpoints; the raw answer.
    pub async fn post(&self, endpoint: &str, fields: &Fields) -> (u16, String) {
        let response = self
            .http
            .post(self.endpoint(endpoint))
            .form(&fields.0)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    /// A signed server-to-server request; the answer, checked as the SDK
    /// checks it.
    pub async fn back(&self, endpoint: &str, fields: Fields) -> Fields {
        let (status, text) = self.post(endpoint, &self.signed(fields)).await;
        assert_eq!(status, 200, "{text}");
        let answer = parse_answer(&text);
        assert_eq!(
            validate(&answer),
            Ok(()),
            "UnionPay's signature and chain: {text}"
        );
        answer
    }

    /// A query of `orderId` + `txnTime`.
    pub async fn query(&self, order_id: &str, txn_time: &str) -> Fields {
        let mut fields = self.common("00", "00", "000000");
        fields.set("orderId", order_id);
        fields.set("txnTime", txn_time);
        self.back("queryTrans.do", fields).await
    }

    /// A consumption form for the card page, signed.
    pub fn front_form(
        &self,
        order_id: &str,
        txn_time: &str,
        amount: &str,
        front_url: &str,
        back_url: &str,
    ) -> Fields {
        let mut fields = self.common("01", "01", "000201");
        for (name, value) in [
            ("channelType", "07"),
            ("orderId", order_id),
            ("txnTime", txn_time),
            ("txnAmt", amount),
            ("currencyCode", "156"),
            ("frontUrl", front_url),
            ("backUrl", back_url),
            ("payTimeout", &self.beijing(15 * 60)),
            ("orderDesc", "Demo Tea House - Longjing 250 g"),
            ("riskRateInfo", "{commodityName=Longjing}"),
        ] {
            fields.set(name, value);
        }
        self.signed(fields)
    }

    /// The browser brings a form to `frontTransReq.do`: the page.
    pub async fn front(&self, fields: &Fields) -> String {
        let (status, page) = self.post("frontTransReq.do", fields).await;
        assert_eq!(status, 200, "{page}");
        page
    }

    /// A step of the card page (`card` or `sms`).
    pub async fn step(&self, step: &str, form: &[(&str, &str)]) -> String {
        let response = self
            .http
            .post(format!("{}/unionpay/cashier/{step}", self.url))
            .form(form)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.text().await.unwrap()
    }

    /// Applies for an order code; the answer.
    pub async fn apply_qr(
        &self,
        order_id: &str,
        txn_time: &str,
        amount: &str,
        back_url: &str,
    ) -> Fields {
        let mut fields = self.common("01", "07", "000000");
        for (name, value) in [
            ("channelType", "08"),
            ("orderId", order_id),
            ("txnTime", txn_time),
            ("txnAmt", amount),
            ("currencyCode", "156"),
            ("backUrl", back_url),
            ("payTimeout", &self.beijing(15 * 60)),
        ] {
            fields.set(name, value);
        }
        self.back("backTransReq.do", fields).await
    }

    /// A refund (`04`) or cancellation (`31`) of the payment `orig_qry_id`.
    pub async fn reverse(
        &self,
        txn_type: &str,
        orig_qry_id: &str,
        order_id: &str,
        txn_time: &str,
        amount: &str,
        back_url: &str,
    ) -> Fields {
        let mut fields = self.common(txn_type, "00", "000201");
        for (name, value) in [
            ("channelType", "07"),
            ("origQryId", orig_qry_id),
            ("orderId", order_id),
            ("txnTime", txn_time),
            ("txnAmt", amount),
            ("backUrl", back_url),
        ] {
            fields.set(name, value);
        }
        self.back("backTransReq.do", fields).await
    }

    /// The phone scans `qr_code`: status and body.
    pub async fn scan(&self, qr_code: &str, outcome: &str) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}/unionpay/phone/scan", self.url))
            .json(&json!({ "qr_code": qr_code, "outcome": outcome }))
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.json().await.unwrap())
    }

    /// `POST /unionpay/control`.
    pub async fn control(&self, change: Value) -> Value {
        let response = self
            .http
            .post(format!("{}/unionpay/control", self.url))
            .json(&change)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    pub async fn get_text(&self, path: &str) -> String {
        self.http
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }
}

/// Fields in order, as a form or an answer has them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Fields(pub Vec<(String, String)>);

impl Fields {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(known, _)| known == name)
            .map(|(_, value)| value.as_str())
    }

    /// The value, or a panic that shows the fields.
    pub fn must(&self, name: &str) -> &str {
        self.get(name)
            .unwrap_or_else(|| panic!("no {name} in {:?}", self.0))
    }

    pub fn set(&mut self, name: &str, value: &str) {
        self.remove(name);
        self.0.push((name.to_owned(), value.to_owned()));
    }

    pub fn remove(&mut self, name: &str) {
        self.0.retain(|(known, _)| known != name);
    }

    pub fn names(&self) -> Vec<&str> {
        self.0.iter().map(|(name, _)| name.as_str()).collect()
    }
}

/// The SDK's string to sign: non-empty fields but `signature`, sorted.
pub fn sign_content(fields: &[(String, String)]) -> String {
    let mut kept: Vec<&(String, String)> = fields
        .iter()
        .filter(|(name, value)| name != "signature" && !value.is_empty())
        .collect();
    kept.sort_by(|a, b| a.0.cmp(&b.0));
    kept.iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("&")
}

pub fn sha256_hex(text: &str) -> String {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, text.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A raw answer, `k=v&...` not URL-encoded, split as the SDK's
/// `parseQString` does (no value here has `&` in it).
pub fn parse_answer(text: &str) -> Fields {
    Fields(
        text.split('&')
            .map(|pair| {
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                (name.to_owned(), value.to_owned())
            })
            .collect(),
    )
}

/// A form body decoded.
pub fn parse_form(text: &str) -> Fields {
    Fields(
        form_urlencoded::parse(text.as_bytes())
            .map(|(name, value)| (name.into_owned(), value.into_owned()))
            .collect(),
    )
}

fn certificate(pem: &str) -> Certificate {
    Certificate::from_pem(pem.as_bytes()).unwrap()
}

/// Whether `issuer` signed `cert` (SHA256withRSA).
pub fn issued_by(cert: &Certificate, issuer: &Certificate) -> bool {
    let tbs = cert.tbs_certificate.to_der().unwrap();
    let Some(signature) = cert.signature.as_bytes() else {
        return false;
    };
    let Some(public) = issuer
        .tbs_certificate
        .subject_public_key_info
        .subject_public_key
        .as_bytes()
    else {
        return false;
    };
    cert.tbs_certificate.issuer == issuer.tbs_certificate.subject
        && UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, public)
            .verify(&tbs, signature)
            .is_ok()
}

/// The chain check of the SDKs' `verifyCertificate`: valid now, chained
/// to the root through the intermediate, and the part of its CN after the
/// second `@` is `00040000:SIGN` (the test environment's name).
pub fn check_chain(cert_pem: &str) -> Result<Certificate, String> {
    let cert = Certificate::from_pem(cert_pem.as_bytes()).map_err(|e| e.to_string())?;
    let (root, middle) = (certificate(ROOT), certificate(MIDDLE));
    let validity = &cert.tbs_certificate.validity;
    let now = std::time::SystemTime::now();
    if now < validity.not_before.to_system_time() || now > validity.not_after.to_system_time() {
        return Err("not valid now".into());
    }
    if !(issued_by(&cert, &middle) && issued_by(&middle, &root) && issued_by(&root, &root)) {
        return Err("does not chain to the root".into());
    }
    let subject = cert.tbs_certificate.subject.to_string();
    let cn = subject
        .split(',')
        .find_map(|part| part.strip_prefix("CN="))
        .ok_or("no CN")?;
    if cn.split('@').nth(2) != Some("00040000:SIGN") {
        return Err(format!("not UnionPay's signing certificate: {cn}"));
    }
    Ok(cert)
}

/// The SDK's `validate`: the certificate in `signPubKeyCert` checked, then
/// the signature over every other field (the certificate included).
pub fn validate(fields: &Fields) -> Result<(), String> {
    let cert_pem = fields.get("signPubKeyCert").ok_or("no signPubKeyCert")?;
    let cert = check_chain(cert_pem)?;
    let signature = STANDARD
        .decode(fields.get("signature").ok_or("no signature")?)
        .map_err(|e| e.to_string())?;
    let public = cert
        .tbs_certificate
        .subject_public_key_info
        .subject_public_key
        .as_bytes()
        .ok_or("bad key")?;
    let digest = sha256_hex(&sign_content(&fields.0));
    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, public)
        .verify(digest.as_bytes(), &signature)
        .map_err(|_| "the signature does not verify".to_owned())
}

/// The decoded `value` of every hidden input of `form` (the first form
/// whose `data-testid` is `testid`, or the whole page).
pub fn hidden_inputs(page: &str, testid: Option<&str>) -> Fields {
    let scope = match testid {
        Some(testid) => {
            let start = page
                .find(&format!("data-testid=\"{testid}\""))
                .unwrap_or_else(|| panic!("no {testid} in {page}"));
            let form_start = page[..start].rfind("<form").unwrap();
            let end = start + page[start..].find("</form>").unwrap();
            &page[form_start..end]
        }
        None => page,
    };
    let mut fields = Vec::new();
    for piece in scope.split("<input type=\"hidden\" ").skip(1) {
        let name = attribute(piece, "name");
        let value = attribute(piece, "value");
        fields.push((name, value));
    }
    Fields(fields)
}

/// The hidden input `name`'s value on a page.
pub fn hidden(page: &str, name: &str) -> String {
    hidden_inputs(page, None)
        .get(name)
        .unwrap_or_else(|| panic!("no hidden {name} in {page}"))
        .to_owned()
}

/// An attribute's value in a tag, its character references decoded.
pub fn attribute(tag: &str, name: &str) -> String {
    let start = tag
        .find(&format!("{name}=\""))
        .unwrap_or_else(|| panic!("no {name} in {tag}"))
        + name.len()
        + 2;
    let end = start + tag[start..].find('"').unwrap();
    tag[start..end]
        .replace("&#13;", "\r")
        .replace("&#10;", "\n")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The action of the form with `data-testid` `testid`.
pub fn form_action(page: &str, testid: &str) -> String {
    let start = page.find(&format!("data-testid=\"{testid}\"")).unwrap();
    let form_start = page[..start].rfind("<form").unwrap();
    attribute(&page[form_start..], "action")
}

/// One POST the receiver got.
#[derive(Clone, Debug)]
pub struct Notice {
    pub content_type: String,
    pub fields: Fields,
    pub at: Instant,
}

#[derive(Default)]
struct ReceiverState {
    received: Vec<Notice>,
    fail_first: usize,
}

/// A merchant's `backUrl`: records what arrives, answers 200 (or 500 to
/// the first `fail_first`).
#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    state: Arc<Mutex<ReceiverState>>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        Receiver::failing_first(0).await
    }

    pub async fn failing_first(fail_first: usize) -> Receiver {
        let state = Arc::new(Mutex::new(ReceiverState {
            received: Vec::new(),
            fail_first,
        }));
        let app = Router::new()
            .route("/notify/unionpay", post(receive))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/notify/unionpay", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver { url, state }
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
) -> StatusCode {
    let mut state = state.lock().unwrap();
    state.received.push(Notice {
        content_type: headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned(),
        fields: parse_form(&String::from_utf8_lossy(&body)),
        at: Instant::now(),
    });
    if state.received.len() <= state.fail_first {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::OK
    }
}
