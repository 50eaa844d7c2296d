//! The card's errors and the one table that maps them to status words (STYLE §5.4, RL-7).

use rsp_crypto::scp03::Scp03Error;
use rsp_crypto::scp03t::Scp03tError;
use rsp_gp::sw::StatusWord;
use rsp_types::Aid;

use super::policy::MetadataError;
use super::saip::SaipError;
use super::state::IsdPState;

/// `69E1`: "POL1 of the profile prevents this action" (SGP.02 §4.1.1, \[RECALL\]; `rsp-gp` has no
/// constant for it).
pub const SW_POL1_PREVENTS: StatusWord = StatusWord(0x69E1);

/// Which POL1 rule refused an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pol1Rule {
    /// "Disable not allowed".
    DisableNotAllowed,
    /// "Delete not allowed".
    DeleteNotAllowed,
}

/// Why the certificate of a key establishment was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertRefusal {
    /// Not a well-formed GP Amendment E certificate.
    Malformed(String),
    /// The certificate's role (`C8`) or key usage is not the one this security domain accepts.
    WrongRole(String),
    /// The certificate's authority key identifier does not name the CI in the ECASD.
    UnknownIssuer,
    /// The signature does not verify with PK.CI.
    BadSignature,
    /// The certified key is not on the ECASD's curve.
    WrongCurve,
}

/// Errors of the card, each mapped to exactly one status word by [`CardError::status_word`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CardError {
    /// No ISD-P with this AID.
    #[error("ISD-P {0} not found")]
    UnknownIsdP(Aid),
    /// An application with this AID already exists.
    #[error("AID {0} already exists")]
    AidExists(Aid),
    /// Not enough free non-volatile memory.
    #[error("not enough memory: {requested} bytes requested, {free} free")]
    InsufficientMemory {
        /// Bytes asked for.
        requested: u64,
        /// Bytes available.
        free: u64,
    },
    /// The ISD-P is not in a state that allows the command.
    #[error("ISD-P {aid} is {state:?}; the command needs {expected}")]
    WrongState {
        /// The ISD-P.
        aid: Aid,
        /// Its state.
        state: IsdPState,
        /// What the command needs.
        expected: &'static str,
    },
    /// POL1 of a profile forbids the action.
    #[error("POL1 of ISD-P {aid} forbids this ({rule:?})")]
    Pol1Forbids {
        /// The profile whose POL1 refuses.
        aid: Aid,
        /// The rule.
        rule: Pol1Rule,
    },
    /// A rule on attributes, fall-back, emergency or test profiles refuses the action.
    #[error("refused: {0}")]
    Refused(&'static str),
    /// A profile change still waits for its NotificationConfirmation.
    #[error("a profile change awaits its notification confirmation (seq {0})")]
    ChangePending(u16),
    /// A local (ESx) test or emergency profile is enabled.
    #[error("a local {0} profile is enabled")]
    LocalOverrideActive(&'static str),
    /// The command arrived out of sequence.
    #[error("command out of sequence: {0}")]
    OutOfSequence(&'static str),
    /// Malformed command data.
    #[error("incorrect command data: {0}")]
    Malformed(String),
    /// The certificate of a key establishment was refused.
    #[error("certificate refused: {0:?}")]
    Certificate(CertRefusal),
    /// The off-card signature of a key establishment does not verify.
    #[error("key establishment signature does not verify")]
    BadSignature,
    /// The NotificationConfirmation names an unknown sequence number.
    #[error("no notification with sequence number {0}")]
    UnknownNotification(u16),
    /// The ISD-R has no key set with this version.
    #[error("no key set with version {0:#04x}")]
    UnknownKeySet(u8),
    /// An option the card does not implement.
    #[error("not supported: {0}")]
    NotSupported(&'static str),
    /// A command the selected application does not know.
    #[error("instruction {0:#04x} not supported here")]
    InsNotSupported(u8),
    /// The application to select does not exist.
    #[error("application {0} not found")]
    ApplicationNotFound(Aid),
    /// The command must come inside the SCP03 session (or the session is missing).
    #[error("secure channel required")]
    SecureChannelRequired,
    /// An SCP03 handshake or secure messaging failure.
    #[error("SCP03: {0}")]
    Scp03(#[from] Scp03Error),
    /// An SCP03t segment failure.
    #[error("SCP03t: {0}")]
    Scp03t(#[from] Scp03tError),
    /// The profile package is not acceptable.
    #[error("profile package: {0}")]
    Package(#[from] SaipError),
    /// The profile metadata is not acceptable.
    #[error("{0}")]
    Metadata(#[from] MetadataError),
    /// The ICCID of the package is already installed in another ISD-P.
    #[error("ICCID {0} is already installed")]
    DuplicateIccid(String),
    /// `rsp-gp` refused the command (class, P1/P2, data).
    #[error("{0}")]
    Gp(rsp_gp::CommandError),
    /// A malformed APDU (length fields).
    #[error("malformed APDU: {0}")]
    Apdu(String),
    /// An internal failure (crypto backend).
    #[error("internal error: {0}")]
    Internal(String),
}

impl CardError {
    /// The status word the card answers with (the one table, RL-7).
    pub fn status_word(&self) -> StatusWord {
        match self {
            Self::UnknownIsdP(_)
            | Self::UnknownNotification(_)
            | Self::UnknownKeySet(_)
            | Self::Certificate(CertRefusal::UnknownIssuer) => {
                StatusWord::REFERENCED_DATA_NOT_FOUND
            }
            Self::AidExists(_)
            | Self::Malformed(_)
            | Self::Certificate(
                CertRefusal::Malformed(_) | CertRefusal::WrongRole(_) | CertRefusal::WrongCurve,
            )
            | Self::Package(_)
            | Self::Metadata(_)
            | Self::DuplicateIccid(_) => StatusWord::INCORRECT_DATA,
            Self::InsufficientMemory { .. } => StatusWord::NOT_ENOUGH_MEMORY,
            Self::WrongState { .. }
            | Self::Refused(_)
            | Self::ChangePending(_)
            | Self::LocalOverrideActive(_)
            | Self::OutOfSequence(_) => StatusWord::CONDITIONS_NOT_SATISFIED,
            Self::Pol1Forbids { .. } => SW_POL1_PREVENTS,
            Self::Certificate(CertRefusal::BadSignature)
            | Self::BadSignature
            | Self::SecureChannelRequired => StatusWord::SECURITY_STATUS_NOT_SATISFIED,
            Self::NotSupported(_) => StatusWord::FUNCTION_NOT_SUPPORTED,
            Self::InsNotSupported(_) => StatusWord::INS_NOT_SUPPORTED,
            Self::ApplicationNotFound(_) => StatusWord::NOT_FOUND,
            Self::Scp03(e) => StatusWord(e.status_word()),
            Self::Scp03t(e) => StatusWord(e.status_word()),
            Self::Gp(e) => e.status_word(),
            Self::Apdu(_) => StatusWord::WRONG_LENGTH,
            Self::Internal(_) => StatusWord::NO_PRECISE_DIAGNOSIS,
        }
    }
}
