//! Throttling: the attempt is charged before its code is checked, and
//! settled after. The sign-in hot path ([`begin_totp_attempt`],
//! [`accept_totp_step`]) lives here because it charges and settles.

use mfa_core::audit::NewAuditEvent;
use mfa_core::store::{Settlement, TotpContext};
use mfa_core::throttle::{Charge, ThrottleRule, ThrottleState};
use mfa_core::{FactorKind, SubjectId, Timestamp};

use super::audit::audit_args;
use super::totp::StepUse;
use super::{OpResult, stored_time, to_bigint, totp_from};
use crate::engine::{Arg, Engine, Row};
use crate::error::corrupt;
use crate::sql::{self, ChargeSql, Dialect};
use crate::store::{End, SqlStore, Tx};

/// Columns from `at`: failures, locked_until, recent, last_charge_at,
/// refused, refused_before; the last is returned beside the state.
fn throttle_from(row: &Row, at: usize) -> OpResult<(ThrottleState, u32)> {
    Ok((
        ThrottleState {
            failures: row.number(at, "mfa_throttle.failures")?,
            locked_until: row.opt_time(at + 1, "mfa_throttle.locked_until")?,
            recent: row.number(at + 2, "mfa_throttle.recent")?,
            last_charge_at: row.opt_time(at + 3, "mfa_throttle.last_charge_at")?,
            refused: row.number(at + 4, "mfa_throttle.refused")?,
        },
        row.number(at + 5, "mfa_throttle.refused_before")?,
    ))
}

/// The decision a state just written by a charge stands for: a charge
/// leaves `refused = 0`, a refusal at least 1.
fn charge_from((state, refused_before): (ThrottleState, u32), rule: ThrottleRule) -> Charge {
    if state.refused == 0 {
        return Charge::Charged {
            state,
            refused_before,
        };
    }
    match state.locked_until {
        Some(until) if state.failures < rule.max_failures.max(1) => Charge::Locked { until },
        _ => Charge::Blocked,
    }
}

/// The arguments of the charge upsert (see `sql::RS`).
fn charge_args(
    subject: &SubjectId,
    kind: FactorKind,
    rule: ThrottleRule,
    now: Timestamp,
) -> OpResult<[Arg<'_>; 8]> {
    let first_lock = rule
        .lock_for(1)
        .map(|d| stored_time(now.plus(d), "locked_until"))
        .transpose()?;
    Ok([
        Arg::Id(subject.as_str()),
        Arg::Text(kind.as_str()),
        Arg::Int(stored_time(now, "now")?),
        Arg::Int(rule.free_failures.max(1).into()),
        Arg::Int(to_bigint(rule.base_lock.as_secs(), "base lock")?),
        Arg::Int(to_bigint(rule.max_lock.as_secs(), "longest lock")?),
        Arg::Int(rule.max_failures.max(1).into()),
        Arg::OptInt(first_lock),
    ])
}

/// One `SELECT`.
pub(crate) async fn state<E: Engine>(
    db: &SqlStore<E>,
    subject: &SubjectId,
    kind: FactorKind,
) -> OpResult<ThrottleState> {
    let args = [Arg::Id(subject.as_str()), Arg::Text(kind.as_str())];
    match db.fetch_optional(sql::GET_THROTTLE, &args).await? {
        Some(row) => Ok(throttle_from(&row, 0)?.0),
        None => Ok(ThrottleState::default()),
    }
}

/// PostgreSQL and SQLite: one upsert that applies [`ThrottleRule::charge`]
/// in SQL (its `SET` expressions all read the old row, which the upsert
/// has locked). MySQL (whose `SET` expressions see earlier assignments):
/// one transaction that makes sure the row exists, reads it with `SELECT
/// … FOR UPDATE`, applies [`ThrottleRule::charge`] and writes the result.
/// Either way concurrent charges of one row run one after the other, each
/// seeing the state the previous one stored.
pub(crate) async fn charge<E: Engine>(
    db: &SqlStore<E>,
    subject: &SubjectId,
    kind: FactorKind,
    rule: ThrottleRule,
    now: Timestamp,
) -> OpResult<Charge> {
    let (ensure, read_locked, write) = match db.dialect().charge {
        ChargeSql::Upsert(upsert) => {
            let args = charge_args(subject, kind, rule, now)?;
            let row = db.fetch_optional(upsert, &args).await?.ok_or_else(|| {
                corrupt("mfa_throttle", Some("the charge returned no row".into()))
            })?;
            return Ok(charge_from(throttle_from(&row, 0)?, rule));
        }
        ChargeSql::ReadModifyWrite {
            ensure,
            read,
            write,
        } => (ensure, read, write),
    };
    let key = [Arg::Id(subject.as_str()), Arg::Text(kind.as_str())];
    db.transaction(async |tx| {
        tx.execute(ensure, &key).await?;
        let row = tx
            .fetch_optional(read_locked, &key)
            .await?
            .ok_or_else(|| corrupt("mfa_throttle", Some("the counter row vanished".into())))?;
        let (state, refused_before) = throttle_from(&row, 0)?;
        let (next, charge) = rule.charge(&state, now);
        // A charge records the refusals before it; a refusal keeps the
        // record of the last charge.
        let refused_before = match charge {
            Charge::Charged { refused_before, .. } => refused_before,
            Charge::Locked { .. } | Charge::Blocked => refused_before,
        };
        let time = |t: Option<Timestamp>, what| t.map(|t| stored_time(t, what)).transpose();
        let args = [
            key[0],
            key[1],
            Arg::Int(next.failures.into()),
            Arg::OptInt(time(next.locked_until, "locked_until")?),
            Arg::Int(next.recent.into()),
            Arg::OptInt(time(next.last_charge_at, "last_charge_at")?),
            Arg::Int(next.refused.into()),
            Arg::Int(refused_before.into()),
        ];
        tx.execute(write, &args).await?;
        Ok(End::Commit(charge))
    })
    .await
}

/// A success inside a transaction: [`ThrottleRule::succeed`] in SQL, and a
/// `DELETE` of the subject's other blocked kinds.
async fn succeed_in<E: Engine>(
    tx: &mut Tx<E>,
    dialect: &'static Dialect,
    subject: &SubjectId,
    kind: FactorKind,
    rule: ThrottleRule,
) -> OpResult<()> {
    let key = |n: u32| {
        [
            Arg::Id(subject.as_str()),
            Arg::Text(kind.as_str()),
            Arg::Int(n.into()),
        ]
    };
    tx.execute(dialect.settle_succeed, &key(rule.free_failures.max(1)))
        .await?;
    tx.execute(sql::UNBLOCK_OTHERS, &key(rule.max_failures.max(1)))
        .await?;
    Ok(())
}

/// A refund is one conditional `UPDATE` ([`ThrottleRule::refund`] in
/// SQL); a success one transaction of an `UPDATE` ([`ThrottleRule::succeed`]
/// in SQL) and a `DELETE` of the subject's other blocked kinds. Each
/// `UPDATE` computes from the row it locked, so concurrent settlements
/// compose.
pub(crate) async fn settle<E: Engine>(
    db: &SqlStore<E>,
    subject: &SubjectId,
    kind: FactorKind,
    rule: ThrottleRule,
    settlement: Settlement,
) -> OpResult<()> {
    let dialect = db.dialect();
    if settlement == Settlement::Refunded {
        let args = [
            Arg::Id(subject.as_str()),
            Arg::Text(kind.as_str()),
            Arg::Int(rule.free_failures.max(1).into()),
        ];
        db.execute(sql::SETTLE_REFUND, &args).await?;
        return Ok(());
    }
    db.transaction(async |tx| {
        succeed_in(tx, dialect, subject, kind, rule).await?;
        Ok(End::Commit(()))
    })
    .await
}

/// PostgreSQL: one statement, the charge upsert in a data-modifying CTE
/// joined with the policy row and the subject's authenticators. SQLite and
/// MySQL: [`charge`], then one `SELECT` of an anchor row left-joined with
/// the policy row and the authenticators.
pub(crate) async fn begin_totp_attempt<E: Engine>(
    db: &SqlStore<E>,
    subject: &SubjectId,
    rule: ThrottleRule,
    now: Timestamp,
) -> OpResult<TotpContext> {
    let dialect = db.dialect();
    let (rows, charge, credential_at) = if let Some(statement) = dialect.charge_and_totp_context {
        let args = charge_args(subject, FactorKind::Totp, rule, now)?;
        let rows = db.fetch_all(statement, &args).await?;
        let Some(first) = rows.first() else {
            return Err(corrupt("totp context (no charge row)", None).into());
        };
        let charge = charge_from(throttle_from(first, 1)?, rule);
        (rows, charge, 7)
    } else {
        let charge = charge(db, subject, FactorKind::Totp, rule, now).await?;
        let rows = db
            .fetch_all(sql::TOTP_CONTEXT, &[Arg::Id(subject.as_str())])
            .await?;
        (rows, charge, 3)
    };
    let Some(first) = rows.first() else {
        return Err(corrupt("totp context (no anchor row)", None).into());
    };
    let policy = first.opt_text(0, "mfa_policy.policy")?;
    let policy = policy
        .map(|json| super::parsed(json, "mfa_policy.policy", |j| serde_json::from_str(&j)))
        .transpose()?;
    let mut credentials = Vec::with_capacity(rows.len());
    for row in &rows {
        if row.opt_bytes(credential_at, "mfa_totp.id")?.is_some() {
            credentials.push(totp_from(row, credential_at)?);
        }
    }
    Ok(TotpContext {
        policy,
        charge,
        credentials,
    })
}

/// PostgreSQL: one statement whose data-modifying CTEs do the
/// compare-and-set and, only if it changed a row, settle the TOTP charge
/// as a success, unblock the other kinds and append the event. SQLite and
/// MySQL: one transaction of the same statements (the conditional
/// `UPDATE` first; nothing else if it changed no row).
pub(crate) async fn accept_totp_step<E: Engine>(
    db: &SqlStore<E>,
    step: StepUse<'_>,
    rule: ThrottleRule,
    audit: &NewAuditEvent,
) -> OpResult<bool> {
    let dialect = db.dialect();
    let consume = step.args()?;
    let event = audit_args(audit)?;
    if let Some(accept) = dialect.accept_step {
        let mut args = Vec::with_capacity(consume.len() + event.len() + 2);
        args.extend_from_slice(&consume);
        args.extend_from_slice(&event);
        args.push(Arg::Int(rule.free_failures.max(1).into()));
        args.push(Arg::Int(rule.max_failures.max(1).into()));
        let Some(row) = db.fetch_optional(accept, &args).await? else {
            return Ok(false);
        };
        return Ok(row.int(0, "accepted step count")? > 0);
    }
    db.transaction(async |tx| {
        if tx.execute(sql::CONSUME_STEP, &consume).await? == 0 {
            return Ok(End::Rollback(false));
        }
        succeed_in(tx, dialect, step.subject, FactorKind::Totp, rule).await?;
        tx.execute(sql::APPEND_AUDIT, &event).await?;
        Ok(End::Commit(true))
    })
    .await
}
