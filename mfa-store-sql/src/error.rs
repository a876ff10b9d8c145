//! The crate's own error type, and how database errors become
//! [`mfa_core::Error`]s.

use std::error::Error as StdError;

use crate::engine::EngineKind;

/// A boxed error cause.
type BoxError = Box<dyn StdError + Send + Sync>;

/// What can go wrong in this crate outside the [`Store`](mfa_core::Store)
/// methods (connecting, migrating, URLs), and the causes this crate puts
/// inside [`mfa_core::Error::Store`].
///
/// Messages never contain a secret, a code or the database URL (which may
/// hold a password).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SqlStoreError {
    /// The URL's scheme names no engine this crate knows.
    #[error(
        "unsupported database URL: it must start with sqlite:, postgres:, postgresql:, mysql: or mariadb:"
    )]
    UnsupportedUrl,

    /// The URL names an engine whose cargo feature is not enabled.
    #[error(
        "the database URL is for {engine}, but mfa-store-sql was built without its `{feature}` feature"
    )]
    EngineNotEnabled {
        /// The engine the URL names.
        engine: &'static str,
        /// The cargo feature that would enable it.
        feature: &'static str,
    },

    /// The URL or connect options are invalid.
    #[error("invalid database connection options")]
    Config(#[source] sqlx::Error),

    /// The database could not be reached.
    #[error("could not connect to the database")]
    Connect(#[source] sqlx::Error),

    /// Applying the schema migrations failed.
    #[error("applying the MFA schema migrations failed")]
    Migrate(#[source] sqlx::migrate::MigrateError),

    /// Another instance's migration held the migration lock for too long
    /// (MySQL/MariaDB).
    #[error("timed out waiting for another instance to finish migrating the MFA tables")]
    MigrateLock,

    /// A stored value cannot be read back: the row was altered outside
    /// this crate (or by a newer version of it).
    #[error("a stored value is corrupt: {what}")]
    Corrupt {
        /// Which column.
        what: &'static str,
        /// Why it was refused, where known.
        #[source]
        source: Option<BoxError>,
    },

    /// A value does not fit the database column (a time or step beyond
    /// the year 292 billion).
    #[error("{what} is too large to store")]
    OutOfRange {
        /// Which value.
        what: &'static str,
    },

    /// The policy could not be written or read as JSON.
    #[error("the policy could not be converted to or from JSON")]
    Json(#[source] serde_json::Error),
}

impl SqlStoreError {
    /// Whether retrying later may help: the database could not be reached
    /// or timed out.
    #[must_use]
    pub fn is_unavailable(&self) -> bool {
        match self {
            Self::Connect(e) => is_unavailable_generic(e),
            Self::Migrate(sqlx::migrate::MigrateError::Execute(e)) => is_unavailable_generic(e),
            _ => false,
        }
    }

    /// A pool that could not be built: a bad URL or options, or no
    /// connection.
    #[cfg_attr(not(any(feature = "postgres", feature = "mysql")), allow(dead_code))]
    pub(crate) fn from_connect(error: sqlx::Error) -> Self {
        match error {
            sqlx::Error::Configuration(_) => Self::Config(error),
            error => Self::Connect(error),
        }
    }
}

impl From<SqlStoreError> for mfa_core::Error {
    /// [`mfa_core::Error::StoreUnavailable`] when
    /// [`is_unavailable`](SqlStoreError::is_unavailable), else
    /// [`mfa_core::Error::Store`].
    fn from(error: SqlStoreError) -> Self {
        if error.is_unavailable() {
            Self::StoreUnavailable(Box::new(error))
        } else {
            Self::Store(Box::new(error))
        }
    }
}

/// How an error from the database is handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    /// The transaction was rolled back by a deadlock or serialisation
    /// failure: run the operation again.
    Retry,
    /// Down, unreachable, overloaded or timed out.
    Unavailable,
    /// Anything else (a bug, a constraint, corrupt data).
    Other,
}

/// How `engine` reports `error`: by sqlx's error variant, then by the
/// database's error code.
pub(crate) fn classify(engine: EngineKind, error: &sqlx::Error) -> Class {
    if let Some(class) = classify_transport(error) {
        return class;
    }
    let Some(db) = error.as_database_error() else {
        return Class::Other;
    };
    let code = db.code();
    match engine {
        EngineKind::Sqlite => {
            classify_sqlite(code.and_then(|c| c.parse().ok()).unwrap_or_default())
        }
        EngineKind::Postgres => code.map_or(Class::Other, |code| classify_postgres(&code)),
        EngineKind::MySql => {
            #[cfg(feature = "mysql")]
            let number = db
                .try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>()
                .map_or(0, sqlx::mysql::MySqlDatabaseError::number);
            #[cfg(not(feature = "mysql"))]
            let number = 0;
            classify_mysql(number, code.as_deref())
        }
    }
}

/// The engine-independent part of the classification; `None` for errors
/// the database itself reported, which each engine classifies by code.
fn classify_transport(error: &sqlx::Error) -> Option<Class> {
    match error {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_) => Some(Class::Unavailable),
        sqlx::Error::Database(_) => None,
        _ => Some(Class::Other),
    }
}

/// Unavailability as far as it can be told without knowing the engine
/// (for connect and migrate errors).
fn is_unavailable_generic(error: &sqlx::Error) -> bool {
    match classify_transport(error) {
        Some(class) => class == Class::Unavailable,
        None => error.as_database_error().is_some_and(|db| {
            db.code()
                .is_some_and(|code| code.starts_with("08") || code.starts_with("57"))
        }),
    }
}

/// Whether the database refused a row because of a unique key.
pub(crate) fn is_unique_violation(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .is_some_and(|db| db.is_unique_violation())
}

/// PostgreSQL's SQLSTATE classes and codes.
fn classify_postgres(code: &str) -> Class {
    match code {
        // serialization_failure, deadlock_detected
        "40001" | "40P01" => Class::Retry,
        // lock_not_available, read_only_sql_transaction (a standby)
        "55P03" | "25006" => Class::Unavailable,
        // connection exceptions, insufficient resources, operator
        // intervention (shutdown, statement timeout), system errors
        _ if ["08", "53", "57", "58"].iter().any(|c| code.starts_with(c)) => Class::Unavailable,
        _ => Class::Other,
    }
}

/// MySQL/MariaDB error numbers, then SQLSTATE.
fn classify_mysql(number: u16, sqlstate: Option<&str>) -> Class {
    match number {
        // ER_LOCK_DEADLOCK
        1213 => Class::Retry,
        // lock wait timeout, too many connections, shutdown in progress,
        // connection killed, server read-only, query interrupted/timed out
        1205 | 1040 | 1053 | 1927 | 1290 | 1317 | 3024 | 1969 => Class::Unavailable,
        _ => match sqlstate {
            Some("40001") => Class::Retry,
            Some(s) if s.starts_with("08") => Class::Unavailable,
            _ => Class::Other,
        },
    }
}

/// SQLite extended result codes.
fn classify_sqlite(extended: i32) -> Class {
    const BUSY: i32 = 5;
    const LOCKED: i32 = 6;
    const IOERR: i32 = 10;
    const FULL: i32 = 13;
    const CANTOPEN: i32 = 14;
    const READONLY: i32 = 8;
    const BUSY_SNAPSHOT: i32 = BUSY | (2 << 8);
    if extended == BUSY_SNAPSHOT {
        // A deferred transaction's snapshot went stale; a new one works.
        return Class::Retry;
    }
    match extended & 0xff {
        // The busy timeout expired, a shared-cache table is locked, or the
        // file cannot be read, written or opened.
        BUSY | LOCKED | IOERR | FULL | CANTOPEN | READONLY => Class::Unavailable,
        _ => Class::Other,
    }
}

/// A corrupt stored value.
pub(crate) fn corrupt(what: &'static str, source: Option<BoxError>) -> SqlStoreError {
    SqlStoreError::Corrupt { what, source }
}
