//! Rows and write requests exchanged with the store.
//!
//! Payloads (`document`, `data`, `payload`, `response`) are opaque bytes: the protocol crates
//! choose their encoding (STYLE §5.6: canonical encoding plus a format-version byte).

use time::OffsetDateTime;

/// An EIS (eUICC Information Set) as held by an SM-SR (or cached by an SM-DP).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EisRecord {
    /// EID, 32 decimal digits as text.
    pub eid: String,
    /// Identity (OID) of the SM-SR that owns this eUICC.
    pub smsr_id: String,
    /// Optimistic-concurrency counter: 1 after insert, +1 on every update.
    pub version: i64,
    /// The EIS document (opaque bytes).
    pub document: Vec<u8>,
    /// Time of the last write (UTC, microsecond precision).
    pub updated_at: OffsetDateTime,
}

/// The caller-supplied part of an EIS record, for insert and update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EisData {
    /// EID, 32 decimal digits as text.
    pub eid: String,
    /// Identity (OID) of the owning SM-SR.
    pub smsr_id: String,
    /// The EIS document (opaque bytes).
    pub document: Vec<u8>,
}

/// A profile known to a server (SM-SR: one ISD-P on a card; SM-DP: one profile it handles).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileRecord {
    /// ICCID (unique key).
    pub iccid: String,
    /// EID of the card holding (or meant to hold) the profile.
    pub eid: String,
    /// AID of the ISD-P, once known.
    pub isd_p_aid: Option<String>,
    /// Profile state as text (`In-Creation`, `Created`, `Disabled`, `Enabled`, ...).
    pub state: String,
    /// Owning Operator (MNO) identity.
    pub mno_id: String,
    /// Associated SM-DP identity, if any.
    pub smdp_id: Option<String>,
    /// Optimistic-concurrency counter: 1 after insert, +1 on every update.
    pub version: i64,
    /// Profile document (opaque bytes: ProfileInfo, POL2, attributes, ...).
    pub document: Vec<u8>,
    /// Time of the last write.
    pub updated_at: OffsetDateTime,
}

/// The caller-supplied part of a profile record, for insert and update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileData {
    /// ICCID (unique key).
    pub iccid: String,
    /// EID of the card.
    pub eid: String,
    /// AID of the ISD-P, once known.
    pub isd_p_aid: Option<String>,
    /// Profile state as text.
    pub state: String,
    /// Owning Operator identity.
    pub mno_id: String,
    /// Associated SM-DP identity.
    pub smdp_id: Option<String>,
    /// Profile document (opaque bytes).
    pub document: Vec<u8>,
}

/// A durable procedure: a state machine persisted as a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcedureRecord {
    /// Caller-chosen unique id.
    pub id: String,
    /// Procedure kind (e.g. `sgp02.download`).
    pub kind: String,
    /// Current state name.
    pub state: String,
    /// State data (opaque bytes).
    pub data: Vec<u8>,
    /// Lookup key for events (an EID, a MessageID, ...).
    pub correlation: Option<String>,
    /// When the procedure wants a timer step; `None` = waiting for an event or finished.
    pub due_at: Option<OffsetDateTime>,
    /// Node holding the lease taken by `claim_due`.
    pub lease_holder: Option<String>,
    /// When that lease runs out.
    pub lease_until: Option<OffsetDateTime>,
    /// Optimistic-concurrency counter: 1 after create, +1 on every advance. Claiming does not
    /// change it.
    pub version: i64,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// Time of the last advance.
    pub updated_at: OffsetDateTime,
}

/// A new procedure row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewProcedure {
    /// Caller-chosen unique id (the store generates no identifiers and reads no randomness).
    pub id: String,
    /// Procedure kind.
    pub kind: String,
    /// Initial state name.
    pub state: String,
    /// Initial state data.
    pub data: Vec<u8>,
    /// Lookup key for events.
    pub correlation: Option<String>,
    /// First timer step, if any.
    pub due_at: Option<OffsetDateTime>,
}

/// The new state of a procedure after one step; replaces the previous values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcedureUpdate {
    /// New state name.
    pub state: String,
    /// New state data.
    pub data: Vec<u8>,
    /// New lookup key.
    pub correlation: Option<String>,
    /// Next timer step; `None` = wait for an event (or finished).
    pub due_at: Option<OffsetDateTime>,
}

/// Delivery status of an outbox message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutboxStatus {
    /// Waiting for (another) delivery attempt.
    Pending,
    /// Delivered; kept until purged.
    Delivered,
    /// Gave up after the caller's maximum number of attempts (dead letter).
    Dead,
}

impl OutboxStatus {
    /// The text stored in the `status` column.
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Pending => "pending",
            OutboxStatus::Delivered => "delivered",
            OutboxStatus::Dead => "dead",
        }
    }

    /// Parses the text of the `status` column.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(OutboxStatus::Pending),
            "delivered" => Some(OutboxStatus::Delivered),
            "dead" => Some(OutboxStatus::Dead),
            _ => None,
        }
    }
}

/// A message to deliver later (notification, callback), with its retry state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    /// Store-assigned id.
    pub id: i64,
    /// Where to deliver (a URL or a configured peer name).
    pub destination: String,
    /// Message kind (e.g. `es2.HandleProfileEnabledNotification`).
    pub kind: String,
    /// Message body (opaque bytes).
    pub payload: Vec<u8>,
    /// Delivery status.
    pub status: OutboxStatus,
    /// Failed attempts so far.
    pub attempts: u32,
    /// Earliest time of the next attempt.
    pub next_attempt_at: OffsetDateTime,
    /// Node holding the delivery lease.
    pub lease_holder: Option<String>,
    /// When that lease runs out.
    pub lease_until: Option<OffsetDateTime>,
    /// Error text of the last failed attempt.
    pub last_error: Option<String>,
    /// Enqueue time.
    pub created_at: OffsetDateTime,
    /// Time of the last status change.
    pub updated_at: OffsetDateTime,
}

/// A message to enqueue; it becomes due at the `now` passed to `enqueue`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOutboxMessage {
    /// Where to deliver.
    pub destination: String,
    /// Message kind.
    pub kind: String,
    /// Message body.
    pub payload: Vec<u8>,
}

/// What `mark_failed` did with a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureOutcome {
    /// The message stays pending and is due again at `next_attempt_at`.
    Retry {
        /// Failed attempts so far.
        attempts: u32,
    },
    /// The attempt limit was reached: the message is now a dead letter.
    DeadLettered {
        /// Failed attempts so far.
        attempts: u32,
    },
}

/// Answer of `IdempotencyStore::begin` for (caller, FunctionCallIdentifier).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyBegin {
    /// First time this key is seen: the caller should process the request, then `complete`.
    New,
    /// The same request is being processed (answer as for a running request, e.g. 202 again).
    InProgress,
    /// The same request was already answered: replay this stored response.
    Completed(Vec<u8>),
    /// The key was used before with a different request (different hash).
    Mismatch,
}

/// One audit-trail entry to append (U-34).
#[derive(Debug, Clone, PartialEq)]
pub struct NewAuditRecord {
    /// When the audited operation happened.
    pub at: OffsetDateTime,
    /// Who caused it (caller identity, or the server itself).
    pub actor: String,
    /// What was done (function name, notification type, ...).
    pub action: String,
    /// EID concerned, if any.
    pub eid: Option<String>,
    /// ICCID concerned, if any.
    pub iccid: Option<String>,
    /// Further detail as JSON.
    pub detail: serde_json::Value,
}

/// A stored audit-trail entry.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    /// Store-assigned id.
    pub id: i64,
    /// When the audited operation happened.
    pub at: OffsetDateTime,
    /// Who caused it.
    pub actor: String,
    /// What was done.
    pub action: String,
    /// EID concerned, if any.
    pub eid: Option<String>,
    /// ICCID concerned, if any.
    pub iccid: Option<String>,
    /// Further detail as JSON.
    pub detail: serde_json::Value,
}

/// Position after which the next audit page starts (entries are ordered by `(at, id)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditCursor {
    /// `at` of the last entry already returned.
    pub at: OffsetDateTime,
    /// `id` of the last entry already returned.
    pub id: i64,
}

/// One page of audit entries.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditPage {
    /// Entries in `(at, id)` order.
    pub records: Vec<AuditRecord>,
    /// Cursor for the next page; `None` when this page is the last.
    pub next: Option<AuditCursor>,
}

/// One write of an atomic batch (see `Store::apply`): all succeed or none is stored.
#[derive(Debug, Clone, PartialEq)]
pub enum WriteOp {
    /// Insert an EIS record.
    InsertEis(EisData),
    /// Update an EIS record if its version is still `expected_version`.
    UpdateEis {
        /// New values (the key is `data.eid`).
        data: EisData,
        /// Version the caller read.
        expected_version: i64,
    },
    /// Insert a profile record.
    InsertProfile(ProfileData),
    /// Update a profile record if its version is still `expected_version`.
    UpdateProfile {
        /// New values (the key is `data.iccid`).
        data: ProfileData,
        /// Version the caller read.
        expected_version: i64,
    },
    /// Delete a profile record if its version is still `expected_version`.
    DeleteProfile {
        /// ICCID.
        iccid: String,
        /// Version the caller read.
        expected_version: i64,
    },
    /// Create a procedure row.
    CreateProcedure(NewProcedure),
    /// Advance a procedure if its version is still `expected_version`.
    AdvanceProcedure {
        /// Procedure id.
        id: String,
        /// Version the caller read.
        expected_version: i64,
        /// New state.
        update: ProcedureUpdate,
    },
    /// Enqueue an outbox message.
    Enqueue(NewOutboxMessage),
    /// Append an audit entry.
    AppendAudit(NewAuditRecord),
    /// Store the response of an idempotent request.
    CompleteIdempotency {
        /// Caller identity.
        caller: String,
        /// FunctionCallIdentifier.
        fcid: String,
        /// Response to replay.
        response: Vec<u8>,
    },
}

/// Result of one [`WriteOp`], in the same position as the op.
#[derive(Debug, Clone, PartialEq)]
pub enum WriteResult {
    /// The EIS record after the write.
    Eis(EisRecord),
    /// The profile record after the write.
    Profile(ProfileRecord),
    /// The procedure row after the write.
    Procedure(ProcedureRecord),
    /// Id of the enqueued outbox message.
    Enqueued(i64),
    /// Id of the appended audit entry.
    Audited(i64),
    /// The write (delete, idempotency completion) succeeded.
    Done,
}
