//! `sgp26::import_sgp26`: the GSMA SGP.26 set (tests/fixtures/sgp26) becomes a PKI directory of the
//! same shape as the generated SGP.22 part, with every chain verified on import.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use std::fs;
use std::path::{Path, PathBuf};

use rsp_crypto::ecc::PrivateKey;
use rsp_crypto::pki::{self, EntityRole, PkiError, PkiManifest, PkiPart};
use rsp_crypto::sgp26::{self, ImportOptions};
use rsp_crypto::x509::{CertPosition, Certificate, X509Error};
use time::OffsetDateTime;
use time::macros::datetime;

const AT: OffsetDateTime = datetime!(2026-12-01 00:00 UTC);

fn source() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sgp26")
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn imports_both_variants_with_verified_chains() {
    let tmp = tempfile::tempdir().unwrap();
    let m = sgp26::import_sgp26(&source(), tmp.path()).unwrap();
    assert_eq!(m.origin, "sgp26");
    let mut ids: Vec<String> = m.entities.iter().map(|e| e.id.clone()).collect();
    ids.sort_unstable();
    let mut expected: Vec<String> = ["dp2-tls", "dp4-tls", "dp8-tls"]
        .iter()
        .map(|k| format!("sgp22/{k}/nist"))
        .collect();
    for k in [
        "ci", "eum", "euicc", "dp-auth", "dp2-auth", "dp-pb", "dp2-pb", "dp-tls",
    ] {
        for v in ["nist", "brp"] {
            expected.push(format!("sgp22/{k}/{v}"));
        }
    }
    expected.sort_unstable();
    assert_eq!(ids, expected);

    // The manifest loads back; every file holds the published certificate and its key.
    assert_eq!(PkiManifest::load(tmp.path()).unwrap(), m);
    let originals: Vec<Certificate> = [
        "CertificateIssuer",
        "EUM",
        "eUICC",
        "DPauth",
        "DPpb",
        "DPtls",
    ]
    .iter()
    .flat_map(|d| fs::read_dir(source().join(d)).unwrap())
    .map(|e| e.unwrap().path())
    .filter(|p| {
        p.file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("CERT_")
    })
    .map(|p| Certificate::from_der_or_pem(&fs::read(p).unwrap()).unwrap())
    .collect();
    for e in &m.entities {
        assert_eq!(e.pki, PkiPart::Sgp22);
        let cert = Certificate::from_pem(&fs::read_to_string(&e.cert).unwrap()).unwrap();
        assert!(
            originals.contains(&cert),
            "{}: not a published certificate",
            e.id
        );
        let key =
            PrivateKey::from_pem(&fs::read_to_string(e.key.as_ref().unwrap()).unwrap()).unwrap();
        assert_eq!(cert.public_key(), Ok(key.public_key()), "{}", e.id);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(e.key.as_ref().unwrap())
                .unwrap()
                .permissions()
                .mode()
                & 0o777;
            assert_eq!(mode, 0o600);
        }
        let expired = [
            "sgp22/dp2-tls/nist",
            "sgp22/dp4-tls/nist",
            "sgp22/dp8-tls/nist",
        ]
        .contains(&e.id.as_str());
        match pki::check_entity(e, AT) {
            Ok(()) => assert!(!expired, "{} should be expired at {AT}", e.id),
            Err(PkiError::X509 {
                source:
                    X509Error::Expired {
                        which: CertPosition::Leaf,
                        ..
                    },
                ..
            }) => {
                assert!(expired, "{} unexpectedly expired", e.id)
            }
            Err(other) => panic!("{}: {other}", e.id),
        }
    }

    let euicc = m.entity("sgp22/euicc/brp").unwrap();
    assert_eq!(
        euicc.eid.as_deref(),
        Some("89049032123451234512345678901235")
    );
    assert_eq!(euicc.role, EntityRole::Euicc);
    assert_eq!(euicc.curve, "brainpoolP256r1");
    assert_eq!(
        euicc.chain,
        [
            m.entity("sgp22/eum/brp").unwrap().cert.clone(),
            m.entity("sgp22/ci/brp").unwrap().cert.clone()
        ]
    );
    let tls = m.entity("sgp22/dp-tls/nist").unwrap();
    assert_eq!(
        (tls.name.as_str(), tls.entity_oid.as_deref()),
        ("testsmdpplus1.example.com", Some("2.999.10"))
    );
    assert_eq!(
        m.entity("sgp22/dp2-auth/nist")
            .unwrap()
            .entity_oid
            .as_deref(),
        Some("2.999.12")
    );
    assert_eq!(
        m.entity("sgp22/dp8-tls/nist").unwrap().not_after,
        datetime!(2025-08-11 10:15:24 UTC)
    );
    assert_eq!(
        m.entity("sgp22/ci/nist").unwrap().chain,
        Vec::<PathBuf>::new()
    );
}

#[test]
fn import_refuses_an_existing_pki_unless_forced() {
    let tmp = tempfile::tempdir().unwrap();
    sgp26::import_sgp26(&source(), tmp.path()).unwrap();
    assert!(matches!(
        sgp26::import_sgp26(&source(), tmp.path()),
        Err(PkiError::AlreadyExists(_))
    ));
    sgp26::import_sgp26_with_options(&source(), tmp.path(), &ImportOptions { force: true })
        .unwrap();
}

#[test]
fn import_refuses_tampered_or_incomplete_material() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    copy_dir(&source(), &src);

    // A tampered CERT.DPpb signature.
    let pb = src.join("DPpb/CERT_S_SM_DPpb_ECDSA_NIST.der");
    let mut der = fs::read(&pb).unwrap();
    *der.last_mut().unwrap() ^= 0x01;
    fs::write(&pb, &der).unwrap();
    let err = sgp26::import_sgp26(&src, &tmp.path().join("out1")).unwrap_err();
    assert!(
        matches!(
            err,
            PkiError::X509 {
                source: X509Error::BadSignature {
                    which: CertPosition::Leaf
                },
                ..
            }
        ),
        "{err}"
    );
    assert!(
        !tmp.path().join("out1/pki.json").exists(),
        "nothing is written on failure"
    );
    *der.last_mut().unwrap() ^= 0x01;
    fs::write(&pb, &der).unwrap();

    // A certificate in the wrong folder has the wrong role.
    fs::copy(
        src.join("DPauth/CERT_S_SM_DPauth_ECDSA_NIST.der"),
        src.join("DPpb/CERT_S_SM_DPX_ECDSA_NIST.der"),
    )
    .unwrap();
    let err = sgp26::import_sgp26(&src, &tmp.path().join("out2")).unwrap_err();
    assert!(
        matches!(
            err,
            PkiError::X509 {
                source: X509Error::WrongRole { .. },
                ..
            }
        ),
        "{err}"
    );
    fs::remove_file(src.join("DPpb/CERT_S_SM_DPX_ECDSA_NIST.der")).unwrap();

    // A missing private key.
    fs::remove_file(src.join("DPauth/SK_S_SM_DP2auth_ECDSA_BRP.pem")).unwrap();
    let err = sgp26::import_sgp26(&src, &tmp.path().join("out3")).unwrap_err();
    assert!(
        matches!(err, PkiError::Import(ref m) if m.contains("DP2auth")),
        "{err}"
    );

    // A missing folder.
    fs::remove_dir_all(src.join("EUM")).unwrap();
    assert!(matches!(
        sgp26::import_sgp26(&src, &tmp.path().join("out4")),
        Err(PkiError::Import(_))
    ));
}
