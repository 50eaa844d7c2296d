//! POL1 (the on-card policy rules of a profile) and the profile metadata that carries it (U-13).
//!
//! SGP.02 names the POL1 rules but no available source gives their on-card encoding, nor the format
//! of `ES8.StoreMetadata` or `ES6.UpdatePOL1byMNO` (U-13). rsp defines one, modelled on SGP.22's
//! `StoreMetadataRequest` (whose tags it reuses):
//!
//! ```text
//! BF25 {                         ProfileMetadata, sent by the SM-DP to the ISD-P inside the SCP03
//!                                session, before the SCP03t profile segments (STORE DATA, BER-TLV)
//!   5A  ICCID (10 bytes, card form)               optional; must match the package when present
//!   95  profile class: 00 test, 01 provisioning, 02 operational   optional (default operational)
//!   99  POL1 as BIT STRING: unused-bits byte ‖ bits, bit 0 (0x80) disable not allowed,
//!       bit 1 (0x40) delete not allowed, bit 2 (0x20) delete when disabled      optional (no rules)
//! }
//! ```
//!
//! The same `99` value is what [`crate::m2m::M2mCard::update_pol1`] (the ES6 stand-in) installs.

use rsp_types::Iccid;
use rsp_types::tlv::{self, Tag};
use serde::{Deserialize, Serialize};

/// The POL1 rules of one profile.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Pol1 {
    /// "Disable not allowed": the ISD-R refuses to disable the profile (also when enabling another).
    pub disable_not_allowed: bool,
    /// "Delete not allowed": the ISD-R refuses ES5 DELETE of the profile.
    pub delete_not_allowed: bool,
    /// "Delete when disabled": the ISD-R deletes the profile once its disabling is confirmed.
    pub delete_when_disabled: bool,
}

impl Pol1 {
    /// No rule.
    pub const NONE: Pol1 = Pol1 {
        disable_not_allowed: false,
        delete_not_allowed: false,
        delete_when_disabled: false,
    };

    /// The rule bits as one byte (`80` disable not allowed, `40` delete not allowed, `20` delete
    /// when disabled).
    pub fn bits(self) -> u8 {
        (u8::from(self.disable_not_allowed) << 7)
            | (u8::from(self.delete_not_allowed) << 6)
            | (u8::from(self.delete_when_disabled) << 5)
    }

    /// From the rule bits; unknown bits are ignored (lenient input).
    pub fn from_bits(bits: u8) -> Pol1 {
        Pol1 {
            disable_not_allowed: bits & 0x80 != 0,
            delete_not_allowed: bits & 0x40 != 0,
            delete_when_disabled: bits & 0x20 != 0,
        }
    }

    /// The BIT STRING content (`unused bits ‖ bits`), always 2 bytes with 5 unused bits.
    pub fn to_bit_string(self) -> [u8; 2] {
        [5, self.bits()]
    }

    /// From BIT STRING content; an empty bit string means no rule.
    pub fn from_bit_string(content: &[u8]) -> Result<Pol1, MetadataError> {
        match content {
            [unused] if *unused == 0 => Ok(Pol1::NONE),
            [unused, first, ..] if *unused <= 7 => Ok(Pol1::from_bits(*first)),
            _ => Err(MetadataError::Malformed("POL1 bit string")),
        }
    }

    /// Whether any rule is set.
    pub fn is_empty(self) -> bool {
        self.bits() == 0
    }
}

/// Why profile metadata was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetadataError {
    /// Not well-formed TLV.
    #[error("profile metadata: {0}")]
    Tlv(#[from] tlv::TlvError),
    /// A field has a wrong value.
    #[error("profile metadata: malformed {0}")]
    Malformed(&'static str),
}

/// Profile class (SGP.22 values, reused for the SGP.02 test-profile flag).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProfileClass {
    /// A test profile (SGP.02 §3.22: enabled only locally, over ESx).
    Test,
    /// A provisioning (bootstrap) profile.
    Provisioning,
    /// An operational profile.
    #[default]
    Operational,
}

impl ProfileClass {
    /// The encoded value.
    pub fn code(self) -> u8 {
        match self {
            Self::Test => 0,
            Self::Provisioning => 1,
            Self::Operational => 2,
        }
    }

    /// From the encoded value.
    pub fn from_code(code: u8) -> Result<Self, MetadataError> {
        match code {
            0 => Ok(Self::Test),
            1 => Ok(Self::Provisioning),
            2 => Ok(Self::Operational),
            _ => Err(MetadataError::Malformed("profile class")),
        }
    }
}

/// The metadata of a profile (`BF25`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileMetadata {
    /// ICCID the metadata is for, if stated.
    pub iccid: Option<Iccid>,
    /// Profile class.
    pub class: ProfileClass,
    /// POL1.
    pub pol1: Pol1,
}

/// Tag of the metadata TLV.
pub const TAG_METADATA: u32 = 0xBF25;

fn tag(v: u32) -> Result<Tag, tlv::TlvError> {
    Tag::from_u32(v)
}

impl ProfileMetadata {
    /// Encodes `BF25 { [5A], [95], 99 }`.
    pub fn encode(&self) -> Result<Vec<u8>, MetadataError> {
        let mut out = Vec::new();
        tlv::encode_constructed(tag(TAG_METADATA)?, &mut out, |inner| {
            if let Some(iccid) = &self.iccid {
                tlv::encode_tlv(tag(0x5A)?, &iccid.to_bcd_swapped(), inner)?;
            }
            tlv::encode_tlv(tag(0x95)?, &[self.class.code()], inner)?;
            tlv::encode_tlv(tag(0x99)?, &self.pol1.to_bit_string(), inner)?;
            Ok::<(), MetadataError>(())
        })?;
        Ok(out)
    }

    /// Decodes one `BF25` TLV (exactly, no trailing bytes). Unknown inner tags are ignored.
    pub fn decode(bytes: &[u8]) -> Result<Self, MetadataError> {
        let outer = tlv::parse_single(bytes)?.expect_tag(tag(TAG_METADATA)?)?;
        let mut meta = ProfileMetadata::default();
        for child in outer.children() {
            let child = child?;
            match child.tag.value() {
                0x5A => {
                    meta.iccid = Some(
                        Iccid::from_bcd_swapped(child.value)
                            .map_err(|_| MetadataError::Malformed("ICCID"))?,
                    );
                }
                0x95 => match child.value {
                    [code] => meta.class = ProfileClass::from_code(*code)?,
                    _ => return Err(MetadataError::Malformed("profile class")),
                },
                0x99 => meta.pol1 = Pol1::from_bit_string(child.value)?,
                _ => {}
            }
        }
        Ok(meta)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pol1_bits_round_trip() {
        for bits in 0u8..8 {
            let p = Pol1::from_bits(bits << 5);
            assert_eq!(p.bits(), bits << 5);
            assert_eq!(Pol1::from_bit_string(&p.to_bit_string()).unwrap(), p);
        }
        assert_eq!(Pol1::from_bit_string(&[0]).unwrap(), Pol1::NONE);
        assert!(Pol1::from_bit_string(&[]).is_err());
        assert!(Pol1::from_bit_string(&[9, 0]).is_err());
    }

    #[test]
    fn metadata_round_trip() {
        let m = ProfileMetadata {
            iccid: Some("89000123456789012341".parse().unwrap()),
            class: ProfileClass::Test,
            pol1: Pol1 {
                disable_not_allowed: true,
                delete_not_allowed: false,
                delete_when_disabled: true,
            },
        };
        let bytes = m.encode().unwrap();
        assert_eq!(&bytes[..3], &[0xBF, 0x25, 0x13]);
        assert_eq!(ProfileMetadata::decode(&bytes).unwrap(), m);
        assert!(ProfileMetadata::decode(&bytes[..bytes.len() - 1]).is_err());
        assert!(ProfileMetadata::decode(&[0xBF, 0x25, 0x03, 0x95, 0x01, 0x07]).is_err());
    }
}
