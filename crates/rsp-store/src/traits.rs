//! The store traits. Servers hold `Arc<dyn Store>` and may upcast to the small trait they need.
//!
//! Every method takes the current time as a parameter where it matters; the store never
//! reads a clock.

use async_trait::async_trait;
use time::{Duration, OffsetDateTime};

use crate::StoreError;
use crate::model::*;

/// EIS records, with compare-and-set on `version`.
#[async_trait]
pub trait EisStore: Send + Sync {
    /// Inserts a new EIS (version 1); [`StoreError::Duplicate`] if the EID exists.
    async fn insert_eis(
        &self,
        data: &EisData,
        now: OffsetDateTime,
    ) -> Result<EisRecord, StoreError>;
    /// Loads the EIS of `eid`.
    async fn get_eis(&self, eid: &str) -> Result<Option<EisRecord>, StoreError>;
    /// Replaces the EIS if its version is `expected_version`; [`StoreError::Conflict`] if stale,
    /// [`StoreError::NotFound`] if absent.
    async fn update_eis(
        &self,
        data: &EisData,
        expected_version: i64,
        now: OffsetDateTime,
    ) -> Result<EisRecord, StoreError>;
    /// Deletes the EIS if its version is `expected_version`.
    async fn delete_eis(&self, eid: &str, expected_version: i64) -> Result<(), StoreError>;
}

/// Profile records (ICCID unique), with compare-and-set on `version`.
#[async_trait]
pub trait ProfileStore: Send + Sync {
    /// Inserts a profile (version 1); [`StoreError::Duplicate`] if the ICCID exists.
    async fn insert_profile(
        &self,
        data: &ProfileData,
        now: OffsetDateTime,
    ) -> Result<ProfileRecord, StoreError>;
    /// Loads the profile with `iccid`.
    async fn get_profile(&self, iccid: &str) -> Result<Option<ProfileRecord>, StoreError>;
    /// All profiles of one card, ordered by ICCID.
    async fn profiles_by_eid(&self, eid: &str) -> Result<Vec<ProfileRecord>, StoreError>;
    /// Replaces the profile `data.iccid` if its version is `expected_version`.
    async fn update_profile(
        &self,
        data: &ProfileData,
        expected_version: i64,
        now: OffsetDateTime,
    ) -> Result<ProfileRecord, StoreError>;
    /// Deletes the profile if its version is `expected_version`.
    async fn delete_profile(&self, iccid: &str, expected_version: i64) -> Result<(), StoreError>;
}

/// Durable procedure rows: create, load, advance with compare-and-set, and lease-based
/// claiming of due timer steps that is safe across several nodes.
#[async_trait]
pub trait ProcedureStore: Send + Sync {
    /// Creates a procedure (version 1); [`StoreError::Duplicate`] if the id exists.
    async fn create_procedure(
        &self,
        new: &NewProcedure,
        now: OffsetDateTime,
    ) -> Result<ProcedureRecord, StoreError>;
    /// Loads a procedure.
    async fn load_procedure(&self, id: &str) -> Result<Option<ProcedureRecord>, StoreError>;
    /// Procedures whose `correlation` equals `key`, oldest first.
    async fn procedures_by_correlation(
        &self,
        key: &str,
    ) -> Result<Vec<ProcedureRecord>, StoreError>;
    /// Stores the next step if the version is still `expected_version` and clears the lease.
    /// The version, not the lease, decides: a node whose lease ran out gets
    /// [`StoreError::Conflict`] once another node advanced the row.
    async fn advance_procedure(
        &self,
        id: &str,
        expected_version: i64,
        update: &ProcedureUpdate,
        now: OffsetDateTime,
    ) -> Result<ProcedureRecord, StoreError>;
    /// Deletes a procedure if its version is `expected_version`.
    async fn delete_procedure(&self, id: &str, expected_version: i64) -> Result<(), StoreError>;
    /// Leases up to `limit` procedures with `due_at <= now` whose lease is free or expired to
    /// `holder` until `now + lease_for`, earliest due first. Atomic: concurrent callers (other
    /// tasks, other nodes) never receive the same row while its lease runs.
    async fn claim_due_procedures(
        &self,
        now: OffsetDateTime,
        holder: &str,
        lease_for: Duration,
        limit: u32,
    ) -> Result<Vec<ProcedureRecord>, StoreError> {
        self.claim_due_procedures_filtered(None, now, holder, lease_for, limit)
            .await
    }
    /// Like [`ProcedureStore::claim_due_procedures`], only rows of `kind` (one runner per kind).
    async fn claim_due_procedures_of(
        &self,
        kind: &str,
        now: OffsetDateTime,
        holder: &str,
        lease_for: Duration,
        limit: u32,
    ) -> Result<Vec<ProcedureRecord>, StoreError> {
        self.claim_due_procedures_filtered(Some(kind), now, holder, lease_for, limit)
            .await
    }
    /// The claim behind both: rows of `kind`, or of any kind when `None`.
    async fn claim_due_procedures_filtered(
        &self,
        kind: Option<&str>,
        now: OffsetDateTime,
        holder: &str,
        lease_for: Duration,
        limit: u32,
    ) -> Result<Vec<ProcedureRecord>, StoreError>;
}

/// Outbox of messages (notifications, callbacks) with retries and dead letters.
#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Enqueues a message due at `now`; returns its id.
    async fn enqueue(&self, msg: &NewOutboxMessage, now: OffsetDateTime)
    -> Result<i64, StoreError>;
    /// Loads a message.
    async fn get_outbox_message(&self, id: i64) -> Result<Option<OutboxMessage>, StoreError>;
    /// Leases up to `limit` pending messages with `next_attempt_at <= now` and a free or
    /// expired lease to `holder`, like [`ProcedureStore::claim_due_procedures`].
    async fn claim_due_messages(
        &self,
        now: OffsetDateTime,
        holder: &str,
        lease_for: Duration,
        limit: u32,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        self.claim_due_messages_filtered(None, now, holder, lease_for, limit)
            .await
    }
    /// Like [`OutboxStore::claim_due_messages`], only messages of `kind`.
    async fn claim_due_messages_of(
        &self,
        kind: &str,
        now: OffsetDateTime,
        holder: &str,
        lease_for: Duration,
        limit: u32,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        self.claim_due_messages_filtered(Some(kind), now, holder, lease_for, limit)
            .await
    }
    /// The claim behind both: messages of `kind`, or of any kind when `None`.
    async fn claim_due_messages_filtered(
        &self,
        kind: Option<&str>,
        now: OffsetDateTime,
        holder: &str,
        lease_for: Duration,
        limit: u32,
    ) -> Result<Vec<OutboxMessage>, StoreError>;
    /// Marks a message delivered; [`StoreError::Conflict`] unless it is pending and leased
    /// by `holder`.
    async fn mark_delivered(
        &self,
        id: i64,
        holder: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// Records a failed attempt by `holder`: increments `attempts`; the message becomes a
    /// dead letter once `attempts >= max_attempts`, otherwise it is due again at
    /// `next_attempt_at`.
    async fn mark_failed(
        &self,
        id: i64,
        holder: &str,
        error: &str,
        next_attempt_at: OffsetDateTime,
        max_attempts: u32,
        now: OffsetDateTime,
    ) -> Result<FailureOutcome, StoreError>;
    /// Dead letters with id greater than `after_id`, by id.
    async fn dead_letters(
        &self,
        after_id: Option<i64>,
        limit: u32,
    ) -> Result<Vec<OutboxMessage>, StoreError>;
    /// Puts a dead letter back in the queue (attempts reset, due at `now`).
    async fn requeue_dead_letter(&self, id: i64, now: OffsetDateTime) -> Result<(), StoreError>;
    /// Deletes delivered messages last updated before `before`; returns how many.
    async fn purge_delivered(&self, before: OffsetDateTime) -> Result<u64, StoreError>;
}

/// Idempotency records keyed by (caller identity, FunctionCallIdentifier) (U-26).
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Registers a request or reports what is known about its key.
    async fn begin_idempotent(
        &self,
        caller: &str,
        fcid: &str,
        request_hash: &[u8],
        now: OffsetDateTime,
    ) -> Result<IdempotencyBegin, StoreError>;
    /// Stores the response of a request registered with `begin_idempotent`;
    /// [`StoreError::Conflict`] if it was already completed.
    async fn complete_idempotent(
        &self,
        caller: &str,
        fcid: &str,
        response: &[u8],
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// Forgets an in-progress key (the request failed before anything was stored), so a
    /// retry is processed as new; [`StoreError::Conflict`] if it was completed.
    async fn abandon_idempotent(&self, caller: &str, fcid: &str) -> Result<(), StoreError>;
    /// Deletes records created before `before` (keep them at least for the validity
    /// period); returns how many.
    async fn purge_idempotency(&self, before: OffsetDateTime) -> Result<u64, StoreError>;
}

/// Append-only audit trail (U-34).
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Appends an entry; returns its id.
    async fn append_audit(&self, record: &NewAuditRecord) -> Result<i64, StoreError>;
    /// Entries about `eid` in `(at, id)` order, `limit` per page, after `after`.
    async fn audit_by_eid(
        &self,
        eid: &str,
        after: Option<AuditCursor>,
        limit: u32,
    ) -> Result<AuditPage, StoreError>;
}

/// Small key-value table (schema version, node ids, ...).
#[async_trait]
pub trait MetaStore: Send + Sync {
    /// Reads a value.
    async fn get_meta(&self, key: &str) -> Result<Option<String>, StoreError>;
    /// Writes (inserts or replaces) a value.
    async fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError>;
}

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file (WAL mode).
    Sqlite,
    /// PostgreSQL server (several nodes may share it).
    Postgres,
}

/// Everything a server needs, in one object.
#[async_trait]
pub trait Store:
    EisStore + ProfileStore + ProcedureStore + OutboxStore + IdempotencyStore + AuditStore + MetaStore
{
    /// The backend in use.
    fn backend(&self) -> Backend;
    /// Applies all writes in one transaction: every write checks its precondition and the
    /// first failure rolls everything back and is returned. Use it to advance a procedure and
    /// enqueue its notifications (or store an idempotent response) atomically.
    async fn apply(
        &self,
        ops: &[WriteOp],
        now: OffsetDateTime,
    ) -> Result<Vec<WriteResult>, StoreError>;
    /// The schema version found in the database.
    async fn schema_version(&self) -> Result<i64, StoreError>;
    /// Closes the connection pool; later calls fail.
    async fn close(&self);
}
