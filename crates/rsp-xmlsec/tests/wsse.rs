#![allow(clippy::unwrap_used, clippy::expect_used)]
//! WS-Security signatures: sign and verify on both curves, tampering, coverage, freshness.

mod common;

use base64::Engine as _;
use common::{Pki, es4_request, xmlsec1, xmlsec1_available};
use rsp_xmlsec::dsig::SignatureAlgorithm;
use rsp_xmlsec::wsse::{WsSecurityError, WsVerifier, WsseFaultCode};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

const WSU: &str = rsp_xmlsec::ns::WSU;
const WSA: &str = rsp_xmlsec::ns::WSA;
const ENV: &str = rsp_xmlsec::ns::SOAP12;

/// `--id-attr` options telling xmlsec1 which elements carry `wsu:Id`.
fn id_attrs() -> Vec<String> {
    let mut v = Vec::new();
    for node in [
        format!("{ENV}:Body"),
        format!("{WSU}:Timestamp"),
        format!("{WSA}:To"),
        format!("{WSA}:From"),
        format!("{WSA}:ReplyTo"),
        format!("{WSA}:MessageID"),
        format!("{WSA}:Action"),
    ] {
        v.push("--id-attr:Id".to_string());
        v.push(node);
    }
    v
}

fn fault(e: &WsSecurityError) -> WsseFaultCode {
    e.fault_code()
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

#[test]
fn p256_sign_and_verify() {
    let pki = Pki::new();
    let signer = pki.signer("tls/operator1");
    let t = now();
    let signed = signer.sign_envelope(&es4_request("urn:uuid:1"), t).unwrap();
    let v = pki.verifier("tls/ca").verify_envelope(&signed, t).unwrap();
    assert_eq!(v.message_id.as_deref(), Some("urn:uuid:1"));
    assert_eq!(v.signer, pki.cert_der("tls/operator1"));
}

#[test]
fn brainpool_sign_and_verify() {
    let pki = Pki::new();
    let signer = pki.signer("sgp22/dp-auth/brp");
    assert_eq!(signer.algorithm(), SignatureAlgorithm::EcdsaSha256);
    let t = now();
    let signed = signer
        .sign_envelope(&es4_request("urn:uuid:bp"), t)
        .unwrap();
    let v = pki
        .verifier("sgp22/ci/brp")
        .verify_envelope(&signed, t)
        .unwrap();
    assert_eq!(v.signer, pki.cert_der("sgp22/dp-auth/brp"));
    // The P-256 CI does not vouch for the brainpool chain.
    let e = pki
        .verifier("sgp22/ci/nist")
        .verify_envelope(&signed, t)
        .unwrap_err();
    assert_eq!(fault(&e), WsseFaultCode::FailedAuthentication, "{e}");
}

#[test]
fn xmlsec1_verifies_what_we_sign() {
    if !xmlsec1_available() {
        eprintln!("SKIP: xmlsec1 not installed");
        return;
    }
    let pki = Pki::new();
    let dir = tempfile::tempdir().unwrap();
    for (id, name) in [("tls/operator1", "p256"), ("sgp22/dp-auth/brp", "brp")] {
        let signed = pki
            .signer(id)
            .sign_envelope(&es4_request("urn:uuid:x"), now())
            .unwrap();
        let file = dir.path().join(format!("{name}.xml"));
        std::fs::write(&file, &signed).unwrap();
        let cert = pki.cert(id);
        let mut args: Vec<String> = vec![
            "--verify".into(),
            "--pubkey-cert-pem".into(),
            cert.display().to_string(),
        ];
        args.extend(id_attrs());
        args.push(file.display().to_string());
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let (ok, err) = xmlsec1(&argv, dir.path());
        assert!(ok, "xmlsec1 refused our {name} signature: {err}");
        // ... and refuses it once the body changed (the check can fail).
        std::fs::write(&file, signed.replace("fc-1", "fc-2")).unwrap();
        let (ok, _) = xmlsec1(&argv, dir.path());
        assert!(!ok, "xmlsec1 accepted a tampered {name} body");
    }
}

/// A WS-Security template for xmlsec1: wsu:Ids on the parts, BinarySecurityToken with `cert_der`, Timestamp,
/// and an empty ds:Signature referencing Body, Timestamp and the WS-Addressing headers.
fn template(cert_der: &[u8], created: OffsetDateTime, algorithm: &str) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(cert_der);
    let created_s = created.format(&Rfc3339).unwrap();
    let expires_s = (created + Duration::minutes(5)).format(&Rfc3339).unwrap();
    let refs: String = ["to", "from", "reply", "mid", "action", "body", "ts"]
        .iter()
        .map(|id| {
            format!(
                "<ds:Reference URI=\"#{id}\"><ds:Transforms><ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/></ds:Transforms>\
                 <ds:DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"/><ds:DigestValue/></ds:Reference>"
            )
        })
        .collect();
    format!(
        r##"<?xml version="1.0" encoding="UTF-8"?>
<S:Envelope xmlns:S="{ENV}" xmlns:A="{WSA}" xmlns:u="{WSU}">
 <S:Header>
  <o:Security xmlns:o="{wsse}" S:mustUnderstand="1">
   <u:Timestamp u:Id="ts"><u:Created>{created_s}</u:Created><u:Expires>{expires_s}</u:Expires></u:Timestamp>
   <o:BinarySecurityToken u:Id="tok" ValueType="{vt}" EncodingType="{et}">{b64}</o:BinarySecurityToken>
   <ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
    <ds:SignedInfo>
     <ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>
     <ds:SignatureMethod Algorithm="{algorithm}"/>
     {refs}
    </ds:SignedInfo>
    <ds:SignatureValue/>
    <ds:KeyInfo><o:SecurityTokenReference><o:Reference URI="#tok" ValueType="{vt}"/></o:SecurityTokenReference></ds:KeyInfo>
   </ds:Signature>
  </o:Security>
  <A:To u:Id="to">https://smsr.example.com/es4</A:To>
  <A:From u:Id="from"><A:Address>https://operator.example.com?EntityId=2.999.20</A:Address></A:From>
  <A:ReplyTo u:Id="reply"><A:Address>http://www.w3.org/2005/08/addressing/anonymous</A:Address></A:ReplyTo>
  <A:MessageID u:Id="mid">urn:uuid:from-xmlsec1</A:MessageID>
  <A:Action u:Id="action">http://gsma.com/ES4/ProfileManagement/ES4-EnableProfileRequest</A:Action>
 </S:Header>
 <S:Body u:Id="body"><r:ES4-EnableProfileRequest xmlns:r="{ns}"><r:FunctionCallIdentifier>fc-9</r:FunctionCallIdentifier><r:Eid>89049032123451234512345678901235</r:Eid><r:Iccid>89000123456789012341</r:Iccid></r:ES4-EnableProfileRequest></S:Body>
</S:Envelope>
"##,
        wsse = rsp_xmlsec::ns::WSSE,
        vt = rsp_xmlsec::wsse::X509V3_VALUE_TYPE,
        et = rsp_xmlsec::wsse::BASE64_ENCODING,
        ns = common::NS,
    )
}

#[test]
fn we_verify_what_xmlsec1_signs() {
    if !xmlsec1_available() {
        eprintln!("SKIP: xmlsec1 not installed");
        return;
    }
    let pki = Pki::new();
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("tls/operator1", "tls/ca"),
        ("sgp22/dp-auth/brp", "sgp22/ci/brp"),
    ];
    for (id, root) in cases {
        let t = now().replace_nanosecond(0).unwrap();
        let tmpl = dir.path().join("tmpl.xml");
        std::fs::write(
            &tmpl,
            template(&pki.cert_der(id), t, rsp_xmlsec::dsig::alg::ECDSA_SHA256),
        )
        .unwrap();
        let out = dir.path().join("out.xml");
        let key = pki.key(id);
        let mut args: Vec<String> = vec![
            "--sign".into(),
            "--privkey-pem".into(),
            key.display().to_string(),
            "--output".into(),
            out.display().to_string(),
        ];
        args.extend(id_attrs());
        args.push(tmpl.display().to_string());
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let (ok, err) = xmlsec1(&argv, dir.path());
        assert!(ok, "xmlsec1 --sign failed: {err}");
        let signed = std::fs::read_to_string(&out).unwrap();
        let v = pki.verifier(root).verify_envelope(&signed, t).unwrap();
        assert_eq!(v.message_id.as_deref(), Some("urn:uuid:from-xmlsec1"));
        let e = pki
            .verifier(root)
            .verify_envelope(&signed.replace("fc-9", "fc-8"), t)
            .unwrap_err();
        assert_eq!(fault(&e), WsseFaultCode::FailedCheck, "{e}");
    }
}

/// One signed request and the verifier, for the tamper tests.
fn signed_request() -> (Pki, String, WsVerifier, OffsetDateTime) {
    let pki = Pki::new();
    let t = now();
    let signed = pki
        .signer("tls/operator1")
        .sign_envelope(&es4_request("urn:uuid:t"), t)
        .unwrap();
    let v = pki.verifier("tls/ca");
    (pki, signed, v, t)
}

#[test]
fn tampering_is_refused() {
    let (pki, signed, v, t) = signed_request();
    v.verify_envelope(&signed, t).unwrap();
    let cases: Vec<(&str, String, WsseFaultCode)> = vec![
        (
            "body",
            signed.replace("89000123456789012341", "89000123456789012358"),
            WsseFaultCode::FailedCheck,
        ),
        (
            "body whitespace",
            signed.replace("<rps:Eid>", "<rps:Eid> "),
            WsseFaultCode::FailedCheck,
        ),
        (
            "wsa:Action",
            signed.replace(
                "ES4-EnableProfileRequest</wsa:Action>",
                "ES4-DisableProfileRequest</wsa:Action>",
            ),
            WsseFaultCode::FailedCheck,
        ),
        (
            "wsa:To",
            signed.replace(
                "https://smsr.example.com/es4",
                "https://evil.example.com/es4",
            ),
            WsseFaultCode::FailedCheck,
        ),
        (
            "timestamp",
            {
                let c = signed.find("<wsu:Created>").unwrap() + "<wsu:Created>".len();
                let later = (t + Duration::seconds(30))
                    .replace_nanosecond(0)
                    .unwrap()
                    .format(&Rfc3339)
                    .unwrap();
                format!("{}{}{}", &signed[..c], later, &signed[c + later.len()..])
            },
            WsseFaultCode::FailedCheck,
        ),
        (
            "signature value",
            {
                let s = signed.find("<ds:SignatureValue>").unwrap() + "<ds:SignatureValue>".len();
                let mut b = signed.clone().into_bytes();
                b[s + 3] = if b[s + 3] == b'A' { b'B' } else { b'A' };
                String::from_utf8(b).unwrap()
            },
            WsseFaultCode::FailedCheck,
        ),
        (
            "certificate swapped for another trusted one",
            {
                let theirs =
                    base64::engine::general_purpose::STANDARD.encode(pki.cert_der("tls/operator1"));
                let other =
                    base64::engine::general_purpose::STANDARD.encode(pki.cert_der("tls/operator2"));
                signed.replace(&theirs, &other)
            },
            WsseFaultCode::FailedCheck,
        ),
        (
            "certificate garbled",
            signed
                .replace(
                    "<wsse:BinarySecurityToken",
                    "<wsse:BinarySecurityToken x=\"1\"",
                )
                .replacen("MII", "MIJ", 1),
            WsseFaultCode::FailedAuthentication,
        ),
        (
            "header added after signing",
            signed.replace(
                "</wsa:Action>",
                "</wsa:Action><wsa:FaultTo><wsa:Address>https://evil</wsa:Address></wsa:FaultTo>",
            ),
            WsseFaultCode::InvalidSecurity,
        ),
        (
            "signature wrapping: signed body moved into a header, new body",
            {
                let b0 = signed.find("<env:Body").unwrap();
                let b1 = signed.find("</env:Body>").unwrap() + "</env:Body>".len();
                let body = &signed[b0..b1];
                let moved = body.replace("env:Body", "rps:Wrapper");
                let evil = "<env:Body><rps:ES4-DeleteProfileRequest/></env:Body>";
                let h = signed.find("</env:Header>").unwrap();
                format!(
                    "{}{}</env:Header>\n  {}{}",
                    &signed[..h],
                    moved,
                    evil,
                    &signed[b1..]
                )
            },
            WsseFaultCode::InvalidSecurity,
        ),
        (
            "duplicate ID",
            signed.replace("<rps:Eid>", "<rps:Eid wsu:Id=\"id-1\">"),
            WsseFaultCode::InvalidSecurity,
        ),
        (
            "no Security header",
            es4_request("urn:uuid:t"),
            WsseFaultCode::InvalidSecurity,
        ),
    ];
    for (what, text, expected) in cases {
        let e = v.verify_envelope(&text, t).expect_err(what);
        eprintln!("{what}: {e}");
        assert_eq!(fault(&e), expected, "{what}: {e}");
    }
}

#[test]
fn untrusted_signer_is_refused() {
    let pki = Pki::new();
    let t = now();
    // Signed by a key whose certificate does not chain to the TLS CA.
    let signed = pki
        .signer("sgp22/dp-auth/nist")
        .sign_envelope(&es4_request("urn:uuid:u"), t)
        .unwrap();
    let e = pki
        .verifier("tls/ca")
        .verify_envelope(&signed, t)
        .unwrap_err();
    assert!(matches!(e, WsSecurityError::UntrustedCertificate(_)), "{e}");
    assert_eq!(fault(&e), WsseFaultCode::FailedAuthentication);
}

#[test]
fn freshness_window() {
    let (_pki, signed, v, t) = signed_request();
    let v = v.with_window(Duration::minutes(5), Duration::seconds(30));
    v.verify_envelope(&signed, t + Duration::minutes(4))
        .unwrap();
    for later in [Duration::minutes(6), Duration::hours(2)] {
        let e = v.verify_envelope(&signed, t + later).unwrap_err();
        assert_eq!(fault(&e), WsseFaultCode::MessageExpired, "{e}");
    }
    // Created in the future (beyond the skew).
    let e = v
        .verify_envelope(&signed, t - Duration::minutes(2))
        .unwrap_err();
    assert_eq!(fault(&e), WsseFaultCode::MessageExpired, "{e}");
}

#[test]
fn unsupported_algorithms_and_encryption_are_refused() {
    let (_pki, signed, v, t) = signed_request();
    let sha1 = signed.replace(
        "http://www.w3.org/2001/04/xmlenc#sha256",
        "http://www.w3.org/2000/09/xmldsig#sha1",
    );
    let e = v.verify_envelope(&sha1, t).unwrap_err();
    assert_eq!(fault(&e), WsseFaultCode::UnsupportedAlgorithm, "{e}");
    let remote = signed.replacen("URI=\"#id-1\"", "URI=\"http://127.0.0.1:9/x\"", 1);
    let e = v.verify_envelope(&remote, t).unwrap_err();
    assert_eq!(fault(&e), WsseFaultCode::UnsupportedAlgorithm, "{e}");
    let enc = signed.replace(
        "<rps:Eid>",
        "<xenc:EncryptedData xmlns:xenc=\"http://www.w3.org/2001/04/xmlenc#\"/><rps:Eid>",
    );
    let e = v.verify_envelope(&enc, t).unwrap_err();
    assert_eq!(fault(&e), WsseFaultCode::UnsupportedAlgorithm, "{e}");
    let doctype = format!(
        "<!DOCTYPE x [<!ENTITY a \"b\">]>{}",
        &signed[signed.find("<env:").unwrap()..]
    );
    assert!(v.verify_envelope(&doctype, t).is_err());
}

#[test]
fn remembered_chain_verdicts_respect_validity() {
    let pki = Pki::new();
    let v = pki.verifier("tls/ca");
    let der = pki.cert_der("tls/operator1");
    let t = now();
    v.verify_chain(&der, t).unwrap();
    // Remembered, but only within the validity of every certificate of the chain.
    v.verify_chain(&der, t + Duration::minutes(1)).unwrap();
    for outside in [t + Duration::days(365 * 40), t - Duration::days(2)] {
        let e = v.verify_chain(&der, outside).unwrap_err();
        assert_eq!(fault(&e), WsseFaultCode::FailedAuthentication, "{e}");
    }
    v.verify_chain(&der, t).unwrap();
}
