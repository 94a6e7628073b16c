//! Payment institutions behind one trait. An adapter speaks its provider's
//! documented protocol to a base URL from the configuration: the real host
//! live, the emulator's address in sandbox mode, with no sandbox branch in
//! between. Adding an institution, or a flow, is adding an adapter (or a
//! match arm in one), not changing the callers.

pub mod alipay;
pub mod cmpay;
pub mod rsa;
pub mod unionpay;
pub mod wechat_pay;
pub mod wire;

use std::collections::HashMap;
use std::sync::Arc;

use axum::http::HeaderMap;
use axum::response::Response;
use contract::{
    Device, FailureReason, Flow, MethodKind, Money, NextAction, RefundFailureReason, UnixSeconds,
};

use crate::metrics::Metrics;

/// An order as the server hands it to a provider.
#[derive(Debug, Clone)]
pub struct ProviderOrder {
    /// The merchant's order number (the intent id).
    pub out_trade_no: String,
    /// When the order was made (the intent's creation): UnionPay names an
    /// order by its number and this time.
    pub created_at: UnixSeconds,
    /// The amount.
    pub amount: Money,
    /// What the shopper sees on the provider's side.
    pub description: String,
    /// When the order stops accepting payment.
    pub time_expire: UnixSeconds,
    /// The hand-off wanted.
    pub flow: Flow,
    /// Where the provider sends its notifications.
    pub notify_url: String,
    /// Where a redirect flow brings the shopper back.
    pub return_url: String,
    /// Where a provider that sends the shopper back with a form POST
    /// (UnionPay's `frontUrl`) sends them: this server, which sends them on
    /// to `return_url`, as a static checkout page cannot take a POST.
    pub post_return_url: String,
    /// The shopper's IP address, for flows that need it (WeChat's H5).
    pub payer_ip: Option<String>,
    /// The shopper's id in the wallet, for in-app flows (WeChat's openid).
    pub payer_id: Option<String>,
    /// The device the shopper is on: a provider page may come in a desktop
    /// and a phone layout.
    pub device: Device,
}

/// How the shopper is handed to the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandOff {
    /// What the browser does.
    pub action: NextAction,
    /// When the hand-off must be asked for again rather than replayed (an
    /// H5 URL lives five minutes), if it expires before the order does.
    pub renew_at: Option<UnixSeconds>,
}

/// What a provider says of an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderStatus {
    /// Paid: the provider has the money.
    Paid {
        /// The provider's id for the payment.
        transaction_id: String,
        /// What it took.
        amount: Money,
    },
    /// Not paid yet.
    Pending,
    /// The shopper has it on the phone and is confirming: being paid.
    Processing,
    /// It will not be paid: declined, or closed by the provider.
    Failed(FailureReason),
    /// Closed (by us, or because its time ran out).
    Closed,
    /// The provider has no such order.
    NotFound,
}

/// An order the provider has, as the server names it when it asks about
/// it.
#[derive(Debug, Clone, Copy)]
pub struct OrderRef<'a> {
    /// The merchant's order number (the intent id).
    pub out_trade_no: &'a str,
    /// When the order was made, as [`ProviderOrder::created_at`] said.
    pub created_at: UnixSeconds,
    /// When it stops taking payment, as [`ProviderOrder::time_expire`] said.
    pub time_expire: UnixSeconds,
}

/// A refund the provider has been asked for, as the server names it.
#[derive(Debug, Clone, Copy)]
pub struct RefundRef<'a> {
    /// The merchant's refund number (the refund id).
    pub out_refund_no: &'a str,
    /// When the refund was made, as [`ProviderRefund::created_at`] said.
    pub created_at: UnixSeconds,
}

/// A refund as the server asks a provider for it.
#[derive(Debug, Clone)]
pub struct ProviderRefund {
    /// The order it gives back (the intent id).
    pub out_trade_no: String,
    /// When that order was made.
    pub order_created_at: UnixSeconds,
    /// The provider's id for the payment given back (UnionPay refers to
    /// it as `origQryId`).
    pub transaction_id: Option<String>,
    /// The merchant's refund number (the refund id): asking again with it
    /// is the same refund.
    pub out_refund_no: String,
    /// When the refund was made: with its number, UnionPay's name for it.
    pub created_at: UnixSeconds,
    /// How much.
    pub amount: Money,
    /// What the order took.
    pub total: Money,
    /// Why, as the merchant gave it.
    pub reason: Option<String>,
    /// Where the provider sends the refund's notifications.
    pub notify_url: String,
}

/// What a provider says of a refund.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundState {
    /// The money is back with the shopper.
    Succeeded,
    /// Under way.
    Pending,
    /// It did not go through.
    Failed(RefundFailureReason),
    /// The provider has no such refund.
    NotFound,
}

/// A verified notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// The provider's id for it, to apply it once.
    pub id: String,
    /// The merchant's order number.
    pub out_trade_no: String,
    /// What it says happened.
    pub about: Notified,
}

/// What a notification is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notified {
    /// The order's payment.
    Payment(ProviderStatus),
    /// One of the order's refunds.
    Refund {
        /// The merchant's refund number.
        out_refund_no: String,
        /// How it stands.
        state: RefundState,
    },
}

/// What closing an order found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    /// Closed: it can no longer be paid.
    Closed,
    /// Too late: it was paid.
    AlreadyPaid,
    /// The provider has no order yet (an Alipay code nobody has scanned):
    /// nothing can be closed now, yet it can still be paid until its
    /// `time_expire`, so it must be asked again until then.
    NotYet,
    /// The provider is still deciding a payment of it (UnionPay's 03, 04,
    /// 05): it may yet be paid, whatever its time limit said, so it must be
    /// asked again until the provider decides.
    Deciding,
}

/// Why a provider call failed.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// It could not be reached, timed out or failed on its side: nothing is
    /// known to have happened, and the same call may be made again.
    #[error("the provider could not be reached: {0}")]
    Unavailable(String),
    /// It limits how often it is called, and said so: the same call may be
    /// made again, after a pause.
    #[error("the provider is busy: {said}")]
    Busy {
        /// What it said.
        said: String,
        /// How long it asked to wait, if it said.
        retry_after: Option<u64>,
    },
    /// It answered, and refused.
    #[error("the provider refused ({code}): {message}")]
    Refused {
        /// Its code, such as `PARAM_ERROR`.
        code: String,
        /// Its words.
        message: String,
    },
    /// Its answer could not be trusted or read.
    #[error("the provider's answer was not acceptable: {0}")]
    BadAnswer(String),
    /// A notification failed verification.
    #[error("notification rejected: {0}")]
    BadNotification(String),
}

/// One payment institution, for one merchant account.
#[async_trait::async_trait]
pub trait Provider: Send + Sync {
    /// The method it serves.
    fn method(&self) -> MethodKind;
    /// Its name in URLs and records (`wechat_pay`).
    fn name(&self) -> &'static str;
    /// The account it acts for, as intents record it (`wechat_pay:<mchid>`):
    /// only this account's answers settle the intents it made.
    fn account(&self) -> String;
    /// Whether it can carry out this flow.
    fn supports(&self, flow: Flow) -> bool;
    /// Where the shopper must go first for the provider to know who pays
    /// (WeChat's web authorisation, for JSAPI), if this flow needs it and
    /// the payer is not known yet. The provider sends the shopper back to
    /// `callback` with a code and `state`.
    fn payer_authorization(&self, flow: Flow, callback: &str, state: &str) -> Option<String>;
    /// Exchanges the code of that authorisation for the payer's id.
    async fn payer_id(&self, code: &str) -> Result<String, ProviderError>;
    /// Creates an order and says how the shopper is handed off.
    async fn create(&self, order: &ProviderOrder) -> Result<HandOff, ProviderError>;
    /// Asks how an order stands.
    async fn query(&self, order: OrderRef<'_>) -> Result<ProviderStatus, ProviderError>;
    /// Closes an order so that it can no longer be paid.
    async fn close(&self, order: OrderRef<'_>) -> Result<Closed, ProviderError>;
    /// Asks for a refund of a paid order (asking again with the same
    /// `out_refund_no` is the same refund) and says how it stands.
    async fn refund(&self, refund: &ProviderRefund) -> Result<RefundState, ProviderError>;
    /// Asks how a refund of an order stands.
    async fn refund_status(
        &self,
        order: OrderRef<'_>,
        refund: RefundRef<'_>,
    ) -> Result<RefundState, ProviderError>;
    /// Verifies a notification (signature, freshness) and reads it.
    fn parse_notification(
        &self,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<Notification, ProviderError>;
    /// The answer the provider expects to a notification: accepted, or
    /// refused (it sends it again later).
    fn notification_answer(&self, refused: Option<&str>) -> Response;
}

/// The providers of every merchant.
#[derive(Clone, Default)]
pub struct Providers {
    by_merchant: HashMap<(String, MethodKind), Arc<dyn Provider>>,
}

impl Providers {
    /// Registers a merchant's provider, every call of it counted and timed
    /// in `metrics`.
    pub fn add(&mut self, merchant_id: &str, provider: Arc<dyn Provider>, metrics: Arc<Metrics>) {
        let measured: Arc<dyn Provider> =
            Arc::new(crate::metrics::Measured::new(provider, metrics));
        self.by_merchant
            .insert((merchant_id.to_owned(), measured.method()), measured);
    }

    /// A merchant's provider for a method.
    pub fn get(&self, merchant_id: &str, method: MethodKind) -> Option<&Arc<dyn Provider>> {
        self.by_merchant.get(&(merchant_id.to_owned(), method))
    }

    /// The provider account that made an intent, if the merchant still has
    /// it (`account` `None`: an intent from before accounts were recorded,
    /// made with the merchant's provider for the method).
    pub fn of_account(
        &self,
        merchant_id: &str,
        method: MethodKind,
        account: Option<&str>,
    ) -> Option<&Arc<dyn Provider>> {
        self.get(merchant_id, method)
            .filter(|provider| account.is_none_or(|account| provider.account() == account))
    }

    /// A merchant's provider by its name.
    pub fn named(&self, merchant_id: &str, name: &str) -> Option<&Arc<dyn Provider>> {
        self.by_merchant
            .iter()
            .find(|((merchant, _), provider)| merchant == merchant_id && provider.name() == name)
            .map(|(_, provider)| provider)
    }

    /// True if the merchant's provider carries out this method's flow.
    pub fn implements(&self, merchant_id: &str, method: MethodKind, flow: Flow) -> bool {
        self.get(merchant_id, method)
            .is_some_and(|provider| provider.supports(flow))
    }
}
