#![allow(clippy::unwrap_used, clippy::expect_used)]
//! WS-Security and EIS verification hooked into the SOAP binding, end to end over mutual TLS with the generated
//! PKI: signed requests and responses, refusals answered with `wsse:` faults that never reach the business side
//! (missing, tampered, replayed, expired, signed by someone other than the TLS client), policy per peer, ES1
//! RegisterEIS with a verified EUM signature, and signed envelopes still valid against the generated XSDs.

mod common;

use std::process::Command;
use std::sync::Arc;

use common::Pki;
use rsp_sgp02::bodies::{EisRequest, EuiccResponse, ProfileRequest};
use rsp_sgp02::catalogue::Function;
use rsp_sgp02::common::{BaseRequest, BaseResponse};
use rsp_sgp02::{Bodies, FunctionId, Interface, RequestBody, ResponseBody, fns, sample};
use rsp_soap::client::{ClientError, Reply, SoapClient};
use rsp_soap::dispatch;
use rsp_soap::envelope::{Addressing, EndpointReference, Envelope, FaultSubcode};
use rsp_soap::http::{self, client_tls_config, server_tls_config};
use rsp_soap::identity::PeerDirectory;
use rsp_soap::service::{ServiceConfig, SoapService};
use rsp_soap::table::{Answer, Received, TableHandler};
use rsp_types::{ExecutionStatus, FunctionCallIdentifier, FunctionExecutionStatus};
use rsp_xmlsec::eis::{EisTrust, EumSigner};
use rsp_xmlsec::policy::{MessageSecurity, SecurityMode, SecurityPolicy};
use rsp_xmlsec::wsse::{WsSigner, WsVerifier};
use time::{Duration, OffsetDateTime};

const NS: &str = rsp_sgp02::DEFAULT_NAMESPACE;
const OPERATOR1: &str = "2.999.20";
const OPERATOR2: &str = "2.999.21";
const SM_SR1: &str = "2.999.31";

struct Server {
    url: String,
    table: Arc<TableHandler>,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

fn security(pki: &Pki, name: &str, policy: SecurityPolicy) -> Arc<MessageSecurity> {
    Arc::new(
        MessageSecurity::new(policy)
            .with_signer(pki.signer(&format!("tls/{name}")))
            .with_verifier(pki.verifier("tls/ca")),
    )
}

async fn start_smsr(pki: &Pki, policy: SecurityPolicy) -> Server {
    let m = &pki.manifest;
    let ca = pki.cert("tls/ca");
    let tls = server_tls_config(
        &pki.cert("tls/sm-sr1"),
        &pki.key("tls/sm-sr1"),
        &[ca.as_path()],
    )
    .unwrap();
    let store = rsp_store::open(&format!(
        "sqlite://{}",
        pki.dir
            .path()
            .join(format!("smsr-{}.sqlite", rand_suffix()))
            .display()
    ))
    .await
    .unwrap();
    let table = Arc::new(TableHandler::new());
    let config = ServiceConfig {
        namespace: NS.into(),
        limits: Default::default(),
        interfaces: vec![Interface::Es1, Interface::Es4, Interface::Es7],
        from: Some(EndpointReference::for_entity(
            "https://sm-sr1.test",
            &SM_SR1.parse().unwrap(),
        )),
        node: "sm-sr1".into(),
    };
    let eis_trust = EisTrust::from_pem_files(&[pki.cert("sgp02/ci").as_path()]).unwrap();
    let service = Arc::new(
        SoapService::new(
            config,
            table.clone(),
            store,
            PeerDirectory::from_manifest(m, &[]),
        )
        .with_message_security(security(pki, "sm-sr1", policy))
        .with_eis_verification(Arc::new(eis_trust)),
    );
    let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = tcp.local_addr().unwrap().port();
    let router = http::router(
        service,
        None,
        &format!("https://localhost:{port}"),
        256 * 1024,
    );
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(http::serve_tls(tcp, tls, router, async move {
        let _ = rx.await;
    }));
    Server {
        url: format!("https://localhost:{port}"),
        table,
        _shutdown: tx,
    }
}

fn rand_suffix() -> String {
    dispatch::new_message_id().replace(':', "-")
}

fn client(pki: &Pki, name: &str, oid: &str) -> SoapClient {
    let ca = pki.cert("tls/ca");
    let tls = client_tls_config(
        &pki.cert(&format!("tls/{name}")),
        &pki.key(&format!("tls/{name}")),
        &[ca.as_path()],
    )
    .unwrap();
    SoapClient::new(
        tls,
        EndpointReference::for_entity(&format!("https://{name}.test"), &oid.parse().unwrap()),
        NS,
    )
    .unwrap()
}

fn profile_request(fcid: &str) -> ProfileRequest {
    ProfileRequest {
        base: BaseRequest {
            function_call_identifier: FunctionCallIdentifier::new(fcid).unwrap(),
            validity_period: None,
        },
        eid: "89049032123451234512345678901235".parse().unwrap(),
        iccid: "89000123456789012341".parse().unwrap(),
    }
}

fn ok_enable() -> ResponseBody {
    ResponseBody::Es4EnableProfile(Box::new(EuiccResponse {
        base: BaseResponse::with_status(&FunctionExecutionStatus::success()),
        euicc_response_data: None,
    }))
}

/// A request envelope for ES4 EnableProfile from operator1, as rsp writes it.
fn es4_envelope(fcid: &str) -> String {
    let info = fns::Es4EnableProfile::info();
    Envelope {
        addressing: Addressing {
            to: Some("https://sm-sr1.test/es4".into()),
            from: Some(EndpointReference::for_entity(
                "https://operator1.test",
                &OPERATOR1.parse().unwrap(),
            )),
            reply_to: None,
            message_id: Some(dispatch::new_message_id()),
            action: Some(info.request_action()),
            relates_to: None,
        },
        other_headers: Vec::new(),
        body: Some(fns::Es4EnableProfile::wrap_request(profile_request(fcid)).encode(NS)),
    }
    .to_xml()
}

async fn raw_post(pki: &Pki, name: &str, url: &str, body: String) -> (u16, String) {
    let ca = pki.cert("tls/ca");
    let tls = client_tls_config(
        &pki.cert(&format!("tls/{name}")),
        &pki.key(&format!("tls/{name}")),
        &[ca.as_path()],
    )
    .unwrap();
    let http = reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .build()
        .unwrap();
    let r = http
        .post(url)
        .header("content-type", "application/soap+xml")
        .body(body)
        .send()
        .await
        .unwrap();
    let s = r.status().as_u16();
    (s, r.text().await.unwrap())
}

fn fault_of(text: &str) -> FaultSubcode {
    let env = Envelope::parse(text, &Default::default()).unwrap();
    env.fault()
        .unwrap_or_else(|| panic!("no fault in {text}"))
        .subcode
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ws_security_over_mutual_tls() {
    let pki = Pki::new();
    let policy = SecurityPolicy::uniform(SecurityMode::AcceptIfPresent)
        .with_rule(
            Some(OPERATOR1.parse().unwrap()),
            Some(Interface::Es4),
            SecurityMode::Require,
        )
        .with_rule(Some(OPERATOR2.parse().unwrap()), None, SecurityMode::Off);
    let smsr = start_smsr(&pki, policy).await;
    smsr.table
        .answer(FunctionId::Es4EnableProfile, Answer::Respond(ok_enable()));
    let es4 = format!("{}/es4", smsr.url);

    // 1. A signing operator1: accepted, and the signed response verifies at the client (Require both ways).
    let signing = client(&pki, "operator1", OPERATOR1).with_message_security(
        security(
            &pki,
            "operator1",
            SecurityPolicy::uniform(SecurityMode::Require),
        ),
        Some(SM_SR1.parse().unwrap()),
    );
    let r = signing
        .request::<fns::Es4EnableProfile>(&es4, profile_request("fc-1"), None)
        .await
        .unwrap();
    let Reply::Response(resp) = r else {
        panic!("expected a response")
    };
    assert_eq!(resp.base.status().status, ExecutionStatus::ExecutedSuccess);
    assert_eq!(smsr.table.calls_of(FunctionId::Es4EnableProfile), 1);

    // 2. Unsigned from operator1 on ES4 (Require): wsse:InvalidSecurity, never dispatched.
    let plain = client(&pki, "operator1", OPERATOR1);
    let e = plain
        .request::<fns::Es4EnableProfile>(&es4, profile_request("fc-2"), None)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, ClientError::Fault(f) if f.subcode == Some(FaultSubcode::InvalidSecurity)),
        "{e}"
    );

    // 3. operator2 is Off: unsigned is fine, and a bogus Security header (mustUnderstand) is parsed and ignored.
    let op2 = client(&pki, "operator2", OPERATOR2);
    op2.request::<fns::Es4EnableProfile>(&es4, profile_request("fc-3"), None)
        .await
        .unwrap();
    let bogus = es4_envelope("fc-3b").replace(
        "</env:Header>",
        &format!(
            "<wsse:Security xmlns:wsse=\"{}\" env:mustUnderstand=\"true\"><wsse:Nonsense/></wsse:Security></env:Header>",
            rsp_xmlsec::ns::WSSE
        ),
    );
    let (s, text) = raw_post(
        &pki,
        "operator2",
        &es4,
        bogus.replace("2.999.20", OPERATOR2),
    )
    .await;
    assert_eq!(s, 200, "{text}");
    assert_eq!(smsr.table.calls_of(FunctionId::Es4EnableProfile), 3);

    // 4. Replay of a signed message: the first is executed, the copy is refused.
    let signer = pki.signer("tls/operator1");
    let signed = signer
        .sign_envelope(&es4_envelope("fc-4"), OffsetDateTime::now_utc())
        .unwrap();
    let (s, text) = raw_post(&pki, "operator1", &es4, signed.clone()).await;
    assert_eq!(s, 200, "{text}");
    let (s, text) = raw_post(&pki, "operator1", &es4, signed).await;
    assert_eq!(s, 400, "{text}");
    assert_eq!(fault_of(&text), FaultSubcode::InvalidSecurity, "{text}");
    assert_eq!(smsr.table.calls_of(FunctionId::Es4EnableProfile), 4);

    // 5. Tampered body, tampered header: wsse:FailedCheck.
    let signed = signer
        .sign_envelope(&es4_envelope("fc-5"), OffsetDateTime::now_utc())
        .unwrap();
    for tampered in [
        signed.replace("89000123456789012341", "89000123456789012358"),
        signed.replace("https://sm-sr1.test/es4", "https://sm-sr2.test/es4"),
    ] {
        let (s, text) = raw_post(&pki, "operator1", &es4, tampered).await;
        assert_eq!(s, 400);
        assert_eq!(fault_of(&text), FaultSubcode::FailedCheck, "{text}");
    }

    // 6. Expired Timestamp: wsse:MessageExpired.
    let old = signer
        .sign_envelope(
            &es4_envelope("fc-6"),
            OffsetDateTime::now_utc() - Duration::minutes(20),
        )
        .unwrap();
    let (s, text) = raw_post(&pki, "operator1", &es4, old).await;
    assert_eq!(s, 400);
    assert_eq!(fault_of(&text), FaultSubcode::MessageExpired, "{text}");

    // 7. Signed by operator2 but sent over operator1's TLS connection: wsse:FailedAuthentication.
    let other = pki
        .signer("tls/operator2")
        .sign_envelope(&es4_envelope("fc-7"), OffsetDateTime::now_utc())
        .unwrap();
    let (s, text) = raw_post(&pki, "operator1", &es4, other).await;
    assert_eq!(s, 400);
    assert_eq!(
        fault_of(&text),
        FaultSubcode::FailedAuthentication,
        "{text}"
    );

    // 8. Signed by a certificate that does not chain to the trust roots: wsse:FailedAuthentication.
    let untrusted = WsSigner::from_files(
        &pki.cert("sgp22/dp-auth/nist"),
        &pki.key("sgp22/dp-auth/nist"),
    )
    .unwrap()
    .sign_envelope(&es4_envelope("fc-8"), OffsetDateTime::now_utc())
    .unwrap();
    let (s, text) = raw_post(&pki, "operator1", &es4, untrusted).await;
    assert_eq!(s, 400);
    assert_eq!(
        fault_of(&text),
        FaultSubcode::FailedAuthentication,
        "{text}"
    );

    // None of the refused messages reached the business side.
    assert_eq!(smsr.table.calls_of(FunctionId::Es4EnableProfile), 4);

    // 9. A client requiring signed responses refuses an unsigned one (server policy Off for operator2).
    let strict_op2 = client(&pki, "operator2", OPERATOR2).with_message_security(
        Arc::new(
            MessageSecurity::new(SecurityPolicy::uniform(SecurityMode::Require))
                .with_signer(pki.signer("tls/operator2"))
                .with_verifier(pki.verifier("tls/ca")),
        ),
        Some(SM_SR1.parse().unwrap()),
    );
    let e = strict_op2
        .request::<fns::Es4EnableProfile>(&es4, profile_request("fc-9"), None)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, ClientError::Unexpected { message, .. } if message.contains("WS-Security")),
        "{e}"
    );
}

fn register_request(pki: &Pki) -> EisRequest {
    let el = sample::sample_request(FunctionId::Es1RegisterEis, true);
    let body = RequestBody::decode(FunctionId::Es1RegisterEis, &el).unwrap();
    let mut req = fns::Es1RegisterEis::unwrap_request(body).unwrap();
    req.eis.eum_signed_info.eum_id = "2.999.5".parse().unwrap();
    EumSigner::from_files(&pki.cert("sgp02/eum"), &pki.key("sgp02/eum"))
        .unwrap()
        .sign(&mut req.eis, NS)
        .unwrap();
    req
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_eis_verifies_the_eum_signature_before_dispatch() {
    let pki = Pki::new();
    let smsr = start_smsr(&pki, SecurityPolicy::uniform(SecurityMode::AcceptIfPresent)).await;
    smsr.table.answer(
        FunctionId::Es1RegisterEis,
        Answer::Respond(ResponseBody::Es1RegisterEis(Box::new(
            BaseResponse::with_status(&FunctionExecutionStatus::success()),
        ))),
    );
    let es1 = format!("{}/es1", smsr.url);
    let eum = client(&pki, "eum", "2.999.5").with_message_security(
        security(&pki, "eum", SecurityPolicy::uniform(SecurityMode::Require)),
        Some(SM_SR1.parse().unwrap()),
    );

    // Signed EIS (and a WS-Security signed message): executed, and the handler gets the verified part.
    let req = register_request(&pki);
    let Reply::Response(r) = eum
        .request::<fns::Es1RegisterEis>(&es1, req.clone(), None)
        .await
        .unwrap()
    else {
        panic!()
    };
    assert_eq!(r.status().status, ExecutionStatus::ExecutedSuccess);
    let calls: Vec<_> = smsr
        .table
        .received()
        .into_iter()
        .filter_map(|r| match r {
            Received::Call(c) if c.function == FunctionId::Es1RegisterEis => Some(c),
            _ => None,
        })
        .collect();
    assert_eq!(calls.len(), 1);
    let part = calls[0]
        .signed_eis
        .clone()
        .expect("verified part handed to the handler");
    assert!(part.signed_info.contains("2.999.5"));

    // A changed EumSignedInfo: Failed 8.1.2/6.1, the handler never sees it.
    let mut changed = req.clone();
    changed.base.function_call_identifier = FunctionCallIdentifier::new("fc-changed").unwrap();
    changed.eis.eum_signed_info.platform_type =
        rsp_sgp02::data::String100::new("M2M-PROFILE-X").unwrap();
    let Reply::Response(r) = eum
        .request::<fns::Es1RegisterEis>(&es1, changed, None)
        .await
        .unwrap()
    else {
        panic!()
    };
    let s = r.status();
    assert_eq!(s.status, ExecutionStatus::Failed);
    let d = s.status_code_data.unwrap();
    assert_eq!(
        (d.subject_code.as_str(), d.reason_code.as_str()),
        ("8.1.2", "6.1")
    );
    assert_eq!(smsr.table.calls_of(FunctionId::Es1RegisterEis), 1);
}

fn xmllint_available() -> bool {
    let ok = Command::new("xmllint")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok && std::env::var("CI").is_ok_and(|v| !v.is_empty()) {
        panic!("xmllint is required (Debian package libxml2-utils)");
    }
    ok
}

#[test]
fn signed_requests_validate_against_the_generated_schemas() {
    if !xmllint_available() {
        eprintln!("SKIP: xmllint not installed");
        return;
    }
    let pki = Pki::new();
    let dir = tempfile::tempdir().unwrap();
    let schema = rsp_sgp02::xsd::write_schema_set(dir.path(), NS).unwrap();
    let signer = pki.signer("tls/operator1");
    let now = OffsetDateTime::now_utc();
    let register = {
        let info = fns::Es1RegisterEis::info();
        Envelope {
            addressing: Addressing {
                to: Some("https://sm-sr1.test/es1".into()),
                from: Some(EndpointReference::new("https://eum.test?EntityId=2.999.5")),
                reply_to: None,
                message_id: Some(dispatch::new_message_id()),
                action: Some(info.request_action()),
                relates_to: None,
            },
            other_headers: Vec::new(),
            body: Some(fns::Es1RegisterEis::wrap_request(register_request(&pki)).encode(NS)),
        }
        .to_xml()
    };
    let mut files = Vec::new();
    for (name, xml) in [("es4.xml", es4_envelope("fc-x")), ("es1.xml", register)] {
        let signed = signer.sign_envelope(&xml, now).unwrap();
        let f = dir.path().join(name);
        std::fs::write(&f, signed).unwrap();
        files.push(f);
    }
    let out = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(&schema)
        .args(&files)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "xmllint refused signed envelopes:\n{stderr}"
    );
    assert_eq!(
        stderr.matches(" validates").count(),
        files.len(),
        "{stderr}"
    );
    // The check can fail: a signed envelope whose Body lost its element does not validate.
    let text = std::fs::read_to_string(&files[0]).unwrap();
    let a = text.find("<rps:ES4-EnableProfileRequest").unwrap();
    let b = text.find("</rps:ES4-EnableProfileRequest>").unwrap()
        + "</rps:ES4-EnableProfileRequest>".len();
    let bad = dir.path().join("bad.xml");
    std::fs::write(&bad, format!("{}<rps:Nope/>{}", &text[..a], &text[b..])).unwrap();
    let out = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(&schema)
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[test]
fn verifier_from_pem_files() {
    let pki = Pki::new();
    let v = WsVerifier::from_pem_files(&[pki.cert("tls/ca").as_path()]).unwrap();
    let t = OffsetDateTime::now_utc();
    let signed = pki
        .signer("tls/sm-sr1")
        .sign_envelope(&es4_envelope("fc-v"), t)
        .unwrap();
    v.verify_envelope(&signed, t).unwrap();
}
