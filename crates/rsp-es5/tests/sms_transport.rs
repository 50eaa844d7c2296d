//! ES5 over SMS end to end through the in-process SMSC: concatenation, PoRs, tampering, replay,
//! the HTTPS trigger and the Default Notification.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use rsp_crypto::scp80::{
    ChecksumKind, CommandParams, Counter, CounterMode, MinimumSecurity, PorRequest, PorTransport,
    ResponseStatus, Scp80Error, Scp80Keys, Spi, Tar,
};
use rsp_es5::sms::{
    CardSms, HttpsTrigger, InProcessSmsc, PacketKind, SecuredData, ShortMessage, SmKind, SmSrSms,
    SmsAddress, SmsError, Smsc, open_default_notification, open_por, open_received_command,
};

const ISD_R_TAR: Tar = Tar([0x00, 0x00, 0x01]);

fn sm_sr_address() -> SmsAddress {
    SmsAddress::new("4455").unwrap()
}

fn card_msisdn() -> SmsAddress {
    SmsAddress::new("+447700900123").unwrap()
}

/// The ISD-R SCP80 key set, as both the SM-SR (from the EIS) and the card hold it.
fn isd_r_keys() -> Scp80Keys {
    Scp80Keys::new(
        1,
        &[
            0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4A, 0x4B, 0x4C, 0x4D,
            0x4E, 0x4F,
        ],
        &[
            0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5A, 0x5B, 0x5C, 0x5D,
            0x5E, 0x5F,
        ],
    )
    .unwrap()
}

fn params() -> CommandParams {
    CommandParams {
        spi: Spi::SGP02_COMMAND,
        tar: ISD_R_TAR,
    }
}

struct World {
    smsc: InProcessSmsc,
    sm_sr: SmSrSms<InProcessSmsc>,
    card: CardSms<InProcessSmsc>,
}

fn world() -> World {
    let smsc = InProcessSmsc::new();
    World {
        sm_sr: SmSrSms::new(smsc.clone(), sm_sr_address()),
        card: CardSms::new(smsc.clone(), card_msisdn(), sm_sr_address()),
        smsc,
    }
}

/// A command script larger than one SMS: 12 STORE DATA-like APDUs of 60 bytes (opaque here).
fn big_script() -> Vec<u8> {
    let mut s = Vec::new();
    for i in 0..12u8 {
        s.extend_from_slice(&[0x80, 0xE2, 0x88, i, 55]);
        s.extend((0..55).map(|j| j ^ i));
    }
    s
}

#[test]
fn concatenated_command_and_por_round_trip() {
    let w = world();
    let keys = isd_r_keys();
    let script = big_script();
    let counter = Counter::new(12).unwrap();
    let sent = w
        .sm_sr
        .send_command_packet(&card_msisdn(), &keys, &params(), counter, &script)
        .unwrap();
    assert!(
        sent.message_ids.len() > 1,
        "the script must need several SMS"
    );
    assert_eq!(
        w.smsc.pending(&card_msisdn()).unwrap(),
        sent.message_ids.len()
    );
    assert!(sent.expects_por());

    // the card reassembles, verifies and runs
    let inbound = w.card.receive().unwrap().unwrap();
    assert_eq!(inbound.kind, PacketKind::Command);
    assert_eq!(inbound.from, sm_sr_address());
    assert_eq!(inbound.transport, SmKind::MobileTerminated);
    assert_eq!(w.card.receive().unwrap(), None);
    let last = Counter::new(11).unwrap();
    let (header, data) =
        open_received_command(&keys, &[ISD_R_TAR], &inbound, last, MinimumSecurity::FULL).unwrap();
    assert_eq!(data, script);
    assert_eq!(header.counter, counter);
    assert_eq!(header.updated_counter(last), counter);
    assert_eq!(
        SecuredData::classify(data).unwrap(),
        SecuredData::Script(script)
    );

    // a PoR with a response longer than one SMS, by SMS-SUBMIT (SPI2 0x39)
    let response: Vec<u8> = (0..200u8).collect();
    let ids = w
        .card
        .send_por(&keys, &header, ResponseStatus::PorOk, &response)
        .unwrap();
    assert_eq!(ids.len(), 2);
    let por = w.sm_sr.receive().unwrap().unwrap();
    assert_eq!(por.kind, PacketKind::Response);
    assert_eq!(por.from, card_msisdn());
    assert_eq!(por.transport, SmKind::MobileOriginated);
    assert_eq!(por.tar().unwrap(), ISD_R_TAR);
    let opened = open_por(&keys, &sent, &por).unwrap();
    assert_eq!(opened.status, ResponseStatus::PorOk);
    assert_eq!(opened.counter, counter);
    assert_eq!(opened.data, response);
}

#[test]
fn segments_arriving_out_of_order_are_reassembled() {
    let w = world();
    let keys = isd_r_keys();
    let script = big_script();
    w.sm_sr
        .send_command_packet(
            &card_msisdn(),
            &keys,
            &params(),
            Counter::new(1).unwrap(),
            &script,
        )
        .unwrap();
    let mut parts = w.smsc.take_all(&card_msisdn()).unwrap();
    assert!(parts.len() >= 3);
    parts.reverse();
    parts.swap(0, 1);
    for p in parts {
        // every segment is a class 2 SIM data download message with a UDH
        assert_eq!((p.protocol_id, p.data_coding, p.udhi), (0x7F, 0xF6, true));
        assert!(p.user_data.len() <= 140);
        w.smsc.submit(p).unwrap();
    }
    let inbound = w.card.receive().unwrap().unwrap();
    let (_, data) = open_received_command(
        &keys,
        &[ISD_R_TAR],
        &inbound,
        Counter::ZERO,
        MinimumSecurity::FULL,
    )
    .unwrap();
    assert_eq!(data, script);
}

#[test]
fn single_sms_framing_has_the_command_packet_identifier() {
    let w = world();
    let keys = isd_r_keys();
    w.sm_sr
        .send_command_packet(
            &card_msisdn(),
            &keys,
            &params(),
            Counter::new(1).unwrap(),
            b"\x80\xE2\x89\x00\x03\x3A\x08\x00",
        )
        .unwrap();
    let parts = w.smsc.take_all(&card_msisdn()).unwrap();
    assert_eq!(parts.len(), 1);
    let ud = &parts[0].user_data;
    assert_eq!(&ud[..3], &[0x02, 0x70, 0x00]);
    // CPL covers the rest of the user data
    assert_eq!(
        usize::from(u16::from_be_bytes([ud[3], ud[4]])),
        ud.len() - 5
    );
    assert_eq!(parts[0].originator, sm_sr_address());
    assert_eq!(parts[0].kind, SmKind::MobileTerminated);
}

#[test]
fn tampered_checksum_is_refused() {
    let w = world();
    let keys = isd_r_keys();
    let script = big_script();
    w.sm_sr
        .send_command_packet(
            &card_msisdn(),
            &keys,
            &params(),
            Counter::new(2).unwrap(),
            &script,
        )
        .unwrap();
    let parts = w.smsc.take_all(&card_msisdn()).unwrap();
    // flip one bit in every position of the first segment's packet bytes that is ciphered
    // (after UDH 8 bytes + plain header 10 bytes), and one in the last segment
    for (seg, offset) in [
        (0usize, 8 + 10),
        (0, 8 + 10 + 6),
        (0, 60),
        (parts.len() - 1, 20),
    ] {
        for p in &parts {
            w.smsc.submit(p.clone()).unwrap();
        }
        let mut all = w.smsc.take_all(&card_msisdn()).unwrap();
        all[seg].user_data[offset] ^= 0x01;
        for p in all {
            w.smsc.submit(p).unwrap();
        }
        let inbound = w.card.receive().unwrap().unwrap();
        let err = open_received_command(
            &keys,
            &[ISD_R_TAR],
            &inbound,
            Counter::ZERO,
            MinimumSecurity::FULL,
        )
        .unwrap_err();
        assert_eq!(
            err,
            SmsError::Scp80(Scp80Error::BadChecksum),
            "{seg}/{offset}"
        );
    }
    // a PoR whose checksum was changed is refused by the SM-SR
    for p in parts {
        w.smsc.submit(p).unwrap();
    }
    let inbound = w.card.receive().unwrap().unwrap();
    let (header, _) = open_received_command(
        &keys,
        &[ISD_R_TAR],
        &inbound,
        Counter::ZERO,
        MinimumSecurity::FULL,
    )
    .unwrap();
    let sent = rsp_es5::sms::SentCommand {
        to: card_msisdn(),
        params: params(),
        counter: Counter::new(2).unwrap(),
        message_ids: Vec::new(),
    };
    w.card
        .send_por(&keys, &header, ResponseStatus::PorOk, b"\x01\x90\x00")
        .unwrap();
    let mut por = w.smsc.take_all(&sm_sr_address()).unwrap();
    let last = por[0].user_data.len() - 1;
    por[0].user_data[last] ^= 0x80;
    w.smsc.submit(por.remove(0)).unwrap();
    let inbound = w.sm_sr.receive().unwrap().unwrap();
    assert_eq!(
        open_por(&keys, &sent, &inbound).unwrap_err(),
        SmsError::Scp80(Scp80Error::BadChecksum)
    );
}

#[test]
fn replayed_counter_is_refused() {
    let w = world();
    let keys = isd_r_keys();
    w.sm_sr
        .send_command_packet(
            &card_msisdn(),
            &keys,
            &params(),
            Counter::new(5).unwrap(),
            b"enable",
        )
        .unwrap();
    let captured = w.smsc.take_all(&card_msisdn()).unwrap();
    for p in &captured {
        w.smsc.submit(p.clone()).unwrap();
    }
    let mut card_counter = Counter::new(4).unwrap();
    let inbound = w.card.receive().unwrap().unwrap();
    let (header, _) = open_received_command(
        &keys,
        &[ISD_R_TAR],
        &inbound,
        card_counter,
        MinimumSecurity::FULL,
    )
    .unwrap();
    card_counter = header.updated_counter(card_counter);
    assert_eq!(card_counter, Counter::new(5).unwrap());

    // an attacker replays the captured messages
    for p in captured {
        w.smsc.submit(p).unwrap();
    }
    let inbound = w.card.receive().unwrap().unwrap();
    let err = open_received_command(
        &keys,
        &[ISD_R_TAR],
        &inbound,
        card_counter,
        MinimumSecurity::FULL,
    )
    .unwrap_err();
    assert_eq!(
        err,
        SmsError::Scp80(Scp80Error::CounterReplay {
            received: 5,
            last: 5
        })
    );
}

#[test]
fn por_is_checked_against_the_command() {
    let w = world();
    let keys = isd_r_keys();
    let sent = w
        .sm_sr
        .send_command_packet(
            &card_msisdn(),
            &keys,
            &params(),
            Counter::new(8).unwrap(),
            b"x",
        )
        .unwrap();
    let inbound = w.card.receive().unwrap().unwrap();
    let (header, _) = open_received_command(
        &keys,
        &[ISD_R_TAR],
        &inbound,
        Counter::ZERO,
        MinimumSecurity::FULL,
    )
    .unwrap();
    w.card
        .send_por(&keys, &header, ResponseStatus::PorOk, b"\x01\x90\x00")
        .unwrap();
    let por = w.sm_sr.receive().unwrap().unwrap();
    assert!(open_por(&keys, &sent, &por).is_ok());

    // the same PoR for another outstanding command (other counter) is refused
    let other = rsp_es5::sms::SentCommand {
        counter: Counter::new(9).unwrap(),
        ..sent.clone()
    };
    assert_eq!(
        open_por(&keys, &other, &por).unwrap_err(),
        SmsError::Scp80(Scp80Error::CounterMismatch {
            expected: 9,
            received: 8
        })
    );
    // from another card
    let elsewhere = rsp_es5::sms::SentCommand {
        to: SmsAddress::new("+447700900999").unwrap(),
        ..sent.clone()
    };
    assert!(matches!(
        open_por(&keys, &elsewhere, &por),
        Err(SmsError::UnexpectedSender { .. })
    ));
    // a command packet is not a PoR
    let mut as_command = por.clone();
    as_command.kind = PacketKind::Command;
    assert!(matches!(
        open_por(&keys, &sent, &as_command),
        Err(SmsError::UnexpectedPacket { .. })
    ));
}

#[test]
fn por_transport_and_request_follow_spi2() {
    let w = world();
    let keys = isd_r_keys();
    let cases = [
        (
            PorRequest::Always,
            PorTransport::DeliverReport,
            ResponseStatus::PorOk,
            Some(SmKind::DeliverReport),
        ),
        (
            PorRequest::OnError,
            PorTransport::Submit,
            ResponseStatus::PorOk,
            None,
        ),
        (
            PorRequest::OnError,
            PorTransport::Submit,
            ResponseStatus::CounterLow,
            Some(SmKind::MobileOriginated),
        ),
        (
            PorRequest::None,
            PorTransport::Submit,
            ResponseStatus::CounterLow,
            None,
        ),
    ];
    for (i, (por, transport, status, expect)) in cases.into_iter().enumerate() {
        let p = CommandParams {
            spi: Spi {
                por,
                por_transport: transport,
                ..Spi::SGP02_COMMAND
            },
            tar: ISD_R_TAR,
        };
        let counter = Counter::new(i as u64 + 1).unwrap();
        let sent = w
            .sm_sr
            .send_command_packet(&card_msisdn(), &keys, &p, counter, b"cmd")
            .unwrap();
        let inbound = w.card.receive().unwrap().unwrap();
        let (header, _) = open_received_command(
            &keys,
            &[ISD_R_TAR],
            &inbound,
            Counter::ZERO,
            MinimumSecurity::FULL,
        )
        .unwrap();
        let ids = w.card.send_por(&keys, &header, status, b"").unwrap();
        let got = w.sm_sr.receive().unwrap();
        match expect {
            None => {
                assert!(ids.is_empty());
                assert_eq!(got, None);
            }
            Some(kind) => {
                let got = got.unwrap();
                assert_eq!(got.transport, kind);
                assert_eq!(open_por(&keys, &sent, &got).unwrap().status, status);
            }
        }
    }
}

#[test]
fn https_trigger_reaches_the_isd_r() {
    let w = world();
    let keys = isd_r_keys();
    let trigger = HttpsTrigger {
        admin_uri: Some("/es5/ram".into()),
        agent_id: Some("//se-id/eid/89049032123451234512345678901235".into()),
        ..HttpsTrigger::default()
    };
    w.sm_sr
        .send_https_trigger(
            &card_msisdn(),
            &keys,
            &params(),
            Counter::new(3).unwrap(),
            &trigger,
        )
        .unwrap();
    let inbound = w.card.receive().unwrap().unwrap();
    let (_, data) = open_received_command(
        &keys,
        &[ISD_R_TAR],
        &inbound,
        Counter::ZERO,
        MinimumSecurity::FULL,
    )
    .unwrap();
    assert_eq!(
        SecuredData::classify(data).unwrap(),
        SecuredData::HttpsTrigger(trigger)
    );
}

fn notification_e1() -> Vec<u8> {
    // E1 { 4C EID(16), 4D type 02 (profile change succeeded), 4E sequence 0007, 4F ISD-P AID(16) }
    let mut inner = vec![0x4C, 0x10];
    inner.extend_from_slice(&[
        0x89, 0x04, 0x90, 0x32, 0x12, 0x34, 0x51, 0x23, 0x45, 0x12, 0x34, 0x56, 0x78, 0x90, 0x12,
        0x35,
    ]);
    inner.extend_from_slice(&[0x4D, 0x01, 0x02, 0x4E, 0x02, 0x00, 0x07, 0x4F, 0x10]);
    inner.extend_from_slice(&[
        0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0x89, 0x00, 0x00, 0x10,
        0x00,
    ]);
    let mut out = vec![0xE1, inner.len() as u8];
    out.extend(inner);
    out
}

#[test]
fn default_notification_mo_is_accepted_with_counter_zero() {
    let w = world();
    let keys = isd_r_keys();
    let e1 = notification_e1();
    w.card
        .send_default_notification(&keys, ISD_R_TAR, &e1)
        .unwrap();
    let mo = w.smsc.take_all(&sm_sr_address()).unwrap();
    assert_eq!(mo.len(), 1);
    assert_eq!(mo[0].kind, SmKind::MobileOriginated);
    assert_eq!(mo[0].originator, card_msisdn());
    assert_eq!(&mo[0].user_data[..3], &[0x02, 0x70, 0x00]);
    // SPI "no counter available", CC, ciphering; no PoR
    assert_eq!(&mo[0].user_data[6..8], &[0x06, 0x00]);
    // the SM-SR receives it twice (a retry by the card): both accepted, no replay check
    for _ in 0..2 {
        w.smsc.submit(mo[0].clone()).unwrap();
        let inbound = w.sm_sr.receive().unwrap().unwrap();
        assert_eq!(inbound.kind, PacketKind::Command);
        assert_eq!(inbound.from, card_msisdn());
        assert_eq!(inbound.tar().unwrap(), ISD_R_TAR);
        let (header, data) = open_default_notification(&keys, &inbound).unwrap();
        assert_eq!(header.counter, Counter::ZERO);
        assert_eq!(header.spi.counter, CounterMode::NoCounter);
        assert_eq!(header.spi.checksum, ChecksumKind::Cryptographic);
        assert!(header.spi.ciphering);
        assert_eq!(data, e1);
    }
    // a forged notification (other keys) is refused
    let forger = Scp80Keys::new(1, &[0u8; 16], &[0u8; 16]).unwrap();
    w.card
        .send_default_notification(&forger, ISD_R_TAR, &e1)
        .unwrap();
    let inbound = w.sm_sr.receive().unwrap().unwrap();
    assert_eq!(
        open_default_notification(&keys, &inbound).unwrap_err(),
        SmsError::Scp80(Scp80Error::BadChecksum)
    );
}

#[test]
fn unknown_tar_and_insufficient_security_are_refused_by_the_card() {
    let w = world();
    let keys = isd_r_keys();
    let other = CommandParams {
        tar: Tar([0xB0, 0x00, 0x00]),
        ..params()
    };
    w.sm_sr
        .send_command_packet(
            &card_msisdn(),
            &keys,
            &other,
            Counter::new(1).unwrap(),
            b"x",
        )
        .unwrap();
    let inbound = w.card.receive().unwrap().unwrap();
    assert_eq!(
        open_received_command(
            &keys,
            &[ISD_R_TAR],
            &inbound,
            Counter::ZERO,
            MinimumSecurity::FULL
        )
        .unwrap_err(),
        SmsError::UnknownTar(Tar([0xB0, 0x00, 0x00]))
    );
    let weak = CommandParams {
        spi: Spi {
            counter: CounterMode::NoCounter,
            ..Spi::SGP02_COMMAND
        },
        tar: ISD_R_TAR,
    };
    w.sm_sr
        .send_command_packet(&card_msisdn(), &keys, &weak, Counter::new(1).unwrap(), b"x")
        .unwrap();
    let inbound = w.card.receive().unwrap().unwrap();
    assert!(matches!(
        open_received_command(
            &keys,
            &[ISD_R_TAR],
            &inbound,
            Counter::ZERO,
            MinimumSecurity::FULL
        ),
        Err(SmsError::Scp80(Scp80Error::InsufficientSecurity(_)))
    ));
}

#[test]
fn plain_text_sms_is_not_a_secured_packet() {
    let w = world();
    w.smsc
        .submit(ShortMessage {
            originator: card_msisdn(),
            destination: sm_sr_address(),
            kind: SmKind::MobileOriginated,
            protocol_id: 0,
            data_coding: 0,
            udhi: false,
            user_data: b"hello".to_vec(),
        })
        .unwrap();
    assert_eq!(
        w.sm_sr.receive().unwrap_err(),
        SmsError::NotSecuredPacket(card_msisdn())
    );
    // consumed: nothing left
    assert_eq!(w.sm_sr.receive().unwrap(), None);
}
