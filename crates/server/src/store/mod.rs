//! Everything the server keeps, in SQLite through sqlx's runtime queries
//! (no compile-time database), with its schema from `migrations/`. Writes
//! go through one connection, so writers queue in the process instead of
//! sleeping in SQLite's busy handler; reads use a pool beside it (WAL).
//! Money is 64-bit minor units; times are 64-bit Unix seconds.
//!
//! One file per kind of row: [`sessions`], [`intents`], [`refunds`], and
//! the [`outbox`] of webhook events, provider jobs and notifications.
//! Reads that a request makes are scoped to the merchant (or session) the
//! request proved; lookups by a bare id are for the server's own work.

pub mod intents;
pub mod outbox;
pub mod refunds;
pub mod sessions;

use std::path::Path;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite, Transaction};

pub use intents::{Inserted, IntentFilter, IntentRow, Settled};
pub use outbox::{EventRow, JobRow, OutboxDepth};
pub use refunds::{RefundInserted, RefundRow};
pub use sessions::{SessionInserted, SessionRow};

/// The database.
#[derive(Clone)]
pub struct Store {
    reads: SqlitePool,
    writes: SqlitePool,
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

/// The intent statuses that can still be paid.
const OPEN: &str = "('requires_action', 'processing')";

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

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
        MIGRATIONS.run(&writes).await?;
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

    /// Whether the database answers and holds every migration this build
    /// knows, applied successfully.
    pub async fn ready(&self) -> Result<(), String> {
        let applied: Vec<(i64, bool)> =
            sqlx::query_as("SELECT version, success FROM _sqlx_migrations")
                .fetch_all(&self.reads)
                .await
                .map_err(|error| format!("the database does not answer: {error}"))?;
        for migration in MIGRATIONS.iter() {
            let done = applied
                .iter()
                .any(|(version, success)| *version == migration.version && *success);
            if !done {
                return Err(format!(
                    "migration {} ({}) is not applied",
                    migration.version, migration.description
                ));
            }
        }
        Ok(())
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
}
