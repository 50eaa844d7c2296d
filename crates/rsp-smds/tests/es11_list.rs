//! The ES11 event list after CMA: v2 peer gets the unsigned v2 list (bytes asserted, no v3
//! element), v3 peer the list signed with a CERT.DSauth minted under the SGP.26 CI (verified,
//! tampering detected), EID isolation, MatchingID / EventID2 selection, push registration codes,
//! and decoders that never panic.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use proptest::prelude::*;
use rsp_crypto::ecc::{Curve, PrivateKey};
use rsp_crypto::pki;
use rsp_sgp22::json_smds::{DeleteEventRequest, RegisterEventRequest};
use rsp_sgp22::{
    AuthenticateClientResponseEs11, CtxParamsForPushServiceRegistration, Profile, SmdsResponse,
    TransactionId, authenticate_client_error_es11 as err,
};
use rsp_smds::es11::{
    self, AuthenticatedClient, DsAuth, Es11Config, Es11Request, VerifyError,
    authenticate_client_ok, verify_signed_response,
};
use rsp_smds::es12::{validate_delete, validate_register};
use rsp_smds::event::{EventData, Forwarded, Origin};
use rsp_types::{Eid, Oid, Svn};
use time::Duration;

fn ds_auth() -> DsAuth {
    let (ci, ci_key) = ci();
    let key = PrivateKey::generate(Curve::NistP256).unwrap();
    let t = now();
    let cert = pki::issue_sgp22_ds_auth_certificate(
        &ci,
        &ci_key,
        &key,
        "rsp test SM-DS",
        ROOT_OID,
        t - Duration::hours(1),
        t + Duration::days(30),
    )
    .unwrap();
    DsAuth::new(cert, key).unwrap()
}

fn event(eid: &str, id: &str, addr: &str) -> EventData {
    EventData {
        eid: eid.into(),
        event_id: id.into(),
        rsp_server_address: addr.into(),
        registrant: DP_OID.into(),
        forwarding_indicator: false,
        origin: Origin::Es12,
        registered_at: now(),
        forwarded: None,
        deleted_at: None,
    }
}

fn events() -> Vec<EventData> {
    let mut fwd = event(EID1, "EV-B", "dp2.test");
    fwd.forwarded = Some(Forwarded {
        event_id2: "ID2".into(),
        root_url: "https://root".into(),
    });
    vec![
        event(EID1, "EV-A", "dp.test"),
        event(EID2, "EV-OTHER", "dp.test"),
        fwd,
    ]
}

fn client(svn: Svn, request: Es11Request) -> AuthenticatedClient {
    AuthenticatedClient {
        eid: Eid::parse_relaxed(EID1).unwrap(),
        transaction_id: TransactionId::new(&[0x12, 0x34]).unwrap(),
        peer: Profile::new(svn),
        euicc_signature1: vec![0x5A; 64],
        request,
    }
}

fn retrieval(m: Option<&str>) -> Es11Request {
    Es11Request::EventRetrieval {
        matching_id: m.map(str::to_owned),
    }
}

#[test]
fn a_v2_peer_gets_the_unsigned_v2_list_of_its_own_eid() {
    let cfg = Es11Config::default();
    let v2 = Svn::new(2, 2, 0);
    let c = client(v2, retrieval(None));
    let out = authenticate_client_ok(&cfg, Some(&ds_auth()), &c, &events(), now()).unwrap();
    let der = out.to_der(&c.peer).unwrap();
    let e = |id: &str, a: &str| {
        let mut v = vec![0x30, (4 + id.len() + a.len()) as u8, 0x80, id.len() as u8];
        v.extend_from_slice(id.as_bytes());
        v.extend_from_slice(&[0x81, a.len() as u8]);
        v.extend_from_slice(a.as_bytes());
        v
    };
    let list = [e("EV-A", "dp.test"), e("EV-B", "dp2.test")].concat();
    let mut ok = vec![0x80, 0x02, 0x12, 0x34, 0xA1, list.len() as u8];
    ok.extend_from_slice(&list);
    let mut expected = vec![0xBF, 0x40, (ok.len() + 2) as u8, 0xA0, ok.len() as u8];
    expected.extend_from_slice(&ok);
    assert_eq!(der, expected);
    assert!(
        !der.windows(2).any(|w| w == [0x5F, 0x37]),
        "no signature to a v2 peer"
    );
    let json = serde_json::to_value(es11::to_json(&out.ok, &c.peer).unwrap()).unwrap();
    assert!(json.get("smdsSigned2").is_none() && json.get("smdsSignature2").is_none());
    assert_eq!(json["eventEntries"].as_array().unwrap().len(), 2);
    assert!(!json.to_string().contains("EV-OTHER"));
    // The same answer cannot be encoded for a v3 peer (it lacks the signed list).
    assert!(out.to_der(&Profile::new(Svn::new(3, 1, 0))).is_err());
}

#[test]
fn a_v3_peer_gets_the_signed_list_and_tampering_is_detected() {
    let cfg = Es11Config::default();
    let ds = ds_auth();
    let c = client(Svn::new(3, 1, 0), retrieval(None));
    let out = authenticate_client_ok(&cfg, Some(&ds), &c, &events(), now()).unwrap();
    assert!(out.ok.event_entries.is_none());
    let der = out.to_der(&c.peer).unwrap();
    let AuthenticateClientResponseEs11::Ok(back) =
        AuthenticateClientResponseEs11::decode(&der).unwrap()
    else {
        panic!()
    };
    let signed = verify_signed_response(
        ds.certificate(),
        &c.transaction_id,
        &c.euicc_signature1,
        &back,
    )
    .unwrap();
    let SmdsResponse::EventList(list) = &signed.response else {
        panic!()
    };
    let ids: Vec<_> = list
        .event_entries
        .iter()
        .map(|e| e.event_id.as_str())
        .collect();
    assert_eq!(ids, ["EV-A", "EV-B"]);
    // Not to a v2 peer: the v3 elements are dropped by the gate.
    let for_v2 = out.to_der(&Profile::new(Svn::new(2, 2, 0))).unwrap();
    assert_eq!(
        for_v2,
        vec![0xBF, 0x40, 0x06, 0xA0, 0x04, 0x80, 0x02, 0x12, 0x34]
    );

    // A flipped signature bit, another session's euiccSignature1, a changed list.
    let mut bad = back.clone();
    bad.smds_signature2.as_mut().unwrap()[5] ^= 1;
    assert_eq!(
        verify_signed_response(
            ds.certificate(),
            &c.transaction_id,
            &c.euicc_signature1,
            &bad
        ),
        Err(VerifyError::Signature)
    );
    assert_eq!(
        verify_signed_response(ds.certificate(), &c.transaction_id, &[0x5B; 64], &back),
        Err(VerifyError::Signature)
    );
    let mut tampered = der.clone();
    let pos = tampered.windows(4).position(|w| w == b"EV-A").unwrap();
    tampered[pos + 3] = b'Z';
    let AuthenticateClientResponseEs11::Ok(t) =
        AuthenticateClientResponseEs11::decode(&tampered).unwrap()
    else {
        panic!()
    };
    assert_eq!(
        verify_signed_response(ds.certificate(), &c.transaction_id, &c.euicc_signature1, &t),
        Err(VerifyError::Signature)
    );
    let other_tid = TransactionId::new(&[9]).unwrap();
    assert_eq!(
        verify_signed_response(ds.certificate(), &other_tid, &c.euicc_signature1, &back),
        Err(VerifyError::TransactionId)
    );
    // JSON carries the signature with its 5F37 header.
    let json = es11::to_json(&out.ok, &c.peer).unwrap();
    assert_eq!(&json.smds_signature2.unwrap()[..3], &[0x5F, 0x37, 0x40]);
    assert!(json.event_entries.is_none());
}

#[test]
fn matching_id_selects_by_event_id_or_event_id2() {
    let cfg = Es11Config::default();
    let v2 = Svn::new(2, 2, 0);
    let pick = |m| {
        authenticate_client_ok(
            &cfg,
            None,
            &client(v2, retrieval(Some(m))),
            &events(),
            now(),
        )
    };
    let ok = pick("ID2").unwrap();
    let list = ok.ok.event_entries.unwrap();
    assert_eq!(list.0.len(), 1);
    assert_eq!(
        (
            list.0[0].event_id.as_str(),
            list.0[0].rsp_server_address.as_str()
        ),
        ("EV-B", "dp2.test")
    );
    assert_eq!(pick("EV-A").unwrap().ok.event_entries.unwrap().0.len(), 1);
    // Another EID's event is unknown to this EID.
    let e = pick("EV-OTHER").unwrap_err();
    assert_eq!(
        (e.asn1_code, e.status),
        (err::EVENT_ID_UNKNOWN, es11::EVENT_ID_UNKNOWN)
    );
    // The list is capped.
    let many: Vec<_> = (0..50)
        .map(|i| event(EID1, &format!("M{i}"), "dp.test"))
        .collect();
    let out =
        authenticate_client_ok(&cfg, None, &client(v2, retrieval(None)), &many, now()).unwrap();
    assert_eq!(
        out.ok.event_entries.unwrap().0.len(),
        cfg.max_events_in_list
    );
    // A v3 peer without CERT.DSauth configured is an internal error, never an unsigned list.
    assert!(
        authenticate_client_ok(
            &cfg,
            None,
            &client(Svn::new(3, 1, 0), retrieval(None)),
            &events(),
            now()
        )
        .is_err()
    );
}

#[test]
fn push_registration_codes() {
    let fcm = "1.3.6.1.4.1.99999.1".parse::<Oid>().unwrap();
    let other = "1.3.6.1.4.1.99999.2".parse::<Oid>().unwrap();
    let push = |oid: &Oid| {
        Es11Request::PushRegistration(CtxParamsForPushServiceRegistration {
            selected_push_service: oid.clone(),
            push_token: "tok".into(),
            unknown_tags: vec![],
        })
    };
    let ds = ds_auth();
    let v3 = Svn::new(3, 1, 0);
    let none = Es11Config::default();
    let e =
        authenticate_client_ok(&none, Some(&ds), &client(v3, push(&fcm)), &[], now()).unwrap_err();
    assert_eq!(
        (e.asn1_code, e.status),
        (
            err::PUSH_SERVICE_REGISTRATION_NOT_SUPPORTED,
            es11::PUSH_REGISTRATION_NOT_SUPPORTED
        )
    );
    let cfg = Es11Config {
        supported_push_services: vec![fcm.clone()],
        push_refresh_time: Some(86_400),
        ..Default::default()
    };
    let e =
        authenticate_client_ok(&cfg, Some(&ds), &client(v3, push(&other)), &[], now()).unwrap_err();
    assert_eq!(
        (e.asn1_code, e.status),
        (
            err::PUSH_SERVICE_NOT_SUPPORT,
            es11::PUSH_SERVICE_NOT_SUPPORTED
        )
    );
    let e = authenticate_client_ok(
        &cfg,
        Some(&ds),
        &client(Svn::new(2, 2, 0), push(&fcm)),
        &[],
        now(),
    )
    .unwrap_err();
    assert_eq!(e.asn1_code, err::PUSH_SERVICE_REGISTRATION_NOT_SUPPORTED);
    let c = client(v3, push(&fcm));
    let out = authenticate_client_ok(&cfg, Some(&ds), &c, &events(), now()).unwrap();
    let reg = out.push.clone().unwrap();
    assert_eq!(
        (
            reg.eid.as_str(),
            reg.push_service.as_str(),
            reg.push_token.as_str()
        ),
        (EID1, "1.3.6.1.4.1.99999.1", "tok")
    );
    let signed = verify_signed_response(
        ds.certificate(),
        &c.transaction_id,
        &c.euicc_signature1,
        &out.ok,
    )
    .unwrap();
    let SmdsResponse::PushServiceRegistrationResult(r) = &signed.response else {
        panic!()
    };
    assert_eq!(r.push_service_refresh_time, Some(86_400));
}

#[tokio::test]
async fn push_registration_is_stored_and_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let events = rsp_smds::event::EventStore::new(sqlite(&dir, "p.db").await);
    let mut reg = rsp_smds::event::PushRegistration {
        eid: EID1.into(),
        push_service: "1.2.3".into(),
        push_token: "a".into(),
        registered_at: now(),
    };
    events.save_push_registration(&reg, now()).await.unwrap();
    reg.push_token = "b".into();
    events.save_push_registration(&reg, now()).await.unwrap();
    assert_eq!(
        events
            .push_registration(EID1)
            .await
            .unwrap()
            .unwrap()
            .push_token,
        "b"
    );
    assert!(events.push_registration(EID2).await.unwrap().is_none());
    assert!(
        events.live_for_eid(EID1).await.unwrap().is_empty(),
        "a push row is not an event"
    );
}

proptest! {
    #[test]
    fn es11_decoder_never_panics_and_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let mut framed = vec![0xBF, 0x40, bytes.len().min(127) as u8];
        framed.extend_from_slice(&bytes[..bytes.len().min(127)]);
        for input in [&bytes[..], &framed[..]] {
            if let Ok(v) = AuthenticateClientResponseEs11::decode(input) {
                for svn in [Svn::new(2, 2, 0), Svn::new(3, 1, 0)] {
                    if let Ok(der) = v.encode(&Profile::new(svn)) {
                        prop_assert!(AuthenticateClientResponseEs11::decode(&der).is_ok());
                    }
                }
            }
        }
    }

    #[test]
    fn request_validation_never_panics(eid in ".{0,40}", addr in ".{0,80}", id in ".{0,80}", fwd in any::<Option<bool>>()) {
        let r = RegisterEventRequest {
            header: None,
            eid: Some(eid.clone()),
            rsp_server_address: Some(addr),
            event_id: Some(id.clone()),
            forwarding_indicator: fwd,
        };
        if let Ok(v) = validate_register(&r) {
            prop_assert_eq!(v.eid.as_str().len(), 32);
            prop_assert!(v.event_id.len() <= 64);
        }
        let _ = validate_delete(&DeleteEventRequest { header: None, eid: Some(eid), event_id: Some(id) });
    }
}
