//! XML security for the SGP.02 off-card binding, on libxmlsec1 (through the `xmlsec` crate) and libxml2.
//!
//! - [`wsse`]: WS-Security 1.0 message signatures — a `wsse:Security` header with the sender's X.509
//!   certificate (BinarySecurityToken), a `wsu:Timestamp` and a `ds:Signature` over the Body, the Timestamp and
//!   the WS-Addressing headers (exclusive C14N, ECDSA-SHA256, SHA-256); verification of all of it, of the
//!   certificate chain and of the freshness window.
//! - [`replay`]: the MessageID replay cache.
//! - [`policy`]: require / accept-if-present / off, per peer and per interface, and [`policy::MessageSecurity`]
//!   which the SOAP service and client call.
//! - [`eis`]: the EUM's XML-DSig signature over `EumSignedInfo` in the EIS: signing (EUM tooling),
//!   verification against the EUM certificate and its chain to the CI, and keeping the signed part's original
//!   bytes so the signature stays verifiable when the EIS travels on (ES7 HandoverEUICC).
//!
//! Signatures are computed and verified over a libxml2 parse of the bytes that travel, never over rsp's own
//! element tree. All functions are synchronous and pure apart from the clock value passed in; libxml2 objects
//! never leave the function that made them.

mod dom;
pub mod dsig;
pub mod eis;
pub mod policy;
pub mod replay;
pub mod wsse;

pub use dom::DomError;

/// Namespace URIs.
pub mod ns {
    /// SOAP 1.2 envelope.
    pub const SOAP12: &str = "http://www.w3.org/2003/05/soap-envelope";
    /// WS-Addressing 1.0.
    pub const WSA: &str = "http://www.w3.org/2005/08/addressing";
    /// The WS-Addressing Metadata namespace njiwa uses for the same headers.
    pub const WSA_NJIWA: &str = "http://www.w3.org/2007/05/addressing/metadata";
    /// WS-Security 1.0 `wsse`.
    pub const WSSE: &str =
        "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";
    /// WS-Security 1.0 utility `wsu`.
    pub const WSU: &str =
        "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd";
    /// XML-DSig.
    pub const DS: &str = "http://www.w3.org/2000/09/xmldsig#";
    /// XML Encryption (refused: see the crate documentation in `docs/ARCHITECTURE.md`).
    pub const XENC: &str = "http://www.w3.org/2001/04/xmlenc#";
    /// The `xml:` namespace.
    pub const XML: &str = "http://www.w3.org/XML/1998/namespace";
}
