//! The discovery pairings: v2 and v3 devices against v2 and v3 Root SM-DSs, all on one v3
//! SM-DP+. Each pairing, over real TLS with the production servers:
//! 1. ES2+ DownloadOrder + ConfirmOrder with the card's EID and an `smdsAddress`;
//! 2. the SM-DP+'s ES12 worker registers the event (EventID = MatchingID) at the SM-DS;
//! 3. the LPA reads the root SM-DS address from the card, runs ES11 (CMA, then the list: v2
//!    `eventEntries`, or the v3 signed list that the card verifies);
//! 4. it downloads from the SM-DP+ named in the event with the EventID as MatchingID;
//! 5. the installation result makes the SM-DP+ delete the event (ES12), and the SM-DS no
//!    longer lists it.

use std::path::Path;
use std::time::Instant;

use rsp_lpa::{Binding, HttpConfig, HttpEs11Client, WireLog};
use rsp_types::Svn;

use crate::smdp::{self, Smdp};
use crate::smds::{SMDS_ADDRESS, Smds};
use crate::{BoxError, PKG_V2, PKG_V3, Pairing, V3_1_0, V3_PACKAGES};
use rsp_lpa::harness::Fixtures;

/// One discovery pairing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiscoveryPairing {
    /// Scenario name.
    pub scenario: &'static str,
    /// The card's and the LPA's version.
    pub device: Svn,
    /// The SM-DS's version.
    pub smds: Svn,
}

const V2_2_2: Svn = Svn::new(2, 2, 2);
const V2_5_0: Svn = Svn::new(2, 5, 0);

/// v2 and v3 devices × v2 and v3 SM-DS (the SM-DP+ is v3 in all four).
pub const DISCOVERY_PAIRINGS: [DiscoveryPairing; 4] = [
    DiscoveryPairing {
        scenario: "v2 device + v2 SM-DS",
        device: V2_2_2,
        smds: V2_5_0,
    },
    DiscoveryPairing {
        scenario: "v2 device + v3 SM-DS",
        device: V2_2_2,
        smds: V3_1_0,
    },
    DiscoveryPairing {
        scenario: "v3 device + v2 SM-DS",
        device: V3_1_0,
        smds: V2_5_0,
    },
    DiscoveryPairing {
        scenario: "v3 device + v3 SM-DS",
        device: V3_1_0,
        smds: V3_1_0,
    },
];

impl DiscoveryPairing {
    /// Whether the list must be the v3 signed one.
    pub fn signed_list(&self) -> bool {
        self.device.major >= 3 && self.smds.major >= 3
    }

    fn device(&self) -> Pairing {
        let v3 = self.device.major >= 3;
        Pairing {
            scenario: self.scenario,
            card: self.device,
            lpa: self.device,
            server: V3_1_0,
            server_packages: V3_PACKAGES,
            v3_session: v3,
            package: if v3 { PKG_V3 } else { PKG_V2 },
        }
    }
}

/// What one discovery pairing did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DiscoveryReport {
    /// Scenario name.
    pub scenario: String,
    /// Device (card and LPA) version.
    pub device_svn: String,
    /// SM-DS version.
    pub smds_svn: String,
    /// The events the device discovered (EventID @ address).
    pub discovered: Vec<String>,
    /// Whether the list was the v3 signed one, verified by the eUICC.
    pub verified_by_euicc: bool,
    /// The package version delivered.
    pub package_version: Option<String>,
    /// `passed` or `failed`.
    pub status: String,
    /// Wall time.
    pub duration_ms: u64,
    /// Each check (`ok …` / `FAIL …`).
    #[serde(skip)]
    pub details: Vec<String>,
}

impl DiscoveryReport {
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
}

/// Runs one discovery pairing; `dir` for the two stores.
pub async fn run_discovery(p: &DiscoveryPairing, fx: &Fixtures, dir: &Path) -> DiscoveryReport {
    let started = Instant::now();
    let mut report = DiscoveryReport {
        scenario: p.scenario.into(),
        device_svn: p.device.to_string(),
        smds_svn: p.smds.to_string(),
        discovered: Vec::new(),
        verified_by_euicc: false,
        package_version: None,
        status: "failed".into(),
        duration_ms: 0,
        details: Vec::new(),
    };
    if let Err(e) = discover_and_download(p, fx, dir, &mut report).await {
        report.check(false, format!("the pairing did not complete: {e}"));
    }
    if report.failures().is_empty() {
        report.status = "passed".into();
    }
    report.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    report
}

/// Delivers the SM-DP+'s queued ES12 calls (a few rounds: the first may find nothing due yet).
async fn deliver(smdp: &Smdp) -> Result<usize, BoxError> {
    let mut delivered = 0;
    for _ in 0..3 {
        delivered += smdp.deliver_events().await?;
        if delivered > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    Ok(delivered)
}

async fn discover_and_download(
    p: &DiscoveryPairing,
    fx: &Fixtures,
    dir: &Path,
    report: &mut DiscoveryReport,
) -> Result<(), BoxError> {
    let device = p.device();
    let smds = Smds::start(fx, p.smds, dir).await?;
    let smdp = Smdp::start_with_smds(fx, &device.server_setup(smdp::SigningCurve::Nist), dir).await;
    let smdp = match smdp {
        Ok(s) => s,
        Err(e) => {
            smds.shutdown().await?;
            return Err(e);
        }
    };
    let result = run_steps(p, &device, fx, &smds, &smdp, report).await;
    smdp.shutdown().await?;
    smds.shutdown().await?;
    result
}

async fn run_steps(
    p: &DiscoveryPairing,
    device: &Pairing,
    fx: &Fixtures,
    smds: &Smds,
    smdp: &Smdp,
    report: &mut DiscoveryReport,
) -> Result<(), BoxError> {
    let matching_id = "INTEROP-DISCOVERY";
    let mut card_config = device.card_config();
    card_config.root_smds_address = SMDS_ADDRESS.into();
    let card = rsp_lpa::harness::card_with(fx, card_config)?;
    let eid = card.eid().to_string();

    // 1–2: the order with an SM-DS address; the event reaches the SM-DS over ES12.
    let (iccid, _) = smdp
        .order_for(matching_id, Some(&eid), Some(&smds.es12_address()))
        .await?;
    let delivered = deliver(smdp).await?;
    let registered = smds.events_of(&eid).await?;
    report.check(
        delivered == 1
            && registered.len() == 1
            && registered[0].event_id == matching_id
            && registered[0].rsp_server_address == smdp::SMDP_ADDRESS,
        format!(
            "ES12 RegisterEvent delivered by the SM-DP+'s worker: the SM-DS holds {} event(s) for the EID",
            registered.len()
        ),
    );

    // 3: discovery from the card's root SM-DS address.
    let log = WireLog::default();
    let lpa_config = device.lpa_config();
    let es11_http = HttpConfig::new(lpa_config.svn)
        .with_trust(smdp.ci_pem.as_bytes())?
        .with_resolve(SMDS_ADDRESS, smds.socket)
        .with_binding(Binding::Json);
    let mut es11 = HttpEs11Client::new(es11_http)?.with_log(log.clone());
    let mut lpa = smdp.lpa(lpa_config, card, Binding::Json, &log)?;
    let events = lpa
        .discover(&mut es11, None)
        .await
        .map_err(|e| format!("discovery failed: {e}"))?;
    report.discovered = events
        .iter()
        .map(|e| format!("{} @ {}", e.event_id, e.rsp_server_address))
        .collect();
    report.verified_by_euicc = events.iter().all(|e| e.verified_by_euicc) && !events.is_empty();
    report.check(
        events.len() == 1
            && events[0].event_id == matching_id
            && events[0].rsp_server_address == smdp::SMDP_ADDRESS,
        format!(
            "ES11 lists exactly this EID's event: {:?}",
            report.discovered
        ),
    );
    report.check(
        report.verified_by_euicc == p.signed_list(),
        format!(
            "the list is {} (expected {})",
            if report.verified_by_euicc {
                "the v3 signed list, verified by the eUICC"
            } else {
                "the v2 eventEntries"
            },
            if p.signed_list() { "signed" } else { "v2" }
        ),
    );
    let Some(event) = events.first() else {
        return Err("no event discovered".into());
    };

    // 4: the download named by the event.
    lpa.download_discovered(event)
        .await
        .map_err(|e| format!("download of the discovered event failed: {e}"))?;
    let order = smdp.order_of(&iccid).await?;
    let package = order.as_ref().and_then(|o| o.order.package_version);
    report.package_version = package.map(|v| v.to_string());
    report.check(
        order
            .as_ref()
            .is_some_and(|o| o.order.state == rsp_smdpp::order::OrderState::Installed)
            && package == Some(device.package),
        format!(
            "the order is Installed with package {:?} (expected {})",
            report.package_version, device.package
        ),
    );

    // 5: the event is deleted at the SM-DS once the profile is installed.
    deliver(smdp).await?;
    let left = smds.events_of(&eid).await?;
    report.check(
        left.is_empty(),
        format!(
            "ES12 DeleteEvent after installation: {} live event(s) left",
            left.len()
        ),
    );
    Ok(())
}

/// Runs every discovery pairing, each in its own directory under a fresh temporary one.
pub async fn run_all_discovery(
    mut progress: impl FnMut(&DiscoveryPairing, Option<&DiscoveryReport>),
) -> std::io::Result<Vec<DiscoveryReport>> {
    let root = tempfile::tempdir()?;
    let fixtures = crate::write_fixtures(&root.path().join("fixtures"))?;
    let mut reports = Vec::new();
    for (i, p) in DISCOVERY_PAIRINGS.iter().enumerate() {
        let dir = root.path().join(format!("discovery-{i}"));
        std::fs::create_dir_all(&dir)?;
        progress(p, None);
        let r = run_discovery(p, &fixtures, &dir).await;
        progress(p, Some(&r));
        reports.push(r);
    }
    Ok(reports)
}
