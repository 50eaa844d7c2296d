//! The SM-DP+'s credentials (sgp22.md §15): per curve, CERT.DPauth and CERT.DPpb with their
//! keys and the CI they chain to; the SM-DP+ OID (the certificates' SAN registeredID) and address
//! (FQDN); the TLS server identity (CERT.DP.TLS), loaded from files or minted for an FQDN under a
//! CI whose key is at hand (the SGP.26 test CI) with [`rsp_crypto::pki::issue_sgp22_tls_certificate`].
//!
//! Private keys are [`PrivateKey`]s (wiped on drop, never printed); [`SmdpIdentity`]'s `Debug`
//! shows certificates and key ids only.

use std::fmt;
use std::path::{Path, PathBuf};

use rsp_crypto::ecc::{Curve, PrivateKey};
use rsp_crypto::pki;
use rsp_crypto::x509::{self, Certificate, Sgp22Role, X509Error};
use rsp_types::Oid;
use time::OffsetDateTime;

/// Why the identity could not be assembled.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// A file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A certificate is malformed or does not verify.
    #[error("{what}: {source}")]
    Certificate {
        /// Which certificate.
        what: String,
        /// The X.509 error.
        source: X509Error,
    },
    /// A key is malformed or does not match its certificate.
    #[error("{0}")]
    Key(String),
    /// The credentials are inconsistent (no curve, two OIDs, a missing registeredID...).
    #[error("{0}")]
    Inconsistent(String),
    /// Minting the TLS certificate failed.
    #[error("TLS certificate: {0}")]
    Mint(String),
}

/// A certificate with its private key.
pub struct Credential {
    /// The certificate.
    pub certificate: Certificate,
    key: PrivateKey,
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("subject", &self.certificate.subject().to_string())
            .field("not_after", &self.certificate.not_after())
            .finish_non_exhaustive()
    }
}

impl Credential {
    /// Pairs `certificate` with `key`; refuses a key that is not the certificate's.
    pub fn new(certificate: Certificate, key: PrivateKey) -> Result<Credential, IdentityError> {
        let public = certificate
            .public_key()
            .map_err(|source| IdentityError::Certificate {
                what: certificate.subject().to_string(),
                source,
            })?;
        if public != key.public_key() {
            return Err(IdentityError::Key(format!(
                "the private key does not match the certificate {}",
                certificate.subject()
            )));
        }
        Ok(Credential { certificate, key })
    }

    /// Reads a certificate (DER or PEM) and a private key (PEM: PKCS#8 or SEC1, an
    /// `EC PARAMETERS` block allowed).
    pub fn load(cert: &Path, key: &Path) -> Result<Credential, IdentityError> {
        let bytes = read(cert)?;
        let certificate =
            Certificate::from_der_or_pem(&bytes).map_err(|source| IdentityError::Certificate {
                what: cert.display().to_string(),
                source,
            })?;
        let key_text = String::from_utf8(read(key)?)
            .map_err(|_| IdentityError::Key(format!("{}: not PEM text", key.display())))?;
        let key = PrivateKey::from_pem(&key_text)
            .map_err(|e| IdentityError::Key(format!("{}: {e}", key.display())))?;
        Credential::new(certificate, key)
    }

    /// The private key.
    pub fn key(&self) -> &PrivateKey {
        &self.key
    }

    /// The curve of the key.
    pub fn curve(&self) -> Curve {
        self.key.curve()
    }
}

fn read(path: &Path) -> Result<Vec<u8>, IdentityError> {
    std::fs::read(path).map_err(|source| IdentityError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// The credentials of one CI / curve: CERT.DPauth and CERT.DPpb issued by `ci`.
#[derive(Debug)]
pub struct CurveIdentity {
    /// The CI certificate (trust anchor); its SKI is the `euiccCiPKIdToBeUsed`.
    pub ci: Certificate,
    /// CERT.DPauth + SK.DPauth.ECDSA (signs serverSigned1).
    pub dp_auth: Credential,
    /// CERT.DPpb + SK.DPpb.ECDSA (signs smdpSigned2 and the BPP).
    pub dp_pb: Credential,
}

impl CurveIdentity {
    /// Checks that DPauth and DPpb chain to `ci` with their SGP.22 roles at `at`, share one
    /// curve and one SM-DP+ OID.
    pub fn new(
        ci: Certificate,
        dp_auth: Credential,
        dp_pb: Credential,
        at: OffsetDateTime,
    ) -> Result<CurveIdentity, IdentityError> {
        for (what, cred, role) in [
            ("CERT.DPauth", &dp_auth, Sgp22Role::DpAuth),
            ("CERT.DPpb", &dp_pb, Sgp22Role::DpPb),
        ] {
            x509::verify_sgp22_chain(&cred.certificate, &[], std::slice::from_ref(&ci), at, role)
                .map_err(|source| IdentityError::Certificate {
                what: what.into(),
                source,
            })?;
        }
        if dp_auth.curve() != dp_pb.curve() {
            return Err(IdentityError::Inconsistent(
                "CERT.DPauth and CERT.DPpb are on different curves".into(),
            ));
        }
        if ci.subject_key_id().is_none() {
            return Err(IdentityError::Inconsistent(
                "the CI certificate has no subjectKeyIdentifier".into(),
            ));
        }
        Ok(CurveIdentity { ci, dp_auth, dp_pb })
    }

    /// The CI's subject key identifier (what the eUICC lists in `euiccCiPKIdListFor…`).
    pub fn ci_pk_id(&self) -> &[u8] {
        self.ci.subject_key_id().unwrap_or_default()
    }

    /// The curve of DPauth / DPpb (the session's whole algorithm suite follows it).
    pub fn curve(&self) -> Curve {
        self.dp_auth.curve()
    }
}

/// The TLS server identity: certificate chain (leaf first) and key.
pub struct TlsIdentity {
    /// Leaf first; the CI may follow.
    pub chain: Vec<Certificate>,
    key: PrivateKey,
}

impl fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsIdentity")
            .field("leaf", &self.chain.first().map(|c| c.subject().to_string()))
            .finish_non_exhaustive()
    }
}

impl TlsIdentity {
    /// A chain (leaf first) with the leaf's key.
    pub fn new(chain: Vec<Certificate>, key: PrivateKey) -> Result<TlsIdentity, IdentityError> {
        let leaf = chain
            .first()
            .ok_or_else(|| IdentityError::Inconsistent("empty TLS certificate chain".into()))?;
        Credential::new(
            leaf.clone(),
            key.try_clone()
                .map_err(|e| IdentityError::Key(e.to_string()))?,
        )?;
        Ok(TlsIdentity { chain, key })
    }

    /// Reads a PEM chain file (leaf first) and its key.
    pub fn load(chain: &Path, key: &Path) -> Result<TlsIdentity, IdentityError> {
        let text = String::from_utf8(read(chain)?).map_err(|_| {
            IdentityError::Inconsistent(format!("{}: not PEM text", chain.display()))
        })?;
        let certs =
            Certificate::all_from_pem(&text).map_err(|source| IdentityError::Certificate {
                what: chain.display().to_string(),
                source,
            })?;
        let key_text = String::from_utf8(read(key)?)
            .map_err(|_| IdentityError::Key(format!("{}: not PEM text", key.display())))?;
        let key = PrivateKey::from_pem(&key_text)
            .map_err(|e| IdentityError::Key(format!("{}: {e}", key.display())))?;
        TlsIdentity::new(certs, key)
    }

    /// Mints a CERT.DP.TLS for `fqdn` (plus `localhost` and 127.0.0.1) under `ci` with a fresh
    /// key on the CI's curve, valid from one hour before `now` for `days` days, chain = leaf, CI.
    pub fn mint(
        ci: &Certificate,
        ci_key: &PrivateKey,
        fqdn: &str,
        entity_oid: Option<&Oid>,
        now: OffsetDateTime,
        days: i64,
    ) -> Result<TlsIdentity, IdentityError> {
        let key =
            PrivateKey::generate(ci_key.curve()).map_err(|e| IdentityError::Mint(e.to_string()))?;
        let not_before = (now - time::Duration::hours(1))
            .replace_nanosecond(0)
            .map_err(|e| IdentityError::Mint(e.to_string()))?;
        let oid = entity_oid.map(ToString::to_string);
        let cert = pki::issue_sgp22_tls_certificate(
            ci,
            ci_key,
            &key,
            Sgp22Role::DpTls,
            fqdn,
            &["localhost"],
            oid.as_deref(),
            not_before,
            now + time::Duration::days(days),
        )
        .map_err(|e| IdentityError::Mint(e.to_string()))?;
        Ok(TlsIdentity {
            chain: vec![cert, ci.clone()],
            key,
        })
    }

    /// The leaf's private key.
    pub fn key(&self) -> &PrivateKey {
        &self.key
    }
}

/// Everything the SM-DP+ proves itself with.
#[derive(Debug)]
pub struct SmdpIdentity {
    /// The SM-DP+ address (FQDN) the eUICC must name (`smdpAddress`, `serverAddress`).
    pub address: String,
    /// The SM-DP+ OID (SAN registeredID of CERT.DPauth / CERT.DPpb).
    pub oid: Oid,
    curves: Vec<CurveIdentity>,
    /// The TLS server identity.
    pub tls: TlsIdentity,
}

impl SmdpIdentity {
    /// Assembles the identity; the OID is read from the certificates' registeredID and must be
    /// the same in all of them.
    pub fn new(
        address: impl Into<String>,
        curves: Vec<CurveIdentity>,
        tls: TlsIdentity,
    ) -> Result<SmdpIdentity, IdentityError> {
        let mut oid: Option<String> = None;
        for c in &curves {
            for cert in [&c.dp_auth.certificate, &c.dp_pb.certificate] {
                let found = cert.registered_ids().first().cloned().ok_or_else(|| {
                    IdentityError::Inconsistent(format!(
                        "{} has no registeredID (the SM-DP+ OID)",
                        cert.subject()
                    ))
                })?;
                match &oid {
                    Some(o) if *o != found => {
                        return Err(IdentityError::Inconsistent(format!(
                            "two SM-DP+ OIDs in the certificates: {o} and {found}"
                        )));
                    }
                    _ => oid = Some(found),
                }
            }
        }
        let oid = oid
            .ok_or_else(|| IdentityError::Inconsistent("no DPauth/DPpb credentials".into()))?
            .parse::<Oid>()
            .map_err(|e| IdentityError::Inconsistent(format!("SM-DP+ OID: {e}")))?;
        Ok(SmdpIdentity {
            address: address.into(),
            oid,
            curves,
            tls,
        })
    }

    /// The credentials per CI, in configuration order.
    pub fn curves(&self) -> &[CurveIdentity] {
        &self.curves
    }

    /// The credentials whose CI has subject key identifier `ci_pk_id`.
    pub fn for_ci(&self, ci_pk_id: &[u8]) -> Option<&CurveIdentity> {
        self.curves.iter().find(|c| c.ci_pk_id() == ci_pk_id)
    }

    /// The CMA view of this identity: the address and CERT.DPauth per CI.
    pub fn server_auth(&self) -> rsp_sgp22::cma::ServerAuth<'_> {
        rsp_sgp22::cma::ServerAuth {
            address: &self.address,
            keys: self
                .curves
                .iter()
                .map(|c| rsp_sgp22::cma::AuthKey {
                    ci: &c.ci,
                    certificate: &c.dp_auth.certificate,
                    key: c.dp_auth.key(),
                })
                .collect(),
        }
    }

    /// Every CI certificate (the trust anchors for eUICC / EUM chains).
    pub fn trust_anchors(&self) -> Vec<Certificate> {
        self.curves.iter().map(|c| c.ci.clone()).collect()
    }
}

/// Where the files of one curve's credentials are.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CurvePaths {
    /// CI certificate (DER or PEM).
    pub ci_cert: PathBuf,
    /// CERT.DPauth.
    pub dp_auth_cert: PathBuf,
    /// SK.DPauth.
    pub dp_auth_key: PathBuf,
    /// CERT.DPpb.
    pub dp_pb_cert: PathBuf,
    /// SK.DPpb.
    pub dp_pb_key: PathBuf,
}

impl CurvePaths {
    /// The SGP.26 file names (`CERT_CI_ECDSA_<v>.der`, `CERT_S_SM_DPauth_ECDSA_<v>.der`,
    /// `SK_S_SM_DPauth_ECDSA_<v>.pem`, `…DPpb…`) in one folder; `variant` is `NIST` or `BRP`.
    pub fn sgp26(dir: &Path, variant: &str) -> CurvePaths {
        CurvePaths {
            ci_cert: dir.join(format!("CERT_CI_ECDSA_{variant}.der")),
            dp_auth_cert: dir.join(format!("CERT_S_SM_DPauth_ECDSA_{variant}.der")),
            dp_auth_key: dir.join(format!("SK_S_SM_DPauth_ECDSA_{variant}.pem")),
            dp_pb_cert: dir.join(format!("CERT_S_SM_DPpb_ECDSA_{variant}.der")),
            dp_pb_key: dir.join(format!("SK_S_SM_DPpb_ECDSA_{variant}.pem")),
        }
    }

    /// Loads and checks the credentials at `at`.
    pub fn load(&self, at: OffsetDateTime) -> Result<CurveIdentity, IdentityError> {
        let bytes = read(&self.ci_cert)?;
        let ci =
            Certificate::from_der_or_pem(&bytes).map_err(|source| IdentityError::Certificate {
                what: self.ci_cert.display().to_string(),
                source,
            })?;
        CurveIdentity::new(
            ci,
            Credential::load(&self.dp_auth_cert, &self.dp_auth_key)?,
            Credential::load(&self.dp_pb_cert, &self.dp_pb_key)?,
            at,
        )
    }
}

/// How the TLS identity is obtained.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TlsSource {
    /// A PEM chain (leaf first) and its key.
    Files {
        /// Chain file.
        chain: PathBuf,
        /// Key file.
        key: PathBuf,
    },
    /// Mint a CERT.DP.TLS at start-up for the SM-DP+ address under this CI (test set-ups).
    Mint {
        /// CI certificate (DER or PEM).
        ci_cert: PathBuf,
        /// CI private key (PEM).
        ci_key: PathBuf,
        /// Validity in days.
        days: i64,
    },
}

/// Where all credential files are.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IdentityPaths {
    /// The SM-DP+ address (FQDN).
    pub address: String,
    /// Credentials per CI / curve, in order of preference.
    pub curves: Vec<CurvePaths>,
    /// The TLS identity.
    pub tls: TlsSource,
}

impl IdentityPaths {
    /// Loads everything and checks it at `now`.
    pub fn load(&self, now: OffsetDateTime) -> Result<SmdpIdentity, IdentityError> {
        let curves = self
            .curves
            .iter()
            .map(|c| c.load(now))
            .collect::<Result<Vec<_>, _>>()?;
        let oid = curves
            .first()
            .and_then(|c| c.dp_auth.certificate.registered_ids().first().cloned())
            .and_then(|o| o.parse::<Oid>().ok());
        let tls = match &self.tls {
            TlsSource::Files { chain, key } => TlsIdentity::load(chain, key)?,
            TlsSource::Mint {
                ci_cert,
                ci_key,
                days,
            } => {
                let ci = Certificate::from_der_or_pem(&read(ci_cert)?).map_err(|source| {
                    IdentityError::Certificate {
                        what: ci_cert.display().to_string(),
                        source,
                    }
                })?;
                let text = String::from_utf8(read(ci_key)?).map_err(|_| {
                    IdentityError::Key(format!("{}: not PEM text", ci_key.display()))
                })?;
                let key = PrivateKey::from_pem(&text)
                    .map_err(|e| IdentityError::Key(format!("{}: {e}", ci_key.display())))?;
                TlsIdentity::mint(&ci, &key, &self.address, oid.as_ref(), now, *days)?
            }
        };
        SmdpIdentity::new(self.address.clone(), curves, tls)
    }
}
