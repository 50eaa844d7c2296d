//! RFC 5280 path rules of `x509::verify_chain` on certificates crafted with rcgen: CA flags,
//! keyUsage, pathLen, unknown critical extensions, name linkage, AKI-less issuers.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, PKCS_ECDSA_P256_SHA256,
};
use rsp_crypto::x509::{self, CertPosition, Certificate, X509Error};
use time::OffsetDateTime;
use time::macros::datetime;

const AT: OffsetDateTime = datetime!(2030-01-01 00:00 UTC);

struct Node {
    params: CertificateParams,
    key: KeyPair,
    cert: Certificate,
}

fn params(cn: &str, ca: Option<Option<u8>>, usages: &[KeyUsagePurpose]) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = rcgen::DistinguishedName::new();
    p.distinguished_name.push(DnType::CommonName, cn);
    p.not_before = datetime!(2025-01-01 00:00 UTC);
    p.not_after = datetime!(2035-01-01 00:00 UTC);
    p.is_ca = match ca {
        Some(Some(n)) => IsCa::Ca(BasicConstraints::Constrained(n)),
        Some(None) => IsCa::Ca(BasicConstraints::Unconstrained),
        None => IsCa::ExplicitNoCa,
    };
    p.key_usages = usages.to_vec();
    p.use_authority_key_identifier_extension = true;
    p
}

fn root(cn: &str) -> Node {
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
    let mut params = params(cn, Some(None), &[KeyUsagePurpose::KeyCertSign]);
    params.use_authority_key_identifier_extension = false;
    let cert = Certificate::from_der(params.self_signed(&key).unwrap().der()).unwrap();
    Node { params, key, cert }
}

fn child(issuer: &Node, params: CertificateParams) -> Node {
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
    let der = params
        .signed_by(&key, &Issuer::from_params(&issuer.params, &issuer.key))
        .unwrap();
    Node {
        params,
        key,
        cert: Certificate::from_der(der.der()).unwrap(),
    }
}

fn certs(nodes: &[&Node]) -> Vec<Certificate> {
    nodes.iter().map(|n| n.cert.clone()).collect()
}

#[test]
fn a_valid_three_level_path_verifies_in_either_intermediate_order() {
    let r = root("root");
    let i1 = child(
        &r,
        params("i1", Some(Some(1)), &[KeyUsagePurpose::KeyCertSign]),
    );
    let i2 = child(
        &i1,
        params("i2", Some(Some(0)), &[KeyUsagePurpose::KeyCertSign]),
    );
    let leaf = child(
        &i2,
        params("leaf", None, &[KeyUsagePurpose::DigitalSignature]),
    );
    let chain = x509::verify_chain(&leaf.cert, &certs(&[&i1, &i2]), &certs(&[&r]), AT).unwrap();
    assert_eq!(
        chain.certificates(),
        certs(&[&leaf, &i2, &i1, &r]).as_slice()
    );
    x509::verify_chain(&leaf.cert, &certs(&[&i2, &i1]), &certs(&[&r]), AT).unwrap();
    // A missing intermediate is an unknown issuer at the position that needs it.
    assert!(matches!(
        x509::verify_chain(&leaf.cert, &certs(&[&i2]), &certs(&[&r]), AT),
        Err(X509Error::UnknownIssuer {
            which: CertPosition::Intermediate(0),
            ..
        })
    ));
}

#[test]
fn path_length_constraint_is_enforced() {
    let r = root("root");
    let i1 = child(
        &r,
        params("i1", Some(Some(0)), &[KeyUsagePurpose::KeyCertSign]),
    );
    let i2 = child(
        &i1,
        params("i2", Some(None), &[KeyUsagePurpose::KeyCertSign]),
    );
    let leaf = child(
        &i2,
        params("leaf", None, &[KeyUsagePurpose::DigitalSignature]),
    );
    assert_eq!(
        x509::verify_chain(&leaf.cert, &certs(&[&i1, &i2]), &certs(&[&r]), AT).unwrap_err(),
        X509Error::PathLenExceeded {
            which: CertPosition::Intermediate(1)
        }
    );
}

#[test]
fn issuers_must_be_cas_allowed_to_sign_certificates() {
    let r = root("root");
    let ee = child(
        &r,
        params(
            "not a CA",
            None,
            &[
                KeyUsagePurpose::DigitalSignature,
                KeyUsagePurpose::KeyCertSign,
            ],
        ),
    );
    let leaf = child(
        &ee,
        params("leaf", None, &[KeyUsagePurpose::DigitalSignature]),
    );
    assert_eq!(
        x509::verify_chain(&leaf.cert, &certs(&[&ee]), &certs(&[&r]), AT).unwrap_err(),
        X509Error::NotACa {
            which: CertPosition::Intermediate(0)
        }
    );
    let no_sign = child(
        &r,
        params(
            "CA without keyCertSign",
            Some(None),
            &[KeyUsagePurpose::DigitalSignature],
        ),
    );
    let leaf = child(
        &no_sign,
        params("leaf", None, &[KeyUsagePurpose::DigitalSignature]),
    );
    assert_eq!(
        x509::verify_chain(&leaf.cert, &certs(&[&no_sign]), &certs(&[&r]), AT).unwrap_err(),
        X509Error::KeyUsageMismatch {
            which: CertPosition::Intermediate(0),
            needed: "keyCertSign"
        }
    );
}

#[test]
fn unknown_critical_extensions_are_refused_and_unknown_non_critical_ones_ignored() {
    let r = root("root");
    let mut p = params("leaf", None, &[KeyUsagePurpose::DigitalSignature]);
    let mut ext =
        CustomExtension::from_oid_content(&[1, 3, 6, 1, 4, 1, 99999, 1], vec![0x05, 0x00]);
    ext.set_criticality(true);
    p.custom_extensions = vec![ext];
    let leaf = child(&r, p);
    assert_eq!(
        x509::verify_chain(&leaf.cert, &[], &certs(&[&r]), AT).unwrap_err(),
        X509Error::UnsupportedCriticalExtension {
            which: CertPosition::Leaf,
            oid: "1.3.6.1.4.1.99999.1".into()
        }
    );
    let mut p = params("leaf", None, &[KeyUsagePurpose::DigitalSignature]);
    p.custom_extensions = vec![CustomExtension::from_oid_content(
        &[1, 3, 6, 1, 4, 1, 99999, 1],
        vec![0x05, 0x00],
    )];
    x509::verify_chain(&child(&r, p).cert, &[], &certs(&[&r]), AT).unwrap();
}

#[test]
fn names_must_link_and_aki_less_issuers_need_name_and_signature() {
    let r = root("root");
    // Same key and key identifier, but the issuer name written into the child differs.
    let mut fake = r.params.clone();
    fake.distinguished_name = rcgen::DistinguishedName::new();
    fake.distinguished_name
        .push(DnType::CommonName, "someone else");
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
    let der = params("leaf", None, &[KeyUsagePurpose::DigitalSignature])
        .signed_by(&key, &Issuer::from_params(&fake, &r.key))
        .unwrap();
    let leaf = Certificate::from_der(der.der()).unwrap();
    assert_eq!(
        x509::verify_chain(&leaf, &[], &certs(&[&r]), AT).unwrap_err(),
        X509Error::IssuerNameMismatch {
            which: CertPosition::Leaf
        }
    );

    // Without AKI the issuer is found by name and confirmed by its signature; a same-named
    // impostor root is skipped.
    let impostor = root("root");
    let mut p = params("leaf", None, &[KeyUsagePurpose::DigitalSignature]);
    p.use_authority_key_identifier_extension = false;
    let leaf = child(&r, p);
    assert_eq!(leaf.cert.authority_key_id(), None);
    let chain = x509::verify_chain(&leaf.cert, &[], &certs(&[&impostor, &r]), AT).unwrap();
    assert_eq!(chain.trust_anchor(), Some(&r.cert));
    assert!(matches!(
        x509::verify_chain(&leaf.cert, &[], &certs(&[&impostor]), AT),
        Err(X509Error::UnknownIssuer {
            which: CertPosition::Leaf,
            authority_key_id: None,
            ..
        })
    ));
}

#[test]
fn validity_is_checked_for_every_certificate_at_the_injected_time() {
    let r = root("root");
    let leaf = child(
        &r,
        params("leaf", None, &[KeyUsagePurpose::DigitalSignature]),
    );
    let anchors = certs(&[&r]);
    x509::verify_chain(&leaf.cert, &[], &anchors, datetime!(2025-01-01 00:00 UTC)).unwrap();
    x509::verify_chain(&leaf.cert, &[], &anchors, datetime!(2035-01-01 00:00 UTC)).unwrap();
    // The anchor is checked first (top-down).
    assert!(matches!(
        x509::verify_chain(
            &leaf.cert,
            &[],
            &anchors,
            datetime!(2035-01-01 00:00:01 UTC)
        ),
        Err(X509Error::Expired {
            which: CertPosition::TrustAnchor,
            ..
        })
    ));
    assert!(matches!(
        x509::verify_chain(
            &leaf.cert,
            &[],
            &anchors,
            datetime!(2024-12-31 23:59:59 UTC)
        ),
        Err(X509Error::NotYetValid {
            which: CertPosition::TrustAnchor,
            ..
        })
    ));
    assert!(leaf.cert.is_valid_at(AT) && !leaf.cert.is_valid_at(datetime!(2036-01-01 00:00 UTC)));
}
