//! Shared test material: the SGP.26 test CI (NIST), certificates minted under it, stores,
//! request builders.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use rsp_crypto::ecc::{Curve, PrivateKey};
use rsp_crypto::pki;
use rsp_crypto::x509::{Certificate, Sgp22Role};
use rsp_sgp22::json::RequestHeader;
use rsp_sgp22::json_smds::{DeleteEventRequest, RegisterEventRequest};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use time::{Duration, OffsetDateTime};

pub const CI_CERT: &[u8] = include_bytes!("../fixtures/sgp26/CERT_CI_ECDSA_NIST.der");
pub const CI_KEY: &str = include_str!("../fixtures/sgp26/SK_CI_ECDSA_NIST.pem");

/// The SM-DP+'s OID (as SGP.26), the Root SM-DS's (as SGP.26), an Alternative SM-DS's, a
/// second SM-DP+'s.
pub const DP_OID: &str = "2.999.10";
pub const DP2_OID: &str = "2.999.11";
pub const ROOT_OID: &str = "2.999.15";
pub const ALT_OID: &str = "2.999.16";

pub const EID1: &str = "89049032123451234512345678901235";
pub const EID2: &str = "89049032123451234512345678901299";

pub fn ci() -> (Certificate, PrivateKey) {
    (
        Certificate::from_der(CI_CERT).unwrap(),
        PrivateKey::from_pem(CI_KEY).unwrap(),
    )
}

pub fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// A TLS identity (serverAuth + clientAuth) with entity OID `oid`, minted under the CI.
pub struct Identity {
    pub cert: Certificate,
    pub key: PrivateKey,
}

impl Identity {
    pub fn mint(role: Sgp22Role, fqdn: &str, oid: &str) -> Identity {
        let (ci, ci_key) = ci();
        let key = PrivateKey::generate(Curve::NistP256).unwrap();
        let t = now();
        let cert = pki::issue_sgp22_tls_certificate(
            &ci,
            &ci_key,
            &key,
            role,
            fqdn,
            &["localhost"],
            Some(oid),
            t - Duration::hours(1),
            t + Duration::days(30),
        )
        .unwrap();
        Identity { cert, key }
    }

    pub fn chain(&self) -> Vec<CertificateDer<'static>> {
        vec![CertificateDer::from(self.cert.der().to_vec())]
    }

    pub fn key_der(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key.to_pkcs8_der().to_vec()))
    }

    /// A server configuration requiring a client certificate under the CI.
    pub fn server_config(&self) -> Arc<rustls::ServerConfig> {
        let verifier = rustls::server::WebPkiClientVerifier::builder(Arc::new(roots()))
            .build()
            .unwrap();
        let mut cfg = rustls::ServerConfig::builder()
            .with_client_cert_verifier(verifier)
            .with_single_cert(self.chain(), self.key_der())
            .unwrap();
        cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Arc::new(cfg)
    }

    /// An HTTP client presenting this identity and trusting the CI.
    pub fn http_client(&self) -> reqwest::Client {
        let tls = rustls::ClientConfig::builder()
            .with_root_certificates(roots())
            .with_client_auth_cert(self.chain(), self.key_der())
            .unwrap();
        rsp_smds::client::http_client(tls).unwrap()
    }
}

pub fn roots() -> rustls::RootCertStore {
    let mut store = rustls::RootCertStore::empty();
    store.add(CertificateDer::from(CI_CERT.to_vec())).unwrap();
    store
}

pub async fn sqlite(dir: &tempfile::TempDir, name: &str) -> Arc<dyn rsp_store::Store> {
    let url = format!("sqlite://{}?mode=rwc", dir.path().join(name).display());
    rsp_store::open(&url).await.unwrap()
}

pub fn header(requester: &str, call: &str) -> Option<RequestHeader> {
    Some(RequestHeader {
        function_requester_identifier: requester.into(),
        function_call_identifier: call.into(),
    })
}

pub fn register(
    requester: &str,
    eid: &str,
    address: &str,
    event_id: &str,
    fwd: bool,
) -> RegisterEventRequest {
    RegisterEventRequest {
        header: header(requester, &format!("reg-{event_id}")),
        eid: Some(eid.into()),
        rsp_server_address: Some(address.into()),
        event_id: Some(event_id.into()),
        forwarding_indicator: Some(fwd),
    }
}

pub fn delete(requester: &str, eid: &str, event_id: &str) -> DeleteEventRequest {
    DeleteEventRequest {
        header: header(requester, &format!("del-{event_id}")),
        eid: Some(eid.into()),
        event_id: Some(event_id.into()),
    }
}
