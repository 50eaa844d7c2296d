//! The SGP.22 v2/v3 interoperability matrix (sgp22.md §6), defined once as data ([`PAIRINGS`])
//! and run by one runner ([`run`]) that the tests and `rsp demo sgp22` share.
//!
//! Each pairing starts a fresh SM-DP+ (its own store and SGP.22 version) on 127.0.0.1 over TLS,
//! a fresh consumer eUICC with the SGP.26 test identity and an LPA, places an order and downloads
//! a TS.48 profile. The report says what was negotiated and delivered, and how many v3-only
//! elements reached a peer that negotiated v2. That count is derived from the gates declared on
//! the messages (`check_tlv_gates`), not from a hand-written tag list.

#![forbid(unsafe_code)]

use std::path::Path;
use std::time::Instant;

use rsp_lpa::harness::{Fixtures, card, start_smdp};
use rsp_lpa::{Binding, Es9Function, LpaConfig, WireLog};
use rsp_sgp22::{
    AuthenticateServerResponse, DerTlv, LpaRspCapability, PendingNotification,
    PrepareDownloadResponse, Profile, RemoteProfileProvisioningRequest,
    RemoteProfileProvisioningResponse, ServerSigned1, SmdpSigned2, StoreMetadataRequest,
};
use rsp_smdpp::es9plus::Es9Config;
use rsp_smdpp::order::OrderState;
use rsp_types::Svn;

/// One pairing of the matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pairing {
    /// Scenario name.
    pub scenario: &'static str,
    /// The eUICC's SGP.22 version.
    pub card: Svn,
    /// The LPA's SGP.22 version.
    pub lpa: Svn,
    /// The SM-DP+'s SGP.22 version.
    pub server: Svn,
    /// Whether the session must negotiate v3.
    pub v3_session: bool,
    /// The profile package version that must be delivered.
    pub package: Svn,
}

const V2_2_2: Svn = Svn::new(2, 2, 2);
const V2_5_0: Svn = Svn::new(2, 5, 0);
const V3_1_0: Svn = Svn::new(3, 1, 0);
const PKG_V2: Svn = Svn::new(2, 3, 0);
const PKG_V3: Svn = Svn::new(3, 1, 0);

/// The six pairings of the issue.
pub const PAIRINGS: [Pairing; 6] = [
    Pairing {
        scenario: "v2 device + v2 server",
        card: V2_2_2,
        lpa: V2_2_2,
        server: V2_2_2,
        v3_session: false,
        package: PKG_V2,
    },
    Pairing {
        scenario: "v3 device + v2 server",
        card: V3_1_0,
        lpa: V3_1_0,
        server: V2_5_0,
        v3_session: false,
        package: PKG_V2,
    },
    Pairing {
        scenario: "v2 device + v3 server",
        card: V2_2_2,
        lpa: V2_2_2,
        server: V3_1_0,
        v3_session: false,
        package: PKG_V2,
    },
    Pairing {
        scenario: "v3 device + v3 server",
        card: V3_1_0,
        lpa: V3_1_0,
        server: V3_1_0,
        v3_session: true,
        package: PKG_V3,
    },
    Pairing {
        scenario: "v2 eUICC + v3 SM-DP+ download",
        card: V2_2_2,
        lpa: V3_1_0,
        server: V3_1_0,
        v3_session: false,
        package: PKG_V2,
    },
    Pairing {
        scenario: "v3 eUICC + v2 SM-DP+ download",
        card: V3_1_0,
        lpa: V3_1_0,
        server: V2_2_2,
        v3_session: false,
        package: PKG_V2,
    },
];

/// What one pairing did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    /// Scenario name.
    pub scenario: String,
    /// `card/LPA` versions.
    pub device_svn: String,
    /// The SM-DP+'s version.
    pub server_svn: String,
    /// The profile package version delivered.
    pub package_version: Option<String>,
    /// v3-only elements that reached a peer that negotiated v2 (after its version was known).
    pub v3_elements_sent_to_v2_peer: usize,
    /// `passed` or `failed`.
    pub status: String,
    /// Wall time of the pairing.
    pub duration_ms: u64,
    /// What was checked, and what went wrong.
    #[serde(skip)]
    pub details: Vec<String>,
}

impl Report {
    /// Whether every check passed.
    pub fn passed(&self) -> bool {
        self.status == "passed"
    }
}

/// The receiver profile of a v2 peer.
const V2_PEER: Profile = Profile::new(Svn::new(2, 255, 255));

/// Gate violations for a v2 receiver of `der`, decoded as the type named by `field`.
pub fn v2_violations(field: &str, der: &[u8]) -> Vec<String> {
    fn check<T: DerTlv>(der: &[u8]) -> Option<String> {
        match T::from_der(der) {
            Ok(v) => v.check_tlv_gates(&V2_PEER).err().map(|e| e.to_string()),
            Err(_) => None,
        }
    }
    let found = match field {
        "serverSigned1" => check::<ServerSigned1>(der),
        "profileMetadata" => check::<StoreMetadataRequest>(der),
        "smdpSigned2" => check::<SmdpSigned2>(der),
        "authenticateServerResponse" => check::<AuthenticateServerResponse>(der),
        "prepareDownloadResponse" => check::<PrepareDownloadResponse>(der),
        "pendingNotification" => check::<PendingNotification>(der),
        "request-body" => check::<RemoteProfileProvisioningRequest>(der),
        "response-body" => check::<RemoteProfileProvisioningResponse>(der),
        _ => None,
    };
    found.into_iter().map(|e| format!("{field}: {e}")).collect()
}

/// Every v3-only element the wire log shows reaching a v2 peer: all server responses, and every
/// request after InitiateAuthentication (that one precedes the server's version; sgp22.md §6
/// lets a v3 LPA offer lpaRspCapability there, and a v2 server ignores it).
pub fn violations_towards_v2(log: &WireLog) -> Vec<String> {
    let mut out = Vec::new();
    for e in log.exchanges() {
        for f in &e.response_der {
            let name = if f.name == "body" {
                "response-body"
            } else {
                &f.name
            };
            out.extend(v2_violations(name, &f.der));
        }
        if e.function != Es9Function::InitiateAuthentication {
            for f in &e.request_der {
                let name = if f.name == "body" {
                    "request-body"
                } else {
                    &f.name
                };
                out.extend(v2_violations(name, &f.der));
            }
        }
    }
    out
}

/// Whether the ServerSigned1 on the wire carries `sessionContext` (`A5`) and
/// `serverRspCapability` (`86`).
fn server_signed1_v3_fields(log: &WireLog) -> Option<(bool, bool)> {
    let init = log.last(Es9Function::InitiateAuthentication)?;
    let der = init
        .response_field("serverSigned1")
        .map(<[u8]>::to_vec)
        .or_else(|| {
            let body = init.response_der.iter().find(|f| f.name == "body")?;
            match RemoteProfileProvisioningResponse::from_der(&body.der).ok()? {
                RemoteProfileProvisioningResponse::InitiateAuthentication(
                    rsp_sgp22::InitiateAuthenticationResponse::Ok(ok),
                ) => Some(ok.server_signed1.raw().to_vec()),
                _ => None,
            }
        })?;
    let s = ServerSigned1::from_der(&der).ok()?;
    Some((
        s.session_context.is_some(),
        s.server_rsp_capability.is_some(),
    ))
}

/// Runs one pairing; `fixtures` as [`write_fixtures`] lays them out, `dir` for the store.
pub async fn run(p: &Pairing, fixtures: &Fixtures, dir: &Path) -> Report {
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
    };
    let result = run_checks(p, fixtures, dir, &mut report).await;
    match result {
        Ok(()) if report.details.iter().all(|d| !d.starts_with("FAIL")) => {
            report.status = "passed".into()
        }
        Ok(()) => {}
        Err(e) => report.details.push(format!("FAIL {e}")),
    }
    report.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    report
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

async fn run_checks(
    p: &Pairing,
    fx: &Fixtures,
    dir: &Path,
    report: &mut Report,
) -> Result<(), BoxError> {
    let smdp = start_smdp(fx, Es9Config::new(p.server), dir).await?;
    let matching_id = "INTEROP-MATRIX";
    let order = smdp.order(matching_id, None, None).await?;
    let iccid = order.order.iccid;
    let mut lpa_config = LpaConfig::new(p.lpa);
    if p.lpa >= Svn::new(3, 0, 0) {
        lpa_config = lpa_config.with_capability(&[LpaRspCapability::EVENT_CHECKING_SUPPORT]);
    }
    let mut lpa = smdp.lpa_with(lpa_config, card(fx, p.card)?, Binding::Json)?;
    let outcome = lpa
        .download(&smdp.request(matching_id))
        .await
        .map_err(|e| format!("download failed: {e}"))?;
    let log = smdp.log();
    let mut check = |ok: bool, what: String| {
        report
            .details
            .push(format!("{} {what}", if ok { "ok" } else { "FAIL" }));
    };

    let session_v3 = outcome.session.profile.is_v3();
    check(
        session_v3 == p.v3_session,
        format!("session negotiated {}", outcome.session.profile.svn),
    );
    match server_signed1_v3_fields(&log) {
        Some((ctx, cap)) => {
            let v3_server_to_v3_peer = p.v3_session;
            check(
                ctx == v3_server_to_v3_peer && cap == v3_server_to_v3_peer,
                format!("ServerSigned1 sessionContext (A5) {ctx}, serverRspCapability (86) {cap}"),
            );
        }
        None => check(false, "no ServerSigned1 on the wire".into()),
    }
    for e in log.exchanges() {
        let answered = e.response_admin_protocol();
        check(
            answered == Some(p.server.min(p.lpa)) || answered == Some(p.server),
            format!("{:?} answered X-Admin-Protocol {answered:?}", e.function),
        );
    }
    if !session_v3 {
        let v = violations_towards_v2(&log);
        report.v3_elements_sent_to_v2_peer = v.len();
        let detail = format!("v3 elements sent to the v2 peer: {}", v.len());
        report.details.extend(v);
        report.details.push(format!(
            "{} {detail}",
            if report.v3_elements_sent_to_v2_peer == 0 {
                "ok"
            } else {
                "FAIL"
            }
        ));
        if let Some(init) = log.last(Es9Function::InitiateAuthentication)
            && init.request_field("lpaRspCapability").is_some()
        {
            report.details.push(
                "note: lpaRspCapability offered in InitiateAuthentication, before the server's version was known".into(),
            );
        }
    }
    let stored = smdp
        .order_of(&iccid)
        .await?
        .ok_or("the order disappeared")?;
    let delivered = stored.order.package_version;
    report.package_version = delivered.map(|v| v.to_string());
    let mut check = |ok: bool, what: String| {
        report
            .details
            .push(format!("{} {what}", if ok { "ok" } else { "FAIL" }));
    };
    check(
        delivered == Some(p.package),
        format!("package version {delivered:?}, expected {}", p.package),
    );
    check(
        stored.order.state == OrderState::Installed,
        format!("order {:?}", stored.order.state),
    );
    let (transport, _) = lpa.into_parts();
    let card = transport.into_card();
    let same = card
        .profiles()
        .iter()
        .any(|pr| pr.iccid == iccid && pr.upp == smdp.upp(&iccid).unwrap_or_default());
    check(same, "the card holds the byte-identical UPP".into());
    Ok(())
}

/// The fixture files the runner needs (the SGP.26 test PKI and one TS.48 profile, both public
/// test material), embedded so that `rsp demo sgp22` runs anywhere.
const FILES: &[(&str, &[u8])] = &[
    (
        "SAIP2.3_NoBERTLV.der",
        include_bytes!("../../rsp-lpa/tests/fixtures/SAIP2.3_NoBERTLV.der"),
    ),
    (
        "sgp26/CertificateIssuer/CERT_CI_ECDSA_NIST.der",
        include_bytes!(
            "../../rsp-lpa/tests/fixtures/sgp26/CertificateIssuer/CERT_CI_ECDSA_NIST.der"
        ),
    ),
    (
        "sgp26/CertificateIssuer/SK_CI_ECDSA_NIST.pem",
        include_bytes!("../../rsp-lpa/tests/fixtures/sgp26/CertificateIssuer/SK_CI_ECDSA_NIST.pem"),
    ),
    (
        "sgp26/CertificateIssuer/CERT_CI_ECDSA_BRP.der",
        include_bytes!(
            "../../rsp-lpa/tests/fixtures/sgp26/CertificateIssuer/CERT_CI_ECDSA_BRP.der"
        ),
    ),
    (
        "sgp26/CertificateIssuer/SK_CI_ECDSA_BRP.pem",
        include_bytes!("../../rsp-lpa/tests/fixtures/sgp26/CertificateIssuer/SK_CI_ECDSA_BRP.pem"),
    ),
    (
        "sgp26/DPauth/CERT_S_SM_DPauth_ECDSA_NIST.der",
        include_bytes!("../../rsp-lpa/tests/fixtures/sgp26/DPauth/CERT_S_SM_DPauth_ECDSA_NIST.der"),
    ),
    (
        "sgp26/DPauth/SK_S_SM_DPauth_ECDSA_NIST.pem",
        include_bytes!("../../rsp-lpa/tests/fixtures/sgp26/DPauth/SK_S_SM_DPauth_ECDSA_NIST.pem"),
    ),
    (
        "sgp26/DPauth/CERT_S_SM_DPauth_ECDSA_BRP.der",
        include_bytes!("../../rsp-lpa/tests/fixtures/sgp26/DPauth/CERT_S_SM_DPauth_ECDSA_BRP.der"),
    ),
    (
        "sgp26/DPauth/SK_S_SM_DPauth_ECDSA_BRP.pem",
        include_bytes!("../../rsp-lpa/tests/fixtures/sgp26/DPauth/SK_S_SM_DPauth_ECDSA_BRP.pem"),
    ),
    (
        "sgp26/DPpb/CERT_S_SM_DPpb_ECDSA_NIST.der",
        include_bytes!("../../rsp-lpa/tests/fixtures/sgp26/DPpb/CERT_S_SM_DPpb_ECDSA_NIST.der"),
    ),
    (
        "sgp26/DPpb/SK_S_SM_DPpb_ECDSA_NIST.pem",
        include_bytes!("../../rsp-lpa/tests/fixtures/sgp26/DPpb/SK_S_SM_DPpb_ECDSA_NIST.pem"),
    ),
    (
        "sgp26/DPpb/CERT_S_SM_DPpb_ECDSA_BRP.der",
        include_bytes!("../../rsp-lpa/tests/fixtures/sgp26/DPpb/CERT_S_SM_DPpb_ECDSA_BRP.der"),
    ),
    (
        "sgp26/DPpb/SK_S_SM_DPpb_ECDSA_BRP.pem",
        include_bytes!("../../rsp-lpa/tests/fixtures/sgp26/DPpb/SK_S_SM_DPpb_ECDSA_BRP.pem"),
    ),
    (
        "sgp26/EUM/CERT_EUM_ECDSA_NIST.der",
        include_bytes!("../../rsp-lpa/tests/fixtures/sgp26/EUM/CERT_EUM_ECDSA_NIST.der"),
    ),
    (
        "sgp26/EUM/CERT_EUM_ECDSA_BRP.der",
        include_bytes!("../../rsp-lpa/tests/fixtures/sgp26/EUM/CERT_EUM_ECDSA_BRP.der"),
    ),
    (
        "sgp26/eUICC/CERT_EUICC_ECDSA_NIST.der",
        include_bytes!("../../rsp-lpa/tests/fixtures/sgp26/eUICC/CERT_EUICC_ECDSA_NIST.der"),
    ),
    (
        "sgp26/eUICC/SK_EUICC_ECDSA_NIST.pem",
        include_bytes!("../../rsp-lpa/tests/fixtures/sgp26/eUICC/SK_EUICC_ECDSA_NIST.pem"),
    ),
    (
        "sgp26/eUICC/CERT_EUICC_ECDSA_BRP.der",
        include_bytes!("../../rsp-lpa/tests/fixtures/sgp26/eUICC/CERT_EUICC_ECDSA_BRP.der"),
    ),
    (
        "sgp26/eUICC/SK_EUICC_ECDSA_BRP.pem",
        include_bytes!("../../rsp-lpa/tests/fixtures/sgp26/eUICC/SK_EUICC_ECDSA_BRP.pem"),
    ),
];

/// Writes the embedded fixtures under `dir` and returns their layout.
pub fn write_fixtures(dir: &Path) -> std::io::Result<Fixtures> {
    for (name, bytes) in FILES {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, bytes)?;
    }
    Ok(Fixtures::at(dir))
}

/// Runs every pairing, each in its own temporary directory; `progress` sees each report.
pub async fn run_all(mut progress: impl FnMut(&Report)) -> std::io::Result<Vec<Report>> {
    let root = tempfile::tempdir()?;
    let fixtures = write_fixtures(&root.path().join("fixtures"))?;
    let mut reports = Vec::new();
    for (i, p) in PAIRINGS.iter().enumerate() {
        let dir = root.path().join(format!("pairing-{i}"));
        std::fs::create_dir_all(&dir)?;
        let r = run(p, &fixtures, &dir).await;
        progress(&r);
        reports.push(r);
    }
    Ok(reports)
}
