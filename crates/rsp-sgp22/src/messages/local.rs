//! The other ES10a/b/c commands between the LPA and the eUICC (sgp22.md §13): challenge, info,
//! notifications list, profile management, EID, RAT, addresses, nickname, memory reset.

use rsp_types::Iccid;

use crate::capability::BitString;
use crate::der::{RawContent, SeqOf};
use crate::messages::common::{
    NotificationConfigurationInformation, NotificationEvent, OperatorId, PprIds,
};
use crate::messages::download::{NotificationMetadata, PendingNotification};
use crate::types::Octet16;
use crate::version::Gate;

crate::der_sequence! {
    /// `GetEuiccChallengeRequest ::= [46] SEQUENCE {}` (`BF2E`).
    pub struct GetEuiccChallengeRequest = "GetEuiccChallengeRequest" tag 0xBF2E {}
}

crate::der_sequence! {
    /// `GetEuiccChallengeResponse ::= [46] SEQUENCE` (`BF2E`).
    pub struct GetEuiccChallengeResponse = "GetEuiccChallengeResponse" tag 0xBF2E {
        /// `euiccChallenge [0] Octet16`.
        euicc_challenge [0]: req Octet16 => Gate::Always,
    }
}

crate::der_sequence! {
    /// `GetEuiccInfo1Request ::= [32] SEQUENCE {}` (`BF20`).
    pub struct GetEuiccInfo1Request = "GetEuiccInfo1Request" tag 0xBF20 {}
}

crate::der_sequence! {
    /// `GetEuiccInfo2Request ::= [34] SEQUENCE {}` (`BF22`).
    pub struct GetEuiccInfo2Request = "GetEuiccInfo2Request" tag 0xBF22 {}
}

crate::der_sequence! {
    /// `ListNotificationRequest ::= [40] SEQUENCE` (`BF28`).
    pub struct ListNotificationRequest = "ListNotificationRequest" tag 0xBF28 {
        /// `profileManagementOperation [1] NotificationEvent OPTIONAL`: a filter.
        profile_management_operation [1]: opt NotificationEvent => Gate::Always,
    }
}

crate::der_choice! {
    /// `ListNotificationResponse ::= [40] CHOICE` (`BF28`).
    pub enum ListNotificationResponse = "ListNotificationResponse" tag 0xBF28 {
        /// `notificationMetadataList [0] SEQUENCE OF NotificationMetadata`.
        Ok [0] (SeqOf<NotificationMetadata>) => Gate::Always,
        /// `listNotificationsResultError [1] INTEGER` (127 undefinedError).
        Error [1] (i64) => Gate::Always,
    }
}

crate::der_choice! {
    /// `RetrieveNotificationsListRequest.searchCriteria [0] CHOICE`.
    pub enum NotificationSearchCriteria = "SearchCriteria" {
        /// `seqNumber [0] INTEGER`.
        SeqNumber [0] (i64) => Gate::Always,
        /// `profileManagementOperation [1] NotificationEvent`.
        ProfileManagementOperation [1] (NotificationEvent) => Gate::Always,
    }
}

crate::der_sequence! {
    /// `RetrieveNotificationsListRequest ::= [43] SEQUENCE` (`BF2B`).
    pub struct RetrieveNotificationsListRequest = "RetrieveNotificationsListRequest" tag 0xBF2B {
        /// `searchCriteria [0] CHOICE OPTIONAL` (EXPLICIT).
        search_criteria [0 explicit]: opt NotificationSearchCriteria => Gate::Always,
    }
}

crate::der_choice! {
    /// `RetrieveNotificationsListResponse ::= [43] CHOICE` (`BF2B`).
    pub enum RetrieveNotificationsListResponse = "RetrieveNotificationsListResponse" tag 0xBF2B {
        /// `notificationList [0] SEQUENCE OF PendingNotification`.
        Ok [0] (SeqOf<PendingNotification>) => Gate::Always,
        /// `notificationsListResultError [1] INTEGER` (1 noResultAvailable, 127 undefinedError).
        Error [1] (i64) => Gate::Always,
    }
}

crate::der_sequence! {
    /// `NotificationSentRequest ::= [48] SEQUENCE` (`BF30`): RemoveNotificationFromList.
    pub struct NotificationSentRequest = "NotificationSentRequest" tag 0xBF30 {
        /// `seqNumber [0] INTEGER`.
        seq_number [0]: req i64 => Gate::Always,
    }
}

crate::der_sequence! {
    /// `NotificationSentResponse ::= [48] SEQUENCE` (`BF30`).
    pub struct NotificationSentResponse = "NotificationSentResponse" tag 0xBF30 {
        /// `deleteNotificationStatus [0] INTEGER` (0 ok, 1 nothingToDelete, 127 undefinedError).
        delete_notification_status [0]: req i64 => Gate::Always,
    }
}

crate::der_choice! {
    /// A profile named by ISD-P AID or ICCID.
    pub enum ProfileIdentifier = "ProfileIdentifier" {
        /// `isdpAid [APPLICATION 15]` (`4F`).
        IsdpAid (0x4F) (Vec<u8>) => Gate::Always,
        /// `iccid Iccid` (`5A`).
        Iccid (0x5A) (Iccid) => Gate::Always,
    }
}

crate::der_choice! {
    /// `ProfileInfoListRequest.searchCriteria [0] CHOICE`.
    pub enum ProfileSearchCriteria = "SearchCriteria" {
        /// `isdpAid` (`4F`).
        IsdpAid (0x4F) (Vec<u8>) => Gate::Always,
        /// `iccid` (`5A`).
        Iccid (0x5A) (Iccid) => Gate::Always,
        /// `profileClass [21]`.
        ProfileClass [21] (i64) => Gate::Always,
    }
}

crate::der_sequence! {
    /// `ProfileInfoListRequest ::= [45] SEQUENCE` (`BF2D`): ES10c.GetProfilesInfo.
    pub struct ProfileInfoListRequest = "ProfileInfoListRequest" tag 0xBF2D {
        /// `searchCriteria [0] CHOICE OPTIONAL` (EXPLICIT).
        search_criteria [0 explicit]: opt ProfileSearchCriteria => Gate::Always,
        /// `tagList [APPLICATION 28] OCTET STRING OPTIONAL` (`5C`): the tags to return.
        tag_list (0x5C): opt Vec<u8> => Gate::Always,
    }
}

crate::der_sequence! {
    /// `ProfileInfo ::= [PRIVATE 3] SEQUENCE` (`E3`).
    pub struct ProfileInfo = "ProfileInfo" tag 0xE3 {
        /// `iccid` (`5A`).
        iccid (0x5A): opt Iccid => Gate::Always,
        /// `isdpAid` (`4F`).
        isdp_aid (0x4F): opt Vec<u8> => Gate::Always,
        /// `profileState [112] INTEGER` (`9F70`; 0 disabled, 1 enabled).
        profile_state (0x9F70): opt i64 => Gate::Always,
        /// `profileNickname [16]`.
        profile_nickname [16]: opt String => Gate::Always,
        /// `serviceProviderName [17]`.
        service_provider_name [17]: opt String => Gate::Always,
        /// `profileName [18]`.
        profile_name [18]: opt String => Gate::Always,
        /// `iconType [19]`.
        icon_type [19]: opt i64 => Gate::Always,
        /// `icon [20]`.
        icon [20]: opt Vec<u8> => Gate::Always,
        /// `profileClass [21]`.
        profile_class [21]: opt i64 => Gate::Always,
        /// `notificationConfigurationInfo [22]`.
        notification_configuration_info [22]: opt SeqOf<NotificationConfigurationInformation> => Gate::Always,
        /// `profileOwner [23]`.
        profile_owner [23]: opt OperatorId => Gate::Always,
        /// `dpProprietaryData [24]`, kept opaque.
        dp_proprietary_data [24]: opt RawContent => Gate::Always,
        /// `profilePolicyRules [25]`.
        profile_policy_rules [25]: opt PprIds => Gate::Always,
    }
}

crate::der_choice! {
    /// `ProfileInfoListResponse ::= [45] CHOICE` (`BF2D`).
    pub enum ProfileInfoListResponse = "ProfileInfoListResponse" tag 0xBF2D {
        /// `profileInfoListOk [0] SEQUENCE OF ProfileInfo`.
        Ok [0] (SeqOf<ProfileInfo>) => Gate::Always,
        /// `profileInfoListError [1] INTEGER` (1 incorrectInputValues, 127 undefinedError).
        Error [1] (i64) => Gate::Always,
    }
}

crate::der_sequence! {
    /// `EnableProfileRequest ::= [49] SEQUENCE` (`BF31`).
    pub struct EnableProfileRequest = "EnableProfileRequest" tag 0xBF31 {
        /// `profileIdentifier [0] CHOICE` (EXPLICIT).
        profile_identifier [0 explicit]: req ProfileIdentifier => Gate::Always,
        /// `refreshFlag [1] BOOLEAN`.
        refresh_flag [1]: req bool => Gate::Always,
    }
}

crate::der_sequence! {
    /// `EnableProfileResponse ::= [49] SEQUENCE` (`BF31`).
    pub struct EnableProfileResponse = "EnableProfileResponse" tag 0xBF31 {
        /// `enableResult [0] INTEGER` (see [`profile_operation_result`]).
        enable_result [0]: req i64 => Gate::Always,
    }
}

crate::der_sequence! {
    /// `DisableProfileRequest ::= [50] SEQUENCE` (`BF32`).
    pub struct DisableProfileRequest = "DisableProfileRequest" tag 0xBF32 {
        /// `profileIdentifier [0] CHOICE` (EXPLICIT).
        profile_identifier [0 explicit]: req ProfileIdentifier => Gate::Always,
        /// `refreshFlag [1] BOOLEAN`.
        refresh_flag [1]: req bool => Gate::Always,
    }
}

crate::der_sequence! {
    /// `DisableProfileResponse ::= [50] SEQUENCE` (`BF32`).
    pub struct DisableProfileResponse = "DisableProfileResponse" tag 0xBF32 {
        /// `disableResult [0] INTEGER` (see [`profile_operation_result`]).
        disable_result [0]: req i64 => Gate::Always,
    }
}

crate::der_choice! {
    /// `DeleteProfileRequest ::= [51] CHOICE` (`BF33`).
    pub enum DeleteProfileRequest = "DeleteProfileRequest" tag 0xBF33 {
        /// `isdpAid` (`4F`).
        IsdpAid (0x4F) (Vec<u8>) => Gate::Always,
        /// `iccid` (`5A`).
        Iccid (0x5A) (Iccid) => Gate::Always,
    }
}

crate::der_sequence! {
    /// `DeleteProfileResponse ::= [51] SEQUENCE` (`BF33`).
    pub struct DeleteProfileResponse = "DeleteProfileResponse" tag 0xBF33 {
        /// `deleteResult [0] INTEGER` (see [`profile_operation_result`]).
        delete_result [0]: req i64 => Gate::Always,
    }
}

/// Result values of ES10c Enable / Disable / Delete.
pub mod profile_operation_result {
    /// ok
    pub const OK: i64 = 0;
    /// iccidOrAidNotFound
    pub const ICCID_OR_AID_NOT_FOUND: i64 = 1;
    /// profileNotInDisabledState (enable, delete) / profileNotInEnabledState (disable)
    pub const WRONG_PROFILE_STATE: i64 = 2;
    /// disallowedByPolicy (PPR1 for disable, PPR2 for delete)
    pub const DISALLOWED_BY_POLICY: i64 = 3;
    /// wrongProfileReenabling (enable)
    pub const WRONG_PROFILE_REENABLING: i64 = 4;
    /// catBusy
    pub const CAT_BUSY: i64 = 5;
    /// undefinedError
    pub const UNDEFINED_ERROR: i64 = 127;
}

crate::der_sequence! {
    /// `GetEuiccDataRequest ::= [62] SEQUENCE` (`BF3E`): ES10c.GetEID.
    pub struct GetEuiccDataRequest = "GetEuiccDataRequest" tag 0xBF3E {
        /// `tagList [APPLICATION 28]` (`5C`; `5A` for the EID).
        tag_list (0x5C): req Vec<u8> => Gate::Always,
    }
}

crate::der_sequence! {
    /// `GetEuiccDataResponse ::= [62] SEQUENCE` (`BF3E`).
    pub struct GetEuiccDataResponse = "GetEuiccDataResponse" tag 0xBF3E {
        /// `eidValue [APPLICATION 26] Octet16` (`5A`).
        eid_value (0x5A): req Vec<u8> => Gate::Always,
    }
}

crate::der_sequence! {
    /// `GetRatRequest ::= [67] SEQUENCE {}` (`BF43`).
    pub struct GetRatRequest = "GetRatRequest" tag 0xBF43 {}
}

crate::der_sequence! {
    /// `ProfilePolicyAuthorisationRule ::= SEQUENCE` (one PPAR of the RAT).
    pub struct ProfilePolicyAuthorisationRule = "ProfilePolicyAuthorisationRule" {
        /// `pprIds [0] PprIds`.
        ppr_ids [0]: req PprIds => Gate::Always,
        /// `allowedOperators [1] SEQUENCE OF OperatorId`.
        allowed_operators [1]: req SeqOf<OperatorId> => Gate::Always,
        /// `pprFlags [2] BIT STRING { consentRequired(0) }`.
        ppr_flags [2]: req BitString => Gate::Always,
    }
}

crate::der_sequence! {
    /// `GetRatResponse ::= [67] SEQUENCE` (`BF43`).
    pub struct GetRatResponse = "GetRatResponse" tag 0xBF43 {
        /// `rat [0] RulesAuthorisationTable`.
        rat [0]: req SeqOf<ProfilePolicyAuthorisationRule> => Gate::Always,
    }
}

crate::der_sequence! {
    /// `EuiccMemoryResetRequest ::= [52] SEQUENCE` (`BF34`).
    pub struct EuiccMemoryResetRequest = "EuiccMemoryResetRequest" tag 0xBF34 {
        /// `resetOptions [2] BIT STRING { deleteOperationalProfiles(0), deleteFieldLoadedTestProfiles(1), resetDefaultSmdpAddress(2) }`.
        reset_options [2]: req BitString => Gate::Always,
    }
}

crate::der_sequence! {
    /// `EuiccMemoryResetResponse ::= [52] SEQUENCE` (`BF34`).
    pub struct EuiccMemoryResetResponse = "EuiccMemoryResetResponse" tag 0xBF34 {
        /// `resetResult [0] INTEGER` (0 ok, 1 nothingToDelete, 127 undefinedError).
        reset_result [0]: req i64 => Gate::Always,
    }
}

crate::der_sequence! {
    /// `SetNicknameRequest ::= [41] SEQUENCE` (`BF29`).
    pub struct SetNicknameRequest = "SetNicknameRequest" tag 0xBF29 {
        /// `iccid` (`5A`).
        iccid (0x5A): req Iccid => Gate::Always,
        /// `profileNickname [16] UTF8String (SIZE(0..64))`.
        profile_nickname [16]: req String => Gate::Always,
    }
}

crate::der_sequence! {
    /// `SetNicknameResponse ::= [41] SEQUENCE` (`BF29`).
    pub struct SetNicknameResponse = "SetNicknameResponse" tag 0xBF29 {
        /// `setNicknameResult [0] INTEGER` (0 ok, 1 iccidNotFound, 127 undefinedError).
        set_nickname_result [0]: req i64 => Gate::Always,
    }
}

crate::der_sequence! {
    /// `EuiccConfiguredAddressesRequest ::= [60] SEQUENCE {}` (`BF3C`).
    pub struct EuiccConfiguredAddressesRequest = "EuiccConfiguredAddressesRequest" tag 0xBF3C {}
}

crate::der_sequence! {
    /// `EuiccConfiguredAddressesResponse ::= [60] SEQUENCE` (`BF3C`).
    pub struct EuiccConfiguredAddressesResponse = "EuiccConfiguredAddressesResponse" tag 0xBF3C {
        /// `defaultDpAddress [0] UTF8String OPTIONAL`.
        default_dp_address [0]: opt String => Gate::Always,
        /// `rootDsAddress [1] UTF8String`.
        root_ds_address [1]: req String => Gate::Always,
    }
}

crate::der_sequence! {
    /// `SetDefaultDpAddressRequest ::= [63] SEQUENCE` (`BF3F`).
    pub struct SetDefaultDpAddressRequest = "SetDefaultDpAddressRequest" tag 0xBF3F {
        /// `defaultDpAddress [0] UTF8String`.
        default_dp_address [0]: req String => Gate::Always,
    }
}

crate::der_sequence! {
    /// `SetDefaultDpAddressResponse ::= [63] SEQUENCE` (`BF3F`).
    pub struct SetDefaultDpAddressResponse = "SetDefaultDpAddressResponse" tag 0xBF3F {
        /// `setDefaultDpAddressResult [0] INTEGER` (0 ok, 127 undefinedError).
        set_default_dp_address_result [0]: req i64 => Gate::Always,
    }
}
