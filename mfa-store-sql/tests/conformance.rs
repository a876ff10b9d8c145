//! The shared store conformance suite (`mfa_core::testing`), once per
//! engine: SQLite in memory, SQLite on a temporary file, PostgreSQL
//! (`MFA_TEST_POSTGRES_URL`, a fresh schema per case) and MariaDB/MySQL
//! (`MFA_TEST_MYSQL_URL`, a fresh database per case), and through
//! `AnyStore`. Without a URL the server cases are skipped, or fail under
//! `MFA_REQUIRE_SERVICES=1`; a store that cannot be created or migrated
//! fails the case (see `common::require_store`).
#![cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
#![allow(clippy::expect_used)]

mod common;

use common::TestEngine;
use mfa_store_sql::sqlx;

#[cfg(feature = "sqlite")]
mfa_core::store_conformance_suite!(sqlite_memory, <sqlx::Sqlite as TestEngine>::store);

#[cfg(feature = "sqlite")]
mfa_core::store_conformance_suite!(sqlite_file, common::migrated::<sqlx::Sqlite>);

#[cfg(feature = "postgres")]
mfa_core::store_conformance_suite!(postgres, common::migrated::<sqlx::Postgres>);

#[cfg(feature = "mysql")]
mfa_core::store_conformance_suite!(mysql, common::migrated::<sqlx::MySql>);

#[cfg(feature = "sqlite")]
mfa_core::store_conformance_suite!(any_store_sqlite_memory, || common::any_store(
    "sqlite::memory:"
));

/// A store that cannot be created (or migrated) fails the test: it is
/// never a silent skip.
#[cfg(feature = "sqlite")]
#[tokio::test]
#[should_panic(expected = "could not be created")]
async fn a_store_that_cannot_be_created_fails_the_test() {
    let _ = common::any_store("sqlite:///nonexistent-dir-for-mfa-tests/x.db").await;
}

/// The same for a server engine whose URL is set but refuses connections.
async fn an_unreachable_server_fails_the_test<E: TestEngine>(url: &str) {
    let _ = common::migrated_at::<E>(Some(url.to_owned())).await;
}

#[cfg(feature = "postgres")]
#[tokio::test]
#[should_panic(expected = "could not be created")]
async fn an_unreachable_postgres_fails_the_test() {
    an_unreachable_server_fails_the_test::<sqlx::Postgres>("postgres://postgres@127.0.0.1:1/test")
        .await;
}

#[cfg(feature = "mysql")]
#[tokio::test]
#[should_panic(expected = "could not be created")]
async fn an_unreachable_mysql_fails_the_test() {
    an_unreachable_server_fails_the_test::<sqlx::MySql>("mysql://root@127.0.0.1:1/test").await;
}
