//! ES11 (LPA → SM-DS, sgp22.md §4, §14): Common Mutual Authentication with CERT.DSauth through
//! the core the SM-DP+ uses ([`rsp_sgp22::cma`]), then the event list of [`crate::es11`], with
//! the sessions in the store and the two bindings.
//!
//! - Sessions are procedure rows of kind [`SESSION_KIND`] (id `smds.session/<transactionId>`):
//!   `Initiated` after InitiateAuthentication, `Closed` after the one AuthenticateClient the
//!   session allows, whatever its outcome. A replayed AuthenticateClient (or a concurrent second
//!   one on another node, which loses the row version race) is `invalidTransactionId`.
//! - Nothing is answered before it is stored: the session row before `serverSigned1` goes out,
//!   the closed session and a push registration in one batch before the list goes out.
//! - JSON binding: `POST /gsma/rsp2/es11/initiateAuthentication|authenticateClient`
//!   ([`router`]); ASN.1 binding: `POST /gsma/rsp2/asn1` with `BF39` / `BF3B` requests.
//!   Responses carry `X-Admin-Protocol: gsma/rsp/v<SVN>`. ES11 is server-authenticated TLS only
//!   (the LPA has no client certificate).

use std::fmt;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderValue, StatusCode as HttpStatus, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use rsp_crypto::x509::{self, Certificate, Sgp22Role, X509Error};
use rsp_sgp22::cma::{
    self, AuthKey, CmaConfig, CmaRefusal, InitiateOutcome, Initiated, ServerAuth, serde_hex,
};
use rsp_sgp22::json::{self as wire, ADMIN_PROTOCOL_HEADER, CONTENT_TYPE};
use rsp_sgp22::json_smds::{
    AUTHENTICATE_CLIENT, ES11_BASE_PATH, Es11AuthenticateClientResponse,
    Es11InitiateAuthenticationRequest, INITIATE_AUTHENTICATION,
};
use rsp_sgp22::messages::auth::initiate_authentication_error as ia;
use rsp_sgp22::{
    AuthenticateClientRequest, AuthenticateClientResponseEs11, CtxParams1,
    InitiateAuthenticationRequest, InitiateAuthenticationResponse, Profile, TransactionId,
    authenticate_client_error_es11 as ac,
};
use rsp_store::{NewProcedure, ProcedureUpdate, StoreError, WriteOp};
use rsp_types::codes::sgp22::status;
use rsp_types::{StatusCode, tlv};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::es11::{self, DsAuth, Es11Config, Es11Outcome, Es11Refusal, Es11Request};
use crate::es12::Clock;
use crate::event::{EventStore, EventStoreError};

/// Procedure kind of an ES11 session row.
pub const SESSION_KIND: &str = "smds.session";
const STATE_INITIATED: &str = "Initiated";
const STATE_CLOSED: &str = "Closed";
/// Largest accepted request body.
pub const MAX_BODY: usize = 64 * 1024;

/// The row id of the session `tid`.
pub fn session_row_id(tid: &TransactionId) -> String {
    format!("{SESSION_KIND}/{}", hex::encode_upper(tid.as_bytes()))
}

// ---- identity ------------------------------------------------------------------------------------

/// Why a [`DsIdentity`] was refused.
#[derive(Debug, thiserror::Error)]
pub enum DsIdentityError {
    /// CERT.DSauth does not chain to its CI with the DSauth role.
    #[error("CERT.DSauth does not verify under its CI: {0}")]
    Chain(X509Error),
    /// The CI certificate has no subjectKeyIdentifier (the eUICC names CIs by it).
    #[error("the CI certificate has no subjectKeyIdentifier")]
    NoSki,
    /// No credential at all.
    #[error("an SM-DS needs at least one CERT.DSauth")]
    Empty,
}

/// The SM-DS in CMA: its address and, per CI, CERT.DSauth with its key.
pub struct DsIdentity {
    address: String,
    credentials: Vec<(Certificate, DsAuth)>,
}

impl fmt::Debug for DsIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DsIdentity")
            .field("address", &self.address)
            .field("cis", &self.credentials.len())
            .finish_non_exhaustive()
    }
}

impl DsIdentity {
    /// Checks each CERT.DSauth against its CI (role and validity at `at`).
    pub fn new(
        address: impl Into<String>,
        credentials: Vec<(Certificate, DsAuth)>,
        at: OffsetDateTime,
    ) -> Result<DsIdentity, DsIdentityError> {
        if credentials.is_empty() {
            return Err(DsIdentityError::Empty);
        }
        for (ci, ds) in &credentials {
            if ci.subject_key_id().is_none() {
                return Err(DsIdentityError::NoSki);
            }
            x509::verify_sgp22_chain(
                ds.certificate(),
                &[],
                std::slice::from_ref(ci),
                at,
                Sgp22Role::DsAuth,
            )
            .map_err(DsIdentityError::Chain)?;
        }
        Ok(DsIdentity {
            address: address.into(),
            credentials,
        })
    }

    /// The SM-DS address (FQDN) the eUICC must sign.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The CMA view.
    pub fn server_auth(&self) -> ServerAuth<'_> {
        ServerAuth {
            address: &self.address,
            keys: self
                .credentials
                .iter()
                .map(|(ci, ds)| AuthKey {
                    ci,
                    certificate: ds.certificate(),
                    key: ds.key(),
                })
                .collect(),
        }
    }

    /// CERT.DSauth of the CI `ci_pk_id` (signs the v3 list of a session under that CI).
    pub fn ds_auth_for(&self, ci_pk_id: &[u8]) -> Option<&DsAuth> {
        self.credentials
            .iter()
            .find(|(ci, _)| ci.subject_key_id() == Some(ci_pk_id))
            .map(|(_, ds)| ds)
    }
}

// ---- failures ------------------------------------------------------------------------------------

/// The two ES11 functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Es11Function {
    /// ES11.InitiateAuthentication.
    InitiateAuthentication,
    /// ES11.AuthenticateClient.
    AuthenticateClient,
}

/// A refused ES11 call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Es11Failure {
    /// Common Mutual Authentication refused.
    #[error(transparent)]
    Cma(CmaRefusal),
    /// The event list step refused (eventIdUnknown, push codes).
    #[error(transparent)]
    List(Es11Refusal),
    /// A field is malformed or the context is not one ES11 serves.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The store failed.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Es11Failure {
    /// The JSON subject / reason.
    pub fn status(&self) -> StatusCode {
        match self {
            Es11Failure::Cma(c) => c.status(),
            Es11Failure::List(l) => l.status,
            Es11Failure::InvalidInput(_) => status::INVALID_PARAMETER,
            Es11Failure::Internal(_) => status::INTERNAL_ERROR,
        }
    }

    /// The ASN.1-binding error INTEGER of `function`.
    pub fn asn1_code(&self, function: Es11Function) -> i64 {
        match function {
            Es11Function::InitiateAuthentication => match self {
                Es11Failure::Cma(CmaRefusal::InvalidServerAddress) => ia::INVALID_DP_ADDRESS,
                Es11Failure::Cma(CmaRefusal::EuiccVersionNotSupported) => {
                    ia::EUICC_VERSION_NOT_SUPPORTED_BY_DP
                }
                Es11Failure::Cma(
                    CmaRefusal::CiPkIdNotSupported | CmaRefusal::NoCertificateForCi,
                ) => ia::CI_PK_ID_NOT_SUPPORTED,
                Es11Failure::InvalidInput(_) => ia::INVALID_INPUT_DATA,
                _ => ia::UNDEFINED_ERROR,
            },
            Es11Function::AuthenticateClient => match self {
                Es11Failure::Cma(c) => match c {
                    CmaRefusal::EumCertificateInvalid(_) | CmaRefusal::CiPkUnknown => {
                        ac::EUM_CERTIFICATE_INVALID
                    }
                    CmaRefusal::EumCertificateExpired => ac::EUM_CERTIFICATE_EXPIRED,
                    CmaRefusal::EuiccCertificateInvalid(_) => ac::EUICC_CERTIFICATE_INVALID,
                    CmaRefusal::EuiccCertificateExpired => ac::EUICC_CERTIFICATE_EXPIRED,
                    CmaRefusal::EuiccSignatureInvalid(_) | CmaRefusal::InvalidServerAddress => {
                        ac::EUICC_SIGNATURE_INVALID
                    }
                    CmaRefusal::InvalidTransactionId(_) => ac::INVALID_TRANSACTION_ID,
                    _ => ac::UNDEFINED_ERROR,
                },
                Es11Failure::List(l) => l.asn1_code,
                _ => ac::UNDEFINED_ERROR,
            },
        }
    }
}

impl From<CmaRefusal> for Es11Failure {
    fn from(r: CmaRefusal) -> Es11Failure {
        Es11Failure::Cma(r)
    }
}

fn internal(e: impl fmt::Display) -> Es11Failure {
    Es11Failure::Internal(e.to_string())
}

fn store_failure(e: EventStoreError) -> Es11Failure {
    internal(e)
}

// ---- sessions ------------------------------------------------------------------------------------

#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredSession {
    #[serde(with = "serde_hex::bytes")]
    transaction_id: Vec<u8>,
    #[serde(with = "time::serde::rfc3339")]
    expires_at: OffsetDateTime,
    /// `None` once closed.
    initiated: Option<Initiated>,
    /// Why it closed (audit).
    #[serde(default)]
    closed: Option<String>,
}

// ---- service -------------------------------------------------------------------------------------

/// The ES11 service of one SM-DS.
#[derive(Clone)]
pub struct Es11Service {
    /// The events (and push registrations).
    pub events: EventStore,
    /// CERT.DSauth per CI.
    pub identity: Arc<DsIdentity>,
    /// CMA settings (SVN: v2 or v3 SM-DS; a v3 SM-DS with push services announces them).
    pub cma: CmaConfig,
    /// List and push settings.
    pub list: Es11Config,
    /// How long an Initiated session waits for AuthenticateClient.
    pub session_ttl: Duration,
    /// The clock.
    pub clock: Clock,
}

impl fmt::Debug for Es11Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Es11Service")
            .field("identity", &self.identity)
            .field("svn", &self.cma.svn)
            .finish_non_exhaustive()
    }
}

/// An AuthenticateClient answered: the outcome and the peer to encode it for.
#[derive(Debug, Clone)]
pub struct Es11Answer {
    /// The list or push result.
    pub outcome: Es11Outcome,
    /// The negotiated peer profile.
    pub peer: Profile,
}

impl Es11Service {
    /// A service with the system clock; the push services announced in `sessionContext` are
    /// the ones `list` registers.
    pub fn new(
        events: EventStore,
        identity: Arc<DsIdentity>,
        mut cma: CmaConfig,
        list: Es11Config,
    ) -> Es11Service {
        cma.supported_push_services = list.supported_push_services.clone();
        if !list.supported_push_services.is_empty() {
            let bit = rsp_sgp22::ServerRspCapability::PUSH_SERVICE_V3_SUPPORT;
            let mut bits: Vec<usize> = (0..32)
                .filter(|b| cma.server_rsp_capability.has(*b))
                .collect();
            bits.push(bit);
            cma.server_rsp_capability = rsp_sgp22::ServerRspCapability::with_bits(&bits);
        }
        Es11Service {
            events,
            identity,
            cma,
            list,
            session_ttl: Duration::minutes(10),
            clock: Arc::new(OffsetDateTime::now_utc),
        }
    }

    /// ES11.InitiateAuthentication: the session row is stored before the answer leaves.
    pub async fn initiate_authentication(
        &self,
        req: &InitiateAuthenticationRequest,
    ) -> Result<InitiateOutcome, Es11Failure> {
        let now = (self.clock)();
        let mut random = [0u8; 32];
        rsp_crypto::ecc::fill_random(&mut random).map_err(internal)?;
        let (tid, challenge) = random.split_at(16);
        let transaction_id = TransactionId::new(tid).map_err(internal)?;
        let mut server_challenge = [0u8; 16];
        server_challenge.copy_from_slice(challenge);
        let outcome = cma::initiate_authentication(
            &self.cma,
            &self.identity.server_auth(),
            req,
            transaction_id.clone(),
            server_challenge,
        )?;
        let row = StoredSession {
            transaction_id: transaction_id.as_bytes().to_vec(),
            expires_at: now + self.session_ttl,
            initiated: Some(outcome.initiated.clone()),
            closed: None,
        };
        let op = WriteOp::CreateProcedure(NewProcedure {
            id: session_row_id(&transaction_id),
            kind: SESSION_KIND.to_owned(),
            state: STATE_INITIATED.to_owned(),
            data: serde_json::to_vec(&row).map_err(internal)?,
            correlation: None,
            due_at: None,
        });
        self.events.apply(&[op], now).await.map_err(store_failure)?;
        tracing::info!(transaction_id = %hex::encode_upper(transaction_id.as_bytes()),
            peer = %outcome.peer.svn, "ES11 session initiated");
        Ok(outcome)
    }

    /// ES11.AuthenticateClient: CMA, then the events of the authenticated EID (or the push
    /// registration). The session closes whatever the outcome.
    pub async fn authenticate_client(
        &self,
        req: &AuthenticateClientRequest,
    ) -> Result<Es11Answer, Es11Failure> {
        let now = (self.clock)();
        let unknown = || Es11Failure::Cma(CmaRefusal::InvalidTransactionId("unknown session"));
        let id = session_row_id(&req.transaction_id);
        let rec = self
            .events
            .store()
            .load_procedure(&id)
            .await
            .map_err(internal)?
            .filter(|r| r.kind == SESSION_KIND && r.state == STATE_INITIATED)
            .ok_or_else(unknown)?;
        let mut row: StoredSession = serde_json::from_slice(&rec.data).map_err(internal)?;
        let initiated = row.initiated.take().ok_or_else(unknown)?;
        let result = if now >= row.expires_at {
            Err(Es11Failure::Cma(CmaRefusal::InvalidTransactionId(
                "session expired",
            )))
        } else {
            self.serve(&initiated, req, now).await
        };
        row.closed = Some(match &result {
            Ok(_) => "answered".to_owned(),
            Err(e) => e.to_string(),
        });
        let mut ops = vec![WriteOp::AdvanceProcedure {
            id,
            expected_version: rec.version,
            update: ProcedureUpdate {
                state: STATE_CLOSED.to_owned(),
                data: serde_json::to_vec(&row).map_err(internal)?,
                correlation: None,
                due_at: None,
            },
        }];
        if let Ok(answer) = &result
            && let Some(reg) = &answer.outcome.push
        {
            ops.push(
                self.events
                    .push_registration_op(reg)
                    .await
                    .map_err(store_failure)?,
            );
        }
        match self.events.apply(&ops, now).await {
            Ok(()) => result,
            // Another AuthenticateClient on this session won the race: this one is a replay.
            Err(EventStoreError::Store(StoreError::Conflict { .. })) => Err(unknown()),
            Err(e) => Err(store_failure(e)),
        }
    }

    async fn serve(
        &self,
        initiated: &Initiated,
        req: &AuthenticateClientRequest,
        now: OffsetDateTime,
    ) -> Result<Es11Answer, Es11Failure> {
        let verified = cma::verify_authenticate_client(
            &self.identity.server_auth(),
            initiated,
            &req.transaction_id,
            req,
            now,
        )?;
        let request = match &verified.euicc_signed1.ctx_params1 {
            CtxParams1::CommonAuthentication(c) => Es11Request::EventRetrieval {
                matching_id: c.matching_id.clone(),
            },
            CtxParams1::PushServiceRegistration(p) => Es11Request::PushRegistration(p.clone()),
            CtxParams1::DeviceChange(_) | CtxParams1::ProfileRecovery(_) => {
                return Err(Es11Failure::InvalidInput(
                    "device change / profile recovery are not SM-DS functions".into(),
                ));
            }
        };
        let peer = verified.peer();
        let span = tracing::info_span!("es11", eid = %verified.eid);
        let _g = span.enter();
        let client = es11::AuthenticatedClient {
            eid: verified.eid,
            transaction_id: req.transaction_id.clone(),
            peer,
            euicc_signature1: verified.euicc_signature1.clone(),
            request,
        };
        let events = self
            .events
            .live_for_eid(verified.eid.as_str())
            .await
            .map_err(store_failure)?;
        let ds_auth = self.identity.ds_auth_for(&initiated.ci_pk_id);
        let outcome = es11::authenticate_client_ok(&self.list, ds_auth, &client, &events, now)
            .map_err(Es11Failure::List)?;
        tracing::info!(peer = %peer.svn, "ES11 answered");
        Ok(Es11Answer { outcome, peer })
    }
}

// ---- bindings ------------------------------------------------------------------------------------

fn respond(admin: &str, http: HttpStatus, content_type: &'static str, body: Vec<u8>) -> Response {
    let mut resp = if body.is_empty() {
        http.into_response()
    } else {
        (
            http,
            [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
            body,
        )
            .into_response()
    };
    if let Ok(v) = HeaderValue::from_str(admin) {
        resp.headers_mut().insert(ADMIN_PROTOCOL_HEADER, v);
    }
    resp
}

fn json_failed(code: StatusCode, message: String) -> Vec<u8> {
    serde_json::to_vec(&wire::HeaderOnly::status(
        code.failed().with_message(message),
    ))
    .unwrap_or_default()
}

fn json_refused(e: &Es11Failure) -> Vec<u8> {
    let message = match e {
        Es11Failure::Internal(detail) => {
            tracing::warn!(%detail, "ES11 internal error");
            "internal error".to_owned()
        }
        e => e.to_string(),
    };
    json_failed(e.status(), message)
}

/// Parses a JSON body: `Err(None)` if not JSON at all (HTTP 400), `Err(Some(body))` for a
/// functional failure.
fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Option<Vec<u8>>> {
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|_| None)?;
    serde_json::from_value(value).map_err(|e| {
        let text = e.to_string();
        let code = if text.starts_with("missing field") {
            status::MISSING_PARAMETER
        } else {
            status::INVALID_PARAMETER
        };
        Some(json_failed(code, text))
    })
}

/// Runs one JSON-binding function: the HTTP status and body.
pub async fn handle_json(
    service: &Es11Service,
    function: Es11Function,
    body: &[u8],
) -> (u16, Vec<u8>) {
    let field = |e: wire::FieldError| {
        json_failed(
            status::INVALID_PARAMETER,
            format!("{}: {}", e.field, e.message),
        )
    };
    let out: Result<Vec<u8>, Option<Vec<u8>>> = async {
        match function {
            Es11Function::InitiateAuthentication => {
                let r: Es11InitiateAuthenticationRequest = parse(body)?;
                let req = wire::initiate_authentication_from_json(
                    &r.euicc_challenge,
                    &r.euicc_info1,
                    r.smds_address,
                    r.lpa_rsp_capability.as_deref(),
                )
                .map_err(|e| Some(field(e)))?;
                let out = service
                    .initiate_authentication(&req)
                    .await
                    .map_err(|e| Some(json_refused(&e)))?;
                serde_json::to_vec(&wire::InitiateAuthenticationResponse::ok(
                    wire::initiate_authentication_ok_to_json(&out.response),
                ))
                .map_err(|_| None)
            }
            Es11Function::AuthenticateClient => {
                let r: wire::AuthenticateClientRequest = parse(body)?;
                let req = wire::authenticate_client_from_json(&r).map_err(|e| Some(field(e)))?;
                let answer = service
                    .authenticate_client(&req)
                    .await
                    .map_err(|e| Some(json_refused(&e)))?;
                let ok = es11::to_json(&answer.outcome.ok, &answer.peer)
                    .map_err(|e| Some(json_refused(&Es11Failure::List(e))))?;
                serde_json::to_vec(&Es11AuthenticateClientResponse::ok(ok)).map_err(|_| None)
            }
        }
    }
    .await;
    match out {
        Ok(body) | Err(Some(body)) => (200, body),
        Err(None) => (400, Vec::new()),
    }
}

/// Runs one ASN.1-binding request (`BF39` InitiateAuthenticationRequest or `BF3B`
/// AuthenticateClientRequest): the HTTP status and the DER answer (errors as the function's
/// error INTEGER, sgp22.md §8.3).
pub async fn handle_asn1(service: &Es11Service, body: &[u8]) -> (u16, Vec<u8>) {
    let Ok(top) = tlv::parse_single(body) else {
        return (400, Vec::new());
    };
    match top.tag.value() {
        0xBF39 => {
            let f = Es11Function::InitiateAuthentication;
            let answer = match InitiateAuthenticationRequest::decode(body) {
                Err(e) => Err(Es11Failure::InvalidInput(e.to_string())),
                Ok(req) => service.initiate_authentication(&req).await,
            };
            let resp = match answer {
                Ok(out) => InitiateAuthenticationResponse::Ok(out.response).encode(&out.peer),
                Err(e) => InitiateAuthenticationResponse::Error(e.asn1_code(f))
                    .encode(&Profile::new(service.cma.svn)),
            };
            resp.map_or((500, Vec::new()), |b| (200, b))
        }
        0xBF3B => {
            let f = Es11Function::AuthenticateClient;
            let answer = match AuthenticateClientRequest::decode(body) {
                Err(e) => Err(Es11Failure::InvalidInput(e.to_string())),
                Ok(req) => service.authenticate_client(&req).await,
            };
            let resp = match answer {
                Ok(a) => a.outcome.to_der(&a.peer),
                Err(e) => AuthenticateClientResponseEs11::Error(e.asn1_code(f))
                    .encode(&Profile::new(service.cma.svn)),
            };
            resp.map_or((500, Vec::new()), |b| (200, b))
        }
        _ => (404, Vec::new()),
    }
}

/// The ES11 routes (state included): JSON under `/gsma/rsp2/es11/` and the ASN.1 binding at
/// `/gsma/rsp2/asn1`.
pub fn router(service: Arc<Es11Service>) -> Router {
    async fn json(
        State(s): State<Arc<Es11Service>>,
        function: Es11Function,
        body: Bytes,
    ) -> Response {
        let admin = wire::format_admin_protocol(s.cma.svn);
        let (code, body) = handle_json(&s, function, &body).await;
        let http = HttpStatus::from_u16(code).unwrap_or(HttpStatus::INTERNAL_SERVER_ERROR);
        respond(&admin, http, CONTENT_TYPE, body)
    }
    Router::new()
        .route(
            &format!("{ES11_BASE_PATH}/{INITIATE_AUTHENTICATION}"),
            post(|s: State<Arc<Es11Service>>, b: Bytes| {
                json(s, Es11Function::InitiateAuthentication, b)
            }),
        )
        .route(
            &format!("{ES11_BASE_PATH}/{AUTHENTICATE_CLIENT}"),
            post(|s: State<Arc<Es11Service>>, b: Bytes| {
                json(s, Es11Function::AuthenticateClient, b)
            }),
        )
        .route(
            "/gsma/rsp2/asn1",
            post(|State(s): State<Arc<Es11Service>>, b: Bytes| async move {
                let admin = wire::format_admin_protocol(s.cma.svn);
                let (code, body) = handle_asn1(&s, &b).await;
                let http = HttpStatus::from_u16(code).unwrap_or(HttpStatus::INTERNAL_SERVER_ERROR);
                respond(&admin, http, "application/x-gsma-rsp-asn1", body)
            }),
        )
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(service)
}
