//! ES2+ (Operator ↔ SM-DP+) over the JSON binding (sgp22.md §8.1–§8.5, §9.3, §10).
//!
//! - [`router`]: `POST /gsma/rsp2/es2plus/{downloadOrder,confirmOrder,cancelOrder,releaseProfile}`.
//!   Functional errors are HTTP 200 with `header.functionExecutionStatus` `Failed` and
//!   `statusCodeData`; HTTP 400 only for a body that is not JSON of the function's shape, 405 for
//!   another method (axum's method routing).
//! - Caller identity: the TLS listener inserts [`PeerCertificate`] (the client's DER leaf
//!   certificate) into the request extensions; [`OperatorDirectory`] maps it to an Operator by
//!   SHA-256 fingerprint or subject commonName. No or unknown certificate → `1.1`/`1.1`; a
//!   `functionRequesterIdentifier` other than the Operator's id → `1.1`/`1.2`; an order of another
//!   Operator → `8.2.1`/`1.2`.
//! - `X-Admin-Protocol` policy ([`AdminProtocolPolicy`]): the answer carries the lower of ours and
//!   the caller's version; an absent or unreadable header is taken as our lowest supported
//!   version; a major version below our lowest is refused with `1.3.2`/`3.1`.
//! - Idempotency: (`Operator id`, `functionCallIdentifier`) keys an [`rsp_store::IdempotencyStore`]
//!   record. A retry with the same request gets the stored response and changes nothing; the same
//!   key with a different request is refused (`1.6`/`3.3`); a key still being processed answers
//!   `1.2`/`4.4` (busy). The stored response is written in the same atomic batch as the order
//!   update; failures that are not functional (store errors) forget the key so a retry runs anew.
//! - HandleDownloadProgressInfo (SM-DP+ → Operator): [`ProgressNotifier::op`] gives the outbox
//!   write to put in the same `Store::apply` batch as the order update; [`DeliveryWorker`] POSTs
//!   queued callbacks to the Operator's URL (from the directory) with retries.
//!
//! - SM-DS events (ES12): with [`Es2Plus::with_smds_events`], the order update of ConfirmOrder,
//!   ReleaseProfile and CancelOrder carries the ES12 RegisterEvent / DeleteEvent outbox write in
//!   the same batch ([`crate::es12`] says when).
//!
//! Decisions: ConfirmOrder takes the Confirmation Code in clear and stores `SHA256(CC)` only; an
//! `smdsAddress` must be `host[:port]` or an `https://` URL (else 8.9.1/2.1) and then needs a
//! MatchingID of 1..=64 characters (else 8.2.6/2.1) and the EID (8.1.1/2.2); EIDs are parsed without checking their check digits (C-01: log and proceed);
//! DownloadOrder with neither `iccid` nor `profileType` is `1.6`/`2.2`.

use std::fmt;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode as HttpStatus, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use rsp_sgp22::json::{
    self, AdminProtocolPolicy, CancelOrderRequest, ConfirmOrderOk, ConfirmOrderRequest,
    DownloadOrderOk, DownloadOrderRequest, HandleDownloadProgressInfoRequest, HeaderOnly,
    ReleaseProfileRequest, RequestHeader, Response as JsonResponse,
};
use rsp_store::{IdempotencyBegin, NewOutboxMessage, Store, StoreError, WriteOp};
use rsp_types::codes::sgp22::{reason, status, subject};
use rsp_types::{Eid, FunctionExecutionStatus, Iccid, StatusCode, Svn};
use serde::Serialize;
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use crate::es12::{EventRegistrar, check_event_data};
use crate::inventory::{AllocationRequest, Inventory, InventoryError};
use crate::order::{
    ConfirmRequest, FinalProfileStatus, Order, OrderError, OrderLimits, OrderStoreError, Orders,
    StoredOrder, generate_matching_id, matching_id_claim, validate_matching_id,
};

/// Base path of ES2+.
pub const BASE_PATH: &str = "/gsma/rsp2/es2plus";
/// Outbox kind of a queued HandleDownloadProgressInfo.
pub const PROGRESS_OUTBOX_KIND: &str = "es2plus.handleDownloadProgressInfo";
/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// `1.2`/`4.4`: the same functionCallIdentifier is still being processed.
pub const FUNCTION_PROVIDER_BUSY: StatusCode =
    StatusCode::new(subject::FUNCTION_PROVIDER, reason::BUSY);
/// `1.6`/`3.3`: the functionCallIdentifier was used for a different request.
pub const FUNCTION_CALL_ID_REUSED: StatusCode =
    StatusCode::new(subject::FUNCTION, reason::ALREADY_IN_USE);
/// `8.1.1`/`2.1`: the EID is not 32 digits.
pub const EID_INVALID: StatusCode = StatusCode::new(subject::EID, reason::INVALID);
/// `8.2.1`/`2.1`: the ICCID is not valid.
pub const ICCID_INVALID: StatusCode = StatusCode::new(subject::PROFILE_ICCID, reason::INVALID);

/// The TLS client's DER leaf certificate, inserted into request extensions by the listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerCertificate(pub Vec<u8>);

/// One Operator allowed on ES2+.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorEntry {
    /// The Operator's id (its `functionRequesterIdentifier`, the owner of its orders).
    pub id: String,
    /// SHA-256 fingerprints of its TLS client certificates.
    pub certificate_sha256: Vec<[u8; 32]>,
    /// Subject commonNames of its TLS client certificates (the certificate chain itself is
    /// checked by the TLS listener).
    pub subject_common_names: Vec<String>,
    /// Base URL of its ES2+ endpoint for HandleDownloadProgressInfo
    /// (`https://operator.example.com`; the path `/gsma/rsp2/es2plus/handleDownloadProgressInfo`
    /// is appended), if it wants callbacks.
    pub callback_url: Option<String>,
}

/// The Operators known to this SM-DP+.
#[derive(Debug, Clone, Default)]
pub struct OperatorDirectory {
    operators: Vec<OperatorEntry>,
}

impl OperatorDirectory {
    /// A directory of `operators`.
    pub fn new(operators: Vec<OperatorEntry>) -> Self {
        OperatorDirectory { operators }
    }

    /// The Operator presenting `cert` (DER): by fingerprint, else by subject commonName.
    pub fn identify(&self, cert: &[u8]) -> Option<&OperatorEntry> {
        let fp: [u8; 32] = Sha256::digest(cert).into();
        if let Some(op) = self
            .operators
            .iter()
            .find(|o| o.certificate_sha256.contains(&fp))
        {
            return Some(op);
        }
        let parsed = rsp_crypto::x509::Certificate::from_der(cert).ok()?;
        let cn = parsed.subject().common_name()?;
        self.operators
            .iter()
            .find(|o| o.subject_common_names.iter().any(|n| n == cn))
    }

    /// The Operator with `id`.
    pub fn get(&self, id: &str) -> Option<&OperatorEntry> {
        self.operators.iter().find(|o| o.id == id)
    }
}

/// A clock (tests pass a fixed one).
pub type Clock = Arc<dyn Fn() -> OffsetDateTime + Send + Sync>;

/// Configuration and state of the ES2+ service.
#[derive(Clone)]
pub struct Es2Plus {
    /// Orders in the store.
    pub orders: Orders,
    /// The profiles.
    pub inventory: Arc<Inventory>,
    /// The Operators.
    pub directory: Arc<OperatorDirectory>,
    /// Our `X-Admin-Protocol` range.
    pub admin_protocol: AdminProtocolPolicy,
    /// The SM-DP+ address returned by ConfirmOrder (`smdpAddress`).
    pub smdp_address: String,
    /// Time to live of a new order (`None` = no expiry).
    pub order_ttl: Option<Duration>,
    /// Counter limits of new orders.
    pub limits: OrderLimits,
    /// The clock.
    pub clock: Clock,
    /// ES12: registers / deletes SM-DS events with the order updates (`None` = never).
    pub smds_events: Option<Arc<EventRegistrar>>,
}

impl fmt::Debug for Es2Plus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Es2Plus")
            .field("smdp_address", &self.smdp_address)
            .field("admin_protocol", &self.admin_protocol)
            .finish_non_exhaustive()
    }
}

impl Es2Plus {
    /// A service with the system clock, no order expiry and default limits.
    pub fn new(
        store: Arc<dyn Store>,
        inventory: Arc<Inventory>,
        directory: Arc<OperatorDirectory>,
        smdp_address: impl Into<String>,
    ) -> Es2Plus {
        Es2Plus {
            orders: Orders::new(store),
            inventory,
            directory,
            admin_protocol: AdminProtocolPolicy {
                ours: Svn::new(2, 5, 0),
                lowest: Svn::new(2, 0, 0),
            },
            smdp_address: smdp_address.into(),
            order_ttl: None,
            limits: OrderLimits::default(),
            clock: Arc::new(OffsetDateTime::now_utc),
            smds_events: None,
        }
    }

    /// Registers SM-DS events (ES12) through `registrar`.
    pub fn with_smds_events(mut self, registrar: Arc<EventRegistrar>) -> Es2Plus {
        self.smds_events = Some(registrar);
        self
    }
}

/// The ES2+ router (state included): mount it next to ES9+.
pub fn router(service: Es2Plus) -> Router {
    let state = Arc::new(service);
    Router::new()
        .route(
            &format!("{BASE_PATH}/downloadOrder"),
            post(|s: State<Arc<Es2Plus>>, r: Request| handle(s, Function::DownloadOrder, r)),
        )
        .route(
            &format!("{BASE_PATH}/confirmOrder"),
            post(|s: State<Arc<Es2Plus>>, r: Request| handle(s, Function::ConfirmOrder, r)),
        )
        .route(
            &format!("{BASE_PATH}/cancelOrder"),
            post(|s: State<Arc<Es2Plus>>, r: Request| handle(s, Function::CancelOrder, r)),
        )
        .route(
            &format!("{BASE_PATH}/releaseProfile"),
            post(|s: State<Arc<Es2Plus>>, r: Request| handle(s, Function::ReleaseProfile, r)),
        )
        .with_state(state)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Function {
    DownloadOrder,
    ConfirmOrder,
    CancelOrder,
    ReleaseProfile,
}

impl Function {
    fn name(self) -> &'static str {
        match self {
            Function::DownloadOrder => "downloadOrder",
            Function::ConfirmOrder => "confirmOrder",
            Function::CancelOrder => "cancelOrder",
            Function::ReleaseProfile => "releaseProfile",
        }
    }
}

/// A parsed request of one of the four functions.
enum Parsed {
    Download(DownloadOrderRequest),
    Confirm(ConfirmOrderRequest),
    Cancel(CancelOrderRequest),
    Release(ReleaseProfileRequest),
}

impl Parsed {
    fn header(&self) -> Option<&RequestHeader> {
        match self {
            Parsed::Download(r) => r.header.as_ref(),
            Parsed::Confirm(r) => r.header.as_ref(),
            Parsed::Cancel(r) => r.header.as_ref(),
            Parsed::Release(r) => r.header.as_ref(),
        }
    }
}

fn parse(function: Function, body: &[u8]) -> Result<Parsed, serde_json::Error> {
    Ok(match function {
        Function::DownloadOrder => Parsed::Download(serde_json::from_slice(body)?),
        Function::ConfirmOrder => Parsed::Confirm(serde_json::from_slice(body)?),
        Function::CancelOrder => Parsed::Cancel(serde_json::from_slice(body)?),
        Function::ReleaseProfile => Parsed::Release(serde_json::from_slice(body)?),
    })
}

fn json_response(version: Svn, body: Vec<u8>) -> Response {
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

fn failure_body(code: StatusCode, message: Option<&str>) -> Vec<u8> {
    let mut st = code.failed();
    if let Some(m) = message {
        st = st.with_message(m);
    }
    to_json(&HeaderOnly::status(st))
}

fn to_json<T: Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).unwrap_or_default()
}

fn admin_header(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(json::ADMIN_PROTOCOL_HEADER)
        .and_then(|v| v.to_str().ok())
}

async fn handle(State(st): State<Arc<Es2Plus>>, function: Function, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let version = match st
        .admin_protocol
        .common_version(admin_header(&parts.headers))
    {
        Ok(v) => v,
        Err(e) => {
            return json_response(
                st.admin_protocol.lowest,
                failure_body(status::UNSUPPORTED_PROTOCOL_VERSION, Some(&e.to_string())),
            );
        }
    };
    let bytes: Bytes = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(b) => b,
        Err(_) => return (HttpStatus::PAYLOAD_TOO_LARGE, "body too large").into_response(),
    };
    let parsed = match parse(function, &bytes) {
        Ok(p) => p,
        Err(e) => {
            return (HttpStatus::BAD_REQUEST, format!("malformed JSON: {e}")).into_response();
        }
    };
    let Some(cert) = parts.extensions.get::<PeerCertificate>() else {
        return json_response(
            version,
            failure_body(status::CALLER_UNKNOWN, Some("no client certificate")),
        );
    };
    let Some(operator) = st.directory.identify(&cert.0).cloned() else {
        return json_response(
            version,
            failure_body(status::CALLER_UNKNOWN, Some("unknown client certificate")),
        );
    };
    let Some(header) = parsed.header().cloned() else {
        return json_response(
            version,
            failure_body(status::MISSING_PARAMETER, Some("header")),
        );
    };
    if header.function_requester_identifier != operator.id {
        return json_response(
            version,
            failure_body(
                status::CALLER_NOT_ALLOWED,
                Some("functionRequesterIdentifier is not the certificate's Operator"),
            ),
        );
    }
    let now = (st.clock)();
    let store = st.orders.store().clone();
    let fcid = header.function_call_identifier.clone();
    let request_hash = canonical_hash(function, &bytes);
    match store
        .begin_idempotent(&operator.id, &fcid, &request_hash, now)
        .await
    {
        Ok(IdempotencyBegin::New) => {}
        Ok(IdempotencyBegin::Completed(stored)) => return json_response(version, stored),
        Ok(IdempotencyBegin::InProgress) => {
            return json_response(version, failure_body(FUNCTION_PROVIDER_BUSY, None));
        }
        Ok(IdempotencyBegin::Mismatch) => {
            return json_response(
                version,
                failure_body(
                    FUNCTION_CALL_ID_REUSED,
                    Some("functionCallIdentifier used for another request"),
                ),
            );
        }
        Err(e) => {
            tracing::error!(error = %e, "es2plus idempotency store");
            return json_response(version, failure_body(status::INTERNAL_ERROR, None));
        }
    }
    let done = Completion {
        caller: operator.id.clone(),
        fcid: fcid.clone(),
    };
    let result = match parsed {
        Parsed::Download(r) => download_order(&st, &operator, r, &done, now).await,
        Parsed::Confirm(r) => confirm_order(&st, &operator, r, &done, now).await,
        Parsed::Cancel(r) => cancel_order(&st, &operator, r, &done, now).await,
        Parsed::Release(r) => release_profile(&st, &operator, r, &done, now).await,
    };
    match result {
        Ok(Handled::Saved(body)) => json_response(version, body),
        Ok(Handled::Unsaved(body)) => {
            if let Err(e) = store
                .complete_idempotent(&operator.id, &fcid, &body, now)
                .await
            {
                tracing::warn!(error = %e, "es2plus: storing the idempotent response failed");
            }
            json_response(version, body)
        }
        Err(internal) => {
            tracing::error!(function = function.name(), error = %internal, "es2plus");
            if let Err(e) = store.abandon_idempotent(&operator.id, &fcid).await {
                tracing::warn!(error = %e, "es2plus: abandoning the idempotency key failed");
            }
            json_response(version, failure_body(status::INTERNAL_ERROR, None))
        }
    }
}

/// Hash of the request for idempotency: the function and the JSON re-serialised canonically
/// (object keys sorted), so whitespace and key order do not matter.
fn canonical_hash(function: Function, body: &[u8]) -> Vec<u8> {
    let canonical = serde_json::from_slice::<serde_json::Value>(body)
        .map(|v| to_json(&v))
        .unwrap_or_else(|_| body.to_vec());
    let mut h = Sha256::new();
    h.update(function.name().as_bytes());
    h.update([0]);
    h.update(&canonical);
    h.finalize().to_vec()
}

struct Completion {
    caller: String,
    fcid: String,
}

impl Completion {
    fn op(&self, response: &[u8]) -> WriteOp {
        WriteOp::CompleteIdempotency {
            caller: self.caller.clone(),
            fcid: self.fcid.clone(),
            response: response.to_vec(),
        }
    }
}

/// A functional outcome: the response, and whether its idempotency record was already written
/// in the batch.
enum Handled {
    Saved(Vec<u8>),
    Unsaved(Vec<u8>),
}

fn refuse(code: StatusCode, message: Option<&str>) -> Handled {
    Handled::Unsaved(failure_body(code, message))
}

/// Errors that are not the caller's: the store failed.
#[derive(Debug, thiserror::Error)]
enum Internal {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("order store: {0}")]
    Orders(OrderStoreError),
    #[error("the order kept changing concurrently")]
    Contention,
}

/// Attempts of a read-modify-write before giving up on contention.
const MAX_WRITE_ATTEMPTS: usize = 4;

fn parse_eid(text: Option<&str>) -> Result<Option<Eid>, Handled> {
    match text {
        None => Ok(None),
        Some(t) => Eid::parse_relaxed(t.trim())
            .map(Some)
            .map_err(|e| refuse(EID_INVALID, Some(&e.to_string()))),
    }
}

fn parse_iccid(text: Option<&str>) -> Result<Iccid, Handled> {
    match text {
        None => Err(refuse(status::ICCID_MISSING, Some("iccid"))),
        Some(t) => t
            .trim()
            .parse::<Iccid>()
            .map_err(|e| refuse(ICCID_INVALID, Some(&e.to_string()))),
    }
}

macro_rules! try_handled {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(h) => return Ok(h),
        }
    };
}

async fn download_order(
    st: &Es2Plus,
    operator: &OperatorEntry,
    req: DownloadOrderRequest,
    done: &Completion,
    now: OffsetDateTime,
) -> Result<Handled, Internal> {
    let eid = try_handled!(parse_eid(req.eid.as_deref()));
    let iccid = match req.iccid.as_deref() {
        None => None,
        Some(_) => Some(try_handled!(parse_iccid(req.iccid.as_deref()))),
    };
    let alloc = AllocationRequest {
        operator: operator.id.clone(),
        eid,
        iccid,
        profile_type: req.profile_type.clone(),
        expires_at: crate::order::expiry(now, st.order_ttl),
        limits: st.limits,
    };
    let result = st
        .inventory
        .allocate_with(&st.orders, &alloc, now, |stored: &StoredOrder| {
            let body = to_json(&JsonResponse::ok(DownloadOrderOk {
                iccid: stored.order.iccid.to_string(),
            }));
            vec![done.op(&body)]
        })
        .await;
    match result {
        Ok(stored) => Ok(Handled::Saved(to_json(&JsonResponse::ok(
            DownloadOrderOk {
                iccid: stored.order.iccid.to_string(),
            },
        )))),
        Err(e) => match e.status() {
            Some(code) => Ok(refuse(code, Some(&e.to_string()))),
            None => Err(match e {
                InventoryError::Store(inner) => Internal::Orders(inner),
                other => Internal::Store(StoreError::Corrupt(other.to_string())),
            }),
        },
    }
}

/// Loads the order of `iccid`, applies `change`, saves it with the response's
/// idempotency record; retries on concurrent changes.
async fn update_order<F>(
    st: &Es2Plus,
    iccid: &Iccid,
    done: &Completion,
    now: OffsetDateTime,
    mut change: F,
) -> Result<Handled, Internal>
where
    F: FnMut(&mut Order) -> Result<(Vec<u8>, Vec<WriteOp>), OrderError>,
{
    for _ in 0..MAX_WRITE_ATTEMPTS {
        let stored = match st.orders.get(iccid).await {
            Ok(Some(s)) if s.order.state.is_reserved() => s,
            // An ICCID of the inventory that nobody ordered is as unknown as any other.
            Ok(_) => return Ok(refuse(status::UNKNOWN_ICCID, None)),
            Err(e) => return Err(Internal::Orders(e)),
        };
        let mut next = stored.clone();
        let (body, mut extra) = match change(&mut next.order) {
            Ok(v) => v,
            Err(e) => return Ok(refuse(e.status(), Some(&e.to_string()))),
        };
        if next.order == stored.order {
            // Nothing changed (a retry with the same data): only record the response.
            return Ok(Handled::Unsaved(body));
        }
        extra.extend(crate::es12::writes_of(
            st.smds_events.as_deref(),
            &stored.order,
            &next.order,
        ));
        extra.push(done.op(&body));
        match st.orders.save(&next, extra, now).await {
            Ok(_) => return Ok(Handled::Saved(body)),
            Err(OrderStoreError::Conflict) => continue,
            Err(OrderStoreError::Store(StoreError::Duplicate { .. })) => {
                // The MatchingID claim was taken by another order in the meantime.
                return Ok(refuse(status::MATCHING_ID_IN_USE, None));
            }
            Err(e) => return Err(Internal::Orders(e)),
        }
    }
    Err(Internal::Contention)
}

async fn confirm_order(
    st: &Es2Plus,
    operator: &OperatorEntry,
    req: ConfirmOrderRequest,
    done: &Completion,
    now: OffsetDateTime,
) -> Result<Handled, Internal> {
    let iccid = try_handled!(parse_iccid(req.iccid.as_deref()));
    let eid = try_handled!(parse_eid(req.eid.as_deref()));
    let Some(release_flag) = req.release_flag else {
        return Ok(refuse(status::MISSING_PARAMETER, Some("releaseFlag")));
    };
    let confirm = ConfirmRequest {
        eid,
        matching_id: req.matching_id.clone(),
        confirmation_code: req.confirmation_code.clone(),
        smds_address: req.smds_address.clone(),
        release_flag,
    };
    // The final MatchingID: given (checked here), or generated (unused), or none ("").
    let (matching_id, claim_needed) = match req.matching_id.as_deref() {
        Some("") => (String::new(), false),
        Some(given) => {
            if let Err(e) = validate_matching_id(given) {
                return Ok(refuse(e.status(), Some(&e.to_string())));
            }
            match st.orders.matching_id_owner(given).await {
                Ok(Some(owner)) if owner != iccid.as_str() => {
                    return Ok(refuse(status::MATCHING_ID_IN_USE, None));
                }
                Ok(Some(_)) => {
                    // Claimed for this ICCID: only a retry of the same order may use it again
                    // (never a new order after CancelOrder).
                    match st.orders.get(&iccid).await {
                        Ok(Some(s)) if s.order.matching_id.as_deref() == Some(given) => {
                            (given.to_owned(), false)
                        }
                        Ok(_) => return Ok(refuse(status::MATCHING_ID_IN_USE, None)),
                        Err(e) => return Err(Internal::Orders(e)),
                    }
                }
                Ok(None) => (given.to_owned(), true),
                Err(e) => return Err(Internal::Orders(e)),
            }
        }
        None => {
            // A retry of a ConfirmOrder without MatchingID keeps the one generated first.
            match st.orders.get(&iccid).await {
                Ok(Some(s))
                    if s.order.operator_id == operator.id
                        && s.order
                            .matching_id
                            .as_deref()
                            .is_some_and(|m| !m.is_empty())
                        && matches!(
                            s.order.state,
                            crate::order::OrderState::Confirmed
                                | crate::order::OrderState::Released
                        ) =>
                {
                    (s.order.matching_id.clone().unwrap_or_default(), false)
                }
                Ok(_) => (fresh_matching_id(&st.orders).await?, true),
                Err(e) => return Err(Internal::Orders(e)),
            }
        }
    };
    if let Some(address) = req.smds_address.as_deref()
        && let Err(code) = check_event_data(address, &matching_id)
    {
        return Ok(refuse(
            code,
            Some(
                "smdsAddress needs host[:port] or an https:// URL, and a MatchingID of 1 to 64 characters",
            ),
        ));
    }
    let smdp_address = st.smdp_address.clone();
    update_order(st, &iccid, done, now, |order| {
        order.confirm(&operator.id, &confirm, &matching_id)?;
        let body = to_json(&JsonResponse::ok(ConfirmOrderOk {
            eid: order.eid.map(|e| e.to_string()),
            matching_id: matching_id.clone(),
            smdp_address: Some(smdp_address.clone()),
        }));
        let extra = if claim_needed {
            vec![matching_id_claim(&matching_id, &order.iccid)]
        } else {
            Vec::new()
        };
        Ok((body, extra))
    })
    .await
}

async fn fresh_matching_id(orders: &Orders) -> Result<String, Internal> {
    for _ in 0..8 {
        let m = generate_matching_id().map_err(Internal::Orders)?;
        if orders
            .matching_id_owner(&m)
            .await
            .map_err(Internal::Orders)?
            .is_none()
        {
            return Ok(m);
        }
    }
    Err(Internal::Contention)
}

async fn cancel_order(
    st: &Es2Plus,
    operator: &OperatorEntry,
    req: CancelOrderRequest,
    done: &Completion,
    now: OffsetDateTime,
) -> Result<Handled, Internal> {
    let iccid = try_handled!(parse_iccid(req.iccid.as_deref()));
    let eid = try_handled!(parse_eid(req.eid.as_deref()));
    let Some(indicator) = req.final_profile_status_indicator.as_deref() else {
        return Ok(refuse(
            status::ICCID_MISSING,
            Some("finalProfileStatusIndicator"),
        ));
    };
    let Ok(final_state) = indicator.parse::<FinalProfileStatus>() else {
        return Ok(refuse(
            status::INVALID_PARAMETER,
            Some("finalProfileStatusIndicator must be Available or Unavailable"),
        ));
    };
    let body = to_json(&HeaderOnly::ok(json::Empty {}));
    update_order(st, &iccid, done, now, |order| {
        order.cancel(
            &operator.id,
            eid.as_ref(),
            req.matching_id.as_deref(),
            final_state,
        )?;
        Ok((body.clone(), Vec::new()))
    })
    .await
}

async fn release_profile(
    st: &Es2Plus,
    operator: &OperatorEntry,
    req: ReleaseProfileRequest,
    done: &Completion,
    now: OffsetDateTime,
) -> Result<Handled, Internal> {
    let iccid = try_handled!(parse_iccid(req.iccid.as_deref()));
    let body = to_json(&HeaderOnly::ok(json::Empty {}));
    update_order(st, &iccid, done, now, |order| {
        order.release(&operator.id)?;
        Ok((body.clone(), Vec::new()))
    })
    .await
}

// ---- HandleDownloadProgressInfo ------------------------------------------------------------------

/// `notificationPointId` values (sgp22.md §8.5, U-41).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotificationPoint {
    /// 1: eligibility and retry-limit check (AuthenticateClient).
    EligibilityCheck,
    /// 2: confirmation failure (Confirmation Code refused or exhausted).
    ConfirmationFailure,
    /// 3: BPP download (GetBoundProfilePackage).
    BppDownload,
    /// 4: BPP installation (Profile Installation Result).
    BppInstallation,
}

impl NotificationPoint {
    /// The `notificationPointId` integer.
    pub const fn id(self) -> i64 {
        match self {
            NotificationPoint::EligibilityCheck => 1,
            NotificationPoint::ConfirmationFailure => 2,
            NotificationPoint::BppDownload => 3,
            NotificationPoint::BppInstallation => 4,
        }
    }
}

/// One download progress event for the Operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadProgress {
    /// Where in the download.
    pub point: NotificationPoint,
    /// `notificationPointStatus` (success, or Failed with the order's code).
    pub status: FunctionExecutionStatus,
    /// `resultData` (the DER Profile Installation Result for point 4).
    pub result_data: Option<Vec<u8>>,
    /// `imei`, if known.
    pub imei: Option<String>,
}

/// Builds the outbox writes of HandleDownloadProgressInfo callbacks.
#[derive(Debug, Clone)]
pub struct ProgressNotifier {
    /// Our `functionRequesterIdentifier` towards Operators.
    pub smdp_identifier: String,
    /// The Operators (callback URLs).
    pub directory: Arc<OperatorDirectory>,
}

impl ProgressNotifier {
    /// The outbox write announcing `progress` for `order` to its Operator; `None` when the
    /// Operator has no callback URL. Put it in the same `Store::apply` batch as the order update
    /// (e.g. `orders.save(&stored, vec![op], now)`).
    pub fn op(
        &self,
        order: &Order,
        progress: DownloadProgress,
        now: OffsetDateTime,
    ) -> Result<Option<WriteOp>, OrderStoreError> {
        let Some(operator) = self.directory.get(&order.operator_id) else {
            return Ok(None);
        };
        if operator.callback_url.is_none() {
            return Ok(None);
        }
        let mut nonce = [0u8; 8];
        rsp_crypto::ecc::fill_random(&mut nonce)
            .map_err(|e| OrderStoreError::Random(e.to_string()))?;
        let request = HandleDownloadProgressInfoRequest {
            header: Some(RequestHeader {
                function_requester_identifier: self.smdp_identifier.clone(),
                function_call_identifier: format!(
                    "{}-{}-{}",
                    order.iccid,
                    progress.point.id(),
                    hex::encode_upper(nonce)
                ),
            }),
            eid: order.eid.map(|e| e.to_string()),
            iccid: order.iccid.to_string(),
            profile_type: order.profile_type.clone(),
            timestamp: w3c_timestamp(now),
            notification_point_id: progress.point.id(),
            notification_point_status: progress.status,
            result_data: progress.result_data,
            imei: progress.imei,
        };
        Ok(Some(WriteOp::Enqueue(NewOutboxMessage {
            destination: operator.id.clone(),
            kind: PROGRESS_OUTBOX_KIND.to_owned(),
            payload: to_json(&request),
        })))
    }
}

/// `YYYY-MM-DDThh:mm:ssZ` (UTC).
pub fn w3c_timestamp(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Delivers queued HandleDownloadProgressInfo callbacks from the outbox.
#[derive(Clone)]
pub struct DeliveryWorker {
    /// The store holding the outbox.
    pub store: Arc<dyn Store>,
    /// The Operators (callback URLs, looked up at delivery time).
    pub directory: Arc<OperatorDirectory>,
    /// The HTTP client (its TLS configuration is the caller's: client certificate, trust).
    pub client: reqwest::Client,
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
    /// Messages claimed per round.
    pub batch: u32,
}

impl fmt::Debug for DeliveryWorker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeliveryWorker")
            .field("holder", &self.holder)
            .field("max_attempts", &self.max_attempts)
            .finish_non_exhaustive()
    }
}

/// Default backoff: 10 s doubled per failure, at most one hour.
pub fn default_backoff(attempts: u32) -> Duration {
    let secs = 10i64.saturating_mul(1i64 << attempts.min(9));
    Duration::seconds(secs.min(3600))
}

/// What one delivery round did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DeliveryReport {
    /// Delivered (HTTP 2xx).
    pub delivered: usize,
    /// Failed and rescheduled.
    pub retried: usize,
    /// Failed for the last time (dead letters).
    pub dead: usize,
}

impl DeliveryWorker {
    /// A worker with default lease (1 min), attempts (8), backoff and batch (16).
    pub fn new(
        store: Arc<dyn Store>,
        directory: Arc<OperatorDirectory>,
        client: reqwest::Client,
        admin_protocol: Svn,
        holder: impl Into<String>,
    ) -> DeliveryWorker {
        DeliveryWorker {
            store,
            directory,
            client,
            admin_protocol,
            holder: holder.into(),
            lease: Duration::minutes(1),
            max_attempts: 8,
            backoff: default_backoff,
            batch: 16,
        }
    }

    /// Claims due callbacks and tries each once.
    pub async fn run_once(&self, now: OffsetDateTime) -> Result<DeliveryReport, StoreError> {
        let round = crate::outbox::OutboxRound {
            holder: self.holder.clone(),
            lease: self.lease,
            max_attempts: self.max_attempts,
            backoff: self.backoff,
            batch: self.batch,
        };
        let r = round
            .run(
                self.store.as_ref(),
                &[PROGRESS_OUTBOX_KIND],
                now,
                |msg| async move {
                    match self.deliver(&msg.destination, &msg.payload).await {
                        Ok(()) => crate::outbox::Attempt::Delivered,
                        Err(e) => crate::outbox::Attempt::Retry(e),
                    }
                },
            )
            .await?;
        Ok(DeliveryReport {
            delivered: r.delivered,
            retried: r.retried,
            dead: r.dead,
        })
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
                        tracing::warn!(error = %e, "es2plus delivery round failed");
                    }
                }
            }
        }
    }

    async fn deliver(&self, operator_id: &str, payload: &[u8]) -> Result<(), String> {
        let url = self
            .directory
            .get(operator_id)
            .and_then(|o| o.callback_url.as_deref())
            .ok_or_else(|| format!("no callback URL for Operator {operator_id}"))?;
        let url = format!(
            "{}{BASE_PATH}/handleDownloadProgressInfo",
            url.trim_end_matches('/')
        );
        let resp = self
            .client
            .post(&url)
            .header(header::CONTENT_TYPE, json::CONTENT_TYPE)
            .header(
                json::ADMIN_PROTOCOL_HEADER,
                self.admin_protocol.admin_protocol(),
            )
            .body(payload.to_vec())
            .send()
            .await
            .map_err(|e| format!("{url}: {e}"))?;
        if resp.status().is_success() {
            Ok(())
        } else {
            Err(format!("{url}: HTTP {}", resp.status()))
        }
    }
}
