//! API v3's wire format: request and response bodies with WeChat's field
//! names, the error body, the `Authorization` header.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

/// The scheme of WeChat Pay v3's `Authorization` header.
pub(crate) const AUTH_SCHEME: &str = "WECHATPAY2-SHA256-RSA2048";

/// The body of `POST /v3/pay/transactions/{native,h5,jsapi}`. Every field
/// is optional here so that a missing one is reported as WeChat does,
/// naming it, rather than as a serde error.
#[derive(Debug, Deserialize)]
pub(crate) struct PrepayRequest {
    pub appid: Option<String>,
    pub mchid: Option<String>,
    pub description: Option<String>,
    pub out_trade_no: Option<String>,
    pub time_expire: Option<String>,
    pub attach: Option<String>,
    pub notify_url: Option<String>,
    pub amount: Option<PrepayAmount>,
    pub payer: Option<PrepayPayer>,
    pub scene_info: Option<SceneInfo>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct PrepayAmount {
    pub total: Option<i64>,
    pub currency: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct PrepayPayer {
    pub openid: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct SceneInfo {
    pub payer_client_ip: Option<String>,
    pub h5_info: Option<H5Info>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct H5Info {
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

/// The body of `POST .../out-trade-no/{out_trade_no}/close`.
#[derive(Debug, Deserialize)]
pub(crate) struct CloseRequest {
    pub mchid: Option<String>,
}

/// A transaction as the query answers it and as a `TRANSACTION.SUCCESS`
/// notification's resource decrypts to (`payments.Transaction`).
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Transaction {
    pub appid: String,
    pub mchid: String,
    pub out_trade_no: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
    pub trade_type: &'static str,
    pub trade_state: &'static str,
    pub trade_state_desc: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bank_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attach: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub success_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payer: Option<Payer>,
    pub amount: TransactionAmount,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct Payer {
    pub openid: String,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct TransactionAmount {
    pub total: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payer_total: Option<i64>,
    pub currency: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payer_currency: Option<String>,
}

/// The body of `POST /v3/refund/domestic/refunds`, every field optional
/// so that a missing one is reported as WeChat does.
#[derive(Debug, Deserialize)]
pub(crate) struct RefundRequest {
    pub transaction_id: Option<String>,
    pub out_trade_no: Option<String>,
    pub out_refund_no: Option<String>,
    pub reason: Option<String>,
    pub notify_url: Option<String>,
    pub funds_account: Option<String>,
    pub amount: Option<RefundRequestAmount>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct RefundRequestAmount {
    pub refund: Option<i64>,
    pub total: Option<i64>,
    pub currency: Option<String>,
}

/// A refund as the create and query calls answer it.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct RefundAnswer {
    pub refund_id: String,
    pub out_refund_no: String,
    pub transaction_id: String,
    pub out_trade_no: String,
    pub channel: &'static str,
    pub user_received_account: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub success_time: Option<String>,
    pub create_time: String,
    pub status: &'static str,
    pub funds_account: &'static str,
    pub amount: RefundAmountAnswer,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct RefundAmountAnswer {
    pub total: i64,
    pub refund: i64,
    pub payer_total: i64,
    pub payer_refund: i64,
    pub settlement_refund: i64,
    pub settlement_total: i64,
    pub discount_refund: i64,
    pub currency: String,
}

/// A `REFUND.*` notification's resource, before it is sealed.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct RefundNotice {
    pub mchid: String,
    pub out_trade_no: String,
    pub transaction_id: String,
    pub out_refund_no: String,
    pub refund_id: String,
    pub refund_status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub success_time: Option<String>,
    pub user_received_account: &'static str,
    pub amount: RefundNoticeAmount,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct RefundNoticeAmount {
    pub total: i64,
    pub refund: i64,
    pub payer_total: i64,
    pub payer_refund: i64,
}

/// A notification as WeChat POSTs it to `notify_url`.
#[derive(Debug, Serialize)]
pub(crate) struct NotificationEnvelope {
    pub id: String,
    pub create_time: String,
    pub resource_type: &'static str,
    pub event_type: &'static str,
    pub summary: &'static str,
    pub resource: EncryptedResource,
}

#[derive(Debug, Serialize)]
pub(crate) struct EncryptedResource {
    pub original_type: &'static str,
    pub algorithm: &'static str,
    pub ciphertext: String,
    pub associated_data: &'static str,
    pub nonce: String,
}

/// An API v3 error: an HTTP status and the body `{"code", "message"}`.
#[derive(Debug)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    code: &'a str,
    message: &'a str,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    pub(crate) fn param(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "PARAM_ERROR", message)
    }

    /// A required field is absent or empty, in WeChat's words.
    pub(crate) fn missing(path: &str) -> Self {
        Self::param(format!(
            "输入源“/body/{path}”映射到值字段“{path}”必填性规则校验失败，此字段为必填项"
        ))
    }

    pub(crate) fn sign(reason: &str) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "SIGN_ERROR",
            format!("签名错误，请检查后再试 (sandbox: {reason})"),
        )
    }

    pub(crate) fn system() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "SYSTEM_ERROR",
            "系统错误",
        )
    }

    pub(crate) fn frequency_limited() -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "FREQUENCY_LIMITED",
            "频率超限",
        )
    }

    pub(crate) fn resource_not_exists(message: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "RESOURCE_NOT_EXISTS", message)
    }

    pub(crate) fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "INVALID_REQUEST", message)
    }

    pub(crate) fn order_not_exist() -> Self {
        Self::new(StatusCode::NOT_FOUND, "ORDER_NOT_EXIST", "订单不存在")
    }

    pub(crate) fn order_paid() -> Self {
        Self::new(StatusCode::BAD_REQUEST, "ORDERPAID", "订单已支付")
    }

    pub(crate) fn order_closed() -> Self {
        Self::new(StatusCode::BAD_REQUEST, "ORDER_CLOSED", "订单已关闭")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            code: self.code,
            message: &self.message,
        };
        (self.status, Json(body)).into_response()
    }
}

/// The five fields of an `Authorization: WECHATPAY2-SHA256-RSA2048 ...`.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Authorization {
    pub mchid: String,
    pub nonce_str: String,
    pub timestamp: String,
    pub serial_no: String,
    pub signature: String,
}

impl Authorization {
    /// Parses `SCHEME k="v",k="v",...`, the fields in any order, each once.
    pub(crate) fn parse(header: &str) -> Result<Authorization, String> {
        let (scheme, mut rest) = header
            .trim()
            .split_once(' ')
            .ok_or("Authorization has no scheme and fields")?;
        if scheme != AUTH_SCHEME {
            return Err(format!("Authorization scheme is not {AUTH_SCHEME}"));
        }
        let mut auth = Authorization::default();
        let mut seen = [false; 5];
        loop {
            rest = rest.trim_start_matches(|c: char| c == ',' || c.is_ascii_whitespace());
            if rest.is_empty() {
                break;
            }
            let (key, after) = rest
                .split_once('=')
                .ok_or("Authorization field without =")?;
            let after = after
                .strip_prefix('"')
                .ok_or("Authorization value not double-quoted")?;
            let (value, after) = after
                .split_once('"')
                .ok_or("Authorization value not closed")?;
            let (slot, index) = match key.trim() {
                "mchid" => (&mut auth.mchid, 0),
                "nonce_str" => (&mut auth.nonce_str, 1),
                "timestamp" => (&mut auth.timestamp, 2),
                "serial_no" => (&mut auth.serial_no, 3),
                "signature" => (&mut auth.signature, 4),
                other => return Err(format!("unknown Authorization field {other}")),
            };
            if seen[index] {
                return Err(format!("Authorization field {} repeated", key.trim()));
            }
            seen[index] = true;
            *slot = value.to_owned();
            rest = after;
        }
        let names = ["mchid", "nonce_str", "timestamp", "serial_no", "signature"];
        match seen.iter().position(|seen| !seen) {
            Some(missing) => Err(format!("Authorization lacks {}", names[missing])),
            None => Ok(auth),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_go_and_the_php_field_orders() {
        let go = Authorization::parse(
            r#"WECHATPAY2-SHA256-RSA2048 mchid="1900000001",nonce_str="abc",timestamp="1624523846",serial_no="AB12",signature="c2ln""#,
        )
        .unwrap();
        let php = Authorization::parse(
            r#"WECHATPAY2-SHA256-RSA2048 mchid="1900000001",serial_no="AB12",timestamp="1624523846",nonce_str="abc",signature="c2ln""#,
        );
        assert!(php.is_ok());
        assert_eq!(go.mchid, "1900000001");
        assert_eq!(go.nonce_str, "abc");
        assert_eq!(go.timestamp, "1624523846");
        assert_eq!(go.serial_no, "AB12");
    }

    #[test]
    fn refuses_malformed_headers() {
        for header in [
            "",
            "Bearer x",
            r#"WECHATPAY2-SHA256-RSA2048 mchid="1",nonce_str="a",timestamp="1",serial_no="s""#,
            r#"WECHATPAY2-SHA256-RSA2048 mchid="1",mchid="1",nonce_str="a",timestamp="1",serial_no="s",signature="x""#,
            r#"WECHATPAY2-SHA256-RSA2048 mchid=1,nonce_str="a",timestamp="1",serial_no="s",signature="x""#,
            r#"WECHATPAY2-SHA256-RSA2048 mchid="1",nonce_str="a",timestamp="1",serial_no="s",signature="x",extra="y""#,
        ] {
            assert!(Authorization::parse(header).is_err(), "{header}");
        }
    }
}
