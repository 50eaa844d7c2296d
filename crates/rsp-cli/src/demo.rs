//! `rsp demo sgp22`: the SGP.22 v2/v3 interoperability matrix, live, through `rsp-interop`'s
//! one runner: for each pairing a real SM-DP+ over TLS on 127.0.0.1 (the SGP.26 test PKI and a
//! TS.48 profile embedded in the binary, a CERT.DP.TLS minted from the SGP.26 CI key), an ES2+
//! order, a simulated consumer eUICC and the LPA. Progress goes to stderr; `--json` prints only
//! the JSON array on stdout. Exit status 1 when any pairing fails.

use std::time::Instant;

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
    /// Also print every check of every pairing (stderr).
    #[arg(long, short)]
    pub verbose: bool,
}

/// Runs the demo; fails (exit 1) when any pairing fails.
pub async fn run(command: DemoCommand) -> Result<(), CliError> {
    let DemoCommand::Sgp22(args) = command;
    let total = rsp_interop::PAIRINGS.len();
    let started = Instant::now();
    let mut n = 0;
    eprintln!(
        "SGP.22 v2/v3 interoperability matrix: {total} pairings, each a full download from a fresh \
         SM-DP+ (TLS on 127.0.0.1, SGP.26 test PKI) into a fresh eUICC"
    );
    let reports = rsp_interop::run_all(|p, done| match done {
        None => {
            n += 1;
            eprintln!(
                "[{n}/{total}] {:<31} card {} LPA {} server {} …",
                p.scenario, p.card, p.lpa, p.server
            );
        }
        Some(r) => {
            eprintln!(
                "[{n}/{total}] {} ({} ms, package {}, {} v3 element(s) to a v2 peer)",
                r.status,
                r.duration_ms,
                r.package_version.as_deref().unwrap_or("-"),
                r.v3_elements_sent_to_v2_peer
            );
            let failed = !r.passed();
            for d in &r.details {
                if args.verbose || (failed && d.starts_with("FAIL")) {
                    eprintln!("        {d}");
                }
            }
        }
    })
    .await
    .map_err(CliError::io("running the demo".to_string()))?;
    let elapsed = started.elapsed().as_millis();
    let failed = reports.iter().filter(|r| !r.passed()).count();
    if args.json {
        let text = serde_json::to_string_pretty(&reports)
            .map_err(|e| CliError::Remote(format!("encoding the report: {e}")))?;
        println!("{text}");
    } else {
        println!();
        println!(
            "{:<31} {:<13} {:<7} {:<8} {:>9} {:<7} {:>6}",
            "scenario", "card/LPA", "server", "package", "v3 to v2", "status", "ms"
        );
        for r in &reports {
            println!(
                "{:<31} {:<13} {:<7} {:<8} {:>9} {:<7} {:>6}",
                r.scenario,
                r.device_svn,
                r.server_svn,
                r.package_version.as_deref().unwrap_or("-"),
                r.v3_elements_sent_to_v2_peer,
                r.status,
                r.duration_ms
            );
        }
        println!();
        println!(
            "{} of {total} pairings passed in {elapsed} ms. \"v3 to v2\" counts the v3-only elements \
             (by the message gates) that reached a peer which negotiated v2.",
            total - failed
        );
    }
    eprintln!("demo finished in {elapsed} ms");
    if failed > 0 {
        return Err(CliError::Remote(format!(
            "{failed} of {total} pairings failed"
        )));
    }
    Ok(())
}
