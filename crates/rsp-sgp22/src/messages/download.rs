//! Profile download after authentication (sgp22.md §5, §11, §12): profile metadata,
//! PrepareDownload, GetBoundProfilePackage, the Profile Installation Result, notifications and
//! CancelSession.

use rsp_types::{Iccid, Oid};

use crate::der::{Certificate, RawContent, RawTlv, SeqOf};
use crate::messages::common::{
    NotificationConfigurationInformation, NotificationEvent, OperatorId, PprIds,
};
use crate::types::{Signed, TransactionId};
use crate::version::{Feature, Gate, V3_0_0};

/// `#SupportedFromV3.0.0#`.
const FROM_V3: Gate = Gate::SupportedFrom(V3_0_0);

crate::der_sequence! {
    /// `StoreMetadataRequest ::= [37] SEQUENCE` (`BF25`): the profile metadata, shown to the
    /// user before the download (AuthenticateClient) and stored by the eUICC (inside the BPP).
    pub struct StoreMetadataRequest = "StoreMetadataRequest" tag 0xBF25 {
        /// `iccid Iccid` (`5A`).
        iccid (0x5A): req Iccid => Gate::Always,
        /// `serviceProviderName [17] UTF8String (SIZE(0..32))`.
        service_provider_name [17]: req String => Gate::Always,
        /// `profileName [18] UTF8String (SIZE(0..64))`.
        profile_name [18]: req String => Gate::Always,
        /// `iconType [19] OPTIONAL` (0 jpg, 1 png).
        icon_type [19]: opt i64 => Gate::Always,
        /// `icon [20] OCTET STRING OPTIONAL`.
        icon [20]: opt Vec<u8> => Gate::Always,
        /// `profileClass [21] OPTIONAL` (0 test, 1 provisioning, 2 operational; default operational).
        profile_class [21]: opt i64 => Gate::Always,
        /// `notificationConfigurationInfo [22] SEQUENCE OF NotificationConfigurationInformation OPTIONAL`.
        notification_configuration_info [22]: opt SeqOf<NotificationConfigurationInformation> => Gate::Always,
        /// `profileOwner [23] OperatorId OPTIONAL`.
        profile_owner [23]: opt OperatorId => Gate::Always,
        /// `profilePolicyRules [25] PprIds OPTIONAL`.
        profile_policy_rules [25]: opt PprIds => Gate::Always,
        /// `serviceSpecificDataStoredInEuicc [34] OPTIONAL`, kept opaque.
        service_specific_data_stored_in_euicc [34]: opt RawContent => Gate::Always,
        /// `serviceSpecificDataNotStoredInEuicc [35] OPTIONAL`, kept opaque.
        service_specific_data_not_stored_in_euicc [35]: opt RawContent => Gate::Always,
        /// `rpmConfiguration [26] OPTIONAL` (`#SupportedForRpmV3.0.0#`), kept opaque.
        rpm_configuration [26]: opt RawContent => Gate::SupportedFor(Feature::Rpm, V3_0_0),
        /// `hriServerAddress [27] UTF8String OPTIONAL` (v3).
        hri_server_address [27]: opt String => FROM_V3,
        /// `lprConfiguration [28] OPTIONAL` (`#SupportedForLpaProxyV3.0.0#`), kept opaque.
        lpr_configuration [28]: opt RawContent => Gate::SupportedFor(Feature::LpaProxy, V3_0_0),
        /// `enterpriseConfiguration [29] OPTIONAL` (`#SupportedForEnterpriseV3.0.0#`), kept opaque.
        enterprise_configuration [29]: opt RawContent => Gate::SupportedFor(Feature::Enterprise, V3_0_0),
        /// `serviceDescription [31] OPTIONAL` (v3), kept opaque.
        service_description [31]: opt RawContent => FROM_V3,
        /// `deviceChangeConfiguration [32] OPTIONAL` (`#SupportedForDcV3.0.0#`), kept opaque.
        device_change_configuration [32]: opt RawContent => Gate::SupportedFor(Feature::DeviceChange, V3_0_0),
    }
}

/// `profileClass` values.
pub mod profile_class {
    /// test
    pub const TEST: i64 = 0;
    /// provisioning
    pub const PROVISIONING: i64 = 1;
    /// operational (the default when absent)
    pub const OPERATIONAL: i64 = 2;
}

crate::der_sequence! {
    /// `PrepareDownloadRequest ::= [33] SEQUENCE` (`BF21`), LPA → eUICC.
    pub struct PrepareDownloadRequest = "PrepareDownloadRequest" tag 0xBF21 {
        /// `smdpSigned2` (exact bytes).
        smdp_signed2 (own): req Signed<crate::messages::auth::SmdpSigned2> => Gate::Always,
        /// `smdpSignature2 [APPLICATION 55]`.
        smdp_signature2 (0x5F37): req Vec<u8> => Gate::Always,
        /// `hashCc Octet32 OPTIONAL` (`04`): SHA256(SHA256(CC) ‖ transactionId).
        hash_cc (own): opt Vec<u8> => Gate::Always,
        /// `smdpCertificate Certificate` (CERT.DPpb).
        smdp_certificate (own): req Certificate => Gate::Always,
    }
}

crate::der_sequence! {
    /// `EUICCSigned2 ::= SEQUENCE`: what the eUICC signs in PrepareDownload.
    pub struct EuiccSigned2 = "EUICCSigned2" {
        /// `transactionId [0]`.
        transaction_id [0]: req TransactionId => Gate::Always,
        /// `euiccOtpk [APPLICATION 73]` (`5F49`): otPK.EUICC.ECKA, uncompressed point.
        euicc_otpk (0x5F49): req Vec<u8> => Gate::Always,
        /// `hashCc Octet32 OPTIONAL`.
        hash_cc (own): opt Vec<u8> => Gate::Always,
    }
}

crate::der_sequence! {
    /// `PrepareDownloadResponseOk ::= SEQUENCE`.
    pub struct PrepareDownloadResponseOk = "PrepareDownloadResponseOk" {
        /// `euiccSigned2` (exact bytes).
        euicc_signed2 (own): req Signed<EuiccSigned2> => Gate::Always,
        /// `euiccSignature2 [APPLICATION 55]`.
        euicc_signature2 (0x5F37): req Vec<u8> => Gate::Always,
    }
}

crate::der_sequence! {
    /// `PrepareDownloadResponseError ::= SEQUENCE`.
    pub struct PrepareDownloadResponseError = "PrepareDownloadResponseError" {
        /// `transactionId [0]`.
        transaction_id [0]: req TransactionId => Gate::Always,
        /// `downloadErrorCode DownloadErrorCode` (see [`download_error`]).
        download_error_code (own): req i64 => Gate::Always,
    }
}

crate::der_choice! {
    /// `PrepareDownloadResponse ::= [33] CHOICE` (`BF21`).
    pub enum PrepareDownloadResponse = "PrepareDownloadResponse" tag 0xBF21 {
        /// `downloadResponseOk [0]`.
        Ok [0] (PrepareDownloadResponseOk) => Gate::Always,
        /// `downloadResponseError [1]`.
        Error [1] (PrepareDownloadResponseError) => Gate::Always,
    }
}

/// `DownloadErrorCode` values (eUICC, ES10b.PrepareDownload).
pub mod download_error {
    /// invalidCertificate
    pub const INVALID_CERTIFICATE: i64 = 1;
    /// invalidSignature
    pub const INVALID_SIGNATURE: i64 = 2;
    /// unsupportedCurve
    pub const UNSUPPORTED_CURVE: i64 = 3;
    /// noSession
    pub const NO_SESSION: i64 = 4;
    /// invalidTransactionId
    pub const INVALID_TRANSACTION_ID: i64 = 5;
    /// undefinedError
    pub const UNDEFINED_ERROR: i64 = 127;
}

crate::der_sequence! {
    /// `GetBoundProfilePackageRequest ::= [58] SEQUENCE` (`BF3A`), LPA → SM-DP+.
    pub struct GetBoundProfilePackageRequest = "GetBoundProfilePackageRequest" tag 0xBF3A {
        /// `transactionId [0]`.
        transaction_id [0]: req TransactionId => Gate::Always,
        /// `prepareDownloadResponse [33]` (`BF21`).
        prepare_download_response (own): req PrepareDownloadResponse => Gate::Always,
    }
}

crate::der_sequence! {
    /// `GetBoundProfilePackageOk ::= SEQUENCE`.
    pub struct GetBoundProfilePackageOk = "GetBoundProfilePackageOk" {
        /// `transactionId [0]`.
        transaction_id [0]: req TransactionId => Gate::Always,
        /// `boundProfilePackage [54]` (`BF36`), built and parsed by [`crate::bpp`].
        bound_profile_package (own): req RawTlv<0xBF36> => Gate::Always,
    }
}

crate::der_choice! {
    /// `GetBoundProfilePackageResponse ::= [58] CHOICE` (`BF3A`).
    pub enum GetBoundProfilePackageResponse = "GetBoundProfilePackageResponse" tag 0xBF3A {
        /// `getBoundProfilePackageOk [0]`.
        Ok [0] (GetBoundProfilePackageOk) => Gate::Always,
        /// `getBoundProfilePackageError [1] INTEGER` (see [`get_bpp_error`]).
        Error [1] (i64) => Gate::Always,
    }
}

/// `GetBoundProfilePackageResponse.getBoundProfilePackageError` values.
pub mod get_bpp_error {
    /// euiccSignatureInvalid
    pub const EUICC_SIGNATURE_INVALID: i64 = 1;
    /// confirmationCodeMissing
    pub const CONFIRMATION_CODE_MISSING: i64 = 2;
    /// confirmationCodeRefused
    pub const CONFIRMATION_CODE_REFUSED: i64 = 3;
    /// confirmationCodeRetriesExceeded
    pub const CONFIRMATION_CODE_RETRIES_EXCEEDED: i64 = 4;
    /// bppRebindingRefused
    pub const BPP_REBINDING_REFUSED: i64 = 5;
    /// downloadOrderExpired
    pub const DOWNLOAD_ORDER_EXPIRED: i64 = 6;
    /// invalidTransactionId
    pub const INVALID_TRANSACTION_ID: i64 = 95;
    /// invalidInputData
    pub const INVALID_INPUT_DATA: i64 = 124;
    /// missingInputData
    pub const MISSING_INPUT_DATA: i64 = 125;
    /// functionProviderBusy
    pub const FUNCTION_PROVIDER_BUSY: i64 = 126;
    /// undefinedError
    pub const UNDEFINED_ERROR: i64 = 127;
}

crate::der_sequence! {
    /// `NotificationMetadata ::= [47] SEQUENCE` (`BF2F`).
    pub struct NotificationMetadata = "NotificationMetadata" tag 0xBF2F {
        /// `seqNumber [0] INTEGER`: one global counter per eUICC.
        seq_number [0]: req i64 => Gate::Always,
        /// `profileManagementOperation [1] NotificationEvent` (one bit set).
        profile_management_operation [1]: req NotificationEvent => Gate::Always,
        /// `notificationAddress UTF8String` (FQDN of the recipient).
        notification_address (own): req String => Gate::Always,
        /// `iccid Iccid OPTIONAL`.
        iccid (0x5A): opt Iccid => Gate::Always,
    }
}

crate::der_sequence! {
    /// `SuccessResult ::= SEQUENCE`.
    pub struct SuccessResult = "SuccessResult" {
        /// `aid [APPLICATION 15]` (`4F`): the ISD-P AID.
        aid (0x4F): req Vec<u8> => Gate::Always,
        /// `simaResponse OCTET STRING` (v3.1 `ppiResponse`): the EUICCResponse of the profile package.
        sima_response (own): req Vec<u8> => Gate::Always,
    }
}

crate::der_sequence! {
    /// `ErrorResult ::= SEQUENCE`.
    pub struct ErrorResult = "ErrorResult" {
        /// `bppCommandId [0]` (see [`bpp_command_id`]).
        bpp_command_id [0]: req i64 => Gate::Always,
        /// `errorReason [1]` (see [`error_reason`]).
        error_reason [1]: req i64 => Gate::Always,
        /// `simaResponse [2] OCTET STRING OPTIONAL`.
        sima_response [2]: opt Vec<u8> => Gate::Always,
    }
}

/// `BppCommandId` values.
pub mod bpp_command_id {
    /// initialiseSecureChannel
    pub const INITIALISE_SECURE_CHANNEL: i64 = 0;
    /// configureISDP
    pub const CONFIGURE_ISDP: i64 = 1;
    /// storeMetadata
    pub const STORE_METADATA: i64 = 2;
    /// storeMetadata2
    pub const STORE_METADATA2: i64 = 3;
    /// replaceSessionKeys
    pub const REPLACE_SESSION_KEYS: i64 = 4;
    /// loadProfileElements
    pub const LOAD_PROFILE_ELEMENTS: i64 = 5;
}

/// `ErrorReason` values of the Profile Installation Result (sgp22.md §11.3).
pub mod error_reason {
    /// incorrectInputValues
    pub const INCORRECT_INPUT_VALUES: i64 = 1;
    /// invalidSignature
    pub const INVALID_SIGNATURE: i64 = 2;
    /// invalidTransactionId
    pub const INVALID_TRANSACTION_ID: i64 = 3;
    /// unsupportedCrtValues
    pub const UNSUPPORTED_CRT_VALUES: i64 = 4;
    /// unsupportedRemoteOperationType
    pub const UNSUPPORTED_REMOTE_OPERATION_TYPE: i64 = 5;
    /// unsupportedProfileClass
    pub const UNSUPPORTED_PROFILE_CLASS: i64 = 6;
    /// bspStructureError (v2 scp03tStructureError)
    pub const BSP_STRUCTURE_ERROR: i64 = 7;
    /// bspSecurityError (v2 scp03tSecurityError)
    pub const BSP_SECURITY_ERROR: i64 = 8;
    /// installFailedDueToIccidAlreadyExistsOnEuicc
    pub const ICCID_ALREADY_EXISTS: i64 = 9;
    /// installFailedDueToInsufficientMemoryForProfile (temporary)
    pub const INSUFFICIENT_MEMORY: i64 = 10;
    /// installFailedDueToInterruption (temporary)
    pub const INTERRUPTION: i64 = 11;
    /// installFailedDueToPEProcessingError
    pub const PE_PROCESSING_ERROR: i64 = 12;
    /// installFailedDueToDataMismatch
    pub const DATA_MISMATCH: i64 = 13;
    /// testProfileInstallFailedDueToInvalidNaaKey
    pub const INVALID_NAA_KEY: i64 = 14;
    /// pprNotAllowed
    pub const PPR_NOT_ALLOWED: i64 = 15;
    /// installFailedDueToUnknownError
    pub const UNKNOWN_ERROR: i64 = 127;

    /// Whether a download may be retried after this reason (10 and 11 are temporary).
    pub const fn is_temporary(reason: i64) -> bool {
        matches!(reason, INSUFFICIENT_MEMORY | INTERRUPTION)
    }
}

crate::der_choice! {
    /// `finalResult [2] CHOICE` of the Profile Installation Result.
    pub enum FinalResult = "FinalResult" {
        /// `successResult [0]`.
        Success [0] (SuccessResult) => Gate::Always,
        /// `errorResult [1]`.
        Error [1] (ErrorResult) => Gate::Always,
    }
}

crate::der_sequence! {
    /// `ProfileInstallationResultData ::= [39] SEQUENCE` (`BF27`): signed by the eUICC.
    pub struct ProfileInstallationResultData = "ProfileInstallationResultData" tag 0xBF27 {
        /// `transactionId [0]`.
        transaction_id [0]: req TransactionId => Gate::Always,
        /// `notificationMetadata [47]` (`BF2F`).
        notification_metadata (own): req NotificationMetadata => Gate::Always,
        /// `smdpOid OBJECT IDENTIFIER`.
        smdp_oid (own): req Oid => Gate::Always,
        /// `finalResult [2] CHOICE` (EXPLICIT).
        final_result [2 explicit]: req FinalResult => Gate::Always,
    }
}

crate::der_sequence! {
    /// `ProfileInstallationResult ::= [55] SEQUENCE` (`BF37`).
    pub struct ProfileInstallationResult = "ProfileInstallationResult" tag 0xBF37 {
        /// `profileInstallationResultData [39]` (exact bytes: the signature covers them).
        profile_installation_result_data (own): req Signed<ProfileInstallationResultData> => Gate::Always,
        /// `euiccSignPIR [APPLICATION 55]`.
        euicc_sign_pir (0x5F37): req Vec<u8> => Gate::Always,
    }
}

crate::der_sequence! {
    /// `OtherSignedNotification ::= SEQUENCE`: an enable / disable / delete (or install to a
    /// third party) notification.
    pub struct OtherSignedNotification = "OtherSignedNotification" {
        /// `tbsOtherNotification NotificationMetadata` (exact bytes).
        tbs_other_notification (own): req Signed<NotificationMetadata> => Gate::Always,
        /// `euiccNotificationSignature [APPLICATION 55]`.
        euicc_notification_signature (0x5F37): req Vec<u8> => Gate::Always,
        /// `euiccCertificate Certificate`.
        euicc_certificate (own): req Certificate => Gate::Always,
        /// `nextCertInChain Certificate` (v2.x `eumCertificate`).
        next_cert_in_chain (own): req Certificate => Gate::Always,
        /// `otherCertsInChain [0] OPTIONAL` (v3).
        other_certs_in_chain [0]: opt SeqOf<Certificate> => FROM_V3,
    }
}

crate::der_choice! {
    /// `PendingNotification ::= CHOICE`.
    pub enum PendingNotification = "PendingNotification" {
        /// `profileInstallationResult [55]` (`BF37`).
        ProfileInstallationResult (own) (ProfileInstallationResult) => Gate::Always,
        /// `otherSignedNotification` (`30`).
        OtherSignedNotification (own) (OtherSignedNotification) => Gate::Always,
    }
}

crate::der_sequence! {
    /// `HandleNotification ::= [61] SEQUENCE` (`BF3D`), LPA → SM-DP+ (ASN.1 binding).
    pub struct HandleNotification = "HandleNotification" tag 0xBF3D {
        /// `pendingNotification`.
        pending_notification (own): req PendingNotification => Gate::Always,
    }
}

crate::der_sequence! {
    /// `CancelSessionRequest ::= [65] SEQUENCE` (`BF41`), LPA → eUICC.
    pub struct CancelSessionRequest = "CancelSessionRequest" tag 0xBF41 {
        /// `transactionId [0]`.
        transaction_id [0]: req TransactionId => Gate::Always,
        /// `reason [1] CancelSessionReason` (see [`cancel_session_reason`]).
        reason [1]: req i64 => Gate::Always,
    }
}

/// `CancelSessionReason` values.
pub mod cancel_session_reason {
    /// endUserRejection
    pub const END_USER_REJECTION: i64 = 0;
    /// postponed
    pub const POSTPONED: i64 = 1;
    /// timeout
    pub const TIMEOUT: i64 = 2;
    /// pprNotAllowed
    pub const PPR_NOT_ALLOWED: i64 = 3;
    /// metadataMismatch (v3)
    pub const METADATA_MISMATCH: i64 = 4;
    /// loadBppExecutionError (v3)
    pub const LOAD_BPP_EXECUTION_ERROR: i64 = 5;
    /// undefinedReason
    pub const UNDEFINED_REASON: i64 = 127;
}

crate::der_sequence! {
    /// `EuiccCancelSessionSigned ::= SEQUENCE`: signed by the eUICC.
    pub struct EuiccCancelSessionSigned = "EuiccCancelSessionSigned" {
        /// `transactionId [0]`.
        transaction_id [0]: req TransactionId => Gate::Always,
        /// `smdpOid [1] OBJECT IDENTIFIER`.
        smdp_oid [1]: req Oid => Gate::Always,
        /// `reason [2] CancelSessionReason`.
        reason [2]: req i64 => Gate::Always,
    }
}

crate::der_sequence! {
    /// `CancelSessionResponseOk ::= SEQUENCE`.
    pub struct CancelSessionResponseOk = "CancelSessionResponseOk" {
        /// `euiccCancelSessionSigned` (exact bytes).
        euicc_cancel_session_signed (own): req Signed<EuiccCancelSessionSigned> => Gate::Always,
        /// `euiccCancelSessionSignature [APPLICATION 55]`.
        euicc_cancel_session_signature (0x5F37): req Vec<u8> => Gate::Always,
    }
}

crate::der_choice! {
    /// `CancelSessionResponse ::= [65] CHOICE` (`BF41`), eUICC → LPA.
    pub enum CancelSessionResponse = "CancelSessionResponse" tag 0xBF41 {
        /// `cancelSessionResponseOk [0]`.
        Ok [0] (CancelSessionResponseOk) => Gate::Always,
        /// `cancelSessionResponseError [1] INTEGER` (1 invalidTransactionId, 127 undefinedError).
        Error [1] (i64) => Gate::Always,
    }
}

crate::der_sequence! {
    /// `CancelSessionRequestEs9 ::= [65] SEQUENCE` (`BF41`), LPA → SM-DP+.
    pub struct CancelSessionRequestEs9 = "CancelSessionRequestEs9" tag 0xBF41 {
        /// `transactionId [0]`.
        transaction_id [0]: req TransactionId => Gate::Always,
        /// `cancelSessionResponse` (`BF41`).
        cancel_session_response (own): req CancelSessionResponse => Gate::Always,
    }
}

crate::der_sequence! {
    /// `CancelSessionOk ::= SEQUENCE {}`.
    pub struct CancelSessionOk = "CancelSessionOk" {}
}

crate::der_choice! {
    /// `CancelSessionResponseEs9 ::= [65] CHOICE` (`BF41`).
    pub enum CancelSessionResponseEs9 = "CancelSessionResponseEs9" tag 0xBF41 {
        /// `cancelSessionOk [0]`.
        Ok [0] (CancelSessionOk) => Gate::Always,
        /// `cancelSessionError [1] INTEGER` (see [`cancel_session_error`]).
        Error [1] (i64) => Gate::Always,
    }
}

/// `CancelSessionResponseEs9.cancelSessionError` values.
pub mod cancel_session_error {
    /// invalidTransactionId
    pub const INVALID_TRANSACTION_ID: i64 = 1;
    /// euiccSignatureInvalid
    pub const EUICC_SIGNATURE_INVALID: i64 = 2;
    /// invalidInputData
    pub const INVALID_INPUT_DATA: i64 = 124;
    /// missingInputData
    pub const MISSING_INPUT_DATA: i64 = 125;
    /// functionProviderBusy
    pub const FUNCTION_PROVIDER_BUSY: i64 = 126;
    /// undefinedError
    pub const UNDEFINED_ERROR: i64 = 127;
}
