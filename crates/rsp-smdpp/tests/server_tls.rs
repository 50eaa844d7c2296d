//! The SM-DP+ over real TLS on 127.0.0.1: CERT.DP.TLS minted under the SGP.26 test CI, a
//! reqwest LPA trusting only that CI, an Operator with a client certificate on ES2+ (same
//! port), the whole download over the JSON binding, refusals as HTTP 200 `Failed`, 204 for
//! handleNotification, the ASN.1 binding, TLS 1.2, graceful shutdown.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod es9plus_common;

use std::sync::Arc;

use es9plus_common::*;
use rsp_crypto::pki::{self, PkiOptions};
use rsp_sgp22::json as wire;
use rsp_sgp22::{
    Certificate, InitiateAuthenticationOk, InitiateAuthenticationResponse, PendingNotification,
    RemoteProfileProvisioningRequest, RemoteProfileProvisioningResponse, ServerSigned1, Signed,
};
use rsp_smdpp::es2plus::{Es2Plus, OperatorDirectory, OperatorEntry};
use rsp_smdpp::es9plus::{Es9Config, Es9Service};
use rsp_smdpp::order::{OrderState, Orders};
use rsp_smdpp::server::{self, RunningServer, ServerParts};
use rsp_types::ExecutionStatus;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use sha2::Digest;

struct Env {
    _dir: tempfile::TempDir,
    running: RunningServer,
    lpa: reqwest::Client,
    operator: reqwest::Client,
    orders: Orders,
    inventory: Arc<rsp_smdpp::inventory::Inventory>,
    base: String,
    /// A root that did not issue CERT.DP.TLS.
    tls_ca: CertificateDer<'static>,
}

fn client(
    roots: &[CertificateDer<'static>],
    versions: &[&'static rustls::SupportedProtocolVersion],
    auth: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
    addr: std::net::SocketAddr,
) -> reqwest::Client {
    let mut store = rustls::RootCertStore::empty();
    for r in roots {
        store.add(r.clone()).unwrap();
    }
    let b = rustls::ClientConfig::builder_with_protocol_versions(versions)
        .with_root_certificates(store);
    let tls = match auth {
        Some((chain, key)) => b.with_client_auth_cert(chain, key).unwrap(),
        None => b.with_no_client_auth(),
    };
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .resolve(ADDRESS, addr)
        .timeout(std::time::Duration::from_secs(20))
        .build()
        .unwrap()
}

async fn start(svn: rsp_types::Svn) -> Env {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    // An Operator CA and client certificate from the generated test PKI.
    let manifest = pki::generate(
        &dir.path().join("pki"),
        &PkiOptions {
            brainpool: false,
            euicc_count: 1,
            ..PkiOptions::default()
        },
    )
    .unwrap();
    let op = manifest.entity("tls/operator1").unwrap();
    let ca_pem = std::fs::read(&manifest.entity("tls/ca").unwrap().cert).unwrap();
    let op_chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&op.cert)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let op_key = PrivateKeyDer::from_pem_file(op.key.as_ref().unwrap()).unwrap();
    let op_fp: [u8; 32] = sha2::Sha256::digest(op_chain[0].as_ref()).into();

    let store = store(&dir, "smdpp").await;
    let identity = Arc::new(identity(&["NIST"]));
    let inventory = Arc::new(inventory(&[
        rsp_types::Svn::new(2, 3, 0),
        rsp_types::Svn::new(3, 1, 0),
    ]));
    let es9 = Es9Service::new(
        Es9Config::new(svn),
        identity.clone(),
        inventory.clone(),
        store.clone(),
    );
    let directory = Arc::new(OperatorDirectory::new(vec![OperatorEntry {
        id: OPERATOR.into(),
        certificate_sha256: vec![op_fp],
        subject_common_names: vec![],
        callback_url: None,
    }]));
    let es2 = Es2Plus::new(store.clone(), inventory.clone(), directory, ADDRESS);
    let tls = server::tls_config(&identity, &[ca_pem]).unwrap();
    let running = server::serve(ServerParts {
        listen: "127.0.0.1:0".parse().unwrap(),
        es9,
        es2: Some(es2),
        delivery: None,
        delivery_period: std::time::Duration::from_secs(1),
        tls,
    })
    .await
    .unwrap();
    let addr = running.local_addr;
    let ci = CertificateDer::from(read("CERT_CI_ECDSA_NIST.der"));
    let tls_ca = CertificateDer::from_pem_slice(
        &std::fs::read(&manifest.entity("tls/ca").unwrap().cert).unwrap(),
    )
    .unwrap();
    Env {
        tls_ca,
        lpa: client(
            std::slice::from_ref(&ci),
            rustls::DEFAULT_VERSIONS,
            None,
            addr,
        ),
        operator: client(
            &[ci],
            rustls::DEFAULT_VERSIONS,
            Some((op_chain, op_key)),
            addr,
        ),
        orders: Orders::new(store),
        inventory,
        base: format!("https://{ADDRESS}:{}", addr.port()),
        running,
        _dir: dir,
    }
}

async fn post_json(
    c: &reqwest::Client,
    url: &str,
    body: &impl serde::Serialize,
) -> reqwest::Response {
    c.post(url)
        .header("Content-Type", wire::CONTENT_TYPE)
        .header("X-Admin-Protocol", "gsma/rsp/v2.5.0")
        .body(serde_json::to_vec(body).unwrap())
        .send()
        .await
        .unwrap()
}

async fn json<T: serde::de::DeserializeOwned>(r: reqwest::Response) -> T {
    serde_json::from_slice(&r.bytes().await.unwrap()).unwrap()
}

fn strip(prefix: &[u8], v: &[u8]) -> Vec<u8> {
    assert!(v.starts_with(prefix), "{v:02X?}");
    v[prefix.len()..].to_vec()
}

fn to_asn1(ok: &wire::InitiateAuthenticationOk) -> InitiateAuthenticationOk {
    InitiateAuthenticationOk {
        transaction_id: ok.transaction_id.clone(),
        server_signed1: Signed::decode(&ok.server_signed1, ServerSigned1::decode).unwrap(),
        server_signature1: strip(&[0x5F, 0x37, 0x40], &ok.server_signature1),
        euicc_ci_pk_id_to_be_used: strip(&[0x04, 0x14], &ok.euicc_ci_pk_id_to_be_used),
        server_certificate: Certificate(ok.server_certificate.clone()),
        other_certs_in_chain: None,
        crl_list: None,
        unknown_tags: vec![],
    }
}

#[tokio::test]
async fn json_binding_over_tls_with_es2plus_on_the_same_port() {
    let env = start(v3()).await;
    let url = |f: &str| format!("{}/gsma/rsp2/es9plus/{f}", env.base);
    let es2 = |f: &str| format!("{}/gsma/rsp2/es2plus/{f}", env.base);
    let header = |id: &str| {
        Some(wire::RequestHeader {
            function_requester_identifier: OPERATOR.into(),
            function_call_identifier: id.into(),
        })
    };
    // ES2+ without a client certificate: the LPA's connection is no Operator.
    let r = post_json(
        &env.lpa,
        &es2("downloadOrder"),
        &wire::DownloadOrderRequest {
            header: header("0"),
            profile_type: Some("TS48".into()),
            ..Default::default()
        },
    )
    .await;
    let body: wire::DownloadOrderResponse = json(r).await;
    assert_eq!(
        body.header.function_execution_status.status,
        ExecutionStatus::Failed
    );
    // The Operator (client certificate) orders and confirms.
    let r = post_json(
        &env.operator,
        &es2("downloadOrder"),
        &wire::DownloadOrderRequest {
            header: header("1"),
            profile_type: Some("TS48".into()),
            ..Default::default()
        },
    )
    .await;
    let body: wire::DownloadOrderResponse = json(r).await;
    assert!(
        body.header.function_execution_status.is_executed(),
        "{body:?}"
    );
    let iccid = body.body.unwrap().iccid;
    let r = post_json(
        &env.operator,
        &es2("confirmOrder"),
        &wire::ConfirmOrderRequest {
            header: header("2"),
            iccid: Some(iccid.clone()),
            matching_id: Some("MATCH-TLS".into()),
            release_flag: Some(true),
            ..Default::default()
        },
    )
    .await;
    let body: wire::ConfirmOrderResponse = json(r).await;
    assert!(
        body.header.function_execution_status.is_executed(),
        "{body:?}"
    );

    // ES9+ InitiateAuthentication: HTTP 200, the binding's headers, success.
    let mut e = TestEuicc::new("NIST", true);
    let req = e.initiate_request(ADDRESS);
    let mut lpa_cap = vec![0x03];
    let mut content = Vec::new();
    e.lpa_cap.0.write_content(&mut content);
    lpa_cap.push(content.len() as u8);
    lpa_cap.extend(content);
    let ia = wire::InitiateAuthenticationRequest {
        euicc_challenge: req.euicc_challenge.0.to_vec(),
        euicc_info1: req.euicc_info1.encode(&e.own_profile()).unwrap(),
        smdp_address: ADDRESS.into(),
        lpa_rsp_capability: Some(lpa_cap),
    };
    let r = post_json(&env.lpa, &url("initiateAuthentication"), &ia).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], wire::CONTENT_TYPE);
    assert_eq!(r.headers()["x-admin-protocol"], "gsma/rsp/v3.1.0");
    let text = r.text().await.unwrap();
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        value["header"]["functionExecutionStatus"]["status"],
        "Executed-Success"
    );
    let tid_text = value["transactionId"].as_str().unwrap().to_string();
    assert_eq!(tid_text, tid_text.to_uppercase());
    let ia_ok: wire::InitiateAuthenticationResponse = serde_json::from_str(&text).unwrap();
    let init = to_asn1(&ia_ok.body.unwrap());
    assert!(init.server_signed1.value().session_context.is_some());

    // AuthenticateClient.
    let asr = e.authenticate_server(&init, Some("MATCH-TLS"));
    let ac = wire::AuthenticateClientRequest {
        transaction_id: init.transaction_id.clone(),
        authenticate_server_response: asr.encode(&e.own_profile()).unwrap(),
        delete_notification_for_dc: None,
    };
    let r = post_json(&env.lpa, &url("authenticateClient"), &ac).await;
    assert_eq!(r.status(), 200);
    let ac_ok: wire::AuthenticateClientResponse = json(r).await;
    let ac_ok = ac_ok.body.expect("authenticateClient succeeded");
    let ac_asn1 = rsp_sgp22::AuthenticateClientOk {
        transaction_id: ac_ok.transaction_id.clone(),
        profile_metadata: rsp_sgp22::StoreMetadataRequest::decode(&ac_ok.profile_metadata).unwrap(),
        smdp_signed2: Signed::decode(&ac_ok.smdp_signed2, rsp_sgp22::SmdpSigned2::decode).unwrap(),
        smdp_signature2: strip(&[0x5F, 0x37, 0x40], &ac_ok.smdp_signature2),
        smdp_certificate: Certificate(ac_ok.smdp_certificate.clone()),
        unknown_tags: vec![],
    };
    // GetBoundProfilePackage.
    let pdr = e.prepare_download(&ac_asn1, None);
    let gb = wire::GetBoundProfilePackageRequest {
        transaction_id: init.transaction_id.clone(),
        prepare_download_response: pdr.encode(&e.own_profile()).unwrap(),
    };
    let r = post_json(&env.lpa, &url("getBoundProfilePackage"), &gb).await;
    let gb_ok: wire::GetBoundProfilePackageResponse = json(r).await;
    let bpp = gb_ok.body.unwrap().bound_profile_package;
    let iccid: rsp_types::Iccid = iccid.parse().unwrap();
    let (upp, _) = e.load_bpp(&init.transaction_id, &bpp, &ac_ok.smdp_certificate);
    assert_eq!(upp, env.inventory.personalised_upp(&iccid).unwrap());
    // HandleNotification: 204, no body; the order is Installed.
    let pir = e.installation_result(
        &init.transaction_id,
        &"2.999.10".parse().unwrap(),
        &iccid,
        TestEuicc::success(),
    );
    let hn = wire::HandleNotificationRequest {
        pending_notification: PendingNotification::ProfileInstallationResult(pir)
            .encode(&e.own_profile())
            .unwrap(),
    };
    let r = post_json(&env.lpa, &url("handleNotification"), &hn).await;
    assert_eq!(r.status(), 204);
    assert_eq!(r.headers()["x-admin-protocol"], "gsma/rsp/v3.1.0");
    assert!(r.bytes().await.unwrap().is_empty());
    assert_eq!(
        env.orders.get(&iccid).await.unwrap().unwrap().order.state,
        OrderState::Installed
    );

    // A functional refusal is HTTP 200 with Failed and the code.
    let mut bad = ia.clone();
    bad.smdp_address = "other.example.com".into();
    let r = post_json(&env.lpa, &url("initiateAuthentication"), &bad).await;
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = json(r).await;
    assert_eq!(v["header"]["functionExecutionStatus"]["status"], "Failed");
    assert_eq!(
        v["header"]["functionExecutionStatus"]["statusCodeData"]["subjectCode"],
        "8.8.1"
    );
    assert_eq!(
        v["header"]["functionExecutionStatus"]["statusCodeData"]["reasonCode"],
        "3.8"
    );
    assert!(v.get("transactionId").is_none());
    // Malformed base64 inside valid JSON: functional 1.6/2.1; not JSON: HTTP 400; unknown
    // function: 404.
    let r = env
        .lpa
        .post(url("initiateAuthentication"))
        .body(r#"{"euiccChallenge":"***","euiccInfo1":"AA==","smdpAddress":"x"}"#)
        .send()
        .await
        .unwrap();
    let v: serde_json::Value = json(r).await;
    assert_eq!(
        v["header"]["functionExecutionStatus"]["statusCodeData"]["subjectCode"],
        "1.6"
    );
    let r = env
        .lpa
        .post(url("initiateAuthentication"))
        .body("{nope")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = env
        .lpa
        .post(url("noSuchFunction"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    // A replayed getBoundProfilePackage of the closed session.
    let r = post_json(&env.lpa, &url("getBoundProfilePackage"), &gb).await;
    let v: serde_json::Value = json(r).await;
    assert_eq!(
        v["header"]["functionExecutionStatus"]["statusCodeData"]["subjectCode"],
        "8.10.1"
    );
    assert_eq!(
        v["header"]["functionExecutionStatus"]["statusCodeData"]["reasonCode"],
        "3.9"
    );

    env.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn asn1_binding_and_tls12() {
    let env = start(v2()).await;
    let url = format!("{}/gsma/rsp2/asn1", env.base);
    let e = TestEuicc::new("NIST", false);
    let post = |c: &reqwest::Client, body: Vec<u8>| {
        let c = c.clone();
        let url = url.clone();
        async move {
            c.post(url)
                .header("Content-Type", "application/x-gsma-rsp-asn1")
                .body(body)
                .send()
                .await
                .unwrap()
        }
    };
    let req = RemoteProfileProvisioningRequest::InitiateAuthentication(e.initiate_request(ADDRESS));
    let r = post(&env.lpa, req.encode(&e.own_profile()).unwrap()).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/x-gsma-rsp-asn1");
    assert_eq!(r.headers()["x-admin-protocol"], "gsma/rsp/v2.2.2");
    let resp = RemoteProfileProvisioningResponse::decode(&r.bytes().await.unwrap()).unwrap();
    let RemoteProfileProvisioningResponse::InitiateAuthentication(
        InitiateAuthenticationResponse::Ok(ok),
    ) = resp
    else {
        panic!("{resp:?}")
    };
    // Signed for a v2 peer by a v2 server; verifies with CERT.DPauth.
    let dp = public(ok.server_certificate.der());
    dp.verify_raw(ok.server_signed1.raw(), &ok.server_signature1)
        .unwrap();
    assert!(ok.server_signed1.value().session_context.is_none());
    // Refusal: the ASN.1 error INTEGER (invalidDpAddress = 1).
    let req = RemoteProfileProvisioningRequest::InitiateAuthentication(
        e.initiate_request("x.example.com"),
    );
    let r = post(&env.lpa, req.encode(&e.own_profile()).unwrap()).await;
    let resp = RemoteProfileProvisioningResponse::decode(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(
        resp,
        RemoteProfileProvisioningResponse::InitiateAuthentication(
            InitiateAuthenticationResponse::Error(1)
        )
    );
    // Undecodable content of a known function: invalidInputData (124); garbage: 400.
    let r = post(&env.lpa, vec![0xA2, 0x05, 0xBF, 0x39, 0x02, 0x80, 0x00]).await;
    let resp = RemoteProfileProvisioningResponse::decode(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(
        resp,
        RemoteProfileProvisioningResponse::InitiateAuthentication(
            InitiateAuthenticationResponse::Error(124)
        )
    );
    let r = post(&env.lpa, vec![0x01, 0x02, 0x03]).await;
    assert_eq!(r.status(), 400);
    // A TLS 1.2-only client is served too.
    let ci = CertificateDer::from(read("CERT_CI_ECDSA_NIST.der"));
    let c12 = client(
        &[ci],
        &[&rustls::version::TLS12],
        None,
        env.running.local_addr,
    );
    let req = RemoteProfileProvisioningRequest::InitiateAuthentication(e.initiate_request(ADDRESS));
    let r = post(&c12, req.encode(&e.own_profile()).unwrap()).await;
    assert_eq!(r.status(), 200);
    // A client that does not trust the SGP.26 CI cannot connect.
    let untrusting = client(
        std::slice::from_ref(&env.tls_ca),
        rustls::DEFAULT_VERSIONS,
        None,
        env.running.local_addr,
    );
    assert!(untrusting.post(&url).body(vec![0u8]).send().await.is_err());
    env.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn config_builds_a_server_that_serves_and_stops() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let config = server::SmdpConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        identity: rsp_smdpp::identity::IdentityPaths {
            address: ADDRESS.into(),
            curves: vec![
                rsp_smdpp::identity::CurvePaths::sgp26(&sgp26(), "NIST"),
                rsp_smdpp::identity::CurvePaths::sgp26(&sgp26(), "BRP"),
            ],
            tls: rsp_smdpp::identity::TlsSource::Mint {
                ci_cert: sgp26().join("CERT_CI_ECDSA_NIST.der"),
                ci_key: sgp26().join("SK_CI_ECDSA_NIST.pem"),
                days: 7,
            },
        },
        svn: "3.1.0".into(),
        lowest_svn: "2.0.0".into(),
        server_rsp_capability: vec![3],
        supported_push_services: vec![],
        session_ttl_seconds: 600,
        store_url: format!("sqlite://{}", dir.path().join("cfg.sqlite").display()),
        operator_cas: vec![],
        delivery_period_ms: 50,
        es12_client_certificate: None,
        es12_client_key: None,
        smds_cas: vec![],
        smds_forwarding_indicator: true,
    };
    // The configuration is data: it survives a JSON round trip.
    let text = serde_json::to_string(&config).unwrap();
    assert_eq!(
        serde_json::from_str::<server::SmdpConfig>(&text).unwrap(),
        config
    );
    let built = config
        .build(
            inventory(&[rsp_types::Svn::new(2, 3, 0)]),
            OperatorDirectory::new(vec![]),
        )
        .await
        .unwrap();
    assert_eq!(built.parts.es9.identity().curves().len(), 2);
    assert_eq!(built.parts.es9.identity().oid.to_string(), "2.999.10");
    assert!(built.es12.is_some());
    let running = built.serve().await.unwrap();
    let ci = CertificateDer::from(read("CERT_CI_ECDSA_NIST.der"));
    let c = client(&[ci], rustls::DEFAULT_VERSIONS, None, running.local_addr);
    let e = TestEuicc::new("BRP", true);
    let req = RemoteProfileProvisioningRequest::InitiateAuthentication(e.initiate_request(ADDRESS));
    let r = c
        .post(format!(
            "https://{ADDRESS}:{}/gsma/rsp2/asn1",
            running.local_addr.port()
        ))
        .body(req.encode(&e.own_profile()).unwrap())
        .send()
        .await
        .unwrap();
    let resp = RemoteProfileProvisioningResponse::decode(&r.bytes().await.unwrap()).unwrap();
    let RemoteProfileProvisioningResponse::InitiateAuthentication(
        InitiateAuthenticationResponse::Ok(ok),
    ) = resp
    else {
        panic!("{resp:?}")
    };
    // A brainpool eUICC gets the brainpool CERT.DPauth.
    assert_eq!(
        ok.server_certificate.der(),
        read("CERT_S_SM_DPauth_ECDSA_BRP.der")
    );
    let addr = running.local_addr;
    running.shutdown().await.unwrap();
    // After shutdown the port no longer answers.
    assert!(
        c.post(format!("https://{ADDRESS}:{}/gsma/rsp2/asn1", addr.port()))
            .body(vec![0u8])
            .send()
            .await
            .is_err()
    );
}
