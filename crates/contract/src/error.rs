use serde::{Deserialize, Serialize};

/// The body of every non-2xx answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// What went wrong, for code to act on.
    pub code: ErrorCode,
    /// What went wrong, for a developer to read (not shown to shoppers).
    pub message: String,
}

/// What went wrong, as a stable machine-readable code. A newer server may
/// send a code not listed here: act on the HTTP status then.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The body or query is malformed or a field is out of range.
    InvalidRequest,
    /// The credentials are missing or wrong.
    Unauthorized,
    /// No such session or intent, or not this caller's.
    NotFound,
    /// `Idempotency-Key` was missing on a request that needs it.
    IdempotencyKeyMissing,
    /// The `Idempotency-Key` was already used with a different request.
    IdempotencyKeyReused,
    /// A request with this `Idempotency-Key` is still being carried out;
    /// retry it shortly.
    IdempotencyKeyInUse,
    /// The method is not offered, or not available in this context.
    MethodUnavailable,
    /// The session has expired; no new payment can start.
    SessionExpired,
    /// The session has already been paid.
    SessionCompleted,
    /// The intent has been paid: it cannot be canceled.
    IntentPaid,
    /// The intent has already ended (failed, canceled or expired).
    IntentFinished,
    /// The session's payment is being confirmed on the shopper's phone: no
    /// other payment can start until it ends (or its intent is canceled).
    PaymentInProgress,
    /// A refund was asked of an intent that holds no payment.
    IntentNotPaid,
    /// A refund was asked for more than is left of the payment (what was
    /// paid, less the refunds that succeeded or are under way).
    RefundTooLarge,
    /// The payment provider refused the request.
    ProviderError,
    /// The payment provider could not be reached or did not answer in time;
    /// nothing was changed, and the same request may be sent again.
    ProviderUnavailable,
    /// The endpoint exists only on a sandbox server.
    SandboxOnly,
    /// Something broke on the server.
    Internal,
    /// A code this build does not know.
    #[serde(other)]
    Unknown,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn an_error_body_has_this_shape() {
        let body = ErrorBody {
            code: ErrorCode::IdempotencyKeyReused,
            message: "key used with another body".into(),
        };
        let expected =
            json!({"code": "idempotency_key_reused", "message": "key used with another body"});
        assert_eq!(serde_json::to_value(&body).unwrap(), expected);
    }

    #[test]
    fn unknown_codes_decode() {
        let body: ErrorBody =
            serde_json::from_value(json!({"code": "rate_limited", "message": "slow down"}))
                .unwrap();
        assert_eq!(body.code, ErrorCode::Unknown);
    }
}
