//! E-mail/SMS factors and removing factors: operations that lock the
//! subject's lock row first, because they depend on more than one row.

use mfa_core::pepper::CodeHash;
use mfa_core::store::{ChannelAdded, ChannelFactor, FactorRef, Removal, Usable};
use mfa_core::{Channel, SubjectId};

use super::{R, code_hash, column, corrupt, sealed, to_ts, ts};
use crate::backend::{Arg, Backend, DbRow};

/// Columns: channel, added_at, address_hash, sealed_address. A row from
/// before address binding (no hash) gets one that matches no address.
fn channel_from<Row: DbRow>(row: &Row) -> R<ChannelFactor> {
    const T: &str = "mfa_channels";
    Ok(ChannelFactor {
        channel: Channel::parse(&column(row.text(0), T)?)
            .map_err(|e| corrupt("mfa_channels.channel", Some(Box::new(e))))?,
        added_at: to_ts(column(row.int(1), T)?, "mfa_channels.added_at")?,
        address_hash: match column(row.opt_bytes(2), T)? {
            Some(bytes) => code_hash(&bytes, "mfa_channels.address_hash")?,
            None => CodeHash::from_bytes([0; 32]),
        },
        sealed_address: column(row.opt_bytes(3), T)?
            .map(|bytes| sealed(bytes, "mfa_channels.sealed_address"))
            .transpose()?,
    })
}

/// One transaction that first locks the subject's lock row, reads the
/// channel's registration, inserts or replaces it (or leaves it), and
/// deletes the subject's pending authenticator enrollment and the active
/// codes of channels that are not registered.
pub(crate) async fn add_channel<B: Backend>(
    b: &B,
    subject: &SubjectId,
    factor: &ChannelFactor,
) -> R<ChannelAdded> {
    let sql = B::SQL;
    let who = [Arg::Id(subject.as_str())];
    let key = [
        Arg::Id(subject.as_str()),
        Arg::Text(factor.channel.as_str()),
    ];
    let mut tx = b.begin().await?;
    B::tx_execute(&mut tx, sql.lock_subject, &who).await?;
    let previous = B::tx_fetch_optional(&mut tx, sql.get_channel, &key)
        .await?
        .map(|row| channel_from(&row))
        .transpose()?;
    let row = [
        Arg::Id(subject.as_str()),
        Arg::Text(factor.channel.as_str()),
        Arg::Int(ts(factor.added_at, "added_at")?),
        Arg::Bytes(factor.address_hash.as_bytes()),
        Arg::OptBytes(factor.sealed_address.as_ref().map(|s| s.as_bytes())),
    ];
    let outcome = match previous {
        Some(old) if old.address_hash == factor.address_hash => ChannelAdded::Unchanged,
        Some(old) => {
            B::tx_execute(&mut tx, sql.update_channel, &row).await?;
            ChannelAdded::Replaced { previous: old }
        }
        None => {
            B::tx_execute(&mut tx, sql.insert_channel, &row).await?;
            ChannelAdded::Added
        }
    };
    B::tx_execute(&mut tx, sql.delete_pending_of_subject, &who).await?;
    B::tx_execute(&mut tx, sql.drop_unregistered_codes, &who).await?;
    B::commit(tx).await?;
    Ok(outcome)
}

/// One `SELECT`, sorted e-mail then SMS.
pub(crate) async fn list_channels<B: Backend>(b: &B, subject: &SubjectId) -> R<Vec<ChannelFactor>> {
    let rows = b
        .fetch_all(B::SQL.list_channels, &[Arg::Id(subject.as_str())])
        .await?;
    let mut channels = rows.iter().map(channel_from).collect::<R<Vec<_>>>()?;
    channels.sort_by_key(|c| c.channel);
    Ok(channels)
}

/// One transaction that first locks the subject's lock row, checks that
/// the factor exists and, with `keep`, that a usable factor would be left
/// (authenticators; channels with the given address hashes), then deletes
/// it. Removals for one subject run one after the other, so two of them
/// cannot each count the other's factor as the one left.
pub(crate) async fn remove_factor<B: Backend>(
    b: &B,
    subject: &SubjectId,
    factor: &FactorRef,
    keep: Option<Usable>,
) -> R<Removal> {
    let sql = B::SQL;
    let who = [Arg::Id(subject.as_str())];
    let channel_key = |channel: Channel| [Arg::Id(subject.as_str()), Arg::Text(channel.as_str())];
    let mut tx = b.begin().await?;
    B::tx_execute(&mut tx, sql.lock_subject, &who).await?;
    let exists = match factor {
        FactorRef::Authenticator(id) => {
            let key = [Arg::Id(subject.as_str()), Arg::Id(id.as_str())];
            B::tx_fetch_optional(&mut tx, sql.totp_exists, &key).await?
        }
        FactorRef::Channel(channel) => {
            B::tx_fetch_optional(&mut tx, sql.get_channel, &channel_key(*channel)).await?
        }
    }
    .is_some();
    if !exists {
        B::rollback(tx).await?;
        return Ok(Removal::NotFound);
    }
    if let Some(keep) = keep {
        let authenticators = match B::tx_fetch_optional(&mut tx, sql.count_totp, &who).await? {
            Some(row) => column(row.int(0), "COUNT(*)")?,
            None => 0,
        };
        let removing_one = i64::from(matches!(factor, FactorRef::Authenticator(_)));
        let mut usable_left = keep.authenticators && authenticators - removing_one > 0;
        for channel in Channel::ALL {
            let Some(wanted) = keep.channel(channel) else {
                continue;
            };
            if usable_left || *factor == FactorRef::Channel(channel) {
                continue;
            }
            if let Some(row) =
                B::tx_fetch_optional(&mut tx, sql.get_channel, &channel_key(channel)).await?
            {
                usable_left = channel_from(&row)?.address_hash == *wanted;
            }
        }
        if !usable_left {
            B::rollback(tx).await?;
            return Ok(Removal::LastUsable);
        }
    }
    match factor {
        FactorRef::Authenticator(id) => {
            let key = [Arg::Id(subject.as_str()), Arg::Id(id.as_str())];
            B::tx_execute(&mut tx, sql.remove_totp, &key).await?;
        }
        FactorRef::Channel(channel) => {
            B::tx_execute(&mut tx, sql.remove_channel, &channel_key(*channel)).await?;
        }
    }
    B::commit(tx).await?;
    Ok(Removal::Removed)
}
