//! The download procedure against test doubles: the steps in order, what each peer receives for
//! its version, and every failure path (cancelled on the card, then at the server, with the
//! codes surfaced).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::fakes::*;
use rsp_lpa::wire::tag_paths;
use rsp_lpa::{
    Consent, DownloadRequest, DownloadStep, Es9Function, FailureKind, Lpa, LpaConfig,
    ResultDelivery, hash_confirmation_code,
};
use rsp_sgp22::{
    AuthenticateServerRequest, CancelSessionRequestEs9, CancelSessionResponse, CtxParams1,
    InitiateAuthenticationRequest, LpaRspCapability, PprIds, PrepareDownloadRequest, ProfileInfo,
    cancel_session_reason,
};
use rsp_types::Svn;

fn request() -> DownloadRequest {
    DownloadRequest::new(SMDP, Some("MATCHING-1".into()))
}

fn make_lpa(config: LpaConfig, card: &FakeCard, server: &FakeServer) -> Lpa<FakeCard, FakeServer> {
    Lpa::new(config, card.clone(), server.clone())
}

fn v3_lpa() -> LpaConfig {
    LpaConfig::new(V3).with_capability(&[
        LpaRspCapability::CERT_CHAIN_V3_SUPPORT,
        LpaRspCapability::EVENT_CHECKING_SUPPORT,
    ])
}

fn sent_to_card(lpa: &mut Lpa<FakeCard, FakeServer>, function: &str) -> Vec<Vec<u8>> {
    lpa.card().log().commands(function)
}

fn device_info_paths(auth_server_command: &[u8]) -> Vec<String> {
    let req = AuthenticateServerRequest::decode(auth_server_command).unwrap();
    let CtxParams1::CommonAuthentication(c) = &req.ctx_params1 else {
        panic!("common authentication expected")
    };
    assert_eq!(c.matching_id.as_deref(), Some("MATCHING-1"));
    tag_paths(auth_server_command)
}

#[tokio::test]
async fn v2_lpa_full_download_sends_no_v3_element() {
    let card = FakeCard::new(FakeCardConfig::v3());
    let server = FakeServer::new(true);
    let mut lpa = make_lpa(
        LpaConfig::new(V2).with_capability(&[0, 1, 7]),
        &card,
        &server,
    );
    let outcome = lpa.download(&request()).await.unwrap();
    assert_eq!(outcome.iccid, iccid());
    assert_eq!(outcome.delivery, ResultDelivery::Delivered);
    assert!(!outcome.device.is_v3());
    assert_eq!(outcome.session.profile, rsp_sgp22::Profile::new(V2));

    assert_eq!(
        lpa.card().log().functions(),
        [
            "GetEUICCChallenge",
            "GetEUICCInfo1",
            "GetEUICCInfo2",
            "AuthenticateServer",
            "PrepareDownload",
            "LoadBoundProfilePackage",
            "LoadBoundProfilePackage",
            "LoadBoundProfilePackage",
            "LoadBoundProfilePackage",
            "LoadBoundProfilePackage",
            "LoadBoundProfilePackage",
            "LoadBoundProfilePackage",
            "RemoveNotificationFromList",
        ]
    );
    assert_eq!(
        server.functions(),
        [
            Es9Function::InitiateAuthentication,
            Es9Function::AuthenticateClient,
            Es9Function::GetBoundProfilePackage,
            Es9Function::HandleNotification,
        ]
    );
    // InitiateAuthentication: no lpaRspCapability [5], and EUICCInfo1 without its v3 fields.
    let init = &server.calls_of(Es9Function::InitiateAuthentication)[0];
    assert_eq!(init.peer, rsp_sgp22::Profile::new(V2));
    let paths = tag_paths(&init.der);
    assert!(!paths.iter().any(|p| p == "BF39/85"), "{paths:?}");
    assert!(
        !paths
            .iter()
            .any(|p| p == "BF39/BF20/93" || p == "BF39/BF20/88"),
        "{paths:?}"
    );
    // DeviceInfo signed by the card: no lpaRspCapability, no lpaSvn.
    let auth = &sent_to_card(&mut lpa, "AuthenticateServer")[0];
    let paths = device_info_paths(auth);
    assert!(paths.iter().any(|p| p == "BF38/A0/A1"), "{paths:?}");
    assert!(!paths.iter().any(|p| p == "BF38/A0/A1/85"), "{paths:?}");
    assert!(!paths.iter().any(|p| p == "BF38/A0/A1/A1/8B"), "{paths:?}");
    // The segments went to the card in order, no CancelSession anywhere.
    assert_eq!(card.state.lock().unwrap().segments, SAMPLE_BPP_SEGMENTS);
    assert!(card.state.lock().unwrap().cancelled.is_empty());
    assert_eq!(card.state.lock().unwrap().removed, [11]);
}

#[tokio::test]
async fn v3_lpa_v3_card_v3_server_declares_capabilities_and_checks_rat() {
    let card = FakeCard::new(FakeCardConfig::v3());
    let server = FakeServer::new(true);
    let mut lpa = make_lpa(v3_lpa(), &card, &server);
    let outcome = lpa.download(&request()).await.unwrap();
    assert!(outcome.session.server_is_v3);
    assert_eq!(outcome.session.profile.svn, V3);

    let init = &server.calls_of(Es9Function::InitiateAuthentication)[0];
    let req = InitiateAuthenticationRequest::decode(&init.der).unwrap();
    let caps = req
        .lpa_rsp_capability
        .expect("lpaRspCapability sent by a v3 LPA");
    assert!(caps.has(LpaRspCapability::CERT_CHAIN_V3_SUPPORT));
    assert!(caps.has(LpaRspCapability::EVENT_CHECKING_SUPPORT));
    assert_eq!(req.euicc_info1.highest_svn, Some(V3));
    // The signed copy in DeviceInfo equals the unsigned one, and lpaSvn is set.
    let auth = AuthenticateServerRequest::decode(&sent_to_card(&mut lpa, "AuthenticateServer")[0])
        .unwrap();
    let CtxParams1::CommonAuthentication(c) = auth.ctx_params1 else {
        panic!()
    };
    assert_eq!(c.device_info.lpa_rsp_capability, Some(caps));
    assert_eq!(c.device_info.device_capabilities.lpa_svn, Some(V3));
    // v3 pre-download checks ran.
    let f = lpa.card().log().functions();
    assert!(
        f.contains(&"GetRAT") && f.contains(&"GetProfilesInfo"),
        "{f:?}"
    );
}

#[tokio::test]
async fn v3_lpa_with_v2_server_falls_back_after_server_signed1() {
    let card = FakeCard::new(FakeCardConfig::v3());
    let server = FakeServer::new(false);
    let mut lpa = make_lpa(v3_lpa(), &card, &server);
    let outcome = lpa.download(&request()).await.unwrap();
    assert!(!outcome.session.server_is_v3);
    assert!(!outcome.session.profile.is_v3());
    // Before the server is known, the v3 device offers its capabilities ...
    let init = &server.calls_of(Es9Function::InitiateAuthentication)[0];
    assert!(tag_paths(&init.der).iter().any(|p| p == "BF39/85"));
    // ... but once ServerSigned1 shows a v2 server, the DeviceInfo the card signs for it
    // carries no lpaRspCapability (a v2 server runs no v3 tamper check) ...
    let init_req = InitiateAuthenticationRequest::decode(&init.der).unwrap();
    let auth = AuthenticateServerRequest::decode(&sent_to_card(&mut lpa, "AuthenticateServer")[0])
        .unwrap();
    let CtxParams1::CommonAuthentication(c) = auth.ctx_params1 else {
        panic!()
    };
    assert!(init_req.lpa_rsp_capability.is_some());
    assert_eq!(c.device_info.lpa_rsp_capability, None);
    // ... and every ES9+ request after ServerSigned1 is encoded for the v2 server.
    for f in [
        Es9Function::AuthenticateClient,
        Es9Function::GetBoundProfilePackage,
        Es9Function::HandleNotification,
    ] {
        let call = &server.calls_of(f)[0];
        assert!(!call.peer.is_v3(), "{f} encoded for {:?}", call.peer);
    }
}

#[tokio::test]
async fn v3_lpa_in_front_of_v2_card_is_v2() {
    let card = FakeCard::new(FakeCardConfig::v2());
    let server = FakeServer::new(true);
    let mut lpa = make_lpa(v3_lpa(), &card, &server);
    let outcome = lpa.download(&request()).await.unwrap();
    assert!(!outcome.device.is_v3());
    assert_eq!(outcome.device.lpa_rsp_capability, None);
    let init = &server.calls_of(Es9Function::InitiateAuthentication)[0];
    assert!(!tag_paths(&init.der).iter().any(|p| p == "BF39/85"));
}

/// The card got CancelSession with `reason`, and the server got ES9+ CancelSession carrying the
/// card's signed answer for the same transaction.
fn assert_cancelled(card: &FakeCard, server: &FakeServer, reason: i64) {
    assert_eq!(
        card.state.lock().unwrap().cancelled,
        [(TXID.to_vec(), reason)],
        "card CancelSession"
    );
    let calls = server.calls_of(Es9Function::CancelSession);
    assert_eq!(calls.len(), 1, "one ES9+ CancelSession");
    let req = CancelSessionRequestEs9::decode(&calls[0].der).unwrap();
    assert_eq!(req.transaction_id, txid());
    let CancelSessionResponse::Ok(ok) = req.cancel_session_response else {
        panic!("the card's signed answer")
    };
    assert_eq!(ok.euicc_cancel_session_signed.value().reason, reason);
}

#[tokio::test]
async fn server_refusal_at_authenticate_client_cancels_and_keeps_codes() {
    let card = FakeCard::new(FakeCardConfig::v3());
    let server = FakeServer::new(true).fail(Es9Function::AuthenticateClient, "8.2.6", "3.8");
    let mut lpa = make_lpa(v3_lpa(), &card, &server);
    let err = lpa.download(&request()).await.unwrap_err();
    assert_eq!(err.step, DownloadStep::AuthenticateClient);
    let status = err.server_status().unwrap();
    assert_eq!(
        (status.subject_code.as_str(), status.reason_code.as_str()),
        ("8.2.6", "3.8")
    );
    assert_eq!(err.transaction_id, Some(txid()));
    assert_cancelled(&card, &server, cancel_session_reason::UNDEFINED_REASON);
    assert!(err.to_string().contains("8.2.6/3.8"), "{err}");
    assert!(sent_to_card(&mut lpa, "PrepareDownload").is_empty());
}

#[tokio::test]
async fn server_refusal_at_get_bpp_cancels() {
    let card = FakeCard::new(FakeCardConfig::v2());
    let mut server =
        FakeServer::new(false).fail(Es9Function::GetBoundProfilePackage, "8.2.7", "3.8");
    server.cc_required = true;
    let mut lpa = make_lpa(
        LpaConfig::new(V2).with_confirmation_code("1234"),
        &card,
        &server,
    );
    let err = lpa.download(&request()).await.unwrap_err();
    assert_eq!(err.step, DownloadStep::GetBoundProfilePackage);
    assert_eq!(err.server_status().unwrap().reason_code.as_str(), "3.8");
    assert_cancelled(&card, &server, cancel_session_reason::UNDEFINED_REASON);
    assert_eq!(card.state.lock().unwrap().segments, 0);
}

#[tokio::test]
async fn initiate_authentication_refusal_has_no_session_to_cancel() {
    let card = FakeCard::new(FakeCardConfig::v3());
    let server = FakeServer::new(true).fail(Es9Function::InitiateAuthentication, "8.8.2", "3.1");
    let mut lpa = make_lpa(v3_lpa(), &card, &server);
    let err = lpa.download(&request()).await.unwrap_err();
    assert_eq!(err.step, DownloadStep::InitiateAuthentication);
    assert_eq!(err.server_status().unwrap().subject_code.as_str(), "8.8.2");
    assert!(err.cancel.is_none());
    assert!(card.state.lock().unwrap().cancelled.is_empty());
    assert!(server.calls_of(Es9Function::CancelSession).is_empty());
}

#[tokio::test]
async fn card_authenticate_server_error_goes_to_the_server_then_cancels() {
    let mut cfg = FakeCardConfig::v3();
    cfg.authenticate_server_error = Some(rsp_sgp22::authenticate_error::INVALID_SIGNATURE);
    let card = FakeCard::new(cfg);
    let server = FakeServer::new(true);
    let mut lpa = make_lpa(v3_lpa(), &card, &server);
    let err = lpa.download(&request()).await.unwrap_err();
    assert_eq!(err.step, DownloadStep::AuthenticateServer);
    assert_eq!(err.card_code(), Some(2));
    // The card's error answer reached the server in AuthenticateClient.
    let client = &server.calls_of(Es9Function::AuthenticateClient)[0];
    assert!(tag_paths(&client.der).iter().any(|p| p == "BF3B/BF38/A1"));
    assert_cancelled(&card, &server, cancel_session_reason::UNDEFINED_REASON);
}

#[tokio::test]
async fn card_prepare_download_error_goes_to_the_server_then_cancels() {
    let mut cfg = FakeCardConfig::v3();
    cfg.prepare_download_error = Some(rsp_sgp22::download_error::INVALID_SIGNATURE);
    let card = FakeCard::new(cfg);
    let server = FakeServer::new(true);
    let mut lpa = make_lpa(v3_lpa(), &card, &server);
    let err = lpa.download(&request()).await.unwrap_err();
    assert_eq!(err.step, DownloadStep::PrepareDownload);
    assert_eq!(err.card_code(), Some(2));
    let bpp = &server.calls_of(Es9Function::GetBoundProfilePackage)[0];
    assert!(tag_paths(&bpp.der).iter().any(|p| p == "BF3A/BF21/A1"));
    assert_cancelled(&card, &server, cancel_session_reason::UNDEFINED_REASON);
}

#[tokio::test]
async fn ppr_not_allowed_by_rat_cancels_with_ppr_not_allowed() {
    let card = FakeCard::new(FakeCardConfig::v3()); // empty RAT: every PPR forbidden
    let mut server = FakeServer::new(true);
    server.pprs = Some(PprIds::with_bits(&[PprIds::PPR2]));
    let mut lpa = make_lpa(v3_lpa(), &card, &server);
    let err = lpa.download(&request()).await.unwrap_err();
    assert_eq!(err.step, DownloadStep::PreDownloadChecks);
    assert!(matches!(err.kind, FailureKind::PprNotAllowed { ref pprs, .. } if pprs == &[2]));
    assert_cancelled(&card, &server, cancel_session_reason::PPR_NOT_ALLOWED);
    assert!(sent_to_card(&mut lpa, "PrepareDownload").is_empty());
}

#[tokio::test]
async fn ppr_allowed_by_rat_downloads() {
    let mut cfg = FakeCardConfig::v3();
    cfg.rat = vec![rat_all(&[PprIds::PPR2], false)];
    let card = FakeCard::new(cfg);
    let mut server = FakeServer::new(true);
    server.pprs = Some(PprIds::with_bits(&[PprIds::PPR2]));
    let mut lpa = make_lpa(v3_lpa(), &card, &server);
    lpa.download(&request()).await.unwrap();
}

#[tokio::test]
async fn ppr1_refused_when_an_operational_profile_is_installed() {
    let mut cfg = FakeCardConfig::v3();
    cfg.rat = vec![rat_all(&[PprIds::PPR1], false)];
    cfg.installed = vec![ProfileInfo {
        iccid: Some(rsp_types::Iccid::with_luhn("8949001234567890999").unwrap()),
        isdp_aid: None,
        profile_state: Some(1),
        profile_nickname: None,
        service_provider_name: None,
        profile_name: None,
        icon_type: None,
        icon: None,
        profile_class: None,
        notification_configuration_info: None,
        profile_owner: None,
        dp_proprietary_data: None,
        profile_policy_rules: None,
        unknown_tags: vec![],
    }];
    let card = FakeCard::new(cfg);
    let mut server = FakeServer::new(true);
    server.pprs = Some(PprIds::with_bits(&[PprIds::PPR1]));
    let mut lpa = make_lpa(v3_lpa(), &card, &server);
    let err = lpa.download(&request()).await.unwrap_err();
    assert!(
        matches!(err.kind, FailureKind::PprNotAllowed { .. }),
        "{err}"
    );
    assert_cancelled(&card, &server, cancel_session_reason::PPR_NOT_ALLOWED);
    // On a MEP eUICC the same download goes through.
    let card = FakeCard::new(card.config.clone());
    let server = FakeServer {
        calls: Default::default(),
        ..server
    };
    let mut cfg = v3_lpa();
    cfg.device.mep = true;
    let mut lpa = Lpa::new(cfg, card.clone(), server.clone());
    lpa.download(&request()).await.unwrap();
}

#[tokio::test]
async fn user_rejection_cancels_with_end_user_rejection() {
    let card = FakeCard::new(FakeCardConfig::v2());
    let server = FakeServer::new(false);
    let mut cfg = LpaConfig::new(V2);
    cfg.consent = Consent::Reject;
    let mut lpa = make_lpa(cfg, &card, &server);
    let err = lpa.download(&request()).await.unwrap_err();
    assert_eq!(err.step, DownloadStep::Consent);
    assert_cancelled(&card, &server, cancel_session_reason::END_USER_REJECTION);
}

#[tokio::test]
async fn confirmation_code_hash_reaches_the_card_and_missing_code_cancels() {
    let card = FakeCard::new(FakeCardConfig::v2());
    let mut server = FakeServer::new(false);
    server.cc_required = true;
    let mut lpa = make_lpa(LpaConfig::new(V2), &card, &server);
    let err = lpa.download(&request()).await.unwrap_err();
    assert_eq!(err.kind, FailureKind::ConfirmationCodeRequired);
    assert_cancelled(&card, &server, cancel_session_reason::POSTPONED);

    let card = FakeCard::new(FakeCardConfig::v2());
    let mut server = FakeServer::new(false);
    server.cc_required = true;
    let mut lpa = make_lpa(LpaConfig::new(V2), &card, &server);
    let mut req = request();
    req.confirmation_code = Some("12345678".into());
    lpa.download(&req).await.unwrap();
    let prep =
        PrepareDownloadRequest::decode(&sent_to_card(&mut lpa, "PrepareDownload")[0]).unwrap();
    assert_eq!(
        prep.hash_cc,
        Some(hash_confirmation_code("12345678", &txid()).to_vec())
    );
}

#[tokio::test]
async fn card_failure_while_loading_cancels_with_load_bpp_execution_error() {
    for (cfg, lpa_cfg, reason) in [
        (
            FakeCardConfig::v3(),
            v3_lpa(),
            cancel_session_reason::LOAD_BPP_EXECUTION_ERROR,
        ),
        // A v2 card does not know loadBppExecutionError.
        (
            FakeCardConfig::v2(),
            LpaConfig::new(V2),
            cancel_session_reason::UNDEFINED_REASON,
        ),
    ] {
        let mut cfg = cfg;
        cfg.fail_segment = Some(4);
        let card = FakeCard::new(cfg);
        let server = FakeServer::new(true);
        let mut lpa = make_lpa(lpa_cfg, &card, &server);
        let err = lpa.download(&request()).await.unwrap_err();
        assert_eq!(err.step, DownloadStep::LoadBoundProfilePackage);
        assert!(matches!(err.kind, FailureKind::Card(_)));
        assert_cancelled(&card, &server, reason);
    }
}

#[tokio::test]
async fn installation_error_result_is_delivered_and_not_cancelled() {
    let mut cfg = FakeCardConfig::v3();
    cfg.segments_until_result = 3; // an early result: the card stopped at StoreMetadata
    cfg.install_error = Some((2, rsp_sgp22::error_reason::ICCID_ALREADY_EXISTS));
    let card = FakeCard::new(cfg);
    let server = FakeServer::new(true);
    let mut lpa = make_lpa(v3_lpa(), &card, &server);
    let err = lpa.download(&request()).await.unwrap_err();
    assert_eq!(
        err.kind,
        FailureKind::InstallationFailed {
            bpp_command_id: 2,
            error_reason: 9
        }
    );
    assert!(err.cancel.is_none());
    assert_eq!(
        card.state.lock().unwrap().segments,
        3,
        "loading stops at the result"
    );
    assert_eq!(server.calls_of(Es9Function::HandleNotification).len(), 1);
    assert!(server.calls_of(Es9Function::CancelSession).is_empty());
    assert_eq!(card.state.lock().unwrap().removed, [11]);
}

#[tokio::test]
async fn undelivered_result_stays_pending_and_is_delivered_later() {
    let card = FakeCard::new(FakeCardConfig::v2());
    let mut server = FakeServer::new(false).fail(Es9Function::HandleNotification, "1.2", "4.4");
    let mut lpa = make_lpa(LpaConfig::new(V2), &card, &server);
    let outcome = lpa.download(&request()).await.unwrap();
    assert!(matches!(outcome.delivery, ResultDelivery::Failed(_)));
    assert!(card.state.lock().unwrap().removed.is_empty());
    assert_eq!(card.state.lock().unwrap().pending.len(), 1);

    // Later: two more notifications to two addresses; one is unreachable.
    card.state.lock().unwrap().pending.extend([
        other_notification(13, "b.example.com"),
        other_notification(12, "a.example.com"),
    ]);
    server.unreachable = vec!["b.example.com".into()];
    let mut lpa = Lpa::new(LpaConfig::new(V2), card.clone(), server.clone());
    let reports = lpa.deliver_notifications().await.unwrap();
    let order: Vec<(i64, &str)> = reports
        .iter()
        .map(|r| (r.seq_number, r.address.as_str()))
        .collect();
    assert_eq!(
        order,
        [(11, SMDP), (12, "a.example.com"), (13, "b.example.com")]
    );
    assert!(reports[0].outcome.is_ok() && reports[1].outcome.is_ok());
    assert!(reports[2].outcome.is_err());
    assert_eq!(card.state.lock().unwrap().removed, [11, 12]);
    let sent: Vec<String> = server
        .calls_of(Es9Function::HandleNotification)
        .iter()
        .map(|c| c.address.clone())
        .collect();
    assert_eq!(sent, [SMDP, SMDP, "a.example.com", "b.example.com"]);
}

#[test]
fn svn_constants() {
    assert!(V3 > Svn::new(3, 0, 0) && V2 < Svn::new(3, 0, 0));
}
