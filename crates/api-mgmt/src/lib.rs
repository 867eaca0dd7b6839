//! The management API under `/api/v2.0`, with Harbor's paths and JSON
//! shapes. Every route declares the permission it needs in [`routes`].

mod caller;
mod error;
mod handlers;
#[cfg(test)]
mod openapi_check;
mod page;
mod path;
mod permission;
mod query;

use axum::middleware::from_fn_with_state;
use axum::routing::{delete, get, head, patch, post, put, MethodRouter};
use axum::Router;
use berth_auth::{Act, Resource};
use berth_services::Services;

pub use permission::Permission;

use handlers::{audit, configurations, members, projects, repositories, robots, system, users};

/// The base path of the management API.
pub const BASE: &str = "/api/v2.0";

/// One endpoint: method, path (axum syntax, below [`BASE`]) and the
/// permission it needs.
#[derive(Debug, Clone, Copy)]
pub struct Endpoint {
    pub method: &'static str,
    pub path: &'static str,
    pub permission: Permission,
}

const REPO: &str = "/projects/{project_name_or_id}/repositories/{repository_name}";
const ARTIFACTS: &str = "/projects/{project_name_or_id}/repositories/{repository_name}/artifacts";
const ARTIFACT: &str = "/projects/{project_name_or_id}/repositories/{repository_name}/artifacts/{reference}";
const TAGS: &str = "/projects/{project_name_or_id}/repositories/{repository_name}/artifacts/{reference}/tags";
const TAG: &str = "/projects/{project_name_or_id}/repositories/{repository_name}/artifacts/{reference}/tags/{tag_name}";

/// Every endpoint with its handler. The permission is enforced before the
/// handler runs.
fn table() -> Vec<(Endpoint, MethodRouter<Services>)> {
    use Permission::*;
    let project = |r, a| Project(r, a);
    let e = |method, path, permission| Endpoint { method, path, permission };
    vec![
        (e("GET", "/ping", Anyone), get(system::ping)),
        (e("GET", "/health", Anyone), get(system::health)),
        (e("GET", "/systeminfo", Anyone), get(system::systeminfo)),
        (e("GET", "/openapi.json", Anyone), get(handlers::openapi::document)),
        (e("GET", "/users", SystemAdmin), get(users::list)),
        (e("POST", "/users", SystemAdmin), post(users::create)),
        (e("GET", "/users/current", SignedIn), get(users::current)),
        (e("GET", "/users/{user_id}", SignedIn), get(users::get)),
        (e("PUT", "/users/{user_id}", SignedIn), put(users::update)),
        (e("DELETE", "/users/{user_id}", SystemAdmin), delete(users::delete)),
        (e("PUT", "/users/{user_id}/password", SignedIn), put(users::password)),
        (e("PUT", "/users/{user_id}/sysadmin", SystemAdmin), put(users::sysadmin)),
        (e("PUT", "/users/{user_id}/disabled", SystemAdmin), put(users::disabled)),
        (e("GET", "/projects", Anyone), get(projects::list)),
        (e("HEAD", "/projects", SignedIn), head(projects::exists)),
        (e("POST", "/projects", SignedIn), post(projects::create)),
        (e("GET", "/projects/{project_name_or_id}", project(Resource::Project, Act::Read)), get(projects::get)),
        (e("PUT", "/projects/{project_name_or_id}", project(Resource::Project, Act::Update)), put(projects::update)),
        (
            e("DELETE", "/projects/{project_name_or_id}", project(Resource::Project, Act::Delete)),
            delete(projects::delete),
        ),
        (e("GET", "/projects/{project_name_or_id}/members", project(Resource::Member, Act::List)), get(members::list)),
        (
            e("POST", "/projects/{project_name_or_id}/members", project(Resource::Member, Act::Create)),
            post(members::create),
        ),
        (
            e("GET", "/projects/{project_name_or_id}/members/{mid}", project(Resource::Member, Act::Read)),
            get(members::get),
        ),
        (
            e("PUT", "/projects/{project_name_or_id}/members/{mid}", project(Resource::Member, Act::Update)),
            put(members::update),
        ),
        (
            e("DELETE", "/projects/{project_name_or_id}/members/{mid}", project(Resource::Member, Act::Delete)),
            delete(members::delete),
        ),
        (e("GET", "/projects/{project_name_or_id}/logs", project(Resource::Log, Act::List)), get(audit::project_logs)),
        (e("GET", "/audit-logs", SystemAdmin), get(audit::list)),
        (e("GET", "/search", Anyone), get(repositories::search)),
        (
            e("GET", "/projects/{project_name_or_id}/repositories", project(Resource::Repository, Act::List)),
            get(repositories::list),
        ),
        (e("GET", REPO, project(Resource::Repository, Act::Read)), get(repositories::get)),
        (e("DELETE", REPO, project(Resource::Repository, Act::Delete)), delete(repositories::delete)),
        (e("GET", ARTIFACTS, project(Resource::Artifact, Act::List)), get(repositories::artifacts)),
        (e("GET", ARTIFACT, project(Resource::Artifact, Act::Read)), get(repositories::artifact)),
        (e("DELETE", ARTIFACT, project(Resource::Artifact, Act::Delete)), delete(repositories::delete_artifact)),
        (e("GET", TAGS, project(Resource::Tag, Act::List)), get(repositories::tags)),
        (e("POST", TAGS, project(Resource::Tag, Act::Create)), post(repositories::create_tag)),
        (e("DELETE", TAG, project(Resource::Tag, Act::Delete)), delete(repositories::delete_tag)),
        (e("GET", "/configurations", SystemAdmin), get(configurations::get)),
        (e("PUT", "/configurations", SystemAdmin), put(configurations::update)),
        (e("POST", "/ldap/ping", SystemAdmin), post(configurations::ldap_ping)),
        (e("POST", "/system/token-keys", SystemAdmin), post(system::rotate_token_key)),
        // Robots belong to a project named in the body (or to the system):
        // the service checks the robot permission at that level.
        (e("GET", "/robots", SignedIn), get(robots::list)),
        (e("POST", "/robots", SignedIn), post(robots::create)),
        (e("GET", "/robots/{robot_id}", SignedIn), get(robots::get)),
        (e("PUT", "/robots/{robot_id}", SignedIn), put(robots::update)),
        (e("PATCH", "/robots/{robot_id}", SignedIn), patch(robots::refresh)),
        (e("DELETE", "/robots/{robot_id}", SignedIn), delete(robots::delete)),
    ]
}

/// Every endpoint of the management API.
pub fn endpoints() -> Vec<Endpoint> {
    table().into_iter().map(|(e, _)| e).collect()
}

/// The `/api/v2.0` routes.
pub fn router(services: Services) -> Router {
    let mut api = Router::new();
    for (endpoint, handler) in table() {
        let state = permission::Guard { services: services.clone(), permission: endpoint.permission };
        let guard = from_fn_with_state(state, permission::enforce);
        api = api.route(endpoint.path, handler.route_layer(guard));
    }
    Router::new().nest(BASE, api.fallback(not_found)).with_state(services)
}

async fn not_found() -> axum::response::Response {
    error::error_response(http::StatusCode::NOT_FOUND, "NOT_FOUND", "no such endpoint in the management API")
}
