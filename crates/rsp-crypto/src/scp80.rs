//! SCP80 secured packets (ETSI TS 102 225) in the SMS form of 3GPP TS 31.115, with AES only:
//! AES-CMAC cryptographic checksum truncated to 8 bytes and AES-CBC ciphering with a zero ICV, as
//! SGP.02 §2.4.3 requires for ES5 over SMS.
//!
//! # Wire format (SMS dialect)
//! The Command Packet Identifier (CPI) and Response Packet Identifier (RPI) are not in these bytes:
//! over SMS they are the user-data-header elements `70 00` and `71 00`, added by the transport.
//! The Command/Response Header Identifier is null.
//!
//! ```text
//! command:  CPL(2) CHL(1) SPI(2) KIc(1) KID(1) TAR(3) | CNTR(5) PCNTR(1) CC(8) data padding
//! response: RPL(2) RHL(1) TAR(3)                      | CNTR(5) PCNTR(1) status(1) CC(8) data padding
//! ```
//! Everything after the `|` is AES-CBC ciphered (zero ICV) when the SPI asks for ciphering; it is
//! then zero-padded to a multiple of 16 bytes and PCNTR counts the padding bytes. Without ciphering
//! nothing is padded (AES-CMAC pads internally).
//!
//! The command checksum is AES-CMAC over `CPL ‖ CHL ‖ SPI ‖ KIc ‖ KID ‖ TAR ‖ CNTR ‖ PCNTR ‖ data ‖
//! padding` (the UDH is not covered); the response checksum covers the fixed SMS header `02 71 00`
//! first, then `RPL ‖ RHL ‖ TAR ‖ CNTR ‖ PCNTR ‖ status ‖ data ‖ padding`. Both are the leftmost 8
//! bytes of the CMAC. This byte layout reproduces the published AES-128 vectors of osmocom pySim
//! (`tests/unittests/test_ota.py`, sysmoISIM-SJA5 samples) byte for byte.
//!
//! Only the cryptographic checksum (CC) and "no RC/CC/DS" are implemented; a redundancy check (RC,
//! CRC) or digital signature (DS) gives [`Scp80Error::UnsupportedChecksum`].

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

use crate::aes::{AesError, AesKey, BLOCK_LEN, CMAC8_LEN, ct_eq, truncate8};

/// Length of the counter field (CNTR).
pub const COUNTER_LEN: usize = 5;
/// Length of the Toolkit Application Reference.
pub const TAR_LEN: usize = 3;
/// Length of the AES-CMAC cryptographic checksum used here (SGP.02: 64 bits).
pub const CC_LEN: usize = CMAC8_LEN;
/// Largest counter value (40 bits).
pub const MAX_COUNTER: u64 = (1 << 40) - 1;
/// The SMS user data header that precedes every response packet (`UDHL=02`, `IEI=71`, `IEIDL=00`);
/// the response checksum covers it.
pub const RESPONSE_UDH: [u8; 3] = [0x02, 0x71, 0x00];
/// Low nibble of KIc/KID meaning "algorithm known implicitly by both entities".
pub const ALGORITHM_IMPLICIT: u8 = 0x0;
/// Low nibble of KIc meaning AES in CBC mode, and of KID meaning AES in CMAC mode (TS 102 225
/// §5.1.2, §5.1.3.1).
pub const ALGORITHM_AES: u8 = 0x2;

/// Command header bytes from SPI to PCNTR without RC/CC/DS: SPI(2) KIc KID TAR(3) CNTR(5) PCNTR.
const CHL_BASE: usize = 13;
/// Response header bytes from TAR to status without RC/CC/DS: TAR(3) CNTR(5) PCNTR status.
const RHL_BASE: usize = 10;
/// Plain command header: CPL(2) CHL SPI(2) KIc KID TAR(3).
const CMD_PLAIN_HEADER: usize = 10;
/// Plain response header: RPL(2) RHL TAR(3).
const RSP_PLAIN_HEADER: usize = 6;
const ZERO_ICV: [u8; BLOCK_LEN] = [0; BLOCK_LEN];

/// Why an SCP80 packet could not be built or was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum Scp80Error {
    /// A length field disagrees with the data, or the packet is too short or too long.
    #[error("SCP80 bad length: {0}")]
    BadLength(&'static str),
    /// The cryptographic checksum does not verify.
    #[error("SCP80 cryptographic checksum does not verify")]
    BadChecksum,
    /// The counter is not higher than the last accepted one (replay).
    #[error(
        "SCP80 counter {received} is not higher than the last accepted counter {last} (replay)"
    )]
    CounterReplay {
        /// Counter in the packet.
        received: u64,
        /// Last counter accepted by the receiver.
        last: u64,
    },
    /// "Counter must be one higher" and the counter skips values.
    #[error("SCP80 counter {received} is higher than the expected {expected}")]
    CounterTooHigh {
        /// Counter in the packet.
        received: u64,
        /// The only value accepted.
        expected: u64,
    },
    /// The receiver's counter has reached its maximum; no higher counter can exist.
    #[error("SCP80 counter is blocked at its maximum value")]
    CounterBlocked,
    /// A counter value above 40 bits.
    #[error("SCP80 counter {0} does not fit in 5 bytes")]
    CounterOutOfRange(u64),
    /// The TAR is not one the receiver serves (or not the one a response was expected from).
    #[error("SCP80 unknown TAR {0}")]
    UnknownTar(Tar),
    /// A response packet carries another counter than the command it answers.
    #[error("SCP80 response counter {received} does not match the command counter {expected}")]
    CounterMismatch {
        /// Counter of the command.
        expected: u64,
        /// Counter in the response.
        received: u64,
    },
    /// RC (CRC) or DS integrity was asked for; only CC and none are implemented.
    #[error("SCP80 {0:?} is not supported (only a cryptographic checksum or none)")]
    UnsupportedChecksum(ChecksumKind),
    /// The KIc or KID names another algorithm than AES.
    #[error("SCP80 {which} 0x{value:02X} does not name AES")]
    UnsupportedAlgorithm {
        /// `"KIc"` or `"KID"`.
        which: &'static str,
        /// The byte received.
        value: u8,
    },
    /// The KIc or KID names another key version than the keys at hand.
    #[error("SCP80 {which} names key version {received}, the keys are version {expected}")]
    KeyVersionMismatch {
        /// `"KIc"` or `"KID"`.
        which: &'static str,
        /// Key version of the keys used.
        expected: u8,
        /// Key version in the packet.
        received: u8,
    },
    /// A key version outside 0..=15.
    #[error("SCP80 key version {0} does not fit in 4 bits")]
    InvalidKeyVersion(u8),
    /// The SPI uses a reserved value.
    #[error("SCP80 SPI {0:02X?} uses a reserved value")]
    ReservedSpi([u8; 2]),
    /// The packet is less protected than the receiver's minimum security level.
    #[error("SCP80 insufficient security level: {0}")]
    InsufficientSecurity(&'static str),
    /// The padding counter is larger than the data it would remove.
    #[error("SCP80 padding counter {pcntr} exceeds the {available} data bytes")]
    BadPadding {
        /// The padding counter received.
        pcntr: u8,
        /// Bytes of data (with padding) present.
        available: usize,
    },
    /// An AES key or block error.
    #[error(transparent)]
    Aes(#[from] AesError),
}

impl Scp80Error {
    /// The PoR status a card reports for this failure (ETSI TS 102 225 Table 5), where one exists.
    ///
    /// SGP.02 §2.4.3 asks the card to drop a packet that fails SCP80 verification without a PoR;
    /// callers decide which of these statuses they actually send.
    pub fn por_status(&self) -> Option<ResponseStatus> {
        match self {
            Scp80Error::BadChecksum => Some(ResponseStatus::ChecksumFailed),
            Scp80Error::CounterReplay { .. } => Some(ResponseStatus::CounterLow),
            Scp80Error::CounterTooHigh { .. } => Some(ResponseStatus::CounterHigh),
            Scp80Error::CounterBlocked => Some(ResponseStatus::CounterBlocked),
            Scp80Error::UnknownTar(_) => Some(ResponseStatus::TarUnknown),
            Scp80Error::InsufficientSecurity(_) => Some(ResponseStatus::InsufficientSecurityLevel),
            Scp80Error::BadPadding { .. } | Scp80Error::Aes(_) => {
                Some(ResponseStatus::CipheringError)
            }
            Scp80Error::UnsupportedChecksum(_)
            | Scp80Error::UnsupportedAlgorithm { .. }
            | Scp80Error::KeyVersionMismatch { .. }
            | Scp80Error::ReservedSpi(_) => Some(ResponseStatus::UndefinedSecurityError),
            Scp80Error::BadLength(_)
            | Scp80Error::CounterOutOfRange(_)
            | Scp80Error::CounterMismatch { .. }
            | Scp80Error::InvalidKeyVersion(_) => None,
        }
    }
}

/// Toolkit Application Reference: 3 bytes naming the receiving application (e.g. the ISD-R).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tar(pub [u8; TAR_LEN]);

impl Tar {
    /// The TAR from exactly 3 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Tar, Scp80Error> {
        bytes
            .try_into()
            .map(Tar)
            .map_err(|_| Scp80Error::BadLength("a TAR is 3 bytes"))
    }

    /// The 3 bytes.
    pub fn as_bytes(&self) -> &[u8; TAR_LEN] {
        &self.0
    }
}

impl fmt::Display for Tar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", hex::encode_upper(self.0))
    }
}

impl fmt::Debug for Tar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tar({self})")
    }
}

impl FromStr for Tar {
    type Err = Scp80Error;
    /// Six hex digits, either case.
    fn from_str(s: &str) -> Result<Tar, Scp80Error> {
        let bytes = hex::decode(s).map_err(|_| Scp80Error::BadLength("a TAR is 6 hex digits"))?;
        Tar::from_slice(&bytes)
    }
}

/// The 5-byte replay counter (CNTR), 0 ..= 2^40 - 1.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Counter(u64);

impl Counter {
    /// Counter zero (used by the default notification, SGP.02 §3.15.1).
    pub const ZERO: Counter = Counter(0);

    /// A counter; values above 40 bits are refused.
    pub fn new(value: u64) -> Result<Counter, Scp80Error> {
        if value > MAX_COUNTER {
            Err(Scp80Error::CounterOutOfRange(value))
        } else {
            Ok(Counter(value))
        }
    }

    /// The counter from its 5 big-endian bytes.
    pub fn from_bytes(bytes: [u8; COUNTER_LEN]) -> Counter {
        Counter(bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    }

    /// The 5 big-endian bytes.
    pub fn to_bytes(self) -> [u8; COUNTER_LEN] {
        let b = self.0.to_be_bytes();
        [b[3], b[4], b[5], b[6], b[7]]
    }

    /// The value.
    pub fn value(self) -> u64 {
        self.0
    }

    /// The next counter, or [`Scp80Error::CounterBlocked`] at the maximum.
    pub fn next(self) -> Result<Counter, Scp80Error> {
        if self.0 >= MAX_COUNTER {
            Err(Scp80Error::CounterBlocked)
        } else {
            Ok(Counter(self.0 + 1))
        }
    }
}

impl fmt::Display for Counter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Debug for Counter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Counter({})", self.0)
    }
}

/// Counter handling requested by SPI1 b5-b4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CounterMode {
    /// `00`: no counter available (the value is ignored).
    NoCounter,
    /// `01`: counter available, no replay or sequence checking.
    Available,
    /// `10`: process only if the counter is higher than the receiver's.
    MustBeHigher,
    /// `11`: process only if the counter is exactly one higher than the receiver's.
    MustBeOneHigher,
}

/// Integrity mechanism (RC/CC/DS) of SPI1 b2-b1 or of the PoR in SPI2 b4-b3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChecksumKind {
    /// `00`: no RC, CC or DS.
    None,
    /// `01`: redundancy check (CRC).
    Redundancy,
    /// `10`: cryptographic checksum (here AES-CMAC, 8 bytes).
    Cryptographic,
    /// `11`: digital signature.
    Signature,
}

impl ChecksumKind {
    fn from_bits(bits: u8) -> ChecksumKind {
        match bits & 0b11 {
            0b00 => ChecksumKind::None,
            0b01 => ChecksumKind::Redundancy,
            0b10 => ChecksumKind::Cryptographic,
            _ => ChecksumKind::Signature,
        }
    }

    fn bits(self) -> u8 {
        match self {
            ChecksumKind::None => 0b00,
            ChecksumKind::Redundancy => 0b01,
            ChecksumKind::Cryptographic => 0b10,
            ChecksumKind::Signature => 0b11,
        }
    }

    /// Length of the checksum field this module produces, or an error for RC/DS.
    fn field_len(self) -> Result<usize, Scp80Error> {
        match self {
            ChecksumKind::None => Ok(0),
            ChecksumKind::Cryptographic => Ok(CC_LEN),
            other => Err(Scp80Error::UnsupportedChecksum(other)),
        }
    }
}

/// Proof of Receipt request of SPI2 b2-b1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PorRequest {
    /// `00`: no PoR.
    None,
    /// `01`: PoR required.
    Always,
    /// `10`: PoR only on error.
    OnError,
}

/// How the PoR travels over SMS (SPI2 b6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PorTransport {
    /// `0`: in the RP-ACK of the SMS-DELIVER-REPORT.
    DeliverReport,
    /// `1`: in a separate SMS-SUBMIT (what SGP.02 asks for with SPI2 `39`).
    Submit,
}

/// The Security Parameter Indicator (2 bytes), TS 102 225 §5.1.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Spi {
    /// Integrity of the command (SPI1 b2-b1).
    pub checksum: ChecksumKind,
    /// Command ciphered (SPI1 b3).
    pub ciphering: bool,
    /// Counter handling (SPI1 b5-b4).
    pub counter: CounterMode,
    /// PoR request (SPI2 b2-b1).
    pub por: PorRequest,
    /// Integrity of the PoR (SPI2 b4-b3).
    pub por_checksum: ChecksumKind,
    /// PoR ciphered (SPI2 b5).
    pub por_ciphered: bool,
    /// PoR transport (SPI2 b6).
    pub por_transport: PorTransport,
}

impl Spi {
    /// SGP.02 ES5 command packets (U-14): CC, ciphering, "counter must be higher"; PoR required,
    /// with CC, ciphered, sent as SMS-SUBMIT. Encodes as `16 39`.
    pub const SGP02_COMMAND: Spi = Spi {
        checksum: ChecksumKind::Cryptographic,
        ciphering: true,
        counter: CounterMode::MustBeHigher,
        por: PorRequest::Always,
        por_checksum: ChecksumKind::Cryptographic,
        por_ciphered: true,
        por_transport: PorTransport::Submit,
    };

    /// The card's Default Notification MO packet (SGP.02 §3.15.1): "no counter available", CC and
    /// ciphering, no PoR (the SM-SR answers with `ES5.NotificationConfirmation`). Encodes as `06 00`.
    pub const DEFAULT_NOTIFICATION: Spi = Spi {
        checksum: ChecksumKind::Cryptographic,
        ciphering: true,
        counter: CounterMode::NoCounter,
        por: PorRequest::None,
        por_checksum: ChecksumKind::None,
        por_ciphered: false,
        por_transport: PorTransport::DeliverReport,
    };

    /// Decodes the two SPI bytes. Reserved bits (SPI1 b8-b6, SPI2 b8-b7) are ignored; the
    /// reserved PoR request `11` is refused.
    pub fn from_bytes(bytes: [u8; 2]) -> Result<Spi, Scp80Error> {
        let [s1, s2] = bytes;
        let counter = match (s1 >> 3) & 0b11 {
            0b00 => CounterMode::NoCounter,
            0b01 => CounterMode::Available,
            0b10 => CounterMode::MustBeHigher,
            _ => CounterMode::MustBeOneHigher,
        };
        let por = match s2 & 0b11 {
            0b00 => PorRequest::None,
            0b01 => PorRequest::Always,
            0b10 => PorRequest::OnError,
            _ => return Err(Scp80Error::ReservedSpi(bytes)),
        };
        Ok(Spi {
            checksum: ChecksumKind::from_bits(s1),
            ciphering: s1 & 0b100 != 0,
            counter,
            por,
            por_checksum: ChecksumKind::from_bits(s2 >> 2),
            por_ciphered: s2 & 0x10 != 0,
            por_transport: if s2 & 0x20 != 0 {
                PorTransport::Submit
            } else {
                PorTransport::DeliverReport
            },
        })
    }

    /// Encodes the two SPI bytes (reserved bits zero).
    pub fn to_bytes(&self) -> [u8; 2] {
        let counter = match self.counter {
            CounterMode::NoCounter => 0b00,
            CounterMode::Available => 0b01,
            CounterMode::MustBeHigher => 0b10,
            CounterMode::MustBeOneHigher => 0b11,
        };
        let s1 = self.checksum.bits() | (u8::from(self.ciphering) << 2) | (counter << 3);
        let por = match self.por {
            PorRequest::None => 0b00,
            PorRequest::Always => 0b01,
            PorRequest::OnError => 0b10,
        };
        let s2 = por
            | (self.por_checksum.bits() << 2)
            | (u8::from(self.por_ciphered) << 4)
            | (u8::from(self.por_transport == PorTransport::Submit) << 5);
        [s1, s2]
    }
}

/// A KIc or KID byte: key version in b8-b5, algorithm in b4-b1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyIdentifier(pub u8);

impl KeyIdentifier {
    /// The AES identifier for `key_version` (`0x_2`).
    pub fn aes(key_version: u8) -> Result<KeyIdentifier, Scp80Error> {
        if key_version > 0x0F {
            return Err(Scp80Error::InvalidKeyVersion(key_version));
        }
        Ok(KeyIdentifier((key_version << 4) | ALGORITHM_AES))
    }

    /// Key version (b8-b5).
    pub fn key_version(self) -> u8 {
        self.0 >> 4
    }

    /// Algorithm nibble (b4-b1): `2` AES, `0` implicit, `1`/`5`/`9`/`D` DES variants, `3` proprietary.
    pub fn algorithm(self) -> u8 {
        self.0 & 0x0F
    }

    fn check(self, which: &'static str, key_version: u8) -> Result<(), Scp80Error> {
        match self.algorithm() {
            ALGORITHM_AES => {
                if self.key_version() == key_version {
                    Ok(())
                } else {
                    Err(Scp80Error::KeyVersionMismatch {
                        which,
                        expected: key_version,
                        received: self.key_version(),
                    })
                }
            }
            // Implicit algorithm: the keys at hand are AES; the version nibble is not compared.
            ALGORITHM_IMPLICIT => Ok(()),
            _ => Err(Scp80Error::UnsupportedAlgorithm {
                which,
                value: self.0,
            }),
        }
    }
}

/// One SCP80 AES key set: KIc (ciphering), KID (checksum) and their key version number.
#[derive(Clone, Debug)]
pub struct Scp80Keys {
    key_version: u8,
    kic: AesKey,
    kid: AesKey,
}

impl Scp80Keys {
    /// Expands the two AES keys (16, 24 or 32 bytes each) of key version `key_version` (0..=15).
    pub fn new(key_version: u8, kic: &[u8], kid: &[u8]) -> Result<Scp80Keys, Scp80Error> {
        if key_version > 0x0F {
            return Err(Scp80Error::InvalidKeyVersion(key_version));
        }
        Ok(Scp80Keys {
            key_version,
            kic: AesKey::new(kic)?,
            kid: AesKey::new(kid)?,
        })
    }

    /// The key version number.
    pub fn key_version(&self) -> u8 {
        self.key_version
    }

    /// The KIc byte these keys produce (`version << 4 | 2`, AES-CBC).
    pub fn kic(&self) -> KeyIdentifier {
        KeyIdentifier((self.key_version << 4) | ALGORITHM_AES)
    }

    /// The KID byte these keys produce (`version << 4 | 2`, AES-CMAC).
    pub fn kid(&self) -> KeyIdentifier {
        KeyIdentifier((self.key_version << 4) | ALGORITHM_AES)
    }
}

/// What the sender chooses for one command packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandParams {
    /// Security parameters.
    pub spi: Spi,
    /// Receiving application.
    pub tar: Tar,
}

/// The header of a verified command packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandHeader {
    /// Security parameters.
    pub spi: Spi,
    /// KIc as received.
    pub kic: KeyIdentifier,
    /// KID as received.
    pub kid: KeyIdentifier,
    /// Receiving application.
    pub tar: Tar,
    /// Counter as received.
    pub counter: Counter,
    /// Number of padding bytes that were removed.
    pub padding: u8,
}

impl CommandHeader {
    /// The counter the receiver stores after accepting this packet: the packet's counter when the
    /// SPI carries one and it is higher than `last`, otherwise `last`.
    pub fn updated_counter(&self, last: Counter) -> Counter {
        if self.spi.counter != CounterMode::NoCounter && self.counter > last {
            self.counter
        } else {
            last
        }
    }
}

/// The plain (never ciphered) part of a command packet, readable without keys: enough to pick the
/// keys (by TAR, KIc, KID) before opening it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlainCommandHeader {
    /// Security parameters.
    pub spi: Spi,
    /// KIc.
    pub kic: KeyIdentifier,
    /// KID.
    pub kid: KeyIdentifier,
    /// Receiving application.
    pub tar: Tar,
}

/// The least protection a receiver accepts (TS 102 225 "minimum security level").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MinimumSecurity {
    /// A cryptographic checksum is required.
    pub checksum: bool,
    /// Ciphering is required.
    pub ciphering: bool,
    /// A checked counter ("must be higher" or "must be one higher") is required.
    pub counter: bool,
}

impl MinimumSecurity {
    /// Cryptographic checksum required; ciphering and counter optional (what [`open_command`] uses:
    /// the Default Notification carries no counter).
    pub const CHECKSUM: MinimumSecurity = MinimumSecurity {
        checksum: true,
        ciphering: false,
        counter: false,
    };
    /// Checksum, ciphering and a checked counter all required (the simulated card's ISD-R).
    pub const FULL: MinimumSecurity = MinimumSecurity {
        checksum: true,
        ciphering: true,
        counter: true,
    };
    /// Nothing required (tests and diagnostics only).
    pub const NONE: MinimumSecurity = MinimumSecurity {
        checksum: false,
        ciphering: false,
        counter: false,
    };

    fn check(&self, spi: &Spi) -> Result<(), Scp80Error> {
        if self.checksum && spi.checksum != ChecksumKind::Cryptographic {
            return Err(Scp80Error::InsufficientSecurity(
                "a cryptographic checksum is required",
            ));
        }
        if self.ciphering && !spi.ciphering {
            return Err(Scp80Error::InsufficientSecurity("ciphering is required"));
        }
        if self.counter
            && !matches!(
                spi.counter,
                CounterMode::MustBeHigher | CounterMode::MustBeOneHigher
            )
        {
            return Err(Scp80Error::InsufficientSecurity(
                "a replay-checked counter is required",
            ));
        }
        Ok(())
    }
}

/// Response status of a PoR (ETSI TS 102 225 Table 5, 3GPP TS 31.115 §7). Unknown codes survive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResponseStatus {
    /// `00` PoR OK.
    PorOk,
    /// `01` RC/CC/DS failed.
    ChecksumFailed,
    /// `02` counter low.
    CounterLow,
    /// `03` counter high.
    CounterHigh,
    /// `04` counter blocked.
    CounterBlocked,
    /// `05` ciphering error.
    CipheringError,
    /// `06` unidentified security error.
    UndefinedSecurityError,
    /// `07` insufficient memory to process the incoming message.
    InsufficientMemory,
    /// `08` more time needed to process the command.
    MoreTimeNeeded,
    /// `09` TAR unknown.
    TarUnknown,
    /// `0A` insufficient security level.
    InsufficientSecurityLevel,
    /// `0B` actual response data to be sent using SMS-SUBMIT.
    ResponseInSubmit,
    /// `0C` actual response data to be sent using a USSD string.
    ResponseInUssd,
    /// Any other code.
    Other(u8),
}

impl ResponseStatus {
    /// The status byte.
    pub fn code(self) -> u8 {
        match self {
            ResponseStatus::PorOk => 0x00,
            ResponseStatus::ChecksumFailed => 0x01,
            ResponseStatus::CounterLow => 0x02,
            ResponseStatus::CounterHigh => 0x03,
            ResponseStatus::CounterBlocked => 0x04,
            ResponseStatus::CipheringError => 0x05,
            ResponseStatus::UndefinedSecurityError => 0x06,
            ResponseStatus::InsufficientMemory => 0x07,
            ResponseStatus::MoreTimeNeeded => 0x08,
            ResponseStatus::TarUnknown => 0x09,
            ResponseStatus::InsufficientSecurityLevel => 0x0A,
            ResponseStatus::ResponseInSubmit => 0x0B,
            ResponseStatus::ResponseInUssd => 0x0C,
            ResponseStatus::Other(c) => c,
        }
    }

    /// The status for a byte.
    pub fn from_code(code: u8) -> ResponseStatus {
        match code {
            0x00 => ResponseStatus::PorOk,
            0x01 => ResponseStatus::ChecksumFailed,
            0x02 => ResponseStatus::CounterLow,
            0x03 => ResponseStatus::CounterHigh,
            0x04 => ResponseStatus::CounterBlocked,
            0x05 => ResponseStatus::CipheringError,
            0x06 => ResponseStatus::UndefinedSecurityError,
            0x07 => ResponseStatus::InsufficientMemory,
            0x08 => ResponseStatus::MoreTimeNeeded,
            0x09 => ResponseStatus::TarUnknown,
            0x0A => ResponseStatus::InsufficientSecurityLevel,
            0x0B => ResponseStatus::ResponseInSubmit,
            0x0C => ResponseStatus::ResponseInUssd,
            c => ResponseStatus::Other(c),
        }
    }
}

/// A verified response packet (PoR).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenedResponse {
    /// TAR of the answering application.
    pub tar: Tar,
    /// Counter (equal to the command's).
    pub counter: Counter,
    /// Response status.
    pub status: ResponseStatus,
    /// Additional response data (e.g. the response script), padding removed.
    pub data: Vec<u8>,
}

fn pad_len(len: usize) -> usize {
    (BLOCK_LEN - len % BLOCK_LEN) % BLOCK_LEN
}

fn u16_len(len: usize, what: &'static str) -> Result<[u8; 2], Scp80Error> {
    u16::try_from(len)
        .map(u16::to_be_bytes)
        .map_err(|_| Scp80Error::BadLength(what))
}

/// Builds a command packet (from CPL on; the SMS layer adds the `70 00` CPI).
///
/// KIc and KID are taken from `keys`; `counter` is written as is (the sender allocates and persists
/// it before sending). The data are typically a remote command script (TS 102 226).
pub fn secure_command(
    keys: &Scp80Keys,
    params: &CommandParams,
    counter: Counter,
    data: &[u8],
) -> Result<Vec<u8>, Scp80Error> {
    let spi = params.spi;
    let cc_len = spi.checksum.field_len()?;
    let pad = if spi.ciphering {
        pad_len(COUNTER_LEN + 1 + cc_len + data.len())
    } else {
        0
    };
    let body_len = COUNTER_LEN + 1 + cc_len + data.len() + pad;
    let cpl = u16_len(1 + 7 + body_len, "command packet longer than 65535 bytes")?;
    let chl = u8::try_from(CHL_BASE + cc_len).map_err(|_| Scp80Error::BadLength("CHL"))?;
    let pcntr = u8::try_from(pad).map_err(|_| Scp80Error::BadLength("PCNTR"))?;

    let mut out = Vec::with_capacity(CMD_PLAIN_HEADER + body_len);
    out.extend_from_slice(&cpl);
    out.push(chl);
    out.extend_from_slice(&spi.to_bytes());
    out.push(keys.kic().0);
    out.push(keys.kid().0);
    out.extend_from_slice(params.tar.as_bytes());

    let mut body = Vec::with_capacity(body_len);
    body.extend_from_slice(&counter.to_bytes());
    body.push(pcntr);
    let zeros = [0u8; BLOCK_LEN];
    let padding = zeros.get(..pad).unwrap_or_default();
    seal_body(
        keys,
        &[&out],
        &mut body,
        data,
        padding,
        cc_len > 0,
        spi.ciphering,
    )?;
    out.extend_from_slice(&body);
    Ok(out)
}

/// The common tail of command and response packets: the checksum over `mac_prefix ‖ body ‖ data ‖ padding`
/// (8 bytes of AES-CMAC), then the data and padding, all ciphered with AES-CBC (zero ICV) when asked.
fn seal_body(
    keys: &Scp80Keys,
    mac_prefix: &[&[u8]],
    body: &mut Vec<u8>,
    data: &[u8],
    padding: &[u8],
    checksum: bool,
    cipher: bool,
) -> Result<(), Scp80Error> {
    if checksum {
        let cc = {
            let mut parts: Vec<&[u8]> = mac_prefix.to_vec();
            parts.extend_from_slice(&[body.as_slice(), data, padding]);
            truncate8(&keys.kid.cmac_parts(&parts))
        };
        body.extend_from_slice(&cc);
    }
    body.extend_from_slice(data);
    body.extend_from_slice(padding);
    if cipher {
        keys.kic.cbc_encrypt_in_place(&ZERO_ICV, body)?;
    }
    Ok(())
}

/// Reads the plain header of a command packet (no keys needed, nothing verified but lengths).
pub fn peek_command(packet: &[u8]) -> Result<PlainCommandHeader, Scp80Error> {
    let head = packet.get(..CMD_PLAIN_HEADER).ok_or(Scp80Error::BadLength(
        "command packet shorter than its header",
    ))?;
    let cpl = usize::from(u16::from_be_bytes([head[0], head[1]]));
    if cpl != packet.len() - 2 {
        return Err(Scp80Error::BadLength("CPL does not match the packet"));
    }
    Ok(PlainCommandHeader {
        spi: Spi::from_bytes([head[3], head[4]])?,
        kic: KeyIdentifier(head[5]),
        kid: KeyIdentifier(head[6]),
        tar: Tar([head[7], head[8], head[9]]),
    })
}

/// Verifies and opens a command packet with [`MinimumSecurity::CHECKSUM`]; see [`open_command_with`].
pub fn open_command(
    keys: &Scp80Keys,
    packet: &[u8],
    last_counter: Counter,
) -> Result<(CommandHeader, Vec<u8>), Scp80Error> {
    open_command_with(keys, packet, last_counter, MinimumSecurity::CHECKSUM)
}

/// Verifies and opens a command packet (from CPL on).
///
/// Order of checks: lengths and SPI; minimum security level; KIc/KID algorithm and key version;
/// deciphering; cryptographic checksum; counter against `last_counter` as the SPI demands (replay
/// gives [`Scp80Error::CounterReplay`]); padding. The counter is only judged once the checksum has
/// verified. The caller stores [`CommandHeader::updated_counter`] after accepting the packet.
pub fn open_command_with(
    keys: &Scp80Keys,
    packet: &[u8],
    last_counter: Counter,
    minimum: MinimumSecurity,
) -> Result<(CommandHeader, Vec<u8>), Scp80Error> {
    let plain = peek_command(packet)?;
    let spi = plain.spi;
    let cc_len = spi.checksum.field_len()?;
    let chl = packet.get(2).copied().unwrap_or_default();
    if usize::from(chl) != CHL_BASE + cc_len {
        return Err(Scp80Error::BadLength("CHL does not match the SPI"));
    }
    minimum.check(&spi)?;
    if spi.ciphering {
        plain.kic.check("KIc", keys.key_version)?;
    }
    if cc_len > 0 {
        plain.kid.check("KID", keys.key_version)?;
    }
    let (head, rest) = packet.split_at(CMD_PLAIN_HEADER);
    let mut body = rest.to_vec();
    if body.len() < COUNTER_LEN + 1 + cc_len {
        return Err(Scp80Error::BadLength(
            "command packet shorter than its header",
        ));
    }
    if spi.ciphering {
        if !body.len().is_multiple_of(BLOCK_LEN) {
            return Err(Scp80Error::BadLength(
                "ciphered part is not a multiple of 16 bytes",
            ));
        }
        keys.kic.cbc_decrypt_in_place(&ZERO_ICV, &mut body)?;
    }
    let (cntr_pcntr, after) = body.split_at(COUNTER_LEN + 1);
    let (cc, payload) = after.split_at(cc_len);
    if cc_len > 0 {
        let expected = truncate8(&keys.kid.cmac_parts(&[head, cntr_pcntr, payload]));
        if !ct_eq(&expected, cc) {
            return Err(Scp80Error::BadChecksum);
        }
    }
    let mut cntr = [0u8; COUNTER_LEN];
    cntr.copy_from_slice(&cntr_pcntr[..COUNTER_LEN]);
    let counter = Counter::from_bytes(cntr);
    let pcntr = cntr_pcntr[COUNTER_LEN];
    check_counter(spi.counter, counter, last_counter)?;
    let keep = payload
        .len()
        .checked_sub(usize::from(pcntr))
        .ok_or(Scp80Error::BadPadding {
            pcntr,
            available: payload.len(),
        })?;
    let data = payload.get(..keep).unwrap_or_default().to_vec();
    Ok((
        CommandHeader {
            spi,
            kic: plain.kic,
            kid: plain.kid,
            tar: plain.tar,
            counter,
            padding: pcntr,
        },
        data,
    ))
}

fn check_counter(mode: CounterMode, received: Counter, last: Counter) -> Result<(), Scp80Error> {
    match mode {
        CounterMode::NoCounter | CounterMode::Available => Ok(()),
        CounterMode::MustBeHigher | CounterMode::MustBeOneHigher if last.0 >= MAX_COUNTER => {
            Err(Scp80Error::CounterBlocked)
        }
        CounterMode::MustBeHigher => {
            if received > last {
                Ok(())
            } else {
                Err(Scp80Error::CounterReplay {
                    received: received.0,
                    last: last.0,
                })
            }
        }
        CounterMode::MustBeOneHigher => {
            let expected = last.0 + 1;
            if received.0 == expected {
                Ok(())
            } else if received.0 < expected {
                Err(Scp80Error::CounterReplay {
                    received: received.0,
                    last: last.0,
                })
            } else {
                Err(Scp80Error::CounterTooHigh {
                    received: received.0,
                    expected,
                })
            }
        }
    }
}

/// Builds the response packet (PoR, from RPL on; the SMS layer adds the `71 00` RPI) answering
/// `command`, secured as the command's SPI2 asks, with the command's TAR and counter and the same
/// keys.
pub fn secure_response(
    keys: &Scp80Keys,
    command: &CommandHeader,
    status: ResponseStatus,
    data: &[u8],
) -> Result<Vec<u8>, Scp80Error> {
    let spi = command.spi;
    let cc_len = spi.por_checksum.field_len()?;
    let pad = if spi.por_ciphered {
        pad_len(COUNTER_LEN + 2 + cc_len + data.len())
    } else {
        0
    };
    let body_len = COUNTER_LEN + 2 + cc_len + data.len() + pad;
    let rpl = u16_len(
        1 + TAR_LEN + body_len,
        "response packet longer than 65535 bytes",
    )?;
    let rhl = u8::try_from(RHL_BASE + cc_len).map_err(|_| Scp80Error::BadLength("RHL"))?;
    let pcntr = u8::try_from(pad).map_err(|_| Scp80Error::BadLength("PCNTR"))?;

    let mut out = Vec::with_capacity(RSP_PLAIN_HEADER + body_len);
    out.extend_from_slice(&rpl);
    out.push(rhl);
    out.extend_from_slice(command.tar.as_bytes());

    let mut body = Vec::with_capacity(body_len);
    body.extend_from_slice(&command.counter.to_bytes());
    body.push(pcntr);
    body.push(status.code());
    let zeros = [0u8; BLOCK_LEN];
    let padding = zeros.get(..pad).unwrap_or_default();
    seal_body(
        keys,
        &[&RESPONSE_UDH, &out],
        &mut body,
        data,
        padding,
        cc_len > 0,
        spi.por_ciphered,
    )?;
    out.extend_from_slice(&body);
    Ok(out)
}

/// Reads the TAR of a response packet without keys.
pub fn peek_response_tar(packet: &[u8]) -> Result<Tar, Scp80Error> {
    let head = packet.get(..RSP_PLAIN_HEADER).ok_or(Scp80Error::BadLength(
        "response packet shorter than its header",
    ))?;
    Ok(Tar([head[3], head[4], head[5]]))
}

/// Verifies and opens the response packet (from RPL on) answering the command sent with `params`
/// and `counter`: the PoR security comes from `params.spi` (SPI2), the TAR must be the command's
/// ([`Scp80Error::UnknownTar`] otherwise) and so must the counter ([`Scp80Error::CounterMismatch`]).
pub fn open_response(
    keys: &Scp80Keys,
    params: &CommandParams,
    counter: Counter,
    packet: &[u8],
) -> Result<OpenedResponse, Scp80Error> {
    let spi = params.spi;
    let cc_len = spi.por_checksum.field_len()?;
    let head = packet.get(..RSP_PLAIN_HEADER).ok_or(Scp80Error::BadLength(
        "response packet shorter than its header",
    ))?;
    let rpl = usize::from(u16::from_be_bytes([head[0], head[1]]));
    if rpl != packet.len() - 2 {
        return Err(Scp80Error::BadLength("RPL does not match the packet"));
    }
    if usize::from(head[2]) != RHL_BASE + cc_len {
        return Err(Scp80Error::BadLength("RHL does not match the SPI"));
    }
    let tar = Tar([head[3], head[4], head[5]]);
    if tar != params.tar {
        return Err(Scp80Error::UnknownTar(tar));
    }
    let mut body = packet.get(RSP_PLAIN_HEADER..).unwrap_or_default().to_vec();
    if body.len() < COUNTER_LEN + 2 + cc_len {
        return Err(Scp80Error::BadLength(
            "response packet shorter than its header",
        ));
    }
    if spi.por_ciphered {
        if !body.len().is_multiple_of(BLOCK_LEN) {
            return Err(Scp80Error::BadLength(
                "ciphered part is not a multiple of 16 bytes",
            ));
        }
        keys.kic.cbc_decrypt_in_place(&ZERO_ICV, &mut body)?;
    }
    let (fixed, after) = body.split_at(COUNTER_LEN + 2);
    let (cc, payload) = after.split_at(cc_len);
    if cc_len > 0 {
        let expected = truncate8(&keys.kid.cmac_parts(&[&RESPONSE_UDH, head, fixed, payload]));
        if !ct_eq(&expected, cc) {
            return Err(Scp80Error::BadChecksum);
        }
    }
    let mut cntr = [0u8; COUNTER_LEN];
    cntr.copy_from_slice(&fixed[..COUNTER_LEN]);
    let received = Counter::from_bytes(cntr);
    if received != counter {
        return Err(Scp80Error::CounterMismatch {
            expected: counter.0,
            received: received.0,
        });
    }
    let pcntr = fixed[COUNTER_LEN];
    let status = ResponseStatus::from_code(fixed[COUNTER_LEN + 1]);
    let keep = payload
        .len()
        .checked_sub(usize::from(pcntr))
        .ok_or(Scp80Error::BadPadding {
            pcntr,
            available: payload.len(),
        })?;
    Ok(OpenedResponse {
        tar,
        counter: received,
        status,
        data: payload.get(..keep).unwrap_or_default().to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spi_bytes_round_trip_for_all_valid_values() {
        for s1 in 0u8..=0x1F {
            for s2 in 0u8..=0x3F {
                if s2 & 0b11 == 0b11 {
                    assert_eq!(
                        Spi::from_bytes([s1, s2]),
                        Err(Scp80Error::ReservedSpi([s1, s2]))
                    );
                    continue;
                }
                let spi = Spi::from_bytes([s1, s2]).unwrap();
                assert_eq!(spi.to_bytes(), [s1, s2]);
            }
        }
        assert_eq!(Spi::SGP02_COMMAND.to_bytes(), [0x16, 0x39]);
        assert_eq!(Spi::DEFAULT_NOTIFICATION.to_bytes(), [0x06, 0x00]);
        // reserved bits are ignored on input
        assert_eq!(
            Spi::from_bytes([0xF6, 0xF9]).unwrap().to_bytes(),
            [0x16, 0x39]
        );
    }

    #[test]
    fn counter_bytes() {
        let c = Counter::new(0x01_0203_0405).unwrap();
        assert_eq!(c.to_bytes(), [1, 2, 3, 4, 5]);
        assert_eq!(Counter::from_bytes([1, 2, 3, 4, 5]), c);
        assert_eq!(
            Counter::new(MAX_COUNTER + 1),
            Err(Scp80Error::CounterOutOfRange(MAX_COUNTER + 1))
        );
        assert_eq!(
            Counter::new(MAX_COUNTER).unwrap().next(),
            Err(Scp80Error::CounterBlocked)
        );
    }

    #[test]
    fn tar_text() {
        let t: Tar = "b00011".parse().unwrap();
        assert_eq!(t.0, [0xB0, 0x00, 0x11]);
        assert_eq!(t.to_string(), "B00011");
        assert!("B000".parse::<Tar>().is_err());
    }
}
