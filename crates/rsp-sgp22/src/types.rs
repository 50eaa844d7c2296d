//! Small SGP.22 value types with their length rules, and [`Signed`] for signed blocks.

use std::fmt;

use rsp_types::tlv::Tag;

use crate::der::{DecodeError, DerTlv, DerValue, EncodeError, GateViolation};
use crate::version::Profile;

/// `Octet16 ::= OCTET STRING (SIZE(16))`: `euiccChallenge`, `serverChallenge`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Octet16(pub [u8; 16]);

impl fmt::Debug for Octet16 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Octet16(")?;
        for b in self.0 {
            write!(f, "{b:02X}")?;
        }
        write!(f, ")")
    }
}

impl DerValue for Octet16 {
    const TYPE_NAME: &'static str = "Octet16";
    const CONSTRUCTED: bool = false;
    fn decode_value(content: &[u8]) -> Result<Self, DecodeError> {
        <[u8; 16]>::try_from(content)
            .map(Octet16)
            .map_err(|_| DecodeError::BadValue {
                in_type: Self::TYPE_NAME,
                reason: "Octet16 must be 16 bytes",
            })
    }
    fn encode_value(&self, _peer: &Profile, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.extend_from_slice(&self.0);
        Ok(())
    }
}

/// `TransactionId ::= OCTET STRING (SIZE(1..16))`; shown in JSON as upper-case hex.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TransactionId(Vec<u8>);

/// A transaction id outside 1..16 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("TransactionId must be 1 to 16 bytes, got {0}")]
pub struct TransactionIdLengthError(pub usize);

impl TransactionId {
    /// Checks the length (1..=16 bytes).
    pub fn new(bytes: &[u8]) -> Result<TransactionId, TransactionIdLengthError> {
        if (1..=16).contains(&bytes.len()) {
            Ok(TransactionId(bytes.to_vec()))
        } else {
            Err(TransactionIdLengthError(bytes.len()))
        }
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Display for TransactionId {
    /// Upper-case hex, as in the ES9+ JSON binding.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in &self.0 {
            write!(f, "{b:02X}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for TransactionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TransactionId({self})")
    }
}

impl DerValue for TransactionId {
    const TYPE_NAME: &'static str = "TransactionId";
    const CONSTRUCTED: bool = false;
    fn decode_value(content: &[u8]) -> Result<Self, DecodeError> {
        TransactionId::new(content).map_err(|_| DecodeError::BadValue {
            in_type: Self::TYPE_NAME,
            reason: "TransactionId must be 1 to 16 bytes",
        })
    }
    fn encode_value(&self, _peer: &Profile, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.extend_from_slice(&self.0);
        Ok(())
    }
}

/// A signed block as received: the exact DER bytes (signatures are verified over these, never
/// over a re-encoding) and the decoded value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed<T> {
    raw: Vec<u8>,
    value: T,
}

impl<T> Signed<T> {
    /// Decodes `der` with `decode` and keeps the bytes.
    pub fn decode(
        der: &[u8],
        decode: impl FnOnce(&[u8]) -> Result<T, DecodeError>,
    ) -> Result<Signed<T>, DecodeError> {
        let value = decode(der)?;
        Ok(Signed {
            raw: der.to_vec(),
            value,
        })
    }

    /// The bytes the signature covers.
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }

    /// The decoded value.
    pub fn value(&self) -> &T {
        &self.value
    }

    /// The decoded value, dropping the bytes.
    pub fn into_value(self) -> T {
        self.value
    }
}

impl<T: DerTlv> Signed<T> {
    /// Encodes `value` for `peer` once; the bytes are what gets signed and sent.
    pub fn new(value: T, peer: &Profile) -> Result<Signed<T>, EncodeError> {
        let raw = value.to_der(peer)?;
        Ok(Signed { raw, value })
    }
}

/// A signed block travels as its exact bytes: decoding keeps them, encoding writes them back.
impl<T: DerTlv> DerTlv for Signed<T> {
    const TLV_NAME: &'static str = T::TLV_NAME;
    fn matches(tag: Tag) -> bool {
        T::matches(tag)
    }
    fn decode_tlv(tag: Tag, content: &[u8], raw: &[u8]) -> Result<Self, DecodeError> {
        Ok(Signed {
            raw: raw.to_vec(),
            value: T::decode_tlv(tag, content, raw)?,
        })
    }
    fn encode_tlv(&self, _peer: &Profile, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.extend_from_slice(&self.raw);
        Ok(())
    }
    fn check_tlv_gates(&self, peer: &Profile) -> Result<(), GateViolation> {
        self.value.check_tlv_gates(peer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_rules() {
        assert!(Octet16::decode_value(&[0; 15]).is_err());
        assert!(Octet16::decode_value(&[0; 17]).is_err());
        assert_eq!(Octet16::decode_value(&[7; 16]), Ok(Octet16([7; 16])));
        assert!(TransactionId::new(&[]).is_err());
        assert!(TransactionId::new(&[0; 17]).is_err());
        assert_eq!(
            TransactionId::new(&[0xAB, 0x01]).map(|t| t.to_string()),
            Ok("AB01".to_string())
        );
    }
}
