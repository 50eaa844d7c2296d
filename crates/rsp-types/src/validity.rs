//! `ValidityPeriod`: how long the provider may take for a function, in seconds from reception
//! (SGP.02 `ValidityPeriod` / `AcceptableValidityPeriod`, `xs:positiveInteger`).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// A validity period of 1..=`u32::MAX` seconds.
///
/// Decision (U-25): text values above `u32::MAX` are saturated rather than refused, so that an
/// over-long request reaches the provider's policy and gets `1.2.1`/`3.8` with an
/// `AcceptableValidityPeriod`, not a format error. Zero is refused (`positiveInteger`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct ValidityPeriod(u32);

/// Why a validity period was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidityPeriodError {
    /// Zero seconds.
    #[error("validity period must be a positive number of seconds, got 0")]
    Zero,
    /// Not a decimal integer.
    #[error("validity period {input:?} is not a decimal number of seconds")]
    NotANumber {
        /// The rejected text (truncated to 64 characters).
        input: String,
    },
    /// A negative number.
    #[error("validity period must be positive, got a negative value")]
    Negative,
}

impl ValidityPeriod {
    /// Builds a period; zero is refused.
    pub const fn from_secs(secs: u32) -> Result<ValidityPeriod, ValidityPeriodError> {
        if secs == 0 {
            Err(ValidityPeriodError::Zero)
        } else {
            Ok(ValidityPeriod(secs))
        }
    }

    /// Builds a period from a wider count, saturating at `u32::MAX`; zero is refused.
    pub fn from_secs_saturating(secs: u64) -> Result<ValidityPeriod, ValidityPeriodError> {
        ValidityPeriod::from_secs(u32::try_from(secs).unwrap_or(u32::MAX))
    }

    /// Seconds.
    pub const fn secs(self) -> u32 {
        self.0
    }

    /// As a `Duration`.
    pub const fn as_duration(self) -> Duration {
        Duration::from_secs(self.0 as u64)
    }
}

impl FromStr for ValidityPeriod {
    type Err = ValidityPeriodError;

    /// Parses `xs:positiveInteger` text: optional `+`, leading zeros allowed, surrounding whitespace
    /// ignored; saturates above `u32::MAX`.
    fn from_str(s: &str) -> Result<ValidityPeriod, ValidityPeriodError> {
        let t = s.trim();
        let not_a_number = || ValidityPeriodError::NotANumber {
            input: t.chars().take(64).collect(),
        };
        if let Some(rest) = t.strip_prefix('-') {
            if !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit()) {
                return if rest.bytes().all(|b| b == b'0') {
                    Err(ValidityPeriodError::Zero)
                } else {
                    Err(ValidityPeriodError::Negative)
                };
            }
            return Err(not_a_number());
        }
        let digits = t.strip_prefix('+').unwrap_or(t);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(not_a_number());
        }
        let significant = digits.trim_start_matches('0');
        if significant.is_empty() {
            return Err(ValidityPeriodError::Zero);
        }
        let secs = if significant.len() > 10 {
            u64::MAX
        } else {
            significant.parse::<u64>().map_err(|_| not_a_number())?
        };
        ValidityPeriod::from_secs_saturating(secs)
    }
}

impl fmt::Display for ValidityPeriod {
    /// Decimal seconds.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl serde::Serialize for ValidityPeriod {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u32(self.0)
    }
}

impl<'de> serde::Deserialize<'de> for ValidityPeriod {
    /// Accepts a JSON/TOML number or a decimal string.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<ValidityPeriod, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = ValidityPeriod;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a positive number of seconds")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<ValidityPeriod, E> {
                ValidityPeriod::from_secs_saturating(v).map_err(E::custom)
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<ValidityPeriod, E> {
                match u64::try_from(v) {
                    Ok(u) => self.visit_u64(u),
                    Err(_) => Err(E::custom(ValidityPeriodError::Negative)),
                }
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ValidityPeriod, E> {
                v.parse().map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_limits() {
        // 720 s: KPN's production value for SetFallBackAttribute (sgp02.md §4.7).
        assert_eq!("720".parse::<ValidityPeriod>().map(|v| v.secs()), Ok(720));
        assert_eq!(
            "+0720 ".parse::<ValidityPeriod>().map(|v| v.secs()),
            Ok(720)
        );
        assert_eq!(
            "99999999999999999999999"
                .parse::<ValidityPeriod>()
                .map(|v| v.secs()),
            Ok(u32::MAX)
        );
        assert_eq!(
            "4294967296".parse::<ValidityPeriod>().map(|v| v.secs()),
            Ok(u32::MAX)
        );
        assert_eq!(
            "0".parse::<ValidityPeriod>(),
            Err(ValidityPeriodError::Zero)
        );
        assert_eq!(
            "000".parse::<ValidityPeriod>(),
            Err(ValidityPeriodError::Zero)
        );
        assert_eq!(
            "-5".parse::<ValidityPeriod>(),
            Err(ValidityPeriodError::Negative)
        );
        assert_eq!(
            "-0".parse::<ValidityPeriod>(),
            Err(ValidityPeriodError::Zero)
        );
        for bad in ["", "+", "12s", "1.5", "-", "--1"] {
            assert!(
                matches!(
                    bad.parse::<ValidityPeriod>(),
                    Err(ValidityPeriodError::NotANumber { .. })
                ),
                "{bad}"
            );
        }
        assert_eq!(ValidityPeriod::from_secs(0), Err(ValidityPeriodError::Zero));
        let v = ValidityPeriod::from_secs(3600).unwrap();
        assert_eq!(v.as_duration(), Duration::from_secs(3600));
        assert_eq!(v.to_string(), "3600");
    }

    #[test]
    fn serde_number_or_string() {
        let v = ValidityPeriod::from_secs(720).unwrap();
        assert_eq!(serde_json::to_string(&v).unwrap(), "720");
        assert_eq!(serde_json::from_str::<ValidityPeriod>("720").unwrap(), v);
        assert_eq!(
            serde_json::from_str::<ValidityPeriod>("\"720\"").unwrap(),
            v
        );
        assert!(serde_json::from_str::<ValidityPeriod>("0").is_err());
        assert!(serde_json::from_str::<ValidityPeriod>("-1").is_err());
        assert!(serde_json::from_str::<ValidityPeriod>("1.5").is_err());
    }
}
