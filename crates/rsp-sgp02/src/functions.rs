//! The catalogue: one entry per SGP.02 function (85: ES1 2, ES2 25, ES3 28, ES4 23, ES4A 4, ES7 3).
//!
//! Columns: marker, interface, name, pattern, callers, provider, Action group, section, request, response.
//! Card-bound functions are asynchronous, SM-SR/SM-DP-local ones synchronous (sgp02.md §4.6, C-04, U-04).
//! Groups follow C-13: `eUICCManagement` for ES1, ES4 PrepareSMSRChange/SMSRChange and ES7, `ProfileManagement`
//! for everything else. Sections marked `[INF]` are inferred from order; ES3 follows the reconstructed list (U-07).
//! PLMA functions are `SetPLMA`/`GetPLMA` on every interface (C-16); [`NAME_ALIASES`] lists the other names.
//! ES7 has no HandleSMSRChangeNotification: the new SM-SR reports completion on ES4/ES3 (and ES2), and the old
//! SM-SR learns it from the final HandoverEUICC response.

use crate::bodies::*;
use crate::catalogue::{Interface, NoResponse};
use crate::common::BaseResponse as Base;

#[rustfmt::skip]
crate::catalogue! {
    /// ES1 RegisterEIS.
    Es1RegisterEis: Es1, "RegisterEIS", RequestResponse, callers [Eum], provider [SmSr], "eUICCManagement", "5.2.1 [INF]", EisRequest, Base;
    /// ES1 UpdateEISAdditionalProperties (U-03).
    Es1UpdateEisAdditionalProperties: Es1, "UpdateEISAdditionalProperties", RequestResponse, callers [Eum], provider [SmSr], "eUICCManagement", "5.2.2 [INF]", UpdateEisAdditionalPropertiesRequest, Base;

    /// ES2 GetEIS.
    Es2GetEis: Es2, "GetEIS", RequestResponse, callers [Operator], provider [SmDp], "ProfileManagement", "5.3.1", Es2GetEisRequest, EisResponse;
    /// ES2 DownloadProfile.
    Es2DownloadProfile: Es2, "DownloadProfile", AsyncRequestResponse, callers [Operator], provider [SmDp], "ProfileManagement", "5.3.2", Es2DownloadProfileRequest, DownloadProfileResponse;
    /// ES2 UpdatePolicyRules.
    Es2UpdatePolicyRules: Es2, "UpdatePolicyRules", RequestResponse, callers [Operator], provider [SmDp], "ProfileManagement", "5.3.3", Es2UpdatePolicyRulesRequest, Base;
    /// ES2 UpdateSubscriptionAddress.
    Es2UpdateSubscriptionAddress: Es2, "UpdateSubscriptionAddress", RequestResponse, callers [Operator], provider [SmDp], "ProfileManagement", "5.3.4", Es2UpdateSubscriptionAddressRequest, Base;
    /// ES2 EnableProfile.
    Es2EnableProfile: Es2, "EnableProfile", AsyncRequestResponse, callers [Operator], provider [SmDp], "ProfileManagement", "5.3.5", Es2ProfileRequest, EuiccResponse;
    /// ES2 DisableProfile.
    Es2DisableProfile: Es2, "DisableProfile", AsyncRequestResponse, callers [Operator], provider [SmDp], "ProfileManagement", "5.3.6", Es2ProfileRequest, EuiccResponse;
    /// ES2 DeleteProfile.
    Es2DeleteProfile: Es2, "DeleteProfile", AsyncRequestResponse, callers [Operator], provider [SmDp], "ProfileManagement", "5.3.7", Es2DeleteProfileRequest, EuiccResponse;
    /// ES2 HandleProfileDisabledNotification.
    Es2HandleProfileDisabledNotification: Es2, "HandleProfileDisabledNotification", Notification, callers [SmDp], provider [Operator], "ProfileManagement", "5.3.8", ProfileChangeNotification, NoResponse;
    /// ES2 HandleProfileEnabledNotification.
    Es2HandleProfileEnabledNotification: Es2, "HandleProfileEnabledNotification", Notification, callers [SmDp], provider [Operator], "ProfileManagement", "5.3.9", ProfileChangeNotification, NoResponse;
    /// ES2 HandleSMSRChangeNotification.
    Es2HandleSmsrChangeNotification: Es2, "HandleSMSRChangeNotification", Notification, callers [SmDp], provider [Operator], "ProfileManagement", "5.3.10", SmsrChangeNotification, NoResponse;
    /// ES2 HandleProfileDeletedNotification.
    Es2HandleProfileDeletedNotification: Es2, "HandleProfileDeletedNotification", Notification, callers [SmDp], provider [Operator], "ProfileManagement", "5.3.11", ProfileChangeNotification, NoResponse;
    /// ES2 AuditEIS.
    Es2AuditEis: Es2, "AuditEIS", AsyncRequestResponse, callers [Operator], provider [SmDp], "ProfileManagement", "5.3.12 [INF]", Es2AuditEisRequest, EisResponse;
    /// ES2 SetPLMA (KB: SetAuthorisationsOfM2MSP).
    Es2SetPlma: Es2, "SetPLMA", RequestResponse, callers [Operator], provider [SmDp], "ProfileManagement", "5.3.13 [INF]", Es2SetPlmaRequest, Base;
    /// ES2 GetPLMA (KB: GetAuthorisationsOfM2MSP).
    Es2GetPlma: Es2, "GetPLMA", RequestResponse, callers [Operator], provider [SmDp], "ProfileManagement", "5.3.14 [INF]", Es2GetPlmaRequest, GetPlmaResponse;
    /// ES2 HandleProfileDownloadedNotification.
    Es2HandleProfileDownloadedNotification: Es2, "HandleProfileDownloadedNotification", Notification, callers [SmDp], provider [Operator], "ProfileManagement", "5.3.15 [INF]", ProfileChangeNotification, NoResponse;
    /// ES2 HandleProfilePOL2UpdatedNotification.
    Es2HandleProfilePol2UpdatedNotification: Es2, "HandleProfilePOL2UpdatedNotification", Notification, callers [SmDp], provider [Operator], "ProfileManagement", "5.3.16 [INF]", Pol2UpdatedNotification, NoResponse;
    /// ES2 HandlePLMASettingNotification.
    Es2HandlePlmaSettingNotification: Es2, "HandlePLMASettingNotification", Notification, callers [SmDp], provider [Operator], "ProfileManagement", "5.3.17 [INF]", PlmaSettingNotification, NoResponse;
    /// ES2 SetONC.
    Es2SetOnc: Es2, "SetONC", RequestResponse, callers [Operator], provider [SmDp], "ProfileManagement", "5.3.18 [INF]", Es2SetOncRequest, Base;
    /// ES2 GetONC.
    Es2GetOnc: Es2, "GetONC", RequestResponse, callers [Operator], provider [SmDp], "ProfileManagement", "5.3.19 [INF]", Es2GetOncRequest, GetOncResponse;
    /// ES2 SetEmergencyProfileAttribute.
    Es2SetEmergencyProfileAttribute: Es2, "SetEmergencyProfileAttribute", AsyncRequestResponse, callers [Operator], provider [SmDp], "ProfileManagement", "5.3.20 [INF]", Es2ProfileRequest, EuiccResponse;
    /// ES2 HandleEmergencyProfileAttributeSetNotification.
    Es2HandleEmergencyProfileAttributeSetNotification: Es2, "HandleEmergencyProfileAttributeSetNotification", Notification, callers [SmDp], provider [Operator], "ProfileManagement", "5.3.21 [INF]", ProfileChangeNotification, NoResponse;
    /// ES2 HandleEmergencyProfileAttributeUnsetNotification.
    Es2HandleEmergencyProfileAttributeUnsetNotification: Es2, "HandleEmergencyProfileAttributeUnsetNotification", Notification, callers [SmDp], provider [Operator], "ProfileManagement", "5.3.22 [INF]", ProfileChangeNotification, NoResponse;
    /// ES2 SetFallBackAttribute.
    Es2SetFallBackAttribute: Es2, "SetFallBackAttribute", AsyncRequestResponse, callers [Operator], provider [SmDp], "ProfileManagement", "5.3.23 [INF]", Es2ProfileRequest, EuiccResponse;
    /// ES2 HandleFallBackAttributeSetNotification.
    Es2HandleFallBackAttributeSetNotification: Es2, "HandleFallBackAttributeSetNotification", Notification, callers [SmDp], provider [Operator], "ProfileManagement", "5.3.24 [INF]", ProfileChangeNotification, NoResponse;
    /// ES2 HandleFallBackAttributeUnsetNotification.
    Es2HandleFallBackAttributeUnsetNotification: Es2, "HandleFallBackAttributeUnsetNotification", Notification, callers [SmDp], provider [Operator], "ProfileManagement", "5.3.25 [INF]", ProfileChangeNotification, NoResponse;

    /// ES3 GetEIS.
    Es3GetEis: Es3, "GetEIS", RequestResponse, callers [SmDp], provider [SmSr], "ProfileManagement", "5.4 [U-07]", GetEisRequest, EisResponse;
    /// ES3 AuditEIS.
    Es3AuditEis: Es3, "AuditEIS", AsyncRequestResponse, callers [SmDp], provider [SmSr], "ProfileManagement", "5.4 [U-07]", AuditEisRequest, EisResponse;
    /// ES3 CreateISDP.
    Es3CreateIsdp: Es3, "CreateISDP", AsyncRequestResponse, callers [SmDp], provider [SmSr], "ProfileManagement", "5.4 [U-07]", CreateIsdpRequest, CreateIsdpResponse;
    /// ES3 SendData.
    Es3SendData: Es3, "SendData", AsyncRequestResponse, callers [SmDp], provider [SmSr], "ProfileManagement", "5.4 [U-07]", SendDataRequest, EuiccResponse;
    /// ES3 ProfileDownloadCompleted.
    Es3ProfileDownloadCompleted: Es3, "ProfileDownloadCompleted", RequestResponse, callers [SmDp], provider [SmSr], "ProfileManagement", "5.4 [U-07]", ProfileDownloadCompletedRequest, Base;
    /// ES3 UpdatePolicyRules.
    Es3UpdatePolicyRules: Es3, "UpdatePolicyRules", RequestResponse, callers [SmDp], provider [SmSr], "ProfileManagement", "5.4 [U-07]", UpdatePolicyRulesRequest, Base;
    /// ES3 UpdateSubscriptionAddress.
    Es3UpdateSubscriptionAddress: Es3, "UpdateSubscriptionAddress", RequestResponse, callers [SmDp], provider [SmSr], "ProfileManagement", "5.4 [U-07]", UpdateSubscriptionAddressRequest, Base;
    /// ES3 UpdateConnectivityParameters.
    Es3UpdateConnectivityParameters: Es3, "UpdateConnectivityParameters", AsyncRequestResponse, callers [SmDp], provider [SmSr], "ProfileManagement", "5.4 [U-07]", UpdateConnectivityParametersRequest, EuiccResponse;
    /// ES3 EnableProfile.
    Es3EnableProfile: Es3, "EnableProfile", AsyncRequestResponse, callers [SmDp], provider [SmSr], "ProfileManagement", "5.4 [U-07]", ProfileRequest, EuiccResponse;
    /// ES3 DisableProfile.
    Es3DisableProfile: Es3, "DisableProfile", AsyncRequestResponse, callers [SmDp], provider [SmSr], "ProfileManagement", "5.4 [U-07]", ProfileRequest, EuiccResponse;
    /// ES3 DeleteISDP.
    Es3DeleteIsdp: Es3, "DeleteISDP", AsyncRequestResponse, callers [SmDp], provider [SmSr], "ProfileManagement", "5.4 [U-07]", ProfileRequest, EuiccResponse;
    /// ES3 HandleProfileDisabledNotification.
    Es3HandleProfileDisabledNotification: Es3, "HandleProfileDisabledNotification", Notification, callers [SmSr], provider [SmDp], "ProfileManagement", "5.4 [U-07]", Es3ProfileChangeNotification, NoResponse;
    /// ES3 HandleProfileEnabledNotification.
    Es3HandleProfileEnabledNotification: Es3, "HandleProfileEnabledNotification", Notification, callers [SmSr], provider [SmDp], "ProfileManagement", "5.4 [U-07]", Es3ProfileChangeNotification, NoResponse;
    /// ES3 HandleProfileDeletedNotification.
    Es3HandleProfileDeletedNotification: Es3, "HandleProfileDeletedNotification", Notification, callers [SmSr], provider [SmDp], "ProfileManagement", "5.4 [U-07]", Es3ProfileChangeNotification, NoResponse;
    /// ES3 HandleSMSRChangeNotification.
    Es3HandleSmsrChangeNotification: Es3, "HandleSMSRChangeNotification", Notification, callers [SmSr], provider [SmDp], "ProfileManagement", "5.4 [U-07]", Es3SmsrChangeNotification, NoResponse;
    /// ES3 HandleProfileDownloadedNotification.
    Es3HandleProfileDownloadedNotification: Es3, "HandleProfileDownloadedNotification", Notification, callers [SmSr], provider [SmDp], "ProfileManagement", "5.4 [U-07]", Es3ProfileChangeNotification, NoResponse;
    /// ES3 HandleProfilePOL2UpdatedNotification.
    Es3HandleProfilePol2UpdatedNotification: Es3, "HandleProfilePOL2UpdatedNotification", Notification, callers [SmSr], provider [SmDp], "ProfileManagement", "5.4 [U-07]", Es3Pol2UpdatedNotification, NoResponse;
    /// ES3 HandlePLMASettingNotification.
    Es3HandlePlmaSettingNotification: Es3, "HandlePLMASettingNotification", Notification, callers [SmSr], provider [SmDp], "ProfileManagement", "5.4 [U-07]", PlmaSettingNotification, NoResponse;
    /// ES3 SetPLMA (relay of ES2).
    Es3SetPlma: Es3, "SetPLMA", RequestResponse, callers [SmDp], provider [SmSr], "ProfileManagement", "5.4 [U-07]", SetPlmaRequest, Base;
    /// ES3 GetPLMA (relay of ES2).
    Es3GetPlma: Es3, "GetPLMA", RequestResponse, callers [SmDp], provider [SmSr], "ProfileManagement", "5.4 [U-07]", GetPlmaRequest, GetPlmaResponse;
    /// ES3 SetONC (relay of ES2).
    Es3SetOnc: Es3, "SetONC", RequestResponse, callers [SmDp], provider [SmSr], "ProfileManagement", "5.4 [U-07]", SetOncRequest, Base;
    /// ES3 GetONC (relay of ES2).
    Es3GetOnc: Es3, "GetONC", RequestResponse, callers [SmDp], provider [SmSr], "ProfileManagement", "5.4 [U-07]", GetOncRequest, GetOncResponse;
    /// ES3 SetEmergencyProfileAttribute.
    Es3SetEmergencyProfileAttribute: Es3, "SetEmergencyProfileAttribute", AsyncRequestResponse, callers [SmDp], provider [SmSr], "ProfileManagement", "5.4 [U-07]", ProfileRequest, EuiccResponse;
    /// ES3 HandleEmergencyProfileAttributeSetNotification.
    Es3HandleEmergencyProfileAttributeSetNotification: Es3, "HandleEmergencyProfileAttributeSetNotification", Notification, callers [SmSr], provider [SmDp], "ProfileManagement", "5.4 [U-07]", Es3ProfileChangeNotification, NoResponse;
    /// ES3 HandleEmergencyProfileAttributeUnsetNotification.
    Es3HandleEmergencyProfileAttributeUnsetNotification: Es3, "HandleEmergencyProfileAttributeUnsetNotification", Notification, callers [SmSr], provider [SmDp], "ProfileManagement", "5.4 [U-07]", Es3ProfileChangeNotification, NoResponse;
    /// ES3 SetFallBackAttribute.
    Es3SetFallBackAttribute: Es3, "SetFallBackAttribute", AsyncRequestResponse, callers [SmDp], provider [SmSr], "ProfileManagement", "5.4 [U-07]", ProfileRequest, EuiccResponse;
    /// ES3 HandleFallBackAttributeSetNotification.
    Es3HandleFallBackAttributeSetNotification: Es3, "HandleFallBackAttributeSetNotification", Notification, callers [SmSr], provider [SmDp], "ProfileManagement", "5.4 [U-07]", Es3ProfileChangeNotification, NoResponse;
    /// ES3 HandleFallBackAttributeUnsetNotification.
    Es3HandleFallBackAttributeUnsetNotification: Es3, "HandleFallBackAttributeUnsetNotification", Notification, callers [SmSr], provider [SmDp], "ProfileManagement", "5.4 [U-07]", Es3ProfileChangeNotification, NoResponse;

    /// ES4 GetEIS.
    Es4GetEis: Es4, "GetEIS", RequestResponse, callers [Operator, M2mSp], provider [SmSr], "ProfileManagement", "5.5.1 [INF]", GetEisRequest, EisResponse;
    /// ES4 UpdatePolicyRules (Operator only: POL2 is never delegated).
    Es4UpdatePolicyRules: Es4, "UpdatePolicyRules", RequestResponse, callers [Operator], provider [SmSr], "ProfileManagement", "5.5.2 [INF]", UpdatePolicyRulesRequest, Base;
    /// ES4 UpdateSubscriptionAddress (Operator only).
    Es4UpdateSubscriptionAddress: Es4, "UpdateSubscriptionAddress", RequestResponse, callers [Operator], provider [SmSr], "ProfileManagement", "5.5.3 [INF]", UpdateSubscriptionAddressRequest, Base;
    /// ES4 AuditEIS.
    Es4AuditEis: Es4, "AuditEIS", AsyncRequestResponse, callers [Operator, M2mSp], provider [SmSr], "ProfileManagement", "5.5.4", AuditEisRequest, EisResponse;
    /// ES4 EnableProfile.
    Es4EnableProfile: Es4, "EnableProfile", AsyncRequestResponse, callers [Operator, M2mSp], provider [SmSr], "ProfileManagement", "5.5.5", ProfileRequest, EuiccResponse;
    /// ES4 DisableProfile.
    Es4DisableProfile: Es4, "DisableProfile", AsyncRequestResponse, callers [Operator, M2mSp], provider [SmSr], "ProfileManagement", "5.5.6 [INF]", ProfileRequest, EuiccResponse;
    /// ES4 DeleteProfile.
    Es4DeleteProfile: Es4, "DeleteProfile", AsyncRequestResponse, callers [Operator, M2mSp], provider [SmSr], "ProfileManagement", "5.5.7 [INF]", ProfileRequest, EuiccResponse;
    /// ES4 PrepareSMSRChange (to the new SM-SR; Operator only).
    Es4PrepareSmsrChange: Es4, "PrepareSMSRChange", AsyncRequestResponse, callers [Operator], provider [SmSr], "eUICCManagement", "5.5.8 [INF]", PrepareSmsrChangeRequest, Base;
    /// ES4 SMSRChange (to the current SM-SR; Operator only).
    Es4SmsrChange: Es4, "SMSRChange", AsyncRequestResponse, callers [Operator], provider [SmSr], "eUICCManagement", "5.5.9 [INF]", SmsrChangeRequest, Base;
    /// ES4 HandleProfileDisabledNotification.
    Es4HandleProfileDisabledNotification: Es4, "HandleProfileDisabledNotification", Notification, callers [SmSr], provider [Operator, M2mSp], "ProfileManagement", "5.5.10", ProfileChangeNotification, NoResponse;
    /// ES4 HandleProfileEnabledNotification.
    Es4HandleProfileEnabledNotification: Es4, "HandleProfileEnabledNotification", Notification, callers [SmSr], provider [Operator, M2mSp], "ProfileManagement", "5.5.11", ProfileChangeNotification, NoResponse;
    /// ES4 HandleSMSRChangeNotification.
    Es4HandleSmsrChangeNotification: Es4, "HandleSMSRChangeNotification", Notification, callers [SmSr], provider [Operator, M2mSp], "ProfileManagement", "5.5.12 [INF]", SmsrChangeNotification, NoResponse;
    /// ES4 HandleProfileDeletedNotification.
    Es4HandleProfileDeletedNotification: Es4, "HandleProfileDeletedNotification", Notification, callers [SmSr], provider [Operator, M2mSp], "ProfileManagement", "5.5.13 [INF]", ProfileChangeNotification, NoResponse;
    /// ES4 HandleProfileDownloadedNotification.
    Es4HandleProfileDownloadedNotification: Es4, "HandleProfileDownloadedNotification", Notification, callers [SmSr], provider [Operator, M2mSp], "ProfileManagement", "5.5.14 [INF]", ProfileChangeNotification, NoResponse;
    /// ES4 HandleProfilePOL2UpdatedNotification.
    Es4HandleProfilePol2UpdatedNotification: Es4, "HandleProfilePOL2UpdatedNotification", Notification, callers [SmSr], provider [Operator, M2mSp], "ProfileManagement", "5.5.15 [INF]", Pol2UpdatedNotification, NoResponse;
    /// ES4 HandlePLMASettingNotification.
    Es4HandlePlmaSettingNotification: Es4, "HandlePLMASettingNotification", Notification, callers [SmSr], provider [Operator, M2mSp], "ProfileManagement", "5.5.16 [INF]", PlmaSettingNotification, NoResponse;
    /// ES4 GetPLMA (KB: GetAuthorisationsOfM2MSP).
    Es4GetPlma: Es4, "GetPLMA", RequestResponse, callers [Operator, M2mSp], provider [SmSr], "ProfileManagement", "5.5.17 [INF]", GetPlmaRequest, GetPlmaResponse;
    /// ES4 SetEmergencyProfileAttribute.
    Es4SetEmergencyProfileAttribute: Es4, "SetEmergencyProfileAttribute", AsyncRequestResponse, callers [Operator, M2mSp], provider [SmSr], "ProfileManagement", "5.5.18 [INF]", ProfileRequest, EuiccResponse;
    /// ES4 HandleEmergencyProfileAttributeSetNotification.
    Es4HandleEmergencyProfileAttributeSetNotification: Es4, "HandleEmergencyProfileAttributeSetNotification", Notification, callers [SmSr], provider [Operator, M2mSp], "ProfileManagement", "5.5.19 [INF]", ProfileChangeNotification, NoResponse;
    /// ES4 HandleEmergencyProfileAttributeUnsetNotification.
    Es4HandleEmergencyProfileAttributeUnsetNotification: Es4, "HandleEmergencyProfileAttributeUnsetNotification", Notification, callers [SmSr], provider [Operator, M2mSp], "ProfileManagement", "5.5.20 [INF]", ProfileChangeNotification, NoResponse;
    /// ES4 SetFallBackAttribute.
    Es4SetFallBackAttribute: Es4, "SetFallBackAttribute", AsyncRequestResponse, callers [Operator, M2mSp], provider [SmSr], "ProfileManagement", "5.5.21", ProfileRequest, EuiccResponse;
    /// ES4 HandleFallBackAttributeSetNotification.
    Es4HandleFallBackAttributeSetNotification: Es4, "HandleFallBackAttributeSetNotification", Notification, callers [SmSr], provider [Operator, M2mSp], "ProfileManagement", "5.5.22 [INF]", ProfileChangeNotification, NoResponse;
    /// ES4 HandleFallBackAttributeUnsetNotification.
    Es4HandleFallBackAttributeUnsetNotification: Es4, "HandleFallBackAttributeUnsetNotification", Notification, callers [SmSr], provider [Operator, M2mSp], "ProfileManagement", "5.5.23 [INF]", ProfileChangeNotification, NoResponse;

    /// ES4A SetPLMA (U-06).
    Es4aSetPlma: Es4a, "SetPLMA", RequestResponse, callers [Operator], provider [SmSr], "ProfileManagement", "5.6 [INF]", SetPlmaRequest, Base;
    /// ES4A GetPLMA (U-06).
    Es4aGetPlma: Es4a, "GetPLMA", RequestResponse, callers [Operator], provider [SmSr], "ProfileManagement", "5.6 [INF]", GetPlmaRequest, GetPlmaResponse;
    /// ES4A SetONC (U-06).
    Es4aSetOnc: Es4a, "SetONC", RequestResponse, callers [Operator], provider [SmSr], "ProfileManagement", "5.6 [INF]", SetOncRequest, Base;
    /// ES4A GetONC (U-06).
    Es4aGetOnc: Es4a, "GetONC", RequestResponse, callers [Operator], provider [SmSr], "ProfileManagement", "5.6 [INF]", GetOncRequest, GetOncResponse;

    /// ES7 HandoverEUICC (current SM-SR → new SM-SR).
    Es7HandoverEuicc: Es7, "HandoverEUICC", AsyncRequestResponse, callers [SmSr], provider [SmSr], "eUICCManagement", "5.7 [INF]", EisRequest, Base;
    /// ES7 AuthenticateSMSR (new SM-SR → current SM-SR; C-07).
    Es7AuthenticateSmsr: Es7, "AuthenticateSMSR", AsyncRequestResponse, callers [SmSr], provider [SmSr], "eUICCManagement", "5.7 [INF]", AuthenticateSmsrRequest, AuthenticateSmsrResponse;
    /// ES7 CreateAdditionalKeySet (new SM-SR → current SM-SR).
    Es7CreateAdditionalKeySet: Es7, "CreateAdditionalKeySet", AsyncRequestResponse, callers [SmSr], provider [SmSr], "eUICCManagement", "5.7 [INF]", CreateAdditionalKeySetRequest, CreateAdditionalKeySetResponse;
}

/// Names other sources use for catalogue functions (KB names, C-16), accepted by [`FunctionId::lookup`].
#[rustfmt::skip]
pub const NAME_ALIASES: &[(Interface, &str, FunctionId)] = &[
    (Interface::Es2, "GetEUICCInfo", FunctionId::Es2GetEis),
    (Interface::Es2, "UpdateEUICCInfo", FunctionId::Es2UpdateSubscriptionAddress),
    (Interface::Es2, "AuditEUICCInfo", FunctionId::Es2AuditEis),
    (Interface::Es2, "SetAuthorisationsOfM2MSP", FunctionId::Es2SetPlma),
    (Interface::Es2, "GetAuthorisationsOfM2MSP", FunctionId::Es2GetPlma),
    (Interface::Es3, "DeleteProfile", FunctionId::Es3DeleteIsdp),
    (Interface::Es3, "SetAuthorisationsOfM2MSP", FunctionId::Es3SetPlma),
    (Interface::Es3, "GetAuthorisationsOfM2MSP", FunctionId::Es3GetPlma),
    (Interface::Es4, "GetEUICCInfo", FunctionId::Es4GetEis),
    (Interface::Es4, "UpdateEUICCInfo", FunctionId::Es4UpdateSubscriptionAddress),
    (Interface::Es4, "AuditEUICCInfo", FunctionId::Es4AuditEis),
    (Interface::Es4, "GetAuthorisationsOfM2MSP", FunctionId::Es4GetPlma),
    (Interface::Es7, "AuthenticateSM-SR", FunctionId::Es7AuthenticateSmsr),
];

impl FunctionId {
    /// Every function, in catalogue order.
    pub fn all() -> impl Iterator<Item = FunctionId> {
        CATALOGUE.iter().map(|f| f.id)
    }

    /// The function `name` of `interface`, by its catalogue name or a [`NAME_ALIASES`] alias.
    pub fn lookup(interface: Interface, name: &str) -> Option<FunctionId> {
        CATALOGUE
            .iter()
            .find(|f| f.interface == interface && f.name == name)
            .map(|f| f.id)
            .or_else(|| {
                NAME_ALIASES
                    .iter()
                    .find(|(i, n, _)| *i == interface && *n == name)
                    .map(|(_, _, id)| *id)
            })
    }
}
