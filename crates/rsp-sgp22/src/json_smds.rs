//! The SM-DS JSON bindings (sgp22.md §8, §14): ES12 (SM-DP+ → SM-DS), ES15 (SM-DS → SM-DS) and
//! ES11 (LPA → SM-DS) bodies. Same rules as [`crate::json`] (whose header, status and base64
//! helpers are reused): unknown fields ignored, absent optionals omitted, binary as base64.
//!
//! Paths (`POST`, `Content-Type: application/json;charset=UTF-8`, `X-Admin-Protocol` both ways):
//!
//! | Interface | Path | Source |
//! |---|---|---|
//! | ES11 | `/gsma/rsp2/es11/{initiateAuthentication, authenticateClient}` | sgp22.md §8.1 [INF] |
//! | ES12 | `/gsma/rsp2/es12/{registerEvent, deleteEvent}` | project decision (U-45) |
//! | ES15 | `/gsma/rsp2/es15/{registerEvent, deleteEvent}` | project decision (U-45) |
//!
//! ES12 / ES15 field names follow SGP.22 §6.5.2.13/14 as the osmocom TTCN-3 types list them
//! (`eid`, `rspServerAddress`, `eventId`, `forwardingIndicator`); the request carries the ES2+
//! style `header`; the response is the header only. Request fields are `Option`s so that a
//! missing one is a functional error (`Failed`, `…/2.2`) rather than unparseable JSON.
//!
//! ES11: `initiateAuthentication` carries `smdsAddress` where ES9+ has `smdpAddress` (`smdpAddress`
//! is accepted too) and answers [`json::InitiateAuthenticationResponse`]; `authenticateClient`
//! takes [`json::AuthenticateClientRequest`] and answers [`Es11AuthenticateClientResponse`]: a v2
//! peer gets `eventEntries` (a JSON array of `{eventId, rspServerAddress}` [RECALL]), a v3 peer
//! `smdsSigned2` + `smdsSignature2` (base64 DER, the signature with its `5F37 40` header, as
//! `smdpSignature2`) [GAP].

use serde::{Deserialize, Serialize};

use crate::json::{self, RequestHeader, Response, b64, hex_tid, opt_b64};
use crate::types::TransactionId;

/// Base path of ES11.
pub const ES11_BASE_PATH: &str = "/gsma/rsp2/es11";
/// Base path of ES12 (U-45, project decision).
pub const ES12_BASE_PATH: &str = "/gsma/rsp2/es12";
/// Base path of ES15 (U-45, project decision).
pub const ES15_BASE_PATH: &str = "/gsma/rsp2/es15";
/// Function name of RegisterEvent (ES12 and ES15).
pub const REGISTER_EVENT: &str = "registerEvent";
/// Function name of DeleteEvent (ES12 and ES15).
pub const DELETE_EVENT: &str = "deleteEvent";
/// Function name of ES11 InitiateAuthentication.
pub const INITIATE_AUTHENTICATION: &str = "initiateAuthentication";
/// Function name of ES11 AuthenticateClient.
pub const AUTHENTICATE_CLIENT: &str = "authenticateClient";

// ---- ES12 / ES15 --------------------------------------------------------------------------------

/// `registerEvent` request (ES12 from an SM-DP+, ES15 from an Alternative SM-DS).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegisterEventRequest {
    /// `header` (mandatory).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<RequestHeader>,
    /// `eid` (mandatory, 32 digits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eid: Option<String>,
    /// `rspServerAddress` (mandatory, FQDN of the SM-DP+ or, in a cascade, of the SM-DS to ask).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rsp_server_address: Option<String>,
    /// `eventId` (mandatory).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    /// `forwardingIndicator` (mandatory boolean): register the event at the Root SM-DS too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forwarding_indicator: Option<bool>,
}

/// `deleteEvent` request (ES12 / ES15).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteEventRequest {
    /// `header` (mandatory).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<RequestHeader>,
    /// `eid` (mandatory).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eid: Option<String>,
    /// `eventId` (mandatory).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
}

/// The response of `registerEvent` and `deleteEvent`: the header only.
pub type EventResponse = json::HeaderOnly;

// ---- ES11 -----------------------------------------------------------------------------------------

/// ES11 `initiateAuthentication` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Es11InitiateAuthenticationRequest {
    /// `euiccChallenge` (16 bytes).
    #[serde(with = "b64")]
    pub euicc_challenge: Vec<u8>,
    /// `euiccInfo1` (DER EUICCInfo1).
    #[serde(with = "b64")]
    pub euicc_info1: Vec<u8>,
    /// `smdsAddress` (FQDN; `smdpAddress` accepted on input).
    #[serde(alias = "smdpAddress")]
    pub smds_address: String,
    /// v3 `lpaRspCapability`.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_b64")]
    pub lpa_rsp_capability: Option<Vec<u8>>,
}

/// ES11 `initiateAuthentication` response (the ES9+ shape).
pub type Es11InitiateAuthenticationResponse = json::InitiateAuthenticationResponse;

/// ES11 `authenticateClient` request (the ES9+ shape).
pub type Es11AuthenticateClientRequest = json::AuthenticateClientRequest;

/// One v2 event in JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventEntryJson {
    /// `eventId`.
    pub event_id: String,
    /// `rspServerAddress`.
    pub rsp_server_address: String,
}

/// ES11 `authenticateClient` output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Es11AuthenticateClientOk {
    /// `transactionId`.
    #[serde(with = "hex_tid")]
    pub transaction_id: TransactionId,
    /// v2 `eventEntries`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_entries: Option<Vec<EventEntryJson>>,
    /// v3 `smdsSigned2` (DER SmdsSigned2, `30 …`, the signed bytes).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_b64")]
    pub smds_signed2: Option<Vec<u8>>,
    /// v3 `smdsSignature2` (with the `5F37 40` header).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_b64")]
    pub smds_signature2: Option<Vec<u8>>,
}

/// ES11 `authenticateClient` response.
pub type Es11AuthenticateClientResponse = Response<Es11AuthenticateClientOk>;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn register_event_field_names() {
        let req: RegisterEventRequest = serde_json::from_str(
            r#"{"header":{"functionRequesterIdentifier":"dp","functionCallIdentifier":"1"},
                "eid":"89049032123451234512345678901235","rspServerAddress":"smdp.example.com",
                "eventId":"EV1","forwardingIndicator":false,"unknown":[1]}"#,
        )
        .unwrap();
        assert_eq!(req.forwarding_indicator, Some(false));
        assert_eq!(req.event_id.as_deref(), Some("EV1"));
        let v = serde_json::to_value(&req).unwrap();
        assert_eq!(v["rspServerAddress"], "smdp.example.com");
        assert!(v.get("unknown").is_none());
        let del: DeleteEventRequest = serde_json::from_str(r#"{"eid":"1"}"#).unwrap();
        assert!(del.event_id.is_none());
    }

    #[test]
    fn es11_bodies() {
        let ia: Es11InitiateAuthenticationRequest = serde_json::from_str(
            r#"{"euiccChallenge":"AAECAwQFBgcICQoLDA0ODw==","euiccInfo1":"vyAA","smdpAddress":"ds"}"#,
        )
        .unwrap();
        assert_eq!(ia.smds_address, "ds");
        assert_eq!(serde_json::to_value(&ia).unwrap()["smdsAddress"], "ds");
        let ok = Es11AuthenticateClientOk {
            transaction_id: TransactionId::new(&[1, 2]).unwrap(),
            event_entries: Some(vec![EventEntryJson {
                event_id: "E".into(),
                rsp_server_address: "dp".into(),
            }]),
            smds_signed2: None,
            smds_signature2: None,
        };
        let v = serde_json::to_value(Response::ok(ok.clone())).unwrap();
        assert_eq!(v["transactionId"], "0102");
        assert_eq!(v["eventEntries"][0]["rspServerAddress"], "dp");
        assert!(v.get("smdsSigned2").is_none());
        let back: Es11AuthenticateClientResponse = serde_json::from_value(v).unwrap();
        assert_eq!(back.body, Some(ok));
    }

    proptest! {
        #[test]
        fn decoders_never_panic(s in ".{0,300}") {
            let _ = serde_json::from_str::<RegisterEventRequest>(&s);
            let _ = serde_json::from_str::<DeleteEventRequest>(&s);
            let _ = serde_json::from_str::<Es11InitiateAuthenticationRequest>(&s);
            let _ = serde_json::from_str::<Es11AuthenticateClientResponse>(&s);
        }
    }
}
