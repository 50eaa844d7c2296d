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
use rsp_sgp22::{
    AuthenticateClientOk, AuthenticateClientRequest, AuthenticateServerResponse,
    CancelSessionRequestEs9, CancelSessionResponse, CtxParams1, EuiccInfo1, EuiccInfo2, FeatureSet,
    FinalResult, GetBoundProfilePackageOk, GetBoundProfilePackageRequest, InitiateAuthenticationOk,
    InitiateAuthenticationRequest, LpaRspCapability, NotificationMetadata, Octet16,
    OtherSignedNotification, PrepareDownloadResponse, Profile, ProfileInstallationResult, RawTlv,
    ServerSigned1, SessionContext, Signed, SmdpSigned2, TransactionId, negotiate,
};
use rsp_types::tlv::{self, Tag};
use rsp_types::{Eid, Iccid, Svn};
use time::OffsetDateTime;

use super::{Es9Config, Es9Error, Function, Randomness, Refusal};
use crate::identity::{CurveIdentity, SmdpIdentity};
use crate::inventory::Inventory;
use crate::order::{InstallationOutcome, Order, RetryData};
use crate::session::{
    Authenticated, BppDelivered, CloseReason, Initiated, Session, SessionState, StoredProfile,
};

/// A profile that lets every known field through: how the session keeps the received
/// `euiccInfo1` without losing v3 fields.
fn lossless() -> Profile {
    Profile::new(Svn::new(255, 255, 255)).with_features(FeatureSet::all())
}

/// The `5F37` TLV of a raw signature (what smdpSignature2 / euiccSignature2 cover).
pub fn signature_tlv(raw: &[u8]) -> Result<Vec<u8>, Refusal> {
    let tag = Tag::from_u32(0x5F37).map_err(|e| Refusal::Internal(e.to_string()))?;
    tlv::encode_tlv_to_vec(tag, raw).map_err(|e| Refusal::InvalidInput(e.to_string()))
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

/// The eUICC's highest declared SGP.22 version (`highestSvn`, else the v2 `svn`).
pub fn euicc_svn(info1: &EuiccInfo1) -> Svn {
    info1.highest_svn.unwrap_or(info1.lowest_svn)
}

/// Chooses the CI (and so the curve) for the session (C-38); returns it and whether it came
/// from the v3 signing list only.
pub fn choose_ci<'a>(
    identity: &'a SmdpIdentity,
    info1: &EuiccInfo1,
) -> Result<(&'a CurveIdentity, bool), Refusal> {
    let signing = &info1.euicc_ci_pk_id_list_for_signing.0;
    let signing_v3: &[Vec<u8>] = info1
        .euicc_ci_pk_id_list_for_signing_v3
        .as_ref()
        .map_or(&[], |l| l.0.as_slice());
    let verification = &info1.euicc_ci_pk_id_list_for_verification.0;
    let candidates: Vec<(&CurveIdentity, bool)> = identity
        .curves()
        .iter()
        .filter_map(|c| {
            let id = c.ci_pk_id();
            if signing.iter().any(|s| s.as_slice() == id) {
                Some((c, false))
            } else if signing_v3.iter().any(|s| s.as_slice() == id) {
                Some((c, true))
            } else {
                None
            }
        })
        .collect();
    if candidates.is_empty() {
        return Err(Refusal::CiPkIdNotSupported);
    }
    candidates
        .into_iter()
        .find(|(c, _)| verification.iter().any(|v| v.as_slice() == c.ci_pk_id()))
        .ok_or(Refusal::NoDpCertificateForCi)
}

/// ES9+.InitiateAuthentication (sgp22.md §4 steps 3–5).
pub fn initiate_authentication(
    cfg: &Es9Config,
    identity: &SmdpIdentity,
    req: &InitiateAuthenticationRequest,
    now: OffsetDateTime,
    rng: &dyn Randomness,
) -> Result<InitiateOutcome, Es9Error> {
    let fail = |r| Es9Error::new(Function::InitiateAuthentication, r);
    if !req.smdp_address.eq_ignore_ascii_case(&identity.address) {
        return Err(fail(Refusal::InvalidDpAddress));
    }
    let info1 = &req.euicc_info1;
    let device_svn = euicc_svn(info1);
    if info1.lowest_svn.major > cfg.svn.major || device_svn.major < cfg.lowest_svn.major {
        return Err(fail(Refusal::EuiccVersionNotSupported));
    }
    let (ci, from_v3_list) = choose_ci(identity, info1).map_err(fail)?;
    let device = rsp_sgp22::Capabilities {
        euicc: info1.euicc_rsp_capability.clone(),
        lpa: req.lpa_rsp_capability.clone(),
        ..Default::default()
    };
    let peer = negotiate(&cfg.capabilities(), Some(&device), cfg.svn, device_svn);
    let tid_bytes = random16(rng).map_err(fail)?;
    let transaction_id =
        TransactionId::new(&tid_bytes).map_err(|e| fail(Refusal::Internal(e.to_string())))?;
    let server_challenge = random16(rng).map_err(fail)?;
    let server_signed1 = ServerSigned1 {
        transaction_id: transaction_id.clone(),
        euicc_challenge: req.euicc_challenge,
        server_address: identity.address.clone(),
        server_challenge: Octet16(server_challenge),
        session_context: cfg.is_v3().then(|| SessionContext {
            server_svn: cfg.svn,
            crl_stapling_v3_used: false,
            euicc_ci_pk_id_to_be_used_v3: from_v3_list.then(|| ci.ci_pk_id().to_vec()),
            supported_push_services: (!cfg.supported_push_services.is_empty())
                .then(|| cfg.supported_push_services.clone()),
            unknown_tags: vec![],
        }),
        server_rsp_capability: cfg.is_v3().then(|| cfg.server_rsp_capability.clone()),
        unknown_tags: vec![],
    };
    let signed =
        Signed::new(server_signed1, &peer).map_err(|e| fail(Refusal::Internal(e.to_string())))?;
    let signature = ci
        .dp_auth
        .key()
        .sign_raw(signed.raw())
        .map_err(|e| fail(Refusal::Internal(e.to_string())))?;
    let response = InitiateAuthenticationOk {
        transaction_id: transaction_id.clone(),
        server_signed1: signed,
        server_signature1: signature.to_vec(),
        euicc_ci_pk_id_to_be_used: ci.ci_pk_id().to_vec(),
        server_certificate: rsp_sgp22::Certificate(ci.dp_auth.certificate.der().to_vec()),
        other_certs_in_chain: None,
        crl_list: None,
        unknown_tags: vec![],
    };
    let mut lpa_cap = None;
    if let Some(c) = &req.lpa_rsp_capability {
        let mut content = Vec::new();
        c.0.write_content(&mut content);
        lpa_cap = Some(content);
    }
    let session = Session {
        transaction_id,
        created_at: now,
        expires_at: now + cfg.session_ttl,
        state: SessionState::Initiated(Initiated {
            euicc_challenge: req.euicc_challenge.0,
            server_challenge,
            ci_pk_id: ci.ci_pk_id().to_vec(),
            curve: ci.curve(),
            euicc_info1: info1
                .encode(&lossless())
                .map_err(|e| fail(Refusal::Internal(e.to_string())))?,
            lpa_rsp_capability: lpa_cap,
            peer: StoredProfile::from(&peer),
            server_v3: cfg.is_v3(),
        }),
    };
    Ok(InitiateOutcome {
        response,
        session,
        peer,
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
    if req.transaction_id != session.transaction_id {
        return Err(Refusal::InvalidTransactionId(
            "transactionId of the request",
        ));
    }
    let ok = match &req.authenticate_server_response {
        AuthenticateServerResponse::Ok(ok) => ok,
        AuthenticateServerResponse::Error(e) => {
            return Err(Refusal::EuiccError(e.authenticate_error_code));
        }
    };
    let anchors = identity.trust_anchors();
    let others: Vec<Certificate> = match &ok.other_certs_in_chain {
        Some(list) => list
            .iter()
            .map(|c| parse_cert(c.der(), Refusal::EumCertificateInvalid))
            .collect::<Result<_, _>>()?,
        None => Vec::new(),
    };
    let eum = parse_cert(ok.next_cert_in_chain.der(), Refusal::EumCertificateInvalid)?;
    x509::verify_sgp22_chain(&eum, &others, &anchors, now, Sgp22Role::Eum)
        .map_err(|e| Refusal::from_eum_chain(&e))?;
    let euicc = parse_cert(ok.euicc_certificate.der(), Refusal::EuiccCertificateInvalid)?;
    let mut intermediates = vec![eum];
    intermediates.extend(others);
    x509::verify_sgp22_chain(&euicc, &intermediates, &anchors, now, Sgp22Role::Euicc)
        .map_err(|e| Refusal::from_euicc_chain(&e))?;
    let eid = euicc
        .eid()
        .and_then(|e| e.parse::<Eid>().ok())
        .ok_or_else(|| Refusal::EuiccCertificateInvalid("no valid EID".into()))?;
    let euicc_key = euicc
        .public_key()
        .map_err(|e| Refusal::EuiccCertificateInvalid(e.to_string()))?;
    euicc_key
        .verify_raw(ok.euicc_signed1.raw(), &ok.euicc_signature1)
        .map_err(|_| Refusal::EuiccSignatureInvalid("euiccSignature1"))?;
    let signed1 = ok.euicc_signed1.value();
    if signed1.transaction_id != session.transaction_id {
        return Err(Refusal::InvalidTransactionId(
            "transactionId in euiccSigned1",
        ));
    }
    if signed1.server_challenge.0 != initiated.server_challenge {
        return Err(Refusal::EuiccSignatureInvalid("serverChallenge"));
    }
    if !signed1
        .server_address
        .eq_ignore_ascii_case(&identity.address)
    {
        return Err(Refusal::InvalidDpAddress);
    }
    let ctx = match &signed1.ctx_params1 {
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
    // Tamper checks: the unsigned copies against the signed ones (sgp22.md §0.3). They are
    // v3 checks on v3 carriers: a v2 server does not know these fields and ignores them.
    let info1 = EuiccInfo1::decode(&initiated.euicc_info1)
        .map_err(|e| Refusal::Internal(format!("stored euiccInfo1: {e}")))?;
    if initiated.server_v3
        && let Some(c1) = &info1.euicc_rsp_capability
        && *c1 != signed1.euicc_info2.euicc_rsp_capability
    {
        return Err(Refusal::EuiccRspCapabilityChanged);
    }
    let signed_lpa = ctx
        .device_info
        .lpa_rsp_capability
        .as_ref()
        .map(|c: &LpaRspCapability| {
            let mut content = Vec::new();
            c.0.write_content(&mut content);
            content
        });
    if initiated.server_v3 && signed_lpa != initiated.lpa_rsp_capability {
        return Err(Refusal::LpaRspCapabilityChanged);
    }
    Ok(ClientVerified {
        eid,
        matching_id: ctx.matching_id.clone().filter(|m| !m.is_empty()),
        euicc_info2: signed1.euicc_info2.clone(),
        euicc_certificate: ok.euicc_certificate.der().to_vec(),
        eum_certificate: ok.next_cert_in_chain.der().to_vec(),
        euicc_signature1: ok.euicc_signature1.clone(),
        initiated: initiated.clone(),
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
