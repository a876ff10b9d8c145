-- mfa-store-sql schema, SQLite dialect (STRICT tables).
-- Times are Unix seconds. Secrets are stored only sealed (AEAD, see
-- mfa_core::seal); codes and tokens only as 32-byte keyed hashes
-- (HMAC-SHA-256 under a pepper that never enters the database).

-- An authenticator-app enrollment waiting for its first code; one per subject.
CREATE TABLE mfa_totp_pending (
    id            TEXT    NOT NULL PRIMARY KEY,
    subject       TEXT    NOT NULL UNIQUE,
    sealed_secret BLOB    NOT NULL,
    algorithm     TEXT    NOT NULL,
    digits        INTEGER NOT NULL,
    period        INTEGER NOT NULL,
    t0            INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL
) STRICT;

-- Active authenticator apps. `seq` keeps insertion order for ties.
CREATE TABLE mfa_totp (
    seq           INTEGER PRIMARY KEY,
    id            TEXT    NOT NULL UNIQUE,
    subject       TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    sealed_secret BLOB    NOT NULL,
    algorithm     TEXT    NOT NULL,
    digits        INTEGER NOT NULL,
    period        INTEGER NOT NULL,
    t0            INTEGER NOT NULL,
    last_step     INTEGER,
    drift         INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER
) STRICT;
CREATE INDEX mfa_totp_by_subject ON mfa_totp (subject, created_at);

-- Unused recovery codes (a used code is deleted).
CREATE TABLE mfa_recovery_codes (
    subject    TEXT    NOT NULL,
    code_hash  BLOB    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (subject, code_hash)
) STRICT;

-- E-mail / SMS registered as factors.
CREATE TABLE mfa_channels (
    subject  TEXT    NOT NULL,
    channel  TEXT    NOT NULL,
    added_at INTEGER NOT NULL,
    PRIMARY KEY (subject, channel)
) STRICT;

-- The active one-time code per subject and channel.
CREATE TABLE mfa_sent_codes (
    subject    TEXT    NOT NULL,
    channel    TEXT    NOT NULL,
    code_hash  BLOB    NOT NULL,
    issued_at  INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    tries      INTEGER NOT NULL,
    PRIMARY KEY (subject, channel)
) STRICT;

-- When codes were sent, for the send limits (pruned after an hour).
CREATE TABLE mfa_code_sends (
    seq       INTEGER PRIMARY KEY,
    subject   TEXT    NOT NULL,
    channel   TEXT    NOT NULL,
    issued_at INTEGER NOT NULL
) STRICT;
CREATE INDEX mfa_code_sends_window ON mfa_code_sends (subject, channel, issued_at);

-- Consecutive failures and lock per subject and factor kind.
CREATE TABLE mfa_throttle (
    subject      TEXT    NOT NULL,
    factor       TEXT    NOT NULL,
    failures     INTEGER NOT NULL,
    locked_until INTEGER,
    PRIMARY KEY (subject, factor)
) STRICT;

-- Remembered browsers.
CREATE TABLE mfa_devices (
    seq          INTEGER PRIMARY KEY,
    id           TEXT    NOT NULL UNIQUE,
    subject      TEXT    NOT NULL,
    token_hash   BLOB    NOT NULL,
    name         TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    last_used_at INTEGER
) STRICT;
CREATE INDEX mfa_devices_by_token ON mfa_devices (subject, token_hash);

-- The administrator's policy, as JSON; at most one row.
CREATE TABLE mfa_policy (
    id     INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    policy TEXT    NOT NULL
) STRICT;

-- Grace deadlines, fixed when a requirement first applies to a subject.
CREATE TABLE mfa_grace (
    subject  TEXT    NOT NULL PRIMARY KEY,
    fixed_at INTEGER NOT NULL,
    deadline INTEGER NOT NULL
) STRICT;

-- The audit trail; AUTOINCREMENT so that ids are never reused.
CREATE TABLE mfa_audit (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at         INTEGER NOT NULL,
    subject    TEXT,
    actor_kind TEXT    NOT NULL,
    actor_id   TEXT,
    action     TEXT    NOT NULL,
    factor     TEXT,
    detail     TEXT
) STRICT;
CREATE INDEX mfa_audit_by_subject ON mfa_audit (subject, id);

-- One row per subject, locked to serialise multi-row operations
-- (recovery-code replacement, send limits, reset) across instances.
CREATE TABLE mfa_subject_locks (
    subject TEXT NOT NULL PRIMARY KEY
) STRICT;
