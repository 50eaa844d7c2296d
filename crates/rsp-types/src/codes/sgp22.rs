//! SGP.22 (v2 and v3) subject and reason codes (`sgp22.md` §9): the complete v3 subject map
//! `[DART]`, the reason list `[22][CY][DART][LPAC]`, and named pairs for ES9+ / ES2+ conditions
//! (`sgp22.md` §8.4, §9.3, §9.5; C-38, C-39, U-36, U-42, U-44).

/// The name of a subject code in this table.
pub fn subject_name(code: &str) -> Option<&'static str> {
    super::subject_name(super::Spec::Sgp22, code)
}

/// The name of a reason code in this table.
pub fn reason_name(code: &str) -> Option<&'static str> {
    super::reason_name(super::Spec::Sgp22, code)
}

/// Subject codes.
pub mod subject {
    use crate::status::SubjectCode;

    crate::codes::code_table! { SubjectCode, subject_const;
        GENERIC = "1", "Generic", "Top of the generic subjects. [DART]";
        FUNCTION_REQUESTER = "1.1", "Function Requester", "The caller of the function. [DART]";
        FUNCTION_PROVIDER = "1.2", "Function Provider", "The entity executing the function. [DART]";
        PROTOCOL = "1.3", "Protocol", "The protocol in use (v3). [DART]";
        PROTOCOL_FORMAT = "1.3.1", "Protocol format", "The message format (v3). [DART]";
        PROTOCOL_VERSION = "1.3.2", "Protocol version",
            "The protocol version, e.g. an unsupported X-Admin-Protocol major version (U-36). [DART]";
        FUNCTION = "1.6", "Function", "The function call itself. [DART]";
        EUICC_REMOTE_PROVISIONING = "8", "eUICC Remote Provisioning", "Top of the RSP subjects. [DART]";
        EUICC = "8.1", "eUICC", "The eUICC: its signature, memory, capabilities. [DART]";
        EID = "8.1.1", "EID", "The eUICC identifier. [DART]";
        EUM_CERTIFICATE = "8.1.2", "EUM certificate", "The EUM certificate. [DART]";
        EUICC_CERTIFICATE = "8.1.3", "eUICC certificate", "The eUICC certificate. [DART]";
        PROFILE = "8.2", "Profile", "A profile. [DART]";
        PROFILE_ICCID = "8.2.1", "Profile ICCID", "The profile named by ICCID. [DART]";
        PROFILE_TYPE = "8.2.5", "Profile Type", "The Profile Type of an order. [DART]";
        MATCHING_ID = "8.2.6", "Matching ID", "The MatchingID of an order. [DART]";
        CONFIRMATION_CODE = "8.2.7", "Confirmation Code", "The Confirmation Code of an order. [DART]";
        PPR = "8.2.8", "PPR", "Profile Policy Rules (v3). [DART]";
        PROFILE_METADATA = "8.2.9", "Profile Metadata", "Profile Metadata (v3). [DART]";
        BPP = "8.2.10", "BPP", "The Bound Profile Package (v3). [DART]";
        MANAGING_SM_DP_PLUS = "8.2.11", "Managing SM-DP+", "The managing SM-DP+ of a profile (v3). [DART]";
        PROFILE_OWNER = "8.2.12", "Profile Owner", "The Profile Owner (v3). [DART]";
        ENTERPRISE = "8.2.13", "Enterprise", "Enterprise profile rules (v3). [DART]";
        LPA_PROXY = "8.2.14", "LPA Proxy", "LPA proxy (v3). [DART]";
        SM_DP_PLUS = "8.8", "SM-DP+", "The SM-DP+. [DART]";
        SM_DP_PLUS_ADDRESS = "8.8.1", "SM-DP+ address", "The SM-DP+ address given by the eUICC. [DART]";
        SECURITY_CONFIGURATION = "8.8.2", "Security configuration",
            "The SM-DP+ security configuration: supported CI public key ids. [DART]";
        SVN = "8.8.3", "SVN", "The specification version the eUICC supports. [DART]";
        CERTIFICATE = "8.8.4", "Certificate", "The SM-DP+ certificate (CERT.DPauth / CERT.DPpb). [DART]";
        DOWNLOAD_ORDER = "8.8.5", "Download order", "The download order. [DART]";
        RPM_ORDER = "8.8.6", "RPM order", "The RPM order (v3). [DART]";
        SM_DS = "8.9", "SM-DS", "The SM-DS. [DART]";
        SM_DS_ADDRESS = "8.9.1", "SM-DS address", "The SM-DS address. [DART]";
        SM_DS_SECURITY_CONFIGURATION = "8.9.2", "Security configuration", "The SM-DS security configuration. [DART]";
        SM_DS_SVN = "8.9.3", "SVN", "The specification version, towards the SM-DS. [DART]";
        SM_DS_CERTIFICATE = "8.9.4", "Certificate", "The SM-DS certificate. [DART]";
        EVENT_RECORD = "8.9.5", "Event record", "An SM-DS event record. [DART]";
        ECID = "8.9.6", "ECID", "The event checking id (v3). [DART]";
        PUSH_SERVICE = "8.9.7", "Push service", "The push service (v3). [DART]";
        RSP_OPERATION = "8.10", "RSP operation", "The RSP session. [DART]";
        TRANSACTION_ID = "8.10.1", "TransactionId", "The RSP session's transaction id. [DART]";
        RPM_SCRIPT = "8.10.2", "RPM script", "An RPM script (v3). [DART]";
        DEVICE_CHANGE = "8.10.3", "Device change", "Device change (v3). [DART]";
        EVENT_CHECKING = "8.10.4", "Event checking", "Event checking (v3). [DART]";
        DEVICE_CHANGE_SESSION_ID = "8.10.5", "Device change session id", "Device change session id (v3). [DART]";
        PUSH_SERVICE_REGISTRATION = "8.10.6", "Push service registration", "Push service registration (v3). [DART]";
        ESIM_CA = "8.11", "eSIM CA", "The eSIM CA (CI). [DART]";
        CA_PUBLIC_KEY = "8.11.1", "CA public key", "A CI public key. [DART]";
        LPA = "8.12", "LPA", "The LPA. [DART]";
    }
}

/// Reason codes.
pub mod reason {
    use crate::status::ReasonCode;

    crate::codes::code_table! { ReasonCode, reason_const;
        ACCESS_ERROR = "1", "Access error", "Top of the access errors. [22]";
        UNKNOWN_IDENTITY = "1.1", "Unknown", "Identification or authentication failed. [22]";
        NOT_ALLOWED = "1.2", "Not allowed", "Authorisation refused. [22]";
        FORMAT_ERROR = "2", "Format error", "Top of the format errors. [22]";
        INVALID = "2.1", "Invalid", "Wrong format or value. [22]";
        MANDATORY_ELEMENT_MISSING = "2.2", "Mandatory element missing", "A mandatory element is absent. [22]";
        CONDITIONAL_ELEMENT_MISSING = "2.3", "Conditional element missing",
            "An element required by another one is absent. [22]";
        CONDITIONS_NOT_SATISFIED = "3", "Conditions of use not satisfied", "Top of the condition errors. [22]";
        UNSUPPORTED = "3.1", "Unsupported", "Not supported. [22]";
        ALREADY_IN_USE = "3.3", "Already in use", "Uniqueness violated. [22]";
        INVALID_TRANSITION = "3.5", "Invalid transition", "The object's state does not allow the operation. [22]";
        UNAVAILABLE = "3.7", "Unavailable", "Not available. [22]";
        REFUSED = "3.8", "Refused", "Refused. [22]";
        UNKNOWN = "3.9", "Unknown", "The referenced object is unknown. [22]";
        INVALID_ASSOCIATION = "3.10", "Invalid association", "Associated with another object. [22]";
        VALUE_HAS_CHANGED = "3.11", "Value has changed", "A value differs from the one seen before. [22]";
        INVALID_MATCH = "3.12", "Invalid match", "Values do not match. [22]";
        PROCESSING_ERROR = "4", "Processing error", "Top of the processing errors. [22]";
        EXECUTION_ERROR = "4.2", "Execution error", "Execution failed. [22]";
        STOPPED_ON_WARNING = "4.3", "Stopped on warning", "Processing stopped on a warning. [22]";
        BUSY = "4.4", "Busy", "Cannot process the function now. [22]";
        INSUFFICIENT_MEMORY = "4.8", "Insufficient memory", "Not enough memory. [22]";
        TIME_TO_LIVE_EXPIRED = "4.10", "Time to live expired",
            "An order or session ran out of time (SGP.22 numbering; SGP.02 uses 5.3). [22]";
        TRANSPORT_ERROR = "5", "Transport error", "Top of the transport errors. [22]";
        INACCESSIBLE = "5.1", "Inaccessible", "The target cannot be reached. [22]";
        SECURITY_ERROR = "6", "Security error", "Top of the security errors. [22]";
        VERIFICATION_FAILED = "6.1", "Verification failed", "A signature or certificate did not verify. [22]";
        EXPIRED = "6.3", "Expired", "A certificate has expired. [22]";
        MAX_ATTEMPTS_EXCEEDED = "6.4", "Maximum number of attempts exceeded", "Retry limit reached. [22]";
    }
}

/// Named subject/reason pairs reported by the SM-DP+ (and LPA) in the JSON binding.
pub mod status {
    crate::codes::status_codes! {
        // ES9+ InitiateAuthentication (sgp22.md §8.4; check order C-38).
        /// `invalidDpAddress`: the SM-DP+ address is not ours.
        INVALID_DP_ADDRESS = SM_DP_PLUS_ADDRESS / REFUSED;
        /// `euiccVersionNotSupportedByDp`: the eUICC's SVN is not supported.
        EUICC_VERSION_NOT_SUPPORTED = SVN / UNSUPPORTED;
        /// `ciPKIdNotSupported`: none of the CI public key ids offered is supported (C-38).
        CI_PKID_NOT_SUPPORTED = SECURITY_CONFIGURATION / UNSUPPORTED;
        /// No CERT.DPauth chains to a CI the eUICC can verify (C-38).
        NO_DP_CERTIFICATE_FOR_CI = CERTIFICATE / UNAVAILABLE;
        // ES9+ AuthenticateClient (C-39).
        /// `eumCertificateInvalid`.
        EUM_CERTIFICATE_INVALID = EUM_CERTIFICATE / VERIFICATION_FAILED;
        /// `eumCertificateExpired` (C-39: `8.1.2`/`6.3`).
        EUM_CERTIFICATE_EXPIRED = EUM_CERTIFICATE / EXPIRED;
        /// `euiccCertificateInvalid`.
        EUICC_CERTIFICATE_INVALID = EUICC_CERTIFICATE / VERIFICATION_FAILED;
        /// `euiccCertificateExpired`.
        EUICC_CERTIFICATE_EXPIRED = EUICC_CERTIFICATE / EXPIRED;
        /// `euiccSignatureInvalid` (AuthenticateClient, GetBoundProfilePackage, CancelSession).
        EUICC_SIGNATURE_INVALID = EUICC / VERIFICATION_FAILED;
        /// `matchingIdRefused`.
        MATCHING_ID_REFUSED = MATCHING_ID / REFUSED;
        /// `eidMismatch`.
        EID_MISMATCH = EID / REFUSED;
        /// `noEligibleProfile` (also the nearest code for "no common profile package version", U-39).
        NO_ELIGIBLE_PROFILE = PROFILE_TYPE / STOPPED_ON_WARNING;
        /// `ciPKUnknown`.
        CI_PK_UNKNOWN = CA_PUBLIC_KEY / UNKNOWN;
        /// `invalidTransactionId`.
        INVALID_TRANSACTION_ID = TRANSACTION_ID / UNKNOWN;
        /// `insufficientMemory`.
        INSUFFICIENT_MEMORY = EUICC / INSUFFICIENT_MEMORY;
        /// `downloadOrderExpired`.
        DOWNLOAD_ORDER_EXPIRED = DOWNLOAD_ORDER / TIME_TO_LIVE_EXPIRED;
        /// v3 `euiccRspCapabilityHasChanged` (U-44, project choice).
        EUICC_CAPABILITY_CHANGED = EUICC / VALUE_HAS_CHANGED;
        /// v3 `lpaRspCapabilityHasChanged` (U-44, project choice).
        LPA_CAPABILITY_CHANGED = LPA / VALUE_HAS_CHANGED;
        /// v3 `deviceChangeNotSupported` (U-44, project choice).
        DEVICE_CHANGE_NOT_SUPPORTED = DEVICE_CHANGE / UNSUPPORTED;
        /// v3 `deviceChangeNotAllowed` (U-44, project choice).
        DEVICE_CHANGE_NOT_ALLOWED = DEVICE_CHANGE / NOT_ALLOWED;
        // ES9+ GetBoundProfilePackage.
        /// `confirmationCodeMissing`.
        CONFIRMATION_CODE_MISSING = CONFIRMATION_CODE / MANDATORY_ELEMENT_MISSING;
        /// `confirmationCodeRefused`.
        CONFIRMATION_CODE_REFUSED = CONFIRMATION_CODE / REFUSED;
        /// `confirmationCodeRetriesExceeded`.
        CONFIRMATION_CODE_RETRIES_EXCEEDED = CONFIRMATION_CODE / MAX_ATTEMPTS_EXCEEDED;
        /// `bppRebindingRefused`.
        BPP_REBINDING_REFUSED = PROFILE / UNAVAILABLE;
        /// Maximum number of download attempts reached.
        DOWNLOAD_ATTEMPTS_EXCEEDED = DOWNLOAD_ORDER / MAX_ATTEMPTS_EXCEEDED;
        /// End user rejected the download (CancelSession `endUserRejection`, reported to the Operator).
        END_USER_REJECTION = DOWNLOAD_ORDER / REFUSED;
        /// Unsupported `X-Admin-Protocol` major version (U-36).
        UNSUPPORTED_PROTOCOL_VERSION = PROTOCOL_VERSION / UNSUPPORTED;
        // ES2+ (sgp22.md §9.3, U-42).
        /// EID missing for this order (SM-DS address given or MatchingID empty).
        EID_MISSING = EID / MANDATORY_ELEMENT_MISSING;
        /// A different EID is already associated with this ICCID (EID subject).
        EID_ASSOCIATED_WITH_OTHER = EID / INVALID_ASSOCIATION;
        /// EID unknown to the SM-DP+.
        UNKNOWN_EID = EID / UNKNOWN;
        /// Caller not allowed on this profile.
        PROFILE_NOT_ALLOWED = PROFILE_ICCID / NOT_ALLOWED;
        /// ICCID or finalProfileStatusIndicator missing.
        ICCID_MISSING = PROFILE_ICCID / MANDATORY_ELEMENT_MISSING;
        /// Profile not available or already downloaded.
        PROFILE_NOT_AVAILABLE = PROFILE_ICCID / ALREADY_IN_USE;
        /// Profile cannot be released in its state.
        PROFILE_INVALID_TRANSITION = PROFILE_ICCID / INVALID_TRANSITION;
        /// ICCID unknown.
        UNKNOWN_ICCID = PROFILE_ICCID / UNKNOWN;
        /// A different EID is associated with this ICCID (ICCID subject).
        ICCID_ASSOCIATED_WITH_OTHER_EID = PROFILE_ICCID / INVALID_ASSOCIATION;
        /// Profile Type not allowed for this caller.
        PROFILE_TYPE_NOT_ALLOWED = PROFILE_TYPE / NOT_ALLOWED;
        /// No profile of this Profile Type left.
        PROFILE_TYPE_EXHAUSTED = PROFILE_TYPE / UNAVAILABLE;
        /// Profile Type not aligned with the ICCID's type.
        PROFILE_TYPE_MISMATCH = PROFILE_TYPE / REFUSED;
        /// Profile Type unknown.
        UNKNOWN_PROFILE_TYPE = PROFILE_TYPE / UNKNOWN;
        /// MatchingID invalid.
        MATCHING_ID_INVALID = MATCHING_ID / INVALID;
        /// MatchingID missing.
        MATCHING_ID_MISSING = MATCHING_ID / MANDATORY_ELEMENT_MISSING;
        /// MatchingID already in use.
        MATCHING_ID_IN_USE = MATCHING_ID / ALREADY_IN_USE;
        /// MatchingID associated with another ICCID.
        MATCHING_ID_ASSOCIATED_WITH_OTHER = MATCHING_ID / INVALID_ASSOCIATION;
        /// SM-DS registration failed.
        SM_DS_REGISTRATION_FAILED = SM_DS / EXECUTION_ERROR;
        /// SM-DS address invalid or unreachable.
        SM_DS_INACCESSIBLE = SM_DS / INACCESSIBLE;
        // Generic.
        /// Caller unknown.
        CALLER_UNKNOWN = FUNCTION_REQUESTER / UNKNOWN_IDENTITY;
        /// Caller not allowed to use the function.
        CALLER_NOT_ALLOWED = FUNCTION_REQUESTER / NOT_ALLOWED;
        /// Invalid parameter (`message` names it).
        INVALID_PARAMETER = FUNCTION / INVALID;
        /// Missing mandatory parameter (`message` names it).
        MISSING_PARAMETER = FUNCTION / MANDATORY_ELEMENT_MISSING;
        /// Internal error of the provider.
        INTERNAL_ERROR = FUNCTION_PROVIDER / EXECUTION_ERROR;
        /// Undefined reason (CancelSession `undefinedReason`, reported to the Operator).
        UNDEFINED_REASON = EUICC_REMOTE_PROVISIONING / EXECUTION_ERROR;
        // SM-DP+ order lifecycle (sgp22.md §8.4, §9.4).
        /// Profile not released (AuthenticateClient `8.2`/`1.2`).
        PROFILE_NOT_RELEASED = PROFILE / NOT_ALLOWED;
        /// CancelSession `pprNotAllowed`, reported to the Operator.
        PPR_NOT_ALLOWED = PPR / NOT_ALLOWED;
        /// CancelSession `metadataMismatch`, reported to the Operator.
        METADATA_MISMATCH = PROFILE_METADATA / VALUE_HAS_CHANGED;
        /// CancelSession `loadBppExecutionError`, reported to the Operator.
        LOAD_BPP_EXECUTION_ERROR = BPP / EXECUTION_ERROR;
        /// CancelSession `enterpriseProfilesNotSupported` (v3), reported to the Operator.
        ENTERPRISE_PROFILES_NOT_SUPPORTED = ENTERPRISE / UNSUPPORTED;
        /// CancelSession `enterpriseRulesNotAllowed` (v3), reported to the Operator.
        ENTERPRISE_RULES_NOT_ALLOWED = ENTERPRISE / NOT_ALLOWED;
        /// CancelSession `enterpriseProfileNotAllowed`, `enterpriseRulesError`,
        /// `enterpriseProfilesOnly` (v3), reported to the Operator.
        ENTERPRISE_REFUSED = ENTERPRISE / REFUSED;
        /// CancelSession `enterpriseOidMismatch` (v3), reported to the Operator.
        ENTERPRISE_OID_MISMATCH = ENTERPRISE / INVALID_MATCH;
        /// CancelSession `lprNotSupported` (v3), reported to the Operator.
        LPR_NOT_SUPPORTED = LPA_PROXY / UNSUPPORTED;
    }
}
