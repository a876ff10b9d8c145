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

/// Reading the columns of a result row, by index.
pub trait DbRow {
    /// A nullable integer column of any width.
    fn opt_int(&self, i: usize) -> Result<Option<i64>, sqlx::Error>;
    /// A nullable text column.
    fn opt_text(&self, i: usize) -> Result<Option<String>, sqlx::Error>;
    /// A nullable id column (see [`Arg::Id`]).
    fn opt_id(&self, i: usize) -> Result<Option<String>, sqlx::Error>;
    /// A nullable byte column.
    fn opt_bytes(&self, i: usize) -> Result<Option<Vec<u8>>, sqlx::Error>;
    /// Every column as bytes: blobs as they are, text as UTF-8, numbers
    /// in decimal, NULL as nothing.
    #[cfg(feature = "testing")]
    fn cells(&self) -> Result<Vec<Vec<u8>>, sqlx::Error>;
    /// The column names.
    #[cfg(feature = "testing")]
    fn column_names(&self) -> Vec<String>;

    /// An integer column.
    fn int(&self, i: usize) -> Result<i64, sqlx::Error> {
        not_null(i, self.opt_int(i))
    }
    /// A text column.
    fn text(&self, i: usize) -> Result<String, sqlx::Error> {
        not_null(i, self.opt_text(i))
    }
    /// An id column.
    fn id(&self, i: usize) -> Result<String, sqlx::Error> {
        not_null(i, self.opt_id(i))
    }
    /// A byte column.
    fn bytes(&self, i: usize) -> Result<Vec<u8>, sqlx::Error> {
        not_null(i, self.opt_bytes(i))
    }
}

fn not_null<T>(i: usize, value: Result<Option<T>, sqlx::Error>) -> Result<T, sqlx::Error> {
    value?.ok_or_else(|| sqlx::Error::ColumnDecode {
        index: i.to_string(),
        source: "unexpected NULL".into(),
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
    type Row: DbRow + Send + 'static;
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
        pool: &'a Self::Pool,
        sql: &'static str,
        args: &'a [Arg<'a>],
    ) -> BoxFuture<'a, Result<u64, sqlx::Error>>;
    #[doc(hidden)]
    fn fetch_all<'a>(
        pool: &'a Self::Pool,
        sql: &'static str,
        args: &'a [Arg<'a>],
    ) -> BoxFuture<'a, Result<Vec<Self::Row>, sqlx::Error>>;
    /// Begins a read-write transaction: `BEGIN IMMEDIATE` on SQLite (the
    /// write lock is taken at once), READ COMMITTED elsewhere (operations
    /// lock the rows they depend on).
    #[doc(hidden)]
    fn begin(pool: &Self::Pool) -> BoxFuture<'_, Result<Self::Tx, sqlx::Error>>;
    #[doc(hidden)]
    fn tx_execute<'a>(
        tx: &'a mut Self::Tx,
        sql: &'static str,
        args: &'a [Arg<'a>],
    ) -> BoxFuture<'a, Result<u64, sqlx::Error>>;
    #[doc(hidden)]
    fn tx_fetch_all<'a>(
        tx: &'a mut Self::Tx,
        sql: &'static str,
        args: &'a [Arg<'a>],
    ) -> BoxFuture<'a, Result<Vec<Self::Row>, sqlx::Error>>;
    #[doc(hidden)]
    fn commit(tx: Self::Tx) -> BoxFuture<'static, Result<(), sqlx::Error>>;
    #[doc(hidden)]
    fn rollback(tx: Self::Tx) -> BoxFuture<'static, Result<(), sqlx::Error>>;
}

/// Implements [`Engine`] for one of sqlx's engines (`$db`), whose module
/// provides `connect(url, options)` and `migrate(pool)`; `$variant` is its
/// variant in [`AnyPool`](crate::AnyPool). `ids_as_bytes`: ids are
/// VARBINARY columns (MySQL), bound and read as bytes.
#[cfg_attr(not(any_engine), allow(unused_macros))]
macro_rules! sqlx_engine {
    ($db:ty, $row:ty, $variant:ident, begin: $begin:literal, ids_as_bytes: $ids_as_bytes:literal) => {
        impl $crate::engine::DbRow for $row {
            fn opt_int(&self, i: usize) -> Result<Option<i64>, sqlx::Error> {
                match sqlx::Row::try_get::<Option<i64>, _>(self, i) {
                    Ok(v) => Ok(v),
                    Err(e) => sqlx::Row::try_get::<Option<i32>, _>(self, i)
                        .map(|v| v.map(i64::from))
                        .map_err(|_| e),
                }
            }

            fn opt_text(&self, i: usize) -> Result<Option<String>, sqlx::Error> {
                sqlx::Row::try_get(self, i)
            }

            fn opt_id(&self, i: usize) -> Result<Option<String>, sqlx::Error> {
                if !$ids_as_bytes {
                    return sqlx::Row::try_get(self, i);
                }
                let bytes: Option<Vec<u8>> = sqlx::Row::try_get(self, i)?;
                bytes
                    .map(String::from_utf8)
                    .transpose()
                    .map_err(|e| sqlx::Error::ColumnDecode {
                        index: i.to_string(),
                        source: Box::new(e),
                    })
            }

            fn opt_bytes(&self, i: usize) -> Result<Option<Vec<u8>>, sqlx::Error> {
                sqlx::Row::try_get(self, i)
            }

            #[cfg(feature = "testing")]
            fn cells(&self) -> Result<Vec<Vec<u8>>, sqlx::Error> {
                use sqlx::Row as _;
                (0..self.len())
                    .map(|i| {
                        if let Ok(v) = self.try_get::<Option<Vec<u8>>, _>(i) {
                            return Ok(v.unwrap_or_default());
                        }
                        if let Ok(v) = self.try_get::<Option<String>, _>(i) {
                            return Ok(v.map(String::into_bytes).unwrap_or_default());
                        }
                        self.opt_int(i)
                            .map(|v| v.map(|n| n.to_string().into_bytes()).unwrap_or_default())
                    })
                    .collect()
            }

            #[cfg(feature = "testing")]
            fn column_names(&self) -> Vec<String> {
                use sqlx::{Column as _, Row as _};
                self.columns().iter().map(|c| c.name().to_owned()).collect()
            }
        }

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
            type Row = $row;
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
                pool: &'a Self::Pool,
                sql: &'static str,
                args: &'a [$crate::engine::Arg<'a>],
            ) -> $crate::engine::BoxFuture<'a, Result<u64, sqlx::Error>> {
                let query = query(sql, args);
                Box::pin(async move { Ok(query.execute(pool).await?.rows_affected()) })
            }

            fn fetch_all<'a>(
                pool: &'a Self::Pool,
                sql: &'static str,
                args: &'a [$crate::engine::Arg<'a>],
            ) -> $crate::engine::BoxFuture<'a, Result<Vec<$row>, sqlx::Error>> {
                Box::pin(query(sql, args).fetch_all(pool))
            }

            fn begin(
                pool: &Self::Pool,
            ) -> $crate::engine::BoxFuture<'_, Result<Self::Tx, sqlx::Error>> {
                Box::pin(pool.begin_with($begin))
            }

            fn tx_execute<'a>(
                tx: &'a mut Self::Tx,
                sql: &'static str,
                args: &'a [$crate::engine::Arg<'a>],
            ) -> $crate::engine::BoxFuture<'a, Result<u64, sqlx::Error>> {
                let query = query(sql, args);
                Box::pin(async move { Ok(query.execute(&mut **tx).await?.rows_affected()) })
            }

            fn tx_fetch_all<'a>(
                tx: &'a mut Self::Tx,
                sql: &'static str,
                args: &'a [$crate::engine::Arg<'a>],
            ) -> $crate::engine::BoxFuture<'a, Result<Vec<$row>, sqlx::Error>> {
                Box::pin(query(sql, args).fetch_all(&mut **tx))
            }

            fn commit(tx: Self::Tx) -> $crate::engine::BoxFuture<'static, Result<(), sqlx::Error>> {
                Box::pin(tx.commit())
            }

            fn rollback(
                tx: Self::Tx,
            ) -> $crate::engine::BoxFuture<'static, Result<(), sqlx::Error>> {
                Box::pin(tx.rollback())
            }
        }

        impl From<sqlx::Pool<$db>> for $crate::AnyPool {
            fn from(pool: sqlx::Pool<$db>) -> Self {
                Self::$variant(pool)
            }
        }

        impl From<$row> for $crate::any::AnyRow {
            fn from(row: $row) -> Self {
                Self::$variant(row)
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
