//! ISD-P life cycle end to end at the APDU level: CreateISDP → Scenario#3 → SCP03 → StoreMetadata
//! → SCP03t download of a TS.48 profile → enable → Default Notification → confirmation → disable
//! (fall-back) → delete, with memory accounting and GET STATUS / GET DATA.

mod common;

use common::*;
use rsp_euicc::m2m::{IsdPState, NotificationType, Pol1, ProfileMetadata};
use rsp_gp::CardCommand;
use rsp_gp::notification::NotificationType as WireType;
use rsp_gp::response::CardResources;

#[test]
fn full_life_cycle_over_apdus() {
    let pki = TestPki::new();
    let mut card = issue(&pki, 1, true);
    card.check_invariants().unwrap();
    let boot = bootstrap_aid();
    assert_eq!(card.enabled_profile(), Some(boot));
    assert_eq!(card.fall_back_profile(), Some(boot));

    // EID through the ECASD, certificate through the ISD-R.
    assert_eq!(select(&mut card, &rsp_euicc::m2m::state::ECASD_AID), 0x9000);
    let (eid, sw) = cmd(&mut card, CardCommand::GetData(rsp_gp::GetData::Eid));
    assert_eq!(sw, 0x9000);
    assert_eq!(rsp_gp::response::parse_eid(&eid).unwrap().as_str(), EID);
    select(&mut card, &isd_r());
    let (cert, sw) = cmd(
        &mut card,
        CardCommand::GetData(rsp_gp::GetData::EcasdCertificate),
    );
    assert_eq!(sw, 0x9000);
    assert_eq!(
        rsp_gp::response::parse_ecasd_certificate(&cert).unwrap(),
        card.ecasd().certificate.to_bytes()
    );

    let free_before = card.free_memory();
    let a = aid(1);
    let package = with_iccid(TS48_NO_BERTLV, &iccid(1));

    // 1. CreateISDP with a quota: SELECTABLE, memory reserved.
    assert_eq!(create_isdp(&mut card, a, Some(20_000)), 0x9000);
    assert_eq!(status(&mut card, a), Some((0x07, 0)));
    assert_eq!(card.free_memory(), free_before - 20_000);
    let (res, _) = cmd(
        &mut card,
        CardCommand::GetData(rsp_gp::GetData::ExtendedCardResources),
    );
    let res = CardResources::parse(&res).unwrap();
    assert_eq!(
        u64::from(res.free_non_volatile_memory),
        free_before - 20_000
    );
    assert_eq!(res.installed_applications, 2);
    // The same AID again is refused.
    assert_eq!(create_isdp(&mut card, a, None), 0x6A80);

    // 2. Scenario#3: PERSONALIZED, owned by the SM-DP.
    let keys = establish(&mut card, &pki, a);
    assert_eq!(status(&mut card, a), Some((0x0F, 0)));
    assert!(card.isd_p(&a).unwrap().smdp_id.is_some());

    // 3. SCP03 + StoreMetadata + SCP03t: the reassembled package is byte-identical.
    let mut session = open_scp03(&mut card, a, keys);
    let meta = ProfileMetadata {
        iccid: Some(iccid(1)),
        ..ProfileMetadata::default()
    };
    assert_eq!(store_metadata(&mut card, &mut session, &meta), 0x9000);
    let transfer = send_package(&mut card, session, &package, |_, _| {});
    assert_eq!(transfer.sw, 0x9000);
    assert!(
        transfer.apdus > 10,
        "a TS.48 profile takes several segments"
    );
    assert!(transfer.longest > 260, "extended-length carriers");
    let isd_p = card.isd_p(&a).unwrap();
    assert_eq!(isd_p.state, IsdPState::Disabled);
    assert_eq!(
        isd_p.profile.as_ref().unwrap().package(),
        package.as_slice()
    );
    assert_eq!(isd_p.profile.as_ref().unwrap().iccid, iccid(1));
    assert_eq!(status(&mut card, a), Some((0x1F, 0)));
    card.check_invariants().unwrap();

    // 4. Enable: the bootstrap is disabled, notification 02 names the new ISD-P.
    assert_eq!(enable(&mut card, a), 0x9000);
    assert_eq!(status(&mut card, a), Some((0x3F, 0)));
    assert_eq!(status(&mut card, boot), Some((0x1F, 0x01)));
    let n = card.poll_notification().expect("notification after enable");
    assert_eq!(n.kind, NotificationType::ProfileChangeSucceeded);
    assert!(
        card.poll_notification().is_none(),
        "each attempt is handed out once"
    );
    let wire = rsp_gp::DefaultNotification::parse(&n.payload).unwrap();
    assert_eq!(wire.eid.as_str(), EID);
    assert_eq!(wire.notification_type, WireType::ProfileChangeSucceeded);
    assert_eq!(wire.isd_p_aid, Some(a));
    assert_eq!(wire.sequence_number, n.seq);
    assert_eq!(n.iccid, Some(iccid(1)));
    // A second profile change waits for the confirmation.
    assert_eq!(disable(&mut card, a), 0x6985);
    let (deleted, sw) = confirm(&mut card, n.seq);
    assert_eq!((deleted.len(), sw), (0, 0x9000));
    // A repeated confirmation gets the same answer; an unknown one is refused.
    assert_eq!(confirm(&mut card, n.seq).1, 0x9000);
    assert_eq!(confirm(&mut card, n.seq.wrapping_add(100)).1, 0x6A88);
    assert!(card.pending_notifications().is_empty());

    // 5. Enabling the enabled profile, deleting the enabled profile: refused.
    assert_eq!(enable(&mut card, a), 0x6985);
    assert_eq!(delete(&mut card, a), 0x6985);

    // 6. Disable: the Fall-Back (bootstrap) profile takes over.
    assert_eq!(disable(&mut card, a), 0x9000);
    assert_eq!(card.enabled_profile(), Some(boot));
    let n = card.poll_notification().unwrap();
    assert_eq!(n.isd_p_aid, Some(boot));
    assert_eq!(confirm(&mut card, n.seq).1, 0x9000);

    // 7. Delete: gone, memory back; GET STATUS of it → 6A88; deleting again → 6A88.
    assert_eq!(delete(&mut card, a), 0x9000);
    assert_eq!(status(&mut card, a), None);
    assert_eq!(card.free_memory(), free_before);
    assert_eq!(delete(&mut card, a), 0x6A88);
    assert_eq!(enable(&mut card, a), 0x6A88);
    card.check_invariants().unwrap();

    // The overview the CLI shows.
    let summary = card.summary();
    assert_eq!(summary.enabled, Some(boot));
    assert_eq!(summary.profiles.len(), 1);
    assert!(summary.profiles[0].fall_back);
    let json = serde_json::to_string(&summary).unwrap();
    assert_eq!(
        serde_json::from_str::<rsp_euicc::m2m::CardSummary>(&json).unwrap(),
        summary
    );

    // The Fall-Back profile cannot be disabled or deleted.
    assert_eq!(disable(&mut card, boot), 0x6985);
    assert_eq!(delete(&mut card, boot), 0x6985);
}

#[test]
fn memory_quota_is_enforced() {
    let pki = TestPki::new();
    let mut card = issue(&pki, 2, true);
    let free = card.free_memory();
    // More than the card has: 6A84, nothing created.
    assert_eq!(
        create_isdp(&mut card, aid(1), Some(u32::try_from(free + 1).unwrap())),
        0x6A84
    );
    assert!(card.isd_p(&aid(1)).is_none());
    // A quota smaller than the package: the install is refused with 6A84 and the ISD-P stays
    // PERSONALIZED, deletable.
    assert_eq!(create_isdp(&mut card, aid(2), Some(4_000)), 0x9000);
    let keys = establish(&mut card, &pki, aid(2));
    let session = open_scp03(&mut card, aid(2), keys);
    let package = with_iccid(TS48_NO_BERTLV, &iccid(2));
    assert_eq!(
        send_package(&mut card, session, &package, |_, _| {}).sw,
        0x6A84
    );
    assert_eq!(card.isd_p(&aid(2)).unwrap().state, IsdPState::Personalized);
    assert_eq!(delete(&mut card, aid(2)), 0x9000);
    assert_eq!(card.free_memory(), free);
}

#[test]
fn duplicate_iccid_and_metadata_mismatch_are_refused() {
    let pki = TestPki::new();
    let mut card = issue(&pki, 3, true);
    // The bootstrap holds iccid(0): a second profile with it is refused.
    let sw = download(
        &mut card,
        &pki,
        aid(1),
        &with_iccid(TS48_NO_BERTLV, &iccid(0)),
        &meta(Pol1::NONE),
    );
    assert_eq!(sw, 0x6A80);
    assert_eq!(card.isd_p(&aid(1)).unwrap().state, IsdPState::Personalized);
    // Metadata naming another ICCID than the package: refused.
    let wrong = ProfileMetadata {
        iccid: Some(iccid(7)),
        ..ProfileMetadata::default()
    };
    let sw = download(
        &mut card,
        &pki,
        aid(2),
        &with_iccid(TS48_BERTLV_SUCI, &iccid(2)),
        &wrong,
    );
    assert_eq!(sw, 0x6A80);
    card.check_invariants().unwrap();
}

#[test]
fn commands_in_the_wrong_place_or_order() {
    let pki = TestPki::new();
    let mut card = issue(&pki, 4, true);
    // Unknown application.
    assert_eq!(select(&mut card, &aid(9)), 0x6A82);
    // INSTALL [for personalization] of an unknown ISD-P.
    select(&mut card, &isd_r());
    assert_eq!(
        cmd(&mut card, CardCommand::install_for_personalization(aid(9))).1,
        0x6A88
    );
    // 3A02 before 3A01.
    assert_eq!(create_isdp(&mut card, aid(1), None), 0x9000);
    select(&mut card, &isd_r());
    cmd(&mut card, CardCommand::install_for_personalization(aid(1)));
    let r = send_key_agreement(&mut card, &pki.sm_dp.key, &[0; 16], scp03_crt(), |_| {});
    assert_eq!(r.err(), Some(0x6985));
    // INITIALIZE UPDATE on a SELECTABLE ISD-P (no keys).
    assert_eq!(select(&mut card, &aid(1)), 0x9000);
    let (_, sw) = send(
        &mut card,
        &[0x80, 0x50, 0x30, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 7, 8, 0x00],
    );
    assert_eq!(sw, 0x6985);
    // A segment without a session.
    let (_, sw) = send(&mut card, &[0x80, 0xE2, 0x90, 0x00, 0x02, 0x86, 0x00]);
    assert_eq!(sw, 0x6982);
    // Logical channel 1 is not supported; garbage is a length error.
    assert_eq!(
        send(&mut card, &[0x81, 0xF2, 0x40, 0x02, 0x02, 0x4F, 0x00]).1,
        0x6881
    );
    assert_eq!(send(&mut card, &[0x80]).1, 0x6700);
    // Unknown instruction.
    select(&mut card, &isd_r());
    assert_eq!(send(&mut card, &[0x80, 0x10, 0x00, 0x00]).1, 0x6D00);
    card.check_invariants().unwrap();
}
