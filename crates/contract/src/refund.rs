use serde::{Deserialize, Serialize};

use crate::{Money, UnixSeconds};

/// A merchant's request to give back some or all of a payment. Without an
/// amount, everything that is left of it is refunded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateRefund {
    /// How much, in the payment's currency; all that is left when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Money>,
    /// Why, as the shopper may see it on the provider's side (at most 80
    /// characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Money given back to the shopper through the provider that took it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Refund {
    /// The refund id (`re_…`); also the provider's refund number.
    pub id: String,
    /// The intent whose payment it gives back.
    pub intent_id: String,
    /// How much.
    pub amount: Money,
    /// Where it stands. Only the server moves it, told by the provider.
    pub status: RefundStatus,
    /// Why, as the merchant gave it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Why it failed, when `status` is `failed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<RefundFailureReason>,
    /// True when the server made it by itself (a second payment of a paid
    /// session).
    pub automatic: bool,
    /// When it was asked for.
    pub created_at: UnixSeconds,
}

/// Where a refund stands. A newer server may send a status not listed here:
/// read the refund again later.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RefundStatus {
    /// Asked of the provider (or about to be), not yet confirmed. Its
    /// amount counts against what is left of the payment.
    Pending,
    /// The provider has given the money back.
    Succeeded,
    /// It did not go through (see `failure_reason`). Its amount can be
    /// refunded again, except an `abnormal` one's: the provider holds that
    /// money until the merchant settles it in the provider's merchant
    /// platform.
    Failed,
    /// A status this build does not know.
    #[serde(other)]
    Unknown,
}

impl RefundStatus {
    /// The wire name, such as `"pending"`.
    pub fn as_str(self) -> &'static str {
        match self {
            RefundStatus::Pending => "pending",
            RefundStatus::Succeeded => "succeeded",
            RefundStatus::Failed => "failed",
            RefundStatus::Unknown => "unknown",
        }
    }
}

/// Why a refund failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RefundFailureReason {
    /// The provider could not put the money back where it came from (a
    /// closed card or account, say): it is held for the merchant, who
    /// settles it in the provider's merchant platform.
    Abnormal,
    /// The provider closed the refund.
    Closed,
    /// The provider refused it (not enough balance on the merchant's
    /// account, the payment too old, ...).
    ProviderRefused,
    /// A reason this build does not know.
    #[serde(other)]
    Other,
}
