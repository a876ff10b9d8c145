//! Every statement the store runs, per dialect. All of them are static
//! strings with bind parameters; nothing is ever assembled from input.
//!
//! SQLite and PostgreSQL share one text for each statement (both accept
//! `$N` parameters, `ON CONFLICT … DO UPDATE`, and `RETURNING` on
//! `INSERT`, `UPDATE` and `DELETE`). MySQL/MariaDB has `?` parameters,
//! `ON DUPLICATE KEY UPDATE` and no `UPDATE … RETURNING`; where the
//! operation code passes an argument twice, a MySQL statement lists the
//! argument numbers its `?`s take, in order.

/// One statement: its text, how many arguments the caller passes, and for
/// `?`-style statements which argument (1-based) each `?` takes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Stmt {
    pub(crate) sql: &'static str,
    /// Number of arguments the operation passes.
    pub(crate) args: usize,
    /// For `?` placeholders: the argument each one takes, in order. Empty:
    /// the arguments in the order given (and for `$N` placeholders).
    pub(crate) order: &'static [usize],
}

/// A statement whose placeholders are `$1…$N`, or `?` taking the
/// arguments in order.
const fn s(args: usize, sql: &'static str) -> Stmt {
    Stmt {
        sql,
        args,
        order: &[],
    }
}

/// A `?` statement whose placeholders take the listed arguments.
#[cfg_attr(not(feature = "mysql"), allow(dead_code))]
const fn p(args: usize, order: &'static [usize], sql: &'static str) -> Stmt {
    Stmt { sql, args, order }
}

/// A statement a dialect never runs (the operation takes another path).
#[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
const UNUSED: Stmt = s(0, "");

/// The statements of one dialect.
#[derive(Debug)]
pub(crate) struct Sql {
    // authenticators
    pub(crate) put_pending: Stmt,
    pub(crate) delete_pending_of_subject: Stmt,
    pub(crate) get_pending: Stmt,
    pub(crate) take_pending: Stmt,
    pub(crate) delete_pending: Stmt,
    pub(crate) insert_totp: Stmt,
    pub(crate) list_totp: Stmt,
    pub(crate) consume_step: Stmt,
    pub(crate) totp_context: Stmt,
    pub(crate) accept_step: Stmt,
    pub(crate) remove_totp: Stmt,
    // serialisation
    pub(crate) lock_subject: Stmt,
    // recovery codes
    pub(crate) count_recovery: Stmt,
    pub(crate) delete_recovery: Stmt,
    pub(crate) insert_recovery: Stmt,
    pub(crate) consume_recovery: Stmt,
    // channels
    pub(crate) add_channel: Stmt,
    pub(crate) remove_channel: Stmt,
    pub(crate) list_channels: Stmt,
    // sent codes
    pub(crate) sends_in_window: Stmt,
    pub(crate) prune_sends: Stmt,
    pub(crate) log_send: Stmt,
    pub(crate) set_sent_code: Stmt,
    pub(crate) accept_sent_code: Stmt,
    pub(crate) reject_sent_code: Stmt,
    pub(crate) sent_code_tries: Stmt,
    pub(crate) delete_sent_codes: Stmt,
    pub(crate) delete_sends: Stmt,
    // throttling
    pub(crate) get_throttle: Stmt,
    pub(crate) bump_failures: Stmt,
    pub(crate) get_failures: Stmt,
    pub(crate) set_lock: Stmt,
    pub(crate) reset_throttle: Stmt,
    pub(crate) delete_throttle: Stmt,
    // devices
    pub(crate) insert_device: Stmt,
    pub(crate) touch_device: Stmt,
    pub(crate) get_live_device: Stmt,
    pub(crate) list_devices: Stmt,
    pub(crate) revoke_device: Stmt,
    pub(crate) revoke_devices: Stmt,
    // policy and grace
    pub(crate) load_policy: Stmt,
    pub(crate) save_policy: Stmt,
    pub(crate) get_grace: Stmt,
    pub(crate) insert_grace: Stmt,
    pub(crate) clear_grace: Stmt,
    // reset
    pub(crate) delete_pending_all: Stmt,
    pub(crate) delete_totp_all: Stmt,
    pub(crate) delete_channels: Stmt,
    // audit
    pub(crate) append_audit: Stmt,
    pub(crate) audit_all: Stmt,
    pub(crate) audit_before: Stmt,
    pub(crate) audit_subject: Stmt,
    pub(crate) audit_subject_before: Stmt,
    // key rotation
    pub(crate) sealed_after: Stmt,
    pub(crate) reseal_pending: Stmt,
    pub(crate) reseal_totp: Stmt,
    // testing: the tables that exist in the store's schema
    #[cfg_attr(not(feature = "testing"), allow(dead_code))]
    pub(crate) list_tables: Stmt,
}

/// SQLite and PostgreSQL.
#[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
const NUMBERED: Sql = Sql {
    put_pending: s(
        9,
        "INSERT INTO mfa_totp_pending \
         (id, subject, sealed_secret, algorithm, digits, period, t0, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (subject) DO UPDATE SET id = excluded.id, \
         sealed_secret = excluded.sealed_secret, algorithm = excluded.algorithm, \
         digits = excluded.digits, period = excluded.period, t0 = excluded.t0, \
         created_at = excluded.created_at, expires_at = excluded.expires_at",
    ),
    delete_pending_of_subject: UNUSED,
    get_pending: s(
        3,
        "SELECT id, subject, sealed_secret, algorithm, digits, period, t0, created_at, expires_at \
         FROM mfa_totp_pending WHERE subject = $1 AND id = $2 AND expires_at > $3",
    ),
    take_pending: s(
        3,
        "DELETE FROM mfa_totp_pending WHERE subject = $1 AND id = $2 AND expires_at > $3 \
         RETURNING id, subject, sealed_secret, algorithm, digits, period, t0, created_at, expires_at",
    ),
    delete_pending: UNUSED,
    insert_totp: s(
        12,
        "INSERT INTO mfa_totp (id, subject, name, sealed_secret, algorithm, digits, period, t0, \
         last_step, drift, created_at, last_used_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    ),
    list_totp: s(
        1,
        "SELECT id, subject, name, sealed_secret, algorithm, digits, period, t0, last_step, drift, \
         created_at, last_used_at FROM mfa_totp WHERE subject = $1 ORDER BY created_at, seq",
    ),
    consume_step: s(
        5,
        "UPDATE mfa_totp SET last_step = $3, drift = $4, last_used_at = $5 \
         WHERE subject = $1 AND id = $2 AND (last_step IS NULL OR last_step < $3)",
    ),
    // The anchor row makes the policy and throttle columns arrive even for
    // a subject with no authenticator (whose columns are then NULL).
    totp_context: s(
        1,
        "SELECT p.policy, t.failures, t.locked_until, \
         c.id, c.subject, c.name, c.sealed_secret, c.algorithm, c.digits, c.period, c.t0, \
         c.last_step, c.drift, c.created_at, c.last_used_at \
         FROM (SELECT 1 AS anchor) AS a \
         LEFT JOIN mfa_policy p ON p.id = 1 \
         LEFT JOIN mfa_throttle t ON t.subject = $1 AND t.factor = 'totp' \
         LEFT JOIN mfa_totp c ON c.subject = $1 \
         ORDER BY c.created_at, c.seq",
    ),
    // SQLite has no data-modifying CTEs: it runs a transaction instead.
    accept_step: UNUSED,
    remove_totp: s(2, "DELETE FROM mfa_totp WHERE subject = $1 AND id = $2"),
    lock_subject: s(
        1,
        "INSERT INTO mfa_subject_locks (subject) VALUES ($1) \
         ON CONFLICT (subject) DO UPDATE SET subject = excluded.subject",
    ),
    count_recovery: s(
        1,
        "SELECT COUNT(*) FROM mfa_recovery_codes WHERE subject = $1",
    ),
    delete_recovery: s(1, "DELETE FROM mfa_recovery_codes WHERE subject = $1"),
    insert_recovery: s(
        3,
        "INSERT INTO mfa_recovery_codes (subject, code_hash, created_at) VALUES ($1, $2, $3)",
    ),
    consume_recovery: s(
        2,
        "DELETE FROM mfa_recovery_codes WHERE subject = $1 AND code_hash = $2",
    ),
    add_channel: s(
        3,
        "INSERT INTO mfa_channels (subject, channel, added_at) VALUES ($1, $2, $3) \
         ON CONFLICT (subject, channel) DO NOTHING",
    ),
    remove_channel: s(
        2,
        "DELETE FROM mfa_channels WHERE subject = $1 AND channel = $2",
    ),
    list_channels: s(
        1,
        "SELECT channel, added_at FROM mfa_channels WHERE subject = $1",
    ),
    sends_in_window: s(
        4,
        "SELECT COUNT(*), MIN(issued_at), MAX(issued_at) FROM mfa_code_sends \
         WHERE subject = $1 AND channel = $2 AND issued_at > $3 AND issued_at <= $4",
    ),
    prune_sends: s(
        3,
        "DELETE FROM mfa_code_sends WHERE subject = $1 AND channel = $2 AND issued_at <= $3",
    ),
    log_send: s(
        3,
        "INSERT INTO mfa_code_sends (subject, channel, issued_at) VALUES ($1, $2, $3)",
    ),
    set_sent_code: s(
        5,
        "INSERT INTO mfa_sent_codes (subject, channel, code_hash, issued_at, expires_at, tries) \
         VALUES ($1, $2, $3, $4, $5, 0) \
         ON CONFLICT (subject, channel) DO UPDATE SET code_hash = excluded.code_hash, \
         issued_at = excluded.issued_at, expires_at = excluded.expires_at, tries = 0",
    ),
    accept_sent_code: s(
        5,
        "DELETE FROM mfa_sent_codes WHERE subject = $1 AND channel = $2 AND code_hash = $3 \
         AND expires_at > $4 AND tries < $5",
    ),
    reject_sent_code: s(
        5,
        "UPDATE mfa_sent_codes SET tries = tries + 1 WHERE subject = $1 AND channel = $2 \
         AND code_hash <> $3 AND expires_at > $4 AND tries < $5 RETURNING tries",
    ),
    sent_code_tries: UNUSED,
    delete_sent_codes: s(1, "DELETE FROM mfa_sent_codes WHERE subject = $1"),
    delete_sends: s(1, "DELETE FROM mfa_code_sends WHERE subject = $1"),
    get_throttle: s(
        2,
        "SELECT failures, locked_until FROM mfa_throttle WHERE subject = $1 AND factor = $2",
    ),
    bump_failures: s(
        2,
        "INSERT INTO mfa_throttle (subject, factor, failures, locked_until) VALUES ($1, $2, 1, NULL) \
         ON CONFLICT (subject, factor) DO UPDATE SET failures = CASE \
         WHEN mfa_throttle.failures < 4294967295 THEN mfa_throttle.failures + 1 \
         ELSE mfa_throttle.failures END \
         RETURNING failures",
    ),
    get_failures: UNUSED,
    set_lock: s(
        3,
        "UPDATE mfa_throttle SET locked_until = $3 WHERE subject = $1 AND factor = $2",
    ),
    reset_throttle: s(
        2,
        "DELETE FROM mfa_throttle WHERE subject = $1 AND factor = $2",
    ),
    delete_throttle: s(1, "DELETE FROM mfa_throttle WHERE subject = $1"),
    insert_device: s(
        7,
        "INSERT INTO mfa_devices (id, subject, token_hash, name, created_at, expires_at, last_used_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    ),
    touch_device: s(
        3,
        "UPDATE mfa_devices SET last_used_at = $3 \
         WHERE subject = $1 AND token_hash = $2 AND expires_at > $3 \
         RETURNING id, subject, token_hash, name, created_at, expires_at, last_used_at",
    ),
    get_live_device: UNUSED,
    list_devices: s(
        2,
        "SELECT id, subject, token_hash, name, created_at, expires_at, last_used_at \
         FROM mfa_devices WHERE subject = $1 AND expires_at > $2 ORDER BY created_at DESC, seq DESC",
    ),
    revoke_device: s(2, "DELETE FROM mfa_devices WHERE subject = $1 AND id = $2"),
    revoke_devices: s(1, "DELETE FROM mfa_devices WHERE subject = $1"),
    load_policy: s(0, "SELECT policy FROM mfa_policy WHERE id = 1"),
    save_policy: s(
        1,
        "INSERT INTO mfa_policy (id, policy) VALUES (1, $1) \
         ON CONFLICT (id) DO UPDATE SET policy = excluded.policy",
    ),
    get_grace: s(
        1,
        "SELECT fixed_at, deadline FROM mfa_grace WHERE subject = $1",
    ),
    insert_grace: s(
        3,
        "INSERT INTO mfa_grace (subject, fixed_at, deadline) VALUES ($1, $2, $3) \
         ON CONFLICT (subject) DO NOTHING",
    ),
    clear_grace: s(1, "DELETE FROM mfa_grace WHERE subject = $1"),
    delete_pending_all: s(1, "DELETE FROM mfa_totp_pending WHERE subject = $1"),
    delete_totp_all: s(1, "DELETE FROM mfa_totp WHERE subject = $1"),
    delete_channels: s(1, "DELETE FROM mfa_channels WHERE subject = $1"),
    append_audit: s(
        7,
        "INSERT INTO mfa_audit (at, subject, actor_kind, actor_id, action, factor, detail) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    ),
    audit_all: s(
        1,
        "SELECT id, at, subject, actor_kind, actor_id, action, factor, detail FROM mfa_audit \
         ORDER BY id DESC LIMIT $1",
    ),
    audit_before: s(
        2,
        "SELECT id, at, subject, actor_kind, actor_id, action, factor, detail FROM mfa_audit \
         WHERE id < $1 ORDER BY id DESC LIMIT $2",
    ),
    audit_subject: s(
        2,
        "SELECT id, at, subject, actor_kind, actor_id, action, factor, detail FROM mfa_audit \
         WHERE subject = $1 ORDER BY id DESC LIMIT $2",
    ),
    audit_subject_before: s(
        3,
        "SELECT id, at, subject, actor_kind, actor_id, action, factor, detail FROM mfa_audit \
         WHERE subject = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
    ),
    sealed_after: s(
        2,
        "SELECT id, subject, sealed_secret FROM mfa_totp WHERE id > $1 \
         UNION ALL SELECT id, subject, sealed_secret FROM mfa_totp_pending WHERE id > $1 \
         ORDER BY id LIMIT $2",
    ),
    reseal_pending: s(
        3,
        "UPDATE mfa_totp_pending SET sealed_secret = $3 WHERE id = $1 AND sealed_secret = $2",
    ),
    reseal_totp: s(
        3,
        "UPDATE mfa_totp SET sealed_secret = $3 WHERE id = $1 AND sealed_secret = $2",
    ),
    list_tables: UNUSED,
};

/// SQLite.
#[cfg(feature = "sqlite")]
pub(crate) const SQLITE: Sql = Sql {
    list_tables: s(
        0,
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
    ),
    ..NUMBERED
};

/// PostgreSQL.
#[cfg(feature = "postgres")]
pub(crate) const POSTGRES: Sql = Sql {
    // One round trip: the compare-and-set, and only if it changed a row
    // (the other parts read its RETURNING), clearing the TOTP failures and
    // appending the audit event. All three commit together.
    accept_step: s(
        12,
        "WITH consumed AS ( \
             UPDATE mfa_totp SET last_step = $3, drift = $4, last_used_at = $5 \
             WHERE subject = $1 AND id = $2 AND (last_step IS NULL OR last_step < $3) \
             RETURNING subject \
         ), cleared AS ( \
             DELETE FROM mfa_throttle WHERE subject = $1 AND factor = 'totp' \
             AND EXISTS (SELECT 1 FROM consumed) \
         ), logged AS ( \
             INSERT INTO mfa_audit (at, subject, actor_kind, actor_id, action, factor, detail) \
             SELECT $6, $7, $8, $9, $10, $11, $12 FROM consumed \
         ) \
         SELECT COUNT(*) FROM consumed",
    ),
    list_tables: s(
        0,
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
    ),
    ..NUMBERED
};

/// MySQL and MariaDB.
#[cfg(feature = "mysql")]
pub(crate) const MYSQL: Sql = Sql {
    put_pending: s(
        9,
        "INSERT INTO mfa_totp_pending \
         (id, subject, sealed_secret, algorithm, digits, period, t0, created_at, expires_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    ),
    delete_pending_of_subject: s(1, "DELETE FROM mfa_totp_pending WHERE subject = ?"),
    get_pending: s(
        3,
        "SELECT id, subject, sealed_secret, algorithm, digits, period, t0, created_at, expires_at \
         FROM mfa_totp_pending WHERE subject = ? AND id = ? AND expires_at > ?",
    ),
    take_pending: s(
        3,
        "SELECT id, subject, sealed_secret, algorithm, digits, period, t0, created_at, expires_at \
         FROM mfa_totp_pending WHERE subject = ? AND id = ? AND expires_at > ? FOR UPDATE",
    ),
    delete_pending: s(
        2,
        "DELETE FROM mfa_totp_pending WHERE subject = ? AND id = ?",
    ),
    insert_totp: s(
        12,
        "INSERT INTO mfa_totp (id, subject, name, sealed_secret, algorithm, digits, period, t0, \
         last_step, drift, created_at, last_used_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    ),
    list_totp: s(
        1,
        "SELECT id, subject, name, sealed_secret, algorithm, digits, period, t0, last_step, drift, \
         created_at, last_used_at FROM mfa_totp WHERE subject = ? ORDER BY created_at, seq",
    ),
    consume_step: p(
        5,
        &[3, 4, 5, 1, 2, 3],
        "UPDATE mfa_totp SET last_step = ?, drift = ?, last_used_at = ? \
         WHERE subject = ? AND id = ? AND (last_step IS NULL OR last_step < ?)",
    ),
    totp_context: p(
        1,
        &[1, 1],
        "SELECT p.policy, t.failures, t.locked_until, \
         c.id, c.subject, c.name, c.sealed_secret, c.algorithm, c.digits, c.period, c.t0, \
         c.last_step, c.drift, c.created_at, c.last_used_at \
         FROM (SELECT 1 AS anchor) AS a \
         LEFT JOIN mfa_policy p ON p.id = 1 \
         LEFT JOIN mfa_throttle t ON t.subject = ? AND t.factor = 'totp' \
         LEFT JOIN mfa_totp c ON c.subject = ? \
         ORDER BY c.created_at, c.seq",
    ),
    // No data-modifying CTEs: a transaction instead.
    accept_step: UNUSED,
    remove_totp: s(2, "DELETE FROM mfa_totp WHERE subject = ? AND id = ?"),
    lock_subject: s(
        1,
        "INSERT INTO mfa_subject_locks (subject) VALUES (?) \
         ON DUPLICATE KEY UPDATE subject = subject",
    ),
    count_recovery: s(
        1,
        "SELECT COUNT(*) FROM mfa_recovery_codes WHERE subject = ?",
    ),
    delete_recovery: s(1, "DELETE FROM mfa_recovery_codes WHERE subject = ?"),
    insert_recovery: s(
        3,
        "INSERT INTO mfa_recovery_codes (subject, code_hash, created_at) VALUES (?, ?, ?)",
    ),
    consume_recovery: s(
        2,
        "DELETE FROM mfa_recovery_codes WHERE subject = ? AND code_hash = ?",
    ),
    // A duplicate is reported as a unique violation, which the operation
    // turns into `false` (`INSERT IGNORE` would also hide other errors).
    add_channel: s(
        3,
        "INSERT INTO mfa_channels (subject, channel, added_at) VALUES (?, ?, ?)",
    ),
    remove_channel: s(
        2,
        "DELETE FROM mfa_channels WHERE subject = ? AND channel = ?",
    ),
    list_channels: s(
        1,
        "SELECT channel, added_at FROM mfa_channels WHERE subject = ?",
    ),
    sends_in_window: s(
        4,
        "SELECT COUNT(*), MIN(issued_at), MAX(issued_at) FROM mfa_code_sends \
         WHERE subject = ? AND channel = ? AND issued_at > ? AND issued_at <= ?",
    ),
    prune_sends: s(
        3,
        "DELETE FROM mfa_code_sends WHERE subject = ? AND channel = ? AND issued_at <= ?",
    ),
    log_send: s(
        3,
        "INSERT INTO mfa_code_sends (subject, channel, issued_at) VALUES (?, ?, ?)",
    ),
    set_sent_code: s(
        5,
        "INSERT INTO mfa_sent_codes (subject, channel, code_hash, issued_at, expires_at, tries) \
         VALUES (?, ?, ?, ?, ?, 0) \
         ON DUPLICATE KEY UPDATE code_hash = VALUES(code_hash), issued_at = VALUES(issued_at), \
         expires_at = VALUES(expires_at), tries = 0",
    ),
    accept_sent_code: s(
        5,
        "DELETE FROM mfa_sent_codes WHERE subject = ? AND channel = ? AND code_hash = ? \
         AND expires_at > ? AND tries < ?",
    ),
    reject_sent_code: s(
        5,
        "UPDATE mfa_sent_codes SET tries = tries + 1 WHERE subject = ? AND channel = ? \
         AND code_hash <> ? AND expires_at > ? AND tries < ?",
    ),
    sent_code_tries: s(
        2,
        "SELECT tries FROM mfa_sent_codes WHERE subject = ? AND channel = ?",
    ),
    delete_sent_codes: s(1, "DELETE FROM mfa_sent_codes WHERE subject = ?"),
    delete_sends: s(1, "DELETE FROM mfa_code_sends WHERE subject = ?"),
    get_throttle: s(
        2,
        "SELECT failures, locked_until FROM mfa_throttle WHERE subject = ? AND factor = ?",
    ),
    bump_failures: s(
        2,
        "INSERT INTO mfa_throttle (subject, factor, failures, locked_until) VALUES (?, ?, 1, NULL) \
         ON DUPLICATE KEY UPDATE failures = IF(failures < 4294967295, failures + 1, failures)",
    ),
    get_failures: s(
        2,
        "SELECT failures FROM mfa_throttle WHERE subject = ? AND factor = ?",
    ),
    set_lock: p(
        3,
        &[3, 1, 2],
        "UPDATE mfa_throttle SET locked_until = ? WHERE subject = ? AND factor = ?",
    ),
    reset_throttle: s(
        2,
        "DELETE FROM mfa_throttle WHERE subject = ? AND factor = ?",
    ),
    delete_throttle: s(1, "DELETE FROM mfa_throttle WHERE subject = ?"),
    insert_device: s(
        7,
        "INSERT INTO mfa_devices (id, subject, token_hash, name, created_at, expires_at, last_used_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    ),
    touch_device: p(
        3,
        &[3, 1, 2, 3],
        "UPDATE mfa_devices SET last_used_at = ? \
         WHERE subject = ? AND token_hash = ? AND expires_at > ?",
    ),
    get_live_device: s(
        3,
        "SELECT id, subject, token_hash, name, created_at, expires_at, last_used_at \
         FROM mfa_devices WHERE subject = ? AND token_hash = ? AND expires_at > ? \
         ORDER BY seq LIMIT 1",
    ),
    list_devices: s(
        2,
        "SELECT id, subject, token_hash, name, created_at, expires_at, last_used_at \
         FROM mfa_devices WHERE subject = ? AND expires_at > ? ORDER BY created_at DESC, seq DESC",
    ),
    revoke_device: s(2, "DELETE FROM mfa_devices WHERE subject = ? AND id = ?"),
    revoke_devices: s(1, "DELETE FROM mfa_devices WHERE subject = ?"),
    load_policy: s(0, "SELECT policy FROM mfa_policy WHERE id = 1"),
    save_policy: s(
        1,
        "INSERT INTO mfa_policy (id, policy) VALUES (1, ?) \
         ON DUPLICATE KEY UPDATE policy = VALUES(policy)",
    ),
    get_grace: s(
        1,
        "SELECT fixed_at, deadline FROM mfa_grace WHERE subject = ?",
    ),
    // A duplicate is a unique violation, which the operation ignores.
    insert_grace: s(
        3,
        "INSERT INTO mfa_grace (subject, fixed_at, deadline) VALUES (?, ?, ?)",
    ),
    clear_grace: s(1, "DELETE FROM mfa_grace WHERE subject = ?"),
    delete_pending_all: s(1, "DELETE FROM mfa_totp_pending WHERE subject = ?"),
    delete_totp_all: s(1, "DELETE FROM mfa_totp WHERE subject = ?"),
    delete_channels: s(1, "DELETE FROM mfa_channels WHERE subject = ?"),
    append_audit: s(
        7,
        "INSERT INTO mfa_audit (at, subject, actor_kind, actor_id, action, factor, detail) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    ),
    audit_all: s(
        1,
        "SELECT id, at, subject, actor_kind, actor_id, action, factor, detail FROM mfa_audit \
         ORDER BY id DESC LIMIT ?",
    ),
    audit_before: s(
        2,
        "SELECT id, at, subject, actor_kind, actor_id, action, factor, detail FROM mfa_audit \
         WHERE id < ? ORDER BY id DESC LIMIT ?",
    ),
    audit_subject: s(
        2,
        "SELECT id, at, subject, actor_kind, actor_id, action, factor, detail FROM mfa_audit \
         WHERE subject = ? ORDER BY id DESC LIMIT ?",
    ),
    audit_subject_before: s(
        3,
        "SELECT id, at, subject, actor_kind, actor_id, action, factor, detail FROM mfa_audit \
         WHERE subject = ? AND id < ? ORDER BY id DESC LIMIT ?",
    ),
    sealed_after: p(
        2,
        &[1, 1, 2],
        "(SELECT id, subject, sealed_secret FROM mfa_totp WHERE id > ?) \
         UNION ALL (SELECT id, subject, sealed_secret FROM mfa_totp_pending WHERE id > ?) \
         ORDER BY id LIMIT ?",
    ),
    reseal_pending: p(
        3,
        &[3, 1, 2],
        "UPDATE mfa_totp_pending SET sealed_secret = ? WHERE id = ? AND sealed_secret = ?",
    ),
    reseal_totp: p(
        3,
        &[3, 1, 2],
        "UPDATE mfa_totp SET sealed_secret = ? WHERE id = ? AND sealed_secret = ?",
    ),
    list_tables: s(
        0,
        "SELECT CAST(table_name AS CHAR(255)) FROM information_schema.tables \
         WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'",
    ),
};

/// The crate's data tables, each with a statement reading all of it (for
/// [`dump_all_tables`](crate::SqliteStore::dump_all_tables) and its kin).
#[cfg(feature = "testing")]
pub(crate) const DUMP: &[(&str, &str)] = &[
    ("mfa_totp_pending", "SELECT * FROM mfa_totp_pending"),
    ("mfa_totp", "SELECT * FROM mfa_totp"),
    ("mfa_recovery_codes", "SELECT * FROM mfa_recovery_codes"),
    ("mfa_channels", "SELECT * FROM mfa_channels"),
    ("mfa_sent_codes", "SELECT * FROM mfa_sent_codes"),
    ("mfa_code_sends", "SELECT * FROM mfa_code_sends"),
    ("mfa_throttle", "SELECT * FROM mfa_throttle"),
    ("mfa_devices", "SELECT * FROM mfa_devices"),
    ("mfa_policy", "SELECT * FROM mfa_policy"),
    ("mfa_grace", "SELECT * FROM mfa_grace"),
    ("mfa_audit", "SELECT * FROM mfa_audit"),
    ("mfa_subject_locks", "SELECT * FROM mfa_subject_locks"),
];

/// The migrations table: kept apart from the host application's.
pub(crate) const MIGRATIONS_TABLE: &str = "_mfa_migrations";

#[cfg(test)]
mod tests {
    use super::*;

    fn check_numbered(name: &str, sql: &Sql) {
        for (field, stmt) in fields(sql) {
            if stmt.sql.is_empty() {
                continue;
            }
            assert!(
                stmt.order.is_empty(),
                "{name}.{field}: $N statements take no order"
            );
            assert!(
                !stmt.sql.contains('?'),
                "{name}.{field}: uses ? placeholders"
            );
            for n in 1..=stmt.args {
                assert!(
                    stmt.sql.contains(&format!("${n}")),
                    "{name}.{field}: argument ${n} is never used"
                );
            }
            assert!(
                !stmt.sql.contains(&format!("${}", stmt.args + 1)),
                "{name}.{field}: uses more than {} arguments",
                stmt.args
            );
        }
    }

    #[cfg(feature = "mysql")]
    #[test]
    fn mysql_placeholders_match_the_arguments() {
        for (field, stmt) in fields(&MYSQL) {
            if stmt.sql.is_empty() {
                continue;
            }
            assert!(
                !stmt.sql.contains('$'),
                "mysql.{field}: uses $N placeholders"
            );
            let marks = stmt.sql.matches('?').count();
            if stmt.order.is_empty() {
                assert_eq!(marks, stmt.args, "mysql.{field}: placeholders");
            } else {
                assert_eq!(marks, stmt.order.len(), "mysql.{field}: placeholders");
                for n in 1..=stmt.args {
                    assert!(
                        stmt.order.contains(&n),
                        "mysql.{field}: argument {n} unused"
                    );
                }
                assert!(stmt.order.iter().all(|n| (1..=stmt.args).contains(n)));
            }
        }
    }

    #[test]
    fn numbered_placeholders_match_the_arguments() {
        check_numbered("numbered", &NUMBERED);
    }

    #[cfg(feature = "mysql")]
    #[test]
    fn every_statement_a_dialect_runs_exists_in_it() {
        // Fields only MySQL runs are UNUSED elsewhere, and vice versa.
        for ((field, numbered), (_, mysql)) in fields(&NUMBERED).into_iter().zip(fields(&MYSQL)) {
            let only_mysql = [
                "delete_pending_of_subject",
                "delete_pending",
                "sent_code_tries",
                "get_failures",
                "get_live_device",
            ];
            // PostgreSQL-only statements (SQLite and MySQL take a
            // transaction instead).
            if field == "accept_step" {
                continue;
            }
            assert!(!mysql.sql.is_empty(), "mysql.{field} missing");
            if field != "list_tables" {
                assert_eq!(
                    numbered.sql.is_empty(),
                    only_mysql.contains(&field),
                    "numbered.{field}"
                );
            }
        }
    }

    fn fields(sql: &Sql) -> Vec<(&'static str, Stmt)> {
        macro_rules! all {
            ($($f:ident),* $(,)?) => { vec![$((stringify!($f), sql.$f)),*] };
        }
        all![
            put_pending,
            delete_pending_of_subject,
            get_pending,
            take_pending,
            delete_pending,
            insert_totp,
            list_totp,
            consume_step,
            totp_context,
            accept_step,
            remove_totp,
            lock_subject,
            count_recovery,
            delete_recovery,
            insert_recovery,
            consume_recovery,
            add_channel,
            remove_channel,
            list_channels,
            sends_in_window,
            prune_sends,
            log_send,
            set_sent_code,
            accept_sent_code,
            reject_sent_code,
            sent_code_tries,
            delete_sent_codes,
            delete_sends,
            get_throttle,
            bump_failures,
            get_failures,
            set_lock,
            reset_throttle,
            delete_throttle,
            insert_device,
            touch_device,
            get_live_device,
            list_devices,
            revoke_device,
            revoke_devices,
            load_policy,
            save_policy,
            get_grace,
            insert_grace,
            clear_grace,
            delete_pending_all,
            delete_totp_all,
            delete_channels,
            append_audit,
            audit_all,
            audit_before,
            audit_subject,
            audit_subject_before,
            sealed_after,
            reseal_pending,
            reseal_totp,
            list_tables,
        ]
    }
}
