//! SGP.22 BSP known-answer tests.
//!
//! Vectors: osmocom pySim `tests/unittests/test_esim_bsp.py` (GPL-2.0+ test file; byte values only).
//! `BSP_Test_mode51` was, per pySim, built from hex dumps of a third-party SM-DP+ trace, so the key
//! derivation with keyType `88`, keyLen `10`, hostId `80 × 8` and the 16-byte binary EID settles C-22
//! for us (the `01` key type used by euicc-crypto does not reproduce these keys), and the segment
//! outputs settle the C-MAC input, padding, ICV and block-counter rules (incl. the counter advancing
//! for the MAC-only `88` segment and restarting after ReplaceSessionKeys) — AES-CBC/CMAC, not GCM (C-23).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use std::collections::HashMap;

use rsp_crypto::bsp::{self, BspError, BspKeys, BspReceiver, BspSender, ReplaceSessionKeys};
use zeroize::Zeroizing;

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

fn fixture() -> HashMap<String, Vec<u8>> {
    let text = include_str!("fixtures/vectors/pysim_bsp_mode51.txt");
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), h(v.trim())))
        .collect()
}

fn keys(enc: &[u8], mac: &[u8], mcv: &[u8]) -> BspKeys {
    BspKeys {
        s_enc: Zeroizing::new(enc.try_into().unwrap()),
        s_mac: Zeroizing::new(mac.try_into().unwrap()),
        initial_mcv: mcv.try_into().unwrap(),
    }
}

// pySim BSP_Test.test_kdf and BSP_Test_mode51.test_kdf.
#[test]
fn pysim_key_derivation() {
    for (shs, eid, enc, mac, mcv) in [
        (
            "8902dca391bbb22570fe60c176076246f568b1941265dff1d729e63039658089",
            "89049032123451234512345678901335",
            "d782d575b22a38334556a3d9a1e2ae6b",
            "a35addc192ae8f934e2932116c7e89e7",
            "734bc93ddb10c71c5ad13d420dc08b5b",
        ),
        (
            "c9a993dd4879a8f7161f2085410edd4f9652f1df37be097ba96ba2ca6be528fe",
            "89049032123451234512345678901235",
            "472f5bfadd97f21d34f3ce9b51b92751",
            "9ec07f5b36a13e12a991d66e294e6242",
            "406d507b448a699e7a36a38494debbde",
        ),
    ] {
        let k = bsp::derive_session_keys(
            &h(shs),
            bsp::KEY_TYPE_AES,
            bsp::KEY_LENGTH_AES128,
            &[0x80; 8],
            &h(eid),
        )
        .unwrap();
        assert_eq!(hex::encode(*k.s_enc), enc);
        assert_eq!(hex::encode(*k.s_mac), mac);
        assert_eq!(hex::encode(k.initial_mcv), mcv);
        // C-22: key type 01 gives other keys, so it cannot be what that SM-DP+ used.
        let other = bsp::derive_session_keys(&h(shs), 0x01, 0x10, &[0x80; 8], &h(eid)).unwrap();
        assert_ne!(hex::encode(*other.s_enc), enc);
    }
}

// pySim BSP_Test_mode51.test_ciphering: ConfigureISDP (87), StoreMetadata (88), ReplaceSessionKeys
// (87), then two profile segments (86) under the PPKs.
#[test]
fn pysim_mode51_sender() {
    let f = fixture();
    let mut s = BspSender::new(&keys(&f["s_enc"], &f["s_mac"], &f["icv"])).unwrap();
    assert_eq!(
        s.encrypt_segment(0x87, &f["cfg_plain"]).unwrap(),
        f["cfg_tlv"]
    );
    assert_eq!(s.mac_segment(0x88, &f["smd_plain"]).unwrap(), f["smd_tlv"]);
    assert_eq!(
        s.encrypt_segment(0x87, &f["rsk_plain"]).unwrap(),
        f["rsk_tlv"]
    );

    let rsk = ReplaceSessionKeys::decode(&f["rsk_plain"]).unwrap();
    assert_eq!(&*rsk.keys.s_enc, &f["ppk_enc"][..]);
    assert_eq!(&*rsk.keys.s_mac, &f["ppk_mac"][..]);
    assert_eq!(&rsk.keys.initial_mcv, &f["ppk_icv"][..]);
    assert_eq!(&*rsk.encode(), &f["rsk_plain"][..]);

    s.replace_session_keys(&rsk.keys).unwrap();
    assert_eq!(
        s.encrypt_segment(0x86, &f["segment0_plain"]).unwrap(),
        f["segment0_tlv"]
    );
    assert_eq!(
        s.encrypt_segment(0x86, &f["segment1_plain"]).unwrap(),
        f["segment1_tlv"]
    );
}

#[test]
fn pysim_mode51_receiver() {
    let f = fixture();
    let mut r = BspReceiver::new(&keys(&f["s_enc"], &f["s_mac"], &f["icv"])).unwrap();
    assert_eq!(
        r.open_expecting(0x87, &f["cfg_tlv"]).unwrap(),
        f["cfg_plain"]
    );
    assert_eq!(
        r.open(&f["smd_tlv"]).unwrap(),
        (0x88, f["smd_plain"].clone())
    );
    let rsk_plain = r.open_expecting(0x87, &f["rsk_tlv"]).unwrap();
    let rsk = ReplaceSessionKeys::decode(&rsk_plain).unwrap();
    r.replace_session_keys(&rsk.keys).unwrap();
    let upp = r
        .open_all(0x86, [&f["segment0_tlv"][..], &f["segment1_tlv"][..]])
        .unwrap();
    assert_eq!(
        upp,
        [f["segment0_plain"].clone(), f["segment1_plain"].clone()].concat()
    );
}

#[test]
fn pysim_mode51_segmentation_matches_trace() {
    // The two traced segments are the first 2 × 1007 bytes of the profile cut by the sender's
    // segmentation rule.
    let f = fixture();
    let upp = [f["segment0_plain"].clone(), f["segment1_plain"].clone()].concat();
    let ppk = keys(&f["ppk_enc"], &f["ppk_mac"], &f["ppk_icv"]);
    let mut s = BspSender::new(&ppk).unwrap();
    let segs = s.encrypt_and_mac(0x86, &upp).unwrap();
    assert_eq!(segs, [f["segment0_tlv"].clone(), f["segment1_tlv"].clone()]);
}

#[test]
fn pysim_mode51_tamper_is_refused() {
    let f = fixture();
    let mut cfg = f["cfg_tlv"].clone();
    cfg[5] ^= 0x01;
    let mut r = BspReceiver::new(&keys(&f["s_enc"], &f["s_mac"], &f["icv"])).unwrap();
    assert_eq!(r.open(&cfg), Err(BspError::MacMismatch));
    assert_eq!(r.open(&f["cfg_tlv"]), Err(BspError::Aborted));
    // Out of order: StoreMetadata before ConfigureISDP.
    let mut r = BspReceiver::new(&keys(&f["s_enc"], &f["s_mac"], &f["icv"])).unwrap();
    assert_eq!(r.open(&f["smd_tlv"]), Err(BspError::MacMismatch));
    assert_eq!(BspError::MacMismatch.error_reason(), 8);
    assert_eq!(BspError::UnexpectedTag(0x99).error_reason(), 7);
}
