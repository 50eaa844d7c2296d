//! `pki::generate`: the generated hierarchy is complete, verifies with rsp's own verifiers and with
//! the external `openssl verify`, loads back, and is not overwritten by accident.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use std::collections::HashSet;
use std::fs;
use std::path::Path;
use std::process::Command;

use rsp_crypto::ecc::{Curve, PrivateKey};
use rsp_crypto::gpcert::{GpCertRole, GpCertificate};
use rsp_crypto::pki::{self, CertFormat, EntityRole, PkiError, PkiManifest, PkiOptions, PkiPart};
use rsp_crypto::x509::{self, Certificate, Sgp22Role, X509Error};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const NOW: OffsetDateTime = datetime!(2026-11-01 10:00:00 UTC);

fn options() -> PkiOptions {
    PkiOptions {
        now: Some(NOW),
        ..PkiOptions::default()
    }
}

fn read_cert(path: &Path) -> Certificate {
    Certificate::from_pem(&fs::read_to_string(path).unwrap()).unwrap()
}

fn openssl_available() -> bool {
    Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn openssl(args: &[&str]) -> (bool, String) {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("run openssl");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn generates_every_entity_and_verifies_them() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("pki");
    let m = pki::generate(&dir, &options()).unwrap();

    let ids: HashSet<&str> = m.entities.iter().map(|e| e.id.as_str()).collect();
    let mut expected = vec![
        "sgp02/ci",
        "sgp02/eum",
        "sgp02/sm-dp",
        "sgp02/sm-sr1",
        "sgp02/sm-sr2",
        "sgp02/euicc-1",
        "sgp02/euicc-2",
        "tls/ca",
        "tls/eum",
        "tls/operator1",
        "tls/operator2",
        "tls/m2m-sp",
        "tls/sm-dp",
        "tls/sm-sr1",
        "tls/sm-sr2",
        "tls/sm-dp-plus",
    ];
    let sgp22: Vec<String> = ["ci", "eum", "euicc", "dp-auth", "dp-pb", "dp-tls"]
        .iter()
        .flat_map(|k| ["nist", "brp"].map(|v| format!("sgp22/{k}/{v}")))
        .collect();
    expected.extend(sgp22.iter().map(String::as_str));
    assert_eq!(ids, expected.iter().copied().collect::<HashSet<_>>());
    assert_eq!(m.entities.len(), expected.len());
    assert_eq!(m.origin, "generated");

    // Everything verifies at generation time, and the leaves expire after the default 1095 days.
    pki::check_manifest(&m, NOW).unwrap();
    let late = NOW + Duration::days(1100);
    assert!(matches!(
        pki::check_manifest(&m, late),
        Err(PkiError::X509 { .. } | PkiError::GpCert { .. })
    ));

    for e in &m.entities {
        assert!(e.cert.is_absolute() && e.cert.starts_with(&dir), "{}", e.id);
        let key_path = e.key.as_ref().unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(key_path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", e.id);
        }
        let key = PrivateKey::from_pem(&fs::read_to_string(key_path).unwrap()).unwrap();
        assert_eq!(Some(key.curve()), e.curve(), "{}", e.id);
        let expected_curve = if e.id.ends_with("/brp") {
            Curve::BrainpoolP256r1
        } else {
            Curve::NistP256
        };
        assert_eq!(key.curve(), expected_curve, "{}", e.id);
        match e.cert_format {
            CertFormat::X509Pem => {
                let cert = read_cert(&e.cert);
                assert_eq!(cert.public_key(), Ok(key.public_key()), "{}", e.id);
                assert_eq!(
                    cert.registered_ids().first(),
                    e.entity_oid.as_ref(),
                    "{}",
                    e.id
                );
                assert_eq!(
                    (cert.not_before(), cert.not_after()),
                    (e.not_before, e.not_after)
                );
            }
            CertFormat::GpTlv => {
                let cert = GpCertificate::from_bytes(&fs::read(&e.cert).unwrap()).unwrap();
                assert_eq!(cert.public_key(), key.public_key(), "{}", e.id);
            }
        }
    }
}

#[test]
fn sgp02_part_has_gp_certificates_with_roles_and_fresh_eids() {
    let tmp = tempfile::tempdir().unwrap();
    let opts = PkiOptions {
        euicc_count: 3,
        brainpool: false,
        ..options()
    };
    let m = pki::generate(tmp.path(), &opts).unwrap();
    let ci = read_cert(&m.entity("sgp02/ci").unwrap().cert);
    let eum = read_cert(&m.entity("sgp02/eum").unwrap().cert);
    x509::verify_sgp22_chain(&eum, &[], std::slice::from_ref(&ci), NOW, Sgp22Role::Eum).unwrap();
    assert_eq!(eum.permitted_eins(), ["89049032"]);

    for (id, role) in [
        ("sgp02/sm-dp", GpCertRole::SmDp),
        ("sgp02/sm-sr1", GpCertRole::SmSr),
        ("sgp02/sm-sr2", GpCertRole::SmSr),
    ] {
        let e = m.entity(id).unwrap();
        assert_eq!(e.cert_format, CertFormat::GpTlv);
        assert_eq!(e.chain, [m.entity("sgp02/ci").unwrap().cert.clone()]);
        let cert = GpCertificate::from_bytes(&fs::read(&e.cert).unwrap()).unwrap();
        cert.verify(&ci, role, NOW).unwrap();
        assert_eq!(cert.effective(), Some((NOW - Duration::hours(1)).date()));
        // The EUM did not sign it; the role is exact.
        assert!(cert.verify(&eum, role, NOW).is_err());
        let other = if role == GpCertRole::SmDp {
            GpCertRole::SmSr
        } else {
            GpCertRole::SmDp
        };
        assert!(cert.verify(&ci, other, NOW).is_err());
    }

    let euiccs: Vec<_> = m.entities_with(PkiPart::Sgp02, EntityRole::Euicc).collect();
    assert_eq!(euiccs.len(), 3);
    let mut eids = HashSet::new();
    for e in euiccs {
        let eid = e.eid.clone().unwrap();
        assert!(
            x509::eid_is_valid(&eid) && eid.starts_with("89049032"),
            "{eid}"
        );
        assert!(eids.insert(eid.clone()), "duplicate EID");
        let cert = GpCertificate::from_bytes(&fs::read(&e.cert).unwrap()).unwrap();
        cert.verify(&eum, GpCertRole::Ecasd, NOW).unwrap();
        assert_eq!(cert.eid().unwrap().as_str(), eid);
        assert!(cert.verify(&ci, GpCertRole::Ecasd, NOW).is_err());
    }
    assert_eq!(
        m.entities_with(PkiPart::Sgp22, EntityRole::Ci).count(),
        1,
        "brainpool disabled"
    );
}

#[test]
fn sgp22_and_tls_certificates_carry_the_sgp26_shaped_fields() {
    let tmp = tempfile::tempdir().unwrap();
    let m = pki::generate(tmp.path(), &options()).unwrap();
    for v in ["nist", "brp"] {
        let cert = |k: &str| read_cert(&m.entity(&format!("sgp22/{k}/{v}")).unwrap().cert);
        let (ci, eum, euicc) = (cert("ci"), cert("eum"), cert("euicc"));
        assert_eq!(ci.sgp22_role(), Some(Sgp22Role::Ci));
        assert_eq!(ci.registered_ids(), ["2.999.1"]);
        assert_eq!(eum.path_len_constraint(), Some(0));
        assert_eq!(eum.authority_key_id(), ci.subject_key_id());
        assert_eq!(euicc.authority_key_id(), eum.subject_key_id());
        let eid = m
            .entity(&format!("sgp22/euicc/{v}"))
            .unwrap()
            .eid
            .clone()
            .unwrap();
        assert_eq!(euicc.eid(), Some(eid.as_str()));
        x509::check_euicc_permitted(&eum, &euicc).unwrap();
        assert_eq!(euicc.not_after(), datetime!(9999-12-31 23:59:59 UTC));
        for (k, role) in [
            ("dp-auth", Sgp22Role::DpAuth),
            ("dp-pb", Sgp22Role::DpPb),
            ("dp-tls", Sgp22Role::DpTls),
        ] {
            let c = cert(k);
            x509::verify_sgp22_chain(&c, &[], std::slice::from_ref(&ci), NOW, role).unwrap();
            assert_eq!(c.registered_ids(), ["2.999.10"]);
            assert_eq!(
                c.subject_key_id(),
                Some(&x509::key_identifier(c.public_key().unwrap())[..])
            );
        }
        let tls = cert("dp-tls");
        assert_eq!(
            tls.subject_alt_names().dns_names,
            ["testsmdpplus1.example.com", "localhost"]
        );
        let eku = tls.extended_key_usage().unwrap();
        assert!(eku.server_auth && eku.client_auth);
    }
    // One eUICC identity, two keys.
    assert_eq!(
        m.entity("sgp22/euicc/nist").unwrap().eid,
        m.entity("sgp22/euicc/brp").unwrap().eid
    );

    let ca = read_cert(&m.entity("tls/ca").unwrap().cert);
    for (name, role, ou, oid) in pki::TLS_IDENTITIES {
        let e = m.entity(&format!("tls/{name}")).unwrap();
        assert_eq!((e.role, e.entity_oid.as_deref()), (*role, Some(*oid)));
        let c = read_cert(&e.cert);
        x509::verify_chain(&c, &[], std::slice::from_ref(&ca), NOW).unwrap();
        assert_eq!(c.subject().organization(), Some("rsp test"));
        assert_eq!(c.subject().attribute("2.5.4.11"), Some(*ou));
        assert_eq!(c.subject().common_name(), Some(*name));
        let san = c.subject_alt_names();
        assert_eq!(san.dns_names, ["localhost"]);
        assert_eq!(san.ip_addresses, [std::net::IpAddr::from([127, 0, 0, 1])]);
        assert_eq!(san.registered_ids, [oid.to_string()]);
        let eku = c.extended_key_usage().unwrap();
        assert!(eku.server_auth && eku.client_auth, "{name}");
        assert!(!c.is_ca());
        // Not an SGP.22 chain: the TLS CA has no CI role.
        assert!(matches!(
            x509::verify_sgp22_chain(&c, &[], std::slice::from_ref(&ca), NOW, Sgp22Role::DpTls),
            Err(X509Error::WrongRole { .. })
        ));
    }
    let oids: HashSet<_> = pki::TLS_IDENTITIES.iter().map(|t| t.3).collect();
    assert_eq!(
        oids.len(),
        pki::TLS_IDENTITIES.len(),
        "entity OIDs are distinct"
    );
}

#[test]
fn manifest_loads_back_and_generation_is_not_repeated_by_accident() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let m = pki::generate(dir, &options()).unwrap();
    let loaded = PkiManifest::load(dir).unwrap();
    assert_eq!(loaded, m);
    // On disk the paths are relative, so the directory can move.
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.join("pki.json")).unwrap()).unwrap();
    let first = &json["entities"][0];
    assert!(!Path::new(first["cert"].as_str().unwrap()).is_absolute());
    assert_eq!(json["format"], 1);
    let moved = tmp.path().join("../moved-pki");
    let _ = fs::remove_dir_all(&moved);
    fs::create_dir_all(&moved).unwrap();
    for sub in ["sgp02", "sgp22", "tls"] {
        fs::rename(dir.join(sub), moved.join(sub)).unwrap();
    }
    fs::rename(dir.join("pki.json"), moved.join("pki.json")).unwrap();
    let relocated = PkiManifest::load(&moved).unwrap();
    pki::check_manifest(&relocated, NOW).unwrap();
    for sub in ["sgp02", "sgp22", "tls"] {
        fs::rename(moved.join(sub), dir.join(sub)).unwrap();
    }
    fs::rename(moved.join("pki.json"), dir.join("pki.json")).unwrap();
    fs::remove_dir_all(&moved).unwrap();

    let again = pki::generate(dir, &options());
    assert!(
        matches!(again, Err(PkiError::AlreadyExists(_))),
        "{again:?}"
    );
    // A half-written hierarchy (no manifest) is refused too.
    fs::remove_file(dir.join("pki.json")).unwrap();
    assert!(matches!(
        pki::generate(dir, &options()),
        Err(PkiError::AlreadyExists(_))
    ));
    // With force: a fresh hierarchy with new keys at the same paths.
    let ci_path = m.entity("sgp22/ci/nist").unwrap().cert.clone();
    let old_ski = read_cert(&ci_path).subject_key_id().unwrap().to_vec();
    let forced = pki::generate(
        dir,
        &PkiOptions {
            force: true,
            ..options()
        },
    )
    .unwrap();
    assert_eq!(forced.entity("sgp22/ci/nist").unwrap().cert, ci_path);
    assert_ne!(
        read_cert(&ci_path).subject_key_id().unwrap(),
        old_ski.as_slice()
    );
    pki::check_manifest(&PkiManifest::load(dir).unwrap(), NOW).unwrap();

    assert!(matches!(
        pki::generate(
            &tmp.path().join("bad"),
            &PkiOptions {
                ein: "89x".into(),
                ..options()
            }
        ),
        Err(PkiError::InvalidOption(_))
    ));
}

#[test]
fn openssl_verifies_the_generated_x509_chains() {
    if !openssl_available() {
        eprintln!("SKIPPED: `openssl` is not on PATH; the independent chain check did not run");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let m = pki::generate(tmp.path(), &options()).unwrap();
    let attime = NOW.unix_timestamp().to_string();
    let mut checked = 0;
    for e in m
        .entities
        .iter()
        .filter(|e| e.cert_format == CertFormat::X509Pem)
    {
        let anchor = e.trust_anchor().to_str().unwrap().to_string();
        let cert = e.cert.to_str().unwrap();
        let mut args = vec![
            "verify",
            "-attime",
            &attime,
            "-x509_strict",
            "-CAfile",
            &anchor,
        ];
        let untrusted = tmp.path().join(format!("untrusted-{checked}.pem"));
        let untrusted_s = untrusted.to_str().unwrap().to_string();
        if e.chain.len() > 1 {
            let bundle: String = e.chain[..e.chain.len() - 1]
                .iter()
                .map(|p| fs::read_to_string(p).unwrap())
                .collect();
            fs::write(&untrusted, bundle).unwrap();
            args.extend(["-untrusted", &untrusted_s]);
        }
        args.push(cert);
        let (ok, out) = openssl(&args);
        if e.role == EntityRole::Euicc && e.pki == PkiPart::Sgp22 {
            // The GSMA reading of the EUM's dirName constraint (O + EIN prefix of serialNumber) is not
            // RFC 5280 subtree matching: OpenSSL refuses the official SGP.26 eUICC chain the same way.
            // Everything else about the chain must be fine, and the eUICC signature is checked below.
            assert!(
                !ok && out.contains("error 47") && out.contains("permitted subtree violation"),
                "{}: {out}",
                e.id
            );
            assert_eq!(
                out.matches("error ").count(),
                2,
                "{}: only the name constraint may fail: {out}",
                e.id
            );
            openssl_check_signature(tmp.path(), &e.cert, &e.chain[0]);
        } else {
            assert!(ok && out.contains(": OK"), "{}: {out}", e.id);
        }
        checked += 1;
    }
    assert_eq!(
        checked,
        12 + 1 + 8 + 2,
        "SGP.22 (2 curves), TLS CA and identities, SGP.02 CI and EUM"
    );

    // And a tampered copy is refused by OpenSSL too (sanity check of the harness).
    let dpauth = m.entity("sgp22/dp-auth/nist").unwrap();
    let mut der = read_cert(&dpauth.cert).der().to_vec();
    let n = der.len();
    der[n - 5] ^= 0x01;
    let tampered = tmp.path().join("tampered.pem");
    fs::write(&tampered, rsp_crypto::ecc::to_pem("CERTIFICATE", &der)).unwrap();
    let anchor = dpauth.trust_anchor().to_str().unwrap().to_string();
    let (ok, _) = openssl(&[
        "verify",
        "-attime",
        &attime,
        "-CAfile",
        &anchor,
        tampered.to_str().unwrap(),
    ]);
    assert!(!ok);
}

/// `openssl dgst -verify` of a certificate's signature over its TBS, both cut out by `openssl
/// asn1parse`, with the issuer's public key as OpenSSL reads it.
fn openssl_check_signature(tmp: &Path, cert: &Path, issuer: &Path) {
    let cert_s = cert.to_str().unwrap();
    let tbs = tmp.join("tbs.der");
    let sig = tmp.join("sig.der");
    let pubkey = tmp.join("issuer-pub.pem");
    let (ok, out) = openssl(&[
        "asn1parse",
        "-in",
        cert_s,
        "-strparse",
        "4",
        "-noout",
        "-out",
        tbs.to_str().unwrap(),
    ]);
    assert!(ok, "{out}");
    let (ok, listing) = openssl(&["asn1parse", "-in", cert_s]);
    assert!(ok);
    let last = listing
        .lines()
        .rev()
        .find(|l| l.contains("BIT STRING"))
        .unwrap();
    let offset = last.split(':').next().unwrap().trim().to_string();
    let (ok, out) = openssl(&[
        "asn1parse",
        "-in",
        cert_s,
        "-strparse",
        &offset,
        "-noout",
        "-out",
        sig.to_str().unwrap(),
    ]);
    assert!(ok, "{out}");
    let (ok, out) = openssl(&[
        "x509",
        "-in",
        issuer.to_str().unwrap(),
        "-noout",
        "-pubkey",
        "-out",
        pubkey.to_str().unwrap(),
    ]);
    assert!(ok, "{out}");
    let (ok, out) = openssl(&[
        "dgst",
        "-sha256",
        "-verify",
        pubkey.to_str().unwrap(),
        "-signature",
        sig.to_str().unwrap(),
        tbs.to_str().unwrap(),
    ]);
    assert!(
        ok && out.contains("Verified OK"),
        "{}: {out}",
        cert.display()
    );
}
