//! What only a SQL store can get wrong, on every engine: identifiers that
//! differ only in case or trailing spaces (collations), their order (for
//! key rotation paging), values beyond `BIGINT`, rows that do not decode,
//! the reading of a reset's send history, and the dump helper. The
//! `Store` contract itself is checked by the shared conformance suite
//! (tests/conformance.rs).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]

mod common;

use std::time::Duration;

use common::{TestEngine, engine_tests, execute, pending, sid, t};

use mfa_core::audit::AuditQuery;
use mfa_core::pepper::CodeHash;
use mfa_core::store::{IssueOutcome, PendingTotp, ReplaceCodes, SendLimits, SentCode};
use mfa_core::testing::fresh_hash;
use mfa_core::{Channel, CredentialId, Error, Store, Timestamp};

/// "alice", "Alice" and "alice " are three subjects; ids sort byte by byte.
async fn identifiers_compare_byte_for_byte<E: TestEngine>() {
    let Some(store) = E::store().await else {
        return;
    };
    let names = ["alice", "Alice", "alice ", "ålice"];
    for (n, name) in names.iter().enumerate() {
        let codes: Vec<CodeHash> = (0..=n).map(|_| fresh_hash().unwrap()).collect();
        assert!(
            store
                .replace_recovery_codes(&sid(name), codes, ReplaceCodes::Always, t(0))
                .await
                .unwrap()
        );
    }
    for (n, name) in names.iter().enumerate() {
        assert_eq!(
            store.recovery_codes_left(&sid(name)).await.unwrap() as usize,
            n + 1,
            "{name:?}"
        );
    }
    // Credential ids in byte order, not a locale's or case-insensitive one.
    let ids = ["b", "B", "a", "Z", "a ", "é", "_"];
    for (n, id) in ids.iter().enumerate() {
        store
            .put_pending_totp(pending(&sid(&format!("owner{n}")), id))
            .await
            .unwrap();
    }
    let listed = async |after: Option<&str>, limit| -> Vec<String> {
        let after = after.map(|a| CredentialId::new(a).unwrap());
        let entries = store.sealed_secrets(after.as_ref(), limit).await.unwrap();
        entries
            .into_iter()
            .map(|e| e.credential.as_str().to_owned())
            .collect()
    };
    let mut sorted: Vec<String> = ids.iter().map(|s| (*s).to_owned()).collect();
    sorted.sort();
    assert_eq!(listed(None, 100).await, sorted);
    let after_a = listed(Some("a"), 2).await;
    assert_eq!(after_a, vec!["a ".to_owned(), "b".to_owned()]);
}

/// Values the database cannot hold are an error; times only compared
/// against stored ones saturate without changing any answer.
async fn values_out_of_range<E: TestEngine>() {
    let Some(store) = E::store().await else {
        return;
    };
    let alice = sid("alice");
    let p = pending(&alice, "c1");
    store.put_pending_totp(p.clone()).await.unwrap();
    let far = Timestamp::from_unix(u64::MAX);
    let err = store
        .put_pending_totp(PendingTotp {
            expires_at: far,
            ..pending(&alice, "c2")
        })
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Store(_)), "{err:?}");
    assert_eq!(store.pending_totp(&alice, &p.id, far).await.unwrap(), None);
    assert_eq!(
        store.pending_totp(&alice, &p.id, t(1)).await.unwrap(),
        Some(p)
    );
    assert!(store.list_devices(&alice, far).await.unwrap().is_empty());
    assert!(
        store
            .list_audit(&AuditQuery::latest(5).before(u64::MAX))
            .await
            .unwrap()
            .is_empty()
    );
}

/// A reset removes the record of sends too: the subject starts afresh.
async fn reset_clears_the_send_history<E: TestEngine>() {
    let Some(store) = E::store().await else {
        return;
    };
    let alice = sid("alice");
    let limits = SendLimits {
        cooldown: Duration::from_secs(60),
        max_per_hour: 1,
    };
    let code = |at| SentCode {
        subject: alice.clone(),
        channel: Channel::Email,
        hash: fresh_hash().unwrap(),
        issued_at: at,
        expires_at: at.plus(Duration::from_secs(300)),
    };
    assert_eq!(
        store.issue_sent_code(code(t(0)), limits).await.unwrap(),
        IssueOutcome::Issued
    );
    assert!(matches!(
        store.issue_sent_code(code(t(1)), limits).await.unwrap(),
        IssueOutcome::TooSoon { .. }
    ));
    store.reset_subject(&alice).await.unwrap();
    assert_eq!(
        store.issue_sent_code(code(t(2)), limits).await.unwrap(),
        IssueOutcome::Issued
    );
}

/// Rows written by something else (or an older bug) that do not decode
/// are `Error::Store` with a `SqlStoreError` inside, never a panic.
async fn corrupt_rows<E: TestEngine>() {
    let Some(store) = E::store().await else {
        return;
    };
    let alice = sid("alice");
    let sealed = E::blob(&format!("0100000001{}", "00".repeat(48)));
    let bad: Vec<(String, &str)> = vec![
        // unknown algorithm
        (
            format!(
                "INSERT INTO mfa_totp (id, subject, name, sealed_secret, algorithm, digits, period, t0, drift, created_at) \
          VALUES ('c1', 'alice', 'n', {sealed}, 'MD5', 6, 30, 0, 0, 1)"
            ),
            "list_totp",
        ),
        // a token hash that is not 32 bytes
        (
            format!(
                "INSERT INTO mfa_devices (id, subject, token_hash, name, created_at, expires_at) \
          VALUES ('d1', 'alice', {}, 'n', 1, 9999999999)",
                E::blob("0102")
            ),
            "list_devices",
        ),
        // an unknown audit action
        (
            "INSERT INTO mfa_audit (at, subject, actor_kind, actor_id, action) \
          VALUES (1, 'alice', 'system', NULL, 'teleported')"
                .into(),
            "list_audit",
        ),
        // an unknown channel
        (
            "INSERT INTO mfa_channels (subject, channel, added_at) VALUES ('alice', 'fax', 1)"
                .into(),
            "list_channels",
        ),
        // not the JSON of a policy
        (
            "INSERT INTO mfa_policy (id, policy) VALUES (1, '{\"roles\": 7}')".into(),
            "load_policy",
        ),
        // a negative time
        (
            "INSERT INTO mfa_grace (subject, fixed_at, deadline) VALUES ('alice', -5, 1)".into(),
            "grace",
        ),
    ];
    for (sql, method) in bad {
        execute(&store, &sql).await;
        let err = match method {
            "list_totp" => store.list_totp(&alice).await.map(drop),
            "list_devices" => store.list_devices(&alice, t(0)).await.map(drop),
            "list_audit" => store.list_audit(&AuditQuery::latest(5)).await.map(drop),
            "list_channels" => store.list_channels(&alice).await.map(drop),
            "load_policy" => store.load_policy().await.map(drop),
            "grace" => store.grace(&alice).await.map(drop),
            _ => unreachable!(),
        }
        .unwrap_err();
        assert!(matches!(err, Error::Store(_)), "{method}: {err:?}");
        let source = std::error::Error::source(&err).unwrap();
        assert!(
            source.is::<mfa_store_sql::SqlStoreError>(),
            "{method}: {source:?}"
        );
    }
}

/// The dump helper reads every table, and refuses a schema with an
/// `mfa_` table it does not know.
#[cfg(feature = "testing")]
async fn dump<E: TestEngine>() {
    let Some(store) = E::store().await else {
        return;
    };
    let alice = sid("alice");
    let p = pending(&alice, "c1");
    store.put_pending_totp(p.clone()).await.unwrap();
    let code = fresh_hash().unwrap();
    store
        .replace_recovery_codes(&alice, vec![code], ReplaceCodes::Always, t(0))
        .await
        .unwrap();
    let dump = store.dump_all_tables().await.unwrap();
    let cells = |key: &str| -> Vec<Vec<u8>> {
        dump.iter()
            .find(|(k, _)| k == key)
            .map(|(_, c)| c.clone())
            .unwrap_or_else(|| panic!("{key} missing"))
    };
    assert_eq!(
        cells("mfa_totp_pending.sealed_secret"),
        vec![p.sealed_secret.as_bytes().to_vec()]
    );
    assert_eq!(cells("mfa_totp_pending.subject"), vec![b"alice".to_vec()]);
    assert_eq!(cells("mfa_totp_pending.digits"), vec![b"6".to_vec()]);
    assert_eq!(
        cells("mfa_recovery_codes.code_hash"),
        vec![code.as_bytes().to_vec()]
    );
    assert!(
        dump.iter().any(|(k, c)| k == "mfa_audit" && c.is_empty()),
        "empty tables are listed"
    );
    execute(&store, "CREATE TABLE mfa_unknown (x INTEGER)").await;
    assert!(matches!(
        store.dump_all_tables().await,
        Err(Error::Store(_))
    ));
}

engine_tests!(
    identifiers_compare_byte_for_byte,
    values_out_of_range,
    reset_clears_the_send_history,
    corrupt_rows,
    #[cfg(feature = "testing")]
    dump,
);

#[cfg(feature = "sqlite")]
mod sqlite_only {
    use super::*;

    /// A consumed step must survive a power loss, or it could be replayed:
    /// every connection of a file store commits durably
    /// (`synchronous = FULL`, 2) in WAL mode, through `SqliteStore` and
    /// through `AnyStore`.
    #[tokio::test(flavor = "multi_thread")]
    async fn file_commits_are_durable() {
        use mfa_store_sql::sqlx::{self, Sqlite, pool::PoolConnection};

        async fn check(conns: &mut [PoolConnection<Sqlite>]) {
            for conn in conns {
                let synchronous: i64 = sqlx::query_scalar("PRAGMA synchronous")
                    .fetch_one(&mut **conn)
                    .await
                    .unwrap();
                assert_eq!(synchronous, 2, "synchronous must be FULL");
                let journal: String = sqlx::query_scalar("PRAGMA journal_mode")
                    .fetch_one(&mut **conn)
                    .await
                    .unwrap();
                assert_eq!(journal, "wal");
            }
        }

        let url = <mfa_store_sql::sqlx::Sqlite as TestEngine>::url().unwrap();
        let _guard = common::sqlite_file_guard(&url);
        let store = mfa_store_sql::SqliteStore::connect(&url).await.unwrap();
        let mut conns = Vec::new();
        for _ in 0..3 {
            conns.push(store.pool().acquire().await.unwrap());
        }
        check(&mut conns).await;
        drop(conns);
        let store = mfa_store_sql::AnyStore::connect(&url).await.unwrap();
        let mfa_store_sql::AnyPool::Sqlite(pool) = store.pool() else {
            panic!("not a SQLite store");
        };
        let mut conns = vec![pool.acquire().await.unwrap()];
        check(&mut conns).await;
    }
}
