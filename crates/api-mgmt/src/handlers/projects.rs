//! `/projects`: projects and their configuration.

use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use berth_meta::{ProjectFilter, ProjectSettings};
use berth_services::projects::ProjectView;
use berth_services::Services;
use http::{StatusCode, Uri};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{body, time};
use crate::caller::ApiCaller;
use crate::error::{bad_request, ApiResult};
use crate::page::{paged_response, Pagination};
use crate::path::ApiPath;
use crate::query::{Params, Term};

fn flag(b: bool) -> &'static str {
    if b {
        "true"
    } else {
        "false"
    }
}

pub(crate) fn project_json(v: ProjectView) -> Value {
    let p = v.project;
    let s = p.settings;
    let role_id = v.current_user_role.map(|r| r.harbor_id());
    json!({
        "project_id": p.id,
        "name": p.name,
        "owner_id": p.owner_id,
        "owner_name": p.owner_name,
        "registry_id": null,
        "deleted": false,
        "togglable": true,
        "creation_time": time(p.created_at),
        "update_time": time(p.updated_at),
        "current_user_role_id": role_id.unwrap_or(0),
        "current_user_role_ids": role_id.into_iter().collect::<Vec<_>>(),
        "repo_count": v.repo_count,
        "metadata": {
            "public": flag(s.public),
            "enable_content_trust": flag(s.content_trust),
            "prevent_vul": flag(s.prevent_vulnerable),
            "severity": s.severity,
            "auto_scan": flag(s.auto_scan),
        },
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProjectReq {
    project_name: Option<String>,
    public: Option<bool>,
    #[serde(default)]
    metadata: Map<String, Value>,
    /// Harbor clients send these; quotas, proxy caches and CVE allowlists
    /// are not configurable per project yet, so they are accepted unused.
    #[serde(default, rename = "storage_limit")]
    _storage_limit: Option<Value>,
    #[serde(default, rename = "registry_id")]
    _registry_id: Option<Value>,
    #[serde(default, rename = "cve_allowlist")]
    _cve_allowlist: Option<Value>,
}

/// Harbor sends metadata flags as strings ("true"); booleans are accepted too.
fn metadata_flag(meta: &Map<String, Value>, key: &str) -> ApiResult<Option<bool>> {
    match meta.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) if s == "true" || s == "false" => Ok(Some(s == "true")),
        Some(_) => Err(bad_request(format!("metadata.{key} must be \"true\" or \"false\""))),
    }
}

const SEVERITIES: [&str; 6] = ["none", "low", "medium", "high", "critical", "negligible"];

/// Applies a request's settings over `base`.
fn apply(req: &ProjectReq, mut base: ProjectSettings) -> ApiResult<ProjectSettings> {
    let m = &req.metadata;
    if let Some(v) = req.public.or(metadata_flag(m, "public")?) {
        base.public = v;
    }
    if let Some(v) = metadata_flag(m, "enable_content_trust")? {
        base.content_trust = v;
    }
    if let Some(v) = metadata_flag(m, "prevent_vul")? {
        base.prevent_vulnerable = v;
    }
    if let Some(v) = metadata_flag(m, "auto_scan")? {
        base.auto_scan = v;
    }
    match m.get("severity") {
        None => {}
        Some(Value::String(s)) if SEVERITIES.contains(&s.as_str()) => base.severity = s.clone(),
        Some(_) => return Err(bad_request(format!("metadata.severity must be one of {}", SEVERITIES.join(", ")))),
    }
    Ok(base)
}

pub(crate) async fn create(
    State(s): State<Services>,
    ApiCaller(caller): ApiCaller,
    req: Result<Json<ProjectReq>, JsonRejection>,
) -> ApiResult<Response> {
    let r = body(req)?;
    let name = r.project_name.clone().ok_or_else(|| bad_request("project_name is required"))?;
    let settings = apply(&r, ProjectSettings::default())?;
    let p = s.projects.create(&caller, &name, settings).await?;
    let location = format!("/api/v2.0/projects/{}", p.id);
    Ok((StatusCode::CREATED, [(http::header::LOCATION, location)]).into_response())
}

pub(crate) async fn list(State(s): State<Services>, ApiCaller(caller): ApiCaller, uri: Uri) -> ApiResult<Response> {
    let params = Params::from_uri(&uri);
    let page = Pagination::from_query(&params)?;
    let mut filter = ProjectFilter { name_contains: params.get("name").map(str::to_owned), ..Default::default() };
    if let Some(p) = params.get("public") {
        filter.public = Some(p.parse().map_err(|_| bad_request("public must be true or false"))?);
    }
    for term in params.search()? {
        match term {
            Term::Exact(k, v) | Term::Fuzzy(k, v) if k == "name" => filter.name_contains = Some(v),
            Term::Exact(k, v) if k == "public" => {
                filter.public = Some(v.parse().map_err(|_| bad_request("public must be true or false"))?)
            }
            t => return Err(bad_request(format!("cannot search projects by '{}'", t.key()))),
        }
    }
    let projects = s.projects.list(&caller, filter, page.request()).await?;
    Ok(paged_response(&uri, page, projects, project_json))
}

/// `HEAD /projects?project_name=`: whether a project of that name exists
/// among those the caller may see.
pub(crate) async fn exists(State(s): State<Services>, ApiCaller(caller): ApiCaller, uri: Uri) -> ApiResult<StatusCode> {
    let params = Params::from_uri(&uri);
    let name = params.get("project_name").ok_or_else(|| bad_request("project_name is required"))?;
    Ok(if s.projects.visible(&caller, name).await? { StatusCode::OK } else { StatusCode::NOT_FOUND })
}

pub(crate) async fn get(
    State(s): State<Services>,
    ApiCaller(caller): ApiCaller,
    ApiPath(project): ApiPath<String>,
) -> ApiResult<Json<Value>> {
    Ok(Json(project_json(s.projects.get(&caller, &project).await?)))
}

pub(crate) async fn update(
    State(s): State<Services>,
    ApiCaller(caller): ApiCaller,
    ApiPath(project): ApiPath<String>,
    req: Result<Json<ProjectReq>, JsonRejection>,
) -> ApiResult<StatusCode> {
    let r = body(req)?;
    let current = s.projects.get(&caller, &project).await?.project.settings;
    s.projects.update(&caller, &project, apply(&r, current)?).await?;
    Ok(StatusCode::OK)
}

pub(crate) async fn delete(
    State(s): State<Services>,
    ApiCaller(caller): ApiCaller,
    ApiPath(project): ApiPath<String>,
) -> ApiResult<StatusCode> {
    s.projects.delete(&caller, &project).await?;
    Ok(StatusCode::OK)
}
