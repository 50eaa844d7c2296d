//! SGP.02 data types (Annex A / Annex E, sgp02.md §5): the EIS, security domains and key sets, profile records,
//! POL2, audit trail, additional properties, and the project-defined PLMA and ONC entries (U-06).
//!
//! Names, order and cardinality follow the GSMA v3.0-era schema package (`euicc.common.types.xsd`). Its anonymous
//! complex types get names here (`EumSignedInfoType`, `EuiccCapabilitiesType`, `ProfileInfoType`, `KeysetType`,
//! `KeyComponentType`, `AuditTrailType`, `AdditionalPropertiesType`, `OperationTypeType`).
//!
//! Two field kinds extend what `xml_type!` offers, both through [`XmlField`]:
//! - [`Attr`]: an XML attribute. Declared with an element name starting with `@` (`kcv: Attr<HexBinary> = "@kcv"`);
//!   its [`FieldSchema`](crate::schema::FieldSchema) carries that `@name`, so schema consumers (XSD generator,
//!   sample generator) tell attributes from elements by the leading `@`, which no XML element name can have.
//! - [`Bounded`]: a list with explicit `minOccurs`/`maxOccurs` (e.g. `Keyset` 1..127).

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use rsp_types::{Aid, Eid, EntityId, Iccid, ProfileType};

use crate::common::{DateTime, ExecutionStatusXml, HexBinary, hex_decode, hex_upper};
use crate::schema::{DecodeError, NonEmpty, SimpleSchema, TypeRef, XmlField, XmlItem, XmlText};
use crate::xml::{Attribute, Element};
use crate::{simple_type, xml_type};

// --- field kinds ----------------------------------------------------------------------------------

/// A required XML attribute of a complex type (declared with an element name `@name` in `xml_type!`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Attr<T>(pub T);

/// The attribute's local name for a field declared as `@name`.
pub fn attribute_name(field: &str) -> &str {
    field.strip_prefix('@').unwrap_or(field)
}

impl<T: XmlText> XmlField for Attr<T> {
    const MIN: u32 = 1;
    const MAX: Option<u32> = Some(1);
    fn type_ref() -> TypeRef {
        TypeRef::Simple(T::SCHEMA)
    }
    fn write(&self, _ns: &str, name: &str, parent: &mut Element) {
        parent.attributes.push(Attribute {
            ns: None,
            name: attribute_name(name).to_string(),
            value: self.0.to_text().into_owned(),
        });
    }
    fn read(parent: &Element, name: &str) -> Result<Self, DecodeError> {
        let value = parent
            .attribute(attribute_name(name))
            .ok_or_else(|| DecodeError::Missing {
                path: name.to_string(),
            })?;
        T::from_text(value)
            .map(Attr)
            .map_err(|message| DecodeError::Invalid {
                path: name.to_string(),
                message,
            })
    }
}

/// A repeated element with `minOccurs = MIN` and `maxOccurs = MAX`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bounded<T, const MIN: u32, const MAX: u32>(pub Vec<T>);

impl<T: XmlItem, const MIN: u32, const MAX: u32> XmlField for Bounded<T, MIN, MAX> {
    const MIN: u32 = MIN;
    const MAX: Option<u32> = Some(MAX);
    fn type_ref() -> TypeRef {
        T::type_ref()
    }
    fn write(&self, ns: &str, name: &str, parent: &mut Element) {
        self.0.write(ns, name, parent);
    }
    fn read(parent: &Element, name: &str) -> Result<Self, DecodeError> {
        let items = Vec::<T>::read(parent, name)?;
        let count = items.len();
        if count > usize::try_from(MAX).unwrap_or(usize::MAX) {
            return Err(DecodeError::TooMany {
                path: name.to_string(),
                count,
                max: MAX,
            });
        }
        if count < usize::try_from(MIN).unwrap_or(usize::MAX) {
            return Err(DecodeError::Missing {
                path: name.to_string(),
            });
        }
        Ok(Self(items))
    }
}

// --- opaque XML-DSig signature --------------------------------------------------------------------

/// The schema name of an opaque `ds:Signature` subtree (the XSD generator declares it as `xs:any` content from
/// the XML-DSig namespace).
pub static DS_SIGNATURE_TYPE: SimpleSchema = SimpleSchema {
    name: "ds:SignatureType",
    base: "",
    facets: &[],
};

/// The EUM's XML-DSig signature over `EumSignedInfo` (`ds:SignatureType`), kept as the received element subtree
/// (attributes, `ds:` children and text) until XML-DSig verification is implemented. The element's own name and
/// namespace are replaced by the field's on output.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EumSignature(pub Element);

impl XmlItem for EumSignature {
    fn type_ref() -> TypeRef {
        TypeRef::Simple(&DS_SIGNATURE_TYPE)
    }
    fn to_element(&self, ns: &str, name: &str) -> Element {
        let mut el = self.0.clone();
        el.ns = Some(ns.to_string());
        el.name = name.to_string();
        el
    }
    fn from_element(el: &Element) -> Result<Self, DecodeError> {
        Ok(Self(el.clone()))
    }
}

// --- simple types ---------------------------------------------------------------------------------

/// Declares a string enumeration: the enum, `as_str`, `FromStr`, `Display`, `ALL` and its simple type.
macro_rules! xml_enum {
    (
        $(#[doc = $doc:literal])*
        $name:ident = $xsd:literal {
            $( $(#[doc = $vdoc:literal])* $variant:ident = $text:literal ),+ $(,)?
        }
    ) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[doc = $vdoc])* $variant, )+
        }

        impl $name {
            /// Every value, in schema order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The wire text.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( Self::$variant => $text, )+
                }
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $( $text => Ok(Self::$variant), )+
                    other => Err(format!(concat!("not a ", $xsd, " value: {:?}"), other)),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        simple_type!(
            $name,
            $xsd,
            "xs:string",
            [$(("enumeration", $text)),+],
            |v| Cow::Borrowed(v.as_str()),
            |s| s.parse::<$name>()
        );
    };
}

xml_enum! {
    /// Profile state on the wire (`ProfileStateType`). In-Creation and Deleted are internal states only (C-40).
    ProfileState = "ProfileStateType" {
        /// ISD-P created, profile not yet downloaded completely.
        Created = "Created",
        /// Installed and disabled.
        Disabled = "Disabled",
        /// The enabled profile.
        Enabled = "Enabled",
    }
}

xml_enum! {
    /// Role of a security domain in the EIS (`SDRoleType`).
    SdRole = "SDRoleType" {
        /// The ISD-R (SM-SR role).
        IsdR = "ISD-R",
        /// The ECASD (eUICC certificate authority role).
        Ecasd = "ECASD",
    }
}

xml_enum! {
    /// Usage of a key set (`KeysetUsageType`).
    KeysetUsage = "KeysetUsageType" {
        /// GlobalPlatform SCP03.
        Scp03 = "SCP03",
        /// SCP80 (ETSI TS 102 225).
        Scp80 = "SCP80",
        /// SCP81 (PSK-TLS).
        Scp81 = "SCP81",
        /// Delegated management token generation.
        TokenGeneration = "TokenGeneration",
        /// Delegated management receipt verification.
        ReceiptVerification = "ReceiptVerification",
        /// Controlling authority.
        Ca = "CA",
    }
}

xml_enum! {
    /// ECC key length of a Scenario#3 key set (`ECCKeyLengthType`).
    EccKeyLength = "ECCKeyLengthType" {
        /// 256 bits.
        Ecc256 = "ECC-256",
        /// 384 bits.
        Ecc384 = "ECC-384",
        /// 512 bits.
        Ecc512 = "ECC-512",
        /// 521 bits.
        Ecc521 = "ECC-521",
    }
}

xml_enum! {
    /// Subject of a POL2 rule (`POL2RuleSubjectType`).
    Pol2Subject = "POL2RuleSubjectType" {
        /// The profile.
        Profile = "PROFILE",
    }
}

xml_enum! {
    /// Action of a POL2 rule (`POL2RuleActionType`).
    Pol2Action = "POL2RuleActionType" {
        /// Enabling the profile.
        Enable = "ENABLE",
        /// Disabling the profile.
        Disable = "DISABLE",
        /// Deleting the profile.
        Delete = "DELETE",
    }
}

xml_enum! {
    /// Qualification of a POL2 rule (`POL2RuleQualificationType`).
    Pol2Qualification = "POL2RuleQualificationType" {
        /// The action is refused.
        NotAllowed = "Not-Allowed",
        /// The profile is deleted after the action (e.g. delete when disabled).
        AutoDelete = "Auto-Delete",
    }
}

xml_enum! {
    /// A lifecycle operation a PLMA grants to an M2M SP (project schema, U-06).
    PlmaOperation = "PLMAOperationType" {
        /// ES4 EnableProfile.
        Enable = "ENABLE",
        /// ES4 DisableProfile.
        Disable = "DISABLE",
        /// ES4 DeleteProfile.
        Delete = "DELETE",
        /// ES4 SetFallBackAttribute.
        SetFallback = "SET_FALLBACK",
        /// ES4 SetEmergencyProfileAttribute.
        SetEmergency = "SET_EMERGENCY",
        /// Taking the Fall-Back attribute over from this Operator's profile.
        UnsetFallback = "UNSET_FALLBACK",
        /// Taking the Emergency attribute over from this Operator's profile (§3.25 case 2).
        UnsetEmergency = "UNSET_EMERGENCY",
        /// ES4 GetEIS on this Operator's profiles (project addition to U-06).
        GetEis = "GET_EIS",
        /// ES4 AuditEIS on this Operator's profiles (project addition to U-06).
        AuditEis = "AUDIT_EIS",
    }
}

xml_enum! {
    /// A notification kind, named like its handler function (PLMA grants, ONC discards; U-06).
    NotificationKind = "NotificationKindType" {
        /// HandleProfileDisabledNotification.
        ProfileDisabled = "HandleProfileDisabledNotification",
        /// HandleProfileEnabledNotification.
        ProfileEnabled = "HandleProfileEnabledNotification",
        /// HandleProfileDeletedNotification.
        ProfileDeleted = "HandleProfileDeletedNotification",
        /// HandleSMSRChangeNotification.
        SmsrChange = "HandleSMSRChangeNotification",
        /// HandleProfileDownloadedNotification.
        ProfileDownloaded = "HandleProfileDownloadedNotification",
        /// HandleProfilePOL2UpdatedNotification.
        ProfilePol2Updated = "HandleProfilePOL2UpdatedNotification",
        /// HandlePLMASettingNotification.
        PlmaSetting = "HandlePLMASettingNotification",
        /// HandleEmergencyProfileAttributeSetNotification.
        EmergencyProfileAttributeSet = "HandleEmergencyProfileAttributeSetNotification",
        /// HandleEmergencyProfileAttributeUnsetNotification.
        EmergencyProfileAttributeUnset = "HandleEmergencyProfileAttributeUnsetNotification",
        /// HandleFallBackAttributeSetNotification.
        FallBackAttributeSet = "HandleFallBackAttributeSetNotification",
        /// HandleFallBackAttributeUnsetNotification.
        FallBackAttributeUnset = "HandleFallBackAttributeUnsetNotification",
    }
}

/// A `major.minor.revision` version (`ThreeDigitVersion`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ThreeDigitVersion {
    /// Major number.
    pub major: u32,
    /// Minor number.
    pub minor: u32,
    /// Revision number.
    pub revision: u32,
}

impl FromStr for ThreeDigitVersion {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let mut parts = s.split('.');
        let mut next = || -> Result<u32, String> {
            let p = parts
                .next()
                .ok_or_else(|| format!("not a three-part version: {s:?}"))?;
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!("not a three-part version: {s:?}"));
            }
            p.parse::<u32>()
                .map_err(|e| format!("version number out of range: {e}"))
        };
        let v = Self {
            major: next()?,
            minor: next()?,
            revision: next()?,
        };
        if parts.next().is_some() {
            return Err(format!("not a three-part version: {s:?}"));
        }
        Ok(v)
    }
}

impl fmt::Display for ThreeDigitVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.revision)
    }
}

simple_type!(
    ThreeDigitVersion,
    "ThreeDigitVersion",
    "xs:string",
    [("pattern", "[0-9]+[.][0-9]+[.][0-9]+")],
    |v| Cow::Owned(v.to_string()),
    |s| s.parse::<ThreeDigitVersion>()
);

/// Checks that `s` is `min..=max` decimal digits.
fn digits(what: &str, s: &str, min: usize, max: usize) -> Result<String, String> {
    if s.len() < min || s.len() > max || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{what} must be {min} to {max} decimal digits"));
    }
    Ok(s.to_string())
}

/// An IMSI: up to 15 decimal digits (`IMSIType`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Imsi(String);

impl Imsi {
    /// Validates 0 to 15 digits.
    pub fn new(s: &str) -> Result<Self, String> {
        digits("IMSI", s, 0, 15).map(Self)
    }
    /// The digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

simple_type!(
    Imsi,
    "IMSIType",
    "xs:string",
    [("pattern", "[0-9]{0,15}")],
    |v| Cow::Borrowed(v.as_str()),
    |s| Imsi::new(s)
);

/// An MSISDN: 3 to 15 decimal digits (`MSISDNType`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Msisdn(String);

impl Msisdn {
    /// Validates 3 to 15 digits.
    pub fn new(s: &str) -> Result<Self, String> {
        digits("MSISDN", s, 3, 15).map(Self)
    }
    /// The digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

simple_type!(
    Msisdn,
    "MSISDNType",
    "xs:string",
    [("pattern", "[0-9]{3,15}")],
    |v| Cow::Borrowed(v.as_str()),
    |s| Msisdn::new(s)
);

/// A string of at most 100 characters (`String100`: platform type).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct String100(String);

impl String100 {
    /// Validates the length.
    pub fn new(s: &str) -> Result<Self, String> {
        if s.chars().count() > 100 {
            return Err("longer than 100 characters".into());
        }
        Ok(Self(s.to_string()))
    }
    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

simple_type!(
    String100,
    "String100",
    "xs:string",
    [("maxLength", "100")],
    |v| Cow::Borrowed(v.as_str()),
    |s| String100::new(s)
);

/// Decodes hex of exactly `N` bytes.
fn fixed_hex<const N: usize>(what: &str, s: &str) -> Result<[u8; N], String> {
    let bytes = hex_decode(s)?;
    <[u8; N]>::try_from(bytes.as_slice())
        .map_err(|_| format!("{what} must be {N} bytes, got {}", bytes.len()))
}

/// A toolkit application reference: 3 bytes (`TARType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tar(pub [u8; 3]);

simple_type!(
    Tar,
    "TARType",
    "xs:hexBinary",
    [("length", "3")],
    |v| Cow::Owned(hex_upper(&v.0)),
    |s| fixed_hex::<3>("TAR", s).map(Tar)
);

/// An audit-trail operation type code: 2 bytes (`OperationType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OperationType(pub [u8; 2]);

simple_type!(
    OperationType,
    "OperationTypeType",
    "xs:hexBinary",
    [("length", "2")],
    |v| Cow::Owned(hex_upper(&v.0)),
    |s| fixed_hex::<2>("operation type", s).map(OperationType)
);

/// A GlobalPlatform key type coding: 1 byte (`KeyTypeCodingType`, e.g. `88` = AES).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyTypeCoding(pub u8);

simple_type!(
    KeyTypeCoding,
    "KeyTypeCodingType",
    "xs:hexBinary",
    [("length", "1")],
    |v| Cow::Owned(hex_upper(&[v.0])),
    |s| fixed_hex::<1>("key type", s).map(|[b]| KeyTypeCoding(b))
);

/// Hex of at most 16 bytes (`hexBinary16`: SIN, SDIN).
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct HexBinary16(Vec<u8>);

impl HexBinary16 {
    /// Validates the length.
    pub fn new(bytes: &[u8]) -> Result<Self, String> {
        if bytes.len() > 16 {
            return Err(format!("at most 16 bytes allowed, got {}", bytes.len()));
        }
        Ok(Self(bytes.to_vec()))
    }
    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for HexBinary16 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HexBinary16({})", hex_upper(&self.0))
    }
}

simple_type!(
    HexBinary16,
    "hexBinary16",
    "xs:hexBinary",
    [("maxLength", "16")],
    |v| Cow::Owned(hex_upper(&v.0)),
    |s| hex_decode(s).and_then(|b| HexBinary16::new(&b))
);

/// Checks `min..=max`.
fn in_range(what: &str, v: u8, min: u8, max: u8) -> Result<u8, String> {
    if v < min || v > max {
        return Err(format!("{what} must be {min}..={max}, got {v}"));
    }
    Ok(v)
}

/// Parses a decimal integer in `min..=max`.
fn ranged(what: &str, s: &str, min: u8, max: u8) -> Result<u8, String> {
    let v = s
        .trim_start_matches('+')
        .parse::<u8>()
        .map_err(|e| format!("{what} is not an integer in {min}..={max}: {e}"))?;
    in_range(what, v, min, max)
}

/// A key set version, 1..=127 (`KeysetVersionType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeysetVersion(u8);

impl KeysetVersion {
    /// Validates 1..=127.
    pub fn new(v: u8) -> Result<Self, String> {
        in_range("key set version", v, 1, 127).map(Self)
    }
    /// The value.
    pub fn get(self) -> u8 {
        self.0
    }
}

simple_type!(
    KeysetVersion,
    "KeysetVersionType",
    "xs:integer",
    [("minInclusive", "1"), ("maxInclusive", "127")],
    |v| Cow::Owned(v.0.to_string()),
    |s| ranged("key set version", s, 1, 127).map(KeysetVersion)
);

/// A key index, 0..=127 (`KeyIndexType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyIndex(u8);

impl KeyIndex {
    /// Validates 0..=127.
    pub fn new(v: u8) -> Result<Self, String> {
        in_range("key index", v, 0, 127).map(Self)
    }
    /// The value.
    pub fn get(self) -> u8 {
        self.0
    }
}

simple_type!(
    KeyIndex,
    "KeyIndexType",
    "xs:integer",
    [("minInclusive", "0"), ("maxInclusive", "127")],
    |v| Cow::Owned(v.0.to_string()),
    |s| ranged("key index", s, 0, 127).map(KeyIndex)
);

/// The non-empty key of an additional property (`PropertyType/@key`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PropertyKey(String);

impl PropertyKey {
    /// Refuses an empty key.
    pub fn new(s: &str) -> Result<Self, String> {
        if s.is_empty() {
            return Err("property key must not be empty".into());
        }
        Ok(Self(s.to_string()))
    }
    /// The key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

simple_type!(
    PropertyKey,
    "PropertyKeyType",
    "xs:string",
    [("minLength", "1")],
    |v| Cow::Borrowed(v.as_str()),
    |s| PropertyKey::new(s)
);

simple_type!(i8, "xs:byte", "", [], |v| Cow::Owned(v.to_string()), |s| s
    .trim_start_matches('+')
    .parse::<i8>()
    .map_err(|e| format!("not an xs:byte: {e}")));

// --- EIS ------------------------------------------------------------------------------------------

xml_type! {
    /// The eUICC Information Set (`EISType`). The content may be partial depending on the function (GetEIS
    /// returns a filtered view).
    pub struct Eis = "EISType" {
        /// The part signed by the EUM.
        eum_signed_info: EumSignedInfo = "EumSignedInfo",
        /// The EUM's XML-DSig signature over `EumSignedInfo` (kept opaque).
        eum_signature: EumSignature = "EumSignature",
        /// Memory currently available for profile download, in bytes.
        remaining_memory: u64 = "RemainingMemory",
        /// Memory available for profiles when none is installed, in bytes.
        available_memory_for_profiles: u64 = "AvailableMemoryForProfiles",
        /// When the SM-SR last refreshed this information from the card.
        last_audit_date: Option<DateTime> = "LastAuditDate",
        /// The SM-SR in charge of the eUICC.
        smsr_id: EntityId = "Smsr-id",
        /// The profiles on the eUICC.
        profile_info: Vec<ProfileInfo> = "ProfileInfo",
        /// The ISD-R.
        isd_r: SecurityDomain = "Isd-r",
        /// Operations performed on the eUICC.
        audit_trail: Option<AuditTrail> = "AuditTrail",
        /// Key/value extensions.
        additional_properties: Option<AdditionalProperties> = "AdditionalProperties",
    }
}

xml_type! {
    /// The EIS part covered by the EUM signature.
    pub struct EumSignedInfo = "EumSignedInfoType" {
        /// The eUICC.
        eid: Eid = "Eid",
        /// The EUM.
        eum_id: EntityId = "Eum-id",
        /// Manufacturing date.
        production_date: DateTime = "ProductionDate",
        /// Platform / OS type.
        platform_type: String100 = "PlatformType",
        /// Platform / OS version.
        platform_version: ThreeDigitVersion = "PlatformVersion",
        /// Executable Load File AID for ISD-P instantiation.
        isd_p_loadfile_aid: Aid = "Isd-p-loadfile-aid",
        /// Executable Module AID for ISD-P instantiation.
        isd_p_module_aid: Aid = "Isd-p-module-aid",
        /// The ECASD.
        ecasd: SecurityDomain = "Ecasd",
        /// Transport and version capabilities.
        euicc_capabilities: EuiccCapabilities = "EuiccCapabilities",
    }
}

xml_type! {
    /// What the eUICC supports on ES5.
    pub struct EuiccCapabilities = "EuiccCapabilitiesType" {
        /// CAT_TP support.
        cattp_support: bool = "CattpSupport",
        /// CAT_TP version.
        cattp_version: Option<ThreeDigitVersion> = "CattpVersion",
        /// HTTPS (SCP81) support.
        http_support: bool = "HttpSupport",
        /// HTTPS version.
        http_version: Option<ThreeDigitVersion> = "HttpVersion",
        /// Secure packet (ETSI TS 102 225/226) version.
        secure_packet_version: ThreeDigitVersion = "SecurePacketVersion",
        /// SGP.02 version the card implements.
        remote_provisioning_version: ThreeDigitVersion = "RemoteProvisioningVersion",
    }
}

xml_type! {
    /// A profile in the EIS. `EmergencyProfileAttribute` and `TestProfile` are v4 additions defined by this
    /// project (U-02): rsp writes them only when set, and peers using the v3.0 schema never send them.
    pub struct ProfileInfo = "ProfileInfoType" {
        /// The profile.
        iccid: Iccid = "Iccid",
        /// Its ISD-P.
        isd_p_aid: Aid = "Isd-p-aid",
        /// The owning Operator.
        mno_id: EntityId = "Mno-id",
        /// Holds the Fall-Back attribute.
        fallback_attribute: bool = "FallbackAttribute",
        /// Holds the Emergency Profile attribute (v4 addition, U-02).
        emergency_profile_attribute: Option<bool> = "EmergencyProfileAttribute",
        /// Is a Test profile (v4 addition, U-02).
        test_profile: Option<bool> = "TestProfile",
        /// IMSI / MSISDN of the subscription.
        subscription_address: SubscriptionAddress = "SubscriptionAddress",
        /// State of the ISD-P.
        state: ProfileState = "State",
        /// The SM-DP that installed it (absent for profiles loaded at manufacturing).
        smdp_id: Option<EntityId> = "Smdp-id",
        /// The SM-DP's profile type.
        profile_type: Option<ProfileType> = "ProfileType",
        /// Memory allocated to the ISD-P, in bytes.
        allocated_memory: u64 = "AllocatedMemory",
        /// Free memory inside the allocation, in bytes.
        free_memory: Option<u64> = "FreeMemory",
        /// The POL2 rules (may be empty).
        pol2: Pol2 = "pol2",
    }
}

xml_type! {
    /// The address of a subscription (`SubscriptionAddressType`).
    pub struct SubscriptionAddress = "SubscriptionAddressType" {
        /// IMSI.
        imsi: Option<Imsi> = "Imsi",
        /// MSISDN.
        msisdn: Option<Msisdn> = "Msisdn",
    }
}

xml_type! {
    /// POL2 of a profile (`POL2Type`): zero rules is a deliberate "no rules".
    pub struct Pol2 = "POL2Type" {
        /// The rules.
        rule: Vec<Pol2Rule> = "Rule",
    }
}

xml_type! {
    /// One POL2 rule (`POL2RuleType`).
    pub struct Pol2Rule = "POL2RuleType" {
        /// Always PROFILE.
        subject: Pol2Subject = "Subject",
        /// The action the rule is about.
        action: Pol2Action = "Action",
        /// What happens.
        qualification: Pol2Qualification = "Qualification",
    }
}

xml_type! {
    /// A security domain (`SecurityDomainType`): the ISD-R or the ECASD.
    pub struct SecurityDomain = "SecurityDomainType" {
        /// Its AID.
        aid: Aid = "Aid",
        /// Its TARs (implicit from the AID when absent).
        tar: Vec<Tar> = "Tar",
        /// Security Domain Image Number.
        sin: HexBinary16 = "Sin",
        /// Security Domain Identification Number.
        sdin: HexBinary16 = "Sdin",
        /// ISD-R or ECASD.
        role: SdRole = "Role",
        /// Its key sets (1 to 127).
        keyset: Bounded<Keyset, 1, 127> = "Keyset",
    }
}

xml_type! {
    /// A key set of a security domain. The schema's `choice (0..128)` of `Key` / `Certificate` is carried as two
    /// lists; on input they may be interleaved, on output keys come first.
    pub struct Keyset = "KeysetType" {
        /// Key version number.
        version: KeysetVersion = "Version",
        /// Usage, when the version does not tell it.
        keyset_type: Option<KeysetUsage> = "Type",
        /// Counter (SCP80 replay counter); 0 when absent.
        cntr: Option<u64> = "Cntr",
        /// Secret keys (values encrypted with the transport key on ES1).
        key: Vec<Key> = "Key",
        /// Certificates.
        certificate: Vec<GpCertificate> = "Certificate",
    }
}

xml_type! {
    /// A key of a key set (`KeyType`).
    pub struct Key = "KeyType" {
        /// Key check value.
        kcv: Attr<HexBinary> = "@kcv",
        /// Index in the key set.
        index: KeyIndex = "Index",
        /// Its components (one for a simple key).
        key_components: NonEmpty<KeyComponent> = "KeyComponents",
    }
}

xml_type! {
    /// One key component (`KeyComponents` element: attributes only).
    pub struct KeyComponent = "KeyComponentType" {
        /// GlobalPlatform key type coding.
        key_type: Attr<KeyTypeCoding> = "@type",
        /// The raw (transport-encrypted on ES1) value.
        value: Attr<HexBinary> = "@value",
    }
}

xml_type! {
    /// A GlobalPlatform certificate in a key set (`GPCertificateType`).
    pub struct GpCertificate = "GPCertificateType" {
        /// Index of the matching private key.
        index: KeyIndex = "Index",
        /// The issuing CA.
        ca_id: EntityId = "CaId",
        /// The certificate (GP UICC configuration §9.2.1 coding).
        value: HexBinary = "Value",
    }
}

xml_type! {
    /// The audit trail of an eUICC.
    pub struct AuditTrail = "AuditTrailType" {
        /// The records.
        record: Vec<AuditTrailRecord> = "Record",
    }
}

xml_type! {
    /// A platform or profile management operation done by the SM-SR, or a notification it received.
    pub struct AuditTrailRecord = "AuditTrailRecordType" {
        /// The eUICC.
        eid: Eid = "Eid",
        /// The SM-SR that performed it.
        smsr_id: EntityId = "Smsr-id",
        /// When.
        operation_date: DateTime = "OperationDate",
        /// The operation type code.
        operation_type: OperationType = "OperationType",
        /// Who asked (absent for notifications).
        requester_id: Option<EntityId> = "RequesterId",
        /// Outcome (absent for notifications).
        operation_execution_status: Option<ExecutionStatusXml> = "OperationExecutionStatus",
        /// ISD-P concerned.
        isd_p_aid: Option<Aid> = "Isd-p-aid",
        /// Profile concerned.
        iccid: Option<Iccid> = "Iccid",
        /// Device IMEI as received from the card.
        imei: Option<HexBinary> = "Imei",
        /// Device MEID as received from the card.
        meid: Option<HexBinary> = "Meid",
    }
}

xml_type! {
    /// Key/value extensions of the EIS (also the payload of ES1 UpdateEISAdditionalProperties).
    pub struct AdditionalProperties = "AdditionalPropertiesType" {
        /// At least one property.
        property: NonEmpty<Property> = "Property",
    }
}

xml_type! {
    /// One additional property (`PropertyType`: attributes only).
    pub struct Property = "PropertyType" {
        /// Non-empty key.
        key: Attr<PropertyKey> = "@key",
        /// Value (may be empty).
        value: Attr<String> = "@value",
    }
}

xml_type! {
    /// The EIS of ES7 AuthenticateSMSR: only `EumSignedInfo/Eid` is sent (C-17); a full EIS is accepted on input.
    pub struct EisReference = "EISReferenceType" {
        /// Holds the EID.
        eum_signed_info: EumSignedInfoReference = "EumSignedInfo",
    }
}

xml_type! {
    /// `EumSignedInfo` reduced to the EID.
    pub struct EumSignedInfoReference = "EumSignedInfoReferenceType" {
        /// The eUICC.
        eid: Eid = "Eid",
    }
}

// --- PLMA and ONC (project schema, U-06) ----------------------------------------------------------

xml_type! {
    /// A Profile Lifecycle Management Authorisation: what an Operator lets an M2M SP do with its profiles of one
    /// Profile Type (project-defined structure, U-06).
    pub struct Plma = "PLMAType" {
        /// The Operator granting it.
        mno_id: EntityId = "Mno-id",
        /// The M2M SP receiving it.
        m2msp_id: EntityId = "M2MSP-id",
        /// The Profile Type it applies to.
        profile_type: ProfileType = "ProfileType",
        /// Operations allowed (none = authorisation withdrawn).
        authorised_operation: Vec<PlmaOperation> = "AuthorisedOperation",
        /// Notifications the M2M SP receives.
        authorised_notification: Vec<NotificationKind> = "AuthorisedNotification",
    }
}

xml_type! {
    /// An Operator Notifications Configuration: notifications an Operator does not want for one Profile Type
    /// (opt-out; project-defined structure, U-06).
    pub struct Onc = "ONCType" {
        /// The Operator.
        mno_id: EntityId = "Mno-id",
        /// The Profile Type.
        profile_type: ProfileType = "ProfileType",
        /// Notifications to drop.
        discarded_notification: Vec<NotificationKind> = "DiscardedNotification",
    }
}

impl Eis {
    /// The eUICC's EID.
    pub fn eid(&self) -> &Eid {
        &self.eum_signed_info.eid
    }
}

impl EisReference {
    /// A reference naming only `eid`.
    pub fn new(eid: Eid) -> Self {
        Self {
            eum_signed_info: EumSignedInfoReference { eid },
        }
    }

    /// The EID.
    pub fn eid(&self) -> &Eid {
        &self.eum_signed_info.eid
    }
}

impl Pol2 {
    /// No rules.
    pub fn empty() -> Self {
        Self { rule: Vec::new() }
    }
}
