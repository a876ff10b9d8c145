//! The [`Store`](mfa_core::Store) operations, written once for every
//! engine, one module per area. Each guarantee in the trait's contract is
//! enforced by the database: a conditional statement whose affected-row
//! count decides, an `ON CONFLICT` / `ON DUPLICATE KEY` upsert, or a
//! transaction that first locks the row everything else depends on
//! ([`SqlStore::with_subject_lock`](crate::SqlStore)). Nothing is read,
//! decided in Rust and written back without such a lock.
//!
//! This module holds what they share: the error type and the conversions
//! between stored columns and `mfa_core` values.

use mfa_core::otp::{Algorithm, Digits, TotpConfig};
use mfa_core::pepper::CodeHash;
use mfa_core::seal::Sealed;
use mfa_core::store::{PendingTotp, TotpCredential};
use mfa_core::{CredentialId, SubjectId, Timestamp};

use crate::engine::{Arg, DbRow};
use crate::error::{SqlStoreError, corrupt};

pub(crate) mod audit;
pub(crate) mod devices;
pub(crate) mod factors;
pub(crate) mod key_rotation;
pub(crate) mod policy;
pub(crate) mod recovery;
pub(crate) mod reset;
pub(crate) mod sent_codes;
pub(crate) mod throttle;
pub(crate) mod totp;

/// Why an operation failed, before it is reported as an
/// [`mfa_core::Error`].
#[derive(Debug)]
pub(crate) enum OpError {
    /// The database failed; classified by the engine.
    Db(sqlx::Error),
    /// A value could not be stored or read back.
    Value(SqlStoreError),
}

impl From<sqlx::Error> for OpError {
    fn from(error: sqlx::Error) -> Self {
        Self::Db(error)
    }
}

impl From<SqlStoreError> for OpError {
    fn from(error: SqlStoreError) -> Self {
        Self::Value(error)
    }
}

/// What an operation returns.
pub(crate) type OpResult<T> = Result<T, OpError>;

// ----- values to store ----------------------------------------------------

/// A value to store in a BIGINT column.
pub(crate) fn to_bigint(value: u64, what: &'static str) -> OpResult<i64> {
    i64::try_from(value).map_err(|_| SqlStoreError::OutOfRange { what }.into())
}

/// A time to store.
pub(crate) fn stored_time(at: Timestamp, what: &'static str) -> OpResult<i64> {
    to_bigint(at.unix(), what)
}

/// A time only compared against stored times. Stored times never exceed
/// `i64::MAX`, so saturating keeps every comparison exact.
pub(crate) fn time_bound(at: Timestamp) -> i64 {
    i64::try_from(at.unix()).unwrap_or(i64::MAX)
}

/// The one argument most statements take.
pub(crate) fn subject_arg(subject: &SubjectId) -> [Arg<'_>; 1] {
    [Arg::Id(subject.as_str())]
}

// ----- stored values ------------------------------------------------------

/// A column read from a row of `table`; a column that does not decode is
/// corrupt.
pub(crate) fn read<T>(column: Result<T, sqlx::Error>, table: &'static str) -> OpResult<T> {
    column.map_err(|e| corrupt(table, Some(Box::new(e))).into())
}

/// A value checked by `parse`; one it refuses is corrupt.
pub(crate) fn parsed<T, U, E>(
    value: T,
    what: &'static str,
    parse: impl FnOnce(T) -> Result<U, E>,
) -> OpResult<U>
where
    E: std::error::Error + Send + Sync + 'static,
{
    parse(value).map_err(|e| corrupt(what, Some(Box::new(e))).into())
}

pub(crate) fn read_time(value: i64, what: &'static str) -> OpResult<Timestamp> {
    parsed(value, what, u64::try_from).map(Timestamp::from_unix)
}

pub(crate) fn read_count(value: i64, what: &'static str) -> OpResult<u32> {
    parsed(value, what, u32::try_from)
}

pub(crate) fn read_sealed(bytes: Vec<u8>, what: &'static str) -> OpResult<Sealed> {
    parsed(bytes, what, Sealed::from_bytes)
}

pub(crate) fn read_code_hash(bytes: &[u8], what: &'static str) -> OpResult<CodeHash> {
    parsed(bytes, what, CodeHash::from_slice)
}

/// An optional time column.
pub(crate) fn read_opt_time(value: Option<i64>, what: &'static str) -> OpResult<Option<Timestamp>> {
    value.map(|t| read_time(t, what)).transpose()
}

/// A TOTP configuration from its four columns.
fn read_config(row: &impl DbRow, at: usize, table: &'static str) -> OpResult<TotpConfig> {
    let algorithm: Algorithm = parsed(read(row.text(at), table)?, table, |a| a.parse())?;
    let digits = u32::try_from(read(row.int(at + 1), table)?)
        .ok()
        .and_then(|d| Digits::new(d).ok())
        .ok_or_else(|| corrupt(table, Some("digits".into())))?;
    let period = parsed(read(row.int(at + 2), table)?, table, u64::try_from)?;
    let t0 = parsed(read(row.int(at + 3), table)?, table, u64::try_from)?;
    Ok(parsed((algorithm, digits, period), table, |(a, d, p)| {
        TotpConfig::new(a, d, p)
    })?
    .with_t0(t0))
}

/// Columns: id, subject, sealed_secret, algorithm, digits, period, t0,
/// created_at, expires_at.
pub(crate) fn pending_from(row: &impl DbRow) -> OpResult<PendingTotp> {
    const T: &str = "mfa_totp_pending";
    Ok(PendingTotp {
        id: parsed(
            read(row.id(0), T)?,
            "mfa_totp_pending.id",
            CredentialId::new,
        )?,
        subject: parsed(
            read(row.id(1), T)?,
            "mfa_totp_pending.subject",
            SubjectId::new,
        )?,
        sealed_secret: read_sealed(read(row.bytes(2), T)?, "mfa_totp_pending.sealed_secret")?,
        config: read_config(row, 3, T)?,
        created_at: read_time(read(row.int(7), T)?, "mfa_totp_pending.created_at")?,
        expires_at: read_time(read(row.int(8), T)?, "mfa_totp_pending.expires_at")?,
    })
}

/// Columns from `at`: id, subject, name, sealed_secret, algorithm, digits,
/// period, t0, last_step, drift, created_at, last_used_at.
pub(crate) fn totp_from(row: &impl DbRow, at: usize) -> OpResult<TotpCredential> {
    const T: &str = "mfa_totp";
    Ok(TotpCredential {
        id: parsed(read(row.id(at), T)?, "mfa_totp.id", CredentialId::new)?,
        subject: parsed(read(row.id(at + 1), T)?, "mfa_totp.subject", SubjectId::new)?,
        name: read(row.text(at + 2), T)?,
        sealed_secret: read_sealed(read(row.bytes(at + 3), T)?, "mfa_totp.sealed_secret")?,
        config: read_config(row, at + 4, T)?,
        last_step: read(row.opt_int(at + 8), T)?
            .map(|s| parsed(s, "mfa_totp.last_step", u64::try_from))
            .transpose()?,
        drift: parsed(read(row.int(at + 9), T)?, "mfa_totp.drift", i16::try_from)?,
        created_at: read_time(read(row.int(at + 10), T)?, "mfa_totp.created_at")?,
        last_used_at: read_opt_time(read(row.opt_int(at + 11), T)?, "mfa_totp.last_used_at")?,
    })
}

/// The first column of the first row, as a count (0 without a row).
pub(crate) fn count_from(row: Option<impl DbRow>) -> OpResult<i64> {
    row.map_or(Ok(0), |row| read(row.int(0), "COUNT(*)"))
}
