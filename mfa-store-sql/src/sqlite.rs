//! [`SqliteStore`]: the store on SQLite.

use core::str::FromStr;
use core::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::engine::{BoxFuture, sqlx_engine};
use crate::sql::MIGRATIONS_TABLE;
use crate::{SqlStore, SqlStoreError, StoreOptions};

/// The MFA store on SQLite: the embedded choice, with no server to run.
///
/// [`connect`](SqlStore::connect) sets SQLite up for concurrent use: WAL
/// journal (readers never wait for the writer), `synchronous = FULL`,
/// foreign keys on, a 5 s busy timeout, a 3 s pool acquire timeout (see
/// [`StoreOptions`]), and the database file created if missing.
///
/// `synchronous = FULL` makes every commit durable: in WAL mode SQLite
/// syncs the log at each commit, so a consumed TOTP step, recovery code or
/// counted failure survives a power loss or an operating-system crash.
/// (`NORMAL` would sync only at checkpoints: the last commits could be
/// forgotten, and a code accepted just before the crash accepted again.)
/// `sqlite::memory:` gives a private in-memory database held by a single
/// pooled connection that is never closed (each connection to `:memory:`
/// would otherwise see a database of its own, and the data would vanish
/// with the last connection).
///
/// Every transaction that writes starts with `BEGIN IMMEDIATE`, so it
/// holds SQLite's single write lock from its first statement: transactions
/// never interleave, from this pool or any other process on the same file.
///
/// [`migrate`](SqlStore::migrate) runs the whole migration in one `BEGIN
/// IMMEDIATE` transaction (sqlx takes no lock on SQLite): a second
/// migrator waits for the first (up to the busy timeout), then finds
/// everything applied.
///
/// A store made with [`from_pool`](SqlStore::from_pool) should use a single
/// connection for an in-memory database, and for a file the options of
/// [`connect_options`](SqlStore::connect_options) (WAL, `synchronous =
/// FULL`, a busy timeout).
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use mfa_store_sql::SqliteStore;
///
/// let store = SqliteStore::connect("sqlite://mfa.db").await?;
/// store.migrate().await?;
/// # Ok(()) }
/// ```
pub type SqliteStore = SqlStore<sqlx::Sqlite>;

impl SqlStore<sqlx::Sqlite> {
    /// How long a statement waits for another connection's write lock.
    pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

    /// The connect options [`connect`](Self::connect) uses for `url`
    /// (`sqlite://path/to/file.db`, `sqlite:file.db`, `sqlite::memory:`),
    /// to adjust before building a pool of your own.
    ///
    /// # Errors
    /// [`SqlStoreError::Config`] for a malformed URL.
    pub fn connect_options(url: &str) -> Result<SqliteConnectOptions, SqlStoreError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(SqlStoreError::Config)?
            .foreign_keys(true)
            .busy_timeout(Self::BUSY_TIMEOUT);
        Ok(if is_memory(url) {
            options
        } else {
            options
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
        })
    }
}

async fn connect(url: &str, settings: StoreOptions) -> Result<SqlitePool, SqlStoreError> {
    let options = SqliteStore::connect_options(url)?;
    let pool = SqlitePoolOptions::new().acquire_timeout(settings.acquire_timeout);
    let pool = if is_memory(url) {
        pool.min_connections(1)
            .max_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options)
            .await
    } else {
        pool.connect_with(options).await
    };
    pool.map_err(SqlStoreError::Connect)
}

async fn migrate(pool: &SqlitePool) -> Result<(), SqlStoreError> {
    let mut migrator = sqlx::migrate!("migrations/sqlite");
    migrator.dangerous_set_table_name(MIGRATIONS_TABLE);
    let failed = |e: sqlx::Error| SqlStoreError::Migrate(e.into());
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(failed)?;
    // `run_direct` is what `Migrator::run` calls once it has a connection;
    // given one directly (here: inside our transaction) its future is
    // provably `Send`, which `run(&mut conn)`'s is not ("`Acquire` is not
    // general enough"). Boxed: see `BoxFuture`.
    let run: BoxFuture<'_, _> = Box::pin(migrator.run_direct(None, &mut *tx, false));
    run.await.map_err(SqlStoreError::Migrate)?;
    tx.commit().await.map_err(failed)
}

/// Whether the URL names an in-memory database.
fn is_memory(url: &str) -> bool {
    let rest = url
        .strip_prefix("sqlite:")
        .unwrap_or(url)
        .trim_start_matches("//");
    let (path, params) = rest.split_once('?').unwrap_or((rest, ""));
    path == ":memory:" || params.split('&').any(|p| p == "mode=memory")
}

sqlx_engine!(sqlx::Sqlite, Sqlite, begin: "BEGIN IMMEDIATE", ids_as_bytes: false);

#[cfg(test)]
mod tests {
    use super::is_memory;

    #[test]
    fn memory_urls() {
        assert!(is_memory("sqlite::memory:"));
        assert!(is_memory("sqlite://:memory:"));
        assert!(is_memory("sqlite://file:x?mode=memory&cache=shared"));
        assert!(!is_memory("sqlite://mfa.db"));
        assert!(!is_memory("sqlite:mfa.db?mode=rwc"));
    }
}
