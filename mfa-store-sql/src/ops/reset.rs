//! Resetting a subject, and (feature `testing`) reading every table.

use mfa_core::SubjectId;
use mfa_core::store::ResetSummary;

use super::{OpResult, subject_arg};
use crate::engine::Engine;
use crate::sql;
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
    let who = subject_arg(subject);
    db.with_subject_lock(subject, async |tx| {
        let summary = ResetSummary {
            pending: tx.execute(sql::DELETE_PENDING_OF_SUBJECT, &who).await?,
            authenticators: tx.execute(sql::DELETE_TOTP_OF_SUBJECT, &who).await?,
            recovery_codes: tx.execute(sql::DELETE_RECOVERY, &who).await?,
            channels: tx.execute(sql::DELETE_CHANNELS, &who).await?,
            devices: tx.execute(sql::REVOKE_DEVICES, &who).await?,
        };
        for delete in [
            sql::DELETE_SENT_CODES,
            sql::DELETE_SENDS,
            sql::DELETE_THROTTLE,
        ] {
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
    use crate::engine::Value;
    use crate::error::corrupt;
    use crate::sql::DUMP;

    for row in db.fetch_all(db.dialect().list_tables, &[]).await? {
        let name = row.text(0, "table name")?;
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
        let mut columns = vec![Vec::with_capacity(rows.len()); first.names.len()];
        for row in &rows {
            for (cells, value) in columns.iter_mut().zip(&row.values) {
                cells.push(match value {
                    None => Vec::new(),
                    Some(Value::Int(n)) => n.to_string().into_bytes(),
                    Some(Value::Bytes(bytes)) => bytes.clone(),
                });
            }
        }
        let named = first.names.iter().zip(columns);
        out.extend(named.map(|(name, cells)| (format!("{table}.{name}"), cells)));
    }
    Ok(out)
}
