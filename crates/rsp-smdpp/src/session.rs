//! RSP sessions (sgp22.md §4, §5): one per transactionId, kept as a procedure row
//! ([`SESSION_KIND`], id = transactionId in upper-case hex, correlation = the ICCID once an order
//! is matched). Nothing stays in memory between two ES9+ calls: any node sharing the store can
//! serve the next call, and every save names the row version it read (optimistic concurrency).
//!
//! ```text
//! Initiated ──AuthenticateClient──▶ Authenticated ──GetBoundProfilePackage──▶ BppDelivered
//!     │                                  │                                      │
//!     └──────────── CancelSession / error / Profile Installation Result ───────┴──▶ Closed
//! ```
//!
//! Each state carries what the next step needs: after InitiateAuthentication the challenges,
//! the chosen CI and curve, the capabilities received and the negotiated [`Profile`]; after
//! AuthenticateClient the EID, the eUICC certificate, the order's ICCID, the package version,
//! `smdpSignature2` (covered by `euiccSignature2`) and the metadata sent.

use std::fmt;
use std::sync::Arc;

use rsp_sgp22::TransactionId;
use rsp_sgp22::cma::serde_hex;
pub use rsp_sgp22::cma::{Initiated, StoredProfile};
use rsp_store::{
    NewProcedure, ProcedureRecord, ProcedureUpdate, Store, StoreError, WriteOp, WriteResult,
};
use rsp_types::{Eid, Iccid, Svn};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Procedure kind of a session row.
pub const SESSION_KIND: &str = "smdpp.session";
/// Format version of the stored session encoding.
pub const SESSION_FORMAT_VERSION: u32 = 1;

/// After AuthenticateClient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Authenticated {
    /// What InitiateAuthentication left.
    pub initiated: Initiated,
    /// The EID (from the eUICC certificate).
    pub eid: Eid,
    /// CERT.EUICC (DER).
    #[serde(with = "serde_hex::bytes")]
    pub euicc_certificate: Vec<u8>,
    /// CERT.EUM or the EUM SubCA (DER).
    #[serde(with = "serde_hex::bytes")]
    pub eum_certificate: Vec<u8>,
    /// The order's ICCID.
    pub iccid: Iccid,
    /// The profile package version chosen.
    #[serde(with = "serde_hex::svn")]
    pub package_version: Svn,
    /// The MatchingID the eUICC presented (`None` = none / empty).
    #[serde(default)]
    pub matching_id: Option<String>,
    /// `ccRequiredFlag` sent.
    pub cc_required: bool,
    /// `bppEuiccOtpk` sent (re-use of the previous binding's eUICC key), if any.
    #[serde(default, with = "serde_hex::opt_bytes")]
    pub bpp_euicc_otpk: Option<Vec<u8>>,
    /// `smdpSignature2` (raw r‖s): `euiccSignature2` covers its TLV.
    #[serde(with = "serde_hex::bytes")]
    pub smdp_signature2: Vec<u8>,
    /// The `StoreMetadataRequest` sent (DER, encoded for the peer); the BPP carries the same.
    #[serde(with = "serde_hex::bytes")]
    pub profile_metadata: Vec<u8>,
}

/// After GetBoundProfilePackage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BppDelivered {
    /// What AuthenticateClient left.
    pub authenticated: Authenticated,
    /// `euiccOtpk` of the binding.
    #[serde(with = "serde_hex::bytes")]
    pub euicc_otpk: Vec<u8>,
}

/// Why a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CloseReason {
    /// The Profile Installation Result was received.
    InstallationResult,
    /// The eUICC cancelled (`CancelSessionReason`).
    Cancelled(i64),
    /// The eUICC reported an error in AuthenticateServer / PrepareDownload.
    EuiccError(i64),
    /// A check failed; the session cannot continue.
    Refused,
}

/// A finished session; keeps the eUICC certificate so that a late notification still verifies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Closed {
    /// Why.
    pub reason: CloseReason,
    /// The state the session was in.
    pub from: String,
    /// The EID, when known.
    #[serde(default)]
    pub eid: Option<Eid>,
    /// The ICCID, when known.
    #[serde(default)]
    pub iccid: Option<Iccid>,
    /// CERT.EUICC, when known.
    #[serde(default, with = "serde_hex::opt_bytes")]
    pub euicc_certificate: Option<Vec<u8>>,
}

/// The typed state of a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SessionState {
    /// InitiateAuthentication answered.
    Initiated(Initiated),
    /// AuthenticateClient answered.
    Authenticated(Box<Authenticated>),
    /// GetBoundProfilePackage answered.
    BppDelivered(Box<BppDelivered>),
    /// Finished.
    Closed(Closed),
}

impl SessionState {
    /// The state name (also the procedure row's state).
    pub fn name(&self) -> &'static str {
        match self {
            SessionState::Initiated(_) => "Initiated",
            SessionState::Authenticated(_) => "Authenticated",
            SessionState::BppDelivered(_) => "BppDelivered",
            SessionState::Closed(_) => "Closed",
        }
    }

    /// The authenticated data, in Authenticated and BppDelivered.
    pub fn authenticated(&self) -> Option<&Authenticated> {
        match self {
            SessionState::Authenticated(a) => Some(a),
            SessionState::BppDelivered(d) => Some(&d.authenticated),
            _ => None,
        }
    }

    /// The eUICC certificate, once known.
    pub fn euicc_certificate(&self) -> Option<&[u8]> {
        match self {
            SessionState::Closed(c) => c.euicc_certificate.as_deref(),
            s => s.authenticated().map(|a| a.euicc_certificate.as_slice()),
        }
    }

    /// The ICCID, once known.
    pub fn iccid(&self) -> Option<&Iccid> {
        match self {
            SessionState::Closed(c) => c.iccid.as_ref(),
            s => s.authenticated().map(|a| &a.iccid),
        }
    }

    /// This state closed for `reason`, keeping what a late notification needs.
    pub fn close(&self, reason: CloseReason) -> SessionState {
        if let SessionState::Closed(c) = self {
            return SessionState::Closed(c.clone());
        }
        let a = self.authenticated();
        SessionState::Closed(Closed {
            reason,
            from: self.name().to_string(),
            eid: a.map(|a| a.eid),
            iccid: a.map(|a| a.iccid),
            euicc_certificate: a.map(|a| a.euicc_certificate.clone()),
        })
    }
}

/// One RSP session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The transactionId (the row id, in upper-case hex).
    pub transaction_id: TransactionId,
    /// When InitiateAuthentication ran.
    pub created_at: OffsetDateTime,
    /// After this instant the session is unknown (8.10.1/3.9).
    pub expires_at: OffsetDateTime,
    /// The state.
    pub state: SessionState,
}

impl Session {
    /// Whether the session may still be used at `now`.
    pub fn is_live(&self, now: OffsetDateTime) -> bool {
        now < self.expires_at && !matches!(self.state, SessionState::Closed(_))
    }

    /// The row id: the transactionId in upper-case hex.
    pub fn row_id(transaction_id: &TransactionId) -> String {
        transaction_id.to_string()
    }

    /// The stored encoding (JSON).
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(&StoredSessionV1 {
            format: SESSION_FORMAT_VERSION,
            transaction_id: self.transaction_id.to_string(),
            created_at: self.created_at.unix_timestamp(),
            expires_at: self.expires_at.unix_timestamp(),
            state: self.state.clone(),
        })
        .unwrap_or_default()
    }

    /// Reads the stored encoding.
    pub fn from_bytes(bytes: &[u8]) -> Result<Session, SessionCodecError> {
        let v: StoredSessionV1 =
            serde_json::from_slice(bytes).map_err(|e| SessionCodecError(e.to_string()))?;
        if v.format != SESSION_FORMAT_VERSION {
            return Err(SessionCodecError(format!(
                "unknown session format {}",
                v.format
            )));
        }
        let tid_bytes =
            hex::decode(&v.transaction_id).map_err(|e| SessionCodecError(e.to_string()))?;
        let transaction_id =
            TransactionId::new(&tid_bytes).map_err(|e| SessionCodecError(e.to_string()))?;
        let ts = |t: i64| {
            OffsetDateTime::from_unix_timestamp(t).map_err(|e| SessionCodecError(e.to_string()))
        };
        Ok(Session {
            transaction_id,
            created_at: ts(v.created_at)?,
            expires_at: ts(v.expires_at)?,
            state: v.state,
        })
    }
}

#[derive(Serialize, Deserialize)]
struct StoredSessionV1 {
    format: u32,
    transaction_id: String,
    created_at: i64,
    expires_at: i64,
    state: SessionState,
}

/// The stored session could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("stored session unreadable: {0}")]
pub struct SessionCodecError(pub String);

/// Failures of [`Sessions`].
#[derive(Debug, thiserror::Error)]
pub enum SessionStoreError {
    /// Another node changed the session first (stale version).
    #[error("the session was changed concurrently")]
    Conflict,
    /// The store failed.
    #[error(transparent)]
    Store(StoreError),
    /// A stored row is unreadable.
    #[error(transparent)]
    Codec(#[from] SessionCodecError),
}

impl From<StoreError> for SessionStoreError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict { .. } | StoreError::Duplicate { .. } => {
                SessionStoreError::Conflict
            }
            e => SessionStoreError::Store(e),
        }
    }
}

/// A session with the row version it was read at (0 = not stored yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSession {
    /// The session.
    pub session: Session,
    /// The row version.
    pub version: i64,
}

impl StoredSession {
    /// Reads a procedure row of kind [`SESSION_KIND`].
    pub fn from_record(rec: &ProcedureRecord) -> Result<StoredSession, SessionCodecError> {
        if rec.kind != SESSION_KIND {
            return Err(SessionCodecError(format!(
                "procedure {} is a {}",
                rec.id, rec.kind
            )));
        }
        Ok(StoredSession {
            session: Session::from_bytes(&rec.data)?,
            version: rec.version,
        })
    }

    /// The write storing this session: a create for version 0, else a checked advance. The
    /// correlation is the ICCID once known.
    pub fn write_op(&self) -> WriteOp {
        let s = &self.session;
        let id = Session::row_id(&s.transaction_id);
        let correlation = s.state.iccid().map(ToString::to_string);
        if self.version == 0 {
            WriteOp::CreateProcedure(NewProcedure {
                id,
                kind: SESSION_KIND.to_owned(),
                state: s.state.name().to_owned(),
                data: s.to_bytes(),
                correlation,
                due_at: None,
            })
        } else {
            WriteOp::AdvanceProcedure {
                id,
                expected_version: self.version,
                update: ProcedureUpdate {
                    state: s.state.name().to_owned(),
                    data: s.to_bytes(),
                    correlation,
                    due_at: None,
                },
            }
        }
    }
}

/// Sessions in the store.
#[derive(Clone)]
pub struct Sessions {
    store: Arc<dyn Store>,
}

impl fmt::Debug for Sessions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sessions").finish_non_exhaustive()
    }
}

impl Sessions {
    /// Sessions kept in `store`.
    pub fn new(store: Arc<dyn Store>) -> Sessions {
        Sessions { store }
    }

    /// The session of `transaction_id`, if any (expired and closed sessions included).
    pub async fn load(
        &self,
        transaction_id: &TransactionId,
    ) -> Result<Option<StoredSession>, SessionStoreError> {
        match self
            .store
            .load_procedure(&Session::row_id(transaction_id))
            .await?
        {
            Some(rec) if rec.kind == SESSION_KIND => Ok(Some(StoredSession::from_record(&rec)?)),
            _ => Ok(None),
        }
    }

    /// Stores `stored` with `extra` writes in one atomic batch; returns it at its new version.
    pub async fn save(
        &self,
        stored: &StoredSession,
        extra: Vec<WriteOp>,
        now: OffsetDateTime,
    ) -> Result<StoredSession, SessionStoreError> {
        let mut ops = Vec::with_capacity(extra.len() + 1);
        ops.push(stored.write_op());
        ops.extend(extra);
        let results = self.store.apply(&ops, now).await?;
        match results.first() {
            Some(WriteResult::Procedure(rec)) => Ok(StoredSession {
                session: stored.session.clone(),
                version: rec.version,
            }),
            _ => Err(SessionStoreError::Store(StoreError::Corrupt(
                "apply did not return the session row".into(),
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use rsp_crypto::ecc::Curve;
    use rsp_sgp22::{Feature, FeatureSet, Profile};

    #[test]
    fn round_trip() {
        let tid = TransactionId::new(&[0xAB; 16]).unwrap();
        let init = Initiated {
            euicc_challenge: [1; 16],
            server_challenge: [2; 16],
            ci_pk_id: vec![3; 20],
            curve: Curve::BrainpoolP256r1,
            euicc_info1: vec![0xBF, 0x20, 0x00],
            lpa_rsp_capability: Some(vec![0x07, 0x80]),
            peer: StoredProfile::from(
                &Profile::new(Svn::new(3, 1, 0)).with_features(FeatureSet::of(&[Feature::Rpm])),
            ),
            server_v3: true,
        };
        let s = Session {
            transaction_id: tid,
            created_at: OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap(),
            expires_at: OffsetDateTime::from_unix_timestamp(1_800_000_600).unwrap(),
            state: SessionState::Initiated(init),
        };
        let back = Session::from_bytes(&s.to_bytes()).unwrap();
        assert_eq!(back, s);
        let SessionState::Initiated(i) = &back.state else {
            panic!("state")
        };
        assert_eq!(
            i.peer.profile(),
            Profile::new(Svn::new(3, 1, 0)).with_features(FeatureSet::of(&[Feature::Rpm]))
        );
        assert!(Session::from_bytes(b"{}").is_err());
    }
}
