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
    pub connections: ConnectionsConfig,
    pub transfers: TransfersConfig,
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

/// Limits on client connections, so clients that hold connections open
/// cannot exhaust file descriptors.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionsConfig {
    /// A client must send the headers of a request within this many
    /// seconds: of connecting, for its first request, and on HTTP/1 of the
    /// previous answer, for the next one.
    pub request_header_seconds: u64,
    /// A connection with no request in progress is closed after this many
    /// seconds (HTTP/1 ones sooner if `request_header_seconds` is shorter).
    pub idle_seconds: u64,
    /// At most this many connections are open at once; more wait in the
    /// listen backlog. Default: the open-file limit less a reserve for
    /// blob files and the database.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_open: Option<usize>,
}

/// Limits on blob downloads and upload bodies in progress.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransfersConfig {
    /// At most this many from one client address.
    pub per_client: usize,
    /// At most this many in all.
    pub total: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:5000".into(),
            data_dir: PathBuf::from("./data"),
            storage: StorageConfig { fsync: true },
            uploads: UploadsConfig { purge_after_hours: 168, purge_interval_minutes: 60 },
            connections: ConnectionsConfig { request_header_seconds: 30, idle_seconds: 90, max_open: None },
            // Docker pulls 3 layers and pushes 5 at a time; 32 leaves room
            // for a handful of hosts behind one NAT address (a Kubernetes
            // node pool) without letting one address take every disk
            // thread. 512 in all bounds the open blob files, which the
            // default connection cap reserves descriptors for.
            transfers: TransfersConfig { per_client: 32, total: 512 },
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
    "connections",
    "transfers",
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
    let config: Config = figment.extract().context("invalid configuration")?;
    let c = &config.connections;
    anyhow::ensure!(c.request_header_seconds > 0, "connections.request_header_seconds must be at least 1");
    anyhow::ensure!(c.idle_seconds > 0, "connections.idle_seconds must be at least 1");
    anyhow::ensure!(c.max_open != Some(0), "connections.max_open must be at least 1");
    let t = &config.transfers;
    anyhow::ensure!(t.per_client > 0 && t.total > 0, "transfers.per_client and transfers.total must be at least 1");
    Ok(config)
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
    fn connection_and_transfer_limits_from_env() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("BERTH_CONNECTIONS__IDLE_SECONDS", "5");
            jail.set_env("BERTH_CONNECTIONS__MAX_OPEN", "100");
            jail.set_env("BERTH_TRANSFERS__PER_CLIENT", "3");
            let c = load(&ServeArgs::default()).unwrap();
            assert_eq!(c.connections.idle_seconds, 5);
            assert_eq!(c.connections.max_open, Some(100));
            assert_eq!(c.connections.request_header_seconds, 30);
            assert_eq!((c.transfers.per_client, c.transfers.total), (3, 512));
            Ok(())
        });
    }

    #[test]
    fn limits_of_zero_are_refused() {
        for (key, value) in [
            ("BERTH_CONNECTIONS__IDLE_SECONDS", "0"),
            ("BERTH_CONNECTIONS__REQUEST_HEADER_SECONDS", "0"),
            ("BERTH_CONNECTIONS__MAX_OPEN", "0"),
            ("BERTH_TRANSFERS__TOTAL", "0"),
        ] {
            figment::Jail::expect_with(|jail| {
                jail.set_env(key, value);
                let e = load(&ServeArgs::default()).unwrap_err();
                assert!(e.to_string().contains("at least 1"), "{key}: {e}");
                Ok(())
            });
        }
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
