//! OTP verification: mfa-core beside totp-rs 6.0 `check` and a floor that
//! does nothing but the two compression-function calls per step that any
//! HMAC-based OTP needs. Then one step alone: mfa-core's prepared HMAC
//! state against a pre-keyed `hmac::Hmac` / `hmac::SimpleHmac` cloned per
//! step (is the hand-written HMAC worth keeping?).
//!
//! Run: `cargo bench -p mfa-benches --bench otp` (one step only:
//! `... --bench otp -- hmac-step`)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)] // bench setup fails loudly

use std::alloc::System;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use hmac::{Hmac, KeyInit, Mac, SimpleHmac};
use mfa_core::Secret;
use mfa_core::otp::{Algorithm, Code, Digits, Hotp, Totp, TotpConfig, Window};
use sha1::Sha1;
use sha2::{Sha256, Sha512};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const NOW: u64 = 1_700_000_015;
const PERIOD: u64 = 30;

/// The floor: HMAC with precomputed inner/outer states written directly on
/// the compression functions, one block in and one block out per step,
/// over the same ±1 window. Nothing else an implementation could skip.
mod floor {
    const SHA1_H0: [u32; 5] = [
        0x6745_2301,
        0xEFCD_AB89,
        0x98BA_DCFE,
        0x1032_5476,
        0xC3D2_E1F0,
    ];
    const SHA256_H0: [u32; 8] = [
        0x6a09_e667,
        0xbb67_ae85,
        0x3c6e_f372,
        0xa54f_f53a,
        0x510e_527f,
        0x9b05_688c,
        0x1f83_d9ab,
        0x5be0_cd19,
    ];
    const SHA512_H0: [u64; 8] = [
        0x6a09_e667_f3bc_c908,
        0xbb67_ae85_84ca_a73b,
        0x3c6e_f372_fe94_f82b,
        0xa54f_f53a_5f1d_36f1,
        0x510e_527f_ade6_82d1,
        0x9b05_688c_2b3e_6c1f,
        0x1f83_d9ab_fb41_bd6b,
        0x5be0_cd19_137e_2179,
    ];

    pub(crate) enum Floor {
        Sha1([u32; 5], [u32; 5]),
        Sha256([u32; 8], [u32; 8]),
        Sha512([u64; 8], [u64; 8]),
    }

    fn pads<const B: usize>(key: &[u8]) -> ([u8; B], [u8; B]) {
        assert!(key.len() <= B, "floor keys fit one block");
        let (mut i, mut o) = ([0x36u8; B], [0x5cu8; B]);
        for (n, k) in key.iter().enumerate() {
            i[n] ^= k;
            o[n] ^= k;
        }
        (i, o)
    }

    /// One padded block holding `msg` after `prefix_blocks` blocks of key.
    fn padded<const B: usize>(msg: &[u8], prefix_blocks: usize) -> [u8; B] {
        let mut block = [0u8; B];
        block[..msg.len()].copy_from_slice(msg);
        block[msg.len()] = 0x80;
        let bits = ((prefix_blocks * B + msg.len()) * 8) as u64;
        block[B - 8..].copy_from_slice(&bits.to_be_bytes());
        block
    }

    impl Floor {
        pub(crate) fn new(alg: super::Algorithm, key: &[u8]) -> Self {
            match alg {
                super::Algorithm::Sha1 => {
                    let (i, o) = pads::<64>(key);
                    let (mut si, mut so) = (SHA1_H0, SHA1_H0);
                    sha1::block_api::compress(&mut si, &[i]);
                    sha1::block_api::compress(&mut so, &[o]);
                    Self::Sha1(si, so)
                }
                super::Algorithm::Sha256 => {
                    let (i, o) = pads::<64>(key);
                    let (mut si, mut so) = (SHA256_H0, SHA256_H0);
                    sha2::block_api::compress256(&mut si, &[i]);
                    sha2::block_api::compress256(&mut so, &[o]);
                    Self::Sha256(si, so)
                }
                _ => {
                    let (i, o) = pads::<128>(key);
                    let (mut si, mut so) = (SHA512_H0, SHA512_H0);
                    sha2::block_api::compress512(&mut si, &[i]);
                    sha2::block_api::compress512(&mut so, &[o]);
                    Self::Sha512(si, so)
                }
            }
        }

        /// The 31-bit truncated HMAC of `counter`: exactly two compressions.
        #[inline]
        pub(crate) fn truncated(&self, counter: u64) -> u32 {
            let mut out = [0u8; 64];
            let len = match self {
                Self::Sha1(i, o) => {
                    let mut s = *i;
                    sha1::block_api::compress(&mut s, &[padded::<64>(&counter.to_be_bytes(), 1)]);
                    let mut inner = [0u8; 20];
                    for (c, w) in inner.chunks_mut(4).zip(s) {
                        c.copy_from_slice(&w.to_be_bytes());
                    }
                    let mut s = *o;
                    sha1::block_api::compress(&mut s, &[padded::<64>(&inner, 1)]);
                    for (c, w) in out.chunks_mut(4).zip(s) {
                        c.copy_from_slice(&w.to_be_bytes());
                    }
                    20
                }
                Self::Sha256(i, o) => {
                    let mut s = *i;
                    sha2::block_api::compress256(
                        &mut s,
                        &[padded::<64>(&counter.to_be_bytes(), 1)],
                    );
                    let mut inner = [0u8; 32];
                    for (c, w) in inner.chunks_mut(4).zip(s) {
                        c.copy_from_slice(&w.to_be_bytes());
                    }
                    let mut s = *o;
                    sha2::block_api::compress256(&mut s, &[padded::<64>(&inner, 1)]);
                    for (c, w) in out.chunks_mut(4).zip(s) {
                        c.copy_from_slice(&w.to_be_bytes());
                    }
                    32
                }
                Self::Sha512(i, o) => {
                    // SHA-512 pads with a 128-bit length; the high half is 0.
                    let mut s = *i;
                    sha2::block_api::compress512(
                        &mut s,
                        &[padded::<128>(&counter.to_be_bytes(), 1)],
                    );
                    let mut inner = [0u8; 64];
                    for (c, w) in inner.chunks_mut(8).zip(s) {
                        c.copy_from_slice(&w.to_be_bytes());
                    }
                    let mut s = *o;
                    sha2::block_api::compress512(&mut s, &[padded::<128>(&inner, 1)]);
                    for (c, w) in out.chunks_mut(8).zip(s) {
                        c.copy_from_slice(&w.to_be_bytes());
                    }
                    64
                }
            };
            let offset = usize::from(out[len - 1] & 0x0f);
            u32::from_be_bytes([
                out[offset],
                out[offset + 1],
                out[offset + 2],
                out[offset + 3],
            ]) & 0x7fff_ffff
        }
    }
}

fn secret_for(alg: Algorithm) -> Vec<u8> {
    // The RFC 6238 seed lengths.
    let len = match alg {
        Algorithm::Sha1 => 20,
        Algorithm::Sha256 => 32,
        _ => 64,
    };
    b"1234567890".iter().copied().cycle().take(len).collect()
}

fn reference(bytes: &[u8], alg: Algorithm) -> totp_rs::Totp {
    let alg = match alg {
        Algorithm::Sha1 => totp_rs::Algorithm::SHA1,
        Algorithm::Sha256 => totp_rs::Algorithm::SHA256,
        _ => totp_rs::Algorithm::SHA512,
    };
    totp_rs::Builder::new()
        .with_algorithm(alg)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(PERIOD)
        .with_secret(bytes.to_vec())
        .build()
        .expect("valid reference")
}

fn allocations(f: impl FnOnce()) -> usize {
    let region = Region::new(GLOBAL);
    f();
    region.change().allocations
}

fn verify(c: &mut Criterion) {
    let mut allocation_facts = serde_json::Map::new();
    for alg in [Algorithm::Sha1, Algorithm::Sha256, Algorithm::Sha512] {
        let bytes = secret_for(alg);
        let totp = Totp::new(
            &Secret::from_bytes(&bytes).expect("valid"),
            &TotpConfig::new(alg, Digits::SIX, PERIOD).expect("valid"),
        );
        let theirs = reference(&bytes, alg);
        let floor = floor::Floor::new(alg, &bytes);
        let step = NOW / PERIOD;
        let right = totp
            .generate_at(NOW)
            .expect("after T0")
            .expose()
            .to_string();
        // A wrong code that is wrong for all three steps.
        let wrong = (0..)
            .map(|n: u32| format!("{:06}", (n * 7919) % 1_000_000))
            .find(|w| (step - 1..=step + 1).all(|s| totp.generate_step(s).expose().as_str() != w))
            .expect("some code is wrong");
        assert_eq!(
            floor.truncated(step) % 1_000_000,
            right.parse::<u32>().expect("digits")
        );
        assert_eq!(theirs.check(&right, NOW), Some(step));

        let ours = |input: &str| {
            let code = Code::parse(input, Digits::SIX).expect("well formed");
            totp.verify(&code, NOW, Window::default(), None)
        };
        let floor_check = |input: &str| {
            let wanted: u32 = input.parse().expect("digits");
            let mut hit = false;
            for s in step - 1..=step + 1 {
                hit |= floor.truncated(s) % 1_000_000 == wanted;
            }
            hit
        };
        let counts = [
            allocations(|| {
                let _ = black_box(ours(&right));
            }),
            allocations(|| {
                let _ = black_box(ours(&wrong));
            }),
            allocations(|| {
                black_box(theirs.check(&right, NOW));
            }),
            allocations(|| {
                black_box(theirs.check(&wrong, NOW));
            }),
        ];
        eprintln!(
            "allocations per verify, {alg}: mfa-core {} / {}, totp-rs {} / {} (correct / wrong)",
            counts[0], counts[1], counts[2], counts[3],
        );
        allocation_facts.insert(
            alg.to_string(),
            serde_json::json!({
                "mfa-core/correct": counts[0],
                "mfa-core/wrong": counts[1],
                "totp-rs/correct": counts[2],
                "totp-rs/wrong": counts[3],
            }),
        );

        let mut group = c.benchmark_group(format!("verify-{alg}"));
        for (label, input) in [("correct", &right), ("wrong", &wrong)] {
            group.bench_function(format!("mfa-core/{label}"), |b| {
                b.iter(|| ours(black_box(input)));
            });
            group.bench_function(format!("totp-rs/{label}"), |b| {
                b.iter(|| theirs.check(black_box(input), black_box(NOW)));
            });
            group.bench_function(format!("floor/{label}"), |b| {
                b.iter(|| floor_check(black_box(input)));
            });
        }
        group.finish();
    }
    mfa_benches::record("otp-allocations", &allocation_facts.into()).expect("report folder");
}

/// RFC 4226 §5.3 dynamic truncation, then six digits.
fn six_digits(mac: &[u8]) -> u32 {
    let offset = usize::from(mac[mac.len() - 1] & 0x0f);
    let word = u32::from_be_bytes([
        mac[offset],
        mac[offset + 1],
        mac[offset + 2],
        mac[offset + 3],
    ]);
    (word & 0x7fff_ffff) % 1_000_000
}

/// One step with a pre-keyed MAC: clone it (the key blocks are already
/// absorbed), feed the counter, finalize.
fn cloned_step<M: Mac + Clone>(keyed: &M, counter: u64) -> u32 {
    let mut mac = keyed.clone();
    mac.update(&counter.to_be_bytes());
    six_digits(&mac.finalize().into_bytes())
}

fn step_with<D>(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    bytes: &[u8],
    counter: u64,
    expected: u32,
) where
    D: hmac::EagerHash + hmac::digest::Digest + hmac::digest::block_api::BlockSizeUser + Clone,
    Hmac<D>: KeyInit + Mac + Clone,
    SimpleHmac<D>: KeyInit + Mac + Clone,
{
    let eager = <Hmac<D> as KeyInit>::new_from_slice(bytes).expect("any key length");
    let simple = <SimpleHmac<D> as KeyInit>::new_from_slice(bytes).expect("any key length");
    assert_eq!(cloned_step(&eager, counter), expected);
    assert_eq!(cloned_step(&simple, counter), expected);
    group.bench_function("hmac::Hmac clone", |b| {
        b.iter(|| cloned_step(&eager, black_box(counter)));
    });
    group.bench_function("hmac::SimpleHmac clone", |b| {
        b.iter(|| cloned_step(&simple, black_box(counter)));
    });
}

fn hmac_step(c: &mut Criterion) {
    let counter = NOW / PERIOD;
    for alg in [Algorithm::Sha1, Algorithm::Sha256, Algorithm::Sha512] {
        let bytes = secret_for(alg);
        let hotp = Hotp::new(
            &Secret::from_bytes(&bytes).expect("valid"),
            alg,
            Digits::SIX,
        );
        let floor = floor::Floor::new(alg, &bytes);
        let ours =
            |counter: u64| -> u32 { hotp.generate(counter).expose().parse().expect("six digits") };
        let expected = ours(counter);
        assert_eq!(floor.truncated(counter) % 1_000_000, expected);

        let mut group = c.benchmark_group(format!("hmac-step-{alg}"));
        group.bench_function("mfa-core prepared state", |b| {
            b.iter(|| hotp.generate(black_box(counter)));
        });
        group.bench_function("floor", |b| {
            b.iter(|| floor.truncated(black_box(counter)) % 1_000_000);
        });
        match alg {
            Algorithm::Sha1 => step_with::<Sha1>(&mut group, &bytes, counter, expected),
            Algorithm::Sha256 => step_with::<Sha256>(&mut group, &bytes, counter, expected),
            _ => step_with::<Sha512>(&mut group, &bytes, counter, expected),
        }
        group.finish();
    }
}

criterion_group!(benches, verify, hmac_step);
criterion_main!(benches);
