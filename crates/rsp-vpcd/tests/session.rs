#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The vpcd codec and the card-side state machine, without pcscd or sockets.

mod support;

use proptest::prelude::*;
use rsp_vpcd::codec::{FrameDecoder, FrameError, Message, encode_frame};
use rsp_vpcd::{Action, Session};
use support::{ATR, TestCard, echo, frame, select_test_aid, status};

#[test]
fn frames_are_a_big_endian_length_then_the_payload() {
    assert_eq!(encode_frame(&[0x04]).unwrap(), vec![0x00, 0x01, 0x04]);
    let payload = vec![0xAB; 300];
    let framed = encode_frame(&payload).unwrap();
    assert_eq!(&framed[..2], &[0x01, 0x2C]);
    assert_eq!(&framed[2..], &payload[..]);
    assert_eq!(framed, frame(&payload));
    assert_eq!(encode_frame(&vec![0; 65535]).unwrap().len(), 65537);
    assert_eq!(
        encode_frame(&vec![0; 65536]),
        Err(FrameError::TooLong(65536))
    );
    assert_eq!(encode_frame(&[]), Err(FrameError::Empty));
}

#[test]
fn one_byte_payloads_are_controls_longer_ones_apdus() {
    let m = |p: &[u8]| Message::from_payload(p);
    assert_eq!(m(&[0x00]), Ok(Message::PowerOff));
    assert_eq!(m(&[0x01]), Ok(Message::PowerOn));
    assert_eq!(m(&[0x02]), Ok(Message::Reset));
    assert_eq!(m(&[0x04]), Ok(Message::GetAtr));
    assert_eq!(m(&[0x03]), Ok(Message::UnknownControl(0x03)));
    assert_eq!(m(&[0x00, 0xA4]), Ok(Message::Apdu(vec![0x00, 0xA4])));
    assert_eq!(m(&[]), Err(FrameError::Empty));
    for msg in [
        Message::PowerOff,
        Message::PowerOn,
        Message::Reset,
        Message::GetAtr,
        Message::UnknownControl(0x7F),
        Message::Apdu(status()),
    ] {
        assert_eq!(m(&msg.to_payload()), Ok(msg));
    }
}

#[test]
fn the_decoder_reassembles_frames_split_anywhere() {
    let stream = [frame(&[0x01]), frame(&select_test_aid()), frame(&[0x04])].concat();
    let mut d = FrameDecoder::new();
    let mut got = Vec::new();
    for b in &stream {
        d.push(std::slice::from_ref(b));
        while let Some(p) = d.next_frame().unwrap() {
            got.push(p);
        }
    }
    assert_eq!(got, vec![vec![0x01], select_test_aid(), vec![0x04]]);
    assert_eq!(d.pending(), 0);

    // A length announcing more than has arrived waits, whatever the length.
    d.push(&[0xFF, 0xFF, 0x00]);
    assert_eq!(d.next_frame(), Ok(None));
    assert_eq!(d.pending(), 3);
    d.clear();
    d.push(&[0x00, 0x00, 0x01]);
    assert_eq!(d.next_frame(), Err(FrameError::Empty));
}

fn sends(actions: Vec<Action>) -> Vec<Vec<u8>> {
    actions
        .into_iter()
        .map(|a| match a {
            Action::Send(b) => b,
            Action::Disconnect(e) => panic!("unexpected disconnect: {e}"),
        })
        .collect()
}

#[test]
fn power_on_get_atr_and_apdus() {
    let mut s = Session::new(TestCard::default());
    assert!(!s.is_powered());
    // Power on and reset are not answered; Get ATR is answered with the ATR of that reset.
    assert_eq!(s.receive(&frame(&[0x01])), vec![]);
    assert!(s.is_powered());
    assert_eq!(s.card().resets, 1);
    assert_eq!(sends(s.receive(&frame(&[0x04]))), vec![frame(&ATR)]);
    assert_eq!(
        s.card().resets,
        1,
        "Get ATR of a powered card does not reset it"
    );

    let out = sends(
        s.receive(
            &[
                frame(&status()),
                frame(&select_test_aid()),
                frame(&status()),
            ]
            .concat(),
        ),
    );
    assert_eq!(
        out,
        vec![
            frame(&[0x69, 0x85]),
            frame(&[0x90, 0x00]),
            frame(&[3, 1, 0x90, 0x00])
        ]
    );

    // Reset drops the selection.
    assert_eq!(s.receive(&frame(&[0x02])), vec![]);
    assert_eq!(s.card().resets, 2);
    assert_eq!(
        sends(s.receive(&frame(&status()))),
        vec![frame(&[0x69, 0x85])]
    );

    // Unknown controls are ignored, without an answer.
    assert_eq!(s.receive(&frame(&[0x03])), vec![]);
    assert_eq!(s.stats().unknown_controls, 1);

    // Power off: an APDU gets 6F00 without reaching the card; Get ATR still answers.
    assert_eq!(s.receive(&frame(&[0x00])), vec![]);
    assert!(!s.is_powered());
    assert_eq!(s.card().power_offs, 1);
    let before = s.card().transmitted;
    assert_eq!(
        sends(s.receive(&frame(&status()))),
        vec![frame(&[0x6F, 0x00])]
    );
    assert_eq!(s.card().transmitted, before);
    assert_eq!(sends(s.receive(&frame(&[0x04]))), vec![frame(&ATR)]);
    assert!(!s.is_powered());
    assert_eq!(s.stats().resets, 2);
    assert_eq!(s.stats().apdus, 4);
}

#[test]
fn a_long_echo_answers_in_one_frame() {
    let mut s = Session::new(TestCard::default());
    let data: Vec<u8> = (0..=254).collect();
    s.receive(&frame(&[0x01]));
    s.receive(&frame(&select_test_aid()));
    let mut expected: Vec<u8> = data.iter().rev().copied().collect();
    expected.extend_from_slice(&[0x90, 0x00]);
    assert_eq!(
        sends(s.receive(&frame(&echo(&data)))),
        vec![frame(&expected)]
    );
}

#[test]
fn an_empty_frame_drops_the_connection_and_the_rest_of_the_bytes() {
    let mut s = Session::new(TestCard::default());
    let out = s.receive(&[frame(&[0x01]), vec![0x00, 0x00], frame(&[0x04])].concat());
    assert_eq!(out, vec![Action::Disconnect(FrameError::Empty)]);
    s.disconnected();
    assert!(!s.is_powered());
    assert_eq!(
        s.card().power_offs,
        1,
        "the card is removed with the connection"
    );
    // A new connection starts clean.
    assert_eq!(sends(s.receive(&frame(&[0x04]))), vec![frame(&ATR)]);
}

#[test]
fn a_disconnect_mid_frame_forgets_the_partial_frame() {
    let mut s = Session::new(TestCard::default());
    let half = frame(&select_test_aid());
    assert_eq!(s.receive(&half[..5]), vec![]);
    s.disconnected();
    assert_eq!(sends(s.receive(&frame(&[0x04]))), vec![frame(&ATR)]);
}

/// Runs a stream through a fresh session in the given chunks, as the IO loop would: stop at the
/// first disconnect.
fn run_chunked(stream: &[u8], cuts: &[usize]) -> (Vec<Action>, u32) {
    let mut s = Session::new(TestCard::default());
    let mut actions = Vec::new();
    let mut start = 0;
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (stream.len() + 1)).collect();
    cuts.sort_unstable();
    cuts.push(stream.len());
    for cut in cuts {
        let out = s.receive(&stream[start..cut]);
        start = cut;
        let stop = out.iter().any(|a| matches!(a, Action::Disconnect(_)));
        actions.extend(out);
        if stop {
            break;
        }
    }
    (actions, s.card().transmitted)
}

proptest! {
    #[test]
    fn arbitrary_bytes_in_arbitrary_pieces_never_panic_and_split_does_not_matter(
        stream in proptest::collection::vec(any::<u8>(), 0..600),
        cuts in proptest::collection::vec(any::<usize>(), 0..8),
    ) {
        let whole = run_chunked(&stream, &[]);
        let split = run_chunked(&stream, &cuts);
        prop_assert_eq!(whole, split);
    }

    #[test]
    fn well_formed_streams_split_anywhere_give_the_same_answers(
        messages in proptest::collection::vec(
            prop_oneof![
                Just(vec![0x00u8]), Just(vec![0x01]), Just(vec![0x02]), Just(vec![0x04]),
                Just(select_test_aid()), Just(status()),
                proptest::collection::vec(any::<u8>(), 1..40).prop_map(|d| echo(&d)),
            ],
            1..20,
        ),
        cuts in proptest::collection::vec(any::<usize>(), 0..10),
    ) {
        let stream: Vec<u8> = messages.iter().flat_map(|m| frame(m)).collect();
        let (whole, _) = run_chunked(&stream, &[]);
        let (split, _) = run_chunked(&stream, &cuts);
        prop_assert!(whole.iter().all(|a| matches!(a, Action::Send(_))));
        prop_assert_eq!(whole, split);
    }
}
