//! DER value codecs on top of [`rsp_types::tlv`]: the [`DerValue`] trait, context tags, and the
//! primitive types SGP.22 messages use (OCTET STRING, UTF8String, BOOLEAN, VersionType,
//! SEQUENCE OF OBJECT IDENTIFIER).

use rsp_types::tlv::{self, Tag, TlvError};
use rsp_types::{Oid, Svn};

use crate::version::Profile;

/// Why DER input was refused. Names the ASN.1 type being decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The TLV framing is malformed.
    #[error("{in_type}: {source}")]
    Tlv {
        /// ASN.1 type being decoded.
        in_type: &'static str,
        /// The framing error.
        source: TlvError,
    },
    /// The outer tag is not the expected one.
    #[error("{in_type}: expected tag {expected}, got {got}")]
    UnexpectedTag {
        /// ASN.1 type being decoded.
        in_type: &'static str,
        /// Required tag.
        expected: Tag,
        /// Tag found.
        got: Tag,
    },
    /// A field occurs twice.
    #[error("{in_type}: field {field} (tag {tag}) occurs twice")]
    Duplicate {
        /// ASN.1 type being decoded.
        in_type: &'static str,
        /// Field name.
        field: &'static str,
        /// Its tag.
        tag: Tag,
    },
    /// A non-OPTIONAL field is absent.
    #[error("{in_type}: required field {field} is missing")]
    Missing {
        /// ASN.1 type being decoded.
        in_type: &'static str,
        /// Field name.
        field: &'static str,
    },
    /// A value that its type refuses.
    #[error("{in_type}: {reason}")]
    BadValue {
        /// ASN.1 type being decoded.
        in_type: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
}

/// Why a value could not be encoded for a peer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// A `#MandatoryFromV…#` field is absent although the peer's version requires it.
    #[error("{in_type}.{field} is mandatory for a peer at v{svn} but is absent")]
    MissingMandatory {
        /// ASN.1 type being encoded.
        in_type: &'static str,
        /// Field name.
        field: &'static str,
        /// The peer's version.
        svn: Svn,
    },
    /// The TLV layer refused (value too long).
    #[error("TLV encoding failed: {0}")]
    Tlv(#[from] TlvError),
}

/// A gate check failed on a decoded message (second phase of two-phase gating).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GateViolation {
    /// The peer sent a field its declared version or features do not allow.
    #[error("{in_type}.{field} is not allowed for a peer at v{svn}")]
    FieldNotAllowed {
        /// ASN.1 type.
        in_type: &'static str,
        /// Field name.
        field: &'static str,
        /// The peer's version.
        svn: Svn,
    },
    /// The peer omitted a field that is mandatory from its declared version.
    #[error("{in_type}.{field} is mandatory for a peer at v{svn} but is absent")]
    MissingMandatory {
        /// ASN.1 type.
        in_type: &'static str,
        /// Field name.
        field: &'static str,
        /// The peer's version.
        svn: Svn,
    },
}

/// A type that has a DER content encoding (the bytes after tag and length).
pub trait DerValue: Sized {
    /// ASN.1 type name for error messages.
    const TYPE_NAME: &'static str;
    /// Whether the encoding is constructed (sets bit 6 of an IMPLICIT context tag).
    const CONSTRUCTED: bool;
    /// Decodes the content bytes.
    fn decode_value(content: &[u8]) -> Result<Self, DecodeError>;
    /// Encodes the content bytes for `peer` (nested gated fields are filtered too).
    fn encode_value(&self, peer: &Profile, out: &mut Vec<u8>) -> Result<(), EncodeError>;
    /// Checks nested gates of a decoded value; leaf types have none.
    fn check_gates(&self, _peer: &Profile) -> Result<(), GateViolation> {
        Ok(())
    }
}

/// The IMPLICIT context-specific tag `[number]` (`80`/`A0` + number, `9F`/`BF` + base-128 above 30).
/// Numbers above 16383 are refused.
pub const fn context_tag(number: u32, constructed: bool) -> Result<Tag, TlvError> {
    let first: u32 = if constructed { 0xA0 } else { 0x80 };
    if number < 31 {
        Tag::from_u32(first | number)
    } else if number < 0x80 {
        Tag::from_u32(((first | 0x1F) << 8) | number)
    } else if number < 0x4000 {
        Tag::from_u32(((first | 0x1F) << 16) | ((0x80 | (number >> 7)) << 8) | (number & 0x7F))
    } else {
        Err(TlvError::InvalidTag { value: number })
    }
}

/// Universal SEQUENCE tag `30`.
pub const SEQUENCE_TAG: Tag = match Tag::from_u32(0x30) {
    Ok(t) => t,
    Err(_) => panic!("bad SEQUENCE tag"),
};

/// The IMPLICIT tag `[number]` of a field of type `T` (constructed if `T` is).
pub fn field_tag<T: DerValue>(number: u32, in_type: &'static str) -> Result<Tag, DecodeError> {
    context_tag(number, T::CONSTRUCTED).map_err(tlv_err(in_type))
}

/// Wraps a TLV error with the type name.
pub(crate) fn tlv_err(in_type: &'static str) -> impl Fn(TlvError) -> DecodeError {
    move |source| DecodeError::Tlv { in_type, source }
}

/// OCTET STRING.
impl DerValue for Vec<u8> {
    const TYPE_NAME: &'static str = "OCTET STRING";
    const CONSTRUCTED: bool = false;
    fn decode_value(content: &[u8]) -> Result<Self, DecodeError> {
        Ok(content.to_vec())
    }
    fn encode_value(&self, _peer: &Profile, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.extend_from_slice(self);
        Ok(())
    }
}

/// UTF8String.
impl DerValue for String {
    const TYPE_NAME: &'static str = "UTF8String";
    const CONSTRUCTED: bool = false;
    fn decode_value(content: &[u8]) -> Result<Self, DecodeError> {
        String::from_utf8(content.to_vec()).map_err(|_| DecodeError::BadValue {
            in_type: Self::TYPE_NAME,
            reason: "not valid UTF-8",
        })
    }
    fn encode_value(&self, _peer: &Profile, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.extend_from_slice(self.as_bytes());
        Ok(())
    }
}

/// BOOLEAN: DER writes `FF` for TRUE; any non-zero byte is read as TRUE (BER).
impl DerValue for bool {
    const TYPE_NAME: &'static str = "BOOLEAN";
    const CONSTRUCTED: bool = false;
    fn decode_value(content: &[u8]) -> Result<Self, DecodeError> {
        match content {
            [b] => Ok(*b != 0),
            _ => Err(DecodeError::BadValue {
                in_type: Self::TYPE_NAME,
                reason: "BOOLEAN content must be one byte",
            }),
        }
    }
    fn encode_value(&self, _peer: &Profile, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.push(if *self { 0xFF } else { 0x00 });
        Ok(())
    }
}

/// `VersionType ::= OCTET STRING (SIZE(3))`.
impl DerValue for Svn {
    const TYPE_NAME: &'static str = "VersionType";
    const CONSTRUCTED: bool = false;
    fn decode_value(content: &[u8]) -> Result<Self, DecodeError> {
        Svn::from_bytes(content).map_err(|_| DecodeError::BadValue {
            in_type: Self::TYPE_NAME,
            reason: "VersionType must be 3 bytes",
        })
    }
    fn encode_value(&self, _peer: &Profile, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.extend_from_slice(&self.to_bytes());
        Ok(())
    }
}

/// Universal tag of OBJECT IDENTIFIER.
const OID_TAG: Tag = match Tag::from_u32(0x06) {
    Ok(t) => t,
    Err(_) => panic!("bad OID tag"),
};

/// `SEQUENCE OF OBJECT IDENTIFIER`.
impl DerValue for Vec<Oid> {
    const TYPE_NAME: &'static str = "SEQUENCE OF OBJECT IDENTIFIER";
    const CONSTRUCTED: bool = true;
    fn decode_value(content: &[u8]) -> Result<Self, DecodeError> {
        let mut oids = Vec::new();
        for item in tlv::iter(content) {
            let item = item.map_err(tlv_err(Self::TYPE_NAME))?;
            if item.tag != OID_TAG {
                return Err(DecodeError::UnexpectedTag {
                    in_type: Self::TYPE_NAME,
                    expected: OID_TAG,
                    got: item.tag,
                });
            }
            let oid = Oid::from_der_content(item.value).map_err(|_| DecodeError::BadValue {
                in_type: Self::TYPE_NAME,
                reason: "malformed OBJECT IDENTIFIER",
            })?;
            oids.push(oid);
        }
        Ok(oids)
    }
    fn encode_value(&self, _peer: &Profile, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        for oid in self {
            tlv::encode_tlv(OID_TAG, &oid.to_der_content(), out)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_tags() -> Result<(), TlvError> {
        assert_eq!(context_tag(0, false)?.value(), 0x80);
        assert_eq!(context_tag(5, true)?.value(), 0xA5);
        assert_eq!(context_tag(30, false)?.value(), 0x9E);
        // InitiateAuthenticationRequest [57] is BF39; EUICCInfo2 [34] is BF22.
        assert_eq!(context_tag(57, true)?.value(), 0xBF39);
        assert_eq!(context_tag(34, true)?.value(), 0xBF22);
        assert_eq!(context_tag(128, false)?.value(), 0x9F8100);
        assert!(context_tag(0x4000, false).is_err());
        Ok(())
    }

    #[test]
    fn boolean_der() {
        let p = Profile::new(Svn::new(3, 1, 0));
        let mut out = Vec::new();
        assert!(true.encode_value(&p, &mut out).is_ok());
        assert_eq!(out, [0xFF]);
        assert_eq!(bool::decode_value(&[0x01]), Ok(true));
        assert!(bool::decode_value(&[]).is_err());
    }
}
