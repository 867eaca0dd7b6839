//! The `berth` binary.

mod cli;
mod config;
mod connection_cap;
mod connection_idle;
mod housekeeping;
mod listener;
mod nofile;
mod secret_key;
mod serve;
mod telemetry;

use clap::Parser;

fn main() -> anyhow::Result<()> {
    let cli = cli::Cli::parse();
    match cli.command {
        cli::Command::Serve(args) => {
            let config = config::load(&args)?;
            telemetry::init();
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .max_blocking_threads(config.max_blocking_threads)
                .build()?;
            runtime.block_on(serve::run(config))
        }
        cli::Command::Config(args) => {
            let config = config::load(&args)?;
            print!("{}", config::render(&config)?);
            Ok(())
        }
    }
}
