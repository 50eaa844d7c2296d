//! The consumer eUICC in front of an SM-DS (ES11 through the LPA): AuthenticateServer accepts
//! a CERT.DSauth issued under the SGP.26 CI (v2 and v3 cards), a session an SM-DS authenticated
//! never reaches PrepareDownload, and the v3 ES10b.VerifySmdsResponse (`BF45`) checks
//! smdsSignature2 over `DER(smdsSigned2) ‖ euiccSignature1 TLV` with the session's CERT.DSauth
//! key, then the transactionId; a v2 card does not know the command.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod consumer_common;

use consumer_common::*;
use rsp_crypto::ecc::{Curve, PrivateKey};
use rsp_crypto::pki;
use rsp_crypto::x509::Certificate as X509;
use rsp_euicc::consumer::ConsumerEuicc;
use rsp_sgp22::download_error as de;
use rsp_sgp22::es10::Es10Error;
use rsp_sgp22::verify_smds_response_error as ve;
use rsp_sgp22::{
    EventListV3, EventRecordV3, PrepareDownloadResponse, Profile, SeqOf, Signed, SmdsResponse,
    SmdsSigned2, TransactionId, VerifySmdsResponseRequest, VerifySmdsResponseResponse, event_type,
};
use time::{Duration, OffsetDateTime};

const SMDS_ADDRESS: &str = "testrootsmds.example.com";
const SMDS_OID: &str = "2.999.15";

/// An SM-DS whose CERT.DSauth is freshly issued under the SGP.26 NIST CI (the SGP.26 set in
/// the fixtures holds no DSauth); it runs CMA with the card exactly as the test SM-DP+ does.
fn smds() -> Server {
    let ci = X509::from_der(&read("CertificateIssuer/CERT_CI_ECDSA_NIST.der")).unwrap();
    let ci_key = key("CertificateIssuer/SK_CI_ECDSA_NIST.pem");
    let ds_key = PrivateKey::generate(Curve::NistP256).unwrap();
    let at = OffsetDateTime::from_unix_timestamp(TEST_TIME as i64).unwrap();
    let cert = pki::issue_sgp22_ds_auth_certificate(
        &ci,
        &ci_key,
        &ds_key,
        "rsp test SM-DS",
        SMDS_OID,
        at - Duration::days(1),
        at + Duration::days(30),
    )
    .unwrap();
    Server {
        auth_key: ds_key,
        auth_cert: cert.der().to_vec(),
        address: SMDS_ADDRESS.into(),
        oid: SMDS_OID.parse().unwrap(),
        ..Server::sgp26()
    }
}

fn v3() -> Profile {
    Profile::new(svn("3.1.0"))
}

fn signed_list(tid: &TransactionId, event_id: &str) -> Signed<SmdsSigned2> {
    Signed::new(
        SmdsSigned2 {
            transaction_id: tid.clone(),
            response: SmdsResponse::EventList(EventListV3 {
                event_entries: SeqOf(vec![EventRecordV3 {
                    event_id: event_id.into(),
                    rsp_server_address: SMDP_ADDRESS.into(),
                    event_type: event_type::PROFILE_DOWNLOAD,
                    hashed_iccids: None,
                    salt: None,
                    service_provider_name: None,
                    operator_id: None,
                    unknown_tags: vec![],
                }]),
                ec_id: None,
                push_service_refresh_time: None,
                unknown_tags: vec![],
            }),
            unknown_tags: vec![],
        },
        &v3(),
    )
    .unwrap()
}

/// smdsSigned2 + smdsSignature2 by `key` over smdsSigned2 ‖ euiccSignature1 TLV.
fn verify_request(
    key: &PrivateKey,
    auth: &AuthState,
    tid: &TransactionId,
    event_id: &str,
) -> VerifySmdsResponseRequest {
    let signed = signed_list(tid, event_id);
    let mut data = signed.raw().to_vec();
    data.extend_from_slice(&Server::sig_tlv(&auth.euicc_signature1));
    VerifySmdsResponseRequest {
        smds_signed2: signed,
        smds_signature2: key.sign_raw(&data).unwrap().to_vec(),
        unknown_tags: vec![],
    }
}

fn verify(lpa: &mut Lpa<ConsumerEuicc>, req: &VerifySmdsResponseRequest) -> Result<(), i64> {
    let resp = lpa.es10(&req.encode(&v3()).unwrap());
    match VerifySmdsResponseResponse::decode(&resp).unwrap() {
        VerifySmdsResponseResponse::Ok(_) => Ok(()),
        VerifySmdsResponseResponse::Error(code) => Err(code),
    }
}

#[test]
fn v3_card_verifies_the_signed_event_list_once() {
    let ds = smds();
    let mut lpa = Lpa::open(sgp26_card("3.1.0"));
    let auth = ds.authenticate(&mut lpa, &[0xD5, 0x01]);
    let req = verify_request(&ds.auth_key, &auth, &auth.transaction_id, "EV-1");
    // The exact bytes on the card link: BF45 { 30 … smdsSigned2, 5F37 40 … }.
    let der = req.encode(&v3()).unwrap();
    assert_eq!(&der[..2], &[0xBF, 0x45]);
    let tlv = rsp_types::tlv::parse_single(&der).unwrap();
    let children: Vec<_> = tlv.children().map(|c| c.unwrap()).collect();
    assert_eq!(children.len(), 2);
    assert_eq!(children[0].raw(), req.smds_signed2.raw());
    assert_eq!(children[1].tag.value(), 0x5F37);
    assert_eq!(verify(&mut lpa, &req), Ok(()));
    // The session ended with the check: the same answer again finds no session.
    assert_eq!(verify(&mut lpa, &req), Err(ve::NO_SESSION));
}

#[test]
fn tampered_signed_list_is_refused() {
    let ds = smds();
    let mut lpa = Lpa::open(sgp26_card("3.1.0"));
    let auth = ds.authenticate(&mut lpa, &[0xD5, 0x02]);
    let mut req = verify_request(&ds.auth_key, &auth, &auth.transaction_id, "EV-1");
    req.smds_signature2[10] ^= 0x01;
    assert_eq!(verify(&mut lpa, &req), Err(ve::INVALID_SIGNATURE));

    // Another event under the original signature (the LPA swapped the list).
    let auth = ds.authenticate(&mut lpa, &[0xD5, 0x03]);
    let good = verify_request(&ds.auth_key, &auth, &auth.transaction_id, "EV-1");
    let swapped = VerifySmdsResponseRequest {
        smds_signed2: signed_list(&auth.transaction_id, "EV-EVIL"),
        ..good
    };
    assert_eq!(verify(&mut lpa, &swapped), Err(ve::INVALID_SIGNATURE));
}

#[test]
fn signature_bound_to_this_sessions_euicc_signature1() {
    let ds = smds();
    let mut lpa = Lpa::open(sgp26_card("3.1.0"));
    let first = ds.authenticate(&mut lpa, &[0xD5, 0x04]);
    let second = ds.authenticate(&mut lpa, &[0xD5, 0x04]);
    assert_ne!(first.euicc_signature1, second.euicc_signature1);
    // Signed for the first session's euiccSignature1: refused in the second.
    let stale = verify_request(&ds.auth_key, &first, &second.transaction_id, "EV-1");
    assert_eq!(verify(&mut lpa, &stale), Err(ve::INVALID_SIGNATURE));
}

#[test]
fn signed_by_another_key_or_for_another_transaction() {
    let ds = smds();
    let mut lpa = Lpa::open(sgp26_card("3.1.0"));
    // The SM-DP+'s CERT.DPauth key is not the session's CERT.DSauth.
    let auth = ds.authenticate(&mut lpa, &[0xD5, 0x05]);
    let dp = Server::sgp26();
    let req = verify_request(&dp.auth_key, &auth, &auth.transaction_id, "EV-1");
    assert_eq!(verify(&mut lpa, &req), Err(ve::INVALID_SIGNATURE));
    // Correctly signed, but for another transactionId.
    let auth = ds.authenticate(&mut lpa, &[0xD5, 0x06]);
    let other = TransactionId::new(&[0xD5, 0x07]).unwrap();
    let req = verify_request(&ds.auth_key, &auth, &other, "EV-1");
    assert_eq!(verify(&mut lpa, &req), Err(ve::INVALID_TRANSACTION_ID));
}

#[test]
fn verify_smds_response_needs_an_smds_session() {
    let ds = smds();
    let mut lpa = Lpa::open(sgp26_card("3.1.0"));
    // No session at all.
    let fake = AuthState {
        transaction_id: TransactionId::new(&[1]).unwrap(),
        server_challenge: rsp_sgp22::Octet16([0; 16]),
        euicc_certificate: X509::from_der(&read("eUICC/CERT_EUICC_ECDSA_NIST.der")).unwrap(),
        euicc_signature1: vec![0; 64],
    };
    let req = verify_request(&ds.auth_key, &fake, &fake.transaction_id, "EV-1");
    assert_eq!(verify(&mut lpa, &req), Err(ve::NO_SESSION));
    // A session with an SM-DP+ (CERT.DPauth), even signed with that key.
    let dp = Server::sgp26();
    let auth = dp.authenticate(&mut lpa, &[0xD5, 0x08]);
    let req = verify_request(&dp.auth_key, &auth, &auth.transaction_id, "EV-1");
    assert_eq!(verify(&mut lpa, &req), Err(ve::NO_SESSION));
    // …and that SM-DP+ session is still usable for PrepareDownload.
    dp.prepare(&mut lpa, &auth, None);
}

#[test]
fn smds_session_never_reaches_prepare_download() {
    for version in ["2.2.2", "3.1.0"] {
        let ds = smds();
        let mut lpa = Lpa::open(sgp26_card(version));
        let auth = ds.authenticate(&mut lpa, &[0xD5, 0x09]);
        // A correct smdpSigned2 / smdpSignature2 from the SGP.26 DPpb, bound to this session.
        let req = Server::sgp26().prepare_request(&auth, None, None);
        let resp = lpa.es10(&req.encode(&ds.peer).unwrap());
        match PrepareDownloadResponse::decode(&resp).unwrap() {
            PrepareDownloadResponse::Error(e) => {
                assert_eq!(e.download_error_code, de::NO_SESSION, "{version}");
            }
            PrepareDownloadResponse::Ok(_) => panic!("{version}: DSauth session was bound"),
        }
    }
}

#[test]
fn v2_card_authenticates_an_smds_but_has_no_verify_smds_response() {
    let ds = smds();
    let mut lpa = Lpa::open(sgp26_card("2.2.2"));
    let auth = ds.authenticate(&mut lpa, &[0xD5, 0x0A]);
    let req = verify_request(&ds.auth_key, &auth, &auth.transaction_id, "EV-1");
    let sw = match lpa.try_es10(&req.encode(&v3()).unwrap()) {
        Err(Es10Error::Status { sw, .. }) => sw,
        other => panic!("v2 card answered {other:?}"),
    };
    assert_eq!(sw, 0x6A88);
}
