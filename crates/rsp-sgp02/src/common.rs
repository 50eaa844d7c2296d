//! Simple types and the common request, response and status types of every SGP.02 function (§5.1, Annex A).

use std::borrow::Cow;

use rsp_types::status::{ReasonCode, StatusCodeData, SubjectCode};
use rsp_types::{
    Aid, Eid, EntityId, ExecutionStatus, FunctionCallIdentifier, FunctionExecutionStatus, Iccid,
    Oid, ProfileType, ValidityPeriod,
};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::{simple_type, xml_type};

// --- simple types ---------------------------------------------------------------------------------

simple_type!(
    String,
    "xs:string",
    "",
    [],
    |v| Cow::Borrowed(v.as_str()),
    |s| Ok(s.to_string())
);
simple_type!(
    bool,
    "xs:boolean",
    "",
    [],
    |v| Cow::Borrowed(if *v { "true" } else { "false" }),
    |s| match s {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        other => Err(format!("not a boolean: {other:?}")),
    }
);
simple_type!(
    u64,
    "xs:nonNegativeInteger",
    "",
    [],
    |v| Cow::Owned(v.to_string()),
    |s| s
        .trim_start_matches('+')
        .parse::<u64>()
        .map_err(|e| format!("not a non-negative integer: {e}"))
);
simple_type!(
    u8,
    "xs:unsignedByte",
    "",
    [],
    |v| Cow::Owned(v.to_string()),
    |s| s
        .parse::<u8>()
        .map_err(|e| format!("not an unsigned byte: {e}"))
);

// EIDType: the 32 EID digits, written as the hexBinary of the 16-byte BCD form (the digits themselves).
// Check digits are not enforced here (C-01: only ES1 RegisterEIS refuses a bad check value).
simple_type!(
    Eid,
    "EIDType",
    "xs:hexBinary",
    [("length", "16")],
    |v| Cow::Borrowed(v.as_str()),
    |s| Eid::parse_relaxed(s).map_err(|e| e.to_string())
);
simple_type!(
    Iccid,
    "ICCIDType",
    "xs:string",
    [("pattern", "[0-9]{19,20}")],
    |v| Cow::Borrowed(v.as_str()),
    |s| s.parse::<Iccid>().map_err(|e| e.to_string())
);
simple_type!(
    Aid,
    "AIDType",
    "xs:hexBinary",
    [("minLength", "5"), ("maxLength", "16")],
    |v| Cow::Owned(v.to_hex()),
    |s| s.parse::<Aid>().map_err(|e| e.to_string())
);
simple_type!(
    Oid,
    "ObjectIdentifierType",
    "xs:string",
    [("pattern", "([0-9]+[.])*[0-9]+")],
    |v| Cow::Owned(v.to_string()),
    |s| s.parse::<Oid>().map_err(|e| e.to_string())
);
simple_type!(
    EntityId,
    "ObjectIdentifierType",
    "xs:string",
    [("pattern", "([0-9]+[.])*[0-9]+")],
    |v| Cow::Owned(v.to_string()),
    |s| s.parse::<EntityId>().map_err(|e| e.to_string())
);
simple_type!(
    SubjectCode,
    "ObjectIdentifierType",
    "xs:string",
    [("pattern", "([0-9]+[.])*[0-9]+")],
    |v| Cow::Borrowed(v.as_str()),
    |s| SubjectCode::new(s).map_err(|e| e.to_string())
);
simple_type!(
    ReasonCode,
    "ObjectIdentifierType",
    "xs:string",
    [("pattern", "([0-9]+[.])*[0-9]+")],
    |v| Cow::Borrowed(v.as_str()),
    |s| ReasonCode::new(s).map_err(|e| e.to_string())
);
simple_type!(
    FunctionCallIdentifier,
    "xs:string",
    "",
    [],
    |v| Cow::Borrowed(v.as_str()),
    |s| FunctionCallIdentifier::new(s).map_err(|e| e.to_string())
);
simple_type!(
    ProfileType,
    "String100",
    "xs:string",
    [("maxLength", "100")],
    |v| Cow::Borrowed(v.as_str()),
    |s| ProfileType::new(s).map_err(|e| e.to_string())
);
simple_type!(
    ValidityPeriod,
    "xs:positiveInteger",
    "",
    [],
    |v| Cow::Owned(v.secs().to_string()),
    |s| s.parse::<ValidityPeriod>().map_err(|e| e.to_string())
);
simple_type!(
    ExecutionStatus,
    "StatusType",
    "xs:string",
    [
        ("enumeration", "Executed-Success"),
        ("enumeration", "Executed-WithWarning"),
        ("enumeration", "Failed"),
        ("enumeration", "Expired")
    ],
    |v| Cow::Borrowed(v.as_str()),
    |s| s.parse::<ExecutionStatus>().map_err(|e| e.to_string())
);

/// `xs:dateTime` in UTC (RFC 3339 on output; any offset accepted on input).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct DateTime(pub OffsetDateTime);

simple_type!(
    DateTime,
    "xs:dateTime",
    "",
    [],
    |v| Cow::Owned(
        v.0.to_offset(time::UtcOffset::UTC)
            .format(&Rfc3339)
            .unwrap_or_default()
    ),
    |s| OffsetDateTime::parse(s, &Rfc3339)
        .map(DateTime)
        .map_err(|e| format!("not an xs:dateTime: {e}"))
);

/// `xs:hexBinary` (any length), printed in upper case.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct HexBinary(pub Vec<u8>);

impl std::fmt::Debug for HexBinary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HexBinary({} bytes)", self.0.len())
    }
}

simple_type!(
    HexBinary,
    "xs:hexBinary",
    "",
    [],
    |v| Cow::Owned(hex_upper(&v.0)),
    |s| hex_decode(s).map(HexBinary)
);

/// Upper-case hex.
pub fn hex_upper(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0F)]));
    }
    s
}

/// Decodes hex (either case, whitespace ignored).
pub fn hex_decode(s: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if !digits.len().is_multiple_of(2) {
        return Err("odd number of hex digits".into());
    }
    digits
        .chunks(2)
        .map(|pair| {
            let v = |c: u8| match c {
                b'0'..=b'9' => Ok(c - b'0'),
                b'a'..=b'f' => Ok(c - b'a' + 10),
                b'A'..=b'F' => Ok(c - b'A' + 10),
                _ => Err(format!("not a hex digit: {:?}", char::from(c))),
            };
            Ok((v(pair[0])? << 4) | v(pair[1])?)
        })
        .collect()
}

// --- common complex types -------------------------------------------------------------------------

xml_type! {
    /// Fields every request carries (`BaseRequestType`).
    pub struct BaseRequest = "BaseRequestType" {
        /// Lets the parties manage retries: the same identifier from the same caller is one call.
        function_call_identifier: FunctionCallIdentifier = "FunctionCallIdentifier",
        /// Seconds from reception within which the function must complete.
        validity_period: Option<ValidityPeriod> = "ValidityPeriod",
    }
}

xml_type! {
    /// `StatusCodeDataType`: present when the status is not Executed-Success.
    pub struct StatusCodeDataXml = "StatusCodeDataType" {
        /// Dotted subject code.
        subject: SubjectCode = "Subject",
        /// Dotted reason code.
        reason: ReasonCode = "Reason",
        /// What the subject refers to (e.g. the EID).
        subject_identifier: Option<String> = "SubjectIdentifier",
        /// Readable detail.
        message: Option<String> = "Message",
    }
}

xml_type! {
    /// `ExecutionStatusType`.
    pub struct ExecutionStatusXml = "ExecutionStatusType" {
        /// The outcome.
        status: ExecutionStatus = "Status",
        /// Codes, when not a plain success.
        status_code_data: Option<StatusCodeDataXml> = "StatusCodeData",
    }
}

xml_type! {
    /// Fields every response carries (`BaseResponseType`).
    pub struct BaseResponse = "BaseResponseType" {
        /// When processing started.
        processing_start: Option<DateTime> = "ProcessingStart",
        /// When processing ended.
        processing_end: Option<DateTime> = "ProcessingEnd",
        /// The validity period the provider accepts, when it differs from the requested one.
        acceptable_validity_period: Option<ValidityPeriod> = "AcceptableValidityPeriod",
        /// The outcome.
        function_execution_status: ExecutionStatusXml = "FunctionExecutionStatus",
    }
}

xml_type! {
    /// `BaseNotificationType`: empty; notifications carry no FunctionCallIdentifier or ValidityPeriod.
    pub struct BaseNotification = "BaseNotificationType" {}
}

impl BaseRequest {
    /// A request base with this identifier and no validity period.
    pub fn new(function_call_identifier: FunctionCallIdentifier) -> Self {
        Self {
            function_call_identifier,
            validity_period: None,
        }
    }
}

impl From<&FunctionExecutionStatus> for ExecutionStatusXml {
    fn from(s: &FunctionExecutionStatus) -> Self {
        Self {
            status: s.status,
            status_code_data: s.status_code_data.as_ref().map(|d| StatusCodeDataXml {
                subject: d.subject_code,
                reason: d.reason_code,
                subject_identifier: d.subject_identifier.clone(),
                message: d.message.clone(),
            }),
        }
    }
}

impl From<&ExecutionStatusXml> for FunctionExecutionStatus {
    fn from(x: &ExecutionStatusXml) -> Self {
        let data = x.status_code_data.as_ref().map(|d| {
            let mut s = StatusCodeData::new(d.subject, d.reason);
            s.subject_identifier = d.subject_identifier.clone();
            s.message = d.message.clone();
            s
        });
        FunctionExecutionStatus {
            status: x.status,
            status_code_data: data,
        }
    }
}

impl BaseResponse {
    /// A response base carrying `status` and no timestamps.
    pub fn with_status(status: &FunctionExecutionStatus) -> Self {
        Self {
            processing_start: None,
            processing_end: None,
            acceptable_validity_period: None,
            function_execution_status: status.into(),
        }
    }

    /// The status as the shared vocabulary type.
    pub fn status(&self) -> FunctionExecutionStatus {
        (&self.function_execution_status).into()
    }
}
