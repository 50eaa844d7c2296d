//! ES11 end to end on the SM-DS side: the SGP.26 test eUICC (rsp-euicc, over APDUs) runs
//! Common Mutual Authentication against the SM-DS's JSON and ASN.1 bindings with a CERT.DSauth
//! minted under the SGP.26 CI; every v2/v3 card × v2/v3 SM-DS pairing gets the list of its
//! version (the v3 one verified by the card itself), only its own EID's events, and the
//! specified codes for replays, tampered signatures, expired sessions and push registration.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::PathBuf;
use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use common::{DP_OID, EID2, ROOT_OID, ci, sqlite};
use rsp_crypto::ecc::{Curve, PrivateKey};
use rsp_crypto::pki;
use rsp_euicc::consumer::{ConsumerConfig, ConsumerEuicc};
use rsp_lpa::{ApduTransport, Es10Card};
use rsp_sgp22::cma::CmaConfig;
use rsp_sgp22::json::{self as wire, AuthenticateClientRequest as JsonAuthenticateClient};
use rsp_sgp22::json_smds::{
    Es11AuthenticateClientOk, Es11AuthenticateClientResponse, Es11InitiateAuthenticationRequest,
};
use rsp_sgp22::{
    AuthenticateClientRequest, AuthenticateClientResponseEs11, AuthenticateServerRequest,
    AuthenticateServerResponse, CtxParams1, CtxParamsForCommonAuthentication,
    CtxParamsForPushServiceRegistration, InitiateAuthenticationOk, InitiateAuthenticationRequest,
    InitiateAuthenticationResponse, Profile, SmdsResponse, VerifySmdsResponseRequest,
    VerifySmdsResponseResponse,
};
use rsp_sgp22::{EuiccRspCapability, Feature, FeatureSet, LpaRspCapability};
use rsp_smds::es11::{DsAuth, Es11Config};
use rsp_smds::es11_service::{DsIdentity, Es11Service, router};
use rsp_smds::event::{EventData, EventStore, Origin};
use rsp_types::{Oid, Svn};
use time::{Duration, OffsetDateTime};
use tower::ServiceExt;

const SMDS: &str = "testrootsmds.example.com";
/// The SGP.26 test eUICC's clock (its certificates are valid then).
const TEST_TIME: i64 = 1_796_083_200;
const PUSH: &str = "2.999.77.1";

fn at() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(TEST_TIME).unwrap()
}

fn svn(s: &str) -> Svn {
    s.parse().unwrap()
}

fn sgp26_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../rsp-euicc/tests/fixtures/sgp26")
}

type Card = Es10Card<ApduTransport<ConsumerEuicc>>;

fn card(v: &str) -> (Card, String) {
    let mut config = ConsumerConfig::new(svn(v));
    if config.is_v3() {
        let mut bits: Vec<usize> = (0..32).filter(|b| config.capability.has(*b)).collect();
        bits.push(EuiccRspCapability::PUSH_SERVICE_REGISTRATION_SUPPORT);
        config.capability = EuiccRspCapability::with_bits(&bits);
    }
    let isd_r = config.isd_r_aid;
    let mut euicc = ConsumerEuicc::sgp26(&sgp26_dir(), config).unwrap();
    euicc.set_time(rsp_euicc::m2m::CardTime(TEST_TIME as u64));
    let eid = euicc.eid().to_string();
    (Es10Card::new(ApduTransport::new(euicc, isd_r)), eid)
}

struct Ds {
    app: axum::Router,
    events: EventStore,
    store: Arc<dyn rsp_store::Store>,
    _dir: tempfile::TempDir,
}

/// CERT.DSauth (one per test process: every SM-DS node of a deployment shares it).
fn ds_auth() -> (rsp_crypto::x509::Certificate, DsAuth) {
    static DS: std::sync::OnceLock<(rsp_crypto::x509::Certificate, Vec<u8>, String)> =
        std::sync::OnceLock::new();
    let (ci, cert_der, key_pem) = DS.get_or_init(|| {
        let (ci, ci_key) = ci();
        let key = PrivateKey::generate(Curve::NistP256).unwrap();
        let cert = pki::issue_sgp22_ds_auth_certificate(
            &ci,
            &ci_key,
            &key,
            "rsp test Root SM-DS",
            ROOT_OID,
            at() - Duration::days(1),
            at() + Duration::days(30),
        )
        .unwrap();
        (ci, cert.der().to_vec(), key.to_pkcs8_pem().to_string())
    });
    let cert = rsp_crypto::x509::Certificate::from_der(cert_der).unwrap();
    let key = PrivateKey::from_pem(key_pem).unwrap();
    (ci.clone(), DsAuth::new(cert, key).unwrap())
}

fn service(store: Arc<dyn rsp_store::Store>, v: &str, list: Es11Config) -> Es11Service {
    let (ci, ds) = ds_auth();
    let identity = DsIdentity::new(SMDS, vec![(ci, ds)], at()).unwrap();
    let mut s = Es11Service::new(
        EventStore::new(store),
        Arc::new(identity),
        CmaConfig::new(svn(v)),
        list,
    );
    s.clock = Arc::new(at);
    s
}

async fn ds(v: &str, list: Es11Config) -> Ds {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite(&dir, "ds.db").await;
    let svc = service(store.clone(), v, list);
    Ds {
        app: router(Arc::new(svc.clone())),
        events: svc.events.clone(),
        store,
        _dir: dir,
    }
}

impl Ds {
    async fn register(&self, eid: &str, event_id: &str, address: &str) {
        let data = EventData {
            eid: eid.into(),
            event_id: event_id.into(),
            rsp_server_address: address.into(),
            registrant: DP_OID.into(),
            forwarding_indicator: false,
            origin: Origin::Es12,
            registered_at: at(),
            forwarded: None,
            deleted_at: None,
        };
        self.events
            .apply(&[EventStore::create_op(&data).unwrap()], at())
            .await
            .unwrap();
    }

    async fn post(&self, path: &str, body: Vec<u8>) -> (u16, Option<String>, Vec<u8>) {
        let resp = self
            .app
            .clone()
            .oneshot(
                Request::post(path)
                    .header("content-type", "application/json")
                    .body(Body::from(body))
                    .unwrap(),
            )
            .await
            .unwrap();
        let admin = resp
            .headers()
            .get("X-Admin-Protocol")
            .map(|v| v.to_str().unwrap().to_owned());
        let status = resp.status().as_u16();
        let body = axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .unwrap()
            .to_vec();
        (status, admin, body)
    }
}

/// What a v3 LPA declares (a v2 LPA declares nothing): signed SM-DS responses and push.
fn lpa_capability(card: &Card) -> Option<LpaRspCapability> {
    card.transport().card().config().is_v3().then(|| {
        LpaRspCapability::with_bits(&[
            LpaRspCapability::SIGNED_SMDS_RESPONSE_V3_SUPPORT,
            LpaRspCapability::PUSH_SERVICE_SUPPORT,
        ])
    })
}

/// The profile both sides encode for: the lower version; Push Service when both are v3.
fn pairing(card_v: &str, ds_v: &str) -> Profile {
    let p = Profile::new(svn(card_v).min(svn(ds_v)));
    if p.is_v3() {
        p.with_features(FeatureSet::of(&[Feature::PushService]))
    } else {
        p
    }
}

fn common_ctx(card: &Card, matching_id: Option<&str>) -> CtxParams1 {
    CtxParams1::CommonAuthentication(CtxParamsForCommonAuthentication {
        matching_id: matching_id.map(str::to_owned),
        device_info: rsp_lpa::LpaConfig::new(svn("2.2.0")).device_info(lpa_capability(card)),
        operation_type: None,
        iccid: None,
        matching_id_source: None,
        vendor_specific_extension: None,
        unknown_tags: vec![],
    })
}

/// The first half of CMA through the JSON binding; returns the decoded answer.
async fn initiate(ds: &Ds, card: &mut Card) -> InitiateAuthenticationOk {
    let challenge = card.get_euicc_challenge().unwrap();
    let info1 = card.get_euicc_info1().unwrap();
    let body = Es11InitiateAuthenticationRequest {
        euicc_challenge: challenge.0.to_vec(),
        euicc_info1: info1.encode(&Profile::new(svn("3.1.0"))).unwrap(),
        smds_address: SMDS.into(),
        lpa_rsp_capability: lpa_capability(card).map(|c| {
            let mut content = Vec::new();
            c.0.write_content(&mut content);
            let mut tlv = vec![0x03, content.len() as u8];
            tlv.extend_from_slice(&content);
            tlv
        }),
    };
    let (status, admin, body) = ds
        .post(
            "/gsma/rsp2/es11/initiateAuthentication",
            serde_json::to_vec(&body).unwrap(),
        )
        .await;
    assert_eq!(status, 200);
    assert!(admin.unwrap().starts_with("gsma/rsp/v"));
    let resp: wire::InitiateAuthenticationResponse = serde_json::from_slice(&body).unwrap();
    let header = format!("{:?}", resp.header);
    let ok = resp.body.unwrap_or_else(|| panic!("refused: {header}"));
    // Back to DER the way an LPA does.
    let server_signed1 =
        rsp_sgp22::Signed::decode(&ok.server_signed1, rsp_sgp22::ServerSigned1::decode).unwrap();
    let sig = rsp_types::tlv::parse_single(&ok.server_signature1).unwrap();
    let ski = rsp_types::tlv::parse_single(&ok.euicc_ci_pk_id_to_be_used).unwrap();
    InitiateAuthenticationOk {
        transaction_id: ok.transaction_id,
        server_signed1,
        server_signature1: sig.value.to_vec(),
        euicc_ci_pk_id_to_be_used: ski.value.to_vec(),
        server_certificate: rsp_sgp22::Certificate(ok.server_certificate),
        other_certs_in_chain: None,
        crl_list: None,
        unknown_tags: vec![],
    }
}

fn authenticate_server(
    card: &mut Card,
    ok: &InitiateAuthenticationOk,
    ctx: CtxParams1,
    peer: Profile,
) -> AuthenticateServerResponse {
    card.authenticate_server(
        &AuthenticateServerRequest {
            server_signed1: ok.server_signed1.clone(),
            server_signature1: ok.server_signature1.clone(),
            euicc_ci_pk_id_to_be_used: ok.euicc_ci_pk_id_to_be_used.clone(),
            server_certificate: ok.server_certificate.clone(),
            ctx_params1: ctx,
            other_certs_in_chain: None,
            crl_list: None,
            unknown_tags: vec![],
        },
        &peer,
    )
    .unwrap()
}

async fn authenticate_client(
    ds: &Ds,
    ok: &InitiateAuthenticationOk,
    asr: &AuthenticateServerResponse,
    peer: &Profile,
) -> Es11AuthenticateClientResponse {
    let body = JsonAuthenticateClient {
        transaction_id: ok.transaction_id.clone(),
        authenticate_server_response: asr.encode(peer).unwrap(),
        delete_notification_for_dc: None,
    };
    let (status, _, body) = ds
        .post(
            "/gsma/rsp2/es11/authenticateClient",
            serde_json::to_vec(&body).unwrap(),
        )
        .await;
    assert_eq!(status, 200);
    serde_json::from_slice(&body).unwrap()
}

fn failed(resp: &Es11AuthenticateClientResponse) -> (String, String) {
    assert!(resp.body.is_none(), "expected a refusal: {resp:?}");
    let s = resp
        .header
        .function_execution_status
        .status_code_data
        .as_ref()
        .unwrap();
    (
        s.subject_code.as_str().to_owned(),
        s.reason_code.as_str().to_owned(),
    )
}

/// One full discovery: CMA then the list; the v3 answer is verified by the card.
async fn discover(ds: &Ds, card: &mut Card, card_v: &str, ds_v: &str) -> Es11AuthenticateClientOk {
    let ok = initiate(ds, card).await;
    let peer = pairing(card_v, ds_v);
    let ctx = common_ctx(card, None);
    let asr = authenticate_server(card, &ok, ctx, peer);
    let resp = authenticate_client(ds, &ok, &asr, &peer).await;
    let header = format!("{:?}", resp.header);
    let list = resp.body.unwrap_or_else(|| panic!("refused: {header}"));
    if peer.is_v3() {
        let signed = rsp_sgp22::Signed::decode(
            list.smds_signed2.as_ref().unwrap(),
            rsp_sgp22::SmdsSigned2::decode,
        )
        .unwrap();
        let sig = rsp_types::tlv::parse_single(list.smds_signature2.as_ref().unwrap()).unwrap();
        let verify = VerifySmdsResponseRequest {
            smds_signed2: signed,
            smds_signature2: sig.value.to_vec(),
            unknown_tags: vec![],
        };
        let r = card.raw(verify.encode(&peer).unwrap()).unwrap();
        assert!(
            matches!(
                VerifySmdsResponseResponse::decode(&r).unwrap(),
                VerifySmdsResponseResponse::Ok(_)
            ),
            "the card accepts the SM-DS's signed list"
        );
    }
    list
}

fn listed(list: &Es11AuthenticateClientOk, peer: &Profile) -> Vec<(String, String)> {
    if let Some(e) = &list.event_entries {
        assert!(
            !peer.is_v3(),
            "a v3 session gets the signed list, not eventEntries"
        );
        return e
            .iter()
            .map(|e| (e.event_id.clone(), e.rsp_server_address.clone()))
            .collect();
    }
    assert!(peer.is_v3(), "a v2 session never gets smdsSigned2");
    let signed = rsp_sgp22::Signed::decode(
        list.smds_signed2.as_ref().unwrap(),
        rsp_sgp22::SmdsSigned2::decode,
    )
    .unwrap();
    match &signed.value().response {
        SmdsResponse::EventList(l) => l
            .event_entries
            .iter()
            .map(|e| (e.event_id.clone(), e.rsp_server_address.clone()))
            .collect(),
        other => panic!("not a list: {other:?}"),
    }
}

#[tokio::test]
async fn every_pairing_gets_the_list_of_its_version_with_only_its_events() {
    for (card_v, ds_v) in [
        ("2.2.0", "2.2.0"),
        ("2.2.0", "3.1.0"),
        ("3.1.0", "2.2.0"),
        ("3.1.0", "3.1.0"),
    ] {
        let ds = ds(ds_v, Es11Config::default()).await;
        let (mut card, eid) = card(card_v);
        ds.register(&eid, "EV-1", "smdp.example.com").await;
        ds.register(&eid, "EV-2", "smdp2.example.com").await;
        ds.register(EID2, "EV-FOREIGN", "smdp.example.com").await;
        let list = discover(&ds, &mut card, card_v, ds_v).await;
        let peer = pairing(card_v, ds_v);
        let mut got = listed(&list, &peer);
        got.sort();
        assert_eq!(
            got,
            vec![
                ("EV-1".to_owned(), "smdp.example.com".to_owned()),
                ("EV-2".to_owned(), "smdp2.example.com".to_owned()),
            ],
            "{card_v} card, {ds_v} SM-DS"
        );
    }
}

#[tokio::test]
async fn a_session_allows_one_authenticate_client_and_survives_a_restart() {
    let ds1 = ds("3.1.0", Es11Config::default()).await;
    let (mut card, eid) = card("3.1.0");
    ds1.register(&eid, "EV-1", "smdp.example.com").await;
    let ok = initiate(&ds1, &mut card).await;
    let peer = pairing("3.1.0", "3.1.0");
    let ctx = common_ctx(&card, Some("EV-1"));
    let asr = authenticate_server(&mut card, &ok, ctx, peer);
    // A second SM-DS node (a fresh service on the same store, as after a restart) answers the
    // second half: nothing of the session is kept in memory.
    let node2 = Ds {
        app: router(Arc::new(service(
            ds1.store.clone(),
            "3.1.0",
            Es11Config::default(),
        ))),
        events: EventStore::new(ds1.store.clone()),
        store: ds1.store.clone(),
        _dir: tempfile::tempdir().unwrap(),
    };
    let first = authenticate_client(&node2, &ok, &asr, &peer).await;
    let header = format!("{:?}", first.header);
    let list = first.body.unwrap_or_else(|| panic!("refused: {header}"));
    assert_eq!(
        listed(&list, &peer),
        vec![("EV-1".to_owned(), "smdp.example.com".to_owned())]
    );
    let row = node2
        .store
        .load_procedure(&rsp_smds::es11_service::session_row_id(&ok.transaction_id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.state, "Closed");
    let replay = authenticate_client(&ds1, &ok, &asr, &peer).await;
    assert_eq!(failed(&replay), ("8.10.1".into(), "3.9".into()));
}

#[tokio::test]
async fn tampered_signature_and_unknown_matching_id_are_refused() {
    let ds = ds("3.1.0", Es11Config::default()).await;
    let (mut card, eid) = card("3.1.0");
    ds.register(&eid, "EV-1", "smdp.example.com").await;
    let peer = pairing("3.1.0", "3.1.0");

    let ok = initiate(&ds, &mut card).await;
    let ctx = common_ctx(&card, None);
    let mut asr = authenticate_server(&mut card, &ok, ctx, peer);
    let AuthenticateServerResponse::Ok(inner) = &mut asr else {
        panic!("card refused")
    };
    inner.euicc_signature1[7] ^= 0x20;
    let resp = authenticate_client(&ds, &ok, &asr, &peer).await;
    assert_eq!(failed(&resp), ("8.1".into(), "6.1".into()));
    // The failed attempt closed the session: the untampered answer is now a replay.
    let resp = authenticate_client(&ds, &ok, &asr, &peer).await;
    assert_eq!(failed(&resp), ("8.10.1".into(), "3.9".into()));

    let ok = initiate(&ds, &mut card).await;
    let ctx = common_ctx(&card, Some("EV-NOPE"));
    let asr = authenticate_server(&mut card, &ok, ctx, peer);
    let resp = authenticate_client(&ds, &ok, &asr, &peer).await;
    assert_eq!(failed(&resp), ("8.9.5".into(), "3.9".into()));

    // A transactionId the SM-DS never issued.
    let mut forged = initiate(&ds, &mut card).await;
    let ctx = common_ctx(&card, None);
    let asr = authenticate_server(&mut card, &forged, ctx, peer);
    forged.transaction_id = rsp_sgp22::TransactionId::new(&[0xEE; 16]).unwrap();
    let resp = authenticate_client(&ds, &forged, &asr, &peer).await;
    assert_eq!(failed(&resp), ("8.10.1".into(), "3.9".into()));
}

#[tokio::test]
async fn push_registration_codes_and_storage() {
    let peer = pairing("3.1.0", "3.1.0");
    let push_ctx = |service: &str| {
        CtxParams1::PushServiceRegistration(CtxParamsForPushServiceRegistration {
            selected_push_service: service.parse::<Oid>().unwrap(),
            push_token: "token-1".into(),
            unknown_tags: vec![],
        })
    };
    // No push service configured: the SM-DS declares no Push Service in serverRspCapability,
    // so the eUICC itself refuses to sign the registration (its ctxParams1 cannot be carried
    // to this server) and the SM-DS reports the eUICC's error (8.1/4.2). Its own
    // pushServiceRegistrationNotSupported (8.10.6/3.1, 13) is for a card that tries anyway
    // (tests/es11_list.rs).
    let plain = ds("3.1.0", Es11Config::default()).await;
    let (mut c, _) = card("3.1.0");
    let ok = initiate(&plain, &mut c).await;
    let asr = authenticate_server(&mut c, &ok, push_ctx(PUSH), peer);
    let resp = authenticate_client(&plain, &ok, &asr, &peer).await;
    assert_eq!(failed(&resp), ("8.1".into(), "4.2".into()));

    let cfg = Es11Config {
        supported_push_services: vec![PUSH.parse().unwrap()],
        push_refresh_time: Some(3600),
        ..Es11Config::default()
    };
    let pushing = ds("3.1.0", cfg).await;
    let (mut c, eid) = card("3.1.0");
    let ok = initiate(&pushing, &mut c).await;
    // A v3 SM-DS with push services announces them in sessionContext.
    let ctx = ok.server_signed1.value().session_context.clone().unwrap();
    assert_eq!(
        ctx.supported_push_services.unwrap(),
        vec![PUSH.parse::<Oid>().unwrap()]
    );
    // Another service: 8.9.7/3.1.
    let asr = authenticate_server(&mut c, &ok, push_ctx("2.999.77.2"), peer);
    let resp = authenticate_client(&pushing, &ok, &asr, &peer).await;
    assert_eq!(failed(&resp), ("8.9.7".into(), "3.1".into()));
    assert!(
        pushing
            .events
            .push_registration(&eid)
            .await
            .unwrap()
            .is_none()
    );

    let ok = initiate(&pushing, &mut c).await;
    let asr = authenticate_server(&mut c, &ok, push_ctx(PUSH), peer);
    let resp = authenticate_client(&pushing, &ok, &asr, &peer).await;
    assert!(resp.body.is_some(), "{:?}", resp.header);
    let reg = pushing
        .events
        .push_registration(&eid)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(reg.push_service, PUSH);
    assert_eq!(reg.push_token, "token-1");
}

#[tokio::test]
async fn asn1_binding_and_malformed_input() {
    let ds = ds("2.2.0", Es11Config::default()).await;
    let (mut card, eid) = card("2.2.0");
    ds.register(&eid, "EV-1", "smdp.example.com").await;
    let peer = Profile::new(svn("2.2.0"));
    let challenge = card.get_euicc_challenge().unwrap();
    let info1 = card.get_euicc_info1().unwrap();
    let req = InitiateAuthenticationRequest {
        euicc_challenge: challenge,
        smdp_address: SMDS.into(),
        euicc_info1: info1,
        lpa_rsp_capability: None,
        unknown_tags: vec![],
    };
    let (status, _, body) = ds.post("/gsma/rsp2/asn1", req.encode(&peer).unwrap()).await;
    assert_eq!(status, 200);
    let InitiateAuthenticationResponse::Ok(ok) =
        InitiateAuthenticationResponse::decode(&body).unwrap()
    else {
        panic!("refused")
    };
    let ctx = common_ctx(&card, None);
    let asr = authenticate_server(&mut card, &ok, ctx, peer);
    let ac = AuthenticateClientRequest {
        transaction_id: ok.transaction_id.clone(),
        authenticate_server_response: asr,
        delete_notification_for_dc: None,
        unknown_tags: vec![],
    };
    let (status, _, body) = ds.post("/gsma/rsp2/asn1", ac.encode(&peer).unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(&body[..2], &[0xBF, 0x40]);
    let AuthenticateClientResponseEs11::Ok(list) =
        AuthenticateClientResponseEs11::decode(&body).unwrap()
    else {
        panic!("refused")
    };
    let entries = list.event_entries.unwrap();
    assert_eq!(entries.0.len(), 1);
    assert_eq!(entries.0[0].event_id, "EV-1");
    // Replay in the ASN.1 binding: invalidTransactionId (7).
    let (_, _, body) = ds.post("/gsma/rsp2/asn1", ac.encode(&peer).unwrap()).await;
    assert_eq!(
        AuthenticateClientResponseEs11::decode(&body).unwrap(),
        AuthenticateClientResponseEs11::Error(7)
    );

    // Wrong SM-DS address: refused before any session exists.
    let mut wrong = req.clone();
    wrong.smdp_address = "other.example.com".into();
    let (_, _, body) = ds
        .post("/gsma/rsp2/asn1", wrong.encode(&peer).unwrap())
        .await;
    assert_eq!(
        InitiateAuthenticationResponse::decode(&body).unwrap(),
        InitiateAuthenticationResponse::Error(1)
    );
    // Not JSON: HTTP 400; JSON with a bad field: Failed 1.6/2.1; garbage DER: 400.
    let (status, _, _) = ds
        .post("/gsma/rsp2/es11/initiateAuthentication", b"{".to_vec())
        .await;
    assert_eq!(status, 400);
    let (status, _, body) = ds
        .post(
            "/gsma/rsp2/es11/initiateAuthentication",
            br#"{"euiccChallenge":"AAE=","euiccInfo1":"vyAA","smdsAddress":"x"}"#.to_vec(),
        )
        .await;
    assert_eq!(status, 200);
    let h: wire::HeaderOnly = serde_json::from_slice(&body).unwrap();
    let s = h.header.function_execution_status.status_code_data.unwrap();
    assert_eq!(
        (s.subject_code.as_str(), s.reason_code.as_str()),
        ("1.6", "2.1")
    );
    let (status, _, _) = ds.post("/gsma/rsp2/asn1", vec![0xFF, 0x01]).await;
    assert_eq!(status, 400);
}
