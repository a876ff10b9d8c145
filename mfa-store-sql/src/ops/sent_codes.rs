//! E-mail and SMS codes: issued under the subject lock (so the send
//! limits hold exactly), used or counted wrong by conditional statements.

use mfa_core::pepper::CodeHash;
use mfa_core::store::{IssueOutcome, SendLimits, SentCode, SentCodeAttempt};
use mfa_core::{Channel, SubjectId, Timestamp};

use super::{OpResult, stored_time, time_bound};
use crate::engine::{Arg, Engine};
use crate::sql;
use crate::store::{End, SqlStore};

/// One transaction that first locks the subject's lock row, then reads
/// the count, oldest and newest of the sends in the hour
/// (`now - 1 h < issued_at <= now`), decides, and only if allowed prunes
/// sends older than the hour, logs this send and upserts the active code
/// with a fresh try count. Concurrent sends for one subject run one after
/// the other, so the limits hold exactly. `TooSoon` rolls back: nothing is
/// recorded.
pub(crate) async fn issue<E: Engine>(
    db: &SqlStore<E>,
    code: &SentCode,
    limits: SendLimits,
) -> OpResult<IssueOutcome> {
    const HOUR: core::time::Duration = core::time::Duration::from_secs(3600);
    let dialect = db.dialect();
    let issued = stored_time(code.issued_at, "issued_at")?;
    let expires = stored_time(code.expires_at, "expires_at")?;
    let window_start = issued.saturating_sub(3600);
    let (subject, channel) = (
        Arg::Id(code.subject.as_str()),
        Arg::Text(code.channel.as_str()),
    );
    db.with_subject_lock(&code.subject, async |tx| {
        let window = [subject, channel, Arg::Int(window_start), Arg::Int(issued)];
        let (count, oldest, newest) = match tx.fetch_optional(sql::SENDS_IN_WINDOW, &window).await?
        {
            Some(row) => (
                row.int(0, "COUNT(*)")?,
                row.opt_time(1, "MIN(issued_at)")?,
                row.opt_time(2, "MAX(issued_at)")?,
            ),
            None => (0, None, None),
        };
        let cooldown_ends = newest.map(|newest| newest.plus(limits.cooldown));
        let too_soon = if let Some(next) = cooldown_ends.filter(|next| code.issued_at < *next) {
            Some(next)
        } else if count >= i64::from(limits.max_per_hour) {
            Some(oldest.unwrap_or(code.issued_at).plus(HOUR))
        } else {
            None
        };
        if let Some(retry_after) = too_soon {
            return Ok(End::Rollback(IssueOutcome::TooSoon { retry_after }));
        }
        tx.execute(
            sql::PRUNE_SENDS,
            &[subject, channel, Arg::Int(window_start)],
        )
        .await?;
        tx.execute(sql::LOG_SEND, &[subject, channel, Arg::Int(issued)])
            .await?;
        let active = [
            subject,
            channel,
            Arg::Bytes(code.hash.as_bytes()),
            Arg::Int(issued),
            Arg::Int(expires),
        ];
        tx.execute(dialect.set_sent_code, &active).await?;
        Ok(End::Commit(IssueOutcome::Issued))
    })
    .await
}

/// Under the subject lock (so it cannot interleave with a send): deletes
/// the send logged at `code.issued_at` and the active code if it is still
/// `code`'s.
pub(crate) async fn withdraw<E: Engine>(db: &SqlStore<E>, code: &SentCode) -> OpResult<()> {
    let issued = stored_time(code.issued_at, "issued_at")?;
    let (subject, channel) = (
        Arg::Id(code.subject.as_str()),
        Arg::Text(code.channel.as_str()),
    );
    db.with_subject_lock(&code.subject, async |tx| {
        tx.execute(sql::WITHDRAW_SEND, &[subject, channel, Arg::Int(issued)])
            .await?;
        let hash = Arg::Bytes(code.hash.as_bytes());
        tx.execute(sql::WITHDRAW_SENT_CODE, &[subject, channel, hash])
            .await?;
        Ok(End::Commit(()))
    })
    .await
}

/// Two conditional statements, each deciding by itself:
/// 1. `DELETE` the active code `WHERE` the hash matches, it is unexpired
///    and has tries left: if it deleted a row, `Accepted` (the row lock
///    makes exactly one of concurrent right guesses delete it);
/// 2. else `UPDATE … SET tries = tries + 1 WHERE` the hash does *not*
///    match, unexpired, tries left `RETURNING tries` (MySQL: the update,
///    then a read of the count in the same transaction): `Rejected`.
///
/// If neither applies there is no usable code, unless a new code that
/// matches was issued between the two; then step 1 is tried once more.
pub(crate) async fn attempt<E: Engine>(
    db: &SqlStore<E>,
    subject: &SubjectId,
    channel: Channel,
    hash: &CodeHash,
    max_tries: u32,
    now: Timestamp,
) -> OpResult<SentCodeAttempt> {
    let dialect = db.dialect();
    let args = [
        Arg::Id(subject.as_str()),
        Arg::Text(channel.as_str()),
        Arg::Bytes(hash.as_bytes()),
        Arg::Int(time_bound(now)),
        Arg::Int(max_tries.into()),
    ];
    for _ in 0..2 {
        if db.execute(sql::ACCEPT_SENT_CODE, &args).await? > 0 {
            return Ok(SentCodeAttempt::Accepted);
        }
        let row = match dialect.read_sent_code_tries {
            None => db.fetch_optional(dialect.reject_sent_code, &args).await?,
            Some(read_tries) => {
                db.transaction(async |tx| {
                    if tx.execute(dialect.reject_sent_code, &args).await? == 0 {
                        return Ok(End::Rollback(None));
                    }
                    Ok(End::Commit(
                        tx.fetch_optional(read_tries, &args[..2]).await?,
                    ))
                })
                .await?
            }
        };
        if let Some(row) = row {
            let tries: u32 = row.number(0, "mfa_sent_codes.tries")?;
            return Ok(SentCodeAttempt::Rejected {
                tries_left: max_tries.saturating_sub(tries),
            });
        }
    }
    Ok(SentCodeAttempt::NoActiveCode)
}
