//! Per-channel negotiation as the LPA does it (sgp22.md §3, §6).
//!
//! - LPAd ↔ eUICC: the LPA reads EUICCInfo1/2 (`highestSvn`, `euiccRspCapability`) and limits
//!   itself to what both support: [`DeviceSide::new`]. A v2 LPA, or a v3 LPA in front of a v2
//!   eUICC, runs as v2: no `lpaRspCapability` in InitiateAuthentication nor in DeviceInfo.
//! - Device ↔ server: the server's `ServerSigned1` tells whether it is v3 (`sessionContext` or
//!   `serverRspCapability` present); [`SessionSide::new`] turns both declarations into the
//!   [`Profile`] every later message is encoded for, with [`rsp_sgp22::negotiate`]. A v2 server
//!   never receives a v3 element.

use rsp_sgp22::version::{V2_MAX, V3_0_0};
use rsp_sgp22::{
    Capabilities, EuiccInfo1, EuiccInfo2, EuiccRspCapability, LpaRspCapability, Profile,
    ServerSigned1, negotiate,
};
use rsp_types::Svn;

use crate::config::LpaConfig;

/// The eUICC's version: `highestSvn` when present (v3), else its only `svn` / `lowestSvn`,
/// capped below 3.0.0 (a card without `highestSvn` is pre-v3).
pub fn card_svn(info1: &EuiccInfo1, info2: Option<&EuiccInfo2>) -> Svn {
    info1
        .highest_svn
        .or_else(|| info2.and_then(|i| i.highest_svn))
        .unwrap_or_else(|| info1.lowest_svn.min(V2_MAX))
}

/// Which eUICC bit each `LpaRspCapability` bit depends on; bits without an entry are
/// device-only (apduApiSupport, euiccCiUpdateSupport, eventCheckingSupport,
/// pendingOperationAlertingSupport).
const LPA_BITS_NEEDING_CARD: &[(usize, usize)] = &[
    (
        LpaRspCapability::CRL_STAPLING_V3_SUPPORT,
        EuiccRspCapability::CRL_STAPLING_V3_SUPPORT,
    ),
    (
        LpaRspCapability::CERT_CHAIN_V3_SUPPORT,
        EuiccRspCapability::CERT_CHAIN_V3_VERIFICATION_SUPPORT,
    ),
    (
        LpaRspCapability::ENTERPRISE_CAPABLE_DEVICE,
        EuiccRspCapability::ENTERPRISE_PROFILES_SUPPORT,
    ),
    (
        LpaRspCapability::LPA_PROXY_SUPPORT,
        EuiccRspCapability::LPA_PROXY_SUPPORT,
    ),
    (
        LpaRspCapability::SIGNED_SMDS_RESPONSE_V3_SUPPORT,
        EuiccRspCapability::SIGNED_SMDS_RESPONSE_V3_SUPPORT,
    ),
    (
        LpaRspCapability::PUSH_SERVICE_SUPPORT,
        EuiccRspCapability::PUSH_SERVICE_REGISTRATION_SUPPORT,
    ),
];

/// The configured `LpaRspCapability` limited to what the eUICC supports.
pub fn limit_lpa_capability(
    configured: &LpaRspCapability,
    card: Option<&EuiccRspCapability>,
) -> LpaRspCapability {
    let mut out = configured.clone();
    for (lpa_bit, card_bit) in LPA_BITS_NEEDING_CARD {
        if out.has(*lpa_bit) && !card.is_some_and(|c| c.has(*card_bit)) {
            out.0.set(*lpa_bit, false);
        }
    }
    out
}

/// The LPA ↔ eUICC side, decided before talking to any server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceSide {
    /// The LPA's configured version.
    pub lpa_svn: Svn,
    /// The eUICC's version ([`card_svn`]).
    pub card_svn: Svn,
    /// The eUICC's capability bits (EUICCInfo2, else EUICCInfo1).
    pub euicc_rsp_capability: Option<EuiccRspCapability>,
    /// What the LPA declares: `Some` only when both the LPA and the eUICC are v3.
    pub lpa_rsp_capability: Option<LpaRspCapability>,
    /// What the device (LPA + eUICC) may receive and sends before the server is known.
    pub profile: Profile,
}

impl DeviceSide {
    /// The device side from the LPA's configuration and what the card told.
    pub fn new(config: &LpaConfig, info1: &EuiccInfo1, info2: Option<&EuiccInfo2>) -> DeviceSide {
        let card_svn = card_svn(info1, info2);
        let euicc_rsp_capability = info2
            .map(|i| i.euicc_rsp_capability.clone())
            .or_else(|| info1.euicc_rsp_capability.clone());
        let svn = config.svn.min(card_svn);
        let v3 = svn >= V3_0_0;
        let lpa_rsp_capability = v3.then(|| {
            limit_lpa_capability(&config.lpa_rsp_capability, euicc_rsp_capability.as_ref())
        });
        let profile = if v3 {
            Profile::new(svn).with_features(
                Capabilities {
                    euicc: euicc_rsp_capability.clone(),
                    lpa: lpa_rsp_capability.clone(),
                    server: None,
                    other: rsp_sgp22::FeatureSet::EMPTY,
                }
                .declared_features(),
            )
        } else {
            Profile::new(svn.min(V2_MAX))
        };
        DeviceSide {
            lpa_svn: config.svn,
            card_svn,
            euicc_rsp_capability,
            lpa_rsp_capability,
            profile,
        }
    }

    /// Whether the device runs as v3.
    pub fn is_v3(&self) -> bool {
        self.profile.is_v3()
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            euicc: self.euicc_rsp_capability.clone(),
            lpa: self.lpa_rsp_capability.clone(),
            server: None,
            other: rsp_sgp22::FeatureSet::EMPTY,
        }
    }
}

/// The device ↔ server side of one RSP session, decided from ServerSigned1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSide {
    /// Whether the server declared itself v3 (sessionContext or serverRspCapability present).
    pub server_is_v3: bool,
    /// The server's version: `sessionContext.serverSvn`, else its `X-Admin-Protocol`, else
    /// the device's version capped below 3.0.0.
    pub server_svn: Svn,
    /// What the server and the device may both receive: every later message (and the
    /// ctxParams1 the eUICC signs for the server) is encoded for it.
    pub profile: Profile,
}

impl SessionSide {
    /// The session side from the device side, the server's signed declarations and the
    /// version in its `X-Admin-Protocol` header (if any).
    pub fn new(
        device: &DeviceSide,
        server_signed1: &ServerSigned1,
        admin_protocol: Option<Svn>,
    ) -> SessionSide {
        let server_is_v3 = server_signed1.session_context.is_some()
            || server_signed1.server_rsp_capability.is_some();
        let declared = server_signed1
            .session_context
            .as_ref()
            .map(|c| c.server_svn)
            .or(admin_protocol);
        let server_svn = if server_is_v3 {
            declared.unwrap_or(V3_0_0)
        } else {
            declared.unwrap_or(device.profile.svn).min(V2_MAX)
        };
        let server = Capabilities {
            server: server_signed1.server_rsp_capability.clone(),
            ..Capabilities::default()
        };
        let device_caps = device.capabilities();
        let device_arg = device.is_v3().then_some(&device_caps);
        let profile = negotiate(&server, device_arg, server_svn, device.profile.svn);
        SessionSide {
            server_is_v3,
            server_svn,
            profile,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsp_sgp22::{SeqOf, ServerRspCapability, SessionContext};

    fn info1(highest: Option<Svn>, cap: Option<EuiccRspCapability>) -> EuiccInfo1 {
        EuiccInfo1 {
            lowest_svn: Svn::new(2, 2, 0),
            euicc_ci_pk_id_list_for_verification: SeqOf(vec![vec![1; 20]]),
            euicc_ci_pk_id_list_for_signing: SeqOf(vec![vec![1; 20]]),
            euicc_ci_pk_id_list_for_signing_v3: None,
            euicc_rsp_capability: cap,
            highest_svn: highest,
            unknown_tags: vec![],
        }
    }

    fn signed1(v3: bool) -> ServerSigned1 {
        ServerSigned1 {
            transaction_id: rsp_sgp22::TransactionId::new(&[1]).unwrap_or_else(|_| unreachable!()),
            euicc_challenge: rsp_sgp22::Octet16([0; 16]),
            server_address: "a".into(),
            server_challenge: rsp_sgp22::Octet16([0; 16]),
            session_context: v3.then(|| SessionContext {
                server_svn: Svn::new(3, 1, 0),
                crl_stapling_v3_used: false,
                euicc_ci_pk_id_to_be_used_v3: None,
                supported_push_services: None,
                unknown_tags: vec![],
            }),
            server_rsp_capability: v3.then(ServerRspCapability::default),
            unknown_tags: vec![],
        }
    }

    #[test]
    fn v2_lpa_never_declares_capabilities() {
        let cfg = LpaConfig::new(Svn::new(2, 2, 2)).with_capability(&[0, 1, 7]);
        let d = DeviceSide::new(&cfg, &info1(Some(Svn::new(3, 1, 0)), None), None);
        assert_eq!(d.lpa_rsp_capability, None);
        assert_eq!(d.profile, Profile::new(Svn::new(2, 2, 2)));
    }

    #[test]
    fn v3_lpa_in_front_of_v2_card_runs_as_v2() {
        let cfg = LpaConfig::new(Svn::new(3, 1, 0)).with_capability(&[7]);
        let d = DeviceSide::new(&cfg, &info1(None, None), None);
        assert_eq!(d.card_svn, Svn::new(2, 2, 0));
        assert_eq!(d.lpa_rsp_capability, None);
        assert!(!d.is_v3());
    }

    #[test]
    fn v3_lpa_limits_bits_to_the_card() {
        let cfg = LpaConfig::new(Svn::new(3, 1, 0)).with_capability(&[
            LpaRspCapability::CRL_STAPLING_V3_SUPPORT,
            LpaRspCapability::CERT_CHAIN_V3_SUPPORT,
            LpaRspCapability::EVENT_CHECKING_SUPPORT,
        ]);
        let card = EuiccRspCapability::with_bits(&[
            EuiccRspCapability::CERT_CHAIN_V3_VERIFICATION_SUPPORT,
        ]);
        let d = DeviceSide::new(&cfg, &info1(Some(Svn::new(3, 0, 0)), Some(card)), None);
        assert_eq!(d.profile.svn, Svn::new(3, 0, 0));
        let caps = d.lpa_rsp_capability.unwrap_or_default();
        assert!(!caps.has(LpaRspCapability::CRL_STAPLING_V3_SUPPORT));
        assert!(caps.has(LpaRspCapability::CERT_CHAIN_V3_SUPPORT));
        assert!(caps.has(LpaRspCapability::EVENT_CHECKING_SUPPORT));
    }

    #[test]
    fn server_version_decides_the_session() {
        let cfg = LpaConfig::new(Svn::new(3, 1, 0)).with_capability(&[7]);
        let d = DeviceSide::new(&cfg, &info1(Some(Svn::new(3, 1, 0)), None), None);
        assert!(d.is_v3());
        let v2 = SessionSide::new(&d, &signed1(false), Some(Svn::new(2, 1, 0)));
        assert!(!v2.server_is_v3);
        assert_eq!(v2.profile, Profile::new(Svn::new(2, 1, 0)));
        let v2_no_header = SessionSide::new(&d, &signed1(false), None);
        assert!(!v2_no_header.profile.is_v3());
        let v3 = SessionSide::new(&d, &signed1(true), Some(Svn::new(2, 1, 0)));
        assert!(v3.server_is_v3);
        assert_eq!(v3.profile.svn, Svn::new(3, 1, 0));
        // A v2 device stays v2 with a v3 server.
        let d2 = DeviceSide::new(
            &LpaConfig::new(Svn::new(2, 2, 2)),
            &info1(Some(Svn::new(3, 1, 0)), None),
            None,
        );
        let s = SessionSide::new(&d2, &signed1(true), None);
        assert_eq!(s.profile, Profile::new(Svn::new(2, 2, 2)));
    }
}
