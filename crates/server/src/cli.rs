//! Command-line interface.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Berth: a container registry in one binary.
///
/// Settings come from, in increasing priority: built-in defaults, the TOML
/// file given with --config, environment variables (BERTH_LISTEN,
/// BERTH_DATA_DIR, and BERTH_<SECTION>__<KEY> for nested keys such as
/// BERTH_STORAGE__FSYNC), and command-line flags.
#[derive(Parser, Debug)]
#[command(name = "berth", version, about, long_about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the registry server (OCI distribution API at /v2/).
    Serve(ServeArgs),
    /// Print the effective configuration (after file, environment and flags).
    Config(ServeArgs),
}

/// Settings that may be given on the command line.
#[derive(Args, Debug, Default)]
pub struct ServeArgs {
    /// TOML configuration file.
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Address and port to listen on [default: 127.0.0.1:5000] (env BERTH_LISTEN).
    /// Port 0 picks a free port; the chosen address is logged.
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Option<String>,

    /// Directory for the database and blobs [default: ./data] (env BERTH_DATA_DIR).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}
