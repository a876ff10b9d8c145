-- mfa-store-sql schema, PostgreSQL dialect.
-- Times are Unix seconds. Secrets are stored only sealed (AEAD, see
-- mfa_core::seal); codes and tokens only as 32-byte keyed hashes
-- (HMAC-SHA-256 under a pepper that never enters the database).
-- Identifiers use the "C" collation: byte order, as in Rust.

-- An authenticator-app enrollment waiting for its first code; one per subject.
CREATE TABLE mfa_totp_pending (
    id            TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    subject       TEXT COLLATE "C" NOT NULL UNIQUE,
    sealed_secret BYTEA   NOT NULL,
    algorithm     TEXT    NOT NULL,
    digits        INTEGER NOT NULL,
    period        INTEGER NOT NULL,
    t0            BIGINT  NOT NULL,
    created_at    BIGINT  NOT NULL,
    expires_at    BIGINT  NOT NULL
);

-- Active authenticator apps. `seq` keeps insertion order for ties.
CREATE TABLE mfa_totp (
    seq           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id            TEXT COLLATE "C" NOT NULL UNIQUE,
    subject       TEXT COLLATE "C" NOT NULL,
    name          TEXT    NOT NULL,
    sealed_secret BYTEA   NOT NULL,
    algorithm     TEXT    NOT NULL,
    digits        INTEGER NOT NULL,
    period        INTEGER NOT NULL,
    t0            BIGINT  NOT NULL,
    last_step     BIGINT,
    drift         INTEGER NOT NULL,
    created_at    BIGINT  NOT NULL,
    last_used_at  BIGINT
);
CREATE INDEX mfa_totp_by_subject ON mfa_totp (subject, created_at);

-- Unused recovery codes (a used code is deleted).
CREATE TABLE mfa_recovery_codes (
    subject    TEXT COLLATE "C" NOT NULL,
    code_hash  BYTEA  NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (subject, code_hash)
);

-- E-mail / SMS registered as factors.
CREATE TABLE mfa_channels (
    subject  TEXT COLLATE "C" NOT NULL,
    channel  TEXT   NOT NULL,
    added_at BIGINT NOT NULL,
    PRIMARY KEY (subject, channel)
);

-- The active one-time code per subject and channel.
CREATE TABLE mfa_sent_codes (
    subject    TEXT COLLATE "C" NOT NULL,
    channel    TEXT   NOT NULL,
    code_hash  BYTEA  NOT NULL,
    issued_at  BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    tries      BIGINT NOT NULL,
    PRIMARY KEY (subject, channel)
);

-- When codes were sent, for the send limits (pruned after an hour).
CREATE TABLE mfa_code_sends (
    seq       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subject   TEXT COLLATE "C" NOT NULL,
    channel   TEXT   NOT NULL,
    issued_at BIGINT NOT NULL
);
CREATE INDEX mfa_code_sends_window ON mfa_code_sends (subject, channel, issued_at);

-- Consecutive failures and lock per subject and factor kind.
CREATE TABLE mfa_throttle (
    subject      TEXT COLLATE "C" NOT NULL,
    factor       TEXT   NOT NULL,
    failures     BIGINT NOT NULL,
    locked_until BIGINT,
    PRIMARY KEY (subject, factor)
);

-- Remembered browsers.
CREATE TABLE mfa_devices (
    seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id           TEXT COLLATE "C" NOT NULL UNIQUE,
    subject      TEXT COLLATE "C" NOT NULL,
    token_hash   BYTEA  NOT NULL,
    name         TEXT   NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    last_used_at BIGINT
);
CREATE INDEX mfa_devices_by_token ON mfa_devices (subject, token_hash);

-- The administrator's policy, as JSON text; at most one row.
CREATE TABLE mfa_policy (
    id     INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    policy TEXT    NOT NULL
);

-- Grace deadlines, fixed when a requirement first applies to a subject.
CREATE TABLE mfa_grace (
    subject  TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    fixed_at BIGINT NOT NULL,
    deadline BIGINT NOT NULL
);

-- The audit trail.
CREATE TABLE mfa_audit (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         BIGINT NOT NULL,
    subject    TEXT COLLATE "C",
    actor_kind TEXT   NOT NULL,
    actor_id   TEXT COLLATE "C",
    action     TEXT   NOT NULL,
    factor     TEXT,
    detail     TEXT
);
CREATE INDEX mfa_audit_by_subject ON mfa_audit (subject, id);

-- One row per subject, locked to serialise multi-row operations
-- (recovery-code replacement, send limits, reset) across instances.
CREATE TABLE mfa_subject_locks (
    subject TEXT COLLATE "C" NOT NULL PRIMARY KEY
);
