//! Provisioning from the generated SGP.02 PKI (`rsp_crypto::pki::generate`, as `rsp pki init`
//! writes it): the card accepts the PKI's own SM-DP and SM-SR certificates, and its EIS seed
//! describes it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use rsp_crypto::ecc::PrivateKey;
use rsp_crypto::pki::{self, PkiManifest, PkiOptions};
use rsp_euicc::m2m::issue::IssueOptions;
use rsp_euicc::m2m::{IssuerMaterial, KeySetKind, M2mCard};

fn entity_key(manifest: &PkiManifest, id: &str) -> (PrivateKey, Vec<u8>) {
    let e = manifest.entity(id).unwrap();
    let key =
        PrivateKey::from_pem(&std::fs::read_to_string(e.key.as_ref().unwrap()).unwrap()).unwrap();
    (key, std::fs::read(&e.cert).unwrap())
}

#[test]
fn issue_from_generated_pki() {
    let dir = tempfile::tempdir().unwrap();
    let opts = PkiOptions {
        euicc_count: 1,
        brainpool: false,
        ..PkiOptions::default()
    };
    pki::generate(dir.path(), &opts).unwrap();
    let manifest = PkiManifest::load(dir.path()).unwrap();
    let material = IssuerMaterial::from_manifest(&manifest, "sgp02/euicc-1").unwrap();
    let eid = material.eid;
    assert!(material.eum_certificate.is_some());
    assert!(IssuerMaterial::from_manifest(&manifest, "sgp02/euicc-9").is_err());

    let options = IssueOptions {
        rng_seed: Some(60),
        production_time: t(0),
        ..IssueOptions::default()
    };
    let (mut card, seed) = M2mCard::issue(material, options).unwrap();
    assert_eq!(card.eid(), &eid);

    // EIS seed: EID, EUM, ECASD certificate, ISD-R key sets with KCVs, capabilities, memory.
    assert_eq!(seed.eid, eid);
    assert_eq!(seed.eum_id, "2.999.5");
    assert_eq!(
        seed.ecasd.certificates[0].value,
        card.ecasd()
            .certificate
            .to_bytes()
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<String>()
    );
    assert_eq!(seed.isd_r.aid, isd_r());
    assert_eq!(seed.isd_r.tar, vec!["000001".to_string()]);
    let kinds: Vec<_> = seed
        .isd_r
        .key_sets
        .iter()
        .map(|k| (k.kind, k.version, k.keys.len()))
        .collect();
    assert_eq!(
        kinds,
        vec![(KeySetKind::Scp80, 0x01, 3), (KeySetKind::Scp81, 0x40, 1)]
    );
    assert!(
        seed.isd_r
            .key_sets
            .iter()
            .flat_map(|k| &k.keys)
            .all(|k| k.kcv.len() == 6)
    );
    assert!(seed.capabilities.http_support);
    assert_eq!(seed.remaining_memory, card.free_memory());
    assert!(seed.profiles.is_empty());
    // Serde round trip (the EUM tooling reads it as JSON), and Debug hides key values.
    let json = serde_json::to_string(&seed).unwrap();
    assert_eq!(
        serde_json::from_str::<rsp_euicc::m2m::EisSeed>(&json).unwrap(),
        seed
    );
    let key_hex = &seed.isd_r.key_sets[0].keys[0].value;
    assert!(!format!("{seed:?}").contains(key_hex.as_str()));

    // The PKI's SM-DP can personalise an ISD-P on this card; its SM-SR can add an ISD-R key set.
    let (dp_key, dp_cert) = entity_key(&manifest, "sgp02/sm-dp");
    assert_eq!(create_isdp(&mut card, aid(1), None), 0x9000);
    let rc = send_certificate(&mut card, Some(aid(1)), &dp_cert).unwrap();
    assert!(send_key_agreement(&mut card, &dp_key, &rc, scp03_crt(), |_| {}).is_ok());
    let (sr_key, sr_cert) = entity_key(&manifest, "sgp02/sm-sr2");
    let rc = send_certificate(&mut card, None, &sr_cert).unwrap();
    let crt = rsp_gp::command::KeyAgreementCrt::scp03(1, 0x02, 0);
    assert!(send_key_agreement(&mut card, &sr_key, &rc, crt, |_| {}).is_ok());
    // The SGP.22 CI is another CI: its chain does not reach this card.
    let other = TestPki::new();
    assert_eq!(create_isdp(&mut card, aid(2), None), 0x9000);
    assert_eq!(
        send_certificate(&mut card, Some(aid(2)), &other.sm_dp.cert),
        Err(0x6A88)
    );
}

#[test]
fn inconsistent_material_is_refused() {
    let pki = TestPki::new();
    let eid = EID.parse().unwrap();
    // Another key than the certified one.
    let mut m = pki.material(&eid);
    m.ecasd_key = PrivateKey::generate(rsp_crypto::ecc::Curve::NistP256).unwrap();
    assert!(M2mCard::issue(m, IssueOptions::default()).is_err());
    // Another EID than the certificate's.
    let mut m = pki.material(&eid);
    m.eid = rsp_types::Eid::with_check_digits("890490321234512345123456789010").unwrap();
    assert_ne!(m.eid, eid);
    assert!(M2mCard::issue(m, IssueOptions::default()).is_err());
    // A bootstrap package that is not SAIP.
    let m = pki.material(&eid);
    let options = IssueOptions {
        bootstrap: Some(rsp_euicc::m2m::issue::BootstrapProfile {
            aid: aid(0),
            package: vec![0x30, 0x00],
            pol1: rsp_euicc::m2m::Pol1::NONE,
        }),
        ..IssueOptions::default()
    };
    assert!(M2mCard::issue(m, options).is_err());
    // Settings out of range.
    for config in [
        rsp_euicc::m2m::CardConfig {
            challenge_len: 8,
            ..Default::default()
        },
        rsp_euicc::m2m::CardConfig {
            notification_attempts: 0,
            ..Default::default()
        },
        rsp_euicc::m2m::CardConfig {
            default_isdp_quota: 10,
            total_nv_memory: 5,
            ..Default::default()
        },
    ] {
        let options = IssueOptions {
            config,
            ..IssueOptions::default()
        };
        assert!(M2mCard::issue(pki.material(&eid), options).is_err());
    }
    // Without a seed, two cards from the same material draw different keys.
    let (a, _) = M2mCard::issue(pki.material(&eid), IssueOptions::default()).unwrap();
    let (b, _) = M2mCard::issue(pki.material(&eid), IssueOptions::default()).unwrap();
    assert_ne!(
        a.isd_r().key_sets[0].keys[0].value.as_slice(),
        b.isd_r().key_sets[0].keys[0].value.as_slice()
    );
}
