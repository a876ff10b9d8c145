//! [`MySqlStore`]: the store on MySQL and MariaDB.

use sqlx::mysql::{MySqlDatabaseError, MySqlPool, MySqlPoolOptions};

use crate::StoreOptions;
use crate::backend::{BoxFuture, Dialect, impl_backend};
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
    statements: crate::backend::Counter,
}

impl MySqlStore {
    /// Connects a pool to `url` (`mysql://user:password@host:port/database`; `mariadb://` works too)
    /// with sqlx's default settings, except the acquire timeout:
    /// [`StoreOptions::default()`] (3 s). Same as
    /// [`connect_with`](Self::connect_with) with the default options.
    ///
    /// # Errors
    /// [`SqlStoreError::Config`] for a malformed URL,
    /// [`SqlStoreError::Connect`] if the server cannot be reached within
    /// the acquire timeout.
    pub async fn connect(url: &str) -> Result<Self, SqlStoreError> {
        Self::connect_with(url, StoreOptions::default()).await
    }

    /// Connects a pool to `url` with sqlx's default settings and
    /// `options` (see [`StoreOptions`]).
    ///
    /// # Errors
    /// As [`connect`](Self::connect).
    pub async fn connect_with(url: &str, options: StoreOptions) -> Result<Self, SqlStoreError> {
        let pool = MySqlPoolOptions::new()
            .acquire_timeout(options.acquire_timeout)
            .connect(url)
            .await
            .map_err(|e| match e {
                sqlx::Error::Configuration(_) => SqlStoreError::Config(e),
                e => SqlStoreError::Connect(e),
            })?;
        Ok(Self::from_pool(pool))
    }

    /// A store on a pool you built; the pool's own settings apply (its
    /// acquire timeout included: sqlx's default is 30 s).
    #[must_use]
    pub fn from_pool(pool: MySqlPool) -> Self {
        Self {
            pool,
            statements: crate::backend::Counter::default(),
        }
    }

    /// The pool, e.g. to close it.
    #[must_use]
    pub fn pool(&self) -> &MySqlPool {
        &self.pool
    }

    /// How long [`migrate`](Self::migrate) waits for another instance's
    /// migration to finish.
    pub const MIGRATE_LOCK_WAIT: core::time::Duration = core::time::Duration::from_secs(120);

    /// Creates or upgrades the MFA tables, recording what was applied in
    /// `_mfa_migrations` (never the host application's `_sqlx_migrations`).
    ///
    /// Safe to run again (a no-op) and from several instances at once: it
    /// holds a named lock (`GET_LOCK`, one per database) while it
    /// migrates, and a second instance waits for it (up to
    /// [`MIGRATE_LOCK_WAIT`](Self::MIGRATE_LOCK_WAIT)), then finds
    /// everything applied. (sqlx's own migration lock asks for an infinite
    /// wait with a negative timeout, which MariaDB answers at once with
    /// `NULL`, so it is replaced here.)
    ///
    /// # Errors
    /// [`SqlStoreError::Migrate`] if a migration fails or the recorded
    /// migrations do not match this version's;
    /// [`SqlStoreError::MigrateLock`] if the lock was not granted in time.
    pub async fn migrate(&self) -> Result<(), SqlStoreError> {
        const LOCK: &str = "SELECT GET_LOCK(CONCAT('mfa-migrate:', SHA1(DATABASE())), ?)";
        const UNLOCK: &str = "SELECT RELEASE_LOCK(CONCAT('mfa-migrate:', SHA1(DATABASE())))";
        let failed = |e: sqlx::Error| SqlStoreError::Migrate(e.into());
        let mut migrator = sqlx::migrate!("migrations/mysql");
        migrator.dangerous_set_table_name(MIGRATIONS_TABLE);
        migrator.set_locking(false);
        let mut conn = self.pool.acquire().await.map_err(failed)?;
        let wait = i64::try_from(Self::MIGRATE_LOCK_WAIT.as_secs()).unwrap_or(i64::MAX);
        let granted: Option<i64> = sqlx::query_scalar(LOCK)
            .bind(wait)
            .fetch_one(&mut *conn)
            .await
            .map_err(failed)?;
        if granted != Some(1) {
            return Err(SqlStoreError::MigrateLock);
        }
        // `run_direct` is what `Migrator::run` calls once it has a
        // connection; given one directly (the one holding the lock) its
        // future is provably `Send`, which `run(&mut conn)`'s is not
        // ("`Acquire` is not general enough"). Boxed: see `BoxFuture`.
        let run: BoxFuture<'_, _> = Box::pin(migrator.run_direct(None, &mut *conn, false));
        let result = run.await.map_err(SqlStoreError::Migrate);
        if sqlx::query(UNLOCK).execute(&mut *conn).await.is_err() {
            // Never hand a connection that may still hold the lock back to
            // the pool: closing it releases the lock.
            conn.close_on_drop();
        }
        result
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
