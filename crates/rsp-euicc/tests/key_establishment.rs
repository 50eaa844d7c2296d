//! Scenario#3 refusals (wrong role, certificate not under the CI, bad certificate signature, bad
//! off-card signature, replay) leave the ISD-P SELECTABLE; the ISD-R variant (SM-SR change) adds a
//! key set that FinaliseISDRhandover can then replace.

mod common;

use common::*;
use rsp_euicc::m2m::{IsdPState, KeySetKind};
use rsp_gp::CardCommand;
use rsp_gp::command::KeyAgreementCrt;

fn selectable(card: &mut rsp_euicc::m2m::M2mCard) -> rsp_types::Aid {
    let a = aid(1);
    assert_eq!(create_isdp(card, a, None), 0x9000);
    a
}

#[test]
fn wrong_role_certificate_is_refused() {
    let pki = TestPki::new();
    let mut card = issue(&pki, 10, true);
    let a = selectable(&mut card);
    // CERT.SR for an ISD-P: valid under the CI, wrong role.
    assert_eq!(
        send_certificate(&mut card, Some(a), &pki.sm_sr.cert),
        Err(0x6A80)
    );
    // CERT.DP for the ISD-R (SM-SR change): wrong role too.
    assert_eq!(
        send_certificate(&mut card, None, &pki.sm_dp.cert),
        Err(0x6A80)
    );
    // The ECASD's own certificate is not an SM-DP certificate either.
    let ecasd = card.ecasd().certificate.to_bytes().to_vec();
    assert_eq!(send_certificate(&mut card, Some(a), &ecasd), Err(0x6A80));
    // Garbage in 7F21.
    assert_eq!(
        send_certificate(&mut card, Some(a), &[0x7F, 0x21, 0x02, 0x93, 0x00]),
        Err(0x6A80)
    );
    assert_eq!(card.isd_p(&a).unwrap().state, IsdPState::Selectable);
    assert_eq!(status(&mut card, a), Some((0x07, 0)));
}

#[test]
fn certificate_not_under_the_ci_is_refused() {
    let pki = TestPki::new();
    let mut card = issue(&pki, 11, true);
    let a = selectable(&mut card);
    assert_eq!(
        send_certificate(&mut card, Some(a), &pki.rogue_dp.cert),
        Err(0x6A88)
    );
    // A 3A02 after the refusal has no challenge to answer.
    let r = send_key_agreement(&mut card, &pki.rogue_dp.key, &[0; 16], scp03_crt(), |_| {});
    assert_eq!(r.err(), Some(0x6985));
    assert_eq!(card.isd_p(&a).unwrap().state, IsdPState::Selectable);
}

#[test]
fn tampered_certificate_signature_is_refused() {
    let pki = TestPki::new();
    let mut card = issue(&pki, 12, true);
    let a = selectable(&mut card);
    let mut cert = pki.sm_dp.cert.clone();
    let last = cert.len() - 1;
    cert[last] ^= 0x01;
    assert_eq!(send_certificate(&mut card, Some(a), &cert), Err(0x6982));
    // A changed field breaks the signature as well (the serial is the first object).
    let mut cert = pki.sm_dp.cert.clone();
    let serial = cert.windows(2).position(|w| w == [0x93, 0x03]).unwrap();
    cert[serial + 2] ^= 0xFF;
    assert_eq!(send_certificate(&mut card, Some(a), &cert), Err(0x6982));
    assert_eq!(card.isd_p(&a).unwrap().state, IsdPState::Selectable);
}

#[test]
fn bad_off_card_signature_is_refused_and_consumes_the_challenge() {
    let pki = TestPki::new();
    let mut card = issue(&pki, 13, true);
    let a = selectable(&mut card);
    // Signed by another key than the certificate's.
    let rc = send_certificate(&mut card, Some(a), &pki.sm_dp.cert).unwrap();
    let r = send_key_agreement(&mut card, &pki.sm_sr.key, &rc, scp03_crt(), |_| {});
    assert_eq!(r.err(), Some(0x6982));
    assert_eq!(card.isd_p(&a).unwrap().state, IsdPState::Selectable);
    // Signed correctly but over another challenge.
    let rc = send_certificate(&mut card, Some(a), &pki.sm_dp.cert).unwrap();
    let mut other = rc.clone();
    other[0] ^= 1;
    let r = send_key_agreement(&mut card, &pki.sm_dp.key, &other, scp03_crt(), |_| {});
    assert_eq!(r.err(), Some(0x6982));
    // A signed command altered in transit (key version byte in the CRT).
    let rc = send_certificate(&mut card, Some(a), &pki.sm_dp.cert).unwrap();
    let r = send_key_agreement(&mut card, &pki.sm_dp.key, &rc, scp03_crt(), |apdu| {
        let pos = apdu
            .windows(3)
            .position(|w| w == [0x83, 0x01, 0x30])
            .unwrap();
        apdu[pos + 2] = 0x31;
    });
    assert_eq!(r.err(), Some(0x6982));
    assert_eq!(card.isd_p(&a).unwrap().state, IsdPState::Selectable);
    assert!(card.isd_p(&a).unwrap().keys.is_none());
    // Finally the genuine exchange works, and its challenge cannot be replayed.
    let rc = send_certificate(&mut card, Some(a), &pki.sm_dp.cert).unwrap();
    assert_eq!(rc.len(), 16);
    assert!(send_key_agreement(&mut card, &pki.sm_dp.key, &rc, scp03_crt(), |_| {}).is_ok());
    assert_eq!(card.isd_p(&a).unwrap().state, IsdPState::Personalized);
    let again = send_key_agreement(&mut card, &pki.sm_dp.key, &rc, scp03_crt(), |_| {});
    assert_eq!(again.err(), Some(0x6985));
    // A PERSONALIZED ISD-P takes no second key establishment.
    assert_eq!(
        send_certificate(&mut card, Some(a), &pki.sm_dp.cert),
        Err(0x6985)
    );
}

#[test]
fn derivation_random_is_optional_and_fresh() {
    let pki = TestPki::new();
    let mut card = issue(&pki, 14, true);
    for (n, dr) in [(1u8, true), (2, false)] {
        let a = aid(n);
        assert_eq!(create_isdp(&mut card, a, None), 0x9000);
        let rc = send_certificate(&mut card, Some(a), &pki.sm_dp.cert).unwrap();
        let params = if dr {
            KeyAgreementCrt::SCENARIO_INCLUDE_DR
        } else {
            0
        };
        let est = send_key_agreement(
            &mut card,
            &pki.sm_dp.key,
            &rc,
            KeyAgreementCrt::scp03(1, 0x30, params),
            |_| {},
        )
        .unwrap();
        assert_eq!(est.response.derivation_random.is_some(), dr);
        assert_eq!(est.response.receipt.len(), 16);
    }
    // SDIN/HostID derivation is not supported: refused, state unchanged.
    let a = aid(3);
    assert_eq!(create_isdp(&mut card, a, None), 0x9000);
    let rc = send_certificate(&mut card, Some(a), &pki.sm_dp.cert).unwrap();
    let crt = KeyAgreementCrt::scp03(1, 0x30, KeyAgreementCrt::SCENARIO_INCLUDE_SDIN_HOST_ID);
    assert_eq!(
        send_key_agreement(&mut card, &pki.sm_dp.key, &rc, crt, |_| {}).err(),
        Some(0x6A81)
    );
    assert_eq!(card.isd_p(&a).unwrap().state, IsdPState::Selectable);
}

#[test]
fn isd_r_key_establishment_for_sm_sr_change() {
    let pki = TestPki::new();
    let mut card = issue(&pki, 15, true);
    let before: Vec<u8> = card.isd_r().key_sets.iter().map(|k| k.version).collect();
    assert_eq!(before, vec![0x01, 0x40]);
    // CERT.SR to the ISD-R (no INSTALL [for personalization]).
    let rc = send_certificate(&mut card, None, &pki.sm_sr.cert).unwrap();
    let crt = KeyAgreementCrt::scp03(1, 0x02, KeyAgreementCrt::SCENARIO_INCLUDE_DR);
    let est = send_key_agreement(&mut card, &pki.sm_sr.key, &rc, crt, |_| {}).unwrap();
    let ks2 = card.isd_r().key_set(0x02).unwrap();
    assert_eq!(ks2.kind, KeySetKind::Scp80);
    assert_eq!(ks2.keys.len(), 3);
    // The card holds what the new SM-SR derived.
    let mut probe = [0x01u8; 16];
    est.keys.enc().encrypt_block(&mut probe);
    let card_key = rsp_crypto::aes::AesKey::new(ks2.key(1).unwrap()).unwrap();
    let mut mine = [0x01u8; 16];
    card_key.encrypt_block(&mut mine);
    assert_eq!(probe, mine);
    // The same version again is refused.
    let rc = send_certificate(&mut card, None, &pki.sm_sr.cert).unwrap();
    let crt = KeyAgreementCrt::scp03(1, 0x02, 0);
    assert_eq!(
        send_key_agreement(&mut card, &pki.sm_sr.key, &rc, crt, |_| {}).err(),
        Some(0x6985)
    );
    // An SCP81 PSK set (one key).
    let rc = send_certificate(&mut card, None, &pki.sm_sr.cert).unwrap();
    let crt = KeyAgreementCrt::scp81_psk(1, 0x41, 0);
    assert!(send_key_agreement(&mut card, &pki.sm_sr.key, &rc, crt, |_| {}).is_ok());
    assert_eq!(card.isd_r().key_set(0x41).unwrap().kind, KeySetKind::Scp81);
    assert_eq!(card.isd_r().key_set(0x41).unwrap().keys.len(), 1);
    // FinaliseISDRhandover: the old SM-SR's key sets go.
    select(&mut card, &isd_r());
    assert_eq!(
        cmd(&mut card, CardCommand::finalise_isdr_handover(0x01)).1,
        0x9000
    );
    assert_eq!(
        cmd(&mut card, CardCommand::finalise_isdr_handover(0x40)).1,
        0x9000
    );
    assert_eq!(
        cmd(&mut card, CardCommand::finalise_isdr_handover(0x40)).1,
        0x6A88
    );
    let after: Vec<u8> = card.isd_r().key_sets.iter().map(|k| k.version).collect();
    assert_eq!(after, vec![0x02, 0x41]);
}
