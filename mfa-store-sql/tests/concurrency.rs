//! Several application instances on one database: 4 pools × 16 tasks race
//! for the same TOTP step, recovery code and e-mail code, round after
//! round, and exactly one wins each race; of 64 concurrent attempts exactly
//! five are charged before the lock refuses the rest, and an hour of such
//! bursts gets no more than the sequential budget; concurrent sends never
//! exceed the limits; of concurrent activations one succeeds.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]

mod common;

use common::{TestEngine, engine_tests};
use std::sync::Arc;
use std::time::Duration;

use mfa_core::otp::TotpConfig;
use mfa_core::pepper::CodeHash;
use mfa_core::seal::{Sealer, SealingKey};
use mfa_core::store::{
    Activation, IssueOutcome, PendingTotp, ReplaceCodes, SendLimits, SentCode, SentCodeAttempt,
};
use mfa_core::throttle::{Charge, ThrottleRule};
use mfa_core::{Channel, CredentialId, FactorKind, Secret, Store, SubjectId, Timestamp};
use tokio::sync::Barrier;

const POOLS: usize = 4;
const TASKS_PER_POOL: usize = 16;
const ROUNDS: u64 = 50;

fn t(secs: u64) -> Timestamp {
    Timestamp::from_unix(1_700_000_000 + secs)
}

/// Runs `op` in `TASKS_PER_POOL` tasks per store, all released at once;
/// returns every result.
async fn race<S, T, F, Fut>(stores: &[Arc<S>], op: F) -> Vec<T>
where
    S: Store,
    T: Send + 'static,
    F: Fn(Arc<S>) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = T> + Send + 'static,
{
    let barrier = Arc::new(Barrier::new(stores.len() * TASKS_PER_POOL));
    let mut tasks = Vec::new();
    for store in stores {
        for _ in 0..TASKS_PER_POOL {
            let (store, barrier, op) = (Arc::clone(store), Arc::clone(&barrier), op.clone());
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                op(store).await
            }));
        }
    }
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    results
}

async fn active_authenticator<S: Store>(store: &S, subject: &SubjectId) -> CredentialId {
    let id = CredentialId::generate().unwrap();
    let sealer = Sealer::new(vec![SealingKey::new(1, [1; 32])]).unwrap();
    let pending = PendingTotp {
        sealed_secret: sealer
            .seal(&Secret::generate().unwrap(), subject, &id)
            .unwrap(),
        id: id.clone(),
        subject: subject.clone(),
        config: TotpConfig::default(),
        created_at: t(0),
        expires_at: t(600),
    };
    store.put_pending_totp(pending).await.unwrap();
    let activation = Activation {
        name: "phone".into(),
        accepted_step: 0,
        drift: 0,
        at: t(1),
    };
    store
        .activate_totp(subject, &id, activation)
        .await
        .unwrap()
        .unwrap();
    id
}

async fn instances<S: Store>(stores: Vec<S>) {
    assert_eq!(stores.len(), POOLS);
    let stores: Vec<Arc<S>> = stores.into_iter().map(Arc::new).collect();
    let subject = SubjectId::new("racer").unwrap();
    let first = &stores[0];

    // --- one acceptance per TOTP step
    let id = active_authenticator(&**first, &subject).await;
    for round in 1..=ROUNDS {
        let (subject, id) = (subject.clone(), id.clone());
        let wins = race(&stores, move |s: Arc<S>| {
            let (subject, id) = (subject.clone(), id.clone());
            async move {
                s.consume_totp_step(&subject, &id, round, 0, t(round))
                    .await
                    .unwrap()
            }
        })
        .await;
        assert_eq!(
            wins.iter().filter(|w| **w).count(),
            1,
            "TOTP step, round {round}"
        );
    }

    // --- one acceptance per recovery code
    for round in 1..=ROUNDS {
        let code = CodeHash::from_bytes([round as u8; 32]);
        assert!(
            first
                .replace_recovery_codes(&subject, vec![code], ReplaceCodes::Always, t(round))
                .await
                .unwrap()
        );
        let subject = subject.clone();
        let wins = race(&stores, move |s: Arc<S>| {
            let subject = subject.clone();
            async move {
                s.consume_recovery_code(&subject, &code, t(round))
                    .await
                    .unwrap()
            }
        })
        .await;
        assert_eq!(
            wins.iter().filter(|w| **w).count(),
            1,
            "recovery code, round {round}"
        );
    }

    // --- one acceptance per e-mail code (the others find it used)
    let open = SendLimits {
        cooldown: Duration::ZERO,
        max_per_hour: u32::MAX,
    };
    for round in 1..=ROUNDS {
        let hash = CodeHash::from_bytes([round as u8; 32]);
        let code = SentCode {
            subject: subject.clone(),
            channel: Channel::Email,
            hash,
            issued_at: t(round),
            expires_at: t(round + 300),
        };
        assert_eq!(
            first.issue_sent_code(code, open).await.unwrap(),
            IssueOutcome::Issued
        );
        let subject = subject.clone();
        let outcomes = race(&stores, move |s: Arc<S>| {
            let subject = subject.clone();
            async move {
                s.attempt_sent_code(&subject, Channel::Email, &hash, 5, t(round))
                    .await
                    .unwrap()
            }
        })
        .await;
        let accepted = outcomes
            .iter()
            .filter(|o| **o == SentCodeAttempt::Accepted)
            .count();
        assert_eq!(accepted, 1, "e-mail code, round {round}: {outcomes:?}");
        assert!(
            outcomes
                .iter()
                .all(|o| matches!(o, SentCodeAttempt::Accepted | SentCodeAttempt::NoActiveCode))
        );
    }

    // --- wrong guesses: exactly max_tries of them are counted
    let code = SentCode {
        subject: subject.clone(),
        channel: Channel::Sms,
        hash: CodeHash::from_bytes([200; 32]),
        issued_at: t(1000),
        expires_at: t(1300),
    };
    assert_eq!(
        first.issue_sent_code(code, open).await.unwrap(),
        IssueOutcome::Issued
    );
    let guessers = subject.clone();
    let outcomes = race(&stores, move |s: Arc<S>| {
        let subject = guessers.clone();
        async move {
            let wrong = CodeHash::from_bytes([201; 32]);
            s.attempt_sent_code(&subject, Channel::Sms, &wrong, 5, t(1001))
                .await
                .unwrap()
        }
    })
    .await;
    let mut left: Vec<u32> = outcomes
        .iter()
        .filter_map(|o| match o {
            SentCodeAttempt::Rejected { tries_left } => Some(*tries_left),
            _ => None,
        })
        .collect();
    left.sort_unstable();
    assert_eq!(left, vec![0, 1, 2, 3, 4], "{outcomes:?}");

    // --- 64 concurrent attempts: charged before any is checked, so exactly
    // free_failures are charged and the rest refused by the lock.
    let rule = ThrottleRule::default();
    let failing = subject.clone();
    let charges: Vec<Charge> = race(&stores, move |s: Arc<S>| {
        let subject = failing.clone();
        async move {
            s.charge_attempt(&subject, FactorKind::Totp, rule, t(2000))
                .await
                .unwrap()
        }
    })
    .await;
    let charged = charges
        .iter()
        .filter(|c| matches!(c, Charge::Charged { .. }))
        .count();
    assert_eq!(charged, rule.free_failures as usize, "{charges:?}");
    let state = first
        .throttle_state(&subject, FactorKind::Totp)
        .await
        .unwrap();
    assert_eq!(state.failures, rule.free_failures);
    assert_eq!(state.refused as usize, POOLS * TASKS_PER_POOL - charged);
    // Exactly one charge started the lock (and would notify).
    assert_eq!(
        charges
            .iter()
            .filter(|c| matches!(c, Charge::Charged { state, .. } if state.locked_until.is_some()))
            .count(),
        1
    );
    // An hour of bursts from every instance: no more charges than the
    // sequential budget (10 in the first hour).
    let hourly = SubjectId::new(format!("{}-hourly", subject.as_str())).unwrap();
    let mut total = 0;
    for step in 0..60u64 {
        let attacker = hourly.clone();
        let now = t(10_000 + step * 60);
        total += race(&stores, move |s: Arc<S>| {
            let subject = attacker.clone();
            async move {
                s.charge_attempt(&subject, FactorKind::Email, rule, now)
                    .await
                    .unwrap()
            }
        })
        .await
        .iter()
        .filter(|c| matches!(c, Charge::Charged { .. }))
        .count();
    }
    assert_eq!(
        total, 10,
        "the first hour's budget across {POOLS} instances"
    );

    // --- concurrent sends never exceed the limits
    let limits = SendLimits {
        cooldown: Duration::ZERO,
        max_per_hour: 5,
    };
    let sender = SubjectId::new("sender").unwrap();
    let senders = sender.clone();
    let outcomes = race(&stores, move |s: Arc<S>| {
        let subject = senders.clone();
        async move {
            let code = SentCode {
                subject,
                channel: Channel::Email,
                hash: CodeHash::from_bytes([1; 32]),
                issued_at: t(5000),
                expires_at: t(5300),
            };
            s.issue_sent_code(code, limits).await.unwrap()
        }
    })
    .await;
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| **o == IssueOutcome::Issued)
            .count(),
        5
    );
    let cooled = SendLimits {
        cooldown: Duration::from_secs(60),
        max_per_hour: 100,
    };
    let other = SubjectId::new("cooled").unwrap();
    let others = other.clone();
    let outcomes = race(&stores, move |s: Arc<S>| {
        let subject = others.clone();
        async move {
            let code = SentCode {
                subject,
                channel: Channel::Sms,
                hash: CodeHash::from_bytes([2; 32]),
                issued_at: t(5000),
                expires_at: t(5300),
            };
            s.issue_sent_code(code, cooled).await.unwrap()
        }
    })
    .await;
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| **o == IssueOutcome::Issued)
            .count(),
        1
    );

    // --- of concurrent activations of one enrollment, one succeeds
    let enrollee = SubjectId::new("enrollee").unwrap();
    let id = CredentialId::generate().unwrap();
    let sealer = Sealer::new(vec![SealingKey::new(1, [1; 32])]).unwrap();
    let pending = PendingTotp {
        sealed_secret: sealer
            .seal(&Secret::generate().unwrap(), &enrollee, &id)
            .unwrap(),
        id: id.clone(),
        subject: enrollee.clone(),
        config: TotpConfig::default(),
        created_at: t(0),
        expires_at: t(600),
    };
    first.put_pending_totp(pending).await.unwrap();
    let activated = race(&stores, move |s: Arc<S>| {
        let (subject, id) = (enrollee.clone(), id.clone());
        async move {
            let activation = Activation {
                name: "phone".into(),
                accepted_step: 9,
                drift: 0,
                at: t(10),
            };
            s.activate_totp(&subject, &id, activation)
                .await
                .unwrap()
                .is_some()
        }
    })
    .await;
    assert_eq!(activated.iter().filter(|a| **a).count(), 1);

    // --- concurrent IfNone replacements: one wins
    let replacer = SubjectId::new("replacer").unwrap();
    let replaced = race(&stores, move |s: Arc<S>| {
        let subject = replacer.clone();
        async move {
            let codes = vec![CodeHash::from_bytes([7; 32]), CodeHash::from_bytes([8; 32])];
            s.replace_recovery_codes(&subject, codes, ReplaceCodes::IfNone, t(1))
                .await
                .unwrap()
        }
    })
    .await;
    assert_eq!(replaced.iter().filter(|r| **r).count(), 1);
}

/// `POOLS` pools on one fresh database: several application instances.
async fn instances_race<E: TestEngine>() {
    let Some(stores) = common::pools::<E>(POOLS).await else {
        return;
    };
    stores[0].migrate().await.unwrap();
    instances(stores).await;
}

engine_tests!(instances_race);
