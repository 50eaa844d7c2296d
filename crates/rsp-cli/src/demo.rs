//! `rsp demo sgp22`: the SGP.22 v2/v3 interoperability matrix, live (a real SM-DP+ over TLS on
//! 127.0.0.1, the LPA, simulated consumer cards), through `rsp-interop`'s one runner. Progress
//! goes to stderr; `--json` prints only the JSON array on stdout.

use clap::{Args, Subcommand};

use crate::CliError;

/// `rsp demo …`
#[derive(Debug, Subcommand)]
pub enum DemoCommand {
    /// The six SGP.22 v2/v3 pairings: each a full profile download, checked on the wire.
    Sgp22(Sgp22Args),
}

/// `rsp demo sgp22`
#[derive(Debug, Args)]
pub struct Sgp22Args {
    /// Print a JSON array of {scenario, device_svn, server_svn, package_version,
    /// v3_elements_sent_to_v2_peer, status, duration_ms} instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// Runs the demo; fails (exit 1) when any pairing fails.
pub async fn run(command: DemoCommand) -> Result<(), CliError> {
    let DemoCommand::Sgp22(args) = command;
    let total = rsp_interop::PAIRINGS.len();
    let mut n = 0;
    let reports = rsp_interop::run_all(|r| {
        n += 1;
        eprintln!(
            "[{n}/{total}] {:<32} device {:<11} server {:<6} package {:<6} {} ({} ms)",
            r.scenario,
            r.device_svn,
            r.server_svn,
            r.package_version.as_deref().unwrap_or("-"),
            r.status,
            r.duration_ms
        );
        if !r.passed() {
            for d in &r.details {
                eprintln!("        {d}");
            }
        }
    })
    .await
    .map_err(CliError::io("running the demo".to_string()))?;
    if args.json {
        let text = serde_json::to_string_pretty(&reports)
            .map_err(|e| CliError::Remote(format!("encoding the report: {e}")))?;
        println!("{text}");
    } else {
        println!(
            "{:<32} {:<11} {:<7} {:<8} {:>12} {:<7} {:>8}",
            "scenario", "card/LPA", "server", "package", "v3 to v2", "status", "ms"
        );
        for r in &reports {
            println!(
                "{:<32} {:<11} {:<7} {:<8} {:>12} {:<7} {:>8}",
                r.scenario,
                r.device_svn,
                r.server_svn,
                r.package_version.as_deref().unwrap_or("-"),
                r.v3_elements_sent_to_v2_peer,
                r.status,
                r.duration_ms
            );
        }
    }
    let failed = reports.iter().filter(|r| !r.passed()).count();
    if failed > 0 {
        return Err(CliError::Remote(format!(
            "{failed} of {total} pairings failed"
        )));
    }
    Ok(())
}
