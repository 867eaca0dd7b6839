//! Periodic maintenance run inside the server process.

use std::time::Duration;

use berth_services::Registry;

use crate::config::UploadsConfig;

/// Discards abandoned uploads every `purge_interval_minutes`, forever.
pub async fn purge_uploads(registry: Registry, config: UploadsConfig) {
    let max_idle = Duration::from_secs(config.purge_after_hours.saturating_mul(3600));
    let mut every = tokio::time::interval(Duration::from_secs(config.purge_interval_minutes.max(1) * 60));
    loop {
        every.tick().await;
        match registry.purge_abandoned_uploads(max_idle).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(purged = n, "discarded abandoned uploads"),
            Err(e) => tracing::warn!(error = %e, "purging abandoned uploads failed"),
        }
    }
}
