//! The shared async queue handle: tickets, the completion stream, waiting for work, the expiry task.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use rsp_es5::queue::{
    CardResponse, Es5Queue, ManualClock, NewCommand, Next, Outcome, QueueConfig, ScriptStatus,
    Target,
};
use rsp_types::Eid;

fn eid(n: u8) -> Eid {
    Eid::with_check_digits(&format!("890490321234512345123456789{n:03}")).unwrap()
}

fn cmd(eid: Eid, deadline: SystemTime, correlation: &str) -> NewCommand {
    NewCommand {
        eid,
        target: Target::IsdR,
        script: Bytes::from_static(b"\xAA\x00"),
        deadline,
        correlation: correlation.to_owned(),
    }
}

#[tokio::test]
async fn ticket_and_subscription_receive_the_completion() {
    let queue = Es5Queue::new(QueueConfig::default());
    let mut all = queue.subscribe();
    let a = eid(1);
    let ticket = queue
        .enqueue(cmd(a, SystemTime::now() + Duration::from_secs(60), "op-1"))
        .unwrap();
    let Next::Command(d) = queue.next_for(&a) else {
        panic!("expected a command")
    };
    assert_eq!(d.id, ticket.id);
    let response = CardResponse {
        status: ScriptStatus::Ok,
        data: Bytes::from_static(b"\xAB\x00"),
    };
    queue.complete(d.id, response.clone()).unwrap();
    let done = ticket.wait().await.unwrap();
    assert_eq!(done.correlation, "op-1");
    assert_eq!(done.outcome, Outcome::Executed(response));
    assert_eq!(all.recv().await.unwrap(), done);
}

#[tokio::test]
async fn manual_clock_drives_expiry() {
    let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let clock = Arc::new(ManualClock::new(start));
    let queue = Es5Queue::with_clock(QueueConfig::default(), clock.clone());
    let mut ticket = queue
        .enqueue(cmd(eid(1), start + Duration::from_secs(30), "x"))
        .unwrap();
    assert_eq!(queue.expire_due(), 0);
    assert!(ticket.try_take().is_none());
    clock.advance(Duration::from_secs(30));
    assert_eq!(queue.expire_due(), 1);
    assert_eq!(ticket.try_take().unwrap().outcome, Outcome::Expired);
    assert!(queue.is_empty());
}

#[tokio::test]
async fn expiry_task_fires_on_the_system_clock() {
    let queue = Es5Queue::new(QueueConfig::default());
    let task = tokio::spawn(queue.clone().run_expiry(Duration::from_secs(5)));
    let ticket = queue
        .enqueue(cmd(
            eid(1),
            SystemTime::now() + Duration::from_millis(150),
            "soon",
        ))
        .unwrap();
    let done = tokio::time::timeout(Duration::from_secs(5), ticket.wait())
        .await
        .expect("expiry task did not fire")
        .unwrap();
    assert_eq!(done.outcome, Outcome::Expired);
    task.abort();
}

#[tokio::test]
async fn next_for_within_wakes_on_new_work() {
    let queue = Es5Queue::new(QueueConfig::default());
    let a = eid(1);
    // Nothing arrives: the wait ends empty after the linger.
    let started = tokio::time::Instant::now();
    assert_eq!(
        queue.next_for_within(&a, Duration::from_millis(50)).await,
        Next::Empty
    );
    assert!(started.elapsed() >= Duration::from_millis(50));

    let producer = {
        let queue = queue.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            queue
                .enqueue(cmd(a, SystemTime::now() + Duration::from_secs(60), "late"))
                .unwrap()
        })
    };
    let started = tokio::time::Instant::now();
    let next = queue.next_for_within(&a, Duration::from_secs(10)).await;
    assert!(matches!(next, Next::Command(_)), "{next:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    let ticket = producer.await.unwrap();
    let Next::Command(d) = next else {
        unreachable!()
    };
    assert_eq!(d.id, ticket.id);

    // Busy until the entry in flight completes, then the next one is handed out.
    let second = queue
        .enqueue(cmd(a, SystemTime::now() + Duration::from_secs(60), "2nd"))
        .unwrap();
    assert_eq!(queue.next_for(&a), Next::Busy(d.id));
    let completer = {
        let queue = queue.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            queue
                .complete(
                    d.id,
                    CardResponse {
                        status: ScriptStatus::Ok,
                        data: Bytes::new(),
                    },
                )
                .unwrap();
        })
    };
    let Next::Command(d2) = queue.next_for_within(&a, Duration::from_secs(10)).await else {
        panic!("expected the second command")
    };
    assert_eq!(d2.id, second.id);
    completer.await.unwrap();
}
