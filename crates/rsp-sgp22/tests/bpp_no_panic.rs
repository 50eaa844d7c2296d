//! Property tests: the eUICC's BPP loader and the LPA's segmentation never panic, whatever the
//! input (arbitrary bytes, or real segments with a byte changed, cut or repeated), and a mutated
//! BPP never loads into anything but the original UPP.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::OnceLock;

use proptest::prelude::*;
use rsp_crypto::ecc::{Curve, PrivateKey};
use rsp_sgp22::TransactionId;
use rsp_sgp22::bpp::{
    BppEvent, BppLoader, BppParts, InitialiseSecureChannel, LoaderConfig, PreparedProfile,
    ProfileSource, SessionBinding, build_bound_profile_package, configure_isdp_request,
    parse_configure_isdp_request, segment_bound_profile_package,
};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
const EID: [u8; 16] = [0x89; 16];

struct Fixture {
    tid: TransactionId,
    euicc_otsk: PrivateKey,
    dp_pb: PrivateKey,
    upp: Vec<u8>,
    segments: Vec<Vec<u8>>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let pem =
            std::fs::read_to_string(format!("{FIXTURES}/sgp26/DPpb/SK_S_SM_DPpb_ECDSA_NIST.pem"))
                .unwrap();
        let dp_pb = PrivateKey::from_pem(&pem).unwrap();
        // A small UPP keeps each case fast; the first 3000 bytes of a TS.48 profile.
        let upp = std::fs::read(format!("{FIXTURES}/profiles/SAIP2.3_NoBERTLV.der")).unwrap()
            [..3000]
            .to_vec();
        let tid = TransactionId::new(&[0x5A; 8]).unwrap();
        let euicc_otsk = PrivateKey::generate(Curve::NistP256).unwrap();
        let smdp_otsk = PrivateKey::generate(Curve::NistP256).unwrap();
        let otpk = euicc_otsk.public_key().to_sec1_uncompressed();
        let metadata = [
            0xBF, 0x25, 0x0A, 0x5A, 0x00, 0x91, 0x01, b'S', 0x92, 0x03, b'T', b'4', b'8',
        ];
        let prepared = PreparedProfile::protect(&upp).unwrap();
        let bpp = build_bound_profile_package(
            &SessionBinding {
                transaction_id: &tid,
                host_id: b"host",
                eid: &EID,
                smdp_otsk: &smdp_otsk,
                euicc_otpk: &otpk,
                dp_pb: &dp_pb,
                configure_isdp: &configure_isdp_request(None).unwrap(),
                store_metadata: &metadata,
            },
            ProfileSource::Prepared(&prepared),
        )
        .unwrap();
        let segments = segment_bound_profile_package(&bpp).unwrap();
        Fixture {
            tid,
            euicc_otsk,
            dp_pb,
            upp,
            segments,
        }
    })
}

fn loader() -> BppLoader {
    let f = fixture();
    BppLoader::new(LoaderConfig::new(
        f.tid.clone(),
        EID,
        f.euicc_otsk.try_clone().unwrap(),
        f.dp_pb.public_key().clone(),
    ))
}

/// Feeds segments until the first failure; the UPP if the loader completed.
fn feed(segments: &[Vec<u8>]) -> Option<Vec<u8>> {
    let mut l = loader();
    let mut upp = None;
    for s in segments {
        match l.load_segment(s) {
            Ok(events) => {
                for e in events {
                    if let BppEvent::Complete(u) = e {
                        upp = Some(u.to_vec());
                    }
                }
            }
            Err(f) => {
                // Once failed, always failed with the same result.
                assert_eq!(l.load_segment(s).unwrap_err(), f);
                return None;
            }
        }
    }
    upp
}

#[test]
fn the_fixture_loads() {
    assert_eq!(feed(&fixture().segments).unwrap(), fixture().upp);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_segments_never_panic(segments in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 1..6)) {
        prop_assert!(feed(&segments).is_none());
        let _ = segment_bound_profile_package(&segments.concat());
        let _ = BppParts::parse(&segments.concat());
        let _ = InitialiseSecureChannel::decode(&segments[0]);
        let _ = PreparedProfile::from_bytes(&segments[0]);
        let _ = parse_configure_isdp_request(&segments[0]);
    }

    #[test]
    fn arbitrary_bytes_after_a_real_prefix_never_panic(
        prefix in 0usize..8,
        tail in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..200), 1..4),
    ) {
        let real = &fixture().segments;
        let mut segments: Vec<Vec<u8>> = real[..prefix.min(real.len())].to_vec();
        segments.extend(tail);
        // Arbitrary bytes never pass a MAC or signature, so nothing completes.
        prop_assert!(feed(&segments).is_none());
    }

    #[test]
    fn mutated_real_segments_never_panic_and_never_load_something_else(
        index in any::<prop::sample::Index>(),
        byte in any::<prop::sample::Index>(),
        xor in 1u8..=255,
        cut in 0usize..4,
        repeat in any::<bool>(),
    ) {
        let f = fixture();
        let mut segments = f.segments.clone();
        let i = index.index(segments.len());
        let b = byte.index(segments[i].len());
        segments[i][b] ^= xor;
        let l = segments[i].len();
        segments[i].truncate(l - cut.min(l));
        if repeat {
            let copy = segments[i].clone();
            segments.insert(i, copy);
        }
        if let Some(upp) = feed(&segments) {
            prop_assert_eq!(upp, f.upp.clone());
        }
        let whole = segments.concat();
        if let Ok(resegmented) = segment_bound_profile_package(&whole) {
            prop_assert_eq!(resegmented.concat(), whole);
        }
    }
}
