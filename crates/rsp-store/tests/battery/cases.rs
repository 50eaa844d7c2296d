//! The store battery: every case runs unchanged against each backend (STYLE §5.6, HK-5).

use std::collections::HashSet;
use std::io::Write as _;
use std::sync::Arc;
use std::time::Instant;

use rsp_store::*;
use serde_json::json;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use crate::harness::Harness;

const T0: OffsetDateTime = datetime!(2030-01-01 00:00:00 UTC);

fn at(secs: i64) -> OffsetDateTime {
    T0 + Duration::seconds(secs)
}

const EID: &str = "89049032123451234512345678901235";
const EID2: &str = "89049032123451234512345678901236";

fn eis(eid: &str, doc: &[u8]) -> EisData {
    EisData {
        eid: eid.into(),
        smsr_id: "1.3.6.1.4.1.99999.1".into(),
        document: doc.to_vec(),
    }
}

fn profile(iccid: &str, eid: &str, state: &str) -> ProfileData {
    ProfileData {
        iccid: iccid.into(),
        eid: eid.into(),
        isd_p_aid: Some("A0000005591010FFFFFFFF8900001100".into()),
        state: state.into(),
        mno_id: "1.3.6.1.4.1.99999.7".into(),
        smdp_id: None,
        document: b"<ProfileInfo/>".to_vec(),
    }
}

fn procedure(id: &str, due: Option<OffsetDateTime>) -> NewProcedure {
    NewProcedure {
        id: id.into(),
        kind: "sgp02.download".into(),
        state: "Start".into(),
        data: vec![1, 0, 0],
        correlation: Some(EID.into()),
        due_at: due,
    }
}

fn step(state: &str, due: Option<OffsetDateTime>) -> ProcedureUpdate {
    ProcedureUpdate {
        state: state.into(),
        data: state.as_bytes().to_vec(),
        correlation: Some(EID.into()),
        due_at: due,
    }
}

fn msg(n: u32) -> NewOutboxMessage {
    NewOutboxMessage {
        destination: "https://operator.example/es2".into(),
        kind: "es2.HandleProfileEnabledNotification".into(),
        payload: format!("<n>{n}</n>").into_bytes(),
    }
}

fn note(line: &str) {
    // Past the test harness's capture, so measurements show up in `cargo test` output.
    let _ = writeln!(std::io::stderr(), "{line}");
}

pub async fn eis_crud_and_conflict(h: &Harness) {
    let s = h.open().await;
    assert_eq!(s.get_eis(EID).await.unwrap(), None);

    let r1 = s.insert_eis(&eis(EID, b"v1"), at(1)).await.unwrap();
    assert_eq!((r1.version, r1.updated_at), (1, at(1)));
    assert!(matches!(
        s.insert_eis(&eis(EID, b"again"), at(2)).await,
        Err(StoreError::Duplicate {
            entity: Entity::Eis,
            ..
        })
    ));
    assert_eq!(s.get_eis(EID).await.unwrap(), Some(r1.clone()));

    let r2 = s.update_eis(&eis(EID, b"v2"), 1, at(3)).await.unwrap();
    assert_eq!((r2.version, r2.document.as_slice()), (2, &b"v2"[..]));
    assert_eq!(r2.updated_at, at(3));
    // A writer still holding version 1 loses.
    assert!(matches!(
        s.update_eis(&eis(EID, b"stale"), 1, at(4)).await,
        Err(StoreError::Conflict {
            entity: Entity::Eis,
            ..
        })
    ));
    assert_eq!(s.get_eis(EID).await.unwrap().unwrap().document, b"v2");
    assert!(matches!(
        s.update_eis(&eis(EID2, b"x"), 1, at(4)).await,
        Err(StoreError::NotFound {
            entity: Entity::Eis,
            ..
        })
    ));

    assert!(matches!(
        s.delete_eis(EID, 1).await,
        Err(StoreError::Conflict { .. })
    ));
    s.delete_eis(EID, 2).await.unwrap();
    assert_eq!(s.get_eis(EID).await.unwrap(), None);
    assert!(matches!(
        s.delete_eis(EID, 2).await,
        Err(StoreError::NotFound { .. })
    ));
}

pub async fn profile_crud_and_conflict(h: &Harness) {
    let s = h.open().await;
    let a = s
        .insert_profile(&profile("8944000000000000011", EID, "Created"), at(1))
        .await
        .unwrap();
    assert_eq!(a.version, 1);
    s.insert_profile(&profile("8944000000000000002", EID, "Enabled"), at(1))
        .await
        .unwrap();
    s.insert_profile(&profile("8944000000000000003", EID2, "Enabled"), at(1))
        .await
        .unwrap();
    // ICCID is unique, whatever the card.
    assert!(matches!(
        s.insert_profile(&profile("8944000000000000011", EID2, "Created"), at(2))
            .await,
        Err(StoreError::Duplicate {
            entity: Entity::Profile,
            ..
        })
    ));

    let on_card: Vec<String> = s
        .profiles_by_eid(EID)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.iccid)
        .collect();
    assert_eq!(on_card, ["8944000000000000002", "8944000000000000011"]);

    let mut changed = profile("8944000000000000011", EID, "Disabled");
    changed.smdp_id = Some("1.3.6.1.4.1.99999.3".into());
    changed.isd_p_aid = None;
    let b = s.update_profile(&changed, 1, at(5)).await.unwrap();
    assert_eq!(b.version, 2);
    assert_eq!(b.state, "Disabled");
    assert_eq!(b.smdp_id.as_deref(), Some("1.3.6.1.4.1.99999.3"));
    assert_eq!(b.isd_p_aid, None);
    assert_eq!(s.get_profile("8944000000000000011").await.unwrap(), Some(b));
    assert!(matches!(
        s.update_profile(&changed, 1, at(6)).await,
        Err(StoreError::Conflict { .. })
    ));
    assert!(matches!(
        s.update_profile(&profile("8944000000000000099", EID, "Created"), 1, at(6))
            .await,
        Err(StoreError::NotFound { .. })
    ));

    assert!(matches!(
        s.delete_profile("8944000000000000011", 1).await,
        Err(StoreError::Conflict { .. })
    ));
    s.delete_profile("8944000000000000011", 2).await.unwrap();
    assert_eq!(s.get_profile("8944000000000000011").await.unwrap(), None);
    assert_eq!(s.profiles_by_eid(EID).await.unwrap().len(), 1);
}

pub async fn procedure_lifecycle(h: &Harness) {
    let s = h.open().await;
    let p = s
        .create_procedure(&procedure("p1", Some(at(10))), at(1))
        .await
        .unwrap();
    assert_eq!(p.version, 1);
    assert_eq!((p.created_at, p.updated_at), (at(1), at(1)));
    assert_eq!((p.lease_holder.clone(), p.lease_until), (None, None));
    assert!(matches!(
        s.create_procedure(&procedure("p1", None), at(2)).await,
        Err(StoreError::Duplicate {
            entity: Entity::Procedure,
            ..
        })
    ));
    assert_eq!(s.load_procedure("p1").await.unwrap(), Some(p));

    let mut other = procedure("p2", None);
    other.correlation = Some("msg-42".into());
    s.create_procedure(&other, at(2)).await.unwrap();
    s.create_procedure(&procedure("p3", None), at(3))
        .await
        .unwrap();

    let by_eid: Vec<String> = s
        .procedures_by_correlation(EID)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(by_eid, ["p1", "p3"]);
    assert_eq!(
        s.procedures_by_correlation("msg-42").await.unwrap().len(),
        1
    );
    assert!(
        s.procedures_by_correlation("none")
            .await
            .unwrap()
            .is_empty()
    );

    let mut next = step("AwaitingCreateIsdp", None);
    next.correlation = Some("msg-43".into());
    let p = s.advance_procedure("p1", 1, &next, at(4)).await.unwrap();
    assert_eq!(p.version, 2);
    assert_eq!(p.state, "AwaitingCreateIsdp");
    assert_eq!(p.data, b"AwaitingCreateIsdp");
    assert_eq!(p.due_at, None);
    assert_eq!((p.created_at, p.updated_at), (at(1), at(4)));
    assert_eq!(
        s.procedures_by_correlation("msg-43").await.unwrap()[0].id,
        "p1"
    );
    assert!(matches!(
        s.advance_procedure("p1", 1, &step("Stale", None), at(5))
            .await,
        Err(StoreError::Conflict { .. })
    ));
    assert!(matches!(
        s.advance_procedure("nope", 1, &step("X", None), at(5))
            .await,
        Err(StoreError::NotFound { .. })
    ));
    assert_eq!(s.load_procedure("p1").await.unwrap().unwrap().version, 2);

    assert!(matches!(
        s.delete_procedure("p1", 1).await,
        Err(StoreError::Conflict { .. })
    ));
    s.delete_procedure("p1", 2).await.unwrap();
    assert_eq!(s.load_procedure("p1").await.unwrap(), None);
}

pub async fn claim_due_leasing(h: &Harness) {
    let s = h.open().await;
    s.create_procedure(&procedure("late", Some(at(30))), at(0))
        .await
        .unwrap();
    s.create_procedure(&procedure("b", Some(at(20))), at(0))
        .await
        .unwrap();
    s.create_procedure(&procedure("a", Some(at(10))), at(0))
        .await
        .unwrap();
    s.create_procedure(&procedure("waiting", None), at(0))
        .await
        .unwrap();

    // Nothing is due yet.
    assert!(
        s.claim_due_procedures(at(5), "n1", Duration::seconds(60), 10)
            .await
            .unwrap()
            .is_empty()
    );
    // Earliest due first; the limit holds; `due_at = NULL` is never claimed.
    let got = s
        .claim_due_procedures(at(25), "n1", Duration::seconds(60), 1)
        .await
        .unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].id, "a");
    assert_eq!(got[0].lease_holder.as_deref(), Some("n1"));
    assert_eq!(got[0].lease_until, Some(at(85)));
    assert_eq!(got[0].version, 1, "claiming does not bump the version");
    let got = s
        .claim_due_procedures(at(25), "n2", Duration::seconds(60), 10)
        .await
        .unwrap();
    assert_eq!(got.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), ["b"]);

    // Leased rows are not claimed again while the lease runs...
    assert!(
        s.claim_due_procedures(at(84), "n3", Duration::seconds(60), 10)
            .await
            .unwrap()
            .iter()
            .all(|p| p.id == "late")
    );
    // ... and are reclaimable once it expired (a crashed node's work is resumed).
    let got = s
        .claim_due_procedures(at(200), "n3", Duration::seconds(60), 10)
        .await
        .unwrap();
    let ids: HashSet<&str> = got.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, HashSet::from(["a", "b", "late"]));
    assert!(got.iter().all(|p| p.lease_holder.as_deref() == Some("n3")));

    // The old holder of "a" can still lose to the version check; the new holder advances.
    let a = s.load_procedure("a").await.unwrap().unwrap();
    let a2 = s
        .advance_procedure("a", a.version, &step("Retrying", Some(at(300))), at(201))
        .await
        .unwrap();
    assert_eq!(
        (a2.lease_holder, a2.lease_until),
        (None, None),
        "advance clears the lease"
    );
    assert!(matches!(
        s.advance_procedure("a", a.version, &step("Stale", None), at(202))
            .await,
        Err(StoreError::Conflict { .. })
    ));
    // Finish the others; "a"'s next timer step becomes claimable on time, by anyone.
    for id in ["b", "late"] {
        let p = s.load_procedure(id).await.unwrap().unwrap();
        s.advance_procedure(id, p.version, &step("Done", None), at(203))
            .await
            .unwrap();
    }
    assert!(
        s.claim_due_procedures(at(299), "n1", Duration::seconds(1), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let got = s
        .claim_due_procedures(at(300), "n1", Duration::seconds(1), 10)
        .await
        .unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].id, "a");
}

/// Several nodes (separate pools) with several tasks each claim and advance concurrently:
/// every row is processed exactly once.
pub async fn concurrent_claims_never_double(h: &Harness) {
    const ROWS: usize = 240;
    let setup = h.open().await;
    for i in 0..ROWS {
        setup
            .create_procedure(
                &procedure(&format!("c{i:04}"), Some(at(i as i64 % 7))),
                at(0),
            )
            .await
            .unwrap();
    }
    let mut nodes = Vec::new();
    for _ in 0..3 {
        nodes.push(h.open_with(4).await);
    }
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (n, node) in nodes.iter().enumerate() {
        for t in 0..3 {
            let node: Arc<dyn Store> = Arc::clone(node);
            let holder = format!("node{n}-task{t}");
            tasks.push(tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let got = node
                        .claim_due_procedures(at(10), &holder, Duration::minutes(10), 3)
                        .await
                        .unwrap();
                    if got.is_empty() {
                        break;
                    }
                    for p in got {
                        assert_eq!(p.lease_holder.as_deref(), Some(holder.as_str()));
                        // A double claim would show up here as a Conflict.
                        node.advance_procedure(&p.id, p.version, &step("Done", None), at(11))
                            .await
                            .unwrap();
                        mine.push(p.id);
                    }
                }
                mine
            }));
        }
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let elapsed = started.elapsed();
    let unique: HashSet<&String> = all.iter().collect();
    assert_eq!(all.len(), ROWS, "every row claimed exactly once");
    assert_eq!(unique.len(), ROWS);
    for i in 0..ROWS {
        let p = setup
            .load_procedure(&format!("c{i:04}"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!((p.state.as_str(), p.version), ("Done", 2));
    }
    note(&format!(
        "rsp-store {:?}: {ROWS} claim+advance by 9 tasks on 3 pools in {:?} ({:.0}/s, debug build)",
        setup.backend(),
        elapsed,
        ROWS as f64 / elapsed.as_secs_f64()
    ));
}

/// Two requests racing on one procedure version (two SOAP calls, two nodes): exactly one wins.
pub async fn racing_advances_one_wins(h: &Harness) {
    let a = h.open().await;
    let b = h.open().await;
    a.create_procedure(&procedure("race", None), at(0))
        .await
        .unwrap();
    for round in 0..20i64 {
        let version = a.load_procedure("race").await.unwrap().unwrap().version;
        assert_eq!(version, round + 1);
        let (from_a, from_b) = (step("FromA", None), step("FromB", None));
        let (ra, rb) = tokio::join!(
            a.advance_procedure("race", version, &from_a, at(round)),
            b.advance_procedure("race", version, &from_b, at(round)),
        );
        let wins = [&ra, &rb].iter().filter(|r| r.is_ok()).count();
        assert_eq!(wins, 1, "round {round}: {ra:?} / {rb:?}");
        for r in [ra, rb] {
            if let Err(e) = r {
                assert!(matches!(e, StoreError::Conflict { .. }), "{e:?}");
            }
        }
    }
}

pub async fn outbox_retry_and_dead_letter(h: &Harness) {
    let s = h.open().await;
    let id1 = s.enqueue(&msg(1), at(0)).await.unwrap();
    let id2 = s.enqueue(&msg(2), at(1)).await.unwrap();
    assert_ne!(id1, id2);
    let m = s.get_outbox_message(id1).await.unwrap().unwrap();
    assert_eq!(m.status, OutboxStatus::Pending);
    assert_eq!((m.attempts, m.next_attempt_at), (0, at(0)));
    assert_eq!(m.payload, b"<n>1</n>");

    let got = s
        .claim_due_messages(at(0), "n1", Duration::seconds(30), 10)
        .await
        .unwrap();
    assert_eq!(got.iter().map(|m| m.id).collect::<Vec<_>>(), [id1]);
    let got = s
        .claim_due_messages(at(5), "n2", Duration::seconds(30), 10)
        .await
        .unwrap();
    assert_eq!(got.iter().map(|m| m.id).collect::<Vec<_>>(), [id2]);

    // Only the lease holder may report on a message.
    assert!(matches!(
        s.mark_delivered(id1, "n2", at(6)).await,
        Err(StoreError::Conflict { .. })
    ));
    s.mark_delivered(id2, "n2", at(6)).await.unwrap();
    assert!(matches!(
        s.mark_delivered(id2, "n2", at(7)).await,
        Err(StoreError::Conflict { .. })
    ));
    assert!(matches!(
        s.mark_delivered(9_999_999, "n2", at(7)).await,
        Err(StoreError::NotFound { .. })
    ));
    assert_eq!(
        s.get_outbox_message(id2).await.unwrap().unwrap().status,
        OutboxStatus::Delivered
    );

    // id1 fails three times with back-off, then becomes a dead letter (max 3 attempts).
    let mut now = at(10);
    for attempt in 1..=3u32 {
        let got = s
            .claim_due_messages(now, "n1", Duration::seconds(30), 10)
            .await
            .unwrap();
        if attempt > 1 {
            assert_eq!(got.len(), 1, "attempt {attempt}");
        }
        let retry_at = now + Duration::seconds(60 * i64::from(attempt));
        let outcome = s
            .mark_failed(id1, "n1", &format!("HTTP 503 #{attempt}"), retry_at, 3, now)
            .await
            .unwrap();
        if attempt < 3 {
            assert_eq!(outcome, FailureOutcome::Retry { attempts: attempt });
            // Not due before the back-off ends.
            assert!(
                s.claim_due_messages(retry_at - Duration::SECOND, "n9", Duration::seconds(30), 10)
                    .await
                    .unwrap()
                    .is_empty()
            );
        } else {
            assert_eq!(outcome, FailureOutcome::DeadLettered { attempts: 3 });
        }
        now = retry_at;
    }
    let dead = s.get_outbox_message(id1).await.unwrap().unwrap();
    assert_eq!(dead.status, OutboxStatus::Dead);
    assert_eq!(dead.attempts, 3);
    assert_eq!(dead.last_error.as_deref(), Some("HTTP 503 #3"));
    assert!(
        s.claim_due_messages(at(100_000), "n1", Duration::seconds(30), 10)
            .await
            .unwrap()
            .is_empty(),
        "dead letters are not claimed"
    );
    assert_eq!(
        s.dead_letters(None, 10)
            .await
            .unwrap()
            .iter()
            .map(|m| m.id)
            .collect::<Vec<_>>(),
        [id1]
    );
    assert!(s.dead_letters(Some(id1), 10).await.unwrap().is_empty());

    // Requeue by an operator: due again, attempts reset.
    s.requeue_dead_letter(id1, at(500)).await.unwrap();
    assert!(matches!(
        s.requeue_dead_letter(id1, at(500)).await,
        Err(StoreError::Conflict { .. })
    ));
    let got = s
        .claim_due_messages(at(500), "n1", Duration::seconds(30), 10)
        .await
        .unwrap();
    assert_eq!((got.len(), got[0].attempts), (1, 0));
    s.mark_delivered(id1, "n1", at(501)).await.unwrap();

    // Purge delivered messages last touched before a cutoff.
    assert_eq!(s.purge_delivered(at(100)).await.unwrap(), 1);
    assert_eq!(s.get_outbox_message(id2).await.unwrap(), None);
    assert_eq!(s.purge_delivered(at(1000)).await.unwrap(), 1);
}

pub async fn outbox_lease_expiry(h: &Harness) {
    let s = h.open().await;
    let id = s.enqueue(&msg(7), at(0)).await.unwrap();
    let got = s
        .claim_due_messages(at(0), "n1", Duration::seconds(30), 10)
        .await
        .unwrap();
    assert_eq!(got[0].lease_until, Some(at(30)));
    assert!(
        s.claim_due_messages(at(29), "n2", Duration::seconds(30), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let got = s
        .claim_due_messages(at(30), "n2", Duration::seconds(30), 10)
        .await
        .unwrap();
    assert_eq!(got.iter().map(|m| m.id).collect::<Vec<_>>(), [id]);
    // The node that lost its lease can no longer report on the message.
    assert!(matches!(
        s.mark_failed(id, "n1", "timeout", at(90), 5, at(31)).await,
        Err(StoreError::Conflict { .. })
    ));
    s.mark_delivered(id, "n2", at(31)).await.unwrap();
}

pub async fn idempotency_states(h: &Harness) {
    let s = h.open().await;
    let (caller, fcid) = ("1.3.6.1.4.1.99999.7", "FCID-0001");
    assert_eq!(
        s.begin_idempotent(caller, fcid, b"hash-a", at(0))
            .await
            .unwrap(),
        IdempotencyBegin::New
    );
    assert_eq!(
        s.begin_idempotent(caller, fcid, b"hash-a", at(1))
            .await
            .unwrap(),
        IdempotencyBegin::InProgress
    );
    assert_eq!(
        s.begin_idempotent(caller, fcid, b"hash-b", at(1))
            .await
            .unwrap(),
        IdempotencyBegin::Mismatch
    );
    // The key is per caller.
    assert_eq!(
        s.begin_idempotent("1.3.6.1.4.1.99999.8", fcid, b"hash-b", at(1))
            .await
            .unwrap(),
        IdempotencyBegin::New
    );

    s.complete_idempotent(caller, fcid, b"<response/>", at(2))
        .await
        .unwrap();
    assert_eq!(
        s.begin_idempotent(caller, fcid, b"hash-a", at(3))
            .await
            .unwrap(),
        IdempotencyBegin::Completed(b"<response/>".to_vec())
    );
    assert_eq!(
        s.begin_idempotent(caller, fcid, b"hash-b", at(3))
            .await
            .unwrap(),
        IdempotencyBegin::Mismatch
    );
    assert!(matches!(
        s.complete_idempotent(caller, fcid, b"other", at(4)).await,
        Err(StoreError::Conflict {
            entity: Entity::Idempotency,
            ..
        })
    ));
    assert!(matches!(
        s.complete_idempotent(caller, "FCID-none", b"x", at(4))
            .await,
        Err(StoreError::NotFound { .. })
    ));

    // Abandon frees an in-progress key, never a completed one.
    assert_eq!(
        s.begin_idempotent(caller, "FCID-0002", b"h", at(5))
            .await
            .unwrap(),
        IdempotencyBegin::New
    );
    s.abandon_idempotent(caller, "FCID-0002").await.unwrap();
    assert_eq!(
        s.begin_idempotent(caller, "FCID-0002", b"h", at(6))
            .await
            .unwrap(),
        IdempotencyBegin::New
    );
    assert!(matches!(
        s.abandon_idempotent(caller, fcid).await,
        Err(StoreError::Conflict { .. })
    ));

    // Purge by creation time.
    assert_eq!(s.purge_idempotency(at(1)).await.unwrap(), 1);
    assert_eq!(
        s.begin_idempotent(caller, fcid, b"hash-b", at(7))
            .await
            .unwrap(),
        IdempotencyBegin::New
    );
}

/// Concurrent duplicates of one request: exactly one is processed.
pub async fn idempotency_concurrent_begin(h: &Harness) {
    let nodes = [h.open().await, h.open().await];
    let mut tasks = Vec::new();
    for i in 0..12 {
        let node = Arc::clone(&nodes[i % 2]);
        tasks.push(tokio::spawn(async move {
            node.begin_idempotent("caller", "FCID-RACE", b"same", at(0))
                .await
                .unwrap()
        }));
    }
    let mut new = 0;
    for t in tasks {
        match t.await.unwrap() {
            IdempotencyBegin::New => new += 1,
            IdempotencyBegin::InProgress => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(new, 1);
}

pub async fn audit_paging(h: &Harness) {
    let s = h.open().await;
    // Appended out of time order, and another card's entries interleaved.
    let mut expected = Vec::new();
    for i in 0..7i64 {
        let when = at((i * 37) % 11);
        let id = s
            .append_audit(&NewAuditRecord {
                at: when,
                actor: "1.3.6.1.4.1.99999.7".into(),
                action: format!("ES4.EnableProfile#{i}"),
                eid: Some(EID.into()),
                iccid: (i % 2 == 0).then(|| "8944000000000000011".to_string()),
                detail: json!({ "i": i, "status": "EX" }),
            })
            .await
            .unwrap();
        expected.push((when, id));
        s.append_audit(&NewAuditRecord {
            at: when,
            actor: "smsr".into(),
            action: "other".into(),
            eid: Some(EID2.into()),
            iccid: None,
            detail: json!(null),
        })
        .await
        .unwrap();
    }
    s.append_audit(&NewAuditRecord {
        at: at(3),
        actor: "smsr".into(),
        action: "no-eid".into(),
        eid: None,
        iccid: None,
        detail: json!([]),
    })
    .await
    .unwrap();
    expected.sort();

    let mut seen = Vec::new();
    let mut cursor = None;
    let mut pages = 0;
    loop {
        let page = s.audit_by_eid(EID, cursor, 3).await.unwrap();
        pages += 1;
        assert!(page.records.len() <= 3);
        for r in &page.records {
            assert_eq!(r.eid.as_deref(), Some(EID));
            let i: i64 = r.detail["i"].as_i64().unwrap();
            assert_eq!(r.action, format!("ES4.EnableProfile#{i}"));
            assert_eq!(r.iccid.is_some(), i % 2 == 0);
            seen.push((r.at, r.id));
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, expected);
    let exact = s.audit_by_eid(EID, None, 7).await.unwrap();
    assert_eq!((exact.records.len(), exact.next), (7, None));
    assert!(
        s.audit_by_eid("0", None, 5)
            .await
            .unwrap()
            .records
            .is_empty()
    );
}

pub async fn batch_is_atomic(h: &Harness) {
    let s = h.open().await;
    s.create_procedure(&procedure("dl", None), at(0))
        .await
        .unwrap();
    s.insert_eis(&eis(EID, b"v1"), at(0)).await.unwrap();
    s.begin_idempotent("op", "F1", b"h", at(0)).await.unwrap();

    // One step: advance, update the EIS, enqueue the notification, audit, store the response.
    let ops = vec![
        WriteOp::AdvanceProcedure {
            id: "dl".into(),
            expected_version: 1,
            update: step("Done", None),
        },
        WriteOp::UpdateEis {
            data: eis(EID, b"v2"),
            expected_version: 1,
        },
        WriteOp::InsertProfile(profile("8944000000000000011", EID, "Disabled")),
        WriteOp::Enqueue(msg(1)),
        WriteOp::AppendAudit(NewAuditRecord {
            at: at(1),
            actor: "op".into(),
            action: "download".into(),
            eid: Some(EID.into()),
            iccid: None,
            detail: json!({}),
        }),
        WriteOp::CompleteIdempotency {
            caller: "op".into(),
            fcid: "F1".into(),
            response: b"ok".to_vec(),
        },
    ];
    let results = s.apply(&ops, at(1)).await.unwrap();
    assert_eq!(results.len(), ops.len());
    assert!(matches!(&results[0], WriteResult::Procedure(p) if p.version == 2));
    assert!(matches!(&results[1], WriteResult::Eis(e) if e.version == 2));
    let WriteResult::Enqueued(msg_id) = results[3] else {
        panic!("{:?}", results[3])
    };
    assert!(s.get_outbox_message(msg_id).await.unwrap().is_some());
    assert_eq!(
        s.begin_idempotent("op", "F1", b"h", at(2)).await.unwrap(),
        IdempotencyBegin::Completed(b"ok".to_vec())
    );

    // A failing op (stale version) rolls back everything before it.
    let ops = vec![
        WriteOp::Enqueue(msg(2)),
        WriteOp::UpdateEis {
            data: eis(EID, b"v3"),
            expected_version: 2,
        },
        WriteOp::DeleteProfile {
            iccid: "8944000000000000011".into(),
            expected_version: 1,
        },
        WriteOp::AdvanceProcedure {
            id: "dl".into(),
            expected_version: 1,
            update: step("Again", None),
        },
    ];
    assert!(matches!(
        s.apply(&ops, at(3)).await,
        Err(StoreError::Conflict {
            entity: Entity::Procedure,
            ..
        })
    ));
    assert_eq!(s.get_eis(EID).await.unwrap().unwrap().document, b"v2");
    assert!(
        s.get_profile("8944000000000000011")
            .await
            .unwrap()
            .is_some()
    );
    let due = s
        .claim_due_messages(at(10), "n", Duration::seconds(5), 10)
        .await
        .unwrap();
    assert_eq!(due.len(), 1, "the rolled-back message was not enqueued");
    // A duplicate insert inside a batch is reported as such.
    assert!(matches!(
        s.apply(&[WriteOp::CreateProcedure(procedure("dl", None))], at(4))
            .await,
        Err(StoreError::Duplicate { .. })
    ));
}

pub async fn meta_and_schema(h: &Harness) {
    let s = h.open().await;
    assert_eq!(s.schema_version().await.unwrap(), SCHEMA_VERSION);
    assert_eq!(
        s.get_meta("schema_version").await.unwrap().as_deref(),
        Some("1")
    );
    assert_eq!(s.get_meta("node_id").await.unwrap(), None);
    s.set_meta("node_id", "a").await.unwrap();
    s.set_meta("node_id", "b").await.unwrap();
    assert_eq!(s.get_meta("node_id").await.unwrap().as_deref(), Some("b"));
}

pub async fn reopen_keeps_data(h: &Harness) {
    let s = h.open().await;
    s.insert_eis(&eis(EID, b"persisted"), at(1)).await.unwrap();
    let p = s
        .create_procedure(&procedure("p", Some(at(9))), at(1))
        .await
        .unwrap();
    s.set_meta("node_id", "n1").await.unwrap();
    s.close().await;
    assert!(s.get_eis(EID).await.is_err(), "a closed store refuses work");

    // Reopening runs the migrations again: a no-op.
    let s = h.open().await;
    assert_eq!(
        s.get_eis(EID).await.unwrap().unwrap().document,
        b"persisted"
    );
    assert_eq!(s.load_procedure("p").await.unwrap(), Some(p));
    assert_eq!(s.get_meta("node_id").await.unwrap().as_deref(), Some("n1"));
    assert_eq!(s.schema_version().await.unwrap(), SCHEMA_VERSION);
    s.close().await;
    let s = h.open().await;
    assert_eq!(s.schema_version().await.unwrap(), SCHEMA_VERSION);
}

pub async fn refuses_newer_schema(h: &Harness) {
    let s = h.open().await;
    s.close().await;
    // As if a newer build had applied a migration this build does not know.
    h.exec(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         SELECT 999, 'from the future', success, checksum, execution_time \
         FROM _sqlx_migrations WHERE version = 1",
    )
    .await;
    match open(&h.url).await {
        Err(StoreError::Migration(_)) => {}
        Err(other) => panic!("expected a migration error, got {other:?}"),
        Ok(_) => panic!("a newer schema was accepted"),
    }
}

pub async fn invalid_input_is_typed(h: &Harness) {
    let s = h.open().await;
    assert!(matches!(
        s.claim_due_procedures(at(0), "n", Duration::ZERO, 1).await,
        Err(StoreError::InvalidInput(_))
    ));
    assert!(matches!(
        s.claim_due_procedures(at(0), "n", Duration::SECOND, 0)
            .await,
        Err(StoreError::InvalidInput(_))
    ));
    assert!(matches!(
        s.claim_due_messages(at(0), "n", -Duration::SECOND, 1).await,
        Err(StoreError::InvalidInput(_))
    ));
    let id = s.enqueue(&msg(1), at(0)).await.unwrap();
    assert!(matches!(
        s.mark_failed(id, "n", "e", at(1), 0, at(0)).await,
        Err(StoreError::InvalidInput(_))
    ));
    assert!(matches!(
        s.audit_by_eid(EID, None, 0).await,
        Err(StoreError::InvalidInput(_))
    ));
}

/// A runner claims only its own kind of work; the other kinds stay due for their runners.
pub async fn claims_filter_by_kind(h: &Harness) {
    let s = h.open().await;
    let mut a = procedure("soap-1", Some(at(1)));
    a.kind = "soap.async-call".into();
    let mut b = procedure("dl-1", Some(at(1)));
    b.kind = "sgp02.download".into();
    s.create_procedure(&a, at(0)).await.unwrap();
    s.create_procedure(&b, at(0)).await.unwrap();
    let got = s
        .claim_due_procedures_of("sgp02.download", at(5), "n1", Duration::seconds(60), 10)
        .await
        .unwrap();
    assert_eq!(
        got.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
        ["dl-1"]
    );
    let got = s
        .claim_due_procedures(at(5), "n2", Duration::seconds(60), 10)
        .await
        .unwrap();
    assert_eq!(
        got.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
        ["soap-1"]
    );

    for (dest, kind) in [
        ("https://a", "soap.message"),
        ("https://b", "smsr.notification"),
    ] {
        s.enqueue(
            &NewOutboxMessage {
                destination: dest.into(),
                kind: kind.into(),
                payload: b"x".to_vec(),
            },
            at(0),
        )
        .await
        .unwrap();
    }
    let got = s
        .claim_due_messages_of("smsr.notification", at(5), "n1", Duration::seconds(60), 10)
        .await
        .unwrap();
    assert_eq!(
        got.iter()
            .map(|m| m.destination.as_str())
            .collect::<Vec<_>>(),
        ["https://b"]
    );
    assert!(
        s.claim_due_messages_of(
            "nothing.of.this.kind",
            at(5),
            "n1",
            Duration::seconds(60),
            10
        )
        .await
        .unwrap()
        .is_empty()
    );
}
