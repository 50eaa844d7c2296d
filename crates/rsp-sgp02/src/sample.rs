//! Schema-driven sample bodies: a valid instance of any request, response or notification, built only from the
//! schema data (`ComplexSchema`, `FieldSchema`, `SimpleSchema`) every body type carries.
//!
//! Minimal samples hold the mandatory elements and attributes only; full samples add every optional element
//! (once) and two items of every list. Simple values come from [`SAMPLE_VALUES`], keyed by simple-type name
//! (valid EID, ICCID, AID, OID, dates, …), then from the first `enumeration` facet, then from the base type.
//! Opaque `ds:SignatureType` content gets a structurally valid XML-DSig `Signature` (zero digest and value).
//!
//! Pure and deterministic: used by the codec tests, the XSD validation tests and the benchmarks.

use std::borrow::Cow;

use crate::DEFAULT_NAMESPACE;
use crate::functions::FunctionId;
use crate::schema::{ComplexSchema, FieldSchema, SimpleSchema, TypeRef};
use crate::xml::{Attribute, Element};

/// The XML-DSig namespace (content of `ds:SignatureType`).
pub const XMLDSIG_NS: &str = "http://www.w3.org/2000/09/xmldsig#";

/// Sample text per simple-type name. Every value is valid for its type and already in the canonical form the
/// encoders write, so a sample decodes and re-encodes to the same XML.
pub const SAMPLE_VALUES: &[(&str, &str)] = &[
    // SGP.26 test EID (MOD 97-10 check digits valid).
    ("EIDType", "89049032123451234512345678901235"),
    // 20 digits, Luhn check digit valid.
    ("ICCIDType", "89000123456789012341"),
    ("AIDType", "A0000005591010FFFFFFFF8900000100"),
    ("ObjectIdentifierType", "1.3.6.1.4.1.31746.1"),
    ("TARType", "000001"),
    ("hexBinary16", "0102030405060708"),
    ("KeyTypeCodingType", "88"),
    ("OperationTypeType", "0100"),
    ("KeysetVersionType", "1"),
    ("KeyIndexType", "1"),
    ("ThreeDigitVersion", "4.2.0"),
    ("IMSIType", "234150999999999"),
    ("MSISDNType", "447700900123"),
    ("String100", "M2M-PROFILE-1"),
    ("PropertyKeyType", "sample.key"),
    ("xs:string", "sample-1"),
    ("xs:boolean", "true"),
    ("xs:dateTime", "2024-05-01T12:00:00Z"),
    ("xs:hexBinary", "0102A1B2"),
    ("xs:nonNegativeInteger", "4096"),
    ("xs:positiveInteger", "720"),
    ("xs:integer", "1"),
    ("xs:unsignedByte", "1"),
    ("xs:byte", "9"),
];

/// Nesting bound (the schemas are not recursive; this only guards against a future mistake).
const MAX_DEPTH: usize = 24;

/// The sample request (or notification) body of `function`, in the default namespace.
pub fn sample_request(function: FunctionId, full: bool) -> Element {
    let info = function.info();
    sample_element(
        (info.request_schema)(),
        DEFAULT_NAMESPACE,
        &info.request_element(),
        full,
    )
}

/// The sample response body of `function`, in the default namespace (None for notifications).
pub fn sample_response(function: FunctionId, full: bool) -> Option<Element> {
    let info = function.info();
    let schema = info.response_schema?;
    let name = info.response_element()?;
    Some(sample_element(schema(), DEFAULT_NAMESPACE, &name, full))
}

/// A sample element `{ns}name` of complex type `schema`.
pub fn sample_element(schema: &ComplexSchema, ns: &str, name: &str, full: bool) -> Element {
    let mut el = Element::new(Some(ns), name);
    fill(schema, ns, full, &mut el, 0);
    el
}

/// The table value for a simple type name, if it has one.
pub fn sample_value(type_name: &str) -> Option<&'static str> {
    SAMPLE_VALUES
        .iter()
        .find(|(n, _)| *n == type_name)
        .map(|(_, v)| *v)
}

/// Sample text for a simple type: table value, else first enumeration value, else a value of its base type.
pub fn sample_text(simple: &SimpleSchema) -> Cow<'static, str> {
    if let Some(v) = sample_value(simple.name) {
        return Cow::Borrowed(v);
    }
    if let Some((_, v)) = simple
        .facets
        .iter()
        .find(|(facet, _)| *facet == "enumeration")
    {
        return Cow::Borrowed(v);
    }
    let base = if simple.base.is_empty() {
        simple.name
    } else {
        simple.base
    };
    Cow::Borrowed(sample_value(base).unwrap_or("1"))
}

/// How many occurrences of `field` a sample holds.
pub fn occurrences(field: &FieldSchema, full: bool) -> u32 {
    if !full {
        return field.min;
    }
    let want = if field.max == Some(1) { 1 } else { 2 }.max(field.min);
    field.max.map_or(want, |max| want.min(max))
}

fn fill(schema: &ComplexSchema, ns: &str, full: bool, el: &mut Element, depth: usize) {
    for field in schema.all_fields() {
        let count = occurrences(&field, full);
        if let Some(attr) = field.name.strip_prefix('@') {
            if let (TypeRef::Simple(s), true) = (field.ty, count > 0) {
                el.attributes.push(Attribute {
                    ns: None,
                    name: attr.to_string(),
                    value: sample_text(s).into_owned(),
                });
            }
            continue;
        }
        for _ in 0..count {
            el.children
                .push(field_element(field.ty, ns, field.name, full, depth));
        }
    }
}

fn field_element(ty: TypeRef, ns: &str, name: &str, full: bool, depth: usize) -> Element {
    match ty {
        TypeRef::Simple(s) if s.name == "ds:SignatureType" => signature(ns, name),
        TypeRef::Simple(s) if s.name.contains(':') && !s.is_builtin() => {
            Element::new(Some(ns), name)
        }
        TypeRef::Simple(s) => Element::new(Some(ns), name).with_text(sample_text(s).into_owned()),
        TypeRef::Complex(c) => {
            let mut el = Element::new(Some(ns), name);
            if depth < MAX_DEPTH {
                fill(c(), ns, full, &mut el, depth + 1);
            }
            el
        }
    }
}

/// A structurally valid `ds:Signature` content (XML-DSig core schema) with zero digest and signature values.
fn signature(ns: &str, name: &str) -> Element {
    let ds = |local: &str| Element::new(Some(XMLDSIG_NS), local);
    let algorithm = |local: &str, uri: &str| ds(local).with_attribute("Algorithm", uri);
    let signed_info = ds("SignedInfo")
        .with_child(algorithm(
            "CanonicalizationMethod",
            "http://www.w3.org/2001/10/xml-exc-c14n#",
        ))
        .with_child(algorithm(
            "SignatureMethod",
            "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
        ))
        .with_child(
            ds("Reference")
                .with_attribute("URI", "")
                .with_child(algorithm(
                    "DigestMethod",
                    "http://www.w3.org/2001/04/xmlenc#sha256",
                ))
                .with_child(
                    ds("DigestValue").with_text("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="),
                ),
        );
    Element::new(Some(ns), name)
        .with_child(signed_info)
        .with_child(ds("SignatureValue").with_text(
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==",
    ))
}
