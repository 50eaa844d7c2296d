//! From an envelope to a catalogue call, and from a call's outcome to an envelope. Pure.
//!
//! The body element name selects the function (C-13: dispatch on the body QName first); the Action header must
//! agree with it, in any of the spellings real peers use. The caller's role is checked against the catalogue
//! before anything is decoded further; a refusal is a `Failed` response with the function-requester subject,
//! not a fault, because the message itself was fine.

use std::collections::HashMap;
use std::sync::OnceLock;

use rsp_sgp02::common::{BaseRequest, BaseResponse};
use rsp_sgp02::schema::XmlComplex;
use rsp_sgp02::xml::Element;
use rsp_sgp02::{
    CATALOGUE, FunctionId, FunctionInfo, Interface, Pattern, RequestBody, ResponseBody,
    is_message_namespace,
};
use rsp_types::codes::sgp02::status;
use rsp_types::{FunctionExecutionStatus, Identity};
use sha2::{Digest, Sha256};

use crate::envelope::{Addressing, EndpointReference, Envelope, Fault, FaultSubcode};

/// What a body element is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// A request (or a notification, per the function's pattern).
    Request,
    /// A response: an asynchronous result delivered to our callback endpoint.
    Response,
}

fn element_index() -> &'static HashMap<String, (FunctionId, BodyKind)> {
    static INDEX: OnceLock<HashMap<String, (FunctionId, BodyKind)>> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut m = HashMap::new();
        for info in CATALOGUE {
            m.insert(info.request_element(), (info.id, BodyKind::Request));
            if let Some(r) = info.response_element() {
                m.insert(r, (info.id, BodyKind::Response));
            }
        }
        m
    })
}

/// Finds the function and kind of a body element name.
pub fn lookup(element_name: &str) -> Option<(FunctionId, BodyKind)> {
    element_index().get(element_name).copied()
}

/// An inbound message, classified and decoded.
#[derive(Debug, Clone, PartialEq)]
pub enum Inbound {
    /// A request of a request-response function.
    Request {
        /// The function.
        function: FunctionId,
        /// Its decoded body.
        body: RequestBody,
        /// The message's addressing headers.
        addressing: Addressing,
        /// Namespace the peer used (answers use the same one).
        namespace: String,
        /// FunctionCallIdentifier and ValidityPeriod.
        base: Option<BaseRequest>,
        /// SHA-256 of the canonical body (for idempotency: same identifier, same request).
        request_hash: [u8; 32],
        /// The EID and ICCID the request names at its top level (for logs and tracing spans).
        subject: Subject,
    },
    /// A one-way notification.
    Notification {
        /// The function.
        function: FunctionId,
        /// Its decoded body.
        body: RequestBody,
        /// The message's addressing headers.
        addressing: Addressing,
    },
    /// An asynchronous response to one of our requests (`RelatesTo` = our MessageID).
    Callback {
        /// The function.
        function: FunctionId,
        /// Its decoded body.
        body: ResponseBody,
        /// The message's addressing headers.
        addressing: Addressing,
    },
}

/// The eUICC and profile a request is about, when it names them at its top level.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subject {
    /// `Eid` element text.
    pub eid: Option<String>,
    /// `Iccid` element text.
    pub iccid: Option<String>,
}

impl Subject {
    /// Reads `Eid` and `Iccid` from the body's children.
    pub fn of(body: &Element) -> Self {
        let text = |name: &str| body.child(name).map(|e| e.trimmed_text().to_string());
        Self {
            eid: text("Eid"),
            iccid: text("Iccid"),
        }
    }
}

/// Whether an Action header names this body element (tolerating the variants real peers send: the `…Request`
/// suffix or not, any group spelling, `CallBack`/`Callback` groups).
pub fn action_matches(action: &str, info: &FunctionInfo, kind: BodyKind) -> bool {
    let last = action.trim().rsplit('/').next().unwrap_or("");
    let iface = info.interface.name();
    let base = format!("{iface}-{}", info.name);
    let element = match kind {
        BodyKind::Request => info.request_element(),
        BodyKind::Response => info.response_element().unwrap_or_default(),
    };
    let action_iface_ok = action.contains(&format!("/{iface}/"));
    action_iface_ok && (last == element || last == base || last == info.name)
}

/// Classifies and decodes an envelope received on `endpoint` (None: any interface).
pub fn classify(envelope: Envelope, endpoint: Option<Interface>) -> Result<Inbound, Fault> {
    let Envelope {
        addressing, body, ..
    } = envelope;
    let body = body.ok_or_else(|| Fault::sender(FaultSubcode::MalformedMessage, "empty Body"))?;
    let ns = body.ns.clone().unwrap_or_default();
    if !is_message_namespace(&ns) {
        return Err(Fault::sender(
            FaultSubcode::WrongNamespace,
            format!(
                "body element {} is in namespace {ns:?}, not a GSMA esim-messaging namespace",
                body.name
            ),
        ));
    }
    let (function, kind) = lookup(&body.name).ok_or_else(|| {
        Fault::sender(
            FaultSubcode::UnknownFunction,
            format!("no SGP.02 function has the body element {}", body.name),
        )
    })?;
    let info = function.info();
    if let Some(iface) = endpoint
        && iface != info.interface
    {
        return Err(Fault::sender(
            FaultSubcode::UnknownFunction,
            format!(
                "{} is not served on the {} endpoint",
                info.qualified_name(),
                iface
            ),
        ));
    }
    let action = addressing
        .action
        .as_deref()
        .ok_or_else(|| Fault::sender(FaultSubcode::MissingHeader, "missing wsa:Action header"))?;
    if !action_matches(action, info, kind) {
        return Err(Fault::sender(
            FaultSubcode::ActionMismatch,
            format!(
                "wsa:Action {action} does not match the body element {}",
                body.name
            ),
        ));
    }
    if addressing.message_id.is_none() {
        return Err(Fault::sender(
            FaultSubcode::MissingHeader,
            "missing wsa:MessageID header",
        ));
    }
    let invalid =
        |e: rsp_sgp02::schema::DecodeError| Fault::sender(FaultSubcode::InvalidBody, e.to_string());
    match kind {
        BodyKind::Response => {
            if addressing.relates_to.is_none() {
                return Err(Fault::sender(
                    FaultSubcode::MissingHeader,
                    "missing wsa:RelatesTo on an asynchronous response",
                ));
            }
            let body = ResponseBody::decode(function, &body).map_err(invalid)?;
            Ok(Inbound::Callback {
                function,
                body,
                addressing,
            })
        }
        BodyKind::Request => {
            // wsa:From is optional on input (lenient): the TLS certificate identifies the caller; when From
            // is present, its EntityId must match (see `authorize`).
            let decoded = RequestBody::decode(function, &body).map_err(invalid)?;
            if info.pattern == Pattern::Notification {
                Ok(Inbound::Notification {
                    function,
                    body: decoded,
                    addressing,
                })
            } else {
                let base = BaseRequest::read_fields(&body).ok();
                let subject = Subject::of(&body);
                let mut canonical = body;
                canonical.ns = Some(rsp_sgp02::DEFAULT_NAMESPACE.to_string());
                let request_hash: [u8; 32] = Sha256::digest(canonical.to_xml().as_bytes()).into();
                Ok(Inbound::Request {
                    function,
                    body: decoded,
                    addressing,
                    namespace: ns,
                    base,
                    request_hash,
                    subject,
                })
            }
        }
    }
}

/// Checks that `caller` may call (or send) `function`, and that the wsa:From EntityId, when present, names the
/// same entity as the TLS identity. The refusal is the status to answer with.
pub fn authorize(
    caller: &Identity,
    function: FunctionId,
    from: Option<&EndpointReference>,
) -> Result<(), FunctionExecutionStatus> {
    let info = function.info();
    if !info.allows(caller.role) {
        return Err(status::CALLER_NOT_ALLOWED.failed().with_message(format!(
            "{} may not call {} (allowed: {})",
            caller.role,
            info.qualified_name(),
            info.callers
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    if let (Some(declared), Some(actual)) = (
        from.and_then(EndpointReference::entity_id),
        caller.entity_id.as_ref(),
    ) && &declared != actual
    {
        return Err(status::CALLER_UNKNOWN.failed().with_message(format!(
            "wsa:From EntityId {declared} does not match the TLS client certificate's entity {actual}"
        )));
    }
    Ok(())
}

/// The response body element of `function` carrying only `status` (for refusals and failures).
pub fn status_only_response(
    function: FunctionId,
    status: &FunctionExecutionStatus,
    ns: &str,
) -> Option<Element> {
    let name = function.info().response_element()?;
    let mut el = Element::new(Some(ns), name);
    BaseResponse::with_status(status).write_fields(ns, &mut el);
    Some(el)
}

/// Builds a response envelope for a request.
pub fn response_envelope(
    function: FunctionId,
    body: Element,
    request: &Addressing,
    from: Option<EndpointReference>,
    callback: bool,
) -> Envelope {
    let info = function.info();
    let action = if callback {
        info.callback_action()
    } else {
        info.response_action()
    };
    Envelope {
        addressing: Addressing {
            to: request
                .reply_to
                .as_ref()
                .filter(|r| !r.is_anonymous())
                .map(|r| r.address.clone()),
            from,
            reply_to: None,
            message_id: Some(new_message_id()),
            action,
            relates_to: request.message_id.clone(),
        },
        other_headers: Vec::new(),
        body: Some(body),
    }
}

/// A fresh `urn:uuid:` MessageID (random version-4 UUID).
pub fn new_message_id() -> String {
    let mut b = [0u8; 16];
    // getrandom through std's hasher seeds would not be unpredictable; use the OS RNG via a fresh RandomState
    // mix only as a fallback. MessageIDs need uniqueness, not secrecy.
    fill_unique(&mut b);
    b[6] = (b[6] & 0x0F) | 0x40;
    b[8] = (b[8] & 0x3F) | 0x80;
    let h = rsp_sgp02::common::hex_upper(&b).to_ascii_lowercase();
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

fn fill_unique(out: &mut [u8; 16]) {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    for (i, chunk) in out.chunks_mut(8).enumerate() {
        let mut h = RandomState::new().build_hasher();
        h.write_u64(n);
        h.write_u128(nanos);
        h.write_usize(i);
        chunk.copy_from_slice(&h.finish().to_le_bytes()[..chunk.len()]);
    }
}
