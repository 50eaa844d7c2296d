//! ES12 end to end: a real rsp-smds SM-DS (its ES12 router over mutual TLS on 127.0.0.1, a
//! SQLite event store in a tempdir) and the SM-DP+'s ES2+ order flow (the router, the Operator's
//! certificate inserted as the listener would). ConfirmOrder / ReleaseProfile with an
//! `smdsAddress` queue a RegisterEvent in the order's batch; the Es12Worker delivers it with the
//! SM-DP+'s client certificate (CERT.DP.TLS minted under the SGP.26 CI, SAN registeredID = the
//! SM-DP+ OID); CancelOrder and installation success queue the DeleteEvent. Every assertion is on
//! the SM-DS's own event store.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request};
use rsp_crypto::ecc::{Curve, PrivateKey};
use rsp_crypto::pki;
use rsp_crypto::x509::{Certificate, Sgp22Role};
use rsp_sgp22::TransactionId;
use rsp_smdpp::es2plus::{Es2Plus, OperatorDirectory, OperatorEntry, PeerCertificate, router};
use rsp_smdpp::es12::{self, DELETE_OUTBOX_KIND, Es12Worker, EventRegistrar, REGISTER_OUTBOX_KIND};
use rsp_smdpp::inventory::{IccidRange, Inventory, ProfileMetadata, ProfileTypeConfig};
use rsp_smdpp::order::{InstallationOutcome, OrderState, Orders};
use rsp_smds::es12::{SmdsConfig, SmdsService};
use rsp_smds::event::{EventStore, StoredEvent};
use rsp_store::{OutboxStatus, Store};
use rsp_types::{Eid, Iccid, Svn};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::{Value, json};
use sha2::Digest;
use time::{Duration, OffsetDateTime};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tower::ServiceExt;

const EID: &str = "89049032123451234512345678901235";
const DP_OID: &str = "2.999.10";
const SMDP_ADDRESS: &str = "smdp.example.com";

fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{path}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn ci() -> (Certificate, PrivateKey) {
    (
        Certificate::from_der(&fixture("sgp26/CERT_CI_ECDSA_NIST.der")).unwrap(),
        PrivateKey::from_pem(&String::from_utf8(fixture("sgp26/SK_CI_ECDSA_NIST.pem")).unwrap())
            .unwrap(),
    )
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// A TLS identity minted under the SGP.26 CI, with entity OID `oid`.
struct Identity {
    cert: Certificate,
    key: PrivateKey,
}

impl Identity {
    fn mint(role: Sgp22Role, fqdn: &str, oid: &str) -> Identity {
        let (ci, ci_key) = ci();
        let key = PrivateKey::generate(Curve::NistP256).unwrap();
        let t = OffsetDateTime::now_utc();
        let cert = pki::issue_sgp22_tls_certificate(
            &ci,
            &ci_key,
            &key,
            role,
            fqdn,
            &["localhost"],
            Some(oid),
            t - Duration::hours(1),
            t + Duration::days(30),
        )
        .unwrap();
        Identity { cert, key }
    }

    /// A server configuration requiring a client certificate under the CI.
    fn server_config(&self) -> Arc<rustls::ServerConfig> {
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from(ci().0.der().to_vec()))
            .unwrap();
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
            Arc::new(roots),
            provider(),
        )
        .build()
        .unwrap();
        let mut cfg = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_client_cert_verifier(verifier)
            .with_single_cert(
                vec![CertificateDer::from(self.cert.der().to_vec())],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key.to_pkcs8_der().to_vec())),
            )
            .unwrap();
        cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Arc::new(cfg)
    }

    /// The SM-DP+'s ES12 HTTP client presenting this identity, trusting the CI.
    fn es12_client(&self) -> reqwest::Client {
        let tls = es12::tls_client_config(
            vec![self.cert.der().to_vec()],
            self.key.to_pkcs8_der().to_vec(),
            &[ci().0.der().to_vec()],
        )
        .unwrap();
        es12::http_client(tls).unwrap()
    }
}

/// The SM-DS: a Root (no forwarding) accepting ES12 only from the SM-DP+'s OID.
struct Smds {
    service: Arc<SmdsService>,
    identity: Identity,
    addr: SocketAddr,
    running: Option<(
        oneshot::Sender<()>,
        tokio::task::JoinHandle<std::io::Result<()>>,
    )>,
}

impl Smds {
    async fn new(dir: &tempfile::TempDir) -> Smds {
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("smds.db").display());
        let store = rsp_store::open(&url).await.unwrap();
        let mut service = SmdsService::new(
            EventStore::new(store),
            SmdsConfig::root("smds.test", "2.999.15"),
        );
        service.callers.es12 = Some([DP_OID.to_string()].into());
        // Reserve a port, then release it: the SM-DS is down until `start`.
        let probe = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = probe.local_addr().unwrap();
        drop(probe);
        Smds {
            service: Arc::new(service),
            identity: Identity::mint(Sgp22Role::DsTls, "smds.test", "2.999.15"),
            addr,
            running: None,
        }
    }

    async fn start(&mut self) {
        let tcp = TcpListener::bind(self.addr).await.unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(rsp_smds::server::serve(
            tcp,
            self.identity.server_config(),
            rsp_smds::es12::router(self.service.clone()),
            async move {
                let _ = rx.await;
            },
        ));
        self.running = Some((tx, task));
    }

    async fn stop(&mut self) {
        if let Some((tx, task)) = self.running.take() {
            let _ = tx.send(());
            let _ = tokio::time::timeout(std::time::Duration::from_secs(5), task).await;
        }
    }

    /// The `smdsAddress` an Operator gives: `host:port`.
    fn address(&self) -> String {
        format!("127.0.0.1:{}", self.addr.port())
    }

    async fn event(&self, id: &str) -> Option<StoredEvent> {
        self.service.events.get(id).await.unwrap()
    }
}

fn op_cert() -> Vec<u8> {
    fixture("sgp26/CERT_S_SM_DPauth_ECDSA_NIST.der")
}

fn inventory() -> Inventory {
    Inventory::new(vec![ProfileTypeConfig {
        name: "T1".into(),
        template: fixture("profiles/SAIP2.3_NoBERTLV.der"),
        iccids: IccidRange {
            first: Iccid::with_luhn("8988228000000000100").unwrap(),
            count: 8,
        },
        package_versions: vec![Svn::new(2, 3, 0)],
        operators: None,
        metadata: ProfileMetadata::default(),
    }])
    .unwrap()
}

/// The SM-DP+: ES2+ with SM-DS events, its store, its ES12 worker.
struct Smdp {
    app: axum::Router,
    store: Arc<dyn Store>,
    orders: Orders,
    registrar: Arc<EventRegistrar>,
    worker: Es12Worker,
    fcid: std::cell::Cell<u32>,
}

impl Smdp {
    async fn new() -> Smdp {
        let store = rsp_store::open("sqlite::memory:").await.unwrap();
        let directory = OperatorDirectory::new(vec![OperatorEntry {
            id: "op1".into(),
            certificate_sha256: vec![sha2::Sha256::digest(op_cert()).into()],
            subject_common_names: vec![],
            callback_url: None,
        }]);
        let registrar = Arc::new(EventRegistrar::new(DP_OID, SMDP_ADDRESS));
        let es2 = Es2Plus::new(
            store.clone(),
            Arc::new(inventory()),
            Arc::new(directory),
            SMDP_ADDRESS,
        )
        .with_smds_events(registrar.clone());
        let dp_tls = Identity::mint(Sgp22Role::DpTls, SMDP_ADDRESS, DP_OID);
        let mut worker = Es12Worker::new(
            store.clone(),
            dp_tls.es12_client(),
            Svn::new(2, 5, 0),
            "smdp-node",
        );
        worker.round.backoff = |_| Duration::seconds(1);
        Smdp {
            app: router(es2),
            orders: Orders::new(store.clone()),
            store,
            registrar,
            worker,
            fcid: std::cell::Cell::new(0),
        }
    }

    async fn call(&self, function: &str, mut body: Value) -> Value {
        self.fcid.set(self.fcid.get() + 1);
        body["header"] = json!({
            "functionRequesterIdentifier": "op1",
            "functionCallIdentifier": format!("fcid-{}", self.fcid.get()),
        });
        let mut req = Request::builder()
            .method(Method::POST)
            .uri(format!("/gsma/rsp2/es2plus/{function}"))
            .header("content-type", "application/json;charset=UTF-8")
            .header("X-Admin-Protocol", "gsma/rsp/v2.5.0")
            .body(Body::from(body.to_string()))
            .unwrap();
        req.extensions_mut().insert(PeerCertificate(op_cert()));
        let resp = self.app.clone().oneshot(req).await.unwrap();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    /// DownloadOrder (EID given) then ConfirmOrder; returns (ICCID, MatchingID).
    async fn order(&self, smds: Option<&str>, release: bool) -> (String, String) {
        let r = self
            .call("downloadOrder", json!({"eid": EID, "profileType": "T1"}))
            .await;
        assert_eq!(status(&r), "Executed-Success", "{r}");
        let iccid = r["iccid"].as_str().unwrap().to_owned();
        let mut confirm = json!({"iccid": iccid, "releaseFlag": release});
        if let Some(a) = smds {
            confirm["smdsAddress"] = json!(a);
        }
        let r = self.call("confirmOrder", confirm).await;
        assert_eq!(status(&r), "Executed-Success", "{r}");
        (iccid, r["matchingId"].as_str().unwrap().to_owned())
    }

    /// Pending outbox messages of `kind` (read without claiming: ids count from 1 in a fresh
    /// store).
    async fn pending(&self, kind: &str) -> usize {
        let mut n = 0;
        for id in 1..=64 {
            if let Some(m) = self.store.get_outbox_message(id).await.unwrap()
                && m.kind == kind
                && m.status == OutboxStatus::Pending
            {
                n += 1;
            }
        }
        n
    }
}

fn status(v: &Value) -> &str {
    v["header"]["functionExecutionStatus"]["status"]
        .as_str()
        .unwrap_or("")
}

fn code(v: &Value) -> String {
    let d = &v["header"]["functionExecutionStatus"]["statusCodeData"];
    format!(
        "{}/{}",
        d["subjectCode"].as_str().unwrap_or("-"),
        d["reasonCode"].as_str().unwrap_or("-")
    )
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confirm_registers_and_cancel_deletes_at_the_smds_after_it_comes_up() {
    let dir = tempfile::tempdir().unwrap();
    let mut smds = Smds::new(&dir).await;
    let dp = Smdp::new().await;

    // ConfirmOrder with releaseFlag true and an smdsAddress: RegisterEvent queued in the batch.
    let (iccid, matching_id) = dp.order(Some(&smds.address()), true).await;
    assert_eq!(dp.pending(REGISTER_OUTBOX_KIND).await, 1);

    // The SM-DS is down: the worker retries.
    let t0 = now();
    let r = dp.worker.run_once(t0).await.unwrap();
    assert_eq!((r.delivered, r.retried, r.dead), (0, 1, 0));
    assert!(smds.event(&matching_id).await.is_none());

    // Not due yet (backoff), even with the SM-DS up.
    smds.start().await;
    let r = dp.worker.run_once(t0).await.unwrap();
    assert_eq!(r.delivered, 0);
    // After the backoff: delivered over mutual TLS.
    let r = dp.worker.run_once(t0 + Duration::seconds(2)).await.unwrap();
    assert_eq!((r.delivered, r.retried, r.dead), (1, 0, 0));
    let ev = smds.event(&matching_id).await.expect("registered");
    assert!(ev.live);
    assert_eq!(ev.data.eid, EID);
    assert_eq!(ev.data.event_id, matching_id);
    assert_eq!(ev.data.rsp_server_address, SMDP_ADDRESS);
    assert_eq!(
        ev.data.registrant, DP_OID,
        "the registrant is the client cert's OID"
    );
    assert!(ev.data.forwarding_indicator);
    // Nothing left to send.
    let r = dp
        .worker
        .run_once(t0 + Duration::seconds(10))
        .await
        .unwrap();
    assert_eq!(r, Default::default());

    // CancelOrder: DeleteEvent queued with the order update, delivered, the event is gone.
    let r = dp
        .call(
            "cancelOrder",
            json!({"iccid": iccid, "finalProfileStatusIndicator": "Available"}),
        )
        .await;
    assert_eq!(status(&r), "Executed-Success", "{r}");
    assert_eq!(dp.pending(DELETE_OUTBOX_KIND).await, 1);
    let r = dp
        .worker
        .run_once(t0 + Duration::seconds(11))
        .await
        .unwrap();
    assert_eq!((r.delivered, r.dead), (1, 0));
    assert!(!smds.event(&matching_id).await.unwrap().live);
    smds.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn release_registers_and_installation_success_deletes() {
    let dir = tempfile::tempdir().unwrap();
    let mut smds = Smds::new(&dir).await;
    smds.start().await;
    let dp = Smdp::new().await;

    // ConfirmOrder without release: nothing yet (the profile is not downloadable).
    let (iccid, matching_id) = dp.order(Some(&smds.address()), false).await;
    assert_eq!(dp.pending(REGISTER_OUTBOX_KIND).await, 0);
    let r = dp.call("releaseProfile", json!({"iccid": iccid})).await;
    assert_eq!(status(&r), "Executed-Success", "{r}");
    let r = dp.worker.run_once(now()).await.unwrap();
    assert_eq!(r.delivered, 1);
    assert!(smds.event(&matching_id).await.unwrap().live);

    // The download runs (as ES9+ does it on the order) and the installation succeeds: the
    // order update carries the DeleteEvent.
    let iccid: Iccid = iccid.parse().unwrap();
    let tid = TransactionId::new(&[7; 16]).unwrap();
    let eid = Eid::parse_relaxed(EID).unwrap();
    let before = dp.orders.get(&iccid).await.unwrap().unwrap();
    let mut downloading = before.clone();
    downloading
        .order
        .begin_download(&eid, tid.clone(), now())
        .unwrap();
    downloading.order.mark_downloaded(&tid, None).unwrap();
    let extra = dp.registrar.writes(&before.order, &downloading.order);
    assert!(extra.is_empty(), "still downloadable: the event stays");
    let downloading = dp.orders.save(&downloading, extra, now()).await.unwrap();
    let mut installed = downloading.clone();
    installed
        .order
        .apply_installation_result(&tid, InstallationOutcome::Success)
        .unwrap();
    assert_eq!(installed.order.state, OrderState::Installed);
    let extra = dp.registrar.writes(&downloading.order, &installed.order);
    dp.orders.save(&installed, extra, now()).await.unwrap();
    let r = dp.worker.run_once(now()).await.unwrap();
    assert_eq!(r.delivered, 1);
    assert!(!smds.event(&matching_id).await.unwrap().live);
    smds.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_smds_address_no_message_and_bad_addresses_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut smds = Smds::new(&dir).await;
    smds.start().await;
    let dp = Smdp::new().await;

    let (iccid, matching_id) = dp.order(None, true).await;
    let r = dp
        .call(
            "cancelOrder",
            json!({"iccid": iccid, "finalProfileStatusIndicator": "Available"}),
        )
        .await;
    assert_eq!(status(&r), "Executed-Success", "{r}");
    assert_eq!(dp.pending(REGISTER_OUTBOX_KIND).await, 0);
    assert_eq!(dp.pending(DELETE_OUTBOX_KIND).await, 0);
    assert_eq!(dp.worker.run_once(now()).await.unwrap(), Default::default());
    assert!(smds.event(&matching_id).await.is_none());

    // A cancel before release never deletes an event that was never registered.
    let (iccid, _) = dp.order(Some(&smds.address()), false).await;
    let r = dp
        .call(
            "cancelOrder",
            json!({"iccid": iccid, "finalProfileStatusIndicator": "Available"}),
        )
        .await;
    assert_eq!(status(&r), "Executed-Success", "{r}");
    assert_eq!(dp.pending(DELETE_OUTBOX_KIND).await, 0);

    // A malformed smdsAddress, or an smdsAddress with no MatchingID, is refused.
    let r = dp
        .call("downloadOrder", json!({"eid": EID, "profileType": "T1"}))
        .await;
    let iccid = r["iccid"].as_str().unwrap().to_owned();
    let r = dp
        .call(
            "confirmOrder",
            json!({"iccid": iccid, "releaseFlag": true, "smdsAddress": "http://smds.test"}),
        )
        .await;
    assert_eq!((status(&r), code(&r).as_str()), ("Failed", "8.9.1/2.1"));
    let r = dp
        .call(
            "confirmOrder",
            json!({"iccid": iccid, "releaseFlag": true, "smdsAddress": "smds.test", "matchingId": ""}),
        )
        .await;
    assert_eq!((status(&r), code(&r).as_str()), ("Failed", "8.2.6/2.1"));
    // An explicit https URL is accepted.
    let r = dp
        .call(
            "confirmOrder",
            json!({"iccid": iccid, "releaseFlag": true,
                   "smdsAddress": format!("https://{}/", smds.address())}),
        )
        .await;
    assert_eq!(status(&r), "Executed-Success", "{r}");
    let matching_id = r["matchingId"].as_str().unwrap().to_owned();
    assert_eq!(dp.worker.run_once(now()).await.unwrap().delivered, 1);
    assert!(smds.event(&matching_id).await.unwrap().live);
    smds.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_definitive_refusal_ends_the_message_and_an_overtaken_registration_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let mut smds = Smds::new(&dir).await;
    let dp = Smdp::new().await;

    // Registered while the SM-DS is down, then cancelled: the DeleteEvent overtakes the
    // registration; the SM-DS answers 8.9.5/3.9 (never saw it) = done, and the registration is
    // dropped unsent, leaving no stale event.
    let (iccid, matching_id) = dp.order(Some(&smds.address()), true).await;
    let t0 = now();
    assert_eq!(dp.worker.run_once(t0).await.unwrap().retried, 1);
    let r = dp
        .call(
            "cancelOrder",
            json!({"iccid": iccid, "finalProfileStatusIndicator": "Available"}),
        )
        .await;
    assert_eq!(status(&r), "Executed-Success", "{r}");
    smds.start().await;
    let r = dp.worker.run_once(t0 + Duration::seconds(5)).await.unwrap();
    assert_eq!((r.delivered, r.dropped, r.dead), (1, 1, 0), "{r:?}");
    assert!(smds.event(&matching_id).await.is_none());

    // The same EventID registered by another SM-DP+ first: the SM-DS refuses ours (8.9.5/3.3),
    // which ends the message at once as a dead letter (no endless retries).
    let (iccid2, matching_id2) = {
        let r = dp
            .call("downloadOrder", json!({"eid": EID, "profileType": "T1"}))
            .await;
        (
            r["iccid"].as_str().unwrap().to_owned(),
            "EV-TAKEN".to_owned(),
        )
    };
    let other = Identity::mint(Sgp22Role::DpTls, "other.smdp.test", "2.999.11");
    let mut svc = (*smds.service).clone();
    svc.callers.es12 = None;
    svc.register_event(
        rsp_smds::es12::Interface::Es12,
        &rsp_smds::caller::CallerIdentity::of_certificate(other.cert.der()).unwrap(),
        &rsp_sgp22::json_smds::RegisterEventRequest {
            header: Some(rsp_sgp22::json::RequestHeader {
                function_requester_identifier: "2.999.11".into(),
                function_call_identifier: "x".into(),
            }),
            eid: Some(EID.into()),
            rsp_server_address: Some("other.smdp.test".into()),
            event_id: Some(matching_id2.clone()),
            forwarding_indicator: Some(false),
        },
    )
    .await
    .unwrap();
    let r = dp
        .call(
            "confirmOrder",
            json!({"iccid": iccid2, "releaseFlag": true, "matchingId": matching_id2,
                   "smdsAddress": smds.address()}),
        )
        .await;
    assert_eq!(status(&r), "Executed-Success", "{r}");
    let r = dp.worker.run_once(t0 + Duration::seconds(6)).await.unwrap();
    assert_eq!((r.delivered, r.retried, r.dead), (0, 0, 1), "{r:?}");
    let dead = dp.store.dead_letters(None, 10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].status, OutboxStatus::Dead);
    assert_eq!(dead[0].kind, REGISTER_OUTBOX_KIND);
    assert!(dead[0].last_error.as_deref().unwrap().contains("3.3"));
    assert_eq!(
        smds.event(&matching_id2).await.unwrap().data.registrant,
        "2.999.11"
    );
    assert_eq!(
        dp.worker.run_once(t0 + Duration::hours(2)).await.unwrap(),
        Default::default()
    );
    smds.stop().await;
}

/// The wiring: `SmdpConfig::build` gives ES2+ with SM-DS events and an ES12 worker that
/// `SmdpServer::serve` runs; the worker presents CERT.DP.TLS (minted at start-up under the
/// SGP.26 CI with the SM-DP+'s OID) and trusts the SM-DP+'s CIs for the SM-DS certificate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_smdp_delivers_events_with_its_dp_tls_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let mut smds = Smds::new(&dir).await;
    smds.start().await;
    let sgp26 = std::path::PathBuf::from(format!(
        "{}/tests/fixtures/sgp26",
        env!("CARGO_MANIFEST_DIR")
    ));
    let address = "testsmdpplus1.example.com";
    let config = rsp_smdpp::server::SmdpConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        identity: rsp_smdpp::identity::IdentityPaths {
            address: address.into(),
            curves: vec![rsp_smdpp::identity::CurvePaths::sgp26(&sgp26, "NIST")],
            tls: rsp_smdpp::identity::TlsSource::Mint {
                ci_cert: sgp26.join("CERT_CI_ECDSA_NIST.der"),
                ci_key: sgp26.join("SK_CI_ECDSA_NIST.pem"),
                days: 7,
            },
        },
        svn: "2.5.0".into(),
        lowest_svn: "2.0.0".into(),
        server_rsp_capability: vec![],
        supported_push_services: vec![],
        session_ttl_seconds: 600,
        store_url: format!("sqlite://{}?mode=rwc", dir.path().join("smdp.db").display()),
        operator_cas: vec![],
        delivery_period_ms: 20,
        es12_client_certificate: None,
        es12_client_key: None,
        smds_cas: vec![],
        smds_forwarding_indicator: true,
    };
    let directory = OperatorDirectory::new(vec![OperatorEntry {
        id: "op1".into(),
        certificate_sha256: vec![sha2::Sha256::digest(op_cert()).into()],
        subject_common_names: vec![],
        callback_url: None,
    }]);
    let built = config.build(inventory(), directory).await.unwrap();
    let es2 = built.parts.es2.clone().unwrap();
    let store = es2.orders.store().clone();
    let dp = Smdp {
        app: router(es2),
        orders: Orders::new(store.clone()),
        store,
        registrar: Arc::new(EventRegistrar::new(DP_OID, address)),
        worker: built.es12.clone().unwrap(),
        fcid: std::cell::Cell::new(0),
    };
    let running = built.serve().await.unwrap();

    let (_, matching_id) = dp.order(Some(&smds.address()), true).await;
    let mut ev = None;
    for _ in 0..200 {
        ev = smds.event(&matching_id).await;
        if ev.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let ev = ev.expect("the running SM-DP+ registered the event");
    assert_eq!(ev.data.registrant, DP_OID);
    assert_eq!(ev.data.rsp_server_address, address);
    assert_eq!(ev.data.eid, EID);
    running.shutdown().await.unwrap();
    smds.stop().await;
}
