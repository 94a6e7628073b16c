//! The emulator's refunds, kept with the orders they give back: asked for
//! PROCESSING, later SUCCESS (or ABNORMAL, or CLOSED, as `/control` says);
//! the same `out_refund_no` is the same refund; the refunds of an order
//! never give back more than it took. No I/O here.

use super::crypto;
use super::orders::{Orders, TradeState};
use super::protocol::{RefundAmountAnswer, RefundAnswer};
use crate::clock::{cst_digits, rfc3339_cst};

/// A refund's `status` (a notification's `refund_status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RefundStatus {
    Processing,
    Success,
    /// The money could not go back where it came from.
    Abnormal,
    Closed,
}

impl RefundStatus {
    pub(crate) fn wire(self) -> &'static str {
        match self {
            RefundStatus::Processing => "PROCESSING",
            RefundStatus::Success => "SUCCESS",
            RefundStatus::Abnormal => "ABNORMAL",
            RefundStatus::Closed => "CLOSED",
        }
    }

    /// The phone's words for it.
    pub(crate) fn desc(self) -> &'static str {
        match self {
            RefundStatus::Processing => "退款处理中",
            RefundStatus::Success => "退款成功",
            RefundStatus::Abnormal => "退款异常",
            RefundStatus::Closed => "退款关闭",
        }
    }
}

/// What the merchant asked for; a repeat must ask the same.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RefundParams {
    pub out_trade_no: String,
    pub out_refund_no: String,
    pub reason: Option<String>,
    pub notify_url: Option<String>,
    pub refund: i64,
    pub total: i64,
    pub currency: String,
}

/// One refund.
#[derive(Clone, Debug)]
pub(crate) struct RefundRecord {
    pub params: RefundParams,
    pub refund_id: String,
    pub transaction_id: String,
    pub status: RefundStatus,
    pub created_at: i64,
    pub success_time: Option<i64>,
    /// The order's description, for the phone's statement.
    pub description: String,
}

impl RefundRecord {
    /// The refund as the create and query calls answer it.
    pub(crate) fn answer(&self) -> RefundAnswer {
        RefundAnswer {
            refund_id: self.refund_id.clone(),
            out_refund_no: self.params.out_refund_no.clone(),
            transaction_id: self.transaction_id.clone(),
            out_trade_no: self.params.out_trade_no.clone(),
            channel: "ORIGINAL",
            user_received_account: "支付用户零钱",
            success_time: self.success_time.map(rfc3339_cst),
            create_time: rfc3339_cst(self.created_at),
            status: self.status.wire(),
            funds_account: "AVAILABLE",
            amount: RefundAmountAnswer {
                total: self.params.total,
                refund: self.params.refund,
                payer_total: self.params.total,
                payer_refund: self.params.refund,
                settlement_refund: self.params.refund,
                settlement_total: self.params.total,
                discount_refund: 0,
                currency: self.params.currency.clone(),
            },
        }
    }
}

/// Why a refund is refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum RefundRefused {
    /// No such order.
    NotFound,
    /// The order holds no payment.
    NotPaid,
    /// `amount.total` is not what the order took.
    TotalMismatch,
    /// More than is left of the payment.
    Exceeds,
    /// The same `out_refund_no` with other parameters.
    Conflict,
}

/// A line of the shopper's statement: a payment or a refund.
#[derive(Clone, Debug)]
pub(crate) struct StatementLine {
    pub at: i64,
    pub what: String,
    /// Fen: negative for a payment, positive for money back.
    pub amount: i64,
    pub state: &'static str,
}

impl Orders {
    /// Asks for a refund of a paid order, or answers the one its
    /// `out_refund_no` made.
    pub(crate) fn refund(
        &mut self,
        params: RefundParams,
        now: i64,
    ) -> Result<RefundRecord, RefundRefused> {
        if let Some(existing) = self.refunds.get(&params.out_refund_no) {
            return if existing.params == params {
                Ok(existing.clone())
            } else {
                Err(RefundRefused::Conflict)
            };
        }
        let order = self
            .orders
            .get(&params.out_trade_no)
            .ok_or(RefundRefused::NotFound)?;
        if !order.state.paid() {
            return Err(RefundRefused::NotPaid);
        }
        if params.total != order.params.total {
            return Err(RefundRefused::TotalMismatch);
        }
        let held: i64 = self
            .refunds
            .values()
            .filter(|refund| refund.params.out_trade_no == params.out_trade_no)
            .filter(|refund| refund.status != RefundStatus::Closed)
            .map(|refund| refund.params.refund)
            .sum();
        if params.refund < 1 || params.refund > order.params.total - held {
            return Err(RefundRefused::Exceeds);
        }
        let record = RefundRecord {
            refund_id: self.fresh_refund_id(now),
            transaction_id: order.transaction_id.clone().unwrap_or_default(),
            status: RefundStatus::Processing,
            created_at: now,
            success_time: None,
            description: order.params.description.clone(),
            params,
        };
        if let Some(order) = self.orders.get_mut(&record.params.out_trade_no) {
            order.state = TradeState::Refund;
        }
        self.refunds
            .insert(record.params.out_refund_no.clone(), record.clone());
        Ok(record)
    }

    /// A refund by its `out_refund_no`.
    pub(crate) fn refund_record(&self, out_refund_no: &str) -> Option<&RefundRecord> {
        self.refunds.get(out_refund_no)
    }

    /// Ends a processing refund as `status`; the refund as it ended, or
    /// `None` if it had ended already.
    pub(crate) fn end_refund(
        &mut self,
        out_refund_no: &str,
        status: RefundStatus,
        now: i64,
    ) -> Option<RefundRecord> {
        let refund = self.refunds.get_mut(out_refund_no)?;
        if refund.status != RefundStatus::Processing {
            return None;
        }
        refund.status = status;
        if status == RefundStatus::Success {
            refund.success_time = Some(now);
        }
        Some(refund.clone())
    }

    /// The shopper's payments and refunds, newest first.
    pub(crate) fn statement(&self) -> Vec<StatementLine> {
        let payments = self.orders.values().filter_map(|order| {
            let at = order.success_time?;
            Some(StatementLine {
                at,
                what: format!(
                    "{} · {}",
                    order.params.description, order.params.out_trade_no
                ),
                amount: -order.params.total,
                state: "支付成功",
            })
        });
        let refunds = self.refunds.values().map(|refund| StatementLine {
            at: refund.success_time.unwrap_or(refund.created_at),
            what: format!(
                "退款 · {} · {}",
                refund.description, refund.params.out_trade_no
            ),
            amount: refund.params.refund,
            state: refund.status.desc(),
        });
        let mut lines: Vec<StatementLine> = payments.chain(refunds).collect();
        lines.sort_by(|a, b| b.at.cmp(&a.at).then_with(|| a.what.cmp(&b.what)));
        lines
    }

    fn fresh_refund_id(&self, now: i64) -> String {
        let date = cst_digits(now);
        loop {
            let id = format!(
                "50000{}{}{}",
                crypto::digits(6),
                date.get(..8).unwrap_or("19700101"),
                crypto::digits(10)
            );
            if !self.refunds.values().any(|refund| refund.refund_id == id) {
                return id;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::orders::{OrderParams, TradeType};
    use super::*;

    const NOW: i64 = 1_700_000_000;

    fn paid_order(orders: &mut Orders, no: &str) {
        orders
            .create(
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
                },
                NOW,
            )
            .unwrap();
        orders.pay(no, "o", NOW + 1).unwrap();
    }

    fn asked(no: &str, refund_no: &str, refund: i64) -> RefundParams {
        RefundParams {
            out_trade_no: no.into(),
            out_refund_no: refund_no.into(),
            reason: None,
            notify_url: None,
            refund,
            total: 12800,
            currency: "CNY".into(),
        }
    }

    #[test]
    fn refunds_never_give_back_more_than_the_order_took() {
        let mut orders = Orders::default();
        paid_order(&mut orders, "order_1");
        let first = orders.refund(asked("order_1", "r1", 2800), NOW).unwrap();
        assert_eq!(first.status, RefundStatus::Processing);
        assert!(first.refund_id.starts_with("50000") && first.refund_id.len() == 29);
        assert_eq!(
            orders.get("order_1", NOW).unwrap().state,
            TradeState::Refund
        );
        orders.refund(asked("order_1", "r2", 10000), NOW).unwrap();
        assert_eq!(
            orders.refund(asked("order_1", "r3", 1), NOW).err(),
            Some(RefundRefused::Exceeds)
        );
        // A closed refund gives its amount back to refund.
        orders.end_refund("r2", RefundStatus::Closed, NOW).unwrap();
        orders.refund(asked("order_1", "r3", 10000), NOW).unwrap();
    }

    #[test]
    fn the_same_refund_number_is_the_same_refund() {
        let mut orders = Orders::default();
        paid_order(&mut orders, "order_1");
        let first = orders.refund(asked("order_1", "r1", 100), NOW).unwrap();
        let again = orders.refund(asked("order_1", "r1", 100), NOW + 5).unwrap();
        assert_eq!(first.refund_id, again.refund_id);
        assert_eq!(
            orders.refund(asked("order_1", "r1", 200), NOW).err(),
            Some(RefundRefused::Conflict)
        );
        assert!(orders
            .end_refund("r1", RefundStatus::Success, NOW)
            .is_some());
        assert!(
            orders.end_refund("r1", RefundStatus::Closed, NOW).is_none(),
            "an ended refund stays ended"
        );
    }

    #[test]
    fn only_a_paid_order_of_that_total_is_refunded() {
        let mut orders = Orders::default();
        assert_eq!(
            orders.refund(asked("nowhere", "r1", 100), NOW).err(),
            Some(RefundRefused::NotFound)
        );
        paid_order(&mut orders, "order_1");
        let mut wrong_total = asked("order_1", "r1", 100);
        wrong_total.total = 1;
        assert_eq!(
            orders.refund(wrong_total, NOW).err(),
            Some(RefundRefused::TotalMismatch)
        );
        orders
            .create(
                OrderParams {
                    trade_type: TradeType::Native,
                    appid: "wx8888888888888888".into(),
                    mchid: "1900000001".into(),
                    description: "demo".into(),
                    out_trade_no: "unpaid".into(),
                    time_expire: Some(NOW + 900),
                    notify_url: "https://merchant.example/notify".into(),
                    attach: None,
                    total: 12800,
                    currency: "CNY".into(),
                    openid: None,
                },
                NOW,
            )
            .unwrap();
        assert_eq!(
            orders.refund(asked("unpaid", "r2", 100), NOW).err(),
            Some(RefundRefused::NotPaid)
        );
    }
}
