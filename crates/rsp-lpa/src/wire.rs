//! The wire log: every ES9+ exchange as it went over HTTP (function, URL, headers both ways
//! including `X-Admin-Protocol`, request and response bodies, and the DER bytes of each
//! base64 field), so tests can assert on the bytes on the wire.
//!
//! ```
//! # use rsp_lpa::wire::{WireLog, tag_paths};
//! let log = WireLog::default();
//! // ... run an LPA whose client writes to `log` ...
//! assert!(log.exchanges().is_empty());
//! // Tag paths name every element of a DER value: `BF20/88` is EUICCInfo1.euiccRspCapability.
//! assert_eq!(tag_paths(&[0xBF, 0x20, 0x03, 0x88, 0x01, 0x00]), ["BF20", "BF20/88"]);
//! ```

use std::sync::{Arc, Mutex};

use rsp_types::Svn;
use rsp_types::tlv;

use crate::es9::Es9Function;

/// Which ES9+ binding carried an exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Binding {
    /// JSON over `POST /gsma/rsp2/es9plus/<function>` (SGP.22 §6.5).
    Json,
    /// DER over `POST /gsma/rsp2/asn1` (SGP.22 §6.6).
    Asn1,
}

/// One DER value carried in a message: a base64 JSON field decoded, or a whole ASN.1-binding
/// body.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DerField {
    /// JSON field name (`euiccInfo1`, `serverSigned1`, ...); `body` for the ASN.1 binding.
    pub name: String,
    /// The decoded bytes.
    #[serde(with = "hex_bytes")]
    pub der: Vec<u8>,
}

mod hex_bytes {
    pub fn serialize<S: serde::Serializer>(b: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode_upper(b))
    }
}

/// Fields of the ES9+ JSON binding that are base64 but not DER.
pub const NON_DER_BASE64_FIELDS: &[&str] = &["euiccChallenge"];

/// One HTTP exchange.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct WireExchange {
    /// The ES9+ function.
    pub function: Es9Function,
    /// The binding.
    pub binding: Binding,
    /// The URL posted to.
    pub url: String,
    /// Request headers as sent (name lower-case).
    pub request_headers: Vec<(String, String)>,
    /// Request body.
    #[serde(with = "hex_bytes")]
    pub request_body: Vec<u8>,
    /// DER values in the request.
    pub request_der: Vec<DerField>,
    /// HTTP status, when a response arrived.
    pub status: Option<u16>,
    /// Response headers (name lower-case).
    pub response_headers: Vec<(String, String)>,
    /// Response body.
    #[serde(with = "hex_bytes")]
    pub response_body: Vec<u8>,
    /// DER values in the response.
    pub response_der: Vec<DerField>,
    /// Transport error, if the exchange did not complete.
    pub error: Option<String>,
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn field<'a>(fields: &'a [DerField], name: &str) -> Option<&'a [u8]> {
    fields
        .iter()
        .find(|f| f.name == name)
        .map(|f| f.der.as_slice())
}

fn paths_of(fields: &[DerField]) -> Vec<String> {
    fields
        .iter()
        .filter(|f| !NON_DER_BASE64_FIELDS.contains(&f.name.as_str()))
        .flat_map(|f| {
            tag_paths(&f.der)
                .into_iter()
                .map(move |p| format!("{}:{p}", f.name))
        })
        .collect()
}

impl WireExchange {
    /// A request header (case-insensitive name).
    pub fn request_header(&self, name: &str) -> Option<&str> {
        header(&self.request_headers, name)
    }

    /// A response header (case-insensitive name).
    pub fn response_header(&self, name: &str) -> Option<&str> {
        header(&self.response_headers, name)
    }

    /// The version in the request's `X-Admin-Protocol`.
    pub fn request_admin_protocol(&self) -> Option<Svn> {
        self.request_header("x-admin-protocol")
            .and_then(|v| Svn::parse_admin_protocol(v).ok())
    }

    /// The version in the response's `X-Admin-Protocol`.
    pub fn response_admin_protocol(&self) -> Option<Svn> {
        self.response_header("x-admin-protocol")
            .and_then(|v| Svn::parse_admin_protocol(v).ok())
    }

    /// The request body as JSON (JSON binding).
    pub fn request_json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.request_body).ok()
    }

    /// The response body as JSON (JSON binding; None for an empty 204 body).
    pub fn response_json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.response_body).ok()
    }

    /// The decoded bytes of a request field (`body` for the ASN.1 binding).
    pub fn request_field(&self, name: &str) -> Option<&[u8]> {
        field(&self.request_der, name)
    }

    /// The decoded bytes of a response field.
    pub fn response_field(&self, name: &str) -> Option<&[u8]> {
        field(&self.response_der, name)
    }

    /// Every element of every DER value in the request, as `field:TAG/TAG/...` (see
    /// [`tag_paths`]).
    pub fn request_tag_paths(&self) -> Vec<String> {
        paths_of(&self.request_der)
    }

    /// Every element of every DER value in the response.
    pub fn response_tag_paths(&self) -> Vec<String> {
        paths_of(&self.response_der)
    }
}

/// The ES9+ exchanges of one or more LPA runs, shared: clone the handle, give one to the
/// client, read the other.
#[derive(Debug, Clone, Default)]
pub struct WireLog(Arc<Mutex<Vec<WireExchange>>>);

impl WireLog {
    /// A copy of all exchanges, in order.
    pub fn exchanges(&self) -> Vec<WireExchange> {
        self.0.lock().map(|v| v.clone()).unwrap_or_default()
    }

    /// The exchanges of `function`.
    pub fn of(&self, function: Es9Function) -> Vec<WireExchange> {
        self.exchanges()
            .into_iter()
            .filter(|e| e.function == function)
            .collect()
    }

    /// The last exchange of `function`.
    pub fn last(&self, function: Es9Function) -> Option<WireExchange> {
        self.of(function).pop()
    }

    /// The functions called, in order.
    pub fn functions(&self) -> Vec<Es9Function> {
        self.exchanges().iter().map(|e| e.function).collect()
    }

    /// Tag paths of everything the LPA sent (`function:field:TAG/...`).
    pub fn sent_tag_paths(&self) -> Vec<String> {
        self.exchanges()
            .iter()
            .flat_map(|e| {
                e.request_tag_paths()
                    .into_iter()
                    .map(move |p| format!("{}:{p}", e.function))
            })
            .collect()
    }

    /// Tag paths of everything the LPA received.
    pub fn received_tag_paths(&self) -> Vec<String> {
        self.exchanges()
            .iter()
            .flat_map(|e| {
                e.response_tag_paths()
                    .into_iter()
                    .map(move |p| format!("{}:{p}", e.function))
            })
            .collect()
    }

    /// Forgets every exchange.
    pub fn clear(&self) {
        if let Ok(mut v) = self.0.lock() {
            v.clear();
        }
    }

    /// Appends an exchange (what clients call).
    pub fn record(&self, exchange: WireExchange) {
        if let Ok(mut v) = self.0.lock() {
            v.push(exchange);
        }
    }

    /// All exchanges as JSON (bytes in upper-case hex), e.g. to attach to a failing test.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self.exchanges()).unwrap_or(serde_json::Value::Null)
    }
}

/// Every element of a DER value as a path of upper-case hex tags from the outermost one:
/// `["BF20", "BF20/82", "BF20/A9", "BF20/A9/04", ...]`. Constructed elements are descended;
/// primitive ones (OCTET STRINGs included) are not. Bytes that do not parse end the walk at
/// that level (the paths found so far are returned).
pub fn tag_paths(der: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    walk(der, "", &mut out, 0);
    out
}

fn walk(buf: &[u8], prefix: &str, out: &mut Vec<String>, depth: usize) {
    if depth > 32 {
        return;
    }
    let mut rest = buf;
    while !rest.is_empty() {
        let Ok((t, next)) = tlv::parse_one(rest) else {
            return;
        };
        let name = format!("{:02X}", t.tag.value());
        let path = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        out.push(path.clone());
        if t.is_constructed() {
            walk(t.value, &path, out, depth + 1);
        }
        rest = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_descend_constructed_only() {
        // 30 { A5 { 80 01 03 } 04 02 { 30 00 } }: the OCTET STRING content is not descended.
        let der = [
            0x30, 0x09, 0xA5, 0x03, 0x80, 0x01, 0x03, 0x04, 0x02, 0x30, 0x00,
        ];
        assert_eq!(tag_paths(&der), ["30", "30/A5", "30/A5/80", "30/04"]);
        // Garbage stops the walk without panicking.
        assert_eq!(tag_paths(&[0x30, 0x05, 0x01]), Vec::<String>::new());
    }

    #[test]
    fn exchange_helpers() {
        let e = WireExchange {
            function: Es9Function::InitiateAuthentication,
            binding: Binding::Json,
            url: "https://x/gsma/rsp2/es9plus/initiateAuthentication".into(),
            request_headers: vec![("X-Admin-Protocol".into(), "gsma/rsp/v2.2.2".into())],
            request_body: b"{}".to_vec(),
            request_der: vec![
                DerField {
                    name: "euiccInfo1".into(),
                    der: vec![0xBF, 0x20, 0x03, 0x82, 0x01, 0x00],
                },
                DerField {
                    name: "euiccChallenge".into(),
                    der: vec![0x30, 0x00],
                },
            ],
            status: Some(200),
            response_headers: vec![],
            response_body: vec![],
            response_der: vec![],
            error: None,
        };
        assert_eq!(e.request_admin_protocol(), Some(Svn::new(2, 2, 2)));
        assert_eq!(
            e.request_tag_paths(),
            ["euiccInfo1:BF20", "euiccInfo1:BF20/82"]
        );
        let log = WireLog::default();
        log.record(e);
        assert_eq!(
            log.sent_tag_paths(),
            [
                "InitiateAuthentication:euiccInfo1:BF20",
                "InitiateAuthentication:euiccInfo1:BF20/82"
            ]
        );
        assert!(log.to_json().is_array());
    }
}
