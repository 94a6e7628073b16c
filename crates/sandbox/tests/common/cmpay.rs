//! The tests' own China Mobile Pay (和包) merchant, written from the
//! official demo kits apart from the emulator's code: it signs requests
//! (`hex(HMAC-MD5(key, hex(HMAC-MD5("", values in order))))`), reads the
//! platform's raw `k=v&...` answers as the kits do (split on `&`, then on
//! the first `=`, `message`/`reserved1`/`reserved2` URL-decoded), and
//! checks their hmacs. Also a `notifyUrl` receiver that answers `SUCCESS`
//! (or refuses the first few).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use hmac::{Hmac, Mac};
use md5::Md5;
use payment_sandbox::{app_with_clock, Clock, SandboxConfig};
use serde_json::Value;
use time::macros::{format_description, offset};
use time::OffsetDateTime;

use super::unionpay::{parse_form, Fields};

pub const MERCHANT_ID: &str = "888009900000001";
pub const KEY: &str = "sandboxCmpayKey0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLM";
pub const CALLBACK_URL: &str = "https://shop.example/cmpay/return";

pub const PAY_ORDER: [&str; 27] = [
    "characterSet",
    "callbackUrl",
    "notifyUrl",
    "ipAddress",
    "merchantId",
    "requestId",
    "signType",
    "type",
    "version",
    "amount",
    "bankAbbr",
    "currency",
    "orderDate",
    "orderId",
    "merAcDate",
    "period",
    "periodUnit",
    "merchantAbbr",
    "productDesc",
    "productId",
    "productName",
    "productNum",
    "reserved1",
    "reserved2",
    "userToken",
    "showUrl",
    "couponsFlag",
];
pub const PAY_ANSWER: [&str; 8] = [
    "merchantId",
    "requestId",
    "signType",
    "type",
    "version",
    "returnCode",
    "message",
    "payUrl",
];
pub const NOTIFY: [&str; 19] = [
    "merchantId",
    "payNo",
    "returnCode",
    "message",
    "signType",
    "type",
    "version",
    "amount",
    "amtItem",
    "bankAbbr",
    "mobile",
    "orderId",
    "payDate",
    "accountDate",
    "reserved1",
    "reserved2",
    "status",
    "orderDate",
    "fee",
];
pub const QUERY: [&str; 6] = [
    "merchantId",
    "requestId",
    "signType",
    "type",
    "version",
    "orderId",
];
pub const QUERY_ANSWER: [&str; 18] = [
    "merchantId",
    "payNo",
    "returnCode",
    "message",
    "signType",
    "type",
    "version",
    "amount",
    "amtItem",
    "bankAbbr",
    "mobile",
    "orderId",
    "payDate",
    "reserved1",
    "reserved2",
    "status",
    "orderDate",
    "fee",
];
pub const REFUND: [&str; 7] = [
    "merchantId",
    "requestId",
    "signType",
    "type",
    "version",
    "orderId",
    "amount",
];
pub const REFUND_ANSWER: [&str; 10] = [
    "merchantId",
    "payNo",
    "returnCode",
    "message",
    "signType",
    "type",
    "version",
    "amount",
    "orderId",
    "status",
];

fn hmac_md5_hex(key: &str, data: &str) -> String {
    let mut mac = Hmac::<Md5>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(data.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The kits' `MD5Sign(signData, key)`.
pub fn sign(key: &str, data: &str) -> String {
    hmac_md5_hex(key, &hmac_md5_hex("", data))
}

/// The values of `order` concatenated (absent ones add nothing).
pub fn sign_data(fields: &Fields, order: &[&str]) -> String {
    order
        .iter()
        .map(|name| fields.get(name).unwrap_or(""))
        .collect()
}

/// Whether `fields`' hmac is right over `order` with the demo key.
pub fn verifies(fields: &Fields, order: &[&str]) -> bool {
    fields.get("hmac") == Some(sign(KEY, &sign_data(fields, order)).as_str())
}

/// The kits' reading of an answer.
pub fn parse_answer(text: &str) -> Fields {
    Fields(
        text.split('&')
            .map(|pair| {
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                let value = if ["message", "reserved1", "reserved2"].contains(&name) {
                    form_urlencoded::parse(format!("v={value}").as_bytes())
                        .next()
                        .map(|(_, v)| v.into_owned())
                        .unwrap_or_default()
                } else {
                    value.to_owned()
                };
                (name.to_owned(), value)
            })
            .collect(),
    )
}

/// `payUrl`'s three parts, as the Java kit's `getRedirectUrl` reads them.
pub fn pay_url_parts(pay_url: &str) -> (String, String, String) {
    let parts: Vec<(&str, &str)> = pay_url
        .split("<hi:$$>")
        .map(|part| part.split_once("<hi:=>").unwrap())
        .collect();
    let get = |name: &str| {
        parts
            .iter()
            .find(|(known, _)| *known == name)
            .unwrap()
            .1
            .to_owned()
    };
    (get("url"), get("method"), get("sessionId"))
}

/// A running sandbox, and a 和包 merchant talking to it.
pub struct Cmpay {
    pub url: String,
    pub clock: Clock,
    pub http: reqwest::Client,
}

impl Cmpay {
    pub async fn start() -> Cmpay {
        Cmpay::start_with(SandboxConfig::demo()).await
    }

    pub async fn start_with(config: SandboxConfig) -> Cmpay {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let clock = Clock::system();
        let app = app_with_clock(config, url.clone(), clock.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Cmpay { url, clock, http }
    }

    /// Today in Beijing, `yyyyMMdd`.
    pub fn today(&self) -> String {
        OffsetDateTime::from_unix_timestamp(self.clock.unix_seconds())
            .unwrap()
            .to_offset(offset!(+8))
            .format(format_description!("[year][month][day]"))
            .unwrap()
    }

    /// An unsigned pay request of `kind` for 128.00 yuan, valid 30 minutes.
    pub fn pay_fields(&self, kind: &str, order_id: &str, notify_url: &str) -> Fields {
        let today = self.today();
        let values = [
            ("characterSet", "02"),
            ("callbackUrl", CALLBACK_URL),
            ("notifyUrl", notify_url),
            ("ipAddress", "127.0.0.1"),
            ("merchantId", MERCHANT_ID),
            ("requestId", &format!("req-{order_id}")),
            ("signType", "MD5"),
            ("type", kind),
            ("version", "2.0.0"),
            ("amount", "12800"),
            ("bankAbbr", ""),
            ("currency", "00"),
            ("orderDate", &today),
            ("orderId", order_id),
            ("merAcDate", &today),
            ("period", "30"),
            ("periodUnit", "00"),
            ("merchantAbbr", "Demo Tea House"),
            ("productDesc", "龙井 250 g"),
            ("productId", ""),
            ("productName", "龙井茶"),
            ("productNum", "1"),
            ("reserved1", "保留1"),
            ("reserved2", ""),
            ("userToken", ""),
            ("showUrl", ""),
            ("couponsFlag", "00"),
        ];
        Fields(
            values
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    /// `fields` with their `hmac` over `order`.
    pub fn signed(&self, mut fields: Fields, order: &[&str]) -> Fields {
        fields.remove("hmac");
        let hmac = sign(KEY, &sign_data(&fields, order));
        fields.set("hmac", &hmac);
        fields
    }

    /// A form POST to `cmpayService`: status and raw text.
    pub async fn post(&self, fields: &Fields) -> (u16, String) {
        let response = self
            .http
            .post(format!("{}/cmpay/ips/cmpayService", self.url))
            .form(&fields.0)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    /// A request signed over `order`; the answer, its hmac checked over
    /// `answer_order`.
    pub async fn call(&self, fields: Fields, order: &[&str], answer_order: &[&str]) -> Fields {
        let (status, text) = self.post(&self.signed(fields, order)).await;
        assert_eq!(status, 200, "{text}");
        let answer = parse_answer(&text);
        assert!(verifies(&answer, answer_order), "the answer's hmac: {text}");
        answer
    }

    /// A pay request; the answer.
    pub async fn pay(&self, kind: &str, order_id: &str, notify_url: &str) -> Fields {
        self.call(
            self.pay_fields(kind, order_id, notify_url),
            &PAY_ORDER,
            &PAY_ANSWER,
        )
        .await
    }

    /// `OrderQuery`.
    pub async fn query(&self, order_id: &str) -> Fields {
        let fields = Fields(
            [
                ("merchantId", MERCHANT_ID),
                ("requestId", &format!("q-{order_id}")),
                ("signType", "MD5"),
                ("type", "OrderQuery"),
                ("version", "2.0.0"),
                ("orderId", order_id),
            ]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        );
        self.call(fields, &QUERY, &QUERY_ANSWER).await
    }

    /// `OrderRefund`'s fields.
    pub fn refund_fields(&self, request_id: &str, order_id: &str, amount: &str) -> Fields {
        Fields(
            [
                ("merchantId", MERCHANT_ID),
                ("requestId", request_id),
                ("signType", "MD5"),
                ("type", "OrderRefund"),
                ("version", "2.0.0"),
                ("orderId", order_id),
                ("amount", amount),
            ]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        )
    }

    /// `OrderRefund`: the answer and its raw text.
    pub async fn refund(&self, request_id: &str, order_id: &str, amount: &str) -> (Fields, String) {
        let fields = self.signed(self.refund_fields(request_id, order_id, amount), &REFUND);
        let (status, text) = self.post(&fields).await;
        assert_eq!(status, 200, "{text}");
        let answer = parse_answer(&text);
        assert!(verifies(&answer, &REFUND_ANSWER), "{text}");
        (answer, text)
    }

    /// The browser at the cashier: GET `url?sessionId=`, or the PHP kit's
    /// empty POST form to `url?SESSIONID=`.
    pub async fn cashier(&self, pay_url: &str, by_post: bool) -> String {
        let (url, method, session) = pay_url_parts(pay_url);
        assert_eq!(method, "POST");
        let response = if by_post {
            self.http
                .post(format!("{url}?SESSIONID={session}"))
                .form(&[] as &[(&str, &str)])
                .send()
                .await
                .unwrap()
        } else {
            self.http
                .get(format!("{url}?sessionId={session}"))
                .send()
                .await
                .unwrap()
        };
        assert_eq!(response.status(), 200);
        response.text().await.unwrap()
    }

    /// The cashier's buttons: `pay` or `decline`.
    pub async fn confirm(&self, pay_url: &str, outcome: &str) -> String {
        let (_, _, session) = pay_url_parts(pay_url);
        let response = self
            .http
            .post(format!("{}/cmpay/wap/confirm", self.url))
            .form(&[("sessionId", session.as_str()), ("outcome", outcome)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.text().await.unwrap()
    }

    /// `POST /cmpay/control`.
    pub async fn control(&self, change: Value) -> Value {
        let response = self
            .http
            .post(format!("{}/cmpay/control", self.url))
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

/// A merchant's `notifyUrl`: records what arrives, answers `SUCCESS` (or
/// HTTP 200 `FAIL` to the first `fail_first`).
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
            .route("/notify/cmpay", post(receive))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/notify/cmpay", listener.local_addr().unwrap());
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
) -> (StatusCode, &'static str) {
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
        (StatusCode::OK, "FAIL")
    } else {
        (StatusCode::OK, "SUCCESS\n")
    }
}
