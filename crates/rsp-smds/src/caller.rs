//! Who calls ES12 / ES15: the mutual-TLS client certificate.
//!
//! The listener ([`crate::server::serve`], on `rsp_soap::http::TlsListener`) exposes the verified
//! client chain as `ConnectInfo<TlsPeer>`; tests and other front ends may insert a
//! [`PeerCertificate`] into the request extensions instead. The caller's identity is the first
//! SAN registeredID (the entity OID SGP.22 names SM-DP+s and SM-DSs by), else `sha256:<hex>` of
//! the certificate. [`CallerPolicy`] decides who may call which interface.

use std::collections::BTreeSet;

use axum::extract::ConnectInfo;
use axum::http::Extensions;
use rsp_soap::http::TlsPeer;

/// The TLS client's DER leaf certificate (request extension).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerCertificate(pub Vec<u8>);

/// The client leaf certificate of a request, from a [`PeerCertificate`] extension or the TLS
/// listener's `ConnectInfo<TlsPeer>`.
pub fn peer_certificate(ext: &Extensions) -> Option<Vec<u8>> {
    if let Some(p) = ext.get::<PeerCertificate>() {
        return Some(p.0.clone());
    }
    ext.get::<ConnectInfo<TlsPeer>>()
        .and_then(|ConnectInfo(peer)| peer.leaf().map(<[u8]>::to_vec))
}

/// The identity of a caller certificate.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CallerIdentity(pub String);

impl CallerIdentity {
    /// The first SAN registeredID of `cert` (DER), else `sha256:<hex>`; `None` when `cert` is not
    /// an X.509 certificate.
    pub fn of_certificate(cert: &[u8]) -> Option<CallerIdentity> {
        let parsed = rsp_crypto::x509::Certificate::from_der(cert).ok()?;
        Some(CallerIdentity(match parsed.registered_ids().first() {
            Some(oid) => oid.clone(),
            None => format!("sha256:{}", hex::encode(parsed.fingerprint_sha256())),
        }))
    }

    /// The identity text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Which callers may use ES12 and ES15.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallerPolicy {
    /// ES12 callers (SM-DP+ identities); `None` = any certificate the TLS layer accepted.
    pub es12: Option<BTreeSet<String>>,
    /// ES15 callers (Alternative SM-DS identities); `None` = any certificate the TLS layer accepted.
    pub es15: Option<BTreeSet<String>>,
}

impl CallerPolicy {
    /// Everyone the TLS layer accepts, on both interfaces.
    pub fn open() -> CallerPolicy {
        CallerPolicy::default()
    }

    /// Whether `who` may call the interface.
    pub fn allows(&self, interface: crate::es12::Interface, who: &CallerIdentity) -> bool {
        let list = match interface {
            crate::es12::Interface::Es12 => &self.es12,
            crate::es12::Interface::Es15 => &self.es15,
        };
        list.as_ref().is_none_or(|l| l.contains(who.as_str()))
    }
}
