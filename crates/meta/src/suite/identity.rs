//! Users, projects, members, settings, signing keys and audit.

use super::{robot, user};
use crate::*;

pub(super) async fn run_all(meta: &dyn Meta) {
    users(meta).await;
    projects_and_members(meta).await;
    settings_and_keys(meta).await;
    audit(meta).await;
    audit_by_project_id(meta).await;
    robots(meta).await;
}

async fn robots(meta: &dyn Meta) {
    let project = meta.create_project("robotic", None, &ProjectSettings::default()).await.unwrap().unwrap();
    let sys = meta.create_robot(&robot("robot$ci", None)).await.unwrap().unwrap();
    let proj = meta.create_robot(&robot("robot$robotic+ci", Some(project))).await.unwrap().unwrap();
    assert_eq!(meta.create_robot(&robot("robot$ci", None)).await.unwrap(), None);
    assert_eq!(meta.robot_by_name("robot$robotic+ci").await.unwrap().unwrap().id, proj);
    assert_eq!(meta.list_robots(None, PageRequest::ALL).await.unwrap().total, 2);
    let mine = meta.list_robots(Some(project), PageRequest::ALL).await.unwrap();
    assert_eq!(mine.items.iter().map(|r| r.id).collect::<Vec<_>>(), [proj]);
    let update = RobotUpdate { description: "new".into(), disabled: true, expires_at: 99, permissions: "[1]".into() };
    assert!(meta.update_robot(sys, &update).await.unwrap());
    assert!(meta.set_robot_secret(sys, "$argon2id$y").await.unwrap());
    let r = meta.robot_by_id(sys).await.unwrap().unwrap();
    assert_eq!(
        (r.disabled, r.expires_at, r.secret_hash.as_str(), r.permissions.as_str()),
        (true, 99, "$argon2id$y", "[1]")
    );
    assert_eq!(meta.delete_project(project).await.unwrap(), ProjectDeletion::Deleted);
    assert_eq!(meta.robot_by_id(proj).await.unwrap(), None, "project robots go with their project");
    assert!(meta.delete_robot(sys).await.unwrap());
}

async fn users(meta: &dyn Meta) {
    let alice = meta.create_user(&user("alice", "alice@example.com")).await.unwrap().unwrap();
    assert_eq!(meta.create_user(&user("ALICE", "other@example.com")).await.unwrap(), Err(UserConflict::Username));
    assert_eq!(meta.create_user(&user("alice2", "Alice@example.com")).await.unwrap(), Err(UserConflict::Email));
    // Empty emails never collide.
    meta.create_user(&user("noemail1", "")).await.unwrap().unwrap();
    meta.create_user(&user("noemail2", "")).await.unwrap().unwrap();

    let found = meta.user_by_name("Alice").await.unwrap().unwrap();
    assert_eq!((found.id, found.username.as_str(), found.sysadmin), (alice, "alice", false));
    assert!(meta.set_sysadmin(alice, true).await.unwrap());
    assert!(meta.set_disabled(alice, true).await.unwrap());
    assert!(meta.set_password_hash(alice, "$argon2id$new").await.unwrap());
    let profile = UserProfile { realname: Some("Alice A.".into()), ..Default::default() };
    assert_eq!(meta.update_user_profile(alice, &profile).await.unwrap(), Ok(true));
    let u = meta.user_by_id(alice).await.unwrap().unwrap();
    assert!(u.sysadmin && u.disabled);
    assert_eq!(
        (u.password_hash.as_deref(), u.realname.as_str(), u.email.as_str()),
        (Some("$argon2id$new"), "Alice A.", "alice@example.com")
    );

    let page = meta.list_users(Some("email"), PageRequest { offset: 1, limit: 10 }).await.unwrap();
    assert_eq!(page.total, 2);
    assert_eq!(page.items.iter().map(|u| u.username.as_str()).collect::<Vec<_>>(), ["noemail2"]);
    // An offset past what the database addresses is past the end, not the first page.
    let beyond = meta.list_users(None, PageRequest { offset: u64::MAX, limit: 10 }).await.unwrap();
    assert_eq!((beyond.items.len(), beyond.total), (0, 3));
    let beyond = meta.list_users(None, PageRequest { offset: i64::MAX as u64 + 1, limit: 10 }).await.unwrap();
    assert!(beyond.items.is_empty());
    // LIKE wildcards in a filter are taken literally.
    assert_eq!(meta.list_users(Some("%"), PageRequest::ALL).await.unwrap().total, 0);
    assert_eq!(meta.count_users().await.unwrap(), 3);
    assert!(meta.set_sysadmin(alice, false).await.unwrap() && meta.set_disabled(alice, false).await.unwrap());
    assert!(!meta.set_disabled(999_999, true).await.unwrap());
}

async fn projects_and_members(meta: &dyn Meta) {
    let bob = meta.create_user(&user("bob", "bob@example.com")).await.unwrap().unwrap();
    let carol = meta.create_user(&user("carol", "carol@example.com")).await.unwrap().unwrap();
    let public = ProjectSettings { public: true, ..Default::default() };
    let owner = Some(ProjectOwner { user_id: bob, role: 1 });
    let shared = meta.create_project("shared", owner, &public).await.unwrap().unwrap();
    let secret = meta.create_project("secret", owner, &ProjectSettings::default()).await.unwrap().unwrap();
    assert_eq!(meta.member_role("secret", bob).await.unwrap(), Some(1), "the owner is a member");
    assert_eq!(meta.create_project("secret", None, &public).await.unwrap(), None);

    let p = meta.project_by_name("shared").await.unwrap().unwrap();
    assert_eq!((p.id, p.owner_name.as_deref(), p.settings.public), (shared, Some("bob"), true));

    let member = meta.add_member(secret, carol, 2).await.unwrap().unwrap();
    assert_eq!(meta.add_member(secret, carol, 3).await.unwrap(), None);
    assert_eq!(meta.member_role("secret", carol).await.unwrap(), Some(2));
    assert_eq!(meta.member_role("shared", carol).await.unwrap(), None);
    assert!(meta.update_member_role(secret, member, 4).await.unwrap());
    assert!(!meta.update_member_role(shared, member, 4).await.unwrap(), "member id belongs to another project");
    let m = meta.member(secret, member).await.unwrap().unwrap();
    assert_eq!((m.username.as_str(), m.role), ("carol", 4));
    assert_eq!(meta.list_members(secret, Some("car"), PageRequest::ALL).await.unwrap().total, 1);

    let visible = |user| ProjectFilter { visible_to: Some(user), ..Default::default() };
    let names = |p: Paged<ProjectRecord>| p.items.into_iter().map(|p| p.name).collect::<Vec<_>>();
    assert_eq!(names(meta.list_projects(&visible(carol), PageRequest::ALL).await.unwrap()), ["secret", "shared"]);
    let stranger = meta.create_user(&user("dave", "dave@example.com")).await.unwrap().unwrap();
    assert_eq!(names(meta.list_projects(&visible(stranger), PageRequest::ALL).await.unwrap()), ["shared"]);
    let private_only = ProjectFilter { public: Some(false), ..Default::default() };
    assert_eq!(names(meta.list_projects(&private_only, PageRequest::ALL).await.unwrap()), ["secret"]);

    let repo: berth_core::RepoName = "secret/app".parse().unwrap();
    meta.link_blob(&repo, &berth_core::Digest::sha256_of(b"x"), 1).await.unwrap();
    meta.create_project("secret-other", None, &ProjectSettings::default()).await.unwrap().unwrap();
    let lookalike: berth_core::RepoName = "secret-other/app".parse().unwrap();
    meta.link_blob(&lookalike, &berth_core::Digest::sha256_of(b"x"), 1).await.unwrap();
    assert_eq!(meta.count_project_repositories("secret").await.unwrap(), 1);
    assert_eq!(meta.count_project_repositories("shared").await.unwrap(), 0);
    assert_eq!(meta.delete_project(secret).await.unwrap(), ProjectDeletion::HoldsRepositories(1));
    assert!(meta.project_by_id(secret).await.unwrap().is_some(), "a project holding a repository stays");

    let changed = ProjectSettings { auto_scan: true, severity: "high".into(), ..Default::default() };
    assert!(meta.update_project_settings(shared, &changed).await.unwrap());
    assert_eq!(meta.project_by_id(shared).await.unwrap().unwrap().settings, changed);

    assert!(meta.remove_member(secret, member).await.unwrap());
    assert_eq!(meta.member_role("secret", carol).await.unwrap(), None);
    meta.add_member(shared, carol, 1).await.unwrap().unwrap();
    assert!(meta.delete_user(carol).await.unwrap());
    let left = meta.list_members(shared, None, PageRequest::ALL).await.unwrap();
    let left: Vec<_> = left.items.iter().map(|m| m.username.as_str()).collect();
    assert_eq!(left, ["bob"], "a deleted user's memberships go with it");
    assert_eq!(meta.delete_project(shared).await.unwrap(), ProjectDeletion::Deleted);
    assert_eq!(meta.project_by_name("shared").await.unwrap(), None);
}

async fn settings_and_keys(meta: &dyn Meta) {
    assert!(meta.settings().await.unwrap().is_empty());
    let pair = |k: &str, v: &str| (k.to_owned(), v.to_owned());
    meta.put_settings(&[pair("b", "1"), pair("a", "2")]).await.unwrap();
    meta.put_settings(&[pair("b", "3")]).await.unwrap();
    assert_eq!(meta.settings().await.unwrap(), [pair("a", "2"), pair("b", "3")]);

    let key = |kid: &str, at| SigningKeyRecord { kid: kid.into(), secret: vec![7; 32], created_at: at };
    meta.add_signing_key(&key("old", 100)).await.unwrap();
    meta.add_signing_key(&key("new", 200)).await.unwrap();
    let kids = |keys: Vec<SigningKeyRecord>| keys.into_iter().map(|k| k.kid).collect::<Vec<_>>();
    assert_eq!(kids(meta.signing_keys().await.unwrap()), ["new", "old"]);
    // Added within the same second as "new": still the newest.
    meta.add_signing_key(&key("newer", 200)).await.unwrap();
    assert_eq!(kids(meta.signing_keys().await.unwrap()), ["newer", "new", "old"]);
    assert_eq!(meta.prune_signing_keys(1_000).await.unwrap(), 2, "the newest key always stays");
    assert_eq!(kids(meta.signing_keys().await.unwrap()), ["newer"]);
    meta.add_signing_key(&key("spare", 300)).await.unwrap();
    assert!(meta.delete_signing_key("newer").await.unwrap());
    assert!(!meta.delete_signing_key("newer").await.unwrap());
    assert_eq!(kids(meta.signing_keys().await.unwrap()), ["spare"]);
    meta.reclaim_free_space().await.unwrap();
    assert_eq!(kids(meta.signing_keys().await.unwrap()), ["spare"], "reclaiming space keeps what is stored");
}

async fn audit(meta: &dyn Meta) {
    let entry = |at, user: &str, op: &str, resource: &str| AuditEntry {
        id: 0,
        at,
        username: user.into(),
        project: Some("proj".into()),
        project_id: Some(7),
        resource: resource.into(),
        resource_type: "artifact".into(),
        operation: op.into(),
        success: true,
        client_address: "127.0.0.1".into(),
    };
    meta.append_audit(&[
        entry(10, "alice", "push", "proj/app:v1"),
        entry(20, "bob", "pull", "proj/app:v1"),
        entry(30, "alice", "delete", "proj/other:v2"),
    ])
    .await
    .unwrap();
    let all = meta.search_audit(&AuditQuery::default(), PageRequest::ALL).await.unwrap();
    assert_eq!(all.items.iter().map(|e| e.at).collect::<Vec<_>>(), [30, 20, 10], "newest first");
    let q = AuditQuery { username: Some("alice".into()), resource: Some("app".into()), ..Default::default() };
    let hits = meta.search_audit(&q, PageRequest::ALL).await.unwrap();
    assert_eq!((hits.total, hits.items[0].operation.as_str()), (1, "push"));
    let q = AuditQuery { from: Some(15), to: Some(30), ..Default::default() };
    assert_eq!(meta.search_audit(&q, PageRequest { offset: 0, limit: 1 }).await.unwrap().total, 2);
    let q = AuditQuery { username: Some("x' OR '1'='1".into()), ..Default::default() };
    assert_eq!(meta.search_audit(&q, PageRequest::ALL).await.unwrap().total, 0);
    assert_eq!(meta.purge_audit(25).await.unwrap(), 2);
    assert_eq!(meta.search_audit(&AuditQuery::default(), PageRequest::ALL).await.unwrap().total, 1);
}

/// A project created again under a deleted one's name is another project:
/// a new id, and a log of its own.
async fn audit_by_project_id(meta: &dyn Meta) {
    let settings = ProjectSettings::default();
    let first = meta.create_project("reborn", None, &settings).await.unwrap().unwrap();
    assert_eq!(meta.delete_project(first).await.unwrap(), ProjectDeletion::Deleted);
    let second = meta.create_project("reborn", None, &settings).await.unwrap().unwrap();
    assert!(second > first, "the deleted project's id {first} was given out again");
    assert_eq!(meta.project_by_id(first).await.unwrap(), None);

    let entry = |at, project_id, op: &str| AuditEntry {
        id: 0,
        at,
        username: "admin".into(),
        project: Some("reborn".into()),
        project_id: Some(project_id),
        resource: "reborn".into(),
        resource_type: "project".into(),
        operation: op.into(),
        success: true,
        client_address: String::new(),
    };
    meta.append_audit(&[entry(100, first, "create"), entry(101, first, "delete"), entry(102, second, "create")])
        .await
        .unwrap();
    let by_id = |id| AuditQuery { project_id: Some(id), ..Default::default() };
    let new = meta.search_audit(&by_id(second), PageRequest::ALL).await.unwrap();
    assert_eq!((new.total, new.items[0].at, new.items[0].project_id), (1, 102, Some(second)));
    let old = meta.search_audit(&by_id(first), PageRequest::ALL).await.unwrap();
    assert_eq!(old.items.iter().map(|e| e.at).collect::<Vec<_>>(), [101, 100], "times are kept as given");
    let by_name = AuditQuery { project: Some("reborn".into()), ..Default::default() };
    assert_eq!(meta.search_audit(&by_name, PageRequest::ALL).await.unwrap().total, 3);
    assert_eq!(meta.delete_project(second).await.unwrap(), ProjectDeletion::Deleted);
}
