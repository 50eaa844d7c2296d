//! The `rsp` command line: configuration, logging, the process that serves, and operator tools.
//!
//! This crate holds no protocol logic: it reads configuration, wires the library crates together and
//! maps their errors to exit codes (0 success, 1 runtime failure, 2 configuration or usage error).

pub mod admin;
pub mod catalogue;
pub mod config;
pub mod demo;
pub mod euicc;
pub mod eum;
pub mod lpa;
pub mod serve;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::config::{Config, LogFormat};

/// rsp: an eSIM Remote SIM Provisioning platform (GSMA SGP.02 and SGP.22).
#[derive(Debug, Parser)]
#[command(name = "rsp", version, about, long_about = None)]
pub struct Cli {
    /// Data directory (SQLite store, generated PKI). Overrides `data_dir` in the config file.
    #[arg(long, global = true, env = "RSP_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// TOML configuration file. Without one, defaults apply (and `RSP_…` environment overrides).
    #[arg(long, short = 'c', global = true, env = "RSP_CONFIG")]
    pub config: Option<PathBuf>,
    /// Log format, overriding `log.format`.
    #[arg(long, global = true, value_enum)]
    pub log_format: Option<LogFormat>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Sub-commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the configured services (first start: creates the data dir, a test PKI and a SQLite store).
    Serve,
    /// Certificates and keys.
    #[command(subcommand)]
    Pki(PkiCommand),
    /// Configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// The store.
    #[command(subcommand)]
    Store(StoreCommand),
    /// The SGP.02 function catalogue: every ES1, ES2, ES3, ES4, ES4A and ES7 function.
    Catalogue(CatalogueArgs),
    /// Simulated SGP.02 M2M eUICCs in the data dir (issued from the test PKI, with their EIS).
    #[command(subcommand)]
    Euicc(euicc::EuiccCommand),
    /// The EUM side of ES1: register EIS with an SM-SR.
    #[command(subcommand)]
    Eum(eum::EumCommand),
    /// The SGP.22 LPA driving a simulated consumer eUICC: download, profiles, notifications.
    #[command(subcommand)]
    Lpa(lpa::LpaCommand),
    /// Live demonstrations (`rsp demo sgp22`: the SGP.22 v2/v3 interoperability matrix).
    #[command(subcommand)]
    Demo(demo::DemoCommand),
}

/// `rsp catalogue`
#[derive(Debug, Args)]
pub struct CatalogueArgs {
    /// Print the catalogue as JSON (one object per function).
    #[arg(long, conflicts_with_all = ["wsdl", "xsd"])]
    pub json: bool,
    /// Print the generated WSDL of one interface (es1, es2, es3, es4, es4a, es7).
    #[arg(long, value_name = "INTERFACE", conflicts_with = "xsd")]
    pub wsdl: Option<String>,
    /// Print the generated XSD of one interface.
    #[arg(long, value_name = "INTERFACE")]
    pub xsd: Option<String>,
    /// Endpoint URL written into the WSDL's service port.
    #[arg(long, default_value = "https://localhost:8443")]
    pub endpoint: String,
    /// Message namespace of the generated WSDL/XSD.
    #[arg(long, default_value = rsp_sgp02::DEFAULT_NAMESPACE)]
    pub namespace: String,
}

/// `rsp pki …`
#[derive(Debug, Subcommand)]
pub enum PkiCommand {
    /// Generate a complete test hierarchy (SGP.02, SGP.22 shaped like SGP.26, mutual-TLS identities).
    Init(PkiInitArgs),
    /// Load the GSMA SGP.26 test certificates and keys (verifying every chain) into a PKI directory.
    ImportSgp26(PkiImportArgs),
}

/// `rsp pki init`
#[derive(Debug, Args)]
pub struct PkiInitArgs {
    /// Target directory (default: `pki` in the data dir).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Replace an existing hierarchy.
    #[arg(long)]
    pub force: bool,
    /// How many simulated M2M eUICCs (ECASD certificates) to issue.
    #[arg(long, default_value_t = 2)]
    pub euiccs: usize,
}

/// `rsp pki import-sgp26`
#[derive(Debug, Args)]
pub struct PkiImportArgs {
    /// The SGP.26 folder (with CertificateIssuer, EUM, eUICC, DPauth, DPpb, DPtls).
    pub source: PathBuf,
    /// Target directory (default: `pki-sgp26` in the data dir).
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

/// `rsp config …`
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the configuration in effect (file, environment and defaults merged) as TOML.
    Show,
}

/// `rsp store …`
#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Open the configured store and run its migrations.
    Migrate,
}

/// Runs the command line; returns the process exit code.
pub fn main_with_args(cli: Cli) -> ExitCode {
    let mut config = match Config::load(
        cli.config.as_deref(),
        std::env::vars(),
        cli.data_dir.as_deref(),
    ) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    if let Some(format) = cli.log_format {
        config.log.format = format;
    }
    init_tracing(&config);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(run(cli.command, config));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if !matches!(e, CliError::Usage(_)) {
                tracing::error!(error = %e, "rsp failed");
            }
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// Failures of a command, each mapped to an exit code.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Usage or configuration mistake (exit 2).
    #[error("{0}")]
    Usage(String),
    /// PKI generation or import failed.
    #[error("pki: {0}")]
    Pki(String),
    /// A simulated eUICC operation failed.
    #[error("euicc: {0}")]
    Euicc(String),
    /// A remote peer refused or failed (exit 1).
    #[error("{0}")]
    Remote(String),
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] rsp_store::StoreError),
    /// IO failure (files, sockets).
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The IO error.
        source: std::io::Error,
    },
}

impl CliError {
    fn exit_code(&self) -> u8 {
        match self {
            Self::Usage(_) => 2,
            _ => 1,
        }
    }

    pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Self {
        let context = context.into();
        move |source| Self::Io { context, source }
    }
}

async fn run(command: Command, config: Config) -> Result<(), CliError> {
    match command {
        Command::Serve => serve::serve(config).await,
        Command::Pki(PkiCommand::Init(args)) => {
            let dir = args.dir.unwrap_or_else(|| config.pki_dir());
            let manifest = serve::generate_pki(&dir, args.force, args.euiccs)?;
            println!(
                "test PKI written to {} ({} entities)",
                dir.display(),
                manifest.entities.len()
            );
            Ok(())
        }
        Command::Pki(PkiCommand::ImportSgp26(args)) => {
            let dir = args
                .dir
                .unwrap_or_else(|| config.data_dir.join("pki-sgp26"));
            let manifest = rsp_crypto::sgp26::import_sgp26(&args.source, &dir)
                .map_err(|e| CliError::Pki(e.to_string()))?;
            println!(
                "SGP.26 test PKI imported into {} ({} entities, every chain verified)",
                dir.display(),
                manifest.entities.len()
            );
            Ok(())
        }
        Command::Config(ConfigCommand::Show) => {
            let text =
                toml::to_string_pretty(&config).map_err(|e| CliError::Usage(e.to_string()))?;
            print!("{text}");
            Ok(())
        }
        Command::Catalogue(args) => catalogue::run(&args),
        Command::Euicc(command) => euicc::run(command, &config),
        Command::Eum(command) => eum::run(command, &config).await,
        Command::Lpa(command) => lpa::run(command, &config).await,
        Command::Demo(command) => demo::run(command).await,
        Command::Store(StoreCommand::Migrate) => {
            std::fs::create_dir_all(&config.data_dir)
                .map_err(CliError::io("creating the data dir"))?;
            let _store = rsp_store::open(&config.store_url()).await?;
            println!(
                "store {} is at the current schema",
                serve::redact_url(&config.store_url())
            );
            Ok(())
        }
    }
}

/// Writes to stdout; a closed pipe (`rsp catalogue | head`) ends the output quietly instead of panicking.
pub(crate) fn print_stdout(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

fn init_tracing(config: &Config) {
    use tracing_subscriber::EnvFilter;
    let filter = std::env::var("RSP_LOG")
        .ok()
        .and_then(|v| EnvFilter::try_new(v).ok())
        .or_else(|| EnvFilter::try_new(&config.log.level).ok())
        .unwrap_or_else(|| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second initialisation (tests) is harmless: the first subscriber stays.
    let _ = match config.log.format {
        LogFormat::Human => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}
