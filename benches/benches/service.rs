//! Verification through the service (`Mfa::verify` on a MemoryStore):
//! throttle check, listing authenticators, unsealing the secret,
//! constant-work TOTP verification, the compare-and-set that consumes the
//! step, resetting the failure counter and the audit record — beside the
//! raw engine verify, to show what the service adds.
//!
//! Run: `cargo bench -p mfa-benches --bench service`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)] // bench setup fails loudly

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use mfa_core::otp::{Code, Totp, Window};
use mfa_core::policy::SessionState;
use mfa_core::seal::{Sealer, SealingKey};
use mfa_core::service::{Attempt, Confirmation, DriftTolerance};
use mfa_core::testing::{ManualClock, RecordingNotifier};
use mfa_core::{
    Clock, CredentialId, FactorKind, MemoryStore, Mfa, MfaConfig, Pepper, Role, Secret, Store,
    Subject, SubjectId, Timestamp,
};

type Service = Mfa<MemoryStore, RecordingNotifier, ManualClock>;

fn setup(rt: &tokio::runtime::Runtime) -> (Service, ManualClock, Subject, Secret) {
    let clock = ManualClock::new(Timestamp::from_unix(1_800_000_000));
    let config = MfaConfig::new(
        "Bench Desk",
        Pepper::new(&[9; 32]).unwrap(),
        Sealer::new(vec![SealingKey::new(1, [3; 32])]).unwrap(),
    );
    let mfa = Mfa::new(
        MemoryStore::new(),
        RecordingNotifier::new(),
        clock.clone(),
        config,
    );
    let subject = Subject::new(SubjectId::new("bench-agent").unwrap(), [Role::AGENT]);
    let secret = rt.block_on(async {
        let enrollment = mfa
            .start_totp_enrollment(&subject, &SessionState::default())
            .await
            .unwrap();
        let secret = Secret::from_base32(&enrollment.key).unwrap();
        let code = Totp::new(&secret, &enrollment.config)
            .generate_at(clock.now().unix())
            .unwrap();
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
        secret
    });
    (mfa, clock, subject, secret)
}

fn service_verify(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let (mfa, clock, subject, secret) = setup(&rt);
    let engine = Totp::new(&secret, &mfa.config().totp);
    let credential: CredentialId = rt
        .block_on(mfa.store().list_totp(&subject.id))
        .unwrap()
        .remove(0)
        .id;
    let sealed = rt.block_on(mfa.store().list_totp(&subject.id)).unwrap()[0]
        .sealed_secret
        .clone();

    let mut group = c.benchmark_group("service-verify");
    // Each iteration moves to the next step so the code is fresh (accepted);
    // `PerIteration` runs each setup right before its routine.
    group.bench_function("mfa-core service/correct", |b| {
        b.iter_batched(
            || {
                let now = clock.advance(Duration::from_secs(30));
                engine.generate_at(now.unix()).unwrap().expose().to_string()
            },
            // Rarely (about 1 in 500,000) two neighbouring steps share their
            // digits and the newer step was consumed already, so this one is
            // a replay: no assertion on the outcome.
            |code| {
                rt.block_on(mfa.verify(&subject, Attempt::Totp(&code)))
                    .unwrap()
            },
            BatchSize::PerIteration,
        );
    });
    // A wrong code: computed in full, charged as a failure (the charge is
    // given back in the untimed setup so the lock never engages).
    group.bench_function("mfa-core service/wrong", |b| {
        b.iter_batched(
            || {
                rt.block_on(mfa.store().settle_attempt(
                    &subject.id,
                    FactorKind::Totp,
                    mfa.config().throttle,
                    mfa_core::store::Settlement::Refunded,
                ))
                .unwrap();
                let now = clock.advance(Duration::from_secs(30));
                let right = engine.generate_at(now.unix()).unwrap().expose().to_string();
                if right == "000000" {
                    "000001"
                } else {
                    "000000"
                }
                .to_owned()
            },
            |code| {
                rt.block_on(mfa.verify(&subject, Attempt::Totp(&code)))
                    .unwrap()
            },
            BatchSize::PerIteration,
        );
    });
    group.bench_function("engine: unseal + prepare + verify", |b| {
        let sealer = &mfa.config().sealer;
        b.iter(|| {
            let secret = sealer
                .open(black_box(&sealed), &subject.id, &credential)
                .unwrap();
            let totp = Totp::new(&secret, &mfa.config().totp);
            let code = Code::parse("000000", totp.config().digits()).unwrap();
            totp.verify(&code, black_box(1_800_000_000), Window::default(), None)
        });
    });
    group.bench_function("engine: verify (prepared key)", |b| {
        b.iter(|| {
            let code = Code::parse("000000", engine.config().digits()).unwrap();
            engine.verify(&code, black_box(1_800_000_000), Window::default(), None)
        });
    });
    group.finish();
}

criterion_group!(benches, service_verify);
criterion_main!(benches);
