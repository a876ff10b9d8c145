//! The store conformance suite: one function per case, each checking one
//! part of the [`Store`] contract.
//!
//! Run them all with
//! [`store_conformance_suite!`](crate::store_conformance_suite); call one
//! directly to debug it. Every case:
//!
//! * uses fresh random subject ids ([`fresh_subject`]), so cases can share
//!   a database (except [`policy_load_save_round_trip`], which needs a
//!   store on which no policy was ever saved);
//! * chooses its own [`Timestamp`]s and never sleeps;
//! * returns `Err` when the store fails, and panics (an assertion) when it
//!   breaks the contract.
//!
//! The `concurrent_*` cases take an [`Arc`] of the store, spawn
//! [`TASKS`] tokio tasks on the current (multi-threaded) runtime, release
//! them together through a [`Barrier`], and check that exactly the right
//! number of them win; each does so [`ROUNDS`] times.
#![allow(
    clippy::panic,
    reason = "conformance cases fail the test by panicking, like assertions"
)]

use core::future::Future;
use core::time::Duration;
use std::sync::Arc;

use tokio::sync::Barrier;

use super::{fresh_hash, fresh_sealed, fresh_subject};
use crate::audit::{Actor, AuditAction, AuditQuery, NewAuditEvent};
use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::otp::{Algorithm, Digits, TotpConfig};
use crate::pepper::CodeHash;
use crate::policy::{GraceRecord, MethodSet, Policy, RolePolicy};
use crate::store::{
    Activation, ChannelAdded, ChannelFactor, FactorRef, IssueOutcome, PendingTotp,
    RememberedDevice, Removal, ReplaceCodes, ResetSummary, SendLimits, SentCode, SentCodeAttempt,
    Store, TotpCredential,
};
use crate::subject::{Channel, CredentialId, FactorKind, Role, SubjectId};
use crate::throttle::{ThrottleRule, ThrottleState};

mod throttle;
pub use throttle::*;

/// How many tasks each concurrency case races.
pub const TASKS: usize = 32;

/// How many times each concurrency case runs its race (with a fresh
/// subject each time). A store that takes a lock — or a database round
/// trip — between reading and writing loses the first race; one that
/// re-takes an in-process lock straight away leaves a window of
/// nanoseconds, which repeated races still find.
pub const ROUNDS: usize = 25;

/// The time every case starts from.
const T0: Timestamp = Timestamp::from_unix(1_750_000_000);

/// `T0 + secs`.
fn at(secs: u64) -> Timestamp {
    T0.plus(Duration::from_secs(secs))
}

fn secs(secs: u64) -> Duration {
    Duration::from_secs(secs)
}

/// A config other than the default in every field, so that a store which
/// drops or defaults any of them is caught.
fn config() -> Result<TotpConfig> {
    Ok(TotpConfig::new(Algorithm::Sha256, Digits::EIGHT, 60)?.with_t0(30))
}

fn pending(subject: &SubjectId, created_at: Timestamp, ttl: u64) -> Result<PendingTotp> {
    Ok(PendingTotp {
        id: CredentialId::generate()?,
        subject: subject.clone(),
        sealed_secret: fresh_sealed()?,
        config: config()?,
        created_at,
        expires_at: created_at.plus(secs(ttl)),
    })
}

fn activation(name: &str, accepted_step: u64, drift: i16, at: Timestamp) -> Activation {
    Activation {
        name: name.to_owned(),
        accepted_step,
        drift,
        at,
    }
}

/// Puts a pending enrollment and activates it at `at` with `step`.
async fn active<S: Store>(
    store: &S,
    subject: &SubjectId,
    name: &str,
    step: u64,
    at: Timestamp,
) -> Result<TotpCredential> {
    let pending = pending(subject, at, 600)?;
    store.put_pending_totp(pending.clone()).await?;
    let Some(credential) = store
        .activate_totp(subject, &pending.id, activation(name, step, 0, at))
        .await?
    else {
        panic!("activating a fresh pending enrollment returned None");
    };
    Ok(credential)
}

/// A channel registration with a fresh address hash and sealed address.
fn channel(channel: Channel, added_at: Timestamp) -> Result<ChannelFactor> {
    Ok(ChannelFactor {
        channel,
        address_hash: fresh_hash()?,
        sealed_address: Some(fresh_sealed()?),
        added_at,
    })
}

fn hashes(n: usize) -> Result<Vec<CodeHash>> {
    (0..n).map(|_| fresh_hash()).collect()
}

fn sent(
    subject: &SubjectId,
    channel: Channel,
    hash: CodeHash,
    issued_at: Timestamp,
    ttl: u64,
) -> SentCode {
    SentCode {
        subject: subject.clone(),
        channel,
        hash,
        issued_at,
        expires_at: issued_at.plus(secs(ttl)),
    }
}

fn limits(cooldown: u64, max_per_hour: u32) -> SendLimits {
    SendLimits {
        cooldown: secs(cooldown),
        max_per_hour,
    }
}

fn too_soon(retry_after: Timestamp) -> IssueOutcome {
    IssueOutcome::TooSoon { retry_after }
}

fn rejected(tries_left: u32) -> SentCodeAttempt {
    SentCodeAttempt::Rejected { tries_left }
}

fn device(
    subject: &SubjectId,
    name: &str,
    created_at: Timestamp,
    expires_at: Timestamp,
) -> Result<RememberedDevice> {
    Ok(RememberedDevice {
        id: CredentialId::generate()?,
        subject: subject.clone(),
        token_hash: fresh_hash()?,
        name: name.to_owned(),
        created_at,
        expires_at,
        last_used_at: None,
    })
}

/// Spawns `TASKS` copies of `op(store, index)`, starts them together and
/// returns their results in index order.
async fn race<S, T, F, Fut>(store: &Arc<S>, op: F) -> Result<Vec<T>>
where
    S: Store,
    T: Send + 'static,
    F: Fn(Arc<S>, usize) -> Fut,
    Fut: Future<Output = Result<T>> + Send + 'static,
{
    let barrier = Arc::new(Barrier::new(TASKS));
    let handles: Vec<_> = (0..TASKS)
        .map(|index| {
            let task = op(Arc::clone(store), index);
            let barrier = Arc::clone(&barrier);
            tokio::spawn(async move {
                barrier.wait().await;
                task.await
            })
        })
        .collect();
    let mut results = Vec::with_capacity(TASKS);
    for handle in handles {
        match handle.await {
            Ok(result) => results.push(result?),
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            Err(error) => return Err(Error::Store(Box::new(error))),
        }
    }
    Ok(results)
}

fn success_event(subject: &SubjectId, now: Timestamp) -> NewAuditEvent {
    NewAuditEvent {
        at: now,
        subject: Some(subject.clone()),
        actor: Actor::Subject(subject.clone()),
        action: AuditAction::VerifySucceeded,
        factor: Some(FactorKind::Totp),
        detail: None,
    }
}

// ----- authenticator apps -----------------------------------------------

/// `begin_totp_attempt` charges the attempt exactly as `charge_attempt`
/// would and returns what `load_policy` and `list_totp` return, for this
/// subject only.
pub async fn begin_totp_attempt_charges_and_reads<S: Store>(store: &S) -> Result<()> {
    let alice = fresh_subject()?;
    let bob = fresh_subject()?;
    let rule = ThrottleRule::default();
    let empty = store.begin_totp_attempt(&alice, rule, at(0)).await?;
    assert!(empty.credentials.is_empty());
    assert_eq!(
        empty.charge,
        rule.charge(&ThrottleState::default(), at(0)).1,
        "the first attempt is charged"
    );
    assert_eq!(empty.policy, store.load_policy().await?);

    active(store, &alice, "phone", 3, at(0)).await?;
    active(store, &alice, "tablet", 4, at(1)).await?;
    active(store, &bob, "bob's phone", 5, at(2)).await?;
    store
        .charge_attempt(&alice, FactorKind::Totp, rule, at(5))
        .await?;
    store
        .charge_attempt(&alice, FactorKind::Recovery, rule, at(5))
        .await?;
    store
        .charge_attempt(&bob, FactorKind::Totp, rule, at(5))
        .await?;

    let before = store.throttle_state(&alice, FactorKind::Totp).await?;
    let context = store.begin_totp_attempt(&alice, rule, at(6)).await?;
    let (after, charge) = rule.charge(&before, at(6));
    assert_eq!(context.charge, charge);
    assert_eq!(store.throttle_state(&alice, FactorKind::Totp).await?, after);
    assert_eq!(after.failures, 3);
    assert_eq!(context.credentials, store.list_totp(&alice).await?);
    assert_eq!(
        context
            .credentials
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>(),
        vec!["phone", "tablet"],
        "oldest first, this subject only"
    );
    assert_eq!(context.policy, store.load_policy().await?);
    Ok(())
}

/// `accept_totp_step`: compare-and-set like `consume_totp_step`; only when
/// it succeeds is the TOTP charge settled as a success and the event
/// appended.
pub async fn accept_totp_step_consumes_settles_and_audits<S: Store>(store: &S) -> Result<()> {
    let alice = fresh_subject()?;
    let bob = fresh_subject()?;
    let cred = active(store, &alice, "phone", 10, at(0)).await?;
    let rule = ThrottleRule::default();
    // An earlier run of three failures, then this attempt's own charge.
    for _ in 0..3 {
        store
            .charge_attempt(&alice, FactorKind::Totp, rule, at(5))
            .await?;
    }
    for _ in 0..2 {
        store
            .charge_attempt(&alice, FactorKind::Recovery, rule, at(5))
            .await?;
    }
    store
        .charge_attempt(&alice, FactorKind::Totp, rule, at(100))
        .await?;
    let charged = store.throttle_state(&alice, FactorKind::Totp).await?;
    assert_eq!(charged.failures, 4);
    let audited = AuditQuery::latest(100).for_subject(alice.clone());

    assert!(
        !store
            .accept_totp_step(
                &alice,
                &cred.id,
                10,
                0,
                rule,
                at(100),
                success_event(&alice, at(100))
            )
            .await?,
        "the step accepted at activation is refused"
    );
    assert_eq!(
        store.throttle_state(&alice, FactorKind::Totp).await?,
        charged,
        "a refused step settles nothing"
    );
    assert!(
        store.list_audit(&audited).await?.is_empty(),
        "nothing is audited for a refused step"
    );
    assert!(
        !store
            .accept_totp_step(
                &bob,
                &cred.id,
                11,
                0,
                rule,
                at(100),
                success_event(&bob, at(100))
            )
            .await?,
        "another subject cannot use the authenticator"
    );

    assert!(
        store
            .accept_totp_step(
                &alice,
                &cred.id,
                11,
                -1,
                rule,
                at(101),
                success_event(&alice, at(101))
            )
            .await?
    );
    let list = store.list_totp(&alice).await?;
    assert_eq!(
        list.first(),
        Some(&TotpCredential {
            last_step: Some(11),
            drift: -1,
            last_used_at: Some(at(101)),
            ..cred.clone()
        })
    );
    assert_eq!(
        store.throttle_state(&alice, FactorKind::Totp).await?,
        rule.succeed(&charged),
        "the success is settled"
    );
    assert_eq!(
        store
            .throttle_state(&alice, FactorKind::Totp)
            .await?
            .failures,
        0,
        "the earlier run is cleared"
    );
    assert_eq!(
        store
            .throttle_state(&alice, FactorKind::Recovery)
            .await?
            .failures,
        2,
        "other factors' failures are kept"
    );
    let events = store.list_audit(&audited).await?;
    assert_eq!(events.len(), 1);
    assert_eq!(
        events.first().map(|e| &e.event),
        Some(&success_event(&alice, at(101)))
    );

    assert!(
        !store
            .accept_totp_step(
                &alice,
                &cred.id,
                11,
                0,
                rule,
                at(102),
                success_event(&alice, at(102))
            )
            .await?,
        "the same step is refused"
    );
    assert_eq!(store.list_audit(&audited).await?.len(), 1);
    Ok(())
}

/// `put_pending_totp` replaces the subject's previous pending enrollment
/// (which then neither reads back nor activates), leaves other subjects'
/// alone, and `pending_totp` reads only the subject's own.
pub async fn pending_totp_put_replaces_previous<S: Store>(store: &S) -> Result<()> {
    let alice = fresh_subject()?;
    let bob = fresh_subject()?;
    let first = pending(&alice, at(0), 600)?;
    let second = pending(&alice, at(10), 600)?;
    let bobs = pending(&bob, at(0), 600)?;
    store.put_pending_totp(first.clone()).await?;
    store.put_pending_totp(bobs.clone()).await?;
    assert_eq!(
        store.pending_totp(&alice, &first.id, at(20)).await?,
        Some(first.clone()),
        "a pending enrollment reads back unchanged"
    );
    store.put_pending_totp(second.clone()).await?;
    assert_eq!(
        store.pending_totp(&alice, &first.id, at(20)).await?,
        None,
        "a second pending enrollment replaces the first"
    );
    assert_eq!(
        store.pending_totp(&alice, &second.id, at(20)).await?,
        Some(second.clone())
    );
    assert_eq!(
        store
            .activate_totp(&alice, &first.id, activation("x", 1, 0, at(20)))
            .await?,
        None,
        "a replaced pending enrollment does not activate"
    );
    assert_eq!(
        store.pending_totp(&bob, &bobs.id, at(20)).await?,
        Some(bobs),
        "another subject's pending enrollment is untouched"
    );
    assert_eq!(
        store.pending_totp(&bob, &second.id, at(20)).await?,
        None,
        "a pending enrollment reads back only for its own subject"
    );
    assert_eq!(
        store
            .pending_totp(&alice, &CredentialId::generate()?, at(20))
            .await?,
        None
    );
    assert!(store.list_totp(&alice).await?.is_empty());
    Ok(())
}

/// A pending enrollment is readable and activatable strictly before
/// `expires_at`, and not at or after it; a refused activation changes
/// nothing.
pub async fn pending_totp_expires_at_expires_at<S: Store>(store: &S) -> Result<()> {
    let alice = fresh_subject()?;
    let p = pending(&alice, at(0), 600)?;
    store.put_pending_totp(p.clone()).await?;
    assert_eq!(
        store.pending_totp(&alice, &p.id, at(599)).await?,
        Some(p.clone())
    );
    assert_eq!(
        store.pending_totp(&alice, &p.id, at(600)).await?,
        None,
        "expired when expires_at <= now"
    );
    assert_eq!(store.pending_totp(&alice, &p.id, at(601)).await?, None);
    assert_eq!(
        store
            .activate_totp(&alice, &p.id, activation("late", 20, 0, at(600)))
            .await?,
        None,
        "activation at expires_at fails"
    );
    assert!(store.list_totp(&alice).await?.is_empty());
    assert_eq!(
        store.pending_totp(&alice, &p.id, at(599)).await?,
        Some(p.clone()),
        "a refused activation leaves the pending enrollment as it was"
    );
    assert!(
        store
            .activate_totp(&alice, &p.id, activation("in time", 19, 0, at(599)))
            .await?
            .is_some(),
        "activation one second before expiry succeeds"
    );
    Ok(())
}

/// `activate_totp` returns and stores a credential with the pending
/// enrollment's id, subject, secret and config and the activation's name,
/// step, drift and time, and consumes the pending enrollment.
pub async fn activate_totp_copies_fields_and_consumes_pending<S: Store>(store: &S) -> Result<()> {
    let alice = fresh_subject()?;
    let p = pending(&alice, at(0), 600)?;
    store.put_pending_totp(p.clone()).await?;
    let step = 58_333_456;
    let got = store
        .activate_totp(&alice, &p.id, activation("Work phone", step, -1, at(42)))
        .await?;
    let expected = TotpCredential {
        id: p.id.clone(),
        subject: alice.clone(),
        name: "Work phone".to_owned(),
        sealed_secret: p.sealed_secret.clone(),
        config: p.config,
        last_step: Some(step),
        drift: -1,
        created_at: at(42),
        last_used_at: Some(at(42)),
    };
    assert_eq!(got, Some(expected.clone()));
    assert_eq!(store.list_totp(&alice).await?, vec![expected.clone()]);
    assert_eq!(
        store.pending_totp(&alice, &p.id, at(42)).await?,
        None,
        "activation consumes the pending enrollment"
    );
    assert_eq!(
        store
            .activate_totp(&alice, &p.id, activation("again", step + 1, 0, at(43)))
            .await?,
        None,
        "a pending enrollment activates once"
    );
    assert_eq!(store.list_totp(&alice).await?, vec![expected]);
    assert!(
        !store
            .consume_totp_step(&alice, &p.id, step, 0, at(44))
            .await?,
        "the step that confirmed the enrollment is consumed"
    );
    Ok(())
}

/// `activate_totp` refuses another subject's pending enrollment and
/// unknown ids, changing nothing.
pub async fn activate_totp_only_for_its_subject<S: Store>(store: &S) -> Result<()> {
    let alice = fresh_subject()?;
    let bob = fresh_subject()?;
    let p = pending(&alice, at(0), 600)?;
    store.put_pending_totp(p.clone()).await?;
    assert_eq!(
        store
            .activate_totp(&bob, &p.id, activation("stolen", 5, 0, at(1)))
            .await?,
        None,
        "another subject cannot activate the enrollment"
    );
    assert!(store.list_totp(&bob).await?.is_empty());
    assert_eq!(
        store
            .activate_totp(
                &alice,
                &CredentialId::generate()?,
                activation("x", 5, 0, at(1))
            )
            .await?,
        None
    );
    assert_eq!(
        store.pending_totp(&alice, &p.id, at(2)).await?,
        Some(p.clone())
    );
    assert!(
        store
            .activate_totp(&alice, &p.id, activation("mine", 5, 0, at(2)))
            .await?
            .is_some()
    );
    Ok(())
}

/// `consume_totp_step` is a compare-and-set on `last_step`: only a larger
/// step succeeds (and updates `last_step`, `drift`, `last_used_at` and
/// nothing else); equal or smaller steps, other subjects and unknown ids
/// fail and change nothing; each authenticator has its own `last_step`.
pub async fn consume_totp_step_compare_and_set<S: Store>(store: &S) -> Result<()> {
    let alice = fresh_subject()?;
    let bob = fresh_subject()?;
    // Activation sets `last_step = Some(accepted_step)`; the trait offers
    // no way to store `None`, so step 0 stands in for the smallest case.
    let cred = active(store, &alice, "phone", 0, at(0)).await?;
    let other = active(store, &alice, "tablet", 0, at(1)).await?;
    let consume = |id: &CredentialId, step, drift, now| {
        let id = id.clone();
        let alice = alice.clone();
        async move { store.consume_totp_step(&alice, &id, step, drift, now).await }
    };
    let read = |id: &CredentialId| {
        let id = id.clone();
        let alice = alice.clone();
        async move {
            let list = store.list_totp(&alice).await?;
            match list.into_iter().find(|c| c.id == id) {
                Some(c) => Ok::<_, Error>(c),
                None => panic!("authenticator {id} disappeared"),
            }
        }
    };

    assert!(
        !consume(&cred.id, 0, 0, at(5)).await?,
        "the step accepted at activation is consumed"
    );
    assert!(
        consume(&cred.id, 1, 1, at(30)).await?,
        "a larger step succeeds"
    );
    let expected = TotpCredential {
        last_step: Some(1),
        drift: 1,
        last_used_at: Some(at(30)),
        ..cred.clone()
    };
    assert_eq!(
        read(&cred.id).await?,
        expected,
        "exactly these fields change"
    );
    assert!(
        !consume(&cred.id, 1, 0, at(31)).await?,
        "the same step is refused"
    );
    assert!(
        consume(&cred.id, 5, -1, at(150)).await?,
        "skipping steps is fine"
    );
    assert!(
        !consume(&cred.id, 4, 0, at(151)).await?,
        "a smaller step is refused"
    );
    assert!(!consume(&cred.id, 5, 0, at(152)).await?);
    let expected = TotpCredential {
        last_step: Some(5),
        drift: -1,
        last_used_at: Some(at(150)),
        ..cred.clone()
    };
    assert_eq!(read(&cred.id).await?, expected, "refusals change nothing");

    assert!(
        !store
            .consume_totp_step(&bob, &cred.id, 100, 0, at(160))
            .await?,
        "another subject's authenticator is refused"
    );
    assert!(
        !consume(&CredentialId::generate()?, 100, 0, at(160)).await?,
        "an unknown authenticator is refused"
    );
    assert_eq!(read(&cred.id).await?, expected);

    assert!(
        consume(&other.id, 3, 0, at(170)).await?,
        "each authenticator has its own last step"
    );
    let big = 1 << 40; // beyond 32 bits
    assert!(consume(&cred.id, big, 0, at(180)).await?);
    assert!(!consume(&cred.id, big, 0, at(181)).await?);
    assert_eq!(read(&cred.id).await?.last_step, Some(big));
    assert_eq!(read(&other.id).await?.last_step, Some(3));
    Ok(())
}

/// `list_totp` lists the subject's authenticators oldest first (not in
/// insertion order); `remove_totp` removes one of the subject's own, once,
/// and refuses another subject's and pending enrollments.
pub async fn list_totp_oldest_first_and_remove<S: Store>(store: &S) -> Result<()> {
    let alice = fresh_subject()?;
    let bob = fresh_subject()?;
    let b = active(store, &alice, "b", 7, at(200)).await?;
    let a = active(store, &alice, "a", 3, at(100)).await?;
    let c = active(store, &alice, "c", 9, at(300)).await?;
    let bobs = active(store, &bob, "bob's", 1, at(50)).await?;
    assert_eq!(
        store.list_totp(&alice).await?,
        vec![a.clone(), b.clone(), c.clone()],
        "oldest first"
    );
    let remove = |id: &CredentialId| FactorRef::Authenticator(id.clone());
    assert_eq!(
        store.remove_factor(&bob, &remove(&b.id), None).await?,
        Removal::NotFound,
        "another subject cannot remove it"
    );
    assert_eq!(store.list_totp(&alice).await?.len(), 3);
    assert_eq!(
        store.remove_factor(&alice, &remove(&b.id), None).await?,
        Removal::Removed
    );
    assert_eq!(store.list_totp(&alice).await?, vec![a.clone(), c.clone()]);
    assert_eq!(
        store.remove_factor(&alice, &remove(&b.id), None).await?,
        Removal::NotFound,
        "removing twice"
    );
    assert!(
        !store
            .consume_totp_step(&alice, &b.id, 100, 0, at(400))
            .await?,
        "a removed authenticator accepts nothing"
    );
    let p = pending(&alice, at(400), 600)?;
    store.put_pending_totp(p.clone()).await?;
    assert_eq!(
        store.remove_factor(&alice, &remove(&p.id), None).await?,
        Removal::NotFound,
        "a pending enrollment is not an authenticator"
    );
    assert_eq!(store.pending_totp(&alice, &p.id, at(401)).await?, Some(p));
    assert_eq!(store.list_totp(&bob).await?, vec![bobs]);
    assert!(store.list_totp(&fresh_subject()?).await?.is_empty());
    Ok(())
}

// ----- recovery codes ---------------------------------------------------

/// `replace_recovery_codes`: `Always` replaces whatever set exists (the old
/// codes stop working); `IfNone` replaces only when no code is unused and
/// says whether it did; `recovery_codes_left` follows.
pub async fn recovery_codes_replace_always_and_if_none<S: Store>(store: &S) -> Result<()> {
    let alice = fresh_subject()?;
    let (a, b, c) = (hashes(3)?, hashes(2)?, hashes(4)?);
    assert_eq!(store.recovery_codes_left(&alice).await?, 0);
    assert!(
        store
            .replace_recovery_codes(&alice, a.clone(), ReplaceCodes::IfNone, at(0))
            .await?,
        "IfNone succeeds for a subject who never had codes"
    );
    assert_eq!(store.recovery_codes_left(&alice).await?, 3);
    assert!(
        !store
            .replace_recovery_codes(&alice, b.clone(), ReplaceCodes::IfNone, at(1))
            .await?,
        "IfNone fails while codes are unused"
    );
    assert_eq!(store.recovery_codes_left(&alice).await?, 3);
    assert!(!store.consume_recovery_code(&alice, &b[0], at(2)).await?);
    assert!(
        store
            .replace_recovery_codes(&alice, b.clone(), ReplaceCodes::Always, at(3))
            .await?
    );
    assert_eq!(store.recovery_codes_left(&alice).await?, 2);
    for old in &a {
        assert!(
            !store.consume_recovery_code(&alice, old, at(4)).await?,
            "a replaced set no longer works"
        );
    }
    assert!(store.consume_recovery_code(&alice, &b[0], at(5)).await?);
    assert_eq!(store.recovery_codes_left(&alice).await?, 1);
    assert!(
        !store
            .replace_recovery_codes(&alice, c.clone(), ReplaceCodes::IfNone, at(6))
            .await?,
        "IfNone fails while one code is unused"
    );
    assert_eq!(store.recovery_codes_left(&alice).await?, 1);
    assert!(!store.consume_recovery_code(&alice, &c[0], at(7)).await?);
    assert!(store.consume_recovery_code(&alice, &b[1], at(8)).await?);
    assert_eq!(store.recovery_codes_left(&alice).await?, 0);
    assert!(
        store
            .replace_recovery_codes(&alice, c.clone(), ReplaceCodes::IfNone, at(9))
            .await?,
        "IfNone succeeds once every code is used"
    );
    assert_eq!(store.recovery_codes_left(&alice).await?, 4);
    assert!(
        !store.consume_recovery_code(&alice, &b[1], at(10)).await?,
        "used codes do not come back"
    );
    assert!(
        store
            .replace_recovery_codes(&alice, Vec::new(), ReplaceCodes::Always, at(11))
            .await?
    );
    assert_eq!(store.recovery_codes_left(&alice).await?, 0);
    assert!(!store.consume_recovery_code(&alice, &c[0], at(12)).await?);
    Ok(())
}

/// `consume_recovery_code` succeeds once per code, only for its own
/// subject; the same hash held by two subjects is two codes.
pub async fn recovery_codes_consume_once_per_subject<S: Store>(store: &S) -> Result<()> {
    let alice = fresh_subject()?;
    let bob = fresh_subject()?;
    let mine = hashes(5)?;
    let shared = fresh_hash()?;
    let mut bobs = hashes(2)?;
    bobs.push(shared);
    let mut alices = mine.clone();
    alices.push(shared);
    store
        .replace_recovery_codes(&alice, alices, ReplaceCodes::Always, at(0))
        .await?;
    store
        .replace_recovery_codes(&bob, bobs.clone(), ReplaceCodes::Always, at(0))
        .await?;
    assert!(
        !store.consume_recovery_code(&bob, &mine[0], at(1)).await?,
        "another subject's code is refused"
    );
    assert!(!store.consume_recovery_code(&alice, &bobs[0], at(1)).await?);
    assert!(
        !store
            .consume_recovery_code(&alice, &fresh_hash()?, at(1))
            .await?
    );
    assert_eq!(store.recovery_codes_left(&alice).await?, 6);
    assert_eq!(store.recovery_codes_left(&bob).await?, 3);
    assert!(store.consume_recovery_code(&alice, &mine[0], at(2)).await?);
    assert!(
        !store.consume_recovery_code(&alice, &mine[0], at(3)).await?,
        "a code works once"
    );
    assert_eq!(store.recovery_codes_left(&alice).await?, 5);
    assert!(store.consume_recovery_code(&alice, &shared, at(4)).await?);
    assert!(!store.consume_recovery_code(&alice, &shared, at(4)).await?);
    assert!(
        store.consume_recovery_code(&bob, &shared, at(5)).await?,
        "using a code of one subject leaves the other's equal code unused"
    );
    assert_eq!(store.recovery_codes_left(&alice).await?, 4);
    assert_eq!(store.recovery_codes_left(&bob).await?, 2);
    Ok(())
}

// ----- channels -----------------------------------------------------------

/// `add_channel` registers once (keeping the first `added_at`),
/// `list_channels` orders e-mail before SMS whatever the order they were
/// added in, `remove_channel` unregisters once; subjects are separate.
pub async fn channels_add_list_remove<S: Store>(store: &S) -> Result<()> {
    let alice = fresh_subject()?;
    let bob = fresh_subject()?;
    assert!(store.list_channels(&alice).await?.is_empty());
    let sms = channel(Channel::Sms, at(0))?;
    let email = channel(Channel::Email, at(10))?;
    assert_eq!(
        store.add_channel(&alice, sms.clone()).await?,
        ChannelAdded::Added
    );
    assert_eq!(
        store.add_channel(&alice, email.clone()).await?,
        ChannelAdded::Added
    );
    assert_eq!(
        store
            .add_channel(
                &alice,
                ChannelFactor {
                    added_at: at(20),
                    sealed_address: None,
                    ..sms.clone()
                }
            )
            .await?,
        ChannelAdded::Unchanged,
        "the same address again changes nothing"
    );
    assert_eq!(
        store.list_channels(&alice).await?,
        vec![email.clone(), sms.clone()],
        "e-mail then SMS, and the first registration is kept"
    );
    let moved = channel(Channel::Sms, at(25))?;
    assert_eq!(
        store.add_channel(&alice, moved.clone()).await?,
        ChannelAdded::Replaced {
            previous: sms.clone()
        },
        "another address replaces the registration and returns the old one"
    );
    assert_eq!(
        store.list_channels(&alice).await?,
        vec![email.clone(), moved.clone()]
    );
    assert!(store.list_channels(&bob).await?.is_empty());
    let sms_ref = FactorRef::Channel(Channel::Sms);
    assert_eq!(
        store.remove_factor(&bob, &sms_ref, None).await?,
        Removal::NotFound
    );
    assert_eq!(
        store.remove_factor(&alice, &sms_ref, None).await?,
        Removal::Removed
    );
    assert_eq!(
        store.remove_factor(&alice, &sms_ref, None).await?,
        Removal::NotFound
    );
    assert_eq!(store.list_channels(&alice).await?, vec![email.clone()]);
    let again = channel(Channel::Sms, at(30))?;
    assert_eq!(
        store.add_channel(&alice, again.clone()).await?,
        ChannelAdded::Added
    );
    assert_eq!(
        store.list_channels(&alice).await?.get(1),
        Some(&again),
        "re-adding after removal records the new registration"
    );
    Ok(())
}

// ----- sent codes ---------------------------------------------------------

/// The cooldown: a send less than `cooldown` after the newest recorded
/// send is `TooSoon { retry_after: newest + cooldown }` and records
/// nothing (the previous code still works); at exactly `newest + cooldown`
/// it is allowed.
pub async fn sent_code_cooldown<S: Store>(store: &S) -> Result<()> {
    let alice = fresh_subject()?;
    let lim = limits(60, 10);
    let (h1, h2, h3, h4) = (fresh_hash()?, fresh_hash()?, fresh_hash()?, fresh_hash()?);
    let issue = |hash, t| store.issue_sent_code(sent(&alice, Channel::Email, hash, t, 300), lim);
    assert_eq!(issue(h1, at(0)).await?, IssueOutcome::Issued);
    assert_eq!(issue(h2, at(59)).await?, too_soon(at(60)));
    assert_eq!(
        store
            .attempt_sent_code(&alice, Channel::Email, &h2, 5, at(59))
            .await?,
        rejected(4),
        "a refused send records no code"
    );
    assert_eq!(
        store
            .attempt_sent_code(&alice, Channel::Email, &h1, 5, at(59))
            .await?,
        SentCodeAttempt::Accepted,
        "a refused send leaves the previous code working"
    );
    assert_eq!(
        issue(h3, at(60)).await?,
        IssueOutcome::Issued,
        "allowed exactly `cooldown` after the newest send"
    );
    assert_eq!(issue(h4, at(61)).await?, too_soon(at(120)));
    assert_eq!(issue(h4, at(119)).await?, too_soon(at(120)));
    assert_eq!(issue(h4, at(120)).await?, IssueOutcome::Issued);
    Ok(())
}

/// The hourly cap: with `max_per_hour` sends in the hour up to now, a send
/// is `TooSoon { retry_after: oldest_in_hour + 1 h }` (cooldown is checked
/// first); the hour slides, and refused sends do not count.
pub async fn sent_code_hourly_cap_sliding_window<S: Store>(store: &S) -> Result<()> {
    let alice = fresh_subject()?;
    let lim = limits(60, 3);
    let alice = &alice;
    let issue = |t| async move {
        store
            .issue_sent_code(sent(alice, Channel::Sms, fresh_hash()?, t, 300), lim)
            .await
    };
    let issued = IssueOutcome::Issued;
    assert_eq!(issue(at(0)).await?, issued);
    assert_eq!(issue(at(60)).await?, issued);
    assert_eq!(issue(at(120)).await?, issued);
    assert_eq!(
        issue(at(150)).await?,
        too_soon(at(180)),
        "the cooldown is checked before the cap"
    );
    assert_eq!(
        issue(at(180)).await?,
        too_soon(at(3600)),
        "three sends in the hour: retry when the oldest leaves it"
    );
    assert_eq!(issue(at(3599)).await?, too_soon(at(3600)));
    assert_eq!(
        issue(at(3600)).await?,
        issued,
        "a send exactly one hour old no longer counts"
    );
    assert_eq!(issue(at(3630)).await?, too_soon(at(3660)));
    // In the hour up to 3660: sends at 120 and 3600 (60 has just left).
    assert_eq!(issue(at(3660)).await?, issued);
    // In the hour up to 3720: sends at 3600 and 3660.
    assert_eq!(issue(at(3720)).await?, issued);
    // In the hour up to 3780: 3600, 3660 and 3720.
    assert_eq!(
        issue(at(3780)).await?,
        too_soon(at(7200)),
        "the window slides: retry_after follows the oldest send in it"
    );
    Ok(())
}

/// A new code replaces the previous one: the old code no longer matches,
/// and the new code starts with a fresh try count.
pub async fn sent_code_new_code_replaces_previous<S: Store>(store: &S) -> Result<()> {
    let alice = fresh_subject()?;
    let lim = limits(60, 10);
    let (old, new, wrong) = (fresh_hash()?, fresh_hash()?, fresh_hash()?);
    let attempt = |hash, t| store.attempt_sent_code(&alice, Channel::Email, hash, 3, t);
    assert_eq!(
        store
            .issue_sent_code(sent(&alice, Channel::Email, old, at(0), 300), lim)
            .await?,
        IssueOutcome::Issued
    );
    assert_eq!(attempt(&wrong, at(1)).await?, rejected(2));
    assert_eq!(attempt(&wrong, at(2)).await?, rejected(1));
    assert_eq!(
        store
            .issue_sent_code(sent(&alice, Channel::Email, new, at(60), 300), lim)
            .await?,
        IssueOutcome::Issued
    );
    assert_eq!(
        attempt(&old, at(61)).await?,
        rejected(2),
        "the previous code stops working, and the new one has a fresh try count"
    );
    assert_eq!(attempt(&new, at(62)).await?, SentCodeAttempt::Accepted);
    assert_eq!(attempt(&new, at(63)).await?, SentCodeAttempt::NoActiveCode);
    assert_eq!(attempt(&old, at(63)).await?, SentCodeAttempt::NoActiveCode);
    Ok(())
}

/// A matching code is accepted once; with no code ever sent there is
/// nothing to try.
pub async fn sent_code_accepted_once<S: Store>(store: &S) -> Result<()> {
    let alice = fresh_subject()?;
    let code = fresh_hash()?;
    let attempt = |hash, t| store.attempt_sent_code(&alice, Channel::Sms, hash, 5, t);
    assert_eq!(
        attempt(&code, at(0)).await?,
        SentCodeAttempt::NoActiveCode,
        "no code was sent"
    );
    assert_eq!(
        store
            .issue_sent_code(sent(&alice, Channel::Sms, code, at(0), 300), limits(60, 10))
            .await?,
        IssueOutcome::Issued
    );
    assert_eq!(attempt(&code, at(10)).await?, SentCodeAttempt::Accepted);
    assert_eq!(
        attempt(&code, at(11)).await?,
        SentCodeAttempt::NoActiveCode,
        "a code is consumed when accepted"
    );
    assert_eq!(
        attempt(&fresh_hash()?, at(12)).await?,
        SentCodeAttempt::NoActiveCode
    );
    Ok(())
}

/// Wrong tries count down `tries_left` to 0; after `max_tries` wrong tries
/// even the right code finds `NoActiveCode`, until a new code is sent.
pub async fn sent_code_tries_run_out<S: Store>(store: &S) -> Result<()> {
    let alice = fresh_subject()?;
    let (code, wrong) = (fresh_hash()?, fresh_hash()?);
    let attempt = |hash, t| store.attempt_sent_code(&alice, Channel::Email, hash, 3, t);
    let issue =
        |hash, t| store.issue_sent_code(sent(&alice, Channel::Email, hash, t, 300), limits(60, 10));
    assert_eq!(issue(code, at(0)).await?, IssueOutcome::Issued);
    assert_eq!(attempt(&wrong, at(1)).await?, rejected(2));
    assert_eq!(attempt(&wrong, at(2)).await?, rejected(1));
    assert_eq!(attempt(&wrong, at(3)).await?, rejected(0));
    assert_eq!(
        attempt(&code, at(4)).await?,
        SentCodeAttempt::NoActiveCode,
        "out of tries: even the right code is refused"
    );
    assert_eq!(attempt(&wrong, at(5)).await?, SentCodeAttempt::NoActiveCode);
    let next = fresh_hash()?;
    assert_eq!(issue(next, at(60)).await?, IssueOutcome::Issued);
    assert_eq!(attempt(&wrong, at(61)).await?, rejected(2));
    assert_eq!(attempt(&next, at(62)).await?, SentCodeAttempt::Accepted);
    Ok(())
}

/// A sent code works strictly before `expires_at` and not at it.
pub async fn sent_code_expires_at_expires_at<S: Store>(store: &S) -> Result<()> {
    let alice = fresh_subject()?;
    let (email, sms) = (fresh_hash()?, fresh_hash()?);
    let lim = limits(60, 10);
    store
        .issue_sent_code(sent(&alice, Channel::Email, email, at(0), 300), lim)
        .await?;
    store
        .issue_sent_code(sent(&alice, Channel::Sms, sms, at(0), 300), lim)
        .await?;
    assert_eq!(
        store
            .attempt_sent_code(&alice, Channel::Email, &fresh_hash()?, 5, at(299))
            .await?,
        rejected(4)
    );
    assert_eq!(
        store
            .attempt_sent_code(&alice, Channel::Email, &email, 5, at(300))
            .await?,
        SentCodeAttempt::NoActiveCode,
        "expired when expires_at <= now"
    );
    assert_eq!(
        store
            .attempt_sent_code(&alice, Channel::Email, &fresh_hash()?, 5, at(301))
            .await?,
        SentCodeAttempt::NoActiveCode
    );
    assert_eq!(
        store
            .attempt_sent_code(&alice, Channel::Sms, &sms, 5, at(299))
            .await?,
        SentCodeAttempt::Accepted,
        "one second before expiry it works"
    );
    Ok(())
}

/// Codes, tries and send limits are per subject and channel.
pub async fn sent_code_channels_and_subjects_separate<S: Store>(store: &S) -> Result<()> {
    let alice = fresh_subject()?;
    let bob = fresh_subject()?;
    let lim = limits(60, 10);
    let (email, sms, bobs) = (fresh_hash()?, fresh_hash()?, fresh_hash()?);
    let issued = IssueOutcome::Issued;
    assert_eq!(
        store
            .issue_sent_code(sent(&alice, Channel::Email, email, at(0), 300), lim)
            .await?,
        issued
    );
    assert_eq!(
        store
            .issue_sent_code(sent(&alice, Channel::Sms, sms, at(1), 300), lim)
            .await?,
        issued,
        "the cooldown is per channel"
    );
    assert_eq!(
        store
            .issue_sent_code(sent(&bob, Channel::Email, bobs, at(2), 300), lim)
            .await?,
        issued,
        "the cooldown is per subject"
    );
    assert_eq!(
        store
            .attempt_sent_code(&alice, Channel::Sms, &email, 2, at(3))
            .await?,
        rejected(1),
        "an e-mail code does not work as an SMS code"
    );
    assert_eq!(
        store
            .attempt_sent_code(&bob, Channel::Email, &email, 2, at(3))
            .await?,
        rejected(1),
        "one subject's code does not work for another"
    );
    assert_eq!(
        store
            .attempt_sent_code(&alice, Channel::Sms, &email, 2, at(4))
            .await?,
        rejected(0)
    );
    assert_eq!(
        store
            .attempt_sent_code(&alice, Channel::Sms, &sms, 2, at(5))
            .await?,
        SentCodeAttempt::NoActiveCode,
        "the SMS code is out of tries"
    );
    assert_eq!(
        store
            .attempt_sent_code(&alice, Channel::Email, &email, 2, at(5))
            .await?,
        SentCodeAttempt::Accepted,
        "wrong tries on SMS do not count against the e-mail code"
    );
    assert_eq!(
        store
            .attempt_sent_code(&bob, Channel::Email, &bobs, 2, at(6))
            .await?,
        SentCodeAttempt::Accepted,
        "consuming one subject's code leaves another's"
    );
    assert_eq!(
        store
            .attempt_sent_code(&bob, Channel::Sms, &bobs, 2, at(6))
            .await?,
        SentCodeAttempt::NoActiveCode
    );
    Ok(())
}

// ----- throttling -------------------------------------------------------

// ----- remembered devices -------------------------------------------------

/// `list_devices` lists unexpired devices newest first; `touch_device`
/// finds an unexpired device by token hash for its own subject only, sets
/// `last_used_at` and returns it updated.
pub async fn devices_put_touch_list<S: Store>(store: &S) -> Result<()> {
    let alice = fresh_subject()?;
    let bob = fresh_subject()?;
    let d1 = device(&alice, "Firefox on Linux", at(0), at(1000))?;
    let d2 = device(&alice, "Safari on iPhone", at(100), at(2000))?;
    let d3 = device(&alice, "Edge on Windows", at(200), at(500))?;
    let b1 = device(&bob, "Chrome on Android", at(50), at(2000))?;
    for d in [&d2, &d1, &b1, &d3] {
        store.put_device(d.clone()).await?;
    }
    assert_eq!(
        store.list_devices(&alice, at(300)).await?,
        vec![d3.clone(), d2.clone(), d1.clone()],
        "newest first"
    );
    let touched = RememberedDevice {
        last_used_at: Some(at(400)),
        ..d1.clone()
    };
    assert_eq!(
        store.touch_device(&alice, &d1.token_hash, at(400)).await?,
        Some(touched.clone()),
        "touch returns the device with last_used_at = now"
    );
    assert_eq!(
        store.list_devices(&alice, at(499)).await?,
        vec![d3.clone(), d2.clone(), touched.clone()]
    );
    assert_eq!(
        store.list_devices(&alice, at(500)).await?,
        vec![d2.clone(), touched.clone()],
        "expired when expires_at <= now"
    );
    assert_eq!(
        store.touch_device(&alice, &d3.token_hash, at(500)).await?,
        None,
        "an expired device is not returned"
    );
    assert_eq!(
        store.touch_device(&bob, &d1.token_hash, at(10)).await?,
        None,
        "another subject's token does not match"
    );
    assert_eq!(
        store.touch_device(&alice, &b1.token_hash, at(10)).await?,
        None
    );
    assert_eq!(
        store.touch_device(&alice, &fresh_hash()?, at(10)).await?,
        None
    );
    assert_eq!(store.list_devices(&bob, at(300)).await?, vec![b1.clone()]);
    assert!(store.list_devices(&alice, at(2000)).await?.is_empty());
    Ok(())
}

/// `revoke_device` removes one of the subject's own devices, once;
/// `revoke_all_devices` removes all of them (expired ones too) and counts
/// them; other subjects keep theirs.
pub async fn devices_revoke<S: Store>(store: &S) -> Result<()> {
    let alice = fresh_subject()?;
    let bob = fresh_subject()?;
    let d1 = device(&alice, "one", at(0), at(1000))?;
    let d2 = device(&alice, "expired", at(10), at(50))?;
    let d3 = device(&alice, "three", at(20), at(1000))?;
    let b1 = device(&bob, "bob's", at(0), at(1000))?;
    for d in [&d1, &d2, &d3, &b1] {
        store.put_device(d.clone()).await?;
    }
    assert!(
        !store.revoke_device(&bob, &d1.id).await?,
        "another subject cannot revoke it"
    );
    assert_eq!(store.list_devices(&alice, at(100)).await?.len(), 2);
    assert!(store.revoke_device(&alice, &d1.id).await?);
    assert!(
        !store.revoke_device(&alice, &d1.id).await?,
        "revoking twice"
    );
    assert_eq!(
        store.touch_device(&alice, &d1.token_hash, at(100)).await?,
        None,
        "a revoked device is not remembered"
    );
    assert_eq!(store.list_devices(&alice, at(100)).await?, vec![d3.clone()]);
    assert_eq!(
        store.revoke_all_devices(&alice).await?,
        2,
        "all of the subject's devices, the expired one included"
    );
    assert_eq!(store.revoke_all_devices(&alice).await?, 0);
    assert!(store.list_devices(&alice, at(0)).await?.is_empty());
    assert_eq!(
        store.touch_device(&alice, &d3.token_hash, at(100)).await?,
        None
    );
    assert_eq!(store.list_devices(&bob, at(100)).await?, vec![b1]);
    assert_eq!(store.revoke_all_devices(&bob).await?, 1);
    Ok(())
}

// ----- policy and grace ---------------------------------------------------

/// A store starts without a policy; `save_policy` then `load_policy` gives
/// back exactly what was saved (roles, requirements, grace, methods,
/// remember periods, `grace_changed_at`); saving again replaces it.
///
/// The policy is global: this case needs a store on which no policy was
/// ever saved.
pub async fn policy_load_save_round_trip<S: Store>(store: &S) -> Result<()> {
    assert_eq!(
        store.load_policy().await?,
        None,
        "a new store has no policy (the factory must give one where none was saved)"
    );
    let mut policy = Policy::default();
    let mut agent = RolePolicy::required(secs(7 * 86_400))
        .with_methods(MethodSet::APP_ONLY)
        .with_remember_device(None);
    agent.grace_changed_at = Some(at(12_345));
    policy.set_role(Role::AGENT, agent);
    policy.set_role(
        Role::END_USER,
        RolePolicy::optional()
            .with_methods(MethodSet {
                app: true,
                email: true,
                sms: false,
            })
            .with_remember_device(Some(secs(12 * 3600))),
    );
    policy.set_role(Role::new("team-lead.eu_1")?, RolePolicy::disabled());
    let mut default = RolePolicy::required(Duration::ZERO).with_remember_device(Some(secs(86_400)));
    default.grace_changed_at = Some(at(99));
    policy.default = default;
    policy.validate()?;
    store.save_policy(&policy).await?;
    assert_eq!(store.load_policy().await?, Some(policy.clone()));

    let mut second = Policy::default();
    second.set_role(
        Role::new("contractor")?,
        RolePolicy::required(secs(3 * 86_400)).with_methods(MethodSet {
            app: false,
            email: false,
            sms: true,
        }),
    );
    second.roles.remove(&Role::END_USER);
    store.save_policy(&second).await?;
    assert_eq!(
        store.load_policy().await?,
        Some(second),
        "saving replaces the whole policy"
    );
    Ok(())
}

/// `fix_grace` inserts only if absent and returns the stored record;
/// `grace` reads it; `clear_grace` forgets it, for one subject only.
pub async fn grace_fix_if_absent_and_clear<S: Store>(store: &S) -> Result<()> {
    let alice = fresh_subject()?;
    let bob = fresh_subject()?;
    let first = GraceRecord {
        fixed_at: at(0),
        deadline: at(7 * 86_400),
    };
    let second = GraceRecord {
        fixed_at: at(100),
        deadline: at(100 + 86_400),
    };
    assert_eq!(store.grace(&alice).await?, None);
    assert_eq!(store.fix_grace(&alice, first).await?, first);
    assert_eq!(
        store.fix_grace(&alice, second).await?,
        first,
        "an existing record is kept and returned"
    );
    assert_eq!(store.grace(&alice).await?, Some(first));
    assert_eq!(store.grace(&bob).await?, None);
    assert_eq!(store.fix_grace(&bob, second).await?, second);
    store.clear_grace(&alice).await?;
    assert_eq!(store.grace(&alice).await?, None);
    assert_eq!(
        store.grace(&bob).await?,
        Some(second),
        "other subjects keep theirs"
    );
    store.clear_grace(&alice).await?;
    assert_eq!(
        store.fix_grace(&alice, second).await?,
        second,
        "after clearing, a new record is fixed"
    );
    Ok(())
}

// ----- reset --------------------------------------------------------------

/// `reset_subject` removes the subject's authenticators, pending
/// enrollment, unused recovery codes, channels, devices (expired ones
/// too), sent codes and failure counters, reports the counts, and leaves
/// the grace record, the audit trail and other subjects alone.
pub async fn reset_subject_removes_exactly_its_records<S: Store>(store: &S) -> Result<()> {
    let alice = fresh_subject()?;
    let bob = fresh_subject()?;
    let lim = limits(60, 10);
    let grace = GraceRecord {
        fixed_at: at(0),
        deadline: at(86_400),
    };

    // Alice: two authenticators, a pending enrollment, three unused codes
    // (one of four used), two channels, three devices (one expired), a
    // code on each channel, failures on two kinds, a grace record and an
    // audit event.
    let a1 = active(store, &alice, "a1", 5, at(0)).await?;
    let a2 = active(store, &alice, "a2", 5, at(1)).await?;
    let a_codes = hashes(4)?;
    store
        .replace_recovery_codes(&alice, a_codes.clone(), ReplaceCodes::Always, at(3))
        .await?;
    assert!(
        store
            .consume_recovery_code(&alice, &a_codes[0], at(4))
            .await?
    );
    store
        .add_channel(&alice, channel(Channel::Email, at(5))?)
        .await?;
    store
        .add_channel(&alice, channel(Channel::Sms, at(5))?)
        .await?;
    // After the channels: adding a factor drops pending enrollments.
    let a_pending = pending(&alice, at(2), 600)?;
    store.put_pending_totp(a_pending.clone()).await?;
    let a_devices = [
        device(&alice, "d1", at(6), at(10_000))?,
        device(&alice, "d2", at(7), at(10_000))?,
        device(&alice, "gone", at(1), at(8))?,
    ];
    for d in &a_devices {
        store.put_device(d.clone()).await?;
    }
    let (a_email, a_sms) = (fresh_hash()?, fresh_hash()?);
    store
        .issue_sent_code(sent(&alice, Channel::Email, a_email, at(9), 300), lim)
        .await?;
    store
        .issue_sent_code(sent(&alice, Channel::Sms, a_sms, at(9), 300), lim)
        .await?;
    let rule = ThrottleRule::default();
    for _ in 0..3 {
        store
            .charge_attempt(&alice, FactorKind::Totp, rule, at(10))
            .await?;
    }
    store
        .charge_attempt(&alice, FactorKind::Email, rule, at(10))
        .await?;
    store.fix_grace(&alice, grace).await?;
    let event = NewAuditEvent {
        at: at(11),
        subject: Some(alice.clone()),
        actor: Actor::Subject(alice.clone()),
        action: AuditAction::AuthenticatorAdded,
        factor: Some(FactorKind::Totp),
        detail: Some("a1".to_owned()),
    };
    store.append_audit(event.clone()).await?;

    // Bob: one of each.
    let b1 = active(store, &bob, "b1", 5, at(0)).await?;
    let b_codes = hashes(2)?;
    store
        .replace_recovery_codes(&bob, b_codes.clone(), ReplaceCodes::Always, at(3))
        .await?;
    store
        .add_channel(&bob, channel(Channel::Email, at(5))?)
        .await?;
    let b_pending = pending(&bob, at(2), 600)?;
    store.put_pending_totp(b_pending.clone()).await?;
    let b_device = device(&bob, "bd", at(6), at(10_000))?;
    store.put_device(b_device.clone()).await?;
    let b_email = fresh_hash()?;
    store
        .issue_sent_code(sent(&bob, Channel::Email, b_email, at(9), 300), lim)
        .await?;
    store
        .charge_attempt(&bob, FactorKind::Totp, rule, at(10))
        .await?;
    let b_throttle = store.throttle_state(&bob, FactorKind::Totp).await?;
    store.fix_grace(&bob, grace).await?;

    let summary = store.reset_subject(&alice).await?;
    assert_eq!(
        summary,
        ResetSummary {
            authenticators: 2,
            pending: 1,
            recovery_codes: 3,
            channels: 2,
            devices: 3,
        }
    );

    // Alice has nothing left but her grace record and audit trail.
    let now = at(20);
    assert!(store.list_totp(&alice).await?.is_empty());
    for cred in [&a1, &a2] {
        assert!(
            !store
                .consume_totp_step(&alice, &cred.id, 100, 0, now)
                .await?
        );
    }
    assert_eq!(store.pending_totp(&alice, &a_pending.id, now).await?, None);
    assert_eq!(
        store
            .activate_totp(&alice, &a_pending.id, activation("x", 9, 0, now))
            .await?,
        None
    );
    assert!(
        !store
            .replace_sealed(&a1.id, &a1.sealed_secret, &fresh_sealed()?)
            .await?,
        "the sealed secret is gone too"
    );
    assert_eq!(store.recovery_codes_left(&alice).await?, 0);
    assert!(
        !store
            .consume_recovery_code(&alice, &a_codes[1], now)
            .await?
    );
    assert!(store.list_channels(&alice).await?.is_empty());
    assert!(store.list_devices(&alice, now).await?.is_empty());
    assert_eq!(
        store
            .touch_device(&alice, &a_devices[0].token_hash, now)
            .await?,
        None
    );
    for (channel, hash) in [(Channel::Email, &a_email), (Channel::Sms, &a_sms)] {
        assert_eq!(
            store
                .attempt_sent_code(&alice, channel, hash, 5, now)
                .await?,
            SentCodeAttempt::NoActiveCode,
            "sent codes are removed"
        );
    }
    for kind in [FactorKind::Totp, FactorKind::Email] {
        assert_eq!(
            store.throttle_state(&alice, kind).await?,
            ThrottleState::default(),
            "failure counters are removed"
        );
    }
    assert_eq!(
        store.grace(&alice).await?,
        Some(grace),
        "the grace record stays"
    );
    let trail = store
        .list_audit(&AuditQuery::latest(10).for_subject(alice.clone()))
        .await?;
    assert_eq!(
        trail.into_iter().map(|e| e.event).collect::<Vec<_>>(),
        vec![event],
        "the audit trail stays"
    );

    // Bob is untouched.
    assert_eq!(store.list_totp(&bob).await?, vec![b1]);
    assert_eq!(
        store.pending_totp(&bob, &b_pending.id, now).await?,
        Some(b_pending)
    );
    assert_eq!(store.recovery_codes_left(&bob).await?, 2);
    assert_eq!(store.list_channels(&bob).await?.len(), 1);
    assert_eq!(store.list_devices(&bob, now).await?, vec![b_device]);
    assert_eq!(
        store.throttle_state(&bob, FactorKind::Totp).await?,
        b_throttle
    );
    assert_eq!(store.grace(&bob).await?, Some(grace));
    assert_eq!(
        store
            .attempt_sent_code(&bob, Channel::Email, &b_email, 5, now)
            .await?,
        SentCodeAttempt::Accepted
    );

    assert_eq!(
        store.reset_subject(&alice).await?,
        ResetSummary::default(),
        "a second reset finds nothing"
    );
    assert!(
        store
            .replace_recovery_codes(&alice, hashes(2)?, ReplaceCodes::IfNone, now)
            .await?,
        "the subject can enroll again"
    );
    Ok(())
}

// ----- audit --------------------------------------------------------------

/// `append_audit` gives increasing ids; `list_audit` returns events
/// unchanged, newest first, filtered by subject, at most `limit`, and
/// `before` pages through them without gaps or duplicates.
pub async fn audit_ids_order_filter_and_pages<S: Store>(store: &S) -> Result<()> {
    let alice = fresh_subject()?;
    let bob = fresh_subject()?;
    let admin = fresh_subject()?;
    let mut appended = Vec::new();
    for i in 0..7u8 {
        let event = NewAuditEvent {
            at: at(u64::from(i)),
            subject: Some(alice.clone()),
            actor: match i % 3 {
                0 => Actor::Subject(alice.clone()),
                1 => Actor::Admin(admin.clone()),
                _ => Actor::System,
            },
            action: AuditAction::ALL[usize::from(i)],
            factor: (i % 2 == 0).then_some(FactorKind::ALL[usize::from(i) % 4]),
            detail: (i % 3 == 0).then(|| format!("detail {i} — ünïcode")),
        };
        store.append_audit(event.clone()).await?;
        appended.push(event);
        if i == 2 {
            store
                .append_audit(NewAuditEvent {
                    at: at(100),
                    subject: Some(bob.clone()),
                    actor: Actor::Subject(bob.clone()),
                    action: AuditAction::VerifyFailed,
                    factor: Some(FactorKind::Sms),
                    detail: None,
                })
                .await?;
        }
        if i == 4 {
            store
                .append_audit(NewAuditEvent {
                    at: at(101),
                    subject: None,
                    actor: Actor::Admin(admin.clone()),
                    action: AuditAction::PolicyUpdated,
                    factor: None,
                    detail: None,
                })
                .await?;
        }
    }

    let mine = store
        .list_audit(&AuditQuery::latest(AuditQuery::MAX_LIMIT).for_subject(alice.clone()))
        .await?;
    let mut expected = appended.clone();
    expected.reverse();
    assert_eq!(
        mine.iter().map(|e| e.event.clone()).collect::<Vec<_>>(),
        expected,
        "the subject's events, unchanged, newest first"
    );
    assert!(
        mine.windows(2).all(|w| w[0].id > w[1].id),
        "ids increase in append order"
    );
    assert!(mine.iter().all(|e| e.id > 0));

    // Pages of 3 via `before`: 3 + 3 + 1, then nothing.
    let mut paged = Vec::new();
    let mut sizes = Vec::new();
    let mut query = AuditQuery::latest(3).for_subject(alice.clone());
    loop {
        let page = store.list_audit(&query).await?;
        if let (Some(before), Some(first)) = (query.before, page.first()) {
            assert!(first.id < before, "a page starts strictly before `before`");
        }
        let Some(last) = page.last() else { break };
        assert!(sizes.len() < 10, "paging does not end");
        query = query.clone().before(last.id);
        sizes.push(page.len());
        paged.extend(page);
    }
    assert_eq!(sizes, vec![3, 3, 1]);
    assert_eq!(paged, mine, "pages have no gaps or duplicates");

    assert_eq!(
        store
            .list_audit(&AuditQuery::latest(2).for_subject(alice.clone()))
            .await?,
        mine[..2].to_vec(),
        "at most `limit`"
    );
    let bobs = store
        .list_audit(&AuditQuery::latest(10).for_subject(bob.clone()))
        .await?;
    assert_eq!(bobs.len(), 1, "the subject filter");
    assert_eq!(bobs[0].event.action, AuditAction::VerifyFailed);

    // Everyone's events up to Alice's newest: hers, Bob's and the policy
    // change, interleaved by id. (Other cases sharing the store may add
    // events in between; only the relative order is checked.)
    let newest = mine[0].id;
    let oldest = mine[6].id;
    let all = store
        .list_audit(&AuditQuery::latest(AuditQuery::MAX_LIMIT).before(newest + 1))
        .await?;
    assert_eq!(all.first().map(|e| e.id), Some(newest));
    assert!(all.windows(2).all(|w| w[0].id > w[1].id));
    let ours: Vec<_> = all
        .iter()
        .filter(|e| e.id >= oldest)
        .filter(|e| {
            e.event.subject.as_ref() == Some(&alice)
                || e.event.subject.as_ref() == Some(&bob)
                || e.event.actor == Actor::Admin(admin.clone())
        })
        .map(|e| e.event.action)
        .collect();
    let a = |i: usize| AuditAction::ALL[i];
    assert_eq!(
        ours,
        vec![
            a(6),
            a(5),
            AuditAction::PolicyUpdated,
            a(4),
            a(3),
            AuditAction::VerifyFailed,
            a(2),
            a(1),
            a(0)
        ],
        "events of all subjects (and none) are listed without a subject filter"
    );
    assert!(
        store
            .list_audit(
                &AuditQuery::latest(10)
                    .for_subject(alice.clone())
                    .before(oldest)
            )
            .await?
            .is_empty()
    );
    Ok(())
}

// ----- key rotation -------------------------------------------------------

/// `sealed_secrets` returns active and pending secrets ordered by
/// credential id, strictly after `after`, at most `limit` per page.
pub async fn sealed_secrets_pages_by_credential_id<S: Store>(store: &S) -> Result<()> {
    let alice = fresh_subject()?;
    let bob = fresh_subject()?;
    let mut mine = Vec::new(); // (id, subject, sealed)
    for (subject, at_) in [(&alice, at(0)), (&alice, at(1)), (&bob, at(2))] {
        let c = active(store, subject, "app", 1, at_).await?;
        mine.push((c.id, c.subject, c.sealed_secret));
    }
    for subject in [&alice, &bob] {
        let p = pending(subject, at(3), 600)?;
        store.put_pending_totp(p.clone()).await?;
        mine.push((p.id, p.subject, p.sealed_secret));
    }
    mine.sort_by(|a, b| a.0.cmp(&b.0));

    // Every page, from the start. (A shared store may hold other entries.)
    let mut all = Vec::new();
    let mut after: Option<CredentialId> = None;
    loop {
        let page = store.sealed_secrets(after.as_ref(), 2).await?;
        assert!(page.len() <= 2, "at most `limit`");
        if let (Some(after), Some(first)) = (&after, page.first()) {
            assert!(
                first.credential > *after,
                "a page starts strictly after `after`"
            );
        }
        let Some(last) = page.last() else { break };
        after = Some(last.credential.clone());
        all.extend(page);
    }
    assert!(
        all.windows(2).all(|w| w[0].credential < w[1].credential),
        "ordered by credential id, no duplicates across pages"
    );
    let found: Vec<_> = all
        .iter()
        .filter(|e| mine.iter().any(|m| m.0 == e.credential))
        .map(|e| (e.credential.clone(), e.subject.clone(), e.sealed.clone()))
        .collect();
    assert_eq!(found, mine, "active and pending secrets, each once");

    let from = &mine[2].0;
    let rest = store.sealed_secrets(Some(from), u32::MAX).await?;
    assert!(
        rest.iter().all(|e| e.credential > *from),
        "strictly after `after`"
    );
    let rest_ids: Vec<_> = rest
        .iter()
        .map(|e| &e.credential)
        .filter(|id| mine.iter().any(|m| m.0 == **id))
        .collect();
    assert_eq!(rest_ids, vec![&mine[3].0, &mine[4].0]);
    assert_eq!(store.sealed_secrets(None, 1).await?.len(), 1);
    assert!(store.sealed_secrets(None, 0).await?.is_empty());
    Ok(())
}

/// `replace_sealed` swaps the sealed secret of an authenticator or a
/// pending enrollment only while it still equals `expected`, and changes
/// nothing else.
pub async fn replace_sealed_compare_and_set<S: Store>(store: &S) -> Result<()> {
    let alice = fresh_subject()?;
    let bob = fresh_subject()?;
    let cred = active(store, &alice, "phone", 3, at(0)).await?;
    let (new1, new2) = (fresh_sealed()?, fresh_sealed()?);
    assert!(
        !store
            .replace_sealed(&cred.id, &fresh_sealed()?, &new1)
            .await?,
        "a wrong `expected` is refused"
    );
    assert_eq!(store.list_totp(&alice).await?, vec![cred.clone()]);
    assert!(
        store
            .replace_sealed(&cred.id, &cred.sealed_secret, &new1)
            .await?
    );
    let resealed = TotpCredential {
        sealed_secret: new1.clone(),
        ..cred.clone()
    };
    assert_eq!(store.list_totp(&alice).await?, vec![resealed.clone()]);
    assert!(
        !store
            .replace_sealed(&cred.id, &cred.sealed_secret, &new2)
            .await?,
        "the old value no longer matches"
    );
    assert_eq!(store.list_totp(&alice).await?, vec![resealed]);

    let p = pending(&bob, at(0), 600)?;
    store.put_pending_totp(p.clone()).await?;
    assert!(!store.replace_sealed(&p.id, &new1, &new2).await?);
    assert_eq!(
        store.pending_totp(&bob, &p.id, at(1)).await?,
        Some(p.clone())
    );
    assert!(store.replace_sealed(&p.id, &p.sealed_secret, &new2).await?);
    let resealed = PendingTotp {
        sealed_secret: new2.clone(),
        ..p.clone()
    };
    assert_eq!(
        store.pending_totp(&bob, &p.id, at(1)).await?,
        Some(resealed)
    );
    let activated = store
        .activate_totp(&bob, &p.id, activation("bob's", 1, 0, at(2)))
        .await?;
    assert_eq!(
        activated.map(|c| c.sealed_secret),
        Some(new2.clone()),
        "activation carries the re-sealed secret"
    );
    assert!(
        !store
            .replace_sealed(&CredentialId::generate()?, &new2, &new1)
            .await?,
        "unknown id"
    );
    Ok(())
}

// ----- concurrency --------------------------------------------------------

/// Racing `consume_totp_step` with the same step: exactly one wins.
pub async fn concurrent_totp_step_single_winner<S: Store>(store: Arc<S>) -> Result<()> {
    for _ in 0..ROUNDS {
        concurrent_totp_step_single_winner_round(&store).await?;
    }
    Ok(())
}

async fn concurrent_totp_step_single_winner_round<S: Store>(store: &Arc<S>) -> Result<()> {
    let alice = fresh_subject()?;
    let cred = active(&**store, &alice, "phone", 10, at(0)).await?;
    let wins = race(store, |store, i| {
        let (alice, id) = (alice.clone(), cred.id.clone());
        async move {
            let drift = i16::try_from(i).unwrap_or(0);
            store
                .consume_totp_step(&alice, &id, 11, drift, at(30))
                .await
        }
    })
    .await?;
    assert_eq!(
        wins.iter().filter(|w| **w).count(),
        1,
        "exactly one of {TASKS} concurrent uses of a step succeeds"
    );
    let list = store.list_totp(&alice).await?;
    assert_eq!(list.first().and_then(|c| c.last_step), Some(11));
    let winner = wins
        .iter()
        .position(|w| *w)
        .and_then(|i| i16::try_from(i).ok());
    assert_eq!(
        list.first().map(|c| c.drift),
        winner,
        "the winner's drift is stored"
    );
    Ok(())
}

/// Racing `accept_totp_step` with the same step: exactly one wins, and
/// exactly one audit event is appended.
pub async fn concurrent_accept_totp_step_single_winner<S: Store>(store: Arc<S>) -> Result<()> {
    for _ in 0..ROUNDS {
        let alice = fresh_subject()?;
        let cred = active(&*store, &alice, "phone", 10, at(0)).await?;
        let wins = race(&store, |store, _| {
            let (alice, id) = (alice.clone(), cred.id.clone());
            async move {
                let audit = success_event(&alice, at(30));
                store
                    .accept_totp_step(&alice, &id, 11, 0, ThrottleRule::default(), at(30), audit)
                    .await
            }
        })
        .await?;
        assert_eq!(
            wins.iter().filter(|w| **w).count(),
            1,
            "exactly one of {TASKS} concurrent sign-ins with one step succeeds"
        );
        let events = store
            .list_audit(&AuditQuery::latest(100).for_subject(alice.clone()))
            .await?;
        assert_eq!(events.len(), 1, "exactly one success is audited");
    }
    Ok(())
}

/// Racing `consume_recovery_code` with the same code: exactly one wins.
pub async fn concurrent_recovery_code_single_winner<S: Store>(store: Arc<S>) -> Result<()> {
    for _ in 0..ROUNDS {
        concurrent_recovery_code_single_winner_round(&store).await?;
    }
    Ok(())
}

async fn concurrent_recovery_code_single_winner_round<S: Store>(store: &Arc<S>) -> Result<()> {
    let alice = fresh_subject()?;
    let codes = hashes(3)?;
    store
        .replace_recovery_codes(&alice, codes.clone(), ReplaceCodes::Always, at(0))
        .await?;
    let target = codes[1];
    let wins = race(store, |store, _| {
        let alice = alice.clone();
        async move { store.consume_recovery_code(&alice, &target, at(1)).await }
    })
    .await?;
    assert_eq!(
        wins.iter().filter(|w| **w).count(),
        1,
        "exactly one of {TASKS} concurrent uses of a recovery code succeeds"
    );
    assert_eq!(store.recovery_codes_left(&alice).await?, 2);
    Ok(())
}

/// Racing `attempt_sent_code` with the right code: exactly one is
/// `Accepted`.
pub async fn concurrent_sent_code_single_winner<S: Store>(store: Arc<S>) -> Result<()> {
    for _ in 0..ROUNDS {
        concurrent_sent_code_single_winner_round(&store).await?;
    }
    Ok(())
}

async fn concurrent_sent_code_single_winner_round<S: Store>(store: &Arc<S>) -> Result<()> {
    let alice = fresh_subject()?;
    let code = fresh_hash()?;
    store
        .issue_sent_code(sent(&alice, Channel::Sms, code, at(0), 300), limits(60, 10))
        .await?;
    let results = race(store, |store, _| {
        let alice = alice.clone();
        async move {
            store
                .attempt_sent_code(&alice, Channel::Sms, &code, 5, at(1))
                .await
        }
    })
    .await?;
    let accepted = results
        .iter()
        .filter(|r| **r == SentCodeAttempt::Accepted)
        .count();
    assert_eq!(
        accepted, 1,
        "exactly one of {TASKS} concurrent tries of a sent code succeeds: {results:?}"
    );
    assert!(
        results
            .iter()
            .all(|r| matches!(r, SentCodeAttempt::Accepted | SentCodeAttempt::NoActiveCode)),
        "the others find no active code: {results:?}"
    );
    Ok(())
}

/// Racing `activate_totp` on one pending enrollment: exactly one `Some`,
/// and exactly one authenticator results.
pub async fn concurrent_activation_single_winner<S: Store>(store: Arc<S>) -> Result<()> {
    for _ in 0..ROUNDS {
        concurrent_activation_single_winner_round(&store).await?;
    }
    Ok(())
}

async fn concurrent_activation_single_winner_round<S: Store>(store: &Arc<S>) -> Result<()> {
    let alice = fresh_subject()?;
    let p = pending(&alice, at(0), 600)?;
    store.put_pending_totp(p.clone()).await?;
    let results = race(store, |store, i| {
        let (alice, id) = (alice.clone(), p.id.clone());
        async move {
            store
                .activate_totp(&alice, &id, activation(&format!("phone {i}"), 7, 0, at(1)))
                .await
        }
    })
    .await?;
    let winners: Vec<_> = results.into_iter().flatten().collect();
    assert_eq!(
        winners.len(),
        1,
        "exactly one of {TASKS} concurrent activations succeeds"
    );
    assert_eq!(store.list_totp(&alice).await?, winners);
    Ok(())
}

/// Racing `replace_recovery_codes(IfNone)`: exactly one succeeds, and its
/// set is the one stored.
pub async fn concurrent_replace_recovery_if_none_single_winner<S: Store>(
    store: Arc<S>,
) -> Result<()> {
    for _ in 0..ROUNDS {
        concurrent_replace_recovery_if_none_single_winner_round(&store).await?;
    }
    Ok(())
}

async fn concurrent_replace_recovery_if_none_single_winner_round<S: Store>(
    store: &Arc<S>,
) -> Result<()> {
    let alice = fresh_subject()?;
    let sets: Vec<Vec<CodeHash>> = (0..TASKS).map(|_| hashes(3)).collect::<Result<_>>()?;
    let sets = Arc::new(sets);
    let wins = race(store, |store, i| {
        let (alice, sets) = (alice.clone(), Arc::clone(&sets));
        async move {
            let set = sets.get(i).cloned().unwrap_or_default();
            store
                .replace_recovery_codes(&alice, set, ReplaceCodes::IfNone, at(0))
                .await
        }
    })
    .await?;
    assert_eq!(
        wins.iter().filter(|w| **w).count(),
        1,
        "exactly one of {TASKS} concurrent IfNone replacements succeeds"
    );
    assert_eq!(store.recovery_codes_left(&alice).await?, 3);
    let winner = wins.iter().position(|w| *w).unwrap_or(0);
    let loser = (winner + 1) % TASKS;
    assert!(
        !store
            .consume_recovery_code(&alice, &sets[loser][0], at(1))
            .await?
    );
    for code in &sets[winner] {
        assert!(
            store.consume_recovery_code(&alice, code, at(1)).await?,
            "the winner's set is stored"
        );
    }
    Ok(())
}

/// Racing `fix_grace` with different records: all get the same record
/// back, which is the one stored.
pub async fn concurrent_fix_grace_same_record<S: Store>(store: Arc<S>) -> Result<()> {
    for _ in 0..ROUNDS {
        concurrent_fix_grace_same_record_round(&store).await?;
    }
    Ok(())
}

async fn concurrent_fix_grace_same_record_round<S: Store>(store: &Arc<S>) -> Result<()> {
    let alice = fresh_subject()?;
    let records = race(store, |store, i| {
        let alice = alice.clone();
        async move {
            let i = u64::try_from(i).unwrap_or(0);
            let record = GraceRecord {
                fixed_at: at(i),
                deadline: at(86_400 + i),
            };
            store.fix_grace(&alice, record).await
        }
    })
    .await?;
    let first = records[0];
    assert!(
        records.iter().all(|r| *r == first),
        "all {TASKS} concurrent calls return the same record: {records:?}"
    );
    assert_eq!(first.deadline, first.fixed_at.plus(secs(86_400)));
    assert_eq!(store.grace(&alice).await?, Some(first));
    Ok(())
}

/// Racing `issue_sent_code` at one instant with `max_per_hour = 10` and no
/// cooldown: exactly 10 are issued, and the active code is one of them.
pub async fn concurrent_issue_sent_code_respects_hourly_cap<S: Store>(store: Arc<S>) -> Result<()> {
    for _ in 0..ROUNDS {
        concurrent_issue_sent_code_respects_hourly_cap_round(&store).await?;
    }
    Ok(())
}

async fn concurrent_issue_sent_code_respects_hourly_cap_round<S: Store>(
    store: &Arc<S>,
) -> Result<()> {
    let alice = fresh_subject()?;
    let codes = Arc::new(hashes(TASKS)?);
    let lim = limits(0, 10);
    let outcomes = race(store, |store, i| {
        let (alice, codes) = (alice.clone(), Arc::clone(&codes));
        async move {
            let code = codes
                .get(i)
                .copied()
                .unwrap_or(CodeHash::from_bytes([0; 32]));
            store
                .issue_sent_code(sent(&alice, Channel::Email, code, at(0), 300), lim)
                .await
        }
    })
    .await?;
    let issued: Vec<usize> = (0..TASKS)
        .filter(|i| outcomes[*i] == IssueOutcome::Issued)
        .collect();
    assert_eq!(
        issued.len(),
        10,
        "{TASKS} concurrent sends with a cap of 10 issue exactly 10: {outcomes:?}"
    );
    assert!(
        outcomes
            .iter()
            .all(|o| *o == IssueOutcome::Issued || *o == too_soon(at(3600))),
        "the rest retry when the hour is over: {outcomes:?}"
    );
    // Exactly one code is active, and it is one that was issued.
    let mut accepted = Vec::new();
    for (i, code) in codes.iter().enumerate() {
        let result = store
            .attempt_sent_code(&alice, Channel::Email, code, 100, at(1))
            .await?;
        if result == SentCodeAttempt::Accepted {
            accepted.push(i);
        }
    }
    assert_eq!(accepted.len(), 1, "one active code");
    assert!(issued.contains(&accepted[0]), "the active code was issued");
    Ok(())
}
