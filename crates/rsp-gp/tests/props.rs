//! Property tests: no parser panics on arbitrary bytes, and encode/parse round-trips for arbitrary
//! valid values.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use rsp_gp::command::{InstallForInstall, InstallForPersonalization, Select};
use rsp_gp::notification::{DefaultNotification, NotificationType};
use rsp_gp::response::{
    CardResources, IsdPProperties, IsdPStatus, KeyAgreementResponse, LifeCycleState,
    NotificationConfirmationResponse,
};
use rsp_gp::script::{CompactScript, CompactScriptResponse, Script, ScriptResponse};
use rsp_gp::{
    CardCommand, CommandApdu, Delete, GetData, GetStatus, InstallParameters, KeyAgreement,
    KeyAgreementCrt, Privileges, PublicKeyDo, ResponseApdu, ScpParameters, StatusScope, StatusWord,
    StoreData, StoreDataContent,
};
use rsp_types::{Aid, Eid};

fn aid() -> impl Strategy<Value = Aid> {
    vec(any::<u8>(), 5..=16).prop_map(|b| Aid::from_bytes(&b).unwrap())
}

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..=max)
}

fn command_apdu() -> impl Strategy<Value = CommandApdu> {
    (
        any::<[u8; 4]>(),
        prop_oneof![bytes(40), bytes(300)],
        option::of(prop_oneof![1u32..=256, 1u32..=65_536]),
    )
        .prop_map(|([cla, ins, p1, p2], data, le)| CommandApdu {
            cla,
            ins,
            p1,
            p2,
            data,
            le,
        })
}

fn response_apdu() -> impl Strategy<Value = ResponseApdu> {
    (bytes(40), any::<u16>()).prop_map(|(d, sw)| ResponseApdu::new(d, StatusWord(sw)))
}

fn crt() -> impl Strategy<Value = KeyAgreementCrt> {
    (
        any::<[u8; 9]>(),
        option::of(any::<u8>()),
        option::of(bytes(8)),
        option::of(bytes(16)),
        option::of(bytes(16)),
    )
        .prop_map(
            |(b, key_access, initial_counter, sdin, host_id)| KeyAgreementCrt {
                scenario: b[0],
                scenario_parameters: b[1],
                key_usage: b[2],
                key_access,
                key_type: b[3],
                key_length: b[4],
                key_id: b[5],
                key_version: b[6],
                initial_counter,
                sdin,
                host_id,
            },
        )
}

fn key_agreement() -> impl Strategy<Value = KeyAgreement> {
    (
        crt(),
        bytes(80),
        option::of(any::<u8>()),
        option::of(bytes(80)),
    )
        .prop_map(
            |(crt, q, key_parameter_reference, signature)| KeyAgreement {
                crt,
                ephemeral_public_key: PublicKeyDo {
                    q,
                    key_parameter_reference,
                },
                signature,
            },
        )
}

/// Well-formed BER-TLV: primitive context-specific tags 80..9E with short values.
fn ber_tlvs() -> impl Strategy<Value = Vec<u8>> {
    vec((0x80u8..=0x9E, bytes(20)), 0..4).prop_map(|items| {
        let mut out = Vec::new();
        for (t, v) in items {
            out.push(t);
            out.push(v.len() as u8);
            out.extend(v);
        }
        out
    })
}

fn content() -> impl Strategy<Value = StoreDataContent> {
    prop_oneof![
        bytes(300).prop_map(|v| {
            let mut certificate = vec![0x7F, 0x21];
            match v.len() {
                0..=0x7F => certificate.push(v.len() as u8),
                0x80..=0xFF => certificate.extend([0x81, v.len() as u8]),
                _ => certificate.extend([0x82, (v.len() >> 8) as u8, v.len() as u8]),
            }
            certificate.extend(v);
            StoreDataContent::Certificate { certificate }
        }),
        key_agreement().prop_map(StoreDataContent::KeyAgreement),
        aid().prop_map(|isd_p_aid| StoreDataContent::EnableProfile { isd_p_aid }),
        aid().prop_map(|isd_p_aid| StoreDataContent::DisableProfile { isd_p_aid }),
        aid().prop_map(|isd_p_aid| StoreDataContent::SetFallBackAttribute { isd_p_aid }),
        aid().prop_map(|isd_p_aid| StoreDataContent::SetEmergencyProfileAttribute { isd_p_aid }),
        ber_tlvs()
            .prop_map(|parameters| StoreDataContent::UpdateConnectivityParameters { parameters }),
        any::<u16>().prop_map(
            |sequence_number| StoreDataContent::NotificationConfirmation { sequence_number }
        ),
    ]
}

fn card_command() -> impl Strategy<Value = CardCommand> {
    prop_oneof![
        aid().prop_map(|aid| CardCommand::Select(Select { aid })),
        (
            aid(),
            aid(),
            aid(),
            any::<[u8; 3]>(),
            option::of(any::<(u8, u8)>()),
            option::of(any::<u32>()),
            bytes(20)
        )
            .prop_map(|(l, m, a, p, scp, quota, token)| {
                CardCommand::InstallForInstall(InstallForInstall {
                    load_file_aid: l,
                    module_aid: m,
                    application_aid: a,
                    privileges: Privileges(p),
                    parameters: InstallParameters {
                        scp: scp.map(|(scp, i)| ScpParameters { scp, i }),
                        non_volatile_quota: quota,
                    },
                    token,
                })
            }),
        aid().prop_map(|application_aid| CardCommand::InstallForPersonalization(
            InstallForPersonalization { application_aid }
        )),
        (any::<u8>(), any::<bool>(), any::<bool>(), content()).prop_map(
            |(block_number, last_block, response_expected, content)| {
                CardCommand::StoreData(StoreData {
                    block_number,
                    last_block,
                    response_expected,
                    content,
                })
            }
        ),
        (aid(), any::<bool>()).prop_map(|(isd_p_aid, related_objects)| CardCommand::Delete(
            Delete::IsdP {
                isd_p_aid,
                related_objects
            }
        )),
        any::<[u8; 3]>().prop_map(|[k, f, l]| CardCommand::Delete(Delete::KeySet {
            key_version: k,
            first_key_id: f,
            last_key_id: l
        })),
        (
            prop_oneof![
                Just(StatusScope::IssuerSecurityDomain),
                Just(StatusScope::Applications),
                Just(StatusScope::LoadFiles),
                Just(StatusScope::LoadFilesAndModules)
            ],
            option::of(aid()),
            any::<bool>(),
            bytes(6)
        )
            .prop_map(|(scope, aid, next_occurrence, tag_list)| {
                CardCommand::GetStatus(GetStatus {
                    scope,
                    aid,
                    next_occurrence,
                    tag_list,
                })
            }),
        prop_oneof![
            Just(GetData::Eid),
            Just(GetData::EcasdCertificate),
            Just(GetData::ExtendedCardResources)
        ]
        .prop_map(CardCommand::GetData),
    ]
}

fn eid() -> impl Strategy<Value = Eid> {
    "[0-9]{30}".prop_map(|p| Eid::with_check_digits(&p).unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parsers_never_panic(data in bytes(400)) {
        let _ = CommandApdu::parse(&data);
        let _ = ResponseApdu::parse(&data);
        let _ = CardCommand::parse_bytes(&data);
        let _ = StoreDataContent::parse(&data);
        let _ = KeyAgreement::split_raw(&data);
        let _ = Script::parse(&data);
        let _ = ScriptResponse::parse(&data);
        let _ = CompactScript::parse(&data);
        let _ = CompactScriptResponse::parse(&data);
        let _ = DefaultNotification::parse(&data);
        let _ = IsdPStatus::parse_list(&data);
        let _ = CardResources::parse(&data);
        let _ = KeyAgreementResponse::parse(&data);
        let _ = NotificationConfirmationResponse::parse(&data);
        let _ = rsp_gp::response::parse_eid(&data);
        let _ = rsp_gp::response::parse_ecasd_certificate(&data);
        let _ = rsp_gp::response::parse_random_challenge(&data);
    }

    /// Valid headers of every supported instruction with arbitrary data reach the deep parsers.
    #[test]
    fn card_command_parse_never_panics(
        cla in prop_oneof![Just(0x80u8), Just(0x00u8), any::<u8>()],
        ins in prop_oneof![Just(0xE6u8), Just(0xE2), Just(0xE4), Just(0xF2), Just(0xCA), Just(0xA4)],
        p1 in prop_oneof![Just(0x88u8), Just(0x89), Just(0x09), Just(0x0C), Just(0x20), Just(0x40), Just(0x04), Just(0xBF), any::<u8>()],
        p2 in any::<u8>(),
        prefix in prop_oneof![Just(vec![]), Just(vec![0x3A, 0x02]), Just(vec![0x3A, 0x01]), Just(vec![0x3A, 0x08]), Just(vec![0xA6]), Just(vec![0x10])],
        tail in bytes(200),
    ) {
        let mut data = prefix;
        data.extend(tail);
        let apdu = CommandApdu { cla, ins, p1, p2, data, le: None };
        if let Err(e) = CardCommand::parse(&apdu) {
            let _ = e.status_word();
            let _ = e.to_string();
        }
    }

    #[test]
    fn command_apdu_round_trip(apdu in command_apdu()) {
        let bytes = apdu.encode().unwrap();
        prop_assert_eq!(CommandApdu::parse(&bytes).unwrap(), apdu);
    }

    #[test]
    fn response_apdu_round_trip(r in response_apdu()) {
        prop_assert_eq!(ResponseApdu::parse(&r.encode()).unwrap(), r);
    }

    #[test]
    fn card_command_round_trip(cmd in card_command()) {
        let apdu = cmd.to_apdu().unwrap();
        prop_assert_eq!(&CardCommand::parse(&apdu).unwrap(), &cmd);
        let bytes = apdu.encode().unwrap();
        prop_assert_eq!(CardCommand::parse_bytes(&bytes).unwrap(), cmd);
    }

    #[test]
    fn key_agreement_signed_data_matches_raw(ka in key_agreement(), rc in bytes(32)) {
        let cmd = CardCommand::store_key_agreement(ka.clone());
        let apdu = cmd.to_apdu().unwrap();
        let raw = KeyAgreement::split_raw(&apdu.data).unwrap();
        prop_assert_eq!(
            rsp_gp::command::signed_data(raw.dgi, raw.public_key, &rc).unwrap(),
            ka.signed_data(&rc).unwrap()
        );
        prop_assert_eq!(raw.crt, &ka.crt.encode().unwrap()[..]);
    }

    #[test]
    fn script_round_trip(chaining in option::of(any::<u8>()), commands in vec(command_apdu(), 0..6)) {
        let s = Script { chaining, commands };
        prop_assert_eq!(Script::parse(&s.encode().unwrap()).unwrap(), s);
    }

    #[test]
    fn script_response_round_trip(
        executed in any::<u16>(),
        responses in vec(response_apdu(), 0..6),
        bad_format in option::of(any::<u8>()),
    ) {
        let r = ScriptResponse { executed, responses, bad_format };
        prop_assert_eq!(ScriptResponse::parse(&r.encode().unwrap()).unwrap(), r);
    }

    #[test]
    fn compact_round_trip(
        headers in vec((any::<[u8; 4]>(), bytes(255)), 1..5),
        executed in any::<u8>(),
        last in option::of(response_apdu()),
    ) {
        let s = CompactScript {
            commands: headers
                .into_iter()
                .map(|([c, i, p1, p2], d)| CommandApdu::new(c, i, p1, p2).with_data(d))
                .collect(),
        };
        prop_assert_eq!(CompactScript::parse(&s.encode().unwrap()).unwrap(), s);
        let r = CompactScriptResponse { executed, last };
        prop_assert_eq!(CompactScriptResponse::parse(&r.encode()).unwrap(), r);
    }

    #[test]
    fn responses_round_trip(
        entries in vec((aid(), any::<u8>(), option::of(any::<u8>()), option::of(any::<u32>())), 0..4),
        res in any::<(u32, u32, u32)>(),
        dr in option::of(bytes(32)),
        receipt in bytes(32),
        deleted in vec(aid(), 0..4),
    ) {
        let entries: Vec<IsdPStatus> = entries
            .into_iter()
            .map(|(aid, lc, p, m)| IsdPStatus {
                aid,
                life_cycle: LifeCycleState(lc),
                properties: p.map(IsdPProperties),
                allocated_memory: m,
            })
            .collect();
        prop_assert_eq!(IsdPStatus::parse_list(&IsdPStatus::encode_list(&entries).unwrap()).unwrap(), entries);
        let r = CardResources { installed_applications: res.0, free_non_volatile_memory: res.1, free_volatile_memory: res.2 };
        prop_assert_eq!(CardResources::parse(&r.encode().unwrap()).unwrap(), r);
        let k = KeyAgreementResponse { derivation_random: dr, receipt };
        prop_assert_eq!(KeyAgreementResponse::parse(&k.encode().unwrap()).unwrap(), k);
        let n = NotificationConfirmationResponse { deleted_isd_p_aids: deleted };
        prop_assert_eq!(NotificationConfirmationResponse::parse(&n.encode().unwrap()).unwrap(), n);
    }

    #[test]
    fn default_notification_round_trip(
        eid in eid(),
        t in any::<u8>(),
        seq in any::<u16>(),
        isd_p_aid in option::of(aid()),
        imei in option::of(bytes(8)),
        meid in option::of(bytes(8)),
    ) {
        let n = DefaultNotification {
            eid,
            notification_type: NotificationType::from(t),
            sequence_number: seq,
            isd_p_aid,
            imei,
            meid,
        };
        prop_assert_eq!(NotificationType::from(n.notification_type.to_u8()), n.notification_type);
        prop_assert_eq!(DefaultNotification::parse(&n.encode().unwrap()).unwrap(), n);
    }
}
