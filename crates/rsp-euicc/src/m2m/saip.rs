//! Just enough of the TCA/SIMalliance eUICC Profile Package (SAIP) DER to install a package.
//!
//! A package is a sequence of `ProfileElement` CHOICE values, each a context-specific constructed
//! TLV. The card checks that the whole package is well-formed BER-TLV at the top level, that it
//! starts with the `ProfileHeader` (`[0]`, tag `A0`) and ends with the `end` element (`[10]`, tag
//! `AA`), and reads from the header the major/minor version (`80`, `81`), the profile type (`82`) and
//! the ICCID (`83`, 10 bytes, digits in reading order, `F`-padded). The package bytes are kept as
//! received; the memory it needs is its length (see [`ProfilePackage::memory_size`]).

use rsp_types::Iccid;
use rsp_types::tlv::{self, Tag};

/// Why a profile package was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SaipError {
    /// The package is not a sequence of well-formed TLVs.
    #[error("profile package is not well-formed BER-TLV: {0}")]
    Tlv(#[from] tlv::TlvError),
    /// The package is empty.
    #[error("profile package is empty")]
    Empty,
    /// The first element is not the ProfileHeader.
    #[error("profile package does not start with the ProfileHeader (A0)")]
    NoHeader,
    /// The last element is not the end element.
    #[error("profile package does not end with the end element (AA)")]
    NoEnd,
    /// A field of the header is missing or invalid.
    #[error("ProfileHeader: {0}")]
    Header(String),
}

const TAG_HEADER: u32 = 0xA0;
const TAG_END: u32 = 0xAA;

/// Facts the card needs from a profile package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfilePackage {
    /// ICCID from the ProfileHeader.
    pub iccid: Iccid,
    /// ProfileHeader major version.
    pub major_version: u8,
    /// ProfileHeader minor version.
    pub minor_version: u8,
    /// ProfileHeader profileType, when present.
    pub profile_type: Option<String>,
    /// Number of profile elements (header and end included).
    pub element_count: usize,
    /// Length of the package in bytes.
    pub len: usize,
}

impl ProfilePackage {
    /// Parses the top level of a DER profile package.
    pub fn parse(package: &[u8]) -> Result<Self, SaipError> {
        let elements = tlv::parse_all(package)?;
        let first = elements.first().ok_or(SaipError::Empty)?;
        if first.tag.value() != TAG_HEADER {
            return Err(SaipError::NoHeader);
        }
        match elements.last() {
            Some(last) if last.tag.value() == TAG_END && elements.len() > 1 => {}
            _ => return Err(SaipError::NoEnd),
        }
        let field = |tag: u32| -> Result<Option<&[u8]>, SaipError> {
            let t = Tag::from_u32(tag)?;
            Ok(first.find(t)?.map(|f| f.value))
        };
        let small = |tag: u32, name: &str| -> Result<u8, SaipError> {
            match field(tag)? {
                Some([v]) => Ok(*v),
                _ => Err(SaipError::Header(format!("{name} missing or not one byte"))),
            }
        };
        let major_version = small(0x80, "major-version")?;
        let minor_version = small(0x81, "minor-version")?;
        let profile_type = field(0x82)?.map(|v| String::from_utf8_lossy(v).into_owned());
        let raw_iccid = field(0x83)?.ok_or_else(|| SaipError::Header("iccid missing".into()))?;
        let digits: String = hex::encode(raw_iccid)
            .trim_end_matches(['f', 'F'])
            .to_string();
        let iccid = digits
            .parse::<Iccid>()
            .map_err(|e| SaipError::Header(format!("iccid {digits}: {e}")))?;
        Ok(Self {
            iccid,
            major_version,
            minor_version,
            profile_type,
            element_count: elements.len(),
            len: package.len(),
        })
    }

    /// Non-volatile memory the installed profile occupies inside its ISD-P: the package length
    /// (project rule; SAIP carries no memory figure of its own).
    pub fn memory_size(&self) -> u64 {
        self.len as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_package() {
        // A0 { 80 02, 81 03, 83 <iccid> } ‖ AA 00
        let mut p = vec![0xA0, 0x12, 0x80, 0x01, 0x02, 0x81, 0x01, 0x03, 0x83, 0x0A];
        p.extend_from_slice(&[0x89, 0x00, 0x01, 0x23, 0x45, 0x67, 0x89, 0x01, 0x23, 0x41]);
        p.extend_from_slice(&[0xAA, 0x00]);
        let pkg = ProfilePackage::parse(&p).unwrap();
        assert_eq!(pkg.iccid.as_str(), "89000123456789012341");
        assert_eq!((pkg.major_version, pkg.minor_version), (2, 3));
        assert_eq!(pkg.element_count, 2);
        assert_eq!(pkg.memory_size(), p.len() as u64);
        assert_eq!(ProfilePackage::parse(&[]), Err(SaipError::Empty));
        assert_eq!(
            ProfilePackage::parse(&p[..p.len() - 2]),
            Err(SaipError::NoEnd)
        );
        assert!(ProfilePackage::parse(&p[..p.len() - 1]).is_err());
        assert_eq!(
            ProfilePackage::parse(&[0xAA, 0x00]),
            Err(SaipError::NoHeader)
        );
    }
}
