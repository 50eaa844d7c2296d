//! SCP03t: a TS.48 profile package (GSMA Generic eUICC Test Profile v7, SAIP 2.3, Apache-2.0)
//! round-trips byte-identical; tampered, reordered, replayed and truncated segment streams are
//! refused, and the receiver stays consistent after a refusal.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use rsp_crypto::scp03::*;
use rsp_crypto::scp03t::*;

const PROFILE: &[u8] = include_bytes!("fixtures/profiles/SAIP2.3_NoBERTLV.der");
const ISD_P_AID: &[u8] = &[
    0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0x89, 0x00, 0x00, 0x10, 0x00,
];

fn keys() -> StaticKeys {
    StaticKeys::new(0x30, &[0x4E; 16], &[0x4D; 16], &[0x4B; 16]).unwrap()
}

/// Host side in push mode (predicted card challenge) and the matching card side; deterministic.
fn pair(level: SecurityLevel) -> (Scp03Session, Scp03Session) {
    let host = HostHandshake::new(keys(), [0x5A; 8]);
    let iu = host.initialize_update_apdu();
    let auth = host
        .predict(IParameter::PSEUDO_RANDOM_RMAC_RENC, 1, ISD_P_AID)
        .unwrap();
    let (host, ext) = auth.external_authenticate(level).unwrap();
    let card = CardHandshake::new(keys(), IParameter::PSEUDO_RANDOM_RMAC_RENC, [0; 10]).unwrap();
    let (card, _) = card
        .on_initialize_update(
            &iu,
            CardChallenge::PseudoRandom {
                last_sequence_counter: 0,
                aid: ISD_P_AID,
            },
        )
        .unwrap();
    (host, card.on_external_authenticate(&ext).unwrap())
}

fn receiver() -> Scp03tReceiver {
    Scp03tReceiver::new(pair(SecurityLevel::C_DEC_C_MAC_R_ENC_R_MAC).1).unwrap()
}

fn segments() -> Vec<Vec<u8>> {
    let (host, _) = pair(SecurityLevel::C_DEC_C_MAC_R_ENC_R_MAC);
    Scp03tSender::new(host)
        .unwrap()
        .protect_package(PROFILE)
        .unwrap()
}

#[test]
fn ts48_profile_round_trips() {
    let (host, card) = pair(SecurityLevel::C_DEC_C_MAC_R_ENC_R_MAC);
    let mut tx = Scp03tSender::new(host).unwrap();
    let mut rx = Scp03tReceiver::new(card).unwrap();
    let chunks: Vec<&[u8]> = PROFILE.chunks(MAX_SEGMENT_PAYLOAD).collect();
    for chunk in &chunks {
        let seg = tx.protect_segment(chunk).unwrap();
        assert!(seg.len() <= MAX_SEGMENT_TLV_LEN);
        assert_eq!(seg[0], SEGMENT_TAG);
        assert!(
            !seg.windows(16).any(|w| chunk.windows(16).any(|c| c == w)),
            "segment is encrypted"
        );
        assert_eq!(rx.accept(&seg).unwrap(), Accepted::Segment(chunk.len()));
        // Each segment is answered with an R-MAC'd (and R-ENC'd) response.
        let rsp = rx.wrap_response(b"ok", 0x9000).unwrap();
        assert_eq!(
            tx.unwrap_response(&rsp).unwrap(),
            ResponseApdu {
                data: b"ok".to_vec(),
                sw: 0x9000
            }
        );
    }
    assert_eq!(rx.accept(&tx.finish().unwrap()).unwrap(), Accepted::End);
    assert_eq!(tx.protect_segment(b"late"), Err(Scp03tError::AfterEnd));
    assert_eq!(rx.accepted_segments() as usize, chunks.len() + 1);
    assert!(rx.is_complete());
    assert_eq!(rx.into_package().unwrap(), PROFILE);
}

#[test]
fn batch_stream_round_trips() {
    let segs = segments();
    assert_eq!(segs.len(), PROFILE.len().div_ceil(MAX_SEGMENT_PAYLOAD) + 1);
    let stream = segs.concat();
    let mut rx = receiver();
    assert_eq!(rx.accept_stream(&stream).unwrap(), Some(Accepted::End));
    assert_eq!(rx.into_package().unwrap(), PROFILE);
}

#[test]
fn flipped_bits_in_any_segment_are_refused() {
    let segs = segments();
    for (i, seg) in segs.iter().enumerate() {
        for pos in [0, 1, 2, 3, 4, seg.len() / 2, seg.len() - 9, seg.len() - 1] {
            for bit in [0x01u8, 0x80] {
                let mut rx = receiver();
                for good in &segs[..i] {
                    rx.accept(good).unwrap();
                }
                let mut bad = seg.clone();
                bad[pos] ^= bit;
                let err = rx.accept(&bad).unwrap_err();
                assert!(
                    matches!(
                        err,
                        Scp03tError::MacMismatch
                            | Scp03tError::Malformed(_)
                            | Scp03tError::UnexpectedTag(_)
                    ),
                    "segment {i} byte {pos}: {err:?}"
                );
                // Consistent state: exactly the verified prefix, nothing accepted afterwards.
                assert_eq!(rx.state(), ReceiverState::Aborted(err));
                assert_eq!(rx.accepted_segments() as usize, i);
                assert_eq!(
                    rx.received(),
                    &PROFILE[..(i * MAX_SEGMENT_PAYLOAD).min(PROFILE.len())]
                );
                assert_eq!(rx.accept(seg), Err(Scp03tError::Aborted));
                assert!(!rx.session().is_open());
                assert_eq!(
                    rx.wrap_response(b"", 0x9000),
                    Err(Scp03tError::Scp03(Scp03Error::SessionClosed))
                );
                assert_eq!(rx.into_package(), Err(Scp03tError::Aborted));
            }
        }
    }
}

#[test]
fn reordered_replayed_dropped_and_truncated_streams_are_refused() {
    let segs = segments();
    // reordered
    let mut rx = receiver();
    rx.accept(&segs[0]).unwrap();
    assert_eq!(rx.accept(&segs[2]), Err(Scp03tError::MacMismatch));
    // replayed
    let mut rx = receiver();
    rx.accept(&segs[0]).unwrap();
    assert_eq!(rx.accept(&segs[0]), Err(Scp03tError::MacMismatch));
    // missing terminator
    let mut rx = receiver();
    for s in &segs[..segs.len() - 1] {
        rx.accept(s).unwrap();
    }
    assert_eq!(rx.state(), ReceiverState::Receiving);
    assert_eq!(rx.into_package(), Err(Scp03tError::Truncated));
    // segment cut short
    let mut rx = receiver();
    let cut = &segs[0][..segs[0].len() - 3];
    assert!(matches!(rx.accept(cut), Err(Scp03tError::Malformed(_))));
    // stream cut in the middle of a segment
    let stream = segs.concat();
    let mut rx = receiver();
    assert!(matches!(
        rx.accept_stream(&stream[..stream.len() - 5]),
        Err(Scp03tError::Malformed(_))
    ));
    // anything after the terminator
    let mut rx = receiver();
    rx.accept_stream(&segs.concat()).unwrap();
    assert_eq!(rx.accept(&segs[0]), Err(Scp03tError::AfterEnd));
    // foreign session (other host challenge) fails on the first segment
    let other_host = HostHandshake::new(keys(), [0x5B; 8])
        .predict(IParameter::PSEUDO_RANDOM_RMAC_RENC, 1, ISD_P_AID)
        .unwrap()
        .external_authenticate(SecurityLevel::C_DEC_C_MAC_R_ENC_R_MAC)
        .unwrap()
        .0;
    let foreign = Scp03tSender::new(other_host)
        .unwrap()
        .protect_segment(b"x")
        .unwrap();
    assert_eq!(receiver().accept(&foreign), Err(Scp03tError::MacMismatch));
    assert_eq!(Scp03tError::MacMismatch.status_word(), 0x6982);
}

#[test]
fn preconditions() {
    let (host, card) = pair(SecurityLevel::C_MAC_R_MAC);
    assert_eq!(
        Scp03tSender::new(host).unwrap_err(),
        Scp03tError::SecurityLevelTooLow(0x11)
    );
    assert_eq!(
        Scp03tReceiver::new(card).unwrap_err(),
        Scp03tError::SecurityLevelTooLow(0x11)
    );
    let (host, card) = pair(SecurityLevel::C_DEC_C_MAC);
    assert_eq!(
        Scp03tSender::new(card).unwrap_err(),
        Scp03tError::Scp03(Scp03Error::WrongRole)
    );
    let mut tx = Scp03tSender::new(host).unwrap();
    assert_eq!(tx.protect_segment(b""), Err(Scp03tError::EmptySegment));
    assert_eq!(
        tx.protect_segment(&[0; MAX_SEGMENT_PAYLOAD + 1]),
        Err(Scp03tError::SegmentTooLong(MAX_SEGMENT_PAYLOAD + 1))
    );
    // size bound on the receiver
    let segs = segments();
    let mut rx = receiver().with_max_package_len(2000);
    rx.accept(&segs[0]).unwrap();
    assert_eq!(rx.accept(&segs[1]), Err(Scp03tError::PackageTooLarge(2000)));
    assert_eq!(rx.received().len(), MAX_SEGMENT_PAYLOAD);
}
