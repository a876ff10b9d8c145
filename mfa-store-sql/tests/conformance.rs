//! The shared store conformance suite (`mfa_core::testing`), once per
//! engine: SQLite in memory, SQLite on a temporary file, PostgreSQL
//! (`MFA_TEST_POSTGRES_URL`, a fresh schema per case) and MariaDB/MySQL
//! (`MFA_TEST_MYSQL_URL`, a fresh database per case). Without a URL the
//! server cases are skipped, or fail under `MFA_REQUIRE_SERVICES=1`.
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
    let store = mfa_store_sql::SqlStore::connect("sqlite::memory:")
        .await
        .ok()?;
    store.migrate().await.ok()?;
    Some(store)
}

#[cfg(feature = "sqlite")]
mfa_core::store_conformance_suite!(sql_store_sqlite_memory, sql_store_from_url);
