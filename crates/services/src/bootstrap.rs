//! First start: the system admin, the public `library` project and the
//! first token signing key, made together in one transaction.

use berth_core::{name::DEFAULT_PROJECT, Error, Result};
use berth_meta::{FirstStart, Meta, NewUser, ProjectSettings, SigningKeyRecord, UserSource};

use crate::errors;

/// The system admin's username.
pub const ADMIN_USERNAME: &str = "admin";

/// Prepares an empty database. Returns the admin password if one was
/// generated, so it can be shown this once; a database that already has
/// users is left alone. Of servers starting together on one new database,
/// exactly one prepares it; one that stops half way leaves it empty for
/// the next start.
/// `signing_key` is the first token signing key, sealed
/// ([`crate::Access::new_signing_key`]).
pub async fn first_start(
    meta: &dyn Meta,
    admin_password: Option<&str>,
    signing_key: SigningKeyRecord,
) -> Result<Option<String>> {
    // Every later start ends here, without hashing a password for nothing.
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
    let plan = FirstStart {
        admin: NewUser {
            username: ADMIN_USERNAME.into(),
            email: String::new(),
            realname: "System Administrator".into(),
            comment: "created on first start".into(),
            password_hash: Some(hash),
            source: UserSource::Local,
            sysadmin: true,
        },
        project: DEFAULT_PROJECT.into(),
        settings: ProjectSettings { public: true, ..Default::default() },
        role: berth_auth::Role::ProjectAdmin.harbor_id(),
        signing_key,
    };
    let prepared = meta.first_start(&plan).await.map_err(errors::meta)?;
    // Another server that got there first showed its own password.
    Ok(prepared.and(generated.then_some(password)))
}

#[cfg(test)]
mod tests {
    use berth_meta::sqlite::SqliteMeta;
    use berth_meta::{Meta, PageRequest, ProjectFilter};

    use super::{first_start, ADMIN_USERNAME};

    fn key(kid: &str) -> berth_meta::SigningKeyRecord {
        berth_meta::SigningKeyRecord { kid: kid.into(), secret: b"sealed".to_vec(), created_at: 1 }
    }

    /// Two servers starting at the same moment on one new database file:
    /// both start, one admin and one `library` exist, and exactly one of
    /// them has a generated password to show.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_first_starts_on_one_new_database_prepare_it_once() {
        for round in 0..50 {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("berth.db");
            let (a, b) = tokio::join!(SqliteMeta::open(&path), SqliteMeta::open(&path));
            let (a, b) = (a.unwrap(), b.unwrap());
            let (x, y) = tokio::join!(first_start(&a, None, key("a")), first_start(&b, None, key("b")));
            let shown = [x.unwrap(), y.unwrap()].into_iter().flatten().count();
            assert_eq!(shown, 1, "round {round}: passwords shown");
            let meta: &dyn Meta = &a;
            assert_eq!(meta.count_users().await.unwrap(), 1, "round {round}");
            let admin = meta.user_by_name(ADMIN_USERNAME).await.unwrap().expect("the admin");
            assert!(admin.sysadmin, "round {round}");
            let projects = meta.list_projects(&ProjectFilter::default(), PageRequest::ALL).await.unwrap();
            let names: Vec<&str> = projects.items.iter().map(|p| p.name.as_str()).collect();
            assert_eq!(names, ["library"], "round {round}");
            assert_eq!(meta.signing_keys().await.unwrap().len(), 1, "round {round}: signing keys");
            let role = meta.member_role("library", admin.id).await.unwrap();
            assert_eq!(role, Some(berth_auth::Role::ProjectAdmin.harbor_id()), "round {round}");
            a.close().await;
            b.close().await;
        }
    }
}
