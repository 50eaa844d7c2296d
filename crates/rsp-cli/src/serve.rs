//! `rsp serve`: the long-running process.
//!
//! Start-up order: data dir, PKI (generated on first start), store (migrations), admin listener, then
//! the protocol services. Shutdown on SIGINT/SIGTERM drains in-flight requests.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use rsp_crypto::pki::{PkiManifest, PkiOptions};

use crate::CliError;
use crate::admin::{self, AdminState};
use crate::config::Config;

/// Generates a test PKI in `dir`.
pub fn generate_pki(dir: &Path, force: bool, euiccs: usize) -> Result<PkiManifest, CliError> {
    let opts = PkiOptions {
        force,
        euicc_count: euiccs,
        ..PkiOptions::default()
    };
    rsp_crypto::pki::generate(dir, &opts).map_err(|e| CliError::Pki(e.to_string()))
}

/// Hides a password in a database URL for logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let creds = &url[scheme_end + 3..at];
            match creds.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme_end + 3],
                    &creds[..colon],
                    &url[at..]
                ),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// Runs until SIGINT or SIGTERM.
pub async fn serve(config: Config) -> Result<(), CliError> {
    let started = Instant::now();
    std::fs::create_dir_all(&config.data_dir).map_err(CliError::io(format!(
        "creating the data dir {}",
        config.data_dir.display()
    )))?;

    let pki_dir = config.pki_dir();
    let manifest = match PkiManifest::load(&pki_dir) {
        Ok(m) => m,
        Err(_)
            if config.pki.generate_if_missing
                && !pki_dir.join(rsp_crypto::pki::MANIFEST_FILE).exists() =>
        {
            tracing::info!(dir = %pki_dir.display(), "no PKI found: generating a test PKI (first start)");
            generate_pki(&pki_dir, false, PkiOptions::default().euicc_count)?
        }
        Err(e) => return Err(CliError::Pki(format!("loading {}: {e}", pki_dir.display()))),
    };
    tracing::info!(dir = %pki_dir.display(), entities = manifest.entities.len(), "PKI loaded");

    let url = config.store_url();
    let store = rsp_store::open(&url).await?;
    tracing::info!(store = %redact_url(&url), "store open, migrations applied");

    let metrics = admin::install_metrics();
    metrics::gauge!("rsp_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
    let state = AdminState {
        store: Arc::clone(&store),
        metrics,
        started,
    };
    let listener = tokio::net::TcpListener::bind(config.admin.listen)
        .await
        .map_err(CliError::io(format!(
            "binding the admin listener {}",
            config.admin.listen
        )))?;
    let admin_addr = listener
        .local_addr()
        .map_err(CliError::io("reading the admin address"))?;
    // The signal handlers are installed before rsp says it is up: a SIGTERM right after the
    // "listening" line is a graceful shutdown, never the default (abrupt) action.
    let shutdown = shutdown_signal()?;
    tracing::info!(%admin_addr, "admin listening on {admin_addr} (/healthz, /metrics)");
    tracing::info!("rsp is up ({} ms)", started.elapsed().as_millis());

    axum::serve(listener, admin::router(state))
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(CliError::io("admin listener"))?;
    tracing::info!("shut down cleanly");
    Ok(())
}

/// Installs the SIGINT / SIGTERM handlers now and returns the future that completes on either.
fn shutdown_signal() -> Result<impl Future<Output = ()>, CliError> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut int = signal(SignalKind::interrupt())
            .map_err(CliError::io("installing the SIGINT handler"))?;
        let mut term = signal(SignalKind::terminate())
            .map_err(CliError::io("installing the SIGTERM handler"))?;
        Ok(async move {
            tokio::select! {
                _ = int.recv() => {},
                _ = term.recv() => {},
            }
            tracing::info!("shutdown signal received");
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
            tracing::info!("shutdown signal received");
        })
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(
            redact_url("sqlite://data/rsp.sqlite"),
            "sqlite://data/rsp.sqlite"
        );
    }
}
