//! [`AnyEngine`]: the engine a URL names, chosen at run time. Each
//! primitive hands the call to the engine the pool is for.

use crate::engine::{Arg, BoxFuture, Engine, EngineKind, On, Row};
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
/// (an [`AnyPool`] or [`AnyTx`]) and `$E` naming its engine.
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

impl Engine for AnyEngine {
    type Pool = AnyPool;
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
        on: On<'a, Self>,
        sql: &'static str,
        args: &'a [Arg<'a>],
    ) -> BoxFuture<'a, Result<u64, sqlx::Error>> {
        match on {
            On::Pool(pool) => per_engine!(pool, AnyPool, |E, p| E::execute(On::Pool(p), sql, args)),
            On::Tx(tx) => per_engine!(tx, AnyTx, |E, tx| E::execute(On::Tx(tx), sql, args)),
        }
    }

    fn fetch_all<'a>(
        on: On<'a, Self>,
        sql: &'static str,
        args: &'a [Arg<'a>],
    ) -> BoxFuture<'a, Result<Vec<Row>, sqlx::Error>> {
        match on {
            On::Pool(pool) => {
                per_engine!(pool, AnyPool, |E, p| E::fetch_all(On::Pool(p), sql, args))
            }
            On::Tx(tx) => per_engine!(tx, AnyTx, |E, tx| E::fetch_all(On::Tx(tx), sql, args)),
        }
    }

    fn begin(pool: &AnyPool) -> BoxFuture<'_, Result<AnyTx, sqlx::Error>> {
        per_engine!(pool, AnyPool, |E, pool| {
            let begin = E::begin(pool);
            Box::pin(async move { Ok(begin.await?.into()) })
        })
    }

    fn finish(tx: AnyTx, commit: bool) -> BoxFuture<'static, Result<(), sqlx::Error>> {
        per_engine!(tx, AnyTx, |E, tx| E::finish(tx, commit))
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
