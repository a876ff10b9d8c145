//! The audit trail: appended by one `INSERT`, read newest first.

use mfa_core::audit::{Actor, AuditAction, AuditEvent, AuditQuery, NewAuditEvent};
use mfa_core::{FactorKind, SubjectId};

use super::{OpResult, parsed, read, read_time, stored_time};
use crate::engine::{Arg, DbRow, Engine};
use crate::error::corrupt;
use crate::store::SqlStore;

/// Columns: id, at, subject, actor_kind, actor_id, action, factor, detail.
fn audit_from(row: &impl DbRow) -> OpResult<AuditEvent> {
    const T: &str = "mfa_audit";
    let subject = |i, what| -> OpResult<Option<SubjectId>> {
        let id = read(row.opt_id(i), T)?;
        id.map(|s| parsed(s, what, SubjectId::new)).transpose()
    };
    let actor = match (
        read(row.text(3), T)?.as_str(),
        subject(4, "mfa_audit.actor_id")?,
    ) {
        ("subject", Some(id)) => Actor::Subject(id),
        ("admin", Some(id)) => Actor::Admin(id),
        ("system", None) => Actor::System,
        _ => return Err(corrupt("mfa_audit.actor_kind", None).into()),
    };
    let factor = read(row.opt_text(6), T)?
        .map(|f| parsed(f, "mfa_audit.factor", |f| FactorKind::parse(&f)))
        .transpose()?;
    Ok(AuditEvent {
        id: parsed(read(row.int(0), T)?, "mfa_audit.id", u64::try_from)?,
        event: NewAuditEvent {
            at: read_time(read(row.int(1), T)?, "mfa_audit.at")?,
            subject: subject(2, "mfa_audit.subject")?,
            actor,
            action: parsed(read(row.text(5), T)?, "mfa_audit.action", |a| {
                AuditAction::parse(&a)
            })?,
            factor,
            detail: read(row.opt_text(7), T)?,
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
    db.execute(db.sql().append_audit, &audit_args(event)?)
        .await?;
    Ok(())
}

/// One `SELECT … ORDER BY id DESC LIMIT n`, `n` capped at
/// [`AuditQuery::MAX_LIMIT`].
pub(crate) async fn list<E: Engine>(
    db: &SqlStore<E>,
    query: &AuditQuery,
) -> OpResult<Vec<AuditEvent>> {
    let sql = db.sql();
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
        (None, None) => db.fetch_all(sql.audit_all, &[limit]).await?,
        (None, Some(before)) => db.fetch_all(sql.audit_before, &[before, limit]).await?,
        (Some(subject), None) => db.fetch_all(sql.audit_subject, &[subject, limit]).await?,
        (Some(subject), Some(before)) => {
            let args = [subject, before, limit];
            db.fetch_all(sql.audit_subject_before, &args).await?
        }
    };
    rows.iter().map(audit_from).collect()
}
