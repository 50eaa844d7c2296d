//! The ES9+ ASN.1 binding (SGP.22 §6.6): `POST /gsma/rsp2/asn1`, `Content-Type:
//! application/x-gsma-rsp-asn1`, body = one DER `RemoteProfileProvisioningRequest`, answer = one
//! `RemoteProfileProvisioningResponse` whose alternative carries the function's error INTEGER
//! on a refusal (sgp22.md §4, §5); HandleNotification is answered HTTP 204. A body that is not
//! a `RemoteProfileProvisioningRequest` at all is HTTP 400; one whose function can be told from
//! the inner tag but whose content does not decode gets that function's `invalidInputData`
//! (124).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::response::Response;
use axum::routing::post;
use rsp_sgp22::json::format_admin_protocol;
use rsp_sgp22::{
    AuthenticateClientResponseEs9, CancelSessionOk, CancelSessionResponseEs9,
    GetBoundProfilePackageResponse, InitiateAuthenticationResponse, Profile,
    RemoteProfileProvisioningRequest, RemoteProfileProvisioningResponse,
};
use rsp_types::tlv;
use time::OffsetDateTime;

use super::json::{MAX_BODY, Reply, into_response};
use super::{Es9Service, Function, Refusal};

/// `Content-Type` of the ASN.1 binding.
pub const CONTENT_TYPE: &str = "application/x-gsma-rsp-asn1";

/// The function an (undecodable) request is for, from the tag inside `A2`.
fn function_of(body: &[u8]) -> Option<Function> {
    let outer = tlv::parse_single(body).ok()?;
    if outer.tag.value() != 0xA2 {
        return None;
    }
    let inner = tlv::iter(outer.value).next()?.ok()?;
    Some(match inner.tag.value() {
        0xBF39 => Function::InitiateAuthentication,
        0xBF3B => Function::AuthenticateClient,
        0xBF3A => Function::GetBoundProfilePackage,
        0xBF41 => Function::CancelSession,
        0xBF3D => Function::HandleNotification,
        _ => return None,
    })
}

fn error_response(function: Function, code: i64) -> Option<RemoteProfileProvisioningResponse> {
    Some(match function {
        Function::InitiateAuthentication => {
            RemoteProfileProvisioningResponse::InitiateAuthentication(
                InitiateAuthenticationResponse::Error(code),
            )
        }
        Function::AuthenticateClient => RemoteProfileProvisioningResponse::AuthenticateClient(
            AuthenticateClientResponseEs9::Error(code),
        ),
        Function::GetBoundProfilePackage => {
            RemoteProfileProvisioningResponse::GetBoundProfilePackage(
                GetBoundProfilePackageResponse::Error(code),
            )
        }
        Function::CancelSession => {
            RemoteProfileProvisioningResponse::CancelSession(CancelSessionResponseEs9::Error(code))
        }
        Function::HandleNotification => return None,
    })
}

fn encode(resp: &RemoteProfileProvisioningResponse, peer: &Profile) -> Reply {
    match resp.encode(peer) {
        Ok(body) => Reply { status: 200, body },
        Err(e) => {
            tracing::warn!(error = %e, "ASN.1 response encoding failed");
            Reply {
                status: 500,
                body: Vec::new(),
            }
        }
    }
}

fn refused(function: Function, refusal: &Refusal, peer: &Profile) -> Reply {
    match error_response(function, refusal.asn1_code(function)) {
        Some(r) => encode(&r, peer),
        None => Reply {
            status: 204,
            body: Vec::new(),
        },
    }
}

/// Runs one ASN.1-binding request at `now`.
pub async fn handle(service: &Es9Service, body: &[u8], now: OffsetDateTime) -> Reply {
    let own = Profile::new(service.config().svn);
    let req = match RemoteProfileProvisioningRequest::decode(body) {
        Ok(r) => r,
        Err(e) => {
            return match function_of(body) {
                Some(f) => refused(f, &Refusal::InvalidInput(e.to_string()), &own),
                None => Reply {
                    status: 400,
                    body: Vec::new(),
                },
            };
        }
    };
    use RemoteProfileProvisioningRequest as Rq;
    use RemoteProfileProvisioningResponse as Rs;
    match req {
        Rq::InitiateAuthentication(r) => match service.initiate_authentication(&r, now).await {
            Ok(out) => encode(
                &Rs::InitiateAuthentication(InitiateAuthenticationResponse::Ok(out.response)),
                &out.peer,
            ),
            Err(e) => refused(e.function, &e.refusal, &own),
        },
        Rq::AuthenticateClient(r) => match service.authenticate_client(&r, now).await {
            Ok(out) => encode(
                &Rs::AuthenticateClient(AuthenticateClientResponseEs9::Ok(out.response)),
                &out.peer,
            ),
            Err(e) => refused(e.function, &e.refusal, &own),
        },
        Rq::GetBoundProfilePackage(r) => match service.get_bound_profile_package(&r, now).await {
            Ok(out) => encode(
                &Rs::GetBoundProfilePackage(GetBoundProfilePackageResponse::Ok(out.response)),
                &out.peer,
            ),
            Err(e) => refused(e.function, &e.refusal, &own),
        },
        Rq::CancelSession(r) => match service.cancel_session(&r, now).await {
            Ok(_) => encode(
                &Rs::CancelSession(CancelSessionResponseEs9::Ok(CancelSessionOk {
                    unknown_tags: vec![],
                })),
                &own,
            ),
            Err(e) => refused(e.function, &e.refusal, &own),
        },
        Rq::HandleNotification(n) => {
            let raw = rsp_sgp22::DerTlv::to_der(&n.pending_notification, &own).unwrap_or_default();
            let _ = service
                .handle_notification(&n.pending_notification, &raw, now)
                .await;
            Reply {
                status: 204,
                body: Vec::new(),
            }
        }
    }
}

async fn route(State(service): State<Es9Service>, body: Bytes) -> Response {
    let admin = format_admin_protocol(service.config().svn);
    let reply = handle(&service, &body, OffsetDateTime::now_utc()).await;
    into_response(reply, &admin, CONTENT_TYPE)
}

/// The ASN.1 route: `POST /gsma/rsp2/asn1`.
pub fn router(service: Es9Service) -> Router {
    Router::new()
        .route("/gsma/rsp2/asn1", post(route))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(service)
}
