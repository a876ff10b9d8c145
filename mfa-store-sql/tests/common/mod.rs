//! Fresh, isolated stores for the tests, on every engine through one
//! trait ([`TestEngine`]): an in-memory SQLite database or a temporary
//! SQLite file, a uniquely named PostgreSQL schema or MariaDB database.
//! Each is removed when the last pool using it is dropped (the guard rides
//! in a pool callback), and leftovers of crashed runs older than an hour
//! are removed by the next run. [`engine_tests!`] runs generic test
//! functions once per engine.
//!
//! A server whose URL variable is unset is a skip (printed; a failure
//! under `MFA_REQUIRE_SERVICES=1`), but a store that cannot be created or
//! migrated once the URL is known fails the test with the error.
#![allow(
    dead_code,
    unused_macros,
    unused_imports,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mfa_core::otp::TotpConfig;
use mfa_core::store::PendingTotp;
use mfa_core::testing::{fresh_sealed, service_url};
use mfa_core::{CredentialId, SubjectId, Timestamp};
use mfa_store_sql::sqlx::{self, AssertSqlSafe, Connection, Executor};
use mfa_store_sql::{AnyPool, AnyStore, Engine, SqlStore};

/// Prefix of every schema/database/file the tests create.
const PREFIX: &str = "mfa_test_";

/// Any error, for the store factories.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A name no other test (in this or another process) uses, with the
/// creation time in it for the stale cleanup.
fn unique_name() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let (secs, nanos, pid) = (now.as_secs(), now.subsec_nanos(), std::process::id());
    format!("{PREFIX}{secs}_{pid}_{n}_{nanos}")
}

/// Whether a name made by [`unique_name`] is more than an hour old.
fn is_stale(name: &str) -> bool {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    name.strip_prefix(PREFIX)
        .and_then(|rest| rest.split('_').next())
        .and_then(|secs| secs.parse::<u64>().ok())
        .is_some_and(|created| created + 3600 < now.as_secs())
}

/// Removes something when dropped, on a thread of its own (the test's
/// runtime may be shutting down).
pub(crate) struct Guard(Option<Box<dyn FnOnce() + Send + Sync>>);

impl Guard {
    fn new(cleanup: impl FnOnce() + Send + Sync + 'static) -> Arc<Self> {
        Arc::new(Self(Some(Box::new(cleanup))))
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(cleanup) = self.0.take() {
            let _ = std::thread::spawn(cleanup).join();
        }
    }
}

/// A time in the tests' epoch: `secs` after 2023-11-14.
pub(crate) fn t(secs: u64) -> Timestamp {
    Timestamp::from_unix(1_700_000_000 + secs)
}

/// A subject id.
pub(crate) fn sid(s: &str) -> SubjectId {
    SubjectId::new(s).unwrap()
}

/// A pending enrollment (valid from `t(0)` to `t(600)`) with a sealed
/// secret of the right shape.
pub(crate) fn pending(subject: &SubjectId, id: &str) -> PendingTotp {
    PendingTotp {
        id: CredentialId::new(id).unwrap(),
        subject: subject.clone(),
        sealed_secret: fresh_sealed().unwrap(),
        config: TotpConfig::default(),
        created_at: t(0),
        expires_at: t(600),
    }
}

/// Runs `$body` with `$pool` bound to the store's typed pool (for raw SQL).
macro_rules! with_pool {
    ($store:expr, |$pool:ident| $body:expr) => {
        match Into::<mfa_store_sql::AnyPool>::into($store.pool().clone()) {
            #[cfg(feature = "sqlite")]
            mfa_store_sql::AnyPool::Sqlite($pool) => $body,
            #[cfg(feature = "postgres")]
            mfa_store_sql::AnyPool::Postgres($pool) => $body,
            #[cfg(feature = "mysql")]
            mfa_store_sql::AnyPool::MySql($pool) => $body,
            #[allow(unreachable_patterns)]
            _ => unreachable!("no engine"),
        }
    };
}
pub(crate) use with_pool;

/// Runs `sql` on the store's database.
pub(crate) async fn execute<E: TestEngine>(store: &SqlStore<E>, sql: &str) {
    let sql = AssertSqlSafe(sql.to_owned());
    with_pool!(store, |pool| sqlx::query(sql)
        .execute(&pool)
        .await
        .map(drop))
    .unwrap();
}

/// The one number `sql` selects.
pub(crate) async fn number<E: TestEngine>(store: &SqlStore<E>, sql: &str) -> i64 {
    let sql = AssertSqlSafe(sql.to_owned());
    with_pool!(store, |pool| sqlx::query_scalar(sql).fetch_one(&pool).await).unwrap()
}

/// For each engine whose feature is enabled, a module of that name with a
/// `#[tokio::test]` running each listed generic test, `$test::<Engine>()`.
/// Attributes (such as `#[cfg]`) before a name apply to its tests.
macro_rules! engine_tests {
    ($($(#[$attr:meta])* $test:ident),* $(,)?) => {
        #[cfg(feature = "sqlite")]
        mod sqlite {
            $($(#[$attr])* #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $test() { super::$test::<mfa_store_sql::sqlx::Sqlite>().await })*
        }
        #[cfg(feature = "postgres")]
        mod postgres {
            $($(#[$attr])* #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $test() { super::$test::<mfa_store_sql::sqlx::Postgres>().await })*
        }
        #[cfg(feature = "mysql")]
        mod mysql {
            $($(#[$attr])* #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $test() { super::$test::<mfa_store_sql::sqlx::MySql>().await })*
        }
    };
}
pub(crate) use engine_tests;

/// An engine, as the tests create its databases (named in messages by
/// [`sqlx::Database::NAME`]).
pub(crate) trait TestEngine:
    sqlx::Database + Engine<Pool: Into<AnyPool> + From<sqlx::Pool<Self>>>
{
    /// Counts the host application's `_sqlx_migrations` tables (0 or 1).
    const SQLX_MIGRATIONS_TABLES: &str;

    /// Where a fresh database goes: a new temporary file (SQLite), the
    /// test server (`None`: skipped, see [`service_url`]).
    fn url() -> Option<String>;

    /// A fresh database at `url` and `pools` pools on it, not migrated.
    async fn create(url: String, pools: usize) -> Result<Vec<SqlStore<Self>>, BoxError>;

    /// The URL of this engine's server at a local `port` (`None`: SQLite).
    fn closed_url(_port: u16) -> Option<String> {
        None
    }

    /// A store whose pool connects to `url` only when used, waiting at
    /// most `timeout` for a connection.
    fn lazy_store(url: &str, timeout: Duration) -> SqlStore<Self> {
        let options = sqlx::pool::PoolOptions::<Self>::new().acquire_timeout(timeout);
        SqlStore::from_pool(options.connect_lazy(url).unwrap())
    }

    /// The SQL literal of the bytes in `hex`.
    fn blob(hex: &str) -> String {
        format!("X'{hex}'")
    }

    /// A fresh migrated store (SQLite: in memory).
    async fn store() -> Option<SqlStore<Self>> {
        migrated_at(Self::url()).await
    }
}

/// `pools` pools on a fresh database, not migrated; `None`: skipped.
pub(crate) async fn pools<E: TestEngine>(pools: usize) -> Option<Vec<SqlStore<E>>> {
    require_store(E::NAME, E::url(), |url| E::create(url, pools)).await
}

/// A migrated store on a fresh database (SQLite: a temporary file).
pub(crate) async fn migrated<E: TestEngine>() -> Option<SqlStore<E>> {
    migrated_at(E::url()).await
}

/// A migrated store on a fresh database at `url`.
pub(crate) async fn migrated_at<E: TestEngine>(url: Option<String>) -> Option<SqlStore<E>> {
    require_store(E::NAME, url, |url| async move {
        let store = E::create(url, 1).await?.pop().ok_or("no pool")?;
        store.migrate().await?;
        Ok(store)
    })
    .await
}

/// A migrated [`AnyStore`] on the engine `url` names.
pub(crate) async fn any_store(url: &str) -> Option<AnyStore> {
    require_store("AnyStore", Some(url.to_owned()), |url| async move {
        let store = AnyStore::connect(&url).await?;
        store.migrate().await?;
        Ok(store)
    })
    .await
}

/// The one way the tests get a store. `url` is `None` when the engine's
/// URL variable is unset, and the test is skipped ([`service_url`] has
/// printed why, or panicked under `MFA_REQUIRE_SERVICES=1`). Otherwise
/// `create` connects and migrates; if it fails, so does the test, with the
/// error and its causes — never a silent skip.
///
/// # Panics
/// If `create` fails.
async fn require_store<S, F, Fut>(what: &str, url: Option<String>, create: F) -> Option<S>
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = Result<S, BoxError>>,
{
    let error = match create(url?).await {
        Ok(store) => return Some(store),
        Err(error) => error,
    };
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    panic!("the {what} test store could not be created: {message}")
}

/// Stores on `pools` pools with `options`, each holding `guard` until it
/// is dropped.
async fn guarded_stores<E: TestEngine>(
    options: <E::Connection as Connection>::Options,
    pools: usize,
    guard: &Arc<Guard>,
) -> Result<Vec<SqlStore<E>>, BoxError> {
    let mut out = Vec::new();
    for _ in 0..pools {
        let guard = Arc::clone(guard);
        let pool = sqlx::pool::PoolOptions::<E>::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(60))
            .after_release(move |_, _| {
                let _ = &guard;
                Box::pin(async { Ok(true) })
            })
            .connect_with(options.clone())
            .await?;
        out.push(SqlStore::from_pool(pool));
    }
    Ok(out)
}

/// Runs `sql` on a new connection to `url`, ignoring failures (cleanup).
fn cleanup<C: Connection>(url: String, sql: String) -> Arc<Guard>
where
    for<'c> &'c mut C: Executor<'c>,
{
    Guard::new(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async {
                if let Ok(mut admin) = C::connect(&url).await {
                    let _ = admin.execute(AssertSqlSafe(sql)).await;
                    let _ = admin.close().await;
                }
            });
    })
}

/// A fresh `kind` (`SCHEMA` or `DATABASE`) on the server at `url`, and
/// the guard that drops it (`DROP {kind} IF EXISTS name{drop_options}`).
/// First drops the stale ones of crashed runs among the names `stale`
/// selects.
async fn fresh_namespace<C>(
    url: &str,
    stale: &'static str,
    kind: &str,
    drop_options: &str,
) -> Result<(String, Arc<Guard>), BoxError>
where
    C: Connection,
    for<'c> &'c mut C: Executor<'c, Database = C::Database>,
    for<'r> String: sqlx::Decode<'r, C::Database> + sqlx::Type<C::Database>,
    usize: sqlx::ColumnIndex<<C::Database as sqlx::Database>::Row>,
{
    let name = unique_name();
    let mut admin = C::connect(url).await?;
    for row in admin.fetch_all(stale).await? {
        let old: String = sqlx::Row::try_get(&row, 0)?;
        if is_stale(&old) {
            let sql = format!("DROP {kind} IF EXISTS {old}{drop_options}");
            let _ = admin.execute(AssertSqlSafe(sql)).await;
        }
    }
    admin
        .execute(AssertSqlSafe(format!("CREATE {kind} {name}")))
        .await?;
    admin.close().await?;
    let drop = format!("DROP {kind} IF EXISTS {name}{drop_options}");
    Ok((name, cleanup::<C>(url.to_owned(), drop)))
}

/// Deletes the SQLite database file at `url`, with its WAL files, when
/// dropped.
pub(crate) fn sqlite_file_guard(url: &str) -> Arc<Guard> {
    let path = url.trim_start_matches("sqlite://").to_owned();
    Guard::new(move || {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{path}{suffix}"));
        }
    })
}

#[cfg(feature = "sqlite")]
impl TestEngine for sqlx::Sqlite {
    const SQLX_MIGRATIONS_TABLES: &str =
        "SELECT COUNT(*) FROM sqlite_master WHERE name = '_sqlx_migrations'";

    fn url() -> Option<String> {
        let path = std::env::temp_dir().join(format!("{}.db", unique_name()));
        Some(format!("sqlite://{}", path.display()))
    }

    /// The database file is created by the first pool, and deleted with
    /// its WAL files by the guard.
    async fn create(url: String, pools: usize) -> Result<Vec<SqlStore<Self>>, BoxError> {
        let guard = sqlite_file_guard(&url);
        let options = mfa_store_sql::SqliteStore::connect_options(&url)?;
        guarded_stores(options, pools, &guard).await
    }

    async fn store() -> Option<SqlStore<Self>> {
        require_store(
            <Self as sqlx::Database>::NAME,
            Some("sqlite::memory:".into()),
            |url| async move {
                let store = SqlStore::connect(&url).await?;
                store.migrate().await?;
                Ok(store)
            },
        )
        .await
    }
}

#[cfg(feature = "postgres")]
impl TestEngine for sqlx::Postgres {
    fn closed_url(port: u16) -> Option<String> {
        Some(format!("postgres://postgres@127.0.0.1:{port}/test"))
    }
    const SQLX_MIGRATIONS_TABLES: &str = "SELECT COUNT(to_regclass('_sqlx_migrations'))";

    fn url() -> Option<String> {
        service_url("MFA_TEST_POSTGRES_URL")
    }

    fn blob(hex: &str) -> String {
        format!("'\\x{hex}'::bytea")
    }

    /// A fresh schema; the pools' `search_path` points at it.
    async fn create(url: String, pools: usize) -> Result<Vec<SqlStore<Self>>, BoxError> {
        use sqlx::postgres::{PgConnectOptions, PgConnection};
        use std::str::FromStr;
        const STALE: &str =
            "SELECT nspname::text FROM pg_namespace WHERE nspname LIKE 'mfa\\_test\\_%'";
        let (schema, guard) =
            fresh_namespace::<PgConnection>(&url, STALE, "SCHEMA", " CASCADE").await?;
        let options = PgConnectOptions::from_str(&url)?.options([("search_path", schema.as_str())]);
        guarded_stores(options, pools, &guard).await
    }
}

#[cfg(feature = "mysql")]
impl TestEngine for sqlx::MySql {
    fn closed_url(port: u16) -> Option<String> {
        Some(format!("mysql://root@127.0.0.1:{port}/test"))
    }
    const SQLX_MIGRATIONS_TABLES: &str = "SELECT COUNT(*) FROM information_schema.tables \
        WHERE table_schema = DATABASE() AND table_name = '_sqlx_migrations'";

    fn url() -> Option<String> {
        service_url("MFA_TEST_MYSQL_URL")
    }

    /// A fresh database.
    async fn create(url: String, pools: usize) -> Result<Vec<SqlStore<Self>>, BoxError> {
        use sqlx::mysql::{MySqlConnectOptions, MySqlConnection};
        use std::str::FromStr;
        const STALE: &str = "SELECT CAST(schema_name AS CHAR(255)) \
            FROM information_schema.schemata WHERE schema_name LIKE 'mfa\\_test\\_%'";
        let (database, guard) =
            fresh_namespace::<MySqlConnection>(&url, STALE, "DATABASE", "").await?;
        let options = MySqlConnectOptions::from_str(&url)?.database(&database);
        guarded_stores(options, pools, &guard).await
    }
}
