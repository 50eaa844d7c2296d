//! Every card command SGP.02 sends to an M2M eUICC, as one typed enum [`CardCommand`] with one
//! encoder ([`CardCommand::to_apdu`]) and one parser ([`CardCommand::parse`]).
//!
//! Encodings follow the on-card command table of `sgp02.md` §13 (njiwa \[NJ\], SGP.02 §4.1) and the
//! GlobalPlatform Card Specification:
//!
//! | command | header | data |
//! |---|---|---|
//! | INSTALL [for install and make selectable] (CreateISDP) | `80 E6 0C 00` | LV(ELF AID) LV(module AID) LV(ISD-P AID) LV(privileges) LV(`C9 {81 02 03 70}` [`EF {83 ..}`]) LV(token) |
//! | INSTALL [for personalization] | `80 E6 20 00` | `00 00` LV(AID) `00 00 00` |
//! | STORE DATA, DGI format | `80 E2 P1 P2` | one DGI `3A01`..`3A08` (see [`StoreDataContent`]) |
//! | DELETE ISD-P | `80 E4 00 40` | `4F <AID>` |
//! | DELETE key set (FinaliseISDRhandover) | `80 E4 00 00` | `F2 03 <KVN> <first key id> <last key id>` |
//! | GET STATUS | `80 F2 40 02` | `4F <AID>` or `4F 00`, optional `5C <tag list>` |
//! | GET DATA | `80 CA 00 5A` / `80 CA BF 30` (`5C 02 7F 21`) / `80 CA FF 21` | |
//! | SELECT by AID | `00 A4 04 00` | AID |
//!
//! STORE DATA P1 (GP Card Specification, STORE DATA): b8 = last block, b7-b6 = encryption
//! information (must be `00` here), b5-b4 = data structure (must be `01` = DGI format), b3-b2 RFU,
//! b1 = response data expected; P2 = block number. So `80 E2 88 00` is a single last block without
//! response data, `80 E2 89 00` expects response data, `80 E2 09 00` / `80 E2 89 01` are the two
//! blocks of a Scenario#3 key establishment.
//!
//! Parsing is lenient where it costs nothing (any logical channel, Le present or absent, unknown
//! TLVs inside install parameters or the CRT ignored) and strict elsewhere; [`CommandError`] names
//! the failure and [`CommandError::status_word`] the status word a card answers.

use rsp_types::tlv::{self, Tag, TlvError, dgi};
use rsp_types::{Aid, AidError};

use crate::apdu::{ApduError, Cla, CommandApdu};
use crate::sw::StatusWord;

pub(crate) const fn tag(v: u32) -> Tag {
    match Tag::from_u32(v) {
        Ok(t) => t,
        Err(_) => panic!("invalid tag constant"),
    }
}

/// Instruction byte of INSTALL.
pub const INS_INSTALL: u8 = 0xE6;
/// Instruction byte of STORE DATA.
pub const INS_STORE_DATA: u8 = 0xE2;
/// Instruction byte of DELETE.
pub const INS_DELETE: u8 = 0xE4;
/// Instruction byte of GET STATUS.
pub const INS_GET_STATUS: u8 = 0xF2;
/// Instruction byte of GET DATA.
pub const INS_GET_DATA: u8 = 0xCA;
/// Instruction byte of SELECT.
pub const INS_SELECT: u8 = 0xA4;

/// DGI `3A01`: certificate of the off-card entity (`7F21`, CERT.DP.ECDSA or CERT.SR.ECDSA).
pub const DGI_CERTIFICATE: u16 = 0x3A01;
/// DGI `3A02`: Scenario#3 key agreement (`A6` CRT), followed by `7F49` and `5F37`.
pub const DGI_KEY_AGREEMENT: u16 = 0x3A02;
/// DGI `3A03`: enable profile `{4F ISD-P AID}`.
pub const DGI_ENABLE_PROFILE: u16 = 0x3A03;
/// DGI `3A04`: disable profile `{4F ISD-P AID}`.
pub const DGI_DISABLE_PROFILE: u16 = 0x3A04;
/// DGI `3A05`: set the Fall-Back attribute `{4F ISD-P AID}` (project-defined, U-12).
pub const DGI_SET_FALL_BACK_ATTRIBUTE: u16 = 0x3A05;
/// DGI `3A06`: set the Emergency Profile attribute `{4F ISD-P AID}` (project-defined, U-12).
pub const DGI_SET_EMERGENCY_PROFILE_ATTRIBUTE: u16 = 0x3A06;
/// DGI `3A07`: update connectivity parameters of the ISD-R.
pub const DGI_CONNECTIVITY_PARAMETERS: u16 = 0x3A07;
/// DGI `3A08`: notification confirmation `{4E sequence number}`.
pub const DGI_NOTIFICATION_CONFIRMATION: u16 = 0x3A08;

/// `4F`: AID.
pub const TAG_AID: Tag = tag(0x4F);
/// `4E`: notification sequence number.
pub const TAG_SEQUENCE_NUMBER: Tag = tag(0x4E);
/// `5C`: tag list.
pub const TAG_TAG_LIST: Tag = tag(0x5C);
/// `7F21`: GlobalPlatform certificate.
pub const TAG_CERTIFICATE: Tag = tag(0x7F21);
/// `7F49`: public key data object.
pub const TAG_PUBLIC_KEY: Tag = tag(0x7F49);
/// `5F37`: signature.
pub const TAG_SIGNATURE: Tag = tag(0x5F37);
/// `A6`: control reference template for key agreement.
pub const TAG_CRT_KEY_AGREEMENT: Tag = tag(0xA6);
/// `C9`: application-specific install parameters.
pub const TAG_INSTALL_PARAMETERS: Tag = tag(0xC9);
/// `EF`: system-specific install parameters.
pub const TAG_SYSTEM_PARAMETERS: Tag = tag(0xEF);
/// `F2`: key set to delete (FinaliseISDRhandover).
pub const TAG_DELETE_KEY_SET: Tag = tag(0xF2);

const TAG_SCP: Tag = tag(0x81);
const TAG_NV_QUOTA: Tag = tag(0x83);
const CRT_SCENARIO: Tag = tag(0x90);
const CRT_KEY_USAGE: Tag = tag(0x95);
const CRT_KEY_ACCESS: Tag = tag(0x96);
const CRT_KEY_TYPE: Tag = tag(0x80);
const CRT_KEY_LENGTH: Tag = tag(0x81);
const CRT_KEY_ID: Tag = tag(0x82);
const CRT_KEY_VERSION: Tag = tag(0x83);
const CRT_INITIAL_COUNTER: Tag = tag(0x91);
const CRT_SDIN: Tag = tag(0x45);
const CRT_HOST_ID: Tag = tag(0x84);
const PK_POINT: Tag = tag(0xB0);
const PK_PARAMETER_REFERENCE: Tag = tag(0xF0);

/// Why a command APDU was refused, or a command could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// The APDU layer refused the bytes or fields.
    #[error(transparent)]
    Apdu(#[from] ApduError),
    /// A class byte this parser does not accept for the instruction.
    #[error("class byte {cla:02X} not supported for INS {ins:02X}")]
    ClaNotSupported {
        /// CLA.
        cla: u8,
        /// INS.
        ins: u8,
    },
    /// Secure messaging indicated in CLA: unwrap (SCP03 / SCP03t) before parsing.
    #[error("secure messaging indicated in CLA {cla:02X}: unwrap the command first")]
    SecureMessaging {
        /// CLA.
        cla: u8,
    },
    /// The command-chaining bit of CLA is set.
    #[error("command chaining (CLA {cla:02X}) not supported")]
    Chaining {
        /// CLA.
        cla: u8,
    },
    /// An instruction that is not one of the SGP.02 card commands.
    #[error("instruction {ins:02X} not supported")]
    InsNotSupported {
        /// INS.
        ins: u8,
    },
    /// P1/P2 values this command does not support.
    #[error("{command}: P1 P2 = {p1:02X} {p2:02X} not supported")]
    IncorrectP1P2 {
        /// Command name.
        command: &'static str,
        /// P1.
        p1: u8,
        /// P2.
        p2: u8,
    },
    /// The command data are malformed.
    #[error("{command}: malformed data: {reason}")]
    Malformed {
        /// Command name.
        command: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
    /// The command data hold malformed BER-TLV or DGI framing.
    #[error("{command}: {source}")]
    Tlv {
        /// Command name.
        command: &'static str,
        /// The codec error.
        source: TlvError,
    },
    /// An AID of the wrong length.
    #[error("{command}: {source}")]
    Aid {
        /// Command name.
        command: &'static str,
        /// The AID error.
        source: AidError,
    },
    /// A STORE DATA DGI that is not one of `3A01`..`3A08`.
    #[error("STORE DATA: DGI {0:04X} not supported")]
    UnknownDgi(u16),
    /// A GET DATA data object this codec does not know.
    #[error("GET DATA: data object {p1:02X}{p2:02X} not supported")]
    UnknownDataObject {
        /// P1.
        p1: u8,
        /// P2.
        p2: u8,
    },
    /// A field too long for its length encoding (encoder side).
    #[error("{field} of {len} bytes is too long to encode")]
    TooLong {
        /// The field.
        field: &'static str,
        /// Its length.
        len: usize,
    },
}

impl CommandError {
    /// The status word a card answers for this error (GP Card Specification / ISO 7816-4 usage).
    pub fn status_word(&self) -> StatusWord {
        match self {
            CommandError::Apdu(e) => e.status_word(),
            CommandError::ClaNotSupported { .. } => StatusWord::CLA_NOT_SUPPORTED,
            CommandError::SecureMessaging { .. } => StatusWord::SECURE_MESSAGING_NOT_SUPPORTED,
            CommandError::Chaining { .. } => StatusWord::COMMAND_CHAINING_NOT_SUPPORTED,
            CommandError::InsNotSupported { .. } => StatusWord::INS_NOT_SUPPORTED,
            CommandError::IncorrectP1P2 { .. } => StatusWord::INCORRECT_P1_P2,
            CommandError::Malformed { .. }
            | CommandError::Tlv { .. }
            | CommandError::Aid { .. } => StatusWord::INCORRECT_DATA,
            CommandError::UnknownDgi(_) | CommandError::UnknownDataObject { .. } => {
                StatusWord::REFERENCED_DATA_NOT_FOUND
            }
            CommandError::TooLong { .. } => StatusWord::WRONG_LENGTH,
        }
    }
}

fn tlv_err(command: &'static str) -> impl Fn(TlvError) -> CommandError {
    move |source| CommandError::Tlv { command, source }
}

fn aid_from(command: &'static str, bytes: &[u8]) -> Result<Aid, CommandError> {
    Aid::from_bytes(bytes).map_err(|source| CommandError::Aid { command, source })
}

fn malformed(command: &'static str, reason: &'static str) -> CommandError {
    CommandError::Malformed { command, reason }
}

/// Reads a big-endian unsigned integer of 1..=4 bytes.
pub(crate) fn be_uint(bytes: &[u8]) -> Option<u32> {
    if bytes.is_empty() || bytes.len() > 4 {
        return None;
    }
    Some(bytes.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b)))
}

/// Minimal big-endian bytes of `v`, at least `min_len` bytes (1..=4).
pub(crate) fn be_min(v: u32, min_len: usize) -> Vec<u8> {
    let bytes = v.to_be_bytes();
    let skip = bytes
        .iter()
        .take_while(|b| **b == 0)
        .count()
        .min(4 - min_len.clamp(1, 4));
    bytes.get(skip..).unwrap_or_default().to_vec()
}

// ---------------------------------------------------------------------------------------------
// INSTALL
// ---------------------------------------------------------------------------------------------

/// GlobalPlatform privileges, 3 bytes (GP Card Specification, Privileges).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Privileges(pub [u8; 3]);

impl Privileges {
    /// No privilege.
    pub const NONE: Privileges = Privileges([0, 0, 0]);
    /// Byte 1 b8: Security Domain.
    pub const SECURITY_DOMAIN: Privileges = Privileges([0x80, 0, 0]);
    /// Byte 2 b8: Trusted Path.
    pub const TRUSTED_PATH: Privileges = Privileges([0, 0x80, 0]);
    /// Byte 2 b7: Authorized Management.
    pub const AUTHORIZED_MANAGEMENT: Privileges = Privileges([0, 0x40, 0]);
    /// `80 C0 00`: the ISD-P privileges of SGP.02 CreateISDP (Security Domain, Trusted Path,
    /// Authorized Management).
    pub const ISD_P: Privileges = Privileges([0x80, 0xC0, 0x00]);

    /// Union of two privilege sets.
    pub const fn union(self, other: Privileges) -> Privileges {
        Privileges([
            self.0[0] | other.0[0],
            self.0[1] | other.0[1],
            self.0[2] | other.0[2],
        ])
    }

    /// Whether every bit of `other` is set in `self`.
    pub fn contains(self, other: Privileges) -> bool {
        self.0.iter().zip(other.0.iter()).all(|(a, b)| a & b == *b)
    }
}

/// SCP parameter of the ISD-P install parameters, `C9 { 81 02 <SCP id> <i> }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ScpParameters {
    /// Secure channel protocol identifier (`03` = SCP03).
    pub scp: u8,
    /// The "i" parameter (`70` = pseudo-random card challenge, R-MAC and R-ENC, SGP.02 §4.1.3.3).
    pub i: u8,
}

impl ScpParameters {
    /// `03 70`: SCP03 with i = `70`, as SGP.02 requires for ISD-Ps.
    pub const SCP03_I70: ScpParameters = ScpParameters { scp: 0x03, i: 0x70 };
}

/// Install parameters of an ISD-P (SGP.02 §4.1.1.1, "Table 10" of v4.2).
///
/// Encoded `C9 { 81 02 <scp> <i> }` (`C9 00` when `scp` is `None`), then
/// `EF { 83 <quota> }` when a non-volatile memory quota is given (at least 2 bytes, big-endian).
/// Other TLVs inside `C9` / `EF`, and other top-level TLVs, are ignored on input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct InstallParameters {
    /// SCP parameters (`81` inside `C9`).
    pub scp: Option<ScpParameters>,
    /// Non-volatile memory quota in bytes (`83` inside `EF`).
    pub non_volatile_quota: Option<u32>,
}

impl InstallParameters {
    /// The SGP.02 ISD-P install parameters: SCP03 i=`70`, with an optional memory quota.
    pub const fn isd_p(non_volatile_quota: Option<u32>) -> InstallParameters {
        InstallParameters {
            scp: Some(ScpParameters::SCP03_I70),
            non_volatile_quota,
        }
    }

    /// Encodes the install parameters field (the value inside its LV).
    pub fn encode(&self) -> Result<Vec<u8>, CommandError> {
        let err = tlv_err("INSTALL");
        let mut c9 = Vec::new();
        if let Some(scp) = self.scp {
            tlv::encode_tlv(TAG_SCP, &[scp.scp, scp.i], &mut c9).map_err(&err)?;
        }
        let mut out = Vec::new();
        tlv::encode_tlv(TAG_INSTALL_PARAMETERS, &c9, &mut out).map_err(&err)?;
        if let Some(q) = self.non_volatile_quota {
            let mut ef = Vec::new();
            tlv::encode_tlv(TAG_NV_QUOTA, &be_min(q, 2), &mut ef).map_err(&err)?;
            tlv::encode_tlv(TAG_SYSTEM_PARAMETERS, &ef, &mut out).map_err(&err)?;
        }
        Ok(out)
    }

    /// Parses the install parameters field; `C9` is required.
    pub fn parse(bytes: &[u8]) -> Result<InstallParameters, CommandError> {
        const CMD: &str = "INSTALL";
        let err = tlv_err(CMD);
        let mut c9 = None;
        let mut ef = None;
        for item in tlv::iter(bytes) {
            let t = item.map_err(&err)?;
            if t.tag == TAG_INSTALL_PARAMETERS && c9.is_none() {
                c9 = Some(t);
            } else if t.tag == TAG_SYSTEM_PARAMETERS && ef.is_none() {
                ef = Some(t);
            }
        }
        let c9 = c9.ok_or(malformed(CMD, "install parameters lack C9"))?;
        let scp = match c9.find(TAG_SCP).map_err(&err)? {
            None => None,
            Some(t) => match t.value {
                [scp, i] => Some(ScpParameters { scp: *scp, i: *i }),
                _ => return Err(malformed(CMD, "SCP parameter 81 must be 2 bytes")),
            },
        };
        let non_volatile_quota = match ef {
            None => None,
            Some(ef) => match ef.find(TAG_NV_QUOTA).map_err(&err)? {
                None => None,
                Some(t) => Some(
                    be_uint(t.value).ok_or(malformed(CMD, "memory quota must be 1 to 4 bytes"))?,
                ),
            },
        };
        Ok(InstallParameters {
            scp,
            non_volatile_quota,
        })
    }
}

/// INSTALL [for install and make selectable] (`80 E6 0C 00`): ES5.CreateISDP.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InstallForInstall {
    /// Executable load file AID (EIS `Isd-p-loadfile-aid`).
    pub load_file_aid: Aid,
    /// Executable module AID (EIS `Isd-p-module-aid`).
    pub module_aid: Aid,
    /// AID of the new application: the ISD-P AID.
    pub application_aid: Aid,
    /// Privileges (`80 C0 00` for an ISD-P).
    pub privileges: Privileges,
    /// Install parameters.
    pub parameters: InstallParameters,
    /// Install token; empty = no token (`00`).
    pub token: Vec<u8>,
}

/// INSTALL [for personalization] (`80 E6 20 00`): routes the following STORE DATA to an
/// application (SGP.02 §4.1.3.1: to the ISD-P, for its Scenario#3 key establishment).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct InstallForPersonalization {
    /// The application (ISD-P) AID.
    pub application_aid: Aid,
}

/// Reads length-value fields with a one-byte length, as INSTALL data use them.
struct LvReader<'a> {
    rest: &'a [u8],
    command: &'static str,
}

impl<'a> LvReader<'a> {
    fn next(&mut self) -> Result<&'a [u8], CommandError> {
        let (len, rest) = self
            .rest
            .split_first()
            .ok_or(malformed(self.command, "data end before a length field"))?;
        let len = usize::from(*len);
        if rest.len() < len {
            return Err(malformed(self.command, "length field exceeds the data"));
        }
        let (value, rest) = rest.split_at(len);
        self.rest = rest;
        Ok(value)
    }
}

fn push_lv(out: &mut Vec<u8>, field: &'static str, value: &[u8]) -> Result<(), CommandError> {
    let len = u8::try_from(value.len()).map_err(|_| CommandError::TooLong {
        field,
        len: value.len(),
    })?;
    out.push(len);
    out.extend_from_slice(value);
    Ok(())
}

impl InstallForInstall {
    /// The SGP.02 CreateISDP command for `isd_p_aid`.
    pub fn create_isd_p(
        load_file_aid: Aid,
        module_aid: Aid,
        isd_p_aid: Aid,
        non_volatile_quota: Option<u32>,
    ) -> InstallForInstall {
        InstallForInstall {
            load_file_aid,
            module_aid,
            application_aid: isd_p_aid,
            privileges: Privileges::ISD_P,
            parameters: InstallParameters::isd_p(non_volatile_quota),
            token: Vec::new(),
        }
    }

    fn encode_data(&self) -> Result<Vec<u8>, CommandError> {
        let mut out = Vec::new();
        push_lv(&mut out, "load file AID", self.load_file_aid.as_bytes())?;
        push_lv(&mut out, "module AID", self.module_aid.as_bytes())?;
        push_lv(&mut out, "application AID", self.application_aid.as_bytes())?;
        push_lv(&mut out, "privileges", &self.privileges.0)?;
        push_lv(&mut out, "install parameters", &self.parameters.encode()?)?;
        push_lv(&mut out, "install token", &self.token)?;
        Ok(out)
    }

    fn parse_data(data: &[u8]) -> Result<InstallForInstall, CommandError> {
        const CMD: &str = "INSTALL [for install]";
        let mut r = LvReader {
            rest: data,
            command: CMD,
        };
        let load_file_aid = aid_from(CMD, r.next()?)?;
        let module_aid = aid_from(CMD, r.next()?)?;
        let application_aid = aid_from(CMD, r.next()?)?;
        let privileges = match r.next()? {
            [a] => Privileges([*a, 0, 0]),
            [a, b, c] => Privileges([*a, *b, *c]),
            _ => return Err(malformed(CMD, "privileges must be 1 or 3 bytes")),
        };
        let parameters = InstallParameters::parse(r.next()?)?;
        // The token LV may be absent altogether (treated as "no token").
        let token = if r.rest.is_empty() {
            Vec::new()
        } else {
            r.next()?.to_vec()
        };
        if !r.rest.is_empty() {
            return Err(malformed(CMD, "trailing bytes after the install token"));
        }
        Ok(InstallForInstall {
            load_file_aid,
            module_aid,
            application_aid,
            privileges,
            parameters,
            token,
        })
    }
}

impl InstallForPersonalization {
    fn encode_data(&self) -> Result<Vec<u8>, CommandError> {
        let mut out = vec![0x00, 0x00];
        push_lv(&mut out, "application AID", self.application_aid.as_bytes())?;
        out.extend_from_slice(&[0x00, 0x00, 0x00]);
        Ok(out)
    }

    fn parse_data(data: &[u8]) -> Result<InstallForPersonalization, CommandError> {
        const CMD: &str = "INSTALL [for personalization]";
        let mut r = LvReader {
            rest: data,
            command: CMD,
        };
        if !r.next()?.is_empty() || !r.next()?.is_empty() {
            return Err(malformed(CMD, "load file and module AID must be empty"));
        }
        let application_aid = aid_from(CMD, r.next()?)?;
        // Privileges, parameters and token: present and empty in SGP.02; tolerate their absence.
        while !r.rest.is_empty() {
            r.next()?;
        }
        Ok(InstallForPersonalization { application_aid })
    }
}

// ---------------------------------------------------------------------------------------------
// Scenario#3 key agreement (GP Amendment E / SGP.02 §14)
// ---------------------------------------------------------------------------------------------

/// Control reference template `A6` for key agreement (`sgp02.md` §14.2).
///
/// Encoded in the order `90 95 [96] 80 81 82 83 [91] [45] [84]`; any order is accepted on input,
/// unknown tags are ignored, a repeated tag is refused.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyAgreementCrt {
    /// First byte of `90`: the scenario identifier (`03` = Scenario#3).
    pub scenario: u8,
    /// Second byte of `90`: scenario parameters (see `SCENARIO_*` constants).
    pub scenario_parameters: u8,
    /// `95`: key usage qualifier (`10` = 3-key SCP03 set, `5C` = single key).
    pub key_usage: u8,
    /// `96`: key access (optional).
    pub key_access: Option<u8>,
    /// `80`: key type (`88` = AES, `85` = TLS pre-shared key).
    pub key_type: u8,
    /// `81`: key length in bytes.
    pub key_length: u8,
    /// `82`: key identifier (of the first key).
    pub key_id: u8,
    /// `83`: key version number.
    pub key_version: u8,
    /// `91`: initial sequence counter; `Some(empty)` encodes `91 00`, `None` omits the tag.
    pub initial_counter: Option<Vec<u8>>,
    /// `45`: SD image number (SDIN), when scenario parameter bit `04` is set.
    pub sdin: Option<Vec<u8>>,
    /// `84`: HostID, when scenario parameter bit `04` is set.
    pub host_id: Option<Vec<u8>>,
}

impl KeyAgreementCrt {
    /// Scenario identifier of ECKA-EG Scenario#3.
    pub const SCENARIO_3: u8 = 0x03;
    /// Scenario parameter bit: delete existing keys of that version (GP Amendment A).
    pub const SCENARIO_DELETE_EXISTING_KEYS: u8 = 0x01;
    /// Scenario parameter bit: the card generates a derivation random DR.
    pub const SCENARIO_INCLUDE_DR: u8 = 0x02;
    /// Scenario parameter bit: SDIN and HostID take part in the derivation.
    pub const SCENARIO_INCLUDE_SDIN_HOST_ID: u8 = 0x04;
    /// Scenario parameter bit: certificate verification precedes the key establishment.
    pub const SCENARIO_CERTIFICATE_PRECEDES: u8 = 0x08;
    /// Key usage qualifier: 3-key SCP03 (or SCP80) key set.
    pub const KEY_USAGE_THREE_KEYS: u8 = 0x10;
    /// Key usage qualifier: single key.
    pub const KEY_USAGE_ONE_KEY: u8 = 0x5C;
    /// Key type AES.
    pub const KEY_TYPE_AES: u8 = 0x88;
    /// Key type TLS pre-shared key (SCP81).
    pub const KEY_TYPE_PSK_TLS: u8 = 0x85;

    /// An SCP03 key set of 16-byte AES keys, as the SM-DP requests for an ISD-P.
    pub fn scp03(key_id: u8, key_version: u8, scenario_parameters: u8) -> KeyAgreementCrt {
        KeyAgreementCrt {
            scenario: Self::SCENARIO_3,
            scenario_parameters,
            key_usage: Self::KEY_USAGE_THREE_KEYS,
            key_access: None,
            key_type: Self::KEY_TYPE_AES,
            key_length: 16,
            key_id,
            key_version,
            initial_counter: Some(Vec::new()),
            sdin: None,
            host_id: None,
        }
    }

    /// An SCP81 pre-shared key (njiwa "CreateSCP81KeySet"): key type PSK-TLS, 5-byte initial
    /// counter 1, key access `00`.
    pub fn scp81_psk(key_id: u8, key_version: u8, scenario_parameters: u8) -> KeyAgreementCrt {
        KeyAgreementCrt {
            scenario: Self::SCENARIO_3,
            scenario_parameters,
            key_usage: Self::KEY_USAGE_ONE_KEY,
            key_access: Some(0x00),
            key_type: Self::KEY_TYPE_PSK_TLS,
            key_length: 16,
            key_id,
            key_version,
            initial_counter: Some(vec![0, 0, 0, 0, 1]),
            sdin: None,
            host_id: None,
        }
    }

    /// Whether the card must return a derivation random DR.
    pub fn includes_dr(&self) -> bool {
        self.scenario_parameters & Self::SCENARIO_INCLUDE_DR != 0
    }

    /// Encodes the complete `A6` TLV.
    pub fn encode(&self) -> Result<Vec<u8>, CommandError> {
        let err = tlv_err("STORE DATA 3A02");
        let mut v = Vec::new();
        let mut put = |t: Tag, value: &[u8]| tlv::encode_tlv(t, value, &mut v);
        put(CRT_SCENARIO, &[self.scenario, self.scenario_parameters]).map_err(&err)?;
        put(CRT_KEY_USAGE, &[self.key_usage]).map_err(&err)?;
        if let Some(a) = self.key_access {
            put(CRT_KEY_ACCESS, &[a]).map_err(&err)?;
        }
        put(CRT_KEY_TYPE, &[self.key_type]).map_err(&err)?;
        put(CRT_KEY_LENGTH, &[self.key_length]).map_err(&err)?;
        put(CRT_KEY_ID, &[self.key_id]).map_err(&err)?;
        put(CRT_KEY_VERSION, &[self.key_version]).map_err(&err)?;
        if let Some(c) = &self.initial_counter {
            put(CRT_INITIAL_COUNTER, c).map_err(&err)?;
        }
        if let Some(s) = &self.sdin {
            put(CRT_SDIN, s).map_err(&err)?;
        }
        if let Some(h) = &self.host_id {
            put(CRT_HOST_ID, h).map_err(&err)?;
        }
        tlv::encode_tlv_to_vec(TAG_CRT_KEY_AGREEMENT, &v).map_err(&err)
    }

    /// Parses the value of an `A6` TLV (its children).
    pub fn parse_value(value: &[u8]) -> Result<KeyAgreementCrt, CommandError> {
        const CMD: &str = "STORE DATA 3A02";
        let err = tlv_err(CMD);
        let mut scenario = None;
        let mut key_usage = None;
        let mut key_access = None;
        let mut key_type = None;
        let mut key_length = None;
        let mut key_id = None;
        let mut key_version = None;
        let mut initial_counter = None;
        let mut sdin = None;
        let mut host_id = None;
        fn one(slot: &mut Option<u8>, v: &[u8]) -> Result<(), CommandError> {
            match (slot.is_some(), v) {
                (false, [b]) => {
                    *slot = Some(*b);
                    Ok(())
                }
                (true, _) => Err(malformed(CMD, "repeated tag in the A6 CRT")),
                _ => Err(malformed(CMD, "A6 CRT field must be 1 byte")),
            }
        }
        fn bytes(slot: &mut Option<Vec<u8>>, v: &[u8]) -> Result<(), CommandError> {
            if slot.is_some() {
                return Err(malformed(CMD, "repeated tag in the A6 CRT"));
            }
            *slot = Some(v.to_vec());
            Ok(())
        }
        for item in tlv::iter(value) {
            let t = item.map_err(&err)?;
            match t.tag.value() {
                0x90 => match (scenario.is_some(), t.value) {
                    (false, [s, p]) => scenario = Some((*s, *p)),
                    (true, _) => return Err(malformed(CMD, "repeated tag in the A6 CRT")),
                    _ => return Err(malformed(CMD, "A6 CRT tag 90 must be 2 bytes")),
                },
                0x95 => one(&mut key_usage, t.value)?,
                0x96 => one(&mut key_access, t.value)?,
                0x80 => one(&mut key_type, t.value)?,
                0x81 => one(&mut key_length, t.value)?,
                0x82 => one(&mut key_id, t.value)?,
                0x83 => one(&mut key_version, t.value)?,
                0x91 => bytes(&mut initial_counter, t.value)?,
                0x45 => bytes(&mut sdin, t.value)?,
                0x84 => bytes(&mut host_id, t.value)?,
                _ => {}
            }
        }
        let missing = |what| malformed(CMD, what);
        let (scenario, scenario_parameters) =
            scenario.ok_or(missing("A6 CRT lacks 90 (scenario)"))?;
        Ok(KeyAgreementCrt {
            scenario,
            scenario_parameters,
            key_usage: key_usage.ok_or(missing("A6 CRT lacks 95 (key usage)"))?,
            key_access,
            key_type: key_type.ok_or(missing("A6 CRT lacks 80 (key type)"))?,
            key_length: key_length.ok_or(missing("A6 CRT lacks 81 (key length)"))?,
            key_id: key_id.ok_or(missing("A6 CRT lacks 82 (key identifier)"))?,
            key_version: key_version.ok_or(missing("A6 CRT lacks 83 (key version)"))?,
            initial_counter,
            sdin,
            host_id,
        })
    }
}

/// Public key data object `7F49 { B0 <Q>, F0 <key parameter reference> }` (GP Amendment E).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PublicKeyDo {
    /// `B0`: the public point, uncompressed (`04 ‖ X ‖ Y`).
    pub q: Vec<u8>,
    /// `F0`: key parameter reference (`00` = NIST P-256, `03` = brainpoolP256r1), when present.
    pub key_parameter_reference: Option<u8>,
}

impl PublicKeyDo {
    /// Encodes the complete `7F49` TLV.
    pub fn encode(&self) -> Result<Vec<u8>, CommandError> {
        let err = tlv_err("7F49");
        let mut v = Vec::new();
        tlv::encode_tlv(PK_POINT, &self.q, &mut v).map_err(&err)?;
        if let Some(r) = self.key_parameter_reference {
            tlv::encode_tlv(PK_PARAMETER_REFERENCE, &[r], &mut v).map_err(&err)?;
        }
        tlv::encode_tlv_to_vec(TAG_PUBLIC_KEY, &v).map_err(&err)
    }

    /// Parses the value of a `7F49` TLV.
    pub fn parse_value(value: &[u8]) -> Result<PublicKeyDo, CommandError> {
        const CMD: &str = "7F49";
        let err = tlv_err(CMD);
        let mut q = None;
        let mut key_parameter_reference = None;
        for item in tlv::iter(value) {
            let t = item.map_err(&err)?;
            match t.tag.value() {
                0xB0 if q.is_none() => q = Some(t.value.to_vec()),
                0xF0 if key_parameter_reference.is_none() => match t.value {
                    [r] => key_parameter_reference = Some(*r),
                    _ => return Err(malformed(CMD, "key parameter reference must be 1 byte")),
                },
                0xB0 | 0xF0 => return Err(malformed(CMD, "repeated tag in 7F49")),
                _ => {}
            }
        }
        Ok(PublicKeyDo {
            q: q.ok_or(malformed(CMD, "7F49 lacks B0 (public point)"))?,
            key_parameter_reference,
        })
    }
}

/// Scenario#3 key agreement: STORE DATA `3A02 { A6 <CRT> }` ‖ `7F49 <ePK>` ‖ `5F37 <signature>`.
///
/// `signature` is `None` in the SCP81/PSK variant sent under the ISD-R's own secure channel
/// (njiwa "CreateSCP81KeySet"), which carries no `5F37`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyAgreement {
    /// The control reference template.
    pub crt: KeyAgreementCrt,
    /// The off-card entity's ephemeral public key (ePK.DP.ECKA / ePK.SR.ECKA).
    pub ephemeral_public_key: PublicKeyDo,
    /// The value of `5F37`: signature with SK.DP.ECDSA / SK.SR.ECDSA over [`signed_data`].
    pub signature: Option<Vec<u8>>,
}

/// The raw parts of a received `3A02` STORE DATA body, for verifying the signature over the bytes
/// as received (never over a re-encoding).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyAgreementRaw<'a> {
    /// The complete `3A02` DGI (identifier, length, value) as received.
    pub dgi: &'a [u8],
    /// The `A6` CRT TLV as received (the receipt input starts with it).
    pub crt: &'a [u8],
    /// The complete `7F49` TLV as received.
    pub public_key: &'a [u8],
    /// The value of `5F37`, if present.
    pub signature: Option<&'a [u8]>,
}

/// `85`: tag of RC (random challenge) and DR (derivation random) (C-18, `sgp02.md` §14.3).
pub const TAG_RANDOM: Tag = tag(0x85);
/// `86`: tag of the receipt.
pub const TAG_RECEIPT: Tag = tag(0x86);

/// The data signed by the off-card entity in Scenario#3 step 2 (decision C-18):
/// the `3A02` DGI ‖ the `7F49` TLV ‖ `85 <len> RC`. One function for the SM-DP, SM-SR2 and the card.
pub fn signed_data(dgi_3a02: &[u8], public_key_tlv: &[u8], rc: &[u8]) -> Result<Vec<u8>, TlvError> {
    let mut out = Vec::with_capacity(dgi_3a02.len() + public_key_tlv.len() + rc.len() + 4);
    out.extend_from_slice(dgi_3a02);
    out.extend_from_slice(public_key_tlv);
    tlv::encode_tlv(TAG_RANDOM, rc, &mut out)?;
    Ok(out)
}

/// The receipt input (GP Amendment E Table 4-22, `sgp02.md` §14.3): the `A6` CRT TLV ‖ `85 <DR>`
/// when a DR was generated. The receipt is AES-CMAC over it with the receipt key.
pub fn receipt_input(crt_tlv: &[u8], dr: Option<&[u8]>) -> Result<Vec<u8>, TlvError> {
    let mut out = crt_tlv.to_vec();
    if let Some(dr) = dr {
        tlv::encode_tlv(TAG_RANDOM, dr, &mut out)?;
    }
    Ok(out)
}

impl KeyAgreement {
    /// The `3A02` DGI of this key agreement (the CRT wrapped in the DGI).
    pub fn dgi(&self) -> Result<Vec<u8>, CommandError> {
        dgi::encode_to_vec(DGI_KEY_AGREEMENT, &self.crt.encode()?)
            .map_err(tlv_err("STORE DATA 3A02"))
    }

    /// The data to sign for this key agreement and the card's challenge `rc` ([`signed_data`]).
    pub fn signed_data(&self, rc: &[u8]) -> Result<Vec<u8>, CommandError> {
        signed_data(&self.dgi()?, &self.ephemeral_public_key.encode()?, rc)
            .map_err(tlv_err("STORE DATA 3A02"))
    }

    fn encode_body(&self) -> Result<Vec<u8>, CommandError> {
        let mut out = self.dgi()?;
        out.extend_from_slice(&self.ephemeral_public_key.encode()?);
        if let Some(sig) = &self.signature {
            tlv::encode_tlv(TAG_SIGNATURE, sig, &mut out).map_err(tlv_err("STORE DATA 3A02"))?;
        }
        Ok(out)
    }

    /// Splits a `3A02` STORE DATA body into its raw parts. Also accepts the njiwa SCP81 form that
    /// starts with a bare `A6` CRT instead of the `3A02` DGI (then `dgi` equals `crt`).
    pub fn split_raw(body: &[u8]) -> Result<KeyAgreementRaw<'_>, CommandError> {
        const CMD: &str = "STORE DATA 3A02";
        let err = tlv_err(CMD);
        let (dgi_raw, crt, rest) = if body.first() == Some(&0xA6) {
            let (crt, rest) = tlv::parse_one(body).map_err(&err)?;
            (crt.raw(), crt.raw(), rest)
        } else {
            let (d, rest) = dgi::parse_one(body).map_err(&err)?;
            if d.id != DGI_KEY_AGREEMENT {
                return Err(CommandError::UnknownDgi(d.id));
            }
            let crt = tlv::parse_single(d.value).map_err(&err)?;
            (d.raw(), crt.raw(), rest)
        };
        let (pk, rest) = tlv::parse_one(rest).map_err(&err)?;
        let pk = pk.expect_tag(TAG_PUBLIC_KEY).map_err(&err)?;
        let signature = if rest.is_empty() {
            None
        } else {
            let sig = tlv::parse_single(rest).map_err(&err)?;
            Some(sig.expect_tag(TAG_SIGNATURE).map_err(&err)?.value)
        };
        Ok(KeyAgreementRaw {
            dgi: dgi_raw,
            crt,
            public_key: pk.raw(),
            signature,
        })
    }

    /// Parses a `3A02` STORE DATA body.
    pub fn parse_body(body: &[u8]) -> Result<KeyAgreement, CommandError> {
        const CMD: &str = "STORE DATA 3A02";
        let err = tlv_err(CMD);
        let raw = Self::split_raw(body)?;
        let crt = tlv::parse_single(raw.crt)
            .and_then(|t| t.expect_tag(TAG_CRT_KEY_AGREEMENT))
            .map_err(&err)?;
        let pk = tlv::parse_single(raw.public_key).map_err(&err)?;
        Ok(KeyAgreement {
            crt: KeyAgreementCrt::parse_value(crt.value)?,
            ephemeral_public_key: PublicKeyDo::parse_value(pk.value)?,
            signature: raw.signature.map(<[u8]>::to_vec),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// STORE DATA
// ---------------------------------------------------------------------------------------------

/// What a STORE DATA (DGI format) carries.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum StoreDataContent {
    /// `3A01 { 7F21 … }`: the off-card entity's certificate (ES8/ES5 key establishment step 1).
    /// Holds the complete `7F21` TLV; the card answers with RC (`85`).
    Certificate {
        /// The `7F21` TLV.
        certificate: Vec<u8>,
    },
    /// `3A02 { A6 }`, `7F49`, `5F37`: key agreement (step 2); the card answers `85 DR`? `86 receipt`.
    KeyAgreement(KeyAgreement),
    /// `3A03 { 4F }`: ES5.EnableProfile.
    EnableProfile {
        /// The ISD-P to enable.
        isd_p_aid: Aid,
    },
    /// `3A04 { 4F }`: ES5.DisableProfile.
    DisableProfile {
        /// The ISD-P to disable.
        isd_p_aid: Aid,
    },
    /// `3A05 { 4F }`: set the Fall-Back attribute on this ISD-P (moves it; project-defined, U-12).
    SetFallBackAttribute {
        /// The new Fall-Back profile's ISD-P.
        isd_p_aid: Aid,
    },
    /// `3A06 { 4F }`: set the Emergency Profile attribute on this ISD-P (moves it from any other
    /// holder; project-defined, U-12).
    SetEmergencyProfileAttribute {
        /// The new Emergency profile's ISD-P.
        isd_p_aid: Aid,
    },
    /// `3A07 { … }`: ISD-R connectivity parameters (SGP.02 §4.1.3.4). The BER-TLV content is
    /// checked for well-formedness only (its tags are \[GAP\]).
    UpdateConnectivityParameters {
        /// The DGI value: BER-TLV objects.
        parameters: Vec<u8>,
    },
    /// `3A08 { 4E <seq> }`: ES5.NotificationConfirmation.
    NotificationConfirmation {
        /// Sequence number of the confirmed Default Notification.
        sequence_number: u16,
    },
}

impl StoreDataContent {
    /// The DGI this content uses.
    pub fn dgi(&self) -> u16 {
        match self {
            StoreDataContent::Certificate { .. } => DGI_CERTIFICATE,
            StoreDataContent::KeyAgreement(_) => DGI_KEY_AGREEMENT,
            StoreDataContent::EnableProfile { .. } => DGI_ENABLE_PROFILE,
            StoreDataContent::DisableProfile { .. } => DGI_DISABLE_PROFILE,
            StoreDataContent::SetFallBackAttribute { .. } => DGI_SET_FALL_BACK_ATTRIBUTE,
            StoreDataContent::SetEmergencyProfileAttribute { .. } => {
                DGI_SET_EMERGENCY_PROFILE_ATTRIBUTE
            }
            StoreDataContent::UpdateConnectivityParameters { .. } => DGI_CONNECTIVITY_PARAMETERS,
            StoreDataContent::NotificationConfirmation { .. } => DGI_NOTIFICATION_CONFIRMATION,
        }
    }

    /// Encodes the STORE DATA body.
    pub fn encode(&self) -> Result<Vec<u8>, CommandError> {
        const CMD: &str = "STORE DATA";
        let err = tlv_err(CMD);
        let aid_dgi = |id: u16, aid: &Aid| -> Result<Vec<u8>, CommandError> {
            let inner = tlv::encode_tlv_to_vec(TAG_AID, aid.as_bytes()).map_err(&err)?;
            dgi::encode_to_vec(id, &inner).map_err(&err)
        };
        match self {
            StoreDataContent::Certificate { certificate } => {
                dgi::encode_to_vec(DGI_CERTIFICATE, certificate).map_err(&err)
            }
            StoreDataContent::KeyAgreement(ka) => ka.encode_body(),
            StoreDataContent::EnableProfile { isd_p_aid }
            | StoreDataContent::DisableProfile { isd_p_aid }
            | StoreDataContent::SetFallBackAttribute { isd_p_aid }
            | StoreDataContent::SetEmergencyProfileAttribute { isd_p_aid } => {
                aid_dgi(self.dgi(), isd_p_aid)
            }
            StoreDataContent::UpdateConnectivityParameters { parameters } => {
                dgi::encode_to_vec(DGI_CONNECTIVITY_PARAMETERS, parameters).map_err(&err)
            }
            StoreDataContent::NotificationConfirmation { sequence_number } => {
                let inner =
                    tlv::encode_tlv_to_vec(TAG_SEQUENCE_NUMBER, &sequence_number.to_be_bytes())
                        .map_err(&err)?;
                dgi::encode_to_vec(DGI_NOTIFICATION_CONFIRMATION, &inner).map_err(&err)
            }
        }
    }

    /// Parses a STORE DATA body in DGI format.
    pub fn parse(body: &[u8]) -> Result<StoreDataContent, CommandError> {
        const CMD: &str = "STORE DATA";
        let err = tlv_err(CMD);
        if body.first() == Some(&0xA6) {
            // njiwa's SCP81 key agreement without the 3A02 DGI.
            return Ok(StoreDataContent::KeyAgreement(KeyAgreement::parse_body(
                body,
            )?));
        }
        let (d, rest) = dgi::parse_one(body).map_err(&err)?;
        if d.id == DGI_KEY_AGREEMENT {
            return Ok(StoreDataContent::KeyAgreement(KeyAgreement::parse_body(
                body,
            )?));
        }
        if !rest.is_empty() {
            return Err(CommandError::Tlv {
                command: CMD,
                source: TlvError::TrailingData {
                    offset: d.raw().len(),
                    remaining: rest.len(),
                },
            });
        }
        let single_aid = |what: &'static str| -> Result<Aid, CommandError> {
            let t = tlv::parse_single(d.value)
                .and_then(|t| t.expect_tag(TAG_AID))
                .map_err(tlv_err(what))?;
            aid_from(what, t.value)
        };
        match d.id {
            DGI_CERTIFICATE => {
                let cert = tlv::parse_single(d.value)
                    .and_then(|t| t.expect_tag(TAG_CERTIFICATE))
                    .map_err(tlv_err("STORE DATA 3A01"))?;
                Ok(StoreDataContent::Certificate {
                    certificate: cert.raw().to_vec(),
                })
            }
            DGI_ENABLE_PROFILE => Ok(StoreDataContent::EnableProfile {
                isd_p_aid: single_aid("STORE DATA 3A03")?,
            }),
            DGI_DISABLE_PROFILE => Ok(StoreDataContent::DisableProfile {
                isd_p_aid: single_aid("STORE DATA 3A04")?,
            }),
            DGI_SET_FALL_BACK_ATTRIBUTE => Ok(StoreDataContent::SetFallBackAttribute {
                isd_p_aid: single_aid("STORE DATA 3A05")?,
            }),
            DGI_SET_EMERGENCY_PROFILE_ATTRIBUTE => {
                Ok(StoreDataContent::SetEmergencyProfileAttribute {
                    isd_p_aid: single_aid("STORE DATA 3A06")?,
                })
            }
            DGI_CONNECTIVITY_PARAMETERS => {
                tlv::validate(d.value, tlv::DEFAULT_MAX_DEPTH)
                    .map_err(tlv_err("STORE DATA 3A07"))?;
                Ok(StoreDataContent::UpdateConnectivityParameters {
                    parameters: d.value.to_vec(),
                })
            }
            DGI_NOTIFICATION_CONFIRMATION => {
                const C: &str = "STORE DATA 3A08";
                let t = tlv::parse_single(d.value)
                    .and_then(|t| t.expect_tag(TAG_SEQUENCE_NUMBER))
                    .map_err(tlv_err(C))?;
                let sequence_number = match t.value {
                    [lo] => u16::from(*lo),
                    [hi, lo] => u16::from_be_bytes([*hi, *lo]),
                    _ => return Err(malformed(C, "sequence number must be 1 or 2 bytes")),
                };
                Ok(StoreDataContent::NotificationConfirmation { sequence_number })
            }
            other => Err(CommandError::UnknownDgi(other)),
        }
    }
}

/// STORE DATA in DGI format (`80 E2 P1 P2`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StoreData {
    /// P2: block number.
    pub block_number: u8,
    /// P1 b8: last block.
    pub last_block: bool,
    /// P1 b1: response data expected.
    pub response_expected: bool,
    /// The DGI carried.
    pub content: StoreDataContent,
}

impl StoreData {
    /// A single last block without response data (`80 E2 88 00`).
    pub fn single(content: StoreDataContent) -> StoreData {
        StoreData {
            block_number: 0,
            last_block: true,
            response_expected: false,
            content,
        }
    }

    /// A single last block with response data (`80 E2 89 00`).
    pub fn single_with_response(content: StoreDataContent) -> StoreData {
        StoreData {
            response_expected: true,
            ..StoreData::single(content)
        }
    }

    /// P1 as encoded.
    pub fn p1(&self) -> u8 {
        let mut p1 = 0x08; // DGI format
        if self.last_block {
            p1 |= 0x80;
        }
        if self.response_expected {
            p1 |= 0x01;
        }
        p1
    }
}

// ---------------------------------------------------------------------------------------------
// DELETE, GET STATUS, GET DATA, SELECT
// ---------------------------------------------------------------------------------------------

/// DELETE (`80 E4 00 P2`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Delete {
    /// `4F <AID>`: delete an ISD-P; `related_objects` = P2 `40` (delete the object and everything
    /// related to it, as SGP.02 ES5.DeleteProfile uses), else P2 `00`.
    IsdP {
        /// The ISD-P AID.
        isd_p_aid: Aid,
        /// P2 `40`.
        related_objects: bool,
    },
    /// `F2 03 <KVN> <first key id> <last key id>` (P2 `00`): ES5.FinaliseISDRhandover deletes the
    /// key set `key_version`, key identifiers `first_key_id..=last_key_id` (SGP.02 v3.1
    /// §4.1.1.9; `sgp02.md` §13 reads KVN as SM-SR1's old key set).
    KeySet {
        /// Key version number.
        key_version: u8,
        /// First key identifier.
        first_key_id: u8,
        /// Last key identifier.
        last_key_id: u8,
    },
}

impl Delete {
    fn p2(&self) -> u8 {
        match self {
            Delete::IsdP {
                related_objects: true,
                ..
            } => 0x40,
            _ => 0x00,
        }
    }

    fn encode_data(&self) -> Result<Vec<u8>, CommandError> {
        let err = tlv_err("DELETE");
        match self {
            Delete::IsdP { isd_p_aid, .. } => {
                tlv::encode_tlv_to_vec(TAG_AID, isd_p_aid.as_bytes()).map_err(err)
            }
            Delete::KeySet {
                key_version,
                first_key_id,
                last_key_id,
            } => tlv::encode_tlv_to_vec(
                TAG_DELETE_KEY_SET,
                &[*key_version, *first_key_id, *last_key_id],
            )
            .map_err(err),
        }
    }

    fn parse(p2: u8, data: &[u8]) -> Result<Delete, CommandError> {
        const CMD: &str = "DELETE";
        let t = tlv::parse_single(data).map_err(tlv_err(CMD))?;
        match (t.tag.value(), p2) {
            (0x4F, 0x00 | 0x40) => Ok(Delete::IsdP {
                isd_p_aid: aid_from(CMD, t.value)?,
                related_objects: p2 == 0x40,
            }),
            (0xF2, 0x00) => match t.value {
                [key_version, first_key_id, last_key_id] => Ok(Delete::KeySet {
                    key_version: *key_version,
                    first_key_id: *first_key_id,
                    last_key_id: *last_key_id,
                }),
                _ => Err(malformed(CMD, "F2 must hold 3 bytes")),
            },
            (0x4F | 0xF2, _) => Err(CommandError::IncorrectP1P2 {
                command: CMD,
                p1: 0,
                p2,
            }),
            _ => Err(malformed(CMD, "expected 4F (AID) or F2 (key set)")),
        }
    }
}

/// GET STATUS P1: which registry entries are searched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusScope {
    /// `80`: the issuer security domain only.
    IssuerSecurityDomain,
    /// `40`: applications and security domains (ISD-Ps).
    Applications,
    /// `20`: executable load files.
    LoadFiles,
    /// `10`: executable load files and their modules.
    LoadFilesAndModules,
}

impl StatusScope {
    /// The P1 value.
    pub fn p1(self) -> u8 {
        match self {
            StatusScope::IssuerSecurityDomain => 0x80,
            StatusScope::Applications => 0x40,
            StatusScope::LoadFiles => 0x20,
            StatusScope::LoadFilesAndModules => 0x10,
        }
    }

    fn from_p1(p1: u8) -> Option<StatusScope> {
        Some(match p1 {
            0x80 => StatusScope::IssuerSecurityDomain,
            0x40 => StatusScope::Applications,
            0x20 => StatusScope::LoadFiles,
            0x10 => StatusScope::LoadFilesAndModules,
            _ => return None,
        })
    }
}

/// GET STATUS (`80 F2 <P1> 02|03`), TLV response format (P2 b2), data `4F <AID>` (`4F 00` = all)
/// and an optional `5C` tag list.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GetStatus {
    /// P1.
    pub scope: StatusScope,
    /// The AID searched for; `None` encodes `4F 00` (every entry).
    pub aid: Option<Aid>,
    /// P2 b1: next occurrence (after `6310`).
    pub next_occurrence: bool,
    /// `5C`: tags requested; empty = absent (the card's default set).
    pub tag_list: Vec<u8>,
}

impl GetStatus {
    /// GET STATUS of ISD-Ps (`80 F2 40 02`), one AID or all.
    pub fn isd_p(aid: Option<Aid>) -> GetStatus {
        GetStatus {
            scope: StatusScope::Applications,
            aid,
            next_occurrence: false,
            tag_list: Vec::new(),
        }
    }

    fn p2(&self) -> u8 {
        0x02 | u8::from(self.next_occurrence)
    }

    fn encode_data(&self) -> Result<Vec<u8>, CommandError> {
        let err = tlv_err("GET STATUS");
        let aid = self.aid.as_ref().map(Aid::as_bytes).unwrap_or_default();
        let mut out = tlv::encode_tlv_to_vec(TAG_AID, aid).map_err(&err)?;
        if !self.tag_list.is_empty() {
            tlv::encode_tlv(TAG_TAG_LIST, &self.tag_list, &mut out).map_err(&err)?;
        }
        Ok(out)
    }

    fn parse(p1: u8, p2: u8, data: &[u8]) -> Result<GetStatus, CommandError> {
        const CMD: &str = "GET STATUS";
        let err = tlv_err(CMD);
        let scope = StatusScope::from_p1(p1).ok_or(CommandError::IncorrectP1P2 {
            command: CMD,
            p1,
            p2,
        })?;
        if p2 & !0x01 != 0x02 {
            return Err(CommandError::IncorrectP1P2 {
                command: CMD,
                p1,
                p2,
            });
        }
        let mut aid = None;
        let mut seen_aid = false;
        let mut tag_list = Vec::new();
        for item in tlv::iter(data) {
            let t = item.map_err(&err)?;
            if t.tag == TAG_AID && !seen_aid {
                seen_aid = true;
                if !t.value.is_empty() {
                    aid = Some(aid_from(CMD, t.value)?);
                }
            } else if t.tag == TAG_TAG_LIST && tag_list.is_empty() {
                tag_list = t.value.to_vec();
            }
        }
        if !seen_aid {
            return Err(malformed(CMD, "search criteria lack 4F"));
        }
        Ok(GetStatus {
            scope,
            aid,
            next_occurrence: p2 & 0x01 != 0,
            tag_list,
        })
    }
}

/// GET DATA (`80 CA P1 P2`): the data objects SGP.02 reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GetData {
    /// `80 CA 00 5A`: the EID (from the ECASD); answer `5A 10 <EID BCD>`.
    Eid,
    /// `80 CA BF 30` with `5C 02 7F 21`: CERT.ECASD.ECKA; answer `BF30 { 7F21 … }`.
    EcasdCertificate,
    /// `80 CA FF 21`: extended card resources; answer `FF21 { 81, 82, 83 }`.
    ExtendedCardResources,
}

impl GetData {
    fn p1p2(self) -> (u8, u8) {
        match self {
            GetData::Eid => (0x00, 0x5A),
            GetData::EcasdCertificate => (0xBF, 0x30),
            GetData::ExtendedCardResources => (0xFF, 0x21),
        }
    }

    fn data(self) -> Vec<u8> {
        match self {
            GetData::EcasdCertificate => vec![0x5C, 0x02, 0x7F, 0x21],
            _ => Vec::new(),
        }
    }

    fn parse(p1: u8, p2: u8, data: &[u8]) -> Result<GetData, CommandError> {
        const CMD: &str = "GET DATA";
        match (p1, p2) {
            (0x00, 0x5A) => Ok(GetData::Eid),
            (0xFF, 0x21) => Ok(GetData::ExtendedCardResources),
            (0xBF, 0x30) => {
                // The tag list is optional; when present it must name 7F21.
                if !data.is_empty() {
                    let t = tlv::parse_single(data)
                        .and_then(|t| t.expect_tag(TAG_TAG_LIST))
                        .map_err(tlv_err(CMD))?;
                    if t.value != [0x7F, 0x21] {
                        return Err(malformed(CMD, "BF30 tag list must be 7F21"));
                    }
                }
                Ok(GetData::EcasdCertificate)
            }
            _ => Err(CommandError::UnknownDataObject { p1, p2 }),
        }
    }
}

/// SELECT by AID (`00 A4 04 00 <AID> 00`), first or only occurrence, FCI returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Select {
    /// The AID (full or partial).
    pub aid: Aid,
}

// ---------------------------------------------------------------------------------------------
// CardCommand
// ---------------------------------------------------------------------------------------------

/// Every command SGP.02 sends to an M2M eUICC (ISD-R, ISD-P, ECASD).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CardCommand {
    /// SELECT by AID.
    Select(Select),
    /// INSTALL [for install and make selectable]: ES5.CreateISDP.
    InstallForInstall(InstallForInstall),
    /// INSTALL [for personalization].
    InstallForPersonalization(InstallForPersonalization),
    /// STORE DATA (DGI `3A01`..`3A08`).
    StoreData(StoreData),
    /// DELETE (ISD-P or key set).
    Delete(Delete),
    /// GET STATUS.
    GetStatus(GetStatus),
    /// GET DATA.
    GetData(GetData),
}

impl CardCommand {
    /// ES5.CreateISDP: INSTALL [for install and make selectable] with the SGP.02 ISD-P privileges
    /// and install parameters.
    pub fn create_isd_p(
        load_file_aid: Aid,
        module_aid: Aid,
        isd_p_aid: Aid,
        non_volatile_quota: Option<u32>,
    ) -> CardCommand {
        CardCommand::InstallForInstall(InstallForInstall::create_isd_p(
            load_file_aid,
            module_aid,
            isd_p_aid,
            non_volatile_quota,
        ))
    }

    /// ES5.EnableProfile: `80 E2 88 00` `3A03 { 4F }`.
    pub fn enable_profile(isd_p_aid: Aid) -> CardCommand {
        CardCommand::StoreData(StoreData::single(StoreDataContent::EnableProfile {
            isd_p_aid,
        }))
    }

    /// ES5.DisableProfile: `80 E2 88 00` `3A04 { 4F }`.
    pub fn disable_profile(isd_p_aid: Aid) -> CardCommand {
        CardCommand::StoreData(StoreData::single(StoreDataContent::DisableProfile {
            isd_p_aid,
        }))
    }

    /// Set Fall-Back attribute: `80 E2 88 00` `3A05 { 4F }` (U-12).
    pub fn set_fall_back_attribute(isd_p_aid: Aid) -> CardCommand {
        CardCommand::StoreData(StoreData::single(StoreDataContent::SetFallBackAttribute {
            isd_p_aid,
        }))
    }

    /// Set Emergency Profile attribute: `80 E2 88 00` `3A06 { 4F }` (U-12).
    pub fn set_emergency_profile_attribute(isd_p_aid: Aid) -> CardCommand {
        CardCommand::StoreData(StoreData::single(
            StoreDataContent::SetEmergencyProfileAttribute { isd_p_aid },
        ))
    }

    /// Update connectivity parameters: `80 E2 88 00` `3A07 { … }`.
    pub fn update_connectivity_parameters(parameters: Vec<u8>) -> CardCommand {
        CardCommand::StoreData(StoreData::single(
            StoreDataContent::UpdateConnectivityParameters { parameters },
        ))
    }

    /// ES5.NotificationConfirmation: `80 E2 89 00` `3A08 { 4E <seq> }`.
    pub fn notification_confirmation(sequence_number: u16) -> CardCommand {
        CardCommand::StoreData(StoreData::single_with_response(
            StoreDataContent::NotificationConfirmation { sequence_number },
        ))
    }

    /// Key establishment step 1: `80 E2 09 00` `3A01 { 7F21 … }` (`certificate` is the `7F21` TLV).
    pub fn store_certificate(certificate: Vec<u8>) -> CardCommand {
        CardCommand::StoreData(StoreData {
            block_number: 0,
            last_block: false,
            response_expected: true,
            content: StoreDataContent::Certificate { certificate },
        })
    }

    /// Key establishment step 2: `80 E2 89 01` `3A02 { A6 }` `7F49` \[`5F37`\].
    pub fn store_key_agreement(key_agreement: KeyAgreement) -> CardCommand {
        CardCommand::StoreData(StoreData {
            block_number: 1,
            last_block: true,
            response_expected: true,
            content: StoreDataContent::KeyAgreement(key_agreement),
        })
    }

    /// ES5.DeleteProfile: `80 E4 00 40` `4F <AID>`.
    pub fn delete_isd_p(isd_p_aid: Aid) -> CardCommand {
        CardCommand::Delete(Delete::IsdP {
            isd_p_aid,
            related_objects: true,
        })
    }

    /// ES5.FinaliseISDRhandover: `80 E4 00 00` `F2 03 <KVN> 01 03`.
    pub fn finalise_isdr_handover(key_version: u8) -> CardCommand {
        CardCommand::Delete(Delete::KeySet {
            key_version,
            first_key_id: 1,
            last_key_id: 3,
        })
    }

    /// GET STATUS of ISD-Ps: `80 F2 40 02` `4F <AID>` (or `4F 00`).
    pub fn get_isd_p_status(aid: Option<Aid>) -> CardCommand {
        CardCommand::GetStatus(GetStatus::isd_p(aid))
    }

    /// INSTALL [for personalization] of `isd_p_aid`.
    pub fn install_for_personalization(isd_p_aid: Aid) -> CardCommand {
        CardCommand::InstallForPersonalization(InstallForPersonalization {
            application_aid: isd_p_aid,
        })
    }

    /// SELECT by AID.
    pub fn select(aid: Aid) -> CardCommand {
        CardCommand::Select(Select { aid })
    }

    /// A short name for logs and audit (`STORE DATA 3A03 (enable profile)`).
    pub fn name(&self) -> &'static str {
        match self {
            CardCommand::Select(_) => "SELECT",
            CardCommand::InstallForInstall(_) => "INSTALL [for install and make selectable]",
            CardCommand::InstallForPersonalization(_) => "INSTALL [for personalization]",
            CardCommand::StoreData(sd) => match sd.content {
                StoreDataContent::Certificate { .. } => "STORE DATA 3A01 (certificate)",
                StoreDataContent::KeyAgreement(_) => "STORE DATA 3A02 (key agreement)",
                StoreDataContent::EnableProfile { .. } => "STORE DATA 3A03 (enable profile)",
                StoreDataContent::DisableProfile { .. } => "STORE DATA 3A04 (disable profile)",
                StoreDataContent::SetFallBackAttribute { .. } => {
                    "STORE DATA 3A05 (set fall-back attribute)"
                }
                StoreDataContent::SetEmergencyProfileAttribute { .. } => {
                    "STORE DATA 3A06 (set emergency profile attribute)"
                }
                StoreDataContent::UpdateConnectivityParameters { .. } => {
                    "STORE DATA 3A07 (connectivity parameters)"
                }
                StoreDataContent::NotificationConfirmation { .. } => {
                    "STORE DATA 3A08 (notification confirmation)"
                }
            },
            CardCommand::Delete(Delete::IsdP { .. }) => "DELETE (ISD-P)",
            CardCommand::Delete(Delete::KeySet { .. }) => "DELETE (key set)",
            CardCommand::GetStatus(_) => "GET STATUS",
            CardCommand::GetData(GetData::Eid) => "GET DATA (EID)",
            CardCommand::GetData(GetData::EcasdCertificate) => "GET DATA (ECASD certificate)",
            CardCommand::GetData(GetData::ExtendedCardResources) => {
                "GET DATA (extended card resources)"
            }
        }
    }

    /// The one encoder: this command as a command APDU on logical channel 0.
    ///
    /// CLA is `80` (GlobalPlatform) except SELECT (`00`). Le = `00` is present on SELECT,
    /// GET STATUS, GET DATA and STORE DATA with "response data expected"; INSTALL and DELETE
    /// carry no Le.
    pub fn to_apdu(&self) -> Result<CommandApdu, CommandError> {
        let gp =
            |ins, p1, p2, data: Vec<u8>| CommandApdu::new(Cla::GP.0, ins, p1, p2).with_data(data);
        let apdu = match self {
            CardCommand::Select(s) => CommandApdu::new(Cla::ISO.0, INS_SELECT, 0x04, 0x00)
                .with_data(s.aid.as_bytes())
                .with_le(256),
            CardCommand::InstallForInstall(i) => gp(INS_INSTALL, 0x0C, 0x00, i.encode_data()?),
            CardCommand::InstallForPersonalization(i) => {
                gp(INS_INSTALL, 0x20, 0x00, i.encode_data()?)
            }
            CardCommand::StoreData(sd) => {
                let apdu = gp(
                    INS_STORE_DATA,
                    sd.p1(),
                    sd.block_number,
                    sd.content.encode()?,
                );
                if sd.response_expected {
                    apdu.with_le(256)
                } else {
                    apdu
                }
            }
            CardCommand::Delete(d) => gp(INS_DELETE, 0x00, d.p2(), d.encode_data()?),
            CardCommand::GetStatus(g) => {
                gp(INS_GET_STATUS, g.scope.p1(), g.p2(), g.encode_data()?).with_le(256)
            }
            CardCommand::GetData(g) => {
                let (p1, p2) = g.p1p2();
                gp(INS_GET_DATA, p1, p2, g.data()).with_le(256)
            }
        };
        if apdu.data.len() > crate::apdu::EXTENDED_MAX_DATA {
            return Err(CommandError::TooLong {
                field: "command data",
                len: apdu.data.len(),
            });
        }
        Ok(apdu)
    }

    /// [`CardCommand::to_apdu`] encoded to bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>, CommandError> {
        Ok(self.to_apdu()?.encode()?)
    }

    /// Parses command APDU bytes ([`CommandApdu::parse`] then [`CardCommand::parse`]).
    pub fn parse_bytes(bytes: &[u8]) -> Result<CardCommand, CommandError> {
        CardCommand::parse(&CommandApdu::parse(bytes)?)
    }

    /// The one parser. Accepts any logical channel; refuses secure messaging and chaining (the
    /// secure channel layer unwraps first). SELECT needs an interindustry CLA (`00`-class), the
    /// GlobalPlatform commands a proprietary one (`80`-class), GET DATA either.
    pub fn parse(apdu: &CommandApdu) -> Result<CardCommand, CommandError> {
        let cla = Cla(apdu.cla);
        let (ins, p1, p2, data) = (apdu.ins, apdu.p1, apdu.p2, apdu.data.as_slice());
        if !cla.is_valid() {
            return Err(CommandError::ClaNotSupported { cla: cla.0, ins });
        }
        if cla.secure_messaging() {
            return Err(CommandError::SecureMessaging { cla: cla.0 });
        }
        if cla.chaining() {
            return Err(CommandError::Chaining { cla: cla.0 });
        }
        let class_ok = match ins {
            INS_SELECT => !cla.is_proprietary(),
            INS_GET_DATA => true,
            INS_INSTALL | INS_STORE_DATA | INS_DELETE | INS_GET_STATUS => cla.is_proprietary(),
            _ => return Err(CommandError::InsNotSupported { ins }),
        };
        if !class_ok {
            return Err(CommandError::ClaNotSupported { cla: cla.0, ins });
        }
        let bad_p = |command| CommandError::IncorrectP1P2 { command, p1, p2 };
        match ins {
            INS_SELECT => {
                if (p1, p2) != (0x04, 0x00) {
                    return Err(bad_p("SELECT"));
                }
                Ok(CardCommand::Select(Select {
                    aid: aid_from("SELECT", data)?,
                }))
            }
            INS_INSTALL => match (p1, p2) {
                (0x0C, 0x00) => Ok(CardCommand::InstallForInstall(
                    InstallForInstall::parse_data(data)?,
                )),
                (0x20, 0x00) => Ok(CardCommand::InstallForPersonalization(
                    InstallForPersonalization::parse_data(data)?,
                )),
                _ => Err(bad_p("INSTALL")),
            },
            INS_STORE_DATA => {
                // b7-b6 encryption information must be 00, b5-b4 must be 01 (DGI), b3-b2 RFU 00.
                if p1 & 0x7E != 0x08 {
                    return Err(bad_p("STORE DATA"));
                }
                Ok(CardCommand::StoreData(StoreData {
                    block_number: p2,
                    last_block: p1 & 0x80 != 0,
                    response_expected: p1 & 0x01 != 0,
                    content: StoreDataContent::parse(data)?,
                }))
            }
            INS_DELETE => {
                if p1 != 0x00 {
                    return Err(bad_p("DELETE"));
                }
                Ok(CardCommand::Delete(Delete::parse(p2, data)?))
            }
            INS_GET_STATUS => Ok(CardCommand::GetStatus(GetStatus::parse(p1, p2, data)?)),
            _ => Ok(CardCommand::GetData(GetData::parse(p1, p2, data)?)),
        }
    }
}

impl TryFrom<&CommandApdu> for CardCommand {
    type Error = CommandError;
    fn try_from(apdu: &CommandApdu) -> Result<CardCommand, CommandError> {
        CardCommand::parse(apdu)
    }
}
