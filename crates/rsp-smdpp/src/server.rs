//! The SM-DP+ HTTPS listener: one rustls port (TLS 1.2 and 1.3, CERT.DP.TLS) serving ES9+
//! (JSON and ASN.1 bindings, server authentication only) and ES2+ (the Operator router of
//! [`crate::es2plus`]). A client certificate is optional; one that is presented must verify
//! against the configured Operator CA(s), and its DER leaf is handed to the handlers as
//! [`PeerCertificate`] (ES2+ identifies the Operator with it). The HandleDownloadProgressInfo
//! [`DeliveryWorker`] runs next to the listener; [`RunningServer::shutdown`] stops both
//! gracefully.
//!
//! [`SmdpConfig`] is the whole configuration as data (serde); [`SmdpConfig::build`] loads the
//! identity and opens the store, given the inventory and the Operator directory (owned by the
//! ES2+ side), and gives a [`SmdpServer`]: the [`ServerParts`] and the ES12 [`Es12Worker`] that
//! delivers SM-DS event registrations and deletions ([`crate::es12`]). [`SmdpServer::serve`]
//! runs both workers next to the listener.
//!
//! ES12 TLS client identity: `es12_client_certificate` / `es12_client_key` (PEM) when
//! configured, else CERT.DP.TLS; its SAN registeredID (else the SM-DP+'s OID) is the
//! `functionRequesterIdentifier`. SM-DS server certificates are trusted when they chain to one
//! of the SM-DP+'s CIs or to one of `smds_cas`.

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::{ConnectInfo, Request};
use axum::middleware::Next;
use axum::response::Response;
use rsp_sgp22::ServerRspCapability;
use rsp_types::{Oid, Svn};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::WebPkiClientVerifier;
use time::OffsetDateTime;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use crate::es2plus::{
    self, DeliveryWorker, Es2Plus, OperatorDirectory, PeerCertificate, ProgressNotifier,
};
use crate::es9plus::{self, Es9Config, Es9Service};
use crate::es12::{self, Es12Worker, EventRegistrar};
use crate::identity::{IdentityError, IdentityPaths, SmdpIdentity, TlsIdentity};
use crate::inventory::Inventory;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The identity could not be loaded.
    #[error(transparent)]
    Identity(#[from] IdentityError),
    /// The TLS configuration was refused.
    #[error("TLS: {0}")]
    Tls(String),
    /// A configuration value is wrong.
    #[error("configuration: {0}")]
    Config(String),
    /// The store could not be opened.
    #[error("store: {0}")]
    Store(String),
    /// Binding the port failed.
    #[error("listen: {0}")]
    Io(#[from] io::Error),
}

/// The whole SM-DP+ configuration.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SmdpConfig {
    /// Listen address (`0.0.0.0:443`, `127.0.0.1:0` in tests).
    pub listen: SocketAddr,
    /// Credentials and the SM-DP+ address (FQDN).
    pub identity: IdentityPaths,
    /// Server SGP.22 version, `X.Y.Z` (2.2.2, 2.5.0, 3.1.0 ...).
    pub svn: String,
    /// Lowest eUICC major version served, `X.Y.Z`.
    #[serde(default = "default_lowest")]
    pub lowest_svn: String,
    /// `serverRspCapability` bits (v3 servers only).
    #[serde(default)]
    pub server_rsp_capability: Vec<usize>,
    /// `supportedPushServices` OIDs.
    #[serde(default)]
    pub supported_push_services: Vec<Oid>,
    /// RSP session lifetime in seconds.
    #[serde(default = "default_ttl")]
    pub session_ttl_seconds: i64,
    /// Store URL (`sqlite://…`, `postgres://…`).
    pub store_url: String,
    /// PEM files of the CAs that issue Operator client certificates (empty = no client
    /// certificate is requested; ES2+ then refuses every caller).
    #[serde(default)]
    pub operator_cas: Vec<PathBuf>,
    /// Period of the HandleDownloadProgressInfo and ES12 delivery rounds, in milliseconds.
    #[serde(default = "default_delivery_period")]
    pub delivery_period_ms: u64,
    /// PEM chain of the ES12 client certificate (leaf first); `None` = CERT.DP.TLS.
    #[serde(default)]
    pub es12_client_certificate: Option<PathBuf>,
    /// PEM (PKCS#8) key of `es12_client_certificate`.
    #[serde(default)]
    pub es12_client_key: Option<PathBuf>,
    /// PEM files of CAs trusted for SM-DS server certificates, besides the SM-DP+'s CIs.
    #[serde(default)]
    pub smds_cas: Vec<PathBuf>,
    /// `forwardingIndicator` of ES12 RegisterEvent (default true: an Alternative SM-DS forwards
    /// the event to the Root SM-DS).
    #[serde(default = "default_true")]
    pub smds_forwarding_indicator: bool,
}

fn default_true() -> bool {
    true
}

fn default_lowest() -> String {
    "2.0.0".into()
}

fn default_ttl() -> i64 {
    1800
}

fn default_delivery_period() -> u64 {
    2000
}

/// A built SM-DP+: the listener's parts and the ES12 worker.
#[derive(Debug)]
pub struct SmdpServer {
    /// Listener, ES9+, ES2+ and the progress callback worker.
    pub parts: ServerParts,
    /// The ES12 delivery worker (SM-DS events).
    pub es12: Option<Es12Worker>,
}

impl SmdpServer {
    /// Binds and serves until [`RunningServer::shutdown`], with both workers.
    pub async fn serve(self) -> Result<RunningServer, ServerError> {
        serve_with(self.parts, self.es12).await
    }
}

/// Everything [`serve`] runs.
pub struct ServerParts {
    /// Listen address.
    pub listen: SocketAddr,
    /// ES9+.
    pub es9: Es9Service,
    /// ES2+, if served.
    pub es2: Option<Es2Plus>,
    /// The progress callback worker, if any.
    pub delivery: Option<DeliveryWorker>,
    /// Delivery round period.
    pub delivery_period: std::time::Duration,
    /// The TLS configuration.
    pub tls: Arc<rustls::ServerConfig>,
}

impl std::fmt::Debug for ServerParts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerParts")
            .field("listen", &self.listen)
            .field("es9", &self.es9)
            .field("es2", &self.es2.is_some())
            .finish_non_exhaustive()
    }
}

impl SmdpConfig {
    /// The ES9+ settings.
    pub fn es9_config(&self) -> Result<Es9Config, ServerError> {
        let svn = |s: &str| {
            s.parse::<Svn>()
                .map_err(|e| ServerError::Config(format!("SVN {s:?}: {e}")))
        };
        let mut cfg = Es9Config::new(svn(&self.svn)?);
        cfg.lowest_svn = svn(&self.lowest_svn)?;
        cfg.server_rsp_capability = ServerRspCapability::with_bits(&self.server_rsp_capability);
        cfg.supported_push_services = self.supported_push_services.clone();
        cfg.session_ttl = time::Duration::seconds(self.session_ttl_seconds.max(1));
        Ok(cfg)
    }

    /// Loads the identity, opens the store and assembles ES9+ and ES2+ (with progress
    /// callbacks, SM-DS events and their delivery workers) around `inventory` and `directory`.
    pub async fn build(
        &self,
        inventory: Inventory,
        directory: OperatorDirectory,
    ) -> Result<SmdpServer, ServerError> {
        let now = OffsetDateTime::now_utc();
        let identity = Arc::new(self.identity.load(now)?);
        let store = rsp_store::open(&self.store_url)
            .await
            .map_err(|e| ServerError::Store(e.to_string()))?;
        let cas = self
            .operator_cas
            .iter()
            .map(|p| {
                std::fs::read(p).map_err(|e| ServerError::Config(format!("{}: {e}", p.display())))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let tls = tls_config(&identity, &cas)?;
        let es9cfg = self.es9_config()?;
        let svn = es9cfg.svn;
        let inventory = Arc::new(inventory);
        let directory = Arc::new(directory);
        let notifier = ProgressNotifier {
            smdp_identifier: identity.address.clone(),
            directory: directory.clone(),
        };
        let (es12_client, requester) = self.es12_client(&identity)?;
        let mut registrar = EventRegistrar::new(requester, identity.address.clone());
        registrar.forwarding_indicator = self.smds_forwarding_indicator;
        let registrar = Arc::new(registrar);
        let es9 = Es9Service::new(es9cfg, identity.clone(), inventory.clone(), store.clone())
            .with_progress(Arc::new(notifier))
            .with_smds_events(registrar.clone());
        let mut es2 = Es2Plus::new(
            store.clone(),
            inventory,
            directory.clone(),
            identity.address.clone(),
        )
        .with_smds_events(registrar);
        es2.admin_protocol.ours = svn;
        let es12 = Es12Worker::new(
            store.clone(),
            es12_client,
            svn,
            format!("smdpp-{}", self.listen),
        );
        let delivery = DeliveryWorker::new(
            store,
            directory,
            reqwest::Client::new(),
            svn,
            format!("smdpp-{}", self.listen),
        );
        Ok(SmdpServer {
            parts: ServerParts {
                listen: self.listen,
                es9,
                es2: Some(es2),
                delivery: Some(delivery),
                delivery_period: std::time::Duration::from_millis(self.delivery_period_ms.max(10)),
                tls,
            },
            es12: Some(es12),
        })
    }

    /// The ES12 HTTP client (mutual TLS) and the `functionRequesterIdentifier` it goes with.
    fn es12_client(
        &self,
        identity: &SmdpIdentity,
    ) -> Result<(reqwest::Client, String), ServerError> {
        let tls_identity = match (&self.es12_client_certificate, &self.es12_client_key) {
            (Some(cert), Some(key)) => Some(TlsIdentity::load(cert, key)?),
            (None, None) => None,
            _ => {
                return Err(ServerError::Config(
                    "es12_client_certificate and es12_client_key go together".into(),
                ));
            }
        };
        let tls = tls_identity.as_ref().unwrap_or(&identity.tls);
        let requester = tls
            .chain
            .first()
            .and_then(|c| c.registered_ids().first().cloned())
            .unwrap_or_else(|| identity.oid.to_string());
        let mut roots: Vec<Vec<u8>> = identity
            .trust_anchors()
            .iter()
            .map(|c| c.der().to_vec())
            .collect();
        for p in &self.smds_cas {
            let bytes = std::fs::read(p)
                .map_err(|e| ServerError::Config(format!("{}: {e}", p.display())))?;
            let certs =
                rsp_crypto::x509::Certificate::all_from_pem(&String::from_utf8_lossy(&bytes))
                    .or_else(|_| rsp_crypto::x509::Certificate::from_der(&bytes).map(|c| vec![c]))
                    .map_err(|e| ServerError::Config(format!("{}: {e}", p.display())))?;
            roots.extend(certs.iter().map(|c| c.der().to_vec()));
        }
        let chain = tls.chain.iter().map(|c| c.der().to_vec()).collect();
        let config = es12::tls_client_config(chain, tls.key().to_pkcs8_der().to_vec(), &roots)
            .map_err(ServerError::Tls)?;
        let client = es12::http_client(config).map_err(ServerError::Tls)?;
        Ok((client, requester))
    }
}

/// The rustls configuration: TLS 1.3 and 1.2, CERT.DP.TLS chain, and, when `operator_cas`
/// (PEM or DER) are given, an optional client certificate that must chain to one of them.
pub fn tls_config(
    identity: &SmdpIdentity,
    operator_cas: &[Vec<u8>],
) -> Result<Arc<rustls::ServerConfig>, ServerError> {
    let tls_err = |e: String| ServerError::Tls(e);
    let chain: Vec<CertificateDer<'static>> = identity
        .tls
        .chain
        .iter()
        .map(|c| CertificateDer::from(c.der().to_vec()))
        .collect();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        identity.tls.key().to_pkcs8_der().to_vec(),
    ));
    let provider = rustls::crypto::CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()));
    let builder = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| tls_err(e.to_string()))?;
    let builder = if operator_cas.is_empty() {
        builder.with_no_client_auth()
    } else {
        let mut roots = rustls::RootCertStore::empty();
        for bytes in operator_cas {
            let certs =
                rsp_crypto::x509::Certificate::all_from_pem(&String::from_utf8_lossy(bytes))
                    .or_else(|_| rsp_crypto::x509::Certificate::from_der(bytes).map(|c| vec![c]))
                    .map_err(|e| tls_err(format!("Operator CA: {e}")))?;
            for c in certs {
                roots
                    .add(CertificateDer::from(c.der().to_vec()))
                    .map_err(|e| tls_err(e.to_string()))?;
            }
        }
        let verifier = WebPkiClientVerifier::builder(Arc::new(roots))
            .allow_unauthenticated()
            .build()
            .map_err(|e| tls_err(e.to_string()))?;
        builder.with_client_cert_verifier(verifier)
    };
    let mut cfg = builder
        .with_single_cert(chain, key)
        .map_err(|e| tls_err(e.to_string()))?;
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(cfg))
}

/// The TLS peer of a connection.
#[derive(Debug, Clone)]
pub struct TlsPeer {
    /// Remote address.
    pub addr: SocketAddr,
    /// The verified client certificate (DER leaf), if one was presented.
    pub certificate: Option<Arc<Vec<u8>>>,
}

/// Accepts TCP, completes TLS handshakes off the accept path (10 s limit) and yields streams.
struct TlsListener {
    local: SocketAddr,
    rx: mpsc::Receiver<(TlsStream<tokio::net::TcpStream>, TlsPeer)>,
    accept_task: JoinHandle<()>,
}

impl TlsListener {
    fn new(tcp: TcpListener, config: Arc<rustls::ServerConfig>) -> io::Result<TlsListener> {
        let local = tcp.local_addr()?;
        let acceptor = TlsAcceptor::from(config);
        let (tx, rx) = mpsc::channel(256);
        let accept_task = tokio::spawn(async move {
            loop {
                let (stream, addr) = match tcp.accept().await {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        continue;
                    }
                };
                if tx.is_closed() {
                    break;
                }
                let acceptor = acceptor.clone();
                let tx = tx.clone();
                tokio::spawn(async move {
                    let handshake = tokio::time::timeout(
                        std::time::Duration::from_secs(10),
                        acceptor.accept(stream),
                    )
                    .await;
                    match handshake {
                        Ok(Ok(tls)) => {
                            let certificate = tls
                                .get_ref()
                                .1
                                .peer_certificates()
                                .and_then(|c| c.first())
                                .map(|c| Arc::new(c.as_ref().to_vec()));
                            let _ = tx.send((tls, TlsPeer { addr, certificate })).await;
                        }
                        Ok(Err(e)) => tracing::debug!(%addr, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%addr, "TLS handshake timed out"),
                    }
                });
            }
        });
        Ok(TlsListener {
            local,
            rx,
            accept_task,
        })
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.accept_task.abort();
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<tokio::net::TcpStream>;
    type Addr = TlsPeer;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.rx.recv().await {
            Some(x) => x,
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(TlsPeer {
            addr: self.local,
            certificate: None,
        })
    }
}

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, TlsListener>>
    for TlsPeer
{
    fn connect_info(stream: axum::serve::IncomingStream<'_, TlsListener>) -> Self {
        stream.remote_addr().clone()
    }
}

/// Hands the verified client certificate to the handlers as [`PeerCertificate`].
async fn peer_certificate(
    ConnectInfo(peer): ConnectInfo<TlsPeer>,
    mut req: Request,
    next: Next,
) -> Response {
    if let Some(cert) = &peer.certificate {
        req.extensions_mut()
            .insert(PeerCertificate(cert.as_ref().clone()));
    }
    next.run(req).await
}

/// The router of one SM-DP+ port: ES9+ (both bindings) and, if given, ES2+.
pub fn router(es9: Es9Service, es2: Option<Es2Plus>) -> Router {
    let mut r = es9plus::router(es9);
    if let Some(es2) = es2 {
        r = r.merge(es2plus::router(es2));
    }
    r.layer(axum::middleware::from_fn(peer_certificate))
}

/// A started server.
#[derive(Debug)]
pub struct RunningServer {
    /// The bound address (the port when `:0` was asked).
    pub local_addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    serve: JoinHandle<io::Result<()>>,
    worker: Option<JoinHandle<()>>,
    worker_stop: Option<oneshot::Sender<()>>,
    es12: Option<JoinHandle<()>>,
    es12_stop: Option<oneshot::Sender<()>>,
}

impl RunningServer {
    /// Stops accepting, lets in-flight requests finish, stops the delivery workers.
    pub async fn shutdown(mut self) -> io::Result<()> {
        if let Some(tx) = self.worker_stop.take() {
            let _ = tx.send(());
        }
        if let Some(tx) = self.es12_stop.take() {
            let _ = tx.send(());
        }
        if let Some(w) = self.es12.take() {
            let _ = w.await;
        }
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(w) = self.worker.take() {
            let _ = w.await;
        }
        match (&mut self.serve).await {
            Ok(r) => r,
            Err(e) => Err(io::Error::other(e)),
        }
    }
}

/// Binds `parts.listen` and serves until [`RunningServer::shutdown`] (no ES12 worker: see
/// [`serve_with`]).
pub async fn serve(parts: ServerParts) -> Result<RunningServer, ServerError> {
    serve_with(parts, None).await
}

/// Like [`serve`], also running the ES12 worker `es12` (same period as the progress worker).
pub async fn serve_with(
    parts: ServerParts,
    es12: Option<Es12Worker>,
) -> Result<RunningServer, ServerError> {
    let tcp = TcpListener::bind(parts.listen).await?;
    let listener = TlsListener::new(tcp, parts.tls.clone())?;
    let local_addr = listener.local;
    let app = router(parts.es9, parts.es2);
    let (stop, stopped) = oneshot::channel::<()>();
    let serve = tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<TlsPeer>(),
        )
        .with_graceful_shutdown(async {
            let _ = stopped.await;
        })
        .await
    });
    let (worker, worker_stop) = match parts.delivery {
        Some(w) => {
            let (tx, rx) = oneshot::channel::<()>();
            let period = parts.delivery_period;
            let handle = tokio::spawn(w.run(period, async {
                let _ = rx.await;
            }));
            (Some(handle), Some(tx))
        }
        None => (None, None),
    };
    let (es12, es12_stop) = match es12 {
        Some(w) => {
            let (tx, rx) = oneshot::channel::<()>();
            let handle = tokio::spawn(w.run(parts.delivery_period, async {
                let _ = rx.await;
            }));
            (Some(handle), Some(tx))
        }
        None => (None, None),
    };
    tracing::info!(%local_addr, "SM-DP+ listening");
    Ok(RunningServer {
        local_addr,
        stop: Some(stop),
        serve,
        worker,
        worker_stop,
        es12,
        es12_stop,
    })
}
