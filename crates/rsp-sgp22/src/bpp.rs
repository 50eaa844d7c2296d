//! The SGP.22 Bound Profile Package (BPP, SGP.22 §2.5.4), both ends.
//!
//! ```text
//! BoundProfilePackage ::= [54] SEQUENCE {                         -- BF36
//!   initialiseSecureChannelRequest [35] InitialiseSecureChannelRequest, -- BF23
//!   firstSequenceOf87 [0] SEQUENCE OF [7] OCTET STRING,           -- A0: ConfigureISDP, encrypted + MAC
//!   sequenceOf88 [1] SEQUENCE OF [8] OCTET STRING,                -- A1: StoreMetadata, MAC only
//!   secondSequenceOf87 [2] SEQUENCE OF [7] OCTET STRING OPTIONAL, -- A2: ReplaceSessionKeys
//!   sequenceOf86 [3] SEQUENCE OF [6] OCTET STRING }               -- A3: profile elements
//! InitialiseSecureChannelRequest ::= [35] SEQUENCE {
//!   remoteOpId RemoteOpId,            -- [2] INTEGER installBoundProfilePackage(1), tag 82
//!   transactionId [0] TransactionId,  -- 80
//!   controlRefTemplate [6] IMPLICIT ControlRefTemplate, -- A6 { keyType 80, keyLen 81, hostId 84 }
//!   smdpOtpk [APPLICATION 73] OCTET STRING, -- 5F49, otPK.DP.ECKA
//!   smdpSign [APPLICATION 55] OCTET STRING } -- 5F37, raw r‖s by SK.DPpb.ECDSA
//! ```
//!
//! `smdpSign` covers the concatenated data objects `82`, `80`, `A6`, `5F49` of the request as
//! encoded (without the `BF23` header and without `5F37`), followed by the eUICC's `5F49` TLV
//! (otPK.EUICC.ECKA as sent in PrepareDownload).
//!
//! - SM-DP+ side: [`build_bound_profile_package`] from a [`SessionBinding`] and a
//!   [`ProfileSource`]; [`PreparedProfile`] protects the profile elements once with PPK-ENC /
//!   PPK-MAC so a retry or re-binding only rebuilds the session-bound part (U-49).
//! - LPA side: [`segment_bound_profile_package`] (SGP.22 §2.5.5) and [`BppParts::parse`].
//! - eUICC side: [`BppLoader`], fed the segments one at a time, returning [`BppEvent`]s and
//!   failing with a [`BppFailure`] (`bppCommandId`, `errorReason` of the Profile Installation
//!   Result).
//!
//! The BSP cryptography is [`rsp_crypto::bsp`]; ECKA / ECDSA is [`rsp_crypto::ecc`].

use std::fmt;

use rsp_crypto::bsp::{
    self, BspError, BspKeys, BspReceiver, BspSender, KEY_LEN, KEY_LENGTH_AES128, KEY_TYPE_AES,
    MAX_SEGMENT_TLV_LEN, ReplaceSessionKeys, TAG_ENCRYPTED, TAG_MAC_ONLY, TAG_PROFILE_ELEMENTS,
};
use rsp_crypto::ecc::{EccError, PrivateKey, PublicKey, fill_random};
use rsp_types::Oid;
use rsp_types::tlv::{self, Tlv, TlvError};
use thiserror::Error;
use zeroize::Zeroizing;

use crate::der::DerValue;
use crate::types::TransactionId;

/// `BoundProfilePackage` `[54]`.
pub const TAG_BOUND_PROFILE_PACKAGE: u32 = 0xBF36;
/// `InitialiseSecureChannelRequest` `[35]`.
pub const TAG_INITIALISE_SECURE_CHANNEL: u32 = 0xBF23;
/// `ConfigureISDPRequest` `[36]`.
pub const TAG_CONFIGURE_ISDP: u32 = 0xBF24;
/// `StoreMetadataRequest` `[37]`.
pub const TAG_STORE_METADATA: u32 = 0xBF25;
/// `firstSequenceOf87` `[0]`.
pub const TAG_FIRST_SEQUENCE_OF_87: u32 = 0xA0;
/// `sequenceOf88` `[1]`.
pub const TAG_SEQUENCE_OF_88: u32 = 0xA1;
/// `secondSequenceOf87` `[2]`.
pub const TAG_SECOND_SEQUENCE_OF_87: u32 = 0xA2;
/// `sequenceOf86` `[3]`.
pub const TAG_SEQUENCE_OF_86: u32 = 0xA3;
/// `RemoteOpId` installBoundProfilePackage.
pub const REMOTE_OP_INSTALL_BPP: i64 = 1;
/// Default limit of the reassembled UPP in [`LoaderConfig::new`].
pub const DEFAULT_MAX_UPP_LEN: usize = 512 * 1024;
/// Largest ConfigureISDP / StoreMetadata / ReplaceSessionKeys plaintext the loader accepts.
pub const MAX_COMMAND_LEN: usize = 64 * 1024;

const TAG_REMOTE_OP_ID: u32 = 0x82;
const TAG_TRANSACTION_ID: u32 = 0x80;
const TAG_CRT: u32 = 0xA6;
const TAG_CRT_KEY_TYPE: u32 = 0x80;
const TAG_CRT_KEY_LEN: u32 = 0x81;
const TAG_CRT_HOST_ID: u32 = 0x84;
const TAG_OTPK: u32 = 0x5F49;
const TAG_SIGNATURE: u32 = 0x5F37;
const TAG_DP_PROPRIETARY_DATA: u32 = 0xB8;
const TAG_OID: u32 = 0x06;
const TAG_PREPARED: u32 = 0x30;

/// Errors of building, parsing or segmenting a BPP (SM-DP+ and LPA side).
#[derive(Debug, Error)]
pub enum BppError {
    /// BSP protection failed.
    #[error("BSP: {0}")]
    Bsp(#[from] BspError),
    /// A key operation failed.
    #[error("ECC: {0}")]
    Ecc(#[from] EccError),
    /// TLV framing.
    #[error("TLV: {0}")]
    Tlv(#[from] TlvError),
    /// The structure is not what SGP.22 defines.
    #[error("malformed {what}: {reason}")]
    Malformed {
        /// Which structure.
        what: &'static str,
        /// Why.
        reason: &'static str,
    },
    /// An input to the builder is out of range.
    #[error("invalid input: {0}")]
    InvalidInput(&'static str),
}

fn malformed(what: &'static str, reason: &'static str) -> BppError {
    BppError::Malformed { what, reason }
}

/// `BppCommandId` of the Profile Installation Result's `errorResult`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BppCommandId {
    /// 0
    InitialiseSecureChannel,
    /// 1
    ConfigureIsdp,
    /// 2 (the first `88` segment and the StoreMetadataRequest as a whole)
    StoreMetadata,
    /// 3 (a later `88` segment)
    StoreMetadata2,
    /// 4
    ReplaceSessionKeys,
    /// 5
    LoadProfileElements,
}

impl BppCommandId {
    /// The INTEGER value.
    pub fn code(self) -> i64 {
        match self {
            Self::InitialiseSecureChannel => 0,
            Self::ConfigureIsdp => 1,
            Self::StoreMetadata => 2,
            Self::StoreMetadata2 => 3,
            Self::ReplaceSessionKeys => 4,
            Self::LoadProfileElements => 5,
        }
    }

    /// The value for an INTEGER, if defined.
    pub fn from_code(code: i64) -> Option<Self> {
        Some(match code {
            0 => Self::InitialiseSecureChannel,
            1 => Self::ConfigureIsdp,
            2 => Self::StoreMetadata,
            3 => Self::StoreMetadata2,
            4 => Self::ReplaceSessionKeys,
            5 => Self::LoadProfileElements,
            _ => return None,
        })
    }
}

/// `ErrorReason` of the Profile Installation Result's `errorResult` (v3.1 names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorReason {
    /// 1
    IncorrectInputValues,
    /// 2
    InvalidSignature,
    /// 3
    InvalidTransactionId,
    /// 4
    UnsupportedCrtValues,
    /// 5
    UnsupportedRemoteOperationType,
    /// 6
    UnsupportedProfileClass,
    /// 7 (v2 scp03tStructureError)
    BspStructureError,
    /// 8 (v2 scp03tSecurityError)
    BspSecurityError,
    /// 9
    InstallFailedDueToIccidAlreadyExistsOnEuicc,
    /// 10
    InstallFailedDueToInsufficientMemoryForProfile,
    /// 11
    InstallFailedDueToInterruption,
    /// 12
    InstallFailedDueToPeProcessingError,
    /// 13
    InstallFailedDueToDataMismatch,
    /// 14
    TestProfileInstallFailedDueToInvalidNaaKey,
    /// 15
    PprNotAllowed,
    /// 17
    EnterpriseProfilesNotSupported,
    /// 18
    EnterpriseRulesNotAllowed,
    /// 19
    EnterpriseProfileNotAllowed,
    /// 20
    EnterpriseOidMismatch,
    /// 21
    EnterpriseRulesError,
    /// 22
    EnterpriseProfilesOnly,
    /// 23
    LprNotSupported,
    /// 26
    UnknownTlvInMetadata,
    /// 127
    InstallFailedDueToUnknownError,
}

impl ErrorReason {
    const TABLE: [(Self, i64); 24] = [
        (Self::IncorrectInputValues, 1),
        (Self::InvalidSignature, 2),
        (Self::InvalidTransactionId, 3),
        (Self::UnsupportedCrtValues, 4),
        (Self::UnsupportedRemoteOperationType, 5),
        (Self::UnsupportedProfileClass, 6),
        (Self::BspStructureError, 7),
        (Self::BspSecurityError, 8),
        (Self::InstallFailedDueToIccidAlreadyExistsOnEuicc, 9),
        (Self::InstallFailedDueToInsufficientMemoryForProfile, 10),
        (Self::InstallFailedDueToInterruption, 11),
        (Self::InstallFailedDueToPeProcessingError, 12),
        (Self::InstallFailedDueToDataMismatch, 13),
        (Self::TestProfileInstallFailedDueToInvalidNaaKey, 14),
        (Self::PprNotAllowed, 15),
        (Self::EnterpriseProfilesNotSupported, 17),
        (Self::EnterpriseRulesNotAllowed, 18),
        (Self::EnterpriseProfileNotAllowed, 19),
        (Self::EnterpriseOidMismatch, 20),
        (Self::EnterpriseRulesError, 21),
        (Self::EnterpriseProfilesOnly, 22),
        (Self::LprNotSupported, 23),
        (Self::UnknownTlvInMetadata, 26),
        (Self::InstallFailedDueToUnknownError, 127),
    ];

    /// The INTEGER value.
    pub fn code(self) -> i64 {
        Self::TABLE
            .iter()
            .find(|(r, _)| *r == self)
            .map_or(127, |(_, c)| *c)
    }

    /// The value for an INTEGER, if defined here.
    pub fn from_code(code: i64) -> Option<Self> {
        Self::TABLE
            .iter()
            .find(|(_, c)| *c == code)
            .map(|(r, _)| *r)
    }

    fn from_bsp(e: &BspError) -> Self {
        if e.error_reason() == 8 {
            Self::BspSecurityError
        } else {
            Self::BspStructureError
        }
    }
}

// ---------------------------------------------------------------------------------------------
// TLV helpers
// ---------------------------------------------------------------------------------------------

fn push_tlv(tag: u32, value: &[u8], out: &mut Vec<u8>) -> Result<(), BppError> {
    tlv::encode_tlv(tlv::Tag::from_u32(tag)?, value, out)?;
    Ok(())
}

fn tlv_vec(tag: u32, value: &[u8]) -> Result<Vec<u8>, BppError> {
    let mut out = Vec::with_capacity(value.len() + 6);
    push_tlv(tag, value, &mut out)?;
    Ok(out)
}

/// The tag and length bytes of a parsed TLV (its raw encoding without the value).
fn header<'a>(t: &Tlv<'a>) -> &'a [u8] {
    let raw = t.raw();
    raw.get(..raw.len() - t.value.len()).unwrap_or_default()
}

fn single_with_tag<'a>(bytes: &'a [u8], tag: u32, what: &'static str) -> Result<Tlv<'a>, BppError> {
    let t = tlv::parse_single(bytes)?;
    if t.tag.value() != tag {
        return Err(malformed(what, "unexpected tag"));
    }
    Ok(t)
}

// ---------------------------------------------------------------------------------------------
// InitialiseSecureChannelRequest
// ---------------------------------------------------------------------------------------------

/// `InitialiseSecureChannelRequest` (`BF23`).
#[derive(Clone, PartialEq, Eq)]
pub struct InitialiseSecureChannel {
    /// `remoteOpId` (1 = installBoundProfilePackage).
    pub remote_op_id: i64,
    /// `transactionId`.
    pub transaction_id: TransactionId,
    /// CRT `keyType` (`88` = AES).
    pub key_type: u8,
    /// CRT `keyLen` (`10`).
    pub key_len: u8,
    /// CRT `hostId` (1 to 16 bytes).
    pub host_id: Vec<u8>,
    /// `smdpOtpk`: otPK.DP.ECKA as a SEC1 point.
    pub smdp_otpk: Vec<u8>,
    /// `smdpSign`: raw r‖s.
    pub smdp_sign: Vec<u8>,
    /// The signed data objects (`82`, `80`, `A6`, `5F49`) exactly as encoded.
    signed_part: Vec<u8>,
}

impl fmt::Debug for InitialiseSecureChannel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InitialiseSecureChannel")
            .field("remote_op_id", &self.remote_op_id)
            .field("transaction_id", &self.transaction_id)
            .field("key_type", &self.key_type)
            .field("key_len", &self.key_len)
            .field("host_id", &hex::encode_upper(&self.host_id))
            .field("smdp_otpk", &hex::encode_upper(&self.smdp_otpk))
            .finish_non_exhaustive()
    }
}

/// `82 01 01 ‖ 80 tid ‖ A6 { 80 keyType, 81 keyLen, 84 hostId } ‖ 5F49 otPK.DP`.
fn encode_signed_part(
    transaction_id: &TransactionId,
    key_type: u8,
    key_len: u8,
    host_id: &[u8],
    smdp_otpk: &[u8],
) -> Result<Vec<u8>, BppError> {
    let mut out = Vec::with_capacity(110);
    push_tlv(TAG_REMOTE_OP_ID, &[REMOTE_OP_INSTALL_BPP as u8], &mut out)?;
    push_tlv(TAG_TRANSACTION_ID, transaction_id.as_bytes(), &mut out)?;
    let mut crt = Vec::with_capacity(24);
    push_tlv(TAG_CRT_KEY_TYPE, &[key_type], &mut crt)?;
    push_tlv(TAG_CRT_KEY_LEN, &[key_len], &mut crt)?;
    push_tlv(TAG_CRT_HOST_ID, host_id, &mut crt)?;
    push_tlv(TAG_CRT, &crt, &mut out)?;
    push_tlv(TAG_OTPK, smdp_otpk, &mut out)?;
    Ok(out)
}

impl InitialiseSecureChannel {
    /// Builds and signs the request: `smdpSign` = ECDSA(SK.DPpb, `82‖80‖A6‖5F49(otPK.DP)` ‖
    /// `5F49(euiccOtpk)`), with keyType `88` and keyLen `10`.
    pub fn new_signed(
        transaction_id: &TransactionId,
        host_id: &[u8],
        smdp_otpk: &PublicKey,
        euicc_otpk: &[u8],
        dp_pb: &PrivateKey,
    ) -> Result<Self, BppError> {
        if !(1..=16).contains(&host_id.len()) {
            return Err(BppError::InvalidInput("hostId must be 1 to 16 bytes"));
        }
        let otpk = smdp_otpk.to_sec1_uncompressed().to_vec();
        let signed_part = encode_signed_part(
            transaction_id,
            KEY_TYPE_AES,
            KEY_LENGTH_AES128,
            host_id,
            &otpk,
        )?;
        let mut to_sign = signed_part.clone();
        push_tlv(TAG_OTPK, euicc_otpk, &mut to_sign)?;
        let smdp_sign = dp_pb.sign_raw(&to_sign)?.to_vec();
        Ok(Self {
            remote_op_id: REMOTE_OP_INSTALL_BPP,
            transaction_id: transaction_id.clone(),
            key_type: KEY_TYPE_AES,
            key_len: KEY_LENGTH_AES128,
            host_id: host_id.to_vec(),
            smdp_otpk: otpk,
            smdp_sign,
            signed_part,
        })
    }

    /// The data objects `smdpSign` covers, before the eUICC's `5F49` is appended.
    pub fn signed_part(&self) -> &[u8] {
        &self.signed_part
    }

    /// The complete data `smdpSign` covers given the eUICC's otPK (SEC1 bytes as it sent them).
    pub fn data_to_sign(&self, euicc_otpk: &[u8]) -> Result<Vec<u8>, BppError> {
        let mut out = self.signed_part.clone();
        push_tlv(TAG_OTPK, euicc_otpk, &mut out)?;
        Ok(out)
    }

    /// Checks `smdpSign` with PK.DPpb.ECDSA.
    pub fn verify(&self, euicc_otpk: &[u8], dp_pb: &PublicKey) -> Result<(), BppError> {
        dp_pb.verify_raw(&self.data_to_sign(euicc_otpk)?, &self.smdp_sign)?;
        Ok(())
    }

    /// DER encoding (`BF23 …`).
    pub fn encode(&self) -> Result<Vec<u8>, BppError> {
        let mut body = self.signed_part.clone();
        push_tlv(TAG_SIGNATURE, &self.smdp_sign, &mut body)?;
        tlv_vec(TAG_INITIALISE_SECURE_CHANNEL, &body)
    }

    /// Parses exactly one `BF23` TLV: the five elements in their ASN.1 order, nothing else
    /// (an unknown element would not be covered by the signature).
    pub fn decode(bytes: &[u8]) -> Result<Self, BppError> {
        const WHAT: &str = "InitialiseSecureChannelRequest";
        let outer = single_with_tag(bytes, TAG_INITIALISE_SECURE_CHANNEL, WHAT)?;
        let children = tlv::parse_all(outer.value)?;
        let [op, tid, crt, otpk, sign] = children.as_slice() else {
            return Err(malformed(WHAT, "expected exactly five elements"));
        };
        for (t, tag) in [
            (op, TAG_REMOTE_OP_ID),
            (tid, TAG_TRANSACTION_ID),
            (crt, TAG_CRT),
            (otpk, TAG_OTPK),
            (sign, TAG_SIGNATURE),
        ] {
            if t.tag.value() != tag {
                return Err(malformed(WHAT, "elements missing or out of order"));
            }
        }
        let remote_op_id = i64::decode_value(op.value)
            .map_err(|_| malformed(WHAT, "remoteOpId is not an INTEGER"))?;
        let transaction_id = TransactionId::new(tid.value)
            .map_err(|_| malformed(WHAT, "transactionId is not 1 to 16 bytes"))?;
        let crt_children = tlv::parse_all(crt.value)?;
        let [kt, kl, host] = crt_children.as_slice() else {
            return Err(malformed(
                WHAT,
                "controlRefTemplate must hold three elements",
            ));
        };
        if kt.tag.value() != TAG_CRT_KEY_TYPE
            || kl.tag.value() != TAG_CRT_KEY_LEN
            || host.tag.value() != TAG_CRT_HOST_ID
        {
            return Err(malformed(WHAT, "controlRefTemplate elements out of order"));
        }
        let ([key_type], [key_len]) = (kt.value, kl.value) else {
            return Err(malformed(WHAT, "keyType and keyLen are one byte each"));
        };
        if !(1..=16).contains(&host.value.len()) {
            return Err(malformed(WHAT, "hostId must be 1 to 16 bytes"));
        }
        let signed_end = outer.value.len() - sign.raw().len();
        let signed_part = outer.value.get(..signed_end).unwrap_or_default().to_vec();
        Ok(Self {
            remote_op_id,
            transaction_id,
            key_type: *key_type,
            key_len: *key_len,
            host_id: host.value.to_vec(),
            smdp_otpk: otpk.value.to_vec(),
            smdp_sign: sign.value.to_vec(),
            signed_part,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// ConfigureISDPRequest
// ---------------------------------------------------------------------------------------------

/// `ConfigureISDPRequest ::= [36] SEQUENCE { dpProprietaryData [24] DpProprietaryData OPTIONAL }`
/// with `DpProprietaryData ::= SEQUENCE { dpOid OBJECT IDENTIFIER }`: `BF24 { B8 { 06 … } }`.
pub fn configure_isdp_request(dp_oid: Option<&Oid>) -> Result<Vec<u8>, BppError> {
    let mut body = Vec::new();
    if let Some(oid) = dp_oid {
        let oid_tlv = tlv_vec(TAG_OID, &oid.to_der_content())?;
        push_tlv(TAG_DP_PROPRIETARY_DATA, &oid_tlv, &mut body)?;
    }
    tlv_vec(TAG_CONFIGURE_ISDP, &body)
}

/// Parses a `ConfigureISDPRequest`: the `dpOid` if present. Unknown elements are ignored.
pub fn parse_configure_isdp_request(bytes: &[u8]) -> Result<Option<Oid>, BppError> {
    const WHAT: &str = "ConfigureISDPRequest";
    let outer = single_with_tag(bytes, TAG_CONFIGURE_ISDP, WHAT)?;
    let Some(dp) = outer.find(tlv::Tag::from_u32(TAG_DP_PROPRIETARY_DATA)?)? else {
        return Ok(None);
    };
    let oid = dp
        .find(tlv::Tag::from_u32(TAG_OID)?)?
        .ok_or(malformed(WHAT, "dpProprietaryData without dpOid"))?;
    Oid::from_der_content(oid.value)
        .map(Some)
        .map_err(|_| malformed(WHAT, "malformed dpOid"))
}

// ---------------------------------------------------------------------------------------------
// SM-DP+ side
// ---------------------------------------------------------------------------------------------

/// Profile elements protected once with PPK-ENC / PPK-MAC (the `sequenceOf86`, `A3`), for reuse
/// and re-binding: every BPP built from it carries a ReplaceSessionKeys with the same PPKs.
///
/// Serialise with [`PreparedProfile::to_bytes`] (it holds the PPKs: store it encrypted).
pub struct PreparedProfile {
    ppk: BspKeys,
    sequence_of_86: Vec<u8>,
    segments: usize,
}

impl fmt::Debug for PreparedProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PreparedProfile")
            .field("sequence_of_86_len", &self.sequence_of_86.len())
            .field("segments", &self.segments)
            .finish_non_exhaustive()
    }
}

impl PreparedProfile {
    /// Protects a UPP (the DER profile elements) with fresh random PPKs.
    pub fn protect(upp: &[u8]) -> Result<Self, BppError> {
        let mut material = Zeroizing::new([0u8; 3 * KEY_LEN]);
        fill_random(material.as_mut_slice())?;
        let mut ppk = BspKeys {
            s_enc: Zeroizing::new([0u8; KEY_LEN]),
            s_mac: Zeroizing::new([0u8; KEY_LEN]),
            initial_mcv: [0u8; KEY_LEN],
        };
        ppk.s_enc.copy_from_slice(&material[..KEY_LEN]);
        ppk.s_mac.copy_from_slice(&material[KEY_LEN..2 * KEY_LEN]);
        ppk.initial_mcv.copy_from_slice(&material[2 * KEY_LEN..]);
        Self::protect_with_keys(upp, ppk)
    }

    /// Protects a UPP with the given PPK-ENC / PPK-MAC / initial MAC chaining value.
    pub fn protect_with_keys(upp: &[u8], ppk: BspKeys) -> Result<Self, BppError> {
        if upp.is_empty() {
            return Err(BppError::InvalidInput("empty UPP"));
        }
        let mut sender = BspSender::new(&ppk)?;
        let segments = sender.encrypt_and_mac(TAG_PROFILE_ELEMENTS, upp)?;
        let count = segments.len();
        let sequence_of_86 = tlv_vec(TAG_SEQUENCE_OF_86, &segments.concat())?;
        Ok(Self {
            ppk,
            sequence_of_86,
            segments: count,
        })
    }

    /// The `sequenceOf86` TLV (`A3 …`) exactly as every BPP built from this carries it.
    pub fn sequence_of_86(&self) -> &[u8] {
        &self.sequence_of_86
    }

    /// Number of `86` segments.
    pub fn segment_count(&self) -> usize {
        self.segments
    }

    /// The PPKs (as ReplaceSessionKeys will carry them).
    pub fn ppk(&self) -> &BspKeys {
        &self.ppk
    }

    /// Serialised form: `30 { BF26 ReplaceSessionKeysRequest, A3 sequenceOf86 }`. Holds the PPKs.
    pub fn to_bytes(&self) -> Result<Zeroizing<Vec<u8>>, BppError> {
        let rsk = ReplaceSessionKeys {
            keys: self.ppk.clone(),
        }
        .encode();
        let mut body = Zeroizing::new(Vec::with_capacity(rsk.len() + self.sequence_of_86.len()));
        body.extend_from_slice(&rsk);
        body.extend_from_slice(&self.sequence_of_86);
        let mut out = Zeroizing::new(Vec::with_capacity(body.len() + 6));
        push_tlv(TAG_PREPARED, &body, &mut out)?;
        Ok(out)
    }

    /// Parses [`PreparedProfile::to_bytes`] output; every `86` segment is checked for shape
    /// (tag, at most 1020 bytes, whole AES blocks plus a MAC), not for its MAC.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, BppError> {
        const WHAT: &str = "PreparedProfile";
        let outer = single_with_tag(bytes, TAG_PREPARED, WHAT)?;
        let children = tlv::parse_all(outer.value)?;
        let [rsk, a3] = children.as_slice() else {
            return Err(malformed(
                WHAT,
                "expected ReplaceSessionKeys and sequenceOf86",
            ));
        };
        let ppk = ReplaceSessionKeys::decode(rsk.raw())?.keys;
        if a3.tag.value() != TAG_SEQUENCE_OF_86 {
            return Err(malformed(WHAT, "second element is not sequenceOf86"));
        }
        let mut segments = 0;
        for seg in tlv::iter(a3.value) {
            let seg = seg?;
            let data_len = seg.value.len().checked_sub(bsp::MAC_LEN);
            if seg.tag.value() != u32::from(TAG_PROFILE_ELEMENTS)
                || seg.raw().len() > MAX_SEGMENT_TLV_LEN
                || !data_len.is_some_and(|l| l > 0 && l % 16 == 0)
            {
                return Err(malformed(WHAT, "not a sequence of 86 segments"));
            }
            segments += 1;
        }
        if segments == 0 {
            return Err(malformed(WHAT, "no profile element segment"));
        }
        Ok(Self {
            ppk,
            sequence_of_86: a3.raw().to_vec(),
            segments,
        })
    }
}

/// What the A3 part of a BPP is made from.
#[derive(Debug, Clone, Copy)]
pub enum ProfileSource<'a> {
    /// A UPP protected with the session keys (no ReplaceSessionKeys).
    Upp(&'a [u8]),
    /// A [`PreparedProfile`]: ReplaceSessionKeys with its PPKs, then its `sequenceOf86` as is.
    Prepared(&'a PreparedProfile),
}

/// The session-bound inputs of a BPP.
pub struct SessionBinding<'a> {
    /// The RSP session's transactionId.
    pub transaction_id: &'a TransactionId,
    /// CRT hostId (1 to 16 bytes), also KDF input.
    pub host_id: &'a [u8],
    /// The EID, 16 bytes binary (KDF input).
    pub eid: &'a [u8; 16],
    /// otSK.DP.ECKA, on the curve of the eUICC's one-time key
    /// (`PrivateKey::generate(curve)` for each binding).
    pub smdp_otsk: &'a PrivateKey,
    /// otPK.EUICC.ECKA exactly as received in `euiccSigned2.euiccOtpk` (SEC1 point).
    pub euicc_otpk: &'a [u8],
    /// SK.DPpb.ECDSA, the key of CERT.DPpb.
    pub dp_pb: &'a PrivateKey,
    /// The encoded `ConfigureISDPRequest` (`BF24`), see [`configure_isdp_request`].
    pub configure_isdp: &'a [u8],
    /// The encoded `StoreMetadataRequest` (`BF25`).
    pub store_metadata: &'a [u8],
}

impl fmt::Debug for SessionBinding<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionBinding")
            .field("transaction_id", self.transaction_id)
            .field("host_id", &hex::encode_upper(self.host_id))
            .finish_non_exhaustive()
    }
}

fn sequence(tag: u32, segments: &[Vec<u8>]) -> Result<Vec<u8>, BppError> {
    tlv_vec(tag, &segments.concat())
}

/// Builds a `BoundProfilePackage` (`BF36`): derives the session keys (ECKA otSK.DP / otPK.EUICC,
/// X9.63 KDF with keyType `88`, keyLen `10`, hostId, EID), signs the InitialiseSecureChannel,
/// protects ConfigureISDP (`87`), StoreMetadata (`88`), optionally ReplaceSessionKeys (`87`) and
/// the profile elements (`86`).
pub fn build_bound_profile_package(
    binding: &SessionBinding<'_>,
    profile: ProfileSource<'_>,
) -> Result<Vec<u8>, BppError> {
    single_with_tag(
        binding.configure_isdp,
        TAG_CONFIGURE_ISDP,
        "ConfigureISDPRequest",
    )?;
    single_with_tag(
        binding.store_metadata,
        TAG_STORE_METADATA,
        "StoreMetadataRequest",
    )?;
    let curve = binding.smdp_otsk.curve();
    let euicc_pk = PublicKey::from_sec1(curve, binding.euicc_otpk)?;
    let shared = binding.smdp_otsk.agree(&euicc_pk)?;
    let keys = bsp::derive_session_keys(
        shared.as_bytes(),
        KEY_TYPE_AES,
        KEY_LENGTH_AES128,
        binding.host_id,
        binding.eid,
    )?;
    let isc = InitialiseSecureChannel::new_signed(
        binding.transaction_id,
        binding.host_id,
        binding.smdp_otsk.public_key(),
        binding.euicc_otpk,
        binding.dp_pb,
    )?;
    let mut sender = BspSender::new(&keys)?;
    let mut body = isc.encode()?;
    let a0 = sender.encrypt_and_mac(TAG_ENCRYPTED, binding.configure_isdp)?;
    body.extend_from_slice(&sequence(TAG_FIRST_SEQUENCE_OF_87, &a0)?);
    let a1 = sender.mac_only(TAG_MAC_ONLY, binding.store_metadata)?;
    body.extend_from_slice(&sequence(TAG_SEQUENCE_OF_88, &a1)?);
    match profile {
        ProfileSource::Upp(upp) => {
            if upp.is_empty() {
                return Err(BppError::InvalidInput("empty UPP"));
            }
            let a3 = sender.encrypt_and_mac(TAG_PROFILE_ELEMENTS, upp)?;
            body.extend_from_slice(&sequence(TAG_SEQUENCE_OF_86, &a3)?);
        }
        ProfileSource::Prepared(prepared) => {
            let rsk = ReplaceSessionKeys {
                keys: prepared.ppk.clone(),
            }
            .encode();
            let a2 = sender.encrypt_and_mac(TAG_ENCRYPTED, &rsk)?;
            body.extend_from_slice(&sequence(TAG_SECOND_SEQUENCE_OF_87, &a2)?);
            body.extend_from_slice(&prepared.sequence_of_86);
        }
    }
    tlv_vec(TAG_BOUND_PROFILE_PACKAGE, &body)
}

// ---------------------------------------------------------------------------------------------
// LPA side
// ---------------------------------------------------------------------------------------------

/// The parts of an encoded BPP, borrowed from it (each a complete TLV).
#[derive(Debug, Clone)]
pub struct BppParts<'a> {
    /// The `BF36` tag and length.
    pub header: &'a [u8],
    /// `BF23 …`.
    pub initialise_secure_channel: &'a [u8],
    /// `A0 …`.
    pub first_sequence_of_87: Tlv<'a>,
    /// `A1 …`.
    pub sequence_of_88: Tlv<'a>,
    /// `A2 …`, if present.
    pub second_sequence_of_87: Option<Tlv<'a>>,
    /// `A3 …`.
    pub sequence_of_86: Tlv<'a>,
}

impl<'a> BppParts<'a> {
    /// Splits an encoded `BoundProfilePackage` into its parts; checks the order and that each
    /// sequence holds only TLVs of its tag.
    pub fn parse(bpp: &'a [u8]) -> Result<Self, BppError> {
        const WHAT: &str = "BoundProfilePackage";
        let outer = single_with_tag(bpp, TAG_BOUND_PROFILE_PACKAGE, WHAT)?;
        let children = tlv::parse_all(outer.value)?;
        let (isc, a0, a1, a2, a3) = match children.as_slice() {
            [isc, a0, a1, a3] => (isc, a0, a1, None, a3),
            [isc, a0, a1, a2, a3] => (isc, a0, a1, Some(*a2), a3),
            _ => return Err(malformed(WHAT, "wrong number of elements")),
        };
        let check = |t: &Tlv<'_>, tag: u32, inner: u8| -> Result<(), BppError> {
            if t.tag.value() != tag {
                return Err(malformed(WHAT, "elements missing or out of order"));
            }
            let mut n = 0;
            for item in t.children() {
                if item?.tag.value() != u32::from(inner) {
                    return Err(malformed(WHAT, "unexpected TLV inside a sequence"));
                }
                n += 1;
            }
            if n == 0 {
                return Err(malformed(WHAT, "empty sequence"));
            }
            Ok(())
        };
        if isc.tag.value() != TAG_INITIALISE_SECURE_CHANNEL {
            return Err(malformed(
                WHAT,
                "first element is not InitialiseSecureChannel",
            ));
        }
        check(a0, TAG_FIRST_SEQUENCE_OF_87, TAG_ENCRYPTED)?;
        check(a1, TAG_SEQUENCE_OF_88, TAG_MAC_ONLY)?;
        if let Some(a2) = &a2 {
            check(a2, TAG_SECOND_SEQUENCE_OF_87, TAG_ENCRYPTED)?;
        }
        check(a3, TAG_SEQUENCE_OF_86, TAG_PROFILE_ELEMENTS)?;
        Ok(Self {
            header: header(&outer),
            initialise_secure_channel: isc.raw(),
            first_sequence_of_87: *a0,
            sequence_of_88: *a1,
            second_sequence_of_87: a2,
            sequence_of_86: *a3,
        })
    }
}

/// Segments a BPP for `ES10b.LoadBoundProfilePackage` (SGP.22 §2.5.5):
/// 1. tag and length of `BF36` plus the whole `BF23`;
/// 2. tag and length of `A0` plus its first `87` (any further `87` as its own segment);
/// 3. tag and length of `A1`; 4. each `88`;
/// 5. (tag and length of `A2` plus its first `87`, further `87`s alone);
/// 6. tag and length of `A3`; 7. each `86`.
pub fn segment_bound_profile_package(bpp: &[u8]) -> Result<Vec<Vec<u8>>, BppError> {
    let parts = BppParts::parse(bpp)?;
    let mut out = vec![[parts.header, parts.initialise_secure_channel].concat()];
    let header_plus_first = |out: &mut Vec<Vec<u8>>, seq: &Tlv<'_>| -> Result<(), BppError> {
        let mut first = true;
        for item in seq.children() {
            let item = item?;
            if first {
                out.push([header(seq), item.raw()].concat());
                first = false;
            } else {
                out.push(item.raw().to_vec());
            }
        }
        Ok(())
    };
    let header_then_each = |out: &mut Vec<Vec<u8>>, seq: &Tlv<'_>| -> Result<(), BppError> {
        out.push(header(seq).to_vec());
        for item in seq.children() {
            out.push(item?.raw().to_vec());
        }
        Ok(())
    };
    header_plus_first(&mut out, &parts.first_sequence_of_87)?;
    header_then_each(&mut out, &parts.sequence_of_88)?;
    if let Some(a2) = &parts.second_sequence_of_87 {
        header_plus_first(&mut out, a2)?;
    }
    header_then_each(&mut out, &parts.sequence_of_86)?;
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// eUICC side
// ---------------------------------------------------------------------------------------------

/// What the loader needs when the card starts a BPP (from its PrepareDownload state).
pub struct LoaderConfig {
    /// The transactionId of the RSP session.
    pub transaction_id: TransactionId,
    /// The card's EID, 16 bytes binary.
    pub eid: [u8; 16],
    /// otSK.EUICC.ECKA; its public half (uncompressed, as the card sent it in euiccSigned2) is
    /// what `smdpSign` must cover.
    pub euicc_otsk: PrivateKey,
    /// PK.DPpb.ECDSA from the CERT.DPpb verified in PrepareDownload.
    pub dp_pb: PublicKey,
    /// Largest reassembled UPP; more → installFailedDueToInsufficientMemoryForProfile.
    pub max_upp_len: usize,
}

impl fmt::Debug for LoaderConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoaderConfig")
            .field("transaction_id", &self.transaction_id)
            .field("max_upp_len", &self.max_upp_len)
            .finish_non_exhaustive()
    }
}

impl LoaderConfig {
    /// A configuration with [`DEFAULT_MAX_UPP_LEN`].
    pub fn new(
        transaction_id: TransactionId,
        eid: [u8; 16],
        euicc_otsk: PrivateKey,
        dp_pb: PublicKey,
    ) -> Self {
        Self {
            transaction_id,
            eid,
            euicc_otsk,
            dp_pb,
            max_upp_len: DEFAULT_MAX_UPP_LEN,
        }
    }
}

/// What a segment did.
pub enum BppEvent {
    /// InitialiseSecureChannel verified; session keys derived.
    SecureChannelOpened {
        /// The CRT hostId.
        host_id: Vec<u8>,
    },
    /// The decrypted `ConfigureISDPRequest` (`BF24 …`).
    ConfigureIsdp(Vec<u8>),
    /// The verified `StoreMetadataRequest` (`BF25 …`): check the PPRs against the RAT now and
    /// call [`BppLoader::abort`] to refuse.
    StoreMetadata(Vec<u8>),
    /// ReplaceSessionKeys processed: the profile elements follow under the PPKs.
    SessionKeysReplaced,
    /// The plaintext of one `86` segment (a piece of the UPP).
    ProfileElements(Zeroizing<Vec<u8>>),
    /// The last segment was processed: the complete UPP.
    Complete(Zeroizing<Vec<u8>>),
}

impl fmt::Debug for BppEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SecureChannelOpened { host_id } => write!(
                f,
                "SecureChannelOpened(hostId {})",
                hex::encode_upper(host_id)
            ),
            Self::ConfigureIsdp(b) => write!(f, "ConfigureIsdp({} bytes)", b.len()),
            Self::StoreMetadata(b) => write!(f, "StoreMetadata({} bytes)", b.len()),
            Self::SessionKeysReplaced => f.write_str("SessionKeysReplaced"),
            Self::ProfileElements(b) => write!(f, "ProfileElements({} bytes)", b.len()),
            Self::Complete(b) => write!(f, "Complete({} bytes)", b.len()),
        }
    }
}

/// Why loading failed: the Profile Installation Result's `errorResult`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("{command:?} failed with {reason:?}: {detail}")]
pub struct BppFailure {
    /// `bppCommandId`.
    pub command: BppCommandId,
    /// `errorReason`.
    pub reason: ErrorReason,
    /// Diagnostic text (not transmitted).
    pub detail: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Bpp,
    Isc,
    FirstSeqHeader,
    FirstSeq,
    MetaHeader,
    Meta,
    SecondOrProfileHeader,
    SecondSeq,
    ProfileHeader,
    Profile,
    ProfileDone,
    Done,
}

#[derive(Debug, Clone, Copy)]
struct Open {
    tag: u32,
    remaining: usize,
}

/// The eUICC's BPP state machine (ES8+ InitialiseSecureChannel … LoadProfileElements), fed the
/// segments of `ES10b.LoadBoundProfilePackage` one at a time.
///
/// A segment may hold any number of whole items (a sequence header or a complete TLV), so both
/// the §2.5.5 segmentation and coarser ones load; an item split across segments, an item out of
/// order or lengths that do not add up are `bspStructureError`. After any failure every later
/// segment gets the same failure (BSP abort).
pub struct BppLoader {
    cfg: LoaderConfig,
    phase: Phase,
    open: Vec<Open>,
    receiver: Option<BspReceiver>,
    buffer: Zeroizing<Vec<u8>>,
    items_in_sequence: usize,
    upp: Zeroizing<Vec<u8>>,
    failure: Option<BppFailure>,
}

impl fmt::Debug for BppLoader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BppLoader")
            .field("phase", &self.phase)
            .field("upp_len", &self.upp.len())
            .field("failure", &self.failure)
            .finish_non_exhaustive()
    }
}

impl BppLoader {
    /// A loader waiting for the first segment.
    pub fn new(cfg: LoaderConfig) -> Self {
        Self {
            cfg,
            phase: Phase::Bpp,
            open: Vec::with_capacity(2),
            receiver: None,
            buffer: Zeroizing::new(Vec::new()),
            items_in_sequence: 0,
            upp: Zeroizing::new(Vec::new()),
            failure: None,
        }
    }

    /// The failure that aborted loading, if any.
    pub fn failure(&self) -> Option<&BppFailure> {
        self.failure.as_ref()
    }

    /// Whether the whole BPP was loaded.
    pub fn is_complete(&self) -> bool {
        self.phase == Phase::Done
    }

    /// The `bppCommandId` a failure now would carry.
    pub fn current_command(&self) -> BppCommandId {
        match self.phase {
            Phase::Bpp | Phase::Isc => BppCommandId::InitialiseSecureChannel,
            Phase::FirstSeqHeader | Phase::FirstSeq => BppCommandId::ConfigureIsdp,
            Phase::MetaHeader => BppCommandId::StoreMetadata,
            Phase::Meta if self.items_in_sequence == 0 => BppCommandId::StoreMetadata,
            Phase::Meta => BppCommandId::StoreMetadata2,
            Phase::SecondSeq => BppCommandId::ReplaceSessionKeys,
            Phase::SecondOrProfileHeader
            | Phase::ProfileHeader
            | Phase::Profile
            | Phase::ProfileDone
            | Phase::Done => BppCommandId::LoadProfileElements,
        }
    }

    /// Refuses the BPP at the current step (e.g. `pprNotAllowed` after [`BppEvent::StoreMetadata`]).
    pub fn abort(&mut self, reason: ErrorReason) -> BppFailure {
        if let Some(f) = self.failure {
            return f;
        }
        self.fail(reason, "refused by the eUICC")
    }

    fn fail(&mut self, reason: ErrorReason, detail: &'static str) -> BppFailure {
        let f = BppFailure {
            command: self.current_command(),
            reason,
            detail,
        };
        self.failure = Some(f);
        self.receiver = None;
        self.buffer = Zeroizing::new(Vec::new());
        self.upp = Zeroizing::new(Vec::new());
        f
    }

    fn structure(&mut self, detail: &'static str) -> BppFailure {
        self.fail(ErrorReason::BspStructureError, detail)
    }

    /// Processes one segment and returns what it did.
    pub fn load_segment(&mut self, segment: &[u8]) -> Result<Vec<BppEvent>, BppFailure> {
        if let Some(f) = self.failure {
            return Err(f);
        }
        if self.phase == Phase::Done {
            return Err(BppFailure {
                command: BppCommandId::LoadProfileElements,
                reason: ErrorReason::BspStructureError,
                detail: "segment after the end of the BPP",
            });
        }
        if segment.is_empty() {
            return Err(self.structure("empty segment"));
        }
        let mut events = Vec::new();
        let mut pos = 0;
        while let Some(rest) = segment.get(pos..).filter(|r| !r.is_empty()) {
            let used = self.item(rest, &mut events)?;
            pos += used;
        }
        Ok(events)
    }

    /// Processes the item at the start of `input`; returns the bytes it used.
    fn item(&mut self, input: &[u8], events: &mut Vec<BppEvent>) -> Result<usize, BppFailure> {
        let Ok((tag, tag_len)) = tlv::read_tag(input) else {
            return Err(self.structure("malformed tag"));
        };
        let Ok((len, len_len)) = tlv::decode_length(input.get(tag_len..).unwrap_or_default())
        else {
            return Err(self.structure("malformed length"));
        };
        let header_len = tag_len + len_len;
        let Some(total) = header_len.checked_add(len) else {
            return Err(self.structure("length overflows"));
        };
        let tag = tag.value();
        let container = match (self.phase, tag) {
            (Phase::Bpp, TAG_BOUND_PROFILE_PACKAGE)
            | (Phase::FirstSeqHeader, TAG_FIRST_SEQUENCE_OF_87)
            | (Phase::MetaHeader, TAG_SEQUENCE_OF_88)
            | (Phase::SecondOrProfileHeader, TAG_SECOND_SEQUENCE_OF_87)
            | (Phase::SecondOrProfileHeader, TAG_SEQUENCE_OF_86)
            | (Phase::ProfileHeader, TAG_SEQUENCE_OF_86) => true,
            (Phase::Isc, TAG_INITIALISE_SECURE_CHANNEL) => false,
            (Phase::FirstSeq | Phase::SecondSeq, t) if t == u32::from(TAG_ENCRYPTED) => false,
            (Phase::Meta, t) if t == u32::from(TAG_MAC_ONLY) => false,
            (Phase::Profile, t) if t == u32::from(TAG_PROFILE_ELEMENTS) => false,
            _ => return Err(self.structure("unexpected TLV at this point of the BPP")),
        };
        // Account the item in its enclosing sequence.
        if let Some(parent) = self.open.last_mut() {
            if total > parent.remaining {
                return Err(self.structure("TLV overruns its enclosing sequence"));
            }
            parent.remaining -= total;
        } else if tag != TAG_BOUND_PROFILE_PACKAGE {
            return Err(self.structure("TLV outside the BoundProfilePackage"));
        }
        let used = if container {
            self.open.push(Open {
                tag,
                remaining: len,
            });
            self.phase = match tag {
                TAG_BOUND_PROFILE_PACKAGE => Phase::Isc,
                TAG_FIRST_SEQUENCE_OF_87 => Phase::FirstSeq,
                TAG_SEQUENCE_OF_88 => Phase::Meta,
                TAG_SECOND_SEQUENCE_OF_87 => Phase::SecondSeq,
                _ => Phase::Profile,
            };
            self.items_in_sequence = 0;
            self.buffer = Zeroizing::new(Vec::new());
            header_len
        } else {
            let Some(raw) = input.get(..total) else {
                return Err(self.structure("segment ends inside a TLV"));
            };
            self.leaf(raw, events)?;
            total
        };
        while let Some(top) = self.open.last().copied().filter(|o| o.remaining == 0) {
            self.open.pop();
            self.close(top.tag, events)?;
        }
        Ok(used)
    }

    fn open_segment(&mut self, tag: u8, raw: &[u8]) -> Result<Vec<u8>, BppFailure> {
        let Some(receiver) = self.receiver.as_mut() else {
            return Err(self.structure("no secure channel"));
        };
        match receiver.open_expecting(tag, raw) {
            Ok(plain) => Ok(plain),
            Err(e) => Err(self.fail(ErrorReason::from_bsp(&e), "BSP segment refused")),
        }
    }

    fn leaf(&mut self, raw: &[u8], events: &mut Vec<BppEvent>) -> Result<(), BppFailure> {
        match self.phase {
            Phase::Isc => {
                let host_id = self.initialise_secure_channel(raw)?;
                self.phase = Phase::FirstSeqHeader;
                events.push(BppEvent::SecureChannelOpened { host_id });
            }
            Phase::FirstSeq | Phase::SecondSeq | Phase::Meta => {
                let tag = if self.phase == Phase::Meta {
                    TAG_MAC_ONLY
                } else {
                    TAG_ENCRYPTED
                };
                let plain = Zeroizing::new(self.open_segment(tag, raw)?);
                if self.buffer.len() + plain.len() > MAX_COMMAND_LEN {
                    return Err(self.fail(ErrorReason::IncorrectInputValues, "command too long"));
                }
                self.buffer.extend_from_slice(&plain);
                self.items_in_sequence += 1;
            }
            Phase::Profile => {
                let plain = Zeroizing::new(self.open_segment(TAG_PROFILE_ELEMENTS, raw)?);
                if self.upp.len() + plain.len() > self.cfg.max_upp_len {
                    return Err(self.fail(
                        ErrorReason::InstallFailedDueToInsufficientMemoryForProfile,
                        "profile larger than the eUICC accepts",
                    ));
                }
                self.upp.extend_from_slice(&plain);
                self.items_in_sequence += 1;
                events.push(BppEvent::ProfileElements(plain));
            }
            _ => return Err(self.structure("unexpected TLV")),
        }
        Ok(())
    }

    fn initialise_secure_channel(&mut self, raw: &[u8]) -> Result<Vec<u8>, BppFailure> {
        use ErrorReason as R;
        let Ok(isc) = InitialiseSecureChannel::decode(raw) else {
            return Err(self.fail(R::IncorrectInputValues, "malformed InitialiseSecureChannel"));
        };
        if isc.remote_op_id != REMOTE_OP_INSTALL_BPP {
            return Err(self.fail(R::UnsupportedRemoteOperationType, "remoteOpId is not 1"));
        }
        if isc.transaction_id != self.cfg.transaction_id {
            return Err(self.fail(R::InvalidTransactionId, "transactionId of another session"));
        }
        if isc.key_type != KEY_TYPE_AES || isc.key_len != KEY_LENGTH_AES128 {
            return Err(self.fail(R::UnsupportedCrtValues, "keyType/keyLen not AES-128"));
        }
        let curve = self.cfg.euicc_otsk.curve();
        let Ok(smdp_pk) = PublicKey::from_sec1(curve, &isc.smdp_otpk) else {
            return Err(self.fail(
                R::IncorrectInputValues,
                "smdpOtpk is not on the eUICC's curve",
            ));
        };
        let euicc_otpk = self.cfg.euicc_otsk.public_key().to_sec1_uncompressed();
        if isc.verify(&euicc_otpk, &self.cfg.dp_pb).is_err() {
            return Err(self.fail(R::InvalidSignature, "smdpSign does not verify"));
        }
        let Ok(shared) = self.cfg.euicc_otsk.agree(&smdp_pk) else {
            return Err(self.fail(R::IncorrectInputValues, "key agreement failed"));
        };
        let keys = bsp::derive_session_keys(
            shared.as_bytes(),
            isc.key_type,
            isc.key_len,
            &isc.host_id,
            &self.cfg.eid,
        );
        let Ok(receiver) = keys.and_then(|k| BspReceiver::new(&k)) else {
            return Err(self.fail(R::UnsupportedCrtValues, "session key derivation failed"));
        };
        self.receiver = Some(receiver);
        Ok(isc.host_id)
    }

    fn close(&mut self, tag: u32, events: &mut Vec<BppEvent>) -> Result<(), BppFailure> {
        if tag != TAG_BOUND_PROFILE_PACKAGE && self.items_in_sequence == 0 {
            return Err(self.structure("empty sequence"));
        }
        match tag {
            TAG_FIRST_SEQUENCE_OF_87 => {
                let bytes = std::mem::take(&mut *self.buffer);
                if single_with_tag(&bytes, TAG_CONFIGURE_ISDP, "ConfigureISDPRequest").is_err() {
                    return Err(self.fail(
                        ErrorReason::IncorrectInputValues,
                        "ConfigureISDP payload is not one BF24 TLV",
                    ));
                }
                self.phase = Phase::MetaHeader;
                events.push(BppEvent::ConfigureIsdp(bytes));
            }
            TAG_SEQUENCE_OF_88 => {
                let bytes = std::mem::take(&mut *self.buffer);
                // A failure of the request as a whole is reported as storeMetadata.
                self.items_in_sequence = 0;
                if single_with_tag(&bytes, TAG_STORE_METADATA, "StoreMetadataRequest").is_err() {
                    return Err(self.fail(
                        ErrorReason::IncorrectInputValues,
                        "StoreMetadata payload is not one BF25 TLV",
                    ));
                }
                self.phase = Phase::SecondOrProfileHeader;
                events.push(BppEvent::StoreMetadata(bytes));
            }
            TAG_SECOND_SEQUENCE_OF_87 => {
                let rsk = match ReplaceSessionKeys::decode(&self.buffer) {
                    Ok(rsk) => rsk,
                    Err(e) => {
                        return Err(self.fail(
                            ErrorReason::from_bsp(&e),
                            "malformed ReplaceSessionKeysRequest",
                        ));
                    }
                };
                self.buffer = Zeroizing::new(Vec::new());
                let replaced = self
                    .receiver
                    .as_mut()
                    .map(|r| r.replace_session_keys(&rsk.keys));
                if !matches!(replaced, Some(Ok(()))) {
                    return Err(self.fail(ErrorReason::BspSecurityError, "key replacement failed"));
                }
                self.phase = Phase::ProfileHeader;
                events.push(BppEvent::SessionKeysReplaced);
            }
            TAG_SEQUENCE_OF_86 => self.phase = Phase::ProfileDone,
            TAG_BOUND_PROFILE_PACKAGE => {
                if self.phase != Phase::ProfileDone {
                    return Err(self.structure("BoundProfilePackage ends early"));
                }
                self.phase = Phase::Done;
                self.receiver = None;
                let upp = std::mem::replace(&mut self.upp, Zeroizing::new(Vec::new()));
                events.push(BppEvent::Complete(upp));
            }
            _ => return Err(self.structure("unexpected sequence")),
        }
        Ok(())
    }
}
