//! End to end: the real SM-DP+ (ES9+ JSON over TLS on 127.0.0.1, CERT.DP.TLS under the SGP.26
//! CI), the real consumer eUICC (SGP.26 identity), a released TS.48 order, and the LPA. The card
//! ends up holding the byte-identical UPP and the order is Installed; the wire log shows what
//! each version pairing put on the wire.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use rsp_lpa::harness::{Fixtures, card, start_smdp};
use rsp_lpa::{Binding, Es9Function, LpaConfig, ResultDelivery};
use rsp_sgp22::LpaRspCapability;
use rsp_smdpp::es9plus::Es9Config;
use rsp_smdpp::order::OrderState;
use rsp_types::Svn;

const V2: Svn = Svn::new(2, 2, 2);
const V3: Svn = Svn::new(3, 1, 0);

fn fixtures() -> Fixtures {
    Fixtures::at(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures"))
}

async fn download(server: Svn, card_svn: Svn, lpa: LpaConfig) -> (rsp_lpa::WireLog, bool) {
    download_over(server, card_svn, lpa, Binding::Json).await
}

async fn download_over(
    server: Svn,
    card_svn: Svn,
    lpa: LpaConfig,
    binding: Binding,
) -> (rsp_lpa::WireLog, bool) {
    let fx = fixtures();
    let dir = tempfile::tempdir().unwrap();
    let smdp = start_smdp(&fx, Es9Config::new(server), dir.path())
        .await
        .unwrap();
    let order = smdp.order("MATCHING-E2E", None, None).await.unwrap();
    let iccid = order.order.iccid;
    let mut lpa = smdp
        .lpa_with(lpa, card(&fx, card_svn).unwrap(), binding)
        .unwrap();
    let outcome = match lpa.download(&smdp.request("MATCHING-E2E")).await {
        Ok(o) => o,
        Err(e) => panic!("{e}\n{:#}", smdp.log().to_json()),
    };
    assert_eq!(outcome.iccid, iccid);
    assert_eq!(outcome.delivery, ResultDelivery::Delivered);
    let (transport, _) = lpa.into_parts();
    let card = transport.into_card();
    let installed: Vec<_> = card
        .profiles()
        .iter()
        .filter(|p| p.iccid == iccid)
        .collect();
    assert_eq!(installed.len(), 1);
    assert_eq!(
        installed[0].upp,
        smdp.upp(&iccid).unwrap(),
        "byte-identical UPP"
    );
    assert_eq!(
        card.notifications().count(),
        0,
        "the result was removed after delivery"
    );
    let order = smdp.order_of(&iccid).await.unwrap().unwrap();
    assert_eq!(order.order.state, OrderState::Installed);
    (smdp.log(), outcome.session.server_is_v3)
}

#[tokio::test]
async fn v2_lpa_v2_card_v2_server() {
    let (log, server_v3) = download(V2, V2, LpaConfig::new(V2)).await;
    assert!(!server_v3);
    assert_eq!(
        log.functions(),
        [
            Es9Function::InitiateAuthentication,
            Es9Function::AuthenticateClient,
            Es9Function::GetBoundProfilePackage,
            Es9Function::HandleNotification,
        ]
    );
    for e in log.exchanges() {
        assert_eq!(e.request_admin_protocol(), Some(V2), "{}", e.url);
        assert_eq!(e.request_header("user-agent"), Some("gsma-rsp-lpad"));
        assert!(e.request_json().unwrap().get("header").is_none());
    }
    assert_eq!(
        log.last(Es9Function::HandleNotification).unwrap().status,
        Some(204)
    );
    // Nothing v3 either way.
    let received = log.received_tag_paths();
    assert!(
        !received
            .iter()
            .any(|p| p.ends_with("serverSigned1:30/A5") || p.ends_with("serverSigned1:30/86")),
        "{received:?}"
    );
    let init = log.last(Es9Function::InitiateAuthentication).unwrap();
    assert!(init.request_field("lpaRspCapability").is_none());
}

#[tokio::test]
async fn v3_lpa_v3_card_v3_server() {
    let lpa = LpaConfig::new(V3).with_capability(&[LpaRspCapability::EVENT_CHECKING_SUPPORT]);
    let (log, server_v3) = download(V3, V3, lpa).await;
    assert!(server_v3);
    let init = log.last(Es9Function::InitiateAuthentication).unwrap();
    assert!(init.request_field("lpaRspCapability").is_some());
    let received = log.received_tag_paths();
    assert!(
        received.iter().any(|p| p.ends_with("serverSigned1:30/A5")),
        "{received:?}"
    );
}

#[tokio::test]
async fn v3_lpa_v2_card_v3_server_stays_v2() {
    let lpa = LpaConfig::new(V3).with_capability(&[LpaRspCapability::EVENT_CHECKING_SUPPORT]);
    let (log, _) = download(V3, V2, lpa).await;
    let init = log.last(Es9Function::InitiateAuthentication).unwrap();
    assert!(init.request_field("lpaRspCapability").is_none());
    let received = log.received_tag_paths();
    assert!(
        !received
            .iter()
            .any(|p| p.ends_with("serverSigned1:30/A5") || p.ends_with("serverSigned1:30/86")),
        "{received:?}"
    );
}

#[tokio::test]
async fn asn1_binding_v3_lpa_v2_server() {
    let lpa = LpaConfig::new(V3).with_capability(&[LpaRspCapability::EVENT_CHECKING_SUPPORT]);
    let (log, server_v3) = download_over(V2, V3, lpa, Binding::Asn1).await;
    assert!(!server_v3);
    for e in log.exchanges() {
        assert!(e.url.ends_with("/gsma/rsp2/asn1"), "{}", e.url);
        assert_eq!(
            e.request_header("content-type"),
            Some("application/x-gsma-rsp-asn1")
        );
    }
    // The v3 LPA offered lpaRspCapability before knowing the server (sgp22.md §6 allows it;
    // a v2 server ignores it). Once serverSigned1 showed a v2 server, nothing v3 follows: the
    // signed DeviceInfo has no lpaRspCapability (85) and the card's euiccInfo2 no
    // signing-V3 list (B1) or highestSvn (93); the v2 server runs no v3 tamper check.
    let init = log.last(Es9Function::InitiateAuthentication).unwrap();
    assert!(
        init.request_tag_paths()
            .contains(&"body:A2/BF39/85".to_string())
    );
    let client = log.last(Es9Function::AuthenticateClient).unwrap();
    let paths = client.request_tag_paths();
    assert!(
        paths
            .iter()
            .any(|p| p == "body:A2/BF3B/BF38/A0/30/A0/A1/80"),
        "{paths:?}"
    );
    for v3 in [
        "body:A2/BF3B/BF38/A0/30/A0/A1/85",
        "body:A2/BF3B/BF38/A0/30/BF22/B1",
        "body:A2/BF3B/BF38/A0/30/BF22/93",
    ] {
        assert!(
            !paths.iter().any(|p| p == v3),
            "{v3} reached a v2 server: {paths:?}"
        );
    }
}

#[tokio::test]
async fn json_v3_lpa_v3_card_v2_server() {
    let lpa = LpaConfig::new(V3).with_capability(&[LpaRspCapability::EVENT_CHECKING_SUPPORT]);
    let (log, server_v3) = download(V2, V3, lpa).await;
    assert!(!server_v3);
    // The v2 server sent no v3 element, and answered with its own version.
    for e in log.exchanges() {
        assert_eq!(e.response_admin_protocol(), Some(V2), "{}", e.url);
    }
    assert!(
        !log.received_tag_paths()
            .iter()
            .any(|p| p.ends_with("serverSigned1:30/A5") || p.ends_with("serverSigned1:30/86"))
    );
}
