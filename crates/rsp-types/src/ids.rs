//! Text identifiers of requests and catalogue items: `ProfileType` and `FunctionCallIdentifier`.

use std::fmt;
use std::str::FromStr;

use crate::serde_str::serde_via_str;

/// Longest `ProfileType` accepted, in characters.
pub const PROFILE_TYPE_MAX_CHARS: usize = 256;
/// Longest `FunctionCallIdentifier` accepted on input, in characters.
pub const FUNCTION_CALL_IDENTIFIER_MAX_CHARS: usize = 256;
/// Longest `FunctionCallIdentifier` this project generates, in characters.
pub const FUNCTION_CALL_IDENTIFIER_EMIT_MAX_CHARS: usize = 64;

/// Why a text identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextIdError {
    /// Empty, or only whitespace.
    #[error("{what} must not be empty")]
    Empty {
        /// Which identifier.
        what: &'static str,
    },
    /// Longer than allowed.
    #[error("{what} is {actual} characters long; at most {max} are accepted")]
    TooLong {
        /// Which identifier.
        what: &'static str,
        /// Characters received.
        actual: usize,
        /// Limit.
        max: usize,
    },
    /// Holds a control character (would break XML, logs or headers).
    #[error("{what} contains a control character at position {position}")]
    ControlCharacter {
        /// Which identifier.
        what: &'static str,
        /// Zero-based character position.
        position: usize,
    },
}

fn check_text(what: &'static str, s: &str, max: usize) -> Result<(), TextIdError> {
    if s.trim().is_empty() {
        return Err(TextIdError::Empty { what });
    }
    let actual = s.chars().count();
    if actual > max {
        return Err(TextIdError::TooLong { what, actual, max });
    }
    if let Some(position) = s.chars().position(char::is_control) {
        return Err(TextIdError::ControlCharacter { what, position });
    }
    Ok(())
}

macro_rules! text_id {
    ($(#[$meta:meta])* $name:ident, $what:literal, $max:expr) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// Checks and wraps the text (kept exactly as given).
            pub fn new(s: impl Into<String>) -> Result<$name, TextIdError> {
                let s = s.into();
                check_text($what, &s, $max)?;
                Ok($name(s))
            }

            /// The text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The owned text.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl FromStr for $name {
            type Err = TextIdError;
            fn from_str(s: &str) -> Result<$name, TextIdError> {
                $name::new(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = TextIdError;
            fn try_from(s: String) -> Result<$name, TextIdError> {
                $name::new(s)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({:?})"), self.0)
            }
        }

        serde_via_str!($name, concat!("a non-empty ", $what));
    };
}

text_id!(
    /// The name of an operator's profile type (SGP.02 `ProfileType`, SGP.22 ES2+ `profileType`), e.g.
    /// `"GSMA Generic eUICC Test Profile"`. Non-empty, at most 256 characters, no control characters.
    ProfileType,
    "ProfileType",
    PROFILE_TYPE_MAX_CHARS
);

text_id!(
    /// The caller's identifier of one function call (SGP.02 `FunctionCallIdentifier`, SGP.22 ES2+
    /// `functionCallIdentifier`); with the caller identity it is the idempotency key (U-26).
    ///
    /// Decision: accept 1 to 256 characters without control characters (the schema says only
    /// `xs:string`; peers use UUIDs, URNs and longer vendor forms), and generate at most 64
    /// ([`FUNCTION_CALL_IDENTIFIER_EMIT_MAX_CHARS`]).
    FunctionCallIdentifier,
    "FunctionCallIdentifier",
    FUNCTION_CALL_IDENTIFIER_MAX_CHARS
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_refuses() {
        let pt: ProfileType = "GSMA Generic eUICC Test Profile".parse().unwrap();
        assert_eq!(pt.as_str(), "GSMA Generic eUICC Test Profile");
        assert_eq!(
            "".parse::<ProfileType>(),
            Err(TextIdError::Empty {
                what: "ProfileType"
            })
        );
        assert!(matches!(
            " \t".parse::<ProfileType>(),
            Err(TextIdError::Empty { .. })
        ));
        assert_eq!(
            "a\nb".parse::<FunctionCallIdentifier>(),
            Err(TextIdError::ControlCharacter {
                what: "FunctionCallIdentifier",
                position: 1
            })
        );
        let long = "x".repeat(257);
        assert_eq!(
            FunctionCallIdentifier::new(long),
            Err(TextIdError::TooLong {
                what: "FunctionCallIdentifier",
                actual: 257,
                max: 256
            })
        );
        let fci =
            FunctionCallIdentifier::new("urn:uuid:0f96af97-f879-45a2-a011-ee7439df3804").unwrap();
        assert!(fci.as_str().len() <= FUNCTION_CALL_IDENTIFIER_EMIT_MAX_CHARS);
        assert_eq!(
            format!("{fci:?}"),
            "FunctionCallIdentifier(\"urn:uuid:0f96af97-f879-45a2-a011-ee7439df3804\")"
        );
    }

    #[test]
    fn serde_as_string() {
        let pt = ProfileType::new("Type A").unwrap();
        let json = serde_json::to_string(&pt).unwrap();
        assert_eq!(json, "\"Type A\"");
        assert_eq!(serde_json::from_str::<ProfileType>(&json).unwrap(), pt);
        assert!(serde_json::from_str::<ProfileType>("\"\"").is_err());
    }
}
