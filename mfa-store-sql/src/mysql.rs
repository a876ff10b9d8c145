//! [`MySqlStore`]: the store on MySQL and MariaDB.

use sqlx::mysql::{MySqlDatabaseError, MySqlPool, MySqlPoolOptions};

use crate::backend::{Dialect, impl_backend};
use crate::error::{SqlStoreError, classify_mysql};
use crate::ops::impl_store;
use crate::sql::{MIGRATIONS_TABLE, MYSQL};

/// The MFA store on MySQL 8 or MariaDB 10.6+ (InnoDB).
///
/// Transactions run at READ COMMITTED (so that no gap locks are taken)
/// and lock the rows they depend on; a transaction chosen as a deadlock
/// victim is run again. Where MySQL lacks `RETURNING`, the operation reads
/// the row it has just locked inside the same transaction.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use mfa_store_sql::MySqlStore;
///
/// let store = MySqlStore::connect("mysql://app@db.internal/app").await?;
/// store.migrate().await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct MySqlStore {
    pool: MySqlPool,
}

impl MySqlStore {
    /// Connects a pool with sqlx's default settings to `url`
    /// (`mysql://user:password@host:port/database`; `mariadb://` works too).
    ///
    /// # Errors
    /// [`SqlStoreError::Config`] for a malformed URL,
    /// [`SqlStoreError::Connect`] if the server cannot be reached.
    pub async fn connect(url: &str) -> Result<Self, SqlStoreError> {
        let pool = MySqlPoolOptions::new()
            .connect(url)
            .await
            .map_err(|e| match e {
                sqlx::Error::Configuration(_) => SqlStoreError::Config(e),
                e => SqlStoreError::Connect(e),
            })?;
        Ok(Self::from_pool(pool))
    }

    /// A store on a pool you built.
    #[must_use]
    pub fn from_pool(pool: MySqlPool) -> Self {
        Self { pool }
    }

    /// The pool, e.g. to close it.
    #[must_use]
    pub fn pool(&self) -> &MySqlPool {
        &self.pool
    }

    /// Creates or upgrades the MFA tables, recording what was applied in
    /// `_mfa_migrations` (never the host application's `_sqlx_migrations`).
    /// Safe to run again (a no-op) and from several instances at once:
    /// sqlx holds a named lock (`GET_LOCK`) while it migrates.
    ///
    /// # Errors
    /// [`SqlStoreError::Migrate`] if a migration fails or the recorded
    /// migrations do not match this version's.
    pub async fn migrate(&self) -> Result<(), SqlStoreError> {
        let mut migrator = sqlx::migrate!("migrations/mysql");
        migrator.dangerous_set_table_name(MIGRATIONS_TABLE);
        migrator
            .run(&self.pool)
            .await
            .map_err(SqlStoreError::Migrate)
    }
}

impl_backend! {
    store: MySqlStore,
    db: sqlx::MySql,
    row: sqlx::mysql::MySqlRow,
    dialect: Dialect::MySql,
    sql: &MYSQL,
    // One round trip: the isolation level applies to the next transaction
    // only, so pools the application shares are left as they were.
    begin: "SET TRANSACTION ISOLATION LEVEL READ COMMITTED; START TRANSACTION",
    ids_as_bytes: true,
    classify: |error: &dyn sqlx::error::DatabaseError| {
        let number = error
            .try_downcast_ref::<MySqlDatabaseError>()
            .map_or(0, MySqlDatabaseError::number);
        classify_mysql(number, error.code().as_deref())
    },
}

impl_store!(MySqlStore);
