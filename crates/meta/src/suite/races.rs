//! Concurrent writes that touch the same thing. Each race runs many rounds,
//! and every round must end as some serial order of the two writes would.

use berth_core::Digest;

use super::{manifest, repo, tag, user};
use crate::*;

const ROUNDS: usize = 50;

pub(super) async fn run_all(meta: &dyn Meta) {
    project_deletion_racing_its_first_repository(meta).await;
    one_tag_created_twice_at_once(meta).await;
}

/// Two first starts at once on an empty database: one prepares it, the
/// other finds it prepared. Runs first, and leaves the database empty.
pub(super) async fn first_start_happens_once(meta: &dyn Meta) {
    let mut admin = user("admin", "");
    admin.sysadmin = true;
    let settings = ProjectSettings { public: true, ..Default::default() };
    let signing_key = SigningKeyRecord { kid: "first".into(), secret: b"sealed".to_vec(), created_at: 1 };
    let plan = FirstStart { admin, project: "library".into(), settings, role: 1, signing_key };
    let (x, y) = tokio::join!(meta.first_start(&plan), meta.first_start(&plan));
    let admins: Vec<i64> = [x.unwrap(), y.unwrap()].into_iter().flatten().collect();
    assert_eq!(admins.len(), 1, "{admins:?}");
    assert_eq!(meta.count_users().await.unwrap(), 1);
    let library = meta.project_by_name("library").await.unwrap().expect("the project is made");
    assert_eq!((library.owner_id, library.settings.public), (Some(admins[0]), true));
    assert_eq!(meta.member_role("library", admins[0]).await.unwrap(), Some(1));
    assert_eq!(meta.first_start(&plan).await.unwrap(), None);

    assert_eq!(meta.delete_project(library.id).await.unwrap(), ProjectDeletion::Deleted);
    assert!(meta.delete_user(admins[0]).await.unwrap());
    assert!(meta.delete_signing_key("first").await.unwrap(), "the first signing key was not stored");
}

/// A project deleted while its first repository is made (by a manifest in
/// even rounds, a blob link in odd ones): both stay, or neither is there.
async fn project_deletion_racing_its_first_repository(meta: &dyn Meta) {
    let empty = manifest("{\"race\":\"empty\"}", vec![], None, None);
    let layer = Digest::sha256_of(b"race-layer");
    for round in 0..ROUNDS {
        let name = format!("race-{round}");
        let project = meta.create_project(&name, None, &ProjectSettings::default()).await.unwrap().unwrap();
        let r = repo(&format!("{name}/app"));
        let write = async {
            if round % 2 == 0 {
                meta.put_manifest(&r, &empty, Some(&tag("v1"))).await.map(|put| assert_eq!(put, ManifestPut::Stored))
            } else {
                meta.link_blob(&r, &layer, 10).await
            }
        };
        let (deleted, written) = tokio::join!(meta.delete_project(project), write);
        let kept = meta.project_by_id(project).await.unwrap().is_some();
        let repositories = meta.list_repository_records(Some(&name), None, PageRequest::ALL).await.unwrap().total;
        match (deleted.unwrap(), written) {
            (ProjectDeletion::Deleted, Err(MetaError::ProjectMissing(missing))) => {
                assert_eq!(missing, name);
                assert!(!kept, "round {round}: the project was deleted");
                assert_eq!(repositories, 0, "round {round}: a repository outlived its project");
            }
            (ProjectDeletion::HoldsRepositories(1), Ok(())) => {
                assert!(kept, "round {round}: the deletion was refused");
                assert_eq!(repositories, 1, "round {round}: the repository is missing");
            }
            other => panic!("round {round}: deleting and writing came to {other:?}"),
        }
    }
}

/// The same new tag created on two manifests at once: one creation wins,
/// the other finds the tag there, and the tag points at the winner's.
async fn one_tag_created_twice_at_once(meta: &dyn Meta) {
    meta.create_project("tagrace", None, &ProjectSettings::default()).await.unwrap().unwrap();
    let r = repo("tagrace/app");
    let (a, b) =
        (manifest("{\"tagrace\":\"a\"}", vec![], None, None), manifest("{\"tagrace\":\"b\"}", vec![], None, None));
    for m in [&a, &b] {
        assert_eq!(meta.put_manifest(&r, m, None).await.unwrap(), ManifestPut::Stored);
    }
    for round in 0..ROUNDS {
        let t = tag(&format!("t{round}"));
        // The creation started first alternates between the two.
        let (x, y) = if round % 2 == 0 { (&a.digest, &b.digest) } else { (&b.digest, &a.digest) };
        let (on_x, on_y) = tokio::join!(meta.create_tag(&r, &t, x), meta.create_tag(&r, &t, y));
        let winner = match (on_x.unwrap(), on_y.unwrap()) {
            (TagCreation::Created, TagCreation::Exists) => x,
            (TagCreation::Exists, TagCreation::Created) => y,
            other => panic!("round {round}: the two creations came to {other:?}"),
        };
        assert_eq!(meta.tag_target(&r, &t).await.unwrap().as_ref(), Some(winner), "round {round}");
    }
}
