//! Card commands against hand-written bytes from the `sgp02.md` §13 command table (njiwa [NJ],
//! SGP.02 §4.1) and the GlobalPlatform Card Specification, and round trips through the one parser.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use rsp_gp::command::{
    self, DGI_KEY_AGREEMENT, KeyAgreementCrt, PublicKeyDo, receipt_input, signed_data,
};
use rsp_gp::{
    CardCommand, Cla, CommandApdu, CommandError, Delete, GetData, GetStatus, InstallParameters,
    KeyAgreement, Privileges, ScpParameters, StatusScope, StatusWord, StoreData, StoreDataContent,
};
use rsp_types::Aid;
use rsp_types::tlv::TlvError;

fn h(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn aid(s: &str) -> Aid {
    s.parse().unwrap()
}

// AIDs in the SGP.02 style (RID A000000559, PIX 1010FFFFFFFF89 ...); test values.
const ELF: &str = "A0000005591010FFFFFFFF8900000D00";
const MODULE: &str = "A0000005591010FFFFFFFF8900000E00";
const ISD_P: &str = "A0000005591010FFFFFFFF8900001100";

/// parse(to_apdu(cmd)) == cmd, parse_bytes(expected) == cmd and to_bytes(cmd) == expected.
fn check(cmd: &CardCommand, expected: &[u8]) {
    assert_eq!(cmd.to_bytes().unwrap(), expected, "{}", cmd.name());
    assert_eq!(&CardCommand::parse(&cmd.to_apdu().unwrap()).unwrap(), cmd);
    assert_eq!(&CardCommand::parse_bytes(expected).unwrap(), cmd);
}

#[test]
fn create_isd_p() {
    // sgp02.md §13: 80 E6 0C 00, LV(ELF) LV(module) LV(ISD-P) LV(80 C0 00) LV(C9 {81 02 03 70}) 00
    let cmd = CardCommand::create_isd_p(aid(ELF), aid(MODULE), aid(ISD_P), None);
    let expected = h(&format!(
        "80E60C00 3F 10{ELF} 10{MODULE} 10{ISD_P} 03 80C000 06 C904 81020370 00"
    ));
    check(&cmd, &expected);

    // With the optional EF { 83 02 <quota> }.
    let cmd = CardCommand::create_isd_p(aid(ELF), aid(MODULE), aid(ISD_P), Some(0x2000));
    let expected = h(&format!(
        "80E60C00 45 10{ELF} 10{MODULE} 10{ISD_P} 03 80C000 0C C904 81020370 EF04 83022000 00"
    ));
    check(&cmd, &expected);
    let CardCommand::InstallForInstall(i) = &cmd else {
        panic!()
    };
    assert_eq!(i.privileges, Privileges::ISD_P);
    assert!(i.privileges.contains(Privileges::AUTHORIZED_MANAGEMENT));
    assert_eq!(i.parameters.scp, Some(ScpParameters::SCP03_I70));

    // Lenient input: 1-byte privileges, a 4-byte quota, unknown TLVs, no token LV.
    let lenient = h(&format!(
        "80E60C00 47 10{ELF} 10{MODULE} 10{ISD_P} 01 80 11 C907 81020370 8201FF EF06 830400010000"
    ));
    let CardCommand::InstallForInstall(i) = CardCommand::parse_bytes(&lenient).unwrap() else {
        panic!()
    };
    assert_eq!(i.privileges, Privileges::SECURITY_DOMAIN);
    assert_eq!(
        i.parameters,
        InstallParameters {
            scp: Some(ScpParameters::SCP03_I70),
            non_volatile_quota: Some(0x10000)
        }
    );
    assert!(i.token.is_empty());
}

#[test]
fn install_for_personalization() {
    // sgp02.md §13: 80 E6 20 00, data 00 00 <L> <ISD-P AID> 00 00 00
    check(
        &CardCommand::install_for_personalization(aid(ISD_P)),
        &h(&format!("80E62000 16 0000 10{ISD_P} 000000")),
    );
}

#[test]
fn store_data_profile_commands() {
    let a = aid(ISD_P);
    // sgp02.md §13: STORE DATA 80 E2 88 00, 3A03 { 4F <AID> } / 3A04 { 4F <AID> }.
    check(
        &CardCommand::enable_profile(a),
        &h(&format!("80E28800 15 3A0312 4F10{ISD_P}")),
    );
    check(
        &CardCommand::disable_profile(a),
        &h(&format!("80E28800 15 3A0412 4F10{ISD_P}")),
    );
    // U-12 (project-defined): 3A05 / 3A06 { 4F <AID> }.
    check(
        &CardCommand::set_fall_back_attribute(a),
        &h(&format!("80E28800 15 3A0512 4F10{ISD_P}")),
    );
    check(
        &CardCommand::set_emergency_profile_attribute(a),
        &h(&format!("80E28800 15 3A0612 4F10{ISD_P}")),
    );
    // sgp02.md §8.14: 80 E2 89 00, 3A08 { 4E <seq> }, Le 00.
    check(
        &CardCommand::notification_confirmation(5),
        &h("80E28900 07 3A0804 4E020005 00"),
    );
    // 3A07 connectivity parameters (content opaque BER-TLV).
    check(
        &CardCommand::update_connectivity_parameters(h("A0058003010203")),
        &h("80E28800 0A 3A0707 A0058003010203"),
    );
    // A one-byte sequence number is accepted on input.
    assert_eq!(
        CardCommand::parse_bytes(&h("80E28900 06 3A0803 4E0107")).unwrap(),
        CardCommand::notification_confirmation(7)
    );
}

fn sample_certificate() -> Vec<u8> {
    // A structurally GP-Amendment-E-like 7F21 (contents are test bytes, not a real certificate).
    let mut inner = h("9301 01 4201 02 5F2001 03 9501 82 7F4905 B003 040102 5F3740");
    inner.extend(std::iter::repeat_n(0x5A, 0x40));
    let mut out = vec![0x7F, 0x21, 0x81, inner.len() as u8];
    out.extend(inner);
    out
}

fn sample_key_agreement(signature: bool) -> KeyAgreement {
    let mut crt = KeyAgreementCrt::scp03(
        0x01,
        0x30,
        KeyAgreementCrt::SCENARIO_INCLUDE_DR | KeyAgreementCrt::SCENARIO_CERTIFICATE_PRECEDES,
    );
    crt.host_id = None;
    let mut q = vec![0x04];
    q.extend(1..=64u8);
    KeyAgreement {
        crt,
        ephemeral_public_key: PublicKeyDo {
            q,
            key_parameter_reference: Some(0x00),
        },
        signature: signature.then(|| vec![0xAB; 64]),
    }
}

#[test]
fn key_establishment() {
    // Step 1: 80 E2 09 00 with 3A01 { 7F21 … } (DGI length: one byte up to FE).
    let cert = sample_certificate();
    let cmd = CardCommand::store_certificate(cert.clone());
    let mut expected = h("80E20900");
    let dgi_len = cert.len();
    expected.push((3 + dgi_len) as u8);
    expected.extend(h("3A01"));
    expected.push(dgi_len as u8);
    expected.extend(&cert);
    expected.push(0x00);
    check(&cmd, &expected);

    // Step 2: 80 E2 89 01 with 3A02 { A6 … } 7F49 { B0 …, F0 00 } 5F37 <sig>.
    let ka = sample_key_agreement(true);
    let crt = h("A61B 9002030A 950110 800188 810110 820101 830130 9100");
    let crt = {
        let mut c = crt;
        c[1] = (c.len() - 2) as u8;
        c
    };
    assert_eq!(ka.crt.encode().unwrap(), crt);
    let mut body = vec![0x3A, 0x02, crt.len() as u8];
    body.extend(&crt);
    let mut pk = h("7F4946 B041");
    pk.extend(&ka.ephemeral_public_key.q);
    pk.extend(h("F00100"));
    assert_eq!(ka.ephemeral_public_key.encode().unwrap(), pk);
    body.extend(&pk);
    body.extend(h("5F3740"));
    body.extend([0xAB; 64]);
    let mut expected = h("80E28901");
    expected.push(body.len() as u8);
    expected.extend(&body);
    expected.push(0x00);
    let cmd = CardCommand::store_key_agreement(ka.clone());
    check(&cmd, &expected);

    // C-18: signed data = 3A02 DGI ‖ 7F49 TLV ‖ 85 <len> RC, pinned byte for byte.
    let rc = [0x11u8; 16];
    let mut want = vec![0x3A, 0x02, crt.len() as u8];
    want.extend(&crt);
    want.extend(&pk);
    want.extend(h("8510"));
    want.extend(rc);
    assert_eq!(ka.signed_data(&rc).unwrap(), want);
    // The card computes the same bytes from the raw body it received.
    let raw = KeyAgreement::split_raw(&body).unwrap();
    assert_eq!(signed_data(raw.dgi, raw.public_key, &rc).unwrap(), want);
    assert_eq!(raw.crt, &crt[..]);
    assert_eq!(raw.signature, Some(&[0xAB; 64][..]));
    // Receipt input: A6 CRT ‖ 85 <DR>.
    let mut want = crt.clone();
    want.extend(h("8510"));
    want.extend([0x22; 16]);
    assert_eq!(receipt_input(raw.crt, Some(&[0x22; 16])).unwrap(), want);
    assert_eq!(receipt_input(raw.crt, None).unwrap(), crt);
}

#[test]
fn scp81_psk_key_agreement() {
    // njiwa CreateSCP81KeySet: key type PSK-TLS (85), initial counter 00 00 00 00 01, key access
    // 00, no signature; our encoder wraps the CRT in 3A02.
    let mut ka = sample_key_agreement(false);
    ka.crt = KeyAgreementCrt::scp81_psk(0x01, 0x40, KeyAgreementCrt::SCENARIO_INCLUDE_DR);
    let cmd = CardCommand::store_key_agreement(ka.clone());
    let bytes = cmd.to_bytes().unwrap();
    assert_eq!(bytes[..4], h("80E28901")[..]);
    assert_eq!(bytes[5..7], h("3A02")[..]);
    assert_eq!(CardCommand::parse_bytes(&bytes).unwrap(), cmd);
    let crt = ka.crt.encode().unwrap();
    assert_eq!(
        crt,
        h("A61D 9002 0302 95015C 960100 800185 810110 820101 830140 91050000000001")
    );
    // The njiwa form without the 3A02 DGI parses to the same value.
    let mut njiwa = crt.clone();
    njiwa.extend(ka.ephemeral_public_key.encode().unwrap());
    let mut apdu = CommandApdu::new(0x80, 0xE2, 0x89, 0x01).with_data(njiwa);
    assert_eq!(CardCommand::parse(&apdu).unwrap(), cmd);
    apdu.le = Some(256);
    assert_eq!(CardCommand::parse(&apdu).unwrap(), cmd);
}

#[test]
fn delete_and_status_and_data() {
    let a = aid(ISD_P);
    // sgp02.md §13: DELETE 80 E4 00 40, 4F <AID>.
    check(
        &CardCommand::delete_isd_p(a),
        &h(&format!("80E40040 12 4F10{ISD_P}")),
    );
    check(
        &CardCommand::Delete(Delete::IsdP {
            isd_p_aid: a,
            related_objects: false,
        }),
        &h(&format!("80E40000 12 4F10{ISD_P}")),
    );
    // FinaliseISDRhandover: 80 E4 00 00 { F2 03 <KVN> 01 03 }.
    check(
        &CardCommand::finalise_isdr_handover(0x42),
        &h("80E40000 05 F203420103"),
    );
    // GET STATUS 80 F2 40 02, 4F <AID> / 4F 00, Le 00.
    check(
        &CardCommand::get_isd_p_status(Some(a)),
        &h(&format!("80F24002 12 4F10{ISD_P} 00")),
    );
    check(
        &CardCommand::get_isd_p_status(None),
        &h("80F24002 02 4F00 00"),
    );
    let next = CardCommand::GetStatus(GetStatus {
        scope: StatusScope::Applications,
        aid: None,
        next_occurrence: true,
        tag_list: vec![0x4F, 0x9F, 0x70],
    });
    check(&next, &h("80F24003 07 4F00 5C034F9F70 00"));
    // GET DATA: ECASD certificate 80 CA BF 30 with 5C 02 7F 21; EID 00 5A; resources FF 21.
    check(
        &CardCommand::GetData(GetData::EcasdCertificate),
        &h("80CABF30 04 5C027F21 00"),
    );
    check(&CardCommand::GetData(GetData::Eid), &h("80CA005A 00"));
    check(
        &CardCommand::GetData(GetData::ExtendedCardResources),
        &h("80CAFF21 00"),
    );
    // GET DATA is accepted with an interindustry CLA too, and BF30 without a tag list.
    assert_eq!(
        CardCommand::parse_bytes(&h("00CABF30 00")).unwrap(),
        CardCommand::GetData(GetData::EcasdCertificate)
    );
    // SELECT by AID.
    check(
        &CardCommand::select(a),
        &h(&format!("00A40400 10{ISD_P} 00")),
    );
}

#[test]
fn channels_le_and_block_flags() {
    // Logical channel 1 (CLA 81) and a missing Le parse to the same command.
    let cmd = CardCommand::get_isd_p_status(None);
    assert_eq!(
        CardCommand::parse_bytes(&h("81F24002 02 4F00")).unwrap(),
        cmd
    );
    assert_eq!(
        CardCommand::parse_bytes(&h("C0F24002 02 4F00 00")).unwrap(),
        cmd
    );
    // A STORE DATA that is not the last block keeps its flags.
    let sd = CardCommand::StoreData(StoreData {
        block_number: 3,
        last_block: false,
        response_expected: false,
        content: StoreDataContent::EnableProfile {
            isd_p_aid: aid(ISD_P),
        },
    });
    assert_eq!(sd.to_apdu().unwrap().header(), [0x80, 0xE2, 0x08, 0x03]);
    assert_eq!(CardCommand::parse(&sd.to_apdu().unwrap()).unwrap(), sd);
}

fn err(bytes: &str) -> CommandError {
    CardCommand::parse_bytes(&h(bytes)).unwrap_err()
}

#[test]
fn malformed_commands_give_typed_errors_and_status_words() {
    let cases: Vec<(CommandError, StatusWord)> = vec![
        (err("80E28800 05 3A03"), StatusWord::WRONG_LENGTH),
        (err("80B00000 00"), StatusWord::INS_NOT_SUPPORTED),
        (
            err("84E28800 05 3A0302 4F00"),
            StatusWord::SECURE_MESSAGING_NOT_SUPPORTED,
        ),
        (
            err("90E28800 05 3A0302 4F00"),
            StatusWord::COMMAND_CHAINING_NOT_SUPPORTED,
        ),
        (err("00E40040 03 4F0100"), StatusWord::CLA_NOT_SUPPORTED),
        (err("80A40400 05 A000000559"), StatusWord::CLA_NOT_SUPPORTED),
        (err("FFA40400 05 A000000559"), StatusWord::CLA_NOT_SUPPORTED),
        (err("80E60400 03 000000"), StatusWord::INCORRECT_P1_P2),
        (err("80E2A800 05 3A0302 4F00"), StatusWord::INCORRECT_P1_P2),
        (err("80E29800 05 3A0302 4F00"), StatusWord::INCORRECT_P1_P2),
        (err("80E40140 03 4F0100"), StatusWord::INCORRECT_P1_P2),
        (err("80E40040 05 F203420103"), StatusWord::INCORRECT_P1_P2),
        (err("80F24000 02 4F00"), StatusWord::INCORRECT_P1_P2),
        (err("80F20102 02 4F00"), StatusWord::INCORRECT_P1_P2),
        (err("00A40401 05 A000000559"), StatusWord::INCORRECT_P1_P2),
        (err("80CA0066 00"), StatusWord::REFERENCED_DATA_NOT_FOUND),
        (
            err("80E28800 04 3A0901 00"),
            StatusWord::REFERENCED_DATA_NOT_FOUND,
        ),
        (err("80E28800 06 3A0303 4F0101"), StatusWord::INCORRECT_DATA),
        (err("80E28800 05 3A0302 5A00"), StatusWord::INCORRECT_DATA),
        (
            err("80E28800 07 3A0302 4F00 3A04"),
            StatusWord::INCORRECT_DATA,
        ),
        (
            err("80E28900 07 3A0804 4E03010203"),
            StatusWord::INCORRECT_DATA,
        ),
        (err("80E28800 04 3A0701 5F"), StatusWord::INCORRECT_DATA),
        (err("80E20900 05 3A0102 5A00"), StatusWord::INCORRECT_DATA),
        (err("80E28901 05 3A0202 A600"), StatusWord::INCORRECT_DATA),
        (err("80E40000 04 F2020102"), StatusWord::INCORRECT_DATA),
        (err("80E40040 02 5A00"), StatusWord::INCORRECT_DATA),
        (err("80E60C00 02 10A0"), StatusWord::INCORRECT_DATA),
        (err("80CABF30 04 5C025A00"), StatusWord::INCORRECT_DATA),
        (err("00A40400 02 A000"), StatusWord::INCORRECT_DATA),
        (err("80F24002 02 5C00"), StatusWord::INCORRECT_DATA),
    ];
    for (e, sw) in &cases {
        assert_eq!(e.status_word(), *sw, "{e}");
    }
    // A few exact variants.
    assert!(matches!(
        err("80E28800 04 3A0901 00"),
        CommandError::UnknownDgi(0x3A09)
    ));
    assert!(matches!(
        err("80E28800 06 3A0303 4F0101"),
        CommandError::Aid {
            command: "STORE DATA 3A03",
            ..
        }
    ));
    assert!(matches!(
        err("80E28800 07 3A0302 4F00 3A04"),
        CommandError::Tlv {
            source: TlvError::TrailingData { .. },
            ..
        }
    ));
    // Encoder errors: an LV over 255 bytes.
    let mut big = command::InstallForInstall::create_isd_p(aid(ELF), aid(MODULE), aid(ISD_P), None);
    big.token = vec![0; 256];
    assert!(matches!(
        CardCommand::InstallForInstall(big).to_apdu(),
        Err(CommandError::TooLong {
            field: "install token",
            len: 256
        })
    ));
    assert_eq!(Cla(0x80), Cla::GP);
    assert_eq!(DGI_KEY_AGREEMENT, 0x3A02);
}
