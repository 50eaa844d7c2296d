//! The test material the matrix runs on, embedded so that `rsp demo sgp22` runs anywhere: the
//! SGP.26 test PKI (public, with its private keys) and one TS.48 profile (Apache-2.0). See
//! `tests/fixtures/README.md`.

use std::path::Path;

use rsp_lpa::harness::Fixtures;

macro_rules! fixture {
    ($name:literal) => {
        (
            $name,
            include_bytes!(concat!("../tests/fixtures/", $name)) as &[u8],
        )
    };
}

/// (path under the fixture folder, bytes).
pub const FILES: &[(&str, &[u8])] = &[
    fixture!("SAIP2.3_NoBERTLV.der"),
    fixture!("sgp26/CertificateIssuer/CERT_CI_ECDSA_NIST.der"),
    fixture!("sgp26/CertificateIssuer/SK_CI_ECDSA_NIST.pem"),
    fixture!("sgp26/CertificateIssuer/CERT_CI_ECDSA_BRP.der"),
    fixture!("sgp26/CertificateIssuer/SK_CI_ECDSA_BRP.pem"),
    fixture!("sgp26/DPauth/CERT_S_SM_DPauth_ECDSA_NIST.der"),
    fixture!("sgp26/DPauth/SK_S_SM_DPauth_ECDSA_NIST.pem"),
    fixture!("sgp26/DPauth/CERT_S_SM_DPauth_ECDSA_BRP.der"),
    fixture!("sgp26/DPauth/SK_S_SM_DPauth_ECDSA_BRP.pem"),
    fixture!("sgp26/DPpb/CERT_S_SM_DPpb_ECDSA_NIST.der"),
    fixture!("sgp26/DPpb/SK_S_SM_DPpb_ECDSA_NIST.pem"),
    fixture!("sgp26/DPpb/CERT_S_SM_DPpb_ECDSA_BRP.der"),
    fixture!("sgp26/DPpb/SK_S_SM_DPpb_ECDSA_BRP.pem"),
    fixture!("sgp26/EUM/CERT_EUM_ECDSA_NIST.der"),
    fixture!("sgp26/EUM/CERT_EUM_ECDSA_BRP.der"),
    fixture!("sgp26/eUICC/CERT_EUICC_ECDSA_NIST.der"),
    fixture!("sgp26/eUICC/SK_EUICC_ECDSA_NIST.pem"),
    fixture!("sgp26/eUICC/CERT_EUICC_ECDSA_BRP.der"),
    fixture!("sgp26/eUICC/SK_EUICC_ECDSA_BRP.pem"),
];

/// The bytes of one embedded file (`sgp26/eUICC/CERT_EUICC_ECDSA_NIST.der`, ...).
pub fn file(name: &str) -> Option<&'static [u8]> {
    FILES.iter().find(|(n, _)| *n == name).map(|(_, b)| *b)
}

/// Writes the embedded fixtures under `dir` and returns their layout.
pub fn write_fixtures(dir: &Path) -> std::io::Result<Fixtures> {
    for (name, bytes) in FILES {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, bytes)?;
    }
    Ok(Fixtures::at(dir))
}
