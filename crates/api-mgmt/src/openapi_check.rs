//! Keeps `openapi.json` honest: the document and the route table must
//! describe the same endpoints with the same permissions, and the document
//! must hang together (ids, summaries, success responses, references).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::handlers::openapi::DOCUMENT;
use crate::{endpoints, Permission, BASE};

const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// The `x-berth-permission` value for a route's permission.
fn permission_string(p: Permission) -> String {
    match p {
        Permission::Anyone => "anyone".into(),
        Permission::SignedIn => "signed-in".into(),
        Permission::SystemAdmin => "system-admin".into(),
        Permission::Project(resource, act) => format!("project:{}:{}", resource.as_str(), act.as_str()),
    }
}

fn document() -> Value {
    serde_json::from_str(DOCUMENT).unwrap_or_else(|e| panic!("openapi.json is not valid JSON: {e}"))
}

/// Every operation of the document, keyed by `(path, lowercase method)`.
fn operations(doc: &Value) -> BTreeMap<(String, String), &Value> {
    let mut ops = BTreeMap::new();
    let paths = doc["paths"].as_object().expect("openapi.json has no `paths` object");
    for (path, item) in paths {
        let item = item.as_object().unwrap_or_else(|| panic!("openapi.json: path item {path} is not an object"));
        for (method, op) in item {
            if METHODS.contains(&method.as_str()) {
                ops.insert((path.clone(), method.clone()), op);
            }
        }
    }
    ops
}

/// Follows a local `$ref` (`#/components/...`) if `v` is one.
fn resolve<'a>(doc: &'a Value, v: &'a Value) -> Option<&'a Value> {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => r.strip_prefix('#').and_then(|pointer| doc.pointer(pointer)),
        None => Some(v),
    }
}

/// The `{name}` segments of a path.
fn path_params(path: &str) -> BTreeSet<String> {
    path.split('/').filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}'))).map(str::to_owned).collect()
}

/// Every `$ref` in `v` with the JSON pointer of the object holding it.
fn collect_refs(v: &Value, at: &str, out: &mut Vec<(String, String)>) {
    let escape = |k: &str| k.replace('~', "~0").replace('/', "~1");
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                if k == "$ref" {
                    match child.as_str() {
                        Some(r) => out.push((at.to_owned(), r.to_owned())),
                        None => out.push((at.to_owned(), format!("(not a string: {child})"))),
                    }
                } else {
                    collect_refs(child, &format!("{at}/{}", escape(k)), out);
                }
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                collect_refs(child, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// Everything wrong with `doc`, one line each, naming the route concerned.
fn problems(doc: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let ops = operations(doc);

    // Route table -> document.
    let mut routes = BTreeSet::new();
    for e in endpoints() {
        let key = (e.path.to_owned(), e.method.to_lowercase());
        let route = format!("{} {}", e.method, e.path);
        let wanted = permission_string(e.permission);
        if !routes.insert(key.clone()) {
            problems.push(format!("{route}: listed twice in the route table"));
        }
        match ops.get(&key) {
            None => problems.push(format!("{route}: in the route table but missing from openapi.json")),
            Some(op) => match op.get("x-berth-permission").and_then(Value::as_str) {
                Some(p) if p == wanted => {}
                Some(p) => problems.push(format!(
                    "{route}: openapi.json says x-berth-permission \"{p}\", the route table says \"{wanted}\""
                )),
                None => problems.push(format!("{route}: no x-berth-permission in openapi.json (wanted \"{wanted}\")")),
            },
        }
    }

    // Document -> route table, and each operation's own shape.
    let tags: BTreeSet<&str> =
        doc["tags"].as_array().into_iter().flatten().filter_map(|t| t["name"].as_str()).collect();
    let mut operation_ids: BTreeMap<&str, String> = BTreeMap::new();
    for ((path, method), op) in &ops {
        let route = format!("{} {path}", method.to_uppercase());
        if !routes.contains(&(path.clone(), method.clone())) {
            problems.push(format!("{route}: documented in openapi.json but not in the route table"));
        }
        match op.get("operationId").and_then(Value::as_str) {
            Some(id) if !id.is_empty() => {
                if let Some(other) = operation_ids.insert(id, route.clone()) {
                    problems.push(format!("{route}: operationId \"{id}\" is also used by {other}"));
                }
            }
            _ => problems.push(format!("{route}: no operationId")),
        }
        if op.get("summary").and_then(Value::as_str).is_none_or(str::is_empty) {
            problems.push(format!("{route}: no summary"));
        }
        match op.get("tags").and_then(Value::as_array) {
            Some(t) if !t.is_empty() => {
                for tag in t {
                    if !tag.as_str().is_some_and(|name| tags.contains(name)) {
                        problems.push(format!("{route}: tag {tag} is not declared in the top-level tags"));
                    }
                }
            }
            _ => problems.push(format!("{route}: no tags")),
        }
        let responses = op.get("responses").and_then(Value::as_object);
        if !responses.is_some_and(|r| r.keys().any(|code| code.starts_with('2'))) {
            problems.push(format!("{route}: no 2xx response"));
        }
        // Path parameters: declared exactly for the `{name}` segments.
        let declared: BTreeSet<String> = op
            .get("parameters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|p| resolve(doc, p))
            .filter(|p| p["in"] == "path")
            .filter_map(|p| p["name"].as_str().map(str::to_owned))
            .collect();
        let in_path = path_params(path);
        for missing in in_path.difference(&declared) {
            problems.push(format!("{route}: path parameter {{{missing}}} is not declared"));
        }
        for extra in declared.difference(&in_path) {
            problems.push(format!("{route}: declares path parameter '{extra}' that is not in the path"));
        }
    }

    // References.
    let mut refs = Vec::new();
    collect_refs(doc, "", &mut refs);
    for (at, r) in refs {
        let target = r.strip_prefix("#/components/").and_then(|_| doc.pointer(&r[1..]));
        if target.is_none() {
            let route = route_of(&at);
            problems.push(format!("{route}$ref \"{r}\" (at {at}) does not resolve to a defined component"));
        }
    }
    problems
}

/// "GET /users: " when a JSON pointer lies inside an operation, else "".
fn route_of(pointer: &str) -> String {
    let mut parts = pointer.split('/').skip(1);
    if parts.next() != Some("paths") {
        return String::new();
    }
    let path = parts.next().unwrap_or_default().replace("~1", "/").replace("~0", "~");
    match parts.next() {
        Some(m) if METHODS.contains(&m) => format!("{} {path}: ", m.to_uppercase()),
        _ => format!("{path}: "),
    }
}

fn assert_no_problems(problems: Vec<String>) {
    assert!(problems.is_empty(), "openapi.json disagrees with the route table:\n  {}", problems.join("\n  "));
}

#[test]
fn document_matches_route_table() {
    assert_no_problems(problems(&document()));
}

#[test]
fn document_header() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.0.3");
    assert_eq!(doc["info"]["title"], "Berth management API");
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"), "info.version must be the crate version");
    assert_eq!(doc["servers"][0]["url"], BASE);
    for scheme in ["basic", "bearer"] {
        assert_eq!(doc["components"]["securitySchemes"][scheme]["type"], "http", "securityScheme {scheme}");
    }
    assert!(doc["components"]["schemas"]["Errors"].is_object(), "the shared Errors schema is missing");
}

#[test]
fn document_lists_itself() {
    let doc = document();
    assert!(doc["paths"]["/openapi.json"]["get"].is_object(), "GET /openapi.json is not in the document");
    assert!(endpoints().iter().any(|e| e.method == "GET" && e.path == "/openapi.json"));
}

#[test]
fn handler_serves_the_document_as_json() {
    use std::future::Future;
    use std::task::{Context, Poll, Waker};

    use axum::response::IntoResponse;

    let mut future = std::pin::pin!(crate::handlers::openapi::document());
    let Poll::Ready(response) = future.as_mut().poll(&mut Context::from_waker(Waker::noop())) else {
        panic!("the handler does not answer at once");
    };
    let response = response.into_response();
    assert_eq!(response.status(), http::StatusCode::OK);
    assert_eq!(response.headers()[http::header::CONTENT_TYPE], "application/json");
}

/// The checker itself: each kind of disagreement is reported, naming the route.
#[test]
fn checker_names_the_offending_route() {
    let check = |edit: &dyn Fn(&mut Value), expected: &str| {
        let mut doc = document();
        edit(&mut doc);
        let found = problems(&doc);
        assert!(
            found.iter().any(|p| p.contains(expected)),
            "expected a problem containing {expected:?}, got {found:#?}"
        );
    };
    let member = "/projects/{project_name_or_id}/members/{mid}";
    check(
        &|d| {
            d["paths"][member].as_object_mut().unwrap().remove("put");
        },
        &format!("PUT {member}: in the route table but missing from openapi.json"),
    );
    check(
        &|d| d["paths"]["/users"]["get"]["x-berth-permission"] = "anyone".into(),
        "GET /users: openapi.json says x-berth-permission \"anyone\", the route table says \"system-admin\"",
    );
    check(
        &|d| d["paths"]["/users"]["patch"] = d["paths"]["/users"]["get"].clone(),
        "PATCH /users: documented in openapi.json but not in the route table",
    );
    check(
        &|d| d["paths"]["/ping"]["get"]["operationId"] = "getHealth".into(),
        "operationId \"getHealth\" is also used by",
    );
    check(
        &|d| {
            d["paths"]["/health"]["get"].as_object_mut().unwrap().remove("summary");
        },
        "GET /health: no summary",
    );
    check(
        &|d| {
            let responses = d["paths"]["/users"]["post"]["responses"].as_object_mut().unwrap();
            responses.remove("201");
        },
        "POST /users: no 2xx response",
    );
    check(
        &|d| {
            d["paths"]["/users/current"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"] =
                "#/components/schemas/Nobody".into()
        },
        "GET /users/current: $ref \"#/components/schemas/Nobody\"",
    );
    check(
        &|d| {
            d["paths"]["/users/{user_id}"]["get"].as_object_mut().unwrap().remove("parameters");
        },
        "GET /users/{user_id}: path parameter {user_id} is not declared",
    );
}
