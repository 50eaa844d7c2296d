//! `Svn`: an SGP.22 specification version number `major.minor.revision` (ASN.1 `VersionType ::=
//! OCTET STRING (SIZE(3))`, HTTP header `X-Admin-Protocol: gsma/rsp/v<major>.<minor>.<revision>`).
//! The same `x.y.z` shape is SGP.02's `ThreeDigitVersion`.

use std::fmt;
use std::str::FromStr;

use crate::serde_str::serde_via_str;

/// Prefix of the `X-Admin-Protocol` header value (compared case-insensitively on input).
pub const ADMIN_PROTOCOL_PREFIX: &str = "gsma/rsp/v";

/// A three-part version; ordered by major, then minor, then patch.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Default)]
pub struct Svn {
    /// Major version.
    pub major: u8,
    /// Minor version.
    pub minor: u8,
    /// Revision.
    pub patch: u8,
}

/// Why a version was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SvnError {
    /// Empty text.
    #[error("version is empty")]
    Empty,
    /// Not three dot-separated decimal numbers.
    #[error("version {input:?} is not of the form major.minor.revision")]
    BadFormat {
        /// The rejected text (truncated to 64 characters).
        input: String,
    },
    /// A component above 255.
    #[error("version component {component:?} is above 255")]
    ComponentOutOfRange {
        /// The rejected component.
        component: String,
    },
    /// An `X-Admin-Protocol` value without the `gsma/rsp/v` prefix.
    #[error("X-Admin-Protocol value {input:?} does not start with gsma/rsp/v")]
    MissingAdminProtocolPrefix {
        /// The rejected text (truncated to 64 characters).
        input: String,
    },
    /// The byte form is not 3 bytes.
    #[error("VersionType must be 3 bytes, got {actual}")]
    WrongByteLength {
        /// Number of bytes received.
        actual: usize,
    },
}

fn excerpt(s: &str) -> String {
    s.chars().take(64).collect()
}

/// Strips `prefix` from the start of `s`, ignoring ASCII case.
fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    if head.eq_ignore_ascii_case(prefix) {
        s.get(prefix.len()..)
    } else {
        None
    }
}

impl Svn {
    /// Builds a version.
    pub const fn new(major: u8, minor: u8, patch: u8) -> Svn {
        Svn {
            major,
            minor,
            patch,
        }
    }

    /// The 3-byte `VersionType` form.
    pub const fn to_bytes(self) -> [u8; 3] {
        [self.major, self.minor, self.patch]
    }

    /// Parses the 3-byte `VersionType` form.
    pub fn from_bytes(bytes: &[u8]) -> Result<Svn, SvnError> {
        match bytes {
            [major, minor, patch] => Ok(Svn::new(*major, *minor, *patch)),
            _ => Err(SvnError::WrongByteLength {
                actual: bytes.len(),
            }),
        }
    }

    /// The `X-Admin-Protocol` header value, `gsma/rsp/v3.1.0`.
    pub fn admin_protocol(&self) -> String {
        format!("{ADMIN_PROTOCOL_PREFIX}{self}")
    }

    /// Parses an `X-Admin-Protocol` header value: the `gsma/rsp/v` prefix is required
    /// (case-insensitive; surrounding whitespace ignored). U-36.
    pub fn parse_admin_protocol(s: &str) -> Result<Svn, SvnError> {
        let t = s.trim();
        let rest = strip_prefix_ignore_case(t, ADMIN_PROTOCOL_PREFIX)
            .ok_or_else(|| SvnError::MissingAdminProtocolPrefix { input: excerpt(t) })?;
        Svn::parse_numbers(rest, t)
    }

    fn parse_numbers(numbers: &str, whole: &str) -> Result<Svn, SvnError> {
        let bad = || SvnError::BadFormat {
            input: excerpt(whole),
        };
        let mut parts = [0u8; 3];
        let mut it = numbers.split('.');
        for slot in &mut parts {
            let part = it.next().ok_or_else(bad)?;
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            *slot = part.parse().map_err(|_| SvnError::ComponentOutOfRange {
                component: excerpt(part),
            })?;
        }
        if it.next().is_some() {
            return Err(bad());
        }
        let [major, minor, patch] = parts;
        Ok(Svn::new(major, minor, patch))
    }
}

impl FromStr for Svn {
    type Err = SvnError;

    /// Accepts `2.2.2`, `v3.1.0` / `V3.1.0` and `gsma/rsp/v3.1.0` (prefix case-insensitive), with
    /// surrounding whitespace ignored.
    fn from_str(s: &str) -> Result<Svn, SvnError> {
        let t = s.trim();
        if t.is_empty() {
            return Err(SvnError::Empty);
        }
        let rest = strip_prefix_ignore_case(t, ADMIN_PROTOCOL_PREFIX)
            .or_else(|| strip_prefix_ignore_case(t, "v"))
            .unwrap_or(t);
        Svn::parse_numbers(rest, t)
    }
}

impl fmt::Display for Svn {
    /// `3.1.0`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

impl From<[u8; 3]> for Svn {
    fn from([major, minor, patch]: [u8; 3]) -> Svn {
        Svn::new(major, minor, patch)
    }
}

serde_via_str!(Svn, "a version major.minor.revision");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_forms() {
        // X-Admin-Protocol values seen in the wild (sgp22.md §8.1).
        assert_eq!("2.2.2".parse(), Ok(Svn::new(2, 2, 2)));
        assert_eq!("v3.1.0".parse(), Ok(Svn::new(3, 1, 0)));
        assert_eq!("V3.1.0".parse(), Ok(Svn::new(3, 1, 0)));
        assert_eq!("gsma/rsp/v2.1.0".parse(), Ok(Svn::new(2, 1, 0)));
        assert_eq!("GSMA/RSP/V2.5.0".parse(), Ok(Svn::new(2, 5, 0)));
        assert_eq!(" gsma/rsp/v3.0.0 ".parse(), Ok(Svn::new(3, 0, 0)));
        assert_eq!("255.0.010".parse(), Ok(Svn::new(255, 0, 10)));
        assert_eq!(
            Svn::parse_admin_protocol("gsma/rsp/v2.2.0"),
            Ok(Svn::new(2, 2, 0))
        );
    }

    #[test]
    fn errors() {
        assert_eq!("".parse::<Svn>(), Err(SvnError::Empty));
        assert_eq!("  ".parse::<Svn>(), Err(SvnError::Empty));
        for bad in [
            "2.2",
            "2.2.2.2",
            "2..2",
            "v",
            "gsma/rsp/v",
            "2.2.+2",
            "2.2.2a",
            "x2.2.2",
            "v 2.2.2",
        ] {
            assert!(
                matches!(bad.parse::<Svn>(), Err(SvnError::BadFormat { .. })),
                "{bad}"
            );
        }
        assert_eq!(
            "2.256.0".parse::<Svn>(),
            Err(SvnError::ComponentOutOfRange {
                component: "256".into()
            })
        );
        assert!(matches!(
            Svn::parse_admin_protocol("v3.1.0"),
            Err(SvnError::MissingAdminProtocolPrefix { .. })
        ));
        assert_eq!(
            Svn::from_bytes(&[3, 1]),
            Err(SvnError::WrongByteLength { actual: 2 })
        );
    }

    #[test]
    fn bytes_display_order_serde() {
        let v = Svn::new(3, 1, 0);
        assert_eq!(v.to_bytes(), [0x03, 0x01, 0x00]);
        assert_eq!(Svn::from_bytes(&[0x03, 0x01, 0x00]), Ok(v));
        assert_eq!(v.to_string(), "3.1.0");
        assert_eq!(v.admin_protocol(), "gsma/rsp/v3.1.0");
        assert!(Svn::new(2, 2, 2) < Svn::new(2, 3, 0));
        assert!(Svn::new(2, 9, 9) < Svn::new(3, 0, 0));
        assert!(Svn::new(3, 1, 0) > Svn::new(3, 0, 255));
        assert_eq!(serde_json::to_string(&v).unwrap(), "\"3.1.0\"");
        assert_eq!(
            serde_json::from_str::<Svn>("\"v2.2.2\"").unwrap(),
            Svn::new(2, 2, 2)
        );
    }
}
