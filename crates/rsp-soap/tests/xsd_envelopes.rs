#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Every envelope rsp-soap writes — requests and notifications as the client sends them, synchronous and
//! asynchronous responses as the server sends them, and faults — validates with `xmllint --schema` against the
//! XSDs generated from the catalogue.

use std::process::Command;

use rsp_sgp02::{CATALOGUE, DEFAULT_NAMESPACE, RequestBody, ResponseBody, sample};
use rsp_soap::dispatch;
use rsp_soap::envelope::{Addressing, EndpointReference, Envelope, Fault, FaultSubcode};

fn xmllint_available() -> bool {
    let ok = Command::new("xmllint")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok && std::env::var("CI").is_ok_and(|v| !v.is_empty()) {
        panic!("xmllint is required (Debian package libxml2-utils; scripts/test installs it)");
    }
    ok
}

#[test]
fn every_written_envelope_validates_against_the_generated_schemas() {
    if !xmllint_available() {
        eprintln!("SKIP: xmllint not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let schema = rsp_sgp02::xsd::write_schema_set(dir.path(), DEFAULT_NAMESPACE).unwrap();
    let mut files = Vec::new();
    let mut write = |name: String, xml: String| {
        let p = dir.path().join(name);
        std::fs::write(&p, xml).unwrap();
        files.push(p);
    };
    for info in CATALOGUE {
        let el = sample::sample_request(info.id, true);
        let body = RequestBody::decode(info.id, &el).unwrap();
        let request = Envelope {
            addressing: Addressing {
                to: Some(format!("https://peer.example/{}", info.interface.path())),
                from: Some(EndpointReference::new(
                    "https://me.example?EntityId=2.999.20",
                )),
                reply_to: Some(EndpointReference::new("https://me.example/callbacks")),
                message_id: Some(dispatch::new_message_id()),
                action: Some(info.request_action()),
                relates_to: None,
            },
            other_headers: Vec::new(),
            body: Some(body.encode(DEFAULT_NAMESPACE)),
        };
        write(
            format!("{}-request.xml", info.request_element()),
            request.to_xml(),
        );
        if let Some(resp_el) = sample::sample_response(info.id, true) {
            let resp = ResponseBody::decode(info.id, &resp_el).unwrap();
            for callback in [false, true] {
                let env = dispatch::response_envelope(
                    info.id,
                    resp.encode(DEFAULT_NAMESPACE),
                    &request.addressing,
                    Some(EndpointReference::new(
                        "https://peer.example?EntityId=2.999.31",
                    )),
                    callback,
                );
                write(
                    format!("{}-response-{callback}.xml", info.request_element()),
                    env.to_xml(),
                );
            }
            let failed = dispatch::status_only_response(
                info.id,
                &rsp_types::codes::sgp02::status::CALLER_NOT_ALLOWED
                    .failed()
                    .with_message("no"),
                DEFAULT_NAMESPACE,
            )
            .unwrap();
            let env =
                dispatch::response_envelope(info.id, failed, &request.addressing, None, false);
            write(
                format!("{}-failed.xml", info.request_element()),
                env.to_xml(),
            );
        }
    }
    write(
        "fault.xml".into(),
        Fault::sender(FaultSubcode::InvalidBody, "missing Eid").to_envelope_xml(Some("urn:uuid:1")),
    );
    let count = files.len();
    let out = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(&schema)
        .args(&files)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "xmllint refused envelopes:\n{stderr}");
    assert_eq!(stderr.matches(" validates").count(), count, "{stderr}");

    // The check can fail: a response missing its FunctionExecutionStatus is refused.
    let bad = dir.path().join("bad.xml");
    let text = std::fs::read_to_string(&files[1]).unwrap();
    let start = text.find("<rps:FunctionExecutionStatus").unwrap();
    let end = text.find("</rps:FunctionExecutionStatus>").unwrap()
        + "</rps:FunctionExecutionStatus>".len();
    std::fs::write(&bad, format!("{}{}", &text[..start], &text[end..])).unwrap();
    let out = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(&schema)
        .arg(&bad)
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "a response without FunctionExecutionStatus must not validate"
    );
}
