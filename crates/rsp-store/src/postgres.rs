//! PostgreSQL backend: several nodes may share one database.
//!
//! Claims are one statement, `WITH picked AS (SELECT ... FOR UPDATE SKIP LOCKED) UPDATE ...
//! FROM picked RETURNING`: concurrent claimers skip rows another transaction is leasing
//! instead of waiting for them or taking them twice. A locking CTE runs exactly once; the
//! `id IN (subquery)` form let the planner re-run the locking subquery per candidate row
//! (a nested-loop semi join), which was quadratic once the statistics said "few rows".
//! Compare-and-set writes rely on `UPDATE ... WHERE version = $n` re-checking the row after
//! a concurrent update (READ COMMITTED).

use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

type Db = sqlx::Postgres;
type Conn = sqlx::PgConnection;
type This = PgStore;

const BACKEND: Backend = Backend::Postgres;

// The claim is one statement: its row locks (SKIP LOCKED) need no explicit transaction.
const CLAIM_IN_TRANSACTION: bool = false;

const CLAIM_PROCEDURES: &str = concat!(
    "WITH picked AS (SELECT id AS picked_id FROM procedures WHERE due_at <= $3 ",
    "AND (lease_until IS NULL OR lease_until <= $3) AND ($5::text IS NULL OR kind = $5) ORDER BY due_at, id LIMIT $4 ",
    "FOR UPDATE SKIP LOCKED) ",
    "UPDATE procedures SET lease_holder = $1, lease_until = $2 FROM picked ",
    "WHERE id = picked.picked_id RETURNING ",
    procedure_cols!()
);

const CLAIM_MESSAGES: &str = concat!(
    "WITH picked AS (SELECT id AS picked_id FROM outbox WHERE status = 'pending' ",
    "AND next_attempt_at <= $3 AND (lease_until IS NULL OR lease_until <= $3) ",
    "AND ($5::text IS NULL OR kind = $5) ORDER BY next_attempt_at, id LIMIT $4 FOR UPDATE SKIP LOCKED) ",
    "UPDATE outbox SET lease_holder = $1, lease_until = $2 FROM picked ",
    "WHERE id = picked.picked_id RETURNING ",
    outbox_cols!()
);

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

async fn begin_write(pool: &sqlx::Pool<Db>) -> Result<sqlx::Transaction<'static, Db>, StoreError> {
    Ok(pool.begin().await?)
}

/// The PostgreSQL store.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: sqlx::PgPool,
}

impl PgStore {
    /// Connects (`postgres://user@host:port/db`) and migrates. Migrations take PostgreSQL's
    /// advisory lock, so nodes starting together migrate once.
    pub async fn connect(url: &str, options: &OpenOptions) -> Result<Self, StoreError> {
        let connect = PgConnectOptions::from_str(url)?;
        Self::connect_with(connect, options).await
    }

    /// Connects and migrates from driver options.
    pub async fn connect_with(
        connect: PgConnectOptions,
        options: &OpenOptions,
    ) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections.unwrap_or(10))
            .connect_with(connect)
            .await?;
        migrate_and_check(&pool, &MIGRATOR).await?;
        Ok(PgStore { pool })
    }
}

include!("ops.rs");
