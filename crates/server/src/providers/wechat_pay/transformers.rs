//! WeChat Pay API v3's request and answer bodies, with WeChat's field
//! names, and their conversions from and to the server's terms.

use contract::{Currency, FailureReason, Money, UnixSeconds};
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

use contract::RefundFailureReason;

use crate::providers::{ProviderError, ProviderStatus, RefundState};

/// A prepay request: Native, H5 or JSAPI (the flow decides which of
/// `payer` and `scene_info` it carries).
#[derive(Debug, Serialize)]
pub struct Prepay<'a> {
    pub appid: &'a str,
    pub mchid: &'a str,
    pub description: &'a str,
    pub out_trade_no: &'a str,
    pub time_expire: String,
    pub notify_url: &'a str,
    pub amount: Amount,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payer: Option<Payer<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scene_info: Option<SceneInfo<'a>>,
}

/// `amount`: `total` in fen.
#[derive(Debug, Serialize, Deserialize)]
pub struct Amount {
    pub total: i64,
    pub currency: String,
}

/// `payer` of a JSAPI order.
#[derive(Debug, Serialize)]
pub struct Payer<'a> {
    pub openid: &'a str,
}

/// `scene_info` of an H5 order.
#[derive(Debug, Serialize)]
pub struct SceneInfo<'a> {
    pub payer_client_ip: &'a str,
    pub h5_info: H5Info,
}

/// `h5_info`: the kind of page the shopper pays from.
#[derive(Debug, Serialize)]
pub struct H5Info {
    #[serde(rename = "type")]
    pub kind: &'static str,
}

/// Native's answer.
#[derive(Debug, Deserialize)]
pub struct NativeAnswer {
    pub code_url: String,
}

/// H5's answer.
#[derive(Debug, Deserialize)]
pub struct H5Answer {
    pub h5_url: String,
}

/// JSAPI's answer.
#[derive(Debug, Deserialize)]
pub struct JsapiAnswer {
    pub prepay_id: String,
}

/// An error answer.
#[derive(Debug, Deserialize)]
pub struct ErrorAnswer {
    pub code: String,
    pub message: String,
}

/// A transaction, from a query or a notification's resource.
#[derive(Debug, Deserialize)]
pub struct Transaction {
    #[serde(default)]
    pub mchid: Option<String>,
    #[serde(default)]
    pub appid: Option<String>,
    pub out_trade_no: String,
    #[serde(default)]
    pub transaction_id: Option<String>,
    pub trade_state: String,
    #[serde(default)]
    pub amount: Option<TransactionAmount>,
}

/// A transaction's `amount`.
#[derive(Debug, Deserialize)]
pub struct TransactionAmount {
    pub total: i64,
    #[serde(default)]
    pub currency: Option<String>,
}

/// A notification as it arrives.
#[derive(Debug, Deserialize)]
pub struct Envelope {
    pub id: String,
    pub event_type: String,
    pub resource: Resource,
}

/// A notification's encrypted `resource`.
#[derive(Debug, Deserialize)]
pub struct Resource {
    pub algorithm: String,
    pub ciphertext: String,
    #[serde(default)]
    pub associated_data: String,
    pub nonce: String,
}

/// `POST /v3/refund/domestic/refunds`.
#[derive(Debug, Serialize)]
pub struct RefundRequest<'a> {
    pub out_trade_no: &'a str,
    pub out_refund_no: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'a str>,
    pub notify_url: &'a str,
    pub amount: RefundAmount,
}

/// A refund request's `amount`: `refund` of `total`, in fen.
#[derive(Debug, Serialize)]
pub struct RefundAmount {
    pub refund: i64,
    pub total: i64,
    pub currency: String,
}

/// A refund, as the create and query calls answer it.
#[derive(Debug, Deserialize)]
pub struct RefundAnswer {
    pub out_refund_no: String,
    pub out_trade_no: String,
    pub status: String,
}

/// A `REFUND.*` notification's resource.
#[derive(Debug, Deserialize)]
pub struct RefundNotice {
    #[serde(default)]
    pub mchid: Option<String>,
    pub out_trade_no: String,
    pub out_refund_no: String,
    pub refund_status: String,
}

/// The answer to `sns/oauth2/access_token`.
#[derive(Debug, Deserialize)]
pub struct AccessToken {
    #[serde(default)]
    pub openid: Option<String>,
    #[serde(default)]
    pub errcode: Option<i64>,
    #[serde(default)]
    pub errmsg: Option<String>,
}

/// `amount` for an order of `money`.
pub fn amount(money: &Money) -> Amount {
    Amount {
        total: money.value,
        currency: money.currency.code().to_owned(),
    }
}

/// A time as WeChat writes it: RFC 3339 in Beijing time.
pub fn wechat_time(at: UnixSeconds) -> String {
    let beijing = UtcOffset::from_hms(8, 0, 0).unwrap_or(UtcOffset::UTC);
    OffsetDateTime::from_unix_timestamp(at)
        .map(|moment| moment.to_offset(beijing))
        .ok()
        .and_then(|moment| moment.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// What a transaction says of its order.
pub fn status(transaction: &Transaction) -> Result<ProviderStatus, ProviderError> {
    Ok(match transaction.trade_state.as_str() {
        // REFUND: it was paid (and a refund has begun since).
        "SUCCESS" | "REFUND" => {
            let bad =
                |what: &str| ProviderError::BadAnswer(format!("a paid transaction without {what}"));
            let transaction_id = transaction
                .transaction_id
                .clone()
                .ok_or_else(|| bad("transaction_id"))?;
            let amount = transaction.amount.as_ref().ok_or_else(|| bad("amount"))?;
            let currency = match &amount.currency {
                Some(code) => code
                    .parse()
                    .map_err(|_| ProviderError::BadAnswer(format!("currency {code:?}")))?,
                None => Currency::CNY,
            };
            ProviderStatus::Paid {
                transaction_id,
                amount: Money::new(amount.total, currency),
            }
        }
        "NOTPAY" => ProviderStatus::Pending,
        // Scanned and confirming (WeChat reports it for payment codes).
        "USERPAYING" => ProviderStatus::Processing,
        "CLOSED" => ProviderStatus::Closed,
        "REVOKED" => ProviderStatus::Failed(FailureReason::ClosedByProvider),
        "PAYERROR" => ProviderStatus::Failed(FailureReason::Declined),
        other => {
            return Err(ProviderError::BadAnswer(format!("trade_state {other:?}")));
        }
    })
}

/// What a refund's `status` (or a notification's `refund_status`) says.
pub fn refund_state(status: &str) -> Result<RefundState, ProviderError> {
    Ok(match status {
        "SUCCESS" => RefundState::Succeeded,
        "PROCESSING" => RefundState::Pending,
        "ABNORMAL" => RefundState::Failed(RefundFailureReason::Abnormal),
        "CLOSED" => RefundState::Failed(RefundFailureReason::Closed),
        other => {
            return Err(ProviderError::BadAnswer(format!("refund status {other:?}")));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transaction(json: &str) -> Transaction {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn times_are_beijing_time() {
        assert_eq!(wechat_time(1_796_090_400), "2026-12-01T10:00:00+08:00");
    }

    #[test]
    fn trade_states_become_statuses() {
        let paid = transaction(
            r#"{"out_trade_no":"pi_1","transaction_id":"4200001","trade_state":"SUCCESS",
                "amount":{"total":12800,"payer_total":12800,"currency":"CNY","payer_currency":"CNY"}}"#,
        );
        assert_eq!(
            status(&paid).unwrap(),
            ProviderStatus::Paid {
                transaction_id: "4200001".into(),
                amount: Money::new(12800, Currency::CNY)
            }
        );
        let declined = transaction(r#"{"out_trade_no":"pi_1","trade_state":"PAYERROR"}"#);
        assert_eq!(
            status(&declined).unwrap(),
            ProviderStatus::Failed(FailureReason::Declined)
        );
        let waiting = transaction(r#"{"out_trade_no":"pi_1","trade_state":"USERPAYING"}"#);
        assert_eq!(status(&waiting).unwrap(), ProviderStatus::Processing);
        let unpaid = transaction(r#"{"out_trade_no":"pi_1","trade_state":"NOTPAY"}"#);
        assert_eq!(status(&unpaid).unwrap(), ProviderStatus::Pending);
        let no_id = transaction(r#"{"out_trade_no":"pi_1","trade_state":"SUCCESS"}"#);
        assert!(status(&no_id).is_err(), "a payment with no transaction id");
    }
}

#[cfg(test)]
mod refund_tests {
    use super::*;

    /// A refund answer with every field WeChat Pay's refund documentation
    /// (申请退款, 返回字典) lists, those the adapter ignores included.
    const DOCUMENTED_ANSWER: &str = r#"{
        "refund_id": "50000000382019052709732678859",
        "out_refund_no": "1217752501201407033233368018",
        "transaction_id": "1217752501201407033233368018",
        "out_trade_no": "1217752501201407033233368018",
        "channel": "ORIGINAL",
        "user_received_account": "招商银行信用卡0403",
        "success_time": "2020-12-01T16:18:12+08:00",
        "create_time": "2020-12-01T16:18:12+08:00",
        "status": "SUCCESS",
        "funds_account": "UNSETTLED",
        "amount": {"total": 100, "refund": 100, "from": [{"account": "AVAILABLE", "amount": 444}],
                   "payer_total": 90, "payer_refund": 90, "settlement_refund": 100,
                   "settlement_total": 100, "discount_refund": 10, "currency": "CNY", "refund_fee": 100},
        "promotion_detail": [{"promotion_id": "109519", "scope": "SINGLE", "type": "DISCOUNT",
                              "amount": 5, "refund_amount": 100,
                              "goods_detail": [{"merchant_goods_id": "1217752501201407033233368018",
                                                "wechatpay_goods_id": "1001", "goods_name": "iPhone6s 16G",
                                                "unit_price": 100, "refund_amount": 100, "refund_quantity": 1}]}]
    }"#;

    #[test]
    fn the_documented_refund_answer_reads_as_succeeded() {
        let answer: RefundAnswer = serde_json::from_str(DOCUMENTED_ANSWER).unwrap();
        assert_eq!(answer.out_refund_no, "1217752501201407033233368018");
        assert_eq!(
            refund_state(&answer.status).unwrap(),
            RefundState::Succeeded
        );
    }

    #[test]
    fn refund_statuses_become_states() {
        assert_eq!(refund_state("PROCESSING").unwrap(), RefundState::Pending);
        assert_eq!(
            refund_state("ABNORMAL").unwrap(),
            RefundState::Failed(RefundFailureReason::Abnormal)
        );
        assert_eq!(
            refund_state("CLOSED").unwrap(),
            RefundState::Failed(RefundFailureReason::Closed)
        );
        assert!(refund_state("LOST").is_err());
    }

    #[test]
    fn a_refund_request_is_written_with_wechat_s_names() {
        let request = RefundRequest {
            out_trade_no: "pi_1",
            out_refund_no: "re_1",
            reason: None,
            notify_url: "https://pay.shop.example/api/notify/wechat-pay/shop",
            amount: RefundAmount {
                refund: 500,
                total: 12800,
                currency: "CNY".into(),
            },
        };
        assert_eq!(
            serde_json::to_value(&request).unwrap(),
            serde_json::json!({
                "out_trade_no": "pi_1", "out_refund_no": "re_1",
                "notify_url": "https://pay.shop.example/api/notify/wechat-pay/shop",
                "amount": {"refund": 500, "total": 12800, "currency": "CNY"}
            })
        );
    }
}
