//! POL1 enforcement on the card: "disable not allowed", "delete not allowed", "delete when
//! disabled" (performed while processing NotificationConfirmation, C-26), and its exemptions.

mod common;

use common::*;
use rsp_euicc::m2m::Pol1;
use rsp_euicc::m2m::issue::{BootstrapProfile, IssueOptions};
use rsp_euicc::m2m::{CardConfig, M2mCard};

const DISABLE_NOT_ALLOWED: Pol1 = Pol1 {
    disable_not_allowed: true,
    delete_not_allowed: false,
    delete_when_disabled: false,
};
const DELETE_NOT_ALLOWED: Pol1 = Pol1 {
    disable_not_allowed: false,
    delete_not_allowed: true,
    delete_when_disabled: false,
};
const DELETE_WHEN_DISABLED: Pol1 = Pol1 {
    disable_not_allowed: false,
    delete_not_allowed: false,
    delete_when_disabled: true,
};

fn enable_confirmed(card: &mut M2mCard, n: u8) {
    assert_eq!(enable(card, aid(n)), 0x9000);
    confirm_all(card);
}

#[test]
fn disable_not_allowed() {
    let pki = TestPki::new();
    let mut card = issue(&pki, 30, true);
    download_n(&mut card, &pki, 1, meta(DISABLE_NOT_ALLOWED));
    download_n(&mut card, &pki, 2, meta(Pol1::NONE));
    enable_confirmed(&mut card, 1);
    // Enabling another profile would disable profile 1: 69E1, nothing changes.
    assert_eq!(enable(&mut card, aid(2)), 0x69E1);
    assert_eq!(disable(&mut card, aid(1)), 0x69E1);
    assert_eq!(card.enabled_profile(), Some(aid(1)));
    assert!(card.poll_notification().is_none());
    // The Operator lifts the rule over ES6 (the test hook standing in for UpdatePOL1byMNO).
    card.update_pol1(aid(1), Pol1::NONE).unwrap();
    assert_eq!(enable(&mut card, aid(2)), 0x9000);
    card.check_invariants().unwrap();
}

#[test]
fn delete_not_allowed() {
    let pki = TestPki::new();
    let mut card = issue(&pki, 31, true);
    download_n(&mut card, &pki, 1, meta(DELETE_NOT_ALLOWED));
    assert_eq!(delete(&mut card, aid(1)), 0x69E1);
    assert!(card.isd_p(&aid(1)).is_some());
    // It may still be enabled and disabled.
    enable_confirmed(&mut card, 1);
    assert_eq!(disable(&mut card, aid(1)), 0x9000);
    confirm_all(&mut card);
    assert_eq!(delete(&mut card, aid(1)), 0x69E1);
}

#[test]
fn delete_when_disabled_runs_on_confirmation() {
    let pki = TestPki::new();
    let mut card = issue(&pki, 32, true);
    download_n(&mut card, &pki, 1, meta(DELETE_WHEN_DISABLED));
    download_n(&mut card, &pki, 2, meta(DELETE_WHEN_DISABLED));
    let free_with_two = card.free_memory();
    enable_confirmed(&mut card, 1);

    // Enable 2 disables 1: deleted when the notification is confirmed, reported in the response.
    assert_eq!(enable(&mut card, aid(2)), 0x9000);
    assert!(card.isd_p(&aid(1)).is_some(), "not before the confirmation");
    let n = card.poll_notification().unwrap();
    let (deleted, sw) = confirm(&mut card, n.seq);
    assert_eq!(sw, 0x9000);
    assert_eq!(deleted, vec![aid(1)]);
    assert!(card.isd_p(&aid(1)).is_none());
    assert!(card.free_memory() > free_with_two);
    // The duplicate confirmation repeats the answer; the SM-SR's POL2 delete is harmless (6A88).
    assert_eq!(confirm(&mut card, n.seq), (vec![aid(1)], 0x9000));
    assert_eq!(delete(&mut card, aid(1)), 0x6A88);

    // Disable 2: the Fall-Back profile comes back, 2 is deleted on confirmation.
    assert_eq!(disable(&mut card, aid(2)), 0x9000);
    let n = card.poll_notification().unwrap();
    assert_eq!(confirm(&mut card, n.seq), (vec![aid(2)], 0x9000));
    assert_eq!(card.enabled_profile(), Some(bootstrap_aid()));
    card.check_invariants().unwrap();
}

#[test]
fn fall_back_profile_is_exempt_from_delete_when_disabled() {
    let pki = TestPki::new();
    let eid = EID.parse().unwrap();
    let options = IssueOptions {
        config: CardConfig::default(),
        rng_seed: Some(33),
        production_time: t(0),
        bootstrap: Some(BootstrapProfile {
            aid: bootstrap_aid(),
            package: with_iccid(TS48_NO_BERTLV, &iccid(0)),
            pol1: DELETE_WHEN_DISABLED,
        }),
    };
    let (mut card, _) = M2mCard::issue(pki.material(&eid), options).unwrap();
    download_n(&mut card, &pki, 1, meta(Pol1::NONE));
    assert_eq!(enable(&mut card, aid(1)), 0x9000);
    let n = card.poll_notification().unwrap();
    assert_eq!(confirm(&mut card, n.seq), (vec![], 0x9000));
    assert!(card.isd_p(&bootstrap_aid()).is_some());
}

#[test]
fn refused_commands_change_nothing() {
    let pki = TestPki::new();
    let mut card = issue(&pki, 34, true);
    download_n(&mut card, &pki, 1, meta(DISABLE_NOT_ALLOWED));
    enable_confirmed(&mut card, 1);
    let store = tempfile::tempdir().unwrap();
    let sealer = rsp_crypto::seal::Sealer::load_or_create(&store.path().join("k")).unwrap();
    let before = card.profiles();
    for _ in 0..3 {
        assert_eq!(enable(&mut card, bootstrap_aid()), 0x69E1);
        assert_eq!(disable(&mut card, aid(1)), 0x69E1);
        assert_eq!(delete(&mut card, aid(1)), 0x6985);
    }
    assert_eq!(card.profiles(), before);
    // And the card still snapshots to the same logical state.
    let restored = M2mCard::restore(&card.snapshot(&sealer).unwrap(), &sealer).unwrap();
    assert_eq!(restored.profiles(), before);
}
