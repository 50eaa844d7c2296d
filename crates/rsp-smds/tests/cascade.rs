//! The cascade over real mutual TLS on 127.0.0.1: an SM-DP+ registers at an Alternative SM-DS
//! with forwardingIndicator true; the Alternative stores the event and queues an ES15
//! RegisterEvent (EventID2, pointing to itself) that its ForwardingWorker delivers to the Root,
//! retrying while the Root is down; DeleteEvent cascades the same way. Certificates: CERT.DS.TLS
//! and CERT.DP.TLS minted under the SGP.26 test CI.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::sync::Arc;

use common::*;
use rsp_crypto::x509::Sgp22Role;
use rsp_smds::client::{ClientError, Es12Client, ForwardingWorker};
use rsp_smds::es12::{self, Interface, RootSmds, SmdsConfig, SmdsService};
use rsp_smds::event::{EventStore, Origin};
use rsp_types::Svn;
use time::Duration;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

struct Server {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Server {
    async fn start(tcp: TcpListener, id: &Identity, service: Arc<SmdsService>) -> Server {
        let addr = tcp.local_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(rsp_smds::server::serve(
            tcp,
            id.server_config(),
            es12::router(service),
            async move {
                let _ = rx.await;
            },
        ));
        Server {
            addr,
            stop: Some(tx),
            task,
        }
    }

    fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.addr.port())
    }

    async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), self.task).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alternative_forwards_to_root_until_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let root_id = Identity::mint(Sgp22Role::DsTls, "root.smds.test", ROOT_OID);
    let alt_id = Identity::mint(Sgp22Role::DsTls, "alt.smds.test", ALT_OID);
    let dp_id = Identity::mint(Sgp22Role::DpTls, "smdp.test", DP_OID);

    // The Root's port is reserved, then released: it is down at first.
    let probe = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let root_addr = probe.local_addr().unwrap();
    drop(probe);
    let root_url = format!("https://127.0.0.1:{}", root_addr.port());

    let root_store = sqlite(&dir, "root.db").await;
    let mut root_service = SmdsService::new(
        EventStore::new(root_store.clone()),
        SmdsConfig::root("root.smds.test", ROOT_OID),
    );
    root_service.callers.es15 = Some([ALT_OID.to_string()].into());
    let root_service = Arc::new(root_service);

    let alt_store = sqlite(&dir, "alt.db").await;
    let mut alt_config = SmdsConfig::root("alt.smds.test", ALT_OID);
    alt_config.root = Some(RootSmds {
        url: root_url.clone(),
    });
    let alt_service = Arc::new(SmdsService::new(
        EventStore::new(alt_store.clone()),
        alt_config,
    ));
    let alt = Server::start(
        TcpListener::bind("127.0.0.1:0").await.unwrap(),
        &alt_id,
        alt_service.clone(),
    )
    .await;

    // The SM-DP+ registers over ES12 (mutual TLS).
    let dp = Es12Client::new(
        dp_id.http_client(),
        alt.url(),
        Interface::Es12,
        Svn::new(2, 2, 0),
    );
    let answer = dp
        .register_event(&register(DP_OID, EID1, "smdp.test", "EV-CASCADE", true))
        .await
        .unwrap();
    assert_eq!(answer.admin_protocol, Some(Svn::new(2, 2, 0)));
    let ev = alt_service.events.get("EV-CASCADE").await.unwrap().unwrap();
    assert_eq!(
        ev.data.registrant, DP_OID,
        "the registrant is the client certificate's OID"
    );
    let fwd = ev.data.forwarded.clone().unwrap();
    assert_eq!(fwd.root_url, root_url);
    assert_ne!(fwd.event_id2, "EV-CASCADE");

    // A foreign SM-DP+ certificate may not delete it, over the wire too.
    let other = Identity::mint(Sgp22Role::DpTls, "smdp2.test", DP2_OID);
    let foreign = Es12Client::new(
        other.http_client(),
        alt.url(),
        Interface::Es12,
        Svn::new(2, 2, 0),
    );
    match foreign
        .delete_event(&delete(DP2_OID, EID1, "EV-CASCADE"))
        .await
    {
        Err(ClientError::Refused(st)) => assert!(st.is(&es12::NOT_REGISTRANT)),
        other => panic!("{other:?}"),
    }

    // The Root is down: the ES15 registration is retried.
    let mut worker = ForwardingWorker::new(
        alt_store.clone(),
        alt_id.http_client(),
        Svn::new(2, 2, 0),
        "alt-node",
    );
    worker.backoff = |_| Duration::ZERO;
    let t0 = now();
    let report = worker.run_once(t0).await.unwrap();
    assert_eq!((report.delivered, report.retried), (0, 1));

    // The Root comes up; the next round delivers.
    let root = Server::start(
        TcpListener::bind(root_addr).await.unwrap(),
        &root_id,
        root_service.clone(),
    )
    .await;
    let report = worker.run_once(t0 + Duration::seconds(1)).await.unwrap();
    assert_eq!((report.delivered, report.retried), (1, 0));
    let at_root = root_service
        .events
        .get(&fwd.event_id2)
        .await
        .unwrap()
        .unwrap();
    assert!(at_root.live);
    assert_eq!(at_root.data.eid, EID1);
    assert_eq!(at_root.data.rsp_server_address, "alt.smds.test");
    assert_eq!(at_root.data.registrant, ALT_OID);
    assert_eq!(at_root.data.origin, Origin::Es15);
    assert!(!at_root.data.forwarding_indicator);
    assert!(
        root_service
            .events
            .get("EV-CASCADE")
            .await
            .unwrap()
            .is_none()
    );
    // Nothing left to send.
    assert_eq!(
        worker
            .run_once(t0 + Duration::seconds(2))
            .await
            .unwrap()
            .delivered,
        0
    );

    // The SM-DP+ deletes: the Alternative's tombstone and a queued ES15 DeleteEvent.
    dp.delete_event(&delete(DP_OID, EID1, "EV-CASCADE"))
        .await
        .unwrap();
    assert!(
        !alt_service
            .events
            .get("EV-CASCADE")
            .await
            .unwrap()
            .unwrap()
            .live
    );
    assert!(
        root_service
            .events
            .get(&fwd.event_id2)
            .await
            .unwrap()
            .unwrap()
            .live
    );
    let report = worker.run_once(t0 + Duration::seconds(3)).await.unwrap();
    assert_eq!(report.delivered, 1);
    assert!(
        !root_service
            .events
            .get(&fwd.event_id2)
            .await
            .unwrap()
            .unwrap()
            .live
    );

    // A Root SM-DP+-facing ES12 call with the SM-DP+ certificate on ES15 is refused by policy.
    let wrong = Es12Client::new(
        dp_id.http_client(),
        root.url(),
        Interface::Es15,
        Svn::new(2, 2, 0),
    );
    match wrong
        .register_event(&register(DP_OID, EID1, "smdp.test", "X", false))
        .await
    {
        Err(ClientError::Refused(st)) => {
            assert!(st.is(&rsp_types::codes::sgp22::status::CALLER_UNKNOWN))
        }
        other => panic!("{other:?}"),
    }
    // A client without a certificate does not get through the TLS layer.
    let anon = rsp_smds::client::http_client(
        rustls::ClientConfig::builder()
            .with_root_certificates(roots())
            .with_no_client_auth(),
    )
    .unwrap();
    let anon = Es12Client::new(anon, root.url(), Interface::Es15, Svn::new(2, 2, 0));
    assert!(matches!(
        anon.register_event(&register(ALT_OID, EID1, "alt.smds.test", "Y", false))
            .await,
        Err(ClientError::Transport(_))
    ));

    root.stop().await;
    alt.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registration_deleted_before_delivery_is_not_sent() {
    let dir = tempfile::tempdir().unwrap();
    let alt_id = Identity::mint(Sgp22Role::DsTls, "alt.smds.test", ALT_OID);
    let root_id = Identity::mint(Sgp22Role::DsTls, "root.smds.test", ROOT_OID);
    let root_store = sqlite(&dir, "root.db").await;
    let root_service = Arc::new(SmdsService::new(
        EventStore::new(root_store),
        SmdsConfig::root("root.smds.test", ROOT_OID),
    ));
    let root = Server::start(
        TcpListener::bind("127.0.0.1:0").await.unwrap(),
        &root_id,
        root_service.clone(),
    )
    .await;
    let alt_store = sqlite(&dir, "alt.db").await;
    let mut cfg = SmdsConfig::root("alt.smds.test", ALT_OID);
    cfg.root = Some(RootSmds { url: root.url() });
    let alt_service = SmdsService::new(EventStore::new(alt_store.clone()), cfg);
    let dp = rsp_smds::caller::CallerIdentity(DP_OID.into());
    alt_service
        .register_event(
            Interface::Es12,
            &dp,
            &register(DP_OID, EID1, "smdp.test", "GONE", true),
        )
        .await
        .unwrap();
    alt_service
        .delete_event(Interface::Es12, &dp, &delete(DP_OID, EID1, "GONE"))
        .await
        .unwrap();
    let worker = ForwardingWorker::new(alt_store, alt_id.http_client(), Svn::new(2, 2, 0), "n");
    let report = worker.run_once(now()).await.unwrap();
    // The registration is dropped; the deletion is acknowledged (the Root answers 3.9).
    assert_eq!(
        (report.dropped, report.delivered, report.retried),
        (1, 1, 0)
    );
    assert!(
        root_service
            .events
            .live_for_eid(EID1)
            .await
            .unwrap()
            .is_empty()
    );
    root.stop().await;
}
