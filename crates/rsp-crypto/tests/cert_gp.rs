//! GlobalPlatform Amendment E certificates (SGP.02 CERT.DP / CERT.SR / CERT.ECASD): layout,
//! round trip, verification and refusal of tampered or misused certificates. Issuers are the
//! SGP.26 test CI and EUM (tests/fixtures/sgp26).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use std::fs;
use std::path::Path;

use rsp_crypto::ecc::{Curve, PrivateKey};
use rsp_crypto::gpcert::{self, GpCertError, GpCertRole, GpCertificate, GpCertificateParams};
use rsp_crypto::x509::{self, Certificate, X509Error};
use rsp_types::Eid;
use rsp_types::tlv::{self, Tag};
use time::macros::{date, datetime};
use time::{Date, OffsetDateTime};

const AT: OffsetDateTime = datetime!(2027-06-01 12:00 UTC);
const EFFECTIVE: Date = date!(2026 - 01 - 01);
const EXPIRY: Date = date!(2029 - 12 - 31);
/// SGP.23 #EID1 (inside the SGP.26 EUM's permitted EIN 89049032).
const EID1: &str = "89049032123451234512345678901235";

fn fixture(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/sgp26")
        .join(rel)
}

fn ca(cert: &str, key: &str) -> (Certificate, PrivateKey) {
    let c = Certificate::from_der(&fs::read(fixture(cert)).unwrap()).unwrap();
    let k = PrivateKey::from_pem(&fs::read_to_string(fixture(key)).unwrap()).unwrap();
    (c, k)
}

fn ci_nist() -> (Certificate, PrivateKey) {
    ca(
        "CertificateIssuer/CERT_CI_ECDSA_NIST.der",
        "CertificateIssuer/SK_CI_ECDSA_NIST.pem",
    )
}

fn eum_nist() -> (Certificate, PrivateKey) {
    ca("EUM/CERT_EUM_ECDSA_NIST.der", "EUM/SK_EUM_ECDSA_NIST.pem")
}

fn server_cert(
    role: GpCertRole,
    issuer: &(Certificate, PrivateKey),
    curve: Curve,
) -> (GpCertificate, PrivateKey) {
    let key = PrivateKey::generate(curve).unwrap();
    let params = GpCertificateParams::for_server(
        role,
        key.public_key().clone(),
        issuer.0.subject_key_id().unwrap(),
        vec![0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08],
        EFFECTIVE,
        EXPIRY,
    );
    (params.sign(&issuer.1).unwrap(), key)
}

/// Re-wraps the objects of a certificate (optionally changed) in a new `7F21`.
fn rewrap(cert: &[u8], f: impl Fn(Tag, &[u8]) -> Option<Vec<u8>>) -> Vec<u8> {
    let outer = tlv::parse_single(cert).unwrap();
    let mut body = Vec::new();
    for child in outer.children() {
        let child = child.unwrap();
        match f(child.tag, child.raw()) {
            Some(bytes) => body.extend(bytes),
            None => body.extend_from_slice(child.raw()),
        }
    }
    tlv::encode_tlv_to_vec(gpcert::TAG_CERTIFICATE, &body).unwrap()
}

#[test]
fn layout_is_exactly_the_documented_one() {
    // Subject key: the SGP.26 DPauth NIST key, so the whole TBS is deterministic.
    let subject = PrivateKey::from_pem(
        &fs::read_to_string(fixture("DPauth/SK_S_SM_DPauth_ECDSA_NIST.pem")).unwrap(),
    )
    .unwrap();
    let (ci, ci_key) = ci_nist();
    let ci_ski = ci.subject_key_id().unwrap().to_vec();
    let params = GpCertificateParams::for_server(
        GpCertRole::SmDp,
        subject.public_key().clone(),
        &ci_ski,
        vec![0x12, 0x34],
        EFFECTIVE,
        EXPIRY,
    );
    let mut expected = vec![0x93, 0x02, 0x12, 0x34, 0x42, 0x14];
    expected.extend(&ci_ski);
    expected.extend([0x5F, 0x20, 0x14]);
    expected.extend(x509::key_identifier(subject.public_key()));
    expected.extend([0x95, 0x02, 0x00, 0x82]);
    expected.extend([0x5F, 0x25, 0x04, 0x20, 0x26, 0x01, 0x01]);
    expected.extend([0x5F, 0x24, 0x04, 0x20, 0x29, 0x12, 0x31]);
    expected.extend([0x73, 0x19, 0xC8, 0x01, 0x01, 0xC9, 0x14]);
    expected.extend(&ci_ski);
    expected.extend([0x7F, 0x49, 0x46, 0xB0, 0x41]);
    expected.extend(subject.public_key().to_sec1_uncompressed());
    expected.extend([0xF0, 0x01, 0x00]);
    assert_eq!(params.to_be_signed().unwrap(), expected);

    let cert = params.sign(&ci_key).unwrap();
    let bytes = cert.to_bytes();
    // 7F21 81 xx { TBS, 5F37 40 r‖s }
    assert_eq!(bytes[..2], [0x7F, 0x21]);
    assert_eq!(cert.signed_data(), expected.as_slice());
    let tail = &bytes[bytes.len() - 67..];
    assert_eq!(tail[..3], [0x5F, 0x37, 0x40]);
    // The signature is the CI's ECDSA over exactly the signed data (checked without verify()).
    ci.public_key()
        .unwrap()
        .verify_raw(&expected, &tail[3..])
        .unwrap();
    assert_eq!(cert.signature()[..], tail[3..]);
}

#[test]
fn server_certificates_round_trip_and_verify() {
    for (issuer, curve) in [
        (ci_nist(), Curve::NistP256),
        (
            ca(
                "CertificateIssuer/CERT_CI_ECDSA_BRP.der",
                "CertificateIssuer/SK_CI_ECDSA_BRP.pem",
            ),
            Curve::BrainpoolP256r1,
        ),
    ] {
        for role in [GpCertRole::SmDp, GpCertRole::SmSr] {
            let (cert, key) = server_cert(role, &issuer, curve);
            let decoded = GpCertificate::from_bytes(cert.to_bytes()).unwrap();
            assert_eq!(decoded, cert);
            decoded.verify(&issuer.0, role, AT).unwrap();
            assert_eq!(decoded.role(), Some(role));
            assert_eq!(decoded.public_key(), key.public_key());
            assert_eq!(
                decoded.key_parameter_reference(),
                gpcert::key_parameter_reference(curve)
            );
            assert_eq!(decoded.effective(), Some(EFFECTIVE));
            assert_eq!(decoded.expiry(), Some(EXPIRY));
            assert_eq!(
                decoded.authority_key_id(),
                issuer.0.subject_key_id().unwrap()
            );
            assert_eq!(decoded.subject_id(), x509::key_identifier(key.public_key()));
            // The other role is refused.
            let other = if role == GpCertRole::SmDp {
                GpCertRole::SmSr
            } else {
                GpCertRole::SmDp
            };
            assert_eq!(
                decoded.verify(&issuer.0, other, AT),
                Err(GpCertError::WrongRole {
                    expected: other,
                    found: Some(role)
                })
            );
            assert!(matches!(
                decoded.verify(&issuer.0, GpCertRole::Ecasd, AT),
                Err(GpCertError::WrongRole { .. })
            ));
        }
    }
    assert_eq!(
        gpcert::key_parameter_reference(Curve::BrainpoolP256r1),
        0x03
    );
}

#[test]
fn ecasd_certificate_carries_the_eid_and_chains_to_the_eum() {
    let eum = eum_nist();
    let key = PrivateKey::generate(Curve::NistP256).unwrap();
    let eid: Eid = EID1.parse().unwrap();
    let cert = GpCertificateParams::for_ecasd(
        &eid,
        key.public_key().clone(),
        eum.0.subject_key_id().unwrap(),
        vec![9],
        EFFECTIVE,
        date!(9999 - 12 - 31),
    )
    .sign(&eum.1)
    .unwrap();
    let decoded = GpCertificate::from_bytes(cert.to_bytes()).unwrap();
    decoded.verify(&eum.0, GpCertRole::Ecasd, AT).unwrap();
    assert_eq!(decoded.eid().unwrap(), eid);
    assert_eq!(decoded.subject_id(), hex::decode(EID1).unwrap());
    assert_eq!(decoded.key_usage(), gpcert::KEY_USAGE_KEY_AGREEMENT);
    assert_eq!(decoded.certificate_type(), None);
    assert_eq!(decoded.role(), Some(GpCertRole::Ecasd));
    x509::check_eid_permitted(&eum.0, decoded.eid().unwrap().as_str()).unwrap();
    // The CI did not issue it.
    let (ci, _) = ci_nist();
    assert!(matches!(
        decoded.verify(&ci, GpCertRole::Ecasd, AT),
        Err(GpCertError::UnknownIssuer { .. })
    ));
}

#[test]
fn tampered_certificates_are_refused() {
    let issuer = ci_nist();
    let (cert, _) = server_cert(GpCertRole::SmDp, &issuer, Curve::NistP256);
    let bytes = cert.to_bytes().to_vec();

    // A flipped signature bit.
    let mut sig = bytes.clone();
    *sig.last_mut().unwrap() ^= 0x80;
    let c = GpCertificate::from_bytes(&sig).unwrap();
    assert_eq!(
        c.verify(&issuer.0, GpCertRole::SmDp, AT),
        Err(GpCertError::BadSignature)
    );

    // A changed serial number, certificate type or expiry: the signature no longer covers it.
    let serial = rewrap(&bytes, |t, _| {
        (t == gpcert::TAG_SERIAL).then(|| vec![0x93, 0x01, 0x66])
    });
    let role = rewrap(&bytes, |t, raw| {
        (t == gpcert::TAG_DISCRETIONARY).then(|| {
            let mut r = raw.to_vec();
            let pos = r.windows(3).position(|w| w == [0xC8, 0x01, 0x01]).unwrap();
            r[pos + 2] = 0x02;
            r
        })
    });
    let expiry = rewrap(&bytes, |t, _| {
        (t == gpcert::TAG_EXPIRATION_DATE).then(|| vec![0x5F, 0x24, 0x04, 0x20, 0x99, 0x12, 0x31])
    });
    for tampered in [serial, role, expiry] {
        let c = GpCertificate::from_bytes(&tampered).unwrap();
        assert_eq!(
            c.verify_signature(issuer.0.public_key().unwrap()),
            Err(GpCertError::BadSignature)
        );
    }

    // Another issuer's key.
    let (other, _) = eum_nist();
    assert!(matches!(
        cert.verify_signature(other.public_key().unwrap()),
        Err(GpCertError::BadSignature)
    ));
}

#[test]
fn malformed_encodings_are_refused() {
    let issuer = ci_nist();
    let (cert, _) = server_cert(GpCertRole::SmSr, &issuer, Curve::NistP256);
    let bytes = cert.to_bytes().to_vec();

    assert!(matches!(
        GpCertificate::from_bytes(&bytes[..bytes.len() - 1]),
        Err(GpCertError::Tlv(_))
    ));
    let mut trailing = bytes.clone();
    trailing.push(0x00);
    assert!(matches!(
        GpCertificate::from_bytes(&trailing),
        Err(GpCertError::Tlv(_))
    ));
    assert!(matches!(
        GpCertificate::from_bytes(&[]),
        Err(GpCertError::Tlv(_))
    ));
    // Not a 7F21.
    let mut wrong_tag = bytes.clone();
    wrong_tag[1] = 0x4E;
    assert!(matches!(
        GpCertificate::from_bytes(&wrong_tag),
        Err(GpCertError::Tlv(_))
    ));
    // Without signature.
    let unsigned = rewrap(&bytes, |t, _| (t == gpcert::TAG_SIGNATURE).then(Vec::new));
    assert_eq!(
        GpCertificate::from_bytes(&unsigned),
        Err(GpCertError::Missing(gpcert::TAG_SIGNATURE))
    );
    // An object after the signature.
    let after = rewrap(&bytes, |t, raw| {
        (t == gpcert::TAG_SIGNATURE).then(|| {
            let mut r = raw.to_vec();
            r.extend([0x93, 0x01, 0x00]);
            r
        })
    });
    assert!(matches!(
        GpCertificate::from_bytes(&after),
        Err(GpCertError::Malformed(_))
    ));
    // A 63-byte signature.
    let short = rewrap(&bytes, |t, raw| {
        (t == gpcert::TAG_SIGNATURE).then(|| {
            let mut r = vec![0x5F, 0x37, 0x3F];
            r.extend_from_slice(&raw[4..]);
            r
        })
    });
    assert!(matches!(
        GpCertificate::from_bytes(&short),
        Err(GpCertError::Malformed(_))
    ));
    // An unknown key parameter reference (curve).
    let curve = rewrap(&bytes, |t, raw| {
        (t == gpcert::TAG_PUBLIC_KEY).then(|| {
            let mut r = raw.to_vec();
            let n = r.len();
            r[n - 1] = 0x05;
            r
        })
    });
    assert!(matches!(
        GpCertificate::from_bytes(&curve),
        Err(GpCertError::UnsupportedCurve(_))
    ));
    // A point not on the curve.
    let point = rewrap(&bytes, |t, raw| {
        (t == gpcert::TAG_PUBLIC_KEY).then(|| {
            let mut r = raw.to_vec();
            r[10] ^= 0x01;
            r
        })
    });
    assert!(matches!(
        GpCertificate::from_bytes(&point),
        Err(GpCertError::BadPublicKey(_))
    ));
    // A date that is not BCD.
    let date = rewrap(&bytes, |t, _| {
        (t == gpcert::TAG_EFFECTIVE_DATE).then(|| vec![0x5F, 0x25, 0x04, 0x20, 0x2A, 0x01, 0x01])
    });
    assert!(matches!(
        GpCertificate::from_bytes(&date),
        Err(GpCertError::Malformed(_))
    ));
}

#[test]
fn dates_issuer_and_key_usage_are_enforced() {
    let issuer = ci_nist();
    let (cert, _) = server_cert(GpCertRole::SmDp, &issuer, Curve::NistP256);
    assert_eq!(
        cert.verify(&issuer.0, GpCertRole::SmDp, datetime!(2030-01-01 00:00 UTC)),
        Err(GpCertError::Expired(EXPIRY))
    );
    assert_eq!(
        cert.verify(&issuer.0, GpCertRole::SmDp, datetime!(2025-12-31 23:59 UTC)),
        Err(GpCertError::NotYetValid(EFFECTIVE))
    );
    // Both boundary days are valid.
    cert.verify(&issuer.0, GpCertRole::SmDp, datetime!(2026-01-01 00:00 UTC))
        .unwrap();
    cert.verify(&issuer.0, GpCertRole::SmDp, datetime!(2029-12-31 23:59 UTC))
        .unwrap();

    // An end-entity X.509 certificate cannot issue.
    let dpauth = Certificate::from_der(
        &fs::read(fixture("DPauth/CERT_S_SM_DPauth_ECDSA_NIST.der")).unwrap(),
    )
    .unwrap();
    assert!(matches!(
        cert.verify(&dpauth, GpCertRole::SmDp, AT),
        Err(GpCertError::Issuer(X509Error::NotACa { .. }))
    ));

    // SM-DP role with the key-agreement key usage.
    let key = PrivateKey::generate(Curve::NistP256).unwrap();
    let mut params = GpCertificateParams::for_server(
        GpCertRole::SmDp,
        key.public_key().clone(),
        issuer.0.subject_key_id().unwrap(),
        vec![1],
        EFFECTIVE,
        EXPIRY,
    );
    params.key_usage = gpcert::KEY_USAGE_KEY_AGREEMENT;
    let bad_usage = params.sign(&issuer.1).unwrap();
    assert_eq!(
        bad_usage.verify(&issuer.0, GpCertRole::SmDp, AT),
        Err(GpCertError::WrongKeyUsage {
            expected: gpcert::KEY_USAGE_SIGNATURE_VERIFICATION,
            found: vec![0x00, 0x80]
        })
    );
    // Serial numbers must be 1..=16 bytes.
    params.serial = Vec::new();
    assert!(matches!(
        params.sign(&issuer.1),
        Err(GpCertError::Malformed(_))
    ));
    params.serial = vec![1; 17];
    assert!(matches!(
        params.sign(&issuer.1),
        Err(GpCertError::Malformed(_))
    ));
}
