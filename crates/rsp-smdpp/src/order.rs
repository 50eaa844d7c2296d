//! The SM-DP+ download order: one per ICCID, from `DownloadOrder` to the Profile Installation
//! Result (sgp22.md §10).
//!
//! ```text
//!  Available ──DownloadOrder──▶ Allocated (no EID) / Linked (EID given)
//!  Allocated/Linked ──ConfirmOrder(releaseFlag=false)──▶ Confirmed ──ReleaseProfile──▶ Released
//!  Allocated/Linked ──ConfirmOrder(releaseFlag=true)───────────────────────────────▶ Released
//!  Released ──GetBoundProfilePackage──▶ Downloaded ──PIR success──▶ Installed
//!  Downloaded ──PIR error 10/11 (temporary), CancelSession postponed/timeout──▶ Released
//!  any download step ──permanent error, counters exceeded, expiry──▶ Error
//!  any state before Downloaded ──CancelOrder──▶ Available / Unavailable
//! ```
//!
//! [`Order`] holds the state and the pure transition methods; every refusal is an
//! [`OrderError`] that names its SGP.22 status code ([`OrderError::status`]) and, for the ES9+
//! ASN.1 binding, its error integer. [`Orders`] persists orders as procedure rows
//! ([`ORDER_KIND`], id = ICCID, correlation = MatchingID) with optimistic concurrency: every save
//! names the row version it read, so two SM-DP+ nodes sharing a store never both win.
//!
//! Decisions (for `docs/conformance.md`):
//! - Counters (U-50): at most [`DEFAULT_MAX_DOWNLOAD_ATTEMPTS`] download attempts (one per
//!   AuthenticateClient accepted for the order) and [`DEFAULT_MAX_CC_ATTEMPTS`] wrong
//!   Confirmation Codes; exceeding either puts the order in `Error`.
//! - The Confirmation Code given in ConfirmOrder is hashed at once (`SHA256(CC)`); only the hash
//!   is stored. The eUICC's `hashCc` is checked as `SHA256(SHA256(CC) ‖ transactionId)`.
//! - A missing `hashCc` when one is required is refused (8.2.7/2.2) but does not count as an
//!   attempt; a wrong one counts.
//! - MatchingID: an absent one is generated ([`generate_matching_id`]: four groups of five
//!   characters of `0-9A-Z` joined by `-`, about 103 random bits); a given one must be 1..=255
//!   characters of `0-9A-Z-` (the Activation Code alphabet), else 8.2.6/2.1. An empty one
//!   (`""`) means "no MatchingID": the eUICC is matched by its EID (default SM-DP+ or SM-DS
//!   discovery), so the EID is then mandatory (8.1.1/2.2). A MatchingID is unique across all
//!   orders and never reused, even after CancelOrder (a claim row per MatchingID, created in the
//!   same atomic batch as the order update).
//! - CancelSession (sgp22.md §9.4): `postponed(1)` and `timeout(2)` keep the order (the download
//!   may be retried); every other reason ends it in `Error` with the mapped code.
//! - Installation errors 10 and 11 are temporary (back to `Released`, retry data kept, unless the
//!   download attempts are used up); every other error is permanent (`Error`).

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use rsp_sgp22::TransactionId;
use rsp_store::{
    NewProcedure, ProcedureRecord, ProcedureUpdate, Store, StoreError, WriteOp, WriteResult,
};
use rsp_types::codes::sgp22::status;
use rsp_types::{Eid, Iccid, StatusCode, Svn};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

/// Procedure kind of an order row.
pub const ORDER_KIND: &str = "smdpp.order";
/// Procedure kind of a MatchingID claim row (id = [`MATCHING_ID_CLAIM_PREFIX`] + MatchingID,
/// data = the ICCID).
pub const MATCHING_ID_CLAIM_KIND: &str = "smdpp.matching_id";
/// Id prefix of a MatchingID claim row.
pub const MATCHING_ID_CLAIM_PREFIX: &str = "smdpp.matching_id:";
/// Correlation prefix of an order without MatchingID (matched by EID): `eid:<EID>`.
pub const EID_CORRELATION_PREFIX: &str = "eid:";
/// Format version of the stored order encoding.
pub const ORDER_FORMAT_VERSION: u32 = 1;
/// Default limit of download attempts per order (U-50).
pub const DEFAULT_MAX_DOWNLOAD_ATTEMPTS: u32 = 5;
/// Default limit of wrong Confirmation Codes per order (U-50).
pub const DEFAULT_MAX_CC_ATTEMPTS: u32 = 3;
/// Longest MatchingID accepted from an Operator.
pub const MATCHING_ID_MAX_CHARS: usize = 255;

/// The SM-DP+ state of a profile / order (sgp22.md §10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OrderState {
    /// In the inventory, not reserved (also the state after CancelOrder with `Available`).
    Available,
    /// Reserved by DownloadOrder, no EID yet.
    Allocated,
    /// Reserved by DownloadOrder for an EID.
    Linked,
    /// ConfirmOrder with `releaseFlag` false: waits for ReleaseProfile.
    Confirmed,
    /// Ready to be downloaded.
    Released,
    /// The Bound Profile Package was delivered; waiting for the Profile Installation Result.
    Downloaded,
    /// Installed on the eUICC (final).
    Installed,
    /// Ended by an error (final until CancelOrder).
    Error,
    /// Withdrawn from the inventory (final).
    Unavailable,
}

impl OrderState {
    /// The name stored in the procedure row's `state` column.
    pub const fn as_str(self) -> &'static str {
        match self {
            OrderState::Available => "Available",
            OrderState::Allocated => "Allocated",
            OrderState::Linked => "Linked",
            OrderState::Confirmed => "Confirmed",
            OrderState::Released => "Released",
            OrderState::Downloaded => "Downloaded",
            OrderState::Installed => "Installed",
            OrderState::Error => "Error",
            OrderState::Unavailable => "Unavailable",
        }
    }

    /// Whether the order reserves its ICCID (every state but Available).
    pub const fn is_reserved(self) -> bool {
        !matches!(self, OrderState::Available)
    }
}

impl fmt::Display for OrderState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an order ended in [`OrderState::Error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ErrorCause {
    /// The download attempts were used up.
    DownloadAttemptsExceeded,
    /// The Confirmation Code attempts were used up.
    CcAttemptsExceeded,
    /// The order expired.
    Expired,
    /// The eUICC reported a permanent installation error (`errorReason`).
    InstallationFailed {
        /// `bppCommandId`.
        bpp_command_id: i64,
        /// `errorReason`.
        error_reason: i64,
    },
    /// The eUICC cancelled the session with this CancelSession reason.
    SessionCancelled {
        /// `CancelSessionReason`.
        reason: i64,
    },
}

/// Where a final Operator-facing code for an error cause comes from.
impl ErrorCause {
    /// The code reported to the Operator (HandleDownloadProgressInfo) and to a later
    /// AuthenticateClient for this order.
    pub fn status(&self) -> StatusCode {
        match self {
            ErrorCause::DownloadAttemptsExceeded => status::DOWNLOAD_ATTEMPTS_EXCEEDED,
            ErrorCause::CcAttemptsExceeded => status::CONFIRMATION_CODE_RETRIES_EXCEEDED,
            ErrorCause::Expired => status::DOWNLOAD_ORDER_EXPIRED,
            ErrorCause::InstallationFailed { error_reason, .. } => {
                installation_error_status(*error_reason)
            }
            ErrorCause::SessionCancelled { reason } => cancel_session_status(*reason),
        }
    }
}

/// The code reported to the Operator for a CancelSession reason (sgp22.md §9.4; the v3.1
/// extract lacks postponed(1) and timeout(2), C-24: they get the end-user code here, but they do
/// not end the order).
pub fn cancel_session_status(reason: i64) -> StatusCode {
    match reason {
        0..=2 => status::END_USER_REJECTION,
        3 => status::PPR_NOT_ALLOWED,
        4 => status::METADATA_MISMATCH,
        5 => status::LOAD_BPP_EXECUTION_ERROR,
        17 => status::ENTERPRISE_PROFILES_NOT_SUPPORTED,
        18 => status::ENTERPRISE_RULES_NOT_ALLOWED,
        19 | 21 | 22 => status::ENTERPRISE_REFUSED,
        20 => status::ENTERPRISE_OID_MISMATCH,
        23 => status::LPR_NOT_SUPPORTED,
        _ => status::UNDEFINED_REASON,
    }
}

/// Whether a CancelSession reason keeps the order downloadable (postponed, timeout).
pub const fn cancel_session_is_temporary(reason: i64) -> bool {
    matches!(reason, 1 | 2)
}

/// The code reported to the Operator for a permanent Profile Installation Result error (project
/// choice: PPR refusal → 8.2.8/1.2, insufficient memory → 8.1/4.8, anything else → 8.2.10/4.2
/// "BPP execution error").
pub fn installation_error_status(error_reason: i64) -> StatusCode {
    match error_reason {
        15 => status::PPR_NOT_ALLOWED,
        10 => status::INSUFFICIENT_MEMORY,
        _ => status::LOAD_BPP_EXECUTION_ERROR,
    }
}

/// Whether an `errorReason` of the Profile Installation Result is temporary (10
/// installFailedDueToInsufficientMemoryForProfile, 11 installFailedDueToInterruption).
pub const fn installation_error_is_temporary(error_reason: i64) -> bool {
    matches!(error_reason, 10 | 11)
}

/// Counter limits of an order (U-50).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLimits {
    /// Download attempts (accepted AuthenticateClient calls) per order.
    pub max_download_attempts: u32,
    /// Wrong Confirmation Codes per order.
    pub max_cc_attempts: u32,
}

impl Default for OrderLimits {
    fn default() -> Self {
        OrderLimits {
            max_download_attempts: DEFAULT_MAX_DOWNLOAD_ATTEMPTS,
            max_cc_attempts: DEFAULT_MAX_CC_ATTEMPTS,
        }
    }
}

/// Every refusal of an order operation, with its SGP.22 code ([`OrderError::status`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderError {
    // --- ES2+ ---
    /// The ICCID is not known (8.2.1/3.9).
    #[error("ICCID unknown")]
    UnknownIccid,
    /// The caller does not own this order (8.2.1/1.2).
    #[error("the caller is not allowed on this profile")]
    NotOwner,
    /// The profile is reserved or already downloaded (8.2.1/3.3).
    #[error("profile not available (state {0})")]
    ProfileNotAvailable(OrderState),
    /// The state does not allow the operation (8.2.1/3.5).
    #[error("operation not allowed in state {0}")]
    InvalidTransition(OrderState),
    /// The EID is needed for this order and was not given (8.1.1/2.2).
    #[error("EID missing for this order")]
    EidMissing,
    /// A different EID is associated with this order (8.1.1/3.10).
    #[error("a different EID is associated with this ICCID")]
    EidConflict,
    /// The MatchingID is not valid (8.2.6/2.1).
    #[error("MatchingID invalid: {0}")]
    MatchingIdInvalid(&'static str),
    /// The MatchingID is used by another order (8.2.6/3.3).
    #[error("MatchingID already in use")]
    MatchingIdInUse,
    /// The MatchingID given does not belong to this order (8.2.6/3.10).
    #[error("MatchingID associated with another ICCID")]
    MatchingIdMismatch,
    // --- ES9+ ---
    /// No downloadable order for this MatchingID (8.2.6/3.8).
    #[error("MatchingID refused")]
    MatchingIdRefused,
    /// The order is for another EID (8.1.1/3.8).
    #[error("EID refused")]
    EidMismatch,
    /// ConfirmOrder ran without releaseFlag and ReleaseProfile has not come yet (8.2/1.2).
    #[error("profile not released")]
    NotReleased,
    /// The download attempts are used up (8.8.5/6.4).
    #[error("maximum number of download attempts exceeded")]
    DownloadAttemptsExceeded,
    /// The order expired (8.8.5/4.10).
    #[error("download order expired")]
    Expired,
    /// A Confirmation Code is required and `hashCc` is absent (8.2.7/2.2).
    #[error("confirmation code missing")]
    CcMissing,
    /// Wrong Confirmation Code (8.2.7/3.8).
    #[error("confirmation code refused")]
    CcRefused,
    /// The Confirmation Code attempts are used up (8.2.7/6.4).
    #[error("maximum number of confirmation code attempts exceeded")]
    CcAttemptsExceeded,
    /// The operation names a transaction other than the order's current download (8.10.1/3.9).
    #[error("transactionId does not match the order's download")]
    TransactionMismatch,
    /// The order ended in Error for this cause (its code is the cause's, e.g. 8.8.5/6.4).
    #[error("order ended in error: {0:?}")]
    Failed(ErrorCause),
}

impl OrderError {
    /// The subject / reason code of this refusal.
    pub fn status(&self) -> StatusCode {
        match self {
            OrderError::UnknownIccid => status::UNKNOWN_ICCID,
            OrderError::NotOwner => status::PROFILE_NOT_ALLOWED,
            OrderError::ProfileNotAvailable(_) => status::PROFILE_NOT_AVAILABLE,
            OrderError::InvalidTransition(_) => status::PROFILE_INVALID_TRANSITION,
            OrderError::EidMissing => status::EID_MISSING,
            OrderError::EidConflict => status::EID_ASSOCIATED_WITH_OTHER,
            OrderError::MatchingIdInvalid(_) => status::MATCHING_ID_INVALID,
            OrderError::MatchingIdInUse => status::MATCHING_ID_IN_USE,
            OrderError::MatchingIdMismatch => status::MATCHING_ID_ASSOCIATED_WITH_OTHER,
            OrderError::MatchingIdRefused => status::MATCHING_ID_REFUSED,
            OrderError::EidMismatch => status::EID_MISMATCH,
            OrderError::NotReleased => status::PROFILE_NOT_RELEASED,
            OrderError::DownloadAttemptsExceeded => status::DOWNLOAD_ATTEMPTS_EXCEEDED,
            OrderError::Expired => status::DOWNLOAD_ORDER_EXPIRED,
            OrderError::CcMissing => status::CONFIRMATION_CODE_MISSING,
            OrderError::CcRefused => status::CONFIRMATION_CODE_REFUSED,
            OrderError::CcAttemptsExceeded => status::CONFIRMATION_CODE_RETRIES_EXCEEDED,
            OrderError::TransactionMismatch => status::INVALID_TRANSACTION_ID,
            OrderError::Failed(cause) => cause.status(),
        }
    }

    /// The `AuthenticateClientResponseEs9` error integer of the ASN.1 binding, when one exists
    /// (not for 8.2/1.2 or the attempt limit: the binding has no value for them; use 127).
    pub fn authenticate_client_error(&self) -> i64 {
        use rsp_sgp22::messages::auth::authenticate_client_error as e;
        match self {
            OrderError::MatchingIdRefused => e::MATCHING_ID_REFUSED,
            OrderError::EidMismatch => e::EID_MISMATCH,
            OrderError::Expired | OrderError::Failed(ErrorCause::Expired) => {
                e::DOWNLOAD_ORDER_EXPIRED
            }
            OrderError::TransactionMismatch => e::INVALID_TRANSACTION_ID,
            _ => e::UNDEFINED_ERROR,
        }
    }

    /// The `GetBoundProfilePackageResponse` error integer of the ASN.1 binding.
    pub fn get_bpp_error(&self) -> i64 {
        use rsp_sgp22::messages::download::get_bpp_error as e;
        match self {
            OrderError::CcMissing => e::CONFIRMATION_CODE_MISSING,
            OrderError::CcRefused => e::CONFIRMATION_CODE_REFUSED,
            OrderError::CcAttemptsExceeded | OrderError::Failed(ErrorCause::CcAttemptsExceeded) => {
                e::CONFIRMATION_CODE_RETRIES_EXCEEDED
            }
            OrderError::Expired | OrderError::Failed(ErrorCause::Expired) => {
                e::DOWNLOAD_ORDER_EXPIRED
            }
            OrderError::TransactionMismatch => e::INVALID_TRANSACTION_ID,
            _ => e::UNDEFINED_ERROR,
        }
    }
}

/// What ConfirmOrder asks for (already validated JSON; `confirmation_code` in clear, hashed
/// here).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConfirmRequest {
    /// `eid`, if given.
    pub eid: Option<Eid>,
    /// `matchingId`: `None` = generate one, `Some("")` = no MatchingID (matched by EID).
    pub matching_id: Option<String>,
    /// `confirmationCode`, in clear.
    pub confirmation_code: Option<String>,
    /// `smdsAddress`, if the event is to be registered at an SM-DS.
    pub smds_address: Option<String>,
    /// `releaseFlag`.
    pub release_flag: bool,
}

/// How a Profile Installation Result ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstallationOutcome {
    /// `successResult`.
    Success,
    /// `errorResult`.
    Error {
        /// `bppCommandId`.
        bpp_command_id: i64,
        /// `errorReason`.
        error_reason: i64,
    },
}

/// What applying an event did, for the Operator notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The order moved on normally (or stayed downloadable).
    Continue,
    /// A retryable failure: the order is downloadable again; the code explains the failure.
    Retryable(StatusCode),
    /// The order ended in Error with this code.
    Ended(StatusCode),
}

/// Opaque data the ES9+ side keeps for a retry of the same order (the same one-time key, a cached
/// BPP or PPK blob).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RetryData {
    /// `bppEuiccOtpk`: the eUICC one-time public key of the previous binding.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_hex")]
    pub bpp_euicc_otpk: Option<Vec<u8>>,
    /// An opaque blob (a cached BPP, or the profile protection keys), format owned by the ES9+ side.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_hex")]
    pub blob: Option<Vec<u8>>,
}

/// One download order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    /// The profile's ICCID (the row id).
    pub iccid: Iccid,
    /// The Operator (ES2+ caller identity) that placed the order; empty while Available.
    pub operator_id: String,
    /// The Profile Type (inventory name).
    pub profile_type: String,
    /// State.
    pub state: OrderState,
    /// The EID the order is bound to (from DownloadOrder, ConfirmOrder, or the first download).
    pub eid: Option<Eid>,
    /// The MatchingID (`Some("")` = none, matched by EID); set by ConfirmOrder.
    pub matching_id: Option<String>,
    /// `SHA256(ConfirmationCode)`, if a code is required.
    pub cc_hash: Option<[u8; 32]>,
    /// SM-DS address given in ConfirmOrder.
    pub smds_address: Option<String>,
    /// When the order expires (`None` = never).
    pub expires_at: Option<OffsetDateTime>,
    /// Download attempts so far.
    pub download_attempts: u32,
    /// Wrong Confirmation Codes so far.
    pub cc_attempts: u32,
    /// The transactionId of the current (or last) download session.
    pub transaction_id: Option<TransactionId>,
    /// The profile package version chosen for the current download.
    pub package_version: Option<Svn>,
    /// Data kept for a retry.
    pub retry: RetryData,
    /// Why the order ended in Error.
    pub error: Option<ErrorCause>,
    /// Counter limits.
    pub limits: OrderLimits,
}

impl Order {
    /// A fresh Available entry for an ICCID of the inventory.
    pub fn available(iccid: Iccid, profile_type: impl Into<String>) -> Order {
        Order {
            iccid,
            operator_id: String::new(),
            profile_type: profile_type.into(),
            state: OrderState::Available,
            eid: None,
            matching_id: None,
            cc_hash: None,
            smds_address: None,
            expires_at: None,
            download_attempts: 0,
            cc_attempts: 0,
            transaction_id: None,
            package_version: None,
            retry: RetryData::default(),
            error: None,
            limits: OrderLimits::default(),
        }
    }

    /// The store correlation key: the MatchingID, or `eid:<EID>` for an order without one.
    pub fn correlation(&self) -> Option<String> {
        match (&self.matching_id, &self.eid) {
            (Some(m), _) if !m.is_empty() => Some(m.clone()),
            (Some(_), Some(eid)) => Some(format!("{EID_CORRELATION_PREFIX}{eid}")),
            _ => None,
        }
    }

    /// Whether the eUICC must present a Confirmation Code (`ccRequiredFlag`).
    pub fn cc_required(&self) -> bool {
        self.cc_hash.is_some()
    }

    /// Checks that `operator` owns the order.
    pub fn check_owner(&self, operator: &str) -> Result<(), OrderError> {
        if self.state.is_reserved() && self.operator_id == operator {
            Ok(())
        } else if self.state.is_reserved() {
            Err(OrderError::NotOwner)
        } else {
            // An Available entry belongs to nobody: the ICCID is not ordered.
            Err(OrderError::InvalidTransition(self.state))
        }
    }

    /// ES2+ DownloadOrder on this Available entry.
    pub fn download_order(
        &mut self,
        operator: &str,
        eid: Option<Eid>,
        expires_at: Option<OffsetDateTime>,
        limits: OrderLimits,
    ) -> Result<(), OrderError> {
        if self.state != OrderState::Available {
            return Err(OrderError::ProfileNotAvailable(self.state));
        }
        let profile_type = std::mem::take(&mut self.profile_type);
        *self = Order::available(self.iccid, profile_type);
        self.operator_id = operator.to_owned();
        self.state = if eid.is_some() {
            OrderState::Linked
        } else {
            OrderState::Allocated
        };
        self.eid = eid;
        self.expires_at = expires_at;
        self.limits = limits;
        Ok(())
    }

    /// ES2+ ConfirmOrder. `matching_id` is the final MatchingID (the caller generated one when
    /// the request had none); its uniqueness is checked by [`Orders`]. A repeated ConfirmOrder
    /// with the same data on a confirmed order is accepted and changes nothing.
    pub fn confirm(
        &mut self,
        operator: &str,
        req: &ConfirmRequest,
        matching_id: &str,
    ) -> Result<(), OrderError> {
        self.check_owner(operator)?;
        if !matching_id.is_empty() {
            validate_matching_id(matching_id)?;
        }
        let eid = match (&self.eid, &req.eid) {
            (Some(have), Some(given)) if have != given => return Err(OrderError::EidConflict),
            (Some(have), _) => Some(*have),
            (None, given) => *given,
        };
        if eid.is_none() && (matching_id.is_empty() || req.smds_address.is_some()) {
            return Err(OrderError::EidMissing);
        }
        let cc_hash = req.confirmation_code.as_deref().map(hash_cc);
        match self.state {
            OrderState::Allocated | OrderState::Linked => {}
            OrderState::Confirmed | OrderState::Released
                if self.matching_id.as_deref() == Some(matching_id)
                    && self.cc_hash == cc_hash
                    && self.eid == eid
                    && self.smds_address == req.smds_address =>
            {
                // Retry with the same data (SGP.23 O_P_ES2+_RETRY): a release flag may still
                // release a confirmed order.
                if req.release_flag {
                    self.state = OrderState::Released;
                }
                return Ok(());
            }
            s => return Err(OrderError::InvalidTransition(s)),
        }
        self.eid = eid;
        self.matching_id = Some(matching_id.to_owned());
        self.cc_hash = cc_hash;
        self.smds_address = req.smds_address.clone();
        self.state = if req.release_flag {
            OrderState::Released
        } else {
            OrderState::Confirmed
        };
        Ok(())
    }

    /// ES2+ ReleaseProfile.
    pub fn release(&mut self, operator: &str) -> Result<(), OrderError> {
        self.check_owner(operator)?;
        match self.state {
            OrderState::Confirmed => {
                self.state = OrderState::Released;
                Ok(())
            }
            s => Err(OrderError::InvalidTransition(s)),
        }
    }

    /// ES2+ CancelOrder: back to `Available` (the ICCID may be ordered again) or `Unavailable`.
    /// Refused once the profile is downloaded or installed (8.2.1/3.3).
    pub fn cancel(
        &mut self,
        operator: &str,
        eid: Option<&Eid>,
        matching_id: Option<&str>,
        final_state: FinalProfileStatus,
    ) -> Result<(), OrderError> {
        self.check_owner(operator)?;
        if matches!(
            self.state,
            OrderState::Downloaded | OrderState::Installed | OrderState::Unavailable
        ) {
            return Err(OrderError::ProfileNotAvailable(self.state));
        }
        if let (Some(given), Some(have)) = (eid, &self.eid)
            && given != have
        {
            return Err(OrderError::EidConflict);
        }
        if let Some(given) = matching_id
            && !given.is_empty()
            && self.matching_id.as_deref() != Some(given)
        {
            return Err(OrderError::MatchingIdMismatch);
        }
        let profile_type = std::mem::take(&mut self.profile_type);
        *self = Order::available(self.iccid, profile_type);
        if final_state == FinalProfileStatus::Unavailable {
            self.state = OrderState::Unavailable;
        }
        Ok(())
    }

    /// ES9+ AuthenticateClient check: may `eid` download this order now? Pure: moves nothing
    /// (use [`Order::begin_download`] to record the attempt). An expired order is reported as
    /// [`OrderError::Expired`]; [`Order::begin_download`] also records the expiry.
    pub fn authorize_download(&self, eid: &Eid, now: OffsetDateTime) -> Result<(), OrderError> {
        match self.state {
            OrderState::Released | OrderState::Downloaded => {}
            OrderState::Confirmed => return Err(OrderError::NotReleased),
            OrderState::Error => {
                return Err(match self.error {
                    Some(cause) => OrderError::Failed(cause),
                    None => OrderError::MatchingIdRefused,
                });
            }
            _ => return Err(OrderError::MatchingIdRefused),
        }
        if let Some(have) = &self.eid
            && have != eid
        {
            return Err(OrderError::EidMismatch);
        }
        if self.expires_at.is_some_and(|t| now >= t) {
            return Err(OrderError::Expired);
        }
        if self.download_attempts >= self.limits.max_download_attempts {
            return Err(OrderError::DownloadAttemptsExceeded);
        }
        Ok(())
    }

    /// ES9+ AuthenticateClient accepted for this order: binds the EID, counts the attempt and
    /// links the session. On refusal the order may have changed (expiry or exhausted attempts
    /// move it to Error): save it anyway.
    pub fn begin_download(
        &mut self,
        eid: &Eid,
        transaction_id: TransactionId,
        now: OffsetDateTime,
    ) -> Result<(), OrderError> {
        match self.authorize_download(eid, now) {
            Ok(()) => {}
            Err(e @ OrderError::Expired) => {
                self.fail(ErrorCause::Expired);
                return Err(e);
            }
            Err(e @ OrderError::DownloadAttemptsExceeded) => {
                self.fail(ErrorCause::DownloadAttemptsExceeded);
                return Err(e);
            }
            Err(e) => return Err(e),
        }
        self.eid = Some(*eid);
        self.download_attempts = self.download_attempts.saturating_add(1);
        self.transaction_id = Some(transaction_id);
        self.state = OrderState::Released;
        Ok(())
    }

    /// Checks that `transaction_id` is the order's current download.
    pub fn check_transaction(&self, transaction_id: &TransactionId) -> Result<(), OrderError> {
        if self.transaction_id.as_ref() == Some(transaction_id) {
            Ok(())
        } else {
            Err(OrderError::TransactionMismatch)
        }
    }

    /// ES9+ GetBoundProfilePackage: checks the eUICC's `hashCc` when a Confirmation Code is
    /// required. A wrong code counts; the last allowed wrong code ends the order (save the order
    /// on every outcome).
    pub fn check_confirmation_code(
        &mut self,
        transaction_id: &TransactionId,
        hash_cc: Option<&[u8]>,
        now: OffsetDateTime,
    ) -> Result<(), OrderError> {
        self.check_transaction(transaction_id)?;
        if self.state == OrderState::Error {
            return Err(match self.error {
                Some(cause) => OrderError::Failed(cause),
                None => OrderError::MatchingIdRefused,
            });
        }
        if self.expires_at.is_some_and(|t| now >= t) {
            self.fail(ErrorCause::Expired);
            return Err(OrderError::Expired);
        }
        let Some(stored) = self.cc_hash else {
            return Ok(());
        };
        let Some(given) = hash_cc else {
            return Err(OrderError::CcMissing);
        };
        let expected = session_hash_cc(&stored, transaction_id);
        if constant_time_eq(&expected, given) {
            return Ok(());
        }
        self.cc_attempts = self.cc_attempts.saturating_add(1);
        if self.cc_attempts >= self.limits.max_cc_attempts {
            self.fail(ErrorCause::CcAttemptsExceeded);
            Err(OrderError::CcAttemptsExceeded)
        } else {
            Err(OrderError::CcRefused)
        }
    }

    /// Keeps data for a retry of this order.
    pub fn set_retry_data(&mut self, retry: RetryData) {
        self.retry = retry;
    }

    /// The BPP of `transaction_id` was delivered.
    pub fn mark_downloaded(
        &mut self,
        transaction_id: &TransactionId,
        package_version: Option<Svn>,
    ) -> Result<(), OrderError> {
        self.check_transaction(transaction_id)?;
        match self.state {
            OrderState::Released | OrderState::Downloaded => {
                self.state = OrderState::Downloaded;
                self.package_version = package_version.or(self.package_version);
                Ok(())
            }
            s => Err(OrderError::InvalidTransition(s)),
        }
    }

    /// Applies the Profile Installation Result of `transaction_id`.
    pub fn apply_installation_result(
        &mut self,
        transaction_id: &TransactionId,
        outcome: InstallationOutcome,
    ) -> Result<Outcome, OrderError> {
        self.check_transaction(transaction_id)?;
        if !matches!(self.state, OrderState::Downloaded | OrderState::Released) {
            return Err(OrderError::InvalidTransition(self.state));
        }
        match outcome {
            InstallationOutcome::Success => {
                self.state = OrderState::Installed;
                self.retry = RetryData::default();
                Ok(Outcome::Continue)
            }
            InstallationOutcome::Error {
                bpp_command_id,
                error_reason,
            } => {
                let cause = ErrorCause::InstallationFailed {
                    bpp_command_id,
                    error_reason,
                };
                if installation_error_is_temporary(error_reason) {
                    Ok(self.retry_or_fail(cause.status()))
                } else {
                    self.fail(cause);
                    Ok(Outcome::Ended(cause.status()))
                }
            }
        }
    }

    /// Applies an eUICC CancelSession (`reason` = CancelSessionReason) for `transaction_id`.
    pub fn apply_cancel_session(
        &mut self,
        transaction_id: &TransactionId,
        reason: i64,
    ) -> Result<Outcome, OrderError> {
        self.check_transaction(transaction_id)?;
        if !matches!(self.state, OrderState::Downloaded | OrderState::Released) {
            return Err(OrderError::InvalidTransition(self.state));
        }
        let code = cancel_session_status(reason);
        if cancel_session_is_temporary(reason) {
            Ok(self.retry_or_fail(code))
        } else {
            self.fail(ErrorCause::SessionCancelled { reason });
            Ok(Outcome::Ended(code))
        }
    }

    /// A retryable failure: downloadable again unless the attempts are used up.
    fn retry_or_fail(&mut self, code: StatusCode) -> Outcome {
        if self.download_attempts >= self.limits.max_download_attempts {
            self.fail(ErrorCause::DownloadAttemptsExceeded);
            Outcome::Ended(status::DOWNLOAD_ATTEMPTS_EXCEEDED)
        } else {
            self.state = OrderState::Released;
            Outcome::Retryable(code)
        }
    }

    /// Ends the order in Error.
    pub fn fail(&mut self, cause: ErrorCause) {
        self.state = OrderState::Error;
        self.error = Some(cause);
    }

    /// The stored encoding (JSON, with [`ORDER_FORMAT_VERSION`]).
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(&StoredOrderV1::from(self)).unwrap_or_default()
    }

    /// Reads the stored encoding.
    pub fn from_bytes(bytes: &[u8]) -> Result<Order, OrderCodecError> {
        let v: StoredOrderV1 =
            serde_json::from_slice(bytes).map_err(|e| OrderCodecError(e.to_string()))?;
        if v.format != ORDER_FORMAT_VERSION {
            return Err(OrderCodecError(format!(
                "unknown order format version {}",
                v.format
            )));
        }
        v.try_into()
    }
}

/// CancelOrder's `finalProfileStatusIndicator`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FinalProfileStatus {
    /// `Available`: the profile returns to the inventory.
    Available,
    /// `Unavailable`: the profile is withdrawn.
    Unavailable,
}

impl FromStr for FinalProfileStatus {
    type Err = ();
    /// `Available` / `Unavailable`, any case.
    fn from_str(s: &str) -> Result<Self, ()> {
        if s.trim().eq_ignore_ascii_case("available") {
            Ok(FinalProfileStatus::Available)
        } else if s.trim().eq_ignore_ascii_case("unavailable") {
            Ok(FinalProfileStatus::Unavailable)
        } else {
            Err(())
        }
    }
}

/// `SHA256(ConfirmationCode)`: what the SM-DP+ stores.
pub fn hash_cc(confirmation_code: &str) -> [u8; 32] {
    Sha256::digest(confirmation_code.as_bytes()).into()
}

/// `SHA256(SHA256(CC) ‖ transactionId)`: what the eUICC sends as `hashCc`.
pub fn session_hash_cc(cc_hash: &[u8; 32], transaction_id: &TransactionId) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(cc_hash);
    h.update(transaction_id.as_bytes());
    h.finalize().into()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Checks an Operator-given MatchingID: 1..=255 characters of `0-9A-Z-`.
pub fn validate_matching_id(m: &str) -> Result<(), OrderError> {
    if m.is_empty() {
        return Err(OrderError::MatchingIdInvalid("empty"));
    }
    if m.chars().count() > MATCHING_ID_MAX_CHARS {
        return Err(OrderError::MatchingIdInvalid("longer than 255 characters"));
    }
    if !m
        .bytes()
        .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase() || b == b'-')
    {
        return Err(OrderError::MatchingIdInvalid(
            "only 0-9, A-Z and '-' are allowed",
        ));
    }
    Ok(())
}

/// A fresh random MatchingID: `XXXXX-XXXXX-XXXXX-XXXXX`, each `X` uniform in `0-9A-Z`
/// (system randomness).
pub fn generate_matching_id() -> Result<String, OrderStoreError> {
    const ALPHABET: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut out = String::with_capacity(23);
    let mut chars = 0usize;
    let mut buf = [0u8; 32];
    while chars < 20 {
        rsp_crypto::ecc::fill_random(&mut buf)
            .map_err(|e| OrderStoreError::Random(e.to_string()))?;
        for b in buf {
            // 252 = 7 × 36: reject the top values so every character is equally likely.
            if b >= 252 || chars >= 20 {
                continue;
            }
            if chars > 0 && chars.is_multiple_of(5) {
                out.push('-');
            }
            out.push(char::from(ALPHABET[usize::from(b % 36)]));
            chars += 1;
        }
    }
    Ok(out)
}

/// The stored order could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("stored order unreadable: {0}")]
pub struct OrderCodecError(pub String);

/// Failures of [`Orders`].
#[derive(Debug, thiserror::Error)]
pub enum OrderStoreError {
    /// A refusal of the order logic.
    #[error(transparent)]
    Order(#[from] OrderError),
    /// Another writer changed the order first (stale version): reload and retry.
    #[error("the order was changed concurrently")]
    Conflict,
    /// The store failed.
    #[error(transparent)]
    Store(StoreError),
    /// A stored row is unreadable.
    #[error(transparent)]
    Codec(#[from] OrderCodecError),
    /// System randomness failed.
    #[error("randomness unavailable: {0}")]
    Random(String),
}

impl From<StoreError> for OrderStoreError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict { .. } => OrderStoreError::Conflict,
            e => OrderStoreError::Store(e),
        }
    }
}

/// An order with the row version it was read at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredOrder {
    /// The order.
    pub order: Order,
    /// The procedure row version (0 = not stored yet).
    pub version: i64,
}

impl StoredOrder {
    /// Reads a procedure row of kind [`ORDER_KIND`].
    pub fn from_record(rec: &ProcedureRecord) -> Result<StoredOrder, OrderCodecError> {
        if rec.kind != ORDER_KIND {
            return Err(OrderCodecError(format!(
                "procedure {} is a {}",
                rec.id, rec.kind
            )));
        }
        Ok(StoredOrder {
            order: Order::from_bytes(&rec.data)?,
            version: rec.version,
        })
    }

    /// The write that stores this order: a create for version 0, else an advance checked
    /// against `version`. Put it in a `Store::apply` batch with other writes (an outbox
    /// message, a session update) to make them atomic.
    pub fn write_op(&self) -> WriteOp {
        let order = &self.order;
        if self.version == 0 {
            WriteOp::CreateProcedure(NewProcedure {
                id: order.iccid.to_string(),
                kind: ORDER_KIND.to_owned(),
                state: order.state.as_str().to_owned(),
                data: order.to_bytes(),
                correlation: order.correlation(),
                due_at: None,
            })
        } else {
            WriteOp::AdvanceProcedure {
                id: order.iccid.to_string(),
                expected_version: self.version,
                update: ProcedureUpdate {
                    state: order.state.as_str().to_owned(),
                    data: order.to_bytes(),
                    correlation: order.correlation(),
                    due_at: None,
                },
            }
        }
    }
}

/// The MatchingID claim row to create with an order that gets `matching_id` (non-empty).
pub fn matching_id_claim(matching_id: &str, iccid: &Iccid) -> WriteOp {
    WriteOp::CreateProcedure(NewProcedure {
        id: format!("{MATCHING_ID_CLAIM_PREFIX}{matching_id}"),
        kind: MATCHING_ID_CLAIM_KIND.to_owned(),
        state: "claimed".to_owned(),
        data: iccid.to_string().into_bytes(),
        correlation: None,
        due_at: None,
    })
}

/// Orders in the store.
#[derive(Clone)]
pub struct Orders {
    store: Arc<dyn Store>,
}

impl fmt::Debug for Orders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Orders").finish_non_exhaustive()
    }
}

impl Orders {
    /// Orders kept in `store`.
    pub fn new(store: Arc<dyn Store>) -> Orders {
        Orders { store }
    }

    /// The underlying store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The order (or inventory entry) of `iccid`.
    pub async fn get(&self, iccid: &Iccid) -> Result<Option<StoredOrder>, OrderStoreError> {
        match self.store.load_procedure(iccid.as_str()).await? {
            Some(rec) if rec.kind == ORDER_KIND => Ok(Some(StoredOrder::from_record(&rec)?)),
            _ => Ok(None),
        }
    }

    /// The order holding `matching_id` (non-empty), if any.
    pub async fn by_matching_id(
        &self,
        matching_id: &str,
    ) -> Result<Option<StoredOrder>, OrderStoreError> {
        if matching_id.is_empty() {
            return Ok(None);
        }
        self.by_correlation(matching_id).await
    }

    /// The order without MatchingID waiting for `eid` (default SM-DP+ / SM-DS discovery), if
    /// any; the most recent one when several exist.
    pub async fn by_eid_without_matching_id(
        &self,
        eid: &Eid,
    ) -> Result<Option<StoredOrder>, OrderStoreError> {
        self.by_correlation(&format!("{EID_CORRELATION_PREFIX}{eid}"))
            .await
    }

    async fn by_correlation(&self, key: &str) -> Result<Option<StoredOrder>, OrderStoreError> {
        let rows = self.store.procedures_by_correlation(key).await?;
        let mut found = None;
        for rec in rows.iter().filter(|r| r.kind == ORDER_KIND) {
            found = Some(StoredOrder::from_record(rec)?);
        }
        Ok(found)
    }

    /// Whether `matching_id` was ever claimed, and by which ICCID.
    pub async fn matching_id_owner(
        &self,
        matching_id: &str,
    ) -> Result<Option<String>, OrderStoreError> {
        let id = format!("{MATCHING_ID_CLAIM_PREFIX}{matching_id}");
        Ok(self
            .store
            .load_procedure(&id)
            .await?
            .filter(|r| r.kind == MATCHING_ID_CLAIM_KIND)
            .map(|r| String::from_utf8_lossy(&r.data).into_owned()))
    }

    /// Stores `stored` (create or checked advance) with `extra` writes in one atomic batch;
    /// returns the order at its new version. A stale version is [`OrderStoreError::Conflict`].
    pub async fn save(
        &self,
        stored: &StoredOrder,
        extra: Vec<WriteOp>,
        now: OffsetDateTime,
    ) -> Result<StoredOrder, OrderStoreError> {
        let mut ops = Vec::with_capacity(extra.len() + 1);
        ops.push(stored.write_op());
        ops.extend(extra);
        let results = self.store.apply(&ops, now).await.map_err(|e| match e {
            // A create that hits an existing row lost a race too.
            StoreError::Duplicate { .. } if stored.version == 0 => OrderStoreError::Conflict,
            e => e.into(),
        })?;
        match results.first() {
            Some(WriteResult::Procedure(rec)) => Ok(StoredOrder {
                order: stored.order.clone(),
                version: rec.version,
            }),
            _ => Err(OrderStoreError::Store(StoreError::Corrupt(
                "apply did not return the order row".into(),
            ))),
        }
    }

    /// Creates `order` if its ICCID has no row yet.
    pub async fn insert(
        &self,
        order: Order,
        now: OffsetDateTime,
    ) -> Result<StoredOrder, OrderStoreError> {
        self.save(&StoredOrder { order, version: 0 }, Vec::new(), now)
            .await
    }
}

/// A default time to live helper: `now + ttl`.
pub fn expiry(now: OffsetDateTime, ttl: Option<Duration>) -> Option<OffsetDateTime> {
    ttl.and_then(|d| now.checked_add(d))
}

// ---- stored encoding ------------------------------------------------------------------------

#[derive(Serialize, Deserialize)]
struct StoredOrderV1 {
    format: u32,
    iccid: Iccid,
    #[serde(default)]
    operator_id: String,
    #[serde(default)]
    profile_type: String,
    state: OrderState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    eid: Option<Eid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    matching_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_hex")]
    cc_hash: Option<Vec<u8>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    smds_address: Option<String>,
    /// Microseconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_at_us: Option<i64>,
    #[serde(default)]
    download_attempts: u32,
    #[serde(default)]
    cc_attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_hex")]
    transaction_id: Option<Vec<u8>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    package_version: Option<String>,
    #[serde(default)]
    retry: RetryData,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<ErrorCause>,
    #[serde(default)]
    limits: OrderLimits,
}

impl From<&Order> for StoredOrderV1 {
    fn from(o: &Order) -> Self {
        StoredOrderV1 {
            format: ORDER_FORMAT_VERSION,
            iccid: o.iccid,
            operator_id: o.operator_id.clone(),
            profile_type: o.profile_type.clone(),
            state: o.state,
            eid: o.eid,
            matching_id: o.matching_id.clone(),
            cc_hash: o.cc_hash.map(|h| h.to_vec()),
            smds_address: o.smds_address.clone(),
            expires_at_us: o
                .expires_at
                .and_then(|t| i64::try_from(t.unix_timestamp_nanos() / 1000).ok()),
            download_attempts: o.download_attempts,
            cc_attempts: o.cc_attempts,
            transaction_id: o.transaction_id.as_ref().map(|t| t.as_bytes().to_vec()),
            package_version: o.package_version.map(|v| v.to_string()),
            retry: o.retry.clone(),
            error: o.error,
            limits: o.limits,
        }
    }
}

impl TryFrom<StoredOrderV1> for Order {
    type Error = OrderCodecError;
    fn try_from(v: StoredOrderV1) -> Result<Order, OrderCodecError> {
        let bad = |what: &str| OrderCodecError(what.to_owned());
        let cc_hash = match v.cc_hash {
            Some(h) => Some(<[u8; 32]>::try_from(h.as_slice()).map_err(|_| bad("cc_hash"))?),
            None => None,
        };
        let expires_at = match v.expires_at_us {
            Some(us) => Some(
                OffsetDateTime::from_unix_timestamp_nanos(i128::from(us) * 1000)
                    .map_err(|_| bad("expires_at_us"))?,
            ),
            None => None,
        };
        let transaction_id = match v.transaction_id {
            Some(t) => Some(TransactionId::new(&t).map_err(|_| bad("transaction_id"))?),
            None => None,
        };
        let package_version = match v.package_version {
            Some(s) => Some(s.parse::<Svn>().map_err(|_| bad("package_version"))?),
            None => None,
        };
        Ok(Order {
            iccid: v.iccid,
            operator_id: v.operator_id,
            profile_type: v.profile_type,
            state: v.state,
            eid: v.eid,
            matching_id: v.matching_id,
            cc_hash,
            smds_address: v.smds_address,
            expires_at,
            download_attempts: v.download_attempts,
            cc_attempts: v.cc_attempts,
            transaction_id,
            package_version,
            retry: v.retry,
            error: v.error,
            limits: v.limits,
        })
    }
}

mod opt_hex {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(b) => s.serialize_str(&hex::encode_upper(b)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        match Option::<String>::deserialize(d)? {
            Some(s) => hex::decode(s).map(Some).map_err(serde::de::Error::custom),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn iccid() -> Iccid {
        Iccid::with_luhn("898822800000000001").unwrap()
    }
    fn eid() -> Eid {
        Eid::with_check_digits("890490321234512345123456789012").unwrap()
    }
    fn tid(b: u8) -> TransactionId {
        TransactionId::new(&[b; 16]).unwrap()
    }
    fn t0() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap()
    }

    fn released(cc: Option<&str>) -> Order {
        let mut o = Order::available(iccid(), "T1");
        o.download_order("op1", None, None, OrderLimits::default())
            .unwrap();
        assert_eq!(o.state, OrderState::Allocated);
        let req = ConfirmRequest {
            eid: None,
            matching_id: None,
            confirmation_code: cc.map(str::to_owned),
            smds_address: None,
            release_flag: true,
        };
        o.confirm("op1", &req, "ABCDE-12345").unwrap();
        assert_eq!(o.state, OrderState::Released);
        o
    }

    #[test]
    fn matching_ids_are_well_formed_and_random() {
        let a = generate_matching_id().unwrap();
        let b = generate_matching_id().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 23);
        validate_matching_id(&a).unwrap();
        let groups: Vec<&str> = a.split('-').collect();
        assert_eq!(groups.len(), 4);
        assert!(groups.iter().all(|g| g.len() == 5));
        assert!(validate_matching_id("abc").is_err());
        assert!(validate_matching_id("A$B").is_err());
        assert!(validate_matching_id(&"A".repeat(256)).is_err());
    }

    #[test]
    fn happy_path_and_counters() {
        let mut o = released(None);
        let now = t0();
        o.begin_download(&eid(), tid(1), now).unwrap();
        assert_eq!(o.eid, Some(eid()));
        assert_eq!(o.download_attempts, 1);
        o.check_confirmation_code(&tid(1), None, now).unwrap();
        assert_eq!(
            o.mark_downloaded(&tid(2), None),
            Err(OrderError::TransactionMismatch)
        );
        o.mark_downloaded(&tid(1), Some(Svn::new(2, 3, 0))).unwrap();
        assert_eq!(o.state, OrderState::Downloaded);
        let other = Eid::with_check_digits("890490321234512345123456789099").unwrap();
        assert_eq!(
            o.authorize_download(&other, now),
            Err(OrderError::EidMismatch)
        );
        assert_eq!(
            o.apply_installation_result(&tid(1), InstallationOutcome::Success),
            Ok(Outcome::Continue)
        );
        assert_eq!(o.state, OrderState::Installed);
        assert_eq!(
            o.authorize_download(&eid(), now),
            Err(OrderError::MatchingIdRefused)
        );
    }

    #[test]
    fn confirmation_code_hash_and_attempts() {
        let mut o = released(Some("zxcv"));
        assert!(o.cc_required());
        let now = t0();
        o.begin_download(&eid(), tid(7), now).unwrap();
        assert_eq!(
            o.check_confirmation_code(&tid(7), None, now),
            Err(OrderError::CcMissing)
        );
        assert_eq!(o.cc_attempts, 0);
        let good = session_hash_cc(&hash_cc("zxcv"), &tid(7));
        let bad = session_hash_cc(&hash_cc("9999"), &tid(7));
        // The hash is bound to the transaction: the right code for another session is wrong.
        let other_session = session_hash_cc(&hash_cc("zxcv"), &tid(8));
        assert_eq!(
            o.check_confirmation_code(&tid(7), Some(&other_session), now),
            Err(OrderError::CcRefused)
        );
        assert_eq!(
            o.check_confirmation_code(&tid(7), Some(&bad), now),
            Err(OrderError::CcRefused)
        );
        o.check_confirmation_code(&tid(7), Some(&good), now)
            .unwrap();
        assert_eq!(
            o.check_confirmation_code(&tid(7), Some(&bad), now),
            Err(OrderError::CcAttemptsExceeded)
        );
        assert_eq!(o.state, OrderState::Error);
        assert_eq!(
            o.authorize_download(&eid(), now).map_err(|e| e.status()),
            Err(status::CONFIRMATION_CODE_RETRIES_EXCEEDED)
        );
        // Only the hash is stored.
        let stored = String::from_utf8(o.to_bytes()).unwrap();
        assert!(!stored.contains("zxcv"));
    }

    #[test]
    fn temporary_installation_errors_allow_a_retry_until_the_limit() {
        let mut o = released(None);
        o.limits.max_download_attempts = 2;
        let now = t0();
        o.begin_download(&eid(), tid(1), now).unwrap();
        o.set_retry_data(RetryData {
            bpp_euicc_otpk: Some(vec![4, 1, 2]),
            blob: None,
        });
        o.mark_downloaded(&tid(1), None).unwrap();
        let temp = InstallationOutcome::Error {
            bpp_command_id: 5,
            error_reason: 11,
        };
        assert!(matches!(
            o.apply_installation_result(&tid(1), temp),
            Ok(Outcome::Retryable(_))
        ));
        assert_eq!(o.state, OrderState::Released);
        assert_eq!(o.retry.bpp_euicc_otpk, Some(vec![4, 1, 2]));
        o.begin_download(&eid(), tid(2), now).unwrap();
        o.mark_downloaded(&tid(2), None).unwrap();
        assert_eq!(
            o.apply_installation_result(&tid(2), temp),
            Ok(Outcome::Ended(status::DOWNLOAD_ATTEMPTS_EXCEEDED))
        );
        assert_eq!(o.state, OrderState::Error);
        assert_eq!(
            o.authorize_download(&eid(), now).map_err(|e| e.status()),
            Err(status::DOWNLOAD_ATTEMPTS_EXCEEDED)
        );
    }

    #[test]
    fn permanent_installation_error_and_cancel_session() {
        let mut o = released(None);
        o.begin_download(&eid(), tid(1), t0()).unwrap();
        o.mark_downloaded(&tid(1), None).unwrap();
        let out = o
            .apply_installation_result(
                &tid(1),
                InstallationOutcome::Error {
                    bpp_command_id: 5,
                    error_reason: 12,
                },
            )
            .unwrap();
        assert!(matches!(out, Outcome::Ended(_)));
        assert_eq!(o.state, OrderState::Error);

        let mut o = released(None);
        o.begin_download(&eid(), tid(1), t0()).unwrap();
        assert!(matches!(
            o.apply_cancel_session(&tid(1), 1),
            Ok(Outcome::Retryable(_))
        ));
        assert_eq!(o.state, OrderState::Released);
        o.begin_download(&eid(), tid(2), t0()).unwrap();
        assert_eq!(
            o.apply_cancel_session(&tid(2), 0),
            Ok(Outcome::Ended(status::END_USER_REJECTION))
        );
        assert_eq!(o.state, OrderState::Error);
        assert_eq!(cancel_session_status(3).to_string(), "8.2.8/1.2");
        assert_eq!(cancel_session_status(20).to_string(), "8.2.13/3.12");
        assert_eq!(cancel_session_status(127).to_string(), "8/4.2");
    }

    #[test]
    fn expiry_and_release_rules() {
        let mut o = Order::available(iccid(), "T1");
        let now = t0();
        o.download_order(
            "op1",
            Some(eid()),
            expiry(now, Some(Duration::hours(1))),
            OrderLimits::default(),
        )
        .unwrap();
        assert_eq!(o.state, OrderState::Linked);
        assert_eq!(
            o.release("op1"),
            Err(OrderError::InvalidTransition(OrderState::Linked))
        );
        let req = ConfirmRequest {
            release_flag: false,
            ..ConfirmRequest::default()
        };
        assert_eq!(o.confirm("op2", &req, "M-1"), Err(OrderError::NotOwner));
        o.confirm("op1", &req, "M-1").unwrap();
        assert_eq!(o.state, OrderState::Confirmed);
        assert_eq!(
            o.authorize_download(&eid(), now),
            Err(OrderError::NotReleased)
        );
        o.release("op1").unwrap();
        o.authorize_download(&eid(), now).unwrap();
        let later = now + Duration::hours(2);
        assert_eq!(
            o.begin_download(&eid(), tid(1), later),
            Err(OrderError::Expired)
        );
        assert_eq!(o.state, OrderState::Error);
        assert_eq!(
            o.authorize_download(&eid(), later).map_err(|e| e.status()),
            Err(status::DOWNLOAD_ORDER_EXPIRED)
        );
    }

    #[test]
    fn confirm_needs_an_eid_without_matching_id_or_with_smds() {
        let mut o = Order::available(iccid(), "T1");
        o.download_order("op1", None, None, OrderLimits::default())
            .unwrap();
        let req = ConfirmRequest {
            release_flag: true,
            ..ConfirmRequest::default()
        };
        assert_eq!(o.confirm("op1", &req, ""), Err(OrderError::EidMissing));
        let with_smds = ConfirmRequest {
            smds_address: Some("lpa.ds.gsma.com".into()),
            ..req.clone()
        };
        assert_eq!(
            o.confirm("op1", &with_smds, "M"),
            Err(OrderError::EidMissing)
        );
        let with_eid = ConfirmRequest {
            eid: Some(eid()),
            ..req.clone()
        };
        o.confirm("op1", &with_eid, "").unwrap();
        assert_eq!(o.correlation(), Some(format!("eid:{}", eid())));
    }

    #[test]
    fn stored_encoding_round_trips() {
        let mut o = released(Some("0000"));
        o.expires_at = Some(t0());
        o.begin_download(&eid(), tid(3), t0() - Duration::seconds(1))
            .unwrap();
        o.package_version = Some(Svn::new(3, 1, 0));
        o.retry.blob = Some(vec![1, 2, 3]);
        let back = Order::from_bytes(&o.to_bytes()).unwrap();
        assert_eq!(back, o);
        assert!(Order::from_bytes(b"{\"format\":2}").is_err());
        assert!(Order::from_bytes(b"garbage").is_err());
    }
}
