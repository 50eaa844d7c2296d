//! ES12 (SM-DP+ → SM-DS): the SM-DP+ registers an event at the SM-DS named by ConfirmOrder's
//! `smdsAddress` and deletes it when the order is over (sgp22.md §5.3.2, §5.3.4, §14).
//!
//! - Sans-IO: [`registered_event`] says whether an order holds a live SM-DS event (derived from
//!   its state and data, no extra flag); [`event_action`] compares an order before and after a
//!   change and says whether to register or delete. [`EventRegistrar::writes`] turns that into
//!   the outbox write to put in the same `Store::apply` batch as the order update (ES2+
//!   ConfirmOrder / ReleaseProfile / CancelOrder and every ES9+ step that moves the order).
//! - IO: [`Es12Worker`] POSTs the queued calls to `{smdsAddress}/gsma/rsp2/es12/registerEvent`
//!   or `…/deleteEvent` (JSON, `X-Admin-Protocol`) over mutual TLS ([`tls_client_config`]) and
//!   retries with backoff until the SM-DS acknowledges.
//!
//! Decisions (for `docs/conformance.md`):
//! - **When.** An event is live while the order is `Released` or `Downloaded` with an
//!   `smdsAddress`, an EID and a MatchingID: it is registered when the order becomes
//!   downloadable (ConfirmOrder with `releaseFlag` true, or ReleaseProfile after ConfirmOrder),
//!   not at a ConfirmOrder that waits for ReleaseProfile. It is deleted when the order leaves
//!   those states: installation success (`Installed`), any permanent end (`Error`: attempts,
//!   Confirmation Code attempts, expiry seen at a download attempt, permanent installation or
//!   CancelSession errors) and CancelOrder. A temporary failure (back to `Released`) keeps it.
//!   An order that was never downloadable with an `smdsAddress` never sends a DeleteEvent.
//! - **EventID** = the MatchingID; **rspServerAddress** = this SM-DP+'s address (the FQDN it
//!   returns as `smdpAddress`); **forwardingIndicator** = `true` ([`EventRegistrar::new`], so an
//!   Alternative SM-DS forwards the event to the Root SM-DS; a Root ignores it). ConfirmOrder
//!   with an `smdsAddress` needs the EID (8.1.1/2.2, [`crate::order`]) and a MatchingID of
//!   1..=[`MAX_EVENT_ID_CHARS`] characters (else 8.2.6/2.1); a malformed `smdsAddress` is
//!   8.9.1/2.1.
//! - **Address forms.** `smdsAddress` is an FQDN in SGP.22; accepted: `host`, `host:port`, and an
//!   explicit `https://host[:port][/path]` URL (a base URL, the ES12 path is appended; `http://`,
//!   user info, queries and fragments are refused). See [`smds_base_url`].
//! - **functionRequesterIdentifier** = the SM-DP+'s OID, which the SM-DS compares with the
//!   client certificate's SAN registeredID: the ES12 client certificate must carry it
//!   (CERT.DP.TLS by default, or a configured one).
//! - **Delivery.** Transport errors, HTTP 5xx / 408 / 429, a malformed answer, and the SM-DS
//!   answering `1.2`/`4.2` (internal) or `1.2`/`4.4` (busy) are retried with backoff
//!   ([`default_backoff`]: 5 s doubled per failure, at most 30 min) up to `max_attempts` (12),
//!   then dead-lettered. Any other `Failed` answer, and other HTTP statuses, are definitive: the
//!   message becomes a dead letter at once (visible with `Store::dead_letters`), except a
//!   DeleteEvent answered `8.9.5`/`3.9` (the SM-DS has no such event), which counts as done.
//!   A RegisterEvent whose order no longer holds the event (cancelled or finished while the
//!   registration was still being retried) is dropped unsent, so a DeleteEvent that overtook it
//!   never leaves a stale event behind. In one round registrations go before deletions.

use std::fmt;
use std::sync::Arc;

use rsp_sgp22::json::{self, HeaderOnly, RequestHeader};
use rsp_sgp22::json_smds::{
    DELETE_EVENT, DeleteEventRequest, ES12_BASE_PATH, REGISTER_EVENT, RegisterEventRequest,
};
use rsp_store::{NewOutboxMessage, OutboxMessage, Store, StoreError, WriteOp};
use rsp_types::codes::sgp22::{reason, status, subject};
use rsp_types::{FunctionExecutionStatus, StatusCode, Svn};
use time::{Duration, OffsetDateTime};

use crate::order::{Order, OrderState, Orders};
use crate::outbox::{Attempt, OutboxRound, RoundReport};

/// Outbox kind of a queued ES12.RegisterEvent (destination = the SM-DS base URL).
pub const REGISTER_OUTBOX_KIND: &str = "smdpp.es12.registerEvent";
/// Outbox kind of a queued ES12.DeleteEvent (destination = the SM-DS base URL).
pub const DELETE_OUTBOX_KIND: &str = "smdpp.es12.deleteEvent";
/// Longest MatchingID that can be an SM-DS EventID.
pub const MAX_EVENT_ID_CHARS: usize = 64;
/// Longest accepted `smdsAddress`.
pub const MAX_SMDS_ADDRESS_CHARS: usize = 255;

/// `8.9.1`/`2.1`: the SM-DS address is not `host[:port]` or an `https://` URL.
pub const SMDS_ADDRESS_INVALID: StatusCode =
    StatusCode::new(subject::SM_DS_ADDRESS, reason::INVALID);
/// `8.9.5`/`3.9`: the SM-DS does not know the event (DeleteEvent).
pub const EVENT_UNKNOWN: StatusCode = StatusCode::new(subject::EVENT_RECORD, reason::UNKNOWN);
/// `1.2`/`4.4`: the SM-DS is busy (retry).
pub const SMDS_BUSY: StatusCode = StatusCode::new(subject::FUNCTION_PROVIDER, reason::BUSY);

/// Why an `smdsAddress` was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("smdsAddress invalid: {0}")]
pub struct SmdsAddressError(pub &'static str);

/// The base URL (`https://host[:port][/path]`, no trailing `/`) of an `smdsAddress`: `host`,
/// `host:port` or an explicit `https://` URL. Host names are lower-cased.
pub fn smds_base_url(address: &str) -> Result<String, SmdsAddressError> {
    let a = address.trim();
    if a.is_empty() || a.chars().count() > MAX_SMDS_ADDRESS_CHARS {
        return Err(SmdsAddressError("empty or longer than 255 characters"));
    }
    let rest = if let Some(scheme_end) = a.find("://") {
        let scheme = &a[..scheme_end];
        if !scheme.eq_ignore_ascii_case("https") {
            return Err(SmdsAddressError("only https:// URLs are accepted"));
        }
        &a[scheme_end + 3..]
    } else {
        a
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], rest[i..].trim_end_matches('/')),
        None => (rest, ""),
    };
    if path.contains(['?', '#']) || authority.contains('@') {
        return Err(SmdsAddressError("no user info, query or fragment"));
    }
    if !path.is_empty() && a == rest {
        return Err(SmdsAddressError("a path needs an explicit https:// URL"));
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (authority, None),
    };
    if let Some(p) = port
        && p.parse::<u16>().map_or(true, |n| n == 0)
    {
        return Err(SmdsAddressError("port must be 1..=65535"));
    }
    let label_ok = |l: &str| {
        (1..=63).contains(&l.len())
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if !host.split('.').all(label_ok) {
        return Err(SmdsAddressError(
            "host must be a domain name or IPv4 address",
        ));
    }
    let mut url = format!("https://{}", host.to_ascii_lowercase());
    if let Some(p) = port {
        url.push(':');
        url.push_str(p);
    }
    url.push_str(path);
    Ok(url)
}

/// Checks the data an SM-DS event needs, at ConfirmOrder: a usable `smdsAddress` and a MatchingID
/// that can be an EventID.
pub fn check_event_data(smds_address: &str, matching_id: &str) -> Result<(), StatusCode> {
    smds_base_url(smds_address).map_err(|_| SMDS_ADDRESS_INVALID)?;
    if matching_id.is_empty() || matching_id.chars().count() > MAX_EVENT_ID_CHARS {
        return Err(status::MATCHING_ID_INVALID);
    }
    Ok(())
}

/// The SM-DS event an order holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmdsEvent {
    /// The SM-DS base URL (from `smdsAddress`).
    pub smds_url: String,
    /// The EID.
    pub eid: String,
    /// The EventID (= MatchingID).
    pub event_id: String,
}

/// The event `order` holds at the SM-DS: `Some` while it is downloadable (`Released`,
/// `Downloaded`) with an `smdsAddress`, an EID and a MatchingID.
pub fn registered_event(order: &Order) -> Option<SmdsEvent> {
    if !matches!(order.state, OrderState::Released | OrderState::Downloaded) {
        return None;
    }
    let smds_url = smds_base_url(order.smds_address.as_deref()?).ok()?;
    let eid = order.eid?;
    let event_id = order.matching_id.clone().filter(|m| !m.is_empty())?;
    Some(SmdsEvent {
        smds_url,
        eid: eid.to_string(),
        event_id,
    })
}

/// What a change of an order means for its SM-DS event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventAction {
    /// The order became downloadable: register.
    Register(SmdsEvent),
    /// The order is over (or cancelled): delete the event it held.
    Delete(SmdsEvent),
}

/// Compares the order before and after a change (pure): registered afterwards only → register;
/// before only → delete. Should the event itself change while registered (ES2+ refuses a second
/// ConfirmOrder with other data, so it does not happen today), the old one is deleted.
pub fn event_action(before: &Order, after: &Order) -> Option<EventAction> {
    match (registered_event(before), registered_event(after)) {
        (None, Some(ev)) => Some(EventAction::Register(ev)),
        (Some(ev), None) => Some(EventAction::Delete(ev)),
        (Some(old), Some(new)) if old != new => Some(EventAction::Delete(old)),
        _ => None,
    }
}

/// Builds the ES12 outbox writes of order changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRegistrar {
    /// `functionRequesterIdentifier`: the SM-DP+'s OID (the ES12 client certificate's SAN
    /// registeredID).
    pub requester: String,
    /// `rspServerAddress`: this SM-DP+'s address.
    pub rsp_server_address: String,
    /// `forwardingIndicator` of registrations.
    pub forwarding_indicator: bool,
}

impl EventRegistrar {
    /// A registrar with `forwardingIndicator` true.
    pub fn new(requester: impl Into<String>, rsp_server_address: impl Into<String>) -> Self {
        EventRegistrar {
            requester: requester.into(),
            rsp_server_address: rsp_server_address.into(),
            forwarding_indicator: true,
        }
    }

    /// The RegisterEvent request of `ev`.
    pub fn register_request(&self, ev: &SmdsEvent) -> RegisterEventRequest {
        RegisterEventRequest {
            header: Some(self.header(&ev.event_id, "register")),
            eid: Some(ev.eid.clone()),
            rsp_server_address: Some(self.rsp_server_address.clone()),
            event_id: Some(ev.event_id.clone()),
            forwarding_indicator: Some(self.forwarding_indicator),
        }
    }

    /// The DeleteEvent request of `ev`.
    pub fn delete_request(&self, ev: &SmdsEvent) -> DeleteEventRequest {
        DeleteEventRequest {
            header: Some(self.header(&ev.event_id, "delete")),
            eid: Some(ev.eid.clone()),
            event_id: Some(ev.event_id.clone()),
        }
    }

    fn header(&self, event_id: &str, what: &str) -> RequestHeader {
        RequestHeader {
            function_requester_identifier: self.requester.clone(),
            function_call_identifier: format!("{event_id}-{what}"),
        }
    }

    /// The outbox write for the change `before` → `after` (empty when the event is
    /// unaffected). Put it in the same `Store::apply` batch as the order update.
    pub fn writes(&self, before: &Order, after: &Order) -> Vec<WriteOp> {
        let (kind, ev, payload) = match event_action(before, after) {
            None => return Vec::new(),
            Some(EventAction::Register(ev)) => {
                let body = serde_json::to_vec(&self.register_request(&ev));
                (REGISTER_OUTBOX_KIND, ev, body)
            }
            Some(EventAction::Delete(ev)) => {
                let body = serde_json::to_vec(&self.delete_request(&ev));
                (DELETE_OUTBOX_KIND, ev, body)
            }
        };
        match payload {
            Ok(payload) => vec![WriteOp::Enqueue(NewOutboxMessage {
                destination: ev.smds_url,
                kind: kind.to_owned(),
                payload,
            })],
            Err(e) => {
                tracing::error!(error = %e, "could not encode an ES12 request");
                Vec::new()
            }
        }
    }
}

/// The ES12 writes of an order change, when a registrar is configured.
pub fn writes_of(
    registrar: Option<&EventRegistrar>,
    before: &Order,
    after: &Order,
) -> Vec<WriteOp> {
    registrar.map_or_else(Vec::new, |r| r.writes(before, after))
}

// ---- delivery ------------------------------------------------------------------------------------

/// How an ES12 call ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallOutcome {
    /// `Executed-Success` / `Executed-WithWarning`.
    Acknowledged,
    /// A definitive refusal (`Failed` with this status).
    Refused(FunctionExecutionStatus),
    /// Try again later (transport, 5xx, busy): why.
    Transient(String),
    /// A definitive HTTP failure (4xx other than 408 / 429).
    Rejected(u16),
}

/// Classifies an HTTP answer of the SM-DS (pure): `http` status and body.
pub fn classify_answer(http: u16, body: &[u8]) -> CallOutcome {
    match http {
        200 => {}
        408 | 429 | 500..=599 => return CallOutcome::Transient(format!("HTTP {http}")),
        other => return CallOutcome::Rejected(other),
    }
    let parsed: HeaderOnly = match serde_json::from_slice(body) {
        Ok(p) => p,
        Err(e) => return CallOutcome::Transient(format!("malformed answer: {e}")),
    };
    let st = parsed.header.function_execution_status;
    if st.is_executed() {
        CallOutcome::Acknowledged
    } else if st.is(&status::INTERNAL_ERROR) || st.is(&SMDS_BUSY) {
        CallOutcome::Transient(format!("SM-DS answered {}", describe(&st)))
    } else {
        CallOutcome::Refused(st)
    }
}

fn describe(st: &FunctionExecutionStatus) -> String {
    serde_json::to_string(st).unwrap_or_else(|_| "Failed".into())
}

/// A rustls client configuration for ES12: `chain`/`key` (DER; the ES12 client certificate,
/// CERT.DP.TLS by default) presented to the SM-DS, and `roots` (DER CA certificates, e.g. the
/// CI) trusted for the SM-DS's server certificate.
pub fn tls_client_config(
    chain: Vec<Vec<u8>>,
    key_pkcs8: Vec<u8>,
    roots: &[Vec<u8>],
) -> Result<rustls::ClientConfig, String> {
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    let mut store = rustls::RootCertStore::empty();
    for r in roots {
        store
            .add(CertificateDer::from(r.clone()))
            .map_err(|e| e.to_string())?;
    }
    let provider = rustls::crypto::CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()));
    rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| e.to_string())?
        .with_root_certificates(store)
        .with_client_auth_cert(
            chain.into_iter().map(CertificateDer::from).collect(),
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_pkcs8)),
        )
        .map_err(|e| e.to_string())
}

/// A `reqwest::Client` over `tls` (30 s timeout).
pub fn http_client(tls: rustls::ClientConfig) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .map_err(|e| e.to_string())
}

/// Default backoff: 5 s doubled per failure, at most 30 minutes.
pub fn default_backoff(attempts: u32) -> Duration {
    Duration::seconds(5i64.saturating_mul(1i64 << attempts.min(9)).min(1800))
}

/// Delivers queued ES12 calls from the outbox until the SM-DS acknowledges them.
#[derive(Clone)]
pub struct Es12Worker {
    /// The store holding the outbox and the orders.
    pub store: Arc<dyn Store>,
    /// HTTP client (mutual TLS with the SM-DP+'s ES12 client certificate).
    pub client: reqwest::Client,
    /// Our `X-Admin-Protocol` version.
    pub admin_protocol: Svn,
    /// Claiming, leases and retries.
    pub round: OutboxRound,
}

impl fmt::Debug for Es12Worker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Es12Worker")
            .field("round", &self.round)
            .finish_non_exhaustive()
    }
}

impl Es12Worker {
    /// A worker with lease 1 min, 12 attempts, [`default_backoff`] and batch 16.
    pub fn new(
        store: Arc<dyn Store>,
        client: reqwest::Client,
        admin_protocol: Svn,
        holder: impl Into<String>,
    ) -> Es12Worker {
        Es12Worker {
            store,
            client,
            admin_protocol,
            round: OutboxRound {
                holder: holder.into(),
                lease: Duration::minutes(1),
                max_attempts: 12,
                backoff: default_backoff,
                batch: 16,
            },
        }
    }

    /// Claims due ES12 calls (registrations first) and tries each once.
    pub async fn run_once(&self, now: OffsetDateTime) -> Result<RoundReport, StoreError> {
        self.round
            .run(
                self.store.as_ref(),
                &[REGISTER_OUTBOX_KIND, DELETE_OUTBOX_KIND],
                now,
                |msg| self.deliver(msg),
            )
            .await
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
                        tracing::warn!(error = %e, "ES12 delivery round failed");
                    }
                }
            }
        }
    }

    async fn deliver(&self, msg: OutboxMessage) -> Attempt {
        let is_register = msg.kind == REGISTER_OUTBOX_KIND;
        if is_register {
            match self.still_registered(&msg).await {
                Ok(true) => {}
                Ok(false) => return Attempt::Dropped,
                Err(e) => return Attempt::Retry(e),
            }
        }
        let function = if is_register {
            REGISTER_EVENT
        } else {
            DELETE_EVENT
        };
        let url = format!(
            "{}{ES12_BASE_PATH}/{function}",
            msg.destination.trim_end_matches('/')
        );
        let sent = self
            .client
            .post(&url)
            .header(reqwest::header::CONTENT_TYPE, json::CONTENT_TYPE)
            .header(
                json::ADMIN_PROTOCOL_HEADER,
                self.admin_protocol.admin_protocol(),
            )
            .body(msg.payload.clone())
            .send()
            .await;
        let resp = match sent {
            Ok(r) => r,
            Err(e) => return Attempt::Retry(format!("{url}: {e}")),
        };
        let http = resp.status().as_u16();
        let body = match resp.bytes().await {
            Ok(b) => b,
            Err(e) => return Attempt::Retry(format!("{url}: {e}")),
        };
        match classify_answer(http, &body) {
            CallOutcome::Acknowledged => Attempt::Delivered,
            CallOutcome::Refused(st) if !is_register && st.is(&EVENT_UNKNOWN) => Attempt::Delivered,
            CallOutcome::Refused(st) => {
                Attempt::Refused(format!("{url}: refused {}", describe(&st)))
            }
            CallOutcome::Rejected(code) => Attempt::Refused(format!("{url}: HTTP {code}")),
            CallOutcome::Transient(why) => Attempt::Retry(format!("{url}: {why}")),
        }
    }

    /// Whether the order behind a queued RegisterEvent still holds that event.
    async fn still_registered(&self, msg: &OutboxMessage) -> Result<bool, String> {
        let req: RegisterEventRequest =
            serde_json::from_slice(&msg.payload).map_err(|e| e.to_string())?;
        let Some(event_id) = req.event_id.as_deref() else {
            return Ok(false);
        };
        let orders = Orders::new(self.store.clone());
        let order = orders
            .by_matching_id(event_id)
            .await
            .map_err(|e| e.to_string())?;
        Ok(order
            .and_then(|o| registered_event(&o.order))
            .is_some_and(|ev| {
                ev.smds_url == msg.destination
                    && Some(ev.eid.as_str()) == req.eid.as_deref()
                    && ev.event_id == event_id
            }))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::order::{ConfirmRequest, InstallationOutcome, OrderLimits};
    use rsp_sgp22::TransactionId;
    use rsp_types::{Eid, Iccid};

    #[test]
    fn address_forms() {
        assert_eq!(
            smds_base_url("LPA.ds.gsma.com").unwrap(),
            "https://lpa.ds.gsma.com"
        );
        assert_eq!(
            smds_base_url("smds.test:8443").unwrap(),
            "https://smds.test:8443"
        );
        assert_eq!(
            smds_base_url("https://127.0.0.1:9443/").unwrap(),
            "https://127.0.0.1:9443"
        );
        assert_eq!(
            smds_base_url("HTTPS://smds.test/base/").unwrap(),
            "https://smds.test/base"
        );
        for bad in [
            "",
            "http://smds.test",
            "ftp://x",
            "smds.test:0",
            "smds.test:99999",
            "smds.test/path",
            "https://u@smds.test",
            "https://smds.test/?q",
            "-bad.test",
            "a..b",
            "sm ds.test",
        ] {
            assert!(smds_base_url(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(
            check_event_data("smds.test", ""),
            Err(status::MATCHING_ID_INVALID)
        );
        assert_eq!(
            check_event_data("smds.test", &"A".repeat(65)),
            Err(status::MATCHING_ID_INVALID)
        );
        assert_eq!(check_event_data("http://x", "M"), Err(SMDS_ADDRESS_INVALID));
        check_event_data("smds.test", "M-1").unwrap();
    }

    fn eid() -> Eid {
        Eid::with_check_digits("890490321234512345123456789012").unwrap()
    }

    fn confirmed(release: bool, smds: Option<&str>) -> Order {
        let mut o = Order::available(Iccid::with_luhn("898822800000000001").unwrap(), "T1");
        o.download_order("op1", Some(eid()), None, OrderLimits::default())
            .unwrap();
        let req = ConfirmRequest {
            smds_address: smds.map(str::to_owned),
            release_flag: release,
            ..ConfirmRequest::default()
        };
        o.confirm("op1", &req, "EV-1").unwrap();
        o
    }

    #[test]
    fn registration_follows_the_downloadable_states() {
        let reg = EventRegistrar::new("2.999.10", "smdp.test");
        let linked = {
            let mut o = Order::available(Iccid::with_luhn("898822800000000001").unwrap(), "T1");
            o.download_order("op1", Some(eid()), None, OrderLimits::default())
                .unwrap();
            o
        };
        // Confirmed without release: nothing yet; ReleaseProfile registers.
        let c = confirmed(false, Some("smds.test"));
        assert_eq!(event_action(&linked, &c), None);
        let mut r = c.clone();
        r.release("op1").unwrap();
        let Some(EventAction::Register(ev)) = event_action(&c, &r) else {
            panic!("no registration");
        };
        assert_eq!(ev.smds_url, "https://smds.test");
        assert_eq!(ev.event_id, "EV-1");
        assert_eq!(ev.eid, eid().to_string());
        let w = reg.writes(&c, &r);
        let [WriteOp::Enqueue(m)] = w.as_slice() else {
            panic!("{w:?}");
        };
        assert_eq!(m.kind, REGISTER_OUTBOX_KIND);
        let body: RegisterEventRequest = serde_json::from_slice(&m.payload).unwrap();
        assert_eq!(body.forwarding_indicator, Some(true));
        assert_eq!(body.rsp_server_address.as_deref(), Some("smdp.test"));
        assert_eq!(
            body.header.unwrap().function_requester_identifier,
            "2.999.10"
        );

        // Download, temporary error: still registered; success: deleted.
        let tid = TransactionId::new(&[1; 16]).unwrap();
        let mut d = r.clone();
        d.begin_download(&eid(), tid.clone(), OffsetDateTime::now_utc())
            .unwrap();
        d.mark_downloaded(&tid, None).unwrap();
        assert_eq!(event_action(&r, &d), None);
        let mut back = d.clone();
        back.apply_installation_result(
            &tid,
            InstallationOutcome::Error {
                bpp_command_id: 5,
                error_reason: 11,
            },
        )
        .unwrap();
        assert_eq!(back.state, OrderState::Released);
        assert_eq!(event_action(&d, &back), None);
        let mut done = d.clone();
        done.apply_installation_result(&tid, InstallationOutcome::Success)
            .unwrap();
        assert!(matches!(
            event_action(&d, &done),
            Some(EventAction::Delete(_))
        ));
        let w = reg.writes(&d, &done);
        let [WriteOp::Enqueue(m)] = w.as_slice() else {
            panic!("{w:?}");
        };
        assert_eq!(m.kind, DELETE_OUTBOX_KIND);

        // Cancel of a released order deletes; of a confirmed one, nothing.
        let mut cancelled = r.clone();
        cancelled
            .cancel(
                "op1",
                None,
                None,
                crate::order::FinalProfileStatus::Available,
            )
            .unwrap();
        assert!(matches!(
            event_action(&r, &cancelled),
            Some(EventAction::Delete(_))
        ));
        let mut c2 = c.clone();
        c2.cancel(
            "op1",
            None,
            None,
            crate::order::FinalProfileStatus::Available,
        )
        .unwrap();
        assert_eq!(event_action(&c, &c2), None);

        // No smdsAddress: never anything.
        let plain = confirmed(true, None);
        assert_eq!(event_action(&linked, &plain), None);
        assert!(writes_of(Some(&reg), &linked, &plain).is_empty());
    }

    #[test]
    fn answers_are_classified() {
        let ok = br#"{"header":{"functionExecutionStatus":{"status":"Executed-Success"}}}"#;
        assert_eq!(classify_answer(200, ok), CallOutcome::Acknowledged);
        let failed = |s: &str, r: &str| {
            format!(
                r#"{{"header":{{"functionExecutionStatus":{{"status":"Failed","statusCodeData":{{"subjectCode":"{s}","reasonCode":"{r}"}}}}}}}}"#
            )
        };
        assert!(matches!(
            classify_answer(200, failed("8.9.5", "3.9").as_bytes()),
            CallOutcome::Refused(st) if st.is(&EVENT_UNKNOWN)
        ));
        assert!(matches!(
            classify_answer(200, failed("1.2", "4.4").as_bytes()),
            CallOutcome::Transient(_)
        ));
        assert!(matches!(
            classify_answer(200, failed("1.2", "4.2").as_bytes()),
            CallOutcome::Transient(_)
        ));
        assert!(matches!(
            classify_answer(503, b""),
            CallOutcome::Transient(_)
        ));
        assert!(matches!(
            classify_answer(200, b"<html>"),
            CallOutcome::Transient(_)
        ));
        assert_eq!(classify_answer(400, b"bad"), CallOutcome::Rejected(400));
    }
}
