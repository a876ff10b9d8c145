//! The few primitives the operations need from an engine: run a static
//! statement with arguments (alone or inside a transaction) and read
//! columns back. Each engine implements them with [`impl_backend!`]; the
//! operations in [`ops`](crate::ops) are written once against them.

use core::future::Future;
use core::pin::Pin;

use crate::error::Class;
use crate::sql::{Sql, Stmt};

/// The engines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
    Sqlite,
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    Postgres,
    #[cfg_attr(not(feature = "mysql"), allow(dead_code))]
    MySql,
}

impl Dialect {
    /// MySQL/MariaDB: no `UPDATE … RETURNING` (and no `DELETE … RETURNING`
    /// on MySQL), no `ON CONFLICT`; those operations take another path.
    pub(crate) fn is_mysql(self) -> bool {
        self == Self::MySql
    }
}

/// Statements a store (and its clones) has sent to the database.
#[derive(Debug, Clone, Default)]
pub(crate) struct Counter(std::sync::Arc<std::sync::atomic::AtomicU64>);

impl Counter {
    /// Counts one statement.
    pub(crate) fn bump(&self) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// Statements so far.
    pub(crate) fn get(&self) -> u64 {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// A transaction that counts its statements (`BEGIN` and `COMMIT` /
/// `ROLLBACK` included) on its store's [`Counter`].
pub(crate) struct CountedTx<DB: sqlx::Database> {
    pub(crate) tx: sqlx::Transaction<'static, DB>,
    pub(crate) counter: Counter,
}

/// One bound argument.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Arg<'a> {
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

/// Reading one column of a result row.
pub(crate) trait DbRow {
    /// An integer column of any width.
    fn int(&self, i: usize) -> Result<i64, sqlx::Error>;
    /// A nullable integer column.
    fn opt_int(&self, i: usize) -> Result<Option<i64>, sqlx::Error>;
    /// A text column.
    fn text(&self, i: usize) -> Result<String, sqlx::Error>;
    /// A nullable text column.
    fn opt_text(&self, i: usize) -> Result<Option<String>, sqlx::Error>;
    /// An id column (see [`Arg::Id`]).
    fn id(&self, i: usize) -> Result<String, sqlx::Error>;
    /// A nullable id column.
    fn opt_id(&self, i: usize) -> Result<Option<String>, sqlx::Error>;
    /// A byte column.
    fn bytes(&self, i: usize) -> Result<Vec<u8>, sqlx::Error>;
    /// A nullable byte column.
    fn opt_bytes(&self, i: usize) -> Result<Option<Vec<u8>>, sqlx::Error>;
    /// Every column as bytes: blobs as they are, text as UTF-8, numbers
    /// in decimal, NULL as nothing.
    #[cfg(feature = "testing")]
    fn cells(&self) -> Result<Vec<Vec<u8>>, sqlx::Error>;
    /// The column names.
    #[cfg(feature = "testing")]
    fn column_names(&self) -> Vec<String>;
}

/// A boxed, `Send` future. The engine primitives return these: a concrete
/// trait object proves `Send` where sqlx's futures, seen through the
/// operations' generic `async fn`s, would otherwise hit the compiler's
/// "`Send` is not general enough" limitation on higher-ranked lifetimes
/// (when a caller spawns the store's futures, as the conformance suite and
/// every web server do).
pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// An engine, as the operations see it.
pub(crate) trait Backend: Send + Sync + 'static {
    /// A result row.
    type Row: DbRow + Send + 'static;
    /// An open transaction; dropping it rolls back.
    type Tx: Send + 'static;
    /// Which SQL dialect.
    const DIALECT: Dialect;
    /// Its statements.
    const SQL: &'static Sql;

    /// Runs a statement on its own (autocommit); rows affected.
    fn execute<'a>(
        &'a self,
        stmt: Stmt,
        args: &'a [Arg<'a>],
    ) -> BoxFuture<'a, Result<u64, sqlx::Error>>;

    /// Runs a statement on its own; its first row.
    fn fetch_optional<'a>(
        &'a self,
        stmt: Stmt,
        args: &'a [Arg<'a>],
    ) -> BoxFuture<'a, Result<Option<Self::Row>, sqlx::Error>>;

    /// Runs a statement on its own; all rows.
    fn fetch_all<'a>(
        &'a self,
        stmt: Stmt,
        args: &'a [Arg<'a>],
    ) -> BoxFuture<'a, Result<Vec<Self::Row>, sqlx::Error>>;

    /// Begins a read-write transaction: `BEGIN IMMEDIATE` on SQLite (the
    /// write lock is taken at once), READ COMMITTED elsewhere (operations
    /// lock the rows they depend on).
    fn begin(&self) -> BoxFuture<'_, Result<Self::Tx, sqlx::Error>>;

    /// [`execute`](Self::execute) inside a transaction.
    fn tx_execute<'a>(
        tx: &'a mut Self::Tx,
        stmt: Stmt,
        args: &'a [Arg<'a>],
    ) -> BoxFuture<'a, Result<u64, sqlx::Error>>;

    /// [`fetch_optional`](Self::fetch_optional) inside a transaction.
    fn tx_fetch_optional<'a>(
        tx: &'a mut Self::Tx,
        stmt: Stmt,
        args: &'a [Arg<'a>],
    ) -> BoxFuture<'a, Result<Option<Self::Row>, sqlx::Error>>;

    /// Commits.
    fn commit(tx: Self::Tx) -> BoxFuture<'static, Result<(), sqlx::Error>>;

    /// Rolls back.
    fn rollback(tx: Self::Tx) -> BoxFuture<'static, Result<(), sqlx::Error>>;

    /// How an error the database reported is handled.
    fn classify_database(error: &dyn sqlx::error::DatabaseError) -> Class;

    /// How any error is handled.
    fn classify(error: &sqlx::Error) -> Class {
        crate::error::classify_transport(error).unwrap_or_else(|| {
            error
                .as_database_error()
                .map_or(Class::Other, Self::classify_database)
        })
    }
}

/// Implements [`DbRow`] for an engine's row type and [`Backend`] for its
/// store type (which has a `pool` field).
///
/// `ids_as_bytes`: ids are VARBINARY columns (MySQL), bound and read as
/// bytes.
macro_rules! impl_backend {
    (
        store: $store:ty,
        db: $db:ty,
        row: $row:ty,
        dialect: $dialect:expr,
        sql: $sql:expr,
        begin: $begin:literal,
        ids_as_bytes: $ids_as_bytes:literal,
        classify: $classify:expr $(,)?
    ) => {
        impl $crate::backend::DbRow for $row {
            fn int(&self, i: usize) -> Result<i64, sqlx::Error> {
                use sqlx::Row as _;
                match self.try_get::<i64, _>(i) {
                    Ok(v) => Ok(v),
                    Err(e) => self.try_get::<i32, _>(i).map(i64::from).map_err(|_| e),
                }
            }

            fn opt_int(&self, i: usize) -> Result<Option<i64>, sqlx::Error> {
                use sqlx::Row as _;
                match self.try_get::<Option<i64>, _>(i) {
                    Ok(v) => Ok(v),
                    Err(e) => self
                        .try_get::<Option<i32>, _>(i)
                        .map(|v| v.map(i64::from))
                        .map_err(|_| e),
                }
            }

            fn text(&self, i: usize) -> Result<String, sqlx::Error> {
                sqlx::Row::try_get(self, i)
            }

            fn opt_text(&self, i: usize) -> Result<Option<String>, sqlx::Error> {
                sqlx::Row::try_get(self, i)
            }

            fn id(&self, i: usize) -> Result<String, sqlx::Error> {
                self.opt_id(i)?.ok_or_else(|| sqlx::Error::ColumnDecode {
                    index: i.to_string(),
                    source: "unexpected NULL".into(),
                })
            }

            fn opt_id(&self, i: usize) -> Result<Option<String>, sqlx::Error> {
                if $ids_as_bytes {
                    let bytes: Option<Vec<u8>> = sqlx::Row::try_get(self, i)?;
                    bytes.map(String::from_utf8).transpose().map_err(|e| {
                        sqlx::Error::ColumnDecode {
                            index: i.to_string(),
                            source: Box::new(e),
                        }
                    })
                } else {
                    sqlx::Row::try_get(self, i)
                }
            }

            fn bytes(&self, i: usize) -> Result<Vec<u8>, sqlx::Error> {
                sqlx::Row::try_get(self, i)
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

        impl $store {
            /// How many statements this store and its clones have sent to
            /// the database so far, `BEGIN` and `COMMIT` included. With
            /// prepared statements cached (sqlx's default) each is one
            /// round trip; the benchmarks divide it by the operations run.
            #[must_use]
            pub fn statements_sent(&self) -> u64 {
                self.statements.get()
            }

            /// Every cell of every MFA table, for tests that check what a
            /// database dump reveals: one entry per `table.column` with
            /// that column's value in each row (blobs as stored, text as
            /// UTF-8, numbers in decimal, NULL as empty), and one entry
            /// named after each empty table.
            ///
            /// # Errors
            /// As any store method; [`mfa_core::Error::Store`] also if the
            /// schema has an `mfa_` table this list does not know (so a new
            /// table can never be left out of the dump).
            #[cfg(feature = "testing")]
            pub async fn dump_all_tables(&self) -> mfa_core::Result<Vec<(String, Vec<Vec<u8>>)>> {
                $crate::ops::retrying!(Self, $crate::ops::dump_all_tables(self))
            }

            /// The statement with its arguments bound, in the order its
            /// placeholders take them.
            fn query(
                stmt: $crate::sql::Stmt,
                args: &[$crate::backend::Arg<'_>],
            ) -> sqlx::query::Query<'static, $db, <$db as sqlx::Database>::Arguments> {
                debug_assert_eq!(args.len(), stmt.args, "{}", stmt.sql);
                let query = sqlx::query::<$db>(stmt.sql);
                if stmt.order.is_empty() {
                    args.iter().fold(query, Self::bind)
                } else {
                    stmt.order
                        .iter()
                        .filter_map(|n| args.get(n.wrapping_sub(1)))
                        .fold(query, Self::bind)
                }
            }

            fn bind(
                query: sqlx::query::Query<'static, $db, <$db as sqlx::Database>::Arguments>,
                arg: &$crate::backend::Arg<'_>,
            ) -> sqlx::query::Query<'static, $db, <$db as sqlx::Database>::Arguments> {
                use $crate::backend::Arg;
                match *arg {
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
                }
            }
        }

        impl $crate::backend::Backend for $store {
            type Row = $row;
            type Tx = $crate::backend::CountedTx<$db>;
            const DIALECT: $crate::backend::Dialect = $dialect;
            const SQL: &'static $crate::sql::Sql = $sql;

            fn execute<'a>(
                &'a self,
                stmt: $crate::sql::Stmt,
                args: &'a [$crate::backend::Arg<'a>],
            ) -> $crate::backend::BoxFuture<'a, Result<u64, sqlx::Error>> {
                let query = Self::query(stmt, args);
                self.statements.bump();
                Box::pin(async move { Ok(query.execute(&self.pool).await?.rows_affected()) })
            }

            fn fetch_optional<'a>(
                &'a self,
                stmt: $crate::sql::Stmt,
                args: &'a [$crate::backend::Arg<'a>],
            ) -> $crate::backend::BoxFuture<'a, Result<Option<$row>, sqlx::Error>> {
                self.statements.bump();
                Box::pin(Self::query(stmt, args).fetch_optional(&self.pool))
            }

            fn fetch_all<'a>(
                &'a self,
                stmt: $crate::sql::Stmt,
                args: &'a [$crate::backend::Arg<'a>],
            ) -> $crate::backend::BoxFuture<'a, Result<Vec<$row>, sqlx::Error>> {
                self.statements.bump();
                Box::pin(Self::query(stmt, args).fetch_all(&self.pool))
            }

            fn begin(&self) -> $crate::backend::BoxFuture<'_, Result<Self::Tx, sqlx::Error>> {
                self.statements.bump();
                let counter = self.statements.clone();
                Box::pin(async move {
                    let tx = self.pool.begin_with($begin).await?;
                    Ok($crate::backend::CountedTx { tx, counter })
                })
            }

            fn tx_execute<'a>(
                tx: &'a mut Self::Tx,
                stmt: $crate::sql::Stmt,
                args: &'a [$crate::backend::Arg<'a>],
            ) -> $crate::backend::BoxFuture<'a, Result<u64, sqlx::Error>> {
                let query = Self::query(stmt, args);
                tx.counter.bump();
                Box::pin(async move { Ok(query.execute(&mut *tx.tx).await?.rows_affected()) })
            }

            fn tx_fetch_optional<'a>(
                tx: &'a mut Self::Tx,
                stmt: $crate::sql::Stmt,
                args: &'a [$crate::backend::Arg<'a>],
            ) -> $crate::backend::BoxFuture<'a, Result<Option<$row>, sqlx::Error>> {
                tx.counter.bump();
                Box::pin(Self::query(stmt, args).fetch_optional(&mut *tx.tx))
            }

            fn commit(
                tx: Self::Tx,
            ) -> $crate::backend::BoxFuture<'static, Result<(), sqlx::Error>> {
                tx.counter.bump();
                Box::pin(tx.tx.commit())
            }

            fn rollback(
                tx: Self::Tx,
            ) -> $crate::backend::BoxFuture<'static, Result<(), sqlx::Error>> {
                tx.counter.bump();
                Box::pin(tx.tx.rollback())
            }

            fn classify_database(error: &dyn sqlx::error::DatabaseError) -> $crate::error::Class {
                ($classify)(error)
            }
        }
    };
}

pub(crate) use impl_backend;
