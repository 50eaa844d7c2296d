//! ES12 (SM-DP+ → SM-DS) and ES15 (Alternative SM-DS → Root SM-DS): RegisterEvent and
//! DeleteEvent (sgp22.md §14), JSON over mutual TLS.
//!
//! - Sans-IO core: [`validate_register`], [`decide_register`], [`validate_delete`],
//!   [`decide_delete`] take the request, the caller, the stored event and the configuration and
//!   return what to write (and what to forward to the Root SM-DS), or a [`Refusal`].
//! - [`SmdsService`]: the async shell over the [`EventStore`]; the writes of one call (event row
//!   plus the ES15 outbox message of a cascade) go in one atomic `Store::apply`.
//! - [`router`]: `POST /gsma/rsp2/es12/{registerEvent,deleteEvent}` and
//!   `/gsma/rsp2/es15/{registerEvent,deleteEvent}` (U-45). Functional errors are HTTP 200 with
//!   `Failed`; HTTP 400 for a body that is not JSON of the function's shape, 413 above
//!   [`MAX_BODY_BYTES`].
//!
//! Status codes (project table where SGP.22 is silent):
//!
//! | Condition | Code |
//! |---|---|
//! | no / unparseable client certificate, caller not allowed on the interface | `1.1`/`1.1` |
//! | `functionRequesterIdentifier` ≠ the certificate's identity | `1.1`/`1.2` |
//! | `header` or `forwardingIndicator` missing | `1.6`/`2.2` |
//! | unsupported `X-Admin-Protocol` major | `1.3.2`/`3.1` |
//! | EID missing / not 32 digits | `8.1.1`/`2.2` / `8.1.1`/`2.1` |
//! | rspServerAddress missing / not host[:port] | `8.8.1`/`2.2` / `8.8.1`/`2.1` |
//! | eventId missing / not 1–64 of `[0-9A-Za-z-]` | `8.9.5`/`2.2` / `8.9.5`/`2.1` |
//! | eventId registered with other data or by another registrant | `8.9.5`/`3.3` |
//! | too many live events for this EID | `8.9.5`/`4.8` |
//! | DeleteEvent: EventID unknown, or of another EID | `8.9.5`/`3.9` |
//! | DeleteEvent by another than the registrant | `8.9.5`/`1.2` |
//! | store failure / concurrent change | `1.2`/`4.2` / `1.2`/`4.4` |
//!
//! Repeating a RegisterEvent with the same data by the same registrant, or a DeleteEvent of an
//! event that registrant already deleted, succeeds without change (retries are safe).

use std::fmt;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode as HttpStatus, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use rsp_sgp22::json::{self, AdminProtocolPolicy, HeaderOnly, RequestHeader};
use rsp_sgp22::json_smds::{
    DELETE_EVENT, DeleteEventRequest, ES12_BASE_PATH, ES15_BASE_PATH, REGISTER_EVENT,
    RegisterEventRequest,
};
use rsp_store::{NewOutboxMessage, StoreError, WriteOp};
use rsp_types::codes::sgp22::{reason, status, subject};
use rsp_types::{Eid, StatusCode, Svn};
use serde::Serialize;
use time::OffsetDateTime;

use crate::caller::{CallerIdentity, CallerPolicy, peer_certificate};
use crate::event::{EventData, EventStore, EventStoreError, Forwarded, Origin, StoredEvent};

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 16 * 1024;
/// Longest accepted eventId.
pub const MAX_EVENT_ID_LEN: usize = 64;
/// Longest accepted rspServerAddress.
pub const MAX_ADDRESS_LEN: usize = 255;
/// Outbox kind of a queued ES15 RegisterEvent.
pub const OUTBOX_ES15_REGISTER: &str = "smds.es15.registerEvent";
/// Outbox kind of a queued ES15 DeleteEvent.
pub const OUTBOX_ES15_DELETE: &str = "smds.es15.deleteEvent";

/// `8.1.1`/`2.1`: the EID is not 32 digits.
pub const EID_INVALID: StatusCode = StatusCode::new(subject::EID, reason::INVALID);
/// `8.1.1`/`2.2`: the EID is missing.
pub const EID_MISSING: StatusCode =
    StatusCode::new(subject::EID, reason::MANDATORY_ELEMENT_MISSING);
/// `8.8.1`/`2.1`: the RSP server address is not a host name.
pub const ADDRESS_INVALID: StatusCode =
    StatusCode::new(subject::SM_DP_PLUS_ADDRESS, reason::INVALID);
/// `8.8.1`/`2.2`: the RSP server address is missing.
pub const ADDRESS_MISSING: StatusCode = StatusCode::new(
    subject::SM_DP_PLUS_ADDRESS,
    reason::MANDATORY_ELEMENT_MISSING,
);
/// `8.9.5`/`2.1`: the EventID is malformed.
pub const EVENT_ID_INVALID: StatusCode = StatusCode::new(subject::EVENT_RECORD, reason::INVALID);
/// `8.9.5`/`2.2`: the EventID is missing.
pub const EVENT_ID_MISSING: StatusCode =
    StatusCode::new(subject::EVENT_RECORD, reason::MANDATORY_ELEMENT_MISSING);
/// `8.9.5`/`3.3`: the EventID is already registered with other data or by another registrant.
pub const EVENT_ID_IN_USE: StatusCode =
    StatusCode::new(subject::EVENT_RECORD, reason::ALREADY_IN_USE);
/// `8.9.5`/`4.8`: the EID has as many live events as this SM-DS keeps.
pub const TOO_MANY_EVENTS: StatusCode =
    StatusCode::new(subject::EVENT_RECORD, reason::INSUFFICIENT_MEMORY);
/// `8.9.5`/`3.9`: no such event (for this EID).
pub const EVENT_UNKNOWN: StatusCode = StatusCode::new(subject::EVENT_RECORD, reason::UNKNOWN);
/// `8.9.5`/`1.2`: the caller is not the event's registrant.
pub const NOT_REGISTRANT: StatusCode = StatusCode::new(subject::EVENT_RECORD, reason::NOT_ALLOWED);

/// `1.2`/`4.4`: the event changed concurrently; retry.
pub const BUSY: StatusCode = StatusCode::new(subject::FUNCTION_PROVIDER, reason::BUSY);

/// ES12 or ES15.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Interface {
    /// SM-DP+ → SM-DS.
    Es12,
    /// SM-DS → SM-DS.
    Es15,
}

impl Interface {
    /// The base path.
    pub fn base_path(self) -> &'static str {
        match self {
            Interface::Es12 => ES12_BASE_PATH,
            Interface::Es15 => ES15_BASE_PATH,
        }
    }

    fn origin(self) -> Origin {
        match self {
            Interface::Es12 => Origin::Es12,
            Interface::Es15 => Origin::Es15,
        }
    }
}

/// A refused call: its status code and a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}/{}: {message}", code.subject, code.reason)]
pub struct Refusal {
    /// The subject / reason code.
    pub code: StatusCode,
    /// What was wrong.
    pub message: String,
}

impl Refusal {
    /// A refusal with `code`.
    pub fn new(code: StatusCode, message: impl Into<String>) -> Refusal {
        Refusal {
            code,
            message: message.into(),
        }
    }

    fn internal(e: impl fmt::Display) -> Refusal {
        Refusal::new(status::INTERNAL_ERROR, e.to_string())
    }
}

/// The Root SM-DS an Alternative SM-DS forwards to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootSmds {
    /// Base URL of its ES15 endpoint (`https://root.example.com`).
    pub url: String,
}

/// Configuration of the ES12 / ES15 side of an SM-DS.
#[derive(Debug, Clone)]
pub struct SmdsConfig {
    /// This SM-DS's address (FQDN[:port]): the `rspServerAddress` of the events it forwards.
    pub address: String,
    /// This SM-DS's identity (its OID): `functionRequesterIdentifier` on ES15.
    pub identity: String,
    /// `Some` on an Alternative SM-DS: where events with `forwardingIndicator` true are forwarded.
    pub root: Option<RootSmds>,
    /// Live events kept per EID.
    pub max_events_per_eid: usize,
    /// `X-Admin-Protocol` range.
    pub admin_protocol: AdminProtocolPolicy,
}

impl SmdsConfig {
    /// A Root SM-DS (no forwarding) with 32 events per EID and protocol v2.0.0..=v2.5.0.
    pub fn root(address: impl Into<String>, identity: impl Into<String>) -> SmdsConfig {
        SmdsConfig {
            address: address.into(),
            identity: identity.into(),
            root: None,
            max_events_per_eid: 32,
            admin_protocol: AdminProtocolPolicy {
                ours: Svn::new(2, 5, 0),
                lowest: Svn::new(2, 0, 0),
            },
        }
    }
}

// ---- validation ----------------------------------------------------------------------------------

/// A RegisterEvent whose fields are well-formed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidRegister {
    /// EID.
    pub eid: Eid,
    /// RSP server address.
    pub rsp_server_address: String,
    /// EventID.
    pub event_id: String,
    /// Forwarding indicator.
    pub forwarding_indicator: bool,
}

/// A DeleteEvent whose fields are well-formed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidDelete {
    /// EID.
    pub eid: Eid,
    /// EventID.
    pub event_id: String,
}

/// Checks an EID text (32 digits; check digits not enforced, C-01).
pub fn parse_eid(eid: Option<&str>) -> Result<Eid, Refusal> {
    let text = eid.ok_or_else(|| Refusal::new(EID_MISSING, "eid"))?;
    Eid::parse_relaxed(text.trim()).map_err(|e| Refusal::new(EID_INVALID, e.to_string()))
}

/// Checks an EventID: 1..=64 characters of `[0-9A-Za-z-]` (the MatchingID alphabet).
pub fn check_event_id(event_id: Option<&str>) -> Result<String, Refusal> {
    let id = event_id.ok_or_else(|| Refusal::new(EVENT_ID_MISSING, "eventId"))?;
    let ok = (1..=MAX_EVENT_ID_LEN).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if ok {
        Ok(id.to_owned())
    } else {
        Err(Refusal::new(
            EVENT_ID_INVALID,
            "eventId must be 1 to 64 characters of [0-9A-Za-z-]",
        ))
    }
}

/// Checks an RSP server address: a host name (or IPv4 address) of dot-separated labels of
/// `[0-9A-Za-z-]`, optionally `:port`, at most 255 characters.
pub fn check_address(address: Option<&str>) -> Result<String, Refusal> {
    let a = address.ok_or_else(|| Refusal::new(ADDRESS_MISSING, "rspServerAddress"))?;
    let bad = || Refusal::new(ADDRESS_INVALID, "rspServerAddress must be host[:port]");
    if a.is_empty() || a.len() > MAX_ADDRESS_LEN {
        return Err(bad());
    }
    let (host, port) = match a.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (a, None),
    };
    if let Some(p) = port
        && p.parse::<u16>().map_or(true, |n| n == 0)
    {
        return Err(bad());
    }
    let label_ok = |l: &str| {
        (1..=63).contains(&l.len())
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if host.split('.').all(label_ok) {
        Ok(a.to_ascii_lowercase())
    } else {
        Err(bad())
    }
}

/// Checks the fields of a RegisterEvent.
pub fn validate_register(req: &RegisterEventRequest) -> Result<ValidRegister, Refusal> {
    let eid = parse_eid(req.eid.as_deref())?;
    let rsp_server_address = check_address(req.rsp_server_address.as_deref())?;
    let event_id = check_event_id(req.event_id.as_deref())?;
    let forwarding_indicator = req
        .forwarding_indicator
        .ok_or_else(|| Refusal::new(status::MISSING_PARAMETER, "forwardingIndicator"))?;
    Ok(ValidRegister {
        eid,
        rsp_server_address,
        event_id,
        forwarding_indicator,
    })
}

/// Checks the fields of a DeleteEvent.
pub fn validate_delete(req: &DeleteEventRequest) -> Result<ValidDelete, Refusal> {
    Ok(ValidDelete {
        eid: parse_eid(req.eid.as_deref())?,
        event_id: check_event_id(req.event_id.as_deref())?,
    })
}

// ---- decisions -------------------------------------------------------------------------------------

/// What a RegisterEvent does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegisterDecision {
    /// The same registrant registered the same event before: nothing to write.
    AlreadyRegistered,
    /// Store the event, and forward it to the Root SM-DS when `forward` is set.
    Create {
        /// The event row.
        data: Box<EventData>,
        /// The ES15 RegisterEvent for the Root SM-DS (EventID2, pointing to this SM-DS).
        forward: Option<RegisterEventRequest>,
    },
}

/// Decides a RegisterEvent. `existing` is the stored event with the same EventID (live or
/// tombstone), `live_for_eid` the number of live events of the EID, `event_id2` mints the
/// EventID2 of a cascade.
#[allow(clippy::too_many_arguments)]
pub fn decide_register(
    config: &SmdsConfig,
    interface: Interface,
    caller: &CallerIdentity,
    req: &ValidRegister,
    existing: Option<&StoredEvent>,
    live_for_eid: usize,
    event_id2: impl FnOnce() -> Result<String, Refusal>,
    now: OffsetDateTime,
) -> Result<RegisterDecision, Refusal> {
    if let Some(ev) = existing {
        let same = ev.live
            && ev.data.registrant == caller.as_str()
            && ev.data.eid == req.eid.as_str()
            && ev.data.rsp_server_address == req.rsp_server_address
            && ev.data.forwarding_indicator == req.forwarding_indicator;
        return if same {
            Ok(RegisterDecision::AlreadyRegistered)
        } else {
            Err(Refusal::new(
                EVENT_ID_IN_USE,
                "eventId is already registered",
            ))
        };
    }
    if live_for_eid >= config.max_events_per_eid {
        return Err(Refusal::new(
            TOO_MANY_EVENTS,
            format!("at most {} events per EID", config.max_events_per_eid),
        ));
    }
    // Only ES12 events are forwarded, and only by an Alternative SM-DS (a Root has no parent;
    // an ES15 event is already the forwarded copy).
    let root = match (interface, req.forwarding_indicator, &config.root) {
        (Interface::Es12, true, Some(root)) => Some(root),
        _ => None,
    };
    let (forwarded, forward) = match root {
        Some(root) => {
            let id2 = event_id2()?;
            let request = RegisterEventRequest {
                header: Some(RequestHeader {
                    function_requester_identifier: config.identity.clone(),
                    function_call_identifier: format!("{id2}-register"),
                }),
                eid: Some(req.eid.to_string()),
                rsp_server_address: Some(config.address.clone()),
                event_id: Some(id2.clone()),
                forwarding_indicator: Some(false),
            };
            (
                Some(Forwarded {
                    event_id2: id2,
                    root_url: root.url.clone(),
                }),
                Some(request),
            )
        }
        None => (None, None),
    };
    Ok(RegisterDecision::Create {
        data: Box::new(EventData {
            eid: req.eid.to_string(),
            event_id: req.event_id.clone(),
            rsp_server_address: req.rsp_server_address.clone(),
            registrant: caller.as_str().to_owned(),
            forwarding_indicator: req.forwarding_indicator,
            origin: interface.origin(),
            registered_at: now,
            forwarded,
            deleted_at: None,
        }),
        forward,
    })
}

/// What a DeleteEvent does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeleteDecision {
    /// The registrant deleted it before: nothing to write.
    AlreadyDeleted,
    /// Turn the event into a tombstone, and forward the deletion to the Root when set.
    Delete {
        /// The ES15 DeleteEvent for the Root SM-DS (EventID2) and its base URL.
        forward: Option<(String, DeleteEventRequest)>,
    },
}

/// Decides a DeleteEvent: only the registrant may delete, and only an event of that EID.
pub fn decide_delete(
    config: &SmdsConfig,
    caller: &CallerIdentity,
    req: &ValidDelete,
    existing: Option<&StoredEvent>,
) -> Result<DeleteDecision, Refusal> {
    let Some(ev) = existing.filter(|e| e.data.eid == req.eid.as_str()) else {
        return Err(Refusal::new(EVENT_UNKNOWN, "no such event for this EID"));
    };
    if ev.data.registrant != caller.as_str() {
        return Err(Refusal::new(
            NOT_REGISTRANT,
            "only the registrant may delete the event",
        ));
    }
    if !ev.live {
        return Ok(DeleteDecision::AlreadyDeleted);
    }
    let forward = ev.data.forwarded.as_ref().map(|f| {
        (
            f.root_url.clone(),
            DeleteEventRequest {
                header: Some(RequestHeader {
                    function_requester_identifier: config.identity.clone(),
                    function_call_identifier: format!("{}-delete", f.event_id2),
                }),
                eid: Some(ev.data.eid.clone()),
                event_id: Some(f.event_id2.clone()),
            },
        )
    });
    Ok(DeleteDecision::Delete { forward })
}

/// A fresh EventID2: 32 upper-case hex digits from the system RNG.
pub fn random_event_id() -> Result<String, Refusal> {
    let mut b = [0u8; 16];
    rsp_crypto::ecc::fill_random(&mut b).map_err(Refusal::internal)?;
    Ok(hex::encode_upper(b))
}

// ---- service -------------------------------------------------------------------------------------

/// A clock (tests pass a fixed one).
pub type Clock = Arc<dyn Fn() -> OffsetDateTime + Send + Sync>;

/// The ES12 / ES15 service of one SM-DS.
#[derive(Clone)]
pub struct SmdsService {
    /// The events.
    pub events: EventStore,
    /// Configuration.
    pub config: SmdsConfig,
    /// Who may call.
    pub callers: CallerPolicy,
    /// The clock.
    pub clock: Clock,
}

impl fmt::Debug for SmdsService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmdsService")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

fn store_refusal(e: EventStoreError) -> Refusal {
    Refusal::internal(e)
}

fn outbox_op<T: Serialize>(kind: &str, destination: &str, body: &T) -> Result<WriteOp, Refusal> {
    Ok(WriteOp::Enqueue(NewOutboxMessage {
        destination: destination.to_owned(),
        kind: kind.to_owned(),
        payload: serde_json::to_vec(body).map_err(Refusal::internal)?,
    }))
}

impl SmdsService {
    /// A service with the system clock and an open caller policy.
    pub fn new(events: EventStore, config: SmdsConfig) -> SmdsService {
        SmdsService {
            events,
            config,
            callers: CallerPolicy::open(),
            clock: Arc::new(OffsetDateTime::now_utc),
        }
    }

    fn check_header(
        &self,
        interface: Interface,
        caller: &CallerIdentity,
        header: Option<&RequestHeader>,
    ) -> Result<(), Refusal> {
        if !self.callers.allows(interface, caller) {
            return Err(Refusal::new(
                status::CALLER_UNKNOWN,
                "caller not allowed on this interface",
            ));
        }
        let header = header.ok_or_else(|| Refusal::new(status::MISSING_PARAMETER, "header"))?;
        if header.function_requester_identifier != caller.as_str() {
            return Err(Refusal::new(
                status::CALLER_NOT_ALLOWED,
                "functionRequesterIdentifier is not the certificate's identity",
            ));
        }
        Ok(())
    }

    /// RegisterEvent from `caller` on `interface`.
    pub async fn register_event(
        &self,
        interface: Interface,
        caller: &CallerIdentity,
        req: &RegisterEventRequest,
    ) -> Result<(), Refusal> {
        self.check_header(interface, caller, req.header.as_ref())?;
        let valid = validate_register(req)?;
        let now = (self.clock)();
        let existing = self
            .events
            .get(&valid.event_id)
            .await
            .map_err(store_refusal)?;
        let live = if existing.is_none() {
            self.events
                .live_for_eid(valid.eid.as_str())
                .await
                .map_err(store_refusal)?
                .len()
        } else {
            0
        };
        let decision = decide_register(
            &self.config,
            interface,
            caller,
            &valid,
            existing.as_ref(),
            live,
            random_event_id,
            now,
        )?;
        let RegisterDecision::Create { data, forward } = decision else {
            return Ok(());
        };
        let mut ops = vec![EventStore::create_op(&data).map_err(store_refusal)?];
        if let (Some(fwd), Some(f)) = (forward, &data.forwarded) {
            ops.push(outbox_op(OUTBOX_ES15_REGISTER, &f.root_url, &fwd)?);
        }
        match self.events.apply(&ops, now).await {
            Ok(()) => Ok(()),
            // A concurrent RegisterEvent with the same EventID won.
            Err(EventStoreError::Store(StoreError::Duplicate { .. })) => Err(Refusal::new(
                EVENT_ID_IN_USE,
                "eventId is already registered",
            )),
            Err(e) => Err(store_refusal(e)),
        }
    }

    /// DeleteEvent from `caller` on `interface`.
    pub async fn delete_event(
        &self,
        interface: Interface,
        caller: &CallerIdentity,
        req: &DeleteEventRequest,
    ) -> Result<(), Refusal> {
        self.check_header(interface, caller, req.header.as_ref())?;
        let valid = validate_delete(req)?;
        let now = (self.clock)();
        let existing = self
            .events
            .get(&valid.event_id)
            .await
            .map_err(store_refusal)?;
        let decision = decide_delete(&self.config, caller, &valid, existing.as_ref())?;
        let (DeleteDecision::Delete { forward }, Some(ev)) = (decision, existing) else {
            return Ok(());
        };
        let mut ops = vec![EventStore::delete_op(&ev, now).map_err(store_refusal)?];
        if let Some((url, fwd)) = forward {
            ops.push(outbox_op(OUTBOX_ES15_DELETE, &url, &fwd)?);
        }
        match self.events.apply(&ops, now).await {
            Ok(()) => Ok(()),
            Err(EventStoreError::Store(StoreError::Conflict { .. })) => {
                Err(Refusal::new(BUSY, "the event changed concurrently; retry"))
            }
            Err(e) => Err(store_refusal(e)),
        }
    }
}

// ---- router --------------------------------------------------------------------------------------

/// The ES12 and ES15 router (state included).
pub fn router(service: Arc<SmdsService>) -> Router {
    let mut r = Router::new();
    for interface in [Interface::Es12, Interface::Es15] {
        let base = interface.base_path();
        r = r
            .route(
                &format!("{base}/{REGISTER_EVENT}"),
                post(move |s: State<Arc<SmdsService>>, req: Request| {
                    handle(s, interface, Function::Register, req)
                }),
            )
            .route(
                &format!("{base}/{DELETE_EVENT}"),
                post(move |s: State<Arc<SmdsService>>, req: Request| {
                    handle(s, interface, Function::Delete, req)
                }),
            );
    }
    r.with_state(service)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Function {
    Register,
    Delete,
}

/// A JSON response with `Content-Type` and `X-Admin-Protocol: version`.
pub fn json_response(version: Svn, body: Vec<u8>) -> Response {
    let mut resp = Response::new(Body::from(body));
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(json::CONTENT_TYPE),
    );
    if let Ok(v) = HeaderValue::from_str(&version.admin_protocol()) {
        h.insert(json::ADMIN_PROTOCOL_HEADER, v);
    }
    resp
}

fn header_only(result: Result<(), Refusal>) -> Vec<u8> {
    let body = match result {
        Ok(()) => HeaderOnly::ok(json::Empty {}),
        Err(r) => HeaderOnly::status(r.code.failed().with_message(r.message)),
    };
    serde_json::to_vec(&body).unwrap_or_default()
}

fn admin_header(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(json::ADMIN_PROTOCOL_HEADER)
        .and_then(|v| v.to_str().ok())
}

async fn handle(
    State(st): State<Arc<SmdsService>>,
    interface: Interface,
    function: Function,
    req: Request,
) -> Response {
    let (parts, body) = req.into_parts();
    let policy = st.config.admin_protocol;
    let version = match policy.common_version(admin_header(&parts.headers)) {
        Ok(v) => v,
        Err(e) => {
            return json_response(
                policy.lowest,
                header_only(Err(Refusal::new(
                    status::UNSUPPORTED_PROTOCOL_VERSION,
                    e.to_string(),
                ))),
            );
        }
    };
    let bytes: Bytes = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(b) => b,
        Err(_) => return (HttpStatus::PAYLOAD_TOO_LARGE, "body too large").into_response(),
    };
    let caller = peer_certificate(&parts.extensions)
        .as_deref()
        .and_then(CallerIdentity::of_certificate);
    let result = match function {
        Function::Register => match serde_json::from_slice::<RegisterEventRequest>(&bytes) {
            Ok(req) => match &caller {
                Some(c) => st.register_event(interface, c, &req).await,
                None => Err(no_certificate()),
            },
            Err(e) => return bad_json(e),
        },
        Function::Delete => match serde_json::from_slice::<DeleteEventRequest>(&bytes) {
            Ok(req) => match &caller {
                Some(c) => st.delete_event(interface, c, &req).await,
                None => Err(no_certificate()),
            },
            Err(e) => return bad_json(e),
        },
    };
    if let Err(r) = &result {
        tracing::info!(?interface, ?function, code = %r, "SM-DS call refused");
    }
    json_response(version, header_only(result))
}

fn no_certificate() -> Refusal {
    Refusal::new(status::CALLER_UNKNOWN, "no usable client certificate")
}

fn bad_json(e: serde_json::Error) -> Response {
    (HttpStatus::BAD_REQUEST, format!("malformed JSON: {e}")).into_response()
}
