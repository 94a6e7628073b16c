//! Payment institutions behind one trait. Each provider creates orders,
//! closes them and verifies its notifications; adding an institution or a
//! flow is adding an implementation, not changing the callers.

mod wechat_pay;

use std::sync::Arc;

use axum::http::HeaderMap;
use contract::{Flow, MethodKind, Money, NextAction, UnixSeconds};

pub use wechat_pay::{sign_notification, WechatPaySandbox, WECHAT_NOTIFY_PATH};

/// An order as the server hands it to a provider.
#[derive(Debug, Clone)]
pub struct ProviderOrder {
    /// The merchant's order number (the intent id).
    pub out_trade_no: String,
    /// The amount.
    pub amount: Money,
    /// What the shopper sees on the provider's side.
    pub description: String,
    /// When the order stops accepting payment.
    pub time_expire: UnixSeconds,
    /// The hand-off wanted.
    pub flow: Flow,
    /// Where a redirect flow comes back to.
    pub return_url: String,
}

/// A verified notification from a provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// The provider's notification id, for deduplication.
    pub id: String,
    /// The merchant's order number.
    pub out_trade_no: String,
    /// The order's state, as the provider says.
    pub outcome: Outcome,
    /// The amount the provider took.
    pub amount: Money,
}

/// What a provider says happened to an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Paid.
    Paid,
    /// Not paid yet (or still processing).
    Pending,
    /// Failed or closed.
    NotPaid,
}

/// What closing an order found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    /// Closed: it can no longer be paid.
    Closed,
    /// Too late: it was already paid.
    AlreadyPaid,
}

/// Why a provider call failed.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// The provider does not offer this flow (yet).
    #[error("{0:?} flow is not implemented for this provider yet")]
    UnsupportedFlow(Flow),
    /// A notification failed verification.
    #[error("notification rejected: {0}")]
    BadNotification(String),
    /// No such order at the provider.
    #[error("no such order at the provider")]
    UnknownOrder,
    /// The provider's storage or network failed.
    #[error("provider failure: {0}")]
    Failed(String),
}

/// One payment institution.
#[async_trait::async_trait]
pub trait Provider: Send + Sync {
    /// The method it serves.
    fn method(&self) -> MethodKind;
    /// Whether it can carry out this flow.
    fn supports(&self, flow: Flow) -> bool;
    /// The name notifications are recorded under.
    fn name(&self) -> &'static str;
    /// Creates an order and says how the shopper is handed off.
    async fn create(&self, order: &ProviderOrder) -> Result<NextAction, ProviderError>;
    /// Closes an order so that it can no longer be paid.
    async fn close(&self, out_trade_no: &str) -> Result<Closed, ProviderError>;
    /// Checks a notification's signature and freshness and reads it.
    fn verify_notification(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now: UnixSeconds,
    ) -> Result<Notification, ProviderError>;
}

/// The providers this server runs.
#[derive(Clone, Default)]
pub struct Providers {
    all: Vec<Arc<dyn Provider>>,
}

impl Providers {
    /// A registry of these providers.
    pub fn new(all: Vec<Arc<dyn Provider>>) -> Self {
        Self { all }
    }

    /// The provider for a method.
    pub fn for_method(&self, method: MethodKind) -> Option<&Arc<dyn Provider>> {
        self.all.iter().find(|provider| provider.method() == method)
    }

    /// True if some provider carries out this method's flow.
    pub fn implements(&self, method: MethodKind, flow: Flow) -> bool {
        self.for_method(method)
            .is_some_and(|provider| provider.supports(flow))
    }
}
