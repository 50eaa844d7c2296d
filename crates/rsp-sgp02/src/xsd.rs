//! XML Schema generated from the function catalogue, plus compact SOAP 1.2 and WS-Addressing schemas for validation.
//!
//! The message schema is derived from the schema data every body type carries ([`ComplexSchema`],
//! [`SimpleSchema`]): starting from the request, response and notification bodies of the selected functions, the
//! generator walks the type graph (base types and field types) and declares every simple and complex type it meets,
//! plus one global element per body element name (`ES4-EnableProfileRequest`, …). Output is deterministic: types
//! and elements are sorted by name, and the same catalogue always gives the same bytes.
//!
//! Layout (sgp02.md §4.2): one schema whose target namespace is the message namespace (default
//! [`DEFAULT_NAMESPACE`](crate::DEFAULT_NAMESPACE), C-11), `elementFormDefault="qualified"`. Complex types are
//! sequences in wire order (fields named `@name` are attributes, after the sequence); a base type is written as `xs:complexContent/xs:extension`; a simple type is an
//! `xs:restriction` of its base with its facets; `xs:` built-ins are referenced directly. Unlike the GSMA package
//! (root xsd + chameleon includes + one file per interface) everything is in one self-contained document, so a
//! WSDL can embed it inline and a client can load it from one URL.
//!
//! Opaque content: a simple type whose name carries a foreign prefix (`ds:SignatureType`, see [`FOREIGN_PREFIXES`])
//! stands for an element kept as a raw subtree (e.g. the EUM's XML-DSig signature in the EIS). Such an element is
//! declared in the message namespace with an anonymous complex type whose content is
//! `xs:any namespace="<foreign namespace>" processContents="lax"` (any attributes allowed): the structure inside
//! is not checked by our schema, and a validator that knows the foreign schema may still check it.
//!
//! For validation of whole messages, [`write_schema_set`] writes our own compact SOAP 1.2 envelope schema, a
//! WS-Addressing 1.0 schema for the headers rsp uses and the message schema, linked by relative `schemaLocation`s,
//! so that `xmllint --noout --schema <top> envelope.xml` works offline.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::catalogue::{FunctionInfo, Interface};
use crate::functions::CATALOGUE;
use crate::schema::{ComplexSchema, FieldSchema, SimpleSchema, TypeRef};
use crate::xml::escape;

/// The XML Schema namespace.
pub const XS_NS: &str = "http://www.w3.org/2001/XMLSchema";
/// The SOAP 1.2 envelope namespace.
pub const SOAP_ENV_NS: &str = "http://www.w3.org/2003/05/soap-envelope";
/// The WS-Addressing 1.0 namespace.
pub const WSA_NS: &str = "http://www.w3.org/2005/08/addressing";
/// The XML-DSig namespace.
pub const XMLDSIG_NS: &str = "http://www.w3.org/2000/09/xmldsig#";
/// The namespace of `xml:lang`.
pub const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";
/// The OASIS WS-Security 1.0 `wsse` namespace (header allowed, not validated).
pub const WSSE_NS: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";
/// The OASIS WS-Security 1.0 `wsu` namespace (header allowed, not validated).
pub const WSU_NS: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd";

/// Prefixes that mark a simple type as opaque content from another namespace: `(prefix, namespace)`.
pub const FOREIGN_PREFIXES: &[(&str, &str)] = &[("ds", XMLDSIG_NS)];

/// File name of the SOAP 1.2 envelope schema written by [`write_schema_set`] (the top schema).
pub const ENVELOPE_FILE: &str = "soap-envelope.xsd";
/// File name of the WS-Addressing schema written by [`write_schema_set`].
pub const ADDRESSING_FILE: &str = "ws-addressing.xsd";
/// File name of the `xml:` namespace schema written by [`write_schema_set`].
pub const XML_NAMESPACE_FILE: &str = "xml.xsd";
/// File name of the message schema written by [`write_schema_set`].
pub const MESSAGES_FILE: &str = "esim-messaging.xsd";

/// The namespace of an opaque (foreign) simple type, if `name` carries a known foreign prefix.
pub fn foreign_namespace(name: &str) -> Option<&'static str> {
    let (prefix, _) = name.split_once(':')?;
    FOREIGN_PREFIXES
        .iter()
        .find(|(p, _)| *p == prefix)
        .map(|(_, ns)| *ns)
}

/// The schema of one interface's functions as a complete XSD document.
pub fn interface_schema(iface: Interface, target_ns: &str) -> String {
    schema_document(
        CATALOGUE.iter().filter(|f| f.interface == iface),
        target_ns,
        &format!("interface {iface}"),
    )
}

/// The schema of every catalogue function as a complete XSD document.
pub fn full_schema(target_ns: &str) -> String {
    schema_document(CATALOGUE.iter(), target_ns, "all interfaces")
}

/// The schema of the given functions as a complete XSD document.
pub fn functions_schema<'a>(
    functions: impl IntoIterator<Item = &'a FunctionInfo>,
    target_ns: &str,
) -> String {
    schema_document(functions, target_ns, "selected functions")
}

fn schema_document<'a>(
    functions: impl IntoIterator<Item = &'a FunctionInfo>,
    target_ns: &str,
    scope: &str,
) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<!-- SGP.02 message schema ({scope}), generated by rsp from its function catalogue. Do not edit. -->"
    );
    out.push_str(&schema_element(functions, target_ns, 0));
    out
}

/// A problem in the catalogue's schema data that would make the generated schema wrong or invalid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaProblem {
    /// The type or element concerned.
    pub name: String,
    /// What is wrong.
    pub detail: String,
}

impl std::fmt::Display for SchemaProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.name, self.detail)
    }
}

/// Checks the whole catalogue's schema data: one definition per type name, one type per global element, names that
/// are XML names, simple-type bases that exist. The generator keeps the first definition it meets of a name; an
/// empty result means the generated schemas are faithful.
pub fn schema_problems() -> Vec<SchemaProblem> {
    Graph::collect(CATALOGUE.iter()).problems
}

/// The types and global elements reachable from a set of functions.
struct Graph {
    simple: BTreeMap<&'static str, &'static SimpleSchema>,
    complex: BTreeMap<&'static str, &'static ComplexSchema>,
    /// Element name → (type name, documentation).
    elements: BTreeMap<String, (&'static str, String)>,
    problems: Vec<SchemaProblem>,
}

impl Graph {
    fn collect<'a>(functions: impl IntoIterator<Item = &'a FunctionInfo>) -> Self {
        let mut g = Graph {
            simple: BTreeMap::new(),
            complex: BTreeMap::new(),
            elements: BTreeMap::new(),
            problems: Vec::new(),
        };
        for f in functions {
            let req = (f.request_schema)();
            let kind = if f.response_schema.is_some() {
                "request"
            } else {
                "notification"
            };
            g.element(
                f.request_element(),
                req.name,
                format!("{} {kind} (section {}).", f.qualified_name(), f.section),
            );
            g.walk(TypeRef::Complex(f.request_schema));
            if let (Some(name), Some(resp)) = (f.response_element(), f.response_schema) {
                g.element(
                    name,
                    resp().name,
                    format!("{} response (section {}).", f.qualified_name(), f.section),
                );
                g.walk(TypeRef::Complex(resp));
            }
        }
        g
    }

    fn problem(&mut self, name: &str, detail: impl Into<String>) {
        self.problems.push(SchemaProblem {
            name: name.to_string(),
            detail: detail.into(),
        });
    }

    fn element(&mut self, name: String, ty: &'static str, doc: String) {
        if !is_ncname(&name) {
            self.problem(&name, "global element name is not an XML NCName");
        }
        match self.elements.get(&name) {
            Some((existing, _)) if *existing != ty => {
                let detail = format!("global element declared with types {existing} and {ty}");
                self.problem(&name, detail);
            }
            Some(_) => {}
            None => {
                self.elements.insert(name, (ty, doc));
            }
        }
    }

    fn walk(&mut self, start: TypeRef) {
        let mut stack = vec![start];
        while let Some(ty) = stack.pop() {
            match ty {
                TypeRef::Simple(s) => self.simple_type(s),
                TypeRef::Complex(f) => {
                    let c = f();
                    if let Some(existing) = self.complex.get(c.name) {
                        if !std::ptr::eq(*existing, c) && !same_complex(existing, c) {
                            self.problem(
                                c.name,
                                "complex type name used for two different definitions",
                            );
                        }
                        continue;
                    }
                    if self.simple.contains_key(c.name) {
                        self.problem(c.name, "name used for both a simple and a complex type");
                    }
                    if !is_ncname(c.name) {
                        self.problem(c.name, "complex type name is not an XML NCName");
                    }
                    self.complex.insert(c.name, c);
                    let mut seen = BTreeSet::new();
                    for field in c.all_fields() {
                        if !is_ncname(field.name.strip_prefix('@').unwrap_or(field.name)) {
                            self.problem(
                                c.name,
                                format!("field name {:?} is not an XML NCName", field.name),
                            );
                        }
                        if !seen.insert(field.name) {
                            self.problem(
                                c.name,
                                format!("{} appears twice in the type", field.name),
                            );
                        }
                        if field.name.starts_with('@') {
                            let simple = matches!(field.ty, TypeRef::Simple(t) if !t.name.contains(':') || t.is_builtin());
                            if !simple || field.max != Some(1) {
                                let detail = format!(
                                    "attribute {} must be a single simple value",
                                    field.name
                                );
                                self.problem(c.name, detail);
                            }
                        }
                    }
                    if let Some(base) = c.base {
                        stack.push(TypeRef::Complex(base));
                    }
                    // Reverse so that the first field's type is visited first (stable problem order).
                    stack.extend(c.fields.iter().rev().map(|f| f.ty));
                }
            }
        }
    }

    fn simple_type(&mut self, s: &'static SimpleSchema) {
        if s.is_builtin() {
            if !s.facets.is_empty() || !s.base.is_empty() {
                self.problem(
                    s.name,
                    "a built-in type cannot carry a base or facets; give the restriction a name",
                );
            }
            return;
        }
        if s.name.contains(':') {
            if foreign_namespace(s.name).is_none() {
                self.problem(
                    s.name,
                    "unknown namespace prefix (see xsd::FOREIGN_PREFIXES)",
                );
            }
            return;
        }
        if let Some(existing) = self.simple.get(s.name) {
            if *existing != s {
                self.problem(
                    s.name,
                    "simple type name used for two different definitions",
                );
            }
            return;
        }
        if self.complex.contains_key(s.name) {
            self.problem(s.name, "name used for both a simple and a complex type");
        }
        if !is_ncname(s.name) {
            self.problem(s.name, "simple type name is not an XML NCName");
        }
        if !s.base.starts_with("xs:") {
            self.problem(
                s.name,
                format!("restriction base {:?} is not an xs: built-in", s.base),
            );
        }
        self.simple.insert(s.name, s);
    }
}

/// Same name, same base, same fields (by element name, type name and occurrence).
fn same_complex(a: &ComplexSchema, b: &ComplexSchema) -> bool {
    let key = |f: &FieldSchema| (f.name, f.ty.name(), f.min, f.max);
    a.name == b.name
        && a.base.map(|f| f().name) == b.base.map(|f| f().name)
        && a.fields.len() == b.fields.len()
        && a.fields.iter().zip(b.fields).all(|(x, y)| key(x) == key(y))
}

/// Whether `s` is an XML NCName (ASCII subset: letters, digits, `-`, `_`, `.`; not starting with a digit, `-`, `.`).
fn is_ncname(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Indented XML text, one element per line.
struct Out {
    text: String,
    base: usize,
}

impl Out {
    fn line(&mut self, depth: usize, s: &str) {
        for _ in 0..(self.base + depth) {
            self.text.push_str("  ");
        }
        self.text.push_str(s);
        self.text.push('\n');
    }
}

fn attr(s: &str) -> std::borrow::Cow<'_, str> {
    escape(s, true)
}

fn type_qname(name: &str) -> String {
    if name.starts_with("xs:") {
        name.to_string()
    } else {
        format!("rps:{name}")
    }
}

fn occurs(min: u32, max: Option<u32>) -> String {
    let mut s = String::new();
    if min != 1 {
        let _ = write!(s, " minOccurs=\"{min}\"");
    }
    match max {
        Some(1) => {}
        Some(n) => {
            let _ = write!(s, " maxOccurs=\"{n}\"");
        }
        None => s.push_str(" maxOccurs=\"unbounded\""),
    }
    s
}

fn documentation(out: &mut Out, depth: usize, doc: &str) {
    let doc = doc
        .replace('`', "")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if doc.is_empty() {
        return;
    }
    out.line(depth, "<xs:annotation>");
    out.line(
        depth + 1,
        &format!(
            "<xs:documentation>{}</xs:documentation>",
            escape(&doc, false)
        ),
    );
    out.line(depth, "</xs:annotation>");
}

fn field_element(out: &mut Out, depth: usize, f: &FieldSchema) {
    let occ = occurs(f.min, f.max);
    let name = attr(f.name);
    match f.ty {
        TypeRef::Simple(s) if !s.is_builtin() && s.name.contains(':') => {
            // Opaque subtree from a foreign namespace (e.g. ds:SignatureType).
            let ns = foreign_namespace(s.name).unwrap_or("##other");
            out.line(depth, &format!("<xs:element name=\"{name}\"{occ}>"));
            out.line(depth + 1, "<xs:complexType>");
            out.line(depth + 2, "<xs:sequence>");
            out.line(
                depth + 3,
                &format!(
                    "<xs:any namespace=\"{}\" processContents=\"lax\" minOccurs=\"0\" maxOccurs=\"unbounded\"/>",
                    attr(ns)
                ),
            );
            out.line(depth + 2, "</xs:sequence>");
            out.line(
                depth + 2,
                "<xs:anyAttribute namespace=\"##any\" processContents=\"lax\"/>",
            );
            out.line(depth + 1, "</xs:complexType>");
            out.line(depth, "</xs:element>");
        }
        ty => {
            let t = type_qname(ty.name());
            out.line(
                depth,
                &format!("<xs:element name=\"{name}\" type=\"{}\"{occ}/>", attr(&t)),
            );
        }
    }
}

/// The content of a complex type (or of its extension): a sequence of the element fields, then the attribute
/// fields (names starting with `@`).
fn content(out: &mut Out, depth: usize, fields: &[FieldSchema]) {
    let (attributes, elements): (Vec<&FieldSchema>, Vec<&FieldSchema>) =
        fields.iter().partition(|f| f.name.starts_with('@'));
    if elements.is_empty() {
        out.line(depth, "<xs:sequence/>");
    } else {
        out.line(depth, "<xs:sequence>");
        for f in elements {
            field_element(out, depth + 1, f);
        }
        out.line(depth, "</xs:sequence>");
    }
    for a in attributes {
        let name = attr(a.name.trim_start_matches('@'));
        let ty = attr(&type_qname(a.ty.name())).into_owned();
        let required = if a.min >= 1 { "required" } else { "optional" };
        out.line(
            depth,
            &format!("<xs:attribute name=\"{name}\" type=\"{ty}\" use=\"{required}\"/>"),
        );
    }
}

/// The `xs:schema` element (no XML declaration) for the given functions, indented by `indent` levels.
pub(crate) fn schema_element<'a>(
    functions: impl IntoIterator<Item = &'a FunctionInfo>,
    target_ns: &str,
    indent: usize,
) -> String {
    let g = Graph::collect(functions);
    let mut out = Out {
        text: String::new(),
        base: indent,
    };
    let root = format!(
        "<xs:schema xmlns:xs=\"{XS_NS}\" xmlns:rps=\"{ns}\" targetNamespace=\"{ns}\" elementFormDefault=\"qualified\" \
         attributeFormDefault=\"unqualified\">",
        ns = attr(target_ns)
    );
    out.line(0, &root);

    for s in g.simple.values() {
        out.line(1, &format!("<xs:simpleType name=\"{}\">", attr(s.name)));
        let base = if s.base.is_empty() {
            "xs:string"
        } else {
            s.base
        };
        if s.facets.is_empty() {
            out.line(
                2,
                &format!("<xs:restriction base=\"{}\"/>", attr(&type_qname(base))),
            );
        } else {
            out.line(
                2,
                &format!("<xs:restriction base=\"{}\">", attr(&type_qname(base))),
            );
            for (facet, value) in s.facets {
                out.line(3, &format!("<xs:{facet} value=\"{}\"/>", attr(value)));
            }
            out.line(2, "</xs:restriction>");
        }
        out.line(1, "</xs:simpleType>");
    }

    for c in g.complex.values() {
        out.line(1, &format!("<xs:complexType name=\"{}\">", attr(c.name)));
        documentation(&mut out, 2, c.doc);
        match c.base {
            Some(base) => {
                let base = attr(&type_qname(base().name)).into_owned();
                out.line(2, "<xs:complexContent>");
                if c.fields.is_empty() {
                    out.line(3, &format!("<xs:extension base=\"{base}\"/>"));
                } else {
                    out.line(3, &format!("<xs:extension base=\"{base}\">"));
                    content(&mut out, 4, c.fields);
                    out.line(3, "</xs:extension>");
                }
                out.line(2, "</xs:complexContent>");
            }
            None => content(&mut out, 2, c.fields),
        }
        out.line(1, "</xs:complexType>");
    }

    for (name, (ty, doc)) in &g.elements {
        out.line(
            1,
            &format!(
                "<xs:element name=\"{}\" type=\"{}\">",
                attr(name),
                attr(&type_qname(ty))
            ),
        );
        documentation(&mut out, 2, doc);
        out.line(1, "</xs:element>");
    }
    out.line(0, "</xs:schema>");
    out.text
}

/// Our compact SOAP 1.2 envelope schema (namespace [`SOAP_ENV_NS`]), written from the structure of the W3C SOAP 1.2
/// Part 1 envelope: `Envelope{Header?, Body}`, `Fault{Code, Reason, Node?, Role?, Detail?}`, the
/// `mustUnderstand`/`relay`/`role`/`encodingStyle` attributes and the `NotUnderstood`/`Upgrade` headers.
///
/// Stricter than the W3C schema, on purpose, for validating what rsp sends: the Body holds at most one child,
/// either `env:Fault` or a global element of `target_ns` validated strictly (imported from [`MESSAGES_FILE`]);
/// Header children are WS-Addressing headers validated strictly (imported from [`ADDRESSING_FILE`]), the SOAP
/// `NotUnderstood`/`Upgrade` headers, or WS-Security headers (allowed, not validated).
pub fn envelope_schema(target_ns: &str) -> String {
    let ns = attr(target_ns);
    format!(
        r###"<?xml version="1.0" encoding="UTF-8"?>
<!-- Compact SOAP 1.2 envelope schema for validating rsp messages; written for rsp after the structure of the
     W3C SOAP 1.2 Part 1 envelope. The Body must hold one element of {ns} (validated strictly) or a Fault. -->
<xs:schema xmlns:xs="{XS_NS}" xmlns:env="{SOAP_ENV_NS}" targetNamespace="{SOAP_ENV_NS}" elementFormDefault="qualified" attributeFormDefault="qualified">
  <xs:import namespace="{XML_NS}" schemaLocation="{XML_NAMESPACE_FILE}"/>
  <xs:import namespace="{WSA_NS}" schemaLocation="{ADDRESSING_FILE}"/>
  <xs:import namespace="{ns}" schemaLocation="{MESSAGES_FILE}"/>

  <xs:element name="Envelope" type="env:Envelope"/>
  <xs:complexType name="Envelope">
    <xs:sequence>
      <xs:element ref="env:Header" minOccurs="0"/>
      <xs:element ref="env:Body"/>
    </xs:sequence>
    <xs:anyAttribute namespace="##other" processContents="lax"/>
  </xs:complexType>

  <xs:element name="Header" type="env:Header"/>
  <xs:complexType name="Header">
    <xs:choice minOccurs="0" maxOccurs="unbounded">
      <xs:element ref="env:NotUnderstood"/>
      <xs:element ref="env:Upgrade"/>
      <xs:any namespace="{WSA_NS}" processContents="strict"/>
      <xs:any namespace="{WSSE_NS} {WSU_NS}" processContents="lax"/>
    </xs:choice>
    <xs:anyAttribute namespace="##other" processContents="lax"/>
  </xs:complexType>

  <xs:element name="Body" type="env:Body"/>
  <xs:complexType name="Body">
    <xs:choice minOccurs="0">
      <xs:element ref="env:Fault"/>
      <xs:any namespace="{ns}" processContents="strict"/>
    </xs:choice>
    <xs:anyAttribute namespace="##other" processContents="lax"/>
  </xs:complexType>

  <xs:attribute name="mustUnderstand" type="xs:boolean" default="false"/>
  <xs:attribute name="relay" type="xs:boolean" default="false"/>
  <xs:attribute name="role" type="xs:anyURI"/>
  <xs:attribute name="encodingStyle" type="xs:anyURI"/>

  <xs:element name="Fault" type="env:Fault"/>
  <xs:complexType name="Fault" final="extension">
    <xs:sequence>
      <xs:element name="Code" type="env:faultcode"/>
      <xs:element name="Reason" type="env:faultreason"/>
      <xs:element name="Node" type="xs:anyURI" minOccurs="0"/>
      <xs:element name="Role" type="xs:anyURI" minOccurs="0"/>
      <xs:element name="Detail" type="env:detail" minOccurs="0"/>
    </xs:sequence>
  </xs:complexType>
  <xs:complexType name="faultcode">
    <xs:sequence>
      <xs:element name="Value" type="env:faultcodeEnum"/>
      <xs:element name="Subcode" type="env:subcode" minOccurs="0"/>
    </xs:sequence>
  </xs:complexType>
  <xs:simpleType name="faultcodeEnum">
    <xs:restriction base="xs:QName">
      <xs:enumeration value="env:DataEncodingUnknown"/>
      <xs:enumeration value="env:MustUnderstand"/>
      <xs:enumeration value="env:Receiver"/>
      <xs:enumeration value="env:Sender"/>
      <xs:enumeration value="env:VersionMismatch"/>
    </xs:restriction>
  </xs:simpleType>
  <xs:complexType name="subcode">
    <xs:sequence>
      <xs:element name="Value" type="xs:QName"/>
      <xs:element name="Subcode" type="env:subcode" minOccurs="0"/>
    </xs:sequence>
  </xs:complexType>
  <xs:complexType name="faultreason">
    <xs:sequence>
      <xs:element name="Text" type="env:reasontext" maxOccurs="unbounded"/>
    </xs:sequence>
  </xs:complexType>
  <xs:complexType name="reasontext">
    <xs:simpleContent>
      <xs:extension base="xs:string">
        <xs:attribute ref="xml:lang" use="required"/>
      </xs:extension>
    </xs:simpleContent>
  </xs:complexType>
  <xs:complexType name="detail">
    <xs:sequence>
      <xs:any namespace="##any" processContents="lax" minOccurs="0" maxOccurs="unbounded"/>
    </xs:sequence>
    <xs:anyAttribute namespace="##other" processContents="lax"/>
  </xs:complexType>

  <xs:element name="NotUnderstood" type="env:NotUnderstoodType"/>
  <xs:complexType name="NotUnderstoodType">
    <xs:attribute name="qname" type="xs:QName" use="required" form="unqualified"/>
  </xs:complexType>
  <xs:element name="Upgrade" type="env:UpgradeType"/>
  <xs:complexType name="UpgradeType">
    <xs:sequence>
      <xs:element name="SupportedEnvelope" type="env:SupportedEnvType" maxOccurs="unbounded"/>
    </xs:sequence>
  </xs:complexType>
  <xs:complexType name="SupportedEnvType">
    <xs:attribute name="qname" type="xs:QName" use="required" form="unqualified"/>
  </xs:complexType>
</xs:schema>
"###
    )
}

/// Our compact WS-Addressing 1.0 schema (namespace [`WSA_NS`]) for the headers rsp uses: `To`, `Action`,
/// `MessageID` (URIs), `From`, `ReplyTo`, `FaultTo` (`EndpointReferenceType{Address, ReferenceParameters?,
/// Metadata?}`) and `RelatesTo` with its `RelationshipType` attribute; written after the structure of the W3C
/// WS-Addressing 1.0 Core specification.
pub fn addressing_schema() -> String {
    format!(
        r###"<?xml version="1.0" encoding="UTF-8"?>
<!-- Compact WS-Addressing 1.0 schema for validating rsp message headers; written for rsp after the structure of the
     W3C WS-Addressing 1.0 Core specification. -->
<xs:schema xmlns:xs="{XS_NS}" xmlns:wsa="{WSA_NS}" targetNamespace="{WSA_NS}" elementFormDefault="qualified" attributeFormDefault="unqualified">
  <xs:element name="EndpointReference" type="wsa:EndpointReferenceType"/>
  <xs:complexType name="EndpointReferenceType">
    <xs:sequence>
      <xs:element name="Address" type="wsa:AttributedURIType"/>
      <xs:element name="ReferenceParameters" type="wsa:ReferenceParametersType" minOccurs="0"/>
      <xs:element name="Metadata" type="wsa:MetadataType" minOccurs="0"/>
      <xs:any namespace="##other" processContents="lax" minOccurs="0" maxOccurs="unbounded"/>
    </xs:sequence>
    <xs:anyAttribute namespace="##other" processContents="lax"/>
  </xs:complexType>
  <xs:complexType name="ReferenceParametersType">
    <xs:sequence>
      <xs:any namespace="##any" processContents="lax" minOccurs="0" maxOccurs="unbounded"/>
    </xs:sequence>
    <xs:anyAttribute namespace="##other" processContents="lax"/>
  </xs:complexType>
  <xs:complexType name="MetadataType">
    <xs:sequence>
      <xs:any namespace="##any" processContents="lax" minOccurs="0" maxOccurs="unbounded"/>
    </xs:sequence>
    <xs:anyAttribute namespace="##other" processContents="lax"/>
  </xs:complexType>

  <xs:element name="MessageID" type="wsa:AttributedURIType"/>
  <xs:element name="RelatesTo" type="wsa:RelatesToType"/>
  <xs:complexType name="RelatesToType">
    <xs:simpleContent>
      <xs:extension base="xs:anyURI">
        <xs:attribute name="RelationshipType" type="wsa:RelationshipTypeOpenEnum" use="optional" default="http://www.w3.org/2005/08/addressing/reply"/>
        <xs:anyAttribute namespace="##other" processContents="lax"/>
      </xs:extension>
    </xs:simpleContent>
  </xs:complexType>
  <xs:simpleType name="RelationshipTypeOpenEnum">
    <xs:union memberTypes="wsa:RelationshipType xs:anyURI"/>
  </xs:simpleType>
  <xs:simpleType name="RelationshipType">
    <xs:restriction base="xs:anyURI">
      <xs:enumeration value="http://www.w3.org/2005/08/addressing/reply"/>
    </xs:restriction>
  </xs:simpleType>

  <xs:element name="ReplyTo" type="wsa:EndpointReferenceType"/>
  <xs:element name="From" type="wsa:EndpointReferenceType"/>
  <xs:element name="FaultTo" type="wsa:EndpointReferenceType"/>
  <xs:element name="To" type="wsa:AttributedURIType"/>
  <xs:element name="Action" type="wsa:AttributedURIType"/>
  <xs:complexType name="AttributedURIType">
    <xs:simpleContent>
      <xs:extension base="xs:anyURI">
        <xs:anyAttribute namespace="##other" processContents="lax"/>
      </xs:extension>
    </xs:simpleContent>
  </xs:complexType>

  <xs:attribute name="IsReferenceParameter" type="xs:boolean"/>
</xs:schema>
"###
    )
}

/// A minimal schema for the `xml:` namespace (only `xml:lang`, used by SOAP fault reason texts).
pub fn xml_namespace_schema() -> String {
    format!(
        r###"<?xml version="1.0" encoding="UTF-8"?>
<!-- The xml:lang attribute, for SOAP 1.2 fault reason texts. Written for rsp. -->
<xs:schema xmlns:xs="{XS_NS}" targetNamespace="{XML_NS}">
  <xs:attribute name="lang" type="xs:language"/>
</xs:schema>
"###
    )
}

/// Writes the validation schema set into `dir` (created if missing): the envelope schema ([`ENVELOPE_FILE`]), the
/// WS-Addressing schema, the `xml:` namespace schema and the message schema of every catalogue function in
/// `target_ns`, linked by relative `schemaLocation`s. Returns the path of the top schema to give to
/// `xmllint --schema`.
pub fn write_schema_set(dir: &Path, target_ns: &str) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join(XML_NAMESPACE_FILE), xml_namespace_schema())?;
    std::fs::write(dir.join(ADDRESSING_FILE), addressing_schema())?;
    std::fs::write(dir.join(MESSAGES_FILE), full_schema(target_ns))?;
    let top = dir.join(ENVELOPE_FILE);
    std::fs::write(&top, envelope_schema(target_ns))?;
    Ok(top)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ncname_check() {
        assert!(is_ncname("ES4-EnableProfileRequest"));
        assert!(is_ncname("Isd-p-aid"));
        assert!(is_ncname("_x.y"));
        assert!(!is_ncname("4abc"));
        assert!(!is_ncname("-abc"));
        assert!(!is_ncname("a:b"));
        assert!(!is_ncname("a b"));
        assert!(!is_ncname(""));
    }

    #[test]
    fn occurs_attributes() {
        assert_eq!(occurs(1, Some(1)), "");
        assert_eq!(occurs(0, Some(1)), " minOccurs=\"0\"");
        assert_eq!(occurs(0, None), " minOccurs=\"0\" maxOccurs=\"unbounded\"");
        assert_eq!(occurs(1, Some(127)), " maxOccurs=\"127\"");
    }

    #[test]
    fn foreign_prefixes() {
        assert_eq!(foreign_namespace("ds:SignatureType"), Some(XMLDSIG_NS));
        assert_eq!(foreign_namespace("xs:string"), None);
        assert_eq!(foreign_namespace("EIDType"), None);
    }
}
