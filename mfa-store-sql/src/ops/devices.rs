//! Remembered devices.

use mfa_core::pepper::CodeHash;
use mfa_core::store::RememberedDevice;
use mfa_core::{CredentialId, SubjectId, Timestamp};

use super::{OpResult, stored_time, subject_arg, time_bound};
use crate::engine::{Arg, Engine, Row};
use crate::sql;
use crate::store::{End, SqlStore};

/// Columns: id, subject, token_hash, name, created_at, expires_at,
/// last_used_at.
fn device_from(row: &Row) -> OpResult<RememberedDevice> {
    Ok(RememberedDevice {
        id: row.parse(0, "mfa_devices.id", CredentialId::new)?,
        subject: row.parse(1, "mfa_devices.subject", SubjectId::new)?,
        token_hash: row.code_hash(2, "mfa_devices.token_hash")?,
        name: row.text(3, "mfa_devices.name")?,
        created_at: row.time(4, "mfa_devices.created_at")?,
        expires_at: row.time(5, "mfa_devices.expires_at")?,
        last_used_at: row.opt_time(6, "mfa_devices.last_used_at")?,
    })
}

/// One `INSERT`; an id that already exists is a unique violation.
pub(crate) async fn put<E: Engine>(db: &SqlStore<E>, d: &RememberedDevice) -> OpResult<()> {
    let last_used = d.last_used_at.map(|t| stored_time(t, "last_used_at"));
    let args = [
        Arg::Id(d.id.as_str()),
        Arg::Id(d.subject.as_str()),
        Arg::Bytes(d.token_hash.as_bytes()),
        Arg::Text(&d.name),
        Arg::Int(stored_time(d.created_at, "created_at")?),
        Arg::Int(stored_time(d.expires_at, "expires_at")?),
        Arg::OptInt(last_used.transpose()?),
    ];
    db.execute(sql::INSERT_DEVICE, &args).await?;
    Ok(())
}

/// One `UPDATE … WHERE expires_at > now RETURNING …` (MySQL: the update and
/// a read of the row in one transaction).
pub(crate) async fn touch<E: Engine>(
    db: &SqlStore<E>,
    subject: &SubjectId,
    token_hash: &CodeHash,
    now: Timestamp,
) -> OpResult<Option<RememberedDevice>> {
    let dialect = db.dialect();
    let args = [
        Arg::Id(subject.as_str()),
        Arg::Bytes(token_hash.as_bytes()),
        Arg::Int(stored_time(now, "last_used_at")?),
    ];
    let row = match dialect.read_touched_device {
        None => db.fetch_optional(dialect.touch_device, &args).await?,
        Some(read_touched) => {
            db.transaction(async |tx| {
                if tx.execute(dialect.touch_device, &args).await? == 0 {
                    return Ok(End::Rollback(None));
                }
                Ok(End::Commit(tx.fetch_optional(read_touched, &args).await?))
            })
            .await?
        }
    };
    row.map(|r| device_from(&r)).transpose()
}

/// One `SELECT … ORDER BY created_at DESC, seq DESC`.
pub(crate) async fn list<E: Engine>(
    db: &SqlStore<E>,
    subject: &SubjectId,
    now: Timestamp,
) -> OpResult<Vec<RememberedDevice>> {
    let args = [Arg::Id(subject.as_str()), Arg::Int(time_bound(now))];
    let rows = db.fetch_all(sql::LIST_DEVICES, &args).await?;
    rows.iter().map(device_from).collect()
}

/// One `DELETE`.
pub(crate) async fn revoke<E: Engine>(
    db: &SqlStore<E>,
    subject: &SubjectId,
    id: &CredentialId,
) -> OpResult<bool> {
    let args = [Arg::Id(subject.as_str()), Arg::Id(id.as_str())];
    Ok(db.execute(sql::REVOKE_DEVICE, &args).await? > 0)
}

/// One `DELETE`.
pub(crate) async fn revoke_all<E: Engine>(db: &SqlStore<E>, subject: &SubjectId) -> OpResult<u64> {
    db.execute(sql::REVOKE_DEVICES, &subject_arg(subject)).await
}
