//! Authorization on `/v2/`: whether a caller may pull, push or delete in a
//! repository. A request with a token needs both: the token must carry the
//! action, and the account must hold it now (a token outlives neither a
//! removed membership nor a project made private).

use berth_auth::Scope;
use berth_core::{Error, RepoName, Result};

use super::{Access, Caller, Principal, RepoAction};

impl Access {
    /// Whether the caller may perform `action` on `repo` through `/v2/`.
    ///
    /// When the account may but its token lacks the action, the answer is
    /// `Unauthorized` so the client fetches a token with a wider scope;
    /// when the account may not, `Denied` (or, for anonymous callers,
    /// `Unauthorized` worded the same whether or not the repository exists).
    pub async fn authorize_repository(&self, caller: &Caller, repo: &RepoName, action: RepoAction) -> Result<()> {
        let standing = self.project_access(&caller.principal, repo.project()).await?;
        let held = standing.as_ref().is_some_and(|s| s.repository_grant().allows(action));
        let carried =
            caller.token_access.as_ref().map(|a| token_allows(a, "repository", repo.as_str(), action.as_str()));
        match (held, carried) {
            (true, None | Some(true)) => Ok(()),
            (true, Some(false)) => Err(Error::Unauthorized(format!(
                "the token does not grant {} on {repo}; request one that does",
                action.as_str()
            ))),
            (false, _) if standing.is_none() && caller.principal.is_sysadmin() => {
                Err(Error::NameUnknown(format!("project '{}' does not exist; create it first", repo.project())))
            }
            (false, _) => Err(match &caller.principal {
                Principal::Anonymous => {
                    Error::Unauthorized(format!("authentication required to {} {repo}", action.as_str()))
                }
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
        let held = caller.principal.is_sysadmin();
        let carried = caller.token_access.as_ref().map(|a| token_allows(a, "registry", "catalog", "*"));
        match (held, carried, &caller.principal) {
            (true, None | Some(true), _) => Ok(()),
            (true, Some(false), _) => Err(Error::Unauthorized("the token does not grant catalog access".into())),
            (false, _, Principal::Anonymous) => Err(Error::Unauthorized("sign in to list repositories".into())),
            (false, _, _) => Err(Error::Denied("only system administrators may list every repository".into())),
        }
    }
}

fn token_allows(access: &[Scope], kind: &str, name: &str, action: &str) -> bool {
    access.iter().any(|s| s.kind == kind && s.name == name && s.actions.iter().any(|a| a == action || a == "*"))
}
