//! Property tests: agreement with totp-rs, round trips, and parsers that
//! never panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use mfa_core::otp::{Algorithm, Code, Digits, Totp, TotpConfig, Verdict, Window};
use mfa_core::{KeyUri, Secret};
use proptest::prelude::*;

fn algorithm() -> impl Strategy<Value = Algorithm> {
    prop_oneof![
        Just(Algorithm::Sha1),
        Just(Algorithm::Sha256),
        Just(Algorithm::Sha512)
    ]
}

fn digits() -> impl Strategy<Value = Digits> {
    (6u32..=8).prop_map(|d| Digits::new(d).unwrap())
}

fn secret_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), Secret::MIN_LEN..=Secret::MAX_LEN)
}

fn reference(bytes: &[u8], algorithm: Algorithm, digits: Digits, period: u64) -> totp_rs::Totp {
    let algorithm = match algorithm {
        Algorithm::Sha1 => totp_rs::Algorithm::SHA1,
        Algorithm::Sha256 => totp_rs::Algorithm::SHA256,
        Algorithm::Sha512 => totp_rs::Algorithm::SHA512,
        other => panic!("no reference for {other}"),
    };
    totp_rs::Builder::new()
        .with_algorithm(algorithm)
        .with_digits(digits.get())
        .with_secret(bytes.to_vec())
        .with_step_duration(period)
        .with_skew(0)
        .build()
        .unwrap()
}

/// Names that `KeyUri` accepts: printable text of any script, `:`, `@`,
/// `/`, `%`, `+`, spaces inside.
fn name() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 :@/%+&=?#éß日本-]{1,40}".prop_filter("trimmed", |s| s.trim() == s && !s.is_empty())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn our_codes_equal_totp_rs(
        bytes in secret_bytes(),
        algorithm in algorithm(),
        digits in digits(),
        period in prop_oneof![Just(30u64), Just(60), 1u64..=3600],
        at in prop_oneof![any::<u64>(), 0u64..4_000_000_000],
    ) {
        let ours = Totp::new(&Secret::from_bytes(&bytes).unwrap(), &TotpConfig::new(algorithm, digits, period).unwrap());
        let theirs = reference(&bytes, algorithm, digits, period);
        let code = ours.generate_at(at).unwrap();
        let shown = code.expose();
        prop_assert_eq!(shown.as_str(), theirs.generate(at).to_string());
        // And totp-rs accepts what we verify.
        prop_assert!(theirs.check(&code.expose(), at).is_some());
        let verdict = ours.verify(&code, at, Window::EXACT, None);
        prop_assert!(matches!(verdict, Verdict::Match { offset: 0, .. }), "{:?}", verdict);
    }

    #[test]
    fn verify_never_returns_a_step_at_or_before_the_last_accepted(
        bytes in secret_bytes(),
        at in any::<u64>(),
        shift in -3i64..=3,
        last in prop::option::of(any::<u64>()),
        behind in 0u32..=3,
        ahead in 0u32..=3,
    ) {
        let totp = Totp::new(&Secret::from_bytes(&bytes).unwrap(), &TotpConfig::default());
        let current = totp.step_at(at).unwrap();
        let Some(step) = current.checked_add_signed(shift) else { return Ok(()) };
        let code = totp.generate_step(step);
        let window = Window::new(behind, ahead).unwrap();
        match totp.verify(&code, at, window, last) {
            Verdict::Match { step: got, offset } => {
                prop_assert!(last.is_none_or(|l| got > l));
                prop_assert!(got + u64::from(window.behind()) >= current);
                prop_assert!(got <= current.saturating_add(u64::from(window.ahead())));
                prop_assert_eq!(i128::from(got) - i128::from(current), i128::from(offset));
                prop_assert_eq!(totp.generate_step(got), code);
            }
            Verdict::Replay => prop_assert!(last.is_some()),
            Verdict::NoMatch => {
                // Only when the step is outside the window.
                let inside = step + u64::from(window.behind()) >= current
                    && step <= current.saturating_add(u64::from(window.ahead()));
                prop_assert!(!inside);
            }
        }
    }

    #[test]
    fn base32_round_trips(bytes in secret_bytes(), lower in any::<bool>(), grouped in any::<bool>()) {
        let secret = Secret::from_bytes(&bytes).unwrap();
        let text = if grouped { secret.to_base32_grouped() } else { secret.to_base32() };
        let text = if lower { text.to_lowercase() } else { text.to_string() };
        prop_assert_eq!(Secret::from_base32(&text).unwrap(), secret);
    }

    #[test]
    fn base32_agrees_with_padded_rfc4648(bytes in secret_bytes()) {
        let secret = Secret::from_bytes(&bytes).unwrap();
        let mut padded = secret.to_base32().to_string();
        while !padded.len().is_multiple_of(8) {
            padded.push('=');
        }
        prop_assert_eq!(Secret::from_base32(&padded).unwrap(), secret);
    }

    #[test]
    fn key_uri_build_parse_round_trip(
        bytes in secret_bytes(),
        issuer in prop::option::of(name()),
        account in name(),
        algorithm in algorithm(),
        digits in digits(),
        period in 1u64..=3600,
        hotp_counter in prop::option::of(any::<u64>()),
    ) {
        let secret = Secret::from_bytes(&bytes).unwrap();
        let built = match hotp_counter {
            Some(counter) => KeyUri::hotp(secret, issuer.as_deref(), &account, algorithm, digits, counter),
            None => KeyUri::totp(secret, issuer.as_deref(), &account, &TotpConfig::new(algorithm, digits, period).unwrap()),
        };
        let Ok(built) = built else {
            // The one refusal: a ':' in the account with no issuer.
            prop_assert!(issuer.is_none() && account.contains(':'));
            return Ok(());
        };
        let text = built.to_uri();
        let parsed = KeyUri::parse(&text).unwrap();
        prop_assert_eq!(&parsed, &built);
        prop_assert_eq!(parsed.to_uri(), text);
    }

    #[test]
    fn code_parser_never_panics(input in any::<String>(), digits in digits()) {
        let _ = Code::parse(&input, digits);
    }

    #[test]
    fn code_parser_accepts_digits_with_separators(
        value in 0u32..100_000_000,
        digits in digits(),
        seps in prop::collection::vec(prop_oneof![Just(""), Just(" "), Just("-"), Just(" - ")], 8),
    ) {
        let plain = format!("{:0w$}", value % 10u32.pow(u32::from(digits.get())), w = usize::from(digits.get()));
        let mut typed = String::new();
        for (i, c) in plain.chars().enumerate() {
            if i > 0 { typed.push_str(seps[i]); }
            typed.push(c);
        }
        let code = Code::parse(&typed, digits).unwrap();
        let shown = code.expose();
        prop_assert_eq!(shown.as_str(), plain.as_str());
    }

    #[test]
    fn uri_parser_never_panics(input in any::<String>()) {
        let _ = KeyUri::parse(&input);
    }

    #[test]
    fn uri_parser_never_panics_on_near_misses(
        kind in "(totp|hotp|TOTP|x)",
        label in "[a-zA-Z%:3A +@]{0,12}",
        params in prop::collection::vec(("(secret|issuer|digits|period|counter|algorithm|x)", "[A-Za-z2-7%=+:0-9-]{0,40}"), 0..6),
    ) {
        let query: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let _ = KeyUri::parse(&format!("otpauth://{kind}/{label}?{}", query.join("&")));
    }

    #[test]
    fn base32_parser_never_panics(input in any::<String>()) {
        let _ = Secret::from_base32(&input);
    }

    #[test]
    fn base32_parser_never_panics_on_alphabet_soup(input in "[A-Za-z0-9=\\- ]{0,300}") {
        let _ = Secret::from_base32(&input);
    }
}
