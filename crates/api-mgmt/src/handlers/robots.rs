//! `/robots`: robot accounts.

use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use berth_services::robots::{PermissionSpec, RobotRequest, RobotView};
use berth_services::Services;
use http::{StatusCode, Uri};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{body, time};
use crate::caller::ApiCaller;
use crate::error::{bad_request, ApiResult};
use crate::page::{paged_response, Pagination};
use crate::path::ApiPath;
use crate::query::{Params, Term};

fn robot_json(v: RobotView) -> Value {
    let r = v.record;
    let level = if r.project_id.is_some() { "project" } else { "system" };
    let duration = if r.expires_at < 0 { -1 } else { ((r.expires_at - r.created_at) / 86_400).max(1) };
    json!({
        "id": r.id,
        "name": r.name,
        "description": r.description,
        "level": level,
        "disable": r.disabled,
        "editable": true,
        "expires_at": r.expires_at,
        "duration": duration,
        "permissions": v.permissions,
        "creation_time": time(r.created_at),
        "update_time": time(r.updated_at),
    })
}

#[derive(Deserialize)]
pub(crate) struct RobotReq {
    name: Option<String>,
    #[serde(default)]
    description: String,
    level: String,
    #[serde(default)]
    disable: bool,
    /// Days; -1 never expires.
    duration: i64,
    #[serde(default)]
    permissions: Vec<PermissionSpec>,
}

fn request(r: RobotReq) -> ApiResult<RobotRequest> {
    let project = match r.level.as_str() {
        "system" => None,
        "project" => {
            let first = r.permissions.first().ok_or_else(|| bad_request("a project robot needs permissions"))?;
            Some(first.namespace.clone())
        }
        _ => return Err(bad_request("level must be \"system\" or \"project\"")),
    };
    Ok(RobotRequest {
        name: r.name.unwrap_or_default(),
        description: r.description,
        duration_days: r.duration,
        project,
        disabled: r.disable,
        permissions: r.permissions,
    })
}

pub(crate) async fn create(
    State(s): State<Services>,
    ApiCaller(caller): ApiCaller,
    req: Result<Json<RobotReq>, JsonRejection>,
) -> ApiResult<Response> {
    let (robot, secret) = s.robots.create(&caller, request(body(req)?)?).await?;
    let r = robot.record;
    let location = format!("/api/v2.0/robots/{}", r.id);
    let created = json!({
        "id": r.id,
        "name": r.name,
        "secret": secret,
        "expires_at": r.expires_at,
        "creation_time": time(r.created_at),
    });
    Ok((StatusCode::CREATED, [(http::header::LOCATION, location)], Json(created)).into_response())
}

pub(crate) async fn list(State(s): State<Services>, ApiCaller(caller): ApiCaller, uri: Uri) -> ApiResult<Response> {
    let params = Params::from_uri(&uri);
    let page = Pagination::from_query(&params)?;
    let mut project = None;
    for term in params.search()? {
        match term {
            Term::Exact(k, v) if k == "ProjectID" || k == "project_id" => {
                project = Some(v);
            }
            Term::Exact(k, v) if k == "Level" && (v == "system" || v == "project") => {}
            t => return Err(bad_request(format!("cannot search robots by '{}'", t.key()))),
        }
    }
    let robots = s.robots.list(&caller, project.as_deref(), page.request()).await?;
    Ok(paged_response(&uri, page, robots, robot_json))
}

pub(crate) async fn get(
    State(s): State<Services>,
    ApiCaller(caller): ApiCaller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Value>> {
    Ok(Json(robot_json(s.robots.get(&caller, id).await?)))
}

pub(crate) async fn update(
    State(s): State<Services>,
    ApiCaller(caller): ApiCaller,
    ApiPath(id): ApiPath<i64>,
    req: Result<Json<RobotReq>, JsonRejection>,
) -> ApiResult<StatusCode> {
    s.robots.update(&caller, id, request(body(req)?)?).await?;
    Ok(StatusCode::OK)
}

#[derive(Deserialize, Default)]
pub(crate) struct SecretReq {
    secret: Option<String>,
}

/// Harbor's `PATCH /robots/{id}`: a new secret, given or generated.
pub(crate) async fn refresh(
    State(s): State<Services>,
    ApiCaller(caller): ApiCaller,
    ApiPath(id): ApiPath<i64>,
    req: Result<Json<SecretReq>, JsonRejection>,
) -> ApiResult<Json<Value>> {
    let secret = s.robots.refresh_secret(&caller, id, body(req)?.secret).await?;
    Ok(Json(json!({ "secret": secret })))
}

pub(crate) async fn delete(
    State(s): State<Services>,
    ApiCaller(caller): ApiCaller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    s.robots.delete(&caller, id).await?;
    Ok(StatusCode::OK)
}
