//! The EUM's XML-DSig signature over `EumSignedInfo` in the EIS (SGP.02 §5.2, sgp02.md §16.2).
//!
//! **Form rsp writes.** `EumSignature` (an element of `ds:SignatureType`, sibling of `EumSignedInfo` in the
//! `Eis`) holds `ds:SignedInfo` with exclusive C14N, ECDSA-SHA256 and one reference `URI=""` whose transforms
//! are the XPath filter [`SIGNED_INFO_XPATH`] (selecting the `EumSignedInfo` subtree) then exclusive C14N, with
//! a SHA-256 digest; `ds:KeyInfo/ds:X509Data/ds:X509Certificate` carries the EUM certificate. Exclusive C14N
//! of a subtree does not depend on where the subtree sits, so the signature verifies in ES1 RegisterEIS, in
//! ES7 HandoverEUICC and in storage alike. A reference `#id` to an `Id`/`wsu:Id` of `EumSignedInfo` is
//! accepted on input too; njiwa's URI-less reference (dereferenced by the application) is not.
//!
//! **Original bytes.** Verification reads the received document with libxml2 and canonicalises the
//! `EumSignedInfo` subtree and the children of `EumSignature` as received; [`SignedEisPart`] keeps those
//! canonical bytes. [`splice`] puts them back into an outgoing envelope (ES7), so the signature stays valid
//! however rsp's own codec would have re-written the EIS (dates, hex case, whitespace, prefixes).
//!
//! **Checks** ([`EisTrust::verify_document`]): the reference allow-list, the signature with the EUM
//! certificate's key, the EUM certificate's chain to a configured CI at the given time, `Eum-id` against the
//! certificate's registeredID, and the EID against the EUM's permitted range. Revocation is not checked (the
//! SM-SR must not refuse only because an EUM certificate is revoked, sgp02.md §16.4).

use std::fmt;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use libxml::tree::Node;
use rsp_crypto::x509::{self, Certificate, X509Error};
use rsp_sgp02::data::{Eis, EumSignature, EumSignedInfo};
use rsp_sgp02::schema::XmlItem;
use rsp_types::codes::sgp02::{reason, status, subject};
use rsp_types::status::StatusCode;
use rsp_types::{Eid, EntityId, FunctionExecutionStatus};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::dom;
use crate::dsig::{self, DsigRefusal, SignatureAlgorithm, alg};
use crate::ns;

/// The XPath filter rsp writes: the `EumSignedInfo` subtree (namespace-agnostic, as the GSMA message namespace
/// has several versions).
pub const SIGNED_INFO_XPATH: &str = "ancestor-or-self::*[local-name()='EumSignedInfo']";

/// Namespace of the wrapper element of the standalone verification document.
const WRAPPER_NS: &str = "urn:rsp:xmlsec:eis";

/// Why an EIS signature was refused (or could not be made).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EisSignatureError {
    /// The document is not well-formed.
    #[error("unreadable document: {0}")]
    Document(String),
    /// No `Eis` with `EumSignedInfo` and `EumSignature` in the document.
    #[error("no signed EIS in the document")]
    NoEis,
    /// More than one EIS where one was expected.
    #[error("more than one EIS in the document")]
    SeveralEis,
    /// The signature's structure is wrong.
    #[error("malformed EUM signature: {0}")]
    Malformed(String),
    /// An algorithm, transform or reference form rsp does not accept.
    #[error("unsupported EUM signature: {0}")]
    Unsupported(String),
    /// No EUM certificate in `KeyInfo` and none configured for the `Eum-id`.
    #[error("no EUM certificate for {0}")]
    NoEumCertificate(String),
    /// The EUM certificate does not chain to a configured CI.
    #[error("EUM certificate refused: {0}")]
    EumCertificate(X509Error),
    /// `Eum-id` is not the entity of the EUM certificate.
    #[error("Eum-id {eum_id} is not the EUM certificate's entity {certificate:?}")]
    EumIdMismatch {
        /// `Eum-id` in `EumSignedInfo`.
        eum_id: String,
        /// The registeredIDs of the certificate.
        certificate: Vec<String>,
    },
    /// The EID lies outside the EUM certificate's permitted range.
    #[error("EID outside the EUM's permitted range: {0}")]
    EidNotPermitted(X509Error),
    /// `EumSignedInfo` does not decode.
    #[error("EumSignedInfo: {0}")]
    SignedInfo(String),
    /// The signature or the digest does not verify.
    #[error("the EUM signature does not verify")]
    BadSignature,
    /// Signing failed (key, certificate).
    #[error("signing failed: {0}")]
    Signing(String),
    /// The signed part could not be put back into a document.
    #[error("cannot splice the signed EIS part: {0}")]
    Splice(String),
}

impl EisSignatureError {
    /// The status a RegisterEIS / HandoverEUICC refusal carries: `8.1.2`/`6.3` for an expired EUM (or CI)
    /// certificate (C-39), `8.1.2`/`6.1` (`EUM_CERTIFICATE_INVALID`) for everything else, the message naming
    /// the fault.
    pub fn status(&self) -> FunctionExecutionStatus {
        let code = match self {
            Self::EumCertificate(X509Error::Expired { .. }) => {
                StatusCode::new(subject::EUM_CERTIFICATE, reason::EXPIRED)
            }
            _ => status::EUM_CERTIFICATE_INVALID,
        };
        code.failed().with_message(self.to_string())
    }
}

impl From<DsigRefusal> for EisSignatureError {
    fn from(r: DsigRefusal) -> Self {
        match r {
            DsigRefusal::Malformed(m) => Self::Malformed(m),
            DsigRefusal::Unsupported(m) => Self::Unsupported(m),
        }
    }
}

/// The signed part of an EIS exactly as it was signed: the exclusive C14N of `EumSignedInfo` and of each child
/// of `EumSignature`. Store it with the EIS; [`splice`] it into outgoing documents; [`EisTrust::verify_part`]
/// re-verifies it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SignedEisPart {
    /// The message namespace of `EumSignature` (written around [`Self::signature_content`]).
    pub namespace: String,
    /// Canonical `EumSignedInfo` element.
    pub signed_info: String,
    /// Canonical children of `EumSignature` (`ds:SignedInfo`, `ds:SignatureValue`, `ds:KeyInfo`, …).
    pub signature_content: String,
}

impl SignedEisPart {
    /// The `EumSignature` element, in [`Self::namespace`].
    pub fn eum_signature_xml(&self) -> String {
        format!(
            "<rps:EumSignature xmlns:rps=\"{}\">{}</rps:EumSignature>",
            rsp_sgp02::xml::escape(&self.namespace, true),
            self.signature_content
        )
    }

    /// The standalone document verified: `EumSignedInfo` and the signature as `ds:Signature` (also what
    /// `xmlsec1 --verify` is given).
    pub fn verification_document(&self) -> String {
        format!(
            "<rspv:EisSignature xmlns:rspv=\"{WRAPPER_NS}\">{}<ds:Signature xmlns:ds=\"{}\">{}</ds:Signature></rspv:EisSignature>",
            self.signed_info,
            ns::DS,
            self.signature_content
        )
    }

    /// `EumSignedInfo` decoded.
    pub fn decode_signed_info(&self) -> Result<EumSignedInfo, EisSignatureError> {
        let el = rsp_sgp02::xml::Element::parse(&self.signed_info)
            .map_err(|e| EisSignatureError::SignedInfo(e.to_string()))?;
        EumSignedInfo::from_element(&el).map_err(|e| EisSignatureError::SignedInfo(e.to_string()))
    }

    /// `EumSignature` as rsp's element tree (for [`Eis::eum_signature`]).
    pub fn eum_signature(&self) -> Result<EumSignature, EisSignatureError> {
        rsp_sgp02::xml::Element::parse(&self.eum_signature_xml())
            .map(EumSignature)
            .map_err(|e| EisSignatureError::Malformed(e.to_string()))
    }
}

// --- signing (EUM tooling) -------------------------------------------------------------------------------

/// The EUM's signing key and certificate.
pub struct EumSigner {
    cert_der: Vec<u8>,
    key_pem: Zeroizing<Vec<u8>>,
    algorithm: SignatureAlgorithm,
}

impl fmt::Debug for EumSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EumSigner")
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl EumSigner {
    /// From the EUM certificate (PEM) and its private key (PEM, P-256 or brainpoolP256r1).
    pub fn from_pem(cert_pem: &[u8], key_pem: &[u8]) -> Result<Self, EisSignatureError> {
        let signing = |e: String| EisSignatureError::Signing(e);
        let cert = openssl::x509::X509::from_pem(cert_pem).map_err(|e| signing(e.to_string()))?;
        let key = openssl::pkey::PKey::private_key_from_pem(key_pem)
            .map_err(|e| signing(format!("private key: {e}")))?;
        let public = cert.public_key().map_err(|e| signing(e.to_string()))?;
        if !key.public_eq(&public) {
            return Err(signing(
                "the private key does not match the certificate".into(),
            ));
        }
        let cert_der = cert.to_der().map_err(|e| signing(e.to_string()))?;
        let algorithm = SignatureAlgorithm::for_certificate(&cert_der).map_err(signing)?;
        if algorithm != SignatureAlgorithm::EcdsaSha256 {
            return Err(signing("the EUM key must be an EC key (U-19)".into()));
        }
        Ok(Self {
            cert_der,
            key_pem: Zeroizing::new(key_pem.to_vec()),
            algorithm,
        })
    }

    /// From PEM files.
    pub fn from_files(cert: &Path, key: &Path) -> Result<Self, EisSignatureError> {
        let read = |p: &Path| {
            std::fs::read(p)
                .map_err(|e| EisSignatureError::Signing(format!("{}: {e}", p.display())))
        };
        let key_pem = Zeroizing::new(read(key)?);
        Self::from_pem(&read(cert)?, &key_pem)
    }

    /// Signs `signed_info` as rsp writes it in namespace `ns`; returns the signed part (its `EumSignature` is
    /// [`SignedEisPart::eum_signature`]).
    pub fn sign_signed_info(
        &self,
        signed_info: &EumSignedInfo,
        ns: &str,
    ) -> Result<SignedEisPart, EisSignatureError> {
        let signed_info_xml = signed_info.to_element(ns, "EumSignedInfo").to_xml();
        let template = format!(
            "<rspv:EisSignature xmlns:rspv=\"{WRAPPER_NS}\">{signed_info_xml}<ds:Signature xmlns:ds=\"{ds}\">\
             <ds:SignedInfo><ds:CanonicalizationMethod Algorithm=\"{c14n}\"/><ds:SignatureMethod Algorithm=\"{sig}\"/>\
             <ds:Reference URI=\"\"><ds:Transforms><ds:Transform Algorithm=\"{xpath}\"><ds:XPath>{expr}</ds:XPath></ds:Transform>\
             <ds:Transform Algorithm=\"{c14n}\"/></ds:Transforms><ds:DigestMethod Algorithm=\"{sha}\"/><ds:DigestValue/></ds:Reference>\
             </ds:SignedInfo><ds:SignatureValue/><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate>\
             </ds:X509Data></ds:KeyInfo></ds:Signature></rspv:EisSignature>",
            ds = ns::DS,
            c14n = alg::EXC_C14N,
            sig = self.algorithm.uri(),
            xpath = alg::XPATH,
            expr = SIGNED_INFO_XPATH,
            sha = alg::SHA256,
            cert = B64.encode(&self.cert_der),
        );
        let doc = dom::parse(&template).map_err(|e| EisSignatureError::Signing(e.to_string()))?;
        let root = dom::root(&doc).map_err(|e| EisSignatureError::Signing(e.to_string()))?;
        let signature = dom::only_child(&root, ns::DS, "Signature")
            .ok_or_else(|| EisSignatureError::Signing("template".into()))?;
        dsig::sign(&signature, &self.key_pem).map_err(EisSignatureError::Signing)?;
        let mut signed_info_node = dom::children(&root)
            .into_iter()
            .next()
            .ok_or_else(|| EisSignatureError::Signing("template".into()))?;
        Ok(SignedEisPart {
            namespace: ns.to_string(),
            signed_info: dom::exc_c14n(&mut signed_info_node)
                .map_err(|e| EisSignatureError::Signing(e.to_string()))?,
            signature_content: canonical_children(&signature)
                .map_err(|e| EisSignatureError::Signing(e.to_string()))?,
        })
    }

    /// Signs the `EumSignedInfo` of `eis` (namespace `ns`) and sets its `EumSignature`.
    pub fn sign(&self, eis: &mut Eis, ns: &str) -> Result<SignedEisPart, EisSignatureError> {
        let part = self.sign_signed_info(&eis.eum_signed_info, ns)?;
        eis.eum_signature = part.eum_signature()?;
        Ok(part)
    }
}

fn canonical_children(node: &Node) -> Result<String, dom::DomError> {
    let mut out = String::new();
    for mut c in dom::children(node) {
        out.push_str(&dom::exc_c14n(&mut c)?);
    }
    Ok(out)
}

// --- verification (SM-SR) ----------------------------------------------------------------------------

/// What a verified EIS signature proved.
#[derive(Debug, Clone)]
pub struct VerifiedEis {
    /// The EID in `EumSignedInfo`.
    pub eid: Eid,
    /// `Eum-id`.
    pub eum_id: EntityId,
    /// The EUM certificate whose chain to the CI verified.
    pub eum_certificate: Certificate,
    /// The signed part, as received (canonical).
    pub part: SignedEisPart,
}

/// Trust for EIS signatures: the CI certificates, and EUM certificates for signatures without one in
/// `KeyInfo`.
#[derive(Debug, Clone, Default)]
pub struct EisTrust {
    ci: Vec<Certificate>,
    eums: Vec<Certificate>,
}

impl EisTrust {
    /// Trusting `ci` (the SGP.02 CI certificates).
    pub fn new(ci: Vec<Certificate>) -> Self {
        Self {
            ci,
            eums: Vec::new(),
        }
    }

    /// Trusting the certificates in the PEM files `ci_files`.
    pub fn from_pem_files(ci_files: &[&Path]) -> Result<Self, EisSignatureError> {
        let mut ci = Vec::new();
        for f in ci_files {
            let pem = std::fs::read_to_string(f)
                .map_err(|e| EisSignatureError::Document(format!("{}: {e}", f.display())))?;
            ci.extend(Certificate::all_from_pem(&pem).map_err(EisSignatureError::EumCertificate)?);
        }
        Ok(Self::new(ci))
    }

    /// Adds a known EUM certificate (used when a signature carries none; looked up by `Eum-id`).
    pub fn with_eum_certificate(mut self, eum: Certificate) -> Self {
        self.eums.push(eum);
        self
    }

    /// Verifies the one signed EIS in `xml` (a whole message, or an `Eis` element) at `now`.
    pub fn verify_document(
        &self,
        xml: &str,
        now: OffsetDateTime,
    ) -> Result<VerifiedEis, EisSignatureError> {
        let part = extract(xml)?;
        self.verify_part(&part, now)
    }

    /// Verifies a stored signed part at `now`.
    pub fn verify_part(
        &self,
        part: &SignedEisPart,
        now: OffsetDateTime,
    ) -> Result<VerifiedEis, EisSignatureError> {
        let doc = dom::parse(&part.verification_document())
            .map_err(|e| EisSignatureError::Document(e.to_string()))?;
        let root = dom::root(&doc).map_err(|e| EisSignatureError::Document(e.to_string()))?;
        let parts = dom::children(&root);
        let (Some(signed_info), Some(signature), 2) = (parts.first(), parts.get(1), parts.len())
        else {
            return Err(EisSignatureError::Malformed(
                "expected EumSignedInfo and one signature".into(),
            ));
        };
        if signed_info.get_name() != "EumSignedInfo" {
            return Err(EisSignatureError::Malformed("EumSignedInfo".into()));
        }
        let info = dsig::read_signed_info(signature, true)?;
        check_eis_reference(&info, &root, signed_info)?;

        let decoded = part.decode_signed_info()?;
        let eum = self.eum_certificate(signature, &decoded)?;

        // The signature first: a changed byte is a verification failure whatever else is wrong.
        register_signed_info_id(&doc, signed_info)?;
        match dsig::verify(signature, eum.der()) {
            Ok(true) => {}
            Ok(false) => return Err(EisSignatureError::BadSignature),
            Err(e) => return Err(EisSignatureError::NoEumCertificate(e)),
        }
        if SignatureAlgorithm::for_certificate(eum.der()).ok() != Some(info.algorithm) {
            return Err(EisSignatureError::Unsupported(
                "signature method does not match the EUM key".into(),
            ));
        }
        x509::verify_chain(&eum, &[], &self.ci, now).map_err(EisSignatureError::EumCertificate)?;
        let ids = eum.registered_ids();
        let eum_id = decoded.eum_id.to_string();
        if !ids.is_empty() && !ids.contains(&eum_id) {
            return Err(EisSignatureError::EumIdMismatch {
                eum_id,
                certificate: ids.to_vec(),
            });
        }
        x509::check_eid_permitted(&eum, decoded.eid.as_str())
            .map_err(EisSignatureError::EidNotPermitted)?;
        Ok(VerifiedEis {
            eid: decoded.eid,
            eum_id: decoded.eum_id,
            eum_certificate: eum,
            part: part.clone(),
        })
    }

    /// The EUM certificate: `KeyInfo/X509Data/X509Certificate` when present, else a configured one whose
    /// registeredID is the `Eum-id`.
    fn eum_certificate(
        &self,
        signature: &Node,
        signed_info: &EumSignedInfo,
    ) -> Result<Certificate, EisSignatureError> {
        let from_key_info = dom::children_named(signature, ns::DS, "KeyInfo")
            .first()
            .and_then(|ki| {
                dom::children_named(ki, ns::DS, "X509Data")
                    .into_iter()
                    .next()
            })
            .and_then(|xd| {
                dom::children_named(&xd, ns::DS, "X509Certificate")
                    .into_iter()
                    .next()
            });
        if let Some(c) = from_key_info {
            let compact: String = c
                .get_content()
                .chars()
                .filter(|ch| !ch.is_ascii_whitespace())
                .collect();
            let der = B64
                .decode(compact.as_bytes())
                .map_err(|e| EisSignatureError::Malformed(format!("X509Certificate: {e}")))?;
            return Certificate::from_der(&der).map_err(EisSignatureError::EumCertificate);
        }
        let eum_id = signed_info.eum_id.to_string();
        self.eums
            .iter()
            .find(|c| c.registered_ids().contains(&eum_id))
            .cloned()
            .ok_or(EisSignatureError::NoEumCertificate(eum_id))
    }
}

/// The reference must cover exactly `EumSignedInfo`: `URI=""` + [`SIGNED_INFO_XPATH`] + exclusive C14N, or
/// `#id` of `EumSignedInfo` + exclusive C14N.
fn check_eis_reference(
    info: &dsig::SignedInfo,
    root: &Node,
    signed_info: &Node,
) -> Result<(), EisSignatureError> {
    let [reference] = info.references.as_slice() else {
        return Err(EisSignatureError::Unsupported(
            "exactly one reference (to EumSignedInfo) is expected".into(),
        ));
    };
    let normalise = |s: &str| s.split_whitespace().collect::<String>();
    let algorithms: Vec<&str> = reference
        .transforms
        .iter()
        .map(|t| t.algorithm.as_str())
        .collect();
    match reference.uri.as_deref() {
        Some("") => {
            let xpath_ok = reference.transforms.first().is_some_and(|t| {
                t.algorithm == alg::XPATH
                    && t.xpath.as_deref().map(normalise) == Some(normalise(SIGNED_INFO_XPATH))
            });
            if xpath_ok && algorithms == [alg::XPATH, alg::EXC_C14N] {
                Ok(())
            } else {
                Err(EisSignatureError::Unsupported(
                    "URI=\"\" must be filtered to EumSignedInfo by the XPath transform, then exclusive C14N"
                        .into(),
                ))
            }
        }
        Some(uri) if uri.starts_with('#') => {
            let index = dom::id_index(root).map_err(EisSignatureError::Malformed)?;
            let target = index.get(uri.trim_start_matches('#')).map(dom::key);
            if target == Some(dom::key(signed_info)) && algorithms == [alg::EXC_C14N] {
                Ok(())
            } else {
                Err(EisSignatureError::Unsupported(format!(
                    "reference {uri} must name EumSignedInfo, with exclusive C14N only"
                )))
            }
        }
        _ => Err(EisSignatureError::Unsupported(
            "a reference without URI (application-defined) is not accepted".into(),
        )),
    }
}

/// Registers an `Id` / `wsu:Id` of `EumSignedInfo` as an ID (for `#id` references).
fn register_signed_info_id(
    doc: &libxml::tree::Document,
    signed_info: &Node,
) -> Result<(), EisSignatureError> {
    use xmlsec::XmlSecDocumentExt;
    if signed_info.get_attribute_ns("Id", ns::WSU).is_some()
        || signed_info.get_attribute_no_ns("Id").is_some()
    {
        doc.specify_idattr(
            "/*/*[local-name()='EumSignedInfo']",
            "Id",
            Some(&[("wsu", ns::WSU)]),
        )
        .map_err(|e| EisSignatureError::Malformed(e.to_string()))?;
    }
    Ok(())
}

/// The signed part of the one EIS in `xml`, canonicalised from the received bytes.
pub fn extract(xml: &str) -> Result<SignedEisPart, EisSignatureError> {
    let doc = dom::parse(xml).map_err(|e| EisSignatureError::Document(e.to_string()))?;
    let root = dom::root(&doc).map_err(|e| EisSignatureError::Document(e.to_string()))?;
    let mut found = Vec::new();
    let mut stack = vec![root];
    while let Some(n) = stack.pop() {
        let kids = dom::children(&n);
        let signed_info = kids.iter().find(|c| c.get_name() == "EumSignedInfo");
        let signature = kids
            .iter()
            .find(|c| c.get_name() == "EumSignature" || dom::is(c, ns::DS, "Signature"));
        if let (Some(si), Some(sig)) = (signed_info, signature) {
            found.push((si.clone(), sig.clone()));
        } else {
            stack.extend(kids);
        }
    }
    let (mut signed_info, signature) = match found.len() {
        0 => return Err(EisSignatureError::NoEis),
        1 => found.remove(0),
        _ => return Err(EisSignatureError::SeveralEis),
    };
    let namespace = if signature.get_name() == "EumSignature" {
        dom::ns_of(&signature)
    } else {
        dom::ns_of(&signed_info)
    };
    let doc_err = |e: dom::DomError| EisSignatureError::Document(e.to_string());
    Ok(SignedEisPart {
        namespace,
        signed_info: dom::exc_c14n(&mut signed_info).map_err(doc_err)?,
        signature_content: canonical_children(&signature).map_err(doc_err)?,
    })
}

/// Replaces the `EumSignedInfo` and `EumSignature` elements of the one EIS in `xml` by the stored original
/// bytes of `part` (byte-level: the rest of `xml` is untouched).
pub fn splice(xml: &str, part: &SignedEisPart) -> Result<String, EisSignatureError> {
    use quick_xml::events::Event;
    let err = |m: String| EisSignatureError::Splice(m);
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut stack: Vec<(String, usize)> = Vec::new();
    let mut spans: Vec<(&'static str, usize, usize)> = Vec::new();
    let target = |local: &str| match local {
        "EumSignedInfo" => Some("EumSignedInfo"),
        "EumSignature" => Some("EumSignature"),
        _ => None,
    };
    loop {
        let before = usize::try_from(reader.buffer_position()).map_err(|e| err(e.to_string()))?;
        let event = reader.read_event().map_err(|e| err(e.to_string()))?;
        let after = usize::try_from(reader.buffer_position()).map_err(|e| err(e.to_string()))?;
        match event {
            Event::Start(e) => {
                let local = e.local_name().as_ref().to_string();
                stack.push((local, before));
            }
            Event::Empty(e) => {
                let local = e.local_name().as_ref().to_string();
                if let Some(t) = target(&local)
                    && stack.last().is_some_and(|(p, _)| p == "Eis")
                {
                    spans.push((t, before, after));
                }
            }
            Event::End(_) => {
                let (local, start) = stack.pop().ok_or_else(|| err("unbalanced".into()))?;
                if let Some(t) = target(&local)
                    && stack.last().is_some_and(|(p, _)| p == "Eis")
                {
                    spans.push((t, start, after));
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    let count = |t: &str| spans.iter().filter(|(n, _, _)| *n == t).count();
    if count("EumSignedInfo") != 1 || count("EumSignature") != 1 {
        return Err(err(format!(
            "expected one EumSignedInfo and one EumSignature in one Eis, found {} and {}",
            count("EumSignedInfo"),
            count("EumSignature")
        )));
    }
    spans.sort_by_key(|(_, s, _)| std::cmp::Reverse(*s));
    let mut out = xml.to_string();
    for (name, start, end) in spans {
        let replacement = if name == "EumSignedInfo" {
            part.signed_info.clone()
        } else {
            part.eum_signature_xml()
        };
        if start > end || end > out.len() {
            return Err(err("span outside the document".into()));
        }
        out.replace_range(start..end, &replacement);
    }
    Ok(out)
}
