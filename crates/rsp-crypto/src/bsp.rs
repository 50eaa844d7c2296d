//! SGP.22 BSP: the protection of a Bound Profile Package (SGP.22 §2.6.4, formerly SCP03t).
//!
//! - Key derivation ([`derive_session_keys`]): ANSI X9.63 KDF with SHA-256 over the ECKA shared
//!   secret ShS (otSK.EUICC.ECKA / otPK.DP.ECKA) with
//!   `SharedInfo = keyType ‖ keyLength ‖ L ‖ hostId ‖ L ‖ EID` (lengths BER, EID the 16-byte binary
//!   EID); the 48 output bytes are initial MAC chaining value ‖ S-ENC ‖ S-MAC.
//! - Segments: `86`/`87` encrypted and MACed, `88` MAC only. For each segment the block counter
//!   advances by one (also for MAC-only segments, starting at 1); encrypted data is
//!   AES-CBC(S-ENC, ICV = AES(S-ENC, counter as 16 bytes), data ‖ `80 00..`); the C-MAC is the 8
//!   leftmost bytes of AES-CMAC(S-MAC, MAC chaining value ‖ tag ‖ final length ‖ data'), and the full
//!   CMAC is the next chaining value. A segment is at most 1020 bytes (tag, length, data, MAC), so
//!   1007 plaintext bytes encrypted or 1008 MAC-only.
//! - `ReplaceSessionKeys` (`BF26`, sent in the second sequence of `87`) switches both sides to the
//!   PPK-ENC / PPK-MAC keys with its initial MAC chaining value and restarts the block counter.
//!
//! AES-CBC + AES-CMAC, not AES-GCM (C-23). Key type `88` (AES), key length `10` (C-22), checked
//! against a third-party SM-DP+ trace (see `tests/kat_bsp.rs`).

use std::fmt;

use thiserror::Error;
use zeroize::Zeroizing;

use crate::aes::{AesError, AesKey, BLOCK_LEN, Block, ct_eq, padded_len, unpad_m2};
use crate::kdf::{KdfError, x963_kdf_sha256};
use crate::scp03t::{push_ber_len, read_tlv};

/// Tag of profile element segments (`sequenceOf86`): encrypted and MACed.
pub const TAG_PROFILE_ELEMENTS: u8 = 0x86;
/// Tag of ConfigureISDP and ReplaceSessionKeys segments (`firstSequenceOf87`,
/// `secondSequenceOf87`): encrypted and MACed.
pub const TAG_ENCRYPTED: u8 = 0x87;
/// Tag of StoreMetadata segments (`sequenceOf88`): MAC only.
pub const TAG_MAC_ONLY: u8 = 0x88;
/// KDF key type for AES (CRT `keyType`).
pub const KEY_TYPE_AES: u8 = 0x88;
/// KDF key length for AES-128 (CRT `keyLen`).
pub const KEY_LENGTH_AES128: u8 = 0x10;
/// Length of S-ENC, S-MAC and the MAC chaining value.
pub const KEY_LEN: usize = 16;
/// Length of the transmitted C-MAC.
pub const MAC_LEN: usize = 8;
/// Largest segment TLV (tag, length, data and C-MAC).
pub const MAX_SEGMENT_TLV_LEN: usize = 1020;
/// Largest plaintext per encrypted segment.
pub const MAX_ENCRYPTED_PAYLOAD: usize = 1007;
/// Largest plaintext per MAC-only segment.
pub const MAX_MAC_ONLY_PAYLOAD: usize = 1008;
/// Tag of `ReplaceSessionKeysRequest` (`[38]`, constructed, context class).
pub const TAG_REPLACE_SESSION_KEYS: [u8; 2] = [0xBF, 0x26];

/// Errors of BSP key derivation and segment protection.
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
pub enum BspError {
    /// The KDF refused its input.
    #[error("KDF: {0}")]
    Kdf(#[from] KdfError),
    /// An AES operation failed.
    #[error("AES: {0}")]
    Aes(AesError),
    /// Only AES-128 (`keyLen` = 16) is defined for BSP here.
    #[error("unsupported BSP key length {0}")]
    UnsupportedKeyLength(u8),
    /// A SharedInfo field is too long.
    #[error("SharedInfo field `{field}` is {len} bytes long")]
    FieldTooLong {
        /// Which field.
        field: &'static str,
        /// Its length.
        len: usize,
    },
    /// Nothing to protect.
    #[error("empty payload")]
    EmptyPayload,
    /// A single segment's plaintext is too long.
    #[error("segment payload of {len} bytes exceeds {max}")]
    PayloadTooLong {
        /// Given length.
        len: usize,
        /// Maximum for this tag.
        max: usize,
    },
    /// A tag that is not `86`, `87` or `88`, or not the one expected.
    #[error("unexpected BSP tag {0:#04x}")]
    UnexpectedTag(u8),
    /// The segment is not a well-formed TLV of the expected shape.
    #[error("malformed BSP segment: {0}")]
    Malformed(&'static str),
    /// The C-MAC does not verify.
    #[error("BSP C-MAC mismatch")]
    MacMismatch,
    /// Decrypted data lacks `80 00..` padding.
    #[error("bad padding in decrypted BSP segment")]
    BadPadding,
    /// The block counter has no further value.
    #[error("BSP block counter exhausted")]
    CounterExhausted,
    /// A previous segment was refused; the receiver accepts nothing more.
    #[error("BSP processing aborted after an earlier failure")]
    Aborted,
    /// `ReplaceSessionKeysRequest` is malformed.
    #[error("malformed ReplaceSessionKeysRequest: {0}")]
    MalformedReplaceSessionKeys(&'static str),
}

impl From<AesError> for BspError {
    fn from(e: AesError) -> Self {
        match e {
            AesError::BadPadding => Self::BadPadding,
            other => Self::Aes(other),
        }
    }
}

impl BspError {
    /// The SGP.22 `ErrorReason` for a failure while loading a BPP: `bspSecurityError` (8, v2
    /// `scp03tSecurityError`) for MAC and padding failures, `bspStructureError` (7) otherwise.
    pub fn error_reason(&self) -> u8 {
        match self {
            Self::MacMismatch | Self::BadPadding | Self::Aborted => 8,
            _ => 7,
        }
    }
}

/// BSP session keys: S-ENC, S-MAC and the initial MAC chaining value.
#[derive(Clone)]
pub struct BspKeys {
    /// S-ENC (or PPK-ENC).
    pub s_enc: Zeroizing<[u8; KEY_LEN]>,
    /// S-MAC (or PPK-MAC).
    pub s_mac: Zeroizing<[u8; KEY_LEN]>,
    /// Initial MAC chaining value.
    pub initial_mcv: [u8; KEY_LEN],
}

impl fmt::Debug for BspKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BspKeys(..)")
    }
}

fn push_lv(out: &mut Vec<u8>, field: &'static str, value: &[u8]) -> Result<(), BspError> {
    if value.len() > 0xFFFF {
        return Err(BspError::FieldTooLong {
            field,
            len: value.len(),
        });
    }
    push_ber_len(out, value.len());
    out.extend_from_slice(value);
    Ok(())
}

/// The BSP SharedInfo: `keyType ‖ keyLength ‖ L(hostId) ‖ hostId ‖ L(EID) ‖ EID`.
pub fn bsp_shared_info(
    key_type: u8,
    key_length: u8,
    host_id: &[u8],
    eid: &[u8],
) -> Result<Vec<u8>, BspError> {
    let mut out = Vec::with_capacity(6 + host_id.len() + eid.len());
    out.extend_from_slice(&[key_type, key_length]);
    push_lv(&mut out, "hostId", host_id)?;
    push_lv(&mut out, "EID", eid)?;
    Ok(out)
}

/// Derives the BSP session keys from the shared secret ShS, the CRT `keyType` / `keyLen`, the
/// `hostId` of the CRT and the EID (16 bytes binary).
pub fn derive_session_keys(
    shared_secret: &[u8],
    key_type: u8,
    key_length: u8,
    host_id: &[u8],
    eid: &[u8],
) -> Result<BspKeys, BspError> {
    if usize::from(key_length) != KEY_LEN {
        return Err(BspError::UnsupportedKeyLength(key_length));
    }
    let info = bsp_shared_info(key_type, key_length, host_id, eid)?;
    let mut data = Zeroizing::new([0u8; 3 * KEY_LEN]);
    x963_kdf_sha256(shared_secret, &info, data.as_mut_slice())?;
    let mut keys = BspKeys {
        s_enc: Zeroizing::new([0u8; KEY_LEN]),
        s_mac: Zeroizing::new([0u8; KEY_LEN]),
        initial_mcv: [0u8; KEY_LEN],
    };
    keys.initial_mcv.copy_from_slice(&data[..KEY_LEN]);
    keys.s_enc.copy_from_slice(&data[KEY_LEN..2 * KEY_LEN]);
    keys.s_mac.copy_from_slice(&data[2 * KEY_LEN..]);
    Ok(keys)
}

/// `ReplaceSessionKeysRequest ::= [38] SEQUENCE { initialMacChainingValue [0] OCTET STRING,
/// ppkEnc [1] OCTET STRING, ppkCmac [2] OCTET STRING }`.
#[derive(Clone)]
pub struct ReplaceSessionKeys {
    /// The PPK key set (PPK-ENC, PPK-MAC, initial MAC chaining value).
    pub keys: BspKeys,
}

impl fmt::Debug for ReplaceSessionKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ReplaceSessionKeys(..)")
    }
}

impl ReplaceSessionKeys {
    /// DER: `BF26 36 80 10 <mcv> 81 10 <ppkEnc> 82 10 <ppkCmac>`.
    pub fn encode(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(3 + 3 * (2 + KEY_LEN)));
        out.extend_from_slice(&TAG_REPLACE_SESSION_KEYS);
        out.push((3 * (2 + KEY_LEN)) as u8);
        for (tag, value) in [
            (0x80, &self.keys.initial_mcv),
            (0x81, &*self.keys.s_enc),
            (0x82, &*self.keys.s_mac),
        ] {
            out.extend_from_slice(&[tag, KEY_LEN as u8]);
            out.extend_from_slice(value);
        }
        out
    }

    /// Parses the DER encoding; each field must be 16 bytes, in order, nothing else.
    pub fn decode(der: &[u8]) -> Result<Self, BspError> {
        let bad = BspError::MalformedReplaceSessionKeys;
        let body = der
            .strip_prefix(&TAG_REPLACE_SESSION_KEYS)
            .ok_or(bad("tag is not BF26"))?;
        let mut fields = [[0u8; KEY_LEN]; 3];
        let (len, mut rest) = match body.split_first() {
            Some((&l, r)) if l < 0x80 => (usize::from(l), r),
            Some((0x81, [l, r @ ..])) => (usize::from(*l), r),
            _ => return Err(bad("bad length")),
        };
        if rest.len() != len {
            return Err(bad("length does not match the content"));
        }
        for (i, field) in fields.iter_mut().enumerate() {
            let tlv = read_tlv(rest).map_err(bad)?;
            if usize::from(tlv.tag) != 0x80 + i {
                return Err(bad("fields out of order or unknown"));
            }
            *field = tlv
                .value
                .try_into()
                .map_err(|_| bad("field is not 16 bytes"))?;
            rest = tlv.rest;
        }
        if !rest.is_empty() {
            return Err(bad("trailing data"));
        }
        let [mcv, enc, mac] = fields;
        Ok(Self {
            keys: BspKeys {
                s_enc: Zeroizing::new(enc),
                s_mac: Zeroizing::new(mac),
                initial_mcv: mcv,
            },
        })
    }
}

/// The chaining state shared by both sides.
#[derive(Clone)]
struct Chain {
    enc: AesKey,
    mac: AesKey,
    mcv: Block,
    counter: u64,
}

impl Chain {
    fn new(keys: &BspKeys) -> Result<Self, BspError> {
        Ok(Self {
            enc: AesKey::new(&*keys.s_enc)?,
            mac: AesKey::new(&*keys.s_mac)?,
            mcv: keys.initial_mcv,
            counter: 0,
        })
    }

    fn next_counter(&self) -> Result<u64, BspError> {
        self.counter
            .checked_add(1)
            .ok_or(BspError::CounterExhausted)
    }

    fn icv(&self, counter: u64) -> Block {
        let mut block = [0u8; BLOCK_LEN];
        block[8..].copy_from_slice(&counter.to_be_bytes());
        self.enc.encrypt_block(&mut block);
        block
    }
}

fn max_payload(tag: u8) -> Result<usize, BspError> {
    match tag {
        TAG_PROFILE_ELEMENTS | TAG_ENCRYPTED => Ok(MAX_ENCRYPTED_PAYLOAD),
        TAG_MAC_ONLY => Ok(MAX_MAC_ONLY_PAYLOAD),
        other => Err(BspError::UnexpectedTag(other)),
    }
}

/// SM-DP+ side: protects BPP segments.
#[derive(Clone)]
pub struct BspSender {
    chain: Chain,
}

impl fmt::Debug for BspSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BspSender(counter {})", self.chain.counter)
    }
}

impl BspSender {
    /// Starts with the session keys from [`derive_session_keys`].
    pub fn new(keys: &BspKeys) -> Result<Self, BspError> {
        Ok(Self {
            chain: Chain::new(keys)?,
        })
    }

    /// Switches to the PPKs of a `ReplaceSessionKeys` request (after protecting the request itself
    /// under the current keys): new keys, MAC chaining value from the request, counter restarted.
    pub fn replace_session_keys(&mut self, keys: &BspKeys) -> Result<(), BspError> {
        self.chain = Chain::new(keys)?;
        Ok(())
    }

    /// One encrypted and MACed segment (`86` or `87`) of 1 to 1007 plaintext bytes.
    pub fn encrypt_segment(&mut self, tag: u8, payload: &[u8]) -> Result<Vec<u8>, BspError> {
        self.segment(tag, payload, true)
    }

    /// One MAC-only segment (`88`) of 1 to 1008 bytes.
    pub fn mac_segment(&mut self, tag: u8, payload: &[u8]) -> Result<Vec<u8>, BspError> {
        self.segment(tag, payload, false)
    }

    /// Encrypts and MACs a payload of any length as consecutive segments of at most 1020 bytes.
    pub fn encrypt_and_mac(&mut self, tag: u8, payload: &[u8]) -> Result<Vec<Vec<u8>>, BspError> {
        self.segments(tag, payload, true)
    }

    /// MACs a payload of any length as consecutive MAC-only segments of at most 1020 bytes.
    pub fn mac_only(&mut self, tag: u8, payload: &[u8]) -> Result<Vec<Vec<u8>>, BspError> {
        self.segments(tag, payload, false)
    }

    fn segments(
        &mut self,
        tag: u8,
        payload: &[u8],
        encrypt: bool,
    ) -> Result<Vec<Vec<u8>>, BspError> {
        if payload.is_empty() {
            return Err(BspError::EmptyPayload);
        }
        let max = max_payload(tag)?;
        payload
            .chunks(max)
            .map(|chunk| self.segment(tag, chunk, encrypt))
            .collect()
    }

    fn segment(&mut self, tag: u8, payload: &[u8], encrypt: bool) -> Result<Vec<u8>, BspError> {
        let max = max_payload(tag)?;
        if encrypt == (tag == TAG_MAC_ONLY) {
            return Err(BspError::UnexpectedTag(tag));
        }
        if payload.is_empty() {
            return Err(BspError::EmptyPayload);
        }
        if payload.len() > max {
            return Err(BspError::PayloadTooLong {
                len: payload.len(),
                max,
            });
        }
        let counter = self.chain.next_counter()?;
        let data_len = if encrypt {
            padded_len(payload.len())
        } else {
            payload.len()
        };
        let mut out = Vec::with_capacity(4 + data_len + MAC_LEN);
        out.push(tag);
        push_ber_len(&mut out, data_len + MAC_LEN);
        let header_len = out.len();
        out.extend_from_slice(payload);
        if encrypt {
            out.push(0x80);
            out.resize(header_len + data_len, 0x00);
        }
        let (header, data) = out.split_at_mut(header_len);
        if encrypt {
            let icv = self.chain.icv(counter);
            self.chain.enc.cbc_encrypt_in_place(&icv, data)?;
        }
        let mcv = self.chain.mac.cmac_parts(&[&self.chain.mcv, header, data]);
        out.extend_from_slice(&mcv[..MAC_LEN]);
        self.chain.mcv = mcv;
        self.chain.counter = counter;
        Ok(out)
    }
}

/// eUICC side: verifies and decrypts BPP segments in order.
///
/// Any failure aborts the receiver (every later call returns [`BspError::Aborted`]); a refused
/// segment changes neither the MAC chaining value nor the block counter.
#[derive(Clone)]
pub struct BspReceiver {
    chain: Chain,
    aborted: bool,
}

impl fmt::Debug for BspReceiver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "BspReceiver(counter {}, aborted {})",
            self.chain.counter, self.aborted
        )
    }
}

impl BspReceiver {
    /// Starts with the session keys from [`derive_session_keys`].
    pub fn new(keys: &BspKeys) -> Result<Self, BspError> {
        Ok(Self {
            chain: Chain::new(keys)?,
            aborted: false,
        })
    }

    /// Switches to the PPKs of a verified `ReplaceSessionKeys` request.
    pub fn replace_session_keys(&mut self, keys: &BspKeys) -> Result<(), BspError> {
        if self.aborted {
            return Err(BspError::Aborted);
        }
        self.chain = Chain::new(keys)?;
        Ok(())
    }

    /// Whether an earlier failure aborted processing.
    pub fn is_aborted(&self) -> bool {
        self.aborted
    }

    /// Verifies one segment TLV of any BSP tag and returns the tag and the plaintext.
    pub fn open(&mut self, tlv: &[u8]) -> Result<(u8, Vec<u8>), BspError> {
        if self.aborted {
            return Err(BspError::Aborted);
        }
        match self.open_inner(None, tlv) {
            Ok(r) => Ok(r),
            Err(e) => {
                self.aborted = true;
                Err(e)
            }
        }
    }

    /// Verifies one segment that must carry `expected_tag` and returns its plaintext.
    pub fn open_expecting(&mut self, expected_tag: u8, tlv: &[u8]) -> Result<Vec<u8>, BspError> {
        if self.aborted {
            return Err(BspError::Aborted);
        }
        match self.open_inner(Some(expected_tag), tlv) {
            Ok((_, plain)) => Ok(plain),
            Err(e) => {
                self.aborted = true;
                Err(e)
            }
        }
    }

    /// Verifies and decrypts consecutive segments of one sequence and concatenates the plaintext.
    pub fn open_all<'a>(
        &mut self,
        expected_tag: u8,
        segments: impl IntoIterator<Item = &'a [u8]>,
    ) -> Result<Vec<u8>, BspError> {
        let mut out = Vec::new();
        for segment in segments {
            out.extend_from_slice(&self.open_expecting(expected_tag, segment)?);
        }
        Ok(out)
    }

    fn open_inner(
        &mut self,
        expected: Option<u8>,
        input: &[u8],
    ) -> Result<(u8, Vec<u8>), BspError> {
        let tlv = read_tlv(input).map_err(BspError::Malformed)?;
        if !tlv.rest.is_empty() {
            return Err(BspError::Malformed("trailing bytes after the segment"));
        }
        max_payload(tlv.tag)?;
        if expected.is_some_and(|t| t != tlv.tag) {
            return Err(BspError::UnexpectedTag(tlv.tag));
        }
        if tlv.header.len() + tlv.value.len() > MAX_SEGMENT_TLV_LEN {
            return Err(BspError::Malformed("segment longer than 1020 bytes"));
        }
        let (data, mac) = tlv
            .value
            .split_at_checked(tlv.value.len().wrapping_sub(MAC_LEN))
            .ok_or(BspError::Malformed("segment shorter than its C-MAC"))?;
        let encrypted = tlv.tag != TAG_MAC_ONLY;
        if encrypted && (data.is_empty() || !data.len().is_multiple_of(BLOCK_LEN)) {
            return Err(BspError::Malformed("ciphertext is not whole AES blocks"));
        }
        let mcv = self
            .chain
            .mac
            .cmac_parts(&[&self.chain.mcv, tlv.header, data]);
        if !ct_eq(&mcv[..MAC_LEN], mac) {
            return Err(BspError::MacMismatch);
        }
        let counter = self.chain.next_counter()?;
        let mut plain = data.to_vec();
        if encrypted {
            let icv = self.chain.icv(counter);
            self.chain.enc.cbc_decrypt_in_place(&icv, &mut plain)?;
            let len = unpad_m2(&plain)?.len();
            plain.truncate(len);
        }
        self.chain.mcv = mcv;
        self.chain.counter = counter;
        Ok((tlv.tag, plain))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_info_layout() {
        assert_eq!(
            bsp_shared_info(0x88, 0x10, &[0xAA, 0xBB], &[0xCC]).unwrap(),
            [0x88, 0x10, 0x02, 0xAA, 0xBB, 0x01, 0xCC]
        );
        assert!(derive_session_keys(&[1; 32], 0x88, 0x20, b"h", b"e").is_err());
    }

    #[test]
    fn tag_rules() {
        let keys = derive_session_keys(&[1; 32], 0x88, 0x10, b"h", &[0x89; 16]).unwrap();
        let mut s = BspSender::new(&keys).unwrap();
        assert_eq!(
            s.encrypt_segment(0x88, b"x"),
            Err(BspError::UnexpectedTag(0x88))
        );
        assert_eq!(
            s.mac_segment(0x86, b"x"),
            Err(BspError::UnexpectedTag(0x86))
        );
        assert_eq!(
            s.encrypt_segment(0x85, b"x"),
            Err(BspError::UnexpectedTag(0x85))
        );
        assert_eq!(s.encrypt_segment(0x86, b""), Err(BspError::EmptyPayload));
        assert_eq!(
            s.encrypt_segment(0x86, &[0; 1008]),
            Err(BspError::PayloadTooLong {
                len: 1008,
                max: 1007
            })
        );
        assert_eq!(
            s.mac_segment(0x88, &[0; 1008]).unwrap().len(),
            MAX_SEGMENT_TLV_LEN
        );
        assert_eq!(
            s.encrypt_segment(0x86, &[0; 1007]).unwrap().len(),
            MAX_SEGMENT_TLV_LEN
        );
    }

    #[test]
    fn replace_session_keys_round_trip() {
        let rsk = ReplaceSessionKeys {
            keys: BspKeys {
                s_enc: Zeroizing::new([1; 16]),
                s_mac: Zeroizing::new([2; 16]),
                initial_mcv: [3; 16],
            },
        };
        let der = rsk.encode();
        let back = ReplaceSessionKeys::decode(&der).unwrap();
        assert_eq!(*back.keys.s_enc, [1; 16]);
        assert_eq!(*back.keys.s_mac, [2; 16]);
        assert_eq!(back.keys.initial_mcv, [3; 16]);
        let mut bad = der.to_vec();
        bad[3] = 0x81;
        assert!(ReplaceSessionKeys::decode(&bad).is_err());
        assert!(ReplaceSessionKeys::decode(&der[..der.len() - 1]).is_err());
    }
}
