//! The card's EIS (`rsp_euicc::m2m::eis`): built from the generated SGP.02 PKI with a bootstrap
//! profile, checked field by field, round-tripped through the `rsp-sgp02` XML codec, validated with
//! `xmllint` against the generated schemas inside an `ES1-RegisterEISRequest`, and its ISD-R keys
//! protected under the ES1 transport key (U-16) and recovered by the SM-SR side.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Command;

use common::*;
use rsp_crypto::pki::{self, PkiManifest, PkiOptions};
use rsp_euicc::m2m::eis::{
    EisError, Es1TransportKey, eis_from_xml, eis_to_xml, open_isd_r_key_sets,
};
use rsp_euicc::m2m::issue::{BootstrapProfile, IssueOptions};
use rsp_euicc::m2m::{IssuerMaterial, KeySetKind, M2mCard, Pol1};
use rsp_sgp02::bodies::EisRequest;
use rsp_sgp02::common::BaseRequest;
use rsp_sgp02::data::{Eis, KeysetUsage, ProfileState, SdRole};
use rsp_sgp02::schema::XmlItem;
use rsp_sgp02::{DEFAULT_NAMESPACE, FunctionId};
use rsp_types::EntityId;

struct Issued {
    card: M2mCard,
    eis: Eis,
    transport: Es1TransportKey,
    _dir: tempfile::TempDir,
}

fn smsr() -> EntityId {
    "2.999.31".parse().unwrap()
}

fn mno() -> EntityId {
    "2.999.20".parse().unwrap()
}

fn issue() -> Issued {
    let dir = tempfile::tempdir().unwrap();
    let opts = PkiOptions {
        euicc_count: 1,
        ..PkiOptions::default()
    };
    pki::generate(dir.path(), &opts).unwrap();
    let manifest = PkiManifest::load(dir.path()).unwrap();
    let material = IssuerMaterial::from_manifest(&manifest, "sgp02/euicc-1").unwrap();
    let options = IssueOptions {
        rng_seed: Some(7),
        production_time: t(0),
        bootstrap: Some(BootstrapProfile {
            aid: bootstrap_aid(),
            package: TS48_NO_BERTLV.to_vec(),
            pol1: Pol1::NONE,
        }),
        ..IssueOptions::default()
    };
    let (card, seed) = M2mCard::issue(material, options).unwrap();
    let transport = Es1TransportKey::generate().unwrap();
    let eis = seed.to_eis(&smsr(), &mno(), &transport).unwrap();
    Issued {
        card,
        eis,
        transport,
        _dir: dir,
    }
}

#[test]
fn eis_describes_the_card() {
    let Issued { card, eis, .. } = issue();
    let info = &eis.eum_signed_info;
    assert_eq!(info.eid, *card.eid());
    assert_eq!(info.eum_id.to_string(), "2.999.5");
    assert_eq!(
        rsp_sgp02::schema::XmlText::to_text(&info.production_date),
        "2023-11-14T22:13:20Z"
    );
    assert_eq!(
        info.isd_p_loadfile_aid.to_hex(),
        "A0000005591010FFFFFFFF8900000D00"
    );
    assert_eq!(
        info.isd_p_module_aid.to_hex(),
        "A0000005591010FFFFFFFF8900000E00"
    );
    assert_eq!(info.ecasd.role, SdRole::Ecasd);
    let cert = &info.ecasd.keyset.0[0].certificate[0];
    assert_eq!(cert.value.0, card.ecasd().certificate.to_bytes());
    assert_eq!(cert.ca_id.to_string(), "2.999.5");
    assert!(info.euicc_capabilities.http_support);

    assert_eq!(eis.smsr_id, smsr());
    assert_eq!(eis.remaining_memory, card.free_memory());
    let [profile] = eis.profile_info.as_slice() else {
        panic!("one bootstrap profile expected");
    };
    assert_eq!(profile.isd_p_aid, bootstrap_aid());
    assert_eq!(profile.state, ProfileState::Enabled);
    assert!(profile.fallback_attribute);
    assert_eq!(profile.mno_id, mno());
    assert_eq!(
        Some(profile.iccid),
        card.profiles()[0].iccid,
        "the ICCID of the installed package"
    );

    assert_eq!(eis.isd_r.role, SdRole::IsdR);
    assert_eq!(eis.isd_r.aid, card.isd_r().aid);
    assert_eq!(eis.isd_r.tar[0].0, card.isd_r().tar);
    let usages: Vec<_> = eis
        .isd_r
        .keyset
        .0
        .iter()
        .map(|k| (k.version.get(), k.keyset_type, k.key.len()))
        .collect();
    assert_eq!(
        usages,
        vec![
            (0x01, Some(KeysetUsage::Scp80), 3),
            (0x40, Some(KeysetUsage::Scp81), 1)
        ]
    );
    // Unsigned until the EUM signs it.
    assert!(eis.eum_signature.0.children.is_empty());
}

#[test]
fn isd_r_keys_are_protected_and_recoverable() {
    let Issued {
        card,
        mut eis,
        transport,
        ..
    } = issue();
    let xml = eis_to_xml(&eis, DEFAULT_NAMESPACE);
    for set in &card.isd_r().key_sets {
        for k in &set.keys {
            let clear = hex::encode_upper(k.value.as_slice());
            assert!(!xml.contains(&clear), "a clear ISD-R key in the EIS");
        }
    }
    // The SM-SR with the same transport key gets the card's key sets back.
    let opened = open_isd_r_key_sets(&eis, &transport).unwrap();
    assert_eq!(opened.len(), card.isd_r().key_sets.len());
    for (o, c) in opened.iter().zip(&card.isd_r().key_sets) {
        assert_eq!((o.kind, o.version), (c.kind, c.version));
        assert_eq!(o.keys.len(), c.keys.len());
        for (a, b) in o.keys.iter().zip(&c.keys) {
            assert_eq!(a.id, b.id);
            assert_eq!(a.value.as_slice(), b.value.as_slice());
        }
    }
    assert_eq!(opened[1].kind, KeySetKind::Scp81);
    // Another transport key does not open them.
    let other = Es1TransportKey::generate().unwrap();
    assert!(matches!(
        open_isd_r_key_sets(&eis, &other),
        Err(EisError::Key { .. })
    ));
    // A changed KCV is caught.
    eis.isd_r.keyset.0[0].key[1].kcv.0.0[0] ^= 1;
    assert!(matches!(
        open_isd_r_key_sets(&eis, &transport),
        Err(EisError::Key {
            version: 1,
            index: 2,
            ..
        })
    ));
}

#[test]
fn eis_round_trips_through_the_xml_codec() {
    let Issued { eis, .. } = issue();
    let xml = eis_to_xml(&eis, DEFAULT_NAMESPACE);
    assert!(xml.contains("<rps:Eis xmlns:rps=\"http://namespaces.gsma.org/esim-messaging/3\">"));
    let back = eis_from_xml(&xml).unwrap();
    assert_eq!(back, eis);
    assert_eq!(eis_to_xml(&back, DEFAULT_NAMESPACE), xml);
    // Not an EIS.
    assert!(eis_from_xml("<rps:Other xmlns:rps=\"urn:x\"/>").is_err());
    assert!(eis_from_xml("<Eis>").is_err());
}

fn xmllint_available() -> bool {
    let ok = Command::new("xmllint")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok && std::env::var("CI").is_ok_and(|v| !v.is_empty()) {
        panic!("xmllint is required (Debian package libxml2-utils)");
    }
    ok
}

fn register_eis_envelope(eis: &Eis) -> String {
    let request = EisRequest {
        base: BaseRequest::new("urn:uuid:eis-test-1".parse().unwrap()),
        eis: eis.clone(),
    };
    let name = FunctionId::Es1RegisterEis.info().request_element();
    format!(
        "<env:Envelope xmlns:env=\"http://www.w3.org/2003/05/soap-envelope\"><env:Body>{}</env:Body></env:Envelope>",
        request.to_element(DEFAULT_NAMESPACE, &name).to_xml()
    )
}

#[test]
fn eis_validates_against_the_generated_schema() {
    if !xmllint_available() {
        eprintln!("SKIP: xmllint not installed");
        return;
    }
    let Issued { eis, .. } = issue();
    let dir = tempfile::tempdir().unwrap();
    let schema = rsp_sgp02::xsd::write_schema_set(dir.path(), DEFAULT_NAMESPACE).unwrap();
    let good = dir.path().join("register-eis.xml");
    let envelope = register_eis_envelope(&eis);
    std::fs::write(&good, &envelope).unwrap();
    let lint = |file: &std::path::Path| {
        Command::new("xmllint")
            .arg("--noout")
            .arg("--schema")
            .arg(&schema)
            .arg(file)
            .output()
            .unwrap()
    };
    let out = lint(&good);
    assert!(
        out.status.success(),
        "xmllint refused the EIS:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The check can fail: an EIS without its ISD-R does not validate.
    let start = envelope.find("<rps:Isd-r>").unwrap();
    let end = envelope.find("</rps:Isd-r>").unwrap() + "</rps:Isd-r>".len();
    let bad = dir.path().join("bad.xml");
    std::fs::write(&bad, format!("{}{}", &envelope[..start], &envelope[end..])).unwrap();
    assert!(
        !lint(&bad).status.success(),
        "an EIS without Isd-r validated"
    );
}
