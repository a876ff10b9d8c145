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

mod audit;
mod channels;
mod concurrent;
mod devices;
mod keys;
mod policy;
mod recovery;
mod reset;
mod sent;
mod throttle;
mod totp;

pub use audit::*;
pub use channels::*;
pub use concurrent::*;
pub use devices::*;
pub use keys::*;
pub use policy::*;
pub use recovery::*;
pub use reset::*;
pub use sent::*;
pub use throttle::*;

crate::__store_conformance_list! { __store_conformance_names! {} }
pub use totp::*;

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
    burst(store, TASKS, op).await
}

/// Starts `n` copies of `op(store, index)` together (released by one
/// barrier); their results in index order.
async fn burst<S, T, F, Fut>(store: &Arc<S>, n: usize, op: F) -> Result<Vec<T>>
where
    S: Store,
    T: Send + 'static,
    F: Fn(Arc<S>, usize) -> Fut,
    Fut: Future<Output = Result<T>> + Send + 'static,
{
    let barrier = Arc::new(Barrier::new(n));
    let handles: Vec<_> = (0..n)
        .map(|index| {
            let task = op(Arc::clone(store), index);
            let barrier = Arc::clone(&barrier);
            tokio::spawn(async move {
                barrier.wait().await;
                task.await
            })
        })
        .collect();
    let mut results = Vec::with_capacity(n);
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    /// The suite's sources, for the check below.
    const SOURCES: &[&str] = &[
        include_str!("audit.rs"),
        include_str!("channels.rs"),
        include_str!("concurrent.rs"),
        include_str!("devices.rs"),
        include_str!("keys.rs"),
        include_str!("mod.rs"),
        include_str!("policy.rs"),
        include_str!("recovery.rs"),
        include_str!("reset.rs"),
        include_str!("sent.rs"),
        include_str!("throttle.rs"),
        include_str!("totp.rs"),
    ];

    /// Every `pub async fn` case in the sources: (name, takes `Arc<S>`).
    fn public_cases() -> BTreeSet<(String, bool)> {
        let mut found = BTreeSet::new();
        for source in SOURCES {
            // Items at the start of a line (not this test's own text).
            for (_, rest) in source
                .match_indices("\npub async fn ")
                .map(|(i, _)| source.split_at(i + 14))
            {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                let params = rest
                    .split_once('(')
                    .and_then(|(_, p)| p.split_once(')'))
                    .map_or("", |(p, _)| p);
                found.insert((name, params.contains("Arc<S>")));
            }
        }
        found
    }

    #[test]
    fn the_case_list_names_every_public_case_once() {
        let listed: BTreeSet<(String, bool)> = super::CASES
            .iter()
            .map(|c| ((*c).to_owned(), false))
            .chain(super::SHARED_CASES.iter().map(|c| ((*c).to_owned(), true)))
            .collect();
        assert_eq!(
            listed.len(),
            super::CASES.len() + super::SHARED_CASES.len(),
            "a case is listed twice"
        );
        assert_eq!(
            listed,
            public_cases(),
            "the macro's case list and the suite's public case functions differ"
        );
    }

    #[test]
    fn the_check_sees_the_cases() {
        let cases = public_cases();
        assert!(cases.len() > 40, "{cases:?}");
        assert!(cases.contains(&("concurrent_charges_stop_at_the_lock".to_owned(), true)));
        assert!(cases.contains(&(
            "reset_subject_removes_exactly_its_records".to_owned(),
            false
        )));
    }
}
