//! XML-DSig core on libxmlsec1: the algorithms rsp accepts, a strict reading of `ds:SignedInfo` before any
//! cryptography runs, and signing / verifying one `ds:Signature` element with an explicitly chosen key.
//!
//! The key is always set by the caller (from a certificate that was checked separately), never taken from
//! `ds:KeyInfo`, and every reference is checked against an allow-list first: same-document URIs only (no
//! network or file fetches), exclusive canonicalisation, SHA-256 digests, no XSLT or other transforms.

use std::cell::RefCell;
use std::collections::HashMap;

use libxml::tree::Node;
use xmlsec::{XmlSecKey, XmlSecKeyFormat, XmlSecSignatureContext};

use crate::dom;
use crate::ns;

/// Algorithm identifiers (URIs) rsp writes and accepts.
pub mod alg {
    /// Exclusive XML Canonicalization 1.0, without comments.
    pub const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
    /// ECDSA with SHA-256 (RFC 6931 / XML-DSig 1.1).
    pub const ECDSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256";
    /// RSA PKCS#1 v1.5 with SHA-256 (RFC 6931), accepted on input only.
    pub const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
    /// SHA-256 digest (XML Encryption).
    pub const SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";
    /// XPath filtering (XML-DSig 1.0 §6.6.3).
    pub const XPATH: &str = "http://www.w3.org/TR/1999/REC-xpath-19991116";
}

/// A signature algorithm rsp accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureAlgorithm {
    /// ECDSA-SHA256 (P-256 or brainpoolP256r1 keys): what rsp writes.
    EcdsaSha256,
    /// RSA-SHA256: accepted on input.
    RsaSha256,
}

impl SignatureAlgorithm {
    /// The algorithm URI.
    pub fn uri(self) -> &'static str {
        match self {
            Self::EcdsaSha256 => alg::ECDSA_SHA256,
            Self::RsaSha256 => alg::RSA_SHA256,
        }
    }

    fn from_uri(uri: &str) -> Option<Self> {
        match uri {
            alg::ECDSA_SHA256 => Some(Self::EcdsaSha256),
            alg::RSA_SHA256 => Some(Self::RsaSha256),
            _ => None,
        }
    }

    /// The algorithm matching a certificate's key (DER certificate).
    pub fn for_certificate(cert_der: &[u8]) -> Result<Self, String> {
        let cert = openssl::x509::X509::from_der(cert_der).map_err(|e| e.to_string())?;
        let key = cert.public_key().map_err(|e| e.to_string())?;
        match key.id() {
            openssl::pkey::Id::EC => Ok(Self::EcdsaSha256),
            openssl::pkey::Id::RSA => Ok(Self::RsaSha256),
            other => Err(format!("unsupported key type {other:?}")),
        }
    }
}

/// One transform of a reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Transform {
    /// Its algorithm URI.
    pub algorithm: String,
    /// The XPath expression, for the XPath filter.
    pub xpath: Option<String>,
}

/// One `ds:Reference`, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reference {
    /// Its `URI` attribute (None when absent).
    pub uri: Option<String>,
    /// Its transforms, in order.
    pub transforms: Vec<Transform>,
}

/// A `ds:SignedInfo` that passed the allow-list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SignedInfo {
    /// The signature algorithm.
    pub algorithm: SignatureAlgorithm,
    /// The references, in order.
    pub references: Vec<Reference>,
}

/// Why a `ds:Signature` is refused before or during verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DsigRefusal {
    /// Structure not as XML-DSig requires.
    Malformed(String),
    /// An algorithm or transform outside the allow-list.
    Unsupported(String),
}

/// Reads and checks `ds:SignedInfo` of `signature` (any element of `ds:SignatureType`): exclusive C14N,
/// ECDSA-SHA256 or RSA-SHA256, SHA-256 digests, at least one reference, transforms limited to exclusive C14N
/// and (when `allow_xpath`) the XPath filter; references are same-document (`#id` or `""`) or absent.
pub(crate) fn read_signed_info(
    signature: &Node,
    allow_xpath: bool,
) -> Result<SignedInfo, DsigRefusal> {
    let malformed = |m: &str| DsigRefusal::Malformed(m.to_string());
    let parts = dom::children(signature);
    let mut iter = parts.iter();
    let signed_info = iter
        .next()
        .filter(|n| dom::is(n, ns::DS, "SignedInfo"))
        .ok_or_else(|| malformed("ds:SignedInfo must be the first child"))?;
    if !iter
        .next()
        .is_some_and(|n| dom::is(n, ns::DS, "SignatureValue"))
    {
        return Err(malformed("ds:SignatureValue must follow ds:SignedInfo"));
    }
    // Strict base64: libxmlsec1 ignores the unused low bits of the last character, so two spellings of one
    // signature would both verify. Only the canonical spelling is accepted.
    if let Some(value) = parts.get(1) {
        use base64::Engine as _;
        let text: String = dom::text(value)
            .chars()
            .filter(|c| !c.is_ascii_whitespace())
            .collect();
        if base64::engine::general_purpose::STANDARD
            .decode(&text)
            .is_err()
        {
            return Err(malformed("ds:SignatureValue is not canonical base64"));
        }
    }
    let mut algorithm = None;
    let mut references = Vec::new();
    for (i, child) in dom::children(signed_info).iter().enumerate() {
        let alg_attr = dom::attr(child, "Algorithm").unwrap_or_default();
        match (i, child.get_name().as_str()) {
            _ if dom::ns_of(child) != ns::DS => {
                return Err(malformed("foreign element in ds:SignedInfo"));
            }
            (0, "CanonicalizationMethod") => {
                if alg_attr != alg::EXC_C14N {
                    return Err(DsigRefusal::Unsupported(format!(
                        "canonicalisation {alg_attr}"
                    )));
                }
                check_c14n_children(child)?;
            }
            (1, "SignatureMethod") => {
                if !dom::children(child).is_empty() {
                    return Err(DsigRefusal::Unsupported(
                        "parameters of the signature method".into(),
                    ));
                }
                algorithm = Some(SignatureAlgorithm::from_uri(&alg_attr).ok_or_else(|| {
                    DsigRefusal::Unsupported(format!("signature method {alg_attr}"))
                })?);
            }
            (i, "Reference") if i >= 2 => references.push(read_reference(child, allow_xpath)?),
            (_, other) => {
                return Err(malformed(&format!(
                    "unexpected ds:{other} in ds:SignedInfo"
                )));
            }
        }
    }
    let algorithm = algorithm.ok_or_else(|| malformed("no ds:SignatureMethod"))?;
    if references.is_empty() {
        return Err(malformed("no ds:Reference"));
    }
    Ok(SignedInfo {
        algorithm,
        references,
    })
}

/// Exclusive C14N may carry `ec:InclusiveNamespaces` (as WSS4J writes), nothing else.
fn check_c14n_children(node: &Node) -> Result<(), DsigRefusal> {
    for c in dom::children(node) {
        if !dom::is(&c, alg::EXC_C14N, "InclusiveNamespaces") {
            return Err(DsigRefusal::Unsupported(format!(
                "{} inside a canonicalisation method",
                c.get_name()
            )));
        }
    }
    Ok(())
}

fn read_reference(node: &Node, allow_xpath: bool) -> Result<Reference, DsigRefusal> {
    let malformed = |m: String| DsigRefusal::Malformed(m);
    let uri = dom::attr(node, "URI");
    if let Some(u) = &uri
        && !(u.is_empty() || u.starts_with('#'))
    {
        return Err(DsigRefusal::Unsupported(format!(
            "reference URI {u:?} (only same-document references are accepted)"
        )));
    }
    let mut transforms = Vec::new();
    let mut digest_ok = false;
    let mut digest_value = false;
    for child in dom::children(node) {
        if dom::ns_of(&child) != ns::DS {
            return Err(malformed("foreign element in ds:Reference".into()));
        }
        match child.get_name().as_str() {
            "Transforms" if transforms.is_empty() && !digest_ok => {
                for t in dom::children(&child) {
                    if !dom::is(&t, ns::DS, "Transform") {
                        return Err(malformed("ds:Transforms holds only ds:Transform".into()));
                    }
                    let algorithm = dom::attr(&t, "Algorithm").unwrap_or_default();
                    let xpath = match algorithm.as_str() {
                        alg::EXC_C14N => {
                            check_c14n_children(&t)?;
                            None
                        }
                        alg::XPATH if allow_xpath => {
                            let xp = dom::only_child(&t, ns::DS, "XPath").ok_or_else(|| {
                                malformed("XPath transform without one ds:XPath".into())
                            })?;
                            Some(dom::text(&xp))
                        }
                        other => {
                            return Err(DsigRefusal::Unsupported(format!("transform {other}")));
                        }
                    };
                    transforms.push(Transform { algorithm, xpath });
                }
                if transforms.is_empty() {
                    return Err(malformed("empty ds:Transforms".into()));
                }
            }
            "DigestMethod" if !digest_ok => {
                let a = dom::attr(&child, "Algorithm").unwrap_or_default();
                if a != alg::SHA256 {
                    return Err(DsigRefusal::Unsupported(format!("digest method {a}")));
                }
                digest_ok = true;
            }
            "DigestValue" if digest_ok && !digest_value => digest_value = true,
            other => return Err(malformed(format!("unexpected ds:{other} in ds:Reference"))),
        }
    }
    if !digest_value {
        return Err(malformed(
            "ds:Reference needs ds:DigestMethod and ds:DigestValue".into(),
        ));
    }
    Ok(Reference { uri, transforms })
}

/// Most keys a thread keeps loaded (a few peers and one own key in practice).
const KEY_CACHE_SIZE: usize = 64;

thread_local! {
    /// Keys already decoded by OpenSSL, by SHA-256 of their encoding. OpenSSL 3 decoders cost 150–400 µs per
    /// key, more than the signature itself; a cached key is handed out as a duplicate (a reference count).
    static KEYS: RefCell<HashMap<[u8; 32], XmlSecKey>> = RefCell::new(HashMap::new());
}

/// Loads a private key (PEM) or a certificate's public key (DER), through the per-thread cache.
fn load_key(material: &[u8], certificate: bool) -> Result<XmlSecKey, String> {
    let mut h = openssl::sha::Sha256::new();
    h.update(&[u8::from(certificate)]);
    h.update(material);
    let id = h.finish();
    let load = || {
        let format = if certificate {
            XmlSecKeyFormat::CertDer
        } else {
            XmlSecKeyFormat::Pem
        };
        XmlSecKey::from_memory(material, format, None).map_err(|e| e.to_string())
    };
    KEYS.with(|cache| {
        let Ok(mut cache) = cache.try_borrow_mut() else {
            return load();
        };
        if let Some(key) = cache.get(&id) {
            return Ok(key.clone());
        }
        let key = load()?;
        if cache.len() >= KEY_CACHE_SIZE {
            cache.clear();
        }
        cache.insert(id, key.clone());
        Ok(key)
    })
}

/// Fills `DigestValue`s and `SignatureValue` of the template `signature` (a `ds:Signature` element already in
/// its document, with its ID attributes registered) with the private key `key_pem` (PKCS#8 or SEC1 PEM).
pub(crate) fn sign(signature: &Node, key_pem: &[u8]) -> Result<(), String> {
    let key = load_key(key_pem, false).map_err(|e| format!("private key: {e}"))?;
    let mut ctx = XmlSecSignatureContext::new();
    ctx.insert_key(key);
    ctx.sign_node(signature).map_err(|e| e.to_string())
}

/// Verifies the `ds:Signature` element `signature` with the public key of `cert_der` (a DER certificate that
/// the caller has already checked). `Ok(false)`: the signature or a digest does not match.
pub(crate) fn verify(signature: &Node, cert_der: &[u8]) -> Result<bool, String> {
    let key = load_key(cert_der, true).map_err(|e| format!("certificate key: {e}"))?;
    let mut ctx = XmlSecSignatureContext::new();
    ctx.insert_key(key);
    match ctx.verify_node(signature) {
        Ok(valid) => Ok(valid),
        // xmlsec reports a digest that cannot be computed or a key/algorithm mismatch as a processing error:
        // for the peer both mean "the signature does not verify".
        Err(_) => Ok(false),
    }
}
