//! Checkout sessions.

use contract::{SessionStatus, UnixSeconds};

use super::{Store, Tx, OPEN};

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
    /// The merchant's `Idempotency-Key`, when it sent one.
    pub idempotency_key: Option<String>,
    /// The request that key made it with.
    pub request_fingerprint: Option<String>,
    /// The client secret, sealed for a repeat of the keyed request.
    pub client_secret_sealed: Option<String>,
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

/// What inserting a session found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionInserted {
    /// It is stored.
    Yes,
    /// The merchant used its idempotency key before.
    KeyTaken,
}

impl Store {
    /// Stores a new session, unless the merchant's key made one before.
    pub async fn insert_session(&self, row: &SessionRow) -> Result<SessionInserted, sqlx::Error> {
        let inserted = on_writes!(self, |db| sqlx::query(
            "INSERT INTO checkout_sessions (id, merchant_id, amount_value, currency, reference,
                return_url, client_secret_hash, status, expires_at, created_at, idempotency_key,
                request_fingerprint, client_secret_sealed)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
             ON CONFLICT (merchant_id, idempotency_key) WHERE idempotency_key IS NOT NULL
             DO NOTHING",
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
        .bind(&row.idempotency_key)
        .bind(&row.request_fingerprint)
        .bind(&row.client_secret_sealed)
        .execute(db)
        .await
        .map(|done| done.rows_affected()))?;
        Ok(if inserted == 1 {
            SessionInserted::Yes
        } else {
            SessionInserted::KeyTaken
        })
    }

    /// A session by id, for the server's own work and for checking a
    /// client secret against it.
    pub async fn session(&self, id: &str) -> Result<Option<SessionRow>, sqlx::Error> {
        on_reads!(self, |db| sqlx::query_as(
            "SELECT * FROM checkout_sessions WHERE id = $1"
        )
        .bind(id)
        .fetch_optional(db)
        .await)
    }

    /// A merchant's session.
    pub async fn merchant_session(
        &self,
        merchant_id: &str,
        id: &str,
    ) -> Result<Option<SessionRow>, sqlx::Error> {
        on_reads!(self, |db| sqlx::query_as(
            "SELECT * FROM checkout_sessions WHERE id = $1 AND merchant_id = $2"
        )
        .bind(id)
        .bind(merchant_id)
        .fetch_optional(db)
        .await)
    }

    /// The session a merchant's idempotency key made.
    pub async fn session_by_key(
        &self,
        merchant_id: &str,
        key: &str,
    ) -> Result<Option<SessionRow>, sqlx::Error> {
        on_reads!(self, |db| sqlx::query_as(
            "SELECT * FROM checkout_sessions WHERE merchant_id = $1 AND idempotency_key = $2",
        )
        .bind(merchant_id)
        .bind(key)
        .fetch_optional(db)
        .await)
    }

    /// Open sessions whose time is up and that have no payable intent
    /// left (an intent ends no later than its session; it is expired
    /// first, with its provider).
    pub async fn due_sessions(
        &self,
        now: UnixSeconds,
        limit: i64,
    ) -> Result<Vec<SessionRow>, sqlx::Error> {
        on_reads!(self, |db| sqlx::query_as(&format!(
            "SELECT * FROM checkout_sessions s WHERE s.status = 'open' AND s.expires_at <= $1
               AND NOT EXISTS (SELECT 1 FROM payment_intents i
                               WHERE i.session_id = s.id AND i.status IN {OPEN})
             ORDER BY s.expires_at LIMIT $2"
        ))
        .bind(now)
        .bind(limit)
        .fetch_all(db)
        .await)
    }
}

impl Tx {
    /// Marks a session expired if it is still open and has no payable
    /// intent left; true if it did. The session's row is held first, so an
    /// intent inserted meanwhile (which holds it too) is seen.
    pub async fn expire_session(&mut self, id: &str) -> Result<bool, sqlx::Error> {
        let lock = self.lock_rows();
        let open: Option<String> = in_tx!(self, |db| sqlx::query_scalar(&format!(
            "SELECT id FROM checkout_sessions WHERE id = $1 AND status = 'open'{lock}"
        ))
        .bind(id)
        .fetch_optional(db)
        .await)?;
        if open.is_none() {
            return Ok(false);
        }
        let expired = in_tx!(self, |db| sqlx::query(&format!(
            "UPDATE checkout_sessions SET status = 'expired' WHERE id = $1 AND status = 'open'
               AND NOT EXISTS (SELECT 1 FROM payment_intents i
                               WHERE i.session_id = $1 AND i.status IN {OPEN})"
        ))
        .bind(id)
        .execute(db)
        .await
        .map(|done| done.rows_affected()))?;
        Ok(expired == 1)
    }

    /// A session, read inside the transaction.
    pub async fn session(&mut self, id: &str) -> Result<SessionRow, sqlx::Error> {
        in_tx!(self, |db| sqlx::query_as(
            "SELECT * FROM checkout_sessions WHERE id = $1"
        )
        .bind(id)
        .fetch_one(db)
        .await)
    }
}
