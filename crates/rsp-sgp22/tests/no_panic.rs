//! Property tests: decoders never panic on arbitrary bytes; encoders round-trip.

use proptest::prelude::*;
use rsp_sgp22::der::DerValue;
use rsp_sgp22::{
    BitString, EuiccRspCapability, LpaRspCapability, Octet16, Profile, ServerRspCapability,
    ServerSigned1, SessionContext, TransactionId,
};
use rsp_types::Svn;

proptest! {
    #[test]
    fn decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = ServerSigned1::decode(&bytes);
        let _ = ServerSigned1::decode_value(&bytes);
        let _ = SessionContext::decode(&bytes);
        let _ = SessionContext::decode_value(&bytes);
        let _ = EuiccRspCapability::decode_value(&bytes);
        let _ = LpaRspCapability::decode_value(&bytes);
        let _ = ServerRspCapability::decode_value(&bytes);
        let _ = BitString::from_content(&bytes, "x");
    }

    #[test]
    fn sequence_framed_bytes_never_panic(inner in proptest::collection::vec(any::<u8>(), 0..120)) {
        let mut bytes = vec![0x30, inner.len() as u8];
        bytes.extend_from_slice(&inner);
        if let Ok(m) = ServerSigned1::decode(&bytes) {
            for svn in [Svn::new(2, 2, 2), Svn::new(3, 1, 0)] {
                let _ = m.encode(&Profile::new(svn));
                let _ = m.check_gates(&Profile::new(svn));
            }
        }
    }

    #[test]
    fn bit_strings_round_trip(bits in proptest::collection::btree_set(0usize..64, 0..12)) {
        let bits: Vec<usize> = bits.into_iter().collect();
        let cap = EuiccRspCapability::with_bits(&bits);
        let mut content = Vec::new();
        prop_assert!(cap.encode_value(&Profile::new(Svn::new(3, 1, 0)), &mut content).is_ok());
        let back = EuiccRspCapability::decode_value(&content);
        prop_assert_eq!(back.as_ref().map(|c| c.0.ones().collect::<Vec<_>>()).ok(), Some(bits));
        prop_assert_eq!(back.ok(), Some(cap));
        // DER: the last content byte is non-zero unless the string is empty.
        prop_assert!(content.len() == 1 || content.last() != Some(&0));
    }

    #[test]
    fn server_signed1_round_trips_for_v3(
        txid in proptest::collection::vec(any::<u8>(), 1..=16),
        ec in any::<[u8; 16]>(),
        sc in any::<[u8; 16]>(),
        address in "[a-z0-9.-]{0,40}",
        crl in any::<bool>(),
        bits in proptest::collection::btree_set(0usize..8, 0..5),
        minor in 0u8..3,
    ) {
        let bits: Vec<usize> = bits.into_iter().collect();
        let m = ServerSigned1 {
            transaction_id: TransactionId::new(&txid).map_err(|e| TestCaseError::fail(e.to_string()))?,
            euicc_challenge: Octet16(ec),
            server_address: address,
            server_challenge: Octet16(sc),
            session_context: Some(SessionContext {
                server_svn: Svn::new(3, minor, 0),
                crl_stapling_v3_used: crl,
                euicc_ci_pk_id_to_be_used_v3: None,
                supported_push_services: None,
                unknown_tags: Vec::new(),
            }),
            server_rsp_capability: Some(ServerRspCapability::with_bits(&bits)),
            unknown_tags: Vec::new(),
        };
        let der = m.encode(&Profile::new(Svn::new(3, minor, 0)));
        prop_assert!(der.is_ok());
        let der = der.unwrap_or_default();
        prop_assert_eq!(ServerSigned1::decode(&der).ok(), Some(m.clone()));
        // A v2 encoding decodes to the same message without the v3 fields.
        let v2 = m.encode(&Profile::new(Svn::new(2, 2, 2))).unwrap_or_default();
        let back = ServerSigned1::decode(&v2).ok();
        prop_assert_eq!(
            back,
            Some(ServerSigned1 { session_context: None, server_rsp_capability: None, ..m })
        );
    }
}
