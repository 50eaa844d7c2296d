//! Import of the GSMA SGP.26 test PKI (the SGP.22 side) into a PKI directory.
//!
//! [`import_sgp26`] reads the published folder layout (`CertificateIssuer`, `EUM`, `eUICC`,
//! `DPauth`, `DPpb`, `DPtls`; certificates `CERT_*` in DER or PEM, private keys `SK_*` as SEC1 PEM,
//! optionally preceded by an `EC PARAMETERS` block) and writes the same shape that
//! [`crate::pki::generate`] writes for its SGP.22 part: `sgp22/<kind>/<nist|brp>/{cert.pem,key.pem}`
//! plus `pki.json` (origin `sgp26`). Both the NIST P-256 and the brainpoolP256r1 variants are kept.
//!
//! Entity ids: `sgp22/ci/…`, `sgp22/eum/…`, `sgp22/euicc/…`; SM-DP+ certificates are named by the
//! server token of their file name: `CERT_S_SM_DPauth_*` → `dp-auth`, `CERT_S_SM_DP2pb_*` →
//! `dp2-pb`, `CERT_S_SM_DP_VARO_TLS_*` → `dp-tls`, `CERT_S_SM_DP4_TLS` → `dp4-tls`. The variant
//! (`nist`, `brp`) comes from the certificate's key, never from the file name.
//!
//! Every chain is verified on import with the SGP.22 rules ([`x509::verify_sgp22_chain`]: role
//! policy OIDs, AKI/SKI, signatures, the eUICC's EID inside the EUM's range) at the certificate's
//! own notBefore, so that certificates that have since expired (the SGP.26 `DP2/DP4/DP8` TLS
//! certificates) are still imported; their validity is recorded in the manifest. Each private key
//! is matched to its certificate by public key.

use std::fs;
use std::path::{Path, PathBuf};

use time::OffsetDateTime;

use crate::ecc::{Curve, PrivateKey};
use crate::pki::{
    self, CertFormat, EntityRole, MANIFEST_FORMAT, PkiEntity, PkiError, PkiManifest, PkiPart,
};
use crate::x509::{self, Certificate, Sgp22Role};

/// The SGP.26 folders, their role and the entity kind they map to (DP folders derive the kind
/// from the file name).
const FOLDERS: [(&str, Sgp22Role, EntityRole); 6] = [
    ("CertificateIssuer", Sgp22Role::Ci, EntityRole::Ci),
    ("EUM", Sgp22Role::Eum, EntityRole::Eum),
    ("eUICC", Sgp22Role::Euicc, EntityRole::Euicc),
    ("DPauth", Sgp22Role::DpAuth, EntityRole::DpAuth),
    ("DPpb", Sgp22Role::DpPb, EntityRole::DpPb),
    ("DPtls", Sgp22Role::DpTls, EntityRole::DpTls),
];

/// Options of [`import_sgp26_with_options`].
#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    /// Overwrite an existing PKI in the destination.
    pub force: bool,
}

/// Imports the SGP.26 set at `src` into the PKI directory `dest` (refuses an existing PKI there).
pub fn import_sgp26(src: &Path, dest: &Path) -> Result<PkiManifest, PkiError> {
    import_sgp26_with_options(src, dest, &ImportOptions::default())
}

/// [`import_sgp26`] with options.
pub fn import_sgp26_with_options(
    src: &Path,
    dest: &Path,
    opts: &ImportOptions,
) -> Result<PkiManifest, PkiError> {
    // Read and check everything before touching the destination.
    let mut folders = Vec::new();
    for (folder, role, entity_role) in FOLDERS {
        let dir = src.join(folder);
        if !dir.is_dir() {
            return Err(PkiError::Import(format!(
                "{} is not a directory",
                dir.display()
            )));
        }
        folders.push((folder, role, entity_role, read_folder(&dir)?));
    }
    let cis: Vec<Certificate> = folders
        .iter()
        .filter(|f| f.1 == Sgp22Role::Ci)
        .flat_map(|f| f.3.certs.iter().map(|c| c.1.clone()))
        .collect();
    let eums: Vec<Certificate> = folders
        .iter()
        .filter(|f| f.1 == Sgp22Role::Eum)
        .flat_map(|f| f.3.certs.iter().map(|c| c.1.clone()))
        .collect();

    struct Planned {
        entity: PkiEntity,
        cert: Certificate,
        key: PrivateKey,
        chain_certs: Vec<Certificate>,
    }
    let mut planned: Vec<Planned> = Vec::new();
    for (_, role, entity_role, content) in &folders {
        for (file, cert) in &content.certs {
            let at = cert.not_before();
            let chain = x509::verify_sgp22_chain(cert, &eums, &cis, at, *role)
                .map_err(|e| PkiError::x509(&file.display().to_string(), e))?;
            let public = cert
                .public_key()
                .map_err(|e| PkiError::x509(&file.display().to_string(), e))?;
            let key = content
                .keys
                .iter()
                .find(|k| k.public_key() == public)
                .ok_or_else(|| {
                    PkiError::Import(format!("no SK_ private key matches {}", file.display()))
                })?
                .try_clone()?;
            let variant = match public.curve() {
                Curve::NistP256 => "nist",
                Curve::BrainpoolP256r1 => "brp",
            };
            let kind = entity_kind(*role, file);
            let id = format!("sgp22/{kind}/{variant}");
            if planned.iter().any(|p| p.entity.id == id) {
                return Err(PkiError::Import(format!(
                    "two certificates map to entity {id}"
                )));
            }
            let name = cert
                .subject()
                .common_name()
                .or_else(|| cert.subject().organization())
                .unwrap_or_default()
                .to_string();
            let entity = PkiEntity {
                id: id.clone(),
                pki: PkiPart::Sgp22,
                role: *entity_role,
                name,
                entity_oid: cert.registered_ids().first().cloned(),
                curve: public.curve().name().to_string(),
                cert: dest.join(&id).join("cert.pem"),
                cert_format: CertFormat::X509Pem,
                key: Some(dest.join(&id).join("key.pem")),
                chain: Vec::new(),
                eid: (*role == Sgp22Role::Euicc)
                    .then(|| cert.eid().unwrap_or_default().to_string()),
                not_before: cert.not_before(),
                not_after: cert.not_after(),
            };
            let chain_certs = chain.certificates().iter().skip(1).cloned().collect();
            planned.push(Planned {
                entity,
                cert: cert.clone(),
                key,
                chain_certs,
            });
        }
    }

    // Chain paths: the issuers' own files in the destination.
    let written: Vec<(Certificate, PathBuf)> = planned
        .iter()
        .map(|p| (p.cert.clone(), p.entity.cert.clone()))
        .collect();
    for p in &mut planned {
        p.entity.chain = p
            .chain_certs
            .iter()
            .map(|c| {
                written
                    .iter()
                    .find(|(w, _)| w == c)
                    .map(|(_, path)| path.clone())
                    .ok_or_else(|| {
                        PkiError::Import(format!("issuer of {} not imported", p.entity.id))
                    })
            })
            .collect::<Result<_, _>>()?;
    }

    pki::prepare_dir(dest, opts.force)?;
    for p in &planned {
        pki::write_file(&p.entity.cert, p.cert.to_pem().as_bytes(), false)?;
        if let Some(key_path) = &p.entity.key {
            pki::write_key(key_path, &p.key)?;
        }
    }
    let manifest = PkiManifest {
        format: MANIFEST_FORMAT,
        origin: "sgp26".into(),
        created: OffsetDateTime::now_utc()
            .replace_nanosecond(0)
            .unwrap_or_else(|_| OffsetDateTime::now_utc()),
        entities: planned.into_iter().map(|p| p.entity).collect(),
        dir: dest.to_path_buf(),
    };
    manifest.save()?;
    Ok(manifest)
}

struct FolderContent {
    certs: Vec<(PathBuf, Certificate)>,
    keys: Vec<PrivateKey>,
}

fn read_folder(dir: &Path) -> Result<FolderContent, PkiError> {
    let mut names: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(|e| PkiError::io(dir, e))?
        .map(|entry| entry.map(|e| e.path()).map_err(|e| PkiError::io(dir, e)))
        .collect::<Result<_, _>>()?;
    names.sort();
    let mut certs: Vec<(PathBuf, Certificate)> = Vec::new();
    let mut keys = Vec::new();
    for path in names {
        let file = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let is_cert =
            file.starts_with("CERT_") && (file.ends_with(".der") || file.ends_with(".pem"));
        let is_key = file.starts_with("SK_") && file.ends_with(".pem");
        if is_cert {
            let cert = pki::read_x509(&path)?;
            // The same certificate may be published as .der and .pem.
            if !certs.iter().any(|(_, c)| c == &cert) {
                certs.push((path, cert));
            }
        } else if is_key {
            keys.push(pki::read_key(&path)?);
        }
    }
    if certs.is_empty() {
        return Err(PkiError::Import(format!(
            "no CERT_ files in {}",
            dir.display()
        )));
    }
    Ok(FolderContent { certs, keys })
}

/// The entity kind of a certificate file: `ci`, `eum`, `euicc`, or `<server>-<auth|pb|tls>` for the
/// SM-DP+ folders (`CERT_S_SM_DP2auth_ECDSA_NIST.der` → `dp2-auth`).
fn entity_kind(role: Sgp22Role, file: &Path) -> String {
    let suffix = match role {
        Sgp22Role::Ci | Sgp22Role::Eum | Sgp22Role::Euicc => return role.name().to_string(),
        Sgp22Role::DpAuth | Sgp22Role::DsAuth => "auth",
        Sgp22Role::DpPb => "pb",
        Sgp22Role::DpTls | Sgp22Role::DsTls => "tls",
    };
    let stem = file
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    let server = stem
        .strip_prefix("CERT_S_SM_")
        .and_then(|rest| rest.split('_').next())
        .map(|token| {
            token
                .strip_suffix(suffix)
                .unwrap_or(token)
                .to_ascii_lowercase()
        })
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| stem.to_ascii_lowercase());
    format!("{server}-{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_kinds_from_sgp26_file_names() {
        let k = |role, f: &str| entity_kind(role, Path::new(f));
        assert_eq!(
            k(Sgp22Role::DpAuth, "CERT_S_SM_DPauth_ECDSA_NIST.der"),
            "dp-auth"
        );
        assert_eq!(
            k(Sgp22Role::DpAuth, "CERT_S_SM_DP2auth_ECDSA_BRP.der"),
            "dp2-auth"
        );
        assert_eq!(
            k(Sgp22Role::DpPb, "CERT_S_SM_DP2pb_ECDSA_NIST.der"),
            "dp2-pb"
        );
        assert_eq!(
            k(Sgp22Role::DpTls, "CERT_S_SM_DP_VARO_TLS_NIST.der"),
            "dp-tls"
        );
        assert_eq!(k(Sgp22Role::DpTls, "CERT_S_SM_DP8_TLS.der"), "dp8-tls");
        assert_eq!(k(Sgp22Role::Eum, "CERT_EUM_ECDSA_NIST.der"), "eum");
    }
}
