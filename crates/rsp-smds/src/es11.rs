//! ES11 after Common Mutual Authentication (sgp22.md §14, §16.3): the sans-IO function that
//! answers an authenticated eUICC with its events, or registers its push service.
//!
//! The CMA itself (InitiateAuthentication, the AuthenticateClient checks of the eUICC's
//! signature and certificates) is shared with the SM-DP+ and plugged in phase 2; what it hands
//! over is an [`AuthenticatedClient`]: the EID from the verified eUICC certificate, the
//! transactionId, the negotiated peer [`Profile`], the raw `euiccSignature1` and the `ctxParams1`
//! the eUICC signed.
//!
//! - v2 peer: `authenticateClientOk { transactionId, eventEntries }`, unsigned.
//! - v3 peer: `authenticateClientOk { transactionId, smdsSigned2, smdsSignature2 }`, signed with
//!   the CERT.DSauth key over `DER(smdsSigned2) ‖ euiccSignature1 TLV` ([RECALL], as
//!   smdpSignature2).
//! - A MatchingID in `ctxParamsForCommonAuthentication` selects the event with that EventID, or
//!   the one this SM-DS forwarded to its Root as EventID2 (the LPA followed the Root's event);
//!   none → `eventIdUnknown` (6).
//! - `ctxParamsForPushServiceRegistration` (v3): registered when the service is one of
//!   [`Es11Config::supported_push_services`]; none configured → `pushServiceRegistrationNotSupported`
//!   (13); another service → `pushServiceNotSupport` (12).
//!
//! Only events whose EID is the authenticated EID are ever listed, whatever the caller passes.

use rsp_crypto::ecc::PrivateKey;
use rsp_crypto::x509::{Certificate, Sgp22Role};
use rsp_sgp22::cma::signature_tlv;
use rsp_sgp22::json_smds::{Es11AuthenticateClientOk, EventEntryJson};
use rsp_sgp22::{
    AuthenticateClientOkEs11, AuthenticateClientResponseEs11, CtxParamsForPushServiceRegistration,
    EventEntries, EventListV3, EventRecordV3, Profile, PushServiceRegistrationResult, SeqOf,
    Signed, SignedSmds2, SmdsResponse, SmdsSigned2, TransactionId,
    authenticate_client_error_es11 as err, event_type,
};
use rsp_types::codes::sgp22::{reason, status, subject};
use rsp_types::{Eid, Oid, StatusCode};
use time::OffsetDateTime;

use crate::event::{EventData, PushRegistration};

/// `8.9.5`/`3.9`: eventIdUnknown (the MatchingID names no event of this EID).
pub const EVENT_ID_UNKNOWN: StatusCode = StatusCode::new(subject::EVENT_RECORD, reason::UNKNOWN);
/// `8.9.7`/`3.1`: pushServiceNotSupport.
pub const PUSH_SERVICE_NOT_SUPPORTED: StatusCode =
    StatusCode::new(subject::PUSH_SERVICE, reason::UNSUPPORTED);
/// `8.10.6`/`3.1`: pushServiceRegistrationNotSupported.
pub const PUSH_REGISTRATION_NOT_SUPPORTED: StatusCode =
    StatusCode::new(subject::PUSH_SERVICE_REGISTRATION, reason::UNSUPPORTED);

/// ES11 settings of the SM-DS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Es11Config {
    /// Push services this SM-DS registers (OIDs); empty = no push registration (U-38).
    pub supported_push_services: Vec<Oid>,
    /// `pushServiceRefreshTime` returned with a registration (seconds), if any.
    pub push_refresh_time: Option<i64>,
    /// Most events in one list (older ones first; the rest on a later call).
    pub max_events_in_list: usize,
}

impl Default for Es11Config {
    fn default() -> Self {
        Es11Config {
            supported_push_services: Vec::new(),
            push_refresh_time: None,
            max_events_in_list: 32,
        }
    }
}

/// CERT.DSauth with its key: what signs the v3 event list.
pub struct DsAuth {
    certificate: Certificate,
    key: PrivateKey,
}

impl std::fmt::Debug for DsAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DsAuth")
            .field("subject", &self.certificate.subject().to_string())
            .finish_non_exhaustive()
    }
}

/// Why a [`DsAuth`] was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DsAuthError {
    /// The certificate is not a CERT.DSauth.
    #[error("the certificate's role is not ds-auth")]
    WrongRole,
    /// The key is not the certificate's.
    #[error("the private key does not match CERT.DSauth")]
    KeyMismatch,
}

impl DsAuth {
    /// Pairs CERT.DSauth with its key.
    pub fn new(certificate: Certificate, key: PrivateKey) -> Result<DsAuth, DsAuthError> {
        if certificate.sgp22_role() != Some(Sgp22Role::DsAuth) {
            return Err(DsAuthError::WrongRole);
        }
        if certificate.public_key().ok() != Some(key.public_key()) {
            return Err(DsAuthError::KeyMismatch);
        }
        Ok(DsAuth { certificate, key })
    }

    /// CERT.DSauth.
    pub fn certificate(&self) -> &Certificate {
        &self.certificate
    }

    /// SK.DSauth (signs serverSigned1 and smdsSigned2); never leaves the crate.
    pub(crate) fn key(&self) -> &PrivateKey {
        &self.key
    }
}

/// What the eUICC asked for in `ctxParams1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Es11Request {
    /// `ctxParamsForCommonAuthentication`: event retrieval, with its MatchingID if any.
    EventRetrieval {
        /// `matchingId` (absent or empty = every event of the EID).
        matching_id: Option<String>,
    },
    /// `ctxParamsForPushServiceRegistration` (v3).
    PushRegistration(CtxParamsForPushServiceRegistration),
}

/// What the CMA proved and the eUICC asked.
#[derive(Debug, Clone)]
pub struct AuthenticatedClient {
    /// The EID of the verified eUICC certificate.
    pub eid: Eid,
    /// The session's transactionId.
    pub transaction_id: TransactionId,
    /// The negotiated peer profile (v2 or v3, features).
    pub peer: Profile,
    /// `euiccSignature1` as signed by the eUICC (raw r‖s, without the `5F37` header).
    pub euicc_signature1: Vec<u8>,
    /// The request.
    pub request: Es11Request,
}

/// A refused ES11 AuthenticateClient: the ASN.1 error INTEGER and the JSON status code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("ES11 error {asn1_code} ({}/{}): {message}", status.subject, status.reason)]
pub struct Es11Refusal {
    /// `authenticateClientError` value.
    pub asn1_code: i64,
    /// JSON subject / reason.
    pub status: StatusCode,
    /// What was wrong.
    pub message: String,
}

impl Es11Refusal {
    fn new(asn1_code: i64, status: StatusCode, message: impl Into<String>) -> Es11Refusal {
        Es11Refusal {
            asn1_code,
            status,
            message: message.into(),
        }
    }

    fn internal(e: impl std::fmt::Display) -> Es11Refusal {
        Es11Refusal::new(err::UNDEFINED_ERROR, status::INTERNAL_ERROR, e.to_string())
    }

    /// The ASN.1-binding response for this refusal.
    pub fn response(&self) -> AuthenticateClientResponseEs11 {
        AuthenticateClientResponseEs11::Error(self.asn1_code)
    }
}

/// The answer and what to store.
#[derive(Debug, Clone)]
pub struct Es11Outcome {
    /// `authenticateClientOk`.
    pub ok: AuthenticateClientOkEs11,
    /// A push registration to store (replacing the EID's previous one).
    pub push: Option<PushRegistration>,
}

impl Es11Outcome {
    /// The DER `AuthenticateClientResponseEs11` for the peer (the one gated encoder).
    pub fn to_der(&self, peer: &Profile) -> Result<Vec<u8>, rsp_sgp22::EncodeError> {
        AuthenticateClientResponseEs11::Ok(self.ok.clone()).encode(peer)
    }
}

/// The events of `client.eid` selected by its MatchingID, oldest first, at most `max`.
fn select<'a>(
    events: &'a [EventData],
    eid: &Eid,
    matching_id: Option<&str>,
    max: usize,
) -> Result<Vec<&'a EventData>, Es11Refusal> {
    let mine = events
        .iter()
        .filter(|e| e.eid == eid.as_str() && e.deleted_at.is_none());
    let selected: Vec<&EventData> = match matching_id.filter(|m| !m.is_empty()) {
        Some(m) => {
            let hit: Vec<_> = mine
                .filter(|e| {
                    e.event_id == m || e.forwarded.as_ref().is_some_and(|f| f.event_id2 == m)
                })
                .collect();
            if hit.is_empty() {
                return Err(Es11Refusal::new(
                    err::EVENT_ID_UNKNOWN,
                    EVENT_ID_UNKNOWN,
                    "no event with this MatchingID",
                ));
            }
            hit
        }
        None => mine.collect(),
    };
    Ok(selected.into_iter().take(max).collect())
}

/// ES11 AuthenticateClient after CMA: the v2 list, the v3 signed list or the push registration
/// result. `events` may hold anything; only live events of `client.eid` are used. `ds_auth` is
/// needed for v3 peers.
pub fn authenticate_client_ok(
    config: &Es11Config,
    ds_auth: Option<&DsAuth>,
    client: &AuthenticatedClient,
    events: &[EventData],
    now: OffsetDateTime,
) -> Result<Es11Outcome, Es11Refusal> {
    let v3 = client.peer.is_v3();
    let (response, push) = match &client.request {
        Es11Request::PushRegistration(ctx) => {
            if !v3 || config.supported_push_services.is_empty() {
                return Err(Es11Refusal::new(
                    err::PUSH_SERVICE_REGISTRATION_NOT_SUPPORTED,
                    PUSH_REGISTRATION_NOT_SUPPORTED,
                    "this SM-DS offers no push service registration",
                ));
            }
            if !config
                .supported_push_services
                .contains(&ctx.selected_push_service)
            {
                return Err(Es11Refusal::new(
                    err::PUSH_SERVICE_NOT_SUPPORT,
                    PUSH_SERVICE_NOT_SUPPORTED,
                    format!(
                        "push service {} is not supported",
                        ctx.selected_push_service
                    ),
                ));
            }
            let reg = PushRegistration {
                eid: client.eid.to_string(),
                push_service: ctx.selected_push_service.to_string(),
                push_token: ctx.push_token.clone(),
                registered_at: now,
            };
            (
                SmdsResponse::PushServiceRegistrationResult(PushServiceRegistrationResult {
                    push_service_refresh_time: config.push_refresh_time,
                    unknown_tags: vec![],
                }),
                Some(reg),
            )
        }
        Es11Request::EventRetrieval { matching_id } => {
            let selected = select(
                events,
                &client.eid,
                matching_id.as_deref(),
                config.max_events_in_list,
            )?;
            if !v3 {
                let entries = selected
                    .iter()
                    .map(|e| EventEntries {
                        event_id: e.event_id.clone(),
                        rsp_server_address: e.rsp_server_address.clone(),
                        unknown_tags: vec![],
                    })
                    .collect();
                return Ok(Es11Outcome {
                    ok: AuthenticateClientOkEs11 {
                        transaction_id: client.transaction_id.clone(),
                        event_entries: Some(SeqOf(entries)),
                        smds_signed2: None,
                        smds_signature2: None,
                        unknown_tags: vec![],
                    },
                    push: None,
                });
            }
            let records = selected
                .iter()
                .map(|e| EventRecordV3 {
                    event_id: e.event_id.clone(),
                    rsp_server_address: e.rsp_server_address.clone(),
                    event_type: event_type::PROFILE_DOWNLOAD,
                    hashed_iccids: None,
                    salt: None,
                    service_provider_name: None,
                    operator_id: None,
                    unknown_tags: vec![],
                })
                .collect();
            (
                SmdsResponse::EventList(EventListV3 {
                    event_entries: SeqOf(records),
                    ec_id: None,
                    push_service_refresh_time: None,
                    unknown_tags: vec![],
                }),
                None,
            )
        }
    };
    let ds_auth = ds_auth.ok_or_else(|| Es11Refusal::internal("no CERT.DSauth configured"))?;
    let signed = Signed::new(
        SmdsSigned2 {
            transaction_id: client.transaction_id.clone(),
            response,
            unknown_tags: vec![],
        },
        &client.peer,
    )
    .map_err(Es11Refusal::internal)?;
    let mut to_sign = signed.raw().to_vec();
    to_sign.extend_from_slice(&signature_tlv(&client.euicc_signature1));
    let signature = ds_auth
        .key
        .sign_raw(&to_sign)
        .map_err(Es11Refusal::internal)?;
    Ok(Es11Outcome {
        ok: AuthenticateClientOkEs11 {
            transaction_id: client.transaction_id.clone(),
            event_entries: None,
            smds_signed2: Some(SignedSmds2(signed)),
            smds_signature2: Some(signature.to_vec()),
            unknown_tags: vec![],
        },
        push,
    })
}

/// Why a signed event list was refused (what `ES10b.VerifySmdsResponse` checks).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// No `smdsSigned2` / `smdsSignature2` (a v2 answer).
    #[error("not a signed (v3) event list")]
    NotSigned,
    /// The transactionId is not the session's.
    #[error("transactionId mismatch")]
    TransactionId,
    /// The signature does not verify with CERT.DSauth.
    #[error("smdsSignature2 does not verify")]
    Signature,
}

/// Checks a v3 answer against CERT.DSauth, the session's transactionId and the eUICC's
/// `euiccSignature1` (raw); returns the signed content.
pub fn verify_signed_response<'a>(
    ds_auth_certificate: &Certificate,
    transaction_id: &TransactionId,
    euicc_signature1: &[u8],
    ok: &'a AuthenticateClientOkEs11,
) -> Result<&'a SmdsSigned2, VerifyError> {
    let (Some(signed), Some(signature)) = (&ok.smds_signed2, &ok.smds_signature2) else {
        return Err(VerifyError::NotSigned);
    };
    let key = ds_auth_certificate
        .public_key()
        .map_err(|_| VerifyError::Signature)?;
    let mut message = signed.0.raw().to_vec();
    message.extend_from_slice(&signature_tlv(euicc_signature1));
    key.verify_raw(&message, signature)
        .map_err(|_| VerifyError::Signature)?;
    let value = signed.0.value();
    if &value.transaction_id != transaction_id || &ok.transaction_id != transaction_id {
        return Err(VerifyError::TransactionId);
    }
    Ok(value)
}

/// The JSON binding of `authenticateClientOk` for `peer` (`smdsSignature2` with its `5F37`
/// header). The value goes through the gated DER encoder first, so the JSON never carries an
/// element the peer may not receive.
pub fn to_json(
    ok: &AuthenticateClientOkEs11,
    peer: &Profile,
) -> Result<Es11AuthenticateClientOk, Es11Refusal> {
    let der = AuthenticateClientResponseEs11::Ok(ok.clone())
        .encode(peer)
        .map_err(Es11Refusal::internal)?;
    let AuthenticateClientResponseEs11::Ok(ok) =
        AuthenticateClientResponseEs11::decode(&der).map_err(Es11Refusal::internal)?
    else {
        return Err(Es11Refusal::internal("re-decoded to an error"));
    };
    let smds_signature2 = ok.smds_signature2.as_deref().map(signature_tlv);
    Ok(Es11AuthenticateClientOk {
        transaction_id: ok.transaction_id.clone(),
        event_entries: ok.event_entries.as_ref().map(|l| {
            l.iter()
                .map(|e| EventEntryJson {
                    event_id: e.event_id.clone(),
                    rsp_server_address: e.rsp_server_address.clone(),
                })
                .collect()
        }),
        smds_signed2: ok.smds_signed2.as_ref().map(|s| s.0.raw().to_vec()),
        smds_signature2,
    })
}
