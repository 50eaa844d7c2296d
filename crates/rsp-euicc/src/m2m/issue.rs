//! Provisioning: the EUM makes a card from its PKI material and writes the card's EIS data.
//!
//! [`IssuerMaterial`] holds what the EUM puts into the ECASD (EID, ECASD key pair, CERT.ECASD.ECKA,
//! PK.CI); [`IssuerMaterial::from_manifest`] reads it from the test PKI that `rsp pki init`
//! writes (`sgp02/euicc-N`, `sgp02/eum`, `sgp02/ci`). [`M2mCard::issue`] checks the material,
//! generates the ISD-R key sets from the card's seeded random source, optionally installs a
//! bootstrap profile (enabled, with the Fall-Back attribute, as a card leaves the factory), and
//! returns the card with its [`EisSeed`]: the plain facts the EUM tooling turns into the signed
//! XML EIS of `ES1.RegisterEIS`.

use std::path::{Path, PathBuf};

use rsp_crypto::aes::AesKey;
use rsp_crypto::ecc::{PrivateKey, PublicKey};
use rsp_crypto::gpcert::{GpCertRole, GpCertificate};
use rsp_crypto::pki::PkiManifest;
use rsp_crypto::scp03::key_check_value;
use rsp_crypto::x509::{self, Certificate};
use rsp_types::{Aid, Eid, Iccid};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::card::{CardConfig, M2mCard};
use super::policy::{Pol1, ProfileClass, ProfileMetadata};
use super::rng::{CardRng, SEED_LEN};
use super::saip::ProfilePackage;
use super::state::{
    ECASD_AID, Ecasd, ISD_P_LOAD_FILE_AID, ISD_P_MODULE_AID, ISD_R_AID, InstalledProfile, IsdP,
    IsdPState, IsdR, KeySet, KeySetKind, KeyValue, Scp03KeySet,
};
use super::time::CardTime;

/// Why a card could not be issued.
#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    /// A file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The PKI manifest lacks an entity or a field.
    #[error("PKI manifest: {0}")]
    Manifest(String),
    /// A key or certificate is unusable or inconsistent.
    #[error("issuer material: {0}")]
    Material(String),
    /// The bootstrap profile is unusable.
    #[error("bootstrap profile: {0}")]
    Bootstrap(String),
}

/// What the EUM writes into the ECASD.
pub struct IssuerMaterial {
    /// EID.
    pub eid: Eid,
    /// SK.ECASD.ECKA.
    pub ecasd_key: PrivateKey,
    /// CERT.ECASD.ECKA (GP Amendment E `7F21`).
    pub ecasd_certificate: Vec<u8>,
    /// PK.CI.ECDSA.
    pub ci_public_key: PublicKey,
    /// The CI's key identifier (X.509 SubjectKeyIdentifier).
    pub ci_key_id: Vec<u8>,
    /// The EUM certificate, to check CERT.ECASD.ECKA at issue time (optional).
    pub eum_certificate: Option<Certificate>,
    /// The EUM's entity identifier (OID), for the EIS `Eum-id`.
    pub eum_id: String,
}

impl std::fmt::Debug for IssuerMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuerMaterial")
            .field("eid", &self.eid)
            .field("eum_id", &self.eum_id)
            .finish_non_exhaustive()
    }
}

fn read(path: &Path) -> Result<Vec<u8>, IssueError> {
    std::fs::read(path).map_err(|source| IssueError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn material(e: impl std::fmt::Display) -> IssueError {
    IssueError::Material(e.to_string())
}

impl IssuerMaterial {
    /// Reads the material of eUICC entity `euicc_id` (e.g. `sgp02/euicc-1`) from a PKI manifest:
    /// its key and GP certificate, the EUM certificate and the CI certificate (the last element of
    /// its chain).
    pub fn from_manifest(manifest: &PkiManifest, euicc_id: &str) -> Result<Self, IssueError> {
        let entity = manifest
            .entity(euicc_id)
            .ok_or_else(|| IssueError::Manifest(format!("no entity {euicc_id}")))?;
        let eid: Eid = entity
            .eid
            .as_deref()
            .ok_or_else(|| IssueError::Manifest(format!("{euicc_id} has no EID")))?
            .parse()
            .map_err(material)?;
        let key_path = entity
            .key
            .as_ref()
            .ok_or_else(|| IssueError::Manifest(format!("{euicc_id} has no private key")))?;
        let key_pem = String::from_utf8(read(key_path)?).map_err(material)?;
        let ecasd_key = PrivateKey::from_pem(&key_pem).map_err(material)?;
        let ecasd_certificate = read(&entity.cert)?;
        let load_x509 = |path: &Path| -> Result<Certificate, IssueError> {
            Certificate::from_der_or_pem(&read(path)?).map_err(material)
        };
        let eum_certificate = match entity.chain.first() {
            Some(p) => Some(load_x509(p)?),
            None => None,
        };
        let ci = load_x509(entity.trust_anchor())?;
        let ci_public_key = ci.public_key().map_err(material)?.clone();
        let ci_key_id = ci
            .subject_key_id()
            .map(<[u8]>::to_vec)
            .unwrap_or_else(|| x509::key_identifier(&ci_public_key).to_vec());
        let eum_id = manifest
            .entity("sgp02/eum")
            .and_then(|e| e.entity_oid.clone())
            .unwrap_or_else(|| rsp_crypto::pki::entity_oids::EUM.to_string());
        Ok(Self {
            eid,
            ecasd_key,
            ecasd_certificate,
            ci_public_key,
            ci_key_id,
            eum_certificate,
            eum_id,
        })
    }
}

/// A profile installed at the factory (the provisioning profile of SGP.02 M2M cards).
#[derive(Clone, Debug)]
pub struct BootstrapProfile {
    /// ISD-P AID.
    pub aid: Aid,
    /// The unprotected profile package.
    pub package: Vec<u8>,
    /// POL1.
    pub pol1: Pol1,
}

/// Options of [`M2mCard::issue`].
#[derive(Clone, Debug, Default)]
pub struct IssueOptions {
    /// Card settings.
    pub config: CardConfig,
    /// Seed of the card's random source: `Some` for reproducible cards (tests, `--seed`), `None`
    /// for a seed from the operating system.
    pub rng_seed: Option<u64>,
    /// Production time (for the EIS).
    pub production_time: CardTime,
    /// A profile to install enabled, holding the Fall-Back attribute.
    pub bootstrap: Option<BootstrapProfile>,
}

/// One key of an EIS key set (clear: the EUM tooling protects it for ES1, `sgp02.md` §12.6).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EisKey {
    /// Key identifier (`Index`).
    pub index: u8,
    /// Key value, hex.
    pub value: String,
    /// Key check value, hex (3 bytes).
    pub kcv: String,
}

impl std::fmt::Debug for EisKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "EisKey(index {}, kcv {}, ..)", self.index, self.kcv)
    }
}

/// One key set of the ISD-R in the EIS.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EisKeySet {
    /// Key version.
    pub version: u8,
    /// Usage (`SCP80`, `SCP81`).
    pub kind: KeySetKind,
    /// Replay counter (SCP80), starting at 0.
    pub counter: Option<u64>,
    /// Keys.
    pub keys: Vec<EisKey>,
}

/// ISD-R or ECASD data of the EIS (`SecurityDomainType`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EisSecurityDomain {
    /// AID.
    pub aid: Aid,
    /// TARs, hex.
    pub tar: Vec<String>,
    /// Key sets.
    pub key_sets: Vec<EisKeySet>,
    /// Certificates `(CA-ID hex, value hex)`.
    pub certificates: Vec<EisCertificate>,
}

/// A certificate of a security domain in the EIS.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EisCertificate {
    /// Index.
    pub index: u8,
    /// CA identifier (the issuer's key identifier), hex.
    pub ca_id: String,
    /// The certificate, hex.
    pub value: String,
}

/// `EuiccCapabilities` of the EIS.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EisCapabilities {
    /// CAT_TP supported.
    pub cattp_support: bool,
    /// CAT_TP version.
    pub cattp_version: Option<String>,
    /// HTTPS (SCP81) supported.
    pub http_support: bool,
    /// HTTP version.
    pub http_version: Option<String>,
    /// Secure packet (ETSI TS 102 225) version.
    pub secure_packet_version: String,
    /// SGP.02 version.
    pub remote_provisioning_version: String,
}

/// A profile present at issue time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EisProfileSeed {
    /// ICCID.
    pub iccid: Iccid,
    /// ISD-P AID.
    pub isd_p_aid: Aid,
    /// State (`enabled`).
    pub state: IsdPState,
    /// Fall-Back attribute.
    pub fall_back: bool,
    /// Allocated memory.
    pub allocated_memory: u64,
}

/// The EUM's facts about a new card, for the EIS (`sgp02.md` §5.2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EisSeed {
    /// EID.
    pub eid: Eid,
    /// EUM entity identifier (OID).
    pub eum_id: String,
    /// Production time (seconds since the epoch).
    pub production_date: CardTime,
    /// Platform type.
    pub platform_type: String,
    /// Platform version (x.y.z).
    pub platform_version: String,
    /// ISD-P executable load file AID.
    pub isd_p_loadfile_aid: Aid,
    /// ISD-P executable module AID.
    pub isd_p_module_aid: Aid,
    /// The ECASD (certificate CERT.ECASD.ECKA).
    pub ecasd: EisSecurityDomain,
    /// The ISD-R (key sets in clear).
    pub isd_r: EisSecurityDomain,
    /// Capabilities.
    pub capabilities: EisCapabilities,
    /// Free memory after the bootstrap profile.
    pub remaining_memory: u64,
    /// Memory available for profiles in total.
    pub available_memory_for_profiles: u64,
    /// Profiles present at issue time.
    pub profiles: Vec<EisProfileSeed>,
}

/// The ISD-R TAR (project choice, U-14).
pub const ISD_R_TAR: [u8; 3] = [0x00, 0x00, 0x01];
/// Version of the generated SCP80 key set.
pub const SCP80_KEY_VERSION: u8 = 0x01;
/// Version of the generated SCP81 key set (`0x40`–`0x4F`, `sgp02.md` §12.2).
pub const SCP81_KEY_VERSION: u8 = 0x40;

impl M2mCard {
    /// Issues a card: checks the material (CERT.ECASD.ECKA parses, has the ECASD role, names the
    /// EID, certifies the ECASD public key and, when the EUM certificate is given, was signed by
    /// it), generates the ISD-R key sets and installs the bootstrap profile.
    pub fn issue(
        material: IssuerMaterial,
        options: IssueOptions,
    ) -> Result<(M2mCard, EisSeed), IssueError> {
        options.config.check().map_err(IssueError::Material)?;
        let cert = GpCertificate::from_bytes(&material.ecasd_certificate).map_err(material_err)?;
        cert.check_role(GpCertRole::Ecasd).map_err(material_err)?;
        if cert.eid().map_err(material_err)? != material.eid {
            return Err(IssueError::Material(
                "CERT.ECASD.ECKA names another EID".into(),
            ));
        }
        if cert.public_key().to_sec1_uncompressed()
            != material.ecasd_key.public_key().to_sec1_uncompressed()
        {
            return Err(IssueError::Material(
                "CERT.ECASD.ECKA does not certify the ECASD key".into(),
            ));
        }
        if let Some(eum) = &material.eum_certificate {
            let eum_key = eum.public_key().map_err(material_err)?;
            let eum_id = eum
                .subject_key_id()
                .map(<[u8]>::to_vec)
                .unwrap_or_else(|| x509::key_identifier(eum_key).to_vec());
            if cert.authority_key_id() != eum_id.as_slice() {
                return Err(IssueError::Material(
                    "CERT.ECASD.ECKA was not issued by the EUM".into(),
                ));
            }
            cert.verify_signature(eum_key).map_err(material_err)?;
        }
        let mut rng = match options.rng_seed {
            Some(seed) => CardRng::from_u64(seed),
            None => {
                let mut seed = Zeroizing::new([0u8; SEED_LEN]);
                rsp_crypto::ecc::fill_random(seed.as_mut()).map_err(material_err)?;
                CardRng::from_state(*seed, 0)
            }
        };
        let key = |id: u8, rng: &mut CardRng| KeyValue {
            id,
            value: Zeroizing::new(rng.bytes(16)),
        };
        let isd_r = IsdR {
            aid: ISD_R_AID,
            tar: ISD_R_TAR,
            key_sets: vec![
                KeySet {
                    kind: KeySetKind::Scp80,
                    version: SCP80_KEY_VERSION,
                    keys: vec![key(1, &mut rng), key(2, &mut rng), key(3, &mut rng)],
                },
                KeySet {
                    kind: KeySetKind::Scp81,
                    version: SCP81_KEY_VERSION,
                    keys: vec![key(1, &mut rng)],
                },
            ],
            connectivity_parameters: Vec::new(),
        };
        let ecasd = Ecasd {
            eid: material.eid,
            key: material.ecasd_key,
            certificate: cert,
            ci_public_key: material.ci_public_key,
            ci_key_id: material.ci_key_id,
        };
        let mut card = M2mCard::from_parts(options.config, ecasd, isd_r, rng);
        card.now = options.production_time;
        if let Some(b) = options.bootstrap {
            card.install_bootstrap(b)?;
        }
        let seed = card.eis_seed(&material.eum_id, options.production_time);
        Ok((card, seed))
    }

    fn install_bootstrap(&mut self, b: BootstrapProfile) -> Result<(), IssueError> {
        let parsed =
            ProfilePackage::parse(&b.package).map_err(|e| IssueError::Bootstrap(e.to_string()))?;
        let quota = self.config.default_isdp_quota.max(parsed.memory_size());
        if quota > self.free_memory() {
            return Err(IssueError::Bootstrap(
                "does not fit the card's memory".into(),
            ));
        }
        let keys = Scp03KeySet {
            kvn: 0x30,
            enc: Zeroizing::new(self.rng.bytes(16)),
            mac: Zeroizing::new(self.rng.bytes(16)),
            dek: Zeroizing::new(self.rng.bytes(16)),
            sequence_counter: 0,
        };
        self.isd_ps.insert(
            b.aid,
            IsdP {
                aid: b.aid,
                state: IsdPState::Enabled,
                memory_quota: quota,
                smdp_id: None,
                keys: Some(keys),
                metadata: ProfileMetadata {
                    iccid: Some(parsed.iccid),
                    class: ProfileClass::Provisioning,
                    pol1: b.pol1,
                },
                profile: Some(InstalledProfile {
                    iccid: parsed.iccid,
                    profile_type: parsed.profile_type,
                    package: b.package,
                }),
            },
        );
        self.fall_back = Some(b.aid);
        Ok(())
    }

    /// The card's current EIS facts (for a card issued earlier: `rsp euicc show`).
    pub fn eis_seed(&self, eum_id: &str, production_date: CardTime) -> EisSeed {
        let hex_key = |k: &KeyValue| EisKey {
            index: k.id,
            value: hex::encode_upper(k.value.as_slice()),
            kcv: AesKey::new(&k.value)
                .map(|key| hex::encode_upper(key_check_value(&key)))
                .unwrap_or_default(),
        };
        let key_sets = self
            .isd_r
            .key_sets
            .iter()
            .map(|s| EisKeySet {
                version: s.version,
                kind: s.kind,
                counter: (s.kind == KeySetKind::Scp80).then_some(0),
                keys: s.keys.iter().map(hex_key).collect(),
            })
            .collect();
        let cert = &self.ecasd.certificate;
        EisSeed {
            eid: self.ecasd.eid,
            eum_id: eum_id.to_string(),
            production_date,
            platform_type: "rsp-euicc-m2m".into(),
            platform_version: env!("CARGO_PKG_VERSION").into(),
            isd_p_loadfile_aid: ISD_P_LOAD_FILE_AID,
            isd_p_module_aid: ISD_P_MODULE_AID,
            ecasd: EisSecurityDomain {
                aid: ECASD_AID,
                tar: Vec::new(),
                key_sets: Vec::new(),
                certificates: vec![EisCertificate {
                    index: 1,
                    ca_id: hex::encode_upper(cert.authority_key_id()),
                    value: hex::encode_upper(cert.to_bytes()),
                }],
            },
            isd_r: EisSecurityDomain {
                aid: self.isd_r.aid,
                tar: vec![hex::encode_upper(self.isd_r.tar)],
                key_sets,
                certificates: Vec::new(),
            },
            capabilities: EisCapabilities {
                cattp_support: false,
                cattp_version: None,
                http_support: true,
                http_version: Some("1.1.0".into()),
                secure_packet_version: "13.0.0".into(),
                remote_provisioning_version: "4.2.0".into(),
            },
            remaining_memory: self.free_memory(),
            available_memory_for_profiles: self.config.total_nv_memory,
            profiles: self
                .isd_ps
                .values()
                .filter_map(|p| {
                    p.profile.as_ref().map(|i| EisProfileSeed {
                        iccid: i.iccid,
                        isd_p_aid: p.aid,
                        state: p.state,
                        fall_back: self.fall_back == Some(p.aid),
                        allocated_memory: p.memory_quota,
                    })
                })
                .collect(),
        }
    }
}

fn material_err(e: impl std::fmt::Display) -> IssueError {
    IssueError::Material(e.to_string())
}
