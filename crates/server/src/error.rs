//! The server's one error type: every failure answers with a status and a
//! contract [`ErrorBody`].

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use contract::{ErrorBody, ErrorCode};

/// A provider that could not be reached: try again soon.
pub const UNAVAILABLE_RETRY_SECONDS: u64 = 2;

/// A provider that limits its callers without saying for how long.
const BUSY_RETRY_SECONDS: u64 = 5;

/// However long a provider asks to wait, the browser waits no longer.
const MAX_RETRY_SECONDS: u64 = 60;

/// An error answer.
#[derive(Debug, thiserror::Error)]
#[error("{code:?}: {message}")]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The contract's code.
    pub code: ErrorCode,
    /// For developers.
    pub message: String,
    /// Seconds to wait before sending the same request again, when the
    /// answer is "not now".
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error with this status, code and message.
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// The same error, saying when to try again.
    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// 400: a malformed request.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, ErrorCode::InvalidRequest, message)
    }

    /// 401: missing or wrong credentials.
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthorized,
            "missing or invalid bearer token",
        )
    }

    /// 404: no such thing for this caller.
    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            format!("no such {what}"),
        )
    }

    /// 409 with a code.
    pub fn conflict(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    /// 500: something broke; the details go to the log, not the caller.
    pub fn internal(error: impl std::fmt::Display) -> Self {
        tracing::error!("internal error: {error}");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Internal,
            "internal error",
        )
    }
}

impl From<crate::providers::ProviderError> for ApiError {
    fn from(error: crate::providers::ProviderError) -> Self {
        use crate::providers::ProviderError;
        match error {
            ProviderError::Unavailable(message) => {
                tracing::warn!("provider unavailable: {message}");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    ErrorCode::ProviderUnavailable,
                    "the payment provider could not be reached; nothing was changed, try again",
                )
                .retry_after(UNAVAILABLE_RETRY_SECONDS)
            }
            ProviderError::Busy { said, retry_after } => {
                tracing::warn!("provider busy: {said}");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    ErrorCode::ProviderUnavailable,
                    "the payment provider limits how often it is called; nothing was changed, \
                     try again after Retry-After seconds",
                )
                .retry_after(
                    retry_after
                        .unwrap_or(BUSY_RETRY_SECONDS)
                        .clamp(1, MAX_RETRY_SECONDS),
                )
            }
            other => {
                tracing::warn!("provider error: {other}");
                ApiError::new(
                    StatusCode::BAD_GATEWAY,
                    ErrorCode::ProviderError,
                    other.to_string(),
                )
            }
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        ApiError::internal(error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            Json(ErrorBody {
                code: self.code,
                message: self.message,
            }),
        )
            .into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// A JSON body that answers a contract error, not axum's plain text, when it
/// does not parse.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> axum::extract::FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(
        request: axum::extract::Request,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(JsonBody(value)),
            Err(rejection) => Err(ApiError::invalid(rejection.body_text())),
        }
    }
}
