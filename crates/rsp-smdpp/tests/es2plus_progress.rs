//! HandleDownloadProgressInfo: the outbox write goes in the same atomic batch as the order update,
//! and the delivery worker POSTs it to the Operator (a local axum receiver on 127.0.0.1) with
//! retries.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use rsp_sgp22::json::HandleDownloadProgressInfoRequest;
use rsp_smdpp::es2plus::{
    DeliveryWorker, DownloadProgress, NotificationPoint, OperatorDirectory, OperatorEntry,
    PROGRESS_OUTBOX_KIND, ProgressNotifier,
};
use rsp_smdpp::order::{Order, OrderLimits, OrderStoreError, Orders};
use rsp_types::codes::sgp22::status;
use rsp_types::{Eid, FunctionExecutionStatus, Iccid, Svn};
use time::{Duration, OffsetDateTime};

#[derive(Default)]
struct Received {
    calls: Vec<(Option<String>, Option<String>, Vec<u8>)>,
    fail_first: usize,
}

async fn receiver(
    State(rx): State<Arc<Mutex<Received>>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> StatusCode {
    let mut rx = rx.lock().unwrap();
    let h = |n: &str| headers.get(n).map(|v| v.to_str().unwrap().to_owned());
    rx.calls
        .push((h("X-Admin-Protocol"), h("content-type"), body.to_vec()));
    if rx.calls.len() <= rx.fail_first {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::NO_CONTENT
    }
}

fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_750_000_000).unwrap()
}

#[tokio::test]
async fn progress_is_queued_atomically_and_delivered_with_retries() {
    let rx = Arc::new(Mutex::new(Received {
        fail_first: 1,
        ..Received::default()
    }));
    let app = Router::new()
        .route(
            "/gsma/rsp2/es2plus/handleDownloadProgressInfo",
            post(receiver),
        )
        .with_state(rx.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let directory = Arc::new(OperatorDirectory::new(vec![
        OperatorEntry {
            id: "op1".into(),
            certificate_sha256: vec![],
            subject_common_names: vec![],
            callback_url: Some(format!("http://{addr}/")),
        },
        OperatorEntry {
            id: "quiet".into(),
            certificate_sha256: vec![],
            subject_common_names: vec![],
            callback_url: None,
        },
    ]));
    let store = rsp_store::open("sqlite::memory:").await.unwrap();
    let orders = Orders::new(store.clone());
    let notifier = ProgressNotifier {
        smdp_identifier: "smdp.example.com".into(),
        directory: directory.clone(),
    };

    let iccid = Iccid::with_luhn("8988228000000000100").unwrap();
    let eid = Eid::with_check_digits("890490321234512345123456789012").unwrap();
    let mut order = Order::available(iccid, "T1");
    order
        .download_order("op1", Some(eid), None, OrderLimits::default())
        .unwrap();
    let stored = orders.insert(order, now()).await.unwrap();

    // A stale write carries its notification down with it: nothing is queued.
    let progress = DownloadProgress {
        point: NotificationPoint::BppInstallation,
        status: status::LOAD_BPP_EXECUTION_ERROR.failed(),
        result_data: Some(vec![0xBF, 0x37, 0x00]),
        imei: None,
    };
    let stale = rsp_smdpp::order::StoredOrder {
        order: stored.order.clone(),
        version: stored.version + 7,
    };
    let op = notifier
        .op(&stale.order, progress.clone(), now())
        .unwrap()
        .unwrap();
    assert!(matches!(
        orders.save(&stale, vec![op], now()).await,
        Err(OrderStoreError::Conflict)
    ));
    assert!(
        store
            .claim_due_messages_of(
                PROGRESS_OUTBOX_KIND,
                now(),
                "peek",
                Duration::seconds(1),
                10
            )
            .await
            .unwrap()
            .is_empty()
    );
    // The real write queues it.
    let op = notifier
        .op(&stored.order, progress, now())
        .unwrap()
        .unwrap();
    orders.save(&stored, vec![op], now()).await.unwrap();
    // An Operator without callback URL gets nothing.
    let mut quiet = stored.order.clone();
    quiet.operator_id = "quiet".into();
    assert!(
        notifier
            .op(
                &quiet,
                DownloadProgress {
                    point: NotificationPoint::EligibilityCheck,
                    status: FunctionExecutionStatus::success(),
                    result_data: None,
                    imei: None,
                },
                now()
            )
            .unwrap()
            .is_none()
    );

    let client = reqwest::Client::builder().build().unwrap();
    let worker = DeliveryWorker::new(
        store.clone(),
        directory,
        client,
        Svn::new(2, 5, 0),
        "node-a",
    );
    // First attempt: the receiver answers 500 → retried later.
    let r1 = worker.run_once(now()).await.unwrap();
    assert_eq!((r1.delivered, r1.retried, r1.dead), (0, 1, 0));
    // Not due again before the backoff.
    let r2 = worker.run_once(now() + Duration::seconds(1)).await.unwrap();
    assert_eq!(r2.delivered + r2.retried, 0);
    let r3 = worker.run_once(now() + Duration::hours(2)).await.unwrap();
    assert_eq!((r3.delivered, r3.retried), (1, 0));
    let r4 = worker.run_once(now() + Duration::hours(3)).await.unwrap();
    assert_eq!(
        r4.delivered + r4.retried,
        0,
        "delivered messages are not sent again"
    );

    let calls = std::mem::take(&mut rx.lock().unwrap().calls);
    assert_eq!(calls.len(), 2);
    for (admin, content_type, body) in &calls {
        assert_eq!(admin.as_deref(), Some("gsma/rsp/v2.5.0"));
        assert_eq!(
            content_type.as_deref(),
            Some("application/json;charset=UTF-8")
        );
        let info: HandleDownloadProgressInfoRequest = serde_json::from_slice(body).unwrap();
        assert_eq!(info.iccid, iccid.to_string());
        assert_eq!(info.eid, Some(eid.to_string()));
        assert_eq!(info.profile_type, "T1");
        assert_eq!(info.notification_point_id, 4);
        assert_eq!(info.timestamp, "2025-06-15T15:06:40Z");
        assert!(
            info.notification_point_status
                .is(&status::LOAD_BPP_EXECUTION_ERROR)
        );
        assert_eq!(info.result_data, Some(vec![0xBF, 0x37, 0x00]));
        let header = info.header.unwrap();
        assert_eq!(header.function_requester_identifier, "smdp.example.com");
        assert!(header.function_call_identifier.starts_with(iccid.as_str()));
    }
    assert_eq!(calls[0].2, calls[1].2, "the retry sends the same request");
    server.abort();
}

#[tokio::test]
async fn unreachable_operator_becomes_a_dead_letter() {
    // A port nobody listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let directory = Arc::new(OperatorDirectory::new(vec![OperatorEntry {
        id: "op1".into(),
        certificate_sha256: vec![],
        subject_common_names: vec![],
        callback_url: Some(format!("http://{addr}")),
    }]));
    let store = rsp_store::open("sqlite::memory:").await.unwrap();
    let orders = Orders::new(store.clone());
    let notifier = ProgressNotifier {
        smdp_identifier: "smdp".into(),
        directory: directory.clone(),
    };
    let mut order = Order::available(Iccid::with_luhn("8988228000000000100").unwrap(), "T1");
    order
        .download_order("op1", None, None, OrderLimits::default())
        .unwrap();
    let stored = orders.insert(order, now()).await.unwrap();
    let op = notifier
        .op(
            &stored.order,
            DownloadProgress {
                point: NotificationPoint::EligibilityCheck,
                status: FunctionExecutionStatus::success(),
                result_data: None,
                imei: None,
            },
            now(),
        )
        .unwrap()
        .unwrap();
    orders.save(&stored, vec![op], now()).await.unwrap();
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(2))
        .build()
        .unwrap();
    let mut worker = DeliveryWorker::new(store.clone(), directory, client, Svn::new(2, 5, 0), "n");
    worker.max_attempts = 2;
    let r1 = worker.run_once(now()).await.unwrap();
    assert_eq!(r1.retried, 1);
    let r2 = worker.run_once(now() + Duration::hours(2)).await.unwrap();
    assert_eq!(r2.dead, 1);
    assert_eq!(store.dead_letters(None, 10).await.unwrap().len(), 1);
}
