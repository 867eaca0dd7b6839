//! `/projects/{p}/repositories/...`: repositories, artifacts and tags;
//! `/repositories` and `/search`.

use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use berth_auth::{Act, Resource};
use berth_core::{Reference, RepoName, Tag};
use berth_meta::{ArtifactRecord, PageRequest, ProjectFilter, RepositoryRecord};
use berth_services::access::Caller;
use berth_services::repositories::repository_name;
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

fn repository_json(r: RepositoryRecord) -> Value {
    json!({
        "id": r.id,
        "name": r.name,
        "description": "",
        "artifact_count": r.artifact_count,
        "pull_count": r.pull_count,
        "creation_time": time(r.created_at),
        "update_time": time(r.updated_at),
    })
}

fn artifact_json(a: ArtifactRecord) -> Value {
    const IMAGE_CONFIGS: [&str; 2] =
        ["application/vnd.oci.image.config.v1+json", "application/vnd.docker.container.image.v1+json"];
    let is_image = a.artifact_type.as_deref().is_none_or(|t| IMAGE_CONFIGS.contains(&t));
    let kind = if is_image { "IMAGE" } else { "UNKNOWN" };
    let tags: Vec<Value> = a
        .tags
        .iter()
        .map(|t| json!({ "name": t.name, "push_time": time(t.push_time), "immutable": false, "signed": false }))
        .collect();
    let references: Vec<Value> = a.children.iter().map(|d| json!({ "child_digest": d.to_string() })).collect();
    json!({
        "type": kind,
        "digest": a.digest.to_string(),
        "media_type": a.artifact_type.clone().unwrap_or_else(|| a.media_type.clone()),
        "manifest_media_type": a.media_type,
        "artifact_type": a.artifact_type,
        "repository_id": a.repository_id,
        "size": a.size,
        "push_time": time(a.push_time),
        "pull_time": a.pull_time.map(time),
        "tags": tags,
        "references": references,
    })
}

/// The repository a `project` + `repository_name` path names, with the
/// project given by name or id (and visible to the caller; the service
/// checks the permission each operation needs).
async fn repo(s: &Services, caller: &Caller, project: &str, relative: &str) -> ApiResult<RepoName> {
    let project = s.projects.authorize(caller, project, Resource::Project, Act::Read).await?;
    Ok(repository_name(&project, relative)?)
}

fn name_filter(params: &Params) -> ApiResult<Option<String>> {
    let mut name = None;
    for term in params.search()? {
        match term {
            Term::Exact(k, v) | Term::Fuzzy(k, v) if k == "name" => name = Some(v),
            t => return Err(bad_request(format!("cannot search repositories by '{}'", t.key()))),
        }
    }
    Ok(name)
}

pub(crate) async fn list(
    State(s): State<Services>,
    ApiCaller(caller): ApiCaller,
    ApiPath(project): ApiPath<String>,
    uri: Uri,
) -> ApiResult<Response> {
    let params = Params::from_uri(&uri);
    let page = Pagination::from_query(&params)?;
    let project = s.projects.authorize(&caller, &project, Resource::Repository, Act::List).await?;
    let found = s.repositories.list(&caller, &project, name_filter(&params)?.as_deref(), page.request()).await?;
    Ok(paged_response(&uri, page, found, repository_json))
}

pub(crate) async fn get(
    State(s): State<Services>,
    ApiCaller(caller): ApiCaller,
    ApiPath((project, name)): ApiPath<(String, String)>,
) -> ApiResult<Json<Value>> {
    let repo = repo(&s, &caller, &project, &name).await?;
    Ok(Json(repository_json(s.repositories.get(&caller, &repo).await?)))
}

pub(crate) async fn delete(
    State(s): State<Services>,
    ApiCaller(caller): ApiCaller,
    ApiPath((project, name)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    let repo = repo(&s, &caller, &project, &name).await?;
    s.repositories.delete(&caller, &repo).await?;
    Ok(StatusCode::OK)
}

pub(crate) async fn artifacts(
    State(s): State<Services>,
    ApiCaller(caller): ApiCaller,
    ApiPath((project, name)): ApiPath<(String, String)>,
    uri: Uri,
) -> ApiResult<Response> {
    let params = Params::from_uri(&uri);
    let page = Pagination::from_query(&params)?;
    let repo = repo(&s, &caller, &project, &name).await?;
    let found = s.repositories.artifacts(&caller, &repo, page.request()).await?;
    Ok(paged_response(&uri, page, found, artifact_json))
}

pub(crate) async fn artifact(
    State(s): State<Services>,
    ApiCaller(caller): ApiCaller,
    ApiPath((project, name, reference)): ApiPath<(String, String, String)>,
) -> ApiResult<Json<Value>> {
    let repo = repo(&s, &caller, &project, &name).await?;
    let reference: Reference = reference.parse()?;
    Ok(Json(artifact_json(s.repositories.artifact(&caller, &repo, &reference).await?)))
}

pub(crate) async fn delete_artifact(
    State(s): State<Services>,
    ApiCaller(caller): ApiCaller,
    ApiPath((project, name, reference)): ApiPath<(String, String, String)>,
) -> ApiResult<StatusCode> {
    let repo = repo(&s, &caller, &project, &name).await?;
    s.repositories.delete_artifact(&caller, &repo, &reference.parse()?).await?;
    Ok(StatusCode::OK)
}

pub(crate) async fn tags(
    State(s): State<Services>,
    ApiCaller(caller): ApiCaller,
    ApiPath((project, name, reference)): ApiPath<(String, String, String)>,
) -> ApiResult<Response> {
    let repo = repo(&s, &caller, &project, &name).await?;
    let a = s.repositories.artifact(&caller, &repo, &reference.parse()?).await?;
    let total = a.tags.len();
    let tags: Vec<Value> = a
        .tags
        .into_iter()
        .map(|t| json!({ "name": t.name, "push_time": time(t.push_time), "immutable": false }))
        .collect();
    let mut resp = Json(tags).into_response();
    resp.headers_mut().insert("x-total-count", http::HeaderValue::from(total));
    Ok(resp)
}

#[derive(Deserialize)]
pub(crate) struct TagReq {
    name: String,
}

pub(crate) async fn create_tag(
    State(s): State<Services>,
    ApiCaller(caller): ApiCaller,
    ApiPath((project, name, reference)): ApiPath<(String, String, String)>,
    uri: Uri,
    req: Result<Json<TagReq>, JsonRejection>,
) -> ApiResult<Response> {
    let repo = repo(&s, &caller, &project, &name).await?;
    let tag: Tag = body(req)?.name.parse()?;
    s.repositories.create_tag(&caller, &repo, &reference.parse()?, &tag).await?;
    // As Harbor does: the new tag under the path it was created at (the
    // router sees that path without the API's base).
    let location = format!("{}{}/{tag}", crate::BASE, uri.path().trim_end_matches('/'));
    Ok((StatusCode::CREATED, [(http::header::LOCATION, location)]).into_response())
}

pub(crate) async fn delete_tag(
    State(s): State<Services>,
    ApiCaller(caller): ApiCaller,
    ApiPath((project, name, reference, tag)): ApiPath<(String, String, String, String)>,
) -> ApiResult<StatusCode> {
    let repo = repo(&s, &caller, &project, &name).await?;
    s.repositories.delete_tag(&caller, &repo, &reference.parse()?, &tag.parse()?).await?;
    Ok(StatusCode::OK)
}

/// Projects and repositories whose names contain `q`, as far as the
/// caller may see them.
pub(crate) async fn search(
    State(s): State<Services>,
    ApiCaller(caller): ApiCaller,
    uri: Uri,
) -> ApiResult<Json<Value>> {
    let params = Params::from_uri(&uri);
    let q = params.get("q").unwrap_or_default().to_owned();
    let filter = ProjectFilter { name_contains: Some(q.clone()), ..Default::default() };
    let projects = s.projects.list(&caller, filter, PageRequest { offset: 0, limit: 50 }).await?;
    let projects: Vec<Value> = projects.items.into_iter().map(super::projects::project_json).collect();
    let repos = s.repositories.search(&caller, &q, 50).await?;
    let repositories: Vec<Value> = repos
        .into_iter()
        .map(|r| {
            let project = r.name.split('/').next().unwrap_or_default().to_owned();
            json!({
                "repository_name": r.name,
                "project_name": project,
                "artifact_count": r.artifact_count,
                "pull_count": r.pull_count,
            })
        })
        .collect();
    Ok(Json(json!({ "project": projects, "repository": repositories })))
}
