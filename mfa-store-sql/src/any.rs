//! [`AnyEngine`]: the engine a URL names, chosen at run time. Each
//! primitive hands the call to the engine the pool is for.

use crate::engine::{Arg, BoxFuture, DbRow, Engine, EngineKind};
use crate::{SqlStoreError, StoreOptions};

/// The engine a URL names (see [`AnyStore`](crate::AnyStore)): whichever
/// of the enabled engines [`EngineKind::from_url`] picks.
#[derive(Debug, Clone, Copy)]
pub enum AnyEngine {}

/// The pool of an [`AnyStore`](crate::AnyStore): one of the enabled
/// engines' pools (`From` each of them).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum AnyPool {
    /// SQLite.
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::SqlitePool),
    /// PostgreSQL.
    #[cfg(feature = "postgres")]
    Postgres(sqlx::PgPool),
    /// MySQL or MariaDB.
    #[cfg(feature = "mysql")]
    MySql(sqlx::MySqlPool),
}

/// A row from one of the engines.
#[derive(Debug)]
pub enum AnyRow {
    /// SQLite.
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::sqlite::SqliteRow),
    /// PostgreSQL.
    #[cfg(feature = "postgres")]
    Postgres(sqlx::postgres::PgRow),
    /// MySQL or MariaDB.
    #[cfg(feature = "mysql")]
    MySql(sqlx::mysql::MySqlRow),
}

/// A transaction on one of the engines.
#[derive(Debug)]
pub enum AnyTx {
    /// SQLite.
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    /// PostgreSQL.
    #[cfg(feature = "postgres")]
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
    /// MySQL or MariaDB.
    #[cfg(feature = "mysql")]
    MySql(sqlx::Transaction<'static, sqlx::MySql>),
}

/// Runs `$body` with `$inner` bound to the engine value inside `$value`
/// (an [`AnyPool`], [`AnyRow`] or [`AnyTx`]) and `$E` naming its engine.
macro_rules! per_engine {
    ($value:expr, $enum:ident, |$E:ident, $inner:ident| $body:expr) => {
        match $value {
            #[cfg(feature = "sqlite")]
            $enum::Sqlite($inner) => {
                #[allow(dead_code)]
                type $E = sqlx::Sqlite;
                $body
            }
            #[cfg(feature = "postgres")]
            $enum::Postgres($inner) => {
                #[allow(dead_code)]
                type $E = sqlx::Postgres;
                $body
            }
            #[cfg(feature = "mysql")]
            $enum::MySql($inner) => {
                #[allow(dead_code)]
                type $E = sqlx::MySql;
                $body
            }
        }
    };
}

impl DbRow for AnyRow {
    fn opt_int(&self, i: usize) -> Result<Option<i64>, sqlx::Error> {
        per_engine!(self, AnyRow, |E, row| row.opt_int(i))
    }

    fn opt_text(&self, i: usize) -> Result<Option<String>, sqlx::Error> {
        per_engine!(self, AnyRow, |E, row| row.opt_text(i))
    }

    fn opt_id(&self, i: usize) -> Result<Option<String>, sqlx::Error> {
        per_engine!(self, AnyRow, |E, row| row.opt_id(i))
    }

    fn opt_bytes(&self, i: usize) -> Result<Option<Vec<u8>>, sqlx::Error> {
        per_engine!(self, AnyRow, |E, row| row.opt_bytes(i))
    }

    #[cfg(feature = "testing")]
    fn cells(&self) -> Result<Vec<Vec<u8>>, sqlx::Error> {
        per_engine!(self, AnyRow, |E, row| row.cells())
    }

    #[cfg(feature = "testing")]
    fn column_names(&self) -> Vec<String> {
        per_engine!(self, AnyRow, |E, row| row.column_names())
    }
}

/// The rows of one engine as [`AnyRow`]s.
fn any_rows<'a, R: Into<AnyRow> + 'a>(
    rows: BoxFuture<'a, Result<Vec<R>, sqlx::Error>>,
) -> BoxFuture<'a, Result<Vec<AnyRow>, sqlx::Error>> {
    Box::pin(async move { Ok(rows.await?.into_iter().map(Into::into).collect()) })
}

impl Engine for AnyEngine {
    type Pool = AnyPool;
    type Row = AnyRow;
    type Tx = AnyTx;

    fn kind(pool: &AnyPool) -> EngineKind {
        per_engine!(pool, AnyPool, |E, pool| E::kind(pool))
    }

    fn connect(url: &str, options: StoreOptions) -> BoxFuture<'_, Result<AnyPool, SqlStoreError>> {
        Box::pin(async move {
            match EngineKind::from_url(url)? {
                #[cfg(feature = "sqlite")]
                EngineKind::Sqlite => Ok(sqlx::Sqlite::connect(url, options).await?.into()),
                #[cfg(feature = "postgres")]
                EngineKind::Postgres => Ok(sqlx::Postgres::connect(url, options).await?.into()),
                #[cfg(feature = "mysql")]
                EngineKind::MySql => Ok(sqlx::MySql::connect(url, options).await?.into()),
                #[allow(unreachable_patterns)]
                engine => Err(engine.not_enabled()),
            }
        })
    }

    fn migrate(pool: &AnyPool) -> BoxFuture<'_, Result<(), SqlStoreError>> {
        per_engine!(pool, AnyPool, |E, pool| E::migrate(pool))
    }

    fn execute<'a>(
        pool: &'a AnyPool,
        sql: &'static str,
        args: &'a [Arg<'a>],
    ) -> BoxFuture<'a, Result<u64, sqlx::Error>> {
        per_engine!(pool, AnyPool, |E, pool| E::execute(pool, sql, args))
    }

    fn fetch_all<'a>(
        pool: &'a AnyPool,
        sql: &'static str,
        args: &'a [Arg<'a>],
    ) -> BoxFuture<'a, Result<Vec<AnyRow>, sqlx::Error>> {
        per_engine!(pool, AnyPool, |E, pool| any_rows(E::fetch_all(
            pool, sql, args
        )))
    }

    fn begin(pool: &AnyPool) -> BoxFuture<'_, Result<AnyTx, sqlx::Error>> {
        per_engine!(pool, AnyPool, |E, pool| {
            let begin = E::begin(pool);
            Box::pin(async move { Ok(begin.await?.into()) })
        })
    }

    fn tx_execute<'a>(
        tx: &'a mut AnyTx,
        sql: &'static str,
        args: &'a [Arg<'a>],
    ) -> BoxFuture<'a, Result<u64, sqlx::Error>> {
        per_engine!(tx, AnyTx, |E, tx| E::tx_execute(tx, sql, args))
    }

    fn tx_fetch_all<'a>(
        tx: &'a mut AnyTx,
        sql: &'static str,
        args: &'a [Arg<'a>],
    ) -> BoxFuture<'a, Result<Vec<AnyRow>, sqlx::Error>> {
        per_engine!(tx, AnyTx, |E, tx| any_rows(E::tx_fetch_all(tx, sql, args)))
    }

    fn commit(tx: AnyTx) -> BoxFuture<'static, Result<(), sqlx::Error>> {
        per_engine!(tx, AnyTx, |E, tx| E::commit(tx))
    }

    fn rollback(tx: AnyTx) -> BoxFuture<'static, Result<(), sqlx::Error>> {
        per_engine!(tx, AnyTx, |E, tx| E::rollback(tx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engines_from_urls() {
        let kind = |url| EngineKind::from_url(url).ok();
        assert_eq!(kind("sqlite::memory:"), Some(EngineKind::Sqlite));
        assert_eq!(kind("sqlite://x.db"), Some(EngineKind::Sqlite));
        assert_eq!(kind("postgres://h/d"), Some(EngineKind::Postgres));
        assert_eq!(kind("PostgreSQL://h/d"), Some(EngineKind::Postgres));
        assert_eq!(kind("mysql://h/d"), Some(EngineKind::MySql));
        assert_eq!(kind("mariadb://h/d"), Some(EngineKind::MySql));
        assert!(matches!(
            EngineKind::from_url("oracle://h/d"),
            Err(SqlStoreError::UnsupportedUrl)
        ));
        assert!(matches!(
            EngineKind::from_url("no scheme"),
            Err(SqlStoreError::UnsupportedUrl)
        ));
    }
}
