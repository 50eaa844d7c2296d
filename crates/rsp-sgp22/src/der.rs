//! DER value codecs on top of [`rsp_types::tlv`]: the [`DerValue`] trait, context tags, and the
//! primitive types SGP.22 messages use (OCTET STRING, UTF8String, BOOLEAN, VersionType,
//! SEQUENCE OF OBJECT IDENTIFIER).

use rsp_types::tlv::{self, Tag, TlvError};
use rsp_types::{Iccid, Oid, Svn};

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
    /// The value is a CHOICE alternative the peer's version or features do not allow.
    #[error("{in_type}: alternative {alternative} is not allowed for a peer at v{svn}")]
    AlternativeNotAllowed {
        /// ASN.1 type being encoded.
        in_type: &'static str,
        /// The alternative.
        alternative: &'static str,
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

/// A type that encodes as a whole TLV with a tag of its own: universal types (`04`, `0C`, `01`,
/// `02`, `06`), SEQUENCEs (`30` or a declared `[n]` / `[APPLICATION n]` tag), CHOICEs (the tag of
/// the chosen alternative) and exact-bytes wrappers ([`Certificate`], [`RawTlv`]). Fields marked
/// `(own)` in [`der_sequence!`](crate::der_sequence) use it.
pub trait DerTlv: Sized {
    /// ASN.1 type name for error messages.
    const TLV_NAME: &'static str;
    /// Whether a TLV with `tag` is (an alternative of) this type.
    fn matches(tag: Tag) -> bool;
    /// Decodes one TLV (`raw` = tag, length and content as received).
    fn decode_tlv(tag: Tag, content: &[u8], raw: &[u8]) -> Result<Self, DecodeError>;
    /// Appends the whole TLV for `peer`.
    fn encode_tlv(&self, peer: &Profile, out: &mut Vec<u8>) -> Result<(), EncodeError>;
    /// Checks nested gates of a decoded value.
    fn check_tlv_gates(&self, _peer: &Profile) -> Result<(), GateViolation> {
        Ok(())
    }

    /// The one tag of this type, if it has exactly one (not a CHOICE).
    fn single_tag() -> Option<Tag> {
        None
    }

    /// Decodes exactly one TLV of this type.
    fn from_der(der: &[u8]) -> Result<Self, DecodeError> {
        let tlv = tlv::parse_single(der).map_err(tlv_err(Self::TLV_NAME))?;
        if !Self::matches(tlv.tag) {
            return Err(match Self::single_tag() {
                Some(expected) => DecodeError::UnexpectedTag {
                    in_type: Self::TLV_NAME,
                    expected,
                    got: tlv.tag,
                },
                None => DecodeError::BadValue {
                    in_type: Self::TLV_NAME,
                    reason: "unexpected tag",
                },
            });
        }
        Self::decode_tlv(tlv.tag, tlv.value, tlv.raw())
    }

    /// Encodes the whole TLV for `peer`.
    fn to_der(&self, peer: &Profile) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::new();
        self.encode_tlv(peer, &mut out)?;
        Ok(out)
    }
}

/// Implements [`DerTlv`] for a [`DerValue`] under a fixed universal tag.
macro_rules! universal_tlv {
    ($($ty:ty => $tag:literal),* $(,)?) => {$(
        impl DerTlv for $ty {
            const TLV_NAME: &'static str = <$ty as DerValue>::TYPE_NAME;
            fn matches(tag: Tag) -> bool {
                tag.value() == $tag
            }
            fn decode_tlv(_tag: Tag, content: &[u8], _raw: &[u8]) -> Result<Self, DecodeError> {
                <$ty as DerValue>::decode_value(content)
            }
            fn encode_tlv(&self, peer: &Profile, out: &mut Vec<u8>) -> Result<(), EncodeError> {
                let mut content = Vec::new();
                <$ty as DerValue>::encode_value(self, peer, &mut content)?;
                tlv::encode_tlv(Tag::from_u32($tag)?, &content, out)?;
                Ok(())
            }
        }
    )*};
}

universal_tlv! {
    Vec<u8> => 0x04,
    String => 0x0C,
    bool => 0x01,
    i64 => 0x02,
    Oid => 0x06,
    Svn => 0x04,
}

/// INTEGER (two's complement, minimal on output; up to 8 content bytes accepted).
impl DerValue for i64 {
    const TYPE_NAME: &'static str = "INTEGER";
    const CONSTRUCTED: bool = false;
    fn decode_value(content: &[u8]) -> Result<Self, DecodeError> {
        let bad = |reason| DecodeError::BadValue {
            in_type: "INTEGER",
            reason,
        };
        let (first, _) = content
            .split_first()
            .ok_or(bad("INTEGER content is empty"))?;
        if content.len() > 8 {
            return Err(bad("INTEGER longer than 8 bytes"));
        }
        let mut v: i64 = if first & 0x80 != 0 { -1 } else { 0 };
        for b in content {
            v = (v << 8) | i64::from(*b);
        }
        Ok(v)
    }
    fn encode_value(&self, _peer: &Profile, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let bytes = self.to_be_bytes();
        let mut start = 0;
        while start < 7 {
            let (b, next) = (bytes[start], bytes[start + 1]);
            if (b == 0x00 && next & 0x80 == 0) || (b == 0xFF && next & 0x80 != 0) {
                start += 1;
            } else {
                break;
            }
        }
        out.extend_from_slice(&bytes[start..]);
        Ok(())
    }
}

/// OBJECT IDENTIFIER.
impl DerValue for Oid {
    const TYPE_NAME: &'static str = "OBJECT IDENTIFIER";
    const CONSTRUCTED: bool = false;
    fn decode_value(content: &[u8]) -> Result<Self, DecodeError> {
        Oid::from_der_content(content).map_err(|_| DecodeError::BadValue {
            in_type: "OBJECT IDENTIFIER",
            reason: "malformed OBJECT IDENTIFIER",
        })
    }
    fn encode_value(&self, _peer: &Profile, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.extend_from_slice(&self.to_der_content());
        Ok(())
    }
}

/// `Iccid ::= [APPLICATION 26] OCTET STRING (SIZE(10))`: swapped BCD, `F`-padded.
impl DerValue for Iccid {
    const TYPE_NAME: &'static str = "Iccid";
    const CONSTRUCTED: bool = false;
    fn decode_value(content: &[u8]) -> Result<Self, DecodeError> {
        Iccid::from_bcd_swapped(content).map_err(|_| DecodeError::BadValue {
            in_type: "Iccid",
            reason: "not a valid swapped-BCD ICCID",
        })
    }
    fn encode_value(&self, _peer: &Profile, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.extend_from_slice(&self.to_bcd_swapped());
        Ok(())
    }
}

/// `SEQUENCE OF T`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SeqOf<T>(pub Vec<T>);

impl<T> SeqOf<T> {
    /// The items.
    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.0.iter()
    }
}

impl<T> From<Vec<T>> for SeqOf<T> {
    fn from(v: Vec<T>) -> Self {
        SeqOf(v)
    }
}

impl<T: DerTlv> DerValue for SeqOf<T> {
    const TYPE_NAME: &'static str = "SEQUENCE OF";
    const CONSTRUCTED: bool = true;
    fn decode_value(content: &[u8]) -> Result<Self, DecodeError> {
        let mut items = Vec::new();
        for item in tlv::iter(content) {
            let item = item.map_err(tlv_err(T::TLV_NAME))?;
            if !T::matches(item.tag) {
                return Err(DecodeError::BadValue {
                    in_type: T::TLV_NAME,
                    reason: "SEQUENCE OF item with an unexpected tag",
                });
            }
            items.push(T::decode_tlv(item.tag, item.value, item.raw())?);
        }
        Ok(SeqOf(items))
    }
    fn encode_value(&self, peer: &Profile, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        for item in &self.0 {
            item.encode_tlv(peer, out)?;
        }
        Ok(())
    }
    fn check_gates(&self, peer: &Profile) -> Result<(), GateViolation> {
        self.0.iter().try_for_each(|i| i.check_tlv_gates(peer))
    }
}

impl<T: DerTlv> DerTlv for SeqOf<T> {
    const TLV_NAME: &'static str = "SEQUENCE OF";
    fn matches(tag: Tag) -> bool {
        tag == SEQUENCE_TAG
    }
    fn decode_tlv(_tag: Tag, content: &[u8], _raw: &[u8]) -> Result<Self, DecodeError> {
        <Self as DerValue>::decode_value(content)
    }
    fn encode_tlv(&self, peer: &Profile, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let mut content = Vec::new();
        <Self as DerValue>::encode_value(self, peer, &mut content)?;
        tlv::encode_tlv(SEQUENCE_TAG, &content, out)?;
        Ok(())
    }
    fn check_tlv_gates(&self, peer: &Profile) -> Result<(), GateViolation> {
        <Self as DerValue>::check_gates(self, peer)
    }
}

/// An X.509 certificate kept as its exact DER bytes (tag `30`); parse it with
/// `rsp_crypto::x509::Certificate::from_der`.
#[derive(Clone, PartialEq, Eq)]
pub struct Certificate(pub Vec<u8>);

impl std::fmt::Debug for Certificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Certificate({} bytes)", self.0.len())
    }
}

impl Certificate {
    /// The DER bytes.
    pub fn der(&self) -> &[u8] {
        &self.0
    }
}

impl DerTlv for Certificate {
    const TLV_NAME: &'static str = "Certificate";
    fn matches(tag: Tag) -> bool {
        tag == SEQUENCE_TAG
    }
    fn decode_tlv(_tag: Tag, _content: &[u8], raw: &[u8]) -> Result<Self, DecodeError> {
        Ok(Certificate(raw.to_vec()))
    }
    fn encode_tlv(&self, _peer: &Profile, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.extend_from_slice(&self.0);
        Ok(())
    }
}

/// An element with tag `TAG` kept as its exact bytes (tag, length, content), for elements rsp
/// passes through without modelling (e.g. the `BF36` BoundProfilePackage, built and parsed by
/// [`crate::bpp`]).
#[derive(Clone, PartialEq, Eq)]
pub struct RawTlv<const TAG: u32>(pub Vec<u8>);

impl<const TAG: u32> std::fmt::Debug for RawTlv<TAG> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RawTlv<{TAG:X}>({} bytes)", self.0.len())
    }
}

impl<const TAG: u32> DerTlv for RawTlv<TAG> {
    const TLV_NAME: &'static str = "raw element";
    fn matches(tag: Tag) -> bool {
        tag.value() == TAG
    }
    fn decode_tlv(_tag: Tag, _content: &[u8], raw: &[u8]) -> Result<Self, DecodeError> {
        Ok(RawTlv(raw.to_vec()))
    }
    fn encode_tlv(&self, _peer: &Profile, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.extend_from_slice(&self.0);
        Ok(())
    }
}

/// Content bytes kept opaque (for constructed elements rsp does not model, e.g. Device Change
/// parameters); its IMPLICIT tag comes from the field.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RawContent(pub Vec<u8>);

impl DerValue for RawContent {
    const TYPE_NAME: &'static str = "opaque constructed content";
    const CONSTRUCTED: bool = true;
    fn decode_value(content: &[u8]) -> Result<Self, DecodeError> {
        tlv::validate(content, tlv::DEFAULT_MAX_DEPTH).map_err(tlv_err(Self::TYPE_NAME))?;
        Ok(RawContent(content.to_vec()))
    }
    fn encode_value(&self, _peer: &Profile, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.extend_from_slice(&self.0);
        Ok(())
    }
}

/// NULL (empty content).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Null;

impl DerValue for Null {
    const TYPE_NAME: &'static str = "NULL";
    const CONSTRUCTED: bool = false;
    fn decode_value(content: &[u8]) -> Result<Self, DecodeError> {
        if content.is_empty() {
            Ok(Null)
        } else {
            Err(DecodeError::BadValue {
                in_type: "NULL",
                reason: "NULL content must be empty",
            })
        }
    }
    fn encode_value(&self, _peer: &Profile, _out: &mut Vec<u8>) -> Result<(), EncodeError> {
        Ok(())
    }
}

/// A TLV's tag and content, as the CHOICE decoder hands them to an alternative.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct TlvParts<'a> {
    /// The tag.
    pub tag: Tag,
    /// The content.
    pub value: &'a [u8],
}

/// The tag of a fixed-tag field (`(0x5F37)` in [`der_sequence!`](crate::der_sequence)).
pub fn fixed_tag(value: u32, in_type: &'static str) -> Result<Tag, DecodeError> {
    Tag::from_u32(value).map_err(tlv_err(in_type))
}

/// Whether `tag` is the EXPLICIT context tag `[number]`.
pub fn is_explicit_tag(tag: Tag, number: u32) -> bool {
    context_tag(number, true).is_ok_and(|t| t == tag)
}

/// Decodes the single TLV inside an EXPLICIT tag.
pub fn decode_explicit<T: DerTlv>(content: &[u8]) -> Result<T, DecodeError> {
    T::from_der(content)
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
