//! X.509 certificates: parsing, chain verification and SGP.22 role checks.
//!
//! [`Certificate`] parses once (with `x509-parser`) and keeps the original DER, so signatures are
//! always checked over the exact to-be-signed bytes that were received, never over a re-encoding.
//!
//! [`verify_chain`] validates a path leaf → … → trust anchor at an injected time (the wall clock is
//! never read here): ECDSA-SHA256 signatures on P-256 and brainpoolP256r1 via [`crate::ecc`],
//! issuer/subject name and AKI/SKI linkage (the path is built by AKI ↔ SKI, never by name alone:
//! U-21), validity, basicConstraints, keyUsage and pathLen for CAs. [`verify_sgp22_chain`] adds the
//! SGP.22 rules: the anchor is a CI, the leaf carries the expected role policy OID
//! ([`Sgp22Role`]), an eUICC certificate is issued by an EUM whose permitted EID range contains the
//! eUICC's EID ([`check_eid_permitted`]).
//!
//! The checks run from the trust anchor down to the leaf, so the first error reported is the one
//! closest to the root, and every error names the [`CertPosition`] of the certificate at fault (an
//! SM-DP+ maps a fault at the EUM to `8.1.2` and one at the eUICC to `8.1.3`).

use std::collections::HashSet;
use std::fmt;
use std::net::IpAddr;

use time::OffsetDateTime;
use x509_parser::extensions::{GeneralName, ParsedExtension};

use crate::ecc::{self, EccError, PublicKey};

/// `ecdsa-with-SHA256`, the only certificate signature algorithm rsp accepts.
pub const OID_ECDSA_WITH_SHA256: &str = ecc::OID_ECDSA_WITH_SHA256;
/// `id-at-serialNumber` (2.5.4.5): the EID in an eUICC certificate subject, the EIN in an EUM's
/// name constraints.
pub const OID_AT_SERIAL_NUMBER: &str = "2.5.4.5";
/// `id-at-organizationName` (2.5.4.10).
pub const OID_AT_ORGANIZATION: &str = "2.5.4.10";
/// `id-at-commonName` (2.5.4.3).
pub const OID_AT_COMMON_NAME: &str = "2.5.4.3";
/// GSMA extension listing the EINs an EUM may issue (EUM variants Ov3/A/B/C, `sgp22.md` §15.2).
pub const OID_GSMA_PERMITTED_EINS: &str = "2.23.146.1.2.2.0";
/// EUM policy OID of the SGP.26 v3 variants Ov3/A/B/C, accepted as an EUM role (C-37).
pub const OID_RSP_ROLE_EUM_V3: &str = "2.23.146.1.2.1.0.0.0";

/// Longest path (certificates, leaf and anchor included) that [`verify_chain`] builds.
pub const MAX_PATH_LEN: usize = 8;

/// Certificate roles of the SGP.22 PKI, carried as certificatePolicies OIDs under `id-rspRole`
/// (`2.23.146.1.2.1`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Sgp22Role {
    /// Certificate Issuer (root), `id-rspRole-ci` 2.23.146.1.2.1.0.
    Ci,
    /// eUICC, `id-rspRole-euicc` 2.23.146.1.2.1.1.
    Euicc,
    /// eUICC Manufacturer, `id-rspRole-eum` 2.23.146.1.2.1.2.
    Eum,
    /// SM-DP+ TLS server, `id-rspRole-dp-tls` 2.23.146.1.2.1.3.
    DpTls,
    /// SM-DP+ authentication (CERT.DPauth), `id-rspRole-dp-auth` 2.23.146.1.2.1.4.
    DpAuth,
    /// SM-DP+ profile binding (CERT.DPpb), `id-rspRole-dp-pb` 2.23.146.1.2.1.5.
    DpPb,
    /// SM-DS TLS server, `id-rspRole-ds-tls` 2.23.146.1.2.1.6.
    DsTls,
    /// SM-DS authentication, `id-rspRole-ds-auth` 2.23.146.1.2.1.7.
    DsAuth,
}

impl Sgp22Role {
    /// Every role.
    pub const ALL: [Self; 8] = [
        Self::Ci,
        Self::Euicc,
        Self::Eum,
        Self::DpTls,
        Self::DpAuth,
        Self::DpPb,
        Self::DsTls,
        Self::DsAuth,
    ];

    /// The policy OID rsp writes for this role (SGP.22 table, checked against the SGP.26 set).
    pub fn policy_oid(self) -> &'static str {
        match self {
            Self::Ci => "2.23.146.1.2.1.0",
            Self::Euicc => "2.23.146.1.2.1.1",
            Self::Eum => "2.23.146.1.2.1.2",
            Self::DpTls => "2.23.146.1.2.1.3",
            Self::DpAuth => "2.23.146.1.2.1.4",
            Self::DpPb => "2.23.146.1.2.1.5",
            Self::DsTls => "2.23.146.1.2.1.6",
            Self::DsAuth => "2.23.146.1.2.1.7",
        }
    }

    /// Every policy OID accepted as this role on input (C-37: the EUM also accepts the SGP.26 v3
    /// variant OID `2.23.146.1.2.1.0.0.0`).
    pub fn accepted_policy_oids(self) -> &'static [&'static str] {
        match self {
            Self::Ci => &["2.23.146.1.2.1.0"],
            Self::Euicc => &["2.23.146.1.2.1.1"],
            Self::Eum => &["2.23.146.1.2.1.2", OID_RSP_ROLE_EUM_V3],
            Self::DpTls => &["2.23.146.1.2.1.3"],
            Self::DpAuth => &["2.23.146.1.2.1.4"],
            Self::DpPb => &["2.23.146.1.2.1.5"],
            Self::DsTls => &["2.23.146.1.2.1.6"],
            Self::DsAuth => &["2.23.146.1.2.1.7"],
        }
    }

    /// The role a policy OID stands for, if any.
    pub fn from_policy_oid(oid: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|r| r.accepted_policy_oids().contains(&oid))
    }

    /// Short name (`ci`, `euicc`, `eum`, `dp-tls`, `dp-auth`, `dp-pb`, `ds-tls`, `ds-auth`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Ci => "ci",
            Self::Euicc => "euicc",
            Self::Eum => "eum",
            Self::DpTls => "dp-tls",
            Self::DpAuth => "dp-auth",
            Self::DpPb => "dp-pb",
            Self::DsTls => "ds-tls",
            Self::DsAuth => "ds-auth",
        }
    }

    /// Whether certificates of this role are CAs.
    pub fn is_ca(self) -> bool {
        matches!(self, Self::Ci | Self::Eum)
    }
}

impl fmt::Display for Sgp22Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where in a verified path a certificate sits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CertPosition {
    /// The end-entity certificate being verified.
    Leaf,
    /// An intermediate CA; `0` is the leaf's issuer (the EUM in an eUICC chain).
    Intermediate(usize),
    /// The trust anchor (the CI in SGP.22).
    TrustAnchor,
}

impl fmt::Display for CertPosition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Leaf => f.write_str("leaf certificate"),
            Self::Intermediate(i) => write!(f, "intermediate certificate {i}"),
            Self::TrustAnchor => f.write_str("trust anchor"),
        }
    }
}

/// Errors of certificate parsing and verification.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum X509Error {
    /// Not a well-formed X.509 certificate.
    #[error("malformed certificate: {0}")]
    Malformed(String),
    /// The PEM text holds no `CERTIFICATE` block.
    #[error("no CERTIFICATE block in PEM text")]
    NoPemCertificate,
    /// The certificate's key is on a curve rsp does not support (P-192, P-384, ...).
    #[error("{which}: unsupported elliptic curve {curve}")]
    UnsupportedCurve {
        /// The certificate at fault.
        which: CertPosition,
        /// The curve, as named by [`EccError::UnsupportedCurve`].
        curve: String,
    },
    /// The certificate's key is not an elliptic-curve key, or not a valid one.
    #[error("{which}: unusable public key: {reason}")]
    BadPublicKey {
        /// The certificate at fault.
        which: CertPosition,
        /// What is wrong with it.
        reason: String,
    },
    /// Signed with an algorithm other than ecdsa-with-SHA256.
    #[error("{which}: unsupported signature algorithm {oid}")]
    UnsupportedSignatureAlgorithm {
        /// The certificate at fault.
        which: CertPosition,
        /// The algorithm OID.
        oid: String,
    },
    /// The signature does not verify with the issuer's key.
    #[error("{which}: signature does not verify")]
    BadSignature {
        /// The certificate at fault.
        which: CertPosition,
    },
    /// No certificate among the intermediates and trust anchors issued this one (for the top of an
    /// SGP.22 chain: an unknown or unsupported CI public key id).
    #[error("{which}: unknown issuer {issuer} (authority key id {})", authority_key_id.as_deref().map(hex::encode).unwrap_or_default())]
    UnknownIssuer {
        /// The certificate whose issuer is missing.
        which: CertPosition,
        /// Its authority key identifier, if it has one.
        authority_key_id: Option<Vec<u8>>,
        /// Its issuer name.
        issuer: String,
    },
    /// The path ends in a self-signed certificate that is not a trust anchor.
    #[error("{which}: self-signed certificate is not a trust anchor")]
    UntrustedRoot {
        /// The self-signed certificate.
        which: CertPosition,
    },
    /// The issuer field does not equal the issuing certificate's subject.
    #[error("{which}: issuer name does not match the issuing certificate's subject")]
    IssuerNameMismatch {
        /// The certificate at fault.
        which: CertPosition,
    },
    /// Not yet valid at the verification time.
    #[error("{which}: not valid before {not_before}")]
    NotYetValid {
        /// The certificate at fault.
        which: CertPosition,
        /// Its notBefore.
        not_before: OffsetDateTime,
    },
    /// Expired at the verification time.
    #[error("{which}: expired at {not_after}")]
    Expired {
        /// The certificate at fault.
        which: CertPosition,
        /// Its notAfter.
        not_after: OffsetDateTime,
    },
    /// An issuing certificate that is not a CA (basicConstraints).
    #[error("{which}: issues certificates but is not a CA")]
    NotACa {
        /// The certificate at fault.
        which: CertPosition,
    },
    /// keyUsage / extendedKeyUsage do not allow the use.
    #[error("{which}: key usage does not allow {needed}")]
    KeyUsageMismatch {
        /// The certificate at fault.
        which: CertPosition,
        /// The usage that is missing.
        needed: &'static str,
    },
    /// A CA's pathLenConstraint is exceeded.
    #[error("{which}: path length constraint exceeded")]
    PathLenExceeded {
        /// The CA whose constraint is exceeded.
        which: CertPosition,
    },
    /// A critical extension rsp does not process.
    #[error("{which}: unsupported critical extension {oid}")]
    UnsupportedCriticalExtension {
        /// The certificate at fault.
        which: CertPosition,
        /// The extension OID.
        oid: String,
    },
    /// The certificate does not carry the SGP.22 role expected at its place.
    #[error("{which}: expected role {expected}, found {}", found.map(|r| r.name()).unwrap_or("none"))]
    WrongRole {
        /// The certificate at fault.
        which: CertPosition,
        /// The role needed.
        expected: Sgp22Role,
        /// The role it has, if any.
        found: Option<Sgp22Role>,
    },
    /// The EID is outside the range the EUM certificate permits.
    #[error("EID {eid} is outside the EUM's permitted range {permitted:?}")]
    EidOutsideRange {
        /// The EID.
        eid: String,
        /// The permitted EIN prefixes of the EUM.
        permitted: Vec<String>,
    },
    /// The eUICC organisation differs from the one the EUM's name constraints permit.
    #[error("eUICC organisation {found:?} is not the permitted {permitted:?}")]
    OrganisationNotPermitted {
        /// Organisation names the EUM permits.
        permitted: Vec<String>,
        /// The eUICC certificate's organisation.
        found: Option<String>,
    },
    /// Not a valid EID (32 digits, ISO/IEC 7064 MOD 97-10 check digits).
    #[error("invalid EID {0:?}")]
    InvalidEid(String),
    /// An eUICC certificate without an EID (subject serialNumber).
    #[error("eUICC certificate has no EID in its subject serialNumber")]
    MissingEid,
    /// The path is longer than [`MAX_PATH_LEN`].
    #[error("certificate path longer than {MAX_PATH_LEN}")]
    PathTooLong,
}

/// A distinguished name: the original DER plus its attributes as text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Name {
    raw: Vec<u8>,
    text: String,
    attributes: Vec<(String, String)>,
}

impl Name {
    fn from_parsed(name: &x509_parser::x509::X509Name<'_>) -> Self {
        let attributes = name
            .iter_attributes()
            .map(|a| {
                let value = a
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|_| hex::encode(a.as_slice()));
                (oid_string(a.attr_type()), value)
            })
            .collect();
        Self {
            raw: name.as_raw().to_vec(),
            text: name.to_string(),
            attributes,
        }
    }

    /// The DER encoding, as it appears in the certificate.
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }

    /// `(attribute type OID, value)` pairs in encoding order.
    pub fn attributes(&self) -> &[(String, String)] {
        &self.attributes
    }

    /// The first value of an attribute type, by dotted OID.
    pub fn attribute(&self, oid: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(o, _)| o == oid)
            .map(|(_, v)| v.as_str())
    }

    /// commonName.
    pub fn common_name(&self) -> Option<&str> {
        self.attribute(OID_AT_COMMON_NAME)
    }

    /// organizationName.
    pub fn organization(&self) -> Option<&str> {
        self.attribute(OID_AT_ORGANIZATION)
    }

    /// serialNumber (the EID in an eUICC certificate).
    pub fn serial_number(&self) -> Option<&str> {
        self.attribute(OID_AT_SERIAL_NUMBER)
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Why a certificate's public key cannot be used (kept so parsing succeeds and verification
/// reports the problem with the certificate's position).
#[derive(Clone, Debug, PartialEq, Eq)]
enum KeyProblem {
    UnsupportedCurve(String),
    Other(String),
}

/// A parsed X.509 certificate (owned; keeps the original DER).
#[derive(Clone, Debug)]
pub struct Certificate {
    der: Vec<u8>,
    tbs_start: usize,
    tbs_end: usize,
    signature_algorithm: String,
    signature: Vec<u8>,
    serial: Vec<u8>,
    subject: Name,
    issuer: Name,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
    spki: Vec<u8>,
    public_key: Result<PublicKey, KeyProblem>,
    ski: Option<Vec<u8>>,
    aki: Option<Vec<u8>>,
    basic_constraints: Option<(bool, Option<u32>)>,
    key_usage: Option<u16>,
    eku: Option<ExtendedKeyUsage>,
    policies: Vec<String>,
    san: SubjectAltNames,
    permitted_dir_names: Vec<Name>,
    gsma_permitted_eins: Vec<String>,
    unknown_critical: Vec<String>,
}

impl PartialEq for Certificate {
    fn eq(&self, other: &Self) -> bool {
        self.der == other.der
    }
}

impl Eq for Certificate {}

/// Extended key usage purposes rsp looks at.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExtendedKeyUsage {
    /// `id-kp-serverAuth`.
    pub server_auth: bool,
    /// `id-kp-clientAuth`.
    pub client_auth: bool,
    /// Other purposes, dotted OIDs.
    pub other: Vec<String>,
}

/// The subjectAltName entries rsp looks at.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SubjectAltNames {
    /// dNSName entries.
    pub dns_names: Vec<String>,
    /// iPAddress entries.
    pub ip_addresses: Vec<IpAddr>,
    /// registeredID entries (entity OIDs), dotted.
    pub registered_ids: Vec<String>,
    /// uniformResourceIdentifier entries.
    pub uris: Vec<String>,
}

/// keyUsage bit masks as `x509-parser` reports them (bit 0 = digitalSignature).
mod ku {
    pub const DIGITAL_SIGNATURE: u16 = 1 << 0;
    pub const KEY_CERT_SIGN: u16 = 1 << 5;
}

pub(crate) const OID_EXT_SKI: &str = "2.5.29.14";
pub(crate) const OID_EXT_SAN: &str = "2.5.29.17";
pub(crate) const OID_EXT_POLICIES: &str = "2.5.29.32";
pub(crate) const OID_EXT_EKU: &str = "2.5.29.37";

impl Certificate {
    /// Parses a DER certificate (nothing may follow it).
    pub fn from_der(der: &[u8]) -> Result<Self, X509Error> {
        let bad = |m: &str| X509Error::Malformed(m.to_string());
        // Locate the TBS and the signature ourselves: they are verified as they were received.
        let (tag, whole, outer, rest) = der_read(der).ok_or_else(|| bad("not a DER SEQUENCE"))?;
        if tag != 0x30 || !rest.is_empty() || whole.len() != der.len() {
            return Err(bad("certificate is not a single SEQUENCE"));
        }
        let header_len = der.len() - outer.len();
        let (tbs_tag, tbs_whole, _, after_tbs) =
            der_read(outer).ok_or_else(|| bad("no TBSCertificate"))?;
        let (alg_tag, _, alg_content, after_alg) =
            der_read(after_tbs).ok_or_else(|| bad("no signatureAlgorithm"))?;
        let (sig_tag, _, sig_bits, after_sig) =
            der_read(after_alg).ok_or_else(|| bad("no signatureValue"))?;
        if tbs_tag != 0x30 || alg_tag != 0x30 || sig_tag != 0x03 || !after_sig.is_empty() {
            return Err(bad(
                "certificate SEQUENCE is not TBSCertificate, AlgorithmIdentifier, BIT STRING",
            ));
        }
        let signature = match sig_bits.split_first() {
            Some((0, s)) => s.to_vec(),
            _ => return Err(bad("signature BIT STRING with unused bits")),
        };
        let tbs_start = header_len;
        let tbs_end = header_len + tbs_whole.len();

        let (rest, x509) = x509_parser::parse_x509_certificate(der)
            .map_err(|e| X509Error::Malformed(e.to_string()))?;
        if !rest.is_empty() {
            return Err(bad("trailing data after certificate"));
        }
        let tbs = &x509.tbs_certificate;
        let signature_algorithm = oid_string(&x509.signature_algorithm.algorithm);
        if oid_string(&tbs.signature.algorithm) != signature_algorithm {
            return Err(bad("TBS signature algorithm differs from the outer one"));
        }
        // The outer AlgorithmIdentifier is not covered by the signature: hold it to the exact
        // form (an OBJECT IDENTIFIER equal to the TBS one, then at most the parameters the TBS
        // has), so a mangled tag that a lenient parser would accept is refused (RFC 5280
        // §4.1.1.2: the two fields must be identical).
        let (oid_tag, _, oid_value, params) =
            der_read(alg_content).ok_or_else(|| bad("malformed signatureAlgorithm"))?;
        let tbs_params_len = tbs
            .signature
            .parameters
            .as_ref()
            .map_or(0, |p| p.as_bytes().len());
        if oid_tag != 0x06
            || oid_value != tbs.signature.algorithm.as_bytes()
            || (tbs_params_len == 0 && !params.is_empty())
        {
            return Err(bad(
                "outer signatureAlgorithm is not identical to the TBS one",
            ));
        }

        let spki = tbs.subject_pki.raw.to_vec();
        let public_key = PublicKey::from_spki_der(&spki).map_err(|e| match e {
            EccError::UnsupportedCurve(c) => KeyProblem::UnsupportedCurve(c),
            other => KeyProblem::Other(other.to_string()),
        });

        let mut cert = Self {
            der: der.to_vec(),
            tbs_start,
            tbs_end,
            signature_algorithm,
            signature,
            serial: tbs.raw_serial().to_vec(),
            subject: Name::from_parsed(&tbs.subject),
            issuer: Name::from_parsed(&tbs.issuer),
            not_before: tbs.validity.not_before.to_datetime(),
            not_after: tbs.validity.not_after.to_datetime(),
            spki,
            public_key,
            ski: None,
            aki: None,
            basic_constraints: None,
            key_usage: None,
            eku: None,
            policies: Vec::new(),
            san: SubjectAltNames::default(),
            permitted_dir_names: Vec::new(),
            gsma_permitted_eins: Vec::new(),
            unknown_critical: Vec::new(),
        };

        let mut seen = HashSet::new();
        for ext in tbs.extensions() {
            let oid = oid_string(&ext.oid);
            if !seen.insert(oid.clone()) {
                return Err(X509Error::Malformed(format!("duplicate extension {oid}")));
            }
            match ext.parsed_extension() {
                ParsedExtension::SubjectKeyIdentifier(k) => cert.ski = Some(k.0.to_vec()),
                ParsedExtension::AuthorityKeyIdentifier(a) => {
                    cert.aki = a.key_identifier.as_ref().map(|k| k.0.to_vec());
                }
                ParsedExtension::KeyUsage(k) => cert.key_usage = Some(k.flags),
                ParsedExtension::CertificatePolicies(p) => {
                    cert.policies = p.iter().map(|pi| oid_string(&pi.policy_id)).collect();
                }
                ParsedExtension::BasicConstraints(b) => {
                    cert.basic_constraints = Some((b.ca, b.path_len_constraint));
                }
                ParsedExtension::ExtendedKeyUsage(e) => {
                    cert.eku = Some(ExtendedKeyUsage {
                        server_auth: e.server_auth,
                        client_auth: e.client_auth,
                        other: e.other.iter().map(oid_string).collect(),
                    });
                }
                ParsedExtension::SubjectAlternativeName(s) => {
                    for gn in &s.general_names {
                        match gn {
                            GeneralName::DNSName(d) => cert.san.dns_names.push((*d).to_string()),
                            GeneralName::RegisteredID(o) => {
                                cert.san.registered_ids.push(oid_string(o))
                            }
                            GeneralName::URI(u) => cert.san.uris.push((*u).to_string()),
                            GeneralName::IPAddress(b) => {
                                if let Some(ip) = ip_from_bytes(b) {
                                    cert.san.ip_addresses.push(ip);
                                }
                            }
                            _ => {}
                        }
                    }
                }
                ParsedExtension::NameConstraints(nc) => {
                    for sub in nc.permitted_subtrees.iter().flatten() {
                        if let GeneralName::DirectoryName(n) = &sub.base {
                            cert.permitted_dir_names.push(Name::from_parsed(n));
                        }
                    }
                }
                ParsedExtension::CRLDistributionPoints(_) => {}
                ParsedExtension::ParseError { error } => {
                    return Err(X509Error::Malformed(format!("extension {oid}: {error}")));
                }
                _ if oid == OID_GSMA_PERMITTED_EINS => {
                    cert.gsma_permitted_eins = parse_gsma_eins(ext.value).ok_or_else(|| {
                        X509Error::Malformed(format!("extension {oid}: bad EIN list"))
                    })?;
                }
                _ => {
                    if ext.critical {
                        cert.unknown_critical.push(oid);
                    }
                }
            }
        }
        Ok(cert)
    }

    /// Parses the first `CERTIFICATE` block of PEM text.
    pub fn from_pem(pem: &str) -> Result<Self, X509Error> {
        let (_, der) = ecc::pem_block(pem, &["CERTIFICATE"]).ok_or(X509Error::NoPemCertificate)?;
        Self::from_der(&der)
    }

    /// Parses every `CERTIFICATE` block of PEM text (a bundle), in order.
    pub fn all_from_pem(pem: &str) -> Result<Vec<Self>, X509Error> {
        const END: &str = "-----END CERTIFICATE-----";
        let mut out = Vec::new();
        let mut rest = pem;
        while let Some(end) = rest.find(END) {
            let (chunk, tail) = rest.split_at(end + END.len());
            if let Some((_, der)) = ecc::pem_block(chunk, &["CERTIFICATE"]) {
                out.push(Self::from_der(&der)?);
            }
            rest = tail;
        }
        if out.is_empty() {
            return Err(X509Error::NoPemCertificate);
        }
        Ok(out)
    }

    /// Parses DER or PEM (detected by the `-----BEGIN` marker).
    pub fn from_der_or_pem(bytes: &[u8]) -> Result<Self, X509Error> {
        match std::str::from_utf8(bytes) {
            Ok(text) if text.contains("-----BEGIN") => Self::from_pem(text),
            _ => Self::from_der(bytes),
        }
    }

    /// The DER encoding, exactly as parsed.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// PEM (`CERTIFICATE`) of the DER.
    pub fn to_pem(&self) -> String {
        ecc::to_pem("CERTIFICATE", &self.der)
    }

    /// The TBSCertificate bytes the signature covers.
    pub fn tbs_der(&self) -> &[u8] {
        self.der
            .get(self.tbs_start..self.tbs_end)
            .unwrap_or_default()
    }

    /// The signature value (DER ECDSA-Sig-Value for ECDSA).
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    /// The signature algorithm OID, dotted.
    pub fn signature_algorithm(&self) -> &str {
        &self.signature_algorithm
    }

    /// The serial number, big-endian content octets.
    pub fn serial(&self) -> &[u8] {
        &self.serial
    }

    /// Subject name.
    pub fn subject(&self) -> &Name {
        &self.subject
    }

    /// Issuer name.
    pub fn issuer(&self) -> &Name {
        &self.issuer
    }

    /// notBefore.
    pub fn not_before(&self) -> OffsetDateTime {
        self.not_before
    }

    /// notAfter.
    pub fn not_after(&self) -> OffsetDateTime {
        self.not_after
    }

    /// Whether `at` lies within notBefore..=notAfter.
    pub fn is_valid_at(&self, at: OffsetDateTime) -> bool {
        self.not_before <= at && at <= self.not_after
    }

    /// The DER SubjectPublicKeyInfo.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki
    }

    /// The subject public key (errors for unsupported curves and non-EC keys).
    pub fn public_key(&self) -> Result<&PublicKey, X509Error> {
        self.key_at(CertPosition::Leaf)
    }

    fn key_at(&self, which: CertPosition) -> Result<&PublicKey, X509Error> {
        match &self.public_key {
            Ok(k) => Ok(k),
            Err(KeyProblem::UnsupportedCurve(curve)) => Err(X509Error::UnsupportedCurve {
                which,
                curve: curve.clone(),
            }),
            Err(KeyProblem::Other(reason)) => Err(X509Error::BadPublicKey {
                which,
                reason: reason.clone(),
            }),
        }
    }

    /// subjectKeyIdentifier (the CI public key id, PKID, for a CI certificate).
    pub fn subject_key_id(&self) -> Option<&[u8]> {
        self.ski.as_deref()
    }

    /// authorityKeyIdentifier keyIdentifier.
    pub fn authority_key_id(&self) -> Option<&[u8]> {
        self.aki.as_deref()
    }

    /// basicConstraints cA.
    pub fn is_ca(&self) -> bool {
        self.basic_constraints.is_some_and(|(ca, _)| ca)
    }

    /// basicConstraints pathLenConstraint.
    pub fn path_len_constraint(&self) -> Option<u32> {
        self.basic_constraints.and_then(|(_, p)| p)
    }

    /// keyUsage flags (bit 0 = digitalSignature ... bit 8 = decipherOnly), if present.
    pub fn key_usage(&self) -> Option<u16> {
        self.key_usage
    }

    /// extendedKeyUsage, if present.
    pub fn extended_key_usage(&self) -> Option<&ExtendedKeyUsage> {
        self.eku.as_ref()
    }

    /// certificatePolicies OIDs, dotted.
    pub fn policies(&self) -> &[String] {
        &self.policies
    }

    /// The SGP.22 role from certificatePolicies (the first policy OID that names one).
    pub fn sgp22_role(&self) -> Option<Sgp22Role> {
        self.policies
            .iter()
            .find_map(|p| Sgp22Role::from_policy_oid(p))
    }

    /// subjectAltName entries.
    pub fn subject_alt_names(&self) -> &SubjectAltNames {
        &self.san
    }

    /// subjectAltName registeredID entries (entity OIDs), dotted.
    pub fn registered_ids(&self) -> &[String] {
        &self.san.registered_ids
    }

    /// The EID of an eUICC certificate: its subject serialNumber.
    pub fn eid(&self) -> Option<&str> {
        self.subject.serial_number()
    }

    /// EIN prefixes an EUM certificate permits: serialNumber attributes of permitted directory
    /// names in nameConstraints (variant O) and the GSMA extension `2.23.146.1.2.2.0`.
    pub fn permitted_eins(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .permitted_dir_names
            .iter()
            .flat_map(|n| n.attributes.iter())
            .filter(|(o, _)| o == OID_AT_SERIAL_NUMBER)
            .map(|(_, v)| v.clone())
            .collect();
        out.extend(self.gsma_permitted_eins.iter().cloned());
        out
    }

    /// Directory names permitted by nameConstraints.
    pub fn permitted_dir_names(&self) -> &[Name] {
        &self.permitted_dir_names
    }

    /// SHA-256 over the DER (the certificate fingerprint).
    pub fn fingerprint_sha256(&self) -> [u8; 32] {
        sha256(&self.der)
    }

    /// Subject and issuer are the same name.
    pub fn is_self_issued(&self) -> bool {
        self.subject.raw == self.issuer.raw
    }

    /// Verifies only this certificate's signature with `issuer_key` (no other check).
    pub fn verify_signature(&self, issuer_key: &PublicKey) -> Result<(), X509Error> {
        self.verify_signature_at(issuer_key, CertPosition::Leaf)
    }

    fn verify_signature_at(
        &self,
        issuer_key: &PublicKey,
        which: CertPosition,
    ) -> Result<(), X509Error> {
        if self.signature_algorithm != OID_ECDSA_WITH_SHA256 {
            return Err(X509Error::UnsupportedSignatureAlgorithm {
                which,
                oid: self.signature_algorithm.clone(),
            });
        }
        issuer_key
            .verify_der(self.tbs_der(), &self.signature)
            .map_err(|_| X509Error::BadSignature { which })
    }

    /// Whether `candidate` issued this certificate: by AKI = SKI when both are present; otherwise
    /// the names must match and the candidate's key must verify the signature (U-21: never by
    /// name alone).
    fn issued_by(&self, candidate: &Certificate) -> bool {
        match (&self.aki, &candidate.ski) {
            (Some(aki), Some(ski)) => aki == ski,
            _ => {
                self.issuer.raw == candidate.subject.raw
                    && candidate
                        .public_key
                        .as_ref()
                        .is_ok_and(|k| self.verify_signature_at(k, CertPosition::Leaf).is_ok())
            }
        }
    }
}

/// Dotted text of an OID from its content octets. (`asn1-rs` renders a first subidentifier of more
/// than one byte wrongly, e.g. `2.999.10` as `3.16.55.10`.)
fn oid_string(oid: &x509_parser::der_parser::oid::Oid<'_>) -> String {
    oid_content_to_dotted(oid.as_bytes())
}

/// Dotted text of DER OID content octets (malformed input gives a best-effort rendering).
pub(crate) fn oid_content_to_dotted(content: &[u8]) -> String {
    let mut arcs: Vec<u128> = Vec::new();
    let mut acc: u128 = 0;
    for &b in content {
        acc = acc.saturating_mul(128).saturating_add(u128::from(b & 0x7F));
        if b & 0x80 == 0 {
            if arcs.is_empty() {
                let first = if acc < 40 {
                    0
                } else if acc < 80 {
                    1
                } else {
                    2
                };
                arcs.push(first);
                arcs.push(acc - first * 40);
            } else {
                arcs.push(acc);
            }
            acc = 0;
        }
    }
    arcs.iter()
        .map(u128::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

/// SubjectKeyIdentifier by RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey bits (the
/// uncompressed point). The SGP.26 certificates use this method.
pub fn key_identifier(key: &PublicKey) -> [u8; 20] {
    let digest = aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY,
        &key.to_sec1_uncompressed(),
    );
    let mut out = [0u8; 20];
    out.copy_from_slice(digest.as_ref());
    out
}

pub(crate) fn sha256(data: &[u8]) -> [u8; 32] {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

fn ip_from_bytes(b: &[u8]) -> Option<IpAddr> {
    if let Ok(v4) = <[u8; 4]>::try_from(b) {
        Some(IpAddr::from(v4))
    } else if let Ok(v6) = <[u8; 16]>::try_from(b) {
        Some(IpAddr::from(v6))
    } else {
        None
    }
}

/// The GSMA EIN extension: lenient, collects every string leaf of the structure.
fn parse_gsma_eins(value: &[u8]) -> Option<Vec<String>> {
    fn walk(mut input: &[u8], out: &mut Vec<String>, depth: usize) -> Option<()> {
        if depth > 4 {
            return None;
        }
        while !input.is_empty() {
            let (tag, _, value, rest) = der_read(input)?;
            match tag {
                0x30 | 0x31 | 0xA0..=0xBF => walk(value, out, depth + 1)?,
                0x12 | 0x13 | 0x16 | 0x0C => out.push(std::str::from_utf8(value).ok()?.to_string()),
                _ => {}
            }
            input = rest;
        }
        Some(())
    }
    let mut out = Vec::new();
    walk(value, &mut out, 0)?;
    Some(out)
}

/// A path that verified: leaf first, trust anchor last.
#[derive(Clone, Debug)]
pub struct VerifiedChain {
    certificates: Vec<Certificate>,
}

impl VerifiedChain {
    /// The certificates, leaf first, trust anchor last.
    pub fn certificates(&self) -> &[Certificate] {
        &self.certificates
    }

    /// The leaf.
    pub fn leaf(&self) -> Option<&Certificate> {
        self.certificates.first()
    }

    /// The trust anchor that terminates the path.
    pub fn trust_anchor(&self) -> Option<&Certificate> {
        self.certificates.last()
    }
}

/// Validates `leaf` up to one of `anchors` at time `at` (RFC 5280 style, no SGP.22 roles).
///
/// The path is built by AKI ↔ SKI (by name only when a key identifier is missing), taking issuers
/// from `anchors` first, then from `intermediates`. Trust anchors are trusted as configured: their
/// own signature is not checked, their validity, key and CA flags are.
pub fn verify_chain(
    leaf: &Certificate,
    intermediates: &[Certificate],
    anchors: &[Certificate],
    at: OffsetDateTime,
) -> Result<VerifiedChain, X509Error> {
    verify_path(leaf, intermediates, anchors, at, None)
}

/// [`verify_chain`] plus the SGP.22 rules: the anchor is a CI, the leaf has role `expected` (with
/// digitalSignature, and serverAuth for TLS roles), an eUICC leaf is issued by an EUM and its EID
/// lies in the EUM's permitted range.
pub fn verify_sgp22_chain(
    leaf: &Certificate,
    intermediates: &[Certificate],
    anchors: &[Certificate],
    at: OffsetDateTime,
    expected: Sgp22Role,
) -> Result<VerifiedChain, X509Error> {
    verify_path(leaf, intermediates, anchors, at, Some(expected))
}

fn build_path<'a>(
    leaf: &'a Certificate,
    intermediates: &'a [Certificate],
    anchors: &'a [Certificate],
) -> Result<Vec<&'a Certificate>, X509Error> {
    let mut path = vec![leaf];
    if anchors.contains(leaf) {
        return Ok(path);
    }
    loop {
        let idx = path.len().saturating_sub(1);
        let Some(&cur) = path.last() else {
            return Err(X509Error::PathTooLong);
        };
        let which = if idx == 0 {
            CertPosition::Leaf
        } else {
            CertPosition::Intermediate(idx - 1)
        };
        if let Some(anchor) = anchors.iter().find(|a| cur.issued_by(a)) {
            path.push(anchor);
            return Ok(path);
        }
        let next = intermediates.iter().find(|c| {
            cur.issued_by(c) && !path.contains(c) && !(c.is_self_issued() && c.issued_by(c))
        });
        match next {
            Some(c) => {
                // Leave room for the trust anchor.
                if path.len() + 1 >= MAX_PATH_LEN {
                    return Err(X509Error::PathTooLong);
                }
                path.push(c);
            }
            None if cur.is_self_issued() && cur.issued_by(cur) => {
                return Err(X509Error::UntrustedRoot { which });
            }
            None => {
                return Err(X509Error::UnknownIssuer {
                    which,
                    authority_key_id: cur.aki.clone(),
                    issuer: cur.issuer.to_string(),
                });
            }
        }
    }
}

fn verify_path(
    leaf: &Certificate,
    intermediates: &[Certificate],
    anchors: &[Certificate],
    at: OffsetDateTime,
    sgp22: Option<Sgp22Role>,
) -> Result<VerifiedChain, X509Error> {
    let path = build_path(leaf, intermediates, anchors)?;
    let n = path.len();
    let position = |i: usize| {
        if i + 1 == n {
            CertPosition::TrustAnchor
        } else if i == 0 {
            CertPosition::Leaf
        } else {
            CertPosition::Intermediate(i - 1)
        }
    };

    for (i, &cert) in path.iter().enumerate().rev() {
        let which = position(i);
        cert.key_at(which)?;
        if let Some(oid) = cert.unknown_critical.first() {
            return Err(X509Error::UnsupportedCriticalExtension {
                which,
                oid: oid.clone(),
            });
        }
        if let Some(expected) = sgp22 {
            check_sgp22_role(&path, i, which, expected)?;
        }
        if at < cert.not_before {
            return Err(X509Error::NotYetValid {
                which,
                not_before: cert.not_before,
            });
        }
        if at > cert.not_after {
            return Err(X509Error::Expired {
                which,
                not_after: cert.not_after,
            });
        }
        if i > 0 {
            // An issuer: must be a CA allowed to sign certificates, with room for the path below.
            if !cert.is_ca() {
                return Err(X509Error::NotACa { which });
            }
            if cert.key_usage.is_some_and(|k| k & ku::KEY_CERT_SIGN == 0) {
                return Err(X509Error::KeyUsageMismatch {
                    which,
                    needed: "keyCertSign",
                });
            }
            if let Some(max) = cert.path_len_constraint() {
                let below = path
                    .get(1..i)
                    .unwrap_or_default()
                    .iter()
                    .filter(|c| !c.is_self_issued())
                    .count();
                if below > max as usize {
                    return Err(X509Error::PathLenExceeded { which });
                }
            }
        }
        if let Some(issuer) = path.get(i + 1) {
            if cert.issuer.raw != issuer.subject.raw {
                return Err(X509Error::IssuerNameMismatch { which });
            }
            let issuer_key = issuer.key_at(position(i + 1))?;
            cert.verify_signature_at(issuer_key, which)?;
        }
        if i == 0
            && sgp22 == Some(Sgp22Role::Euicc)
            && let Some(eum) = path.get(1)
        {
            check_euicc_permitted(eum, cert)?;
        }
    }
    Ok(VerifiedChain {
        certificates: path.into_iter().cloned().collect(),
    })
}

fn check_sgp22_role(
    path: &[&Certificate],
    i: usize,
    which: CertPosition,
    expected: Sgp22Role,
) -> Result<(), X509Error> {
    let n = path.len();
    let Some(cert) = path.get(i) else {
        return Ok(());
    };
    let found = cert.sgp22_role();
    let need = |role: Sgp22Role| {
        if found == Some(role) {
            Ok(())
        } else {
            Err(X509Error::WrongRole {
                which,
                expected: role,
                found,
            })
        }
    };
    if i + 1 == n {
        need(Sgp22Role::Ci)?;
    }
    if i == 0 {
        need(expected)?;
        if !expected.is_ca() {
            if cert
                .key_usage
                .is_none_or(|k| k & ku::DIGITAL_SIGNATURE == 0)
            {
                return Err(X509Error::KeyUsageMismatch {
                    which,
                    needed: "digitalSignature",
                });
            }
            if matches!(expected, Sgp22Role::DpTls | Sgp22Role::DsTls)
                && cert.eku.as_ref().is_some_and(|e| !e.server_auth)
            {
                return Err(X509Error::KeyUsageMismatch {
                    which,
                    needed: "serverAuth",
                });
            }
        }
    }
    if i == 1 && expected == Sgp22Role::Euicc {
        need(Sgp22Role::Eum)?;
    }
    Ok(())
}

/// Checks that `eid` is a valid EID within the range the EUM certificate permits (`sgp22.md`
/// §15.2): it must start with one of [`Certificate::permitted_eins`]. An EUM certificate without any
/// EIN constraint permits every EID.
pub fn check_eid_permitted(eum: &Certificate, eid: &str) -> Result<(), X509Error> {
    if !eid_is_valid(eid) {
        return Err(X509Error::InvalidEid(eid.to_string()));
    }
    let permitted = eum.permitted_eins();
    if permitted.is_empty()
        || permitted
            .iter()
            .any(|p| !p.is_empty() && eid.starts_with(p.as_str()))
    {
        Ok(())
    } else {
        Err(X509Error::EidOutsideRange {
            eid: eid.to_string(),
            permitted,
        })
    }
}

/// Checks an eUICC certificate against its EUM's constraints: the EID (subject serialNumber) with
/// [`check_eid_permitted`], and, when the EUM's permitted directory names carry an organisation,
/// the eUICC subject's organisation (GSMA reading of the dirName constraint, not RFC 5280 prefix
/// matching, which even the SGP.26 chain fails).
pub fn check_euicc_permitted(eum: &Certificate, euicc: &Certificate) -> Result<(), X509Error> {
    let eid = euicc.eid().ok_or(X509Error::MissingEid)?;
    check_eid_permitted(eum, eid)?;
    let orgs: Vec<String> = eum
        .permitted_dir_names
        .iter()
        .filter_map(|n| n.organization().map(str::to_string))
        .collect();
    if !orgs.is_empty() {
        let found = euicc.subject.organization();
        if !found.is_some_and(|o| orgs.iter().any(|p| p == o)) {
            return Err(X509Error::OrganisationNotPermitted {
                permitted: orgs,
                found: found.map(str::to_string),
            });
        }
    }
    Ok(())
}

/// Whether `eid` is 32 decimal digits whose value mod 97 is 1 (ISO/IEC 7064 MOD 97-10, SGP.29).
pub fn eid_is_valid(eid: &str) -> bool {
    eid.parse::<rsp_types::Eid>().is_ok()
}

/// (tag, whole TLV, value, rest) of one DER object.
pub(crate) type DerParts<'a> = (u8, &'a [u8], &'a [u8], &'a [u8]);

/// Reads one DER TLV with a single-byte tag: (tag, whole TLV, value, rest).
pub(crate) fn der_read(input: &[u8]) -> Option<DerParts<'_>> {
    let (&tag, after_tag) = input.split_first()?;
    if tag & 0x1F == 0x1F {
        return None;
    }
    let (&first, after_len0) = after_tag.split_first()?;
    let (len, len_bytes) = if first < 0x80 {
        (usize::from(first), 0usize)
    } else {
        let n = usize::from(first & 0x7F);
        if n == 0 || n > 4 {
            return None;
        }
        let bytes = after_len0.get(..n)?;
        (
            bytes
                .iter()
                .fold(0usize, |acc, &b| (acc << 8) | usize::from(b)),
            n,
        )
    };
    let header = 2 + len_bytes;
    let whole = input.get(..header.checked_add(len)?)?;
    let value = whole.get(header..)?;
    let rest = input.get(header + len..)?;
    Some((tag, whole, value, rest))
}

/// Encodes one DER TLV with a single-byte tag.
pub(crate) fn der_tlv(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 6);
    out.push(tag);
    let len = value.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        let significant = bytes.get(skip..).unwrap_or_default();
        out.push(0x80 | significant.len() as u8);
        out.extend_from_slice(significant);
    }
    out.extend_from_slice(value);
    out
}

/// DER content octets of a dotted OID (for building extensions).
pub(crate) fn oid_der_content(dotted: &str) -> Option<Vec<u8>> {
    let arcs: Vec<u64> = dotted
        .split('.')
        .map(|a| a.parse().ok())
        .collect::<Option<_>>()?;
    let (&a, rest) = arcs.split_first()?;
    let (&b, rest) = rest.split_first()?;
    if a > 2 || (a < 2 && b >= 40) {
        return None;
    }
    let mut out = Vec::new();
    for arc in std::iter::once(a * 40 + b).chain(rest.iter().copied()) {
        let mut tmp = vec![(arc & 0x7F) as u8];
        let mut v = arc >> 7;
        while v > 0 {
            tmp.push(0x80 | (v & 0x7F) as u8);
            v >>= 7;
        }
        tmp.reverse();
        out.extend_from_slice(&tmp);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eid_validity() {
        // SGP.26 / SGP.23 #EID1 (GSMA SGP.26 test eUICC certificate subject serialNumber).
        assert!(eid_is_valid("89049032123451234512345678901235"));
        assert!(!eid_is_valid("89049032123451234512345678901236"));
        assert!(!eid_is_valid("8904903212345123451234567890123"));
    }

    #[test]
    fn oid_content_encoding() {
        // id-rspRole-ci 2.23.146.1.2.1.0 as in the SGP.26 CI certificate: 06 07 67 81 12 01 02 01 00.
        assert_eq!(
            oid_der_content("2.23.146.1.2.1.0").unwrap(),
            [0x67, 0x81, 0x12, 0x01, 0x02, 0x01, 0x00]
        );
        assert_eq!(oid_der_content("2.999.5").unwrap(), [0x88, 0x37, 0x05]);
        assert!(oid_der_content("3.1").is_none());
    }

    #[test]
    fn der_tlv_round_trip_long_lengths() {
        for len in [0usize, 1, 127, 128, 255, 256, 70000] {
            let v = vec![0xAB; len];
            let enc = der_tlv(0x04, &v);
            let (tag, whole, value, rest) = der_read(&enc).unwrap();
            assert_eq!(
                (tag, whole.len(), value, rest.len()),
                (0x04, enc.len(), &v[..], 0)
            );
        }
        assert!(der_read(&[0x30, 0x85, 0, 0, 0, 0, 1]).is_none());
        assert!(der_read(&[0x30, 0x02, 0x00]).is_none());
    }
}
