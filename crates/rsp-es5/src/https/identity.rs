//! The SCP81 PSK-TLS identity (SGP.02 §2.4.4, Table 4), the PSK itself, the key store trait, and the
//! GP Amendment B header values that name the card (`X-Admin-From`) and an application
//! (`X-Admin-Targeted-Application`).

use std::collections::HashMap;
use std::fmt;
use std::sync::RwLock;

use rsp_types::tlv;
use rsp_types::{Aid, Eid};
use zeroize::Zeroizing;

/// Tag `80`: format identifier.
const TAG_FORMAT: u32 = 0x80;
/// Tag `81`: EID (16 bytes, BCD).
const TAG_EID: u32 = 0x81;
/// Tag `4F`: ISD-R AID.
const TAG_ISD_R_AID: u32 = 0x4F;
/// Tag `82`: key identifier.
const TAG_KEY_ID: u32 = 0x82;
/// Tag `83`: key version.
const TAG_KEY_VERSION: u32 = 0x83;

/// Format identifier `02`: fully qualified identity of a random PSK.
pub const PSK_IDENTITY_FORMAT_RANDOM: u8 = 0x02;
/// Key versions reserved for SCP81 key sets (`0x40`..=`0x4F`).
pub const SCP81_KEY_VERSIONS: std::ops::RangeInclusive<u8> = 0x40..=0x4F;
/// Longest identity text accepted (a well-formed one is 90 characters).
const MAX_IDENTITY_TEXT: usize = 256;

/// Why a PSK identity was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PskIdentityError {
    /// Longer than any valid identity.
    #[error("PSK identity is too long ({0} bytes)")]
    TooLong(usize),
    /// Not hex text.
    #[error("PSK identity is not hex text")]
    NotHex,
    /// The TLV list is malformed.
    #[error("PSK identity TLV is malformed: {0}")]
    Tlv(#[from] tlv::TlvError),
    /// A tag appears twice.
    #[error("PSK identity has tag {0:02X} twice")]
    DuplicateTag(u32),
    /// A mandatory tag is absent.
    #[error("PSK identity lacks tag {0:02X}")]
    MissingTag(u32),
    /// Tag `80` is not `02`.
    #[error("PSK identity format {0:02X} is not supported (only 02, random PSK)")]
    UnsupportedFormat(u8),
    /// A one-byte field has another length.
    #[error("PSK identity tag {tag:02X} must be 1 byte, got {len}")]
    BadFieldLength {
        /// The tag.
        tag: u32,
        /// Its length.
        len: usize,
    },
    /// The EID is invalid.
    #[error("PSK identity EID is invalid: {0}")]
    Eid(#[from] rsp_types::EidError),
    /// The ISD-R AID is invalid.
    #[error("PSK identity ISD-R AID is invalid: {0}")]
    Aid(#[from] rsp_types::AidError),
    /// The key version is outside `0x40`..=`0x4F` (only checked when building an identity).
    #[error("key version {0:02X} is not an SCP81 key version (40..4F)")]
    NotScp81KeyVersion(u8),
}

/// The PSK identity of an SCP81 admin session: which card, which ISD-R, which key.
///
/// On the wire it is the TLV list `80 01 02 | 81 10 <EID> | 4F <len> <ISD-R AID> | 82 01 <key id> |
/// 83 01 <key version>` written as upper-case hex text; the text's bytes are the TLS `psk_identity`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct PskIdentity {
    /// The card.
    pub eid: Eid,
    /// The ISD-R's AID.
    pub isd_r_aid: Aid,
    /// The key identifier within the key set.
    pub key_id: u8,
    /// The key set version (`0x40`..=`0x4F`).
    pub key_version: u8,
}

impl PskIdentity {
    /// Builds an identity; the key version must be an SCP81 one (strict on output).
    pub fn new(
        eid: Eid,
        isd_r_aid: Aid,
        key_id: u8,
        key_version: u8,
    ) -> Result<PskIdentity, PskIdentityError> {
        if !SCP81_KEY_VERSIONS.contains(&key_version) {
            return Err(PskIdentityError::NotScp81KeyVersion(key_version));
        }
        Ok(PskIdentity {
            eid,
            isd_r_aid,
            key_id,
            key_version,
        })
    }

    /// The TLV list.
    pub fn to_tlv(&self) -> Vec<u8> {
        let aid = self.isd_r_aid.as_bytes();
        let mut out = Vec::with_capacity(3 + 18 + 2 + aid.len() + 6);
        // Every length here is below 0x80, so the short form applies.
        out.extend_from_slice(&[TAG_FORMAT as u8, 1, PSK_IDENTITY_FORMAT_RANDOM]);
        out.extend_from_slice(&[TAG_EID as u8, 16]);
        out.extend_from_slice(&self.eid.to_bytes());
        out.extend_from_slice(&[TAG_ISD_R_AID as u8, aid.len() as u8]);
        out.extend_from_slice(aid);
        out.extend_from_slice(&[TAG_KEY_ID as u8, 1, self.key_id]);
        out.extend_from_slice(&[TAG_KEY_VERSION as u8, 1, self.key_version]);
        out
    }

    /// The identity text (upper-case hex of the TLV list).
    pub fn to_text(&self) -> String {
        hex::encode_upper(self.to_tlv())
    }

    /// Parses the TLV list. Lenient on input: tags may come in any order, unknown tags are skipped,
    /// and any key version is accepted (the key store decides).
    pub fn from_tlv(bytes: &[u8]) -> Result<PskIdentity, PskIdentityError> {
        let (mut format, mut eid, mut aid, mut key_id, mut key_version) =
            (None, None, None, None, None);
        for object in tlv::iter(bytes) {
            let object = object?;
            let field: &mut Option<&[u8]> = match object.tag.value() {
                TAG_FORMAT => &mut format,
                TAG_EID => &mut eid,
                TAG_ISD_R_AID => &mut aid,
                TAG_KEY_ID => &mut key_id,
                TAG_KEY_VERSION => &mut key_version,
                _ => continue,
            };
            if field.replace(object.value).is_some() {
                return Err(PskIdentityError::DuplicateTag(object.tag.value()));
            }
        }
        let format = one_byte(TAG_FORMAT, format)?;
        if format != PSK_IDENTITY_FORMAT_RANDOM {
            return Err(PskIdentityError::UnsupportedFormat(format));
        }
        let eid = Eid::from_bytes(eid.ok_or(PskIdentityError::MissingTag(TAG_EID))?)?;
        let isd_r_aid = Aid::from_bytes(aid.ok_or(PskIdentityError::MissingTag(TAG_ISD_R_AID))?)?;
        Ok(PskIdentity {
            eid,
            isd_r_aid,
            key_id: one_byte(TAG_KEY_ID, key_id)?,
            key_version: one_byte(TAG_KEY_VERSION, key_version)?,
        })
    }

    /// Parses the TLS `psk_identity` bytes (hex text, either case).
    pub fn parse(identity: &[u8]) -> Result<PskIdentity, PskIdentityError> {
        if identity.len() > MAX_IDENTITY_TEXT {
            return Err(PskIdentityError::TooLong(identity.len()));
        }
        let text = std::str::from_utf8(identity).map_err(|_| PskIdentityError::NotHex)?;
        let bytes = hex::decode(text.trim()).map_err(|_| PskIdentityError::NotHex)?;
        PskIdentity::from_tlv(&bytes)
    }
}

fn one_byte(tag: u32, value: Option<&[u8]>) -> Result<u8, PskIdentityError> {
    match value {
        None => Err(PskIdentityError::MissingTag(tag)),
        Some([b]) => Ok(*b),
        Some(v) => Err(PskIdentityError::BadFieldLength { tag, len: v.len() }),
    }
}

/// Shortest PSK accepted (SGP.02: at least 128 bits of entropy).
pub const PSK_MIN_LEN: usize = 16;
/// Longest PSK accepted.
pub const PSK_MAX_LEN: usize = 64;

/// Why a PSK was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PskError {
    /// Outside 16..=64 bytes.
    #[error("PSK must be {PSK_MIN_LEN} to {PSK_MAX_LEN} bytes, got {0}")]
    WrongLength(usize),
}

/// A pre-shared key from an SCP81 key set; wiped from memory when dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct Psk(Zeroizing<Vec<u8>>);

impl Psk {
    /// Wraps key bytes (16..=64).
    pub fn new(bytes: impl Into<Vec<u8>>) -> Result<Psk, PskError> {
        let bytes = Zeroizing::new(bytes.into());
        if !(PSK_MIN_LEN..=PSK_MAX_LEN).contains(&bytes.len()) {
            return Err(PskError::WrongLength(bytes.len()));
        }
        Ok(Psk(bytes))
    }

    /// The key bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Psk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Psk(<{} bytes>)", self.0.len())
    }
}

/// Where the SM-SR finds SCP81 keys. Called from inside the TLS handshake, so it must answer
/// quickly without blocking on IO (keep the keys in memory, e.g. loaded from the EIS store).
pub trait PskKeyStore: Send + Sync + 'static {
    /// The PSK for the identity's (EID, key version, key id), or `None` to refuse the session.
    fn scp81_psk(&self, identity: &PskIdentity) -> Option<Psk>;
}

/// A [`PskKeyStore`] in memory, keyed by (EID, key version, key id).
#[derive(Debug, Default)]
pub struct InMemoryPskKeyStore {
    keys: RwLock<HashMap<(Eid, u8, u8), Psk>>,
}

impl InMemoryPskKeyStore {
    /// An empty store.
    pub fn new() -> InMemoryPskKeyStore {
        InMemoryPskKeyStore::default()
    }

    /// Adds or replaces a key.
    pub fn insert(&self, eid: Eid, key_version: u8, key_id: u8, psk: Psk) {
        self.keys
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert((eid, key_version, key_id), psk);
    }

    /// Removes a key (e.g. SM-SR change: `FinaliseISDRhandover` deleted the old key set).
    pub fn remove(&self, eid: &Eid, key_version: u8, key_id: u8) -> Option<Psk> {
        self.keys
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&(*eid, key_version, key_id))
    }
}

impl PskKeyStore for InMemoryPskKeyStore {
    fn scp81_psk(&self, identity: &PskIdentity) -> Option<Psk> {
        self.keys
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&(identity.eid, identity.key_version, identity.key_id))
            .cloned()
    }
}

/// Why a GP Amendment B header value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderValueError {
    /// `X-Admin-Targeted-Application` does not start with `//aid/`.
    #[error("targeted application {0:?} is not of the form //aid/<RID>/<PIX>")]
    NotAnAidUri(String),
    /// The AID is invalid.
    #[error("AID in header is invalid: {0}")]
    Aid(#[from] rsp_types::AidError),
    /// The EID in `X-Admin-From` is invalid.
    #[error("EID in X-Admin-From is invalid: {0}")]
    Eid(#[from] rsp_types::EidError),
}

/// Writes an AID as `//aid/<RID>/<PIX>` (upper-case hex; no trailing `/` when the PIX is empty).
pub fn aid_uri(aid: &Aid) -> String {
    format!("//{}", aid_path(aid))
}

/// `aid/<RID>/<PIX>`.
fn aid_path(aid: &Aid) -> String {
    let rid = hex::encode_upper(aid.rid());
    if aid.pix().is_empty() {
        format!("aid/{rid}")
    } else {
        format!("aid/{rid}/{}", hex::encode_upper(aid.pix()))
    }
}

/// Parses `//aid/<RID>/<PIX>`. Lenient: any case, white space around, the `/` between RID and PIX
/// optional.
pub fn parse_aid_uri(value: &str) -> Result<Aid, HeaderValueError> {
    let v = value.trim();
    let rest = strip_prefix_ignore_case(v, "//aid/")
        .ok_or_else(|| HeaderValueError::NotAnAidUri(v.chars().take(64).collect()))?;
    let hex_text: String = rest.chars().filter(|&c| c != '/').collect();
    Ok(hex_text.parse::<Aid>()?)
}

fn strip_prefix_ignore_case<'a>(value: &'a str, prefix: &str) -> Option<&'a str> {
    let head = value.get(..prefix.len())?;
    if head.eq_ignore_ascii_case(prefix) {
        value.get(prefix.len()..)
    } else {
        None
    }
}

/// The parts of `X-Admin-From` that rsp uses.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct AdminFrom {
    /// From `//se-id/eid/<EID>`.
    pub eid: Option<Eid>,
    /// From `//aa-id/aid/<RID>/<PIX>` (the admin agent, the ISD-R).
    pub agent_aid: Option<Aid>,
}

impl AdminFrom {
    /// Writes `//se-id/eid/<EID>;//aa-id/aid/<RID>/<PIX>`.
    pub fn header_value(eid: &Eid, isd_r_aid: &Aid) -> String {
        format!("//se-id/eid/{eid};//aa-id/{}", aid_path(isd_r_aid))
    }

    /// Parses the header: `;`-separated parts in any order; unknown parts are ignored.
    pub fn parse(value: &str) -> Result<AdminFrom, HeaderValueError> {
        let mut out = AdminFrom::default();
        for part in value.split(';').map(str::trim) {
            if let Some(eid) = strip_prefix_ignore_case(part, "//se-id/eid/") {
                out.eid = Some(Eid::parse_relaxed(eid.trim())?);
            } else if let Some(aid) = strip_prefix_ignore_case(part, "//aa-id/") {
                out.agent_aid = Some(parse_aid_uri(&format!("//{aid}"))?);
            }
        }
        Ok(out)
    }
}
