//! `migrate()` from an empty database, again (a no-op), and from two pools
//! at once; recorded in `_mfa_migrations`, never in `_sqlx_migrations`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]

mod common;

use mfa_core::{Store, SubjectId};
use mfa_store_sql::sqlx;

/// What the migrations table holds: (version, success).
const APPLIED: &str = "SELECT version, success FROM _mfa_migrations ORDER BY version";

/// Checks a freshly migrated store works and its bookkeeping is its own.
async fn check_migrated<S: Store>(store: &S, applied: Vec<(i64, bool)>, has_sqlx_table: bool) {
    assert_eq!(applied, vec![(1, true), (2, true)]);
    assert!(
        !has_sqlx_table,
        "the host application's _sqlx_migrations was touched"
    );
    let alice = SubjectId::new("alice").unwrap();
    assert_eq!(store.recovery_codes_left(&alice).await.unwrap(), 0);
}

#[cfg(feature = "sqlite")]
mod sqlite {
    use super::*;
    use mfa_store_sql::SqliteStore;

    async fn state(store: &SqliteStore) -> (Vec<(i64, bool)>, bool) {
        let applied = sqlx::query_as(APPLIED)
            .fetch_all(store.pool())
            .await
            .unwrap();
        let sqlx_table: Option<String> =
            sqlx::query_scalar("SELECT name FROM sqlite_master WHERE name = '_sqlx_migrations'")
                .fetch_optional(store.pool())
                .await
                .unwrap();
        (applied, sqlx_table.is_some())
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn from_empty_and_again() {
        let (path, _guard) = common::sqlite::temp_file();
        let url = format!("sqlite://{}", path.display());
        let store = SqliteStore::connect(&url).await.unwrap();
        assert!(path.exists(), "the file is created");
        store.migrate().await.unwrap();
        let (applied, sqlx_table) = state(&store).await;
        check_migrated(&store, applied.clone(), sqlx_table).await;
        store.migrate().await.unwrap();
        assert_eq!(
            state(&store).await.0,
            applied,
            "a second run changes nothing"
        );
        store.pool().close().await;
        // Another process opening the same file later.
        let again = SqliteStore::connect(&url).await.unwrap();
        again.migrate().await.unwrap();
        assert_eq!(state(&again).await.0, applied);
        again.pool().close().await;
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn concurrently_from_two_pools() {
        let (path, _guard) = common::sqlite::temp_file();
        let url = format!("sqlite://{}", path.display());
        // Create the file (and switch it to WAL) once, as the first
        // instance to start would.
        let a = SqliteStore::connect(&url).await.unwrap();
        let b = SqliteStore::connect(&url).await.unwrap();
        let (ra, rb) = tokio::join!(a.migrate(), b.migrate());
        ra.unwrap();
        rb.unwrap();
        let (applied, sqlx_table) = state(&a).await;
        check_migrated(&b, applied, sqlx_table).await;
        a.pool().close().await;
        b.pool().close().await;
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn memory() {
        let store = SqliteStore::connect("sqlite::memory:").await.unwrap();
        store.migrate().await.unwrap();
        store.migrate().await.unwrap();
        let (applied, sqlx_table) = state(&store).await;
        check_migrated(&store, applied, sqlx_table).await;
        // Each connect is a database of its own.
        let other = SqliteStore::connect("sqlite::memory:").await.unwrap();
        let tables: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_master")
            .fetch_one(other.pool())
            .await
            .unwrap();
        assert_eq!(tables, 0, "two in-memory stores share a database");
    }
}

#[cfg(feature = "postgres")]
mod postgres {
    use super::*;
    use mfa_store_sql::PostgresStore;

    async fn state(store: &PostgresStore) -> (Vec<(i64, bool)>, bool) {
        let applied = sqlx::query_as(APPLIED)
            .fetch_all(store.pool())
            .await
            .unwrap();
        let sqlx_table: Option<String> =
            sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations')::text")
                .fetch_one(store.pool())
                .await
                .unwrap();
        (applied, sqlx_table.is_some())
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn from_empty_and_again() {
        let Some(stores) = common::postgres::pools(1).await else {
            return;
        };
        let store = &stores[0];
        store.migrate().await.unwrap();
        let (applied, sqlx_table) = state(store).await;
        check_migrated(store, applied.clone(), sqlx_table).await;
        store.migrate().await.unwrap();
        assert_eq!(state(store).await.0, applied);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn concurrently_from_two_pools() {
        let Some(stores) = common::postgres::pools(2).await else {
            return;
        };
        let (ra, rb) = tokio::join!(stores[0].migrate(), stores[1].migrate());
        ra.unwrap();
        rb.unwrap();
        let (applied, sqlx_table) = state(&stores[1]).await;
        check_migrated(&stores[0], applied, sqlx_table).await;
    }
}

#[cfg(feature = "mysql")]
mod mysql {
    use super::*;
    use mfa_store_sql::MySqlStore;

    async fn state(store: &MySqlStore) -> (Vec<(i64, bool)>, bool) {
        let applied = sqlx::query_as(APPLIED)
            .fetch_all(store.pool())
            .await
            .unwrap();
        let sqlx_table: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM information_schema.tables \
             WHERE table_schema = DATABASE() AND table_name = '_sqlx_migrations'",
        )
        .fetch_one(store.pool())
        .await
        .unwrap();
        (applied, sqlx_table > 0)
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn from_empty_and_again() {
        let Some(stores) = common::mysql::pools(1).await else {
            return;
        };
        let store = &stores[0];
        store.migrate().await.unwrap();
        let (applied, sqlx_table) = state(store).await;
        check_migrated(store, applied.clone(), sqlx_table).await;
        store.migrate().await.unwrap();
        assert_eq!(state(store).await.0, applied);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn concurrently_from_two_pools() {
        let Some(stores) = common::mysql::pools(2).await else {
            return;
        };
        let (ra, rb) = tokio::join!(stores[0].migrate(), stores[1].migrate());
        ra.unwrap();
        rb.unwrap();
        let (applied, sqlx_table) = state(&stores[1]).await;
        check_migrated(&stores[0], applied, sqlx_table).await;
    }
}
