//! The six pairings of the SGP.22 v2/v3 interoperability matrix (sgp22.md §6), one test each,
//! plus the brainpoolP256r1 signing curve, the ASN.1 binding, and the counter's own negative
//! tests. Every pairing is a full download: a real SM-DP+ over TLS on 127.0.0.1 (SGP.26
//! CERT.DPauth/CERT.DPpb, a CERT.DP.TLS minted from the SGP.26 CI key), an ES2+ order over
//! HTTPS, the SGP.26 test eUICC and the LPA. The tests look at the bytes on the wire.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rsp_interop::gates::{FieldCheck, V2_PEER};
use rsp_interop::{
    Binding, Evidence, PAIRINGS, Pairing, Report, RunOptions, SigningCurve, check_field, fixtures,
    pairing, run_with, write_fixtures,
};
use rsp_lpa::Es9Function;
use rsp_lpa::wire::tag_paths;
use rsp_sgp22::{
    DerTlv, Feature, Octet16, Profile, ServerRspCapability, ServerSigned1, SessionContext,
    TransactionId,
};
use rsp_types::Svn;

async fn run_pairing(p: &Pairing, opts: RunOptions) -> Report {
    let dir = tempfile::tempdir().unwrap();
    let fx = write_fixtures(&dir.path().join("fx")).unwrap();
    let started = std::time::Instant::now();
    let r = run_with(p, &fx, dir.path(), opts).await;
    eprintln!(
        "{}: {} in {} ms (test wall {} ms)\n  {}",
        p.scenario,
        r.status,
        r.duration_ms,
        started.elapsed().as_millis(),
        r.details.join("\n  ")
    );
    r
}

/// The wire facts every pairing must show, whatever its versions.
fn assert_wire(p: &Pairing, r: &Report) -> Evidence {
    assert!(r.passed(), "{}: {:#?}", p.scenario, r.failures());
    assert_eq!(r.package_version, Some(p.package.to_string()));
    let ev = r.evidence.clone().expect("evidence");
    let exchanges = ev.log.exchanges();
    assert_eq!(
        ev.log.functions(),
        [
            Es9Function::InitiateAuthentication,
            Es9Function::AuthenticateClient,
            Es9Function::GetBoundProfilePackage,
            Es9Function::HandleNotification
        ]
    );
    // The headers exactly as sent and received.
    for e in &exchanges {
        assert_eq!(
            e.request_header("X-Admin-Protocol"),
            Some(format!("gsma/rsp/v{}", p.lpa).as_str())
        );
        assert_eq!(
            e.response_header("X-Admin-Protocol"),
            Some(format!("gsma/rsp/v{}", p.server).as_str())
        );
    }
    // ES2+: the Operator (v3.1.0) is answered with the lower version.
    assert_eq!(ev.es2.len(), 2);
    for e in &ev.es2 {
        assert_eq!(
            e.response_admin_protocol,
            Some(p.server.min(Svn::new(3, 1, 0)))
        );
    }
    // ServerSigned1's top-level elements, as bytes: A5 / 86 only towards a v3 peer.
    let init = ev.log.last(Es9Function::InitiateAuthentication).unwrap();
    let paths = tag_paths(init.response_field("serverSigned1").unwrap());
    assert_eq!(
        paths.contains(&"30/A5".to_string()),
        p.v3_session,
        "{paths:?}"
    );
    assert_eq!(
        paths.contains(&"30/86".to_string()),
        p.v3_session,
        "{paths:?}"
    );
    // The signed DeviceInfo the card relayed: `A5` (lpaRspCapability) inside ctxParams1's
    // deviceInfo [1] only in a v3 session.
    let auth = ev.log.last(Es9Function::AuthenticateClient).unwrap();
    let paths = tag_paths(auth.request_field("authenticateServerResponse").unwrap());
    let device_info_cap = paths.iter().any(|x| x.ends_with("/A0/A1/85"));
    assert_eq!(device_info_cap, p.v3_session, "{paths:?}");
    ev
}

/// A v2 peer: nothing gated v3 reached it after its version was known.
fn assert_v2_peer(r: &Report, ev: &Evidence) {
    assert_eq!(
        r.v3_elements_sent_to_v2_peer, 0,
        "{:?}",
        ev.audit.violations
    );
    assert!(ev.audit.violations.is_empty());
    assert!(
        ev.audit.undecodable.is_empty(),
        "{:?}",
        ev.audit.undecodable
    );
    // Every relayed card message and every server response was really checked.
    for f in [
        "InitiateAuthentication response serverSigned1: 0",
        "AuthenticateClient request authenticateServerResponse: 0",
        "AuthenticateClient response profileMetadata: 0",
        "AuthenticateClient response smdpSigned2: 0",
        "GetBoundProfilePackage request prepareDownloadResponse: 0",
        "HandleNotification request pendingNotification: 0",
    ] {
        assert!(
            ev.audit.fields.iter().any(|x| x.starts_with(f)),
            "{f} not in {:#?}",
            ev.audit.fields
        );
    }
    let session = ev.session.as_ref().unwrap();
    assert!(!session.profile.is_v3());
    assert_eq!(session.profile.features, rsp_sgp22::FeatureSet::EMPTY);
}

fn by_name(name: &str) -> &'static Pairing {
    pairing(name).unwrap()
}

#[tokio::test]
async fn v2_device_v2_server() {
    let p = by_name("v2 device + v2 server");
    let r = run_pairing(p, RunOptions::default()).await;
    let ev = assert_wire(p, &r);
    assert_v2_peer(&r, &ev);
    // Neither side offered anything v3, not even before the version was known.
    assert!(ev.audit.before_version_known.is_empty());
}

#[tokio::test]
async fn v3_device_v2_server() {
    let p = by_name("v3 device + v2 server");
    let r = run_pairing(p, RunOptions::default()).await;
    let ev = assert_wire(p, &r);
    assert_v2_peer(&r, &ev);
    // The v3 LPA offered lpaRspCapability (and the v3 card's EUICCInfo1 fields) before the
    // server's version was known: reported by the gates, not counted.
    let init = ev.log.last(Es9Function::InitiateAuthentication).unwrap();
    assert!(init.request_field("lpaRspCapability").is_some());
    assert!(
        ev.audit
            .before_version_known
            .iter()
            .any(|v| v.to_string().contains("lpa_rsp_capability")),
        "{:?}",
        ev.audit.before_version_known
    );
    assert!(
        r.details
            .iter()
            .any(|d| d.starts_with("note before the server"))
    );
}

#[tokio::test]
async fn v2_device_v3_server() {
    let p = by_name("v2 device + v3 server");
    let r = run_pairing(p, RunOptions::default()).await;
    let ev = assert_wire(p, &r);
    assert_v2_peer(&r, &ev);
    // The server knows a v3 package but delivered the v2 one.
    assert_eq!(p.server_packages, [Svn::new(2, 3, 0), Svn::new(3, 1, 0)]);
}

#[tokio::test]
async fn v3_device_v3_server() {
    let p = by_name("v3 device + v3 server");
    let r = run_pairing(p, RunOptions::default()).await;
    let ev = assert_wire(p, &r);
    assert_eq!(r.package_version.as_deref(), Some("3.1.0"));
    let session = ev.session.as_ref().unwrap();
    assert_eq!(session.profile.svn, Svn::new(3, 1, 0));
    assert!(session.profile.features.contains(Feature::PushService));
    // The same gates, applied to this v3 session as if the peer were v2, find the v3
    // elements that really flowed: the counter counts real bytes, not only crafted ones.
    let found: Vec<String> = ev
        .audit
        .violations
        .iter()
        .map(ToString::to_string)
        .collect();
    for expected in [
        "serverSigned1: ServerSigned1.session_context",
        "serverSigned1: ServerSigned1.server_rsp_capability",
        "DeviceInfo.lpa_rsp_capability",
    ] {
        assert!(
            found.iter().any(|f| f.contains(expected)),
            "{expected} not in {found:#?}"
        );
    }
    assert!(
        ev.audit.violations.iter().all(|v| v.path.is_some()),
        "{found:#?}"
    );
}

#[tokio::test]
async fn v2_euicc_v3_smdpp_download() {
    let p = by_name("v2 eUICC + v3 SM-DP+ download");
    let r = run_pairing(p, RunOptions::default()).await;
    let ev = assert_wire(p, &r);
    assert_v2_peer(&r, &ev);
    // The v3 LPA does not offer lpaRspCapability for a v2 card.
    let init = ev.log.last(Es9Function::InitiateAuthentication).unwrap();
    assert!(init.request_field("lpaRspCapability").is_none());
}

#[tokio::test]
async fn v3_euicc_v2_smdpp_download() {
    let p = by_name("v3 eUICC + v2 SM-DP+ download");
    let r = run_pairing(p, RunOptions::default()).await;
    let ev = assert_wire(p, &r);
    assert_v2_peer(&r, &ev);
    // The v2 server knows only the v2 package.
    assert_eq!(p.server_packages, [Svn::new(2, 3, 0)]);
}

#[test]
fn the_matrix_is_the_six_pairings_of_the_issue() {
    let names: Vec<&str> = PAIRINGS.iter().map(|p| p.scenario).collect();
    assert_eq!(names.len(), 6);
    assert_eq!(PAIRINGS.iter().filter(|p| p.v3_session).count(), 1);
    for p in &PAIRINGS {
        // A v2 server offers only v2 packages; a v3 package only in the v3 session.
        if p.server.major < 3 {
            assert!(p.server_packages.iter().all(|v| v.major == 2));
        }
        assert_eq!(p.package.major == 3, p.v3_session);
    }
}

/// The SGP.26 identity end to end: the SM-DP+ signs with the SGP.26 CERT.DPauth, the card
/// answers with the SGP.26 CERT.EUICC (EID 89049032123451234512345678901235), and the LPA
/// trusts nothing but the SGP.26 CI for TLS (the minted CERT.DP.TLS).
#[tokio::test]
async fn sgp26_identity_in_a_full_download() {
    let p = by_name("v3 device + v3 server");
    let r = run_pairing(p, RunOptions::default()).await;
    let ev = assert_wire(p, &r);
    assert_eq!(
        Some(ev.dp_auth.as_slice()),
        fixtures::file("sgp26/DPauth/CERT_S_SM_DPauth_ECDSA_NIST.der")
    );
    let init = ev.log.last(Es9Function::InitiateAuthentication).unwrap();
    assert_eq!(
        init.response_field("serverCertificate"),
        fixtures::file("sgp26/DPauth/CERT_S_SM_DPauth_ECDSA_NIST.der")
    );
    let auth = ev.log.last(Es9Function::AuthenticateClient).unwrap();
    let asr = rsp_sgp22::AuthenticateServerResponse::from_der(
        auth.request_field("authenticateServerResponse").unwrap(),
    )
    .unwrap();
    let rsp_sgp22::AuthenticateServerResponse::Ok(ok) = asr else {
        panic!("card refused")
    };
    let cert = rsp_crypto::x509::Certificate::from_der(&ok.euicc_certificate.0).unwrap();
    assert_eq!(cert.eid(), Some("89049032123451234512345678901235"));
    assert_eq!(
        Some(ok.next_cert_in_chain.0.as_slice()),
        fixtures::file("sgp26/EUM/CERT_EUM_ECDSA_NIST.der")
    );
    // smdpCertificate (CERT.DPpb) too.
    assert_eq!(
        auth.response_field("smdpCertificate"),
        fixtures::file("sgp26/DPpb/CERT_S_SM_DPpb_ECDSA_NIST.der")
    );
}

/// brainpoolP256r1: an SM-DP+ with only the SGP.26 BRP DPauth/DPpb; the card signs with its
/// BRP credential; TLS stays P-256.
#[tokio::test]
async fn brainpool_download_v3_and_v2() {
    let opts = RunOptions {
        curve: SigningCurve::Brainpool,
        binding: Binding::Json,
    };
    for name in ["v3 device + v3 server", "v3 eUICC + v2 SM-DP+ download"] {
        let p = by_name(name);
        let r = run_pairing(p, opts).await;
        let ev = assert_wire(p, &r);
        let init = ev.log.last(Es9Function::InitiateAuthentication).unwrap();
        let dp_auth = init.response_field("serverCertificate").unwrap();
        assert_eq!(
            Some(dp_auth),
            fixtures::file("sgp26/DPauth/CERT_S_SM_DPauth_ECDSA_BRP.der")
        );
        let cert = rsp_crypto::x509::Certificate::from_der(dp_auth).unwrap();
        assert_eq!(
            cert.public_key().unwrap().curve(),
            rsp_crypto::ecc::Curve::BrainpoolP256r1
        );
        assert!(
            r.details
                .iter()
                .any(|d| d.contains("the SGP.26 test eUICC's (BRP)"))
        );
    }
}

/// The ASN.1 binding: whole RemoteProfileProvisioning bodies, checked through the same gates.
#[tokio::test]
async fn asn1_binding_v3_device_v2_server() {
    let p = by_name("v3 device + v2 server");
    let opts = RunOptions {
        curve: SigningCurve::Nist,
        binding: Binding::Asn1,
    };
    let r = run_pairing(p, opts).await;
    assert!(r.passed(), "{:#?}", r.failures());
    let ev = r.evidence.unwrap();
    assert_eq!(r.v3_elements_sent_to_v2_peer, 0);
    assert!(
        ev.audit.undecodable.is_empty(),
        "{:?}",
        ev.audit.undecodable
    );
    let bodies = ev
        .audit
        .fields
        .iter()
        .filter(|f| f.contains("request-body") || f.contains("response-body"))
        .count();
    // 4 requests, 3 responses with a body (HandleNotification answers 204).
    assert_eq!(bodies, 7, "{:#?}", ev.audit.fields);
    assert!(
        ev.audit
            .before_version_known
            .iter()
            .any(|v| v.to_string().contains("lpa_rsp_capability"))
    );
}

fn server_signed1_with_v3_fields() -> ServerSigned1 {
    ServerSigned1 {
        transaction_id: TransactionId::new(&[1, 2, 3, 4]).unwrap(),
        euicc_challenge: Octet16([1; 16]),
        server_address: "testsmdpplus1.example.com".into(),
        server_challenge: Octet16([2; 16]),
        session_context: Some(SessionContext {
            server_svn: Svn::new(3, 1, 0),
            crl_stapling_v3_used: false,
            euicc_ci_pk_id_to_be_used_v3: None,
            supported_push_services: None,
            unknown_tags: vec![],
        }),
        server_rsp_capability: Some(ServerRspCapability::with_bits(&[
            ServerRspCapability::PUSH_SERVICE_V3_SUPPORT,
        ])),
        unknown_tags: vec![],
    }
}

/// The counter counts: a ServerSigned1 encoded for a v3 peer, fed to the checker as if sent to a
/// v2 peer, carries two v3 elements, each located; the same message encoded for v2 none.
#[test]
fn a_mis_gated_server_signed1_is_counted() {
    let s = server_signed1_with_v3_fields();
    let for_v3 = s.encode(&Profile::new(Svn::new(3, 1, 0))).unwrap();
    let for_v2 = s.encode(&Profile::new(Svn::new(2, 2, 2))).unwrap();
    let FieldCheck::Checked(v) = check_field("serverSigned1", &for_v3) else {
        panic!("not checked")
    };
    let paths: Vec<_> = v.iter().map(|x| x.path.clone().unwrap()).collect();
    assert_eq!(paths, ["30/A5", "30/86"], "{v:?}");
    assert!(v[0].to_string().contains("session_context"));
    assert_eq!(
        check_field("serverSigned1", &for_v2),
        FieldCheck::Checked(vec![])
    );
    // The check is the gate's, not a tag list: the decoded message itself agrees.
    assert!(
        ServerSigned1::from_der(&for_v3)
            .unwrap()
            .check_tlv_gates(&V2_PEER)
            .is_err()
    );
    // Garbage is reported as such, never counted as clean.
    assert!(matches!(
        check_field("serverSigned1", &[0x30, 0x03, 0x01]),
        FieldCheck::Undecodable(_)
    ));
}

/// A nested mis-gating: the sessionContext's own v3 carrier plus a field gated by a feature,
/// all found in one message.
#[test]
fn nested_violations_are_all_counted() {
    let mut s = server_signed1_with_v3_fields();
    if let Some(c) = s.session_context.as_mut() {
        c.supported_push_services = Some(vec!["2.999.1.1".parse().unwrap()]);
    }
    let v3_push = Profile::new(Svn::new(3, 1, 0))
        .with_features(rsp_sgp22::FeatureSet::of(&[Feature::PushService]));
    let der = s.encode(&v3_push).unwrap();
    assert!(tag_paths(&der).contains(&"30/A5/A3".to_string()));
    let FieldCheck::Checked(v) = check_field("serverSigned1", &der) else {
        panic!("not checked")
    };
    // sessionContext (which holds supportedPushServices) and serverRspCapability.
    assert_eq!(v.len(), 2, "{v:?}");
    // To a v3 peer without Push Service, supportedPushServices alone is the violation.
    let s = ServerSigned1::from_der(&der).unwrap();
    let err = s
        .check_tlv_gates(&Profile::new(Svn::new(3, 1, 0)))
        .unwrap_err();
    assert!(err.to_string().contains("supported_push_services"), "{err}");
}

/// The runner's checks can fail: the v2 device + v3 server pairing run with the expectations of
/// a v3 session is reported as failed, naming what differed.
#[tokio::test]
async fn wrong_expectations_fail_the_pairing() {
    let mut p = *by_name("v2 device + v3 server");
    p.v3_session = true;
    p.package = Svn::new(3, 1, 0);
    let r = run_pairing(&p, RunOptions::default()).await;
    assert!(!r.passed());
    let failures = r.failures().join("\n");
    for expected in [
        "session negotiated v2.2.2",
        "ServerSigned1 sessionContext (A5) absent",
        "package version 2.3.0 delivered (expected 3.1.0",
    ] {
        assert!(failures.contains(expected), "{expected} not in {failures}");
    }
}
