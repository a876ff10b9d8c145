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
    pub(crate) insert_channel: Stmt,
    pub(crate) update_channel: Stmt,
    pub(crate) get_channel: Stmt,
    pub(crate) remove_channel: Stmt,
    pub(crate) list_channels: Stmt,
    pub(crate) drop_unregistered_codes: Stmt,
    pub(crate) count_totp: Stmt,
    pub(crate) totp_exists: Stmt,
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
    pub(crate) get_throttle_locked: Stmt,
    pub(crate) ensure_throttle: Stmt,
    pub(crate) put_throttle: Stmt,
    pub(crate) charge: Stmt,
    pub(crate) begin_totp: Stmt,
    pub(crate) settle_succeed: Stmt,
    pub(crate) settle_refund: Stmt,
    pub(crate) unblock_others: Stmt,
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
    delete_pending_of_subject: s(1, "DELETE FROM mfa_totp_pending WHERE subject = $1"),
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
    insert_channel: s(
        5,
        "INSERT INTO mfa_channels (subject, channel, added_at, address_hash, sealed_address) \
         VALUES ($1, $2, $3, $4, $5)",
    ),
    update_channel: s(
        5,
        "UPDATE mfa_channels SET added_at = $3, address_hash = $4, sealed_address = $5 \
         WHERE subject = $1 AND channel = $2",
    ),
    get_channel: s(
        2,
        "SELECT channel, added_at, address_hash, sealed_address FROM mfa_channels \
         WHERE subject = $1 AND channel = $2",
    ),
    remove_channel: s(
        2,
        "DELETE FROM mfa_channels WHERE subject = $1 AND channel = $2",
    ),
    list_channels: s(
        1,
        "SELECT channel, added_at, address_hash, sealed_address FROM mfa_channels \
         WHERE subject = $1",
    ),
    drop_unregistered_codes: s(
        1,
        "DELETE FROM mfa_sent_codes WHERE subject = $1 \
         AND channel NOT IN (SELECT channel FROM mfa_channels WHERE subject = $1)",
    ),
    count_totp: s(1, "SELECT COUNT(*) FROM mfa_totp WHERE subject = $1"),
    totp_exists: s(2, "SELECT 1 FROM mfa_totp WHERE subject = $1 AND id = $2"),
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
        "SELECT failures, locked_until, recent, last_charge_at, refused, refused_before \
         FROM mfa_throttle WHERE subject = $1 AND factor = $2",
    ),
    // SQLite: `BEGIN IMMEDIATE` already holds the write lock.
    get_throttle_locked: s(
        2,
        "SELECT failures, locked_until, recent, last_charge_at, refused, refused_before \
         FROM mfa_throttle WHERE subject = $1 AND factor = $2",
    ),
    ensure_throttle: s(
        2,
        "INSERT INTO mfa_throttle \
         (subject, factor, failures, locked_until, recent, last_charge_at, refused, refused_before) \
         VALUES ($1, $2, 0, NULL, 0, NULL, 0, 0) ON CONFLICT (subject, factor) DO NOTHING",
    ),
    put_throttle: s(
        8,
        "UPDATE mfa_throttle SET failures = $3, locked_until = $4, recent = $5, \
         last_charge_at = $6, refused = $7, refused_before = $8 \
         WHERE subject = $1 AND factor = $2",
    ),
    // `ThrottleRule::charge` in one upsert, as for PostgreSQL (see there);
    // SQLite spells `LEAST` `MIN` and needs no casts.
    charge: s(
        8,
        "INSERT INTO mfa_throttle AS t \
         (subject, factor, failures, locked_until, recent, last_charge_at, refused, refused_before) \
         VALUES ($1, $2, 1, $8, 1, $3, 0, 0) \
         ON CONFLICT (subject, factor) DO UPDATE SET \
         failures = CASE WHEN (t.failures < $7 AND (t.locked_until IS NULL OR t.locked_until <= $3)) THEN t.failures + 1 ELSE t.failures END, \
         locked_until = CASE WHEN NOT (t.failures < $7 AND (t.locked_until IS NULL OR t.locked_until <= $3)) THEN t.locked_until \
             WHEN t.failures + 1 < $4 THEN NULL \
             WHEN $5 > $6 / (1 << MIN(t.failures + 1 - $4, 31)) THEN $3 + $6 \
             ELSE $3 + $5 * (1 << MIN(t.failures + 1 - $4, 31)) END, \
         recent = CASE WHEN NOT (t.failures < $7 AND (t.locked_until IS NULL OR t.locked_until <= $3)) THEN t.recent \
             WHEN t.last_charge_at IS NOT NULL AND $3 < t.last_charge_at + $5 THEN t.recent + 1 \
             ELSE 1 END, \
         last_charge_at = CASE WHEN (t.failures < $7 AND (t.locked_until IS NULL OR t.locked_until <= $3)) THEN $3 ELSE t.last_charge_at END, \
         refused_before = CASE WHEN (t.failures < $7 AND (t.locked_until IS NULL OR t.locked_until <= $3)) THEN t.refused ELSE t.refused_before END, \
         refused = CASE WHEN (t.failures < $7 AND (t.locked_until IS NULL OR t.locked_until <= $3)) THEN 0 ELSE t.refused + 1 END \
         RETURNING failures, locked_until, recent, last_charge_at, refused, refused_before",
    ),
    // PostgreSQL only: SQLite has no data-modifying CTEs.
    begin_totp: UNUSED,
    // `ThrottleRule::succeed`: r = min(recent, failures) - 1 (at least 0)
    // becomes both counts; the lock stays only if r >= free failures ($3).
    settle_succeed: s(
        3,
        "UPDATE mfa_throttle SET \
         failures = CASE WHEN recent < failures THEN \
             (CASE WHEN recent > 0 THEN recent - 1 ELSE 0 END) \
             ELSE (CASE WHEN failures > 0 THEN failures - 1 ELSE 0 END) END, \
         recent = CASE WHEN recent < failures THEN \
             (CASE WHEN recent > 0 THEN recent - 1 ELSE 0 END) \
             ELSE (CASE WHEN failures > 0 THEN failures - 1 ELSE 0 END) END, \
         locked_until = CASE WHEN (CASE WHEN recent < failures THEN recent ELSE failures END) - 1 >= $3 \
             THEN locked_until ELSE NULL END \
         WHERE subject = $1 AND factor = $2",
    ),
    // `ThrottleRule::refund`: one charge back; the lock stays only if the
    // count stays at or above the free failures ($3).
    settle_refund: s(
        3,
        "UPDATE mfa_throttle SET \
         failures = CASE WHEN failures > 0 THEN failures - 1 ELSE 0 END, \
         recent = CASE WHEN recent >= failures THEN \
             (CASE WHEN failures > 0 THEN failures - 1 ELSE 0 END) \
             WHEN recent > 0 THEN recent - 1 ELSE 0 END, \
         locked_until = CASE WHEN failures - 1 >= $3 THEN locked_until ELSE NULL END \
         WHERE subject = $1 AND factor = $2",
    ),
    unblock_others: s(
        3,
        "DELETE FROM mfa_throttle WHERE subject = $1 AND factor <> $2 AND failures >= $3",
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
    // `ThrottleRule::charge` in one upsert: $1 subject, $2 kind, $3 now,
    // $4 free failures (at least 1), $5 base lock, $6 longest lock (both
    // in seconds), $7 failures that block, $8 the lock after a first
    // charge. Every SET expression reads the row as it was (PostgreSQL
    // evaluates them all against the old row, after locking it), so a
    // refused attempt only counts as refused. A charge returns
    // `refused = 0`; a refusal at least 1.
    charge: s(
        8,
        "INSERT INTO mfa_throttle AS t \
         (subject, factor, failures, locked_until, recent, last_charge_at, refused, refused_before) \
         VALUES ($1, $2, 1, $8, 1, $3, 0, 0) \
         ON CONFLICT (subject, factor) DO UPDATE SET \
         failures = CASE WHEN (t.failures < $7 AND (t.locked_until IS NULL OR t.locked_until <= $3)) THEN t.failures + 1 ELSE t.failures END, \
         locked_until = CASE WHEN NOT (t.failures < $7 AND (t.locked_until IS NULL OR t.locked_until <= $3)) THEN t.locked_until \
             WHEN t.failures + 1 < $4 THEN NULL \
             WHEN $5 > $6 / (1::bigint << LEAST(t.failures + 1 - $4, 31)::int) THEN $3 + $6 \
             ELSE $3 + $5 * (1::bigint << LEAST(t.failures + 1 - $4, 31)::int) END, \
         recent = CASE WHEN NOT (t.failures < $7 AND (t.locked_until IS NULL OR t.locked_until <= $3)) THEN t.recent \
             WHEN t.last_charge_at IS NOT NULL AND $3 < t.last_charge_at + $5 THEN t.recent + 1 \
             ELSE 1 END, \
         last_charge_at = CASE WHEN (t.failures < $7 AND (t.locked_until IS NULL OR t.locked_until <= $3)) THEN $3 ELSE t.last_charge_at END, \
         refused_before = CASE WHEN (t.failures < $7 AND (t.locked_until IS NULL OR t.locked_until <= $3)) THEN t.refused ELSE t.refused_before END, \
         refused = CASE WHEN (t.failures < $7 AND (t.locked_until IS NULL OR t.locked_until <= $3)) THEN 0 ELSE t.refused + 1 END \
         RETURNING failures, locked_until, recent, last_charge_at, refused, refused_before",
    ),
    // The charge, then the policy and the authenticators, in one round
    // trip: the sign-in's first statement.
    begin_totp: s(
        8,
        "WITH ch AS (INSERT INTO mfa_throttle AS t \
         (subject, factor, failures, locked_until, recent, last_charge_at, refused, refused_before) \
         VALUES ($1, $2, 1, $8, 1, $3, 0, 0) \
         ON CONFLICT (subject, factor) DO UPDATE SET \
         failures = CASE WHEN (t.failures < $7 AND (t.locked_until IS NULL OR t.locked_until <= $3)) THEN t.failures + 1 ELSE t.failures END, \
         locked_until = CASE WHEN NOT (t.failures < $7 AND (t.locked_until IS NULL OR t.locked_until <= $3)) THEN t.locked_until \
             WHEN t.failures + 1 < $4 THEN NULL \
             WHEN $5 > $6 / (1::bigint << LEAST(t.failures + 1 - $4, 31)::int) THEN $3 + $6 \
             ELSE $3 + $5 * (1::bigint << LEAST(t.failures + 1 - $4, 31)::int) END, \
         recent = CASE WHEN NOT (t.failures < $7 AND (t.locked_until IS NULL OR t.locked_until <= $3)) THEN t.recent \
             WHEN t.last_charge_at IS NOT NULL AND $3 < t.last_charge_at + $5 THEN t.recent + 1 \
             ELSE 1 END, \
         last_charge_at = CASE WHEN (t.failures < $7 AND (t.locked_until IS NULL OR t.locked_until <= $3)) THEN $3 ELSE t.last_charge_at END, \
         refused_before = CASE WHEN (t.failures < $7 AND (t.locked_until IS NULL OR t.locked_until <= $3)) THEN t.refused ELSE t.refused_before END, \
         refused = CASE WHEN (t.failures < $7 AND (t.locked_until IS NULL OR t.locked_until <= $3)) THEN 0 ELSE t.refused + 1 END \
         RETURNING failures, locked_until, recent, last_charge_at, refused, refused_before) \
         SELECT p.policy, ch.failures, ch.locked_until, ch.recent, ch.last_charge_at, \
         ch.refused, ch.refused_before, \
         c.id, c.subject, c.name, c.sealed_secret, c.algorithm, c.digits, c.period, c.t0, \
         c.last_step, c.drift, c.created_at, c.last_used_at \
         FROM ch LEFT JOIN mfa_policy p ON p.id = 1 \
         LEFT JOIN mfa_totp c ON c.subject = $1 \
         ORDER BY c.created_at, c.seq",
    ),
    // One round trip: the compare-and-set, and only if it changed a row
    // (the other parts read its RETURNING), settling the TOTP charge as a
    // success ($13 free failures), unblocking the other kinds ($14 failures
    // that block) and appending the audit event. All commit together.
    accept_step: s(
        14,
        "WITH consumed AS ( \
             UPDATE mfa_totp SET last_step = $3, drift = $4, last_used_at = $5 \
             WHERE subject = $1 AND id = $2 AND (last_step IS NULL OR last_step < $3) \
             RETURNING subject \
         ), settled AS ( \
             UPDATE mfa_throttle SET failures = (CASE WHEN recent < failures THEN (CASE WHEN recent > 0 THEN recent - 1 ELSE 0 END) ELSE (CASE WHEN failures > 0 THEN failures - 1 ELSE 0 END) END), \
             recent = (CASE WHEN recent < failures THEN (CASE WHEN recent > 0 THEN recent - 1 ELSE 0 END) ELSE (CASE WHEN failures > 0 THEN failures - 1 ELSE 0 END) END), \
             locked_until = CASE WHEN (CASE WHEN recent < failures THEN recent ELSE failures END) - 1 >= $13 \
                 THEN locked_until ELSE NULL END \
             WHERE subject = $1 AND factor = 'totp' AND EXISTS (SELECT 1 FROM consumed) \
         ), unblocked AS ( \
             DELETE FROM mfa_throttle WHERE subject = $1 AND factor <> 'totp' AND failures >= $14 \
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
    insert_channel: s(
        5,
        "INSERT INTO mfa_channels (subject, channel, added_at, address_hash, sealed_address) \
         VALUES (?, ?, ?, ?, ?)",
    ),
    update_channel: p(
        5,
        &[3, 4, 5, 1, 2],
        "UPDATE mfa_channels SET added_at = ?, address_hash = ?, sealed_address = ? \
         WHERE subject = ? AND channel = ?",
    ),
    get_channel: s(
        2,
        "SELECT channel, added_at, address_hash, sealed_address FROM mfa_channels \
         WHERE subject = ? AND channel = ?",
    ),
    remove_channel: s(
        2,
        "DELETE FROM mfa_channels WHERE subject = ? AND channel = ?",
    ),
    list_channels: s(
        1,
        "SELECT channel, added_at, address_hash, sealed_address FROM mfa_channels \
         WHERE subject = ?",
    ),
    drop_unregistered_codes: p(
        1,
        &[1, 1],
        "DELETE FROM mfa_sent_codes WHERE subject = ? \
         AND channel NOT IN (SELECT channel FROM mfa_channels WHERE subject = ?)",
    ),
    count_totp: s(1, "SELECT COUNT(*) FROM mfa_totp WHERE subject = ?"),
    totp_exists: s(2, "SELECT 1 FROM mfa_totp WHERE subject = ? AND id = ?"),
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
        "SELECT failures, locked_until, recent, last_charge_at, refused, refused_before \
         FROM mfa_throttle WHERE subject = ? AND factor = ?",
    ),
    get_throttle_locked: s(
        2,
        "SELECT failures, locked_until, recent, last_charge_at, refused, refused_before \
         FROM mfa_throttle WHERE subject = ? AND factor = ? FOR UPDATE",
    ),
    // Not `INSERT IGNORE`: its shared lock on an existing row, upgraded by
    // the `FOR UPDATE` that follows, deadlocks concurrent charges. This
    // takes the exclusive lock at once.
    ensure_throttle: s(
        2,
        "INSERT INTO mfa_throttle \
         (subject, factor, failures, locked_until, recent, last_charge_at, refused, refused_before) \
         VALUES (?, ?, 0, NULL, 0, NULL, 0, 0) ON DUPLICATE KEY UPDATE subject = subject",
    ),
    put_throttle: p(
        8,
        &[3, 4, 5, 6, 7, 8, 1, 2],
        "UPDATE mfa_throttle SET failures = ?, locked_until = ?, recent = ?, \
         last_charge_at = ?, refused = ?, refused_before = ? \
         WHERE subject = ? AND factor = ?",
    ),
    charge: UNUSED,
    begin_totp: UNUSED,
    // MySQL assigns left to right and later expressions see earlier
    // assignments: the lock first (old counts), then `recent`, then
    // `failures = recent` (the new value, which is the same number).
    settle_succeed: p(
        3,
        &[3, 1, 2],
        "UPDATE mfa_throttle SET \
         locked_until = CASE WHEN (CASE WHEN recent < failures THEN recent ELSE failures END) - 1 >= ? \
             THEN locked_until ELSE NULL END, \
         recent = CASE WHEN recent < failures THEN \
             (CASE WHEN recent > 0 THEN recent - 1 ELSE 0 END) \
             ELSE (CASE WHEN failures > 0 THEN failures - 1 ELSE 0 END) END, \
         failures = recent \
         WHERE subject = ? AND factor = ?",
    ),
    // Left to right: the lock and `recent` read the old `failures`, which
    // is assigned last.
    settle_refund: p(
        3,
        &[3, 1, 2],
        "UPDATE mfa_throttle SET \
         locked_until = CASE WHEN failures - 1 >= ? THEN locked_until ELSE NULL END, \
         recent = CASE WHEN recent >= failures THEN \
             (CASE WHEN failures > 0 THEN failures - 1 ELSE 0 END) \
             WHEN recent > 0 THEN recent - 1 ELSE 0 END, \
         failures = CASE WHEN failures > 0 THEN failures - 1 ELSE 0 END \
         WHERE subject = ? AND factor = ?",
    ),
    unblock_others: s(
        3,
        "DELETE FROM mfa_throttle WHERE subject = ? AND factor <> ? AND failures >= ?",
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
            let only_mysql = ["delete_pending", "sent_code_tries", "get_live_device"];
            // Statements MySQL does not run (it takes a transaction
            // instead): the one-statement charge, and PostgreSQL's CTEs.
            if ["accept_step", "begin_totp", "charge"].contains(&field) {
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
            insert_channel,
            update_channel,
            get_channel,
            remove_channel,
            list_channels,
            drop_unregistered_codes,
            count_totp,
            totp_exists,
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
            get_throttle_locked,
            ensure_throttle,
            put_throttle,
            charge,
            begin_totp,
            settle_succeed,
            settle_refund,
            unblock_others,
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
