//! The subject and reason code tables known to the project: the one place where status codes are
//! named.
//!
//! SGP.02 and SGP.22 share most of the numbering (both come from the GlobalPlatform Systems
//! Messaging model) but differ in places, so they are kept apart:
//! - time to live expired is `5.3` in SGP.02 and `4.10` in SGP.22; `5.4` (delivered with no
//!   response) exists only in SGP.02;
//! - subjects `8.4` and `8.7` (SGP.02, from njiwa's usage) and `8.8`..`8.12` (SGP.22: SM-DP+, SM-DS,
//!   RSP operation, eSIM CA, LPA) belong to one document each;
//! - `1.3.x` (protocol) is an SGP.22 v3 subject; it is listed for SGP.02 too but marked unverified.
//!
//! Each module holds one constant per code (`sgp22::subject::EUM_CERTIFICATE`), the table of
//! `(code, name, description)` entries, and `status`: named subject/reason pairs for the conditions
//! the servers report (`sgp22::status::EUM_CERTIFICATE_EXPIRED` = `8.1.2`/`6.3`). Provenance tags in
//! the descriptions follow `spec/README.md` (`[CY]`, `[22]`, `[DART]`, `[NJ-use]`, `[ANL]`, `[INF]`...).
//! SGP.02 subjects seen only in njiwa with no known meaning (`8.2.2`, `8.2.3`, `8.3.1`, `8.5.2`,
//! `8.5.3`) are deliberately not listed (U-01).

pub mod sgp02;
pub mod sgp22;

use crate::status::{ReasonCode, StatusCode, SubjectCode};

/// One row of a code table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CodeEntry {
    /// The dotted code.
    pub code: &'static str,
    /// The short name.
    pub name: &'static str,
    /// When it is used, with provenance tags.
    pub description: &'static str,
}

/// Which document's table to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Spec {
    /// SGP.02 (M2M).
    Sgp02,
    /// SGP.22 (consumer).
    Sgp22,
}

/// Builds a subject code constant; evaluated at compile time, so a bad literal fails the build.
pub(crate) const fn subject_const(s: &str) -> SubjectCode {
    match SubjectCode::from_static(s) {
        Ok(c) => c,
        Err(_) => panic!("invalid subject code constant"),
    }
}

/// Builds a reason code constant; evaluated at compile time, so a bad literal fails the build.
pub(crate) const fn reason_const(s: &str) -> ReasonCode {
    match ReasonCode::from_static(s) {
        Ok(c) => c,
        Err(_) => panic!("invalid reason code constant"),
    }
}

/// Declares one constant per code and the table of all of them.
macro_rules! code_table {
    ($kind:ident, $ctor:ident; $($name:ident = $code:literal, $text:literal, $desc:literal;)*) => {
        $(
            #[doc = concat!("`", $code, "` ", $text, " (description and source in `TABLE`).")]
            pub const $name: $kind = crate::codes::$ctor($code);
        )*
        /// Every code of this table: (code, name, description).
        pub const TABLE: &[crate::codes::CodeEntry] = &[
            $(crate::codes::CodeEntry { code: $code, name: $text, description: $desc }),*
        ];
    };
}
pub(crate) use code_table;

/// Declares named subject/reason pairs and the list of all of them.
macro_rules! status_codes {
    ($($(#[$meta:meta])* $name:ident = $subject:ident / $reason:ident;)*) => {
        $(
            $(#[$meta])*
            pub const $name: crate::status::StatusCode =
                crate::status::StatusCode::new(super::subject::$subject, super::reason::$reason);
        )*
        /// Every named pair of this module, by name.
        pub const ALL: &[(&str, crate::status::StatusCode)] = &[$((stringify!($name), $name)),*];
    };
}
pub(crate) use status_codes;

/// The entry for `code` in `table`.
pub fn lookup(table: &'static [CodeEntry], code: &str) -> Option<&'static CodeEntry> {
    table.iter().find(|e| e.code == code)
}

/// The subject table of `spec`.
pub fn subjects(spec: Spec) -> &'static [CodeEntry] {
    match spec {
        Spec::Sgp02 => sgp02::subject::TABLE,
        Spec::Sgp22 => sgp22::subject::TABLE,
    }
}

/// The reason table of `spec`.
pub fn reasons(spec: Spec) -> &'static [CodeEntry] {
    match spec {
        Spec::Sgp02 => sgp02::reason::TABLE,
        Spec::Sgp22 => sgp22::reason::TABLE,
    }
}

/// The name of a subject code in `spec`'s table (`"8.1.2"` → `"EUM certificate"`).
pub fn subject_name(spec: Spec, code: &str) -> Option<&'static str> {
    lookup(subjects(spec), code).map(|e| e.name)
}

/// The name of a reason code in `spec`'s table (`"6.3"` → `"Expired"`).
pub fn reason_name(spec: Spec, code: &str) -> Option<&'static str> {
    lookup(reasons(spec), code).map(|e| e.name)
}

/// A readable form for logs: `8.1.2 (EUM certificate) / 6.3 (Expired)`; unknown codes print bare.
pub fn describe(spec: Spec, code: &StatusCode) -> String {
    let part = |c: &str, name: Option<&str>| match name {
        Some(n) => format!("{c} ({n})"),
        None => c.to_owned(),
    };
    format!(
        "{} / {}",
        part(
            code.subject.as_str(),
            subject_name(spec, code.subject.as_str())
        ),
        part(
            code.reason.as_str(),
            reason_name(spec, code.reason.as_str())
        )
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn check_table(table: &[CodeEntry]) {
        let mut seen = HashSet::new();
        for e in table {
            assert!(seen.insert(e.code), "duplicate code {}", e.code);
            assert!(
                !e.name.is_empty() && !e.description.is_empty(),
                "{}",
                e.code
            );
            assert!(SubjectCode::new(e.code).is_ok(), "{}", e.code);
        }
    }

    #[test]
    fn tables_are_well_formed() {
        for spec in [Spec::Sgp02, Spec::Sgp22] {
            check_table(subjects(spec));
            check_table(reasons(spec));
        }
    }

    #[test]
    fn named_pairs_are_in_the_tables() {
        for (spec, all) in [
            (Spec::Sgp02, sgp02::status::ALL),
            (Spec::Sgp22, sgp22::status::ALL),
        ] {
            let mut names = HashSet::new();
            for (name, code) in all {
                assert!(names.insert(name), "duplicate name {name}");
                assert!(
                    subject_name(spec, code.subject.as_str()).is_some(),
                    "{name}: subject {} not in the {spec:?} table",
                    code.subject
                );
                assert!(
                    reason_name(spec, code.reason.as_str()).is_some(),
                    "{name}: reason {} not in the {spec:?} table",
                    code.reason
                );
            }
        }
    }

    #[test]
    fn the_two_documents_differ_where_they_should() {
        // Expiry numbering (sgp02.md §4.8, sgp22.md §9.2).
        assert_eq!(
            reason_name(Spec::Sgp02, "5.3"),
            Some("Time to live expired")
        );
        assert_eq!(reason_name(Spec::Sgp22, "5.3"), None);
        assert_eq!(
            reason_name(Spec::Sgp22, "4.10"),
            Some("Time to live expired")
        );
        assert_eq!(reason_name(Spec::Sgp02, "4.10"), None);
        assert_eq!(
            reason_name(Spec::Sgp02, "5.4"),
            Some("Delivered with no response")
        );
        assert_eq!(
            subject_name(Spec::Sgp22, "8.8.2"),
            Some("Security configuration")
        );
        assert_eq!(subject_name(Spec::Sgp02, "8.8.2"), None);
        assert_eq!(subject_name(Spec::Sgp02, "8.7"), Some("SM-SR"));
        // C-39: 8.1.4 is not a defined subject.
        assert_eq!(subject_name(Spec::Sgp22, "8.1.4"), None);
    }

    #[test]
    fn well_known_values() {
        assert_eq!(
            sgp22::status::EUM_CERTIFICATE_EXPIRED.to_string(),
            "8.1.2/6.3"
        );
        assert_eq!(
            sgp22::status::CI_PKID_NOT_SUPPORTED.to_string(),
            "8.8.2/3.1"
        );
        assert_eq!(
            sgp22::status::EUICC_SIGNATURE_INVALID.to_string(),
            "8.1/6.1"
        );
        assert_eq!(
            sgp22::status::UNSUPPORTED_PROTOCOL_VERSION.to_string(),
            "1.3.2/3.1"
        );
        assert_eq!(sgp02::status::VALIDITY_EXPIRED.to_string(), "1.6/5.3");
        assert_eq!(sgp02::status::UNKNOWN_EID.to_string(), "8.1.1/3.9");
        assert_eq!(sgp02::subject::FUNCTION_REQUESTER.as_str(), "1.1");
        assert_eq!(sgp02::subject_name("1.2.1"), Some("Validity period"));
        assert_eq!(sgp22::reason_name("4.10"), Some("Time to live expired"));
        assert_eq!(sgp22::subject_name("nonsense"), None);
        assert_eq!(
            describe(Spec::Sgp22, &sgp22::status::EUM_CERTIFICATE_EXPIRED),
            "8.1.2 (EUM certificate) / 6.3 (Expired)"
        );
        let odd = StatusCode::new(subject_const("8.99"), reason_const("3.8"));
        assert_eq!(describe(Spec::Sgp22, &odd), "8.99 / 3.8 (Refused)");
    }
}
