//! SCP03t: protection of an SGP.02 profile package on an SCP03 session (SGP.02 §4.1.3.3).
//!
//! The full SCP03t format is not available to the project (U-18); this module fixes one symmetric
//! format, shared by the SM-DP (sender) and the simulated ISD-P (receiver):
//!
//! - The session is an ordinary [`Scp03Session`] opened with INITIALIZE UPDATE / EXTERNAL
//!   AUTHENTICATE APDUs on the Scenario#3 key set (`i = 70`, so the SM-DP can predict the card
//!   challenge, [`crate::scp03::HostHandshake::predict`]). The security level must include
//!   C-DECRYPTION (`03`, `13` or `33`); SGP.02 asks for `33`.
//! - The unprotected profile package is cut into chunks of at most [`MAX_SEGMENT_PAYLOAD`] bytes
//!   (cut anywhere, not at element boundaries). Each chunk becomes one command TLV
//!   `86 L ‖ C ‖ C-MAC`, at most [`MAX_SEGMENT_TLV_LEN`] bytes, where
//!   - the encryption counter advances by one per segment, exactly as for an SCP03 command;
//!   - `C` = AES-CBC(S-ENC, ICV = AES(S-ENC, counter), chunk ‖ `80 00..`);
//!   - C-MAC = the 8 leftmost bytes of AES-CMAC(S-MAC, MAC chaining value ‖ `86` ‖ L ‖ C), and the
//!     full CMAC becomes the next MAC chaining value (`L` exactly as transmitted, BER);
//!
//!   This is the construction of SGP.22 BSP, which descends from SCP03t.
//! - The package ends with a terminator segment: a `86` TLV whose plaintext is empty (one padding
//!   block). Without it the receiver reports [`Scp03tError::Truncated`].
//! - Responses use SCP03 response protection on the same session (R-MAC over MAC chaining value ‖
//!   data ‖ SW, R-ENC with the `80`-prefixed counter ICV), in R-APDU form `data ‖ R-MAC ‖ SW`.
//!
//! The receiver checks each segment's MAC before decrypting, commits nothing from a refused
//! segment, and aborts on the first error: the session is closed, everything after is refused with
//! [`Scp03tError::Aborted`], and only the verified prefix stays readable.

use thiserror::Error;

use crate::aes::{BLOCK_LEN, ct_eq, unpad_m2};
use crate::scp03::{MAC_LEN, ResponseApdu, Role, Scp03Error, Scp03Session};

/// Tag of a protected profile package segment.
pub const SEGMENT_TAG: u8 = 0x86;
/// Largest segment TLV (tag, length, ciphertext and C-MAC), as for SGP.22 BSP.
pub const MAX_SEGMENT_TLV_LEN: usize = 1020;
/// Largest plaintext chunk per segment: `86 82 03 F8` + 1008 bytes ciphertext + 8 bytes C-MAC.
pub const MAX_SEGMENT_PAYLOAD: usize = 1007;
/// Default bound on the reassembled package held by a receiver.
pub const DEFAULT_MAX_PACKAGE_LEN: usize = 4 * 1024 * 1024;

/// Errors of SCP03t protection and verification.
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
pub enum Scp03tError {
    /// Error of the underlying SCP03 session (wrong role, closed, R-MAC failure, ...).
    #[error("SCP03: {0}")]
    Scp03(#[from] Scp03Error),
    /// The session's security level does not include C-DECRYPTION and C-MAC.
    #[error("security level {0:#04x} lacks C-DECRYPTION; SCP03t needs 03, 13 or 33")]
    SecurityLevelTooLow(u8),
    /// An empty chunk was given to the sender (empty plaintext is reserved for the terminator).
    #[error("empty segment payload")]
    EmptySegment,
    /// A chunk larger than [`MAX_SEGMENT_PAYLOAD`] was given to the sender.
    #[error("segment payload of {0} bytes exceeds {MAX_SEGMENT_PAYLOAD}")]
    SegmentTooLong(usize),
    /// A received segment is not a well-formed TLV of the expected shape.
    #[error("malformed segment: {0}")]
    Malformed(&'static str),
    /// A received TLV has another tag than `86`.
    #[error("unexpected tag {0:#04x}, expected 86")]
    UnexpectedTag(u8),
    /// The C-MAC of a segment does not verify (tampered, reordered, replayed or foreign).
    #[error("segment C-MAC mismatch")]
    MacMismatch,
    /// The decrypted segment does not end in `80 00..` padding.
    #[error("bad padding in decrypted segment")]
    BadPadding,
    /// A segment arrived after the terminator, or the sender was used after `finish`.
    #[error("segment after the end of the package")]
    AfterEnd,
    /// The package ended without its terminator segment.
    #[error("package is truncated (no terminator segment)")]
    Truncated,
    /// The reassembled package would exceed the receiver's bound.
    #[error("package exceeds {0} bytes")]
    PackageTooLarge(usize),
    /// An earlier segment was refused; the transfer is aborted.
    #[error("transfer aborted after an earlier failure")]
    Aborted,
}

impl Scp03tError {
    /// The status word a card returns for this error (security errors `6982`, structure `6A80`).
    pub fn status_word(&self) -> u16 {
        match self {
            Self::Scp03(e) => e.status_word(),
            Self::MacMismatch | Self::BadPadding | Self::Aborted => 0x6982,
            Self::SecurityLevelTooLow(_) => 0x6985,
            Self::PackageTooLarge(_) => 0x6A84,
            _ => 0x6A80,
        }
    }
}

/// Appends a BER length (short form, `81 xx`, `82 xx xx` or `83 xx xx xx`).
pub(crate) fn push_ber_len(out: &mut Vec<u8>, len: usize) {
    let bytes = (len as u64).to_be_bytes();
    match len {
        0..=0x7F => out.push(bytes[7]),
        0x80..=0xFF => out.extend_from_slice(&[0x81, bytes[7]]),
        0x100..=0xFFFF => out.extend_from_slice(&[0x82, bytes[6], bytes[7]]),
        _ => out.extend_from_slice(&[0x83, bytes[5], bytes[6], bytes[7]]),
    }
}

/// One parsed TLV with a single-byte tag.
pub(crate) struct RawTlv<'a> {
    pub tag: u8,
    /// Tag and length bytes as received.
    pub header: &'a [u8],
    pub value: &'a [u8],
    pub rest: &'a [u8],
}

/// Reads one TLV with a single-byte tag and a BER length of up to 3 bytes.
pub(crate) fn read_tlv(input: &[u8]) -> Result<RawTlv<'_>, &'static str> {
    let (&tag, after_tag) = input.split_first().ok_or("empty input")?;
    if tag & 0x1F == 0x1F {
        return Err("multi-byte tag");
    }
    let (&first, after_len) = after_tag.split_first().ok_or("missing length")?;
    let (len, len_bytes) = match first {
        0..=0x7F => (usize::from(first), 0),
        0x81..=0x83 => {
            let n = usize::from(first & 0x7F);
            let bytes = after_len.get(..n).ok_or("truncated length")?;
            (
                bytes
                    .iter()
                    .fold(0usize, |acc, b| (acc << 8) | usize::from(*b)),
                n,
            )
        }
        _ => return Err("unsupported length form"),
    };
    let header_len = 2 + len_bytes;
    let end = header_len.checked_add(len).ok_or("length overflow")?;
    let header = input.get(..header_len).ok_or("truncated header")?;
    let value = input
        .get(header_len..end)
        .ok_or("value shorter than its length")?;
    let rest = input.get(end..).unwrap_or_default();
    Ok(RawTlv {
        tag,
        header,
        value,
        rest,
    })
}

/// Splits a byte stream of concatenated segment TLVs into single TLVs (no verification).
pub fn split_segments(stream: &[u8]) -> Result<Vec<&[u8]>, Scp03tError> {
    let mut out = Vec::new();
    let mut rest = stream;
    while !rest.is_empty() {
        let tlv = read_tlv(rest).map_err(Scp03tError::Malformed)?;
        let used = tlv.header.len() + tlv.value.len();
        out.push(rest.get(..used).ok_or(Scp03tError::Malformed("length"))?);
        rest = tlv.rest;
    }
    Ok(out)
}

fn check_session(session: &Scp03Session, role: Role) -> Result<(), Scp03tError> {
    session.check(role)?;
    let level = session.security_level();
    if !(level.c_dec() && level.c_mac()) {
        return Err(Scp03tError::SecurityLevelTooLow(level.byte()));
    }
    Ok(())
}

/// SM-DP side: turns an unprotected profile package into protected `86` segments.
#[derive(Debug)]
pub struct Scp03tSender {
    session: Scp03Session,
    segments: u32,
    finished: bool,
}

impl Scp03tSender {
    /// Takes an open host session with C-DECRYPTION.
    pub fn new(session: Scp03Session) -> Result<Self, Scp03tError> {
        check_session(&session, Role::Host)?;
        Ok(Self {
            session,
            segments: 0,
            finished: false,
        })
    }

    /// Protects one chunk of 1 to [`MAX_SEGMENT_PAYLOAD`] bytes into a `86` TLV.
    pub fn protect_segment(&mut self, payload: &[u8]) -> Result<Vec<u8>, Scp03tError> {
        if payload.is_empty() {
            return Err(Scp03tError::EmptySegment);
        }
        self.seal(payload)
    }

    /// Emits the terminator segment; the sender accepts nothing afterwards.
    pub fn finish(&mut self) -> Result<Vec<u8>, Scp03tError> {
        let tlv = self.seal(&[])?;
        self.finished = true;
        Ok(tlv)
    }

    /// Protects a whole package: its segments followed by the terminator.
    pub fn protect_package(&mut self, package: &[u8]) -> Result<Vec<Vec<u8>>, Scp03tError> {
        let mut out = Vec::with_capacity(package.len() / MAX_SEGMENT_PAYLOAD + 2);
        for chunk in package.chunks(MAX_SEGMENT_PAYLOAD) {
            out.push(self.protect_segment(chunk)?);
        }
        out.push(self.finish()?);
        Ok(out)
    }

    /// Number of segments emitted (terminator included).
    pub fn segments_sent(&self) -> u32 {
        self.segments
    }

    /// Verifies and decrypts a response (`data ‖ R-MAC ‖ SW`) to the last segment.
    pub fn unwrap_response(&mut self, rapdu: &[u8]) -> Result<ResponseApdu, Scp03tError> {
        Ok(self.session.unwrap_response(rapdu)?)
    }

    /// The underlying session.
    pub fn session(&self) -> &Scp03Session {
        &self.session
    }

    /// Gives the session back (e.g. to send further SCP03 commands).
    pub fn into_session(self) -> Scp03Session {
        self.session
    }

    fn seal(&mut self, payload: &[u8]) -> Result<Vec<u8>, Scp03tError> {
        if self.finished {
            return Err(Scp03tError::AfterEnd);
        }
        if payload.len() > MAX_SEGMENT_PAYLOAD {
            return Err(Scp03tError::SegmentTooLong(payload.len()));
        }
        check_session(&self.session, Role::Host)?;
        let counter = self.session.next_counter()?;
        let ciphertext_len = crate::aes::padded_len(payload.len());
        let value_len = ciphertext_len + MAC_LEN;
        let mut out = Vec::with_capacity(4 + value_len);
        out.push(SEGMENT_TAG);
        push_ber_len(&mut out, value_len);
        let header_len = out.len();
        out.extend_from_slice(payload);
        out.push(0x80);
        out.resize(header_len + ciphertext_len, 0x00);
        let icv = self.session.icv(counter, false);
        let keys = self.session.keys();
        let (header, body) = out.split_at_mut(header_len);
        keys.s_enc
            .cbc_encrypt_in_place(&icv, body)
            .map_err(Scp03Error::from)?;
        let mcv = keys
            .s_mac
            .cmac_parts(&[self.session.mac_chaining_value(), header, body]);
        out.extend_from_slice(mcv.get(..MAC_LEN).unwrap_or_default());
        self.session.advance(counter, mcv);
        self.segments = self.segments.saturating_add(1);
        Ok(out)
    }
}

/// What [`Scp03tReceiver::accept`] did with a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepted {
    /// A data segment was verified; its plaintext (this many bytes) was appended.
    Segment(usize),
    /// The terminator was verified; the package is complete.
    End,
}

/// State of a receiver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReceiverState {
    /// Accepting segments.
    Receiving,
    /// The terminator was verified.
    Complete,
    /// A segment was refused; nothing more is accepted.
    Aborted(Scp03tError),
}

/// ISD-P side: verifies segments in order, decrypts and reassembles the package.
#[derive(Debug)]
pub struct Scp03tReceiver {
    session: Scp03Session,
    state: ReceiverState,
    package: Vec<u8>,
    segments: u32,
    max_package_len: usize,
}

impl Scp03tReceiver {
    /// Takes an open card session with C-DECRYPTION.
    pub fn new(session: Scp03Session) -> Result<Self, Scp03tError> {
        check_session(&session, Role::Card)?;
        Ok(Self {
            session,
            state: ReceiverState::Receiving,
            package: Vec::new(),
            segments: 0,
            max_package_len: DEFAULT_MAX_PACKAGE_LEN,
        })
    }

    /// Sets the bound on the reassembled package (default [`DEFAULT_MAX_PACKAGE_LEN`]).
    pub fn with_max_package_len(mut self, limit: usize) -> Self {
        self.max_package_len = limit;
        self
    }

    /// Verifies one segment TLV (exactly one, no trailing bytes) and appends its plaintext.
    ///
    /// On any error the transfer is aborted: the session is closed and the state keeps only the
    /// segments verified before.
    pub fn accept(&mut self, tlv: &[u8]) -> Result<Accepted, Scp03tError> {
        match self.state {
            ReceiverState::Receiving => {}
            ReceiverState::Complete => return self.abort(Scp03tError::AfterEnd),
            ReceiverState::Aborted(_) => return Err(Scp03tError::Aborted),
        }
        match self.open(tlv) {
            Ok(accepted) => Ok(accepted),
            Err(e) => self.abort(e),
        }
    }

    /// Accepts every segment of a concatenated stream, in order; stops at the first error.
    pub fn accept_stream(&mut self, stream: &[u8]) -> Result<Option<Accepted>, Scp03tError> {
        let segments = match split_segments(stream) {
            Ok(s) => s,
            Err(e) => return self.abort(e),
        };
        let mut last = None;
        for segment in segments {
            last = Some(self.accept(segment)?);
        }
        Ok(last)
    }

    fn abort<T>(&mut self, e: Scp03tError) -> Result<T, Scp03tError> {
        self.state = ReceiverState::Aborted(e);
        self.session.close();
        Err(e)
    }

    fn open(&mut self, input: &[u8]) -> Result<Accepted, Scp03tError> {
        let tlv = read_tlv(input).map_err(Scp03tError::Malformed)?;
        if !tlv.rest.is_empty() {
            return Err(Scp03tError::Malformed("trailing bytes after the segment"));
        }
        if tlv.tag != SEGMENT_TAG {
            return Err(Scp03tError::UnexpectedTag(tlv.tag));
        }
        let (ciphertext, mac) = tlv
            .value
            .split_at_checked(tlv.value.len().wrapping_sub(MAC_LEN))
            .ok_or(Scp03tError::Malformed("segment shorter than its C-MAC"))?;
        if ciphertext.is_empty() || !ciphertext.len().is_multiple_of(BLOCK_LEN) {
            return Err(Scp03tError::Malformed("ciphertext is not whole AES blocks"));
        }
        if tlv.header.len() + tlv.value.len() > MAX_SEGMENT_TLV_LEN {
            return Err(Scp03tError::Malformed("segment longer than 1020 bytes"));
        }
        let keys = self.session.keys();
        let mcv =
            keys.s_mac
                .cmac_parts(&[self.session.mac_chaining_value(), tlv.header, ciphertext]);
        if !ct_eq(mcv.get(..MAC_LEN).unwrap_or_default(), mac) {
            return Err(Scp03tError::MacMismatch);
        }
        let counter = self.session.next_counter()?;
        let icv = self.session.icv(counter, false);
        let mut plain = ciphertext.to_vec();
        keys.s_enc
            .cbc_decrypt_in_place(&icv, &mut plain)
            .map_err(Scp03Error::from)?;
        let plain_len = unpad_m2(&plain).map_err(|_| Scp03tError::BadPadding)?.len();
        plain.truncate(plain_len);
        if self.package.len() + plain_len > self.max_package_len {
            return Err(Scp03tError::PackageTooLarge(self.max_package_len));
        }
        // Everything verified: commit.
        self.session.advance(counter, mcv);
        self.segments = self.segments.saturating_add(1);
        if plain.is_empty() {
            self.state = ReceiverState::Complete;
            return Ok(Accepted::End);
        }
        self.package.extend_from_slice(&plain);
        Ok(Accepted::Segment(plain_len))
    }

    /// Protects the response to the last segment (R-APDU form). After an abort, answer the plain
    /// status word of the error instead ([`Scp03tError::status_word`]).
    pub fn wrap_response(&mut self, data: &[u8], sw: u16) -> Result<Vec<u8>, Scp03tError> {
        Ok(self.session.wrap_response(data, sw)?)
    }

    /// The receiver's state.
    pub fn state(&self) -> ReceiverState {
        self.state
    }

    /// Whether the terminator was verified.
    pub fn is_complete(&self) -> bool {
        self.state == ReceiverState::Complete
    }

    /// Number of verified segments (terminator included).
    pub fn accepted_segments(&self) -> u32 {
        self.segments
    }

    /// The plaintext verified so far (the whole package once complete).
    pub fn received(&self) -> &[u8] {
        &self.package
    }

    /// The underlying session.
    pub fn session(&self) -> &Scp03Session {
        &self.session
    }

    /// The reassembled package; fails unless the terminator was verified.
    pub fn into_package(self) -> Result<Vec<u8>, Scp03tError> {
        match self.state {
            ReceiverState::Complete => Ok(self.package),
            ReceiverState::Receiving => Err(Scp03tError::Truncated),
            ReceiverState::Aborted(_) => Err(Scp03tError::Aborted),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ber_lengths() {
        for (len, enc) in [
            (0usize, vec![0x00]),
            (0x7F, vec![0x7F]),
            (0x80, vec![0x81, 0x80]),
            (0xFF, vec![0x81, 0xFF]),
            (0x3F8, vec![0x82, 0x03, 0xF8]),
            (0x10000, vec![0x83, 0x01, 0x00, 0x00]),
        ] {
            let mut v = Vec::new();
            push_ber_len(&mut v, len);
            assert_eq!(v, enc);
        }
    }

    #[test]
    fn tlv_reader() {
        let t = read_tlv(&[0x86, 0x81, 0x02, 1, 2, 9]).unwrap();
        assert_eq!(
            (t.tag, t.header, t.value, t.rest),
            (0x86, &[0x86, 0x81, 0x02][..], &[1, 2][..], &[9][..])
        );
        assert!(read_tlv(&[0x86, 0x03, 1]).is_err());
        assert!(read_tlv(&[0x9F, 0x01, 0x00]).is_err());
        assert!(read_tlv(&[0x86, 0x84, 0, 0, 0, 1, 0]).is_err());
        assert!(read_tlv(&[0x86]).is_err());
        assert_eq!(
            split_segments(&[0x86, 0x01, 7, 0x86, 0x00]).unwrap().len(),
            2
        );
    }

    #[test]
    fn max_payload_fills_max_tlv() {
        let ct = crate::aes::padded_len(MAX_SEGMENT_PAYLOAD);
        let mut v = Vec::new();
        push_ber_len(&mut v, ct + MAC_LEN);
        assert_eq!(1 + v.len() + ct + MAC_LEN, MAX_SEGMENT_TLV_LEN);
        assert!(
            1 + v.len() + crate::aes::padded_len(MAX_SEGMENT_PAYLOAD + 1) + MAC_LEN
                > MAX_SEGMENT_TLV_LEN
        );
    }
}
