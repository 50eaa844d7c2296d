//! The sans-IO ES9+ procedure: pure functions from (request, session, order, inventory, now,
//! randomness, config) to (response, new session, order change). Nothing here touches the store,
//! the network or the clock.
//!
//! Check orders (what is reported first when several things are wrong):
//! - InitiateAuthentication: address → SVN → CI of the signing list(s) that issued a CERT.DPauth
//!   (none: `8.8.2`/`3.1`) → that CI also in the verification list (else `8.8.4`/`3.7`) (C-38).
//! - AuthenticateClient: session → eUICC error → EUM certificate → eUICC certificate (EID in the
//!   EUM's EIN range) → euiccSignature1 → transactionId / serverChallenge / serverAddress →
//!   context parameters → capability tamper checks → order (MatchingID / EID / state) →
//!   package version.
//! - GetBoundProfilePackage: session → eUICC error → euiccSignature2 → transactionId →
//!   Confirmation Code (order).
//! - CancelSession: session → eUICC error → signature → transactionId → smdpOid.

use rsp_crypto::ecc::{PrivateKey, PublicKey};
use rsp_crypto::x509::{self, Certificate, Sgp22Role};
use rsp_sgp22::bpp::{self, PreparedProfile, ProfileSource, SessionBinding};
use rsp_sgp22::cma;
use rsp_sgp22::{
    AuthenticateClientOk, AuthenticateClientRequest, CancelSessionRequestEs9,
    CancelSessionResponse, CtxParams1, EuiccInfo2, FinalResult, GetBoundProfilePackageOk,
    GetBoundProfilePackageRequest, InitiateAuthenticationOk, InitiateAuthenticationRequest,
    NotificationMetadata, OtherSignedNotification, PrepareDownloadResponse, Profile,
    ProfileInstallationResult, RawTlv, Signed, SmdpSigned2, TransactionId,
};
use rsp_types::{Eid, Iccid, Svn};
use time::OffsetDateTime;

use super::{Es9Config, Es9Error, Function, Randomness, Refusal};
use crate::identity::SmdpIdentity;
use crate::inventory::Inventory;
use crate::order::{InstallationOutcome, Order, RetryData};
use crate::session::{Authenticated, BppDelivered, CloseReason, Initiated, Session, SessionState};

/// The `5F37` TLV of a raw signature (what smdpSignature2 / euiccSignature2 cover).
pub fn signature_tlv(raw: &[u8]) -> Result<Vec<u8>, Refusal> {
    Ok(cma::signature_tlv(raw))
}

fn random16(rng: &dyn Randomness) -> Result<[u8; 16], Refusal> {
    let mut b = [0u8; 16];
    rng.fill(&mut b)?;
    Ok(b)
}

fn check_live(session: &Session, now: OffsetDateTime) -> Result<&SessionState, Refusal> {
    if now >= session.expires_at {
        return Err(Refusal::InvalidTransactionId("session expired"));
    }
    if let SessionState::Closed(_) = session.state {
        return Err(Refusal::InvalidTransactionId("session closed"));
    }
    Ok(&session.state)
}

fn parse_cert(der: &[u8], bad: impl Fn(String) -> Refusal) -> Result<Certificate, Refusal> {
    Certificate::from_der(der).map_err(|e| bad(e.to_string()))
}

// ---- InitiateAuthentication -------------------------------------------------------------------

/// InitiateAuthentication accepted.
#[derive(Debug, Clone)]
pub struct InitiateOutcome {
    /// The response.
    pub response: InitiateAuthenticationOk,
    /// The new session (to create).
    pub session: Session,
    /// The negotiated peer profile (encode the response for it).
    pub peer: Profile,
}

pub use rsp_sgp22::cma::euicc_svn;

/// ES9+.InitiateAuthentication (sgp22.md §4 steps 3–5): the shared CMA core
/// ([`rsp_sgp22::cma::initiate_authentication`]) with CERT.DPauth, then a new session.
pub fn initiate_authentication(
    cfg: &Es9Config,
    identity: &SmdpIdentity,
    req: &InitiateAuthenticationRequest,
    now: OffsetDateTime,
    rng: &dyn Randomness,
) -> Result<InitiateOutcome, Es9Error> {
    let fail = |r| Es9Error::new(Function::InitiateAuthentication, r);
    let tid_bytes = random16(rng).map_err(fail)?;
    let transaction_id =
        TransactionId::new(&tid_bytes).map_err(|e| fail(Refusal::Internal(e.to_string())))?;
    let server_challenge = random16(rng).map_err(fail)?;
    let outcome = cma::initiate_authentication(
        &cfg.cma(),
        &identity.server_auth(),
        req,
        transaction_id.clone(),
        server_challenge,
    )
    .map_err(|r| fail(r.into()))?;
    let session = Session {
        transaction_id,
        created_at: now,
        expires_at: now + cfg.session_ttl,
        state: SessionState::Initiated(outcome.initiated),
    };
    Ok(InitiateOutcome {
        response: outcome.response,
        session,
        peer: outcome.peer,
    })
}

// ---- AuthenticateClient -----------------------------------------------------------------------

/// What AuthenticateClient proved about the eUICC, before the order is consulted.
#[derive(Debug, Clone)]
pub struct ClientVerified {
    /// The EID (eUICC certificate subject serialNumber).
    pub eid: Eid,
    /// The MatchingID presented (`None` when absent or empty).
    pub matching_id: Option<String>,
    /// The signed `euiccInfo2`.
    pub euicc_info2: EuiccInfo2,
    euicc_certificate: Vec<u8>,
    eum_certificate: Vec<u8>,
    euicc_signature1: Vec<u8>,
    initiated: Initiated,
}

/// AuthenticateClient, first half: checks everything the eUICC signed, against the session.
/// `Err(Refusal::EuiccError)` means the eUICC refused the server: close the session.
pub fn verify_authenticate_client(
    identity: &SmdpIdentity,
    session: &Session,
    req: &AuthenticateClientRequest,
    now: OffsetDateTime,
) -> Result<ClientVerified, Refusal> {
    let state = check_live(session, now)?;
    let SessionState::Initiated(initiated) = state else {
        return Err(Refusal::InvalidTransactionId(
            "session already authenticated",
        ));
    };
    let verified = cma::verify_authenticate_client(
        &identity.server_auth(),
        initiated,
        &session.transaction_id,
        req,
        now,
    )?;
    let ctx = match &verified.euicc_signed1.ctx_params1 {
        CtxParams1::CommonAuthentication(c) => c,
        CtxParams1::DeviceChange(_) | CtxParams1::ProfileRecovery(_) => {
            return Err(Refusal::DeviceChangeNotSupported);
        }
        CtxParams1::PushServiceRegistration(_) => {
            return Err(Refusal::InvalidInput(
                "push service registration is an SM-DS function".into(),
            ));
        }
    };
    Ok(ClientVerified {
        eid: verified.eid,
        matching_id: ctx.matching_id.clone().filter(|m| !m.is_empty()),
        euicc_info2: verified.euicc_signed1.euicc_info2.clone(),
        euicc_certificate: verified.euicc_certificate,
        eum_certificate: verified.eum_certificate,
        euicc_signature1: verified.euicc_signature1,
        initiated: verified.initiated,
    })
}

/// AuthenticateClient accepted.
#[derive(Debug, Clone)]
pub struct ClientAccepted {
    /// The response.
    pub response: AuthenticateClientOk,
    /// The session, now Authenticated.
    pub session: Session,
    /// The peer profile (encode the response for it).
    pub peer: Profile,
}

/// AuthenticateClient, second half: the order found for the MatchingID (or the EID) decides.
/// `order` is changed in place (attempt counted, EID bound, or moved to Error): save it on
/// success and on refusal alike.
pub fn accept_authenticate_client(
    identity: &SmdpIdentity,
    inventory: &Inventory,
    session: &Session,
    verified: ClientVerified,
    order: &mut Order,
    now: OffsetDateTime,
) -> Result<ClientAccepted, Refusal> {
    order
        .authorize_download(&verified.eid, now)
        .map_err(Refusal::Order)?;
    let info2 = &verified.euicc_info2;
    // A v3 profile package only in a v3 session: a v2 server knows no v3 package, and a v2
    // peer gets a v2 package (sgp22.md §6, §7).
    let session_is_v3 = verified.initiated.peer.profile().is_v3();
    let additional: Vec<Svn> = info2
        .additional_profile_package_versions
        .as_ref()
        .map(|l| l.0.clone())
        .unwrap_or_default()
        .into_iter()
        .filter(|v| session_is_v3 || *v < rsp_sgp22::version::V3_0_0)
        .collect();
    let package_version = inventory
        .package_version_for(
            &order.iccid,
            info2.base_profile_package_version,
            &additional,
        )
        .map_err(|e| Refusal::Internal(e.to_string()))?
        .ok_or(Refusal::NoEligibleProfile)?;
    let metadata = inventory
        .metadata(&order.iccid)
        .map_err(|e| Refusal::Internal(e.to_string()))?;
    let initiated = verified.initiated;
    let peer = initiated.peer.profile();
    let profile_metadata = metadata
        .encode(&peer)
        .map_err(|e| Refusal::Internal(e.to_string()))?;
    let curve = identity
        .for_ci(&initiated.ci_pk_id)
        .ok_or_else(|| Refusal::Internal("the session's CI is no longer configured".into()))?;
    order
        .begin_download(&verified.eid, session.transaction_id.clone(), now)
        .map_err(Refusal::Order)?;
    let bpp_euicc_otpk = order.retry.bpp_euicc_otpk.clone();
    let smdp_signed2 = Signed::new(
        SmdpSigned2 {
            transaction_id: session.transaction_id.clone(),
            cc_required_flag: order.cc_required(),
            bpp_euicc_otpk: bpp_euicc_otpk.clone(),
            rpm_pending: None,
            unknown_tags: vec![],
        },
        &peer,
    )
    .map_err(|e| Refusal::Internal(e.to_string()))?;
    let mut to_sign = smdp_signed2.raw().to_vec();
    to_sign.extend_from_slice(&signature_tlv(&verified.euicc_signature1)?);
    let smdp_signature2 = curve
        .dp_pb
        .key()
        .sign_raw(&to_sign)
        .map_err(|e| Refusal::Internal(e.to_string()))?;
    let response = AuthenticateClientOk {
        transaction_id: session.transaction_id.clone(),
        profile_metadata: metadata,
        smdp_signed2,
        smdp_signature2: smdp_signature2.to_vec(),
        smdp_certificate: rsp_sgp22::Certificate(curve.dp_pb.certificate.der().to_vec()),
        unknown_tags: vec![],
    };
    let session = Session {
        state: SessionState::Authenticated(Box::new(Authenticated {
            initiated,
            eid: verified.eid,
            euicc_certificate: verified.euicc_certificate,
            eum_certificate: verified.eum_certificate,
            iccid: order.iccid,
            package_version,
            matching_id: verified.matching_id,
            cc_required: order.cc_required(),
            bpp_euicc_otpk,
            smdp_signature2: smdp_signature2.to_vec(),
            profile_metadata,
        })),
        ..session.clone()
    };
    Ok(ClientAccepted {
        response,
        session,
        peer,
    })
}

// ---- GetBoundProfilePackage -------------------------------------------------------------------

/// GetBoundProfilePackage accepted.
#[derive(Debug, Clone)]
pub struct BppOutcome {
    /// The response.
    pub response: GetBoundProfilePackageOk,
    /// The session, now BppDelivered.
    pub session: Session,
    /// The peer profile.
    pub peer: Profile,
}

/// GetBoundProfilePackage, first half (session and signature); returns the authenticated
/// session data and the verified `euiccSigned2`.
pub fn verify_get_bound_profile_package<'a>(
    session: &'a Session,
    req: &'a GetBoundProfilePackageRequest,
    now: OffsetDateTime,
) -> Result<(&'a Authenticated, &'a rsp_sgp22::EuiccSigned2), Refusal> {
    let state = check_live(session, now)?;
    let SessionState::Authenticated(auth) = state else {
        return Err(Refusal::InvalidTransactionId(match state {
            SessionState::Initiated(_) => "session not authenticated",
            _ => "bound profile package already delivered",
        }));
    };
    if req.transaction_id != session.transaction_id {
        return Err(Refusal::InvalidTransactionId(
            "transactionId of the request",
        ));
    }
    let ok = match &req.prepare_download_response {
        PrepareDownloadResponse::Ok(ok) => ok,
        PrepareDownloadResponse::Error(e) => {
            return Err(Refusal::EuiccError(e.download_error_code));
        }
    };
    let euicc = Certificate::from_der(&auth.euicc_certificate)
        .map_err(|e| Refusal::Internal(format!("stored eUICC certificate: {e}")))?;
    let key = euicc
        .public_key()
        .map_err(|e| Refusal::Internal(e.to_string()))?;
    let mut covered = ok.euicc_signed2.raw().to_vec();
    covered.extend_from_slice(&signature_tlv(&auth.smdp_signature2)?);
    key.verify_raw(&covered, &ok.euicc_signature2)
        .map_err(|_| Refusal::EuiccSignatureInvalid("euiccSignature2"))?;
    let signed2 = ok.euicc_signed2.value();
    if signed2.transaction_id != session.transaction_id {
        return Err(Refusal::InvalidTransactionId(
            "transactionId in euiccSigned2",
        ));
    }
    Ok((auth, signed2))
}

/// GetBoundProfilePackage (sgp22.md §5): Confirmation Code, then the BPP, bound to the
/// eUICC's one-time key; the profile elements are protected once ([`PreparedProfile`], kept in
/// the order's retry data) and re-bound on a retry. `order` changes in place (CC attempts,
/// Downloaded): save it on success and on refusal alike.
pub fn get_bound_profile_package(
    identity: &SmdpIdentity,
    inventory: &Inventory,
    session: &Session,
    req: &GetBoundProfilePackageRequest,
    order: &mut Order,
    now: OffsetDateTime,
    rng: &dyn Randomness,
) -> Result<BppOutcome, Refusal> {
    let (auth, signed2) = verify_get_bound_profile_package(session, req, now)?;
    if order.iccid != auth.iccid {
        return Err(Refusal::Internal("the order is not the session's".into()));
    }
    order
        .check_confirmation_code(&session.transaction_id, signed2.hash_cc.as_deref(), now)
        .map_err(Refusal::Order)?;
    let curve = auth.initiated.curve;
    PublicKey::from_sec1(curve, &signed2.euicc_otpk)
        .map_err(|e| Refusal::InvalidInput(format!("euiccOtpk: {e}")))?;
    let ci = identity
        .for_ci(&auth.initiated.ci_pk_id)
        .ok_or_else(|| Refusal::Internal("the session's CI is no longer configured".into()))?;
    let prepared = match order
        .retry
        .blob
        .as_deref()
        .and_then(|b| PreparedProfile::from_bytes(b).ok())
    {
        Some(p) => p,
        None => {
            let upp = inventory
                .personalised_upp(&auth.iccid)
                .map_err(|e| Refusal::Internal(e.to_string()))?;
            PreparedProfile::protect(&upp).map_err(|e| Refusal::Internal(e.to_string()))?
        }
    };
    let smdp_otsk = PrivateKey::generate(curve).map_err(|e| Refusal::Internal(e.to_string()))?;
    let host_id = random16(rng)?;
    let configure_isdp = bpp::configure_isdp_request(Some(&identity.oid))
        .map_err(|e| Refusal::Internal(e.to_string()))?;
    let eid = auth.eid.to_bytes();
    let binding = SessionBinding {
        transaction_id: &session.transaction_id,
        host_id: &host_id,
        eid: &eid,
        smdp_otsk: &smdp_otsk,
        euicc_otpk: &signed2.euicc_otpk,
        dp_pb: ci.dp_pb.key(),
        configure_isdp: &configure_isdp,
        store_metadata: &auth.profile_metadata,
    };
    let bound = bpp::build_bound_profile_package(&binding, ProfileSource::Prepared(&prepared))
        .map_err(|e| Refusal::Internal(e.to_string()))?;
    order
        .mark_downloaded(&session.transaction_id, Some(auth.package_version))
        .map_err(Refusal::Order)?;
    let blob = prepared
        .to_bytes()
        .map_err(|e| Refusal::Internal(e.to_string()))?;
    order.set_retry_data(RetryData {
        bpp_euicc_otpk: Some(signed2.euicc_otpk.clone()),
        blob: Some(blob.to_vec()),
    });
    let peer = auth.initiated.peer.profile();
    let response = GetBoundProfilePackageOk {
        transaction_id: session.transaction_id.clone(),
        bound_profile_package: RawTlv(bound),
        unknown_tags: vec![],
    };
    let session = Session {
        state: SessionState::BppDelivered(Box::new(BppDelivered {
            authenticated: auth.clone(),
            euicc_otpk: signed2.euicc_otpk.clone(),
        })),
        ..session.clone()
    };
    Ok(BppOutcome {
        response,
        session,
        peer,
    })
}

// ---- HandleNotification -----------------------------------------------------------------------

/// What a notification turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotificationOutcome {
    /// A Profile Installation Result verified with the session's eUICC certificate.
    InstallationResult {
        /// Its transactionId.
        transaction_id: TransactionId,
        /// The order's ICCID (from the session).
        iccid: Iccid,
        /// Success or the error.
        outcome: InstallationOutcome,
        /// The session, now Closed.
        session: Session,
    },
    /// An other signed notification (enable / disable / delete …), verified with its own
    /// certificates.
    Other {
        /// The EID of the signing eUICC.
        eid: Eid,
        /// The notification metadata.
        metadata: NotificationMetadata,
    },
}

/// Checks a Profile Installation Result against its session (`transactionId` in the result).
pub fn verify_installation_result(
    identity: &SmdpIdentity,
    session: &Session,
    pir: &ProfileInstallationResult,
) -> Result<NotificationOutcome, Refusal> {
    let data = pir.profile_installation_result_data.value();
    if data.transaction_id != session.transaction_id {
        return Err(Refusal::InvalidTransactionId("transactionId of the result"));
    }
    let cert = session
        .state
        .euicc_certificate()
        .ok_or(Refusal::InvalidTransactionId("session not authenticated"))?;
    let iccid = session
        .state
        .iccid()
        .cloned()
        .ok_or(Refusal::InvalidTransactionId("session has no order"))?;
    let key = Certificate::from_der(cert)
        .and_then(|c| c.public_key().cloned())
        .map_err(|e| Refusal::Internal(e.to_string()))?;
    key.verify_raw(
        pir.profile_installation_result_data.raw(),
        &pir.euicc_sign_pir,
    )
    .map_err(|_| Refusal::EuiccSignatureInvalid("euiccSignPIR"))?;
    if data.smdp_oid != identity.oid {
        return Err(Refusal::InvalidSmdpOid);
    }
    let outcome = match &data.final_result {
        FinalResult::Success(_) => InstallationOutcome::Success,
        FinalResult::Error(e) => InstallationOutcome::Error {
            bpp_command_id: e.bpp_command_id,
            error_reason: e.error_reason,
        },
    };
    Ok(NotificationOutcome::InstallationResult {
        transaction_id: data.transaction_id.clone(),
        iccid,
        outcome,
        session: Session {
            state: session.state.close(CloseReason::InstallationResult),
            ..session.clone()
        },
    })
}

/// Checks an other signed notification with its own certificate chain.
pub fn verify_other_notification(
    identity: &SmdpIdentity,
    n: &OtherSignedNotification,
    now: OffsetDateTime,
) -> Result<NotificationOutcome, Refusal> {
    let anchors = identity.trust_anchors();
    let eum = parse_cert(n.next_cert_in_chain.der(), Refusal::EumCertificateInvalid)?;
    let mut intermediates = vec![eum];
    if let Some(list) = &n.other_certs_in_chain {
        for c in list.iter() {
            intermediates.push(parse_cert(c.der(), Refusal::EumCertificateInvalid)?);
        }
    }
    let euicc = parse_cert(n.euicc_certificate.der(), Refusal::EuiccCertificateInvalid)?;
    x509::verify_sgp22_chain(&euicc, &intermediates, &anchors, now, Sgp22Role::Euicc)
        .map_err(|e| Refusal::from_euicc_chain(&e))?;
    let eid = euicc
        .eid()
        .and_then(|e| e.parse::<Eid>().ok())
        .ok_or_else(|| Refusal::EuiccCertificateInvalid("no valid EID".into()))?;
    let key = euicc
        .public_key()
        .map_err(|e| Refusal::EuiccCertificateInvalid(e.to_string()))?;
    key.verify_raw(
        n.tbs_other_notification.raw(),
        &n.euicc_notification_signature,
    )
    .map_err(|_| Refusal::EuiccSignatureInvalid("euiccNotificationSignature"))?;
    Ok(NotificationOutcome::Other {
        eid,
        metadata: n.tbs_other_notification.value().clone(),
    })
}

// ---- CancelSession ----------------------------------------------------------------------------

/// CancelSession accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancelOutcome {
    /// The CancelSessionReason.
    pub reason: i64,
    /// The order's ICCID, when the session had matched one.
    pub iccid: Option<Iccid>,
    /// The session, now Closed.
    pub session: Session,
}

/// ES9+.CancelSession. A session still in Initiated has no eUICC certificate to verify with
/// and no order: it is closed without further checks (project choice).
pub fn cancel_session(
    identity: &SmdpIdentity,
    session: &Session,
    req: &CancelSessionRequestEs9,
    now: OffsetDateTime,
) -> Result<CancelOutcome, Refusal> {
    let state = check_live(session, now)?;
    if req.transaction_id != session.transaction_id {
        return Err(Refusal::InvalidTransactionId(
            "transactionId of the request",
        ));
    }
    let ok = match &req.cancel_session_response {
        CancelSessionResponse::Ok(ok) => ok,
        CancelSessionResponse::Error(code) => return Err(Refusal::EuiccError(*code)),
    };
    let signed = ok.euicc_cancel_session_signed.value();
    let Some(auth) = state.authenticated() else {
        return Ok(CancelOutcome {
            reason: signed.reason,
            iccid: None,
            session: Session {
                state: state.close(CloseReason::Cancelled(signed.reason)),
                ..session.clone()
            },
        });
    };
    let key = Certificate::from_der(&auth.euicc_certificate)
        .and_then(|c| c.public_key().cloned())
        .map_err(|e| Refusal::Internal(e.to_string()))?;
    key.verify_raw(
        ok.euicc_cancel_session_signed.raw(),
        &ok.euicc_cancel_session_signature,
    )
    .map_err(|_| Refusal::EuiccSignatureInvalid("euiccCancelSessionSignature"))?;
    if signed.transaction_id != session.transaction_id {
        return Err(Refusal::InvalidTransactionId(
            "transactionId in euiccCancelSessionSigned",
        ));
    }
    if signed.smdp_oid != identity.oid {
        return Err(Refusal::InvalidSmdpOid);
    }
    Ok(CancelOutcome {
        reason: signed.reason,
        iccid: Some(auth.iccid),
        session: Session {
            state: state.close(CloseReason::Cancelled(signed.reason)),
            ..session.clone()
        },
    })
}
