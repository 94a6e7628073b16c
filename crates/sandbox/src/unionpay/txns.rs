//! The emulator's transactions and their state machine. No I/O here.
//!
//! Every transaction, a consumption, a refund or a cancellation, is named
//! by the merchant's `merId`, `orderId` and `txnTime`; the gateway names it
//! by its `queryId`.
//!
//! Documented (the 5.1.0 demos; the verified vectors): a consumption is
//! processing (`origRespCode` 05) until it succeeds (00) or fails (its
//! code); a query of an order the gateway never saw answers 34; `payTimeout`
//! ends the time a shopper has to pay, and after it a query whose
//! `origRespCode` is not 00 means failed. A refund (`txnType=04`) names the
//! payment by `origQryId`, with its own `orderId` + `txnTime` and an amount
//! up to what is left; the answer 00 only accepts it, and the result comes
//! by notification or query. A cancellation (`txnType=31`) reverses the
//! whole amount. `queryId` is 21 digits: in the verified vectors, two
//! digits, the `txnTime` without its century, the 6-digit `traceNo` and one
//! digit; `traceTime` is the `txnTime`'s `MMddHHmmss`, `settleDate` the
//! settlement day's `MMdd`.
//!
//! Assumed: an order exists for a query only once a card was entered on
//! the card page or its code was scanned (before that the gateway has no
//! transaction to find: 34); the same `orderId` + `txnTime` brought to the
//! card page again, with the same amount and not finished, opens the page
//! again, and anything else with them is 12; a payment still processing at
//! its `payTimeout` fails with 69; without `payTimeout` an order may be
//! paid for 24 hours; the settlement day is the calendar day in Beijing
//! (UnionPay's 23:00 cut-off is not played); a cancellation is taken only
//! on the payment's settlement day and only when nothing was refunded
//! (else 35), for the whole amount (else 36); a refund or cancellation of a
//! payment with nothing left is 45, more than is left 33; a refund that
//! fails gives its amount back to what may be refunded.

use std::collections::HashMap;

use super::wire::{
    Refusal, Resp, AMOUNT_LIMIT, DUPLICATE, INSUFFICIENT_FUNDS, ISSUER_DECLINED, MISMATCH,
    ORIGINAL, REVERSED, SMS_FAILED, TIMED_OUT,
};
use crate::clock::cst_digits;
use crate::crypto;

/// How long an order without `payTimeout` may be paid.
pub(crate) const DEFAULT_PAY_SECONDS: i64 = 24 * 60 * 60;
/// The SMS code the emulated bank sends.
pub(crate) const SMS_CODE: &str = "111111";
/// Wrong SMS codes that fail the payment.
pub(crate) const SMS_ATTEMPTS: u8 = 3;
/// Where order codes point.
pub(crate) const QR_PREFIX: &str = "https://qr.95516.com/00010000/";

/// A transaction's name: the merchant's, `orderId` and `txnTime`.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub(crate) struct TxnKey {
    pub mer_id: String,
    pub order_id: String,
    pub txn_time: String,
}

/// How the order is paid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Product {
    /// `frontTransReq.do`: the card page (`txnSubType=01`).
    Front,
    /// `backTransReq.do` `txnSubType=07`: an order code the shopper scans.
    Qr,
}

/// `payCardType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CardKind {
    Debit,
    Credit,
}

impl CardKind {
    /// `payCardType`: 01 debit, 02 credit.
    pub(crate) fn pay_card_type(self) -> &'static str {
        match self {
            CardKind::Debit => "01",
            CardKind::Credit => "02",
        }
    }
}

/// A card the emulated banks know.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Card {
    pub number: String,
    pub kind: CardKind,
    /// Whether it has the money (else the bank declines with 64).
    pub funded: bool,
}

impl Card {
    /// One of the published test cards, or `None`.
    pub(crate) fn test(number: &str) -> Option<Card> {
        let (kind, funded) = match number {
            "6216261000000000018" => (CardKind::Debit, true),
            "6221558812340000" => (CardKind::Credit, true),
            "6216261000000000026" => (CardKind::Debit, false),
            _ => return None,
        };
        Some(Card {
            number: number.to_owned(),
            kind,
            funded,
        })
    }

    /// The card a scanning shopper pays with.
    pub(crate) fn shoppers() -> Card {
        Card {
            number: "6216261000000000018".into(),
            kind: CardKind::Debit,
            funded: true,
        }
    }

    /// `accNo` as the emulator shows it: `6216********0018`.
    pub(crate) fn masked(&self) -> String {
        let head = self.number.get(..4).unwrap_or_default();
        let tail = self
            .number
            .get(self.number.len().saturating_sub(4)..)
            .unwrap_or_default();
        format!("{head}********{tail}")
    }
}

/// What the merchant asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct OrderParams {
    pub key: TxnKey,
    pub product: Product,
    pub biz_type: String,
    pub channel_type: String,
    /// Fen.
    pub amount: i64,
    pub front_url: Option<String>,
    pub back_url: String,
    /// Unix seconds: `payTimeout`, or the default.
    pub deadline: i64,
    pub req_reserved: Option<String>,
    pub order_desc: Option<String>,
    /// `encoding` as the merchant wrote it, echoed.
    pub encoding: String,
}

impl OrderParams {
    /// `txnSubType`.
    pub(crate) fn txn_sub_type(&self) -> &'static str {
        match self.product {
            Product::Front => "01",
            Product::Qr => "07",
        }
    }
}

/// How a transaction stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// 05: a card is entered and the SMS code awaited, a code scanned and
    /// not confirmed, a refund not done yet.
    Pending,
    Succeeded {
        at: i64,
        /// `MMdd`.
        settle_date: String,
    },
    Failed {
        resp: Resp,
        at: i64,
    },
}

impl Outcome {
    pub(crate) fn finished(&self) -> bool {
        !matches!(self, Outcome::Pending)
    }
}

/// The gateway's identifiers of a transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Ids {
    pub query_id: String,
    pub trace_no: String,
    pub trace_time: String,
}

/// A consumption once the shopper started paying it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Attempt {
    pub ids: Ids,
    pub card: Card,
    pub started_at: i64,
    pub sms_failures: u8,
    pub outcome: Outcome,
}

/// A consumption.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Order {
    pub params: OrderParams,
    pub created_at: i64,
    pub qr_code: Option<String>,
    /// `None`: never attempted, unknown to a query (34).
    pub attempt: Option<Attempt>,
    /// The refunds and cancellations of this order, oldest first.
    pub reversals: Vec<TxnKey>,
}

impl Order {
    /// Whether a card page or a phone may still pay it.
    pub(crate) fn payable(&self, now: i64) -> Result<(), PayRefused> {
        match self.attempt.as_ref().map(|attempt| &attempt.outcome) {
            Some(Outcome::Succeeded { .. }) => Err(PayRefused::Paid),
            Some(Outcome::Failed { resp, .. }) => Err(PayRefused::Failed(*resp)),
            _ if now >= self.params.deadline => Err(PayRefused::TimedOut),
            _ => Ok(()),
        }
    }
}

/// Refund (`txnType=04`) or cancellation (`txnType=31`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ReversalKind {
    Refund,
    Cancel,
}

impl ReversalKind {
    /// `txnType`.
    pub(crate) fn txn_type(self) -> &'static str {
        match self {
            ReversalKind::Refund => "04",
            ReversalKind::Cancel => "31",
        }
    }
}

/// What the merchant asked to give back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ReversalParams {
    pub key: TxnKey,
    pub kind: ReversalKind,
    pub orig_query_id: String,
    /// Fen.
    pub amount: i64,
    pub back_url: String,
    pub biz_type: String,
    pub channel_type: Option<String>,
    pub req_reserved: Option<String>,
    pub encoding: String,
}

/// A refund or a cancellation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Reversal {
    pub params: ReversalParams,
    /// The payment it gives back.
    pub order: TxnKey,
    pub ids: Ids,
    pub asked_at: i64,
    /// Whether it will fail when it completes (a short balance).
    pub fails: bool,
    pub outcome: Outcome,
}

/// Any transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Txn {
    Order(Order),
    Reversal(Reversal),
}

/// Why an order cannot be opened or applied for.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum OpenRefused {
    /// 12: `orderId` + `txnTime` taken.
    Duplicate,
}

/// Why an order cannot be paid (now).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PayRefused {
    NotFound,
    Paid,
    Failed(Resp),
    /// Past `payTimeout`: 订单已超时.
    TimedOut,
}

/// How an SMS code was taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SmsResult {
    Paid,
    /// The bank declined (the card's money was short): the payment failed.
    Declined(Resp),
    /// Wrong; this many tries are left.
    Wrong(u8),
    /// Wrong for the last time: the payment failed (71).
    Failed,
}

/// What the shopper does with a scanned code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ScanOutcome {
    /// Scanned, confirming: processing.
    Scan,
    Pay,
    /// The card's bank declines (60).
    Decline,
}

/// Why a scanned code cannot be paid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ScanRefused {
    Unknown,
    Unpayable(PayRefused),
}

/// Every transaction, and the indexes that find them.
#[derive(Debug, Default)]
pub(crate) struct Txns {
    /// A payment being decided at its deadline is decided after it (see
    /// `Control::late_decisions`).
    pub late_decisions: bool,
    txns: HashMap<TxnKey, Txn>,
    by_query_id: HashMap<String, TxnKey>,
    by_qr_code: HashMap<String, TxnKey>,
    by_token: HashMap<String, TxnKey>,
}

impl Txns {
    /// A consumption brought to the card page: a new order, or the same
    /// one again while it is unfinished.
    pub(crate) fn open_front(
        &mut self,
        params: OrderParams,
        now: i64,
    ) -> Result<Order, OpenRefused> {
        if let Some(Txn::Order(order)) = self.txns.get(&params.key) {
            let unfinished = order
                .attempt
                .as_ref()
                .is_none_or(|attempt| !attempt.outcome.finished());
            return if order.params.product == Product::Front
                && order.params.amount == params.amount
                && unfinished
                && now < order.params.deadline
            {
                Ok(order.clone())
            } else {
                Err(OpenRefused::Duplicate)
            };
        }
        self.insert_order(params, None, now)
    }

    /// A consumption by order code: a new order with its `qrCode`.
    pub(crate) fn apply_qr(&mut self, params: OrderParams, now: i64) -> Result<Order, OpenRefused> {
        let qr_code = loop {
            let code = format!("{QR_PREFIX}{}", crypto::digits(32));
            if !self.by_qr_code.contains_key(&code) {
                break code;
            }
        };
        self.insert_order(params, Some(qr_code), now)
    }

    fn insert_order(
        &mut self,
        params: OrderParams,
        qr_code: Option<String>,
        now: i64,
    ) -> Result<Order, OpenRefused> {
        if self.txns.contains_key(&params.key) {
            return Err(OpenRefused::Duplicate);
        }
        let order = Order {
            params,
            created_at: now,
            qr_code,
            attempt: None,
            reversals: Vec::new(),
        };
        if let Some(code) = &order.qr_code {
            self.by_qr_code
                .insert(code.clone(), order.params.key.clone());
        }
        self.txns
            .insert(order.params.key.clone(), Txn::Order(order.clone()));
        Ok(order)
    }

    /// A token for the card page of `key`.
    pub(crate) fn issue_token(&mut self, key: &TxnKey) -> String {
        let token = crypto::nonce(32);
        self.by_token.insert(token.clone(), key.clone());
        token
    }

    /// The order a card page's token is for.
    pub(crate) fn by_token(&self, token: &str) -> Option<TxnKey> {
        self.by_token.get(token).cloned()
    }

    /// Any transaction, its timeout applied.
    pub(crate) fn get(&mut self, key: &TxnKey, now: i64) -> Option<&Txn> {
        self.settle(key, now);
        self.txns.get(key)
    }

    /// An order, its timeout applied.
    pub(crate) fn order(&mut self, key: &TxnKey, now: i64) -> Option<&Order> {
        match self.get(key, now) {
            Some(Txn::Order(order)) => Some(order),
            _ => None,
        }
    }

    fn order_mut(&mut self, key: &TxnKey, now: i64) -> Result<&mut Order, PayRefused> {
        self.settle(key, now);
        match self.txns.get_mut(key) {
            Some(Txn::Order(order)) => Ok(order),
            _ => Err(PayRefused::NotFound),
        }
    }

    /// A payment still processing at its deadline fails (69).
    fn settle(&mut self, key: &TxnKey, now: i64) {
        if let Some(Txn::Order(order)) = self.txns.get_mut(key) {
            let deadline = order.params.deadline;
            if let Some(attempt) = &mut order.attempt {
                if attempt.outcome == Outcome::Pending && now >= deadline && !self.late_decisions {
                    attempt.outcome = Outcome::Failed {
                        resp: TIMED_OUT,
                        at: deadline,
                    };
                }
            }
        }
    }

    /// Fresh identifiers for a transaction of `txn_time`.
    fn fresh_ids(&self, txn_time: &str) -> Ids {
        let short_time = txn_time.get(2..).unwrap_or(txn_time);
        loop {
            let trace_no = crypto::digits(6);
            let query_id = format!(
                "{}{short_time}{trace_no}{}",
                crypto::digits(2),
                crypto::digits(1)
            );
            if !self.by_query_id.contains_key(&query_id) {
                return Ids {
                    query_id,
                    trace_no,
                    trace_time: txn_time.get(4..).unwrap_or(txn_time).to_owned(),
                };
            }
        }
    }

    /// Starts (or restarts, with another card) the payment of an order:
    /// processing from here on.
    fn start(&mut self, key: &TxnKey, card: Card, now: i64) -> Result<Order, PayRefused> {
        let fresh = self.fresh_ids(&key.txn_time);
        let order = self.order_mut(key, now)?;
        order.payable(now)?;
        match &mut order.attempt {
            Some(attempt) => {
                attempt.card = card;
                attempt.sms_failures = 0;
            }
            None => {
                order.attempt = Some(Attempt {
                    ids: fresh.clone(),
                    card,
                    started_at: now,
                    sms_failures: 0,
                    outcome: Outcome::Pending,
                });
            }
        }
        let order = order.clone();
        if let Some(attempt) = &order.attempt {
            self.by_query_id
                .insert(attempt.ids.query_id.clone(), key.clone());
        }
        Ok(order)
    }

    /// The shopper entered a known card on the card page: the SMS code is
    /// awaited.
    pub(crate) fn enter_card(
        &mut self,
        key: &TxnKey,
        card: Card,
        now: i64,
    ) -> Result<Order, PayRefused> {
        self.start(key, card, now)
    }

    /// The shopper typed an SMS code.
    pub(crate) fn sms(
        &mut self,
        key: &TxnKey,
        code: &str,
        now: i64,
    ) -> Result<(Order, SmsResult), PayRefused> {
        let order = self.order_mut(key, now)?;
        order.payable(now)?;
        let Some(attempt) = &mut order.attempt else {
            return Err(PayRefused::NotFound);
        };
        let result = if code.trim() != SMS_CODE {
            attempt.sms_failures = attempt.sms_failures.saturating_add(1);
            if attempt.sms_failures >= SMS_ATTEMPTS {
                attempt.outcome = Outcome::Failed {
                    resp: SMS_FAILED,
                    at: now,
                };
                SmsResult::Failed
            } else {
                SmsResult::Wrong(SMS_ATTEMPTS - attempt.sms_failures)
            }
        } else if attempt.card.funded {
            attempt.outcome = succeeded(now);
            SmsResult::Paid
        } else {
            attempt.outcome = Outcome::Failed {
                resp: INSUFFICIENT_FUNDS,
                at: now,
            };
            SmsResult::Declined(INSUFFICIENT_FUNDS)
        };
        Ok((order.clone(), result))
    }

    /// The shopper's phone scans an order code, then stops at the
    /// confirmation, pays, or its bank declines.
    pub(crate) fn scan(
        &mut self,
        qr_code: &str,
        outcome: ScanOutcome,
        now: i64,
    ) -> Result<Order, ScanRefused> {
        let key = self
            .by_qr_code
            .get(qr_code.trim())
            .cloned()
            .ok_or(ScanRefused::Unknown)?;
        let deciding = self.late_decisions
            && matches!(
                self.txns.get(&key),
                Some(Txn::Order(Order {
                    attempt: Some(Attempt {
                        outcome: Outcome::Pending,
                        ..
                    }),
                    ..
                }))
            );
        if !deciding {
            self.start(&key, Card::shoppers(), now)
                .map_err(ScanRefused::Unpayable)?;
        }
        let order = self
            .order_mut(&key, now)
            .map_err(|_| ScanRefused::Unknown)?;
        if let Some(attempt) = &mut order.attempt {
            match outcome {
                ScanOutcome::Scan => {}
                ScanOutcome::Pay => attempt.outcome = succeeded(now),
                ScanOutcome::Decline => {
                    attempt.outcome = Outcome::Failed {
                        resp: ISSUER_DECLINED,
                        at: now,
                    }
                }
            }
        }
        Ok(order.clone())
    }

    /// Accepts a refund or a cancellation (its money moves when
    /// [`Txns::finish_reversal`] is called), or refuses it.
    pub(crate) fn reverse(
        &mut self,
        params: ReversalParams,
        fails: bool,
        now: i64,
    ) -> Result<Reversal, Refusal> {
        if self.txns.contains_key(&params.key) {
            return Err(Refusal::new(
                DUPLICATE,
                "this orderId + txnTime was used already",
            ));
        }
        let original = self
            .by_query_id
            .get(&params.orig_query_id)
            .cloned()
            .ok_or_else(|| Refusal::new(ORIGINAL, "no payment has this origQryId"))?;
        self.settle(&original, now);
        let order = match self.txns.get(&original) {
            Some(Txn::Order(order)) if order.params.key.mer_id == params.key.mer_id => order,
            _ => return Err(Refusal::new(ORIGINAL, "no payment has this origQryId")),
        };
        let paid_on = match order.attempt.as_ref().map(|attempt| &attempt.outcome) {
            Some(Outcome::Succeeded { settle_date, .. }) => settle_date.clone(),
            _ => {
                return Err(Refusal::new(
                    ORIGINAL,
                    "the original payment did not succeed",
                ))
            }
        };
        let amount = order.params.amount;
        let committed: i64 = order
            .reversals
            .iter()
            .filter_map(|key| match self.txns.get(key) {
                Some(Txn::Reversal(reversal))
                    if !matches!(reversal.outcome, Outcome::Failed { .. }) =>
                {
                    Some(reversal.params.amount)
                }
                _ => None,
            })
            .sum();
        if committed >= amount {
            return Err(Refusal::new(
                REVERSED,
                "the payment was refunded in full or cancelled",
            ));
        }
        match params.kind {
            ReversalKind::Refund if params.amount > amount - committed => {
                return Err(Refusal::new(
                    AMOUNT_LIMIT,
                    format!("{} fen is left to refund", amount - committed),
                ))
            }
            ReversalKind::Refund => {}
            ReversalKind::Cancel if committed > 0 => {
                return Err(Refusal::new(
                    ORIGINAL,
                    "part of the payment was refunded: refund the rest instead",
                ))
            }
            ReversalKind::Cancel if params.amount != amount => {
                return Err(Refusal::new(
                    MISMATCH,
                    "a cancellation is for the whole amount of the payment",
                ))
            }
            ReversalKind::Cancel if settle_date(now) != paid_on => {
                return Err(Refusal::new(
                    ORIGINAL,
                    "不支持隔日撤销: cancel on the payment's settlement day, refund afterwards",
                ))
            }
            ReversalKind::Cancel => {}
        }
        let reversal = Reversal {
            ids: self.fresh_ids(&params.key.txn_time),
            order: original.clone(),
            asked_at: now,
            fails,
            outcome: Outcome::Pending,
            params,
        };
        self.by_query_id
            .insert(reversal.ids.query_id.clone(), reversal.params.key.clone());
        if let Some(Txn::Order(order)) = self.txns.get_mut(&original) {
            order.reversals.push(reversal.params.key.clone());
        }
        self.txns
            .insert(reversal.params.key.clone(), Txn::Reversal(reversal.clone()));
        Ok(reversal)
    }

    /// A pending refund or cancellation completes (or fails, when it was
    /// accepted on a short balance). `None` when there is none pending.
    pub(crate) fn finish_reversal(&mut self, key: &TxnKey, now: i64) -> Option<Reversal> {
        let Some(Txn::Reversal(reversal)) = self.txns.get_mut(key) else {
            return None;
        };
        if reversal.outcome.finished() {
            return None;
        }
        reversal.outcome = if reversal.fails {
            Outcome::Failed {
                resp: super::wire::FAILED,
                at: now,
            }
        } else {
            succeeded(now)
        };
        Some(reversal.clone())
    }

    /// Every order, oldest first, with its refunds and cancellations.
    pub(crate) fn statement(&self) -> Vec<(Order, Vec<Reversal>)> {
        let mut orders: Vec<&Order> = self
            .txns
            .values()
            .filter_map(|txn| match txn {
                Txn::Order(order) => Some(order),
                Txn::Reversal(_) => None,
            })
            .collect();
        orders.sort_by_key(|order| order.created_at);
        orders
            .into_iter()
            .map(|order| {
                let reversals = order
                    .reversals
                    .iter()
                    .filter_map(|key| match self.txns.get(key) {
                        Some(Txn::Reversal(reversal)) => Some(reversal.clone()),
                        _ => None,
                    })
                    .collect();
                (order.clone(), reversals)
            })
            .collect()
    }
}

/// `MMdd` of the day in Beijing.
pub(crate) fn settle_date(now: i64) -> String {
    cst_digits(now).get(4..8).unwrap_or("0101").to_owned()
}

fn succeeded(now: i64) -> Outcome {
    Outcome::Succeeded {
        at: now,
        settle_date: settle_date(now),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_780_000_000;

    fn key(order_id: &str) -> TxnKey {
        TxnKey {
            mer_id: "777290058110048".into(),
            order_id: order_id.into(),
            txn_time: cst_digits(NOW),
        }
    }

    fn params(order_id: &str, product: Product) -> OrderParams {
        OrderParams {
            key: key(order_id),
            product,
            biz_type: "000201".into(),
            channel_type: "07".into(),
            amount: 1000,
            front_url: Some("https://shop.example/return".into()),
            back_url: "https://shop.example/notify".into(),
            deadline: NOW + 900,
            req_reserved: None,
            order_desc: None,
            encoding: "UTF-8".into(),
        }
    }

    fn refund(order_id: &str, orig_query_id: &str, amount: i64) -> ReversalParams {
        ReversalParams {
            key: key(order_id),
            kind: ReversalKind::Refund,
            orig_query_id: orig_query_id.into(),
            amount,
            back_url: "https://shop.example/notify".into(),
            biz_type: "000201".into(),
            channel_type: Some("07".into()),
            req_reserved: None,
            encoding: "UTF-8".into(),
        }
    }

    fn paid(txns: &mut Txns, order_id: &str) -> String {
        txns.open_front(params(order_id, Product::Front), NOW)
            .unwrap();
        let order = txns
            .enter_card(
                &key(order_id),
                Card::test("6216261000000000018").unwrap(),
                NOW,
            )
            .unwrap();
        assert_eq!(
            txns.sms(&key(order_id), SMS_CODE, NOW).unwrap().1,
            SmsResult::Paid
        );
        order.attempt.unwrap().ids.query_id
    }

    #[test]
    fn an_order_is_unknown_until_a_card_is_entered_then_processing() {
        let mut txns = Txns::default();
        let order = txns
            .open_front(params("order0001", Product::Front), NOW)
            .unwrap();
        assert_eq!(order.attempt, None);
        let again = txns
            .open_front(params("order0001", Product::Front), NOW + 1)
            .unwrap();
        assert_eq!(again, order, "the same order, opened again");
        let mut other = params("order0001", Product::Front);
        other.amount = 2000;
        assert_eq!(
            txns.open_front(other, NOW),
            Err(OpenRefused::Duplicate),
            "another amount"
        );

        let order = txns
            .enter_card(
                &key("order0001"),
                Card::test("6221558812340000").unwrap(),
                NOW,
            )
            .unwrap();
        let attempt = order.attempt.unwrap();
        assert_eq!(attempt.outcome, Outcome::Pending);
        assert_eq!(attempt.ids.query_id.len(), 21);
        assert_eq!(
            &attempt.ids.query_id[2..14],
            &key("order0001").txn_time[2..]
        );
        assert_eq!(&attempt.ids.query_id[14..20], attempt.ids.trace_no);
        assert_eq!(attempt.ids.trace_time, key("order0001").txn_time[4..]);
        assert_eq!(attempt.card.masked(), "6221********0000");
    }

    #[test]
    fn sms_codes_pay_decline_or_fail_on_the_third_wrong_one() {
        let mut txns = Txns::default();
        paid(&mut txns, "order0001");
        assert_eq!(
            txns.sms(&key("order0001"), SMS_CODE, NOW),
            Err(PayRefused::Paid)
        );
        assert_eq!(
            txns.open_front(params("order0001", Product::Front), NOW),
            Err(OpenRefused::Duplicate),
            "paid: 12"
        );

        txns.open_front(params("order0002", Product::Front), NOW)
            .unwrap();
        let broke = Card::test("6216261000000000026").unwrap();
        txns.enter_card(&key("order0002"), broke, NOW).unwrap();
        assert_eq!(
            txns.sms(&key("order0002"), SMS_CODE, NOW).unwrap().1,
            SmsResult::Declined(INSUFFICIENT_FUNDS)
        );

        txns.open_front(params("order0003", Product::Front), NOW)
            .unwrap();
        let card = Card::test("6216261000000000018").unwrap();
        txns.enter_card(&key("order0003"), card, NOW).unwrap();
        let wrong = |txns: &mut Txns| txns.sms(&key("order0003"), "000000", NOW).unwrap().1;
        assert_eq!(wrong(&mut txns), SmsResult::Wrong(2));
        assert_eq!(wrong(&mut txns), SmsResult::Wrong(1));
        assert_eq!(wrong(&mut txns), SmsResult::Failed);
        assert_eq!(
            txns.sms(&key("order0003"), SMS_CODE, NOW),
            Err(PayRefused::Failed(SMS_FAILED))
        );
        assert_eq!(Card::test("6216261000000000034"), None);
    }

    #[test]
    fn a_payment_processing_at_its_deadline_fails() {
        let mut txns = Txns::default();
        txns.open_front(params("order0001", Product::Front), NOW)
            .unwrap();
        txns.open_front(params("order0002", Product::Front), NOW)
            .unwrap();
        let card = Card::test("6216261000000000018").unwrap();
        txns.enter_card(&key("order0001"), card.clone(), NOW)
            .unwrap();
        let late = NOW + 900;
        assert_eq!(
            txns.sms(&key("order0001"), SMS_CODE, late),
            Err(PayRefused::Failed(TIMED_OUT))
        );
        assert_eq!(
            txns.enter_card(&key("order0002"), card, late),
            Err(PayRefused::TimedOut)
        );
        assert_eq!(
            txns.order(&key("order0002"), late).unwrap().attempt,
            None,
            "never attempted: still unknown to a query"
        );
    }

    #[test]
    fn order_codes_scan_pay_and_decline() {
        let mut txns = Txns::default();
        let order = txns
            .apply_qr(params("order0001", Product::Qr), NOW)
            .unwrap();
        let code = order.qr_code.unwrap();
        assert!(code.starts_with(QR_PREFIX) && code.len() == QR_PREFIX.len() + 32);
        assert_eq!(
            txns.apply_qr(params("order0001", Product::Qr), NOW),
            Err(OpenRefused::Duplicate)
        );
        let scanned = txns.scan(&code, ScanOutcome::Scan, NOW).unwrap();
        assert_eq!(scanned.attempt.unwrap().outcome, Outcome::Pending);
        let paid = txns.scan(&code, ScanOutcome::Pay, NOW).unwrap();
        assert!(matches!(
            paid.attempt.unwrap().outcome,
            Outcome::Succeeded { .. }
        ));
        assert_eq!(
            txns.scan(&code, ScanOutcome::Pay, NOW),
            Err(ScanRefused::Unpayable(PayRefused::Paid))
        );
        assert_eq!(
            txns.scan("https://qr.95516.com/00010000/1", ScanOutcome::Pay, NOW),
            Err(ScanRefused::Unknown)
        );

        let code = txns
            .apply_qr(params("order0002", Product::Qr), NOW)
            .unwrap()
            .qr_code
            .unwrap();
        assert_eq!(
            txns.scan(&code, ScanOutcome::Pay, NOW + 900),
            Err(ScanRefused::Unpayable(PayRefused::TimedOut))
        );
        let code = txns
            .apply_qr(params("order0003", Product::Qr), NOW)
            .unwrap()
            .qr_code
            .unwrap();
        let declined = txns.scan(&code, ScanOutcome::Decline, NOW).unwrap();
        assert!(matches!(
            declined.attempt.unwrap().outcome,
            Outcome::Failed { resp, .. } if resp == ISSUER_DECLINED
        ));
    }

    #[test]
    fn refunds_never_exceed_the_payment_and_repeats_are_duplicates() {
        let mut txns = Txns::default();
        let query_id = paid(&mut txns, "order0001");
        let first = txns
            .reverse(refund("refund001", &query_id, 600), false, NOW)
            .unwrap();
        assert_eq!(first.outcome, Outcome::Pending);
        assert_eq!(
            txns.reverse(refund("refund001", &query_id, 100), false, NOW)
                .map_err(|e| e.resp),
            Err(DUPLICATE)
        );
        assert_eq!(
            txns.reverse(refund("refund002", &query_id, 401), false, NOW)
                .map_err(|e| e.resp),
            Err(AMOUNT_LIMIT),
            "600 of 1000 committed"
        );
        let failing = txns
            .reverse(refund("refund003", &query_id, 400), true, NOW)
            .unwrap();
        let failed = txns.finish_reversal(&failing.params.key, NOW).unwrap();
        assert!(matches!(failed.outcome, Outcome::Failed { .. }));
        assert_eq!(txns.finish_reversal(&failing.params.key, NOW), None);
        txns.reverse(refund("refund004", &query_id, 400), false, NOW)
            .unwrap();
        txns.finish_reversal(&first.params.key, NOW).unwrap();
        assert_eq!(
            txns.reverse(refund("refund005", &query_id, 1), false, NOW)
                .map_err(|e| e.resp),
            Err(REVERSED)
        );
        assert_eq!(
            txns.reverse(refund("refund006", "000", 1), false, NOW)
                .map_err(|e| e.resp),
            Err(ORIGINAL)
        );
        let statement = txns.statement();
        assert_eq!(statement.len(), 1);
        assert_eq!(statement[0].1.len(), 3);
    }

    #[test]
    fn cancellations_are_whole_and_same_day() {
        let mut txns = Txns::default();
        let query_id = paid(&mut txns, "order0001");
        let mut cancel = refund("cancel001", &query_id, 999);
        cancel.kind = ReversalKind::Cancel;
        assert_eq!(
            txns.reverse(cancel.clone(), false, NOW).map_err(|e| e.resp),
            Err(MISMATCH)
        );
        cancel.amount = 1000;
        assert_eq!(
            txns.reverse(cancel.clone(), false, NOW + 24 * 60 * 60)
                .map_err(|e| e.resp),
            Err(ORIGINAL),
            "the next day"
        );
        txns.reverse(cancel, false, NOW).unwrap();

        let query_id = paid(&mut txns, "order0002");
        txns.reverse(refund("refund001", &query_id, 1), false, NOW)
            .unwrap();
        let mut cancel = refund("cancel002", &query_id, 1000);
        cancel.kind = ReversalKind::Cancel;
        assert_eq!(
            txns.reverse(cancel, false, NOW).map_err(|e| e.resp),
            Err(ORIGINAL),
            "partly refunded"
        );
    }
}
