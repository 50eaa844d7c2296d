//! The profiles this SM-DP+ can hand out.
//!
//! A profile type (its name is the ES2+ `profileType`) is one UPP template (a DER profile package,
//! e.g. a TS.48 test profile), a range of ICCIDs, the profile package versions it is available in,
//! the Operators allowed to order it, and the profile metadata shown to the user. Each allocated
//! profile is the template with its ICCID patched in both places it appears: the ProfileHeader
//! (`iccid [3]`, tag `83`, digits in reading order, `F`-padded) and EF.ICCID (`fillFileContent`
//! of `ef-iccid` in the MF element, nibble-swapped BCD) ([`personalise_iccid`]).
//!
//! [`Inventory::allocate`] serves DownloadOrder: a given ICCID, or the first free ICCID of the
//! profile type's range (free = no order row, or a row in state Available). Creating or advancing
//! the order row is the reservation; a concurrent node that took the same ICCID makes the write
//! fail and the scan moves on.
//!
//! [`select_package_version`] is the pure profile package version choice of sgp22.md §7.

use std::collections::BTreeMap;
use std::fmt;

use rsp_sgp22::{
    NotificationConfigurationInformation, NotificationEvent, PprIds, SeqOf, StoreMetadataRequest,
};
use rsp_store::WriteOp;
use rsp_types::codes::sgp22::status;
use rsp_types::tlv::{self, Tag};
use rsp_types::{Eid, Iccid, StatusCode, Svn};
use time::OffsetDateTime;

use crate::order::{Order, OrderLimits, OrderStoreError, Orders, StoredOrder};

/// Why a UPP could not be read or personalised.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UppError {
    /// Not a sequence of well-formed TLVs.
    #[error("profile package is not well-formed BER-TLV: {0}")]
    Tlv(#[from] tlv::TlvError),
    /// No ProfileHeader (`A0`) first, or no `iccid` (`83`, 10 bytes) in it.
    #[error("profile package has no ProfileHeader iccid")]
    NoHeaderIccid,
    /// No MF element (`B0`) with `ef-iccid` (`A4`) holding a 10-byte `fillFileContent` (`83`).
    #[error("profile package has no EF.ICCID content in the MF element")]
    NoEfIccid,
    /// The two ICCIDs of the template disagree or are not valid ICCIDs.
    #[error("profile package ICCIDs are inconsistent: {0}")]
    Inconsistent(String),
}

const TAG_HEADER: u32 = 0xA0;
const TAG_HEADER_ICCID: u32 = 0x83;
const TAG_MF: u32 = 0xB0;
const TAG_EF_ICCID: u32 = 0xA4;
const TAG_FILL_FILE_CONTENT: u32 = 0x83;

fn tag(v: u32) -> Result<Tag, UppError> {
    Ok(Tag::from_u32(v)?)
}

/// Offset of `part` inside `whole` (`part` must be a sub-slice of it).
fn offset_in(whole: &[u8], part: &[u8]) -> Option<usize> {
    let start = (part.as_ptr() as usize).checked_sub(whole.as_ptr() as usize)?;
    (start + part.len() <= whole.len()).then_some(start)
}

/// Where the two ICCID copies are: byte offsets of the 10-byte values.
fn iccid_locations(upp: &[u8]) -> Result<(usize, usize), UppError> {
    let mut header = None;
    let mut ef = None;
    for (i, item) in tlv::iter(upp).enumerate() {
        let el = item?;
        if i == 0 && el.tag == tag(TAG_HEADER)? {
            header = el
                .find(tag(TAG_HEADER_ICCID)?)?
                .filter(|t| t.value.len() == 10)
                .and_then(|t| offset_in(upp, t.value));
        } else if el.tag == tag(TAG_MF)?
            && ef.is_none()
            && let Some(ef_iccid) = el.find(tag(TAG_EF_ICCID)?)?
        {
            ef = ef_iccid
                .find(tag(TAG_FILL_FILE_CONTENT)?)?
                .filter(|t| t.value.len() == 10)
                .and_then(|t| offset_in(upp, t.value));
        }
    }
    Ok((
        header.ok_or(UppError::NoHeaderIccid)?,
        ef.ok_or(UppError::NoEfIccid)?,
    ))
}

/// The ICCID of a UPP, read from the ProfileHeader and checked against EF.ICCID.
pub fn upp_iccid(upp: &[u8]) -> Result<Iccid, UppError> {
    let (h, e) = iccid_locations(upp)?;
    let header = upp.get(h..h + 10).ok_or(UppError::NoHeaderIccid)?;
    let ef = upp.get(e..e + 10).ok_or(UppError::NoEfIccid)?;
    let digits: String = hex::encode_upper(header).trim_end_matches('F').to_owned();
    let from_header: Iccid = digits
        .parse()
        .map_err(|err| UppError::Inconsistent(format!("header iccid: {err}")))?;
    let from_ef = Iccid::from_bcd_swapped(ef)
        .map_err(|err| UppError::Inconsistent(format!("EF.ICCID: {err}")))?;
    if from_header != from_ef {
        return Err(UppError::Inconsistent(format!(
            "header {from_header} but EF.ICCID {from_ef}"
        )));
    }
    Ok(from_header)
}

/// The header form of an ICCID: 10 bytes, digits in reading order, `F`-padded.
fn header_iccid_bytes(iccid: &Iccid) -> [u8; 10] {
    let mut out = [0xFFu8; 10];
    let digits = iccid.as_str().as_bytes();
    for (byte, pair) in out.iter_mut().zip(digits.chunks(2)) {
        let hi = pair.first().map_or(0x0F, |d| d - b'0');
        let lo = pair.get(1).map_or(0x0F, |d| d - b'0');
        *byte = (hi << 4) | lo;
    }
    out
}

/// The template with `iccid` in the ProfileHeader and in EF.ICCID (same length, so nothing
/// else moves).
pub fn personalise_iccid(upp: &[u8], iccid: &Iccid) -> Result<Vec<u8>, UppError> {
    upp_iccid(upp)?;
    let (h, e) = iccid_locations(upp)?;
    let mut out = upp.to_vec();
    out.get_mut(h..h + 10)
        .ok_or(UppError::NoHeaderIccid)?
        .copy_from_slice(&header_iccid_bytes(iccid));
    out.get_mut(e..e + 10)
        .ok_or(UppError::NoEfIccid)?
        .copy_from_slice(&iccid.to_bcd_swapped());
    Ok(out)
}

/// A contiguous range of ICCIDs: `count` numbers from `first` (the Luhn digit recomputed for
/// each).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IccidRange {
    /// The first ICCID.
    pub first: Iccid,
    /// How many.
    pub count: u64,
}

impl IccidRange {
    /// The `index`-th ICCID of the range, if inside it (and still of the same length).
    pub fn nth(&self, index: u64) -> Option<Iccid> {
        if index >= self.count {
            return None;
        }
        let digits = self.first.as_str();
        let payload = digits.get(..digits.len().checked_sub(1)?)?;
        let n: u128 = payload.parse().ok()?;
        let next = n.checked_add(u128::from(index))?;
        let text = format!("{next:0width$}", width = payload.len());
        if text.len() != payload.len() {
            return None;
        }
        Iccid::with_luhn(&text).ok()
    }

    /// (digit count, first payload, payload after the last): the payload is the ICCID without
    /// its Luhn digit.
    fn span(&self) -> Option<(usize, u128, u128)> {
        let a = self.first.as_str();
        let start: u128 = a.get(..a.len().checked_sub(1)?)?.parse().ok()?;
        Some((a.len(), start, start.checked_add(u128::from(self.count))?))
    }

    /// Whether two ranges share an ICCID.
    pub fn overlaps(&self, other: &IccidRange) -> bool {
        match (self.span(), other.span()) {
            (Some((la, sa, ea)), Some((lb, sb, eb))) => la == lb && sa < eb && sb < ea,
            _ => false,
        }
    }

    /// Whether `iccid` is in the range.
    pub fn contains(&self, iccid: &Iccid) -> bool {
        self.index_of(iccid).is_some()
    }

    /// The position of `iccid` in the range.
    pub fn index_of(&self, iccid: &Iccid) -> Option<u64> {
        let a = self.first.as_str();
        let b = iccid.as_str();
        if a.len() != b.len() {
            return None;
        }
        let pa: u128 = a.get(..a.len() - 1)?.parse().ok()?;
        let pb: u128 = b.get(..b.len() - 1)?.parse().ok()?;
        let d = u64::try_from(pb.checked_sub(pa)?).ok()?;
        (d < self.count).then_some(d)
    }
}

/// The metadata of a profile type (ES9+ `profileMetadata`, StoreMetadataRequest).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProfileMetadata {
    /// `serviceProviderName`.
    pub service_provider_name: String,
    /// `profileName`.
    pub profile_name: String,
    /// `profileClass` (0 test, 1 provisioning, 2 operational), if stated.
    pub profile_class: Option<i64>,
    /// Profile Policy Rules (bit numbers of `PprIds`), if any.
    pub ppr_ids: Vec<usize>,
    /// Notification configuration: (NotificationEvent bit, notification address).
    pub notifications: Vec<(usize, String)>,
}

/// One profile type.
#[derive(Clone, PartialEq, Eq)]
pub struct ProfileTypeConfig {
    /// The ES2+ `profileType` name.
    pub name: String,
    /// The UPP template (DER profile package).
    pub template: Vec<u8>,
    /// ICCIDs handed out for this type.
    pub iccids: IccidRange,
    /// Profile package versions the profile exists in (e.g. 2.3.0, 3.1.0).
    pub package_versions: Vec<Svn>,
    /// Operators allowed to order it (`None` = every known Operator).
    pub operators: Option<Vec<String>>,
    /// Metadata.
    pub metadata: ProfileMetadata,
}

impl fmt::Debug for ProfileTypeConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProfileTypeConfig")
            .field("name", &self.name)
            .field("template_len", &self.template.len())
            .field("iccids", &self.iccids)
            .field("package_versions", &self.package_versions)
            .field("operators", &self.operators)
            .finish_non_exhaustive()
    }
}

impl ProfileTypeConfig {
    /// Whether `operator` may order this type.
    pub fn allows(&self, operator: &str) -> bool {
        self.operators
            .as_ref()
            .is_none_or(|ops| ops.iter().any(|o| o == operator))
    }
}

/// Refusals of the inventory, with their SGP.22 codes.
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    /// A profile type's template is unusable.
    #[error("profile type {name}: {source}")]
    Template {
        /// The type.
        name: String,
        /// Why.
        source: UppError,
    },
    /// Two profile types share a name or an ICCID.
    #[error("inventory configuration: {0}")]
    Config(String),
    /// Neither `iccid` nor `profileType` was given (1.6/2.2).
    #[error("iccid or profileType is required")]
    MissingSelector,
    /// The ICCID belongs to no profile type (8.2.1/3.9).
    #[error("ICCID unknown")]
    UnknownIccid,
    /// The profile type is unknown (8.2.5/3.9).
    #[error("profile type unknown")]
    UnknownProfileType,
    /// The Operator may not order this profile type (8.2.5/1.2).
    #[error("profile type not allowed for this Operator")]
    ProfileTypeNotAllowed,
    /// The ICCID is not of the profile type given (8.2.5/3.8).
    #[error("profile type not aligned with the ICCID")]
    ProfileTypeMismatch,
    /// No free ICCID left in the profile type's range (8.2.5/3.7).
    #[error("no profile of this type left")]
    Exhausted,
    /// The ICCID is taken (8.2.1/3.3).
    #[error("profile not available")]
    NotAvailable,
    /// The order store failed.
    #[error(transparent)]
    Store(#[from] OrderStoreError),
}

impl InventoryError {
    /// The subject / reason code (`None` for internal failures: answer 1.2/4.2).
    pub fn status(&self) -> Option<StatusCode> {
        Some(match self {
            InventoryError::MissingSelector => status::MISSING_PARAMETER,
            InventoryError::UnknownIccid => status::UNKNOWN_ICCID,
            InventoryError::UnknownProfileType => status::UNKNOWN_PROFILE_TYPE,
            InventoryError::ProfileTypeNotAllowed => status::PROFILE_TYPE_NOT_ALLOWED,
            InventoryError::ProfileTypeMismatch => status::PROFILE_TYPE_MISMATCH,
            InventoryError::Exhausted => status::PROFILE_TYPE_EXHAUSTED,
            InventoryError::NotAvailable => status::PROFILE_NOT_AVAILABLE,
            InventoryError::Store(OrderStoreError::Order(e)) => e.status(),
            _ => return None,
        })
    }
}

/// What DownloadOrder asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllocationRequest {
    /// The calling Operator.
    pub operator: String,
    /// `eid`.
    pub eid: Option<Eid>,
    /// `iccid`.
    pub iccid: Option<Iccid>,
    /// `profileType`.
    pub profile_type: Option<String>,
    /// When the order expires.
    pub expires_at: Option<OffsetDateTime>,
    /// Counter limits for the order.
    pub limits: OrderLimits,
}

/// The profile types of this SM-DP+.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    types: BTreeMap<String, ProfileTypeConfig>,
}

impl Inventory {
    /// Checks and indexes the profile types (templates readable, names unique, ranges disjoint).
    pub fn new(types: Vec<ProfileTypeConfig>) -> Result<Inventory, InventoryError> {
        let mut map: BTreeMap<String, ProfileTypeConfig> = BTreeMap::new();
        for t in types {
            upp_iccid(&t.template).map_err(|source| InventoryError::Template {
                name: t.name.clone(),
                source,
            })?;
            for other in map.values() {
                if t.iccids.overlaps(&other.iccids) {
                    return Err(InventoryError::Config(format!(
                        "ICCID ranges of {} and {} overlap",
                        t.name, other.name
                    )));
                }
            }
            if map.contains_key(&t.name) {
                return Err(InventoryError::Config(format!(
                    "profile type {} declared twice",
                    t.name
                )));
            }
            map.insert(t.name.clone(), t);
        }
        Ok(Inventory { types: map })
    }

    /// A profile type by name.
    pub fn profile_type(&self, name: &str) -> Option<&ProfileTypeConfig> {
        self.types.get(name)
    }

    /// The profile type whose range holds `iccid`.
    pub fn type_of_iccid(&self, iccid: &Iccid) -> Option<&ProfileTypeConfig> {
        self.types.values().find(|t| t.iccids.contains(iccid))
    }

    /// Every profile type.
    pub fn profile_types(&self) -> impl Iterator<Item = &ProfileTypeConfig> {
        self.types.values()
    }

    /// The personalised UPP of `iccid` (its type's template with the ICCID patched in).
    pub fn personalised_upp(&self, iccid: &Iccid) -> Result<Vec<u8>, InventoryError> {
        let t = self
            .type_of_iccid(iccid)
            .ok_or(InventoryError::UnknownIccid)?;
        personalise_iccid(&t.template, iccid).map_err(|source| InventoryError::Template {
            name: t.name.clone(),
            source,
        })
    }

    /// The StoreMetadataRequest of `iccid`.
    pub fn metadata(&self, iccid: &Iccid) -> Result<StoreMetadataRequest, InventoryError> {
        let t = self
            .type_of_iccid(iccid)
            .ok_or(InventoryError::UnknownIccid)?;
        Ok(store_metadata_request(&t.metadata, iccid))
    }

    /// The profile package version to deliver `iccid` in, for an eUICC declaring `base` and
    /// `additional` (sgp22.md §7); `None` = no eligible profile (8.2.5/4.3, U-39).
    pub fn package_version_for(
        &self,
        iccid: &Iccid,
        base: Svn,
        additional: &[Svn],
    ) -> Result<Option<Svn>, InventoryError> {
        let t = self
            .type_of_iccid(iccid)
            .ok_or(InventoryError::UnknownIccid)?;
        Ok(select_package_version(
            base,
            additional,
            &t.package_versions,
        ))
    }

    /// DownloadOrder: reserves the requested ICCID or the first free one of the profile type,
    /// as an order in state Allocated / Linked, and returns it stored.
    pub async fn allocate(
        &self,
        orders: &Orders,
        req: &AllocationRequest,
        now: OffsetDateTime,
    ) -> Result<StoredOrder, InventoryError> {
        self.allocate_with(orders, req, now, |_| Vec::new()).await
    }

    /// [`Inventory::allocate`], storing `extra(order)` in the same atomic batch as the
    /// reservation (an idempotency record, an audit entry).
    pub async fn allocate_with<F>(
        &self,
        orders: &Orders,
        req: &AllocationRequest,
        now: OffsetDateTime,
        extra: F,
    ) -> Result<StoredOrder, InventoryError>
    where
        F: Fn(&StoredOrder) -> Vec<WriteOp>,
    {
        let ptype = match (&req.iccid, &req.profile_type) {
            (Some(iccid), given) => {
                let t = self
                    .type_of_iccid(iccid)
                    .ok_or(InventoryError::UnknownIccid)?;
                if given.as_deref().is_some_and(|g| g != t.name) {
                    return Err(InventoryError::ProfileTypeMismatch);
                }
                t
            }
            (None, Some(name)) => self
                .profile_type(name)
                .ok_or(InventoryError::UnknownProfileType)?,
            (None, None) => return Err(InventoryError::MissingSelector),
        };
        if !ptype.allows(&req.operator) {
            return Err(InventoryError::ProfileTypeNotAllowed);
        }
        if let Some(iccid) = &req.iccid {
            return match self
                .try_reserve(orders, ptype, iccid, req, now, &extra)
                .await?
            {
                Some(stored) => Ok(stored),
                None => Err(InventoryError::NotAvailable),
            };
        }
        for index in 0..ptype.iccids.count {
            let Some(iccid) = ptype.iccids.nth(index) else {
                break;
            };
            if let Some(stored) = self
                .try_reserve(orders, ptype, &iccid, req, now, &extra)
                .await?
            {
                return Ok(stored);
            }
        }
        Err(InventoryError::Exhausted)
    }

    /// Reserves `iccid` if free; `None` if taken (also when another writer won the race).
    async fn try_reserve<F>(
        &self,
        orders: &Orders,
        ptype: &ProfileTypeConfig,
        iccid: &Iccid,
        req: &AllocationRequest,
        now: OffsetDateTime,
        extra: &F,
    ) -> Result<Option<StoredOrder>, InventoryError>
    where
        F: Fn(&StoredOrder) -> Vec<WriteOp>,
    {
        let mut stored = match orders.get(iccid).await? {
            Some(s) if s.order.state == crate::order::OrderState::Available => s,
            Some(_) => return Ok(None),
            None => StoredOrder {
                order: Order::available(*iccid, ptype.name.clone()),
                version: 0,
            },
        };
        stored.order.profile_type = ptype.name.clone();
        stored
            .order
            .download_order(&req.operator, req.eid, req.expires_at, req.limits)
            .map_err(OrderStoreError::from)?;
        match orders.save(&stored, extra(&stored), now).await {
            Ok(s) => Ok(Some(s)),
            Err(OrderStoreError::Conflict) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

/// Builds the StoreMetadataRequest of one profile.
pub fn store_metadata_request(m: &ProfileMetadata, iccid: &Iccid) -> StoreMetadataRequest {
    let notifications = (!m.notifications.is_empty()).then(|| {
        SeqOf(
            m.notifications
                .iter()
                .map(|(bit, address)| NotificationConfigurationInformation {
                    profile_management_operation: NotificationEvent::with_bits(&[*bit]),
                    notification_address: address.clone(),
                    unknown_tags: vec![],
                })
                .collect(),
        )
    });
    StoreMetadataRequest {
        iccid: *iccid,
        service_provider_name: m.service_provider_name.clone(),
        profile_name: m.profile_name.clone(),
        icon_type: None,
        icon: None,
        profile_class: m.profile_class,
        notification_configuration_info: notifications,
        profile_owner: None,
        profile_policy_rules: (!m.ppr_ids.is_empty()).then(|| PprIds::with_bits(&m.ppr_ids)),
        service_specific_data_stored_in_euicc: None,
        service_specific_data_not_stored_in_euicc: None,
        rpm_configuration: None,
        hri_server_address: None,
        lpr_configuration: None,
        enterprise_configuration: None,
        service_description: None,
        device_change_configuration: None,
        unknown_tags: vec![],
    }
}

/// Whether an eUICC declaring `declared` can take a package of version `package`: same major,
/// and `package` (major.minor) not above the declared one (SAIP package versions stay
/// backward compatible within a major; project reading of sgp22.md §7).
fn supports(declared: Svn, package: Svn) -> bool {
    declared.major == package.major && (package.minor, package.patch) <= (declared.minor, u8::MAX)
}

/// The profile package version to deliver (sgp22.md §7): among the versions the profile exists
/// in (`available`), those the eUICC supports (its `baseProfilePackageVersion` and
/// `additionalProfilePackageVersions`, each covering the earlier minors of its major); a v3.x
/// one when possible (the highest), else the highest v2.x; `None` when there is no overlap
/// (answer `noEligibleProfile`, 8.2.5/4.3, U-39).
pub fn select_package_version(base: Svn, additional: &[Svn], available: &[Svn]) -> Option<Svn> {
    available
        .iter()
        .copied()
        .filter(|p| {
            std::iter::once(&base)
                .chain(additional)
                .any(|d| supports(*d, *p))
        })
        .max()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn package_version_selection() {
        let v = |a, b, c| Svn::new(a, b, c);
        let both = [v(2, 3, 0), v(3, 1, 0)];
        // v3 eUICC, profile in v2 and v3 → v3.
        assert_eq!(
            select_package_version(v(2, 3, 1), &[v(3, 1, 0)], &both),
            Some(v(3, 1, 0))
        );
        // v2 eUICC → the v2 package.
        assert_eq!(
            select_package_version(v(2, 3, 1), &[], &both),
            Some(v(2, 3, 0))
        );
        // v3 eUICC, profile only v2 → v2.
        assert_eq!(
            select_package_version(v(2, 3, 0), &[v(3, 2, 0)], &[v(2, 1, 0), v(2, 3, 0)]),
            Some(v(2, 3, 0))
        );
        // The eUICC's 2.2 cannot take a 2.3 package.
        assert_eq!(select_package_version(v(2, 2, 0), &[], &[v(2, 3, 0)]), None);
        assert_eq!(
            select_package_version(v(2, 2, 0), &[], &[v(2, 1, 0), v(2, 3, 0)]),
            Some(v(2, 1, 0))
        );
        // No overlap at all.
        assert_eq!(select_package_version(v(2, 3, 0), &[], &[v(3, 1, 0)]), None);
        assert_eq!(select_package_version(v(2, 3, 0), &[], &[]), None);
    }

    #[test]
    fn iccid_ranges() {
        let r = IccidRange {
            first: Iccid::with_luhn("898822800000000098").unwrap(),
            count: 5,
        };
        let third = r.nth(2).unwrap();
        assert_eq!(&third.as_str()[..18], "898822800000000100");
        assert_eq!(r.index_of(&third), Some(2));
        assert!(r.nth(5).is_none());
        assert!(!r.contains(&Iccid::with_luhn("898822800000000103").unwrap()));
        let top = IccidRange {
            first: Iccid::with_luhn("999999999999999999").unwrap(),
            count: 2,
        };
        assert!(top.nth(1).is_none(), "no overflow into a 19-digit payload");
    }
}
