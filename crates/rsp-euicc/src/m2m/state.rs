//! The card's security domains and their persistent state (SGP.02 §7).

use rsp_crypto::ecc::{PrivateKey, PublicKey};
use rsp_crypto::gpcert::GpCertificate;
use rsp_crypto::scp03::{Scp03Error, StaticKeys};
use rsp_types::{Aid, Eid, Iccid};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::policy::{Pol1, ProfileClass, ProfileMetadata};

const fn aid(bytes: &[u8]) -> Aid {
    match Aid::from_bytes(bytes) {
        Ok(a) => a,
        Err(_) => panic!("invalid AID constant"),
    }
}

/// ISD-R AID (SGP.02 Annex; `A0000005591010FFFFFFFF8900000100`).
pub const ISD_R_AID: Aid = aid(&[
    0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0x89, 0x00, 0x00, 0x01, 0x00,
]);
/// ECASD AID (`A0000005591010FFFFFFFF8900000200`, \[RECALL\]).
pub const ECASD_AID: Aid = aid(&[
    0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0x89, 0x00, 0x00, 0x02, 0x00,
]);
/// ISD-P executable load file AID (EIS `Isd-p-loadfile-aid`, `A0000005591010FFFFFFFF8900000D00`,
/// \[RECALL\]).
pub const ISD_P_LOAD_FILE_AID: Aid = aid(&[
    0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0x89, 0x00, 0x00, 0x0D, 0x00,
]);
/// ISD-P executable module AID (EIS `Isd-p-module-aid`, `A0000005591010FFFFFFFF8900000E00`,
/// \[RECALL\]).
pub const ISD_P_MODULE_AID: Aid = aid(&[
    0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0x89, 0x00, 0x00, 0x0E, 0x00,
]);

/// ISD-P life-cycle state (GlobalPlatform coding, SGP.02 §7.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IsdPState {
    /// Created, empty, no keys (`07`).
    Selectable,
    /// SCP03 keys established by Scenario#3 (`0F`).
    Personalized,
    /// Profile installed, not enabled (`1F`).
    Disabled,
    /// The enabled profile (`3F`).
    Enabled,
}

impl IsdPState {
    /// The GP life-cycle byte reported by GET STATUS (`9F70`).
    pub fn code(self) -> u8 {
        match self {
            Self::Selectable => 0x07,
            Self::Personalized => 0x0F,
            Self::Disabled => 0x1F,
            Self::Enabled => 0x3F,
        }
    }

    /// From the GP life-cycle byte.
    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            0x07 => Some(Self::Selectable),
            0x0F => Some(Self::Personalized),
            0x1F => Some(Self::Disabled),
            0x3F => Some(Self::Enabled),
            _ => None,
        }
    }

    /// Whether a profile is installed (Disabled or Enabled).
    pub fn has_profile(self) -> bool {
        matches!(self, Self::Disabled | Self::Enabled)
    }
}

/// The ECASD: EID, static key-agreement key pair, its certificate and the CI trust anchor.
pub struct Ecasd {
    /// EID.
    pub eid: Eid,
    /// SK.ECASD.ECKA (never leaves the card; sealed in snapshots).
    pub(crate) key: PrivateKey,
    /// CERT.ECASD.ECKA (GP Amendment E, signed by the EUM).
    pub certificate: GpCertificate,
    /// PK.CI.ECDSA.
    pub ci_public_key: PublicKey,
    /// The CI's key identifier (its X.509 SubjectKeyIdentifier), matched against the `C9`/`42`
    /// of off-card certificates.
    pub ci_key_id: Vec<u8>,
}

impl std::fmt::Debug for Ecasd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ecasd")
            .field("eid", &self.eid)
            .field("ci_key_id", &hex::encode(&self.ci_key_id))
            .finish_non_exhaustive()
    }
}

/// The protocol a key set of the ISD-R serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeySetKind {
    /// SCP80 (SMS / CAT_TP, ETSI TS 102 225): KIc, KID, DEK.
    Scp80,
    /// SCP81 (PSK-TLS, GP Amendment B): the PSK (and a DEK).
    Scp81,
}

/// One key of a key set.
#[derive(Clone)]
pub struct KeyValue {
    /// Key identifier within the set.
    pub id: u8,
    /// The key (AES, 16 bytes for generated sets).
    pub value: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for KeyValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "KeyValue(id {:#04x}, {} bytes)",
            self.id,
            self.value.len()
        )
    }
}

/// A key set of the ISD-R (SGP.02 §7.1: SCP80 and SCP81 for ES5).
#[derive(Clone, Debug)]
pub struct KeySet {
    /// What it is for.
    pub kind: KeySetKind,
    /// Key version number (SCP80 `01`–`0F`, SCP81 `40`–`4F`).
    pub version: u8,
    /// Keys by identifier.
    pub keys: Vec<KeyValue>,
}

impl KeySet {
    /// The key with this identifier.
    pub fn key(&self, id: u8) -> Option<&[u8]> {
        self.keys
            .iter()
            .find(|k| k.id == id)
            .map(|k| k.value.as_slice())
    }
}

/// The ISD-R: the SM-SR's security domain.
#[derive(Clone, Debug)]
pub struct IsdR {
    /// AID.
    pub aid: Aid,
    /// Toolkit application reference for SMS addressing (3 bytes).
    pub tar: [u8; 3],
    /// ES5 key sets (SCP80, SCP81, and those established by SM-SR change).
    pub key_sets: Vec<KeySet>,
    /// Connectivity parameters as last set by `3A07` (opaque to the card).
    pub connectivity_parameters: Vec<u8>,
}

impl IsdR {
    /// The key set with this version.
    pub fn key_set(&self, version: u8) -> Option<&KeySet> {
        self.key_sets.iter().find(|k| k.version == version)
    }

    /// Key sets of one kind.
    pub fn key_sets_of(&self, kind: KeySetKind) -> impl Iterator<Item = &KeySet> {
        self.key_sets.iter().filter(move |k| k.kind == kind)
    }
}

/// The SCP03 key set of an ISD-P, established by Scenario#3.
#[derive(Clone)]
pub struct Scp03KeySet {
    /// Key version number.
    pub kvn: u8,
    pub(crate) enc: Zeroizing<Vec<u8>>,
    pub(crate) mac: Zeroizing<Vec<u8>>,
    pub(crate) dek: Zeroizing<Vec<u8>>,
    /// Last SCP03 sequence counter used (pseudo-random card challenge, `i = 70`).
    pub sequence_counter: u32,
}

impl std::fmt::Debug for Scp03KeySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Scp03KeySet(kvn {:#04x}, counter {}, ..)",
            self.kvn, self.sequence_counter
        )
    }
}

impl Scp03KeySet {
    /// The keys as `rsp_crypto` static keys.
    pub fn static_keys(&self) -> Result<StaticKeys, Scp03Error> {
        StaticKeys::new(self.kvn, &self.enc, &self.mac, &self.dek)
    }
}

/// An installed profile.
#[derive(Clone)]
pub struct InstalledProfile {
    /// ICCID (from the ProfileHeader).
    pub iccid: Iccid,
    /// ProfileHeader profileType.
    pub profile_type: Option<String>,
    /// The package as reassembled (secret: holds NAA keys; sealed in snapshots).
    pub(crate) package: Vec<u8>,
}

impl InstalledProfile {
    /// The package bytes.
    pub fn package(&self) -> &[u8] {
        &self.package
    }
}

impl std::fmt::Debug for InstalledProfile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InstalledProfile")
            .field("iccid", &self.iccid)
            .field("profile_type", &self.profile_type)
            .field("package_len", &self.package.len())
            .finish()
    }
}

/// One ISD-P and its profile.
#[derive(Clone, Debug)]
pub struct IsdP {
    /// AID.
    pub aid: Aid,
    /// Life-cycle state.
    pub state: IsdPState,
    /// Non-volatile memory reserved for the ISD-P (install parameter `EF { 83 }`).
    pub memory_quota: u64,
    /// The owning SM-DP: the subject identifier (`5F20`) of the CERT.DP.ECDSA that established the
    /// keys.
    pub smdp_id: Option<Vec<u8>>,
    /// SCP03 key set (from Personalized on).
    pub keys: Option<Scp03KeySet>,
    /// Metadata (POL1, profile class) from `StoreMetadata` or `update_pol1`.
    pub metadata: ProfileMetadata,
    /// The installed profile (Disabled, Enabled).
    pub profile: Option<InstalledProfile>,
}

impl IsdP {
    /// POL1 of the profile.
    pub fn pol1(&self) -> Pol1 {
        self.metadata.pol1
    }

    /// Whether this is a test profile.
    pub fn is_test(&self) -> bool {
        self.metadata.class == ProfileClass::Test
    }

    /// Memory used inside the quota (the package length).
    pub fn used_memory(&self) -> u64 {
        self.profile
            .as_ref()
            .map(|p| p.package.len() as u64)
            .unwrap_or(0)
    }
}

/// A local (ESx) override in force: a test or emergency profile enabled by the device.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LocalKind {
    /// `ESx.LocalEnableTestProfile`.
    Test,
    /// `ESx.LocalEnableEmergencyProfile`.
    Emergency,
}

impl LocalKind {
    /// Name for messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::Test => "test",
            Self::Emergency => "emergency",
        }
    }
}

/// The local override: what is enabled and what to re-enable afterwards.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalOverride {
    /// Test or emergency.
    pub kind: LocalKind,
    /// The ISD-P enabled locally.
    pub profile: Aid,
    /// The ISD-P that was enabled before (re-enabled by the matching LocalDisable).
    pub previous: Option<Aid>,
}
