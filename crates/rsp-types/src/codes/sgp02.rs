//! SGP.02 (v4.2 §5.1.6) subject and reason codes as far as the project knows them (`sgp02.md` §4.8).
//! `[CY]` rows come from a vendor's reproduction of the SGP.02 tables; `[22]` rows assume the SGP.22
//! value; `[NJ-use]` rows are inferred from njiwa's messages.

/// The name of a subject code in this table.
pub fn subject_name(code: &str) -> Option<&'static str> {
    super::subject_name(super::Spec::Sgp02, code)
}

/// The name of a reason code in this table.
pub fn reason_name(code: &str) -> Option<&'static str> {
    super::reason_name(super::Spec::Sgp02, code)
}

/// Subject codes.
pub mod subject {
    use crate::status::SubjectCode;

    crate::codes::code_table! { SubjectCode, subject_const;
        GENERIC = "1", "Generic", "Top of the generic subjects. [22]";
        FUNCTION_REQUESTER = "1.1", "Function requester",
            "The caller: unknown to the provider (1.1) or not allowed to use the function (1.2). [CY]";
        FUNCTION_PROVIDER = "1.2", "Function provider",
            "The entity executing the function: internal error (4.2) or busy (4.4). [CY]";
        VALIDITY_PERIOD = "1.2.1", "Validity period",
            "The requested ValidityPeriod, refused (3.8); the provider states AcceptableValidityPeriod. [CY]";
        PROTOCOL = "1.3", "Protocol", "SGP.22 v3 subject; whether SGP.02 has it is unverified. [22]";
        PROTOCOL_FORMAT = "1.3.1", "Protocol format",
            "SGP.22 v3 subject; whether SGP.02 has it is unverified. [22]";
        PROTOCOL_VERSION = "1.3.2", "Protocol version",
            "SGP.22 v3 subject; whether SGP.02 has it is unverified. [22]";
        FUNCTION = "1.6", "Function",
            "The call itself: invalid (2.1), missing (2.2) or conditional (2.3) parameter, named in Message; \
             time to live expired (5.3); delivered with no response (5.4). [CY]";
        EUICC_REMOTE_PROVISIONING = "8", "eUICC Remote Provisioning", "Top of the RSP subjects. [22]";
        EUICC = "8.1", "eUICC", "The eUICC as a whole (the source writes \"UICC\"): refused, insufficient memory. [CY]";
        EID = "8.1.1", "EID", "The eUICC identifier: unknown (3.9), invalid (2.1), already managed (3.3). [22][NJ-use]";
        EUM_CERTIFICATE = "8.1.2", "EUM certificate", "The EUM certificate or signature (ES1). [22]";
        EUICC_CERTIFICATE = "8.1.3", "eUICC certificate",
            "The eUICC (ECASD) certificate; also used for an invalid ECASD certificate on ES7 (U-01). [22]";
        PROFILE = "8.2", "Profile", "A profile. [22]";
        PROFILE_ICCID = "8.2.1", "Profile ICCID",
            "The profile named by ICCID: unknown (3.9), not owner (1.2), wrong state (3.5), refused by policy (3.8). \
             [22][NJ-use]";
        PROFILE_TYPE = "8.2.5", "Profile Type", "The requested Profile Type: unknown (3.9). [22][NJ-use]";
        ISD_P = "8.4", "ISD-P",
            "On-card (OTA / ISD-P) execution errors, with 4.2. Name is the knowledge base's reading; unverified. [NJ-use]";
        SM_SR = "8.7", "SM-SR", "An SM-SR, e.g. unknown target SM-SR (3.9). [NJ-use]";
    }
}

/// Reason codes.
pub mod reason {
    use crate::status::ReasonCode;

    crate::codes::code_table! { ReasonCode, reason_const;
        ACCESS_ERROR = "1", "Access error", "Top of the access errors. [22]";
        UNKNOWN_IDENTITY = "1.1", "Unknown", "Identification or authentication failed. [CY]";
        NOT_ALLOWED = "1.2", "Not allowed", "Authorisation refused. [CY]";
        FORMAT_ERROR = "2", "Format error", "Top of the format errors. [22]";
        INVALID = "2.1", "Invalid", "Wrong format or value. [CY]";
        MANDATORY_ELEMENT_MISSING = "2.2", "Mandatory element missing", "A mandatory element is absent. [CY]";
        CONDITIONAL_ELEMENT_MISSING = "2.3", "Conditional element missing",
            "An element required by another one is absent. [CY]";
        CONDITIONS_NOT_SATISFIED = "3", "Conditions of use not satisfied", "Top of the condition errors. [22]";
        UNSUPPORTED = "3.1", "Unsupported", "Not supported. [22]";
        ALREADY_IN_USE = "3.3", "Already in use", "Uniqueness violated. [22]";
        INVALID_TRANSITION = "3.5", "Invalid transition", "The object's state does not allow the operation. [22]";
        UNAVAILABLE = "3.7", "Unavailable", "Not available. [22]";
        REFUSED = "3.8", "Refused", "Refused by the provider or by policy. [CY]";
        UNKNOWN = "3.9", "Unknown", "The referenced object is unknown. [22][NJ-use]";
        INVALID_ASSOCIATION = "3.10", "Invalid association", "Associated with another object. [22]";
        VALUE_HAS_CHANGED = "3.11", "Value has changed", "A value differs from the one seen before. [22]";
        INVALID_MATCH = "3.12", "Invalid match", "Values do not match. [22]";
        PROCESSING_ERROR = "4", "Processing error", "Top of the processing errors. [22]";
        EXECUTION_ERROR = "4.2", "Execution error",
            "Execution failed; generic internal error only when nothing more precise applies. [CY]";
        STOPPED_ON_WARNING = "4.3", "Stopped on warning", "Processing stopped on a warning. [22]";
        BUSY = "4.4", "Busy", "Cannot process the function now. [CY]";
        INSUFFICIENT_MEMORY = "4.8", "Insufficient memory", "Not enough memory. [22]";
        TRANSPORT_ERROR = "5", "Transport error", "Top of the transport errors. [22]";
        INACCESSIBLE = "5.1", "Inaccessible", "The target cannot be reached. [22]";
        TIME_TO_LIVE_EXPIRED = "5.3", "Time to live expired",
            "The validity period ran out before completion (SGP.02 numbering; SGP.22 uses 4.10). [CY]";
        DELIVERED_WITH_NO_RESPONSE = "5.4", "Delivered with no response",
            "The command reached the card but no answer came back. [CY]";
        SECURITY_ERROR = "6", "Security error", "Top of the security errors. [22]";
        VERIFICATION_FAILED = "6.1", "Verification failed", "A signature, certificate or MAC did not verify. [22]";
        EXPIRED = "6.3", "Expired", "A certificate or credential has expired. [22]";
        MAX_ATTEMPTS_EXCEEDED = "6.4", "Maximum number of attempts exceeded", "Retry limit reached. [22]";
    }
}

/// Named subject/reason pairs: the project's SGP.02 working table (U-01, C-01, C-06).
pub mod status {
    crate::codes::status_codes! {
        /// Caller unknown to the provider.
        CALLER_UNKNOWN = FUNCTION_REQUESTER / UNKNOWN_IDENTITY;
        /// Caller may not use this function.
        CALLER_NOT_ALLOWED = FUNCTION_REQUESTER / NOT_ALLOWED;
        /// Caller is neither the profile owner nor holder of a matching PLMA.
        NOT_OWNER = PROFILE_ICCID / NOT_ALLOWED;
        /// Unknown EID.
        UNKNOWN_EID = EID / UNKNOWN;
        /// EID with a wrong MOD 97-10 check value, on ES1 RegisterEIS (C-01).
        INVALID_EID = EID / INVALID;
        /// eUICC already managed by the target SM-SR, with `Executed-WithWarning` (C-06).
        EUICC_ALREADY_MANAGED = EID / ALREADY_IN_USE;
        /// Unknown ICCID.
        UNKNOWN_ICCID = PROFILE_ICCID / UNKNOWN;
        /// Unknown Profile Type.
        UNKNOWN_PROFILE_TYPE = PROFILE_TYPE / UNKNOWN;
        /// Unknown SM-SR.
        UNKNOWN_SM_SR = SM_SR / UNKNOWN;
        /// Profile state does not allow the operation (enable an enabled profile, delete an enabled one).
        INVALID_PROFILE_STATE = PROFILE_ICCID / INVALID_TRANSITION;
        /// Refused by POL2, the fall-back rule or an attribute rule (reason in `Message`).
        REFUSED_BY_POLICY = PROFILE_ICCID / REFUSED;
        /// eUICC locked (SM-SR change) or another operation in progress.
        BUSY = FUNCTION_PROVIDER / BUSY;
        /// On-card execution error.
        CARD_EXECUTION_ERROR = ISD_P / EXECUTION_ERROR;
        /// Insufficient memory on the eUICC.
        INSUFFICIENT_MEMORY = EUICC / INSUFFICIENT_MEMORY;
        /// Refused by the eUICC.
        EUICC_REFUSED = EUICC / REFUSED;
        /// Invalid parameter (`Message` names it).
        INVALID_PARAMETER = FUNCTION / INVALID;
        /// Missing mandatory parameter (`Message` names it).
        MISSING_PARAMETER = FUNCTION / MANDATORY_ELEMENT_MISSING;
        /// Missing conditional parameter (`Message` names it).
        MISSING_CONDITIONAL_PARAMETER = FUNCTION / CONDITIONAL_ELEMENT_MISSING;
        /// Requested validity period not accepted (state `AcceptableValidityPeriod`).
        VALIDITY_PERIOD_REFUSED = VALIDITY_PERIOD / REFUSED;
        /// Validity period expired (status `Expired`).
        VALIDITY_EXPIRED = FUNCTION / TIME_TO_LIVE_EXPIRED;
        /// Command delivered to the card, no response.
        DELIVERED_WITH_NO_RESPONSE = FUNCTION / DELIVERED_WITH_NO_RESPONSE;
        /// EUM signature or certificate invalid (ES1).
        EUM_CERTIFICATE_INVALID = EUM_CERTIFICATE / VERIFICATION_FAILED;
        /// eUICC / ECASD certificate invalid (ES7).
        EUICC_CERTIFICATE_INVALID = EUICC_CERTIFICATE / VERIFICATION_FAILED;
        /// Internal error of the provider.
        INTERNAL_ERROR = FUNCTION_PROVIDER / EXECUTION_ERROR;
    }
}
