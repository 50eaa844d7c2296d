//! SCP03 / SCP03t profile download: byte-identical reassembly of the TS.48 profiles, refusal of a
//! tampered, reordered, replayed or truncated stream, and the ISD-P left deletable.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use rsp_euicc::m2m::{IsdPState, Pol1, ProfileClass, ProfileMetadata};
use rsp_gp::CommandApdu;

fn personalized(
    card: &mut rsp_euicc::m2m::M2mCard,
    pki: &TestPki,
    n: u8,
) -> rsp_crypto::scp03::Scp03Session {
    let a = aid(n);
    assert_eq!(create_isdp(card, a, None), 0x9000);
    let keys = establish(card, pki, a);
    open_scp03(card, a, keys)
}

#[test]
fn both_ts48_variants_reassemble_byte_for_byte() {
    let pki = TestPki::new();
    let mut card = issue(&pki, 20, false);
    for (n, package) in [(1u8, TS48_NO_BERTLV), (2, TS48_BERTLV_SUCI)] {
        let package = with_iccid(package, &iccid(n));
        let session = personalized(&mut card, &pki, n);
        assert_eq!(
            send_package(&mut card, session, &package, |_, _| {}).sw,
            0x9000
        );
        let p = card.isd_p(&aid(n)).unwrap();
        assert_eq!(p.state, IsdPState::Disabled);
        assert_eq!(p.profile.as_ref().unwrap().package(), package.as_slice());
        assert_eq!(p.used_memory(), package.len() as u64);
    }
    // Without a bootstrap profile nothing is enabled and no profile holds Fall-Back yet.
    assert_eq!(card.enabled_profile(), None);
    assert_eq!(card.fall_back_profile(), None);
    card.check_invariants().unwrap();
}

#[test]
fn tampered_segment_is_refused_and_isd_p_stays_deletable() {
    let pki = TestPki::new();
    let mut card = issue(&pki, 21, true);
    let free = card.free_memory();
    let session = personalized(&mut card, &pki, 1);
    let package = with_iccid(TS48_NO_BERTLV, &iccid(1));
    // Flip one ciphertext bit in the fourth segment.
    let t = send_package(&mut card, session, &package, |i, apdu| {
        if i == 3 {
            apdu[40] ^= 0x01;
        }
    });
    assert_eq!(t.sw, 0x6982);
    assert_eq!(t.apdus, 4);
    let a = aid(1);
    assert_eq!(card.isd_p(&a).unwrap().state, IsdPState::Personalized);
    assert!(card.isd_p(&a).unwrap().profile.is_none());
    // The transfer is over: a further segment is refused without a session.
    let (_, sw) = send(&mut card, &[0x80, 0xE2, 0x90, 0x05, 0x02, 0x86, 0x00]);
    assert_eq!(sw, 0x6982);
    // The SM-DP's clean-up (ES3.DeleteISDP) works.
    assert_eq!(delete(&mut card, a), 0x9000);
    assert_eq!(card.free_memory(), free);
    card.check_invariants().unwrap();
}

#[test]
fn reordered_replayed_or_truncated_streams_are_refused() {
    let pki = TestPki::new();
    let mut card = issue(&pki, 22, true);
    let package = with_iccid(TS48_NO_BERTLV, &iccid(1));

    // Replay: segment 2 is sent again instead of segment 3 (recorded beforehand).
    let session = personalized(&mut card, &pki, 1);
    let mut recorded: Option<Vec<u8>> = None;
    let t = send_package(&mut card, session, &package, |i, apdu| {
        if i == 1 {
            recorded = Some(apdu.clone());
        }
        if i == 2 {
            *apdu = recorded.clone().unwrap();
        }
    });
    assert_eq!(t.sw, 0x6982);
    assert_eq!(card.isd_p(&aid(1)).unwrap().state, IsdPState::Personalized);

    // Truncated: the terminator never comes; the ISD-P holds no profile and can be deleted.
    let session = personalized(&mut card, &pki, 2);
    let t = send_package(&mut card, session, &package[..3000], |i, apdu| {
        if i == 2 {
            // Stand-in for "stream ends": the terminator is replaced by a data-less STORE DATA.
            *apdu = CommandApdu::new(0x80, 0xE2, 0x90, 0x02).encode().unwrap();
        }
    });
    assert_ne!(t.sw, 0x9000);
    assert!(card.isd_p(&aid(2)).unwrap().profile.is_none());
    assert_eq!(delete(&mut card, aid(2)), 0x9000);

    // A package that is not SAIP (no ProfileHeader) is refused at install time.
    let session = personalized(&mut card, &pki, 3);
    let t = send_package(
        &mut card,
        session,
        &[0x30, 0x03, 0x02, 0x01, 0x00],
        |_, _| {},
    );
    assert_eq!(t.sw, 0x6A80);
    assert_eq!(card.isd_p(&aid(3)).unwrap().state, IsdPState::Personalized);
    card.check_invariants().unwrap();
}

#[test]
fn scp03_is_checked() {
    let pki = TestPki::new();
    let mut card = issue(&pki, 23, true);
    let a = aid(1);
    assert_eq!(create_isdp(&mut card, a, None), 0x9000);
    let keys = establish(&mut card, &pki, a);
    // Wrong static keys: the card cryptogram does not verify on the host, and a forged EXTERNAL
    // AUTHENTICATE is refused by the card.
    let wrong = rsp_crypto::scp03::StaticKeys::new(0x30, &[1; 16], &[2; 16], &[3; 16]).unwrap();
    assert_eq!(select(&mut card, &a), 0x9000);
    let host = rsp_crypto::scp03::HostHandshake::new(wrong, [0x22; 8]);
    let (data, sw) = send(&mut card, &host.initialize_update_apdu());
    assert_eq!(sw, 0x9000);
    assert!(host.on_initialize_update_response(&data).is_err());
    let (_, sw) = send(
        &mut card,
        &[
            0x84, 0x82, 0x33, 0x00, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ],
    );
    assert_eq!(sw, 0x6982);
    // Metadata must come inside the session.
    let plain = CommandApdu::new(0x80, 0xE2, 0x90, 0x00)
        .with_data(ProfileMetadata::default().encode().unwrap())
        .encode()
        .unwrap();
    assert_ne!(send(&mut card, &plain).1, 0x9000);
    // The genuine session works; the pseudo-random challenge counter advanced and persists.
    let counter_before = card
        .isd_p(&a)
        .unwrap()
        .keys
        .as_ref()
        .unwrap()
        .sequence_counter;
    let mut session = open_scp03(&mut card, a, keys);
    assert!(
        card.isd_p(&a)
            .unwrap()
            .keys
            .as_ref()
            .unwrap()
            .sequence_counter
            > counter_before
    );
    let meta = ProfileMetadata {
        iccid: None,
        class: ProfileClass::Test,
        pol1: Pol1 {
            disable_not_allowed: false,
            delete_not_allowed: true,
            delete_when_disabled: false,
        },
    };
    assert_eq!(store_metadata(&mut card, &mut session, &meta), 0x9000);
    assert_eq!(card.isd_p(&a).unwrap().metadata, meta);
    // A wrapped command with a bad MAC: refused, the session is closed.
    let plain = CommandApdu::new(0x80, 0xE2, 0x90, 0x00)
        .with_data(meta.encode().unwrap())
        .encode()
        .unwrap();
    let mut wrapped = session.wrap_command(&plain).unwrap();
    let last = wrapped.len() - 1;
    wrapped[last] ^= 1;
    assert_eq!(send(&mut card, &wrapped).1, 0x6982);
    let again = session.wrap_command(&plain).unwrap();
    assert_eq!(send(&mut card, &again).1, 0x6982);
}
