#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Every catalogue body, minimal and full: sample XML → parse → decode → encode gives the same XML.

use rsp_sgp02::sample::{sample_request, sample_response, sample_value};
use rsp_sgp02::schema::{ComplexSchema, TypeRef};
use rsp_sgp02::xml::Element;
use rsp_sgp02::{CATALOGUE, DEFAULT_NAMESPACE, FunctionId, RequestBody, ResponseBody};

/// Serialises, re-parses, decodes and re-encodes a request; returns (sample XML, re-encoded XML).
fn request_round_trip(id: FunctionId, sample: &Element) -> Result<(String, String), String> {
    let xml = sample.to_xml();
    let parsed = Element::parse(&xml).map_err(|e| format!("{id:?}: parse: {e}"))?;
    let body = RequestBody::decode(id, &parsed).map_err(|e| format!("{id:?}: decode: {e}"))?;
    if body.function() != id {
        return Err(format!("{id:?}: decoded as {:?}", body.function()));
    }
    Ok((xml, body.encode(DEFAULT_NAMESPACE).to_xml()))
}

fn response_round_trip(id: FunctionId, sample: &Element) -> Result<(String, String), String> {
    let xml = sample.to_xml();
    let parsed = Element::parse(&xml).map_err(|e| format!("{id:?}: parse: {e}"))?;
    let body = ResponseBody::decode(id, &parsed).map_err(|e| format!("{id:?}: decode: {e}"))?;
    if body.function() != id {
        return Err(format!("{id:?}: decoded as {:?}", body.function()));
    }
    Ok((xml, body.encode(DEFAULT_NAMESPACE).to_xml()))
}

#[test]
fn every_request_round_trips_minimal_and_full() {
    for f in CATALOGUE {
        for full in [false, true] {
            let sample = sample_request(f.id, full);
            assert_eq!(sample.name, f.request_element());
            let (xml, again) = request_round_trip(f.id, &sample).unwrap();
            assert_eq!(again, xml, "{} full={full}", f.qualified_name());
        }
    }
}

#[test]
fn every_response_round_trips_minimal_and_full() {
    let mut seen = 0;
    for f in CATALOGUE {
        for full in [false, true] {
            match sample_response(f.id, full) {
                Some(sample) => {
                    assert_eq!(Some(sample.name.clone()), f.response_element());
                    let (xml, again) = response_round_trip(f.id, &sample).unwrap();
                    assert_eq!(again, xml, "{} full={full}", f.qualified_name());
                    seen += 1;
                }
                None => assert!(f.response_schema.is_none(), "{}", f.qualified_name()),
            }
        }
    }
    assert_eq!(
        seen,
        2 * CATALOGUE
            .iter()
            .filter(|f| f.response_schema.is_some())
            .count()
    );
}

#[test]
fn full_samples_hold_more_than_minimal_ones() {
    for f in CATALOGUE {
        let min = sample_request(f.id, false).to_xml();
        let full = sample_request(f.id, true).to_xml();
        assert!(full.len() >= min.len(), "{}", f.qualified_name());
    }
    // The EIS exercises every optional part: audit trail, additional properties, v4 profile flags, keys.
    let full = sample_request(FunctionId::Es1RegisterEis, true).to_xml();
    for part in [
        "<rps:LastAuditDate>",
        "<rps:AuditTrail>",
        "<rps:AdditionalProperties>",
        "<rps:EmergencyProfileAttribute>",
        "<rps:TestProfile>",
        "kcv=\"0102A1B2\"",
        "<ds:SignatureValue ",
        "<rps:Certificate>",
    ] {
        assert!(full.contains(part), "missing {part} in {full}");
    }
    let min = sample_request(FunctionId::Es1RegisterEis, false).to_xml();
    assert!(
        !min.contains("AuditTrail") && !min.contains("TestProfile") && !min.contains("ProfileInfo"),
        "{min}"
    );
}

#[test]
fn samples_are_deterministic() {
    for f in CATALOGUE {
        assert_eq!(sample_request(f.id, true), sample_request(f.id, true));
    }
}

fn collect_simple_names(schema: &ComplexSchema, out: &mut Vec<(&'static str, bool)>) {
    for field in schema.all_fields() {
        match field.ty {
            TypeRef::Simple(s) => {
                let enumerated = s.facets.iter().any(|(f, _)| *f == "enumeration");
                out.push((s.name, enumerated || s.name.starts_with("ds:")));
            }
            TypeRef::Complex(c) => collect_simple_names(c(), out),
        }
    }
}

#[test]
fn every_simple_type_has_a_sample_value_or_enumeration() {
    let mut names = Vec::new();
    for f in CATALOGUE {
        collect_simple_names((f.request_schema)(), &mut names);
        if let Some(r) = f.response_schema {
            collect_simple_names(r(), &mut names);
        }
    }
    for (name, enumerated) in names {
        assert!(
            enumerated || sample_value(name).is_some(),
            "no sample value for simple type {name}"
        );
    }
}
