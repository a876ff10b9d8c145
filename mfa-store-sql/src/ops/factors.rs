//! E-mail/SMS factors and removing factors: operations that lock the
//! subject's lock row first, because they depend on more than one row.

use mfa_core::pepper::CodeHash;
use mfa_core::seal::Sealed;
use mfa_core::store::{ChannelAdded, ChannelFactor, FactorRef, Removal, Usable};
use mfa_core::{Channel, SubjectId};

use super::{OpResult, count_from, parsed, stored_time, subject_arg};
use crate::engine::{Arg, Engine, Row};
use crate::sql;
use crate::store::{End, SqlStore};

/// Columns: channel, added_at, address_hash, sealed_address. A row from
/// before address binding (no hash) gets one that matches no address.
fn channel_from(row: &Row) -> OpResult<ChannelFactor> {
    let (hash, sealed) = ("mfa_channels.address_hash", "mfa_channels.sealed_address");
    Ok(ChannelFactor {
        channel: row.parse(0, "mfa_channels.channel", |c| Channel::parse(&c))?,
        added_at: row.time(1, "mfa_channels.added_at")?,
        address_hash: match row.opt_bytes(2, hash)? {
            Some(bytes) => parsed(bytes, hash, |b| CodeHash::from_slice(&b))?,
            None => CodeHash::from_bytes([0; 32]),
        },
        sealed_address: row
            .opt_bytes(3, sealed)?
            .map(|bytes| parsed(bytes, sealed, Sealed::from_bytes))
            .transpose()?,
    })
}

/// One transaction that first locks the subject's lock row, reads the
/// channel's registration, inserts or replaces it (or leaves it), and
/// deletes the subject's pending authenticator enrollment and the active
/// codes of channels that are not registered.
pub(crate) async fn add_channel<E: Engine>(
    db: &SqlStore<E>,
    subject: &SubjectId,
    factor: &ChannelFactor,
) -> OpResult<ChannelAdded> {
    let row = [
        Arg::Id(subject.as_str()),
        Arg::Text(factor.channel.as_str()),
        Arg::Int(stored_time(factor.added_at, "added_at")?),
        Arg::Bytes(factor.address_hash.as_bytes()),
        Arg::OptBytes(factor.sealed_address.as_ref().map(|s| s.as_bytes())),
    ];
    db.with_subject_lock(subject, async |tx| {
        let previous = tx.fetch_optional(sql::GET_CHANNEL, &row[..2]).await?;
        let outcome = match previous.map(|row| channel_from(&row)).transpose()? {
            Some(old) if old.address_hash == factor.address_hash => ChannelAdded::Unchanged,
            Some(old) => {
                tx.execute(sql::UPDATE_CHANNEL, &row).await?;
                ChannelAdded::Replaced { previous: old }
            }
            None => {
                tx.execute(sql::INSERT_CHANNEL, &row).await?;
                ChannelAdded::Added
            }
        };
        tx.execute(sql::DELETE_PENDING_OF_SUBJECT, &subject_arg(subject))
            .await?;
        tx.execute(sql::DROP_UNREGISTERED_CODES, &subject_arg(subject))
            .await?;
        Ok(End::Commit(outcome))
    })
    .await
}

/// One `SELECT`, sorted e-mail then SMS.
pub(crate) async fn list_channels<E: Engine>(
    db: &SqlStore<E>,
    subject: &SubjectId,
) -> OpResult<Vec<ChannelFactor>> {
    let rows = db
        .fetch_all(sql::LIST_CHANNELS, &subject_arg(subject))
        .await?;
    let mut channels = rows
        .iter()
        .map(channel_from)
        .collect::<OpResult<Vec<_>>>()?;
    channels.sort_by_key(|c| c.channel);
    Ok(channels)
}

/// One transaction that first locks the subject's lock row, checks that
/// the factor exists and, with `keep`, that a usable factor would be left
/// (authenticators; channels with the given address hashes), then deletes
/// it. Removals for one subject run one after the other, so two of them
/// cannot each count the other's factor as the one left.
pub(crate) async fn remove<E: Engine>(
    db: &SqlStore<E>,
    subject: &SubjectId,
    factor: &FactorRef,
    keep: Option<Usable>,
) -> OpResult<Removal> {
    let channel_key = |channel: Channel| [Arg::Id(subject.as_str()), Arg::Text(channel.as_str())];
    let (find, delete, key) = match factor {
        FactorRef::Authenticator(id) => (
            sql::TOTP_EXISTS,
            sql::REMOVE_TOTP,
            [Arg::Id(subject.as_str()), Arg::Id(id.as_str())],
        ),
        FactorRef::Channel(channel) => {
            (sql::GET_CHANNEL, sql::REMOVE_CHANNEL, channel_key(*channel))
        }
    };
    db.with_subject_lock(subject, async |tx| {
        if tx.fetch_optional(find, &key).await?.is_none() {
            return Ok(End::Rollback(Removal::NotFound));
        }
        if let Some(keep) = keep {
            let authenticators = count_from(
                tx.fetch_optional(sql::COUNT_TOTP, &subject_arg(subject))
                    .await?,
            )?;
            let removing_one = i64::from(matches!(factor, FactorRef::Authenticator(_)));
            let mut usable_left = keep.authenticators && authenticators - removing_one > 0;
            for channel in Channel::ALL {
                let Some(wanted) = keep.channel(channel) else {
                    continue;
                };
                if usable_left || *factor == FactorRef::Channel(channel) {
                    continue;
                }
                if let Some(row) = tx
                    .fetch_optional(sql::GET_CHANNEL, &channel_key(channel))
                    .await?
                {
                    usable_left = channel_from(&row)?.address_hash == *wanted;
                }
            }
            if !usable_left {
                return Ok(End::Rollback(Removal::LastUsable));
            }
        }
        tx.execute(delete, &key).await?;
        Ok(End::Commit(Removal::Removed))
    })
    .await
}
