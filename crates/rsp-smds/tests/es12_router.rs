//! ES12 / ES15 through the router (tower oneshot, the client certificate as a request
//! extension): registration, duplicates, deletion by the registrant only, malformed and
//! oversized input, caller checks, X-Admin-Protocol, the per-EID limit, restart survival.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use rsp_crypto::x509::Sgp22Role;
use rsp_sgp22::json::HeaderOnly;
use rsp_sgp22::json_smds::RegisterEventRequest;
use rsp_smds::caller::PeerCertificate;
use rsp_smds::es12::{self, SmdsConfig, SmdsService};
use rsp_smds::event::{EVENT_KIND, EventStore, event_row_id};
use rsp_types::StatusCode as Code;
use rsp_types::codes::sgp22::status;
use tower::ServiceExt;

struct Env {
    _dir: tempfile::TempDir,
    service: Arc<SmdsService>,
    dp: Vec<u8>,
    dp2: Vec<u8>,
}

async fn env_with(max: usize) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite(&dir, "smds.db").await;
    let mut config = SmdsConfig::root("root.smds.test", ROOT_OID);
    config.max_events_per_eid = max;
    Env {
        _dir: dir,
        service: Arc::new(SmdsService::new(EventStore::new(store), config)),
        dp: Identity::mint(Sgp22Role::DpTls, "smdp.test", DP_OID)
            .cert
            .der()
            .to_vec(),
        dp2: Identity::mint(Sgp22Role::DpTls, "smdp2.test", DP2_OID)
            .cert
            .der()
            .to_vec(),
    }
}

async fn env() -> Env {
    env_with(32).await
}

struct Reply {
    http: StatusCode,
    admin: Option<String>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self) -> HeaderOnly {
        serde_json::from_slice(&self.body).unwrap()
    }
    fn ok(&self) -> bool {
        self.http == StatusCode::OK && self.header().header.function_execution_status.is_executed()
    }
    fn code(&self) -> Option<Code> {
        self.header().header.function_execution_status.code()
    }
}

async fn post(
    env: &Env,
    path: &str,
    cert: Option<&[u8]>,
    admin: Option<&str>,
    body: Vec<u8>,
) -> Reply {
    let mut req = Request::post(path).header("content-type", "application/json");
    if let Some(a) = admin {
        req = req.header("X-Admin-Protocol", a);
    }
    let mut req = req.body(Body::from(body)).unwrap();
    if let Some(c) = cert {
        req.extensions_mut().insert(PeerCertificate(c.to_vec()));
    }
    let resp = es12::router(env.service.clone())
        .oneshot(req)
        .await
        .unwrap();
    let http = resp.status();
    let admin = resp
        .headers()
        .get("X-Admin-Protocol")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap()
        .to_vec();
    Reply { http, admin, body }
}

async fn reg(env: &Env, cert: &[u8], r: &RegisterEventRequest) -> Reply {
    post(
        env,
        "/gsma/rsp2/es12/registerEvent",
        Some(cert),
        Some("gsma/rsp/v2.2.0"),
        serde_json::to_vec(r).unwrap(),
    )
    .await
}

async fn del(env: &Env, cert: &[u8], r: &rsp_sgp22::json_smds::DeleteEventRequest) -> Reply {
    post(
        env,
        "/gsma/rsp2/es12/deleteEvent",
        Some(cert),
        Some("gsma/rsp/v2.2.0"),
        serde_json::to_vec(r).unwrap(),
    )
    .await
}

#[tokio::test]
async fn register_then_delete_by_the_registrant_only() {
    let env = env().await;
    let r = reg(
        &env,
        &env.dp,
        &register(DP_OID, EID1, "smdp.test", "EV-1", false),
    )
    .await;
    assert!(r.ok(), "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.admin.as_deref(), Some("gsma/rsp/v2.2.0"));
    let ev = env.service.events.get("EV-1").await.unwrap().unwrap();
    assert!(ev.live);
    assert_eq!(ev.data.registrant, DP_OID);
    assert_eq!(ev.data.eid, EID1);
    assert_eq!(ev.data.rsp_server_address, "smdp.test");
    assert!(!ev.data.forwarding_indicator);
    let row = env
        .service
        .events
        .store()
        .load_procedure(&event_row_id("EV-1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.kind, EVENT_KIND);
    assert_eq!(row.correlation.as_deref(), Some(EID1));

    // Same data again from the registrant: accepted, nothing changes.
    assert!(
        reg(
            &env,
            &env.dp,
            &register(DP_OID, EID1, "smdp.test", "EV-1", false)
        )
        .await
        .ok()
    );
    // Same EventID with other data, or from another SM-DP+: in use.
    let r = reg(
        &env,
        &env.dp,
        &register(DP_OID, EID1, "other.test", "EV-1", false),
    )
    .await;
    assert_eq!(r.code(), Some(es12::EVENT_ID_IN_USE));
    let r = reg(
        &env,
        &env.dp2,
        &register(DP2_OID, EID1, "smdp.test", "EV-1", false),
    )
    .await;
    assert_eq!(r.code(), Some(es12::EVENT_ID_IN_USE));

    // A foreign registrant may not delete; a wrong EID does not find it.
    let r = del(&env, &env.dp2, &delete(DP2_OID, EID1, "EV-1")).await;
    assert_eq!(r.code(), Some(es12::NOT_REGISTRANT));
    let r = del(&env, &env.dp, &delete(DP_OID, EID2, "EV-1")).await;
    assert_eq!(r.code(), Some(es12::EVENT_UNKNOWN));
    assert!(env.service.events.get("EV-1").await.unwrap().unwrap().live);

    let r = del(&env, &env.dp, &delete(DP_OID, EID1, "EV-1")).await;
    assert!(r.ok());
    let ev = env.service.events.get("EV-1").await.unwrap().unwrap();
    assert!(!ev.live && ev.data.deleted_at.is_some());
    assert!(
        env.service
            .events
            .live_for_eid(EID1)
            .await
            .unwrap()
            .is_empty()
    );
    // A retried delete is done; the foreign one still refused; the EventID stays taken.
    assert!(del(&env, &env.dp, &delete(DP_OID, EID1, "EV-1")).await.ok());
    assert_eq!(
        del(&env, &env.dp2, &delete(DP2_OID, EID1, "EV-1"))
            .await
            .code(),
        Some(es12::NOT_REGISTRANT)
    );
    assert_eq!(
        reg(
            &env,
            &env.dp2,
            &register(DP2_OID, EID1, "smdp.test", "EV-1", false)
        )
        .await
        .code(),
        Some(es12::EVENT_ID_IN_USE)
    );
    assert_eq!(
        del(&env, &env.dp, &delete(DP_OID, EID1, "NOPE"))
            .await
            .code(),
        Some(es12::EVENT_UNKNOWN)
    );
}

#[tokio::test]
async fn malformed_requests_get_their_codes() {
    let env = env().await;
    let cases: Vec<(RegisterEventRequest, Code)> = vec![
        (
            RegisterEventRequest {
                eid: None,
                ..register(DP_OID, EID1, "smdp.test", "E", false)
            },
            es12::EID_MISSING,
        ),
        (
            register(DP_OID, "8904903212345", "smdp.test", "E", false),
            es12::EID_INVALID,
        ),
        (
            register(
                DP_OID,
                "8904903212345123451234567890123X",
                "smdp.test",
                "E",
                false,
            ),
            es12::EID_INVALID,
        ),
        (
            RegisterEventRequest {
                rsp_server_address: None,
                ..register(DP_OID, EID1, "x", "E", false)
            },
            es12::ADDRESS_MISSING,
        ),
        (
            register(DP_OID, EID1, "smdp..test", "E", false),
            es12::ADDRESS_INVALID,
        ),
        (
            register(DP_OID, EID1, "https://smdp.test/", "E", false),
            es12::ADDRESS_INVALID,
        ),
        (
            register(DP_OID, EID1, "smdp.test:0", "E", false),
            es12::ADDRESS_INVALID,
        ),
        (
            register(DP_OID, EID1, &"a".repeat(300), "E", false),
            es12::ADDRESS_INVALID,
        ),
        (
            RegisterEventRequest {
                event_id: None,
                ..register(DP_OID, EID1, "smdp.test", "E", false)
            },
            es12::EVENT_ID_MISSING,
        ),
        (
            register(DP_OID, EID1, "smdp.test", "", false),
            es12::EVENT_ID_INVALID,
        ),
        (
            register(DP_OID, EID1, "smdp.test", "E V", false),
            es12::EVENT_ID_INVALID,
        ),
        (
            register(DP_OID, EID1, "smdp.test", &"E".repeat(65), false),
            es12::EVENT_ID_INVALID,
        ),
        (
            RegisterEventRequest {
                forwarding_indicator: None,
                ..register(DP_OID, EID1, "smdp.test", "E", false)
            },
            status::MISSING_PARAMETER,
        ),
        (
            RegisterEventRequest {
                header: None,
                ..register(DP_OID, EID1, "smdp.test", "E", false)
            },
            status::MISSING_PARAMETER,
        ),
        (
            register(DP2_OID, EID1, "smdp.test", "E", false),
            status::CALLER_NOT_ALLOWED,
        ),
    ];
    for (req, code) in cases {
        let r = reg(&env, &env.dp, &req).await;
        assert_eq!(r.http, StatusCode::OK);
        assert_eq!(r.code(), Some(code), "{req:?}");
    }
    assert!(
        env.service
            .events
            .live_for_eid(EID1)
            .await
            .unwrap()
            .is_empty()
    );
    // A port is a valid part of the address.
    assert!(
        reg(
            &env,
            &env.dp,
            &register(DP_OID, EID1, "127.0.0.1:8443", "E", false)
        )
        .await
        .ok()
    );

    // Not JSON → 400; a too large body → 413; no certificate or a garbage one → 1.1/1.1.
    let path = "/gsma/rsp2/es12/registerEvent";
    assert_eq!(
        post(&env, path, Some(&env.dp), None, b"{not json".to_vec())
            .await
            .http,
        StatusCode::BAD_REQUEST
    );
    let mut big = register(DP_OID, EID1, "smdp.test", "BIG", false);
    big.header.as_mut().unwrap().function_call_identifier = "x".repeat(20_000);
    assert_eq!(
        post(
            &env,
            path,
            Some(&env.dp),
            None,
            serde_json::to_vec(&big).unwrap()
        )
        .await
        .http,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    let body = serde_json::to_vec(&register(DP_OID, EID1, "smdp.test", "N", false)).unwrap();
    assert_eq!(
        post(&env, path, None, None, body.clone()).await.code(),
        Some(status::CALLER_UNKNOWN)
    );
    assert_eq!(
        post(&env, path, Some(b"junk"), None, body).await.code(),
        Some(status::CALLER_UNKNOWN)
    );
    assert!(env.service.events.get("N").await.unwrap().is_none());
}

#[tokio::test]
async fn admin_protocol_is_read_and_honoured() {
    let env = env().await;
    let body = serde_json::to_vec(&register(DP_OID, EID1, "smdp.test", "A1", false)).unwrap();
    let path = "/gsma/rsp2/es12/registerEvent";
    // A v1 caller is refused, answered in our lowest version.
    let r = post(
        &env,
        path,
        Some(&env.dp),
        Some("gsma/rsp/v1.0.0"),
        body.clone(),
    )
    .await;
    assert_eq!(r.code(), Some(status::UNSUPPORTED_PROTOCOL_VERSION));
    assert_eq!(r.admin.as_deref(), Some("gsma/rsp/v2.0.0"));
    assert!(env.service.events.get("A1").await.unwrap().is_none());
    // A v3 caller gets our version (the lower side decides); none → our lowest.
    let r = post(
        &env,
        path,
        Some(&env.dp),
        Some("gsma/rsp/v3.1.0"),
        body.clone(),
    )
    .await;
    assert!(r.ok());
    assert_eq!(r.admin.as_deref(), Some("gsma/rsp/v2.5.0"));
    let r = post(
        &env,
        "/gsma/rsp2/es12/deleteEvent",
        Some(&env.dp),
        None,
        serde_json::to_vec(&delete(DP_OID, EID1, "A1")).unwrap(),
    )
    .await;
    assert!(r.ok());
    assert_eq!(r.admin.as_deref(), Some("gsma/rsp/v2.0.0"));
}

#[tokio::test]
async fn per_eid_limit_and_es15_policy() {
    let env = env_with(2).await;
    for i in 0..2 {
        assert!(
            reg(
                &env,
                &env.dp,
                &register(DP_OID, EID1, "smdp.test", &format!("L{i}"), false)
            )
            .await
            .ok()
        );
    }
    let r = reg(
        &env,
        &env.dp,
        &register(DP_OID, EID1, "smdp.test", "L2", false),
    )
    .await;
    assert_eq!(r.code(), Some(es12::TOO_MANY_EVENTS));
    // Another EID is not affected; deleting one frees a place.
    assert!(
        reg(
            &env,
            &env.dp,
            &register(DP_OID, EID2, "smdp.test", "M0", false)
        )
        .await
        .ok()
    );
    assert!(del(&env, &env.dp, &delete(DP_OID, EID1, "L0")).await.ok());
    assert!(
        reg(
            &env,
            &env.dp,
            &register(DP_OID, EID1, "smdp.test", "L2", false)
        )
        .await
        .ok()
    );

    // ES15 limited to the Alternative SM-DS: an SM-DP+ certificate is refused there.
    let mut svc = (*env.service).clone();
    svc.callers.es15 = Some([ALT_OID.to_string()].into());
    let env2 = Env {
        service: Arc::new(svc),
        ..env
    };
    let body = serde_json::to_vec(&register(DP_OID, EID1, "smdp.test", "X15", false)).unwrap();
    let r = post(
        &env2,
        "/gsma/rsp2/es15/registerEvent",
        Some(&env2.dp),
        None,
        body,
    )
    .await;
    assert_eq!(r.code(), Some(status::CALLER_UNKNOWN));
}

#[tokio::test]
async fn events_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let dp = Identity::mint(Sgp22Role::DpTls, "smdp.test", DP_OID)
        .cert
        .der()
        .to_vec();
    {
        let store = sqlite(&dir, "smds.db").await;
        let service = Arc::new(SmdsService::new(
            EventStore::new(store.clone()),
            SmdsConfig::root("root.smds.test", ROOT_OID),
        ));
        let env = Env {
            _dir: tempfile::tempdir().unwrap(),
            service,
            dp: dp.clone(),
            dp2: vec![],
        };
        assert!(
            reg(&env, &dp, &register(DP_OID, EID1, "smdp.test", "R1", false))
                .await
                .ok()
        );
        assert!(
            reg(&env, &dp, &register(DP_OID, EID1, "smdp.test", "R2", false))
                .await
                .ok()
        );
        assert!(del(&env, &dp, &delete(DP_OID, EID1, "R2")).await.ok());
        store.close().await;
    }
    let store = sqlite(&dir, "smds.db").await;
    let events = EventStore::new(store.clone());
    let live = events.live_for_eid(EID1).await.unwrap();
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].event_id, "R1");
    assert_eq!(live[0].registrant, DP_OID);
    assert!(!events.get("R2").await.unwrap().unwrap().live);
    // The reopened SM-DS still knows the registrant.
    let service = Arc::new(SmdsService::new(
        events,
        SmdsConfig::root("root.smds.test", ROOT_OID),
    ));
    let env = Env {
        _dir: tempfile::tempdir().unwrap(),
        service,
        dp: dp.clone(),
        dp2: vec![],
    };
    assert!(del(&env, &dp, &delete(DP_OID, EID1, "R1")).await.ok());
}
