//! Refunds: what is left of a payment counted in the same transaction
//! that stores a new refund, and each refund followed until its provider
//! says how it ended.

use contract::{RefundFailureReason, RefundStatus, UnixSeconds};

use super::{from_text, to_text, Store, Tx};

/// A refund as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RefundRow {
    /// Its place in the order refunds were asked for (0 until stored).
    pub seq: i64,
    pub id: String,
    pub intent_id: String,
    pub merchant_id: String,
    pub idempotency_key: Option<String>,
    pub request_fingerprint: Option<String>,
    pub amount_value: i64,
    pub currency: String,
    pub reason: Option<String>,
    pub status: String,
    pub failure_reason: Option<String>,
    pub automatic: bool,
    pub submitted_at: Option<i64>,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl RefundRow {
    /// The status, as the contract names it.
    pub fn status(&self) -> RefundStatus {
        from_text(&self.status).unwrap_or(RefundStatus::Unknown)
    }
}

/// What storing a refund found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundInserted {
    /// It is stored.
    Yes,
    /// Its idempotency key (or, for the server's own, its intent) made one
    /// before.
    KeyTaken,
}

impl Store {
    /// A refund by id, for the server's own work.
    pub async fn refund(&self, id: &str) -> Result<Option<RefundRow>, sqlx::Error> {
        on_reads!(self, |db| sqlx::query_as(
            "SELECT * FROM refunds WHERE id = $1"
        )
        .bind(id)
        .fetch_optional(db)
        .await)
    }

    /// A merchant's refund.
    pub async fn merchant_refund(
        &self,
        merchant_id: &str,
        id: &str,
    ) -> Result<Option<RefundRow>, sqlx::Error> {
        on_reads!(self, |db| sqlx::query_as(
            "SELECT * FROM refunds WHERE id = $1 AND merchant_id = $2"
        )
        .bind(id)
        .bind(merchant_id)
        .fetch_optional(db)
        .await)
    }

    /// The refund an intent's idempotency key made.
    pub async fn refund_by_key(
        &self,
        intent_id: &str,
        key: &str,
    ) -> Result<Option<RefundRow>, sqlx::Error> {
        on_reads!(self, |db| sqlx::query_as(
            "SELECT * FROM refunds WHERE intent_id = $1 AND idempotency_key = $2"
        )
        .bind(intent_id)
        .bind(key)
        .fetch_optional(db)
        .await)
    }

    /// An intent's refunds, oldest first.
    pub async fn refunds_of(&self, intent_id: &str) -> Result<Vec<RefundRow>, sqlx::Error> {
        on_reads!(self, |db| sqlx::query_as(
            "SELECT * FROM refunds WHERE intent_id = $1 ORDER BY seq"
        )
        .bind(intent_id)
        .fetch_all(db)
        .await)
    }

    /// The sum of an intent's refunds that succeeded.
    pub async fn refunded(&self, intent_id: &str) -> Result<i64, sqlx::Error> {
        on_reads!(self, |db| sqlx::query_scalar(
            "SELECT CAST(COALESCE(SUM(amount_value), 0) AS BIGINT) FROM refunds
             WHERE intent_id = $1 AND status = 'succeeded'",
        )
        .bind(intent_id)
        .fetch_one(db)
        .await)
    }

    /// Pending refunds due for a request or a question to their provider.
    pub async fn due_refunds(
        &self,
        now: UnixSeconds,
        limit: i64,
    ) -> Result<Vec<RefundRow>, sqlx::Error> {
        on_reads!(self, |db| sqlx::query_as(
            "SELECT * FROM refunds WHERE status = 'pending' AND next_attempt_at <= $1
             ORDER BY next_attempt_at LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(db)
        .await)
    }

    /// Takes on a pending refund's provider call until `until`; true if
    /// this call took it.
    pub async fn claim_refund(
        &self,
        id: &str,
        now: UnixSeconds,
        until: UnixSeconds,
    ) -> Result<bool, sqlx::Error> {
        let claimed = on_writes!(self, |db| sqlx::query(
            "UPDATE refunds SET next_attempt_at = $1
             WHERE id = $2 AND status = 'pending' AND next_attempt_at <= $3",
        )
        .bind(until)
        .bind(id)
        .bind(now)
        .execute(db)
        .await
        .map(|done| done.rows_affected()))?;
        Ok(claimed == 1)
    }

    /// The provider has the refund request (or answered about it): ask
    /// again at `next` if it has not ended by then.
    pub async fn refund_submitted(
        &self,
        id: &str,
        next: UnixSeconds,
        now: UnixSeconds,
    ) -> Result<(), sqlx::Error> {
        on_writes!(self, |db| sqlx::query(
            "UPDATE refunds SET submitted_at = COALESCE(submitted_at, $1), attempts = attempts + 1,
                next_attempt_at = $2, updated_at = $3
             WHERE id = $4 AND status = 'pending'",
        )
        .bind(now)
        .bind(next)
        .bind(now)
        .bind(id)
        .execute(db)
        .await
        .map(|done| done.rows_affected()))
        .map(drop)
    }

    /// The provider does not have a refund it was asked for: ask for it
    /// again at `next`.
    pub async fn unsubmit_refund(&self, id: &str, next: UnixSeconds) -> Result<(), sqlx::Error> {
        on_writes!(self, |db| sqlx::query(
            "UPDATE refunds SET submitted_at = NULL, attempts = attempts + 1, next_attempt_at = $1
             WHERE id = $2 AND status = 'pending'",
        )
        .bind(next)
        .bind(id)
        .execute(db)
        .await
        .map(|done| done.rows_affected()))
        .map(drop)
    }

    /// A provider call about a refund failed: try again at `next`.
    pub async fn refund_trouble(&self, id: &str, next: UnixSeconds) -> Result<(), sqlx::Error> {
        on_writes!(self, |db| sqlx::query(
            "UPDATE refunds SET attempts = attempts + 1, next_attempt_at = $1
             WHERE id = $2 AND status = 'pending'",
        )
        .bind(next)
        .bind(id)
        .execute(db)
        .await
        .map(|done| done.rows_affected()))
        .map(drop)
    }

    /// How many refunds wait for their provider, for the metrics.
    pub async fn pending_refunds(&self) -> Result<i64, sqlx::Error> {
        on_reads!(self, |db| sqlx::query_scalar(
            "SELECT COUNT(*) FROM refunds WHERE status = 'pending'"
        )
        .fetch_one(db)
        .await)
    }
}

impl Tx {
    /// Holds the intent's row until the transaction ends, so that sums of
    /// its refunds are taken one transaction after the other: two refunds
    /// asked at once (of two servers) cannot both fit in what is left, and
    /// two that succeed at once cannot each miss the other.
    async fn hold_intent(&mut self, intent_id: &str) -> Result<(), sqlx::Error> {
        let lock = self.lock_rows();
        in_tx!(self, |db| sqlx::query(&format!(
            "SELECT id FROM payment_intents WHERE id = $1{lock}"
        ))
        .bind(intent_id)
        .execute(db)
        .await
        .map(drop))
    }

    /// What refunds already hold of an intent's payment: those that
    /// succeeded or are under way, and the abnormal ones (their money has
    /// left the merchant's balance; the provider holds it until the
    /// merchant settles it there).
    pub async fn refunds_held(&mut self, intent_id: &str) -> Result<i64, sqlx::Error> {
        self.hold_intent(intent_id).await?;
        in_tx!(self, |db| sqlx::query_scalar(
            "SELECT CAST(COALESCE(SUM(amount_value), 0) AS BIGINT) FROM refunds
             WHERE intent_id = $1
               AND (status IN ('pending', 'succeeded')
                    OR (status = 'failed' AND failure_reason = 'abnormal'))",
        )
        .bind(intent_id)
        .fetch_one(db)
        .await)
    }

    /// The sum of an intent's refunds that succeeded.
    pub async fn refunded(&mut self, intent_id: &str) -> Result<i64, sqlx::Error> {
        self.hold_intent(intent_id).await?;
        in_tx!(self, |db| sqlx::query_scalar(
            "SELECT CAST(COALESCE(SUM(amount_value), 0) AS BIGINT) FROM refunds
             WHERE intent_id = $1 AND status = 'succeeded'",
        )
        .bind(intent_id)
        .fetch_one(db)
        .await)
    }

    /// Stores a refund, unless its key (or the intent's automatic refund)
    /// is taken.
    pub async fn insert_refund(&mut self, row: &RefundRow) -> Result<RefundInserted, sqlx::Error> {
        let inserted = in_tx!(self, |db| {
            sqlx::query(
            "INSERT INTO refunds (id, intent_id, merchant_id, idempotency_key, request_fingerprint,
                amount_value, currency, reason, status, failure_reason, automatic, submitted_at,
                attempts, next_attempt_at, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, $10, NULL, 0, $11, $12, $13)
             ON CONFLICT DO NOTHING",
        )
        .bind(&row.id)
        .bind(&row.intent_id)
        .bind(&row.merchant_id)
        .bind(&row.idempotency_key)
        .bind(&row.request_fingerprint)
        .bind(row.amount_value)
        .bind(&row.currency)
        .bind(&row.reason)
        .bind(&row.status)
        .bind(row.automatic)
        .bind(row.next_attempt_at)
        .bind(row.created_at)
        .bind(row.updated_at)
        .execute(db).await.map(|done| done.rows_affected())
        })?;
        Ok(if inserted == 1 {
            RefundInserted::Yes
        } else {
            RefundInserted::KeyTaken
        })
    }

    /// Ends a pending refund (or an abnormal one that the merchant has
    /// since settled with the provider: it succeeds); false if it had
    /// ended already.
    pub async fn finish_refund(
        &mut self,
        id: &str,
        to: RefundStatus,
        reason: Option<RefundFailureReason>,
        now: UnixSeconds,
    ) -> Result<bool, sqlx::Error> {
        let finished = in_tx!(self, |db| sqlx::query(
            "UPDATE refunds SET status = $1, failure_reason = $2, updated_at = $3
             WHERE id = $4
               AND (status = 'pending'
                    OR ($5 = 'succeeded' AND status = 'failed' AND failure_reason = 'abnormal'))",
        )
        .bind(to.as_str())
        .bind(reason.map(|reason| to_text(&reason)))
        .bind(now)
        .bind(id)
        .bind(to.as_str())
        .execute(db)
        .await
        .map(|done| done.rows_affected()))?;
        Ok(finished == 1)
    }

    /// A refund, read inside the transaction.
    pub async fn refund(&mut self, id: &str) -> Result<RefundRow, sqlx::Error> {
        in_tx!(self, |db| sqlx::query_as(
            "SELECT * FROM refunds WHERE id = $1"
        )
        .bind(id)
        .fetch_one(db)
        .await)
    }
}
