-- Signing keys are ordered by insertion, not by their creation second: two
-- rotations within one second must still leave the newest key signing.

CREATE TABLE signing_keys_ordered (
    id          INTEGER PRIMARY KEY,
    kid         TEXT NOT NULL UNIQUE,
    secret      BLOB NOT NULL,
    created_at  INTEGER NOT NULL
);
INSERT INTO signing_keys_ordered (kid, secret, created_at)
    SELECT kid, secret, created_at FROM signing_keys ORDER BY created_at, kid;
DROP TABLE signing_keys;
ALTER TABLE signing_keys_ordered RENAME TO signing_keys;
