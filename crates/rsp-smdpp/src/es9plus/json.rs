//! The ES9+ JSON binding (sgp22.md §8): `POST /gsma/rsp2/es9plus/<function>`, bodies of
//! [`rsp_sgp22::json`]. Requests carry no `header`; responses carry
//! `header.functionExecutionStatus`; functional failures are HTTP 200 with `Failed` and
//! `statusCodeData`; `handleNotification` is answered HTTP 204 with no body; every response
//! carries `X-Admin-Protocol: gsma/rsp/v<server SVN>` and `Content-Type:
//! application/json;charset=UTF-8`. Input that is not JSON at all is HTTP 400; JSON whose
//! fields are missing, not base64 or not the expected DER is a functional failure `1.6`/`2.1`
//! (`1.6`/`2.2` for a missing field).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use rsp_sgp22::json::{self as wire, ADMIN_PROTOCOL_HEADER, CONTENT_TYPE};
use rsp_sgp22::{
    AuthenticateClientRequest, AuthenticateServerResponse, BitString, CancelSessionRequestEs9,
    CancelSessionResponse, EuiccInfo1, GetBoundProfilePackageRequest,
    InitiateAuthenticationRequest, LpaRspCapability, Octet16, PendingNotification,
    PrepareDownloadResponse,
};
use rsp_types::codes::sgp22::status;
use rsp_types::tlv;
use serde::Serialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;

use super::procedure::signature_tlv;
use super::{Es9Error, Es9Service, Function, Refusal};

/// Largest accepted request body.
pub const MAX_BODY: usize = 1024 * 1024;

/// A reply of the binding, independent of the HTTP library.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// HTTP status (200, 204, 400, 404).
    pub status: u16,
    /// JSON body (empty for 204 / 400).
    pub body: Vec<u8>,
}

impl Reply {
    fn json<T: Serialize>(value: &T) -> Reply {
        match serde_json::to_vec(value) {
            Ok(body) => Reply { status: 200, body },
            Err(_) => Reply {
                status: 500,
                body: Vec::new(),
            },
        }
    }

    fn failed(code: rsp_types::StatusCode, message: String) -> Reply {
        Reply::json(&wire::HeaderOnly::status(
            code.failed().with_message(message),
        ))
    }

    fn refused(e: &Es9Error) -> Reply {
        let message = match &e.refusal {
            Refusal::Internal(_) => "internal error".to_string(),
            r => r.to_string(),
        };
        if let Refusal::Internal(detail) = &e.refusal {
            tracing::warn!(function = ?e.function, %detail, "ES9+ internal error");
        }
        Reply::failed(e.status(), message)
    }

    fn no_content() -> Reply {
        Reply {
            status: 204,
            body: Vec::new(),
        }
    }
}

/// Parses a JSON request: `Err(400)` if not JSON, a functional failure if the fields are wrong.
fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, Reply> {
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|_| Reply {
        status: 400,
        body: Vec::new(),
    })?;
    serde_json::from_value(value).map_err(|e| {
        let text = e.to_string();
        let code = if text.starts_with("missing field") {
            status::MISSING_PARAMETER
        } else {
            status::INVALID_PARAMETER
        };
        Reply::failed(code, text)
    })
}

fn invalid(field: &str, e: impl std::fmt::Display) -> Reply {
    Reply::failed(status::INVALID_PARAMETER, format!("{field}: {e}"))
}

/// `lpaRspCapability` as sent: a BIT STRING TLV (`03` or the context tag `85`).
fn lpa_capability(bytes: &[u8]) -> Result<LpaRspCapability, Reply> {
    let t = tlv::parse_single(bytes).map_err(|e| invalid("lpaRspCapability", e))?;
    if !matches!(t.tag.value(), 0x03 | 0x85) {
        return Err(invalid("lpaRspCapability", "not a BIT STRING"));
    }
    BitString::from_content(t.value, "LpaRspCapability")
        .map(LpaRspCapability)
        .map_err(|e| invalid("lpaRspCapability", e))
}

/// `04 <len> <SKI>`.
fn ski_tlv(ski: &[u8]) -> Vec<u8> {
    tlv::Tag::from_u32(0x04)
        .ok()
        .and_then(|t| tlv::encode_tlv_to_vec(t, ski).ok())
        .unwrap_or_default()
}

/// Runs `function` on a JSON body at `now`.
pub async fn handle(
    service: &Es9Service,
    function: Function,
    body: &[u8],
    now: OffsetDateTime,
) -> Reply {
    match dispatch(service, function, body, now).await {
        Ok(r) | Err(r) => r,
    }
}

async fn dispatch(
    service: &Es9Service,
    function: Function,
    body: &[u8],
    now: OffsetDateTime,
) -> Result<Reply, Reply> {
    match function {
        Function::InitiateAuthentication => {
            let r: wire::InitiateAuthenticationRequest = parse(body)?;
            let euicc_challenge = <[u8; 16]>::try_from(r.euicc_challenge.as_slice())
                .map(Octet16)
                .map_err(|_| invalid("euiccChallenge", "must be 16 bytes"))?;
            let euicc_info1 =
                EuiccInfo1::decode(&r.euicc_info1).map_err(|e| invalid("euiccInfo1", e))?;
            let lpa_rsp_capability = r
                .lpa_rsp_capability
                .as_deref()
                .map(lpa_capability)
                .transpose()?;
            let req = InitiateAuthenticationRequest {
                euicc_challenge,
                smdp_address: r.smdp_address,
                euicc_info1,
                lpa_rsp_capability,
                unknown_tags: vec![],
            };
            let out = service
                .initiate_authentication(&req, now)
                .await
                .map_err(|e| Reply::refused(&e))?;
            let ok = out.response;
            let sig = signature_tlv(&ok.server_signature1)
                .map_err(|e| Reply::refused(&Es9Error::new(function, e)))?;
            Ok(Reply::json(&wire::InitiateAuthenticationResponse::ok(
                wire::InitiateAuthenticationOk {
                    transaction_id: ok.transaction_id,
                    server_signed1: ok.server_signed1.raw().to_vec(),
                    server_signature1: sig,
                    euicc_ci_pk_id_to_be_used: ski_tlv(&ok.euicc_ci_pk_id_to_be_used),
                    server_certificate: ok.server_certificate.0,
                    other_certs_in_chain: None,
                    crl_list: None,
                },
            )))
        }
        Function::AuthenticateClient => {
            let r: wire::AuthenticateClientRequest = parse(body)?;
            let asr = AuthenticateServerResponse::decode(&r.authenticate_server_response)
                .map_err(|e| invalid("authenticateServerResponse", e))?;
            let req = AuthenticateClientRequest {
                transaction_id: r.transaction_id,
                authenticate_server_response: asr,
                delete_notification_for_dc: None,
                unknown_tags: vec![],
            };
            let out = service
                .authenticate_client(&req, now)
                .await
                .map_err(|e| Reply::refused(&e))?;
            let ok = out.response;
            let internal =
                |e: String| Reply::refused(&Es9Error::new(function, Refusal::Internal(e)));
            let metadata = ok
                .profile_metadata
                .encode(&out.peer)
                .map_err(|e| internal(e.to_string()))?;
            let sig = signature_tlv(&ok.smdp_signature2).map_err(|e| internal(e.to_string()))?;
            Ok(Reply::json(&wire::AuthenticateClientResponse::ok(
                wire::AuthenticateClientOk {
                    transaction_id: ok.transaction_id,
                    profile_metadata: metadata,
                    smdp_signed2: ok.smdp_signed2.raw().to_vec(),
                    smdp_signature2: sig,
                    smdp_certificate: ok.smdp_certificate.0,
                },
            )))
        }
        Function::GetBoundProfilePackage => {
            let r: wire::GetBoundProfilePackageRequest = parse(body)?;
            let pdr = PrepareDownloadResponse::decode(&r.prepare_download_response)
                .map_err(|e| invalid("prepareDownloadResponse", e))?;
            let req = GetBoundProfilePackageRequest {
                transaction_id: r.transaction_id,
                prepare_download_response: pdr,
                unknown_tags: vec![],
            };
            let out = service
                .get_bound_profile_package(&req, now)
                .await
                .map_err(|e| Reply::refused(&e))?;
            Ok(Reply::json(&wire::GetBoundProfilePackageResponse::ok(
                wire::GetBoundProfilePackageOk {
                    transaction_id: out.response.transaction_id,
                    bound_profile_package: out.response.bound_profile_package.0,
                },
            )))
        }
        Function::HandleNotification => {
            // Always 204 (sgp22.md §8.2); what was done is logged and audited.
            let r: wire::HandleNotificationRequest = match parse(body) {
                Ok(r) => r,
                Err(_) => return Ok(Reply::no_content()),
            };
            match PendingNotification::decode(&r.pending_notification) {
                Ok(p) => {
                    let _ = service
                        .handle_notification(&p, &r.pending_notification, now)
                        .await;
                }
                Err(e) => tracing::info!(error = %e, "undecodable pendingNotification"),
            }
            Ok(Reply::no_content())
        }
        Function::CancelSession => {
            let r: wire::CancelSessionRequest = parse(body)?;
            let csr = CancelSessionResponse::decode(&r.cancel_session_response)
                .map_err(|e| invalid("cancelSessionResponse", e))?;
            let req = CancelSessionRequestEs9 {
                transaction_id: r.transaction_id,
                cancel_session_response: csr,
                unknown_tags: vec![],
            };
            service
                .cancel_session(&req, now)
                .await
                .map_err(|e| Reply::refused(&e))?;
            Ok(Reply::json(&wire::CancelSessionResponse::ok(
                wire::CancelSessionOk::default(),
            )))
        }
    }
}

/// The function of a path segment.
pub fn function_of(path: &str) -> Option<Function> {
    Function::ALL.into_iter().find(|f| f.path() == path)
}

/// Turns a [`Reply`] into an HTTP response with the binding's headers.
pub fn into_response(reply: Reply, admin_protocol: &str, content_type: &'static str) -> Response {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = if reply.body.is_empty() {
        status.into_response()
    } else {
        (
            status,
            [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
            reply.body,
        )
            .into_response()
    };
    if let Ok(v) = HeaderValue::from_str(admin_protocol) {
        resp.headers_mut().insert(ADMIN_PROTOCOL_HEADER, v);
    }
    resp
}

async fn route(
    State(service): State<Es9Service>,
    Path(function): Path<String>,
    body: Bytes,
) -> Response {
    let admin = wire::format_admin_protocol(service.config().svn);
    let Some(function) = function_of(&function) else {
        return into_response(
            Reply {
                status: 404,
                body: Vec::new(),
            },
            &admin,
            CONTENT_TYPE,
        );
    };
    let reply = handle(&service, function, &body, OffsetDateTime::now_utc()).await;
    into_response(reply, &admin, CONTENT_TYPE)
}

/// The JSON routes: `POST /gsma/rsp2/es9plus/{function}`.
pub fn router(service: Es9Service) -> Router {
    Router::new()
        .route("/gsma/rsp2/es9plus/{function}", post(route))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(service)
}
