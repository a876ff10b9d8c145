//! Remembered devices.

use mfa_core::pepper::CodeHash;
use mfa_core::store::RememberedDevice;
use mfa_core::{CredentialId, SubjectId, Timestamp};

use super::{
    OpResult, parsed, read, read_code_hash, read_opt_time, read_time, stored_time, subject_arg,
    time_bound,
};
use crate::engine::{Arg, DbRow, Engine};
use crate::store::{End, SqlStore};

/// Columns: id, subject, token_hash, name, created_at, expires_at,
/// last_used_at.
fn device_from(row: &impl DbRow) -> OpResult<RememberedDevice> {
    const T: &str = "mfa_devices";
    Ok(RememberedDevice {
        id: parsed(read(row.id(0), T)?, "mfa_devices.id", CredentialId::new)?,
        subject: parsed(read(row.id(1), T)?, "mfa_devices.subject", SubjectId::new)?,
        token_hash: read_code_hash(&read(row.bytes(2), T)?, "mfa_devices.token_hash")?,
        name: read(row.text(3), T)?,
        created_at: read_time(read(row.int(4), T)?, "mfa_devices.created_at")?,
        expires_at: read_time(read(row.int(5), T)?, "mfa_devices.expires_at")?,
        last_used_at: read_opt_time(read(row.opt_int(6), T)?, "mfa_devices.last_used_at")?,
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
    db.execute(db.sql().insert_device, &args).await?;
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
    let sql = db.sql();
    let args = [
        Arg::Id(subject.as_str()),
        Arg::Bytes(token_hash.as_bytes()),
        Arg::Int(stored_time(now, "last_used_at")?),
    ];
    let row = match sql.read_touched_device {
        None => db.fetch_optional(sql.touch_device, &args).await?,
        Some(read_touched) => {
            db.transaction(async |tx| {
                if tx.execute(sql.touch_device, &args).await? == 0 {
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
    let rows = db.fetch_all(db.sql().list_devices, &args).await?;
    rows.iter().map(device_from).collect()
}

/// One `DELETE`.
pub(crate) async fn revoke<E: Engine>(
    db: &SqlStore<E>,
    subject: &SubjectId,
    id: &CredentialId,
) -> OpResult<bool> {
    let args = [Arg::Id(subject.as_str()), Arg::Id(id.as_str())];
    Ok(db.execute(db.sql().revoke_device, &args).await? > 0)
}

/// One `DELETE`.
pub(crate) async fn revoke_all<E: Engine>(db: &SqlStore<E>, subject: &SubjectId) -> OpResult<u64> {
    db.execute(db.sql().revoke_devices, &subject_arg(subject))
        .await
}
