//! ES11 (LPA ↔ SM-DS, sgp22.md §14): the AuthenticateClient response of an SM-DS, i.e. the
//! event list after Common Mutual Authentication. The request side of ES11 reuses the ES9+
//! messages ([`InitiateAuthenticationRequest`](crate::messages::auth::InitiateAuthenticationRequest)
//! `BF39`, [`AuthenticateClientRequest`](crate::messages::auth::AuthenticateClientRequest) `BF3B`,
//! with the SM-DS address in `smdpAddress [3]`).
//!
//! - v2: `authenticateClientOk { transactionId [0], eventEntries [1] SEQUENCE OF EventEntries }`,
//!   `EventEntries { eventId [0], rspServerAddress [1] }` (the v2 ASN.1, AUTOMATIC TAGS).
//! - v3: `authenticateClientOk { transactionId [0], smdsSigned2 [2], smdsSignature2 (5F37) }`;
//!   `smdsSigned2 { transactionId [0], CHOICE { eventList [1], pushServiceRegistrationResult [2] } }`,
//!   `eventList { eventEntries [1] SEQUENCE OF EventRecordV3, ecId [2]?, pushServiceRefreshTime [3]? }`.
//!
//! Gates make the one encoder decide from the peer's [`Profile`](crate::version::Profile): the
//! v2 `eventEntries` is `#SupportedOnlyBeforeV3.0.0#`, `smdsSigned2` / `smdsSignature2` are
//! `#MandatoryFromV3.0.0#`, so a v2 peer can never receive the v3 list and a v3 peer's response
//! cannot be encoded without it.
//!
//! Tag decisions where sgp22.md is silent (reported as [GAP]/[RECALL]): the v3 positions `[2]` of
//! smdsSigned2 in AuthenticateClientOkEs11 and of the CHOICE alternatives, the field tags of
//! EventRecordV3 after `rspServerAddress`, `eventType` as INTEGER, `pushServiceRefreshTime` as
//! INTEGER seconds.

use crate::der::SeqOf;
use crate::messages::common::OperatorId;
use crate::types::{Signed, TransactionId};
use crate::version::{Gate, V3_0_0};

crate::der_sequence! {
    /// `EventEntries ::= SEQUENCE` (v2 event list entry).
    pub struct EventEntries = "EventEntries" {
        /// `eventId [0] UTF8String` (the MatchingID to present to the RSP server).
        event_id [0]: req String => Gate::Always,
        /// `rspServerAddress [1] UTF8String` (FQDN of the SM-DP+ or of another SM-DS).
        rsp_server_address [1]: req String => Gate::Always,
    }
}

crate::der_sequence! {
    /// `EventRecordV3 ::= SEQUENCE` (v3 signed event list entry). Tags after `[1]` [GAP].
    pub struct EventRecordV3 = "EventRecordV3" {
        /// `eventId [0] UTF8String`.
        event_id [0]: req String => Gate::Always,
        /// `rspServerAddress [1] UTF8String`.
        rsp_server_address [1]: req String => Gate::Always,
        /// `eventType [2]` (see [`event_type`]; INTEGER [GAP]).
        event_type [2]: req i64 => Gate::Always,
        /// `hashedIccids [3] SEQUENCE OF OCTET STRING OPTIONAL`.
        hashed_iccids [3]: opt SeqOf<Vec<u8>> => Gate::Always,
        /// `salt [4] OCTET STRING OPTIONAL` (for `hashedIccids`).
        salt [4]: opt Vec<u8> => Gate::Always,
        /// `serviceProviderName [5] UTF8String OPTIONAL`.
        service_provider_name [5]: opt String => Gate::Always,
        /// `operatorId [6] OperatorId OPTIONAL`.
        operator_id [6]: opt OperatorId => Gate::Always,
    }
}

/// `EventRecordV3.eventType` values ([GAP]: the project's numbering).
pub mod event_type {
    /// A profile download (the EventID is the MatchingID of an order).
    pub const PROFILE_DOWNLOAD: i64 = 0;
    /// A Remote Profile Management order.
    pub const RPM: i64 = 1;
}

crate::der_sequence! {
    /// `SmdsSigned2.eventList` (v3): the signed events of the authenticated EID.
    pub struct EventListV3 = "EventList" {
        /// `eventEntries [1] SEQUENCE OF EventRecordV3`.
        event_entries [1]: req SeqOf<EventRecordV3> => Gate::Always,
        /// `ecId [2] OCTET STRING OPTIONAL` (event checking id).
        ec_id [2]: opt Vec<u8> => Gate::Always,
        /// `pushServiceRefreshTime [3] INTEGER OPTIONAL` (seconds; [GAP]).
        push_service_refresh_time [3]: opt i64 => Gate::Always,
    }
}

crate::der_sequence! {
    /// `SmdsSigned2.pushServiceRegistrationResult` (v3), the answer to a
    /// `ctxParamsForPushServiceRegistration`.
    pub struct PushServiceRegistrationResult = "PushServiceRegistrationResult" {
        /// `pushServiceRefreshTime [0] INTEGER OPTIONAL` (seconds before the LPA re-registers; [GAP]).
        push_service_refresh_time [0]: opt i64 => Gate::Always,
    }
}

crate::der_choice! {
    /// What `SmdsSigned2` carries after the transactionId (an untagged CHOICE, [GAP] positions).
    pub enum SmdsResponse = "SmdsResponse" {
        /// `eventList [1]`.
        EventList [1] (EventListV3) => Gate::SupportedFrom(V3_0_0),
        /// `pushServiceRegistrationResult [2]`.
        PushServiceRegistrationResult [2] (PushServiceRegistrationResult) => Gate::SupportedFrom(V3_0_0),
    }
}

crate::der_sequence! {
    /// `SmdsSigned2 ::= SEQUENCE` (v3), signed with CERT.DSauth's key over
    /// `DER(smdsSigned2) ‖ euiccSignature1 TLV` (as smdpSignature2, [RECALL]); verified by the
    /// eUICC in `ES10b.VerifySmdsResponse`.
    pub struct SmdsSigned2 = "SmdsSigned2" {
        /// `transactionId [0]`.
        transaction_id [0]: req TransactionId => Gate::Always,
        /// The event list or the push registration result.
        response (own): req SmdsResponse => Gate::Always,
    }
}

crate::der_sequence! {
    /// `AuthenticateClientOkEs11 ::= SEQUENCE`.
    pub struct AuthenticateClientOkEs11 = "AuthenticateClientOkEs11" {
        /// `transactionId [0]`.
        transaction_id [0]: req TransactionId => Gate::Always,
        /// `eventEntries [1] SEQUENCE OF EventEntries` (v2; `#SupportedOnlyBeforeV3.0.0#`).
        event_entries [1]: opt SeqOf<EventEntries> => Gate::SupportedOnlyBefore(V3_0_0),
        /// `smdsSigned2 [2] SmdsSigned2` (v3, exact bytes: the signature covers them).
        smds_signed2 [2]: opt SignedSmds2 => Gate::MandatoryFrom(V3_0_0),
        /// `smdsSignature2 [APPLICATION 55]` (`5F37`, raw r‖s; v3).
        smds_signature2 (0x5F37): opt Vec<u8> => Gate::MandatoryFrom(V3_0_0),
    }
}

/// `smdsSigned2` as carried in `AuthenticateClientOkEs11 [2]`: the IMPLICIT `[2]` replaces the
/// SEQUENCE tag, and the signature covers the universal `30` encoding, so the bytes kept here
/// are the `30 …` TLV.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedSmds2(pub Signed<SmdsSigned2>);

impl crate::der::DerValue for SignedSmds2 {
    const TYPE_NAME: &'static str = "SmdsSigned2";
    const CONSTRUCTED: bool = true;
    fn decode_value(content: &[u8]) -> Result<Self, crate::der::DecodeError> {
        let value = <SmdsSigned2 as crate::der::DerValue>::decode_value(content)?;
        let mut raw = Vec::with_capacity(content.len() + 4);
        rsp_types::tlv::encode_tlv(crate::der::SEQUENCE_TAG, content, &mut raw).map_err(
            |source| crate::der::DecodeError::Tlv {
                in_type: "SmdsSigned2",
                source,
            },
        )?;
        Signed::decode(&raw, |_| Ok(value)).map(SignedSmds2)
    }
    fn encode_value(
        &self,
        _peer: &crate::version::Profile,
        out: &mut Vec<u8>,
    ) -> Result<(), crate::der::EncodeError> {
        let tlv = rsp_types::tlv::parse_single(self.0.raw())?;
        out.extend_from_slice(tlv.value);
        Ok(())
    }
    fn check_gates(&self, peer: &crate::version::Profile) -> Result<(), crate::der::GateViolation> {
        <SmdsSigned2 as crate::der::DerValue>::check_gates(self.0.value(), peer)
    }
}

crate::der_choice! {
    /// `AuthenticateClientResponseEs11 ::= [64] CHOICE` (`BF40`), SM-DS → LPA.
    pub enum AuthenticateClientResponseEs11 = "AuthenticateClientResponseEs11" tag 0xBF40 {
        /// `authenticateClientOk [0]`.
        Ok [0] (AuthenticateClientOkEs11) => Gate::Always,
        /// `authenticateClientError [1] INTEGER` (see [`authenticate_client_error_es11`]).
        Error [1] (i64) => Gate::Always,
    }
}

/// `AuthenticateClientResponseEs11.authenticateClientError` values.
pub mod authenticate_client_error_es11 {
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
    /// eventIdUnknown
    pub const EVENT_ID_UNKNOWN: i64 = 6;
    /// invalidTransactionId
    pub const INVALID_TRANSACTION_ID: i64 = 7;
    /// pushServiceNotSupport (v3; the SM-DS does not offer the selected push service)
    pub const PUSH_SERVICE_NOT_SUPPORT: i64 = 12;
    /// pushServiceRegistrationNotSupported (v3; the SM-DS offers no push registration)
    pub const PUSH_SERVICE_REGISTRATION_NOT_SUPPORTED: i64 = 13;
    /// undefinedError
    pub const UNDEFINED_ERROR: i64 = 127;
}

// ---- ES10b.VerifySmdsResponse (v3) ---------------------------------------------------------------

crate::der_sequence! {
    /// `VerifySmdsResponseRequest ::= [69] SEQUENCE` (`BF45`), LPA → eUICC (v3): the SM-DS's
    /// signed answer, for the eUICC to check with the CERT.DSauth it verified in
    /// AuthenticateServer. Field layout [RECALL]/[GAP]: the two signed elements as they travel
    /// in `AuthenticateClientOkEs11`, with their universal / application tags.
    pub struct VerifySmdsResponseRequest = "VerifySmdsResponseRequest" tag 0xBF45 {
        /// `smdsSigned2 SmdsSigned2` (`30`, exact bytes: the signature covers them).
        smds_signed2 (own): req Signed<SmdsSigned2> => Gate::MandatoryFrom(V3_0_0),
        /// `smdsSignature2 [APPLICATION 55]` (`5F37`, raw r‖s).
        smds_signature2 (0x5F37): req Vec<u8> => Gate::MandatoryFrom(V3_0_0),
    }
}

crate::der_sequence! {
    /// `VerifySmdsResponseOk ::= SEQUENCE {}` (v3).
    pub struct VerifySmdsResponseOk = "VerifySmdsResponseOk" {}
}

crate::der_choice! {
    /// `VerifySmdsResponseResponse ::= [69] CHOICE` (`BF45`), eUICC → LPA (v3; a v2 eUICC does
    /// not know the command). Alternative positions [GAP].
    pub enum VerifySmdsResponseResponse = "VerifySmdsResponseResponse" tag 0xBF45 {
        /// `verifySmdsResponseOk [0]`.
        Ok [0] (VerifySmdsResponseOk) => Gate::SupportedFrom(V3_0_0),
        /// `verifySmdsResponseError [1] INTEGER` (see [`verify_smds_response_error`]).
        Error [1] (i64) => Gate::SupportedFrom(V3_0_0),
    }
}

/// `VerifySmdsResponseResponse.verifySmdsResponseError` values ([GAP]: the project's numbering,
/// aligned with DownloadErrorCode where the meaning is the same).
pub mod verify_smds_response_error {
    /// invalidSignature: smdsSignature2 does not verify with the session's CERT.DSauth key.
    pub const INVALID_SIGNATURE: i64 = 2;
    /// noSession: no RSP session, or the session was not authenticated by an SM-DS.
    pub const NO_SESSION: i64 = 4;
    /// invalidTransactionId: smdsSigned2.transactionId is not the session's.
    pub const INVALID_TRANSACTION_ID: i64 = 5;
    /// undefinedError.
    pub const UNDEFINED_ERROR: i64 = 127;
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::version::Profile;
    use rsp_types::Svn;

    fn tid() -> TransactionId {
        TransactionId::new(&[0xAB, 0xCD]).unwrap()
    }

    #[test]
    fn v2_list_bytes() {
        let ok = AuthenticateClientOkEs11 {
            transaction_id: tid(),
            event_entries: Some(SeqOf(vec![EventEntries {
                event_id: "E1".into(),
                rsp_server_address: "dp".into(),
                unknown_tags: vec![],
            }])),
            smds_signed2: None,
            smds_signature2: None,
            unknown_tags: vec![],
        };
        let der = AuthenticateClientResponseEs11::Ok(ok.clone())
            .encode(&Profile::new(Svn::new(2, 2, 0)))
            .unwrap();
        assert_eq!(
            der,
            vec![
                0xBF, 0x40, 0x12, 0xA0, 0x10, 0x80, 0x02, 0xAB, 0xCD, 0xA1, 0x0A, 0x30, 0x08, 0x80,
                0x02, b'E', b'1', 0x81, 0x02, b'd', b'p'
            ]
        );
        let back = AuthenticateClientResponseEs11::decode(&der).unwrap();
        assert_eq!(back, AuthenticateClientResponseEs11::Ok(ok.clone()));
        // A v3 peer: the v2 list is dropped and the missing v3 list is refused.
        assert!(
            AuthenticateClientResponseEs11::Ok(ok)
                .encode(&Profile::new(Svn::new(3, 1, 0)))
                .is_err()
        );
    }

    #[test]
    fn v3_signed_list_keeps_signed_bytes() {
        let v3 = Profile::new(Svn::new(3, 1, 0));
        let signed = SmdsSigned2 {
            transaction_id: tid(),
            response: SmdsResponse::EventList(EventListV3 {
                event_entries: SeqOf(vec![EventRecordV3 {
                    event_id: "E1".into(),
                    rsp_server_address: "dp".into(),
                    event_type: event_type::PROFILE_DOWNLOAD,
                    hashed_iccids: None,
                    salt: None,
                    service_provider_name: None,
                    operator_id: None,
                    unknown_tags: vec![],
                }]),
                ec_id: None,
                push_service_refresh_time: None,
                unknown_tags: vec![],
            }),
            unknown_tags: vec![],
        };
        let s = Signed::new(signed, &v3).unwrap();
        assert_eq!(s.raw().first(), Some(&0x30));
        let ok = AuthenticateClientOkEs11 {
            transaction_id: tid(),
            event_entries: None,
            smds_signed2: Some(SignedSmds2(s.clone())),
            smds_signature2: Some(vec![7; 64]),
            unknown_tags: vec![],
        };
        let der = AuthenticateClientResponseEs11::Ok(ok.clone())
            .encode(&v3)
            .unwrap();
        let back = AuthenticateClientResponseEs11::decode(&der).unwrap();
        let AuthenticateClientResponseEs11::Ok(b) = back else {
            panic!("not ok")
        };
        assert_eq!(b.smds_signed2.as_ref().unwrap().0.raw(), s.raw());
        assert_eq!(b, ok);
        // The same value for a v2 peer drops every v3 element (and then lacks the v2 list).
        let v2 = AuthenticateClientResponseEs11::Ok(ok)
            .encode(&Profile::new(Svn::new(2, 2, 0)))
            .unwrap();
        assert_eq!(
            v2,
            vec![0xBF, 0x40, 0x06, 0xA0, 0x04, 0x80, 0x02, 0xAB, 0xCD]
        );
    }
}
