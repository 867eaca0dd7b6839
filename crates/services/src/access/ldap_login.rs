//! Signing in through LDAP: the directory checks the password; the first
//! successful sign-in creates the local account, and membership of the
//! admin group decides system-admin rights on every sign-in.

use std::sync::Arc;

use berth_core::{Error, Result};
use berth_meta::{NewUser, UserConflict, UserSource};

use super::{ldap, Access, Account, Principal};
use crate::settings::SystemSettings;
use crate::{errors, names};

impl Access {
    /// The principal `username` signs in as, or `None` if the directory
    /// refuses the password.
    pub(super) async fn check_ldap(
        &self,
        settings: &SystemSettings,
        username: &str,
        password: &str,
    ) -> Result<Option<Principal>> {
        let found = match ldap::authenticate(settings, username, password).await {
            Ok(found) => found,
            Err(Error::Invalid(why)) => {
                tracing::warn!(%why, "LDAP sign-in failed: the LDAP settings need fixing");
                return Err(Error::Unauthorized("LDAP sign-in is misconfigured; ask an administrator".into()));
            }
            Err(e) => return Err(e),
        };
        let Some(person) = found else { return Ok(None) };
        // The directory's uid value names the account, so it must meet the
        // same rules as a local username (which also keep `robot$` names
        // for robots).
        if let Err(why) = names::check_username(&person.username) {
            tracing::warn!(dn = %person.dn, uid = ?person.username, %why, "LDAP sign-in refused: the uid is no valid username");
            return Ok(None);
        }
        let manage_admins = !settings.ldap_group_admin_dn.is_empty();
        let user = match self.meta.user_by_name(&person.username).await.map_err(errors::meta)? {
            Some(u) if u.source != UserSource::Ldap => {
                tracing::warn!(dn = %person.dn, uid = ?person.username, "LDAP sign-in refused: a local account has this name");
                return Ok(None);
            }
            Some(u) if u.disabled => return Ok(None),
            Some(u) => {
                if manage_admins && u.sysadmin != person.is_admin {
                    self.meta.set_sysadmin(u.id, person.is_admin).await.map_err(errors::meta)?;
                }
                let sysadmin = if manage_admins { person.is_admin } else { u.sysadmin };
                Account { sysadmin, ..Account::from(u) }
            }
            None => match self.create_ldap_user(&person).await? {
                Some(account) => account,
                None => return Ok(None),
            },
        };
        Ok(Some(Principal::User(Arc::new(user))))
    }

    /// Creates the account for a first sign-in; `None` when an account of
    /// that name appeared meanwhile.
    async fn create_ldap_user(&self, person: &ldap::LdapUser) -> Result<Option<Account>> {
        // A directory address that breaks the e-mail rule is left out
        // rather than failing the sign-in over a profile field.
        let email = match names::check_email(&person.email) {
            Ok(()) => person.email.clone(),
            Err(_) => {
                tracing::warn!(dn = %person.dn, mail = ?person.email, "ignoring an LDAP mail value that is no valid e-mail");
                String::new()
            }
        };
        let mut new = NewUser {
            username: person.username.clone(),
            email,
            realname: person.realname.clone(),
            comment: format!("from LDAP: {}", person.dn),
            password_hash: None,
            source: UserSource::Ldap,
            sysadmin: person.is_admin,
        };
        let mut created = self.meta.create_user(&new).await.map_err(errors::meta)?;
        if created == Err(UserConflict::Email) {
            // Another account already uses this address; sign in without it.
            new.email.clear();
            created = self.meta.create_user(&new).await.map_err(errors::meta)?;
        }
        let Ok(id) = created else {
            tracing::warn!(dn = %person.dn, uid = ?new.username, "LDAP sign-in refused: an account with this name exists");
            return Ok(None);
        };
        tracing::info!(username = %new.username, "created account on first LDAP sign-in");
        let stored = self.meta.user_by_id(id).await.map_err(errors::meta)?;
        let stored = stored.ok_or_else(|| Error::internal("an account vanished right after its creation"))?;
        Ok(Some(Account::from(stored)))
    }
}
