//! SCP03 host/card behaviour: round trips at every security level, refusal of tampered, replayed
//! and malformed traffic, and session state after failures.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use rsp_crypto::scp03::*;

const AID: &[u8] = &[0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0x01];

fn static_keys() -> StaticKeys {
    StaticKeys::new(0x30, &[0x11; 16], &[0x22; 16], &[0x33; 16]).unwrap()
}

fn pair(level: SecurityLevel) -> (Scp03Session, Scp03Session) {
    let host = HostHandshake::new(static_keys(), [0x48; 8]);
    let card =
        CardHandshake::new(static_keys(), IParameter::PSEUDO_RANDOM_RMAC_RENC, [0; 10]).unwrap();
    let (card, resp) = card
        .on_initialize_update(
            &host.initialize_update_apdu(),
            CardChallenge::PseudoRandom {
                last_sequence_counter: 5,
                aid: AID,
            },
        )
        .unwrap();
    assert_eq!(card.sequence_counter(), Some(6));
    let host = host.on_initialize_update_response(&resp).unwrap();
    assert_eq!(host.sequence_counter(), Some(6));
    let (host, ext) = host.external_authenticate(level).unwrap();
    let card = card.on_external_authenticate(&ext).unwrap();
    (host, card)
}

const LEVELS: [SecurityLevel; 5] = [
    SecurityLevel::C_MAC,
    SecurityLevel::C_DEC_C_MAC,
    SecurityLevel::C_MAC_R_MAC,
    SecurityLevel::C_DEC_C_MAC_R_MAC,
    SecurityLevel::C_DEC_C_MAC_R_ENC_R_MAC,
];

fn apdus() -> Vec<Vec<u8>> {
    let mut v = vec![
        vec![0x80, 0xF2, 0x20, 0x02],
        vec![0x80, 0xCA, 0x00, 0x66, 0x00],
    ];
    for len in [1usize, 15, 16, 17, 100, 200, 231] {
        let mut a = vec![0x80, 0xE2, 0x91, 0x00, len as u8];
        a.extend((0..len).map(|i| i as u8));
        v.push(a.clone());
        a.push(0x00);
        v.push(a);
    }
    v.push(vec![0x81, 0xE2, 0x00, 0x00, 0x01, 0xAA]); // logical channel 1
    v
}

#[test]
fn round_trip_all_levels() {
    for level in LEVELS {
        let (mut host, mut card) = pair(level);
        for (n, apdu) in apdus().iter().enumerate() {
            let wrapped = host.wrap_command(apdu).unwrap();
            assert_eq!(wrapped[0], apdu[0] | 0x04);
            if level.c_dec() && apdu.len() > 6 {
                assert!(
                    !wrapped.windows(3).any(|w| w == [3, 4, 5]),
                    "data must be encrypted"
                );
            }
            assert_eq!(
                &card.unwrap_command(&wrapped).unwrap(),
                apdu,
                "level {level:?} apdu {n}"
            );
            assert_eq!(host.encryption_counter(), card.encryption_counter());
            assert_eq!(host.mac_chaining_value(), card.mac_chaining_value());
            let data: Vec<u8> = (0..(n * 13 % 200)).map(|i| (i * 7) as u8).collect();
            let sw = if n % 3 == 0 { 0x6310 } else { 0x9000 };
            let rsp = card.wrap_response(&data, sw).unwrap();
            let back = host.unwrap_response(&rsp).unwrap();
            assert_eq!(back, ResponseApdu { data, sw });
        }
    }
}

#[test]
fn error_status_has_no_rmac() {
    let (mut host, mut card) = pair(SecurityLevel::C_DEC_C_MAC_R_ENC_R_MAC);
    let wrapped = host.wrap_command(&[0x80, 0xCA, 0x00, 0x66, 0x00]).unwrap();
    card.unwrap_command(&wrapped).unwrap();
    assert_eq!(
        card.wrap_response(b"ignored", 0x6A82).unwrap(),
        [0x6A, 0x82]
    );
    assert_eq!(
        host.unwrap_response(&[0x6A, 0x82]).unwrap(),
        ResponseApdu {
            data: vec![],
            sw: 0x6A82
        }
    );
    // Data with an error status cannot be authenticated.
    assert_eq!(
        host.unwrap_response(&[1, 2, 0x6A, 0x82]),
        Err(Scp03Error::UnprotectedResponseData(0x6A82))
    );
    assert!(!host.is_open());
}

#[test]
fn every_tampered_byte_is_refused_and_closes_the_card_session() {
    let apdu = [
        0x80, 0xE2, 0x91, 0x00, 0x06, 0xBF, 0x3E, 0x03, 0x5C, 0x01, 0x5A, 0x00,
    ];
    for level in LEVELS {
        let (mut host, _) = pair(level);
        let wrapped = host.wrap_command(&apdu).unwrap();
        for i in 0..wrapped.len() - 1 {
            // (the last byte is Le, which the C-MAC does not cover; the logical channel bits of CLA
            // are cleared for the C-MAC computation, GP Amendment D §6.2.4, so flip others there)
            let bits: &[u8] = if i == 0 {
                &[0x04, 0x08, 0x80]
            } else {
                &[0x01, 0x80]
            };
            for &bit in bits {
                let (_, mut card) = pair(level);
                let mut bad = wrapped.clone();
                bad[i] ^= bit;
                assert!(
                    card.unwrap_command(&bad).is_err(),
                    "level {level:?} byte {i}"
                );
                assert!(!card.is_open());
                assert_eq!(
                    card.unwrap_command(&wrapped),
                    Err(Scp03Error::SessionClosed)
                );
            }
        }
    }
}

#[test]
fn replay_and_reorder_are_refused() {
    let (mut host, mut card) = pair(SecurityLevel::C_DEC_C_MAC);
    let a = host
        .wrap_command(&[0x80, 0xE2, 0x00, 0x00, 0x01, 0x01])
        .unwrap();
    let b = host
        .wrap_command(&[0x80, 0xE2, 0x00, 0x01, 0x01, 0x02])
        .unwrap();
    card.unwrap_command(&a).unwrap();
    assert_eq!(card.unwrap_command(&a), Err(Scp03Error::MacMismatch));
    let (_, mut card) = pair(SecurityLevel::C_DEC_C_MAC);
    assert_eq!(card.unwrap_command(&b), Err(Scp03Error::MacMismatch));
}

#[test]
fn tampered_rmac_is_refused() {
    let (mut host, mut card) = pair(SecurityLevel::C_DEC_C_MAC_R_ENC_R_MAC);
    let w = host.wrap_command(&[0x80, 0xCA, 0x00, 0x66, 0x00]).unwrap();
    card.unwrap_command(&w).unwrap();
    let mut rsp = card.wrap_response(b"hello", 0x9000).unwrap();
    rsp[2] ^= 0x10;
    assert_eq!(host.unwrap_response(&rsp), Err(Scp03Error::MacMismatch));
    assert_eq!(
        host.wrap_command(&[0x80, 0xF2, 0, 0]),
        Err(Scp03Error::SessionClosed)
    );
    assert_eq!(
        host.unwrap_response(&[0x90]),
        Err(Scp03Error::SessionClosed)
    );
}

#[test]
fn handshake_failures() {
    // Tampered card cryptogram.
    let host = HostHandshake::new(static_keys(), [1; 8]);
    let card = CardHandshake::new(static_keys(), IParameter::RANDOM_RMAC_RENC, [0; 10]).unwrap();
    let (card, mut resp) = card
        .on_initialize_update(
            &host.initialize_update_apdu(),
            CardChallenge::Random([9; 8]),
        )
        .unwrap();
    assert_eq!(resp.len(), 29);
    resp[25] ^= 1;
    assert_eq!(
        HostHandshake::new(static_keys(), [1; 8])
            .on_initialize_update_response(&resp)
            .unwrap_err(),
        Scp03Error::CardCryptogramMismatch
    );
    // Tampered host cryptogram (MAC recomputed by nobody) is refused by the card.
    resp[25] ^= 1;
    let (_, mut ext) = host
        .on_initialize_update_response(&resp)
        .unwrap()
        .external_authenticate(SecurityLevel::C_MAC)
        .unwrap();
    ext[6] ^= 1;
    assert_eq!(
        card.on_external_authenticate(&ext).unwrap_err(),
        Scp03Error::MacMismatch
    );

    // Wrong Key-MAC on the host (Key-ENC does not enter the cryptograms).
    let other = StaticKeys::new(0x30, &[0x11; 16], &[0x23; 16], &[0x33; 16]).unwrap();
    let card = CardHandshake::new(static_keys(), IParameter::RANDOM_RMAC_RENC, [0; 10]).unwrap();
    let host = HostHandshake::new(other, [1; 8]);
    let (_, resp) = card
        .on_initialize_update(
            &host.initialize_update_apdu(),
            CardChallenge::Random([9; 8]),
        )
        .unwrap();
    assert_eq!(
        host.on_initialize_update_response(&resp).unwrap_err(),
        Scp03Error::CardCryptogramMismatch
    );

    // KVN mismatch, wrong INS, challenge mode mismatch, counter exhaustion.
    let card =
        || CardHandshake::new(static_keys(), IParameter::PSEUDO_RANDOM_RMAC_RENC, [0; 10]).unwrap();
    let pr = CardChallenge::PseudoRandom {
        last_sequence_counter: 0,
        aid: AID,
    };
    let mut iu = HostHandshake::new(static_keys(), [1; 8]).initialize_update_apdu();
    iu[2] = 0x31;
    assert!(matches!(
        card().on_initialize_update(&iu, pr),
        Err(Scp03Error::KeyVersionMismatch { .. })
    ));
    iu[2] = 0x00; // KVN 00 selects the key set in use
    assert!(card().on_initialize_update(&iu, pr).is_ok());
    iu[1] = 0x51;
    assert!(matches!(
        card().on_initialize_update(&iu, pr),
        Err(Scp03Error::UnexpectedInstruction { .. })
    ));
    iu[1] = 0x50;
    assert_eq!(
        card()
            .on_initialize_update(&iu, CardChallenge::Random([0; 8]))
            .unwrap_err(),
        Scp03Error::ChallengeModeMismatch(0x70)
    );
    assert_eq!(
        card()
            .on_initialize_update(
                &iu,
                CardChallenge::PseudoRandom {
                    last_sequence_counter: MAX_SEQUENCE_COUNTER,
                    aid: AID
                }
            )
            .unwrap_err(),
        Scp03Error::CounterExhausted
    );
    assert_eq!(Scp03Error::CounterExhausted.status_word(), 0x6985);

    // Level needing R-MAC with an i parameter that lacks it.
    let card = CardHandshake::new(static_keys(), IParameter(0x10), [0; 10]).unwrap();
    let host = HostHandshake::new(static_keys(), [1; 8]);
    let (card, resp) = card
        .on_initialize_update(
            &host.initialize_update_apdu(),
            CardChallenge::PseudoRandom {
                last_sequence_counter: 0,
                aid: AID,
            },
        )
        .unwrap();
    let auth = host.on_initialize_update_response(&resp).unwrap();
    assert!(matches!(
        auth.external_authenticate(SecurityLevel::C_MAC_R_MAC),
        Err(Scp03Error::SecurityLevelNotAllowed {
            level: 0x11,
            i: 0x10
        })
    ));
    drop(card);

    // Malformed INITIALIZE UPDATE response.
    assert_eq!(
        HostHandshake::new(static_keys(), [1; 8])
            .on_initialize_update_response(&[0; 30])
            .unwrap_err(),
        Scp03Error::MalformedInitializeUpdateResponse(30)
    );
}

#[test]
fn misuse_is_typed() {
    let (mut host, mut card) = pair(SecurityLevel::C_DEC_C_MAC);
    assert_eq!(
        host.unwrap_command(&[0x84, 0, 0, 0]),
        Err(Scp03Error::WrongRole)
    );
    assert_eq!(
        card.wrap_command(&[0x80, 0, 0, 0]),
        Err(Scp03Error::WrongRole)
    );
    // 240 bytes pad to 256: does not fit a short APDU.
    let mut long = vec![0x80, 0xE2, 0x00, 0x00, 240];
    long.extend([0u8; 240]);
    assert_eq!(
        host.wrap_command(&long),
        Err(Scp03Error::CommandTooLong(264))
    );
    assert!(
        host.is_open(),
        "a refused wrap leaves the host session usable"
    );
    assert_eq!(
        host.wrap_command(&[0x84, 0, 0, 0]),
        Err(Scp03Error::UnsupportedCla(0x84))
    );
    assert_eq!(
        host.wrap_command(&[0x80, 0]),
        Err(Scp03Error::MalformedApdu("shorter than 4 bytes"))
    );
    // An unprotected command is refused by the card.
    assert_eq!(
        card.unwrap_command(&[0x80, 0xCA, 0, 0, 0]),
        Err(Scp03Error::MissingSecureMessaging)
    );
    assert!(!card.is_open());
    host.close();
    assert_eq!(
        host.wrap_command(&[0x80, 0, 0, 0]),
        Err(Scp03Error::SessionClosed)
    );
}
