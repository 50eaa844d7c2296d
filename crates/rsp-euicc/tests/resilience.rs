//! Default Notification retries and roll-back, the fall-back mechanism, the Emergency and Test
//! profile rules, and the first-attach declaration.

mod common;

use common::*;
use rsp_euicc::m2m::{
    CardError, ConnectivityOutcome, LocalKind, M2mCard, NotificationType, Pol1, ProfileClass,
    ProfileMetadata,
};
use rsp_gp::CardCommand;

const PINNED: Pol1 = Pol1 {
    disable_not_allowed: true,
    delete_not_allowed: false,
    delete_when_disabled: true,
};

fn set_fall_back(card: &mut M2mCard, n: u8) -> u16 {
    select(card, &isd_r());
    cmd(card, CardCommand::set_fall_back_attribute(aid(n))).1
}

fn set_emergency(card: &mut M2mCard, n: u8) -> u16 {
    select(card, &isd_r());
    cmd(card, CardCommand::set_emergency_profile_attribute(aid(n))).1
}

#[test]
fn unconfirmed_enable_is_retried_then_rolled_back() {
    let pki = TestPki::new();
    let mut card = issue(&pki, 40, true);
    download_n(&mut card, &pki, 1, meta(Pol1::NONE));
    card.advance_time(t(1000));
    assert_eq!(enable(&mut card, aid(1)), 0x9000);
    let first = card.poll_notification().unwrap();
    assert_eq!(
        (first.attempt, first.kind),
        (1, NotificationType::ProfileChangeSucceeded)
    );
    assert_eq!(card.next_deadline(), Some(t(1060)));
    // Nothing happens before the deadline.
    card.handle_timeout(t(1059));
    assert!(card.poll_notification().is_none());
    // Second and third attempts: same sequence number, same bytes.
    card.handle_timeout(t(1060));
    let second = card.poll_notification().unwrap();
    assert_eq!((second.seq, second.attempt), (first.seq, 2));
    assert_eq!(second.payload, first.payload);
    card.handle_timeout(t(1120));
    assert_eq!(card.poll_notification().unwrap().attempt, 3);
    assert_eq!(card.enabled_profile(), Some(aid(1)));
    // The last window closes: back to the previous profile, notification 03.
    card.handle_timeout(t(1180));
    assert_eq!(card.enabled_profile(), Some(bootstrap_aid()));
    let rb = card.poll_notification().unwrap();
    assert_eq!(rb.kind, NotificationType::ProfileChangeRolledBack);
    assert_eq!(rb.isd_p_aid, Some(bootstrap_aid()));
    assert_ne!(rb.seq, first.seq);
    let wire = rsp_gp::DefaultNotification::parse(&rb.payload).unwrap();
    assert_eq!(wire.notification_type.to_u8(), 0x03);
    // A late confirmation of the original change is unknown now.
    assert_eq!(confirm(&mut card, first.seq).1, 0x6A88);
    assert_eq!(confirm(&mut card, rb.seq).1, 0x9000);
    assert_eq!(card.next_deadline(), None);
    card.check_invariants().unwrap();
}

#[test]
fn unconfirmed_roll_back_ends_in_fall_back() {
    let pki = TestPki::new();
    let mut card = issue(&pki, 41, true);
    download_n(&mut card, &pki, 1, meta(Pol1::NONE));
    download_n(&mut card, &pki, 2, meta(Pol1::NONE));
    assert_eq!(set_fall_back(&mut card, 2), 0x9000);
    assert_eq!(status(&mut card, aid(2)).unwrap().1, 0x01);
    assert_eq!(status(&mut card, bootstrap_aid()).unwrap().1, 0x00);
    assert_eq!(enable(&mut card, aid(1)), 0x9000);
    // Nobody answers: three windows for 02, roll-back to the bootstrap, three windows for 03,
    // then fall-back to profile 2 (05).
    let mut now = 0;
    let mut kinds = Vec::new();
    while card.enabled_profile() != Some(aid(2)) {
        kinds.extend(std::iter::from_fn(|| card.poll_notification()).map(|n| (n.kind, n.attempt)));
        now += 60;
        assert!(now < 1000, "no fall-back happened");
        card.handle_timeout(t(now));
    }
    kinds.extend(std::iter::from_fn(|| card.poll_notification()).map(|n| (n.kind, n.attempt)));
    use NotificationType::*;
    assert_eq!(
        kinds,
        vec![
            (ProfileChangeSucceeded, 1),
            (ProfileChangeSucceeded, 2),
            (ProfileChangeSucceeded, 3),
            (ProfileChangeRolledBack, 1),
            (ProfileChangeRolledBack, 2),
            (ProfileChangeRolledBack, 3),
            (FallBack, 1),
        ]
    );
    assert_eq!(now, 360);
    card.check_invariants().unwrap();
}

#[test]
fn connectivity_loss_falls_back_ignoring_pol1_without_deleting() {
    let pki = TestPki::new();
    let mut card = issue(&pki, 42, true);
    download_n(&mut card, &pki, 1, meta(PINNED));
    download_n(&mut card, &pki, 2, meta(Pol1::NONE));
    assert_eq!(enable(&mut card, aid(1)), 0x9000);
    confirm_all(&mut card);

    let out = card.connectivity_lost(t(100)).unwrap();
    assert_eq!(
        out,
        ConnectivityOutcome::FellBack {
            to: bootstrap_aid()
        }
    );
    assert_eq!(card.enabled_profile(), Some(bootstrap_aid()));
    let n = card.poll_notification().unwrap();
    assert_eq!(n.kind, NotificationType::FallBack);
    assert_eq!(n.isd_p_aid, Some(bootstrap_aid()));
    // No automatic deletion, even though POL1 asks for deletion on disable.
    assert_eq!(confirm(&mut card, n.seq), (vec![], 0x9000));
    assert!(card.isd_p(&aid(1)).is_some());
    // The POL1 pin: only profile 1 may be enabled; the Fall-Back attribute cannot move; profile 1
    // cannot be deleted (only Master Delete could).
    assert_eq!(card.fall_back_pin(), Some(aid(1)));
    assert_eq!(enable(&mut card, aid(2)), 0x69E1);
    assert_eq!(set_fall_back(&mut card, 2), 0x69E1);
    assert_eq!(delete(&mut card, aid(1)), 0x6985);
    assert_eq!(enable(&mut card, aid(1)), 0x9000);
    assert_eq!(card.fall_back_pin(), None);
    confirm_all(&mut card);
    // With the Fall-Back profile enabled there is nothing to fall back to.
    assert_eq!(disable(&mut card, aid(1)), 0x69E1);
    card.update_pol1(aid(1), Pol1::NONE).unwrap();
    assert_eq!(disable(&mut card, aid(1)), 0x9000);
    confirm_all(&mut card);
    assert!(matches!(
        card.connectivity_lost(t(200)),
        Err(CardError::Refused(_))
    ));
    card.check_invariants().unwrap();
}

#[test]
fn connectivity_loss_during_a_change_rolls_back() {
    let pki = TestPki::new();
    let mut card = issue(&pki, 43, true);
    download_n(&mut card, &pki, 1, meta(Pol1::NONE));
    assert_eq!(enable(&mut card, aid(1)), 0x9000);
    let out = card.connectivity_lost(t(10)).unwrap();
    assert_eq!(
        out,
        ConnectivityOutcome::RolledBack {
            to: Some(bootstrap_aid())
        }
    );
    assert_eq!(card.enabled_profile(), Some(bootstrap_aid()));
    // The undelivered 02 is replaced by the 03.
    let kinds: Vec<_> = std::iter::from_fn(|| card.poll_notification())
        .map(|n| n.kind)
        .collect();
    assert_eq!(kinds, vec![NotificationType::ProfileChangeRolledBack]);
    let seqs: Vec<u16> = card.pending_notifications().iter().map(|p| p.seq).collect();
    assert_eq!(seqs.len(), 1);
    assert_eq!(confirm(&mut card, seqs[0]).1, 0x9000);
    assert_eq!(confirm(&mut card, seqs[0] - 1).1, 0x6A88);
    card.check_invariants().unwrap();
}

#[test]
fn emergency_profile_rules() {
    let pki = TestPki::new();
    let mut card = issue(&pki, 44, true);
    download_n(&mut card, &pki, 1, meta(PINNED));
    download_n(&mut card, &pki, 2, meta(Pol1::NONE));
    download_n(&mut card, &pki, 3, meta(Pol1::NONE));
    enable(&mut card, aid(1));
    confirm_all(&mut card);

    // Not on the enabled profile, not on the Fall-Back profile.
    assert_eq!(set_emergency(&mut card, 1), 0x6985);
    let boot_n = 0u8;
    assert_eq!(
        {
            select(&mut card, &isd_r());
            cmd(
                &mut card,
                CardCommand::set_emergency_profile_attribute(aid(boot_n)),
            )
            .1
        },
        0x6985
    );
    // On a disabled profile; it moves, at most one holder.
    assert_eq!(set_emergency(&mut card, 2), 0x9000);
    assert_eq!(set_emergency(&mut card, 3), 0x9000);
    assert_eq!(card.emergency_profile(), Some(aid(3)));
    assert_eq!(status(&mut card, aid(3)).unwrap().1, 0x02);
    assert_eq!(status(&mut card, aid(2)).unwrap().1, 0x00);
    // The emergency profile cannot take the Fall-Back attribute, nor be enabled over ES5.
    assert_eq!(set_fall_back(&mut card, 3), 0x6985);
    assert_eq!(enable(&mut card, aid(3)), 0x6985);

    // Local enable ignores POL1 of the current profile; while it runs no fall-back, no ES5 switch.
    card.local_enable_emergency_profile().unwrap();
    assert_eq!(card.enabled_profile(), Some(aid(3)));
    assert_eq!(card.local_override().unwrap().kind, LocalKind::Emergency);
    assert!(matches!(
        card.connectivity_lost(t(5)),
        Err(CardError::LocalOverrideActive(_))
    ));
    assert_eq!(enable(&mut card, aid(2)), 0x6985);
    assert_eq!(set_emergency(&mut card, 2), 0x6985);
    assert!(card.local_enable_emergency_profile().is_err());
    // Local disable returns to the profile enabled before.
    card.local_disable_emergency_profile().unwrap();
    assert_eq!(card.enabled_profile(), Some(aid(1)));
    assert!(card.local_disable_emergency_profile().is_err());
    // Deleting the emergency profile leaves none.
    assert_eq!(delete(&mut card, aid(3)), 0x9000);
    assert_eq!(card.emergency_profile(), None);
    assert!(card.local_enable_emergency_profile().is_err());
    card.check_invariants().unwrap();
}

#[test]
fn test_profile_rules() {
    let pki = TestPki::new();
    let mut card = issue(&pki, 45, true);
    download_n(&mut card, &pki, 1, meta(PINNED));
    let test_meta = ProfileMetadata {
        class: ProfileClass::Test,
        ..ProfileMetadata::default()
    };
    download_n(&mut card, &pki, 2, test_meta);
    download_n(&mut card, &pki, 3, meta(Pol1::NONE));
    enable(&mut card, aid(1));
    confirm_all(&mut card);

    // Only locally; never over ES5, never Fall-Back or Emergency.
    assert_eq!(enable(&mut card, aid(2)), 0x6985);
    assert_eq!(set_fall_back(&mut card, 2), 0x6985);
    assert_eq!(set_emergency(&mut card, 2), 0x6985);
    assert!(
        card.local_enable_test_profile(aid(3)).is_err(),
        "not a test profile"
    );

    // Local enable ignores POL1 "disable not allowed" of profile 1; no notification, no roll-back.
    card.local_enable_test_profile(aid(2)).unwrap();
    assert_eq!(card.enabled_profile(), Some(aid(2)));
    assert!(card.poll_notification().is_none());
    card.handle_timeout(t(100_000));
    assert_eq!(card.enabled_profile(), Some(aid(2)));
    assert!(matches!(
        card.connectivity_lost(t(100_001)),
        Err(CardError::LocalOverrideActive(_))
    ));
    // POL1 of profile 1 did not fire (no deletion), and it cannot be deleted while it waits.
    assert!(card.isd_p(&aid(1)).is_some());
    assert_eq!(delete(&mut card, aid(1)), 0x6985);

    // Emergency may pre-empt the test profile; the test profile may not pre-empt emergency.
    assert_eq!(set_emergency(&mut card, 3), 0x9000);
    card.local_enable_emergency_profile().unwrap();
    assert!(card.local_enable_test_profile(aid(2)).is_err());
    card.local_disable_emergency_profile().unwrap();
    // Back to profile 1, the profile before the test session began.
    assert_eq!(card.enabled_profile(), Some(aid(1)));
    assert!(card.local_disable_test_profile().is_err());

    // The ordinary path again: test on, test off.
    card.local_enable_test_profile(aid(2)).unwrap();
    card.local_disable_test_profile().unwrap();
    assert_eq!(card.enabled_profile(), Some(aid(1)));
    card.check_invariants().unwrap();
}

#[test]
fn first_attach_declares_the_euicc_once() {
    let pki = TestPki::new();
    let mut card = issue(&pki, 46, true);
    card.network_attached(t(1));
    card.network_attached(t(2));
    let n = card.poll_notification().unwrap();
    assert_eq!(n.kind, NotificationType::EuiccDeclaration);
    assert_eq!(n.isd_p_aid, Some(bootstrap_aid()));
    assert!(card.poll_notification().is_none());
    // Unconfirmed: retried, then dropped without any roll-back; the next attach declares again.
    for s in [61, 121, 181] {
        card.handle_timeout(t(s));
    }
    assert!(card.pending_notifications().is_empty());
    assert!(!card.declared());
    card.network_attached(t(200));
    let n = card.poll_notification().unwrap();
    assert_eq!(n.kind, NotificationType::EuiccDeclaration);
    assert_eq!(confirm(&mut card, n.seq).1, 0x9000);
    assert!(card.declared());
    card.network_attached(t(300));
    assert!(card.poll_notification().is_none());
    assert_eq!(card.enabled_profile(), Some(bootstrap_aid()));
}
