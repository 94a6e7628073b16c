//! WeChat Pay, API v3: which call for which flow (Native for a QR code,
//! H5 for a phone browser, JSAPI inside WeChat after web authorisation),
//! every request signed, every answer and notification verified, query
//! and close by `out_trade_no`, refunds by `out_refund_no` (domestic
//! refunds, with their `REFUND.*` notifications). It talks to the hosts its
//! configuration names: WeChat's, or the sandbox's emulator.

pub mod crypto;
mod transformers;

use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use contract::{Flow, FormMethod, MethodKind, NextAction, WechatJsapiParams};
use rand::distributions::{Alphanumeric, DistString};

use self::transformers as wire;
use super::rsa::{SigningKey, VerifyingKey};
use super::{
    Closed, HandOff, Notification, Notified, OrderRef, Provider, ProviderError, ProviderOrder,
    ProviderRefund, ProviderStatus, RefundRef, RefundState,
};
use crate::clock::Clock;
use crate::config::{pem_text, ConfigError, WechatPayConfig};

/// A `code_url` lives two hours and cannot be extended.
const CODE_URL_SECONDS: i64 = 2 * 60 * 60;

/// An `h5_url` lives about five minutes; ask for a fresh one a little
/// before, so that a shopper is never sent to a dead page.
const H5_URL_SECONDS: i64 = 4 * 60;

/// A `prepay_id` lives two hours.
const PREPAY_ID_SECONDS: i64 = 2 * 60 * 60;

/// Answers and notifications more than five minutes old are refused.
const FRESHNESS_SECONDS: i64 = 5 * 60;

/// Error codes WeChat Pay gives for a passing condition, whatever the
/// HTTP status: the call is to be made again, the payment is not refused.
const TRANSIENT_CODES: [&str; 2] = ["SYSTEM_ERROR", "FREQUENCY_LIMITED"];

/// The code of a rate limit: wait before calling again.
const RATE_LIMITED: &str = "FREQUENCY_LIMITED";

/// A refund refused for want of balance on the merchant's account.
const NOT_ENOUGH: &str = "NOT_ENOUGH";

/// One WeChat Pay merchant account.
pub struct WechatPay {
    mchid: String,
    appid: String,
    app_secret: String,
    serial: String,
    key: SigningKey,
    platform: VerifyingKey,
    platform_key_id: String,
    apiv3_key: Vec<u8>,
    pay_base: String,
    open_base: String,
    api_base: String,
    http: reqwest::Client,
    clock: Arc<dyn Clock>,
}

impl WechatPay {
    /// An adapter for this account.
    pub fn new(config: &WechatPayConfig, clock: Arc<dyn Clock>) -> Result<WechatPay, ConfigError> {
        let invalid = |what: &str, error: crypto::KeyError| {
            ConfigError::Invalid(format!("wechat_pay {what}: {error}"))
        };
        let key = SigningKey::from_pem(&pem_text(&config.merchant_private_key)?)
            .map_err(|e| invalid("merchant_private_key", e))?;
        let platform = VerifyingKey::from_pem(&pem_text(&config.platform_public_key)?)
            .map_err(|e| invalid("platform_public_key", e))?;
        if config.apiv3_key.len() != 32 {
            return Err(ConfigError::Invalid(
                "wechat_pay apiv3_key must be 32 bytes".into(),
            ));
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| ConfigError::Invalid(format!("an HTTP client: {e}")))?;
        let trim = |url: &str| url.trim_end_matches('/').to_owned();
        Ok(WechatPay {
            mchid: config.mchid.clone(),
            appid: config.appid.clone(),
            app_secret: config.app_secret.clone(),
            serial: config.merchant_serial.clone(),
            key,
            platform,
            platform_key_id: config.platform_key_id.clone(),
            apiv3_key: config.apiv3_key.as_bytes().to_vec(),
            pay_base: trim(&config.pay_base_url),
            open_base: trim(&config.open_base_url),
            api_base: trim(&config.api_base_url),
            http,
            clock,
        })
    }

    /// A signed call to the pay API; the answer's status and body, once its
    /// signature is verified.
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<String>,
    ) -> Result<(StatusCode, Vec<u8>), ProviderError> {
        let timestamp = self.clock.now();
        let nonce = Alphanumeric.sample_string(&mut rand::thread_rng(), 32);
        let body = body.unwrap_or_default();
        let url = format!("{}{path}", self.pay_base);
        // The path and query as the host receives them (a base URL may
        // carry a path of its own).
        let parsed = url::Url::parse(&url).map_err(|e| ProviderError::BadAnswer(e.to_string()))?;
        let signed_path = match parsed.query() {
            Some(query) => format!("{}?{query}", parsed.path()),
            None => parsed.path().to_owned(),
        };
        let message =
            crypto::request_message(method.as_str(), &signed_path, timestamp, &nonce, &body);
        let signature = self
            .key
            .sign(message.as_bytes())
            .map_err(|e| ProviderError::BadAnswer(e.to_string()))?;
        let authorization =
            crypto::authorization(&self.mchid, &self.serial, timestamp, &nonce, &signature);
        let mut request = self
            .http
            .request(method, url)
            .header("Authorization", authorization)
            .header("Accept", "application/json")
            .header("User-Agent", "payment-selector/0.1 (reference server)");
        if !body.is_empty() {
            request = request
                .header("Content-Type", "application/json")
                .body(body);
        }
        let answer = request.send().await.map_err(unreachable)?;
        let status = answer.status();
        let headers = answer.headers().clone();
        let bytes = answer.bytes().await.map_err(unreachable)?.to_vec();
        // A failing or busy host is asked again later; only a refusal is final.
        let limited = status == StatusCode::TOO_MANY_REQUESTS;
        let host_trouble = status.is_server_error() || limited;
        let retry_after = headers
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse().ok());
        if let Err(error) = self.verify(&headers_of(&headers), &bytes) {
            // Unsigned trouble is the host's, not a forged answer.
            if limited {
                return Err(ProviderError::Busy {
                    said: status.to_string(),
                    retry_after,
                });
            }
            if host_trouble {
                return Err(ProviderError::Unavailable(format!("{status}")));
            }
            return Err(error);
        }
        if !status.is_success() {
            let error: Option<wire::ErrorAnswer> = serde_json::from_slice(&bytes).ok();
            let code = error.as_ref().map(|e| e.code.as_str());
            let said = error
                .as_ref()
                .map(|e| format!("{}: {}", e.code, e.message))
                .unwrap_or_else(|| status.to_string());
            if limited || code == Some(RATE_LIMITED) {
                return Err(ProviderError::Busy { said, retry_after });
            }
            if host_trouble || code.is_some_and(|code| TRANSIENT_CODES.contains(&code)) {
                return Err(ProviderError::Unavailable(said));
            }
        }
        Ok((status, bytes))
    }

    /// Checks an answer's or notification's signature and freshness.
    fn verify(&self, headers: &SignedHeaders, body: &[u8]) -> Result<(), ProviderError> {
        let bad = |why: &str| ProviderError::BadAnswer(why.to_owned());
        let (Some(timestamp), Some(nonce), Some(signature), Some(serial)) = (
            headers.timestamp.as_deref(),
            headers.nonce.as_deref(),
            headers.signature.as_deref(),
            headers.serial.as_deref(),
        ) else {
            return Err(bad("unsigned"));
        };
        if serial != self.platform_key_id {
            return Err(bad("signed with a key this account does not know"));
        }
        let at: i64 = timestamp
            .parse()
            .map_err(|_| bad("a timestamp that is not a number"))?;
        // abs_diff: the header is not yet trusted, and any i64 may come.
        if self.clock.now().abs_diff(at) >= FRESHNESS_SECONDS.unsigned_abs() {
            return Err(bad("signed five minutes or more away from now"));
        }
        if !self
            .platform
            .verifies(&crypto::answer_message(timestamp, nonce, body), signature)
        {
            return Err(bad("the signature does not verify"));
        }
        Ok(())
    }

    /// A transaction is this merchant's, and the order asked about: a
    /// mix-up of accounts or orders must not settle a payment.
    fn check_ours(
        &self,
        transaction: &wire::Transaction,
        out_trade_no: &str,
    ) -> Result<(), String> {
        let differs =
            |said: &Option<String>, ours: &str| said.as_deref().is_some_and(|said| said != ours);
        if differs(&transaction.mchid, &self.mchid) || differs(&transaction.appid, &self.appid) {
            return Err("a transaction of another merchant or app".into());
        }
        if transaction.out_trade_no != out_trade_no {
            return Err(format!(
                "asked about {out_trade_no}, told about {}",
                transaction.out_trade_no
            ));
        }
        Ok(())
    }

    /// A refund answer is about the refund (and order) asked about.
    fn check_refund(
        &self,
        answer: &wire::RefundAnswer,
        out_refund_no: &str,
        out_trade_no: Option<&str>,
    ) -> Result<(), ProviderError> {
        let other_order = out_trade_no.is_some_and(|order| order != answer.out_trade_no);
        if answer.out_refund_no != out_refund_no || other_order {
            return Err(ProviderError::BadAnswer(format!(
                "asked about refund {out_refund_no}, told about {} of order {}",
                answer.out_refund_no, answer.out_trade_no
            )));
        }
        Ok(())
    }

    fn refused(bytes: &[u8]) -> ProviderError {
        match serde_json::from_slice::<wire::ErrorAnswer>(bytes) {
            Ok(error) => ProviderError::Refused {
                code: error.code,
                message: error.message,
            },
            Err(_) => ProviderError::BadAnswer("an error without WeChat's error body".into()),
        }
    }

    fn parse<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ProviderError> {
        serde_json::from_slice(bytes).map_err(|e| ProviderError::BadAnswer(e.to_string()))
    }

    /// The bridge's arguments for a prepay id, `paySign` included.
    fn jsapi_params(&self, prepay_id: &str) -> Result<WechatJsapiParams, ProviderError> {
        let time_stamp = self.clock.now().to_string();
        let nonce_str = Alphanumeric.sample_string(&mut rand::thread_rng(), 32);
        let package = format!("prepay_id={prepay_id}");
        let message = crypto::jsapi_message(&self.appid, &time_stamp, &nonce_str, &package);
        let pay_sign = self
            .key
            .sign(message.as_bytes())
            .map_err(|e| ProviderError::BadAnswer(e.to_string()))?;
        Ok(WechatJsapiParams {
            app_id: self.appid.clone(),
            time_stamp,
            nonce_str,
            package,
            sign_type: "RSA".into(),
            pay_sign,
        })
    }
}

/// The four headers WeChat Pay signs its answers with.
struct SignedHeaders {
    timestamp: Option<String>,
    nonce: Option<String>,
    signature: Option<String>,
    serial: Option<String>,
}

fn headers_of(headers: &HeaderMap) -> SignedHeaders {
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    SignedHeaders {
        timestamp: get("Wechatpay-Timestamp"),
        nonce: get("Wechatpay-Nonce"),
        signature: get("Wechatpay-Signature"),
        serial: get("Wechatpay-Serial"),
    }
}

/// A request that got no answer. Without its URL: the OAuth exchange's
/// URL carries the app secret, and errors end up in the logs.
fn unreachable(error: reqwest::Error) -> ProviderError {
    ProviderError::Unavailable(error.without_url().to_string())
}

fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[async_trait::async_trait]
impl Provider for WechatPay {
    fn method(&self) -> MethodKind {
        MethodKind::WechatPay
    }

    fn name(&self) -> &'static str {
        "wechat-pay"
    }

    fn account(&self) -> String {
        format!("wechat_pay:{}", self.mchid)
    }

    fn supports(&self, flow: Flow) -> bool {
        matches!(flow, Flow::QrCode | Flow::Redirect | Flow::WechatJsapi)
    }

    fn payer_authorization(&self, flow: Flow, callback: &str, state: &str) -> Option<String> {
        (flow == Flow::WechatJsapi).then(|| {
            format!(
                "{}/connect/oauth2/authorize?appid={}&redirect_uri={}&response_type=code&scope=snsapi_base&state={}#wechat_redirect",
                self.open_base,
                encode(&self.appid),
                encode(callback),
                encode(state)
            )
        })
    }

    async fn payer_id(&self, code: &str) -> Result<String, ProviderError> {
        let url = format!(
            "{}/sns/oauth2/access_token?appid={}&secret={}&code={}&grant_type=authorization_code",
            self.api_base,
            encode(&self.appid),
            encode(&self.app_secret),
            encode(code)
        );
        let answer = self.http.get(url).send().await.map_err(unreachable)?;
        if answer.status().is_server_error() {
            return Err(ProviderError::Unavailable(answer.status().to_string()));
        }
        let token: wire::AccessToken = answer
            .json()
            .await
            .map_err(|e| ProviderError::BadAnswer(e.without_url().to_string()))?;
        match (token.openid, token.errcode) {
            (Some(openid), None | Some(0)) => Ok(openid),
            (_, errcode) => Err(ProviderError::Refused {
                code: errcode.unwrap_or_default().to_string(),
                message: token.errmsg.unwrap_or_default(),
            }),
        }
    }

    async fn create(&self, order: &ProviderOrder) -> Result<HandOff, ProviderError> {
        let now = self.clock.now();
        let (endpoint, payer, scene_info) = match order.flow {
            Flow::QrCode => ("native", None, None),
            Flow::Redirect => {
                let ip = order
                    .payer_ip
                    .as_deref()
                    .ok_or_else(|| ProviderError::Refused {
                        code: "MISSING_PAYER_IP".into(),
                        message: "H5 needs the payer's IP address".into(),
                    })?;
                let scene = wire::SceneInfo {
                    payer_client_ip: ip,
                    h5_info: wire::H5Info { kind: "Wap" },
                };
                ("h5", None, Some(scene))
            }
            Flow::WechatJsapi => {
                let openid = order
                    .payer_id
                    .as_deref()
                    .ok_or_else(|| ProviderError::Refused {
                        code: "MISSING_OPENID".into(),
                        message: "JSAPI needs the payer's openid".into(),
                    })?;
                ("jsapi", Some(wire::Payer { openid }), None)
            }
            Flow::AlipayTradePay | Flow::Unsupported => {
                return Err(ProviderError::Refused {
                    code: "UNSUPPORTED_FLOW".into(),
                    message: "no such flow".into(),
                })
            }
        };
        let body = wire::Prepay {
            appid: &self.appid,
            mchid: &self.mchid,
            description: &order.description,
            out_trade_no: &order.out_trade_no,
            time_expire: wire::wechat_time(order.time_expire),
            notify_url: &order.notify_url,
            amount: wire::amount(&order.amount),
            payer,
            scene_info,
        };
        let body =
            serde_json::to_string(&body).map_err(|e| ProviderError::BadAnswer(e.to_string()))?;
        let path = format!("/v3/pay/transactions/{endpoint}");
        let (status, bytes) = self.call(reqwest::Method::POST, &path, Some(body)).await?;
        if !status.is_success() {
            return Err(Self::refused(&bytes));
        }
        Ok(match order.flow {
            Flow::QrCode => {
                let answer: wire::NativeAnswer = Self::parse(&bytes)?;
                HandOff {
                    action: NextAction::DisplayQrCode {
                        payload: answer.code_url,
                        expires_at: (now + CODE_URL_SECONDS).min(order.time_expire),
                    },
                    renew_at: None,
                }
            }
            Flow::Redirect => {
                let answer: wire::H5Answer = Self::parse(&bytes)?;
                HandOff {
                    action: NextAction::Redirect {
                        url: format!(
                            "{}&redirect_url={}",
                            answer.h5_url,
                            encode(&order.return_url)
                        ),
                        method: FormMethod::Get,
                        fields: vec![],
                    },
                    renew_at: Some(now + H5_URL_SECONDS),
                }
            }
            _ => {
                let answer: wire::JsapiAnswer = Self::parse(&bytes)?;
                HandOff {
                    action: NextAction::InvokeWechatJsapi {
                        params: self.jsapi_params(&answer.prepay_id)?,
                    },
                    renew_at: Some(now + PREPAY_ID_SECONDS - 60),
                }
            }
        })
    }

    async fn query(&self, order: OrderRef<'_>) -> Result<ProviderStatus, ProviderError> {
        let out_trade_no = order.out_trade_no;
        let path = format!(
            "/v3/pay/transactions/out-trade-no/{}?mchid={}",
            encode(out_trade_no),
            encode(&self.mchid)
        );
        let (status, bytes) = self.call(reqwest::Method::GET, &path, None).await?;
        if status == StatusCode::NOT_FOUND {
            return Ok(ProviderStatus::NotFound);
        }
        if !status.is_success() {
            return Err(Self::refused(&bytes));
        }
        let transaction: wire::Transaction = Self::parse(&bytes)?;
        self.check_ours(&transaction, out_trade_no)
            .map_err(ProviderError::BadAnswer)?;
        wire::status(&transaction)
    }

    async fn close(&self, order: OrderRef<'_>) -> Result<Closed, ProviderError> {
        let out_trade_no = order.out_trade_no;
        let path = format!(
            "/v3/pay/transactions/out-trade-no/{}/close",
            encode(out_trade_no)
        );
        let body = serde_json::json!({ "mchid": self.mchid }).to_string();
        let (status, bytes) = self.call(reqwest::Method::POST, &path, Some(body)).await?;
        if status.is_success() || status == StatusCode::NOT_FOUND {
            return Ok(Closed::Closed);
        }
        match Self::refused(&bytes) {
            ProviderError::Refused { code, .. } if code == "ORDERPAID" => Ok(Closed::AlreadyPaid),
            ProviderError::Refused { code, .. } if code == "ORDER_CLOSED" => Ok(Closed::Closed),
            error => Err(error),
        }
    }

    async fn refund(&self, refund: &ProviderRefund) -> Result<RefundState, ProviderError> {
        let body = wire::RefundRequest {
            out_trade_no: &refund.out_trade_no,
            out_refund_no: &refund.out_refund_no,
            reason: refund.reason.as_deref(),
            notify_url: &refund.notify_url,
            amount: wire::RefundAmount {
                refund: refund.amount.value,
                total: refund.total.value,
                currency: refund.amount.currency.code().to_owned(),
            },
        };
        let body =
            serde_json::to_string(&body).map_err(|e| ProviderError::BadAnswer(e.to_string()))?;
        let (status, bytes) = self
            .call(
                reqwest::Method::POST,
                "/v3/refund/domestic/refunds",
                Some(body),
            )
            .await?;
        if !status.is_success() {
            return Err(match Self::refused(&bytes) {
                // Not enough on the merchant's balance: WeChat Pay's advice
                // is to top it up and ask again with the same number.
                ProviderError::Refused { code, message } if code == NOT_ENOUGH => {
                    ProviderError::Unavailable(format!("{code}: {message}"))
                }
                error => error,
            });
        }
        let answer: wire::RefundAnswer = Self::parse(&bytes)?;
        self.check_refund(&answer, &refund.out_refund_no, Some(&refund.out_trade_no))?;
        wire::refund_state(&answer.status)
    }

    async fn refund_status(
        &self,
        _order: OrderRef<'_>,
        refund: RefundRef<'_>,
    ) -> Result<RefundState, ProviderError> {
        let out_refund_no = refund.out_refund_no;
        let path = format!("/v3/refund/domestic/refunds/{}", encode(out_refund_no));
        let (status, bytes) = self.call(reqwest::Method::GET, &path, None).await?;
        if status == StatusCode::NOT_FOUND {
            return Ok(RefundState::NotFound);
        }
        if !status.is_success() {
            return Err(Self::refused(&bytes));
        }
        let answer: wire::RefundAnswer = Self::parse(&bytes)?;
        self.check_refund(&answer, out_refund_no, None)?;
        wire::refund_state(&answer.status)
    }

    fn parse_notification(
        &self,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<Notification, ProviderError> {
        let bad = |why: String| ProviderError::BadNotification(why);
        self.verify(&headers_of(headers), body)
            .map_err(|e| bad(e.to_string()))?;
        let envelope: wire::Envelope =
            serde_json::from_slice(body).map_err(|e| bad(format!("not a notification: {e}")))?;
        if envelope.resource.algorithm != "AEAD_AES_256_GCM" {
            return Err(bad(format!("algorithm {}", envelope.resource.algorithm)));
        }
        let plain = crypto::decrypt_resource(
            &self.apiv3_key,
            &envelope.resource.nonce,
            &envelope.resource.associated_data,
            &envelope.resource.ciphertext,
        )
        .map_err(|e| bad(e.to_string()))?;
        if envelope.event_type.starts_with("REFUND.") {
            let notice: wire::RefundNotice =
                serde_json::from_slice(&plain).map_err(|e| bad(format!("not a refund: {e}")))?;
            if notice
                .mchid
                .as_deref()
                .is_some_and(|mchid| mchid != self.mchid)
            {
                return Err(bad("a refund of another merchant".into()));
            }
            return Ok(Notification {
                id: envelope.id,
                out_trade_no: notice.out_trade_no,
                about: Notified::Refund {
                    out_refund_no: notice.out_refund_no,
                    state: wire::refund_state(&notice.refund_status)
                        .map_err(|e| bad(e.to_string()))?,
                },
            });
        }
        if !envelope.event_type.starts_with("TRANSACTION.") {
            return Err(bad(format!("event {}", envelope.event_type)));
        }
        let transaction: wire::Transaction =
            serde_json::from_slice(&plain).map_err(|e| bad(format!("not a transaction: {e}")))?;
        self.check_ours(&transaction, &transaction.out_trade_no)
            .map_err(bad)?;
        Ok(Notification {
            id: envelope.id,
            out_trade_no: transaction.out_trade_no.clone(),
            about: Notified::Payment(wire::status(&transaction).map_err(|e| bad(e.to_string()))?),
        })
    }

    fn notification_answer(&self, refused: Option<&str>) -> Response {
        match refused {
            None => StatusCode::NO_CONTENT.into_response(),
            Some(message) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(serde_json::json!({ "code": "FAIL", "message": message })),
            )
                .into_response(),
        }
    }
}
