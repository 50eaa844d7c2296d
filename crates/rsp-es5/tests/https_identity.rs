//! PSK identity TLV, PSK, key store and GP Amendment B header values.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use rsp_es5::https::{
    AdminFrom, HeaderValueError, InMemoryPskKeyStore, Psk, PskCipherSuite, PskError, PskIdentity,
    PskIdentityError, PskKeyStore, aid_uri, is_admin_protocol, parse_aid_uri,
};
use rsp_types::{Aid, Eid};

/// The SGP.26 test EID.
const EID: &str = "89049032123451234512345678901235";
/// The ISD-R AID of SGP.02 / SGP.22.
const ISD_R: &str = "A0000005591010FFFFFFFF8900000100";

fn identity() -> PskIdentity {
    PskIdentity::new(EID.parse().unwrap(), ISD_R.parse().unwrap(), 0x01, 0x40).unwrap()
}

#[test]
fn identity_tlv_follows_table_4() {
    // Layout of SGP.02 §2.4.4 Table 4 (tags 80, 81, 4F, 82, 83), as summarised in the project's
    // spec notes §12.2; bytes written out by hand from the EID's BCD form and the AID.
    let expected = concat!(
        "800102",
        "8110",
        "89049032123451234512345678901235",
        "4F10",
        "A0000005591010FFFFFFFF8900000100",
        "820101",
        "830140"
    );
    let id = identity();
    assert_eq!(hex::encode_upper(id.to_tlv()), expected);
    assert_eq!(id.to_text(), expected);
    assert_eq!(PskIdentity::parse(expected.as_bytes()).unwrap(), id);
    assert_eq!(
        PskIdentity::parse(expected.to_lowercase().as_bytes()).unwrap(),
        id
    );
}

#[test]
fn identity_parse_is_lenient_on_order_and_unknown_tags() {
    let reordered = concat!(
        "830141",
        "820103",
        "C00100", // unknown tag, skipped
        "4F10",
        "A0000005591010FFFFFFFF8900000100",
        "8110",
        "89049032123451234512345678901235",
        "800102"
    );
    let id = PskIdentity::parse(reordered.as_bytes()).unwrap();
    assert_eq!((id.key_id, id.key_version), (3, 0x41));
}

#[test]
fn identity_parse_errors() {
    let good = identity().to_text();
    type Check = fn(&PskIdentityError) -> bool;
    let cases: Vec<(String, Check)> = vec![
        ("zz".into(), |e| matches!(e, PskIdentityError::NotHex)),
        ("800102".into(), |e| {
            matches!(e, PskIdentityError::MissingTag(0x81))
        }),
        (good.replacen("800102", "800101", 1), |e| {
            matches!(e, PskIdentityError::UnsupportedFormat(1))
        }),
        (format!("{good}830140"), |e| {
            matches!(e, PskIdentityError::DuplicateTag(0x83))
        }),
        (good.replacen("820101", "82020101", 1), |e| {
            matches!(e, PskIdentityError::BadFieldLength { tag: 0x82, len: 2 })
        }),
        // EID with a wrong check digit.
        (good.replacen("8901235", "8901236", 1), |e| {
            matches!(e, PskIdentityError::Eid(_))
        }),
        // Truncated TLV.
        (good[..good.len() - 2].to_owned(), |e| {
            matches!(e, PskIdentityError::Tlv(_))
        }),
        ("0".repeat(300), |e| {
            matches!(e, PskIdentityError::TooLong(300))
        }),
    ];
    for (text, check) in cases {
        let err = PskIdentity::parse(text.as_bytes()).unwrap_err();
        assert!(check(&err), "{text}: {err:?}");
    }
    assert_eq!(
        PskIdentity::new(EID.parse().unwrap(), ISD_R.parse().unwrap(), 1, 0x30),
        Err(PskIdentityError::NotScp81KeyVersion(0x30))
    );
}

#[test]
fn psk_length_and_debug() {
    assert_eq!(Psk::new(vec![0; 15]), Err(PskError::WrongLength(15)));
    assert_eq!(Psk::new(vec![0; 65]), Err(PskError::WrongLength(65)));
    let psk = Psk::new(vec![0x42; 16]).unwrap();
    assert_eq!(psk.as_bytes(), &[0x42; 16]);
    assert_eq!(format!("{psk:?}"), "Psk(<16 bytes>)");
}

#[test]
fn key_store_looks_up_by_eid_version_and_id() {
    let store = InMemoryPskKeyStore::new();
    let id = identity();
    let psk = Psk::new(vec![7; 16]).unwrap();
    store.insert(id.eid, 0x40, 0x01, psk.clone());
    assert_eq!(store.scp81_psk(&id), Some(psk.clone()));
    let other_id = PskIdentity { key_id: 2, ..id };
    assert_eq!(store.scp81_psk(&other_id), None);
    let other_version = PskIdentity {
        key_version: 0x41,
        ..id
    };
    assert_eq!(store.scp81_psk(&other_version), None);
    assert_eq!(store.remove(&id.eid, 0x40, 0x01), Some(psk));
    assert_eq!(store.scp81_psk(&id), None);
}

#[test]
fn targeted_application_header() {
    let aid: Aid = "A0000005591010FFFFFFFF8900001100".parse().unwrap();
    assert_eq!(aid_uri(&aid), "//aid/A000000559/1010FFFFFFFF8900001100");
    assert_eq!(
        parse_aid_uri("//aid/A000000559/1010FFFFFFFF8900001100").unwrap(),
        aid
    );
    assert_eq!(
        parse_aid_uri(" //AID/a000000559/1010ffffffff8900001100 ").unwrap(),
        aid
    );
    assert_eq!(
        parse_aid_uri("//aid/A0000005591010FFFFFFFF8900001100").unwrap(),
        aid
    );
    let rid_only: Aid = "A000000559".parse().unwrap();
    assert_eq!(aid_uri(&rid_only), "//aid/A000000559");
    assert!(matches!(
        parse_aid_uri("/aid/A000000559"),
        Err(HeaderValueError::NotAnAidUri(_))
    ));
    assert!(matches!(
        parse_aid_uri("//aid/A0000005"),
        Err(HeaderValueError::Aid(_))
    ));
}

#[test]
fn admin_from_header() {
    let eid: Eid = EID.parse().unwrap();
    let isd_r: Aid = ISD_R.parse().unwrap();
    let value = AdminFrom::header_value(&eid, &isd_r);
    assert_eq!(
        value,
        "//se-id/eid/89049032123451234512345678901235;//aa-id/aid/A000000559/1010FFFFFFFF8900000100"
    );
    let parsed = AdminFrom::parse(&value).unwrap();
    assert_eq!(parsed.eid, Some(eid));
    assert_eq!(parsed.agent_aid, Some(isd_r));
    // Order, case and unknown parts do not matter.
    let parsed = AdminFrom::parse(
        " //AA-ID/aid/a000000559/1010ffffffff8900000100 ; //se-id/EID/89049032123451234512345678901235;//x/y",
    )
    .unwrap();
    assert_eq!((parsed.eid, parsed.agent_aid), (Some(eid), Some(isd_r)));
    assert!(AdminFrom::parse("//se-id/eid/123").is_err());
    assert_eq!(AdminFrom::parse("").unwrap(), AdminFrom::default());
}

#[test]
fn admin_protocol_and_suites() {
    assert!(is_admin_protocol("globalplatform-remote-admin/1.0"));
    assert!(is_admin_protocol("GlobalPlatform-Remote-Admin/1.1.1"));
    assert!(!is_admin_protocol("globalplatform-remote-admin/2.0"));
    assert!(!is_admin_protocol("gsma/rsp/v2.2.0"));
    assert_eq!(
        PskCipherSuite::from_name("TLS_PSK_WITH_AES_128_GCM_SHA256"),
        Some(PskCipherSuite::Aes128GcmSha256)
    );
    assert_eq!(
        PskCipherSuite::from_name("PSK-AES128-CBC-SHA256"),
        Some(PskCipherSuite::Aes128CbcSha256)
    );
    assert_eq!(PskCipherSuite::from_name("PSK-AES128-CBC-SHA"), None);
}
