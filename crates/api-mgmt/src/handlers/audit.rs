//! `/audit-logs` and `/projects/{project}/logs`.

use axum::extract::State;
use axum::response::Response;
use berth_meta::{AuditEntry, AuditQuery};
use berth_services::Services;
use http::Uri;
use serde_json::{json, Value};

use super::time;
use crate::caller::ApiCaller;
use crate::error::{bad_request, ApiResult};
use crate::page::{paged_response, Pagination};
use crate::path::ApiPath;
use crate::query::{Params, Term};

fn entry_json(e: AuditEntry) -> Value {
    json!({
        "id": e.id,
        "username": e.username,
        "resource": e.resource,
        "resource_type": e.resource_type,
        "operation": e.operation,
        "op_time": time(e.at),
        "project": e.project,
        "project_id": e.project_id,
        "operation_result": e.success,
        "client_address": e.client_address,
    })
}

/// Harbor writes `op_time` bounds as `2026-01-02 15:04:05` (UTC); RFC 3339
/// and plain Unix seconds are accepted too.
fn parse_time(s: &str) -> ApiResult<i64> {
    if let Ok(n) = s.parse::<i64>() {
        return Ok(n);
    }
    let normalized = if s.contains('T') { s.to_owned() } else { format!("{}Z", s.replacen(' ', "T", 1)) };
    berth_core::time::parse_rfc3339(&normalized)
        .ok_or_else(|| bad_request(format!("cannot read time '{s}'; use 'YYYY-MM-DD hh:mm:ss'")))
}

fn audit_query(params: &Params) -> ApiResult<AuditQuery> {
    let mut q = AuditQuery::default();
    for term in params.search()? {
        match term {
            Term::Exact(k, v) | Term::Fuzzy(k, v) if k == "username" => q.username = Some(v),
            Term::Exact(k, v) | Term::Fuzzy(k, v) if k == "resource" => q.resource = Some(v),
            Term::Exact(k, v) if k == "resource_type" => q.resource_type = Some(v),
            Term::Exact(k, v) if k == "operation" => q.operation = Some(v),
            Term::Exact(k, v) if k == "project" => q.project = Some(v),
            Term::Range(k, from, to) if k == "op_time" => {
                q.from = from.as_deref().map(parse_time).transpose()?;
                q.to = to.as_deref().map(parse_time).transpose()?;
            }
            t => return Err(bad_request(format!("cannot search audit logs by '{}' that way", t.key()))),
        }
    }
    Ok(q)
}

pub(crate) async fn list(State(s): State<Services>, ApiCaller(_): ApiCaller, uri: Uri) -> ApiResult<Response> {
    let params = Params::from_uri(&uri);
    let page = Pagination::from_query(&params)?;
    let entries = s.audit.search(&audit_query(&params)?, page.request()).await?;
    Ok(paged_response(&uri, page, entries, entry_json))
}

pub(crate) async fn project_logs(
    State(s): State<Services>,
    ApiCaller(caller): ApiCaller,
    ApiPath(project): ApiPath<String>,
    uri: Uri,
) -> ApiResult<Response> {
    let params = Params::from_uri(&uri);
    let page = Pagination::from_query(&params)?;
    let entries = s.projects.logs(&caller, &project, audit_query(&params)?, page.request()).await?;
    Ok(paged_response(&uri, page, entries, entry_json))
}
