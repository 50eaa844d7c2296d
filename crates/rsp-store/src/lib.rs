//! Persistence for every rsp server: small async traits ([`EisStore`], [`ProfileStore`],
//! [`ProcedureStore`], [`OutboxStore`], [`IdempotencyStore`], [`AuditStore`], [`MetaStore`])
//! combined in [`Store`], with two implementations that pass one test battery:
//!
//! * SQLite ([`SqliteStore`]), the embedded default: one file, WAL journal
//!   (`sqlite://path/rsp.db?mode=rwc`);
//! * PostgreSQL ([`PgStore`]) when several nodes share the load
//!   (`postgres://user@host:5432/db`).
//!
//! [`open`] picks the backend from the URL scheme and runs the embedded migrations.
//!
//! Conventions:
//! * Time is always a parameter; the store never reads a clock. Timestamps are stored as
//!   64-bit microseconds since the Unix epoch, UTC, in both backends (see [`ts`]).
//! * Payloads are opaque bytes; audit details are JSON (stored as text).
//! * Every conditional write checks its affected-row count: a stale `version` or a lost lease
//!   is [`StoreError::Conflict`], a missing row [`StoreError::NotFound`], an existing key on
//!   insert [`StoreError::Duplicate`].

// Column lists shared by the SQL of both backends (used with `concat!`).
macro_rules! eis_cols {
    () => {
        "eid, smsr_id, version, document, updated_at"
    };
}
macro_rules! profile_cols {
    () => {
        "iccid, eid, isd_p_aid, state, mno_id, smdp_id, version, document, updated_at"
    };
}
macro_rules! procedure_cols {
    () => {
        "id, kind, state, data, correlation, due_at, lease_holder, lease_until, version, \
         created_at, updated_at"
    };
}
macro_rules! outbox_cols {
    () => {
        "id, destination, kind, payload, status, attempts, next_attempt_at, lease_holder, \
         lease_until, last_error, created_at, updated_at"
    };
}
macro_rules! audit_cols {
    () => {
        "id, at, actor, action, eid, iccid, detail"
    };
}

mod error;
mod model;
mod postgres;
mod sqlite;
mod traits;
pub mod ts;

use std::sync::Arc;

pub use error::{Entity, StoreError};
pub use model::*;
pub use postgres::PgStore;
pub use sqlite::SqliteStore;
pub use traits::*;

/// Schema version this build writes and expects (`meta.schema_version`).
pub const SCHEMA_VERSION: i64 = 1;

/// Tuning for [`open_with`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenOptions {
    /// Connection pool size (default: 8 for SQLite files, 10 for PostgreSQL; an in-memory
    /// SQLite store always uses one connection).
    pub max_connections: Option<u32>,
}

/// Opens the store named by `url` with default options: `sqlite:` → [`SqliteStore`],
/// `postgres:`/`postgresql:` → [`PgStore`]. Migrations run before it returns.
pub async fn open(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    open_with(url, &OpenOptions::default()).await
}

/// [`open`] with explicit options.
pub async fn open_with(url: &str, options: &OpenOptions) -> Result<Arc<dyn Store>, StoreError> {
    let scheme = url
        .split_once(':')
        .map(|(s, _)| s.to_ascii_lowercase())
        .unwrap_or_default();
    match scheme.as_str() {
        "sqlite" => Ok(Arc::new(SqliteStore::connect(url, options).await?)),
        "postgres" | "postgresql" => Ok(Arc::new(PgStore::connect(url, options).await?)),
        _ => Err(StoreError::UnsupportedUrl(scheme)),
    }
}
