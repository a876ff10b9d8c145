//! RFC 4226 Appendix D and RFC 6238 Appendix B, from `data/rfc-vectors.txt`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use mfa_core::Secret;
use mfa_core::otp::{Algorithm, Code, Digits, Hotp, Totp, TotpConfig, Verdict, Window};

struct Vector {
    kind: String,
    algorithm: Algorithm,
    seed: Secret,
    input: u64,
    digits: Digits,
    expected: String,
}

fn vectors() -> Vec<Vector> {
    include_str!("data/rfc-vectors.txt")
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(f.len(), 6, "malformed vector line: {line}");
            Vector {
                kind: f[0].to_owned(),
                algorithm: f[1].parse().unwrap(),
                seed: Secret::from_bytes(f[2].as_bytes()).unwrap(),
                input: f[3].parse().unwrap(),
                digits: Digits::new(f[4].parse().unwrap()).unwrap(),
                expected: f[5].to_owned(),
            }
        })
        .collect()
}

#[test]
fn the_file_has_every_vector_of_both_rfcs() {
    let all = vectors();
    assert_eq!(all.iter().filter(|v| v.kind == "hotp").count(), 10);
    assert_eq!(all.iter().filter(|v| v.kind == "totp").count(), 18);
    // Three different seeds, one per algorithm.
    for (alg, len) in [
        (Algorithm::Sha1, 20),
        (Algorithm::Sha256, 32),
        (Algorithm::Sha512, 64),
    ] {
        assert!(
            all.iter()
                .filter(|v| v.kind == "totp" && v.algorithm == alg)
                .all(|v| v.seed.len() == len)
        );
    }
    assert!(all.iter().any(|v| v.input == 20_000_000_000));
}

#[test]
fn hotp_generates_and_verifies_rfc4226_vectors() {
    for v in vectors().iter().filter(|v| v.kind == "hotp") {
        let hotp = Hotp::new(&v.seed, v.algorithm, v.digits);
        assert_eq!(
            hotp.generate(v.input).expose().as_str(),
            v.expected,
            "counter {}",
            v.input
        );
        let code = Code::parse(&v.expected, v.digits).unwrap();
        assert_eq!(
            hotp.verify(&code, v.input, 0),
            Verdict::Match {
                step: v.input,
                offset: 0
            }
        );
        // Found by look-ahead from an earlier counter, but never from a later one.
        assert!(matches!(
            hotp.verify(&code, v.input.saturating_sub(2), 2),
            Verdict::Match { step, .. } if step == v.input
        ));
        assert_eq!(hotp.verify(&code, v.input + 1, 5), Verdict::NoMatch);
    }
}

#[test]
fn totp_generates_and_verifies_rfc6238_vectors() {
    for v in vectors().iter().filter(|v| v.kind == "totp") {
        let config = TotpConfig::new(v.algorithm, v.digits, 30).unwrap();
        let totp = Totp::new(&v.seed, &config);
        let at = v.input;
        let label = format!("{} at T={at}", v.algorithm);
        assert_eq!(
            totp.generate_at(at).unwrap().expose().as_str(),
            v.expected,
            "{label}"
        );
        let code = Code::parse(&v.expected, v.digits).unwrap();
        let step = at / 30;
        assert_eq!(
            totp.verify(&code, at, Window::EXACT, None),
            Verdict::Match { step, offset: 0 },
            "{label}"
        );
        // One step later the code is still inside the default window, seen
        // as coming from the previous step.
        assert_eq!(
            totp.verify(&code, at + 30, Window::default(), None),
            Verdict::Match { step, offset: -1 },
            "{label}"
        );
        assert_eq!(
            totp.verify(&code, at, Window::default(), Some(step)),
            Verdict::Replay,
            "{label}"
        );
    }
}
