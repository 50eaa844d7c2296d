//! Typed response data of the SGP.02 card commands: what a card returns before `9000`.
//!
//! | command | response data |
//! |---|---|
//! | GET STATUS (`80 F2 40 02`) | one `E3 { 4F AID, 9F70 life-cycle, 53 properties, 8F allocated memory }` per ISD-P ([`IsdPStatus`]) |
//! | GET DATA `5A` | `5A 10 <EID BCD>` ([`encode_eid`] / [`parse_eid`]) |
//! | GET DATA `BF30` | `BF30 { 7F21 … }` ([`encode_ecasd_certificate`] / [`parse_ecasd_certificate`]) |
//! | GET DATA `FF21` | `FF21 { 81 apps, 82 free NVM, 83 free RAM }` ([`CardResources`]) |
//! | STORE DATA `3A01` | `85 <RC>` ([`encode_random_challenge`] / [`parse_random_challenge`]) |
//! | STORE DATA `3A02` | `85 <DR>`? `86 <receipt>` ([`KeyAgreementResponse`]) |
//! | STORE DATA `3A08` | `80 { 4F <AID> … }` ([`NotificationConfirmationResponse`]) |

use rsp_types::tlv::{self, Tag, TlvError};
use rsp_types::{Aid, AidError, Eid, EidError};

use crate::command::{TAG_AID, TAG_CERTIFICATE, TAG_RANDOM, TAG_RECEIPT, be_min, be_uint, tag};

/// `E3`: GET STATUS entry.
pub const TAG_STATUS_ENTRY: Tag = tag(0xE3);
/// `9F70`: life-cycle state.
pub const TAG_LIFE_CYCLE: Tag = tag(0x9F70);
/// `53`: ISD-P properties (b1, value `01` = Fall-Back attribute).
pub const TAG_PROPERTIES: Tag = tag(0x53);
/// `8F`: allocated non-volatile memory.
pub const TAG_ALLOCATED_MEMORY: Tag = tag(0x8F);
/// `5A`: EID.
pub const TAG_EID: Tag = tag(0x5A);
/// `BF30`: wrapper of the ECASD certificate in GET DATA.
pub const TAG_ECASD_CERTIFICATE: Tag = tag(0xBF30);
/// `FF21`: extended card resources information.
pub const TAG_CARD_RESOURCES: Tag = tag(0xFF21);
const RES_APPLICATIONS: Tag = tag(0x81);
const RES_FREE_NVM: Tag = tag(0x82);
const RES_FREE_RAM: Tag = tag(0x83);
/// `80`: NotificationConfirmation response wrapper.
pub const TAG_DELETED_ISD_PS: Tag = tag(0x80);

/// Why response data were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResponseError {
    /// Malformed BER-TLV.
    #[error("{what}: {source}")]
    Tlv {
        /// The response being parsed.
        what: &'static str,
        /// The codec error.
        source: TlvError,
    },
    /// Well-formed TLV with a wrong content.
    #[error("{what}: {reason}")]
    Malformed {
        /// The response being parsed.
        what: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
    /// An AID of the wrong length.
    #[error("{what}: {source}")]
    Aid {
        /// The response being parsed.
        what: &'static str,
        /// The AID error.
        source: AidError,
    },
    /// An EID that is not 16 BCD bytes with valid check digits.
    #[error("EID: {0}")]
    Eid(#[from] EidError),
}

fn tlv_err(what: &'static str) -> impl Fn(TlvError) -> ResponseError {
    move |source| ResponseError::Tlv { what, source }
}

fn malformed(what: &'static str, reason: &'static str) -> ResponseError {
    ResponseError::Malformed { what, reason }
}

fn aid_from(what: &'static str, bytes: &[u8]) -> Result<Aid, ResponseError> {
    Aid::from_bytes(bytes).map_err(|source| ResponseError::Aid { what, source })
}

/// An ISD-P life-cycle state as GET STATUS reports it (`9F70`, one byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LifeCycleState(pub u8);

impl LifeCycleState {
    /// `03` INSTALLED (GP; skipped by ISD-Ps).
    pub const INSTALLED: LifeCycleState = LifeCycleState(0x03);
    /// `07` SELECTABLE: created, no keys.
    pub const SELECTABLE: LifeCycleState = LifeCycleState(0x07);
    /// `0F` PERSONALIZED: Scenario#3 key set present.
    pub const PERSONALIZED: LifeCycleState = LifeCycleState(0x0F);
    /// `1F` DISABLED (SGP.02 application-specific bits).
    pub const DISABLED: LifeCycleState = LifeCycleState(0x1F);
    /// `3F` ENABLED (SGP.02 application-specific bits).
    pub const ENABLED: LifeCycleState = LifeCycleState(0x3F);

    /// The state's name, when known.
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            LifeCycleState::INSTALLED => "INSTALLED",
            LifeCycleState::SELECTABLE => "SELECTABLE",
            LifeCycleState::PERSONALIZED => "PERSONALIZED",
            LifeCycleState::DISABLED => "DISABLED",
            LifeCycleState::ENABLED => "ENABLED",
            _ => return None,
        })
    }

    /// Whether the LOCKED bit (b8) is set.
    pub fn is_locked(self) -> bool {
        self.0 & 0x80 != 0
    }
}

/// ISD-P properties byte (`53`): b1 = Fall-Back attribute \[NJ\]; b2 = Emergency Profile attribute
/// (project-defined, U-12).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct IsdPProperties(pub u8);

impl IsdPProperties {
    /// b1: the profile holds the Fall-Back attribute.
    pub const FALL_BACK: u8 = 0x01;
    /// b2: the profile holds the Emergency Profile attribute (project-defined).
    pub const EMERGENCY: u8 = 0x02;

    /// Builds the byte from the two attributes.
    pub fn new(fall_back: bool, emergency: bool) -> IsdPProperties {
        IsdPProperties(
            if fall_back { Self::FALL_BACK } else { 0 }
                | if emergency { Self::EMERGENCY } else { 0 },
        )
    }

    /// Whether the Fall-Back attribute is set.
    pub fn fall_back(self) -> bool {
        self.0 & Self::FALL_BACK != 0
    }

    /// Whether the Emergency Profile attribute is set.
    pub fn emergency(self) -> bool {
        self.0 & Self::EMERGENCY != 0
    }
}

/// One GET STATUS entry `E3 { 4F, 9F70, 53?, 8F? }` for an ISD-P. Unknown children are ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IsdPStatus {
    /// `4F`: ISD-P AID.
    pub aid: Aid,
    /// `9F70`: life-cycle state.
    pub life_cycle: LifeCycleState,
    /// `53`: properties.
    pub properties: Option<IsdPProperties>,
    /// `8F`: allocated non-volatile memory, bytes (1-4 byte big-endian on the wire).
    pub allocated_memory: Option<u32>,
}

impl IsdPStatus {
    /// Appends the `E3` TLV.
    pub fn encode_into(&self, out: &mut Vec<u8>) -> Result<(), ResponseError> {
        let err = tlv_err("GET STATUS");
        let mut v = Vec::new();
        tlv::encode_tlv(TAG_AID, self.aid.as_bytes(), &mut v).map_err(&err)?;
        tlv::encode_tlv(TAG_LIFE_CYCLE, &[self.life_cycle.0], &mut v).map_err(&err)?;
        if let Some(p) = self.properties {
            tlv::encode_tlv(TAG_PROPERTIES, &[p.0], &mut v).map_err(&err)?;
        }
        if let Some(m) = self.allocated_memory {
            tlv::encode_tlv(TAG_ALLOCATED_MEMORY, &be_min(m, 1), &mut v).map_err(&err)?;
        }
        tlv::encode_tlv(TAG_STATUS_ENTRY, &v, out).map_err(&err)
    }

    /// Parses the value of one `E3` entry.
    pub fn parse_value(value: &[u8]) -> Result<IsdPStatus, ResponseError> {
        const W: &str = "GET STATUS";
        let err = tlv_err(W);
        let mut aid = None;
        let mut life_cycle = None;
        let mut properties = None;
        let mut allocated_memory = None;
        for item in tlv::iter(value) {
            let t = item.map_err(&err)?;
            if t.tag == TAG_AID && aid.is_none() {
                aid = Some(aid_from(W, t.value)?);
            } else if t.tag == TAG_LIFE_CYCLE && life_cycle.is_none() {
                match t.value {
                    [s] => life_cycle = Some(LifeCycleState(*s)),
                    _ => return Err(malformed(W, "9F70 must be 1 byte")),
                }
            } else if t.tag == TAG_PROPERTIES && properties.is_none() {
                match t.value {
                    [p] => properties = Some(IsdPProperties(*p)),
                    _ => return Err(malformed(W, "53 must be 1 byte")),
                }
            } else if t.tag == TAG_ALLOCATED_MEMORY && allocated_memory.is_none() {
                allocated_memory =
                    Some(be_uint(t.value).ok_or(malformed(W, "8F must be 1 to 4 bytes"))?);
            }
        }
        Ok(IsdPStatus {
            aid: aid.ok_or(malformed(W, "E3 lacks 4F"))?,
            life_cycle: life_cycle.ok_or(malformed(W, "E3 lacks 9F70"))?,
            properties,
            allocated_memory,
        })
    }

    /// Encodes a GET STATUS response: the `E3` entries concatenated (empty when none).
    pub fn encode_list(entries: &[IsdPStatus]) -> Result<Vec<u8>, ResponseError> {
        let mut out = Vec::new();
        for e in entries {
            e.encode_into(&mut out)?;
        }
        Ok(out)
    }

    /// Parses a GET STATUS response: consecutive `E3` entries; any other top-level tag is refused.
    pub fn parse_list(data: &[u8]) -> Result<Vec<IsdPStatus>, ResponseError> {
        let err = tlv_err("GET STATUS");
        tlv::iter(data)
            .map(|item| {
                let t = item
                    .and_then(|t| t.expect_tag(TAG_STATUS_ENTRY))
                    .map_err(&err)?;
                IsdPStatus::parse_value(t.value)
            })
            .collect()
    }
}

/// GET DATA `5A` response: `5A 10 <EID BCD>`.
pub fn encode_eid(eid: &Eid) -> Vec<u8> {
    let mut out = vec![0x5A, 0x10];
    out.extend_from_slice(&eid.to_bytes());
    out
}

/// Parses a GET DATA `5A` response (the check digits are verified).
pub fn parse_eid(data: &[u8]) -> Result<Eid, ResponseError> {
    let t = tlv::parse_single(data)
        .and_then(|t| t.expect_tag(TAG_EID))
        .map_err(tlv_err("GET DATA 5A"))?;
    Ok(Eid::from_bytes(t.value)?)
}

/// GET DATA `BF30` response: `BF30 { <certificate> }`, `certificate` being the `7F21` TLV.
pub fn encode_ecasd_certificate(certificate: &[u8]) -> Result<Vec<u8>, ResponseError> {
    tlv::encode_tlv_to_vec(TAG_ECASD_CERTIFICATE, certificate).map_err(tlv_err("GET DATA BF30"))
}

/// Parses a GET DATA `BF30` response and returns the `7F21` TLV as received. Accepts the
/// `BF30`-wrapped form and a bare `7F21`.
pub fn parse_ecasd_certificate(data: &[u8]) -> Result<&[u8], ResponseError> {
    let err = tlv_err("GET DATA BF30");
    let outer = tlv::parse_single(data).map_err(&err)?;
    let cert = if outer.tag == TAG_ECASD_CERTIFICATE {
        tlv::parse_single(outer.value).map_err(&err)?
    } else {
        outer
    };
    Ok(cert.expect_tag(TAG_CERTIFICATE).map_err(&err)?.raw())
}

/// Extended card resources information (GET DATA `FF21`, ETSI TS 102 226 §8.2.1.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CardResources {
    /// `81`: number of installed applications.
    pub installed_applications: u32,
    /// `82`: free non-volatile memory, bytes.
    pub free_non_volatile_memory: u32,
    /// `83`: free volatile memory, bytes.
    pub free_volatile_memory: u32,
}

impl CardResources {
    /// Encodes `FF21 { 81, 82, 83 }` with minimal big-endian values.
    pub fn encode(&self) -> Result<Vec<u8>, ResponseError> {
        let err = tlv_err("GET DATA FF21");
        let mut v = Vec::new();
        for (t, n) in [
            (RES_APPLICATIONS, self.installed_applications),
            (RES_FREE_NVM, self.free_non_volatile_memory),
            (RES_FREE_RAM, self.free_volatile_memory),
        ] {
            tlv::encode_tlv(t, &be_min(n, 1), &mut v).map_err(&err)?;
        }
        tlv::encode_tlv_to_vec(TAG_CARD_RESOURCES, &v).map_err(&err)
    }

    /// Parses `FF21 { 81, 82, 83 }`; all three are required.
    pub fn parse(data: &[u8]) -> Result<CardResources, ResponseError> {
        const W: &str = "GET DATA FF21";
        let err = tlv_err(W);
        let outer = tlv::parse_single(data)
            .and_then(|t| t.expect_tag(TAG_CARD_RESOURCES))
            .map_err(&err)?;
        let get = |t: Tag, missing: &'static str| -> Result<u32, ResponseError> {
            let v = outer.require(t).map_err(&err)?;
            be_uint(v.value).ok_or(malformed(W, missing))
        };
        Ok(CardResources {
            installed_applications: get(RES_APPLICATIONS, "81 must be 1 to 4 bytes")?,
            free_non_volatile_memory: get(RES_FREE_NVM, "82 must be 1 to 4 bytes")?,
            free_volatile_memory: get(RES_FREE_RAM, "83 must be 1 to 4 bytes")?,
        })
    }
}

/// Response to STORE DATA `3A01` (certificate accepted): `85 <RC>`.
pub fn encode_random_challenge(rc: &[u8]) -> Result<Vec<u8>, ResponseError> {
    tlv::encode_tlv_to_vec(TAG_RANDOM, rc).map_err(tlv_err("STORE DATA 3A01 response"))
}

/// Parses the response to STORE DATA `3A01`: the value of `85` (RC, non-empty). Other top-level
/// TLVs are ignored.
pub fn parse_random_challenge(data: &[u8]) -> Result<Vec<u8>, ResponseError> {
    const W: &str = "STORE DATA 3A01 response";
    let rc = tlv::find(data, TAG_RANDOM)
        .map_err(tlv_err(W))?
        .ok_or(malformed(W, "no 85 (random challenge)"))?;
    if rc.value.is_empty() {
        return Err(malformed(W, "empty random challenge"));
    }
    Ok(rc.value.to_vec())
}

/// Response to STORE DATA `3A02`: `85 <DR>` (when the CRT asked for it), then `86 <receipt>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyAgreementResponse {
    /// `85`: derivation random DR.
    pub derivation_random: Option<Vec<u8>>,
    /// `86`: receipt (AES-CMAC over the receipt input).
    pub receipt: Vec<u8>,
}

impl KeyAgreementResponse {
    /// Encodes `85 DR` (if any) then `86 receipt`.
    pub fn encode(&self) -> Result<Vec<u8>, ResponseError> {
        let err = tlv_err("STORE DATA 3A02 response");
        let mut out = Vec::new();
        if let Some(dr) = &self.derivation_random {
            tlv::encode_tlv(TAG_RANDOM, dr, &mut out).map_err(&err)?;
        }
        tlv::encode_tlv(TAG_RECEIPT, &self.receipt, &mut out).map_err(&err)?;
        Ok(out)
    }

    /// Parses the response in any order; `86` is required, other tags are ignored.
    pub fn parse(data: &[u8]) -> Result<KeyAgreementResponse, ResponseError> {
        const W: &str = "STORE DATA 3A02 response";
        let err = tlv_err(W);
        let mut derivation_random = None;
        let mut receipt = None;
        for item in tlv::iter(data) {
            let t = item.map_err(&err)?;
            if t.tag == TAG_RANDOM && derivation_random.is_none() {
                derivation_random = Some(t.value.to_vec());
            } else if t.tag == TAG_RECEIPT && receipt.is_none() {
                receipt = Some(t.value.to_vec());
            }
        }
        Ok(KeyAgreementResponse {
            derivation_random,
            receipt: receipt.ok_or(malformed(W, "no 86 (receipt)"))?,
        })
    }
}

/// Response to ES5.NotificationConfirmation: `80 { 4F <AID> … }`, the ISD-Ps the card deleted
/// as a consequence (POL1 "delete when disabled", C-26).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct NotificationConfirmationResponse {
    /// ISD-Ps deleted while processing the confirmation.
    pub deleted_isd_p_aids: Vec<Aid>,
}

impl NotificationConfirmationResponse {
    /// Encodes `80 { 4F … }` (`80 00` when nothing was deleted).
    pub fn encode(&self) -> Result<Vec<u8>, ResponseError> {
        let err = tlv_err("NotificationConfirmation response");
        let mut v = Vec::new();
        for aid in &self.deleted_isd_p_aids {
            tlv::encode_tlv(TAG_AID, aid.as_bytes(), &mut v).map_err(&err)?;
        }
        tlv::encode_tlv_to_vec(TAG_DELETED_ISD_PS, &v).map_err(&err)
    }

    /// Parses `80 { 4F … }`; empty response data mean nothing was deleted.
    pub fn parse(data: &[u8]) -> Result<NotificationConfirmationResponse, ResponseError> {
        const W: &str = "NotificationConfirmation response";
        let err = tlv_err(W);
        if data.is_empty() {
            return Ok(NotificationConfirmationResponse::default());
        }
        let outer = tlv::parse_single(data)
            .and_then(|t| t.expect_tag(TAG_DELETED_ISD_PS))
            .map_err(&err)?;
        let deleted_isd_p_aids = outer
            .children()
            .map(|item| {
                let t = item.and_then(|t| t.expect_tag(TAG_AID)).map_err(&err)?;
                aid_from(W, t.value)
            })
            .collect::<Result<_, _>>()?;
        Ok(NotificationConfirmationResponse { deleted_isd_p_aids })
    }
}
