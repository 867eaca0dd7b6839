//! A project created again under a deleted one's name starts with an empty
//! log: entries belong to projects by id, and the old project's entries
//! stay visible to system admins only, in the full audit log.

use std::time::Duration;

use berth_testkit::oci_http::*;
use reqwest::Method;
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_berth");
const PASSWORD: &str = "User-Pass-123";

/// Entries are written in batches: polls `path` until `want` holds.
async fn entries_until(c: &OciClient, path: &str, want: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let mut last = Vec::new();
    for _ in 0..50 {
        let resp = expect_status(c.api(Method::GET, path, None).await, 200).await;
        last = resp.json().await.unwrap();
        if want(&last) {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{path}: expected entries never appeared; last answer: {last:#?}")
}

fn has(entries: &[Value], user: &str, kind: &str, op: &str) -> bool {
    entries.iter().any(|e| e["username"] == user && e["resource_type"] == kind && e["operation"] == op)
}

#[tokio::test]
async fn a_recreated_project_starts_with_an_empty_log() {
    let (_berth, admin) = start_registry(BIN);
    let (bob_id, bob) = admin.add_user("bob", PASSWORD).await;

    // The first `team`: the admin's, with bob as a member for a while.
    let old_id = admin.create_project("team", false).await;
    let member = json!({ "role_id": 2, "member_user": { "user_id": bob_id } });
    expect_status(admin.api(Method::POST, "projects/team/members", Some(member)).await, 201).await;
    let public = json!({ "metadata": { "public": "true" } });
    expect_status(admin.api(Method::PUT, "projects/team", Some(public)).await, 200).await;
    let old_log = entries_until(&admin, "projects/team/logs?page_size=100", |e| e.len() >= 3).await;
    assert!(old_log.iter().all(|e| e["project_id"] == old_id), "{old_log:#?}");
    expect_status(admin.api(Method::DELETE, "projects/team", None).await, 200).await;

    // The second `team`: bob's own, with a push.
    let new_id = bob.create_project("team", false).await;
    assert_ne!(new_id, old_id, "the deleted project's id was given to the new one");
    bob.push_image("team/app", "v1").await;
    let path = "projects/team/logs?page_size=100";
    let new_log = entries_until(&bob, path, |e| has(e, "bob", "artifact", "create")).await;
    assert!(has(&new_log, "bob", "project", "create"), "{new_log:#?}");
    // Once the push is written, everything recorded before it is too.
    for e in &new_log {
        assert_eq!((&e["username"], &e["project_id"]), (&json!("bob"), &json!(new_id)), "old entry shown: {e:#}");
    }
    // Even a system admin reads only the new project's entries there.
    let admins_view = entries_until(&admin, path, |e| !e.is_empty()).await;
    assert_eq!(admins_view.len(), new_log.len(), "{admins_view:#?}");

    // The old entries stay in the full log, under the old project's id.
    let all = entries_until(&admin, "audit-logs?q=project%3Dteam&page_size=100", |e| e.len() > new_log.len()).await;
    let old: Vec<&Value> = all.iter().filter(|e| e["project_id"] == old_id).collect();
    let ops: Vec<(&str, &str)> =
        old.iter().map(|e| (e["resource_type"].as_str().unwrap(), e["operation"].as_str().unwrap())).collect();
    assert_eq!(
        ops,
        [("project", "delete"), ("project", "update"), ("member", "create"), ("project", "create")],
        "newest first"
    );
    assert!(old.iter().all(|e| e["username"] == "admin"), "{old:#?}");
    let bobs_old_view = bob.api(Method::GET, "audit-logs", None).await;
    expect_error(bobs_old_view, &[403], &["FORBIDDEN"]).await;
}
