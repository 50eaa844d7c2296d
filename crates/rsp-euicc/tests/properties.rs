//! Property test: arbitrary sequences of APDUs (well-formed commands with random arguments, and raw
//! random bytes) and device inputs never panic and always keep the card invariants: at most one
//! enabled profile; the Fall-Back attribute, once held, stays on exactly one installed profile;
//! the Emergency attribute never on the Fall-Back profile; memory within bounds.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::OnceLock;

use common::*;
use proptest::prelude::*;
use rsp_euicc::m2m::{M2mCard, Pol1, ProfileClass, ProfileMetadata};
use rsp_gp::CardCommand;

fn pki() -> &'static TestPki {
    static PKI: OnceLock<TestPki> = OnceLock::new();
    PKI.get_or_init(TestPki::new)
}

#[derive(Debug, Clone)]
enum Op {
    Raw(Vec<u8>),
    RawToIsdP(u8, Vec<u8>),
    Create(u8, Option<u32>),
    Enable(u8),
    Disable(u8),
    Delete(u8),
    FallBack(u8),
    Emergency(u8),
    Confirm(u16),
    ConfirmPolled,
    Status(u8),
    Select(u8),
    Certificate(u8, u8),
    Download(u8, u8, bool),
    Timeout(u64),
    Poll,
    ConnectivityLost,
    Attach,
    LocalTest(u8),
    LocalTestOff,
    LocalEmergency,
    LocalEmergencyOff,
    UpdatePol1(u8, u8),
    Reset,
}

fn op() -> impl Strategy<Value = Op> {
    let n = 0u8..5;
    prop_oneof![
        3 => proptest::collection::vec(any::<u8>(), 0..64).prop_map(Op::Raw),
        2 => (n.clone(), proptest::collection::vec(any::<u8>(), 0..64)).prop_map(|(a, b)| Op::RawToIsdP(a, b)),
        2 => (n.clone(), proptest::option::of(0u32..200_000)).prop_map(|(a, q)| Op::Create(a, q)),
        3 => n.clone().prop_map(Op::Enable),
        3 => n.clone().prop_map(Op::Disable),
        2 => n.clone().prop_map(Op::Delete),
        2 => n.clone().prop_map(Op::FallBack),
        2 => n.clone().prop_map(Op::Emergency),
        1 => (0u16..20).prop_map(Op::Confirm),
        3 => Just(Op::ConfirmPolled),
        1 => n.clone().prop_map(Op::Status),
        1 => n.clone().prop_map(Op::Select),
        1 => (n.clone(), 0u8..3).prop_map(|(a, c)| Op::Certificate(a, c)),
        2 => (1u8..5, 0u8..8, any::<bool>()).prop_map(|(a, p, t)| Op::Download(a, p, t)),
        2 => (0u64..200).prop_map(Op::Timeout),
        2 => Just(Op::Poll),
        2 => Just(Op::ConnectivityLost),
        1 => Just(Op::Attach),
        1 => n.clone().prop_map(Op::LocalTest),
        1 => Just(Op::LocalTestOff),
        1 => Just(Op::LocalEmergency),
        1 => Just(Op::LocalEmergencyOff),
        1 => (n, 0u8..8).prop_map(|(a, p)| Op::UpdatePol1(a, p)),
        1 => Just(Op::Reset),
    ]
}

fn run(card: &mut M2mCard, op: &Op, now: &mut u64, polled: &mut Vec<u16>) {
    let pki = pki();
    match op {
        Op::Raw(bytes) => {
            let r = card.process_apdu(bytes);
            assert!(r.len() >= 2);
        }
        Op::RawToIsdP(n, bytes) => {
            select(card, &aid(*n));
            let mut apdu = vec![0x80, 0xE2, 0x90, 0x00];
            apdu.push(bytes.len() as u8);
            apdu.extend_from_slice(bytes);
            assert!(card.process_apdu(&apdu).len() >= 2);
            assert!(card.process_apdu(bytes).len() >= 2);
        }
        Op::Create(n, q) => {
            create_isdp(card, aid(*n), *q);
        }
        Op::Enable(n) => {
            enable(card, aid(*n));
        }
        Op::Disable(n) => {
            disable(card, aid(*n));
        }
        Op::Delete(n) => {
            delete(card, aid(*n));
        }
        Op::FallBack(n) => {
            select(card, &isd_r());
            cmd(card, CardCommand::set_fall_back_attribute(aid(*n)));
        }
        Op::Emergency(n) => {
            select(card, &isd_r());
            cmd(card, CardCommand::set_emergency_profile_attribute(aid(*n)));
        }
        Op::Confirm(seq) => {
            confirm(card, *seq);
        }
        Op::ConfirmPolled => {
            if let Some(seq) = polled.pop() {
                confirm(card, seq);
            }
        }
        Op::Status(n) => {
            status(card, aid(*n));
        }
        Op::Select(n) => {
            select(card, &aid(*n));
        }
        Op::Certificate(n, which) => {
            let cert = match which {
                0 => &pki.sm_dp.cert,
                1 => &pki.sm_sr.cert,
                _ => &pki.rogue_dp.cert,
            };
            if let Ok(rc) = send_certificate(card, Some(aid(*n)), cert) {
                let _ = send_key_agreement(card, &pki.sm_dp.key, &rc, scp03_crt(), |_| {});
            }
        }
        Op::Download(n, pol1, test) => {
            let a = aid(*n);
            if card.isd_p(&a).is_none() && create_isdp(card, a, None) == 0x9000 {
                let m = ProfileMetadata {
                    iccid: None,
                    class: if *test {
                        ProfileClass::Test
                    } else {
                        ProfileClass::Operational
                    },
                    pol1: Pol1::from_bits(pol1 << 5),
                };
                let keys = establish(card, pki, a);
                let mut session = open_scp03(card, a, keys);
                store_metadata(card, &mut session, &m);
                let package = with_iccid(TS48_NO_BERTLV, &iccid(*n));
                send_package(card, session, &package, |_, _| {});
            }
        }
        Op::Timeout(dt) => {
            *now += dt;
            card.handle_timeout(t(*now));
        }
        Op::Poll => {
            if let Some(n) = card.poll_notification() {
                rsp_gp::DefaultNotification::parse(&n.payload).unwrap();
                polled.push(n.seq);
            }
        }
        Op::ConnectivityLost => {
            let _ = card.connectivity_lost(t(*now));
        }
        Op::Attach => card.network_attached(t(*now)),
        Op::LocalTest(n) => {
            let _ = card.local_enable_test_profile(aid(*n));
        }
        Op::LocalTestOff => {
            let _ = card.local_disable_test_profile();
        }
        Op::LocalEmergency => {
            let _ = card.local_enable_emergency_profile();
        }
        Op::LocalEmergencyOff => {
            let _ = card.local_disable_emergency_profile();
        }
        Op::UpdatePol1(n, bits) => {
            let _ = card.update_pol1(aid(*n), Pol1::from_bits(bits << 5));
        }
        Op::Reset => card.reset(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_sequences_keep_the_invariants(
        bootstrap in any::<bool>(),
        ops in proptest::collection::vec(op(), 1..60),
    ) {
        let mut card = issue(pki(), 70, bootstrap);
        let mut now = 0u64;
        let mut polled = Vec::new();
        let mut fall_back_seen = card.fall_back_profile().is_some();
        for op in &ops {
            run(&mut card, op, &mut now, &mut polled);
            card.check_invariants().map_err(|e| TestCaseError::fail(format!("{op:?}: {e}")))?;
            let fb = card.fall_back_profile();
            if fall_back_seen {
                prop_assert!(fb.is_some(), "the Fall-Back attribute vanished after {:?}", op);
            }
            fall_back_seen |= fb.is_some();
            if let (Some(e), Some(f)) = (card.emergency_profile(), fb) {
                prop_assert_ne!(e, f);
            }
            let enabled = card.isd_ps().filter(|p| p.state == rsp_euicc::m2m::IsdPState::Enabled).count();
            prop_assert!(enabled <= 1);
        }
    }

    #[test]
    fn random_bytes_never_panic(chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 1..30)) {
        let mut card = issue(pki(), 71, true);
        for c in &chunks {
            let r = card.process_apdu(c);
            prop_assert!(r.len() >= 2);
        }
        card.check_invariants().map_err(|e| TestCaseError::fail(e.to_string()))?;
    }
}
