//! What each management endpoint requires, enforced before its handler
//! runs. The services check again; this layer makes every route's
//! requirement explicit and testable.

use axum::extract::{FromRef, RawPathParams, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use berth_auth::{Act, Resource};
use berth_core::Error;
use berth_services::access::Principal;
use berth_services::Services;

use crate::caller::ApiCaller;
use crate::error::ApiError;

/// The permission an endpoint needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Anyone, signed in or not (ping, health, public listings).
    Anyone,
    /// Any signed-in account.
    SignedIn,
    /// System administrators.
    SystemAdmin,
    /// A role allowing this action on this resource in the project named
    /// by the `project_name_or_id` path parameter.
    Project(Resource, Act),
}

/// The state of the permission middleware of one route.
#[derive(Clone)]
pub(crate) struct Guard {
    pub(crate) services: Services,
    pub(crate) permission: Permission,
}

impl FromRef<Guard> for Services {
    fn from_ref(guard: &Guard) -> Services {
        guard.services.clone()
    }
}

/// Middleware: refuses the request unless the caller holds `permission`.
pub(crate) async fn enforce(
    State(Guard { services, permission }): State<Guard>,
    ApiCaller(caller): ApiCaller,
    params: RawPathParams,
    request: Request,
    next: Next,
) -> Response {
    let anonymous = matches!(caller.principal, Principal::Anonymous);
    let verdict = match permission {
        Permission::Anyone => Ok(()),
        // Public projects are readable without signing in: `require` decides,
        // asking anonymous callers to sign in where the project is private.
        Permission::Project(resource, act) => {
            let project = params.iter().find(|(k, _)| *k == "project_name_or_id").map(|(_, v)| v.to_owned());
            match project {
                None => Err(Error::internal("project route without a project parameter")),
                Some(p) => services.projects.authorize(&caller, &p, resource, act).await.map(|_| ()),
            }
        }
        _ if anonymous => Err(Error::Unauthorized("authentication required".into())),
        Permission::SignedIn => Ok(()),
        Permission::SystemAdmin => caller.require_sysadmin("do this"),
    };
    match verdict {
        Ok(()) => next.run(request).await,
        Err(e) => ApiError(e).into_response(),
    }
}
