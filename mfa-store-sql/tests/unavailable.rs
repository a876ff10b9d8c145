//! A database that is down or unreachable is `Error::StoreUnavailable`:
//! never a panic, never an acceptance. Needs no running service.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]

use std::time::{Duration, Instant};

use mfa_core::pepper::CodeHash;
use mfa_core::throttle::ThrottleRule;
use mfa_core::{CredentialId, Error, FactorKind, Store, SubjectId, Timestamp};
mod common;

use common::{TestEngine, engine_tests, with_pool};
#[cfg(feature = "sqlite")]
use mfa_store_sql::SqliteStore;
use mfa_store_sql::{AnyStore, SqlStore, SqlStoreError};

/// A few calls, each of which must fail as unavailable.
async fn all_unavailable<S: Store>(store: &S) {
    let alice = SubjectId::new("alice").unwrap();
    let id = CredentialId::new("c1").unwrap();
    let now = Timestamp::from_unix(1_700_000_000);
    let results = [
        store
            .consume_totp_step(&alice, &id, 5, 0, now)
            .await
            .map(drop),
        store
            .consume_recovery_code(&alice, &CodeHash::from_bytes([1; 32]), now)
            .await
            .map(drop),
        store
            .charge_attempt(&alice, FactorKind::Totp, ThrottleRule::default(), now)
            .await
            .map(drop),
        store.reset_subject(&alice).await.map(drop),
        store.load_policy().await.map(drop),
    ];
    for result in results {
        let err = result.unwrap_err();
        assert!(matches!(err, Error::StoreUnavailable(_)), "{err:?}");
    }
}

/// A local port nothing listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A store whose database is gone: SQLite's pool closed, a server's pool
/// (connecting lazily, giving up after 500 ms) on a closed port. Then its
/// pool closed too.
async fn down<E: TestEngine>() {
    let store = match E::closed_url(closed_port()) {
        None => {
            let store = SqlStore::<E>::connect("sqlite::memory:").await.unwrap();
            store.migrate().await.unwrap();
            with_pool!(store, |pool| pool.close().await);
            store
        }
        Some(url) => E::lazy_store(&url, Duration::from_millis(500)),
    };
    all_unavailable(&store).await;
    with_pool!(store, |pool| pool.close().await);
    all_unavailable(&store).await;
}

/// `connect` to a server that refuses connections fails as unavailable
/// once the store's acquire timeout has passed, as its engine's store and
/// as an `AnyStore`.
async fn connect_to_a_closed_port_gives_up_quickly<E: TestEngine>() {
    if let Some(url) = E::closed_url(closed_port()) {
        connect_gives_up(SqlStore::<E>::connect(&url)).await;
        connect_gives_up(AnyStore::connect(&url)).await;
    }
}

engine_tests!(down, connect_to_a_closed_port_gives_up_quickly);

#[cfg(feature = "sqlite")]
#[tokio::test(flavor = "multi_thread")]
async fn sqlite_unopenable() {
    let err = SqliteStore::connect("sqlite:///nonexistent-dir-for-mfa-tests/x.db")
        .await
        .unwrap_err();
    assert!(matches!(err, SqlStoreError::Connect(_)), "{err:?}");
}

/// Separates the stores' 3 s acquire timeout from sqlx's default 30 s with
/// room to spare on a loaded machine. It checks that the configured
/// timeout applies, not how fast anything is.
const WELL_BELOW_SQLX_DEFAULT: Duration = Duration::from_secs(10);

/// Awaits `call`, which must give up well before sqlx's default timeout.
async fn gives_up_quickly<T>(what: &str, call: impl Future<Output = T>) -> T {
    let started = Instant::now();
    let result = call.await;
    let elapsed = started.elapsed();
    eprintln!("{what} gave up after {elapsed:?}");
    assert!(
        elapsed < WELL_BELOW_SQLX_DEFAULT,
        "gave up after {elapsed:?}"
    );
    result
}

/// `connect` to a server that refuses connections fails as unavailable
/// once the store's acquire timeout has passed.
async fn connect_gives_up<T: std::fmt::Debug, F: Future<Output = Result<T, SqlStoreError>>>(
    connect: F,
) {
    let err = gives_up_quickly("connect", connect).await.unwrap_err();
    assert!(err.is_unavailable(), "{err:?}");
    assert!(matches!(Error::from(err), Error::StoreUnavailable(_)));
}

/// Every connection of the pool is taken (here: the single connection of
/// an in-memory database): a call waits for the acquire timeout, then is
/// `StoreUnavailable`.
#[cfg(feature = "sqlite")]
#[tokio::test(flavor = "multi_thread")]
async fn sqlite_exhausted_pool_gives_up_quickly() {
    let store = SqliteStore::connect("sqlite::memory:").await.unwrap();
    store.migrate().await.unwrap();
    let held = store.pool().acquire().await.unwrap();
    let err = gives_up_quickly("load_policy", store.load_policy()).await;
    let err = err.unwrap_err();
    assert!(matches!(err, Error::StoreUnavailable(_)), "{err:?}");
    drop(held);
    store.load_policy().await.unwrap();
}

/// `connect` applies the default options, `connect_with` the given ones.
#[cfg(feature = "sqlite")]
#[tokio::test(flavor = "multi_thread")]
async fn the_acquire_timeout_is_configurable() {
    use mfa_store_sql::{AnyPool, StoreOptions};

    let store = SqliteStore::connect("sqlite::memory:").await.unwrap();
    assert_eq!(
        store.pool().options().get_acquire_timeout(),
        StoreOptions::DEFAULT_ACQUIRE_TIMEOUT
    );
    assert_eq!(
        StoreOptions::DEFAULT_ACQUIRE_TIMEOUT,
        Duration::from_secs(3)
    );
    let short = StoreOptions::default().with_acquire_timeout(Duration::from_millis(250));
    let store = AnyStore::connect_with("sqlite::memory:", short)
        .await
        .unwrap();
    let AnyPool::Sqlite(pool) = store.pool() else {
        panic!("not a SQLite store");
    };
    assert_eq!(
        pool.options().get_acquire_timeout(),
        Duration::from_millis(250)
    );
}

#[test]
fn connect_errors_convert_by_kind() {
    let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
    let down = SqlStoreError::Connect(mfa_store_sql::sqlx::Error::Io(refused));
    assert!(down.is_unavailable());
    assert!(matches!(Error::from(down), Error::StoreUnavailable(_)));
    let timed_out = SqlStoreError::Connect(mfa_store_sql::sqlx::Error::PoolTimedOut);
    assert!(matches!(Error::from(timed_out), Error::StoreUnavailable(_)));
    let bad = SqlStoreError::Config(mfa_store_sql::sqlx::Error::Configuration("x".into()));
    assert!(!bad.is_unavailable());
    assert!(matches!(Error::from(bad), Error::Store(_)));
}

#[tokio::test]
async fn unknown_or_disabled_engines() {
    let err = AnyStore::connect("oracle://db/x").await.unwrap_err();
    assert!(matches!(err, SqlStoreError::UnsupportedUrl), "{err:?}");
    for (url, enabled) in [
        ("sqlite::memory:", cfg!(feature = "sqlite")),
        ("postgresql://127.0.0.1:1/x", cfg!(feature = "postgres")),
        ("mysql://127.0.0.1:1/x", cfg!(feature = "mysql")),
    ] {
        if !enabled {
            let err = AnyStore::connect(url).await.unwrap_err();
            assert!(
                matches!(err, SqlStoreError::EngineNotEnabled { .. }),
                "{err:?}"
            );
        }
    }
}
