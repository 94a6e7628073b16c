use serde::{Deserialize, Serialize};

use crate::{PaymentIntent, Refund, WebhookEvent};

/// A page of a merchant's intents, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IntentList {
    /// The intents, as the merchant reads them.
    pub data: Vec<PaymentIntent>,
    /// True when older ones follow: ask again with `starting_after` set to
    /// the last id of this page.
    pub has_more: bool,
}

/// An intent's refunds, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RefundList {
    /// The refunds.
    pub data: Vec<Refund>,
}

/// A page of a merchant's events, in the order they happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventList {
    /// The events, exactly as they were (or would have been) sent to the
    /// webhook endpoint.
    pub data: Vec<WebhookEvent>,
    /// True when newer ones follow: ask again with `after` set to the last
    /// id of this page.
    pub has_more: bool,
}
