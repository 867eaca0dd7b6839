//! Concurrent requests that touch the same thing: each race runs many
//! rounds, and every round must end in one of the states a serial order of
//! the two requests would give.

use std::time::Duration;

use berth_testkit::oci_http::*;
use reqwest::Method;
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_berth");
const ROUNDS: usize = 50;

/// How long the `second` (or else the first) request of a race waits in
/// `round`: up to 1.75 ms, for one side in one run of eight rounds and for
/// the other in the next, so the two arrive close together in both orders.
fn delay(round: usize, second: bool) -> Duration {
    let delayed_side = round / 8 % 2 == 1;
    if delayed_side == second {
        Duration::from_micros((round % 8) as u64 * 250)
    } else {
        Duration::ZERO
    }
}

async fn catalog(admin: &OciClient) -> Vec<String> {
    let resp = expect_status(admin.request(Method::GET, "/v2/_catalog?n=1000").send().await.unwrap(), 200).await;
    let body: Value = resp.json().await.unwrap();
    body["repositories"].as_array().unwrap().iter().map(|r| r.as_str().unwrap().to_owned()).collect()
}

/// An index listing nothing: a manifest that needs no blob, so pushing it
/// is what creates its repository.
fn empty_index() -> Manifest {
    Manifest::json(OCI_INDEX, &index_manifest(OCI_INDEX, &[]))
}

#[tokio::test]
async fn deleting_a_project_while_a_push_lands_leaves_both_or_neither() {
    let (_berth, admin) = start_registry(BIN);
    let index = empty_index();
    let (mut deleted_first, mut pushed_first) = (0, 0);
    for round in 0..ROUNDS {
        let project = format!("race-{round}");
        let repo = format!("{project}/app");
        admin.create_project(&project, false).await;
        let (deleted, pushed) = tokio::join!(
            async {
                tokio::time::sleep(delay(round, false)).await;
                admin.api(Method::DELETE, &format!("projects/{project}"), None).await
            },
            async {
                tokio::time::sleep(delay(round, true)).await;
                admin.push_manifest(&repo, "v1", &index).await
            },
        );
        let statuses = (status(&deleted), status(&pushed));
        let project_status = status(&admin.api(Method::GET, &format!("projects/{project}"), None).await);
        let listed = catalog(&admin).await.contains(&repo);
        match statuses {
            (200, 404) => {
                deleted_first += 1;
                assert_eq!(project_status, 404, "round {round}: the project was deleted");
                assert!(!listed, "round {round}: the push left {repo} behind in a deleted project");
            }
            (412, 201) => {
                pushed_first += 1;
                assert_eq!(project_status, 200, "round {round}: deletion was refused");
                assert!(listed, "round {round}: the pushed repository is missing");
                admin.assert_manifest(&repo, "v1", &index).await;
            }
            other => panic!("round {round}: delete and push answered {other:?}; {}", pushed.text().await.unwrap()),
        }
    }
    eprintln!("{ROUNDS} rounds: deletion first {deleted_first}, push first {pushed_first}");
}

async fn create_tag(admin: &OciClient, reference: &str, tag: &str) -> reqwest::Response {
    let path = format!("projects/tags/repositories/app/artifacts/{reference}/tags");
    admin.api(Method::POST, &path, Some(json!({ "name": tag }))).await
}

#[tokio::test]
async fn two_creations_of_one_tag_give_one_created_and_one_conflict() {
    let (_berth, admin) = start_registry(BIN);
    admin.create_project("tags", false).await;
    let a = admin.push_image("tags/app", "a").await;
    let b = admin.push_image("tags/app", "b").await;
    let mut won = [0, 0];
    for round in 0..ROUNDS {
        let tag = format!("t{round}");
        // Each request names another artifact: a tag that moved would
        // point at the loser's.
        let (on_a, on_b) = tokio::join!(
            async {
                tokio::time::sleep(delay(round, false)).await;
                create_tag(&admin, "a", &tag).await
            },
            async {
                tokio::time::sleep(delay(round, true)).await;
                create_tag(&admin, "b", &tag).await
            },
        );
        let (winner, reference, created) = match (status(&on_a), status(&on_b)) {
            (201, 409) => (&a, "a", on_a),
            (409, 201) => (&b, "b", on_b),
            other => panic!("round {round}: the two creations answered {other:?}"),
        };
        won[usize::from(reference == "b")] += 1;
        let location = header(&created, "Location").expect("201 with a Location");
        assert_eq!(location, format!("/api/v2.0/projects/tags/repositories/app/artifacts/{reference}/tags/{tag}"));
        let served = admin.fetch_manifest(Method::GET, "tags/app", &tag, &[OCI_MANIFEST]).await;
        let served = expect_status(served, 200).await;
        assert_eq!(digest_header(&served).as_deref(), Some(winner.manifest.digest.as_str()), "round {round}");

        // Two deletions of the tag: one finds it, the other does not.
        let path = format!("projects/tags/repositories/app/artifacts/{reference}/tags/{tag}");
        let (first, second) =
            tokio::join!(admin.api(Method::DELETE, &path, None), admin.api(Method::DELETE, &path, None));
        let mut statuses = [status(&first), status(&second)];
        statuses.sort();
        assert_eq!(statuses, [200, 404], "round {round}");
    }
    eprintln!("{ROUNDS} rounds: the creation on a won {}, on b {}", won[0], won[1]);
}

#[tokio::test]
async fn a_tag_is_deleted_only_through_the_artifact_it_points_at() {
    let (_berth, admin) = start_registry(BIN);
    admin.create_project("tags", false).await;
    let a = admin.push_image("tags/app", "a").await;
    admin.push_image("tags/app", "b").await;
    expect_status(create_tag(&admin, "a", "stable").await, 201).await;
    let through_b = "projects/tags/repositories/app/artifacts/b/tags/stable";
    expect_status(admin.api(Method::DELETE, through_b, None).await, 404).await;
    admin.assert_manifest("tags/app", "stable", &a.manifest).await;
    let through_a = "projects/tags/repositories/app/artifacts/a/tags/stable";
    expect_status(admin.api(Method::DELETE, through_a, None).await, 200).await;
    let gone = admin.fetch_manifest(Method::GET, "tags/app", "stable", &[OCI_MANIFEST]).await;
    expect_error(gone, &[404], &["MANIFEST_UNKNOWN"]).await;
}
