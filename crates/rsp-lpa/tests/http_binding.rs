//! The HTTPS client against a scripted ES9+ server over TLS on 127.0.0.1: the headers and bodies
//! on the wire (no JSON header on requests, X-Admin-Protocol, User-Agent, the gated fields per
//! receiver version), HTTP 200 + functionExecutionStatus failures, 204 for HandleNotification,
//! the ASN.1 binding, and TLS trust.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use common::fakes::*;
use rsp_lpa::wire::Binding;
use rsp_lpa::{Es9Client, Es9Error, Es9Function, HttpConfig, HttpEs9Client};
use rsp_sgp22::json;
use rsp_sgp22::{
    EuiccInfo1, InitiateAuthenticationRequest, InitiateAuthenticationResponse, LpaRspCapability,
    Octet16, Profile, RemoteProfileProvisioningRequest, RemoteProfileProvisioningResponse,
    ServerSigned1, Signed,
};
use rsp_types::{FunctionExecutionStatus, ReasonCode, SubjectCode, Svn};
use tokio::net::TcpListener;

const HOST: &str = "smdp.example.com";

struct Tls {
    ca_pem: String,
    server: Arc<rustls::ServerConfig>,
}

fn tls(host: &str) -> Tls {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec![host.to_string()])
        .unwrap()
        .signed_by(&leaf_key, &ca)
        .unwrap();
    let key = rustls_pki_types::PrivateKeyDer::try_from(leaf_key.serialize_der()).unwrap();
    let mut server = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![leaf.der().clone()], key)
        .unwrap();
    server.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Tls {
        ca_pem: ca.pem(),
        server: Arc::new(server),
    }
}

/// A recorded request.
#[derive(Debug, Clone)]
struct Seen {
    path: String,
    headers: HeaderMap,
    body: Vec<u8>,
}

/// HTTP status and body.
type Answer = (u16, Vec<u8>);

/// Canned answer per path.
#[derive(Clone, Default)]
struct Script {
    seen: Arc<Mutex<Vec<Seen>>>,
    answers: Arc<Mutex<HashMap<String, Answer>>>,
}

impl Script {
    fn answer(&self, path: &str, status: u16, body: Vec<u8>) {
        self.answers
            .lock()
            .unwrap()
            .insert(path.to_string(), (status, body));
    }
}

async fn handle(
    State(script): State<Script>,
    Path(path): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    let path = format!("/{path}");
    script.seen.lock().unwrap().push(Seen {
        path: path.clone(),
        headers,
        body: body.to_vec(),
    });
    let (status, body) = script
        .answers
        .lock()
        .unwrap()
        .get(&path)
        .cloned()
        .unwrap_or((404, vec![]));
    (
        StatusCode::from_u16(status).unwrap(),
        [("x-admin-protocol", "gsma/rsp/v2.1.0")],
        body,
    )
}

struct Listener {
    local: SocketAddr,
    tcp: TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
}

impl axum::serve::Listener for Listener {
    type Io = tokio_rustls::server::TlsStream<tokio::net::TcpStream>;
    type Addr = SocketAddr;
    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((stream, addr)) = self.tcp.accept().await else {
                continue;
            };
            if let Ok(tls) = self.acceptor.accept(stream).await {
                return (tls, addr);
            }
        }
    }
    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}

async fn start(tls: &Tls) -> (SocketAddr, Script) {
    let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let local = tcp.local_addr().unwrap();
    let script = Script::default();
    let app = axum::Router::new()
        .route("/{*path}", axum::routing::post(handle))
        .with_state(script.clone());
    let listener = Listener {
        local,
        tcp,
        acceptor: tokio_rustls::TlsAcceptor::from(tls.server.clone()),
    };
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (local, script)
}

fn client(tls: &Tls, addr: SocketAddr, svn: Svn, binding: Binding) -> HttpEs9Client {
    let cfg = HttpConfig::new(svn)
        .with_trust(tls.ca_pem.as_bytes())
        .unwrap()
        .with_resolve(HOST, addr)
        .with_binding(binding);
    HttpEs9Client::new(cfg).unwrap()
}

fn init_request(v3_card: bool) -> InitiateAuthenticationRequest {
    let cfg = if v3_card {
        FakeCardConfig::v3()
    } else {
        FakeCardConfig::v2()
    };
    let info1: EuiccInfo1 = FakeCard::new(cfg).info1();
    InitiateAuthenticationRequest {
        euicc_challenge: Octet16([0x5C; 16]),
        smdp_address: HOST.into(),
        euicc_info1: info1,
        lpa_rsp_capability: Some(LpaRspCapability::with_bits(&[
            LpaRspCapability::CERT_CHAIN_V3_SUPPORT,
        ])),
        unknown_tags: vec![],
    }
}

fn init_ok_json() -> Vec<u8> {
    let signed = ServerSigned1 {
        transaction_id: txid(),
        euicc_challenge: Octet16([0x5C; 16]),
        server_address: HOST.into(),
        server_challenge: Octet16([0x77; 16]),
        session_context: None,
        server_rsp_capability: None,
        unknown_tags: vec![],
    };
    let signed = Signed::new(signed, &Profile::new(V2)).unwrap();
    let mut sig = vec![0x5F, 0x37, 0x40];
    sig.extend([0x66; 64]);
    let mut ski = vec![0x04, 0x14];
    ski.extend([0xF5; 20]);
    let ok = json::InitiateAuthenticationOk {
        transaction_id: txid(),
        server_signed1: signed.raw().to_vec(),
        server_signature1: sig,
        euicc_ci_pk_id_to_be_used: ski,
        server_certificate: vec![0x30, 0x03, 0x02, 0x01, 0x01],
        other_certs_in_chain: None,
        crl_list: None,
    };
    serde_json::to_vec(&json::Response::ok(ok)).unwrap()
}

#[tokio::test]
async fn json_initiate_authentication_on_the_wire() {
    let tls = tls(HOST);
    let (addr, script) = start(&tls).await;
    script.answer(
        "/gsma/rsp2/es9plus/initiateAuthentication",
        200,
        init_ok_json(),
    );
    let mut c = client(&tls, addr, V2, Binding::Json);

    // For a v2 receiver: no lpaRspCapability, EUICCInfo1 without its v3 fields.
    let ok = c
        .initiate_authentication(HOST, &init_request(true), &Profile::new(V2))
        .await
        .unwrap();
    assert_eq!(ok.transaction_id, txid());
    assert_eq!(ok.server_signature1, vec![0x66; 64], "5F37 header stripped");
    assert_eq!(ok.euicc_ci_pk_id_to_be_used, vec![0xF5; 20]);
    assert_eq!(ok.server_signed1.value().server_address, HOST);
    assert_eq!(c.last_admin_protocol(), Some(Svn::new(2, 1, 0)));

    let seen = script.seen.lock().unwrap()[0].clone();
    assert_eq!(seen.path, "/gsma/rsp2/es9plus/initiateAuthentication");
    assert_eq!(seen.headers["x-admin-protocol"], "gsma/rsp/v2.2.2");
    assert_eq!(seen.headers["user-agent"], "gsma-rsp-lpad");
    assert!(
        seen.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let body: serde_json::Value = serde_json::from_slice(&seen.body).unwrap();
    assert!(
        body.get("header").is_none(),
        "ES9+ requests carry no header"
    );
    assert!(body.get("lpaRspCapability").is_none(), "{body}");
    assert_eq!(body["smdpAddress"], HOST);

    // The wire log has both sides, with the decoded DER of each base64 field.
    let log = c.log();
    let e = log.last(Es9Function::InitiateAuthentication).unwrap();
    assert_eq!(e.status, Some(200));
    assert_eq!(e.request_admin_protocol(), Some(V2));
    assert_eq!(e.response_admin_protocol(), Some(Svn::new(2, 1, 0)));
    assert_eq!(e.request_field("euiccChallenge"), Some(&[0x5C; 16][..]));
    let paths = e.request_tag_paths();
    assert!(
        paths.contains(&"euiccInfo1:BF20/82".to_string()),
        "{paths:?}"
    );
    assert!(
        !paths.iter().any(|p| p.starts_with("euiccInfo1:BF20/93")),
        "{paths:?}"
    );
    assert!(
        e.response_tag_paths()
            .contains(&"serverSigned1:30/84".to_string())
    );
    assert!(
        !log.received_tag_paths()
            .iter()
            .any(|p| p.ends_with("30/A5") || p.ends_with("30/86"))
    );

    // For a v3 receiver the same request carries lpaRspCapability as a BIT STRING TLV.
    c.initiate_authentication(HOST, &init_request(true), &Profile::new(V3))
        .await
        .unwrap();
    let e = log.last(Es9Function::InitiateAuthentication).unwrap();
    assert_eq!(
        e.request_field("lpaRspCapability"),
        Some(&[0x03, 0x02, 0x06, 0x40][..])
    );
    assert!(
        e.request_tag_paths()
            .contains(&"euiccInfo1:BF20/93".to_string())
    );
}

#[tokio::test]
async fn json_failures_and_notifications() {
    let tls = tls(HOST);
    let (addr, script) = start(&tls).await;
    let failed = json::Response::<json::Empty>::status(
        FunctionExecutionStatus::failed(
            SubjectCode::new("8.8.2").unwrap(),
            ReasonCode::new("3.1").unwrap(),
        )
        .with_message("no CI"),
    );
    script.answer(
        "/gsma/rsp2/es9plus/initiateAuthentication",
        200,
        serde_json::to_vec(&failed).unwrap(),
    );
    script.answer("/gsma/rsp2/es9plus/handleNotification", 204, vec![]);
    script.answer("/gsma/rsp2/es9plus/cancelSession", 500, b"boom".to_vec());
    let mut c = client(&tls, addr, V3, Binding::Json);
    let err = c
        .initiate_authentication(HOST, &init_request(false), &Profile::new(V3))
        .await
        .unwrap_err();
    let status = err.status().expect("status code data");
    assert_eq!(status.subject_code.as_str(), "8.8.2");
    assert_eq!(status.reason_code.as_str(), "3.1");
    assert!(err.to_string().contains("8.8.2/3.1 (no CI)"), "{err}");

    let n = other_notification(5, HOST);
    c.handle_notification(HOST, &n, &Profile::new(V3))
        .await
        .unwrap();
    let seen = script.seen.lock().unwrap().last().cloned().unwrap();
    let body: serde_json::Value = serde_json::from_slice(&seen.body).unwrap();
    let der = json::b64::decode(body["pendingNotification"].as_str().unwrap()).unwrap();
    assert_eq!(rsp_sgp22::PendingNotification::decode(&der).unwrap(), n);
    assert_eq!(
        c.log()
            .last(Es9Function::HandleNotification)
            .unwrap()
            .status,
        Some(204)
    );

    let cancel = rsp_sgp22::CancelSessionRequestEs9 {
        transaction_id: txid(),
        cancel_session_response: rsp_sgp22::CancelSessionResponse::Error(1),
        unknown_tags: vec![],
    };
    let err = c
        .cancel_session(HOST, &cancel, &Profile::new(V3))
        .await
        .unwrap_err();
    assert!(matches!(err, Es9Error::Http { status: 500, .. }), "{err}");
}

#[tokio::test]
async fn asn1_binding_error_alternative() {
    let tls = tls(HOST);
    let (addr, script) = start(&tls).await;
    let resp = RemoteProfileProvisioningResponse::InitiateAuthentication(
        InitiateAuthenticationResponse::Error(3),
    )
    .encode(&Profile::new(V2))
    .unwrap();
    script.answer("/gsma/rsp2/asn1", 200, resp);
    let mut c = client(&tls, addr, V2, Binding::Asn1);
    let err = c
        .initiate_authentication(HOST, &init_request(true), &Profile::new(V2))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(3));
    let seen = script.seen.lock().unwrap()[0].clone();
    assert_eq!(seen.headers["content-type"], "application/x-gsma-rsp-asn1");
    let req = RemoteProfileProvisioningRequest::decode(&seen.body).unwrap();
    let RemoteProfileProvisioningRequest::InitiateAuthentication(req) = req else {
        panic!("InitiateAuthentication expected")
    };
    assert_eq!(req.lpa_rsp_capability, None, "v2 receiver");
    assert_eq!(req.euicc_info1.highest_svn, None, "v2 receiver");
    let paths = c.log().sent_tag_paths();
    assert!(paths.contains(&"InitiateAuthentication:body:A2/BF39/BF20".to_string()));
}

#[tokio::test]
async fn untrusted_server_is_a_transport_error() {
    let tls_server = tls(HOST);
    let other = tls(HOST);
    let (addr, script) = start(&tls_server).await;
    script.answer(
        "/gsma/rsp2/es9plus/initiateAuthentication",
        200,
        init_ok_json(),
    );
    let mut c = client(&other, addr, V2, Binding::Json);
    let err = c
        .initiate_authentication(HOST, &init_request(false), &Profile::new(V2))
        .await
        .unwrap_err();
    assert!(matches!(err, Es9Error::Transport { .. }), "{err}");
    assert!(script.seen.lock().unwrap().is_empty());
    assert!(c.log().exchanges()[0].error.is_some());
}
