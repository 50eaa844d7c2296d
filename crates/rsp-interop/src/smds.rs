//! A Root SM-DS for the discovery pairings: the production rsp-smds routers (ES11 for the LPA,
//! ES12 for the SM-DP+) on one rustls listener, a CERT.DSauth and a CERT.DS.TLS minted under the
//! SGP.26 NIST CI, the events in a SQLite store.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use rsp_crypto::ecc::{Curve, PrivateKey};
use rsp_crypto::pki;
use rsp_crypto::x509::{Certificate, Sgp22Role};
use rsp_sgp22::cma::CmaConfig;
use rsp_smds::es11::{DsAuth, Es11Config};
use rsp_smds::es11_service::{DsIdentity, Es11Service};
use rsp_smds::es12::{SmdsConfig, SmdsService};
use rsp_smds::event::{EventData, EventStore};
use rsp_types::Svn;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use time::{Duration, OffsetDateTime};

use crate::BoxError;
use rsp_lpa::harness::Fixtures;

/// The Root SM-DS address (what the card's rootDsAddress names and the eUICC signs).
pub const SMDS_ADDRESS: &str = "testrootsmds.example.com";
/// Its OID (as the SGP.26 Root SM-DS).
pub const SMDS_OID: &str = "2.999.15";

/// A running SM-DS.
pub struct Smds {
    /// Where it listens.
    pub socket: SocketAddr,
    /// Its version.
    pub svn: Svn,
    /// Its events.
    pub events: EventStore,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl std::fmt::Debug for Smds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Smds")
            .field("socket", &self.socket)
            .field("svn", &self.svn)
            .finish_non_exhaustive()
    }
}

fn ci(fx: &Fixtures) -> Result<(Certificate, PrivateKey), BoxError> {
    let cert = std::fs::read(fx.sgp26.join("CertificateIssuer/CERT_CI_ECDSA_NIST.der"))?;
    let key = std::fs::read_to_string(fx.sgp26.join("CertificateIssuer/SK_CI_ECDSA_NIST.pem"))?;
    Ok((Certificate::from_der(&cert)?, PrivateKey::from_pem(&key)?))
}

impl Smds {
    /// Starts an SM-DS of version `svn` with its store under `dir`.
    pub async fn start(fx: &Fixtures, svn: Svn, dir: &Path) -> Result<Smds, BoxError> {
        let now = OffsetDateTime::now_utc();
        let (ci, ci_key) = ci(fx)?;
        let (from, until) = (now - Duration::hours(1), now + Duration::days(30));
        let ds_key = PrivateKey::generate(Curve::NistP256)?;
        let ds_cert = pki::issue_sgp22_ds_auth_certificate(
            &ci,
            &ci_key,
            &ds_key,
            "rsp interop Root SM-DS",
            SMDS_OID,
            from,
            until,
        )?;
        let identity = DsIdentity::new(
            SMDS_ADDRESS,
            vec![(ci.clone(), DsAuth::new(ds_cert, ds_key)?)],
            now,
        )?;
        let tls_key = PrivateKey::generate(Curve::NistP256)?;
        let tls_cert = pki::issue_sgp22_tls_certificate(
            &ci,
            &ci_key,
            &tls_key,
            Sgp22Role::DsTls,
            SMDS_ADDRESS,
            &["localhost"],
            Some(SMDS_OID),
            from,
            until,
        )?;

        let store = rsp_store::open(&format!(
            "sqlite://{}",
            dir.join(format!("smds-{svn}.sqlite")).display()
        ))
        .await?;
        let events = EventStore::new(store);
        let mut es12_config = SmdsConfig::root("localhost", SMDS_OID);
        es12_config.admin_protocol.ours = svn;
        let es12 = SmdsService::new(events.clone(), es12_config);
        let es11 = Es11Service::new(
            events.clone(),
            Arc::new(identity),
            CmaConfig::new(svn),
            Es11Config::default(),
        );
        let router = rsp_smds::es12::router(Arc::new(es12))
            .merge(rsp_smds::es11_service::router(Arc::new(es11)));

        // ES12 needs the SM-DP+'s client certificate, ES11 has none (server-only TLS): one
        // listener whose verifier asks for a certificate and lets anonymous LPAs through; the
        // ES12 handlers refuse a call without one.
        let mut roots = rustls::RootCertStore::empty();
        roots.add(CertificateDer::from(ci.der().to_vec()))?;
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
            Arc::new(roots),
            provider.clone(),
        )
        .allow_unauthenticated()
        .build()?;
        let mut tls = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_client_cert_verifier(verifier)
            .with_single_cert(
                vec![CertificateDer::from(tls_cert.der().to_vec())],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(tls_key.to_pkcs8_der().to_vec())),
            )?;
        tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];

        let tcp = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let socket = tcp.local_addr()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(rsp_smds::server::serve(
            tcp,
            Arc::new(tls),
            router,
            async move {
                let _ = stopped.await;
            },
        ));
        Ok(Smds {
            socket,
            svn,
            events,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// The `smdsAddress` the SM-DP+ registers events at (its ES12 endpoint).
    pub fn es12_address(&self) -> String {
        format!("localhost:{}", self.socket.port())
    }

    /// The live events of `eid`.
    pub async fn events_of(&self, eid: &str) -> Result<Vec<EventData>, BoxError> {
        Ok(self.events.live_for_eid(eid).await?)
    }

    /// Stops the listener gracefully.
    pub async fn shutdown(mut self) -> Result<(), BoxError> {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            t.await??;
        }
        Ok(())
    }
}
