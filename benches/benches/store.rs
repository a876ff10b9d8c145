//! Sign-in through the service on a real database: `Mfa::verify` with an
//! authenticator code on a SQLite file and on PostgreSQL, with 1,000 and
//! with 1,000,000 enrolled subjects (seeded in bulk with one SQL statement
//! each), plus the statements (round trips) each sign-in sends.
//!
//! Run: `cargo bench -p mfa-benches --bench store`
//! PostgreSQL is used when `MFA_BENCH_POSTGRES_URL` (or
//! `MFA_TEST_POSTGRES_URL`) is set, e.g.
//! `postgres://postgres@127.0.0.1:5432/test`; a schema of its own is created
//! and dropped.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)] // bench setup fails loudly

use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use mfa_core::otp::Totp;
use mfa_core::policy::SessionState;
use mfa_core::seal::{Sealer, SealingKey};
use mfa_core::service::{Attempt, Confirmation, DriftTolerance, Verification};
use mfa_core::testing::{ManualClock, RecordingNotifier};
use mfa_core::{Clock, Mfa, MfaConfig, Pepper, Role, Secret, Store, Subject, SubjectId, Timestamp};
use mfa_store_sql::sqlx;
use mfa_store_sql::{PostgresStore, SqliteStore};

const SIZES: [u64; 2] = [1_000, 1_000_000];
const START: u64 = 1_800_000_000;

type Service<S> = Mfa<S, RecordingNotifier, ManualClock>;

struct Bench<S> {
    mfa: Service<S>,
    clock: ManualClock,
    subject: Subject,
    totp: Totp,
}

async fn enroll<S: Store>(store: S) -> Bench<S> {
    let clock = ManualClock::new(Timestamp::from_unix(START));
    let config = MfaConfig::new(
        "Bench Desk",
        Pepper::new(&[9; 32]).unwrap(),
        Sealer::new(vec![SealingKey::new(1, [3; 32])]).unwrap(),
    );
    let mfa = Mfa::new(store, RecordingNotifier::new(), clock.clone(), config);
    // Among the seeded ones, in the middle of the key range.
    let subject = Subject::new(SubjectId::new("subject-5xx-bench").unwrap(), [Role::AGENT]);
    let enrollment = mfa
        .start_totp_enrollment(&subject, &SessionState::default())
        .await
        .unwrap();
    let secret = Secret::from_base32(&enrollment.key).unwrap();
    let totp = Totp::new(&secret, &enrollment.config);
    let code = totp.generate_at(clock.now().unix()).unwrap();
    let confirmed = mfa
        .confirm_totp_enrollment(
            &subject,
            &enrollment.id,
            &code.expose(),
            "Phone",
            DriftTolerance::Standard,
        )
        .await
        .unwrap();
    assert!(matches!(confirmed, Confirmation::Enrolled { .. }));
    Bench {
        mfa,
        clock,
        subject,
        totp,
    }
}

/// `count` subjects, each with one authenticator and one audit event.
const SQLITE_SEED: [&str; 2] = [
    "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < ?1) \
     INSERT INTO mfa_totp (id, subject, name, sealed_secret, algorithm, digits, period, t0, \
     last_step, drift, created_at, last_used_at) \
     SELECT 'seed-' || n, 'subject-' || n, 'Phone', x'01', 'SHA1', 6, 30, 0, NULL, 0, 1700000000, NULL \
     FROM g",
    "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < ?1) \
     INSERT INTO mfa_audit (at, subject, actor_kind, actor_id, action, factor, detail) \
     SELECT 1700000000, 'subject-' || n, 'subject', 'subject-' || n, 'authenticator_added', 'totp', NULL \
     FROM g",
];

const POSTGRES_SEED: [&str; 2] = [
    "INSERT INTO mfa_totp (id, subject, name, sealed_secret, algorithm, digits, period, t0, \
     last_step, drift, created_at, last_used_at) \
     SELECT 'seed-' || n, 'subject-' || n, 'Phone', '\\x01'::bytea, 'SHA1', 6, 30, 0, NULL, 0, \
     1700000000, NULL FROM generate_series(1, $1) AS n",
    "INSERT INTO mfa_audit (at, subject, actor_kind, actor_id, action, factor, detail) \
     SELECT 1700000000, 'subject-' || n, 'subject', 'subject-' || n, 'authenticator_added', \
     'totp', NULL FROM generate_series(1, $1) AS n",
];

async fn sqlite_store(count: u64) -> (SqliteStore, std::path::PathBuf) {
    let path = std::env::temp_dir().join(format!("mfa-bench-{}-{count}.db", std::process::id()));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let store = SqliteStore::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    for statement in SQLITE_SEED {
        sqlx::query(statement)
            .bind(i64::try_from(count).unwrap())
            .execute(store.pool())
            .await
            .unwrap();
    }
    sqlx::query("ANALYZE").execute(store.pool()).await.unwrap();
    (store, path)
}

async fn postgres_store(url: &str, count: u64) -> (PostgresStore, sqlx::PgPool, String) {
    use std::str::FromStr;
    let admin = sqlx::PgPool::connect(url).await.unwrap();
    let schema = format!("mfa_bench_{}_{count}", std::process::id());
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP SCHEMA IF EXISTS {schema} CASCADE"
    )))
    .execute(&admin)
    .await
    .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&admin)
        .await
        .unwrap();
    let options = sqlx::postgres::PgConnectOptions::from_str(url)
        .unwrap()
        .options([("search_path", schema.as_str())]);
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(4)
        .connect_with(options)
        .await
        .unwrap();
    let store = PostgresStore::from_pool(pool);
    store.migrate().await.unwrap();
    for statement in POSTGRES_SEED {
        sqlx::query(statement)
            .bind(i64::try_from(count).unwrap())
            .execute(store.pool())
            .await
            .unwrap();
    }
    sqlx::query("ANALYZE").execute(store.pool()).await.unwrap();
    (store, admin, schema)
}

fn bench_verify<S: Store>(
    c: &mut Criterion,
    rt: &tokio::runtime::Runtime,
    name: &str,
    bench: &Bench<S>,
    statements: impl Fn() -> u64,
) {
    // Statements per accepted sign-in, measured outside the timing.
    let mut per_verify = Vec::new();
    for _ in 0..20 {
        let now = bench.clock.advance(Duration::from_secs(30));
        let code = bench
            .totp
            .generate_at(now.unix())
            .unwrap()
            .expose()
            .to_string();
        let before = statements();
        let v = rt
            .block_on(bench.mfa.verify(&bench.subject, Attempt::Totp(&code)))
            .unwrap();
        if matches!(v, Verification::Accepted { .. }) {
            per_verify.push(statements() - before);
        }
    }
    eprintln!("{name}: statements per accepted sign-in: {per_verify:?}");
    c.bench_function(name, |b| {
        b.iter_batched(
            || {
                let now = bench.clock.advance(Duration::from_secs(30));
                bench
                    .totp
                    .generate_at(now.unix())
                    .unwrap()
                    .expose()
                    .to_string()
            },
            // Rarely two neighbouring steps share their digits and this
            // one was consumed already: no assertion on the outcome.
            |code| {
                rt.block_on(bench.mfa.verify(&bench.subject, Attempt::Totp(&code)))
                    .unwrap()
            },
            BatchSize::PerIteration,
        );
    });
}

fn store_verify(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    for count in SIZES {
        let started = std::time::Instant::now();
        let (store, path) = rt.block_on(sqlite_store(count));
        eprintln!("sqlite: seeded {count} subjects in {:?}", started.elapsed());
        let bench = rt.block_on(enroll(store.clone()));
        bench_verify(
            c,
            &rt,
            &format!("verify/sqlite-file/{count}-subjects"),
            &bench,
            || store.statements_sent(),
        );
        drop(bench);
        rt.block_on(store.pool().close());
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }
    let url = std::env::var("MFA_BENCH_POSTGRES_URL")
        .or_else(|_| std::env::var("MFA_TEST_POSTGRES_URL"))
        .ok()
        .filter(|u| !u.is_empty());
    let Some(url) = url else {
        eprintln!("skipping PostgreSQL: set MFA_BENCH_POSTGRES_URL");
        return;
    };
    for count in SIZES {
        let started = std::time::Instant::now();
        let (store, admin, schema) = rt.block_on(postgres_store(&url, count));
        eprintln!(
            "postgres: seeded {count} subjects in {:?}",
            started.elapsed()
        );
        let bench = rt.block_on(enroll(store.clone()));
        bench_verify(
            c,
            &rt,
            &format!("verify/postgres/{count}-subjects"),
            &bench,
            || store.statements_sent(),
        );
        drop(bench);
        rt.block_on(async {
            store.pool().close().await;
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
                .execute(&admin)
                .await
                .unwrap();
        });
    }
}

criterion_group!(benches, store_verify);
criterion_main!(benches);
