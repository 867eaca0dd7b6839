//! Credential stamps and refresh tokens.

use super::{robot, user};
use crate::*;

pub(super) async fn run_all(meta: &dyn Meta) {
    stamps_change_with_credentials(meta).await;
    refresh_tokens(meta).await;
    account_deletion_revokes_refresh_tokens(meta).await;
}

async fn stamps_change_with_credentials(meta: &dyn Meta) {
    let id = meta.create_user(&user("stamped", "")).await.unwrap().unwrap();
    let current = || async { meta.user_by_id(id).await.unwrap().unwrap().credential_stamp };
    let first = current().await;
    assert!(meta.set_sysadmin(id, true).await.unwrap());
    assert_eq!(current().await, first, "admin rights are checked live; they do not renew the stamp");
    assert!(meta.set_password_hash(id, "$argon2id$other").await.unwrap());
    let second = current().await;
    assert_ne!(second, first, "a password change renews the stamp");
    assert!(meta.set_disabled(id, true).await.unwrap());
    let third = current().await;
    assert_ne!(third, second, "disabling renews the stamp");
    assert!((0..1 << 53).contains(&third), "stamps stay exact as JSON numbers: {third}");

    // A re-created account gets a fresh stamp even when it gets the same id.
    assert!(meta.delete_user(id).await.unwrap());
    let again = meta.create_user(&user("stamped", "")).await.unwrap().unwrap();
    let renewed = meta.user_by_id(again).await.unwrap().unwrap().credential_stamp;
    assert!(again != id || renewed != third, "re-created account under id {again} kept stamp {renewed}");

    let r = meta.create_robot(&robot("robot$stamped", None)).await.unwrap().unwrap();
    let robot_stamp = || async { meta.robot_by_id(r).await.unwrap().unwrap().credential_stamp };
    let before = robot_stamp().await;
    assert!(meta.set_robot_secret(r, "$argon2id$new").await.unwrap());
    let after_secret = robot_stamp().await;
    assert_ne!(after_secret, before, "a new secret renews the stamp");
    let update = RobotUpdate { description: String::new(), disabled: true, expires_at: -1, permissions: "[]".into() };
    assert!(meta.update_robot(r, &update).await.unwrap());
    assert_ne!(robot_stamp().await, after_secret, "an update renews the stamp");
    assert!(meta.delete_robot(r).await.unwrap());
}

fn token(byte: u8, kind: AccountKind, account_id: i64, expires_at: i64) -> RefreshTokenRecord {
    RefreshTokenRecord { token_hash: [byte; 32], account_kind: kind, account_id, stamp: 7, created_at: 1, expires_at }
}

async fn refresh_tokens(meta: &dyn Meta) {
    meta.add_refresh_token(&token(1, AccountKind::User, 41, 1_000)).await.unwrap();
    meta.add_refresh_token(&token(2, AccountKind::User, 41, 1_000)).await.unwrap();
    meta.add_refresh_token(&token(3, AccountKind::Robot, 41, 1_000)).await.unwrap();

    let used = meta.use_refresh_token(&[1; 32], 500, 2_000).await.unwrap().expect("a live token");
    assert_eq!((used.account_kind, used.account_id, used.stamp, used.expires_at), (AccountKind::User, 41, 7, 2_000));
    // Using it again with an earlier expiry never shortens it.
    assert_eq!(meta.use_refresh_token(&[1; 32], 600, 1_500).await.unwrap().unwrap().expires_at, 2_000);
    assert_eq!(meta.use_refresh_token(&[2; 32], 1_000, 5_000).await.unwrap(), None, "expired at its expiry second");
    assert_eq!(meta.use_refresh_token(&[9; 32], 0, 5_000).await.unwrap(), None, "unknown");

    assert_eq!(meta.delete_refresh_tokens_of(AccountKind::User, 41).await.unwrap(), 2);
    assert_eq!(meta.use_refresh_token(&[1; 32], 600, 2_000).await.unwrap(), None, "revoked");
    assert!(meta.use_refresh_token(&[3; 32], 600, 2_000).await.unwrap().is_some(), "robot 41 is another account");
    assert!(meta.delete_refresh_token(&[3; 32]).await.unwrap());
    assert!(!meta.delete_refresh_token(&[3; 32]).await.unwrap());

    meta.add_refresh_token(&token(4, AccountKind::User, 42, 100)).await.unwrap();
    meta.add_refresh_token(&token(5, AccountKind::User, 42, 300)).await.unwrap();
    assert_eq!(meta.purge_refresh_tokens(200).await.unwrap(), 1);
    assert!(meta.use_refresh_token(&[5; 32], 0, 0).await.unwrap().is_some());
    meta.delete_refresh_tokens_of(AccountKind::User, 42).await.unwrap();
}

async fn account_deletion_revokes_refresh_tokens(meta: &dyn Meta) {
    let user = meta.create_user(&user("refreshing", "")).await.unwrap().unwrap();
    let project = meta.create_project("refreshing", None, &ProjectSettings::default()).await.unwrap().unwrap();
    let r = meta.create_robot(&robot("robot$refreshing+ci", Some(project))).await.unwrap().unwrap();
    let system_robot = meta.create_robot(&robot("robot$refreshing", None)).await.unwrap().unwrap();
    meta.add_refresh_token(&token(11, AccountKind::User, user, i64::MAX)).await.unwrap();
    meta.add_refresh_token(&token(12, AccountKind::Robot, r, i64::MAX)).await.unwrap();
    meta.add_refresh_token(&token(13, AccountKind::Robot, system_robot, i64::MAX)).await.unwrap();

    assert!(meta.delete_user(user).await.unwrap());
    assert_eq!(meta.use_refresh_token(&[11; 32], 0, 0).await.unwrap(), None);
    assert_eq!(meta.delete_project(project).await.unwrap(), ProjectDeletion::Deleted);
    assert_eq!(meta.use_refresh_token(&[12; 32], 0, 0).await.unwrap(), None, "project robots' tokens go too");
    assert!(meta.delete_robot(system_robot).await.unwrap());
    assert_eq!(meta.use_refresh_token(&[13; 32], 0, 0).await.unwrap(), None);
}
