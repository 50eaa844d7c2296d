//! WS-Security 1.0 message signatures on SOAP 1.2 envelopes (X.509 Token Profile 1.0).
//!
//! Outgoing, [`WsSigner::sign_envelope`] adds to the Header:
//!
//! ```text
//! <wsse:Security env:mustUnderstand="true">
//!   <wsse:BinarySecurityToken ValueType="…#X509v3" EncodingType="…#Base64Binary" wsu:Id="X509-n">…</…>
//!   <wsu:Timestamp wsu:Id="TS-n"><wsu:Created>…</wsu:Created><wsu:Expires>…</wsu:Expires></wsu:Timestamp>
//!   <ds:Signature>  SignedInfo: exclusive C14N, ecdsa-sha256 (rsa-sha256 for an RSA key), one Reference
//!                   (#id, exclusive C14N, SHA-256) per WS-Addressing header, the Body and the Timestamp;
//!                   KeyInfo: wsse:SecurityTokenReference → the BinarySecurityToken </ds:Signature>
//! </wsse:Security>
//! ```
//!
//! and a `wsu:Id` on the Body and on each WS-Addressing header. Incoming, [`WsVerifier::verify_envelope`]
//! checks the structure, that no ID is ambiguous (no signature wrapping), that the signature covers the Body,
//! the Timestamp and every WS-Addressing header of this envelope, the signature itself, the certificate chain
//! to the configured trust roots and the Timestamp's freshness. Who the signer must be (the TLS client) and
//! replay are checked by [`crate::policy::MessageSecurity`].

use std::fmt;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use libxml::tree::{Document, Namespace, Node};
use openssl::stack::Stack;
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::verify::X509VerifyFlags;
use openssl::x509::{X509, X509StoreContext};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};
use xmlsec::XmlSecDocumentExt;
use zeroize::Zeroizing;

use crate::dom::{self, DomError};
use crate::dsig::{self, DsigRefusal, SignatureAlgorithm, alg};
use crate::ns;

/// `ValueType` of an X.509 v3 BinarySecurityToken.
pub const X509V3_VALUE_TYPE: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3";
/// `EncodingType` Base64Binary.
pub const BASE64_ENCODING: &str = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary";

/// Default lifetime written in `wsu:Expires` (5 minutes).
pub const DEFAULT_TTL: Duration = Duration::minutes(5);
/// Default freshness window: a `wsu:Created` older than this is expired (5 minutes).
pub const DEFAULT_MAX_AGE: Duration = Duration::minutes(5);
/// Default tolerated clock skew between peers (1 minute).
pub const DEFAULT_SKEW: Duration = Duration::minutes(1);

/// The WS-Security 1.0 fault codes (QNames in the `wsse` namespace, SOAP 1.2 subcodes of `env:Sender`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WsseFaultCode {
    /// An error was discovered processing the `wsse:Security` header (missing, malformed, not covering what it
    /// must, replayed).
    InvalidSecurity,
    /// An unsupported signature or encryption algorithm was used.
    UnsupportedAlgorithm,
    /// The security token could not be authenticated or authorised (chain, identity).
    FailedAuthentication,
    /// The signature was invalid.
    FailedCheck,
    /// The message has expired (Timestamp).
    MessageExpired,
}

impl WsseFaultCode {
    /// The local name of the QName.
    pub fn local(self) -> &'static str {
        match self {
            Self::InvalidSecurity => "InvalidSecurity",
            Self::UnsupportedAlgorithm => "UnsupportedAlgorithm",
            Self::FailedAuthentication => "FailedAuthentication",
            Self::FailedCheck => "FailedCheck",
            Self::MessageExpired => "MessageExpired",
        }
    }
}

impl fmt::Display for WsseFaultCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "wsse:{}", self.local())
    }
}

/// Why a message was refused, or could not be signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WsSecurityError {
    /// The text is not a well-formed SOAP 1.2 envelope.
    #[error("not a SOAP 1.2 envelope: {0}")]
    NotAnEnvelope(String),
    /// A signature is required and the message has no `wsse:Security` header.
    #[error("the message carries no wsse:Security header")]
    Missing,
    /// The `wsse:Security` header is malformed or ambiguous.
    #[error("invalid wsse:Security header: {0}")]
    Malformed(String),
    /// An algorithm, token type or transform rsp does not accept (XML Encryption included).
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// A part that must be signed is not covered by the signature.
    #[error("not covered by the signature: {0}")]
    NotCovered(String),
    /// The signature or a digest does not verify.
    #[error("the signature does not verify")]
    BadSignature,
    /// The signing certificate does not chain to a trust root (or is expired, or unreadable).
    #[error("signing certificate refused: {0}")]
    UntrustedCertificate(String),
    /// The signing certificate is not the TLS client's identity.
    #[error("the signing certificate does not belong to the TLS client")]
    IdentityMismatch,
    /// The Timestamp is outside the freshness window.
    #[error("message expired: {0}")]
    Expired(String),
    /// A MessageID seen before within the window.
    #[error("replayed message (MessageID {0} already seen)")]
    Replayed(String),
    /// Signing failed (configuration or key).
    #[error("signing failed: {0}")]
    Signing(String),
}

impl WsSecurityError {
    /// The WS-Security fault code a receiver answers with.
    pub fn fault_code(&self) -> WsseFaultCode {
        match self {
            Self::NotAnEnvelope(_)
            | Self::Missing
            | Self::Malformed(_)
            | Self::NotCovered(_)
            | Self::Replayed(_)
            | Self::Signing(_) => WsseFaultCode::InvalidSecurity,
            Self::Unsupported(_) => WsseFaultCode::UnsupportedAlgorithm,
            Self::BadSignature => WsseFaultCode::FailedCheck,
            Self::UntrustedCertificate(_) | Self::IdentityMismatch => {
                WsseFaultCode::FailedAuthentication
            }
            Self::Expired(_) => WsseFaultCode::MessageExpired,
        }
    }
}

impl From<DsigRefusal> for WsSecurityError {
    fn from(r: DsigRefusal) -> Self {
        match r {
            DsigRefusal::Malformed(m) => Self::Malformed(m),
            DsigRefusal::Unsupported(m) => Self::Unsupported(m),
        }
    }
}

fn doc_error(e: DomError) -> WsSecurityError {
    WsSecurityError::NotAnEnvelope(e.to_string())
}

fn build_error(e: impl fmt::Display) -> WsSecurityError {
    WsSecurityError::Signing(e.to_string())
}

// --- signing ----------------------------------------------------------------------------------------

/// Signs outgoing envelopes with one certificate and its private key.
pub struct WsSigner {
    cert_der: Vec<u8>,
    key_pem: Zeroizing<Vec<u8>>,
    algorithm: SignatureAlgorithm,
    ttl: Duration,
}

impl fmt::Debug for WsSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WsSigner")
            .field("algorithm", &self.algorithm)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl WsSigner {
    /// A signer from a PEM certificate and its PEM private key (PKCS#8 or SEC1; EC on P-256 or
    /// brainpoolP256r1, or RSA). Refuses a key that does not match the certificate.
    pub fn from_pem(cert_pem: &[u8], key_pem: &[u8]) -> Result<Self, WsSecurityError> {
        let cert =
            X509::from_pem(cert_pem).map_err(|e| build_error(format!("certificate: {e}")))?;
        let key = openssl::pkey::PKey::private_key_from_pem(key_pem)
            .map_err(|e| build_error(format!("private key: {e}")))?;
        let public = cert.public_key().map_err(build_error)?;
        if !key.public_eq(&public) {
            return Err(build_error(
                "the private key does not match the certificate",
            ));
        }
        let cert_der = cert.to_der().map_err(build_error)?;
        let algorithm = SignatureAlgorithm::for_certificate(&cert_der).map_err(build_error)?;
        Ok(Self {
            cert_der,
            key_pem: Zeroizing::new(key_pem.to_vec()),
            algorithm,
            ttl: DEFAULT_TTL,
        })
    }

    /// A signer from PEM files.
    pub fn from_files(cert: &Path, key: &Path) -> Result<Self, WsSecurityError> {
        let read =
            |p: &Path| std::fs::read(p).map_err(|e| build_error(format!("{}: {e}", p.display())));
        let key_pem = Zeroizing::new(read(key)?);
        Self::from_pem(&read(cert)?, &key_pem)
    }

    /// Sets the lifetime written in `wsu:Expires`.
    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// The signing certificate (DER).
    pub fn certificate_der(&self) -> &[u8] {
        &self.cert_der
    }

    /// The signature algorithm this signer writes.
    pub fn algorithm(&self) -> SignatureAlgorithm {
        self.algorithm
    }

    /// Returns `xml` (a SOAP 1.2 envelope) with a `wsse:Security` header signing the Body, the Timestamp and the
    /// WS-Addressing headers, created at `now`.
    pub fn sign_envelope(&self, xml: &str, now: OffsetDateTime) -> Result<String, WsSecurityError> {
        let doc = dom::parse(xml).map_err(doc_error)?;
        let mut root = dom::root(&doc).map_err(doc_error)?;
        if !dom::is(&root, ns::SOAP12, "Envelope") {
            return Err(WsSecurityError::NotAnEnvelope(
                "root is not a SOAP 1.2 Envelope".into(),
            ));
        }
        let env_ns = root
            .get_namespace()
            .ok_or_else(|| WsSecurityError::NotAnEnvelope("unqualified root".into()))?;
        let mut body = dom::only_child(&root, ns::SOAP12, "Body")
            .ok_or_else(|| WsSecurityError::NotAnEnvelope("no single Body".into()))?;
        let mut header = match dom::only_child(&root, ns::SOAP12, "Header") {
            Some(h) => h,
            None => {
                let mut h = Node::new("Header", Some(env_ns.clone()), &doc)
                    .map_err(|()| build_error("Header"))?;
                body.add_prev_sibling(&mut h).map_err(build_error)?;
                h
            }
        };
        if !dom::children_named(&header, ns::WSSE, "Security").is_empty() {
            return Err(build_error(
                "the envelope already has a wsse:Security header",
            ));
        }
        let index = dom::id_index(&root).map_err(WsSecurityError::Malformed)?;
        let wsu = in_scope_or_declare(&mut root, "wsu", ns::WSU)?;
        let mut counter = 0u32;
        let mut fresh_id = |stem: &str| loop {
            counter += 1;
            let id = format!("{stem}-{counter}");
            if !index.contains_key(&id) {
                break id;
            }
        };

        // The parts to sign: every WS-Addressing header and the Body.
        let mut targets: Vec<Node> = dom::children(&header).into_iter().filter(is_wsa).collect();
        targets.push(body.clone());
        let mut ids = Vec::with_capacity(targets.len() + 1);
        for t in &mut targets {
            let id = match existing_id(t)? {
                Some(id) => id,
                None => {
                    let id = fresh_id("id");
                    t.set_attribute_ns("Id", &id, &wsu).map_err(build_error)?;
                    id
                }
            };
            ids.push(id);
        }

        let wsu_prefix = wsu.get_prefix();
        let mut security =
            dom::new_element(&doc, "wsse", ns::WSSE, "Security").map_err(doc_error)?;
        dom::append(&mut header, &mut security).map_err(doc_error)?;
        security
            .set_attribute_ns("mustUnderstand", "true", &env_ns)
            .map_err(build_error)?;
        let bst_id = fresh_id("X509");
        let mut bst = dom::append_element(
            &mut security,
            "wsse",
            "BinarySecurityToken",
            Some(&B64.encode(&self.cert_der)),
        )
        .map_err(doc_error)?;
        bst.set_attribute("EncodingType", BASE64_ENCODING)
            .map_err(build_error)?;
        bst.set_attribute("ValueType", X509V3_VALUE_TYPE)
            .map_err(build_error)?;
        bst.set_attribute_ns("Id", &bst_id, &wsu)
            .map_err(build_error)?;

        let ts_id = fresh_id("TS");
        let mut ts = dom::append_element(&mut security, &wsu_prefix, "Timestamp", None)
            .map_err(doc_error)?;
        ts.set_attribute_ns("Id", &ts_id, &wsu)
            .map_err(build_error)?;
        let created = now.replace_nanosecond(0).unwrap_or(now);
        dom::append_element(
            &mut ts,
            &wsu_prefix,
            "Created",
            Some(&format_time(created)?),
        )
        .map_err(doc_error)?;
        dom::append_element(
            &mut ts,
            &wsu_prefix,
            "Expires",
            Some(&format_time(created + self.ttl)?),
        )
        .map_err(doc_error)?;
        ids.push(ts_id);

        let mut signature = dom::new_element(&doc, "ds", ns::DS, "Signature").map_err(doc_error)?;
        dom::append(&mut security, &mut signature).map_err(doc_error)?;
        build_signed_info(&mut signature, self.algorithm, &ids)?;
        let mut key_info =
            dom::append_element(&mut signature, "ds", "KeyInfo", None).map_err(doc_error)?;
        let mut str_ = dom::append_element(&mut key_info, "wsse", "SecurityTokenReference", None)
            .map_err(doc_error)?;
        let mut reference =
            dom::append_element(&mut str_, "wsse", "Reference", None).map_err(doc_error)?;
        reference
            .set_attribute("URI", &format!("#{bst_id}"))
            .map_err(build_error)?;
        reference
            .set_attribute("ValueType", X509V3_VALUE_TYPE)
            .map_err(build_error)?;

        register_wsu_ids(&doc)?;
        dsig::sign(&signature, &self.key_pem).map_err(WsSecurityError::Signing)?;
        Ok(dom::serialise(&doc))
    }
}

/// Writes `ds:SignedInfo` and an empty `ds:SignatureValue` under `signature`: one reference per id.
fn build_signed_info(
    signature: &mut Node,
    algorithm: SignatureAlgorithm,
    ids: &[String],
) -> Result<(), WsSecurityError> {
    let mut si = dom::append_element(signature, "ds", "SignedInfo", None).map_err(doc_error)?;
    dom::append_element(&mut si, "ds", "CanonicalizationMethod", None)
        .map_err(doc_error)?
        .set_attribute("Algorithm", alg::EXC_C14N)
        .map_err(build_error)?;
    dom::append_element(&mut si, "ds", "SignatureMethod", None)
        .map_err(doc_error)?
        .set_attribute("Algorithm", algorithm.uri())
        .map_err(build_error)?;
    for id in ids {
        let mut r = dom::append_element(&mut si, "ds", "Reference", None).map_err(doc_error)?;
        r.set_attribute("URI", &format!("#{id}"))
            .map_err(build_error)?;
        let mut transforms =
            dom::append_element(&mut r, "ds", "Transforms", None).map_err(doc_error)?;
        dom::append_element(&mut transforms, "ds", "Transform", None)
            .map_err(doc_error)?
            .set_attribute("Algorithm", alg::EXC_C14N)
            .map_err(build_error)?;
        dom::append_element(&mut r, "ds", "DigestMethod", None)
            .map_err(doc_error)?
            .set_attribute("Algorithm", alg::SHA256)
            .map_err(build_error)?;
        dom::append_element(&mut r, "ds", "DigestValue", None).map_err(doc_error)?;
    }
    dom::append_element(signature, "ds", "SignatureValue", None).map_err(doc_error)?;
    Ok(())
}

/// The namespace `href` as bound in scope at `node`, or declared there with `prefix` (or `prefix2`, … when
/// `prefix` is taken).
fn in_scope_or_declare(
    node: &mut Node,
    prefix: &str,
    href: &str,
) -> Result<Namespace, WsSecurityError> {
    if let Some(p) = node.lookup_namespace_prefix(href)
        && let Ok(ns) = dom::namespace_for_prefix(node, &p)
        && ns.get_href() == href
    {
        return Ok(ns);
    }
    let mut candidate = prefix.to_string();
    let mut n = 1;
    while node.lookup_namespace_uri(&candidate).is_some() {
        n += 1;
        candidate = format!("{prefix}{n}");
    }
    Namespace::new(&candidate, href, node).map_err(build_error)
}

/// The element's existing `wsu:Id` or `xml:id` (reused as the reference target).
fn existing_id(node: &Node) -> Result<Option<String>, WsSecurityError> {
    if let Some(v) = node.get_attribute_ns("Id", ns::WSU) {
        return Ok(Some(v));
    }
    if let Some(v) = node.get_attribute_ns("id", ns::XML) {
        return Ok(Some(v));
    }
    if node.get_attribute_no_ns("Id").is_some() {
        return Err(build_error(format!(
            "{} carries an unqualified Id attribute",
            node.get_name()
        )));
    }
    Ok(None)
}

/// Registers every `wsu:Id` as an ID with libxml2 so that xmlsec resolves `#id` references.
fn register_wsu_ids(doc: &Document) -> Result<(), WsSecurityError> {
    let has_any = doc
        .get_root_element()
        .and_then(|r| r.findnodes("//@*[local-name()='Id']").ok())
        .is_some_and(|v| !v.is_empty());
    if !has_any {
        return Ok(());
    }
    match doc.specify_idattr("//*[@wsu:Id]", "Id", Some(&[("wsu", ns::WSU)])) {
        Ok(()) => Ok(()),
        // No element carries wsu:Id (only unqualified ones): nothing to register.
        Err(e) if e.to_string().starts_with("Could not find any nodes") => Ok(()),
        Err(e) => Err(WsSecurityError::Malformed(e.to_string())),
    }
}

fn is_wsa(node: &Node) -> bool {
    let n = dom::ns_of(node);
    n == ns::WSA || n == ns::WSA_NJIWA
}

fn format_time(t: OffsetDateTime) -> Result<String, WsSecurityError> {
    t.to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .map_err(build_error)
}

// --- verification -----------------------------------------------------------------------------------

/// What a verified message proved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedEnvelope {
    /// The signing certificate (DER), whose chain verified.
    pub signer: Vec<u8>,
    /// The signature algorithm used.
    pub algorithm: SignatureAlgorithm,
    /// The signed `wsa:MessageID`, if the envelope has one.
    pub message_id: Option<String>,
    /// `wsu:Created`.
    pub created: OffsetDateTime,
    /// `wsu:Expires`, if present.
    pub expires: Option<OffsetDateTime>,
}

/// Most certificates whose verified chain a verifier remembers.
const CHAIN_CACHE_SIZE: usize = 1024;

/// A certificate whose chain verified: the interval in which every certificate of the chain is valid (Unix
/// seconds) and the signature algorithm of its key. Within the interval the verdict cannot change (revocation
/// is not checked), so it is reused instead of running OpenSSL's path validation again.
#[derive(Debug, Clone, Copy)]
struct VerifiedChain {
    not_before: i64,
    not_after: i64,
    algorithm: SignatureAlgorithm,
}

type ChainCache =
    std::sync::Arc<std::sync::Mutex<std::collections::HashMap<[u8; 32], VerifiedChain>>>;

/// Verifies incoming envelopes against a set of trust roots and a freshness window.
#[derive(Clone)]
pub struct WsVerifier {
    roots: Vec<X509>,
    max_age: Duration,
    skew: Duration,
    chains: ChainCache,
}

impl fmt::Debug for WsVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WsVerifier")
            .field("roots", &self.roots.len())
            .field("max_age", &self.max_age)
            .field("skew", &self.skew)
            .finish()
    }
}

impl WsVerifier {
    /// A verifier trusting `roots` (DER certificates; each one is an anchor, self-signed or not).
    pub fn new(roots: &[Vec<u8>]) -> Result<Self, WsSecurityError> {
        let roots = roots
            .iter()
            .map(|d| X509::from_der(d))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| WsSecurityError::UntrustedCertificate(format!("trust root: {e}")))?;
        Ok(Self {
            roots,
            max_age: DEFAULT_MAX_AGE,
            skew: DEFAULT_SKEW,
            chains: ChainCache::default(),
        })
    }

    /// A verifier trusting every certificate of the given PEM files.
    pub fn from_pem_files(files: &[&Path]) -> Result<Self, WsSecurityError> {
        let mut roots = Vec::new();
        for f in files {
            let pem = std::fs::read(f).map_err(|e| {
                WsSecurityError::UntrustedCertificate(format!("{}: {e}", f.display()))
            })?;
            for c in X509::stack_from_pem(&pem)
                .map_err(|e| WsSecurityError::UntrustedCertificate(e.to_string()))?
            {
                roots.push(
                    c.to_der()
                        .map_err(|e| WsSecurityError::UntrustedCertificate(e.to_string()))?,
                );
            }
        }
        Self::new(&roots)
    }

    /// Sets the freshness window (`wsu:Created` no older than `max_age`) and the tolerated clock skew.
    pub fn with_window(mut self, max_age: Duration, skew: Duration) -> Self {
        self.max_age = max_age;
        self.skew = skew;
        self
    }

    /// The freshness window.
    pub fn max_age(&self) -> Duration {
        self.max_age
    }

    /// The tolerated clock skew.
    pub fn skew(&self) -> Duration {
        self.skew
    }

    /// Verifies the `wsse:Security` header of `xml` at `now`: structure, coverage, signature, certificate chain
    /// and Timestamp freshness. The signer's identity and replay are the caller's checks.
    pub fn verify_envelope(
        &self,
        xml: &str,
        now: OffsetDateTime,
    ) -> Result<VerifiedEnvelope, WsSecurityError> {
        let doc = dom::parse(xml).map_err(doc_error)?;
        let root = dom::root(&doc).map_err(doc_error)?;
        if !dom::is(&root, ns::SOAP12, "Envelope") {
            return Err(WsSecurityError::NotAnEnvelope(
                "root is not a SOAP 1.2 Envelope".into(),
            ));
        }
        let header =
            dom::only_child(&root, ns::SOAP12, "Header").ok_or(WsSecurityError::Missing)?;
        let body = dom::only_child(&root, ns::SOAP12, "Body")
            .ok_or_else(|| WsSecurityError::NotAnEnvelope("no single Body".into()))?;
        let mut securities = dom::children_named(&header, ns::WSSE, "Security");
        let security = match securities.len() {
            0 => return Err(WsSecurityError::Missing),
            1 => securities.remove(0),
            _ => {
                return Err(WsSecurityError::Malformed(
                    "more than one wsse:Security header".into(),
                ));
            }
        };
        if xenc_anywhere(&root) {
            return Err(WsSecurityError::Unsupported(
                "XML Encryption (rsp relies on TLS for confidentiality)".into(),
            ));
        }
        let one = |ns_: &str, name: &str| {
            let found = dom::children_named(&security, ns_, name);
            match found.len() {
                1 => found.into_iter().next().ok_or(WsSecurityError::Missing),
                0 => Err(WsSecurityError::Malformed(format!(
                    "no {name} in wsse:Security"
                ))),
                _ => Err(WsSecurityError::Malformed(format!(
                    "more than one {name} in wsse:Security"
                ))),
            }
        };
        let bst = one(ns::WSSE, "BinarySecurityToken")?;
        let timestamp = one(ns::WSU, "Timestamp")?;
        let signature = one(ns::DS, "Signature")?;

        // Token: one X.509 v3 certificate, base64.
        let value_type = dom::attr(&bst, "ValueType").unwrap_or_default();
        if value_type != X509V3_VALUE_TYPE {
            return Err(WsSecurityError::Unsupported(format!(
                "token type {value_type:?}"
            )));
        }
        if let Some(enc) = dom::attr(&bst, "EncodingType")
            && enc != BASE64_ENCODING
        {
            return Err(WsSecurityError::Unsupported(format!(
                "token encoding {enc}"
            )));
        }
        let compact: String = bst
            .get_content()
            .chars()
            .filter(|c| !c.is_ascii_whitespace())
            .collect();
        let cert_der = B64
            .decode(compact.as_bytes())
            .map_err(|e| WsSecurityError::Malformed(format!("BinarySecurityToken: {e}")))?;

        // Timestamp.
        let (created, expires) = read_timestamp(&timestamp)?;

        // IDs, references and what they cover.
        let index = dom::id_index(&root).map_err(WsSecurityError::Malformed)?;
        let signed_info = dsig::read_signed_info(&signature, false)?;
        let mut covered = std::collections::HashSet::new();
        for r in &signed_info.references {
            let id = r
                .uri
                .as_deref()
                .and_then(|u| u.strip_prefix('#'))
                .filter(|u| !u.is_empty())
                .ok_or_else(|| {
                    WsSecurityError::Unsupported("references must name an element by #id".into())
                })?;
            if r.transforms.is_empty() || r.transforms.iter().any(|t| t.algorithm != alg::EXC_C14N)
            {
                return Err(WsSecurityError::Unsupported(
                    "each reference must use exclusive C14N".into(),
                ));
            }
            let target = index.get(id).ok_or_else(|| {
                WsSecurityError::Malformed(format!("reference #{id} names no element"))
            })?;
            if !covered.insert(dom::key(target)) {
                return Err(WsSecurityError::Malformed(format!(
                    "element #{id} referenced twice"
                )));
            }
        }
        let mut required: Vec<(String, Node)> = dom::children(&header)
            .into_iter()
            .filter(is_wsa)
            .map(|h| (format!("wsa:{}", h.get_name()), h))
            .collect();
        required.push(("the Body".into(), body));
        required.push(("the Timestamp".into(), timestamp));
        for (what, node) in &required {
            if !covered.contains(&dom::key(node)) {
                return Err(WsSecurityError::NotCovered(what.clone()));
            }
        }
        check_key_info(&signature, &bst, &index)?;

        // The certificate chain (before any signature arithmetic with its key), the signature, freshness.
        let key_algorithm = self.checked_chain(&cert_der, now)?;
        if key_algorithm != signed_info.algorithm {
            return Err(WsSecurityError::Unsupported(
                "signature method does not match the certificate key".into(),
            ));
        }
        register_wsu_ids(&doc)?;
        match dsig::verify(&signature, &cert_der) {
            Ok(true) => {}
            Ok(false) => return Err(WsSecurityError::BadSignature),
            Err(e) => return Err(WsSecurityError::UntrustedCertificate(e)),
        }
        self.check_freshness(created, expires, now)?;

        let message_id = dom::children(&header)
            .into_iter()
            .find(|h| is_wsa(h) && h.get_name() == "MessageID")
            .map(|h| dom::text(&h));
        Ok(VerifiedEnvelope {
            signer: cert_der,
            algorithm: signed_info.algorithm,
            message_id,
            created,
            expires,
        })
    }

    /// Verifies that `cert_der` chains to one of the trust roots at `now` (OpenSSL path validation; every
    /// configured root is an anchor).
    pub fn verify_chain(
        &self,
        cert_der: &[u8],
        now: OffsetDateTime,
    ) -> Result<(), WsSecurityError> {
        self.checked_chain(cert_der, now).map(|_| ())
    }

    /// [`Self::verify_chain`], remembered per certificate for the interval in which the verdict holds; returns
    /// the algorithm of the certificate's key.
    fn checked_chain(
        &self,
        cert_der: &[u8],
        now: OffsetDateTime,
    ) -> Result<SignatureAlgorithm, WsSecurityError> {
        let fingerprint = openssl::sha::sha256(cert_der);
        let t = now.unix_timestamp();
        if let Ok(chains) = self.chains.lock()
            && let Some(c) = chains.get(&fingerprint)
            && c.not_before <= t
            && t <= c.not_after
        {
            return Ok(c.algorithm);
        }
        let verified = self.openssl_chain(cert_der, now)?;
        if let Ok(mut chains) = self.chains.lock() {
            if chains.len() >= CHAIN_CACHE_SIZE {
                chains.clear();
            }
            chains.insert(fingerprint, verified);
        }
        Ok(verified.algorithm)
    }

    fn openssl_chain(
        &self,
        cert_der: &[u8],
        now: OffsetDateTime,
    ) -> Result<VerifiedChain, WsSecurityError> {
        let untrusted = |m: String| WsSecurityError::UntrustedCertificate(m);
        let leaf = X509::from_der(cert_der).map_err(|e| untrusted(format!("unreadable: {e}")))?;
        let algorithm = match leaf.public_key().map(|k| k.id()) {
            Ok(openssl::pkey::Id::EC) => SignatureAlgorithm::EcdsaSha256,
            Ok(openssl::pkey::Id::RSA) => SignatureAlgorithm::RsaSha256,
            Ok(other) => return Err(untrusted(format!("unsupported key type {other:?}"))),
            Err(e) => return Err(untrusted(format!("public key: {e}"))),
        };
        let mut builder = X509StoreBuilder::new().map_err(|e| untrusted(e.to_string()))?;
        for r in &self.roots {
            builder
                .add_cert(r.clone())
                .map_err(|e| untrusted(e.to_string()))?;
        }
        let mut param =
            openssl::x509::verify::X509VerifyParam::new().map_err(|e| untrusted(e.to_string()))?;
        param.set_time(now.unix_timestamp());
        param
            .set_flags(X509VerifyFlags::PARTIAL_CHAIN)
            .map_err(|e| untrusted(e.to_string()))?;
        builder
            .set_param(&param)
            .map_err(|e| untrusted(e.to_string()))?;
        let store = builder.build();
        let chain = Stack::new().map_err(|e| untrusted(e.to_string()))?;
        let mut ctx = X509StoreContext::new().map_err(|e| untrusted(e.to_string()))?;
        let verdict = ctx
            .init(&store, &leaf, &chain, |c| {
                let ok = c.verify_cert()?;
                let mut window = (i64::MIN, i64::MAX);
                if ok && let Some(path) = c.chain() {
                    let epoch = openssl::asn1::Asn1Time::from_unix(0)?;
                    for cert in path {
                        window.0 = window.0.max(unix_seconds(&epoch, cert.not_before())?);
                        window.1 = window.1.min(unix_seconds(&epoch, cert.not_after())?);
                    }
                }
                Ok((ok, c.error(), window))
            })
            .map_err(|e| untrusted(e.to_string()))?;
        match verdict {
            (true, _, (not_before, not_after)) => Ok(VerifiedChain {
                not_before,
                not_after,
                algorithm,
            }),
            (false, err, _) => Err(untrusted(err.error_string().to_string())),
        }
    }

    fn check_freshness(
        &self,
        created: OffsetDateTime,
        expires: Option<OffsetDateTime>,
        now: OffsetDateTime,
    ) -> Result<(), WsSecurityError> {
        if created > now + self.skew {
            return Err(WsSecurityError::Expired(format!(
                "created {} is in the future",
                format_time(created).unwrap_or_default()
            )));
        }
        if now - created > self.max_age + self.skew {
            return Err(WsSecurityError::Expired(format!(
                "created {} is older than the {} s window",
                format_time(created).unwrap_or_default(),
                self.max_age.whole_seconds()
            )));
        }
        if let Some(e) = expires {
            if e < created {
                return Err(WsSecurityError::Malformed("Expires before Created".into()));
            }
            if now > e + self.skew {
                return Err(WsSecurityError::Expired(format!(
                    "expired at {}",
                    format_time(e).unwrap_or_default()
                )));
            }
        }
        Ok(())
    }
}

fn unix_seconds(
    epoch: &openssl::asn1::Asn1TimeRef,
    t: &openssl::asn1::Asn1TimeRef,
) -> Result<i64, openssl::error::ErrorStack> {
    epoch
        .diff(t)
        .map(|d| i64::from(d.days) * 86_400 + i64::from(d.secs))
}

fn read_timestamp(ts: &Node) -> Result<(OffsetDateTime, Option<OffsetDateTime>), WsSecurityError> {
    let parts = dom::children(ts);
    let parse = |n: &Node, what: &str| {
        OffsetDateTime::parse(&dom::text(n), &Rfc3339)
            .map_err(|e| WsSecurityError::Malformed(format!("wsu:{what}: {e}")))
    };
    let created = parts
        .first()
        .filter(|n| dom::is(n, ns::WSU, "Created"))
        .ok_or_else(|| WsSecurityError::Malformed("wsu:Timestamp without wsu:Created".into()))?;
    let created = parse(created, "Created")?;
    let expires = match parts.get(1) {
        Some(n) if dom::is(n, ns::WSU, "Expires") => Some(parse(n, "Expires")?),
        Some(n) => {
            return Err(WsSecurityError::Malformed(format!(
                "unexpected {} in wsu:Timestamp",
                n.get_name()
            )));
        }
        None => None,
    };
    if parts.len() > 2 {
        return Err(WsSecurityError::Malformed(
            "unexpected content in wsu:Timestamp".into(),
        ));
    }
    Ok((created, expires))
}

/// KeyInfo, when present, must point at the BinarySecurityToken (`wsse:SecurityTokenReference/wsse:Reference`).
fn check_key_info(
    signature: &Node,
    bst: &Node,
    index: &std::collections::HashMap<String, Node>,
) -> Result<(), WsSecurityError> {
    let Some(key_info) = dom::children_named(signature, ns::DS, "KeyInfo")
        .into_iter()
        .next()
    else {
        return Ok(());
    };
    let target = dom::only_child(&key_info, ns::WSSE, "SecurityTokenReference")
        .and_then(|s| dom::only_child(&s, ns::WSSE, "Reference"))
        .and_then(|r| dom::attr(&r, "URI"))
        .and_then(|u| u.strip_prefix('#').map(str::to_string))
        .and_then(|id| index.get(&id).map(dom::key));
    if target == Some(dom::key(bst)) {
        Ok(())
    } else {
        Err(WsSecurityError::Unsupported(
            "KeyInfo must reference the BinarySecurityToken".into(),
        ))
    }
}

fn xenc_anywhere(root: &Node) -> bool {
    let mut stack = vec![root.clone()];
    while let Some(n) = stack.pop() {
        if dom::ns_of(&n) == ns::XENC {
            return true;
        }
        stack.extend(dom::children(&n));
    }
    false
}
