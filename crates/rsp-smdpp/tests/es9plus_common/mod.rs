//! Shared test support: the SGP.26 identity of the SM-DP+, a TS.48 inventory, orders, and a
//! test eUICC (+ LPA) that builds its messages with the rsp-sgp22 types and signs with the
//! SGP.26 eUICC key, checking the server's signatures as a real eUICC would.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::sync::Arc;

use rsp_crypto::ecc::{PrivateKey, PublicKey};
use rsp_crypto::x509::Certificate as X509;
use rsp_sgp22::bpp::{self, BppEvent, BppLoader, LoaderConfig};
use rsp_sgp22::{
    AuthenticateClientOk, AuthenticateResponseOk, AuthenticateServerResponse, BitString,
    CancelSessionResponse, CancelSessionResponseOk, Certificate, CtxParams1,
    CtxParamsForCommonAuthentication, DeviceCapabilities, DeviceInfo, EuiccCancelSessionSigned,
    EuiccInfo1, EuiccInfo2, EuiccRspCapability, EuiccSigned1, EuiccSigned2, FinalResult,
    InitiateAuthenticationOk, InitiateAuthenticationRequest, LpaRspCapability, NotificationEvent,
    NotificationMetadata, Octet16, OtherSignedNotification, PrepareDownloadResponse,
    PrepareDownloadResponseOk, Profile, ProfileInstallationResult, ProfileInstallationResultData,
    SeqOf, Signed, SuccessResult, TransactionId,
};
use rsp_smdpp::es9plus::{Es9Config, Es9Service};
use rsp_smdpp::identity::{CurvePaths, SmdpIdentity, TlsIdentity};
use rsp_smdpp::inventory::{
    AllocationRequest, IccidRange, Inventory, ProfileMetadata, ProfileTypeConfig, upp_iccid,
};
use rsp_smdpp::order::{ConfirmRequest, OrderLimits, Orders, StoredOrder, matching_id_claim};
use rsp_store::Store;
use rsp_types::{Eid, Iccid, Oid, Svn};
use time::OffsetDateTime;

pub const ADDRESS: &str = "testsmdpplus1.example.com";
pub const OPERATOR: &str = "test.operator.com";

pub fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

pub fn sgp26() -> PathBuf {
    dir().join("sgp26")
}

pub fn read(name: &str) -> Vec<u8> {
    std::fs::read(sgp26().join(name)).unwrap()
}

pub fn key(name: &str) -> PrivateKey {
    PrivateKey::from_pem(&String::from_utf8(read(name)).unwrap()).unwrap()
}

pub fn cert(name: &str) -> X509 {
    X509::from_der_or_pem(&read(name)).unwrap()
}

/// The SM-DP+ identity with the SGP.26 DPauth/DPpb of `variants` ("NIST", "BRP") and a DPtls
/// minted for [`ADDRESS`] under the SGP.26 NIST CI.
pub fn identity(variants: &[&str]) -> SmdpIdentity {
    let now = OffsetDateTime::now_utc();
    let curves = variants
        .iter()
        .map(|v| CurvePaths::sgp26(&sgp26(), v).load(now).unwrap())
        .collect();
    let tls = TlsIdentity::mint(
        &cert("CERT_CI_ECDSA_NIST.der"),
        &key("SK_CI_ECDSA_NIST.pem"),
        ADDRESS,
        Some(&"2.999.10".parse::<Oid>().unwrap()),
        now,
        30,
    )
    .unwrap();
    SmdpIdentity::new(ADDRESS, curves, tls).unwrap()
}

pub fn template() -> Vec<u8> {
    std::fs::read(dir().join("SAIP2.3_NoBERTLV.der")).unwrap()
}

/// One profile type "TS48" (ten ICCIDs from the template's), in package versions `versions`.
pub fn inventory(versions: &[Svn]) -> Inventory {
    let template = template();
    let first = upp_iccid(&template).unwrap();
    Inventory::new(vec![ProfileTypeConfig {
        name: "TS48".into(),
        template,
        iccids: IccidRange { first, count: 10 },
        package_versions: versions.to_vec(),
        operators: None,
        metadata: ProfileMetadata {
            service_provider_name: "rsp test".into(),
            profile_name: "TS.48 test profile".into(),
            profile_class: Some(2),
            ppr_ids: vec![],
            notifications: vec![],
        },
    }])
    .unwrap()
}

pub async fn store(dir: &tempfile::TempDir, name: &str) -> Arc<dyn Store> {
    rsp_store::open(&format!(
        "sqlite://{}",
        dir.path().join(format!("{name}.sqlite")).display()
    ))
    .await
    .unwrap()
}

pub struct Server {
    pub service: Es9Service,
    pub orders: Orders,
    pub inventory: Arc<Inventory>,
    pub identity: Arc<SmdpIdentity>,
}

pub fn server(cfg: Es9Config, store: Arc<dyn Store>, variants: &[&str]) -> Server {
    let identity = Arc::new(identity(variants));
    let inventory = Arc::new(inventory(&[Svn::new(2, 3, 0), Svn::new(3, 1, 0)]));
    server_with(cfg, store, identity, inventory)
}

pub fn server_with(
    cfg: Es9Config,
    store: Arc<dyn Store>,
    identity: Arc<SmdpIdentity>,
    inventory: Arc<Inventory>,
) -> Server {
    Server {
        service: Es9Service::new(cfg, identity.clone(), inventory.clone(), store.clone()),
        orders: Orders::new(store),
        inventory,
        identity,
    }
}

/// A released order for `matching_id` (EID-bound when `eid` is given), with an optional
/// Confirmation Code.
pub async fn order(
    s: &Server,
    matching_id: &str,
    eid: Option<Eid>,
    cc: Option<&str>,
) -> StoredOrder {
    let now = OffsetDateTime::now_utc();
    let req = AllocationRequest {
        operator: OPERATOR.into(),
        eid,
        iccid: None,
        profile_type: Some("TS48".into()),
        expires_at: None,
        limits: OrderLimits::default(),
    };
    let mut stored = s.inventory.allocate(&s.orders, &req, now).await.unwrap();
    let confirm = ConfirmRequest {
        eid: None,
        matching_id: Some(matching_id.into()),
        confirmation_code: cc.map(str::to_string),
        smds_address: None,
        release_flag: true,
    };
    stored
        .order
        .confirm(OPERATOR, &confirm, matching_id)
        .unwrap();
    let iccid = stored.order.iccid;
    s.orders
        .save(&stored, vec![matching_id_claim(matching_id, &iccid)], now)
        .await
        .unwrap()
}

pub fn v2() -> Svn {
    Svn::new(2, 2, 2)
}

pub fn v3() -> Svn {
    Svn::new(3, 1, 0)
}

/// The test eUICC and its LPA.
pub struct TestEuicc {
    pub variant: &'static str,
    pub certificate: Vec<u8>,
    pub eum: Vec<u8>,
    pub key: PrivateKey,
    pub eid: Eid,
    /// A v3 eUICC (highestSvn 3.1.0, euiccRspCapability in Info1) with a v3 LPA.
    pub v3: bool,
    /// CI ids for signing / verification (default: its own CI).
    pub signing: Vec<Vec<u8>>,
    pub verification: Vec<Vec<u8>>,
    pub euicc_cap: EuiccRspCapability,
    pub lpa_cap: LpaRspCapability,
    pub base_package: Svn,
    pub additional_packages: Vec<Svn>,
    otsk: Option<PrivateKey>,
    euicc_signature1: Vec<u8>,
    pub server_profile: Option<Profile>,
}

impl TestEuicc {
    pub fn new(variant: &'static str, v3: bool) -> TestEuicc {
        let c = cert(&format!("CERT_EUICC_ECDSA_{variant}.der"));
        let ci = cert(&format!("CERT_CI_ECDSA_{variant}.der"));
        let ci_id = ci.subject_key_id().unwrap().to_vec();
        TestEuicc {
            variant,
            certificate: c.der().to_vec(),
            eum: read(&format!("CERT_EUM_ECDSA_{variant}.der")),
            key: key(&format!("SK_EUICC_ECDSA_{variant}.pem")),
            eid: c.eid().unwrap().parse().unwrap(),
            v3,
            signing: vec![ci_id.clone()],
            verification: vec![ci_id],
            euicc_cap: if v3 {
                EuiccRspCapability::with_bits(&[
                    EuiccRspCapability::ADDITIONAL_PROFILE,
                    EuiccRspCapability::TEST_PROFILE_SUPPORT,
                    EuiccRspCapability::EUICC_RSP_CAP_IN_INFO1,
                ])
            } else {
                EuiccRspCapability::with_bits(&[EuiccRspCapability::ADDITIONAL_PROFILE])
            },
            lpa_cap: LpaRspCapability::with_bits(&[LpaRspCapability::CERT_CHAIN_V3_SUPPORT]),
            base_package: Svn::new(2, 3, 1),
            additional_packages: if v3 { vec![Svn::new(3, 1, 0)] } else { vec![] },
            otsk: None,
            euicc_signature1: Vec::new(),
            server_profile: None,
        }
    }

    /// The profile the eUICC encodes its own signed data for (its own version).
    pub fn own_profile(&self) -> Profile {
        Profile::new(if self.v3 { v3() } else { Svn::new(2, 2, 2) })
    }

    pub fn info1(&self) -> EuiccInfo1 {
        EuiccInfo1 {
            lowest_svn: Svn::new(2, 2, 0),
            euicc_ci_pk_id_list_for_verification: SeqOf(self.verification.clone()),
            euicc_ci_pk_id_list_for_signing: SeqOf(self.signing.clone()),
            euicc_ci_pk_id_list_for_signing_v3: None,
            euicc_rsp_capability: self.v3.then(|| self.euicc_cap.clone()),
            highest_svn: self.v3.then(v3),
            unknown_tags: vec![],
        }
    }

    pub fn info2(&self) -> EuiccInfo2 {
        EuiccInfo2 {
            base_profile_package_version: self.base_package,
            lowest_svn: Svn::new(2, 2, 0),
            euicc_firmware_version: Svn::new(1, 0, 0),
            ext_card_resource: vec![0x81, 0x01, 0x00, 0x82, 0x04, 0x00, 0x01, 0x00, 0x00],
            uicc_capability: BitString::default(),
            ts102241_version: None,
            global_platform_version: None,
            euicc_rsp_capability: self.euicc_cap.clone(),
            euicc_ci_pk_id_list_for_verification: SeqOf(self.verification.clone()),
            euicc_ci_pk_id_list_for_signing: SeqOf(self.signing.clone()),
            euicc_category: None,
            forbidden_profile_policy_rules: None,
            pp_version: Svn::new(1, 0, 0),
            sas_accreditation_number: "RSP-TEST".into(),
            certification_data_object: None,
            tre_properties: None,
            tre_product_reference: None,
            additional_profile_package_versions: (!self.additional_packages.is_empty())
                .then(|| SeqOf(self.additional_packages.clone())),
            lpa_mode: None,
            euicc_ci_pk_id_list_for_signing_v3: None,
            additional_euicc_info: None,
            highest_svn: self.v3.then(v3),
            iot_specific_info: None,
            unknown_tags: vec![],
        }
    }

    pub fn initiate_request(&self, address: &str) -> InitiateAuthenticationRequest {
        InitiateAuthenticationRequest {
            euicc_challenge: Octet16([0x5A; 16]),
            smdp_address: address.into(),
            euicc_info1: self.info1(),
            lpa_rsp_capability: self.v3.then(|| self.lpa_cap.clone()),
            unknown_tags: vec![],
        }
    }

    pub fn device_info(&self) -> DeviceInfo {
        DeviceInfo {
            tac: vec![0x35, 0x29, 0x06, 0x11],
            device_capabilities: DeviceCapabilities {
                gsm_supported_release: None,
                utran_supported_release: None,
                cdma2000onex_supported_release: None,
                cdma2000hrpd_supported_release: None,
                cdma2000ehrpd_supported_release: None,
                eutran_epc_supported_release: Some(Svn::new(15, 0, 0)),
                contactless_supported_release: None,
                rsp_crl_supported_version: None,
                nr_epc_supported_release: None,
                nr5gc_supported_release: None,
                eutran5gc_supported_release: None,
                lpa_svn: self.v3.then(v3),
                cat_supported_classes: None,
                euicc_form_factor_type: None,
                device_additional_feature_support: None,
                unknown_tags: vec![],
            },
            imei: None,
            preferred_languages: None,
            device_test_mode: None,
            lpa_rsp_capability: self.v3.then(|| self.lpa_cap.clone()),
            unknown_tags: vec![],
        }
    }

    /// ES10b.AuthenticateServer: checks serverSignature1 with serverCertificate, the
    /// euiccChallenge, then signs euiccSigned1.
    pub fn authenticate_server(
        &mut self,
        ok: &InitiateAuthenticationOk,
        matching_id: Option<&str>,
    ) -> AuthenticateServerResponse {
        self.authenticate_server_with(ok, matching_id, self.device_info(), self.info2())
    }

    pub fn authenticate_server_with(
        &mut self,
        ok: &InitiateAuthenticationOk,
        matching_id: Option<&str>,
        device_info: DeviceInfo,
        info2: EuiccInfo2,
    ) -> AuthenticateServerResponse {
        let dp_auth = X509::from_der(ok.server_certificate.der()).unwrap();
        dp_auth
            .public_key()
            .unwrap()
            .verify_raw(ok.server_signed1.raw(), &ok.server_signature1)
            .expect("serverSignature1 verifies with CERT.DPauth");
        let s1 = ok.server_signed1.value();
        assert_eq!(s1.euicc_challenge, Octet16([0x5A; 16]));
        self.server_profile = Some(Profile::new(
            s1.session_context.as_ref().map_or(v2(), |c| c.server_svn),
        ));
        let signed1 = Signed::new(
            EuiccSigned1 {
                transaction_id: s1.transaction_id.clone(),
                server_address: s1.server_address.clone(),
                server_challenge: s1.server_challenge,
                euicc_info2: info2,
                ctx_params1: CtxParams1::CommonAuthentication(CtxParamsForCommonAuthentication {
                    matching_id: matching_id.map(str::to_string),
                    device_info,
                    operation_type: None,
                    iccid: None,
                    matching_id_source: None,
                    vendor_specific_extension: None,
                    unknown_tags: vec![],
                }),
                unknown_tags: vec![],
            },
            &self.own_profile(),
        )
        .unwrap();
        let sig = self.key.sign_raw(signed1.raw()).unwrap().to_vec();
        self.euicc_signature1 = sig.clone();
        AuthenticateServerResponse::Ok(AuthenticateResponseOk {
            euicc_signed1: signed1,
            euicc_signature1: sig,
            euicc_certificate: Certificate(self.certificate.clone()),
            next_cert_in_chain: Certificate(self.eum.clone()),
            other_certs_in_chain: None,
            unknown_tags: vec![],
        })
    }

    /// ES10b.PrepareDownload: checks smdpSignature2 (over smdpSigned2 ‖ euiccSignature1 TLV)
    /// with CERT.DPpb, makes a one-time key (or re-uses it when bppEuiccOtpk names it), signs
    /// euiccSigned2 ‖ smdpSignature2 TLV.
    pub fn prepare_download(
        &mut self,
        ok: &AuthenticateClientOk,
        cc: Option<&str>,
    ) -> PrepareDownloadResponse {
        let dp_pb = X509::from_der(ok.smdp_certificate.der()).unwrap();
        let mut covered = ok.smdp_signed2.raw().to_vec();
        covered.extend(tlv5f37(&self.euicc_signature1));
        dp_pb
            .public_key()
            .unwrap()
            .verify_raw(&covered, &ok.smdp_signature2)
            .expect("smdpSignature2 verifies with CERT.DPpb");
        let s2 = ok.smdp_signed2.value();
        let reuse = s2.bpp_euicc_otpk.as_ref().and_then(|want| {
            self.otsk
                .as_ref()
                .filter(|k| k.public_key().to_sec1_uncompressed().as_slice() == want.as_slice())
                .map(|k| k.try_clone().unwrap())
        });
        let otsk = match reuse {
            Some(k) => k,
            None => PrivateKey::generate(dp_pb.public_key().unwrap().curve()).unwrap(),
        };
        let hash_cc = cc.map(|c| {
            rsp_smdpp::order::session_hash_cc(&rsp_smdpp::order::hash_cc(c), &s2.transaction_id)
                .to_vec()
        });
        let signed2 = Signed::new(
            EuiccSigned2 {
                transaction_id: s2.transaction_id.clone(),
                euicc_otpk: otsk.public_key().to_sec1_uncompressed().to_vec(),
                hash_cc,
                unknown_tags: vec![],
            },
            &self.own_profile(),
        )
        .unwrap();
        let mut covered = signed2.raw().to_vec();
        covered.extend(tlv5f37(&ok.smdp_signature2));
        let sig = self.key.sign_raw(&covered).unwrap().to_vec();
        self.otsk = Some(otsk);
        PrepareDownloadResponse::Ok(PrepareDownloadResponseOk {
            euicc_signed2: signed2,
            euicc_signature2: sig,
            unknown_tags: vec![],
        })
    }

    /// Loads the BPP segment by segment (ES10b.LoadBoundProfilePackage); returns the UPP and the
    /// StoreMetadata it carried.
    pub fn load_bpp(
        &mut self,
        tid: &TransactionId,
        bpp: &[u8],
        dp_pb: &[u8],
    ) -> (Vec<u8>, Vec<u8>) {
        let pb = X509::from_der(dp_pb).unwrap().public_key().unwrap().clone();
        let otsk = self.otsk.as_ref().unwrap().try_clone().unwrap();
        let mut loader = BppLoader::new(LoaderConfig::new(
            tid.clone(),
            self.eid.to_bytes(),
            otsk,
            pb,
        ));
        let (mut upp, mut metadata) = (None, None);
        for seg in bpp::segment_bound_profile_package(bpp).unwrap() {
            for ev in loader.load_segment(&seg).unwrap() {
                match ev {
                    BppEvent::Complete(u) => upp = Some(u.to_vec()),
                    BppEvent::StoreMetadata(m) => metadata = Some(m),
                    _ => {}
                }
            }
        }
        (upp.unwrap(), metadata.unwrap())
    }

    pub fn installation_result(
        &self,
        tid: &TransactionId,
        smdp_oid: &Oid,
        iccid: &Iccid,
        final_result: FinalResult,
    ) -> ProfileInstallationResult {
        let data = Signed::new(
            ProfileInstallationResultData {
                transaction_id: tid.clone(),
                notification_metadata: NotificationMetadata {
                    seq_number: 1,
                    profile_management_operation: NotificationEvent::with_bits(&[
                        NotificationEvent::INSTALL,
                    ]),
                    notification_address: ADDRESS.into(),
                    iccid: Some(*iccid),
                    unknown_tags: vec![],
                },
                smdp_oid: smdp_oid.clone(),
                final_result,
                unknown_tags: vec![],
            },
            &self.own_profile(),
        )
        .unwrap();
        let sig = self.key.sign_raw(data.raw()).unwrap().to_vec();
        ProfileInstallationResult {
            profile_installation_result_data: data,
            euicc_sign_pir: sig,
            unknown_tags: vec![],
        }
    }

    pub fn success() -> FinalResult {
        FinalResult::Success(SuccessResult {
            aid: vec![
                0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0x89, 0x00, 0x00,
                0x10, 0x00,
            ],
            sima_response: vec![0x30, 0x03, 0x80, 0x01, 0x00],
            unknown_tags: vec![],
        })
    }

    pub fn other_notification(&self, iccid: &Iccid) -> OtherSignedNotification {
        let tbs = Signed::new(
            NotificationMetadata {
                seq_number: 2,
                profile_management_operation: NotificationEvent::with_bits(&[
                    NotificationEvent::LOCAL_ENABLE,
                ]),
                notification_address: ADDRESS.into(),
                iccid: Some(*iccid),
                unknown_tags: vec![],
            },
            &self.own_profile(),
        )
        .unwrap();
        let sig = self.key.sign_raw(tbs.raw()).unwrap().to_vec();
        OtherSignedNotification {
            tbs_other_notification: tbs,
            euicc_notification_signature: sig,
            euicc_certificate: Certificate(self.certificate.clone()),
            next_cert_in_chain: Certificate(self.eum.clone()),
            other_certs_in_chain: None,
            unknown_tags: vec![],
        }
    }

    pub fn cancel(
        &self,
        tid: &TransactionId,
        smdp_oid: &Oid,
        reason: i64,
    ) -> CancelSessionResponse {
        let signed = Signed::new(
            EuiccCancelSessionSigned {
                transaction_id: tid.clone(),
                smdp_oid: smdp_oid.clone(),
                reason,
                unknown_tags: vec![],
            },
            &self.own_profile(),
        )
        .unwrap();
        let sig = self.key.sign_raw(signed.raw()).unwrap().to_vec();
        CancelSessionResponse::Ok(CancelSessionResponseOk {
            euicc_cancel_session_signed: signed,
            euicc_cancel_session_signature: sig,
            unknown_tags: vec![],
        })
    }
}

pub fn tlv5f37(raw: &[u8]) -> Vec<u8> {
    let mut v = vec![0x5F, 0x37, raw.len() as u8];
    v.extend_from_slice(raw);
    v
}

pub fn public(der: &[u8]) -> PublicKey {
    X509::from_der(der).unwrap().public_key().unwrap().clone()
}
