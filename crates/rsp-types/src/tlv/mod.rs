//! BER-TLV as ISO/IEC 7816-4 and GlobalPlatform use it: the one codec shared by certificates
//! (GP Amendment E `7F21`), card commands and responses, and the simulated cards.
//!
//! # Rules
//! - **Tags** are 1 to 3 bytes ([`MAX_TAG_LEN`]) following the BER rules: if the low five bits of the
//!   first byte are all set (`xx11111`), subsequent bytes follow while their top bit is set (`5F37`,
//!   `7F21`, `BF20`, `9F7F`, `BF8101`...). A [`Tag`] keeps its bytes as a big-endian `u32`
//!   (`Tag::from_u32(0x7F21)`), so the encoded form always round-trips.
//! - **Lengths** are definite: short form `00`..`7F`, long form `81 xx`, `82 xxxx`, `83 xxxxxx`,
//!   `84 xxxxxxxx`. The indefinite form `80` is refused. On input a non-minimal long form
//!   (`81 05`) is accepted (BER); [`decode_der_length`] is the strict DER variant. Encoders always
//!   write the minimal (DER) length.
//! - **Borrowed parsing**: a [`Tlv`] borrows its value and its whole encoding ([`Tlv::raw`]) from the
//!   input, so signatures can be checked over the received bytes, never over a re-encoding.
//! - **No padding skipping**: ISO/IEC 7816-4 allows `00`/`FF` filler between objects; this codec treats
//!   them as tags. Strip filler explicitly where a card format allows it.
//! - **Nesting** is only followed on request ([`Tlv::children`], [`parse_tree`], [`validate`]); the
//!   recursive walkers stop at a depth limit ([`DEFAULT_MAX_DEPTH`], never more than [`HARD_MAX_DEPTH`]).
//! - Error offsets are byte offsets into the buffer given to the function that failed (for
//!   [`parse_tree`] / [`validate`]: into the outermost buffer).
//!
//! GlobalPlatform STORE DATA in "DGI format" (P1 bit `08` set, as in SGP.02 `80 E2 88 00` with `3A03`)
//! is not BER-TLV: `3A03` is a two-byte Data Grouping Identifier with its own length rule. Use
//! [`dgi`] for that layer and this module for the BER-TLV objects inside it.
//!
//! ```
//! use rsp_types::tlv::{self, Tag};
//! # fn main() -> Result<(), rsp_types::tlv::TlvError> {
//! let aid = [0xA0, 0x00, 0x00, 0x05, 0x59, 0x10];
//! let mut out = Vec::new();
//! tlv::encode_constructed(Tag::from_u32(0xBF20)?, &mut out, |inner| {
//!     tlv::encode_tlv(Tag::from_u32(0x4F)?, &aid, inner)
//! })?;
//! assert_eq!(out[..4], [0xBF, 0x20, 0x08, 0x4F]);
//! let outer = tlv::parse_single(&out)?;
//! let inner = outer.require(Tag::from_u32(0x4F)?)?;
//! assert_eq!(inner.value, &aid);
//! # Ok(()) }
//! ```

pub mod dgi;

use std::fmt;
use std::iter::FusedIterator;

use crate::hex;

/// Longest tag accepted, in bytes.
pub const MAX_TAG_LEN: usize = 3;
/// Most length bytes accepted after a long-form prefix (`84`).
pub const MAX_LENGTH_BYTES: usize = 4;
/// Default nesting limit for the recursive walkers.
pub const DEFAULT_MAX_DEPTH: usize = 16;
/// Upper bound applied to any requested nesting limit (protects the stack).
pub const HARD_MAX_DEPTH: usize = 64;

/// Why BER-TLV (or DGI) data was refused or could not be encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TlvError {
    /// The input ends inside a tag, a length or a value.
    #[error("TLV truncated: the {part} of the object at offset {offset} is incomplete")]
    Truncated {
        /// Offset of the object (or length field) that is incomplete.
        offset: usize,
        /// `"tag"`, `"length"` or `"value"`.
        part: &'static str,
    },
    /// A length field that this codec refuses.
    #[error("TLV bad length at offset {offset}: {reason}")]
    BadLength {
        /// Offset of the length field.
        offset: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A tag of more than [`MAX_TAG_LEN`] bytes.
    #[error("TLV tag at offset {offset} is longer than 3 bytes")]
    TagTooLong {
        /// Offset of the tag.
        offset: usize,
    },
    /// Bytes left after the object(s) that should fill the buffer.
    #[error("TLV: {remaining} byte(s) of trailing data at offset {offset}")]
    TrailingData {
        /// Offset of the first unexpected byte.
        offset: usize,
        /// Number of bytes left.
        remaining: usize,
    },
    /// Nesting deeper than the limit.
    #[error("TLV nested deeper than {limit} levels")]
    TooDeep {
        /// The limit in force.
        limit: usize,
    },
    /// A `u32` or byte string that is not a well-formed BER tag.
    #[error("0x{value:X} is not a well-formed BER tag of at most 3 bytes")]
    InvalidTag {
        /// The rejected value.
        value: u32,
    },
    /// A value too long for the length encoding.
    #[error("TLV value of {len} bytes is too long to encode")]
    ValueTooLong {
        /// The value length.
        len: usize,
    },
    /// An object had another tag than required.
    #[error("expected TLV tag {expected}, found {found}")]
    UnexpectedTag {
        /// The required tag.
        expected: Tag,
        /// The tag found.
        found: Tag,
    },
    /// A required object is absent.
    #[error("required TLV tag {tag} is missing")]
    Missing {
        /// The missing tag.
        tag: Tag,
    },
}

/// The class bits (b8-b7) of a tag's first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TagClass {
    /// `00xxxxxx`
    Universal,
    /// `01xxxxxx`
    Application,
    /// `10xxxxxx`
    ContextSpecific,
    /// `11xxxxxx`
    Private,
}

/// A BER tag of 1 to 3 bytes, held as its big-endian encoding (`0x5A`, `0x7F21`, `0xBF8101`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag(u32);

impl Tag {
    /// Checks and wraps an encoded tag. `const`, so tag constants are checked at compile time:
    /// `const CERT: Tag = match Tag::from_u32(0x7F21) { Ok(t) => t, Err(_) => panic!() };`
    pub const fn from_u32(value: u32) -> Result<Tag, TlvError> {
        let b = value.to_be_bytes();
        let ok = if value <= 0xFF {
            b[3] & 0x1F != 0x1F
        } else if value <= 0xFFFF {
            b[2] & 0x1F == 0x1F && b[3] & 0x80 == 0
        } else if value <= 0xFF_FFFF {
            b[1] & 0x1F == 0x1F && b[2] & 0x80 != 0 && b[3] & 0x80 == 0
        } else {
            false
        };
        if ok {
            Ok(Tag(value))
        } else {
            Err(TlvError::InvalidTag { value })
        }
    }

    /// Parses a tag that fills `bytes` exactly.
    pub fn from_bytes(bytes: &[u8]) -> Result<Tag, TlvError> {
        let (tag, n) = read_tag_at(bytes, 0)?;
        if n != bytes.len() {
            return Err(TlvError::TrailingData {
                offset: n,
                remaining: bytes.len() - n,
            });
        }
        Ok(tag)
    }

    /// The encoded tag as a big-endian integer.
    pub const fn value(self) -> u32 {
        self.0
    }

    /// Number of bytes of the encoded tag (1..=3).
    pub const fn encoded_len(self) -> usize {
        if self.0 > 0xFFFF {
            3
        } else if self.0 > 0xFF {
            2
        } else {
            1
        }
    }

    const fn first_byte(self) -> u8 {
        let b = self.0.to_be_bytes();
        match self.encoded_len() {
            3 => b[1],
            2 => b[2],
            _ => b[3],
        }
    }

    /// Whether the constructed bit (b6 of the first byte) is set: the value holds TLV objects.
    pub const fn is_constructed(self) -> bool {
        self.first_byte() & 0x20 != 0
    }

    /// The class bits of the first byte.
    pub const fn class(self) -> TagClass {
        match self.first_byte() >> 6 {
            0 => TagClass::Universal,
            1 => TagClass::Application,
            2 => TagClass::ContextSpecific,
            _ => TagClass::Private,
        }
    }

    /// The tag number (`[n]` in ASN.1 notation): `BF20` is 32, `5A` is 26, `A0` is 0.
    pub fn number(self) -> u32 {
        let bytes = self.to_vec();
        match bytes.split_first() {
            Some((first, [])) => u32::from(first & 0x1F),
            Some((_, rest)) => rest
                .iter()
                .fold(0u32, |acc, b| (acc << 7) | u32::from(b & 0x7F)),
            None => 0,
        }
    }

    /// Appends the encoded tag to `out`.
    pub fn encode(self, out: &mut Vec<u8>) {
        let b = self.0.to_be_bytes();
        let n = self.encoded_len();
        out.extend_from_slice(b.get(4 - n..).unwrap_or_default());
    }

    /// The encoded tag.
    pub fn to_vec(self) -> Vec<u8> {
        let mut v = Vec::with_capacity(MAX_TAG_LEN);
        self.encode(&mut v);
        v
    }
}

impl TryFrom<u32> for Tag {
    type Error = TlvError;
    fn try_from(value: u32) -> Result<Tag, TlvError> {
        Tag::from_u32(value)
    }
}

impl From<Tag> for u32 {
    fn from(t: Tag) -> u32 {
        t.0
    }
}

impl fmt::Display for Tag {
    /// Upper-case hex of the encoded tag (`7F21`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode_upper(&self.to_vec()))
    }
}

impl fmt::Debug for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tag({self})")
    }
}

/// Reads a tag at the start of `buf`; `base` is the offset of `buf` for error reports.
fn read_tag_at(buf: &[u8], base: usize) -> Result<(Tag, usize), TlvError> {
    let truncated = TlvError::Truncated {
        offset: base,
        part: "tag",
    };
    let first = *buf.first().ok_or(truncated)?;
    let mut value = u32::from(first);
    if first & 0x1F != 0x1F {
        return Ok((Tag(value), 1));
    }
    let mut i = 1;
    loop {
        if i >= MAX_TAG_LEN {
            return Err(TlvError::TagTooLong { offset: base });
        }
        let b = *buf.get(i).ok_or(truncated)?;
        value = (value << 8) | u32::from(b);
        i += 1;
        if b & 0x80 == 0 {
            return Ok((Tag(value), i));
        }
    }
}

/// Reads the tag at the start of `buf`: the tag and the number of bytes it used.
pub fn read_tag(buf: &[u8]) -> Result<(Tag, usize), TlvError> {
    read_tag_at(buf, 0)
}

fn read_length_at(buf: &[u8], base: usize, der: bool) -> Result<(usize, usize), TlvError> {
    let truncated = TlvError::Truncated {
        offset: base,
        part: "length",
    };
    let bad = |reason| TlvError::BadLength {
        offset: base,
        reason,
    };
    let first = *buf.first().ok_or(truncated)?;
    if first < 0x80 {
        return Ok((usize::from(first), 1));
    }
    if first == 0x80 {
        return Err(bad("the indefinite length form is not allowed"));
    }
    let n = usize::from(first & 0x7F);
    if n > MAX_LENGTH_BYTES {
        return Err(bad("length field longer than 4 bytes"));
    }
    let bytes = buf.get(1..1 + n).ok_or(truncated)?;
    let len = bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
    if der {
        if bytes.first() == Some(&0) {
            return Err(bad("non-minimal DER length (leading zero byte)"));
        }
        if len < 0x80 {
            return Err(bad("non-minimal DER length (short form required)"));
        }
    }
    let len = usize::try_from(len).map_err(|_| bad("length too large for this platform"))?;
    Ok((len, 1 + n))
}

/// Decodes a BER definite length at the start of `buf`: `(value length, bytes used)`.
/// Accepts non-minimal long forms; refuses `80` (indefinite) and more than 4 length bytes.
pub fn decode_length(buf: &[u8]) -> Result<(usize, usize), TlvError> {
    read_length_at(buf, 0, false)
}

/// Decodes a DER length at the start of `buf`: like [`decode_length`] but refuses non-minimal forms.
pub fn decode_der_length(buf: &[u8]) -> Result<(usize, usize), TlvError> {
    read_length_at(buf, 0, true)
}

/// Number of bytes the minimal encoding of `len` takes.
pub fn length_len(len: usize) -> usize {
    if len < 0x80 {
        1
    } else {
        let bits = usize::BITS - len.leading_zeros();
        1 + bits.div_ceil(8) as usize
    }
}

/// Appends the minimal (DER) encoding of `len`. Fails above `u32::MAX`.
pub fn encode_length(len: usize, out: &mut Vec<u8>) -> Result<(), TlvError> {
    if len < 0x80 {
        out.push(len as u8);
        return Ok(());
    }
    let len32 = u32::try_from(len).map_err(|_| TlvError::ValueTooLong { len })?;
    let bytes = len32.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    let significant = bytes.get(skip..).unwrap_or_default();
    out.push(0x80 | significant.len() as u8);
    out.extend_from_slice(significant);
    Ok(())
}

/// Total encoded size of an object with this tag and value length.
pub fn encoded_len(tag: Tag, value_len: usize) -> usize {
    tag.encoded_len() + length_len(value_len) + value_len
}

/// One BER-TLV object borrowed from an input buffer.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    /// The tag.
    pub tag: Tag,
    /// The value bytes.
    pub value: &'a [u8],
    raw: &'a [u8],
}

impl<'a> Tlv<'a> {
    /// The complete encoding (tag, length and value) exactly as received.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// Whether the tag's constructed bit is set.
    pub fn is_constructed(&self) -> bool {
        self.tag.is_constructed()
    }

    /// Iterates the objects inside the value (whatever the constructed bit says).
    pub fn children(&self) -> TlvIter<'a> {
        iter(self.value)
    }

    /// The first direct child with `tag`. Children after the match are not examined.
    pub fn find(&self, tag: Tag) -> Result<Option<Tlv<'a>>, TlvError> {
        find(self.value, tag)
    }

    /// The first direct child with `tag`, or [`TlvError::Missing`].
    pub fn require(&self, tag: Tag) -> Result<Tlv<'a>, TlvError> {
        self.find(tag)?.ok_or(TlvError::Missing { tag })
    }

    /// `self` if its tag is `tag`, else [`TlvError::UnexpectedTag`].
    pub fn expect_tag(self, tag: Tag) -> Result<Tlv<'a>, TlvError> {
        if self.tag == tag {
            Ok(self)
        } else {
            Err(TlvError::UnexpectedTag {
                expected: tag,
                found: self.tag,
            })
        }
    }

    /// Appends a minimal re-encoding of this object (equal to [`Tlv::raw`] unless the input used a
    /// non-minimal length).
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), TlvError> {
        encode_tlv(self.tag, self.value, out)
    }
}

impl fmt::Debug for Tlv<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tlv")
            .field("tag", &self.tag)
            .field("len", &self.value.len())
            .field("value", &hex::encode_upper(self.value))
            .finish()
    }
}

/// Parses one object at the start of `buf`; `base` is the offset of `buf` for error reports.
/// Returns the object and the number of bytes it used.
fn parse_at(buf: &[u8], base: usize) -> Result<(Tlv<'_>, usize), TlvError> {
    let (tag, tag_len) = read_tag_at(buf, base)?;
    let after_tag = buf.get(tag_len..).unwrap_or_default();
    let (len, len_len) = read_length_at(after_tag, base + tag_len, false)?;
    let start = tag_len + len_len;
    let end = start.checked_add(len).ok_or(TlvError::BadLength {
        offset: base + tag_len,
        reason: "length overflows",
    })?;
    let value = buf.get(start..end).ok_or(TlvError::Truncated {
        offset: base,
        part: "value",
    })?;
    let raw = buf.get(..end).unwrap_or_default();
    Ok((Tlv { tag, value, raw }, end))
}

/// Parses the first object of `buf`, returning it and the bytes after it.
pub fn parse_one(buf: &[u8]) -> Result<(Tlv<'_>, &[u8]), TlvError> {
    let (tlv, used) = parse_at(buf, 0)?;
    Ok((tlv, buf.get(used..).unwrap_or_default()))
}

/// Parses exactly one object that fills `buf`; anything after it is [`TlvError::TrailingData`].
pub fn parse_single(buf: &[u8]) -> Result<Tlv<'_>, TlvError> {
    let (tlv, used) = parse_at(buf, 0)?;
    if used != buf.len() {
        return Err(TlvError::TrailingData {
            offset: used,
            remaining: buf.len() - used,
        });
    }
    Ok(tlv)
}

/// Iterator over consecutive objects of a buffer. Yields one `Err` and then stops if the data is
/// malformed, so bytes after the last complete object never pass silently.
#[derive(Debug, Clone)]
pub struct TlvIter<'a> {
    buf: &'a [u8],
    pos: usize,
    failed: bool,
}

impl<'a> Iterator for TlvIter<'a> {
    type Item = Result<Tlv<'a>, TlvError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let rest = self.buf.get(self.pos..).filter(|r| !r.is_empty())?;
        match parse_at(rest, self.pos) {
            Ok((tlv, used)) => {
                self.pos += used;
                Some(Ok(tlv))
            }
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

impl FusedIterator for TlvIter<'_> {}

/// Iterates the consecutive objects of `buf`.
pub fn iter(buf: &[u8]) -> TlvIter<'_> {
    TlvIter {
        buf,
        pos: 0,
        failed: false,
    }
}

/// Parses consecutive objects that fill `buf` completely (no trailing garbage).
pub fn parse_all(buf: &[u8]) -> Result<Vec<Tlv<'_>>, TlvError> {
    iter(buf).collect()
}

/// The first top-level object of `buf` with `tag`. Objects after the match are not examined.
pub fn find(buf: &[u8], tag: Tag) -> Result<Option<Tlv<'_>>, TlvError> {
    for item in iter(buf) {
        let tlv = item?;
        if tlv.tag == tag {
            return Ok(Some(tlv));
        }
    }
    Ok(None)
}

/// Follows `path` down from the top level of `buf`: `find_path(buf, &[BF20, 4F])` finds the first
/// `4F` inside the first `BF20`. An empty path gives `None`.
pub fn find_path<'a>(buf: &'a [u8], path: &[Tag]) -> Result<Option<Tlv<'a>>, TlvError> {
    let mut level = buf;
    let mut found = None;
    for tag in path {
        match find(level, *tag)? {
            Some(t) => {
                level = t.value;
                found = Some(t);
            }
            None => return Ok(None),
        }
    }
    Ok(found)
}

/// A parsed object with its parsed children (empty for primitive tags).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node<'a> {
    /// The object.
    pub tlv: Tlv<'a>,
    /// Children, parsed when the tag is constructed.
    pub children: Vec<Node<'a>>,
}

fn walk<'a>(
    buf: &'a [u8],
    base: usize,
    depth: usize,
    limit: usize,
    out: &mut Option<Vec<Node<'a>>>,
) -> Result<(), TlvError> {
    let mut pos = 0;
    while let Some(rest) = buf.get(pos..).filter(|r| !r.is_empty()) {
        if depth >= limit {
            return Err(TlvError::TooDeep { limit });
        }
        let (tlv, used) = parse_at(rest, base + pos)?;
        let value_offset = base + pos + (tlv.raw.len() - tlv.value.len());
        let mut children = out.as_ref().map(|_| Vec::new());
        if tlv.tag.is_constructed() {
            walk(tlv.value, value_offset, depth + 1, limit, &mut children)?;
        }
        if let Some(nodes) = out.as_mut() {
            nodes.push(Node {
                tlv,
                children: children.unwrap_or_default(),
            });
        }
        pos += used;
    }
    Ok(())
}

/// Parses `buf` into a tree, descending into constructed tags. Top-level objects are at depth 1;
/// more than `max_depth` levels (capped at [`HARD_MAX_DEPTH`]) is [`TlvError::TooDeep`].
pub fn parse_tree(buf: &[u8], max_depth: usize) -> Result<Vec<Node<'_>>, TlvError> {
    let mut out = Some(Vec::new());
    walk(buf, 0, 0, max_depth.min(HARD_MAX_DEPTH), &mut out)?;
    Ok(out.unwrap_or_default())
}

/// Checks that `buf` is well-formed BER-TLV down through every constructed tag, without allocating
/// a tree. Same depth rule as [`parse_tree`].
pub fn validate(buf: &[u8], max_depth: usize) -> Result<(), TlvError> {
    walk(buf, 0, 0, max_depth.min(HARD_MAX_DEPTH), &mut None)
}

/// Appends `tag`, the minimal length of `value`, and `value` to `out`. Writes nothing on error.
pub fn encode_tlv(tag: Tag, value: &[u8], out: &mut Vec<u8>) -> Result<(), TlvError> {
    if u32::try_from(value.len()).is_err() {
        return Err(TlvError::ValueTooLong { len: value.len() });
    }
    out.reserve(encoded_len(tag, value.len()));
    tag.encode(out);
    encode_length(value.len(), out)?;
    out.extend_from_slice(value);
    Ok(())
}

/// [`encode_tlv`] into a new vector.
pub fn encode_tlv_to_vec(tag: Tag, value: &[u8]) -> Result<Vec<u8>, TlvError> {
    let mut out = Vec::with_capacity(encoded_len(tag, value.len()));
    encode_tlv(tag, value, &mut out)?;
    Ok(out)
}

/// Encodes a constructed object: `children` writes the value into a scratch buffer, which is then
/// prefixed with `tag` and its minimal length and appended to `out`.
pub fn encode_constructed<E, F>(tag: Tag, out: &mut Vec<u8>, children: F) -> Result<(), E>
where
    E: From<TlvError>,
    F: FnOnce(&mut Vec<u8>) -> Result<(), E>,
{
    let mut inner = Vec::new();
    children(&mut inner)?;
    encode_tlv(tag, &inner, out).map_err(E::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(v: u32) -> Tag {
        Tag::from_u32(v).unwrap()
    }

    #[test]
    fn tag_rules() {
        for ok in [
            0x00, 0x04, 0x30, 0x4F, 0x5A, 0x80, 0xA0, 0xE3, 0x5F37, 0x7F21, 0x7F49, 0xBF20, 0x9F70,
            0xBF8101,
        ] {
            let t = tag(ok);
            assert_eq!(Tag::from_bytes(&t.to_vec()), Ok(t), "{ok:X}");
        }
        for bad in [
            0x1F, 0x3F, 0x5F, 0x5F80, 0x5A01, 0x3A01, 0xBF8181, 0x1F8101FF, 0xFF,
        ] {
            assert_eq!(
                Tag::from_u32(bad),
                Err(TlvError::InvalidTag { value: bad }),
                "{bad:X}"
            );
        }
        assert!(tag(0x7F21).is_constructed());
        assert!(!tag(0x5F37).is_constructed());
        assert_eq!(tag(0x5F37).class(), TagClass::Application);
        assert_eq!(tag(0xBF20).class(), TagClass::ContextSpecific);
        assert_eq!(tag(0xE3).class(), TagClass::Private);
        assert_eq!(tag(0x30).class(), TagClass::Universal);
        assert_eq!(tag(0xBF20).number(), 32);
        assert_eq!(tag(0x5A).number(), 26);
        assert_eq!(tag(0xBF8101).number(), 129);
        assert_eq!(tag(0x7F21).to_string(), "7F21");
        assert_eq!(format!("{:?}", tag(0x5A)), "Tag(5A)");
    }

    #[test]
    fn read_tag_errors() {
        assert_eq!(
            read_tag(&[]),
            Err(TlvError::Truncated {
                offset: 0,
                part: "tag"
            })
        );
        assert_eq!(
            read_tag(&[0x5F]),
            Err(TlvError::Truncated {
                offset: 0,
                part: "tag"
            })
        );
        assert_eq!(
            read_tag(&[0xBF, 0x81]),
            Err(TlvError::Truncated {
                offset: 0,
                part: "tag"
            })
        );
        assert_eq!(
            read_tag(&[0xBF, 0x81, 0x81, 0x01]),
            Err(TlvError::TagTooLong { offset: 0 })
        );
        assert_eq!(read_tag(&[0xBF, 0x81, 0x01, 0x00]), Ok((tag(0xBF8101), 3)));
        assert!(matches!(
            Tag::from_bytes(&[0x5A, 0x00]),
            Err(TlvError::TrailingData { .. })
        ));
    }

    #[test]
    fn lengths() {
        assert_eq!(decode_length(&[0x7F]), Ok((127, 1)));
        assert_eq!(decode_length(&[0x81, 0x80]), Ok((128, 2)));
        assert_eq!(decode_length(&[0x82, 0x01, 0x00]), Ok((256, 3)));
        assert_eq!(decode_length(&[0x83, 0x01, 0x00, 0x00]), Ok((65536, 4)));
        assert_eq!(
            decode_length(&[0x84, 0x01, 0x00, 0x00, 0x00]),
            Ok((1 << 24, 5))
        );
        // BER accepts a non-minimal form, DER does not.
        assert_eq!(decode_length(&[0x81, 0x05]), Ok((5, 2)));
        assert!(matches!(
            decode_der_length(&[0x81, 0x05]),
            Err(TlvError::BadLength { .. })
        ));
        assert!(matches!(
            decode_der_length(&[0x82, 0x00, 0x80]),
            Err(TlvError::BadLength { .. })
        ));
        assert_eq!(decode_der_length(&[0x81, 0x80]), Ok((128, 2)));
        assert!(matches!(
            decode_length(&[0x80]),
            Err(TlvError::BadLength { offset: 0, .. })
        ));
        assert!(matches!(
            decode_length(&[0x85, 0, 0, 0, 0, 1]),
            Err(TlvError::BadLength { .. })
        ));
        assert_eq!(
            decode_length(&[]),
            Err(TlvError::Truncated {
                offset: 0,
                part: "length"
            })
        );
        assert_eq!(
            decode_length(&[0x82, 0x01]),
            Err(TlvError::Truncated {
                offset: 0,
                part: "length"
            })
        );

        for (len, enc) in [
            (0usize, vec![0x00]),
            (127, vec![0x7F]),
            (128, vec![0x81, 0x80]),
            (255, vec![0x81, 0xFF]),
            (256, vec![0x82, 0x01, 0x00]),
            (65535, vec![0x82, 0xFF, 0xFF]),
            (65536, vec![0x83, 0x01, 0x00, 0x00]),
            (0x0100_0000, vec![0x84, 0x01, 0x00, 0x00, 0x00]),
        ] {
            let mut out = Vec::new();
            encode_length(len, &mut out).unwrap();
            assert_eq!(out, enc, "{len}");
            assert_eq!(length_len(len), enc.len());
            assert_eq!(decode_der_length(&enc), Ok((len, enc.len())));
        }
    }

    #[test]
    fn parse_nested_and_find() {
        // BF20 { 4F 05 A000000559, 80 01 01 } 5A 00
        let data = [
            0xBF, 0x20, 0x0A, 0x4F, 0x05, 0xA0, 0x00, 0x00, 0x05, 0x59, 0x80, 0x01, 0x01, 0x5A,
            0x00,
        ];
        let all = parse_all(&data).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].tag, tag(0xBF20));
        assert_eq!(all[0].raw(), &data[..13]);
        assert_eq!(all[1].value, &[] as &[u8]);
        let aid = all[0].require(tag(0x4F)).unwrap();
        assert_eq!(aid.value, &[0xA0, 0x00, 0x00, 0x05, 0x59]);
        assert_eq!(all[0].find(tag(0x81)), Ok(None));
        assert_eq!(
            all[0].require(tag(0x81)),
            Err(TlvError::Missing { tag: tag(0x81) })
        );
        assert_eq!(
            find(&data, tag(0x5A)).unwrap().map(|t| t.tag),
            Some(tag(0x5A))
        );
        assert_eq!(
            find_path(&data, &[tag(0xBF20), tag(0x80)])
                .unwrap()
                .map(|t| t.value),
            Some(&[0x01u8][..])
        );
        assert_eq!(find_path(&data, &[tag(0xBF20), tag(0x5A)]), Ok(None));
        assert_eq!(find_path(&data, &[]), Ok(None));
        assert!(matches!(
            all[1].expect_tag(tag(0x4F)),
            Err(TlvError::UnexpectedTag { .. })
        ));

        let tree = parse_tree(&data, DEFAULT_MAX_DEPTH).unwrap();
        assert_eq!(tree.len(), 2);
        assert_eq!(tree[0].children.len(), 2);
        assert!(tree[1].children.is_empty());
        assert_eq!(validate(&data, 2), Ok(()));
        assert_eq!(validate(&data, 1), Err(TlvError::TooDeep { limit: 1 }));
    }

    #[test]
    fn parse_errors() {
        assert_eq!(
            parse_single(&[0x5A, 0x01, 0x00, 0x00]),
            Err(TlvError::TrailingData {
                offset: 3,
                remaining: 1
            })
        );
        assert_eq!(
            parse_single(&[0x5A, 0x02, 0x00]),
            Err(TlvError::Truncated {
                offset: 0,
                part: "value"
            })
        );
        // Trailing garbage after a complete object is refused by parse_all, with its offset.
        assert_eq!(
            parse_all(&[0x5A, 0x01, 0x00, 0x5F]),
            Err(TlvError::Truncated {
                offset: 3,
                part: "tag"
            })
        );
        assert_eq!(
            parse_all(&[0x5A, 0x01, 0x00, 0x4F, 0x80]),
            Err(TlvError::BadLength {
                offset: 4,
                reason: "the indefinite length form is not allowed"
            })
        );
        // The iterator yields one error and then stops.
        let mut it = iter(&[0x5A, 0x05, 0x00]);
        assert!(matches!(it.next(), Some(Err(TlvError::Truncated { .. }))));
        assert!(it.next().is_none());
        // Errors inside nested data carry offsets into the outer buffer.
        assert_eq!(
            validate(&[0x30, 0x03, 0x04, 0x02, 0x00], DEFAULT_MAX_DEPTH),
            Err(TlvError::Truncated {
                offset: 2,
                part: "value"
            })
        );
        // Depth limit.
        let mut deep = vec![0x04, 0x00];
        for _ in 0..20 {
            let mut outer = Vec::new();
            encode_tlv(tag(0x30), &deep, &mut outer).unwrap();
            deep = outer;
        }
        assert_eq!(validate(&deep, 16), Err(TlvError::TooDeep { limit: 16 }));
        assert_eq!(validate(&deep, 21), Ok(()));
        assert_eq!(validate(&deep, 10_000), Ok(()));
        assert!(parse_tree(&deep, 20).is_err());
    }

    #[test]
    fn encoding() {
        let mut out = Vec::new();
        encode_tlv(tag(0x5F37), &[0xAA; 64], &mut out).unwrap();
        assert_eq!(&out[..3], &[0x5F, 0x37, 0x40]);
        let long = vec![0x11; 300];
        let enc = encode_tlv_to_vec(tag(0x7F21), &long).unwrap();
        assert_eq!(&enc[..5], &[0x7F, 0x21, 0x82, 0x01, 0x2C]);
        assert_eq!(enc.len(), encoded_len(tag(0x7F21), 300));
        let back = parse_single(&enc).unwrap();
        assert_eq!(back.value, &long[..]);
        let mut re = Vec::new();
        back.encode(&mut re).unwrap();
        assert_eq!(re, enc);

        let nested: Result<(), TlvError> = encode_constructed(tag(0xA0), &mut out, |inner| {
            encode_tlv(tag(0x80), &[1], inner)?;
            encode_tlv(tag(0x81), &[2, 3], inner)
        });
        nested.unwrap();
        assert_eq!(
            &out[out.len() - 9..],
            &[0xA0, 0x07, 0x80, 0x01, 0x01, 0x81, 0x02, 0x02, 0x03]
        );
    }
}
