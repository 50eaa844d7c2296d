//! The outer signatureAlgorithm of a certificate is not covered by its signature: a certificate
//! whose outer AlgorithmIdentifier differs from the TBS one in any byte is refused at parsing,
//! even where a lenient parser would read the same OID (found by the consumer eUICC's mutation
//! test: `06` → `86`).

use rsp_crypto::x509::{Certificate, X509Error};

const DPAUTH: &[u8] = include_bytes!("fixtures/sgp26/DPauth/CERT_S_SM_DPauth_ECDSA_NIST.der");

/// Offset of the outer AlgorithmIdentifier (`30 0A 06 08 2A 86 48 CE 3D 04 03 02`), the last
/// such sequence before the signature BIT STRING.
fn outer_algorithm_offset(der: &[u8]) -> Option<usize> {
    let pattern = [
        0x30, 0x0A, 0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x02,
    ];
    der.windows(pattern.len()).rposition(|w| w == pattern)
}

#[test]
fn outer_algorithm_must_be_identical() -> Result<(), X509Error> {
    assert!(Certificate::from_der(DPAUTH).is_ok());
    let Some(at) = outer_algorithm_offset(DPAUTH) else {
        panic!("fixture has no ecdsa-with-SHA256 AlgorithmIdentifier");
    };
    // The OID's tag, a byte of the OID itself.
    for (offset, value) in [(2, 0x86), (11, 0x03)] {
        let mut bad = DPAUTH.to_vec();
        bad[at + offset] = value;
        assert!(
            matches!(Certificate::from_der(&bad), Err(X509Error::Malformed(_))),
            "byte {offset} changed to {value:02X} was accepted"
        );
    }
    Ok(())
}
