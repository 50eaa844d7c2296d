//! Key derivation known-answer tests.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use rsp_crypto::kdf::{self, KdfError};

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

// NIST CAVP, SP 800-135 component test vectors, ANSI X9.63-2001 KDF (CAVS 12.0, file
// ansx963_2001.rsp, as mirrored in pyca/cryptography vectors/cryptography_vectors/KDF/ansx963_2001.txt):
// [SHA-256] [shared secret length = 192] [SharedInfo length = 0] [key data length = 128], COUNT 0-4.
#[test]
fn cavp_x963_sha256_no_shared_info() {
    for (z, key) in [
        (
            "96c05619d56c328ab95fe84b18264b08725b85e33fd34f08",
            "443024c3dae66b95e6f5670601558f71",
        ),
        (
            "96f600b73ad6ac5629577eced51743dd2c24c21b1ac83ee4",
            "b6295162a7804f5667ba9070f82fa522",
        ),
        (
            "de4ec3f6b2e9b7b5b6160acd5363c1b1f250e17ee731dbd6",
            "c8df626d5caaabf8a1b2a3f9061d2420",
        ),
        (
            "d38bdbe5c4fc164cdd967f63c04fe07b60cde881c246438c",
            "5e674db971bac20a80bad0d4514dc484",
        ),
        (
            "693937e6e8e89606df311048a59c4ab83e62c56d692e05ce",
            "5c3016128b7ee53a4d3b14c344b4db09",
        ),
    ] {
        let out = kdf::x963_kdf_sha256_vec(&h(z), &[], 16).unwrap();
        assert_eq!(hex::encode(&*out), key, "Z {z}");
    }
}

// Same source: [SHA-256] [shared secret length = 192] [SharedInfo length = 128]
// [key data length = 1024], COUNT 0-4 (four SHA-256 blocks, counter 1..4).
#[test]
fn cavp_x963_sha256_with_shared_info() {
    for (z, info, key) in [
        (
            "22518b10e70f2a3f243810ae3254139efbee04aa57c7af7d",
            "75eef81aa3041e33b80971203d2c0c52",
            "c498af77161cc59f2962b9a713e2b215152d139766ce34a776df11866a69bf2e52a13d9c7c6fc878c50c5ea0bc7b00e0da2447cfd874f6cf92f30d0097111485500c90c3af8b487872d04685d14c8d1dc8d7fa08beb0ce0ababc11f0bd496269142d43525a78e5bc79a17f59676a5706dc54d54d4d1f0bd7e386128ec26afc21",
        ),
        (
            "7e335afa4b31d772c0635c7b0e06f26fcd781df947d2990a",
            "d65a4812733f8cdbcdfb4b2f4c191d87",
            "c0bd9e38a8f9de14c2acd35b2f3410c6988cf02400543631e0d6a4c1d030365acbf398115e51aaddebdc9590664210f9aa9fed770d4c57edeafa0b8c14f93300865251218c262d63dadc47dfa0e0284826793985137e0a544ec80abf2fdf5ab90bdaea66204012efe34971dc431d625cd9a329b8217cc8fd0d9f02b13f2f6b0b",
        ),
        (
            "f148942fe6acdcd55d9196f9115b78f068da9b163a380fcf",
            "6d2748de2b48bb21fd9d1be67c0c68af",
            "6f61dcc517aa6a563dcadeabe1741637d9a6b093b68f19eb4311e0e7cc5ce704274331526ad3e3e0c8172ff2d92f7f07463bb4043e459ad4ed9ddffb9cc8690536b07379ba4aa8204ca25ec68c0d3639362fddf6648bcd2ce9334f091bd0167b7d38c771f632596599ef61ae0a93131b76c80d34e4926d26659ed57db7ba7555",
        ),
        (
            "fd4413d60953a7f9358492046109f61253ceef3c0e362ba0",
            "824d7da4bc94b95259326160bf9c73a4",
            "1825f49839ae8238c8c51fdd19dddc46d309288545e56e29e31712fd19e91e5a3aeee277085acd7c055eb50ab028bbb9218477aeb58a5e0a130433b2124a5c3098a77434a873b43bd0fec8297057ece049430d37f8f0daa222e15287e0796434e7cf32293c14fc3a92c55a1c842b4c857dd918819c7635482225fe91a3751eba",
        ),
        (
            "f365fe5360336c30a0b865785e3162d05d834596bb4034d0",
            "0530781d7d765d0d9a82b154eec78c3c",
            "92227b24b58da94b2803f6e7d0a8aab27e7c90a5e09afaecf136c3bab618104a694820178870c10b2933771aab6dedc893688122fffc5378f0eb178ed03bac4bfd3d7999f97c39aed64eeadb6801206b0f75cbd70ef96ae8f7c69b4947c1808ffc9ca589047803038d6310006924b934e8f3c1a15a59d99755a9a4e528daa201",
        ),
    ] {
        let out = kdf::x963_kdf_sha256_vec(&h(z), &h(info), 128).unwrap();
        assert_eq!(hex::encode(&*out), key, "Z {z}");
        // A shorter request is a prefix (truncation of the same blocks).
        let short = kdf::x963_kdf_sha256_vec(&h(z), &h(info), 40).unwrap();
        assert_eq!(hex::encode(&*short), key[..80]);
    }
}

// The GlobalPlatform SCP03 KDF against published SCP03 data: S-MAC derived from the pySim
// SCP03_Test_AES128_11 challenges must reproduce the recorded card cryptogram
// (tests/unittests/test_globalplatform.py, INITIALIZE UPDATE response bytes 21..29).
#[test]
fn scp03_kdf_card_cryptogram() {
    let mac = h("101112131415161718191a1b1c1d1e1f");
    let context = h("b13e5f938fc108c43eb51047495b249f"); // host challenge ‖ card challenge
    let s_mac = kdf::scp03_kdf_vec(&mac, kdf::ddc::S_MAC, &context, 16).unwrap();
    let cryptogram = kdf::scp03_kdf_vec(&s_mac, kdf::ddc::CARD_CRYPTOGRAM, &context, 8).unwrap();
    assert_eq!(hex::encode(&*cryptogram), "66c484c1d2ef1948");
}

#[test]
fn kdf_errors() {
    assert_eq!(
        kdf::x963_kdf_sha256_vec(&[], &[], 16).unwrap_err(),
        KdfError::EmptySharedSecret
    );
    assert!(kdf::scp03_kdf_vec(&[0; 16], 4, &[], 0).is_err());
    assert!(kdf::scp03_kdf_vec(&[0; 16], 4, &[], 16 * 256).is_err());
    assert!(kdf::scp03_kdf_vec(&[0; 15], 4, &[], 16).is_err());
}
