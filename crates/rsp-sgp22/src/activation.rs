//! The Activation Code (SGP.22 §4.1, sgp22.md §10):
//! `LPA:1$<SM-DP+ address>$<MatchingID>[$<SM-DP+ OID>[$<Confirmation Code Required Flag>]]`.
//!
//! Output is strict: the `LPA:` prefix, format `1`, trailing optional fields omitted, an empty
//! OID field written only when the CC flag follows (`…$$1`). Input is lenient: the `LPA:` prefix
//! is optional (any case), surrounding whitespace is ignored, the MatchingID may be empty or
//! even absent (`LPA:1$smdp.example.com`), an empty OID field means "no OID", and the CC flag
//! field may be empty (not required). Anything else is a typed [`ActivationCodeError`].

use std::fmt;
use std::str::FromStr;

use rsp_types::Oid;

/// The `LPA:` scheme prefix.
pub const SCHEME: &str = "LPA:";
/// The only Activation Code format defined.
pub const FORMAT: &str = "1";
/// The delimiter.
pub const DELIMITER: char = '$';

/// A parsed Activation Code.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ActivationCode {
    /// SM-DP+ address (FQDN).
    pub smdp_address: String,
    /// MatchingID (may be empty).
    pub matching_id: String,
    /// SM-DP+ OID, if given.
    pub smdp_oid: Option<Oid>,
    /// Whether a Confirmation Code is required.
    pub confirmation_code_required: bool,
}

/// Why an Activation Code was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActivationCodeError {
    /// Empty input.
    #[error("activation code is empty")]
    Empty,
    /// The AC_Format field is not `1`.
    #[error("unsupported activation code format {0:?} (expected 1)")]
    UnsupportedFormat(String),
    /// The SM-DP+ address field is absent or empty.
    #[error("activation code has no SM-DP+ address")]
    MissingAddress,
    /// The SM-DP+ address holds a character that cannot be in an FQDN.
    #[error("SM-DP+ address {0:?} is not a host name")]
    InvalidAddress(String),
    /// The SM-DP+ OID field is not a dotted OID.
    #[error("SM-DP+ OID {0:?} is not a dotted object identifier")]
    InvalidOid(String),
    /// The Confirmation Code Required Flag is neither `1` nor empty.
    #[error("confirmation code required flag {0:?} is not 1")]
    InvalidCcFlag(String),
    /// More than five fields.
    #[error("activation code has {0} fields; at most 5 are defined")]
    TooManyFields(usize),
    /// A control character.
    #[error("activation code contains a control character")]
    ControlCharacter,
}

impl ActivationCode {
    /// An Activation Code with address and MatchingID only.
    pub fn new(smdp_address: impl Into<String>, matching_id: impl Into<String>) -> Self {
        ActivationCode {
            smdp_address: smdp_address.into(),
            matching_id: matching_id.into(),
            smdp_oid: None,
            confirmation_code_required: false,
        }
    }
}

impl FromStr for ActivationCode {
    type Err = ActivationCodeError;

    fn from_str(s: &str) -> Result<Self, ActivationCodeError> {
        let t = s.trim();
        if t.is_empty() {
            return Err(ActivationCodeError::Empty);
        }
        if t.chars().any(char::is_control) {
            return Err(ActivationCodeError::ControlCharacter);
        }
        let body = match t.get(..SCHEME.len()) {
            Some(head) if head.eq_ignore_ascii_case(SCHEME) => t.get(SCHEME.len()..).unwrap_or(""),
            _ => t,
        };
        let fields: Vec<&str> = body.split(DELIMITER).collect();
        if fields.len() > 5 {
            return Err(ActivationCodeError::TooManyFields(fields.len()));
        }
        let format = fields.first().copied().unwrap_or("");
        if format != FORMAT {
            return Err(ActivationCodeError::UnsupportedFormat(
                format.chars().take(16).collect(),
            ));
        }
        let address = fields.get(1).copied().unwrap_or("");
        if address.is_empty() {
            return Err(ActivationCodeError::MissingAddress);
        }
        if !address
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'_'))
        {
            return Err(ActivationCodeError::InvalidAddress(
                address.chars().take(64).collect(),
            ));
        }
        let matching_id = fields.get(2).copied().unwrap_or("");
        let smdp_oid =
            match fields.get(3).copied() {
                None | Some("") => None,
                Some(text) => Some(text.parse::<Oid>().map_err(|_| {
                    ActivationCodeError::InvalidOid(text.chars().take(64).collect())
                })?),
            };
        let confirmation_code_required = match fields.get(4).copied() {
            None | Some("") => false,
            Some("1") => true,
            Some(other) => {
                return Err(ActivationCodeError::InvalidCcFlag(
                    other.chars().take(16).collect(),
                ));
            }
        };
        Ok(ActivationCode {
            smdp_address: address.to_owned(),
            matching_id: matching_id.to_owned(),
            smdp_oid,
            confirmation_code_required,
        })
    }
}

impl fmt::Display for ActivationCode {
    /// `LPA:1$addr$matchingId[$oid[$1]]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{SCHEME}{FORMAT}${}${}",
            self.smdp_address, self.matching_id
        )?;
        match (&self.smdp_oid, self.confirmation_code_required) {
            (Some(oid), true) => write!(f, "${oid}$1"),
            (Some(oid), false) => write!(f, "${oid}"),
            (None, true) => write!(f, "$$1"),
            (None, false) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_and_formats() {
        let ac: ActivationCode = "LPA:1$smdp.example.com$MATCHING-ID-12345".parse().unwrap();
        assert_eq!(
            ac,
            ActivationCode::new("smdp.example.com", "MATCHING-ID-12345")
        );
        assert_eq!(ac.to_string(), "LPA:1$smdp.example.com$MATCHING-ID-12345");

        let full: ActivationCode = "lpa:1$rsp.example.com$ABC$1.3.6.1.4.1.31746$1"
            .parse()
            .unwrap();
        assert_eq!(full.smdp_oid, Some("1.3.6.1.4.1.31746".parse().unwrap()));
        assert!(full.confirmation_code_required);
        assert_eq!(
            full.to_string(),
            "LPA:1$rsp.example.com$ABC$1.3.6.1.4.1.31746$1"
        );

        let cc_only: ActivationCode = "1$rsp.example.com$$$1".parse().unwrap();
        assert_eq!(cc_only.matching_id, "");
        assert_eq!(cc_only.smdp_oid, None);
        assert!(cc_only.confirmation_code_required);
        assert_eq!(cc_only.to_string(), "LPA:1$rsp.example.com$$$1");

        let no_mid: ActivationCode = "LPA:1$rsp.example.com".parse().unwrap();
        assert_eq!(no_mid.matching_id, "");
        assert_eq!(no_mid.to_string(), "LPA:1$rsp.example.com$");
        let back: ActivationCode = no_mid.to_string().parse().unwrap();
        assert_eq!(back, no_mid);
    }

    #[test]
    fn typed_errors() {
        use ActivationCodeError as E;
        assert_eq!("".parse::<ActivationCode>(), Err(E::Empty));
        assert!(matches!(
            "LPA:2$a$b".parse::<ActivationCode>(),
            Err(E::UnsupportedFormat(_))
        ));
        assert_eq!("LPA:1$$b".parse::<ActivationCode>(), Err(E::MissingAddress));
        assert!(matches!(
            "LPA:1$a b$c".parse::<ActivationCode>(),
            Err(E::InvalidAddress(_))
        ));
        assert!(matches!(
            "LPA:1$a$b$x.y".parse::<ActivationCode>(),
            Err(E::InvalidOid(_))
        ));
        assert!(matches!(
            "LPA:1$a$b$$0".parse::<ActivationCode>(),
            Err(E::InvalidCcFlag(_))
        ));
        assert_eq!(
            "LPA:1$a$b$$1$x".parse::<ActivationCode>(),
            Err(E::TooManyFields(6))
        );
        assert_eq!(
            "LPA:1$a$b\n$c".parse::<ActivationCode>(),
            Err(E::ControlCharacter)
        );
    }

    proptest! {
        #[test]
        fn never_panics(s in ".{0,120}") {
            let _ = s.parse::<ActivationCode>();
        }

        #[test]
        fn round_trips(
            addr in "[a-z0-9][a-z0-9.-]{0,30}",
            mid in "[0-9A-Z-]{0,30}",
            oid in proptest::option::of("1\\.(0|[1-9]|[1-3][0-9])(\\.(0|[1-9][0-9]{0,4})){0,4}"),
            cc in any::<bool>(),
        ) {
            let ac = ActivationCode {
                smdp_address: addr,
                matching_id: mid,
                smdp_oid: oid.map(|o| o.parse().unwrap()),
                confirmation_code_required: cc,
            };
            prop_assert_eq!(ac.to_string().parse::<ActivationCode>().unwrap(), ac);
        }
    }
}
