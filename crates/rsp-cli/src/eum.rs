//! `rsp eum`: the EUM's side of ES1. `register` sends an EIS (signed by the EUM, as `rsp euicc create` writes it)
//! to an SM-SR's ES1 endpoint with RegisterEIS, over mutual TLS with the EUM's TLS identity.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use rsp_crypto::pki::PkiManifest;
use rsp_sgp02::bodies::EisRequest;
use rsp_sgp02::common::BaseRequest;
use rsp_sgp02::data::Eis;
use rsp_sgp02::schema::XmlItem;
use rsp_sgp02::xml::Element;
use rsp_sgp02::{DEFAULT_NAMESPACE, fns};
use rsp_soap::client::{Reply, SoapClient};
use rsp_soap::envelope::EndpointReference;
use rsp_types::{ExecutionStatus, FunctionCallIdentifier};

use crate::CliError;
use crate::config::Config;

/// `rsp eum …`
#[derive(Debug, Subcommand)]
pub enum EumCommand {
    /// Register an EIS with an SM-SR (ES1 RegisterEIS).
    Register(RegisterArgs),
}

/// `rsp eum register`
#[derive(Debug, Args)]
pub struct RegisterArgs {
    /// The EIS XML file (EUM-signed), e.g. `<data_dir>/euicc/<EID>.eis.xml`.
    #[arg(long)]
    pub eis: PathBuf,
    /// The SM-SR's ES1 endpoint, e.g. `https://smsr.example:8443/es1`.
    #[arg(long)]
    pub smsr: String,
    /// PKI directory holding the EUM's TLS identity (`tls/eum`) and the TLS CA (default: `pki` in the data dir).
    #[arg(long)]
    pub pki: Option<PathBuf>,
    /// FunctionCallIdentifier (default: `register-<EID>`; a retry with the same one is answered from the SM-SR's
    /// idempotency record).
    #[arg(long)]
    pub function_call_id: Option<String>,
}

/// Runs `rsp eum …`.
pub async fn run(command: EumCommand, config: &Config) -> Result<(), CliError> {
    match command {
        EumCommand::Register(args) => register(args, config).await,
    }
}

async fn register(args: RegisterArgs, config: &Config) -> Result<(), CliError> {
    let xml = std::fs::read_to_string(&args.eis)
        .map_err(CliError::io(format!("reading {}", args.eis.display())))?;
    let signed = rsp_xmlsec::eis::extract(&xml).map_err(|e| {
        CliError::Usage(format!(
            "{}: not an EUM-signed EIS: {e}",
            args.eis.display()
        ))
    })?;
    let root = Element::parse(&xml)
        .map_err(|e| CliError::Usage(format!("{}: {e}", args.eis.display())))?;
    let eis_el = find_eis(&root)
        .ok_or_else(|| CliError::Usage(format!("{}: no Eis element", args.eis.display())))?;
    let eis = Eis::from_element(eis_el)
        .map_err(|e| CliError::Usage(format!("{}: {e}", args.eis.display())))?;
    let eid = eis.eum_signed_info.eid;

    let pki_dir = args.pki.unwrap_or_else(|| config.pki_dir());
    let client = eum_client(&pki_dir)?;
    let fcid = args
        .function_call_id
        .unwrap_or_else(|| format!("register-{eid}"));
    let body = EisRequest {
        base: BaseRequest::new(
            FunctionCallIdentifier::new(fcid).map_err(|e| CliError::Usage(e.to_string()))?,
        ),
        eis,
    };
    let reply = client
        .request_with_signed_eis::<fns::Es1RegisterEis>(&args.smsr, body, None, &signed)
        .await
        .map_err(|e| CliError::Remote(e.to_string()))?;
    let Reply::Response(response) = reply else {
        return Err(CliError::Remote(
            "the SM-SR answered 202 to a synchronous function".into(),
        ));
    };
    let status = response.status();
    match (&status.status, &status.status_code_data) {
        (ExecutionStatus::ExecutedSuccess | ExecutionStatus::ExecutedWithWarning, _) => {
            crate::print_stdout(&format!(
                "EIS of {eid} registered: {}\n",
                status.status.as_str()
            ));
            Ok(())
        }
        (s, Some(d)) => Err(CliError::Remote(format!(
            "RegisterEIS {}: {}/{}{}",
            s.as_str(),
            d.subject_code.as_str(),
            d.reason_code.as_str(),
            d.message
                .as_deref()
                .map(|m| format!(" ({m})"))
                .unwrap_or_default()
        ))),
        (s, None) => Err(CliError::Remote(format!("RegisterEIS {}", s.as_str()))),
    }
}

fn find_eis(el: &Element) -> Option<&Element> {
    if el.name == "Eis" || el.name == "EIS" {
        return Some(el);
    }
    el.children.iter().find_map(find_eis)
}

/// A SOAP client with the EUM's TLS identity from a generated PKI.
fn eum_client(pki_dir: &Path) -> Result<SoapClient, CliError> {
    let manifest = PkiManifest::load(pki_dir)
        .map_err(|e| CliError::Pki(format!("{}: {e}", pki_dir.display())))?;
    let eum = manifest
        .entity("tls/eum")
        .ok_or_else(|| CliError::Pki("no tls/eum identity in the PKI".into()))?;
    let ca = manifest
        .entity("tls/ca")
        .ok_or_else(|| CliError::Pki("no tls/ca in the PKI".into()))?;
    let key = eum
        .key
        .as_ref()
        .ok_or_else(|| CliError::Pki("tls/eum has no private key".into()))?;
    let tls = rsp_soap::http::client_tls_config(&eum.cert, key, &[ca.cert.as_path()])
        .map_err(|e| CliError::Pki(e.to_string()))?;
    let entity = eum
        .entity_oid
        .as_deref()
        .and_then(|o| o.parse().ok())
        .ok_or_else(|| CliError::Pki("tls/eum has no entity OID".into()))?;
    let from = EndpointReference::for_entity("https://eum.rsp.invalid", &entity);
    SoapClient::new(tls, from, DEFAULT_NAMESPACE).map_err(|e| CliError::Remote(e.to_string()))
}
