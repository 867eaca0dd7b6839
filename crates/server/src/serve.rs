//! Wiring: builds the backends and services and runs the HTTP server
//! until SIGTERM or SIGINT, letting in-flight requests finish.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::response::{IntoResponse, Response};
use berth_meta::sqlite::SqliteMeta;
use berth_services::Services;
use berth_storage::fs::FsBlobStore;
use tower_http::catch_panic::CatchPanicLayer;

use crate::config::Config;
use crate::{housekeeping, listener, nofile, secret_key};

pub async fn run(config: Config) -> anyhow::Result<()> {
    let nofile = nofile::raise_to_hard_limit();
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating data directory {}", config.data_dir.display()))?;
    let meta = SqliteMeta::open(&config.data_dir.join("berth.db")).await.context("opening the database")?;
    let blobs = FsBlobStore::open(&config.data_dir, config.storage.fsync).context("opening blob storage")?;
    let sealing = secret_key::load_or_create(&config.secret_key_path())?;
    let services = Services::new(Arc::new(meta.clone()), Arc::new(blobs), sealing);
    first_start(&meta, &services, config.admin_password.as_deref()).await?;
    services.prepare().await.map_err(|e| anyhow::anyhow!("preparing stored secrets: {e}"))?;

    let housekeeping = tokio::spawn(housekeeping::run(services.clone(), config.uploads.clone()));
    let transfers = berth_api_oci::TransferLimits::new(config.transfers.per_client, config.transfers.total);
    let app = berth_api_oci::router(services.clone(), transfers)
        .merge(berth_api_mgmt::router(services.clone()))
        .fallback(no_such_endpoint)
        .layer(CatchPanicLayer::custom(panic_response));

    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("listening on {}", config.listen))?;
    let addr = listener.local_addr()?;
    tracing::info!(data_dir = %config.data_dir.display(), "listening on http://{addr}");
    let grace = Duration::from_secs(config.shutdown_grace_seconds);
    let limits = listener::Limits {
        request_header: Duration::from_secs(config.connections.request_header_seconds),
        idle: Duration::from_secs(config.connections.idle_seconds),
        max_open: config
            .connections
            .max_open
            .unwrap_or_else(|| nofile::connection_budget(nofile, config.transfers.total)),
    };
    listener::serve(listener, app, limits, shutdown_signal(), grace).await;
    housekeeping.abort();
    services.audit.flush().await;
    services.repositories.flush_pulls().await;
    meta.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Creates the admin account, `library` and the first token signing key on
/// an empty database, showing
/// a generated admin password this one time.
async fn first_start(meta: &SqliteMeta, services: &Services, admin_password: Option<&str>) -> anyhow::Result<()> {
    let signing_key = services.access.new_signing_key();
    let generated =
        berth_services::bootstrap::first_start(meta, admin_password, signing_key).await.map_err(|e| match e {
            berth_core::Error::Invalid(m) => anyhow::anyhow!(m),
            e => anyhow::anyhow!("preparing the database: {e}"),
        })?;
    if let Some(password) = generated {
        // Shown once: the database keeps only its hash. Written without
        // `eprintln!`, which would panic if stderr cannot be written.
        use std::io::Write;
        writeln!(
            std::io::stderr(),
            "\n  First start: created user 'admin' with password: {password}\n  \
             Sign in and change it; it will not be shown again.\n"
        )
        .context("showing the generated admin password")?;
    }
    Ok(())
}

const API_VERSION: http::HeaderName = http::HeaderName::from_static("docker-distribution-api-version");

/// Paths outside every API get the same JSON error shape as the APIs.
async fn no_such_endpoint() -> Response {
    let body = r#"{"errors":[{"code":"NOT_FOUND","message":"no such endpoint","detail":null}]}"#;
    (http::StatusCode::NOT_FOUND, [(http::header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// A panic in one request must not take the server down or leak details.
fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("request handler panicked");
    let body = r#"{"errors":[{"code":"UNKNOWN","message":"internal server error","detail":null}]}"#;
    let headers = [(http::header::CONTENT_TYPE, "application/json"), (API_VERSION, "registry/2.0")];
    (http::StatusCode::INTERNAL_SERVER_ERROR, headers, body).into_response()
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down: finishing in-flight requests");
}
