//! Errors of the consumer eUICC: building one (identity, configuration, snapshots) and refusing
//! an ES10 command (a status word; functional errors are answered inside the response TLVs).

use rsp_crypto::seal::SealError;

/// Why a card could not be built, restored or saved.
#[derive(Debug, thiserror::Error)]
pub enum ConsumerError {
    /// The keys and certificates do not form a usable identity.
    #[error("card identity: {0}")]
    Identity(String),
    /// The configuration is inconsistent.
    #[error("card configuration: {0}")]
    Config(String),
    /// A snapshot does not decode or check.
    #[error("snapshot: {0}")]
    Snapshot(String),
    /// A sealed snapshot value does not open.
    #[error("sealed {what}: {source}")]
    Seal {
        /// Which value.
        what: String,
        /// The error.
        source: SealError,
    },
    /// Something that should not fail did (encoding our own values).
    #[error("internal: {0}")]
    Internal(String),
}

/// Why an ES10 command gets a status word instead of a response TLV.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Refusal {
    /// The command TLV does not decode (`6A80`).
    #[error("malformed command")]
    Malformed,
    /// A tag this card does not serve (`6A88`).
    #[error("unknown ES10 command")]
    Unknown,
    /// The command is not allowed now (`6985`).
    #[error("conditions not satisfied")]
    Conditions,
    /// Our own encoding failed (`6F00`).
    #[error("internal error")]
    Internal,
}

impl Refusal {
    /// The status word.
    pub(crate) fn status_word(self) -> u16 {
        match self {
            Refusal::Malformed => 0x6A80,
            Refusal::Unknown => 0x6A88,
            Refusal::Conditions => 0x6985,
            Refusal::Internal => 0x6F00,
        }
    }
}

impl From<rsp_sgp22::DecodeError> for Refusal {
    fn from(_: rsp_sgp22::DecodeError) -> Self {
        Refusal::Malformed
    }
}

impl From<rsp_sgp22::EncodeError> for Refusal {
    fn from(_: rsp_sgp22::EncodeError) -> Self {
        Refusal::Internal
    }
}
