//! [`PostgresStore`]: the store on PostgreSQL.

use sqlx::postgres::{PgPool, PgPoolOptions};

use crate::StoreOptions;
use crate::backend::{Dialect, impl_backend};
use crate::error::{SqlStoreError, classify_postgres};
use crate::ops::impl_store;
use crate::sql::{MIGRATIONS_TABLE, POSTGRES};

/// The MFA store on PostgreSQL: the engine for many app instances sharing
/// one database. Every single-use and counting guarantee holds across
/// instances, because the database enforces it (see the crate docs).
///
/// Transactions run at READ COMMITTED and lock the rows they depend on;
/// a transaction chosen as a deadlock victim is run again.
///
/// The tables live in the connection's current schema (the first one on
/// its `search_path`), so an application can give them a schema of their
/// own with the `options=-c search_path=…` connection parameter.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use mfa_store_sql::PostgresStore;
///
/// let store = PostgresStore::connect("postgres://app@db.internal/app").await?;
/// store.migrate().await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
    statements: crate::backend::Counter,
}

impl PostgresStore {
    /// Connects a pool to `url` (`postgres://user:password@host:port/database`)
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
        let pool = PgPoolOptions::new()
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
    pub fn from_pool(pool: PgPool) -> Self {
        Self {
            pool,
            statements: crate::backend::Counter::default(),
        }
    }

    /// The pool, e.g. to close it.
    #[must_use]
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Creates or upgrades the MFA tables, recording what was applied in
    /// `_mfa_migrations` (never the host application's `_sqlx_migrations`).
    /// Safe to run again (a no-op) and from several instances at once:
    /// sqlx holds a PostgreSQL advisory lock while it migrates.
    ///
    /// # Errors
    /// [`SqlStoreError::Migrate`] if a migration fails or the recorded
    /// migrations do not match this version's.
    pub async fn migrate(&self) -> Result<(), SqlStoreError> {
        let mut migrator = sqlx::migrate!("migrations/postgres");
        migrator.dangerous_set_table_name(MIGRATIONS_TABLE);
        migrator
            .run(&self.pool)
            .await
            .map_err(SqlStoreError::Migrate)
    }
}

impl_backend! {
    store: PostgresStore,
    db: sqlx::Postgres,
    row: sqlx::postgres::PgRow,
    dialect: Dialect::Postgres,
    sql: &POSTGRES,
    begin: "BEGIN ISOLATION LEVEL READ COMMITTED",
    ids_as_bytes: false,
    classify: |error: &dyn sqlx::error::DatabaseError| {
        error
            .code()
            .map_or(crate::error::Class::Other, |code| classify_postgres(&code))
    },
}

impl_store!(PostgresStore);
