//! Key rotation: paging through the sealed secrets, and re-sealing each
//! by compare-and-set.

use mfa_core::seal::Sealed;
use mfa_core::store::SealedEntry;
use mfa_core::{CredentialId, SubjectId};

use super::OpResult;
use crate::engine::{Arg, Engine};
use crate::sql;
use crate::store::SqlStore;

/// One `SELECT … UNION ALL SELECT … ORDER BY id LIMIT n` over active and
/// pending authenticators (ids compare byte by byte on every engine).
pub(crate) async fn sealed_secrets<E: Engine>(
    db: &SqlStore<E>,
    after: Option<&CredentialId>,
    limit: u32,
) -> OpResult<Vec<SealedEntry>> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    // Every id is non-empty, so all of them sort after "".
    let after = after.map_or("", CredentialId::as_str);
    let args = [Arg::Id(after), Arg::Int(limit.into())];
    let rows = db.fetch_all(db.dialect().sealed_after, &args).await?;
    rows.iter()
        .map(|row| {
            Ok(SealedEntry {
                credential: row.parse(0, "credential id", CredentialId::new)?,
                subject: row.parse(1, "subject", SubjectId::new)?,
                sealed: row.sealed(2, "sealed_secret")?,
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
    let args = [
        Arg::Id(id.as_str()),
        Arg::Bytes(expected.as_bytes()),
        Arg::Bytes(new.as_bytes()),
    ];
    if db.execute(sql::RESEAL_PENDING, &args).await? > 0 {
        return Ok(true);
    }
    Ok(db.execute(sql::RESEAL_TOTP, &args).await? > 0)
}
