//! WSDL 1.1 documents (SOAP 1.2 binding, document/literal) generated from the function catalogue.
//!
//! One WSDL per interface ([`interface_wsdl`]) holds:
//! - `wsdl:types`: the interface's message schema inline ([`xsd::interface_schema`](crate::xsd::interface_schema)
//!   content), so a client loads everything from one URL;
//! - one `wsdl:message` per body element, with a single part `parameters`;
//! - one `wsdl:portType` and one SOAP 1.2 `wsdl:binding` per role that receives messages on this interface,
//!   named `<IF><Role>PortType` / `<IF><Role>Binding`:
//!   - the provider role (e.g. SM-SR on ES4) gets a request-response operation (input + output) per
//!     RequestResponse and AsyncRequestResponse function, named after the function (`EnableProfile`);
//!   - a requester role gets a one-way operation `<Function>Callback` per AsyncRequestResponse function it may
//!     call (the asynchronous result arrives at its endpoint as a request carrying the `…Response` element, Action
//!     in the `…CallBack` group), and the receiving role of a notification gets a one-way operation named after the
//!     notification (`HandleProfileEnabledNotification`);
//! - `wsdl:service` `<IF><Role>Service` with port `<Role><IF>Port` (sgp02.md §4.5: `ES4SmSrService`,
//!   `ES4MnoService`, `SmSrES4Port`) for the provider role(s) only, at the given endpoint URL. The requester-side
//!   bindings carry no service because their address is each peer's own callback URL; [`role_wsdl`] gives a
//!   document whose service is one chosen role at its URL (e.g. an Operator's ES4 notification endpoint).
//!
//! Every input and output carries `wsam:Action` (WS-Addressing Metadata) and every binding operation a
//! `soapAction`, both taken from the catalogue ([`FunctionInfo::request_action`], `response_action`,
//! `callback_action`; C-13).

use std::collections::BTreeSet;

use rsp_types::Role;

use crate::catalogue::{FunctionInfo, Interface, Pattern};
use crate::functions::CATALOGUE;
use crate::xml::escape;

/// The WSDL 1.1 namespace.
pub const WSDL_NS: &str = "http://schemas.xmlsoap.org/wsdl/";
/// The WSDL 1.1 SOAP 1.2 binding namespace.
pub const WSOAP12_NS: &str = "http://schemas.xmlsoap.org/wsdl/soap12/";
/// The WS-Addressing Metadata namespace (`wsam:Action`).
pub const WSAM_NS: &str = "http://www.w3.org/2007/05/addressing/metadata";
/// The SOAP 1.2 HTTP binding transport URI.
pub const SOAP12_HTTP_TRANSPORT: &str = "http://www.w3.org/2003/05/soap/bindings/HTTP/";

/// The token a role has in service, port and portType names (`SmSr`, `Mno`, `SmDp`, `M2mSp`, `Eum`, …).
pub fn role_token(role: Role) -> &'static str {
    match role {
        Role::Eum => "Eum",
        Role::Operator => "Mno",
        Role::M2mSp => "M2mSp",
        Role::SmDp => "SmDp",
        Role::SmSr => "SmSr",
        Role::SmDpPlus => "SmDpPlus",
        Role::SmDs => "SmDs",
        Role::Ci => "Ci",
    }
}

/// `ES4SmSrService`.
pub fn service_name(iface: Interface, role: Role) -> String {
    format!("{}{}Service", iface.name(), role_token(role))
}

/// `SmSrES4Port`.
pub fn port_name(iface: Interface, role: Role) -> String {
    format!("{}{}Port", role_token(role), iface.name())
}

/// `ES4SmSrPortType`.
pub fn port_type_name(iface: Interface, role: Role) -> String {
    format!("{}{}PortType", iface.name(), role_token(role))
}

/// `ES4SmSrBinding`.
pub fn binding_name(iface: Interface, role: Role) -> String {
    format!("{}{}Binding", iface.name(), role_token(role))
}

/// What a role receives for one function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperationKind {
    /// The role serves the function: input = request, output = response.
    Serve,
    /// The role receives the asynchronous result of a function it called: one-way input = response element.
    Callback,
    /// The role receives a notification: one-way input = notification element.
    Notification,
}

/// One WSDL operation of a role's portType.
#[derive(Debug, Clone, Copy)]
pub struct Operation {
    /// The function.
    pub function: &'static FunctionInfo,
    /// How the role receives it.
    pub kind: OperationKind,
}

impl Operation {
    /// The operation name: `EnableProfile`, `EnableProfileCallback`, `HandleProfileEnabledNotification`.
    pub fn name(&self) -> String {
        match self.kind {
            OperationKind::Callback => format!("{}Callback", self.function.name),
            _ => self.function.name.to_string(),
        }
    }

    /// (input element, its Action).
    fn input(&self) -> (String, String) {
        let f = self.function;
        match self.kind {
            OperationKind::Serve | OperationKind::Notification => {
                (f.request_element(), f.request_action())
            }
            OperationKind::Callback => (
                f.response_element().unwrap_or_else(|| f.request_element()),
                f.callback_action().unwrap_or_else(|| f.request_action()),
            ),
        }
    }

    /// (output element, its Action) for request-response operations.
    fn output(&self) -> Option<(String, String)> {
        match self.kind {
            OperationKind::Serve => Some((
                self.function.response_element()?,
                self.function.response_action()?,
            )),
            _ => None,
        }
    }
}

/// The operations `role` receives on `iface`, in catalogue order.
pub fn operations(iface: Interface, role: Role) -> Vec<Operation> {
    let mut ops = Vec::new();
    for f in CATALOGUE.iter().filter(|f| f.interface == iface) {
        match f.pattern {
            Pattern::RequestResponse | Pattern::AsyncRequestResponse => {
                if f.provider.contains(&role) {
                    ops.push(Operation {
                        function: f,
                        kind: OperationKind::Serve,
                    });
                }
                if f.pattern == Pattern::AsyncRequestResponse && f.callers.contains(&role) {
                    ops.push(Operation {
                        function: f,
                        kind: OperationKind::Callback,
                    });
                }
            }
            Pattern::Notification => {
                if f.provider.contains(&role) {
                    ops.push(Operation {
                        function: f,
                        kind: OperationKind::Notification,
                    });
                }
            }
        }
    }
    ops
}

/// Roles that receive anything on `iface`: the provider roles first, then the others, each in [`Role::ALL`] order.
pub fn receiving_roles(iface: Interface) -> Vec<Role> {
    let providers = provider_roles(iface);
    let others = Role::ALL
        .into_iter()
        .filter(|r| !providers.contains(r) && !operations(iface, *r).is_empty());
    providers.iter().copied().chain(others).collect()
}

/// Roles that serve requests (not only callbacks or notifications) on `iface`, in [`Role::ALL`] order.
pub fn provider_roles(iface: Interface) -> Vec<Role> {
    Role::ALL
        .into_iter()
        .filter(|r| {
            operations(iface, *r)
                .iter()
                .any(|op| op.kind == OperationKind::Serve)
        })
        .collect()
}

/// The WSDL of `iface`: every receiving role's portType and binding, and a service for each provider role
/// (e.g. `ES4SmSrService`) whose port address is `endpoint_url`.
pub fn interface_wsdl(iface: Interface, target_ns: &str, endpoint_url: &str) -> String {
    let services: Vec<(Role, &str)> = provider_roles(iface)
        .into_iter()
        .map(|r| (r, endpoint_url))
        .collect();
    document(iface, target_ns, &services)
}

/// The WSDL of `iface` whose only service is `role`'s (e.g. `ES4MnoService` for an Operator's callback and
/// notification endpoint) at `endpoint_url`; None if `role` receives nothing on `iface`.
pub fn role_wsdl(
    iface: Interface,
    role: Role,
    target_ns: &str,
    endpoint_url: &str,
) -> Option<String> {
    if operations(iface, role).is_empty() {
        return None;
    }
    Some(document(iface, target_ns, &[(role, endpoint_url)]))
}

struct Out(String);

impl Out {
    fn line(&mut self, depth: usize, s: &str) {
        for _ in 0..depth {
            self.0.push_str("  ");
        }
        self.0.push_str(s);
        self.0.push('\n');
    }
}

fn attr(s: &str) -> std::borrow::Cow<'_, str> {
    escape(s, true)
}

fn document(iface: Interface, target_ns: &str, services: &[(Role, &str)]) -> String {
    let functions: Vec<&FunctionInfo> = CATALOGUE.iter().filter(|f| f.interface == iface).collect();
    let roles: Vec<(Role, Vec<Operation>)> = receiving_roles(iface)
        .into_iter()
        .map(|r| (r, operations(iface, r)))
        .collect();
    let ns = attr(target_ns);
    let mut out = Out(String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"));
    out.line(
        0,
        "<!-- SGP.02 WSDL, generated by rsp from its function catalogue. Do not edit. -->",
    );
    out.line(
        0,
        &format!(
            "<wsdl:definitions name=\"{iface}\" targetNamespace=\"{ns}\" xmlns:wsdl=\"{WSDL_NS}\" \
             xmlns:wsoap12=\"{WSOAP12_NS}\" xmlns:wsam=\"{WSAM_NS}\" xmlns:xs=\"{}\" xmlns:rps=\"{ns}\">",
            crate::xsd::XS_NS
        ),
    );
    out.line(
        1,
        &format!(
            "<wsdl:documentation>SGP.02 {iface}: SOAP 1.2, document/literal, WS-Addressing 1.0 headers \
             (To, From, MessageID, Action, ReplyTo, RelatesTo).</wsdl:documentation>"
        ),
    );

    out.line(1, "<wsdl:types>");
    out.0.push_str(&crate::xsd::schema_element(
        functions.iter().copied(),
        target_ns,
        2,
    ));
    out.line(1, "</wsdl:types>");

    let mut messages = BTreeSet::new();
    for f in &functions {
        messages.insert(f.request_element());
        if let Some(r) = f.response_element() {
            messages.insert(r);
        }
    }
    for m in &messages {
        let m = attr(m);
        out.line(1, &format!("<wsdl:message name=\"{m}\">"));
        out.line(
            2,
            &format!("<wsdl:part name=\"parameters\" element=\"rps:{m}\"/>"),
        );
        out.line(1, "</wsdl:message>");
    }

    for (role, ops) in &roles {
        out.line(
            1,
            &format!("<wsdl:portType name=\"{}\">", port_type_name(iface, *role)),
        );
        for op in ops {
            let f = op.function;
            out.line(
                2,
                &format!("<wsdl:operation name=\"{}\">", attr(&op.name())),
            );
            let what = match op.kind {
                OperationKind::Serve => format!("{} ({})", f.qualified_name(), f.pattern.as_str()),
                OperationKind::Callback => format!("asynchronous result of {}", f.qualified_name()),
                OperationKind::Notification => format!("{} (notification)", f.qualified_name()),
            };
            out.line(
                3,
                &format!(
                    "<wsdl:documentation>{}; section {}.</wsdl:documentation>",
                    escape(&what, false),
                    escape(f.section, false)
                ),
            );
            let (input, in_action) = op.input();
            out.line(
                3,
                &format!(
                    "<wsdl:input message=\"rps:{}\" wsam:Action=\"{}\"/>",
                    attr(&input),
                    attr(&in_action)
                ),
            );
            if let Some((output, out_action)) = op.output() {
                out.line(
                    3,
                    &format!(
                        "<wsdl:output message=\"rps:{}\" wsam:Action=\"{}\"/>",
                        attr(&output),
                        attr(&out_action)
                    ),
                );
            }
            out.line(2, "</wsdl:operation>");
        }
        out.line(1, "</wsdl:portType>");
    }

    for (role, ops) in &roles {
        out.line(
            1,
            &format!(
                "<wsdl:binding name=\"{}\" type=\"rps:{}\">",
                binding_name(iface, *role),
                port_type_name(iface, *role)
            ),
        );
        out.line(
            2,
            &format!("<wsoap12:binding style=\"document\" transport=\"{SOAP12_HTTP_TRANSPORT}\"/>"),
        );
        for op in ops {
            out.line(
                2,
                &format!("<wsdl:operation name=\"{}\">", attr(&op.name())),
            );
            let (_, action) = op.input();
            out.line(
                3,
                &format!(
                    "<wsoap12:operation soapAction=\"{}\" style=\"document\"/>",
                    attr(&action)
                ),
            );
            out.line(3, "<wsdl:input>");
            out.line(4, "<wsoap12:body use=\"literal\"/>");
            out.line(3, "</wsdl:input>");
            if op.output().is_some() {
                out.line(3, "<wsdl:output>");
                out.line(4, "<wsoap12:body use=\"literal\"/>");
                out.line(3, "</wsdl:output>");
            }
            out.line(2, "</wsdl:operation>");
        }
        out.line(1, "</wsdl:binding>");
    }

    for (role, url) in services {
        out.line(
            1,
            &format!("<wsdl:service name=\"{}\">", service_name(iface, *role)),
        );
        let port = format!(
            "<wsdl:port name=\"{}\" binding=\"rps:{}\">",
            port_name(iface, *role),
            binding_name(iface, *role)
        );
        out.line(2, &port);
        out.line(3, &format!("<wsoap12:address location=\"{}\"/>", attr(url)));
        out.line(2, "</wsdl:port>");
        out.line(1, "</wsdl:service>");
    }
    out.line(0, "</wsdl:definitions>");
    out.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_section_4_5() {
        assert_eq!(service_name(Interface::Es4, Role::SmSr), "ES4SmSrService");
        assert_eq!(
            service_name(Interface::Es4, Role::Operator),
            "ES4MnoService"
        );
        assert_eq!(service_name(Interface::Es2, Role::SmDp), "ES2SmDpService");
        assert_eq!(port_name(Interface::Es3, Role::SmSr), "SmSrES3Port");
        assert_eq!(port_name(Interface::Es4, Role::Operator), "MnoES4Port");
    }
}
