//! The SM-SR's side of the SCP81 link: a PSK-TLS 1.2 listener whose admin sessions drain the ES5
//! queue.
//!
//! Per session (one TLS connection; the card is the one authenticated by the PSK identity):
//! 1. The first POST must carry `X-Admin-Protocol` and `X-Admin-From`, whose EID (and agent AID, when
//!    given) must match the PSK identity. A `?msg=<hex>` query carries a Default Notification; it is
//!    handed to the [`AdminSessionHandler`] before the queue is asked for work, so a confirmation the
//!    handler queues goes out in this session.
//! 2. The SM-SR answers `200` with the next script of the card's queue, `X-Admin-Next-URI:
//!    <admin path>/<entry id>` and, for an ISD-P, `X-Admin-Targeted-Application`; or `204` without
//!    `X-Admin-Next-URI` (end of session) when there is no work (after waiting up to
//!    [`AdminServerConfig::linger`] for some).
//! 3. The card's POST to the Next-URI carries the response script and `X-Admin-Script-Status`; it
//!    completes the entry, and step 2 repeats.
//!
//! A session that ends with an entry in flight (disconnect, timeout, protocol error) releases it:
//! the entry is sent again in a later session (at-least-once, see [`crate::queue`]). A new session
//! for the same EID supersedes an older one (SGP.02 allows no parallel sessions): the older one's
//! entry is released at once and its later requests are refused with `409`.

use std::collections::HashMap;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use openssl::ssl::Ssl;
use rsp_types::Eid;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio_openssl::SslStream;

use super::body::ChunkedBody;
use super::identity::{AdminFrom, PskIdentity, PskKeyStore, aid_uri};
use super::tls::{PskCipherSuite, ServerTls, TlsSetupError, server_context};
use super::{
    CONTENT_TYPE_SCRIPT, DEFAULT_ADMIN_PATH, HEADER_ADMIN_FROM, HEADER_ADMIN_PROTOCOL,
    HEADER_NEXT_URI, HEADER_SCRIPT_STATUS, HEADER_TARGETED_APPLICATION, is_admin_protocol,
};
use crate::queue::{CardResponse, EntryId, Es5Queue, Next, Released, ScriptStatus};

/// Settings of the SM-SR's HTTPS listener.
#[derive(Clone, Debug)]
pub struct AdminServerConfig {
    /// Cipher suites offered, in order of preference.
    pub suites: Vec<PskCipherSuite>,
    /// Base path of the admin URIs; Next-URIs are `<admin_path>/<entry id>` (U-15).
    pub admin_path: String,
    /// How long to wait for work before ending a session with `204` (0: answer at once).
    pub linger: Duration,
    /// Limit for the TLS handshake.
    pub handshake_timeout: Duration,
    /// Limit for the card to send the next request's headers.
    pub idle_timeout: Duration,
    /// Limit for a whole session.
    pub session_timeout: Duration,
    /// Largest request body accepted.
    pub max_body: usize,
}

impl Default for AdminServerConfig {
    /// Both suites, `/es5/ram`, no linger, 10 s handshake, 30 s idle, 600 s session, 1 MiB bodies.
    fn default() -> AdminServerConfig {
        AdminServerConfig {
            suites: PskCipherSuite::ALL.to_vec(),
            admin_path: DEFAULT_ADMIN_PATH.to_owned(),
            linger: Duration::ZERO,
            handshake_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(30),
            session_timeout: Duration::from_secs(600),
            max_body: 1 << 20,
        }
    }
}

/// What the card sent when it opened an admin session.
#[derive(Clone, Debug)]
pub struct SessionOpened {
    /// The authenticated PSK identity.
    pub identity: PskIdentity,
    /// Path and query of the first POST.
    pub uri: String,
    /// The Default Notification from `?msg=<hex>`, decoded.
    pub notification: Option<Vec<u8>>,
}

/// How a session ended.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum SessionEnd {
    /// The SM-SR answered `204` without Next-URI and the card closed.
    Completed,
    /// The connection ended otherwise (the card closed early, or an IO error).
    Disconnected(String),
    /// [`AdminServerConfig::session_timeout`] passed.
    TimedOut,
    /// A newer session of the same card took over.
    Superseded,
    /// The card broke the protocol (the reason was answered with a 4xx status).
    ProtocolError(String),
}

/// What happened in one admin session.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct SessionSummary {
    /// The authenticated PSK identity.
    pub identity: PskIdentity,
    /// The negotiated cipher suite.
    pub cipher: Option<PskCipherSuite>,
    /// Scripts sent (200 answers).
    pub scripts_sent: u32,
    /// Response scripts received.
    pub responses: u32,
    /// An entry that was in flight when the session ended, and what became of it.
    pub released: Option<(EntryId, Released)>,
    /// How it ended.
    pub end: SessionEnd,
}

/// Why a connection never became an admin session.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The TLS handshake failed (unknown identity, wrong key, no common suite, not TLS...).
    #[error("PSK-TLS handshake failed: {0}")]
    Handshake(String),
    /// The TLS handshake took too long.
    #[error("PSK-TLS handshake timed out")]
    HandshakeTimeout,
    /// The handshake ended without an authenticated identity.
    #[error("PSK-TLS handshake left no identity")]
    NoIdentity,
    /// OpenSSL could not create the connection.
    #[error("OpenSSL: {0}")]
    OpenSsl(#[from] openssl::error::ErrorStack),
}

/// Hooks for the SM-SR around admin sessions.
#[async_trait]
pub trait AdminSessionHandler: Send + Sync + 'static {
    /// A card opened a session (after its first POST was accepted, before the queue is asked for
    /// work). A handler that queues a command here (e.g. a `NotificationConfirmation`) gets it
    /// delivered in this session.
    async fn session_opened(&self, opened: &SessionOpened) {
        let _ = opened;
    }

    /// A session ended.
    async fn session_closed(&self, summary: &SessionSummary) {
        let _ = summary;
    }
}

/// A handler that does nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoopSessionHandler;

impl AdminSessionHandler for NoopSessionHandler {}

#[derive(Clone, Debug)]
struct InFlightScript {
    id: EntryId,
    next_uri: String,
}

#[derive(Debug, Default)]
struct SessionState {
    opened: bool,
    in_flight: Option<InFlightScript>,
    superseded: bool,
    ended_with_204: bool,
    protocol_error: Option<String>,
    scripts_sent: u32,
    responses: u32,
}

#[derive(Debug)]
struct Session {
    number: u64,
    identity: PskIdentity,
    state: Mutex<SessionState>,
}

impl Session {
    fn lock(&self) -> MutexGuard<'_, SessionState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[derive(Clone)]
struct ServerInner {
    config: AdminServerConfig,
    queue: Es5Queue,
    tls: ServerTls,
    handler: Arc<dyn AdminSessionHandler>,
    sessions: Arc<Mutex<HashMap<Eid, Arc<Session>>>>,
    session_numbers: Arc<AtomicU64>,
}

/// The SM-SR's HTTPS admin server. Cheap to clone.
#[derive(Clone)]
pub struct AdminServer {
    inner: Arc<ServerInner>,
}

impl std::fmt::Debug for AdminServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminServer")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl AdminServer {
    /// A server draining `queue`, with keys from `keys`.
    pub fn new(
        config: AdminServerConfig,
        queue: Es5Queue,
        keys: Arc<dyn PskKeyStore>,
    ) -> Result<AdminServer, TlsSetupError> {
        let tls = server_context(&config.suites, keys)?;
        Ok(AdminServer {
            inner: Arc::new(ServerInner {
                config,
                queue,
                tls,
                handler: Arc::new(NoopSessionHandler),
                sessions: Arc::new(Mutex::new(HashMap::new())),
                session_numbers: Arc::new(AtomicU64::new(1)),
            }),
        })
    }

    /// Installs the session hooks.
    pub fn with_handler(mut self, handler: Arc<dyn AdminSessionHandler>) -> AdminServer {
        Arc::make_mut(&mut self.inner).handler = handler;
        self
    }

    /// The queue this server drains.
    pub fn queue(&self) -> &Es5Queue {
        &self.inner.queue
    }

    /// Accepts connections for ever, one task per connection.
    pub async fn serve(&self, listener: TcpListener) {
        loop {
            match listener.accept().await {
                Ok((stream, peer)) => {
                    let server = self.clone();
                    tokio::spawn(async move {
                        match server.handle_connection(stream).await {
                            Ok(summary) => tracing::info!(
                                %peer,
                                eid = %summary.identity.eid,
                                scripts = summary.scripts_sent,
                                responses = summary.responses,
                                end = ?summary.end,
                                "ES5 admin session ended"
                            ),
                            Err(error) => {
                                tracing::info!(%peer, %error, "ES5 admin connection refused")
                            }
                        }
                    });
                }
                Err(error) => {
                    // E.g. out of file descriptors: back off instead of spinning.
                    tracing::warn!(%error, "ES5 listener accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }

    /// Runs one admin session on an accepted connection.
    pub async fn handle_connection<S>(&self, stream: S) -> Result<SessionSummary, SessionError>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send,
    {
        let inner = &self.inner;
        let ssl = Ssl::new(&inner.tls.context)?;
        let mut tls = SslStream::new(ssl, stream)?;
        match tokio::time::timeout(inner.config.handshake_timeout, Pin::new(&mut tls).accept())
            .await
        {
            Err(_) => return Err(SessionError::HandshakeTimeout),
            Ok(Err(error)) => return Err(SessionError::Handshake(error.to_string())),
            Ok(Ok(())) => {}
        }
        let identity = *tls
            .ssl()
            .ex_data(inner.tls.identity_index)
            .ok_or(SessionError::NoIdentity)?;
        let cipher = tls
            .ssl()
            .current_cipher()
            .and_then(|c| PskCipherSuite::from_name(c.name()));
        let session = self.register(identity);
        tracing::debug!(eid = %identity.eid, session = session.number, ?cipher, "ES5 admin session opened");

        let service = {
            let inner = Arc::clone(&self.inner);
            let session = Arc::clone(&session);
            service_fn(move |request| {
                let inner = Arc::clone(&inner);
                let session = Arc::clone(&session);
                async move { Ok::<_, Infallible>(respond(&inner, &session, request).await) }
            })
        };
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(inner.config.idle_timeout)
            .keep_alive(true);
        let connection = http.serve_connection(TokioIo::new(tls), service);
        let io_end = match tokio::time::timeout(inner.config.session_timeout, connection).await {
            Err(_) => Some(SessionEnd::TimedOut),
            Ok(Err(error)) => Some(SessionEnd::Disconnected(error.to_string())),
            Ok(Ok(())) => None,
        };
        let summary = self.unregister(&session, cipher, io_end);
        inner.handler.session_closed(&summary).await;
        Ok(summary)
    }

    /// Records a new session, superseding an older one of the same card.
    fn register(&self, identity: PskIdentity) -> Arc<Session> {
        let session = Arc::new(Session {
            number: self.inner.session_numbers.fetch_add(1, Ordering::Relaxed),
            identity,
            state: Mutex::new(SessionState::default()),
        });
        let previous = self
            .inner
            .sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(identity.eid, Arc::clone(&session));
        if let Some(old) = previous {
            let lost = {
                let mut state = old.lock();
                state.superseded = true;
                state.in_flight.take()
            };
            tracing::info!(eid = %identity.eid, old = old.number, new = session.number, "ES5 admin session superseded");
            if let Some(lost) = lost {
                self.release(&identity.eid, lost.id);
            }
        }
        session
    }

    /// Forgets a session, releases what it had in flight, and sums it up.
    fn unregister(
        &self,
        session: &Arc<Session>,
        cipher: Option<PskCipherSuite>,
        io_end: Option<SessionEnd>,
    ) -> SessionSummary {
        let eid = session.identity.eid;
        {
            let mut sessions = self
                .inner
                .sessions
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            if sessions
                .get(&eid)
                .is_some_and(|current| Arc::ptr_eq(current, session))
            {
                sessions.remove(&eid);
            }
        }
        let (lost, state_end, scripts_sent, responses) = {
            let mut state = session.lock();
            let end = if state.superseded {
                Some(SessionEnd::Superseded)
            } else {
                state.protocol_error.clone().map(SessionEnd::ProtocolError)
            };
            let end = end.or(if state.ended_with_204 && state.in_flight.is_none() {
                Some(SessionEnd::Completed)
            } else {
                None
            });
            (
                state.in_flight.take(),
                end,
                state.scripts_sent,
                state.responses,
            )
        };
        let released = lost.and_then(|lost| {
            self.release(&eid, lost.id)
                .map(|outcome| (lost.id, outcome))
        });
        let end = state_end
            .or(io_end)
            .unwrap_or_else(|| SessionEnd::Disconnected("closed before the session ended".into()));
        SessionSummary {
            identity: session.identity,
            cipher,
            scripts_sent,
            responses,
            released,
            end,
        }
    }

    fn release(&self, eid: &Eid, id: EntryId) -> Option<Released> {
        match self.inner.queue.release(id) {
            Ok(outcome) => {
                tracing::info!(%eid, entry = id.get(), ?outcome, "ES5 entry in flight released");
                Some(outcome)
            }
            Err(error) => {
                tracing::debug!(%eid, entry = id.get(), %error, "ES5 entry already settled");
                None
            }
        }
    }
}

type HttpResponse = Response<ChunkedBody>;

/// Handles one POST of the card.
async fn respond(
    inner: &ServerInner,
    session: &Session,
    request: Request<Incoming>,
) -> HttpResponse {
    let eid = session.identity.eid;
    if session.lock().superseded {
        return refuse(
            session,
            StatusCode::CONFLICT,
            "session superseded by a newer one",
        );
    }
    if request.method() != Method::POST {
        return refuse(
            session,
            StatusCode::METHOD_NOT_ALLOWED,
            "only POST is allowed",
        );
    }
    if let Err((status, reason)) = check_headers(session, request.headers()) {
        return refuse(session, status, &reason);
    }
    let uri = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "/".to_owned());
    let status_header = request
        .headers()
        .get(HEADER_SCRIPT_STATUS)
        .map(|v| ScriptStatus::parse(&String::from_utf8_lossy(v.as_bytes())))
        .unwrap_or(ScriptStatus::Missing);
    let body = match Limited::new(request.into_body(), inner.config.max_body)
        .collect()
        .await
    {
        Ok(collected) => collected.to_bytes(),
        Err(error) => {
            let status = if error.is::<http_body_util::LengthLimitError>() {
                StatusCode::PAYLOAD_TOO_LARGE
            } else {
                StatusCode::BAD_REQUEST
            };
            return refuse(session, status, &format!("request body: {error}"));
        }
    };

    let (in_flight, opened) = {
        let state = session.lock();
        (state.in_flight.clone(), state.opened)
    };
    if let Some(flight) = in_flight {
        if uri != flight.next_uri {
            return refuse(
                session,
                StatusCode::BAD_REQUEST,
                &format!("expected POST to {}, got {uri}", flight.next_uri),
            );
        }
        {
            let mut state = session.lock();
            state.in_flight = None;
            state.responses = state.responses.saturating_add(1);
        }
        let response = CardResponse {
            status: status_header,
            data: body,
        };
        tracing::debug!(%eid, entry = flight.id.get(), status = ?response.status, len = response.data.len(), "ES5 response script");
        if let Err(error) = inner.queue.complete(flight.id, response) {
            // Released meanwhile (in-flight timeout): the response arrived too late to count.
            tracing::warn!(%eid, entry = flight.id.get(), %error, "ES5 late response dropped");
        }
    } else if !opened {
        let notification = match notification_from(&uri) {
            Ok(n) => n,
            Err(reason) => return refuse(session, StatusCode::BAD_REQUEST, &reason),
        };
        session.lock().opened = true;
        let opened = SessionOpened {
            identity: session.identity,
            uri,
            notification,
        };
        inner.handler.session_opened(&opened).await;
    } else if !body.is_empty() {
        tracing::debug!(%eid, len = body.len(), "ES5 body without a script in flight ignored");
    }

    let next = inner.queue.next_for_within(&eid, inner.config.linger).await;
    let mut state = session.lock();
    match next {
        Next::Command(dispatch) => {
            if state.superseded {
                drop(state);
                // Taken over while waiting: give the entry back for the new session.
                let _ = inner.queue.release(dispatch.id);
                return refuse(
                    session,
                    StatusCode::CONFLICT,
                    "session superseded by a newer one",
                );
            }
            let next_uri = format!(
                "{}/{}",
                inner.config.admin_path.trim_end_matches('/'),
                dispatch.id
            );
            state.in_flight = Some(InFlightScript {
                id: dispatch.id,
                next_uri: next_uri.clone(),
            });
            state.scripts_sent = state.scripts_sent.saturating_add(1);
            drop(state);
            tracing::debug!(%eid, entry = dispatch.id.get(), attempt = dispatch.attempt, len = dispatch.script.len(), "ES5 script sent");
            let mut response = Response::new(ChunkedBody::new(dispatch.script));
            *response.status_mut() = StatusCode::OK;
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(CONTENT_TYPE_SCRIPT),
            );
            insert_text(headers, HEADER_NEXT_URI, &next_uri);
            if let Some(aid) = dispatch.target.isd_p_aid() {
                insert_text(headers, HEADER_TARGETED_APPLICATION, &aid_uri(&aid));
            }
            response
        }
        Next::Busy(_) | Next::Empty => {
            state.ended_with_204 = true;
            drop(state);
            let mut response = Response::new(ChunkedBody::empty());
            *response.status_mut() = StatusCode::NO_CONTENT;
            response
        }
    }
}

/// Checks `X-Admin-Protocol` and `X-Admin-From` against the PSK identity.
fn check_headers(session: &Session, headers: &HeaderMap) -> Result<(), (StatusCode, String)> {
    let text = |name: &str| {
        headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };
    match text(HEADER_ADMIN_PROTOCOL) {
        Some(p) if is_admin_protocol(&p) => {}
        Some(p) => {
            return Err((
                StatusCode::BAD_REQUEST,
                format!("unsupported X-Admin-Protocol {p:?}"),
            ));
        }
        None => {
            return Err((StatusCode::BAD_REQUEST, "X-Admin-Protocol missing".into()));
        }
    }
    match text(HEADER_ADMIN_FROM) {
        Some(from) => {
            let from = AdminFrom::parse(&from)
                .map_err(|e| (StatusCode::BAD_REQUEST, format!("X-Admin-From: {e}")))?;
            let identity = &session.identity;
            if from.eid.is_some_and(|eid| eid != identity.eid)
                || from.agent_aid.is_some_and(|aid| aid != identity.isd_r_aid)
            {
                return Err((
                    StatusCode::FORBIDDEN,
                    "X-Admin-From does not match the PSK identity".into(),
                ));
            }
            if from.eid.is_none() {
                return Err((StatusCode::BAD_REQUEST, "X-Admin-From has no EID".into()));
            }
        }
        None if !session.lock().opened => {
            return Err((StatusCode::BAD_REQUEST, "X-Admin-From missing".into()));
        }
        None => {}
    }
    Ok(())
}

/// The `msg` query parameter, hex-decoded.
fn notification_from(uri: &str) -> Result<Option<Vec<u8>>, String> {
    let Some((_, query)) = uri.split_once('?') else {
        return Ok(None);
    };
    for pair in query.split('&') {
        if let Some(value) = pair.strip_prefix("msg=") {
            return hex::decode(value)
                .map(Some)
                .map_err(|e| format!("msg parameter is not hex: {e}"));
        }
    }
    Ok(None)
}

fn insert_text(headers: &mut HeaderMap, name: &'static str, value: &str) {
    // Values built here are ASCII; a failure would only drop the header.
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(name, value);
    }
}

/// Answers a protocol error and closes the connection; the in-flight entry, if any, is released
/// when the connection ends.
fn refuse(session: &Session, status: StatusCode, reason: &str) -> HttpResponse {
    tracing::info!(eid = %session.identity.eid, %status, reason, "ES5 request refused");
    {
        let mut state = session.lock();
        if state.protocol_error.is_none() && !state.superseded {
            state.protocol_error = Some(format!("{status}: {reason}"));
        }
    }
    let mut response = Response::new(ChunkedBody::new(Bytes::from(reason.to_owned())));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}
