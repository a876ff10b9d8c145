//! Every flow of the service, written as a person lives it: an agent
//! enables two-factor authentication, signs in, loses their phone; an
//! administrator enforces MFA and resets someone. MemoryStore, a manual
//! clock and a recording notifier; no sleeping.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use core::time::Duration;

use mfa_core::audit::{Actor, AuditAction, AuditQuery};
use mfa_core::notify::NoticeKind;
use mfa_core::otp::Totp;
use mfa_core::policy::{Decision, MethodSet, Policy, RolePolicy, SessionState};
use mfa_core::seal::{Sealer, SealingKey};
use mfa_core::service::{
    Attempt, Confirmation, DriftTolerance, SendOutcome, TotpEnrollment, Verification,
};
use mfa_core::store::Store;
use mfa_core::testing::{ManualClock, RecordingNotifier};
use mfa_core::{
    Channel, Error, FactorKind, MemoryStore, Mfa, MfaConfig, Pepper, PolicyProblem,
    PreconditionProblem, Role, Secret, Subject, SubjectId, Timestamp,
};

const START: u64 = 1_800_000_000;

struct World {
    mfa: Mfa<MemoryStore, RecordingNotifier, ManualClock>,
    clock: ManualClock,
    notifier: RecordingNotifier,
    store: MemoryStore,
}

fn config(sealer: Sealer) -> MfaConfig {
    MfaConfig::new("Service Desk", Pepper::new(&[0x5a; 32]).unwrap(), sealer)
}

fn world() -> World {
    world_with(
        MemoryStore::new(),
        Sealer::new(vec![SealingKey::new(1, [1; 32])]).unwrap(),
    )
}

fn world_with(store: MemoryStore, sealer: Sealer) -> World {
    let clock = ManualClock::new(Timestamp::from_unix(START));
    let notifier = RecordingNotifier::new();
    World {
        mfa: Mfa::new(
            store.clone(),
            notifier.clone(),
            clock.clone(),
            config(sealer),
        ),
        clock,
        notifier,
        store,
    }
}

fn agent(id: &str) -> Subject {
    Subject::new(SubjectId::new(id).unwrap(), [Role::AGENT])
        .with_email(format!("{id}@example.com"))
        .with_phone("+15550100")
}

fn admin() -> SubjectId {
    SubjectId::new("admin-1").unwrap()
}

impl World {
    fn now(&self) -> Timestamp {
        self.mfa.clock_now()
    }

    fn verified(&self) -> SessionState {
        SessionState {
            verified_at: Some(self.now()),
            device_remembered: false,
        }
    }

    /// What the phone shows now for an enrollment.
    fn phone_code(&self, enrollment: &TotpEnrollment) -> String {
        self.phone_code_at(enrollment, self.now())
    }

    fn phone_code_at(&self, enrollment: &TotpEnrollment, at: Timestamp) -> String {
        let secret = Secret::from_base32(&enrollment.key).unwrap();
        Totp::new(&secret, &enrollment.config)
            .generate_at(at.unix())
            .unwrap()
            .expose()
            .to_string()
    }

    /// Enrolls an authenticator app; returns the enrollment and the
    /// recovery codes shown (if any).
    async fn enroll_app(
        &self,
        subject: &Subject,
        name: &str,
    ) -> (TotpEnrollment, Option<Vec<String>>) {
        let enrollment = self
            .mfa
            .start_totp_enrollment(subject, &self.verified())
            .await
            .unwrap();
        let code = self.phone_code(&enrollment);
        match self
            .mfa
            .confirm_totp_enrollment(
                subject,
                &enrollment.id,
                &code,
                name,
                DriftTolerance::Standard,
            )
            .await
            .unwrap()
        {
            Confirmation::Enrolled { recovery_codes, .. } => (
                enrollment,
                recovery_codes.map(|codes| codes.iter().map(|c| c.expose().to_owned()).collect()),
            ),
            other => panic!("enrollment not confirmed: {other:?}"),
        }
    }

    /// Moves to the next 30-second step so a fresh code exists.
    fn next_step(&self) {
        self.clock.advance(Duration::from_secs(30));
    }
}

/// Helper on the service for tests: the clock's time.
trait ClockNow {
    fn clock_now(&self) -> Timestamp;
}

impl ClockNow for Mfa<MemoryStore, RecordingNotifier, ManualClock> {
    fn clock_now(&self) -> Timestamp {
        mfa_core::Clock::now(self.clock())
    }
}

fn is_accepted(v: &Verification, kind: FactorKind) -> bool {
    matches!(v, Verification::Accepted { factor, .. } if *factor == kind)
}

#[tokio::test]
async fn the_agent_story_from_enrollment_to_admin_reset() {
    let w = world();
    let alice = agent("alice");

    // Profile → Password & Security → Two-Factor Authentication → Enable.
    let status = w
        .mfa
        .status(&alice, &SessionState::default())
        .await
        .unwrap();
    assert!(status.authenticators.is_empty());
    assert_eq!(status.decision, Decision::Allow);
    let enrollment = w
        .mfa
        .start_totp_enrollment(&alice, &SessionState::default())
        .await
        .unwrap();
    assert!(enrollment.qr_svg.starts_with("<svg"));
    assert!(
        enrollment
            .uri
            .starts_with("otpauth://totp/Service%20Desk:alice%40example.com?secret=")
    );
    assert_eq!(
        enrollment.expires_at,
        w.now().plus(Duration::from_secs(600))
    );
    // A wrong first code is refused and the enrollment stays pending.
    let wrong = w
        .mfa
        .confirm_totp_enrollment(
            &alice,
            &enrollment.id,
            "000000",
            "Phone",
            DriftTolerance::Standard,
        )
        .await
        .unwrap();
    assert!(matches!(wrong, Confirmation::Rejected) || w.phone_code(&enrollment) == "000000");
    let code = w.phone_code(&enrollment);
    let Confirmation::Enrolled {
        authenticator,
        recovery_codes,
    } = w
        .mfa
        .confirm_totp_enrollment(
            &alice,
            &enrollment.id,
            &code,
            "  Work phone ",
            DriftTolerance::Standard,
        )
        .await
        .unwrap()
    else {
        panic!("not enrolled")
    };
    assert_eq!(authenticator.unwrap().name, "Work phone");
    let recovery: Vec<String> = recovery_codes
        .expect("first activation shows recovery codes")
        .iter()
        .map(|c| c.expose().to_owned())
        .collect();
    assert_eq!(recovery.len(), 10);
    assert!(
        w.notifier
            .notices_for(&alice.id)
            .contains(&NoticeKind::AuthenticatorAdded)
    );

    // The confirming code was consumed: it does not also sign in.
    let replay = w.mfa.verify(&alice, Attempt::Totp(&code)).await.unwrap();
    assert_eq!(replay, Verification::Rejected);

    // Sign in: the gate asks for a code, the next code works once.
    let status = w
        .mfa
        .status(&alice, &SessionState::default())
        .await
        .unwrap();
    assert_eq!(status.recovery_codes_left, 10);
    assert!(
        matches!(status.decision, Decision::VerifyNow { ref methods } if methods == &[FactorKind::Totp, FactorKind::Recovery])
    );
    w.next_step();
    let code = w.phone_code(&enrollment);
    let ok = w.mfa.verify(&alice, Attempt::Totp(&code)).await.unwrap();
    assert!(is_accepted(&ok, FactorKind::Totp));
    // Typed with a space, the same code is still a replay.
    let spaced = format!("{} {}", &code[..3], &code[3..]);
    assert_eq!(
        w.mfa.verify(&alice, Attempt::Totp(&spaced)).await.unwrap(),
        Verification::Rejected
    );

    // Five consecutive failures lock TOTP for a minute (the replay above
    // was the first); the lock-out is notified once.
    w.next_step();
    let good_now = w.phone_code(&enrollment);
    let wrong_code = if good_now == "123456" {
        "654321"
    } else {
        "123456"
    };
    for i in 2..=4 {
        let v = w
            .mfa
            .verify(&alice, Attempt::Totp(wrong_code))
            .await
            .unwrap();
        assert_eq!(v, Verification::Rejected, "failure {i}");
    }
    let fifth = w
        .mfa
        .verify(&alice, Attempt::Totp(wrong_code))
        .await
        .unwrap();
    let until = w.now().plus(Duration::from_secs(60));
    assert_eq!(fifth, Verification::Locked { until });
    // While locked even the right code is answered "locked".
    assert_eq!(
        w.mfa
            .verify(&alice, Attempt::Totp(&good_now))
            .await
            .unwrap(),
        Verification::Locked { until }
    );
    let lockouts = w
        .notifier
        .notices_for(&alice.id)
        .into_iter()
        .filter(|n| matches!(n, NoticeKind::LockedOut { .. }))
        .count();
    assert_eq!(lockouts, 1);
    // Malformed input is a 4xx error, not a failure: it is refused before
    // any charge, locked or not, and computes nothing.
    assert!(matches!(
        w.mfa.verify(&alice, Attempt::Totp("12345")).await,
        Err(mfa_core::Error::InvalidCode(_))
    ));

    // Time passes; the lock is over and the right code works.
    w.clock.advance(Duration::from_secs(61));
    let code = w.phone_code(&enrollment);
    assert!(is_accepted(
        &w.mfa.verify(&alice, Attempt::Totp(&code)).await.unwrap(),
        FactorKind::Totp
    ));
    // A success reset the count: four more failures do not lock.
    w.next_step();
    for _ in 0..4 {
        assert_eq!(
            w.mfa
                .verify(&alice, Attempt::Totp(wrong_code))
                .await
                .unwrap(),
            Verification::Rejected
        );
    }

    // Phone lost: a recovery code, typed carelessly, works once.
    let typed = recovery[0].to_uppercase().replace('-', " ");
    let v = w
        .mfa
        .verify(&alice, Attempt::Recovery(&typed))
        .await
        .unwrap();
    assert_eq!(
        v,
        Verification::Accepted {
            factor: FactorKind::Recovery,
            step: None,
            credential: None,
            recovery_codes_left: Some(9),
            recovery_codes_low: false,
        }
    );
    assert!(
        w.notifier
            .notices_for(&alice.id)
            .contains(&NoticeKind::RecoveryCodeUsed { left: 9 })
    );
    assert_eq!(
        w.mfa
            .verify(&alice, Attempt::Recovery(&recovery[0]))
            .await
            .unwrap(),
        Verification::Rejected
    );
    // Using codes down to three left raises the "low" flag.
    for code in &recovery[1..7] {
        let _ = w.mfa.verify(&alice, Attempt::Recovery(code)).await.unwrap();
    }
    let Verification::Accepted {
        recovery_codes_left,
        recovery_codes_low,
        ..
    } = w
        .mfa
        .verify(&alice, Attempt::Recovery(&recovery[7]))
        .await
        .unwrap()
    else {
        panic!("recovery code refused")
    };
    assert_eq!((recovery_codes_left, recovery_codes_low), (Some(2), true));

    // Regenerating needs a recent verification, and replaces the set.
    assert!(matches!(
        w.mfa
            .regenerate_recovery_codes(&alice, &SessionState::default())
            .await,
        Err(Error::StepUpRequired)
    ));
    let stale = SessionState {
        verified_at: Some(w.now().minus(Duration::from_secs(601))),
        device_remembered: false,
    };
    assert!(matches!(
        w.mfa.regenerate_recovery_codes(&alice, &stale).await,
        Err(Error::StepUpRequired)
    ));
    let fresh_codes = w
        .mfa
        .regenerate_recovery_codes(&alice, &w.verified())
        .await
        .unwrap();
    assert_eq!(fresh_codes.len(), 10);
    assert_eq!(
        w.mfa
            .verify(&alice, Attempt::Recovery(&recovery[8]))
            .await
            .unwrap(),
        Verification::Rejected,
        "old codes are gone"
    );
    assert!(
        w.notifier
            .notices_for(&alice.id)
            .contains(&NoticeKind::RecoveryCodesRegenerated)
    );

    // The administrator resets Alice: everything goes, she is told, it is audited.
    let removed = w.mfa.reset(&admin(), &alice).await.unwrap();
    assert_eq!((removed.authenticators, removed.recovery_codes), (1, 10));
    assert!(
        w.notifier
            .notices_for(&alice.id)
            .contains(&NoticeKind::MfaResetByAdmin)
    );
    let status = w
        .mfa
        .status(&alice, &SessionState::default())
        .await
        .unwrap();
    assert!(status.authenticators.is_empty());
    assert_eq!(status.recovery_codes_left, 0);
    assert_eq!(status.decision, Decision::Allow);
    let events = w
        .mfa
        .audit_events(&AuditQuery::latest(100).for_subject(alice.id.clone()))
        .await
        .unwrap();
    assert_eq!(events[0].event.action, AuditAction::MfaReset);
    assert_eq!(events[0].event.actor, Actor::Admin(admin()));
    for action in [
        AuditAction::EnrollmentStarted,
        AuditAction::AuthenticatorAdded,
        AuditAction::VerifySucceeded,
        AuditAction::VerifyFailed,
        AuditAction::LockedOut,
        AuditAction::VerifyWhileLocked,
        AuditAction::RecoveryCodeUsed,
        AuditAction::RecoveryCodesGenerated,
    ] {
        assert!(
            events.iter().any(|e| e.event.action == action),
            "{action} audited"
        );
    }
    // Newest first.
    assert!(events.windows(2).all(|p| p[0].id > p[1].id));
}

#[tokio::test]
async fn pending_enrollments_expire_and_are_replaced() {
    let w = world();
    let bob = agent("bob");
    let first = w
        .mfa
        .start_totp_enrollment(&bob, &SessionState::default())
        .await
        .unwrap();
    let second = w
        .mfa
        .start_totp_enrollment(&bob, &SessionState::default())
        .await
        .unwrap();
    // Starting again replaced the first.
    let code = w.phone_code(&first);
    assert!(matches!(
        w.mfa
            .confirm_totp_enrollment(&bob, &first.id, &code, "Phone", DriftTolerance::Standard)
            .await,
        Err(Error::NotFound(_))
    ));
    // Ten minutes later the second has expired too.
    w.clock.advance(Duration::from_secs(600));
    let code = w.phone_code(&second);
    assert!(matches!(
        w.mfa
            .confirm_totp_enrollment(&bob, &second.id, &code, "Phone", DriftTolerance::Standard)
            .await,
        Err(Error::NotFound(_))
    ));
    // Bad names and malformed codes are input errors.
    let third = w
        .mfa
        .start_totp_enrollment(&bob, &SessionState::default())
        .await
        .unwrap();
    let code = w.phone_code(&third);
    assert!(matches!(
        w.mfa
            .confirm_totp_enrollment(&bob, &third.id, &code, "   ", DriftTolerance::Standard)
            .await,
        Err(Error::InvalidInput(_))
    ));
    assert!(matches!(
        w.mfa
            .confirm_totp_enrollment(&bob, &third.id, "12a456", "Phone", DriftTolerance::Standard)
            .await,
        Err(Error::InvalidCode(_))
    ));
    // Another subject cannot confirm Bob's enrollment.
    let eve = agent("eve");
    assert!(matches!(
        w.mfa
            .confirm_totp_enrollment(&eve, &third.id, &code, "Phone", DriftTolerance::Standard)
            .await,
        Err(Error::NotFound(_))
    ));
}

#[tokio::test]
async fn a_phone_with_a_drifting_clock_enrolls_once_with_tolerance_and_keeps_working() {
    let w = world();
    let carol = agent("carol");
    let enrollment = w
        .mfa
        .start_totp_enrollment(&carol, &SessionState::default())
        .await
        .unwrap();
    // The phone runs 2 minutes (4 steps) fast.
    let fast = |w: &World| w.phone_code_at(&enrollment, w.now().plus(Duration::from_secs(120)));
    let code = fast(&w);
    assert!(matches!(
        w.mfa
            .confirm_totp_enrollment(
                &carol,
                &enrollment.id,
                &code,
                "Old phone",
                DriftTolerance::Standard
            )
            .await
            .unwrap(),
        Confirmation::Rejected
    ));
    assert!(matches!(
        w.mfa
            .confirm_totp_enrollment(
                &carol,
                &enrollment.id,
                &code,
                "Old phone",
                DriftTolerance::Wide
            )
            .await
            .unwrap(),
        Confirmation::Enrolled { .. }
    ));
    // Later sign-ins with the same fast phone work with the ±1 window,
    // because the drift was remembered.
    for _ in 0..3 {
        w.clock.advance(Duration::from_secs(300));
        let code = fast(&w);
        assert!(is_accepted(
            &w.mfa.verify(&carol, Attempt::Totp(&code)).await.unwrap(),
            FactorKind::Totp
        ));
    }
}

#[tokio::test]
async fn several_authenticators_each_removable_with_step_up() {
    let w = world();
    let dan = agent("dan");
    let (phone, codes) = w.enroll_app(&dan, "Phone").await;
    assert!(codes.is_some());
    // A second authenticator needs a recent verification.
    assert!(matches!(
        w.mfa
            .start_totp_enrollment(&dan, &SessionState::default())
            .await,
        Err(Error::StepUpRequired)
    ));
    w.next_step();
    let (tablet, codes) = w.enroll_app(&dan, "Tablet").await;
    assert!(codes.is_none(), "recovery codes are shown only once");
    let status = w.mfa.status(&dan, &w.verified()).await.unwrap();
    assert_eq!(
        status
            .authenticators
            .iter()
            .map(|a| a.name.as_str())
            .collect::<Vec<_>>(),
        vec!["Phone", "Tablet"]
    );
    // Either one verifies.
    w.next_step();
    let v = w
        .mfa
        .verify(&dan, Attempt::Totp(&w.phone_code(&phone)))
        .await
        .unwrap();
    assert!(
        matches!(v, Verification::Accepted { credential: Some(ref id), .. } if *id == phone.id)
    );
    w.next_step();
    let v = w
        .mfa
        .verify(&dan, Attempt::Totp(&w.phone_code(&tablet)))
        .await
        .unwrap();
    assert!(
        matches!(v, Verification::Accepted { credential: Some(ref id), .. } if *id == tablet.id)
    );
    // Removing needs step-up, then works, and is notified.
    assert!(matches!(
        w.mfa
            .remove_authenticator(&dan, &phone.id, &SessionState::default())
            .await,
        Err(Error::StepUpRequired)
    ));
    w.mfa
        .remove_authenticator(&dan, &phone.id, &w.verified())
        .await
        .unwrap();
    assert!(
        w.notifier
            .notices_for(&dan.id)
            .contains(&NoticeKind::AuthenticatorRemoved)
    );
    assert!(matches!(
        w.mfa
            .remove_authenticator(&dan, &phone.id, &w.verified())
            .await,
        Err(Error::NotFound(_))
    ));
    w.next_step();
    assert_eq!(
        w.mfa
            .verify(&dan, Attempt::Totp(&w.phone_code(&phone)))
            .await
            .unwrap(),
        Verification::Rejected
    );
    // Under an enforced policy the last factor cannot be removed.
    let mut policy = Policy::default();
    policy.set_role(Role::AGENT, RolePolicy::required(Duration::ZERO));
    w.mfa.update_policy(&admin(), policy).await.unwrap();
    assert!(matches!(
        w.mfa
            .remove_authenticator(&dan, &tablet.id, &w.verified())
            .await,
        Err(Error::PolicyForbids(PolicyProblem::MfaRequired))
    ));
    assert!(matches!(
        w.mfa.disable(&dan, &w.verified()).await,
        Err(Error::PolicyForbids(PolicyProblem::MfaRequired))
    ));
    // Back to optional: removing the last one turns MFA off entirely.
    w.mfa
        .update_policy(&admin(), Policy::default())
        .await
        .unwrap();
    w.mfa
        .remove_authenticator(&dan, &tablet.id, &w.verified())
        .await
        .unwrap();
    let status = w.mfa.status(&dan, &SessionState::default()).await.unwrap();
    assert_eq!(status.recovery_codes_left, 0);
    assert_eq!(status.decision, Decision::Allow);
}

#[tokio::test]
async fn email_codes_for_people_without_an_authenticator_app() {
    let w = world();
    let erin = agent("erin");
    // Sign-in codes need a registered channel.
    assert!(matches!(
        w.mfa.send_code(&erin, Channel::Email).await,
        Err(Error::Precondition(
            PreconditionProblem::ChannelNotEnrolled(Channel::Email)
        ))
    ));
    // Register e-mail: a code is sent, typed back, and e-mail becomes a factor.
    let sent = w
        .mfa
        .start_channel_enrollment(&erin, Channel::Email, &SessionState::default())
        .await
        .unwrap();
    assert!(
        matches!(sent, SendOutcome::Sent { expires_at, .. } if expires_at == w.now().plus(Duration::from_secs(300)))
    );
    let code = w.notifier.last_code(&erin.id, Channel::Email).unwrap();
    assert_eq!(code.len(), 6);
    let Confirmation::Enrolled { recovery_codes, .. } = w
        .mfa
        .confirm_channel_enrollment(&erin, Channel::Email, &code)
        .await
        .unwrap()
    else {
        panic!("e-mail not registered")
    };
    assert_eq!(recovery_codes.unwrap().len(), 10);
    assert!(
        w.notifier
            .notices_for(&erin.id)
            .contains(&NoticeKind::ChannelAdded(Channel::Email))
    );
    let status = w.mfa.status(&erin, &SessionState::default()).await.unwrap();
    assert!(
        matches!(status.decision, Decision::VerifyNow { ref methods } if methods.contains(&FactorKind::Email))
    );

    // Resend cooldown: 60 s.
    w.clock.advance(Duration::from_secs(10));
    assert_eq!(
        w.mfa.send_code(&erin, Channel::Email).await.unwrap(),
        SendOutcome::TooSoon {
            retry_after: w.now().plus(Duration::from_secs(50))
        }
    );
    w.clock.advance(Duration::from_secs(50));
    assert!(matches!(
        w.mfa.send_code(&erin, Channel::Email).await.unwrap(),
        SendOutcome::Sent { .. }
    ));
    let first = w.notifier.last_code(&erin.id, Channel::Email).unwrap();
    // A new code replaces the previous one.
    w.clock.advance(Duration::from_secs(60));
    assert!(matches!(
        w.mfa.send_code(&erin, Channel::Email).await.unwrap(),
        SendOutcome::Sent { .. }
    ));
    let second = w.notifier.last_code(&erin.id, Channel::Email).unwrap();
    if first != second {
        assert_eq!(
            w.mfa
                .verify(&erin, Attempt::Sent(Channel::Email, &first))
                .await
                .unwrap(),
            Verification::Rejected
        );
    }
    assert!(is_accepted(
        &w.mfa
            .verify(&erin, Attempt::Sent(Channel::Email, &second))
            .await
            .unwrap(),
        FactorKind::Email
    ));
    // Single use.
    assert_eq!(
        w.mfa
            .verify(&erin, Attempt::Sent(Channel::Email, &second))
            .await
            .unwrap(),
        Verification::Rejected
    );

    // Codes expire after five minutes.
    w.clock.advance(Duration::from_secs(60));
    assert!(matches!(
        w.mfa.send_code(&erin, Channel::Email).await.unwrap(),
        SendOutcome::Sent { .. }
    ));
    let late = w.notifier.last_code(&erin.id, Channel::Email).unwrap();
    w.clock.advance(Duration::from_secs(300));
    assert_eq!(
        w.mfa
            .verify(&erin, Attempt::Sent(Channel::Email, &late))
            .await
            .unwrap(),
        Verification::Rejected
    );

    // At most ten sends an hour.
    let mut sent = 0;
    let mut too_soon = None;
    for _ in 0..12 {
        w.clock.advance(Duration::from_secs(61));
        match w.mfa.send_code(&erin, Channel::Email).await.unwrap() {
            SendOutcome::Sent { .. } => sent += 1,
            SendOutcome::TooSoon { retry_after } => {
                too_soon = Some(retry_after);
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(
        sent < 12 && too_soon.is_some(),
        "the hourly limit applies (sent {sent})"
    );
    let hour_sends = w
        .notifier
        .codes()
        .iter()
        .filter(|c| {
            c.channel == Channel::Email
                && w.now().since(c.expires_at.minus(Duration::from_secs(300)))
                    < Duration::from_secs(3600)
        })
        .count();
    assert!(hour_sends <= 10, "{hour_sends} sends in the last hour");

    // SMS was never registered; a policy without e-mail refuses e-mail codes.
    let mut no_email = Policy::default();
    no_email.set_role(
        Role::AGENT,
        RolePolicy::optional().with_methods(MethodSet::APP_ONLY),
    );
    w.mfa.update_policy(&admin(), no_email).await.unwrap();
    assert!(matches!(
        w.mfa.send_code(&erin, Channel::Email).await,
        Err(Error::PolicyForbids(PolicyProblem::MethodNotAllowed(
            FactorKind::Email
        )))
    ));
    // …and e-mail no longer counts as a factor.
    let status = w.mfa.status(&erin, &SessionState::default()).await.unwrap();
    assert_eq!(status.decision, Decision::Allow);
}

#[tokio::test]
async fn five_wrong_tries_kill_a_sent_code() {
    let w = world();
    let fay = agent("fay");
    let _ = w
        .mfa
        .start_channel_enrollment(&fay, Channel::Sms, &SessionState::default())
        .await
        .unwrap();
    let code = w.notifier.last_code(&fay.id, Channel::Sms).unwrap();
    let wrong = if code == "111111" { "222222" } else { "111111" };
    for _ in 0..4 {
        assert!(matches!(
            w.mfa
                .confirm_channel_enrollment(&fay, Channel::Sms, wrong)
                .await
                .unwrap(),
            Confirmation::Rejected
        ));
    }
    // The fifth wrong try both kills the code and locks SMS.
    assert!(matches!(
        w.mfa
            .confirm_channel_enrollment(&fay, Channel::Sms, wrong)
            .await
            .unwrap(),
        Confirmation::Locked { .. }
    ));
    // After the lock the right code is dead anyway (no tries left): there
    // is no code to guess, so the try is refused but not counted.
    w.clock.advance(Duration::from_secs(61));
    assert!(matches!(
        w.mfa
            .confirm_channel_enrollment(&fay, Channel::Sms, &code)
            .await
            .unwrap(),
        Confirmation::Rejected
    ));
    assert_eq!(
        w.mfa
            .store()
            .throttle_state(&fay.id, mfa_core::FactorKind::Sms)
            .await
            .unwrap()
            .failures,
        5,
        "a try with no active code is given back"
    );
    // A fresh code after the lock works.
    w.clock.advance(Duration::from_secs(121));
    let _ = w
        .mfa
        .start_channel_enrollment(&fay, Channel::Sms, &SessionState::default())
        .await
        .unwrap();
    let fresh = w.notifier.last_code(&fay.id, Channel::Sms).unwrap();
    assert!(matches!(
        w.mfa
            .confirm_channel_enrollment(&fay, Channel::Sms, &fresh)
            .await
            .unwrap(),
        Confirmation::Enrolled { .. }
    ));
    // No phone number: a clear precondition error.
    let mut nophone = agent("gus");
    nophone.phone = None;
    assert!(matches!(
        w.mfa
            .start_channel_enrollment(&nophone, Channel::Sms, &SessionState::default())
            .await,
        Err(Error::Precondition(PreconditionProblem::NoAddress(
            Channel::Sms
        )))
    ));
    // Delivery failure is reported, and costs the person nothing: the
    // failed send does not start the cooldown, so trying again at once
    // works once the transport is back.
    w.notifier.fail_sends(true);
    w.clock.advance(Duration::from_secs(120));
    assert!(matches!(
        w.mfa
            .start_channel_enrollment(&fay, Channel::Email, &w.verified())
            .await,
        Err(Error::Notify(_))
    ));
    w.notifier.fail_sends(false);
    assert!(matches!(
        w.mfa
            .start_channel_enrollment(&fay, Channel::Email, &w.verified())
            .await,
        Ok(SendOutcome::Sent { .. })
    ));
}

#[tokio::test]
async fn remembered_browsers() {
    let w = world();
    let hal = agent("hal");
    w.enroll_app(&hal, "Phone").await;
    let ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0";
    // Only a freshly verified session may remember its browser.
    assert!(matches!(
        w.mfa
            .remember_device(&hal, ua, &SessionState::default())
            .await,
        Err(Error::StepUpRequired)
    ));
    let remembered = w
        .mfa
        .remember_device(&hal, ua, &w.verified())
        .await
        .unwrap();
    assert_eq!(remembered.name, "Firefox on Windows");
    assert_eq!(
        remembered.expires_at,
        w.now().plus(Duration::from_secs(30 * 86_400))
    );
    assert!(!format!("{remembered:?}").contains(remembered.token.expose()));
    let token = remembered.token.expose().to_owned();
    assert!(w.mfa.check_device(&hal, &token).await.unwrap());
    assert!(!w.mfa.check_device(&hal, "not-a-token").await.unwrap());
    assert!(
        !w.mfa.check_device(&agent("ivy"), &token).await.unwrap(),
        "bound to its subject"
    );
    // With the remembered flag the gate lets Hal through without a code.
    let session = SessionState {
        verified_at: None,
        device_remembered: true,
    };
    assert_eq!(w.mfa.decide(&hal, &session).await.unwrap(), Decision::Allow);
    let devices = w.mfa.devices(&hal).await.unwrap();
    assert_eq!(devices.len(), 1);
    assert!(devices[0].last_used_at.is_some());

    // The admin shortens remembering to 7 days: a 10-day-old browser no longer counts.
    w.clock.advance(Duration::from_secs(10 * 86_400));
    assert!(w.mfa.check_device(&hal, &token).await.unwrap());
    let mut policy = Policy::default();
    policy.set_role(
        Role::AGENT,
        RolePolicy::optional().with_remember_device(Some(Duration::from_secs(7 * 86_400))),
    );
    w.mfa.update_policy(&admin(), policy).await.unwrap();
    assert!(!w.mfa.check_device(&hal, &token).await.unwrap());
    // Revoking needs step-up; after 30 days a device expires anyway.
    w.mfa
        .update_policy(&admin(), Policy::default())
        .await
        .unwrap();
    assert!(matches!(
        w.mfa
            .revoke_device(&hal, &remembered.id, &SessionState::default())
            .await,
        Err(Error::StepUpRequired)
    ));
    w.mfa
        .revoke_device(&hal, &remembered.id, &w.verified())
        .await
        .unwrap();
    assert!(!w.mfa.check_device(&hal, &token).await.unwrap());
    // An MFA reset clears remembered devices.
    let again = w
        .mfa
        .remember_device(&hal, ua, &w.verified())
        .await
        .unwrap();
    assert!(
        w.mfa
            .check_device(&hal, again.token.expose())
            .await
            .unwrap()
    );
    let removed = w.mfa.reset(&admin(), &hal).await.unwrap();
    assert_eq!(removed.devices, 1);
    assert!(
        !w.mfa
            .check_device(&hal, again.token.expose())
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn the_admin_enforces_mfa_with_a_grace_period_then_shortens_it() {
    let w = world();
    let ian = agent("ian");
    let customer = Subject::new(SubjectId::new("cust-1").unwrap(), [Role::END_USER]);
    // Dry run first: who would be affected?
    let mut enforce = Policy::default();
    enforce.set_role(
        Role::AGENT,
        RolePolicy::required(Duration::from_secs(14 * 86_400)),
    );
    let report = w
        .mfa
        .dry_run(enforce.clone(), &[ian.clone(), customer.clone()])
        .await
        .unwrap();
    assert_eq!(
        (report.subjects, report.not_required, report.enroll_now),
        (2, 1, 0)
    );
    assert_eq!(report.enroll_by.values().sum::<usize>(), 1);
    // Nothing was stored by the dry run.
    assert_eq!(w.mfa.policy().await.unwrap(), Policy::default());

    let stored = w.mfa.update_policy(&admin(), enforce).await.unwrap();
    assert_eq!(stored.rule(&Role::AGENT).required_since, Some(w.now()));
    let deadline = w.now().plus(Duration::from_secs(14 * 86_400));
    assert_eq!(
        w.mfa.decide(&ian, &SessionState::default()).await.unwrap(),
        Decision::EnrollBy {
            deadline,
            methods: MethodSet::ALL
        }
    );
    assert_eq!(
        w.mfa
            .decide(&customer, &SessionState::default())
            .await
            .unwrap(),
        Decision::Allow
    );
    // The deadline is fixed: a day later it has not moved.
    w.clock.advance(Duration::from_secs(86_400));
    assert!(matches!(
        w.mfa.decide(&ian, &SessionState::default()).await.unwrap(),
        Decision::EnrollBy { deadline: d, .. } if d == deadline
    ));
    // Shortened to 3 days: Ian's deadline moves in.
    let mut shorter = Policy::default();
    shorter.set_role(
        Role::AGENT,
        RolePolicy::required(Duration::from_secs(3 * 86_400)),
    );
    w.mfa.update_policy(&admin(), shorter).await.unwrap();
    let shortened = w.now().plus(Duration::from_secs(3 * 86_400));
    assert!(matches!(
        w.mfa.decide(&ian, &SessionState::default()).await.unwrap(),
        Decision::EnrollBy { deadline: d, .. } if d == shortened
    ));
    // Past it: enroll now.
    w.clock.advance(Duration::from_secs(3 * 86_400));
    assert!(matches!(
        w.mfa.decide(&ian, &SessionState::default()).await.unwrap(),
        Decision::EnrollNow { .. }
    ));
    // He enrolls; now he is asked to verify like everyone else.
    w.enroll_app(&ian, "Phone").await;
    assert!(matches!(
        w.mfa.decide(&ian, &SessionState::default()).await.unwrap(),
        Decision::VerifyNow { .. }
    ));
    // The policy change is audited with the admin's id.
    let events = w.mfa.audit_events(&AuditQuery::latest(500)).await.unwrap();
    let updates: Vec<_> = events
        .iter()
        .filter(|e| e.event.action == AuditAction::PolicyUpdated)
        .collect();
    assert_eq!(updates.len(), 2);
    assert!(
        updates
            .iter()
            .all(|e| e.event.actor == Actor::Admin(admin()) && e.event.subject.is_none())
    );
    // Pagination: pages of 3 cover everything once.
    let mut seen = Vec::new();
    let mut query = AuditQuery::latest(3);
    loop {
        let page = w.mfa.audit_events(&query).await.unwrap();
        let Some(last) = page.last() else { break };
        query = AuditQuery::latest(3).before(last.id);
        seen.extend(page.into_iter().map(|e| e.id));
    }
    assert_eq!(seen, events.iter().map(|e| e.id).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_stricter_role_caps_a_deadline_fixed_under_a_laxer_one() {
    const DAY: u64 = 86_400;
    let w = world();
    let day0 = w.now();
    let day = |n: u64| day0.plus(Duration::from_secs(n * DAY));
    let lead = Role::new("team_lead").unwrap();
    let ian = agent("ian");
    let ian_lead = Subject::new(ian.id.clone(), [Role::AGENT, lead.clone()])
        .with_email("ian@example.com")
        .with_phone("+15550100");
    let fresh = SessionState::default();

    // Day 0: agents must enroll within 30 days; Ian first signs in on day 5.
    let mut policy = Policy::default();
    policy.set_role(
        Role::AGENT,
        RolePolicy::required(Duration::from_secs(30 * DAY)),
    );
    w.mfa.update_policy(&admin(), policy.clone()).await.unwrap();
    w.clock.set(day(5));
    assert!(matches!(
        w.mfa.decide(&ian, &fresh).await.unwrap(),
        Decision::EnrollBy { deadline, .. } if deadline == day(35)
    ));

    // Day 10: team leads must enroll within 7 days. Ian becomes one on day
    // 11: the team-lead rule started on day 10, so he has until day 17 —
    // not a fresh 7 days from day 11, and never more than his day-35
    // deadline.
    policy.set_role(
        lead.clone(),
        RolePolicy::required(Duration::from_secs(7 * DAY)),
    );
    w.clock.set(day(10));
    w.mfa.update_policy(&admin(), policy.clone()).await.unwrap();
    w.clock.set(day(11));
    assert!(matches!(
        w.mfa.decide(&ian_lead, &fresh).await.unwrap(),
        Decision::EnrollBy { deadline, .. } if deadline == day(17)
    ));
    // The deadline does not slide while he keeps signing in.
    w.clock.set(day(16));
    assert!(matches!(
        w.mfa.decide(&ian_lead, &fresh).await.unwrap(),
        Decision::EnrollBy { deadline, .. } if deadline == day(17)
    ));
    w.clock.set(day(17));
    assert!(matches!(
        w.mfa.decide(&ian_lead, &fresh).await.unwrap(),
        Decision::EnrollNow { .. }
    ));

    // A team-lead rule with a grace just shorter than the agents' never
    // lengthens the deadline fixed on day 5 (day 35), although the rule
    // started after it was fixed.
    policy.set_role(lead, RolePolicy::required(Duration::from_secs(29 * DAY)));
    w.mfa.update_policy(&admin(), policy).await.unwrap();
    w.clock.set(day(20));
    assert!(matches!(
        w.mfa.decide(&ian_lead, &fresh).await.unwrap(),
        Decision::EnrollBy { deadline, .. } if deadline == day(35)
    ));
    // Without the role, the agents' rule alone: still day 35.
    assert!(matches!(
        w.mfa.decide(&ian, &fresh).await.unwrap(),
        Decision::EnrollBy { deadline, .. } if deadline == day(35)
    ));
}

#[tokio::test]
async fn reseal_skips_and_reports_secrets_no_configured_key_opens() {
    let store = MemoryStore::new();
    // Kim's secret is sealed under key 1, Lee's under key 2.
    let first = world_with(
        store.clone(),
        Sealer::new(vec![SealingKey::new(1, [1; 32])]).unwrap(),
    );
    let kim = agent("kim");
    let (kim_enrollment, _) = first.enroll_app(&kim, "Phone").await;
    let second = world_with(
        store.clone(),
        Sealer::new(vec![SealingKey::new(2, [2; 32])]).unwrap(),
    );
    second.clock.set(first.now());
    let lee = agent("lee");
    second.enroll_app(&lee, "Phone").await;

    // Key 1 is gone; key 3 is the new one. Kim's secret cannot be opened:
    // the pass skips it and re-seals Lee's.
    let rotated = world_with(
        store.clone(),
        Sealer::new(vec![
            SealingKey::new(2, [2; 32]),
            SealingKey::new(3, [3; 32]),
        ])
        .unwrap(),
    );
    rotated.clock.set(second.now());
    let sealed_kim = store.list_totp(&kim.id).await.unwrap()[0]
        .sealed_secret
        .clone();
    let report = rotated.mfa.reseal_all().await.unwrap();
    assert_eq!(
        (report.examined, report.resealed, report.skipped),
        (2, 1, 0)
    );
    assert_eq!(report.unreadable, vec![kim_enrollment.id.clone()]);
    assert_eq!(
        store.list_totp(&kim.id).await.unwrap()[0].sealed_secret,
        sealed_kim,
        "left as it was"
    );
    assert_eq!(
        store.list_totp(&lee.id).await.unwrap()[0]
            .sealed_secret
            .key_id(),
        3
    );
    // Audited per credential, with its id and never the ciphertext.
    let events = rotated
        .mfa
        .audit_events(&AuditQuery::latest(500))
        .await
        .unwrap();
    let unreadable: Vec<_> = events
        .iter()
        .filter(|e| e.event.action == AuditAction::SecretUnreadable)
        .collect();
    assert_eq!(unreadable.len(), 1);
    let event = &unreadable[0].event;
    assert_eq!(event.subject.as_ref(), Some(&kim.id));
    assert_eq!(event.actor, Actor::System);
    assert_eq!(
        event.detail.as_deref(),
        Some(kim_enrollment.id.to_string().as_str())
    );
    let summary = events
        .iter()
        .find(|e| e.event.action == AuditAction::SecretsResealed)
        .unwrap();
    assert_eq!(
        summary.event.detail.as_deref(),
        Some("2 examined, 1 re-sealed, 0 skipped, 1 unreadable")
    );
    let hex: String = sealed_kim
        .as_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    for e in &events {
        let shown = format!("{e:?}");
        assert!(!shown.contains(&hex[10..40]), "ciphertext in {shown}");
    }

    // Key id 1 configured again, but with other bytes: the secret does
    // not open (corrupt for this key) and is reported the same way.
    let wrong = world_with(
        store.clone(),
        Sealer::new(vec![
            SealingKey::new(1, [9; 32]),
            SealingKey::new(3, [3; 32]),
        ])
        .unwrap(),
    );
    let report = wrong.mfa.reseal_all().await.unwrap();
    assert_eq!(
        (report.examined, report.resealed, report.unreadable.len()),
        (2, 0, 1)
    );
    // With key 1 back, the next pass re-seals it and nothing is left.
    let restored = world_with(
        store.clone(),
        Sealer::new(vec![
            SealingKey::new(1, [1; 32]),
            SealingKey::new(3, [3; 32]),
        ])
        .unwrap(),
    );
    let report = restored.mfa.reseal_all().await.unwrap();
    assert_eq!((report.resealed, report.unreadable.len()), (1, 0));
}

#[tokio::test]
async fn disabled_policy_refuses_enrollment_and_disable_turns_everything_off() {
    let w = world();
    let jo = agent("jo");
    w.enroll_app(&jo, "Phone").await;
    assert!(matches!(
        w.mfa.disable(&jo, &SessionState::default()).await,
        Err(Error::StepUpRequired)
    ));
    w.mfa.disable(&jo, &w.verified()).await.unwrap();
    assert!(
        w.notifier
            .notices_for(&jo.id)
            .contains(&NoticeKind::MfaDisabled)
    );
    let status = w.mfa.status(&jo, &SessionState::default()).await.unwrap();
    assert!(status.authenticators.is_empty() && status.recovery_codes_left == 0);

    // An enrollment started before the admin turns MFA off cannot be
    // confirmed after.
    let started = w
        .mfa
        .start_totp_enrollment(&jo, &SessionState::default())
        .await
        .unwrap();
    let mut off = Policy::default();
    off.set_role(Role::AGENT, RolePolicy::disabled());
    w.mfa.update_policy(&admin(), off).await.unwrap();
    let code = w.phone_code(&started);
    assert!(matches!(
        w.mfa
            .confirm_totp_enrollment(&jo, &started.id, &code, "Phone", DriftTolerance::Standard)
            .await,
        Err(Error::PolicyForbids(PolicyProblem::MfaDisabled))
    ));
    assert!(matches!(
        w.mfa
            .start_totp_enrollment(&jo, &SessionState::default())
            .await,
        Err(Error::PolicyForbids(PolicyProblem::MfaDisabled))
    ));
    assert!(matches!(
        w.mfa.verify(&jo, Attempt::Totp("123456")).await,
        Err(Error::PolicyForbids(PolicyProblem::MfaDisabled))
    ));
    let mut app_off = Policy::default();
    app_off.set_role(
        Role::AGENT,
        RolePolicy::optional().with_methods(MethodSet {
            app: false,
            email: true,
            sms: true,
        }),
    );
    w.mfa.update_policy(&admin(), app_off).await.unwrap();
    assert!(matches!(
        w.mfa
            .start_totp_enrollment(&jo, &SessionState::default())
            .await,
        Err(Error::PolicyForbids(PolicyProblem::MethodNotAllowed(
            FactorKind::Totp
        )))
    ));
}

#[tokio::test]
async fn key_rotation_reseals_everything_and_old_keys_can_go() {
    let store = MemoryStore::new();
    let old = world_with(
        store.clone(),
        Sealer::new(vec![SealingKey::new(1, [1; 32])]).unwrap(),
    );
    let kim = agent("kim");
    let (enrollment, _) = old.enroll_app(&kim, "Phone").await;
    let pending = old
        .mfa
        .start_totp_enrollment(&agent("lee"), &SessionState::default())
        .await
        .unwrap();

    let both = world_with(
        store.clone(),
        Sealer::new(vec![
            SealingKey::new(1, [1; 32]),
            SealingKey::new(2, [2; 32]),
        ])
        .unwrap(),
    );
    both.clock.set(old.now());
    let report = both.mfa.reseal_all().await.unwrap();
    assert_eq!(
        (report.examined, report.resealed, report.skipped),
        (2, 2, 0)
    );
    let again = both.mfa.reseal_all().await.unwrap();
    assert_eq!((again.examined, again.resealed), (2, 0));

    // Only the new key now: Kim still signs in, Lee still confirms.
    let new_only = world_with(
        store,
        Sealer::new(vec![SealingKey::new(2, [2; 32])]).unwrap(),
    );
    new_only.clock.set(old.now().plus(Duration::from_secs(30)));
    let code = new_only.phone_code(&enrollment);
    assert!(is_accepted(
        &new_only
            .mfa
            .verify(&kim, Attempt::Totp(&code))
            .await
            .unwrap(),
        FactorKind::Totp
    ));
    let code = new_only.phone_code(&pending);
    assert!(matches!(
        new_only
            .mfa
            .confirm_totp_enrollment(
                &agent("lee"),
                &pending.id,
                &code,
                "Phone",
                DriftTolerance::Standard
            )
            .await
            .unwrap(),
        Confirmation::Enrolled { .. }
    ));
}

#[tokio::test]
async fn concurrent_sign_ins_with_one_code_accept_it_once() {
    let w = world();
    let max = agent("max");
    let (enrollment, _) = w.enroll_app(&max, "Phone").await;
    w.next_step();
    let code = w.phone_code(&enrollment);
    let mfa = std::sync::Arc::new(w.mfa);
    let mut tasks = Vec::new();
    for _ in 0..32 {
        let (mfa, max, code) = (mfa.clone(), max.clone(), code.clone());
        tasks.push(tokio::spawn(async move {
            mfa.verify(&max, Attempt::Totp(&code)).await.unwrap()
        }));
    }
    let mut accepted = 0;
    for task in tasks {
        if matches!(task.await.unwrap(), Verification::Accepted { .. }) {
            accepted += 1;
        }
    }
    assert_eq!(accepted, 1);
}

#[tokio::test]
async fn nothing_secret_appears_in_debug_output_audit_or_errors() {
    let w = world();
    let nia = agent("nia");
    let enrollment = w
        .mfa
        .start_totp_enrollment(&nia, &SessionState::default())
        .await
        .unwrap();
    let key = enrollment.key.replace(' ', "");
    let code = w.phone_code(&enrollment);
    let confirmation = w
        .mfa
        .confirm_totp_enrollment(
            &nia,
            &enrollment.id,
            &code,
            "Phone",
            DriftTolerance::Standard,
        )
        .await
        .unwrap();
    let Confirmation::Enrolled {
        recovery_codes: Some(codes),
        ..
    } = &confirmation
    else {
        panic!("not enrolled")
    };
    let recovery: Vec<String> = codes.iter().map(|c| c.expose().to_owned()).collect();
    let _ = w
        .mfa
        .start_channel_enrollment(&nia, Channel::Email, &w.verified())
        .await
        .unwrap();
    let sent = w.notifier.last_code(&nia.id, Channel::Email).unwrap();
    let remembered = w
        .mfa
        .remember_device(&nia, "curl", &w.verified())
        .await
        .unwrap();
    let token = remembered.token.expose().to_owned();
    let v = w
        .mfa
        .verify(&nia, Attempt::Recovery(&recovery[0]))
        .await
        .unwrap();
    let bad = w
        .mfa
        .verify(&nia, Attempt::Totp("12x456"))
        .await
        .unwrap_err();

    let mut shown = vec![
        format!("{enrollment:?}"),
        format!("{confirmation:?}"),
        format!("{remembered:?}"),
        format!("{v:?}"),
        format!("{bad:?} {bad}"),
        format!("{:?}", w.mfa.config()),
        format!("{:?}", w.mfa),
        format!("{:?}", w.notifier.notices()),
    ];
    for event in w.mfa.audit_events(&AuditQuery::latest(500)).await.unwrap() {
        shown.push(format!("{event:?}"));
    }
    for text in &shown {
        assert!(!text.contains(&key), "TOTP key in {text}");
        assert!(!text.contains(&key[..16]), "TOTP key prefix in {text}");
        assert!(!text.contains(&code), "TOTP code in {text}");
        assert!(!text.contains(&sent), "sent code in {text}");
        assert!(!text.contains(&token), "device token in {text}");
        for r in &recovery {
            assert!(!text.contains(r.as_str()), "recovery code in {text}");
        }
    }
    // The store holds no secret in the clear either.
    let dump = format!("{:?}", w.store);
    assert!(!dump.contains(&key) && !dump.contains(&token) && !dump.contains(&recovery[1]));
    let _ = w.store.list_totp(&nia.id).await.unwrap();
}

#[tokio::test]
async fn an_authenticator_no_key_opens_never_matches_and_the_others_still_work() {
    let store = MemoryStore::new();
    // Mia's first phone is sealed under key 1, her tablet under key 2.
    let first = world_with(
        store.clone(),
        Sealer::new(vec![SealingKey::new(1, [1; 32])]).unwrap(),
    );
    let mia = agent("mia");
    let (phone, _) = first.enroll_app(&mia, "Phone").await;
    let second = world_with(
        store.clone(),
        Sealer::new(vec![SealingKey::new(2, [2; 32])]).unwrap(),
    );
    second.clock.set(first.now().plus(Duration::from_secs(60)));
    let (tablet, _) = second.enroll_app(&mia, "Tablet").await;

    // Only key 2 is configured now: the phone's secret cannot be opened.
    second.clock.advance(Duration::from_secs(60));
    let with_phone = second.phone_code(&phone);
    assert_eq!(
        second
            .mfa
            .verify(&mia, Attempt::Totp(&with_phone))
            .await
            .unwrap(),
        Verification::Rejected,
        "an unreadable secret never matches, and is no error"
    );
    let with_tablet = second.phone_code(&tablet);
    assert!(
        matches!(
            second
                .mfa
                .verify(&mia, Attempt::Totp(&with_tablet))
                .await
                .unwrap(),
            Verification::Accepted { credential: Some(ref id), .. } if *id == tablet.id
        ),
        "the other authenticator still signs in"
    );
    let unreadable: Vec<_> = store
        .list_audit(&AuditQuery::latest(100).for_subject(mia.id.clone()))
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.event.action == AuditAction::SecretUnreadable)
        .collect();
    assert_eq!(unreadable.len(), 2, "audited at each sign-in");
    assert!(
        unreadable
            .iter()
            .all(|e| e.event.detail.as_deref() == Some(phone.id.as_str())),
        "the detail names the credential"
    );
}

#[tokio::test]
async fn a_password_change_forgets_every_remembered_browser() {
    let w = world();
    let nia = agent("nia");
    w.enroll_app(&nia, "Phone").await;
    let remembered = w
        .mfa
        .remember_device(&nia, "Firefox on Linux", &w.verified())
        .await
        .unwrap();
    assert!(
        w.mfa
            .check_device(&nia, remembered.token.expose())
            .await
            .unwrap()
    );
    assert_eq!(w.mfa.password_changed(&nia).await.unwrap(), 1);
    assert!(
        !w.mfa
            .check_device(&nia, remembered.token.expose())
            .await
            .unwrap(),
        "the browser asks for the second step again"
    );
    let events = w
        .store
        .list_audit(&AuditQuery::latest(10).for_subject(nia.id.clone()))
        .await
        .unwrap();
    assert_eq!(events[0].event.action, AuditAction::DeviceRevoked);
    assert_eq!(events[0].event.actor, Actor::System);
}
