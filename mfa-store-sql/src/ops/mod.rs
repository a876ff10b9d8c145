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

use core::num::TryFromIntError;

use mfa_core::otp::{Algorithm, Digits, TotpConfig};
use mfa_core::pepper::CodeHash;
use mfa_core::seal::Sealed;
use mfa_core::store::{PendingTotp, TotpCredential};
use mfa_core::{CredentialId, SubjectId, Timestamp};

use crate::engine::{Arg, Row, Value};
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

/// A missing value where the column may not be NULL.
fn not_null<T>(value: Option<T>, what: &'static str) -> OpResult<T> {
    value.ok_or_else(|| corrupt(what, Some("unexpected NULL".into())).into())
}

/// The columns of a result row, by index. `what` names the column: a
/// value that is missing, of another kind or refused is corrupt.
impl Row {
    /// A nullable integer column.
    pub(crate) fn opt_int(&self, i: usize, what: &'static str) -> OpResult<Option<i64>> {
        match self.values.get(i) {
            Some(None) => Ok(None),
            Some(Some(Value::Int(n))) => Ok(Some(*n)),
            _ => Err(corrupt(what, Some("not an integer".into())).into()),
        }
    }

    /// A nullable text or byte column, as bytes.
    pub(crate) fn opt_bytes(&self, i: usize, what: &'static str) -> OpResult<Option<Vec<u8>>> {
        match self.values.get(i) {
            Some(None) => Ok(None),
            Some(Some(Value::Bytes(bytes))) => Ok(Some(bytes.clone())),
            _ => Err(corrupt(what, Some("not text or bytes".into())).into()),
        }
    }

    /// A nullable text column.
    pub(crate) fn opt_text(&self, i: usize, what: &'static str) -> OpResult<Option<String>> {
        let bytes = self.opt_bytes(i, what)?;
        bytes
            .map(|b| parsed(b, what, String::from_utf8))
            .transpose()
    }

    /// An integer column.
    pub(crate) fn int(&self, i: usize, what: &'static str) -> OpResult<i64> {
        not_null(self.opt_int(i, what)?, what)
    }

    /// A byte column.
    pub(crate) fn bytes(&self, i: usize, what: &'static str) -> OpResult<Vec<u8>> {
        not_null(self.opt_bytes(i, what)?, what)
    }

    /// A text column.
    pub(crate) fn text(&self, i: usize, what: &'static str) -> OpResult<String> {
        not_null(self.opt_text(i, what)?, what)
    }

    /// A text column checked by `parse` (an id, an enum's name, JSON).
    pub(crate) fn parse<T, E>(
        &self,
        i: usize,
        what: &'static str,
        parse: impl FnOnce(String) -> Result<T, E>,
    ) -> OpResult<T>
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        parsed(self.text(i, what)?, what, parse)
    }

    /// An integer column that must fit `T` (a count, a step, an id).
    pub(crate) fn number<T: TryFrom<i64, Error = TryFromIntError>>(
        &self,
        i: usize,
        what: &'static str,
    ) -> OpResult<T> {
        parsed(self.int(i, what)?, what, T::try_from)
    }

    /// A time column.
    pub(crate) fn time(&self, i: usize, what: &'static str) -> OpResult<Timestamp> {
        self.number(i, what).map(Timestamp::from_unix)
    }

    /// A nullable time column.
    pub(crate) fn opt_time(&self, i: usize, what: &'static str) -> OpResult<Option<Timestamp>> {
        let time = |t| parsed(t, what, u64::try_from).map(Timestamp::from_unix);
        self.opt_int(i, what)?.map(time).transpose()
    }

    /// A sealed secret.
    pub(crate) fn sealed(&self, i: usize, what: &'static str) -> OpResult<Sealed> {
        parsed(self.bytes(i, what)?, what, Sealed::from_bytes)
    }

    /// A keyed hash.
    pub(crate) fn code_hash(&self, i: usize, what: &'static str) -> OpResult<CodeHash> {
        parsed(self.bytes(i, what)?, what, |b| CodeHash::from_slice(&b))
    }
}

/// A TOTP configuration from its four columns.
fn read_config(row: &Row, at: usize, table: &'static str) -> OpResult<TotpConfig> {
    let algorithm: Algorithm = row.parse(at, table, |a| a.parse())?;
    let digits = parsed(row.number(at + 1, table)?, table, Digits::new)?;
    let period = row.number(at + 2, table)?;
    let config = parsed((algorithm, digits, period), table, |(a, d, p)| {
        TotpConfig::new(a, d, p)
    })?;
    Ok(config.with_t0(row.number(at + 3, table)?))
}

/// Columns: id, subject, sealed_secret, algorithm, digits, period, t0,
/// created_at, expires_at.
pub(crate) fn pending_from(row: &Row) -> OpResult<PendingTotp> {
    Ok(PendingTotp {
        id: row.parse(0, "mfa_totp_pending.id", CredentialId::new)?,
        subject: row.parse(1, "mfa_totp_pending.subject", SubjectId::new)?,
        sealed_secret: row.sealed(2, "mfa_totp_pending.sealed_secret")?,
        config: read_config(row, 3, "mfa_totp_pending")?,
        created_at: row.time(7, "mfa_totp_pending.created_at")?,
        expires_at: row.time(8, "mfa_totp_pending.expires_at")?,
    })
}

/// Columns from `at`: id, subject, name, sealed_secret, algorithm, digits,
/// period, t0, last_step, drift, created_at, last_used_at.
pub(crate) fn totp_from(row: &Row, at: usize) -> OpResult<TotpCredential> {
    let last_step = row.opt_int(at + 8, "mfa_totp.last_step")?;
    Ok(TotpCredential {
        id: row.parse(at, "mfa_totp.id", CredentialId::new)?,
        subject: row.parse(at + 1, "mfa_totp.subject", SubjectId::new)?,
        name: row.text(at + 2, "mfa_totp.name")?,
        sealed_secret: row.sealed(at + 3, "mfa_totp.sealed_secret")?,
        config: read_config(row, at + 4, "mfa_totp")?,
        last_step: last_step
            .map(|s| parsed(s, "mfa_totp.last_step", u64::try_from))
            .transpose()?,
        drift: row.number(at + 9, "mfa_totp.drift")?,
        created_at: row.time(at + 10, "mfa_totp.created_at")?,
        last_used_at: row.opt_time(at + 11, "mfa_totp.last_used_at")?,
    })
}

/// The first column of the first row, as a count (0 without a row).
pub(crate) fn count_from(row: Option<Row>) -> OpResult<i64> {
    row.map_or(Ok(0), |row| row.int(0, "COUNT(*)"))
}
