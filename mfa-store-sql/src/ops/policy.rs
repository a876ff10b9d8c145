//! The policy (one row of JSON) and the grace records.

use mfa_core::SubjectId;
use mfa_core::policy::{GraceRecord, Policy};

use super::{OpError, OpResult, parsed, read, read_time, stored_time, subject_arg};
use crate::engine::{Arg, DbRow, Engine};
use crate::error::{SqlStoreError, corrupt, is_unique_violation};
use crate::store::SqlStore;

/// One `SELECT` of the JSON text.
pub(crate) async fn load<E: Engine>(db: &SqlStore<E>) -> OpResult<Option<Policy>> {
    let Some(row) = db.fetch_optional(db.sql().load_policy, &[]).await? else {
        return Ok(None);
    };
    let json = read(row.text(0), "mfa_policy.policy")?;
    parsed(json, "mfa_policy.policy", |j| serde_json::from_str(&j)).map(Some)
}

/// One upsert of the single row.
pub(crate) async fn save<E: Engine>(db: &SqlStore<E>, policy: &Policy) -> OpResult<()> {
    let json = serde_json::to_string(policy).map_err(SqlStoreError::Json)?;
    db.execute(db.sql().save_policy, &[Arg::Text(&json)])
        .await?;
    Ok(())
}

/// One `SELECT`.
pub(crate) async fn grace<E: Engine>(
    db: &SqlStore<E>,
    subject: &SubjectId,
) -> OpResult<Option<GraceRecord>> {
    let row = db
        .fetch_optional(db.sql().get_grace, &subject_arg(subject))
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    Ok(Some(GraceRecord {
        fixed_at: read_time(read(row.int(0), "mfa_grace")?, "mfa_grace.fixed_at")?,
        deadline: read_time(read(row.int(1), "mfa_grace")?, "mfa_grace.deadline")?,
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
        match db.execute(db.sql().insert_grace, &args).await {
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
    db.execute(db.sql().clear_grace, &subject_arg(subject))
        .await?;
    Ok(())
}
