//! The six pairings of the SGP.22 v2/v3 interoperability matrix, one test each: a full download
//! against a real SM-DP+ over TLS (SGP.26 DPauth/DPpb, a DPtls minted from the SGP.26 CI key),
//! the SGP.26 test eUICC, and the LPA; the runner checks the wire bytes (ServerSigned1 fields,
//! X-Admin-Protocol, v3 elements towards a v2 peer through the gates), the package version, the
//! order state and the byte-identical UPP.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rsp_interop::{PAIRINGS, run, v2_violations, violations_towards_v2, write_fixtures};
use rsp_sgp22::{
    Octet16, Profile, ServerRspCapability, ServerSigned1, SessionContext, TransactionId,
};
use rsp_types::Svn;

async fn pairing(i: usize) {
    let dir = tempfile::tempdir().unwrap();
    let fx = write_fixtures(&dir.path().join("fx")).unwrap();
    let p = &PAIRINGS[i];
    let r = run(p, &fx, dir.path()).await;
    assert!(r.passed(), "{}:\n{}", p.scenario, r.details.join("\n"));
    assert_eq!(r.v3_elements_sent_to_v2_peer, 0, "{:?}", r.details);
    assert_eq!(r.package_version, Some(p.package.to_string()));
    // The runner really looked: the checks it reports include the wire facts.
    assert!(
        r.details
            .iter()
            .any(|d| d.contains("ServerSigned1 sessionContext (A5)"))
    );
    assert!(r.details.iter().any(|d| d.contains("byte-identical UPP")));
}

#[tokio::test]
async fn v2_device_v2_server() {
    pairing(0).await;
}

#[tokio::test]
async fn v3_device_v2_server() {
    pairing(1).await;
}

#[tokio::test]
async fn v2_device_v3_server() {
    pairing(2).await;
}

#[tokio::test]
async fn v3_device_v3_server() {
    pairing(3).await;
}

#[tokio::test]
async fn v2_euicc_v3_smdpp_download() {
    pairing(4).await;
}

#[tokio::test]
async fn v3_euicc_v2_smdpp_download() {
    pairing(5).await;
}

/// The counter counts: a ServerSigned1 encoded for a v3 peer, seen by a v2 peer, carries two
/// v3 elements (sessionContext, serverRspCapability); the same message encoded for v2 none.
#[test]
fn gate_derived_counter_counts_mis_gated_messages() {
    let s = ServerSigned1 {
        transaction_id: TransactionId::new(&[1]).unwrap(),
        euicc_challenge: Octet16([1; 16]),
        server_address: "a.b".into(),
        server_challenge: Octet16([2; 16]),
        session_context: Some(SessionContext {
            server_svn: Svn::new(3, 1, 0),
            crl_stapling_v3_used: false,
            euicc_ci_pk_id_to_be_used_v3: None,
            supported_push_services: None,
            unknown_tags: vec![],
        }),
        server_rsp_capability: Some(ServerRspCapability::with_bits(&[0])),
        unknown_tags: vec![],
    };
    let for_v3 = s.encode(&Profile::new(Svn::new(3, 1, 0))).unwrap();
    let for_v2 = s.encode(&Profile::new(Svn::new(2, 2, 2))).unwrap();
    assert_eq!(
        v2_violations("serverSigned1", &for_v3).len(),
        1,
        "first violation reported"
    );
    assert!(v2_violations("serverSigned1", &for_v2).is_empty());
    // And over a whole (empty) log nothing is invented.
    assert!(violations_towards_v2(&rsp_lpa::WireLog::default()).is_empty());
}
