//! The SGP.22 JSON binding (sgp22.md §8): request/response bodies of ES9+ (LPA ↔ SM-DP+) and
//! ES2+ (Operator ↔ SM-DP+), the common header, binary-field codecs and `X-Admin-Protocol`.
//! Pure serde: no HTTP here.
//!
//! Rules (strict out, lenient in):
//! - JSON names are the camelCase names of sgp22.md §8 (`euiccCiPKIdToBeUsed` keeps its capitals).
//! - Unknown fields are ignored on input, always (a v3 peer's extra fields reach a v2 reader).
//! - Absent optional fields are omitted on output and accepted as absent on input.
//! - Binary fields are base64 ([`b64`]): standard alphabet, padded on output; on input padding
//!   is optional and whitespace (including newlines) is ignored.
//! - `transactionId` is upper-case hex on output, either case on input ([`hex_tid`]).
//! - ES9+ requests from the LPA carry no `header`; ES2+ requests carry a [`RequestHeader`];
//!   every response with a body carries a [`ResponseHeader`] ([`Response`]).
//!
//! Binary fields hold the DER of one ASN.1 object each (exact bytes, never re-encoded here):
//!
//! | JSON field | content |
//! |---|---|
//! | `euiccChallenge` | the 16 raw bytes of `Octet16` (no TLV) |
//! | `euiccInfo1` | DER `EUICCInfo1` (`BF20 …`) |
//! | `lpaRspCapability` (v3) | DER `LpaRspCapability` BIT STRING TLV as sent by the LPA |
//! | `serverSigned1` | DER `ServerSigned1` (`30 …`), the signed bytes |
//! | `serverSignature1`, `smdpSignature2` | the signature **with** its `5F37 40` TLV header (sgp22.md §8.4) |
//! | `euiccCiPKIdToBeUsed` | DER `SubjectKeyIdentifier` OCTET STRING TLV (`04 14 …`) |
//! | `serverCertificate`, `smdpCertificate`, `otherCertsInChain[]` | DER X.509 certificates |
//! | `crlList[]` | DER CRLs |
//! | `authenticateServerResponse` | DER `AuthenticateServerResponse` (`BF38 …`) |
//! | `deleteNotificationForDc` (v3) | DER of the element as sent |
//! | `profileMetadata` | DER `StoreMetadataRequest` (`BF25 …`) |
//! | `smdpSigned2` | DER `SmdpSigned2` (`30 …`) |
//! | `prepareDownloadResponse` | DER `PrepareDownloadResponse` (`BF21 …`) |
//! | `boundProfilePackage` | DER `BoundProfilePackage` (`BF36 …`) |
//! | `pendingNotification` | DER `PendingNotification` (`BF37 …` or `30 …`) |
//! | `cancelSessionResponse` | DER `CancelSessionResponse` (`BF41 …`) |
//! | `resultData` (ES2+) | DER of the result, e.g. the `ProfileInstallationResult` (`BF37 …`) |
//!
//! The fields are opaque bytes here: the ES9+ code decides what a TLV means (for example it strips
//! the `5F37` header before verifying a signature).

use std::fmt;

use rsp_types::{FunctionExecutionStatus, Svn, SvnError};
use serde::{Deserialize, Serialize};

use crate::types::TransactionId;

/// `Content-Type` of JSON requests and responses.
pub const CONTENT_TYPE: &str = "application/json;charset=UTF-8";
/// Name of the protocol version header.
pub const ADMIN_PROTOCOL_HEADER: &str = "X-Admin-Protocol";

// ---- field codecs -------------------------------------------------------------------------------

/// Base64 of bytes (serde `with`): standard alphabet, padded on output; padding optional and
/// whitespace ignored on input.
pub mod b64 {
    use base64::Engine;
    use base64::engine::DecodePaddingMode;
    use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
    use serde::{Deserialize, Deserializer, Serializer};

    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );

    /// Encodes (padded, standard alphabet).
    pub fn encode(bytes: &[u8]) -> String {
        STANDARD.encode(bytes)
    }

    /// Decodes leniently: ASCII whitespace anywhere is ignored, padding is optional.
    pub fn decode(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
        let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        LENIENT.decode(compact.as_bytes())
    }

    /// Serde serializer.
    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&encode(bytes))
    }

    /// Serde deserializer.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(d)?;
        decode(&text).map_err(serde::de::Error::custom)
    }
}

/// [`b64`] for an optional field (use with `#[serde(default, skip_serializing_if = "Option::is_none")]`).
pub mod opt_b64 {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serde serializer.
    pub fn serialize<S: Serializer>(bytes: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match bytes {
            Some(b) => super::b64::serialize(b, s),
            None => s.serialize_none(),
        }
    }

    /// Serde deserializer (`null` is absent).
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        match Option::<std::borrow::Cow<str>>::deserialize(d)? {
            Some(text) => super::b64::decode(&text)
                .map(Some)
                .map_err(serde::de::Error::custom),
            None => Ok(None),
        }
    }
}

/// [`b64`] for a list of binary values (`otherCertsInChain`, `crlList`).
pub mod opt_b64_list {
    use serde::ser::SerializeSeq;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serde serializer.
    pub fn serialize<S: Serializer>(v: &Option<Vec<Vec<u8>>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&super::b64::encode(item))?;
                }
                seq.end()
            }
            None => s.serialize_none(),
        }
    }

    /// Serde deserializer (`null` is absent).
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<Vec<u8>>>, D::Error> {
        match Option::<Vec<String>>::deserialize(d)? {
            Some(items) => items
                .iter()
                .map(|t| super::b64::decode(t).map_err(serde::de::Error::custom))
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            None => Ok(None),
        }
    }
}

/// Why a hex `transactionId` was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransactionIdTextError {
    /// Not an even number of hex digits.
    #[error("transactionId is not hex: {0}")]
    NotHex(String),
    /// Not 1..=16 bytes.
    #[error(transparent)]
    Length(#[from] crate::types::TransactionIdLengthError),
}

/// Parses a `transactionId` (hex, either case, surrounding whitespace ignored).
pub fn parse_transaction_id(text: &str) -> Result<TransactionId, TransactionIdTextError> {
    let t = text.trim();
    if !t.len().is_multiple_of(2) || !t.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(TransactionIdTextError::NotHex(t.chars().take(40).collect()));
    }
    let bytes: Vec<u8> = t
        .as_bytes()
        .chunks(2)
        .map(|pair| {
            let hi = hex_val(pair.first().copied().unwrap_or(b'0'));
            let lo = hex_val(pair.get(1).copied().unwrap_or(b'0'));
            (hi << 4) | lo
        })
        .collect();
    Ok(TransactionId::new(&bytes)?)
}

fn hex_val(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        b'A'..=b'F' => c - b'A' + 10,
        _ => 0,
    }
}

/// `transactionId` as upper-case hex (serde `with`).
pub mod hex_tid {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::types::TransactionId;

    /// Serde serializer (upper-case hex).
    pub fn serialize<S: Serializer>(tid: &TransactionId, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(tid)
    }

    /// Serde deserializer (either case).
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<TransactionId, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(d)?;
        super::parse_transaction_id(&text).map_err(serde::de::Error::custom)
    }
}

/// [`hex_tid`] for an optional field.
pub mod opt_hex_tid {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::types::TransactionId;

    /// Serde serializer.
    pub fn serialize<S: Serializer>(tid: &Option<TransactionId>, s: S) -> Result<S::Ok, S::Error> {
        match tid {
            Some(t) => s.collect_str(t),
            None => s.serialize_none(),
        }
    }

    /// Serde deserializer (`null` is absent).
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<TransactionId>, D::Error> {
        match Option::<std::borrow::Cow<str>>::deserialize(d)? {
            Some(text) => super::parse_transaction_id(&text)
                .map(Some)
                .map_err(serde::de::Error::custom),
            None => Ok(None),
        }
    }
}

// ---- header -------------------------------------------------------------------------------------

/// `header` of an ES2+ request (§6.5.1.3). ES9+ requests from the LPA have none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestHeader {
    /// `functionRequesterIdentifier`: who calls.
    pub function_requester_identifier: String,
    /// `functionCallIdentifier`: the call's id; a retry reuses it (idempotent).
    pub function_call_identifier: String,
}

/// `header` of a response (§6.5.1.4): the function execution status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResponseHeader {
    /// `functionExecutionStatus`.
    pub function_execution_status: FunctionExecutionStatus,
}

impl ResponseHeader {
    /// `Executed-Success`.
    pub fn success() -> ResponseHeader {
        ResponseHeader {
            function_execution_status: FunctionExecutionStatus::success(),
        }
    }

    /// A header with this status.
    pub fn with_status(status: FunctionExecutionStatus) -> ResponseHeader {
        ResponseHeader {
            function_execution_status: status,
        }
    }
}

/// A response: the header and, when the function succeeded, its output fields (flattened next
/// to `header`). On input, a body whose mandatory fields are absent (the usual failure shape)
/// or do not decode is `None`: check the header status first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Response<T> {
    /// `header`.
    pub header: ResponseHeader,
    /// The output fields.
    #[serde(flatten, default = "Option::default")]
    pub body: Option<T>,
}

impl<T> Response<T> {
    /// `Executed-Success` with `body`.
    pub fn ok(body: T) -> Response<T> {
        Response {
            header: ResponseHeader::success(),
            body: Some(body),
        }
    }

    /// A failure (or any status) without body.
    pub fn status(status: FunctionExecutionStatus) -> Response<T> {
        Response {
            header: ResponseHeader::with_status(status),
            body: None,
        }
    }
}

/// An empty output (functions whose response is the header only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Empty {}

/// A response that is the header only (ES9+ CancelSession, ES2+ CancelOrder / ReleaseProfile).
pub type HeaderOnly = Response<Empty>;

// ---- ES9+ -----------------------------------------------------------------------------------------

/// ES9+ `initiateAuthentication` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InitiateAuthenticationRequest {
    /// `euiccChallenge` (16 bytes).
    #[serde(with = "b64")]
    pub euicc_challenge: Vec<u8>,
    /// `euiccInfo1` (DER EUICCInfo1).
    #[serde(with = "b64")]
    pub euicc_info1: Vec<u8>,
    /// `smdpAddress` (FQDN, plain text).
    pub smdp_address: String,
    /// v3 `lpaRspCapability`.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_b64")]
    pub lpa_rsp_capability: Option<Vec<u8>>,
}

/// ES9+ `initiateAuthentication` output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InitiateAuthenticationOk {
    /// `transactionId`.
    #[serde(with = "hex_tid")]
    pub transaction_id: TransactionId,
    /// `serverSigned1` (DER ServerSigned1).
    #[serde(with = "b64")]
    pub server_signed1: Vec<u8>,
    /// `serverSignature1` (with the `5F37 40` header).
    #[serde(with = "b64")]
    pub server_signature1: Vec<u8>,
    /// `euiccCiPKIdToBeUsed` (`04 14 <SKI>`).
    #[serde(rename = "euiccCiPKIdToBeUsed", with = "b64")]
    pub euicc_ci_pk_id_to_be_used: Vec<u8>,
    /// `serverCertificate` (CERT.DPauth).
    #[serde(with = "b64")]
    pub server_certificate: Vec<u8>,
    /// v3 `otherCertsInChain`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "opt_b64_list"
    )]
    pub other_certs_in_chain: Option<Vec<Vec<u8>>>,
    /// v3 `crlList`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "opt_b64_list"
    )]
    pub crl_list: Option<Vec<Vec<u8>>>,
}

/// ES9+ `initiateAuthentication` response.
pub type InitiateAuthenticationResponse = Response<InitiateAuthenticationOk>;

/// ES9+ `authenticateClient` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthenticateClientRequest {
    /// `transactionId`.
    #[serde(with = "hex_tid")]
    pub transaction_id: TransactionId,
    /// `authenticateServerResponse` (DER AuthenticateServerResponse).
    #[serde(with = "b64")]
    pub authenticate_server_response: Vec<u8>,
    /// v3 `deleteNotificationForDc`.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_b64")]
    pub delete_notification_for_dc: Option<Vec<u8>>,
}

/// ES9+ `authenticateClient` output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthenticateClientOk {
    /// `transactionId`.
    #[serde(with = "hex_tid")]
    pub transaction_id: TransactionId,
    /// `profileMetadata` (DER StoreMetadataRequest).
    #[serde(with = "b64")]
    pub profile_metadata: Vec<u8>,
    /// `smdpSigned2` (DER SmdpSigned2).
    #[serde(with = "b64")]
    pub smdp_signed2: Vec<u8>,
    /// `smdpSignature2` (with the `5F37 40` header).
    #[serde(with = "b64")]
    pub smdp_signature2: Vec<u8>,
    /// `smdpCertificate` (CERT.DPpb).
    #[serde(with = "b64")]
    pub smdp_certificate: Vec<u8>,
}

/// ES9+ `authenticateClient` response.
pub type AuthenticateClientResponse = Response<AuthenticateClientOk>;

/// ES9+ `getBoundProfilePackage` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetBoundProfilePackageRequest {
    /// `transactionId`.
    #[serde(with = "hex_tid")]
    pub transaction_id: TransactionId,
    /// `prepareDownloadResponse` (DER PrepareDownloadResponse).
    #[serde(with = "b64")]
    pub prepare_download_response: Vec<u8>,
}

/// ES9+ `getBoundProfilePackage` output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetBoundProfilePackageOk {
    /// `transactionId`.
    #[serde(with = "hex_tid")]
    pub transaction_id: TransactionId,
    /// `boundProfilePackage` (DER BoundProfilePackage).
    #[serde(with = "b64")]
    pub bound_profile_package: Vec<u8>,
}

/// ES9+ `getBoundProfilePackage` response.
pub type GetBoundProfilePackageResponse = Response<GetBoundProfilePackageOk>;

/// ES9+ `handleNotification` request (answered HTTP 204, no body).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HandleNotificationRequest {
    /// `pendingNotification` (DER PendingNotification).
    #[serde(with = "b64")]
    pub pending_notification: Vec<u8>,
}

/// ES9+ `cancelSession` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelSessionRequest {
    /// `transactionId`.
    #[serde(with = "hex_tid")]
    pub transaction_id: TransactionId,
    /// `cancelSessionResponse` (DER CancelSessionResponse).
    #[serde(with = "b64")]
    pub cancel_session_response: Vec<u8>,
}

/// ES9+ `cancelSession` output: nothing but the header per SGP.22 (osmo-smdpp echoes the
/// `transactionId`; accepted, and emitted only when set).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelSessionOk {
    /// `transactionId`, optional echo.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_hex_tid")]
    pub transaction_id: Option<TransactionId>,
}

/// ES9+ `cancelSession` response.
pub type CancelSessionResponse = Response<CancelSessionOk>;

// ---- ES2+ -----------------------------------------------------------------------------------------
//
// Identifiers (`eid`, `iccid`) stay text here: the SM-DP+ validates them and answers a functional
// error (HTTP 200, Failed) for a bad value instead of refusing the JSON. Conditional and mandatory
// inputs are `Option` for the same reason.

/// ES2+ `downloadOrder` request.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DownloadOrderRequest {
    /// `header`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<RequestHeader>,
    /// `eid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eid: Option<String>,
    /// `iccid` (this or `profileType`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iccid: Option<String>,
    /// `profileType` (this or `iccid`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_type: Option<String>,
}

/// ES2+ `downloadOrder` output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DownloadOrderOk {
    /// `iccid` of the reserved profile.
    pub iccid: String,
}

/// ES2+ `downloadOrder` response.
pub type DownloadOrderResponse = Response<DownloadOrderOk>;

/// ES2+ `confirmOrder` request.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfirmOrderRequest {
    /// `header`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<RequestHeader>,
    /// `iccid` (mandatory).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iccid: Option<String>,
    /// `eid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eid: Option<String>,
    /// `matchingId`: absent → the SM-DP+ generates one; `""` → none (matched by EID).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matching_id: Option<String>,
    /// `confirmationCode`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmation_code: Option<String>,
    /// `smdsAddress`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smds_address: Option<String>,
    /// `releaseFlag` (mandatory).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_flag: Option<bool>,
}

/// ES2+ `confirmOrder` output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfirmOrderOk {
    /// `eid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eid: Option<String>,
    /// `matchingId` (mandatory; `""` when the order has none).
    pub matching_id: String,
    /// `smdpAddress`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smdp_address: Option<String>,
}

/// ES2+ `confirmOrder` response.
pub type ConfirmOrderResponse = Response<ConfirmOrderOk>;

/// ES2+ `cancelOrder` request.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelOrderRequest {
    /// `header`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<RequestHeader>,
    /// `iccid` (mandatory).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iccid: Option<String>,
    /// `eid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eid: Option<String>,
    /// `matchingId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matching_id: Option<String>,
    /// `finalProfileStatusIndicator` (mandatory): `Available` or `Unavailable`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_profile_status_indicator: Option<String>,
}

/// ES2+ `releaseProfile` request.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseProfileRequest {
    /// `header`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<RequestHeader>,
    /// `iccid` (mandatory).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iccid: Option<String>,
}

/// ES2+ `handleDownloadProgressInfo` request (SM-DP+ → Operator; answered HTTP 204).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HandleDownloadProgressInfoRequest {
    /// `header`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<RequestHeader>,
    /// `eid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eid: Option<String>,
    /// `iccid`.
    pub iccid: String,
    /// `profileType`.
    pub profile_type: String,
    /// `timestamp` (`YYYY-MM-DDThh:mm:ssTZD`).
    pub timestamp: String,
    /// `notificationPointId` (1 eligibility / retry check, 2 confirmation failure, 3 BPP
    /// download, 4 BPP installation; U-41).
    pub notification_point_id: i64,
    /// `notificationPointStatus`.
    pub notification_point_status: FunctionExecutionStatus,
    /// `resultData` (e.g. the DER ProfileInstallationResult).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_b64")]
    pub result_data: Option<Vec<u8>>,
    /// `imei`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imei: Option<String>,
}

// ---- X-Admin-Protocol -----------------------------------------------------------------------------

/// Formats an `X-Admin-Protocol` value: `gsma/rsp/v3.1.0`.
pub fn format_admin_protocol(version: Svn) -> String {
    version.admin_protocol()
}

/// Parses an `X-Admin-Protocol` value: `gsma/rsp/vX.Y.Z`, leniently also `gsma/rsp/vX.Y`
/// (revision 0); prefix case-insensitive, surrounding whitespace ignored.
pub fn parse_admin_protocol(value: &str) -> Result<Svn, SvnError> {
    match Svn::parse_admin_protocol(value) {
        Ok(v) => Ok(v),
        Err(first) => {
            let t = value.trim();
            let two_parts = t
                .get(rsp_types::svn::ADMIN_PROTOCOL_PREFIX.len()..)
                .is_some_and(|rest| rest.split('.').count() == 2);
            if two_parts {
                Svn::parse_admin_protocol(&format!("{t}.0")).map_err(|_| first)
            } else {
                Err(first)
            }
        }
    }
}

/// What this side supports, for [`AdminProtocolPolicy::common_version`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdminProtocolPolicy {
    /// Our own version (what we send when the peer is at least as high).
    pub ours: Svn,
    /// The lowest version we still serve; also what an absent or unreadable header is taken as.
    pub lowest: Svn,
}

/// The peer's `X-Admin-Protocol` is below what we serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("protocol version {peer} is not supported (lowest supported {lowest})")]
pub struct UnsupportedAdminProtocol {
    /// The peer's version.
    pub peer: Svn,
    /// Our lowest version.
    pub lowest: Svn,
}

impl fmt::Display for AdminProtocolPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..={}", self.lowest, self.ours)
    }
}

impl AdminProtocolPolicy {
    /// The version both sides use for one exchange (answered in the response header):
    /// - the lower of ours and the peer's;
    /// - an absent or unreadable header is taken as [`AdminProtocolPolicy::lowest`]
    ///   (conservative: a peer that did not say is never sent anything newer than what we
    ///   serve at the bottom);
    /// - a peer above us (a higher major included) gets ours: the lower side decides;
    /// - a peer whose major version is below our lowest major is refused
    ///   ([`UnsupportedAdminProtocol`], to be answered as `1.3.2`/`3.1`). Within a supported
    ///   major, a lower minor is accepted and used.
    pub fn common_version(&self, peer: Option<&str>) -> Result<Svn, UnsupportedAdminProtocol> {
        let Some(peer) = peer.and_then(|v| parse_admin_protocol(v).ok()) else {
            return Ok(self.lowest.min(self.ours));
        };
        if peer.major < self.lowest.major {
            return Err(UnsupportedAdminProtocol {
                peer,
                lowest: self.lowest,
            });
        }
        Ok(peer.min(self.ours))
    }
}

// ---- CMA bodies ↔ DER (ES9+ and ES11 share them) -------------------------------------------------

/// A JSON field whose content is not what the function expects (answered `1.6`/`2.1`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    /// The JSON field name.
    pub field: &'static str,
    /// What is wrong.
    pub message: String,
}

impl FieldError {
    fn new(field: &'static str, e: impl fmt::Display) -> FieldError {
        FieldError {
            field,
            message: e.to_string(),
        }
    }
}

/// `lpaRspCapability` as sent: a BIT STRING TLV (`03` or the context tag `85`).
pub fn lpa_rsp_capability_from_json(bytes: &[u8]) -> Result<crate::LpaRspCapability, FieldError> {
    let field = "lpaRspCapability";
    let t = rsp_types::tlv::parse_single(bytes).map_err(|e| FieldError::new(field, e))?;
    if !matches!(t.tag.value(), 0x03 | 0x85) {
        return Err(FieldError::new(field, "not a BIT STRING"));
    }
    crate::BitString::from_content(t.value, "LpaRspCapability")
        .map(crate::LpaRspCapability)
        .map_err(|e| FieldError::new(field, e))
}

/// The DER `InitiateAuthenticationRequest` of a JSON `initiateAuthentication` body (the
/// address is `smdpAddress` on ES9+, `smdsAddress` on ES11).
pub fn initiate_authentication_from_json(
    euicc_challenge: &[u8],
    euicc_info1: &[u8],
    address: String,
    lpa_rsp_capability: Option<&[u8]>,
) -> Result<crate::InitiateAuthenticationRequest, FieldError> {
    let euicc_challenge = <[u8; 16]>::try_from(euicc_challenge)
        .map(crate::Octet16)
        .map_err(|_| FieldError::new("euiccChallenge", "must be 16 bytes"))?;
    let euicc_info1 =
        crate::EuiccInfo1::decode(euicc_info1).map_err(|e| FieldError::new("euiccInfo1", e))?;
    let lpa_rsp_capability = lpa_rsp_capability
        .map(lpa_rsp_capability_from_json)
        .transpose()?;
    Ok(crate::InitiateAuthenticationRequest {
        euicc_challenge,
        smdp_address: address,
        euicc_info1,
        lpa_rsp_capability,
        unknown_tags: vec![],
    })
}

/// The JSON `initiateAuthentication` output of a DER one (signature with its `5F37` header,
/// `euiccCiPKIdToBeUsed` as an OCTET STRING TLV).
pub fn initiate_authentication_ok_to_json(
    ok: &crate::InitiateAuthenticationOk,
) -> InitiateAuthenticationOk {
    let mut ski = Vec::with_capacity(ok.euicc_ci_pk_id_to_be_used.len() + 2);
    if let Ok(tag) = rsp_types::tlv::Tag::from_u32(0x04) {
        let _ = rsp_types::tlv::encode_tlv(tag, &ok.euicc_ci_pk_id_to_be_used, &mut ski);
    }
    InitiateAuthenticationOk {
        transaction_id: ok.transaction_id.clone(),
        server_signed1: ok.server_signed1.raw().to_vec(),
        server_signature1: crate::cma::signature_tlv(&ok.server_signature1),
        euicc_ci_pk_id_to_be_used: ski,
        server_certificate: ok.server_certificate.0.clone(),
        other_certs_in_chain: None,
        crl_list: None,
    }
}

/// The DER `AuthenticateClientRequest` of a JSON `authenticateClient` body.
pub fn authenticate_client_from_json(
    r: &AuthenticateClientRequest,
) -> Result<crate::AuthenticateClientRequest, FieldError> {
    let asr = crate::AuthenticateServerResponse::decode(&r.authenticate_server_response)
        .map_err(|e| FieldError::new("authenticateServerResponse", e))?;
    Ok(crate::AuthenticateClientRequest {
        transaction_id: r.transaction_id.clone(),
        authenticate_server_response: asr,
        delete_notification_for_dc: None,
        unknown_tags: vec![],
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use proptest::prelude::*;
    use rsp_types::codes::sgp22::status;

    #[test]
    fn base64_is_strict_out_lenient_in() {
        assert_eq!(b64::encode(&[0xFB, 0xFF]), "+/8=");
        assert_eq!(b64::decode("+/8=").unwrap(), vec![0xFB, 0xFF]);
        assert_eq!(b64::decode("+/8").unwrap(), vec![0xFB, 0xFF]);
        assert_eq!(b64::decode(" +/\n8=\r\n").unwrap(), vec![0xFB, 0xFF]);
        assert!(
            b64::decode("-_8=").is_err(),
            "URL-safe alphabet is not accepted"
        );
        assert!(b64::decode("+/8=x").is_err());
    }

    #[test]
    fn transaction_id_hex() {
        let tid = parse_transaction_id("0a1B").unwrap();
        assert_eq!(tid.as_bytes(), &[0x0A, 0x1B]);
        assert_eq!(tid.to_string(), "0A1B");
        assert!(parse_transaction_id("").is_err());
        assert!(parse_transaction_id("ABC").is_err());
        assert!(parse_transaction_id("ZZ").is_err());
        assert!(parse_transaction_id(&"00".repeat(17)).is_err());
        assert!(parse_transaction_id(&"00".repeat(16)).is_ok());
    }

    #[test]
    fn initiate_authentication_round_trip_and_field_names() {
        let req: InitiateAuthenticationRequest = serde_json::from_str(
            r#"{"euiccChallenge":"AAECAwQFBgcICQoLDA0ODw","euiccInfo1":"vyAA",
                "smdpAddress":"smdp.example.com","futureField":{"x":1}}"#,
        )
        .unwrap();
        assert_eq!(req.euicc_challenge, (0u8..16).collect::<Vec<_>>());
        assert_eq!(req.euicc_info1, vec![0xBF, 0x20, 0x00]);
        assert!(req.lpa_rsp_capability.is_none());
        let out = serde_json::to_value(&req).unwrap();
        assert_eq!(out["euiccChallenge"], "AAECAwQFBgcICQoLDA0ODw==");
        assert!(out.get("lpaRspCapability").is_none());

        let ok = InitiateAuthenticationOk {
            transaction_id: TransactionId::new(&[0xAB; 16]).unwrap(),
            server_signed1: vec![0x30, 0x00],
            server_signature1: vec![0x5F, 0x37, 0x40],
            euicc_ci_pk_id_to_be_used: vec![0x04, 0x14],
            server_certificate: vec![0x30, 0x01, 0x00],
            other_certs_in_chain: None,
            crl_list: None,
        };
        let json = serde_json::to_value(Response::ok(ok.clone())).unwrap();
        assert_eq!(
            json["header"]["functionExecutionStatus"]["status"],
            "Executed-Success"
        );
        assert_eq!(json["transactionId"], "AB".repeat(16));
        assert!(json.get("euiccCiPKIdToBeUsed").is_some());
        assert!(json.get("otherCertsInChain").is_none());
        let back: InitiateAuthenticationResponse = serde_json::from_value(json).unwrap();
        assert_eq!(back.body, Some(ok));
    }

    #[test]
    fn failure_response_has_no_body() {
        let resp: AuthenticateClientResponse =
            Response::status(status::MATCHING_ID_REFUSED.failed());
        let text = serde_json::to_string(&resp).unwrap();
        assert_eq!(
            text,
            r#"{"header":{"functionExecutionStatus":{"status":"Failed","statusCodeData":{"subjectCode":"8.2.6","reasonCode":"3.8"}}}}"#
        );
        let back: AuthenticateClientResponse = serde_json::from_str(&text).unwrap();
        assert!(back.body.is_none());
        assert!(
            back.header
                .function_execution_status
                .is(&status::MATCHING_ID_REFUSED)
        );
        let empty: HeaderOnly = serde_json::from_str(&text).unwrap();
        assert_eq!(empty.body, Some(Empty {}));
    }

    #[test]
    fn es2plus_bodies() {
        let req: ConfirmOrderRequest = serde_json::from_str(
            r#"{"header":{"functionRequesterIdentifier":"op","functionCallIdentifier":"c1"},
                "iccid":"89000123456789012341","matchingId":"","releaseFlag":true,"x":[]}"#,
        )
        .unwrap();
        assert_eq!(req.matching_id.as_deref(), Some(""));
        assert_eq!(req.release_flag, Some(true));
        assert_eq!(req.header.unwrap().function_call_identifier, "c1");
        let info = HandleDownloadProgressInfoRequest {
            header: None,
            eid: None,
            iccid: "89000123456789012341".into(),
            profile_type: "T".into(),
            timestamp: "2024-01-01T00:00:00Z".into(),
            notification_point_id: 4,
            notification_point_status: FunctionExecutionStatus::success(),
            result_data: Some(vec![0xBF, 0x37, 0x00]),
            imei: None,
        };
        let v = serde_json::to_value(&info).unwrap();
        assert_eq!(v["notificationPointId"], 4);
        assert_eq!(v["resultData"], "vzcA");
        assert_eq!(v["notificationPointStatus"]["status"], "Executed-Success");
        assert!(v.get("eid").is_none());
        let back: HandleDownloadProgressInfoRequest = serde_json::from_value(v).unwrap();
        assert_eq!(back, info);
    }

    #[test]
    fn admin_protocol_parse_and_common_version() {
        assert_eq!(
            parse_admin_protocol("gsma/rsp/v2.2.0").unwrap(),
            Svn::new(2, 2, 0)
        );
        assert_eq!(
            parse_admin_protocol(" GSMA/RSP/v3.1 ").unwrap(),
            Svn::new(3, 1, 0)
        );
        assert!(parse_admin_protocol("gsma/rsp/v3").is_err());
        assert!(parse_admin_protocol("v3.1.0").is_err());
        assert_eq!(format_admin_protocol(Svn::new(2, 5, 0)), "gsma/rsp/v2.5.0");
        let policy = AdminProtocolPolicy {
            ours: Svn::new(3, 1, 0),
            lowest: Svn::new(2, 0, 0),
        };
        assert_eq!(
            policy.common_version(Some("gsma/rsp/v2.2.2")),
            Ok(Svn::new(2, 2, 2))
        );
        assert_eq!(
            policy.common_version(Some("gsma/rsp/v4.0.0")),
            Ok(Svn::new(3, 1, 0))
        );
        assert_eq!(policy.common_version(None), Ok(Svn::new(2, 0, 0)));
        assert_eq!(
            policy.common_version(Some("garbage")),
            Ok(Svn::new(2, 0, 0))
        );
        assert!(policy.common_version(Some("gsma/rsp/v1.9.0")).is_err());
    }

    proptest! {
        #[test]
        fn decoders_never_panic(s in ".{0,300}") {
            let _ = b64::decode(&s);
            let _ = parse_transaction_id(&s);
            let _ = parse_admin_protocol(&s);
            let _ = serde_json::from_str::<InitiateAuthenticationRequest>(&s);
            let _ = serde_json::from_str::<AuthenticateClientResponse>(&s);
            let _ = serde_json::from_str::<ConfirmOrderRequest>(&s);
            let _ = serde_json::from_str::<HandleDownloadProgressInfoRequest>(&s);
        }

        #[test]
        fn json_shaped_input_never_panics(
            tid in "[0-9a-fA-F]{0,40}",
            b in "[A-Za-z0-9+/= \n]{0,40}",
            status in "[A-Za-z-]{0,20}",
        ) {
            let text = format!(
                r#"{{"header":{{"functionExecutionStatus":{{"status":"{status}"}}}},"transactionId":"{tid}","boundProfilePackage":"{b}"}}"#,
                b = b.replace('\n', "\\n"),
            );
            let _ = serde_json::from_str::<GetBoundProfilePackageResponse>(&text);
            let _ = serde_json::from_str::<CancelSessionRequest>(&text);
        }

        #[test]
        fn base64_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..100)) {
            prop_assert_eq!(b64::decode(&b64::encode(&bytes)).unwrap(), bytes);
        }
    }
}
