//! The service (`mfa_core::Mfa`) on each engine: what a database dump
//! reveals after real use, and how many statements a sign-in costs.
#![cfg(all(
    feature = "testing",
    any(feature = "sqlite", feature = "postgres", feature = "mysql")
))]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)] // tests fail by panicking, and print the counts

mod common;

use core::time::Duration;

use common::{TestEngine, engine_tests};
use mfa_store_sql::{EngineKind, SqlStore};

use mfa_core::otp::Totp;
use mfa_core::policy::SessionState;
use mfa_core::seal::{Sealer, SealingKey};
use mfa_core::service::{Attempt, Confirmation, DriftTolerance, Verification};
use mfa_core::testing::{ManualClock, RecordingNotifier};
use mfa_core::{
    Channel, FactorKind, Mfa, MfaConfig, Pepper, Role, Secret, Store, Subject, SubjectId, Timestamp,
};
use sha2::{Digest, Sha256};

const START: u64 = 1_800_000_000;

/// The service on a store, with a manual clock and a recording notifier.
type Service<S> = Mfa<S, RecordingNotifier, ManualClock>;

fn service<S: Store>(store: S) -> (Service<S>, ManualClock, RecordingNotifier) {
    let clock = ManualClock::new(Timestamp::from_unix(START));
    let notifier = RecordingNotifier::new();
    let config = MfaConfig::new(
        "Service Desk",
        Pepper::new(&[0x33; 32]).unwrap(),
        Sealer::new(vec![SealingKey::new(1, [0x44; 32])]).unwrap(),
    );
    (
        Mfa::new(store, notifier.clone(), clock.clone(), config),
        clock,
        notifier,
    )
}

fn agent(id: &str) -> Subject {
    Subject::new(SubjectId::new(id).unwrap(), [Role::AGENT]).with_email(format!("{id}@example.com"))
}

fn verified(clock: &ManualClock) -> SessionState {
    SessionState {
        verified_at: Some(mfa_core::Clock::now(clock)),
        device_remembered: false,
    }
}

/// Enrolls an authenticator; returns its secret and the recovery codes.
async fn enroll<S: Store>(
    mfa: &Service<S>,
    clock: &ManualClock,
    subject: &Subject,
) -> (Secret, Vec<String>) {
    let enrollment = mfa
        .start_totp_enrollment(subject, &SessionState::default())
        .await
        .unwrap();
    let secret = Secret::from_base32(&enrollment.key).unwrap();
    let code = Totp::new(&secret, &enrollment.config)
        .generate_at(mfa_core::Clock::now(clock).unix())
        .unwrap();
    let Confirmation::Enrolled {
        recovery_codes: Some(codes),
        ..
    } = mfa
        .confirm_totp_enrollment(
            subject,
            &enrollment.id,
            &code.expose(),
            "Phone",
            DriftTolerance::Standard,
        )
        .await
        .unwrap()
    else {
        panic!("enrollment failed")
    };
    (
        secret,
        codes.iter().map(|c| c.expose().to_owned()).collect(),
    )
}

/// Everything secret a session of real use produced.
#[derive(Default)]
struct Secrets {
    totp: Vec<Secret>,
    recovery: Vec<String>,
    sent: Vec<String>,
    tokens: Vec<String>,
}

async fn use_the_service<S: Store>(store: S) -> Secrets {
    let (mfa, clock, notifier) = service(store);
    let mut secrets = Secrets::default();
    for i in 0..4 {
        let subject = agent(&format!("dump-agent-{i}"));
        let (secret, recovery) = enroll(&mfa, &clock, &subject).await;
        // Use two recovery codes, one of them twice.
        for code in [&recovery[0], &recovery[1], &recovery[0]] {
            let _ = mfa.verify(&subject, Attempt::Recovery(code)).await.unwrap();
        }
        // Register e-mail, then sign in with an e-mail code; one wrong try.
        let _ = mfa
            .start_channel_enrollment(&subject, Channel::Email, &verified(&clock))
            .await
            .unwrap();
        let first = notifier.last_code(&subject.id, Channel::Email).unwrap();
        let _ = mfa
            .confirm_channel_enrollment(&subject, Channel::Email, &first)
            .await
            .unwrap();
        let send_after_cooldown = async || {
            clock.advance(Duration::from_secs(61));
            let _ = mfa.send_code(&subject, Channel::Email).await.unwrap();
            notifier.last_code(&subject.id, Channel::Email).unwrap()
        };
        let second = send_after_cooldown().await;
        let _ = mfa
            .verify(&subject, Attempt::Sent(Channel::Email, "000000"))
            .await
            .unwrap();
        // One more code stays unused in the table.
        let third = send_after_cooldown().await;
        let _ = mfa
            .verify(&subject, Attempt::Sent(Channel::Email, &second))
            .await
            .unwrap();
        let remembered = mfa
            .remember_device(
                &subject,
                "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
                &verified(&clock),
            )
            .await
            .unwrap();
        // A pending enrollment whose secret is only in the pending table.
        let pending = mfa
            .start_totp_enrollment(&subject, &verified(&clock))
            .await
            .unwrap();
        secrets
            .totp
            .push(Secret::from_base32(&pending.key).unwrap());
        secrets.totp.push(secret);
        secrets.recovery.extend(recovery);
        secrets.sent.extend([first, second, third]);
        secrets.tokens.push(remembered.token.expose().to_owned());
    }
    secrets
}

/// Columns that hold numbers (times, counters, steps): compared as numbers.
const NUMERIC: &[&str] = &[
    "digits",
    "period",
    "t0",
    "created_at",
    "expires_at",
    "last_step",
    "drift",
    "last_used_at",
    "seq",
    "issued_at",
    "tries",
    "failures",
    "locked_until",
    "fixed_at",
    "deadline",
    "added_at",
    "at",
    "id",
    "version",
    "execution_time",
    "success",
    "installed_on",
];

fn is_numeric(column: &str) -> bool {
    let name = column.rsplit('.').next().unwrap_or(column);
    NUMERIC.contains(&name)
        && !column.starts_with("mfa_totp.id")
        && !column.ends_with("devices.id")
        && !column.starts_with("mfa_totp_pending.id")
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Every form of a value we refuse to find in a dump: the text in upper
/// and lower case, with and without dashes and spaces, and the unkeyed
/// SHA-256 of each (raw and hex).
fn forms(text: &str) -> Vec<Vec<u8>> {
    let bare = text.replace(['-', ' '], "");
    let mut out = Vec::new();
    for t in [
        text.to_owned(),
        text.to_uppercase(),
        text.to_lowercase(),
        bare.clone(),
        bare.to_uppercase(),
        bare.to_lowercase(),
    ] {
        let digest = Sha256::digest(t.as_bytes());
        out.push(digest.to_vec());
        out.push(hex(&digest).into_bytes());
        out.push(t.into_bytes());
    }
    out
}

fn check_dump(dump: &[(String, Vec<Vec<u8>>)], secrets: &Secrets) {
    assert!(
        dump.iter().any(|(c, _)| c.starts_with("mfa_totp.")),
        "the dump covers mfa_totp"
    );
    let mut checked = 0usize;
    for (column, cells) in dump {
        for cell in cells {
            checked += 1;
            if is_numeric(column) {
                let text = String::from_utf8_lossy(cell);
                for code in &secrets.sent {
                    let value: u64 = code.parse().unwrap();
                    assert_ne!(
                        text.parse::<u64>().ok(),
                        Some(value),
                        "{column} holds an e-mail code"
                    );
                }
                continue;
            }
            for secret in &secrets.totp {
                let raw = secret.expose_bytes();
                assert!(!contains(cell, raw), "{column} holds a raw TOTP secret");
                assert!(
                    !contains(cell, hex(raw).as_bytes()),
                    "{column} holds a hex TOTP secret"
                );
                for form in forms(&secret.to_base32()) {
                    assert!(
                        !contains(cell, &form),
                        "{column} holds a base32 TOTP secret"
                    );
                }
                assert!(!contains(cell, secret.to_base32_grouped().as_bytes()));
            }
            for code in secrets
                .recovery
                .iter()
                .chain(&secrets.sent)
                .chain(&secrets.tokens)
            {
                for form in forms(code) {
                    assert!(!contains(cell, &form), "{column} holds a code or token");
                }
            }
        }
    }
    assert!(checked > 100, "only {checked} cells checked");
}

async fn statements_per_verify<E: TestEngine>(store: SqlStore<E>) -> (u64, u64) {
    let counter = |mfa: &Service<SqlStore<E>>| mfa.store().statements_sent();
    let (mfa, clock, _) = service(store);
    let subject = agent("round-trips");
    let (secret, _) = enroll(&mfa, &clock, &subject).await;
    let totp = Totp::new(&secret, &mfa.config().totp);
    let mut accepted = Vec::new();
    let mut rejected = Vec::new();
    for _ in 0..5 {
        // More than a lock period apart: each success clears the previous
        // run's failure (one within the same run would stay charged).
        let now = clock.advance(Duration::from_secs(61));
        let code = totp.generate_at(now.unix()).unwrap().expose().to_string();
        let before = counter(&mfa);
        let v = mfa.verify(&subject, Attempt::Totp(&code)).await.unwrap();
        if matches!(
            v,
            Verification::Accepted {
                factor: FactorKind::Totp,
                ..
            }
        ) {
            accepted.push(counter(&mfa) - before);
        }
        let wrong = if code == "000000" { "000001" } else { "000000" };
        let before = counter(&mfa);
        assert_eq!(
            mfa.verify(&subject, Attempt::Totp(wrong)).await.unwrap(),
            Verification::Rejected
        );
        rejected.push(counter(&mfa) - before);
    }
    assert!(accepted.len() >= 4);
    assert!(accepted.windows(2).all(|w| w[0] == w[1]), "{accepted:?}");
    (accepted[0], rejected[0])
}

async fn a_dump_reveals_no_secret_code_or_token<E: TestEngine>() {
    let Some(store) = common::migrated::<E>().await else {
        return;
    };
    let secrets = use_the_service(store.clone()).await;
    check_dump(&store.dump_all_tables().await.unwrap(), &secrets);
}

async fn statements_per_sign_in<E: TestEngine>() {
    let Some(store) = common::migrated::<E>().await else {
        return;
    };
    let engine = store.engine();
    let (accepted, rejected) = statements_per_verify(store).await;
    let expected = match engine {
        // One statement that charges the attempt and reads policy and
        // authenticators; then one that consumes the step, settles the
        // charge and audits (a right code) or the audit event (a wrong one).
        EngineKind::Postgres => (2, 2),
        // The charge (one upsert) and the context read; then BEGIN
        // IMMEDIATE, the compare-and-set, settling the charge, unblocking
        // other kinds, the audit event and COMMIT (in-process, no network).
        // A wrong code: the charge, the context read and its audit event.
        EngineKind::Sqlite => (8, 3),
        // The charge is a transaction (BEGIN, upsert, SELECT … FOR UPDATE,
        // UPDATE, COMMIT), then the context read; a right code is a second
        // transaction of six, a wrong one its audit event.
        _ => (12, 7),
    };
    assert_eq!((accepted, rejected), expected, "{engine:?}");
    println!("{engine:?}: {accepted} statements per accepted sign-in, {rejected} per rejected");
}

engine_tests!(
    a_dump_reveals_no_secret_code_or_token,
    statements_per_sign_in
);

/// The check itself can fail: plant a recovery code, an e-mail code and a
/// base32 key where a careless store might put them.
#[cfg(feature = "sqlite")]
#[tokio::test]
async fn the_dump_check_finds_planted_secrets() {
    let store = common::migrated::<mfa_store_sql::sqlx::Sqlite>()
        .await
        .unwrap();
    let secrets = use_the_service(store.clone()).await;
    let planted = [
        secrets.recovery[3].to_uppercase(),
        secrets.sent[2].clone(),
        secrets.totp[0].to_base32().to_lowercase(),
    ];
    for plant in planted {
        let mut dump = store.dump_all_tables().await.unwrap();
        dump.push((
            "mfa_audit.detail".to_owned(),
            vec![format!("used {plant}").into_bytes()],
        ));
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            check_dump(&dump, &secrets);
        }));
        assert!(caught.is_err(), "a planted secret was not found: {plant}");
    }
}
