//! SGP.22 BSP round trips: a whole bound profile package (ConfigureISDP, multi-segment
//! StoreMetadata, ReplaceSessionKeys, a TS.48 profile) protected and verified; tampering refused.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use rsp_crypto::bsp::*;
use zeroize::Zeroizing;

const PROFILE: &[u8] = include_bytes!("fixtures/profiles/SAIP2.3_NoBERTLV.der");
const EID: [u8; 16] = [
    0x89, 0x04, 0x90, 0x32, 0x12, 0x34, 0x51, 0x23, 0x45, 0x12, 0x34, 0x56, 0x78, 0x90, 0x13, 0x35,
];

fn session_keys(eid: &[u8]) -> BspKeys {
    derive_session_keys(
        &[0x5E; 32],
        KEY_TYPE_AES,
        KEY_LENGTH_AES128,
        b"host-id-1",
        eid,
    )
    .unwrap()
}

fn ppk() -> ReplaceSessionKeys {
    ReplaceSessionKeys {
        keys: BspKeys {
            s_enc: Zeroizing::new([0xE1; 16]),
            s_mac: Zeroizing::new([0x3A; 16]),
            initial_mcv: [0x77; 16],
        },
    }
}

struct Bpp {
    configure_isdp: Vec<Vec<u8>>,
    store_metadata: Vec<Vec<u8>>,
    replace_keys: Vec<Vec<u8>>,
    profile: Vec<Vec<u8>>,
}

fn metadata() -> Vec<u8> {
    (0..3000u32).map(|i| (i % 251) as u8).collect()
}

fn build(with_ppk: bool) -> Bpp {
    let mut s = BspSender::new(&session_keys(&EID)).unwrap();
    let configure_isdp = s
        .encrypt_and_mac(TAG_ENCRYPTED, &[0xBF, 0x24, 0x00])
        .unwrap();
    let store_metadata = s.mac_only(TAG_MAC_ONLY, &metadata()).unwrap();
    let mut replace_keys = Vec::new();
    if with_ppk {
        replace_keys = s.encrypt_and_mac(TAG_ENCRYPTED, &ppk().encode()).unwrap();
        s.replace_session_keys(&ppk().keys).unwrap();
    }
    let profile = s.encrypt_and_mac(TAG_PROFILE_ELEMENTS, PROFILE).unwrap();
    Bpp {
        configure_isdp,
        store_metadata,
        replace_keys,
        profile,
    }
}

fn load(bpp: &Bpp, eid: &[u8]) -> Result<Vec<u8>, BspError> {
    let mut r = BspReceiver::new(&session_keys(eid))?;
    assert_eq!(
        r.open_all(TAG_ENCRYPTED, bpp.configure_isdp.iter().map(Vec::as_slice))?,
        [0xBF, 0x24, 0x00]
    );
    assert_eq!(
        r.open_all(TAG_MAC_ONLY, bpp.store_metadata.iter().map(Vec::as_slice))?,
        metadata()
    );
    if !bpp.replace_keys.is_empty() {
        let rsk = r.open_all(TAG_ENCRYPTED, bpp.replace_keys.iter().map(Vec::as_slice))?;
        r.replace_session_keys(&ReplaceSessionKeys::decode(&rsk)?.keys)?;
    }
    r.open_all(TAG_PROFILE_ELEMENTS, bpp.profile.iter().map(Vec::as_slice))
}

#[test]
fn whole_bpp_round_trips() {
    for with_ppk in [false, true] {
        let bpp = build(with_ppk);
        assert_eq!(bpp.store_metadata.len(), 3);
        assert_eq!(
            bpp.profile.len(),
            PROFILE.len().div_ceil(MAX_ENCRYPTED_PAYLOAD)
        );
        for seg in bpp
            .configure_isdp
            .iter()
            .chain(&bpp.store_metadata)
            .chain(&bpp.profile)
        {
            assert!(seg.len() <= MAX_SEGMENT_TLV_LEN);
        }
        assert_eq!(load(&bpp, &EID).unwrap(), PROFILE);
    }
}

#[test]
fn bpp_for_another_eid_is_refused() {
    let mut other = EID;
    other[15] ^= 1;
    assert_eq!(load(&build(true), &other), Err(BspError::MacMismatch));
}

#[test]
fn flipped_bits_are_refused_in_every_segment() {
    let bpp = build(true);
    let groups = [
        &bpp.configure_isdp,
        &bpp.store_metadata,
        &bpp.replace_keys,
        &bpp.profile,
    ];
    for (g, group) in groups.iter().enumerate() {
        for (s, segment) in group.iter().enumerate() {
            for pos in [0usize, 1, 5, segment.len() - 1] {
                let mut bpp2 = build(true);
                let target = match g {
                    0 => &mut bpp2.configure_isdp,
                    1 => &mut bpp2.store_metadata,
                    2 => &mut bpp2.replace_keys,
                    _ => &mut bpp2.profile,
                };
                target[s][pos] ^= 0x04;
                let err = load(&bpp2, &EID).unwrap_err();
                assert!(
                    matches!(
                        err,
                        BspError::MacMismatch | BspError::Malformed(_) | BspError::UnexpectedTag(_)
                    ),
                    "group {g} segment {s} byte {pos}: {err:?}"
                );
            }
        }
    }
}

#[test]
fn reordered_and_dropped_segments_are_refused_and_abort() {
    let bpp = build(false);
    let mut r = BspReceiver::new(&session_keys(&EID)).unwrap();
    r.open_all(TAG_ENCRYPTED, bpp.configure_isdp.iter().map(Vec::as_slice))
        .unwrap();
    // skip the first metadata segment
    assert_eq!(r.open(&bpp.store_metadata[1]), Err(BspError::MacMismatch));
    assert!(r.is_aborted());
    assert_eq!(r.open(&bpp.store_metadata[0]), Err(BspError::Aborted));
    // wrong tag where another is expected
    let mut r = BspReceiver::new(&session_keys(&EID)).unwrap();
    assert_eq!(
        r.open_expecting(TAG_MAC_ONLY, &bpp.configure_isdp[0]),
        Err(BspError::UnexpectedTag(0x87))
    );
    // trailing bytes
    let mut r = BspReceiver::new(&session_keys(&EID)).unwrap();
    let mut long = bpp.configure_isdp[0].clone();
    long.push(0);
    assert!(matches!(r.open(&long), Err(BspError::Malformed(_))));
}
