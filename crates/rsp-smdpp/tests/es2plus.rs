//! ES2+ through the router (`oneshot`, the TLS client certificate inserted as the listener
//! would): the order lifecycle, every refusal implemented, idempotent retries, lenient JSON,
//! HTTP-level errors, X-Admin-Protocol, and reopening the SQLite store.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use rsp_sgp22::json::AdminProtocolPolicy;
use rsp_smdpp::es2plus::{Es2Plus, OperatorDirectory, OperatorEntry, PeerCertificate, router};
use rsp_smdpp::inventory::{IccidRange, Inventory, ProfileMetadata, ProfileTypeConfig};
use rsp_smdpp::order::{OrderState, Orders, hash_cc};
use rsp_store::Store;
use rsp_types::{Eid, Iccid, Svn};
use serde_json::{Value, json};
use sha2::Digest;
use time::OffsetDateTime;
use tower::ServiceExt;

const EID: &str = "89049032123451234512345678901235";

fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{path}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// op1 is known by certificate fingerprint, op2 by subject commonName.
fn certs() -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    (
        fixture("sgp26/CERT_S_SM_DPauth_ECDSA_NIST.der"),
        fixture("sgp26/CERT_S_SM_DPpb_ECDSA_NIST.der"),
        fixture("sgp26/CERT_EUM_ECDSA_NIST.der"),
    )
}

fn directory() -> OperatorDirectory {
    let (op1, op2, _) = certs();
    let cn = rsp_crypto::x509::Certificate::from_der(&op2)
        .unwrap()
        .subject()
        .common_name()
        .unwrap()
        .to_owned();
    OperatorDirectory::new(vec![
        OperatorEntry {
            id: "op1".into(),
            certificate_sha256: vec![sha2::Sha256::digest(&op1).into()],
            subject_common_names: vec![],
            callback_url: None,
        },
        OperatorEntry {
            id: "op2".into(),
            certificate_sha256: vec![],
            subject_common_names: vec![cn],
            callback_url: None,
        },
    ])
}

fn inventory(count: u64) -> Inventory {
    Inventory::new(vec![
        ProfileTypeConfig {
            name: "T1".into(),
            template: fixture("profiles/SAIP2.3_NoBERTLV.der"),
            iccids: IccidRange {
                first: Iccid::with_luhn("8988228000000000100").unwrap(),
                count,
            },
            package_versions: vec![Svn::new(2, 3, 0)],
            operators: None,
            metadata: ProfileMetadata::default(),
        },
        ProfileTypeConfig {
            name: "ONLY-OP2".into(),
            template: fixture("profiles/SAIP2.3_NoBERTLV.der"),
            iccids: IccidRange {
                first: Iccid::with_luhn("8988228000000009000").unwrap(),
                count: 2,
            },
            package_versions: vec![Svn::new(2, 3, 0)],
            operators: Some(vec!["op2".into()]),
            metadata: ProfileMetadata::default(),
        },
    ])
    .unwrap()
}

fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_750_000_000).unwrap()
}

fn service(store: Arc<dyn Store>, count: u64) -> Es2Plus {
    let mut s = Es2Plus::new(
        store,
        Arc::new(inventory(count)),
        Arc::new(directory()),
        "smdp.example.com",
    );
    s.admin_protocol = AdminProtocolPolicy {
        ours: Svn::new(2, 5, 0),
        lowest: Svn::new(2, 0, 0),
    };
    s.clock = Arc::new(now);
    s
}

struct Harness {
    app: Router,
    orders: Orders,
    fcid: std::cell::Cell<u32>,
}

struct Reply {
    http: StatusCode,
    admin: Option<String>,
    content_type: Option<String>,
    body: Value,
}

impl Reply {
    fn status(&self) -> &str {
        self.body["header"]["functionExecutionStatus"]["status"]
            .as_str()
            .unwrap_or("")
    }
    fn code(&self) -> String {
        let d = &self.body["header"]["functionExecutionStatus"]["statusCodeData"];
        format!(
            "{}/{}",
            d["subjectCode"].as_str().unwrap_or("-"),
            d["reasonCode"].as_str().unwrap_or("-")
        )
    }
    fn ok(&self) -> &Self {
        assert_eq!(self.http, StatusCode::OK);
        assert_eq!(self.status(), "Executed-Success", "{}", self.body);
        self
    }
}

impl Harness {
    async fn new(count: u64) -> Harness {
        let store = rsp_store::open("sqlite::memory:").await.unwrap();
        Harness::with_store(store, count)
    }

    fn with_store(store: Arc<dyn Store>, count: u64) -> Harness {
        let svc = service(store.clone(), count);
        Harness {
            app: router(svc),
            orders: Orders::new(store),
            fcid: std::cell::Cell::new(0),
        }
    }

    fn next_fcid(&self) -> String {
        self.fcid.set(self.fcid.get() + 1);
        format!("fcid-{}", self.fcid.get())
    }

    /// A request from `op` ("op1" / "op2" / "none" / "stranger") with a fresh header.
    async fn call(&self, op: &str, function: &str, mut body: Value) -> Reply {
        if body.get("header").is_none() {
            body["header"] = json!({
                "functionRequesterIdentifier": op,
                "functionCallIdentifier": self.next_fcid(),
            });
        }
        self.raw(
            op,
            function,
            Some("gsma/rsp/v2.2.0"),
            body.to_string().into_bytes(),
        )
        .await
    }

    async fn raw(&self, op: &str, function: &str, admin: Option<&str>, body: Vec<u8>) -> Reply {
        let (c1, c2, c3) = certs();
        let mut req = Request::builder()
            .method(Method::POST)
            .uri(format!("/gsma/rsp2/es2plus/{function}"))
            .header("content-type", "application/json;charset=UTF-8");
        if let Some(a) = admin {
            req = req.header("X-Admin-Protocol", a);
        }
        let mut req = req.body(Body::from(body)).unwrap();
        match op {
            "op1" => {
                req.extensions_mut().insert(PeerCertificate(c1));
            }
            "op2" => {
                req.extensions_mut().insert(PeerCertificate(c2));
            }
            "stranger" => {
                req.extensions_mut().insert(PeerCertificate(c3));
            }
            _ => {}
        }
        let resp = self.app.clone().oneshot(req).await.unwrap();
        let http = resp.status();
        let admin = resp
            .headers()
            .get("X-Admin-Protocol")
            .map(|v| v.to_str().unwrap().to_owned());
        let content_type = resp
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned());
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .unwrap();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            http,
            admin,
            content_type,
            body,
        }
    }

    async fn state(&self, iccid: &str) -> OrderState {
        self.orders
            .get(&iccid.parse().unwrap())
            .await
            .unwrap()
            .unwrap()
            .order
            .state
    }

    async fn download(&self, op: &str, body: Value) -> String {
        let r = self.call(op, "downloadOrder", body).await;
        r.ok();
        r.body["iccid"].as_str().unwrap().to_owned()
    }
}

#[tokio::test]
async fn lifecycle_generated_matching_id_then_release() {
    let h = Harness::new(5).await;
    let iccid = h.download("op1", json!({"profileType": "T1"})).await;
    assert_eq!(h.state(&iccid).await, OrderState::Allocated);

    let r = h
        .call(
            "op1",
            "confirmOrder",
            json!({"iccid": iccid, "eid": EID, "releaseFlag": false}),
        )
        .await;
    r.ok();
    assert_eq!(
        r.content_type.as_deref(),
        Some("application/json;charset=UTF-8")
    );
    assert_eq!(r.admin.as_deref(), Some("gsma/rsp/v2.2.0"));
    let mid = r.body["matchingId"].as_str().unwrap().to_owned();
    assert_eq!(
        mid.len(),
        23,
        "generated MatchingID XXXXX-XXXXX-XXXXX-XXXXX: {mid}"
    );
    assert_eq!(r.body["eid"], EID);
    assert_eq!(r.body["smdpAddress"], "smdp.example.com");
    assert_eq!(h.state(&iccid).await, OrderState::Confirmed);

    // Not released yet: the ES9+ side refuses with 8.2/1.2.
    let eid: Eid = EID.parse().unwrap();
    let stored = h.orders.by_matching_id(&mid).await.unwrap().unwrap();
    assert_eq!(
        stored
            .order
            .authorize_download(&eid, now())
            .unwrap_err()
            .status()
            .to_string(),
        "8.2/1.2"
    );

    h.call("op1", "releaseProfile", json!({"iccid": iccid}))
        .await
        .ok();
    assert_eq!(h.state(&iccid).await, OrderState::Released);
    let stored = h.orders.by_matching_id(&mid).await.unwrap().unwrap();
    stored.order.authorize_download(&eid, now()).unwrap();
    assert!(!stored.order.cc_required());

    // Releasing twice is an invalid transition.
    let r = h
        .call("op1", "releaseProfile", json!({"iccid": iccid}))
        .await;
    assert_eq!((r.status(), r.code().as_str()), ("Failed", "8.2.1/3.5"));
}

#[tokio::test]
async fn lifecycle_given_matching_id_with_confirmation_code_and_release_flag() {
    let h = Harness::new(5).await;
    let iccid = h
        .download("op2", json!({"profileType": "T1", "eid": EID}))
        .await;
    assert_eq!(h.state(&iccid).await, OrderState::Linked);
    let r = h
        .call(
            "op2",
            "confirmOrder",
            json!({"iccid": iccid, "matchingId": "MY-ORDER-1", "confirmationCode": "4711", "releaseFlag": true}),
        )
        .await;
    r.ok();
    assert_eq!(r.body["matchingId"], "MY-ORDER-1");
    let s = h
        .orders
        .by_matching_id("MY-ORDER-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(s.order.state, OrderState::Released);
    assert!(s.order.cc_required());
    assert_eq!(s.order.cc_hash, Some(hash_cc("4711")));

    // The same MatchingID for another order is in use; a malformed one is invalid.
    let other = h.download("op2", json!({"profileType": "T1"})).await;
    let r = h
        .call(
            "op2",
            "confirmOrder",
            json!({"iccid": other, "eid": EID, "matchingId": "MY-ORDER-1", "releaseFlag": true}),
        )
        .await;
    assert_eq!(r.code(), "8.2.6/3.3");
    let r = h
        .call(
            "op2",
            "confirmOrder",
            json!({"iccid": other, "eid": EID, "matchingId": "lower$case", "releaseFlag": true}),
        )
        .await;
    assert_eq!(r.code(), "8.2.6/2.1");
}

#[tokio::test]
async fn cancel_order_returns_the_profile_or_withdraws_it() {
    let h = Harness::new(2).await;
    let iccid = h
        .download("op1", json!({"iccid": "89882280000000001004"}))
        .await;
    assert_eq!(iccid, "89882280000000001004");
    h.call(
        "op1",
        "confirmOrder",
        json!({"iccid": iccid, "eid": EID, "matchingId": "CANCEL-ME", "releaseFlag": true}),
    )
    .await
    .ok();
    // Wrong MatchingID, wrong EID, missing indicator, bad indicator.
    let r = h
        .call("op1", "cancelOrder", json!({"iccid": iccid, "matchingId": "OTHER", "finalProfileStatusIndicator": "Available"}))
        .await;
    assert_eq!(r.code(), "8.2.6/3.10");
    let r = h
        .call("op1", "cancelOrder", json!({"iccid": iccid, "eid": "89049032123451234512345678901299", "finalProfileStatusIndicator": "Available"}))
        .await;
    assert_eq!(r.code(), "8.1.1/3.10");
    let r = h.call("op1", "cancelOrder", json!({"iccid": iccid})).await;
    assert_eq!(r.code(), "8.2.1/2.2");
    let r = h
        .call(
            "op1",
            "cancelOrder",
            json!({"iccid": iccid, "finalProfileStatusIndicator": "Gone"}),
        )
        .await;
    assert_eq!(r.code(), "1.6/2.1");
    // Another Operator may not cancel it.
    let r = h
        .call(
            "op2",
            "cancelOrder",
            json!({"iccid": iccid, "finalProfileStatusIndicator": "Available"}),
        )
        .await;
    assert_eq!(r.code(), "8.2.1/1.2");
    h.call(
        "op1",
        "cancelOrder",
        json!({"iccid": iccid, "matchingId": "CANCEL-ME", "finalProfileStatusIndicator": "Available"}),
    )
    .await
    .ok();
    assert_eq!(h.state(&iccid).await, OrderState::Available);
    // Available again: orderable; the old MatchingID is never reused.
    h.download("op2", json!({"iccid": iccid})).await;
    let r = h
        .call(
            "op2",
            "confirmOrder",
            json!({"iccid": iccid, "eid": EID, "matchingId": "CANCEL-ME", "releaseFlag": true}),
        )
        .await;
    assert_eq!(r.code(), "8.2.6/3.3");
    // Downloaded profiles cannot be cancelled.
    let mut s = h
        .orders
        .get(&iccid.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    s.order.state = OrderState::Downloaded;
    h.orders.save(&s, vec![], now()).await.unwrap();
    let r = h
        .call(
            "op2",
            "cancelOrder",
            json!({"iccid": iccid, "finalProfileStatusIndicator": "Unavailable"}),
        )
        .await;
    assert_eq!(r.code(), "8.2.1/3.3");
    // Unavailable withdraws the other one for good.
    let second = h.download("op1", json!({"profileType": "T1"})).await;
    h.call(
        "op1",
        "cancelOrder",
        json!({"iccid": second, "finalProfileStatusIndicator": "Unavailable"}),
    )
    .await
    .ok();
    assert_eq!(h.state(&second).await, OrderState::Unavailable);
    let r = h
        .call("op1", "downloadOrder", json!({"iccid": second}))
        .await;
    assert_eq!(r.code(), "8.2.1/3.3");
}

#[tokio::test]
async fn refusals_carry_their_codes() {
    let h = Harness::new(1).await;
    let code = |r: Reply| {
        assert_eq!(r.http, StatusCode::OK);
        assert_eq!(r.status(), "Failed", "{}", r.body);
        r.code()
    };
    // Caller identity.
    assert_eq!(
        code(
            h.call("none", "downloadOrder", json!({"profileType": "T1"}))
                .await
        ),
        "1.1/1.1"
    );
    assert_eq!(
        code(
            h.call("stranger", "downloadOrder", json!({"profileType": "T1"}))
                .await
        ),
        "1.1/1.1"
    );
    let spoofed = json!({"header": {"functionRequesterIdentifier": "op2", "functionCallIdentifier": "x"}, "profileType": "T1"});
    assert_eq!(
        code(h.call("op1", "downloadOrder", spoofed).await),
        "1.1/1.2"
    );
    let no_header = h
        .raw(
            "op1",
            "downloadOrder",
            None,
            br#"{"profileType":"T1"}"#.to_vec(),
        )
        .await;
    assert_eq!(code(no_header), "1.6/2.2");
    // DownloadOrder.
    assert_eq!(
        code(
            h.call("op1", "downloadOrder", json!({"profileType": "NOPE"}))
                .await
        ),
        "8.2.5/3.9"
    );
    assert_eq!(
        code(
            h.call("op1", "downloadOrder", json!({"profileType": "ONLY-OP2"}))
                .await
        ),
        "8.2.5/1.2"
    );
    assert_eq!(
        code(
            h.call(
                "op2",
                "downloadOrder",
                json!({"profileType": "T1", "iccid": "89882280000000090007"})
            )
            .await
        ),
        "8.2.5/3.8"
    );
    assert_eq!(
        code(
            h.call(
                "op1",
                "downloadOrder",
                json!({"iccid": "89882280000009999992"})
            )
            .await
        ),
        "8.2.1/3.9"
    );
    assert_eq!(
        code(
            h.call("op1", "downloadOrder", json!({"iccid": "1234"}))
                .await
        ),
        "8.2.1/2.1"
    );
    assert_eq!(
        code(
            h.call(
                "op1",
                "downloadOrder",
                json!({"profileType": "T1", "eid": "123"})
            )
            .await
        ),
        "8.1.1/2.1"
    );
    assert_eq!(
        code(h.call("op1", "downloadOrder", json!({})).await),
        "1.6/2.2"
    );
    let iccid = h.download("op1", json!({"profileType": "T1"})).await;
    assert_eq!(
        code(
            h.call("op1", "downloadOrder", json!({"profileType": "T1"}))
                .await
        ),
        "8.2.5/3.7"
    );
    assert_eq!(
        code(
            h.call("op1", "downloadOrder", json!({"iccid": iccid}))
                .await
        ),
        "8.2.1/3.3"
    );
    // ConfirmOrder.
    assert_eq!(
        code(
            h.call("op1", "confirmOrder", json!({"releaseFlag": true}))
                .await
        ),
        "8.2.1/2.2"
    );
    assert_eq!(
        code(h.call("op1", "confirmOrder", json!({"iccid": iccid})).await),
        "1.6/2.2"
    );
    assert_eq!(
        code(
            h.call(
                "op1",
                "confirmOrder",
                json!({"iccid": "89882280000009999992", "releaseFlag": true})
            )
            .await
        ),
        "8.2.1/3.9"
    );
    assert_eq!(
        code(
            h.call(
                "op2",
                "confirmOrder",
                json!({"iccid": iccid, "releaseFlag": true})
            )
            .await
        ),
        "8.2.1/1.2"
    );
    assert_eq!(
        code(
            h.call(
                "op1",
                "confirmOrder",
                json!({"iccid": iccid, "matchingId": "", "releaseFlag": true})
            )
            .await
        ),
        "8.1.1/2.2"
    );
    assert_eq!(
        code(
            h.call(
                "op1",
                "confirmOrder",
                json!({"iccid": iccid, "smdsAddress": "lpa.ds.example.com", "releaseFlag": true})
            )
            .await
        ),
        "8.1.1/2.2"
    );
    // ReleaseProfile before ConfirmOrder.
    assert_eq!(
        code(
            h.call("op1", "releaseProfile", json!({"iccid": iccid}))
                .await
        ),
        "8.2.1/3.5"
    );
    assert_eq!(
        code(h.call("op1", "releaseProfile", json!({})).await),
        "8.2.1/2.2"
    );
    // An EID conflict after linking.
    h.call(
        "op1",
        "confirmOrder",
        json!({"iccid": iccid, "eid": EID, "releaseFlag": false}),
    )
    .await
    .ok();
    assert_eq!(
        code(h.call("op1", "confirmOrder", json!({"iccid": iccid, "eid": "89049032123451234512345678901299", "releaseFlag": false})).await),
        "8.1.1/3.10"
    );
    // Unsupported protocol major.
    let r = h
        .raw(
            "op1",
            "releaseProfile",
            Some("gsma/rsp/v1.0.0"),
            br#"{"iccid":"x"}"#.to_vec(),
        )
        .await;
    assert_eq!(r.admin.as_deref(), Some("gsma/rsp/v2.0.0"));
    assert_eq!(code(r), "1.3.2/3.1");
}

#[tokio::test]
async fn retries_are_idempotent() {
    let h = Harness::new(5).await;
    let body = json!({
        "header": {"functionRequesterIdentifier": "op1", "functionCallIdentifier": "dl-1"},
        "profileType": "T1"
    });
    let first = h.call("op1", "downloadOrder", body.clone()).await;
    first.ok();
    // Same key and request (key order and spacing differ): the same answer, no new order.
    let reordered = br#"{ "profileType" : "T1", "header": {"functionCallIdentifier":"dl-1","functionRequesterIdentifier":"op1"} }"#;
    let again = h
        .raw(
            "op1",
            "downloadOrder",
            Some("gsma/rsp/v2.2.0"),
            reordered.to_vec(),
        )
        .await;
    again.ok();
    assert_eq!(again.body, first.body);
    let next = h.download("op1", json!({"profileType": "T1"})).await;
    let n_first: u64 = first.body["iccid"].as_str().unwrap()[..19].parse().unwrap();
    let n_next: u64 = next[..19].parse().unwrap();
    assert_eq!(n_next, n_first + 1, "the retry did not allocate a profile");
    // Same key, different request.
    let other = json!({
        "header": {"functionRequesterIdentifier": "op1", "functionCallIdentifier": "dl-1"},
        "profileType": "ONLY-OP2"
    });
    assert_eq!(
        h.call("op1", "downloadOrder", other).await.code(),
        "1.6/3.3"
    );
    // The same key from another Operator is another key.
    let op2 = json!({
        "header": {"functionRequesterIdentifier": "op2", "functionCallIdentifier": "dl-1"},
        "profileType": "T1"
    });
    let r = h.call("op2", "downloadOrder", op2).await;
    r.ok();
    assert_ne!(r.body["iccid"], first.body["iccid"]);

    // A ConfirmOrder retry (generated MatchingID) replays the same MatchingID; a failed call
    // replays its failure.
    let iccid = first.body["iccid"].as_str().unwrap();
    let confirm = json!({
        "header": {"functionRequesterIdentifier": "op1", "functionCallIdentifier": "cf-1"},
        "iccid": iccid, "eid": EID, "releaseFlag": true
    });
    let c1 = h.call("op1", "confirmOrder", confirm.clone()).await;
    c1.ok();
    let c2 = h.call("op1", "confirmOrder", confirm).await;
    assert_eq!(c1.body, c2.body);
    // A new call with the same data (new key) is accepted too and keeps the MatchingID.
    let c3 = h
        .call(
            "op1",
            "confirmOrder",
            json!({"iccid": iccid, "eid": EID, "releaseFlag": true}),
        )
        .await;
    c3.ok();
    assert_eq!(c3.body["matchingId"], c1.body["matchingId"]);
    let bad = json!({
        "header": {"functionRequesterIdentifier": "op1", "functionCallIdentifier": "rl-1"},
        "iccid": iccid
    });
    let f1 = h.call("op1", "releaseProfile", bad.clone()).await;
    assert_eq!(f1.code(), "8.2.1/3.5");
    let f2 = h.call("op1", "releaseProfile", bad).await;
    assert_eq!(f2.body, f1.body);
}

#[tokio::test]
async fn lenient_json_and_http_errors() {
    let h = Harness::new(5).await;
    // Unknown fields (also inside the header) are ignored.
    let r = h
        .call(
            "op1",
            "downloadOrder",
            json!({
                "header": {"functionRequesterIdentifier": "op1", "functionCallIdentifier": "u1", "extra": 1},
                "profileType": "T1", "futureV3Field": {"a": [1, 2]}
            }),
        )
        .await;
    r.ok();
    // Not JSON, wrong shape: HTTP 400.
    let r = h
        .raw("op1", "downloadOrder", None, b"{not json".to_vec())
        .await;
    assert_eq!(r.http, StatusCode::BAD_REQUEST);
    let r = h
        .raw(
            "op1",
            "downloadOrder",
            None,
            br#"{"profileType": 5}"#.to_vec(),
        )
        .await;
    assert_eq!(r.http, StatusCode::BAD_REQUEST);
    // Wrong method: 405; unknown function: 404.
    let req = Request::builder()
        .method(Method::GET)
        .uri("/gsma/rsp2/es2plus/downloadOrder")
        .body(Body::empty())
        .unwrap();
    assert_eq!(
        h.app.clone().oneshot(req).await.unwrap().status(),
        StatusCode::METHOD_NOT_ALLOWED
    );
    let r = h
        .raw("op1", "handleDownloadProgressInfo", None, b"{}".to_vec())
        .await;
    assert_eq!(r.http, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn admin_protocol_is_answered_with_the_common_version() {
    let h = Harness::new(5).await;
    let body = |f: &str| {
        json!({"header": {"functionRequesterIdentifier": "op1", "functionCallIdentifier": f}, "profileType": "T1"})
            .to_string()
            .into_bytes()
    };
    for (sent, answered) in [
        (Some("gsma/rsp/v2.2.2"), "gsma/rsp/v2.2.2"),
        (Some("gsma/rsp/v3.1.0"), "gsma/rsp/v2.5.0"),
        (Some("gsma/rsp/v2.1"), "gsma/rsp/v2.1.0"),
        (None, "gsma/rsp/v2.0.0"),
        (Some("nonsense"), "gsma/rsp/v2.0.0"),
    ] {
        let r = h
            .raw("op1", "downloadOrder", sent, body(&format!("{sent:?}")))
            .await;
        r.ok();
        assert_eq!(r.admin.as_deref(), Some(answered), "{sent:?}");
    }
}

#[tokio::test]
async fn orders_survive_reopening_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("smdpp.db").display()
    );
    let confirm = json!({
        "header": {"functionRequesterIdentifier": "op1", "functionCallIdentifier": "persist-1"},
        "iccid": "89882280000000001004", "eid": EID, "releaseFlag": false
    });
    let first;
    {
        let store = rsp_store::open(&url).await.unwrap();
        let h = Harness::with_store(store.clone(), 2);
        h.download("op1", json!({"iccid": "89882280000000001004"}))
            .await;
        first = h.call("op1", "confirmOrder", confirm.clone()).await;
        first.ok();
        store.close().await;
    }
    let store = rsp_store::open(&url).await.unwrap();
    let h = Harness::with_store(store, 2);
    h.fcid.set(100);
    assert_eq!(h.state("89882280000000001004").await, OrderState::Confirmed);
    // The idempotency record survived too.
    let again = h.call("op1", "confirmOrder", confirm).await;
    assert_eq!(again.body, first.body);
    h.call(
        "op1",
        "releaseProfile",
        json!({"iccid": "89882280000000001004"}),
    )
    .await
    .ok();
    assert_eq!(h.state("89882280000000001004").await, OrderState::Released);
}
