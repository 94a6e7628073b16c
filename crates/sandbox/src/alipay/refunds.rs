//! Refunds, kept with the trades they give back. No I/O here.
//!
//! Documented (opendocs open/02ekfs, 02ekft; the English `alipay.trade.refund`
//! page): a paid trade may be refunded several times, each refund named by
//! its `out_request_no` (required for a partial refund; without one the
//! refund is the whole amount and is named by the `out_trade_no`); the same
//! `out_request_no` again is the same refund, and with another amount it is
//! ACQ.DISCORDANT_REPEAT_REQUEST; the refunds never exceed the amount paid
//! (ACQ.REFUND_AMT_NOT_EQUAL_TOTAL); an unpaid trade is
//! ACQ.TRADE_STATUS_ERROR and a closed one ACQ.TRADE_HAS_CLOSE. `fund_change`
//! says whether this call moved money, and `refund_fee` is the total
//! refunded so far. Refunding everything closes the trade.
//!
//! Assumed: a repeated refund answers `fund_change` "N" (no money moved this
//! time); a refund whose money moves later (the `refund_fund_change_later`
//! control) counts against the amount at once but in `refund_fee` only once
//! it has succeeded.

use super::trades::{CloseReason, Trade, TradeStatus, Trades};

/// A refund's state: `refund_status` is REFUND_SUCCESS once it succeeded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RefundStatus {
    /// Accepted, the money not yet moved (`fund_change` "N").
    Processing,
    Success,
}

/// One refund.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Refund {
    pub out_request_no: String,
    /// Fen.
    pub amount: i64,
    pub reason: Option<String>,
    pub status: RefundStatus,
    pub asked_at: i64,
    pub succeeded_at: Option<i64>,
}

/// What the merchant asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RefundRequest {
    pub out_request_no: Option<String>,
    /// Fen.
    pub amount: i64,
    pub reason: Option<String>,
}

/// Why a refund is refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum RefundRefused {
    /// ACQ.TRADE_NOT_EXIST.
    NotFound,
    /// ACQ.TRADE_STATUS_ERROR: not paid.
    NotPaid,
    /// ACQ.TRADE_HAS_CLOSE: closed unpaid, or refunded in full.
    Closed,
    /// ACQ.REFUND_AMT_NOT_EQUAL_TOTAL: more than is left.
    Exceeds,
    /// ACQ.REFUND_AMT_NOT_EQUAL_TOTAL: a partial refund needs an `out_request_no`.
    PartialWithoutRequestNo,
    /// ACQ.DISCORDANT_REPEAT_REQUEST: the same `out_request_no`, another amount.
    Discordant,
    /// ACQ.SELLER_BALANCE_NOT_ENOUGH.
    BalanceShort,
}

/// An accepted refund (or the repeat of one).
#[derive(Clone, Debug)]
pub(crate) struct Refunded {
    pub trade: Trade,
    pub refund: Refund,
    /// Whether this call moved money.
    pub fund_change: bool,
    /// Whether this call made the refund (not a repeat).
    pub new: bool,
}

impl Trade {
    /// Fen refunded so far (refunds that succeeded).
    pub(crate) fn refunded(&self) -> i64 {
        self.refunds
            .iter()
            .filter(|refund| refund.status == RefundStatus::Success)
            .map(|refund| refund.amount)
            .sum()
    }

    /// Fen promised back: every refund accepted, succeeded or not.
    fn committed(&self) -> i64 {
        self.refunds.iter().map(|refund| refund.amount).sum()
    }

    /// The refund an `out_request_no` names.
    pub(crate) fn refund_by(&self, out_request_no: &str) -> Option<&Refund> {
        self.refunds
            .iter()
            .find(|refund| refund.out_request_no == out_request_no)
    }

    fn close_if_refunded(&mut self, now: i64) {
        if self.refunded() == self.params.total {
            self.close(CloseReason::Refunded, now);
        }
    }
}

impl Trades {
    /// Refunds (part of) a paid trade, or answers the refund its
    /// `out_request_no` made. With `later`, the money moves only when
    /// [`Trades::finish_refund`] is called.
    pub(crate) fn refund(
        &mut self,
        out_trade_no: &str,
        request: RefundRequest,
        later: bool,
        balance_short: bool,
        now: i64,
    ) -> Result<Refunded, RefundRefused> {
        self.settle(out_trade_no, now);
        let trade = self
            .trades
            .get_mut(out_trade_no)
            .ok_or(RefundRefused::NotFound)?;
        let out_request_no = request
            .out_request_no
            .clone()
            .unwrap_or_else(|| trade.params.out_trade_no.clone());
        if let Some(existing) = trade.refund_by(&out_request_no) {
            return if existing.amount == request.amount {
                Ok(Refunded {
                    refund: existing.clone(),
                    trade: trade.clone(),
                    fund_change: false,
                    new: false,
                })
            } else {
                Err(RefundRefused::Discordant)
            };
        }
        match trade.status {
            TradeStatus::WaitBuyerPay => return Err(RefundRefused::NotPaid),
            TradeStatus::Closed => return Err(RefundRefused::Closed),
            TradeStatus::Success => {}
        }
        if request.out_request_no.is_none() && request.amount != trade.params.total {
            return Err(RefundRefused::PartialWithoutRequestNo);
        }
        if request.amount > trade.params.total - trade.committed() {
            return Err(RefundRefused::Exceeds);
        }
        if balance_short {
            return Err(RefundRefused::BalanceShort);
        }
        let refund = Refund {
            out_request_no,
            amount: request.amount,
            reason: request.reason,
            status: if later {
                RefundStatus::Processing
            } else {
                RefundStatus::Success
            },
            asked_at: now,
            succeeded_at: (!later).then_some(now),
        };
        trade.refunds.push(refund.clone());
        trade.close_if_refunded(now);
        Ok(Refunded {
            trade: trade.clone(),
            refund,
            fund_change: !later,
            new: true,
        })
    }

    /// The money of a processing refund moves: REFUND_SUCCESS. `None` when
    /// there is no such refund or it had succeeded already.
    pub(crate) fn finish_refund(
        &mut self,
        out_trade_no: &str,
        out_request_no: &str,
        now: i64,
    ) -> Option<(Trade, Refund)> {
        let trade = self.trades.get_mut(out_trade_no)?;
        let refund = trade
            .refunds
            .iter_mut()
            .find(|refund| refund.out_request_no == out_request_no)?;
        if refund.status != RefundStatus::Processing {
            return None;
        }
        refund.status = RefundStatus::Success;
        refund.succeeded_at = Some(now);
        let refund = refund.clone();
        trade.close_if_refunded(now);
        Some((trade.clone(), refund))
    }
}

#[cfg(test)]
mod tests {
    use super::super::trades::tests::{params, shopper, NOW};
    use super::super::trades::Product;
    use super::*;

    fn paid(trades: &mut Trades, no: &str) {
        trades
            .create(params(Product::Create, no), &shopper(), NOW)
            .unwrap();
        trades.pay(no, &shopper(), NOW + 1).unwrap();
    }

    fn asked(no: Option<&str>, amount: i64) -> RefundRequest {
        RefundRequest {
            out_request_no: no.map(str::to_owned),
            amount,
            reason: None,
        }
    }

    #[test]
    fn partial_refunds_add_up_and_the_last_closes_the_trade() {
        let mut trades = Trades::default();
        paid(&mut trades, "o_1");
        let first = trades
            .refund("o_1", asked(Some("r1"), 2800), false, false, NOW)
            .unwrap();
        assert!(first.fund_change);
        assert_eq!(first.trade.refunded(), 2800);
        assert_eq!(first.trade.status, TradeStatus::Success);
        assert_eq!(
            trades
                .refund("o_1", asked(Some("r2"), 10001), false, false, NOW)
                .err(),
            Some(RefundRefused::Exceeds)
        );
        let last = trades
            .refund("o_1", asked(Some("r2"), 10000), false, false, NOW)
            .unwrap();
        assert_eq!(last.trade.status, TradeStatus::Closed);
        assert_eq!(last.trade.close_reason, Some(CloseReason::Refunded));
        assert_eq!(
            trades
                .refund("o_1", asked(Some("r3"), 1), false, false, NOW)
                .err(),
            Some(RefundRefused::Closed)
        );
        let again = trades
            .refund("o_1", asked(Some("r1"), 2800), false, false, NOW + 9)
            .unwrap();
        assert!(!again.fund_change, "a repeat moves no money");
        assert_eq!(again.refund.asked_at, NOW);
        assert_eq!(
            trades
                .refund("o_1", asked(Some("r1"), 2700), false, false, NOW)
                .err(),
            Some(RefundRefused::Discordant)
        );
    }

    #[test]
    fn without_out_request_no_only_the_whole_amount() {
        let mut trades = Trades::default();
        paid(&mut trades, "o_1");
        assert_eq!(
            trades
                .refund("o_1", asked(None, 100), false, false, NOW)
                .err(),
            Some(RefundRefused::PartialWithoutRequestNo)
        );
        let whole = trades
            .refund("o_1", asked(None, 12800), false, false, NOW)
            .unwrap();
        assert_eq!(whole.refund.out_request_no, "o_1");
    }

    #[test]
    fn only_paid_trades_with_balance_are_refunded() {
        let mut trades = Trades::default();
        assert_eq!(
            trades
                .refund("nowhere", asked(Some("r"), 1), false, false, NOW)
                .err(),
            Some(RefundRefused::NotFound)
        );
        trades
            .create(params(Product::Create, "o_1"), &shopper(), NOW)
            .unwrap();
        assert_eq!(
            trades
                .refund("o_1", asked(Some("r"), 1), false, false, NOW)
                .err(),
            Some(RefundRefused::NotPaid)
        );
        trades.pay("o_1", &shopper(), NOW).unwrap();
        assert_eq!(
            trades
                .refund("o_1", asked(Some("r"), 1), false, true, NOW)
                .err(),
            Some(RefundRefused::BalanceShort)
        );
    }

    #[test]
    fn a_refund_that_moves_money_later() {
        let mut trades = Trades::default();
        paid(&mut trades, "o_1");
        let asked_now = trades
            .refund("o_1", asked(Some("r1"), 12800), true, false, NOW)
            .unwrap();
        assert!(!asked_now.fund_change);
        assert_eq!(asked_now.refund.status, RefundStatus::Processing);
        assert_eq!(asked_now.trade.refunded(), 0);
        assert_eq!(asked_now.trade.status, TradeStatus::Success);
        assert_eq!(
            trades
                .refund("o_1", asked(Some("r2"), 1), true, false, NOW)
                .err(),
            Some(RefundRefused::Exceeds),
            "a processing refund counts against the amount"
        );
        let (trade, refund) = trades.finish_refund("o_1", "r1", NOW + 1).unwrap();
        assert_eq!(refund.status, RefundStatus::Success);
        assert_eq!(trade.status, TradeStatus::Closed);
        assert!(trades.finish_refund("o_1", "r1", NOW + 2).is_none());
    }
}
