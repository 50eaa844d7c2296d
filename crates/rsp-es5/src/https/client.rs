//! The card's side of the SCP81 link: opens PSK-TLS to the SM-SR and runs the admin session loop
//! against a [`CardEndpoint`] (the simulated eUICC implements it).
//!
//! Loop: POST (first with no body) → `200` + script → the card executes it → POST the response script
//! to `X-Admin-Next-URI` with `X-Admin-Script-Status` → … → `204` without `X-Admin-Next-URI` ends
//! the session (`204` with one: POST again, with no body, to that URI).

use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use openssl::ssl::{Ssl, SslContext};
use rsp_types::Aid;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpStream, ToSocketAddrs};
use tokio_openssl::SslStream;

use super::body::ChunkedBody;
use super::identity::{AdminFrom, HeaderValueError, Psk, PskIdentity, parse_aid_uri};
use super::tls::{PskCipherSuite, TlsSetupError, client_context};
use super::{
    ADMIN_PROTOCOL, CONTENT_TYPE_RESPONSE, DEFAULT_ADMIN_PATH, DEFAULT_NOTIFY_PATH,
    HEADER_ADMIN_FROM, HEADER_ADMIN_PROTOCOL, HEADER_NEXT_URI, HEADER_SCRIPT_STATUS,
    HEADER_TARGETED_APPLICATION,
};
use crate::queue::ScriptStatus;

/// The card as the admin session sees it: scripts in, response scripts out.
pub trait CardEndpoint {
    /// Executes a command script (expanded format) on `target` (`None`: the ISD-R, the security
    /// domain that runs the session; `Some`: the ISD-P named by `X-Admin-Targeted-Application`) and
    /// returns the response script.
    fn process_script(&mut self, target: Option<Aid>, script: &[u8]) -> Vec<u8>;

    /// Like [`CardEndpoint::process_script`], with the `X-Admin-Script-Status` to report. The
    /// default reports `ok`; a card that can tell "unknown-application" and the like overrides it.
    fn process_script_with_status(
        &mut self,
        target: Option<Aid>,
        script: &[u8],
    ) -> (ScriptStatus, Vec<u8>) {
        (ScriptStatus::Ok, self.process_script(target, script))
    }
}

/// Settings of a card's HTTPS admin agent.
#[derive(Clone, Debug)]
pub struct CardClientConfig {
    /// The PSK identity (EID, ISD-R AID, key id and version of the SCP81 key set).
    pub identity: PskIdentity,
    /// The SCP81 key.
    pub psk: Psk,
    /// Cipher suites offered, in order of preference.
    pub suites: Vec<PskCipherSuite>,
    /// Path of the first POST.
    pub admin_path: String,
    /// Path of a POST that carries a Default Notification (`?msg=<hex>` is appended).
    pub notify_path: String,
    /// `Host` header value.
    pub host: String,
    /// Limit for the handshake and for each exchange.
    pub exchange_timeout: Duration,
    /// Most POSTs in one session (guards against a server that never ends it).
    pub max_exchanges: u32,
    /// Largest script accepted.
    pub max_script: usize,
}

impl CardClientConfig {
    /// Defaults: both suites, `/es5/ram`, `/es5/notify`, host `smsr`, 30 s per exchange,
    /// 10 000 exchanges, 1 MiB scripts.
    pub fn new(identity: PskIdentity, psk: Psk) -> CardClientConfig {
        CardClientConfig {
            identity,
            psk,
            suites: PskCipherSuite::ALL.to_vec(),
            admin_path: DEFAULT_ADMIN_PATH.to_owned(),
            notify_path: DEFAULT_NOTIFY_PATH.to_owned(),
            host: "smsr".to_owned(),
            exchange_timeout: Duration::from_secs(30),
            max_exchanges: 10_000,
            max_script: 1 << 20,
        }
    }
}

/// What happened in one admin session, seen from the card.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct AdminSessionReport {
    /// The negotiated cipher suite.
    pub cipher: Option<PskCipherSuite>,
    /// Scripts received and executed.
    pub scripts: u32,
    /// POSTs sent.
    pub exchanges: u32,
}

/// Why a card's admin session failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The TLS context could not be built.
    #[error(transparent)]
    Setup(#[from] TlsSetupError),
    /// OpenSSL could not create the connection.
    #[error("OpenSSL: {0}")]
    OpenSsl(#[from] openssl::error::ErrorStack),
    /// The TCP connection failed.
    #[error("cannot connect to the SM-SR: {0}")]
    Connect(std::io::Error),
    /// The TLS handshake failed (refused identity or key, no common suite...).
    #[error("PSK-TLS handshake failed: {0}")]
    Handshake(String),
    /// The handshake or an exchange took too long.
    #[error("SM-SR did not answer in time")]
    Timeout,
    /// HTTP failed.
    #[error("HTTP: {0}")]
    Http(#[from] hyper::Error),
    /// The SM-SR answered with a status other than 200 or 204.
    #[error("SM-SR answered HTTP {0}")]
    UnexpectedStatus(u16),
    /// A `200` without `X-Admin-Next-URI`.
    #[error("SM-SR sent a script without X-Admin-Next-URI")]
    MissingNextUri,
    /// An unusable `X-Admin-Next-URI`.
    #[error("SM-SR sent an unusable X-Admin-Next-URI {0:?}")]
    BadNextUri(String),
    /// An unusable `X-Admin-Targeted-Application`.
    #[error("bad X-Admin-Targeted-Application: {0}")]
    BadTargetedApplication(#[from] HeaderValueError),
    /// The script body could not be read (too long, or the connection broke).
    #[error("cannot read the script: {0}")]
    Body(String),
    /// A header value this agent would send is not valid HTTP.
    #[error("invalid header value {0:?}")]
    InvalidHeader(String),
    /// [`CardClientConfig::max_exchanges`] was reached.
    #[error("admin session exceeded {0} exchanges")]
    TooManyExchanges(u32),
}

/// A card's HTTPS admin agent.
#[derive(Clone)]
pub struct CardClient {
    config: CardClientConfig,
    context: SslContext,
    admin_from: HeaderValue,
}

impl std::fmt::Debug for CardClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CardClient")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl CardClient {
    /// Builds the agent (and its TLS context) from its settings.
    pub fn new(config: CardClientConfig) -> Result<CardClient, ClientError> {
        let context = client_context(&config.suites, &config.identity, &config.psk)?;
        let from = AdminFrom::header_value(&config.identity.eid, &config.identity.isd_r_aid);
        let admin_from =
            HeaderValue::from_str(&from).map_err(|_| ClientError::InvalidHeader(from.clone()))?;
        Ok(CardClient {
            config,
            context,
            admin_from,
        })
    }

    /// The settings.
    pub fn config(&self) -> &CardClientConfig {
        &self.config
    }

    /// Connects to the SM-SR and runs one admin session.
    pub async fn connect<A, C>(
        &self,
        addr: A,
        card: &mut C,
    ) -> Result<AdminSessionReport, ClientError>
    where
        A: ToSocketAddrs,
        C: CardEndpoint + ?Sized,
    {
        let stream = self.tcp(addr).await?;
        self.run(stream, None, card).await
    }

    /// Connects and runs one admin session whose first POST carries a Default Notification.
    pub async fn connect_with_notification<A, C>(
        &self,
        addr: A,
        notification: &[u8],
        card: &mut C,
    ) -> Result<AdminSessionReport, ClientError>
    where
        A: ToSocketAddrs,
        C: CardEndpoint + ?Sized,
    {
        let stream = self.tcp(addr).await?;
        self.run(stream, Some(notification), card).await
    }

    async fn tcp<A: ToSocketAddrs>(&self, addr: A) -> Result<TcpStream, ClientError> {
        match tokio::time::timeout(self.config.exchange_timeout, TcpStream::connect(addr)).await {
            Err(_) => Err(ClientError::Timeout),
            Ok(Err(error)) => Err(ClientError::Connect(error)),
            Ok(Ok(stream)) => {
                // Small request/response exchanges: do not wait to fill segments.
                let _ = stream.set_nodelay(true);
                Ok(stream)
            }
        }
    }

    /// Runs one admin session over an established byte stream.
    pub async fn run<S, C>(
        &self,
        stream: S,
        notification: Option<&[u8]>,
        card: &mut C,
    ) -> Result<AdminSessionReport, ClientError>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send,
        C: CardEndpoint + ?Sized,
    {
        let ssl = Ssl::new(&self.context)?;
        let mut tls = SslStream::new(ssl, stream)?;
        match tokio::time::timeout(self.config.exchange_timeout, Pin::new(&mut tls).connect()).await
        {
            Err(_) => return Err(ClientError::Timeout),
            Ok(Err(error)) => return Err(ClientError::Handshake(error.to_string())),
            Ok(Ok(())) => {}
        }
        let cipher = tls
            .ssl()
            .current_cipher()
            .and_then(|c| PskCipherSuite::from_name(c.name()));
        let (sender, connection) =
            hyper::client::conn::http1::handshake::<_, ChunkedBody>(TokioIo::new(tls)).await?;
        let first_uri = match notification {
            Some(n) => format!("{}?msg={}", self.config.notify_path, hex::encode_upper(n)),
            None => self.config.admin_path.clone(),
        };
        let session = self.session_loop(sender, first_uri, card);
        // The connection runs until the loop drops its sender; it then closes with close_notify.
        let (result, connection_result) = tokio::join!(session, connection);
        if let Err(error) = connection_result {
            tracing::debug!(%error, "ES5 admin connection ended with an error");
        }
        let (scripts, exchanges) = result?;
        Ok(AdminSessionReport {
            cipher,
            scripts,
            exchanges,
        })
    }

    async fn session_loop<C: CardEndpoint + ?Sized>(
        &self,
        mut sender: hyper::client::conn::http1::SendRequest<ChunkedBody>,
        first_uri: String,
        card: &mut C,
    ) -> Result<(u32, u32), ClientError> {
        let mut uri = first_uri;
        let mut carry: Option<(ScriptStatus, Vec<u8>)> = None;
        let (mut scripts, mut exchanges) = (0u32, 0u32);
        loop {
            if exchanges >= self.config.max_exchanges {
                return Err(ClientError::TooManyExchanges(exchanges));
            }
            exchanges += 1;
            let request = self.request(&uri, carry.take())?;
            let response = tokio::time::timeout(self.config.exchange_timeout, async {
                sender.ready().await?;
                sender.send_request(request).await
            })
            .await
            .map_err(|_| ClientError::Timeout)??;
            let next_uri = match response.headers().get(HEADER_NEXT_URI) {
                Some(v) => Some(normalise_uri(&String::from_utf8_lossy(v.as_bytes()))?),
                None => None,
            };
            match response.status() {
                StatusCode::OK => {
                    let next_uri = next_uri.ok_or(ClientError::MissingNextUri)?;
                    let target = match response.headers().get(HEADER_TARGETED_APPLICATION) {
                        Some(v) => Some(parse_aid_uri(&String::from_utf8_lossy(v.as_bytes()))?),
                        None => None,
                    };
                    let script = tokio::time::timeout(
                        self.config.exchange_timeout,
                        Limited::new(response.into_body(), self.config.max_script).collect(),
                    )
                    .await
                    .map_err(|_| ClientError::Timeout)?
                    .map_err(|e| ClientError::Body(e.to_string()))?
                    .to_bytes();
                    scripts += 1;
                    carry = Some(card.process_script_with_status(target, &script));
                    uri = next_uri;
                }
                StatusCode::NO_CONTENT => match next_uri {
                    Some(next) => uri = next,
                    None => return Ok((scripts, exchanges)),
                },
                other => return Err(ClientError::UnexpectedStatus(other.as_u16())),
            }
        }
    }

    fn request(
        &self,
        uri: &str,
        response: Option<(ScriptStatus, Vec<u8>)>,
    ) -> Result<Request<ChunkedBody>, ClientError> {
        let bad_uri = |_| ClientError::BadNextUri(uri.to_owned());
        let mut builder = Request::builder()
            .method(Method::POST)
            .uri(uri)
            .header(header::HOST, self.config.host.as_str())
            .header(HEADER_ADMIN_PROTOCOL, ADMIN_PROTOCOL)
            .header(HEADER_ADMIN_FROM, self.admin_from.clone());
        let body = match response {
            Some((status, data)) => {
                builder = builder.header(header::CONTENT_TYPE, CONTENT_TYPE_RESPONSE);
                if let Some(value) = status.header_value() {
                    builder = builder.header(HEADER_SCRIPT_STATUS, value);
                }
                ChunkedBody::new(Bytes::from(data))
            }
            None => ChunkedBody::empty(),
        };
        builder.body(body).map_err(bad_uri)
    }
}

/// Reduces an `X-Admin-Next-URI` (absolute URL or path) to the path and query to request.
fn normalise_uri(value: &str) -> Result<String, ClientError> {
    let v = value.trim();
    let bad = || ClientError::BadNextUri(v.chars().take(256).collect());
    let path = if let Some(rest) = v
        .strip_prefix("https://")
        .or_else(|| v.strip_prefix("http://"))
    {
        rest.find('/').and_then(|i| rest.get(i..)).unwrap_or("/")
    } else {
        v
    };
    if !path.starts_with('/') {
        return Err(bad());
    }
    path.parse::<hyper::Uri>().map_err(|_| bad())?;
    Ok(path.to_owned())
}
