//! [`MySqlStore`]: the store on MySQL and MariaDB.

use core::time::Duration;

use sqlx::mysql::MySqlPool;

use crate::engine::{BoxFuture, connect_pool as connect, sqlx_engine};
use crate::sql::MIGRATIONS_TABLE;
use crate::{SqlStore, SqlStoreError};

/// The MFA store on MySQL 8 or MariaDB 10.6+ (InnoDB).
///
/// Transactions run at READ COMMITTED (so that no gap locks are taken)
/// and lock the rows they depend on; a transaction chosen as a deadlock
/// victim is run again. Where MySQL lacks `RETURNING`, the operation reads
/// the row it has just locked inside the same transaction.
///
/// [`migrate`](SqlStore::migrate) holds a named lock (`GET_LOCK`, one per
/// database) while it migrates, and a second instance waits for it (up to
/// [`MIGRATE_LOCK_WAIT`](SqlStore::MIGRATE_LOCK_WAIT), then
/// [`SqlStoreError::MigrateLock`]), then finds everything applied. (sqlx's
/// own migration lock asks for an infinite wait with a negative timeout,
/// which MariaDB answers at once with `NULL`, so it is replaced here.)
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use mfa_store_sql::MySqlStore;
///
/// let store = MySqlStore::connect("mysql://app@db.internal/app").await?;
/// store.migrate().await?;
/// # Ok(()) }
/// ```
pub type MySqlStore = SqlStore<sqlx::MySql>;

impl SqlStore<sqlx::MySql> {
    /// How long [`migrate`](Self::migrate) waits for another instance's
    /// migration to finish.
    pub const MIGRATE_LOCK_WAIT: Duration = Duration::from_secs(120);
}

async fn migrate(pool: &MySqlPool) -> Result<(), SqlStoreError> {
    const LOCK: &str = "SELECT GET_LOCK(CONCAT('mfa-migrate:', SHA1(DATABASE())), ?)";
    const UNLOCK: &str = "SELECT RELEASE_LOCK(CONCAT('mfa-migrate:', SHA1(DATABASE())))";
    let failed = |e: sqlx::Error| SqlStoreError::Migrate(e.into());
    let mut migrator = sqlx::migrate!("migrations/mysql");
    migrator.dangerous_set_table_name(MIGRATIONS_TABLE);
    migrator.set_locking(false);
    let mut conn = pool.acquire().await.map_err(failed)?;
    let wait = i64::try_from(MySqlStore::MIGRATE_LOCK_WAIT.as_secs()).unwrap_or(i64::MAX);
    let granted: Option<i64> = sqlx::query_scalar(LOCK)
        .bind(wait)
        .fetch_one(&mut *conn)
        .await
        .map_err(failed)?;
    if granted != Some(1) {
        return Err(SqlStoreError::MigrateLock);
    }
    // `run_direct` is what `Migrator::run` calls once it has a connection;
    // given one directly (the one holding the lock) its future is provably
    // `Send`, which `run(&mut conn)`'s is not ("`Acquire` is not general
    // enough"). Boxed: see `BoxFuture`.
    let run: BoxFuture<'_, _> = Box::pin(migrator.run_direct(None, &mut *conn, false));
    let result = run.await.map_err(SqlStoreError::Migrate);
    if sqlx::query(UNLOCK).execute(&mut *conn).await.is_err() {
        // Never hand a connection that may still hold the lock back to the
        // pool: closing it releases the lock.
        conn.close_on_drop();
    }
    result
}

// One round trip to begin: the isolation level applies to the next
// transaction only, so pools the application shares are left as they were.
sqlx_engine!(sqlx::MySql, MySql, begin: "SET TRANSACTION ISOLATION LEVEL READ COMMITTED; START TRANSACTION", ids_as_bytes: true);
