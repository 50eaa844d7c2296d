//! AES known-answer tests from published vectors.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use rsp_crypto::aes::{self, AesError, AesKey};

fn h(s: &str) -> Vec<u8> {
    hex::decode(s.replace(' ', "")).unwrap()
}

const KEY128: &str = "2b7e151628aed2a6abf7158809cf4f3c";
const KEY192: &str = "8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b";
const KEY256: &str = "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4";

/// The four-block plaintext of NIST SP 800-38A Appendix F and the CMAC examples of SP 800-38B.
const PLAIN: &str = "6bc1bee22e409f96e93d7e117393172a ae2d8a571e03ac9c9eb76fac45af8e51 \
                     30c81c46a35ce411e5fbc1191a0a52ef f69f2445df4f9b17ad2b417be66c3710";

// RFC 4493 §4 (AES-CMAC test vectors, AES-128), examples 1-4: message lengths 0, 16, 40, 64.
#[test]
fn rfc4493_aes_cmac_examples() {
    let m = h(PLAIN);
    let key = AesKey::new(&h(KEY128)).unwrap();
    for (len, mac) in [
        (0, "bb1d6929e95937287fa37d129b756746"),
        (16, "070a16b46b4d4144f79bdd9dd04a287c"),
        (40, "dfa66747de9ae63030ca32611497c827"),
        (64, "51f0bebf7e3b9d92fc49741779363cfe"),
    ] {
        assert_eq!(hex::encode(key.cmac(&m[..len])), mac, "Mlen {len}");
        assert_eq!(hex::encode(aes::cmac(&h(KEY128), &m[..len]).unwrap()), mac);
        // truncation to the 8 leftmost bytes
        assert_eq!(hex::encode(key.cmac8(&m[..len])), mac[..16]);
        // the same MAC computed over split parts
        let (a, b) = m[..len].split_at(len / 3);
        assert_eq!(hex::encode(key.cmac_parts(&[a, b])), mac);
    }
}

// NIST SP 800-38B Appendix D (CMAC-AES128 D.1, CMAC-AES192 D.2, CMAC-AES256 D.3), examples 1-4.
#[test]
fn sp800_38b_cmac_examples() {
    let m = h(PLAIN);
    for (key, macs) in [
        (
            KEY128,
            [
                "bb1d6929e95937287fa37d129b756746",
                "070a16b46b4d4144f79bdd9dd04a287c",
                "dfa66747de9ae63030ca32611497c827",
                "51f0bebf7e3b9d92fc49741779363cfe",
            ],
        ),
        (
            KEY192,
            [
                "d17ddf46adaacde531cac483de7a9367",
                "9e99a7bf31e710900662f65e617c5184",
                "8a1de5be2eb31aad089a82e6ee908b0e",
                "a1d5df0eed790f794d77589659f39a11",
            ],
        ),
        (
            KEY256,
            [
                "028962f61b7bf89efc6b551f4667d983",
                "28a7023f452e8f82bd4bf28d8c37c35c",
                "aaf3d8f1de5640c232f5b169b9c911e6",
                "e1992190549f6ed5696a2c056c315410",
            ],
        ),
    ] {
        let k = AesKey::new(&h(key)).unwrap();
        for (len, mac) in [0usize, 16, 40, 64].into_iter().zip(macs) {
            assert_eq!(hex::encode(k.cmac(&m[..len])), mac, "key {key} Mlen {len}");
        }
    }
}

// NIST SP 800-38A F.1.1/F.1.2 (ECB-AES128), F.1.3/F.1.4 (ECB-AES192), F.1.5/F.1.6 (ECB-AES256).
#[test]
fn sp800_38a_ecb() {
    let p = h(PLAIN);
    for (key, ct) in [
        (
            KEY128,
            "3ad77bb40d7a3660a89ecaf32466ef97f5d3d58503b9699de785895a96fdbaaf43b1cd7f598ece23881b00e3ed0306887b0c785e27e8ad3f8223207104725dd4",
        ),
        (
            KEY192,
            "bd334f1d6e45f25ff712a214571fa5cc974104846d0ad3ad7734ecb3ecee4eefef7afd2270e2e60adce0ba2face6444e9a4b41ba738d6c72fb16691603c18e0e",
        ),
        (
            KEY256,
            "f3eed1bdb5d2a03c064b5a7e3db181f8591ccb10d410ed26dc5ba74a31362870b6ed21b99ca6f4f9f153e7b1beafed1d23304b7a39f9f3ff067d8d8f9e24ecc7",
        ),
    ] {
        let k = AesKey::new(&h(key)).unwrap();
        let mut buf = p.clone();
        k.ecb_encrypt_in_place(&mut buf).unwrap();
        assert_eq!(hex::encode(&buf), ct);
        k.ecb_decrypt_in_place(&mut buf).unwrap();
        assert_eq!(buf, p);
        let first: [u8; 16] = p[..16].try_into().unwrap();
        assert_eq!(
            hex::encode(aes::ecb_encrypt_block(&h(key), &first).unwrap()),
            ct[..32]
        );
        let c: [u8; 16] = h(ct)[..16].try_into().unwrap();
        assert_eq!(aes::ecb_decrypt_block(&h(key), &c).unwrap(), first);
    }
}

// NIST SP 800-38A F.2.1/F.2.2 (CBC-AES128 encrypt/decrypt), F.2.3/F.2.4 (AES192), F.2.5/F.2.6 (AES256).
#[test]
fn sp800_38a_cbc() {
    let iv = h("000102030405060708090a0b0c0d0e0f");
    let p = h(PLAIN);
    for (key, ct) in [
        (
            KEY128,
            "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b273bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7",
        ),
        (
            KEY192,
            "4f021db243bc633d7178183a9fa071e8b4d9ada9ad7dedf4e5e738763f69145a571b242012fb7ae07fa9baac3df102e008b0e27988598881d920a9e64f5615cd",
        ),
        (
            KEY256,
            "f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d39f23369a9d9bacfa530e26304231461b2eb05e2c39be9fcda6c19078c6a9d1b",
        ),
    ] {
        assert_eq!(hex::encode(aes::cbc_encrypt(&h(key), &iv, &p).unwrap()), ct);
        assert_eq!(aes::cbc_decrypt(&h(key), &iv, &h(ct)).unwrap(), p);
        let k = AesKey::new(&h(key)).unwrap();
        let mut buf = p.clone();
        k.cbc_encrypt_in_place(&iv.clone().try_into().unwrap(), &mut buf)
            .unwrap();
        assert_eq!(hex::encode(&buf), ct);
        k.cbc_decrypt_in_place(&iv.clone().try_into().unwrap(), &mut buf)
            .unwrap();
        assert_eq!(buf, p);
    }
}

#[test]
fn cbc_with_method2_padding() {
    // Padding adds 80 00.. so the SP 800-38A ciphertext is the prefix of the padded one when the
    // plaintext is block aligned; the last block encrypts 80 00 .. 00.
    let key = h(KEY128);
    let iv = h("000102030405060708090a0b0c0d0e0f");
    let p = h(PLAIN);
    let padded = aes::cbc_encrypt_padded(&key, &iv, &p).unwrap();
    assert_eq!(padded.len(), 80);
    assert_eq!(
        hex::encode(&padded[..64]),
        "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b273bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7"
    );
    assert_eq!(aes::cbc_decrypt_padded(&key, &iv, &padded).unwrap(), p);
    for len in 0..50 {
        let data = vec![0x5A; len];
        let ct = aes::cbc_encrypt_padded(&key, &iv, &data).unwrap();
        assert_eq!(aes::cbc_decrypt_padded(&key, &iv, &ct).unwrap(), data);
    }
    // A ciphertext whose plaintext does not end in 80 00.. is refused.
    let raw = aes::cbc_encrypt(&key, &iv, &p).unwrap();
    assert_eq!(
        aes::cbc_decrypt_padded(&key, &iv, &raw),
        Err(AesError::BadPadding)
    );
    assert_eq!(aes::cmac(&[0; 7], b""), Err(AesError::InvalidKeyLength(7)));
}
