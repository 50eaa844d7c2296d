//! Property tests of the consumer eUICC: arbitrary APDU sequences never panic it, every answer
//! ends with a status word, the card invariants hold, and the card still serves a real LPA
//! afterwards; mutated AuthenticateServer requests are never accepted.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod consumer_common;

use consumer_common::*;
use proptest::prelude::*;
use rsp_gp::ApduCard;
use rsp_sgp22::AuthenticateServerResponse;

fn isd_r_select() -> Vec<u8> {
    let mut v = vec![0x00, 0xA4, 0x04, 0x00, 0x10];
    v.extend_from_slice(&hex::decode(rsp_euicc::consumer::DEFAULT_ISD_R_AID).unwrap());
    v
}

/// APDUs that reach deep into the card: SELECT, MANAGE CHANNEL, STORE DATA blocks carrying ES10
/// tags with random bodies, GET RESPONSE, and raw garbage.
fn apdu() -> impl Strategy<Value = Vec<u8>> {
    let tags: Vec<[u8; 2]> = [
        0x2E, 0x20, 0x22, 0x38, 0x21, 0x36, 0x41, 0x28, 0x2B, 0x30, 0x43, 0x35, 0x2D, 0x31, 0x32,
        0x33, 0x3E, 0x29, 0x34, 0x3C, 0x3F,
    ]
    .iter()
    .map(|t| [0xBF, *t])
    .collect();
    prop_oneof![
        Just(isd_r_select()),
        (0u8..4).prop_map(|c| vec![c, 0x70, 0x00, 0x00, 0x01]),
        (0u8..4, 0u8..4).prop_map(|(c, n)| vec![c, 0x70, 0x80, n]),
        (0u8..4, any::<u8>()).prop_map(|(c, le)| vec![c, 0xC0, 0x00, 0x00, le]),
        (
            0u8..4,
            prop::sample::select(tags),
            prop::collection::vec(any::<u8>(), 0..120),
            prop_oneof![Just(0x91u8), Just(0x11u8), any::<u8>()],
            0u8..3,
            any::<bool>(),
        )
            .prop_map(|(c, tag, body, p1, p2, le)| {
                let mut data = tag.to_vec();
                data.push(body.len() as u8);
                data.extend_from_slice(&body);
                let mut v = vec![0x80 | c, 0xE2, p1, p2, data.len() as u8];
                v.extend_from_slice(&data);
                if le {
                    v.push(0);
                }
                v
            }),
        prop::collection::vec(any::<u8>(), 0..300),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_apdu_sequences_never_break_the_card(apdus in prop::collection::vec(apdu(), 1..60)) {
        let mut card = sgp26_card("3.1.0");
        card.reset();
        for a in &apdus {
            let r = card.transmit(a);
            prop_assert!(r.len() >= 2 && r.len() <= 258, "response {r:02X?} to {a:02X?}");
            prop_assert!(card.profiles().iter().filter(|p| p.enabled).count() <= 1);
        }
        // The card still serves an LPA.
        let mut lpa = Lpa::open(card);
        let _ = Server::sgp26().authenticate(&mut lpa, &[1, 2, 3]);
    }

    #[test]
    fn mutated_authenticate_server_requests_are_refused(
        pos in any::<prop::sample::Index>(),
        xor in 1u8..=255,
    ) {
        let server = Server::sgp26();
        let mut lpa = Lpa::open(sgp26_card("2.2.2"));
        let challenge = lpa.challenge();
        let (req, _) = server.authenticate_request(challenge, &[9; 8]);
        let mut bytes = req.encode(&server.peer).unwrap();
        // Mutate a byte of the signed part, the signature or the certificate (never the
        // ctxParams1, which the eUICC signs but does not check).
        let signed_len = req.server_signed1.raw().len() + 67 + 22 + server.auth_cert.len();
        prop_assert_eq!(&bytes[..3], &[0xBF, 0x38, 0x82]);
        prop_assert_eq!(bytes[5], 0x30);
        let i = 5 + pos.index(signed_len);
        bytes[i] ^= xor;
        match lpa.try_es10(&bytes) {
            Err(e) => prop_assert!(e.status_word() != 0x9000),
            Ok(resp) => match AuthenticateServerResponse::decode(&resp) {
                Ok(AuthenticateServerResponse::Ok(_)) => prop_assert!(false, "mutation at {i} accepted"),
                Ok(AuthenticateServerResponse::Error(_)) => {}
                Err(e) => prop_assert!(false, "undecodable answer {e}"),
            },
        }
        prop_assert!(!lpa.card.session_open());
    }
}
