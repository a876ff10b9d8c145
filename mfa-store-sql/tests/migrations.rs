//! `migrate()` from an empty database, again (a no-op), and from two pools
//! at once; recorded in `_mfa_migrations`, never in `_sqlx_migrations`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]

mod common;

use common::{TestEngine, engine_tests, number, with_pool};
use mfa_core::{Store, SubjectId};
use mfa_store_sql::{SqlStore, sqlx};

/// The applied migrations, as (version, success).
async fn applied<E: TestEngine>(store: &SqlStore<E>) -> Vec<(i64, bool)> {
    const APPLIED: &str = "SELECT version, success FROM _mfa_migrations ORDER BY version";
    with_pool!(store, |pool| sqlx::query_as(APPLIED).fetch_all(&pool).await).unwrap()
}

/// Checks a freshly migrated store works and its bookkeeping is its own.
async fn check_migrated<E: TestEngine>(store: &SqlStore<E>) {
    assert_eq!(applied(store).await, vec![(1, true), (2, true)]);
    assert_eq!(
        number(store, E::SQLX_MIGRATIONS_TABLES).await,
        0,
        "the host application's _sqlx_migrations was touched"
    );
    let alice = SubjectId::new("alice").unwrap();
    assert_eq!(store.recovery_codes_left(&alice).await.unwrap(), 0);
}

async fn from_empty_and_again<E: TestEngine>() {
    let Some(stores) = common::pools::<E>(1).await else {
        return;
    };
    let store = &stores[0];
    store.migrate().await.unwrap();
    check_migrated(store).await;
    let before = applied(store).await;
    store.migrate().await.unwrap();
    assert_eq!(applied(store).await, before, "a second run changes nothing");
}

async fn concurrently_from_two_pools<E: TestEngine>() {
    let Some(stores) = common::pools::<E>(2).await else {
        return;
    };
    let (ra, rb) = tokio::join!(stores[0].migrate(), stores[1].migrate());
    ra.unwrap();
    rb.unwrap();
    check_migrated(&stores[1]).await;
    check_migrated(&stores[0]).await;
}

engine_tests!(from_empty_and_again, concurrently_from_two_pools);

/// What only SQLite has: the file `connect` creates, reopened later, and
/// in-memory databases.
#[cfg(feature = "sqlite")]
mod sqlite_only {
    use super::*;
    use mfa_store_sql::SqliteStore;

    #[tokio::test(flavor = "multi_thread")]
    async fn a_file_created_then_reopened() {
        let url = <sqlx::Sqlite as TestEngine>::url().unwrap();
        let _guard = common::sqlite_file_guard(&url);
        let path = std::path::PathBuf::from(url.trim_start_matches("sqlite://"));
        let store = SqliteStore::connect(&url).await.unwrap();
        assert!(path.exists(), "the file is created");
        store.migrate().await.unwrap();
        let before = applied(&store).await;
        store.pool().close().await;
        // Another process opening the same file later.
        let again = SqliteStore::connect(&url).await.unwrap();
        again.migrate().await.unwrap();
        check_migrated(&again).await;
        assert_eq!(applied(&again).await, before);
        again.pool().close().await;
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn memory() {
        let store = SqliteStore::connect("sqlite::memory:").await.unwrap();
        store.migrate().await.unwrap();
        store.migrate().await.unwrap();
        check_migrated(&store).await;
        // Each connect is a database of its own.
        let other = SqliteStore::connect("sqlite::memory:").await.unwrap();
        let tables = number(&other, "SELECT COUNT(*) FROM sqlite_master").await;
        assert_eq!(tables, 0, "two in-memory stores share a database");
    }
}
