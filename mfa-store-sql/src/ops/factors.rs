//! E-mail/SMS factors and removing factors: operations that lock the
//! subject's lock row first, because they depend on more than one row.

use mfa_core::pepper::CodeHash;
use mfa_core::store::{ChannelAdded, ChannelFactor, FactorRef, Removal, Usable};
use mfa_core::{Channel, SubjectId};

use super::{
    OpResult, count_from, parsed, read, read_code_hash, read_sealed, read_time, stored_time,
    subject_arg,
};
use crate::engine::{Arg, DbRow, Engine};
use crate::store::{End, SqlStore};

/// Columns: channel, added_at, address_hash, sealed_address. A row from
/// before address binding (no hash) gets one that matches no address.
fn channel_from(row: &impl DbRow) -> OpResult<ChannelFactor> {
    const T: &str = "mfa_channels";
    Ok(ChannelFactor {
        channel: parsed(read(row.text(0), T)?, "mfa_channels.channel", |c| {
            Channel::parse(&c)
        })?,
        added_at: read_time(read(row.int(1), T)?, "mfa_channels.added_at")?,
        address_hash: match read(row.opt_bytes(2), T)? {
            Some(bytes) => read_code_hash(&bytes, "mfa_channels.address_hash")?,
            None => CodeHash::from_bytes([0; 32]),
        },
        sealed_address: read(row.opt_bytes(3), T)?
            .map(|bytes| read_sealed(bytes, "mfa_channels.sealed_address"))
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
    let sql = db.sql();
    let row = [
        Arg::Id(subject.as_str()),
        Arg::Text(factor.channel.as_str()),
        Arg::Int(stored_time(factor.added_at, "added_at")?),
        Arg::Bytes(factor.address_hash.as_bytes()),
        Arg::OptBytes(factor.sealed_address.as_ref().map(|s| s.as_bytes())),
    ];
    db.with_subject_lock(subject, async |tx| {
        let previous = tx.fetch_optional(sql.get_channel, &row[..2]).await?;
        let outcome = match previous.map(|row| channel_from(&row)).transpose()? {
            Some(old) if old.address_hash == factor.address_hash => ChannelAdded::Unchanged,
            Some(old) => {
                tx.execute(sql.update_channel, &row).await?;
                ChannelAdded::Replaced { previous: old }
            }
            None => {
                tx.execute(sql.insert_channel, &row).await?;
                ChannelAdded::Added
            }
        };
        tx.execute(sql.delete_pending_of_subject, &subject_arg(subject))
            .await?;
        tx.execute(sql.drop_unregistered_codes, &subject_arg(subject))
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
        .fetch_all(db.sql().list_channels, &subject_arg(subject))
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
    let sql = db.sql();
    let channel_key = |channel: Channel| [Arg::Id(subject.as_str()), Arg::Text(channel.as_str())];
    let (find, delete, key) = match factor {
        FactorRef::Authenticator(id) => (
            sql.totp_exists,
            sql.remove_totp,
            [Arg::Id(subject.as_str()), Arg::Id(id.as_str())],
        ),
        FactorRef::Channel(channel) => (sql.get_channel, sql.remove_channel, channel_key(*channel)),
    };
    db.with_subject_lock(subject, async |tx| {
        if tx.fetch_optional(find, &key).await?.is_none() {
            return Ok(End::Rollback(Removal::NotFound));
        }
        if let Some(keep) = keep {
            let authenticators = count_from(
                tx.fetch_optional(sql.count_totp, &subject_arg(subject))
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
                    .fetch_optional(sql.get_channel, &channel_key(channel))
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
