//! Typed store errors.

use std::fmt;

/// The kind of row an error talks about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Entity {
    /// An EIS record (keyed by EID).
    Eis,
    /// A profile record (keyed by ICCID).
    Profile,
    /// A procedure row (keyed by its id).
    Procedure,
    /// An outbox message (keyed by its numeric id).
    OutboxMessage,
    /// An idempotency record (keyed by caller and FunctionCallIdentifier).
    Idempotency,
    /// A `meta` key-value entry.
    Meta,
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Entity::Eis => "EIS",
            Entity::Profile => "profile",
            Entity::Procedure => "procedure",
            Entity::OutboxMessage => "outbox message",
            Entity::Idempotency => "idempotency record",
            Entity::Meta => "meta entry",
        })
    }
}

/// Every failure of a store operation.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The addressed row does not exist.
    #[error("{entity} {key:?} not found")]
    NotFound {
        /// What kind of row.
        entity: Entity,
        /// Its key as text.
        key: String,
    },
    /// The row exists but the write's precondition failed: a stale version, a lease held by
    /// someone else, or a state that does not allow the write.
    #[error("{entity} {key:?}: conflicting write (stale version, lost lease or wrong state)")]
    Conflict {
        /// What kind of row.
        entity: Entity,
        /// Its key as text.
        key: String,
    },
    /// An insert hit an existing key (or another unique constraint).
    #[error("{entity} {key:?} already exists")]
    Duplicate {
        /// What kind of row.
        entity: Entity,
        /// Its key as text.
        key: String,
    },
    /// The caller passed a value the store cannot take (out-of-range time, zero limit, ...).
    #[error("invalid store input: {0}")]
    InvalidInput(String),
    /// A stored value could not be read back (unknown status text, bad JSON, time out of range).
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
    /// The URL given to [`crate::open`] names no supported backend.
    #[error("unsupported store URL scheme {0:?} (expected sqlite:, postgres: or postgresql:)")]
    UnsupportedUrl(String),
    /// The database driver or server failed.
    #[error("database error: {0}")]
    Backend(#[from] sqlx::Error),
    /// Running or checking the schema migrations failed.
    #[error("schema migration failed: {0}")]
    Migration(String),
}

impl StoreError {
    /// Shorthand for [`StoreError::NotFound`].
    pub fn not_found(entity: Entity, key: impl Into<String>) -> Self {
        StoreError::NotFound {
            entity,
            key: key.into(),
        }
    }

    /// Shorthand for [`StoreError::Conflict`].
    pub fn conflict(entity: Entity, key: impl Into<String>) -> Self {
        StoreError::Conflict {
            entity,
            key: key.into(),
        }
    }

    /// Shorthand for [`StoreError::Duplicate`].
    pub fn duplicate(entity: Entity, key: impl Into<String>) -> Self {
        StoreError::Duplicate {
            entity,
            key: key.into(),
        }
    }

    /// Maps a driver error from an insert: a unique violation becomes [`StoreError::Duplicate`].
    pub(crate) fn from_insert(err: sqlx::Error, entity: Entity, key: &str) -> Self {
        match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => Self::duplicate(entity, key),
            _ => StoreError::Backend(err),
        }
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(err: sqlx::migrate::MigrateError) -> Self {
        StoreError::Migration(err.to_string())
    }
}
