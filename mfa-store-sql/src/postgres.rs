//! [`PostgresStore`]: the store on PostgreSQL.

use sqlx::postgres::PgPool;

use crate::engine::{connect_pool as connect, sqlx_engine};
use crate::sql::MIGRATIONS_TABLE;
use crate::{SqlStore, SqlStoreError};

/// The MFA store on PostgreSQL: the engine for many app instances sharing
/// one database. Every single-use and counting guarantee holds across
/// instances, because the database enforces it (see the crate docs).
///
/// Transactions run at READ COMMITTED and lock the rows they depend on;
/// a transaction chosen as a deadlock victim is run again.
/// [`migrate`](SqlStore::migrate) holds a PostgreSQL advisory lock (sqlx's)
/// while it migrates.
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
pub type PostgresStore = SqlStore<sqlx::Postgres>;

async fn migrate(pool: &PgPool) -> Result<(), SqlStoreError> {
    let mut migrator = sqlx::migrate!("migrations/postgres");
    migrator.dangerous_set_table_name(MIGRATIONS_TABLE);
    migrator.run(pool).await.map_err(SqlStoreError::Migrate)
}

sqlx_engine!(sqlx::Postgres, Postgres, begin: "BEGIN ISOLATION LEVEL READ COMMITTED", ids_as_bytes: false);
