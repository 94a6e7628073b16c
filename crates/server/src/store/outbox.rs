//! What the server owes others, written in the transaction of the change
//! that causes it: webhook events for merchants (kept, and readable, for
//! every merchant), provider calls that must happen, and the provider
//! notifications received.

use contract::{EventType, UnixSeconds};

use super::{Store, Tx};

/// A webhook event, delivered or not.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventRow {
    pub seq: i64,
    pub id: String,
    pub merchant_id: String,
    #[sqlx(rename = "type")]
    pub kind: String,
    pub payload: String,
    pub created_at: i64,
    pub attempts: i64,
    /// `None`: not to be delivered (no endpoint, or given up).
    pub next_attempt_at: Option<i64>,
    pub delivered_at: Option<i64>,
    pub last_error: Option<String>,
}

/// A provider call that must happen.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct JobRow {
    pub id: String,
    pub intent_id: String,
    pub kind: String,
    pub attempts: i64,
}

/// How much waits in an outbox, for the metrics.
#[derive(Debug, Clone, Copy, Default)]
pub struct OutboxDepth {
    /// Rows waiting.
    pub waiting: i64,
    /// When the oldest of them was written.
    pub oldest: Option<UnixSeconds>,
}

impl Store {
    /// Webhook events due for delivery, the oldest `per_merchant` of each
    /// merchant at most (so that one merchant's backlog never fills the
    /// page), `limit` in all.
    pub async fn due_events(
        &self,
        now: UnixSeconds,
        per_merchant: i64,
        limit: i64,
    ) -> Result<Vec<EventRow>, sqlx::Error> {
        on_reads!(self, |db| sqlx::query_as(
            "SELECT seq, id, merchant_id, type, payload, created_at, attempts, next_attempt_at,
                    delivered_at, last_error
             FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY merchant_id
                                               ORDER BY next_attempt_at, seq) AS place
                   FROM webhook_events
                   WHERE delivered_at IS NULL AND next_attempt_at IS NOT NULL
                     AND next_attempt_at <= $1) AS due
             WHERE place <= $2
             ORDER BY next_attempt_at, seq LIMIT $3",
        )
        .bind(now)
        .bind(per_merchant)
        .bind(limit)
        .fetch_all(db)
        .await)
    }

    /// Takes on an event's delivery until `until`; true if this call took
    /// it.
    pub async fn claim_event(
        &self,
        id: &str,
        now: UnixSeconds,
        until: UnixSeconds,
    ) -> Result<bool, sqlx::Error> {
        let claimed = on_writes!(self, |db| sqlx::query(
            "UPDATE webhook_events SET next_attempt_at = $1
             WHERE id = $2 AND delivered_at IS NULL AND next_attempt_at <= $3",
        )
        .bind(until)
        .bind(id)
        .bind(now)
        .execute(db)
        .await
        .map(|done| done.rows_affected()))?;
        Ok(claimed == 1)
    }

    /// A delivered event.
    pub async fn event_delivered(&self, id: &str, now: UnixSeconds) -> Result<(), sqlx::Error> {
        on_writes!(self, |db| sqlx::query(
            "UPDATE webhook_events SET delivered_at = $1, attempts = attempts + 1 WHERE id = $2",
        )
        .bind(now)
        .bind(id)
        .execute(db)
        .await
        .map(|done| done.rows_affected()))
        .map(drop)
    }

    /// An event whose delivery failed, to be tried again at `next` (never,
    /// when `None`).
    pub async fn event_failed(
        &self,
        id: &str,
        next: Option<UnixSeconds>,
        error: &str,
    ) -> Result<(), sqlx::Error> {
        on_writes!(self, |db| sqlx::query(
            "UPDATE webhook_events SET attempts = attempts + 1, next_attempt_at = $1, last_error = $2
             WHERE id = $3",
        )
        .bind(next)
        .bind(error)
        .bind(id)
        .execute(db).await.map(|done| done.rows_affected()))
        .map(drop)
    }

    /// The place of a merchant's event in its sequence.
    pub async fn event_seq(&self, merchant_id: &str, id: &str) -> Result<Option<i64>, sqlx::Error> {
        on_reads!(self, |db| sqlx::query_scalar(
            "SELECT seq FROM webhook_events WHERE id = $1 AND merchant_id = $2"
        )
        .bind(id)
        .bind(merchant_id)
        .fetch_optional(db)
        .await)
    }

    /// A merchant's events after `after` in its sequence, oldest first.
    pub async fn merchant_events(
        &self,
        merchant_id: &str,
        after: i64,
        limit: i64,
    ) -> Result<Vec<EventRow>, sqlx::Error> {
        on_reads!(self, |db| sqlx::query_as(
            "SELECT * FROM webhook_events WHERE merchant_id = $1 AND seq > $2
             ORDER BY seq LIMIT $3",
        )
        .bind(merchant_id)
        .bind(after)
        .bind(limit)
        .fetch_all(db)
        .await)
    }

    /// Events waiting for delivery.
    pub async fn webhook_depth(&self) -> Result<OutboxDepth, sqlx::Error> {
        let (waiting, oldest) = on_reads!(self, |db| sqlx::query_as(
            "SELECT COUNT(*), MIN(created_at) FROM webhook_events
             WHERE delivered_at IS NULL AND next_attempt_at IS NOT NULL",
        )
        .fetch_one(db)
        .await)?;
        Ok(OutboxDepth { waiting, oldest })
    }

    /// Provider calls waiting to be done.
    pub async fn job_depth(&self) -> Result<OutboxDepth, sqlx::Error> {
        let (waiting, oldest) = on_reads!(self, |db| sqlx::query_as(
            "SELECT COUNT(*), MIN(COALESCE(created_at, next_attempt_at)) FROM provider_jobs
             WHERE done_at IS NULL",
        )
        .fetch_one(db)
        .await)?;
        Ok(OutboxDepth { waiting, oldest })
    }

    /// Provider calls due.
    pub async fn due_jobs(&self, now: UnixSeconds, limit: i64) -> Result<Vec<JobRow>, sqlx::Error> {
        on_reads!(self, |db| sqlx::query_as(
            "SELECT id, intent_id, kind, attempts FROM provider_jobs
             WHERE done_at IS NULL AND next_attempt_at <= $1 ORDER BY next_attempt_at LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(db)
        .await)
    }

    /// Takes on a provider call until `until`; true if this call took it.
    pub async fn claim_job(
        &self,
        id: &str,
        now: UnixSeconds,
        until: UnixSeconds,
    ) -> Result<bool, sqlx::Error> {
        let claimed = on_writes!(self, |db| sqlx::query(
            "UPDATE provider_jobs SET next_attempt_at = $1
             WHERE id = $2 AND done_at IS NULL AND next_attempt_at <= $3",
        )
        .bind(until)
        .bind(id)
        .bind(now)
        .execute(db)
        .await
        .map(|done| done.rows_affected()))?;
        Ok(claimed == 1)
    }

    /// A provider call done (or given up, with its `error`).
    pub async fn job_done(
        &self,
        id: &str,
        now: UnixSeconds,
        error: Option<&str>,
    ) -> Result<(), sqlx::Error> {
        on_writes!(self, |db| sqlx::query(
            "UPDATE provider_jobs SET done_at = $1, attempts = attempts + 1,
                last_error = COALESCE($2, last_error)
             WHERE id = $3",
        )
        .bind(now)
        .bind(error)
        .bind(id)
        .execute(db)
        .await
        .map(|done| done.rows_affected()))
        .map(drop)
    }

    /// A provider call that failed, to be tried again at `next`.
    pub async fn job_failed(
        &self,
        id: &str,
        next: UnixSeconds,
        error: &str,
    ) -> Result<(), sqlx::Error> {
        on_writes!(self, |db| {
            sqlx::query(
            "UPDATE provider_jobs SET attempts = attempts + 1, next_attempt_at = $1, last_error = $2
             WHERE id = $3",
        )
        .bind(next)
        .bind(error)
        .bind(id)
        .execute(db).await.map(|done| done.rows_affected())
        })
        .map(drop)
    }

    /// Records a notification's id once; false if it was seen before.
    pub async fn record_notification(
        &self,
        provider: &str,
        id: &str,
        out_trade_no: &str,
        outcome: &str,
        body: &str,
        now: UnixSeconds,
    ) -> Result<bool, sqlx::Error> {
        let recorded = on_writes!(self, |db| {
            sqlx::query(
            "INSERT INTO provider_notifications (provider, id, out_trade_no, outcome, body, received_at)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        )
        .bind(provider)
        .bind(id)
        .bind(out_trade_no)
        .bind(outcome)
        .bind(body)
        .bind(now)
        .execute(db).await.map(|done| done.rows_affected())
        })?;
        Ok(recorded == 1)
    }
}

impl Tx {
    /// Queues closing an intent's order with its provider, retried until
    /// done.
    pub async fn queue_close(
        &mut self,
        intent_id: &str,
        now: UnixSeconds,
    ) -> Result<(), sqlx::Error> {
        in_tx!(self, |db| sqlx::query(
            "INSERT INTO provider_jobs (id, intent_id, kind, attempts, next_attempt_at, created_at)
             VALUES ($1, $2, 'close', 0, $3, $4)",
        )
        .bind(crate::auth::random_id("job"))
        .bind(intent_id)
        .bind(now)
        .bind(now)
        .execute(db)
        .await
        .map(|done| done.rows_affected()))
        .map(drop)
    }

    /// Writes an event: to the outbox when `deliver` (the merchant has an
    /// endpoint), and for the merchant to read in any case.
    pub async fn queue_event(
        &mut self,
        id: &str,
        merchant_id: &str,
        kind: EventType,
        payload: &str,
        now: UnixSeconds,
        deliver: bool,
    ) -> Result<(), sqlx::Error> {
        // A merchant reads its events after the last `seq` it saw, so seq
        // order must be commit order. PostgreSQL numbers a row when it is
        // inserted, not when it commits: events of one merchant are written
        // one transaction at a time (the lock is held until commit). SQLite
        // has one writer at a time already.
        if let super::Open::Postgres(transaction) = &mut self.0 {
            sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                .bind(merchant_id)
                .execute(&mut **transaction)
                .await?;
        }
        in_tx!(self, |db| sqlx::query(
            "INSERT INTO webhook_events (id, merchant_id, type, payload, created_at, attempts,
                next_attempt_at)
             VALUES ($1, $2, $3, $4, $5, 0, $6)",
        )
        .bind(id)
        .bind(merchant_id)
        .bind(kind.as_str())
        .bind(payload)
        .bind(now)
        .bind(deliver.then_some(now))
        .execute(db)
        .await
        .map(|done| done.rows_affected()))
        .map(drop)
    }
}
