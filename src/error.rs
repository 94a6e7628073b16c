//! The one error type of the component's boundary: everything that can stop
//! a shopper, sorted by what the shopper (or the storefront) can do about it.

use contract::{ErrorCode, MethodKind};

use crate::i18n::Key;

/// Why the checkout could not do what the shopper asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckoutError {
    /// The backend could not be reached (offline, dropped connection).
    #[error("could not reach the payment server")]
    Network,
    /// The backend answered with an error body.
    #[error("the payment server refused ({status} {code:?}): {message}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// The backend's error code.
        code: ErrorCode,
        /// The backend's explanation, for developers.
        message: String,
    },
    /// The backend answered something that is not the contract.
    #[error("the payment server's answer could not be read: {0}")]
    BadResponse(String),
    /// The server asked for a hand-off this build does not know.
    #[error("this payment method needs a newer version of the checkout")]
    UnsupportedHandOff,
    /// A wallet's JS bridge (WeChat's, Alipay's, by the method) is missing
    /// or failed.
    #[error("{0:?} could not start the payment")]
    WalletBridge(MethodKind),
    /// The shopper closed a wallet's payment sheet.
    #[error("the shopper closed {0:?}'s payment")]
    WalletClosed(MethodKind),
    /// The component was embedded without what it needs.
    #[error("the checkout is misconfigured: {0}")]
    Misconfigured(String),
}

impl CheckoutError {
    /// The message a shopper sees for this error.
    pub fn message_key(&self) -> Key {
        match self {
            CheckoutError::Network => Key::ErrorNetwork,
            CheckoutError::Refused { code, .. } => match code {
                ErrorCode::SessionExpired => Key::ErrorSessionExpired,
                ErrorCode::SessionCompleted => Key::ErrorSessionCompleted,
                ErrorCode::MethodUnavailable => Key::ErrorMethodUnavailable,
                ErrorCode::Unauthorized | ErrorCode::NotFound => Key::ErrorSessionNotFound,
                ErrorCode::ProviderUnavailable => Key::ErrorProviderUnavailable,
                ErrorCode::PaymentInProgress => Key::ConfirmOnPhone,
                _ => Key::ErrorRefused,
            },
            CheckoutError::BadResponse(_) => Key::ErrorBadResponse,
            CheckoutError::UnsupportedHandOff => Key::ErrorUnsupported,
            CheckoutError::WalletBridge(MethodKind::Alipay) => Key::ErrorAlipayBridge,
            CheckoutError::WalletBridge(_) => Key::ErrorWechatBridge,
            CheckoutError::WalletClosed(_) => Key::WalletClosed,
            CheckoutError::Misconfigured(_) => Key::ErrorMisconfigured,
        }
    }

    /// True when trying the same request again may work.
    pub fn is_transient(&self) -> bool {
        match self {
            CheckoutError::Network => true,
            CheckoutError::Refused { status, code, .. } => {
                *status >= 500 || *status == 429 || *code == ErrorCode::IdempotencyKeyInUse
            }
            _ => false,
        }
    }
}
