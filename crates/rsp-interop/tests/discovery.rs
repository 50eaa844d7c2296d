//! The discovery path of issue 7, one test per pairing: v2 and v3 devices against v2 and v3
//! Root SM-DSs on one v3 SM-DP+, each over real TLS with the production servers: ES2+ order
//! with an smdsAddress → ES12 RegisterEvent from the SM-DP+'s outbox worker → ES11 discovery
//! from the card's root SM-DS address (v3 signed list verified by the eUICC) → download with
//! the EventID as MatchingID → ES12 DeleteEvent after installation.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rsp_interop::discovery::{DISCOVERY_PAIRINGS, DiscoveryReport, run_discovery};
use rsp_interop::write_fixtures;

async fn run(scenario: &str) -> DiscoveryReport {
    let p = DISCOVERY_PAIRINGS
        .iter()
        .find(|p| p.scenario == scenario)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let fx = write_fixtures(&dir.path().join("fx")).unwrap();
    let r = run_discovery(p, &fx, dir.path()).await;
    eprintln!(
        "{}: {} in {} ms\n  {}",
        p.scenario,
        r.status,
        r.duration_ms,
        r.details.join("\n  ")
    );
    assert!(r.passed(), "{}: {:#?}", p.scenario, r.failures());
    assert_eq!(r.verified_by_euicc, p.signed_list());
    assert_eq!(
        r.discovered,
        vec!["INTEROP-DISCOVERY @ testsmdpplus1.example.com".to_string()]
    );
    r
}

#[tokio::test]
async fn v2_device_with_v2_smds() {
    let r = run("v2 device + v2 SM-DS").await;
    assert_eq!(r.package_version.as_deref(), Some("2.3.0"));
}

#[tokio::test]
async fn v2_device_with_v3_smds() {
    let r = run("v2 device + v3 SM-DS").await;
    assert_eq!(r.package_version.as_deref(), Some("2.3.0"));
}

#[tokio::test]
async fn v3_device_with_v2_smds() {
    let r = run("v3 device + v2 SM-DS").await;
    assert_eq!(r.package_version.as_deref(), Some("3.1.0"));
}

#[tokio::test]
async fn v3_device_with_v3_smds() {
    let r = run("v3 device + v3 SM-DS").await;
    assert_eq!(r.package_version.as_deref(), Some("3.1.0"));
}
