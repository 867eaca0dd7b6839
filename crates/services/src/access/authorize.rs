//! Authorization on `/v2/`: whether a caller, by role or by the actions a
//! token carries, may pull, push or delete in a repository.

use berth_auth::Scope;
use berth_core::{Error, RepoName, Result};

use super::{Access, Caller, Principal, RepoAction};

impl Access {
    /// Whether the caller may perform `action` on `repo` through `/v2/`.
    ///
    /// A token is judged by what it carries. When it lacks the action but
    /// the caller could get it, the answer is `Unauthorized` so the client
    /// fetches a token with a wider scope; otherwise `Denied`.
    pub async fn authorize_repository(&self, caller: &Caller, repo: &RepoName, action: RepoAction) -> Result<()> {
        if let Some(access) = &caller.token_access {
            if token_allows(access, "repository", repo.as_str(), action.as_str()) {
                return Ok(());
            }
        }
        let standing = self.project_access(&caller.principal, repo.project()).await?;
        let live = standing.as_ref().map(|s| s.repository_grant()).unwrap_or_default();
        match (live.allows(action), &caller.token_access) {
            (true, None) => Ok(()),
            (true, Some(_)) => Err(Error::Unauthorized(format!(
                "the token does not grant {} on {repo}; request one that does",
                action.as_str()
            ))),
            (false, _) if standing.is_none() && caller.principal.is_sysadmin() => {
                Err(Error::NameUnknown(format!("project '{}' does not exist; create it first", repo.project())))
            }
            (false, _) => Err(match &caller.principal {
                Principal::Anonymous => Error::Unauthorized(format!(
                    "sign in to {} {repo}: anonymous access is not allowed",
                    action.as_str()
                )),
                p => Error::Denied(format!(
                    "requested access to the resource is denied: '{}' may not {} {repo}",
                    p.name(),
                    action.as_str()
                )),
            }),
        }
    }

    /// Listing every repository is for system admins.
    pub fn authorize_catalog(&self, caller: &Caller) -> Result<()> {
        let allowed = match &caller.token_access {
            Some(access) => token_allows(access, "registry", "catalog", "*"),
            None => caller.principal.is_sysadmin(),
        };
        match (allowed, &caller.principal) {
            (true, _) => Ok(()),
            (false, Principal::Anonymous) => Err(Error::Unauthorized("sign in to list repositories".into())),
            (false, _) if caller.token_access.is_some() && caller.principal.is_sysadmin() => {
                Err(Error::Unauthorized("the token does not grant catalog access".into()))
            }
            (false, _) => Err(Error::Denied("only system administrators may list every repository".into())),
        }
    }
}

fn token_allows(access: &[Scope], kind: &str, name: &str, action: &str) -> bool {
    access.iter().any(|s| s.kind == kind && s.name == name && s.actions.iter().any(|a| a == action || a == "*"))
}
