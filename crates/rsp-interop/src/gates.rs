//! Counting the v3-only elements a v2 receiver gets, with the message gates as the only source
//! of truth.
//!
//! A message is decoded with its `rsp-sgp22` type and checked with
//! `check_tlv_gates(&v2 profile)`. That check names the first violation only, so to count them
//! all the checker is used as an oracle: the element whose removal (at the TLV level, lengths
//! rebuilt) makes that violation go away is located, recorded with its tag path, removed, and the
//! check runs again, until the message passes. No tag list is written here: which element is a
//! violation is decided by the gates declared on the message types.

use rsp_lpa::{Es9Function, WireLog};
use rsp_sgp22::{
    AuthenticateServerResponse, DerTlv, GateViolation, PendingNotification,
    PrepareDownloadResponse, Profile, RemoteProfileProvisioningRequest,
    RemoteProfileProvisioningResponse, ServerSigned1, SmdpSigned2, StoreMetadataRequest,
};
use rsp_types::tlv;

/// The receiver profile of a peer that negotiated v2.
pub const V2_PEER: Profile = Profile::new(rsp_sgp22::version::V2_MAX);

/// One v3-only element found in a message for a v2 peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The wire field (`serverSigned1`, `authenticateServerResponse`, ...; `request-body` /
    /// `response-body` for the ASN.1 binding).
    pub field: String,
    /// What the gate says.
    pub gate: GateViolation,
    /// The element's tag path in the field's DER (`BF38/A0/30/A0/A1/A5`), when located.
    pub path: Option<String>,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.path {
            Some(p) => write!(f, "{}: {} (at {p})", self.field, self.gate),
            None => write!(f, "{}: {}", self.field, self.gate),
        }
    }
}

/// What checking one field gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldCheck {
    /// Decoded and checked: the violations (empty = clean).
    Checked(Vec<Violation>),
    /// The field has no gated message type (certificates, signatures, key ids, the BPP).
    NotGated,
    /// The bytes did not decode as the field's type.
    Undecodable(String),
}

/// Every element of `der` as (start offset, tag path, depth), constructed ones descended.
fn nodes(der: &[u8]) -> Vec<(usize, String, usize)> {
    fn walk(
        buf: &[u8],
        base: usize,
        prefix: &str,
        depth: usize,
        out: &mut Vec<(usize, String, usize)>,
    ) {
        if depth > 32 {
            return;
        }
        let mut offset = 0;
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
            out.push((base + offset, path.clone(), depth));
            if t.is_constructed() {
                let header = t.raw().len() - t.value.len();
                walk(t.value, base + offset + header, &path, depth + 1, out);
            }
            offset += t.raw().len();
            rest = next;
        }
    }
    let mut out = Vec::new();
    walk(der, 0, "", 0, &mut out);
    out
}

/// `buf` (starting at absolute offset `base`) without the element starting at `target`; the
/// lengths of its ancestors are rebuilt, everything else is copied byte for byte.
fn without(buf: &[u8], base: usize, target: usize) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(buf.len());
    let mut offset = 0;
    let mut rest = buf;
    while !rest.is_empty() {
        let (t, next) = tlv::parse_one(rest).ok()?;
        let start = base + offset;
        let len = t.raw().len();
        if start == target {
            // dropped
        } else if t.is_constructed() && target > start && target < start + len {
            let header = len - t.value.len();
            let content = without(t.value, start + header, target)?;
            tlv::encode_tlv(t.tag, &content, &mut out).ok()?;
        } else {
            out.extend_from_slice(t.raw());
        }
        offset += len;
        rest = next;
    }
    Some(out)
}

fn first_violation<T: DerTlv>(der: &[u8]) -> Result<Option<GateViolation>, String> {
    let v = T::from_der(der).map_err(|e| e.to_string())?;
    Ok(v.check_tlv_gates(&V2_PEER).err())
}

/// All gate violations of `der` (a `T`) for a v2 receiver.
pub fn violations_of<T: DerTlv>(field: &str, der: &[u8]) -> FieldCheck {
    let mut current = der.to_vec();
    let mut found = Vec::new();
    // Each round removes one element; a message has at most as many violations as elements.
    for _ in 0..=nodes(der).len() {
        let first = match first_violation::<T>(&current) {
            Ok(None) => return FieldCheck::Checked(found),
            Ok(Some(v)) => v,
            Err(e) if found.is_empty() => return FieldCheck::Undecodable(e),
            Err(_) => break,
        };
        // The deepest element whose removal leaves a decodable message without this violation.
        let mut best: Option<(usize, String, Vec<u8>)> = None;
        for (offset, path, depth) in nodes(&current) {
            if best.as_ref().is_some_and(|(d, _, _)| *d >= depth) {
                continue;
            }
            let Some(next) = without(&current, 0, offset) else {
                continue;
            };
            match first_violation::<T>(&next) {
                Ok(after) if after.as_ref() != Some(&first) => best = Some((depth, path, next)),
                _ => {}
            }
        }
        match best {
            Some((_, path, next)) => {
                found.push(Violation {
                    field: field.into(),
                    gate: first,
                    path: Some(path),
                });
                current = next;
            }
            None => {
                // Not removable on its own (a CHOICE alternative, a mandatory carrier): one
                // violation, and the rest of the message cannot be examined further.
                found.push(Violation {
                    field: field.into(),
                    gate: first,
                    path: None,
                });
                break;
            }
        }
    }
    FieldCheck::Checked(found)
}

/// Checks one wire field by its name: the ES9+ JSON field names, `request-body` /
/// `response-body` for a whole ASN.1-binding body.
pub fn check_field(field: &str, der: &[u8]) -> FieldCheck {
    match field {
        "serverSigned1" => violations_of::<ServerSigned1>(field, der),
        "profileMetadata" => violations_of::<StoreMetadataRequest>(field, der),
        "smdpSigned2" => violations_of::<SmdpSigned2>(field, der),
        "authenticateServerResponse" => violations_of::<AuthenticateServerResponse>(field, der),
        "prepareDownloadResponse" => violations_of::<PrepareDownloadResponse>(field, der),
        "pendingNotification" => violations_of::<PendingNotification>(field, der),
        "request-body" => violations_of::<RemoteProfileProvisioningRequest>(field, der),
        "response-body" => violations_of::<RemoteProfileProvisioningResponse>(field, der),
        "initiateAuthenticationRequest" => {
            violations_of::<rsp_sgp22::InitiateAuthenticationRequest>(field, der)
        }
        _ => FieldCheck::NotGated,
    }
}

/// The InitiateAuthenticationRequest (`BF39`) a JSON-binding exchange carried as separate
/// fields (`euiccChallenge`, `smdpAddress`, `euiccInfo1`, `lpaRspCapability`), reassembled so
/// that its gates can be checked like the ASN.1 binding's body.
pub fn json_initiate_authentication(e: &rsp_lpa::WireExchange) -> Option<Vec<u8>> {
    let json = e.request_json()?;
    let address = json.get("smdpAddress")?.as_str()?;
    let mut content = Vec::new();
    let tag = |n: u32| tlv::Tag::from_u32(n).ok();
    tlv::encode_tlv(tag(0x81)?, e.request_field("euiccChallenge")?, &mut content).ok()?;
    tlv::encode_tlv(tag(0x83)?, address.as_bytes(), &mut content).ok()?;
    content.extend_from_slice(e.request_field("euiccInfo1")?);
    if let Some(cap) = e.request_field("lpaRspCapability") {
        // The BIT STRING TLV as sent, re-tagged IMPLICIT [5].
        let bits = tlv::parse_single(cap).ok()?;
        tlv::encode_tlv(tag(0x85)?, bits.value, &mut content).ok()?;
    }
    let mut out = Vec::new();
    tlv::encode_tlv(tag(0xBF39)?, &content, &mut out).ok()?;
    Some(out)
}

/// What a whole wire log showed a v2 peer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct V2PeerAudit {
    /// Gate violations in what reached the peer after its version was known.
    pub violations: Vec<Violation>,
    /// Violations in InitiateAuthenticationRequest, sent before the server's version is known
    /// (sgp22.md §6 lets a v3 LPA offer lpaRspCapability there; a v2 server ignores it): reported,
    /// not counted.
    pub before_version_known: Vec<Violation>,
    /// `function field: outcome` for every DER field looked at.
    pub fields: Vec<String>,
    /// Fields that did not decode as their type.
    pub undecodable: Vec<String>,
}

/// Audits every server response and every request of `log` as received by a v2 peer.
pub fn audit_towards_v2(log: &WireLog) -> V2PeerAudit {
    let mut audit = V2PeerAudit::default();
    for e in log.exchanges() {
        let before = e.function == Es9Function::InitiateAuthentication;
        let mut request = e.request_der.clone();
        if before && e.binding == rsp_lpa::Binding::Json {
            // Its fields are parts of one gated message: check that message.
            request = json_initiate_authentication(&e)
                .map(|der| {
                    vec![rsp_lpa::wire::DerField {
                        name: "initiateAuthenticationRequest".into(),
                        der,
                    }]
                })
                .unwrap_or_default();
        }
        let sides = [
            (&request, "request", true),
            (&e.response_der, "response", false),
        ];
        for (fields, side, is_request) in sides {
            for f in fields.iter() {
                let name = if f.name == "body" {
                    format!("{side}-body")
                } else {
                    f.name.clone()
                };
                let what = format!("{:?} {side} {name}", e.function);
                match check_field(&name, &f.der) {
                    FieldCheck::Checked(v) => {
                        audit
                            .fields
                            .push(format!("{what}: {} v3 element(s)", v.len()));
                        if before && is_request {
                            audit.before_version_known.extend(v);
                        } else {
                            audit.violations.extend(v);
                        }
                    }
                    FieldCheck::NotGated => audit.fields.push(format!("{what}: no gated type")),
                    FieldCheck::Undecodable(err) => {
                        audit.undecodable.push(format!("{what}: {err}"));
                    }
                }
            }
        }
    }
    audit
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn removing_an_element_rebuilds_only_its_ancestors() {
        // 30 { A5 { 80 01 03, 04 81 90 <144 bytes> }, 86 01 00 }: long-form lengths on the path.
        let mut inner = vec![0x80, 0x01, 0x03, 0x04, 0x81, 0x90];
        inner.extend(std::iter::repeat_n(0xAB, 0x90));
        let mut a5 = Vec::new();
        tlv::encode_tlv(tlv::Tag::from_u32(0xA5).unwrap(), &inner, &mut a5).unwrap();
        let mut content = a5.clone();
        content.extend([0x86, 0x01, 0x00]);
        let mut der = Vec::new();
        tlv::encode_tlv(tlv::Tag::from_u32(0x30).unwrap(), &content, &mut der).unwrap();

        let n = nodes(&der);
        let paths: Vec<&str> = n.iter().map(|(_, p, _)| p.as_str()).collect();
        assert_eq!(paths, ["30", "30/A5", "30/A5/80", "30/A5/04", "30/86"]);
        // Nothing to remove: identical bytes.
        assert_eq!(without(&der, 0, usize::MAX).unwrap(), der);
        // Remove the long OCTET STRING: A5 and 30 shrink to short-form lengths.
        let (off, _, _) = n[3];
        let out = without(&der, 0, off).unwrap();
        assert_eq!(
            out,
            [0x30, 0x08, 0xA5, 0x03, 0x80, 0x01, 0x03, 0x86, 0x01, 0x00]
        );
        // Remove 86: A5 copied byte for byte.
        let (off, _, _) = n[4];
        let out = without(&der, 0, off).unwrap();
        assert_eq!(&out[out.len() - a5.len()..], a5.as_slice());
        // Garbage: no panic, no result.
        assert!(without(&[0x30, 0x05, 0x01], 0, 0).is_none());
    }
}
