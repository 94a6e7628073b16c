//! The emulator's trades and their state machine. No I/O here.
//!
//! Documented (opendocs open/05osv9, 02ekfq, 02o6e8; Alipay support's
//! "交易创建的时间" note): a trade is WAIT_BUYER_PAY, then TRADE_SUCCESS
//! when paid, or TRADE_CLOSED when closed unpaid (by the merchant, by its
//! timeout) or fully refunded. `alipay.trade.precreate` creates no trade:
//! its `qr_code` (valid two hours) becomes a trade when a phone scans it,
//! so until then a query or a close answers ACQ.TRADE_NOT_EXIST, and such a
//! close does not stop a later scan. `alipay.trade.create` creates the trade
//! at once; `alipay.trade.wap.pay` when the shopper's browser opens the
//! cashier. The same `out_trade_no` with the same basic information is the
//! same trade; with other information it is ACQ.CONTEXT_INCONSISTENT.
//! `timeout_express` is 1m to 15d (`m`, `h`, `d`, or `1c`: until midnight),
//! `time_expire` an instant; with both, `time_expire` counts.
//!
//! Assumed: the timeout of a precreated trade counts from the precreate
//! call (the code cannot start a trade after it), and without one it lasts
//! as long as the code; a WAP trade's from the cashier opening, 15 days
//! without one; an `alipay.trade.create` trade's from the call, 3 hours
//! without one (the default Alipay documents for 当面付). A payment refused
//! by risk control closes the trade. TRADE_FINISHED (past the refund
//! period, 12 months) is never reached. The "basic information" compared is
//! the product, the amount, the subject and the named buyer.

use std::collections::HashMap;

use super::refunds::Refund;
use super::Shopper;
use crate::clock::{cst_digits, next_cst_midnight};
use crate::crypto;

/// A `qr_code` is valid for two hours from the precreate answer.
pub(crate) const QR_CODE_SECONDS: i64 = 2 * 60 * 60;
/// A WAP trade without a timeout stays payable this long.
const WAP_DEFAULT_SECONDS: i64 = 15 * 24 * 60 * 60;
/// An `alipay.trade.create` trade without a timeout stays payable this long.
const CREATE_DEFAULT_SECONDS: i64 = 3 * 60 * 60;

/// The product (the method) a trade was made by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Product {
    /// `alipay.trade.precreate`: an order code the shopper scans.
    Precreate,
    /// `alipay.trade.wap.pay`: the mobile browser's cashier.
    Wap,
    /// `alipay.trade.create`: inside the Alipay app, paid with `tradePay`.
    Create,
}

/// `trade_status`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TradeStatus {
    WaitBuyerPay,
    Success,
    Closed,
}

impl TradeStatus {
    pub(crate) fn wire(self) -> &'static str {
        match self {
            TradeStatus::WaitBuyerPay => "WAIT_BUYER_PAY",
            TradeStatus::Success => "TRADE_SUCCESS",
            TradeStatus::Closed => "TRADE_CLOSED",
        }
    }
}

/// Why a trade is closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CloseReason {
    /// `alipay.trade.close`.
    Merchant,
    /// Past its timeout, unpaid.
    Expired,
    /// Risk control refused the payment.
    Declined,
    /// Paid, then refunded in full.
    Refunded,
}

/// How long a trade may wait for its payment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Timeout {
    /// `timeout_express` in minutes, hours or days: seconds after the start.
    After(i64),
    /// `timeout_express` `1c`: the next midnight in Beijing.
    EndOfDay,
    /// `time_expire`: Unix seconds.
    At(i64),
}

impl Timeout {
    /// The instant it ends, for a trade that starts at `start`.
    pub(crate) fn deadline(self, start: i64) -> i64 {
        match self {
            Timeout::After(seconds) => start + seconds,
            Timeout::EndOfDay => next_cst_midnight(start),
            Timeout::At(at) => at,
        }
    }
}

/// The buyer `alipay.trade.create` names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum BuyerRef {
    UserId(String),
    OpenId(String),
}

/// What the merchant asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TradeParams {
    pub product: Product,
    pub out_trade_no: String,
    /// Fen.
    pub total: i64,
    pub subject: String,
    pub body: Option<String>,
    pub timeout: Option<Timeout>,
    pub notify_url: Option<String>,
    /// WAP: where the browser goes after paying.
    pub return_url: Option<String>,
    /// WAP: where the browser goes when the shopper gives up.
    pub quit_url: Option<String>,
    pub passback_params: Option<String>,
    pub buyer: Option<BuyerRef>,
}

impl TradeParams {
    /// The same basic information: a repeat of the same trade.
    fn same_trade(&self, other: &TradeParams) -> bool {
        self.product == other.product
            && self.total == other.total
            && self.subject == other.subject
            && self.buyer == other.buyer
    }

    fn default_seconds(&self) -> i64 {
        match self.product {
            Product::Precreate => QR_CODE_SECONDS,
            Product::Wap => WAP_DEFAULT_SECONDS,
            Product::Create => CREATE_DEFAULT_SECONDS,
        }
    }

    /// When a trade that starts at `start` stops being payable.
    fn deadline(&self, start: i64) -> i64 {
        self.timeout
            .map_or(start + self.default_seconds(), |timeout| {
                timeout.deadline(start)
            })
    }
}

/// An order code that no phone has scanned yet (there is no trade).
#[derive(Clone, Debug)]
pub(crate) struct Precreated {
    pub params: TradeParams,
    pub qr_code: String,
    pub qr_expires_at: i64,
    /// When the trade it would start stops being payable.
    pub deadline: i64,
}

/// One trade.
#[derive(Clone, Debug)]
pub(crate) struct Trade {
    pub params: TradeParams,
    pub trade_no: String,
    pub status: TradeStatus,
    pub created_at: i64,
    pub expires_at: i64,
    pub paid_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub close_reason: Option<CloseReason>,
    /// Known once the shopper scanned, logged in to pay, or was named.
    pub buyer: Option<Shopper>,
    pub refunds: Vec<Refund>,
}

/// Why a trade cannot be made (or made again).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum CreateRefused {
    /// ACQ.TRADE_HAS_SUCCESS.
    Paid,
    /// ACQ.TRADE_HAS_CLOSE.
    Closed,
    /// ACQ.CONTEXT_INCONSISTENT: the same `out_trade_no`, other information.
    Inconsistent,
}

/// Why a scan leads nowhere.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ScanRefused {
    Unknown,
    Expired,
}

/// Why a payment (or a refusal by risk control) cannot happen.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum PayRefused {
    NotFound,
    Paid,
    Closed,
}

/// Why a close is refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum CloseRefused {
    /// ACQ.TRADE_NOT_EXIST (an unscanned order code included).
    NotFound,
    /// ACQ.TRADE_STATUS_ERROR: only WAIT_BUYER_PAY closes.
    NotWaiting,
}

/// Every trade of the emulated application, and the codes that lead to them.
#[derive(Debug, Default)]
pub(crate) struct Trades {
    /// Order codes by `out_trade_no`, scanned or not.
    precreated: HashMap<String, Precreated>,
    by_qr_code: HashMap<String, String>,
    /// Trades by `out_trade_no`.
    pub(super) trades: HashMap<String, Trade>,
    by_trade_no: HashMap<String, String>,
    /// Cashier pages by their token.
    cashier_tokens: HashMap<String, String>,
}

impl Trades {
    /// Issues an order code, or answers the one this `out_trade_no` has.
    pub(crate) fn precreate(
        &mut self,
        params: TradeParams,
        now: i64,
    ) -> Result<Precreated, CreateRefused> {
        let no = params.out_trade_no.clone();
        self.settle(&no, now);
        if let Some(trade) = self.trades.get(&no) {
            check_repeat(trade, &params)?;
        }
        if let Some(existing) = self.precreated.get(&no) {
            if !existing.params.same_trade(&params) {
                return Err(CreateRefused::Inconsistent);
            }
            if now < existing.qr_expires_at || self.trades.contains_key(&no) {
                return Ok(existing.clone());
            }
            // No trade ever started from the old code: a new one replaces it.
            let old = existing.qr_code.clone();
            self.by_qr_code.remove(&old);
        } else if self.trades.contains_key(&no) {
            return Err(CreateRefused::Inconsistent);
        }
        let qr_code = self.fresh_qr_code();
        let precreated = Precreated {
            deadline: params.deadline(now),
            params,
            qr_code: qr_code.clone(),
            qr_expires_at: now + QR_CODE_SECONDS,
        };
        self.by_qr_code.insert(qr_code, no.clone());
        self.precreated.insert(no, precreated.clone());
        Ok(precreated)
    }

    /// A phone scans an order code: the trade starts (WAIT_BUYER_PAY, with
    /// the shopper as its buyer), or the one it started is answered.
    pub(crate) fn scan(
        &mut self,
        qr_code: &str,
        shopper: &Shopper,
        now: i64,
    ) -> Result<Trade, ScanRefused> {
        let no = self
            .by_qr_code
            .get(qr_code.trim())
            .cloned()
            .ok_or(ScanRefused::Unknown)?;
        self.settle(&no, now);
        if let Some(trade) = self.trades.get(&no) {
            return Ok(trade.clone());
        }
        let precreated = self.precreated.get(&no).ok_or(ScanRefused::Unknown)?;
        if now >= precreated.qr_expires_at || now >= precreated.deadline {
            return Err(ScanRefused::Expired);
        }
        let (params, deadline) = (precreated.params.clone(), precreated.deadline);
        Ok(self.start(params, now, deadline, Some(shopper.clone())))
    }

    /// The shopper's browser opens the WAP cashier: the trade starts, or the
    /// waiting one is answered.
    pub(crate) fn open_wap(
        &mut self,
        params: TradeParams,
        now: i64,
    ) -> Result<Trade, CreateRefused> {
        self.create_or_repeat(params, now, None)
    }

    /// `alipay.trade.create`: the trade starts at once, its buyer named.
    pub(crate) fn create(
        &mut self,
        params: TradeParams,
        buyer: &Shopper,
        now: i64,
    ) -> Result<Trade, CreateRefused> {
        self.create_or_repeat(params, now, Some(buyer.clone()))
    }

    fn create_or_repeat(
        &mut self,
        params: TradeParams,
        now: i64,
        buyer: Option<Shopper>,
    ) -> Result<Trade, CreateRefused> {
        let no = params.out_trade_no.clone();
        self.settle(&no, now);
        if let Some(trade) = self.trades.get(&no) {
            check_repeat(trade, &params)?;
            return Ok(trade.clone());
        }
        if self.precreated.contains_key(&no) {
            return Err(CreateRefused::Inconsistent);
        }
        let deadline = params.deadline(now);
        Ok(self.start(params, now, deadline, buyer))
    }

    fn start(
        &mut self,
        params: TradeParams,
        now: i64,
        deadline: i64,
        buyer: Option<Shopper>,
    ) -> Trade {
        let trade = Trade {
            trade_no: self.fresh_trade_no(now),
            params,
            status: TradeStatus::WaitBuyerPay,
            created_at: now,
            expires_at: deadline,
            paid_at: None,
            closed_at: None,
            close_reason: None,
            buyer,
            refunds: Vec::new(),
        };
        let no = trade.params.out_trade_no.clone();
        self.by_trade_no.insert(trade.trade_no.clone(), no.clone());
        self.trades.insert(no, trade.clone());
        trade
    }

    /// The `out_trade_no` of the trade a call names: `trade_no` wins when
    /// both are given (as Alipay documents).
    pub(crate) fn find(
        &self,
        trade_no: Option<&str>,
        out_trade_no: Option<&str>,
    ) -> Option<String> {
        match (trade_no, out_trade_no) {
            (Some(trade_no), _) => self.by_trade_no.get(trade_no).cloned(),
            (None, Some(no)) => self.trades.contains_key(no).then(|| no.to_owned()),
            (None, None) => None,
        }
    }

    /// The trade, closed first if its timeout has passed.
    pub(crate) fn get(&mut self, out_trade_no: &str, now: i64) -> Option<&Trade> {
        self.settle(out_trade_no, now);
        self.trades.get(out_trade_no)
    }

    /// A new cashier page for a waiting trade: its token.
    pub(crate) fn issue_cashier_token(&mut self, out_trade_no: &str) -> String {
        let token = crypto::nonce(32);
        self.cashier_tokens
            .insert(token.clone(), out_trade_no.to_owned());
        token
    }

    /// The trade a cashier page's token belongs to.
    pub(crate) fn by_cashier_token(&self, token: &str) -> Option<String> {
        self.cashier_tokens.get(token).cloned()
    }

    /// The shopper pays: TRADE_SUCCESS.
    pub(crate) fn pay(
        &mut self,
        out_trade_no: &str,
        shopper: &Shopper,
        now: i64,
    ) -> Result<Trade, PayRefused> {
        let trade = self.waiting(out_trade_no, now)?;
        trade.status = TradeStatus::Success;
        trade.paid_at = Some(now);
        if trade.buyer.is_none() {
            trade.buyer = Some(shopper.clone());
        }
        Ok(trade.clone())
    }

    /// Risk control refuses the payment: the trade closes.
    pub(crate) fn decline(&mut self, out_trade_no: &str, now: i64) -> Result<Trade, PayRefused> {
        let trade = self.waiting(out_trade_no, now)?;
        trade.close(CloseReason::Declined, now);
        Ok(trade.clone())
    }

    fn waiting(&mut self, out_trade_no: &str, now: i64) -> Result<&mut Trade, PayRefused> {
        self.settle(out_trade_no, now);
        let trade = self
            .trades
            .get_mut(out_trade_no)
            .ok_or(PayRefused::NotFound)?;
        match trade.status {
            TradeStatus::WaitBuyerPay => Ok(trade),
            TradeStatus::Success => Err(PayRefused::Paid),
            TradeStatus::Closed if trade.paid_at.is_some() => Err(PayRefused::Paid),
            TradeStatus::Closed => Err(PayRefused::Closed),
        }
    }

    /// `alipay.trade.close`: only a waiting trade closes.
    pub(crate) fn close(&mut self, out_trade_no: &str, now: i64) -> Result<Trade, CloseRefused> {
        self.settle(out_trade_no, now);
        let trade = self
            .trades
            .get_mut(out_trade_no)
            .ok_or(CloseRefused::NotFound)?;
        if trade.status != TradeStatus::WaitBuyerPay {
            return Err(CloseRefused::NotWaiting);
        }
        trade.close(CloseReason::Merchant, now);
        Ok(trade.clone())
    }

    /// Every trade, in no order.
    pub(crate) fn all(&self) -> impl Iterator<Item = &Trade> {
        self.trades.values()
    }

    /// Past its timeout, a waiting trade is closed.
    pub(super) fn settle(&mut self, out_trade_no: &str, now: i64) {
        if let Some(trade) = self.trades.get_mut(out_trade_no) {
            if trade.status == TradeStatus::WaitBuyerPay && now >= trade.expires_at {
                let at = trade.expires_at;
                trade.close(CloseReason::Expired, at);
            }
        }
    }

    fn fresh_qr_code(&self) -> String {
        loop {
            let code = format!(
                "https://qr.alipay.com/bax{}",
                crypto::random_from(b"0123456789abcdefghijklmnopqrstuvwxyz", 22)
            );
            if !self.by_qr_code.contains_key(&code) {
                return code;
            }
        }
    }

    /// 28 digits that start with the date, like `2013112011001004330000121536`.
    fn fresh_trade_no(&self, now: i64) -> String {
        let date = cst_digits(now);
        loop {
            let trade_no = format!(
                "{}22001{}",
                date.get(..8).unwrap_or("19700101"),
                crypto::digits(15)
            );
            if !self.by_trade_no.contains_key(&trade_no) {
                return trade_no;
            }
        }
    }
}

impl Trade {
    pub(super) fn close(&mut self, reason: CloseReason, at: i64) {
        self.status = TradeStatus::Closed;
        self.closed_at = Some(at);
        self.close_reason = Some(reason);
    }
}

/// A repeated create of an existing trade: allowed while it waits and asks
/// the same.
fn check_repeat(trade: &Trade, params: &TradeParams) -> Result<(), CreateRefused> {
    match trade.status {
        TradeStatus::Success => Err(CreateRefused::Paid),
        TradeStatus::Closed if trade.paid_at.is_some() => Err(CreateRefused::Paid),
        TradeStatus::Closed => Err(CreateRefused::Closed),
        TradeStatus::WaitBuyerPay if trade.params.same_trade(params) => Ok(()),
        TradeStatus::WaitBuyerPay => Err(CreateRefused::Inconsistent),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) const NOW: i64 = 1_700_000_000;

    pub(crate) fn shopper() -> Shopper {
        Shopper {
            user_id: "2088722000000518".into(),
            open_id: "0abc".into(),
            logon_id: "158****1562".into(),
        }
    }

    pub(crate) fn params(product: Product, no: &str) -> TradeParams {
        TradeParams {
            product,
            out_trade_no: no.into(),
            total: 12800,
            subject: "Longjing 250 g".into(),
            body: None,
            timeout: None,
            notify_url: Some("https://merchant.example/notify".into()),
            return_url: None,
            quit_url: None,
            passback_params: None,
            buyer: None,
        }
    }

    #[test]
    fn an_order_code_is_no_trade_until_it_is_scanned() {
        let mut trades = Trades::default();
        let code = trades
            .precreate(params(Product::Precreate, "o_1"), NOW)
            .unwrap();
        assert!(code.qr_code.starts_with("https://qr.alipay.com/bax"));
        assert_eq!(trades.find(None, Some("o_1")), None);
        assert_eq!(trades.close("o_1", NOW).err(), Some(CloseRefused::NotFound));

        let trade = trades.scan(&code.qr_code, &shopper(), NOW + 5).unwrap();
        assert_eq!(trade.status, TradeStatus::WaitBuyerPay);
        assert_eq!(trade.trade_no.len(), 28);
        assert_eq!(trade.buyer, Some(shopper()));
        assert_eq!(
            trades.find(Some(&trade.trade_no), None).as_deref(),
            Some("o_1")
        );
        let again = trades
            .precreate(params(Product::Precreate, "o_1"), NOW + 6)
            .unwrap();
        assert_eq!(
            again.qr_code, code.qr_code,
            "a repeat answers the same code"
        );
        let paid = trades.pay("o_1", &shopper(), NOW + 7).unwrap();
        assert_eq!(paid.status, TradeStatus::Success);
        assert_eq!(
            trades
                .precreate(params(Product::Precreate, "o_1"), NOW + 8)
                .err(),
            Some(CreateRefused::Paid)
        );
        assert_eq!(
            trades.close("o_1", NOW + 8).err(),
            Some(CloseRefused::NotWaiting)
        );
    }

    #[test]
    fn an_order_code_expires_after_two_hours_or_its_timeout() {
        let mut trades = Trades::default();
        let code = trades
            .precreate(params(Product::Precreate, "o_1"), NOW)
            .unwrap();
        assert_eq!(
            trades
                .scan(&code.qr_code, &shopper(), NOW + QR_CODE_SECONDS)
                .err(),
            Some(ScanRefused::Expired)
        );
        let fresh = trades
            .precreate(params(Product::Precreate, "o_1"), NOW + QR_CODE_SECONDS)
            .unwrap();
        assert_ne!(fresh.qr_code, code.qr_code);
        assert_eq!(
            trades.scan(&code.qr_code, &shopper(), NOW).err(),
            Some(ScanRefused::Unknown)
        );

        let mut short = params(Product::Precreate, "o_2");
        short.timeout = Some(Timeout::After(300));
        let code = trades.precreate(short, NOW).unwrap();
        trades.scan(&code.qr_code, &shopper(), NOW + 10).unwrap();
        assert_eq!(
            trades.get("o_2", NOW + 300).map(|t| t.status),
            Some(TradeStatus::Closed)
        );
        assert_eq!(
            trades.pay("o_2", &shopper(), NOW + 300).err(),
            Some(PayRefused::Closed)
        );
    }

    #[test]
    fn the_same_out_trade_no_with_other_information_is_inconsistent() {
        let mut trades = Trades::default();
        trades.open_wap(params(Product::Wap, "o_1"), NOW).unwrap();
        let mut other = params(Product::Wap, "o_1");
        other.total = 1;
        assert_eq!(
            trades.open_wap(other, NOW).err(),
            Some(CreateRefused::Inconsistent)
        );
        assert_eq!(
            trades
                .precreate(params(Product::Precreate, "o_1"), NOW)
                .err(),
            Some(CreateRefused::Inconsistent)
        );
        let again = trades
            .open_wap(params(Product::Wap, "o_1"), NOW + 1)
            .unwrap();
        assert_eq!(again.created_at, NOW, "a repeat is the same trade");
    }

    #[test]
    fn a_declined_payment_closes_the_trade() {
        let mut trades = Trades::default();
        trades
            .create(params(Product::Create, "o_1"), &shopper(), NOW)
            .unwrap();
        let declined = trades.decline("o_1", NOW).unwrap();
        assert_eq!(declined.status, TradeStatus::Closed);
        assert_eq!(declined.close_reason, Some(CloseReason::Declined));
        assert_eq!(
            trades.pay("o_1", &shopper(), NOW).err(),
            Some(PayRefused::Closed)
        );
        assert_eq!(
            trades
                .create(params(Product::Create, "o_1"), &shopper(), NOW)
                .err(),
            Some(CreateRefused::Closed)
        );
    }

    #[test]
    fn timeouts_end_where_they_say() {
        assert_eq!(Timeout::After(90 * 60).deadline(NOW), NOW + 5400);
        assert_eq!(Timeout::At(NOW + 7).deadline(NOW), NOW + 7);
        assert_eq!(
            Timeout::EndOfDay.deadline(NOW),
            next_cst_midnight(NOW),
            "1c ends at midnight in Beijing"
        );
        let mut trades = Trades::default();
        let trade = trades
            .create(params(Product::Create, "o_1"), &shopper(), NOW)
            .unwrap();
        assert_eq!(trade.expires_at, NOW + CREATE_DEFAULT_SECONDS);
        let trade = trades.open_wap(params(Product::Wap, "o_2"), NOW).unwrap();
        assert_eq!(trade.expires_at, NOW + WAP_DEFAULT_SECONDS);
    }
}
