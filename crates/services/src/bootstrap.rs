//! First start: the system admin and the public `library` project (the
//! first token signing key is made by `Services::prepare`).

use berth_core::{name::DEFAULT_PROJECT, Error, Result};
use berth_meta::{Meta, NewUser, ProjectSettings, UserSource};

use crate::errors;

/// The system admin's username.
pub const ADMIN_USERNAME: &str = "admin";

/// Prepares an empty database. Returns the admin password if one was
/// generated, so it can be shown this once; a database that already has
/// users is left alone.
pub async fn first_start(meta: &dyn Meta, admin_password: Option<&str>) -> Result<Option<String>> {
    if meta.count_users().await.map_err(errors::meta)? > 0 {
        return Ok(None);
    }
    let (password, generated) = match admin_password {
        Some(p) => {
            berth_auth::check_password_strength(p)
                .map_err(|e| Error::Invalid(format!("the configured admin password is too weak: {e}")))?;
            (p.to_owned(), false)
        }
        None => (berth_auth::generate_password(), true),
    };
    let hash = berth_auth::hash_password(&password).map_err(Error::internal)?;
    let admin = NewUser {
        username: ADMIN_USERNAME.into(),
        email: String::new(),
        realname: "System Administrator".into(),
        comment: "created on first start".into(),
        password_hash: Some(hash),
        source: UserSource::Local,
        sysadmin: true,
    };
    let admin_id = meta
        .create_user(&admin)
        .await
        .map_err(errors::meta)?
        .map_err(|_| Error::internal("admin account appeared concurrently"))?;
    let public = ProjectSettings { public: true, ..Default::default() };
    if let Some(id) = meta.create_project(DEFAULT_PROJECT, Some(admin_id), &public).await.map_err(errors::meta)? {
        meta.add_member(id, admin_id, berth_auth::Role::ProjectAdmin.harbor_id()).await.map_err(errors::meta)?;
    }
    Ok(generated.then_some(password))
}
