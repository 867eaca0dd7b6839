-- Robot accounts: non-human identities with explicit permissions, a
-- secret (stored hashed) and an expiry.

CREATE TABLE robots (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    description  TEXT NOT NULL DEFAULT '',
    secret_hash  TEXT NOT NULL,
    -- NULL for system-level robots.
    project_id   INTEGER REFERENCES projects(id) ON DELETE CASCADE,
    disabled     INTEGER NOT NULL DEFAULT 0,
    -- Unix seconds; -1 never expires.
    expires_at   INTEGER NOT NULL,
    -- Harbor's permission list as JSON.
    permissions  TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX robots_by_project ON robots(project_id);
