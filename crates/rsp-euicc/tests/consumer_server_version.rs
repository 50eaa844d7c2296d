//! A v3 card encodes what it signs for the server it authenticated: towards a v2 server (no
//! sessionContext in serverSigned1) euiccSigned1 carries no v3 element; towards a v3 server it
//! carries the v3 fields of EUICCInfo2.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod consumer_common;

use consumer_common::*;
use rsp_sgp22::{
    AuthenticateServerRequest, AuthenticateServerResponse, Certificate, Octet16, Profile,
    ServerRspCapability, ServerSigned1, SessionContext, Signed, TransactionId,
};
use rsp_types::tlv;

/// The top-level tags of euiccInfo2 inside the euiccSigned1 the card returns.
fn euicc_info2_tags(server_svn: Option<&str>) -> Vec<u32> {
    let server = Server::sgp26();
    let mut lpa = Lpa::open(sgp26_card("3.1.0"));
    let challenge = lpa.challenge();
    let v3 = server_svn.is_some();
    let peer = match server_svn {
        Some(s) => Profile::new(svn(s)),
        None => server.peer,
    };
    let signed = Signed::new(
        ServerSigned1 {
            transaction_id: TransactionId::new(&[1, 2, 3]).unwrap(),
            euicc_challenge: challenge,
            server_address: server.address.clone(),
            server_challenge: Octet16([0x5C; 16]),
            session_context: server_svn.map(|s| SessionContext {
                server_svn: svn(s),
                crl_stapling_v3_used: false,
                euicc_ci_pk_id_to_be_used_v3: None,
                supported_push_services: None,
                unknown_tags: vec![],
            }),
            server_rsp_capability: v3.then(|| ServerRspCapability::with_bits(&[])),
            unknown_tags: vec![],
        },
        &peer,
    )
    .unwrap();
    let signature = server.auth_key.sign_raw(signed.raw()).unwrap().to_vec();
    let req = AuthenticateServerRequest {
        server_signed1: signed,
        server_signature1: signature,
        euicc_ci_pk_id_to_be_used: server.ci_id.clone(),
        server_certificate: Certificate(server.auth_cert.clone()),
        ctx_params1: Server::ctx_params(),
        other_certs_in_chain: None,
        crl_list: None,
        unknown_tags: vec![],
    };
    let resp = lpa.es10(&req.encode(&peer).unwrap());
    let AuthenticateServerResponse::Ok(ok) = AuthenticateServerResponse::decode(&resp).unwrap()
    else {
        panic!("AuthenticateServer failed: {resp:02X?}");
    };
    let signed1 = tlv::parse_single(ok.euicc_signed1.raw()).unwrap();
    let info2 = signed1
        .children()
        .map(|c| c.unwrap())
        .find(|c| u32::from(c.tag) == 0xBF22)
        .expect("euiccInfo2 in euiccSigned1");
    info2
        .children()
        .map(|c| u32::from(c.unwrap().tag))
        .collect()
}

#[test]
fn v3_card_sends_no_v3_element_to_a_v2_server() {
    let tags = euicc_info2_tags(None);
    for v3_tag in [0xB1, 0x93] {
        assert!(
            !tags.contains(&v3_tag),
            "v3 card sent {v3_tag:X} to a v2 server: {tags:X?}"
        );
    }
}

#[test]
fn v3_card_sends_v3_fields_to_a_v3_server() {
    let tags = euicc_info2_tags(Some("3.1.0"));
    assert!(tags.contains(&0xB1) && tags.contains(&0x93), "{tags:X?}");
}
