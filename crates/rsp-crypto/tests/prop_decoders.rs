#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Every decoder of untrusted bytes in rsp-crypto returns a value or a typed error, never a panic.

use proptest::prelude::*;
use rsp_crypto::ecc::{Curve, PrivateKey, PublicKey, der_to_raw, pem_block, raw_to_der};
use rsp_crypto::gpcert::GpCertificate;
use rsp_crypto::x509::Certificate;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn signature_encodings_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..100)) {
        let _ = der_to_raw(&bytes);
        let _ = raw_to_der(&bytes);
    }

    #[test]
    fn der_round_trips_for_any_raw_signature(raw in proptest::array::uniform32(any::<u8>()), s in proptest::array::uniform32(any::<u8>())) {
        let mut sig = [0u8; 64];
        sig[..32].copy_from_slice(&raw);
        sig[32..].copy_from_slice(&s);
        let der = raw_to_der(&sig).unwrap();
        prop_assert_eq!(der_to_raw(&der).unwrap(), sig);
    }

    #[test]
    fn key_and_certificate_decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        for curve in Curve::ALL {
            let _ = PublicKey::from_sec1(curve, &bytes);
            let _ = PrivateKey::from_scalar(curve, &bytes);
        }
        let _ = PublicKey::from_spki_der(&bytes);
        let _ = PrivateKey::from_der(&bytes, None);
        let _ = Certificate::from_der(&bytes);
        let _ = GpCertificate::from_bytes(&bytes);
    }

    #[test]
    fn pem_parsing_never_panics(text in ".{0,300}") {
        let _ = pem_block(&text, &["PUBLIC KEY", "EC PRIVATE KEY", "PRIVATE KEY", "CERTIFICATE"]);
        let _ = PublicKey::from_pem(&text);
        let _ = PrivateKey::from_pem(&text);
        let _ = Certificate::from_pem(&text);
    }
}

/// Mutations of real certificates reach deeper than random bytes.
#[test]
fn mutated_sgp26_certificates_never_panic() {
    let der = include_bytes!("fixtures/sgp26/EUM/CERT_EUM_ECDSA_NIST.der");
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(512));
    runner
        .run(
            &(0..der.len(), any::<u8>(), 1..der.len() + 1),
            |(pos, byte, cut)| {
                let mut m = der.to_vec();
                m[pos] = byte;
                m.truncate(cut);
                let _ = Certificate::from_der(&m);
                Ok(())
            },
        )
        .unwrap();
}
