-- Identity and access: users, projects and their members, settings,
-- token signing keys and the audit log.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE COLLATE NOCASE,
    email         TEXT NOT NULL DEFAULT '' COLLATE NOCASE,
    realname      TEXT NOT NULL DEFAULT '',
    comment       TEXT NOT NULL DEFAULT '',
    -- NULL for accounts whose password lives in LDAP.
    password_hash TEXT,
    source        TEXT NOT NULL CHECK (source IN ('local', 'ldap')),
    sysadmin      INTEGER NOT NULL DEFAULT 0,
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE UNIQUE INDEX users_by_email ON users(email) WHERE email <> '';

CREATE TABLE projects (
    id                 INTEGER PRIMARY KEY,
    name               TEXT NOT NULL UNIQUE,
    owner_id           INTEGER REFERENCES users(id) ON DELETE SET NULL,
    public             INTEGER NOT NULL DEFAULT 0,
    -- Configuration stored now, enforced by the features that use it.
    content_trust      INTEGER NOT NULL DEFAULT 0,
    prevent_vulnerable INTEGER NOT NULL DEFAULT 0,
    severity           TEXT NOT NULL DEFAULT 'low',
    auto_scan          INTEGER NOT NULL DEFAULT 0,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
);

-- A member is a user (LDAP groups join later); role is Harbor's role id.
CREATE TABLE project_members (
    id          INTEGER PRIMARY KEY,
    project_id  INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role        INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (project_id, user_id)
);
CREATE INDEX project_members_by_user ON project_members(user_id);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- Keys that sign registry tokens. The newest signs; older ones still
-- verify until the tokens they signed have expired.
CREATE TABLE signing_keys (
    kid         TEXT PRIMARY KEY,
    secret      BLOB NOT NULL,
    created_at  INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE audit_log (
    id             INTEGER PRIMARY KEY,
    at             INTEGER NOT NULL,
    username       TEXT NOT NULL,
    project        TEXT,
    resource       TEXT NOT NULL,
    resource_type  TEXT NOT NULL,
    operation      TEXT NOT NULL,
    success        INTEGER NOT NULL,
    client_address TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_by_time ON audit_log(at);
CREATE INDEX audit_log_by_user ON audit_log(username, at);
CREATE INDEX audit_log_by_project ON audit_log(project, at);
