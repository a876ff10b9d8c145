//! The audit trail: appended by one `INSERT`, read newest first.

use mfa_core::audit::{Actor, AuditAction, AuditEvent, AuditQuery, NewAuditEvent};
use mfa_core::{FactorKind, SubjectId};

use super::{OpResult, parsed, stored_time};
use crate::engine::{Arg, Engine, Row};
use crate::error::corrupt;
use crate::sql;
use crate::store::SqlStore;

/// Columns: id, at, subject, actor_kind, actor_id, action, factor, detail.
fn audit_from(row: &Row) -> OpResult<AuditEvent> {
    let subject = |i, what| -> OpResult<Option<SubjectId>> {
        let id = row.opt_text(i, what)?;
        id.map(|s| parsed(s, what, SubjectId::new)).transpose()
    };
    let actor = match (
        row.text(3, "mfa_audit.actor_kind")?.as_str(),
        subject(4, "mfa_audit.actor_id")?,
    ) {
        ("subject", Some(id)) => Actor::Subject(id),
        ("admin", Some(id)) => Actor::Admin(id),
        ("system", None) => Actor::System,
        _ => return Err(corrupt("mfa_audit.actor_kind", None).into()),
    };
    let factor = row.opt_text(6, "mfa_audit.factor")?;
    Ok(AuditEvent {
        id: row.number(0, "mfa_audit.id")?,
        event: NewAuditEvent {
            at: row.time(1, "mfa_audit.at")?,
            subject: subject(2, "mfa_audit.subject")?,
            actor,
            action: row.parse(5, "mfa_audit.action", |a| AuditAction::parse(&a))?,
            factor: factor
                .map(|f| parsed(f, "mfa_audit.factor", |f| FactorKind::parse(&f)))
                .transpose()?,
            detail: row.opt_text(7, "mfa_audit.detail")?,
        },
    })
}

/// The seven arguments of `append_audit`, in column order.
pub(crate) fn audit_args(event: &NewAuditEvent) -> OpResult<[Arg<'_>; 7]> {
    let (actor_kind, actor_id) = match &event.actor {
        Actor::Subject(id) => ("subject", Some(id.as_str())),
        Actor::Admin(id) => ("admin", Some(id.as_str())),
        Actor::System => ("system", None),
    };
    Ok([
        Arg::Int(stored_time(event.at, "at")?),
        Arg::OptId(event.subject.as_ref().map(SubjectId::as_str)),
        Arg::Text(actor_kind),
        Arg::OptId(actor_id),
        Arg::Text(event.action.as_str()),
        Arg::OptText(event.factor.map(FactorKind::as_str)),
        Arg::OptText(event.detail.as_deref()),
    ])
}

/// One `INSERT`; the id comes from the auto-increment column.
pub(crate) async fn append<E: Engine>(db: &SqlStore<E>, event: &NewAuditEvent) -> OpResult<()> {
    db.execute(sql::APPEND_AUDIT, &audit_args(event)?).await?;
    Ok(())
}

/// One `SELECT … ORDER BY id DESC LIMIT n`, `n` capped at
/// [`AuditQuery::MAX_LIMIT`].
pub(crate) async fn list<E: Engine>(
    db: &SqlStore<E>,
    query: &AuditQuery,
) -> OpResult<Vec<AuditEvent>> {
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
        (None, None) => db.fetch_all(sql::AUDIT_ALL, &[limit]).await?,
        (None, Some(before)) => db.fetch_all(sql::AUDIT_BEFORE, &[before, limit]).await?,
        (Some(subject), None) => db.fetch_all(sql::AUDIT_SUBJECT, &[subject, limit]).await?,
        (Some(subject), Some(before)) => {
            let args = [subject, before, limit];
            db.fetch_all(sql::AUDIT_SUBJECT_BEFORE, &args).await?
        }
    };
    rows.iter().map(audit_from).collect()
}
