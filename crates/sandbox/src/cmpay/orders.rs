//! The orders the emulated platform holds: made by a pay request, opened
//! by cashier sessions, decided once (paid or declined) before they
//! expire, then refunded in parts. Pure: times come in as Unix seconds.
//!
//! Documented: an order is payable for `period` × `periodUnit` (00 minute,
//! 01 hour, 02 day, 03 month); after that the platform says RPM99981
//! 订单已过期. `requestId` must not repeat (RPM22208).
//!
//! Assumed: the time counts from the order's first request (not from
//! `orderDate`, which is only a date), a month is 30 days; the same
//! `orderId` sent again while unpaid and unexpired is the same order (its
//! first request's terms kept) under a fresh session, every earlier session
//! staying valid, and with another amount it is refused (RPM22208); a
//! decided order is never opened again (RPM22208); a pay request's
//! `requestId` is not checked for repeats; a refund's `requestId`
//! sent again for the same order and amount gives the first answer again
//! and refunds nothing more, with anything else it is refused (RPM22208).

use std::collections::HashMap;

use super::wire::{Refusal, EXPIRED, NOT_FOUND, REFUND_TOO_LARGE, STATE};

/// Which request made the order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PayType {
    /// `DirectPayConfirm`: a desktop browser.
    Desktop,
    /// `WAPDirectPayConfirm`: a phone.
    Wap,
}

/// What the pay request asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct OrderParams {
    pub pay_type: PayType,
    pub order_id: String,
    /// Fen.
    pub amount: i64,
    pub bank_abbr: String,
    pub order_date: String,
    pub callback_url: String,
    pub notify_url: String,
    pub merchant_abbr: String,
    pub product_name: String,
    pub reserved1: String,
    pub reserved2: String,
    /// How long the order stays payable, in seconds.
    pub lifetime: i64,
}

/// How the shopper decided an order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Decision {
    pub paid: bool,
    /// 18 digits.
    pub pay_no: String,
    pub at: i64,
}

/// A refund, as answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Refund {
    pub request_id: String,
    pub order_id: String,
    /// The refund's serial (`payNo` of its answer).
    pub serial: String,
    /// Fen.
    pub amount: i64,
    pub succeeded: bool,
    pub at: i64,
}

/// One order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Order {
    pub params: OrderParams,
    pub created_at: i64,
    pub decision: Option<Decision>,
    pub refunds: Vec<Refund>,
}

/// How an order stands, as a query reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    /// Made, not decided, still payable.
    WaitPay,
    /// Paid.
    Success,
    /// Declined, or expired undecided.
    Failed,
}

impl Order {
    pub(crate) fn expires_at(&self) -> i64 {
        self.created_at.saturating_add(self.params.lifetime)
    }

    pub(crate) fn status(&self, now: i64) -> Status {
        match &self.decision {
            Some(decision) if decision.paid => Status::Success,
            Some(_) => Status::Failed,
            None if now >= self.expires_at() => Status::Failed,
            None => Status::WaitPay,
        }
    }

    /// Fen still refundable.
    pub(crate) fn refundable(&self) -> i64 {
        let refunded: i64 = self
            .refunds
            .iter()
            .filter(|refund| refund.succeeded)
            .map(|refund| refund.amount)
            .sum();
        match &self.decision {
            Some(decision) if decision.paid => self.params.amount - refunded,
            _ => 0,
        }
    }
}

/// Why the cashier cannot take a decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Undecidable {
    /// No such session.
    Unknown,
    /// The order's time is up.
    Expired,
    /// Decided already: the order as it was decided.
    Decided(Box<Order>),
}

/// Every order, and the sessions and refund requests that point at them.
#[derive(Debug, Default)]
pub(crate) struct Orders {
    orders: HashMap<String, Order>,
    sessions: HashMap<String, String>,
    refunds: HashMap<String, Refund>,
}

impl Orders {
    /// A pay request for `params`: the order (new or the same one again)
    /// under the new `session`.
    pub(crate) fn open(
        &mut self,
        params: OrderParams,
        session: String,
        now: i64,
    ) -> Result<Order, Refusal> {
        let order_id = params.order_id.clone();
        if let Some(order) = self.orders.get(&order_id) {
            if order.decision.is_some() {
                return Err(Refusal::new(
                    STATE,
                    "this orderId was paid or declined already",
                ));
            }
            if now >= order.expires_at() {
                return Err(Refusal::new(EXPIRED, "this orderId has expired"));
            }
            if order.params.amount != params.amount {
                return Err(Refusal::new(
                    STATE,
                    "this orderId was made with another amount",
                ));
            }
        } else {
            self.orders.insert(
                order_id.clone(),
                Order {
                    params,
                    created_at: now,
                    decision: None,
                    refunds: Vec::new(),
                },
            );
        }
        self.sessions.insert(session, order_id.clone());
        Ok(self.orders.get(&order_id).cloned().ok_or(NOT_FOUND)?)
    }

    pub(crate) fn get(&self, order_id: &str) -> Option<&Order> {
        self.orders.get(order_id)
    }

    /// The order a cashier session is for.
    pub(crate) fn by_session(&self, session: &str) -> Option<&Order> {
        self.orders.get(self.sessions.get(session)?)
    }

    /// The shopper pays (or declines) on the cashier.
    pub(crate) fn decide(
        &mut self,
        session: &str,
        paid: bool,
        pay_no: String,
        now: i64,
    ) -> Result<Order, Undecidable> {
        let order = self
            .sessions
            .get(session)
            .and_then(|order_id| self.orders.get_mut(order_id))
            .ok_or(Undecidable::Unknown)?;
        if order.decision.is_some() {
            return Err(Undecidable::Decided(Box::new(order.clone())));
        }
        if now >= order.expires_at() {
            return Err(Undecidable::Expired);
        }
        order.decision = Some(Decision {
            paid,
            pay_no,
            at: now,
        });
        Ok(order.clone())
    }

    /// A refund of `amount` fen; `fails` makes it end FAILED; `strict`
    /// refuses a `requestId` seen before (RPM22208), as the documents say,
    /// rather than answering that refund again.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn refund(
        &mut self,
        request_id: &str,
        order_id: &str,
        amount: i64,
        fails: bool,
        strict: bool,
        serial: String,
        now: i64,
    ) -> Result<Refund, Refusal> {
        if let Some(earlier) = self.refunds.get(request_id) {
            return if earlier.order_id == order_id && earlier.amount == amount && !strict {
                Ok(earlier.clone())
            } else {
                Err(Refusal::new(
                    STATE,
                    "this requestId was used for another refund",
                ))
            };
        }
        let order = self.orders.get_mut(order_id).ok_or(NOT_FOUND)?;
        if !order
            .decision
            .as_ref()
            .is_some_and(|decision| decision.paid)
        {
            return Err(Refusal::new(STATE, "the order is not paid"));
        }
        if amount > order.refundable() {
            return Err(Refusal::new(
                REFUND_TOO_LARGE,
                format!("{} fen left to refund", order.refundable()),
            ));
        }
        let refund = Refund {
            request_id: request_id.to_owned(),
            order_id: order_id.to_owned(),
            serial,
            amount,
            succeeded: !fails,
            at: now,
        };
        order.refunds.push(refund.clone());
        self.refunds.insert(request_id.to_owned(), refund.clone());
        Ok(refund)
    }

    /// Every order, newest first.
    pub(crate) fn statement(&self) -> Vec<Order> {
        let mut orders: Vec<Order> = self.orders.values().cloned().collect();
        orders.sort_by(|a, b| {
            b.created_at
                .cmp(&a.created_at)
                .then_with(|| a.params.order_id.cmp(&b.params.order_id))
        });
        orders
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(order_id: &str, amount: i64) -> OrderParams {
        OrderParams {
            pay_type: PayType::Wap,
            order_id: order_id.into(),
            amount,
            bank_abbr: String::new(),
            order_date: "20260101".into(),
            callback_url: "https://shop.example/back".into(),
            notify_url: "https://shop.example/notify".into(),
            merchant_abbr: String::new(),
            product_name: "tea".into(),
            reserved1: String::new(),
            reserved2: String::new(),
            lifetime: 60,
        }
    }

    #[test]
    fn an_order_is_decided_once_before_it_expires() {
        let mut orders = Orders::default();
        orders.open(params("o1", 100), "s1".into(), 0).unwrap();
        orders.open(params("o1", 100), "s2".into(), 10).unwrap();
        assert_eq!(
            orders
                .open(params("o1", 200), "s3".into(), 10)
                .unwrap_err()
                .code,
            STATE
        );
        assert_eq!(orders.get("o1").unwrap().status(59), Status::WaitPay);
        assert_eq!(orders.get("o1").unwrap().status(60), Status::Failed);
        let paid = orders.decide("s1", true, "p".into(), 30).unwrap();
        assert_eq!(paid.status(100), Status::Success);
        assert!(matches!(
            orders.decide("s2", false, "q".into(), 31),
            Err(Undecidable::Decided(_))
        ));
        assert_eq!(
            orders
                .open(params("o1", 100), "s4".into(), 40)
                .unwrap_err()
                .code,
            STATE
        );

        orders.open(params("o2", 100), "t1".into(), 0).unwrap();
        assert!(matches!(
            orders.decide("t1", true, "p".into(), 60),
            Err(Undecidable::Expired)
        ));
        assert_eq!(
            orders
                .open(params("o2", 100), "t2".into(), 61)
                .unwrap_err()
                .code,
            EXPIRED
        );
        assert_eq!(
            orders.decide("nope", true, "p".into(), 0),
            Err(Undecidable::Unknown)
        );
    }

    #[test]
    fn refunds_are_bounded_and_idempotent_by_request() {
        let mut orders = Orders::default();
        orders.open(params("o1", 100), "s1".into(), 0).unwrap();
        assert_eq!(
            orders
                .refund("r0", "o1", 10, false, false, "x".into(), 1)
                .unwrap_err()
                .code,
            STATE
        );
        assert_eq!(
            orders
                .refund("r0", "o9", 10, false, false, "x".into(), 1)
                .unwrap_err()
                .code,
            NOT_FOUND
        );
        orders.decide("s1", true, "p".into(), 1).unwrap();
        let first = orders
            .refund("r1", "o1", 60, false, false, "a".into(), 2)
            .unwrap();
        let again = orders
            .refund("r1", "o1", 60, false, false, "b".into(), 3)
            .unwrap();
        assert_eq!(first, again);
        assert_eq!(orders.get("o1").unwrap().refundable(), 40);
        assert_eq!(
            orders
                .refund("r1", "o1", 10, false, false, "c".into(), 3)
                .unwrap_err()
                .code,
            STATE
        );
        assert_eq!(
            orders
                .refund("r2", "o1", 41, false, false, "c".into(), 3)
                .unwrap_err()
                .code,
            REFUND_TOO_LARGE
        );
        let failed = orders
            .refund("r3", "o1", 40, true, false, "d".into(), 4)
            .unwrap();
        assert!(!failed.succeeded);
        assert_eq!(orders.get("o1").unwrap().refundable(), 40);
    }
}
