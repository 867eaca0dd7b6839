//! Periodic maintenance run inside the server process.

use std::time::Duration;

use berth_services::Services;

use crate::config::UploadsConfig;

/// Every `purge_interval_minutes`, forever: discards abandoned uploads,
/// expired refresh tokens and audit entries past their retention.
pub async fn run(services: Services, config: UploadsConfig) {
    let max_idle = Duration::from_secs(config.purge_after_hours.saturating_mul(3600));
    let mut every = tokio::time::interval(Duration::from_secs(config.purge_interval_minutes.max(1) * 60));
    loop {
        every.tick().await;
        match services.registry.purge_abandoned_uploads(max_idle).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(purged = n, "discarded abandoned uploads"),
            Err(e) => tracing::warn!(error = %e, "purging abandoned uploads failed"),
        }
        match services.access.purge_refresh_tokens().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(purged = n, "deleted expired refresh tokens"),
            Err(e) => tracing::warn!(error = %e, "purging refresh tokens failed"),
        }
        let retention = match services.settings.current().await {
            Ok(s) => s.audit_retention_hour,
            Err(e) => {
                tracing::warn!(error = %e, "reading settings failed");
                continue;
            }
        };
        match services.audit.purge(retention).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(purged = n, "deleted audit entries past retention"),
            Err(e) => tracing::warn!(error = %e, "purging the audit log failed"),
        }
    }
}
