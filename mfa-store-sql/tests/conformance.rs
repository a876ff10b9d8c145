//! The shared store conformance suite (`mfa_core::testing`), once per
//! engine: SQLite in memory, SQLite on a temporary file, PostgreSQL
//! (`MFA_TEST_POSTGRES_URL`, a fresh schema per case) and MariaDB/MySQL
//! (`MFA_TEST_MYSQL_URL`, a fresh database per case). Without a URL the
//! server cases are skipped, or fail under `MFA_REQUIRE_SERVICES=1`; a
//! store that cannot be created or migrated fails the case (see
//! `common::require_store`).
#![cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
#![allow(clippy::expect_used)]

mod common;

#[cfg(feature = "sqlite")]
mfa_core::store_conformance_suite!(sqlite_memory, common::sqlite::memory);

#[cfg(feature = "sqlite")]
mfa_core::store_conformance_suite!(sqlite_file, common::sqlite::file);

#[cfg(feature = "postgres")]
mfa_core::store_conformance_suite!(postgres, common::postgres::store);

#[cfg(feature = "mysql")]
mfa_core::store_conformance_suite!(mysql, common::mysql::store);

/// The same through [`SqlStore`](mfa_store_sql::SqlStore), chosen from a URL.
#[cfg(feature = "sqlite")]
async fn sql_store_from_url() -> Option<mfa_store_sql::SqlStore> {
    common::sql_store("sqlite::memory:").await
}

#[cfg(feature = "sqlite")]
mfa_core::store_conformance_suite!(sql_store_sqlite_memory, sql_store_from_url);

/// A store that cannot be created (or migrated) fails the test: it is
/// never a silent skip.
#[cfg(feature = "sqlite")]
#[tokio::test]
#[should_panic(expected = "could not be created")]
async fn a_store_that_cannot_be_created_fails_the_test() {
    let _ = common::sql_store("sqlite:///nonexistent-dir-for-mfa-tests/x.db").await;
}

/// The same for a server engine whose URL is set but refuses connections.
#[cfg(feature = "postgres")]
#[tokio::test]
#[should_panic(expected = "could not be created")]
async fn an_unreachable_postgres_fails_the_test() {
    let url = "postgres://postgres@127.0.0.1:1/test".to_owned();
    let _ = common::postgres::store_at(Some(url)).await;
}

/// The same for a server engine whose URL is set but refuses connections.
#[cfg(feature = "mysql")]
#[tokio::test]
#[should_panic(expected = "could not be created")]
async fn an_unreachable_mysql_fails_the_test() {
    let url = "mysql://root@127.0.0.1:1/test".to_owned();
    let _ = common::mysql::store_at(Some(url)).await;
}
