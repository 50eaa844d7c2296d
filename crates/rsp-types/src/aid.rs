//! `Aid`: an application identifier (ISO/IEC 7816-4), 5 to 16 bytes, written as hex text.

use std::fmt;
use std::str::FromStr;

use crate::hex::{self, HexError};
use crate::serde_str::serde_via_str;

/// Smallest AID length in bytes (the RID alone).
pub const AID_MIN_LEN: usize = 5;
/// Largest AID length in bytes.
pub const AID_MAX_LEN: usize = 16;

/// An AID of 5..=16 bytes. Text form is upper-case hex without separators (SGP.02 `AIDType`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Aid {
    bytes: [u8; AID_MAX_LEN],
    len: u8,
}

/// Why an AID was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AidError {
    /// Not 5..=16 bytes.
    #[error("AID must be 5 to 16 bytes, got {actual}")]
    WrongLength {
        /// Number of bytes received.
        actual: usize,
    },
    /// The hex text has an odd number of digits.
    #[error("AID hex text has an odd number of digits")]
    OddHexLength,
    /// A character that is not a hex digit.
    #[error("AID hex text has a non-hex character {ch:?} at position {position}")]
    InvalidHex {
        /// Zero-based character position.
        position: usize,
        /// The offending character.
        ch: char,
    },
}

impl Aid {
    /// Builds an AID from raw bytes. `const`, so AID constants can be checked at compile time:
    /// `const ISD_R: Aid = match Aid::from_bytes(&[..]) { Ok(a) => a, Err(_) => panic!() };`
    pub const fn from_bytes(bytes: &[u8]) -> Result<Aid, AidError> {
        let len = bytes.len();
        if len < AID_MIN_LEN || len > AID_MAX_LEN {
            return Err(AidError::WrongLength { actual: len });
        }
        let mut out = [0u8; AID_MAX_LEN];
        let mut i = 0;
        while i < len {
            out[i] = bytes[i];
            i += 1;
        }
        Ok(Aid {
            bytes: out,
            len: len as u8,
        })
    }

    /// The AID bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or_default()
    }

    /// Length in bytes (5..=16).
    pub fn byte_len(&self) -> usize {
        usize::from(self.len)
    }

    /// The registered application provider identifier (first 5 bytes).
    pub fn rid(&self) -> &[u8] {
        self.as_bytes().get(..AID_MIN_LEN).unwrap_or_default()
    }

    /// The proprietary application identifier extension (bytes after the RID; may be empty).
    pub fn pix(&self) -> &[u8] {
        self.as_bytes().get(AID_MIN_LEN..).unwrap_or_default()
    }

    /// Whether `self` starts with the bytes of `prefix` (partial AID selection).
    pub fn starts_with(&self, prefix: &[u8]) -> bool {
        self.as_bytes().starts_with(prefix)
    }

    /// Upper-case hex text.
    pub fn to_hex(&self) -> String {
        hex::encode_upper(self.as_bytes())
    }
}

impl TryFrom<&[u8]> for Aid {
    type Error = AidError;
    fn try_from(bytes: &[u8]) -> Result<Aid, AidError> {
        Aid::from_bytes(bytes)
    }
}

impl FromStr for Aid {
    type Err = AidError;

    /// Parses hex text in either case.
    fn from_str(s: &str) -> Result<Aid, AidError> {
        // Bound the work before decoding untrusted text.
        if s.len() > AID_MAX_LEN * 2 + 2 {
            return Err(AidError::WrongLength {
                actual: s.len() / 2,
            });
        }
        let bytes = hex::decode(s).map_err(|e| match e {
            HexError::OddLength => AidError::OddHexLength,
            HexError::InvalidChar { position, ch } => AidError::InvalidHex { position, ch },
        })?;
        Aid::from_bytes(&bytes)
    }
}

impl PartialOrd for Aid {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Aid {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl AsRef<[u8]> for Aid {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl fmt::Display for Aid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Aid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Aid({})", self.to_hex())
    }
}

serde_via_str!(Aid, "an AID as 10 to 32 hex digits");

#[cfg(test)]
mod tests {
    use super::*;

    /// ISD-R AID of SGP.02 / SGP.22 (`A0000005591010FFFFFFFF8900000100`).
    const ISD_R: Aid = match Aid::from_bytes(&[
        0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0x89, 0x00, 0x00, 0x01,
        0x00,
    ]) {
        Ok(a) => a,
        Err(_) => panic!("invalid AID constant"),
    };

    #[test]
    fn parse_display_round_trip() {
        let aid: Aid = "a0000005591010ffffffff8900000100".parse().unwrap();
        assert_eq!(aid, ISD_R);
        assert_eq!(aid.to_string(), "A0000005591010FFFFFFFF8900000100");
        assert_eq!(aid.rid(), &[0xA0, 0x00, 0x00, 0x05, 0x59]);
        assert_eq!(aid.pix().len(), 11);
        assert!(aid.starts_with(&[0xA0, 0x00, 0x00, 0x05, 0x59]));
        let rid_only: Aid = "A000000559".parse().unwrap();
        assert!(rid_only.pix().is_empty());
        assert!(rid_only < aid);
    }

    #[test]
    fn error_cases() {
        assert_eq!(
            "A0000005".parse::<Aid>(),
            Err(AidError::WrongLength { actual: 4 })
        );
        assert_eq!(
            "A0000005591010FFFFFFFF890000010000".parse::<Aid>(),
            Err(AidError::WrongLength { actual: 17 })
        );
        assert_eq!("A00000055".parse::<Aid>(), Err(AidError::OddHexLength));
        assert_eq!(
            "A0000005 9".parse::<Aid>(),
            Err(AidError::InvalidHex {
                position: 8,
                ch: ' '
            })
        );
        assert_eq!(
            Aid::from_bytes(&[0; 17]),
            Err(AidError::WrongLength { actual: 17 })
        );
        assert!("".parse::<Aid>().is_err());
    }

    #[test]
    fn serde_as_hex() {
        let json = serde_json::to_string(&ISD_R).unwrap();
        assert_eq!(json, "\"A0000005591010FFFFFFFF8900000100\"");
        assert_eq!(serde_json::from_str::<Aid>(&json).unwrap(), ISD_R);
    }
}
