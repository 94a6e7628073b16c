//! The emulator's orders and their state machine: created NOTPAY, then
//! SUCCESS (paid), PAYERROR (declined, still payable), or CLOSED (closed by
//! the merchant, or past `time_expire`); a paid order with a refund is
//! REFUND. No I/O here.

use std::collections::HashMap;

use super::crypto;
use super::protocol::{Payer, Transaction, TransactionAmount};
use crate::clock::{cst_digits, rfc3339_cst};

/// A `code_url` is valid for two hours and cannot be extended.
pub(crate) const CODE_URL_SECONDS: i64 = 2 * 60 * 60;
/// A JSAPI `prepay_id` is valid for two hours.
pub(crate) const PREPAY_ID_SECONDS: i64 = 2 * 60 * 60;
/// An `h5_url` is valid for five minutes.
pub(crate) const H5_URL_SECONDS: i64 = 5 * 60;
/// Without `time_expire`, an order stays payable this long.
const DEFAULT_EXPIRE_SECONDS: i64 = 2 * 60 * 60;

/// How the order is paid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TradeType {
    Native,
    H5,
    Jsapi,
}

impl TradeType {
    /// `trade_type` as the query reports it; H5 is `MWEB`.
    pub(crate) fn wire(self) -> &'static str {
        match self {
            TradeType::Native => "NATIVE",
            TradeType::H5 => "MWEB",
            TradeType::Jsapi => "JSAPI",
        }
    }
}

/// The `trade_state`s this emulator reaches. (REVOKED exists in WeChat
/// too; nothing here leads to it.) USERPAYING only under the
/// `pay_after_close` fault: WeChat reports it for payment-code payments,
/// never for Native, H5 or JSAPI orders.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TradeState {
    NotPay,
    UserPaying,
    Success,
    /// Paid, and a refund has been asked for.
    Refund,
    Closed,
    PayError,
}

impl TradeState {
    pub(crate) fn wire(self) -> &'static str {
        match self {
            TradeState::NotPay => "NOTPAY",
            TradeState::UserPaying => "USERPAYING",
            TradeState::Success => "SUCCESS",
            TradeState::Refund => "REFUND",
            TradeState::Closed => "CLOSED",
            TradeState::PayError => "PAYERROR",
        }
    }

    fn desc(self) -> &'static str {
        match self {
            TradeState::NotPay => "订单未支付",
            TradeState::UserPaying => "用户支付中",
            TradeState::Success => "支付成功",
            TradeState::Refund => "转入退款",
            TradeState::Closed => "订单已关闭",
            TradeState::PayError => "支付失败，请重新下单支付",
        }
    }

    /// The shopper's money is with the merchant (a refund may have begun).
    pub(crate) fn paid(self) -> bool {
        matches!(self, TradeState::Success | TradeState::Refund)
    }

    /// A declined payment can be tried again; paid and closed are final.
    fn open(self) -> bool {
        matches!(
            self,
            TradeState::NotPay | TradeState::UserPaying | TradeState::PayError
        )
    }
}

/// What the merchant asked for; a repeated create must ask the same.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct OrderParams {
    pub trade_type: TradeType,
    pub appid: String,
    pub mchid: String,
    pub description: String,
    pub out_trade_no: String,
    /// Unix seconds, as sent: a repeat without one is the same order.
    pub time_expire: Option<i64>,
    pub notify_url: String,
    pub attach: Option<String>,
    pub total: i64,
    pub currency: String,
    /// JSAPI's payer.
    pub openid: Option<String>,
}

/// One order.
#[derive(Clone, Debug)]
pub(crate) struct Order {
    pub params: OrderParams,
    pub state: TradeState,
    /// Unix seconds: `time_expire`, or two hours after the first create.
    pub expires_at: i64,
    /// When `code_url` or `prepay_id` was issued.
    pub issued_at: i64,
    pub code_url: Option<String>,
    pub prepay_id: Option<String>,
    pub transaction_id: Option<String>,
    pub success_time: Option<i64>,
    pub payer_openid: Option<String>,
    /// A phone was confirming the payment when the order was closed: its
    /// confirmation still goes through (the late payment merchants are told
    /// to expect, and to refund).
    pub held: bool,
}

impl Order {
    /// The order as the query answers it.
    pub(crate) fn transaction(&self) -> Transaction {
        let paid = self.state.paid();
        Transaction {
            appid: self.params.appid.clone(),
            mchid: self.params.mchid.clone(),
            out_trade_no: self.params.out_trade_no.clone(),
            transaction_id: self.transaction_id.clone(),
            trade_type: self.params.trade_type.wire(),
            trade_state: self.state.wire(),
            trade_state_desc: self.state.desc(),
            bank_type: paid.then_some("OTHERS"),
            attach: self.params.attach.clone(),
            success_time: self.success_time.map(rfc3339_cst),
            payer: self.payer_openid.clone().map(|openid| Payer { openid }),
            amount: TransactionAmount {
                total: self.params.total,
                payer_total: paid.then_some(self.params.total),
                currency: self.params.currency.clone(),
                payer_currency: paid.then(|| self.params.currency.clone()),
            },
        }
    }

    /// Whether the shopper's handle (code_url or prepay_id) is still good.
    pub(crate) fn handle_valid(&self, now: i64) -> bool {
        let lifetime = match self.params.trade_type {
            TradeType::Native => CODE_URL_SECONDS,
            TradeType::H5 | TradeType::Jsapi => PREPAY_ID_SECONDS,
        };
        now < self.issued_at + lifetime
    }
}

/// Why a create is refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum CreateRefused {
    Paid,
    Closed,
    /// The same `out_trade_no` with other parameters.
    Conflict,
}

/// Why a payment (or a decline) cannot happen.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum PayRefused {
    NotFound,
    Paid,
    Closed,
    /// A hold without the `pay_after_close` fault: WeChat Pay never holds
    /// these orders at USERPAYING.
    NoHold,
}

/// Why a close is refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum CloseRefused {
    NotFound,
    Paid,
}

/// An `h5_url`'s ticket, named by its `package`.
#[derive(Clone, Debug)]
pub(crate) struct H5Ticket {
    pub out_trade_no: String,
    pub prepay_id: String,
    pub issued_at: i64,
}

/// Every order of the emulated merchant, and the handles that lead to them.
#[derive(Debug, Default)]
pub(crate) struct Orders {
    pub(super) orders: HashMap<String, Order>,
    /// Refunds by `out_refund_no` (see `refunds.rs`).
    pub(super) refunds: HashMap<String, super::refunds::RefundRecord>,
    by_code_url: HashMap<String, String>,
    by_prepay_id: HashMap<String, String>,
    by_transaction_id: HashMap<String, String>,
    h5_tickets: HashMap<String, H5Ticket>,
}

impl Orders {
    /// Creates the order, or answers the existing one when the parameters
    /// are the same.
    pub(crate) fn create(
        &mut self,
        params: OrderParams,
        now: i64,
    ) -> Result<&Order, CreateRefused> {
        let no = params.out_trade_no.clone();
        self.settle(&no, now);
        if let Some(order) = self.orders.get(&no) {
            match order.state {
                TradeState::Success | TradeState::Refund => return Err(CreateRefused::Paid),
                TradeState::Closed => return Err(CreateRefused::Closed),
                TradeState::NotPay | TradeState::UserPaying | TradeState::PayError => {}
            }
            if order.params != params {
                return Err(CreateRefused::Conflict);
            }
            // A prepay_id past its two hours is replaced; a code_url is not
            // (WeChat does not extend it: the merchant closes and starts anew).
            if params.trade_type != TradeType::Native && !order.handle_valid(now) {
                let prepay_id = self.fresh_prepay_id(now);
                self.by_prepay_id.insert(prepay_id.clone(), no.clone());
                if let Some(order) = self.orders.get_mut(&no) {
                    order.prepay_id = Some(prepay_id);
                    order.issued_at = now;
                }
            }
            return self.orders.get(&no).ok_or(CreateRefused::Closed);
        }
        let (code_url, prepay_id) = match params.trade_type {
            TradeType::Native => {
                let code_url = self.fresh_code_url();
                self.by_code_url.insert(code_url.clone(), no.clone());
                (Some(code_url), None)
            }
            TradeType::H5 | TradeType::Jsapi => {
                let prepay_id = self.fresh_prepay_id(now);
                self.by_prepay_id.insert(prepay_id.clone(), no.clone());
                (None, Some(prepay_id))
            }
        };
        let order = Order {
            payer_openid: params.openid.clone(),
            expires_at: params.time_expire.unwrap_or(now + DEFAULT_EXPIRE_SECONDS),
            params,
            state: TradeState::NotPay,
            issued_at: now,
            code_url,
            prepay_id,
            transaction_id: None,
            success_time: None,
            held: false,
        };
        Ok(self.orders.entry(no).or_insert(order))
    }

    /// The order, closed first if its `time_expire` has passed.
    pub(crate) fn get(&mut self, out_trade_no: &str, now: i64) -> Option<&Order> {
        self.settle(out_trade_no, now);
        self.orders.get(out_trade_no)
    }

    /// The order that a `transaction_id` names.
    pub(crate) fn get_by_transaction_id(
        &mut self,
        transaction_id: &str,
        now: i64,
    ) -> Option<&Order> {
        let no = self.by_transaction_id.get(transaction_id)?.clone();
        self.get(&no, now)
    }

    /// The `out_trade_no` behind a `code_url`.
    pub(crate) fn by_code_url(&self, code_url: &str) -> Option<String> {
        self.by_code_url.get(code_url).cloned()
    }

    /// The `out_trade_no` behind a `prepay_id` (its current one only).
    pub(crate) fn by_prepay_id(&self, prepay_id: &str) -> Option<String> {
        let no = self.by_prepay_id.get(prepay_id)?;
        let current = self.orders.get(no)?.prepay_id.as_deref() == Some(prepay_id);
        current.then(|| no.clone())
    }

    /// A new `package` for an H5 order's `h5_url`.
    pub(crate) fn issue_h5_ticket(
        &mut self,
        out_trade_no: &str,
        now: i64,
    ) -> Option<(String, String)> {
        let prepay_id = self.orders.get(out_trade_no)?.prepay_id.clone()?;
        let package = loop {
            let candidate = crypto::digits(10);
            if !candidate.starts_with('0') && !self.h5_tickets.contains_key(&candidate) {
                break candidate;
            }
        };
        self.h5_tickets.insert(
            package.clone(),
            H5Ticket {
                out_trade_no: out_trade_no.to_owned(),
                prepay_id: prepay_id.clone(),
                issued_at: now,
            },
        );
        Some((prepay_id, package))
    }

    /// The ticket of an `h5_url`, if `prepay_id` and `package` belong together.
    pub(crate) fn h5_ticket(&self, prepay_id: &str, package: &str) -> Option<&H5Ticket> {
        self.h5_tickets
            .get(package)
            .filter(|ticket| ticket.prepay_id == prepay_id)
    }

    /// The shopper (`payer_openid`, unless the order names its payer) pays:
    /// SUCCESS with a `transaction_id`.
    pub(crate) fn pay(
        &mut self,
        out_trade_no: &str,
        payer_openid: &str,
        now: i64,
    ) -> Result<Order, PayRefused> {
        self.settle(out_trade_no, now);
        let transaction_id = self.fresh_transaction_id(now);
        let order = self
            .orders
            .get_mut(out_trade_no)
            .ok_or(PayRefused::NotFound)?;
        match order.state {
            TradeState::Success | TradeState::Refund => Err(PayRefused::Paid),
            TradeState::Closed if !order.held => Err(PayRefused::Closed),
            _ => {
                order.state = TradeState::Success;
                order.transaction_id = Some(transaction_id.clone());
                order.success_time = Some(now);
                // JSAPI orders name their payer; the others learn it now.
                if order.payer_openid.is_none() {
                    order.payer_openid = Some(payer_openid.to_owned());
                }
                let paid = order.clone();
                self.by_transaction_id
                    .insert(transaction_id, out_trade_no.to_owned());
                Ok(paid)
            }
        }
    }

    /// The payment fails (a decline): PAYERROR, which WeChat does not notify.
    pub(crate) fn decline(&mut self, out_trade_no: &str, now: i64) -> Result<Order, PayRefused> {
        self.settle(out_trade_no, now);
        let order = self
            .orders
            .get_mut(out_trade_no)
            .ok_or(PayRefused::NotFound)?;
        match order.state {
            TradeState::Success | TradeState::Refund => Err(PayRefused::Paid),
            TradeState::Closed => Err(PayRefused::Closed),
            TradeState::NotPay | TradeState::UserPaying | TradeState::PayError => {
                order.state = TradeState::PayError;
                Ok(order.clone())
            }
        }
    }

    /// The phone scanned and stops at the confirmation: USERPAYING (only
    /// under the `pay_after_close` fault; the caller checks it).
    pub(crate) fn hold(&mut self, out_trade_no: &str, now: i64) -> Result<Order, PayRefused> {
        self.settle(out_trade_no, now);
        let order = self
            .orders
            .get_mut(out_trade_no)
            .ok_or(PayRefused::NotFound)?;
        match order.state {
            TradeState::Success | TradeState::Refund => Err(PayRefused::Paid),
            TradeState::Closed => Err(PayRefused::Closed),
            _ => {
                order.state = TradeState::UserPaying;
                Ok(order.clone())
            }
        }
    }

    /// The merchant closes the order; closing a closed order is fine.
    pub(crate) fn close(&mut self, out_trade_no: &str, now: i64) -> Result<(), CloseRefused> {
        self.settle(out_trade_no, now);
        let order = self
            .orders
            .get_mut(out_trade_no)
            .ok_or(CloseRefused::NotFound)?;
        match order.state {
            TradeState::Success | TradeState::Refund => Err(CloseRefused::Paid),
            state => {
                // A repeated close keeps a payment the shopper was confirming.
                order.held |= state == TradeState::UserPaying;
                order.state = TradeState::Closed;
                Ok(())
            }
        }
    }

    /// Past `time_expire`, an open order is closed.
    fn settle(&mut self, out_trade_no: &str, now: i64) {
        if let Some(order) = self.orders.get_mut(out_trade_no) {
            if order.state.open() && now >= order.expires_at {
                order.state = TradeState::Closed;
            }
        }
    }

    fn fresh_code_url(&self) -> String {
        loop {
            let code_url = format!("weixin://wxpay/bizpayurl?pr={}", crypto::nonce(9));
            if !self.by_code_url.contains_key(&code_url) {
                return code_url;
            }
        }
    }

    fn fresh_prepay_id(&self, now: i64) -> String {
        loop {
            let prepay_id = format!("wx{}{}", cst_digits(now), crypto::hex(20));
            if !self.by_prepay_id.contains_key(&prepay_id) {
                return prepay_id;
            }
        }
    }

    fn fresh_transaction_id(&self, now: i64) -> String {
        let date = cst_digits(now);
        loop {
            let id = format!(
                "42000{}{}{}",
                crypto::digits(5),
                date.get(..8).unwrap_or("19700101"),
                crypto::digits(10)
            );
            if !self.by_transaction_id.contains_key(&id) {
                return id;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000;

    fn params(no: &str) -> OrderParams {
        OrderParams {
            trade_type: TradeType::Native,
            appid: "wx8888888888888888".into(),
            mchid: "1900000001".into(),
            description: "demo".into(),
            out_trade_no: no.into(),
            time_expire: Some(NOW + 900),
            notify_url: "https://merchant.example/notify".into(),
            attach: None,
            total: 12800,
            currency: "CNY".into(),
            openid: None,
        }
    }

    #[test]
    fn a_repeated_create_answers_the_same_order() {
        let mut orders = Orders::default();
        let first = orders
            .create(params("order_1"), NOW)
            .unwrap()
            .code_url
            .clone();
        let again = orders
            .create(params("order_1"), NOW + 5)
            .unwrap()
            .code_url
            .clone();
        assert_eq!(first, again);
        let mut other = params("order_1");
        other.total = 1;
        assert_eq!(
            orders.create(other, NOW).err(),
            Some(CreateRefused::Conflict)
        );
    }

    #[test]
    fn paid_orders_are_final() {
        let mut orders = Orders::default();
        orders.create(params("order_1"), NOW).unwrap();
        let paid = orders.pay("order_1", "openid", NOW + 1).unwrap();
        assert_eq!(paid.state, TradeState::Success);
        assert!(paid
            .transaction_id
            .as_ref()
            .is_some_and(|id| id.len() == 28));
        assert_eq!(
            orders.pay("order_1", "openid", NOW + 2).err(),
            Some(PayRefused::Paid)
        );
        assert_eq!(orders.close("order_1", NOW + 2), Err(CloseRefused::Paid));
        assert_eq!(
            orders.create(params("order_1"), NOW).err(),
            Some(CreateRefused::Paid)
        );
    }

    #[test]
    fn a_decline_can_be_followed_by_a_payment() {
        let mut orders = Orders::default();
        orders.create(params("order_1"), NOW).unwrap();
        assert_eq!(
            orders.decline("order_1", NOW).unwrap().state,
            TradeState::PayError
        );
        assert_eq!(
            orders.pay("order_1", "o", NOW).unwrap().state,
            TradeState::Success
        );
    }

    #[test]
    fn closed_and_expired_orders_cannot_be_paid() {
        let mut orders = Orders::default();
        orders.create(params("order_1"), NOW).unwrap();
        orders.close("order_1", NOW).unwrap();
        assert_eq!(
            orders.pay("order_1", "o", NOW).err(),
            Some(PayRefused::Closed)
        );
        assert_eq!(
            orders.create(params("order_1"), NOW).err(),
            Some(CreateRefused::Closed)
        );

        orders.create(params("order_2"), NOW).unwrap();
        assert_eq!(
            orders.get("order_2", NOW + 899).unwrap().state,
            TradeState::NotPay
        );
        assert_eq!(
            orders.get("order_2", NOW + 900).unwrap().state,
            TradeState::Closed
        );
        assert_eq!(
            orders.pay("order_2", "o", NOW + 900).err(),
            Some(PayRefused::Closed)
        );
    }

    #[test]
    fn h5_tickets_belong_to_their_prepay_id() {
        let mut orders = Orders::default();
        let mut h5 = params("order_1");
        h5.trade_type = TradeType::H5;
        orders.create(h5, NOW).unwrap();
        let (prepay_id, package) = orders.issue_h5_ticket("order_1", NOW).unwrap();
        let (_, other_package) = orders.issue_h5_ticket("order_1", NOW).unwrap();
        assert_ne!(package, other_package);
        assert!(orders.h5_ticket(&prepay_id, &package).is_some());
        assert!(orders.h5_ticket("wx0", &package).is_none());
        assert_eq!(orders.by_prepay_id(&prepay_id).as_deref(), Some("order_1"));
    }
}
