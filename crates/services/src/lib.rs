//! Use cases. Every decision about what a request may do and what it means
//! is made here; transports only translate.

pub mod access;
pub mod audit;
pub mod bootstrap;
mod errors;
pub mod health;
pub mod names;
pub mod projects;
pub mod pulls;
pub mod registry;
pub mod repositories;
pub mod robots;
pub mod settings;
mod single_flight;
mod ttl;
pub mod users;

use std::sync::Arc;

use berth_auth::SealingKey;
use berth_meta::Meta;
use berth_storage::BlobStore;

pub use access::Access;
pub use audit::Audit;
pub use projects::Projects;
pub use registry::Registry;
pub use repositories::Repositories;
pub use robots::Robots;
pub use settings::Settings;
pub use users::Users;

/// Every service, wired to one metadata backend and one blob store.
#[derive(Clone)]
pub struct Services {
    pub registry: Registry,
    pub access: Access,
    pub settings: Settings,
    pub audit: Audit,
    pub users: Users,
    pub projects: Projects,
    pub robots: Robots,
    pub repositories: Repositories,
    meta: Arc<dyn Meta>,
}

impl Services {
    /// Builds the services; starts the audit writer, so call inside a runtime.
    /// `sealing` seals secrets at rest (signing keys, the LDAP password).
    pub fn new(meta: Arc<dyn Meta>, blobs: Arc<dyn BlobStore>, sealing: SealingKey) -> Services {
        let sealing = Arc::new(sealing);
        let audit = Audit::start(meta.clone());
        let settings = Settings::new(meta.clone(), audit.clone(), sealing.clone());
        let access = Access::new(meta.clone(), settings.clone(), audit.clone(), sealing);
        let registry = Registry::new(meta.clone(), blobs);
        let pulls = pulls::PullCounter::start(meta.clone());
        Services {
            repositories: Repositories::new(meta.clone(), access.clone(), registry.clone(), audit.clone(), pulls),
            registry,
            users: Users::new(meta.clone(), access.clone(), audit.clone()),
            robots: Robots::new(meta.clone(), access.clone(), audit.clone()),
            projects: Projects::new(meta.clone(), access.clone(), settings.clone(), audit.clone()),
            meta,
            access,
            settings,
            audit,
        }
    }
}

impl Services {
    /// Readies stored state when the server starts: seals secrets an older
    /// version stored as plaintext (then rewrites storage so the plaintext
    /// does not linger in free space) and creates the first token signing key.
    pub async fn prepare(&self) -> berth_core::Result<()> {
        let sealed = self.settings.seal_stored_secrets().await?;
        let dropped = self.access.prepare_signing_keys().await?;
        if sealed || dropped {
            self.meta.reclaim_free_space().await.map_err(errors::meta)?;
        }
        Ok(())
    }
}

/// Seconds since the Unix epoch.
pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}
