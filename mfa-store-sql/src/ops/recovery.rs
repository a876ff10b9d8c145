//! Recovery codes: replaced as a set under the subject lock, each used by
//! one conditional `DELETE`.

use std::collections::HashSet;

use mfa_core::pepper::CodeHash;
use mfa_core::store::ReplaceCodes;
use mfa_core::{SubjectId, Timestamp};

use super::{OpResult, count_from, stored_time, subject_arg};
use crate::engine::{Arg, Engine};
use crate::sql;
use crate::store::{End, SqlStore};

/// One transaction that first locks the subject's lock row, then (for
/// `IfNone`) counts the unused codes, deletes them and inserts the new
/// ones. Concurrent calls for one subject run one after the other, and
/// each sees what the previous one committed.
pub(crate) async fn replace<E: Engine>(
    db: &SqlStore<E>,
    subject: &SubjectId,
    hashes: &[CodeHash],
    mode: ReplaceCodes,
    now: Timestamp,
) -> OpResult<bool> {
    let created = stored_time(now, "created_at")?;
    let mut seen = HashSet::with_capacity(hashes.len());
    let unique: Vec<&CodeHash> = hashes.iter().filter(|h| seen.insert(**h)).collect();
    let who = subject_arg(subject);
    db.with_subject_lock(subject, async |tx| {
        if mode == ReplaceCodes::IfNone
            && count_from(tx.fetch_optional(sql::COUNT_RECOVERY, &who).await?)? > 0
        {
            return Ok(End::Rollback(false));
        }
        tx.execute(sql::DELETE_RECOVERY, &who).await?;
        for hash in &unique {
            let args = [who[0], Arg::Bytes(hash.as_bytes()), Arg::Int(created)];
            tx.execute(sql::INSERT_RECOVERY, &args).await?;
        }
        Ok(End::Commit(true))
    })
    .await
}

/// One `DELETE` of the code; used iff it deleted a row.
pub(crate) async fn consume<E: Engine>(
    db: &SqlStore<E>,
    subject: &SubjectId,
    hash: &CodeHash,
) -> OpResult<bool> {
    let args = [Arg::Id(subject.as_str()), Arg::Bytes(hash.as_bytes())];
    Ok(db.execute(sql::CONSUME_RECOVERY, &args).await? > 0)
}

/// One `SELECT COUNT(*)`.
pub(crate) async fn left<E: Engine>(db: &SqlStore<E>, subject: &SubjectId) -> OpResult<u32> {
    let row = db
        .fetch_optional(sql::COUNT_RECOVERY, &subject_arg(subject))
        .await?;
    Ok(u32::try_from(count_from(row)?.max(0)).unwrap_or(u32::MAX))
}
