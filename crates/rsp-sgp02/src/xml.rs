//! A small namespace-aware XML element tree with hard limits, for SOAP envelopes and SGP.02 bodies.
//!
//! Parsing is strict about safety and lenient about style:
//! - DOCTYPE declarations are refused (no external entities, no entity expansion: no XXE, no billion laughs);
//!   only the five predefined entities and character references are resolved.
//! - Depth, element count and text size are bounded ([`Limits`]); exceeding one is a typed error.
//! - Prefixes may be anything; elements are matched by (namespace URI, local name).
//! - Whitespace-only text between elements is dropped; comments and processing instructions are ignored.
//!
//! Writing emits one canonical form: declared prefixes, escaped text, no insignificant whitespace.

use std::fmt::Write as _;

use quick_xml::NsReader;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;

/// Limits applied while parsing untrusted XML.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Maximum nesting depth of elements.
    pub max_depth: usize,
    /// Maximum number of elements in one document.
    pub max_elements: usize,
    /// Maximum size of the document in bytes.
    pub max_bytes: usize,
    /// Maximum number of attributes on one element.
    pub max_attributes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_depth: 32,
            max_elements: 20_000,
            max_bytes: 4 * 1024 * 1024,
            max_attributes: 32,
        }
    }
}

/// Why a document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XmlError {
    /// Not well-formed XML.
    #[error("malformed XML at byte {position}: {message}")]
    Malformed {
        /// Byte offset where the parser stopped.
        position: u64,
        /// What is wrong.
        message: String,
    },
    /// A DOCTYPE or a non-predefined entity reference: refused outright.
    #[error("DOCTYPE and entity declarations are not accepted")]
    Doctype,
    /// An entity reference other than the five predefined ones.
    #[error("undefined entity reference &{0};")]
    UndefinedEntity(String),
    /// A prefix without a namespace declaration.
    #[error("undeclared namespace prefix in <{0}>")]
    UnboundPrefix(String),
    /// The document exceeds a [`Limits`] bound.
    #[error("document exceeds the {what} limit ({limit})")]
    TooLarge {
        /// Which limit.
        what: &'static str,
        /// Its value.
        limit: usize,
    },
    /// No root element.
    #[error("document has no root element")]
    Empty,
    /// Content after the root element.
    #[error("content after the root element")]
    TrailingContent,
}

/// An attribute: (namespace, local name, value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    /// Namespace URI, if the attribute name is prefixed.
    pub ns: Option<String>,
    /// Local name.
    pub name: String,
    /// Unescaped value.
    pub value: String,
}

/// An element with its namespace, attributes, children and text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Element {
    /// Namespace URI (None for an unqualified element).
    pub ns: Option<String>,
    /// Local name.
    pub name: String,
    /// Attributes, in document order (namespace declarations excluded).
    pub attributes: Vec<Attribute>,
    /// Child elements, in document order.
    pub children: Vec<Element>,
    /// Concatenated character data directly inside this element (whitespace-only runs dropped).
    pub text: String,
}

impl Element {
    /// A new element in namespace `ns`.
    pub fn new(ns: Option<&str>, name: impl Into<String>) -> Self {
        Self {
            ns: ns.map(str::to_string),
            name: name.into(),
            ..Self::default()
        }
    }

    /// Builder: adds a child.
    pub fn with_child(mut self, child: Element) -> Self {
        self.children.push(child);
        self
    }

    /// Builder: sets the text.
    pub fn with_text(mut self, text: impl Into<String>) -> Self {
        self.text = text.into();
        self
    }

    /// Builder: adds an unqualified attribute.
    pub fn with_attribute(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.attributes.push(Attribute {
            ns: None,
            name: name.into(),
            value: value.into(),
        });
        self
    }

    /// True when this element is `{ns}name`.
    pub fn is(&self, ns: &str, name: &str) -> bool {
        self.name == name && self.ns.as_deref() == Some(ns)
    }

    /// The first child with this local name (any namespace).
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The first child `{ns}name`.
    pub fn child_ns(&self, ns: &str, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.is(ns, name))
    }

    /// All children with this local name.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// An unqualified attribute's value.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|a| a.name == name && a.ns.is_none())
            .map(|a| a.value.as_str())
    }

    /// An attribute's value by namespace and local name.
    pub fn attribute_ns(&self, ns: &str, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|a| a.name == name && a.ns.as_deref() == Some(ns))
            .map(|a| a.value.as_str())
    }

    /// The text with surrounding whitespace removed.
    pub fn trimmed_text(&self) -> &str {
        self.text.trim()
    }

    /// Parses a document with default limits.
    pub fn parse(text: &str) -> Result<Self, XmlError> {
        Self::parse_with(text, &Limits::default())
    }

    /// Parses a document with the given limits.
    pub fn parse_with(text: &str, limits: &Limits) -> Result<Self, XmlError> {
        if text.len() > limits.max_bytes {
            return Err(XmlError::TooLarge {
                what: "size",
                limit: limits.max_bytes,
            });
        }
        let mut reader = NsReader::from_str(text);
        {
            let cfg = reader.config_mut();
            cfg.check_end_names = true;
            cfg.expand_empty_elements = false;
        }
        let mut stack: Vec<Element> = Vec::new();
        let mut root: Option<Element> = None;
        let mut count = 0usize;
        let malformed = |reader: &NsReader<&[u8]>, e: &dyn std::fmt::Display| XmlError::Malformed {
            position: reader.buffer_position(),
            message: e.to_string(),
        };
        loop {
            let (resolve, event) = match reader.read_resolved_event() {
                Ok((r, e)) => (resolve_owned(r), e),
                Err(e) => return Err(malformed(&reader, &e)),
            };
            match event {
                Event::Start(ref start) | Event::Empty(ref start) => {
                    if root.is_some() {
                        return Err(XmlError::TrailingContent);
                    }
                    count += 1;
                    if count > limits.max_elements {
                        return Err(XmlError::TooLarge {
                            what: "element count",
                            limit: limits.max_elements,
                        });
                    }
                    if stack.len() >= limits.max_depth {
                        return Err(XmlError::TooLarge {
                            what: "depth",
                            limit: limits.max_depth,
                        });
                    }
                    let qname = start.name().as_ref().to_string();
                    let ns = match resolve {
                        Resolved::Bound(ns) => Some(ns),
                        Resolved::Unbound => None,
                        Resolved::Unknown => return Err(XmlError::UnboundPrefix(qname)),
                    };
                    let local = start.local_name().as_ref().to_string();
                    let mut el = Element::new(None, local);
                    el.ns = ns;
                    for attr in start.attributes() {
                        let attr = attr.map_err(|e| malformed(&reader, &e))?;
                        let key = attr.key;
                        let raw_key = key.as_ref();
                        if raw_key == "xmlns" || raw_key.starts_with("xmlns:") {
                            continue;
                        }
                        if el.attributes.len() >= limits.max_attributes {
                            return Err(XmlError::TooLarge {
                                what: "attribute count",
                                limit: limits.max_attributes,
                            });
                        }
                        let (ares, alocal) = reader.resolver().resolve_attribute(key);
                        let ans = match ares {
                            ResolveResult::Bound(n) => Some(n.as_ref().to_string()),
                            ResolveResult::Unbound => None,
                            ResolveResult::Unknown(_) => {
                                return Err(XmlError::UnboundPrefix(raw_key.to_string()));
                            }
                        };
                        let value = attr
                            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                            .map_err(|e| malformed(&reader, &e))?
                            .into_owned();
                        el.attributes.push(Attribute {
                            ns: ans,
                            name: alocal.as_ref().to_string(),
                            value,
                        });
                    }
                    if matches!(event, Event::Empty(_)) {
                        attach(&mut stack, &mut root, el);
                    } else {
                        stack.push(el);
                    }
                }
                Event::End(_) => match stack.pop() {
                    Some(mut el) => {
                        if el.text.trim().is_empty() {
                            el.text.clear();
                        }
                        attach(&mut stack, &mut root, el);
                    }
                    None => return Err(malformed(&reader, &"unexpected end tag")),
                },
                Event::Text(t) => {
                    let s = t.xml10_content();
                    push_text(&mut stack, &s, &root)?;
                }
                Event::CData(c) => {
                    let s = c.as_ref().to_string();
                    push_text(&mut stack, &s, &root)?;
                }
                Event::GeneralRef(r) => {
                    let resolved = match r.resolve_char_ref() {
                        Ok(Some(ch)) => ch.to_string(),
                        Ok(None) => {
                            let name = r.as_ref().to_string();
                            match name.as_str() {
                                "amp" => "&".into(),
                                "lt" => "<".into(),
                                "gt" => ">".into(),
                                "quot" => "\"".into(),
                                "apos" => "'".into(),
                                _ => return Err(XmlError::UndefinedEntity(name)),
                            }
                        }
                        Err(e) => return Err(malformed(&reader, &e)),
                    };
                    push_text(&mut stack, &resolved, &root)?;
                }
                Event::DocType(_) => return Err(XmlError::Doctype),
                Event::Comment(_) | Event::PI(_) | Event::Decl(_) => {}
                Event::Eof => break,
            }
        }
        if !stack.is_empty() {
            return Err(XmlError::Malformed {
                position: reader.buffer_position(),
                message: "unclosed element".into(),
            });
        }
        root.ok_or(XmlError::Empty)
    }

    /// Serialises this element as a document fragment (no XML declaration).
    pub fn to_xml(&self) -> String {
        let mut out = String::with_capacity(1024);
        let mut scope = Vec::new();
        write_element(self, &mut out, &mut scope);
        out
    }
}

enum Resolved {
    Bound(String),
    Unbound,
    Unknown,
}

fn resolve_owned(r: ResolveResult<'_>) -> Resolved {
    match r {
        ResolveResult::Bound(ns) => Resolved::Bound(ns.as_ref().to_string()),
        ResolveResult::Unbound => Resolved::Unbound,
        ResolveResult::Unknown(_) => Resolved::Unknown,
    }
}

fn attach(stack: &mut [Element], root: &mut Option<Element>, el: Element) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(el),
        None => *root = Some(el),
    }
}

fn push_text(stack: &mut [Element], s: &str, root: &Option<Element>) -> Result<(), XmlError> {
    match stack.last_mut() {
        Some(el) => {
            el.text.push_str(s);
            Ok(())
        }
        None if s.trim().is_empty() => Ok(()),
        None if root.is_some() => Err(XmlError::TrailingContent),
        None => Err(XmlError::Malformed {
            position: 0,
            message: "text outside the root element".into(),
        }),
    }
}

/// The `xml:` namespace (bound by definition, never declared).
pub const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

/// Well-known prefixes used when writing (any other namespace gets `ns1`, `ns2`, ...).
const KNOWN_PREFIXES: &[(&str, &str)] = &[
    ("http://www.w3.org/2003/05/soap-envelope", "env"),
    ("http://www.w3.org/2005/08/addressing", "wsa"),
    ("http://www.w3.org/2000/09/xmldsig#", "ds"),
    ("http://www.w3.org/2001/XMLSchema", "xs"),
    ("http://www.w3.org/2001/XMLSchema-instance", "xsi"),
    ("http://schemas.xmlsoap.org/wsdl/", "wsdl"),
    ("http://schemas.xmlsoap.org/wsdl/soap12/", "wsoap12"),
    ("http://www.w3.org/2007/05/addressing/metadata", "wsam"),
];

/// The prefix rsp writes for a namespace: `rps` for any GSMA esim-messaging namespace.
pub fn preferred_prefix(ns: &str) -> Option<&'static str> {
    if ns.starts_with("http://namespaces.gsma.org/esim-messaging/") {
        return Some("rps");
    }
    KNOWN_PREFIXES
        .iter()
        .find(|(uri, _)| *uri == ns)
        .map(|(_, p)| *p)
}

fn write_element(el: &Element, out: &mut String, scope: &mut Vec<(String, String)>) {
    let mark = scope.len();
    let mut decls: Vec<(String, String)> = Vec::new();
    let prefix_for = |ns: &str,
                      scope: &mut Vec<(String, String)>,
                      decls: &mut Vec<(String, String)>|
     -> String {
        if ns == XML_NS {
            return "xml".to_string();
        }
        if let Some((_, p)) = scope.iter().rev().find(|(u, _)| u == ns) {
            return p.clone();
        }
        let base = preferred_prefix(ns)
            .map(str::to_string)
            .unwrap_or_else(|| format!("ns{}", scope.len() + 1));
        let mut p = base.clone();
        let mut n = 1;
        while scope.iter().any(|(_, q)| *q == p) {
            n += 1;
            p = format!("{base}{n}");
        }
        scope.push((ns.to_string(), p.clone()));
        decls.push((ns.to_string(), p.clone()));
        p
    };
    let qname = match &el.ns {
        Some(ns) => format!("{}:{}", prefix_for(ns, scope, &mut decls), el.name),
        None => el.name.clone(),
    };
    let mut attrs = String::new();
    for a in &el.attributes {
        let name = match &a.ns {
            Some(ns) => format!("{}:{}", prefix_for(ns, scope, &mut decls), a.name),
            None => a.name.clone(),
        };
        let _ = write!(attrs, " {name}=\"{}\"", escape(&a.value, true));
    }
    out.push('<');
    out.push_str(&qname);
    for (uri, p) in &decls {
        let _ = write!(out, " xmlns:{p}=\"{}\"", escape(uri, true));
    }
    out.push_str(&attrs);
    if el.children.is_empty() && el.text.is_empty() {
        out.push_str("/>");
    } else {
        out.push('>');
        out.push_str(&escape(&el.text, false));
        for c in &el.children {
            write_element(c, out, scope);
        }
        out.push_str("</");
        out.push_str(&qname);
        out.push('>');
    }
    scope.truncate(mark);
}

/// Escapes text (or an attribute value) for XML.
pub fn escape(s: &str, attribute: bool) -> std::borrow::Cow<'_, str> {
    if !s
        .chars()
        .any(|c| matches!(c, '<' | '>' | '&' | '"' | '\'' | '\r'))
    {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' if attribute => out.push_str("&quot;"),
            '\'' if attribute => out.push_str("&apos;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NS: &str = "http://namespaces.gsma.org/esim-messaging/3";

    #[test]
    fn parses_namespaces_attributes_entities() {
        let doc = r#"<?xml version="1.0"?>
            <a:Root xmlns:a="urn:a" xmlns="urn:default" a:x="1 &amp; 2">
              <Child>te&lt;xt&#65;<![CDATA[<raw>]]></Child>
              <!-- comment -->
              <a:Empty/>
            </a:Root>"#;
        let el = Element::parse(doc).unwrap();
        assert!(el.is("urn:a", "Root"));
        assert_eq!(el.attribute_ns("urn:a", "x"), Some("1 & 2"));
        assert_eq!(el.children.len(), 2);
        assert!(el.children[0].is("urn:default", "Child"));
        assert_eq!(el.children[0].text, "te<xtA<raw>");
        assert!(el.children[1].is("urn:a", "Empty"));
    }

    #[test]
    fn refuses_doctype_entities_and_bad_prefixes() {
        let xxe = r#"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>"#;
        assert_eq!(Element::parse(xxe), Err(XmlError::Doctype));
        let lol = r#"<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><lolz>&lol2;</lolz>"#;
        assert_eq!(Element::parse(lol), Err(XmlError::Doctype));
        assert_eq!(
            Element::parse("<r>&foo;</r>"),
            Err(XmlError::UndefinedEntity("foo".into()))
        );
        assert!(matches!(
            Element::parse("<p:r/>"),
            Err(XmlError::UnboundPrefix(_))
        ));
        assert!(matches!(
            Element::parse("<r></s>"),
            Err(XmlError::Malformed { .. })
        ));
        assert!(matches!(
            Element::parse("<r>"),
            Err(XmlError::Malformed { .. })
        ));
        assert_eq!(Element::parse("<r/><s/>"), Err(XmlError::TrailingContent));
        assert_eq!(Element::parse("   "), Err(XmlError::Empty));
    }

    #[test]
    fn enforces_limits() {
        let deep = "<a>".repeat(40) + &"</a>".repeat(40);
        assert!(matches!(
            Element::parse(&deep),
            Err(XmlError::TooLarge { what: "depth", .. })
        ));
        let many = format!("<r>{}</r>", "<x/>".repeat(100));
        let limits = Limits {
            max_elements: 50,
            ..Limits::default()
        };
        assert!(matches!(
            Element::parse_with(&many, &limits),
            Err(XmlError::TooLarge {
                what: "element count",
                ..
            })
        ));
        let limits = Limits {
            max_bytes: 10,
            ..Limits::default()
        };
        assert!(matches!(
            Element::parse_with(&many, &limits),
            Err(XmlError::TooLarge { what: "size", .. })
        ));
    }

    #[test]
    fn writes_and_reparses_identically() {
        let el = Element::new(Some(NS), "ES4-EnableProfileRequest")
            .with_child(Element::new(Some(NS), "FunctionCallIdentifier").with_text("a<b&c"))
            .with_child(Element::new(Some("urn:x"), "Other").with_attribute("k", "v\"'"))
            .with_child(Element::new(None, "Plain"));
        let xml = el.to_xml();
        assert!(
            xml.starts_with("<rps:ES4-EnableProfileRequest xmlns:rps="),
            "{xml}"
        );
        assert_eq!(Element::parse(&xml).unwrap(), el);
    }
}
