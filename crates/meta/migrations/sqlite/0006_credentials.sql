-- What was issued to an account ends when its credentials change.
--
-- Every account carries a credential stamp: tokens and refresh tokens name
-- the account by id and stamp, and are refused once the stamp differs. The
-- stamp is random rather than a counter, so an account re-created under a
-- reused id never matches what was issued to the one before it.

ALTER TABLE users ADD COLUMN credential_stamp INTEGER NOT NULL DEFAULT 0;
UPDATE users SET credential_stamp = abs(random() % 9007199254740991);
ALTER TABLE robots ADD COLUMN credential_stamp INTEGER NOT NULL DEFAULT 0;
UPDATE robots SET credential_stamp = abs(random() % 9007199254740991);

-- Refresh tokens (OAuth2, as Docker and containerd use them), stored only
-- as a SHA-256 of the token.
CREATE TABLE refresh_tokens (
    token_hash    BLOB PRIMARY KEY,
    account_kind  TEXT NOT NULL CHECK (account_kind IN ('user', 'robot')),
    account_id    INTEGER NOT NULL,
    stamp         INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX refresh_tokens_by_account ON refresh_tokens(account_kind, account_id);
CREATE INDEX refresh_tokens_by_expiry ON refresh_tokens(expires_at);
