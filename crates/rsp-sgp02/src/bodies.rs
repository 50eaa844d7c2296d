//! Request, response and notification bodies of the catalogue functions.
//!
//! One type per distinct body; functions whose bodies are identical share it (e.g. [`ProfileRequest`] for every
//! Enable/Disable/Delete and attribute setter on ES3 and ES4). Element names, order and cardinality follow the
//! v3.0-era GSMA schema package where it has the function (sgp02.md §6); bodies of v4 functions the package lacks
//! are project-defined in the same style (U-02, U-06) and marked so in their documentation.
//!
//! Response payload elements are optional even where the schema makes them mandatory (`Isd-p-aid`,
//! `RandomChallenge`, `Receipt`, …): a `Failed` response carries only the status.

use rsp_types::{Aid, Eid, EntityId, Iccid, ProfileType};

use crate::common::{BaseNotification, BaseRequest, BaseResponse, DateTime, HexBinary};
use crate::data::{
    AdditionalProperties, EccKeyLength, Eis, EisReference, KeysetVersion, Onc, Plma, Pol2,
    SubscriptionAddress,
};
use crate::xml::Element;
use crate::xml_type;

// --- requests: EIS ---------------------------------------------------------------------------------

xml_type! {
    /// A request carrying a complete EIS (ES1 RegisterEIS, ES7 HandoverEUICC).
    pub struct EisRequest = "EISRequestType" : BaseRequest {
        /// The eUICC Information Set.
        eis: Eis = "Eis",
    }
}

xml_type! {
    /// ES1 UpdateEISAdditionalProperties (project-defined body, U-03).
    pub struct UpdateEisAdditionalPropertiesRequest = "UpdateEISAdditionalPropertiesRequestType" : BaseRequest {
        /// The eUICC.
        eid: Eid = "Eid",
        /// The properties to set (a property with an existing key replaces it).
        additional_properties: AdditionalProperties = "AdditionalProperties",
    }
}

xml_type! {
    /// ES3 / ES4 GetEIS.
    pub struct GetEisRequest = "GetEISRequestType" : BaseRequest {
        /// The eUICC.
        eid: Eid = "Eid",
    }
}

xml_type! {
    /// ES2 GetEIS: also names the SM-SR the SM-DP asks.
    pub struct Es2GetEisRequest = "ES2-GetEISRequestType" : BaseRequest {
        /// The eUICC.
        eid: Eid = "Eid",
        /// The SM-SR in charge of the eUICC.
        smsr_id: EntityId = "Smsr-id",
    }
}

xml_type! {
    /// ES3 / ES4 AuditEIS: refresh the EIS from the card (all profiles when no ICCID is given).
    pub struct AuditEisRequest = "AuditEISRequestType" : BaseRequest {
        /// The eUICC.
        eid: Eid = "Eid",
        /// Profiles to audit.
        iccid: Vec<Iccid> = "Iccid",
    }
}

xml_type! {
    /// ES2 AuditEIS (not in the v3.0 schema; shaped like ES3 AuditEIS plus `Smsr-id`, inferred).
    pub struct Es2AuditEisRequest = "ES2-AuditEISRequestType" : BaseRequest {
        /// The eUICC.
        eid: Eid = "Eid",
        /// The SM-SR in charge of the eUICC.
        smsr_id: EntityId = "Smsr-id",
        /// Profiles to audit.
        iccid: Vec<Iccid> = "Iccid",
    }
}

// --- requests: profiles ----------------------------------------------------------------------------

xml_type! {
    /// A request naming a profile on an eUICC: ES3 Enable/Disable/DeleteISDP, ES4 Enable/Disable/Delete and the
    /// ES3/ES4 Fall-Back and Emergency attribute setters.
    pub struct ProfileRequest = "ProfileRequestType" : BaseRequest {
        /// The eUICC.
        eid: Eid = "Eid",
        /// The profile.
        iccid: Iccid = "Iccid",
    }
}

xml_type! {
    /// An ES2 request naming a profile and the SM-SR to relay to: Enable, Disable and the attribute setters.
    pub struct Es2ProfileRequest = "ES2-ProfileRequestType" : BaseRequest {
        /// The eUICC.
        eid: Eid = "Eid",
        /// The SM-SR in charge of the eUICC.
        smsr_id: EntityId = "Smsr-id",
        /// The profile.
        iccid: Iccid = "Iccid",
    }
}

xml_type! {
    /// ES2 DeleteProfile (the v3.0 schema orders `Iccid` before `Smsr-id` here, unlike Enable/Disable).
    pub struct Es2DeleteProfileRequest = "ES2-DeleteProfileRequestType" : BaseRequest {
        /// The eUICC.
        eid: Eid = "Eid",
        /// The profile.
        iccid: Iccid = "Iccid",
        /// The SM-SR in charge of the eUICC.
        smsr_id: EntityId = "Smsr-id",
    }
}

xml_type! {
    /// ES2 DownloadProfile: either `Iccid` or `ProfileType` names what to install.
    pub struct Es2DownloadProfileRequest = "ES2-DownloadProfileRequestType" : BaseRequest {
        /// The eUICC.
        eid: Eid = "Eid",
        /// The SM-SR in charge of the eUICC.
        smsr_id: EntityId = "Smsr-id",
        /// The Profile Type to install.
        profile_type: Option<ProfileType> = "ProfileType",
        /// The profile to install.
        iccid: Option<Iccid> = "Iccid",
        /// Enable the profile after installation.
        enable_profile: bool = "EnableProfile",
    }
}

xml_type! {
    /// ES3 CreateISDP.
    pub struct CreateIsdpRequest = "ES3-CreateISDPRequestType" : BaseRequest {
        /// The eUICC.
        eid: Eid = "Eid",
        /// The profile the ISD-P will hold.
        iccid: Iccid = "Iccid",
        /// The owning Operator.
        mno_id: EntityId = "Mno-id",
        /// Memory to allocate, in bytes.
        required_memory: u64 = "RequiredMemory",
        /// More commands follow in this session (false: the SM-SR may close it).
        more_to_do: Option<bool> = "MoreToDo",
    }
}

xml_type! {
    /// ES3 SendData: opaque ES8 content (SCP03/SCP03t) for a security domain.
    pub struct SendDataRequest = "ES3-SendDataRequestType" : BaseRequest {
        /// The eUICC.
        eid: Eid = "Eid",
        /// The target security domain (the ISD-P).
        sd_aid: Aid = "Sd-aid",
        /// The protected command data.
        data: HexBinary = "Data",
        /// More commands follow in this session.
        more_to_do: Option<bool> = "MoreToDo",
    }
}

xml_type! {
    /// ES3 ProfileDownloadCompleted: the SM-SR stores POL2 and moves the profile to Disabled.
    pub struct ProfileDownloadCompletedRequest = "ES3-ProfileDownloadCompletedRequestType" : BaseRequest {
        /// The eUICC.
        eid: Eid = "Eid",
        /// The installed profile.
        iccid: Iccid = "Iccid",
        /// Its Profile Type.
        profile_type: Option<ProfileType> = "ProfileType",
        /// Its subscription address.
        subscription_address: Option<SubscriptionAddress> = "SubscriptionAddress",
        /// Its POL2.
        pol2: Option<Pol2> = "pol2",
    }
}

xml_type! {
    /// ES3 / ES4 UpdatePolicyRules. An absent `pol2` is read as "no rules" (the ES3 schema makes it optional).
    pub struct UpdatePolicyRulesRequest = "UpdatePolicyRulesRequestType" : BaseRequest {
        /// The eUICC.
        eid: Eid = "Eid",
        /// The profile.
        iccid: Iccid = "Iccid",
        /// The new POL2.
        pol2: Option<Pol2> = "pol2",
    }
}

xml_type! {
    /// ES2 UpdatePolicyRules (relayed to ES3).
    pub struct Es2UpdatePolicyRulesRequest = "ES2-UpdatePolicyRulesRequestType" : BaseRequest {
        /// The eUICC.
        eid: Eid = "Eid",
        /// The profile.
        iccid: Iccid = "Iccid",
        /// The SM-SR in charge of the eUICC.
        smsr_id: EntityId = "Smsr-id",
        /// The new POL2.
        pol2: Option<Pol2> = "pol2",
    }
}

xml_type! {
    /// ES3 / ES4 UpdateSubscriptionAddress.
    pub struct UpdateSubscriptionAddressRequest = "UpdateSubscriptionAddressRequestType" : BaseRequest {
        /// The eUICC.
        eid: Eid = "Eid",
        /// The profile.
        iccid: Iccid = "Iccid",
        /// The new address (schema spelling `newSubscriptionAddress` accepted on input).
        new_subscription_address: SubscriptionAddress = "NewSubscriptionAddress",
    }
}

xml_type! {
    /// ES2 UpdateSubscriptionAddress.
    pub struct Es2UpdateSubscriptionAddressRequest = "ES2-UpdateSubscriptionAddressRequestType" : BaseRequest {
        /// The eUICC.
        eid: Eid = "Eid",
        /// The SM-SR in charge of the eUICC.
        smsr_id: EntityId = "Smsr-id",
        /// The profile.
        iccid: Iccid = "Iccid",
        /// The new address.
        new_subscription_address: SubscriptionAddress = "NewSubscriptionAddress",
    }
}

xml_type! {
    /// ES3 UpdateConnectivityParameters: SCP03-protected parameters for the ISD-P.
    pub struct UpdateConnectivityParametersRequest = "ES3-UpdateConnectivityParametersRequestType" : BaseRequest {
        /// The eUICC.
        eid: Eid = "Eid",
        /// The profile.
        iccid: Iccid = "Iccid",
        /// The protected parameters.
        connectivity_parameters: HexBinary = "ConnectivityParameters",
    }
}

// --- requests: SM-SR change ------------------------------------------------------------------------

xml_type! {
    /// ES4 PrepareSMSRChange (sent to the new SM-SR).
    pub struct PrepareSmsrChangeRequest = "ES4-PrepareSMSRChangeRequestType" : BaseRequest {
        /// The eUICC.
        eid: Eid = "Eid",
        /// The SM-SR currently in charge.
        current_smsr_id: EntityId = "CurrentSMSRid",
    }
}

xml_type! {
    /// ES4 SMSRChange (sent to the current SM-SR).
    pub struct SmsrChangeRequest = "ES4-SMSRChangeRequestType" : BaseRequest {
        /// The eUICC.
        eid: Eid = "Eid",
        /// The SM-SR taking over.
        target_smsr_id: EntityId = "Target-Smsr-id",
    }
}

xml_type! {
    /// ES7 AuthenticateSMSR (new SM-SR → current SM-SR).
    pub struct AuthenticateSmsrRequest = "ES7-AuthenticateSMSRRequestType" : BaseRequest {
        /// The eUICC, as an EIS holding only the EID (C-17).
        eis: EisReference = "Eis",
        /// CERT.SR.ECDSA of the new SM-SR: the complete `7F21` TLV.
        smsr_certificate: HexBinary = "SmsrCertificate",
    }
}

xml_type! {
    /// ES7 CreateAdditionalKeySet: the Scenario#3 parameters for the new SM-SR's key set.
    pub struct CreateAdditionalKeySetRequest = "ES7-CreateAdditionalKeySetRequestType" : BaseRequest {
        /// The eUICC.
        eid: Eid = "Eid",
        /// Version of the key set to create (CRT tag `83`).
        key_version_number: KeysetVersion = "KeyVersionNumber",
        /// Initial sequence counter (tag `91`).
        initial_sequence_counter: u64 = "InitialSequenceCounter",
        /// ECC key length.
        ecc_key_length: EccKeyLength = "ECCKeyLength",
        /// Scenario parameter (tag `90`), an `xs:byte`.
        scenario_parameter: i8 = "ScenarioParameter",
        /// Host identifier (tag `84`; `HostID` accepted on input).
        host_id: HexBinary = "HostId",
        /// ePK.SR.ECKA (tag `7F49`).
        ephemeral_public_key: HexBinary = "EphemeralPublicKey",
        /// Signature over the random challenge and the key (tag `5F37`).
        signature: HexBinary = "Signature",
    }
}

// --- requests: PLMA and ONC (project-defined bodies, U-06) ------------------------------------------

xml_type! {
    /// ES3 / ES4A SetPLMA: store or replace the entry for (Operator, M2M SP, Profile Type).
    pub struct SetPlmaRequest = "SetPLMARequestType" : BaseRequest {
        /// The authorisation.
        plma: Plma = "Plma",
    }
}

xml_type! {
    /// ES2 SetPLMA (relayed to ES3).
    pub struct Es2SetPlmaRequest = "ES2-SetPLMARequestType" : BaseRequest {
        /// The SM-SR to relay to.
        smsr_id: EntityId = "Smsr-id",
        /// The authorisation.
        plma: Plma = "Plma",
    }
}

xml_type! {
    /// ES3 / ES4 / ES4A GetPLMA: every filter is optional.
    pub struct GetPlmaRequest = "GetPLMARequestType" : BaseRequest {
        /// Only entries granted by this Operator.
        mno_id: Option<EntityId> = "Mno-id",
        /// Only entries granted to this M2M SP.
        m2msp_id: Option<EntityId> = "M2MSP-id",
        /// Only entries for this Profile Type.
        profile_type: Option<ProfileType> = "ProfileType",
    }
}

xml_type! {
    /// ES2 GetPLMA (relayed to ES3).
    pub struct Es2GetPlmaRequest = "ES2-GetPLMARequestType" : BaseRequest {
        /// The SM-SR to relay to.
        smsr_id: EntityId = "Smsr-id",
        /// Only entries granted by this Operator.
        mno_id: Option<EntityId> = "Mno-id",
        /// Only entries granted to this M2M SP.
        m2msp_id: Option<EntityId> = "M2MSP-id",
        /// Only entries for this Profile Type.
        profile_type: Option<ProfileType> = "ProfileType",
    }
}

xml_type! {
    /// ES3 / ES4A SetONC: store or replace the entry for (Operator, Profile Type).
    pub struct SetOncRequest = "SetONCRequestType" : BaseRequest {
        /// The configuration.
        onc: Onc = "Onc",
    }
}

xml_type! {
    /// ES2 SetONC (relayed to ES3).
    pub struct Es2SetOncRequest = "ES2-SetONCRequestType" : BaseRequest {
        /// The SM-SR to relay to.
        smsr_id: EntityId = "Smsr-id",
        /// The configuration.
        onc: Onc = "Onc",
    }
}

xml_type! {
    /// ES3 / ES4A GetONC: every filter is optional.
    pub struct GetOncRequest = "GetONCRequestType" : BaseRequest {
        /// Only entries of this Operator.
        mno_id: Option<EntityId> = "Mno-id",
        /// Only entries for this Profile Type.
        profile_type: Option<ProfileType> = "ProfileType",
    }
}

xml_type! {
    /// ES2 GetONC (relayed to ES3).
    pub struct Es2GetOncRequest = "ES2-GetONCRequestType" : BaseRequest {
        /// The SM-SR to relay to.
        smsr_id: EntityId = "Smsr-id",
        /// Only entries of this Operator.
        mno_id: Option<EntityId> = "Mno-id",
        /// Only entries for this Profile Type.
        profile_type: Option<ProfileType> = "ProfileType",
    }
}

// --- responses -------------------------------------------------------------------------------------

xml_type! {
    /// GetEIS / AuditEIS response.
    pub struct EisResponse = "EISResponseType" : BaseResponse {
        /// The EIS (absent on failure).
        eis: Option<Eis> = "Eis",
    }
}

xml_type! {
    /// A response that may carry the card's response data.
    pub struct EuiccResponse = "EuiccResponseType" : BaseResponse {
        /// Raw response data from the eUICC.
        euicc_response_data: Option<HexBinary> = "EuiccResponseData",
    }
}

xml_type! {
    /// ES2 DownloadProfile response.
    pub struct DownloadProfileResponse = "ES2-DownloadProfileResponseType" : BaseResponse {
        /// The installed profile.
        iccid: Option<Iccid> = "Iccid",
        /// Raw response data from the eUICC.
        euicc_response_data: Option<HexBinary> = "EuiccResponseData",
    }
}

xml_type! {
    /// ES3 CreateISDP response.
    pub struct CreateIsdpResponse = "ES3-CreateISDPResponseType" : BaseResponse {
        /// The AID of the new ISD-P.
        isd_p_aid: Option<Aid> = "Isd-p-aid",
        /// Raw response data from the eUICC.
        euicc_response_data: Option<HexBinary> = "EuiccResponseData",
    }
}

xml_type! {
    /// ES7 AuthenticateSMSR response.
    pub struct AuthenticateSmsrResponse = "ES7-AuthenticateSMSRResponseType" : BaseResponse {
        /// The ECASD's random challenge (16 or 32 bytes).
        random_challenge: Option<HexBinary> = "RandomChallenge",
    }
}

xml_type! {
    /// ES7 CreateAdditionalKeySet response.
    pub struct CreateAdditionalKeySetResponse = "ES7-CreateAdditionalKeySetResponseType" : BaseResponse {
        /// The card's derivation random, when it sent one.
        derivation_random: Option<HexBinary> = "DerivationRandom",
        /// The receipt confirming the derived keys.
        receipt: Option<HexBinary> = "Receipt",
    }
}

xml_type! {
    /// GetPLMA response.
    pub struct GetPlmaResponse = "GetPLMAResponseType" : BaseResponse {
        /// Matching entries.
        plma: Vec<Plma> = "Plma",
    }
}

xml_type! {
    /// GetONC response.
    pub struct GetOncResponse = "GetONCResponseType" : BaseResponse {
        /// Matching entries.
        onc: Vec<Onc> = "Onc",
    }
}

// --- notifications ---------------------------------------------------------------------------------

xml_type! {
    /// ES2 / ES4 notification about one profile: Enabled, Disabled, Deleted, Downloaded, and the Fall-Back and
    /// Emergency attribute Set/Unset notifications (for Unset: the profile that lost the attribute).
    pub struct ProfileChangeNotification = "ProfileChangeNotificationType" : BaseNotification {
        /// The eUICC.
        eid: Eid = "Eid",
        /// The profile.
        iccid: Iccid = "Iccid",
        /// When the change completed.
        completion_timestamp: DateTime = "CompletionTimestamp",
    }
}

xml_type! {
    /// ES3 notification about one profile: as on ES2 plus the Operator the SM-DP forwards it to.
    pub struct Es3ProfileChangeNotification = "ES3-ProfileChangeNotificationType" : BaseNotification {
        /// The eUICC.
        eid: Eid = "Eid",
        /// The profile.
        iccid: Iccid = "Iccid",
        /// The owning Operator.
        mno_id: EntityId = "Mno-id",
        /// When the change completed.
        completion_timestamp: DateTime = "CompletionTimestamp",
    }
}

xml_type! {
    /// ES2 / ES4 HandleSMSRChangeNotification: the new SM-SR's view of the eUICC.
    pub struct SmsrChangeNotification = "SMSRChangeNotificationType" : BaseNotification {
        /// The part of the EIS relevant to the receiving Operator.
        eis: Eis = "Eis",
        /// When the change completed.
        completion_timestamp: DateTime = "CompletionTimestamp",
    }
}

xml_type! {
    /// ES3 HandleSMSRChangeNotification.
    pub struct Es3SmsrChangeNotification = "ES3-SMSRChangeNotificationType" : BaseNotification {
        /// The part of the EIS relevant to the Operator.
        eis: Eis = "Eis",
        /// The Operator the SM-DP forwards it to.
        mno_id: EntityId = "Mno-id",
        /// When the change completed.
        completion_timestamp: DateTime = "CompletionTimestamp",
    }
}

xml_type! {
    /// ES2 / ES4 HandleProfilePOL2UpdatedNotification (project-defined body, U-02).
    pub struct Pol2UpdatedNotification = "POL2UpdatedNotificationType" : BaseNotification {
        /// The eUICC.
        eid: Eid = "Eid",
        /// The profile.
        iccid: Iccid = "Iccid",
        /// The POL2 now in force.
        pol2: Pol2 = "pol2",
        /// When the change completed.
        completion_timestamp: DateTime = "CompletionTimestamp",
    }
}

xml_type! {
    /// ES3 HandleProfilePOL2UpdatedNotification (project-defined body, U-02).
    pub struct Es3Pol2UpdatedNotification = "ES3-POL2UpdatedNotificationType" : BaseNotification {
        /// The eUICC.
        eid: Eid = "Eid",
        /// The profile.
        iccid: Iccid = "Iccid",
        /// The owning Operator.
        mno_id: EntityId = "Mno-id",
        /// The POL2 now in force.
        pol2: Pol2 = "pol2",
        /// When the change completed.
        completion_timestamp: DateTime = "CompletionTimestamp",
    }
}

xml_type! {
    /// HandlePLMASettingNotification on ES2, ES3 and ES4 (project-defined body, U-06): sent to the M2M SP.
    pub struct PlmaSettingNotification = "PLMASettingNotificationType" : BaseNotification {
        /// The entry as stored.
        plma: Plma = "Plma",
        /// When it was stored.
        completion_timestamp: DateTime = "CompletionTimestamp",
    }
}

// --- input tolerance -------------------------------------------------------------------------------

/// Element-name variants seen in other implementations and the name rsp uses (C-17, sgp02.md §4.11).
pub const ELEMENT_NAME_VARIANTS: &[(&str, &str)] = &[
    ("SmSr-id", "Smsr-id"),
    ("Smsr-Id", "Smsr-id"),
    ("completionTimestamp", "CompletionTimestamp"),
    ("TargetSmsrId", "Target-Smsr-id"),
    ("HostID", "HostId"),
    ("moreToDo", "MoreToDo"),
    ("sd-aid", "Sd-aid"),
    ("newSubscriptionAddress", "NewSubscriptionAddress"),
];

/// Renames known element-name variants ([`ELEMENT_NAME_VARIANTS`]) in a received body, in place, so that the
/// strict decoders accept it. Elements in the XML-DSig namespace (an opaque signature) are left untouched.
pub fn normalise_element_names(el: &mut Element) {
    const DSIG: &str = "http://www.w3.org/2000/09/xmldsig#";
    if el.ns.as_deref() == Some(DSIG) {
        return;
    }
    if let Some((_, canonical)) = ELEMENT_NAME_VARIANTS
        .iter()
        .find(|(variant, _)| *variant == el.name)
    {
        el.name = (*canonical).to_string();
    }
    for child in &mut el.children {
        normalise_element_names(child);
    }
}
