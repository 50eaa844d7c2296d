//! The SGP.22 v2/v3 interoperability matrix (sgp22.md §6, §7), defined once as data
//! ([`PAIRINGS`]) and run by one runner ([`run`], [`run_with`], [`run_all`]) that the tests and
//! `rsp demo sgp22` share.
//!
//! Each pairing starts a fresh SM-DP+ ([`smdp::Smdp`]: the production HTTPS listener on
//! 127.0.0.1, SGP.26 CERT.DPauth/CERT.DPpb, a CERT.DP.TLS minted from the SGP.26 CI key, its own
//! store and version, an inventory with the package versions that server knows), places an
//! ES2+ order over HTTPS, and downloads the profile with a fresh LPA into a fresh consumer eUICC
//! holding the SGP.26 test identity. The runner then checks the bytes on the wire: the
//! `X-Admin-Protocol` values, `sessionContext` (`A5`) and `serverRspCapability` (`86`) in
//! ServerSigned1, the signed `lpaRspCapability` in DeviceInfo, the certificates used, the
//! v3-only elements that reached a peer that negotiated v2 (counted through the message gates,
//! [`gates`]), the delivered package version, the order state and the UPP on the card.

#![forbid(unsafe_code)]

pub mod discovery;
pub mod fixtures;
pub mod gates;
pub mod smdp;
pub mod smds;

use std::path::Path;
use std::time::Instant;

use rsp_euicc::consumer::ConsumerConfig;
pub use rsp_lpa::Binding;
use rsp_lpa::harness::Fixtures;
use rsp_lpa::{Es9Function, LpaConfig, SessionSide, WireLog};
use rsp_sgp22::{
    AuthenticateServerResponse, CtxParams1, DerTlv, EuiccRspCapability, Feature,
    InitiateAuthenticationResponse, LpaRspCapability, RemoteProfileProvisioningRequest,
    RemoteProfileProvisioningResponse, ServerSigned1,
};
use rsp_smdpp::order::OrderState;
use rsp_types::{ExecutionStatus, Svn};

pub use fixtures::write_fixtures;
pub use gates::{V2PeerAudit, Violation, audit_towards_v2, check_field};
pub use smdp::{BoxError, Es2Exchange, ServerSetup, SigningCurve, Smdp};

/// One pairing of the matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pairing {
    /// Scenario name.
    pub scenario: &'static str,
    /// The eUICC's SGP.22 version (`highestSvn`).
    pub card: Svn,
    /// The LPA's SGP.22 version.
    pub lpa: Svn,
    /// The SM-DP+'s SGP.22 version.
    pub server: Svn,
    /// The package versions the SM-DP+'s inventory holds the profile in: a v2 server knows only
    /// v2 packages.
    pub server_packages: &'static [Svn],
    /// Whether the session must negotiate v3 (the only case where v3 elements may flow).
    pub v3_session: bool,
    /// The profile package version that must be delivered.
    pub package: Svn,
}

const V2_2_2: Svn = Svn::new(2, 2, 2);
const V2_5_0: Svn = Svn::new(2, 5, 0);
pub(crate) const V3_1_0: Svn = Svn::new(3, 1, 0);
/// The v2 package version of the TS.48 profile.
pub const PKG_V2: Svn = Svn::new(2, 3, 0);
/// The v3 package version of the TS.48 profile.
pub const PKG_V3: Svn = Svn::new(3, 1, 0);
const V2_PACKAGES: &[Svn] = &[PKG_V2];
pub(crate) const V3_PACKAGES: &[Svn] = &[PKG_V2, PKG_V3];

/// The six pairings of the issue (sgp22.md §6).
pub const PAIRINGS: [Pairing; 6] = [
    Pairing {
        scenario: "v2 device + v2 server",
        card: V2_2_2,
        lpa: V2_2_2,
        server: V2_2_2,
        server_packages: V2_PACKAGES,
        v3_session: false,
        package: PKG_V2,
    },
    Pairing {
        scenario: "v3 device + v2 server",
        card: V3_1_0,
        lpa: V3_1_0,
        server: V2_5_0,
        server_packages: V2_PACKAGES,
        v3_session: false,
        package: PKG_V2,
    },
    Pairing {
        scenario: "v2 device + v3 server",
        card: V2_2_2,
        lpa: V2_2_2,
        server: V3_1_0,
        server_packages: V3_PACKAGES,
        v3_session: false,
        package: PKG_V2,
    },
    Pairing {
        scenario: "v3 device + v3 server",
        card: V3_1_0,
        lpa: V3_1_0,
        server: V3_1_0,
        server_packages: V3_PACKAGES,
        v3_session: true,
        package: PKG_V3,
    },
    Pairing {
        scenario: "v2 eUICC + v3 SM-DP+ download",
        card: V2_2_2,
        lpa: V3_1_0,
        server: V3_1_0,
        server_packages: V3_PACKAGES,
        v3_session: false,
        package: PKG_V2,
    },
    Pairing {
        scenario: "v3 eUICC + v2 SM-DP+ download",
        card: V3_1_0,
        lpa: V3_1_0,
        server: V2_2_2,
        server_packages: V2_PACKAGES,
        v3_session: false,
        package: PKG_V2,
    },
];

/// The pairing named `scenario`.
pub fn pairing(scenario: &str) -> Option<&'static Pairing> {
    PAIRINGS.iter().find(|p| p.scenario == scenario)
}

impl Pairing {
    /// The SM-DP+ of this pairing on `curve`.
    pub fn server_setup(&self, curve: SigningCurve) -> ServerSetup {
        ServerSetup {
            svn: self.server,
            package_versions: self.server_packages.to_vec(),
            curve,
        }
    }

    /// The LPA: a v3 LPA declares Event Checking and Push Service.
    pub fn lpa_config(&self) -> LpaConfig {
        let config = LpaConfig::new(self.lpa);
        if self.lpa >= rsp_sgp22::version::V3_0_0 {
            config.with_capability(&[
                LpaRspCapability::EVENT_CHECKING_SUPPORT,
                LpaRspCapability::PUSH_SERVICE_SUPPORT,
            ])
        } else {
            config
        }
    }

    /// The card: the consumer defaults for its version; a v3 card also declares Push Service
    /// registration.
    pub fn card_config(&self) -> ConsumerConfig {
        let mut config = ConsumerConfig::new(self.card);
        if config.is_v3() {
            let mut bits: Vec<usize> = (0..32).filter(|b| config.capability.has(*b)).collect();
            bits.push(EuiccRspCapability::PUSH_SERVICE_REGISTRATION_SUPPORT);
            config.capability = EuiccRspCapability::with_bits(&bits);
        }
        config
    }
}

/// How a pairing is run (the matrix runs with the default: NIST, JSON binding).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunOptions {
    /// The SM-DP+'s signing curve (TLS stays P-256).
    pub curve: SigningCurve,
    /// The ES9+ binding.
    pub binding: Binding,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            curve: SigningCurve::Nist,
            binding: Binding::Json,
        }
    }
}

/// What a pairing left behind, for tests that look further than the report.
#[derive(Debug, Clone)]
pub struct Evidence {
    /// Every ES9+ exchange.
    pub log: WireLog,
    /// The ES2+ exchanges that placed the order.
    pub es2: Vec<Es2Exchange>,
    /// What the LPA negotiated with the server.
    pub session: Option<SessionSide>,
    /// The wire log audited as a v2 receiver would see it (for a v3 session too: there it
    /// shows what a v2 peer would have been sent).
    pub audit: V2PeerAudit,
    /// The SM-DP+'s CERT.DPauth (DER).
    pub dp_auth: Vec<u8>,
    /// The UPP the SM-DP+ delivers for the ordered ICCID.
    pub upp: Vec<u8>,
}

/// What one pairing did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    /// Scenario name.
    pub scenario: String,
    /// `card/LPA` versions.
    pub device_svn: String,
    /// The SM-DP+'s version.
    pub server_svn: String,
    /// The profile package version delivered (the SM-DP+'s record of the order).
    pub package_version: Option<String>,
    /// v3-only elements that reached a peer that negotiated v2, after its version was known.
    pub v3_elements_sent_to_v2_peer: usize,
    /// `passed` or `failed`.
    pub status: String,
    /// Wall time of the pairing (server start to shutdown).
    pub duration_ms: u64,
    /// Each check (`ok …` / `FAIL …`) and note (`note …`).
    #[serde(skip)]
    pub details: Vec<String>,
    /// The raw material.
    #[serde(skip)]
    pub evidence: Option<Evidence>,
}

impl Report {
    /// Whether every check passed.
    pub fn passed(&self) -> bool {
        self.status == "passed"
    }

    /// The failed checks.
    pub fn failures(&self) -> Vec<&str> {
        self.details
            .iter()
            .filter(|d| d.starts_with("FAIL"))
            .map(String::as_str)
            .collect()
    }

    fn check(&mut self, ok: bool, what: impl std::fmt::Display) {
        self.details
            .push(format!("{} {what}", if ok { "ok" } else { "FAIL" }));
    }

    fn note(&mut self, what: impl std::fmt::Display) {
        self.details.push(format!("note {what}"));
    }
}

/// Runs `p` with the default options.
pub async fn run(p: &Pairing, fixtures: &Fixtures, dir: &Path) -> Report {
    run_with(p, fixtures, dir, RunOptions::default()).await
}

/// Runs one pairing; `fixtures` as [`write_fixtures`] lays them out, `dir` for the store.
pub async fn run_with(p: &Pairing, fixtures: &Fixtures, dir: &Path, opts: RunOptions) -> Report {
    let started = Instant::now();
    let mut report = Report {
        scenario: p.scenario.to_string(),
        device_svn: format!("{}/{}", p.card, p.lpa),
        server_svn: p.server.to_string(),
        package_version: None,
        v3_elements_sent_to_v2_peer: 0,
        status: "failed".into(),
        duration_ms: 0,
        details: Vec::new(),
        evidence: None,
    };
    if let Err(e) = run_checks(p, fixtures, dir, opts, &mut report).await {
        report.check(false, format!("the pairing did not complete: {e}"));
    }
    if report.failures().is_empty() {
        report.status = "passed".into();
    }
    report.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    report
}

/// The ServerSigned1 the wire log shows (either binding).
pub fn server_signed1(log: &WireLog) -> Option<ServerSigned1> {
    let init = log.last(Es9Function::InitiateAuthentication)?;
    if let Some(der) = init.response_field("serverSigned1") {
        return ServerSigned1::from_der(der).ok();
    }
    let body = init.response_der.iter().find(|f| f.name == "body")?;
    match RemoteProfileProvisioningResponse::from_der(&body.der).ok()? {
        RemoteProfileProvisioningResponse::InitiateAuthentication(
            InitiateAuthenticationResponse::Ok(ok),
        ) => Some(ok.server_signed1.into_value()),
        _ => None,
    }
}

/// The CERT.DPauth the wire log shows in InitiateAuthentication's response (either binding).
pub fn server_certificate(log: &WireLog) -> Option<Vec<u8>> {
    let init = log.last(Es9Function::InitiateAuthentication)?;
    if let Some(der) = init.response_field("serverCertificate") {
        return Some(der.to_vec());
    }
    let body = init.response_der.iter().find(|f| f.name == "body")?;
    match RemoteProfileProvisioningResponse::from_der(&body.der).ok()? {
        RemoteProfileProvisioningResponse::InitiateAuthentication(
            InitiateAuthenticationResponse::Ok(ok),
        ) => Some(ok.server_certificate.0),
        _ => None,
    }
}

/// The AuthenticateServerResponse the LPA relayed to the server (either binding).
pub fn authenticate_server_response(log: &WireLog) -> Option<AuthenticateServerResponse> {
    let e = log.last(Es9Function::AuthenticateClient)?;
    if let Some(der) = e.request_field("authenticateServerResponse") {
        return AuthenticateServerResponse::from_der(der).ok();
    }
    let body = e.request_der.iter().find(|f| f.name == "body")?;
    match RemoteProfileProvisioningRequest::from_der(&body.der).ok()? {
        RemoteProfileProvisioningRequest::AuthenticateClient(req) => {
            Some(req.authenticate_server_response)
        }
        _ => None,
    }
}

/// Whether the InitiateAuthenticationRequest offered `lpaRspCapability` (either binding).
fn initiate_authentication_offers_lpa_capability(log: &WireLog) -> bool {
    let Some(e) = log.last(Es9Function::InitiateAuthentication) else {
        return false;
    };
    if e.request_field("lpaRspCapability").is_some() {
        return true;
    }
    e.request_der.iter().any(|f| {
        f.name == "body"
            && matches!(
                RemoteProfileProvisioningRequest::from_der(&f.der),
                Ok(RemoteProfileProvisioningRequest::InitiateAuthentication(r))
                    if r.lpa_rsp_capability.is_some()
            )
    })
}

/// `(major, minor)` of the ProfileHeader (`A0 { 80 major, 81 minor, … }`) opening a UPP.
pub fn upp_header_version(upp: &[u8]) -> Option<(u8, u8)> {
    use rsp_types::tlv;
    let (header, _) = tlv::parse_one(upp).ok()?;
    if header.tag.value() != 0xA0 {
        return None;
    }
    let byte = |t: u32| -> Option<u8> {
        let v = header.find(tlv::Tag::from_u32(t).ok()?).ok()??;
        v.value.first().copied()
    };
    Some((byte(0x80)?, byte(0x81)?))
}

async fn run_checks(
    p: &Pairing,
    fx: &Fixtures,
    dir: &Path,
    opts: RunOptions,
    report: &mut Report,
) -> Result<(), BoxError> {
    let smdp = Smdp::start(fx, &p.server_setup(opts.curve), dir).await?;
    let result = download_and_check(p, fx, &smdp, opts, report).await;
    smdp.shutdown().await?;
    result
}

async fn download_and_check(
    p: &Pairing,
    fx: &Fixtures,
    smdp: &Smdp,
    opts: RunOptions,
    report: &mut Report,
) -> Result<(), BoxError> {
    let matching_id = "INTEROP-MATRIX";

    // ES2+: DownloadOrder + ConfirmOrder over HTTPS with the Operator's client certificate.
    let (iccid, es2) = smdp.order(matching_id).await?;
    for e in &es2 {
        let expected = p.server.min(smdp::OPERATOR_SVN);
        report.check(
            e.status == ExecutionStatus::ExecutedSuccess
                && e.response_admin_protocol == Some(expected),
            format!(
                "ES2+ {}: {:?}, X-Admin-Protocol {} → {} (expected {expected})",
                e.function,
                e.status,
                e.request_admin_protocol,
                e.response_admin_protocol
                    .map_or("-".into(), |v| v.to_string())
            ),
        );
    }

    // ES9+: the full download.
    let log = WireLog::default();
    let card = rsp_lpa::harness::card_with(fx, p.card_config())?;
    let mut lpa = smdp.lpa(p.lpa_config(), card, opts.binding, &log)?;
    let outcome = lpa.download(&smdp::request(matching_id)).await;
    let upp = smdp.upp(&iccid)?;
    let mut evidence = Evidence {
        log: log.clone(),
        es2,
        session: None,
        audit: audit_towards_v2(&log),
        dp_auth: smdp.dp_auth_der.clone(),
        upp: upp.clone(),
    };
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => {
            report.evidence = Some(evidence);
            return Err(format!("download failed: {e}").into());
        }
    };
    evidence.session = Some(outcome.session.clone());

    // What was negotiated.
    let profile = outcome.session.profile;
    report.check(
        profile.is_v3() == p.v3_session,
        format!(
            "session negotiated v{} with features {{{}}}",
            profile.svn,
            Feature::ALL
                .iter()
                .filter(|f| profile.features.contains(**f))
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    );
    if p.v3_session {
        report.check(
            profile.features.contains(Feature::PushService),
            "Push Service negotiated (server, LPA and eUICC all declare it)",
        );
    } else {
        report.check(
            profile.features == rsp_sgp22::FeatureSet::EMPTY,
            "no optional feature in a v2 session",
        );
    }

    // ServerSigned1 on the wire.
    match server_signed1(&log) {
        Some(s) => {
            let ctx = s.session_context.is_some();
            let cap = s.server_rsp_capability.is_some();
            report.check(
                ctx == p.v3_session && cap == p.v3_session,
                format!(
                    "ServerSigned1 sessionContext (A5) {}, serverRspCapability (86) {}",
                    if ctx { "present" } else { "absent" },
                    if cap { "present" } else { "absent" },
                ),
            );
            if let Some(c) = &s.session_context {
                report.check(
                    c.server_svn == p.server,
                    format!("sessionContext.serverSvn {}", c.server_svn),
                );
                let push = c
                    .supported_push_services
                    .as_ref()
                    .is_some_and(|v| v.iter().any(|o| o.to_string() == smdp::PUSH_SERVICE_OID));
                report.check(
                    push,
                    "sessionContext.supportedPushServices offered to the v3 peer",
                );
            }
        }
        None => report.check(false, "no ServerSigned1 on the wire"),
    }

    // X-Admin-Protocol on every ES9+ exchange: the LPA states its version, the server its own.
    for e in log.exchanges() {
        let sent = e.request_admin_protocol();
        let answered = e.response_admin_protocol();
        report.check(
            sent == Some(p.lpa) && answered == Some(p.server),
            format!(
                "{:?} X-Admin-Protocol {} → {}",
                e.function,
                sent.map_or("-".into(), |v| v.to_string()),
                answered.map_or("-".into(), |v| v.to_string())
            ),
        );
    }

    // The signed DeviceInfo (euiccSigned1.ctxParams1) and the certificates on the wire.
    let offered = initiate_authentication_offers_lpa_capability(&log);
    let both_v3 = p.lpa >= rsp_sgp22::version::V3_0_0 && p.card >= rsp_sgp22::version::V3_0_0;
    report.check(
        offered == both_v3,
        format!(
            "InitiateAuthentication lpaRspCapability {}",
            if offered { "offered" } else { "not offered" }
        ),
    );
    match authenticate_server_response(&log) {
        Some(AuthenticateServerResponse::Ok(ok)) => {
            let signed = ok.euicc_signed1.value();
            let cap = match &signed.ctx_params1 {
                CtxParams1::CommonAuthentication(c) => c.device_info.lpa_rsp_capability.is_some(),
                _ => false,
            };
            report.check(
                cap == p.v3_session,
                format!(
                    "DeviceInfo (signed in euiccSigned1) lpaRspCapability {}",
                    if cap { "present" } else { "absent" }
                ),
            );
            let variant = opts.curve.sgp26_variant();
            let sgp26 = fixtures::file(&format!("sgp26/eUICC/CERT_EUICC_ECDSA_{variant}.der"));
            report.check(
                sgp26 == Some(ok.euicc_certificate.0.as_slice()),
                format!("euiccCertificate on the wire is the SGP.26 test eUICC's ({variant})"),
            );
        }
        Some(AuthenticateServerResponse::Error(e)) => report.check(
            false,
            format!("AuthenticateServer error {}", e.authenticate_error_code),
        ),
        None => report.check(false, "no AuthenticateServerResponse on the wire"),
    }
    report.check(
        server_certificate(&log).as_deref() == Some(smdp.dp_auth_der.as_slice()),
        format!(
            "serverCertificate on the wire is the SGP.26 CERT.DPauth ({})",
            opts.curve.sgp26_variant()
        ),
    );

    // v3-only elements towards a v2 peer, through the gates.
    let audit = &evidence.audit;
    for u in &audit.undecodable {
        report.check(false, format!("could not check {u}"));
    }
    for v in &audit.before_version_known {
        report.note(format!(
            "before the server's version was known (sgp22.md §6, not counted): {v}"
        ));
    }
    if p.v3_session {
        report.note(format!(
            "v3 session: {} v3 element(s) flowed, which a v2 peer would not have been sent",
            audit.violations.len()
        ));
    } else {
        report.v3_elements_sent_to_v2_peer = audit.violations.len();
        for v in &audit.violations {
            report.check(false, format!("v3 element sent to the v2 peer: {v}"));
        }
        report.check(
            audit.violations.is_empty(),
            format!(
                "{} v3 element(s) sent to the v2 peer ({} fields checked)",
                audit.violations.len(),
                audit.fields.len()
            ),
        );
    }

    // What was delivered and installed.
    let stored = smdp
        .order_of(&iccid)
        .await?
        .ok_or("the order disappeared")?;
    let delivered = stored.order.package_version;
    report.package_version = delivered.map(|v| v.to_string());
    report.check(
        delivered == Some(p.package),
        format!(
            "package version {} delivered (expected {}; the server knows {})",
            delivered.map_or("none".into(), |v| v.to_string()),
            p.package,
            p.server_packages
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    );
    if let Some((major, minor)) = upp_header_version(&upp) {
        report.note(format!(
            "the UPP's ProfileHeader says SAIP {major}.{minor} (one TS.48 template serves every package version)"
        ));
    }
    report.check(
        stored.order.state == OrderState::Installed,
        format!("order {:?}", stored.order.state),
    );
    let (transport, _) = lpa.into_parts();
    let card = transport.into_card();
    let same = card
        .profiles()
        .iter()
        .any(|pr| pr.iccid == iccid && pr.upp == upp);
    report.check(same, "the card holds the byte-identical UPP");
    report.evidence = Some(evidence);
    Ok(())
}

/// Runs every pairing, each in its own temporary directory; `progress` sees each pairing before
/// (`None`) and after (`Some(report)`) it runs.
pub async fn run_all(
    mut progress: impl FnMut(&Pairing, Option<&Report>),
) -> std::io::Result<Vec<Report>> {
    let root = tempfile::tempdir()?;
    let fixtures = write_fixtures(&root.path().join("fixtures"))?;
    let mut reports = Vec::new();
    for (i, p) in PAIRINGS.iter().enumerate() {
        let dir = root.path().join(format!("pairing-{i}"));
        std::fs::create_dir_all(&dir)?;
        progress(p, None);
        let r = run(p, &fixtures, &dir).await;
        progress(p, Some(&r));
        reports.push(r);
    }
    Ok(reports)
}
