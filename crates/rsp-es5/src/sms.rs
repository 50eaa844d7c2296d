//! ES5 over SMS: SCP80 secured packets (ETSI TS 102 225) carried in SMS-PP as 3GPP TS 31.115
//! defines, both ends.
//!
//! - [`udh`]: the user data header, splitting a secured packet into (concatenated) short messages
//!   and reassembling them: a single SMS carries `UDH 02 70 00` (command packet, CPI) or `02 71 00`
//!   (response packet, RPI) before the packet; a longer packet goes as concatenated SMS with an 8-bit
//!   reference, the first segment's UDH being `07 00 03 <ref> <n> 01 70 00` (the concatenation
//!   element first, as a real card was observed to send it), the others `05 00 03 <ref> <n> <i>`.
//! - [`smsc`]: the [`Smsc`] abstraction (submit a short message, receive the next one waiting for an
//!   address) and [`InProcessSmsc`], per-address queues in memory for tests and the simulator. The
//!   mapping to SMPP is documented on [`Smsc`].
//! - [`trigger`]: the HTTPS administration session trigger ([`HttpsTrigger`]).
//! - [`endpoint`]: the SM-SR side ([`SmSrSms`]: send command packets and triggers, receive PoRs and
//!   the Default Notification) and the card side the simulator uses ([`CardSms`]: receive and open
//!   command packets, send PoRs and the Default Notification).
//!
//! Keys and counters come from the caller: the SM-SR allocates the next counter of the ISD-R key
//! set and persists it before calling [`SmSrSms::send_command_packet`] (U-14); the card stores
//! [`rsp_crypto::scp80::CommandHeader::updated_counter`] after accepting a command.

pub mod endpoint;
pub mod smsc;
pub mod trigger;
pub mod udh;

use std::fmt;
use std::str::FromStr;

use rsp_crypto::scp80::{Scp80Error, Tar};
use thiserror::Error;

pub use endpoint::{
    CardSms, InboundPacket, SecuredData, SentCommand, SmSrSms, open_default_notification, open_por,
    open_received_command,
};
pub use smsc::{InProcessSmsc, MessageId, ShortMessage, SmKind, Smsc, SmscError};
pub use trigger::HttpsTrigger;
pub use udh::{InformationElement, PacketKind, Reassembler};

/// Longest TP-User-Data of one short message, in octets (8-bit data).
pub const MAX_USER_DATA: usize = 140;
/// TP-Protocol-Identifier for (U)SIM data download (3GPP TS 23.040 §9.2.3.9), used for every
/// secured packet.
pub const PID_SIM_DATA_DOWNLOAD: u8 = 0x7F;
/// TP-Data-Coding-Scheme "8-bit data, class 2 (SIM specific)", used for every secured packet.
pub const DCS_8BIT_CLASS2: u8 = 0xF6;

/// Why an SMS-level operation failed.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum SmsError {
    /// The secured packet itself was refused or could not be built.
    #[error(transparent)]
    Scp80(#[from] Scp80Error),
    /// The SMSC refused or is unreachable.
    #[error(transparent)]
    Smsc(#[from] SmscError),
    /// An address that is not 1 to 20 digits with an optional leading `+`.
    #[error("invalid SMS address {0:?}")]
    BadAddress(String),
    /// The user data header is malformed.
    #[error("bad user data header: {0}")]
    BadUserDataHeader(&'static str),
    /// A concatenation element is inconsistent.
    #[error("bad concatenation: {0}")]
    BadConcatenation(&'static str),
    /// A short message that carries neither a command (`70`) nor a response (`71`) packet.
    #[error("short message from {0} carries no secured packet")]
    NotSecuredPacket(SmsAddress),
    /// A packet needs more than 255 concatenated short messages.
    #[error("secured packet of {0} bytes does not fit in 255 concatenated SMS")]
    TooLong(usize),
    /// A command packet where a response was expected, or the reverse.
    #[error("expected a {expected:?} packet, received a {received:?} packet")]
    UnexpectedPacket {
        /// What the caller expected.
        expected: PacketKind,
        /// What arrived.
        received: PacketKind,
    },
    /// The HTTPS trigger parameters are malformed.
    #[error("bad HTTPS trigger: {0}")]
    BadTrigger(String),
    /// A PoR came from another address than the card the command went to.
    #[error("PoR from {received}, the command went to {expected}")]
    UnexpectedSender {
        /// The card the command was sent to.
        expected: SmsAddress,
        /// The originator of the PoR.
        received: SmsAddress,
    },
    /// The TAR of a received command is not one the card serves.
    #[error("TAR {0} is not served here")]
    UnknownTar(Tar),
}

/// An SMS address: an MSISDN (E.164 digits, optional leading `+`) or a short code of the SM-SR.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SmsAddress(String);

impl SmsAddress {
    /// Checks and wraps an address: an optional `+` and 1 to 20 digits.
    pub fn new(s: impl Into<String>) -> Result<SmsAddress, SmsError> {
        let s = s.into();
        let digits = s.strip_prefix('+').unwrap_or(&s);
        if digits.is_empty() || digits.len() > 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(SmsError::BadAddress(s));
        }
        Ok(SmsAddress(s))
    }

    /// The address text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SmsAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for SmsAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SmsAddress({})", self.0)
    }
}

impl FromStr for SmsAddress {
    type Err = SmsError;
    fn from_str(s: &str) -> Result<SmsAddress, SmsError> {
        SmsAddress::new(s)
    }
}
