//! Verification and generation never touch the heap.
//!
//! A counting global allocator (stats_alloc) wraps the system allocator for
//! this test binary alone. The binary has no test harness (`harness =
//! false`): libtest's own threads allocate now and then, and a global count
//! would see them, so the check runs alone on the main thread.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)] // tests fail by panicking

use std::alloc::System;

use mfa_core::Secret;
use mfa_core::otp::{Algorithm, Code, Digits, Hotp, Totp, TotpConfig, Verdict, Window};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

fn main() {
    generating_and_verifying_allocate_nothing();
    println!("alloc_free: generating and verifying allocated nothing");
}

fn generating_and_verifying_allocate_nothing() {
    let window = Window::symmetric(u32::from(Window::MAX_STEPS)).unwrap();
    for algorithm in [Algorithm::Sha1, Algorithm::Sha256, Algorithm::Sha512] {
        for len in [16, 20, 64, 128] {
            let secret = Secret::from_bytes(&vec![0x42; len]).unwrap();
            let config = TotpConfig::new(algorithm, Digits::SIX, 30).unwrap();
            let totp = Totp::new(&secret, &config);
            let hotp = Hotp::new(&secret, algorithm, Digits::EIGHT);
            let now = 1_700_000_000;
            let right = totp.generate_at(now).unwrap();
            let wrong = Code::parse("000000", Digits::SIX).unwrap();

            let region = Region::new(GLOBAL);
            let mut matched = 0;
            for at in [now, now + 30, now - 30, 0, u64::MAX] {
                for code in [&right, &wrong] {
                    for last in [None, Some(0), Some(u64::MAX)] {
                        if let Verdict::Match { .. } = totp.verify(code, at, window, last) {
                            matched += 1;
                        }
                    }
                }
                let _ = totp.generate_at(at);
                let _ = hotp.verify(&hotp.generate(at), at, 10);
            }
            let parsed = Code::parse(" 123 456 ", Digits::SIX);
            let stats = region.change();

            assert!(matched > 0, "the right code was matched");
            assert!(parsed.is_ok());
            assert_eq!(
                (stats.allocations, stats.reallocations),
                (0, 0),
                "{algorithm} with a {len}-byte key allocated: {stats:?}"
            );
        }
    }
}
