//! `Iccid`: the profile identifier (ITU-T E.118), 19 or 20 decimal digits ending in a Luhn check digit.
//!
//! Text is written in normal digit order (SGP.02 `ICCIDType`, SGP.22 JSON `iccid`). Cards and the SGP.22
//! ASN.1 `Iccid ::= OCTET STRING (SIZE(10))` carry it nibble-swapped and padded with `F`
//! ([`Iccid::to_bcd_swapped`]). On input a single trailing `F`/`f` pad is accepted and dropped.

use std::fmt;
use std::str::FromStr;

use crate::serde_str::serde_via_str;

/// Smallest accepted number of digits (including the Luhn digit).
pub const ICCID_MIN_DIGITS: usize = 19;
/// Largest accepted number of digits (including the Luhn digit).
pub const ICCID_MAX_DIGITS: usize = 20;
/// Size of the nibble-swapped card form.
pub const ICCID_BCD_BYTES: usize = 10;

/// An ICCID of 19 or 20 ASCII digits with a valid Luhn check digit.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Iccid {
    digits: [u8; ICCID_MAX_DIGITS],
    len: u8,
}

/// Why an ICCID was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IccidError {
    /// Wrong number of digits (after dropping one trailing `F` pad).
    #[error(
        "ICCID must be 19 or 20 decimal digits (optionally followed by an F pad), got {actual}"
    )]
    WrongLength {
        /// Number of characters received, without the pad.
        actual: usize,
    },
    /// A character other than `0`-`9` (or a pad `F` that is not last).
    #[error("ICCID has a non-digit character {ch:?} at position {position}")]
    NonDigit {
        /// Zero-based character position.
        position: usize,
        /// The offending character.
        ch: char,
    },
    /// The Luhn check failed.
    #[error("ICCID Luhn check digit is {actual}, expected {expected}")]
    BadCheckDigit {
        /// The check digit the payload requires.
        expected: u8,
        /// The last digit received.
        actual: u8,
    },
    /// The card form does not have 10 bytes.
    #[error("ICCID card form must be 10 bytes, got {actual}")]
    WrongByteLength {
        /// Number of bytes received.
        actual: usize,
    },
    /// A nibble of the card form is neither a digit nor the final `F` pad.
    #[error("ICCID card form byte {index} (0x{byte:02X}) holds an invalid nibble")]
    BadNibble {
        /// Zero-based byte index.
        index: usize,
        /// The offending byte.
        byte: u8,
    },
}

/// Luhn check digit for a payload of ASCII digits.
fn luhn_check_digit(payload: &[u8]) -> u8 {
    // Double every second digit starting from the rightmost payload digit.
    let mut sum: u32 = 0;
    for (i, d) in payload.iter().rev().enumerate() {
        let mut v = u32::from(d.wrapping_sub(b'0'));
        if i % 2 == 0 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    u8::try_from((10 - sum % 10) % 10).unwrap_or(0)
}

impl Iccid {
    fn from_digits(digits: &[u8]) -> Result<Iccid, IccidError> {
        let (payload, last) = match digits.split_last() {
            Some((last, payload)) => (payload, *last - b'0'),
            None => return Err(IccidError::WrongLength { actual: 0 }),
        };
        let expected = luhn_check_digit(payload);
        if expected != last {
            return Err(IccidError::BadCheckDigit {
                expected,
                actual: last,
            });
        }
        let mut out = [0u8; ICCID_MAX_DIGITS];
        let slot = out.get_mut(..digits.len()).ok_or(IccidError::WrongLength {
            actual: digits.len(),
        })?;
        slot.copy_from_slice(digits);
        Ok(Iccid {
            digits: out,
            len: u8::try_from(digits.len()).unwrap_or(0),
        })
    }

    /// Appends the Luhn check digit to an 18- or 19-digit payload. Used to mint test ICCIDs.
    pub fn with_luhn(prefix: &str) -> Result<Iccid, IccidError> {
        let actual = prefix.chars().count();
        if !(ICCID_MIN_DIGITS - 1..ICCID_MAX_DIGITS).contains(&actual) {
            return Err(IccidError::WrongLength { actual: actual + 1 });
        }
        let mut digits = Vec::with_capacity(actual + 1);
        for (position, ch) in prefix.chars().enumerate() {
            if !ch.is_ascii_digit() {
                return Err(IccidError::NonDigit { position, ch });
            }
            digits.push(ch as u8);
        }
        digits.push(b'0' + luhn_check_digit(&digits));
        Iccid::from_digits(&digits)
    }

    /// The digits as text (no pad).
    pub fn as_str(&self) -> &str {
        let digits = self.digits.get(..usize::from(self.len)).unwrap_or_default();
        // Invariant: only ASCII digits are stored.
        std::str::from_utf8(digits).unwrap_or_default()
    }

    /// Number of digits (19 or 20).
    pub fn digit_count(&self) -> usize {
        usize::from(self.len)
    }

    /// The card form: 10 bytes, nibble-swapped, `F`-padded (EF.ICCID, SGP.22 `Iccid` OCTET STRING).
    pub fn to_bcd_swapped(&self) -> [u8; ICCID_BCD_BYTES] {
        let mut out = [0xFFu8; ICCID_BCD_BYTES];
        let digits = self.as_str().as_bytes();
        for (byte, pair) in out.iter_mut().zip(digits.chunks(2)) {
            let lo = pair.first().map_or(0x0F, |d| d - b'0');
            let hi = pair.get(1).map_or(0x0F, |d| d - b'0');
            *byte = (hi << 4) | lo;
        }
        out
    }

    /// Parses the 10-byte nibble-swapped card form. Only the very last nibble may be the `F` pad.
    pub fn from_bcd_swapped(bytes: &[u8]) -> Result<Iccid, IccidError> {
        if bytes.len() != ICCID_BCD_BYTES {
            return Err(IccidError::WrongByteLength {
                actual: bytes.len(),
            });
        }
        let mut digits = Vec::with_capacity(ICCID_MAX_DIGITS);
        let last_index = ICCID_BCD_BYTES - 1;
        for (index, &byte) in bytes.iter().enumerate() {
            let (lo, hi) = (byte & 0x0F, byte >> 4);
            if lo > 9 {
                return Err(IccidError::BadNibble { index, byte });
            }
            digits.push(b'0' + lo);
            match hi {
                0..=9 => digits.push(b'0' + hi),
                0x0F if index == last_index => {}
                _ => return Err(IccidError::BadNibble { index, byte }),
            }
        }
        Iccid::from_digits(&digits)
    }
}

impl FromStr for Iccid {
    type Err = IccidError;

    /// Parses 19 or 20 digits, optionally followed by one `F`/`f` pad, and checks the Luhn digit.
    fn from_str(s: &str) -> Result<Iccid, IccidError> {
        let unpadded = s
            .strip_suffix('F')
            .or_else(|| s.strip_suffix('f'))
            .unwrap_or(s);
        let actual = unpadded.chars().count();
        if !(ICCID_MIN_DIGITS..=ICCID_MAX_DIGITS).contains(&actual) {
            return Err(IccidError::WrongLength { actual });
        }
        let mut digits = [0u8; ICCID_MAX_DIGITS];
        for (position, (slot, ch)) in digits.iter_mut().zip(unpadded.chars()).enumerate() {
            if !ch.is_ascii_digit() {
                return Err(IccidError::NonDigit { position, ch });
            }
            *slot = ch as u8;
        }
        Iccid::from_digits(digits.get(..actual).unwrap_or_default())
    }
}

impl PartialOrd for Iccid {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Iccid {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl fmt::Display for Iccid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Iccid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Iccid({})", self.as_str())
    }
}

impl AsRef<str> for Iccid {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

serde_via_str!(
    Iccid,
    "an ICCID of 19 or 20 decimal digits with a Luhn check digit"
);

#[cfg(test)]
mod tests {
    use super::*;

    /// GSMA TS.48 v7.0 Generic eUICC Test Profile (Apache-2.0): ProfileHeader iccid
    /// '89000123456789012341'H and EF.ICCID fillFileContent '98001032547698103214'H.
    const TS48_ICCID: &str = "89000123456789012341";
    const TS48_EF_ICCID: [u8; 10] = [0x98, 0x00, 0x10, 0x32, 0x54, 0x76, 0x98, 0x10, 0x32, 0x14];

    #[test]
    fn ts48_iccid_parses_and_swaps() {
        let iccid: Iccid = TS48_ICCID.parse().unwrap();
        assert_eq!(iccid.digit_count(), 20);
        assert_eq!(iccid.to_bcd_swapped(), TS48_EF_ICCID);
        assert_eq!(Iccid::from_bcd_swapped(&TS48_EF_ICCID), Ok(iccid));
        assert_eq!(Iccid::with_luhn(&TS48_ICCID[..19]), Ok(iccid));
    }

    #[test]
    fn nineteen_digits_and_pad() {
        // 19-digit ICCID from the public ES2+ examples (8944474600000063847): Luhn valid.
        let iccid: Iccid = "8944474600000063847".parse().unwrap();
        assert_eq!(iccid.digit_count(), 19);
        let padded: Iccid = "8944474600000063847F".parse().unwrap();
        assert_eq!(padded, iccid);
        let lower: Iccid = "8944474600000063847f".parse().unwrap();
        assert_eq!(lower, iccid);
        assert_eq!(padded.to_string(), "8944474600000063847");
        let bcd = iccid.to_bcd_swapped();
        assert_eq!(bcd[9], 0xF7);
        assert_eq!(Iccid::from_bcd_swapped(&bcd), Ok(iccid));
    }

    #[test]
    fn error_cases() {
        assert_eq!(
            "894447460000006384".parse::<Iccid>(),
            Err(IccidError::WrongLength { actual: 18 })
        );
        assert_eq!(
            "890001234567890123411".parse::<Iccid>(),
            Err(IccidError::WrongLength { actual: 21 })
        );
        assert_eq!(
            "8900012345678901234X".parse::<Iccid>(),
            Err(IccidError::NonDigit {
                position: 19,
                ch: 'X'
            })
        );
        assert_eq!(
            "89000123456789012342".parse::<Iccid>(),
            Err(IccidError::BadCheckDigit {
                expected: 1,
                actual: 2
            })
        );
        assert_eq!(
            Iccid::from_bcd_swapped(&TS48_EF_ICCID[..9]),
            Err(IccidError::WrongByteLength { actual: 9 })
        );
        let mut pad_in_middle = TS48_EF_ICCID;
        pad_in_middle[4] = 0xF4;
        assert_eq!(
            Iccid::from_bcd_swapped(&pad_in_middle),
            Err(IccidError::BadNibble {
                index: 4,
                byte: 0xF4
            })
        );
        let mut low_pad = TS48_EF_ICCID;
        low_pad[9] = 0x1F;
        assert!(matches!(
            Iccid::from_bcd_swapped(&low_pad),
            Err(IccidError::BadNibble { index: 9, .. })
        ));
        assert!(Iccid::with_luhn("12").is_err());
        assert!(Iccid::with_luhn("89000123456789012a4").is_err());
    }

    #[test]
    fn serde_as_string() {
        let iccid: Iccid = TS48_ICCID.parse().unwrap();
        let json = serde_json::to_string(&iccid).unwrap();
        assert_eq!(json, format!("\"{TS48_ICCID}\""));
        assert_eq!(serde_json::from_str::<Iccid>(&json).unwrap(), iccid);
        assert!(serde_json::from_str::<Iccid>("\"123\"").is_err());
    }
}
