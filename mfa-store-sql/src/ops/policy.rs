//! The policy (one row of JSON) and the grace records.

use mfa_core::SubjectId;
use mfa_core::policy::{GraceRecord, Policy};

use super::{OpError, OpResult, stored_time, subject_arg};
use crate::engine::{Arg, Engine};
use crate::error::{SqlStoreError, corrupt, is_unique_violation};
use crate::sql;
use crate::store::SqlStore;

/// One `SELECT` of the JSON text.
pub(crate) async fn load<E: Engine>(db: &SqlStore<E>) -> OpResult<Option<Policy>> {
    let Some(row) = db.fetch_optional(sql::LOAD_POLICY, &[]).await? else {
        return Ok(None);
    };
    row.parse(0, "mfa_policy.policy", |j| serde_json::from_str(&j))
        .map(Some)
}

/// One upsert of the single row.
pub(crate) async fn save<E: Engine>(db: &SqlStore<E>, policy: &Policy) -> OpResult<()> {
    let json = serde_json::to_string(policy).map_err(SqlStoreError::Json)?;
    db.execute(db.dialect().save_policy, &[Arg::Text(&json)])
        .await?;
    Ok(())
}

/// One `SELECT`.
pub(crate) async fn grace<E: Engine>(
    db: &SqlStore<E>,
    subject: &SubjectId,
) -> OpResult<Option<GraceRecord>> {
    let row = db
        .fetch_optional(sql::GET_GRACE, &subject_arg(subject))
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    Ok(Some(GraceRecord {
        fixed_at: row.time(0, "mfa_grace.fixed_at")?,
        deadline: row.time(1, "mfa_grace.deadline")?,
    }))
}

/// `INSERT … ON CONFLICT DO NOTHING` (MySQL: a plain `INSERT`, its unique
/// violation ignored), then a `SELECT` of whichever row won. The insert of
/// a concurrent caller waits for the first to commit, so every caller reads
/// the same row. (Should a concurrent `clear_grace` remove it in between,
/// the insert is tried again.)
pub(crate) async fn fix_grace<E: Engine>(
    db: &SqlStore<E>,
    subject: &SubjectId,
    record: GraceRecord,
) -> OpResult<GraceRecord> {
    let args = [
        Arg::Id(subject.as_str()),
        Arg::Int(stored_time(record.fixed_at, "fixed_at")?),
        Arg::Int(stored_time(record.deadline, "deadline")?),
    ];
    for _ in 0..8 {
        match db.execute(db.dialect().insert_grace, &args).await {
            Err(OpError::Db(e)) if is_unique_violation(&e) => {}
            inserted => {
                inserted?;
            }
        }
        if let Some(stored) = grace(db, subject).await? {
            return Ok(stored);
        }
    }
    let vanishing = "the grace record keeps disappearing";
    Err(corrupt("mfa_grace", Some(vanishing.into())).into())
}

/// One `DELETE`.
pub(crate) async fn clear_grace<E: Engine>(db: &SqlStore<E>, subject: &SubjectId) -> OpResult<()> {
    db.execute(sql::CLEAR_GRACE, &subject_arg(subject)).await?;
    Ok(())
}
