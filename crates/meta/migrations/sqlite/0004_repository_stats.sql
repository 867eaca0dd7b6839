-- What the management API shows about repositories and artifacts: how
-- often they are pulled and when last.

ALTER TABLE repositories ADD COLUMN pull_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE manifests ADD COLUMN pull_time INTEGER;
