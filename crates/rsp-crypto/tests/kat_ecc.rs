//! Known-answer and interoperability tests for `rsp_crypto::ecc`.
//!
//! Every expected value here is copied from a published source, cited in a comment above it; none is
//! computed with this crate. Where a test changes a published value (a flipped bit, an extra byte), the
//! comment says so. The last tests run the `openssl` command (an independent implementation) at test
//! time and check both directions: what we produce OpenSSL accepts, and what OpenSSL produces we accept.

use std::path::Path;
use std::process::{Command, Output};

use rsp_crypto::ecc::{Curve, EccError, PrivateKey, PublicKey, der_to_raw, raw_to_der};

// ---------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------

fn h(hex_text: &str) -> Vec<u8> {
    hex::decode(hex_text).unwrap_or_else(|e| panic!("bad hex in a test vector ({hex_text}): {e}"))
}

/// SEC1 uncompressed point `04 ‖ x ‖ y`.
fn uncompressed(x: &str, y: &str) -> Vec<u8> {
    let mut point = vec![0x04];
    point.extend(h(x));
    point.extend(h(y));
    point
}

fn public(curve: Curve, x: &str, y: &str) -> PublicKey {
    PublicKey::from_sec1(curve, &uncompressed(x, y))
        .unwrap_or_else(|e| panic!("published point ({x}, {y}) refused on {curve}: {e}"))
}

/// Raw `r ‖ s`.
fn raw_sig(r: &str, s: &str) -> Vec<u8> {
    [h(r), h(s)].concat()
}

/// Flips one bit; bit 0 is the most significant bit of the first byte.
fn flip_bit(bytes: &[u8], bit: usize) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out[bit / 8] ^= 0x80 >> (bit % 8);
    out
}

fn is_encoding_error<T>(result: &Result<T, EccError>) -> bool {
    matches!(result, Err(EccError::BadSignatureEncoding(_)))
}

// ---------------------------------------------------------------------------------------------------
// 1. RFC 6979, Appendix A.2.5 (NIST P-256). Only the SHA-256 signatures are used (rsp signs with
//    SHA-256 only). aws-lc-rs signs P-256 with a random k, so the published (r, s) are checked by
//    verification, not by comparing our own signatures with them.
// ---------------------------------------------------------------------------------------------------

// RFC 6979 §A.2.5 "ECDSA, 256 Bits (Prime Field)", key pair: private key x and public key U = xG.
const RFC6979_X: &str = "C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721";
const RFC6979_UX: &str = "60FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6";
const RFC6979_UY: &str = "7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299";

// RFC 6979 §A.2.5, "With SHA-256, message = "sample"" (k = A6E3C57D...8AAD60).
const RFC6979_SAMPLE_R: &str = "EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716";
const RFC6979_SAMPLE_S: &str = "F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8";

// RFC 6979 §A.2.5, "With SHA-256, message = "test"" (k = D16B6AE8...0008E0).
const RFC6979_TEST_R: &str = "F1ABB023518351CD71D881567B1EA663ED3EFCF6C5132B354F28D3B0B7D38367";
const RFC6979_TEST_S: &str = "019F4113742A2B14BD25926B49C649155F267E60D3814B4C0CC84250E46F0083";

const RFC6979_SHA256: [(&[u8], &str, &str); 2] = [
    (b"sample", RFC6979_SAMPLE_R, RFC6979_SAMPLE_S),
    (b"test", RFC6979_TEST_R, RFC6979_TEST_S),
];

#[test]
fn rfc6979_p256_private_key_gives_published_public_key() {
    let key = PrivateKey::from_scalar(Curve::NistP256, &h(RFC6979_X)).unwrap();
    assert_eq!(key.curve(), Curve::NistP256);
    assert_eq!(
        key.public_key().to_sec1_uncompressed().to_vec(),
        uncompressed(RFC6979_UX, RFC6979_UY)
    );
    assert_eq!(
        key.public_key(),
        &public(Curve::NistP256, RFC6979_UX, RFC6979_UY)
    );
    assert_eq!(key.scalar().to_vec(), h(RFC6979_X));
}

#[test]
fn rfc6979_p256_published_signatures_verify_raw_and_der() {
    let key = public(Curve::NistP256, RFC6979_UX, RFC6979_UY);
    for (msg, r, s) in RFC6979_SHA256 {
        let raw = raw_sig(r, s);
        key.verify_raw(msg, &raw).unwrap();
        let der = raw_to_der(&raw).unwrap();
        key.verify_der(msg, &der).unwrap();
        assert_eq!(der_to_raw(&der).unwrap().to_vec(), raw);
    }
}

#[test]
fn rfc6979_p256_der_encoding_follows_x690() {
    // The DER form of the published (r, s), built by hand from the X.690 rules: an INTEGER whose first
    // byte has its high bit set gets a 00 pad. "sample": both r (EF..) and s (F7..) are padded.
    let sample = raw_to_der(&raw_sig(RFC6979_SAMPLE_R, RFC6979_SAMPLE_S)).unwrap();
    let expected = format!("3046022100{RFC6979_SAMPLE_R}022100{RFC6979_SAMPLE_S}");
    assert_eq!(sample, h(&expected));
    // "test": r (F1..) is padded, s (01 9F..) is not.
    let test = raw_to_der(&raw_sig(RFC6979_TEST_R, RFC6979_TEST_S)).unwrap();
    let expected = format!("3045022100{RFC6979_TEST_R}0220{RFC6979_TEST_S}");
    assert_eq!(test, h(&expected));
}

#[test]
fn rfc6979_p256_one_bit_changes_fail() {
    let key = public(Curve::NistP256, RFC6979_UX, RFC6979_UY);
    for (msg, r, s) in RFC6979_SHA256 {
        let raw = raw_sig(r, s);
        // One bit of r (bits 0..256) or of s (bits 256..512), raw and DER.
        for bit in [0, 1, 7, 8, 100, 254, 255, 256, 257, 300, 400, 510, 511] {
            let changed = flip_bit(&raw, bit);
            assert_eq!(
                key.verify_raw(msg, &changed),
                Err(EccError::BadSignature),
                "bit {bit}"
            );
            let der = raw_to_der(&changed).unwrap();
            assert_eq!(
                key.verify_der(msg, &der),
                Err(EccError::BadSignature),
                "bit {bit}"
            );
        }
        // Every single-bit change of the message.
        for bit in 0..msg.len() * 8 {
            let changed = flip_bit(msg, bit);
            assert_eq!(
                key.verify_raw(&changed, &raw),
                Err(EccError::BadSignature),
                "msg bit {bit}"
            );
        }
    }
    // Each published signature belongs to its own message only.
    let sample = raw_sig(RFC6979_SAMPLE_R, RFC6979_SAMPLE_S);
    let test = raw_sig(RFC6979_TEST_R, RFC6979_TEST_S);
    assert_eq!(
        key.verify_raw(b"test", &sample),
        Err(EccError::BadSignature)
    );
    assert_eq!(
        key.verify_raw(b"sample", &test),
        Err(EccError::BadSignature)
    );
    // r and s swapped.
    let swapped = raw_sig(RFC6979_SAMPLE_S, RFC6979_SAMPLE_R);
    assert_eq!(
        key.verify_raw(b"sample", &swapped),
        Err(EccError::BadSignature)
    );
}

#[test]
fn rfc6979_key_signs_and_verifies_and_other_keys_refuse() {
    let key = PrivateKey::from_scalar(Curve::NistP256, &h(RFC6979_X)).unwrap();
    let sig = key.sign_raw(b"sample").unwrap();
    key.public_key().verify_raw(b"sample", &sig).unwrap();
    let der = key.sign_der(b"sample").unwrap();
    key.public_key().verify_der(b"sample", &der).unwrap();
    // The same signature under the CAVP KAS COUNT 0 IUT key (a different, published key) fails.
    let other = public(Curve::NistP256, KAS_P256[0].qiut_x, KAS_P256[0].qiut_y);
    assert_eq!(
        other.verify_raw(b"sample", &sig),
        Err(EccError::BadSignature)
    );
}

// ---------------------------------------------------------------------------------------------------
// 2. NIST CAVP ECDSA SigVer, FIPS 186-4 (186-4ecdsatestvectors.zip, SigVer.rsp), section
//    [P-256,SHA-256]: all 15 vectors, in file order. Msg is the message (hashed with SHA-256 by the
//    verifier). Result as published: P = pass, F = fail (with the reason NIST gives).
// ---------------------------------------------------------------------------------------------------

struct SigVer {
    msg: &'static str,
    qx: &'static str,
    qy: &'static str,
    r: &'static str,
    s: &'static str,
    result: &'static str,
}

const SIGVER_P256_SHA256: [SigVer; 15] = [
    SigVer {
        msg: "e4796db5f785f207aa30d311693b3702821dff1168fd2e04c0836825aefd850d9aa60326d88cde1a23c7745351392ca2288d632c264f197d05cd424a30336c19fd09bb229654f0222fcb881a4b35c290a093ac159ce13409111ff0358411133c24f5b8e2090d6db6558afc36f06ca1f6ef779785adba68db27a409859fc4c4a0",
        qx: "87f8f2b218f49845f6f10eec3877136269f5c1a54736dbdf69f89940cad41555",
        qy: "e15f369036f49842fac7a86c8a2b0557609776814448b8f5e84aa9f4395205e9",
        r: "d19ff48b324915576416097d2544f7cbdf8768b1454ad20e0baac50e211f23b0",
        s: "a3e81e59311cdfff2d4784949f7a2cb50ba6c3a91fa54710568e61aca3e847c6",
        result: "F (3 - S changed)",
    },
    SigVer {
        msg: "069a6e6b93dfee6df6ef6997cd80dd2182c36653cef10c655d524585655462d683877f95ecc6d6c81623d8fac4e900ed0019964094e7de91f1481989ae1873004565789cbf5dc56c62aedc63f62f3b894c9c6f7788c8ecaadc9bd0e81ad91b2b3569ea12260e93924fdddd3972af5273198f5efda0746219475017557616170e",
        qx: "5cf02a00d205bdfee2016f7421807fc38ae69e6b7ccd064ee689fc1a94a9f7d2",
        qy: "ec530ce3cc5c9d1af463f264d685afe2b4db4b5828d7e61b748930f3ce622a85",
        r: "dc23d130c6117fb5751201455e99f36f59aba1a6a21cf2d0e7481a97451d6693",
        s: "d6ce7708c18dbf35d4f8aa7240922dc6823f2e7058cbc1484fcad1599db5018c",
        result: "F (2 - R changed)",
    },
    SigVer {
        msg: "df04a346cf4d0e331a6db78cca2d456d31b0a000aa51441defdb97bbeb20b94d8d746429a393ba88840d661615e07def615a342abedfa4ce912e562af714959896858af817317a840dcff85a057bb91a3c2bf90105500362754a6dd321cdd86128cfc5f04667b57aa78c112411e42da304f1012d48cd6a7052d7de44ebcc01de",
        qx: "2ddfd145767883ffbb0ac003ab4a44346d08fa2570b3120dcce94562422244cb",
        qy: "5f70c7d11ac2b7a435ccfbbae02c3df1ea6b532cc0e9db74f93fffca7c6f9a64",
        r: "9913111cff6f20c5bf453a99cd2c2019a4e749a49724a08774d14e4c113edda8",
        s: "9467cd4cd21ecb56b0cab0a9a453b43386845459127a952421f5c6382866c5cc",
        result: "F (4 - Q changed)",
    },
    SigVer {
        msg: "e1130af6a38ccb412a9c8d13e15dbfc9e69a16385af3c3f1e5da954fd5e7c45fd75e2b8c36699228e92840c0562fbf3772f07e17f1add56588dd45f7450e1217ad239922dd9c32695dc71ff2424ca0dec1321aa47064a044b7fe3c2b97d03ce470a592304c5ef21eed9f93da56bb232d1eeb0035f9bf0dfafdcc4606272b20a3",
        qx: "e424dc61d4bb3cb7ef4344a7f8957a0c5134e16f7a67c074f82e6e12f49abf3c",
        qy: "970eed7aa2bc48651545949de1dddaf0127e5965ac85d1243d6f60e7dfaee927",
        r: "bf96b99aa49c705c910be33142017c642ff540c76349b9dab72f981fd9347f4f",
        s: "17c55095819089c2e03b9cd415abdf12444e323075d98f31920b9e0f57ec871c",
        result: "P (0 )",
    },
    SigVer {
        msg: "73c5f6a67456ae48209b5f85d1e7de7758bf235300c6ae2bdceb1dcb27a7730fb68c950b7fcada0ecc4661d3578230f225a875e69aaa17f1e71c6be5c831f22663bac63d0c7a9635edb0043ff8c6f26470f02a7bc56556f1437f06dfa27b487a6c4290d8bad38d4879b334e341ba092dde4e4ae694a9c09302e2dbf443581c08",
        qx: "e0fc6a6f50e1c57475673ee54e3a57f9a49f3328e743bf52f335e3eeaa3d2864",
        qy: "7f59d689c91e463607d9194d99faf316e25432870816dde63f5d4b373f12f22a",
        r: "1d75830cd36f4c9aa181b2c4221e87f176b7f05b7c87824e82e396c88315c407",
        s: "cb2acb01dac96efc53a32d4a0d85d0c2e48955214783ecf50a4f0414a319c05a",
        result: "P (0 )",
    },
    SigVer {
        msg: "666036d9b4a2426ed6585a4e0fd931a8761451d29ab04bd7dc6d0c5b9e38e6c2b263ff6cb837bd04399de3d757c6c7005f6d7a987063cf6d7e8cb38a4bf0d74a282572bd01d0f41e3fd066e3021575f0fa04f27b700d5b7ddddf50965993c3f9c7118ed78888da7cb221849b3260592b8e632d7c51e935a0ceae15207bedd548",
        qx: "a849bef575cac3c6920fbce675c3b787136209f855de19ffe2e8d29b31a5ad86",
        qy: "bf5fe4f7858f9b805bd8dcc05ad5e7fb889de2f822f3d8b41694e6c55c16b471",
        r: "25acc3aa9d9e84c7abf08f73fa4195acc506491d6fc37cb9074528a7db87b9d6",
        s: "9b21d5b5259ed3f2ef07dfec6cc90d3a37855d1ce122a85ba6a333f307d31537",
        result: "F (2 - R changed)",
    },
    SigVer {
        msg: "7e80436bce57339ce8da1b5660149a20240b146d108deef3ec5da4ae256f8f894edcbbc57b34ce37089c0daa17f0c46cd82b5a1599314fd79d2fd2f446bd5a25b8e32fcf05b76d644573a6df4ad1dfea707b479d97237a346f1ec632ea5660efb57e8717a8628d7f82af50a4e84b11f21bdff6839196a880ae20b2a0918d58cd",
        qx: "3dfb6f40f2471b29b77fdccba72d37c21bba019efa40c1c8f91ec405d7dcc5df",
        qy: "f22f953f1e395a52ead7f3ae3fc47451b438117b1e04d613bc8555b7d6e6d1bb",
        r: "548886278e5ec26bed811dbb72db1e154b6f17be70deb1b210107decb1ec2a5a",
        s: "e93bfebd2f14f3d827ca32b464be6e69187f5edbd52def4f96599c37d58eee75",
        result: "F (4 - Q changed)",
    },
    SigVer {
        msg: "1669bfb657fdc62c3ddd63269787fc1c969f1850fb04c933dda063ef74a56ce13e3a649700820f0061efabf849a85d474326c8a541d99830eea8131eaea584f22d88c353965dabcdc4bf6b55949fd529507dfb803ab6b480cd73ca0ba00ca19c438849e2cea262a1c57d8f81cd257fb58e19dec7904da97d8386e87b84948169",
        qx: "69b7667056e1e11d6caf6e45643f8b21e7a4bebda463c7fdbc13bc98efbd0214",
        qy: "d3f9b12eb46c7c6fda0da3fc85bc1fd831557f9abc902a3be3cb3e8be7d1aa2f",
        r: "288f7a1cd391842cce21f00e6f15471c04dc182fe4b14d92dc18910879799790",
        s: "247b3c4e89a3bcadfea73c7bfd361def43715fa382b8c3edf4ae15d6e55e9979",
        result: "F (1 - Message changed)",
    },
    SigVer {
        msg: "3fe60dd9ad6caccf5a6f583b3ae65953563446c4510b70da115ffaa0ba04c076115c7043ab8733403cd69c7d14c212c655c07b43a7c71b9a4cffe22c2684788ec6870dc2013f269172c822256f9e7cc674791bf2d8486c0f5684283e1649576efc982ede17c7b74b214754d70402fb4bb45ad086cf2cf76b3d63f7fce39ac970",
        qx: "bf02cbcf6d8cc26e91766d8af0b164fc5968535e84c158eb3bc4e2d79c3cc682",
        qy: "069ba6cb06b49d60812066afa16ecf7b51352f2c03bd93ec220822b1f3dfba03",
        r: "f5acb06c59c2b4927fb852faa07faf4b1852bbb5d06840935e849c4d293d1bad",
        s: "049dab79c89cc02f1484c437f523e080a75f134917fda752f2d5ca397addfe5d",
        result: "F (3 - S changed)",
    },
    SigVer {
        msg: "983a71b9994d95e876d84d28946a041f8f0a3f544cfcc055496580f1dfd4e312a2ad418fe69dbc61db230cc0c0ed97e360abab7d6ff4b81ee970a7e97466acfd9644f828ffec538abc383d0e92326d1c88c55e1f46a668a039beaa1be631a89129938c00a81a3ae46d4aecbf9707f764dbaccea3ef7665e4c4307fa0b0a3075c",
        qx: "224a4d65b958f6d6afb2904863efd2a734b31798884801fcab5a590f4d6da9de",
        qy: "178d51fddada62806f097aa615d33b8f2404e6b1479f5fd4859d595734d6d2b9",
        r: "87b93ee2fecfda54deb8dff8e426f3c72c8864991f8ec2b3205bb3b416de93d2",
        s: "4044a24df85be0cc76f21a4430b75b8e77b932a87f51e4eccbc45c263ebf8f66",
        result: "F (2 - R changed)",
    },
    SigVer {
        msg: "4a8c071ac4fd0d52faa407b0fe5dab759f7394a5832127f2a3498f34aac287339e043b4ffa79528faf199dc917f7b066ad65505dab0e11e6948515052ce20cfdb892ffb8aa9bf3f1aa5be30a5bbe85823bddf70b39fd7ebd4a93a2f75472c1d4f606247a9821f1a8c45a6cb80545de2e0c6c0174e2392088c754e9c8443eb5af",
        qx: "43691c7795a57ead8c5c68536fe934538d46f12889680a9cb6d055a066228369",
        qy: "f8790110b3c3b281aa1eae037d4f1234aff587d903d93ba3af225c27ddc9ccac",
        r: "8acd62e8c262fa50dd9840480969f4ef70f218ebf8ef9584f199031132c6b1ce",
        s: "cfca7ed3d4347fb2a29e526b43c348ae1ce6c60d44f3191b6d8ea3a2d9c92154",
        result: "F (3 - S changed)",
    },
    SigVer {
        msg: "0a3a12c3084c865daf1d302c78215d39bfe0b8bf28272b3c0b74beb4b7409db0718239de700785581514321c6440a4bbaea4c76fa47401e151e68cb6c29017f0bce4631290af5ea5e2bf3ed742ae110b04ade83a5dbd7358f29a85938e23d87ac8233072b79c94670ff0959f9c7f4517862ff829452096c78f5f2e9a7e4e9216",
        qx: "9157dbfcf8cf385f5bb1568ad5c6e2a8652ba6dfc63bc1753edf5268cb7eb596",
        qy: "972570f4313d47fc96f7c02d5594d77d46f91e949808825b3d31f029e8296405",
        r: "dfaea6f297fa320b707866125c2a7d5d515b51a503bee817de9faa343cc48eeb",
        s: "8f780ad713f9c3e5a4f7fa4c519833dfefc6a7432389b1e4af463961f09764f2",
        result: "F (1 - Message changed)",
    },
    SigVer {
        msg: "785d07a3c54f63dca11f5d1a5f496ee2c2f9288e55007e666c78b007d95cc28581dce51f490b30fa73dc9e2d45d075d7e3a95fb8a9e1465ad191904124160b7c60fa720ef4ef1c5d2998f40570ae2a870ef3e894c2bc617d8a1dc85c3c55774928c38789b4e661349d3f84d2441a3b856a76949b9f1f80bc161648a1cad5588e",
        qx: "072b10c081a4c1713a294f248aef850e297991aca47fa96a7470abe3b8acfdda",
        qy: "9581145cca04a0fb94cedce752c8f0370861916d2a94e7c647c5373ce6a4c8f5",
        r: "09f5483eccec80f9d104815a1be9cc1a8e5b12b6eb482a65c6907b7480cf4f19",
        s: "a4f90e560c5e4eb8696cb276e5165b6a9d486345dedfb094a76e8442d026378d",
        result: "F (4 - Q changed)",
    },
    SigVer {
        msg: "76f987ec5448dd72219bd30bf6b66b0775c80b394851a43ff1f537f140a6e7229ef8cd72ad58b1d2d20298539d6347dd5598812bc65323aceaf05228f738b5ad3e8d9fe4100fd767c2f098c77cb99c2992843ba3eed91d32444f3b6db6cd212dd4e5609548f4bb62812a920f6e2bf1581be1ebeebdd06ec4e971862cc42055ca",
        qx: "09308ea5bfad6e5adf408634b3d5ce9240d35442f7fe116452aaec0d25be8c24",
        qy: "f40c93e023ef494b1c3079b2d10ef67f3170740495ce2cc57f8ee4b0618b8ee5",
        r: "5cc8aa7c35743ec0c23dde88dabd5e4fcd0192d2116f6926fef788cddb754e73",
        s: "9c9c045ebaa1b828c32f82ace0d18daebf5e156eb7cbfdc1eff4399a8a900ae7",
        result: "F (1 - Message changed)",
    },
    SigVer {
        msg: "60cd64b2cd2be6c33859b94875120361a24085f3765cb8b2bf11e026fa9d8855dbe435acf7882e84f3c7857f96e2baab4d9afe4588e4a82e17a78827bfdb5ddbd1c211fbc2e6d884cddd7cb9d90d5bf4a7311b83f352508033812c776a0e00c003c7e0d628e50736c7512df0acfa9f2320bd102229f46495ae6d0857cc452a84",
        qx: "2d98ea01f754d34bbc3003df5050200abf445ec728556d7ed7d5c54c55552b6d",
        qy: "9b52672742d637a32add056dfd6d8792f2a33c2e69dafabea09b960bc61e230a",
        r: "06108e525f845d0155bf60193222b3219c98e3d49424c2fb2a0987f825c17959",
        s: "62b5cdd591e5b507e560167ba8f6f7cda74673eb315680cb89ccbc4eec477dce",
        result: "P (0 )",
    },
];

#[test]
fn cavp_sigver_p256_sha256_verdicts_are_reproduced() {
    let (mut passed, mut failed) = (0, 0);
    for (i, v) in SIGVER_P256_SHA256.iter().enumerate() {
        // Every Q in this section, the changed ones included, is a valid curve point.
        let key = public(Curve::NistP256, v.qx, v.qy);
        let msg = h(v.msg);
        let raw = raw_sig(v.r, v.s);
        let der = raw_to_der(&raw).unwrap();
        if v.result.starts_with('P') {
            assert_eq!(
                key.verify_raw(&msg, &raw),
                Ok(()),
                "vector {i}: {}",
                v.result
            );
            assert_eq!(
                key.verify_der(&msg, &der),
                Ok(()),
                "vector {i}: {}",
                v.result
            );
            passed += 1;
        } else {
            assert_eq!(
                key.verify_raw(&msg, &raw),
                Err(EccError::BadSignature),
                "vector {i}: {}",
                v.result
            );
            assert_eq!(
                key.verify_der(&msg, &der),
                Err(EccError::BadSignature),
                "vector {i}: {}",
                v.result
            );
            failed += 1;
        }
    }
    assert_eq!((passed, failed), (3, 12));
}

// ---------------------------------------------------------------------------------------------------
// 3. RFC 7027, Appendix A.1 "Curve brainpoolP256r1" (ECDH test vectors; the same values are repeated in
//    RFC 8734 Appendix A.1).
// ---------------------------------------------------------------------------------------------------

const RFC7027_DA: &str = "81DB1EE100150FF2EA338D708271BE38300CB54241D79950F77B063039804F1D";
const RFC7027_X_QA: &str = "44106E913F92BC02A1705D9953A8414DB95E1AAA49E81D9E85F929A8E3100BE5";
const RFC7027_Y_QA: &str = "8AB4846F11CACCB73CE49CBDD120F5A900A69FD32C272223F789EF10EB089BDC";
const RFC7027_DB: &str = "55E40BC41E37E3E2AD25C3C6654511FFA8474A91A0032087593852D3E7D76BD3";
const RFC7027_X_QB: &str = "8D2D688C6CF93E1160AD04CC4429117DC2C41825E1E9FCA0ADDD34E6F1B39F7B";
const RFC7027_Y_QB: &str = "990C57520812BE512641E47034832106BC7D3E8DD0E4C7F1136D7006547CEC6A";
const RFC7027_X_Z: &str = "89AFC39D41D3B327814B80940B042590F96556EC91E6AE7939BCE31F3A18BF2B";

#[test]
fn rfc7027_brainpool_public_keys_match() {
    let a = PrivateKey::from_scalar(Curve::BrainpoolP256r1, &h(RFC7027_DA)).unwrap();
    let b = PrivateKey::from_scalar(Curve::BrainpoolP256r1, &h(RFC7027_DB)).unwrap();
    assert_eq!(a.curve(), Curve::BrainpoolP256r1);
    assert_eq!(
        a.public_key().to_sec1_uncompressed().to_vec(),
        uncompressed(RFC7027_X_QA, RFC7027_Y_QA)
    );
    assert_eq!(
        b.public_key().to_sec1_uncompressed().to_vec(),
        uncompressed(RFC7027_X_QB, RFC7027_Y_QB)
    );
}

#[test]
fn rfc7027_brainpool_agreement_both_directions_gives_x_z() {
    let a = PrivateKey::from_scalar(Curve::BrainpoolP256r1, &h(RFC7027_DA)).unwrap();
    let b = PrivateKey::from_scalar(Curve::BrainpoolP256r1, &h(RFC7027_DB)).unwrap();
    let q_a = public(Curve::BrainpoolP256r1, RFC7027_X_QA, RFC7027_Y_QA);
    let q_b = public(Curve::BrainpoolP256r1, RFC7027_X_QB, RFC7027_Y_QB);
    let z_ab = a.agree(&q_b).unwrap();
    let z_ba = b.agree(&q_a).unwrap();
    assert_eq!(z_ab.as_bytes().to_vec(), h(RFC7027_X_Z));
    assert_eq!(z_ba.as_bytes().to_vec(), h(RFC7027_X_Z));
    // With the public keys taken from the private keys, too.
    assert_eq!(
        a.agree(b.public_key()).unwrap().as_bytes().to_vec(),
        h(RFC7027_X_Z)
    );
    // A peer given in compressed form (02/03 ‖ x; y of qB ends in 6A, even, so 02) is the same point.
    let compressed = [&[0x02][..], &h(RFC7027_X_QB)].concat();
    let q_b_compressed = PublicKey::from_sec1(Curve::BrainpoolP256r1, &compressed).unwrap();
    assert_eq!(q_b_compressed, q_b);
    assert_eq!(
        a.agree(&q_b_compressed).unwrap().as_bytes().to_vec(),
        h(RFC7027_X_Z)
    );
}

// ---------------------------------------------------------------------------------------------------
// 4. brainpoolP256r1 ECDSA with SHA-256: Project Wycheproof (C2SP/wycheproof, testvectors_v1).
//    No published RFC 6979-style brainpool vector with k was found, so our (deterministic, RustCrypto)
//    brainpool signatures are checked by sign-then-verify and by OpenSSL (below), not by value.
// ---------------------------------------------------------------------------------------------------

// Wycheproof ecdsa_brainpoolP256r1_sha256_p1363_test.json (raw r ‖ s), one vector per tuple:
// (tcId, public key wx, wy, msg, sig, valid?).
const WY_KEY1_X: &str = "019a2d9637743a63ddaefdbca0ee229a163b809b9b145e5313bbeb8defeab9d6";
const WY_KEY1_Y: &str = "548caf89bf5ba49499404145651234336401b9b2843a579ed152e090f11b9e59";

type P1363Case = (
    u32,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    bool,
);

const WYCHEPROOF_BP256_P1363: [P1363Case; 14] = [
    // tcId 1 "signature malleability" (valid).
    (
        1,
        WY_KEY1_X,
        WY_KEY1_Y,
        "313233343030",
        "0a5f8c70ba2d0842d5d0f841f160ad15195769a8159bfe692634d73d469d111f426e857aad3ff7aa96e4d200c03b45f1846a36d089ee3917768ca1a0d6d4da6e",
        true,
    ),
    // tcId 2 "replaced r by r + n" (invalid).
    (
        2,
        WY_KEY1_X,
        WY_KEY1_Y,
        "313233343030",
        "b45ae44c5c1bb1ff143702d28ee43a86a590e44bcafda560b652e5bfdde567c6678cd260f4aeb211a781388fdd48478007cf43d32b736de019916ce1c0737c39",
        false,
    ),
    // tcId 4 "replaced r by n - r" (invalid).
    (
        4,
        WY_KEY1_X,
        WY_KEY1_Y,
        "313233343030",
        "9f9bcb6ae7c1a1796895124eac22e05c72e210fb9fc5a88e69e9374550ab4588678cd260f4aeb211a781388fdd48478007cf43d32b736de019916ce1c0737c39",
        false,
    ),
    // tcId 11 "Signature with special case values r=0 and s=0" (invalid).
    (
        11,
        WY_KEY1_X,
        WY_KEY1_Y,
        "313233343030",
        "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
        false,
    ),
    // tcId 19 "Signature with special case values r=1 and s=1" (invalid).
    (
        19,
        WY_KEY1_X,
        WY_KEY1_Y,
        "313233343030",
        "00000000000000000000000000000000000000000000000000000000000000010000000000000000000000000000000000000000000000000000000000000001",
        false,
    ),
    // tcId 25 "Signature with special case values r=n and s=0" (invalid).
    (
        25,
        WY_KEY1_X,
        WY_KEY1_Y,
        "313233343030",
        "a9fb57dba1eea9bc3e660a909d838d718c397aa3b561a6f7901e0e82974856a70000000000000000000000000000000000000000000000000000000000000000",
        false,
    ),
    // tcId 61, 62, 63 "special case hash" (valid).
    (
        61,
        WY_KEY1_X,
        WY_KEY1_Y,
        "343236343739373234",
        "5583dd480964bd2332885fbb50b7475ebd428399e7166fd9bd529611534b9f340ed035a02c4b665cacb70de8e822facd71645a15f93fee661324f850b847b51d",
        true,
    ),
    (
        62,
        WY_KEY1_X,
        WY_KEY1_Y,
        "37313338363834383931",
        "300e26027ce7d3f21c8571dc690b1bb990e8fc49ad3e95374bd543b2e22badc622bc8f2445cd4956bc0db553966a0718aeb5ead65bc66ddb21fea0e571a87ee1",
        true,
    ),
    (
        63,
        WY_KEY1_X,
        WY_KEY1_Y,
        "3130333539333331363638",
        "2907cb01a82a88046640a523f9b9854d95b7ec2ddd67c20723d05829e8438a7738ca08e58623560f724a3e3f9ba0e9ec7974976dd34e6940c0fe6168d540e39b",
        true,
    ),
    // tcId 126 "small r and s" (valid; r = 2, s = 1) with its own key.
    (
        126,
        "77b640fccd8eed0fd78ab7c8fa397e14383cc025f93c6f0e6bab22eca761e6b5",
        "7dfb114ce223f2af64e7fee5f85b70b14fb5b5c1f3834ded78a4628f3584034b",
        "313233343030",
        "00000000000000000000000000000000000000000000000000000000000000020000000000000000000000000000000000000000000000000000000000000001",
        true,
    ),
    // tcId 130 "small r and s" (valid; r = 2, s = 3) and tcId 132 "r is larger than n" (invalid).
    (
        130,
        "6db366ee784b945641ae1fb3c7774b81de9fccb6ae3857ffa9df210dc31b78ac",
        "77f473f0c55c1c5476d72d11dcd872e0993fef11a4a0078d6064001569d62239",
        "313233343030",
        "00000000000000000000000000000000000000000000000000000000000000020000000000000000000000000000000000000000000000000000000000000003",
        true,
    ),
    (
        132,
        "6db366ee784b945641ae1fb3c7774b81de9fccb6ae3857ffa9df210dc31b78ac",
        "77f473f0c55c1c5476d72d11dcd872e0993fef11a4a0078d6064001569d62239",
        "313233343030",
        "a9fb57dba1eea9bc3e660a909d838d718c397aa3b561a6f7901e0e82974856a90000000000000000000000000000000000000000000000000000000000000003",
        false,
    ),
    // tcId 133 "s is larger than n" (invalid).
    (
        133,
        "3a7953621ee48821323f3e15918e3d9bcddb5517557f61cf2ef25ab5235e82b2",
        "5d135c315cd4bd43ae7b97d314dc8aaf76ac84e88622f1bbbf5b375e494d01b4",
        "313233343030",
        "0000000000000000000000000000000000000000000000000000000000000002a9fb57dba1eea9bc3e660a909d838d718c397aa3b561a6f7901e0e82975b2d2e",
        false,
    ),
    // tcId 134 "small r and s^-1" (valid).
    (
        134,
        "113489555bdc112352b08b7ffebcf05090f94da62367646b2e03a3478863914b",
        "4b4a0a435462a122f6d9ac801319bbc6d2c59228861a3414b500e5cf5943c964",
        "313233343030",
        "00000000000000000000000000000000000000000000000000000000000001012827370584fdeb9f5d5a9fb9579a09390efb6f9d99b64fc188d8bce05c2d4eed",
        true,
    ),
];

#[test]
fn wycheproof_brainpool_p1363_verdicts_are_reproduced() {
    for (tc_id, x, y, msg, sig, valid) in WYCHEPROOF_BP256_P1363 {
        let key = public(Curve::BrainpoolP256r1, x, y);
        let (msg, raw) = (h(msg), h(sig));
        let der = raw_to_der(&raw).unwrap();
        if valid {
            assert_eq!(key.verify_raw(&msg, &raw), Ok(()), "tcId {tc_id}");
            assert_eq!(key.verify_der(&msg, &der), Ok(()), "tcId {tc_id}");
            // One bit of s changed: refused.
            assert_eq!(
                key.verify_raw(&msg, &flip_bit(&raw, 511)),
                Err(EccError::BadSignature),
                "tcId {tc_id}"
            );
        } else {
            assert_eq!(
                key.verify_raw(&msg, &raw),
                Err(EccError::BadSignature),
                "tcId {tc_id}"
            );
            assert_eq!(
                key.verify_der(&msg, &der),
                Err(EccError::BadSignature),
                "tcId {tc_id}"
            );
        }
    }
}

#[test]
fn wycheproof_brainpool_p1363_wrong_sizes_are_refused() {
    let key = public(Curve::BrainpoolP256r1, WY_KEY1_X, WY_KEY1_Y);
    // tcId 5 "replaced r by r + 2**256" (66 bytes) and tcId 125 "incorrect size of signature" ("0103").
    let r_plus_2_256 = "010a5f8c70ba2d0842d5d0f841f160ad15195769a8159bfe692634d73d469d111f00678cd260f4aeb211a781388fdd48478007cf43d32b736de019916ce1c0737c39";
    assert!(is_encoding_error(
        &key.verify_raw(b"123400", &h(r_plus_2_256))
    ));
    let key125 = public(
        Curve::BrainpoolP256r1,
        "10cc7992ede28c7b4dda5c35cbd71174918e83adab0342cc3d556a413b4ce93b",
        "3f9c3b38aef0a0e687d7ee6afde70d47d6900ff0ce62156e8645b8103fc66cad",
    );
    assert!(is_encoding_error(&key125.verify_raw(b"123400", &h("0103"))));
}

// Wycheproof ecdsa_brainpoolP256r1_sha256_test.json (ASN.1 DER signatures).
// Test group 1: publicKeyDer (SubjectPublicKeyInfo) and the four "pseudorandom signature" vectors.
const WY_DER_KEY_SPKI: &str = "305a301406072a8648ce3d020106092b2403030208010107034200042676bd1e3fd83f3328d1af941442c036760f09587729419053083eb61d1ed22c2cf769688a5ffd67da1899d243e66bcabe21f9e78335263bf5308b8e41a71b39";
const WY_DER_KEY_X: &str = "2676bd1e3fd83f3328d1af941442c036760f09587729419053083eb61d1ed22c";
const WY_DER_KEY_Y: &str = "2cf769688a5ffd67da1899d243e66bcabe21f9e78335263bf5308b8e41a71b39";

const WYCHEPROOF_BP256_DER_VALID_GROUP1: [(u32, &str, &str); 4] = [
    (
        1,
        "",
        "30440220745be1da902d19c76c8f57d4a1f3362b4b20ed7c8de8fc0463d566795f979cea02205916c317a1e325b53735216a0fa37737f08b32245c88084817b468a41f5afee9",
    ),
    (
        2,
        "4d7367",
        "304502200ff9279a0775740b7db8bec07f9a0401b7903886cb198c1b18c46de0673b31c30221008b3c8686bd1a1508b5b785e762fece8c6cf19b6156983e5c36b2bbe724d6c23e",
    ),
    (
        3,
        "313233343030",
        "30450220351e727003896ec02949a3cf752223bcc6c2b611b30391edd60dc0c83dc9c98f022100924ad9dc00364d4aa2091416d173862f9b02965ff176e880ea62a673e16db98e",
    ),
    (
        4,
        "0000000000000000000000000000000000000000",
        "3044022044a811b2321acbc65cacf80d2dbe848946f1dac528f3e1ae38b0e54d083c258f022055d7edfaecdda3bbc062d5074e3c3719d32761159d027ca27c1725ddbd62f688",
    ),
];

// Test group 2 (the WY_KEY1 key, published also as this publicKeyPem), msg "313233343030".
const WY_KEY1_PEM: &str = "-----BEGIN PUBLIC KEY-----\nMFowFAYHKoZIzj0CAQYJKyQDAwIIAQEHA0IABAGaLZY3dDpj3a79vKDuIpoWO4Cb\nmxReUxO7643v6rnWVIyvib9bpJSZQEFFZRI0M2QBubKEOlee0VLgkPEbnlk=\n-----END PUBLIC KEY-----\n";

const WYCHEPROOF_BP256_DER_VALID_GROUP2: [(u32, &str); 2] = [
    // tcId 5 "signature malleability", tcId 6 "valid".
    (
        5,
        "304402200a5f8c70ba2d0842d5d0f841f160ad15195769a8159bfe692634d73d469d111f0220426e857aad3ff7aa96e4d200c03b45f1846a36d089ee3917768ca1a0d6d4da6e",
    ),
    (
        6,
        "304402200a5f8c70ba2d0842d5d0f841f160ad15195769a8159bfe692634d73d469d111f0220678cd260f4aeb211a781388fdd48478007cf43d32b736de019916ce1c0737c39",
    ),
];

// Test group 2, result "invalid": BER and malformed encodings of the tcId 6 signature.
// (tcId, comment as published, sig).
const WYCHEPROOF_BP256_DER_INVALID: [(u32, &str, &str); 26] = [
    (
        7,
        "length of sequence [r, s] uses long form encoding",
        "30814402200a5f8c70ba2d0842d5d0f841f160ad15195769a8159bfe692634d73d469d111f0220678cd260f4aeb211a781388fdd48478007cf43d32b736de019916ce1c0737c39",
    ),
    (
        8,
        "length of sequence [r, s] contains a leading 0",
        "3082004402200a5f8c70ba2d0842d5d0f841f160ad15195769a8159bfe692634d73d469d111f0220678cd260f4aeb211a781388fdd48478007cf43d32b736de019916ce1c0737c39",
    ),
    (
        9,
        "length of sequence [r, s] uses 69 instead of 68",
        "304502200a5f8c70ba2d0842d5d0f841f160ad15195769a8159bfe692634d73d469d111f0220678cd260f4aeb211a781388fdd48478007cf43d32b736de019916ce1c0737c39",
    ),
    (
        10,
        "length of sequence [r, s] uses 67 instead of 68",
        "304302200a5f8c70ba2d0842d5d0f841f160ad15195769a8159bfe692634d73d469d111f0220678cd260f4aeb211a781388fdd48478007cf43d32b736de019916ce1c0737c39",
    ),
    (
        19,
        "replaced sequence [r, s] by an indefinite length tag without termination",
        "308002200a5f8c70ba2d0842d5d0f841f160ad15195769a8159bfe692634d73d469d111f0220678cd260f4aeb211a781388fdd48478007cf43d32b736de019916ce1c0737c39",
    ),
    (20, "removing sequence [r, s]", ""),
    (21, "lonely sequence tag", "30"),
    (
        22,
        "appending 0's to sequence [r, s]",
        "304602200a5f8c70ba2d0842d5d0f841f160ad15195769a8159bfe692634d73d469d111f0220678cd260f4aeb211a781388fdd48478007cf43d32b736de019916ce1c0737c390000",
    ),
    (
        24,
        "appending unused 0's to sequence [r, s]",
        "304402200a5f8c70ba2d0842d5d0f841f160ad15195769a8159bfe692634d73d469d111f0220678cd260f4aeb211a781388fdd48478007cf43d32b736de019916ce1c0737c390000",
    ),
    (
        25,
        "appending null value to sequence [r, s]",
        "304602200a5f8c70ba2d0842d5d0f841f160ad15195769a8159bfe692634d73d469d111f0220678cd260f4aeb211a781388fdd48478007cf43d32b736de019916ce1c0737c390500",
    ),
    (
        28,
        "appending garbage to sequence [r, s]",
        "3046304402200a5f8c70ba2d0842d5d0f841f160ad15195769a8159bfe692634d73d469d111f0220678cd260f4aeb211a781388fdd48478007cf43d32b736de019916ce1c0737c390004deadbeef",
    ),
    (32, "truncated length of sequence [r, s]", "3081"),
    (
        55,
        "append zero",
        "304702200a5f8c70ba2d0842d5d0f841f160ad15195769a8159bfe692634d73d469d111f0220678cd260f4aeb211a781388fdd48478007cf43d32b736de019916ce1c0737c39020100",
    ),
    (
        59,
        "sequence of sequence",
        "3046304402200a5f8c70ba2d0842d5d0f841f160ad15195769a8159bfe692634d73d469d111f0220678cd260f4aeb211a781388fdd48478007cf43d32b736de019916ce1c0737c39",
    ),
    (
        60,
        "truncated sequence: removed last 1 elements",
        "302202200a5f8c70ba2d0842d5d0f841f160ad15195769a8159bfe692634d73d469d111f",
    ),
    (
        61,
        "repeating element in sequence",
        "306602200a5f8c70ba2d0842d5d0f841f160ad15195769a8159bfe692634d73d469d111f0220678cd260f4aeb211a781388fdd48478007cf43d32b736de019916ce1c0737c390220678cd260f4aeb211a781388fdd48478007cf43d32b736de019916ce1c0737c39",
    ),
    (
        66,
        "length of r uses long form encoding",
        "30450281200a5f8c70ba2d0842d5d0f841f160ad15195769a8159bfe692634d73d469d111f0220678cd260f4aeb211a781388fdd48478007cf43d32b736de019916ce1c0737c39",
    ),
    (
        67,
        "length of r contains a leading 0",
        "3046028200200a5f8c70ba2d0842d5d0f841f160ad15195769a8159bfe692634d73d469d111f0220678cd260f4aeb211a781388fdd48478007cf43d32b736de019916ce1c0737c39",
    ),
    (
        68,
        "length of r uses 33 instead of 32",
        "304402210a5f8c70ba2d0842d5d0f841f160ad15195769a8159bfe692634d73d469d111f0220678cd260f4aeb211a781388fdd48478007cf43d32b736de019916ce1c0737c39",
    ),
    (
        69,
        "length of r uses 31 instead of 32",
        "3044021f0a5f8c70ba2d0842d5d0f841f160ad15195769a8159bfe692634d73d469d111f0220678cd260f4aeb211a781388fdd48478007cf43d32b736de019916ce1c0737c39",
    ),
    (
        79,
        "removing r",
        "30220220678cd260f4aeb211a781388fdd48478007cf43d32b736de019916ce1c0737c39",
    ),
    (
        82,
        "appending 0's to r",
        "304602220a5f8c70ba2d0842d5d0f841f160ad15195769a8159bfe692634d73d469d111f00000220678cd260f4aeb211a781388fdd48478007cf43d32b736de019916ce1c0737c39",
    ),
    (
        83,
        "prepending 0's to r",
        "3046022200000a5f8c70ba2d0842d5d0f841f160ad15195769a8159bfe692634d73d469d111f0220678cd260f4aeb211a781388fdd48478007cf43d32b736de019916ce1c0737c39",
    ),
    (
        84,
        "appending unused 0's to r",
        "304602200a5f8c70ba2d0842d5d0f841f160ad15195769a8159bfe692634d73d469d111f00000220678cd260f4aeb211a781388fdd48478007cf43d32b736de019916ce1c0737c39",
    ),
    (
        89,
        "truncated length of r",
        "302402810220678cd260f4aeb211a781388fdd48478007cf43d32b736de019916ce1c0737c39",
    ),
    (
        94,
        "changing tag value of r",
        "304400200a5f8c70ba2d0842d5d0f841f160ad15195769a8159bfe692634d73d469d111f0220678cd260f4aeb211a781388fdd48478007cf43d32b736de019916ce1c0737c39",
    ),
];

#[test]
fn wycheproof_brainpool_published_public_keys_load() {
    let from_spki = PublicKey::from_spki_der(&h(WY_DER_KEY_SPKI)).unwrap();
    assert_eq!(from_spki.curve(), Curve::BrainpoolP256r1);
    assert_eq!(
        from_spki,
        public(Curve::BrainpoolP256r1, WY_DER_KEY_X, WY_DER_KEY_Y)
    );
    // Our SPKI encoding of the key is byte-identical to the published one.
    assert_eq!(from_spki.to_spki_der(), h(WY_DER_KEY_SPKI));
    let from_pem = PublicKey::from_pem(WY_KEY1_PEM).unwrap();
    assert_eq!(
        from_pem,
        public(Curve::BrainpoolP256r1, WY_KEY1_X, WY_KEY1_Y)
    );
    assert_eq!(from_pem.to_pem(), WY_KEY1_PEM);
}

#[test]
fn wycheproof_brainpool_der_valid_signatures_verify() {
    let key = PublicKey::from_spki_der(&h(WY_DER_KEY_SPKI)).unwrap();
    for (tc_id, msg, sig) in WYCHEPROOF_BP256_DER_VALID_GROUP1 {
        let (msg, der) = (h(msg), h(sig));
        assert_eq!(key.verify_der(&msg, &der), Ok(()), "tcId {tc_id}");
        let raw = der_to_raw(&der).unwrap();
        assert_eq!(key.verify_raw(&msg, &raw), Ok(()), "tcId {tc_id}");
        // Our DER encoder gives back the published bytes.
        assert_eq!(raw_to_der(&raw).unwrap(), der, "tcId {tc_id}");
        // Another message: refused.
        assert_eq!(
            key.verify_der(b"another message", &der),
            Err(EccError::BadSignature),
            "tcId {tc_id}"
        );
    }
    let key = PublicKey::from_pem(WY_KEY1_PEM).unwrap();
    for (tc_id, sig) in WYCHEPROOF_BP256_DER_VALID_GROUP2 {
        assert_eq!(key.verify_der(b"123400", &h(sig)), Ok(()), "tcId {tc_id}");
        assert_eq!(
            raw_to_der(&der_to_raw(&h(sig)).unwrap()).unwrap(),
            h(sig),
            "tcId {tc_id}"
        );
    }
}

#[test]
fn wycheproof_brainpool_der_invalid_encodings_are_refused() {
    let key = PublicKey::from_pem(WY_KEY1_PEM).unwrap();
    // Control: the unmodified tcId 6 signature verifies over the same message.
    key.verify_der(b"123400", &h(WYCHEPROOF_BP256_DER_VALID_GROUP2[1].1))
        .unwrap();
    // Our parser is strict DER, so each is refused before any curve arithmetic, as an encoding error.
    for (tc_id, comment, sig) in WYCHEPROOF_BP256_DER_INVALID {
        let result = key.verify_der(b"123400", &h(sig));
        assert!(
            is_encoding_error(&result),
            "tcId {tc_id} ({comment}): {result:?}"
        );
        assert!(
            is_encoding_error(&der_to_raw(&h(sig))),
            "tcId {tc_id} ({comment})"
        );
    }
}

#[test]
fn brainpool_sign_then_verify_with_rfc7027_key() {
    let key = PrivateKey::from_scalar(Curve::BrainpoolP256r1, &h(RFC7027_DA)).unwrap();
    let published = public(Curve::BrainpoolP256r1, RFC7027_X_QA, RFC7027_Y_QA);
    for msg in [&b""[..], b"sample", b"test", &[0u8; 1000]] {
        let raw = key.sign_raw(msg).unwrap();
        published.verify_raw(msg, &raw).unwrap();
        let der = key.sign_der(msg).unwrap();
        published.verify_der(msg, &der).unwrap();
        assert_eq!(
            published.verify_raw(b"other", &raw),
            Err(EccError::BadSignature)
        );
        // Wrong key (RFC 7027 qB): refused.
        let q_b = public(Curve::BrainpoolP256r1, RFC7027_X_QB, RFC7027_Y_QB);
        assert_eq!(q_b.verify_raw(msg, &raw), Err(EccError::BadSignature));
    }
}

// ---------------------------------------------------------------------------------------------------
// 5. NIST CAVP KAS ECC CDH primitive (SP 800-56A, ecccdhtestvectors.zip, KAS_ECC_CDH_PrimitiveTest.txt),
//    section [P-256], COUNT 0 and COUNT 1. Only the IUT's private key is published (the CAVS side gives
//    its public key only), so the agreement runs in the IUT direction; the IUT public key is checked
//    against dIUT.
// ---------------------------------------------------------------------------------------------------

struct KasCdh {
    qcavs_x: &'static str,
    qcavs_y: &'static str,
    d_iut: &'static str,
    qiut_x: &'static str,
    qiut_y: &'static str,
    z_iut: &'static str,
}

const KAS_P256: [KasCdh; 2] = [
    // COUNT = 0
    KasCdh {
        qcavs_x: "700c48f77f56584c5cc632ca65640db91b6bacce3a4df6b42ce7cc838833d287",
        qcavs_y: "db71e509e3fd9b060ddb20ba5c51dcc5948d46fbf640dfe0441782cab85fa4ac",
        d_iut: "7d7dc5f71eb29ddaf80d6214632eeae03d9058af1fb6d22ed80badb62bc1a534",
        qiut_x: "ead218590119e8876b29146ff89ca61770c4edbbf97d38ce385ed281d8a6b230",
        qiut_y: "28af61281fd35e2fa7002523acc85a429cb06ee6648325389f59edfce1405141",
        z_iut: "46fc62106420ff012e54a434fbdd2d25ccc5852060561e68040dd7778997bd7b",
    },
    // COUNT = 1
    KasCdh {
        qcavs_x: "809f04289c64348c01515eb03d5ce7ac1a8cb9498f5caa50197e58d43a86a7ae",
        qcavs_y: "b29d84e811197f25eba8f5194092cb6ff440e26d4421011372461f579271cda3",
        d_iut: "38f65d6dce47676044d58ce5139582d568f64bb16098d179dbab07741dd5caf5",
        qiut_x: "119f2f047902782ab0c9e27a54aff5eb9b964829ca99c06b02ddba95b0a3f6d0",
        qiut_y: "8f52b726664cac366fc98ac7a012b2682cbd962e5acb544671d41b9445704d1d",
        z_iut: "057d636096cb80b67a8c038c890e887d1adfa4195e9b3ce241c8a778c59cda67",
    },
];

#[test]
fn cavp_kas_ecc_cdh_p256_gives_ziut() {
    for (count, v) in KAS_P256.iter().enumerate() {
        let iut = PrivateKey::from_scalar(Curve::NistP256, &h(v.d_iut)).unwrap();
        assert_eq!(
            iut.public_key().to_sec1_uncompressed().to_vec(),
            uncompressed(v.qiut_x, v.qiut_y),
            "COUNT {count}"
        );
        let cavs = public(Curve::NistP256, v.qcavs_x, v.qcavs_y);
        assert_eq!(
            iut.agree(&cavs).unwrap().as_bytes().to_vec(),
            h(v.z_iut),
            "COUNT {count}"
        );
    }
    // The two vectors do not share a secret: COUNT 0's IUT with COUNT 1's CAVS key gives another Z.
    let iut0 = PrivateKey::from_scalar(Curve::NistP256, &h(KAS_P256[0].d_iut)).unwrap();
    let cavs1 = public(Curve::NistP256, KAS_P256[1].qcavs_x, KAS_P256[1].qcavs_y);
    let z = iut0.agree(&cavs1).unwrap();
    assert_ne!(z.as_bytes().to_vec(), h(KAS_P256[0].z_iut));
    assert_ne!(z.as_bytes().to_vec(), h(KAS_P256[1].z_iut));
}

// ---------------------------------------------------------------------------------------------------
// 6. Refusals
// ---------------------------------------------------------------------------------------------------

#[test]
fn points_not_on_the_curve_are_refused() {
    // CAVP KAS COUNT 0 QCAVS with the last byte of y changed (ac -> ad) by this test.
    let y_changed = "db71e509e3fd9b060ddb20ba5c51dcc5948d46fbf640dfe0441782cab85fa4ad";
    let bad = uncompressed(KAS_P256[0].qcavs_x, y_changed);
    assert!(matches!(
        PublicKey::from_sec1(Curve::NistP256, &bad),
        Err(EccError::BadPublicKey(_))
    ));
    // CAVP KAS COUNT 0 QCAVS with the first byte of x changed (70 -> 71) by this test.
    let x_changed = "710c48f77f56584c5cc632ca65640db91b6bacce3a4df6b42ce7cc838833d287";
    let bad = uncompressed(x_changed, KAS_P256[0].qcavs_y);
    assert!(matches!(
        PublicKey::from_sec1(Curve::NistP256, &bad),
        Err(EccError::BadPublicKey(_))
    ));
    // RFC 7027 qA with the last byte of y changed (DC -> DD) by this test.
    let bad = uncompressed(
        RFC7027_X_QA,
        "8AB4846F11CACCB73CE49CBDD120F5A900A69FD32C272223F789EF10EB089BDD",
    );
    assert!(matches!(
        PublicKey::from_sec1(Curve::BrainpoolP256r1, &bad),
        Err(EccError::BadPublicKey(_))
    ));
    // A valid point of one curve is not a point of the other.
    let p256_point = uncompressed(RFC6979_UX, RFC6979_UY);
    let bp_point = uncompressed(RFC7027_X_QA, RFC7027_Y_QA);
    assert!(PublicKey::from_sec1(Curve::BrainpoolP256r1, &p256_point).is_err());
    assert!(PublicKey::from_sec1(Curve::NistP256, &bp_point).is_err());
    // Malformed encodings of the published RFC 6979 point: no prefix, wrong prefix, truncated, extended,
    // point at infinity.
    assert!(PublicKey::from_sec1(Curve::NistP256, &p256_point[1..]).is_err());
    let mut wrong_prefix = p256_point.clone();
    wrong_prefix[0] = 0x05;
    assert!(PublicKey::from_sec1(Curve::NistP256, &wrong_prefix).is_err());
    assert!(PublicKey::from_sec1(Curve::NistP256, &p256_point[..64]).is_err());
    assert!(PublicKey::from_sec1(Curve::NistP256, &[&p256_point[..], &[0]].concat()).is_err());
    assert!(PublicKey::from_sec1(Curve::NistP256, &[0x00]).is_err());
    // x = p (P-256 field prime, FIPS 186-4 D.1.2.3), y from the published point: out of range.
    let p = "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff";
    assert!(PublicKey::from_sec1(Curve::NistP256, &uncompressed(p, RFC6979_UY)).is_err());
}

#[test]
fn out_of_range_private_keys_are_refused() {
    // The P-256 order n (FIPS 186-4 D.1.2.3) and the brainpoolP256r1 order q (RFC 5639 §3.4) are not
    // valid scalars; neither is zero.
    let n_p256 = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";
    let q_bp256 = "A9FB57DBA1EEA9BC3E660A909D838D718C397AA3B561A6F7901E0E82974856A7";
    assert!(matches!(
        PrivateKey::from_scalar(Curve::NistP256, &h(n_p256)),
        Err(EccError::BadPrivateKey(_))
    ));
    assert!(matches!(
        PrivateKey::from_scalar(Curve::BrainpoolP256r1, &h(q_bp256)),
        Err(EccError::BadPrivateKey(_))
    ));
    for curve in Curve::ALL {
        assert!(PrivateKey::from_scalar(curve, &[0u8; 32]).is_err());
        assert!(PrivateKey::from_scalar(curve, &h(RFC6979_X)[1..]).is_err());
    }
}

#[test]
fn wrong_length_raw_signatures_are_refused() {
    let p256 = public(Curve::NistP256, RFC6979_UX, RFC6979_UY);
    let bp = public(Curve::BrainpoolP256r1, RFC7027_X_QA, RFC7027_Y_QA);
    let good = raw_sig(RFC6979_SAMPLE_R, RFC6979_SAMPLE_S);
    for key in [&p256, &bp] {
        for len in [0, 1, 32, 63, 65, 66, 96, 128] {
            let mut sig = good.clone();
            sig.resize(len, 0);
            assert!(
                is_encoding_error(&key.verify_raw(b"sample", &sig)),
                "{} len {len}",
                key.curve()
            );
        }
    }
    assert!(is_encoding_error(&raw_to_der(&good[..63])));
    assert!(is_encoding_error(&raw_to_der(
        &[good.clone(), vec![0]].concat()
    )));
}

#[test]
fn malformed_der_signatures_are_refused_on_p256() {
    // Built by this test from the RFC 6979 §A.2.5 "sample" and "test" signatures, whose correct DER is
    //   sample: 30 46 02 21 00 r 02 21 00 s      test: 30 45 02 21 00 r 02 20 s
    let key = public(Curve::NistP256, RFC6979_UX, RFC6979_UY);
    let sample = h(&format!(
        "3046022100{RFC6979_SAMPLE_R}022100{RFC6979_SAMPLE_S}"
    ));
    let test = h(&format!("3045022100{RFC6979_TEST_R}0220{RFC6979_TEST_S}"));
    key.verify_der(b"sample", &sample).unwrap();
    key.verify_der(b"test", &test).unwrap();
    let cases: [(&str, Vec<u8>, &[u8]); 8] = [
        (
            "trailing byte after the SEQUENCE",
            [&sample[..], &[0x00]].concat(),
            b"sample",
        ),
        (
            "trailing INTEGER inside the SEQUENCE",
            h(&format!(
                "3049022100{RFC6979_SAMPLE_R}022100{RFC6979_SAMPLE_S}020100"
            )),
            b"sample",
        ),
        // s = 01 9F.. needs no pad: 00 01 9F.. is not minimal.
        (
            "non-minimal INTEGER s",
            h(&format!("3046022100{RFC6979_TEST_R}022100{RFC6979_TEST_S}")),
            b"test",
        ),
        // r = EF.. needs exactly one 00: two are not minimal.
        (
            "non-minimal INTEGER r",
            h(&format!(
                "304702220000{RFC6979_SAMPLE_R}022100{RFC6979_SAMPLE_S}"
            )),
            b"sample",
        ),
        // r = EF.. without its 00 pad is negative.
        (
            "negative INTEGER r",
            h(&format!(
                "30450220{RFC6979_SAMPLE_R}022100{RFC6979_SAMPLE_S}"
            )),
            b"sample",
        ),
        (
            "long-form SEQUENCE length",
            h(&format!(
                "308146022100{RFC6979_SAMPLE_R}022100{RFC6979_SAMPLE_S}"
            )),
            b"sample",
        ),
        (
            "SET instead of SEQUENCE",
            h(&format!(
                "3146022100{RFC6979_SAMPLE_R}022100{RFC6979_SAMPLE_S}"
            )),
            b"sample",
        ),
        ("truncated", sample[..sample.len() - 1].to_vec(), b"sample"),
    ];
    for (what, der, msg) in cases {
        let result = key.verify_der(msg, &der);
        assert!(is_encoding_error(&result), "{what}: {result:?}");
        assert!(is_encoding_error(&der_to_raw(&der)), "{what}");
    }
}

const P384_KEY_PEM: &str = include_str!("fixtures/ecc/p384_key.pem");
const P384_KEY_PKCS8_PEM: &str = include_str!("fixtures/ecc/p384_key_pkcs8.pem");
const P384_PUB_PEM: &str = include_str!("fixtures/ecc/p384_pub.pem");
const SECP256K1_KEY_PEM: &str = include_str!("fixtures/ecc/secp256k1_key.pem");
const SECP256K1_PUB_PEM: &str = include_str!("fixtures/ecc/secp256k1_pub.pem");

fn assert_unsupported<T: std::fmt::Debug>(result: Result<T, EccError>, name: &str) {
    match result {
        Err(EccError::UnsupportedCurve(text)) => {
            assert!(text.contains(name), "{text} does not name {name}")
        }
        other => panic!("expected UnsupportedCurve({name}), got {other:?}"),
    }
}

#[test]
fn keys_on_unsupported_curves_are_refused() {
    // Generated once with `openssl ecparam -name secp384r1 -genkey` (EC PARAMETERS + EC PRIVATE KEY),
    // converted with `openssl pkcs8 -topk8 -nocrypt` and `openssl ec -pubout`.
    assert_unsupported(PrivateKey::from_pem(P384_KEY_PEM), "P-384");
    assert_unsupported(PrivateKey::from_pem(P384_KEY_PKCS8_PEM), "P-384");
    assert_unsupported(PublicKey::from_pem(P384_PUB_PEM), "P-384");
    // secp256k1 has 32-byte scalars and 65-byte points like our curves: it must not be mis-read as one.
    // Generated with `openssl ecparam -name secp256k1 -genkey -noout` and `openssl ec -pubout`.
    assert_unsupported(PrivateKey::from_pem(SECP256K1_KEY_PEM), "secp256k1");
    assert_unsupported(PublicKey::from_pem(SECP256K1_PUB_PEM), "secp256k1");
}

#[test]
fn agreement_across_curves_is_refused() {
    let p256 = PrivateKey::from_scalar(Curve::NistP256, &h(RFC6979_X)).unwrap();
    let bp = PrivateKey::from_scalar(Curve::BrainpoolP256r1, &h(RFC7027_DA)).unwrap();
    assert_eq!(
        p256.agree(bp.public_key()).unwrap_err(),
        EccError::CurveMismatch {
            ours: Curve::NistP256,
            theirs: Curve::BrainpoolP256r1
        }
    );
    assert_eq!(
        bp.agree(p256.public_key()).unwrap_err(),
        EccError::CurveMismatch {
            ours: Curve::BrainpoolP256r1,
            theirs: Curve::NistP256
        }
    );
}

// ---------------------------------------------------------------------------------------------------
// 7. Interoperability with OpenSSL (an independent implementation), at test time.
// ---------------------------------------------------------------------------------------------------

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Runs `openssl` with whitespace-separated `args` (our file names contain no spaces) in `dir`.
fn openssl(args: &str, dir: &Path) -> Output {
    Command::new("openssl")
        .args(args.split_whitespace())
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run `openssl {args}` (is OpenSSL installed?): {e}"))
}

fn openssl_ok(args: &str, dir: &Path) {
    let out = openssl(args, dir);
    assert!(
        out.status.success(),
        "`openssl {args}` failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn openssl_verifies(pub_pem: &str, sig_file: &str, msg_file: &str, dir: &Path) -> bool {
    let out = openssl(
        &format!("dgst -sha256 -verify {pub_pem} -signature {sig_file} {msg_file}"),
        dir,
    );
    let verified = String::from_utf8_lossy(&out.stdout).contains("Verified OK");
    assert_eq!(
        verified,
        out.status.success(),
        "inconsistent openssl verdict"
    );
    verified
}

fn interop_with_openssl(curve: Curve, openssl_name: &str) -> TestResult {
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path();
    let write = |name: &str, bytes: &[u8]| std::fs::write(dir.join(name), bytes);
    let read = |name: &str| std::fs::read(dir.join(name));
    let read_text = |name: &str| std::fs::read_to_string(dir.join(name));

    let msg = b"rsp interop message: ECDSA-SHA256 and ECKA".to_vec();
    write("msg.bin", &msg)?;
    write("other.bin", b"rsp interop message: changed")?;

    // Our key, in both PEM forms OpenSSL reads.
    let ours = PrivateKey::generate(curve)?;
    write("ours_sec1.pem", ours.to_sec1_pem().as_bytes())?;
    write("ours_pkcs8.pem", ours.to_pkcs8_pem().as_bytes())?;
    write("ours_pub.pem", ours.public_key().to_pem().as_bytes())?;

    // Ours signs, OpenSSL verifies (DER from sign_der, and raw converted with raw_to_der).
    write("ours.sig", &ours.sign_der(&msg)?)?;
    assert!(
        openssl_verifies("ours_pub.pem", "ours.sig", "msg.bin", dir),
        "{curve}: DER"
    );
    assert!(
        !openssl_verifies("ours_pub.pem", "ours.sig", "other.bin", dir),
        "{curve}: msg"
    );
    write("ours_raw.sig", &raw_to_der(&ours.sign_raw(&msg)?)?)?;
    assert!(
        openssl_verifies("ours_pub.pem", "ours_raw.sig", "msg.bin", dir),
        "{curve}: raw"
    );

    // OpenSSL signs with our key files, we verify.
    for key_file in ["ours_sec1.pem", "ours_pkcs8.pem"] {
        openssl_ok(
            &format!("dgst -sha256 -sign {key_file} -out ossl.sig msg.bin"),
            dir,
        );
        let der = read("ossl.sig")?;
        ours.public_key().verify_der(&msg, &der)?;
        ours.public_key().verify_raw(&msg, &der_to_raw(&der)?)?;
        assert_eq!(
            ours.public_key().verify_der(b"other", &der),
            Err(EccError::BadSignature)
        );
    }

    // OpenSSL's keys (SEC1 after an EC PARAMETERS block, and PKCS#8), loaded by us.
    openssl_ok(
        &format!("ecparam -name {openssl_name} -genkey -out ossl_sec1.pem"),
        dir,
    );
    openssl_ok(
        &format!(
            "genpkey -algorithm EC -pkeyopt ec_paramgen_curve:{openssl_name} -out ossl_pkcs8.pem"
        ),
        dir,
    );
    for key_file in ["ossl_sec1.pem", "ossl_pkcs8.pem"] {
        let pub_file = format!("{key_file}.pub");
        openssl_ok(&format!("pkey -in {key_file} -pubout -out {pub_file}"), dir);
        let theirs = PrivateKey::from_pem(&read_text(key_file)?)?;
        let theirs_pub = PublicKey::from_pem(&read_text(&pub_file)?)?;
        assert_eq!(theirs.curve(), curve, "{key_file}");
        assert_eq!(theirs.public_key(), &theirs_pub, "{key_file}");

        // OpenSSL signs with its key, we verify with the public key it wrote.
        openssl_ok(
            &format!("dgst -sha256 -sign {key_file} -out theirs.sig msg.bin"),
            dir,
        );
        theirs_pub.verify_der(&msg, &read("theirs.sig")?)?;
        // We sign with OpenSSL's key, OpenSSL verifies.
        write("by_us.sig", &theirs.sign_der(&msg)?)?;
        assert!(
            openssl_verifies(&pub_file, "by_us.sig", "msg.bin", dir),
            "{key_file}"
        );

        // ECDH: OpenSSL derives with its key and our public key; we derive the other way round.
        openssl_ok(
            &format!("pkeyutl -derive -inkey {key_file} -peerkey ours_pub.pem -out z_ossl.bin"),
            dir,
        );
        let z_ossl = read("z_ossl.bin")?;
        assert_eq!(z_ossl.len(), 32);
        assert_eq!(
            ours.agree(&theirs_pub)?.as_bytes().to_vec(),
            z_ossl,
            "{key_file}"
        );
        // OpenSSL with our private key (SEC1 file) and its public key gives the same secret.
        openssl_ok(
            &format!("pkeyutl -derive -inkey ours_sec1.pem -peerkey {pub_file} -out z_rev.bin"),
            dir,
        );
        assert_eq!(read("z_rev.bin")?, z_ossl, "{key_file}");
    }
    Ok(())
}

#[test]
fn interop_with_openssl_p256() -> TestResult {
    interop_with_openssl(Curve::NistP256, "prime256v1")
}

#[test]
fn interop_with_openssl_brainpool_p256r1() -> TestResult {
    interop_with_openssl(Curve::BrainpoolP256r1, "brainpoolP256r1")
}
