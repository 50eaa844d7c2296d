//! The event store: one procedure row per event (kind [`EVENT_KIND`], id
//! `smds.event/<EventID>`, correlation = the EID, state `registered` / `deleted`), so events
//! live in the same SQLite / PostgreSQL store as everything else and survive restarts.
//!
//! A deleted event stays as a tombstone (state `deleted`): a retried DeleteEvent from its
//! registrant is answered as done, a DeleteEvent from anyone else is still refused, and the
//! EventID cannot be reused by another registrant. Tombstones are never listed on ES11.
//!
//! Row data = one format byte ([`FORMAT_V1`]) then the JSON of [`EventData`].

use std::sync::Arc;

use rsp_store::{NewProcedure, ProcedureRecord, ProcedureUpdate, Store, StoreError, WriteOp};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Procedure kind of an event row.
pub const EVENT_KIND: &str = "smds.event";
/// Procedure kind of a push service registration row (id `smds.push/<EID>`).
pub const PUSH_KIND: &str = "smds.push";
/// State of a live event.
pub const STATE_REGISTERED: &str = "registered";
/// State of a deleted event (tombstone).
pub const STATE_DELETED: &str = "deleted";
/// Format byte of the row data.
pub const FORMAT_V1: u8 = 1;

/// Row id of the event `event_id`.
pub fn event_row_id(event_id: &str) -> String {
    format!("{EVENT_KIND}/{event_id}")
}

/// Row id of the push registration of `eid`.
pub fn push_row_id(eid: &str) -> String {
    format!("{PUSH_KIND}/{eid}")
}

/// Through which interface an event arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// ES12, from an SM-DP+.
    Es12,
    /// ES15, from an Alternative SM-DS.
    Es15,
}

/// The cascade of an event this (Alternative) SM-DS forwarded to its Root SM-DS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Forwarded {
    /// The EventID2 registered at the Root (its event points to this SM-DS).
    pub event_id2: String,
    /// The Root SM-DS's base URL the ES15 calls go to.
    pub root_url: String,
}

/// What the store keeps about one event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventData {
    /// EID, 32 digits.
    pub eid: String,
    /// EventID (the MatchingID the LPA presents to `rsp_server_address`).
    pub event_id: String,
    /// RSP server address (an SM-DP+, or an Alternative SM-DS in a cascade).
    pub rsp_server_address: String,
    /// Identity of the registrant (its TLS client certificate's OID, see
    /// [`crate::caller::CallerIdentity`]); only it may delete the event.
    pub registrant: String,
    /// The forwarding indicator as received.
    pub forwarding_indicator: bool,
    /// ES12 or ES15.
    pub origin: Origin,
    /// Registration time (UTC, RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    pub registered_at: OffsetDateTime,
    /// Set when this SM-DS forwarded the event to its Root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forwarded: Option<Forwarded>,
    /// Deletion time, once deleted.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub deleted_at: Option<OffsetDateTime>,
}

impl EventData {
    /// The row data: format byte then JSON.
    pub fn to_bytes(&self) -> Result<Vec<u8>, EventStoreError> {
        let mut out = vec![FORMAT_V1];
        serde_json::to_writer(&mut out, self)
            .map_err(|e| EventStoreError::Encoding(e.to_string()))?;
        Ok(out)
    }

    /// Parses row data.
    pub fn from_bytes(bytes: &[u8]) -> Result<EventData, EventStoreError> {
        match bytes.split_first() {
            Some((&FORMAT_V1, json)) => {
                serde_json::from_slice(json).map_err(|e| EventStoreError::Encoding(e.to_string()))
            }
            _ => Err(EventStoreError::Encoding("unknown event row format".into())),
        }
    }
}

/// An event as read from the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    /// The data.
    pub data: EventData,
    /// Whether it is still registered (not a tombstone).
    pub live: bool,
    /// Row version (compare-and-set).
    pub version: i64,
}

/// Event store failures.
#[derive(Debug, thiserror::Error)]
pub enum EventStoreError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A row does not decode.
    #[error("event row: {0}")]
    Encoding(String),
}

/// The events of one SM-DS in an [`rsp_store::Store`].
#[derive(Clone)]
pub struct EventStore {
    store: Arc<dyn Store>,
}

impl std::fmt::Debug for EventStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventStore").finish_non_exhaustive()
    }
}

fn stored(rec: &ProcedureRecord) -> Result<StoredEvent, EventStoreError> {
    Ok(StoredEvent {
        data: EventData::from_bytes(&rec.data)?,
        live: rec.state == STATE_REGISTERED,
        version: rec.version,
    })
}

impl EventStore {
    /// Events in `store`.
    pub fn new(store: Arc<dyn Store>) -> EventStore {
        EventStore { store }
    }

    /// The underlying store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The event `event_id` (live or tombstone).
    pub async fn get(&self, event_id: &str) -> Result<Option<StoredEvent>, EventStoreError> {
        match self.store.load_procedure(&event_row_id(event_id)).await? {
            Some(rec) if rec.kind == EVENT_KIND => Ok(Some(stored(&rec)?)),
            _ => Ok(None),
        }
    }

    /// The live events of `eid`, oldest first. Only rows whose EID is `eid` are returned, whatever
    /// the correlation column says.
    pub async fn live_for_eid(&self, eid: &str) -> Result<Vec<EventData>, EventStoreError> {
        let mut out = Vec::new();
        for rec in self.store.procedures_by_correlation(eid).await? {
            if rec.kind != EVENT_KIND || rec.state != STATE_REGISTERED {
                continue;
            }
            let ev = stored(&rec)?;
            if ev.data.eid == eid {
                out.push(ev.data);
            }
        }
        Ok(out)
    }

    /// The write creating `data` as a live event.
    pub fn create_op(data: &EventData) -> Result<WriteOp, EventStoreError> {
        Ok(WriteOp::CreateProcedure(NewProcedure {
            id: event_row_id(&data.event_id),
            kind: EVENT_KIND.to_owned(),
            state: STATE_REGISTERED.to_owned(),
            data: data.to_bytes()?,
            correlation: Some(data.eid.clone()),
            due_at: None,
        }))
    }

    /// The write turning `event` into a tombstone deleted at `now`.
    pub fn delete_op(event: &StoredEvent, now: OffsetDateTime) -> Result<WriteOp, EventStoreError> {
        let mut data = event.data.clone();
        data.deleted_at = Some(now);
        Ok(WriteOp::AdvanceProcedure {
            id: event_row_id(&data.event_id),
            expected_version: event.version,
            update: ProcedureUpdate {
                state: STATE_DELETED.to_owned(),
                data: data.to_bytes()?,
                correlation: Some(data.eid.clone()),
                due_at: None,
            },
        })
    }

    /// The push registration of `eid`, if any.
    pub async fn push_registration(
        &self,
        eid: &str,
    ) -> Result<Option<PushRegistration>, EventStoreError> {
        match self.store.load_procedure(&push_row_id(eid)).await? {
            Some(rec) if rec.kind == PUSH_KIND => {
                Ok(Some(PushRegistration::from_bytes(&rec.data)?))
            }
            _ => Ok(None),
        }
    }

    /// The write storing `reg`, replacing the EID's previous registration (put it in the
    /// batch that answers the eUICC).
    pub async fn push_registration_op(
        &self,
        reg: &PushRegistration,
    ) -> Result<WriteOp, EventStoreError> {
        let id = push_row_id(&reg.eid);
        let data = reg.to_bytes()?;
        Ok(match self.store.load_procedure(&id).await? {
            Some(rec) => WriteOp::AdvanceProcedure {
                id,
                expected_version: rec.version,
                update: ProcedureUpdate {
                    state: STATE_REGISTERED.to_owned(),
                    data,
                    correlation: Some(reg.eid.clone()),
                    due_at: None,
                },
            },
            None => WriteOp::CreateProcedure(NewProcedure {
                id,
                kind: PUSH_KIND.to_owned(),
                state: STATE_REGISTERED.to_owned(),
                data,
                correlation: Some(reg.eid.clone()),
                due_at: None,
            }),
        })
    }

    /// Stores `reg`, replacing the EID's previous registration.
    pub async fn save_push_registration(
        &self,
        reg: &PushRegistration,
        now: OffsetDateTime,
    ) -> Result<(), EventStoreError> {
        let op = self.push_registration_op(reg).await?;
        self.apply(&[op], now).await
    }

    /// Applies `ops` atomically.
    pub async fn apply(&self, ops: &[WriteOp], now: OffsetDateTime) -> Result<(), EventStoreError> {
        self.store.apply(ops, now).await?;
        Ok(())
    }
}

/// A push service registration (sgp22.md §16.3): what the SM-DS stores per EID.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushRegistration {
    /// EID.
    pub eid: String,
    /// The selected push service (OID, dotted).
    pub push_service: String,
    /// The push token.
    pub push_token: String,
    /// Registration time.
    #[serde(with = "time::serde::rfc3339")]
    pub registered_at: OffsetDateTime,
}

impl PushRegistration {
    /// Row data: format byte then JSON.
    pub fn to_bytes(&self) -> Result<Vec<u8>, EventStoreError> {
        let mut out = vec![FORMAT_V1];
        serde_json::to_writer(&mut out, self)
            .map_err(|e| EventStoreError::Encoding(e.to_string()))?;
        Ok(out)
    }

    /// Parses row data.
    pub fn from_bytes(bytes: &[u8]) -> Result<PushRegistration, EventStoreError> {
        match bytes.split_first() {
            Some((&FORMAT_V1, json)) => {
                serde_json::from_slice(json).map_err(|e| EventStoreError::Encoding(e.to_string()))
            }
            _ => Err(EventStoreError::Encoding("unknown push row format".into())),
        }
    }
}
