//! The consumer eUICC driven through APDUs only, as an LPA would: info and challenge for v2 and
//! v3 cards, Common Mutual Authentication against an SM-DP+ built here, PrepareDownload, a full
//! TS.48 install, profile management with notifications and PPRs, snapshots.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod consumer_common;

use consumer_common::*;
use rsp_crypto::seal::Sealer;
use rsp_crypto::x509::Certificate as X509;
use rsp_euicc::consumer::{ConsumerConfig, ConsumerEuicc, EumIssuer};
use rsp_euicc::m2m::CardTime;
use rsp_gp::ApduCard;
use rsp_sgp22::authenticate_error as ae;
use rsp_sgp22::download_error as de;
use rsp_sgp22::profile_operation_result as por;
use rsp_sgp22::{
    AuthenticateServerResponse, CancelSessionRequest, CancelSessionResponse, DeleteProfileRequest,
    DeleteProfileResponse, DisableProfileRequest, DisableProfileResponse, EnableProfileRequest,
    EnableProfileResponse, EuiccConfiguredAddressesRequest, EuiccConfiguredAddressesResponse,
    EuiccInfo1, EuiccInfo2, FinalResult, GetEuiccDataRequest, GetEuiccDataResponse,
    GetEuiccInfo1Request, GetEuiccInfo2Request, GetRatRequest, GetRatResponse,
    ListNotificationRequest, ListNotificationResponse, NotificationEvent, NotificationSentRequest,
    NotificationSentResponse, OperatorId, PendingNotification, PprIds, PrepareDownloadResponse,
    Profile, ProfileIdentifier, ProfileInfoListRequest, ProfileInfoListResponse,
    ProfileInstallationResult, ProfilePolicyAuthorisationRule, ProfileSearchCriteria,
    RetrieveNotificationsListRequest, RetrieveNotificationsListResponse, SeqOf, SetNicknameRequest,
    SetNicknameResponse,
};
use rsp_types::tlv;

/// A second TS.48 package with its own ICCID.
fn second() -> Vec<u8> {
    with_iccid(TS48_BERTLV_SUCI, "8900012345678901235")
}

fn p2() -> Profile {
    Profile::new(svn("2.2.2"))
}

fn top_level_tags(tlv_bytes: &[u8]) -> Vec<u32> {
    let outer = tlv::parse_single(tlv_bytes).unwrap();
    outer
        .children()
        .map(|c| u32::from(c.unwrap().tag))
        .collect()
}

fn info1_bytes(card: ConsumerEuicc) -> Vec<u8> {
    let mut lpa = Lpa::open(card);
    lpa.es10(
        &GetEuiccInfo1Request {
            unknown_tags: vec![],
        }
        .encode(&p2())
        .unwrap(),
    )
}

fn info2_bytes(card: ConsumerEuicc) -> Vec<u8> {
    let mut lpa = Lpa::open(card);
    lpa.es10(
        &GetEuiccInfo2Request {
            unknown_tags: vec![],
        }
        .encode(&p2())
        .unwrap(),
    )
}

#[test]
fn euicc_info1_bytes_v2_and_v3() {
    let ci_nist = Server::ci_nist_id();
    let ci_brp = X509::from_der(&read("CertificateIssuer/CERT_CI_ECDSA_BRP.der"))
        .unwrap()
        .subject_key_id()
        .unwrap()
        .to_vec();
    // v2.2.2: BF20 { 82 svn, A9 { 04 nist, 04 brp }, AA { 04 nist, 04 brp } } and nothing else.
    let v2 = info1_bytes(sgp26_card("2.2.2"));
    let mut lists = vec![0x04, 0x14];
    lists.extend_from_slice(&ci_nist);
    lists.extend_from_slice(&[0x04, 0x14]);
    lists.extend_from_slice(&ci_brp);
    let mut want = vec![0xBF, 0x20, 0x00, 0x82, 0x03, 0x02, 0x02, 0x02, 0xA9, 0x2C];
    want.extend_from_slice(&lists);
    want.extend_from_slice(&[0xAA, 0x2C]);
    want.extend_from_slice(&lists);
    want[2] = (want.len() - 3) as u8;
    assert_eq!(v2, want);

    // v3.1.0: lowestSvn 2.0.0, the v3 signing list [17], euiccRspCapability [8] (the card sets
    // euiccRspCapInInfo1) and highestSvn [19].
    let v3 = info1_bytes(sgp26_card("3.1.0"));
    assert_eq!(
        top_level_tags(&v3),
        vec![0x82, 0xA9, 0xAA, 0xB1, 0x88, 0x93]
    );
    let info = EuiccInfo1::decode(&v3).unwrap();
    assert_eq!(info.lowest_svn, svn("2.0.0"));
    assert_eq!(info.highest_svn, Some(svn("3.1.0")));
    assert_eq!(
        info.euicc_ci_pk_id_list_for_signing.0,
        vec![ci_nist, ci_brp]
    );
}

#[test]
fn euicc_info2_has_no_v3_field_from_a_v2_card() {
    let v2 = info2_bytes(sgp26_card("2.2.2"));
    let tags = top_level_tags(&v2);
    for v3_tag in [0xB1, 0x93] {
        assert!(
            !tags.contains(&v3_tag),
            "v2 card sent {v3_tag:X}: {tags:X?}"
        );
    }
    assert_eq!(
        tags,
        vec![
            0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0xA9, 0xAA, 0x8B, 0x04, 0x0C
        ]
    );
    let info = EuiccInfo2::decode(&v2).unwrap();
    assert_eq!(info.lowest_svn, svn("2.2.2"));
    assert_eq!(info.base_profile_package_version, svn("2.3.1"));

    let v3 = info2_bytes(sgp26_card("3.1.0"));
    let tags = top_level_tags(&v3);
    assert!(tags.contains(&0xB1) && tags.contains(&0x93) && tags.contains(&0xAF));
    let info = EuiccInfo2::decode(&v3).unwrap();
    assert_eq!(info.highest_svn, Some(svn("3.1.0")));
    assert_eq!(
        info.additional_profile_package_versions.unwrap().0,
        vec![svn("3.1.0")]
    );
}

#[test]
fn challenges_are_fresh_and_16_bytes() {
    let mut lpa = Lpa::open(sgp26_card("2.2.2"));
    let a = lpa.challenge();
    let b = lpa.challenge();
    assert_ne!(a, b);
    // Raw bytes: BF2E 12 80 10 <16>.
    let raw = lpa.es10(&[0xBF, 0x2E, 0x00]);
    assert_eq!(&raw[..4], &[0xBF, 0x2E, 0x12, 0x80]);
    assert_eq!(raw.len(), 4 + 1 + 16);
}

fn auth_error(lpa: &mut Lpa<ConsumerEuicc>, req: &rsp_sgp22::AuthenticateServerRequest) -> i64 {
    let resp = lpa.es10(&req.encode(&p2()).unwrap());
    match AuthenticateServerResponse::decode(&resp).unwrap() {
        AuthenticateServerResponse::Error(e) => e.authenticate_error_code,
        AuthenticateServerResponse::Ok(_) => panic!("accepted"),
    }
}

#[test]
fn authenticate_server_valid_and_refused() {
    let server = Server::sgp26();
    let mut lpa = Lpa::open(sgp26_card("2.2.2"));
    let auth = server.authenticate(&mut lpa, &[1, 2, 3, 4]);
    assert_eq!(auth.euicc_certificate.eid(), Some(SGP26_EID));
    assert!(lpa.card.session_open());

    // Tampered serverSignature1.
    let c = lpa.challenge();
    let (mut req, _) = server.authenticate_request(c, &[5]);
    req.server_signature1[63] ^= 1;
    assert_eq!(auth_error(&mut lpa, &req), ae::INVALID_SIGNATURE);
    // Wrong euiccChallenge (the card's own challenge is another one).
    let _ = lpa.challenge();
    let (req, _) = server.authenticate_request(rsp_sgp22::Octet16([9; 16]), &[6]);
    assert_eq!(auth_error(&mut lpa, &req), ae::EUICC_CHALLENGE_MISMATCH);
    // euiccCiPKIdToBeUsed that the card cannot sign for.
    let c = lpa.challenge();
    let (mut req, _) = server.authenticate_request(c, &[7]);
    req.euicc_ci_pk_id_to_be_used = vec![0xAB; 20];
    assert_eq!(auth_error(&mut lpa, &req), ae::CI_PK_UNKNOWN);
    // CERT.DPpb is no CERT.DPauth.
    let c = lpa.challenge();
    let (mut req, _) = server.authenticate_request(c, &[8]);
    req.server_certificate = rsp_sgp22::Certificate(server.pb_cert.clone());
    assert_eq!(auth_error(&mut lpa, &req), ae::INVALID_CERTIFICATE);
}

#[test]
fn authenticate_server_with_unknown_ci() {
    // A card trusting only the brainpool CI does not know the NIST CI of CERT.DPauth.
    let mut identity = rsp_euicc::consumer::load_sgp26_identity(&fixtures()).unwrap();
    identity
        .ci_certificates
        .retain(|c| c.subject_key_id() != Some(Server::ci_nist_id().as_slice()));
    let mut card = ConsumerEuicc::new(ConsumerConfig::new(svn("2.2.2")), identity).unwrap();
    card.set_time(CardTime(TEST_TIME));
    let mut lpa = Lpa::open(card);
    let server = Server::sgp26();
    let c = lpa.challenge();
    let (req, _) = server.authenticate_request(c, &[1]);
    assert_eq!(auth_error(&mut lpa, &req), ae::CI_PK_UNKNOWN);
    assert!(!lpa.card.session_open());
}

#[test]
fn expired_dpauth_is_refused_on_a_clocked_card() {
    let server = Server::sgp26();
    for (v, code) in [
        ("2.2.2", ae::INVALID_CERTIFICATE),
        ("3.1.0", ae::INVALID_CERT_OR_CRL_TIME),
    ] {
        let mut card = sgp26_card(v);
        // 2031: CERT.DPauth (until 2030-03-30) has expired.
        card.set_time(CardTime(1_924_992_000));
        let mut lpa = Lpa::open(card);
        let c = lpa.challenge();
        let (req, _) = server.authenticate_request(c, &[1]);
        assert_eq!(auth_error(&mut lpa, &req), code);
    }
}

fn prepare_error(lpa: &mut Lpa<ConsumerEuicc>, req: &rsp_sgp22::PrepareDownloadRequest) -> i64 {
    let resp = lpa.es10(&req.encode(&p2()).unwrap());
    match PrepareDownloadResponse::decode(&resp).unwrap() {
        PrepareDownloadResponse::Error(e) => e.download_error_code,
        PrepareDownloadResponse::Ok(_) => panic!("accepted"),
    }
}

#[test]
fn prepare_download_signs_and_checks() {
    let server = Server::sgp26();
    let mut lpa = Lpa::open(sgp26_card("2.2.2"));
    // No session yet.
    let fake = AuthState {
        transaction_id: rsp_sgp22::TransactionId::new(&[1]).unwrap(),
        server_challenge: rsp_sgp22::Octet16([0; 16]),
        euicc_certificate: X509::from_der(&read("eUICC/CERT_EUICC_ECDSA_NIST.der")).unwrap(),
        euicc_signature1: vec![0; 64],
    };
    assert_eq!(
        prepare_error(&mut lpa, &server.prepare_request(&fake, None, None)),
        de::NO_SESSION
    );

    let auth = server.authenticate(&mut lpa, &[0x11; 16]);
    // Tampered smdpSignature2.
    let mut req = server.prepare_request(&auth, None, None);
    req.smdp_signature2[0] ^= 0x80;
    assert_eq!(prepare_error(&mut lpa, &req), de::INVALID_SIGNATURE);
    // CERT.DPauth instead of CERT.DPpb.
    let mut req = server.prepare_request(&auth, None, None);
    req.smdp_certificate = rsp_sgp22::Certificate(server.auth_cert.clone());
    assert_eq!(prepare_error(&mut lpa, &req), de::INVALID_CERTIFICATE);
    // Another transaction (correctly signed, so the id check is what refuses it).
    let other = AuthState {
        transaction_id: rsp_sgp22::TransactionId::new(&[0x22; 16]).unwrap(),
        server_challenge: auth.server_challenge,
        euicc_certificate: auth.euicc_certificate.clone(),
        euicc_signature1: auth.euicc_signature1.clone(),
    };
    assert_eq!(
        prepare_error(&mut lpa, &server.prepare_request(&other, None, None)),
        de::INVALID_TRANSACTION_ID
    );
    // ccRequiredFlag without hashCc.
    let mut req = server.prepare_request(&auth, Some(b"1234"), None);
    req.hash_cc = None;
    assert_eq!(prepare_error(&mut lpa, &req), de::UNDEFINED_ERROR);

    // Valid (with a confirmation code): euiccSignature2 is checked in `prepare`.
    let otpk = server.prepare(&mut lpa, &auth, None);
    assert_eq!(otpk.len(), 65);
    assert_eq!(otpk[0], 0x04);
    // A retry naming the retained key gets the same key back; a new session gets a new one
    // otherwise.
    let auth2 = server.authenticate(&mut lpa, &[0x33; 8]);
    let again = server.prepare(&mut lpa, &auth2, Some(otpk.clone()));
    assert_eq!(again, otpk);
    let auth3 = server.authenticate(&mut lpa, &[0x44; 8]);
    let fresh = server.prepare(&mut lpa, &auth3, None);
    assert_ne!(fresh, otpk);
}

fn pir_of(bytes: &[u8], euicc: &X509) -> ProfileInstallationResult {
    let pir = ProfileInstallationResult::decode(bytes).unwrap();
    euicc
        .public_key()
        .unwrap()
        .verify_raw(
            pir.profile_installation_result_data.raw(),
            &pir.euicc_sign_pir,
        )
        .expect("euiccSignPIR verifies");
    pir
}

fn sgp26_euicc_cert() -> X509 {
    X509::from_der(&read("eUICC/CERT_EUICC_ECDSA_NIST.der")).unwrap()
}

#[test]
fn full_install_of_a_ts48_profile() {
    let server = Server::sgp26();
    let mut lpa = Lpa::open(sgp26_card("2.2.2"));
    let eid = *lpa.card.eid();
    let meta = metadata(TS48_NO_BERTLV, "notify.example.com", &[]);
    let pir = download(&server, &mut lpa, &eid, &[0xA1; 16], &meta, TS48_NO_BERTLV);
    let pir = pir_of(&pir, &sgp26_euicc_cert());
    let data = pir.profile_installation_result_data.value();
    let FinalResult::Success(ok) = &data.final_result else {
        panic!("install failed: {:?}", data.final_result);
    };
    assert_eq!(data.smdp_oid, server.oid);
    assert_eq!(
        data.notification_metadata.notification_address,
        SMDP_ADDRESS
    );
    assert!(
        data.notification_metadata
            .profile_management_operation
            .has(NotificationEvent::INSTALL)
    );
    // The installed UPP is byte-identical to what the SM-DP+ protected.
    let profiles = lpa.card.profiles();
    assert_eq!(profiles.len(), 1);
    assert_eq!(profiles[0].upp, TS48_NO_BERTLV);
    use sha2::{Digest, Sha256};
    assert_eq!(
        profiles[0].upp_digest(),
        <[u8; 32]>::from(Sha256::digest(TS48_NO_BERTLV))
    );
    assert_eq!(ok.aid, profiles[0].isdp_aid.as_bytes());
    assert!(!profiles[0].enabled);
    // The session is over.
    assert!(!lpa.card.session_open());

    // The PIR is the pending notification, byte for byte.
    let list = lpa.es10(
        &RetrieveNotificationsListRequest {
            search_criteria: None,
            unknown_tags: vec![],
        }
        .encode(&p2())
        .unwrap(),
    );
    let RetrieveNotificationsListResponse::Ok(list) =
        RetrieveNotificationsListResponse::decode(&list).unwrap()
    else {
        panic!()
    };
    assert_eq!(list.0.len(), 1);
    let PendingNotification::ProfileInstallationResult(stored) = &list.0[0] else {
        panic!()
    };
    assert_eq!(stored, &pir);

    // A second download of the same ICCID fails at StoreMetadata.
    let again = download(&server, &mut lpa, &eid, &[0xA2; 16], &meta, TS48_NO_BERTLV);
    let again = pir_of(&again, &sgp26_euicc_cert());
    let FinalResult::Error(e) = &again.profile_installation_result_data.value().final_result else {
        panic!()
    };
    assert_eq!(
        e.error_reason,
        rsp_sgp22::error_reason::ICCID_ALREADY_EXISTS
    );
    assert_eq!(lpa.card.profiles().len(), 1);
}

#[test]
fn tampered_bpp_is_not_installed() {
    let server = Server::sgp26();
    let mut lpa = Lpa::open(sgp26_card("2.2.2"));
    let eid = *lpa.card.eid();
    let meta = metadata(TS48_NO_BERTLV, "notify.example.com", &[]);
    let auth = server.authenticate(&mut lpa, &[0xB1; 8]);
    let otpk = server.prepare(&mut lpa, &auth, None);
    let bpp = server.bpp(&auth, &otpk, &eid, &meta, TS48_NO_BERTLV);
    let mut segments = rsp_sgp22::bpp::segment_bound_profile_package(&bpp).unwrap();
    // Flip a byte inside the last profile element segment (its MAC no longer matches).
    let last = segments.last_mut().unwrap();
    let n = last.len();
    last[n - 12] ^= 0x01;
    let mut result = Vec::new();
    for s in &segments {
        result = lpa.es10(s);
        if !result.is_empty() {
            break;
        }
    }
    let pir = pir_of(&result, &sgp26_euicc_cert());
    let FinalResult::Error(e) = &pir.profile_installation_result_data.value().final_result else {
        panic!()
    };
    assert_eq!(
        e.bpp_command_id,
        rsp_sgp22::bpp_command_id::LOAD_PROFILE_ELEMENTS
    );
    assert_eq!(e.error_reason, rsp_sgp22::error_reason::BSP_SECURITY_ERROR);
    assert!(lpa.card.profiles().is_empty());
}

fn install(lpa: &mut Lpa<ConsumerEuicc>, tid: u8, upp: &[u8], pprs: &[usize]) -> FinalResult {
    let server = Server::sgp26();
    let eid = *lpa.card.eid();
    let meta = metadata(upp, "notify.example.com", pprs);
    let pir = download(&server, lpa, &eid, &[tid; 8], &meta, upp);
    pir_of(&pir, &sgp26_euicc_cert())
        .profile_installation_result_data
        .value()
        .final_result
        .clone()
}

fn enable(lpa: &mut Lpa<ConsumerEuicc>, iccid: rsp_types::Iccid) -> i64 {
    let r = lpa.es10(
        &EnableProfileRequest {
            profile_identifier: ProfileIdentifier::Iccid(iccid),
            refresh_flag: false,
            unknown_tags: vec![],
        }
        .encode(&p2())
        .unwrap(),
    );
    EnableProfileResponse::decode(&r).unwrap().enable_result
}

fn disable(lpa: &mut Lpa<ConsumerEuicc>, iccid: rsp_types::Iccid) -> i64 {
    let r = lpa.es10(
        &DisableProfileRequest {
            profile_identifier: ProfileIdentifier::Iccid(iccid),
            refresh_flag: false,
            unknown_tags: vec![],
        }
        .encode(&p2())
        .unwrap(),
    );
    DisableProfileResponse::decode(&r).unwrap().disable_result
}

fn delete(lpa: &mut Lpa<ConsumerEuicc>, iccid: rsp_types::Iccid) -> i64 {
    let r = lpa.es10(&DeleteProfileRequest::Iccid(iccid).encode(&p2()).unwrap());
    DeleteProfileResponse::decode(&r).unwrap().delete_result
}

fn list(lpa: &mut Lpa<ConsumerEuicc>) -> Vec<(i64, usize)> {
    let r = lpa.es10(
        &ListNotificationRequest {
            profile_management_operation: None,
            unknown_tags: vec![],
        }
        .encode(&p2())
        .unwrap(),
    );
    let ListNotificationResponse::Ok(l) = ListNotificationResponse::decode(&r).unwrap() else {
        panic!()
    };
    l.0.iter()
        .map(|m| {
            let event = m.profile_management_operation.0.ones().next().unwrap();
            (m.seq_number, event)
        })
        .collect()
}

fn remove(lpa: &mut Lpa<ConsumerEuicc>, seq: i64) -> i64 {
    let r = lpa.es10(
        &NotificationSentRequest {
            seq_number: seq,
            unknown_tags: vec![],
        }
        .encode(&p2())
        .unwrap(),
    );
    NotificationSentResponse::decode(&r)
        .unwrap()
        .delete_notification_status
}

fn rat_allowing(pprs: &[usize]) -> Vec<ProfilePolicyAuthorisationRule> {
    vec![ProfilePolicyAuthorisationRule {
        ppr_ids: PprIds::with_bits(pprs),
        allowed_operators: SeqOf(vec![OperatorId {
            // 001 / any MNC (E nibbles are wildcards).
            mcc_mnc: vec![0x00, 0xE1, 0xEE],
            gid1: None,
            gid2: None,
            unknown_tags: vec![],
        }]),
        ppr_flags: rsp_sgp22::BitString::default(),
        unknown_tags: vec![],
    }]
}

#[test]
fn enable_disable_delete_with_notifications() {
    let mut lpa = Lpa::open(sgp26_card("2.2.2"));
    assert!(matches!(
        install(&mut lpa, 1, TS48_NO_BERTLV, &[]),
        FinalResult::Success(_)
    ));
    assert!(matches!(
        install(&mut lpa, 2, &second(), &[]),
        FinalResult::Success(_)
    ));
    let a = upp_iccid(TS48_NO_BERTLV);
    let b = upp_iccid(&second());
    assert_eq!(list(&mut lpa), vec![(1, 0), (2, 0)]);
    // Clear the PIRs as an LPA does after HandleNotification.
    assert_eq!(remove(&mut lpa, 1), 0);
    assert_eq!(remove(&mut lpa, 1), 1);
    assert_eq!(remove(&mut lpa, 2), 0);

    assert_eq!(enable(&mut lpa, a), por::OK);
    assert_eq!(enable(&mut lpa, a), por::WRONG_PROFILE_STATE);
    // Enabling B disables A: two notifications, disable then enable.
    assert_eq!(enable(&mut lpa, b), por::OK);
    assert_eq!(list(&mut lpa), vec![(3, 1), (4, 2), (5, 1)]);
    assert!(
        lpa.card
            .profiles()
            .iter()
            .any(|p| p.iccid == b && p.enabled)
    );
    assert!(
        lpa.card
            .profiles()
            .iter()
            .any(|p| p.iccid == a && !p.enabled)
    );
    assert_eq!(delete(&mut lpa, b), por::WRONG_PROFILE_STATE);
    assert_eq!(disable(&mut lpa, b), por::OK);
    assert_eq!(disable(&mut lpa, b), por::WRONG_PROFILE_STATE);
    assert_eq!(delete(&mut lpa, b), por::OK);
    assert_eq!(delete(&mut lpa, b), por::ICCID_OR_AID_NOT_FOUND);
    assert_eq!(list(&mut lpa), vec![(3, 1), (4, 2), (5, 1), (6, 2), (7, 3)]);

    // Every other notification is signed by the eUICC and names the profile.
    let r = lpa.es10(
        &RetrieveNotificationsListRequest {
            search_criteria: Some(rsp_sgp22::NotificationSearchCriteria::SeqNumber(7)),
            unknown_tags: vec![],
        }
        .encode(&p2())
        .unwrap(),
    );
    let RetrieveNotificationsListResponse::Ok(l) =
        RetrieveNotificationsListResponse::decode(&r).unwrap()
    else {
        panic!()
    };
    let PendingNotification::OtherSignedNotification(n) = &l.0[0] else {
        panic!()
    };
    sgp26_euicc_cert()
        .public_key()
        .unwrap()
        .verify_raw(
            n.tbs_other_notification.raw(),
            &n.euicc_notification_signature,
        )
        .unwrap();
    assert_eq!(n.tbs_other_notification.value().iccid, Some(b));
    assert_eq!(
        n.tbs_other_notification.value().notification_address,
        "notify.example.com"
    );

    // GetProfilesInfo with a tag list and a search criterion.
    let r = lpa.es10(
        &ProfileInfoListRequest {
            search_criteria: Some(ProfileSearchCriteria::Iccid(a)),
            tag_list: Some(vec![0x5A, 0x9F, 0x70]),
            unknown_tags: vec![],
        }
        .encode(&p2())
        .unwrap(),
    );
    let ProfileInfoListResponse::Ok(infos) = ProfileInfoListResponse::decode(&r).unwrap() else {
        panic!()
    };
    assert_eq!(infos.0.len(), 1);
    assert_eq!(infos.0[0].iccid, Some(a));
    assert_eq!(infos.0[0].profile_state, Some(0));
    assert_eq!(infos.0[0].profile_name, None);

    // SetNickname.
    let r = lpa.es10(
        &SetNicknameRequest {
            iccid: a,
            profile_nickname: "work".into(),
            unknown_tags: vec![],
        }
        .encode(&p2())
        .unwrap(),
    );
    assert_eq!(
        SetNicknameResponse::decode(&r).unwrap().set_nickname_result,
        0
    );
    assert_eq!(lpa.card.profiles()[0].nickname.as_deref(), Some("work"));
}

#[test]
fn pprs_refused_by_rat_and_enforced_by_the_card() {
    // Empty RAT: a PPR1 profile is refused at StoreMetadata.
    let mut lpa = Lpa::open(sgp26_card("2.2.2"));
    let FinalResult::Error(e) = install(&mut lpa, 1, TS48_NO_BERTLV, &[PprIds::PPR1]) else {
        panic!("a PPR the RAT does not allow was installed")
    };
    assert_eq!(e.error_reason, rsp_sgp22::error_reason::PPR_NOT_ALLOWED);
    assert!(lpa.card.profiles().is_empty());

    // RAT allowing PPR1 + PPR2 for MCC 001.
    let mut config = ConsumerConfig::new(svn("2.2.2"));
    config.rat = rat_allowing(&[PprIds::PPR1, PprIds::PPR2]);
    let mut lpa = Lpa::open(sgp26_card_with(config));
    let rat = lpa.es10(
        &GetRatRequest {
            unknown_tags: vec![],
        }
        .encode(&p2())
        .unwrap(),
    );
    assert_eq!(GetRatResponse::decode(&rat).unwrap().rat.0.len(), 1);
    assert!(matches!(
        install(&mut lpa, 1, TS48_NO_BERTLV, &[PprIds::PPR1, PprIds::PPR2]),
        FinalResult::Success(_)
    ));
    assert!(matches!(
        install(&mut lpa, 2, &second(), &[]),
        FinalResult::Success(_)
    ));
    let a = upp_iccid(TS48_NO_BERTLV);
    let b = upp_iccid(&second());
    assert_eq!(enable(&mut lpa, a), por::OK);
    assert_eq!(disable(&mut lpa, a), por::DISALLOWED_BY_POLICY);
    // PPR1 also forbids the implicit disable of enabling another operational profile.
    assert_eq!(enable(&mut lpa, b), por::DISALLOWED_BY_POLICY);
    assert!(
        lpa.card
            .profiles()
            .iter()
            .any(|p| p.iccid == a && p.enabled)
    );
    // PPR2 forbids deletion (once disabled it would still be refused; here it is enabled).
    assert_eq!(delete(&mut lpa, a), por::WRONG_PROFILE_STATE);
}

#[test]
fn ppr2_forbids_delete() {
    let mut config = ConsumerConfig::new(svn("2.2.2"));
    config.rat = rat_allowing(&[PprIds::PPR2]);
    let mut lpa = Lpa::open(sgp26_card_with(config));
    assert!(matches!(
        install(&mut lpa, 1, TS48_NO_BERTLV, &[PprIds::PPR2]),
        FinalResult::Success(_)
    ));
    let a = upp_iccid(TS48_NO_BERTLV);
    assert_eq!(delete(&mut lpa, a), por::DISALLOWED_BY_POLICY);
    assert_eq!(lpa.card.profiles().len(), 1);
}

#[test]
fn cancel_session_is_signed() {
    let server = Server::sgp26();
    let mut lpa = Lpa::open(sgp26_card("2.2.2"));
    let auth = server.authenticate(&mut lpa, &[0xC1; 4]);
    let wrong = CancelSessionRequest {
        transaction_id: rsp_sgp22::TransactionId::new(&[9]).unwrap(),
        reason: 0,
        unknown_tags: vec![],
    };
    let r = lpa.es10(&wrong.encode(&p2()).unwrap());
    assert_eq!(
        CancelSessionResponse::decode(&r).unwrap(),
        CancelSessionResponse::Error(5)
    );
    let req = CancelSessionRequest {
        transaction_id: auth.transaction_id.clone(),
        reason: rsp_sgp22::cancel_session_reason::POSTPONED,
        unknown_tags: vec![],
    };
    let r = lpa.es10(&req.encode(&p2()).unwrap());
    let CancelSessionResponse::Ok(ok) = CancelSessionResponse::decode(&r).unwrap() else {
        panic!()
    };
    auth.euicc_certificate
        .public_key()
        .unwrap()
        .verify_raw(
            ok.euicc_cancel_session_signed.raw(),
            &ok.euicc_cancel_session_signature,
        )
        .unwrap();
    let signed = ok.euicc_cancel_session_signed.value();
    assert_eq!(signed.smdp_oid, server.oid);
    assert_eq!(signed.reason, 1);
    assert!(!lpa.card.session_open());
}

#[test]
fn eid_addresses_and_memory_reset() {
    let mut config = ConsumerConfig::new(svn("2.2.2"));
    config.default_smdp_address = Some("factory.example.com".into());
    let mut lpa = Lpa::open(sgp26_card_with(config));
    let r = lpa.es10(
        &GetEuiccDataRequest {
            tag_list: vec![0x5A],
            unknown_tags: vec![],
        }
        .encode(&p2())
        .unwrap(),
    );
    assert_eq!(
        hex::encode_upper(GetEuiccDataResponse::decode(&r).unwrap().eid_value),
        SGP26_EID
    );
    let r = lpa.es10(&[0xBF, 0x3F, 0x07, 0x80, 0x05, b'a', b'.', b'c', b'o', b'm']);
    assert_eq!(r, vec![0xBF, 0x3F, 0x03, 0x80, 0x01, 0x00]);
    let addresses = |lpa: &mut Lpa<ConsumerEuicc>| {
        let r = lpa.es10(
            &EuiccConfiguredAddressesRequest {
                unknown_tags: vec![],
            }
            .encode(&p2())
            .unwrap(),
        );
        EuiccConfiguredAddressesResponse::decode(&r).unwrap()
    };
    assert_eq!(
        addresses(&mut lpa).default_dp_address.as_deref(),
        Some("a.com")
    );
    assert_eq!(
        addresses(&mut lpa).root_ds_address,
        "testrootsmds.example.com"
    );

    assert!(matches!(
        install(&mut lpa, 1, TS48_NO_BERTLV, &[]),
        FinalResult::Success(_)
    ));
    let seq_before = lpa.card.next_sequence_number();
    // resetOptions: deleteOperationalProfiles(0), resetDefaultSmdpAddress(2) -> 03 05 A0.
    let r = lpa.es10(&[0xBF, 0x34, 0x04, 0x82, 0x02, 0x05, 0xA0]);
    assert_eq!(r, vec![0xBF, 0x34, 0x03, 0x80, 0x01, 0x00]);
    assert!(lpa.card.profiles().is_empty());
    assert_eq!(
        addresses(&mut lpa).default_dp_address.as_deref(),
        Some("factory.example.com")
    );
    // The sequence number survives.
    assert_eq!(lpa.card.next_sequence_number(), seq_before);
    let r = lpa.es10(&[0xBF, 0x34, 0x04, 0x82, 0x02, 0x07, 0x80]);
    assert_eq!(r, vec![0xBF, 0x34, 0x03, 0x80, 0x01, 0x01]);
}

#[test]
fn snapshot_round_trip() {
    let mut lpa = Lpa::open(sgp26_card("3.1.0"));
    assert!(matches!(
        install(&mut lpa, 1, TS48_NO_BERTLV, &[]),
        FinalResult::Success(_)
    ));
    let a = upp_iccid(TS48_NO_BERTLV);
    assert_eq!(enable(&mut lpa, a), por::OK);
    let sealer = Sealer::new(&[7; 32]).unwrap();
    let snap = lpa.card.snapshot(&sealer).unwrap();
    let text = String::from_utf8(snap.clone()).unwrap();
    // No secret in clear: not the UPP, not the eUICC key.
    assert!(!text.contains(&hex::encode_upper(&TS48_NO_BERTLV[..64])));
    let sk = rsp_crypto::ecc::PrivateKey::from_pem(
        &String::from_utf8(read("eUICC/SK_EUICC_ECDSA_NIST.pem")).unwrap(),
    )
    .unwrap();
    assert!(!text.contains(&hex::encode_upper(sk.scalar().as_slice())));
    assert!(!format!("{:?}", lpa.card).contains(&hex::encode(sk.scalar().as_slice())));

    let restored = ConsumerEuicc::restore(&snap, &sealer).unwrap();
    assert_eq!(restored.profiles(), lpa.card.profiles());
    assert_eq!(
        restored.notifications().collect::<Vec<_>>(),
        lpa.card.notifications().collect::<Vec<_>>()
    );
    assert_eq!(
        restored.next_sequence_number(),
        lpa.card.next_sequence_number()
    );
    // Sealing uses fresh nonces: compare what a second round trip restores.
    let again = ConsumerEuicc::restore(&restored.snapshot(&sealer).unwrap(), &sealer).unwrap();
    assert_eq!(again.profiles(), restored.profiles());
    assert_eq!(again.identity().eid, restored.identity().eid);
    // Another master key does not open it.
    assert!(ConsumerEuicc::restore(&snap, &Sealer::new(&[8; 32]).unwrap()).is_err());

    // The restored card keeps working: disable, and the next sequence number follows.
    let mut lpa2 = Lpa::open(restored);
    let next = lpa2.card.next_sequence_number();
    assert_eq!(disable(&mut lpa2, a), por::OK);
    assert_eq!(list(&mut lpa2).last(), Some(&(next, 2)));
    let server = Server::sgp26();
    let _ = server.authenticate(&mut lpa2, &[0xD1; 4]);
}

#[test]
fn freshly_issued_card_authenticates() {
    let issuer = EumIssuer {
        key: key("EUM/SK_EUM_ECDSA_NIST.pem"),
        certificate: X509::from_der(&read("EUM/CERT_EUM_ECDSA_NIST.der")).unwrap(),
        ci_certificates: vec![
            X509::from_der(&read("CertificateIssuer/CERT_CI_ECDSA_NIST.der")).unwrap(),
        ],
    };
    let not_before = time::OffsetDateTime::from_unix_timestamp(TEST_TIME as i64).unwrap();
    let mut config = ConsumerConfig::new(svn("3.1.0"));
    config.rng_seed = 42;
    let mut card = ConsumerEuicc::issue(&issuer, config.clone(), not_before).unwrap();
    card.set_time(CardTime(TEST_TIME + 10));
    let eid = *card.eid();
    assert!(eid.as_str().starts_with("89049032"));
    assert!(eid.has_valid_check_digits());
    assert_ne!(eid.as_str(), SGP26_EID);
    // The same seed issues the same EID; another seed another one.
    let same = ConsumerEuicc::issue(&issuer, config.clone(), not_before).unwrap();
    assert_eq!(same.eid(), &eid);
    config.rng_seed = 43;
    let other = ConsumerEuicc::issue(&issuer, config, not_before).unwrap();
    assert_ne!(other.eid(), &eid);

    let mut lpa = Lpa::open(card);
    let auth = Server::sgp26().authenticate(&mut lpa, &[0xE1; 8]);
    assert_eq!(auth.euicc_certificate.eid(), Some(eid.as_str()));
    // The server-side chain check (what an SM-DP+ does) accepts the minted certificate.
    rsp_crypto::x509::verify_sgp22_chain(
        &auth.euicc_certificate,
        std::slice::from_ref(&issuer.certificate),
        &issuer.ci_certificates,
        not_before,
        rsp_crypto::x509::Sgp22Role::Euicc,
    )
    .unwrap();
    // And it installs a profile.
    assert!(matches!(install_with(&mut lpa, 1), FinalResult::Success(_)));
}

fn install_with(lpa: &mut Lpa<ConsumerEuicc>, tid: u8) -> FinalResult {
    let server = Server::sgp26();
    let eid = *lpa.card.eid();
    let meta = metadata(TS48_NO_BERTLV, "n.example.com", &[]);
    let pir = download(&server, lpa, &eid, &[tid; 8], &meta, TS48_NO_BERTLV);
    let cert = X509::from_der(lpa.card.identity().credentials[0].euicc_certificate.der()).unwrap();
    pir_of(&pir, &cert)
        .profile_installation_result_data
        .value()
        .final_result
        .clone()
}

#[test]
fn apdu_layer_channels_select_and_status_words() {
    let mut card = sgp26_card("2.2.2");
    card.reset();
    // STORE DATA without a selected ISD-R.
    assert_eq!(
        card.transmit(&[0x80, 0xE2, 0x91, 0x00, 0x03, 0xBF, 0x2E, 0x00]),
        vec![0x69, 0x85]
    );
    // SELECT an unknown AID.
    assert_eq!(
        card.transmit(&[0x00, 0xA4, 0x04, 0x00, 0x05, 1, 2, 3, 4, 5]),
        vec![0x6A, 0x82]
    );
    // SELECT the ISD-R on the basic channel: FCI with the DF name.
    let mut select = vec![0x00, 0xA4, 0x04, 0x00, 0x10];
    select.extend_from_slice(&hex::decode(rsp_euicc::consumer::DEFAULT_ISD_R_AID).unwrap());
    let r = card.transmit(&select);
    assert_eq!(&r[..4], &[0x6F, 0x12, 0x84, 0x10]);
    assert_eq!(&r[r.len() - 2..], &[0x90, 0x00]);
    // Unknown INS, unknown ES10 tag, malformed ES10 TLV.
    assert_eq!(
        card.transmit(&[0x80, 0xCA, 0x00, 0x00, 0x00]),
        vec![0x6D, 0x00]
    );
    assert_eq!(
        card.transmit(&[0x80, 0xE2, 0x91, 0x00, 0x03, 0xBF, 0x7F, 0x00]),
        vec![0x6A, 0x88]
    );
    assert_eq!(
        card.transmit(&[0x80, 0xE2, 0x91, 0x00, 0x03, 0xBF, 0x38, 0x05]),
        vec![0x6A, 0x80]
    );
    // Channel 2 is closed.
    assert_eq!(
        card.transmit(&[0x82, 0xE2, 0x91, 0x00, 0x03, 0xBF, 0x2E, 0x00]),
        vec![0x68, 0x81]
    );
    // Open channels 1..3, then none is left.
    for n in 1..=3u8 {
        assert_eq!(
            card.transmit(&[0x00, 0x70, 0x00, 0x00, 0x01]),
            vec![n, 0x90, 0x00]
        );
    }
    assert_eq!(
        card.transmit(&[0x00, 0x70, 0x00, 0x00, 0x01]),
        vec![0x68, 0x81]
    );
    // Close channel 2 from itself.
    assert_eq!(card.transmit(&[0x02, 0x70, 0x80, 0x00]), vec![0x90, 0x00]);
    assert_eq!(
        card.transmit(&[0x02, 0xA4, 0x04, 0x00, 0x05, 1, 2, 3, 4, 5]),
        vec![0x68, 0x81]
    );
    // A custom ISD-R AID.
    let mut config = ConsumerConfig::new(svn("2.2.2"));
    config.isd_r_aid = "A0000005591010FFFFFFFF8900050500".parse().unwrap();
    let custom = sgp26_card_with(config);
    let mut lpa = Lpa {
        card: custom,
        channel: 0,
        block: 255,
    };
    lpa.card.reset();
    lpa.select_isd_r("A0000005591010FFFFFFFF8900050500");
    assert_eq!(lpa.challenge().0.len(), 16);
    // LoadCRL answers undefinedError.
    assert_eq!(
        lpa.es10(&[0xBF, 0x35, 0x02, 0xA0, 0x00]),
        vec![0xBF, 0x35, 0x03, 0x81, 0x01, 0x7F]
    );
}

#[test]
fn small_blocks_and_long_responses() {
    // Blocks of 17 bytes and a response (EUICCInfo2 + signature + certificates) far above 256
    // bytes: the card answers in 61xx pieces.
    let server = Server::sgp26();
    let mut lpa = Lpa::open(sgp26_card("3.1.0"));
    lpa.block = 17;
    let auth = server.authenticate(&mut lpa, &[0xF1; 16]);
    assert_eq!(auth.euicc_certificate.eid(), Some(SGP26_EID));
}

#[test]
fn brainpool_session_installs_with_the_brainpool_credential() {
    let server = Server::sgp26_brp();
    let mut lpa = Lpa::open(sgp26_card("3.1.0"));
    let eid = *lpa.card.eid();
    let auth = server.authenticate(&mut lpa, &[0xB7; 8]);
    // The brainpool eUICC certificate signed the session.
    let brp = X509::from_der(&read("eUICC/CERT_EUICC_ECDSA_BRP.der")).unwrap();
    assert_eq!(auth.euicc_certificate.der(), brp.der());
    let otpk = server.prepare(&mut lpa, &auth, None);
    // otPK.EUICC.ECKA is on the session curve.
    assert!(
        rsp_crypto::ecc::PublicKey::from_sec1(rsp_crypto::ecc::Curve::BrainpoolP256r1, &otpk)
            .is_ok()
    );
    let meta = metadata(TS48_NO_BERTLV, "n.example.com", &[]);
    let bpp = server.bpp(&auth, &otpk, &eid, &meta, TS48_NO_BERTLV);
    let mut last = Vec::new();
    for s in rsp_sgp22::bpp::segment_bound_profile_package(&bpp).unwrap() {
        last = lpa.es10(&s);
    }
    let pir = pir_of(&last, &brp);
    assert!(matches!(
        pir.profile_installation_result_data.value().final_result,
        FinalResult::Success(_)
    ));
    assert_eq!(lpa.card.profiles()[0].upp, TS48_NO_BERTLV);
}

#[test]
fn notification_storage_is_bounded_and_drops_the_oldest() {
    let mut config = ConsumerConfig::new(svn("2.2.2"));
    config.max_notifications = 3;
    let mut lpa = Lpa::open(sgp26_card_with(config));
    assert!(matches!(
        install(&mut lpa, 1, TS48_NO_BERTLV, &[]),
        FinalResult::Success(_)
    ));
    let a = upp_iccid(TS48_NO_BERTLV);
    for _ in 0..3 {
        assert_eq!(enable(&mut lpa, a), por::OK);
        assert_eq!(disable(&mut lpa, a), por::OK);
    }
    // 1 PIR + 6 others; the last three remain.
    assert_eq!(list(&mut lpa), vec![(5, 2), (6, 1), (7, 2)]);
}

#[test]
fn ctx_params1_is_signed_as_received() {
    // A v3 LPA's DeviceInfo (with lpaRspCapability) sent to a v2 card: the card signs the
    // bytes it received, not a v2 re-encoding that would drop the field.
    let server = Server::sgp26();
    let mut lpa = Lpa::open(sgp26_card("2.2.2"));
    let c = lpa.challenge();
    let (mut req, _) = server.authenticate_request(c, &[0x77; 4]);
    let rsp_sgp22::CtxParams1::CommonAuthentication(ctx) = &mut req.ctx_params1 else {
        panic!()
    };
    ctx.device_info.lpa_rsp_capability = Some(rsp_sgp22::LpaRspCapability::with_bits(&[0, 1]));
    let bytes = req.encode(&Profile::new(svn("3.1.0"))).unwrap();
    let sent_ctx = tlv::parse_single(&bytes)
        .unwrap()
        .children()
        .nth(4)
        .unwrap()
        .unwrap()
        .raw()
        .to_vec();
    let resp = lpa.es10(&bytes);
    let AuthenticateServerResponse::Ok(ok) = AuthenticateServerResponse::decode(&resp).unwrap()
    else {
        panic!()
    };
    let signed = ok.euicc_signed1.raw();
    assert!(signed.ends_with(&sent_ctx));
    let rsp_sgp22::CtxParams1::CommonAuthentication(got) = &ok.euicc_signed1.value().ctx_params1
    else {
        panic!()
    };
    assert!(got.device_info.lpa_rsp_capability.is_some());
    sgp26_euicc_cert()
        .public_key()
        .unwrap()
        .verify_raw(signed, &ok.euicc_signature1)
        .unwrap();
}
