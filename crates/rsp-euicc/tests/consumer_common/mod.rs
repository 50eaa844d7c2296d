//! Test harness for the consumer eUICC: the SGP.26 card from fixtures, an LPA that talks to it
//! only with APDUs (ES10 framing of `rsp_sgp22::es10`), and an SM-DP+ built in the test from the
//! `rsp_sgp22` message types and the SGP.26 DPauth / DPpb keys.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use rsp_crypto::ecc::PrivateKey;
use rsp_crypto::x509::Certificate as X509;
use rsp_euicc::consumer::{ConsumerConfig, ConsumerEuicc};
use rsp_euicc::m2m::CardTime;
use rsp_gp::ApduCard;
use rsp_sgp22::bpp::{self, ProfileSource, SessionBinding};
use rsp_sgp22::es10;
use rsp_sgp22::{
    AuthenticateServerRequest, AuthenticateServerResponse, Certificate, CtxParams1,
    CtxParamsForCommonAuthentication, DeviceCapabilities, DeviceInfo, GetEuiccChallengeRequest,
    GetEuiccChallengeResponse, NotificationConfigurationInformation, NotificationEvent, Octet16,
    OperatorId, PprIds, PrepareDownloadRequest, PrepareDownloadResponse, Profile, ServerSigned1,
    Signed, SmdpSigned2, StoreMetadataRequest, TransactionId,
};
use rsp_types::{Iccid, Oid, Svn};

/// TS.48 v7 generic test profile (GSMA TS.48, Apache-2.0), SAIP 2.3 DER.
pub const TS48_NO_BERTLV: &[u8] = include_bytes!("../fixtures/profiles/SAIP2.3_NoBERTLV.der");
/// TS.48 v7 with BER-TLV files and SUCI.
pub const TS48_BERTLV_SUCI: &[u8] = include_bytes!("../fixtures/profiles/SAIP2.3_BERTLV_SUCI.der");

pub const SGP26_EID: &str = "89049032123451234512345678901235";
pub const SMDP_ADDRESS: &str = "testsmdpplus1.example.com";
/// 2026-12-01, inside the SGP.26 DPauth / DPpb validity.
pub const TEST_TIME: u64 = 1_796_083_200;

pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sgp26")
}

pub fn read(path: &str) -> Vec<u8> {
    std::fs::read(fixtures().join(path)).unwrap()
}

pub fn key(path: &str) -> PrivateKey {
    PrivateKey::from_pem(&String::from_utf8(read(path)).unwrap()).unwrap()
}

pub fn svn(s: &str) -> Svn {
    s.parse().unwrap()
}

/// The SGP.26 test eUICC at version `v`, its clock at [`TEST_TIME`].
pub fn sgp26_card(v: &str) -> ConsumerEuicc {
    sgp26_card_with(ConsumerConfig::new(svn(v)))
}

pub fn sgp26_card_with(config: ConsumerConfig) -> ConsumerEuicc {
    let mut card = ConsumerEuicc::sgp26(&fixtures(), config).unwrap();
    card.set_time(CardTime(TEST_TIME));
    card
}

/// An LPA driving a card over APDUs on a logical channel.
pub struct Lpa<C: ApduCard> {
    pub card: C,
    pub channel: u8,
    /// Block size of the STORE DATA split.
    pub block: usize,
}

impl<C: ApduCard> Lpa<C> {
    /// Resets the card, opens a logical channel and selects the ISD-R on it.
    pub fn open(mut card: C) -> Self {
        card.reset();
        let r = card.transmit(&[0x00, 0x70, 0x00, 0x00, 0x01]);
        assert_eq!(r.len(), 3, "MANAGE CHANNEL open: {r:02X?}");
        assert_eq!(&r[1..], &[0x90, 0x00]);
        let channel = r[0];
        let mut lpa = Lpa {
            card,
            channel,
            block: 255,
        };
        lpa.select_isd_r(rsp_euicc::consumer::DEFAULT_ISD_R_AID);
        lpa
    }

    pub fn select_isd_r(&mut self, aid_hex: &str) -> Vec<u8> {
        let aid = hex::decode(aid_hex).unwrap();
        let mut apdu = vec![
            es10::cla_for_channel(0x00, self.channel).unwrap(),
            0xA4,
            0x04,
            0x00,
        ];
        apdu.push(aid.len() as u8);
        apdu.extend_from_slice(&aid);
        apdu.push(0x00);
        let r = self.card.transmit(&apdu);
        assert_eq!(&r[r.len() - 2..], &[0x90, 0x00], "SELECT ISD-R: {r:02X?}");
        r
    }

    /// One ES10 command, the response TLV (or the card's status word as an error).
    pub fn try_es10(&mut self, command: &[u8]) -> Result<Vec<u8>, es10::Es10Error> {
        let mut ex = es10::CommandExchange::new(command, self.channel, self.block)?;
        let mut step = ex.start()?;
        loop {
            match step {
                es10::Step::Done(r) => return Ok(r),
                es10::Step::Send(apdu) => {
                    let resp = self.card.transmit(&apdu);
                    step = ex.on_response(&resp)?;
                }
            }
        }
    }

    pub fn es10(&mut self, command: &[u8]) -> Vec<u8> {
        self.try_es10(command).unwrap()
    }

    pub fn challenge(&mut self) -> Octet16 {
        let req = GetEuiccChallengeRequest {
            unknown_tags: vec![],
        }
        .encode(&Profile::new(svn("2.2.2")))
        .unwrap();
        GetEuiccChallengeResponse::decode(&self.es10(&req))
            .unwrap()
            .euicc_challenge
    }
}

/// The SM-DP+ of the tests (SGP.26 DPauth / DPpb, NIST).
pub struct Server {
    pub auth_key: PrivateKey,
    pub auth_cert: Vec<u8>,
    pub pb_key: PrivateKey,
    pub pb_cert: Vec<u8>,
    pub address: String,
    pub oid: Oid,
    pub peer: Profile,
    /// The CI the server's certificates chain to (`euiccCiPKIdToBeUsed`).
    pub ci_id: Vec<u8>,
    pub curve: rsp_crypto::ecc::Curve,
}

pub struct AuthState {
    pub transaction_id: TransactionId,
    pub server_challenge: Octet16,
    pub euicc_certificate: X509,
    pub euicc_signature1: Vec<u8>,
}

impl Server {
    pub fn sgp26() -> Server {
        Server {
            auth_key: key("DPauth/SK_S_SM_DPauth_ECDSA_NIST.pem"),
            auth_cert: read("DPauth/CERT_S_SM_DPauth_ECDSA_NIST.der"),
            pb_key: key("DPpb/SK_S_SM_DPpb_ECDSA_NIST.pem"),
            pb_cert: read("DPpb/CERT_S_SM_DPpb_ECDSA_NIST.der"),
            address: SMDP_ADDRESS.into(),
            oid: "2.999.10".parse().unwrap(),
            peer: Profile::new(svn("2.2.2")),
            ci_id: Self::ci_nist_id(),
            curve: rsp_crypto::ecc::Curve::NistP256,
        }
    }

    /// The brainpoolP256r1 SM-DP+ of SGP.26.
    pub fn sgp26_brp() -> Server {
        Server {
            auth_key: key("DPauth/SK_S_SM_DPauth_ECDSA_BRP.pem"),
            auth_cert: read("DPauth/CERT_S_SM_DPauth_ECDSA_BRP.der"),
            pb_key: key("DPpb/SK_S_SM_DPpb_ECDSA_BRP.pem"),
            pb_cert: read("DPpb/CERT_S_SM_DPpb_ECDSA_BRP.der"),
            ci_id: X509::from_der(&read("CertificateIssuer/CERT_CI_ECDSA_BRP.der"))
                .unwrap()
                .subject_key_id()
                .unwrap()
                .to_vec(),
            curve: rsp_crypto::ecc::Curve::BrainpoolP256r1,
            ..Server::sgp26()
        }
    }

    pub fn ci_nist_id() -> Vec<u8> {
        X509::from_der(&read("CertificateIssuer/CERT_CI_ECDSA_NIST.der"))
            .unwrap()
            .subject_key_id()
            .unwrap()
            .to_vec()
    }

    pub fn ctx_params() -> CtxParams1 {
        CtxParams1::CommonAuthentication(CtxParamsForCommonAuthentication {
            matching_id: Some("TEST-MATCHING-ID".into()),
            device_info: DeviceInfo {
                tac: vec![0x35, 0x29, 0x06, 0x11],
                device_capabilities: DeviceCapabilities {
                    gsm_supported_release: None,
                    utran_supported_release: None,
                    cdma2000onex_supported_release: None,
                    cdma2000hrpd_supported_release: None,
                    cdma2000ehrpd_supported_release: None,
                    eutran_epc_supported_release: Some(svn("15.0.0")),
                    contactless_supported_release: None,
                    rsp_crl_supported_version: None,
                    nr_epc_supported_release: None,
                    nr5gc_supported_release: None,
                    eutran5gc_supported_release: None,
                    lpa_svn: None,
                    cat_supported_classes: None,
                    euicc_form_factor_type: None,
                    device_additional_feature_support: None,
                    unknown_tags: vec![],
                },
                imei: None,
                preferred_languages: None,
                device_test_mode: None,
                lpa_rsp_capability: None,
                unknown_tags: vec![],
            },
            operation_type: None,
            iccid: None,
            matching_id_source: None,
            vendor_specific_extension: None,
            unknown_tags: vec![],
        })
    }

    /// ServerSigned1 + serverSignature1 for `euicc_challenge`, with a transaction id.
    pub fn authenticate_request(
        &self,
        euicc_challenge: Octet16,
        transaction_id: &[u8],
    ) -> (AuthenticateServerRequest, Octet16) {
        let server_challenge = Octet16([0x5C; 16]);
        let signed = Signed::new(
            ServerSigned1 {
                transaction_id: TransactionId::new(transaction_id).unwrap(),
                euicc_challenge,
                server_address: self.address.clone(),
                server_challenge,
                session_context: None,
                server_rsp_capability: None,
                unknown_tags: vec![],
            },
            &self.peer,
        )
        .unwrap();
        let signature = self.auth_key.sign_raw(signed.raw()).unwrap().to_vec();
        (
            AuthenticateServerRequest {
                server_signed1: signed,
                server_signature1: signature,
                euicc_ci_pk_id_to_be_used: self.ci_id.clone(),
                server_certificate: Certificate(self.auth_cert.clone()),
                ctx_params1: Self::ctx_params(),
                other_certs_in_chain: None,
                crl_list: None,
                unknown_tags: vec![],
            },
            server_challenge,
        )
    }

    /// CMA against the card; checks euiccSignature1 with the returned eUICC certificate.
    pub fn authenticate<C: ApduCard>(&self, lpa: &mut Lpa<C>, tid: &[u8]) -> AuthState {
        let challenge = lpa.challenge();
        let (req, server_challenge) = self.authenticate_request(challenge, tid);
        let resp = lpa.es10(&req.encode(&self.peer).unwrap());
        let AuthenticateServerResponse::Ok(ok) = AuthenticateServerResponse::decode(&resp).unwrap()
        else {
            panic!("AuthenticateServer failed: {resp:02X?}");
        };
        let euicc_cert = X509::from_der(ok.euicc_certificate.der()).unwrap();
        euicc_cert
            .public_key()
            .unwrap()
            .verify_raw(ok.euicc_signed1.raw(), &ok.euicc_signature1)
            .expect("euiccSignature1 verifies over the euiccSigned1 bytes");
        assert_eq!(ok.euicc_signed1.value().server_challenge, server_challenge);
        AuthState {
            transaction_id: TransactionId::new(tid).unwrap(),
            server_challenge,
            euicc_certificate: euicc_cert,
            euicc_signature1: ok.euicc_signature1,
        }
    }

    pub fn sig_tlv(sig: &[u8]) -> Vec<u8> {
        let mut v = vec![0x5F, 0x37, sig.len() as u8];
        v.extend_from_slice(sig);
        v
    }

    /// smdpSigned2 + smdpSignature2 (over smdpSigned2 ‖ euiccSignature1 TLV).
    pub fn prepare_request(
        &self,
        auth: &AuthState,
        cc: Option<&[u8]>,
        bpp_euicc_otpk: Option<Vec<u8>>,
    ) -> PrepareDownloadRequest {
        let signed = Signed::new(
            SmdpSigned2 {
                transaction_id: auth.transaction_id.clone(),
                cc_required_flag: cc.is_some(),
                bpp_euicc_otpk,
                rpm_pending: None,
                unknown_tags: vec![],
            },
            &self.peer,
        )
        .unwrap();
        let mut data = signed.raw().to_vec();
        data.extend_from_slice(&Self::sig_tlv(&auth.euicc_signature1));
        let signature = self.pb_key.sign_raw(&data).unwrap().to_vec();
        let hash_cc = cc.map(|cc| {
            use sha2::{Digest, Sha256};
            let inner = Sha256::digest(cc);
            let mut h = Sha256::new();
            h.update(inner);
            h.update(auth.transaction_id.as_bytes());
            h.finalize().to_vec()
        });
        PrepareDownloadRequest {
            smdp_signed2: signed,
            smdp_signature2: signature,
            hash_cc,
            smdp_certificate: Certificate(self.pb_cert.clone()),
            unknown_tags: vec![],
        }
    }

    /// PrepareDownload; checks euiccSignature2 over euiccSigned2 ‖ smdpSignature2 TLV and
    /// returns otPK.EUICC.
    pub fn prepare<C: ApduCard>(
        &self,
        lpa: &mut Lpa<C>,
        auth: &AuthState,
        bpp_euicc_otpk: Option<Vec<u8>>,
    ) -> Vec<u8> {
        let req = self.prepare_request(auth, None, bpp_euicc_otpk);
        let resp = lpa.es10(&req.encode(&self.peer).unwrap());
        let PrepareDownloadResponse::Ok(ok) = PrepareDownloadResponse::decode(&resp).unwrap()
        else {
            panic!("PrepareDownload failed: {resp:02X?}");
        };
        let mut data = ok.euicc_signed2.raw().to_vec();
        data.extend_from_slice(&Self::sig_tlv(&req.smdp_signature2));
        auth.euicc_certificate
            .public_key()
            .unwrap()
            .verify_raw(&data, &ok.euicc_signature2)
            .expect("euiccSignature2 verifies over euiccSigned2 ‖ smdpSignature2");
        assert_eq!(ok.euicc_signed2.value().transaction_id, auth.transaction_id);
        ok.euicc_signed2.value().euicc_otpk.clone()
    }

    /// A BPP for `upp` bound to this session.
    pub fn bpp(
        &self,
        auth: &AuthState,
        euicc_otpk: &[u8],
        eid: &rsp_types::Eid,
        metadata: &StoreMetadataRequest,
        upp: &[u8],
    ) -> Vec<u8> {
        let curve = self.curve;
        let otsk = PrivateKey::generate(curve).unwrap();
        let configure = bpp::configure_isdp_request(Some(&self.oid)).unwrap();
        let store_metadata = metadata.encode(&self.peer).unwrap();
        let eid_bytes = eid.to_bytes();
        bpp::build_bound_profile_package(
            &SessionBinding {
                transaction_id: &auth.transaction_id,
                host_id: b"rsp-test-host",
                eid: &eid_bytes,
                smdp_otsk: &otsk,
                euicc_otpk,
                dp_pb: &self.pb_key,
                configure_isdp: &configure,
                store_metadata: &store_metadata,
            },
            ProfileSource::Upp(upp),
        )
        .unwrap()
    }
}

/// `upp` with another ICCID in its ProfileHeader (the TS.48 packages all carry the same one).
pub fn with_iccid(upp: &[u8], prefix19: &str) -> Vec<u8> {
    let old = upp_iccid(upp);
    let old_bytes = hex::decode(old.as_str()).unwrap();
    let new = Iccid::with_luhn(prefix19).unwrap();
    let new_bytes = hex::decode(new.as_str()).unwrap();
    assert_eq!(old_bytes.len(), new_bytes.len());
    let mut pattern = vec![0x83, old_bytes.len() as u8];
    pattern.extend_from_slice(&old_bytes);
    let at = upp
        .windows(pattern.len())
        .position(|w| w == pattern.as_slice())
        .unwrap();
    let mut out = upp.to_vec();
    out[at + 2..at + 2 + new_bytes.len()].copy_from_slice(&new_bytes);
    assert_eq!(upp_iccid(&out), new);
    out
}

/// The ICCID in a profile package header.
pub fn upp_iccid(upp: &[u8]) -> Iccid {
    rsp_euicc::m2m::saip::ProfilePackage::parse(upp)
        .unwrap()
        .iccid
}

/// Metadata for `upp`: notifications to `address` for install/enable/disable/delete, PPRs
/// `pprs`, owner MCC/MNC 001/01.
pub fn metadata(upp: &[u8], address: &str, pprs: &[usize]) -> StoreMetadataRequest {
    StoreMetadataRequest {
        iccid: upp_iccid(upp),
        service_provider_name: "GSMA Test".into(),
        profile_name: "TS.48 generic".into(),
        icon_type: None,
        icon: None,
        profile_class: Some(rsp_sgp22::profile_class::OPERATIONAL),
        notification_configuration_info: Some(rsp_sgp22::SeqOf(vec![
            NotificationConfigurationInformation {
                profile_management_operation: NotificationEvent::with_bits(&[
                    NotificationEvent::INSTALL,
                    NotificationEvent::LOCAL_ENABLE,
                    NotificationEvent::LOCAL_DISABLE,
                    NotificationEvent::LOCAL_DELETE,
                ]),
                notification_address: address.into(),
                unknown_tags: vec![],
            },
        ])),
        profile_owner: Some(OperatorId {
            mcc_mnc: vec![0x00, 0xF1, 0x10],
            gid1: None,
            gid2: None,
            unknown_tags: vec![],
        }),
        profile_policy_rules: if pprs.is_empty() {
            None
        } else {
            Some(PprIds::with_bits(pprs))
        },
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

/// A full download: CMA, PrepareDownload, BPP segments; returns the PIR bytes.
pub fn download<C: ApduCard>(
    server: &Server,
    lpa: &mut Lpa<C>,
    eid: &rsp_types::Eid,
    tid: &[u8],
    metadata: &StoreMetadataRequest,
    upp: &[u8],
) -> Vec<u8> {
    let auth = server.authenticate(lpa, tid);
    let otpk = server.prepare(lpa, &auth, None);
    let bpp = server.bpp(&auth, &otpk, eid, metadata, upp);
    let segments = bpp::segment_bound_profile_package(&bpp).unwrap();
    let mut last = Vec::new();
    for (i, s) in segments.iter().enumerate() {
        last = lpa.es10(s);
        if i + 1 < segments.len() && !last.is_empty() {
            // An early Profile Installation Result: the load failed.
            return last;
        }
    }
    last
}
