//! Test doubles: a fake card at the ES10 level and a fake ES9+ server. Neither signs nor
//! verifies anything (the LPA is a transport and checks no signature); they answer with
//! well-formed messages and record what they received.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rsp_lpa::{CardError, Es9Client, Es9Error, Es9Function, Es10Transport};
use rsp_sgp22::der::DecodeError;
use rsp_sgp22::{
    AuthenticateClientOk, AuthenticateClientRequest, AuthenticateResponseError,
    AuthenticateResponseOk, AuthenticateServerRequest, AuthenticateServerResponse, BitString,
    CancelSessionRequest, CancelSessionRequestEs9, CancelSessionResponse, CancelSessionResponseOk,
    Certificate, ErrorResult, EuiccCancelSessionSigned, EuiccInfo1, EuiccInfo2, EuiccRspCapability,
    EuiccSigned1, EuiccSigned2, FinalResult, GetBoundProfilePackageOk,
    GetBoundProfilePackageRequest, GetEuiccChallengeResponse, GetRatResponse,
    InitiateAuthenticationOk, InitiateAuthenticationRequest, NotificationEvent,
    NotificationMetadata, NotificationSentResponse, Octet16, OperatorId, OtherSignedNotification,
    PendingNotification, PprIds, PrepareDownloadRequest, PrepareDownloadResponse,
    PrepareDownloadResponseError, PrepareDownloadResponseOk, Profile, ProfileInfo,
    ProfileInfoListResponse, ProfileInstallationResult, ProfileInstallationResultData,
    ProfilePolicyAuthorisationRule, RawTlv, RetrieveNotificationsListResponse, SeqOf,
    ServerRspCapability, ServerSigned1, SessionContext, Signed, SmdpSigned2, StoreMetadataRequest,
    SuccessResult, TransactionId,
};
use rsp_types::status::StatusCodeData;
use rsp_types::{Iccid, Oid, ReasonCode, SubjectCode, Svn};

pub const V2: Svn = Svn::new(2, 2, 2);
pub const V3: Svn = Svn::new(3, 1, 0);
pub const SMDP: &str = "smdp.example.com";
pub const TXID: [u8; 16] = [0xA5; 16];

pub fn txid() -> TransactionId {
    TransactionId::new(&TXID).unwrap()
}

pub fn iccid() -> Iccid {
    Iccid::with_luhn("8949001234567890123").unwrap()
}

pub fn smdp_oid() -> Oid {
    Oid::new(&[1, 3, 6, 1, 4, 1, 31746, 1]).unwrap()
}

/// A BPP with the shape of SGP.22 §2.5.4: BF36 { BF23 {..}, A0 { 87 }, A1 { 88 }, A3 { 86 86 } }.
/// Segments: BF36+BF23, A0+87, A1, 88, A3, 86, 86 = 7.
pub fn sample_bpp() -> Vec<u8> {
    let isc = vec![0xBF, 0x23, 0x03, 0x82, 0x01, 0x01];
    let a0 = vec![0xA0, 0x04, 0x87, 0x02, 0x11, 0x22];
    let a1 = vec![0xA1, 0x04, 0x88, 0x02, 0x33, 0x44];
    let a3 = vec![0xA3, 0x08, 0x86, 0x02, 0x55, 0x66, 0x86, 0x02, 0x77, 0x88];
    let inner = [isc, a0, a1, a3].concat();
    let mut out = vec![0xBF, 0x36, inner.len() as u8];
    out.extend(inner);
    out
}
pub const SAMPLE_BPP_SEGMENTS: usize = 7;

pub fn metadata(pprs: Option<PprIds>) -> StoreMetadataRequest {
    StoreMetadataRequest {
        iccid: iccid(),
        service_provider_name: "Test Operator".into(),
        profile_name: "Test Profile".into(),
        icon_type: None,
        icon: None,
        profile_class: None,
        notification_configuration_info: None,
        profile_owner: Some(OperatorId {
            mcc_mnc: vec![0x62, 0xF2, 0x10],
            gid1: None,
            gid2: None,
            unknown_tags: vec![],
        }),
        profile_policy_rules: pprs,
        service_specific_data_stored_in_euicc: None,
        service_specific_data_not_stored_in_euicc: None,
        rpm_configuration: None,
        hri_server_address: None,
        lpr_configuration: None,
        enterprise_configuration: None,
        service_description: None,
        device_change_configuration: None,
        unknown_tags: vec![],
    }
}

// ---- the fake card ------------------------------------------------------------------------------

#[derive(Debug, Clone)]
pub struct FakeCardConfig {
    /// highestSvn (None: a v2 card).
    pub highest_svn: Option<Svn>,
    pub capability: EuiccRspCapability,
    pub authenticate_server_error: Option<i64>,
    pub prepare_download_error: Option<i64>,
    /// Fail the APDU exchange of this (1-based) BPP segment.
    pub fail_segment: Option<usize>,
    /// Answer the Profile Installation Result after this many segments.
    pub segments_until_result: usize,
    /// Make the result an errorResult (bppCommandId, errorReason).
    pub install_error: Option<(i64, i64)>,
    pub rat: Vec<ProfilePolicyAuthorisationRule>,
    pub installed: Vec<ProfileInfo>,
    pub pending: Vec<PendingNotification>,
}

impl FakeCardConfig {
    pub fn v2() -> Self {
        FakeCardConfig {
            highest_svn: None,
            capability: EuiccRspCapability::with_bits(&[0]),
            authenticate_server_error: None,
            prepare_download_error: None,
            fail_segment: None,
            segments_until_result: SAMPLE_BPP_SEGMENTS,
            install_error: None,
            rat: vec![],
            installed: vec![],
            pending: vec![],
        }
    }

    pub fn v3() -> Self {
        FakeCardConfig {
            highest_svn: Some(V3),
            capability: EuiccRspCapability::with_bits(&[
                EuiccRspCapability::ADDITIONAL_PROFILE,
                EuiccRspCapability::CERT_CHAIN_V3_VERIFICATION_SUPPORT,
                EuiccRspCapability::EUICC_RSP_CAP_IN_INFO1,
            ]),
            ..Self::v2()
        }
    }
}

#[derive(Debug, Default)]
pub struct CardState {
    pub segments: usize,
    pub seq: i64,
    pub removed: Vec<i64>,
    pub cancelled: Vec<(Vec<u8>, i64)>,
    pub pending: Vec<PendingNotification>,
}

#[derive(Clone)]
pub struct FakeCard {
    pub config: FakeCardConfig,
    pub state: Arc<Mutex<CardState>>,
}

fn dec(function: &'static str) -> impl Fn(DecodeError) -> CardError {
    move |source| CardError::Decode { function, source }
}

impl FakeCard {
    pub fn new(config: FakeCardConfig) -> Self {
        let state = CardState {
            seq: 10,
            pending: config.pending.clone(),
            ..CardState::default()
        };
        FakeCard {
            config,
            state: Arc::new(Mutex::new(state)),
        }
    }

    fn own(&self) -> Profile {
        Profile::new(self.config.highest_svn.unwrap_or(Svn::new(2, 2, 0)))
    }

    pub fn info1(&self) -> EuiccInfo1 {
        let v3 = self.config.highest_svn.is_some();
        EuiccInfo1 {
            lowest_svn: Svn::new(2, 2, 0),
            euicc_ci_pk_id_list_for_verification: SeqOf(vec![vec![0xF5; 20]]),
            euicc_ci_pk_id_list_for_signing: SeqOf(vec![vec![0xF5; 20]]),
            euicc_ci_pk_id_list_for_signing_v3: None,
            euicc_rsp_capability: v3.then(|| self.config.capability.clone()),
            highest_svn: self.config.highest_svn,
            unknown_tags: vec![],
        }
    }

    pub fn info2(&self) -> EuiccInfo2 {
        EuiccInfo2 {
            base_profile_package_version: Svn::new(2, 3, 0),
            lowest_svn: Svn::new(2, 2, 0),
            euicc_firmware_version: Svn::new(1, 0, 0),
            ext_card_resource: vec![0x81, 0x01, 0x00],
            uicc_capability: BitString::default(),
            ts102241_version: None,
            global_platform_version: None,
            euicc_rsp_capability: self.config.capability.clone(),
            euicc_ci_pk_id_list_for_verification: SeqOf(vec![vec![0xF5; 20]]),
            euicc_ci_pk_id_list_for_signing: SeqOf(vec![vec![0xF5; 20]]),
            euicc_category: None,
            forbidden_profile_policy_rules: None,
            pp_version: Svn::new(0, 0, 1),
            sas_accreditation_number: "SAS".into(),
            certification_data_object: None,
            tre_properties: None,
            tre_product_reference: None,
            additional_profile_package_versions: None,
            lpa_mode: None,
            euicc_ci_pk_id_list_for_signing_v3: None,
            additional_euicc_info: None,
            highest_svn: self.config.highest_svn,
            iot_specific_info: None,
            unknown_tags: vec![],
        }
    }

    fn pir(&self, transaction_id: TransactionId, seq: i64) -> ProfileInstallationResult {
        let final_result = match self.config.install_error {
            None => FinalResult::Success(SuccessResult {
                aid: vec![0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0x01],
                sima_response: vec![0x30, 0x00],
                unknown_tags: vec![],
            }),
            Some((bpp_command_id, error_reason)) => FinalResult::Error(ErrorResult {
                bpp_command_id,
                error_reason,
                sima_response: None,
                unknown_tags: vec![],
            }),
        };
        let data = ProfileInstallationResultData {
            transaction_id,
            notification_metadata: NotificationMetadata {
                seq_number: seq,
                profile_management_operation: NotificationEvent::with_bits(&[0]),
                notification_address: SMDP.into(),
                iccid: Some(iccid()),
                unknown_tags: vec![],
            },
            smdp_oid: smdp_oid(),
            final_result,
            unknown_tags: vec![],
        };
        ProfileInstallationResult {
            profile_installation_result_data: Signed::new(data, &self.own()).unwrap(),
            euicc_sign_pir: vec![0x11; 64],
            unknown_tags: vec![],
        }
    }
}

/// An OtherSignedNotification (enable) to `address` with `seq`.
pub fn other_notification(seq: i64, address: &str) -> PendingNotification {
    let meta = NotificationMetadata {
        seq_number: seq,
        profile_management_operation: NotificationEvent::with_bits(&[
            NotificationEvent::LOCAL_ENABLE,
        ]),
        notification_address: address.into(),
        iccid: Some(iccid()),
        unknown_tags: vec![],
    };
    PendingNotification::OtherSignedNotification(OtherSignedNotification {
        tbs_other_notification: Signed::new(meta, &Profile::new(V2)).unwrap(),
        euicc_notification_signature: vec![0x22; 64],
        euicc_certificate: Certificate(vec![0x30, 0x00]),
        next_cert_in_chain: Certificate(vec![0x30, 0x00]),
        other_certs_in_chain: None,
        unknown_tags: vec![],
    })
}

impl Es10Transport for FakeCard {
    fn transmit_es10(&mut self, command: &[u8]) -> Result<Vec<u8>, CardError> {
        let own = self.own();
        let enc = |r: Result<Vec<u8>, rsp_sgp22::der::EncodeError>| {
            r.map_err(|e| CardError::Transport(e.to_string()))
        };
        match command {
            [0xBF, 0x2E, ..] => enc(GetEuiccChallengeResponse {
                euicc_challenge: Octet16([0x5C; 16]),
                unknown_tags: vec![],
            }
            .encode(&own)),
            [0xBF, 0x20, ..] => enc(self.info1().encode(&own)),
            [0xBF, 0x22, ..] => enc(self.info2().encode(&own)),
            [0xBF, 0x38, ..] => {
                let req = AuthenticateServerRequest::decode(command)
                    .map_err(dec("AuthenticateServer"))?;
                let tid = req.server_signed1.value().transaction_id.clone();
                let resp = match self.config.authenticate_server_error {
                    Some(code) => AuthenticateServerResponse::Error(AuthenticateResponseError {
                        transaction_id: tid,
                        authenticate_error_code: code,
                        unknown_tags: vec![],
                    }),
                    None => {
                        let signed = EuiccSigned1 {
                            transaction_id: tid,
                            server_address: req.server_signed1.value().server_address.clone(),
                            server_challenge: req.server_signed1.value().server_challenge,
                            euicc_info2: self.info2(),
                            ctx_params1: req.ctx_params1.clone(),
                            unknown_tags: vec![],
                        };
                        AuthenticateServerResponse::Ok(AuthenticateResponseOk {
                            euicc_signed1: Signed::new(signed, &own).unwrap(),
                            euicc_signature1: vec![0x33; 64],
                            euicc_certificate: Certificate(vec![0x30, 0x01, 0xEE]),
                            next_cert_in_chain: Certificate(vec![0x30, 0x01, 0xDD]),
                            other_certs_in_chain: None,
                            unknown_tags: vec![],
                        })
                    }
                };
                enc(resp.encode(&own))
            }
            [0xBF, 0x21, ..] => {
                let req =
                    PrepareDownloadRequest::decode(command).map_err(dec("PrepareDownload"))?;
                let tid = req.smdp_signed2.value().transaction_id.clone();
                let resp = match self.config.prepare_download_error {
                    Some(code) => PrepareDownloadResponse::Error(PrepareDownloadResponseError {
                        transaction_id: tid,
                        download_error_code: code,
                        unknown_tags: vec![],
                    }),
                    None => PrepareDownloadResponse::Ok(PrepareDownloadResponseOk {
                        euicc_signed2: Signed::new(
                            EuiccSigned2 {
                                transaction_id: tid,
                                euicc_otpk: vec![0x04; 65],
                                hash_cc: req.hash_cc.clone(),
                                unknown_tags: vec![],
                            },
                            &own,
                        )
                        .unwrap(),
                        euicc_signature2: vec![0x44; 64],
                        unknown_tags: vec![],
                    }),
                };
                enc(resp.encode(&own))
            }
            [0xBF, 0x36, ..] | [0xA0, ..] | [0xA1, ..] | [0xA3, ..] | [0x88, ..] | [0x86, ..] => {
                let mut st = self.state.lock().unwrap();
                st.segments += 1;
                if self.config.fail_segment == Some(st.segments) {
                    return Err(CardError::Apdu {
                        function: "LoadBoundProfilePackage",
                        source: rsp_sgp22::es10::Es10Error::Status {
                            sw: 0x6A80,
                            block: Some(0),
                        },
                    });
                }
                if st.segments == self.config.segments_until_result {
                    st.seq += 1;
                    let seq = st.seq;
                    drop(st);
                    let pir = self.pir(txid(), seq);
                    self.state
                        .lock()
                        .unwrap()
                        .pending
                        .push(PendingNotification::ProfileInstallationResult(pir.clone()));
                    return enc(pir.encode(&own));
                }
                Ok(vec![])
            }
            [0xBF, 0x41, ..] => {
                let req = CancelSessionRequest::decode(command).map_err(dec("CancelSession"))?;
                self.state
                    .lock()
                    .unwrap()
                    .cancelled
                    .push((req.transaction_id.as_bytes().to_vec(), req.reason));
                let resp = CancelSessionResponse::Ok(CancelSessionResponseOk {
                    euicc_cancel_session_signed: Signed::new(
                        EuiccCancelSessionSigned {
                            transaction_id: req.transaction_id,
                            smdp_oid: smdp_oid(),
                            reason: req.reason,
                            unknown_tags: vec![],
                        },
                        &own,
                    )
                    .unwrap(),
                    euicc_cancel_session_signature: vec![0x55; 64],
                    unknown_tags: vec![],
                });
                enc(resp.encode(&own))
            }
            [0xBF, 0x43, ..] => enc(GetRatResponse {
                rat: SeqOf(self.config.rat.clone()),
                unknown_tags: vec![],
            }
            .encode(&own)),
            [0xBF, 0x2D, ..] => {
                enc(ProfileInfoListResponse::Ok(SeqOf(self.config.installed.clone())).encode(&own))
            }
            [0xBF, 0x2B, ..] => {
                let pending = self.state.lock().unwrap().pending.clone();
                enc(RetrieveNotificationsListResponse::Ok(SeqOf(pending)).encode(&own))
            }
            [0xBF, 0x30, ..] => {
                let req = rsp_sgp22::NotificationSentRequest::decode(command)
                    .map_err(dec("RemoveNotificationFromList"))?;
                let mut st = self.state.lock().unwrap();
                st.removed.push(req.seq_number);
                st.pending.retain(|n| seq_of(n) != req.seq_number);
                enc(NotificationSentResponse {
                    delete_notification_status: 0,
                    unknown_tags: vec![],
                }
                .encode(&own))
            }
            _ => Err(CardError::Apdu {
                function: "ES10",
                source: rsp_sgp22::es10::Es10Error::Status {
                    sw: 0x6D00,
                    block: Some(0),
                },
            }),
        }
    }
}

pub fn seq_of(n: &PendingNotification) -> i64 {
    match n {
        PendingNotification::ProfileInstallationResult(p) => {
            p.profile_installation_result_data
                .value()
                .notification_metadata
                .seq_number
        }
        PendingNotification::OtherSignedNotification(o) => {
            o.tbs_other_notification.value().seq_number
        }
    }
}

/// A RAT entry allowing `pprs` for every operator.
pub fn rat_all(pprs: &[usize], consent: bool) -> ProfilePolicyAuthorisationRule {
    let mut flags = BitString::default();
    flags.set(0, consent);
    ProfilePolicyAuthorisationRule {
        ppr_ids: PprIds::with_bits(pprs),
        allowed_operators: SeqOf(vec![OperatorId {
            mcc_mnc: vec![0xEE, 0xEE, 0xEE],
            gid1: None,
            gid2: None,
            unknown_tags: vec![],
        }]),
        ppr_flags: flags,
        unknown_tags: vec![],
    }
}

// ---- the fake server ----------------------------------------------------------------------------

/// One call the fake server received: function, address, receiver profile, request DER.
#[derive(Debug, Clone)]
pub struct ServerCall {
    pub function: Es9Function,
    pub address: String,
    pub peer: Profile,
    pub der: Vec<u8>,
}

#[derive(Clone)]
pub struct FakeServer {
    pub v3: bool,
    pub cc_required: bool,
    pub pprs: Option<PprIds>,
    /// Errors to answer, by function (consumed in order).
    pub errors: Arc<Mutex<VecDeque<(Es9Function, Es9Error)>>>,
    /// Addresses whose HandleNotification fails.
    pub unreachable: Vec<String>,
    pub calls: Arc<Mutex<Vec<ServerCall>>>,
}

impl FakeServer {
    pub fn new(v3: bool) -> Self {
        FakeServer {
            v3,
            cc_required: false,
            pprs: None,
            errors: Arc::default(),
            unreachable: vec![],
            calls: Arc::default(),
        }
    }

    pub fn fail(self, function: Es9Function, subject: &str, reason: &str) -> Self {
        let status = StatusCodeData::new(
            SubjectCode::new(subject).unwrap(),
            ReasonCode::new(reason).unwrap(),
        );
        self.errors.lock().unwrap().push_back((
            function,
            Es9Error::Failed {
                function,
                status: Box::new(status),
            },
        ));
        self
    }

    pub fn functions(&self) -> Vec<Es9Function> {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .map(|c| c.function)
            .collect()
    }

    pub fn calls_of(&self, f: Es9Function) -> Vec<ServerCall> {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .filter(|c| c.function == f)
            .cloned()
            .collect()
    }

    fn record(
        &self,
        function: Es9Function,
        address: &str,
        peer: &Profile,
        der: Vec<u8>,
    ) -> Result<(), Es9Error> {
        self.calls.lock().unwrap().push(ServerCall {
            function,
            address: address.into(),
            peer: *peer,
            der,
        });
        let mut errors = self.errors.lock().unwrap();
        if errors.front().is_some_and(|(f, _)| *f == function)
            && let Some((_, e)) = errors.pop_front()
        {
            return Err(e);
        }
        Ok(())
    }
}

#[async_trait]
impl Es9Client for FakeServer {
    async fn initiate_authentication(
        &mut self,
        address: &str,
        request: &InitiateAuthenticationRequest,
        peer: &Profile,
    ) -> Result<InitiateAuthenticationOk, Es9Error> {
        self.record(
            Es9Function::InitiateAuthentication,
            address,
            peer,
            request.encode(peer).unwrap(),
        )?;
        let own = Profile::new(if self.v3 { V3 } else { Svn::new(2, 1, 0) });
        let signed = ServerSigned1 {
            transaction_id: txid(),
            euicc_challenge: request.euicc_challenge,
            server_address: address.into(),
            server_challenge: Octet16([0x77; 16]),
            session_context: self.v3.then(|| SessionContext {
                server_svn: V3,
                crl_stapling_v3_used: false,
                euicc_ci_pk_id_to_be_used_v3: None,
                supported_push_services: None,
                unknown_tags: vec![],
            }),
            server_rsp_capability: self.v3.then(ServerRspCapability::default),
            unknown_tags: vec![],
        };
        Ok(InitiateAuthenticationOk {
            transaction_id: txid(),
            server_signed1: Signed::new(signed, &own).unwrap(),
            server_signature1: vec![0x66; 64],
            euicc_ci_pk_id_to_be_used: vec![0xF5; 20],
            server_certificate: Certificate(vec![0x30, 0x01, 0xAA]),
            other_certs_in_chain: None,
            crl_list: None,
            unknown_tags: vec![],
        })
    }

    async fn authenticate_client(
        &mut self,
        address: &str,
        request: &AuthenticateClientRequest,
        peer: &Profile,
    ) -> Result<AuthenticateClientOk, Es9Error> {
        self.record(
            Es9Function::AuthenticateClient,
            address,
            peer,
            request.encode(peer).unwrap(),
        )?;
        let signed2 = SmdpSigned2 {
            transaction_id: txid(),
            cc_required_flag: self.cc_required,
            bpp_euicc_otpk: None,
            rpm_pending: None,
            unknown_tags: vec![],
        };
        Ok(AuthenticateClientOk {
            transaction_id: txid(),
            profile_metadata: metadata(self.pprs.clone()),
            smdp_signed2: Signed::new(signed2, peer).unwrap(),
            smdp_signature2: vec![0x88; 64],
            smdp_certificate: Certificate(vec![0x30, 0x01, 0xBB]),
            unknown_tags: vec![],
        })
    }

    async fn get_bound_profile_package(
        &mut self,
        address: &str,
        request: &GetBoundProfilePackageRequest,
        peer: &Profile,
    ) -> Result<GetBoundProfilePackageOk, Es9Error> {
        self.record(
            Es9Function::GetBoundProfilePackage,
            address,
            peer,
            request.encode(peer).unwrap(),
        )?;
        Ok(GetBoundProfilePackageOk {
            transaction_id: txid(),
            bound_profile_package: RawTlv(sample_bpp()),
            unknown_tags: vec![],
        })
    }

    async fn handle_notification(
        &mut self,
        address: &str,
        notification: &PendingNotification,
        peer: &Profile,
    ) -> Result<(), Es9Error> {
        self.record(
            Es9Function::HandleNotification,
            address,
            peer,
            notification.encode(peer).unwrap(),
        )?;
        if self.unreachable.iter().any(|a| a == address) {
            return Err(Es9Error::Transport {
                function: Es9Function::HandleNotification,
                message: "unreachable".into(),
            });
        }
        Ok(())
    }

    async fn cancel_session(
        &mut self,
        address: &str,
        request: &CancelSessionRequestEs9,
        peer: &Profile,
    ) -> Result<(), Es9Error> {
        self.record(
            Es9Function::CancelSession,
            address,
            peer,
            request.encode(peer).unwrap(),
        )
    }
}
