//! Several application instances on one database: 4 pools × 16 tasks race
//! for the same TOTP step, recovery code and e-mail code, round after
//! round, and exactly one wins each race; of 64 concurrent attempts exactly
//! five are charged before the lock refuses the rest, and an hour of such
//! bursts gets no more than the sequential budget; concurrent sends never
//! exceed the limits; of concurrent activations one succeeds.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]

mod common;

use common::{TestEngine, engine_tests, t};
use std::sync::Arc;
use std::time::Duration;

use mfa_core::pepper::CodeHash;
use mfa_core::store::{
    Activation, IssueOutcome, ReplaceCodes, SendLimits, SentCode, SentCodeAttempt,
};
use mfa_core::throttle::{Charge, ThrottleRule};
use mfa_core::{Channel, CredentialId, FactorKind, Store, SubjectId, Timestamp};
use tokio::sync::Barrier;

const POOLS: usize = 4;
const TASKS_PER_POOL: usize = 16;
const ROUNDS: u64 = 50;

/// Runs `op` in `TASKS_PER_POOL` tasks per store, each with its own clone
/// of `context`, all released at once; returns every result.
async fn race<S, C, T, F, Fut>(stores: &[Arc<S>], context: &C, op: F) -> Vec<T>
where
    S: Store,
    C: Clone + Send + 'static,
    T: Send + 'static,
    F: Fn(Arc<S>, C) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = T> + Send + 'static,
{
    let barrier = Arc::new(Barrier::new(stores.len() * TASKS_PER_POOL));
    let mut tasks = Vec::new();
    for store in stores {
        for _ in 0..TASKS_PER_POOL {
            let (store, barrier, op) = (Arc::clone(store), Arc::clone(&barrier), op.clone());
            let context = context.clone();
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                op(store, context).await
            }));
        }
    }
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    results
}

/// How many of `results` match.
fn count<T>(results: &[T], matches: impl Fn(&T) -> bool) -> usize {
    results.iter().filter(|r| matches(r)).count()
}

/// A pending enrollment of `subject` with a fresh id, stored.
async fn put_pending<S: Store>(store: &S, subject: &SubjectId) -> CredentialId {
    let id = CredentialId::generate().unwrap();
    let pending = common::pending(subject, id.as_str());
    store.put_pending_totp(pending).await.unwrap();
    id
}

/// The activation of an enrollment: accepting `step` at `at`.
fn activation(step: u64, at: Timestamp) -> Activation {
    Activation {
        name: "phone".into(),
        accepted_step: step,
        drift: 0,
        at,
    }
}

/// How many of concurrent sends of a code to `subject` are issued.
async fn issued<S: Store>(stores: &[Arc<S>], subject: &str, limits: SendLimits) -> usize {
    let subject = SubjectId::new(subject).unwrap();
    let outcomes = race(stores, &subject, move |s, subject| async move {
        let code = SentCode {
            subject,
            channel: Channel::Email,
            hash: CodeHash::from_bytes([1; 32]),
            issued_at: t(5000),
            expires_at: t(5300),
        };
        s.issue_sent_code(code, limits).await.unwrap()
    })
    .await;
    count(&outcomes, |o| *o == IssueOutcome::Issued)
}

async fn instances<S: Store>(stores: Vec<S>) {
    assert_eq!(stores.len(), POOLS);
    let stores: Vec<Arc<S>> = stores.into_iter().map(Arc::new).collect();
    let subject = SubjectId::new("racer").unwrap();
    let first = &stores[0];

    // --- one acceptance per TOTP step
    let id = put_pending(&**first, &subject).await;
    let activated = first
        .activate_totp(&subject, &id, activation(0, t(1)))
        .await;
    assert!(activated.unwrap().is_some());
    for round in 1..=ROUNDS {
        let key = (subject.clone(), id.clone());
        let wins = race(&stores, &key, move |s, (subject, id)| async move {
            s.consume_totp_step(&subject, &id, round, 0, t(round))
                .await
                .unwrap()
        })
        .await;
        assert_eq!(count(&wins, |w| *w), 1, "TOTP step, round {round}");
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
        let wins = race(&stores, &subject, move |s, subject| async move {
            s.consume_recovery_code(&subject, &code, t(round))
                .await
                .unwrap()
        })
        .await;
        assert_eq!(count(&wins, |w| *w), 1, "recovery code, round {round}");
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
        let outcomes = race(&stores, &subject, move |s, subject| async move {
            s.attempt_sent_code(&subject, Channel::Email, &hash, 5, t(round))
                .await
                .unwrap()
        })
        .await;
        let accepted = count(&outcomes, |o| *o == SentCodeAttempt::Accepted);
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
    let outcomes = race(&stores, &subject, move |s, subject| async move {
        let wrong = CodeHash::from_bytes([201; 32]);
        s.attempt_sent_code(&subject, Channel::Sms, &wrong, 5, t(1001))
            .await
            .unwrap()
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
    let charges: Vec<Charge> = race(&stores, &subject, move |s, subject| async move {
        s.charge_attempt(&subject, FactorKind::Totp, rule, t(2000))
            .await
            .unwrap()
    })
    .await;
    let charged = count(&charges, |c| matches!(c, Charge::Charged { .. }));
    assert_eq!(charged, rule.free_failures as usize, "{charges:?}");
    let state = first
        .throttle_state(&subject, FactorKind::Totp)
        .await
        .unwrap();
    assert_eq!(state.failures, rule.free_failures);
    assert_eq!(state.refused as usize, POOLS * TASKS_PER_POOL - charged);
    // Exactly one charge started the lock (and would notify).
    let locking =
        |c: &Charge| matches!(c, Charge::Charged { state, .. } if state.locked_until.is_some());
    assert_eq!(count(&charges, locking), 1);
    // An hour of bursts from every instance: no more charges than the
    // sequential budget (10 in the first hour).
    let hourly = SubjectId::new(format!("{}-hourly", subject.as_str())).unwrap();
    let mut total = 0;
    for step in 0..60u64 {
        let now = t(10_000 + step * 60);
        let charges = race(&stores, &hourly, move |s, subject| async move {
            s.charge_attempt(&subject, FactorKind::Email, rule, now)
                .await
                .unwrap()
        })
        .await;
        total += count(&charges, |c| matches!(c, Charge::Charged { .. }));
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
    assert_eq!(issued(&stores, "sender", limits).await, 5);
    let cooled = SendLimits {
        cooldown: Duration::from_secs(60),
        max_per_hour: 100,
    };
    assert_eq!(issued(&stores, "cooled", cooled).await, 1);

    // --- of concurrent activations of one enrollment, one succeeds
    let enrollee = SubjectId::new("enrollee").unwrap();
    let id = put_pending(&**first, &enrollee).await;
    let activated = race(&stores, &(enrollee, id), |s, (subject, id)| async move {
        let activation = activation(9, t(10));
        s.activate_totp(&subject, &id, activation)
            .await
            .unwrap()
            .is_some()
    })
    .await;
    assert_eq!(count(&activated, |a| *a), 1);

    // --- concurrent IfNone replacements: one wins
    let replacer = SubjectId::new("replacer").unwrap();
    let replaced = race(&stores, &replacer, |s, subject| async move {
        let codes = vec![CodeHash::from_bytes([7; 32]), CodeHash::from_bytes([8; 32])];
        s.replace_recovery_codes(&subject, codes, ReplaceCodes::IfNone, t(1))
            .await
            .unwrap()
    })
    .await;
    assert_eq!(count(&replaced, |r| *r), 1);
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
