//! `rsp euicc`: simulated SGP.02 M2M eUICCs kept in the data dir.
//!
//! `create` issues a card from an `sgp02/euicc-N` entity of the test PKI (the first one no stored
//! card uses), stores it in `<data_dir>/euicc/` ([`CardStore`]) and writes its EIS for ES1
//! `RegisterEIS` to `<data_dir>/euicc/<EID>.eis.xml` (mode 0600), signed by the PKI's EUM. The ISD-R
//! keys in that EIS are encrypted under the ES1 transport key `<data_dir>/euicc/es1-transport.key`
//! (AES-128 ECB PKCS#7, U-16; created on first use, mode 0600), which the SM-SR is configured with.
//! `list` and `show` read the stored cards.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use rsp_crypto::pki::{PkiManifest, PkiOptions, entity_oids};
use rsp_euicc::m2m::eis::{Es1TransportKey, eis_to_xml};
use rsp_euicc::m2m::issue::{BootstrapProfile, IssueOptions};
use rsp_euicc::m2m::{CardStore, CardTime, IssuerMaterial, M2mCard, PersistError, Pol1};
use rsp_types::{Aid, Eid, EntityId};

use crate::CliError;
use crate::config::Config;

/// Folder of the card store in the data dir.
pub const EUICC_DIR: &str = "euicc";
/// File of the ES1 transport key in the card store folder.
pub const TRANSPORT_KEY_FILE: &str = "es1-transport.key";
/// Suffix of the EIS files.
pub const EIS_FILE_SUFFIX: &str = ".eis.xml";
/// ISD-P AID of a `--bootstrap` profile.
pub const BOOTSTRAP_ISD_P_AID: &str = "A0000005591010FFFFFFFF8900001000";
/// Prefix of the eUICC entities in a PKI manifest.
const EUICC_ENTITY_PREFIX: &str = "sgp02/euicc-";

/// `rsp euicc …`
#[derive(Debug, Subcommand)]
pub enum EuiccCommand {
    /// Issue a simulated M2M eUICC from the test PKI; store it and write its signed EIS.
    Create(CreateArgs),
    /// List the stored eUICCs.
    List(ListArgs),
    /// Show one stored eUICC as JSON.
    Show(ShowArgs),
}

/// `rsp euicc create`
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// PKI directory (default: the configured one, `pki` in the data dir; generated when missing
    /// and `pki.generate_if_missing` is on).
    #[arg(long, value_name = "DIR")]
    pub pki: Option<PathBuf>,
    /// The eUICC entity of the PKI (default: the first `sgp02/euicc-N` no stored card uses).
    #[arg(long, value_name = "sgp02/euicc-N")]
    pub entity: Option<String>,
    /// A SAIP profile package (DER) installed enabled, with the Fall-Back attribute.
    #[arg(long, value_name = "PROFILE.der")]
    pub bootstrap: Option<PathBuf>,
    /// Operator (`Mno-id`) of the bootstrap profile in the EIS.
    #[arg(long, value_name = "OID", default_value = entity_oids::OPERATOR1)]
    pub mno_id: String,
    /// Seed of the card's random source (reproducible ISD-R keys); default: from the system.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// The SM-SR named in the EIS (default: the PKI's `sgp02/sm-sr1`).
    #[arg(long, value_name = "OID")]
    pub smsr_id: Option<String>,
}

/// `rsp euicc list`
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Print JSON (one object per card) instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `rsp euicc show`
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The EID (32 digits).
    pub eid: String,
}

/// Runs the command, printing to stdout.
pub fn run(command: EuiccCommand, config: &Config) -> Result<(), CliError> {
    let dir = config.data_dir.join(EUICC_DIR);
    match command {
        EuiccCommand::Create(args) => create(&args, config, &dir),
        EuiccCommand::List(args) => list(&args, &dir),
        EuiccCommand::Show(args) => show(&args, &dir),
    }
}

fn euicc_err(e: impl std::fmt::Display) -> CliError {
    CliError::Euicc(e.to_string())
}

fn open_store(dir: &Path) -> Result<CardStore, CliError> {
    CardStore::open(dir).map_err(|e| CliError::Euicc(format!("card store {}: {e}", dir.display())))
}

fn load_or_generate_pki(dir: &Path, config: &Config) -> Result<PkiManifest, CliError> {
    match PkiManifest::load(dir) {
        Ok(m) => Ok(m),
        Err(_)
            if config.pki.generate_if_missing
                && !dir.join(rsp_crypto::pki::MANIFEST_FILE).exists() =>
        {
            tracing::info!(dir = %dir.display(), "no PKI found: generating a test PKI");
            crate::serve::generate_pki(dir, false, PkiOptions::default().euicc_count)
        }
        Err(e) => Err(CliError::Pki(format!("loading {}: {e}", dir.display()))),
    }
}

/// The `sgp02/euicc-N` entities of the manifest, by N.
fn euicc_entities(manifest: &PkiManifest) -> Vec<(u64, &str, Option<&str>)> {
    let mut list: Vec<_> = manifest
        .entities
        .iter()
        .filter_map(|e| {
            let n =
                e.id.strip_prefix(EUICC_ENTITY_PREFIX)?
                    .parse::<u64>()
                    .ok()?;
            Some((n, e.id.as_str(), e.eid.as_deref()))
        })
        .collect();
    list.sort_unstable();
    list
}

fn choose_entity(
    manifest: &PkiManifest,
    wanted: Option<&str>,
    used: &[Eid],
) -> Result<String, CliError> {
    let entities = euicc_entities(manifest);
    let in_use = |eid: Option<&str>| {
        eid.and_then(|e| e.parse::<Eid>().ok())
            .is_some_and(|e| used.contains(&e))
    };
    if let Some(id) = wanted {
        let Some((_, _, eid)) = entities.iter().find(|(_, e, _)| *e == id) else {
            return Err(CliError::Usage(format!(
                "no eUICC entity {id:?} in the PKI {} (it has {})",
                manifest.dir.display(),
                entities
                    .iter()
                    .map(|(_, e, _)| *e)
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        };
        if in_use(*eid) {
            return Err(CliError::Euicc(format!(
                "{id} (EID {}) is already a stored card",
                eid.unwrap_or_default()
            )));
        }
        return Ok(id.to_string());
    }
    entities
        .iter()
        .find(|(_, _, eid)| !in_use(*eid))
        .map(|(_, id, _)| (*id).to_string())
        .ok_or_else(|| {
            CliError::Euicc(format!(
                "all {} eUICC entities of the PKI {} are already used by stored cards; \
                 issue more with `rsp pki init --dir NEW_DIR --euiccs N` and pass `--pki NEW_DIR`",
                entities.len(),
                manifest.dir.display()
            ))
        })
}

/// Creates `path` (mode 0600 on Unix) with `bytes`; fails with `AlreadyExists` if it exists, so
/// two concurrent `create`s never overwrite each other's file.
fn write_new_private_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

fn load_or_create_transport_key(path: &Path) -> Result<Es1TransportKey, CliError> {
    let read = || -> Result<Es1TransportKey, CliError> {
        let text = std::fs::read_to_string(path)
            .map_err(CliError::io(format!("reading {}", path.display())))?;
        Es1TransportKey::from_hex(&text)
            .map_err(|e| CliError::Euicc(format!("{}: {e}", path.display())))
    };
    if path.exists() {
        return read();
    }
    let key = Es1TransportKey::generate().map_err(euicc_err)?;
    match write_new_private_file(path, key.to_hex().as_bytes()) {
        Ok(()) => Ok(key),
        // Another `create` made it first: use that one.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => read(),
        Err(source) => Err(CliError::Io {
            context: format!("writing {}", path.display()),
            source,
        }),
    }
}

fn oid_arg(flag: &str, value: &str) -> Result<EntityId, CliError> {
    value
        .parse()
        .map_err(|e| CliError::Usage(format!("{flag} {value:?}: {e}")))
}

/// The signed EIS document of a new card.
fn signed_eis_xml(
    manifest: &PkiManifest,
    eis: &mut rsp_sgp02::data::Eis,
) -> Result<String, CliError> {
    let ns = rsp_sgp02::DEFAULT_NAMESPACE;
    let eum = manifest
        .entity("sgp02/eum")
        .ok_or_else(|| CliError::Pki("the PKI has no sgp02/eum entity".into()))?;
    let key = eum.key.as_ref().ok_or_else(|| {
        CliError::Pki("the PKI holds no private key of sgp02/eum: cannot sign the EIS".into())
    })?;
    let signer = rsp_xmlsec::eis::EumSigner::from_files(&eum.cert, key)
        .map_err(|e| CliError::Euicc(format!("EUM signer: {e}")))?;
    let part = signer
        .sign(eis, ns)
        .map_err(|e| CliError::Euicc(format!("signing the EIS: {e}")))?;
    // The signed bytes go into the document as they were signed.
    rsp_xmlsec::eis::splice(&eis_to_xml(eis, ns), &part)
        .map_err(|e| CliError::Euicc(format!("writing the signed EIS: {e}")))
}

fn create(args: &CreateArgs, config: &Config, dir: &Path) -> Result<(), CliError> {
    let smsr_id = args
        .smsr_id
        .as_deref()
        .map(|s| oid_arg("--smsr-id", s))
        .transpose()?;
    let mno_id = oid_arg("--mno-id", &args.mno_id)?;
    let bootstrap = match &args.bootstrap {
        Some(path) => Some(BootstrapProfile {
            aid: BOOTSTRAP_ISD_P_AID.parse::<Aid>().map_err(euicc_err)?,
            package: std::fs::read(path)
                .map_err(CliError::io(format!("reading {}", path.display())))?,
            pol1: Pol1::NONE,
        }),
        None => None,
    };
    std::fs::create_dir_all(&config.data_dir).map_err(CliError::io(format!(
        "creating the data dir {}",
        config.data_dir.display()
    )))?;
    let pki_dir = args.pki.clone().unwrap_or_else(|| config.pki_dir());
    let manifest = load_or_generate_pki(&pki_dir, config)?;
    let smsr_id = match smsr_id {
        Some(id) => id,
        None => {
            let oid = manifest
                .entity("sgp02/sm-sr1")
                .and_then(|e| e.entity_oid.clone())
                .unwrap_or_else(|| entity_oids::SM_SR1.to_string());
            oid_arg("sgp02/sm-sr1 entity", &oid)?
        }
    };

    let store = open_store(dir)?;
    let used = store.list().map_err(euicc_err)?;
    let entity = choose_entity(&manifest, args.entity.as_deref(), &used)?;
    let material = IssuerMaterial::from_manifest(&manifest, &entity).map_err(euicc_err)?;
    let options = IssueOptions {
        rng_seed: args.seed,
        production_time: CardTime::now(),
        bootstrap,
        ..IssueOptions::default()
    };
    let (card, seed) = M2mCard::issue(material, options)
        .map_err(|e| CliError::Euicc(format!("issuing {entity}: {e}")))?;
    let eid = *card.eid();
    if used.contains(&eid) {
        return Err(CliError::Euicc(format!(
            "EID {eid} is already a stored card"
        )));
    }

    let key_path = dir.join(TRANSPORT_KEY_FILE);
    let transport = load_or_create_transport_key(&key_path)?;
    let mut eis = seed
        .to_eis(&smsr_id, &mno_id, &transport)
        .map_err(|e| CliError::Euicc(format!("building the EIS: {e}")))?;
    let xml = signed_eis_xml(&manifest, &mut eis)?;
    let eis_path = dir.join(format!("{eid}{EIS_FILE_SUFFIX}"));
    // The EIS file is created exclusively: it claims the EID before the card is saved.
    match write_new_private_file(&eis_path, xml.as_bytes()) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(CliError::Euicc(format!(
                "{} already exists: another `rsp euicc create` is issuing {entity}, or an \
                 interrupted one left it (remove it to reuse {entity})",
                eis_path.display()
            )));
        }
        Err(source) => {
            return Err(CliError::Io {
                context: format!("writing {}", eis_path.display()),
                source,
            });
        }
    }
    if let Err(e) = store.save(&card) {
        let _ = std::fs::remove_file(&eis_path);
        return Err(CliError::Euicc(format!("saving the card: {e}")));
    }
    tracing::info!(%eid, entity, "eUICC issued");
    crate::print_stdout(&format!(
        "eid: {eid}\nentity: {entity}\neis: {}\nes1 transport key: {}\n",
        eis_path.display(),
        key_path.display()
    ));
    Ok(())
}

/// One row of `rsp euicc list`.
#[derive(Debug, serde::Serialize)]
struct Row {
    eid: Eid,
    profiles: usize,
    enabled_iccid: Option<String>,
    fall_back: Option<Aid>,
}

fn rows(dir: &Path) -> Result<Vec<Row>, CliError> {
    if !dir.exists() {
        return Ok(Vec::new());
    }
    let store = open_store(dir)?;
    let mut rows = Vec::new();
    for eid in store.list().map_err(euicc_err)? {
        let card = store
            .load(&eid)
            .map_err(|e| CliError::Euicc(format!("loading {eid}: {e}")))?;
        let summary = card.summary();
        let enabled_iccid = summary.enabled.and_then(|aid| {
            summary
                .profiles
                .iter()
                .find(|p| p.aid == aid)
                .and_then(|p| p.iccid)
                .map(|i| i.to_string())
        });
        rows.push(Row {
            eid,
            profiles: summary.profiles.len(),
            enabled_iccid,
            fall_back: summary.fall_back,
        });
    }
    Ok(rows)
}

fn list(args: &ListArgs, dir: &Path) -> Result<(), CliError> {
    let rows = rows(dir)?;
    if args.json {
        let text = serde_json::to_string_pretty(&rows).map_err(euicc_err)?;
        crate::print_stdout(&(text + "\n"));
        return Ok(());
    }
    let cells: Vec<[String; 4]> = rows
        .iter()
        .map(|r| {
            [
                r.eid.to_string(),
                r.profiles.to_string(),
                r.enabled_iccid.clone().unwrap_or_else(|| "-".into()),
                r.fall_back.map_or_else(|| "-".into(), |a| a.to_string()),
            ]
        })
        .collect();
    crate::print_stdout(&table(
        ["EID", "PROFILES", "ENABLED ICCID", "FALL-BACK AID"],
        &cells,
    ));
    Ok(())
}

fn table(header: [&str; 4], rows: &[[String; 4]]) -> String {
    let mut widths = header.map(str::len);
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.len());
        }
    }
    let mut out = String::new();
    let mut line = |cells: [&str; 4]| {
        let text: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        out.push_str(text.join("  ").trim_end());
        out.push('\n');
    };
    line(header);
    for r in rows {
        line([&r[0], &r[1], &r[2], &r[3]].map(String::as_str));
    }
    out
}

fn show(args: &ShowArgs, dir: &Path) -> Result<(), CliError> {
    let eid: Eid = args
        .eid
        .trim()
        .parse()
        .map_err(|e| CliError::Usage(format!("malformed EID {:?}: {e}", args.eid)))?;
    if !dir.exists() {
        return Err(CliError::Euicc(format!(
            "no eUICC {eid} in {}",
            dir.display()
        )));
    }
    let store = open_store(dir)?;
    let card = store.load(&eid).map_err(|e| match e {
        PersistError::NotFound(_) => {
            CliError::Euicc(format!("no eUICC {eid} in {}", dir.display()))
        }
        other => CliError::Euicc(format!("loading {eid}: {other}")),
    })?;
    let text = serde_json::to_string_pretty(&card.summary()).map_err(euicc_err)?;
    crate::print_stdout(&(text + "\n"));
    Ok(())
}
