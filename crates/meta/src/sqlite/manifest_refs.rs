//! Whether what a manifest points at is in its repository, with the sizes
//! its descriptors claim. Runs inside the transaction that stores the
//! manifest, after that transaction took SQLite's write lock, so nothing
//! checked here can change before the manifest is written.

use sqlx::SqliteConnection;

use crate::{ChildRef, ManifestPut, MetaResult, NewManifest, SizeMismatch};

/// A blob is visible to a repository only through its link; its size is
/// recorded once, from the bytes actually stored.
const BLOB_SIZE_SQL: &str = "SELECT b.size FROM repository_blobs rb JOIN blobs b ON b.digest = rb.digest
     WHERE rb.repository_id = ? AND rb.digest = ?";
/// A manifest's size is the length of its stored body.
const MANIFEST_SIZE_SQL: &str = "SELECT size FROM manifests WHERE repository_id = ? AND digest = ?";

/// What `sql` (bound to repository id and digest) finds as the size of each
/// of `refs`, `None` where nothing is stored.
async fn stored_sizes(
    conn: &mut SqliteConnection,
    sql: &str,
    repo_id: i64,
    refs: &[ChildRef],
) -> MetaResult<Vec<Option<u64>>> {
    let mut sizes = Vec::with_capacity(refs.len());
    for r in refs {
        let size: Option<i64> =
            sqlx::query_scalar(sql).bind(repo_id).bind(r.digest.to_string()).fetch_optional(&mut *conn).await?;
        sizes.push(size.map(|s| s as u64));
    }
    Ok(sizes)
}

fn absent(refs: &[ChildRef], sizes: &[Option<u64>]) -> Vec<berth_core::Digest> {
    refs.iter().zip(sizes).filter(|(_, s)| s.is_none()).map(|(r, _)| r.digest.clone()).collect()
}

/// Why `m` cannot be stored in repository `repo_id`, or `None` if every
/// reference is there with the size its descriptor claims.
pub(super) async fn refusal(
    conn: &mut SqliteConnection,
    repo_id: i64,
    m: &NewManifest,
) -> MetaResult<Option<ManifestPut>> {
    let blobs = stored_sizes(conn, BLOB_SIZE_SQL, repo_id, &m.blob_refs).await?;
    let missing = absent(&m.blob_refs, &blobs);
    if !missing.is_empty() {
        return Ok(Some(ManifestPut::MissingBlobs(missing)));
    }
    let manifests = stored_sizes(conn, MANIFEST_SIZE_SQL, repo_id, &m.manifest_refs).await?;
    let missing = absent(&m.manifest_refs, &manifests);
    if !missing.is_empty() {
        return Ok(Some(ManifestPut::MissingManifests(missing)));
    }
    // A subject may be pushed after its referrers; only one that is stored
    // can be held to its size.
    let subject = m.subject.as_slice();
    let subject_size = stored_sizes(conn, MANIFEST_SIZE_SQL, repo_id, subject).await?;
    let refs = m.blob_refs.iter().chain(&m.manifest_refs).chain(subject);
    let sizes = blobs.into_iter().chain(manifests).chain(subject_size);
    let wrong: Vec<SizeMismatch> = refs
        .zip(sizes)
        .filter_map(|(r, stored)| {
            let stored = stored?;
            (stored != r.size).then(|| SizeMismatch { digest: r.digest.clone(), claimed: r.size, stored })
        })
        .collect();
    Ok((!wrong.is_empty()).then_some(ManifestPut::WrongSizes(wrong)))
}
