//! Everything the server keeps, in SQLite (one server, no set-up) or in
//! PostgreSQL (as many servers as wanted on one database), through sqlx's
//! runtime queries (no compile-time database), with the schema of each
//! from its folder in `migrations/`: the same migrations, meaning for
//! meaning. Queries are written once, in SQL both understand (`$1`
//! placeholders), and run on whichever backend the store has.
//!
//! Every change is safe under PostgreSQL's READ COMMITTED with other
//! servers writing beside it: updates say which states they move from and
//! check how many rows moved, a payment is recorded with its session's
//! row locked, and unique indexes have the last word. On SQLite, writes
//! go through one connection per server, in transactions that take the
//! file's write lock as they begin (`BEGIN IMMEDIATE`), so writers queue
//! instead of failing, even from a second server on the same file; reads
//! use a pool beside it (WAL). Money is 64-bit minor units; times are
//! 64-bit Unix seconds.
//!
//! One file per kind of row: [`sessions`], [`intents`], [`refunds`], and
//! the [`outbox`] of webhook events, provider jobs and notifications.
//! Reads that a request makes are scoped to the merchant (or session) the
//! request proved; lookups by a bare id are for the server's own work.

/// Runs `$query` with `$db` bound to the store's pool for reads.
macro_rules! on_reads {
    ($store:expr, |$db:ident| $query:expr) => {
        match &$store.pools {
            $crate::store::Pools::Sqlite { reads: $db, .. } => $query,
            $crate::store::Pools::Postgres($db) => $query,
        }
    };
}

/// Runs `$query` with `$db` bound to the store's pool for writes made
/// outside a transaction.
macro_rules! on_writes {
    ($store:expr, |$db:ident| $query:expr) => {
        match &$store.pools {
            $crate::store::Pools::Sqlite { writes: $db, .. } => $query,
            $crate::store::Pools::Postgres($db) => $query,
        }
    };
}

/// Runs `$query` with `$db` bound to the transaction's connection.
macro_rules! in_tx {
    ($tx:expr, |$db:ident| $query:expr) => {
        match &mut $tx.0 {
            $crate::store::Open::Sqlite(transaction) => {
                let $db = &mut **transaction;
                $query
            }
            $crate::store::Open::Postgres(transaction) => {
                let $db = &mut **transaction;
                $query
            }
        }
    };
}

pub mod intents;
pub mod outbox;
pub mod refunds;
pub mod sessions;

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Postgres, Sqlite, Transaction};

pub use intents::{Claim, Inserted, IntentFilter, IntentRow, Settled, SEALED};
pub use outbox::{EventRow, JobRow, OutboxDepth};
pub use refunds::{RefundInserted, RefundRow};
pub use sessions::{SessionInserted, SessionRow};

/// Where the server keeps everything.
#[derive(Clone, PartialEq, Eq)]
pub enum Database {
    /// A SQLite file, created with its schema when missing: one server.
    Sqlite(PathBuf),
    /// A PostgreSQL database (`postgres://user:password@host/name`), its
    /// schema made when missing: any number of servers side by side.
    Postgres(String),
}

impl Database {
    /// A `postgres://` (or `postgresql://`) URL, else a SQLite file's path
    /// (`sqlite://` before it is allowed).
    pub fn parse(text: &str) -> Database {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            Database::Postgres(text.to_owned())
        } else {
            Database::Sqlite(PathBuf::from(
                text.strip_prefix("sqlite://").unwrap_or(text),
            ))
        }
    }
}

impl From<PathBuf> for Database {
    fn from(path: PathBuf) -> Database {
        Database::Sqlite(path)
    }
}

impl FromStr for Database {
    type Err = std::convert::Infallible;

    fn from_str(text: &str) -> Result<Database, Self::Err> {
        Ok(Database::parse(text))
    }
}

/// Names the database for a log line, without its password.
impl fmt::Display for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Database::Sqlite(path) => write!(f, "{}", path.display()),
            Database::Postgres(url) => match url::Url::parse(url) {
                Ok(mut parsed) => {
                    if parsed.password().is_some() {
                        let _ = parsed.set_password(Some("***"));
                    }
                    write!(f, "{parsed}")
                }
                Err(_) => f.write_str("postgres://(unreadable URL)"),
            },
        }
    }
}

impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The database.
#[derive(Clone)]
pub struct Store {
    pools: Pools,
}

/// The connections of each backend.
#[derive(Clone)]
pub(crate) enum Pools {
    Sqlite {
        reads: SqlitePool,
        writes: SqlitePool,
    },
    Postgres(PgPool),
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

static SQLITE: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES: Migrator = sqlx::migrate!("./migrations/postgres");

/// An exclusive lock on a file beside the SQLite database, held by the one
/// server that migrates it; the others wait for it.
async fn migration_lock(database: &std::path::Path) -> Result<std::fs::File, sqlx::Error> {
    let mut name = database.as_os_str().to_owned();
    name.push("-migrating.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(name)?;
    let locked = tokio::task::spawn_blocking(move || file.lock().map(|()| file))
        .await
        .map_err(|error| sqlx::Error::Io(std::io::Error::other(error)))??;
    Ok(locked)
}

impl Store {
    /// Opens the database, creating a SQLite file if needed, and migrates
    /// its schema.
    pub async fn open(database: &Database) -> Result<Store, sqlx::Error> {
        match database {
            Database::Sqlite(path) => Store::open_sqlite(path).await,
            Database::Postgres(url) => Store::open_postgres(url).await,
        }
    }

    async fn open_postgres(url: &str) -> Result<Store, sqlx::Error> {
        let options = PgConnectOptions::from_str(url)?.application_name("payment-server");
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .connect_with(options)
            .await?;
        // Servers that start together migrate one after the other: sqlx
        // holds an advisory lock while it migrates.
        POSTGRES.run(&pool).await?;
        Ok(Store {
            pools: Pools::Postgres(pool),
        })
    }

    async fn open_sqlite(path: &std::path::Path) -> Result<Store, sqlx::Error> {
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
        // Servers that start together on one file migrate one after the
        // other. sqlx takes no lock on SQLite, so two would both see a
        // migration missing and the second would fail applying it again.
        let migrating = migration_lock(path).await?;
        SQLITE.run(&writes).await?;
        drop(migrating);
        let reads = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        Ok(Store {
            pools: Pools::Sqlite { reads, writes },
        })
    }

    /// A write transaction. On SQLite it holds the file's write lock from
    /// its start (a transaction that read first and then asked for the lock
    /// could fail at once when another server had written meanwhile).
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        Ok(Tx(match &self.pools {
            Pools::Sqlite { writes, .. } => {
                Open::Sqlite(writes.begin_with("BEGIN IMMEDIATE").await?)
            }
            Pools::Postgres(pool) => Open::Postgres(pool.begin().await?),
        }))
    }

    /// The schema this store's backend must hold.
    fn migrations(&self) -> &'static Migrator {
        match self.pools {
            Pools::Sqlite { .. } => &SQLITE,
            Pools::Postgres(_) => &POSTGRES,
        }
    }

    /// Whether the database answers and holds every migration this build
    /// knows, applied successfully.
    pub async fn ready(&self) -> Result<(), String> {
        let applied: Vec<(i64, bool)> = on_reads!(self, |db| sqlx::query_as(
            "SELECT version, success FROM _sqlx_migrations"
        )
        .fetch_all(db)
        .await)
        .map_err(|error| format!("the database does not answer: {error}"))?;
        for migration in self.migrations().iter() {
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
pub struct Tx(Open);

/// A transaction on one of the backends.
pub(crate) enum Open {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

impl Tx {
    /// Makes it all durable.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self.0 {
            Open::Sqlite(transaction) => transaction.commit().await,
            Open::Postgres(transaction) => transaction.commit().await,
        }
    }

    /// What a read adds to hold the rows it read until the transaction
    /// ends. SQLite needs nothing: the transaction holds the whole file.
    fn lock_rows(&self) -> &'static str {
        match self.0 {
            Open::Sqlite(_) => "",
            Open::Postgres(_) => " FOR UPDATE",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_postgres_url_is_postgres_and_anything_else_a_sqlite_file() {
        for url in ["postgres://u:p@db/pay", "postgresql://db/pay"] {
            assert_eq!(Database::parse(url), Database::Postgres(url.to_owned()));
        }
        assert_eq!(
            Database::parse("sqlite:///var/lib/pay.sqlite"),
            Database::Sqlite(PathBuf::from("/var/lib/pay.sqlite"))
        );
        assert_eq!(
            Database::parse(".data/pay.sqlite"),
            Database::Sqlite(PathBuf::from(".data/pay.sqlite"))
        );
    }

    #[test]
    fn a_database_named_in_a_log_line_keeps_its_password_out() {
        let named = Database::parse("postgres://payments:hunter2@db:5432/pay").to_string();
        assert_eq!(named, "postgres://payments:***@db:5432/pay");
        let named = Database::parse("postgres://payments@db/pay").to_string();
        assert_eq!(named, "postgres://payments@db/pay");
    }
}
