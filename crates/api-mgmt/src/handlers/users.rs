//! `/users`: accounts.

use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use berth_meta::{UserProfile, UserRecord, UserSource};
use berth_services::users::UserRequest;
use berth_services::Services;
use http::{StatusCode, Uri};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{body, time};
use crate::caller::ApiCaller;
use crate::error::ApiResult;
use crate::page::{paged_response, Pagination};
use crate::path::ApiPath;
use crate::query::{Params, Term};

pub(crate) fn user_json(u: UserRecord) -> Value {
    json!({
        "user_id": u.id,
        "username": u.username,
        "email": u.email,
        "realname": u.realname,
        "comment": u.comment,
        "sysadmin_flag": u.sysadmin,
        "admin_role_in_auth": false,
        "disabled": u.disabled,
        "source": match u.source { UserSource::Local => "local", UserSource::Ldap => "ldap" },
        "creation_time": time(u.created_at),
        "update_time": time(u.updated_at),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct UserCreationReq {
    username: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    realname: String,
    password: String,
    #[serde(default)]
    comment: String,
}

pub(crate) async fn create(
    State(s): State<Services>,
    ApiCaller(caller): ApiCaller,
    req: Result<Json<UserCreationReq>, JsonRejection>,
) -> ApiResult<Response> {
    let r = body(req)?;
    let request = UserRequest {
        username: r.username,
        email: r.email,
        realname: r.realname,
        comment: r.comment,
        password: r.password,
        sysadmin: false,
    };
    let user = s.users.create(&caller, request).await?;
    let location = format!("/api/v2.0/users/{}", user.id);
    Ok((StatusCode::CREATED, [(http::header::LOCATION, location)]).into_response())
}

pub(crate) async fn list(State(s): State<Services>, ApiCaller(caller): ApiCaller, uri: Uri) -> ApiResult<Response> {
    let params = Params::from_uri(&uri);
    let page = Pagination::from_query(&params)?;
    let mut name = params.get("username").map(str::to_owned);
    for term in params.search()? {
        match term {
            Term::Exact(k, v) | Term::Fuzzy(k, v) if k == "username" => name = Some(v),
            t => return Err(crate::error::bad_request(format!("cannot search users by '{}'", t.key()))),
        }
    }
    let users = s.users.list(&caller, name.as_deref(), page.request()).await?;
    Ok(paged_response(&uri, page, users, user_json))
}

pub(crate) async fn current(State(s): State<Services>, ApiCaller(caller): ApiCaller) -> ApiResult<Json<Value>> {
    Ok(Json(user_json(s.users.current(&caller).await?)))
}

pub(crate) async fn get(
    State(s): State<Services>,
    ApiCaller(caller): ApiCaller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Value>> {
    Ok(Json(user_json(s.users.get(&caller, id).await?)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct UserProfileReq {
    email: Option<String>,
    realname: Option<String>,
    comment: Option<String>,
}

pub(crate) async fn update(
    State(s): State<Services>,
    ApiCaller(caller): ApiCaller,
    ApiPath(id): ApiPath<i64>,
    req: Result<Json<UserProfileReq>, JsonRejection>,
) -> ApiResult<StatusCode> {
    let r = body(req)?;
    let profile = UserProfile { email: r.email, realname: r.realname, comment: r.comment };
    s.users.update_profile(&caller, id, profile).await?;
    Ok(StatusCode::OK)
}

pub(crate) async fn delete(
    State(s): State<Services>,
    ApiCaller(caller): ApiCaller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    s.users.delete(&caller, id).await?;
    Ok(StatusCode::OK)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PasswordReq {
    old_password: Option<String>,
    new_password: String,
}

pub(crate) async fn password(
    State(s): State<Services>,
    ApiCaller(caller): ApiCaller,
    ApiPath(id): ApiPath<i64>,
    req: Result<Json<PasswordReq>, JsonRejection>,
) -> ApiResult<StatusCode> {
    let r = body(req)?;
    s.users.change_password(&caller, id, r.old_password.as_deref(), &r.new_password).await?;
    Ok(StatusCode::OK)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SysadminReq {
    sysadmin_flag: bool,
}

pub(crate) async fn sysadmin(
    State(s): State<Services>,
    ApiCaller(caller): ApiCaller,
    ApiPath(id): ApiPath<i64>,
    req: Result<Json<SysadminReq>, JsonRejection>,
) -> ApiResult<StatusCode> {
    s.users.set_sysadmin(&caller, id, body(req)?.sysadmin_flag).await?;
    Ok(StatusCode::OK)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DisabledReq {
    disabled: bool,
}

/// Berth's addition to Harbor's API: disabling an account without
/// deleting it.
pub(crate) async fn disabled(
    State(s): State<Services>,
    ApiCaller(caller): ApiCaller,
    ApiPath(id): ApiPath<i64>,
    req: Result<Json<DisabledReq>, JsonRejection>,
) -> ApiResult<StatusCode> {
    s.users.set_disabled(&caller, id, body(req)?.disabled).await?;
    Ok(StatusCode::OK)
}
