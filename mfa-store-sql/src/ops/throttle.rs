//! Throttling: the attempt is charged before its code is checked, and
//! settled after. The sign-in hot path ([`begin_totp_attempt`],
//! [`accept_totp_step`]) lives here because it charges and settles.

use mfa_core::audit::NewAuditEvent;
use mfa_core::store::{Settlement, TotpContext};
use mfa_core::throttle::{Charge, ThrottleRule, ThrottleState};
use mfa_core::{CredentialId, FactorKind, SubjectId, Timestamp};

use super::{
    Fail, R, audit_args, big, column, consume_args, corrupt, to_ts, to_u32, totp_from_at, ts,
};
use crate::backend::{Arg, Backend, DbRow, Dialect};

/// Columns from `at`: failures, locked_until, recent, last_charge_at,
/// refused, refused_before; the last is returned beside the state.
fn throttle_from_at<Row: DbRow>(row: &Row, at: usize) -> R<(ThrottleState, u32)> {
    const T: &str = "mfa_throttle";
    let count =
        |i: usize, what: &'static str| -> R<u32> { to_u32(column(row.int(at + i), T)?, what) };
    let time = |i: usize, what: &'static str| -> R<Option<Timestamp>> {
        column(row.opt_int(at + i), T)?
            .map(|t| to_ts(t, what))
            .transpose()
    };
    Ok((
        ThrottleState {
            failures: count(0, "mfa_throttle.failures")?,
            locked_until: time(1, "mfa_throttle.locked_until")?,
            recent: count(2, "mfa_throttle.recent")?,
            last_charge_at: time(3, "mfa_throttle.last_charge_at")?,
            refused: count(4, "mfa_throttle.refused")?,
        },
        count(5, "mfa_throttle.refused_before")?,
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

/// The arguments of the PostgreSQL charge statement (see `sql.rs`).
fn charge_args(
    subject: &SubjectId,
    kind: FactorKind,
    rule: ThrottleRule,
    now: Timestamp,
) -> R<[Arg<'_>; 8]> {
    let first_lock = rule
        .lock_for(1)
        .map(|d| ts(now.plus(d), "locked_until"))
        .transpose()?;
    Ok([
        Arg::Id(subject.as_str()),
        Arg::Text(kind.as_str()),
        Arg::Int(ts(now, "now")?),
        Arg::Int(rule.free_failures.max(1).into()),
        Arg::Int(big(rule.base_lock.as_secs(), "base lock")?),
        Arg::Int(big(rule.max_lock.as_secs(), "longest lock")?),
        Arg::Int(rule.max_failures.max(1).into()),
        Arg::OptInt(first_lock),
    ])
}

/// One `SELECT`.
pub(crate) async fn throttle_state<B: Backend>(
    b: &B,
    subject: &SubjectId,
    kind: FactorKind,
) -> R<ThrottleState> {
    let args = [Arg::Id(subject.as_str()), Arg::Text(kind.as_str())];
    match b.fetch_optional(B::SQL.get_throttle, &args).await? {
        Some(row) => Ok(throttle_from_at(&row, 0)?.0),
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
pub(crate) async fn charge_attempt<B: Backend>(
    b: &B,
    subject: &SubjectId,
    kind: FactorKind,
    rule: ThrottleRule,
    now: Timestamp,
) -> R<Charge> {
    let sql = B::SQL;
    if !B::DIALECT.is_mysql() {
        let args = charge_args(subject, kind, rule, now)?;
        let row = b
            .fetch_optional(sql.charge, &args)
            .await?
            .ok_or_else(|| corrupt("mfa_throttle", Some("the charge returned no row".into())))?;
        return Ok(charge_from(throttle_from_at(&row, 0)?, rule));
    }
    let key = [Arg::Id(subject.as_str()), Arg::Text(kind.as_str())];
    let mut tx = b.begin().await?;
    B::tx_execute(&mut tx, sql.ensure_throttle, &key).await?;
    let row = B::tx_fetch_optional(&mut tx, sql.get_throttle_locked, &key)
        .await?
        .ok_or_else(|| corrupt("mfa_throttle", Some("the counter row vanished".into())))?;
    let (state, refused_before) = throttle_from_at(&row, 0)?;
    let (next, charge) = rule.charge(&state, now);
    let refused_before = match charge {
        Charge::Charged { refused_before, .. } => refused_before,
        Charge::Locked { .. } | Charge::Blocked => refused_before,
    };
    let time = |t: Option<Timestamp>, what| t.map(|t| ts(t, what)).transpose();
    B::tx_execute(
        &mut tx,
        sql.put_throttle,
        &[
            Arg::Id(subject.as_str()),
            Arg::Text(kind.as_str()),
            Arg::Int(next.failures.into()),
            Arg::OptInt(time(next.locked_until, "locked_until")?),
            Arg::Int(next.recent.into()),
            Arg::OptInt(time(next.last_charge_at, "last_charge_at")?),
            Arg::Int(next.refused.into()),
            Arg::Int(refused_before.into()),
        ],
    )
    .await?;
    B::commit(tx).await?;
    Ok(charge)
}

/// The statements of [`settle_attempt`], inside a transaction.
async fn settle_in<B: Backend>(
    tx: &mut B::Tx,
    subject: &SubjectId,
    kind: FactorKind,
    rule: ThrottleRule,
    settlement: Settlement,
) -> R<()> {
    let sql = B::SQL;
    let args = [
        Arg::Id(subject.as_str()),
        Arg::Text(kind.as_str()),
        Arg::Int(rule.free_failures.max(1).into()),
    ];
    match settlement {
        Settlement::Succeeded => {
            B::tx_execute(tx, sql.settle_succeed, &args).await?;
            let unblock = [
                Arg::Id(subject.as_str()),
                Arg::Text(kind.as_str()),
                Arg::Int(rule.max_failures.max(1).into()),
            ];
            B::tx_execute(tx, sql.unblock_others, &unblock).await?;
        }
        Settlement::Refunded => {
            B::tx_execute(tx, sql.settle_refund, &args).await?;
        }
    }
    Ok(())
}

/// A refund is one conditional `UPDATE` ([`ThrottleRule::refund`] in
/// SQL); a success one transaction of an `UPDATE` ([`ThrottleRule::succeed`]
/// in SQL) and a `DELETE` of the subject's other blocked kinds. Each
/// `UPDATE` computes from the row it locked, so concurrent settlements
/// compose.
pub(crate) async fn settle_attempt<B: Backend>(
    b: &B,
    subject: &SubjectId,
    kind: FactorKind,
    rule: ThrottleRule,
    settlement: Settlement,
) -> R<()> {
    if settlement == Settlement::Refunded {
        let args = [
            Arg::Id(subject.as_str()),
            Arg::Text(kind.as_str()),
            Arg::Int(rule.free_failures.max(1).into()),
        ];
        b.execute(B::SQL.settle_refund, &args).await?;
        return Ok(());
    }
    let mut tx = b.begin().await?;
    settle_in::<B>(&mut tx, subject, kind, rule, settlement).await?;
    B::commit(tx).await?;
    Ok(())
}

/// PostgreSQL: one statement, the charge upsert in a data-modifying CTE
/// joined with the policy row and the subject's authenticators. SQLite and
/// MySQL: [`charge_attempt`], then one `SELECT` of an anchor row
/// left-joined with the policy row and the authenticators.
pub(crate) async fn begin_totp_attempt<B: Backend>(
    b: &B,
    subject: &SubjectId,
    rule: ThrottleRule,
    now: Timestamp,
) -> R<TotpContext> {
    const T: &str = "totp context";
    let (rows, charge, credential_at) = if B::DIALECT == Dialect::Postgres {
        let args = charge_args(subject, FactorKind::Totp, rule, now)?;
        let rows = b.fetch_all(B::SQL.begin_totp, &args).await?;
        let Some(first) = rows.first() else {
            return Err(corrupt("totp context (no charge row)", None).into());
        };
        let charge = charge_from(throttle_from_at(first, 1)?, rule);
        (rows, charge, 7)
    } else {
        let charge = charge_attempt(b, subject, FactorKind::Totp, rule, now).await?;
        let rows = b
            .fetch_all(B::SQL.totp_context, &[Arg::Id(subject.as_str())])
            .await?;
        (rows, charge, 3)
    };
    let Some(first) = rows.first() else {
        return Err(corrupt("totp context (no anchor row)", None).into());
    };
    let policy = column(first.opt_text(0), T)?
        .map(|json| {
            serde_json::from_str(&json)
                .map_err(|e| Fail::from(corrupt("mfa_policy.policy", Some(Box::new(e)))))
        })
        .transpose()?;
    let mut credentials = Vec::with_capacity(rows.len());
    for row in &rows {
        if column(row.opt_id(credential_at), T)?.is_some() {
            credentials.push(totp_from_at(row, credential_at)?);
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
#[allow(clippy::too_many_arguments)]
pub(crate) async fn accept_totp_step<B: Backend>(
    b: &B,
    subject: &SubjectId,
    id: &CredentialId,
    step: u64,
    drift: i16,
    rule: ThrottleRule,
    now: Timestamp,
    audit: &NewAuditEvent,
) -> R<bool> {
    let sql = B::SQL;
    let consume = consume_args(subject, id, step, drift, now)?;
    let event = audit_args(audit)?;
    if B::DIALECT == Dialect::Postgres {
        let mut args = Vec::with_capacity(consume.len() + event.len() + 2);
        args.extend_from_slice(&consume);
        args.extend_from_slice(&event);
        args.push(Arg::Int(rule.free_failures.max(1).into()));
        args.push(Arg::Int(rule.max_failures.max(1).into()));
        let Some(row) = b.fetch_optional(sql.accept_step, &args).await? else {
            return Ok(false);
        };
        return Ok(column(row.int(0), "accepted step count")? > 0);
    }
    let mut tx = b.begin().await?;
    if B::tx_execute(&mut tx, sql.consume_step, &consume).await? == 0 {
        B::rollback(tx).await?;
        return Ok(false);
    }
    settle_in::<B>(
        &mut tx,
        subject,
        FactorKind::Totp,
        rule,
        Settlement::Succeeded,
    )
    .await?;
    B::tx_execute(&mut tx, sql.append_audit, &event).await?;
    B::commit(tx).await?;
    Ok(true)
}
