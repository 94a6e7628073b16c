//! WeChat Pay API v3's request and answer bodies, with WeChat's field
//! names, and their conversions from and to the server's terms.

use contract::{Currency, FailureReason, Money, UnixSeconds};
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

use crate::providers::{ProviderError, ProviderStatus};

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
        "NOTPAY" | "USERPAYING" => ProviderStatus::Pending,
        "CLOSED" => ProviderStatus::Closed,
        "REVOKED" => ProviderStatus::Failed(FailureReason::ClosedByProvider),
        "PAYERROR" => ProviderStatus::Failed(FailureReason::Declined),
        other => {
            return Err(ProviderError::BadAnswer(format!("trade_state {other:?}")));
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
        assert_eq!(status(&waiting).unwrap(), ProviderStatus::Pending);
        let no_id = transaction(r#"{"out_trade_no":"pi_1","trade_state":"SUCCESS"}"#);
        assert!(status(&no_id).is_err(), "a payment with no transaction id");
    }
}
