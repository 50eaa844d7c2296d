//! `rsp catalogue`: the SGP.02 catalogue as a table, as JSON, or as the WSDL/XSD of one interface.

use rsp_sgp02::{CATALOGUE, Interface};

use crate::{CatalogueArgs, CliError};

fn interface(name: &str) -> Result<Interface, CliError> {
    Interface::from_name(name).ok_or_else(|| {
        CliError::Usage(format!(
            "unknown interface {name:?}: use es1, es2, es3, es4, es4a or es7"
        ))
    })
}

/// Runs the command, printing to stdout.
pub fn run(args: &CatalogueArgs) -> Result<(), CliError> {
    if let Some(name) = &args.wsdl {
        let iface = interface(name)?;
        let endpoint = format!("{}/{}", args.endpoint.trim_end_matches('/'), iface.path());
        crate::print_stdout(&rsp_sgp02::wsdl::interface_wsdl(
            iface,
            &args.namespace,
            &endpoint,
        ));
        return Ok(());
    }
    if let Some(name) = &args.xsd {
        crate::print_stdout(&rsp_sgp02::xsd::interface_schema(
            interface(name)?,
            &args.namespace,
        ));
        return Ok(());
    }
    if args.json {
        crate::print_stdout(&(json().map_err(|e| CliError::Usage(e.to_string()))? + "\n"));
        return Ok(());
    }
    crate::print_stdout(&table());
    Ok(())
}

/// The catalogue as a JSON array.
pub fn json() -> Result<String, serde_json::Error> {
    let rows: Vec<serde_json::Value> = CATALOGUE
        .iter()
        .map(|f| {
            serde_json::json!({
                "interface": f.interface.name(),
                "function": f.name,
                "pattern": f.pattern.as_str(),
                "roles": f.callers.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
                "provider": f.provider.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
                "section": f.section,
                "request_element": f.request_element(),
                "response_element": f.response_element(),
                "action": f.request_action(),
            })
        })
        .collect();
    serde_json::to_string_pretty(&rows)
}

/// The catalogue as an aligned text table.
pub fn table() -> String {
    let rows: Vec<[String; 4]> = CATALOGUE
        .iter()
        .map(|f| {
            [
                f.interface.name().to_string(),
                f.name.to_string(),
                f.pattern.as_str().to_string(),
                f.callers
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            ]
        })
        .collect();
    let header = ["INTERFACE", "FUNCTION", "PATTERN", "CALLER ROLES"];
    let mut widths = header.map(str::len);
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.len());
        }
    }
    let mut out = String::new();
    let line = |cells: [&str; 4], out: &mut String| {
        let parts: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        out.push_str(parts.join("  ").trim_end());
        out.push('\n');
    };
    line(header, &mut out);
    for r in &rows {
        line([&r[0], &r[1], &r[2], &r[3]], &mut out);
    }
    out.push_str(&format!("{} functions\n", CATALOGUE.len()));
    out
}
