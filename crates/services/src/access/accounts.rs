//! Accounts as they are now: the user or robot behind a credential, read by
//! id and checked against the credential stamp the credential carries, so
//! that a changed password, a disabled, deleted or re-created account ends
//! what was issued before.

use std::sync::Arc;

use berth_core::Result;
use berth_meta::{AccountKind, UserSource};

use super::{Access, Account, Holder, Principal};
use crate::names::is_robot_name;
use crate::robots::{robot_account, robot_is_active};
use crate::{errors, unix_now};

impl Access {
    /// The account `holder` names, if it still exists, may sign in, and
    /// still has the credential stamp `holder` carries.
    pub(crate) async fn live(&self, holder: Holder) -> Result<Option<Principal>> {
        let current = self.current_principal(holder.kind, holder.id).await?;
        Ok(current.filter(|p| p.holder() == Some(holder)))
    }

    /// The enabled user or unexpired robot with this id. Cached for a few
    /// seconds: that is how long a change made on another node takes to
    /// end what was issued to the account here.
    async fn current_principal(&self, kind: AccountKind, id: i64) -> Result<Option<Principal>> {
        if let Some(hit) = self.accounts.get(&(kind, id)) {
            return Ok(hit);
        }
        let principal = match kind {
            AccountKind::User => {
                let user = self.meta.user_by_id(id).await.map_err(errors::meta)?;
                user.filter(|u| !u.disabled).map(|u| Principal::User(Arc::new(Account::from(u))))
            }
            AccountKind::Robot => {
                let robot = self.meta.robot_by_id(id).await.map_err(errors::meta)?;
                match robot.filter(|r| robot_is_active(r, unix_now())) {
                    Some(r) => Some(Principal::Robot(Arc::new(robot_account(&r)?))),
                    None => None,
                }
            }
        };
        self.accounts.insert((kind, id), principal.clone());
        Ok(principal)
    }

    /// The password hash that `username`'s password must match, and who
    /// that is, if the account may sign in with a password at all.
    pub(super) async fn stored_secret(&self, username: &str) -> Result<Option<(String, Principal)>> {
        if is_robot_name(username) {
            let robot = self.meta.robot_by_name(&username.to_lowercase()).await.map_err(errors::meta)?;
            return match robot.filter(|r| robot_is_active(r, unix_now())) {
                Some(r) => Ok(Some((r.secret_hash.clone(), Principal::Robot(Arc::new(robot_account(&r)?))))),
                None => Ok(None),
            };
        }
        let user = self.meta.user_by_name(username).await.map_err(errors::meta)?;
        Ok(user.filter(|u| u.source == UserSource::Local && !u.disabled).and_then(|mut u| {
            let hash = u.password_hash.take()?;
            Some((hash, Principal::User(Arc::new(Account::from(u)))))
        }))
    }
}
