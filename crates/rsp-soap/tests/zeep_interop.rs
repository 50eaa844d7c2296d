#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Interoperability with an independent SOAP stack: Python's zeep loads the WSDL that a running rsp server serves
//! at `/<interface>?wsdl` and calls one request-response function of every interface over mutual TLS, each with
//! the client certificate of the role the catalogue allows.
//!
//! zeep runs from the project venv that `scripts/test` creates (`RSP_TEST_PYTHON`). Without it the test fails in
//! CI and prints a skip line elsewhere.

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;

use rsp_crypto::pki::{PkiManifest, PkiOptions};
use rsp_sgp02::bodies::{AuthenticateSmsrResponse, EisResponse, GetPlmaResponse};
use rsp_sgp02::common::{BaseResponse, HexBinary};
use rsp_sgp02::{FunctionId, Interface, ResponseBody};
use rsp_soap::envelope::EndpointReference;
use rsp_soap::http;
use rsp_soap::identity::PeerDirectory;
use rsp_soap::service::{ServiceConfig, SoapService};
use rsp_soap::table::{Answer, Received, TableHandler};
use rsp_types::FunctionExecutionStatus;

const EID: &str = "89049032123451234512345678901235";

fn python() -> Option<String> {
    match std::env::var("RSP_TEST_PYTHON") {
        Ok(p) if !p.is_empty() => Some(p),
        _ if std::env::var("CI").is_ok_and(|v| !v.is_empty()) => {
            panic!(
                "RSP_TEST_PYTHON is not set: scripts/test creates the venv with zeep; run the tests through it"
            )
        }
        _ => None,
    }
}

fn ok() -> BaseResponse {
    BaseResponse::with_status(&FunctionExecutionStatus::success())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zeep_calls_every_interface_over_mutual_tls() {
    let Some(python) = python() else {
        eprintln!("SKIP zeep interop: RSP_TEST_PYTHON not set (run scripts/test)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let manifest: PkiManifest = rsp_crypto::pki::generate(
        &dir.path().join("pki"),
        &PkiOptions {
            euicc_count: 0,
            brainpool: false,
            ..PkiOptions::default()
        },
    )
    .unwrap();
    let e = |id: &str| manifest.entity(id).unwrap().clone();
    let server = e("tls/sm-sr1");
    let ca = e("tls/ca").cert;
    let tls = http::server_tls_config(&server.cert, server.key.as_ref().unwrap(), &[ca.as_path()])
        .unwrap();
    let store = rsp_store::open(&format!(
        "sqlite://{}",
        dir.path().join("s.sqlite").display()
    ))
    .await
    .unwrap();

    let table = Arc::new(TableHandler::new());
    for (f, body) in [
        (
            FunctionId::Es1UpdateEisAdditionalProperties,
            ResponseBody::Es1UpdateEisAdditionalProperties(Box::new(ok())),
        ),
        (
            FunctionId::Es2GetEis,
            ResponseBody::Es2GetEis(Box::new(EisResponse {
                base: ok(),
                eis: None,
            })),
        ),
        (
            FunctionId::Es3GetEis,
            ResponseBody::Es3GetEis(Box::new(EisResponse {
                base: ok(),
                eis: None,
            })),
        ),
        (
            FunctionId::Es4GetEis,
            ResponseBody::Es4GetEis(Box::new(EisResponse {
                base: ok(),
                eis: None,
            })),
        ),
        (
            FunctionId::Es4aGetPlma,
            ResponseBody::Es4aGetPlma(Box::new(GetPlmaResponse {
                base: ok(),
                plma: Vec::new(),
            })),
        ),
        (
            FunctionId::Es7AuthenticateSmsr,
            ResponseBody::Es7AuthenticateSmsr(Box::new(AuthenticateSmsrResponse {
                base: ok(),
                random_challenge: Some(HexBinary(vec![0x5A; 16])),
            })),
        ),
    ] {
        table.answer(f, Answer::Respond(body));
    }
    let service = Arc::new(SoapService::new(
        ServiceConfig {
            namespace: rsp_sgp02::DEFAULT_NAMESPACE.into(),
            limits: Default::default(),
            interfaces: Interface::ALL.to_vec(),
            from: Some(EndpointReference::new(
                "https://sm-sr1.test?EntityId=2.999.31",
            )),
            node: "zeep-test".into(),
        },
        table.clone(),
        store,
        PeerDirectory::from_manifest(&manifest, &[]),
    ));
    let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("https://localhost:{}", tcp.local_addr().unwrap().port());
    let wsdl: http::WsdlSource = Arc::new(|iface, endpoint| {
        Some(rsp_sgp02::wsdl::interface_wsdl(
            iface,
            rsp_sgp02::DEFAULT_NAMESPACE,
            endpoint,
        ))
    });
    let router = http::router(service, Some(wsdl), &base, http::DEFAULT_MAX_BODY);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(http::serve_tls(tcp, tls, router, async move {
        let _ = stopped.await;
    }));

    let call = |iface: &str, caller: &str, operation: &str, args: serde_json::Value| {
        let c = e(&format!("tls/{caller}"));
        serde_json::json!({
            "wsdl": format!("{base}/{iface}?wsdl"),
            "cert": c.cert, "key": c.key, "ca": ca,
            "from": format!("https://{caller}.test?EntityId={}", c.entity_oid.unwrap()),
            "operation": operation,
            "args": args,
        })
    };
    let calls = serde_json::json!([
        call(
            "es1",
            "eum",
            "UpdateEISAdditionalProperties",
            serde_json::json!({
                "FunctionCallIdentifier": "zeep-1", "Eid": EID,
                "AdditionalProperties": {"Property": [{"key": "vendor-note", "value": "zeep"}]}
            })
        ),
        call(
            "es2",
            "operator1",
            "GetEIS",
            serde_json::json!({"FunctionCallIdentifier": "zeep-2", "Eid": EID, "Smsr-id": "2.999.31"})
        ),
        call(
            "es3",
            "sm-dp",
            "GetEIS",
            serde_json::json!({"FunctionCallIdentifier": "zeep-3", "Eid": EID})
        ),
        call(
            "es4",
            "operator1",
            "GetEIS",
            serde_json::json!({"FunctionCallIdentifier": "zeep-4", "Eid": EID})
        ),
        call(
            "es4a",
            "operator1",
            "GetPLMA",
            serde_json::json!({"FunctionCallIdentifier": "zeep-5"})
        ),
        call(
            "es7",
            "sm-sr2",
            "AuthenticateSMSR",
            serde_json::json!({
                "FunctionCallIdentifier": "zeep-6",
                "Eis": {"EumSignedInfo": {"Eid": EID}},
                "SmsrCertificate": "7F2100"
            })
        ),
    ]);

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/zeep_client.py");
    let output = tokio::task::spawn_blocking(move || {
        let mut child = Command::new(python)
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run the venv python");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(calls.to_string().as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    let _ = stop.send(());
    assert!(
        output.status.success(),
        "zeep failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let results: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(results.len(), 6);
    for r in &results {
        assert_eq!(r["status"], "Executed-Success", "{r}");
    }
    // Every call reached the business side, decoded, from the right caller.
    let seen: Vec<(FunctionId, String)> = table
        .received()
        .into_iter()
        .filter_map(|r| match r {
            Received::Call(c) => Some((c.function, c.caller.name)),
            _ => None,
        })
        .collect();
    for (f, who) in [
        (FunctionId::Es1UpdateEisAdditionalProperties, "eum"),
        (FunctionId::Es2GetEis, "operator1"),
        (FunctionId::Es3GetEis, "sm-dp"),
        (FunctionId::Es4GetEis, "operator1"),
        (FunctionId::Es4aGetPlma, "operator1"),
        (FunctionId::Es7AuthenticateSmsr, "sm-sr2"),
    ] {
        assert!(
            seen.contains(&(f, who.to_string())),
            "{f:?} from {who} not received: {seen:?}"
        );
    }
}
