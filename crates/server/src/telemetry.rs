//! Logging to stderr, filtered by `RUST_LOG` (default `info`).

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        // When the log cannot be written (its disk is full, its reader gone),
        // the line is dropped. Reporting that failure would go to the same
        // stderr through `eprintln!`, which panics when it fails: a full log
        // disk would then crash every request and the audit writer.
        .log_internal_errors(false)
        .init();
}
