//! Who is calling: the TLS client certificate, mapped to a configured peer.
//!
//! Each peer (an EUM, an Operator, an M2M SP, an SM-DP, another SM-SR) is a configured entry: its role, its
//! SGP.02 EntityId (OID) and how to recognise its certificate. A certificate is recognised by its SHA-256
//! fingerprint when one is configured, otherwise by the EntityId it carries as a subjectAltName registeredID
//! (the chain itself was already verified against the client CA by the TLS layer). The role always comes
//! from the configuration, never from the certificate, so a certificate cannot promote itself.

use rsp_crypto::x509::Certificate;
use rsp_types::{EntityId, Identity, Role};

/// A configured peer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Peer {
    /// Readable name (logs, audit).
    pub name: String,
    /// Its role.
    pub role: Role,
    /// Its SGP.02 EntityId.
    pub entity_id: EntityId,
    /// SHA-256 fingerprint of its client certificate (hex), when pinned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_sha256: Option<String>,
    /// Where its own SOAP endpoints are (callbacks and notifications go there), e.g. `https://op.example/es4`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

impl Peer {
    /// The shared-vocabulary identity of this peer.
    pub fn identity(&self) -> Identity {
        Identity::new(self.role, Some(self.entity_id.clone()), self.name.clone())
    }
}

/// Why a certificate names no known peer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    /// No client certificate was presented.
    #[error("no client certificate")]
    NoCertificate,
    /// The certificate does not parse.
    #[error("client certificate unreadable: {0}")]
    Unreadable(String),
    /// The certificate matches no configured peer.
    #[error("client certificate (subject {subject}) matches no configured peer")]
    UnknownPeer {
        /// The certificate's subject, for logs.
        subject: String,
    },
}

/// The configured peers.
#[derive(Debug, Clone, Default)]
pub struct PeerDirectory {
    peers: Vec<Peer>,
}

impl PeerDirectory {
    /// A directory of `peers`.
    pub fn new(peers: Vec<Peer>) -> Self {
        Self { peers }
    }

    /// All peers.
    pub fn peers(&self) -> &[Peer] {
        &self.peers
    }

    /// The peer with this EntityId.
    pub fn by_entity(&self, entity: &EntityId) -> Option<&Peer> {
        self.peers.iter().find(|p| &p.entity_id == entity)
    }

    /// Maps a DER client certificate (the leaf) to its peer.
    pub fn identify(&self, leaf_der: Option<&[u8]>) -> Result<&Peer, IdentityError> {
        let der = leaf_der.ok_or(IdentityError::NoCertificate)?;
        let cert =
            Certificate::from_der(der).map_err(|e| IdentityError::Unreadable(e.to_string()))?;
        let fingerprint = hex_lower(&cert.fingerprint_sha256());
        if let Some(p) = self.peers.iter().find(|p| {
            p.cert_sha256
                .as_deref()
                .is_some_and(|f| f.eq_ignore_ascii_case(&fingerprint))
        }) {
            return Ok(p);
        }
        for oid in cert.registered_ids() {
            if let Ok(entity) = oid.parse::<EntityId>()
                && let Some(p) = self.by_entity(&entity)
                && p.cert_sha256.is_none()
            {
                return Ok(p);
            }
        }
        Err(IdentityError::UnknownPeer {
            subject: cert
                .subject()
                .attributes()
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(", "),
        })
    }
}

fn hex_lower(b: &[u8]) -> String {
    rsp_sgp02::common::hex_upper(b).to_ascii_lowercase()
}

impl PeerDirectory {
    /// The peers of a generated PKI: every mutual-TLS identity (`tls/…`) with its role and EntityId, and its
    /// endpoint taken from `endpoints` (name → base URL) when given.
    pub fn from_manifest(
        manifest: &rsp_crypto::pki::PkiManifest,
        endpoints: &[(&str, &str)],
    ) -> Self {
        use rsp_crypto::pki::{EntityRole, PkiPart};
        let peers = manifest
            .entities
            .iter()
            .filter(|e| e.pki == PkiPart::Tls)
            .filter_map(|e| {
                let role = match e.role {
                    EntityRole::Eum => Role::Eum,
                    EntityRole::Operator => Role::Operator,
                    EntityRole::M2mSp => Role::M2mSp,
                    EntityRole::SmDp => Role::SmDp,
                    EntityRole::SmSr => Role::SmSr,
                    EntityRole::SmDpPlus => Role::SmDpPlus,
                    _ => return None,
                };
                let entity_id = e.entity_oid.as_deref()?.parse().ok()?;
                let short = e.id.rsplit('/').next().unwrap_or(&e.id);
                let endpoint = endpoints
                    .iter()
                    .find(|(n, _)| *n == short)
                    .map(|(_, u)| (*u).to_string());
                Some(Peer {
                    name: short.to_string(),
                    role,
                    entity_id,
                    cert_sha256: None,
                    endpoint,
                })
            })
            .collect();
        Self::new(peers)
    }
}
