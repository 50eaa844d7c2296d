//! `Oid`: an ASN.1 OBJECT IDENTIFIER in dotted text (SGP.02 `ObjectIdentifierType`, entity ids) with
//! its DER content encoding (X.690 §8.19).

use std::fmt;
use std::str::FromStr;

use crate::serde_str::serde_via_str;
use crate::tlv::{self, Tag, TlvError};

/// Universal tag of OBJECT IDENTIFIER.
pub const OID_TAG: Tag = match Tag::from_u32(0x06) {
    Ok(t) => t,
    Err(_) => panic!("invalid tag constant"),
};

/// An object identifier with at least two arcs, each fitting in a `u64`.
///
/// Invariants (X.660): the first arc is 0, 1 or 2; when it is 0 or 1 the second arc is at most 39.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Oid {
    arcs: Vec<u64>,
}

/// Why an OID was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OidError {
    /// Empty text or empty DER content.
    #[error("OID is empty")]
    Empty,
    /// Two dots in a row, or a leading or trailing dot.
    #[error("OID arc {index} is empty")]
    EmptyArc {
        /// Zero-based arc index.
        index: usize,
    },
    /// A character other than a digit or a dot.
    #[error("OID has a non-digit character {ch:?} at position {position}")]
    NonDigit {
        /// Zero-based character position.
        position: usize,
        /// The offending character.
        ch: char,
    },
    /// An arc written with a leading zero (`1.02`).
    #[error("OID arc {index} has a leading zero")]
    LeadingZero {
        /// Zero-based arc index.
        index: usize,
    },
    /// An arc does not fit in 64 bits.
    #[error("OID arc {index} is larger than this implementation supports (64 bits)")]
    ArcTooLarge {
        /// Zero-based arc (text) or sub-identifier (DER) index.
        index: usize,
    },
    /// Fewer than two arcs.
    #[error("OID needs at least two arcs")]
    TooFewArcs,
    /// First arc not 0, 1 or 2.
    #[error("OID first arc must be 0, 1 or 2, got {arc}")]
    FirstArcOutOfRange {
        /// The first arc.
        arc: u64,
    },
    /// Second arc above 39 under a first arc of 0 or 1.
    #[error("OID second arc must be at most 39 under arc 0 or 1, got {arc}")]
    SecondArcOutOfRange {
        /// The second arc.
        arc: u64,
    },
    /// DER content ends inside a sub-identifier.
    #[error("OID DER content ends inside a sub-identifier")]
    DerTruncated,
    /// A sub-identifier starts with the padding byte 0x80.
    #[error("OID DER sub-identifier at offset {offset} is not minimally encoded")]
    DerNonMinimal {
        /// Byte offset in the content.
        offset: usize,
    },
    /// A full DER TLV did not have tag 06.
    #[error("expected OBJECT IDENTIFIER tag 06, found {found}")]
    WrongTag {
        /// The tag found.
        found: Tag,
    },
    /// A full DER TLV was malformed.
    #[error("OID DER TLV: {0}")]
    Tlv(#[from] TlvError),
}

fn encode_base128(mut v: u64, out: &mut Vec<u8>) {
    let mut groups = [0u8; 10];
    let mut n = 0;
    loop {
        if let Some(g) = groups.get_mut(n) {
            *g = (v & 0x7F) as u8;
        }
        n += 1;
        v >>= 7;
        if v == 0 {
            break;
        }
    }
    for i in (0..n).rev() {
        let g = groups.get(i).copied().unwrap_or(0);
        out.push(if i == 0 { g } else { g | 0x80 });
    }
}

impl Oid {
    /// Builds an OID from its arcs, checking the X.660 rules.
    pub fn new(arcs: &[u64]) -> Result<Oid, OidError> {
        Oid::validate(arcs)?;
        Ok(Oid {
            arcs: arcs.to_vec(),
        })
    }

    fn validate(arcs: &[u64]) -> Result<(), OidError> {
        let (first, second) = match arcs {
            [] => return Err(OidError::Empty),
            [_] => return Err(OidError::TooFewArcs),
            [first, second, ..] => (*first, *second),
        };
        match first {
            0 | 1 if second > 39 => Err(OidError::SecondArcOutOfRange { arc: second }),
            0 | 1 => Ok(()),
            // 2.x encodes as 80 + x in the first sub-identifier.
            2 if second > u64::MAX - 80 => Err(OidError::ArcTooLarge { index: 1 }),
            2 => Ok(()),
            arc => Err(OidError::FirstArcOutOfRange { arc }),
        }
    }

    /// The arcs.
    pub fn arcs(&self) -> &[u64] {
        &self.arcs
    }

    /// Whether `self` equals `prefix` or lies below it.
    pub fn starts_with(&self, prefix: &Oid) -> bool {
        self.arcs.starts_with(&prefix.arcs)
    }

    /// Appends the DER content octets (no tag, no length) to `out`.
    pub fn encode_der_content(&self, out: &mut Vec<u8>) {
        let (first, rest) = match self.arcs.as_slice() {
            [a, b, rest @ ..] => (a * 40 + b, rest),
            // Unreachable by invariant; write nothing rather than panic.
            _ => return,
        };
        encode_base128(first, out);
        for arc in rest {
            encode_base128(*arc, out);
        }
    }

    /// The DER content octets (no tag, no length).
    pub fn to_der_content(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.arcs.len() * 2);
        self.encode_der_content(&mut out);
        out
    }

    /// Parses DER content octets (no tag, no length); rejects non-minimal sub-identifiers.
    pub fn from_der_content(content: &[u8]) -> Result<Oid, OidError> {
        if content.is_empty() {
            return Err(OidError::Empty);
        }
        let mut subids: Vec<u64> = Vec::new();
        let mut value: u64 = 0;
        let mut in_progress = false;
        for (offset, &b) in content.iter().enumerate() {
            if !in_progress && b == 0x80 {
                return Err(OidError::DerNonMinimal { offset });
            }
            if value > (u64::MAX >> 7) {
                return Err(OidError::ArcTooLarge {
                    index: subids.len(),
                });
            }
            value = (value << 7) | u64::from(b & 0x7F);
            if b & 0x80 == 0 {
                subids.push(value);
                value = 0;
                in_progress = false;
            } else {
                in_progress = true;
            }
        }
        if in_progress {
            return Err(OidError::DerTruncated);
        }
        let mut arcs = Vec::with_capacity(subids.len() + 1);
        let mut it = subids.into_iter();
        match it.next() {
            Some(f @ 0..=39) => arcs.extend([0, f]),
            Some(f @ 40..=79) => arcs.extend([1, f - 40]),
            Some(f) => arcs.extend([2, f - 80]),
            None => return Err(OidError::Empty),
        }
        arcs.extend(it);
        Ok(Oid { arcs })
    }

    /// The full DER TLV (`06 <len> <content>`).
    pub fn to_der(&self) -> Result<Vec<u8>, OidError> {
        Ok(tlv::encode_tlv_to_vec(OID_TAG, &self.to_der_content())?)
    }

    /// Parses a full DER TLV (`06 <len> <content>`), with nothing after it.
    pub fn from_der(der: &[u8]) -> Result<Oid, OidError> {
        let t = tlv::parse_single(der)?;
        if t.tag != OID_TAG {
            return Err(OidError::WrongTag { found: t.tag });
        }
        Oid::from_der_content(t.value)
    }
}

impl FromStr for Oid {
    type Err = OidError;

    /// Parses dotted decimal text (`1.3.6.1.4.1.53`); no leading zeros, at least two arcs.
    fn from_str(s: &str) -> Result<Oid, OidError> {
        if s.is_empty() {
            return Err(OidError::Empty);
        }
        let mut arcs = Vec::new();
        let mut position = 0usize;
        for (index, part) in s.split('.').enumerate() {
            if part.is_empty() {
                return Err(OidError::EmptyArc { index });
            }
            for (i, ch) in part.chars().enumerate() {
                if !ch.is_ascii_digit() {
                    return Err(OidError::NonDigit {
                        position: position + i,
                        ch,
                    });
                }
            }
            if part.len() > 1 && part.starts_with('0') {
                return Err(OidError::LeadingZero { index });
            }
            let arc: u64 = part.parse().map_err(|_| OidError::ArcTooLarge { index })?;
            arcs.push(arc);
            position += part.chars().count() + 1;
        }
        Oid::validate(&arcs)?;
        Ok(Oid { arcs })
    }
}

impl fmt::Display for Oid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, arc) in self.arcs.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            write!(f, "{arc}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Oid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Oid({self})")
    }
}

serde_via_str!(Oid, "an object identifier in dotted decimal text");

#[cfg(test)]
mod tests {
    use super::*;

    fn oid(s: &str) -> Oid {
        s.parse().unwrap()
    }

    #[test]
    fn der_known_answers() {
        // X.690 (08/2015) §8.19.5 example: {2 100 3} encodes as 81 34 03.
        assert_eq!(oid("2.100.3").to_der_content(), vec![0x81, 0x34, 0x03]);
        // RFC 8017 / PKCS #1 arc 1.2.840.113549: 2A 86 48 86 F7 0D.
        assert_eq!(
            oid("1.2.840.113549").to_der(),
            Ok(vec![0x06, 0x06, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D])
        );
        // RFC 5480 id-ecPublicKey 1.2.840.10045.2.1: 06 07 2A 86 48 CE 3D 02 01.
        assert_eq!(
            Oid::from_der(&[0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01]),
            Ok(oid("1.2.840.10045.2.1"))
        );
        // GSMA RSP certificate policy arc 2.23.146.1.2.1.2 (SGP.22 EUM policy): 67 81 12 01 02 01 02.
        assert_eq!(
            oid("2.23.146.1.2.1.2").to_der_content(),
            vec![0x67, 0x81, 0x12, 0x01, 0x02, 0x01, 0x02]
        );
        assert_eq!(
            Oid::from_der_content(&[0x67, 0x81, 0x12, 0x01, 0x02, 0x01, 0x02]),
            Ok(oid("2.23.146.1.2.1.2"))
        );
        // Smallest and first-arc boundaries.
        assert_eq!(oid("0.0").to_der_content(), vec![0x00]);
        assert_eq!(oid("1.39").to_der_content(), vec![0x4F]);
        assert_eq!(oid("2.47").to_der_content(), vec![0x7F]);
        assert_eq!(oid("2.48").to_der_content(), vec![0x81, 0x00]);
        let max = Oid::new(&[1, 2, u64::MAX]).unwrap();
        assert_eq!(Oid::from_der_content(&max.to_der_content()), Ok(max));
    }

    #[test]
    fn text_errors() {
        assert_eq!("".parse::<Oid>(), Err(OidError::Empty));
        assert_eq!("1".parse::<Oid>(), Err(OidError::TooFewArcs));
        assert_eq!("1..2".parse::<Oid>(), Err(OidError::EmptyArc { index: 1 }));
        assert_eq!("1.2.".parse::<Oid>(), Err(OidError::EmptyArc { index: 2 }));
        assert_eq!(
            "1.2a".parse::<Oid>(),
            Err(OidError::NonDigit {
                position: 3,
                ch: 'a'
            })
        );
        assert_eq!(
            "1.02".parse::<Oid>(),
            Err(OidError::LeadingZero { index: 1 })
        );
        assert_eq!(
            "3.1".parse::<Oid>(),
            Err(OidError::FirstArcOutOfRange { arc: 3 })
        );
        assert_eq!(
            "1.40".parse::<Oid>(),
            Err(OidError::SecondArcOutOfRange { arc: 40 })
        );
        assert_eq!(
            "1.2.18446744073709551616".parse::<Oid>(),
            Err(OidError::ArcTooLarge { index: 2 })
        );
        assert_eq!(
            "2.18446744073709551615".parse::<Oid>(),
            Err(OidError::ArcTooLarge { index: 1 })
        );
    }

    #[test]
    fn der_errors() {
        assert_eq!(Oid::from_der_content(&[]), Err(OidError::Empty));
        assert_eq!(
            Oid::from_der_content(&[0x2A, 0x86]),
            Err(OidError::DerTruncated)
        );
        assert_eq!(
            Oid::from_der_content(&[0x2A, 0x80, 0x01]),
            Err(OidError::DerNonMinimal { offset: 1 })
        );
        assert!(matches!(
            Oid::from_der_content(&[
                0x2A, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F
            ]),
            Err(OidError::ArcTooLarge { index: 1 })
        ));
        assert!(matches!(
            Oid::from_der(&[0x04, 0x01, 0x2A]),
            Err(OidError::WrongTag { .. })
        ));
        assert!(matches!(
            Oid::from_der(&[0x06, 0x02, 0x2A]),
            Err(OidError::Tlv(_))
        ));
    }

    #[test]
    fn display_serde_and_prefix() {
        let o = oid("1.3.6.1.4.1.53.1");
        assert_eq!(o.to_string(), "1.3.6.1.4.1.53.1");
        assert!(o.starts_with(&oid("1.3.6.1.4.1")));
        assert!(!oid("1.3.6").starts_with(&o));
        let json = serde_json::to_string(&o).unwrap();
        assert_eq!(json, "\"1.3.6.1.4.1.53.1\"");
        assert_eq!(serde_json::from_str::<Oid>(&json).unwrap(), o);
    }
}
