//! The libxml2 document model as the signature code needs it: a safe parse, element navigation by (namespace,
//! local name), the index of ID attributes and exclusive canonicalisation of a subtree.
//!
//! Every signature is computed and verified over a libxml2 parse of the bytes that travel, never over a
//! re-serialisation of rsp's own element tree (which drops whitespace-only text and renames prefixes).

use std::collections::HashMap;

use libxml::error::XmlErrorLevel;
use libxml::parser::{Parser, ParserOptions};
use libxml::tree::c14n::{CanonicalizationMode, CanonicalizationOptions};
use libxml::tree::{Document, Node};

use crate::ns;

/// Why a document could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomError {
    /// libxml2 refused the text (not well-formed, or too large).
    #[error("not a well-formed XML document")]
    Malformed,
    /// A DOCTYPE: refused before libxml2 sees it (no entity expansion, no external subsets).
    #[error("DOCTYPE declarations are not accepted")]
    Doctype,
    /// Canonicalisation failed.
    #[error("canonicalisation failed")]
    Canonicalisation,
    /// A node could not be created or attached.
    #[error("document construction failed: {0}")]
    Build(String),
}

/// Parses `text` strictly: no recovery, no network, no entity substitution, whitespace kept, no DOCTYPE.
pub(crate) fn parse(text: &str) -> Result<Document, DomError> {
    if has_doctype(text) {
        return Err(DomError::Doctype);
    }
    let options = ParserOptions {
        recover: false,
        no_def_dtd: true,
        no_error: true,
        no_warning: true,
        pedantic: false,
        no_blanks: false,
        no_net: true,
        no_implied: true,
        huge: false,
        compact: false,
        ignore_enc: false,
        encoding: None,
    };
    let (doc, diagnostics) = Parser::default()
        .parse_string_with_diagnostics(text.as_bytes(), options)
        .map_err(|_| DomError::Malformed)?;
    // Namespace errors (an unbound prefix) are recoverable for libxml2; a signed document must not have any:
    // canonicalisation in another context could silently repair them.
    if diagnostics
        .iter()
        .any(|d| matches!(d.level, XmlErrorLevel::Error | XmlErrorLevel::Fatal))
    {
        return Err(DomError::Malformed);
    }
    Ok(doc)
}

/// A cheap, conservative DOCTYPE detector: any `<!DOCTYPE` outside a comment or CDATA section is refused (the
/// rsp element parser refuses it as well, so a false positive inside text never happens in practice).
fn has_doctype(text: &str) -> bool {
    text.as_bytes()
        .windows(9)
        .any(|w| w.eq_ignore_ascii_case(b"<!DOCTYPE"))
}

/// The namespace URI of an element (empty when unqualified).
pub(crate) fn ns_of(node: &Node) -> String {
    node.get_namespace()
        .map(|n| n.get_href())
        .unwrap_or_default()
}

/// True when `node` is the element `{ns}name`.
pub(crate) fn is(node: &Node, ns: &str, name: &str) -> bool {
    node.is_element_node() && node.get_name() == name && ns_of(node) == ns
}

/// The element children of `node`.
pub(crate) fn children(node: &Node) -> Vec<Node> {
    node.get_child_elements()
}

/// The element children `{ns}name` of `node`.
pub(crate) fn children_named(node: &Node, ns: &str, name: &str) -> Vec<Node> {
    children(node)
        .into_iter()
        .filter(|c| is(c, ns, name))
        .collect()
}

/// The only child `{ns}name`, or None when there is none or more than one.
pub(crate) fn only_child(node: &Node, ns: &str, name: &str) -> Option<Node> {
    let mut found = children_named(node, ns, name);
    if found.len() == 1 { found.pop() } else { None }
}

/// An unqualified attribute's value.
pub(crate) fn attr(node: &Node, name: &str) -> Option<String> {
    node.get_attribute_no_ns(name)
}

/// The text content of `node` with surrounding whitespace removed.
pub(crate) fn text(node: &Node) -> String {
    node.get_content().trim().to_string()
}

/// Identity of a node (its libxml2 address), for comparing nodes reached by different paths.
pub(crate) fn key(node: &Node) -> usize {
    node.to_hashable()
}

/// Every value that libxml2 or libxmlsec1 may resolve as an ID: `wsu:Id`, `xml:id`, and unqualified `Id`
/// (xmlsec registers those inside a `ds:Signature`), mapped to the node that carries it.
///
/// Refused, so that a same-document reference can never be resolved two ways (signature wrapping): a value
/// carried twice, or an element carrying two ID-like attributes.
pub(crate) fn id_index(root: &Node) -> Result<HashMap<String, Node>, String> {
    let mut index = HashMap::new();
    let mut stack = vec![root.clone()];
    while let Some(node) = stack.pop() {
        let mut ids = Vec::new();
        for ((name, nsref), value) in node.get_properties_ns() {
            let href = nsref.map(|n| n.get_href()).unwrap_or_default();
            let id_like = (name == "Id" && (href.is_empty() || href == ns::WSU))
                || (name == "id" && href == ns::XML);
            if id_like {
                ids.push(value);
            }
        }
        if ids.len() > 1 {
            return Err(format!(
                "element {} carries several ID attributes",
                node.get_name()
            ));
        }
        if let Some(id) = ids.pop()
            && index.insert(id.clone(), node.clone()).is_some()
        {
            return Err(format!("ID {id:?} is used twice"));
        }
        stack.extend(children(&node));
    }
    Ok(index)
}

/// Exclusive XML canonicalisation 1.0 (without comments) of the subtree rooted at `node`.
pub(crate) fn exc_c14n(node: &mut Node) -> Result<String, DomError> {
    node.canonicalize(CanonicalizationOptions {
        mode: CanonicalizationMode::ExclusiveCanonical1_0,
        with_comments: false,
        inclusive_ns_prefixes: Vec::new(),
    })
    .map_err(|()| DomError::Canonicalisation)
}

/// A new element `{href}prefix:name` of `doc`, declaring its namespace on itself, not yet attached.
pub(crate) fn new_element(
    doc: &Document,
    prefix: &str,
    href: &str,
    name: &str,
) -> Result<Node, DomError> {
    let mut node = Node::new(name, None, doc).map_err(|()| DomError::Build(name.into()))?;
    let ns = libxml::tree::Namespace::new(prefix, href, &mut node)
        .map_err(|e| DomError::Build(e.to_string()))?;
    node.set_namespace(&ns)
        .map_err(|e| DomError::Build(e.to_string()))?;
    Ok(node)
}

/// Appends `child` to `parent`.
pub(crate) fn append(parent: &mut Node, child: &mut Node) -> Result<(), DomError> {
    parent.add_child(child).map_err(DomError::Build)
}

/// Appends a child element in the namespace already bound to `prefix` on `parent` or an ancestor.
pub(crate) fn append_element(
    parent: &mut Node,
    prefix: &str,
    name: &str,
    text: Option<&str>,
) -> Result<Node, DomError> {
    let ns = namespace_for_prefix(parent, prefix)?;
    match text {
        Some(t) => parent.add_text_child(Some(ns), name, t),
        None => parent.new_child(Some(ns), name),
    }
    .map_err(|e| DomError::Build(e.to_string()))
}

/// The in-scope namespace bound to `prefix` at `node` (searching `node` and its ancestors).
pub(crate) fn namespace_for_prefix(
    node: &Node,
    prefix: &str,
) -> Result<libxml::tree::Namespace, DomError> {
    let mut cur = Some(node.clone());
    while let Some(n) = cur {
        if let Some(ns) = n
            .get_namespace_declarations()
            .into_iter()
            .find(|ns| ns.get_prefix() == prefix)
        {
            return Ok(ns);
        }
        cur = n.get_parent();
    }
    Err(DomError::Build(format!("prefix {prefix} is not declared")))
}

/// Serialises a whole document (with its XML declaration), unformatted.
pub(crate) fn serialise(doc: &Document) -> String {
    doc.to_string_with_options(libxml::tree::SaveOptions {
        format: false,
        no_declaration: false,
        no_empty_tags: false,
        no_xhtml: true,
        xhtml: false,
        as_xml: true,
        as_html: false,
        non_significant_whitespace: false,
    })
}

/// The root element of a document.
pub(crate) fn root(doc: &Document) -> Result<Node, DomError> {
    doc.get_root_element().ok_or(DomError::Malformed)
}
