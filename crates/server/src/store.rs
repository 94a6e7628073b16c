//! Everything the server keeps, in SQLite through sqlx's runtime queries
//! (no compile-time database needed). The SQL is plain so that PostgreSQL
//! can follow. Money is INTEGER minor units; times are INTEGER Unix seconds.

use std::path::Path;
use std::time::Duration;

use contract::{IntentStatus, UnixSeconds};
use serde::de::DeserializeOwned;
use serde::Serialize;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

use crate::config::Config;

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS merchants (
    id TEXT PRIMARY KEY,
    display_name TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS checkout_sessions (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants (id),
    amount_value INTEGER NOT NULL,
    currency TEXT NOT NULL,
    reference TEXT NOT NULL,
    return_url TEXT NOT NULL,
    client_secret_hash TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    completed_at INTEGER
);
CREATE TABLE IF NOT EXISTS payment_intents (
    id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES checkout_sessions (id),
    idempotency_key TEXT NOT NULL,
    request_fingerprint TEXT NOT NULL,
    method TEXT NOT NULL,
    flow TEXT NOT NULL,
    amount_value INTEGER NOT NULL,
    currency TEXT NOT NULL,
    status TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    next_action TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (session_id, idempotency_key)
);
CREATE TABLE IF NOT EXISTS provider_notifications (
    id TEXT PRIMARY KEY,
    provider TEXT NOT NULL,
    received_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sandbox_wechat_orders (
    out_trade_no TEXT PRIMARY KEY,
    code_url TEXT NOT NULL UNIQUE,
    amount_total INTEGER NOT NULL,
    currency TEXT NOT NULL,
    trade_state TEXT NOT NULL,
    time_expire INTEGER NOT NULL,
    transaction_id TEXT
);
"#;

/// The database.
#[derive(Clone)]
pub struct Store {
    pool: SqlitePool,
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
    pub expires_at: i64,
    pub created_at: i64,
    pub completed_at: Option<i64>,
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
    pub expires_at: i64,
    pub next_action: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The sandbox's own record of a WeChat Pay order (the provider's side).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SandboxOrderRow {
    pub out_trade_no: String,
    pub code_url: String,
    pub amount_total: i64,
    pub currency: String,
    pub trade_state: String,
    pub time_expire: i64,
    pub transaction_id: Option<String>,
}

/// A value's serde name as stored text (`"requires_action"`).
pub fn to_text<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(text)) => text,
        other => other.map(|v| v.to_string()).unwrap_or_default(),
    }
}

/// Stored text back into a value.
pub fn from_text<T: DeserializeOwned>(text: &str) -> Result<T, sqlx::Error> {
    serde_json::from_value(serde_json::Value::String(text.to_owned()))
        .map_err(|error| sqlx::Error::Decode(format!("bad stored value {text:?}: {error}").into()))
}

/// The statuses in which an intent can still be paid.
pub const OPEN: [IntentStatus; 2] = [IntentStatus::RequiresAction, IntentStatus::Processing];

impl Store {
    /// Opens (creating if needed) the SQLite file and brings its schema up.
    pub async fn open(path: &Path) -> Result<Store, sqlx::Error> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        sqlx::raw_sql(SCHEMA).execute(&pool).await?;
        Ok(Store { pool })
    }

    /// Records the configured merchants.
    pub async fn seed_merchants(&self, config: &Config) -> Result<(), sqlx::Error> {
        for merchant in &config.merchants {
            sqlx::query(
                "INSERT INTO merchants (id, display_name) VALUES (?, ?)
                 ON CONFLICT (id) DO UPDATE SET display_name = excluded.display_name",
            )
            .bind(&merchant.id)
            .bind(&merchant.display_name)
            .execute(&self.pool)
            .await?;
        }
        Ok(())
    }

    /// Stores a new session.
    pub async fn insert_session(&self, row: &SessionRow) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO checkout_sessions (id, merchant_id, amount_value, currency, reference,
                return_url, client_secret_hash, expires_at, created_at, completed_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&row.id)
        .bind(&row.merchant_id)
        .bind(row.amount_value)
        .bind(&row.currency)
        .bind(&row.reference)
        .bind(&row.return_url)
        .bind(&row.client_secret_hash)
        .bind(row.expires_at)
        .bind(row.created_at)
        .bind(row.completed_at)
        .execute(&self.pool)
        .await
        .map(drop)
    }

    /// A session by id.
    pub async fn session(&self, id: &str) -> Result<Option<SessionRow>, sqlx::Error> {
        sqlx::query_as("SELECT * FROM checkout_sessions WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
    }

    /// Stores an intent unless one with its session and idempotency key
    /// exists; true if this call stored it. Safe under concurrency: the
    /// unique key decides.
    pub async fn insert_intent_if_new(&self, row: &IntentRow) -> Result<bool, sqlx::Error> {
        let result = sqlx::query(
            "INSERT INTO payment_intents (id, session_id, idempotency_key, request_fingerprint,
                method, flow, amount_value, currency, status, expires_at, next_action, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (session_id, idempotency_key) DO NOTHING",
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
        .bind(row.created_at)
        .bind(row.updated_at)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
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
            .fetch_optional(&self.pool)
            .await
    }

    /// An intent by id.
    pub async fn intent(&self, id: &str) -> Result<Option<IntentRow>, sqlx::Error> {
        sqlx::query_as("SELECT * FROM payment_intents WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
    }

    /// How many intents a session has (for tests and the log).
    pub async fn count_intents(&self, session_id: &str) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT COUNT(*) FROM payment_intents WHERE session_id = ?")
            .bind(session_id)
            .fetch_one(&self.pool)
            .await
    }

    /// Records the provider's hand-off for an intent.
    pub async fn set_next_action(
        &self,
        id: &str,
        next_action: &str,
        now: UnixSeconds,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE payment_intents SET next_action = ?, updated_at = ? WHERE id = ?")
            .bind(next_action)
            .bind(now)
            .bind(id)
            .execute(&self.pool)
            .await
            .map(drop)
    }

    /// Moves an intent to `to` if it is in one of `from`; true if it moved.
    pub async fn transition(
        &self,
        id: &str,
        from: &[IntentStatus],
        to: IntentStatus,
        now: UnixSeconds,
    ) -> Result<bool, sqlx::Error> {
        let placeholders = vec!["?"; from.len()].join(", ");
        let sql = format!("UPDATE payment_intents SET status = ?, updated_at = ? WHERE id = ? AND status IN ({placeholders})");
        let mut query = sqlx::query(&sql).bind(to_text(&to)).bind(now).bind(id);
        for status in from {
            query = query.bind(to_text(status));
        }
        Ok(query.execute(&self.pool).await?.rows_affected() == 1)
    }

    /// Applies a verified payment notification once: records its id and,
    /// if it is new, marks the intent succeeded and its session completed,
    /// in one transaction. The provider has taken the money, so this holds
    /// even for an intent that had failed, expired or been canceled here
    /// (each is logged: such a payment may need a refund). Returns whether
    /// the notification was new.
    pub async fn apply_payment_notification(
        &self,
        notification_id: &str,
        provider: &str,
        intent_id: &str,
        now: UnixSeconds,
    ) -> Result<bool, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let recorded = sqlx::query(
            "INSERT INTO provider_notifications (id, provider, received_at) VALUES (?, ?, ?)
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(notification_id)
        .bind(provider)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if recorded.rows_affected() == 0 {
            return Ok(false);
        }
        let succeeded = to_text(&IntentStatus::Succeeded);
        let (was,): (String,) = sqlx::query_as("SELECT status FROM payment_intents WHERE id = ?")
            .bind(intent_id)
            .fetch_one(&mut *tx)
            .await?;
        if was != succeeded {
            if from_text::<IntentStatus>(&was)?.is_final() {
                tracing::warn!("{intent_id} was paid after it had {was}: it counts as paid");
            }
            sqlx::query("UPDATE payment_intents SET status = ?, updated_at = ? WHERE id = ?")
                .bind(&succeeded)
                .bind(now)
                .bind(intent_id)
                .execute(&mut *tx)
                .await?;
            let completed = sqlx::query(
                "UPDATE checkout_sessions SET completed_at = ?
                 WHERE id = (SELECT session_id FROM payment_intents WHERE id = ?) AND completed_at IS NULL",
            )
            .bind(now)
            .bind(intent_id)
            .execute(&mut *tx)
            .await?;
            if completed.rows_affected() == 0 {
                tracing::error!("{intent_id} paid a session that was already paid: refund it");
            }
        }
        tx.commit().await?;
        Ok(true)
    }

    /// The session's intents that can still be paid.
    pub async fn open_intents(&self, session_id: &str) -> Result<Vec<IntentRow>, sqlx::Error> {
        let open = OPEN.map(|s| to_text(&s));
        sqlx::query_as("SELECT * FROM payment_intents WHERE session_id = ? AND status IN (?, ?)")
            .bind(session_id)
            .bind(&open[0])
            .bind(&open[1])
            .fetch_all(&self.pool)
            .await
    }

    /// Stores a sandbox order.
    pub async fn insert_sandbox_order(&self, row: &SandboxOrderRow) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO sandbox_wechat_orders (out_trade_no, code_url, amount_total, currency, trade_state, time_expire, transaction_id)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&row.out_trade_no)
        .bind(&row.code_url)
        .bind(row.amount_total)
        .bind(&row.currency)
        .bind(&row.trade_state)
        .bind(row.time_expire)
        .bind(&row.transaction_id)
        .execute(&self.pool)
        .await
        .map(drop)
    }

    /// A sandbox order by its QR payload.
    pub async fn sandbox_order_by_code(
        &self,
        code_url: &str,
    ) -> Result<Option<SandboxOrderRow>, sqlx::Error> {
        sqlx::query_as("SELECT * FROM sandbox_wechat_orders WHERE code_url = ?")
            .bind(code_url)
            .fetch_optional(&self.pool)
            .await
    }

    /// A sandbox order by the merchant's order number.
    pub async fn sandbox_order(
        &self,
        out_trade_no: &str,
    ) -> Result<Option<SandboxOrderRow>, sqlx::Error> {
        sqlx::query_as("SELECT * FROM sandbox_wechat_orders WHERE out_trade_no = ?")
            .bind(out_trade_no)
            .fetch_optional(&self.pool)
            .await
    }

    /// Moves a sandbox order from `from` to `to`; true if it moved.
    pub async fn sandbox_order_transition(
        &self,
        out_trade_no: &str,
        from: &str,
        to: &str,
        transaction_id: Option<&str>,
    ) -> Result<bool, sqlx::Error> {
        let result = sqlx::query(
            "UPDATE sandbox_wechat_orders SET trade_state = ?, transaction_id = COALESCE(?, transaction_id)
             WHERE out_trade_no = ? AND trade_state = ?",
        )
        .bind(to)
        .bind(transaction_id)
        .bind(out_trade_no)
        .bind(from)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }
}
