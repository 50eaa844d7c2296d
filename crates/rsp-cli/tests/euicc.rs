#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `rsp euicc create|list|show` end to end: the built binary issues cards from the data dir's PKI
//! (generated on first use), stores them, writes their EUM-signed EIS, lists and shows them.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rsp_crypto::pki::PkiManifest;
use rsp_euicc::m2m::eis::{Es1TransportKey, eis_from_xml, open_isd_r_key_sets};
use rsp_sgp02::DEFAULT_NAMESPACE;
use rsp_xmlsec::eis::{EisSignatureError, EisTrust};

/// GSMA TS.48 v7 generic test profile (Apache-2.0), SAIP 2.3 DER; ICCID 89000123456789012341.
const BOOTSTRAP: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/SAIP2.3_NoBERTLV.der"
);
const BOOTSTRAP_ICCID: &str = "89000123456789012341";
const BOOTSTRAP_AID: &str = "A0000005591010FFFFFFFF8900001000";
/// SGP.26 test EID (valid MOD 97-10 check digits), never issued by a generated PKI.
const UNKNOWN_EID: &str = "89049032123451234512345678901235";

fn rsp(data_dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_rsp"));
    for (k, _) in std::env::vars() {
        if k.starts_with("RSP_") {
            c.env_remove(k);
        }
    }
    c.arg("--data-dir")
        .arg(data_dir)
        .env("RSP_PKI__GENERATE_IF_MISSING", "true")
        .env("NO_COLOR", "1")
        .env("RSP_LOG", "warn");
    c
}

fn run(data_dir: &Path, args: &[&str]) -> Output {
    rsp(data_dir).args(args).output().expect("run rsp")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

struct Created {
    eid: String,
    entity: String,
    eis: PathBuf,
    transport_key: PathBuf,
}

fn field(out: &str, name: &str) -> String {
    out.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
        .unwrap_or_else(|| panic!("no {name:?} line in {out:?}"))
        .to_string()
}

fn create(data_dir: &Path, args: &[&str]) -> Created {
    let mut all = vec!["euicc", "create"];
    all.extend_from_slice(args);
    let o = run(data_dir, &all);
    assert!(o.status.success(), "create failed: {}", stderr(&o));
    let text = stdout(&o);
    Created {
        eid: field(&text, "eid"),
        entity: field(&text, "entity"),
        eis: field(&text, "eis").into(),
        transport_key: field(&text, "es1 transport key").into(),
    }
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn xmllint_available() -> bool {
    let ok = Command::new("xmllint")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok && std::env::var("CI").is_ok_and(|v| !v.is_empty()) {
        panic!("xmllint is required (Debian package libxml2-utils)");
    }
    ok
}

#[test]
fn create_list_show_and_the_signed_eis() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");

    // First create: no PKI yet, so one is generated (two eUICC entities by default).
    let first = create(&data, &[]);
    assert_eq!(first.entity, "sgp02/euicc-1");
    assert!(data.join("pki/pki.json").exists());
    let second = create(&data, &["--bootstrap", BOOTSTRAP, "--seed", "7"]);
    assert_eq!(second.entity, "sgp02/euicc-2");
    assert_ne!(first.eid, second.eid);
    assert_eq!(first.transport_key, second.transport_key);

    // All entities used: a clear one-line error, exit 1, nothing stored.
    let o = run(&data, &["euicc", "create"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    let last = err.lines().last().unwrap();
    assert!(
        last.starts_with("error: euicc: all 2 eUICC entities"),
        "{err}"
    );
    assert!(last.contains("already used"), "{err}");

    // list: both cards; the bootstrap card with its enabled ICCID and Fall-Back ISD-P.
    let o = run(&data, &["euicc", "list"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let table = stdout(&o);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "{table}");
    assert!(lines[0].starts_with("EID"), "{table}");
    let row = lines.iter().find(|l| l.starts_with(&second.eid)).unwrap();
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(
        cells,
        [second.eid.as_str(), "1", BOOTSTRAP_ICCID, BOOTSTRAP_AID]
    );
    let row = lines.iter().find(|l| l.starts_with(&first.eid)).unwrap();
    assert_eq!(
        row.split_whitespace().collect::<Vec<_>>(),
        [first.eid.as_str(), "0", "-", "-"]
    );

    let o = run(&data, &["euicc", "list", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let rows = json.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    let eids: Vec<&str> = rows.iter().map(|r| r["eid"].as_str().unwrap()).collect();
    assert!(eids.contains(&first.eid.as_str()) && eids.contains(&second.eid.as_str()));
    let r = rows
        .iter()
        .find(|r| r["eid"] == second.eid.as_str())
        .unwrap();
    assert_eq!(r["enabled_iccid"], BOOTSTRAP_ICCID);
    assert_eq!(r["fall_back"], BOOTSTRAP_AID);

    // show: the card summary as JSON.
    let o = run(&data, &["euicc", "show", &second.eid]);
    assert!(o.status.success(), "{}", stderr(&o));
    let summary: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(summary["eid"], second.eid.as_str());
    assert_eq!(summary["enabled"], BOOTSTRAP_AID);
    assert_eq!(summary["fall_back"], BOOTSTRAP_AID);
    assert_eq!(summary["profiles"][0]["state"], "enabled");
    assert_eq!(summary["profiles"][0]["iccid"], BOOTSTRAP_ICCID);
    assert_eq!(summary["declared"], false);
    let o = run(&data, &["euicc", "show", &first.eid]);
    let summary: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(summary["eid"], first.eid.as_str());
    assert_eq!(summary["profiles"].as_array().unwrap().len(), 0);
    assert!(summary["enabled"].is_null());

    // Unknown EID: one line, exit 1. Malformed EID (bad check digits, not digits): exit 2.
    let o = run(&data, &["euicc", "show", UNKNOWN_EID]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert_eq!(
        err.lines().last().unwrap(),
        format!(
            "error: euicc: no eUICC {UNKNOWN_EID} in {}",
            data.join("euicc").display()
        )
    );
    for bad in ["89049032123451234512345678901234", "1234", "not-an-eid"] {
        let o = run(&data, &["euicc", "show", bad]);
        assert_eq!(o.status.code(), Some(2), "{bad}: {}", stderr(&o));
        assert!(stderr(&o).contains("malformed EID"), "{}", stderr(&o));
    }

    // The EIS files: private, parse as an EIS of the card, signed by the EUM (chain to the CI).
    let manifest = PkiManifest::load(&data.join("pki")).unwrap();
    let ci = &manifest.entity("sgp02/ci").unwrap().cert;
    let trust = EisTrust::from_pem_files(&[ci.as_path()]).unwrap();
    let transport =
        Es1TransportKey::from_hex(&std::fs::read_to_string(&first.transport_key).unwrap()).unwrap();
    #[cfg(unix)]
    assert_eq!(mode(&first.transport_key), 0o600);
    for card in [&first, &second] {
        assert_eq!(
            card.eis,
            data.join("euicc").join(format!("{}.eis.xml", card.eid))
        );
        #[cfg(unix)]
        assert_eq!(mode(&card.eis), 0o600);
        let xml = std::fs::read_to_string(&card.eis).unwrap();
        let eis = eis_from_xml(&xml).unwrap();
        assert_eq!(eis.eid().as_str(), card.eid);
        assert_eq!(eis.smsr_id.to_string(), "2.999.31");
        assert!(!eis.eum_signature.0.children.is_empty(), "unsigned EIS");
        let verified = trust
            .verify_document(&xml, time::OffsetDateTime::now_utc())
            .unwrap();
        assert_eq!(verified.eid.as_str(), card.eid);
        assert_eq!(verified.eum_id.to_string(), "2.999.5");
        // ISD-R keys: protected under the transport key, recoverable with it.
        let sets = open_isd_r_key_sets(&eis, &transport).unwrap();
        assert_eq!(sets.len(), 2);
        // A changed EumSignedInfo no longer verifies.
        let tampered = xml.replacen("<rps:PlatformVersion>", "<rps:PlatformVersion>1", 1);
        assert_ne!(tampered, xml);
        assert!(matches!(
            trust.verify_document(&tampered, time::OffsetDateTime::now_utc()),
            Err(EisSignatureError::BadSignature)
        ));
    }
    let eis = eis_from_xml(&std::fs::read_to_string(&second.eis).unwrap()).unwrap();
    assert_eq!(eis.profile_info.len(), 1);
    assert!(eis.profile_info[0].fallback_attribute);
    assert_eq!(eis.profile_info[0].iccid.to_string(), BOOTSTRAP_ICCID);

    // The signed EIS, inside an ES1 RegisterEIS request, validates against the generated schemas.
    if xmllint_available() {
        let schema_dir = dir.path().join("xsd");
        let schema = rsp_sgp02::xsd::write_schema_set(&schema_dir, DEFAULT_NAMESPACE).unwrap();
        let xml = std::fs::read_to_string(&second.eis).unwrap();
        let body = xml
            .split_once("?>")
            .map_or(xml.as_str(), |(_, rest)| rest)
            .trim();
        let name = rsp_sgp02::FunctionId::Es1RegisterEis
            .info()
            .request_element();
        let envelope = format!(
            "<env:Envelope xmlns:env=\"http://www.w3.org/2003/05/soap-envelope\"><env:Body>\
             <rps:{name} xmlns:rps=\"{DEFAULT_NAMESPACE}\"><rps:FunctionCallIdentifier>1</rps:FunctionCallIdentifier>\
             {body}</rps:{name}></env:Body></env:Envelope>"
        );
        let file = schema_dir.join("register-eis.xml");
        std::fs::write(&file, envelope).unwrap();
        let o = Command::new("xmllint")
            .arg("--noout")
            .arg("--schema")
            .arg(&schema)
            .arg(&file)
            .output()
            .unwrap();
        assert!(o.status.success(), "xmllint: {}", stderr(&o));
    } else {
        eprintln!("SKIP: xmllint not installed");
    }
}

#[test]
fn explicit_entity_and_bad_arguments() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let o = run(&data, &["pki", "init", "--euiccs", "3"]);
    assert!(o.status.success(), "{}", stderr(&o));

    let c = create(
        &data,
        &["--entity", "sgp02/euicc-3", "--smsr-id", "2.999.32"],
    );
    assert_eq!(c.entity, "sgp02/euicc-3");
    let manifest = PkiManifest::load(&data.join("pki")).unwrap();
    assert_eq!(
        manifest.entity("sgp02/euicc-3").unwrap().eid.as_deref(),
        Some(c.eid.as_str())
    );
    let eis = eis_from_xml(&std::fs::read_to_string(&c.eis).unwrap()).unwrap();
    assert_eq!(eis.smsr_id.to_string(), "2.999.32");
    // Without --entity the first unused one is taken.
    assert_eq!(create(&data, &[]).entity, "sgp02/euicc-1");

    // The same entity again: runtime error. An entity the PKI lacks, a bad OID, a missing
    // bootstrap file: errors, nothing stored.
    let o = run(&data, &["euicc", "create", "--entity", "sgp02/euicc-3"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("already a stored card"),
        "{}",
        stderr(&o)
    );
    let o = run(&data, &["euicc", "create", "--entity", "sgp02/euicc-9"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let o = run(&data, &["euicc", "create", "--smsr-id", "not.an.oid"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let o = run(
        &data,
        &["euicc", "create", "--bootstrap", "/nonexistent/profile.der"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    // An EIS file left for an entity (interrupted or concurrent create) is never overwritten.
    let eid2 = manifest
        .entity("sgp02/euicc-2")
        .unwrap()
        .eid
        .clone()
        .unwrap();
    let stale = data.join("euicc").join(format!("{eid2}.eis.xml"));
    std::fs::write(&stale, "left over").unwrap();
    let o = run(&data, &["euicc", "create"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("already exists"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&stale).unwrap(), "left over");
    let o = run(&data, &["euicc", "list", "--json"]);
    let rows: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 2);
}

#[test]
fn list_and_show_without_cards() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("empty");
    let o = run(&data, &["euicc", "list", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o).trim(), "[]");
    let o = run(&data, &["euicc", "list"]);
    assert_eq!(
        stdout(&o).trim(),
        "EID  PROFILES  ENABLED ICCID  FALL-BACK AID"
    );
    let o = run(&data, &["euicc", "show", UNKNOWN_EID]);
    assert_eq!(o.status.code(), Some(1));
    // Reading does not create the store.
    assert!(!data.join("euicc").exists());
}
