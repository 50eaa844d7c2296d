//! The RSPDefinitions messages: exact bytes for v2 and v3 receivers, CHOICE and high-tag
//! framing, positional decoding of same-tag fields, tolerant decoding.

use rsp_sgp22::der::{DecodeError, EncodeError};
use rsp_sgp22::{
    AuthenticateResponseOk, AuthenticateServerResponse, Certificate, CtxParams1,
    CtxParamsForCommonAuthentication, CtxParamsForPushServiceRegistration, DeviceCapabilities,
    DeviceInfo, EuiccInfo1, EuiccRspCapability, EuiccSigned1, FeatureSet, FinalResult,
    InitiateAuthenticationRequest, InitiateAuthenticationResponse, LpaRspCapability, Octet16,
    PendingNotification, Profile, ProfileInstallationResult, ProfileInstallationResultData,
    RemoteProfileProvisioningRequest, SeqOf, Signed, SuccessResult, TransactionId,
};
use rsp_types::{Iccid, Oid, Svn};

const V2: Profile = Profile::new(Svn::new(2, 2, 2));
const V3: Profile = Profile::new(Svn::new(3, 1, 0));

fn txid() -> TransactionId {
    TransactionId::new(&[0xA1, 0xB2]).unwrap_or_else(|_| unreachable!())
}

fn info1(v3: bool) -> EuiccInfo1 {
    EuiccInfo1 {
        lowest_svn: Svn::new(2, 2, 0),
        euicc_ci_pk_id_list_for_verification: SeqOf(vec![vec![0xF5; 20]]),
        euicc_ci_pk_id_list_for_signing: SeqOf(vec![vec![0xF5; 20]]),
        euicc_ci_pk_id_list_for_signing_v3: None,
        euicc_rsp_capability: v3.then(|| EuiccRspCapability::with_bits(&[0, 18])),
        highest_svn: v3.then_some(Svn::new(3, 1, 0)),
        unknown_tags: vec![],
    }
}

fn device_info(lpa: Option<LpaRspCapability>) -> DeviceInfo {
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
            lpa_svn: Some(Svn::new(3, 1, 0)),
            cat_supported_classes: None,
            euicc_form_factor_type: None,
            device_additional_feature_support: None,
            unknown_tags: vec![],
        },
        imei: None,
        preferred_languages: None,
        device_test_mode: None,
        lpa_rsp_capability: lpa,
        unknown_tags: vec![],
    }
}

#[test]
fn initiate_authentication_request_bytes() -> Result<(), EncodeError> {
    let req = InitiateAuthenticationRequest {
        euicc_challenge: Octet16([0x11; 16]),
        smdp_address: "a.b".into(),
        euicc_info1: info1(true),
        lpa_rsp_capability: Some(LpaRspCapability::with_bits(&[0])),
        unknown_tags: vec![],
    };
    let v2 = req.encode(&V2)?;
    // BF39 { 81 challenge, 83 address, BF20 { 82 svn, A9 {04 ski}, AA {04 ski} } }, nothing else.
    assert_eq!(&v2[..3], &[0xBF, 0x39, (v2.len() - 3) as u8]);
    let info1_v2 = [
        0xBF, 0x20, 0x35, 0x82, 0x03, 0x02, 0x02, 0x00, 0xA9, 0x16, 0x04, 0x14,
    ];
    let pos = v2.windows(info1_v2.len()).position(|w| w == info1_v2);
    assert!(pos.is_some(), "{v2:02X?}");
    assert!(
        !v2.windows(2).any(|w| w == [0x85, 0x02]),
        "no lpaRspCapability to v2"
    );
    let v3 = req.encode(&V3)?;
    assert!(v3.windows(4).any(|w| w == [0x85, 0x02, 0x07, 0x80]));
    assert!(
        v3.windows(5).any(|w| w == [0x93, 0x03, 0x03, 0x01, 0x00]),
        "highestSvn"
    );
    assert!(
        v3.windows(5).any(|w| w == [0x88, 0x04, 0x05, 0x80, 0x00]),
        "euiccRspCapability bits 0, 18"
    );
    let back = InitiateAuthenticationRequest::decode(&v3);
    assert_eq!(back.ok(), Some(req));
    Ok(())
}

#[test]
fn choice_framing_and_push_gate() -> Result<(), EncodeError> {
    let err = InitiateAuthenticationResponse::Error(3);
    assert_eq!(err.encode(&V2)?, [0xBF, 0x39, 0x03, 0x81, 0x01, 0x03]);
    assert_eq!(
        InitiateAuthenticationResponse::decode(&[0xBF, 0x39, 0x03, 0x81, 0x01, 0x03]).ok(),
        Some(err)
    );
    let push = CtxParams1::PushServiceRegistration(CtxParamsForPushServiceRegistration {
        selected_push_service: Oid::new(&[1, 2, 3]).unwrap_or_else(|_| unreachable!()),
        push_token: "t".into(),
        unknown_tags: vec![],
    });
    assert!(matches!(
        push.encode(&V3),
        Err(EncodeError::AlternativeNotAllowed { .. })
    ));
    let v3_push = V3.with_features(FeatureSet::of(&[rsp_sgp22::Feature::PushService]));
    assert_eq!(push.encode(&v3_push)?[0], 0xA3);
    Ok(())
}

#[test]
fn authenticate_server_response_positional_certificates() -> Result<(), Box<dyn std::error::Error>>
{
    let signed = EuiccSigned1 {
        transaction_id: txid(),
        server_address: "a.b".into(),
        server_challenge: Octet16([0x22; 16]),
        euicc_info2: sample_info2(),
        ctx_params1: CtxParams1::CommonAuthentication(CtxParamsForCommonAuthentication {
            matching_id: Some("MID".into()),
            device_info: device_info(Some(LpaRspCapability::with_bits(&[1]))),
            operation_type: None,
            iccid: None,
            matching_id_source: None,
            vendor_specific_extension: None,
            unknown_tags: vec![],
        }),
        unknown_tags: vec![],
    };
    let ok = AuthenticateResponseOk {
        euicc_signed1: Signed::new(signed, &V2)?,
        euicc_signature1: vec![0x5A; 64],
        euicc_certificate: Certificate(vec![0x30, 0x01, 0xEE]),
        next_cert_in_chain: Certificate(vec![0x30, 0x01, 0xDD]),
        other_certs_in_chain: None,
        unknown_tags: vec![],
    };
    let resp = AuthenticateServerResponse::Ok(ok);
    let der = resp.encode(&V2)?;
    assert_eq!(&der[..2], &[0xBF, 0x38]);
    // BF38 len A0 len 30 ...: the CHOICE is EXPLICITly tagged, the alternative IMPLICIT [0].
    let inner = rsp_types::tlv::parse_single(&der)?;
    assert_eq!(inner.value[0], 0xA0);
    let back = AuthenticateServerResponse::decode(&der)?;
    let AuthenticateServerResponse::Ok(back) = back else {
        panic!("expected Ok")
    };
    // Same-tag fields (three SEQUENCEs) are filled in declaration order.
    assert_eq!(back.euicc_certificate.der(), &[0x30, 0x01, 0xEE]);
    assert_eq!(back.next_cert_in_chain.der(), &[0x30, 0x01, 0xDD]);
    // The signed block keeps the exact received bytes.
    assert_eq!(back.euicc_signed1.raw()[0], 0x30);
    assert_eq!(back.euicc_signed1.value().server_address, "a.b");
    // The v2 encoding of DeviceInfo inside has no lpaRspCapability (85).
    let CtxParams1::CommonAuthentication(c) = &back.euicc_signed1.value().ctx_params1 else {
        panic!("expected common authentication")
    };
    assert_eq!(c.device_info.lpa_rsp_capability, None);
    assert_eq!(c.device_info.device_capabilities.lpa_svn, None);
    Ok(())
}

fn sample_info2() -> rsp_sgp22::EuiccInfo2 {
    rsp_sgp22::EuiccInfo2 {
        base_profile_package_version: Svn::new(2, 3, 0),
        lowest_svn: Svn::new(2, 2, 0),
        euicc_firmware_version: Svn::new(1, 0, 0),
        ext_card_resource: vec![0x81, 0x01, 0x00],
        uicc_capability: rsp_sgp22::BitString::default(),
        ts102241_version: None,
        global_platform_version: None,
        euicc_rsp_capability: EuiccRspCapability::with_bits(&[0]),
        euicc_ci_pk_id_list_for_verification: SeqOf(vec![vec![1; 20]]),
        euicc_ci_pk_id_list_for_signing: SeqOf(vec![vec![1; 20]]),
        euicc_category: None,
        forbidden_profile_policy_rules: None,
        pp_version: Svn::new(0, 0, 1),
        sas_accreditation_number: "SAS".into(),
        certification_data_object: None,
        tre_properties: None,
        tre_product_reference: None,
        additional_profile_package_versions: Some(SeqOf(vec![Svn::new(3, 1, 0)])),
        lpa_mode: None,
        euicc_ci_pk_id_list_for_signing_v3: None,
        additional_euicc_info: None,
        highest_svn: Some(Svn::new(3, 1, 0)),
        iot_specific_info: None,
        unknown_tags: vec![],
    }
}

#[test]
fn euicc_info2_for_v2_and_v3() -> Result<(), EncodeError> {
    let i = sample_info2();
    let v2 = i.encode(&V2)?;
    assert!(
        !v2.windows(2).any(|w| w == [0x93, 0x03]),
        "no highestSvn for v2"
    );
    // ppVersion and sasAcreditationNumber are universal-tagged.
    assert!(v2.windows(5).any(|w| w == [0x04, 0x03, 0x00, 0x00, 0x01]));
    assert!(v2.windows(5).any(|w| w == [0x0C, 0x03, b'S', b'A', b'S']));
    let v3 = i.encode(&V3)?;
    assert!(v3.windows(5).any(|w| w == [0x93, 0x03, 0x03, 0x01, 0x00]));
    assert_eq!(rsp_sgp22::EuiccInfo2::decode(&v3).ok(), Some(i));
    Ok(())
}

#[test]
fn profile_installation_result_explicit_final_result() -> Result<(), Box<dyn std::error::Error>> {
    let data = ProfileInstallationResultData {
        transaction_id: txid(),
        notification_metadata: rsp_sgp22::NotificationMetadata {
            seq_number: 300,
            profile_management_operation: rsp_sgp22::NotificationEvent::with_bits(&[0]),
            notification_address: "a.b".into(),
            iccid: Some(Iccid::with_luhn("8900012345678901234")?),
            unknown_tags: vec![],
        },
        smdp_oid: Oid::new(&[2, 999, 10])?,
        final_result: FinalResult::Success(SuccessResult {
            aid: vec![0xA0, 0x00],
            sima_response: vec![0x30, 0x00],
            unknown_tags: vec![],
        }),
        unknown_tags: vec![],
    };
    let pir = ProfileInstallationResult {
        profile_installation_result_data: Signed::new(data, &V2)?,
        euicc_sign_pir: vec![1; 64],
        unknown_tags: vec![],
    };
    let der = PendingNotification::ProfileInstallationResult(pir.clone()).encode(&V2)?;
    assert_eq!(&der[..2], &[0xBF, 0x37]);
    // seqNumber 300 = 80 02 01 2C; finalResult = A2 { A0 { 4F .. 04 .. } }.
    assert!(der.windows(4).any(|w| w == [0x80, 0x02, 0x01, 0x2C]));
    assert!(der.windows(3).any(|w| w == [0xA2, 0x0A, 0xA0]));
    assert_eq!(
        PendingNotification::decode(&der)?,
        PendingNotification::ProfileInstallationResult(pir)
    );
    Ok(())
}

#[test]
fn asn1_binding_wrapper() -> Result<(), Box<dyn std::error::Error>> {
    let req = InitiateAuthenticationRequest {
        euicc_challenge: Octet16([0x11; 16]),
        smdp_address: "a.b".into(),
        euicc_info1: info1(false),
        lpa_rsp_capability: None,
        unknown_tags: vec![],
    };
    let wrapped = RemoteProfileProvisioningRequest::InitiateAuthentication(req.clone());
    let der = wrapped.encode(&V2)?;
    assert_eq!(&der[..3], &[0xA2, (der.len() - 2) as u8, 0xBF]);
    assert_eq!(RemoteProfileProvisioningRequest::decode(&der)?, wrapped);
    Ok(())
}

#[test]
fn tolerant_and_strict_decoding() {
    // Unknown element inside EUICCInfo1 is skipped and recorded.
    let mut der = info1(false).encode(&V2).unwrap_or_default();
    der.extend_from_slice(&[0x9F, 0x7F, 0x01, 0x00]);
    der[2] += 4;
    let back = EuiccInfo1::decode(&der);
    assert!(
        matches!(&back, Ok(i) if i.unknown_tags.len() == 1),
        "{back:?}"
    );
    // A missing required field, an unknown CHOICE alternative and trailing bytes are refused.
    assert!(matches!(
        EuiccInfo1::decode(&[0xBF, 0x20, 0x00]),
        Err(DecodeError::Missing { .. })
    ));
    assert!(InitiateAuthenticationResponse::decode(&[0xBF, 0x39, 0x03, 0x87, 0x01, 0x03]).is_err());
    assert!(
        InitiateAuthenticationResponse::decode(&[0xBF, 0x39, 0x03, 0x81, 0x01, 0x03, 0x00])
            .is_err()
    );
}
