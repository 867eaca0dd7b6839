//! The key file that seals secrets at rest: read when it exists, created
//! (mode 0600, written and flushed before use) when it does not.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use anyhow::{bail, Context};
use berth_auth::SealingKey;

/// Reads the key at `path`, creating it on first start.
pub fn load_or_create(path: &Path) -> anyhow::Result<SealingKey> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let mode = std::fs::metadata(path)?.permissions().mode();
            if mode & 0o077 != 0 {
                tracing::warn!(path = %path.display(), mode = format!("{:o}", mode & 0o777), "the secret key file is readable by other users; chmod 600 it");
            }
            SealingKey::from_text(&text).with_context(|| format!("reading the secret key {}", path.display()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => create(path),
        Err(e) => Err(e).with_context(|| format!("reading the secret key {}", path.display())),
    }
}

fn create(path: &Path) -> anyhow::Result<SealingKey> {
    let key = SealingKey::generate();
    let file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path);
    let mut file = match file {
        Ok(f) => f,
        // Another node sharing this directory created it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return load_or_create(path),
        Err(e) => return Err(e).with_context(|| format!("creating the secret key {}", path.display())),
    };
    let written = file.write_all(format!("{}\n", key.to_text()).as_bytes()).and_then(|()| file.sync_all());
    if let Err(e) = written {
        let _ = std::fs::remove_file(path);
        return Err(e).with_context(|| format!("writing the secret key {}", path.display()));
    }
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir).and_then(|d| d.sync_all()).ok();
    }
    tracing::info!(path = %path.display(), "created the secret key that seals stored secrets; back it up apart from the database");
    if !path.exists() {
        bail!("the secret key {} vanished right after it was created", path.display());
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_private_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret.key");
        let key = load_or_create(&path).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        let again = load_or_create(&path).unwrap();
        let sealed = key.seal(b"x", "c");
        assert_eq!(again.open(&sealed, "c").unwrap(), b"x", "a second start reads the same key");
        std::fs::write(&path, "garbage").unwrap();
        assert!(load_or_create(&path).is_err());
    }
}
