//! The GSMA SGP.26 test PKI (published non-confidential test material, copied to
//! tests/fixtures/sgp26) against rsp's X.509 verification.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use std::fs;
use std::path::{Path, PathBuf};

use rsp_crypto::ecc::{EccError, PrivateKey, PublicKey};
use rsp_crypto::x509::{self, CertPosition, Certificate, Sgp22Role, X509Error};
use time::OffsetDateTime;
use time::macros::datetime;

/// A time at which every non-expired SGP.26 certificate is valid (the VARO TLS certificates run
/// from 2026-07-21 to 2027-02-06).
const AT: OffsetDateTime = datetime!(2026-12-01 00:00 UTC);
/// SGP.23 #EID1, the EID of the SGP.26 test eUICC.
const EID1: &str = "89049032123451234512345678901235";

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

fn cert(rel: &str) -> Certificate {
    Certificate::from_der_or_pem(&fs::read(fixture(rel)).unwrap()).unwrap()
}

fn key(rel: &str) -> PrivateKey {
    PrivateKey::from_pem(&fs::read_to_string(fixture(rel)).unwrap()).unwrap()
}

fn public(rel: &str) -> PublicKey {
    PublicKey::from_pem(&fs::read_to_string(fixture(rel)).unwrap()).unwrap()
}

fn ci(v: &str) -> Certificate {
    cert(&format!("sgp26/CertificateIssuer/CERT_CI_ECDSA_{v}.der"))
}

fn eum(v: &str) -> Certificate {
    cert(&format!("sgp26/EUM/CERT_EUM_ECDSA_{v}.der"))
}

/// (certificate, SK file, PK file, role) for every non-root SGP.26 certificate of a variant.
fn end_entities(v: &str) -> Vec<(String, String, Option<String>, Sgp22Role)> {
    let mut out = vec![
        (
            format!("sgp26/EUM/CERT_EUM_ECDSA_{v}.der"),
            format!("sgp26/EUM/SK_EUM_ECDSA_{v}.pem"),
            Some(format!("sgp26/EUM/PK_EUM_ECDSA_{v}.pem")),
            Sgp22Role::Eum,
        ),
        (
            format!("sgp26/eUICC/CERT_EUICC_ECDSA_{v}.der"),
            format!("sgp26/eUICC/SK_EUICC_ECDSA_{v}.pem"),
            Some(format!("sgp26/eUICC/PK_EUICC_ECDSA_{v}.pem")),
            Sgp22Role::Euicc,
        ),
    ];
    for dp in ["DP", "DP2"] {
        out.push((
            format!("sgp26/DPauth/CERT_S_SM_{dp}auth_ECDSA_{v}.der"),
            format!("sgp26/DPauth/SK_S_SM_{dp}auth_ECDSA_{v}.pem"),
            Some(format!("sgp26/DPauth/PK_S_SM_{dp}auth_ECDSA_{v}.pem")),
            Sgp22Role::DpAuth,
        ));
        out.push((
            format!("sgp26/DPpb/CERT_S_SM_{dp}pb_ECDSA_{v}.der"),
            format!("sgp26/DPpb/SK_S_SM_{dp}pb_ECDSA_{v}.pem"),
            Some(format!("sgp26/DPpb/PK_S_SM_{dp}pb_ECDSA_{v}.pem")),
            Sgp22Role::DpPb,
        ));
    }
    out.push((
        format!("sgp26/DPtls/CERT_S_SM_DP_VARO_TLS_{v}.der"),
        format!("sgp26/DPtls/SK_S_SM_DP_TLS_{v}.pem"),
        Some(format!("sgp26/DPtls/PK_S_SM_DP_TLS_{v}.pem")),
        Sgp22Role::DpTls,
    ));
    out
}

#[test]
fn every_sgp26_certificate_verifies_with_its_role_and_matches_its_key() {
    for v in ["NIST", "BRP"] {
        let anchors = [ci(v)];
        let intermediates = [eum(v)];
        // The CI itself, as a trust anchor with the CI role; its key and SKI.
        let chain =
            x509::verify_sgp22_chain(&anchors[0], &[], &anchors, AT, Sgp22Role::Ci).unwrap();
        assert_eq!(chain.certificates().len(), 1);
        let ci_key = key(&format!("sgp26/CertificateIssuer/SK_CI_ECDSA_{v}.pem"));
        assert_eq!(Ok(ci_key.public_key()), anchors[0].public_key());
        assert_eq!(
            anchors[0].subject_key_id(),
            Some(&x509::key_identifier(ci_key.public_key())[..])
        );
        assert_eq!(anchors[0].registered_ids(), ["2.999.1"]);

        for (cert_file, sk, pk, role) in end_entities(v) {
            let c = cert(&cert_file);
            let chain = x509::verify_sgp22_chain(&c, &intermediates, &anchors, AT, role)
                .unwrap_or_else(|e| panic!("{cert_file}: {e}"));
            assert_eq!(chain.trust_anchor(), Some(&anchors[0]), "{cert_file}");
            assert_eq!(c.sgp22_role(), Some(role), "{cert_file}");
            assert_eq!(
                Ok(key(&sk).public_key()),
                c.public_key(),
                "{cert_file}: SK does not match"
            );
            if let Some(pk) = pk {
                assert_eq!(
                    Ok(&public(&pk)),
                    c.public_key(),
                    "{cert_file}: PK does not match"
                );
            }
            let expected_curve = if v == "NIST" {
                "prime256v1"
            } else {
                "brainpoolP256r1"
            };
            assert_eq!(c.public_key().unwrap().curve().name(), expected_curve);
            // A private key signs, the certificate's key verifies.
            let sig = key(&sk).sign_raw(b"rsp").unwrap();
            c.public_key().unwrap().verify_raw(b"rsp", &sig).unwrap();
        }
    }
}

#[test]
fn sgp26_euicc_chain_has_eum_then_ci_and_its_eid_is_in_range() {
    let euicc = cert("sgp26/eUICC/CERT_EUICC_ECDSA_NIST.der");
    let chain =
        x509::verify_sgp22_chain(&euicc, &[eum("NIST")], &[ci("NIST")], AT, Sgp22Role::Euicc)
            .unwrap();
    let roles: Vec<_> = chain
        .certificates()
        .iter()
        .map(Certificate::sgp22_role)
        .collect();
    assert_eq!(
        roles,
        [
            Some(Sgp22Role::Euicc),
            Some(Sgp22Role::Eum),
            Some(Sgp22Role::Ci)
        ]
    );
    assert_eq!(euicc.eid(), Some(EID1));
    assert_eq!(eum("NIST").permitted_eins(), ["89049032"]);
    x509::check_eid_permitted(&eum("NIST"), EID1).unwrap();
    // The eUICC certificate of SGP.26 expires in the year 7496.
    assert_eq!(euicc.not_after().year(), 7496);
}

#[test]
fn eid_outside_the_eum_range_is_refused() {
    // A valid EID (MOD 97-10) with another EIN.
    let other = "89044045118427000000000000000076";
    assert!(x509::eid_is_valid(other), "test EID must itself be valid");
    assert!(matches!(
        x509::check_eid_permitted(&eum("NIST"), other),
        Err(X509Error::EidOutsideRange { permitted, .. }) if permitted == ["89049032"]
    ));
    // A bad check digit is its own error.
    assert!(matches!(
        x509::check_eid_permitted(&eum("NIST"), "89049032123451234512345678901236"),
        Err(X509Error::InvalidEid(_))
    ));
}

#[test]
fn expired_sgp26_tls_certificates_are_refused_as_expired() {
    let at = datetime!(2026-03-01 12:00 UTC);
    for dp in ["DP2", "DP4", "DP8"] {
        let c = cert(&format!("sgp26/DPtls/CERT_S_SM_{dp}_TLS.der"));
        let err =
            x509::verify_sgp22_chain(&c, &[], &[ci("NIST")], at, Sgp22Role::DpTls).unwrap_err();
        assert_eq!(
            err,
            X509Error::Expired {
                which: CertPosition::Leaf,
                not_after: c.not_after()
            },
            "{dp}"
        );
        assert_eq!(c.not_after().date(), time::macros::date!(2025 - 08 - 11));
        // Inside its validity the same certificate verifies: only the date is wrong.
        x509::verify_sgp22_chain(
            &c,
            &[],
            &[ci("NIST")],
            datetime!(2025-01-01 00:00 UTC),
            Sgp22Role::DpTls,
        )
        .unwrap();
    }
    // Before notBefore: not yet valid.
    let varo = cert("sgp26/DPtls/CERT_S_SM_DP_VARO_TLS_NIST.der");
    assert!(matches!(
        x509::verify_sgp22_chain(&varo, &[], &[ci("NIST")], at, Sgp22Role::DpTls),
        Err(X509Error::NotYetValid {
            which: CertPosition::Leaf,
            ..
        })
    ));
}

#[test]
fn an_expired_eum_is_reported_at_the_eum_position() {
    // 2054-06-01: the EUM (to 2054-03-24) has expired, the CI (to 2055) and eUICC have not.
    let euicc = cert("sgp26/eUICC/CERT_EUICC_ECDSA_NIST.der");
    let err = x509::verify_sgp22_chain(
        &euicc,
        &[eum("NIST")],
        &[ci("NIST")],
        datetime!(2054-06-01 00:00 UTC),
        Sgp22Role::Euicc,
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            X509Error::Expired {
                which: CertPosition::Intermediate(0),
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn tampered_signatures_are_refused() {
    let original = fs::read(fixture("sgp26/DPauth/CERT_S_SM_DPauth_ECDSA_NIST.der")).unwrap();
    // SGP.26 style: the last 10 signature bytes replaced by 0x11.
    let mut sig_tampered = original.clone();
    let n = sig_tampered.len();
    sig_tampered[n - 10..].fill(0x11);
    // And one byte of the signed TBS (inside the subject's common name "TEST SM-DP+").
    let mut tbs_tampered = original.clone();
    let pos = tbs_tampered
        .windows(11)
        .position(|w| w == b"TEST SM-DP+")
        .unwrap();
    tbs_tampered[pos] = b'B';
    for (what, der) in [("signature", sig_tampered), ("tbs", tbs_tampered)] {
        let c = Certificate::from_der(&der).unwrap();
        assert_eq!(
            x509::verify_sgp22_chain(&c, &[], &[ci("NIST")], AT, Sgp22Role::DpAuth).unwrap_err(),
            X509Error::BadSignature {
                which: CertPosition::Leaf
            },
            "{what}"
        );
    }
    // Brainpool too: flip the last signature byte.
    let mut brp = fs::read(fixture("sgp26/DPpb/CERT_S_SM_DPpb_ECDSA_BRP.der")).unwrap();
    *brp.last_mut().unwrap() ^= 0x01;
    let c = Certificate::from_der(&brp).unwrap();
    assert_eq!(
        x509::verify_sgp22_chain(&c, &[], &[ci("BRP")], AT, Sgp22Role::DpPb).unwrap_err(),
        X509Error::BadSignature {
            which: CertPosition::Leaf
        }
    );
}

#[test]
fn a_certificate_of_another_role_is_refused() {
    let dpauth = cert("sgp26/DPauth/CERT_S_SM_DPauth_ECDSA_NIST.der");
    assert_eq!(
        x509::verify_sgp22_chain(&dpauth, &[], &[ci("NIST")], AT, Sgp22Role::DpPb).unwrap_err(),
        X509Error::WrongRole {
            which: CertPosition::Leaf,
            expected: Sgp22Role::DpPb,
            found: Some(Sgp22Role::DpAuth)
        }
    );
    // An EUM presented where a CI is needed as trust anchor.
    let euicc = cert("sgp26/eUICC/CERT_EUICC_ECDSA_NIST.der");
    assert_eq!(
        x509::verify_sgp22_chain(&euicc, &[], &[eum("NIST")], AT, Sgp22Role::Euicc).unwrap_err(),
        X509Error::WrongRole {
            which: CertPosition::TrustAnchor,
            expected: Sgp22Role::Ci,
            found: Some(Sgp22Role::Eum)
        }
    );
    // Without role checks the same path is structurally fine.
    x509::verify_chain(&euicc, &[], &[eum("NIST")], AT).unwrap();
}

#[test]
fn a_chain_to_another_ci_is_refused() {
    // The NIST certificates do not chain to the brainpool CI (different key, different SKI).
    let dpauth = cert("sgp26/DPauth/CERT_S_SM_DPauth_ECDSA_NIST.der");
    let err =
        x509::verify_sgp22_chain(&dpauth, &[], &[ci("BRP")], AT, Sgp22Role::DpAuth).unwrap_err();
    assert!(
        matches!(&err, X509Error::UnknownIssuer { which: CertPosition::Leaf, authority_key_id: Some(aki), .. }
            if aki.as_slice() == ci("NIST").subject_key_id().unwrap()),
        "{err}"
    );
    // eUICC with the BRP EUM available but the NIST CI missing: the NIST EUM is unknown.
    let euicc = cert("sgp26/eUICC/CERT_EUICC_ECDSA_NIST.der");
    let err = x509::verify_sgp22_chain(&euicc, &[eum("BRP")], &[ci("BRP")], AT, Sgp22Role::Euicc)
        .unwrap_err();
    assert!(
        matches!(
            err,
            X509Error::UnknownIssuer {
                which: CertPosition::Leaf,
                ..
            }
        ),
        "{err}"
    );
    let err = x509::verify_sgp22_chain(&euicc, &[eum("NIST")], &[ci("BRP")], AT, Sgp22Role::Euicc)
        .unwrap_err();
    assert!(
        matches!(
            err,
            X509Error::UnknownIssuer {
                which: CertPosition::Intermediate(0),
                ..
            }
        ),
        "{err}"
    );
    // A self-signed certificate that is not among the anchors.
    let err = x509::verify_chain(&ci("NIST"), &[], &[ci("BRP")], AT).unwrap_err();
    assert_eq!(
        err,
        X509Error::UntrustedRoot {
            which: CertPosition::Leaf
        }
    );
}

#[test]
fn p384_keys_and_certificates_are_unsupported_curves() {
    // tests/fixtures/p384/README.md: a P-384 CERT.DPauth signed by the SGP.26 NIST CI.
    let c = cert("p384/CERT_S_SM_DPauth_P384.pem");
    assert!(
        matches!(c.public_key(), Err(X509Error::UnsupportedCurve { curve, .. }) if curve.contains("P-384"))
    );
    let err = x509::verify_sgp22_chain(&c, &[], &[ci("NIST")], AT, Sgp22Role::DpAuth).unwrap_err();
    assert!(
        matches!(&err, X509Error::UnsupportedCurve { which: CertPosition::Leaf, curve } if curve.contains("P-384")),
        "{err}"
    );
    let err = x509::verify_chain(&c, &[], &[ci("NIST")], AT).unwrap_err();
    assert!(matches!(
        err,
        X509Error::UnsupportedCurve {
            which: CertPosition::Leaf,
            ..
        }
    ));
    let key_err = PrivateKey::from_pem(&fs::read_to_string(fixture("p384/SK_P384.pem")).unwrap())
        .unwrap_err();
    assert!(matches!(key_err, EccError::UnsupportedCurve(n) if n.contains("P-384")));
    // As a trust anchor it is refused at its own position.
    let err = x509::verify_chain(&c, &[], std::slice::from_ref(&c), AT).unwrap_err();
    assert!(
        matches!(
            err,
            X509Error::UnsupportedCurve {
                which: CertPosition::TrustAnchor,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn sgp26_extensions_are_read() {
    let tls = cert("sgp26/DPtls/CERT_S_SM_DP_VARO_TLS_NIST.der");
    let san = tls.subject_alt_names();
    assert_eq!(san.dns_names, ["testsmdpplus1.example.com"]);
    assert_eq!(san.registered_ids, ["2.999.10"]);
    let eku = tls.extended_key_usage().unwrap();
    assert!(eku.server_auth && eku.client_auth);
    assert_eq!(tls.policies(), ["2.23.146.1.2.1.3"]);
    assert_eq!(tls.authority_key_id(), ci("NIST").subject_key_id());
    assert!(!tls.is_ca());
    let ci = ci("NIST");
    assert!(ci.is_ca());
    assert_eq!(
        hex::encode_upper(ci.subject_key_id().unwrap()),
        "F54172BDF98A95D65CBEB88A38A1C11D800A85C3"
    );
    assert_eq!(
        ci.serial(),
        [0x00, 0xB8, 0x74, 0xF3, 0xAB, 0xFA, 0x6C, 0x44, 0xD3]
    );
    assert_eq!(ci.subject().common_name(), Some("Test CI"));
    let eum = eum("NIST");
    assert_eq!(eum.path_len_constraint(), Some(0));
    assert_eq!(
        eum.permitted_dir_names()[0].organization(),
        Some("RSP Test EUM")
    );
    // Fingerprint = SHA-256 over the DER, as `openssl x509 -fingerprint -sha256` prints it.
    let der = fs::read(fixture("sgp26/CertificateIssuer/CERT_CI_ECDSA_NIST.der")).unwrap();
    assert_eq!(ci.der(), der.as_slice());
    assert_eq!(ci.fingerprint_sha256().len(), 32);
    // DER and PEM forms of the CI are the same certificate.
    assert_eq!(cert("sgp26/CertificateIssuer/CERT_CI_ECDSA_NIST.pem"), ci);
    assert_eq!(Certificate::from_pem(&ci.to_pem()).unwrap(), ci);
}

#[test]
fn malformed_certificates_are_refused() {
    let der = fs::read(fixture("sgp26/CertificateIssuer/CERT_CI_ECDSA_NIST.der")).unwrap();
    assert!(matches!(
        Certificate::from_der(&der[..der.len() - 1]),
        Err(X509Error::Malformed(_))
    ));
    let mut trailing = der.clone();
    trailing.push(0);
    assert!(matches!(
        Certificate::from_der(&trailing),
        Err(X509Error::Malformed(_))
    ));
    assert!(matches!(
        Certificate::from_der(&[]),
        Err(X509Error::Malformed(_))
    ));
    assert_eq!(
        Certificate::from_pem("no pem here"),
        Err(X509Error::NoPemCertificate)
    );
}
