//! The sans-IO ES5 queue: order, one in flight per EID, expiry, release, cancel, limits.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use proptest::prelude::*;
use rsp_es5::queue::{
    CardResponse, CommandQueue, Completion, EntryId, NewCommand, Next, Outcome, QueueConfig,
    QueueError, Released, ScriptStatus, Target,
};
use rsp_types::{Aid, Eid};

fn eid(n: u8) -> Eid {
    Eid::with_check_digits(&format!("890490321234512345123456789{n:03}")).unwrap()
}

fn t(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + secs)
}

fn cmd(eid: Eid, script: &[u8], deadline: SystemTime, correlation: &str) -> NewCommand {
    NewCommand {
        eid,
        target: Target::IsdR,
        script: Bytes::copy_from_slice(script),
        deadline,
        correlation: correlation.to_owned(),
    }
}

fn ok(data: &[u8]) -> CardResponse {
    CardResponse {
        status: ScriptStatus::Ok,
        data: Bytes::copy_from_slice(data),
    }
}

fn dispatched(next: Next) -> rsp_es5::queue::Dispatch {
    match next {
        Next::Command(d) => d,
        other => panic!("expected a command, got {other:?}"),
    }
}

fn drain(q: &mut CommandQueue) -> Vec<Completion> {
    std::iter::from_fn(|| q.poll_completion()).collect()
}

#[test]
fn fifo_with_one_in_flight_per_eid() {
    let mut q = CommandQueue::new(QueueConfig::default());
    let a = eid(1);
    let ids: Vec<EntryId> = (0..3u8)
        .map(|i| {
            q.enqueue(cmd(a, &[0xAA, i], t(100), &format!("c{i}")), t(0))
                .unwrap()
        })
        .collect();
    assert_eq!(q.pending_len(&a), 3);
    for (i, id) in ids.iter().enumerate() {
        let d = dispatched(q.next_for(&a, t(1)));
        assert_eq!(d.id, *id);
        assert_eq!(d.script.as_ref(), &[0xAA, i as u8]);
        assert_eq!(d.attempt, 1);
        // While it is in flight nothing else leaves.
        assert_eq!(q.next_for(&a, t(1)), Next::Busy(*id));
        assert_eq!(q.in_flight(&a), Some(*id));
        q.complete(*id, ok(&[i as u8])).unwrap();
    }
    assert_eq!(q.next_for(&a, t(2)), Next::Empty);
    let done = drain(&mut q);
    assert_eq!(done.len(), 3);
    for (i, c) in done.iter().enumerate() {
        assert_eq!(c.id, ids[i]);
        assert_eq!(c.correlation, format!("c{i}"));
        assert_eq!(c.attempts, 1);
        assert_eq!(c.outcome, Outcome::Executed(ok(&[i as u8])));
    }
    assert!(q.is_empty());
}

#[test]
fn eids_do_not_block_each_other() {
    let mut q = CommandQueue::new(QueueConfig::default());
    let (a, b) = (eid(1), eid(2));
    let a1 = q.enqueue(cmd(a, b"a1", t(100), "a1"), t(0)).unwrap();
    let b1 = q.enqueue(cmd(b, b"b1", t(100), "b1"), t(0)).unwrap();
    assert_eq!(dispatched(q.next_for(&a, t(1))).id, a1);
    assert_eq!(dispatched(q.next_for(&b, t(1))).id, b1);
    assert_eq!(q.next_for(&a, t(1)), Next::Busy(a1));
    assert_eq!(q.next_for(&eid(3), t(1)), Next::Empty);
}

#[test]
fn waiting_entries_expire_at_their_deadline() {
    let mut q = CommandQueue::new(QueueConfig::default());
    let a = eid(1);
    let short = q.enqueue(cmd(a, b"s", t(10), "short"), t(0)).unwrap();
    let long = q.enqueue(cmd(a, b"l", t(100), "long"), t(0)).unwrap();
    assert_eq!(q.next_timer(), Some(t(10)));
    assert_eq!(q.expire(t(9)), 0);
    assert_eq!(q.expire(t(10)), 1);
    let done = drain(&mut q);
    assert_eq!(done.len(), 1);
    assert_eq!((done[0].id, &done[0].outcome), (short, &Outcome::Expired));
    assert_eq!(done[0].attempts, 0);
    // next_for expires lazily as well.
    assert_eq!(q.next_for(&a, t(100)), Next::Empty);
    let done = drain(&mut q);
    assert_eq!((done[0].id, &done[0].outcome), (long, &Outcome::Expired));
    assert!(q.is_empty());
    assert_eq!(q.next_timer(), None);
}

#[test]
fn entry_in_flight_is_not_expired_by_its_deadline() {
    let mut q = CommandQueue::new(QueueConfig::default());
    let a = eid(1);
    let id = q.enqueue(cmd(a, b"x", t(10), "x"), t(0)).unwrap();
    dispatched(q.next_for(&a, t(5)));
    q.expire(t(20));
    assert!(drain(&mut q).is_empty());
    q.complete(id, ok(b"late but real")).unwrap();
    assert_eq!(
        drain(&mut q)[0].outcome,
        Outcome::Executed(ok(b"late but real"))
    );
}

#[test]
fn release_requeues_at_the_head_then_gives_up() {
    let config = QueueConfig {
        max_attempts: 2,
        ..QueueConfig::default()
    };
    let mut q = CommandQueue::new(config);
    let a = eid(1);
    let first = q.enqueue(cmd(a, b"1", t(100), "1"), t(0)).unwrap();
    let second = q.enqueue(cmd(a, b"2", t(100), "2"), t(0)).unwrap();
    assert_eq!(dispatched(q.next_for(&a, t(1))).id, first);
    assert_eq!(q.release(first, t(2)), Ok(Released::Requeued));
    assert_eq!(q.in_flight(&a), None);
    let again = dispatched(q.next_for(&a, t(3)));
    assert_eq!((again.id, again.attempt), (first, 2));
    assert_eq!(q.release(first, t(4)), Ok(Released::Completed));
    assert_eq!(
        drain(&mut q)[0].outcome,
        Outcome::Undeliverable { attempts: 2 }
    );
    assert_eq!(dispatched(q.next_for(&a, t(5))).id, second);
}

#[test]
fn release_after_the_deadline_expires() {
    let mut q = CommandQueue::new(QueueConfig::default());
    let a = eid(1);
    let id = q.enqueue(cmd(a, b"1", t(10), "1"), t(0)).unwrap();
    dispatched(q.next_for(&a, t(1)));
    assert_eq!(q.release(id, t(11)), Ok(Released::Completed));
    let done = drain(&mut q);
    assert_eq!(
        (done[0].outcome.clone(), done[0].attempts),
        (Outcome::Expired, 1)
    );
    assert!(q.is_empty());
}

#[test]
fn in_flight_timeout_releases() {
    let config = QueueConfig {
        in_flight_timeout: Duration::from_secs(30),
        ..QueueConfig::default()
    };
    let mut q = CommandQueue::new(config);
    let a = eid(1);
    let id = q.enqueue(cmd(a, b"1", t(1000), "1"), t(0)).unwrap();
    dispatched(q.next_for(&a, t(10)));
    assert_eq!(q.next_timer(), Some(t(40)));
    q.expire(t(39));
    assert_eq!(q.in_flight(&a), Some(id));
    q.expire(t(40));
    assert_eq!(q.in_flight(&a), None);
    assert_eq!(q.pending_len(&a), 1);
    // The transport's late report is refused; the entry goes out again.
    assert_eq!(q.complete(id, ok(b"")), Err(QueueError::NotInFlight(id)));
    assert_eq!(dispatched(q.next_for(&a, t(41))).attempt, 2);
}

#[test]
fn cancel_and_errors() {
    let mut q = CommandQueue::new(QueueConfig {
        max_pending_per_eid: 2,
        ..QueueConfig::default()
    });
    let a = eid(1);
    let one = q.enqueue(cmd(a, b"1", t(100), "1"), t(0)).unwrap();
    let two = q.enqueue(cmd(a, b"2", t(100), "2"), t(0)).unwrap();
    assert_eq!(
        q.enqueue(cmd(a, b"3", t(100), "3"), t(0)),
        Err(QueueError::Full { eid: a, limit: 2 })
    );
    assert_eq!(
        q.enqueue(cmd(a, b"3", t(5), "3"), t(5)),
        Err(QueueError::DeadlinePassed)
    );
    assert_eq!(
        q.enqueue(cmd(eid(2), b"", t(100), "e"), t(0)),
        Err(QueueError::EmptyScript)
    );
    assert_eq!(q.complete(one, ok(b"")), Err(QueueError::NotInFlight(one)));
    dispatched(q.next_for(&a, t(1)));
    assert_eq!(q.cancel(one), Err(QueueError::InFlight(one)));
    q.cancel(two).unwrap();
    assert_eq!(q.cancel(two), Err(QueueError::UnknownEntry(two)));
    let unknown = EntryId::from_u64(999);
    assert_eq!(
        q.release(unknown, t(1)),
        Err(QueueError::UnknownEntry(unknown))
    );
    let done = drain(&mut q);
    assert_eq!((done[0].id, &done[0].outcome), (two, &Outcome::Cancelled));
    q.complete(one, ok(b"")).unwrap();
    assert_eq!(q.complete(one, ok(b"")), Err(QueueError::UnknownEntry(one)));
    assert!(q.is_empty());
}

#[test]
fn targets_travel_with_the_entry() {
    let mut q = CommandQueue::new(QueueConfig::default());
    let a = eid(1);
    let isd_p: Aid = "A0000005591010FFFFFFFF8900001100".parse().unwrap();
    let mut c = cmd(a, b"x", t(100), "x");
    c.target = Target::IsdP(isd_p);
    q.enqueue(c, t(0)).unwrap();
    let d = dispatched(q.next_for(&a, t(1)));
    assert_eq!(d.target, Target::IsdP(isd_p));
    assert_eq!(d.target.isd_p_aid(), Some(isd_p));
    assert_eq!(Target::IsdR.isd_p_aid(), None);
}

#[test]
fn script_status_values() {
    for (text, status) in [
        ("ok", ScriptStatus::Ok),
        (" OK ", ScriptStatus::Ok),
        ("unknown-application", ScriptStatus::UnknownApplication),
        ("not-a-security-domain", ScriptStatus::NotASecurityDomain),
        ("security-error", ScriptStatus::SecurityError),
        ("weird", ScriptStatus::Other("weird".into())),
    ] {
        assert_eq!(ScriptStatus::parse(text), status);
    }
    assert!(ScriptStatus::Ok.is_ok());
    assert!(!ScriptStatus::Missing.is_ok());
    assert_eq!(ScriptStatus::Missing.header_value(), None);
    assert_eq!(
        ScriptStatus::UnknownApplication.header_value(),
        Some("unknown-application")
    );
}

#[derive(Clone, Debug)]
enum Op {
    Enqueue { eid: u8, ttl: u64 },
    Next { eid: u8 },
    Complete { eid: u8 },
    Release { eid: u8 },
    Cancel { pick: usize },
    Advance { secs: u64 },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u8..3, 1u64..200).prop_map(|(eid, ttl)| Op::Enqueue { eid, ttl }),
        (0u8..3).prop_map(|eid| Op::Next { eid }),
        (0u8..3).prop_map(|eid| Op::Complete { eid }),
        (0u8..3).prop_map(|eid| Op::Release { eid }),
        (0usize..50).prop_map(|pick| Op::Cancel { pick }),
        (0u64..60).prop_map(|secs| Op::Advance { secs }),
    ]
}

proptest! {
    /// Whatever happens: at most one entry per EID in flight, per-EID dispatch order never goes
    /// backwards except for a released entry, and every entry completes exactly once.
    #[test]
    fn every_entry_completes_exactly_once(ops in proptest::collection::vec(op(), 1..120)) {
        let mut q = CommandQueue::new(QueueConfig {
            max_pending_per_eid: 8,
            max_attempts: 3,
            in_flight_timeout: Duration::from_secs(45),
        });
        let eids = [eid(1), eid(2), eid(3)];
        let mut now = t(0);
        let mut queued: Vec<EntryId> = Vec::new();
        let mut completions: Vec<Completion> = Vec::new();
        for op in ops {
            match op {
                Op::Enqueue { eid, ttl } => {
                    if let Ok(id) = q.enqueue(
                        cmd(eids[eid as usize], &[eid], now + Duration::from_secs(ttl), "p"),
                        now,
                    ) {
                        queued.push(id);
                    }
                }
                Op::Next { eid } => {
                    let e = eids[eid as usize];
                    let before = q.in_flight(&e);
                    match q.next_for(&e, now) {
                        Next::Busy(id) => prop_assert_eq!(Some(id), q.in_flight(&e)),
                        Next::Command(d) => {
                            prop_assert!(before.is_none());
                            prop_assert_eq!(d.eid, e);
                            prop_assert!(d.deadline > now);
                        }
                        Next::Empty => prop_assert_eq!(q.pending_len(&e), 0),
                    }
                }
                Op::Complete { eid } => {
                    if let Some(id) = q.in_flight(&eids[eid as usize]) {
                        q.complete(id, ok(b"r")).unwrap();
                        prop_assert_eq!(q.in_flight(&eids[eid as usize]), None);
                    }
                }
                Op::Release { eid } => {
                    if let Some(id) = q.in_flight(&eids[eid as usize]) {
                        q.release(id, now).unwrap();
                    }
                }
                Op::Cancel { pick } => {
                    if let Some(id) = queued.get(pick) {
                        let _ = q.cancel(*id);
                    }
                }
                Op::Advance { secs } => {
                    now += Duration::from_secs(secs);
                    q.expire(now);
                }
            }
            completions.extend(std::iter::from_fn(|| q.poll_completion()));
        }
        // Drain: answer everything still live, far in the future all waiting ones expire.
        for e in &eids {
            if let Some(id) = q.in_flight(e) {
                q.complete(id, ok(b"r")).unwrap();
            }
        }
        q.expire(now + Duration::from_secs(10_000));
        completions.extend(std::iter::from_fn(|| q.poll_completion()));
        prop_assert!(q.is_empty());
        let mut ids: Vec<EntryId> = completions.iter().map(|c| c.id).collect();
        ids.sort();
        let mut expected = queued.clone();
        expected.sort();
        prop_assert_eq!(ids, expected);
    }
}
