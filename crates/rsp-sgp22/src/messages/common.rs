//! Small types several messages share.

use crate::capability::{BitString, named_bits};
use crate::der::{DecodeError, DerValue, EncodeError};
use crate::version::{Gate, Profile};

named_bits! {
    /// `PprIds ::= BIT STRING`: profile policy rules (sgp22.md §16.5; there is no ppr3, C-33).
    pub struct PprIds = "PprIds" {
        /// pprUpdateControl
        PPR_UPDATE_CONTROL = 0,
        /// ppr1: disabling this profile is not allowed
        PPR1 = 1,
        /// ppr2: deleting this profile is not allowed
        PPR2 = 2,
    }
}

named_bits! {
    /// `NotificationEvent ::= BIT STRING` (exactly one bit set in NotificationMetadata). v2.x
    /// names bits 1-3 enable/disable/delete; v3.1 names them localEnable/localDisable/localDelete
    /// and adds the RPM bits 4-7.
    pub struct NotificationEvent = "NotificationEvent" {
        /// notificationInstall
        INSTALL = 0,
        /// notificationLocalEnable (v2 notificationEnable)
        LOCAL_ENABLE = 1,
        /// notificationLocalDisable (v2 notificationDisable)
        LOCAL_DISABLE = 2,
        /// notificationLocalDelete (v2 notificationDelete)
        LOCAL_DELETE = 3,
        /// notificationRpmEnable (v3)
        RPM_ENABLE = 4,
        /// notificationRpmDisable (v3)
        RPM_DISABLE = 5,
        /// notificationRpmDelete (v3)
        RPM_DELETE = 6,
        /// loadRpmPackageResult (v3)
        LOAD_RPM_PACKAGE_RESULT = 7,
    }
}

crate::der_sequence! {
    /// `OperatorId ::= SEQUENCE { mccMnc, gid1?, gid2? }`.
    pub struct OperatorId = "OperatorId" {
        /// `mccMnc [0] OCTET STRING (SIZE(3))`; an `E` nibble is a wildcard in RAT entries.
        mcc_mnc [0]: req Vec<u8> => Gate::Always,
        /// `gid1 [1] OCTET STRING OPTIONAL`.
        gid1 [1]: opt Vec<u8> => Gate::Always,
        /// `gid2 [2] OCTET STRING OPTIONAL`.
        gid2 [2]: opt Vec<u8> => Gate::Always,
    }
}

crate::der_sequence! {
    /// `NotificationConfigurationInformation ::= SEQUENCE { profileManagementOperation,
    /// notificationAddress }`.
    pub struct NotificationConfigurationInformation = "NotificationConfigurationInformation" {
        /// `profileManagementOperation [0] NotificationEvent`.
        profile_management_operation [0]: req NotificationEvent => Gate::Always,
        /// `notificationAddress [1] UTF8String` (FQDN).
        notification_address [1]: req String => Gate::Always,
    }
}
