-- mfa-store-sql schema, MySQL / MariaDB dialect (InnoDB).
-- Times are Unix seconds. Secrets are stored only sealed (AEAD, see
-- mfa_core::seal); codes and tokens only as 32-byte keyed hashes
-- (HMAC-SHA-256 under a pepper that never enters the database).
-- Identifiers are VARBINARY: compared byte for byte, with no case folding
-- and no trailing-space padding, as in Rust.

-- An authenticator-app enrollment waiting for its first code; one per subject.
CREATE TABLE mfa_totp_pending (
    id            VARBINARY(255) NOT NULL PRIMARY KEY,
    subject       VARBINARY(255) NOT NULL UNIQUE,
    sealed_secret BLOB           NOT NULL,
    algorithm     VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    digits        INT            NOT NULL,
    period        INT            NOT NULL,
    t0            BIGINT         NOT NULL,
    created_at    BIGINT         NOT NULL,
    expires_at    BIGINT         NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

-- Active authenticator apps. `seq` keeps insertion order for ties.
CREATE TABLE mfa_totp (
    seq           BIGINT         NOT NULL AUTO_INCREMENT PRIMARY KEY,
    id            VARBINARY(255) NOT NULL UNIQUE,
    subject       VARBINARY(255) NOT NULL,
    name          TEXT           NOT NULL,
    sealed_secret BLOB           NOT NULL,
    algorithm     VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    digits        INT            NOT NULL,
    period        INT            NOT NULL,
    t0            BIGINT         NOT NULL,
    last_step     BIGINT,
    drift         INT            NOT NULL,
    created_at    BIGINT         NOT NULL,
    last_used_at  BIGINT,
    INDEX mfa_totp_by_subject (subject, created_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

-- Unused recovery codes (a used code is deleted).
CREATE TABLE mfa_recovery_codes (
    subject    VARBINARY(255) NOT NULL,
    code_hash  VARBINARY(32)  NOT NULL,
    created_at BIGINT         NOT NULL,
    PRIMARY KEY (subject, code_hash)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

-- E-mail / SMS registered as factors.
CREATE TABLE mfa_channels (
    subject  VARBINARY(255) NOT NULL,
    channel  VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    added_at BIGINT         NOT NULL,
    PRIMARY KEY (subject, channel)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

-- The active one-time code per subject and channel.
CREATE TABLE mfa_sent_codes (
    subject    VARBINARY(255) NOT NULL,
    channel    VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    code_hash  VARBINARY(32)  NOT NULL,
    issued_at  BIGINT         NOT NULL,
    expires_at BIGINT         NOT NULL,
    tries      BIGINT         NOT NULL,
    PRIMARY KEY (subject, channel)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

-- When codes were sent, for the send limits (pruned after an hour).
CREATE TABLE mfa_code_sends (
    seq       BIGINT         NOT NULL AUTO_INCREMENT PRIMARY KEY,
    subject   VARBINARY(255) NOT NULL,
    channel   VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    issued_at BIGINT         NOT NULL,
    INDEX mfa_code_sends_window (subject, channel, issued_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

-- Consecutive failures and lock per subject and factor kind.
CREATE TABLE mfa_throttle (
    subject      VARBINARY(255) NOT NULL,
    factor       VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    failures     BIGINT         NOT NULL,
    locked_until BIGINT,
    PRIMARY KEY (subject, factor)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

-- Remembered browsers.
CREATE TABLE mfa_devices (
    seq          BIGINT         NOT NULL AUTO_INCREMENT PRIMARY KEY,
    id           VARBINARY(255) NOT NULL UNIQUE,
    subject      VARBINARY(255) NOT NULL,
    token_hash   VARBINARY(32)  NOT NULL,
    name         TEXT           NOT NULL,
    created_at   BIGINT         NOT NULL,
    expires_at   BIGINT         NOT NULL,
    last_used_at BIGINT,
    INDEX mfa_devices_by_token (subject, token_hash)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

-- The administrator's policy, as JSON text; at most one row.
CREATE TABLE mfa_policy (
    id     INT        NOT NULL PRIMARY KEY CHECK (id = 1),
    policy MEDIUMTEXT NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

-- Grace deadlines, fixed when a requirement first applies to a subject.
CREATE TABLE mfa_grace (
    subject  VARBINARY(255) NOT NULL PRIMARY KEY,
    fixed_at BIGINT         NOT NULL,
    deadline BIGINT         NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

-- The audit trail.
CREATE TABLE mfa_audit (
    id         BIGINT         NOT NULL AUTO_INCREMENT PRIMARY KEY,
    at         BIGINT         NOT NULL,
    subject    VARBINARY(255),
    actor_kind VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    actor_id   VARBINARY(255),
    action     VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    factor     VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin,
    detail     TEXT,
    INDEX mfa_audit_by_subject (subject, id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

-- One row per subject, locked to serialise multi-row operations
-- (recovery-code replacement, send limits, reset) across instances.
CREATE TABLE mfa_subject_locks (
    subject VARBINARY(255) NOT NULL PRIMARY KEY
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
