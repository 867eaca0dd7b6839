//! The audit log through `/api/v2.0`: management and registry events are
//! recorded and searched (by field, by time window, per project), pages
//! are counted, and search terms are data, never SQL.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use berth_testkit::oci_http::*;
use reqwest::Method;
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_berth");
const PASSWORD: &str = "User-Pass-123";

/// `GET /api/v2.0/<path>?q=<q>` (q URL-encoded), asserting 200.
async fn search(c: &OciClient, path: &str, q: &str) -> (Vec<Value>, u64) {
    let req = c.request(Method::GET, &format!("/api/v2.0/{path}")).query(&[("q", q), ("page_size", "100")]);
    let resp = expect_status(req.send().await.unwrap(), 200).await;
    let total = header(&resp, "X-Total-Count").expect("X-Total-Count").parse().unwrap();
    (resp.json().await.unwrap(), total)
}

/// Audit entries are written in batches: polls `search` until `want` holds.
async fn audit_until(c: &OciClient, path: &str, q: &str, want: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let mut last = Vec::new();
    for _ in 0..50 {
        last = search(c, path, q).await.0;
        if want(&last) {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{path}?q={q}: expected entries never appeared; last answer: {last:#?}")
}

/// Harbor's `op_time` bound format, `YYYY-MM-DD hh:mm:ss` (UTC), `offset` seconds from now.
fn harbor_time(offset: i64) -> String {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
    berth_core::time::rfc3339(now + offset).replace('T', " ").trim_end_matches('Z').to_owned()
}

#[tokio::test]
async fn audit_log_records_and_searches_management_and_registry_events() {
    let (_berth, admin) = start_registry(BIN);
    let (_, dave) = admin.add_user("dave", PASSWORD).await;
    admin.create_project("audited", false).await;
    admin.create_project("other", false).await;
    let member = json!({ "role_id": 2, "member_user": { "username": "dave" } });
    expect_status(admin.api(Method::POST, "projects/audited/members", Some(member)).await, 201).await;
    admin.push_image("audited/app", "v1").await;
    admin.push_image("other/app", "v1").await;

    let entries = audit_until(&admin, "audit-logs", "username=admin,resource_type=project", |e| e.len() >= 2).await;
    let created = entries.iter().find(|e| e["resource"] == "audited").expect("project creation logged");
    assert_eq!((created["operation"].as_str(), created["project"].as_str()), (Some("create"), Some("audited")));
    assert_eq!((created["username"].as_str(), created["operation_result"].as_bool()), (Some("admin"), Some(true)));
    assert!(berth_core::time::parse_rfc3339(created["op_time"].as_str().unwrap()).is_some(), "{created}");
    assert!(entries.iter().all(|e| e["resource_type"] == "project" && e["username"] == "admin"), "{entries:#?}");

    let members = audit_until(&admin, "audit-logs", "operation=create,resource_type=member", |e| !e.is_empty()).await;
    let added = members.iter().find(|e| e["resource"].as_str().unwrap().starts_with("dave")).expect("member logged");
    assert_eq!((added["project"].as_str(), added["username"].as_str()), (Some("audited"), Some("admin")));
    let pushes = audit_until(&admin, "audit-logs", "resource_type=artifact,operation=create", |e| e.len() >= 2).await;
    assert!(pushes.iter().any(|e| e["resource"] == "audited/app:v1"), "{pushes:#?}");

    let window = format!("resource_type=project,op_time=[{}~{}]", harbor_time(-3600), harbor_time(3600));
    let (recent, total) = search(&admin, "audit-logs", &window).await;
    assert_eq!((recent.len(), total), (2, 2), "{recent:#?}");
    let past = "op_time=[2001-01-01 00:00:00~2001-01-02 00:00:00]";
    assert_eq!(search(&admin, "audit-logs", past).await, (vec![], 0));

    let resp = expect_status(admin.api(Method::GET, "audit-logs?page=1&page_size=2", None).await, 200).await;
    let count: u64 = header(&resp, "X-Total-Count").expect("X-Total-Count").parse().unwrap();
    assert!(count >= 6, "expected every event counted, got {count}");
    assert!(header(&resp, "Link").expect("Link").contains("rel=\"next\""));
    assert_eq!(resp.json::<Vec<Value>>().await.unwrap().len(), 2);

    let (logs, _) = search(&admin, "projects/audited/logs", "").await;
    assert!(logs.iter().any(|e| e["resource"] == "audited/app:v1"), "{logs:#?}");
    assert!(logs.iter().any(|e| e["resource_type"] == "member"), "{logs:#?}");
    assert!(logs.iter().all(|e| e["project"] == "audited"), "other projects' entries leak: {logs:#?}");

    error_message(dave.api(Method::GET, "audit-logs", None).await, 403, "FORBIDDEN").await;
    for sneaky in ["username=x' OR '1'='1", "username=admin'--", "resource=\"; DROP TABLE audit_log; --"] {
        assert_eq!(search(&admin, "audit-logs", sneaky).await, (vec![], 0), "q={sneaky}");
    }
    assert!(search(&admin, "audit-logs", "username=admin").await.1 >= 2, "the audit log survived");
    for bad in ["colour=red", "op_time=[yesterday~today]", "novalue"] {
        let req = admin.request(Method::GET, "/api/v2.0/audit-logs").query(&[("q", bad)]);
        error_message(req.send().await.unwrap(), 400, "BAD_REQUEST").await;
    }
}
