//! ES4 EnableProfile exchange on the server side.
//!
//! - `codec_dispatch`: parse the request envelope (limits, namespaces) → classify against the catalogue →
//!   decode the typed body → authorise the caller → build the typed response → serialise the response
//!   envelope. This is the binding's own work per request, without TLS, HTTP or the store.
//! - `service_sqlite`: the whole `SoapService::handle` path including the idempotency record written to a
//!   SQLite store (fsync per commit), i.e. what one request costs the server apart from TLS and HTTP framing.
//! - `roundtrip_unsigned` / `roundtrip_signed`: one ES4 round trip without the network, unsigned and with
//!   WS-Security (`require`): the client signs the request, the server verifies it (signature, chain, timestamp,
//!   identity, replay), runs it as `service_sqlite` does and signs the response, the client verifies that.
//! - `wsse_sign` / `wsse_verify`: signing and verifying one ES4 request envelope alone (P-256).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use rsp_sgp02::bodies::EuiccResponse;
use rsp_sgp02::common::{BaseResponse, HexBinary};
use rsp_sgp02::xml::Limits;
use rsp_sgp02::{FunctionId, ResponseBody};
use rsp_soap::dispatch::{self, Inbound};
use rsp_soap::envelope::{EndpointReference, Envelope};
use rsp_soap::identity::{Peer, PeerDirectory};
use rsp_soap::service::{ServiceConfig, SoapService};
use rsp_soap::table::{Answer, TableHandler};
use rsp_types::{FunctionExecutionStatus, Identity, Role};

const NS: &str = rsp_sgp02::DEFAULT_NAMESPACE;

fn request(fcid: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
<env:Envelope xmlns:env=\"http://www.w3.org/2003/05/soap-envelope\" xmlns:wsa=\"http://www.w3.org/2005/08/addressing\" xmlns:rps=\"{NS}\">\
<env:Header><wsa:To>https://smsr.example.com/es4</wsa:To>\
<wsa:From><wsa:Address>https://operator.example.com?EntityId=2.999.20</wsa:Address></wsa:From>\
<wsa:ReplyTo><wsa:Address>http://www.w3.org/2005/08/addressing/anonymous</wsa:Address></wsa:ReplyTo>\
<wsa:MessageID>urn:uuid:0f8fad5b-d9cb-469f-a165-70867728950e</wsa:MessageID>\
<wsa:Action>http://gsma.com/ES4/ProfileManagement/ES4-EnableProfileRequest</wsa:Action></env:Header>\
<env:Body><rps:ES4-EnableProfileRequest><rps:FunctionCallIdentifier>{fcid}</rps:FunctionCallIdentifier>\
<rps:ValidityPeriod>600</rps:ValidityPeriod><rps:Eid>89049032123451234512345678901235</rps:Eid>\
<rps:Iccid>89000123456789012341</rps:Iccid></rps:ES4-EnableProfileRequest></env:Body></env:Envelope>"
    )
}

/// The same request with its own MessageID (a signed message is accepted once: replay cache).
fn request_with_id(n: u64) -> String {
    request(&format!("fc-{n}")).replace(
        "urn:uuid:0f8fad5b-d9cb-469f-a165-70867728950e",
        &format!("urn:uuid:0f8fad5b-d9cb-469f-a165-{n:012}"),
    )
}

fn response_body() -> ResponseBody {
    ResponseBody::Es4EnableProfile(Box::new(EuiccResponse {
        base: BaseResponse::with_status(&FunctionExecutionStatus::success()),
        euicc_response_data: Some(HexBinary(vec![0x90, 0x00])),
    }))
}

fn bench(c: &mut Criterion) {
    let text = request("fc-bench");
    let caller = Identity::new(
        Role::Operator,
        Some("2.999.20".parse().unwrap()),
        "operator1",
    );
    let from = Some(EndpointReference::new(
        "https://smsr.example.com?EntityId=2.999.31",
    ));
    let limits = Limits::default();

    c.bench_function("es4_enable_profile/codec_dispatch", |b| {
        b.iter(|| {
            let env = Envelope::parse(black_box(&text), &limits).unwrap();
            let Inbound::Request {
                function,
                body,
                addressing,
                namespace,
                ..
            } = dispatch::classify(env, None).unwrap()
            else {
                unreachable!()
            };
            dispatch::authorize(&caller, function, addressing.from.as_ref()).unwrap();
            black_box(&body);
            let out = response_body().encode(&namespace);
            let env = dispatch::response_envelope(function, out, &addressing, from.clone(), false);
            black_box(env.to_xml())
        })
    });

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = rt
        .block_on(rsp_store::open(&format!(
            "sqlite://{}",
            dir.path().join("bench.sqlite").display()
        )))
        .unwrap();
    let table = Arc::new(TableHandler::new());
    table.answer(
        FunctionId::Es4EnableProfile,
        Answer::Respond(response_body()),
    );
    let peers = PeerDirectory::new(vec![Peer {
        name: "operator1".into(),
        role: Role::Operator,
        entity_id: "2.999.20".parse().unwrap(),
        cert_sha256: None,
        endpoint: None,
    }]);
    let service = SoapService::new(
        ServiceConfig {
            namespace: NS.into(),
            limits,
            interfaces: vec![rsp_sgp02::Interface::Es4],
            from,
            node: "bench".into(),
        },
        table,
        store,
        peers,
    );
    // A client certificate naming 2.999.20, as the TLS layer would hand it over.
    let pki = tempfile::tempdir().unwrap();
    let manifest = rsp_crypto::pki::generate(
        pki.path(),
        &rsp_crypto::pki::PkiOptions {
            euicc_count: 0,
            brainpool: false,
            ..Default::default()
        },
    )
    .unwrap();
    let cert_pem =
        std::fs::read_to_string(&manifest.entity("tls/operator1").unwrap().cert).unwrap();
    let cert = rsp_crypto::x509::Certificate::from_pem(&cert_pem).unwrap();
    let leaf = cert.der().to_vec();
    // WS-Security: the operator's TLS identity signs; both sides trust the TLS CA and require signatures.
    let policy =
        rsp_xmlsec::policy::SecurityPolicy::uniform(rsp_xmlsec::policy::SecurityMode::Require);
    let op = manifest.entity("tls/operator1").unwrap();
    let sr = manifest.entity("tls/sm-sr1").unwrap();
    let ca = manifest.entity("tls/ca").unwrap().cert.clone();
    let verifier = rsp_xmlsec::wsse::WsVerifier::from_pem_files(&[ca.as_path()]).unwrap();
    let client_sec = rsp_xmlsec::policy::MessageSecurity::new(policy.clone())
        .with_signer(
            rsp_xmlsec::wsse::WsSigner::from_files(&op.cert, op.key.as_ref().unwrap()).unwrap(),
        )
        .with_verifier(verifier.clone());
    let server_sec = Arc::new(
        rsp_xmlsec::policy::MessageSecurity::new(policy)
            .with_signer(
                rsp_xmlsec::wsse::WsSigner::from_files(&sr.cert, sr.key.as_ref().unwrap()).unwrap(),
            )
            .with_verifier(verifier)
            .with_replay_cache(rsp_xmlsec::replay::ReplayCache::new(10_000_000)),
    );
    let signed_store = rt
        .block_on(rsp_store::open(&format!(
            "sqlite://{}",
            dir.path().join("bench-signed.sqlite").display()
        )))
        .unwrap();
    let signed_table = Arc::new(TableHandler::new());
    signed_table.answer(
        FunctionId::Es4EnableProfile,
        Answer::Respond(response_body()),
    );
    let signed_service = SoapService::new(
        service.config().clone(),
        signed_table,
        signed_store,
        service.peers().clone(),
    )
    .with_message_security(server_sec);
    let sm_sr: rsp_types::EntityId = "2.999.31".parse().unwrap();
    let iface = Some(rsp_sgp02::Interface::Es4);

    let mut n = 0u64;
    c.bench_function("es4_enable_profile/service_sqlite", |b| {
        b.iter(|| {
            n += 1;
            let body = request(&format!("fc-{n}"));
            let reply = rt.block_on(service.handle(
                Some(rsp_sgp02::Interface::Es4),
                Some(&leaf),
                body.as_bytes(),
                time::OffsetDateTime::now_utc(),
            ));
            assert_eq!(reply.status, 200);
            black_box(reply)
        })
    });

    c.bench_function("es4_enable_profile/roundtrip_unsigned", |b| {
        b.iter(|| {
            n += 1;
            let body = request_with_id(n);
            let reply = rt.block_on(service.handle(
                Some(rsp_sgp02::Interface::Es4),
                Some(&leaf),
                body.as_bytes(),
                time::OffsetDateTime::now_utc(),
            ));
            assert_eq!(reply.status, 200);
            black_box(Envelope::parse(&reply.body, &limits).unwrap())
        })
    });

    c.bench_function("es4_enable_profile/roundtrip_signed", |b| {
        b.iter(|| {
            n += 1;
            let now = time::OffsetDateTime::now_utc();
            let body = client_sec
                .sign_outbound(&request_with_id(n), Some(&sm_sr), iface, now)
                .unwrap()
                .into_owned();
            let reply = rt.block_on(signed_service.handle(
                Some(rsp_sgp02::Interface::Es4),
                Some(&leaf),
                body.as_bytes(),
                now,
            ));
            assert_eq!(reply.status, 200, "{}", reply.body);
            let verified = client_sec
                .check_inbound(
                    &reply.body,
                    Some(&sm_sr),
                    iface,
                    true,
                    now,
                    &|_| true,
                    false,
                )
                .unwrap();
            assert!(verified.is_some());
            black_box(Envelope::parse(&reply.body, &limits).unwrap())
        })
    });

    let signer =
        rsp_xmlsec::wsse::WsSigner::from_files(&op.cert, op.key.as_ref().unwrap()).unwrap();
    let one = request_with_id(0);
    c.bench_function("es4_enable_profile/wsse_sign", |b| {
        b.iter(|| {
            black_box(
                signer
                    .sign_envelope(black_box(&one), time::OffsetDateTime::now_utc())
                    .unwrap(),
            )
        })
    });
    let signed_one = signer
        .sign_envelope(&one, time::OffsetDateTime::now_utc())
        .unwrap();
    let verifier = rsp_xmlsec::wsse::WsVerifier::from_pem_files(&[ca.as_path()]).unwrap();
    c.bench_function("es4_enable_profile/wsse_verify", |b| {
        b.iter(|| {
            black_box(
                verifier
                    .verify_envelope(black_box(&signed_one), time::OffsetDateTime::now_utc())
                    .unwrap(),
            )
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
