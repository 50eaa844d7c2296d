//! Common Mutual Authentication (sgp22.md §3, §4): what the eUICC, the LPA and the server
//! exchange in ES10b.GetEUICCInfo, ES9+.InitiateAuthentication, ES10b.AuthenticateServer and
//! ES9+.AuthenticateClient.

use rsp_types::{Iccid, Oid, Svn};

use crate::capability::{BitString, EuiccRspCapability, LpaRspCapability, ServerRspCapability};
use crate::der::{Certificate, Null, RawContent, SeqOf};
use crate::messages::common::PprIds;
use crate::messages::download::StoreMetadataRequest;
use crate::types::{Octet16, Signed, TransactionId};
use crate::version::{Feature, Gate, V3_0_0};

/// `#SupportedFromV3.0.0#`.
const FROM_V3: Gate = Gate::SupportedFrom(V3_0_0);

crate::der_sequence! {
    /// `SessionContext` (v3): the server's session parameters inside `ServerSigned1 [5]`. It
    /// carries `supportedPushServices` (C-28).
    pub struct SessionContext = "SessionContext" {
        /// `serverSvn [0] VersionType`.
        server_svn [0]: req Svn => Gate::Always,
        /// `crlStaplingV3Used [1] BOOLEAN`.
        crl_stapling_v3_used [1]: req bool => Gate::Always,
        /// `euiccCiPKIdToBeUsedV3 [2] SubjectKeyIdentifier OPTIONAL`.
        euicc_ci_pk_id_to_be_used_v3 [2]: opt Vec<u8> => Gate::Always,
        /// `supportedPushServices [3] SEQUENCE OF OBJECT IDENTIFIER OPTIONAL`; sent only when
        /// Push Service is in use with the peer (U-38).
        supported_push_services [3]: opt Vec<Oid> => Gate::SupportedFor(Feature::PushService, V3_0_0),
    }
}

crate::der_sequence! {
    /// `ServerSigned1`: signed by the SM-DP+ / SM-DS, returned by `ES9+.InitiateAuthentication`.
    /// The v3 fields `sessionContext` and `serverRspCapability` (C-30) are never sent to a v2
    /// peer and always sent to a v3 peer.
    pub struct ServerSigned1 = "ServerSigned1" {
        /// `transactionId [0] TransactionId` (OCTET STRING 1..16).
        transaction_id [0]: req TransactionId => Gate::Always,
        /// `euiccChallenge [1] Octet16`.
        euicc_challenge [1]: req Octet16 => Gate::Always,
        /// `serverAddress [3] UTF8String`.
        server_address [3]: req String => Gate::Always,
        /// `serverChallenge [4] Octet16`.
        server_challenge [4]: req Octet16 => Gate::Always,
        /// `sessionContext [5] SessionContext OPTIONAL`.
        session_context [5]: opt SessionContext => Gate::MandatoryFrom(V3_0_0),
        /// `serverRspCapability [6] ServerRspCapability OPTIONAL`.
        server_rsp_capability [6]: opt ServerRspCapability => Gate::MandatoryFrom(V3_0_0),
    }
}

crate::der_sequence! {
    /// `EUICCInfo1 ::= [32] SEQUENCE` (`BF20`): what the eUICC tells before any authentication.
    pub struct EuiccInfo1 = "EUICCInfo1" tag 0xBF20 {
        /// `lowestSvn [2] VersionType` (v2.x: `svn`).
        lowest_svn [2]: req Svn => Gate::Always,
        /// `euiccCiPKIdListForVerification [9] SEQUENCE OF SubjectKeyIdentifier`.
        euicc_ci_pk_id_list_for_verification [9]: req SeqOf<Vec<u8>> => Gate::Always,
        /// `euiccCiPKIdListForSigning [10] SEQUENCE OF SubjectKeyIdentifier`.
        euicc_ci_pk_id_list_for_signing [10]: req SeqOf<Vec<u8>> => Gate::Always,
        /// `euiccCiPKIdListForSigningV3 [17]` (v3).
        euicc_ci_pk_id_list_for_signing_v3 [17]: opt SeqOf<Vec<u8>> => FROM_V3,
        /// `euiccRspCapability [8] EuiccRspCapability OPTIONAL` (v3; bit euiccRspCapInInfo1).
        euicc_rsp_capability [8]: opt EuiccRspCapability => FROM_V3,
        /// `highestSvn [19] VersionType OPTIONAL` (v3).
        highest_svn [19]: opt Svn => FROM_V3,
    }
}

crate::der_sequence! {
    /// `EUICCInfo2 ::= [34] SEQUENCE` (`BF22`): the eUICC's full description, signed inside
    /// euiccSigned1.
    pub struct EuiccInfo2 = "EUICCInfo2" tag 0xBF22 {
        /// `baseProfilePackageVersion [1]` (v2.x: `profileVersion`).
        base_profile_package_version [1]: req Svn => Gate::Always,
        /// `lowestSvn [2]` (v2.x: `svn`).
        lowest_svn [2]: req Svn => Gate::Always,
        /// `euiccFirmwareVersion [3]` (v2.x: `euiccFirmwareVer`).
        euicc_firmware_version [3]: req Svn => Gate::Always,
        /// `extCardResource [4] OCTET STRING` (ETSI TS 102 226 tags 81/82/83).
        ext_card_resource [4]: req Vec<u8> => Gate::Always,
        /// `uiccCapability [5] UICCCapability` (BIT STRING).
        uicc_capability [5]: req BitString => Gate::Always,
        /// `ts102241Version [6] OPTIONAL`.
        ts102241_version [6]: opt Svn => Gate::Always,
        /// `globalplatformVersion [7] OPTIONAL`.
        global_platform_version [7]: opt Svn => Gate::Always,
        /// `euiccRspCapability [8]` (v2.x: `rspCapability`; one bit space, C-29).
        euicc_rsp_capability [8]: req EuiccRspCapability => Gate::Always,
        /// `euiccCiPKIdListForVerification [9]`.
        euicc_ci_pk_id_list_for_verification [9]: req SeqOf<Vec<u8>> => Gate::Always,
        /// `euiccCiPKIdListForSigning [10]`.
        euicc_ci_pk_id_list_for_signing [10]: req SeqOf<Vec<u8>> => Gate::Always,
        /// `euiccCategory [11] INTEGER OPTIONAL` (0 other, 1 basicEuicc, 2 mediumEuicc, 3 contactlessEuicc).
        euicc_category [11]: opt i64 => Gate::Always,
        /// `forbiddenProfilePolicyRules [25] PprIds OPTIONAL`.
        forbidden_profile_policy_rules [25]: opt PprIds => Gate::Always,
        /// `ppVersion VersionType` (universal OCTET STRING).
        pp_version (own): req Svn => Gate::Always,
        /// `sasAcreditationNumber UTF8String (SIZE(0..64))`.
        sas_accreditation_number (own): req String => Gate::Always,
        /// `certificationDataObject [12] OPTIONAL`.
        certification_data_object [12]: opt RawContent => Gate::Always,
        /// `treProperties [13] BIT STRING OPTIONAL`.
        tre_properties [13]: opt BitString => Gate::Always,
        /// `treProductReference [14] UTF8String OPTIONAL`.
        tre_product_reference [14]: opt String => Gate::Always,
        /// `additionalProfilePackageVersions [15] SEQUENCE OF VersionType OPTIONAL` (v2.7:
        /// `additionalEuiccProfilePackageVersions`).
        additional_profile_package_versions [15]: opt SeqOf<Svn> => Gate::Always,
        /// `lpaMode [16] OPTIONAL` (`#SupportedForLpaProxyV3.0.0#`).
        lpa_mode [16]: opt i64 => Gate::SupportedFor(Feature::LpaProxy, V3_0_0),
        /// `euiccCiPKIdListForSigningV3 [17] OPTIONAL` (v3).
        euicc_ci_pk_id_list_for_signing_v3 [17]: opt SeqOf<Vec<u8>> => FROM_V3,
        /// `additionalEuiccInfo [18] OCTET STRING OPTIONAL`.
        additional_euicc_info [18]: opt Vec<u8> => Gate::Always,
        /// `highestSvn [19] VersionType OPTIONAL` (v3).
        highest_svn [19]: opt Svn => FROM_V3,
        /// `iotSpecificInfo [20] OPTIONAL`.
        iot_specific_info [20]: opt RawContent => Gate::Always,
    }
}

crate::der_sequence! {
    /// `DeviceCapabilities ::= SEQUENCE` of supported radio / feature releases (all optional).
    pub struct DeviceCapabilities = "DeviceCapabilities" {
        /// `gsmSupportedRelease [0]`.
        gsm_supported_release [0]: opt Svn => Gate::Always,
        /// `utranSupportedRelease [1]`.
        utran_supported_release [1]: opt Svn => Gate::Always,
        /// `cdma2000onexSupportedRelease [2]`.
        cdma2000onex_supported_release [2]: opt Svn => Gate::Always,
        /// `cdma2000hrpdSupportedRelease [3]`.
        cdma2000hrpd_supported_release [3]: opt Svn => Gate::Always,
        /// `cdma2000ehrpdSupportedRelease [4]`.
        cdma2000ehrpd_supported_release [4]: opt Svn => Gate::Always,
        /// `eutranEpcSupportedRelease [5]`.
        eutran_epc_supported_release [5]: opt Svn => Gate::Always,
        /// `contactlessSupportedRelease [6]`.
        contactless_supported_release [6]: opt Svn => Gate::Always,
        /// `rspCrlSupportedVersion [7]`.
        rsp_crl_supported_version [7]: opt Svn => Gate::Always,
        /// `nrEpcSupportedRelease [8]`.
        nr_epc_supported_release [8]: opt Svn => Gate::Always,
        /// `nr5gcSupportedRelease [9]`.
        nr5gc_supported_release [9]: opt Svn => Gate::Always,
        /// `eutran5gcSupportedRelease [10]`.
        eutran5gc_supported_release [10]: opt Svn => Gate::Always,
        /// `lpaSvn [11]` (v3).
        lpa_svn [11]: opt Svn => FROM_V3,
        /// `catSupportedClasses [12]` (v3).
        cat_supported_classes [12]: opt BitString => FROM_V3,
        /// `euiccFormFactorType [13]` (v3).
        euicc_form_factor_type [13]: opt i64 => FROM_V3,
        /// `deviceAdditionalFeatureSupport [14]` (v3).
        device_additional_feature_support [14]: opt RawContent => FROM_V3,
    }
}

crate::der_sequence! {
    /// `DeviceInfo ::= SEQUENCE` (signed by the eUICC inside ctxParams1).
    pub struct DeviceInfo = "DeviceInfo" {
        /// `tac Octet4`.
        tac [0]: req Vec<u8> => Gate::Always,
        /// `deviceCapabilities`.
        device_capabilities [1]: req DeviceCapabilities => Gate::Always,
        /// `imei Octet8 OPTIONAL`.
        imei [2]: opt Vec<u8> => Gate::Always,
        /// `preferredLanguages SEQUENCE OF UTF8String OPTIONAL` (v3).
        preferred_languages [3]: opt SeqOf<String> => FROM_V3,
        /// `deviceTestMode NULL OPTIONAL` (v3).
        device_test_mode [4]: opt Null => FROM_V3,
        /// `lpaRspCapability OPTIONAL` (v3; the signed copy of the LPA's capabilities).
        lpa_rsp_capability [5]: opt LpaRspCapability => FROM_V3,
    }
}

crate::der_sequence! {
    /// `CtxParamsForCommonAuthentication ::= SEQUENCE` (CtxParams1 alternative `[0]`).
    pub struct CtxParamsForCommonAuthentication = "CtxParamsForCommonAuthentication" {
        /// `matchingId [0] UTF8String OPTIONAL` (from the Activation Code or SM-DS event).
        matching_id [0]: opt String => Gate::Always,
        /// `deviceInfo [1] DeviceInfo`.
        device_info [1]: req DeviceInfo => Gate::Always,
        /// `operationType [2] OperationType DEFAULT {profileDownload}` (v3; BIT STRING).
        operation_type [2]: opt BitString => FROM_V3,
        /// `iccid Iccid OPTIONAL` (v3).
        iccid (0x5A): opt Iccid => FROM_V3,
        /// `matchingIdSource [3] OPTIONAL` (v3; a CHOICE kept opaque).
        matching_id_source [3]: opt RawContent => FROM_V3,
        /// `vendorSpecificExtension [4] OPTIONAL` (v3).
        vendor_specific_extension [4]: opt RawContent => FROM_V3,
    }
}

crate::der_sequence! {
    /// `CtxParamsForPushServiceRegistration ::= SEQUENCE` (CtxParams1 alternative `[3]`, v3).
    pub struct CtxParamsForPushServiceRegistration = "CtxParamsForPushServiceRegistration" {
        /// `selectedPushService [0] OBJECT IDENTIFIER`.
        selected_push_service [0]: req Oid => Gate::Always,
        /// `pushToken [1] UTF8String`.
        push_token [1]: req String => Gate::Always,
    }
}

crate::der_choice! {
    /// `CtxParams1 ::= CHOICE` (signed by the eUICC in euiccSigned1).
    pub enum CtxParams1 = "CtxParams1" {
        /// `ctxParamsForCommonAuthentication [0]`.
        CommonAuthentication [0] (CtxParamsForCommonAuthentication) => Gate::Always,
        /// `ctxParamsForDeviceChange [1]` (`#SupportedForDcV3.0.0#`), kept opaque.
        DeviceChange [1] (RawContent) => Gate::SupportedFor(Feature::DeviceChange, V3_0_0),
        /// `ctxParamsForProfileRecovery [2]` (`#SupportedForDcV3.0.0#`), kept opaque.
        ProfileRecovery [2] (RawContent) => Gate::SupportedFor(Feature::DeviceChange, V3_0_0),
        /// `ctxParamsForPushServiceRegistration [3]` (`#SupportedForPushServiceV3.0.0#`).
        PushServiceRegistration [3] (CtxParamsForPushServiceRegistration) => Gate::SupportedFor(Feature::PushService, V3_0_0),
    }
}

crate::der_sequence! {
    /// `InitiateAuthenticationRequest ::= [57] SEQUENCE` (`BF39`), LPA → SM-DP+.
    pub struct InitiateAuthenticationRequest = "InitiateAuthenticationRequest" tag 0xBF39 {
        /// `euiccChallenge [1] Octet16`.
        euicc_challenge [1]: req Octet16 => Gate::Always,
        /// `smdpAddress [3] UTF8String`.
        smdp_address [3]: req String => Gate::Always,
        /// `euiccInfo1 EUICCInfo1` (`BF20`).
        euicc_info1 (own): req EuiccInfo1 => Gate::Always,
        /// `lpaRspCapability [5] OPTIONAL` (v3; its absence marks a v2 device).
        lpa_rsp_capability [5]: opt LpaRspCapability => FROM_V3,
    }
}

crate::der_sequence! {
    /// `InitiateAuthenticationOkEs9 ::= SEQUENCE`.
    pub struct InitiateAuthenticationOk = "InitiateAuthenticationOkEs9" {
        /// `transactionId [0]`.
        transaction_id [0]: req TransactionId => Gate::Always,
        /// `serverSigned1 ServerSigned1` (exact bytes: the signature covers them).
        server_signed1 (own): req Signed<ServerSigned1> => Gate::Always,
        /// `serverSignature1 [APPLICATION 55]` (`5F37`, raw r‖s).
        server_signature1 (0x5F37): req Vec<u8> => Gate::Always,
        /// `euiccCiPKIdToBeUsed SubjectKeyIdentifier` (`04`).
        euicc_ci_pk_id_to_be_used (own): req Vec<u8> => Gate::Always,
        /// `serverCertificate Certificate` (CERT.DPauth).
        server_certificate (own): req Certificate => Gate::Always,
        /// `otherCertsInChain [1] OPTIONAL` (v3: SubCA certificates).
        other_certs_in_chain [1]: opt SeqOf<Certificate> => FROM_V3,
        /// `crlList [2] OPTIONAL` (v3 CRL stapling), kept opaque.
        crl_list [2]: opt RawContent => FROM_V3,
    }
}

crate::der_choice! {
    /// `InitiateAuthenticationResponse ::= [57] CHOICE` (`BF39`).
    pub enum InitiateAuthenticationResponse = "InitiateAuthenticationResponse" tag 0xBF39 {
        /// `initiateAuthenticationOk [0]`.
        Ok [0] (InitiateAuthenticationOk) => Gate::Always,
        /// `initiateAuthenticationError [1] INTEGER` (see [`initiate_authentication_error`]).
        Error [1] (i64) => Gate::Always,
    }
}

/// `InitiateAuthenticationResponse.initiateAuthenticationError` values.
pub mod initiate_authentication_error {
    /// invalidDpAddress
    pub const INVALID_DP_ADDRESS: i64 = 1;
    /// euiccVersionNotSupportedByDp
    pub const EUICC_VERSION_NOT_SUPPORTED_BY_DP: i64 = 2;
    /// ciPKIdNotSupported
    pub const CI_PK_ID_NOT_SUPPORTED: i64 = 3;
    /// invalidInputData (ES9+ ASN.1 binding)
    pub const INVALID_INPUT_DATA: i64 = 124;
    /// missingInputData
    pub const MISSING_INPUT_DATA: i64 = 125;
    /// functionProviderBusy
    pub const FUNCTION_PROVIDER_BUSY: i64 = 126;
    /// undefinedError
    pub const UNDEFINED_ERROR: i64 = 127;
}

crate::der_sequence! {
    /// `AuthenticateServerRequest ::= [56] SEQUENCE` (`BF38`), LPA → eUICC.
    pub struct AuthenticateServerRequest = "AuthenticateServerRequest" tag 0xBF38 {
        /// `serverSigned1` (exact bytes).
        server_signed1 (own): req Signed<ServerSigned1> => Gate::Always,
        /// `serverSignature1 [APPLICATION 55]`.
        server_signature1 (0x5F37): req Vec<u8> => Gate::Always,
        /// `euiccCiPKIdToBeUsed SubjectKeyIdentifier`.
        euicc_ci_pk_id_to_be_used (own): req Vec<u8> => Gate::Always,
        /// `serverCertificate Certificate` (CERT.DPauth).
        server_certificate (own): req Certificate => Gate::Always,
        /// `ctxParams1 CtxParams1`.
        ctx_params1 (own): req CtxParams1 => Gate::Always,
        /// `otherCertsInChain [1] OPTIONAL` (v3).
        other_certs_in_chain [1]: opt SeqOf<Certificate> => FROM_V3,
        /// `crlList [2] OPTIONAL` (v3), kept opaque.
        crl_list [2]: opt RawContent => FROM_V3,
    }
}

crate::der_sequence! {
    /// `EuiccSigned1 ::= SEQUENCE`: what the eUICC signs in AuthenticateServer.
    pub struct EuiccSigned1 = "EuiccSigned1" {
        /// `transactionId [0]`.
        transaction_id [0]: req TransactionId => Gate::Always,
        /// `serverAddress [3] UTF8String`.
        server_address [3]: req String => Gate::Always,
        /// `serverChallenge [4] Octet16`.
        server_challenge [4]: req Octet16 => Gate::Always,
        /// `euiccInfo2 [34] EUICCInfo2` (`BF22`).
        euicc_info2 (own): req EuiccInfo2 => Gate::Always,
        /// `ctxParams1 CtxParams1`.
        ctx_params1 (own): req CtxParams1 => Gate::Always,
    }
}

crate::der_sequence! {
    /// `AuthenticateResponseOk ::= SEQUENCE`.
    pub struct AuthenticateResponseOk = "AuthenticateResponseOk" {
        /// `euiccSigned1` (exact bytes).
        euicc_signed1 (own): req Signed<EuiccSigned1> => Gate::Always,
        /// `euiccSignature1 [APPLICATION 55]`.
        euicc_signature1 (0x5F37): req Vec<u8> => Gate::Always,
        /// `euiccCertificate Certificate` (CERT.EUICC).
        euicc_certificate (own): req Certificate => Gate::Always,
        /// `nextCertInChain Certificate` (v2.x `eumCertificate`: CERT.EUM or an EUM SubCA).
        next_cert_in_chain (own): req Certificate => Gate::Always,
        /// `otherCertsInChain [0] OPTIONAL` (v3).
        other_certs_in_chain [0]: opt SeqOf<Certificate> => FROM_V3,
    }
}

crate::der_sequence! {
    /// `AuthenticateResponseError ::= SEQUENCE`.
    pub struct AuthenticateResponseError = "AuthenticateResponseError" {
        /// `transactionId [0]`.
        transaction_id [0]: req TransactionId => Gate::Always,
        /// `authenticateErrorCode AuthenticateErrorCode` (see [`authenticate_error`]).
        authenticate_error_code (own): req i64 => Gate::Always,
    }
}

crate::der_choice! {
    /// `AuthenticateServerResponse ::= [56] CHOICE` (`BF38`), eUICC → LPA → SM-DP+.
    pub enum AuthenticateServerResponse = "AuthenticateServerResponse" tag 0xBF38 {
        /// `authenticateResponseOk [0]`.
        Ok [0] (AuthenticateResponseOk) => Gate::Always,
        /// `authenticateResponseError [1]`.
        Error [1] (AuthenticateResponseError) => Gate::Always,
    }
}

/// `AuthenticateErrorCode` values (eUICC, ES10b.AuthenticateServer).
pub mod authenticate_error {
    /// invalidCertificate
    pub const INVALID_CERTIFICATE: i64 = 1;
    /// invalidSignature
    pub const INVALID_SIGNATURE: i64 = 2;
    /// unsupportedCurve
    pub const UNSUPPORTED_CURVE: i64 = 3;
    /// noSession
    pub const NO_SESSION: i64 = 4;
    /// invalidOid
    pub const INVALID_OID: i64 = 5;
    /// euiccChallengeMismatch
    pub const EUICC_CHALLENGE_MISMATCH: i64 = 6;
    /// ciPKUnknown
    pub const CI_PK_UNKNOWN: i64 = 7;
    /// transactionIdError (v3)
    pub const TRANSACTION_ID_ERROR: i64 = 8;
    /// missingCrl (v3)
    pub const MISSING_CRL: i64 = 9;
    /// invalidCrlSignature (v3)
    pub const INVALID_CRL_SIGNATURE: i64 = 10;
    /// revokedCert (v3)
    pub const REVOKED_CERT: i64 = 11;
    /// invalidCertOrCrlTime (v3)
    pub const INVALID_CERT_OR_CRL_TIME: i64 = 12;
    /// invalidCertOrCrlConfiguration (v3)
    pub const INVALID_CERT_OR_CRL_CONFIGURATION: i64 = 13;
    /// invalidIccid (v3)
    pub const INVALID_ICCID: i64 = 14;
    /// undefinedError
    pub const UNDEFINED_ERROR: i64 = 127;
}

crate::der_sequence! {
    /// `AuthenticateClientRequest ::= [59] SEQUENCE` (`BF3B`), LPA → SM-DP+.
    pub struct AuthenticateClientRequest = "AuthenticateClientRequest" tag 0xBF3B {
        /// `transactionId [0]`.
        transaction_id [0]: req TransactionId => Gate::Always,
        /// `authenticateServerResponse [56]` (`BF38`).
        authenticate_server_response (own): req AuthenticateServerResponse => Gate::Always,
        /// `deleteNotificationForDc [1] OPTIONAL` (`#SupportedForDcV3.0.0#`), kept opaque.
        delete_notification_for_dc [1]: opt RawContent => Gate::SupportedFor(Feature::DeviceChange, V3_0_0),
    }
}

crate::der_sequence! {
    /// `SmdpSigned2 ::= SEQUENCE`: signed by CERT.DPpb in AuthenticateClient.
    pub struct SmdpSigned2 = "SmdpSigned2" {
        /// `transactionId [0]`.
        transaction_id [0]: req TransactionId => Gate::Always,
        /// `ccRequiredFlag BOOLEAN`: a Confirmation Code is needed.
        cc_required_flag (own): req bool => Gate::Always,
        /// `bppEuiccOtpk [APPLICATION 73] OPTIONAL` (`5F49`): re-use of the eUICC's one-time key on a retry.
        bpp_euicc_otpk (0x5F49): opt Vec<u8> => Gate::Always,
        /// `rpmPending [1] NULL OPTIONAL` (`#SupportedForRpmV3.0.0#`).
        rpm_pending [1]: opt Null => Gate::SupportedFor(Feature::Rpm, V3_0_0),
    }
}

crate::der_sequence! {
    /// `AuthenticateClientOk ::= SEQUENCE` (the profile download alternative).
    pub struct AuthenticateClientOk = "AuthenticateClientOk" {
        /// `transactionId [0]`.
        transaction_id [0]: req TransactionId => Gate::Always,
        /// `profileMetaData [37] StoreMetadataRequest` (`BF25`).
        profile_metadata (own): req StoreMetadataRequest => Gate::Always,
        /// `smdpSigned2` (exact bytes).
        smdp_signed2 (own): req Signed<SmdpSigned2> => Gate::Always,
        /// `smdpSignature2 [APPLICATION 55]`.
        smdp_signature2 (0x5F37): req Vec<u8> => Gate::Always,
        /// `smdpCertificate Certificate` (CERT.DPpb).
        smdp_certificate (own): req Certificate => Gate::Always,
    }
}

crate::der_choice! {
    /// `AuthenticateClientResponseEs9 ::= [59] CHOICE` (`BF3B`).
    pub enum AuthenticateClientResponseEs9 = "AuthenticateClientResponseEs9" tag 0xBF3B {
        /// `authenticateClientOk [0]` (profile download).
        Ok [0] (AuthenticateClientOk) => Gate::Always,
        /// `authenticateClientError [1] INTEGER` (see [`authenticate_client_error`]).
        Error [1] (i64) => Gate::Always,
        /// `authenticateClientOkRpm [2]` (`#SupportedForRpmV3.0.0#`), kept opaque.
        OkRpm [2] (RawContent) => Gate::SupportedFor(Feature::Rpm, V3_0_0),
        /// `authenticateClientOkDeviceChange [3]` (`#SupportedForDcV3.0.0#`), kept opaque.
        OkDeviceChange [3] (RawContent) => Gate::SupportedFor(Feature::DeviceChange, V3_0_0),
        /// `authenticateClientOkDelayedDeviceChange [4]` (`#SupportedForDcV3.0.0#`), kept opaque.
        OkDelayedDeviceChange [4] (RawContent) => Gate::SupportedFor(Feature::DeviceChange, V3_0_0),
    }
}

/// `AuthenticateClientResponseEs9.authenticateClientError` values.
pub mod authenticate_client_error {
    /// eumCertificateInvalid
    pub const EUM_CERTIFICATE_INVALID: i64 = 1;
    /// eumCertificateExpired
    pub const EUM_CERTIFICATE_EXPIRED: i64 = 2;
    /// euiccCertificateInvalid
    pub const EUICC_CERTIFICATE_INVALID: i64 = 3;
    /// euiccCertificateExpired
    pub const EUICC_CERTIFICATE_EXPIRED: i64 = 4;
    /// euiccSignatureInvalid
    pub const EUICC_SIGNATURE_INVALID: i64 = 5;
    /// matchingIdRefused
    pub const MATCHING_ID_REFUSED: i64 = 6;
    /// eidMismatch
    pub const EID_MISMATCH: i64 = 7;
    /// noEligibleProfile
    pub const NO_ELIGIBLE_PROFILE: i64 = 8;
    /// ciPKUnknown
    pub const CI_PK_UNKNOWN: i64 = 9;
    /// invalidTransactionId
    pub const INVALID_TRANSACTION_ID: i64 = 10;
    /// insufficientMemory
    pub const INSUFFICIENT_MEMORY: i64 = 11;
    /// ciPKMismatch (v3)
    pub const CI_PK_MISMATCH: i64 = 12;
    /// euiccRspCapabilityHasChanged (v3)
    pub const EUICC_RSP_CAPABILITY_HAS_CHANGED: i64 = 13;
    /// lpaRspCapabilityHasChanged (v3)
    pub const LPA_RSP_CAPABILITY_HAS_CHANGED: i64 = 14;
    /// deviceChangeNotSupported (v3)
    pub const DEVICE_CHANGE_NOT_SUPPORTED: i64 = 15;
    /// deviceChangeNotAllowed (v3)
    pub const DEVICE_CHANGE_NOT_ALLOWED: i64 = 16;
    /// iccidUnknown (v3; `iccidUnkwon` in the ASN.1)
    pub const ICCID_UNKNOWN: i64 = 17;
    /// downloadOrderExpired (v2.7)
    pub const DOWNLOAD_ORDER_EXPIRED: i64 = 18;
    /// invalidInputData
    pub const INVALID_INPUT_DATA: i64 = 124;
    /// missingInputData
    pub const MISSING_INPUT_DATA: i64 = 125;
    /// functionProviderBusy
    pub const FUNCTION_PROVIDER_BUSY: i64 = 126;
    /// undefinedError
    pub const UNDEFINED_ERROR: i64 = 127;
}
