//! Card responses, the Default Notification and remote command scripts against hand-written bytes.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use rsp_gp::notification::{DefaultNotification, NotificationType};
use rsp_gp::response::{
    self, CardResources, IsdPProperties, IsdPStatus, KeyAgreementResponse, LifeCycleState,
    NotificationConfirmationResponse, ResponseError,
};
use rsp_gp::script::{
    self, CompactScript, CompactScriptResponse, Script, ScriptError, ScriptResponse,
};
use rsp_gp::{CardCommand, CommandApdu, ResponseApdu, StatusWord};
use rsp_types::{Aid, Eid};

fn h(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

const ISD_P: &str = "A0000005591010FFFFFFFF8900001100";
const ISD_P2: &str = "A0000005591010FFFFFFFF8900001200";
// SGP.26 test EID (valid ISO/IEC 7064 MOD 97-10 check digits, sgp02.md §7.4).
const EID: &str = "89049032123451234512345678901235";

fn aid(s: &str) -> Aid {
    s.parse().unwrap()
}

#[test]
fn get_status_response() {
    let entries = vec![
        IsdPStatus {
            aid: aid(ISD_P),
            life_cycle: LifeCycleState::ENABLED,
            properties: Some(IsdPProperties::new(false, false)),
            allocated_memory: Some(0x012345),
        },
        IsdPStatus {
            aid: aid(ISD_P2),
            life_cycle: LifeCycleState::DISABLED,
            properties: Some(IsdPProperties::new(true, false)),
            allocated_memory: None,
        },
    ];
    let bytes = h(&format!(
        "E31E 4F10{ISD_P} 9F70013F 530100 8F03012345 E319 4F10{ISD_P2} 9F70011F 530101"
    ));
    assert_eq!(IsdPStatus::encode_list(&entries).unwrap(), bytes);
    let parsed = IsdPStatus::parse_list(&bytes).unwrap();
    assert_eq!(parsed, entries);
    assert!(parsed[1].properties.unwrap().fall_back());
    assert!(!parsed[1].properties.unwrap().emergency());
    assert_eq!(parsed[0].life_cycle.name(), Some("ENABLED"));
    assert!(IsdPStatus::parse_list(&[]).unwrap().is_empty());
    // Unknown children (e.g. 91) are ignored; missing 9F70 and foreign top-level tags are refused.
    let with_91 = h(&format!("E319 4F10{ISD_P} 9F700107 910100"));
    assert_eq!(
        IsdPStatus::parse_list(&with_91).unwrap()[0].life_cycle,
        LifeCycleState::SELECTABLE
    );
    assert!(matches!(
        IsdPStatus::parse_list(&h(&format!("E312 4F10{ISD_P}"))),
        Err(ResponseError::Malformed {
            reason: "E3 lacks 9F70",
            ..
        })
    ));
    assert!(matches!(
        IsdPStatus::parse_list(&h("E200")),
        Err(ResponseError::Tlv { .. })
    ));
}

#[test]
fn get_data_responses() {
    let eid: Eid = EID.parse().unwrap();
    let bytes = h(&format!("5A10{EID}"));
    assert_eq!(response::encode_eid(&eid), bytes);
    assert_eq!(response::parse_eid(&bytes).unwrap(), eid);
    // Wrong check digits are refused.
    assert!(matches!(
        response::parse_eid(&h("5A10 89049032123451234512345678901234")),
        Err(ResponseError::Eid(_))
    ));

    let cert = h("7F2106 930101 420102");
    let wrapped = response::encode_ecasd_certificate(&cert).unwrap();
    assert_eq!(wrapped, h("BF3009 7F2106930101420102"));
    assert_eq!(
        response::parse_ecasd_certificate(&wrapped).unwrap(),
        &cert[..]
    );
    assert_eq!(response::parse_ecasd_certificate(&cert).unwrap(), &cert[..]);
    assert!(response::parse_ecasd_certificate(&h("BF3003 5A0100")).is_err());

    let res = CardResources {
        installed_applications: 3,
        free_non_volatile_memory: 0x0001_0000,
        free_volatile_memory: 0x0800,
    };
    let bytes = h("FF210C 810103 820301 0000 83020800");
    assert_eq!(res.encode().unwrap(), bytes);
    assert_eq!(CardResources::parse(&bytes).unwrap(), res);
    assert!(CardResources::parse(&h("FF2106 810103 820100")).is_err());
}

#[test]
fn scenario3_responses() {
    let rc = [0x5Au8; 16];
    let bytes = response::encode_random_challenge(&rc).unwrap();
    assert_eq!(bytes[..2], [0x85, 0x10]);
    assert_eq!(response::parse_random_challenge(&bytes).unwrap(), rc);
    assert!(response::parse_random_challenge(&h("8500")).is_err());
    assert!(response::parse_random_challenge(&h("860101")).is_err());

    let r = KeyAgreementResponse {
        derivation_random: Some(vec![0x01; 16]),
        receipt: vec![0x02; 16],
    };
    let mut want = h("8510");
    want.extend([0x01; 16]);
    want.extend(h("8610"));
    want.extend([0x02; 16]);
    assert_eq!(r.encode().unwrap(), want);
    assert_eq!(KeyAgreementResponse::parse(&want).unwrap(), r);
    // Receipt first is accepted as well; no receipt is refused.
    let swapped = [&want[18..], &want[..18]].concat();
    assert_eq!(KeyAgreementResponse::parse(&swapped).unwrap(), r);
    assert!(KeyAgreementResponse::parse(&want[..18]).is_err());
}

#[test]
fn notification_confirmation_response() {
    let r = NotificationConfirmationResponse {
        deleted_isd_p_aids: vec![aid(ISD_P)],
    };
    let bytes = h(&format!("8012 4F10{ISD_P}"));
    assert_eq!(r.encode().unwrap(), bytes);
    assert_eq!(NotificationConfirmationResponse::parse(&bytes).unwrap(), r);
    let empty = NotificationConfirmationResponse::default();
    assert_eq!(empty.encode().unwrap(), h("8000"));
    assert_eq!(
        NotificationConfirmationResponse::parse(&h("8000")).unwrap(),
        empty
    );
    assert_eq!(NotificationConfirmationResponse::parse(&[]).unwrap(), empty);
    assert!(NotificationConfirmationResponse::parse(&h("8003 5A0100")).is_err());
}

#[test]
fn default_notification() {
    let n = DefaultNotification {
        eid: EID.parse().unwrap(),
        notification_type: NotificationType::ProfileChangeSucceeded,
        sequence_number: 7,
        isd_p_aid: Some(aid(ISD_P)),
        imei: Some(h("3344556677889900")),
        meid: None,
    };
    let bytes = h(&format!(
        "E135 4C10{EID} 4D0102 4E020007 4F10{ISD_P} 14083344556677889900"
    ));
    assert_eq!(n.encode().unwrap(), bytes);
    assert_eq!(DefaultNotification::parse(&bytes).unwrap(), n);
    // Comprehension-required tags (2F, 94, ED), a one-byte sequence number, unknown tags.
    let alt = h(&format!(
        "E13C 4C10{EID} 4D0101 4E0107 2F10{ISD_P} 94083344556677889900 ED0311 2233 990100"
    ));
    let parsed = DefaultNotification::parse(&alt).unwrap();
    assert_eq!(parsed.notification_type, NotificationType::EuiccDeclaration);
    assert_eq!(parsed.sequence_number, 7);
    assert_eq!(parsed.isd_p_aid, Some(aid(ISD_P)));
    assert_eq!(parsed.meid, Some(h("112233")));
    assert_eq!(
        NotificationType::from(0x05),
        NotificationType::ProfileChangeAfterFallBack
    );
    assert_eq!(NotificationType::from(0x09), NotificationType::Other(9));
    assert!(matches!(
        DefaultNotification::parse(&h("E103 4D0102")),
        Err(ResponseError::Malformed {
            reason: "no 4C (EID)",
            ..
        })
    ));
}

#[test]
fn expanded_scripts() {
    let a = aid(ISD_P);
    let script = Script::from_commands(&[
        CardCommand::enable_profile(a),
        CardCommand::get_isd_p_status(None),
    ])
    .unwrap();
    let bytes = h(&format!(
        "AA26 221A 80E2880015 3A0312 4F10{ISD_P} 2208 80F24002024F0000"
    ));
    assert_eq!(script.encode().unwrap(), bytes);
    assert_eq!(Script::parse(&bytes).unwrap(), script);
    // Chaining tag first; the indefinite-length template is accepted.
    let chained = Script {
        chaining: Some(script::CHAINING_FIRST_DELETE_ON_RESET),
        commands: script.commands.clone(),
    };
    let enc = chained.encode().unwrap();
    assert_eq!(enc[..5], h("AA29830101")[..]);
    assert_eq!(Script::parse(&enc).unwrap(), chained);
    let mut indefinite = h("AE80");
    indefinite.extend(&bytes[2..]);
    indefinite.extend([0, 0]);
    assert_eq!(Script::parse(&indefinite).unwrap(), script);
    // Errors.
    assert!(matches!(
        Script::parse(&h("AB00")),
        Err(ScriptError::UnexpectedTemplate {
            expected: 0xAA,
            found: 0xAB
        })
    ));
    assert!(matches!(
        Script::parse(&h("AA03 810100")),
        Err(ScriptError::UnsupportedTag { .. })
    ));
    assert!(matches!(
        Script::parse(&h("AA04 2202 80E2")),
        Err(ScriptError::Apdu { index: 0, .. })
    ));
    assert!(matches!(
        Script::parse(&h("AE80 2200")),
        Err(ScriptError::MissingEndOfContents)
    ));
    assert_eq!(
        ScriptError::UnsupportedTag {
            tag: rsp_types::Tag::from_u32(0x81).unwrap()
        }
        .bad_format_type(),
        script::BAD_FORMAT_UNKNOWN_TAG
    );
}

#[test]
fn script_execution_stops_at_first_error() {
    let a = aid(ISD_P);
    let script = Script::from_commands(&[
        CardCommand::get_isd_p_status(None),
        CardCommand::enable_profile(a),
        CardCommand::delete_isd_p(a),
    ])
    .unwrap();
    let mut seen = Vec::new();
    let resp = script.execute(|c: &CommandApdu| {
        seen.push(c.ins);
        match c.ins {
            0xF2 => ResponseApdu::new(h("E300"), StatusWord::MORE_DATA_AVAILABLE),
            0xE2 => ResponseApdu::status(StatusWord::CONDITIONS_NOT_SATISFIED),
            _ => ResponseApdu::status(StatusWord::SUCCESS),
        }
    });
    // The warning 6310 does not stop; 6985 does; DELETE never runs.
    assert_eq!(seen, [0xF2, 0xE2]);
    assert_eq!(resp.executed, 2);
    assert_eq!(resp.first_error(), Some(1));
    assert!(!resp.completed(3));
    let bytes = h("AB0D 800102 2304E3006310 23026985");
    assert_eq!(resp.encode().unwrap(), bytes);
    assert_eq!(ScriptResponse::parse(&bytes).unwrap(), resp);
    // Without 80 the count is the number of R-APDUs; AF indefinite accepted; 90 bad format.
    let no_count = ScriptResponse::parse(&h("AB04 23029000")).unwrap();
    assert_eq!(no_count.executed, 1);
    assert!(no_count.completed(1));
    assert_eq!(
        ScriptResponse::parse(&h("AF80 23029000 0000")).unwrap(),
        no_count
    );
    let bad = ScriptResponse::bad_format(script::BAD_FORMAT_WRONG_LENGTH);
    assert_eq!(bad.encode().unwrap(), h("AB06 800100 900102"));
    assert_eq!(
        ScriptResponse::parse(&h("AB06 800100 900102")).unwrap(),
        bad
    );
    assert!(script::stops_script(StatusWord::REFERENCED_DATA_NOT_FOUND));
    assert!(!script::stops_script(StatusWord::bytes_available(4)));

    let compact = CompactScriptResponse::from_expanded(&resp);
    assert_eq!(compact.encode(), h("02 6985"));
    assert_eq!(
        CompactScriptResponse::parse(&h("02 6985")).unwrap(),
        compact
    );
}

#[test]
fn compact_scripts() {
    let a = aid(ISD_P);
    let commands = vec![
        CardCommand::enable_profile(a).to_apdu().unwrap(),
        CardCommand::notification_confirmation(1).to_apdu().unwrap(),
        CommandApdu::new(0x80, 0xCA, 0x00, 0x5A),
    ];
    let s = CompactScript { commands };
    let bytes = h(&format!(
        "80E2880015 3A0312 4F10{ISD_P} 80E2890007 3A0804 4E020001 80CA005A00"
    ));
    assert_eq!(s.encode().unwrap(), bytes);
    let parsed = CompactScript::parse(&bytes).unwrap();
    // Le has no place in the compact form.
    assert_eq!(parsed.commands[1].le, None);
    assert_eq!(
        CardCommand::parse(&parsed.commands[1]).unwrap(),
        CardCommand::notification_confirmation(1)
    );
    assert_eq!(parsed.commands[2], CommandApdu::new(0x80, 0xCA, 0x00, 0x5A));
    assert!(matches!(
        CompactScript::parse(&[]),
        Err(ScriptError::CompactTruncated { offset: 0 })
    ));
    assert!(matches!(
        CompactScript::parse(&h("80E2880002 3A")),
        Err(ScriptError::CompactTruncated { offset: 0 })
    ));
    let r = CompactScriptResponse::parse(&h("03 9000 5A10")).unwrap();
    assert_eq!(r.executed, 3);
    assert_eq!(r.last, Some(ResponseApdu::success(h("5A10"))));
    assert_eq!(CompactScriptResponse::parse(&h("00")).unwrap().last, None);
    assert!(CompactScriptResponse::parse(&h("0190")).is_err());
}
