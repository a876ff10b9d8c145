//! The service under attack, through its public API on a [`MemoryStore`]:
//! bursts of 64 guesses released together by a barrier on a
//! multi-threaded runtime (several rounds, a fresh subject each), guessing
//! over an hour, blocking after 100 failures, notices and audit rows while
//! locked, drift, concurrent removal of the last factors, channels bound to
//! the verified address, step-up at confirmation, mixed code lengths and
//! double-submitted codes.
//!
//! The service reaches the memory store through a wrapper that yields
//! before every call, as a database round trip would, so that the tasks of
//! a burst interleave between the service's store calls too.
//!
//! "Evaluated" means a code was compared with a secret: every evaluated
//! wrong code leaves exactly one `VerifyFailed` audit event, so that is
//! what the tests count.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use core::future::Future;
use core::time::Duration;
use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use mfa_core::audit::{AuditAction, AuditEvent, AuditQuery};
use mfa_core::notify::NoticeKind;
use mfa_core::otp::{Algorithm, Digits, Totp, TotpConfig};
use mfa_core::policy::{Decision, MethodSet, Policy, RolePolicy, SessionState};
use mfa_core::seal::{Sealer, SealingKey};
use mfa_core::service::{Attempt, Confirmation, DriftTolerance, SendOutcome, Verification};
use mfa_core::store::{Activation, PendingTotp, Store, TotpCredential};
use mfa_core::testing::{Hook, Hooked, ManualClock, RecordingNotifier};
use mfa_core::throttle::ThrottleState;
use mfa_core::{
    Channel, Clock, CodeProblem, CredentialId, Error, FactorKind, MemoryStore, Mfa, MfaConfig,
    Pepper, PolicyProblem, PreconditionProblem, Result, Role, Secret, Subject, SubjectId,
    Timestamp,
};
use tokio::sync::Barrier;

const START: u64 = 1_800_000_000;
/// Tasks per burst.
const BURST: usize = 64;
/// Rounds per race, each with a fresh subject.
const ROUNDS: usize = 6;
/// Evaluations the default throttle allows before the first lock.
const FREE: usize = 5;

type Service = Mfa<Yielding, RecordingNotifier, ManualClock>;

/// Yields to the scheduler before every store call, as a round trip to a
/// database would. Without it the service's store calls run back to back
/// and the tasks of a burst hardly interleave between them (between
/// reading an authenticator and consuming its step, say). Each call is
/// still the memory store's, atomic as the contract says.
#[derive(Debug, Clone, Copy)]
struct Yield;

impl Hook for Yield {
    async fn before(&self) -> Result<()> {
        tokio::task::yield_now().await;
        Ok(())
    }
}

type Yielding = Hooked<MemoryStore, Yield>;

/// `store`, yielding before every call.
fn yielding(store: MemoryStore) -> Yielding {
    Hooked { store, hook: Yield }
}

struct World {
    mfa: Arc<Service>,
    clock: ManualClock,
    notifier: RecordingNotifier,
    store: MemoryStore,
}

fn config() -> MfaConfig {
    MfaConfig::new(
        "Service Desk",
        Pepper::new(&[0x5a; 32]).unwrap(),
        Sealer::new(vec![SealingKey::new(1, [1; 32])]).unwrap(),
    )
}

fn world() -> World {
    world_with(config())
}

fn world_with(config: MfaConfig) -> World {
    let store = MemoryStore::new();
    let clock = ManualClock::new(Timestamp::from_unix(START));
    let notifier = RecordingNotifier::new();
    World {
        mfa: Arc::new(Mfa::new(
            yielding(store.clone()),
            notifier.clone(),
            clock.clone(),
            config,
        )),
        clock,
        notifier,
        store,
    }
}

fn agent(id: &str) -> Subject {
    Subject::new(SubjectId::new(id).unwrap(), [Role::AGENT]).with_email(format!("{id}@example.com"))
}

fn admin() -> SubjectId {
    SubjectId::new("admin-1").unwrap()
}

/// An active authenticator as the phone knows it.
struct App {
    id: CredentialId,
    totp: Totp,
    recovery: Vec<String>,
}

impl App {
    fn code_at(&self, at: Timestamp) -> String {
        self.totp
            .generate_at(at.unix())
            .unwrap()
            .expose()
            .to_string()
    }
}

/// `n` distinct codes of `totp`'s length, none of them the code of any step
/// within 12 of the one at `at` (so wrong under any window the service
/// uses).
fn wrong_codes(totp: &Totp, at: Timestamp, n: usize) -> Vec<String> {
    let digits = totp.config().digits().get();
    let current = totp.step_at(at.unix()).unwrap();
    let near: HashSet<String> = (current - 12..=current + 12)
        .map(|step| totp.generate_step(step).expose().to_string())
        .collect();
    wrong_except(&near, digits, n)
}

/// `n` distinct codes of `digits` digits, none in `avoid`.
fn wrong_except(avoid: &HashSet<String>, digits: u8, n: usize) -> Vec<String> {
    let modulus = 10u64.pow(u32::from(digits));
    (0u64..)
        .map(|i| {
            format!(
                "{:0width$}",
                (i * 7_919 + 13) % modulus,
                width = usize::from(digits)
            )
        })
        .filter(|code| !avoid.contains(code))
        .take(n)
        .collect()
}

/// Runs `make(i)` for `i` in `0..tasks`, each in its own task, all released
/// together by a barrier; returns the outputs in task order.
async fn race<T, F, Fut>(tasks: usize, make: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
{
    let barrier = Arc::new(Barrier::new(tasks));
    let handles: Vec<_> = (0..tasks)
        .map(|i| {
            let barrier = Arc::clone(&barrier);
            let work = make(i);
            tokio::spawn(async move {
                barrier.wait().await;
                work.await
            })
        })
        .collect();
    let mut outputs = Vec::with_capacity(tasks);
    for handle in handles {
        outputs.push(handle.await.unwrap());
    }
    outputs
}

/// How a burst was answered.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Tally {
    accepted: usize,
    rejected: usize,
    locked: usize,
    blocked: usize,
}

impl Tally {
    fn of(answers: &[Verification]) -> Self {
        let mut tally = Self::default();
        for answer in answers {
            match answer {
                Verification::Accepted { .. } => tally.accepted += 1,
                Verification::Rejected => tally.rejected += 1,
                Verification::Locked { .. } => tally.locked += 1,
                Verification::Blocked => tally.blocked += 1,
            }
        }
        tally
    }

    fn of_confirmations(answers: &[Confirmation]) -> Self {
        let mut tally = Self::default();
        for answer in answers {
            match answer {
                Confirmation::Enrolled { .. } => tally.accepted += 1,
                Confirmation::Rejected => tally.rejected += 1,
                Confirmation::Locked { .. } => tally.locked += 1,
                Confirmation::Blocked => tally.blocked += 1,
            }
        }
        tally
    }
}

fn count(events: &[AuditEvent], action: AuditAction, factor: FactorKind) -> usize {
    events
        .iter()
        .filter(|e| e.event.action == action && e.event.factor == Some(factor))
        .count()
}

impl World {
    fn now(&self) -> Timestamp {
        self.clock.now()
    }

    fn verified(&self) -> SessionState {
        SessionState {
            verified_at: Some(self.now()),
            device_remembered: false,
        }
    }

    fn next_step(&self) {
        self.clock.advance(Duration::from_secs(30));
    }

    /// Enrolls an authenticator app through `mfa` (which may differ from
    /// the world's in its TOTP parameters).
    async fn enroll_app_on(&self, mfa: &Service, subject: &Subject) -> App {
        let enrollment = mfa
            .start_totp_enrollment(subject, &self.verified())
            .await
            .unwrap();
        let totp = Totp::new(
            &Secret::from_base32(&enrollment.key).unwrap(),
            &enrollment.config,
        );
        let code = totp
            .generate_at(self.now().unix())
            .unwrap()
            .expose()
            .to_string();
        match mfa
            .confirm_totp_enrollment(
                subject,
                &enrollment.id,
                &code,
                "Phone",
                DriftTolerance::Standard,
            )
            .await
            .unwrap()
        {
            Confirmation::Enrolled { recovery_codes, .. } => App {
                id: enrollment.id,
                totp,
                recovery: recovery_codes
                    .map(|codes| codes.iter().map(|c| c.expose().to_owned()).collect())
                    .unwrap_or_default(),
            },
            other => panic!("enrollment not confirmed: {other:?}"),
        }
    }

    /// Enrolls an authenticator app and moves to the next step, so the
    /// phone shows a fresh code.
    async fn enroll_app(&self, subject: &Subject) -> App {
        let app = self.enroll_app_on(&self.mfa, subject).await;
        self.next_step();
        app
    }

    /// Registers e-mail as a factor with the code sent to the subject's
    /// address; `session` must allow it.
    async fn enroll_email(&self, subject: &Subject, session: &SessionState) {
        let sent = self
            .mfa
            .start_channel_enrollment(subject, Channel::Email, session)
            .await
            .unwrap();
        assert!(matches!(sent, SendOutcome::Sent { .. }), "{sent:?}");
        let code = self
            .notifier
            .last_code(&subject.id, Channel::Email)
            .unwrap();
        let confirmed = self
            .mfa
            .confirm_channel_enrollment(subject, Channel::Email, &code)
            .await
            .unwrap();
        assert!(
            matches!(confirmed, Confirmation::Enrolled { .. }),
            "{confirmed:?}"
        );
    }

    async fn throttle(&self, subject: &SubjectId, kind: FactorKind) -> ThrottleState {
        self.store.throttle_state(subject, kind).await.unwrap()
    }

    /// The subject's only authenticator, as stored.
    async fn credential(&self, subject: &SubjectId) -> TotpCredential {
        let mut list = self.store.list_totp(subject).await.unwrap();
        assert_eq!(list.len(), 1);
        list.remove(0)
    }

    /// Every audit event about `subject`, newest first.
    async fn audit_of(&self, subject: &SubjectId) -> Vec<AuditEvent> {
        let mut all = Vec::new();
        let mut query = AuditQuery::latest(AuditQuery::MAX_LIMIT).for_subject(subject.clone());
        loop {
            let page = self.mfa.audit_events(&query).await.unwrap();
            let Some(last) = page.last() else { break };
            query = query.clone().before(last.id);
            let full = page.len() == AuditQuery::MAX_LIMIT as usize;
            all.extend(page);
            if !full {
                break;
            }
        }
        all
    }

    async fn failed(&self, subject: &SubjectId, kind: FactorKind) -> usize {
        count(
            &self.audit_of(subject).await,
            AuditAction::VerifyFailed,
            kind,
        )
    }

    fn locked_out_notices(&self, subject: &SubjectId) -> usize {
        self.notifier
            .notices_for(subject)
            .iter()
            .filter(|n| matches!(n, NoticeKind::LockedOut { .. }))
            .count()
    }

    /// One verification per code, all released together.
    async fn burst(&self, subject: &Subject, codes: Vec<String>) -> Vec<Verification> {
        let codes = Arc::new(codes);
        race(codes.len(), |i| {
            let (mfa, subject, codes) = (Arc::clone(&self.mfa), subject.clone(), codes.clone());
            async move {
                mfa.verify(&subject, Attempt::Totp(&codes[i]))
                    .await
                    .unwrap()
            }
        })
        .await
    }

    async fn verify_totp(&self, subject: &Subject, code: &str) -> Verification {
        self.mfa.verify(subject, Attempt::Totp(code)).await.unwrap()
    }
}

// ----- 1. a burst of wrong codes ------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_of_wrong_codes_gets_five_evaluations_then_even_the_right_code_is_locked() {
    let w = world();
    for round in 0..ROUNDS {
        let subject = agent(&format!("burst-{round}"));
        let app = w.enroll_app(&subject).await;
        let answers = w
            .burst(&subject, wrong_codes(&app.totp, w.now(), BURST))
            .await;
        let tally = Tally::of(&answers);
        let failed = w.failed(&subject.id, FactorKind::Totp).await;
        let state = w.throttle(&subject.id, FactorKind::Totp).await;
        assert_eq!(failed, FREE, "round {round}: {tally:?}");
        assert_eq!(state.failures as usize, failed, "round {round}");
        // The four before the lock are rejected, the fifth answers with the
        // lock it set, and the rest were refused unseen.
        assert_eq!(
            tally,
            Tally {
                accepted: 0,
                rejected: FREE - 1,
                locked: BURST - FREE + 1,
                blocked: 0,
            },
            "round {round}"
        );
        assert_eq!(w.locked_out_notices(&subject.id), 1, "round {round}");
        // The owner's code at the same moment is not even looked at.
        let right = app.code_at(w.now());
        assert!(matches!(
            w.verify_totp(&subject, &right).await,
            Verification::Locked { until } if until > w.now()
        ));
        assert_eq!(w.failed(&subject.id, FactorKind::Totp).await, FREE);
        w.next_step();
    }
}

// ----- 2. an hour of bursts -------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_hour_of_bursts_every_thirty_seconds_gets_at_most_ten_evaluations() {
    let w = world();
    for round in 0..3 {
        let subject = agent(&format!("hour-{round}"));
        let app = w.enroll_app(&subject).await;
        let start = w.now();
        let mut answered = Tally::default();
        while w.now().since(start) < Duration::from_secs(3600) {
            let tally = Tally::of(
                &w.burst(&subject, wrong_codes(&app.totp, w.now(), BURST))
                    .await,
            );
            answered.accepted += tally.accepted;
            answered.rejected += tally.rejected;
            answered.locked += tally.locked;
            answered.blocked += tally.blocked;
            w.clock.advance(Duration::from_secs(30));
        }
        let failed = w.failed(&subject.id, FactorKind::Totp).await;
        assert!(failed <= 10, "round {round}: {failed} evaluated in an hour");
        assert_eq!(
            failed,
            w.throttle(&subject.id, FactorKind::Totp).await.failures as usize
        );
        assert_eq!(answered.accepted + answered.blocked, 0, "{answered:?}");
        assert_eq!(answered.rejected + answered.locked, 120 * BURST);
    }
}

// ----- 3. a right code inside a wrong burst -------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_right_code_inside_a_burst_does_not_reset_the_budget() {
    let w = world();
    for round in 0..2 * ROUNDS {
        let subject = agent(&format!("mixed-{round}"));
        let app = w.enroll_app(&subject).await;
        // One right code, or eight copies of it, among the wrong ones.
        let copies = if round % 2 == 0 { 1 } else { 8 };
        let mut codes = wrong_codes(&app.totp, w.now(), BURST - copies);
        let right = app.code_at(w.now());
        for k in 0..copies {
            codes.insert((round * 13 + k * 7) % codes.len(), right.clone());
        }
        let tally = Tally::of(&w.burst(&subject, codes).await);
        let failed = w.failed(&subject.id, FactorKind::Totp).await;
        let state = w.throttle(&subject.id, FactorKind::Totp).await;
        assert!(
            failed <= FREE,
            "round {round}: {failed} evaluated, {tally:?}"
        );
        // Every evaluated wrong code is still counted: the success gave
        // back only its own charge.
        assert_eq!(state.failures as usize, failed, "round {round}");
        assert!(tally.accepted <= 1, "round {round}: {tally:?}");
        w.next_step();
    }

    // The same sequentially: three wrong, the right one, then a burst. The
    // success does not give the guesser a fresh budget.
    let subject = agent("mixed-sequential");
    let app = w.enroll_app(&subject).await;
    for code in wrong_codes(&app.totp, w.now(), 3) {
        assert_eq!(w.verify_totp(&subject, &code).await, Verification::Rejected);
    }
    assert!(matches!(
        w.verify_totp(&subject, &app.code_at(w.now())).await,
        Verification::Accepted { .. }
    ));
    let tally = Tally::of(
        &w.burst(&subject, wrong_codes(&app.totp, w.now(), BURST))
            .await,
    );
    assert_eq!(w.failed(&subject.id, FactorKind::Totp).await, FREE);
    assert_eq!(tally.rejected, 1, "{tally:?}");
}

// ----- 4. a burst of the right code ---------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_of_the_owners_code_is_accepted_once_and_leaves_no_failure() {
    let w = world();
    for round in 0..ROUNDS {
        let subject = agent(&format!("owner-{round}"));
        let app = w.enroll_app(&subject).await;
        let right = app.code_at(w.now());
        let tally = Tally::of(&w.burst(&subject, vec![right; BURST]).await);
        assert_eq!(tally.accepted, 1, "round {round}: {tally:?}");
        assert_eq!(tally.blocked, 0, "round {round}: {tally:?}");
        assert_eq!(w.failed(&subject.id, FactorKind::Totp).await, 0);
        let state = w.throttle(&subject.id, FactorKind::Totp).await;
        assert_eq!(state.failures, 0, "round {round}: {state:?}");
        assert_eq!(state.locked_at(w.now()), None, "round {round}: {state:?}");
        assert_eq!(w.locked_out_notices(&subject.id), 0, "round {round}");
        // The owner is not locked out: the next step's code works.
        w.next_step();
        assert!(
            matches!(
                w.verify_totp(&subject, &app.code_at(w.now())).await,
                Verification::Accepted { .. }
            ),
            "round {round}"
        );
        w.next_step();
    }
}

// ----- 5. every verify path ------------------------------------------------

/// Sent codes allow five wrong tries each, which alone would cap these
/// bursts; with many tries allowed only the throttle stands in the way.
fn many_tries() -> MfaConfig {
    let mut config = config();
    config.sent_codes.max_tries = 1_000;
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn recovery_code_bursts_get_at_most_five_evaluations() {
    let w = world();
    for round in 0..ROUNDS {
        let subject = agent(&format!("recovery-{round}"));
        let app = w.enroll_app(&subject).await;
        let wrong = Arc::new(
            (0..BURST)
                .map(|i| format!("{:012}", round * 1_000 + i))
                .collect::<Vec<_>>(),
        );
        let answers = race(BURST, |i| {
            let (mfa, subject, wrong) = (Arc::clone(&w.mfa), subject.clone(), wrong.clone());
            async move {
                mfa.verify(&subject, Attempt::Recovery(&wrong[i]))
                    .await
                    .unwrap()
            }
        })
        .await;
        let tally = Tally::of(&answers);
        let failed = w.failed(&subject.id, FactorKind::Recovery).await;
        assert!(failed <= FREE, "round {round}: {failed}, {tally:?}");
        assert!(tally.rejected < FREE, "round {round}: {tally:?}");
        assert_eq!(tally.accepted + tally.blocked, 0);
        // A real recovery code is refused unseen, and not used up.
        assert!(matches!(
            w.mfa
                .verify(&subject, Attempt::Recovery(&app.recovery[0]))
                .await
                .unwrap(),
            Verification::Locked { .. }
        ));
        assert_eq!(
            w.store.recovery_codes_left(&subject.id).await.unwrap(),
            10,
            "round {round}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn emailed_code_bursts_get_at_most_five_evaluations() {
    let w = world_with(many_tries());
    for round in 0..ROUNDS {
        let subject = agent(&format!("email-{round}"));
        w.enroll_email(&subject, &SessionState::default()).await;
        w.clock.advance(Duration::from_secs(61));
        let sent = w.mfa.send_code(&subject, Channel::Email).await.unwrap();
        assert!(matches!(sent, SendOutcome::Sent { .. }), "{sent:?}");
        let right = w.notifier.last_code(&subject.id, Channel::Email).unwrap();
        let wrong = Arc::new(wrong_except(&HashSet::from([right.clone()]), 6, BURST));
        let answers = race(BURST, |i| {
            let (mfa, subject, wrong) = (Arc::clone(&w.mfa), subject.clone(), wrong.clone());
            async move {
                mfa.verify(&subject, Attempt::Sent(Channel::Email, &wrong[i]))
                    .await
                    .unwrap()
            }
        })
        .await;
        let tally = Tally::of(&answers);
        let failed = w.failed(&subject.id, FactorKind::Email).await;
        assert!(failed <= FREE, "round {round}: {failed}, {tally:?}");
        assert!(tally.rejected < FREE, "round {round}: {tally:?}");
        assert_eq!(tally.accepted + tally.blocked, 0);
        assert!(matches!(
            w.mfa
                .verify(&subject, Attempt::Sent(Channel::Email, &right))
                .await
                .unwrap(),
            Verification::Locked { .. }
        ));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn authenticator_confirmation_bursts_get_at_most_five_evaluations() {
    let w = world();
    for round in 0..ROUNDS {
        let subject = agent(&format!("confirm-app-{round}"));
        let enrollment = w
            .mfa
            .start_totp_enrollment(&subject, &SessionState::default())
            .await
            .unwrap();
        let totp = Totp::new(
            &Secret::from_base32(&enrollment.key).unwrap(),
            &enrollment.config,
        );
        let wrong = Arc::new(wrong_codes(&totp, w.now(), BURST));
        let id = enrollment.id.clone();
        let answers = race(BURST, |i| {
            let (mfa, subject, wrong, id) = (
                Arc::clone(&w.mfa),
                subject.clone(),
                wrong.clone(),
                id.clone(),
            );
            async move {
                // The widest window there is: ±10 steps.
                mfa.confirm_totp_enrollment(&subject, &id, &wrong[i], "Phone", DriftTolerance::Wide)
                    .await
                    .unwrap()
            }
        })
        .await;
        let tally = Tally::of_confirmations(&answers);
        let failed = w.failed(&subject.id, FactorKind::Totp).await;
        assert!(failed <= FREE, "round {round}: {failed}, {tally:?}");
        assert!(tally.rejected < FREE, "round {round}: {tally:?}");
        assert_eq!(tally.accepted + tally.blocked, 0);
        let right = totp
            .generate_at(w.now().unix())
            .unwrap()
            .expose()
            .to_string();
        let Confirmation::Locked { until } = w
            .mfa
            .confirm_totp_enrollment(&subject, &id, &right, "Phone", DriftTolerance::Standard)
            .await
            .unwrap()
        else {
            panic!("round {round}: the right code was looked at while locked")
        };
        // After the lock the enrollment is still there to confirm.
        w.clock.set(until);
        let right = totp
            .generate_at(w.now().unix())
            .unwrap()
            .expose()
            .to_string();
        assert!(matches!(
            w.mfa
                .confirm_totp_enrollment(&subject, &id, &right, "Phone", DriftTolerance::Standard)
                .await
                .unwrap(),
            Confirmation::Enrolled { .. }
        ));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn channel_confirmation_bursts_get_at_most_five_evaluations() {
    let w = world_with(many_tries());
    for round in 0..ROUNDS {
        let subject = agent(&format!("confirm-email-{round}"));
        let sent = w
            .mfa
            .start_channel_enrollment(&subject, Channel::Email, &SessionState::default())
            .await
            .unwrap();
        assert!(matches!(sent, SendOutcome::Sent { .. }), "{sent:?}");
        let right = w.notifier.last_code(&subject.id, Channel::Email).unwrap();
        let wrong = Arc::new(wrong_except(&HashSet::from([right.clone()]), 6, BURST));
        let answers = race(BURST, |i| {
            let (mfa, subject, wrong) = (Arc::clone(&w.mfa), subject.clone(), wrong.clone());
            async move {
                mfa.confirm_channel_enrollment(&subject, Channel::Email, &wrong[i])
                    .await
                    .unwrap()
            }
        })
        .await;
        let tally = Tally::of_confirmations(&answers);
        let failed = w.failed(&subject.id, FactorKind::Email).await;
        assert!(failed <= FREE, "round {round}: {failed}, {tally:?}");
        assert!(tally.rejected < FREE, "round {round}: {tally:?}");
        assert_eq!(tally.accepted + tally.blocked, 0);
        assert!(matches!(
            w.mfa
                .confirm_channel_enrollment(&subject, Channel::Email, &right)
                .await
                .unwrap(),
            Confirmation::Locked { .. }
        ));
        assert!(w.store.list_channels(&subject.id).await.unwrap().is_empty());
    }
}

// ----- 6. blocked after 100 failures --------------------------------------

/// 100 consecutive wrong codes, each evaluated: the clock is moved to the
/// end of every lock (at most an hour each).
async fn fail_until_blocked(w: &World, subject: &Subject, app: &App) {
    for attempt in 1..=100 {
        let now = w.now();
        let wrong = wrong_codes(&app.totp, now, 1).remove(0);
        match (attempt, w.verify_totp(subject, &wrong).await) {
            (1..=4, Verification::Rejected) | (100, Verification::Blocked) => {}
            (5..=99, Verification::Locked { until }) => {
                assert!(until > now && until.since(now) <= Duration::from_secs(3600));
                w.clock.set(until);
            }
            (attempt, other) => panic!("attempt {attempt}: {other:?}"),
        }
    }
}

fn blocked_notices(w: &World, subject: &SubjectId) -> usize {
    w.notifier
        .notices_for(subject)
        .iter()
        .filter(|n| **n == NoticeKind::FactorBlocked(FactorKind::Totp))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_failures_block_until_another_factor_succeeds_or_an_admin_resets() {
    let w = world();
    let subject = agent("blocked");
    let app = w.enroll_app(&subject).await;
    fail_until_blocked(&w, &subject, &app).await;
    assert_eq!(w.failed(&subject.id, FactorKind::Totp).await, 100);
    assert_eq!(blocked_notices(&w, &subject.id), 1);

    // Blocked, for the right code too, however long one waits.
    w.next_step();
    assert_eq!(
        w.verify_totp(&subject, &app.code_at(w.now())).await,
        Verification::Blocked
    );
    w.clock.advance(Duration::from_secs(3 * 86_400));
    assert_eq!(
        w.verify_totp(&subject, &app.code_at(w.now())).await,
        Verification::Blocked
    );
    let wrong = wrong_codes(&app.totp, w.now(), 1).remove(0);
    assert_eq!(w.verify_totp(&subject, &wrong).await, Verification::Blocked);
    // A new enrollment's confirmation does not get round the block.
    let enrollment = w
        .mfa
        .start_totp_enrollment(&subject, &w.verified())
        .await
        .unwrap();
    let second = Totp::new(
        &Secret::from_base32(&enrollment.key).unwrap(),
        &enrollment.config,
    );
    let code = second
        .generate_at(w.now().unix())
        .unwrap()
        .expose()
        .to_string();
    assert!(matches!(
        w.mfa
            .confirm_totp_enrollment(
                &subject,
                &enrollment.id,
                &code,
                "Tablet",
                DriftTolerance::Standard
            )
            .await
            .unwrap(),
        Confirmation::Blocked
    ));
    assert_eq!(w.failed(&subject.id, FactorKind::Totp).await, 100);
    assert_eq!(blocked_notices(&w, &subject.id), 1);

    // A recovery code unblocks the authenticator.
    assert!(matches!(
        w.mfa
            .verify(&subject, Attempt::Recovery(&app.recovery[0]))
            .await
            .unwrap(),
        Verification::Accepted {
            factor: FactorKind::Recovery,
            ..
        }
    ));
    assert_eq!(w.throttle(&subject.id, FactorKind::Totp).await.failures, 0);
    assert!(matches!(
        w.verify_totp(&subject, &app.code_at(w.now())).await,
        Verification::Accepted { .. }
    ));

    // Blocked again, then an administrator resets the subject.
    w.next_step();
    fail_until_blocked(&w, &subject, &app).await;
    assert_eq!(blocked_notices(&w, &subject.id), 2);
    w.next_step();
    assert_eq!(
        w.verify_totp(&subject, &app.code_at(w.now())).await,
        Verification::Blocked
    );
    w.mfa.reset(&admin(), &subject).await.unwrap();
    assert_eq!(
        w.throttle(&subject.id, FactorKind::Totp).await,
        ThrottleState::default()
    );
    // The reset removed the authenticator; a new one enrolls and signs in.
    let fresh = w.enroll_app(&subject).await;
    assert!(matches!(
        w.verify_totp(&subject, &fresh.code_at(w.now())).await,
        Verification::Accepted { .. }
    ));
}

// ----- 7. notices and audit under attack ----------------------------------

/// The number at the start of a `VerifyWhileLocked` detail.
fn refused_count(event: &AuditEvent) -> usize {
    event
        .event
        .detail
        .as_deref()
        .and_then(|d| d.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count in {event:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_notice_per_lock_and_one_audit_row_per_lock_period_however_many_attempts() {
    const WHILE_LOCKED: usize = 1_000;
    let w = world();
    let subject = agent("hammered");
    let app = w.enroll_app(&subject).await;

    // The first lock: a burst.
    let tally = Tally::of(
        &w.burst(&subject, wrong_codes(&app.totp, w.now(), BURST))
            .await,
    );
    assert_eq!(tally.rejected + tally.locked, BURST);
    let mut refused = BURST - w.failed(&subject.id, FactorKind::Totp).await;
    let mut expected_refusals = Vec::new();

    for period in 1..=2 {
        assert_eq!(w.locked_out_notices(&subject.id), period);
        // Hammering while locked: refused unseen, no notice, no row yet.
        let codes = wrong_codes(&app.totp, w.now(), WHILE_LOCKED);
        let answers = w.burst(&subject, codes).await;
        let Some(Verification::Locked { until }) = answers.first().cloned() else {
            panic!("not locked: {:?}", answers.first())
        };
        assert_eq!(Tally::of(&answers).locked, WHILE_LOCKED);
        refused += WHILE_LOCKED;
        assert_eq!(w.locked_out_notices(&subject.id), period);
        let events = w.audit_of(&subject.id).await;
        assert_eq!(
            count(&events, AuditAction::VerifyWhileLocked, FactorKind::Totp),
            expected_refusals.len()
        );
        // The lock ends; the next guess is charged, locks again, and the
        // refused attempts go into one row.
        w.clock.set(until);
        let wrong = wrong_codes(&app.totp, w.now(), 1).remove(0);
        let Verification::Locked { until: next } = w.verify_totp(&subject, &wrong).await else {
            panic!("the guess after a lock starts the next lock")
        };
        assert!(next > w.now());
        expected_refusals.push(refused);
        refused = 0;
        assert_eq!(w.locked_out_notices(&subject.id), period + 1);
        assert!(
            w.notifier
                .notices_for(&subject.id)
                .contains(&NoticeKind::LockedOut { until: next })
        );
    }
    let events = w.audit_of(&subject.id).await;
    let mut rows: Vec<usize> = events
        .iter()
        .filter(|e| e.event.action == AuditAction::VerifyWhileLocked)
        .map(refused_count)
        .collect();
    rows.reverse(); // oldest first
    assert_eq!(rows, expected_refusals);
    assert_eq!(count(&events, AuditAction::LockedOut, FactorKind::Totp), 3);
    assert_eq!(
        count(&events, AuditAction::VerifyFailed, FactorKind::Totp),
        7
    );
}

// ----- 8. drift -------------------------------------------------------------

/// xorshift64: reproducible sequences without a dependency.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x % n
    }

    /// −1, 0 or +1 steps from the centre, leaning towards `bias`.
    fn offset(&mut self, bias: i16) -> i16 {
        let r = self.below(100);
        let lean = if r < 60 {
            1
        } else if r < 85 {
            0
        } else {
            -1
        };
        match bias {
            0 => i16::try_from(r % 3).unwrap() - 1,
            _ => lean * bias,
        }
    }
}

/// The steps an authenticator in `credential`'s state would accept now:
/// each step within 12 of the current one is tried on a copy of the state
/// in a store of its own, so trying does not change the state.
async fn accepted_steps(
    w: &World,
    subject: &Subject,
    credential: &TotpCredential,
    totp: &Totp,
) -> BTreeSet<u64> {
    let now = w.now();
    let current = totp.step_at(now.unix()).unwrap();
    let mut accepted = BTreeSet::new();
    for step in current - 12..=current + 12 {
        let store = MemoryStore::new();
        store
            .put_pending_totp(PendingTotp {
                id: credential.id.clone(),
                subject: subject.id.clone(),
                sealed_secret: credential.sealed_secret.clone(),
                config: credential.config,
                created_at: now,
                expires_at: now.plus(Duration::from_secs(60)),
            })
            .await
            .unwrap();
        store
            .activate_totp(
                &subject.id,
                &credential.id,
                Activation {
                    name: "probe".to_owned(),
                    accepted_step: credential.last_step.unwrap(),
                    drift: credential.drift,
                    at: now,
                },
            )
            .await
            .unwrap()
            .unwrap();
        let probe = Mfa::new(
            store,
            RecordingNotifier::new(),
            w.clock.clone(),
            w.mfa.config().clone(),
        );
        let code = totp.generate_step(step).expose().to_string();
        if let Verification::Accepted { step: Some(s), .. } =
            probe.verify(subject, Attempt::Totp(&code)).await.unwrap()
        {
            accepted.insert(s);
        }
    }
    accepted
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn drift_moves_one_step_per_sign_in_and_at_most_three_steps_are_accepted() {
    const TOLERANCE: i16 = 10;
    for (seed, bias) in [(1u64, 1i16), (2, -1), (3, 0), (4, 1), (5, -1), (6, 0)] {
        let w = world();
        let subject = agent(&format!("drift-{seed}"));
        let app = w.enroll_app(&subject).await;
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let mut widest = 0i16;
        let mut refused_last = false;
        for sign_in in 0..50 {
            // At least two steps later, and a minute: every offset is newer
            // than the last accepted step, and a success ends the run of a
            // refused try before it.
            w.clock.advance(Duration::from_secs(60 + rng.below(91)));
            let before = w.credential(&subject.id).await;
            let drift = before.drift;
            let now = w.now();
            let current = app.totp.step_at(now.unix()).unwrap();
            let centre = current.checked_add_signed(i64::from(drift)).unwrap();
            // Two nearby steps sharing a code (about one chance in 30 000
            // here) would blur which step was accepted: skip that moment.
            let near: HashSet<String> = (current - 12..=current + 12)
                .map(|s| app.totp.generate_step(s).expose().to_string())
                .collect();
            if near.len() < 25 {
                continue;
            }

            // What this state accepts now: the centred window, nothing more.
            let accepted = accepted_steps(&w, &subject, &before, &app.totp).await;
            let behind = u64::from((TOLERANCE + drift).clamp(0, 1).unsigned_abs());
            let ahead = u64::from((TOLERANCE - drift).clamp(0, 1).unsigned_abs());
            let expected: BTreeSet<u64> = (centre - behind..=centre + ahead)
                .filter(|s| Some(*s) > before.last_step)
                .collect();
            assert!(accepted.len() <= 3, "seed {seed}: {accepted:?}");
            assert_eq!(accepted, expected, "seed {seed}, sign-in {sign_in}");

            let mut offset = rng.offset(bias);
            let outside = (drift + offset).abs() > TOLERANCE;
            if outside && refused_last {
                offset = 0;
            }
            let step = centre.checked_add_signed(i64::from(offset)).unwrap();
            let code = app.totp.generate_step(step).expose().to_string();
            let answer = w.verify_totp(&subject, &code).await;
            let after = w.credential(&subject.id).await;
            if (drift + offset).abs() > TOLERANCE {
                assert_eq!(answer, Verification::Rejected, "seed {seed}");
                assert_eq!(after.drift, drift);
                refused_last = true;
                continue;
            }
            refused_last = false;
            assert!(
                matches!(answer, Verification::Accepted { step: Some(s), .. } if s == step),
                "seed {seed}, sign-in {sign_in}: {answer:?}"
            );
            assert_eq!(after.drift, drift + offset, "seed {seed}");
            assert!((after.drift - drift).abs() <= 1);
            assert!(after.drift.abs() <= TOLERANCE);
            widest = widest.max(after.drift.abs());
        }
        if bias != 0 {
            assert_eq!(widest, TOLERANCE, "seed {seed} never reached the edge");
        }
    }
}

// ----- 9. removing factors concurrently ------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_removals_leave_one_factor_when_mfa_is_required() {
    let w = world();
    let mut policy = Policy::default();
    policy.set_role(
        Role::AGENT,
        RolePolicy::required(Duration::from_secs(7 * 86_400)).with_methods(MethodSet {
            app: true,
            email: true,
            sms: false,
        }),
    );
    w.mfa.update_policy(&admin(), policy).await.unwrap();
    for round in 0..ROUNDS {
        let subject = agent(&format!("remove-{round}"));
        let app = w.enroll_app(&subject).await;
        w.enroll_email(&subject, &w.verified()).await;
        let session = w.verified();
        let outcomes = race(32, |i| {
            let (mfa, subject, id) = (Arc::clone(&w.mfa), subject.clone(), app.id.clone());
            async move {
                if i % 2 == 0 {
                    mfa.remove_authenticator(&subject, &id, &session).await
                } else {
                    mfa.remove_channel(&subject, Channel::Email, &session).await
                }
            }
        })
        .await;
        let removed = outcomes.iter().filter(|o| o.is_ok()).count();
        assert_eq!(removed, 1, "round {round}: {outcomes:?}");
        for outcome in outcomes.iter().filter_map(|o| o.as_ref().err()) {
            assert!(
                matches!(
                    outcome,
                    Error::PolicyForbids(PolicyProblem::MfaRequired) | Error::NotFound(_)
                ),
                "round {round}: {outcome:?}"
            );
        }
        let left = w.store.list_totp(&subject.id).await.unwrap().len()
            + w.store.list_channels(&subject.id).await.unwrap().len();
        assert_eq!(left, 1, "round {round}");
        assert!(matches!(
            w.mfa
                .decide(&subject, &SessionState::default())
                .await
                .unwrap(),
            Decision::VerifyNow { .. }
        ));
    }
}

// ----- 10. e-mail factors are bound to the verified address ---------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_email_factor_is_bound_to_the_address_that_was_verified() {
    let w = world();
    let old = agent("moved");
    w.enroll_email(&old, &SessionState::default()).await;
    assert!(matches!(
        w.mfa.decide(&old, &SessionState::default()).await.unwrap(),
        Decision::VerifyNow { ref methods } if methods.contains(&FactorKind::Email)
    ));

    // The host application now knows another address.
    let mut new = old.clone();
    new.email = Some("moved@elsewhere.example".to_owned());
    w.clock.advance(Duration::from_secs(61));
    assert!(matches!(
        w.mfa.send_code(&new, Channel::Email).await,
        Err(Error::Precondition(
            PreconditionProblem::ChannelAddressChanged(Channel::Email)
        ))
    ));
    assert!(matches!(
        w.mfa
            .verify(&new, Attempt::Sent(Channel::Email, "123456"))
            .await,
        Err(Error::Precondition(
            PreconditionProblem::ChannelAddressChanged(Channel::Email)
        ))
    ));
    assert!(w.mfa.factors(&new).await.unwrap().channels.is_empty());
    assert_eq!(
        w.mfa.decide(&new, &SessionState::default()).await.unwrap(),
        Decision::Allow
    );
    assert_eq!(
        w.mfa
            .status(&new, &SessionState::default())
            .await
            .unwrap()
            .decision,
        Decision::Allow
    );

    // Moving the factor to the new address needs a fresh verification…
    assert!(matches!(
        w.mfa
            .start_channel_enrollment(&new, Channel::Email, &SessionState::default())
            .await,
        Err(Error::StepUpRequired)
    ));
    // …and then tells the old address.
    w.enroll_email(&new, &w.verified()).await;
    let codes = w.notifier.codes();
    assert_eq!(
        codes.last().unwrap().to,
        "moved@elsewhere.example",
        "the new code goes to the new address"
    );
    let told: Vec<_> = w
        .notifier
        .notices()
        .into_iter()
        .filter(|n| n.kind == NoticeKind::ChannelAddressChanged(Channel::Email))
        .collect();
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0].to.as_deref(), Some("moved@example.com"));
    assert_eq!(told[0].subject, old.id);
    assert!(matches!(
        w.mfa.decide(&new, &SessionState::default()).await.unwrap(),
        Decision::VerifyNow { ref methods } if methods.contains(&FactorKind::Email)
    ));
    assert!(matches!(
        w.mfa.send_code(&old, Channel::Email).await,
        Err(Error::Precondition(
            PreconditionProblem::ChannelAddressChanged(Channel::Email)
        ))
    ));
}

// ----- 11. step-up holds at confirmation ----------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_enrollment_started_without_step_up_cannot_be_confirmed_next_to_a_new_factor() {
    let w = world();
    // Authenticator started first, e-mail registered meanwhile.
    let subject = agent("sneaky");
    let enrollment = w
        .mfa
        .start_totp_enrollment(&subject, &SessionState::default())
        .await
        .unwrap();
    w.enroll_email(&subject, &SessionState::default()).await;
    let totp = Totp::new(
        &Secret::from_base32(&enrollment.key).unwrap(),
        &enrollment.config,
    );
    let code = totp
        .generate_at(w.now().unix())
        .unwrap()
        .expose()
        .to_string();
    assert!(matches!(
        w.mfa
            .confirm_totp_enrollment(
                &subject,
                &enrollment.id,
                &code,
                "Phone",
                DriftTolerance::Standard
            )
            .await,
        Err(Error::NotFound(_))
    ));
    assert!(w.store.list_totp(&subject.id).await.unwrap().is_empty());
    // Starting again now needs step-up.
    assert!(matches!(
        w.mfa
            .start_totp_enrollment(&subject, &SessionState::default())
            .await,
        Err(Error::StepUpRequired)
    ));

    // The other way round: e-mail started first, authenticator confirmed
    // meanwhile; the e-mail code no longer registers anything.
    let other = agent("sneaky-2");
    let sent = w
        .mfa
        .start_channel_enrollment(&other, Channel::Email, &SessionState::default())
        .await
        .unwrap();
    assert!(matches!(sent, SendOutcome::Sent { .. }));
    let emailed = w.notifier.last_code(&other.id, Channel::Email).unwrap();
    let _app = w.enroll_app(&other).await;
    assert!(matches!(
        w.mfa
            .confirm_channel_enrollment(&other, Channel::Email, &emailed)
            .await
            .unwrap(),
        Confirmation::Rejected
    ));
    assert!(w.store.list_channels(&other.id).await.unwrap().is_empty());
}

// ----- 12. mixed code lengths ---------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn six_and_eight_digit_authenticators_side_by_side() {
    let w = world();
    let mut eight = w.mfa.config().clone();
    eight.totp = TotpConfig::new(Algorithm::Sha1, Digits::EIGHT, 30).unwrap();
    let mfa8: Service = Mfa::new(
        yielding(w.store.clone()),
        w.notifier.clone(),
        w.clock.clone(),
        eight,
    );
    let subject = agent("two-phones");
    let six_app = w.enroll_app_on(&w.mfa, &subject).await;
    let eight_app = w.enroll_app_on(&mfa8, &subject).await;
    assert_eq!(six_app.totp.config().digits(), Digits::SIX);
    assert_eq!(eight_app.totp.config().digits(), Digits::EIGHT);

    // Either code signs in, through either service.
    for mfa in [&*w.mfa, &mfa8] {
        for app in [&six_app, &eight_app] {
            w.next_step();
            let code = app.code_at(w.now());
            assert!(
                matches!(
                    mfa.verify(&subject, Attempt::Totp(&code)).await.unwrap(),
                    Verification::Accepted { credential: Some(ref id), .. } if *id == app.id
                ),
                "{} digits",
                code.len()
            );
        }
    }
    // A length no authenticator has is bad input, not a guess.
    assert!(matches!(
        w.mfa.verify(&subject, Attempt::Totp("1234567")).await,
        Err(Error::InvalidCode(CodeProblem::WrongLength { .. }))
    ));
    // Wrong codes of either length are evaluated and counted.
    for app in [&six_app, &eight_app] {
        let wrong = wrong_codes(&app.totp, w.now(), 1).remove(0);
        assert_eq!(
            w.verify_totp(&subject, &wrong).await,
            Verification::Rejected
        );
    }
    assert_eq!(w.throttle(&subject.id, FactorKind::Totp).await.failures, 2);
    assert_eq!(w.failed(&subject.id, FactorKind::Totp).await, 2);
}

// ----- 13. double submissions ---------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_just_accepted_code_sent_again_is_no_failure_within_its_step_only() {
    let w = world();
    let subject = agent("double-click");
    let app = w.enroll_app(&subject).await;
    // Early in a step, so that the repeats below stay within it.
    let step_start = app
        .totp
        .step_start(app.totp.step_at(w.now().unix()).unwrap())
        .unwrap();
    w.clock.set(Timestamp::from_unix(step_start));
    let code = app.code_at(w.now());
    assert!(matches!(
        w.verify_totp(&subject, &code).await,
        Verification::Accepted { .. }
    ));
    // Sent again (and again: more than the free failures) in the same step.
    for _ in 0..2 * FREE {
        w.clock.advance(Duration::from_secs(2));
        assert_eq!(w.verify_totp(&subject, &code).await, Verification::Rejected);
    }
    assert_eq!(w.throttle(&subject.id, FactorKind::Totp).await.failures, 0);
    assert_eq!(w.failed(&subject.id, FactorKind::Totp).await, 0);
    // In the next step the same code is a replay, and counts.
    w.clock.set(Timestamp::from_unix(
        step_start + u64::from(app.totp.config().period()),
    ));
    assert_eq!(w.verify_totp(&subject, &code).await, Verification::Rejected);
    assert_eq!(w.throttle(&subject.id, FactorKind::Totp).await.failures, 1);
    assert_eq!(w.failed(&subject.id, FactorKind::Totp).await, 1);
}
