//! Sign-in through the service on a real database: `Mfa::verify` with an
//! authenticator code on a SQLite file, on PostgreSQL and on MySQL/MariaDB,
//! with 1,000 and with 1,000,000 enrolled subjects (seeded in bulk with one
//! SQL statement per table), plus the statements (round trips) each
//! accepted and each rejected sign-in sends.
//!
//! Run: `cargo bench -p mfa-benches --bench store`
//! PostgreSQL is used when `MFA_BENCH_POSTGRES_URL` (or
//! `MFA_TEST_POSTGRES_URL`) is set, e.g.
//! `postgres://postgres@127.0.0.1:5432/test`; a schema of its own is created
//! and dropped. MySQL/MariaDB likewise with `MFA_BENCH_MYSQL_URL` (or
//! `MFA_TEST_MYSQL_URL`), e.g. `mysql://root@127.0.0.1:3306/test`; a
//! database of its own is created and dropped.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)] // bench setup fails loudly

use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use mfa_core::otp::Totp;
use mfa_core::policy::SessionState;
use mfa_core::seal::{Sealer, SealingKey};
use mfa_core::service::{Attempt, Confirmation, DriftTolerance, Verification};
use mfa_core::store::Settlement;
use mfa_core::testing::{ManualClock, RecordingNotifier};
use mfa_core::{
    Clock, FactorKind, Mfa, MfaConfig, Pepper, Role, Secret, Store, Subject, SubjectId, Timestamp,
};
use mfa_store_sql::sqlx;
use mfa_store_sql::{MySqlStore, PostgresStore, SqliteStore};

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

/// `count` subjects on MySQL/MariaDB: the numbers 1..=count from six
/// cross-joined tables of ten digits (no recursion limit to raise).
fn mysql_seed() -> [String; 2] {
    let digits = "(SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 \
                  UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 \
                  UNION ALL SELECT 8 UNION ALL SELECT 9)";
    let numbers = format!(
        "(SELECT a.d + 10 * b.d + 100 * c.d + 1000 * e.d + 10000 * f.d + 100000 * g.d + 1 AS n \
         FROM {digits} a, {digits} b, {digits} c, {digits} e, {digits} f, {digits} g) AS s \
         WHERE n <= ?"
    );
    [
        format!(
            "INSERT INTO mfa_totp (id, subject, name, sealed_secret, algorithm, digits, period, \
             t0, last_step, drift, created_at, last_used_at) \
             SELECT CONCAT('seed-', n), CONCAT('subject-', n), 'Phone', x'01', 'SHA1', 6, 30, 0, \
             NULL, 0, 1700000000, NULL FROM {numbers}"
        ),
        format!(
            "INSERT INTO mfa_audit (at, subject, actor_kind, actor_id, action, factor, detail) \
             SELECT 1700000000, CONCAT('subject-', n), 'subject', CONCAT('subject-', n), \
             'authenticator_added', 'totp', NULL FROM {numbers}"
        ),
    ]
}

async fn mysql_store(url: &str, count: u64) -> (MySqlStore, sqlx::MySqlPool, String) {
    let admin = sqlx::MySqlPool::connect(url).await.unwrap();
    let database = format!("mfa_bench_{}_{count}", std::process::id());
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {database}"
    )))
    .execute(&admin)
    .await
    .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {database}")))
        .execute(&admin)
        .await
        .unwrap();
    let (server, _) = url.rsplit_once('/').unwrap();
    let store = MySqlStore::connect(&format!("{server}/{database}"))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    for statement in mysql_seed() {
        sqlx::query(sqlx::AssertSqlSafe(statement))
            .bind(count)
            .execute(store.pool())
            .await
            .unwrap();
    }
    sqlx::query("ANALYZE TABLE mfa_totp, mfa_audit")
        .execute(store.pool())
        .await
        .unwrap();
    (store, admin, database)
}

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

/// The code of `bench`'s current step and a code no step of the window has.
fn codes<S>(bench: &Bench<S>) -> (String, String) {
    let now = bench.clock.now().unix();
    let code = |at: u64| bench.totp.generate_at(at).unwrap().expose().to_string();
    let right = code(now);
    let window = [code(now - 30), right.clone(), code(now + 30)];
    let wrong = (0..)
        .map(|n: u32| format!("{:06}", (n * 7919) % 1_000_000))
        .find(|w| !window.contains(w))
        .unwrap();
    (right, wrong)
}

/// Statements per accepted and per rejected sign-in, outside the timing;
/// each rejected attempt's charge is given back so the lock never engages.
fn count_statements<S: Store>(
    rt: &tokio::runtime::Runtime,
    bench: &Bench<S>,
    statements: &impl Fn() -> u64,
) -> (Vec<u64>, Vec<u64>) {
    let (mut accepted, mut rejected) = (Vec::new(), Vec::new());
    for _ in 0..10 {
        bench.clock.advance(Duration::from_secs(30));
        let (right, wrong) = codes(bench);
        let before = statements();
        let v = rt
            .block_on(bench.mfa.verify(&bench.subject, Attempt::Totp(&wrong)))
            .unwrap();
        assert!(matches!(v, Verification::Rejected), "{v:?}");
        rejected.push(statements() - before);
        rt.block_on(bench.mfa.store().settle_attempt(
            &bench.subject.id,
            FactorKind::Totp,
            bench.mfa.config().throttle,
            Settlement::Refunded,
        ))
        .unwrap();
        let before = statements();
        let v = rt
            .block_on(bench.mfa.verify(&bench.subject, Attempt::Totp(&right)))
            .unwrap();
        if matches!(v, Verification::Accepted { .. }) {
            accepted.push(statements() - before);
        }
    }
    (accepted, rejected)
}

fn bench_verify<S: Store>(
    c: &mut Criterion,
    rt: &tokio::runtime::Runtime,
    name: &str,
    bench: &Bench<S>,
    statements: impl Fn() -> u64,
) -> serde_json::Value {
    let (accepted, rejected) = count_statements(rt, bench, &statements);
    eprintln!("{name}: statements per sign-in: accepted {accepted:?}, rejected {rejected:?}");
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
    serde_json::json!({ "statements_accepted": accepted, "statements_rejected": rejected })
}

/// The database URL of an engine's bench, from `MFA_BENCH_<ENGINE>_URL` or
/// the tests' `MFA_TEST_<ENGINE>_URL`.
fn service_url(engine: &str) -> Option<String> {
    std::env::var(format!("MFA_BENCH_{engine}_URL"))
        .or_else(|_| std::env::var(format!("MFA_TEST_{engine}_URL")))
        .ok()
        .filter(|u| !u.is_empty())
}

fn store_verify(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut facts = serde_json::Map::new();
    let mut fact = |name: &str, seeded: Duration, mut measured: serde_json::Value| {
        measured["seed_seconds"] = seeded.as_secs_f64().into();
        facts.insert(name.to_owned(), measured);
    };
    for count in SIZES {
        let started = std::time::Instant::now();
        let (store, path) = rt.block_on(sqlite_store(count));
        let seeded = started.elapsed();
        eprintln!("sqlite: seeded {count} subjects in {seeded:?}");
        let bench = rt.block_on(enroll(store.clone()));
        let name = format!("verify/sqlite-file/{count}-subjects");
        let measured = bench_verify(c, &rt, &name, &bench, || store.statements_sent());
        fact(&name, seeded, measured);
        drop(bench);
        rt.block_on(store.pool().close());
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }
    if let Some(url) = service_url("POSTGRES") {
        for count in SIZES {
            let started = std::time::Instant::now();
            let (store, admin, schema) = rt.block_on(postgres_store(&url, count));
            let seeded = started.elapsed();
            eprintln!("postgres: seeded {count} subjects in {seeded:?}");
            let bench = rt.block_on(enroll(store.clone()));
            let name = format!("verify/postgres/{count}-subjects");
            let measured = bench_verify(c, &rt, &name, &bench, || store.statements_sent());
            fact(&name, seeded, measured);
            drop(bench);
            rt.block_on(async {
                store.pool().close().await;
                sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
                    .execute(&admin)
                    .await
                    .unwrap();
            });
        }
    } else {
        eprintln!("skipping PostgreSQL: set MFA_BENCH_POSTGRES_URL");
    }
    if let Some(url) = service_url("MYSQL") {
        for count in SIZES {
            let started = std::time::Instant::now();
            let (store, admin, database) = rt.block_on(mysql_store(&url, count));
            let seeded = started.elapsed();
            eprintln!("mysql: seeded {count} subjects in {seeded:?}");
            let bench = rt.block_on(enroll(store.clone()));
            let name = format!("verify/mysql/{count}-subjects");
            let measured = bench_verify(c, &rt, &name, &bench, || store.statements_sent());
            fact(&name, seeded, measured);
            drop(bench);
            rt.block_on(async {
                store.pool().close().await;
                sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE {database}")))
                    .execute(&admin)
                    .await
                    .unwrap();
            });
        }
    } else {
        eprintln!("skipping MySQL/MariaDB: set MFA_BENCH_MYSQL_URL");
    }
    mfa_benches::record("store", &facts.into()).expect("report folder");
}

criterion_group!(benches, store_verify);
criterion_main!(benches);
