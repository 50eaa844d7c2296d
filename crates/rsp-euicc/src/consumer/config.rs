//! What a consumer eUICC is made of: its configuration (versions, capabilities, addresses,
//! memory, RAT) and its identity (EID, per-curve eUICC keys and certificates, EUM certificates,
//! the CI keys it trusts).

use std::fmt;
use std::path::Path;

use rsp_crypto::ecc::{Curve, PrivateKey};
use rsp_crypto::x509::Certificate;
use rsp_sgp22::{EuiccRspCapability, ProfilePolicyAuthorisationRule};
use rsp_types::{Aid, Eid, Svn};

use super::error::ConsumerError;

/// The default ISD-R AID (SGP.02 Annex H, reused by SGP.22).
pub const DEFAULT_ISD_R_AID: &str = "A0000005591010FFFFFFFF8900000100";

/// Static description of a consumer eUICC (everything but its keys).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsumerConfig {
    /// `lowestSvn`: the lowest SGP.22 version supported.
    pub lowest_svn: Svn,
    /// `highestSvn`: the card's own version; decides what it encodes (a v2 card never writes a v3
    /// field). Sent in EUICCInfo1/2 only by a v3 card.
    pub highest_svn: Svn,
    /// `euiccRspCapability` (v2 `rspCapability`).
    pub capability: EuiccRspCapability,
    /// `baseProfilePackageVersion` (v2 `profileVersion`).
    pub base_profile_package_version: Svn,
    /// `additionalProfilePackageVersions` (sent when not empty).
    pub additional_profile_package_versions: Vec<Svn>,
    /// `euiccFirmwareVersion`.
    pub firmware_version: Svn,
    /// `globalplatformVersion`.
    pub global_platform_version: Option<Svn>,
    /// `ts102241Version`.
    pub ts102241_version: Option<Svn>,
    /// `ppVersion` (Protection Profile version).
    pub pp_version: Svn,
    /// `sasAcreditationNumber`.
    pub sas_accreditation_number: String,
    /// `euiccCategory` (0 other, 1 basic, 2 medium, 3 contactless).
    pub euicc_category: Option<i64>,
    /// The ISD-R AID (real cards may use custom AIDs).
    pub isd_r_aid: Aid,
    /// The default SM-DP+ address at issue time (ES10a).
    pub default_smdp_address: Option<String>,
    /// The root SM-DS address (ES10a).
    pub root_smds_address: String,
    /// Free non-volatile memory for profiles, in bytes.
    pub free_memory: u64,
    /// The Rules Authorisation Table (survives memory reset).
    pub rat: Vec<ProfilePolicyAuthorisationRule>,
    /// How many notifications the card keeps; the oldest go first when full.
    pub max_notifications: usize,
    /// Seed of the card's deterministic random generator (challenges, one-time keys, AIDs).
    pub rng_seed: u64,
}

impl ConsumerConfig {
    /// A configuration for a card at `highest_svn` (lowest 2.0.0 … `highest_svn`): package
    /// version 2.3.1 (plus 3.1 on a v3 card), no capability bit but additionalProfile and
    /// testProfileSupport (and euiccRspCapInInfo1 on a v3 card), 1 MiB free, an empty RAT.
    pub fn new(highest_svn: Svn) -> ConsumerConfig {
        let v3 = highest_svn >= rsp_sgp22::version::V3_0_0;
        let mut bits = vec![
            EuiccRspCapability::ADDITIONAL_PROFILE,
            EuiccRspCapability::TEST_PROFILE_SUPPORT,
        ];
        if v3 {
            bits.push(EuiccRspCapability::EUICC_RSP_CAP_IN_INFO1);
        }
        ConsumerConfig {
            lowest_svn: Svn::new(2, 0, 0).min(highest_svn),
            highest_svn,
            capability: EuiccRspCapability::with_bits(&bits),
            base_profile_package_version: Svn::new(2, 3, 1),
            additional_profile_package_versions: if v3 {
                vec![Svn::new(3, 1, 0)]
            } else {
                Vec::new()
            },
            firmware_version: Svn::new(1, 0, 0),
            global_platform_version: Some(Svn::new(2, 3, 0)),
            ts102241_version: Some(Svn::new(9, 2, 0)),
            pp_version: Svn::new(0, 0, 1),
            sas_accreditation_number: "RSP-SIM-EUICC".into(),
            euicc_category: Some(2),
            isd_r_aid: default_isd_r_aid(),
            default_smdp_address: None,
            root_smds_address: "testrootsmds.example.com".into(),
            free_memory: 1024 * 1024,
            rat: Vec::new(),
            max_notifications: 32,
            rng_seed: 1,
        }
    }

    /// Whether the card is a v3 card.
    pub fn is_v3(&self) -> bool {
        self.highest_svn >= rsp_sgp22::version::V3_0_0
    }
}

/// The default ISD-R AID as a value (the same AID as the M2M card's ISD-R).
pub fn default_isd_r_aid() -> Aid {
    crate::m2m::state::ISD_R_AID
}

/// One signing identity of the card on one curve: SK.EUICC.ECDSA, CERT.EUICC.ECDSA and the
/// certificate(s) up to the CI.
#[derive(Clone)]
pub struct Credential {
    /// SK.EUICC.ECDSA.
    pub key: std::sync::Arc<PrivateKey>,
    /// CERT.EUICC.ECDSA.
    pub euicc_certificate: Certificate,
    /// CERT.EUM.ECDSA (`nextCertInChain`, v2 `eumCertificate`).
    pub eum_certificate: Certificate,
    /// Further certificates towards the CI (v3 `otherCertsInChain`: EUM SubCA, CI SubCA).
    pub other_certificates: Vec<Certificate>,
    /// The key id of the CI this chain ends at (the EUM certificate's AKI).
    pub ci_pk_id: Vec<u8>,
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("curve", &self.key.curve())
            .field(
                "euicc_certificate",
                &self.euicc_certificate.subject().serial_number(),
            )
            .field("ci_pk_id", &hex::encode_upper(&self.ci_pk_id))
            .field("key", &"<secret>")
            .finish()
    }
}

impl Credential {
    /// A credential from its parts; checks that the key matches the certificate and takes the CI
    /// key id from the EUM certificate's AKI.
    pub fn new(
        key: PrivateKey,
        euicc_certificate: Certificate,
        eum_certificate: Certificate,
    ) -> Result<Credential, ConsumerError> {
        let cert_key = euicc_certificate
            .public_key()
            .map_err(|e| ConsumerError::Identity(format!("eUICC certificate key: {e}")))?;
        if cert_key.to_sec1_uncompressed() != key.public_key().to_sec1_uncompressed()
            || cert_key.curve() != key.curve()
        {
            return Err(ConsumerError::Identity(
                "the eUICC key does not match its certificate".into(),
            ));
        }
        let ci_pk_id = eum_certificate
            .authority_key_id()
            .ok_or_else(|| ConsumerError::Identity("EUM certificate without AKI".into()))?
            .to_vec();
        Ok(Credential {
            key: std::sync::Arc::new(key),
            euicc_certificate,
            eum_certificate,
            other_certificates: Vec::new(),
            ci_pk_id,
        })
    }

    /// The curve of the key.
    pub fn curve(&self) -> Curve {
        self.key.curve()
    }
}

/// Who the card is: EID, credentials, trusted CIs.
#[derive(Clone, Debug)]
pub struct CardIdentity {
    /// The EID (subject serialNumber of every eUICC certificate).
    pub eid: Eid,
    /// The signing identities, one per curve / CI.
    pub credentials: Vec<Credential>,
    /// CI certificates whose keys verify servers (`euiccCiPKIdListForVerification`).
    pub ci_certificates: Vec<Certificate>,
}

impl CardIdentity {
    /// `euiccCiPKIdListForVerification`: the SKIs of the trusted CI certificates.
    pub fn verification_ids(&self) -> Vec<Vec<u8>> {
        self.ci_certificates
            .iter()
            .filter_map(|c| c.subject_key_id().map(<[u8]>::to_vec))
            .collect()
    }

    /// `euiccCiPKIdListForSigning`: the CI key ids the card's certificates chain to.
    pub fn signing_ids(&self) -> Vec<Vec<u8>> {
        let mut out: Vec<Vec<u8>> = Vec::new();
        for c in &self.credentials {
            if !out.contains(&c.ci_pk_id) {
                out.push(c.ci_pk_id.clone());
            }
        }
        out
    }

    /// Checks the identity: at least one credential, every eUICC certificate names the EID and
    /// chains to one of the CIs at `at`.
    pub fn check(&self, at: time::OffsetDateTime) -> Result<(), ConsumerError> {
        if self.credentials.is_empty() {
            return Err(ConsumerError::Identity("no eUICC credential".into()));
        }
        for c in &self.credentials {
            if c.euicc_certificate.eid() != Some(self.eid.as_str()) {
                return Err(ConsumerError::Identity(format!(
                    "eUICC certificate does not name EID {}",
                    self.eid
                )));
            }
            let mut intermediates = vec![c.eum_certificate.clone()];
            intermediates.extend(c.other_certificates.iter().cloned());
            rsp_crypto::x509::verify_sgp22_chain(
                &c.euicc_certificate,
                &intermediates,
                &self.ci_certificates,
                at,
                rsp_crypto::x509::Sgp22Role::Euicc,
            )
            .map_err(|e| ConsumerError::Identity(format!("eUICC chain: {e}")))?;
        }
        Ok(())
    }
}

/// The SGP.26 file names of one curve.
struct Sgp26Files {
    euicc_cert: &'static str,
    euicc_key: &'static str,
    eum_cert: &'static str,
    ci_cert: &'static str,
}

const SGP26_NIST: Sgp26Files = Sgp26Files {
    euicc_cert: "eUICC/CERT_EUICC_ECDSA_NIST.der",
    euicc_key: "eUICC/SK_EUICC_ECDSA_NIST.pem",
    eum_cert: "EUM/CERT_EUM_ECDSA_NIST.der",
    ci_cert: "CertificateIssuer/CERT_CI_ECDSA_NIST.der",
};

const SGP26_BRP: Sgp26Files = Sgp26Files {
    euicc_cert: "eUICC/CERT_EUICC_ECDSA_BRP.der",
    euicc_key: "eUICC/SK_EUICC_ECDSA_BRP.pem",
    eum_cert: "EUM/CERT_EUM_ECDSA_BRP.der",
    ci_cert: "CertificateIssuer/CERT_CI_ECDSA_BRP.der",
};

fn read(dir: &Path, name: &str) -> Result<Vec<u8>, ConsumerError> {
    let path = dir.join(name);
    std::fs::read(&path).map_err(|e| ConsumerError::Identity(format!("{}: {e}", path.display())))
}

fn cert(bytes: &[u8], what: &str) -> Result<Certificate, ConsumerError> {
    Certificate::from_der_or_pem(bytes).map_err(|e| ConsumerError::Identity(format!("{what}: {e}")))
}

/// The SGP.26 test eUICC (EID `89049032123451234512345678901235`) from a directory laid out as
/// the SGP.26 package (`eUICC/`, `EUM/`, `CertificateIssuer/`): the NIST and, when present, the
/// brainpool credential, trusting both CIs.
pub fn load_sgp26_identity(dir: &Path) -> Result<CardIdentity, ConsumerError> {
    let mut credentials = Vec::new();
    let mut ci_certificates = Vec::new();
    for files in [&SGP26_NIST, &SGP26_BRP] {
        if !dir.join(files.euicc_cert).exists() {
            continue;
        }
        let key_pem = String::from_utf8(read(dir, files.euicc_key)?)
            .map_err(|_| ConsumerError::Identity("eUICC key is not PEM".into()))?;
        let key = PrivateKey::from_pem(&key_pem)
            .map_err(|e| ConsumerError::Identity(format!("eUICC key: {e}")))?;
        let euicc = cert(&read(dir, files.euicc_cert)?, "eUICC certificate")?;
        let eum = cert(&read(dir, files.eum_cert)?, "EUM certificate")?;
        ci_certificates.push(cert(&read(dir, files.ci_cert)?, "CI certificate")?);
        credentials.push(Credential::new(key, euicc, eum)?);
    }
    let first = credentials
        .first()
        .ok_or_else(|| ConsumerError::Identity(format!("no SGP.26 eUICC in {}", dir.display())))?;
    let eid: Eid = first
        .euicc_certificate
        .eid()
        .ok_or_else(|| ConsumerError::Identity("eUICC certificate without EID".into()))?
        .parse()
        .map_err(|e| ConsumerError::Identity(format!("EID: {e}")))?;
    Ok(CardIdentity {
        eid,
        credentials,
        ci_certificates,
    })
}
