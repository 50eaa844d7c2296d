//! The ES12 / ES15 client (what an SM-DP+ and an Alternative SM-DS use) and the
//! [`ForwardingWorker`] that delivers an Alternative SM-DS's queued ES15 calls to its Root.
//!
//! The client POSTs JSON with `X-Admin-Protocol` to `{base_url}/gsma/rsp2/es12|es15/<function>`;
//! the TLS configuration (client certificate, trusted roots) is the caller's, given as a
//! `reqwest::Client` (see [`http_client`]). A call succeeds when the answer is HTTP 200 with
//! `Executed-Success` (or `Executed-WithWarning`).

use std::fmt;
use std::sync::Arc;

use rsp_sgp22::json::{self, HeaderOnly};
use rsp_sgp22::json_smds::{
    DELETE_EVENT, DeleteEventRequest, REGISTER_EVENT, RegisterEventRequest,
};
use rsp_store::{FailureOutcome, OutboxMessage, Store, StoreError};
use rsp_types::{FunctionExecutionStatus, Svn};
use serde::Serialize;
use time::{Duration, OffsetDateTime};

use crate::es12::{EVENT_UNKNOWN, Interface, OUTBOX_ES15_DELETE, OUTBOX_ES15_REGISTER};
use crate::event::EventStore;

/// Why an ES12 / ES15 call did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// No answer (connection, TLS, timeout).
    #[error("transport: {0}")]
    Transport(String),
    /// An HTTP status other than 200.
    #[error("HTTP {0}")]
    Http(u16),
    /// The body is not a JSON response header.
    #[error("malformed response: {0}")]
    Malformed(String),
    /// The SM-DS refused (`Failed` with its status code).
    #[error("refused: {0:?}")]
    Refused(Box<FunctionExecutionStatus>),
}

/// A successful call: the server's `X-Admin-Protocol` (if readable) and its status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The version the server answered with.
    pub admin_protocol: Option<Svn>,
    /// `Executed-Success` or `Executed-WithWarning`.
    pub status: FunctionExecutionStatus,
}

/// A `reqwest::Client` over `tls` (a rustls client configuration with the caller's client
/// certificate and the trusted server roots).
pub fn http_client(tls: rustls::ClientConfig) -> Result<reqwest::Client, ClientError> {
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .map_err(|e| ClientError::Transport(e.to_string()))
}

/// ES12 (or ES15) towards one SM-DS.
#[derive(Debug, Clone)]
pub struct Es12Client {
    /// HTTP client (mutual TLS configured).
    pub http: reqwest::Client,
    /// Base URL of the SM-DS (`https://smds.example.com`).
    pub base_url: String,
    /// ES12 (from an SM-DP+) or ES15 (from an SM-DS).
    pub interface: Interface,
    /// Our `X-Admin-Protocol` version.
    pub admin_protocol: Svn,
}

impl Es12Client {
    /// A client for `base_url`.
    pub fn new(
        http: reqwest::Client,
        base_url: impl Into<String>,
        interface: Interface,
        admin_protocol: Svn,
    ) -> Es12Client {
        Es12Client {
            http,
            base_url: base_url.into(),
            interface,
            admin_protocol,
        }
    }

    /// RegisterEvent.
    pub async fn register_event(&self, req: &RegisterEventRequest) -> Result<Answer, ClientError> {
        self.call(REGISTER_EVENT, req).await
    }

    /// DeleteEvent.
    pub async fn delete_event(&self, req: &DeleteEventRequest) -> Result<Answer, ClientError> {
        self.call(DELETE_EVENT, req).await
    }

    /// POSTs an already-serialised request body to `function`.
    pub async fn call_raw(&self, function: &str, body: Vec<u8>) -> Result<Answer, ClientError> {
        let url = format!(
            "{}{}/{function}",
            self.base_url.trim_end_matches('/'),
            self.interface.base_path()
        );
        let resp = self
            .http
            .post(&url)
            .header(reqwest::header::CONTENT_TYPE, json::CONTENT_TYPE)
            .header(
                json::ADMIN_PROTOCOL_HEADER,
                self.admin_protocol.admin_protocol(),
            )
            .body(body)
            .send()
            .await
            .map_err(|e| ClientError::Transport(format!("{url}: {e}")))?;
        if resp.status() != reqwest::StatusCode::OK {
            return Err(ClientError::Http(resp.status().as_u16()));
        }
        let admin_protocol = resp
            .headers()
            .get(json::ADMIN_PROTOCOL_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| json::parse_admin_protocol(v).ok());
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| ClientError::Transport(e.to_string()))?;
        let parsed: HeaderOnly =
            serde_json::from_slice(&bytes).map_err(|e| ClientError::Malformed(e.to_string()))?;
        let status = parsed.header.function_execution_status;
        if status.is_executed() {
            Ok(Answer {
                admin_protocol,
                status,
            })
        } else {
            Err(ClientError::Refused(Box::new(status)))
        }
    }

    async fn call<T: Serialize>(&self, function: &str, req: &T) -> Result<Answer, ClientError> {
        let body = serde_json::to_vec(req).map_err(|e| ClientError::Malformed(e.to_string()))?;
        self.call_raw(function, body).await
    }
}

/// Delivers the ES15 calls an Alternative SM-DS queued in its outbox (kinds
/// [`OUTBOX_ES15_REGISTER`], [`OUTBOX_ES15_DELETE`]; destination = the Root's base URL), retrying
/// with backoff until acknowledged; after `max_attempts` a message becomes a dead letter.
///
/// A RegisterEvent whose local event was deleted meanwhile is dropped unsent; a DeleteEvent the
/// Root answers `8.9.5`/`3.9` (it never saw the event) counts as acknowledged.
#[derive(Clone)]
pub struct ForwardingWorker {
    /// The store holding the outbox and the events.
    pub store: Arc<dyn Store>,
    /// HTTP client (mutual TLS with this SM-DS's certificate).
    pub http: reqwest::Client,
    /// Our `X-Admin-Protocol` version.
    pub admin_protocol: Svn,
    /// This node's lease-holder name.
    pub holder: String,
    /// Lease per claimed message.
    pub lease: Duration,
    /// Attempts before a message becomes a dead letter.
    pub max_attempts: u32,
    /// Delay before the next attempt after `attempts` failures.
    pub backoff: fn(u32) -> Duration,
    /// Messages claimed per round and kind.
    pub batch: u32,
}

impl fmt::Debug for ForwardingWorker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ForwardingWorker")
            .field("holder", &self.holder)
            .finish_non_exhaustive()
    }
}

/// Default backoff: 5 s doubled per failure, at most 30 minutes.
pub fn default_backoff(attempts: u32) -> Duration {
    Duration::seconds(5i64.saturating_mul(1i64 << attempts.min(9)).min(1800))
}

/// What one delivery round did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ForwardingReport {
    /// Acknowledged by the Root.
    pub delivered: usize,
    /// Dropped unsent (the event was deleted before its registration went out).
    pub dropped: usize,
    /// Failed and rescheduled.
    pub retried: usize,
    /// Failed for the last time.
    pub dead: usize,
}

impl ForwardingWorker {
    /// A worker with lease 1 min, 12 attempts, [`default_backoff`], batch 16.
    pub fn new(
        store: Arc<dyn Store>,
        http: reqwest::Client,
        admin_protocol: Svn,
        holder: impl Into<String>,
    ) -> ForwardingWorker {
        ForwardingWorker {
            store,
            http,
            admin_protocol,
            holder: holder.into(),
            lease: Duration::minutes(1),
            max_attempts: 12,
            backoff: default_backoff,
            batch: 16,
        }
    }

    /// Claims due ES15 messages and tries each once.
    pub async fn run_once(&self, now: OffsetDateTime) -> Result<ForwardingReport, StoreError> {
        let mut report = ForwardingReport::default();
        for kind in [OUTBOX_ES15_REGISTER, OUTBOX_ES15_DELETE] {
            let msgs = self
                .store
                .claim_due_messages_of(kind, now, &self.holder, self.lease, self.batch)
                .await?;
            for msg in msgs {
                match self.deliver(&msg).await {
                    Ok(Delivery::Sent) => {
                        self.store.mark_delivered(msg.id, &self.holder, now).await?;
                        report.delivered += 1;
                    }
                    Ok(Delivery::Dropped) => {
                        self.store.mark_delivered(msg.id, &self.holder, now).await?;
                        report.dropped += 1;
                    }
                    Err(error) => {
                        let next = now + (self.backoff)(msg.attempts.saturating_add(1));
                        match self
                            .store
                            .mark_failed(msg.id, &self.holder, &error, next, self.max_attempts, now)
                            .await?
                        {
                            FailureOutcome::Retry { .. } => report.retried += 1,
                            FailureOutcome::DeadLettered { .. } => report.dead += 1,
                        }
                    }
                }
            }
        }
        Ok(report)
    }

    /// Runs rounds every `period` until `shutdown` resolves.
    pub async fn run(self, period: std::time::Duration, shutdown: impl Future<Output = ()>) {
        let mut tick = tokio::time::interval(period);
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = &mut shutdown => return,
                _ = tick.tick() => {
                    if let Err(e) = self.run_once(OffsetDateTime::now_utc()).await {
                        tracing::warn!(error = %e, "ES15 forwarding round failed");
                    }
                }
            }
        }
    }

    async fn deliver(&self, msg: &OutboxMessage) -> Result<Delivery, String> {
        let client = Es12Client::new(
            self.http.clone(),
            msg.destination.clone(),
            Interface::Es15,
            self.admin_protocol,
        );
        if msg.kind == OUTBOX_ES15_REGISTER {
            let req: RegisterEventRequest =
                serde_json::from_slice(&msg.payload).map_err(|e| e.to_string())?;
            if !self.still_live(&req).await? {
                return Ok(Delivery::Dropped);
            }
            client
                .call_raw(REGISTER_EVENT, msg.payload.clone())
                .await
                .map(|_| Delivery::Sent)
                .map_err(|e| e.to_string())
        } else {
            match client.call_raw(DELETE_EVENT, msg.payload.clone()).await {
                Ok(_) => Ok(Delivery::Sent),
                Err(ClientError::Refused(st)) if st.is(&EVENT_UNKNOWN) => Ok(Delivery::Sent),
                Err(e) => Err(e.to_string()),
            }
        }
    }

    /// Whether the local event behind a queued ES15 registration is still live.
    async fn still_live(&self, req: &RegisterEventRequest) -> Result<bool, String> {
        let (Some(eid), Some(id2)) = (req.eid.as_deref(), req.event_id.as_deref()) else {
            return Ok(false);
        };
        let events = EventStore::new(self.store.clone());
        let live = events.live_for_eid(eid).await.map_err(|e| e.to_string())?;
        Ok(live
            .iter()
            .any(|ev| ev.forwarded.as_ref().is_some_and(|f| f.event_id2 == id2)))
    }
}

enum Delivery {
    Sent,
    Dropped,
}
