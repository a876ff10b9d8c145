//! The JSON forms of what adapters send, keep in a session, and what the
//! store keeps as the policy, pinned by files in `tests/data/golden/`.
//!
//! A change to one of these forms breaks clients, live sessions or stored
//! policies, so it must be deliberate: these tests fail until the golden
//! file is updated with it. To rewrite the files after such a change, run
//! `MFA_BLESS_GOLDEN=1 cargo test -p mfa-core --features serde --test golden_json`
//! and review the diff.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test setup fails loudly

use core::time::Duration;
use std::path::PathBuf;

use mfa_core::policy::{Decision, MethodSet, Policy, Requirement, RolePolicy, SessionState};
use mfa_core::service::ChannelInfo;
use mfa_core::service::{AuthenticatorInfo, SendOutcome, Status, Verification};
use mfa_core::{Channel, CredentialId, FactorKind, Role, Timestamp};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

const T: u64 = 1_700_000_000;

fn at(offset: u64) -> Timestamp {
    Timestamp::from_unix(T + offset)
}

fn path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/golden")
        .join(format!("{name}.json"))
}

/// Checks the JSON of `values` (one per array element) against the golden
/// file `name`, and returns the file's elements.
fn check<T: Serialize>(name: &str, values: &[T]) -> Vec<Value> {
    let actual = serde_json::to_value(values).unwrap();
    let file = path(name);
    if std::env::var_os("MFA_BLESS_GOLDEN").is_some() {
        let text = serde_json::to_string_pretty(&actual).unwrap() + "\n";
        std::fs::write(&file, text).unwrap();
    }
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let expected: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        actual, expected,
        "the JSON form of {name} changed; see this file's header"
    );
    match expected {
        Value::Array(items) => items,
        other => panic!("{name}: expected an array, found {other}"),
    }
}

/// Also reads every golden element back into the same value.
fn check_round_trip<T: Serialize + DeserializeOwned + PartialEq + core::fmt::Debug>(
    name: &str,
    values: &[T],
) {
    let items = check(name, values);
    assert_eq!(items.len(), values.len());
    for (item, value) in items.into_iter().zip(values) {
        let back: T = serde_json::from_value(item).unwrap();
        assert_eq!(&back, value);
    }
}

fn decisions() -> Vec<Decision> {
    vec![
        Decision::Allow,
        Decision::VerifyNow {
            methods: vec![FactorKind::Totp, FactorKind::Email, FactorKind::Recovery],
        },
        Decision::EnrollNow {
            methods: MethodSet::APP_ONLY,
        },
        Decision::EnrollBy {
            deadline: at(7 * 86_400),
            methods: MethodSet::ALL,
        },
    ]
}

fn policy() -> Policy {
    let mut policy = Policy::default();
    let mut agents = RolePolicy::required(Duration::from_secs(7 * 86_400))
        .with_methods(MethodSet {
            app: true,
            email: true,
            sms: false,
        })
        .with_remember_device(None);
    agents.required_since = Some(at(0));
    agents.grace_changed_at = Some(at(3_600));
    policy.set_role(Role::AGENT, agents);
    policy.set_role(Role::new("contractor").unwrap(), RolePolicy::disabled());
    policy
}

#[test]
fn decision() {
    check_round_trip("decision", &decisions());
}

#[test]
fn verification() {
    check(
        "verification",
        &[
            Verification::Accepted {
                factor: FactorKind::Totp,
                step: Some(T / 30),
                credential: Some(CredentialId::new("k3n7q2m5x9v4c8b6z1w0p4r7t2").unwrap()),
                recovery_codes_left: None,
                recovery_codes_low: false,
            },
            Verification::Accepted {
                factor: FactorKind::Recovery,
                step: None,
                credential: None,
                recovery_codes_left: Some(3),
                recovery_codes_low: true,
            },
            Verification::Rejected,
            Verification::Locked { until: at(60) },
            Verification::Blocked,
        ],
    );
}

#[test]
fn send_outcome() {
    check(
        "send_outcome",
        &[
            SendOutcome::Sent {
                expires_at: at(300),
                resend_after: at(60),
            },
            SendOutcome::TooSoon {
                retry_after: at(45),
            },
            SendOutcome::Blocked,
        ],
    );
}

#[test]
fn status() {
    let enrolled = Status {
        authenticators: vec![AuthenticatorInfo {
            id: CredentialId::new("k3n7q2m5x9v4c8b6z1w0p4r7t2").unwrap(),
            name: "Phone".into(),
            created_at: at(0),
            last_used_at: Some(at(120)),
        }],
        channels: vec![ChannelInfo {
            channel: Channel::Email,
            added_at: at(30),
            address_current: true,
        }],
        recovery_codes_left: 10,
        recovery_codes_low: false,
        rule: RolePolicy::optional(),
        decision: Decision::Allow,
    };
    let mut required = RolePolicy::required(Duration::from_secs(86_400));
    required.required_since = Some(at(0));
    required.grace_changed_at = Some(at(0));
    let not_enrolled = Status {
        authenticators: Vec::new(),
        channels: Vec::new(),
        recovery_codes_left: 0,
        recovery_codes_low: true,
        rule: required,
        decision: Decision::EnrollBy {
            deadline: at(86_400),
            methods: MethodSet::ALL,
        },
    };
    check_round_trip("status", &[enrolled, not_enrolled]);
}

#[test]
fn policy_is_the_stored_format() {
    // The store keeps exactly this JSON: it must read back equal.
    check_round_trip("policy", &[policy(), Policy::default()]);
    // Every requirement appears in it.
    let rules: Vec<Requirement> = policy()
        .roles
        .values()
        .map(|rule| rule.requirement)
        .collect();
    assert!(rules.contains(&Requirement::Disabled));
    assert!(rules.contains(&Requirement::Optional));
    assert!(
        rules
            .iter()
            .any(|r| matches!(r, Requirement::Required { .. }))
    );
}

#[test]
fn session_state() {
    check_round_trip(
        "session_state",
        &[
            SessionState::default(),
            SessionState {
                verified_at: Some(at(0)),
                device_remembered: false,
            },
            SessionState {
                verified_at: None,
                device_remembered: true,
            },
        ],
    );
    // A session written before a field existed still loads.
    let old: SessionState = serde_json::from_str(r#"{"verified_at": 1700000000}"#).unwrap();
    assert_eq!(old.verified_at, Some(at(0)));
    assert!(!old.device_remembered);
}
