//! WeChat Pay, played by a sandbox that behaves like API v3's Native flow:
//! orders get a `weixin://wxpay/bizpayurl?pr=...` code URL, a scan (the
//! sandbox's `/sandbox/wechat-pay/scan`) pays the order and the sandbox
//! POSTs a signed notification to the server's notify path, as WeChat does.
//!
//! The real API signs notifications with SHA256withRSA and encrypts
//! `resource` with AEAD_AES_256_GCM; the sandbox signs the same message
//! (`timestamp\nnonce\nbody\n`) with HMAC-SHA256 under a key shared with the
//! server, and sends `resource` in the clear.

use axum::http::HeaderMap;
use base64::Engine;
use contract::{Currency, Flow, MethodKind, Money, NextAction, UnixSeconds};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::{Closed, Notification, Outcome, Provider, ProviderError, ProviderOrder};
use crate::store::{SandboxOrderRow, Store};

/// Where the server receives WeChat Pay notifications, under `/api`.
pub const WECHAT_NOTIFY_PATH: &str = "/notify/wechat-pay";

/// A `code_url` is valid for two hours, and cannot be extended.
const CODE_URL_SECONDS: i64 = 2 * 60 * 60;

/// A notification older or newer than this is refused (replay protection).
const FRESHNESS_SECONDS: i64 = 5 * 60;

/// The sandbox's WeChat Pay.
pub struct WechatPaySandbox {
    store: Store,
    key: Vec<u8>,
}

/// The notification body, with WeChat's field names.
#[derive(Debug, Serialize, Deserialize)]
pub struct NotificationBody {
    pub id: String,
    pub create_time: String,
    pub event_type: String,
    pub resource: Transaction,
}

/// The transaction inside a notification (`resource`, decrypted).
#[derive(Debug, Serialize, Deserialize)]
pub struct Transaction {
    pub out_trade_no: String,
    pub transaction_id: String,
    pub trade_state: String,
    pub amount: TransactionAmount,
}

/// `amount` in WeChat's terms: `total` in fen.
#[derive(Debug, Serialize, Deserialize)]
pub struct TransactionAmount {
    pub total: i64,
    pub currency: String,
}

impl WechatPaySandbox {
    /// A sandbox keeping its orders in `store`, signing with `key`.
    pub fn new(store: Store, key: Vec<u8>) -> Self {
        Self { store, key }
    }

    /// The shared signing key.
    pub fn key(&self) -> &[u8] {
        &self.key
    }
}

/// The `Wechatpay-Signature` for a notification body.
pub fn sign_notification(key: &[u8], timestamp: &str, nonce: &str, body: &[u8]) -> String {
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(format!("{timestamp}\n{nonce}\n").as_bytes());
    mac.update(body);
    mac.update(b"\n");
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Result<&'a str, ProviderError> {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .ok_or_else(|| ProviderError::BadNotification(format!("missing {name}")))
}

#[async_trait::async_trait]
impl Provider for WechatPaySandbox {
    fn method(&self) -> MethodKind {
        MethodKind::WechatPay
    }

    fn supports(&self, flow: Flow) -> bool {
        flow == Flow::QrCode
    }

    fn name(&self) -> &'static str {
        "wechat_pay"
    }

    async fn create(&self, order: &ProviderOrder) -> Result<NextAction, ProviderError> {
        if order.flow != Flow::QrCode {
            return Err(ProviderError::UnsupportedFlow(order.flow));
        }
        let code_url = format!("weixin://wxpay/bizpayurl?pr={}", crate::auth::random_hex(8));
        let created_at = crate::now();
        self.store
            .insert_sandbox_order(&SandboxOrderRow {
                out_trade_no: order.out_trade_no.clone(),
                code_url: code_url.clone(),
                amount_total: order.amount.value,
                currency: order.amount.currency.code().to_owned(),
                trade_state: "NOTPAY".into(),
                time_expire: order.time_expire,
                transaction_id: None,
            })
            .await
            .map_err(|error| ProviderError::Failed(error.to_string()))?;
        let expires_at = (created_at + CODE_URL_SECONDS).min(order.time_expire);
        Ok(NextAction::DisplayQrCode {
            payload: code_url,
            expires_at,
        })
    }

    async fn close(&self, out_trade_no: &str) -> Result<Closed, ProviderError> {
        let failed = |error: sqlx::Error| ProviderError::Failed(error.to_string());
        let order = self
            .store
            .sandbox_order(out_trade_no)
            .await
            .map_err(failed)?;
        let order = order.ok_or(ProviderError::UnknownOrder)?;
        match order.trade_state.as_str() {
            "SUCCESS" => Ok(Closed::AlreadyPaid),
            "NOTPAY" => {
                if self
                    .store
                    .sandbox_order_transition(out_trade_no, "NOTPAY", "CLOSED", None)
                    .await
                    .map_err(failed)?
                {
                    Ok(Closed::Closed)
                } else {
                    // Paid in the meantime: the scan won the race.
                    Ok(Closed::AlreadyPaid)
                }
            }
            _ => Ok(Closed::Closed),
        }
    }

    fn verify_notification(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now: UnixSeconds,
    ) -> Result<Notification, ProviderError> {
        let timestamp = header(headers, "wechatpay-timestamp")?;
        let nonce = header(headers, "wechatpay-nonce")?;
        let signature = header(headers, "wechatpay-signature")?;
        let expected = sign_notification(&self.key, timestamp, nonce, body);
        if !crate::auth::same_secret(&expected, signature) {
            return Err(ProviderError::BadNotification(
                "signature does not match".into(),
            ));
        }
        let sent_at: i64 = timestamp
            .parse()
            .map_err(|_| ProviderError::BadNotification("timestamp is not a number".into()))?;
        if (now - sent_at).abs() > FRESHNESS_SECONDS {
            return Err(ProviderError::BadNotification("timestamp is stale".into()));
        }
        let body: NotificationBody = serde_json::from_slice(body)
            .map_err(|error| ProviderError::BadNotification(error.to_string()))?;
        let currency: Currency = body
            .resource
            .amount
            .currency
            .parse()
            .map_err(|_| ProviderError::BadNotification("bad currency".into()))?;
        let outcome = match body.resource.trade_state.as_str() {
            "SUCCESS" => Outcome::Paid,
            "NOTPAY" | "USERPAYING" => Outcome::Pending,
            _ => Outcome::NotPaid,
        };
        Ok(Notification {
            id: body.id,
            out_trade_no: body.resource.out_trade_no,
            outcome,
            amount: Money::new(body.resource.amount.total, currency),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_cover_timestamp_nonce_and_body() {
        let signature = sign_notification(b"key", "1700000000", "abc", b"{}");
        assert_eq!(
            signature,
            sign_notification(b"key", "1700000000", "abc", b"{}")
        );
        assert_ne!(
            signature,
            sign_notification(b"key", "1700000001", "abc", b"{}")
        );
        assert_ne!(
            signature,
            sign_notification(b"key", "1700000000", "abd", b"{}")
        );
        assert_ne!(
            signature,
            sign_notification(b"key", "1700000000", "abc", b"{ }")
        );
        assert_ne!(
            signature,
            sign_notification(b"other", "1700000000", "abc", b"{}")
        );
    }
}
