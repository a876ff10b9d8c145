//! Resetting a subject, and (feature `testing`) reading every table.

use mfa_core::SubjectId;
use mfa_core::store::ResetSummary;

use super::{OpResult, subject_arg};
use crate::engine::Engine;
use crate::store::{End, SqlStore};

/// One transaction that locks the subject's lock row (so it runs after or
/// before, never between, the subject's code replacements and sends) and
/// deletes from every table; pending enrollments before authenticators, so
/// that a concurrent activation either completes first (and its
/// authenticator is deleted) or finds its pending row gone.
pub(crate) async fn reset_subject<E: Engine>(
    db: &SqlStore<E>,
    subject: &SubjectId,
) -> OpResult<ResetSummary> {
    let sql = db.sql();
    let who = subject_arg(subject);
    db.with_subject_lock(subject, async |tx| {
        let summary = ResetSummary {
            pending: tx.execute(sql.delete_pending_of_subject, &who).await?,
            authenticators: tx.execute(sql.delete_totp_of_subject, &who).await?,
            recovery_codes: tx.execute(sql.delete_recovery, &who).await?,
            channels: tx.execute(sql.delete_channels, &who).await?,
            devices: tx.execute(sql.revoke_devices, &who).await?,
        };
        for delete in [sql.delete_sent_codes, sql.delete_sends, sql.delete_throttle] {
            tx.execute(delete, &who).await?;
        }
        Ok(End::Commit(summary))
    })
    .await
}

/// See [`SqlStore::dump_all_tables`].
#[cfg(feature = "testing")]
pub(crate) async fn dump_all_tables<E: Engine>(
    db: &SqlStore<E>,
) -> OpResult<Vec<(String, Vec<Vec<u8>>)>> {
    use super::read;
    use crate::engine::DbRow;
    use crate::error::corrupt;
    use crate::sql::DUMP;

    for row in db.fetch_all(db.sql().list_tables, &[]).await? {
        let name = read(row.text(0), "table name")?;
        if name.starts_with("mfa_") && !DUMP.iter().any(|(known, _)| *known == name) {
            let unknown = format!("table {name} is not in the dump list");
            return Err(corrupt("schema", Some(unknown.into())).into());
        }
    }
    let mut out = Vec::new();
    for (table, select) in DUMP {
        let rows = db.fetch_all(select, &[]).await?;
        let Some(first) = rows.first() else {
            out.push(((*table).to_owned(), Vec::new()));
            continue;
        };
        let names = first.column_names();
        let mut columns: Vec<Vec<Vec<u8>>> = vec![Vec::with_capacity(rows.len()); names.len()];
        for row in &rows {
            for (cells, cell) in columns.iter_mut().zip(read(row.cells(), "dump")?) {
                cells.push(cell);
            }
        }
        let named = names.into_iter().zip(columns);
        out.extend(named.map(|(name, cells)| (format!("{table}.{name}"), cells)));
    }
    Ok(out)
}
