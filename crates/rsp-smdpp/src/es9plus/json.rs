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
    CancelSessionRequestEs9, CancelSessionResponse, GetBoundProfilePackageRequest,
    PendingNotification, PrepareDownloadResponse,
};
use rsp_types::codes::sgp22::status;
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

fn field(e: wire::FieldError) -> Reply {
    invalid(e.field, e.message)
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
            let req = wire::initiate_authentication_from_json(
                &r.euicc_challenge,
                &r.euicc_info1,
                r.smdp_address,
                r.lpa_rsp_capability.as_deref(),
            )
            .map_err(field)?;
            let out = service
                .initiate_authentication(&req, now)
                .await
                .map_err(|e| Reply::refused(&e))?;
            Ok(Reply::json(&wire::InitiateAuthenticationResponse::ok(
                wire::initiate_authentication_ok_to_json(&out.response),
            )))
        }
        Function::AuthenticateClient => {
            let r: wire::AuthenticateClientRequest = parse(body)?;
            let req = wire::authenticate_client_from_json(&r).map_err(field)?;
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
