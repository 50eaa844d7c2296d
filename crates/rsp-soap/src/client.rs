//! The typed client: one generic call for every catalogue function, over mutual TLS.
//!
//! `client.request::<fns::Es4EnableProfile>(url, body, None)` sends a synchronous request and returns the typed
//! response; with a `ReplyTo` it returns [`Reply::Accepted`] and the response arrives later at the caller's own
//! SOAP endpoint, where a [`PendingReplies`] registry (used as the callback handler) hands it to the waiting task.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rsp_sgp02::catalogue::Function;
use rsp_sgp02::xml::Limits;
use rsp_sgp02::{Bodies, FunctionId, Interface, ResponseBody};
use rsp_types::EntityId;
use rsp_xmlsec::eis::SignedEisPart;
use rsp_xmlsec::policy::MessageSecurity;
use time::OffsetDateTime;
use tokio::sync::oneshot;

use crate::dispatch::{self, BodyKind, new_message_id};
use crate::envelope::{Addressing, EndpointReference, Envelope, Fault, WSA_ANONYMOUS};
use crate::http::SOAP_CONTENT_TYPE;

/// What a request produced.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply<R> {
    /// The response, in the same exchange.
    Response(R),
    /// HTTP 202: the response will come to `ReplyTo`, correlated by this MessageID.
    Accepted {
        /// The request's MessageID (the callback's RelatesTo).
        message_id: String,
    },
}

/// Client errors.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Network or TLS failure.
    #[error("transport: {0}")]
    Transport(String),
    /// The peer answered with a SOAP fault.
    #[error("{0}")]
    Fault(Fault),
    /// The peer answered something that is not the expected response.
    #[error("unexpected answer (HTTP {status}): {message}")]
    Unexpected {
        /// HTTP status.
        status: u16,
        /// What was wrong.
        message: String,
    },
    /// No asynchronous response arrived in time.
    #[error("no asynchronous response within {0:?}")]
    Timeout(Duration),
}

/// A SOAP client with a fixed identity (TLS client certificate and `wsa:From`).
#[derive(Clone)]
pub struct SoapClient {
    http: reqwest::Client,
    from: EndpointReference,
    namespace: String,
    limits: Limits,
    security: Option<Arc<MessageSecurity>>,
    peer: Option<EntityId>,
}

impl SoapClient {
    /// A client over `tls` that names itself `from` (`…?EntityId=<oid>`) and writes bodies in `namespace`.
    pub fn new(
        tls: rustls::ClientConfig,
        from: EndpointReference,
        namespace: &str,
    ) -> Result<Self, ClientError> {
        let http = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .timeout(Duration::from_secs(60))
            .pool_idle_timeout(Duration::from_secs(90))
            .build()
            .map_err(|e| ClientError::Transport(e.to_string()))?;
        Ok(Self {
            http,
            from,
            namespace: namespace.to_string(),
            limits: Limits::default(),
            security: None,
            peer: None,
        })
    }

    /// Enables WS-Security towards `peer` (its EntityId; None: unknown): outgoing messages are signed and
    /// signed responses verified (the signer must carry `peer`'s EntityId) as `security`'s policy says.
    pub fn with_message_security(
        mut self,
        security: Arc<MessageSecurity>,
        peer: Option<EntityId>,
    ) -> Self {
        self.security = Some(security);
        self.peer = peer;
        self
    }

    /// Signs `xml` for `interface` when the policy says so.
    fn secure(&self, xml: String, interface: Option<Interface>) -> Result<String, ClientError> {
        let Some(security) = &self.security else {
            return Ok(xml);
        };
        security
            .sign_outbound(
                &xml,
                self.peer.as_ref(),
                interface,
                OffsetDateTime::now_utc(),
            )
            .map(std::borrow::Cow::into_owned)
            .map_err(|e| ClientError::Transport(format!("WS-Security: {e}")))
    }

    /// Sends a request of `F` to `url`. With `reply_to`, an asynchronous function answers [`Reply::Accepted`].
    pub async fn request<F: Function + Bodies>(
        &self,
        url: &str,
        body: F::Request,
        reply_to: Option<EndpointReference>,
    ) -> Result<Reply<F::Response>, ClientError> {
        self.request_inner::<F>(url, body, reply_to, None).await
    }

    /// [`Self::request`] for a body carrying an EIS (ES7 HandoverEUICC): the EUM-signed part is written with
    /// its original bytes (`signed_eis`, kept since registration) so that the receiver can verify it.
    pub async fn request_with_signed_eis<F: Function + Bodies>(
        &self,
        url: &str,
        body: F::Request,
        reply_to: Option<EndpointReference>,
        signed_eis: &SignedEisPart,
    ) -> Result<Reply<F::Response>, ClientError> {
        self.request_inner::<F>(url, body, reply_to, Some(signed_eis))
            .await
    }

    async fn request_inner<F: Function + Bodies>(
        &self,
        url: &str,
        body: F::Request,
        reply_to: Option<EndpointReference>,
        signed_eis: Option<&SignedEisPart>,
    ) -> Result<Reply<F::Response>, ClientError> {
        let info = F::info();
        let message_id = new_message_id();
        let envelope = Envelope {
            addressing: Addressing {
                to: Some(url.to_string()),
                from: Some(self.from.clone()),
                reply_to: Some(reply_to.unwrap_or_else(|| EndpointReference::new(WSA_ANONYMOUS))),
                message_id: Some(message_id.clone()),
                action: Some(info.request_action()),
                relates_to: None,
            },
            other_headers: Vec::new(),
            body: Some(F::wrap_request(body).encode(&self.namespace)),
        };
        let mut xml = envelope.to_xml();
        if let Some(part) = signed_eis {
            xml = rsp_xmlsec::eis::splice(&xml, part).map_err(|e| ClientError::Unexpected {
                status: 0,
                message: e.to_string(),
            })?;
        }
        let xml = self.secure(xml, Some(info.interface))?;
        let (status, text) = self.post(url, &xml, &info.request_action()).await?;
        if status == 202 {
            return Ok(Reply::Accepted { message_id });
        }
        let response = self.parse_response(status, &text, Some(info.interface))?;
        let body = ResponseBody::decode(F::ID, &response).map_err(|e| ClientError::Unexpected {
            status,
            message: format!("response body: {e}"),
        })?;
        F::unwrap_response(body)
            .map(Reply::Response)
            .ok_or_else(|| ClientError::Unexpected {
                status,
                message: "response of another function".into(),
            })
    }

    /// Sends a notification of `F` (one-way).
    pub async fn notify<F: Function + Bodies>(
        &self,
        url: &str,
        body: F::Request,
    ) -> Result<(), ClientError> {
        let info = F::info();
        let envelope = Envelope {
            addressing: Addressing {
                to: Some(url.to_string()),
                from: Some(self.from.clone()),
                reply_to: None,
                message_id: Some(new_message_id()),
                action: Some(info.request_action()),
                relates_to: None,
            },
            other_headers: Vec::new(),
            body: Some(F::wrap_request(body).encode(&self.namespace)),
        };
        let xml = self.secure(envelope.to_xml(), Some(info.interface))?;
        let (status, text) = self.post(url, &xml, &info.request_action()).await?;
        match status {
            200 | 202 | 204 => Ok(()),
            _ => Err(self.parse_response(status, &text, None).err().unwrap_or(
                ClientError::Unexpected {
                    status,
                    message: text,
                },
            )),
        }
    }

    /// Posts an already-built envelope (asynchronous responses from the outbox). 2xx is delivered.
    /// Signed at delivery time when the policy says so (the Timestamp is fresh even after retries).
    pub async fn post_envelope(&self, url: &str, envelope_xml: &str) -> Result<u16, ClientError> {
        let interface = Envelope::parse(envelope_xml, &self.limits)
            .ok()
            .and_then(|e| e.body)
            .and_then(|b| dispatch::lookup(&b.name))
            .map(|(f, _)| f.info().interface);
        let xml = self.secure(envelope_xml.to_string(), interface)?;
        let (status, text) = self.post(url, &xml, "").await?;
        if (200..300).contains(&status) {
            Ok(status)
        } else {
            Err(self
                .parse_response(status, &text, None)
                .err()
                .unwrap_or(ClientError::Unexpected {
                    status,
                    message: text,
                }))
        }
    }

    async fn post(&self, url: &str, xml: &str, action: &str) -> Result<(u16, String), ClientError> {
        let mut ct = SOAP_CONTENT_TYPE.to_string();
        if !action.is_empty() {
            ct.push_str(&format!("; action=\"{action}\""));
        }
        let resp = self
            .http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, ct)
            .body(xml.to_string())
            .send()
            .await
            .map_err(|e| ClientError::Transport(error_chain(&e)))?;
        let status = resp.status().as_u16();
        let text = resp
            .text()
            .await
            .map_err(|e| ClientError::Transport(e.to_string()))?;
        Ok((status, text))
    }

    /// Reads an answer; a (non-fault) response to a request on `interface` is checked against the WS-Security
    /// policy: verified when signed, refused when unsigned and required.
    fn parse_response(
        &self,
        status: u16,
        text: &str,
        interface: Option<Interface>,
    ) -> Result<rsp_sgp02::xml::Element, ClientError> {
        let env = Envelope::parse(text, &self.limits).map_err(|f| ClientError::Unexpected {
            status,
            message: format!("unparseable answer: {f}"),
        })?;
        if let Some(f) = env.fault() {
            return Err(ClientError::Fault(f));
        }
        if let (Some(security), Some(interface)) = (&self.security, interface) {
            let peer = self.peer.as_ref();
            let is_peer = |signer: &[u8]| {
                peer.is_none_or(|p| {
                    rsp_crypto::x509::Certificate::from_der(signer)
                        .is_ok_and(|c| c.registered_ids().iter().any(|r| *r == p.to_string()))
                })
            };
            security
                .check_inbound(
                    text,
                    peer,
                    Some(interface),
                    env.has_security_header(),
                    OffsetDateTime::now_utc(),
                    &is_peer,
                    false,
                )
                .map_err(|e| ClientError::Unexpected {
                    status,
                    message: format!("response refused by WS-Security: {e}"),
                })?;
        }
        env.body.ok_or(ClientError::Unexpected {
            status,
            message: "empty Body".into(),
        })
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

/// Asynchronous responses awaited by MessageID. Use it as (part of) the callback endpoint's handler.
#[derive(Default, Clone)]
pub struct PendingReplies {
    waiting: Arc<Mutex<HashMap<String, oneshot::Sender<ResponseBody>>>>,
}

impl PendingReplies {
    /// Registers interest in the response to `message_id`, before sending the request.
    pub fn expect(&self, message_id: &str) -> oneshot::Receiver<ResponseBody> {
        let (tx, rx) = oneshot::channel();
        if let Ok(mut w) = self.waiting.lock() {
            w.insert(message_id.to_string(), tx);
        }
        rx
    }

    /// Delivers a callback; returns false when nobody waits for it.
    pub fn deliver(&self, relates_to: &str, body: ResponseBody) -> bool {
        let tx = self
            .waiting
            .lock()
            .ok()
            .and_then(|mut w| w.remove(relates_to));
        tx.is_some_and(|tx| tx.send(body).is_ok())
    }

    /// Waits for the typed response of `F` to `rx`.
    pub async fn wait<F: Function + Bodies>(
        rx: oneshot::Receiver<ResponseBody>,
        timeout: Duration,
    ) -> Result<F::Response, ClientError> {
        let body = tokio::time::timeout(timeout, rx)
            .await
            .map_err(|_| ClientError::Timeout(timeout))?
            .map_err(|_| ClientError::Transport("callback registry dropped".into()))?;
        F::unwrap_response(body).ok_or(ClientError::Unexpected {
            status: 200,
            message: "callback of another function".into(),
        })
    }
}

/// Whether an Action string names the response of `function` (used when routing callbacks).
pub fn is_callback_for(action: &str, function: FunctionId) -> bool {
    dispatch::action_matches(action, function.info(), BodyKind::Response)
}
