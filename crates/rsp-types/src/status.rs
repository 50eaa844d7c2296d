//! Function execution status shared by SGP.02 (SOAP `FunctionExecutionStatus`, GlobalPlatform
//! Systems Messaging model) and SGP.22 (JSON `header.functionExecutionStatus`).
//!
//! The JSON field names (`status`, `statusCodeData`, `subjectCode`, `reasonCode`,
//! `subjectIdentifier`, `message`) are the SGP.22 §6.5.1.4 names, so these types serialise directly
//! into an ES2+/ES9+ response header.

use std::fmt;
use std::str::FromStr;

use crate::serde_str::serde_via_str;

/// The four status values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExecutionStatus {
    /// `Executed-Success`
    ExecutedSuccess,
    /// `Executed-WithWarning`
    ExecutedWithWarning,
    /// `Failed`
    Failed,
    /// `Expired`
    Expired,
}

/// An unknown status value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown execution status {input:?}; expected Executed-Success, Executed-WithWarning, Failed or Expired"
)]
pub struct ExecutionStatusError {
    /// The rejected text (truncated to 64 characters).
    pub input: String,
}

impl ExecutionStatus {
    /// The wire form this project emits (C-10): `Executed-Success`, `Executed-WithWarning`,
    /// `Failed`, `Expired`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ExecutionStatus::ExecutedSuccess => "Executed-Success",
            ExecutionStatus::ExecutedWithWarning => "Executed-WithWarning",
            ExecutionStatus::Failed => "Failed",
            ExecutionStatus::Expired => "Expired",
        }
    }

    /// The upper-case form seen in one schema package and a ZTE log (`EXECUTED_SUCCESS`, ...), for
    /// peers configured to want it (C-10).
    pub const fn as_upper_str(self) -> &'static str {
        match self {
            ExecutionStatus::ExecutedSuccess => "EXECUTED_SUCCESS",
            ExecutionStatus::ExecutedWithWarning => "EXECUTED_WITHWARNING",
            ExecutionStatus::Failed => "FAILED",
            ExecutionStatus::Expired => "EXPIRED",
        }
    }

    /// Whether the function was executed (with or without warning).
    pub const fn is_executed(self) -> bool {
        matches!(
            self,
            ExecutionStatus::ExecutedSuccess | ExecutionStatus::ExecutedWithWarning
        )
    }
}

impl FromStr for ExecutionStatus {
    type Err = ExecutionStatusError;

    /// Accepts any case, treating `-` and `_` alike and ignoring them (C-10):
    /// `Executed-Success`, `EXECUTED_SUCCESS`, `executed-withwarning`, `Executed-With-Warning`.
    fn from_str(s: &str) -> Result<ExecutionStatus, ExecutionStatusError> {
        let key: String = s
            .trim()
            .chars()
            .filter(|c| !matches!(c, '-' | '_'))
            .map(|c| c.to_ascii_lowercase())
            .collect();
        match key.as_str() {
            "executedsuccess" => Ok(ExecutionStatus::ExecutedSuccess),
            "executedwithwarning" => Ok(ExecutionStatus::ExecutedWithWarning),
            "failed" => Ok(ExecutionStatus::Failed),
            "expired" => Ok(ExecutionStatus::Expired),
            _ => Err(ExecutionStatusError {
                input: s.chars().take(64).collect(),
            }),
        }
    }
}

impl fmt::Display for ExecutionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

serde_via_str!(
    ExecutionStatus,
    "an execution status (Executed-Success, Executed-WithWarning, Failed, Expired)"
);

/// Longest dotted code accepted, in characters.
pub const DOTTED_CODE_MAX_CHARS: usize = 32;

/// Why a subject or reason code was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DottedCodeError {
    /// Empty text.
    #[error("{what} code is empty")]
    Empty {
        /// `"subject"` or `"reason"`.
        what: &'static str,
    },
    /// Two dots in a row, or a leading or trailing dot.
    #[error("{what} code has an empty component at index {index}")]
    EmptyComponent {
        /// `"subject"` or `"reason"`.
        what: &'static str,
        /// Zero-based component index.
        index: usize,
    },
    /// A character other than a digit or a dot.
    #[error("{what} code has a non-digit character {ch:?} at position {position}")]
    NonDigit {
        /// `"subject"` or `"reason"`.
        what: &'static str,
        /// Zero-based character position.
        position: usize,
        /// The offending character.
        ch: char,
    },
    /// A component written with a leading zero (`8.01`).
    #[error("{what} code component {index} has a leading zero")]
    LeadingZero {
        /// `"subject"` or `"reason"`.
        what: &'static str,
        /// Zero-based component index.
        index: usize,
    },
    /// Longer than [`DOTTED_CODE_MAX_CHARS`].
    #[error("{what} code is longer than 32 characters")]
    TooLong {
        /// `"subject"` or `"reason"`.
        what: &'static str,
    },
}

/// Decodes the character starting at byte `i` of valid UTF-8 `b` (`const` helper for error reports).
const fn char_at(b: &[u8], i: usize) -> char {
    if i >= b.len() {
        return '\u{FFFD}';
    }
    let b0 = b[i] as u32;
    let (len, mut cp) = if b0 < 0x80 {
        (1, b0)
    } else if b0 >> 5 == 0b110 {
        (2, b0 & 0x1F)
    } else if b0 >> 4 == 0b1110 {
        (3, b0 & 0x0F)
    } else {
        (4, b0 & 0x07)
    };
    let mut k = 1;
    while k < len && i + k < b.len() {
        cp = (cp << 6) | (b[i + k] as u32 & 0x3F);
        k += 1;
    }
    match char::from_u32(cp) {
        Some(c) => c,
        None => '\u{FFFD}',
    }
}

/// Validation shared by subject and reason codes; `const` so constants are checked at compile time.
const fn check_dotted(what: &'static str, s: &str) -> Result<(), DottedCodeError> {
    let b = s.as_bytes();
    if b.is_empty() {
        return Err(DottedCodeError::Empty { what });
    }
    let mut i = 0;
    let mut index = 0;
    let mut component_start = 0;
    while i <= b.len() {
        if i == b.len() || b[i] == b'.' {
            let len = i - component_start;
            if len == 0 {
                return Err(DottedCodeError::EmptyComponent { what, index });
            }
            if len > 1 && b[component_start] == b'0' {
                return Err(DottedCodeError::LeadingZero { what, index });
            }
            index += 1;
            component_start = i + 1;
        } else if !b[i].is_ascii_digit() {
            // Every byte before `i` is ASCII, so the byte index is also the character position.
            return Err(DottedCodeError::NonDigit {
                what,
                position: i,
                ch: char_at(b, i),
            });
        }
        i += 1;
    }
    if b.len() > DOTTED_CODE_MAX_CHARS {
        return Err(DottedCodeError::TooLong { what });
    }
    Ok(())
}

/// Copies a checked code into its fixed-size storage.
const fn store(s: &str) -> ([u8; DOTTED_CODE_MAX_CHARS], u8) {
    let b = s.as_bytes();
    let mut out = [0u8; DOTTED_CODE_MAX_CHARS];
    let mut i = 0;
    while i < b.len() && i < DOTTED_CODE_MAX_CHARS {
        out[i] = b[i];
        i += 1;
    }
    (out, i as u8)
}

macro_rules! dotted_code {
    ($(#[$meta:meta])* $name:ident, $what:literal) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name {
            // ASCII digits and dots; bytes after `len` are zero.
            bytes: [u8; DOTTED_CODE_MAX_CHARS],
            len: u8,
        }

        impl $name {
            /// Checks and wraps a code. `const`, for code tables:
            /// `const X: SubjectCode = match SubjectCode::from_static("8.1.1") { Ok(c) => c, Err(_) => panic!() };`
            pub const fn from_static(s: &str) -> Result<$name, DottedCodeError> {
                match check_dotted($what, s) {
                    Ok(()) => {
                        let (bytes, len) = store(s);
                        Ok($name { bytes, len })
                    }
                    Err(e) => Err(e),
                }
            }

            /// Checks and wraps a code.
            pub fn new(s: impl AsRef<str>) -> Result<$name, DottedCodeError> {
                $name::from_static(s.as_ref())
            }

            /// The dotted text.
            pub fn as_str(&self) -> &str {
                let b = self.bytes.get(..usize::from(self.len)).unwrap_or_default();
                // Invariant: ASCII only.
                std::str::from_utf8(b).unwrap_or_default()
            }

            /// The numeric components (`"8.1.2"` gives `[8, 1, 2]`; components above `u32::MAX`
            /// are reported as `u32::MAX`).
            pub fn components(&self) -> Vec<u32> {
                self.as_str()
                    .split('.')
                    .map(|c| c.parse().unwrap_or(u32::MAX))
                    .collect()
            }

            /// Whether `self` equals `parent` or lies below it (`8.1.2` is within `8.1` and `8`).
            pub fn is_within(&self, parent: &$name) -> bool {
                let (s, p) = (self.as_str(), parent.as_str());
                s == p || (s.starts_with(p) && s.as_bytes().get(p.len()) == Some(&b'.'))
            }
        }

        impl FromStr for $name {
            type Err = DottedCodeError;
            fn from_str(s: &str) -> Result<$name, DottedCodeError> {
                $name::from_static(s)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.as_str())
            }
        }

        serde_via_str!($name, concat!("a dotted ", $what, " code such as 8.1.1"));
    };
}

dotted_code!(
    /// A subject code: what the status is about (`8.1.1` EID, `1.6` Function...). Digits separated by
    /// dots, no leading zeros, at most 32 characters.
    SubjectCode,
    "subject"
);

dotted_code!(
    /// A reason code: why (`3.9` Unknown, `6.3` Expired...). Same syntax as [`SubjectCode`].
    ReasonCode,
    "reason"
);

/// A subject and reason pair, the identity of a status condition (`8.1.2` / `6.3`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StatusCode {
    /// Subject code.
    pub subject: SubjectCode,
    /// Reason code.
    pub reason: ReasonCode,
}

impl StatusCode {
    /// Pairs a subject and a reason.
    pub const fn new(subject: SubjectCode, reason: ReasonCode) -> StatusCode {
        StatusCode { subject, reason }
    }

    /// `Failed` status carrying this code.
    pub fn failed(self) -> FunctionExecutionStatus {
        FunctionExecutionStatus::failed(self.subject, self.reason)
    }

    /// `Executed-WithWarning` status carrying this code.
    pub fn warning(self) -> FunctionExecutionStatus {
        FunctionExecutionStatus::warning(self.subject, self.reason)
    }

    /// `Expired` status carrying this code.
    pub fn expired(self) -> FunctionExecutionStatus {
        FunctionExecutionStatus::expired_with(self.subject, self.reason)
    }
}

impl fmt::Display for StatusCode {
    /// `8.1.2/6.3`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.subject, self.reason)
    }
}

/// Status code data (`StatusCodeData` / `statusCodeData`), present when the status is not
/// `Executed-Success`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusCodeData {
    /// `Subject` / `subjectCode`.
    pub subject_code: SubjectCode,
    /// `Reason` / `reasonCode`.
    pub reason_code: ReasonCode,
    /// `SubjectIdentifier` / `subjectIdentifier`: which instance (an ICCID, a parameter name...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_identifier: Option<String>,
    /// `Message` / `message`: free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl StatusCodeData {
    /// Subject and reason without identifier or message.
    pub fn new(subject_code: SubjectCode, reason_code: ReasonCode) -> StatusCodeData {
        StatusCodeData {
            subject_code,
            reason_code,
            subject_identifier: None,
            message: None,
        }
    }

    /// The subject/reason pair.
    pub fn code(&self) -> StatusCode {
        StatusCode::new(self.subject_code, self.reason_code)
    }

    /// Whether this data carries the given pair.
    pub fn is(&self, code: &StatusCode) -> bool {
        self.subject_code == code.subject && self.reason_code == code.reason
    }
}

/// The outcome of a function: status plus, unless successful, status code data.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FunctionExecutionStatus {
    /// `Status` / `status`.
    pub status: ExecutionStatus,
    /// `StatusCodeData` / `statusCodeData`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code_data: Option<StatusCodeData>,
}

impl FunctionExecutionStatus {
    /// `Executed-Success`, no code data.
    pub fn success() -> FunctionExecutionStatus {
        FunctionExecutionStatus {
            status: ExecutionStatus::ExecutedSuccess,
            status_code_data: None,
        }
    }

    /// `Executed-WithWarning` with a code.
    pub fn warning(subject: SubjectCode, reason: ReasonCode) -> FunctionExecutionStatus {
        FunctionExecutionStatus {
            status: ExecutionStatus::ExecutedWithWarning,
            status_code_data: Some(StatusCodeData::new(subject, reason)),
        }
    }

    /// `Failed` with a code.
    pub fn failed(subject: SubjectCode, reason: ReasonCode) -> FunctionExecutionStatus {
        FunctionExecutionStatus {
            status: ExecutionStatus::Failed,
            status_code_data: Some(StatusCodeData::new(subject, reason)),
        }
    }

    /// `Expired` without code data.
    pub fn expired() -> FunctionExecutionStatus {
        FunctionExecutionStatus {
            status: ExecutionStatus::Expired,
            status_code_data: None,
        }
    }

    /// `Expired` with a code (SGP.02 uses `1.6` / `5.3`).
    pub fn expired_with(subject: SubjectCode, reason: ReasonCode) -> FunctionExecutionStatus {
        FunctionExecutionStatus {
            status: ExecutionStatus::Expired,
            status_code_data: Some(StatusCodeData::new(subject, reason)),
        }
    }

    /// Sets the message of the code data (no effect without code data).
    pub fn with_message(mut self, message: impl Into<String>) -> FunctionExecutionStatus {
        if let Some(d) = self.status_code_data.as_mut() {
            d.message = Some(message.into());
        }
        self
    }

    /// Sets the subject identifier of the code data (no effect without code data).
    pub fn with_subject_identifier(mut self, id: impl Into<String>) -> FunctionExecutionStatus {
        if let Some(d) = self.status_code_data.as_mut() {
            d.subject_identifier = Some(id.into());
        }
        self
    }

    /// Whether the function was executed (with or without warning).
    pub fn is_executed(&self) -> bool {
        self.status.is_executed()
    }

    /// The subject/reason pair, if any.
    pub fn code(&self) -> Option<StatusCode> {
        self.status_code_data.as_ref().map(StatusCodeData::code)
    }

    /// Whether this status carries the given pair.
    pub fn is(&self, code: &StatusCode) -> bool {
        self.status_code_data.as_ref().is_some_and(|d| d.is(code))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_spellings() {
        for s in [
            ExecutionStatus::ExecutedSuccess,
            ExecutionStatus::ExecutedWithWarning,
            ExecutionStatus::Failed,
            ExecutionStatus::Expired,
        ] {
            assert_eq!(s.as_str().parse(), Ok(s));
            assert_eq!(s.as_upper_str().parse(), Ok(s));
            assert_eq!(s.as_str().to_lowercase().parse(), Ok(s));
        }
        assert_eq!(
            "Executed-With-Warning".parse(),
            Ok(ExecutionStatus::ExecutedWithWarning)
        );
        assert_eq!(" FAILED ".parse(), Ok(ExecutionStatus::Failed));
        assert!("Success_WithWarning".parse::<ExecutionStatus>().is_err());
        assert!("".parse::<ExecutionStatus>().is_err());
        assert!(ExecutionStatus::ExecutedWithWarning.is_executed());
        assert!(!ExecutionStatus::Expired.is_executed());
    }

    #[test]
    fn dotted_codes() {
        let s: SubjectCode = "8.1.2".parse().unwrap();
        assert_eq!(s.components(), vec![8, 1, 2]);
        assert!(s.is_within(&"8.1".parse().unwrap()));
        assert!(s.is_within(&"8".parse().unwrap()));
        assert!(!s.is_within(&"8.11".parse().unwrap()));
        assert!(
            !"8.11.1"
                .parse::<SubjectCode>()
                .unwrap()
                .is_within(&"8.1".parse().unwrap())
        );
        assert_eq!(SubjectCode::from_static("8.1.1"), "8.1.1".parse());
        assert_eq!(ReasonCode::new("0"), "0".parse());
        assert_eq!(
            "".parse::<ReasonCode>(),
            Err(DottedCodeError::Empty { what: "reason" })
        );
        assert_eq!(
            "3..1".parse::<ReasonCode>(),
            Err(DottedCodeError::EmptyComponent {
                what: "reason",
                index: 1
            })
        );
        assert_eq!(
            "3.".parse::<ReasonCode>(),
            Err(DottedCodeError::EmptyComponent {
                what: "reason",
                index: 1
            })
        );
        assert_eq!(
            ".3".parse::<ReasonCode>(),
            Err(DottedCodeError::EmptyComponent {
                what: "reason",
                index: 0
            })
        );
        assert_eq!(
            "8.01".parse::<SubjectCode>(),
            Err(DottedCodeError::LeadingZero {
                what: "subject",
                index: 1
            })
        );
        assert_eq!(
            "8.1é".parse::<SubjectCode>(),
            Err(DottedCodeError::NonDigit {
                what: "subject",
                position: 3,
                ch: 'é'
            })
        );
        assert_eq!(
            "1.2.3.4.5.6.7.8.9.10.11.12.13.14.15".parse::<SubjectCode>(),
            Err(DottedCodeError::TooLong { what: "subject" })
        );
    }

    #[test]
    fn json_shape_matches_sgp22_header() {
        let st = FunctionExecutionStatus::failed("8.1.1".parse().unwrap(), "3.8".parse().unwrap())
            .with_subject_identifier("89049032123451234512345678901235");
        let json = serde_json::to_string(&st).unwrap();
        assert_eq!(
            json,
            r#"{"status":"Failed","statusCodeData":{"subjectCode":"8.1.1","reasonCode":"3.8","subjectIdentifier":"89049032123451234512345678901235"}}"#
        );
        assert_eq!(
            serde_json::from_str::<FunctionExecutionStatus>(&json).unwrap(),
            st
        );
        let ok = serde_json::to_string(&FunctionExecutionStatus::success()).unwrap();
        assert_eq!(ok, r#"{"status":"Executed-Success"}"#);
        // Lenient input: upper-case status and unknown fields.
        let parsed: FunctionExecutionStatus =
            serde_json::from_str(r#"{"status":"EXPIRED","extra":1}"#).unwrap();
        assert_eq!(parsed, FunctionExecutionStatus::expired());
        assert!(
            serde_json::from_str::<FunctionExecutionStatus>(
                r#"{"status":"Failed","statusCodeData":{"subjectCode":"8.x","reasonCode":"3.8"}}"#
            )
            .is_err()
        );
    }

    #[test]
    fn constructors() {
        let code = StatusCode::new("1.6".parse().unwrap(), "5.3".parse().unwrap());
        let st = code.expired().with_message("ValidityPeriod elapsed");
        assert_eq!(st.status, ExecutionStatus::Expired);
        assert!(st.is(&code));
        assert_eq!(st.code(), Some(code));
        assert_eq!(
            st.status_code_data
                .as_ref()
                .and_then(|d| d.message.as_deref()),
            Some("ValidityPeriod elapsed")
        );
        assert_eq!(code.to_string(), "1.6/5.3");
        assert!(code.warning().is_executed());
        assert!(!code.failed().is_executed());
        let s = FunctionExecutionStatus::success().with_message("ignored");
        assert_eq!(s.status_code_data, None);
        assert_eq!(s.code(), None);
    }
}
