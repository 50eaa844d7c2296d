//! GlobalPlatform Data Grouping Identifiers (DGI): the framing of STORE DATA in "DGI format".
//!
//! A DGI object is a two-byte identifier, a length, and a value. The length is one byte for
//! `00`..`FE`, or `FF` followed by two bytes (big-endian) for 255..=65535 (GlobalPlatform Card
//! Specification, STORE DATA). SGP.02 ISD-R and ECASD commands use this framing: STORE DATA with P1
//! bit `08` (DGI format), e.g. `80 E2 88 00` with `3A03 { 4F <ISD-P AID> }`; the value of such a DGI
//! holds BER-TLV objects, read with [`Dgi::children`].
//!
//! On input a non-minimal `FF 00 xx` length is accepted; encoders always write the minimal form.

use std::fmt;
use std::iter::FusedIterator;

use super::{TlvError, TlvIter};
use crate::hex;

/// Largest value a DGI can carry.
pub const DGI_MAX_VALUE_LEN: usize = 0xFFFF;

/// One DGI object borrowed from an input buffer.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Dgi<'a> {
    /// The two-byte identifier (`0x3A03`).
    pub id: u16,
    /// The value bytes.
    pub value: &'a [u8],
    raw: &'a [u8],
}

impl<'a> Dgi<'a> {
    /// The complete encoding (identifier, length, value) as received.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// Iterates the BER-TLV objects inside the value.
    pub fn children(&self) -> TlvIter<'a> {
        super::iter(self.value)
    }

    /// Appends a minimal re-encoding of this object.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), TlvError> {
        encode(self.id, self.value, out)
    }
}

impl fmt::Debug for Dgi<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dgi")
            .field("id", &format_args!("{:04X}", self.id))
            .field("len", &self.value.len())
            .field("value", &hex::encode_upper(self.value))
            .finish()
    }
}

fn read_length_at(buf: &[u8], base: usize) -> Result<(usize, usize), TlvError> {
    let truncated = TlvError::Truncated {
        offset: base,
        part: "length",
    };
    match buf.first() {
        None => Err(truncated),
        Some(0xFF) => match buf.get(1..3) {
            Some([hi, lo]) => Ok((usize::from(u16::from_be_bytes([*hi, *lo])), 3)),
            _ => Err(truncated),
        },
        Some(b) => Ok((usize::from(*b), 1)),
    }
}

/// Decodes a DGI length at the start of `buf`: `(value length, bytes used)`.
pub fn decode_length(buf: &[u8]) -> Result<(usize, usize), TlvError> {
    read_length_at(buf, 0)
}

/// Appends the minimal DGI length encoding. Fails above 65535.
pub fn encode_length(len: usize, out: &mut Vec<u8>) -> Result<(), TlvError> {
    match u16::try_from(len) {
        Ok(l) if l < 0xFF => out.push(l as u8),
        Ok(l) => {
            out.push(0xFF);
            out.extend_from_slice(&l.to_be_bytes());
        }
        Err(_) => return Err(TlvError::ValueTooLong { len }),
    }
    Ok(())
}

fn parse_at(buf: &[u8], base: usize) -> Result<(Dgi<'_>, usize), TlvError> {
    let id = match buf.get(..2) {
        Some([hi, lo]) => u16::from_be_bytes([*hi, *lo]),
        _ => {
            return Err(TlvError::Truncated {
                offset: base,
                part: "tag",
            });
        }
    };
    let (len, len_len) = read_length_at(buf.get(2..).unwrap_or_default(), base + 2)?;
    let end = 2 + len_len + len;
    let value = buf.get(2 + len_len..end).ok_or(TlvError::Truncated {
        offset: base,
        part: "value",
    })?;
    let raw = buf.get(..end).unwrap_or_default();
    Ok((Dgi { id, value, raw }, end))
}

/// Parses the first DGI of `buf`, returning it and the bytes after it.
pub fn parse_one(buf: &[u8]) -> Result<(Dgi<'_>, &[u8]), TlvError> {
    let (dgi, used) = parse_at(buf, 0)?;
    Ok((dgi, buf.get(used..).unwrap_or_default()))
}

/// Parses exactly one DGI that fills `buf`.
pub fn parse_single(buf: &[u8]) -> Result<Dgi<'_>, TlvError> {
    let (dgi, used) = parse_at(buf, 0)?;
    if used != buf.len() {
        return Err(TlvError::TrailingData {
            offset: used,
            remaining: buf.len() - used,
        });
    }
    Ok(dgi)
}

/// Iterator over consecutive DGIs; yields one `Err` and stops on malformed data.
#[derive(Debug, Clone)]
pub struct DgiIter<'a> {
    buf: &'a [u8],
    pos: usize,
    failed: bool,
}

impl<'a> Iterator for DgiIter<'a> {
    type Item = Result<Dgi<'a>, TlvError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let rest = self.buf.get(self.pos..).filter(|r| !r.is_empty())?;
        match parse_at(rest, self.pos) {
            Ok((dgi, used)) => {
                self.pos += used;
                Some(Ok(dgi))
            }
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

impl FusedIterator for DgiIter<'_> {}

/// Iterates the consecutive DGIs of `buf`.
pub fn iter(buf: &[u8]) -> DgiIter<'_> {
    DgiIter {
        buf,
        pos: 0,
        failed: false,
    }
}

/// Parses consecutive DGIs that fill `buf` completely.
pub fn parse_all(buf: &[u8]) -> Result<Vec<Dgi<'_>>, TlvError> {
    iter(buf).collect()
}

/// The first DGI of `buf` with identifier `id`.
pub fn find(buf: &[u8], id: u16) -> Result<Option<Dgi<'_>>, TlvError> {
    for item in iter(buf) {
        let dgi = item?;
        if dgi.id == id {
            return Ok(Some(dgi));
        }
    }
    Ok(None)
}

/// Appends `id`, the minimal DGI length of `value`, and `value`. Writes nothing on error.
pub fn encode(id: u16, value: &[u8], out: &mut Vec<u8>) -> Result<(), TlvError> {
    if value.len() > DGI_MAX_VALUE_LEN {
        return Err(TlvError::ValueTooLong { len: value.len() });
    }
    out.extend_from_slice(&id.to_be_bytes());
    encode_length(value.len(), out)?;
    out.extend_from_slice(value);
    Ok(())
}

/// [`encode`] into a new vector.
pub fn encode_to_vec(id: u16, value: &[u8]) -> Result<Vec<u8>, TlvError> {
    let mut out = Vec::with_capacity(value.len() + 5);
    encode(id, value, &mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tlv::Tag;

    #[test]
    fn enable_profile_store_data() {
        // SGP.02 ES5 EnableProfile STORE DATA body: 3A03 { 4F <ISD-P AID> } (sgp02.md §13, [NJ]).
        let aid = [
            0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0x89, 0x00, 0x00,
            0x11, 0x00,
        ];
        let inner = crate::tlv::encode_tlv_to_vec(Tag::from_u32(0x4F).unwrap(), &aid).unwrap();
        let data = encode_to_vec(0x3A03, &inner).unwrap();
        assert_eq!(&data[..5], &[0x3A, 0x03, 0x12, 0x4F, 0x10]);
        let dgi = parse_single(&data).unwrap();
        assert_eq!(dgi.id, 0x3A03);
        assert_eq!(dgi.raw(), &data[..]);
        let children: Vec<_> = dgi.children().collect::<Result<_, _>>().unwrap();
        assert_eq!(children[0].value, &aid);
    }

    #[test]
    fn lengths() {
        for (len, enc) in [
            (0usize, vec![0x00]),
            (254, vec![0xFE]),
            (255, vec![0xFF, 0x00, 0xFF]),
            (300, vec![0xFF, 0x01, 0x2C]),
            (65535, vec![0xFF, 0xFF, 0xFF]),
        ] {
            let mut out = Vec::new();
            encode_length(len, &mut out).unwrap();
            assert_eq!(out, enc);
            assert_eq!(decode_length(&enc), Ok((len, enc.len())));
        }
        assert_eq!(decode_length(&[0xFF, 0x00, 0x05]), Ok((5, 3)));
        assert_eq!(
            encode_length(65536, &mut Vec::new()),
            Err(TlvError::ValueTooLong { len: 65536 })
        );
        assert_eq!(
            decode_length(&[0xFF, 0x01]),
            Err(TlvError::Truncated {
                offset: 0,
                part: "length"
            })
        );
        let big = vec![0u8; 300];
        let enc = encode_to_vec(0x3A01, &big).unwrap();
        assert_eq!(&enc[..5], &[0x3A, 0x01, 0xFF, 0x01, 0x2C]);
        assert_eq!(parse_single(&enc).unwrap().value.len(), 300);
        assert!(encode(0x3A01, &vec![0u8; 65536], &mut Vec::new()).is_err());
    }

    #[test]
    fn errors_and_find() {
        assert_eq!(
            parse_single(&[0x3A]),
            Err(TlvError::Truncated {
                offset: 0,
                part: "tag"
            })
        );
        assert_eq!(
            parse_single(&[0x3A, 0x01, 0x02, 0x00]),
            Err(TlvError::Truncated {
                offset: 0,
                part: "value"
            })
        );
        assert_eq!(
            parse_single(&[0x3A, 0x01, 0x00, 0x00]),
            Err(TlvError::TrailingData {
                offset: 3,
                remaining: 1
            })
        );
        let data = [0x3A, 0x01, 0x00, 0x3A, 0x02, 0x01, 0xAA];
        assert_eq!(parse_all(&data).unwrap().len(), 2);
        assert_eq!(
            find(&data, 0x3A02).unwrap().map(|d| d.value),
            Some(&[0xAA][..])
        );
        assert_eq!(find(&data, 0x3A08), Ok(None));
        assert_eq!(
            parse_all(&[0x3A, 0x01, 0x00, 0x3A]),
            Err(TlvError::Truncated {
                offset: 3,
                part: "tag"
            })
        );
    }
}
