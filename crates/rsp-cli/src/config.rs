//! Configuration: a TOML file, overridden by `RSP_…` environment variables, validated once.
//!
//! Every key has a default, so a first start needs no file at all. Environment overrides name a key
//! path with double underscores: `RSP_STORE__URL=postgres://…` sets `store.url`,
//! `RSP_ADMIN__LISTEN=0.0.0.0:9090` sets `admin.listen`. Values are read as TOML scalars when they
//! parse as one (`true`, `42`), otherwise as strings.
//!
//! Errors name the offending key in one line (`config error: store.url: …`), and the binary exits 2.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Environment variable prefix for overrides.
pub const ENV_PREFIX: &str = "RSP_";

/// The whole configuration.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where rsp keeps its state: the SQLite file, the generated PKI, simulated cards.
    pub data_dir: PathBuf,
    /// Persistence.
    pub store: StoreConfig,
    /// Logging.
    pub log: LogConfig,
    /// The admin listener (`/healthz`, `/metrics`).
    pub admin: AdminConfig,
    /// Certificates and keys.
    pub pki: PkiConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("data"),
            store: StoreConfig::default(),
            log: LogConfig::default(),
            admin: AdminConfig::default(),
            pki: PkiConfig::default(),
        }
    }
}

/// `[store]`
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// `sqlite://PATH` or `postgres://USER@HOST:PORT/DB`. Empty: SQLite file `rsp.sqlite` in the data dir.
    pub url: String,
}

/// `[log]`
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `human` or `json`.
    pub format: LogFormat,
    /// A `tracing` filter directive, e.g. `info` or `rsp=debug,sqlx=warn`.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: LogFormat::Human,
            level: "info".into(),
        }
    }
}

/// Log line format.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Readable lines for a terminal.
    Human,
    /// One JSON object per line, for log collectors.
    Json,
}

/// `[admin]`
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AdminConfig {
    /// Listen address of the admin endpoints. Port 0 picks a free port (logged at start).
    pub listen: SocketAddr,
}

impl Default for AdminConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 9090)),
        }
    }
}

/// `[pki]`
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PkiConfig {
    /// Directory of the PKI manifest (`pki.json`). Empty: `pki` in the data dir.
    pub dir: PathBuf,
    /// Generate a test PKI there on start when none exists (the first-start behaviour).
    pub generate_if_missing: bool,
}

impl Default for PkiConfig {
    fn default() -> Self {
        Self {
            dir: PathBuf::new(),
            generate_if_missing: true,
        }
    }
}

/// A configuration error: one line, naming the key when there is one.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("config error: cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML.
    #[error("config error: {path}: {message}")]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The parser's message, on one line.
        message: String,
    },
    /// A key has a value of the wrong shape, or is unknown.
    #[error("config error: {key}: {message}")]
    Key {
        /// Dotted key path (`store.url`).
        key: String,
        /// What is wrong.
        message: String,
    },
}

impl Config {
    /// Loads the configuration: defaults, then `file` (if given; a missing explicit file is an error),
    /// then the environment `env` (pass `std::env::vars()`), then the data dir from the command line.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
        data_dir_override: Option<&Path>,
    ) -> Result<Self, ConfigError> {
        let mut table = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.to_path_buf(),
                    source,
                })?;
                text.parse::<toml::Table>()
                    .map_err(|e| ConfigError::Syntax {
                        path: path.to_path_buf(),
                        message: one_line(&e.to_string()),
                    })?
            }
            None => toml::Table::new(),
        };
        for (name, value) in env {
            let Some(path) = name.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            // Variables the binary itself reads, not configuration keys.
            if matches!(path, "CONFIG" | "DATA_DIR" | "LOG") {
                continue;
            }
            let keys: Vec<String> = path.split("__").map(str::to_ascii_lowercase).collect();
            if keys.iter().any(String::is_empty) {
                return Err(ConfigError::Key {
                    key: name,
                    message: "empty key segment".into(),
                });
            }
            set_path(&mut table, &keys, scalar(&value)).map_err(|message| ConfigError::Key {
                key: format!("{} (from {name})", keys.join(".")),
                message,
            })?;
        }
        let mut config: Config = serde_path_to_error::deserialize(toml::Value::Table(table))
            .map_err(|e| ConfigError::Key {
                key: key_path(e.path()),
                message: one_line(&e.inner().to_string()),
            })?;
        if let Some(dir) = data_dir_override {
            config.data_dir = dir.to_path_buf();
        }
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if self.data_dir.as_os_str().is_empty() {
            return Err(ConfigError::Key {
                key: "data_dir".into(),
                message: "must not be empty".into(),
            });
        }
        let url = self.store.url.trim();
        let supported = ["sqlite:", "postgres://", "postgresql://"];
        if !url.is_empty() && !supported.iter().any(|p| url.starts_with(p)) {
            return Err(ConfigError::Key {
                key: "store.url".into(),
                message: format!(
                    "unsupported store URL {url:?}: use sqlite://PATH or postgres://…"
                ),
            });
        }
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&self.log.level) {
            return Err(ConfigError::Key {
                key: "log.level".into(),
                message: one_line(&e.to_string()),
            });
        }
        Ok(())
    }

    /// The store URL in effect (the SQLite default in the data dir when none is set).
    pub fn store_url(&self) -> String {
        let url = self.store.url.trim();
        if url.is_empty() {
            format!("sqlite://{}", self.data_dir.join("rsp.sqlite").display())
        } else {
            url.to_string()
        }
    }

    /// The PKI directory in effect.
    pub fn pki_dir(&self) -> PathBuf {
        if self.pki.dir.as_os_str().is_empty() {
            self.data_dir.join("pki")
        } else {
            self.pki.dir.clone()
        }
    }
}

fn key_path(path: &serde_path_to_error::Path) -> String {
    let s = path.to_string();
    if s == "." || s.is_empty() {
        "(top level)".into()
    } else {
        s
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn scalar(raw: &str) -> toml::Value {
    // Parse as a TOML value when it is one (numbers, booleans); strings stay strings.
    match format!("v = {raw}").parse::<toml::Table>() {
        Ok(mut t) => match t.remove("v") {
            Some(
                v @ (toml::Value::Integer(_) | toml::Value::Float(_) | toml::Value::Boolean(_)),
            ) => v,
            _ => toml::Value::String(raw.to_string()),
        },
        Err(_) => toml::Value::String(raw.to_string()),
    }
}

fn set_path(table: &mut toml::Table, keys: &[String], value: toml::Value) -> Result<(), String> {
    let Some((last, parents)) = keys.split_last() else {
        return Err("empty key".into());
    };
    let mut cur = table;
    for k in parents {
        let entry = cur
            .entry(k.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        cur = entry
            .as_table_mut()
            .ok_or_else(|| format!("{k} is not a table"))?;
    }
    cur.insert(last.clone(), value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_str(text: &str, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rsp.toml");
        std::fs::write(&path, text).unwrap();
        Config::load(
            Some(&path),
            env.iter().map(|(k, v)| (k.to_string(), v.to_string())),
            None,
        )
    }

    #[test]
    fn defaults_need_no_file() {
        let c = Config::load(None, Vec::new(), None).unwrap();
        assert_eq!(c, Config::default());
        assert!(c.store_url().starts_with("sqlite://"));
        assert!(c.store_url().ends_with("rsp.sqlite"));
        assert_eq!(c.pki_dir(), PathBuf::from("data/pki"));
    }

    #[test]
    fn file_then_env_then_cli() {
        let c = load_str(
            "data_dir = \"/var/lib/rsp\"\n[admin]\nlisten = \"127.0.0.1:1\"\n[log]\nformat = \"json\"\n",
            &[("RSP_ADMIN__LISTEN", "127.0.0.1:2"), ("RSP_PKI__GENERATE_IF_MISSING", "false"), ("OTHER", "x")],
        )
        .unwrap();
        assert_eq!(c.admin.listen.port(), 2);
        assert_eq!(c.log.format, LogFormat::Json);
        assert!(!c.pki.generate_if_missing);
        assert_eq!(c.data_dir, PathBuf::from("/var/lib/rsp"));
        let c2 = Config::load(None, Vec::new(), Some(Path::new("/tmp/x"))).unwrap();
        assert_eq!(c2.data_dir, PathBuf::from("/tmp/x"));
    }

    #[test]
    fn errors_name_the_key() {
        let e = load_str("[admin]\nlisten = \"not an address\"\n", &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("admin.listen"), "{e}");
        let e = load_str("[store]\nurl = \"mysql://x\"\n", &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("store.url"), "{e}");
        let e = load_str("[admin]\nlisen = \"x\"\n", &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("lisen"), "{e}");
        let e = load_str("[log]\nformat = \"xml\"\n", &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("log.format"), "{e}");
        let e = load_str("", &[("RSP_ADMIN__PORT", "1")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("port"), "{e}");
        let e = load_str("[admin\n", &[]).unwrap_err().to_string();
        assert!(e.starts_with("config error:") && !e.contains('\n'), "{e}");
        let e = load_str("[log]\nlevel = \"=\"\n", &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("log.level"), "{e}");
    }
}
