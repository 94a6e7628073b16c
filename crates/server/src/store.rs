//! Everything the server keeps, in SQLite through sqlx's runtime queries
//! (no compile-time database), with its schema from `migrations/`. Writes
//! go through one connection, so writers queue in the process instead of
//! sleeping in SQLite's busy handler; reads use a pool beside it (WAL).
//! Money is 64-bit minor units; times are 64-bit Unix seconds.

use std::path::Path;
use std::time::Duration;

use contract::{EventType, FailureReason, IntentStatus, SessionStatus, UnixSeconds};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite, Transaction};

/// The database.
#[derive(Clone)]
pub struct Store {
    reads: SqlitePool,
    writes: SqlitePool,
}

/// A checkout session as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRow {
    pub id: String,
    pub merchant_id: String,
    pub amount_value: i64,
    pub currency: String,
    pub reference: String,
    pub return_url: String,
    pub client_secret_hash: String,
    pub status: String,
    pub expires_at: i64,
    pub created_at: i64,
    pub completed_at: Option<i64>,
    pub paid_intent_id: Option<String>,
}

impl SessionRow {
    /// The status, as the contract names it.
    pub fn status(&self) -> SessionStatus {
        match self.status.as_str() {
            "open" => SessionStatus::Open,
            "completed" => SessionStatus::Completed,
            "expired" => SessionStatus::Expired,
            _ => SessionStatus::Unknown,
        }
    }
}

/// A payment intent as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct IntentRow {
    pub id: String,
    pub session_id: String,
    pub idempotency_key: String,
    pub request_fingerprint: String,
    pub method: String,
    pub flow: String,
    pub amount_value: i64,
    pub currency: String,
    pub status: String,
    pub failure_reason: Option<String>,
    pub expires_at: i64,
    pub next_action: Option<String>,
    pub next_action_expires_at: Option<i64>,
    pub payer_ip: Option<String>,
    pub payer_id: Option<String>,
    pub transaction_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub last_queried_at: Option<i64>,
}

impl IntentRow {
    /// The status, as the contract names it.
    pub fn status(&self) -> IntentStatus {
        from_text(&self.status).unwrap_or(IntentStatus::Unknown)
    }
}

/// A webhook event waiting for, or past, delivery.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventRow {
    pub id: String,
    pub merchant_id: String,
    #[sqlx(rename = "type")]
    pub kind: String,
    pub payload: String,
    pub created_at: i64,
    pub attempts: i64,
    pub next_attempt_at: i64,
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

/// What inserting a new intent found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    /// It is stored.
    Yes,
    /// Another request used this idempotency key first.
    KeyTaken,
    /// The session has another payable intent.
    SessionBusy,
    /// The session is paid or expired.
    SessionClosed,
}

/// What recording a payment found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    /// It completed its session.
    Completed,
    /// Its session was already paid (or gone): it must be refunded.
    RequiresRefund,
    /// It was recorded before.
    AlreadyRecorded,
}

/// A value's serde name as stored text (`"requires_action"`).
pub fn to_text<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(text)) => text,
        other => other.map(|v| v.to_string()).unwrap_or_default(),
    }
}

/// Stored text back into a value.
pub fn from_text<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, sqlx::Error> {
    serde_json::from_value(serde_json::Value::String(text.to_owned()))
        .map_err(|error| sqlx::Error::Decode(format!("bad stored value {text:?}: {error}").into()))
}

const OPEN: &str = "('requires_action', 'processing')";

impl Store {
    /// Opens (creating if needed) the SQLite file and migrates its schema.
    pub async fn open(path: &Path) -> Result<Store, sqlx::Error> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // Every commit is on disk before it is answered: a payment
            // recorded is a payment kept, through a power cut.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let writes = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("./migrations").run(&writes).await?;
        let reads = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        Ok(Store { reads, writes })
    }

    /// A write transaction (the only writer at a time).
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        Ok(Tx(self.writes.begin().await?))
    }

    /// Stores a new session.
    pub async fn insert_session(&self, row: &SessionRow) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO checkout_sessions (id, merchant_id, amount_value, currency, reference,
                return_url, client_secret_hash, status, expires_at, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&row.id)
        .bind(&row.merchant_id)
        .bind(row.amount_value)
        .bind(&row.currency)
        .bind(&row.reference)
        .bind(&row.return_url)
        .bind(&row.client_secret_hash)
        .bind(&row.status)
        .bind(row.expires_at)
        .bind(row.created_at)
        .execute(&self.writes)
        .await
        .map(drop)
    }

    /// A session by id.
    pub async fn session(&self, id: &str) -> Result<Option<SessionRow>, sqlx::Error> {
        sqlx::query_as("SELECT * FROM checkout_sessions WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.reads)
            .await
    }

    /// An intent by id.
    pub async fn intent(&self, id: &str) -> Result<Option<IntentRow>, sqlx::Error> {
        sqlx::query_as("SELECT * FROM payment_intents WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.reads)
            .await
    }

    /// The intent a session's idempotency key made.
    pub async fn intent_by_key(
        &self,
        session_id: &str,
        key: &str,
    ) -> Result<Option<IntentRow>, sqlx::Error> {
        sqlx::query_as("SELECT * FROM payment_intents WHERE session_id = ? AND idempotency_key = ?")
            .bind(session_id)
            .bind(key)
            .fetch_optional(&self.reads)
            .await
    }

    /// The session's payable intent, if it has one.
    pub async fn open_intent(&self, session_id: &str) -> Result<Option<IntentRow>, sqlx::Error> {
        sqlx::query_as(&format!(
            "SELECT * FROM payment_intents WHERE session_id = ? AND status IN {OPEN}"
        ))
        .bind(session_id)
        .fetch_optional(&self.reads)
        .await
    }

    /// The payer id an earlier intent of the session learned (WeChat's
    /// openid: the shopper authorises once per session).
    pub async fn payer_of_session(&self, session_id: &str) -> Result<Option<String>, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT payer_id FROM payment_intents WHERE session_id = ? AND payer_id IS NOT NULL LIMIT 1",
        )
        .bind(session_id)
        .fetch_optional(&self.reads)
        .await
    }

    /// Payable intents whose time is up.
    pub async fn due_intents(
        &self,
        now: UnixSeconds,
        limit: i64,
    ) -> Result<Vec<IntentRow>, sqlx::Error> {
        sqlx::query_as(&format!(
            "SELECT * FROM payment_intents WHERE status IN {OPEN} AND expires_at <= ?
             ORDER BY expires_at LIMIT ?"
        ))
        .bind(now)
        .bind(limit)
        .fetch_all(&self.reads)
        .await
    }

    /// Payable intents that have not been asked about since `before`,
    /// oldest first.
    pub async fn unasked_intents(
        &self,
        before: UnixSeconds,
        limit: i64,
    ) -> Result<Vec<IntentRow>, sqlx::Error> {
        sqlx::query_as(&format!(
            "SELECT * FROM payment_intents WHERE status IN {OPEN}
               AND COALESCE(last_queried_at, created_at) < ?
             ORDER BY COALESCE(last_queried_at, created_at) LIMIT ?"
        ))
        .bind(before)
        .bind(limit)
        .fetch_all(&self.reads)
        .await
    }

    /// Open sessions whose time is up.
    pub async fn due_sessions(
        &self,
        now: UnixSeconds,
        limit: i64,
    ) -> Result<Vec<SessionRow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT * FROM checkout_sessions WHERE status = 'open' AND expires_at <= ?
             ORDER BY expires_at LIMIT ?",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(&self.reads)
        .await
    }

    /// Webhook events due for delivery.
    pub async fn due_events(
        &self,
        now: UnixSeconds,
        limit: i64,
    ) -> Result<Vec<EventRow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT * FROM webhook_events WHERE delivered_at IS NULL AND next_attempt_at <= ?
             ORDER BY next_attempt_at LIMIT ?",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(&self.reads)
        .await
    }

    /// Provider calls due.
    pub async fn due_jobs(&self, now: UnixSeconds, limit: i64) -> Result<Vec<JobRow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT id, intent_id, kind, attempts FROM provider_jobs
             WHERE done_at IS NULL AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(&self.reads)
        .await
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
        let recorded = sqlx::query(
            "INSERT INTO provider_notifications (provider, id, out_trade_no, outcome, body, received_at)
             VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        )
        .bind(provider)
        .bind(id)
        .bind(out_trade_no)
        .bind(outcome)
        .bind(body)
        .bind(now)
        .execute(&self.writes)
        .await?;
        Ok(recorded.rows_affected() == 1)
    }

    /// Notes that the provider was asked about an intent.
    pub async fn mark_queried(&self, intent_id: &str, now: UnixSeconds) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE payment_intents SET last_queried_at = ? WHERE id = ?")
            .bind(now)
            .bind(intent_id)
            .execute(&self.writes)
            .await
            .map(drop)
    }

    /// A delivered event.
    pub async fn event_delivered(&self, id: &str, now: UnixSeconds) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE webhook_events SET delivered_at = ?, attempts = attempts + 1 WHERE id = ?",
        )
        .bind(now)
        .bind(id)
        .execute(&self.writes)
        .await
        .map(drop)
    }

    /// An event whose delivery failed, to be tried again at `next`.
    pub async fn event_failed(
        &self,
        id: &str,
        next: UnixSeconds,
        error: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE webhook_events SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?
             WHERE id = ?",
        )
        .bind(next)
        .bind(error)
        .bind(id)
        .execute(&self.writes)
        .await
        .map(drop)
    }

    /// A provider call done.
    pub async fn job_done(&self, id: &str, now: UnixSeconds) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE provider_jobs SET done_at = ?, attempts = attempts + 1 WHERE id = ?")
            .bind(now)
            .bind(id)
            .execute(&self.writes)
            .await
            .map(drop)
    }

    /// A provider call that failed, to be tried again at `next`.
    pub async fn job_failed(
        &self,
        id: &str,
        next: UnixSeconds,
        error: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE provider_jobs SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?
             WHERE id = ?",
        )
        .bind(next)
        .bind(error)
        .bind(id)
        .execute(&self.writes)
        .await
        .map(drop)
    }

    /// Records what the provider handed the shopper (a fresh H5 URL, the
    /// JSAPI arguments once the payer is known).
    pub async fn set_next_action(
        &self,
        id: &str,
        next_action: &str,
        expires_at: Option<UnixSeconds>,
        now: UnixSeconds,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE payment_intents SET next_action = ?, next_action_expires_at = ?, updated_at = ?
             WHERE id = ?",
        )
        .bind(next_action)
        .bind(expires_at)
        .bind(now)
        .bind(id)
        .execute(&self.writes)
        .await
        .map(drop)
    }

    /// Lets a repeated request take over an intent whose hand-off was not
    /// got (its first request gave up); true if this call took it.
    pub async fn take_over(&self, id: &str, now: UnixSeconds) -> Result<bool, sqlx::Error> {
        let taken = sqlx::query(
            "UPDATE payment_intents SET updated_at = ?
             WHERE id = ? AND next_action IS NULL AND status = 'requires_action' AND updated_at < ?",
        )
        .bind(now)
        .bind(id)
        .bind(now - 1)
        .execute(&self.writes)
        .await?;
        Ok(taken.rows_affected() == 1)
    }

    /// Marks an intent's hand-off as free for the next request to get.
    pub async fn release(&self, id: &str) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE payment_intents SET updated_at = 0 WHERE id = ? AND next_action IS NULL",
        )
        .bind(id)
        .execute(&self.writes)
        .await
        .map(drop)
    }

    /// Records the payer's id in the wallet (WeChat's openid).
    pub async fn set_payer_id(
        &self,
        id: &str,
        payer_id: &str,
        now: UnixSeconds,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE payment_intents SET payer_id = ?, updated_at = ? WHERE id = ?")
            .bind(payer_id)
            .bind(now)
            .bind(id)
            .execute(&self.writes)
            .await
            .map(drop)
    }
}

/// One write transaction: the changes and the events and provider calls
/// they cause commit together, or not at all.
pub struct Tx(Transaction<'static, Sqlite>);

impl Tx {
    /// Makes it all durable.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.0.commit().await
    }

    /// Stores a new payable intent unless its key was used, the session has
    /// another payable intent, or the session is paid or expired.
    pub async fn insert_intent(&mut self, row: &IntentRow) -> Result<Inserted, sqlx::Error> {
        let session: Option<(String,)> =
            sqlx::query_as("SELECT status FROM checkout_sessions WHERE id = ?")
                .bind(&row.session_id)
                .fetch_optional(&mut *self.0)
                .await?;
        if session.is_none_or(|(status,)| status != "open") {
            return Ok(Inserted::SessionClosed);
        }
        let inserted = sqlx::query(
            "INSERT INTO payment_intents (id, session_id, idempotency_key, request_fingerprint,
                method, flow, amount_value, currency, status, failure_reason, expires_at,
                next_action, next_action_expires_at, payer_ip, payer_id, transaction_id,
                created_at, updated_at, last_queried_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, NULL, ?, ?, NULL)
             ON CONFLICT DO NOTHING",
        )
        .bind(&row.id)
        .bind(&row.session_id)
        .bind(&row.idempotency_key)
        .bind(&row.request_fingerprint)
        .bind(&row.method)
        .bind(&row.flow)
        .bind(row.amount_value)
        .bind(&row.currency)
        .bind(&row.status)
        .bind(row.expires_at)
        .bind(&row.next_action)
        .bind(row.next_action_expires_at)
        .bind(&row.payer_ip)
        .bind(&row.payer_id)
        .bind(row.created_at)
        .bind(row.updated_at)
        .execute(&mut *self.0)
        .await?;
        if inserted.rows_affected() == 1 {
            return Ok(Inserted::Yes);
        }
        let key_taken: Option<(String,)> = sqlx::query_as(
            "SELECT id FROM payment_intents WHERE session_id = ? AND idempotency_key = ?",
        )
        .bind(&row.session_id)
        .bind(&row.idempotency_key)
        .fetch_optional(&mut *self.0)
        .await?;
        Ok(if key_taken.is_some() {
            Inserted::KeyTaken
        } else {
            Inserted::SessionBusy
        })
    }

    /// Ends a payable intent with `to` (and `reason`); false if it was no
    /// longer payable.
    pub async fn finish(
        &mut self,
        id: &str,
        to: IntentStatus,
        reason: Option<FailureReason>,
        now: UnixSeconds,
    ) -> Result<bool, sqlx::Error> {
        let finished = sqlx::query(&format!(
            "UPDATE payment_intents SET status = ?, failure_reason = ?, next_action = NULL,
                updated_at = ?
             WHERE id = ? AND status IN {OPEN}"
        ))
        .bind(to.as_str())
        .bind(reason.map(|reason| to_text(&reason)))
        .bind(now)
        .bind(id)
        .execute(&mut *self.0)
        .await?;
        Ok(finished.rows_affected() == 1)
    }

    /// Records a payment of `intent_id`. The session is completed by the
    /// same conditional write, so two payments cannot both complete it:
    /// the second is kept as `requires_refund`. The session's other
    /// payable intents are canceled, and their closing with the provider
    /// queued.
    pub async fn record_payment(
        &mut self,
        intent_id: &str,
        transaction_id: &str,
        now: UnixSeconds,
    ) -> Result<(Settled, IntentRow), sqlx::Error> {
        let intent = self.intent(intent_id).await?;
        if matches!(
            intent.status(),
            IntentStatus::Succeeded | IntentStatus::RequiresRefund
        ) {
            return Ok((Settled::AlreadyRecorded, intent));
        }
        let completed = sqlx::query(
            "UPDATE checkout_sessions SET status = 'completed', completed_at = ?, paid_intent_id = ?
             WHERE id = ? AND status = 'open'",
        )
        .bind(now)
        .bind(intent_id)
        .bind(&intent.session_id)
        .execute(&mut *self.0)
        .await?
        .rows_affected()
            == 1;
        let (settled, status) = if completed {
            (Settled::Completed, IntentStatus::Succeeded)
        } else {
            (Settled::RequiresRefund, IntentStatus::RequiresRefund)
        };
        sqlx::query(
            "UPDATE payment_intents SET status = ?, failure_reason = NULL, next_action = NULL,
                transaction_id = ?, updated_at = ?
             WHERE id = ?",
        )
        .bind(status.as_str())
        .bind(transaction_id)
        .bind(now)
        .bind(intent_id)
        .execute(&mut *self.0)
        .await?;
        if completed {
            let others: Vec<(String,)> = sqlx::query_as(&format!(
                "SELECT id FROM payment_intents WHERE session_id = ? AND id != ? AND status IN {OPEN}"
            ))
            .bind(&intent.session_id)
            .bind(intent_id)
            .fetch_all(&mut *self.0)
            .await?;
            for (other,) in others {
                self.finish(&other, IntentStatus::Canceled, None, now)
                    .await?;
                self.queue_close(&other, now).await?;
            }
        }
        Ok((settled, self.intent(intent_id).await?))
    }

    /// Queues closing an intent's order with its provider, retried until
    /// done.
    pub async fn queue_close(
        &mut self,
        intent_id: &str,
        now: UnixSeconds,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO provider_jobs (id, intent_id, kind, attempts, next_attempt_at)
             VALUES (?, ?, 'close', 0, ?)",
        )
        .bind(crate::auth::random_id("job"))
        .bind(intent_id)
        .bind(now)
        .execute(&mut *self.0)
        .await
        .map(drop)
    }

    /// Marks a session expired if it is still open; true if it was.
    pub async fn expire_session(&mut self, id: &str) -> Result<bool, sqlx::Error> {
        let expired = sqlx::query(
            "UPDATE checkout_sessions SET status = 'expired' WHERE id = ? AND status = 'open'",
        )
        .bind(id)
        .execute(&mut *self.0)
        .await?;
        Ok(expired.rows_affected() == 1)
    }

    /// A session, read inside the transaction.
    pub async fn session(&mut self, id: &str) -> Result<SessionRow, sqlx::Error> {
        sqlx::query_as("SELECT * FROM checkout_sessions WHERE id = ?")
            .bind(id)
            .fetch_one(&mut *self.0)
            .await
    }

    /// An intent, read inside the transaction.
    pub async fn intent(&mut self, id: &str) -> Result<IntentRow, sqlx::Error> {
        sqlx::query_as("SELECT * FROM payment_intents WHERE id = ?")
            .bind(id)
            .fetch_one(&mut *self.0)
            .await
    }

    /// Writes a webhook event to the outbox.
    pub async fn queue_event(
        &mut self,
        id: &str,
        merchant_id: &str,
        kind: EventType,
        payload: &str,
        now: UnixSeconds,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO webhook_events (id, merchant_id, type, payload, created_at, attempts,
                next_attempt_at)
             VALUES (?, ?, ?, ?, ?, 0, ?)",
        )
        .bind(id)
        .bind(merchant_id)
        .bind(kind.as_str())
        .bind(payload)
        .bind(now)
        .bind(now)
        .execute(&mut *self.0)
        .await
        .map(drop)
    }
}
