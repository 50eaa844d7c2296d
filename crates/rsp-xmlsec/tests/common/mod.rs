//! Shared test material: a generated test PKI and a hand-written ES4 request envelope.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use rsp_crypto::pki::{PkiManifest, PkiOptions};

/// A generated PKI in a temporary directory (SGP.02, SGP.22 with brainpool, TLS identities).
pub struct Pki {
    pub dir: tempfile::TempDir,
    pub manifest: PkiManifest,
}

impl Pki {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let manifest = rsp_crypto::pki::generate(
            &dir.path().join("pki"),
            &PkiOptions {
                euicc_count: 0,
                ..PkiOptions::default()
            },
        )
        .unwrap();
        Self { dir, manifest }
    }

    pub fn cert(&self, id: &str) -> PathBuf {
        self.manifest.entity(id).unwrap().cert.clone()
    }

    pub fn key(&self, id: &str) -> PathBuf {
        self.manifest.entity(id).unwrap().key.clone().unwrap()
    }

    pub fn cert_pem(&self, id: &str) -> Vec<u8> {
        std::fs::read(self.cert(id)).unwrap()
    }

    pub fn cert_der(&self, id: &str) -> Vec<u8> {
        openssl::x509::X509::from_pem(&self.cert_pem(id))
            .unwrap()
            .to_der()
            .unwrap()
    }

    pub fn key_pem(&self, id: &str) -> Vec<u8> {
        std::fs::read(self.key(id)).unwrap()
    }

    pub fn signer(&self, id: &str) -> rsp_xmlsec::wsse::WsSigner {
        rsp_xmlsec::wsse::WsSigner::from_files(&self.cert(id), &self.key(id)).unwrap()
    }

    pub fn verifier(&self, root: &str) -> rsp_xmlsec::wsse::WsVerifier {
        rsp_xmlsec::wsse::WsVerifier::new(&[self.cert_der(root)]).unwrap()
    }
}

pub const NS: &str = "http://namespaces.gsma.org/esim-messaging/3";

/// An ES4 EnableProfile request as a peer would send it (pretty-printed, with whitespace between elements).
pub fn es4_request(message_id: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://www.w3.org/2005/08/addressing" xmlns:rps="{NS}">
  <env:Header>
    <wsa:To>https://smsr.example.com/es4</wsa:To>
    <wsa:From><wsa:Address>https://operator.example.com?EntityId=2.999.20</wsa:Address></wsa:From>
    <wsa:ReplyTo><wsa:Address>http://www.w3.org/2005/08/addressing/anonymous</wsa:Address></wsa:ReplyTo>
    <wsa:MessageID>{message_id}</wsa:MessageID>
    <wsa:Action>http://gsma.com/ES4/ProfileManagement/ES4-EnableProfileRequest</wsa:Action>
  </env:Header>
  <env:Body>
    <rps:ES4-EnableProfileRequest>
      <rps:FunctionCallIdentifier>fc-1</rps:FunctionCallIdentifier>
      <rps:ValidityPeriod>600</rps:ValidityPeriod>
      <rps:Eid>89049032123451234512345678901235</rps:Eid>
      <rps:Iccid>89000123456789012341</rps:Iccid>
    </rps:ES4-EnableProfileRequest>
  </env:Body>
</env:Envelope>
"#
    )
}

/// Whether the `xmlsec1` command is installed (Debian package xmlsec1). Required when `CI` is set.
pub fn xmlsec1_available() -> bool {
    let ok = Command::new("xmlsec1")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok && std::env::var("CI").is_ok_and(|v| !v.is_empty()) {
        panic!("xmlsec1 is required (Debian package xmlsec1; scripts/test installs it)");
    }
    ok
}

/// Runs `xmlsec1` with `args`; returns (success, stderr).
pub fn xmlsec1(args: &[&str], cwd: &Path) -> (bool, String) {
    let out = Command::new("xmlsec1")
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
