//! Every statement the store runs. All of them are static strings with
//! bind parameters; nothing is ever assembled from input.
//!
//! Every statement is written with numbered placeholders (`$1`, `$2`, …),
//! which SQLite and PostgreSQL take as they are. MySQL/MariaDB only has
//! `?`: [`text_for`] turns each `$N` into `?` and binds argument N there,
//! so one text serves all three engines wherever their SQL agrees: those
//! are the constants here. Where it does not (MySQL has `ON DUPLICATE KEY`
//! for `ON CONFLICT`, and no `UPDATE … RETURNING`), each engine's
//! [`Dialect`] has its own text, and a statement only some engines have is
//! an `Option` (or a [`ChargeSql`] variant): the operation takes another
//! path where it is `None`. Texts that several statements share are
//! macros, joined with `concat!` at compile time.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

use crate::engine::EngineKind;

/// The statements in which the engines differ (the others are constants).
#[derive(Debug)]
pub(crate) struct Dialect {
    /// `None` on MySQL, which deletes and inserts under the subject lock.
    pub(crate) upsert_pending: Option<&'static str>,
    /// Returns the unexpired pending row: deletes it (`DELETE … RETURNING`)
    /// or, on MySQL, locks it (`SELECT … FOR UPDATE`) for
    /// `delete_taken_pending`.
    pub(crate) take_pending: &'static str,
    pub(crate) delete_taken_pending: Option<&'static str>,
    /// PostgreSQL: the charge and the context in one statement.
    pub(crate) charge_and_totp_context: Option<&'static str>,
    /// PostgreSQL: consume, settle and audit in one statement.
    pub(crate) accept_step: Option<&'static str>,
    /// Serialisation: the subject's row in `mfa_subject_locks`.
    pub(crate) lock_subject: &'static str,
    pub(crate) set_sent_code: &'static str,
    /// Counts a wrong guess, `RETURNING tries` (MySQL: see
    /// `read_sent_code_tries`).
    pub(crate) reject_sent_code: &'static str,
    pub(crate) read_sent_code_tries: Option<&'static str>,
    pub(crate) charge: ChargeSql,
    pub(crate) settle_succeed: &'static str,
    /// Touches a live device `RETURNING` it (MySQL: see
    /// `read_touched_device`).
    pub(crate) touch_device: &'static str,
    pub(crate) read_touched_device: Option<&'static str>,
    pub(crate) save_policy: &'static str,
    pub(crate) insert_grace: &'static str,
    pub(crate) sealed_after: &'static str,
    /// Testing: the tables that exist in the store's schema.
    #[cfg_attr(not(feature = "testing"), allow(dead_code))]
    pub(crate) list_tables: &'static str,
}

/// How `charge_attempt` charges an attempt.
#[derive(Debug)]
pub(crate) enum ChargeSql {
    /// One upsert applying `ThrottleRule::charge` in SQL, `RETURNING` the
    /// new row (SQLite, PostgreSQL).
    Upsert(&'static str),
    /// MySQL, whose `SET` expressions see earlier assignments: in a
    /// transaction, make sure the row exists, read it `FOR UPDATE`, apply
    /// the rule in Rust and write the result.
    ReadModifyWrite {
        ensure: &'static str,
        read: &'static str,
        write: &'static str,
    },
}

/// The statements of `engine` in which the engines differ.
pub(crate) fn dialect(engine: EngineKind) -> &'static Dialect {
    match engine {
        EngineKind::Sqlite => &SQLITE,
        EngineKind::Postgres => &POSTGRES,
        EngineKind::MySql => &MYSQL,
    }
}

/// The text to send to `engine`, and the argument (1-based) each `?`
/// takes; empty for `$N` placeholders, which take the arguments in order.
/// The `?` form of each statement is made on first use and kept.
#[cfg_attr(not(any_engine), allow(dead_code))]
pub(crate) fn text_for(engine: EngineKind, sql: &'static str) -> (&'static str, &'static [usize]) {
    type Made = BTreeMap<&'static str, (&'static str, &'static [usize])>;
    static QUESTION_MARKS: Mutex<Made> = Mutex::new(BTreeMap::new());
    if engine != EngineKind::MySql {
        return (sql, &[]);
    }
    let mut made = QUESTION_MARKS
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    *made.entry(sql).or_insert_with(|| {
        // Bounded: one entry per statement in this file.
        let (text, order) = question_marks(sql);
        (
            Box::leak(text.into_boxed_str()),
            Box::leak(order.into_boxed_slice()),
        )
    })
}

/// `sql` with each `$N` replaced by `?`, and the Ns in order.
#[cfg_attr(not(any_engine), allow(dead_code))]
fn question_marks(sql: &str) -> (String, Vec<usize>) {
    let mut text = String::with_capacity(sql.len());
    let mut order = Vec::new();
    let mut rest = sql;
    while let Some(dollar) = rest.find('$') {
        text.push_str(&rest[..dollar]);
        let after = &rest[dollar + 1..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        match after[..digits].parse() {
            Ok(n) => {
                text.push('?');
                order.push(n);
            }
            Err(_) => text.push('$'),
        }
        rest = &after[digits..];
    }
    text.push_str(rest);
    (text, order)
}

/// The highest `$N` in `sql`: the number of arguments it takes.
#[cfg_attr(not(any_engine), allow(dead_code))]
pub(crate) fn argument_count(sql: &str) -> usize {
    question_marks(sql).1.into_iter().max().unwrap_or(0)
}

pub(crate) const INSERT_PENDING: &str = "INSERT INTO mfa_totp_pending \
     (id, subject, sealed_secret, algorithm, digits, period, t0, created_at, expires_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
pub(crate) const DELETE_PENDING_OF_SUBJECT: &str = "DELETE FROM mfa_totp_pending \
     WHERE subject = $1";
pub(crate) const GET_PENDING: &str = "SELECT id, subject, sealed_secret, algorithm, digits, \
     period, t0, created_at, expires_at FROM mfa_totp_pending \
     WHERE subject = $1 AND id = $2 AND expires_at > $3";
pub(crate) const INSERT_TOTP: &str = "INSERT INTO mfa_totp (id, subject, name, sealed_secret, \
     algorithm, digits, period, t0, last_step, drift, created_at, last_used_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";
pub(crate) const LIST_TOTP: &str = "SELECT id, subject, name, sealed_secret, algorithm, digits, \
     period, t0, last_step, drift, created_at, last_used_at FROM mfa_totp WHERE subject = $1 \
     ORDER BY created_at, seq";

/// The compare-and-set that accepts a TOTP step once (also part of
/// PostgreSQL's `accept_step`).
macro_rules! consume_step {
    () => {
        "UPDATE mfa_totp SET last_step = $3, drift = $4, last_used_at = $5 \
         WHERE subject = $1 AND id = $2 AND (last_step IS NULL OR last_step < $3)"
    };
}
pub(crate) const CONSUME_STEP: &str = consume_step!();

/// The anchor row makes the policy and throttle columns arrive even for a
/// subject with no authenticator (whose columns are then NULL).
pub(crate) const TOTP_CONTEXT: &str = "SELECT p.policy, t.failures, t.locked_until, \
     c.id, c.subject, c.name, c.sealed_secret, c.algorithm, c.digits, c.period, c.t0, \
     c.last_step, c.drift, c.created_at, c.last_used_at \
     FROM (SELECT 1 AS anchor) AS a \
     LEFT JOIN mfa_policy p ON p.id = 1 \
     LEFT JOIN mfa_throttle t ON t.subject = $1 AND t.factor = 'totp' \
     LEFT JOIN mfa_totp c ON c.subject = $1 \
     ORDER BY c.created_at, c.seq";
pub(crate) const REMOVE_TOTP: &str = "DELETE FROM mfa_totp WHERE subject = $1 AND id = $2";
pub(crate) const RENAME_TOTP: &str = "UPDATE mfa_totp SET name = $3 WHERE subject = $1 AND id = $2";
pub(crate) const DELETE_TOTP_OF_SUBJECT: &str = "DELETE FROM mfa_totp WHERE subject = $1";
pub(crate) const COUNT_TOTP: &str = "SELECT COUNT(*) FROM mfa_totp WHERE subject = $1";
pub(crate) const TOTP_EXISTS: &str = "SELECT 1 FROM mfa_totp WHERE subject = $1 AND id = $2";
pub(crate) const COUNT_RECOVERY: &str =
    "SELECT COUNT(*) FROM mfa_recovery_codes WHERE subject = $1";
pub(crate) const DELETE_RECOVERY: &str = "DELETE FROM mfa_recovery_codes WHERE subject = $1";
pub(crate) const INSERT_RECOVERY: &str = "INSERT INTO mfa_recovery_codes \
     (subject, code_hash, created_at) VALUES ($1, $2, $3)";
pub(crate) const CONSUME_RECOVERY: &str = "DELETE FROM mfa_recovery_codes \
     WHERE subject = $1 AND code_hash = $2";
pub(crate) const INSERT_CHANNEL: &str = "INSERT INTO mfa_channels \
     (subject, channel, added_at, address_hash, sealed_address) VALUES ($1, $2, $3, $4, $5)";
pub(crate) const UPDATE_CHANNEL: &str = "UPDATE mfa_channels SET added_at = $3, \
     address_hash = $4, sealed_address = $5 WHERE subject = $1 AND channel = $2";
pub(crate) const GET_CHANNEL: &str = "SELECT channel, added_at, address_hash, sealed_address \
     FROM mfa_channels WHERE subject = $1 AND channel = $2";
pub(crate) const REMOVE_CHANNEL: &str = "DELETE FROM mfa_channels \
     WHERE subject = $1 AND channel = $2";
pub(crate) const LIST_CHANNELS: &str = "SELECT channel, added_at, address_hash, sealed_address \
     FROM mfa_channels WHERE subject = $1";
pub(crate) const DELETE_CHANNELS: &str = "DELETE FROM mfa_channels WHERE subject = $1";
pub(crate) const DROP_UNREGISTERED_CODES: &str = "DELETE FROM mfa_sent_codes WHERE subject = $1 \
     AND channel NOT IN (SELECT channel FROM mfa_channels WHERE subject = $1)";
pub(crate) const SENDS_IN_WINDOW: &str = "SELECT COUNT(*), MIN(issued_at), MAX(issued_at) \
     FROM mfa_code_sends \
     WHERE subject = $1 AND channel = $2 AND issued_at > $3 AND issued_at <= $4";
pub(crate) const PRUNE_SENDS: &str = "DELETE FROM mfa_code_sends \
     WHERE subject = $1 AND channel = $2 AND issued_at <= $3";
pub(crate) const LOG_SEND: &str = "INSERT INTO mfa_code_sends (subject, channel, issued_at) \
     VALUES ($1, $2, $3)";
pub(crate) const ACCEPT_SENT_CODE: &str = "DELETE FROM mfa_sent_codes WHERE subject = $1 \
     AND channel = $2 AND code_hash = $3 AND expires_at > $4 AND tries < $5";
pub(crate) const WITHDRAW_SEND: &str = "DELETE FROM mfa_code_sends \
     WHERE subject = $1 AND channel = $2 AND issued_at = $3";
pub(crate) const WITHDRAW_SENT_CODE: &str = "DELETE FROM mfa_sent_codes \
     WHERE subject = $1 AND channel = $2 AND code_hash = $3";
pub(crate) const DELETE_SENT_CODES: &str = "DELETE FROM mfa_sent_codes WHERE subject = $1";
pub(crate) const DELETE_SENDS: &str = "DELETE FROM mfa_code_sends WHERE subject = $1";
pub(crate) const GET_THROTTLE: &str = "SELECT failures, locked_until, recent, last_charge_at, \
     refused, refused_before FROM mfa_throttle WHERE subject = $1 AND factor = $2";
/// `ThrottleRule::refund`: one charge back; the lock stays only if the
/// count stays at or above the free failures ($3). No expression reads a
/// column assigned before it, so the engines agree: MySQL assigns left to
/// right, the others all from the old row.
pub(crate) const SETTLE_REFUND: &str = "UPDATE mfa_throttle SET \
     locked_until = CASE WHEN failures - 1 >= $3 THEN locked_until ELSE NULL END, \
     recent = CASE WHEN recent >= failures THEN \
         (CASE WHEN failures > 0 THEN failures - 1 ELSE 0 END) \
         WHEN recent > 0 THEN recent - 1 ELSE 0 END, \
     failures = CASE WHEN failures > 0 THEN failures - 1 ELSE 0 END \
     WHERE subject = $1 AND factor = $2";
pub(crate) const UNBLOCK_OTHERS: &str = "DELETE FROM mfa_throttle \
     WHERE subject = $1 AND factor <> $2 AND failures >= $3";
pub(crate) const DELETE_THROTTLE: &str = "DELETE FROM mfa_throttle WHERE subject = $1";
pub(crate) const INSERT_DEVICE: &str = "INSERT INTO mfa_devices \
     (id, subject, token_hash, name, created_at, expires_at, last_used_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7)";
pub(crate) const LIST_DEVICES: &str = "SELECT id, subject, token_hash, name, created_at, \
     expires_at, last_used_at FROM mfa_devices WHERE subject = $1 AND expires_at > $2 \
     ORDER BY created_at DESC, seq DESC";
pub(crate) const REVOKE_DEVICE: &str = "DELETE FROM mfa_devices WHERE subject = $1 AND id = $2";
pub(crate) const REVOKE_DEVICES: &str = "DELETE FROM mfa_devices WHERE subject = $1";
pub(crate) const LOAD_POLICY: &str = "SELECT policy FROM mfa_policy WHERE id = 1";
pub(crate) const GET_GRACE: &str = "SELECT fixed_at, deadline FROM mfa_grace WHERE subject = $1";
pub(crate) const CLEAR_GRACE: &str = "DELETE FROM mfa_grace WHERE subject = $1";
pub(crate) const APPEND_AUDIT: &str = "INSERT INTO mfa_audit \
     (at, subject, actor_kind, actor_id, action, factor, detail) \
     VALUES ($1, $2, $3, $4, $5, $6, $7)";
pub(crate) const AUDIT_ALL: &str = "SELECT id, at, subject, actor_kind, actor_id, action, \
     factor, detail FROM mfa_audit ORDER BY id DESC LIMIT $1";
pub(crate) const AUDIT_BEFORE: &str = "SELECT id, at, subject, actor_kind, actor_id, action, \
     factor, detail FROM mfa_audit WHERE id < $1 ORDER BY id DESC LIMIT $2";
pub(crate) const AUDIT_SUBJECT: &str = "SELECT id, at, subject, actor_kind, actor_id, action, \
     factor, detail FROM mfa_audit WHERE subject = $1 ORDER BY id DESC LIMIT $2";
pub(crate) const AUDIT_SUBJECT_BEFORE: &str = "SELECT id, at, subject, actor_kind, actor_id, \
     action, factor, detail FROM mfa_audit WHERE subject = $1 AND id < $2 \
     ORDER BY id DESC LIMIT $3";
pub(crate) const RESEAL_PENDING: &str = "UPDATE mfa_totp_pending SET sealed_secret = $3 \
     WHERE id = $1 AND sealed_secret = $2";
pub(crate) const RESEAL_TOTP: &str = "UPDATE mfa_totp SET sealed_secret = $3 \
     WHERE id = $1 AND sealed_secret = $2";

/// Whether the throttle row `t` may be charged: below the failures that
/// block ($7), and not locked at now ($3).
macro_rules! may_charge {
    () => {
        "(t.failures < $7 AND (t.locked_until IS NULL OR t.locked_until <= $3))"
    };
}

/// `ThrottleRule::charge` in one upsert: $1 subject, $2 kind, $3 now, $4
/// free failures (at least 1), $5 base lock, $6 longest lock (both in
/// seconds), $7 failures that block, $8 the lock after a first charge.
/// Every SET expression reads the row as it was (SQLite and PostgreSQL
/// evaluate them all against the old row, after locking it), so a refused
/// attempt only counts as refused. A charge returns `refused = 0`; a
/// refusal at least 1. `$shift` is 2^(failures + 1 - free failures),
/// capped, in the engine's spelling.
macro_rules! charge_upsert {
    ($shift:literal) => {
        concat!(
            "INSERT INTO mfa_throttle AS t \
             (subject, factor, failures, locked_until, recent, last_charge_at, refused, refused_before) \
             VALUES ($1, $2, 1, $8, 1, $3, 0, 0) \
             ON CONFLICT (subject, factor) DO UPDATE SET \
             failures = CASE WHEN ", may_charge!(), " THEN t.failures + 1 ELSE t.failures END, \
             locked_until = CASE WHEN NOT ", may_charge!(), " THEN t.locked_until \
                 WHEN t.failures + 1 < $4 THEN NULL \
                 WHEN $5 > $6 / ", $shift, " THEN $3 + $6 \
                 ELSE $3 + $5 * ", $shift, " END, \
             recent = CASE WHEN NOT ", may_charge!(), " THEN t.recent \
                 WHEN t.last_charge_at IS NOT NULL AND $3 < t.last_charge_at + $5 THEN t.recent + 1 \
                 ELSE 1 END, \
             last_charge_at = CASE WHEN ", may_charge!(), " THEN $3 ELSE t.last_charge_at END, \
             refused_before = CASE WHEN ", may_charge!(), " THEN t.refused ELSE t.refused_before END, \
             refused = CASE WHEN ", may_charge!(), " THEN 0 ELSE t.refused + 1 END \
             RETURNING failures, locked_until, recent, last_charge_at, refused, refused_before"
        )
    };
}

/// `ThrottleRule::succeed`: r = min(recent, failures) - 1 (at least 0)
/// becomes both counts; the lock stays only if r >= free failures (the
/// placeholder `$free_failures`).
macro_rules! settle_succeed {
    ($free_failures:literal) => {
        concat!("UPDATE mfa_throttle SET \
         failures = CASE WHEN recent < failures THEN \
             (CASE WHEN recent > 0 THEN recent - 1 ELSE 0 END) \
             ELSE (CASE WHEN failures > 0 THEN failures - 1 ELSE 0 END) END, \
         recent = CASE WHEN recent < failures THEN \
             (CASE WHEN recent > 0 THEN recent - 1 ELSE 0 END) \
             ELSE (CASE WHEN failures > 0 THEN failures - 1 ELSE 0 END) END, \
         locked_until = CASE WHEN (CASE WHEN recent < failures THEN recent ELSE failures END) - 1 >= ",
         $free_failures, " THEN locked_until ELSE NULL END")
    };
}

/// SQLite's statements, which PostgreSQL starts from.
const SQLITE: Dialect = Dialect {
    upsert_pending: Some(
        "INSERT INTO mfa_totp_pending \
         (id, subject, sealed_secret, algorithm, digits, period, t0, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (subject) DO UPDATE SET id = excluded.id, \
         sealed_secret = excluded.sealed_secret, algorithm = excluded.algorithm, \
         digits = excluded.digits, period = excluded.period, t0 = excluded.t0, \
         created_at = excluded.created_at, expires_at = excluded.expires_at",
    ),
    take_pending: "DELETE FROM mfa_totp_pending WHERE subject = $1 AND id = $2 AND expires_at > $3 \
         RETURNING id, subject, sealed_secret, algorithm, digits, period, t0, created_at, expires_at",
    delete_taken_pending: None,
    // No data-modifying CTEs: the charge, then `TOTP_CONTEXT`; accepting
    // is a transaction.
    charge_and_totp_context: None,
    accept_step: None,
    lock_subject: "INSERT INTO mfa_subject_locks (subject) VALUES ($1) \
         ON CONFLICT (subject) DO UPDATE SET subject = excluded.subject",
    set_sent_code: "INSERT INTO mfa_sent_codes \
         (subject, channel, code_hash, issued_at, expires_at, tries) \
         VALUES ($1, $2, $3, $4, $5, 0) \
         ON CONFLICT (subject, channel) DO UPDATE SET code_hash = excluded.code_hash, \
         issued_at = excluded.issued_at, expires_at = excluded.expires_at, tries = 0",
    reject_sent_code: "UPDATE mfa_sent_codes SET tries = tries + 1 WHERE subject = $1 \
         AND channel = $2 AND code_hash <> $3 AND expires_at > $4 AND tries < $5 RETURNING tries",
    read_sent_code_tries: None,
    charge: ChargeSql::Upsert(charge_upsert!("(1 << MIN(t.failures + 1 - $4, 31))")),
    settle_succeed: concat!(settle_succeed!("$3"), " WHERE subject = $1 AND factor = $2"),
    touch_device: "UPDATE mfa_devices SET last_used_at = $3 \
         WHERE subject = $1 AND token_hash = $2 AND expires_at > $3 \
         RETURNING id, subject, token_hash, name, created_at, expires_at, last_used_at",
    read_touched_device: None,
    save_policy: "INSERT INTO mfa_policy (id, policy) VALUES (1, $1) \
         ON CONFLICT (id) DO UPDATE SET policy = excluded.policy",
    insert_grace: "INSERT INTO mfa_grace (subject, fixed_at, deadline) VALUES ($1, $2, $3) \
         ON CONFLICT (subject) DO NOTHING",
    sealed_after: "SELECT id, subject, sealed_secret FROM mfa_totp WHERE id > $1 \
         UNION ALL SELECT id, subject, sealed_secret FROM mfa_totp_pending WHERE id > $1 \
         ORDER BY id LIMIT $2",
    list_tables: "SELECT name FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
};

/// PostgreSQL: SQLite's statements, with the sign-in's two round trips.
const POSTGRES: Dialect = Dialect {
    charge: ChargeSql::Upsert(charge_upsert!(
        "(1::bigint << LEAST(t.failures + 1 - $4, 31)::int)"
    )),
    // The charge, then the policy and the authenticators, in one round
    // trip: the sign-in's first statement.
    charge_and_totp_context: Some(concat!(
        "WITH ch AS (",
        charge_upsert!("(1::bigint << LEAST(t.failures + 1 - $4, 31)::int)"),
        ") SELECT p.policy, ch.failures, ch.locked_until, ch.recent, ch.last_charge_at, \
         ch.refused, ch.refused_before, \
         c.id, c.subject, c.name, c.sealed_secret, c.algorithm, c.digits, c.period, c.t0, \
         c.last_step, c.drift, c.created_at, c.last_used_at \
         FROM ch LEFT JOIN mfa_policy p ON p.id = 1 \
         LEFT JOIN mfa_totp c ON c.subject = $1 \
         ORDER BY c.created_at, c.seq"
    )),
    // One round trip: the compare-and-set, and only if it changed a row
    // (the other parts read its RETURNING), settling the TOTP charge as a
    // success ($13 free failures), unblocking the other kinds ($14 failures
    // that block) and appending the audit event. All commit together.
    accept_step: Some(concat!(
        "WITH consumed AS (",
        consume_step!(),
        " RETURNING subject), settled AS (",
        settle_succeed!("$13"),
        " WHERE subject = $1 AND factor = 'totp' AND EXISTS (SELECT 1 FROM consumed) \
         ), unblocked AS ( \
             DELETE FROM mfa_throttle WHERE subject = $1 AND factor <> 'totp' AND failures >= $14 \
             AND EXISTS (SELECT 1 FROM consumed) \
         ), logged AS ( \
             INSERT INTO mfa_audit (at, subject, actor_kind, actor_id, action, factor, detail) \
             SELECT $6, $7, $8, $9, $10, $11, $12 FROM consumed \
         ) \
         SELECT COUNT(*) FROM consumed"
    )),
    list_tables: "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
    ..SQLITE
};

/// MySQL and MariaDB: SQLite's statements (with `?` placeholders), except
/// where MySQL has no `ON CONFLICT` or no `RETURNING`.
const MYSQL: Dialect = Dialect {
    upsert_pending: None,
    take_pending: "SELECT id, subject, sealed_secret, algorithm, digits, period, t0, created_at, \
         expires_at FROM mfa_totp_pending WHERE subject = $1 AND id = $2 AND expires_at > $3 \
         FOR UPDATE",
    delete_taken_pending: Some("DELETE FROM mfa_totp_pending WHERE subject = $1 AND id = $2"),
    lock_subject: "INSERT INTO mfa_subject_locks (subject) VALUES ($1) \
         ON DUPLICATE KEY UPDATE subject = subject",
    set_sent_code: "INSERT INTO mfa_sent_codes \
         (subject, channel, code_hash, issued_at, expires_at, tries) \
         VALUES ($1, $2, $3, $4, $5, 0) \
         ON DUPLICATE KEY UPDATE code_hash = VALUES(code_hash), issued_at = VALUES(issued_at), \
         expires_at = VALUES(expires_at), tries = 0",
    reject_sent_code: "UPDATE mfa_sent_codes SET tries = tries + 1 WHERE subject = $1 \
         AND channel = $2 AND code_hash <> $3 AND expires_at > $4 AND tries < $5",
    read_sent_code_tries: Some(
        "SELECT tries FROM mfa_sent_codes WHERE subject = $1 AND channel = $2",
    ),
    charge: ChargeSql::ReadModifyWrite {
        // Not `INSERT IGNORE`: its shared lock on an existing row, upgraded
        // by the `FOR UPDATE` that follows, deadlocks concurrent charges.
        // This takes the exclusive lock at once.
        ensure: "INSERT INTO mfa_throttle \
             (subject, factor, failures, locked_until, recent, last_charge_at, refused, \
             refused_before) VALUES ($1, $2, 0, NULL, 0, NULL, 0, 0) \
             ON DUPLICATE KEY UPDATE subject = subject",
        read: "SELECT failures, locked_until, recent, last_charge_at, refused, refused_before \
             FROM mfa_throttle WHERE subject = $1 AND factor = $2 FOR UPDATE",
        write: "UPDATE mfa_throttle SET failures = $3, locked_until = $4, recent = $5, \
             last_charge_at = $6, refused = $7, refused_before = $8 \
             WHERE subject = $1 AND factor = $2",
    },
    // MySQL assigns left to right and later expressions see earlier
    // assignments: the lock first (old counts), then `recent`, then
    // `failures = recent` (the new value, which is the same number).
    settle_succeed: "UPDATE mfa_throttle SET \
         locked_until = CASE WHEN (CASE WHEN recent < failures THEN recent ELSE failures END) - 1 >= $3 \
             THEN locked_until ELSE NULL END, \
         recent = CASE WHEN recent < failures THEN \
             (CASE WHEN recent > 0 THEN recent - 1 ELSE 0 END) \
             ELSE (CASE WHEN failures > 0 THEN failures - 1 ELSE 0 END) END, \
         failures = recent \
         WHERE subject = $1 AND factor = $2",
    touch_device: "UPDATE mfa_devices SET last_used_at = $3 \
         WHERE subject = $1 AND token_hash = $2 AND expires_at > $3",
    read_touched_device: Some(
        "SELECT id, subject, token_hash, name, created_at, expires_at, last_used_at \
         FROM mfa_devices WHERE subject = $1 AND token_hash = $2 AND expires_at > $3 \
         ORDER BY seq LIMIT 1",
    ),
    save_policy: "INSERT INTO mfa_policy (id, policy) VALUES (1, $1) \
         ON DUPLICATE KEY UPDATE policy = VALUES(policy)",
    // A duplicate is a unique violation, which the operation ignores.
    insert_grace: "INSERT INTO mfa_grace (subject, fixed_at, deadline) VALUES ($1, $2, $3)",
    sealed_after: "(SELECT id, subject, sealed_secret FROM mfa_totp WHERE id > $1) \
         UNION ALL (SELECT id, subject, sealed_secret FROM mfa_totp_pending WHERE id > $1) \
         ORDER BY id LIMIT $2",
    list_tables: "SELECT CAST(table_name AS CHAR(255)) FROM information_schema.tables \
         WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'",
    ..SQLITE
};

/// The crate's data tables, each with a statement reading all of it (for
/// [`dump_all_tables`](crate::SqlStore::dump_all_tables)).
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
#[cfg_attr(not(any_engine), allow(dead_code))]
pub(crate) const MIGRATIONS_TABLE: &str = "_mfa_migrations";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn question_marks_bind_each_numbered_argument() {
        let (text, order) =
            question_marks("UPDATE t SET a = $3 WHERE b = $1 AND c < $3 OR d = '$'");
        assert_eq!(text, "UPDATE t SET a = ? WHERE b = ? AND c < ? OR d = '$'");
        assert_eq!(order, vec![3, 1, 3]);
        assert_eq!(argument_count("SELECT 1"), 0);
        assert_eq!(text_for(EngineKind::Sqlite, "a = $1"), ("a = $1", &[][..]));
        assert_eq!(text_for(EngineKind::MySql, "a = $1"), ("a = ?", &[1][..]));
    }

    #[test]
    fn every_statement_numbers_its_arguments_from_one() {
        for engine in [EngineKind::Sqlite, EngineKind::Postgres, EngineKind::MySql] {
            for sql in statements(dialect(engine)) {
                assert!(!sql.contains('?'), "{engine:?} uses ?: {sql}");
                let (_, used) = question_marks(sql);
                for n in 1..=argument_count(sql) {
                    assert!(used.contains(&n), "{engine:?}: ${n} unused in {sql}");
                }
            }
        }
    }

    /// Every statement of `dialect`, and the shared ones whose
    /// placeholders are not in order.
    fn statements(dialect: &Dialect) -> Vec<&'static str> {
        let Dialect {
            upsert_pending,
            delete_taken_pending,
            charge_and_totp_context,
            accept_step,
            read_sent_code_tries,
            read_touched_device,
            charge,
            ..
        } = dialect;
        let mut all = vec![
            INSERT_PENDING,
            CONSUME_STEP,
            TOTP_CONTEXT,
            UPDATE_CHANNEL,
            DROP_UNREGISTERED_CODES,
            SETTLE_REFUND,
            RESEAL_PENDING,
            dialect.take_pending,
            dialect.lock_subject,
            dialect.set_sent_code,
            dialect.reject_sent_code,
            dialect.settle_succeed,
            dialect.touch_device,
            dialect.sealed_after,
            dialect.list_tables,
        ];
        all.extend(
            [
                *upsert_pending,
                *delete_taken_pending,
                *charge_and_totp_context,
                *accept_step,
                *read_sent_code_tries,
                *read_touched_device,
            ]
            .into_iter()
            .flatten(),
        );
        match charge {
            ChargeSql::Upsert(upsert) => all.push(upsert),
            ChargeSql::ReadModifyWrite {
                ensure,
                read,
                write,
            } => all.extend([*ensure, *read, *write]),
        }
        all
    }
}
