//! SQLite backend: one database file, WAL journal, writers serialised by SQLite itself.
//!
//! Multi-statement writes and claims start with `BEGIN IMMEDIATE`, so a transaction takes the
//! write lock before reading and never fails half-way with `SQLITE_BUSY` on lock upgrade;
//! waiting writers are held by the busy timeout.

use std::str::FromStr;
use std::time::Duration as StdDuration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};

type Db = sqlx::Sqlite;
type Conn = sqlx::SqliteConnection;
type This = SqliteStore;

const BACKEND: Backend = Backend::Sqlite;

// Claims run inside `BEGIN IMMEDIATE`: the write lock is taken before the rows are chosen.
const CLAIM_IN_TRANSACTION: bool = true;

const CLAIM_PROCEDURES: &str = concat!(
    "UPDATE procedures SET lease_holder = $1, lease_until = $2 WHERE id IN (",
    "SELECT id FROM procedures WHERE due_at <= $3 ",
    "AND (lease_until IS NULL OR lease_until <= $3) AND ($5 IS NULL OR kind = $5) ORDER BY due_at, id LIMIT $4) RETURNING ",
    procedure_cols!()
);

const CLAIM_MESSAGES: &str = concat!(
    "UPDATE outbox SET lease_holder = $1, lease_until = $2 WHERE id IN (",
    "SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= $3 ",
    "AND (lease_until IS NULL OR lease_until <= $3) AND ($5 IS NULL OR kind = $5) ",
    "ORDER BY next_attempt_at, id LIMIT $4) ",
    "RETURNING ",
    outbox_cols!()
);

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// How long a writer waits for the database lock before failing.
const BUSY_TIMEOUT: StdDuration = StdDuration::from_secs(30);

async fn begin_write(pool: &sqlx::Pool<Db>) -> Result<sqlx::Transaction<'static, Db>, StoreError> {
    Ok(pool.begin_with("BEGIN IMMEDIATE").await?)
}

/// The SQLite store.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: sqlx::SqlitePool,
}

impl SqliteStore {
    /// Opens (`sqlite://path?mode=rwc` creates the file) and migrates a SQLite store.
    /// `sqlite::memory:` gives a private in-memory store on a single connection.
    pub async fn connect(url: &str, options: &OpenOptions) -> Result<Self, StoreError> {
        let mut connect = SqliteConnectOptions::from_str(url)?;
        if !url.contains("mode=") {
            // A store is created on first use unless the URL says otherwise (`mode=rw`, `mode=ro`).
            connect = connect.create_if_missing(true);
        }
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        Self::connect_with(connect, in_memory, options).await
    }

    /// Opens and migrates a SQLite store from driver options; WAL (unless `in_memory`) and
    /// the busy timeout are set here.
    pub async fn connect_with(
        connect: SqliteConnectOptions,
        in_memory: bool,
        options: &OpenOptions,
    ) -> Result<Self, StoreError> {
        let connect = connect.busy_timeout(BUSY_TIMEOUT).foreign_keys(true);
        let pool = if in_memory {
            // An in-memory database lives as long as one connection: keep exactly one.
            SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(connect)
                .await?
        } else {
            SqlitePoolOptions::new()
                .max_connections(options.max_connections.unwrap_or(8))
                .connect_with(connect.journal_mode(SqliteJournalMode::Wal))
                .await?
        };
        migrate_and_check(&pool, &MIGRATOR).await?;
        Ok(SqliteStore { pool })
    }
}

include!("ops.rs");
