#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `rsp eum register`: the EIS written by `rsp euicc create` (signed by the EUM) goes to an SM-SR's ES1 endpoint over
//! mutual TLS; the SM-SR verifies the EUM signature against the CI before the business side sees it, and a changed
//! byte in the signed part is refused with 8.1.2/6.1.

use std::process::Command;
use std::sync::Arc;

use rsp_crypto::pki::PkiManifest;
use rsp_sgp02::common::BaseResponse;
use rsp_sgp02::{FunctionId, Interface, ResponseBody};
use rsp_soap::envelope::EndpointReference;
use rsp_soap::http;
use rsp_soap::identity::PeerDirectory;
use rsp_soap::service::{ServiceConfig, SoapService};
use rsp_soap::table::{Answer, Received, TableHandler};
use rsp_types::FunctionExecutionStatus;

fn rsp(data: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_rsp"));
    for (k, _) in std::env::vars() {
        if k.starts_with("RSP_") {
            c.env_remove(k);
        }
    }
    c.arg("--data-dir").arg(data);
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eum_registers_a_signed_eis_and_a_tampered_one_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().to_path_buf();
    let out = rsp(&data).args(["euicc", "create"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let eis_path = stdout
        .lines()
        .find_map(|l| l.strip_prefix("eis: "))
        .expect("eis path")
        .trim()
        .to_string();
    let eid = stdout
        .lines()
        .find_map(|l| l.strip_prefix("eid: "))
        .unwrap()
        .trim()
        .to_string();

    // An SM-SR-side ES1 endpoint: the table double, with EIS verification against the SGP.02 CI.
    let manifest = PkiManifest::load(&data.join("pki")).unwrap();
    let server = manifest.entity("tls/sm-sr1").unwrap();
    let ca = manifest.entity("tls/ca").unwrap().cert.clone();
    let tls = http::server_tls_config(&server.cert, server.key.as_ref().unwrap(), &[ca.as_path()])
        .unwrap();
    let trust = rsp_xmlsec::eis::EisTrust::from_pem_files(&[manifest
        .entity("sgp02/ci")
        .unwrap()
        .cert
        .as_path()])
    .unwrap();
    let store = rsp_store::open(&format!(
        "sqlite://{}",
        tmp.path().join("smsr.sqlite").display()
    ))
    .await
    .unwrap();
    let table = Arc::new(TableHandler::new());
    table.answer(
        FunctionId::Es1RegisterEis,
        Answer::Respond(ResponseBody::Es1RegisterEis(Box::new(
            BaseResponse::with_status(&FunctionExecutionStatus::success()),
        ))),
    );
    let service = SoapService::new(
        ServiceConfig {
            namespace: rsp_sgp02::DEFAULT_NAMESPACE.into(),
            limits: Default::default(),
            interfaces: vec![Interface::Es1],
            from: Some(EndpointReference::new(
                "https://sm-sr1.test?EntityId=2.999.31",
            )),
            node: "test".into(),
        },
        table.clone(),
        store,
        PeerDirectory::from_manifest(&manifest, &[]),
    )
    .with_eis_verification(Arc::new(trust));
    let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://localhost:{}/es1", tcp.local_addr().unwrap().port());
    let router = http::router(Arc::new(service), None, &url, http::DEFAULT_MAX_BODY);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(http::serve_tls(tcp, tls, router, async move {
        let _ = stopped.await;
    }));

    let register = |path: String, fcid: &str| {
        let data = data.clone();
        let url = url.clone();
        let fcid = fcid.to_string();
        tokio::task::spawn_blocking(move || {
            rsp(&data)
                .args([
                    "eum",
                    "register",
                    "--eis",
                    &path,
                    "--smsr",
                    &url,
                    "--function-call-id",
                    &fcid,
                ])
                .output()
                .unwrap()
        })
    };

    let out = register(eis_path.clone(), "reg-1").await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("EIS of {eid} registered")));
    let calls: Vec<_> = table
        .received()
        .into_iter()
        .filter_map(|r| match r {
            Received::Call(c) => Some(c),
            _ => None,
        })
        .collect();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].caller.name, "eum");
    assert!(
        calls[0].signed_eis.is_some(),
        "the verified signed part reaches the business side"
    );

    // One changed byte in the signed part (the platform version) is refused before the business side.
    let xml = std::fs::read_to_string(&eis_path).unwrap();
    let start = xml.find("PlatformVersion>").unwrap() + "PlatformVersion>".len();
    let mut tampered = xml.clone().into_bytes();
    tampered[start] = if tampered[start] == b'9' { b'8' } else { b'9' };
    let tampered_path = tmp.path().join("tampered.eis.xml");
    std::fs::write(&tampered_path, tampered).unwrap();
    let out = register(tampered_path.display().to_string(), "reg-2")
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("8.1.2/6.1"), "{err}");
    assert_eq!(
        table
            .received()
            .iter()
            .filter(|r| matches!(r, Received::Call(_)))
            .count(),
        1
    );
    let _ = stop.send(());
}
