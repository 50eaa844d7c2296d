//! Every ES9+ decoder path fed arbitrary bytes: the JSON binding (raw bodies, and well-formed
//! JSON carrying arbitrary base64 content, for a live session's transactionId too) and the
//! ASN.1 binding (raw and `A2`-framed). Nothing panics, every answer is a binding answer
//! (200 / 204 / 400), and a live session is never moved by input that does not decode.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod es9plus_common;

use es9plus_common::*;
use proptest::prelude::*;
use rsp_sgp22::json::b64;
use rsp_smdpp::es9plus::{Es9Config, Function, asn1, json};
use rsp_smdpp::session::Sessions;
use time::OffsetDateTime;

struct Fixture {
    _dir: tempfile::TempDir,
    rt: tokio::runtime::Runtime,
    s: Server,
    tid: String,
}

fn fixture() -> Fixture {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (s, tid) = rt.block_on(async {
        let st = store(&dir, "fuzz").await;
        let s = server(Es9Config::new(v3()), st, &["NIST"]);
        let e = TestEuicc::new("NIST", true);
        let ok = s
            .service
            .initiate_authentication(&e.initiate_request(ADDRESS), OffsetDateTime::now_utc())
            .await
            .unwrap();
        (s, ok.response.transaction_id.to_string())
    });
    Fixture {
        _dir: dir,
        rt,
        s,
        tid,
    }
}

fn session_state(f: &Fixture) -> String {
    f.rt.block_on(async {
        let bytes = hex::decode(&f.tid).unwrap();
        let tid = rsp_sgp22::TransactionId::new(&bytes).unwrap();
        Sessions::new(f.s.service.store().clone())
            .load(&tid)
            .await
            .unwrap()
            .unwrap()
            .session
            .state
            .name()
            .to_string()
    })
}

fn body_for(function: Function, tid: &str, blob: &[u8]) -> Vec<u8> {
    let b = b64::encode(blob);
    let v = match function {
        Function::InitiateAuthentication => serde_json::json!({
            "euiccChallenge": b, "euiccInfo1": b, "smdpAddress": ADDRESS, "lpaRspCapability": b
        }),
        Function::AuthenticateClient => {
            serde_json::json!({"transactionId": tid, "authenticateServerResponse": b})
        }
        Function::GetBoundProfilePackage => {
            serde_json::json!({"transactionId": tid, "prepareDownloadResponse": b})
        }
        Function::HandleNotification => serde_json::json!({"pendingNotification": b}),
        Function::CancelSession => {
            serde_json::json!({"transactionId": tid, "cancelSessionResponse": b})
        }
    };
    serde_json::to_vec(&v).unwrap()
}

/// Arbitrary bytes, and bytes that start like the element each field expects.
fn blob() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..200),
        (
            prop::sample::select(vec![
                vec![0xBF, 0x20],
                vec![0xBF, 0x38],
                vec![0xBF, 0x21],
                vec![0xBF, 0x37],
                vec![0xBF, 0x41],
                vec![0x30],
                vec![0x03],
                vec![0xA0],
                vec![0xA1],
            ]),
            proptest::collection::vec(any::<u8>(), 0..160),
        )
            .prop_map(|(tag, rest)| {
                let mut v = tag;
                v.push(u8::try_from(rest.len().min(0x7F)).unwrap());
                v.extend(rest);
                v
            }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, .. ProptestConfig::default() })]

    #[test]
    fn json_binding_never_panics(raw in proptest::collection::vec(any::<u8>(), 0..300), content in blob(), which in 0usize..5) {
        thread_local!(static F: Fixture = fixture());
        F.with(|f| {
            let function = Function::ALL[which];
            let now = OffsetDateTime::now_utc();
            for body in [raw.clone(), body_for(function, &f.tid, &content)] {
                let reply = f.rt.block_on(json::handle(&f.s.service, function, &body, now));
                prop_assert!(matches!(reply.status, 200 | 204 | 400), "{}", reply.status);
                if function == Function::HandleNotification {
                    prop_assert!(matches!(reply.status, 204 | 400));
                }
            }
            // Nothing that reached the live session decoded into a valid step.
            let state = session_state(f);
            prop_assert!(state == "Initiated" || state == "Closed", "{state}");
            Ok(())
        })?;
    }

    #[test]
    fn asn1_binding_never_panics(content in blob(), inner in prop::sample::select(vec![0xBF39u32, 0xBF3B, 0xBF3A, 0xBF41, 0xBF3D, 0x30])) {
        thread_local!(static F: Fixture = fixture());
        F.with(|f| {
            let now = OffsetDateTime::now_utc();
            let mut framed_inner = vec![(inner >> 8) as u8, inner as u8];
            if inner == 0x30 {
                framed_inner = vec![0x30];
            }
            framed_inner.push(u8::try_from(content.len().min(0x7F)).unwrap());
            framed_inner.extend(content.iter().take(0x7F));
            let mut framed = vec![0xA2, u8::try_from(framed_inner.len().min(0xFF)).unwrap_or(0xFF)];
            if framed_inner.len() > 0x7F {
                framed = vec![0xA2, 0x81, u8::try_from(framed_inner.len()).unwrap_or(0xFF)];
            }
            framed.extend(&framed_inner);
            for body in [content.clone(), framed] {
                let reply = f.rt.block_on(asn1::handle(&f.s.service, &body, now));
                prop_assert!(matches!(reply.status, 200 | 204 | 400), "{}", reply.status);
                if reply.status == 200 {
                    prop_assert!(rsp_sgp22::RemoteProfileProvisioningResponse::decode(&reply.body).is_ok());
                }
            }
            Ok(())
        })?;
    }
}
