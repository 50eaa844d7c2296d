//! SCP80 round trips over every supported SPI combination, tampering, counter replay, minimum
//! security level, length errors and PoR checks.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use proptest::prelude::*;
use rsp_crypto::scp80::{
    ChecksumKind, CommandHeader, CommandParams, Counter, CounterMode, MAX_COUNTER, MinimumSecurity,
    PorRequest, PorTransport, ResponseStatus, Scp80Error, Scp80Keys, Spi, Tar, open_command,
    open_command_with, open_response, peek_command, peek_response_tar, secure_command,
    secure_response,
};

const TAR: Tar = Tar([0x00, 0x00, 0x01]);

fn keys(version: u8) -> Scp80Keys {
    Scp80Keys::new(version, &[0x11; 16], &[0x22; 16]).unwrap()
}

fn all_spis() -> Vec<Spi> {
    let mut out = Vec::new();
    for checksum in [ChecksumKind::None, ChecksumKind::Cryptographic] {
        for ciphering in [false, true] {
            for counter in [
                CounterMode::NoCounter,
                CounterMode::Available,
                CounterMode::MustBeHigher,
                CounterMode::MustBeOneHigher,
            ] {
                for por in [PorRequest::None, PorRequest::Always, PorRequest::OnError] {
                    for por_checksum in [ChecksumKind::None, ChecksumKind::Cryptographic] {
                        for por_ciphered in [false, true] {
                            for por_transport in [PorTransport::DeliverReport, PorTransport::Submit]
                            {
                                out.push(Spi {
                                    checksum,
                                    ciphering,
                                    counter,
                                    por,
                                    por_checksum,
                                    por_ciphered,
                                    por_transport,
                                });
                            }
                        }
                    }
                }
            }
        }
    }
    out
}

fn params(spi: Spi) -> CommandParams {
    CommandParams { spi, tar: TAR }
}

#[test]
fn every_spi_round_trips_commands_and_responses() {
    let k = keys(1);
    let spis = all_spis();
    assert_eq!(spis.len(), 2 * 2 * 4 * 3 * 2 * 2 * 2);
    for spi in spis {
        for len in [0usize, 1, 2, 9, 10, 25, 26, 100] {
            let data: Vec<u8> = (0..len).map(|i| i as u8 ^ 0x5A).collect();
            let p = params(spi);
            let counter = Counter::new(7).unwrap();
            let packet = secure_command(&k, &p, counter, &data).unwrap();
            if spi.ciphering {
                assert_eq!((packet.len() - 10) % 16, 0);
            }
            let (header, opened) =
                open_command_with(&k, &packet, Counter::new(6).unwrap(), MinimumSecurity::NONE)
                    .unwrap();
            assert_eq!(opened, data, "{spi:?} len {len}");
            assert_eq!(header.spi, spi);
            assert_eq!(header.tar, TAR);
            assert_eq!(header.counter, counter);

            let reply: Vec<u8> = data.iter().rev().copied().collect();
            let por = secure_response(&k, &header, ResponseStatus::PorOk, &reply).unwrap();
            assert_eq!(peek_response_tar(&por).unwrap(), TAR);
            let opened = open_response(&k, &p, counter, &por).unwrap();
            assert_eq!(opened.data, reply);
            assert_eq!(opened.status, ResponseStatus::PorOk);
            assert_eq!(opened.counter, counter);
        }
    }
}

fn flip_all_bits(packet: &[u8], mut check: impl FnMut(usize, &[u8])) {
    for i in 0..packet.len() * 8 {
        let mut t = packet.to_vec();
        t[i / 8] ^= 1 << (i % 8);
        check(i, &t);
    }
}

#[test]
fn every_flipped_bit_of_a_command_is_refused() {
    let k = keys(3);
    for ciphering in [false, true] {
        let spi = Spi {
            ciphering,
            ..Spi::SGP02_COMMAND
        };
        let packet =
            secure_command(&k, &params(spi), Counter::new(5).unwrap(), b"a script").unwrap();
        flip_all_bits(&packet, |i, t| {
            let r = open_command(&k, t, Counter::new(4).unwrap());
            assert!(
                r.is_err(),
                "bit {i} flipped was accepted (ciphering {ciphering})"
            );
            // past the plain header, a flip can only break the checksum
            if i >= 10 * 8 {
                assert_eq!(r.unwrap_err(), Scp80Error::BadChecksum, "bit {i}");
            }
        });
        assert!(open_command(&k, &packet, Counter::new(4).unwrap()).is_ok());
    }
}

#[test]
fn every_flipped_bit_of_a_por_is_refused() {
    let k = keys(3);
    for por_ciphered in [false, true] {
        let spi = Spi {
            por_ciphered,
            ..Spi::SGP02_COMMAND
        };
        let counter = Counter::new(9).unwrap();
        let packet = secure_command(&k, &params(spi), counter, b"x").unwrap();
        let (header, _) = open_command(&k, &packet, Counter::ZERO).unwrap();
        let por = secure_response(&k, &header, ResponseStatus::PorOk, b"\x01\x90\x00").unwrap();
        flip_all_bits(&por, |i, t| {
            assert!(
                open_response(&k, &params(spi), counter, t).is_err(),
                "bit {i} flipped was accepted"
            );
        });
    }
}

#[test]
fn wrong_keys_are_refused() {
    let k = keys(1);
    let other = Scp80Keys::new(1, &[0x11; 16], &[0x23; 16]).unwrap();
    let packet = secure_command(
        &k,
        &params(Spi::SGP02_COMMAND),
        Counter::new(1).unwrap(),
        b"d",
    )
    .unwrap();
    assert_eq!(
        open_command(&other, &packet, Counter::ZERO).unwrap_err(),
        Scp80Error::BadChecksum
    );
    // a key set of another version is named in KIc/KID
    assert_eq!(
        open_command(&keys(2), &packet, Counter::ZERO).unwrap_err(),
        Scp80Error::KeyVersionMismatch {
            which: "KIc",
            expected: 2,
            received: 1
        }
    );
}

#[test]
fn replayed_counters_are_refused() {
    let k = keys(1);
    let p = params(Spi::SGP02_COMMAND);
    let packet = secure_command(&k, &p, Counter::new(10).unwrap(), b"once").unwrap();
    let (header, _) = open_command(&k, &packet, Counter::new(9).unwrap()).unwrap();
    let stored = header.updated_counter(Counter::new(9).unwrap());
    assert_eq!(stored, Counter::new(10).unwrap());
    // the same packet again
    assert_eq!(
        open_command(&k, &packet, stored).unwrap_err(),
        Scp80Error::CounterReplay {
            received: 10,
            last: 10
        }
    );
    // an older one
    let older = secure_command(&k, &p, Counter::new(3).unwrap(), b"old").unwrap();
    assert_eq!(
        open_command(&k, &older, stored).unwrap_err(),
        Scp80Error::CounterReplay {
            received: 3,
            last: 10
        }
    );
    assert_eq!(
        open_command(&k, &older, stored).unwrap_err().por_status(),
        Some(ResponseStatus::CounterLow)
    );
}

#[test]
fn counter_must_be_one_higher() {
    let k = keys(1);
    let spi = Spi {
        counter: CounterMode::MustBeOneHigher,
        ..Spi::SGP02_COMMAND
    };
    let last = Counter::new(41).unwrap();
    for (c, expect) in [
        (42u64, Ok(())),
        (
            41,
            Err(Scp80Error::CounterReplay {
                received: 41,
                last: 41,
            }),
        ),
        (
            43,
            Err(Scp80Error::CounterTooHigh {
                received: 43,
                expected: 42,
            }),
        ),
    ] {
        let packet = secure_command(&k, &params(spi), Counter::new(c).unwrap(), b"").unwrap();
        assert_eq!(
            open_command(&k, &packet, last).map(|_| ()),
            expect,
            "counter {c}"
        );
    }
}

#[test]
fn no_counter_and_available_are_not_replay_checked() {
    let k = keys(1);
    for counter in [CounterMode::NoCounter, CounterMode::Available] {
        let spi = Spi {
            counter,
            ..Spi::SGP02_COMMAND
        };
        let packet = secure_command(&k, &params(spi), Counter::ZERO, b"n").unwrap();
        let (header, _) = open_command(&k, &packet, Counter::new(1000).unwrap()).unwrap();
        assert_eq!(header.counter, Counter::ZERO);
        assert_eq!(
            header.updated_counter(Counter::new(1000).unwrap()),
            Counter::new(1000).unwrap()
        );
    }
}

#[test]
fn blocked_counter() {
    let k = keys(1);
    let packet = secure_command(
        &k,
        &params(Spi::SGP02_COMMAND),
        Counter::new(MAX_COUNTER).unwrap(),
        b"",
    )
    .unwrap();
    assert_eq!(
        open_command(&k, &packet, Counter::new(MAX_COUNTER).unwrap()).unwrap_err(),
        Scp80Error::CounterBlocked
    );
    assert!(open_command(&k, &packet, Counter::new(MAX_COUNTER - 1).unwrap()).is_ok());
}

#[test]
fn minimum_security_level() {
    let k = keys(1);
    let plain = Spi {
        checksum: ChecksumKind::None,
        ciphering: false,
        ..Spi::SGP02_COMMAND
    };
    let packet = secure_command(&k, &params(plain), Counter::new(1).unwrap(), b"p").unwrap();
    let err = open_command(&k, &packet, Counter::ZERO).unwrap_err();
    assert!(matches!(err, Scp80Error::InsufficientSecurity(_)));
    assert_eq!(
        err.por_status(),
        Some(ResponseStatus::InsufficientSecurityLevel)
    );
    let notif =
        secure_command(&k, &params(Spi::DEFAULT_NOTIFICATION), Counter::ZERO, b"n").unwrap();
    assert!(open_command(&k, &notif, Counter::ZERO).is_ok());
    assert!(matches!(
        open_command_with(&k, &notif, Counter::ZERO, MinimumSecurity::FULL),
        Err(Scp80Error::InsufficientSecurity(_))
    ));
}

#[test]
fn rc_and_ds_are_unsupported() {
    let k = keys(1);
    for kind in [ChecksumKind::Redundancy, ChecksumKind::Signature] {
        let spi = Spi {
            checksum: kind,
            ..Spi::SGP02_COMMAND
        };
        assert_eq!(
            secure_command(&k, &params(spi), Counter::ZERO, b""),
            Err(Scp80Error::UnsupportedChecksum(kind))
        );
    }
    // a received packet asking for RC: SPI1 b2-b1 = 01
    let mut packet = secure_command(&k, &params(Spi::SGP02_COMMAND), Counter::ZERO, b"").unwrap();
    packet[3] = (packet[3] & !0b11) | 0b01;
    assert_eq!(
        open_command(&k, &packet, Counter::ZERO).unwrap_err(),
        Scp80Error::UnsupportedChecksum(ChecksumKind::Redundancy)
    );
}

#[test]
fn non_aes_key_identifiers_are_refused() {
    let k = keys(1);
    let mut packet = secure_command(
        &k,
        &params(Spi::SGP02_COMMAND),
        Counter::new(1).unwrap(),
        b"",
    )
    .unwrap();
    packet[5] = 0x15; // KIc: version 1, 3DES
    assert_eq!(
        open_command(&k, &packet, Counter::ZERO).unwrap_err(),
        Scp80Error::UnsupportedAlgorithm {
            which: "KIc",
            value: 0x15
        }
    );
}

#[test]
fn truncation_at_every_length_is_refused() {
    let k = keys(1);
    let spi = Spi::SGP02_COMMAND;
    let packet = secure_command(&k, &params(spi), Counter::new(1).unwrap(), b"0123456789").unwrap();
    for n in 0..packet.len() {
        assert!(
            open_command(&k, &packet[..n], Counter::ZERO).is_err(),
            "{n}"
        );
        assert!(peek_command(&packet[..n]).is_err(), "{n}");
    }
    let (header, _) = open_command(&k, &packet, Counter::ZERO).unwrap();
    let por = secure_response(&k, &header, ResponseStatus::PorOk, b"r").unwrap();
    for n in 0..por.len() {
        assert!(
            open_response(&k, &params(spi), Counter::new(1).unwrap(), &por[..n]).is_err(),
            "{n}"
        );
    }
    // a CPL rewritten to fit a shorter packet
    let mut short = packet[..packet.len() - 16].to_vec();
    let cpl = (short.len() - 2) as u16;
    short[..2].copy_from_slice(&cpl.to_be_bytes());
    assert_eq!(
        open_command(&k, &short, Counter::ZERO).unwrap_err(),
        Scp80Error::BadChecksum
    );
}

#[test]
fn por_must_match_the_command() {
    let k = keys(1);
    let p = params(Spi::SGP02_COMMAND);
    let counter = Counter::new(77).unwrap();
    let packet = secure_command(&k, &p, counter, b"cmd").unwrap();
    let (header, _) = open_command(&k, &packet, Counter::ZERO).unwrap();
    let por = secure_response(&k, &header, ResponseStatus::PorOk, b"").unwrap();
    assert_eq!(
        open_response(&k, &p, Counter::new(78).unwrap(), &por).unwrap_err(),
        Scp80Error::CounterMismatch {
            expected: 78,
            received: 77
        }
    );
    let other_tar = CommandParams {
        tar: Tar([9, 9, 9]),
        ..p
    };
    assert_eq!(
        open_response(&k, &other_tar, counter, &por).unwrap_err(),
        Scp80Error::UnknownTar(TAR)
    );
    // a PoR with an error status verifies and carries it
    let err_por = secure_response(&k, &header, ResponseStatus::CounterLow, b"").unwrap();
    assert_eq!(
        open_response(&k, &p, counter, &err_por).unwrap().status,
        ResponseStatus::CounterLow
    );
}

#[test]
fn unknown_status_codes_survive() {
    let k = keys(1);
    let header = CommandHeader {
        spi: Spi::SGP02_COMMAND,
        kic: k.kic(),
        kid: k.kid(),
        tar: TAR,
        counter: Counter::new(1).unwrap(),
        padding: 0,
    };
    let por = secure_response(&k, &header, ResponseStatus::Other(0x42), b"").unwrap();
    let opened = open_response(&k, &params(Spi::SGP02_COMMAND), header.counter, &por).unwrap();
    assert_eq!(opened.status, ResponseStatus::Other(0x42));
    assert_eq!(opened.status.code(), 0x42);
}

#[test]
fn aes_256_keys_work() {
    let k = Scp80Keys::new(15, &[0xA5; 32], &[0x5A; 32]).unwrap();
    assert_eq!(k.kic().0, 0xF2);
    let packet = secure_command(
        &k,
        &params(Spi::SGP02_COMMAND),
        Counter::new(2).unwrap(),
        b"256",
    )
    .unwrap();
    assert_eq!(open_command(&k, &packet, Counter::ZERO).unwrap().1, b"256");
    assert_eq!(
        Scp80Keys::new(16, &[0; 16], &[0; 16]).unwrap_err(),
        Scp80Error::InvalidKeyVersion(16)
    );
}

proptest! {
    #[test]
    fn random_data_round_trips(data in proptest::collection::vec(any::<u8>(), 0..600),
                               c in 1u64..MAX_COUNTER) {
        let k = keys(4);
        let p = params(Spi::SGP02_COMMAND);
        let counter = Counter::new(c).unwrap();
        let packet = secure_command(&k, &p, counter, &data).unwrap();
        let (header, opened) = open_command(&k, &packet, Counter::new(c - 1).unwrap()).unwrap();
        prop_assert_eq!(&opened, &data);
        let por = secure_response(&k, &header, ResponseStatus::PorOk, &data).unwrap();
        prop_assert_eq!(open_response(&k, &p, counter, &por).unwrap().data, data);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let k = keys(1);
        let _ = open_command_with(&k, &bytes, Counter::ZERO, MinimumSecurity::NONE);
        let _ = open_response(&k, &params(Spi::SGP02_COMMAND), Counter::ZERO, &bytes);
        let _ = peek_command(&bytes);
    }
}
