//! `/projects/{project}/members`.

use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use berth_auth::Role;
use berth_meta::MemberRecord;
use berth_services::projects::UserRef;
use berth_services::Services;
use http::{StatusCode, Uri};
use serde::Deserialize;
use serde_json::{json, Value};

use super::body;
use crate::caller::ApiCaller;
use crate::error::{bad_request, ApiResult};
use crate::page::{paged_response, Pagination};
use crate::path::ApiPath;
use crate::query::Params;

fn member_json(m: MemberRecord) -> Value {
    json!({
        "id": m.id,
        "project_id": m.project_id,
        "entity_name": m.username,
        "entity_id": m.user_id,
        "entity_type": "u",
        "role_id": m.role,
        "role_name": Role::from_harbor_id(m.role).map(Role::name),
    })
}

fn role(id: i64) -> ApiResult<Role> {
    Role::from_harbor_id(id).ok_or_else(|| {
        bad_request("role_id must be 1 (project admin), 2 (developer), 3 (guest), 4 (maintainer) or 5 (limited guest)")
    })
}

pub(crate) async fn list(
    State(s): State<Services>,
    ApiCaller(caller): ApiCaller,
    ApiPath(project): ApiPath<String>,
    uri: Uri,
) -> ApiResult<Response> {
    let params = Params::from_uri(&uri);
    let page = Pagination::from_query(&params)?;
    let members = s.projects.members(&caller, &project, params.get("entityname"), page.request()).await?;
    Ok(paged_response(&uri, page, members, member_json))
}

pub(crate) async fn get(
    State(s): State<Services>,
    ApiCaller(caller): ApiCaller,
    ApiPath((project, id)): ApiPath<(String, i64)>,
) -> ApiResult<Json<Value>> {
    Ok(Json(member_json(s.projects.member(&caller, &project, id).await?)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MemberUser {
    username: Option<String>,
    user_id: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MemberReq {
    role_id: i64,
    member_user: Option<MemberUser>,
    /// LDAP group members are not supported yet; refused below when set.
    member_group: Option<Value>,
}

pub(crate) async fn create(
    State(s): State<Services>,
    ApiCaller(caller): ApiCaller,
    ApiPath(project): ApiPath<String>,
    req: Result<Json<MemberReq>, JsonRejection>,
) -> ApiResult<Response> {
    let r = body(req)?;
    let role = role(r.role_id)?;
    if r.member_group.is_some() {
        return Err(bad_request("group members are not supported yet; add users with member_user"));
    }
    let user = r.member_user.ok_or_else(|| bad_request("member_user is required"))?;
    let user = match (user.username, user.user_id) {
        (Some(name), _) => UserRef::Name(name),
        (None, Some(id)) => UserRef::Id(id),
        (None, None) => return Err(bad_request("member_user needs username or user_id")),
    };
    let id = s.projects.add_member(&caller, &project, user, role).await?;
    let location = format!("/api/v2.0/projects/{project}/members/{id}");
    Ok((StatusCode::CREATED, [(http::header::LOCATION, location)]).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RoleReq {
    role_id: i64,
}

pub(crate) async fn update(
    State(s): State<Services>,
    ApiCaller(caller): ApiCaller,
    ApiPath((project, id)): ApiPath<(String, i64)>,
    req: Result<Json<RoleReq>, JsonRejection>,
) -> ApiResult<StatusCode> {
    let role = role(body(req)?.role_id)?;
    s.projects.update_member(&caller, &project, id, role).await?;
    Ok(StatusCode::OK)
}

pub(crate) async fn delete(
    State(s): State<Services>,
    ApiCaller(caller): ApiCaller,
    ApiPath((project, id)): ApiPath<(String, i64)>,
) -> ApiResult<StatusCode> {
    s.projects.remove_member(&caller, &project, id).await?;
    Ok(StatusCode::OK)
}
