//! Account management: what admins and users may do to accounts.

use std::sync::Arc;

use berth_core::{Error, Result};
use berth_meta::{Meta, NewUser, PageRequest, Paged, UserConflict, UserProfile, UserRecord, UserSource};

use crate::access::{Access, Caller};
use crate::audit::{Audit, AuditEvent};
use crate::{errors, names};

/// A new local account as an admin asks for it.
#[derive(Debug, Clone, Default)]
pub struct UserRequest {
    pub username: String,
    pub email: String,
    pub realname: String,
    pub comment: String,
    pub password: String,
    pub sysadmin: bool,
}

/// Account use cases.
#[derive(Clone)]
pub struct Users {
    meta: Arc<dyn Meta>,
    access: Access,
    audit: Audit,
}

fn require_admin(caller: &Caller) -> Result<()> {
    caller.require_sysadmin("do this")
}

fn conflict(c: UserConflict) -> Error {
    match c {
        UserConflict::Username => Error::Conflict("username is already taken".into()),
        UserConflict::Email => Error::Conflict("email is already used by another account".into()),
    }
}

impl Users {
    pub fn new(meta: Arc<dyn Meta>, access: Access, audit: Audit) -> Users {
        Users { meta, access, audit }
    }

    async fn record(&self, caller: &Caller, user: &str, operation: &'static str) {
        self.audit.record(AuditEvent::by(caller, None, user.to_owned(), "user", operation)).await;
    }

    /// Creates a local account; system admins only.
    pub async fn create(&self, caller: &Caller, req: UserRequest) -> Result<UserRecord> {
        require_admin(caller)?;
        names::check_username(&req.username)?;
        names::check_email(&req.email)?;
        berth_auth::check_password_strength(&req.password).map_err(|e| Error::Invalid(e.to_string()))?;
        let hash = berth_auth::hash_password(&req.password).map_err(Error::internal)?;
        let new = NewUser {
            username: req.username,
            email: req.email,
            realname: req.realname,
            comment: req.comment,
            password_hash: Some(hash),
            source: UserSource::Local,
            sysadmin: req.sysadmin,
        };
        let id = self.meta.create_user(&new).await.map_err(errors::meta)?.map_err(conflict)?;
        self.record(caller, &new.username, "create").await;
        self.get(caller, id).await
    }

    /// One account; admins see anyone, users themselves.
    pub async fn get(&self, caller: &Caller, id: i64) -> Result<UserRecord> {
        let me = caller.principal.account().map(|a| a.id);
        if me != Some(id) {
            require_admin(caller)?;
        }
        self.meta.user_by_id(id).await.map_err(errors::meta)?.ok_or_else(|| Error::NotFound("user not found".into()))
    }

    /// The signed-in account.
    pub async fn current(&self, caller: &Caller) -> Result<UserRecord> {
        let me = caller.principal.account().ok_or_else(|| Error::Unauthorized("authentication required".into()))?;
        self.get(caller, me.id).await
    }

    pub async fn list(&self, caller: &Caller, name: Option<&str>, page: PageRequest) -> Result<Paged<UserRecord>> {
        require_admin(caller)?;
        self.meta.list_users(name, page).await.map_err(errors::meta)
    }

    pub async fn update_profile(&self, caller: &Caller, id: i64, profile: UserProfile) -> Result<()> {
        let user = self.get(caller, id).await?;
        if let Some(email) = &profile.email {
            names::check_email(email)?;
        }
        self.meta.update_user_profile(user.id, &profile).await.map_err(errors::meta)?.map_err(conflict)?;
        self.record(caller, &user.username, "update").await;
        Ok(())
    }

    /// Everyone changes their own password by giving the old one; admins
    /// reset other people's without it.
    pub async fn change_password(&self, caller: &Caller, id: i64, old: Option<&str>, new: &str) -> Result<()> {
        let user = self.get(caller, id).await?;
        if user.source != UserSource::Local {
            return Err(Error::Invalid("this account's password is managed by LDAP".into()));
        }
        let is_self = caller.principal.account().map(|a| a.id) == Some(id);
        if is_self {
            let old = old.ok_or_else(|| Error::Invalid("old_password is required".into()))?;
            let hash = user.password_hash.clone().unwrap_or_default();
            if !berth_auth::verify_password(old, &hash) {
                return Err(Error::Denied("the old password is wrong".into()));
            }
        }
        berth_auth::check_password_strength(new).map_err(|e| Error::Invalid(e.to_string()))?;
        let hash = berth_auth::hash_password(new).map_err(Error::internal)?;
        self.meta.set_password_hash(id, &hash).await.map_err(errors::meta)?;
        self.access.invalidate();
        self.record(caller, &user.username, "change_password").await;
        Ok(())
    }

    pub async fn set_sysadmin(&self, caller: &Caller, id: i64, sysadmin: bool) -> Result<()> {
        require_admin(caller)?;
        if caller.principal.account().map(|a| a.id) == Some(id) {
            return Err(Error::Denied("administrators cannot change their own admin status".into()));
        }
        let user = self.get(caller, id).await?;
        self.meta.set_sysadmin(id, sysadmin).await.map_err(errors::meta)?;
        self.access.invalidate();
        self.record(caller, &user.username, if sysadmin { "grant_admin" } else { "revoke_admin" }).await;
        Ok(())
    }

    pub async fn set_disabled(&self, caller: &Caller, id: i64, disabled: bool) -> Result<()> {
        require_admin(caller)?;
        if caller.principal.account().map(|a| a.id) == Some(id) {
            return Err(Error::Denied("administrators cannot disable themselves".into()));
        }
        let user = self.get(caller, id).await?;
        self.meta.set_disabled(id, disabled).await.map_err(errors::meta)?;
        self.access.invalidate();
        self.record(caller, &user.username, if disabled { "disable" } else { "enable" }).await;
        Ok(())
    }

    pub async fn delete(&self, caller: &Caller, id: i64) -> Result<()> {
        require_admin(caller)?;
        if caller.principal.account().map(|a| a.id) == Some(id) {
            return Err(Error::Denied("administrators cannot delete themselves".into()));
        }
        let user = self.get(caller, id).await?;
        self.meta.delete_user(id).await.map_err(errors::meta)?;
        self.access.invalidate();
        self.record(caller, &user.username, "delete").await;
        Ok(())
    }
}
