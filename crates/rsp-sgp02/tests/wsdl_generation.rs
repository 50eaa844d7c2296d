//! The generated WSDLs: well-formed, complete for their interface, consistent with the catalogue and the XSD.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] functions

mod xsd_support;

use std::collections::{BTreeMap, BTreeSet};

use rsp_sgp02::catalogue::Pattern;
use rsp_sgp02::wsdl::{self, OperationKind};
use rsp_sgp02::xml::Element;
use rsp_sgp02::{CATALOGUE, DEFAULT_NAMESPACE, Interface, xsd};
use rsp_types::Role;
use xsd_support::*;

const WSDL: &str = wsdl::WSDL_NS;
const SOAP12: &str = wsdl::WSOAP12_NS;
const URL: &str = "https://smsr.example:8443/esim-messaging/3/ES4/Service?a=1&b=2";

fn children<'a>(
    el: &'a Element,
    ns: &'a str,
    name: &'a str,
) -> impl Iterator<Item = &'a Element> + 'a {
    el.children.iter().filter(move |c| c.is(ns, name))
}

fn name_of(el: &Element) -> &str {
    el.attribute("name").unwrap()
}

fn local(qname: &str) -> &str {
    qname
        .strip_prefix("rps:")
        .unwrap_or_else(|| panic!("{qname} is not in the rps namespace"))
}

#[test]
fn every_interface_wsdl_is_complete_and_consistent() {
    for iface in Interface::ALL {
        let text = wsdl::interface_wsdl(iface, DEFAULT_NAMESPACE, URL);
        assert_eq!(
            text,
            wsdl::interface_wsdl(iface, DEFAULT_NAMESPACE, URL),
            "{iface}: not deterministic"
        );
        let root =
            Element::parse(&text).unwrap_or_else(|e| panic!("{iface}: WSDL not well-formed: {e}"));
        assert!(root.is(WSDL, "definitions"));
        assert_eq!(root.attribute("targetNamespace"), Some(DEFAULT_NAMESPACE));

        // Inline types = the interface schema.
        let types = children(&root, WSDL, "types").next().unwrap();
        let schema = Element::parse(&xsd::interface_schema(iface, DEFAULT_NAMESPACE)).unwrap();
        assert_eq!(
            types.children,
            vec![schema.clone()],
            "{iface}: wsdl:types differs from interface_schema"
        );
        let elements: BTreeSet<&str> = children(&schema, xsd::XS_NS, "element")
            .map(name_of)
            .collect();

        // Messages: one part each, naming a declared element.
        let messages: BTreeMap<&str, &str> = children(&root, WSDL, "message")
            .map(|m| {
                let parts: Vec<&Element> = children(m, WSDL, "part").collect();
                assert_eq!(parts.len(), 1, "{iface}: message {}", name_of(m));
                let element = local(parts[0].attribute("element").unwrap());
                assert!(
                    elements.contains(element),
                    "{iface}: message part element {element} not declared"
                );
                (name_of(m), element)
            })
            .collect();

        // PortTypes: every function of the interface appears, with the catalogue's Actions.
        let port_types: BTreeMap<&str, &Element> = children(&root, WSDL, "portType")
            .map(|p| (name_of(p), p))
            .collect();
        let mut served = BTreeSet::new();
        for role in wsdl::receiving_roles(iface) {
            let pt = port_types
                .get(wsdl::port_type_name(iface, role).as_str())
                .unwrap_or_else(|| panic!("{iface} {role:?}"));
            let ops: BTreeMap<&str, &Element> = children(pt, WSDL, "operation")
                .map(|o| (name_of(o), o))
                .collect();
            let expected = wsdl::operations(iface, role);
            assert_eq!(
                ops.len(),
                expected.len(),
                "{iface} {role:?}: operation count"
            );
            for op in expected {
                let f = op.function;
                let el = ops
                    .get(op.name().as_str())
                    .unwrap_or_else(|| panic!("{iface} {role:?}: no {}", op.name()));
                let input = children(el, WSDL, "input").next().unwrap();
                let output = children(el, WSDL, "output").next();
                let action =
                    |e: &Element| e.attribute_ns(wsdl::WSAM_NS, "Action").unwrap().to_string();
                let message =
                    |e: &Element| messages[local(e.attribute("message").unwrap())].to_string();
                match op.kind {
                    OperationKind::Serve => {
                        assert!(f.provider.contains(&role) && f.pattern != Pattern::Notification);
                        assert_eq!(message(input), f.request_element());
                        assert_eq!(action(input), f.request_action());
                        let output =
                            output.unwrap_or_else(|| panic!("{}: no output", f.qualified_name()));
                        assert_eq!(Some(message(output)), f.response_element());
                        assert_eq!(Some(action(output)), f.response_action());
                    }
                    OperationKind::Callback => {
                        assert!(
                            f.callers.contains(&role) && f.pattern == Pattern::AsyncRequestResponse
                        );
                        assert_eq!(Some(message(input)), f.response_element());
                        assert_eq!(Some(action(input)), f.callback_action());
                        assert!(output.is_none());
                    }
                    OperationKind::Notification => {
                        assert!(f.provider.contains(&role) && f.pattern == Pattern::Notification);
                        assert_eq!(message(input), f.request_element());
                        assert_eq!(action(input), f.request_action());
                        assert!(output.is_none());
                    }
                }
                if op.kind != OperationKind::Callback {
                    served.insert(f.name);
                }
            }
        }
        let all: BTreeSet<&str> = CATALOGUE
            .iter()
            .filter(|f| f.interface == iface)
            .map(|f| f.name)
            .collect();
        assert_eq!(served, all, "{iface}: functions missing from the WSDL");

        // Bindings: SOAP 1.2 document/literal, one per portType, same operations, soapAction = input Action.
        let bindings: Vec<&Element> = children(&root, WSDL, "binding").collect();
        assert_eq!(bindings.len(), port_types.len());
        for b in &bindings {
            let pt = port_types[local(b.attribute("type").unwrap())];
            let sb = children(b, SOAP12, "binding").next().unwrap();
            assert_eq!(sb.attribute("style"), Some("document"));
            assert_eq!(sb.attribute("transport"), Some(wsdl::SOAP12_HTTP_TRANSPORT));
            for op in children(b, WSDL, "operation") {
                let abstract_op = children(pt, WSDL, "operation")
                    .find(|o| name_of(o) == name_of(op))
                    .unwrap();
                let in_action = children(abstract_op, WSDL, "input")
                    .next()
                    .unwrap()
                    .attribute_ns(wsdl::WSAM_NS, "Action");
                let soap_op = children(op, SOAP12, "operation").next().unwrap();
                assert_eq!(soap_op.attribute("soapAction"), in_action);
                for dir in ["input", "output"] {
                    let has_abstract = children(abstract_op, WSDL, dir).next().is_some();
                    let concrete = children(op, WSDL, dir).next();
                    assert_eq!(
                        concrete.is_some(),
                        has_abstract,
                        "{iface} {}: {dir}",
                        name_of(op)
                    );
                    if let Some(c) = concrete {
                        assert_eq!(
                            children(c, SOAP12, "body").next().unwrap().attribute("use"),
                            Some("literal")
                        );
                    }
                }
            }
        }

        // Services: one per provider role, at the endpoint URL.
        let services: Vec<&Element> = children(&root, WSDL, "service").collect();
        let providers = wsdl::provider_roles(iface);
        assert_eq!(services.len(), providers.len());
        for (svc, role) in services.iter().zip(&providers) {
            assert_eq!(name_of(svc), wsdl::service_name(iface, *role));
            let port = children(svc, WSDL, "port").next().unwrap();
            assert_eq!(name_of(port), wsdl::port_name(iface, *role));
            assert_eq!(
                local(port.attribute("binding").unwrap()),
                wsdl::binding_name(iface, *role)
            );
            assert_eq!(
                children(port, SOAP12, "address")
                    .next()
                    .unwrap()
                    .attribute("location"),
                Some(URL)
            );
        }
    }
}

#[test]
fn provider_services_follow_section_4_5() {
    let has = |iface: Interface, role: Role| wsdl::provider_roles(iface).contains(&role);
    for (iface, role) in [
        (Interface::Es1, Role::SmSr),
        (Interface::Es2, Role::SmDp),
        (Interface::Es3, Role::SmSr),
        (Interface::Es4, Role::SmSr),
        (Interface::Es4a, Role::SmSr),
        (Interface::Es7, Role::SmSr),
    ] {
        if CATALOGUE
            .iter()
            .any(|f| f.interface == iface && f.pattern != Pattern::Notification)
        {
            assert!(has(iface, role), "{iface}: {role:?} is not a provider");
        }
    }
    let text = wsdl::interface_wsdl(Interface::Es4, DEFAULT_NAMESPACE, URL);
    assert!(text.contains("<wsdl:service name=\"ES4SmSrService\">"));
    assert!(text.contains("<wsdl:port name=\"SmSrES4Port\" binding=\"rps:ES4SmSrBinding\">"));
}

#[test]
fn role_wsdl_describes_one_receiving_side() {
    for iface in Interface::ALL {
        for role in Role::ALL {
            let ops = wsdl::operations(iface, role);
            let doc = wsdl::role_wsdl(iface, role, DEFAULT_NAMESPACE, "https://peer.example/cb");
            if ops.is_empty() {
                assert!(doc.is_none(), "{iface} {role:?}");
                continue;
            }
            let root = Element::parse(&doc.unwrap()).unwrap();
            let services: Vec<&Element> = children(&root, WSDL, "service").collect();
            assert_eq!(services.len(), 1);
            assert_eq!(name_of(services[0]), wsdl::service_name(iface, role));
        }
    }
    // The Operator's ES4 side receives notifications and asynchronous results when the catalogue has them.
    let ops = wsdl::operations(Interface::Es4, Role::Operator);
    for f in CATALOGUE.iter().filter(|f| f.interface == Interface::Es4) {
        if f.pattern == Pattern::Notification && f.provider.contains(&Role::Operator) {
            assert!(
                ops.iter()
                    .any(|o| o.kind == OperationKind::Notification && o.function.name == f.name)
            );
        }
        if f.pattern == Pattern::AsyncRequestResponse && f.callers.contains(&Role::Operator) {
            assert!(
                ops.iter()
                    .any(|o| o.name() == format!("{}Callback", f.name))
            );
        }
    }
}

#[test]
fn wsdl_is_well_formed_for_xmllint() {
    if !have_xmllint("wsdl_is_well_formed_for_xmllint") {
        return;
    }
    let dir = tmp_dir("wsdl");
    for iface in Interface::ALL {
        let path = dir.join(format!("{}.wsdl", iface.path()));
        std::fs::write(&path, wsdl::interface_wsdl(iface, DEFAULT_NAMESPACE, URL)).unwrap();
        let out = std::process::Command::new("xmllint")
            .arg("--noout")
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{iface}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
