//! HTTP edge: the axum router, a mutual-TLS listener that hands the client certificate to the handlers, and the
//! rustls configurations built once from PEM files.

use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path as UrlPath, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use rsp_sgp02::Interface;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use time::OffsetDateTime;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use crate::envelope::{Fault, FaultSubcode};
use crate::service::SoapService;

/// Largest accepted request body (bytes); larger ones get HTTP 413.
pub const DEFAULT_MAX_BODY: usize = 2 * 1024 * 1024;

/// `application/soap+xml` with charset.
pub const SOAP_CONTENT_TYPE: &str = "application/soap+xml; charset=utf-8";

/// Errors building TLS configurations.
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    /// A PEM file could not be read or holds nothing usable.
    #[error("{path}: {message}")]
    Pem {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// rustls refused the configuration.
    #[error("TLS configuration: {0}")]
    Rustls(String),
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsSetupError> {
    let err = |m: String| TlsSetupError::Pem {
        path: path.display().to_string(),
        message: m,
    };
    let certs: Vec<_> = CertificateDer::pem_file_iter(path)
        .map_err(|e| err(e.to_string()))?
        .collect::<Result<_, _>>()
        .map_err(|e| err(e.to_string()))?;
    if certs.is_empty() {
        return Err(err("no certificate".into()));
    }
    Ok(certs)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsSetupError> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| TlsSetupError::Pem {
        path: path.display().to_string(),
        message: e.to_string(),
    })
}

fn roots(ca_files: &[&Path]) -> Result<rustls::RootCertStore, TlsSetupError> {
    let mut store = rustls::RootCertStore::empty();
    for f in ca_files {
        for c in read_certs(f)? {
            store
                .add(c)
                .map_err(|e| TlsSetupError::Rustls(e.to_string()))?;
        }
    }
    Ok(store)
}

/// A server configuration that requires a client certificate issued by one of `client_ca_files`.
pub fn server_tls_config(
    cert_chain: &Path,
    key: &Path,
    client_ca_files: &[&Path],
) -> Result<Arc<rustls::ServerConfig>, TlsSetupError> {
    let verifier = WebPkiClientVerifier::builder(Arc::new(roots(client_ca_files)?))
        .build()
        .map_err(|e| TlsSetupError::Rustls(e.to_string()))?;
    let mut cfg = rustls::ServerConfig::builder()
        .with_client_cert_verifier(verifier)
        .with_single_cert(read_certs(cert_chain)?, read_key(key)?)
        .map_err(|e| TlsSetupError::Rustls(e.to_string()))?;
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(cfg))
}

/// A client configuration presenting `cert_chain`/`key` and trusting servers issued by `server_ca_files`.
pub fn client_tls_config(
    cert_chain: &Path,
    key: &Path,
    server_ca_files: &[&Path],
) -> Result<rustls::ClientConfig, TlsSetupError> {
    rustls::ClientConfig::builder()
        .with_root_certificates(roots(server_ca_files)?)
        .with_client_auth_cert(read_certs(cert_chain)?, read_key(key)?)
        .map_err(|e| TlsSetupError::Rustls(e.to_string()))
}

/// The TLS peer of a connection: its address and its certificate chain (leaf first).
#[derive(Debug, Clone)]
pub struct TlsPeer {
    /// Remote address.
    pub addr: SocketAddr,
    /// Client certificate chain as presented (verified by the TLS layer).
    pub certs: Arc<Vec<CertificateDer<'static>>>,
}

impl TlsPeer {
    /// The leaf certificate (DER).
    pub fn leaf(&self) -> Option<&[u8]> {
        self.certs.first().map(AsRef::as_ref)
    }
}

/// A listener that completes TLS handshakes off the accept path and yields streams with their peer.
pub struct TlsListener {
    local: SocketAddr,
    rx: mpsc::Receiver<(TlsStream<tokio::net::TcpStream>, TlsPeer)>,
}

impl TlsListener {
    /// Starts accepting on `tcp` with `config`.
    pub fn new(tcp: TcpListener, config: Arc<rustls::ServerConfig>) -> io::Result<Self> {
        let local = tcp.local_addr()?;
        let acceptor = TlsAcceptor::from(config);
        let (tx, rx) = mpsc::channel(256);
        tokio::spawn(async move {
            loop {
                let (stream, addr) = match tcp.accept().await {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let acceptor = acceptor.clone();
                let handshake_tx = tx.clone();
                tokio::spawn(async move {
                    let handshake = tokio::time::timeout(
                        std::time::Duration::from_secs(10),
                        acceptor.accept(stream),
                    )
                    .await;
                    match handshake {
                        Ok(Ok(tls)) => {
                            let certs = tls
                                .get_ref()
                                .1
                                .peer_certificates()
                                .map(|c| c.iter().map(|c| c.clone().into_owned()).collect())
                                .unwrap_or_default();
                            let _ = handshake_tx
                                .send((
                                    tls,
                                    TlsPeer {
                                        addr,
                                        certs: Arc::new(certs),
                                    },
                                ))
                                .await;
                        }
                        Ok(Err(e)) => tracing::debug!(%addr, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%addr, "TLS handshake timed out"),
                    }
                });
                if tx.is_closed() {
                    break;
                }
            }
        });
        Ok(Self { local, rx })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<tokio::net::TcpStream>;
    type Addr = TlsPeer;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.rx.recv().await {
            Some(x) => x,
            // The accept task only ends when this listener is dropped.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(TlsPeer {
            addr: self.local,
            certs: Arc::new(Vec::new()),
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

/// Produces the WSDL of an interface for `GET /<interface>?wsdl` (given the public endpoint URL).
pub type WsdlSource = Arc<dyn Fn(Interface, &str) -> Option<String> + Send + Sync>;

#[derive(Clone)]
struct AppState {
    service: Arc<SoapService>,
    wsdl: Option<WsdlSource>,
    public_base: String,
}

/// The router: `POST /<interface>` and `POST /<interface>/<function>`, `GET /<interface>?wsdl`.
pub fn router(
    service: Arc<SoapService>,
    wsdl: Option<WsdlSource>,
    public_base: &str,
    max_body: usize,
) -> Router {
    let state = AppState {
        service,
        wsdl,
        public_base: public_base.trim_end_matches('/').to_string(),
    };
    Router::new()
        .route("/{iface}", post(post_interface).get(get_wsdl))
        .route("/{iface}/{function}", post(post_function))
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(state)
}

async fn post_interface(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<TlsPeer>,
    UrlPath(iface): UrlPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle_post(state, peer, &iface, None, headers, body).await
}

async fn post_function(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<TlsPeer>,
    UrlPath((iface, function)): UrlPath<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle_post(state, peer, &iface, Some(function), headers, body).await
}

async fn handle_post(
    state: AppState,
    peer: TlsPeer,
    iface: &str,
    function: Option<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(interface) = Interface::from_name(iface) else {
        return fault_response(&Fault::sender(
            FaultSubcode::UnknownFunction,
            format!("no interface {iface}"),
        ));
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    // Lenient: SOAP 1.2 says application/soap+xml; accept text/xml and application/xml too.
    if !content_type.is_empty()
        && !["application/soap+xml", "text/xml", "application/xml"]
            .iter()
            .any(|t| content_type.contains(t))
    {
        return (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "use application/soap+xml",
        )
            .into_response();
    }
    let reply = state
        .service
        .handle(
            Some(interface),
            peer.leaf(),
            &body,
            OffsetDateTime::now_utc(),
        )
        .await;
    if let Some(f) = function {
        tracing::trace!(function = %f, "function path form");
    }
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if reply.body.is_empty() {
        return status.into_response();
    }
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(SOAP_CONTENT_TYPE),
        )],
        reply.body,
    )
        .into_response()
}

async fn get_wsdl(
    State(state): State<AppState>,
    UrlPath(iface): UrlPath<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let wants_wsdl = q.as_deref().is_some_and(|q| {
        q.eq_ignore_ascii_case("wsdl") || q.to_ascii_lowercase().starts_with("wsdl")
    });
    let (Some(interface), true, Some(source)) = (
        Interface::from_name(&iface),
        wants_wsdl,
        state.wsdl.as_ref(),
    ) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if !state.service.config().interfaces.contains(&interface) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let endpoint = format!("{}/{}", state.public_base, interface.path());
    match source(interface, &endpoint) {
        Some(w) => ([(header::CONTENT_TYPE, "text/xml; charset=utf-8")], w).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

fn fault_response(f: &Fault) -> Response {
    let status = StatusCode::from_u16(f.code.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(SOAP_CONTENT_TYPE),
        )],
        f.to_envelope_xml(None),
    )
        .into_response()
}

/// Serves `router` over mutual TLS on `tcp` until `shutdown` resolves.
pub async fn serve_tls(
    tcp: TcpListener,
    config: Arc<rustls::ServerConfig>,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let listener = TlsListener::new(tcp, config)?;
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<TlsPeer>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
