//! The server side of the binding, without the HTTP framework: bytes and an authenticated caller in, an HTTP
//! status and bytes out. The axum glue in [`crate::http`] only extracts and forwards.
//!
//! Per request: parse (limits, no DTD) → classify against the catalogue → identify and authorise the caller →
//! idempotency check on (caller, FunctionCallIdentifier) → validity period → either run the handler now
//! (synchronous) or store the call as a procedure row and answer 202 (asynchronous, when the request names a
//! non-anonymous `ReplyTo`), the worker then runs it and queues the response for delivery to `ReplyTo`.

use std::sync::Arc;

use async_trait::async_trait;
use rsp_sgp02::xml::{Element, Limits};
use rsp_sgp02::{FunctionId, Interface, Pattern, RequestBody, ResponseBody};
use rsp_store::{IdempotencyBegin, NewOutboxMessage, NewProcedure, ProcedureUpdate, Store};
use rsp_types::codes::sgp02::status;
use rsp_types::{EntityId, FunctionExecutionStatus, Identity};
use rsp_xmlsec::eis::{EisTrust, SignedEisPart};
use rsp_xmlsec::policy::MessageSecurity;
use time::OffsetDateTime;
use tracing::Instrument;

use crate::dispatch::{self, Inbound};
use crate::envelope::{Addressing, EndpointReference, Envelope, Fault, FaultSubcode};
use crate::identity::{IdentityError, PeerDirectory};

/// Procedure kind of a stored asynchronous call.
pub const ASYNC_CALL_KIND: &str = "soap.async-call";
/// Outbox kind of an asynchronous response (callback) or notification to deliver.
pub const OUTBOX_SOAP_KIND: &str = "soap.message";

/// A call handed to the business side.
#[derive(Debug, Clone)]
pub struct Call {
    /// The function.
    pub function: FunctionId,
    /// The authenticated caller.
    pub caller: Identity,
    /// The request body.
    pub body: RequestBody,
    /// The request's MessageID.
    pub message_id: String,
    /// When the request was received.
    pub received_at: OffsetDateTime,
    /// When its validity period ends, if it has one.
    pub deadline: Option<OffsetDateTime>,
    /// For a request carrying an EIS (ES1 RegisterEIS, ES7 HandoverEUICC) on a service with EIS verification:
    /// the EUM-signed part as received, already verified. Store it with the EIS and splice it back when the EIS
    /// travels on ([`rsp_xmlsec::eis::splice`]).
    pub signed_eis: Option<SignedEisPart>,
}

/// The business side of a SOAP endpoint (an SM-SR, an SM-DP, an Operator's callback endpoint, a test double).
#[async_trait]
pub trait Handler: Send + Sync + 'static {
    /// Executes a request and returns its response body, or a failure status (answered as the function's
    /// response carrying only that status).
    async fn call(&self, call: Call) -> Result<ResponseBody, FunctionExecutionStatus>;

    /// Receives a notification. The default accepts and ignores it.
    async fn notification(&self, _call: Call) -> Result<(), FunctionExecutionStatus> {
        Ok(())
    }

    /// Receives an asynchronous response to a request this side sent earlier (`relates_to` = its MessageID).
    async fn callback(&self, _caller: Identity, _relates_to: String, _body: ResponseBody) {}
}

/// What to answer on HTTP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpReply {
    /// Status code.
    pub status: u16,
    /// Body (empty for 202).
    pub body: String,
}

impl HttpReply {
    fn fault(f: &Fault, relates_to: Option<&str>) -> Self {
        Self {
            status: f.code.http_status(),
            body: f.to_envelope_xml(relates_to),
        }
    }

    fn accepted() -> Self {
        Self {
            status: 202,
            body: String::new(),
        }
    }
}

/// Configuration of one SOAP service.
#[derive(Clone)]
pub struct ServiceConfig {
    /// The message namespace written in responses when the request's cannot be reused.
    pub namespace: String,
    /// XML parsing limits.
    pub limits: Limits,
    /// Interfaces served (requests for others are refused).
    pub interfaces: Vec<Interface>,
    /// This server's own address and EntityId, written as `wsa:From` on responses and callbacks.
    pub from: Option<EndpointReference>,
    /// Node name used as the lease holder in the store.
    pub node: String,
}

/// One SOAP service: catalogue dispatch over a handler, a store and a peer directory.
pub struct SoapService {
    config: ServiceConfig,
    handler: Arc<dyn Handler>,
    store: Arc<dyn Store>,
    peers: PeerDirectory,
    security: Option<Arc<MessageSecurity>>,
    eis_trust: Option<Arc<EisTrust>>,
}

/// A classified request.
struct Received {
    function: FunctionId,
    body: RequestBody,
    addressing: Addressing,
    namespace: String,
    base: Option<rsp_sgp02::common::BaseRequest>,
    request_hash: [u8; 32],
}

/// Stored form of an asynchronous call (procedure row data).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct StoredCall {
    envelope: String,
    caller: String,
    reply_to: String,
    received_at: i64,
    deadline: Option<i64>,
    idempotency_key: Option<(String, String)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    signed_eis: Option<SignedEisPart>,
}

impl SoapService {
    /// A service.
    pub fn new(
        config: ServiceConfig,
        handler: Arc<dyn Handler>,
        store: Arc<dyn Store>,
        peers: PeerDirectory,
    ) -> Self {
        Self {
            config,
            handler,
            store,
            peers,
            security: None,
            eis_trust: None,
        }
    }

    /// Enables WS-Security: incoming messages are verified and responses signed as `security`'s policy says
    /// for the calling peer and interface (a refusal answers a `wsse:` SOAP fault and never dispatches).
    pub fn with_message_security(mut self, security: Arc<MessageSecurity>) -> Self {
        self.security = Some(security);
        self
    }

    /// Enables verification of the EUM signature of the EIS in ES1 RegisterEIS and ES7 HandoverEUICC before
    /// anything is stored or executed; a refusal answers `Failed` `8.1.2`/`6.1` (`6.3`: expired certificate).
    pub fn with_eis_verification(mut self, trust: Arc<EisTrust>) -> Self {
        self.eis_trust = Some(trust);
        self
    }

    /// An envelope answer, signed when the WS-Security policy for `peer` on `interface` says so.
    fn reply_envelope(
        &self,
        env: &Envelope,
        peer: Option<&EntityId>,
        interface: Interface,
    ) -> HttpReply {
        let xml = env.to_xml();
        let Some(security) = &self.security else {
            return HttpReply {
                status: 200,
                body: xml,
            };
        };
        match security.sign_outbound(&xml, peer, Some(interface), OffsetDateTime::now_utc()) {
            Ok(signed) => HttpReply {
                status: 200,
                body: signed.into_owned(),
            },
            Err(e) => {
                tracing::error!(error = %e, "could not sign the response");
                HttpReply::fault(
                    &Fault::receiver(FaultSubcode::InternalError, "could not sign the response"),
                    env.addressing.relates_to.as_deref(),
                )
            }
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ServiceConfig {
        &self.config
    }

    /// The peer directory.
    pub fn peers(&self) -> &PeerDirectory {
        &self.peers
    }

    /// Handles one POSTed message received on `endpoint` from a client presenting `client_cert` (DER leaf).
    pub async fn handle(
        &self,
        endpoint: Option<Interface>,
        client_cert: Option<&[u8]>,
        body: &[u8],
        now: OffsetDateTime,
    ) -> HttpReply {
        let text = match std::str::from_utf8(body) {
            Ok(t) => t,
            Err(_) => {
                return HttpReply::fault(
                    &Fault::sender(FaultSubcode::MalformedMessage, "body is not UTF-8"),
                    None,
                );
            }
        };
        let envelope = match Envelope::parse(text, &self.config.limits) {
            Ok(e) => e,
            Err(f) => return HttpReply::fault(&f, None),
        };
        let message_id = envelope.addressing.message_id.clone();
        if let Some(iface) = endpoint
            && !self.config.interfaces.contains(&iface)
        {
            return HttpReply::fault(
                &Fault::sender(
                    FaultSubcode::UnknownFunction,
                    format!("{iface} is not served here"),
                ),
                message_id.as_deref(),
            );
        }
        // WS-Security, before anything is dispatched: verified as the policy for (TLS peer, interface) says.
        if let Some(security) = &self.security {
            let interface = endpoint.or_else(|| {
                envelope
                    .body
                    .as_ref()
                    .and_then(|b| dispatch::lookup(&b.name))
                    .map(|(f, _)| f.info().interface)
            });
            let tls_entity = self
                .peers
                .identify(client_cert)
                .ok()
                .map(|p| p.entity_id.clone());
            let same_identity = |signer: &[u8]| {
                client_cert == Some(signer)
                    || (tls_entity.is_some()
                        && self
                            .peers
                            .identify(Some(signer))
                            .is_ok_and(|p| Some(&p.entity_id) == tls_entity.as_ref()))
            };
            if let Err(e) = security.check_inbound(
                text,
                tls_entity.as_ref(),
                interface,
                envelope.has_security_header(),
                now,
                &same_identity,
                true,
            ) {
                tracing::warn!(error = %e, "WS-Security refused the message");
                return HttpReply::fault(&Fault::from(&e), message_id.as_deref());
            }
        }
        let inbound = match dispatch::classify(envelope, endpoint) {
            Ok(i) => i,
            Err(f) => return HttpReply::fault(&f, message_id.as_deref()),
        };
        let caller = self.peers.identify(client_cert).map(|p| p.identity());
        match inbound {
            Inbound::Request {
                function,
                body,
                addressing,
                namespace,
                base,
                request_hash,
                subject,
            } => {
                let req = Received {
                    function,
                    body,
                    addressing,
                    namespace,
                    base,
                    request_hash,
                };
                let fcid = req
                    .base
                    .as_ref()
                    .map(|b| b.function_call_identifier.as_str().to_string());
                let span = tracing::info_span!(
                    "soap",
                    function = %function.info().qualified_name(),
                    fcid = fcid.as_deref().unwrap_or(""),
                    eid = subject.eid.as_deref().unwrap_or(""),
                    iccid = subject.iccid.as_deref().unwrap_or(""),
                    caller = caller.as_ref().map(|c| c.name.as_str()).unwrap_or("unknown"),
                );
                self.handle_request(req, caller, text, now)
                    .instrument(span)
                    .await
            }
            Inbound::Notification {
                function,
                body,
                addressing,
            } => {
                let caller = match caller {
                    Ok(c) => c,
                    Err(e) => return unknown_caller_fault(&e, message_id.as_deref()),
                };
                if let Err(s) = dispatch::authorize(&caller, function, addressing.from.as_ref()) {
                    return HttpReply::fault(
                        &Fault::sender(FaultSubcode::UnknownCaller, status_text(&s)),
                        message_id.as_deref(),
                    );
                }
                let call = Call {
                    function,
                    caller,
                    body,
                    message_id: message_id.clone().unwrap_or_default(),
                    received_at: now,
                    deadline: None,
                    signed_eis: None,
                };
                match self.handler.notification(call).await {
                    Ok(()) => HttpReply::accepted(),
                    Err(s) => HttpReply::fault(
                        &Fault::receiver(FaultSubcode::InternalError, status_text(&s)),
                        message_id.as_deref(),
                    ),
                }
            }
            Inbound::Callback {
                function: _,
                body,
                addressing,
            } => {
                let caller = match caller {
                    Ok(c) => c,
                    Err(e) => return unknown_caller_fault(&e, message_id.as_deref()),
                };
                let relates_to = addressing.relates_to.unwrap_or_default();
                self.handler.callback(caller, relates_to, body).await;
                HttpReply::accepted()
            }
        }
    }

    async fn handle_request(
        &self,
        req: Received,
        caller: Result<Identity, IdentityError>,
        text: &str,
        now: OffsetDateTime,
    ) -> HttpReply {
        let Received {
            function,
            body,
            addressing,
            namespace,
            base,
            request_hash,
        } = req;
        let info = function.info();
        let ns = namespace.as_str();
        let peer_entity = caller.as_ref().ok().and_then(|c| c.entity_id.clone());
        let respond_status = |s: &FunctionExecutionStatus| {
            let el = dispatch::status_only_response(function, s, ns)
                .unwrap_or_else(|| Element::new(Some(ns), "Empty"));
            self.reply_envelope(
                &dispatch::response_envelope(
                    function,
                    el,
                    &addressing,
                    self.config.from.clone(),
                    false,
                ),
                peer_entity.as_ref(),
                info.interface,
            )
        };
        let caller = match caller {
            Ok(c) => c,
            Err(e) => {
                return respond_status(
                    &status::CALLER_UNKNOWN.failed().with_message(e.to_string()),
                );
            }
        };
        if let Err(s) = dispatch::authorize(&caller, function, addressing.from.as_ref()) {
            tracing::warn!(function = %info.qualified_name(), caller = %caller.name, "refused: {}", status_text(&s));
            return respond_status(&s);
        }
        // The EUM signature of an EIS is verified over the received bytes before anything is stored.
        let mut signed_eis = None;
        if matches!(
            function,
            FunctionId::Es1RegisterEis | FunctionId::Es7HandoverEuicc
        ) && let Some(trust) = &self.eis_trust
        {
            match trust.verify_document(text, now) {
                Ok(v) => signed_eis = Some(v.part),
                Err(e) => {
                    tracing::warn!(function = %info.qualified_name(), error = %e, "EIS signature refused");
                    return respond_status(&e.status());
                }
            }
        }
        let (fcid, validity) = base
            .map(|b| {
                (
                    b.function_call_identifier.as_str().to_string(),
                    b.validity_period,
                )
            })
            .unwrap_or_default();
        let deadline = validity.map(|v| now + time::Duration::seconds(i64::from(v.secs())));
        let caller_key = caller
            .entity_id
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_else(|| caller.name.clone());

        // Idempotency: the same FunctionCallIdentifier from the same caller is one call.
        let idem = if fcid.is_empty() {
            None
        } else {
            match self
                .store
                .begin_idempotent(&caller_key, &fcid, &request_hash, now)
                .await
            {
                Ok(IdempotencyBegin::New) => Some((caller_key.clone(), fcid.clone())),
                Ok(IdempotencyBegin::Completed(stored)) => {
                    tracing::info!(
                        "replaying the stored response of a repeated FunctionCallIdentifier"
                    );
                    return self.replay(function, &stored, &addressing, ns, peer_entity.as_ref());
                }
                Ok(IdempotencyBegin::InProgress) => {
                    if is_async(info.pattern, &addressing) {
                        return HttpReply::accepted();
                    }
                    return respond_status(
                        &status::BUSY
                            .failed()
                            .with_message("a call with this FunctionCallIdentifier is in progress"),
                    );
                }
                Ok(IdempotencyBegin::Mismatch) => {
                    return respond_status(
                        &status::INVALID_PARAMETER
                            .failed()
                            .with_subject_identifier("FunctionCallIdentifier")
                            .with_message(
                                "FunctionCallIdentifier already used for a different request",
                            ),
                    );
                }
                Err(e) => {
                    tracing::error!(error = %e, "idempotency store failed");
                    return respond_status(
                        &status::INTERNAL_ERROR
                            .failed()
                            .with_message("store unavailable"),
                    );
                }
            }
        };

        if is_async(info.pattern, &addressing) {
            let reply_to = addressing
                .reply_to
                .as_ref()
                .map(|r| r.address.clone())
                .unwrap_or_default();
            let message_id = addressing.message_id.clone().unwrap_or_default();
            let envelope = Envelope {
                addressing: addressing.clone(),
                other_headers: Vec::new(),
                body: Some(body.encode(ns)),
            };
            let stored = StoredCall {
                envelope: envelope.to_xml(),
                caller: caller_key.clone(),
                reply_to,
                received_at: now.unix_timestamp(),
                deadline: deadline.map(OffsetDateTime::unix_timestamp),
                idempotency_key: idem.clone(),
                signed_eis,
            };
            let data = match serde_json::to_vec(&stored) {
                Ok(d) => d,
                Err(e) => {
                    return respond_status(
                        &status::INTERNAL_ERROR.failed().with_message(e.to_string()),
                    );
                }
            };
            let new = NewProcedure {
                id: format!("soap:{caller_key}:{message_id}"),
                kind: ASYNC_CALL_KIND.into(),
                state: "received".into(),
                data,
                correlation: Some(message_id),
                due_at: Some(now),
            };
            // Stored before acknowledged: a restart after the 202 still runs the call.
            return match self.store.create_procedure(&new, now).await {
                Ok(_) | Err(rsp_store::StoreError::Duplicate { .. }) => HttpReply::accepted(),
                Err(e) => {
                    tracing::error!(error = %e, "could not store the asynchronous call");
                    if let Some((c, f)) = &idem {
                        let _ = self.store.abandon_idempotent(c, f).await;
                    }
                    respond_status(
                        &status::INTERNAL_ERROR
                            .failed()
                            .with_message("store unavailable"),
                    )
                }
            };
        }

        let call = Call {
            function,
            caller,
            body,
            message_id: addressing.message_id.clone().unwrap_or_default(),
            received_at: now,
            deadline,
            signed_eis,
        };
        let response_el = self.execute(call, ns).await;
        if let Some((c, f)) = &idem
            && let Err(e) = self
                .store
                .complete_idempotent(
                    c,
                    f,
                    response_el.to_xml().as_bytes(),
                    OffsetDateTime::now_utc(),
                )
                .await
        {
            tracing::error!(error = %e, "could not store the response for idempotent replay");
        }
        self.reply_envelope(
            &dispatch::response_envelope(
                function,
                response_el,
                &addressing,
                self.config.from.clone(),
                false,
            ),
            peer_entity.as_ref(),
            info.interface,
        )
    }

    /// Runs a call through the handler, applying the validity period: a call that completes after its
    /// deadline is answered `Expired`.
    async fn execute(&self, call: Call, ns: &str) -> Element {
        let function = call.function;
        let deadline = call.deadline;
        if deadline.is_some_and(|d| OffsetDateTime::now_utc() > d) {
            return expired_response(function, ns);
        }
        let result = self.handler.call(call).await;
        if deadline.is_some_and(|d| OffsetDateTime::now_utc() > d) {
            return expired_response(function, ns);
        }
        match result {
            Ok(body) if body.function() == function => body.encode(ns),
            Ok(other) => {
                tracing::error!(expected = ?function, got = ?other.function(), "handler answered with the wrong body");
                dispatch::status_only_response(function, &status::INTERNAL_ERROR.failed(), ns)
                    .unwrap_or_else(|| Element::new(Some(ns), "Empty"))
            }
            Err(s) => dispatch::status_only_response(function, &s, ns)
                .unwrap_or_else(|| Element::new(Some(ns), "Empty")),
        }
    }

    fn replay(
        &self,
        function: FunctionId,
        stored: &[u8],
        addressing: &Addressing,
        ns: &str,
        peer: Option<&EntityId>,
    ) -> HttpReply {
        let el = std::str::from_utf8(stored)
            .ok()
            .and_then(|t| Element::parse(t).ok())
            .or_else(|| {
                dispatch::status_only_response(function, &status::INTERNAL_ERROR.failed(), ns)
            });
        match el {
            Some(el) => self.reply_envelope(
                &dispatch::response_envelope(
                    function,
                    el,
                    addressing,
                    self.config.from.clone(),
                    false,
                ),
                peer,
                function.info().interface,
            ),
            None => HttpReply::fault(
                &Fault::receiver(FaultSubcode::InternalError, "stored response unreadable"),
                None,
            ),
        }
    }

    /// Runs due asynchronous calls: executes each, queues its response for delivery to `ReplyTo`, and finishes
    /// the procedure row. Returns how many calls ran. Safe on several nodes (rows are leased).
    pub async fn run_due_calls(
        &self,
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<usize, rsp_store::StoreError> {
        let claimed = self
            .store
            .claim_due_procedures_of(
                ASYNC_CALL_KIND,
                now,
                &self.config.node,
                time::Duration::seconds(60),
                limit,
            )
            .await?;
        let mut ran = 0;
        for row in claimed {
            let Ok(stored) = serde_json::from_slice::<StoredCall>(&row.data) else {
                tracing::error!(id = %row.id, "unreadable stored call: dropped");
                let _ = self.store.delete_procedure(&row.id, row.version).await;
                continue;
            };
            let reply = self.run_stored(&stored).await;
            if let Some((envelope_xml, response_xml)) = reply {
                let msg = NewOutboxMessage {
                    destination: stored.reply_to.clone(),
                    kind: OUTBOX_SOAP_KIND.into(),
                    payload: envelope_xml.into_bytes(),
                };
                self.store.enqueue(&msg, now).await?;
                if let Some((c, f)) = &stored.idempotency_key {
                    let _ = self
                        .store
                        .complete_idempotent(c, f, response_xml.as_bytes(), now)
                        .await;
                }
            }
            let done = ProcedureUpdate {
                state: "answered".into(),
                data: Vec::new(),
                correlation: row.correlation.clone(),
                due_at: None,
            };
            self.store
                .advance_procedure(&row.id, row.version, &done, now)
                .await?;
            ran += 1;
        }
        Ok(ran)
    }

    async fn run_stored(&self, stored: &StoredCall) -> Option<(String, String)> {
        let envelope = Envelope::parse(&stored.envelope, &self.config.limits).ok()?;
        let Ok(Inbound::Request {
            function,
            body,
            addressing,
            namespace,
            ..
        }) = dispatch::classify(envelope, None)
        else {
            return None;
        };
        let caller = self
            .peers
            .peers()
            .iter()
            .find(|p| p.entity_id.to_string() == stored.caller || p.name == stored.caller)
            .map(|p| p.identity())?;
        let call = Call {
            function,
            caller,
            body,
            message_id: addressing.message_id.clone().unwrap_or_default(),
            received_at: OffsetDateTime::from_unix_timestamp(stored.received_at)
                .unwrap_or(OffsetDateTime::UNIX_EPOCH),
            deadline: stored
                .deadline
                .and_then(|d| OffsetDateTime::from_unix_timestamp(d).ok()),
            signed_eis: stored.signed_eis.clone(),
        };
        let response_el = self.execute(call, &namespace).await;
        let response_xml = response_el.to_xml();
        let env = dispatch::response_envelope(
            function,
            response_el,
            &addressing,
            self.config.from.clone(),
            true,
        );
        Some((env.to_xml(), response_xml))
    }
}

fn expired_response(function: FunctionId, ns: &str) -> Element {
    dispatch::status_only_response(function, &status::VALIDITY_EXPIRED.expired(), ns)
        .unwrap_or_else(|| Element::new(Some(ns), "Empty"))
}

fn is_async(pattern: Pattern, addressing: &Addressing) -> bool {
    pattern == Pattern::AsyncRequestResponse
        && addressing
            .reply_to
            .as_ref()
            .is_some_and(|r| !r.is_anonymous())
}

fn status_text(s: &FunctionExecutionStatus) -> String {
    match &s.status_code_data {
        Some(d) => format!(
            "{} {}/{}{}",
            s.status.as_str(),
            d.subject_code.as_str(),
            d.reason_code.as_str(),
            d.message
                .as_deref()
                .map(|m| format!(": {m}"))
                .unwrap_or_default()
        ),
        None => s.status.as_str().to_string(),
    }
}

fn unknown_caller_fault(e: &IdentityError, relates_to: Option<&str>) -> HttpReply {
    HttpReply::fault(
        &Fault::sender(FaultSubcode::UnknownCaller, e.to_string()),
        relates_to,
    )
}
