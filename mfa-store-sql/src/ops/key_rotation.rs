//! Key rotation: paging through the sealed secrets, and re-sealing each
//! by compare-and-set.

use mfa_core::seal::Sealed;
use mfa_core::store::SealedEntry;
use mfa_core::{CredentialId, SubjectId};

use super::{OpResult, parsed, read, read_sealed};
use crate::engine::{Arg, DbRow, Engine};
use crate::store::SqlStore;

/// One `SELECT … UNION ALL SELECT … ORDER BY id LIMIT n` over active and
/// pending authenticators (ids compare byte by byte on every engine).
pub(crate) async fn sealed_secrets<E: Engine>(
    db: &SqlStore<E>,
    after: Option<&CredentialId>,
    limit: u32,
) -> OpResult<Vec<SealedEntry>> {
    const T: &str = "sealed secrets";
    if limit == 0 {
        return Ok(Vec::new());
    }
    // Every id is non-empty, so all of them sort after "".
    let after = after.map_or("", CredentialId::as_str);
    let args = [Arg::Id(after), Arg::Int(limit.into())];
    let rows = db.fetch_all(db.sql().sealed_after, &args).await?;
    rows.iter()
        .map(|row| {
            Ok(SealedEntry {
                credential: parsed(read(row.id(0), T)?, "credential id", CredentialId::new)?,
                subject: parsed(read(row.id(1), T)?, "subject", SubjectId::new)?,
                sealed: read_sealed(read(row.bytes(2), T)?, "sealed_secret")?,
            })
        })
        .collect()
}

/// Conditional `UPDATE … WHERE id = ? AND sealed_secret = expected`, first
/// on pending enrollments, then on authenticators. In that order, a
/// concurrent activation (which moves the row from the first table to the
/// second in one transaction) cannot make the row be missed in both.
pub(crate) async fn replace_sealed<E: Engine>(
    db: &SqlStore<E>,
    id: &CredentialId,
    expected: &Sealed,
    new: &Sealed,
) -> OpResult<bool> {
    let sql = db.sql();
    let args = [
        Arg::Id(id.as_str()),
        Arg::Bytes(expected.as_bytes()),
        Arg::Bytes(new.as_bytes()),
    ];
    if db.execute(sql.reseal_pending, &args).await? > 0 {
        return Ok(true);
    }
    Ok(db.execute(sql.reseal_totp, &args).await? > 0)
}
