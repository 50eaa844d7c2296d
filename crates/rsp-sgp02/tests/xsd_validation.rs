//! The generated XSDs: structure, determinism, and validation of sample bodies and SOAP envelopes with xmllint.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] functions

mod xsd_support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use rsp_sgp02::catalogue::FunctionInfo;
use rsp_sgp02::xml::Element;
use rsp_sgp02::{CATALOGUE, DEFAULT_NAMESPACE, Interface, RequestBody, ResponseBody, sample, xsd};
use xsd_support::*;

const XS: &str = xsd::XS_NS;

fn doc(el: &Element) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}",
        el.to_xml()
    )
}

/// (file label, sample body, Action, is a reply) for every body of `f`: minimal and full samples.
fn bodies(f: &FunctionInfo, ns: &str) -> Vec<(String, Element, String, bool)> {
    let mut v = Vec::new();
    for full in [false, true] {
        let kind = if full { "full" } else { "min" };
        let req = f.request_element();
        let el = sample::sample_element((f.request_schema)(), ns, &req, full);
        v.push((format!("{req}-{kind}"), el, f.request_action(), false));
        if let (Some(name), Some(schema), Some(action)) =
            (f.response_element(), f.response_schema, f.response_action())
        {
            let el = sample::sample_element(schema(), ns, &name, full);
            v.push((format!("{name}-{kind}"), el, action, true));
        }
    }
    v
}

fn write_all(dir: &Path, docs: &[(String, String)]) -> Vec<PathBuf> {
    docs.iter()
        .map(|(name, text)| {
            let p = dir.join(format!("{name}.xml"));
            std::fs::write(&p, text).unwrap();
            p
        })
        .collect()
}

fn functions_of(iface: Interface) -> Vec<&'static FunctionInfo> {
    CATALOGUE.iter().filter(|f| f.interface == iface).collect()
}

#[test]
fn catalogue_schema_data_has_no_conflicts() {
    let problems = xsd::schema_problems();
    assert!(
        problems.is_empty(),
        "schema problems:\n{}",
        problems
            .iter()
            .map(|p| format!("  {p}\n"))
            .collect::<String>()
    );
}

#[test]
fn interface_schemas_are_deterministic_self_contained_and_declare_every_element() {
    for iface in Interface::ALL {
        let text = xsd::interface_schema(iface, DEFAULT_NAMESPACE);
        assert_eq!(
            text,
            xsd::interface_schema(iface, DEFAULT_NAMESPACE),
            "{iface}: not deterministic"
        );
        let root =
            Element::parse(&text).unwrap_or_else(|e| panic!("{iface}: not well-formed: {e}"));
        assert!(root.is(XS, "schema"));
        assert_eq!(root.attribute("targetNamespace"), Some(DEFAULT_NAMESPACE));
        assert_eq!(root.attribute("elementFormDefault"), Some("qualified"));

        let decl = |kind: &str| -> Vec<String> {
            root.children
                .iter()
                .filter(|c| c.is(XS, kind))
                .map(|c| c.attribute("name").unwrap().to_string())
                .collect()
        };
        let (simple, complex, elements) =
            (decl("simpleType"), decl("complexType"), decl("element"));
        for names in [&simple, &complex, &elements] {
            let mut sorted = names.clone();
            sorted.sort();
            sorted.dedup();
            assert_eq!(
                &sorted, names,
                "{iface}: declarations not sorted or duplicated"
            );
        }

        // Every global element of the interface, with the body's type.
        let mut expected = BTreeSet::new();
        for f in functions_of(iface) {
            expected.insert((f.request_element(), (f.request_schema)().name));
            if let (Some(e), Some(s)) = (f.response_element(), f.response_schema) {
                expected.insert((e, s().name));
            }
        }
        let found: BTreeSet<(String, &str)> = root
            .children
            .iter()
            .filter(|c| c.is(XS, "element"))
            .map(|c| {
                let ty = c.attribute("type").unwrap().strip_prefix("rps:").unwrap();
                let ty = expected
                    .iter()
                    .find(|(_, t)| *t == ty)
                    .map(|(_, t)| *t)
                    .unwrap_or("?");
                (c.attribute("name").unwrap().to_string(), ty)
            })
            .collect();
        assert_eq!(found, expected, "{iface}: global elements");

        // Self-contained: every rps: reference resolves to a declaration in this document.
        let declared: BTreeSet<String> = simple.iter().chain(&complex).cloned().collect();
        let mut stack = vec![&root];
        while let Some(el) = stack.pop() {
            for a in &el.attributes {
                if (a.name == "type" || a.name == "base") && a.value.starts_with("rps:") {
                    assert!(
                        declared.contains(&a.value[4..]),
                        "{iface}: {} not declared",
                        a.value
                    );
                } else if a.name == "type" || a.name == "base" {
                    assert!(
                        a.value.starts_with("xs:"),
                        "{iface}: unexpected type reference {}",
                        a.value
                    );
                }
            }
            stack.extend(el.children.iter());
        }
    }
}

#[test]
fn full_schema_declares_every_catalogue_element() {
    let root = Element::parse(&xsd::full_schema(DEFAULT_NAMESPACE)).unwrap();
    let names: BTreeSet<&str> = root
        .children
        .iter()
        .filter(|c| c.is(XS, "element"))
        .filter_map(|c| c.attribute("name"))
        .collect();
    for f in CATALOGUE {
        assert!(
            names.contains(f.request_element().as_str()),
            "{}",
            f.qualified_name()
        );
        if let Some(r) = f.response_element() {
            assert!(names.contains(r.as_str()), "{}", f.qualified_name());
        }
    }
    // Another namespace is only a parameter.
    let other = xsd::full_schema("http://namespaces.gsma.org/esim-messaging/1");
    assert!(other.contains("targetNamespace=\"http://namespaces.gsma.org/esim-messaging/1\""));
    assert!(!other.contains("esim-messaging/3"));
}

#[test]
fn xmllint_accepts_each_interface_schema_and_its_sample_bodies() {
    if !have_xmllint("xmllint_accepts_each_interface_schema_and_its_sample_bodies") {
        return;
    }
    for iface in Interface::ALL {
        let dir = tmp_dir(&format!("iface-{}", iface.path()));
        let schema = dir.join("schema.xsd");
        std::fs::write(&schema, xsd::interface_schema(iface, DEFAULT_NAMESPACE)).unwrap();
        let docs: Vec<(String, String)> = functions_of(iface)
            .iter()
            .flat_map(|f| bodies(f, DEFAULT_NAMESPACE))
            .map(|(name, el, _, _)| (name, doc(&el)))
            .collect();
        if docs.is_empty() {
            // No functions yet: the (empty) schema must still compile and refuse an unknown element.
            let r = validate_doc(
                &schema,
                &dir,
                "none.xml",
                &format!("<x:Unknown xmlns:x=\"{DEFAULT_NAMESPACE}\"/>"),
            );
            assert!(r.is_err(), "{iface}: unknown element accepted");
            continue;
        }
        let files = write_all(&dir, &docs);
        xmllint_validate(&schema, &files)
            .unwrap_or_else(|e| panic!("{iface}: sample bodies rejected:\n{e}"));

        // A body of another interface is not declared here.
        if let Some(f) = CATALOGUE.iter().find(|f| f.interface != iface) {
            let (_, el, _, _) = bodies(f, DEFAULT_NAMESPACE).remove(0);
            let r = validate_doc(&schema, &dir, "foreign.xml", &doc(&el));
            assert!(r.is_err(), "{iface} accepted {}", f.request_element());
        }
    }
}

fn schema_set(name: &str, ns: &str) -> (PathBuf, PathBuf) {
    let dir = tmp_dir(name);
    let top = xsd::write_schema_set(&dir.join("schemas"), ns).unwrap();
    assert!(top.ends_with(xsd::ENVELOPE_FILE));
    (dir, top)
}

#[test]
fn soap_envelopes_with_sample_bodies_validate_against_the_schema_set() {
    if !have_xmllint("soap_envelopes_with_sample_bodies_validate_against_the_schema_set") {
        return;
    }
    let (dir, top) = schema_set("envelopes", DEFAULT_NAMESPACE);
    let mut docs = Vec::new();
    for f in CATALOGUE {
        for (name, el, action, reply) in bodies(f, DEFAULT_NAMESPACE) {
            docs.push((format!("env-{name}"), doc(&envelope(el, &action, reply))));
        }
    }
    assert!(!docs.is_empty());
    let files = write_all(&dir, &docs);
    xmllint_validate(&top, &files).unwrap_or_else(|e| panic!("envelopes rejected:\n{e}"));

    // A SOAP 1.2 fault, and a WS-Security header (allowed, not validated).
    let fault = format!(
        r#"<env:Envelope xmlns:env="{env}"><env:Body><env:Fault><env:Code><env:Value>env:Sender</env:Value></env:Code><env:Reason><env:Text xml:lang="en">unknown body element</env:Text></env:Reason></env:Fault></env:Body></env:Envelope>"#,
        env = xsd::SOAP_ENV_NS
    );
    validate_doc(&top, &dir, "fault.xml", &fault).unwrap();
    let f = &CATALOGUE[0];
    let (_, el, action, _) = bodies(f, DEFAULT_NAMESPACE).remove(0);
    let mut env = envelope(el, &action, false);
    env.children[0].children.push(
        Element::new(Some(xsd::WSSE_NS), "Security")
            .with_child(Element::new(Some("urn:x"), "Token")),
    );
    validate_doc(&top, &dir, "wsse.xml", &doc(&env)).unwrap();
}

/// Validates `env` and expects a rejection whose message contains `needle`.
fn assert_rejected(top: &Path, dir: &Path, name: &str, env: &Element, needle: &str) {
    match validate_doc(top, dir, &format!("{name}.xml"), &doc(env)) {
        Ok(()) => panic!("{name}: accepted"),
        Err(e) => assert!(e.contains(needle), "{name}: expected {needle:?} in:\n{e}"),
    }
}

#[test]
fn broken_messages_are_rejected() {
    if !have_xmllint("broken_messages_are_rejected") {
        return;
    }
    let (dir, top) = schema_set("broken", DEFAULT_NAMESPACE);
    let ns = DEFAULT_NAMESPACE;
    let body = |f: &FunctionInfo| {
        let el = sample::sample_element((f.request_schema)(), ns, &f.request_element(), true);
        let leaves = leaves((f.request_schema)(), &el);
        (el, leaves)
    };
    let mut checked = BTreeSet::new();

    for f in CATALOGUE {
        let (el, leaves) = body(f);
        let action = f.request_action();

        // Missing mandatory element.
        if !checked.contains("missing")
            && let Some(field) = (f.request_schema)()
                .all_fields()
                .into_iter()
                .find(|x| x.min >= 1 && !x.name.starts_with('@'))
        {
            let mut broken = el.clone();
            broken.children.retain(|c| c.name != field.name);
            assert_rejected(
                &top,
                &dir,
                "missing",
                &envelope(broken, &action, false),
                field.name,
            );
            checked.insert("missing");
        }

        // Wrong element order.
        if !checked.contains("order")
            && let Some(i) = el.children.windows(2).position(|w| w[0].name != w[1].name)
        {
            let mut broken = el.clone();
            broken.children.swap(i, i + 1);
            assert_rejected(
                &top,
                &dir,
                "order",
                &envelope(broken, &action, false),
                "not expected",
            );
            checked.insert("order");
        }

        // Bad EID: odd number of hex digits, and 15 bytes instead of 16.
        if !checked.contains("eid")
            && let Some(leaf) = leaves.iter().find(|l| l.type_name == "EIDType")
        {
            for (case, value) in [
                ("eid-odd", "8904903212345123451234567890123"),
                ("eid-short", "890490321234512345123456789012"),
            ] {
                let mut broken = el.clone();
                let target = at_path(&mut broken, &leaf.path);
                target.text = value.to_string();
                let needle = format!("}}{}'", target.name);
                assert_rejected(&top, &dir, case, &envelope(broken, &action, false), &needle);
            }
            checked.insert("eid");
        }
    }
    assert_eq!(
        checked.len(),
        3,
        "catalogue offered no case for some of the broken bodies: {checked:?}"
    );

    let f = &CATALOGUE[0];
    let (el, _) = body(f);
    let action = f.request_action();

    // Unknown WS-Addressing header (strict), and a header from an undeclared namespace.
    let mut env = envelope(el.clone(), &action, false);
    env.children[0]
        .children
        .push(Element::new(Some(xsd::WSA_NS), "MessageId").with_text("urn:x"));
    assert_rejected(&top, &dir, "bad-wsa-header", &env, "MessageId");
    let mut env = envelope(el.clone(), &action, false);
    env.children[0]
        .children
        .push(Element::new(Some("urn:other"), "Custom"));
    assert_rejected(&top, &dir, "foreign-header", &env, "Custom");

    // Body element in another message namespace, an undeclared body element, two body children.
    let mut other = el.clone();
    other.ns = Some("http://namespaces.gsma.org/esim-messaging/1".into());
    assert_rejected(
        &top,
        &dir,
        "other-namespace",
        &envelope(other, &action, false),
        "not expected",
    );
    let unknown = Element::new(Some(ns), "ES4-NoSuchFunctionRequest");
    assert_rejected(
        &top,
        &dir,
        "unknown-body",
        &envelope(unknown, &action, false),
        "ES4-NoSuchFunctionRequest",
    );
    let mut env = envelope(el.clone(), &action, false);
    env.children[1].children.push(el.clone());
    assert_rejected(&top, &dir, "two-bodies", &env, "not expected");

    // SOAP attributes on headers are typed too (mustUnderstand is a boolean).
    let mut env = envelope(el, &action, false);
    env.children[0].children[0].attributes[0].value = "perhaps".into();
    assert_rejected(&top, &dir, "must-understand", &env, "mustUnderstand");
}

#[test]
fn schema_set_follows_the_configured_namespace() {
    if !have_xmllint("schema_set_follows_the_configured_namespace") {
        return;
    }
    let ns1 = "http://namespaces.gsma.org/esim-messaging/1";
    let (dir, top) = schema_set("ns1", ns1);
    let f = &CATALOGUE[0];
    let (_, el, action, _) = bodies(f, ns1).remove(0);
    validate_doc(&top, &dir, "ns1.xml", &doc(&envelope(el, &action, false))).unwrap();
    let (_, el3, _, _) = bodies(f, DEFAULT_NAMESPACE).remove(0);
    assert!(validate_doc(&top, &dir, "ns3.xml", &doc(&envelope(el3, &action, false))).is_err());
}

#[test]
fn bodies_written_by_the_codec_validate() {
    if !have_xmllint("bodies_written_by_the_codec_validate") {
        return;
    }
    // Full samples decoded into the typed bodies and encoded again: the encoders' output must match the schema.
    let (dir, top) = schema_set("codec", DEFAULT_NAMESPACE);
    let mut docs = Vec::new();
    for f in CATALOGUE {
        let el = sample::sample_element(
            (f.request_schema)(),
            DEFAULT_NAMESPACE,
            &f.request_element(),
            true,
        );
        let typed = RequestBody::decode(f.id, &el)
            .unwrap_or_else(|e| panic!("{}: {e}", f.qualified_name()));
        let encoded = typed.encode(DEFAULT_NAMESPACE);
        docs.push((
            format!("codec-{}", f.request_element()),
            doc(&envelope(encoded, &f.request_action(), false)),
        ));
        if let (Some(name), Some(schema), Some(action)) =
            (f.response_element(), f.response_schema, f.response_action())
        {
            let el = sample::sample_element(schema(), DEFAULT_NAMESPACE, &name, true);
            let typed = ResponseBody::decode(f.id, &el)
                .unwrap_or_else(|e| panic!("{}: {e}", f.qualified_name()));
            docs.push((
                format!("codec-{name}"),
                doc(&envelope(typed.encode(DEFAULT_NAMESPACE), &action, true)),
            ));
        }
    }
    let files = write_all(&dir, &docs);
    xmllint_validate(&top, &files).unwrap_or_else(|e| panic!("encoded bodies rejected:\n{e}"));
}
