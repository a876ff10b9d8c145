//! What the store needs from a database engine: connect, migrate, run a
//! static statement with arguments (alone or inside a transaction) and
//! read columns back. [`sqlx_engine!`] implements [`Engine`] for each of
//! sqlx's engines; the operations are written once against it.

use core::fmt;
use core::future::Future;
use core::pin::Pin;

use crate::error::SqlStoreError;
use crate::options::StoreOptions;

/// A database engine this crate supports, named at run time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EngineKind {
    /// SQLite (feature `sqlite`).
    Sqlite,
    /// PostgreSQL (feature `postgres`).
    Postgres,
    /// MySQL or MariaDB (feature `mysql`).
    MySql,
}

impl EngineKind {
    /// The engine a URL names by its scheme: `sqlite:`, `postgres:` or
    /// `postgresql:`, `mysql:` or `mariadb:` (any case).
    ///
    /// # Errors
    /// [`SqlStoreError::UnsupportedUrl`] for any other scheme.
    pub fn from_url(url: &str) -> Result<Self, SqlStoreError> {
        let scheme = url
            .split_once(':')
            .map(|(scheme, _)| scheme.to_ascii_lowercase())
            .ok_or(SqlStoreError::UnsupportedUrl)?;
        match scheme.as_str() {
            "sqlite" => Ok(Self::Sqlite),
            "postgres" | "postgresql" => Ok(Self::Postgres),
            "mysql" | "mariadb" => Ok(Self::MySql),
            _ => Err(SqlStoreError::UnsupportedUrl),
        }
    }

    /// Whether this build includes the engine.
    #[must_use]
    pub fn is_enabled(self) -> bool {
        match self {
            Self::Sqlite => cfg!(feature = "sqlite"),
            Self::Postgres => cfg!(feature = "postgres"),
            Self::MySql => cfg!(feature = "mysql"),
        }
    }

    /// The cargo feature that enables the engine.
    #[must_use]
    pub fn feature(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
            Self::MySql => "mysql",
        }
    }

    /// The error for an engine this build leaves out.
    #[cfg_attr(not(any_engine), allow(dead_code))]
    pub(crate) fn not_enabled(self) -> SqlStoreError {
        let engine = match self {
            Self::Sqlite => "SQLite",
            Self::Postgres => "PostgreSQL",
            Self::MySql => "MySQL/MariaDB",
        };
        let feature = self.feature();
        SqlStoreError::EngineNotEnabled { engine, feature }
    }
}

/// One bound argument.
#[derive(Debug, Clone, Copy)]
pub enum Arg<'a> {
    /// An integer (times, steps, counts).
    Int(i64),
    /// A nullable integer.
    OptInt(Option<i64>),
    /// A subject or credential id (VARBINARY on MySQL, TEXT elsewhere).
    Id(&'a str),
    /// A nullable id.
    OptId(Option<&'a str>),
    /// Text (names, enum names, JSON).
    Text(&'a str),
    /// Nullable text.
    OptText(Option<&'a str>),
    /// Bytes (sealed secrets, hashes).
    Bytes(&'a [u8]),
    /// Nullable bytes.
    OptBytes(Option<&'a [u8]>),
}

/// A result row, every column decoded when it arrives: `None` for NULL,
/// integers of any width as `i64`, text (as UTF-8) and blobs as bytes.
/// The operations read it through the accessors in [`ops`](crate::ops),
/// which say which column a value that does not fit came from.
#[derive(Debug)]
pub struct Row {
    pub(crate) values: Vec<Option<Value>>,
    /// The column names, for [`dump_all_tables`](crate::SqlStore::dump_all_tables).
    #[cfg(feature = "testing")]
    pub(crate) names: Vec<String>,
}

/// A column value that is not NULL.
#[derive(Debug, Clone)]
pub(crate) enum Value {
    Int(i64),
    Bytes(Vec<u8>),
}

/// Decodes every column of `row` by the type the database reports; a type
/// that is neither an integer, text nor a blob is an error.
#[cfg_attr(not(any_engine), allow(dead_code))]
pub(crate) fn decode_row<R, DB>(row: &R) -> Result<Row, sqlx::Error>
where
    R: sqlx::Row<Database = DB>,
    DB: sqlx::Database,
    usize: sqlx::ColumnIndex<R>,
    for<'r> i64: sqlx::Type<DB> + sqlx::Decode<'r, DB>,
    for<'r> i32: sqlx::Type<DB> + sqlx::Decode<'r, DB>,
    for<'r> Vec<u8>: sqlx::Type<DB> + sqlx::Decode<'r, DB>,
    for<'r> String: sqlx::Type<DB> + sqlx::Decode<'r, DB>,
{
    use sqlx::{Type, ValueRef as _};
    let value = |i: usize| -> Result<Option<Value>, sqlx::Error> {
        let raw = row.try_get_raw(i)?;
        if raw.is_null() {
            return Ok(None);
        }
        let ty = raw.type_info();
        Ok(Some(if <i64 as Type<DB>>::compatible(&ty) {
            Value::Int(row.try_get(i)?)
        } else if <i32 as Type<DB>>::compatible(&ty) {
            Value::Int(row.try_get::<i32, _>(i)?.into())
        } else if <Vec<u8> as Type<DB>>::compatible(&ty) {
            Value::Bytes(row.try_get(i)?)
        } else {
            Value::Bytes(row.try_get::<String, _>(i)?.into_bytes())
        }))
    };
    Ok(Row {
        values: (0..row.len()).map(value).collect::<Result<_, _>>()?,
        #[cfg(feature = "testing")]
        names: {
            use sqlx::Column as _;
            row.columns().iter().map(|c| c.name().to_owned()).collect()
        },
    })
}

/// A boxed, `Send` future. The engine primitives return these: a concrete
/// trait object proves `Send` where sqlx's futures, seen through the
/// operations' generic `async fn`s, would otherwise hit the compiler's
/// "`Send` is not general enough" limitation on higher-ranked lifetimes
/// (when a caller spawns the store's futures, as the conformance suite and
/// every web server do).
pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A database engine a [`SqlStore`](crate::SqlStore) runs on:
/// [`sqlx::Sqlite`] (feature `sqlite`), [`sqlx::Postgres`] (feature
/// `postgres`), [`sqlx::MySql`] (feature `mysql`), or
/// [`AnyEngine`](crate::AnyEngine), the one a URL names. Implemented by
/// this crate only; its other items are internal.
pub trait Engine: Send + Sync + Sized + 'static {
    /// The connection pool a store of this engine holds.
    type Pool: Clone + fmt::Debug + Send + Sync + 'static;
    #[doc(hidden)]
    type Tx: Send + 'static;

    #[doc(hidden)]
    fn kind(pool: &Self::Pool) -> EngineKind;
    #[doc(hidden)]
    fn connect(
        url: &str,
        options: StoreOptions,
    ) -> BoxFuture<'_, Result<Self::Pool, SqlStoreError>>;
    #[doc(hidden)]
    fn migrate(pool: &Self::Pool) -> BoxFuture<'_, Result<(), SqlStoreError>>;
    #[doc(hidden)]
    fn execute<'a>(
        on: On<'a, Self>,
        sql: &'static str,
        args: &'a [Arg<'a>],
    ) -> BoxFuture<'a, Result<u64, sqlx::Error>>;
    #[doc(hidden)]
    fn fetch_all<'a>(
        on: On<'a, Self>,
        sql: &'static str,
        args: &'a [Arg<'a>],
    ) -> BoxFuture<'a, Result<Vec<Row>, sqlx::Error>>;
    /// Begins a read-write transaction: `BEGIN IMMEDIATE` on SQLite (the
    /// write lock is taken at once), READ COMMITTED elsewhere (operations
    /// lock the rows they depend on).
    #[doc(hidden)]
    fn begin(pool: &Self::Pool) -> BoxFuture<'_, Result<Self::Tx, sqlx::Error>>;
    /// Commits the transaction, or rolls it back.
    #[doc(hidden)]
    fn finish(tx: Self::Tx, commit: bool) -> BoxFuture<'static, Result<(), sqlx::Error>>;
}

/// Where a statement runs: on its own (autocommit, on a connection from
/// the pool), or in a transaction.
#[derive(Debug)]
pub enum On<'a, E: Engine> {
    /// On its own.
    Pool(&'a E::Pool),
    /// In the transaction.
    Tx(&'a mut E::Tx),
}

/// A pool on `url` with the store's `options` (PostgreSQL and MySQL;
/// SQLite sets more).
#[cfg_attr(not(any(feature = "postgres", feature = "mysql")), allow(dead_code))]
pub(crate) async fn connect_pool<DB: sqlx::Database>(
    url: &str,
    options: StoreOptions,
) -> Result<sqlx::Pool<DB>, SqlStoreError> {
    sqlx::pool::PoolOptions::new()
        .acquire_timeout(options.acquire_timeout)
        .connect(url)
        .await
        .map_err(SqlStoreError::from_connect)
}

/// Implements [`Engine`] for one of sqlx's engines (`$db`), whose module
/// provides `connect(url, options)` and `migrate(pool)`; `$variant` is its
/// variant in [`AnyPool`](crate::AnyPool). `ids_as_bytes`: ids are
/// VARBINARY columns (MySQL), bound and read as bytes.
#[cfg_attr(not(any_engine), allow(unused_macros))]
macro_rules! sqlx_engine {
    ($db:ty, $variant:ident, begin: $begin:literal, ids_as_bytes: $ids_as_bytes:literal) => {
        /// The statement with its arguments bound, in the order its
        /// placeholders take them.
        fn query<'a>(
            sql: &'static str,
            args: &[$crate::engine::Arg<'a>],
        ) -> sqlx::query::Query<'static, $db, <$db as sqlx::Database>::Arguments> {
            use $crate::engine::Arg;
            let bind = |query: sqlx::query::Query<'static, $db, _>, arg: &Arg<'a>| match *arg {
                Arg::Int(v) => query.bind(v),
                Arg::OptInt(v) => query.bind(v),
                Arg::Id(v) if $ids_as_bytes => query.bind(v.as_bytes()),
                Arg::Id(v) => query.bind(v),
                Arg::OptId(v) if $ids_as_bytes => query.bind(v.map(str::as_bytes)),
                Arg::OptId(v) => query.bind(v),
                Arg::Text(v) => query.bind(v),
                Arg::OptText(v) => query.bind(v),
                Arg::Bytes(v) => query.bind(v),
                Arg::OptBytes(v) => query.bind(v),
            };
            debug_assert_eq!(args.len(), $crate::sql::argument_count(sql), "{sql}");
            let (text, order) = $crate::sql::text_for($crate::engine::EngineKind::$variant, sql);
            let query = sqlx::query::<$db>(text);
            if order.is_empty() {
                args.iter().fold(query, bind)
            } else {
                order
                    .iter()
                    .filter_map(|n| args.get(n.wrapping_sub(1)))
                    .fold(query, bind)
            }
        }

        impl $crate::engine::Engine for $db {
            type Pool = sqlx::Pool<$db>;
            type Tx = sqlx::Transaction<'static, $db>;

            fn kind(_: &Self::Pool) -> $crate::engine::EngineKind {
                $crate::engine::EngineKind::$variant
            }

            fn connect(
                url: &str,
                options: $crate::StoreOptions,
            ) -> $crate::engine::BoxFuture<'_, Result<Self::Pool, $crate::SqlStoreError>> {
                Box::pin(connect(url, options))
            }

            fn migrate(
                pool: &Self::Pool,
            ) -> $crate::engine::BoxFuture<'_, Result<(), $crate::SqlStoreError>> {
                Box::pin(migrate(pool))
            }

            fn execute<'a>(
                on: $crate::engine::On<'a, Self>,
                sql: &'static str,
                args: &'a [$crate::engine::Arg<'a>],
            ) -> $crate::engine::BoxFuture<'a, Result<u64, sqlx::Error>> {
                use $crate::engine::On;
                let query = query(sql, args);
                Box::pin(async move {
                    let done = match on {
                        On::Pool(pool) => query.execute(pool).await?,
                        On::Tx(tx) => query.execute(&mut **tx).await?,
                    };
                    Ok(done.rows_affected())
                })
            }

            fn fetch_all<'a>(
                on: $crate::engine::On<'a, Self>,
                sql: &'static str,
                args: &'a [$crate::engine::Arg<'a>],
            ) -> $crate::engine::BoxFuture<'a, Result<Vec<$crate::engine::Row>, sqlx::Error>> {
                use $crate::engine::On;
                let query = query(sql, args);
                Box::pin(async move {
                    let rows = match on {
                        On::Pool(pool) => query.fetch_all(pool).await?,
                        On::Tx(tx) => query.fetch_all(&mut **tx).await?,
                    };
                    rows.iter().map($crate::engine::decode_row).collect()
                })
            }

            fn begin(
                pool: &Self::Pool,
            ) -> $crate::engine::BoxFuture<'_, Result<Self::Tx, sqlx::Error>> {
                Box::pin(pool.begin_with($begin))
            }

            fn finish(
                tx: Self::Tx,
                commit: bool,
            ) -> $crate::engine::BoxFuture<'static, Result<(), sqlx::Error>> {
                if commit {
                    Box::pin(tx.commit())
                } else {
                    Box::pin(tx.rollback())
                }
            }
        }

        impl From<sqlx::Pool<$db>> for $crate::AnyPool {
            fn from(pool: sqlx::Pool<$db>) -> Self {
                Self::$variant(pool)
            }
        }

        impl From<sqlx::Transaction<'static, $db>> for $crate::any::AnyTx {
            fn from(tx: sqlx::Transaction<'static, $db>) -> Self {
                Self::$variant(tx)
            }
        }
    };
}

#[cfg(any_engine)]
pub(crate) use sqlx_engine;
