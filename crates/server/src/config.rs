//! Configuration: defaults < TOML file < `BERTH_*` environment < flags.

use std::path::PathBuf;

use anyhow::Context;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

use crate::cli::ServeArgs;

/// Everything `berth serve` can be told.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Socket address to listen on.
    pub listen: String,
    /// Holds `berth.db` (metadata) and `blobs/` + `uploads/` (content).
    pub data_dir: PathBuf,
    pub storage: StorageConfig,
    pub uploads: UploadsConfig,
    /// Upper bound on threads used for blocking disk work.
    pub max_blocking_threads: usize,
    /// On shutdown, how long requests in flight may take to finish.
    pub shutdown_grace_seconds: u64,
    /// Password for the `admin` account, used only when the database is
    /// created; without it one is generated and shown once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_password: Option<String>,
    /// The key that seals secrets stored in the database (token signing
    /// keys, the LDAP bind password). Created on first start, mode 0600;
    /// every node of one deployment needs the same file.
    /// Default: `<data_dir>/secret.key`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_key_file: Option<PathBuf>,
}

impl Config {
    /// Where the secret key lives.
    pub fn secret_key_path(&self) -> PathBuf {
        self.secret_key_file.clone().unwrap_or_else(|| self.data_dir.join("secret.key"))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    /// Flush blob data to disk before a blob becomes visible. Turning this
    /// off trades durability on power loss for upload speed.
    pub fsync: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UploadsConfig {
    /// Uploads nobody has written to for this many hours are discarded.
    pub purge_after_hours: u64,
    /// How often to look for such uploads, in minutes.
    pub purge_interval_minutes: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:5000".into(),
            data_dir: PathBuf::from("./data"),
            storage: StorageConfig { fsync: true },
            uploads: UploadsConfig { purge_after_hours: 168, purge_interval_minutes: 60 },
            max_blocking_threads: 64,
            shutdown_grace_seconds: 60,
            admin_password: None,
            secret_key_file: None,
        }
    }
}

/// The settings `Config` has at its top level.
const TOP_LEVEL_KEYS: &[&str] = &[
    "listen",
    "data_dir",
    "storage",
    "uploads",
    "max_blocking_threads",
    "shutdown_grace_seconds",
    "admin_password",
    "secret_key_file",
];

/// Flags that were actually given, so absent ones do not override.
#[derive(Serialize)]
struct FlagOverrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    listen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    data_dir: Option<PathBuf>,
}

/// Builds the effective configuration.
pub fn load(args: &ServeArgs) -> anyhow::Result<Config> {
    let mut figment = Figment::from(Serialized::defaults(Config::default()));
    if let Some(path) = &args.config {
        anyhow::ensure!(path.is_file(), "configuration file {} does not exist", path.display());
        figment = figment.merge(Toml::file(path));
    }
    let flags = FlagOverrides { listen: args.listen.clone(), data_dir: args.data_dir.clone() };
    // Other tools share the BERTH_ prefix (scripts, test harnesses), so only
    // variables naming a known top-level setting are read from the
    // environment; a misspelled nested key is still refused.
    let env = Env::prefixed("BERTH_").split("__").filter(|key| {
        // The key may or may not have been split into `a.b` yet.
        let top = key.as_str().split("__").next().unwrap_or_default();
        let top = top.split('.').next().unwrap_or_default();
        TOP_LEVEL_KEYS.iter().any(|k| k.eq_ignore_ascii_case(top))
    });
    figment = figment.merge(env).merge(Serialized::defaults(flags));
    figment.extract().context("invalid configuration")
}

/// The configuration as TOML.
/// The configuration as TOML, with secrets redacted.
pub fn render(config: &Config) -> anyhow::Result<String> {
    let mut shown = config.clone();
    if shown.admin_password.is_some() {
        shown.admin_password = Some("<redacted>".into());
    }
    Ok(toml::to_string_pretty(&shown)?)
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment's test jail fixes the closure's error type
mod tests {
    use super::*;

    #[test]
    fn file_then_env_then_flags() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "berth.toml",
                "listen = \"127.0.0.1:7000\"\ndata_dir = \"/from/file\"\n[storage]\nfsync = false\n",
            )?;
            jail.set_env("BERTH_DATA_DIR", "/from/env");
            jail.set_env("BERTH_BIN", "/some/other/tool's/variable");
            let args = ServeArgs { config: Some("berth.toml".into()), ..Default::default() };
            let c = load(&args).unwrap();
            assert_eq!(c.listen, "127.0.0.1:7000");
            assert_eq!(c.data_dir, PathBuf::from("/from/env"));
            assert!(!c.storage.fsync);

            let args = ServeArgs {
                config: Some("berth.toml".into()),
                data_dir: Some("/from/flag".into()),
                ..Default::default()
            };
            assert_eq!(load(&args).unwrap().data_dir, PathBuf::from("/from/flag"));
            Ok(())
        });
    }

    #[test]
    fn misspelled_nested_env_key_is_refused() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("BERTH_STORAGE__FYSNC", "false");
            assert!(load(&ServeArgs::default()).is_err());
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_are_refused() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("berth.toml", "lissten = \"x\"\n")?;
            let args = ServeArgs { config: Some("berth.toml".into()), ..Default::default() };
            assert!(load(&args).is_err());
            Ok(())
        });
    }
}
