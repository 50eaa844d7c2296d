//! `Eid`: the eUICC identifier (SGP.29), 32 decimal digits with ISO/IEC 7064 MOD 97-10 check digits.
//!
//! Decision C-01: the two final digits are MOD 97-10 check digits (SGP.29); the whole 32-digit number
//! taken modulo 97 must equal 1. The SGP.26 test EID `89049032123451234512345678901235` satisfies this
//! (and fails a Luhn check). [`Eid::from_str`](std::str::FromStr) enforces the check digits;
//! [`Eid::parse_relaxed`] accepts any 32 digits for interfaces where the project only warns (C-01).

use std::fmt;
use std::str::FromStr;

use crate::serde_str::serde_via_str;

/// Number of decimal digits in an EID.
pub const EID_DIGITS: usize = 32;
/// Number of bytes of the BCD form (GET DATA tag `5A`).
pub const EID_BYTES: usize = 16;

/// An EID: 32 ASCII decimal digits.
///
/// Values built with [`FromStr`], [`Eid::from_bytes`] or [`Eid::with_check_digits`] always carry valid
/// check digits; only [`Eid::parse_relaxed`] (and [`Eid::deserialize_relaxed`]) can create one that does
/// not, which [`Eid::has_valid_check_digits`] reports.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Eid([u8; EID_DIGITS]);

/// Why an EID was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EidError {
    /// The text does not have the required number of characters.
    #[error("EID must be {expected} decimal digits, got {actual} characters")]
    WrongLength {
        /// Required number of digits.
        expected: usize,
        /// Number of characters received.
        actual: usize,
    },
    /// A character other than `0`-`9`.
    #[error("EID has a non-digit character {ch:?} at position {position}")]
    NonDigit {
        /// Zero-based character position.
        position: usize,
        /// The offending character.
        ch: char,
    },
    /// The ISO/IEC 7064 MOD 97-10 check failed.
    #[error(
        "EID check digits are wrong: the number mod 97 is {remainder}, ISO/IEC 7064 MOD 97-10 (SGP.29) requires 1"
    )]
    BadCheckDigits {
        /// The 32-digit number modulo 97.
        remainder: u8,
    },
    /// The byte form does not have 16 bytes.
    #[error("EID byte form must be {expected} bytes, got {actual}")]
    WrongByteLength {
        /// Required number of bytes.
        expected: usize,
        /// Number of bytes received.
        actual: usize,
    },
    /// A nibble of the byte form is not a decimal digit.
    #[error("EID byte {index} (0x{byte:02X}) holds a nibble that is not a decimal digit")]
    NonDecimalNibble {
        /// Zero-based byte index.
        index: usize,
        /// The offending byte.
        byte: u8,
    },
}

/// `value mod 97` of a string of ASCII digits (Horner's rule, no overflow).
fn mod97(digits: &[u8]) -> u8 {
    let mut r: u32 = 0;
    for d in digits {
        r = (r * 10 + u32::from(d.wrapping_sub(b'0'))) % 97;
    }
    // r < 97 always fits.
    u8::try_from(r).unwrap_or(0)
}

/// Checks that `s` is exactly `n` ASCII digits; returns them as bytes.
fn digits_exact<const N: usize>(s: &str) -> Result<[u8; N], EidError> {
    let actual = s.chars().count();
    if actual != N {
        // Report a non-digit first only when the length is right; a wrong length is the clearer error.
        return Err(EidError::WrongLength {
            expected: N,
            actual,
        });
    }
    let mut out = [0u8; N];
    for (position, (slot, ch)) in out.iter_mut().zip(s.chars()).enumerate() {
        if !ch.is_ascii_digit() {
            return Err(EidError::NonDigit { position, ch });
        }
        *slot = ch as u8;
    }
    Ok(out)
}

impl Eid {
    /// Parses 32 decimal digits without checking the check digits (C-01: interfaces other than ES1
    /// RegisterEIS log a warning on a bad check value and proceed).
    pub fn parse_relaxed(s: &str) -> Result<Eid, EidError> {
        digits_exact::<EID_DIGITS>(s).map(Eid)
    }

    /// Builds an EID from its first 30 digits by computing the two MOD 97-10 check digits
    /// (check = 98 - (prefix × 100 mod 97)). Used to mint test EIDs.
    pub fn with_check_digits(prefix30: &str) -> Result<Eid, EidError> {
        let prefix = digits_exact::<30>(prefix30)?;
        let mut digits = [b'0'; EID_DIGITS];
        digits[..30].copy_from_slice(&prefix);
        // digits[30..32] are "00" here, so mod97 gives prefix × 100 mod 97.
        let check = 98 - mod97(&digits);
        digits[30] = b'0' + check / 10;
        digits[31] = b'0' + check % 10;
        Ok(Eid(digits))
    }

    /// The 32 digits as text.
    pub fn as_str(&self) -> &str {
        // Invariant: only ASCII digits are ever stored.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// Whether the ISO/IEC 7064 MOD 97-10 check holds (always true unless built by a relaxed parser).
    pub fn has_valid_check_digits(&self) -> bool {
        mod97(&self.0) == 1
    }

    /// The two trailing check digits as text.
    pub fn check_digits(&self) -> &str {
        self.as_str().get(30..).unwrap_or_default()
    }

    /// The 16-byte BCD form, two digits per byte, first digit in the high nibble (as returned for
    /// GET DATA tag `5A`; not nibble-swapped).
    pub fn to_bytes(&self) -> [u8; EID_BYTES] {
        let mut out = [0u8; EID_BYTES];
        for (byte, pair) in out.iter_mut().zip(self.0.chunks_exact(2)) {
            if let [hi, lo] = pair {
                *byte = ((hi - b'0') << 4) | (lo - b'0');
            }
        }
        out
    }

    /// Parses the 16-byte BCD form and checks the check digits.
    pub fn from_bytes(bytes: &[u8]) -> Result<Eid, EidError> {
        if bytes.len() != EID_BYTES {
            return Err(EidError::WrongByteLength {
                expected: EID_BYTES,
                actual: bytes.len(),
            });
        }
        let mut digits = [0u8; EID_DIGITS];
        for (index, (&byte, pair)) in bytes.iter().zip(digits.chunks_exact_mut(2)).enumerate() {
            let (hi, lo) = (byte >> 4, byte & 0x0F);
            if hi > 9 || lo > 9 {
                return Err(EidError::NonDecimalNibble { index, byte });
            }
            if let [a, b] = pair {
                *a = b'0' + hi;
                *b = b'0' + lo;
            }
        }
        Eid(digits).checked()
    }

    fn checked(self) -> Result<Eid, EidError> {
        let remainder = mod97(&self.0);
        if remainder == 1 {
            Ok(self)
        } else {
            Err(EidError::BadCheckDigits { remainder })
        }
    }

    /// Serde helper for `#[serde(deserialize_with = "rsp_types::Eid::deserialize_relaxed")]`: accepts any
    /// 32 digits (C-01), where plain `Deserialize` also enforces the check digits.
    pub fn deserialize_relaxed<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Eid, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Eid;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an EID of 32 decimal digits")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Eid, E> {
                Eid::parse_relaxed(v).map_err(E::custom)
            }
        }
        d.deserialize_str(V)
    }
}

impl FromStr for Eid {
    type Err = EidError;

    /// Parses 32 decimal digits and checks the MOD 97-10 check digits.
    fn from_str(s: &str) -> Result<Eid, EidError> {
        Eid::parse_relaxed(s)?.checked()
    }
}

impl fmt::Display for Eid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Eid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Eid({})", self.as_str())
    }
}

impl AsRef<str> for Eid {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

serde_via_str!(
    Eid,
    "an EID of 32 decimal digits with valid MOD 97-10 check digits"
);

#[cfg(test)]
mod tests {
    use super::*;

    /// SGP.26 test eUICC EID (GSMA SGP.26 test certificates, `CERT_EUICC_ECDSA_*`).
    const SGP26_EID: &str = "89049032123451234512345678901235";

    #[test]
    fn sgp26_test_eid_is_valid() {
        let eid: Eid = SGP26_EID.parse().unwrap();
        assert_eq!(eid.as_str(), SGP26_EID);
        assert_eq!(eid.check_digits(), "35");
        assert!(eid.has_valid_check_digits());
    }

    #[test]
    fn example_eids_are_valid() {
        // Example EID used throughout SGP.02 / GlobalPlatform RAM-over-HTTP examples
        // (e.g. `X-Admin-From: //se-id/eid/89001012012341234012345678901224`).
        for s in [
            "89001012012341234012345678901224",
            "89001567010203040506070809101152",
            "89044011112233441122334411223321",
        ] {
            assert!(s.parse::<Eid>().is_ok(), "{s}");
        }
    }

    #[test]
    fn mod97_matches_iban_example() {
        // ISO 13616 (IBAN) uses the same ISO/IEC 7064 MOD 97-10: the textbook example
        // GB82 WEST 1234 5698 7654 32 rearranged and letters mapped (W=32 E=14 S=28 T=29 G=16 B=11)
        // is 3214282912345698765432161182, whose value mod 97 is 1.
        assert_eq!(mod97(b"3214282912345698765432161182"), 1);
    }

    #[test]
    fn with_check_digits_reproduces_known_eids() {
        for s in [SGP26_EID, "89001012012341234012345678901224"] {
            let minted = Eid::with_check_digits(&s[..30]).unwrap();
            assert_eq!(minted.as_str(), s);
        }
    }

    #[test]
    fn error_cases() {
        assert_eq!(
            "8904903212345123451234567890123".parse::<Eid>(),
            Err(EidError::WrongLength {
                expected: 32,
                actual: 31
            })
        );
        assert_eq!(
            "890490321234512345123456789012351".parse::<Eid>(),
            Err(EidError::WrongLength {
                expected: 32,
                actual: 33
            })
        );
        assert_eq!(
            "8904903212345123451234567890123A".parse::<Eid>(),
            Err(EidError::NonDigit {
                position: 31,
                ch: 'A'
            })
        );
        // Luhn-style single digit change breaks MOD 97-10.
        assert!(matches!(
            "89049032123451234512345678901236".parse::<Eid>(),
            Err(EidError::BadCheckDigits { remainder: 2 })
        ));
        // Relaxed parser accepts it, and reports the bad check.
        let relaxed = Eid::parse_relaxed("89049032123451234512345678901236").unwrap();
        assert!(!relaxed.has_valid_check_digits());
        assert!(Eid::with_check_digits("12345").is_err());
    }

    #[test]
    fn bytes_round_trip_and_errors() {
        let eid: Eid = SGP26_EID.parse().unwrap();
        let bytes = eid.to_bytes();
        assert_eq!(
            bytes,
            [
                0x89, 0x04, 0x90, 0x32, 0x12, 0x34, 0x51, 0x23, 0x45, 0x12, 0x34, 0x56, 0x78, 0x90,
                0x12, 0x35
            ]
        );
        assert_eq!(Eid::from_bytes(&bytes), Ok(eid));
        assert_eq!(
            Eid::from_bytes(&bytes[..15]),
            Err(EidError::WrongByteLength {
                expected: 16,
                actual: 15
            })
        );
        let mut bad = bytes;
        bad[3] = 0x3A;
        assert_eq!(
            Eid::from_bytes(&bad),
            Err(EidError::NonDecimalNibble {
                index: 3,
                byte: 0x3A
            })
        );
        let mut bad_check = bytes;
        bad_check[15] = 0x36;
        assert!(matches!(
            Eid::from_bytes(&bad_check),
            Err(EidError::BadCheckDigits { .. })
        ));
    }

    #[test]
    fn serde_as_string() {
        let eid: Eid = SGP26_EID.parse().unwrap();
        let json = serde_json::to_string(&eid).unwrap();
        assert_eq!(json, format!("\"{SGP26_EID}\""));
        assert_eq!(serde_json::from_str::<Eid>(&json).unwrap(), eid);
        assert!(serde_json::from_str::<Eid>("\"89049032123451234512345678901236\"").is_err());

        #[derive(serde::Deserialize)]
        struct Relaxed {
            #[serde(deserialize_with = "Eid::deserialize_relaxed")]
            eid: Eid,
        }
        let r: Relaxed =
            serde_json::from_str(r#"{"eid":"89049032123451234512345678901236"}"#).unwrap();
        assert!(!r.eid.has_valid_check_digits());
    }
}
