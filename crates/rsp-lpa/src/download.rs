//! The LPA procedures: profile download (sgp22.md §4, §5), notification delivery (§12) and the
//! local profile operations (§13), over an [`Es10Transport`] and an [`Es9Client`].
//!
//! Download steps: GetEUICCChallenge, GetEUICCInfo1/2 → InitiateAuthentication →
//! AuthenticateServer (ctxParams1 = CtxParamsForCommonAuthentication with the MatchingID and
//! DeviceInfo) → AuthenticateClient → pre-download checks (GetRAT + GetProfilesInfo: every PPR
//! must be allowed for the Profile Owner) → consent → Confirmation Code → PrepareDownload →
//! GetBoundProfilePackage → LoadBoundProfilePackage segment by segment → the Profile
//! Installation Result to ES9+.HandleNotification → RemoveNotificationFromList.
//!
//! Once a session exists (InitiateAuthentication succeeded) every failure cancels it: ES10b
//! CancelSession on the card, then ES9+ CancelSession with the card's signed answer. The error
//! ([`DownloadError`]) names the step and keeps the server's status code data / error integer
//! or the card's error code, and what the cancellation did.

use std::fmt;

use rsp_sgp22::{
    AuthenticateClientOk, AuthenticateClientRequest, AuthenticateServerRequest,
    AuthenticateServerResponse, CancelSessionRequestEs9, CancelSessionResponse, CtxParams1,
    CtxParamsForCommonAuthentication, FinalResult, GetBoundProfilePackageRequest,
    InitiateAuthenticationRequest, OperatorId, PendingNotification, PprIds, PrepareDownloadRequest,
    PrepareDownloadResponse, Profile, ProfileIdentifier, ProfileInfo, ProfileInstallationResult,
    StoreMetadataRequest, TransactionId, cancel_session_reason, profile_class,
};
use rsp_types::status::StatusCodeData;
use rsp_types::{Eid, Iccid, Svn};
use sha2::{Digest, Sha256};

use crate::card::{CardError, Es10Card, Es10Transport, SegmentResponse};
use crate::config::{Consent, LpaConfig};
use crate::es9::{Es9Client, Es9Error};
use crate::negotiation::{DeviceSide, SessionSide};

/// A step of the download procedure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum DownloadStep {
    /// ES10b.GetEUICCChallenge.
    GetEuiccChallenge,
    /// ES10b.GetEUICCInfo (1 and 2).
    GetEuiccInfo,
    /// ES9+.InitiateAuthentication.
    InitiateAuthentication,
    /// ES10b.AuthenticateServer.
    AuthenticateServer,
    /// ES9+.AuthenticateClient.
    AuthenticateClient,
    /// The LPA's PPR / RAT checks (ES10b.GetRAT, ES10c.GetProfilesInfo).
    PreDownloadChecks,
    /// The user's consent.
    Consent,
    /// The Confirmation Code.
    ConfirmationCode,
    /// ES10b.PrepareDownload.
    PrepareDownload,
    /// ES9+.GetBoundProfilePackage.
    GetBoundProfilePackage,
    /// ES10b.LoadBoundProfilePackage.
    LoadBoundProfilePackage,
    /// ES9+.HandleNotification of the Profile Installation Result.
    HandleNotification,
    /// ES10b.RemoveNotificationFromList.
    RemoveNotificationFromList,
}

impl fmt::Display for DownloadStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// What went wrong in a step.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FailureKind {
    /// The card link or the card's answer failed.
    #[error("{0}")]
    Card(CardError),
    /// The eUICC refused with a function error code (AuthenticateServer's
    /// authenticateErrorCode, PrepareDownload's downloadErrorCode).
    #[error("the eUICC refused with error code {code}")]
    CardRefused {
        /// The code.
        code: i64,
    },
    /// The server failed or refused.
    #[error("{0}")]
    Server(Es9Error),
    /// A PPR of the profile is not allowed by the RAT for its owner (or a PPR1 profile while
    /// an operational profile is installed on a single-enabled-profile eUICC).
    #[error("profile policy rules {pprs:?} not allowed: {why}")]
    PprNotAllowed {
        /// The PPR bits of the profile.
        pprs: Vec<usize>,
        /// Which check failed.
        why: String,
    },
    /// The user refused (or postponed) the profile.
    #[error("the user did not accept the profile (CancelSession reason {reason})")]
    ConsentRefused {
        /// The CancelSession reason sent.
        reason: i64,
    },
    /// The SM-DP+ requires a Confirmation Code and none was given.
    #[error("the SM-DP+ requires a confirmation code and none was given")]
    ConfirmationCodeRequired,
    /// The profile was not installed: the Profile Installation Result carries an errorResult.
    #[error("installation failed: bppCommandId {bpp_command_id}, errorReason {error_reason}")]
    InstallationFailed {
        /// `bppCommandId`.
        bpp_command_id: i64,
        /// `errorReason`.
        error_reason: i64,
    },
    /// A peer broke the protocol (mismatched transactionId, missing result, bad BPP, ...).
    #[error("{0}")]
    Protocol(String),
}

/// What the cancellation did after a failure.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct CancelReport {
    /// The CancelSession reason.
    pub reason: i64,
    /// The card's answer: `Ok(true)` signed, `Ok(false)` an error code, `Err` the link failed.
    pub card: Option<Result<bool, String>>,
    /// The ES9+ CancelSession outcome (`None` if not sent).
    pub server: Option<Result<(), String>>,
}

/// A failed download.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("download failed at {step}: {kind}")]
pub struct DownloadError {
    /// The failing step.
    pub step: DownloadStep,
    /// What went wrong.
    pub kind: FailureKind,
    /// The RSP session's transactionId, once known.
    pub transaction_id: Option<TransactionId>,
    /// What the cancellation did (None: no session to cancel, or the session had ended).
    pub cancel: Option<CancelReport>,
}

impl DownloadError {
    fn new(step: DownloadStep, kind: FailureKind) -> Self {
        DownloadError {
            step,
            kind,
            transaction_id: None,
            cancel: None,
        }
    }

    /// The server's status code data (JSON binding), if the server refused.
    pub fn server_status(&self) -> Option<&StatusCodeData> {
        match &self.kind {
            FailureKind::Server(e) => e.status(),
            _ => None,
        }
    }

    /// The server's error integer (ASN.1 binding), if the server refused.
    pub fn server_code(&self) -> Option<i64> {
        match &self.kind {
            FailureKind::Server(e) => e.code(),
            _ => None,
        }
    }

    /// The card's error code, if the card refused.
    pub fn card_code(&self) -> Option<i64> {
        match &self.kind {
            FailureKind::CardRefused { code } => Some(*code),
            FailureKind::Card(e) => e.card_code(),
            _ => None,
        }
    }
}

/// What to download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadRequest {
    /// The SM-DP+ address (FQDN) of the Activation Code.
    pub smdp_address: String,
    /// The MatchingID of the Activation Code (absent: default SM-DP+ / SM-DS use).
    pub matching_id: Option<String>,
    /// A Confirmation Code for this download (overrides [`LpaConfig::confirmation_code`]).
    pub confirmation_code: Option<String>,
}

impl DownloadRequest {
    /// A request for `smdp_address` with `matching_id`.
    pub fn new(smdp_address: impl Into<String>, matching_id: Option<String>) -> Self {
        DownloadRequest {
            smdp_address: smdp_address.into(),
            matching_id,
            confirmation_code: None,
        }
    }
}

/// Whether the Profile Installation Result reached the SM-DP+.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum ResultDelivery {
    /// Delivered and removed from the card's list.
    Delivered,
    /// Not sent (configuration).
    Skipped,
    /// Sending failed; it stays pending on the card.
    Failed(String),
}

/// A successful download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadOutcome {
    /// The RSP session's transactionId.
    pub transaction_id: TransactionId,
    /// The profile's ICCID.
    pub iccid: Iccid,
    /// The ISD-P AID the card created.
    pub isdp_aid: Vec<u8>,
    /// The profile metadata from AuthenticateClient.
    pub metadata: StoreMetadataRequest,
    /// The device side (LPA ∩ eUICC).
    pub device: DeviceSide,
    /// The session side (device ∩ server).
    pub session: SessionSide,
    /// The Profile Installation Result.
    pub result: ProfileInstallationResult,
    /// Whether it reached the SM-DP+.
    pub delivery: ResultDelivery,
}

/// A progress event, for human output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// A step starts.
    Step(DownloadStep),
    /// Both sides are known.
    Negotiated {
        /// Device side version.
        device: Svn,
        /// Server version.
        server: Svn,
        /// Whether the server is v3.
        server_is_v3: bool,
    },
    /// The profile offered.
    Profile {
        /// ICCID.
        iccid: String,
        /// Service provider name.
        service_provider: String,
        /// Profile name.
        name: String,
    },
    /// A BPP segment was loaded (index, count).
    Segment(usize, usize),
    /// A notification was delivered (seqNumber, address).
    NotificationSent(i64, String),
}

/// `hashCc = SHA256(SHA256(CC) ‖ transactionId)` (sgp22.md §5.1).
pub fn hash_confirmation_code(cc: &str, transaction_id: &TransactionId) -> [u8; 32] {
    let inner = Sha256::digest(cc.as_bytes());
    let mut h = Sha256::new();
    h.update(inner);
    h.update(transaction_id.as_bytes());
    h.finalize().into()
}

/// Whether an OperatorId of a RAT entry covers `owner`: an `E` nibble (either half) in the
/// RAT's mccMnc is a wildcard; an absent or empty RAT gid matches any (sgp22.md §16.5).
pub fn operator_matches(rule: &OperatorId, owner: &OperatorId) -> bool {
    if rule.mcc_mnc.len() != owner.mcc_mnc.len() {
        return false;
    }
    let nibbles_ok = rule.mcc_mnc.iter().zip(&owner.mcc_mnc).all(|(r, o)| {
        let hi = (r >> 4) == 0xE || (r >> 4) == (o >> 4);
        let lo = (r & 0x0F) == 0x0E || (r & 0x0F) == (o & 0x0F);
        hi && lo
    });
    let gid_ok = |rule: &Option<Vec<u8>>, owner: &Option<Vec<u8>>| match rule {
        None => true,
        Some(g) if g.is_empty() => true,
        Some(g) => owner.as_ref() == Some(g),
    };
    nibbles_ok && gid_ok(&rule.gid1, &owner.gid1) && gid_ok(&rule.gid2, &owner.gid2)
}

/// The PPR bits (ppr1, ppr2) set in `pprs`.
fn ppr_bits(pprs: &PprIds) -> Vec<usize> {
    [PprIds::PPR1, PprIds::PPR2]
        .into_iter()
        .filter(|b| pprs.has(*b))
        .collect()
}

/// The RAT check (sgp22.md §16.5): for each PPR of the profile, the first PPAR that names it and
/// whose allowedOperators cover the Profile Owner decides; none → not allowed. Returns whether
/// consent is needed (a deciding PPAR with `consentRequired`).
pub fn check_pprs_against_rat(
    pprs: &PprIds,
    owner: Option<&OperatorId>,
    rat: &[rsp_sgp22::ProfilePolicyAuthorisationRule],
) -> Result<bool, String> {
    let mut consent = false;
    for bit in ppr_bits(pprs) {
        let Some(owner) = owner else {
            return Err(format!("PPR{bit} without a Profile Owner"));
        };
        let rule = rat.iter().find(|r| {
            r.ppr_ids.has(bit)
                && r.allowed_operators
                    .iter()
                    .any(|o| operator_matches(o, owner))
        });
        match rule {
            Some(r) => consent |= r.ppr_flags.get(0),
            None => {
                return Err(format!(
                    "no RAT entry allows PPR{bit} for this Profile Owner"
                ));
            }
        }
    }
    Ok(consent)
}

type ProgressFn = Box<dyn FnMut(&Progress) + Send>;

/// An LPA bound to one card and one ES9+ client.
pub struct Lpa<T: Es10Transport, S: Es9Client> {
    pub(crate) config: LpaConfig,
    pub(crate) card: Es10Card<T>,
    server: S,
    progress: Option<ProgressFn>,
}

struct Session {
    address: String,
    transaction_id: TransactionId,
    /// What CancelSession to the card and to the server is encoded for.
    profile: Profile,
    /// Whether the card is v3 (for the v3-only CancelSession reasons).
    card_v3: bool,
}

impl<T: Es10Transport, S: Es9Client> Lpa<T, S> {
    /// An LPA with `config` over `transport` (the card) and `server` (ES9+).
    pub fn new(config: LpaConfig, transport: T, server: S) -> Self {
        Lpa {
            config,
            card: Es10Card::new(transport),
            server,
            progress: None,
        }
    }

    /// Calls `f` on every progress event.
    pub fn on_progress(mut self, f: impl FnMut(&Progress) + Send + 'static) -> Self {
        self.progress = Some(Box::new(f));
        self
    }

    /// The configuration.
    pub fn config(&self) -> &LpaConfig {
        &self.config
    }

    /// The configuration, mutably.
    pub fn config_mut(&mut self) -> &mut LpaConfig {
        &mut self.config
    }

    /// The card.
    pub fn card(&mut self) -> &mut Es10Card<T> {
        &mut self.card
    }

    /// The ES9+ client.
    pub fn server(&mut self) -> &mut S {
        &mut self.server
    }

    /// Gives the card transport and the client back.
    pub fn into_parts(self) -> (T, S) {
        (self.card.into_transport(), self.server)
    }

    pub(crate) fn emit(&mut self, p: Progress) {
        if let Some(f) = self.progress.as_mut() {
            f(&p);
        }
    }

    /// Reads EUICCInfo1 and EUICCInfo2 and decides the device side; the card's commands are
    /// then encoded for it.
    pub fn negotiate_device(&mut self) -> Result<(rsp_sgp22::EuiccInfo1, DeviceSide), CardError> {
        let info1 = self.card.get_euicc_info1()?;
        let info2 = self.card.get_euicc_info2()?;
        let device = DeviceSide::new(&self.config, &info1, Some(&info2));
        self.card.set_profile(device.profile);
        Ok((info1, device))
    }

    /// Downloads and installs one profile.
    pub async fn download(
        &mut self,
        request: &DownloadRequest,
    ) -> Result<DownloadOutcome, DownloadError> {
        use DownloadStep as St;
        let (init, device) = self.cma_initiate_request(&request.smdp_address)?;
        let ok = self
            .server
            .initiate_authentication(&request.smdp_address, &init, &device.profile)
            .await
            .map_err(|e| DownloadError::new(St::InitiateAuthentication, FailureKind::Server(e)))?;
        let session_side = SessionSide::new(
            &device,
            ok.server_signed1.value(),
            self.server.last_admin_protocol(),
        );
        self.emit(Progress::Negotiated {
            device: device.profile.svn,
            server: session_side.server_svn,
            server_is_v3: session_side.server_is_v3,
        });
        let session = Session {
            address: request.smdp_address.clone(),
            transaction_id: ok.transaction_id.clone(),
            profile: session_side.profile,
            card_v3: device.is_v3(),
        };
        if ok.server_signed1.value().transaction_id != ok.transaction_id {
            return Err(self
                .fail(
                    &session,
                    St::InitiateAuthentication,
                    FailureKind::Protocol(
                        "serverSigned1.transactionId differs from transactionId".into(),
                    ),
                    cancel_session_reason::UNDEFINED_REASON,
                )
                .await);
        }

        match self
            .after_authentication(request, &device, &session_side, &session, ok)
            .await
        {
            Ok(outcome) => Ok(outcome),
            Err(Failure::Cancel(step, kind, reason)) => {
                Err(self.fail(&session, step, kind, reason).await)
            }
            Err(Failure::Ended(step, kind)) => Err(DownloadError {
                step,
                kind,
                transaction_id: Some(session.transaction_id.clone()),
                cancel: None,
            }),
        }
    }

    /// CMA, first steps (shared by the ES9+ download and the ES11 discovery): GetEUICCChallenge,
    /// GetEUICCInfo1/2 and the device negotiation, then the InitiateAuthentication request for
    /// `address`. The server is not known yet, so the request is for the device side (a v3
    /// device sends lpaRspCapability, a v2 one no v3 element).
    // DownloadError is the public error of the whole procedure (already returned by value
    // from `download`); boxing it here alone would only add a conversion.
    #[allow(clippy::result_large_err)]
    pub(crate) fn cma_initiate_request(
        &mut self,
        address: &str,
    ) -> Result<(InitiateAuthenticationRequest, DeviceSide), DownloadError> {
        use DownloadStep as St;
        let card_err = |step| move |e: CardError| DownloadError::new(step, FailureKind::Card(e));
        self.emit(Progress::Step(St::GetEuiccChallenge));
        let challenge = self
            .card
            .get_euicc_challenge()
            .map_err(card_err(St::GetEuiccChallenge))?;
        self.emit(Progress::Step(St::GetEuiccInfo));
        let (info1, device) = self
            .negotiate_device()
            .map_err(card_err(St::GetEuiccInfo))?;
        self.emit(Progress::Step(St::InitiateAuthentication));
        let init = InitiateAuthenticationRequest {
            euicc_challenge: challenge,
            smdp_address: address.to_string(),
            euicc_info1: info1,
            lpa_rsp_capability: device.lpa_rsp_capability.clone(),
            unknown_tags: vec![],
        };
        Ok((init, device))
    }

    /// `ctxParamsForCommonAuthentication` with `matching_id` (none for an SM-DS event
    /// retrieval) and this device's DeviceInfo.
    pub(crate) fn common_ctx(
        &self,
        matching_id: Option<String>,
        device: &DeviceSide,
    ) -> CtxParams1 {
        CtxParams1::CommonAuthentication(CtxParamsForCommonAuthentication {
            matching_id,
            device_info: self.config.device_info(device.lpa_rsp_capability.clone()),
            operation_type: None,
            iccid: None,
            matching_id_source: None,
            vendor_specific_extension: None,
            unknown_tags: vec![],
        })
    }

    /// CMA, ES10b.AuthenticateServer with the server's InitiateAuthentication answer (shared by
    /// ES9+ and ES11). AuthenticateServer goes to the eUICC, but its ctxParams1 travels on,
    /// signed, to the server. A v3 server gets the device-side encoding: DeviceInfo carries the
    /// same lpaRspCapability as InitiateAuthentication (its tamper check compares the two,
    /// which also catches a stripped unsigned copy). A v2 server gets the v2 encoding: no v3
    /// element reaches it once its version is known (the card likewise encodes euiccInfo2 for
    /// the server it verified).
    pub(crate) fn cma_authenticate_server(
        &mut self,
        ok: rsp_sgp22::InitiateAuthenticationOk,
        ctx: CtxParams1,
        device: &DeviceSide,
        session_side: &SessionSide,
    ) -> Result<AuthenticateServerResponse, CardError> {
        let card_peer = if session_side.server_is_v3 {
            device.profile
        } else {
            session_side.profile
        };
        self.emit(Progress::Step(DownloadStep::AuthenticateServer));
        let auth_req = AuthenticateServerRequest {
            server_signed1: ok.server_signed1,
            server_signature1: ok.server_signature1,
            euicc_ci_pk_id_to_be_used: ok.euicc_ci_pk_id_to_be_used,
            server_certificate: ok.server_certificate,
            ctx_params1: ctx,
            other_certs_in_chain: ok.other_certs_in_chain,
            crl_list: ok.crl_list,
            unknown_tags: vec![],
        };
        self.card.authenticate_server(&auth_req, &card_peer)
    }

    async fn after_authentication(
        &mut self,
        request: &DownloadRequest,
        device: &DeviceSide,
        session_side: &SessionSide,
        session: &Session,
        ok: rsp_sgp22::InitiateAuthenticationOk,
    ) -> Result<DownloadOutcome, Failure> {
        use DownloadStep as St;
        let peer = session_side.profile;
        let undefined = cancel_session_reason::UNDEFINED_REASON;

        let ctx = self.common_ctx(request.matching_id.clone(), device);
        let auth_resp = self
            .cma_authenticate_server(ok, ctx, device, session_side)
            .map_err(|e| {
                Failure::Cancel(St::AuthenticateServer, FailureKind::Card(e), undefined)
            })?;

        // AuthenticateClient carries the card's answer, an error included (the server then
        // closes its session).
        self.emit(Progress::Step(St::AuthenticateClient));
        let card_error = match &auth_resp {
            AuthenticateServerResponse::Error(e) => Some(e.authenticate_error_code),
            AuthenticateServerResponse::Ok(_) => None,
        };
        let client_req = AuthenticateClientRequest {
            transaction_id: session.transaction_id.clone(),
            authenticate_server_response: auth_resp,
            delete_notification_for_dc: None,
            unknown_tags: vec![],
        };
        let client_result = self
            .server
            .authenticate_client(&session.address, &client_req, &peer)
            .await;
        if let Some(code) = card_error {
            return Err(Failure::Cancel(
                St::AuthenticateServer,
                FailureKind::CardRefused { code },
                undefined,
            ));
        }
        let client_ok: AuthenticateClientOk = client_result.map_err(|e| {
            Failure::Cancel(St::AuthenticateClient, FailureKind::Server(e), undefined)
        })?;
        if client_ok.transaction_id != session.transaction_id
            || client_ok.smdp_signed2.value().transaction_id != session.transaction_id
        {
            return Err(Failure::Cancel(
                St::AuthenticateClient,
                FailureKind::Protocol("AuthenticateClient answered another transactionId".into()),
                undefined,
            ));
        }
        let metadata = client_ok.profile_metadata.clone();
        self.emit(Progress::Profile {
            iccid: metadata.iccid.to_string(),
            service_provider: metadata.service_provider_name.clone(),
            name: metadata.profile_name.clone(),
        });

        // Pre-download checks (the RAT rule exists from v2; GetProfilesInfo is the v3 step).
        self.emit(Progress::Step(St::PreDownloadChecks));
        let consent_needed = self
            .pre_download_checks(&metadata, device.is_v3())
            .map_err(|(kind, reason)| Failure::Cancel(St::PreDownloadChecks, kind, reason))?;

        self.emit(Progress::Step(St::Consent));
        let accepted = match &self.config.consent {
            Consent::AutoAccept => None,
            Consent::Reject => Some(cancel_session_reason::END_USER_REJECTION),
            Consent::Postpone => Some(cancel_session_reason::POSTPONED),
            Consent::Ask(f) => {
                (!f(&metadata, consent_needed)).then_some(cancel_session_reason::END_USER_REJECTION)
            }
        };
        if let Some(reason) = accepted {
            return Err(Failure::Cancel(
                St::Consent,
                FailureKind::ConsentRefused { reason },
                reason,
            ));
        }

        self.emit(Progress::Step(St::ConfirmationCode));
        let hash_cc = if client_ok.smdp_signed2.value().cc_required_flag {
            let cc = request
                .confirmation_code
                .clone()
                .or_else(|| self.config.confirmation_code.clone());
            match cc {
                Some(cc) => Some(hash_confirmation_code(&cc, &session.transaction_id).to_vec()),
                None => {
                    return Err(Failure::Cancel(
                        St::ConfirmationCode,
                        FailureKind::ConfirmationCodeRequired,
                        cancel_session_reason::POSTPONED,
                    ));
                }
            }
        } else {
            None
        };

        self.emit(Progress::Step(St::PrepareDownload));
        let prep_req = PrepareDownloadRequest {
            smdp_signed2: client_ok.smdp_signed2,
            smdp_signature2: client_ok.smdp_signature2,
            hash_cc,
            smdp_certificate: client_ok.smdp_certificate,
            unknown_tags: vec![],
        };
        let prep_resp = self
            .card
            .prepare_download(&prep_req, &device.profile)
            .map_err(|e| Failure::Cancel(St::PrepareDownload, FailureKind::Card(e), undefined))?;
        let prep_error = match &prep_resp {
            PrepareDownloadResponse::Error(e) => Some(e.download_error_code),
            PrepareDownloadResponse::Ok(_) => None,
        };

        // GetBoundProfilePackage carries the card's answer, an error included.
        self.emit(Progress::Step(St::GetBoundProfilePackage));
        let bpp_req = GetBoundProfilePackageRequest {
            transaction_id: session.transaction_id.clone(),
            prepare_download_response: prep_resp,
            unknown_tags: vec![],
        };
        let bpp_result = self
            .server
            .get_bound_profile_package(&session.address, &bpp_req, &peer)
            .await;
        if let Some(code) = prep_error {
            return Err(Failure::Cancel(
                St::PrepareDownload,
                FailureKind::CardRefused { code },
                undefined,
            ));
        }
        let bpp_ok = bpp_result.map_err(|e| {
            Failure::Cancel(
                St::GetBoundProfilePackage,
                FailureKind::Server(e),
                undefined,
            )
        })?;
        if bpp_ok.transaction_id != session.transaction_id {
            return Err(Failure::Cancel(
                St::GetBoundProfilePackage,
                FailureKind::Protocol(
                    "GetBoundProfilePackage answered another transactionId".into(),
                ),
                undefined,
            ));
        }

        // LoadBoundProfilePackage, segment by segment (SGP.22 §2.5.5).
        self.emit(Progress::Step(St::LoadBoundProfilePackage));
        let load_failed = if session.card_v3 {
            cancel_session_reason::LOAD_BPP_EXECUTION_ERROR
        } else {
            undefined
        };
        let segments =
            rsp_sgp22::bpp::segment_bound_profile_package(&bpp_ok.bound_profile_package.0)
                .map_err(|e| {
                    Failure::Cancel(
                        St::LoadBoundProfilePackage,
                        FailureKind::Protocol(format!(
                            "the BoundProfilePackage does not segment: {e}"
                        )),
                        load_failed,
                    )
                })?;
        let count = segments.len();
        let mut result = None;
        for (i, segment) in segments.iter().enumerate() {
            let r = self.card.load_bpp_segment(segment).map_err(|e| {
                Failure::Cancel(
                    St::LoadBoundProfilePackage,
                    FailureKind::Card(e),
                    load_failed,
                )
            })?;
            self.emit(Progress::Segment(i + 1, count));
            if let SegmentResponse::Result(pir) = r {
                result = Some(*pir);
                break;
            }
        }
        let Some(result) = result else {
            return Err(Failure::Cancel(
                St::LoadBoundProfilePackage,
                FailureKind::Protocol("the eUICC gave no Profile Installation Result".into()),
                load_failed,
            ));
        };

        // The Profile Installation Result ends the session on both sides: deliver it, then
        // remove it from the card's list.
        let delivery = self.deliver_result(session, &result).await;
        let data = result.profile_installation_result_data.value().clone();
        match &data.final_result {
            FinalResult::Success(s) => Ok(DownloadOutcome {
                transaction_id: session.transaction_id.clone(),
                iccid: metadata.iccid,
                isdp_aid: s.aid.clone(),
                metadata,
                device: device.clone(),
                session: session_side.clone(),
                result,
                delivery,
            }),
            FinalResult::Error(e) => Err(Failure::Ended(
                St::LoadBoundProfilePackage,
                FailureKind::InstallationFailed {
                    bpp_command_id: e.bpp_command_id,
                    error_reason: e.error_reason,
                },
            )),
        }
    }

    async fn deliver_result(
        &mut self,
        session: &Session,
        result: &ProfileInstallationResult,
    ) -> ResultDelivery {
        if !self.config.deliver_installation_result {
            return ResultDelivery::Skipped;
        }
        self.emit(Progress::Step(DownloadStep::HandleNotification));
        let pending = PendingNotification::ProfileInstallationResult(result.clone());
        if let Err(e) = self
            .server
            .handle_notification(&session.address, &pending, &session.profile)
            .await
        {
            return ResultDelivery::Failed(e.to_string());
        }
        self.emit(Progress::Step(DownloadStep::RemoveNotificationFromList));
        let seq = result
            .profile_installation_result_data
            .value()
            .notification_metadata
            .seq_number;
        match self.card.notification_sent(seq) {
            Ok(0) => ResultDelivery::Delivered,
            Ok(status) => ResultDelivery::Failed(format!(
                "delivered, but RemoveNotificationFromList answered {status}"
            )),
            Err(e) => ResultDelivery::Failed(format!("delivered, but {e}")),
        }
    }

    /// The PPR / RAT checks; returns whether consent is needed.
    #[allow(clippy::result_large_err)]
    fn pre_download_checks(
        &mut self,
        metadata: &StoreMetadataRequest,
        v3: bool,
    ) -> Result<bool, (FailureKind, i64)> {
        let ppr_not_allowed = cancel_session_reason::PPR_NOT_ALLOWED;
        let pprs = metadata.profile_policy_rules.clone().unwrap_or_default();
        let bits = ppr_bits(&pprs);
        if bits.is_empty() && !v3 {
            return Ok(false);
        }
        let undefined = cancel_session_reason::UNDEFINED_REASON;
        let rat = self
            .card
            .get_rat()
            .map_err(|e| (FailureKind::Card(e), undefined))?;
        let consent = check_pprs_against_rat(&pprs, metadata.profile_owner.as_ref(), &rat.rat.0)
            .map_err(|why| {
                (
                    FailureKind::PprNotAllowed {
                        pprs: bits.clone(),
                        why,
                    },
                    ppr_not_allowed,
                )
            })?;
        if v3 {
            let installed = self
                .card
                .get_profiles_info(None)
                .map_err(|e| (FailureKind::Card(e), undefined))?;
            let operational = installed.iter().any(|p| {
                p.profile_class.unwrap_or(profile_class::OPERATIONAL) == profile_class::OPERATIONAL
            });
            let new_is_operational = metadata.profile_class.unwrap_or(profile_class::OPERATIONAL)
                == profile_class::OPERATIONAL;
            if pprs.has(PprIds::PPR1)
                && operational
                && new_is_operational
                && !self.config.device.mep
            {
                return Err((
                    FailureKind::PprNotAllowed {
                        pprs: bits,
                        why: "PPR1 profile while an operational profile is installed".into(),
                    },
                    ppr_not_allowed,
                ));
            }
        }
        Ok(consent)
    }

    /// Cancels the session on the card, then at the server, and builds the error.
    async fn fail(
        &mut self,
        session: &Session,
        step: DownloadStep,
        kind: FailureKind,
        reason: i64,
    ) -> DownloadError {
        // v2 cards know reasons 0-3 and 127 only.
        let reason = if !session.card_v3 && reason > cancel_session_reason::PPR_NOT_ALLOWED {
            cancel_session_reason::UNDEFINED_REASON
        } else {
            reason
        };
        tracing::info!(%step, reason, error = %kind, "cancelling the RSP session");
        let mut report = CancelReport {
            reason,
            ..CancelReport::default()
        };
        match self.card.cancel_session(&session.transaction_id, reason) {
            Ok(response) => {
                report.card = Some(Ok(matches!(response, CancelSessionResponse::Ok(_))));
                let request = CancelSessionRequestEs9 {
                    transaction_id: session.transaction_id.clone(),
                    cancel_session_response: response,
                    unknown_tags: vec![],
                };
                let r = self
                    .server
                    .cancel_session(&session.address, &request, &session.profile)
                    .await;
                report.server = Some(r.map_err(|e| e.to_string()));
            }
            Err(e) => report.card = Some(Err(e.to_string())),
        }
        DownloadError {
            step,
            kind,
            transaction_id: Some(session.transaction_id.clone()),
            cancel: Some(report),
        }
    }

    /// Delivers every pending notification (RetrieveNotificationsList → HandleNotification to
    /// each notification's address → RemoveNotificationFromList), in sequence order. A failed
    /// delivery leaves the notification on the card and is reported.
    pub async fn deliver_notifications(&mut self) -> Result<Vec<NotificationReport>, CardError> {
        let (_, device) = self.negotiate_device()?;
        let mut pending = self.card.retrieve_notifications_list(None)?;
        pending.sort_by_key(notification_seq);
        let mut reports = Vec::new();
        for n in pending {
            let (seq, address) = notification_target(&n);
            let outcome = match self
                .server
                .handle_notification(&address, &n, &device.profile)
                .await
            {
                Ok(()) => match self.card.notification_sent(seq) {
                    Ok(status) => {
                        self.emit(Progress::NotificationSent(seq, address.clone()));
                        Ok(status)
                    }
                    Err(e) => Err(e.to_string()),
                },
                Err(e) => Err(e.to_string()),
            };
            reports.push(NotificationReport {
                seq_number: seq,
                address,
                outcome,
            });
        }
        Ok(reports)
    }

    /// The pending notifications' metadata (ES10b.ListNotification).
    pub fn list_notifications(
        &mut self,
    ) -> Result<Vec<rsp_sgp22::NotificationMetadata>, CardError> {
        self.negotiate_device()?;
        self.card.list_notification()
    }

    /// The installed profiles (ES10c.GetProfilesInfo).
    pub fn profiles(&mut self) -> Result<Vec<ProfileInfo>, CardError> {
        self.negotiate_device()?;
        self.card.get_profiles_info(None)
    }

    /// ES10c.EnableProfile; a non-zero result is a [`CardError::Code`].
    pub fn enable(&mut self, profile: ProfileIdentifier) -> Result<(), CardError> {
        let r = self.card.enable_profile(profile, true)?;
        code_result("EnableProfile", r)
    }

    /// ES10c.DisableProfile.
    pub fn disable(&mut self, profile: ProfileIdentifier) -> Result<(), CardError> {
        let r = self.card.disable_profile(profile, true)?;
        code_result("DisableProfile", r)
    }

    /// ES10c.DeleteProfile.
    pub fn delete(&mut self, profile: ProfileIdentifier) -> Result<(), CardError> {
        let r = self.card.delete_profile(profile)?;
        code_result("DeleteProfile", r)
    }

    /// ES10c.GetEID.
    pub fn eid(&mut self) -> Result<Eid, CardError> {
        self.card.get_eid()
    }
}

fn code_result(function: &'static str, code: i64) -> Result<(), CardError> {
    if code == 0 {
        Ok(())
    } else {
        Err(CardError::Code { function, code })
    }
}

/// One pending notification's delivery.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NotificationReport {
    /// seqNumber.
    pub seq_number: i64,
    /// Where it was sent.
    pub address: String,
    /// `Ok(deleteNotificationStatus)` once delivered and removed, or what failed.
    pub outcome: Result<i64, String>,
}

fn notification_meta(n: &PendingNotification) -> &rsp_sgp22::NotificationMetadata {
    match n {
        PendingNotification::ProfileInstallationResult(p) => {
            &p.profile_installation_result_data
                .value()
                .notification_metadata
        }
        PendingNotification::OtherSignedNotification(o) => o.tbs_other_notification.value(),
    }
}

fn notification_seq(n: &PendingNotification) -> i64 {
    notification_meta(n).seq_number
}

fn notification_target(n: &PendingNotification) -> (i64, String) {
    let m = notification_meta(n);
    (m.seq_number, m.notification_address.clone())
}

enum Failure {
    /// Cancel the session with this reason.
    Cancel(DownloadStep, FailureKind, i64),
    /// The session ended on its own (a Profile Installation Result was produced).
    Ended(DownloadStep, FailureKind),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_cc_is_double_sha256() {
        let tid = TransactionId::new(&[0x01, 0x02]).unwrap_or_else(|_| unreachable!());
        let h = hash_confirmation_code("12345678", &tid);
        let inner = Sha256::digest(b"12345678");
        let mut data = inner.to_vec();
        data.extend_from_slice(&[0x01, 0x02]);
        assert_eq!(h.to_vec(), Sha256::digest(&data).to_vec());
        assert_ne!(h, hash_confirmation_code("12345679", &tid));
    }

    #[test]
    fn operator_wildcards() {
        let op = |m: [u8; 3]| OperatorId {
            mcc_mnc: m.to_vec(),
            gid1: None,
            gid2: None,
            unknown_tags: vec![],
        };
        // MCC 262, MNC 01 → 62 F2 10.
        let owner = op([0x62, 0xF2, 0x10]);
        assert!(operator_matches(&op([0x62, 0xF2, 0x10]), &owner));
        assert!(operator_matches(&op([0xEE, 0xEE, 0xEE]), &owner));
        assert!(operator_matches(&op([0x62, 0xF2, 0xEE]), &owner));
        assert!(!operator_matches(&op([0x62, 0xF2, 0x20]), &owner));
        let mut with_gid = op([0xEE, 0xEE, 0xEE]);
        with_gid.gid1 = Some(vec![0x01]);
        assert!(!operator_matches(&with_gid, &owner));
    }
}
