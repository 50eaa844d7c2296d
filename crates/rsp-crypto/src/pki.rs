//! The test PKI: [`generate`] writes a complete hierarchy for SGP.02, SGP.22 and mutual TLS into a
//! directory, described by a manifest (`pki.json`, [`PkiManifest`]).
//!
//! Layout under the directory (every entity in a folder named by its id, paths in the manifest are
//! relative to the directory on disk and absolute once loaded):
//!
//! ```text
//! pki.json
//! sgp02/ci/{cert.pem,key.pem}            X.509 CI (self-signed, P-256)
//! sgp02/eum/{cert.pem,key.pem}           X.509 EUM, signed by the CI
//! sgp02/sm-dp/{cert.tlv,key.pem}         GP Amd E CERT.DP.ECDSA, signed by the CI
//! sgp02/sm-sr1/{cert.tlv,key.pem}        GP Amd E CERT.SR.ECDSA, signed by the CI (sm-sr2 likewise)
//! sgp02/euicc-N/{cert.tlv,key.pem}       GP Amd E CERT.ECASD.ECKA with a fresh EID, signed by the EUM
//! sgp22/<ci|eum|euicc|dp-auth|dp-pb|dp-tls>/<nist|brp>/{cert.pem,key.pem}   SGP.26-shaped
//! tls/ca/{cert.pem,key.pem}              test TLS CA
//! tls/<eum|operator1|operator2|m2m-sp|sm-dp|sm-sr1|sm-sr2|sm-dp-plus>/{cert.pem,key.pem}
//! ```
//!
//! Private keys are PKCS#8 PEM written with mode 0600. Before returning, [`generate`] verifies every
//! chain it wrote with [`crate::x509`] and [`crate::gpcert`] at the generation time.
//!
//! X.509 certificates are built with `rcgen`; signing goes through [`crate::ecc`]. `rcgen` knows no
//! brainpool curve, so for a brainpoolP256r1 subject the TBS that `rcgen` produced gets the correct
//! SubjectPublicKeyInfo spliced in and is signed again by the issuer key (ecdsa-with-SHA256 is the
//! same algorithm identifier on both curves).

use std::collections::HashSet;
use std::fs;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CrlDistributionPoint, CustomExtension, DistinguishedName,
    DnType, DnValue, GeneralSubtree, IsCa, Issuer, KeyIdMethod, KeyUsagePurpose, NameConstraints,
    PublicKeyData, SerialNumber, SignatureAlgorithm, SigningKey,
};
use rsp_types::Eid;
use serde::{Deserialize, Serialize};
use time::{Date, Duration, Month, OffsetDateTime, PrimitiveDateTime, Time};

use crate::ecc::{self, Curve, EccError, PrivateKey, PublicKey};
use crate::gpcert::{GpCertError, GpCertRole, GpCertificate, GpCertificateParams};
use crate::x509::{self, Certificate, Sgp22Role, X509Error};

/// File name of the manifest inside a PKI directory.
pub const MANIFEST_FILE: &str = "pki.json";
/// Manifest format version written by this code.
pub const MANIFEST_FORMAT: u32 = 1;

/// Entity OIDs of the generated test PKI (SAN registeredID), all under the example arc `2.999`
/// (ITU-T X.660 "example", never allocated to real entities). The SGP.22 ones follow SGP.26
/// (CI `2.999.1`, EUM `2.999.5`, SM-DP+ `2.999.10`); the others are rsp's choice.
pub mod entity_oids {
    /// SGP.22 CI (as SGP.26).
    pub const SGP22_CI: &str = "2.999.1";
    /// SGP.02 CI.
    pub const SGP02_CI: &str = "2.999.2";
    /// Test TLS CA.
    pub const TLS_CA: &str = "2.999.3";
    /// The EUM (SGP.02 and SGP.22 EUM certificates and its TLS identity; as SGP.26).
    pub const EUM: &str = "2.999.5";
    /// The SM-DP+ (CERT.DPauth, CERT.DPpb, CERT.DP.TLS and its TLS identity; as SGP.26).
    pub const SM_DP_PLUS: &str = "2.999.10";
    /// Operator 1.
    pub const OPERATOR1: &str = "2.999.20";
    /// Operator 2.
    pub const OPERATOR2: &str = "2.999.21";
    /// M2M Service Provider.
    pub const M2M_SP: &str = "2.999.22";
    /// SGP.02 SM-DP.
    pub const SM_DP: &str = "2.999.30";
    /// SGP.02 SM-SR 1.
    pub const SM_SR1: &str = "2.999.31";
    /// SGP.02 SM-SR 2.
    pub const SM_SR2: &str = "2.999.32";
}

/// Which part of the PKI an entity belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PkiPart {
    /// SGP.02 (M2M) certificates.
    Sgp02,
    /// SGP.22 (consumer) certificates.
    Sgp22,
    /// Mutual-TLS identities of the off-card interfaces.
    Tls,
}

/// The role of an entity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EntityRole {
    /// Certificate Issuer (root).
    Ci,
    /// eUICC Manufacturer.
    Eum,
    /// eUICC (SGP.02: ECASD; SGP.22: CERT.EUICC).
    Euicc,
    /// SGP.02 SM-DP.
    SmDp,
    /// SGP.02 SM-SR.
    SmSr,
    /// SGP.22 SM-DP+ (TLS identity).
    SmDpPlus,
    /// Mobile Network Operator.
    Operator,
    /// M2M Service Provider.
    M2mSp,
    /// CERT.DPauth.
    DpAuth,
    /// CERT.DPpb.
    DpPb,
    /// CERT.DP.TLS (SGP.22 TLS server certificate under the CI).
    DpTls,
    /// The test TLS CA.
    TlsCa,
}

/// Encoding of an entity's certificate file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CertFormat {
    /// X.509, PEM.
    X509Pem,
    /// GlobalPlatform Amendment E `7F21` TLV, binary.
    GpTlv,
}

/// One entity of a PKI directory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PkiEntity {
    /// Unique id, also the entity's folder (`sgp02/sm-sr1`, `sgp22/dp-auth/nist`, `tls/operator1`).
    pub id: String,
    /// The part of the PKI.
    pub pki: PkiPart,
    /// The role.
    pub role: EntityRole,
    /// Name (the certificate's common name for X.509 entities).
    pub name: String,
    /// Entity OID (subjectAltName registeredID), if the entity has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity_oid: Option<String>,
    /// Key curve, OpenSSL name (`prime256v1`, `brainpoolP256r1`).
    pub curve: String,
    /// Certificate file.
    pub cert: PathBuf,
    /// Certificate encoding.
    pub cert_format: CertFormat,
    /// Private key file (PKCS#8 PEM), if the PKI holds it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<PathBuf>,
    /// Issuer certificates from the direct issuer up to the root (empty for a root). X.509 PEM.
    #[serde(default)]
    pub chain: Vec<PathBuf>,
    /// EID, for eUICC entities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eid: Option<String>,
    /// Start of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    /// End of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
}

impl PkiEntity {
    /// The key curve.
    pub fn curve(&self) -> Option<Curve> {
        Curve::ALL.into_iter().find(|c| c.name() == self.curve)
    }

    /// The trust anchor: the last chain element, or the certificate itself for a root.
    pub fn trust_anchor(&self) -> &Path {
        self.chain.last().unwrap_or(&self.cert)
    }
}

/// The manifest of a PKI directory (`pki.json`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PkiManifest {
    /// Format version ([`MANIFEST_FORMAT`]).
    pub format: u32,
    /// Where the material comes from: `generated` or `sgp26`.
    pub origin: String,
    /// When it was written.
    #[serde(with = "time::serde::rfc3339")]
    pub created: OffsetDateTime,
    /// Every entity.
    pub entities: Vec<PkiEntity>,
    /// The directory the paths are relative to on disk (not serialised).
    #[serde(skip)]
    pub dir: PathBuf,
}

impl PkiManifest {
    /// Loads `dir/pki.json`; paths come back absolute (joined to `dir`).
    pub fn load(dir: &Path) -> Result<Self, PkiError> {
        let path = dir.join(MANIFEST_FILE);
        let text = fs::read_to_string(&path).map_err(|e| PkiError::io(&path, e))?;
        let mut manifest: PkiManifest = serde_json::from_str(&text)
            .map_err(|e| PkiError::Manifest(format!("{}: {e}", path.display())))?;
        if manifest.format != MANIFEST_FORMAT {
            return Err(PkiError::Manifest(format!(
                "unsupported manifest format {}",
                manifest.format
            )));
        }
        manifest.dir = dir.to_path_buf();
        for e in &mut manifest.entities {
            e.cert = dir.join(&e.cert);
            e.key = e.key.as_ref().map(|k| dir.join(k));
            e.chain = e.chain.iter().map(|c| dir.join(c)).collect();
        }
        Ok(manifest)
    }

    /// Writes `dir/pki.json` atomically, with paths relative to `dir`.
    pub fn save(&self) -> Result<(), PkiError> {
        let rel = |p: &Path| {
            p.strip_prefix(&self.dir)
                .map(Path::to_path_buf)
                .unwrap_or_else(|_| p.to_path_buf())
        };
        let mut copy = self.clone();
        for e in &mut copy.entities {
            e.cert = rel(&e.cert);
            e.key = e.key.as_deref().map(rel);
            e.chain = e.chain.iter().map(|c| rel(c)).collect();
        }
        let text =
            serde_json::to_string_pretty(&copy).map_err(|e| PkiError::Manifest(e.to_string()))?;
        let tmp = self.dir.join(format!("{MANIFEST_FILE}.tmp"));
        fs::write(&tmp, text + "\n").map_err(|e| PkiError::io(&tmp, e))?;
        let path = self.dir.join(MANIFEST_FILE);
        fs::rename(&tmp, &path).map_err(|e| PkiError::io(&path, e))
    }

    /// The entity with this id.
    pub fn entity(&self, id: &str) -> Option<&PkiEntity> {
        self.entities.iter().find(|e| e.id == id)
    }

    /// Entities of one part and role, in manifest order.
    pub fn entities_with(
        &self,
        pki: PkiPart,
        role: EntityRole,
    ) -> impl Iterator<Item = &PkiEntity> {
        self.entities
            .iter()
            .filter(move |e| e.pki == pki && e.role == role)
    }
}

/// Errors of PKI generation, import and manifest handling.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    /// The directory already holds a PKI and `force` was not given.
    #[error("{0} already holds a PKI (use force to overwrite)")]
    AlreadyExists(PathBuf),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
    /// The manifest cannot be read or written.
    #[error("manifest: {0}")]
    Manifest(String),
    /// An option is invalid.
    #[error("invalid option: {0}")]
    InvalidOption(String),
    /// Key handling failed.
    #[error("key: {0}")]
    Ecc(#[from] EccError),
    /// Certificate building failed.
    #[error("certificate generation: {0}")]
    Generation(String),
    /// An X.509 certificate or chain did not verify.
    #[error("{context}: {source}")]
    X509 {
        /// Which certificate.
        context: String,
        /// The verification error.
        source: X509Error,
    },
    /// A GP certificate did not verify.
    #[error("{context}: {source}")]
    GpCert {
        /// Which certificate.
        context: String,
        /// The error.
        source: GpCertError,
    },
    /// A private key does not belong to its certificate.
    #[error("{0}: private key does not match the certificate")]
    KeyMismatch(String),
    /// Source material is missing or not understood (SGP.26 import).
    #[error("import: {0}")]
    Import(String),
}

impl PkiError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn x509(context: &str, source: X509Error) -> Self {
        Self::X509 {
            context: context.to_string(),
            source,
        }
    }
}

/// Options of [`generate`].
#[derive(Clone, Debug)]
pub struct PkiOptions {
    /// Number of SGP.02 eUICCs (ECASD key pair and certificate each). Default 2.
    pub euicc_count: usize,
    /// Overwrite an existing PKI in the directory. Default false.
    pub force: bool,
    /// Generation time; `None` reads the system clock once. Certificates start one hour earlier.
    pub now: Option<OffsetDateTime>,
    /// EIN the EUMs may issue (EID prefix, in the name constraints). Default `89049032` (as SGP.26).
    pub ein: String,
    /// FQDN in the SGP.22 CERT.DP.TLS (besides `localhost` and 127.0.0.1). Default
    /// `testsmdpplus1.example.com` (as SGP.26 and the SGP.23 test suites).
    pub smdpp_fqdn: String,
    /// Also write the brainpoolP256r1 (`brp`) variant of the SGP.22 hierarchy. Default true.
    pub brainpool: bool,
    /// Validity of end-entity certificates in days (CERT.DP/SR, DPauth, DPpb, DPtls, TLS). Default 1095.
    pub leaf_validity_days: u32,
}

impl Default for PkiOptions {
    fn default() -> Self {
        Self {
            euicc_count: 2,
            force: false,
            now: None,
            ein: "89049032".into(),
            smdpp_fqdn: "testsmdpplus1.example.com".into(),
            brainpool: true,
            leaf_validity_days: 1095,
        }
    }
}

/// Validity of the CIs and the TLS CA (35 years, about SGP.26's 12,783 days).
const CA_VALIDITY_DAYS: i64 = 12_783;
/// Validity of the EUM certificates.
const EUM_VALIDITY_DAYS: i64 = 12_419;
/// Organisation of every generated subject.
const ORG: &str = "rsp test";
/// Organisation of the EUM and its eUICCs (the name constraints' permitted organisation).
const EUM_ORG: &str = "rsp test EUM";

/// Generates the complete test PKI into `dir` and writes `dir/pki.json`.
///
/// Refuses when `dir` already holds a PKI (a manifest or one of the `sgp02`, `sgp22`, `tls`
/// folders) unless `opts.force`; with `force` the old manifest is removed first and files are
/// overwritten.
pub fn generate(dir: &Path, opts: &PkiOptions) -> Result<PkiManifest, PkiError> {
    if opts.ein.len() < 2 || opts.ein.len() > 30 || !opts.ein.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PkiError::InvalidOption(format!(
            "EIN {:?} must be 2 to 30 digits",
            opts.ein
        )));
    }
    if opts.leaf_validity_days == 0 {
        return Err(PkiError::InvalidOption(
            "leaf validity must be at least one day".into(),
        ));
    }
    prepare_dir(dir, opts.force)?;

    let now = opts
        .now
        .unwrap_or_else(OffsetDateTime::now_utc)
        .to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .map_err(|e| PkiError::Generation(e.to_string()))?;
    let mut g = Generator {
        dir: dir.to_path_buf(),
        not_before: now - Duration::hours(1),
        now,
        opts: opts.clone(),
        entities: Vec::new(),
        eids: HashSet::new(),
    };
    g.sgp02()?;
    g.sgp22(Curve::NistP256)?;
    if opts.brainpool {
        g.sgp22(Curve::BrainpoolP256r1)?;
    }
    g.tls()?;

    let manifest = PkiManifest {
        format: MANIFEST_FORMAT,
        origin: "generated".into(),
        created: now,
        entities: g.entities,
        dir: dir.to_path_buf(),
    };
    check_manifest(&manifest, now)?;
    manifest.save()?;
    Ok(manifest)
}

/// Refuses an existing PKI unless `force`; creates `dir`.
pub(crate) fn prepare_dir(dir: &Path, force: bool) -> Result<(), PkiError> {
    let manifest = dir.join(MANIFEST_FILE);
    let occupied = manifest.exists()
        || ["sgp02", "sgp22", "tls"]
            .iter()
            .any(|sub| dir.join(sub).exists());
    if occupied && !force {
        return Err(PkiError::AlreadyExists(dir.to_path_buf()));
    }
    if manifest.exists() {
        fs::remove_file(&manifest).map_err(|e| PkiError::io(&manifest, e))?;
    }
    fs::create_dir_all(dir).map_err(|e| PkiError::io(dir, e))
}

/// Verifies every entity of a manifest at `at`: keys match certificates, X.509 chains verify (with
/// SGP.22 roles for the SGP.02/SGP.22 parts), GP certificates verify against their issuer.
pub fn check_manifest(manifest: &PkiManifest, at: OffsetDateTime) -> Result<(), PkiError> {
    for e in &manifest.entities {
        check_entity(e, at)?;
    }
    Ok(())
}

/// Verifies one entity at `at` (see [`check_manifest`]).
pub fn check_entity(e: &PkiEntity, at: OffsetDateTime) -> Result<(), PkiError> {
    let chain: Vec<Certificate> = e
        .chain
        .iter()
        .map(|p| read_x509(p))
        .collect::<Result<_, _>>()?;
    let (anchor, intermediates) = match chain.split_last() {
        Some((a, rest)) => (Some(a), rest),
        None => (None, &[][..]),
    };
    let key = e.key.as_deref().map(read_key).transpose()?;
    match e.cert_format {
        CertFormat::X509Pem => {
            let cert = read_x509(&e.cert)?;
            let anchors = [anchor.cloned().unwrap_or_else(|| cert.clone())];
            let role = match (e.pki, e.role) {
                (PkiPart::Tls, _) => None,
                (_, EntityRole::Ci) => Some(Sgp22Role::Ci),
                (_, EntityRole::Eum) => Some(Sgp22Role::Eum),
                (_, EntityRole::Euicc) => Some(Sgp22Role::Euicc),
                (_, EntityRole::DpAuth) => Some(Sgp22Role::DpAuth),
                (_, EntityRole::DpPb) => Some(Sgp22Role::DpPb),
                (_, EntityRole::DpTls) => Some(Sgp22Role::DpTls),
                _ => None,
            };
            let result = match role {
                Some(r) => x509::verify_sgp22_chain(&cert, intermediates, &anchors, at, r),
                None => x509::verify_chain(&cert, intermediates, &anchors, at),
            };
            result.map_err(|err| PkiError::x509(&e.id, err))?;
            if let Some(k) = &key
                && Ok(k.public_key()) != cert.public_key()
            {
                return Err(PkiError::KeyMismatch(e.id.clone()));
            }
        }
        CertFormat::GpTlv => {
            let bytes = fs::read(&e.cert).map_err(|err| PkiError::io(&e.cert, err))?;
            let cert = GpCertificate::from_bytes(&bytes).map_err(|source| PkiError::GpCert {
                context: e.id.clone(),
                source,
            })?;
            let issuer = chain.first().ok_or_else(|| {
                PkiError::Manifest(format!("{}: GP certificate without issuer chain", e.id))
            })?;
            let (role, issuer_role) = match e.role {
                EntityRole::SmDp => (GpCertRole::SmDp, Sgp22Role::Ci),
                EntityRole::SmSr => (GpCertRole::SmSr, Sgp22Role::Ci),
                _ => (GpCertRole::Ecasd, Sgp22Role::Eum),
            };
            let anchors = [anchor.cloned().unwrap_or_else(|| issuer.clone())];
            x509::verify_sgp22_chain(
                issuer,
                intermediates.get(1..).unwrap_or_default(),
                &anchors,
                at,
                issuer_role,
            )
            .map_err(|err| PkiError::x509(&format!("{} issuer", e.id), err))?;
            cert.verify(issuer, role, at)
                .map_err(|source| PkiError::GpCert {
                    context: e.id.clone(),
                    source,
                })?;
            if role == GpCertRole::Ecasd {
                let eid = cert.eid().map_err(|source| PkiError::GpCert {
                    context: e.id.clone(),
                    source,
                })?;
                x509::check_eid_permitted(issuer, eid.as_str())
                    .map_err(|err| PkiError::x509(&e.id, err))?;
            }
            if let Some(k) = &key
                && k.public_key() != cert.public_key()
            {
                return Err(PkiError::KeyMismatch(e.id.clone()));
            }
        }
    }
    Ok(())
}

pub(crate) fn read_x509(path: &Path) -> Result<Certificate, PkiError> {
    let bytes = fs::read(path).map_err(|e| PkiError::io(path, e))?;
    Certificate::from_der_or_pem(&bytes).map_err(|e| PkiError::x509(&path.display().to_string(), e))
}

pub(crate) fn read_key(path: &Path) -> Result<PrivateKey, PkiError> {
    let text = fs::read_to_string(path).map_err(|e| PkiError::io(path, e))?;
    Ok(PrivateKey::from_pem(&text)?)
}

/// Writes a file, creating its folder; `secret` files get mode 0600.
pub(crate) fn write_file(path: &Path, bytes: &[u8], secret: bool) -> Result<(), PkiError> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|e| PkiError::io(parent, e))?;
    }
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        if secret {
            options.mode(0o600);
        }
    }
    let mut file = options.open(path).map_err(|e| PkiError::io(path, e))?;
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(0o600))
            .map_err(|e| PkiError::io(path, e))?;
    }
    file.write_all(bytes).map_err(|e| PkiError::io(path, e))
}

/// Writes a private key as PKCS#8 PEM with mode 0600.
pub(crate) fn write_key(path: &Path, key: &PrivateKey) -> Result<(), PkiError> {
    write_file(path, key.to_pkcs8_pem().as_bytes(), true)
}

/// 16 random bytes, positive and without a leading zero byte (an X.509 / GP serial number).
fn random_serial(len: usize) -> Result<Vec<u8>, PkiError> {
    let mut serial = vec![0u8; len];
    ecc::fill_random(&mut serial)?;
    if let Some(first) = serial.first_mut() {
        *first = (*first & 0x7F).max(1);
    }
    Ok(serial)
}

/// A fresh EID with prefix `ein` and valid MOD 97-10 check digits.
fn fresh_eid(ein: &str) -> Result<Eid, PkiError> {
    let mut random = [0u8; 30];
    ecc::fill_random(&mut random)?;
    let body: String = ein
        .chars()
        .chain(random.iter().map(|b| char::from(b'0' + b % 10)))
        .take(30)
        .collect();
    Eid::with_check_digits(&body).map_err(|e| PkiError::Generation(e.to_string()))
}

fn end_of_time() -> OffsetDateTime {
    // RFC 5280 §4.1.2.5: 99991231235959Z means "no well-defined expiration date".
    let date = Date::from_calendar_date(9999, Month::December, 31).unwrap_or(Date::MAX);
    PrimitiveDateTime::new(date, Time::from_hms(23, 59, 59).unwrap_or(Time::MIDNIGHT)).assume_utc()
}

// ---------------------------------------------------------------------------------------------
// rcgen glue

/// An [`ecc::PrivateKey`] as an rcgen signer. rcgen only writes the algorithm identifier
/// (ecdsa-with-SHA256, the same for both curves) and the SPKI (P-256 form; fixed up for brainpool
/// subjects by [`fix_brainpool_spki`]).
struct RcgenSigner<'a> {
    key: &'a PrivateKey,
    point: [u8; 65],
}

impl<'a> RcgenSigner<'a> {
    fn new(key: &'a PrivateKey) -> Self {
        Self {
            key,
            point: key.public_key().to_sec1_uncompressed(),
        }
    }
}

impl PublicKeyData for RcgenSigner<'_> {
    fn der_bytes(&self) -> &[u8] {
        &self.point
    }

    fn algorithm(&self) -> &'static SignatureAlgorithm {
        &rcgen::PKCS_ECDSA_P256_SHA256
    }
}

impl SigningKey for RcgenSigner<'_> {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        self.key
            .sign_der(msg)
            .map_err(|_| rcgen::Error::RemoteKeyError)
    }
}

struct RcgenPublic([u8; 65]);

impl PublicKeyData for RcgenPublic {
    fn der_bytes(&self) -> &[u8] {
        &self.0
    }

    fn algorithm(&self) -> &'static SignatureAlgorithm {
        &rcgen::PKCS_ECDSA_P256_SHA256
    }
}

/// What a certificate says, independent of who signs it.
struct CertSpec {
    subject: Vec<(DnType, DnValue)>,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
    /// `Some(path_len)` for a CA.
    ca: Option<Option<u8>>,
    key_usages: Vec<KeyUsagePurpose>,
    /// (serverAuth+clientAuth, critical)
    tls_eku: Option<bool>,
    policy: Option<(&'static str, bool)>,
    dns: Vec<String>,
    ips: Vec<IpAddr>,
    rids: Vec<String>,
    crl_urls: Vec<String>,
    /// (organisation, EIN) permitted subtree.
    name_constraint: Option<(String, String)>,
}

impl CertSpec {
    fn new(
        subject: Vec<(DnType, DnValue)>,
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> Self {
        Self {
            subject,
            not_before,
            not_after,
            ca: None,
            key_usages: Vec::new(),
            tls_eku: None,
            policy: None,
            dns: Vec::new(),
            ips: Vec::new(),
            rids: Vec::new(),
            crl_urls: Vec::new(),
            name_constraint: None,
        }
    }
}

/// A CA able to issue: its certificate, the rcgen parameters it was made from (name and key id for
/// rcgen's issuer), its key.
struct Ca {
    cert: Certificate,
    params: CertificateParams,
    key: PrivateKey,
    path: PathBuf,
}

fn dn(entries: &[(DnType, DnValue)]) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    for (t, v) in entries {
        name.push(t.clone(), v.clone());
    }
    name
}

fn printable(s: &str) -> Result<DnValue, PkiError> {
    rcgen::string::PrintableString::try_from(s)
        .map(DnValue::PrintableString)
        .map_err(|e| PkiError::Generation(e.to_string()))
}

fn serial_number_dn() -> DnType {
    DnType::CustomDnType(vec![2, 5, 4, 5])
}

fn oid_arcs(dotted: &str) -> Result<Vec<u64>, PkiError> {
    dotted
        .split('.')
        .map(|a| {
            a.parse::<u64>()
                .map_err(|_| PkiError::Generation(format!("bad OID {dotted}")))
        })
        .collect()
}

fn oid_tlv(dotted: &str) -> Result<Vec<u8>, PkiError> {
    let content = x509::oid_der_content(dotted)
        .ok_or_else(|| PkiError::Generation(format!("bad OID {dotted}")))?;
    Ok(x509::der_tlv(0x06, &content))
}

fn custom_extension(
    oid: &str,
    critical: bool,
    content: Vec<u8>,
) -> Result<CustomExtension, PkiError> {
    let mut ext = CustomExtension::from_oid_content(&oid_arcs(oid)?, content);
    ext.set_criticality(critical);
    Ok(ext)
}

/// Builds the rcgen parameters of a certificate for `subject_key`.
fn build_params(
    spec: &CertSpec,
    subject_key: &PublicKey,
    issued: bool,
) -> Result<CertificateParams, PkiError> {
    let mut p = CertificateParams::default();
    p.serial_number = Some(SerialNumber::from_slice(&random_serial(16)?));
    p.not_before = spec.not_before;
    p.not_after = spec.not_after;
    p.distinguished_name = dn(&spec.subject);
    p.key_usages = spec.key_usages.clone();
    p.use_authority_key_identifier_extension = issued;
    let ski = x509::key_identifier(subject_key).to_vec();
    p.key_identifier_method = KeyIdMethod::PreSpecified(ski.clone());
    let mut exts = Vec::new();
    match spec.ca {
        Some(path_len) => {
            // rcgen writes the SubjectKeyIdentifier of a CA from `key_identifier_method`.
            p.is_ca = IsCa::Ca(match path_len {
                Some(n) => BasicConstraints::Constrained(n),
                None => BasicConstraints::Unconstrained,
            });
        }
        None => {
            p.is_ca = IsCa::NoCa;
            exts.push(custom_extension(
                x509::OID_EXT_SKI,
                false,
                x509::der_tlv(0x04, &ski),
            )?);
        }
    }
    if let Some((oid, critical)) = spec.policy {
        let info = x509::der_tlv(0x30, &oid_tlv(oid)?);
        exts.push(custom_extension(
            x509::OID_EXT_POLICIES,
            critical,
            x509::der_tlv(0x30, &info),
        )?);
    }
    if let Some(critical) = spec.tls_eku {
        let mut purposes = oid_tlv("1.3.6.1.5.5.7.3.1")?;
        purposes.extend(oid_tlv("1.3.6.1.5.5.7.3.2")?);
        exts.push(custom_extension(
            x509::OID_EXT_EKU,
            critical,
            x509::der_tlv(0x30, &purposes),
        )?);
    }
    if !(spec.dns.is_empty() && spec.ips.is_empty() && spec.rids.is_empty()) {
        let mut names = Vec::new();
        for d in &spec.dns {
            names.extend(x509::der_tlv(0x82, d.as_bytes()));
        }
        for ip in &spec.ips {
            let octets = match ip {
                IpAddr::V4(v4) => v4.octets().to_vec(),
                IpAddr::V6(v6) => v6.octets().to_vec(),
            };
            names.extend(x509::der_tlv(0x87, &octets));
        }
        for rid in &spec.rids {
            let content = x509::oid_der_content(rid)
                .ok_or_else(|| PkiError::Generation(format!("bad OID {rid}")))?;
            names.extend(x509::der_tlv(0x88, &content));
        }
        exts.push(custom_extension(
            x509::OID_EXT_SAN,
            false,
            x509::der_tlv(0x30, &names),
        )?);
    }
    if let Some((org, ein)) = &spec.name_constraint {
        let permitted = dn(&[
            (DnType::OrganizationName, DnValue::Utf8String(org.clone())),
            (serial_number_dn(), printable(ein)?),
        ]);
        p.name_constraints = Some(NameConstraints {
            permitted_subtrees: vec![GeneralSubtree::DirectoryName(permitted)],
            excluded_subtrees: vec![],
        });
    }
    if !spec.crl_urls.is_empty() {
        p.crl_distribution_points = vec![CrlDistributionPoint {
            uris: spec.crl_urls.clone(),
        }];
    }
    p.custom_extensions = exts;
    Ok(p)
}

/// Issues a certificate for `subject_key` (self-signed when `issuer` is None).
fn issue(
    spec: &CertSpec,
    subject_key: &PrivateKey,
    issuer: Option<&Ca>,
) -> Result<(Certificate, CertificateParams), PkiError> {
    let params = build_params(spec, subject_key.public_key(), issuer.is_some())?;
    let gen_err = |e: rcgen::Error| PkiError::Generation(e.to_string());
    let (der, signing_key) = match issuer {
        None => (
            params
                .self_signed(&RcgenSigner::new(subject_key))
                .map_err(gen_err)?
                .der()
                .to_vec(),
            subject_key,
        ),
        Some(ca) => {
            let rcgen_issuer = Issuer::from_params(&ca.params, RcgenSigner::new(&ca.key));
            let public = RcgenPublic(subject_key.public_key().to_sec1_uncompressed());
            (
                params
                    .signed_by(&public, &rcgen_issuer)
                    .map_err(gen_err)?
                    .der()
                    .to_vec(),
                &ca.key,
            )
        }
    };
    let der = match subject_key.curve() {
        Curve::NistP256 => der,
        Curve::BrainpoolP256r1 => fix_brainpool_spki(&der, subject_key.public_key(), signing_key)?,
    };
    let cert =
        Certificate::from_der(&der).map_err(|e| PkiError::x509("generated certificate", e))?;
    Ok((cert, params))
}

/// Replaces the SubjectPublicKeyInfo in an rcgen-made certificate with the real (brainpool) one and
/// signs the new TBS with `issuer_key`.
fn fix_brainpool_spki(
    der: &[u8],
    subject: &PublicKey,
    issuer_key: &PrivateKey,
) -> Result<Vec<u8>, PkiError> {
    let bad = || PkiError::Generation("unexpected certificate structure from rcgen".into());
    let (_, _, outer, _) = x509::der_read(der).ok_or_else(bad)?;
    let (_, _, tbs, after_tbs) = x509::der_read(outer).ok_or_else(bad)?;
    let (_, alg, _, _) = x509::der_read(after_tbs).ok_or_else(bad)?;
    let mut fields = Vec::new();
    let mut rest = tbs;
    while !rest.is_empty() {
        let (tag, whole, _, next) = x509::der_read(rest).ok_or_else(bad)?;
        fields.push((tag, whole));
        rest = next;
    }
    // version [0], serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo, ...
    let spki = subject.to_spki_der();
    let mut new_tbs_content = Vec::with_capacity(tbs.len() + 4);
    for (i, (tag, whole)) in fields.iter().enumerate() {
        if i == 6 {
            if *tag != 0x30 || fields.first().map(|f| f.0) != Some(0xA0) {
                return Err(bad());
            }
            new_tbs_content.extend_from_slice(&spki);
        } else {
            new_tbs_content.extend_from_slice(whole);
        }
    }
    let new_tbs = x509::der_tlv(0x30, &new_tbs_content);
    let signature = issuer_key.sign_der(&new_tbs)?;
    let mut bits = vec![0u8];
    bits.extend_from_slice(&signature);
    let mut content = new_tbs;
    content.extend_from_slice(alg);
    content.extend(x509::der_tlv(0x03, &bits));
    Ok(x509::der_tlv(0x30, &content))
}

// ---------------------------------------------------------------------------------------------
// the hierarchy

struct Generator {
    dir: PathBuf,
    now: OffsetDateTime,
    not_before: OffsetDateTime,
    opts: PkiOptions,
    entities: Vec<PkiEntity>,
    eids: HashSet<Eid>,
}

struct EntityInfo<'a> {
    id: String,
    pki: PkiPart,
    role: EntityRole,
    name: String,
    oid: Option<&'a str>,
    eid: Option<String>,
}

impl Generator {
    fn leaf_until(&self) -> OffsetDateTime {
        self.now + Duration::days(i64::from(self.opts.leaf_validity_days))
    }

    fn path(&self, id: &str, file: &str) -> PathBuf {
        self.dir.join(id).join(file)
    }

    fn fresh_eid(&mut self) -> Result<Eid, PkiError> {
        loop {
            let eid = fresh_eid(&self.opts.ein)?;
            if self.eids.insert(eid) {
                return Ok(eid);
            }
        }
    }

    /// Writes an X.509 entity (cert.pem, key.pem) and records it.
    fn record_x509(
        &mut self,
        info: EntityInfo<'_>,
        cert: &Certificate,
        key: &PrivateKey,
        chain: Vec<PathBuf>,
    ) -> Result<PathBuf, PkiError> {
        let cert_path = self.path(&info.id, "cert.pem");
        let key_path = self.path(&info.id, "key.pem");
        write_file(&cert_path, cert.to_pem().as_bytes(), false)?;
        write_key(&key_path, key)?;
        self.entities.push(PkiEntity {
            id: info.id,
            pki: info.pki,
            role: info.role,
            name: info.name,
            entity_oid: info.oid.map(str::to_string),
            curve: key.curve().name().to_string(),
            cert: cert_path.clone(),
            cert_format: CertFormat::X509Pem,
            key: Some(key_path),
            chain,
            eid: info.eid,
            not_before: cert.not_before(),
            not_after: cert.not_after(),
        });
        Ok(cert_path)
    }

    fn crl(&self, host: &str) -> Vec<String> {
        vec![format!("http://{host}.rsp.test/crl.crl")]
    }

    fn ca(
        &mut self,
        info: EntityInfo<'_>,
        spec: CertSpec,
        curve: Curve,
        issuer: Option<&Ca>,
    ) -> Result<Ca, PkiError> {
        let key = PrivateKey::generate(curve)?;
        let (cert, params) = issue(&spec, &key, issuer)?;
        let chain = issuer.map(|ca| self.chain_of(ca)).unwrap_or_default();
        let path = self.record_x509(info, &cert, &key, chain)?;
        Ok(Ca {
            cert,
            params,
            key,
            path,
        })
    }

    fn chain_of(&self, ca: &Ca) -> Vec<PathBuf> {
        let mut chain = vec![ca.path.clone()];
        chain.extend(
            self.entities
                .iter()
                .find(|e| e.cert == ca.path)
                .map(|e| e.chain.clone())
                .unwrap_or_default(),
        );
        chain
    }

    fn leaf(
        &mut self,
        info: EntityInfo<'_>,
        spec: CertSpec,
        curve: Curve,
        issuer: &Ca,
    ) -> Result<(), PkiError> {
        let key = PrivateKey::generate(curve)?;
        let (cert, _) = issue(&spec, &key, Some(issuer))?;
        let chain = self.chain_of(issuer);
        self.record_x509(info, &cert, &key, chain)?;
        Ok(())
    }

    fn gp(
        &mut self,
        info: EntityInfo<'_>,
        params: GpCertificateParams,
        key: &PrivateKey,
        issuer: &Ca,
    ) -> Result<(), PkiError> {
        let cert = params
            .sign(&issuer.key)
            .map_err(|source| PkiError::GpCert {
                context: info.id.clone(),
                source,
            })?;
        let cert_path = self.path(&info.id, "cert.tlv");
        let key_path = self.path(&info.id, "key.pem");
        write_file(&cert_path, cert.to_bytes(), false)?;
        write_key(&key_path, key)?;
        let day_start = |d: Date| PrimitiveDateTime::new(d, Time::MIDNIGHT).assume_utc();
        let day_end = |d: Date| {
            PrimitiveDateTime::new(d, Time::from_hms(23, 59, 59).unwrap_or(Time::MIDNIGHT))
                .assume_utc()
        };
        let chain = self.chain_of(issuer);
        self.entities.push(PkiEntity {
            id: info.id,
            pki: info.pki,
            role: info.role,
            name: info.name,
            entity_oid: info.oid.map(str::to_string),
            curve: key.curve().name().to_string(),
            cert: cert_path,
            cert_format: CertFormat::GpTlv,
            key: Some(key_path),
            chain,
            eid: info.eid,
            not_before: day_start(params.effective),
            not_after: day_end(params.expiry),
        });
        Ok(())
    }

    fn sgp02(&mut self) -> Result<(), PkiError> {
        let ca_until = self.now + Duration::days(CA_VALIDITY_DAYS);
        let mut spec = CertSpec::new(
            vec![
                (DnType::CommonName, "rsp test SGP.02 CI".into()),
                (DnType::OrganizationalUnitName, "TESTCERT".into()),
                (DnType::OrganizationName, ORG.into()),
            ],
            self.not_before,
            ca_until,
        );
        spec.ca = Some(None);
        spec.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        spec.policy = Some((Sgp22Role::Ci.policy_oid(), true));
        spec.rids = vec![entity_oids::SGP02_CI.into()];
        spec.crl_urls = self.crl("ci02");
        let info = EntityInfo {
            id: "sgp02/ci".into(),
            pki: PkiPart::Sgp02,
            role: EntityRole::Ci,
            name: "rsp test SGP.02 CI".into(),
            oid: Some(entity_oids::SGP02_CI),
            eid: None,
        };
        let ci = self.ca(info, spec, Curve::NistP256, None)?;

        let eum = self.eum(
            "sgp02/eum",
            PkiPart::Sgp02,
            "rsp test SGP.02 EUM",
            Curve::NistP256,
            &ci,
        )?;

        let effective = self.not_before.date();
        let expiry = self.leaf_until().date();
        let ci_ski = ci
            .cert
            .subject_key_id()
            .map(<[u8]>::to_vec)
            .unwrap_or_default();
        for (name, role, gp_role, oid) in [
            (
                "sm-dp",
                EntityRole::SmDp,
                GpCertRole::SmDp,
                entity_oids::SM_DP,
            ),
            (
                "sm-sr1",
                EntityRole::SmSr,
                GpCertRole::SmSr,
                entity_oids::SM_SR1,
            ),
            (
                "sm-sr2",
                EntityRole::SmSr,
                GpCertRole::SmSr,
                entity_oids::SM_SR2,
            ),
        ] {
            let key = PrivateKey::generate(Curve::NistP256)?;
            let params = GpCertificateParams::for_server(
                gp_role,
                key.public_key().clone(),
                &ci_ski,
                random_serial(8)?,
                effective,
                expiry,
            );
            let info = EntityInfo {
                id: format!("sgp02/{name}"),
                pki: PkiPart::Sgp02,
                role,
                name: name.into(),
                oid: Some(oid),
                eid: None,
            };
            self.gp(info, params, &key, &ci)?;
        }

        let eum_ski = eum
            .cert
            .subject_key_id()
            .map(<[u8]>::to_vec)
            .unwrap_or_default();
        for n in 1..=self.opts.euicc_count {
            let key = PrivateKey::generate(Curve::NistP256)?;
            let eid = self.fresh_eid()?;
            let params = GpCertificateParams::for_ecasd(
                &eid,
                key.public_key().clone(),
                &eum_ski,
                random_serial(8)?,
                effective,
                end_of_time().date(),
            );
            let info = EntityInfo {
                id: format!("sgp02/euicc-{n}"),
                pki: PkiPart::Sgp02,
                role: EntityRole::Euicc,
                name: format!("euicc-{n}"),
                oid: None,
                eid: Some(eid.as_str().to_string()),
            };
            self.gp(info, params, &key, &eum)?;
        }
        Ok(())
    }

    fn eum(
        &mut self,
        id: &str,
        pki: PkiPart,
        cn: &str,
        curve: Curve,
        ci: &Ca,
    ) -> Result<Ca, PkiError> {
        let mut spec = CertSpec::new(
            vec![
                (DnType::OrganizationName, EUM_ORG.into()),
                (DnType::CommonName, cn.into()),
            ],
            self.not_before,
            self.now + Duration::days(EUM_VALIDITY_DAYS),
        );
        spec.ca = Some(Some(0));
        spec.key_usages = vec![KeyUsagePurpose::KeyCertSign];
        spec.policy = Some((Sgp22Role::Eum.policy_oid(), true));
        spec.rids = vec![entity_oids::EUM.into()];
        spec.crl_urls = self.crl("ci");
        spec.name_constraint = Some((EUM_ORG.into(), self.opts.ein.clone()));
        let info = EntityInfo {
            id: id.into(),
            pki,
            role: EntityRole::Eum,
            name: cn.into(),
            oid: Some(entity_oids::EUM),
            eid: None,
        };
        self.ca(info, spec, curve, Some(ci))
    }

    fn sgp22(&mut self, curve: Curve) -> Result<(), PkiError> {
        let v = match curve {
            Curve::NistP256 => "nist",
            Curve::BrainpoolP256r1 => "brp",
        };
        let ci_until = self.now + Duration::days(CA_VALIDITY_DAYS);
        let mut spec = CertSpec::new(
            vec![
                (DnType::CommonName, "rsp test CI".into()),
                (DnType::OrganizationalUnitName, "TESTCERT".into()),
                (DnType::OrganizationName, ORG.into()),
            ],
            self.not_before,
            ci_until,
        );
        spec.ca = Some(None);
        spec.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        spec.policy = Some((Sgp22Role::Ci.policy_oid(), true));
        spec.rids = vec![entity_oids::SGP22_CI.into()];
        spec.crl_urls = self.crl("ci");
        let info = EntityInfo {
            id: format!("sgp22/ci/{v}"),
            pki: PkiPart::Sgp22,
            role: EntityRole::Ci,
            name: "rsp test CI".into(),
            oid: Some(entity_oids::SGP22_CI),
            eid: None,
        };
        let ci = self.ca(info, spec, curve, None)?;
        let eum = self.eum(
            &format!("sgp22/eum/{v}"),
            PkiPart::Sgp22,
            "rsp test EUM",
            curve,
            &ci,
        )?;

        // One eUICC identity with a key per curve, as SGP.26 does.
        let eid = match self
            .entities
            .iter()
            .find(|e| e.pki == PkiPart::Sgp22 && e.role == EntityRole::Euicc)
        {
            Some(e) => e.eid.clone().unwrap_or_default(),
            None => self.fresh_eid()?.as_str().to_string(),
        };
        let mut spec = CertSpec::new(
            vec![
                (DnType::OrganizationName, EUM_ORG.into()),
                (serial_number_dn(), printable(&eid)?),
                (DnType::CommonName, "rsp test eUICC".into()),
            ],
            self.not_before,
            end_of_time(),
        );
        spec.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        spec.policy = Some((Sgp22Role::Euicc.policy_oid(), true));
        let info = EntityInfo {
            id: format!("sgp22/euicc/{v}"),
            pki: PkiPart::Sgp22,
            role: EntityRole::Euicc,
            name: "rsp test eUICC".into(),
            oid: None,
            eid: Some(eid),
        };
        self.leaf(info, spec, curve, &eum)?;

        let dp_subject = || {
            vec![
                (DnType::OrganizationName, DnValue::from(ORG)),
                (DnType::CommonName, DnValue::from("rsp test SM-DP+")),
            ]
        };
        for (kind, role, sgp_role) in [
            ("dp-auth", EntityRole::DpAuth, Sgp22Role::DpAuth),
            ("dp-pb", EntityRole::DpPb, Sgp22Role::DpPb),
        ] {
            let mut spec = CertSpec::new(dp_subject(), self.not_before, self.leaf_until());
            spec.key_usages = vec![KeyUsagePurpose::DigitalSignature];
            spec.policy = Some((sgp_role.policy_oid(), true));
            spec.rids = vec![entity_oids::SM_DP_PLUS.into()];
            spec.crl_urls = self.crl("ci");
            let info = EntityInfo {
                id: format!("sgp22/{kind}/{v}"),
                pki: PkiPart::Sgp22,
                role,
                name: "rsp test SM-DP+".into(),
                oid: Some(entity_oids::SM_DP_PLUS),
                eid: None,
            };
            self.leaf(info, spec, curve, &ci)?;
        }

        let fqdn = self.opts.smdpp_fqdn.clone();
        let mut spec = CertSpec::new(
            vec![
                (DnType::OrganizationName, ORG.into()),
                (DnType::CommonName, fqdn.as_str().into()),
            ],
            self.not_before,
            self.leaf_until(),
        );
        spec.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        spec.tls_eku = Some(true);
        spec.policy = Some((Sgp22Role::DpTls.policy_oid(), false));
        spec.dns = vec![fqdn.clone(), "localhost".into()];
        spec.ips = vec![IpAddr::V4(Ipv4Addr::LOCALHOST)];
        spec.rids = vec![entity_oids::SM_DP_PLUS.into()];
        spec.crl_urls = self.crl("ci");
        let info = EntityInfo {
            id: format!("sgp22/dp-tls/{v}"),
            pki: PkiPart::Sgp22,
            role: EntityRole::DpTls,
            name: fqdn,
            oid: Some(entity_oids::SM_DP_PLUS),
            eid: None,
        };
        self.leaf(info, spec, curve, &ci)
    }

    fn tls(&mut self) -> Result<(), PkiError> {
        let mut spec = CertSpec::new(
            vec![
                (DnType::OrganizationName, ORG.into()),
                (DnType::CommonName, "rsp test TLS CA".into()),
            ],
            self.not_before,
            self.now + Duration::days(CA_VALIDITY_DAYS),
        );
        spec.ca = Some(Some(0));
        spec.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        spec.rids = vec![entity_oids::TLS_CA.into()];
        let info = EntityInfo {
            id: "tls/ca".into(),
            pki: PkiPart::Tls,
            role: EntityRole::TlsCa,
            name: "rsp test TLS CA".into(),
            oid: Some(entity_oids::TLS_CA),
            eid: None,
        };
        let ca = self.ca(info, spec, Curve::NistP256, None)?;

        for (name, role, ou, oid) in TLS_IDENTITIES {
            let mut spec = CertSpec::new(
                vec![
                    (DnType::OrganizationName, ORG.into()),
                    (DnType::OrganizationalUnitName, (*ou).into()),
                    (DnType::CommonName, (*name).into()),
                ],
                self.not_before,
                self.leaf_until(),
            );
            spec.key_usages = vec![KeyUsagePurpose::DigitalSignature];
            spec.tls_eku = Some(false);
            spec.dns = vec!["localhost".into()];
            spec.ips = vec![IpAddr::V4(Ipv4Addr::LOCALHOST)];
            spec.rids = vec![(*oid).into()];
            let info = EntityInfo {
                id: format!("tls/{name}"),
                pki: PkiPart::Tls,
                role: *role,
                name: (*name).into(),
                oid: Some(*oid),
                eid: None,
            };
            self.leaf(info, spec, Curve::NistP256, &ca)?;
        }
        Ok(())
    }
}

/// The mutual-TLS identities [`generate`] writes: (name = CN and folder, role, OU, entity OID).
pub const TLS_IDENTITIES: &[(&str, EntityRole, &str, &str)] = &[
    ("eum", EntityRole::Eum, "EUM", entity_oids::EUM),
    (
        "operator1",
        EntityRole::Operator,
        "Operator",
        entity_oids::OPERATOR1,
    ),
    (
        "operator2",
        EntityRole::Operator,
        "Operator",
        entity_oids::OPERATOR2,
    ),
    ("m2m-sp", EntityRole::M2mSp, "M2M SP", entity_oids::M2M_SP),
    ("sm-dp", EntityRole::SmDp, "SM-DP", entity_oids::SM_DP),
    ("sm-sr1", EntityRole::SmSr, "SM-SR", entity_oids::SM_SR1),
    ("sm-sr2", EntityRole::SmSr, "SM-SR", entity_oids::SM_SR2),
    (
        "sm-dp-plus",
        EntityRole::SmDpPlus,
        "SM-DP+",
        entity_oids::SM_DP_PLUS,
    ),
];

/// Issues an SGP.22 TLS server certificate (CERT.DP.TLS with [`Sgp22Role::DpTls`], CERT.DS.TLS
/// with [`Sgp22Role::DsTls`]) for `subject_key` under an existing CI (for example the SGP.26 test
/// CI, whose private key is published), shaped like the one [`generate`] writes: subject
/// O/CN = `fqdn`, SAN DNS `fqdn` plus `extra_dns`, IP 127.0.0.1, RID `entity_oid`, keyUsage
/// digitalSignature, EKU serverAuth + clientAuth, the role policy (not critical), AKI = the CI's
/// SKI. The result is verified against `ci_cert` with the SGP.22 rules at `not_before`.
#[allow(clippy::too_many_arguments)]
pub fn issue_sgp22_tls_certificate(
    ci_cert: &Certificate,
    ci_key: &PrivateKey,
    subject_key: &PrivateKey,
    role: Sgp22Role,
    fqdn: &str,
    extra_dns: &[&str],
    entity_oid: Option<&str>,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> Result<Certificate, PkiError> {
    if !matches!(role, Sgp22Role::DpTls | Sgp22Role::DsTls) {
        return Err(PkiError::InvalidOption(format!(
            "{role} is not an SGP.22 TLS role"
        )));
    }
    if ci_cert.public_key().ok() != Some(ci_key.public_key()) {
        return Err(PkiError::InvalidOption(
            "the CI key does not match the CI certificate".into(),
        ));
    }
    let mut spec = CertSpec::new(
        vec![
            (DnType::OrganizationName, ORG.into()),
            (DnType::CommonName, fqdn.into()),
        ],
        not_before,
        not_after,
    );
    spec.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    spec.tls_eku = Some(true);
    spec.policy = Some((role.policy_oid(), false));
    spec.dns = std::iter::once(fqdn)
        .chain(extra_dns.iter().copied())
        .map(str::to_string)
        .collect();
    spec.ips = vec![IpAddr::V4(Ipv4Addr::LOCALHOST)];
    spec.rids = entity_oid.map(str::to_string).into_iter().collect();
    let params = build_params(&spec, subject_key.public_key(), true)?;
    let gen_err = |e: rcgen::Error| PkiError::Generation(e.to_string());
    let issuer = Issuer::from_ca_cert_der(&ci_cert.der().into(), RcgenSigner::new(ci_key))
        .map_err(gen_err)?;
    let public = RcgenPublic(subject_key.public_key().to_sec1_uncompressed());
    let der = params
        .signed_by(&public, &issuer)
        .map_err(gen_err)?
        .der()
        .to_vec();
    let der = match subject_key.curve() {
        Curve::NistP256 => der,
        Curve::BrainpoolP256r1 => fix_brainpool_spki(&der, subject_key.public_key(), ci_key)?,
    };
    let cert =
        Certificate::from_der(&der).map_err(|e| PkiError::x509("issued TLS certificate", e))?;
    x509::verify_sgp22_chain(&cert, &[], std::slice::from_ref(ci_cert), not_before, role)
        .map_err(|e| PkiError::x509("issued TLS certificate", e))?;
    Ok(cert)
}

/// Issues an SGP.22 CERT.DSauth (the SM-DS's Common Mutual Authentication certificate, role
/// [`Sgp22Role::DsAuth`], policy `2.23.146.1.2.1.7` critical) for `subject_key` under an existing
/// CI, shaped like the CERT.DPauth [`generate`] writes: subject O = `rsp test`, CN = `name`,
/// keyUsage digitalSignature, SAN registeredID `entity_oid`, AKI = the CI's SKI. Neither the
/// SGP.26 set in this project nor [`generate`] holds a DSauth, hence this helper. The result is
/// verified against `ci_cert` with the SGP.22 rules at `not_before`.
pub fn issue_sgp22_ds_auth_certificate(
    ci_cert: &Certificate,
    ci_key: &PrivateKey,
    subject_key: &PrivateKey,
    name: &str,
    entity_oid: &str,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> Result<Certificate, PkiError> {
    if ci_cert.public_key().ok() != Some(ci_key.public_key()) {
        return Err(PkiError::InvalidOption(
            "the CI key does not match the CI certificate".into(),
        ));
    }
    let mut spec = CertSpec::new(
        vec![
            (DnType::OrganizationName, ORG.into()),
            (DnType::CommonName, name.into()),
        ],
        not_before,
        not_after,
    );
    spec.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    spec.policy = Some((Sgp22Role::DsAuth.policy_oid(), true));
    spec.rids = vec![entity_oid.to_string()];
    let params = build_params(&spec, subject_key.public_key(), true)?;
    let gen_err = |e: rcgen::Error| PkiError::Generation(e.to_string());
    let issuer = Issuer::from_ca_cert_der(&ci_cert.der().into(), RcgenSigner::new(ci_key))
        .map_err(gen_err)?;
    let public = RcgenPublic(subject_key.public_key().to_sec1_uncompressed());
    let der = params
        .signed_by(&public, &issuer)
        .map_err(gen_err)?
        .der()
        .to_vec();
    let der = match subject_key.curve() {
        Curve::NistP256 => der,
        Curve::BrainpoolP256r1 => fix_brainpool_spki(&der, subject_key.public_key(), ci_key)?,
    };
    let cert = Certificate::from_der(&der).map_err(|e| PkiError::x509("issued CERT.DSauth", e))?;
    x509::verify_sgp22_chain(
        &cert,
        &[],
        std::slice::from_ref(ci_cert),
        not_before,
        Sgp22Role::DsAuth,
    )
    .map_err(|e| PkiError::x509("issued CERT.DSauth", e))?;
    Ok(cert)
}
