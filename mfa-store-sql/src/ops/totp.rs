//! Authenticator apps: pending enrollments, activation, listing and the
//! compare-and-set that accepts each TOTP step once.

use mfa_core::store::{Activation, PendingTotp, TotpCredential};
use mfa_core::{CredentialId, SubjectId, Timestamp};

use super::{OpResult, pending_from, stored_time, subject_arg, time_bound, to_bigint, totp_from};
use crate::engine::{Arg, Engine};
use crate::sql;
use crate::store::{End, SqlStore};

/// SQLite/PostgreSQL: one `INSERT … ON CONFLICT (subject) DO UPDATE`.
/// MySQL: a transaction that locks the subject's lock row, deletes the
/// subject's pending row and inserts the new one. A pending id that
/// already belongs to another row is a unique violation (an error).
pub(crate) async fn put_pending<E: Engine>(db: &SqlStore<E>, p: &PendingTotp) -> OpResult<()> {
    let dialect = db.dialect();
    let args = [
        Arg::Id(p.id.as_str()),
        Arg::Id(p.subject.as_str()),
        Arg::Bytes(p.sealed_secret.as_bytes()),
        Arg::Text(p.config.algorithm().as_str()),
        Arg::Int(p.config.digits().get().into()),
        Arg::Int(p.config.period().into()),
        Arg::Int(to_bigint(p.config.t0(), "t0")?),
        Arg::Int(stored_time(p.created_at, "created_at")?),
        Arg::Int(stored_time(p.expires_at, "expires_at")?),
    ];
    if let Some(upsert) = dialect.upsert_pending {
        db.execute(upsert, &args).await?;
        return Ok(());
    }
    db.with_subject_lock(&p.subject, async |tx| {
        tx.execute(sql::DELETE_PENDING_OF_SUBJECT, &subject_arg(&p.subject))
            .await?;
        tx.execute(sql::INSERT_PENDING, &args).await?;
        Ok(End::Commit(()))
    })
    .await
}

/// One `SELECT` with `expires_at > now`.
pub(crate) async fn pending<E: Engine>(
    db: &SqlStore<E>,
    subject: &SubjectId,
    id: &CredentialId,
    now: Timestamp,
) -> OpResult<Option<PendingTotp>> {
    let args = [
        Arg::Id(subject.as_str()),
        Arg::Id(id.as_str()),
        Arg::Int(time_bound(now)),
    ];
    let row = db.fetch_optional(sql::GET_PENDING, &args).await?;
    row.map(|row| pending_from(&row)).transpose()
}

/// One transaction: `DELETE … WHERE expires_at > at RETURNING …` of the
/// pending row (MySQL: `SELECT … FOR UPDATE`, then `DELETE`), `INSERT` of
/// the authenticator, and `DELETE` of the active codes of unregistered
/// channels. The delete locks the pending row, so of concurrent
/// activations one deletes it and the others find nothing.
pub(crate) async fn activate<E: Engine>(
    db: &SqlStore<E>,
    subject: &SubjectId,
    id: &CredentialId,
    activation: &Activation,
) -> OpResult<Option<TotpCredential>> {
    let dialect = db.dialect();
    let key = [
        Arg::Id(subject.as_str()),
        Arg::Id(id.as_str()),
        Arg::Int(time_bound(activation.at)),
    ];
    let at = stored_time(activation.at, "activation time")?;
    let step = to_bigint(activation.accepted_step, "TOTP step")?;
    db.transaction(async |tx| {
        let Some(row) = tx.fetch_optional(dialect.take_pending, &key).await? else {
            return Ok(End::Rollback(None));
        };
        let pending = pending_from(&row)?;
        if let Some(delete) = dialect.delete_taken_pending
            && tx.execute(delete, &key[..2]).await? != 1
        {
            return Ok(End::Rollback(None));
        }
        let credential = TotpCredential {
            id: pending.id,
            subject: pending.subject,
            name: activation.name.clone(),
            sealed_secret: pending.sealed_secret,
            config: pending.config,
            last_step: Some(activation.accepted_step),
            drift: activation.drift,
            created_at: activation.at,
            last_used_at: Some(activation.at),
        };
        let c = &credential;
        let insert = [
            Arg::Id(c.id.as_str()),
            Arg::Id(c.subject.as_str()),
            Arg::Text(&c.name),
            Arg::Bytes(c.sealed_secret.as_bytes()),
            Arg::Text(c.config.algorithm().as_str()),
            Arg::Int(c.config.digits().get().into()),
            Arg::Int(c.config.period().into()),
            Arg::Int(to_bigint(c.config.t0(), "t0")?),
            Arg::Int(step),
            Arg::Int(c.drift.into()),
            Arg::Int(at),
            Arg::Int(at),
        ];
        tx.execute(sql::INSERT_TOTP, &insert).await?;
        // The subject now has a factor: pending channel enrollments go.
        tx.execute(sql::DROP_UNREGISTERED_CODES, &subject_arg(subject))
            .await?;
        Ok(End::Commit(Some(credential)))
    })
    .await
}

/// One `SELECT … ORDER BY created_at, seq` (insertion order breaks ties).
pub(crate) async fn list<E: Engine>(
    db: &SqlStore<E>,
    subject: &SubjectId,
) -> OpResult<Vec<TotpCredential>> {
    let rows = db.fetch_all(sql::LIST_TOTP, &subject_arg(subject)).await?;
    rows.iter().map(|row| totp_from(row, 0)).collect()
}

/// A TOTP step to accept: which authenticator, the step and its drift,
/// and when.
#[derive(Clone, Copy)]
pub(crate) struct StepUse<'a> {
    pub(crate) subject: &'a SubjectId,
    pub(crate) id: &'a CredentialId,
    pub(crate) step: u64,
    pub(crate) drift: i16,
    pub(crate) now: Timestamp,
}

impl StepUse<'_> {
    /// The five arguments of `consume_step`, in order.
    pub(crate) fn args(&self) -> OpResult<[Arg<'_>; 5]> {
        Ok([
            Arg::Id(self.subject.as_str()),
            Arg::Id(self.id.as_str()),
            Arg::Int(to_bigint(self.step, "TOTP step")?),
            Arg::Int(self.drift.into()),
            Arg::Int(stored_time(self.now, "last_used_at")?),
        ])
    }
}

/// One conditional `UPDATE … WHERE … AND (last_step IS NULL OR last_step <
/// step)`; accepted iff it changed a row. The row lock the update takes
/// makes concurrent updates with the same step see each other's write:
/// exactly one changes the row.
pub(crate) async fn consume_step<E: Engine>(db: &SqlStore<E>, step: StepUse<'_>) -> OpResult<bool> {
    Ok(db.execute(sql::CONSUME_STEP, &step.args()?).await? > 0)
}

/// One `UPDATE` of the name; if it changed no row (MySQL counts an
/// unchanged row as unchanged), one `SELECT` says whether the
/// authenticator exists.
pub(crate) async fn rename<E: Engine>(
    db: &SqlStore<E>,
    subject: &SubjectId,
    id: &CredentialId,
    name: &str,
) -> OpResult<bool> {
    let args = [
        Arg::Id(subject.as_str()),
        Arg::Id(id.as_str()),
        Arg::Text(name),
    ];
    if db.execute(sql::RENAME_TOTP, &args).await? > 0 {
        return Ok(true);
    }
    let key = [Arg::Id(subject.as_str()), Arg::Id(id.as_str())];
    Ok(db.fetch_optional(sql::TOTP_EXISTS, &key).await?.is_some())
}
