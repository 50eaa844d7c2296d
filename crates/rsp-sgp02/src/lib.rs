//! SGP.02 off-card interfaces: the function catalogue (ES1, ES2, ES3, ES4, ES4A, ES7), the message data types
//! and their XML codec.
//!
//! Pure: no HTTP, no TLS, no store. `rsp-soap` puts these bodies into SOAP 1.2 envelopes; the SM-SR and SM-DP
//! implement the handlers.

pub mod bodies;
pub mod catalogue;
pub mod common;
pub mod data;
pub mod functions;
pub mod sample;
pub mod schema;
pub mod wsdl;
pub mod xml;
pub mod xsd;

pub use catalogue::{Function, FunctionInfo, Interface, Pattern};
pub use functions::{Bodies, CATALOGUE, FunctionId, RequestBody, ResponseBody, fns};

/// The default GSMA message namespace rsp writes.
pub const DEFAULT_NAMESPACE: &str = "http://namespaces.gsma.org/esim-messaging/3";

/// Whether `ns` is a GSMA esim-messaging namespace of any version (accepted on input).
pub fn is_message_namespace(ns: &str) -> bool {
    ns.strip_prefix("http://namespaces.gsma.org/esim-messaging/")
        .is_some_and(|v| !v.is_empty() && v.chars().all(|c| c.is_ascii_digit()))
}
