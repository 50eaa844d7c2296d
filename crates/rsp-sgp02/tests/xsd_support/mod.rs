//! Helpers for the schema tests: running xmllint, SOAP envelopes around sample bodies, paths into samples.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use rsp_sgp02::schema::{ComplexSchema, TypeRef};
use rsp_sgp02::xml::Element;
use rsp_sgp02::xsd;

/// True when xmllint can run. Without it: a failure when `CI` is set, otherwise a skip line and false.
pub fn have_xmllint(test: &str) -> bool {
    let ok = Command::new("xmllint")
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if ok {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!(
            "xmllint is required for {test} when CI is set: install the Debian package libxml2-utils"
        );
    }
    eprintln!("SKIP {test}: xmllint not found (install libxml2-utils)");
    false
}

/// A fresh directory under Cargo's target tmp dir.
pub fn tmp_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("rsp-sgp02-schema-tests")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `xmllint --noout --schema <schema> <files…>`: Ok if every file validates, else xmllint's stderr.
pub fn xmllint_validate(schema: &Path, files: &[PathBuf]) -> Result<(), String> {
    let out = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(schema)
        .args(files)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if stderr.contains("failed to compile") || stderr.contains("Schemas parser error") {
        panic!("schema {} does not compile:\n{stderr}", schema.display());
    }
    if out.status.success() {
        Ok(())
    } else {
        Err(stderr)
    }
}

/// Writes `doc` to `dir/name` and validates it against `schema`.
pub fn validate_doc(schema: &Path, dir: &Path, name: &str, doc: &str) -> Result<(), String> {
    let path = dir.join(name);
    std::fs::write(&path, doc).unwrap();
    xmllint_validate(schema, &[path])
}

/// A simple-typed element of a sample body: where it is (child indices from the body element) and its type.
#[derive(Debug, Clone)]
pub struct Leaf {
    /// Child indices from the root.
    pub path: Vec<usize>,
    /// The simple type's name.
    pub type_name: &'static str,
}

/// The simple-typed elements of `el` (an instance of `schema`), found by matching children to fields by name.
pub fn leaves(schema: &'static ComplexSchema, el: &Element) -> Vec<Leaf> {
    let mut out = Vec::new();
    collect_leaves(schema, el, &mut Vec::new(), &mut out);
    out
}

fn collect_leaves(
    schema: &'static ComplexSchema,
    el: &Element,
    path: &mut Vec<usize>,
    out: &mut Vec<Leaf>,
) {
    let fields = schema.all_fields();
    for (i, child) in el.children.iter().enumerate() {
        let Some(field) = fields.iter().find(|f| f.name == child.name) else {
            continue;
        };
        path.push(i);
        match field.ty {
            TypeRef::Complex(c) => collect_leaves(c(), child, path, out),
            TypeRef::Simple(s) => out.push(Leaf {
                path: path.clone(),
                type_name: s.name,
            }),
        }
        path.pop();
    }
}

/// The element at `path` below `root`.
pub fn at_path<'a>(root: &'a mut Element, path: &[usize]) -> &'a mut Element {
    path.iter().fold(root, |el, i| &mut el.children[*i])
}

/// A SOAP 1.2 envelope with the WS-Addressing headers rsp uses, around `body`.
pub fn envelope(body: Element, action: &str, reply: bool) -> Element {
    let env = xsd::SOAP_ENV_NS;
    let wsa = xsd::WSA_NS;
    let mut header = Element::new(Some(env), "Header");
    let mut to = Element::new(Some(wsa), "To")
        .with_text("https://smsr.example/esim-messaging/3/ES4/ES4SmSrService");
    to.attributes.push(rsp_sgp02::xml::Attribute {
        ns: Some(env.to_string()),
        name: "mustUnderstand".into(),
        value: "true".into(),
    });
    header.children.push(to);
    header
        .children
        .push(
            Element::new(Some(wsa), "From").with_child(
                Element::new(Some(wsa), "Address")
                    .with_text("http://op.example?EntityId=1.3.6.1.4.1.6886"),
            ),
        );
    header.children.push(
        Element::new(Some(wsa), "MessageID")
            .with_text("urn:uuid:6f1c7a52-0000-4000-8000-000000000001"),
    );
    header
        .children
        .push(Element::new(Some(wsa), "Action").with_text(action));
    if reply {
        header.children.push(
            Element::new(Some(wsa), "RelatesTo")
                .with_attribute(
                    "RelationshipType",
                    "http://www.w3.org/2005/08/addressing/reply",
                )
                .with_text("urn:uuid:6f1c7a52-0000-4000-8000-000000000000"),
        );
    } else {
        header
            .children
            .push(Element::new(Some(wsa), "ReplyTo").with_child(
                Element::new(Some(wsa), "Address").with_text("https://op.example/es4/callback"),
            ));
    }
    Element::new(Some(env), "Envelope")
        .with_child(header)
        .with_child(Element::new(Some(env), "Body").with_child(body))
}
