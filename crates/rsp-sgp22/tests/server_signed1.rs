//! ServerSigned1 / SessionContext encoded for v2 and v3 peers: assertions on the exact bytes.

use rsp_sgp22::der::{DecodeError, DerValue, EncodeError, GateViolation};
use rsp_sgp22::{
    Capabilities, EuiccRspCapability, Feature, FeatureSet, LpaRspCapability, Octet16, Profile,
    ServerRspCapability, ServerSigned1, SessionContext, Signed, TransactionId, negotiate,
};
use rsp_types::{Oid, Svn};

const TXID: [u8; 4] = [0x01, 0x02, 0x03, 0x04];
const ADDRESS: &str = "smdp.example";

fn message() -> ServerSigned1 {
    build().unwrap_or_else(|| panic!("fixture"))
}

fn build() -> Option<ServerSigned1> {
    Some(ServerSigned1 {
        transaction_id: TransactionId::new(&TXID).ok()?,
        euicc_challenge: Octet16([0x11; 16]),
        server_address: ADDRESS.to_string(),
        server_challenge: Octet16([0x22; 16]),
        session_context: Some(SessionContext {
            server_svn: Svn::new(3, 1, 0),
            crl_stapling_v3_used: false,
            euicc_ci_pk_id_to_be_used_v3: None,
            supported_push_services: None,
            unknown_tags: Vec::new(),
        }),
        server_rsp_capability: Some(ServerRspCapability::with_bits(&[
            ServerRspCapability::CRL_STAPLING_V3_SUPPORT,
        ])),
        unknown_tags: Vec::new(),
    })
}

/// The four v2 fields: `80 transactionId, 81 euiccChallenge, 83 serverAddress, 84 serverChallenge`.
fn v2_fields() -> Vec<u8> {
    let mut v = vec![0x80, 0x04];
    v.extend_from_slice(&TXID);
    v.extend_from_slice(&[0x81, 0x10]);
    v.extend_from_slice(&[0x11; 16]);
    v.extend_from_slice(&[0x83, 0x0C]);
    v.extend_from_slice(ADDRESS.as_bytes());
    v.extend_from_slice(&[0x84, 0x10]);
    v.extend_from_slice(&[0x22; 16]);
    v
}

/// `A5 { 80 serverSvn 030100, 81 crlStaplingV3Used FALSE }`, `86 serverRspCapability {bit 0}`.
const V3_FIELDS: [u8; 14] = [
    0xA5, 0x08, 0x80, 0x03, 0x03, 0x01, 0x00, 0x81, 0x01, 0x00, 0x86, 0x02, 0x07, 0x80,
];

fn v3_bytes() -> Vec<u8> {
    let mut content = v2_fields();
    content.extend_from_slice(&V3_FIELDS);
    let mut v = vec![0x30, content.len() as u8];
    v.extend_from_slice(&content);
    v
}

#[test]
fn v2_peer_never_receives_v3_fields() -> Result<(), EncodeError> {
    let out = message().encode(&Profile::new(Svn::new(2, 2, 2)))?;
    let mut expected = vec![0x30, 0x38];
    expected.extend_from_slice(&v2_fields());
    assert_eq!(out, expected);
    // Even with every feature flag set, a v2 version gets no v3 element.
    let out =
        message().encode(&Profile::new(Svn::new(2, 7, 0)).with_features(FeatureSet::all()))?;
    assert_eq!(out, expected);
    Ok(())
}

#[test]
fn v3_peer_gets_mandatory_fields() -> Result<(), EncodeError> {
    let out = message().encode(&Profile::new(Svn::new(3, 1, 0)))?;
    assert_eq!(out, v3_bytes());
    assert_eq!(out.get(1), Some(&0x46));
    Ok(())
}

#[test]
fn missing_mandatory_field_is_an_error_for_v3_only() {
    let mut m = message();
    m.server_rsp_capability = None;
    assert_eq!(
        m.encode(&Profile::new(Svn::new(3, 0, 0))),
        Err(EncodeError::MissingMandatory {
            in_type: "ServerSigned1",
            field: "server_rsp_capability",
            svn: Svn::new(3, 0, 0),
        })
    );
    assert!(m.encode(&Profile::new(Svn::new(2, 5, 0))).is_ok());
}

#[test]
fn push_services_only_with_push_feature() -> Result<(), Box<dyn std::error::Error>> {
    let mut m = message();
    if let Some(ctx) = m.session_context.as_mut() {
        ctx.supported_push_services = Some(vec![Oid::new(&[1, 2, 3])?]);
    }
    let plain = m.encode(&Profile::new(Svn::new(3, 1, 0)))?;
    assert_eq!(plain, v3_bytes());
    let push =
        Profile::new(Svn::new(3, 1, 0)).with_features(FeatureSet::of(&[Feature::PushService]));
    let out = m.encode(&push)?;
    // sessionContext grows by `A3 04 06 02 2A 03`.
    let needle = [
        0xA5, 0x0E, 0x80, 0x03, 0x03, 0x01, 0x00, 0x81, 0x01, 0x00, 0xA3, 0x04, 0x06, 0x02, 0x2A,
        0x03,
    ];
    assert!(out.windows(needle.len()).any(|w| w == needle));
    assert_eq!(out.len(), plain.len() + 6);
    Ok(())
}

#[test]
fn tolerant_decode_keeps_everything() -> Result<(), DecodeError> {
    let bytes = v3_bytes();
    let decoded = ServerSigned1::decode(&bytes)?;
    assert_eq!(decoded, message());
    assert_eq!(
        decoded.present_fields(),
        [
            "transaction_id",
            "euicc_challenge",
            "server_address",
            "server_challenge",
            "session_context",
            "server_rsp_capability"
        ]
    );
    // Signed structures must re-encode byte for byte for the declared version.
    assert_eq!(
        decoded.encode(&Profile::new(Svn::new(3, 1, 0))).ok(),
        Some(bytes)
    );
    Ok(())
}

#[test]
fn unknown_tags_are_skipped_and_recorded() -> Result<(), DecodeError> {
    let mut content = v2_fields();
    content.extend_from_slice(&[0x87, 0x01, 0xAA, 0xBF, 0x40, 0x00]);
    let mut bytes = vec![0x30, content.len() as u8];
    bytes.extend_from_slice(&content);
    let d = ServerSigned1::decode(&bytes)?;
    assert_eq!(d.transaction_id.as_bytes(), TXID);
    assert!(d.session_context.is_none());
    let tags: Vec<u32> = d.unknown_tags.iter().map(|t| t.value()).collect();
    assert_eq!(tags, [0x87, 0xBF40]);
    Ok(())
}

#[test]
fn decode_errors() {
    let mut dup = v3_bytes();
    dup.extend_from_slice(&[0x86, 0x02, 0x07, 0x80]);
    if let Some(len) = dup.get_mut(1) {
        *len += 4;
    }
    assert!(matches!(
        ServerSigned1::decode(&dup),
        Err(DecodeError::Duplicate {
            field: "server_rsp_capability",
            ..
        })
    ));
    // Without serverChallenge.
    let content: Vec<u8> = v2_fields()[..38].to_vec();
    let mut missing = vec![0x30, content.len() as u8];
    missing.extend_from_slice(&content);
    assert_eq!(
        ServerSigned1::decode(&missing),
        Err(DecodeError::Missing {
            in_type: "ServerSigned1",
            field: "server_challenge"
        })
    );
    assert!(matches!(
        ServerSigned1::decode(&[0x31, 0x00]),
        Err(DecodeError::UnexpectedTag { .. })
    ));
    assert!(matches!(
        SessionContext::decode_value(&[0x80, 0x02, 0x03, 0x01]),
        Err(DecodeError::BadValue { .. })
    ));
}

#[test]
fn check_gates_on_received_message() -> Result<(), DecodeError> {
    let decoded = ServerSigned1::decode(&v3_bytes())?;
    assert_eq!(
        decoded.check_gates(&Profile::new(Svn::new(3, 1, 0))),
        Ok(())
    );
    assert_eq!(
        decoded.check_gates(&Profile::new(Svn::new(2, 2, 2))),
        Err(GateViolation::FieldNotAllowed {
            in_type: "ServerSigned1",
            field: "session_context",
            svn: Svn::new(2, 2, 2),
        })
    );
    let mut v2 = vec![0x30, 0x38];
    v2.extend_from_slice(&v2_fields());
    let old = ServerSigned1::decode(&v2)?;
    assert!(matches!(
        old.check_gates(&Profile::new(Svn::new(3, 0, 0))),
        Err(GateViolation::MissingMandatory {
            field: "session_context",
            ..
        })
    ));
    Ok(())
}

#[test]
fn negotiated_profile_drives_the_encoder() -> Result<(), EncodeError> {
    let server = Capabilities {
        server: Some(ServerRspCapability::with_bits(&[0])),
        ..Capabilities::default()
    };
    // A v3 eUICC behind an LPA that sent no lpaRspCapability: treated as v2.
    let device = Capabilities {
        euicc: Some(EuiccRspCapability::with_bits(&[
            EuiccRspCapability::RPM_SUPPORT,
        ])),
        ..Capabilities::default()
    };
    let p = negotiate(&server, Some(&device), Svn::new(3, 1, 0), Svn::new(3, 1, 0));
    let out = message().encode(&p)?;
    assert!(!out.windows(2).any(|w| w == [0xA5, 0x08]));
    let device = Capabilities {
        lpa: Some(LpaRspCapability::with_bits(&[0])),
        ..device
    };
    let p = negotiate(&server, Some(&device), Svn::new(3, 1, 0), Svn::new(3, 1, 0));
    assert_eq!(message().encode(&p)?, v3_bytes());
    Ok(())
}

/// The gate matrix, driven by `ServerSigned1::FIELDS`: for every field and every peer profile,
/// the field's tag is in the encoding exactly when its gate allows that peer.
#[test]
fn gate_matrix_from_field_table() -> Result<(), EncodeError> {
    let profiles = [
        Profile::new(Svn::new(2, 0, 0)),
        Profile::new(Svn::new(2, 2, 2)),
        Profile::new(Svn::new(2, 7, 0)).with_features(FeatureSet::all()),
        Profile::new(Svn::new(3, 0, 0)),
        Profile::new(Svn::new(3, 1, 0)).with_features(FeatureSet::all()),
    ];
    let m = message();
    for peer in &profiles {
        let out = m.encode(peer)?;
        let decoded = ServerSigned1::decode(&out).map_err(|_| EncodeError::MissingMandatory {
            in_type: "test",
            field: "re-decode failed",
            svn: peer.svn,
        })?;
        assert!(decoded.unknown_tags.is_empty());
        let present = decoded.present_fields();
        for f in ServerSigned1::FIELDS {
            assert_eq!(
                present.contains(&f.name),
                f.gate.allows(peer),
                "{} ({}) for {peer:?}",
                f.name,
                f.gate
            );
            if f.gate.requires(peer) {
                assert!(present.contains(&f.name));
            }
        }
    }
    Ok(())
}

#[test]
fn signed_keeps_received_bytes() -> Result<(), DecodeError> {
    // A non-minimal length (`81 46`) is accepted on input; the raw bytes are kept for the
    // signature check while a re-encoding would differ.
    let der = v3_bytes();
    let mut ber = vec![0x30, 0x81];
    ber.extend_from_slice(der.get(1..).unwrap_or_default());
    let signed = Signed::decode(&ber, ServerSigned1::decode)?;
    assert_eq!(signed.raw(), ber.as_slice());
    assert_eq!(signed.value(), &message());
    assert_eq!(
        signed.value().encode(&Profile::new(Svn::new(3, 1, 0))).ok(),
        Some(der)
    );
    Ok(())
}
