//! ES9+ procedure tests through [`Es9Service`] on a SQLite store, the eUICC played by
//! [`es9plus_common::TestEuicc`] (SGP.26 keys): CMA for v2 / v3 eUICCs against v2 / v3 servers
//! down to an installed profile, every refusal with its exact code, retries, two server nodes
//! sharing one store.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod es9plus_common;

use es9plus_common::*;
use rsp_sgp22::{
    AuthenticateClientRequest, AuthenticateServerResponse, CancelSessionRequestEs9, ErrorResult,
    EuiccRspCapability, FinalResult, GetBoundProfilePackageRequest, InitiateAuthenticationOk,
    LpaRspCapability, PendingNotification, PrepareDownloadResponse, SeqOf, ServerRspCapability,
    StoreMetadataRequest, TransactionId,
};
use rsp_smdpp::es9plus::procedure::{ClientAccepted, NotificationOutcome};
use rsp_smdpp::es9plus::{Es9Config, Es9Error, Refusal};
use rsp_smdpp::order::{OrderState, StoredOrder};
use rsp_smdpp::session::{SessionState, Sessions};
use rsp_types::codes::sgp22::status;
use rsp_types::{Oid, StatusCode, Svn, tlv};
use time::OffsetDateTime;

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

fn at(text: &str) -> OffsetDateTime {
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).unwrap()
}

fn tags_of(der: &[u8]) -> Vec<u32> {
    let outer = tlv::parse_single(der).unwrap();
    tlv::iter(outer.value)
        .map(|t| t.unwrap().tag.value())
        .collect()
}

fn assert_refused(e: &Es9Error, code: StatusCode, asn1: i64) {
    assert_eq!(e.status(), code, "{e}");
    assert_eq!(e.asn1_code(), asn1, "{e}");
}

struct Setup {
    _dir: tempfile::TempDir,
    s: Server,
}

async fn setup(cfg: Es9Config, variants: &[&str]) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir, "smdpp").await;
    Setup {
        s: server(cfg, store, variants),
        _dir: dir,
    }
}

async fn initiate(s: &Server, e: &TestEuicc, when: OffsetDateTime) -> InitiateAuthenticationOk {
    s.service
        .initiate_authentication(&e.initiate_request(ADDRESS), when)
        .await
        .unwrap()
        .response
}

fn ac_request(
    ok: &InitiateAuthenticationOk,
    asr: AuthenticateServerResponse,
) -> AuthenticateClientRequest {
    AuthenticateClientRequest {
        transaction_id: ok.transaction_id.clone(),
        authenticate_server_response: asr,
        delete_notification_for_dc: None,
        unknown_tags: vec![],
    }
}

async fn authenticate(
    s: &Server,
    e: &mut TestEuicc,
    matching_id: &str,
    when: OffsetDateTime,
) -> (InitiateAuthenticationOk, Result<ClientAccepted, Es9Error>) {
    let init = initiate(s, e, when).await;
    let asr = e.authenticate_server(&init, Some(matching_id));
    let r = s
        .service
        .authenticate_client(&ac_request(&init, asr), when)
        .await;
    (init, r)
}

fn gbpp_request(
    tid: &TransactionId,
    pdr: PrepareDownloadResponse,
) -> GetBoundProfilePackageRequest {
    GetBoundProfilePackageRequest {
        transaction_id: tid.clone(),
        prepare_download_response: pdr,
        unknown_tags: vec![],
    }
}

async fn load_order(s: &Server, o: &StoredOrder) -> StoredOrder {
    s.orders.get(&o.order.iccid).await.unwrap().unwrap()
}

/// The whole download for one pairing; returns the ServerSigned1 bytes.
async fn full_download(server_svn: Svn, euicc_v3: bool) -> (Vec<u8>, Svn) {
    let mut cfg = Es9Config::new(server_svn);
    cfg.server_rsp_capability =
        ServerRspCapability::with_bits(&[ServerRspCapability::CANCEL_FOR_EMPTY_SPN_PN_SUPPORT]);
    cfg.supported_push_services = vec!["1.3.6.1.4.1.99999.1".parse::<Oid>().unwrap()];
    let t = setup(cfg, &["NIST"]).await;
    let s = &t.s;
    let mut e = TestEuicc::new("NIST", euicc_v3);
    let o = order(s, "MATCH-FULL-1", None, None).await;
    let (init, ac) = authenticate(s, &mut e, "MATCH-FULL-1", now()).await;
    let ac = ac.unwrap();
    let tid = init.transaction_id.clone();
    // The metadata sent decodes and names the order's ICCID.
    assert_eq!(ac.response.profile_metadata.iccid, o.order.iccid);
    assert!(!ac.response.smdp_signed2.value().cc_required_flag);
    assert_eq!(ac.response.smdp_signed2.value().bpp_euicc_otpk, None);
    let pdr = e.prepare_download(&ac.response, None);
    let bpp = s
        .service
        .get_bound_profile_package(&gbpp_request(&tid, pdr), now())
        .await
        .unwrap();
    let (upp, metadata) = e.load_bpp(
        &tid,
        &bpp.response.bound_profile_package.0,
        ac.response.smdp_certificate.der(),
    );
    // The eUICC receives the personalised profile and the metadata shown before.
    assert_eq!(upp, s.inventory.personalised_upp(&o.order.iccid).unwrap());
    assert_eq!(
        StoreMetadataRequest::decode(&metadata).unwrap(),
        ac.response.profile_metadata
    );
    let downloaded = load_order(s, &o).await;
    assert_eq!(downloaded.order.state, OrderState::Downloaded);
    let pir = e.installation_result(&tid, &s.identity.oid, &o.order.iccid, TestEuicc::success());
    let raw = pir.encode(&e.own_profile()).unwrap();
    let out = s
        .service
        .handle_notification(
            &PendingNotification::ProfileInstallationResult(pir),
            &raw,
            now(),
        )
        .await
        .unwrap();
    assert!(matches!(
        out,
        NotificationOutcome::InstallationResult { .. }
    ));
    let installed = load_order(s, &o).await;
    assert_eq!(installed.order.state, OrderState::Installed);
    let session = Sessions::new(s.service.store().clone())
        .load(&tid)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(session.session.state.name(), "Closed");
    (
        init.server_signed1.raw().to_vec(),
        downloaded.order.package_version.unwrap(),
    )
}

#[tokio::test]
async fn cma_and_download_v2_and_v3_pairings() {
    // v2 eUICC, v2 server.
    let (ss1, pv) = full_download(v2(), false).await;
    assert_eq!(tags_of(&ss1), [0x80, 0x81, 0x83, 0x84]);
    assert_eq!(pv, Svn::new(2, 3, 0));
    // v3 eUICC (and LPA), v2 server: a v2 server never sends the v3 fields; v2 package.
    let (ss1, pv) = full_download(v2(), true).await;
    assert_eq!(tags_of(&ss1), [0x80, 0x81, 0x83, 0x84]);
    assert_eq!(
        pv,
        Svn::new(2, 3, 0),
        "a v2 session gets a v2 package even from a v3 eUICC (sgp22.md §6)"
    );
    // v2 eUICC, v3 server: the peer has no v3 carrier, so no A5 / 86.
    let (ss1, pv) = full_download(v3(), false).await;
    assert_eq!(tags_of(&ss1), [0x80, 0x81, 0x83, 0x84]);
    assert_eq!(pv, Svn::new(2, 3, 0));
    // v3 eUICC, v3 server: sessionContext and serverRspCapability, signed.
    let (ss1, pv) = full_download(v3(), true).await;
    assert_eq!(tags_of(&ss1), [0x80, 0x81, 0x83, 0x84, 0xA5, 0x86]);
    let s1 = rsp_sgp22::ServerSigned1::decode(&ss1).unwrap();
    let ctx = s1.session_context.unwrap();
    assert_eq!(ctx.server_svn, v3());
    assert!(!ctx.crl_stapling_v3_used);
    // Push Service was not negotiated (no eUICC / LPA / server bits): no supportedPushServices.
    assert_eq!(ctx.supported_push_services, None);
    assert_eq!(
        s1.server_rsp_capability.unwrap(),
        ServerRspCapability::with_bits(&[ServerRspCapability::CANCEL_FOR_EMPTY_SPN_PN_SUPPORT])
    );
    assert_eq!(pv, Svn::new(3, 1, 0));
}

#[tokio::test]
async fn push_services_only_when_negotiated() {
    let mut cfg = Es9Config::new(v3());
    cfg.server_rsp_capability =
        ServerRspCapability::with_bits(&[ServerRspCapability::PUSH_SERVICE_V3_SUPPORT]);
    let oid = "1.3.6.1.4.1.99999.1".parse::<Oid>().unwrap();
    cfg.supported_push_services = vec![oid.clone()];
    let t = setup(cfg, &["NIST"]).await;
    let mut e = TestEuicc::new("NIST", true);
    e.euicc_cap = EuiccRspCapability::with_bits(&[
        EuiccRspCapability::EUICC_RSP_CAP_IN_INFO1,
        EuiccRspCapability::PUSH_SERVICE_REGISTRATION_SUPPORT,
    ]);
    e.lpa_cap = LpaRspCapability::with_bits(&[LpaRspCapability::PUSH_SERVICE_SUPPORT]);
    let init = initiate(&t.s, &e, now()).await;
    let ctx = init.server_signed1.value().session_context.clone().unwrap();
    assert_eq!(ctx.supported_push_services, Some(vec![oid]));
    let ctx_tags = {
        let a5 = tlv::iter(tlv::parse_single(init.server_signed1.raw()).unwrap().value)
            .map(|t| t.unwrap())
            .find(|t| t.tag.value() == 0xA5)
            .unwrap();
        tlv::iter(a5.value)
            .map(|t| t.unwrap().tag.value())
            .collect::<Vec<_>>()
    };
    assert_eq!(ctx_tags, [0x80, 0x81, 0xA3]);
}

#[tokio::test]
async fn brainpool_session_uses_brainpool_credentials() {
    let t = setup(Es9Config::new(v3()), &["NIST", "BRP"]).await;
    let mut e = TestEuicc::new("BRP", true);
    order(&t.s, "MATCH-BRP", None, None).await;
    let (init, ac) = authenticate(&t.s, &mut e, "MATCH-BRP", now()).await;
    let brp_ci = cert("CERT_CI_ECDSA_BRP.der");
    assert_eq!(
        init.euicc_ci_pk_id_to_be_used,
        brp_ci.subject_key_id().unwrap()
    );
    assert_eq!(
        init.server_certificate.der(),
        read("CERT_S_SM_DPauth_ECDSA_BRP.der")
    );
    let ac = ac.unwrap();
    assert_eq!(
        ac.response.smdp_certificate.der(),
        read("CERT_S_SM_DPpb_ECDSA_BRP.der")
    );
    let pdr = e.prepare_download(&ac.response, None);
    let bpp =
        t.s.service
            .get_bound_profile_package(&gbpp_request(&init.transaction_id, pdr), now())
            .await
            .unwrap();
    let (upp, _) = e.load_bpp(
        &init.transaction_id,
        &bpp.response.bound_profile_package.0,
        ac.response.smdp_certificate.der(),
    );
    assert!(!upp.is_empty());
}

#[tokio::test]
async fn initiate_authentication_refusals() {
    let t = setup(Es9Config::new(v3()), &["NIST"]).await;
    let e = TestEuicc::new("NIST", true);
    let ia = |req| {
        let svc = t.s.service.clone();
        async move { svc.initiate_authentication(&req, now()).await.unwrap_err() }
    };
    // Not our address.
    assert_refused(
        &ia(e.initiate_request("other.example.com")).await,
        status::INVALID_DP_ADDRESS,
        1,
    );
    // A CI we have no CERT.DPauth for: 8.8.2/3.1 (C-38), even if it is in the verification list.
    let mut bad = TestEuicc::new("NIST", true);
    bad.signing = vec![vec![0x11; 20]];
    assert_refused(
        &ia(bad.initiate_request(ADDRESS)).await,
        status::CI_PKID_NOT_SUPPORTED,
        3,
    );
    // Our CI for signing, but not for verification: 8.8.4/3.7.
    let mut bad = TestEuicc::new("NIST", true);
    bad.verification = vec![vec![0x22; 20]];
    assert_refused(
        &ia(bad.initiate_request(ADDRESS)).await,
        status::NO_DP_CERTIFICATE_FOR_CI,
        3,
    );
    // An eUICC that only speaks a later major version.
    let mut req = e.initiate_request(ADDRESS);
    req.euicc_info1.lowest_svn = Svn::new(4, 0, 0);
    req.euicc_info1.highest_svn = Some(Svn::new(4, 0, 0));
    assert_refused(&ia(req).await, status::EUICC_VERSION_NOT_SUPPORTED, 2);
    // One that only speaks v1.
    let mut req = e.initiate_request(ADDRESS);
    req.euicc_info1.lowest_svn = Svn::new(1, 0, 0);
    req.euicc_info1.highest_svn = None;
    assert_refused(&ia(req).await, status::EUICC_VERSION_NOT_SUPPORTED, 2);
    // The v3 signing list counts too.
    let mut req = TestEuicc::new("NIST", true).initiate_request(ADDRESS);
    let ci = req.euicc_info1.euicc_ci_pk_id_list_for_signing.clone();
    req.euicc_info1.euicc_ci_pk_id_list_for_signing = SeqOf(vec![]);
    req.euicc_info1.euicc_ci_pk_id_list_for_signing_v3 = Some(ci.clone());
    let ok =
        t.s.service
            .initiate_authentication(&req, now())
            .await
            .unwrap();
    assert_eq!(
        ok.response
            .server_signed1
            .value()
            .session_context
            .as_ref()
            .unwrap()
            .euicc_ci_pk_id_to_be_used_v3
            .as_deref(),
        ci.0.first().map(Vec::as_slice)
    );
}

/// Runs AuthenticateClient with a tampered eUICC answer and returns the refusal.
async fn ac_refusal(
    s: &Server,
    e: &mut TestEuicc,
    when: OffsetDateTime,
    tamper: impl FnOnce(&mut TestEuicc, &InitiateAuthenticationOk) -> AuthenticateServerResponse,
) -> Es9Error {
    let init = initiate(s, e, when).await;
    let asr = tamper(e, &init);
    let err = s
        .service
        .authenticate_client(&ac_request(&init, asr), when)
        .await
        .unwrap_err();
    // A refusal leaves the session in Initiated (except for an eUICC error).
    let st = Sessions::new(s.service.store().clone())
        .load(&init.transaction_id)
        .await
        .unwrap()
        .unwrap();
    if !matches!(err.refusal, Refusal::EuiccError(_)) {
        assert_eq!(st.session.state.name(), "Initiated");
    }
    err
}

fn flip_last(der: &mut [u8]) {
    if let Some(b) = der.last_mut() {
        *b ^= 0x01;
    }
}

#[tokio::test]
async fn authenticate_client_certificate_refusals() {
    let t = setup(Es9Config::new(v3()), &["NIST"]).await;
    let s = &t.s;
    order(s, "MATCH-CERT", None, None).await;
    let mut e = TestEuicc::new("NIST", false);
    // EUM expired (its notAfter is 2054-03-24; the CI lives until 2055): 8.1.2/6.3 (C-39).
    let err = ac_refusal(s, &mut e, at("2054-06-01T00:00:00Z"), |e, i| {
        e.authenticate_server(i, Some("MATCH-CERT"))
    })
    .await;
    assert_refused(&err, status::EUM_CERTIFICATE_EXPIRED, 2);
    // EUM signature broken: 8.1.2/6.1.
    let err = ac_refusal(s, &mut e, now(), |e, i| {
        let mut asr = e.authenticate_server(i, Some("MATCH-CERT"));
        if let AuthenticateServerResponse::Ok(ok) = &mut asr {
            flip_last(&mut ok.next_cert_in_chain.0);
        }
        asr
    })
    .await;
    assert_refused(&err, status::EUM_CERTIFICATE_INVALID, 1);
    // eUICC certificate signature broken: 8.1.3/6.1.
    let err = ac_refusal(s, &mut e, now(), |e, i| {
        let mut asr = e.authenticate_server(i, Some("MATCH-CERT"));
        if let AuthenticateServerResponse::Ok(ok) = &mut asr {
            flip_last(&mut ok.euicc_certificate.0);
        }
        asr
    })
    .await;
    assert_refused(&err, status::EUICC_CERTIFICATE_INVALID, 3);
    // Before the eUICC certificate's notBefore (2020-04-01 09:48:58) but within the EUM's:
    // the eUICC certificate's validity fails, 8.1.3/6.3.
    let err = ac_refusal(s, &mut e, at("2020-04-01T09:40:00Z"), |e, i| {
        e.authenticate_server(i, Some("MATCH-CERT"))
    })
    .await;
    assert_refused(&err, status::EUICC_CERTIFICATE_EXPIRED, 4);
    // An EUM of a CI this server does not know (the brainpool CI): 8.11.1/3.9.
    let err = ac_refusal(s, &mut e, now(), |e, i| {
        let mut asr = e.authenticate_server(i, Some("MATCH-CERT"));
        if let AuthenticateServerResponse::Ok(ok) = &mut asr {
            ok.next_cert_in_chain.0 = read("CERT_EUM_ECDSA_BRP.der");
            ok.euicc_certificate.0 = read("CERT_EUICC_ECDSA_BRP.der");
        }
        asr
    })
    .await;
    assert_refused(&err, status::CI_PK_UNKNOWN, 9);
    // euiccSignature1 broken: 8.1/6.1.
    let err = ac_refusal(s, &mut e, now(), |e, i| {
        let mut asr = e.authenticate_server(i, Some("MATCH-CERT"));
        if let AuthenticateServerResponse::Ok(ok) = &mut asr {
            flip_last(&mut ok.euicc_signature1);
        }
        asr
    })
    .await;
    assert_refused(&err, status::EUICC_SIGNATURE_INVALID, 5);
    // A correctly signed answer to another serverChallenge: 8.1/6.1.
    let err = ac_refusal(s, &mut e, now(), |e, i| {
        let mut other = i.clone();
        let mut s1 = other.server_signed1.value().clone();
        s1.server_challenge = rsp_sgp22::Octet16([0xEE; 16]);
        other.server_signed1 = rsp_sgp22::Signed::new(s1, &rsp_sgp22::Profile::new(v2())).unwrap();
        // The eUICC would refuse the server signature; sign a response anyway (a forged LPA).
        let dp = key("SK_S_SM_DPauth_ECDSA_NIST.pem");
        other.server_signature1 = dp.sign_raw(other.server_signed1.raw()).unwrap().to_vec();
        e.authenticate_server(&other, Some("MATCH-CERT"))
    })
    .await;
    assert_refused(&err, status::EUICC_SIGNATURE_INVALID, 5);
    // The eUICC refused the server: its error ends the session.
    let init = initiate(s, &e, now()).await;
    let asr = AuthenticateServerResponse::Error(rsp_sgp22::AuthenticateResponseError {
        transaction_id: init.transaction_id.clone(),
        authenticate_error_code: 2,
        unknown_tags: vec![],
    });
    let err = s
        .service
        .authenticate_client(&ac_request(&init, asr), now())
        .await
        .unwrap_err();
    assert_eq!(err.refusal, Refusal::EuiccError(2));
    let asr = e.authenticate_server(&init, Some("MATCH-CERT"));
    let err = s
        .service
        .authenticate_client(&ac_request(&init, asr), now())
        .await
        .unwrap_err();
    assert_refused(&err, status::INVALID_TRANSACTION_ID, 10);
}

#[tokio::test]
async fn authenticate_client_session_order_and_capability_refusals() {
    let t = setup(Es9Config::new(v3()), &["NIST"]).await;
    let s = &t.s;
    let mut e = TestEuicc::new("NIST", true);
    // Unknown transactionId.
    let init = initiate(s, &e, now()).await;
    let asr = e.authenticate_server(&init, Some("NOPE"));
    let mut req = ac_request(&init, asr);
    req.transaction_id = TransactionId::new(&[0x42; 16]).unwrap();
    let err = s
        .service
        .authenticate_client(&req, now())
        .await
        .unwrap_err();
    assert_refused(&err, status::INVALID_TRANSACTION_ID, 10);
    // Unknown MatchingID: 8.2.6/3.8.
    let err = ac_refusal(s, &mut e, now(), |e, i| {
        e.authenticate_server(i, Some("NOPE"))
    })
    .await;
    assert_refused(&err, status::MATCHING_ID_REFUSED, 6);
    // An order bound to another EID: 8.1.1/3.8.
    let other = rsp_types::Eid::with_check_digits("890490329999999999999999999999").unwrap();
    assert_ne!(other, e.eid);
    order(s, "MATCH-OTHER-EID", Some(other), None).await;
    let err = ac_refusal(s, &mut e, now(), |e, i| {
        e.authenticate_server(i, Some("MATCH-OTHER-EID"))
    })
    .await;
    assert_refused(&err, status::EID_MISMATCH, 7);
    // The signed euiccInfo2 capabilities differ from euiccInfo1's: 8.1/3.11 (U-44).
    order(s, "MATCH-TAMPER", None, None).await;
    let err = ac_refusal(s, &mut e, now(), |e, i| {
        let mut info2 = e.info2();
        info2.euicc_rsp_capability = EuiccRspCapability::with_bits(&[2]);
        e.authenticate_server_with(i, Some("MATCH-TAMPER"), e.device_info(), info2)
    })
    .await;
    assert_refused(&err, status::EUICC_CAPABILITY_CHANGED, 13);
    // The signed DeviceInfo lpaRspCapability differs from InitiateAuthentication's: 8.12/3.11.
    let err = ac_refusal(s, &mut e, now(), |e, i| {
        let mut di = e.device_info();
        di.lpa_rsp_capability = None;
        e.authenticate_server_with(i, Some("MATCH-TAMPER"), di, e.info2())
    })
    .await;
    assert_refused(&err, status::LPA_CAPABILITY_CHANGED, 14);
    // After all these refusals the order is still downloadable.
    let (_, ok) = authenticate(s, &mut e, "MATCH-TAMPER", now()).await;
    ok.unwrap();
    // A replayed AuthenticateClient of an authenticated session: 8.10.1/3.9.
    let init = initiate(s, &e, now()).await;
    order(s, "MATCH-REPLAY", None, None).await;
    let asr = e.authenticate_server(&init, Some("MATCH-REPLAY"));
    let req = ac_request(&init, asr);
    s.service.authenticate_client(&req, now()).await.unwrap();
    let err = s
        .service
        .authenticate_client(&req, now())
        .await
        .unwrap_err();
    assert_refused(&err, status::INVALID_TRANSACTION_ID, 10);
    // An expired session (30 minutes).
    let init = initiate(s, &e, now()).await;
    let asr = e.authenticate_server(&init, Some("MATCH-REPLAY"));
    let err = s
        .service
        .authenticate_client(&ac_request(&init, asr), now() + time::Duration::hours(1))
        .await
        .unwrap_err();
    assert_refused(&err, status::INVALID_TRANSACTION_ID, 10);
}

#[tokio::test]
async fn no_common_package_version_is_no_eligible_profile() {
    let dir = tempfile::tempdir().unwrap();
    let st = store(&dir, "smdpp").await;
    let s = server_with(
        Es9Config::new(v3()),
        st,
        std::sync::Arc::new(identity(&["NIST"])),
        std::sync::Arc::new(inventory(&[Svn::new(3, 1, 0)])),
    );
    let o = order(&s, "MATCH-V3-ONLY", None, None).await;
    let mut e = TestEuicc::new("NIST", false);
    let (_, r) = authenticate(&s, &mut e, "MATCH-V3-ONLY", now()).await;
    assert_refused(&r.unwrap_err(), status::NO_ELIGIBLE_PROFILE, 8);
    // The refusal used no download attempt.
    assert_eq!(load_order(&s, &o).await.order.download_attempts, 0);
}

#[tokio::test]
async fn get_bound_profile_package_refusals_and_confirmation_code() {
    let t = setup(Es9Config::new(v2()), &["NIST"]).await;
    let s = &t.s;
    let mut e = TestEuicc::new("NIST", false);
    let o = order(s, "MATCH-CC", None, Some("1234")).await;
    // GetBoundProfilePackage before AuthenticateClient: 8.10.1/3.9 (95).
    let init = initiate(s, &e, now()).await;
    let fake = PrepareDownloadResponse::Error(rsp_sgp22::PrepareDownloadResponseError {
        transaction_id: init.transaction_id.clone(),
        download_error_code: 1,
        unknown_tags: vec![],
    });
    let err = s
        .service
        .get_bound_profile_package(&gbpp_request(&init.transaction_id, fake), now())
        .await
        .unwrap_err();
    assert_refused(&err, status::INVALID_TRANSACTION_ID, 95);
    let asr = e.authenticate_server(&init, Some("MATCH-CC"));
    let ac = s
        .service
        .authenticate_client(&ac_request(&init, asr), now())
        .await
        .unwrap();
    assert!(ac.response.smdp_signed2.value().cc_required_flag);
    let tid = init.transaction_id.clone();
    let gbpp = |pdr| {
        let svc = s.service.clone();
        let tid = tid.clone();
        async move {
            svc.get_bound_profile_package(&gbpp_request(&tid, pdr), now())
                .await
        }
    };
    // euiccSignature2 broken: 8.1/6.1 (1).
    let mut pdr = e.prepare_download(&ac.response, Some("1234"));
    if let PrepareDownloadResponse::Ok(ok) = &mut pdr {
        flip_last(&mut ok.euicc_signature2);
    }
    assert_refused(
        &gbpp(pdr).await.unwrap_err(),
        status::EUICC_SIGNATURE_INVALID,
        1,
    );
    // No hashCc: 8.2.7/2.2 (2).
    let pdr = e.prepare_download(&ac.response, None);
    assert_refused(
        &gbpp(pdr).await.unwrap_err(),
        status::CONFIRMATION_CODE_MISSING,
        2,
    );
    // Wrong code: 8.2.7/3.8 (3), counted.
    let pdr = e.prepare_download(&ac.response, Some("9999"));
    assert_refused(
        &gbpp(pdr).await.unwrap_err(),
        status::CONFIRMATION_CODE_REFUSED,
        3,
    );
    assert_eq!(load_order(s, &o).await.order.cc_attempts, 1);
    // The right code: the BPP.
    let pdr = e.prepare_download(&ac.response, Some("1234"));
    let bpp = gbpp(pdr).await.unwrap();
    e.load_bpp(
        &tid,
        &bpp.response.bound_profile_package.0,
        ac.response.smdp_certificate.der(),
    );
    // Twice: already delivered.
    let pdr = e.prepare_download(&ac.response, Some("1234"));
    assert_refused(
        &gbpp(pdr).await.unwrap_err(),
        status::INVALID_TRANSACTION_ID,
        95,
    );
}

#[tokio::test]
async fn temporary_installation_error_allows_a_retry_with_the_same_otpk() {
    let t = setup(Es9Config::new(v3()), &["NIST"]).await;
    let s = &t.s;
    let mut e = TestEuicc::new("NIST", true);
    let o = order(s, "MATCH-RETRY", None, None).await;
    let (init, ac) = authenticate(s, &mut e, "MATCH-RETRY", now()).await;
    let ac = ac.unwrap();
    let pdr = e.prepare_download(&ac.response, None);
    let PrepareDownloadResponse::Ok(first) = &pdr else {
        panic!()
    };
    let first_otpk = first.euicc_signed2.value().euicc_otpk.clone();
    s.service
        .get_bound_profile_package(&gbpp_request(&init.transaction_id, pdr), now())
        .await
        .unwrap();
    // installFailedDueToInterruption (11) is temporary: the order is Released again.
    let pir = e.installation_result(
        &init.transaction_id,
        &s.identity.oid,
        &o.order.iccid,
        FinalResult::Error(ErrorResult {
            bpp_command_id: 5,
            error_reason: 11,
            sima_response: None,
            unknown_tags: vec![],
        }),
    );
    s.service
        .handle_notification(
            &PendingNotification::ProfileInstallationResult(pir),
            &[],
            now(),
        )
        .await
        .unwrap();
    assert_eq!(load_order(s, &o).await.order.state, OrderState::Released);
    // The retry offers the previous one-time key; the eUICC re-uses it and the re-bound BPP
    // loads.
    let (init2, ac2) = authenticate(s, &mut e, "MATCH-RETRY", now()).await;
    let ac2 = ac2.unwrap();
    assert_eq!(
        ac2.response.smdp_signed2.value().bpp_euicc_otpk.as_deref(),
        Some(first_otpk.as_slice())
    );
    let pdr = e.prepare_download(&ac2.response, None);
    let PrepareDownloadResponse::Ok(second) = &pdr else {
        panic!()
    };
    assert_eq!(second.euicc_signed2.value().euicc_otpk, first_otpk);
    let bpp = s
        .service
        .get_bound_profile_package(&gbpp_request(&init2.transaction_id, pdr), now())
        .await
        .unwrap();
    let (upp, _) = e.load_bpp(
        &init2.transaction_id,
        &bpp.response.bound_profile_package.0,
        ac2.response.smdp_certificate.der(),
    );
    assert_eq!(upp, s.inventory.personalised_upp(&o.order.iccid).unwrap());
    // A permanent error (9, ICCID already exists) ends the order.
    let pir = e.installation_result(
        &init2.transaction_id,
        &s.identity.oid,
        &o.order.iccid,
        FinalResult::Error(ErrorResult {
            bpp_command_id: 5,
            error_reason: 9,
            sima_response: None,
            unknown_tags: vec![],
        }),
    );
    s.service
        .handle_notification(
            &PendingNotification::ProfileInstallationResult(pir),
            &[],
            now(),
        )
        .await
        .unwrap();
    assert_eq!(load_order(s, &o).await.order.state, OrderState::Error);
}

#[tokio::test]
async fn notifications_are_verified() {
    let t = setup(Es9Config::new(v2()), &["NIST"]).await;
    let s = &t.s;
    let mut e = TestEuicc::new("NIST", false);
    let o = order(s, "MATCH-NOTIF", None, None).await;
    let (init, ac) = authenticate(s, &mut e, "MATCH-NOTIF", now()).await;
    let ac = ac.unwrap();
    let pdr = e.prepare_download(&ac.response, None);
    s.service
        .get_bound_profile_package(&gbpp_request(&init.transaction_id, pdr), now())
        .await
        .unwrap();
    // A result signed by another key is refused and changes nothing.
    let mut forged = e.installation_result(
        &init.transaction_id,
        &s.identity.oid,
        &o.order.iccid,
        TestEuicc::success(),
    );
    flip_last(&mut forged.euicc_sign_pir);
    let r = s
        .service
        .handle_notification(
            &PendingNotification::ProfileInstallationResult(forged),
            &[],
            now(),
        )
        .await;
    assert!(matches!(r, Err(Refusal::EuiccSignatureInvalid(_))));
    assert_eq!(load_order(s, &o).await.order.state, OrderState::Downloaded);
    // An unknown transactionId.
    let stray = e.installation_result(
        &TransactionId::new(&[9; 16]).unwrap(),
        &s.identity.oid,
        &o.order.iccid,
        TestEuicc::success(),
    );
    let r = s
        .service
        .handle_notification(
            &PendingNotification::ProfileInstallationResult(stray),
            &[],
            now(),
        )
        .await;
    assert!(matches!(r, Err(Refusal::InvalidTransactionId(_))));
    // An other signed notification verifies with its own certificates and is audited.
    let n = e.other_notification(&o.order.iccid);
    let out = s
        .service
        .handle_notification(&PendingNotification::OtherSignedNotification(n), &[], now())
        .await
        .unwrap();
    assert!(matches!(out, NotificationOutcome::Other { eid, .. } if eid == e.eid));
    let page = s
        .service
        .store()
        .audit_by_eid(e.eid.as_str(), None, 10)
        .await
        .unwrap();
    assert!(
        page.records
            .iter()
            .any(|r| r.action == "es9plus.handleNotification.otherSignedNotification")
    );
    let mut bad = e.other_notification(&o.order.iccid);
    flip_last(&mut bad.euicc_notification_signature);
    let r = s
        .service
        .handle_notification(
            &PendingNotification::OtherSignedNotification(bad),
            &[],
            now(),
        )
        .await;
    assert!(matches!(r, Err(Refusal::EuiccSignatureInvalid(_))));
}

fn cancel_request(
    tid: &TransactionId,
    resp: rsp_sgp22::CancelSessionResponse,
) -> CancelSessionRequestEs9 {
    CancelSessionRequestEs9 {
        transaction_id: tid.clone(),
        cancel_session_response: resp,
        unknown_tags: vec![],
    }
}

#[tokio::test]
async fn cancel_session_checks_and_order_effects() {
    let t = setup(Es9Config::new(v3()), &["NIST"]).await;
    let s = &t.s;
    let mut e = TestEuicc::new("NIST", true);
    let oid = s.identity.oid.clone();
    // Unknown transactionId: 8.10.1/3.9 (1).
    let tid0 = TransactionId::new(&[7; 16]).unwrap();
    let err = s
        .service
        .cancel_session(&cancel_request(&tid0, e.cancel(&tid0, &oid, 0)), now())
        .await
        .unwrap_err();
    assert_refused(&err, status::INVALID_TRANSACTION_ID, 1);
    let o = order(s, "MATCH-CANCEL", None, None).await;
    let (init, ac) = authenticate(s, &mut e, "MATCH-CANCEL", now()).await;
    ac.unwrap();
    let tid = init.transaction_id.clone();
    // Broken signature: 8.1/6.1 (2).
    let mut resp = e.cancel(&tid, &oid, 0);
    if let rsp_sgp22::CancelSessionResponse::Ok(ok) = &mut resp {
        flip_last(&mut ok.euicc_cancel_session_signature);
    }
    let err = s
        .service
        .cancel_session(&cancel_request(&tid, resp), now())
        .await
        .unwrap_err();
    assert_refused(&err, status::EUICC_SIGNATURE_INVALID, 2);
    // Another SM-DP+'s OID: 8.8/3.10.
    let other: Oid = "2.999.99".parse().unwrap();
    let err = s
        .service
        .cancel_session(&cancel_request(&tid, e.cancel(&tid, &other, 0)), now())
        .await
        .unwrap_err();
    assert_eq!(err.status().to_string(), "8.8/3.10");
    // postponed (1) keeps the order downloadable and closes the session.
    s.service
        .cancel_session(&cancel_request(&tid, e.cancel(&tid, &oid, 1)), now())
        .await
        .unwrap();
    assert_eq!(load_order(s, &o).await.order.state, OrderState::Released);
    let pdr = PrepareDownloadResponse::Error(rsp_sgp22::PrepareDownloadResponseError {
        transaction_id: tid.clone(),
        download_error_code: 1,
        unknown_tags: vec![],
    });
    let err = s
        .service
        .get_bound_profile_package(&gbpp_request(&tid, pdr), now())
        .await
        .unwrap_err();
    assert_refused(&err, status::INVALID_TRANSACTION_ID, 95);
    // endUserRejection (0) ends it.
    let (init, ac) = authenticate(s, &mut e, "MATCH-CANCEL", now()).await;
    ac.unwrap();
    let tid = init.transaction_id.clone();
    s.service
        .cancel_session(&cancel_request(&tid, e.cancel(&tid, &oid, 0)), now())
        .await
        .unwrap();
    let ended = load_order(s, &o).await;
    assert_eq!(ended.order.state, OrderState::Error);
    assert_eq!(
        ended.order.error.unwrap().status(),
        status::END_USER_REJECTION
    );
}

#[tokio::test]
async fn two_nodes_share_one_store() {
    let dir = tempfile::tempdir().unwrap();
    let st = store(&dir, "shared").await;
    let identity = std::sync::Arc::new(identity(&["NIST"]));
    let inventory = std::sync::Arc::new(inventory(&[Svn::new(2, 3, 0)]));
    // Two nodes, each with its own store connection pool on the same SQLite file.
    let st_b = store(&dir, "shared").await;
    let a = server_with(
        Es9Config::new(v3()),
        st,
        identity.clone(),
        inventory.clone(),
    );
    let b = server_with(Es9Config::new(v3()), st_b, identity, inventory);
    let mut e = TestEuicc::new("NIST", true);
    let o = order(&a, "MATCH-TWO-NODES", None, None).await;
    let init = initiate(&a, &e, now()).await;
    let asr = e.authenticate_server(&init, Some("MATCH-TWO-NODES"));
    let req = ac_request(&init, asr);
    // The same AuthenticateClient at both nodes at once: exactly one wins.
    let (ra, rb) = tokio::join!(
        a.service.authenticate_client(&req, now()),
        b.service.authenticate_client(&req, now())
    );
    let ac = match (ra, rb) {
        (Ok(x), Err(e)) | (Err(e), Ok(x)) => {
            assert!(
                matches!(e.refusal, Refusal::Busy | Refusal::InvalidTransactionId(_)),
                "{e}"
            );
            x
        }
        (ra, rb) => panic!("exactly one should win: {:?} {:?}", ra.is_ok(), rb.is_ok()),
    };
    assert_eq!(load_order(&b, &o).await.order.download_attempts, 1);
    // Alternate nodes for the rest.
    let pdr = e.prepare_download(&ac.response, None);
    let bpp = b
        .service
        .get_bound_profile_package(&gbpp_request(&init.transaction_id, pdr), now())
        .await
        .unwrap();
    e.load_bpp(
        &init.transaction_id,
        &bpp.response.bound_profile_package.0,
        ac.response.smdp_certificate.der(),
    );
    let pir = e.installation_result(
        &init.transaction_id,
        &a.identity.oid,
        &o.order.iccid,
        TestEuicc::success(),
    );
    a.service
        .handle_notification(
            &PendingNotification::ProfileInstallationResult(pir),
            &[],
            now(),
        )
        .await
        .unwrap();
    assert_eq!(load_order(&b, &o).await.order.state, OrderState::Installed);
    let session = Sessions::new(b.service.store().clone())
        .load(&init.transaction_id)
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(session.session.state, SessionState::Closed(_)));
}

/// An eUICC certificate for `eid` issued by the SGP.26 EUM (its published key), shaped like
/// the SGP.26 one (O = the EUM's permitted organisation, serialNumber = EID, eUICC policy).
fn euicc_certificate_for(eid: &rsp_types::Eid) -> (Vec<u8>, rsp_crypto::ecc::PrivateKey) {
    use rcgen::{
        CertificateParams, CustomExtension, DnType, DnValue, Issuer, KeyPair, KeyUsagePurpose,
    };
    let eum_key = KeyPair::from_pem(&key("SK_EUM_ECDSA_NIST.pem").to_pkcs8_pem()).unwrap();
    let eum = read("CERT_EUM_ECDSA_NIST.der");
    let issuer = Issuer::from_ca_cert_der(&eum.into(), eum_key).unwrap();
    let subject = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut p = CertificateParams::default();
    p.distinguished_name.push(DnType::CountryName, "ES");
    p.distinguished_name
        .push(DnType::OrganizationName, "RSP Test EUM");
    p.distinguished_name.push(
        DnType::CustomDnType(vec![2, 5, 4, 5]),
        DnValue::PrintableString(eid.as_str().try_into().unwrap()),
    );
    p.distinguished_name.push(DnType::CommonName, "Test eUICC");
    p.not_before = at("2021-01-01T00:00:00Z");
    p.not_after = at("2100-01-01T00:00:00Z");
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.use_authority_key_identifier_extension = true;
    // certificatePolicies { id-rspRole-euicc 2.23.146.1.2.1.1 }, critical.
    let policy = vec![
        0x30, 0x0B, 0x30, 0x09, 0x06, 0x07, 0x67, 0x81, 0x12, 0x01, 0x02, 0x01, 0x01,
    ];
    let mut ext = CustomExtension::from_oid_content(&[2, 5, 29, 32], policy);
    ext.set_criticality(true);
    p.custom_extensions = vec![ext];
    let cert = p.signed_by(&subject, &issuer).unwrap();
    let key = rsp_crypto::ecc::PrivateKey::from_pem(&subject.serialize_pem()).unwrap();
    (cert.der().to_vec(), key)
}

#[tokio::test]
async fn eid_must_lie_in_the_eum_range() {
    let t = setup(Es9Config::new(v3()), &["NIST"]).await;
    let s = &t.s;
    order(s, "MATCH-EIN", None, None).await;
    // In range (EIN 89049032): accepted, so the minted certificate itself is sound.
    let inside = rsp_types::Eid::with_check_digits("890490320000000000000000000077").unwrap();
    let (der, k) = euicc_certificate_for(&inside);
    let mut e = TestEuicc::new("NIST", true);
    e.certificate = der;
    e.key = k;
    e.eid = inside;
    let (_, r) = authenticate(s, &mut e, "MATCH-EIN", now()).await;
    assert_eq!(
        r.unwrap().session.state.authenticated().unwrap().eid,
        inside
    );
    // Outside the EUM's permitted EINs: the eUICC certificate is invalid, 8.1.3/6.1.
    order(s, "MATCH-EIN-2", None, None).await;
    let outside = rsp_types::Eid::with_check_digits("890330230000000000000000000077").unwrap();
    let (der, k) = euicc_certificate_for(&outside);
    let mut e = TestEuicc::new("NIST", true);
    e.certificate = der;
    e.key = k;
    e.eid = outside;
    let err = ac_refusal(s, &mut e, now(), |e, i| {
        e.authenticate_server(i, Some("MATCH-EIN-2"))
    })
    .await;
    assert_refused(&err, status::EUICC_CERTIFICATE_INVALID, 3);
    assert!(err.to_string().contains("outside"), "{err}");
}
