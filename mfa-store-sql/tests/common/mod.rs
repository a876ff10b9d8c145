//! Fresh, isolated stores for the tests: an in-memory SQLite database, a
//! temporary SQLite file, a uniquely named PostgreSQL schema or MariaDB
//! database. Each is removed when the last pool using it is dropped (the
//! guard rides in a pool callback), and leftovers of crashed runs older
//! than an hour are removed by the next run.
//!
//! Every engine gets its store through [`require_store`]: a server whose
//! URL variable is unset is a skip (printed; a failure under
//! `MFA_REQUIRE_SERVICES=1`), but a store that cannot be created or
//! migrated once the URL is known fails the test with the error.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

pub(crate) use mfa_core::testing::service_url;

/// Prefix of every schema/database/file the tests create.
const PREFIX: &str = "mfa_test_";

/// A name no other test (in this or another process) uses, with the
/// creation time in it for the stale cleanup.
fn unique_name() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    format!(
        "{PREFIX}{}_{}_{}_{}",
        now.as_secs(),
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed),
        now.subsec_nanos()
    )
}

/// Whether a name made by [`unique_name`] is more than an hour old.
fn is_stale(name: &str) -> bool {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    name.strip_prefix(PREFIX)
        .and_then(|rest| rest.split('_').next())
        .and_then(|secs| secs.parse::<u64>().ok())
        .is_some_and(|created| created + 3600 < now)
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

fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

/// Any error, for the store factories.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The one way the tests get a store, on every engine.
///
/// `url` is where the store lives: `None` when the engine's URL variable
/// is unset, and the test is skipped ([`service_url`] has printed why, or
/// panicked under `MFA_REQUIRE_SERVICES=1`). Otherwise `create` connects
/// and migrates; if it fails, so does the test, with the error and its
/// causes — a store that cannot be created is never a silent skip.
///
/// # Panics
/// If `create` fails.
pub(crate) async fn require_store<S, F, Fut>(
    what: &str,
    url: Option<String>,
    create: F,
) -> Option<S>
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = Result<S, BoxError>>,
{
    let url = url?;
    match create(url).await {
        Ok(store) => Some(store),
        Err(error) => {
            let mut message = error.to_string();
            let mut source = error.source();
            while let Some(cause) = source {
                message.push_str(": ");
                message.push_str(&cause.to_string());
                source = cause.source();
            }
            panic!("the {what} test store could not be created: {message}")
        }
    }
}

/// A migrated [`SqlStore`](mfa_store_sql::SqlStore) on the engine `url`
/// names.
#[cfg(feature = "sqlite")]
pub(crate) async fn sql_store(url: &str) -> Option<mfa_store_sql::SqlStore> {
    require_store("SqlStore", Some(url.to_owned()), |url| async move {
        let store = mfa_store_sql::SqlStore::connect(&url).await?;
        store.migrate().await?;
        Ok(store)
    })
    .await
}

// ----- SQLite --------------------------------------------------------------

#[cfg(feature = "sqlite")]
pub(crate) mod sqlite {
    use std::path::PathBuf;

    use super::*;
    use mfa_store_sql::SqliteStore;
    use mfa_store_sql::sqlx::sqlite::SqlitePoolOptions;

    /// A migrated in-memory store.
    pub(crate) async fn memory() -> Option<SqliteStore> {
        require_store("SQLite", Some("sqlite::memory:".into()), |url| async move {
            let store = SqliteStore::connect(&url).await?;
            store.migrate().await?;
            Ok(store)
        })
        .await
    }

    /// A temporary database file (not yet created) and the guard that
    /// deletes it with its WAL files.
    pub(crate) fn temp_file() -> (PathBuf, Arc<Guard>) {
        let path = std::env::temp_dir().join(format!("{}.db", unique_name()));
        let remove = path.clone();
        let guard = Guard::new(move || {
            for suffix in ["", "-wal", "-shm"] {
                let mut p = remove.clone().into_os_string();
                p.push(suffix);
                let _ = std::fs::remove_file(p);
            }
        });
        (path, guard)
    }

    /// `pools` stores on one temporary file, migrated.
    pub(crate) async fn file_pools(pools: usize) -> Vec<SqliteStore> {
        let (path, guard) = temp_file();
        let url = format!("sqlite://{}", path.display());
        require_store("SQLite", Some(url), |url| async move {
            let mut stores = Vec::new();
            for _ in 0..pools {
                let guard = Arc::clone(&guard);
                let pool = SqlitePoolOptions::new()
                    .max_connections(8)
                    .after_release(move |_, _| {
                        let _ = &guard;
                        Box::pin(async { Ok(true) })
                    })
                    .connect_with(SqliteStore::connect_options(&url)?)
                    .await?;
                let store = SqliteStore::from_pool(pool);
                if stores.is_empty() {
                    store.migrate().await?;
                }
                stores.push(store);
            }
            Ok(stores)
        })
        .await
        .unwrap_or_default()
    }

    /// A migrated store on a temporary file.
    pub(crate) async fn file() -> Option<SqliteStore> {
        file_pools(1).await.pop()
    }
}

// ----- PostgreSQL ------------------------------------------------------------

#[cfg(feature = "postgres")]
pub(crate) mod postgres {
    use std::str::FromStr;
    use std::time::Duration;

    use super::*;
    use mfa_store_sql::PostgresStore;
    use mfa_store_sql::sqlx::postgres::{PgConnectOptions, PgConnection, PgPoolOptions};
    use mfa_store_sql::sqlx::{self, AssertSqlSafe, Connection, Executor};

    /// A fresh schema on the test server, `pools` pools whose
    /// `search_path` points at it, not migrated; `None` if the server is
    /// not configured (see [`require_store`]).
    pub(crate) async fn pools(pools: usize) -> Option<Vec<PostgresStore>> {
        let url = service_url("MFA_TEST_POSTGRES_URL");
        require_store("PostgreSQL", url, |url| create(url, pools)).await
    }

    /// A migrated store in a fresh schema.
    pub(crate) async fn store() -> Option<PostgresStore> {
        store_at(service_url("MFA_TEST_POSTGRES_URL")).await
    }

    /// A migrated store in a fresh schema on the server at `url`.
    pub(crate) async fn store_at(url: Option<String>) -> Option<PostgresStore> {
        require_store("PostgreSQL", url, |url| async move {
            let store = create(url, 1).await?.pop().ok_or("no pool")?;
            store.migrate().await?;
            Ok(store)
        })
        .await
    }

    async fn create(url: String, pools: usize) -> Result<Vec<PostgresStore>, BoxError> {
        let schema = unique_name();
        let mut admin = PgConnection::connect(&url).await?;
        drop_stale(&mut admin).await?;
        admin
            .execute(AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
            .await?;
        admin.close().await?;
        let guard = {
            let (url, schema) = (url.clone(), schema.clone());
            Guard::new(move || {
                block_on(async {
                    if let Ok(mut admin) = PgConnection::connect(&url).await {
                        let sql = format!("DROP SCHEMA IF EXISTS {schema} CASCADE");
                        let _ = admin.execute(AssertSqlSafe(sql)).await;
                        let _ = admin.close().await;
                    }
                });
            })
        };
        let options = PgConnectOptions::from_str(&url)?.options([("search_path", schema.as_str())]);
        let mut stores = Vec::new();
        for _ in 0..pools {
            let guard = Arc::clone(&guard);
            let pool = PgPoolOptions::new()
                .max_connections(8)
                .acquire_timeout(Duration::from_secs(60))
                .after_release(move |_, _| {
                    let _ = &guard;
                    Box::pin(async { Ok(true) })
                })
                .connect_with(options.clone())
                .await?;
            stores.push(PostgresStore::from_pool(pool));
        }
        Ok(stores)
    }

    async fn drop_stale(admin: &mut PgConnection) -> Result<(), BoxError> {
        let schemas: Vec<String> = sqlx::query_scalar(
            "SELECT nspname::text FROM pg_namespace WHERE nspname LIKE 'mfa\\_test\\_%'",
        )
        .fetch_all(&mut *admin)
        .await?;
        for schema in schemas.into_iter().filter(|s| is_stale(s)) {
            let sql = format!("DROP SCHEMA IF EXISTS {schema} CASCADE");
            let _ = admin.execute(AssertSqlSafe(sql)).await;
        }
        Ok(())
    }
}

// ----- MySQL / MariaDB -------------------------------------------------------

#[cfg(feature = "mysql")]
pub(crate) mod mysql {
    use std::str::FromStr;
    use std::time::Duration;

    use super::*;
    use mfa_store_sql::MySqlStore;
    use mfa_store_sql::sqlx::mysql::{MySqlConnectOptions, MySqlConnection, MySqlPoolOptions};
    use mfa_store_sql::sqlx::{self, AssertSqlSafe, Connection, Executor};

    /// A fresh database on the test server and `pools` pools on it, not
    /// migrated; `None` if the server is not configured (see
    /// [`require_store`]).
    pub(crate) async fn pools(pools: usize) -> Option<Vec<MySqlStore>> {
        let url = service_url("MFA_TEST_MYSQL_URL");
        require_store("MySQL/MariaDB", url, |url| create(url, pools)).await
    }

    /// A migrated store in a fresh database.
    pub(crate) async fn store() -> Option<MySqlStore> {
        store_at(service_url("MFA_TEST_MYSQL_URL")).await
    }

    /// A migrated store in a fresh database on the server at `url`.
    pub(crate) async fn store_at(url: Option<String>) -> Option<MySqlStore> {
        require_store("MySQL/MariaDB", url, |url| async move {
            let store = create(url, 1).await?.pop().ok_or("no pool")?;
            store.migrate().await?;
            Ok(store)
        })
        .await
    }

    async fn create(url: String, pools: usize) -> Result<Vec<MySqlStore>, BoxError> {
        let database = unique_name();
        let mut admin = MySqlConnection::connect(&url).await?;
        drop_stale(&mut admin).await?;
        admin
            .execute(AssertSqlSafe(format!("CREATE DATABASE {database}")))
            .await?;
        admin.close().await?;
        let guard = {
            let (url, database) = (url.clone(), database.clone());
            Guard::new(move || {
                block_on(async {
                    if let Ok(mut admin) = MySqlConnection::connect(&url).await {
                        let sql = format!("DROP DATABASE IF EXISTS {database}");
                        let _ = admin.execute(AssertSqlSafe(sql)).await;
                        let _ = admin.close().await;
                    }
                });
            })
        };
        let options = MySqlConnectOptions::from_str(&url)?.database(&database);
        let mut stores = Vec::new();
        for _ in 0..pools {
            let guard = Arc::clone(&guard);
            let pool = MySqlPoolOptions::new()
                .max_connections(8)
                .acquire_timeout(Duration::from_secs(60))
                .after_release(move |_, _| {
                    let _ = &guard;
                    Box::pin(async { Ok(true) })
                })
                .connect_with(options.clone())
                .await?;
            stores.push(MySqlStore::from_pool(pool));
        }
        Ok(stores)
    }

    async fn drop_stale(admin: &mut MySqlConnection) -> Result<(), BoxError> {
        let databases: Vec<String> = sqlx::query_scalar(
            "SELECT CAST(schema_name AS CHAR(255)) FROM information_schema.schemata \
             WHERE schema_name LIKE 'mfa\\_test\\_%'",
        )
        .fetch_all(&mut *admin)
        .await?;
        for database in databases.into_iter().filter(|d| is_stale(d)) {
            let sql = format!("DROP DATABASE IF EXISTS {database}");
            let _ = admin.execute(AssertSqlSafe(sql)).await;
        }
        Ok(())
    }
}
