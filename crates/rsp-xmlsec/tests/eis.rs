#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The EUM's signature over EumSignedInfo: sign (P-256 and brainpool), verify against the CI, refuse every
//! changed byte with 8.1.2/6.1, cross-check with xmlsec1, and keep verifying after the EIS travels on (ES7).

mod common;

use common::{NS, Pki, xmlsec1, xmlsec1_available};
use rsp_sgp02::bodies::EisRequest;
use rsp_sgp02::{Bodies, FunctionId, RequestBody, fns, sample};
use rsp_xmlsec::eis::{EisSignatureError, EisTrust, EumSigner, SIGNED_INFO_XPATH, extract, splice};
use time::OffsetDateTime;

/// The full sample RegisterEIS body, with the EUM's EntityId as `Eum-id`.
fn register_request() -> EisRequest {
    let el = sample::sample_request(FunctionId::Es1RegisterEis, true);
    let body = RequestBody::decode(FunctionId::Es1RegisterEis, &el).unwrap();
    let mut req = fns::Es1RegisterEis::unwrap_request(body).unwrap();
    req.eis.eum_signed_info.eum_id = "2.999.5".parse().unwrap();
    req
}

/// A SOAP envelope around `body` (as rsp writes bodies).
fn envelope(body: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><env:Envelope xmlns:env=\"http://www.w3.org/2003/05/soap-envelope\">\
         <env:Header/><env:Body>{body}</env:Body></env:Envelope>"
    )
}

fn register_xml(req: &EisRequest) -> String {
    envelope(
        &fns::Es1RegisterEis::wrap_request(req.clone())
            .encode(NS)
            .to_xml(),
    )
}

fn eum_signer(pki: &Pki, id: &str) -> EumSigner {
    EumSigner::from_files(&pki.cert(id), &pki.key(id)).unwrap()
}

fn trust(pki: &Pki, ci: &str) -> EisTrust {
    EisTrust::from_pem_files(&[pki.cert(ci).as_path()]).unwrap()
}

#[test]
fn sign_and_verify_on_both_curves() {
    let pki = Pki::new();
    for (eum, ci) in [("sgp02/eum", "sgp02/ci"), ("sgp22/eum/brp", "sgp22/ci/brp")] {
        let mut req = register_request();
        let part = eum_signer(&pki, eum).sign(&mut req.eis, NS).unwrap();
        let xml = register_xml(&req);
        let v = trust(&pki, ci)
            .verify_document(&xml, OffsetDateTime::now_utc())
            .unwrap();
        assert_eq!(v.eid, req.eis.eum_signed_info.eid);
        assert_eq!(v.eum_id.to_string(), "2.999.5");
        // What was verified is what was signed.
        assert_eq!(v.part, part);
        // The stored part verifies on its own.
        trust(&pki, ci)
            .verify_part(&part, OffsetDateTime::now_utc())
            .unwrap();
        // Another CI does not vouch for this EUM.
        let other = if ci == "sgp02/ci" {
            "sgp22/ci/brp"
        } else {
            "sgp02/ci"
        };
        let e = trust(&pki, other)
            .verify_document(&xml, OffsetDateTime::now_utc())
            .unwrap_err();
        assert!(matches!(e, EisSignatureError::EumCertificate(_)), "{e}");
        assert_eq!(status_pair(&e), ("8.1.2", "6.1"));
    }
}

fn status_pair(e: &EisSignatureError) -> (&'static str, &'static str) {
    let d = e.status().status_code_data.unwrap();
    let leak = |s: &str| -> &'static str { Box::leak(s.to_string().into_boxed_str()) };
    (leak(d.subject_code.as_str()), leak(d.reason_code.as_str()))
}

#[test]
fn every_changed_byte_of_the_signed_part_is_refused() {
    let pki = Pki::new();
    let mut req = register_request();
    eum_signer(&pki, "sgp02/eum")
        .sign(&mut req.eis, NS)
        .unwrap();
    let xml = register_xml(&req);
    let trust = trust(&pki, "sgp02/ci");
    let now = OffsetDateTime::now_utc();
    trust.verify_document(&xml, now).unwrap();
    let start = xml.find("<rps:EumSignedInfo").unwrap();
    let end = xml.find("</rps:EumSignedInfo>").unwrap() + "</rps:EumSignedInfo>".len();
    // Every byte of EumSignedInfo, and every byte of ds:SignedInfo and ds:SignatureValue.
    let sig_start = xml.find("<ds:SignedInfo").unwrap();
    let sig_end = xml.find("</ds:SignatureValue>").unwrap();
    let mut positions: Vec<usize> = (start..end).collect();
    positions.extend(sig_start..sig_end);
    let mut refused = 0;
    for i in positions {
        let original = xml.as_bytes()[i];
        let replacement = if original == b'7' { b'8' } else { b'7' };
        let mut bytes = xml.clone().into_bytes();
        bytes[i] = replacement;
        let Ok(text) = String::from_utf8(bytes) else {
            continue;
        };
        let e = trust.verify_document(&text, now).expect_err(&format!(
            "byte {i} ({}) changed: …{}…",
            original as char,
            &xml[i.saturating_sub(60)..(i + 20).min(xml.len())]
        ));
        assert_eq!(status_pair(&e), ("8.1.2", "6.1"), "byte {i}: {e}");
        refused += 1;
    }
    assert!(refused > 1000, "{refused}");
}

#[test]
fn expired_eum_certificate_answers_6_3() {
    let pki = Pki::new();
    let mut req = register_request();
    eum_signer(&pki, "sgp02/eum")
        .sign(&mut req.eis, NS)
        .unwrap();
    let xml = register_xml(&req);
    let far = OffsetDateTime::now_utc() + time::Duration::days(365 * 60);
    let e = trust(&pki, "sgp02/ci")
        .verify_document(&xml, far)
        .unwrap_err();
    assert_eq!(status_pair(&e), ("8.1.2", "6.3"), "{e}");
}

#[test]
fn eum_id_and_eid_must_match_the_certificate() {
    let pki = Pki::new();
    let now = OffsetDateTime::now_utc();
    let mut req = register_request();
    req.eis.eum_signed_info.eum_id = "2.999.77".parse().unwrap();
    eum_signer(&pki, "sgp02/eum")
        .sign(&mut req.eis, NS)
        .unwrap();
    let e = trust(&pki, "sgp02/ci")
        .verify_document(&register_xml(&req), now)
        .unwrap_err();
    assert!(matches!(e, EisSignatureError::EumIdMismatch { .. }), "{e}");
    let mut req = register_request();
    // Valid EID (MOD 97-10) outside the EUM's permitted EIN 89049032.
    req.eis.eum_signed_info.eid = "89001012012341234012345678901224".parse().unwrap();
    eum_signer(&pki, "sgp02/eum")
        .sign(&mut req.eis, NS)
        .unwrap();
    let e = trust(&pki, "sgp02/ci")
        .verify_document(&register_xml(&req), now)
        .unwrap_err();
    assert!(matches!(e, EisSignatureError::EidNotPermitted(_)), "{e}");
    assert_eq!(status_pair(&e), ("8.1.2", "6.1"));
}

#[test]
fn xmlsec1_verifies_the_eum_signature() {
    if !xmlsec1_available() {
        eprintln!("SKIP: xmlsec1 not installed");
        return;
    }
    let pki = Pki::new();
    let dir = tempfile::tempdir().unwrap();
    for (eum, name) in [("sgp02/eum", "p256"), ("sgp22/eum/brp", "brp")] {
        let mut req = register_request();
        let part = eum_signer(&pki, eum).sign(&mut req.eis, NS).unwrap();
        let file = dir.path().join(format!("{name}.xml"));
        std::fs::write(&file, part.verification_document()).unwrap();
        let cert = pki.cert(eum).display().to_string();
        let f = file.display().to_string();
        let (ok, err) = xmlsec1(&["--verify", "--pubkey-cert-pem", &cert, &f], dir.path());
        assert!(ok, "xmlsec1 refused the {name} EUM signature: {err}");
        std::fs::write(
            &file,
            part.verification_document()
                .replace("M2M-PROFILE-1", "M2M-PROFILE-2"),
        )
        .unwrap();
        let (ok, _) = xmlsec1(&["--verify", "--pubkey-cert-pem", &cert, &f], dir.path());
        assert!(!ok, "xmlsec1 accepted a changed EumSignedInfo");
    }
}

/// A pretty-printed EumSignedInfo with another prefix, signed by xmlsec1 with rsp's reference form: the kind of
/// bytes a third-party EUM tool sends, which rsp's own codec would not reproduce.
fn third_party_signed_eis(pki: &Pki, dir: &std::path::Path) -> String {
    let req = register_request();
    let si = req
        .eis
        .eum_signed_info
        .to_element_for_test()
        .replace("<rps:", "\n      <e:")
        .replace("</rps:", "</e:")
        .replace("xmlns:rps=", "xmlns:e=");
    let tmpl = format!(
        "<w:Wrap xmlns:w=\"urn:test\">{si}\n<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\">\n\
         <ds:SignedInfo>\n <ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>\n\
         <ds:SignatureMethod Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256\"/>\n\
         <ds:Reference URI=\"\">\n <ds:Transforms>\n  <ds:Transform Algorithm=\"http://www.w3.org/TR/1999/REC-xpath-19991116\">\
         <ds:XPath>{SIGNED_INFO_XPATH}</ds:XPath></ds:Transform>\n  <ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>\n\
         </ds:Transforms>\n <ds:DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"/>\n <ds:DigestValue/>\n</ds:Reference>\n\
         </ds:SignedInfo>\n<ds:SignatureValue/>\n<ds:KeyInfo><ds:X509Data/></ds:KeyInfo>\n</ds:Signature></w:Wrap>"
    );
    let t = dir.join("tmpl.xml");
    let out = dir.join("out.xml");
    std::fs::write(&t, tmpl).unwrap();
    let key = pki.key("sgp02/eum").display().to_string();
    let cert = pki.cert("sgp02/eum").display().to_string();
    let keycert = format!("{key},{cert}");
    let (ok, err) = xmlsec1(
        &[
            "--sign",
            "--privkey-pem",
            &keycert,
            "--output",
            &out.display().to_string(),
            &t.display().to_string(),
        ],
        dir,
    );
    assert!(ok, "xmlsec1 --sign: {err}");
    let signed = std::fs::read_to_string(&out).unwrap();
    // Put the signed pair into an Eis of a RegisterEIS request (the signature becomes rps:EumSignature).
    let si_start = signed.find("<e:EumSignedInfo").unwrap();
    let si_end = signed.find("</e:EumSignedInfo>").unwrap() + "</e:EumSignedInfo>".len();
    let sig_start = signed.find("<ds:Signature").unwrap();
    let sig_end = signed.find("</ds:Signature>").unwrap() + "</ds:Signature>".len();
    let sig = signed[sig_start..sig_end]
        .replacen(
            "<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\">",
            "<rps:EumSignature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\">",
            1,
        )
        .replace("</ds:Signature>", "</rps:EumSignature>");
    let ours = register_xml(&req);
    let a = ours.find("<rps:EumSignedInfo").unwrap();
    let b = ours.find("</rps:EumSignature>").unwrap() + "</rps:EumSignature>".len();
    format!(
        "{}{}\n  {}{}",
        &ours[..a],
        &signed[si_start..si_end],
        sig,
        &ours[b..]
    )
}

trait ToElementForTest {
    fn to_element_for_test(&self) -> String;
}

impl ToElementForTest for rsp_sgp02::data::EumSignedInfo {
    fn to_element_for_test(&self) -> String {
        use rsp_sgp02::schema::XmlItem;
        self.to_element(NS, "EumSignedInfo").to_xml()
    }
}

#[test]
fn signature_survives_handover_thanks_to_the_original_bytes() {
    if !xmlsec1_available() {
        eprintln!("SKIP: xmlsec1 not installed");
        return;
    }
    let pki = Pki::new();
    let dir = tempfile::tempdir().unwrap();
    let now = OffsetDateTime::now_utc();
    let trust = trust(&pki, "sgp02/ci");
    // ES1 RegisterEIS as a third-party EUM tool writes it: verifies.
    let register = third_party_signed_eis(&pki, dir.path());
    let verified = trust.verify_document(&register, now).unwrap();
    // The SM-SR decodes the body (rsp's codec) and later hands the EIS over on ES7.
    let env = rsp_sgp02::xml::Element::parse(&register).unwrap();
    let body_el = env.children[1].children[0].clone();
    let body = RequestBody::decode(FunctionId::Es1RegisterEis, &body_el).unwrap();
    let eis_req = fns::Es1RegisterEis::unwrap_request(body).unwrap();
    let handover = envelope(
        &fns::Es7HandoverEuicc::wrap_request(eis_req)
            .encode(NS)
            .to_xml(),
    );
    // Re-serialised by rsp's codec, the signed bytes changed (whitespace, prefix): the signature breaks...
    let e = trust.verify_document(&handover, now).unwrap_err();
    assert!(matches!(e, EisSignatureError::BadSignature), "{e}");
    // ... and with the stored original bytes spliced back in, it verifies again, as SM-SR2 will check.
    let spliced = splice(&handover, &verified.part).unwrap();
    let again = trust.verify_document(&spliced, now).unwrap();
    assert_eq!(again.part, verified.part);
    assert!(spliced.contains("ES7-HandoverEUICCRequest"));
    // The spliced request still decodes as an ES7 request with the same EIS content.
    let env = rsp_sgp02::xml::Element::parse(&spliced).unwrap();
    let body =
        RequestBody::decode(FunctionId::Es7HandoverEuicc, &env.children[1].children[0]).unwrap();
    let es7 = fns::Es7HandoverEuicc::unwrap_request(body).unwrap();
    assert_eq!(
        es7.eis.eum_signed_info,
        register_request().eis.eum_signed_info
    );
    // extract() finds the same canonical part in any document carrying the EIS.
    assert_eq!(extract(&spliced).unwrap(), verified.part);
}

#[test]
fn reference_forms_outside_the_allow_list_are_refused() {
    let pki = Pki::new();
    let mut req = register_request();
    eum_signer(&pki, "sgp02/eum")
        .sign(&mut req.eis, NS)
        .unwrap();
    let xml = register_xml(&req);
    let now = OffsetDateTime::now_utc();
    let trust = trust(&pki, "sgp02/ci");
    for (what, text) in [
        ("XPath widened", xml.replace(SIGNED_INFO_XPATH, "true()")),
        (
            "no URI (njiwa form)",
            xml.replace("<ds:Reference URI=\"\">", "<ds:Reference>"),
        ),
        (
            "remote URI",
            xml.replace(
                "<ds:Reference URI=\"\">",
                "<ds:Reference URI=\"file:///etc/passwd\">",
            ),
        ),
        (
            "SHA-1",
            xml.replace(
                "http://www.w3.org/2001/04/xmlenc#sha256",
                "http://www.w3.org/2000/09/xmldsig#sha1",
            ),
        ),
    ] {
        let e = trust.verify_document(&text, now).expect_err(what);
        assert!(
            matches!(e, EisSignatureError::Unsupported(_)),
            "{what}: {e}"
        );
        assert_eq!(status_pair(&e), ("8.1.2", "6.1"));
    }
    let unsigned = envelope(&sample::sample_request(FunctionId::Es1RegisterEis, true).to_xml());
    assert!(trust.verify_document(&unsigned, now).is_err());
}
