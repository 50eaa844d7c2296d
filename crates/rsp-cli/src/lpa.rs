//! `rsp lpa`: the SGP.22 LPA ([`rsp_lpa`]) driving a simulated consumer eUICC kept as a sealed
//! snapshot file (default `<data_dir>/lpa/card.json`, sealed with `<data_dir>/lpa/card.key`).
//!
//! - `card-create --sgp26 DIR [--svn 3.1.0]`: the SGP.26 test eUICC (from the SGP.26 package
//!   layout: `eUICC/`, `EUM/`, `CertificateIssuer/`) as a card of that version.
//! - `download <activation code> [--cc CODE]`: the full download against the SM-DP+ of the
//!   Activation Code, over HTTPS trusting `--trust PEM` (e.g. the SGP.26 CI certificate).
//! - `profiles`, `notifications [--deliver]`: the card's profiles and pending notifications.
//!
//! `--svn` and `--lpa-capability` configure the LPA; `--json` prints machine output.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use rsp_crypto::seal::Sealer;
use rsp_euicc::consumer::{ConsumerConfig, ConsumerEuicc};
use rsp_euicc::m2m::CardTime;
use rsp_lpa::es9::Offline;
use rsp_lpa::{
    ApduTransport, DownloadRequest, HttpConfig, HttpEs9Client, Lpa, LpaConfig, Progress,
    ResultDelivery, wire::Binding,
};
use rsp_sgp22::activation::ActivationCode;
use rsp_types::Svn;

use crate::CliError;
use crate::config::Config;

/// Folder of the LPA's card in the data dir.
pub const LPA_DIR: &str = "lpa";
/// Default card snapshot file in [`LPA_DIR`].
pub const CARD_FILE: &str = "card.json";
/// Sealing key of the card snapshots in [`LPA_DIR`].
pub const CARD_KEY_FILE: &str = "card.key";

/// `rsp lpa …`
#[derive(Debug, Subcommand)]
pub enum LpaCommand {
    /// Create the simulated consumer eUICC the LPA drives.
    CardCreate(CardCreateArgs),
    /// Download and install a profile: `rsp lpa download 'LPA:1$smdp.example.com$MATCHINGID'`.
    Download(DownloadArgs),
    /// List the card's profiles.
    Profiles(CardArgs),
    /// List (and with --deliver, send) the card's pending notifications.
    Notifications(NotificationsArgs),
}

/// The card file and output format.
#[derive(Debug, Args)]
pub struct CardArgs {
    /// Card snapshot file (default: `lpa/card.json` in the data dir).
    #[arg(long, value_name = "FILE")]
    pub card: Option<PathBuf>,
    /// Machine output (JSON).
    #[arg(long)]
    pub json: bool,
}

/// The LPA's own settings.
#[derive(Debug, Args)]
pub struct LpaArgs {
    /// The LPA's SGP.22 version (e.g. 2.2.2, 3.1.0).
    #[arg(long, value_name = "X.Y.Z", default_value = "2.2.2")]
    pub svn: String,
    /// LpaRspCapability bits the LPA declares when it runs as v3 (comma-separated numbers, e.g.
    /// `1,7`: certChainV3Support, eventCheckingSupport).
    #[arg(long, value_name = "BITS", value_delimiter = ',')]
    pub lpa_capability: Vec<usize>,
    /// TLS trust roots for ES9+ (PEM or DER; repeatable), e.g. the SGP.26 CI certificate.
    #[arg(long, value_name = "PEM")]
    pub trust: Vec<PathBuf>,
    /// Send HOST to ADDR instead of resolving it (`smdp.example.com=127.0.0.1:8443`).
    #[arg(long, value_name = "HOST=ADDR")]
    pub resolve: Vec<String>,
    /// Use the ES9+ ASN.1 binding instead of JSON.
    #[arg(long)]
    pub asn1: bool,
}

/// `rsp lpa card-create`
#[derive(Debug, Args)]
pub struct CardCreateArgs {
    /// The card's highest SGP.22 version.
    #[arg(long, value_name = "X.Y.Z", default_value = "3.1.0")]
    pub svn: String,
    /// The SGP.26 package directory (eUICC/, EUM/, CertificateIssuer/): the card is the SGP.26
    /// test eUICC.
    #[arg(long, value_name = "DIR")]
    pub sgp26: PathBuf,
    /// Seed of the card's random source.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub seed: u64,
    /// Replace an existing card file.
    #[arg(long)]
    pub force: bool,
    /// Card file and output.
    #[command(flatten)]
    pub card: CardArgs,
}

/// `rsp lpa download`
#[derive(Debug, Args)]
pub struct DownloadArgs {
    /// The Activation Code (`LPA:1$<SM-DP+ address>$<MatchingID>[...]`).
    pub activation_code: String,
    /// The Confirmation Code, if the SM-DP+ asks for one.
    #[arg(long, value_name = "CODE")]
    pub cc: Option<String>,
    /// LPA settings.
    #[command(flatten)]
    pub lpa: LpaArgs,
    /// Card file and output.
    #[command(flatten)]
    pub card: CardArgs,
}

/// `rsp lpa notifications`
#[derive(Debug, Args)]
pub struct NotificationsArgs {
    /// Deliver them (HandleNotification to each notification's address).
    #[arg(long)]
    pub deliver: bool,
    /// LPA settings (for --deliver).
    #[command(flatten)]
    pub lpa: LpaArgs,
    /// Card file and output.
    #[command(flatten)]
    pub card: CardArgs,
}

/// Runs the command.
pub async fn run(command: LpaCommand, config: &Config) -> Result<(), CliError> {
    let dir = config.data_dir.join(LPA_DIR);
    match command {
        LpaCommand::CardCreate(args) => card_create(&args, &dir),
        LpaCommand::Download(args) => download(args, &dir).await,
        LpaCommand::Profiles(args) => profiles(&args, &dir),
        LpaCommand::Notifications(args) => notifications(args, &dir).await,
    }
}

fn usage(e: impl std::fmt::Display) -> CliError {
    CliError::Usage(e.to_string())
}

fn euicc(e: impl std::fmt::Display) -> CliError {
    CliError::Euicc(e.to_string())
}

fn card_path(args: &CardArgs, dir: &Path) -> PathBuf {
    args.card.clone().unwrap_or_else(|| dir.join(CARD_FILE))
}

fn sealer(dir: &Path) -> Result<Sealer, CliError> {
    Sealer::load_or_create(&dir.join(CARD_KEY_FILE)).map_err(euicc)
}

fn parse_svn(s: &str) -> Result<Svn, CliError> {
    s.parse::<Svn>()
        .map_err(|e| usage(format!("version {s:?}: {e}")))
}

fn load_card(path: &Path, dir: &Path) -> Result<ConsumerEuicc, CliError> {
    let bytes = std::fs::read(path).map_err(|e| {
        CliError::Usage(format!(
            "card {}: {e} (create one with `rsp lpa card-create`)",
            path.display()
        ))
    })?;
    let mut card = ConsumerEuicc::restore(&bytes, &sealer(dir)?).map_err(euicc)?;
    card.set_time(CardTime::now());
    Ok(card)
}

fn save_card(card: &ConsumerEuicc, path: &Path, dir: &Path) -> Result<(), CliError> {
    let bytes = card.snapshot(&sealer(dir)?).map_err(euicc)?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(CliError::io("creating the card folder"))?;
    }
    rsp_crypto::seal::write_private_file(path, &bytes)
        .map_err(CliError::io(format!("writing {}", path.display())))
}

fn card_create(args: &CardCreateArgs, dir: &Path) -> Result<(), CliError> {
    let path = card_path(&args.card, dir);
    if path.exists() && !args.force {
        return Err(usage(format!(
            "{} exists (use --force to replace it)",
            path.display()
        )));
    }
    let mut config = ConsumerConfig::new(parse_svn(&args.svn)?);
    config.rng_seed = args.seed;
    let mut card = ConsumerEuicc::sgp26(&args.sgp26, config).map_err(euicc)?;
    card.set_time(CardTime::now());
    save_card(&card, &path, dir)?;
    if args.card.json {
        let out = serde_json::json!({
            "card": path.display().to_string(),
            "eid": card.eid().to_string(),
            "svn": args.svn,
        });
        crate::print_stdout(&format!("{out}\n"));
    } else {
        crate::print_stdout(&format!(
            "card {} created: EID {}, SGP.22 v{}\n",
            path.display(),
            card.eid(),
            args.svn
        ));
    }
    Ok(())
}

fn lpa_config(args: &LpaArgs) -> Result<LpaConfig, CliError> {
    Ok(LpaConfig::new(parse_svn(&args.svn)?).with_capability(&args.lpa_capability))
}

fn http_client(args: &LpaArgs, svn: Svn) -> Result<HttpEs9Client, CliError> {
    let mut cfg = HttpConfig::new(svn).with_binding(if args.asn1 {
        Binding::Asn1
    } else {
        Binding::Json
    });
    if args.trust.is_empty() {
        return Err(usage(
            "--trust PEM is required: the CI (or TLS CA) certificate the SM-DP+'s TLS certificate chains to",
        ));
    }
    for p in &args.trust {
        let bytes = std::fs::read(p).map_err(CliError::io(format!("reading {}", p.display())))?;
        cfg = cfg.with_trust(&bytes).map_err(usage)?;
    }
    for r in &args.resolve {
        let (host, addr) = r
            .split_once('=')
            .ok_or_else(|| usage(format!("--resolve {r:?}: expected HOST=ADDR")))?;
        let addr: SocketAddr = addr
            .parse()
            .map_err(|e| usage(format!("--resolve {r:?}: {e}")))?;
        cfg = cfg.with_resolve(host, addr);
    }
    HttpEs9Client::new(cfg).map_err(usage)
}

fn describe(p: &Progress) -> String {
    match p {
        Progress::Step(s) => format!("  {s}"),
        Progress::Negotiated {
            device,
            server,
            server_is_v3,
        } => format!(
            "  negotiated: device v{device}, server v{server}{}",
            if *server_is_v3 { " (v3)" } else { " (pre-v3)" }
        ),
        Progress::Profile {
            iccid,
            service_provider,
            name,
        } => format!("  profile {iccid}: {service_provider} / {name}"),
        Progress::Segment(i, n) => format!("    segment {i}/{n}"),
        Progress::NotificationSent(seq, addr) => format!("  notification {seq} sent to {addr}"),
    }
}

async fn download(args: DownloadArgs, dir: &Path) -> Result<(), CliError> {
    let ac: ActivationCode = args
        .activation_code
        .parse()
        .map_err(|e| usage(format!("activation code: {e}")))?;
    let path = card_path(&args.card, dir);
    let card = load_card(&path, dir)?;
    let config = lpa_config(&args.lpa)?;
    let client = http_client(&args.lpa, config.svn)?;
    let log = client.log();
    let isd_r = config.isd_r_aid;
    let json = args.card.json;
    let mut lpa = Lpa::new(config, ApduTransport::new(card, isd_r), client);
    if !json {
        println!(
            "downloading from {} (LPA v{})",
            ac.smdp_address,
            lpa.config().svn
        );
        lpa = lpa.on_progress(|p| println!("{}", describe(p)));
    }
    let request = DownloadRequest {
        smdp_address: ac.smdp_address.clone(),
        matching_id: Some(ac.matching_id.clone()),
        confirmation_code: args.cc.clone(),
    };
    let result = lpa.download(&request).await;
    let (transport, _) = lpa.into_parts();
    save_card(transport.card(), &path, dir)?;
    match result {
        Ok(outcome) => {
            if json {
                let out = serde_json::json!({
                    "result": "installed",
                    "iccid": outcome.iccid.to_string(),
                    "isdpAid": hex::encode_upper(&outcome.isdp_aid),
                    "transactionId": outcome.transaction_id.to_string(),
                    "serviceProviderName": outcome.metadata.service_provider_name,
                    "profileName": outcome.metadata.profile_name,
                    "deviceSvn": outcome.device.profile.svn.to_string(),
                    "serverSvn": outcome.session.server_svn.to_string(),
                    "serverIsV3": outcome.session.server_is_v3,
                    "resultDelivered": outcome.delivery == ResultDelivery::Delivered,
                    "wire": log.to_json(),
                });
                crate::print_stdout(&format!("{out}\n"));
            } else {
                println!(
                    "installed {} ({}), ISD-P {}",
                    outcome.iccid,
                    outcome.metadata.profile_name,
                    hex::encode_upper(&outcome.isdp_aid)
                );
                if let ResultDelivery::Failed(e) = &outcome.delivery {
                    println!("  the installation result is still pending: {e}");
                }
            }
            Ok(())
        }
        Err(e) => {
            if json {
                let out = serde_json::json!({
                    "result": "failed",
                    "step": e.step.to_string(),
                    "error": e.kind.to_string(),
                    "subjectCode": e.server_status().map(|s| s.subject_code.to_string()),
                    "reasonCode": e.server_status().map(|s| s.reason_code.to_string()),
                    "serverCode": e.server_code(),
                    "cardCode": e.card_code(),
                    "cancel": e.cancel,
                    "wire": log.to_json(),
                });
                crate::print_stdout(&format!("{out}\n"));
            }
            Err(CliError::Remote(e.to_string()))
        }
    }
}

fn profiles(args: &CardArgs, dir: &Path) -> Result<(), CliError> {
    let path = card_path(args, dir);
    let card = load_card(&path, dir)?;
    let config = LpaConfig::new(card.config().highest_svn);
    let isd_r = card.config().isd_r_aid;
    let mut lpa = Lpa::new(config, ApduTransport::new(card, isd_r), Offline);
    let eid = lpa.eid().map_err(euicc)?;
    let list = lpa.profiles().map_err(euicc)?;
    if args.json {
        let items: Vec<_> = list
            .iter()
            .map(|p| {
                serde_json::json!({
                    "iccid": p.iccid.map(|i| i.to_string()),
                    "isdpAid": p.isdp_aid.as_ref().map(hex::encode_upper),
                    "state": match p.profile_state { Some(1) => "enabled", Some(0) => "disabled", _ => "unknown" },
                    "serviceProviderName": p.service_provider_name,
                    "profileName": p.profile_name,
                    "profileClass": p.profile_class,
                })
            })
            .collect();
        let out = serde_json::json!({ "eid": eid.to_string(), "profiles": items });
        crate::print_stdout(&format!("{out}\n"));
    } else {
        println!("EID {eid}");
        if list.is_empty() {
            println!("no profile");
        }
        for p in &list {
            println!(
                "{}  {:8}  {} / {}",
                p.iccid.map(|i| i.to_string()).unwrap_or_default(),
                match p.profile_state {
                    Some(1) => "enabled",
                    Some(0) => "disabled",
                    _ => "?",
                },
                p.service_provider_name.as_deref().unwrap_or(""),
                p.profile_name.as_deref().unwrap_or("")
            );
        }
    }
    Ok(())
}

async fn notifications(args: NotificationsArgs, dir: &Path) -> Result<(), CliError> {
    let path = card_path(&args.card, dir);
    let card = load_card(&path, dir)?;
    let isd_r = card.config().isd_r_aid;
    if !args.deliver {
        let config = LpaConfig::new(card.config().highest_svn);
        let mut lpa = Lpa::new(config, ApduTransport::new(card, isd_r), Offline);
        let list = lpa.list_notifications().map_err(euicc)?;
        if args.card.json {
            let items: Vec<_> = list
                .iter()
                .map(|n| {
                    serde_json::json!({
                        "seqNumber": n.seq_number,
                        "operation": n.profile_management_operation.0.ones().collect::<Vec<_>>(),
                        "address": n.notification_address,
                        "iccid": n.iccid.map(|i| i.to_string()),
                    })
                })
                .collect();
            crate::print_stdout(&format!("{}\n", serde_json::Value::Array(items)));
        } else {
            if list.is_empty() {
                println!("no pending notification");
            }
            for n in &list {
                println!(
                    "{:>5}  {:?}  {}  {}",
                    n.seq_number,
                    n.profile_management_operation.0.ones().collect::<Vec<_>>(),
                    n.notification_address,
                    n.iccid.map(|i| i.to_string()).unwrap_or_default()
                );
            }
        }
        return Ok(());
    }
    let config = lpa_config(&args.lpa)?;
    let client = http_client(&args.lpa, config.svn)?;
    let mut lpa = Lpa::new(config, ApduTransport::new(card, isd_r), client);
    let result = lpa.deliver_notifications().await;
    let (transport, _) = lpa.into_parts();
    save_card(transport.card(), &path, dir)?;
    let reports = result.map_err(euicc)?;
    if args.card.json {
        crate::print_stdout(&format!(
            "{}\n",
            serde_json::to_value(&reports).unwrap_or_default()
        ));
    } else {
        for r in &reports {
            match &r.outcome {
                Ok(_) => println!("{:>5}  delivered to {}", r.seq_number, r.address),
                Err(e) => println!("{:>5}  not delivered to {}: {e}", r.seq_number, r.address),
            }
        }
    }
    if reports.iter().any(|r| r.outcome.is_err()) {
        return Err(CliError::Remote(
            "some notifications were not delivered".into(),
        ));
    }
    Ok(())
}
