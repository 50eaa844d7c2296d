//! Real PSK-TLS 1.2 admin sessions over 127.0.0.1 between the card client and the SM-SR server.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use openssl::ssl::{Ssl, SslContext, SslContextBuilder, SslMethod, SslVerifyMode, SslVersion};
use rsp_es5::https::{
    AdminServer, AdminServerConfig, AdminSessionHandler, CardClient, CardClientConfig,
    CardEndpoint, ClientError, InMemoryPskKeyStore, Psk, PskCipherSuite, PskIdentity, SessionEnd,
    SessionOpened, SessionSummary,
};
use rsp_es5::queue::{
    Es5Queue, ManualClock, NewCommand, Outcome, QueueConfig, Released, ScriptStatus, Target, Ticket,
};
use rsp_types::{Aid, Eid};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_openssl::SslStream;

const ISD_R: &str = "A0000005591010FFFFFFFF8900000100";
const ISD_P: &str = "A0000005591010FFFFFFFF8900001100";
const KEY_VERSION: u8 = 0x40;
const KEY_ID: u8 = 0x01;

fn eid(n: u8) -> Eid {
    Eid::with_check_digits(&format!("890490321234512345123456789{n:03}")).unwrap()
}

fn isd_r() -> Aid {
    ISD_R.parse().unwrap()
}

fn isd_p() -> Aid {
    ISD_P.parse().unwrap()
}

fn psk(n: u8) -> Psk {
    Psk::new(
        (0..16u8)
            .map(|i| i ^ n.wrapping_mul(37))
            .collect::<Vec<_>>(),
    )
    .unwrap()
}

fn identity(n: u8) -> PskIdentity {
    PskIdentity::new(eid(n), isd_r(), KEY_ID, KEY_VERSION).unwrap()
}

/// Records every session's summary and every opening.
#[derive(Clone)]
struct Recorder {
    summaries: mpsc::UnboundedSender<SessionSummary>,
    opened: Arc<Mutex<Vec<SessionOpened>>>,
    /// When a notification arrives, queue this confirmation script for the card.
    confirm_with: Option<(Es5Queue, Bytes)>,
}

#[async_trait]
impl AdminSessionHandler for Recorder {
    async fn session_opened(&self, opened: &SessionOpened) {
        self.opened.lock().unwrap().push(opened.clone());
        if let (Some((queue, script)), Some(_)) = (&self.confirm_with, &opened.notification) {
            queue
                .enqueue(command(opened.identity.eid, Target::IsdR, script))
                .unwrap();
        }
    }

    async fn session_closed(&self, summary: &SessionSummary) {
        let _ = self.summaries.send(summary.clone());
    }
}

struct Rig {
    addr: SocketAddr,
    queue: Es5Queue,
    summaries: mpsc::UnboundedReceiver<SessionSummary>,
    opened: Arc<Mutex<Vec<SessionOpened>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Rig {
    async fn start(config: AdminServerConfig, queue: Es5Queue) -> Rig {
        Rig::start_with(config, queue, None).await
    }

    async fn start_with(
        config: AdminServerConfig,
        queue: Es5Queue,
        confirm_with: Option<Bytes>,
    ) -> Rig {
        let keys = Arc::new(InMemoryPskKeyStore::new());
        for n in 1..=4 {
            keys.insert(eid(n), KEY_VERSION, KEY_ID, psk(n));
        }
        let (tx, summaries) = mpsc::unbounded_channel();
        let opened = Arc::new(Mutex::new(Vec::new()));
        let recorder = Recorder {
            summaries: tx,
            opened: opened.clone(),
            confirm_with: confirm_with.map(|s| (queue.clone(), s)),
        };
        let server = AdminServer::new(config, queue.clone(), keys)
            .unwrap()
            .with_handler(Arc::new(recorder));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move { server.serve(listener).await });
        Rig {
            addr,
            queue,
            summaries,
            opened,
            task,
        }
    }

    async fn summary(&mut self) -> SessionSummary {
        tokio::time::timeout(Duration::from_secs(10), self.summaries.recv())
            .await
            .expect("no session summary")
            .unwrap()
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn command(eid: Eid, target: Target, script: &[u8]) -> NewCommand {
    NewCommand {
        eid,
        target,
        script: Bytes::copy_from_slice(script),
        deadline: SystemTime::now() + Duration::from_secs(300),
        correlation: hex::encode(script),
    }
}

/// A stand-in card: answers each script with `AB` followed by the script bytes, and reports
/// `unknown-application` for scripts starting with `EE`.
#[derive(Default)]
struct FakeCard {
    seen: Vec<(Option<Aid>, Vec<u8>)>,
}

impl FakeCard {
    fn answer(script: &[u8]) -> Vec<u8> {
        let mut out = vec![0xAB];
        out.extend_from_slice(script);
        out
    }
}

impl CardEndpoint for FakeCard {
    fn process_script(&mut self, target: Option<Aid>, script: &[u8]) -> Vec<u8> {
        self.seen.push((target, script.to_vec()));
        FakeCard::answer(script)
    }

    fn process_script_with_status(
        &mut self,
        target: Option<Aid>,
        script: &[u8],
    ) -> (ScriptStatus, Vec<u8>) {
        let data = self.process_script(target, script);
        if script.first() == Some(&0xEE) {
            (ScriptStatus::UnknownApplication, Vec::new())
        } else {
            (ScriptStatus::Ok, data)
        }
    }
}

fn client(n: u8, suites: &[PskCipherSuite]) -> CardClient {
    let mut config = CardClientConfig::new(identity(n), psk(n));
    config.suites = suites.to_vec();
    CardClient::new(config).unwrap()
}

async fn executed(ticket: Ticket) -> (ScriptStatus, Vec<u8>, u32) {
    let done = tokio::time::timeout(Duration::from_secs(10), ticket.wait())
        .await
        .expect("no completion")
        .unwrap();
    match done.outcome {
        Outcome::Executed(r) => (r.status, r.data.to_vec(), done.attempts),
        other => panic!("expected Executed, got {other:?}"),
    }
}

#[tokio::test]
async fn session_drains_the_queue_in_order_with_each_suite() {
    for suite in PskCipherSuite::ALL {
        let mut rig = Rig::start(
            AdminServerConfig::default(),
            Es5Queue::new(QueueConfig::default()),
        )
        .await;
        let a = eid(1);
        let scripts: [(&[u8], Target); 3] = [
            (b"\xAA\x01", Target::IsdR),
            (b"\xAA\x02", Target::IsdP(isd_p())),
            (b"\xAA\x03", Target::IsdR),
        ];
        let tickets: Vec<Ticket> = scripts
            .iter()
            .map(|(s, t)| rig.queue.enqueue(command(a, *t, s)).unwrap())
            .collect();
        let mut card = FakeCard::default();
        let report = client(1, &[suite])
            .connect(rig.addr, &mut card)
            .await
            .unwrap();
        assert_eq!(report.cipher, Some(suite));
        assert_eq!((report.scripts, report.exchanges), (3, 4));
        let seen: Vec<(Option<Aid>, Vec<u8>)> = scripts
            .iter()
            .map(|(s, t)| (t.isd_p_aid(), s.to_vec()))
            .collect();
        assert_eq!(card.seen, seen, "{suite:?}");
        for (ticket, (script, _)) in tickets.into_iter().zip(scripts) {
            assert_eq!(
                executed(ticket).await,
                (ScriptStatus::Ok, FakeCard::answer(script), 1)
            );
        }
        let summary = rig.summary().await;
        assert_eq!(summary.end, SessionEnd::Completed);
        assert_eq!(summary.cipher, Some(suite));
        assert_eq!((summary.scripts_sent, summary.responses), (3, 3));
        assert_eq!(summary.identity, identity(1));
        assert!(rig.queue.is_empty());
    }
}

#[tokio::test]
async fn no_common_suite_is_refused() {
    let config = AdminServerConfig {
        suites: vec![PskCipherSuite::Aes128GcmSha256],
        ..AdminServerConfig::default()
    };
    let rig = Rig::start(config, Es5Queue::new(QueueConfig::default())).await;
    let err = client(1, &[PskCipherSuite::Aes128CbcSha256])
        .connect(rig.addr, &mut FakeCard::default())
        .await
        .unwrap_err();
    assert!(matches!(err, ClientError::Handshake(_)), "{err:?}");
}

#[tokio::test]
async fn wrong_key_or_unknown_identity_is_refused() {
    let rig = Rig::start(
        AdminServerConfig::default(),
        Es5Queue::new(QueueConfig::default()),
    )
    .await;
    let a = eid(1);
    let ticket = rig
        .queue
        .enqueue(command(a, Target::IsdR, b"\xAA"))
        .unwrap();
    let cases = [
        // Right identity, wrong key.
        CardClientConfig::new(identity(1), psk(2)),
        // EID the SM-SR has no key for.
        CardClientConfig::new(identity(9), psk(9)),
        // Known EID, unknown key version.
        CardClientConfig::new(PskIdentity::new(a, isd_r(), KEY_ID, 0x41).unwrap(), psk(1)),
        // Known EID, unknown key id.
        CardClientConfig::new(
            PskIdentity::new(a, isd_r(), 0x02, KEY_VERSION).unwrap(),
            psk(1),
        ),
    ];
    for config in cases {
        let mut card = FakeCard::default();
        let err = CardClient::new(config)
            .unwrap()
            .connect(rig.addr, &mut card)
            .await
            .unwrap_err();
        assert!(matches!(err, ClientError::Handshake(_)), "{err:?}");
        assert!(card.seen.is_empty());
    }
    // Nothing left the queue.
    assert_eq!(rig.queue.pending_len(&a), 1);
    assert_eq!(rig.queue.in_flight(&a), None);
    drop(ticket);
}

#[tokio::test]
async fn expired_entries_are_not_sent() {
    let start = SystemTime::now();
    let clock = Arc::new(ManualClock::new(start));
    let queue = Es5Queue::with_clock(QueueConfig::default(), clock.clone());
    let mut rig = Rig::start(AdminServerConfig::default(), queue).await;
    let a = eid(1);
    let mut stale = command(a, Target::IsdR, b"\xAA\x01");
    stale.deadline = start + Duration::from_secs(60);
    let stale = rig.queue.enqueue(stale).unwrap();
    let fresh = rig
        .queue
        .enqueue(NewCommand {
            deadline: start + Duration::from_secs(600),
            ..command(a, Target::IsdR, b"\xAA\x02")
        })
        .unwrap();
    clock.advance(Duration::from_secs(61));
    let mut card = FakeCard::default();
    let report = client(1, &PskCipherSuite::ALL)
        .connect(rig.addr, &mut card)
        .await
        .unwrap();
    assert_eq!(report.scripts, 1);
    assert_eq!(card.seen, vec![(None, b"\xAA\x02".to_vec())]);
    let done = stale.wait().await.unwrap();
    assert_eq!((done.outcome, done.attempts), (Outcome::Expired, 0));
    assert_eq!(executed(fresh).await.0, ScriptStatus::Ok);
    assert_eq!(rig.summary().await.end, SessionEnd::Completed);
}

#[tokio::test]
async fn two_cards_at_once_each_get_their_own_queue() {
    let rig = Rig::start(
        AdminServerConfig::default(),
        Es5Queue::new(QueueConfig::default()),
    )
    .await;
    let mut tickets = Vec::new();
    for n in [1u8, 2] {
        for i in 0..4u8 {
            tickets.push((
                n,
                i,
                rig.queue
                    .enqueue(command(eid(n), Target::IsdR, &[0xA0 | n, i]))
                    .unwrap(),
            ));
        }
    }
    let (mut card1, mut card2) = (FakeCard::default(), FakeCard::default());
    let (c1, c2) = (
        client(1, &PskCipherSuite::ALL),
        client(2, &PskCipherSuite::ALL),
    );
    let (r1, r2) = tokio::join!(
        c1.connect(rig.addr, &mut card1),
        c2.connect(rig.addr, &mut card2)
    );
    assert_eq!(r1.unwrap().scripts, 4);
    assert_eq!(r2.unwrap().scripts, 4);
    for (n, card) in [(1u8, &card1), (2, &card2)] {
        let expected: Vec<(Option<Aid>, Vec<u8>)> =
            (0..4u8).map(|i| (None, vec![0xA0 | n, i])).collect();
        assert_eq!(card.seen, expected);
    }
    for (n, i, ticket) in tickets {
        let (status, data, _) = executed(ticket).await;
        assert_eq!((status, data), (ScriptStatus::Ok, vec![0xAB, 0xA0 | n, i]));
    }
}

#[tokio::test]
async fn error_status_reaches_the_caller() {
    let rig = Rig::start(
        AdminServerConfig::default(),
        Es5Queue::new(QueueConfig::default()),
    )
    .await;
    let ticket = rig
        .queue
        .enqueue(command(eid(1), Target::IsdP(isd_p()), b"\xEE\x01"))
        .unwrap();
    client(1, &PskCipherSuite::ALL)
        .connect(rig.addr, &mut FakeCard::default())
        .await
        .unwrap();
    assert_eq!(
        executed(ticket).await,
        (ScriptStatus::UnknownApplication, Vec::new(), 1)
    );
}

#[tokio::test]
async fn linger_keeps_the_session_open_for_late_work() {
    let config = AdminServerConfig {
        linger: Duration::from_secs(1),
        ..AdminServerConfig::default()
    };
    let rig = Rig::start(config, Es5Queue::new(QueueConfig::default())).await;
    let queue = rig.queue.clone();
    let producer = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        queue
            .enqueue(command(eid(1), Target::IsdR, b"\xAA\x07"))
            .unwrap()
    });
    let mut card = FakeCard::default();
    let report = client(1, &PskCipherSuite::ALL)
        .connect(rig.addr, &mut card)
        .await
        .unwrap();
    assert_eq!(report.scripts, 1);
    assert_eq!(executed(producer.await.unwrap()).await.0, ScriptStatus::Ok);
}

#[tokio::test]
async fn notification_is_handed_over_and_confirmed_in_the_same_session() {
    let confirmation = Bytes::from_static(b"\xAA\x0A\x22\x08\x80\xE2\x89\x00\x03\x3A\x08\x00");
    let mut rig = Rig::start_with(
        AdminServerConfig::default(),
        Es5Queue::new(QueueConfig::default()),
        Some(confirmation.clone()),
    )
    .await;
    let notification = [0xE1, 0x03, 0x4D, 0x01, 0x02];
    let mut card = FakeCard::default();
    let report = client(3, &PskCipherSuite::ALL)
        .connect_with_notification(rig.addr, &notification, &mut card)
        .await
        .unwrap();
    assert_eq!(report.scripts, 1);
    assert_eq!(card.seen, vec![(None, confirmation.to_vec())]);
    let opened = rig.opened.lock().unwrap().clone();
    assert_eq!(opened.len(), 1);
    assert_eq!(opened[0].notification.as_deref(), Some(&notification[..]));
    assert_eq!(opened[0].uri, "/es5/notify?msg=E1034D0102");
    assert_eq!(opened[0].identity.eid, eid(3));
    assert_eq!(rig.summary().await.end, SessionEnd::Completed);
}

// --- Raw HTTP over PSK-TLS, to look at the wire and to misbehave like a broken card. ---

fn raw_context(identity: &PskIdentity, psk: &Psk) -> SslContext {
    let mut b = SslContextBuilder::new(SslMethod::tls_client()).unwrap();
    b.set_min_proto_version(Some(SslVersion::TLS1_2)).unwrap();
    b.set_max_proto_version(Some(SslVersion::TLS1_2)).unwrap();
    b.set_cipher_list("PSK-AES128-GCM-SHA256").unwrap();
    b.set_verify(SslVerifyMode::NONE);
    let text = identity.to_text().into_bytes();
    let key = psk.as_bytes().to_vec();
    b.set_psk_client_callback(move |_, _, id, out| {
        id[..text.len()].copy_from_slice(&text);
        id[text.len()] = 0;
        out[..key.len()].copy_from_slice(&key);
        Ok(key.len())
    });
    b.build()
}

type RawSender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

struct RawCard {
    sender: RawSender,
    connection: tokio::task::JoinHandle<()>,
    from: String,
}

impl RawCard {
    async fn connect(addr: SocketAddr, n: u8) -> RawCard {
        let id = identity(n);
        let ctx = raw_context(&id, &psk(n));
        let tcp = TcpStream::connect(addr).await.unwrap();
        let mut tls = SslStream::new(Ssl::new(&ctx).unwrap(), tcp).unwrap();
        Pin::new(&mut tls).connect().await.unwrap();
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .unwrap();
        let connection = tokio::spawn(async move {
            let _ = conn.await;
        });
        RawCard {
            sender,
            connection,
            from: format!(
                "//se-id/eid/{};//aa-id/aid/A000000559/1010FFFFFFFF8900000100",
                id.eid
            ),
        }
    }

    async fn post(
        &mut self,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> (StatusCode, hyper::HeaderMap, Bytes) {
        let mut req = Request::post(path).header("host", "smsr");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req.body(Full::new(Bytes::copy_from_slice(body))).unwrap();
        self.sender.ready().await.unwrap();
        let resp = self.sender.send_request(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        (status, headers, body)
    }

    async fn open(&mut self) -> (StatusCode, hyper::HeaderMap, Bytes) {
        let from = self.from.clone();
        self.post(
            "/es5/ram",
            &[
                ("x-admin-protocol", "globalplatform-remote-admin/1.0"),
                ("x-admin-from", &from),
            ],
            b"",
        )
        .await
    }

    fn disconnect(self) {
        drop(self.sender);
        self.connection.abort();
    }
}

#[tokio::test]
async fn wire_format_of_a_script_response() {
    let rig = Rig::start(
        AdminServerConfig::default(),
        Es5Queue::new(QueueConfig::default()),
    )
    .await;
    let ticket = rig
        .queue
        .enqueue(command(
            eid(1),
            Target::IsdP(isd_p()),
            b"\xAA\x05\x22\x03\x80\xCA\x00",
        ))
        .unwrap();
    let mut raw = RawCard::connect(rig.addr, 1).await;
    let (status, headers, body) = raw.open().await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers["content-type"],
        "application/vnd.globalplatform.card-content-mgt;version=1.0"
    );
    assert_eq!(headers["transfer-encoding"], "chunked");
    assert_eq!(
        headers["x-admin-next-uri"],
        format!("/es5/ram/{}", ticket.id)
    );
    assert_eq!(
        headers["x-admin-targeted-application"],
        "//aid/A000000559/1010FFFFFFFF8900001100"
    );
    assert_eq!(body.as_ref(), b"\xAA\x05\x22\x03\x80\xCA\x00");
    let next = headers["x-admin-next-uri"].to_str().unwrap().to_owned();
    let (status, headers, body) = raw
        .post(
            &next,
            &[
                ("x-admin-protocol", "globalplatform-remote-admin/1.0"),
                (
                    "content-type",
                    "application/vnd.globalplatform.card-content-mgt-response;version=1.0",
                ),
                ("x-admin-script-status", "ok"),
            ],
            b"\xAB\x04\x23\x02\x90\x00",
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(headers.get("x-admin-next-uri").is_none());
    assert!(body.is_empty());
    assert_eq!(
        executed(ticket).await,
        (ScriptStatus::Ok, b"\xAB\x04\x23\x02\x90\x00".to_vec(), 1)
    );
    raw.disconnect();
}

#[tokio::test]
async fn disconnect_mid_session_leaves_the_entry_retriable() {
    let mut rig = Rig::start(
        AdminServerConfig::default(),
        Es5Queue::new(QueueConfig::default()),
    )
    .await;
    let a = eid(1);
    let ticket = rig
        .queue
        .enqueue(command(a, Target::IsdR, b"\xAA\x01"))
        .unwrap();
    let second = rig
        .queue
        .enqueue(command(a, Target::IsdR, b"\xAA\x02"))
        .unwrap();
    let mut raw = RawCard::connect(rig.addr, 1).await;
    let (status, _, body) = raw.open().await;
    assert_eq!((status, body.as_ref()), (StatusCode::OK, &b"\xAA\x01"[..]));
    assert_eq!(rig.queue.in_flight(&a), Some(ticket.id));
    raw.disconnect();

    let summary = rig.summary().await;
    assert_eq!(summary.released, Some((ticket.id, Released::Requeued)));
    assert!(
        matches!(summary.end, SessionEnd::Disconnected(_)),
        "{:?}",
        summary.end
    );
    assert_eq!(rig.queue.in_flight(&a), None);
    assert_eq!(rig.queue.pending_len(&a), 2);

    // The next session sends the same entry again, before the one behind it.
    let mut card = FakeCard::default();
    client(1, &PskCipherSuite::ALL)
        .connect(rig.addr, &mut card)
        .await
        .unwrap();
    assert_eq!(
        card.seen,
        vec![(None, b"\xAA\x01".to_vec()), (None, b"\xAA\x02".to_vec())]
    );
    assert_eq!(
        executed(ticket).await,
        (ScriptStatus::Ok, FakeCard::answer(b"\xAA\x01"), 2)
    );
    assert_eq!(executed(second).await.2, 1);
}

#[tokio::test]
async fn newer_session_supersedes_an_older_one() {
    let mut rig = Rig::start(
        AdminServerConfig::default(),
        Es5Queue::new(QueueConfig::default()),
    )
    .await;
    let a = eid(1);
    let ticket = rig
        .queue
        .enqueue(command(a, Target::IsdR, b"\xAA\x01"))
        .unwrap();
    let mut old = RawCard::connect(rig.addr, 1).await;
    let (_, headers, _) = old.open().await;
    let next = headers["x-admin-next-uri"].to_str().unwrap().to_owned();

    let mut card = FakeCard::default();
    client(1, &PskCipherSuite::ALL)
        .connect(rig.addr, &mut card)
        .await
        .unwrap();
    assert_eq!(card.seen, vec![(None, b"\xAA\x01".to_vec())]);
    assert_eq!(executed(ticket).await.2, 2);

    // The old session's late answer is refused and changes nothing.
    let (status, _, _) = old
        .post(
            &next,
            &[
                ("x-admin-protocol", "globalplatform-remote-admin/1.0"),
                ("x-admin-script-status", "ok"),
            ],
            b"\xAB\x00",
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let mut ends = vec![rig.summary().await.end, rig.summary().await.end];
    ends.sort_by_key(|e| format!("{e:?}"));
    assert_eq!(ends, vec![SessionEnd::Completed, SessionEnd::Superseded]);
    assert!(rig.queue.is_empty());
}

#[tokio::test]
async fn headers_must_match_the_psk_identity() {
    let rig = Rig::start(
        AdminServerConfig::default(),
        Es5Queue::new(QueueConfig::default()),
    )
    .await;
    let a = eid(1);
    rig.queue
        .enqueue(command(a, Target::IsdR, b"\xAA\x01"))
        .unwrap();

    let other_eid = format!(
        "//se-id/eid/{};//aa-id/aid/A000000559/1010FFFFFFFF8900000100",
        eid(2)
    );
    let other_agent = format!("//se-id/eid/{a};//aa-id/aid/A000000559/1010FFFFFFFF8900000200");
    let cases: [(Vec<(&str, &str)>, StatusCode); 4] = [
        (
            vec![
                ("x-admin-protocol", "globalplatform-remote-admin/1.0"),
                ("x-admin-from", &other_eid),
            ],
            StatusCode::FORBIDDEN,
        ),
        (
            vec![
                ("x-admin-protocol", "globalplatform-remote-admin/1.0"),
                ("x-admin-from", &other_agent),
            ],
            StatusCode::FORBIDDEN,
        ),
        (
            vec![("x-admin-protocol", "globalplatform-remote-admin/1.0")],
            StatusCode::BAD_REQUEST,
        ),
        (vec![("x-admin-from", &other_eid)], StatusCode::BAD_REQUEST),
    ];
    for (headers, expected) in cases {
        let mut raw = RawCard::connect(rig.addr, 1).await;
        let (status, _, _) = raw.post("/es5/ram", &headers, b"").await;
        assert_eq!(status, expected, "{headers:?}");
        raw.disconnect();
    }
    assert_eq!(rig.queue.pending_len(&a), 1);
    assert_eq!(rig.queue.in_flight(&a), None);
}

#[tokio::test]
async fn response_to_the_wrong_uri_is_refused_and_the_entry_released() {
    let mut rig = Rig::start(
        AdminServerConfig::default(),
        Es5Queue::new(QueueConfig::default()),
    )
    .await;
    let a = eid(1);
    let ticket = rig
        .queue
        .enqueue(command(a, Target::IsdR, b"\xAA\x01"))
        .unwrap();
    let mut raw = RawCard::connect(rig.addr, 1).await;
    raw.open().await;
    let (status, _, _) = raw
        .post(
            "/es5/ram/999999",
            &[
                ("x-admin-protocol", "globalplatform-remote-admin/1.0"),
                ("x-admin-script-status", "ok"),
            ],
            b"\xAB\x00",
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let summary = rig.summary().await;
    assert!(
        matches!(summary.end, SessionEnd::ProtocolError(_)),
        "{:?}",
        summary.end
    );
    assert_eq!(summary.released, Some((ticket.id, Released::Requeued)));
    assert_eq!(rig.queue.pending_len(&a), 1);
    raw.disconnect();
}

// --- The card client against a hand-written SM-SR, to check the client's side of the wire. ---

fn raw_server_context(expected: PskIdentity, key: Psk) -> SslContext {
    let mut b = SslContextBuilder::new(SslMethod::tls_server()).unwrap();
    b.set_min_proto_version(Some(SslVersion::TLS1_2)).unwrap();
    b.set_max_proto_version(Some(SslVersion::TLS1_2)).unwrap();
    b.set_cipher_list("PSK-AES128-CBC-SHA256").unwrap();
    b.set_psk_server_callback(move |_, identity, out| {
        let parsed = PskIdentity::parse(identity.unwrap_or_default());
        if parsed != Ok(expected) {
            return Ok(0);
        }
        out[..key.as_bytes().len()].copy_from_slice(key.as_bytes());
        Ok(key.as_bytes().len())
    });
    b.build()
}

/// Reads one request: the head as text and the de-chunked body.
async fn read_request(tls: &mut SslStream<TcpStream>) -> (String, Vec<u8>) {
    use tokio::io::AsyncReadExt;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos;
        }
        let n = tls.read(&mut chunk).await.unwrap();
        assert!(n > 0, "connection closed inside a request head");
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8(buf[..head_end].to_vec()).unwrap();
    let mut rest = buf[head_end + 4..].to_vec();
    assert!(
        head.to_ascii_lowercase()
            .contains("\r\ntransfer-encoding: chunked"),
        "request not chunked:\n{head}"
    );
    while !rest.ends_with(b"0\r\n\r\n") {
        let n = tls.read(&mut chunk).await.unwrap();
        assert!(n > 0, "connection closed inside a request body");
        rest.extend_from_slice(&chunk[..n]);
    }
    let mut body = Vec::new();
    let mut at = 0;
    loop {
        let line_end = at + rest[at..].windows(2).position(|w| w == b"\r\n").unwrap();
        let size =
            usize::from_str_radix(std::str::from_utf8(&rest[at..line_end]).unwrap(), 16).unwrap();
        if size == 0 {
            break;
        }
        body.extend_from_slice(&rest[line_end + 2..line_end + 2 + size]);
        at = line_end + 2 + size + 2;
    }
    (head, body)
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.split("\r\n").skip(1).find_map(|line| {
        let (k, v) = line.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

#[tokio::test]
async fn card_client_speaks_gp_amendment_b() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let ctx = raw_server_context(identity(4), psk(4));
    let server = tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        let (tcp, _) = listener.accept().await.unwrap();
        let mut tls = SslStream::new(Ssl::new(&ctx).unwrap(), tcp).unwrap();
        Pin::new(&mut tls).accept().await.unwrap();
        let mut heads = Vec::new();

        // 1. Opening POST: no body; keep the session with 204 + Next-URI.
        let (head, body) = read_request(&mut tls).await;
        assert!(body.is_empty());
        heads.push(head);
        tls.write_all(b"HTTP/1.1 204 No Content\r\nX-Admin-Next-URI: https://smsr.example/es5/ram/keep\r\n\r\n")
            .await
            .unwrap();

        // 2. Empty POST to that URI: send a script for an ISD-P.
        let (head, body) = read_request(&mut tls).await;
        assert!(body.is_empty());
        heads.push(head);
        let script = b"\xAA\x05\x22\x03\x80\xCA\x00";
        let mut response = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.globalplatform.card-content-mgt;version=1.0\r\n\
             X-Admin-Next-URI: /es5/ram/r1\r\nX-Admin-Targeted-Application: //aid/A000000559/1010FFFFFFFF8900001100\r\n\
             Transfer-Encoding: chunked\r\n\r\n{:x}\r\n",
            script.len()
        )
        .into_bytes();
        response.extend_from_slice(script);
        response.extend_from_slice(b"\r\n0\r\n\r\n");
        tls.write_all(&response).await.unwrap();

        // 3. The response script; end the session.
        let (head, body) = read_request(&mut tls).await;
        heads.push(head);
        tls.write_all(b"HTTP/1.1 204 No Content\r\n\r\n")
            .await
            .unwrap();
        (heads, body)
    });

    let mut card = FakeCard::default();
    let mut config = CardClientConfig::new(identity(4), psk(4));
    config.suites = vec![PskCipherSuite::Aes128CbcSha256];
    let report = CardClient::new(config)
        .unwrap()
        .connect(addr, &mut card)
        .await
        .unwrap();
    assert_eq!(
        (report.scripts, report.exchanges, report.cipher),
        (1, 3, Some(PskCipherSuite::Aes128CbcSha256))
    );
    assert_eq!(
        card.seen,
        vec![(Some(isd_p()), b"\xAA\x05\x22\x03\x80\xCA\x00".to_vec())]
    );

    let (heads, body) = server.await.unwrap();
    let from = format!(
        "//se-id/eid/{};//aa-id/aid/A000000559/1010FFFFFFFF8900000100",
        eid(4)
    );
    let paths: Vec<&str> = heads.iter().map(|h| h.split(' ').nth(1).unwrap()).collect();
    assert_eq!(paths, ["/es5/ram", "/es5/ram/keep", "/es5/ram/r1"]);
    for head in &heads {
        assert!(head.starts_with("POST "), "{head}");
        assert_eq!(
            header(head, "x-admin-protocol"),
            Some("globalplatform-remote-admin/1.0")
        );
        assert_eq!(header(head, "x-admin-from"), Some(from.as_str()));
    }
    assert_eq!(header(&heads[0], "x-admin-script-status"), None);
    assert_eq!(header(&heads[0], "content-type"), None);
    assert_eq!(header(&heads[2], "x-admin-script-status"), Some("ok"));
    assert_eq!(
        header(&heads[2], "content-type"),
        Some("application/vnd.globalplatform.card-content-mgt-response;version=1.0")
    );
    assert_eq!(body, FakeCard::answer(b"\xAA\x05\x22\x03\x80\xCA\x00"));
}
