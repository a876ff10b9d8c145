//! The [`Store`](mfa_core::Store) operations, written once for every
//! engine. Each guarantee in the trait's contract is enforced by the
//! database: a conditional statement whose affected-row count decides, an
//! `ON CONFLICT` / `ON DUPLICATE KEY` upsert, or a transaction that first
//! locks the row everything else depends on. Nothing is read, decided in
//! Rust and written back without such a lock.

use std::collections::HashSet;

use mfa_core::audit::{Actor, AuditAction, AuditEvent, AuditQuery, NewAuditEvent};
use mfa_core::otp::{Algorithm, Digits, TotpConfig};
use mfa_core::pepper::CodeHash;
use mfa_core::policy::{GraceRecord, Policy};
use mfa_core::seal::Sealed;
use mfa_core::store::{
    Activation, IssueOutcome, PendingTotp, RememberedDevice, ReplaceCodes, ResetSummary,
    SealedEntry, SendLimits, SentCode, SentCodeAttempt, TotpCredential,
};
use mfa_core::{Channel, CredentialId, FactorKind, SubjectId, Timestamp};

use crate::backend::{Arg, Backend, DbRow};
use crate::error::{Class, SqlStoreError, corrupt, is_unique_violation};

mod factors;
mod throttle;

pub(crate) use factors::{add_channel, list_channels, remove_factor};
pub(crate) use throttle::{
    accept_totp_step, begin_totp_attempt, charge_attempt, settle_attempt, throttle_state,
};

/// Why an operation failed, before it is reported as an
/// [`mfa_core::Error`].
#[derive(Debug)]
pub(crate) enum Fail {
    /// The database failed; classified by the engine.
    Db(sqlx::Error),
    /// A value could not be stored or read back.
    Value(SqlStoreError),
}

impl From<sqlx::Error> for Fail {
    fn from(error: sqlx::Error) -> Self {
        Self::Db(error)
    }
}

impl From<SqlStoreError> for Fail {
    fn from(error: SqlStoreError) -> Self {
        Self::Value(error)
    }
}

pub(crate) type R<T> = Result<T, Fail>;

/// How often an operation whose transaction was chosen as a deadlock
/// victim (or failed serialisation) is run again before giving up with
/// [`mfa_core::Error::StoreUnavailable`].
pub(crate) const MAX_RETRIES: u32 = 16;

/// The error reported to the service.
pub(crate) fn report<B: Backend>(fail: Fail) -> mfa_core::Error {
    match fail {
        Fail::Db(error) => match B::classify(&error) {
            Class::Unavailable | Class::Retry => mfa_core::Error::StoreUnavailable(Box::new(error)),
            Class::Other => mfa_core::Error::Store(Box::new(error)),
        },
        Fail::Value(error) => mfa_core::Error::Store(Box::new(error)),
    }
}

/// Runs an operation, again while the database rolls it back as a
/// deadlock victim or serialisation failure; then reports its error.
macro_rules! retrying {
    ($backend:ty, $op:expr) => {{
        let mut attempt = 0u32;
        loop {
            match $op.await {
                Err($crate::ops::Fail::Db(e))
                    if attempt < $crate::ops::MAX_RETRIES
                        && <$backend as $crate::backend::Backend>::classify(&e)
                            == $crate::error::Class::Retry =>
                {
                    attempt += 1;
                }
                Ok(value) => break Ok(value),
                Err(fail) => break Err($crate::ops::report::<$backend>(fail)),
            }
        }
    }};
}
pub(crate) use retrying;

// ----- value conversions ------------------------------------------------

/// A value to store in a BIGINT column.
fn big(value: u64, what: &'static str) -> R<i64> {
    i64::try_from(value).map_err(|_| SqlStoreError::OutOfRange { what }.into())
}

/// A time to store.
fn ts(at: Timestamp, what: &'static str) -> R<i64> {
    big(at.unix(), what)
}

/// A time only compared against stored times. Stored times never exceed
/// `i64::MAX`, so saturating keeps every comparison exact.
fn ts_cmp(at: Timestamp) -> i64 {
    i64::try_from(at.unix()).unwrap_or(i64::MAX)
}

fn column<T>(result: Result<T, sqlx::Error>, what: &'static str) -> R<T> {
    result.map_err(|e| corrupt(what, Some(Box::new(e))).into())
}

fn to_ts(value: i64, what: &'static str) -> R<Timestamp> {
    u64::try_from(value)
        .map(Timestamp::from_unix)
        .map_err(|e| corrupt(what, Some(Box::new(e))).into())
}

fn to_u32(value: i64, what: &'static str) -> R<u32> {
    u32::try_from(value).map_err(|e| corrupt(what, Some(Box::new(e))).into())
}

fn subject_id(text: String, what: &'static str) -> R<SubjectId> {
    SubjectId::new(text).map_err(|e| corrupt(what, Some(Box::new(e))).into())
}

fn credential_id(text: String, what: &'static str) -> R<CredentialId> {
    CredentialId::new(text).map_err(|e| corrupt(what, Some(Box::new(e))).into())
}

fn sealed(bytes: Vec<u8>, what: &'static str) -> R<Sealed> {
    Sealed::from_bytes(bytes).map_err(|e| corrupt(what, Some(Box::new(e))).into())
}

fn code_hash(bytes: &[u8], what: &'static str) -> R<CodeHash> {
    CodeHash::from_slice(bytes).map_err(|e| corrupt(what, Some(Box::new(e))).into())
}

fn config(
    algorithm: &str,
    digits: i64,
    period: i64,
    t0: i64,
    table: &'static str,
) -> R<TotpConfig> {
    let algorithm: Algorithm = algorithm
        .parse()
        .map_err(|e| corrupt(table, Some(Box::new(e))))?;
    let digits = u32::try_from(digits)
        .ok()
        .and_then(|d| Digits::new(d).ok())
        .ok_or_else(|| corrupt(table, Some("digits".into())))?;
    let period = u64::try_from(period).map_err(|e| corrupt(table, Some(Box::new(e))))?;
    let t0 = u64::try_from(t0).map_err(|e| corrupt(table, Some(Box::new(e))))?;
    Ok(TotpConfig::new(algorithm, digits, period)
        .map_err(|e| corrupt(table, Some(Box::new(e))))?
        .with_t0(t0))
}

/// Columns: id, subject, sealed_secret, algorithm, digits, period, t0,
/// created_at, expires_at.
fn pending_from<Row: DbRow>(row: &Row) -> R<PendingTotp> {
    const T: &str = "mfa_totp_pending";
    Ok(PendingTotp {
        id: credential_id(column(row.id(0), T)?, "mfa_totp_pending.id")?,
        subject: subject_id(column(row.id(1), T)?, "mfa_totp_pending.subject")?,
        sealed_secret: sealed(column(row.bytes(2), T)?, "mfa_totp_pending.sealed_secret")?,
        config: config(
            &column(row.text(3), T)?,
            column(row.int(4), T)?,
            column(row.int(5), T)?,
            column(row.int(6), T)?,
            T,
        )?,
        created_at: to_ts(column(row.int(7), T)?, "mfa_totp_pending.created_at")?,
        expires_at: to_ts(column(row.int(8), T)?, "mfa_totp_pending.expires_at")?,
    })
}

/// Columns: id, subject, name, sealed_secret, algorithm, digits, period,
/// t0, last_step, drift, created_at, last_used_at.
fn totp_from<Row: DbRow>(row: &Row) -> R<TotpCredential> {
    totp_from_at(row, 0)
}

/// As [`totp_from`], with the authenticator's columns starting at `at`.
fn totp_from_at<Row: DbRow>(row: &Row, at: usize) -> R<TotpCredential> {
    const T: &str = "mfa_totp";
    let c = |i: usize| at + i;
    Ok(TotpCredential {
        id: credential_id(column(row.id(c(0)), T)?, "mfa_totp.id")?,
        subject: subject_id(column(row.id(c(1)), T)?, "mfa_totp.subject")?,
        name: column(row.text(c(2)), T)?,
        sealed_secret: sealed(column(row.bytes(c(3)), T)?, "mfa_totp.sealed_secret")?,
        config: config(
            &column(row.text(c(4)), T)?,
            column(row.int(c(5)), T)?,
            column(row.int(c(6)), T)?,
            column(row.int(c(7)), T)?,
            T,
        )?,
        last_step: column(row.opt_int(c(8)), T)?
            .map(|s| u64::try_from(s).map_err(|e| corrupt("mfa_totp.last_step", Some(Box::new(e)))))
            .transpose()?,
        drift: i16::try_from(column(row.int(c(9)), T)?)
            .map_err(|e| corrupt("mfa_totp.drift", Some(Box::new(e))))?,
        created_at: to_ts(column(row.int(c(10)), T)?, "mfa_totp.created_at")?,
        last_used_at: column(row.opt_int(c(11)), T)?
            .map(|t| to_ts(t, "mfa_totp.last_used_at"))
            .transpose()?,
    })
}

/// Columns: id, subject, token_hash, name, created_at, expires_at,
/// last_used_at.
fn device_from<Row: DbRow>(row: &Row) -> R<RememberedDevice> {
    const T: &str = "mfa_devices";
    Ok(RememberedDevice {
        id: credential_id(column(row.id(0), T)?, "mfa_devices.id")?,
        subject: subject_id(column(row.id(1), T)?, "mfa_devices.subject")?,
        token_hash: code_hash(&column(row.bytes(2), T)?, "mfa_devices.token_hash")?,
        name: column(row.text(3), T)?,
        created_at: to_ts(column(row.int(4), T)?, "mfa_devices.created_at")?,
        expires_at: to_ts(column(row.int(5), T)?, "mfa_devices.expires_at")?,
        last_used_at: column(row.opt_int(6), T)?
            .map(|t| to_ts(t, "mfa_devices.last_used_at"))
            .transpose()?,
    })
}

/// Columns: id, at, subject, actor_kind, actor_id, action, factor, detail.
fn audit_from<Row: DbRow>(row: &Row) -> R<AuditEvent> {
    const T: &str = "mfa_audit";
    let id = u64::try_from(column(row.int(0), T)?)
        .map_err(|e| corrupt("mfa_audit.id", Some(Box::new(e))))?;
    let subject = column(row.opt_id(2), T)?
        .map(|s| subject_id(s, "mfa_audit.subject"))
        .transpose()?;
    let actor_id = column(row.opt_id(4), T)?
        .map(|s| subject_id(s, "mfa_audit.actor_id"))
        .transpose()?;
    let actor = match (column(row.text(3), T)?.as_str(), actor_id) {
        ("subject", Some(id)) => Actor::Subject(id),
        ("admin", Some(id)) => Actor::Admin(id),
        ("system", None) => Actor::System,
        _ => return Err(corrupt("mfa_audit.actor_kind", None).into()),
    };
    let action = AuditAction::parse(&column(row.text(5), T)?)
        .map_err(|e| corrupt("mfa_audit.action", Some(Box::new(e))))?;
    let factor = column(row.opt_text(6), T)?
        .map(|f| FactorKind::parse(&f).map_err(|e| corrupt("mfa_audit.factor", Some(Box::new(e)))))
        .transpose()?;
    Ok(AuditEvent {
        id,
        event: NewAuditEvent {
            at: to_ts(column(row.int(1), T)?, "mfa_audit.at")?,
            subject,
            actor,
            action,
            factor,
            detail: column(row.opt_text(7), T)?,
        },
    })
}

fn actor_parts(actor: &Actor) -> (&'static str, Option<&str>) {
    match actor {
        Actor::Subject(id) => ("subject", Some(id.as_str())),
        Actor::Admin(id) => ("admin", Some(id.as_str())),
        Actor::System => ("system", None),
    }
}

// ----- authenticator apps -------------------------------------------------

/// SQLite/PostgreSQL: one `INSERT … ON CONFLICT (subject) DO UPDATE`.
/// MySQL: a transaction that locks the subject's lock row, deletes the
/// subject's pending row and inserts the new one. A pending id that
/// already belongs to another row is a unique violation (an error).
pub(crate) async fn put_pending_totp<B: Backend>(b: &B, p: &PendingTotp) -> R<()> {
    let sql = B::SQL;
    let args = [
        Arg::Id(p.id.as_str()),
        Arg::Id(p.subject.as_str()),
        Arg::Bytes(p.sealed_secret.as_bytes()),
        Arg::Text(p.config.algorithm().as_str()),
        Arg::Int(p.config.digits().get().into()),
        Arg::Int(p.config.period().into()),
        Arg::Int(big(p.config.t0(), "t0")?),
        Arg::Int(ts(p.created_at, "created_at")?),
        Arg::Int(ts(p.expires_at, "expires_at")?),
    ];
    if B::DIALECT.is_mysql() {
        let subject = [Arg::Id(p.subject.as_str())];
        let mut tx = b.begin().await?;
        B::tx_execute(&mut tx, sql.lock_subject, &subject).await?;
        B::tx_execute(&mut tx, sql.delete_pending_of_subject, &subject).await?;
        B::tx_execute(&mut tx, sql.put_pending, &args).await?;
        B::commit(tx).await?;
    } else {
        b.execute(sql.put_pending, &args).await?;
    }
    Ok(())
}

/// One `SELECT` with `expires_at > now`.
pub(crate) async fn pending_totp<B: Backend>(
    b: &B,
    subject: &SubjectId,
    id: &CredentialId,
    now: Timestamp,
) -> R<Option<PendingTotp>> {
    let args = [
        Arg::Id(subject.as_str()),
        Arg::Id(id.as_str()),
        Arg::Int(ts_cmp(now)),
    ];
    b.fetch_optional(B::SQL.get_pending, &args)
        .await?
        .map(|row| pending_from(&row))
        .transpose()
}

/// One transaction: `DELETE … WHERE expires_at > at RETURNING …` of the
/// pending row (MySQL: `SELECT … FOR UPDATE`, then `DELETE`), then
/// `INSERT` of the authenticator. The delete locks the pending row, so of
/// concurrent activations one deletes it and the others find nothing.
pub(crate) async fn activate_totp<B: Backend>(
    b: &B,
    subject: &SubjectId,
    id: &CredentialId,
    activation: &Activation,
) -> R<Option<TotpCredential>> {
    let sql = B::SQL;
    let key = [
        Arg::Id(subject.as_str()),
        Arg::Id(id.as_str()),
        Arg::Int(ts_cmp(activation.at)),
    ];
    let at = ts(activation.at, "activation time")?;
    let step = big(activation.accepted_step, "TOTP step")?;
    let mut tx = b.begin().await?;
    let Some(row) = B::tx_fetch_optional(&mut tx, sql.take_pending, &key).await? else {
        B::rollback(tx).await?;
        return Ok(None);
    };
    let pending = pending_from(&row)?;
    if B::DIALECT.is_mysql() {
        let deleted = B::tx_execute(
            &mut tx,
            sql.delete_pending,
            &[Arg::Id(subject.as_str()), Arg::Id(id.as_str())],
        )
        .await?;
        if deleted != 1 {
            B::rollback(tx).await?;
            return Ok(None);
        }
    }
    let credential = TotpCredential {
        id: pending.id,
        subject: pending.subject,
        name: activation.name.clone(),
        sealed_secret: pending.sealed_secret,
        config: pending.config,
        last_step: Some(activation.accepted_step),
        drift: activation.drift,
        created_at: activation.at,
        last_used_at: Some(activation.at),
    };
    let c = &credential;
    B::tx_execute(
        &mut tx,
        sql.insert_totp,
        &[
            Arg::Id(c.id.as_str()),
            Arg::Id(c.subject.as_str()),
            Arg::Text(&c.name),
            Arg::Bytes(c.sealed_secret.as_bytes()),
            Arg::Text(c.config.algorithm().as_str()),
            Arg::Int(c.config.digits().get().into()),
            Arg::Int(c.config.period().into()),
            Arg::Int(big(c.config.t0(), "t0")?),
            Arg::Int(step),
            Arg::Int(c.drift.into()),
            Arg::Int(at),
            Arg::Int(at),
        ],
    )
    .await?;
    // The subject now has a factor: pending channel enrollments go.
    B::tx_execute(
        &mut tx,
        sql.drop_unregistered_codes,
        &[Arg::Id(subject.as_str())],
    )
    .await?;
    B::commit(tx).await?;
    Ok(Some(credential))
}

/// One `SELECT … ORDER BY created_at, seq` (insertion order breaks ties).
pub(crate) async fn list_totp<B: Backend>(b: &B, subject: &SubjectId) -> R<Vec<TotpCredential>> {
    b.fetch_all(B::SQL.list_totp, &[Arg::Id(subject.as_str())])
        .await?
        .iter()
        .map(totp_from)
        .collect()
}

/// One conditional `UPDATE … WHERE … AND (last_step IS NULL OR last_step <
/// step)`; accepted iff it changed a row. The row lock the update takes
/// makes concurrent updates with the same step see each other's write:
/// exactly one changes the row.
pub(crate) async fn consume_totp_step<B: Backend>(
    b: &B,
    subject: &SubjectId,
    id: &CredentialId,
    step: u64,
    drift: i16,
    now: Timestamp,
) -> R<bool> {
    let args = consume_args(subject, id, step, drift, now)?;
    Ok(b.execute(B::SQL.consume_step, &args).await? > 0)
}

/// The five arguments of `consume_step`, in order.
fn consume_args<'a>(
    subject: &'a SubjectId,
    id: &'a CredentialId,
    step: u64,
    drift: i16,
    now: Timestamp,
) -> R<[Arg<'a>; 5]> {
    Ok([
        Arg::Id(subject.as_str()),
        Arg::Id(id.as_str()),
        Arg::Int(big(step, "TOTP step")?),
        Arg::Int(drift.into()),
        Arg::Int(ts(now, "last_used_at")?),
    ])
}

// ----- recovery codes -----------------------------------------------------

/// One transaction that first locks the subject's lock row, then (for
/// `IfNone`) counts the unused codes, deletes them and inserts the new
/// ones. Concurrent calls for one subject run one after the other, and
/// each sees what the previous one committed.
pub(crate) async fn replace_recovery_codes<B: Backend>(
    b: &B,
    subject: &SubjectId,
    hashes: &[CodeHash],
    mode: ReplaceCodes,
    now: Timestamp,
) -> R<bool> {
    let sql = B::SQL;
    let created = ts(now, "created_at")?;
    let mut seen = HashSet::with_capacity(hashes.len());
    let unique: Vec<&CodeHash> = hashes.iter().filter(|h| seen.insert(**h)).collect();
    let who = [Arg::Id(subject.as_str())];
    let mut tx = b.begin().await?;
    B::tx_execute(&mut tx, sql.lock_subject, &who).await?;
    if mode == ReplaceCodes::IfNone {
        let unused = match B::tx_fetch_optional(&mut tx, sql.count_recovery, &who).await? {
            Some(row) => column(row.int(0), "COUNT(*)")?,
            None => 0,
        };
        if unused > 0 {
            B::rollback(tx).await?;
            return Ok(false);
        }
    }
    B::tx_execute(&mut tx, sql.delete_recovery, &who).await?;
    for hash in unique {
        let args = [
            Arg::Id(subject.as_str()),
            Arg::Bytes(hash.as_bytes()),
            Arg::Int(created),
        ];
        B::tx_execute(&mut tx, sql.insert_recovery, &args).await?;
    }
    B::commit(tx).await?;
    Ok(true)
}

/// One `DELETE` of the code; used iff it deleted a row.
pub(crate) async fn consume_recovery_code<B: Backend>(
    b: &B,
    subject: &SubjectId,
    hash: &CodeHash,
) -> R<bool> {
    let args = [Arg::Id(subject.as_str()), Arg::Bytes(hash.as_bytes())];
    Ok(b.execute(B::SQL.consume_recovery, &args).await? > 0)
}

/// One `SELECT COUNT(*)`.
pub(crate) async fn recovery_codes_left<B: Backend>(b: &B, subject: &SubjectId) -> R<u32> {
    let row = b
        .fetch_optional(B::SQL.count_recovery, &[Arg::Id(subject.as_str())])
        .await?;
    let count = match row {
        Some(row) => column(row.int(0), "COUNT(*)")?,
        None => 0,
    };
    Ok(u32::try_from(count.max(0)).unwrap_or(u32::MAX))
}

// ----- channels -----------------------------------------------------------

// ----- sent codes ---------------------------------------------------------

/// One transaction that first locks the subject's lock row, then reads
/// the count, oldest and newest of the sends in the hour
/// (`now - 1 h < issued_at <= now`), decides, and only if allowed prunes
/// sends older than the hour, logs this send and upserts the active code
/// with a fresh try count. Concurrent sends for one subject run one after
/// the other, so the limits hold exactly. `TooSoon` rolls back: nothing is
/// recorded.
pub(crate) async fn issue_sent_code<B: Backend>(
    b: &B,
    code: &SentCode,
    limits: SendLimits,
) -> R<IssueOutcome> {
    const HOUR: core::time::Duration = core::time::Duration::from_secs(3600);
    let sql = B::SQL;
    let issued = ts(code.issued_at, "issued_at")?;
    let expires = ts(code.expires_at, "expires_at")?;
    let window_start = issued.saturating_sub(3600);
    let subject = code.subject.as_str();
    let channel = code.channel.as_str();
    let window = [
        Arg::Id(subject),
        Arg::Text(channel),
        Arg::Int(window_start),
        Arg::Int(issued),
    ];
    let older = [Arg::Id(subject), Arg::Text(channel), Arg::Int(window_start)];

    let mut tx = b.begin().await?;
    B::tx_execute(&mut tx, sql.lock_subject, &[Arg::Id(subject)]).await?;
    let (count, oldest, newest) =
        match B::tx_fetch_optional(&mut tx, sql.sends_in_window, &window).await? {
            Some(row) => (
                column(row.int(0), "COUNT(*)")?,
                column(row.opt_int(1), "MIN(issued_at)")?,
                column(row.opt_int(2), "MAX(issued_at)")?,
            ),
            None => (0, None, None),
        };
    let cooldown_ends = newest
        .map(|t| to_ts(t, "mfa_code_sends.issued_at"))
        .transpose()?
        .map(|newest| newest.plus(limits.cooldown));
    let too_soon = if let Some(next) = cooldown_ends.filter(|next| code.issued_at < *next) {
        Some(next)
    } else if count >= i64::from(limits.max_per_hour) {
        Some(match oldest {
            Some(oldest) => to_ts(oldest, "mfa_code_sends.issued_at")?.plus(HOUR),
            None => code.issued_at.plus(HOUR),
        })
    } else {
        None
    };
    if let Some(retry_after) = too_soon {
        B::rollback(tx).await?;
        return Ok(IssueOutcome::TooSoon { retry_after });
    }
    B::tx_execute(&mut tx, sql.prune_sends, &older).await?;
    B::tx_execute(
        &mut tx,
        sql.log_send,
        &[Arg::Id(subject), Arg::Text(channel), Arg::Int(issued)],
    )
    .await?;
    B::tx_execute(
        &mut tx,
        sql.set_sent_code,
        &[
            Arg::Id(subject),
            Arg::Text(channel),
            Arg::Bytes(code.hash.as_bytes()),
            Arg::Int(issued),
            Arg::Int(expires),
        ],
    )
    .await?;
    B::commit(tx).await?;
    Ok(IssueOutcome::Issued)
}

/// Two conditional statements, each deciding by itself:
/// 1. `DELETE` the active code `WHERE` the hash matches, it is unexpired
///    and has tries left: if it deleted a row, `Accepted` (the row lock
///    makes exactly one of concurrent right guesses delete it);
/// 2. else `UPDATE … SET tries = tries + 1 WHERE` the hash does *not*
///    match, unexpired, tries left `RETURNING tries` (MySQL: the update,
///    then a read of the count in the same transaction): `Rejected`.
///
/// If neither applies there is no usable code, unless a new code that
/// matches was issued between the two; then step 1 is tried once more.
pub(crate) async fn attempt_sent_code<B: Backend>(
    b: &B,
    subject: &SubjectId,
    channel: Channel,
    hash: &CodeHash,
    max_tries: u32,
    now: Timestamp,
) -> R<SentCodeAttempt> {
    let sql = B::SQL;
    let args = [
        Arg::Id(subject.as_str()),
        Arg::Text(channel.as_str()),
        Arg::Bytes(hash.as_bytes()),
        Arg::Int(ts_cmp(now)),
        Arg::Int(max_tries.into()),
    ];
    for _ in 0..2 {
        if b.execute(sql.accept_sent_code, &args).await? > 0 {
            return Ok(SentCodeAttempt::Accepted);
        }
        let tries = if B::DIALECT.is_mysql() {
            let mut tx = b.begin().await?;
            if B::tx_execute(&mut tx, sql.reject_sent_code, &args).await? == 0 {
                B::rollback(tx).await?;
                None
            } else {
                let key = [Arg::Id(subject.as_str()), Arg::Text(channel.as_str())];
                let row = B::tx_fetch_optional(&mut tx, sql.sent_code_tries, &key).await?;
                B::commit(tx).await?;
                row.map(|r| column(r.int(0), "mfa_sent_codes.tries"))
                    .transpose()?
            }
        } else {
            b.fetch_optional(sql.reject_sent_code, &args)
                .await?
                .map(|r| column(r.int(0), "mfa_sent_codes.tries"))
                .transpose()?
        };
        if let Some(tries) = tries {
            let tries = to_u32(tries, "mfa_sent_codes.tries")?;
            return Ok(SentCodeAttempt::Rejected {
                tries_left: max_tries.saturating_sub(tries),
            });
        }
    }
    Ok(SentCodeAttempt::NoActiveCode)
}

// ----- throttling ---------------------------------------------------------

// ----- devices ------------------------------------------------------------

/// One `INSERT`; an id that already exists is a unique violation.
pub(crate) async fn put_device<B: Backend>(b: &B, d: &RememberedDevice) -> R<()> {
    let args = [
        Arg::Id(d.id.as_str()),
        Arg::Id(d.subject.as_str()),
        Arg::Bytes(d.token_hash.as_bytes()),
        Arg::Text(&d.name),
        Arg::Int(ts(d.created_at, "created_at")?),
        Arg::Int(ts(d.expires_at, "expires_at")?),
        Arg::OptInt(d.last_used_at.map(|t| ts(t, "last_used_at")).transpose()?),
    ];
    b.execute(B::SQL.insert_device, &args).await?;
    Ok(())
}

/// One `UPDATE … WHERE expires_at > now RETURNING …` (MySQL: the update and
/// a read of the row in one transaction).
pub(crate) async fn touch_device<B: Backend>(
    b: &B,
    subject: &SubjectId,
    token_hash: &CodeHash,
    now: Timestamp,
) -> R<Option<RememberedDevice>> {
    let sql = B::SQL;
    let args = [
        Arg::Id(subject.as_str()),
        Arg::Bytes(token_hash.as_bytes()),
        Arg::Int(ts(now, "last_used_at")?),
    ];
    let row = if B::DIALECT.is_mysql() {
        let mut tx = b.begin().await?;
        if B::tx_execute(&mut tx, sql.touch_device, &args).await? == 0 {
            B::rollback(tx).await?;
            return Ok(None);
        }
        let row = B::tx_fetch_optional(&mut tx, sql.get_live_device, &args).await?;
        B::commit(tx).await?;
        row
    } else {
        b.fetch_optional(sql.touch_device, &args).await?
    };
    row.map(|r| device_from(&r)).transpose()
}

/// One `SELECT … ORDER BY created_at DESC, seq DESC`.
pub(crate) async fn list_devices<B: Backend>(
    b: &B,
    subject: &SubjectId,
    now: Timestamp,
) -> R<Vec<RememberedDevice>> {
    let args = [Arg::Id(subject.as_str()), Arg::Int(ts_cmp(now))];
    b.fetch_all(B::SQL.list_devices, &args)
        .await?
        .iter()
        .map(device_from)
        .collect()
}

/// One `DELETE`.
pub(crate) async fn revoke_device<B: Backend>(
    b: &B,
    subject: &SubjectId,
    id: &CredentialId,
) -> R<bool> {
    let args = [Arg::Id(subject.as_str()), Arg::Id(id.as_str())];
    Ok(b.execute(B::SQL.revoke_device, &args).await? > 0)
}

/// One `DELETE`.
pub(crate) async fn revoke_all_devices<B: Backend>(b: &B, subject: &SubjectId) -> R<u64> {
    Ok(
        b.execute(B::SQL.revoke_devices, &[Arg::Id(subject.as_str())])
            .await?,
    )
}

// ----- policy and grace ---------------------------------------------------

/// One `SELECT` of the JSON text.
pub(crate) async fn load_policy<B: Backend>(b: &B) -> R<Option<Policy>> {
    let Some(row) = b.fetch_optional(B::SQL.load_policy, &[]).await? else {
        return Ok(None);
    };
    let json = column(row.text(0), "mfa_policy.policy")?;
    serde_json::from_str(&json)
        .map(Some)
        .map_err(|e| corrupt("mfa_policy.policy", Some(Box::new(e))).into())
}

/// One upsert of the single row.
pub(crate) async fn save_policy<B: Backend>(b: &B, policy: &Policy) -> R<()> {
    let json = serde_json::to_string(policy).map_err(SqlStoreError::Json)?;
    b.execute(B::SQL.save_policy, &[Arg::Text(&json)]).await?;
    Ok(())
}

/// One `SELECT`.
pub(crate) async fn grace<B: Backend>(b: &B, subject: &SubjectId) -> R<Option<GraceRecord>> {
    let Some(row) = b
        .fetch_optional(B::SQL.get_grace, &[Arg::Id(subject.as_str())])
        .await?
    else {
        return Ok(None);
    };
    Ok(Some(GraceRecord {
        fixed_at: to_ts(column(row.int(0), "mfa_grace")?, "mfa_grace.fixed_at")?,
        deadline: to_ts(column(row.int(1), "mfa_grace")?, "mfa_grace.deadline")?,
    }))
}

/// `INSERT … ON CONFLICT DO NOTHING` (MySQL: a plain `INSERT`, its unique
/// violation ignored), then a `SELECT` of whichever row won. The insert of
/// a concurrent caller waits for the first to commit, so every caller reads
/// the same row. (Should a concurrent `clear_grace` remove it in between,
/// the insert is tried again.)
pub(crate) async fn fix_grace<B: Backend>(
    b: &B,
    subject: &SubjectId,
    record: GraceRecord,
) -> R<GraceRecord> {
    let args = [
        Arg::Id(subject.as_str()),
        Arg::Int(ts(record.fixed_at, "fixed_at")?),
        Arg::Int(ts(record.deadline, "deadline")?),
    ];
    for _ in 0..8 {
        match b.execute(B::SQL.insert_grace, &args).await {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => {}
            Err(e) => return Err(e.into()),
        }
        if let Some(stored) = grace(b, subject).await? {
            return Ok(stored);
        }
    }
    Err(corrupt(
        "mfa_grace",
        Some("the grace record keeps disappearing".into()),
    )
    .into())
}

/// One `DELETE`.
pub(crate) async fn clear_grace<B: Backend>(b: &B, subject: &SubjectId) -> R<()> {
    b.execute(B::SQL.clear_grace, &[Arg::Id(subject.as_str())])
        .await?;
    Ok(())
}

// ----- reset --------------------------------------------------------------

/// One transaction that locks the subject's lock row (so it runs after or
/// before, never between, the subject's code replacements and sends) and
/// deletes from every table; pending enrollments before authenticators, so
/// that a concurrent activation either completes first (and its
/// authenticator is deleted) or finds its pending row gone.
pub(crate) async fn reset_subject<B: Backend>(b: &B, subject: &SubjectId) -> R<ResetSummary> {
    let sql = B::SQL;
    let who = [Arg::Id(subject.as_str())];
    let mut tx = b.begin().await?;
    B::tx_execute(&mut tx, sql.lock_subject, &who).await?;
    let pending = B::tx_execute(&mut tx, sql.delete_pending_all, &who).await?;
    let authenticators = B::tx_execute(&mut tx, sql.delete_totp_all, &who).await?;
    let recovery_codes = B::tx_execute(&mut tx, sql.delete_recovery, &who).await?;
    let channels = B::tx_execute(&mut tx, sql.delete_channels, &who).await?;
    let devices = B::tx_execute(&mut tx, sql.revoke_devices, &who).await?;
    B::tx_execute(&mut tx, sql.delete_sent_codes, &who).await?;
    B::tx_execute(&mut tx, sql.delete_sends, &who).await?;
    B::tx_execute(&mut tx, sql.delete_throttle, &who).await?;
    B::commit(tx).await?;
    Ok(ResetSummary {
        authenticators,
        pending,
        recovery_codes,
        channels,
        devices,
    })
}

// ----- audit --------------------------------------------------------------

/// The seven arguments of `append_audit`, in column order.
fn audit_args(event: &NewAuditEvent) -> R<[Arg<'_>; 7]> {
    let (actor_kind, actor_id) = actor_parts(&event.actor);
    Ok([
        Arg::Int(ts(event.at, "at")?),
        Arg::OptId(event.subject.as_ref().map(SubjectId::as_str)),
        Arg::Text(actor_kind),
        Arg::OptId(actor_id),
        Arg::Text(event.action.as_str()),
        Arg::OptText(event.factor.map(FactorKind::as_str)),
        Arg::OptText(event.detail.as_deref()),
    ])
}

/// One `INSERT`; the id comes from the auto-increment column.
pub(crate) async fn append_audit<B: Backend>(b: &B, event: &NewAuditEvent) -> R<()> {
    b.execute(B::SQL.append_audit, &audit_args(event)?).await?;
    Ok(())
}

/// One `SELECT … ORDER BY id DESC LIMIT n`, `n` capped at
/// [`AuditQuery::MAX_LIMIT`].
pub(crate) async fn list_audit<B: Backend>(b: &B, query: &AuditQuery) -> R<Vec<AuditEvent>> {
    let sql = B::SQL;
    let limit = query.limit.min(AuditQuery::MAX_LIMIT);
    if limit == 0 {
        return Ok(Vec::new());
    }
    let limit = Arg::Int(limit.into());
    // Ids never exceed i64::MAX, so "below u64::MAX" saturates exactly.
    let before = query
        .before
        .map(|id| Arg::Int(i64::try_from(id).unwrap_or(i64::MAX)));
    let subject = query.subject.as_ref().map(|s| Arg::Id(s.as_str()));
    let rows = match (subject, before) {
        (None, None) => b.fetch_all(sql.audit_all, &[limit]).await?,
        (None, Some(before)) => b.fetch_all(sql.audit_before, &[before, limit]).await?,
        (Some(subject), None) => b.fetch_all(sql.audit_subject, &[subject, limit]).await?,
        (Some(subject), Some(before)) => {
            b.fetch_all(sql.audit_subject_before, &[subject, before, limit])
                .await?
        }
    };
    rows.iter().map(audit_from).collect()
}

// ----- key rotation -------------------------------------------------------

/// One `SELECT … UNION ALL SELECT … ORDER BY id LIMIT n` over active and
/// pending authenticators (ids compare byte by byte on every engine).
pub(crate) async fn sealed_secrets<B: Backend>(
    b: &B,
    after: Option<&CredentialId>,
    limit: u32,
) -> R<Vec<SealedEntry>> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    // Every id is non-empty, so all of them sort after "".
    let after = after.map_or("", CredentialId::as_str);
    let args = [Arg::Id(after), Arg::Int(limit.into())];
    b.fetch_all(B::SQL.sealed_after, &args)
        .await?
        .iter()
        .map(|row| {
            Ok(SealedEntry {
                credential: credential_id(column(row.id(0), "sealed secrets")?, "credential id")?,
                subject: subject_id(column(row.id(1), "sealed secrets")?, "subject")?,
                sealed: sealed(column(row.bytes(2), "sealed secrets")?, "sealed_secret")?,
            })
        })
        .collect()
}

/// Conditional `UPDATE … WHERE id = ? AND sealed_secret = expected`, first
/// on pending enrollments, then on authenticators. In that order, a
/// concurrent activation (which moves the row from the first table to the
/// second in one transaction) cannot make the row be missed in both.
pub(crate) async fn replace_sealed<B: Backend>(
    b: &B,
    id: &CredentialId,
    expected: &Sealed,
    new: &Sealed,
) -> R<bool> {
    let args = [
        Arg::Id(id.as_str()),
        Arg::Bytes(expected.as_bytes()),
        Arg::Bytes(new.as_bytes()),
    ];
    if b.execute(B::SQL.reseal_pending, &args).await? > 0 {
        return Ok(true);
    }
    Ok(b.execute(B::SQL.reseal_totp, &args).await? > 0)
}

// ----- testing ------------------------------------------------------------

/// See `dump_all_tables` on the store types.
#[cfg(feature = "testing")]
pub(crate) async fn dump_all_tables<B: Backend>(b: &B) -> R<Vec<(String, Vec<Vec<u8>>)>> {
    use crate::sql::{DUMP, Stmt};
    let tables = b.fetch_all(B::SQL.list_tables, &[]).await?;
    for row in &tables {
        let name = column(row.text(0), "table name")?;
        if name.starts_with("mfa_") && !DUMP.iter().any(|(known, _)| *known == name) {
            return Err(corrupt(
                "schema",
                Some(format!("table {name} is not in the dump list").into()),
            )
            .into());
        }
    }
    let mut out = Vec::new();
    for (table, select) in DUMP {
        let stmt = Stmt {
            sql: select,
            args: 0,
            order: &[],
        };
        let rows = b.fetch_all(stmt, &[]).await?;
        let Some(first) = rows.first() else {
            out.push(((*table).to_owned(), Vec::new()));
            continue;
        };
        let names = first.column_names();
        let mut columns: Vec<Vec<Vec<u8>>> = vec![Vec::with_capacity(rows.len()); names.len()];
        for row in &rows {
            for (cells, cell) in columns.iter_mut().zip(column(row.cells(), "dump")?) {
                cells.push(cell);
            }
        }
        out.extend(
            names
                .into_iter()
                .zip(columns)
                .map(|(name, cells)| (format!("{table}.{name}"), cells)),
        );
    }
    Ok(out)
}

/// Implements [`mfa_core::Store`] for an engine's store type by running the
/// operations above, retried on deadlocks.
macro_rules! impl_store {
    ($store:ty) => {
        impl mfa_core::Store for $store {
            async fn put_pending_totp(
                &self,
                pending: mfa_core::store::PendingTotp,
            ) -> mfa_core::Result<()> {
                $crate::ops::retrying!($store, $crate::ops::put_pending_totp(self, &pending))
            }

            async fn pending_totp(
                &self,
                subject: &mfa_core::SubjectId,
                id: &mfa_core::CredentialId,
                now: mfa_core::Timestamp,
            ) -> mfa_core::Result<Option<mfa_core::store::PendingTotp>> {
                $crate::ops::retrying!($store, $crate::ops::pending_totp(self, subject, id, now))
            }

            async fn activate_totp(
                &self,
                subject: &mfa_core::SubjectId,
                id: &mfa_core::CredentialId,
                activation: mfa_core::store::Activation,
            ) -> mfa_core::Result<Option<mfa_core::store::TotpCredential>> {
                $crate::ops::retrying!(
                    $store,
                    $crate::ops::activate_totp(self, subject, id, &activation)
                )
            }

            async fn list_totp(
                &self,
                subject: &mfa_core::SubjectId,
            ) -> mfa_core::Result<Vec<mfa_core::store::TotpCredential>> {
                $crate::ops::retrying!($store, $crate::ops::list_totp(self, subject))
            }

            async fn consume_totp_step(
                &self,
                subject: &mfa_core::SubjectId,
                id: &mfa_core::CredentialId,
                step: u64,
                drift: i16,
                now: mfa_core::Timestamp,
            ) -> mfa_core::Result<bool> {
                $crate::ops::retrying!(
                    $store,
                    $crate::ops::consume_totp_step(self, subject, id, step, drift, now)
                )
            }

            async fn begin_totp_attempt(
                &self,
                subject: &mfa_core::SubjectId,
                rule: mfa_core::throttle::ThrottleRule,
                now: mfa_core::Timestamp,
            ) -> mfa_core::Result<mfa_core::store::TotpContext> {
                $crate::ops::retrying!(
                    $store,
                    $crate::ops::begin_totp_attempt(self, subject, rule, now)
                )
            }

            async fn accept_totp_step(
                &self,
                subject: &mfa_core::SubjectId,
                id: &mfa_core::CredentialId,
                step: u64,
                drift: i16,
                rule: mfa_core::throttle::ThrottleRule,
                now: mfa_core::Timestamp,
                audit: mfa_core::audit::NewAuditEvent,
            ) -> mfa_core::Result<bool> {
                $crate::ops::retrying!(
                    $store,
                    $crate::ops::accept_totp_step(
                        self, subject, id, step, drift, rule, now, &audit
                    )
                )
            }

            async fn remove_factor(
                &self,
                subject: &mfa_core::SubjectId,
                factor: &mfa_core::store::FactorRef,
                keep: Option<mfa_core::store::Usable>,
            ) -> mfa_core::Result<mfa_core::store::Removal> {
                $crate::ops::retrying!(
                    $store,
                    $crate::ops::remove_factor(self, subject, factor, keep)
                )
            }

            async fn replace_recovery_codes(
                &self,
                subject: &mfa_core::SubjectId,
                hashes: Vec<mfa_core::pepper::CodeHash>,
                mode: mfa_core::store::ReplaceCodes,
                now: mfa_core::Timestamp,
            ) -> mfa_core::Result<bool> {
                $crate::ops::retrying!(
                    $store,
                    $crate::ops::replace_recovery_codes(self, subject, &hashes, mode, now)
                )
            }

            async fn consume_recovery_code(
                &self,
                subject: &mfa_core::SubjectId,
                hash: &mfa_core::pepper::CodeHash,
                _now: mfa_core::Timestamp,
            ) -> mfa_core::Result<bool> {
                $crate::ops::retrying!(
                    $store,
                    $crate::ops::consume_recovery_code(self, subject, hash)
                )
            }

            async fn recovery_codes_left(
                &self,
                subject: &mfa_core::SubjectId,
            ) -> mfa_core::Result<u32> {
                $crate::ops::retrying!($store, $crate::ops::recovery_codes_left(self, subject))
            }

            async fn add_channel(
                &self,
                subject: &mfa_core::SubjectId,
                factor: mfa_core::store::ChannelFactor,
            ) -> mfa_core::Result<mfa_core::store::ChannelAdded> {
                $crate::ops::retrying!($store, $crate::ops::add_channel(self, subject, &factor))
            }

            async fn list_channels(
                &self,
                subject: &mfa_core::SubjectId,
            ) -> mfa_core::Result<Vec<mfa_core::store::ChannelFactor>> {
                $crate::ops::retrying!($store, $crate::ops::list_channels(self, subject))
            }

            async fn issue_sent_code(
                &self,
                code: mfa_core::store::SentCode,
                limits: mfa_core::store::SendLimits,
            ) -> mfa_core::Result<mfa_core::store::IssueOutcome> {
                $crate::ops::retrying!($store, $crate::ops::issue_sent_code(self, &code, limits))
            }

            async fn attempt_sent_code(
                &self,
                subject: &mfa_core::SubjectId,
                channel: mfa_core::Channel,
                hash: &mfa_core::pepper::CodeHash,
                max_tries: u32,
                now: mfa_core::Timestamp,
            ) -> mfa_core::Result<mfa_core::store::SentCodeAttempt> {
                $crate::ops::retrying!(
                    $store,
                    $crate::ops::attempt_sent_code(self, subject, channel, hash, max_tries, now)
                )
            }

            async fn throttle_state(
                &self,
                subject: &mfa_core::SubjectId,
                kind: mfa_core::FactorKind,
            ) -> mfa_core::Result<mfa_core::throttle::ThrottleState> {
                $crate::ops::retrying!($store, $crate::ops::throttle_state(self, subject, kind))
            }

            async fn charge_attempt(
                &self,
                subject: &mfa_core::SubjectId,
                kind: mfa_core::FactorKind,
                rule: mfa_core::throttle::ThrottleRule,
                now: mfa_core::Timestamp,
            ) -> mfa_core::Result<mfa_core::throttle::Charge> {
                $crate::ops::retrying!(
                    $store,
                    $crate::ops::charge_attempt(self, subject, kind, rule, now)
                )
            }

            async fn settle_attempt(
                &self,
                subject: &mfa_core::SubjectId,
                kind: mfa_core::FactorKind,
                rule: mfa_core::throttle::ThrottleRule,
                settlement: mfa_core::store::Settlement,
            ) -> mfa_core::Result<()> {
                $crate::ops::retrying!(
                    $store,
                    $crate::ops::settle_attempt(self, subject, kind, rule, settlement)
                )
            }

            async fn put_device(
                &self,
                device: mfa_core::store::RememberedDevice,
            ) -> mfa_core::Result<()> {
                $crate::ops::retrying!($store, $crate::ops::put_device(self, &device))
            }

            async fn touch_device(
                &self,
                subject: &mfa_core::SubjectId,
                token_hash: &mfa_core::pepper::CodeHash,
                now: mfa_core::Timestamp,
            ) -> mfa_core::Result<Option<mfa_core::store::RememberedDevice>> {
                $crate::ops::retrying!(
                    $store,
                    $crate::ops::touch_device(self, subject, token_hash, now)
                )
            }

            async fn list_devices(
                &self,
                subject: &mfa_core::SubjectId,
                now: mfa_core::Timestamp,
            ) -> mfa_core::Result<Vec<mfa_core::store::RememberedDevice>> {
                $crate::ops::retrying!($store, $crate::ops::list_devices(self, subject, now))
            }

            async fn revoke_device(
                &self,
                subject: &mfa_core::SubjectId,
                id: &mfa_core::CredentialId,
            ) -> mfa_core::Result<bool> {
                $crate::ops::retrying!($store, $crate::ops::revoke_device(self, subject, id))
            }

            async fn revoke_all_devices(
                &self,
                subject: &mfa_core::SubjectId,
            ) -> mfa_core::Result<u64> {
                $crate::ops::retrying!($store, $crate::ops::revoke_all_devices(self, subject))
            }

            async fn load_policy(&self) -> mfa_core::Result<Option<mfa_core::policy::Policy>> {
                $crate::ops::retrying!($store, $crate::ops::load_policy(self))
            }

            async fn save_policy(&self, policy: &mfa_core::policy::Policy) -> mfa_core::Result<()> {
                $crate::ops::retrying!($store, $crate::ops::save_policy(self, policy))
            }

            async fn grace(
                &self,
                subject: &mfa_core::SubjectId,
            ) -> mfa_core::Result<Option<mfa_core::policy::GraceRecord>> {
                $crate::ops::retrying!($store, $crate::ops::grace(self, subject))
            }

            async fn fix_grace(
                &self,
                subject: &mfa_core::SubjectId,
                record: mfa_core::policy::GraceRecord,
            ) -> mfa_core::Result<mfa_core::policy::GraceRecord> {
                $crate::ops::retrying!($store, $crate::ops::fix_grace(self, subject, record))
            }

            async fn clear_grace(&self, subject: &mfa_core::SubjectId) -> mfa_core::Result<()> {
                $crate::ops::retrying!($store, $crate::ops::clear_grace(self, subject))
            }

            async fn reset_subject(
                &self,
                subject: &mfa_core::SubjectId,
            ) -> mfa_core::Result<mfa_core::store::ResetSummary> {
                $crate::ops::retrying!($store, $crate::ops::reset_subject(self, subject))
            }

            async fn append_audit(
                &self,
                event: mfa_core::audit::NewAuditEvent,
            ) -> mfa_core::Result<()> {
                $crate::ops::retrying!($store, $crate::ops::append_audit(self, &event))
            }

            async fn list_audit(
                &self,
                query: &mfa_core::audit::AuditQuery,
            ) -> mfa_core::Result<Vec<mfa_core::audit::AuditEvent>> {
                $crate::ops::retrying!($store, $crate::ops::list_audit(self, query))
            }

            async fn sealed_secrets(
                &self,
                after: Option<&mfa_core::CredentialId>,
                limit: u32,
            ) -> mfa_core::Result<Vec<mfa_core::store::SealedEntry>> {
                $crate::ops::retrying!($store, $crate::ops::sealed_secrets(self, after, limit))
            }

            async fn replace_sealed(
                &self,
                id: &mfa_core::CredentialId,
                expected: &mfa_core::seal::Sealed,
                new: &mfa_core::seal::Sealed,
            ) -> mfa_core::Result<bool> {
                $crate::ops::retrying!($store, $crate::ops::replace_sealed(self, id, expected, new))
            }
        }
    };
}
pub(crate) use impl_store;
