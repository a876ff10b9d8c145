//! Each `Store` method against every engine: the contract's main cases,
//! run until (and alongside) the shared conformance suite in
//! `mfa_core::testing`. Also what only a SQL store can get wrong: rows
//! that do not decode, values that do not fit, identifiers that differ
//! only in case or trailing spaces.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]

mod common;

use std::time::Duration;

use mfa_core::audit::{Actor, AuditAction, AuditQuery, NewAuditEvent};
use mfa_core::otp::{Algorithm, Digits, TotpConfig};
use mfa_core::pepper::CodeHash;
use mfa_core::policy::{GraceRecord, Policy, RolePolicy};
use mfa_core::seal::{Sealed, Sealer, SealingKey};
use mfa_core::store::{
    Activation, IssueOutcome, PendingTotp, RememberedDevice, ReplaceCodes, SendLimits, SentCode,
    SentCodeAttempt,
};
use mfa_core::throttle::ThrottleRule;
use mfa_core::{
    Channel, CredentialId, Error, FactorKind, Role, Secret, Store, SubjectId, Timestamp,
};

fn t(secs: u64) -> Timestamp {
    Timestamp::from_unix(1_700_000_000 + secs)
}

fn sid(s: &str) -> SubjectId {
    SubjectId::new(s).unwrap()
}

fn hash(n: u8) -> CodeHash {
    CodeHash::from_bytes([n; 32])
}

fn seal(subject: &SubjectId, id: &CredentialId, key: u32) -> Sealed {
    let sealer = Sealer::new(vec![SealingKey::new(key, [key as u8; 32])]).unwrap();
    sealer
        .seal(&Secret::generate().unwrap(), subject, id)
        .unwrap()
}

fn pending(subject: &SubjectId, created: Timestamp) -> PendingTotp {
    let id = CredentialId::generate().unwrap();
    PendingTotp {
        sealed_secret: seal(subject, &id, 1),
        id,
        subject: subject.clone(),
        config: TotpConfig::new(Algorithm::Sha256, Digits::EIGHT, 60)
            .unwrap()
            .with_t0(7),
        created_at: created,
        expires_at: created.plus(Duration::from_secs(600)),
    }
}

fn activation(name: &str, step: u64, at: Timestamp) -> Activation {
    Activation {
        name: name.into(),
        accepted_step: step,
        drift: -1,
        at,
    }
}

/// Every method once or more, on a fresh store.
async fn exercise<S: Store>(store: &S) {
    let alice = sid("alice");
    // Differ from alice only by case / a trailing space: separate subjects.
    let alice_upper = sid("Alice");
    let alice_space = sid("alice ");

    // ----- pending and active authenticators
    let p1 = pending(&alice, t(0));
    store.put_pending_totp(p1.clone()).await.unwrap();
    assert_eq!(
        store.pending_totp(&alice, &p1.id, t(10)).await.unwrap(),
        Some(p1.clone())
    );
    assert_eq!(
        store
            .pending_totp(&alice_upper, &p1.id, t(10))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store.pending_totp(&alice, &p1.id, t(600)).await.unwrap(),
        None,
        "expires_at <= now"
    );
    let p2 = pending(&alice, t(5));
    store.put_pending_totp(p2.clone()).await.unwrap();
    assert_eq!(
        store.pending_totp(&alice, &p1.id, t(10)).await.unwrap(),
        None,
        "replaced"
    );
    assert!(
        store
            .activate_totp(&alice, &p2.id, activation("late", 3, t(605)))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .activate_totp(&alice_space, &p2.id, activation("x", 3, t(6)))
            .await
            .unwrap()
            .is_none()
    );
    let active = store
        .activate_totp(&alice, &p2.id, activation("Work phone", 100, t(6)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(active.id, p2.id);
    assert_eq!(active.sealed_secret, p2.sealed_secret);
    assert_eq!(active.config, p2.config);
    assert_eq!((active.last_step, active.drift), (Some(100), -1));
    assert_eq!((active.created_at, active.last_used_at), (t(6), Some(t(6))));
    assert!(
        store
            .activate_totp(&alice, &p2.id, activation("again", 100, t(7)))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        store.pending_totp(&alice, &p2.id, t(7)).await.unwrap(),
        None
    );
    assert_eq!(store.list_totp(&alice).await.unwrap(), vec![active.clone()]);

    // A second authenticator created in the same second lists after the first.
    let p3 = pending(&alice, t(6));
    store.put_pending_totp(p3.clone()).await.unwrap();
    let second = store
        .activate_totp(&alice, &p3.id, activation("Tablet", 1, t(6)))
        .await
        .unwrap()
        .unwrap();
    let listed = store.list_totp(&alice).await.unwrap();
    assert_eq!(
        listed.iter().map(|c| &c.id).collect::<Vec<_>>(),
        vec![&active.id, &second.id]
    );

    // ----- step consumption
    assert!(
        !store
            .consume_totp_step(&alice, &active.id, 100, 0, t(8))
            .await
            .unwrap(),
        "equal step"
    );
    assert!(
        !store
            .consume_totp_step(&alice, &active.id, 99, 0, t(8))
            .await
            .unwrap(),
        "older step"
    );
    assert!(
        !store
            .consume_totp_step(&alice_upper, &active.id, 101, 0, t(8))
            .await
            .unwrap()
    );
    assert!(
        store
            .consume_totp_step(&alice, &active.id, 101, 1, t(9))
            .await
            .unwrap()
    );
    assert!(
        !store
            .consume_totp_step(&alice, &active.id, 101, 1, t(9))
            .await
            .unwrap()
    );
    let now_active = &store.list_totp(&alice).await.unwrap()[0];
    assert_eq!(
        (
            now_active.last_step,
            now_active.drift,
            now_active.last_used_at
        ),
        (Some(101), 1, Some(t(9)))
    );

    // ----- key rotation
    let entries = store.sealed_secrets(None, 100).await.unwrap();
    assert_eq!(entries.len(), 2);
    assert!(
        entries
            .windows(2)
            .all(|w| w[0].credential < w[1].credential)
    );
    let p4 = pending(&alice_space, t(6));
    store.put_pending_totp(p4.clone()).await.unwrap();
    let all = store.sealed_secrets(None, 100).await.unwrap();
    assert_eq!(all.len(), 3);
    let first = store.sealed_secrets(None, 1).await.unwrap();
    let rest = store
        .sealed_secrets(Some(&first[0].credential), 100)
        .await
        .unwrap();
    assert_eq!([first, rest].concat(), all);
    assert!(store.sealed_secrets(None, 0).await.unwrap().is_empty());
    let new = seal(&alice, &active.id, 2);
    assert!(
        !store.replace_sealed(&active.id, &new, &new).await.unwrap(),
        "not the expected value"
    );
    assert!(
        store
            .replace_sealed(&active.id, &active.sealed_secret, &new)
            .await
            .unwrap()
    );
    assert!(
        !store
            .replace_sealed(&active.id, &active.sealed_secret, &new)
            .await
            .unwrap()
    );
    let new_pending = seal(&alice_space, &p4.id, 2);
    assert!(
        store
            .replace_sealed(&p4.id, &p4.sealed_secret, &new_pending)
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .pending_totp(&alice_space, &p4.id, t(7))
            .await
            .unwrap()
            .unwrap()
            .sealed_secret,
        new_pending
    );

    assert!(store.remove_totp(&alice, &second.id).await.unwrap());
    assert!(!store.remove_totp(&alice, &second.id).await.unwrap());

    // ----- recovery codes
    let codes: Vec<CodeHash> = (1..=10).map(hash).collect();
    assert!(
        store
            .replace_recovery_codes(&alice, codes.clone(), ReplaceCodes::IfNone, t(0))
            .await
            .unwrap()
    );
    assert!(
        !store
            .replace_recovery_codes(&alice, vec![hash(50)], ReplaceCodes::IfNone, t(0))
            .await
            .unwrap()
    );
    assert_eq!(store.recovery_codes_left(&alice).await.unwrap(), 10);
    assert_eq!(store.recovery_codes_left(&alice_upper).await.unwrap(), 0);
    assert!(
        !store
            .consume_recovery_code(&alice_upper, &hash(3), t(1))
            .await
            .unwrap()
    );
    assert!(
        store
            .consume_recovery_code(&alice, &hash(3), t(1))
            .await
            .unwrap()
    );
    assert!(
        !store
            .consume_recovery_code(&alice, &hash(3), t(1))
            .await
            .unwrap()
    );
    assert_eq!(store.recovery_codes_left(&alice).await.unwrap(), 9);
    assert!(
        store
            .replace_recovery_codes(&alice, vec![hash(60), hash(61)], ReplaceCodes::Always, t(2))
            .await
            .unwrap()
    );
    assert!(
        !store
            .consume_recovery_code(&alice, &hash(4), t(3))
            .await
            .unwrap(),
        "old set invalid"
    );
    assert_eq!(store.recovery_codes_left(&alice).await.unwrap(), 2);

    // ----- channels
    assert!(store.add_channel(&alice, Channel::Sms, t(1)).await.unwrap());
    assert!(!store.add_channel(&alice, Channel::Sms, t(2)).await.unwrap());
    assert!(
        store
            .add_channel(&alice, Channel::Email, t(3))
            .await
            .unwrap()
    );
    let channels = store.list_channels(&alice).await.unwrap();
    assert_eq!(
        channels
            .iter()
            .map(|c| (c.channel, c.added_at))
            .collect::<Vec<_>>(),
        vec![(Channel::Email, t(3)), (Channel::Sms, t(1))]
    );
    assert!(store.remove_channel(&alice, Channel::Sms).await.unwrap());
    assert!(!store.remove_channel(&alice, Channel::Sms).await.unwrap());

    // ----- sent codes
    let limits = SendLimits {
        cooldown: Duration::from_secs(60),
        max_per_hour: 3,
    };
    let code = |h: u8, at: u64| SentCode {
        subject: alice.clone(),
        channel: Channel::Email,
        hash: hash(h),
        issued_at: t(at),
        expires_at: t(at + 300),
    };
    assert_eq!(
        store
            .attempt_sent_code(&alice, Channel::Email, &hash(1), 5, t(0))
            .await
            .unwrap(),
        SentCodeAttempt::NoActiveCode
    );
    assert_eq!(
        store.issue_sent_code(code(1, 1000), limits).await.unwrap(),
        IssueOutcome::Issued
    );
    assert_eq!(
        store.issue_sent_code(code(2, 1059), limits).await.unwrap(),
        IssueOutcome::TooSoon {
            retry_after: t(1060)
        }
    );
    assert_eq!(
        store
            .attempt_sent_code(&alice, Channel::Email, &hash(9), 5, t(1001))
            .await
            .unwrap(),
        SentCodeAttempt::Rejected { tries_left: 4 }
    );
    assert_eq!(
        store
            .attempt_sent_code(&alice, Channel::Sms, &hash(1), 5, t(1001))
            .await
            .unwrap(),
        SentCodeAttempt::NoActiveCode
    );
    assert_eq!(
        store
            .attempt_sent_code(&alice, Channel::Email, &hash(1), 5, t(1002))
            .await
            .unwrap(),
        SentCodeAttempt::Accepted
    );
    assert_eq!(
        store
            .attempt_sent_code(&alice, Channel::Email, &hash(1), 5, t(1002))
            .await
            .unwrap(),
        SentCodeAttempt::NoActiveCode
    );
    assert_eq!(
        store.issue_sent_code(code(2, 1060), limits).await.unwrap(),
        IssueOutcome::Issued
    );
    for left in (0..3).rev() {
        assert_eq!(
            store
                .attempt_sent_code(&alice, Channel::Email, &hash(9), 3, t(1061))
                .await
                .unwrap(),
            SentCodeAttempt::Rejected { tries_left: left }
        );
    }
    assert_eq!(
        store
            .attempt_sent_code(&alice, Channel::Email, &hash(2), 3, t(1061))
            .await
            .unwrap(),
        SentCodeAttempt::NoActiveCode,
        "out of tries"
    );
    assert_eq!(
        store.issue_sent_code(code(3, 1200), limits).await.unwrap(),
        IssueOutcome::Issued
    );
    assert_eq!(
        store
            .attempt_sent_code(&alice, Channel::Email, &hash(2), 3, t(1201))
            .await
            .unwrap(),
        SentCodeAttempt::Rejected { tries_left: 2 },
        "old code dead"
    );
    assert_eq!(
        store
            .attempt_sent_code(&alice, Channel::Email, &hash(3), 3, t(1500))
            .await
            .unwrap(),
        SentCodeAttempt::NoActiveCode,
        "expired"
    );
    assert_eq!(
        store.issue_sent_code(code(4, 1300), limits).await.unwrap(),
        IssueOutcome::TooSoon {
            retry_after: t(4600)
        },
        "3 per hour"
    );
    assert_eq!(
        store.issue_sent_code(code(4, 4600), limits).await.unwrap(),
        IssueOutcome::Issued,
        "oldest left the hour"
    );
    assert_eq!(
        store
            .attempt_sent_code(&alice, Channel::Email, &hash(4), 3, t(4601))
            .await
            .unwrap(),
        SentCodeAttempt::Accepted
    );

    // ----- throttling
    let rule = ThrottleRule::default();
    assert_eq!(
        store
            .throttle_state(&alice, FactorKind::Totp)
            .await
            .unwrap(),
        Default::default()
    );
    for n in 0..6 {
        let state = store
            .record_failure(&alice, FactorKind::Totp, rule, t(100))
            .await
            .unwrap();
        assert_eq!(state, rule.after_failure(n, t(100)));
        assert_eq!(
            store
                .throttle_state(&alice, FactorKind::Totp)
                .await
                .unwrap(),
            state
        );
    }
    assert_eq!(
        store
            .throttle_state(&alice, FactorKind::Recovery)
            .await
            .unwrap(),
        Default::default()
    );
    store
        .reset_failures(&alice, FactorKind::Totp)
        .await
        .unwrap();
    assert_eq!(
        store
            .throttle_state(&alice, FactorKind::Totp)
            .await
            .unwrap(),
        Default::default()
    );

    // ----- devices
    let device = |n: u8, created: u64, expires: u64| RememberedDevice {
        id: CredentialId::generate().unwrap(),
        subject: alice.clone(),
        token_hash: hash(n),
        name: "Firefox on Linux".into(),
        created_at: t(created),
        expires_at: t(expires),
        last_used_at: None,
    };
    let (d1, d2, d3) = (device(1, 10, 1000), device(2, 20, 1000), device(3, 30, 40));
    for d in [&d1, &d2, &d3] {
        store.put_device(d.clone()).await.unwrap();
    }
    assert_eq!(
        store.list_devices(&alice, t(50)).await.unwrap(),
        vec![d2.clone(), d1.clone()],
        "newest first, unexpired"
    );
    let touched = store
        .touch_device(&alice, &hash(1), t(60))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        touched,
        RememberedDevice {
            last_used_at: Some(t(60)),
            ..d1.clone()
        }
    );
    assert_eq!(
        store.touch_device(&alice, &hash(3), t(60)).await.unwrap(),
        None,
        "expired"
    );
    assert_eq!(
        store
            .touch_device(&alice_upper, &hash(1), t(60))
            .await
            .unwrap(),
        None
    );
    assert!(store.revoke_device(&alice, &d2.id).await.unwrap());
    assert!(!store.revoke_device(&alice, &d2.id).await.unwrap());
    assert_eq!(store.revoke_all_devices(&alice).await.unwrap(), 2);

    // ----- policy and grace
    assert_eq!(store.load_policy().await.unwrap(), None);
    let mut policy = Policy::default();
    policy.set_role(
        Role::AGENT,
        RolePolicy::required(Duration::from_secs(86_400)),
    );
    store.save_policy(&policy).await.unwrap();
    assert_eq!(store.load_policy().await.unwrap(), Some(policy.clone()));
    store.save_policy(&Policy::default()).await.unwrap();
    assert_eq!(store.load_policy().await.unwrap(), Some(Policy::default()));
    let g1 = GraceRecord {
        fixed_at: t(1),
        deadline: t(100),
    };
    let g2 = GraceRecord {
        fixed_at: t(2),
        deadline: t(50),
    };
    assert_eq!(store.grace(&alice).await.unwrap(), None);
    assert_eq!(store.fix_grace(&alice, g1).await.unwrap(), g1);
    assert_eq!(store.fix_grace(&alice, g2).await.unwrap(), g1);
    assert_eq!(store.grace(&alice).await.unwrap(), Some(g1));
    store.clear_grace(&alice).await.unwrap();
    assert_eq!(store.fix_grace(&alice, g2).await.unwrap(), g2);

    // ----- reset
    store.put_device(device(7, 10, 20)).await.unwrap(); // expired, still removed
    store.add_channel(&alice, Channel::Sms, t(1)).await.unwrap();
    store
        .record_failure(&alice, FactorKind::Sms, rule, t(1))
        .await
        .unwrap();
    store.put_pending_totp(pending(&alice, t(0))).await.unwrap();
    store
        .add_channel(&alice_upper, Channel::Sms, t(1))
        .await
        .unwrap();
    let summary = store.reset_subject(&alice).await.unwrap();
    assert_eq!(
        (
            summary.authenticators,
            summary.pending,
            summary.recovery_codes,
            summary.channels,
            summary.devices
        ),
        (1, 1, 2, 2, 1)
    );
    assert!(store.list_totp(&alice).await.unwrap().is_empty());
    assert_eq!(
        store.throttle_state(&alice, FactorKind::Sms).await.unwrap(),
        Default::default()
    );
    assert_eq!(store.grace(&alice).await.unwrap(), Some(g2), "grace kept");
    assert_eq!(
        store.list_channels(&alice_upper).await.unwrap().len(),
        1,
        "other subject untouched"
    );
    assert_eq!(
        store.issue_sent_code(code(5, 4601), limits).await.unwrap(),
        IssueOutcome::Issued,
        "send history cleared"
    );
    assert_eq!(
        store.reset_subject(&alice).await.unwrap(),
        Default::default()
    );

    // ----- audit
    let event = |at: u64,
                 subject: Option<&SubjectId>,
                 actor: Actor,
                 action,
                 factor,
                 detail: Option<&str>| NewAuditEvent {
        at: t(at),
        subject: subject.cloned(),
        actor,
        action,
        factor,
        detail: detail.map(Into::into),
    };
    let events = [
        event(
            1,
            Some(&alice),
            Actor::Subject(alice.clone()),
            AuditAction::AuthenticatorAdded,
            Some(FactorKind::Totp),
            Some("Work phone"),
        ),
        event(
            2,
            None,
            Actor::Admin(sid("root")),
            AuditAction::PolicyUpdated,
            None,
            None,
        ),
        event(
            3,
            Some(&alice_upper),
            Actor::System,
            AuditAction::SecretsResealed,
            None,
            Some("2"),
        ),
        event(
            4,
            Some(&alice),
            Actor::Admin(sid("root")),
            AuditAction::MfaReset,
            None,
            None,
        ),
    ];
    for e in &events {
        store.append_audit(e.clone()).await.unwrap();
    }
    let all = store.list_audit(&AuditQuery::latest(10)).await.unwrap();
    assert_eq!(
        all.iter().map(|e| e.event.clone()).collect::<Vec<_>>(),
        events.iter().rev().cloned().collect::<Vec<_>>()
    );
    assert!(all.windows(2).all(|w| w[0].id > w[1].id));
    let page = store.list_audit(&AuditQuery::latest(2)).await.unwrap();
    assert_eq!(page, all[..2]);
    let next = store
        .list_audit(&AuditQuery::latest(2).before(page[1].id))
        .await
        .unwrap();
    assert_eq!(next, all[2..]);
    let mine = store
        .list_audit(&AuditQuery::latest(10).for_subject(alice.clone()))
        .await
        .unwrap();
    assert_eq!(
        mine.iter().map(|e| e.event.at).collect::<Vec<_>>(),
        vec![t(4), t(1)]
    );
    let mine_before = store
        .list_audit(
            &AuditQuery::latest(10)
                .for_subject(alice.clone())
                .before(mine[0].id),
        )
        .await
        .unwrap();
    assert_eq!(mine_before, mine[1..]);
    assert!(
        store
            .list_audit(&AuditQuery::latest(10).before(u64::MAX))
            .await
            .unwrap()
            .len()
            == 4
    );

    // ----- values that do not fit the database
    let err = store
        .consume_totp_step(&alice, &active.id, u64::MAX, 0, t(0))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Store(_)), "{err:?}");
    // Comparison-only times saturate exactly.
    assert_eq!(
        store
            .list_devices(&alice, Timestamp::from_unix(u64::MAX))
            .await
            .unwrap(),
        vec![]
    );
}

/// Runs the same SQL that a foreign writer (or a bug) might have left.
macro_rules! corrupt_rows_test {
    ($name:ident, $factory:expr, $store:ty, $blob:expr) => {
        #[tokio::test(flavor = "multi_thread")]
        async fn $name() {
            let Some(store): Option<$store> = $factory.await else { return };
            let alice = sid("alice");
            let blob: fn(&str) -> String = $blob;
            let sealed = blob(&format!("0100000001{}", "00".repeat(48)));
            let bad: &[(String, &str)] = &[
                // unknown algorithm
                (format!("INSERT INTO mfa_totp (id, subject, name, sealed_secret, algorithm, digits, period, t0, drift, created_at) \
                  VALUES ('c1', 'alice', 'n', {sealed}, 'MD5', 6, 30, 0, 0, 1)"),
                 "list_totp"),
                // a token hash that is not 32 bytes
                (format!("INSERT INTO mfa_devices (id, subject, token_hash, name, created_at, expires_at) \
                  VALUES ('d1', 'alice', {}, 'n', 1, 9999999999)", blob("0102")),
                 "list_devices"),
                // an unknown audit action
                ("INSERT INTO mfa_audit (at, subject, actor_kind, actor_id, action) VALUES (1, 'alice', 'system', NULL, 'teleported')".into(),
                 "list_audit"),
                // an unknown channel
                ("INSERT INTO mfa_channels (subject, channel, added_at) VALUES ('alice', 'fax', 1)".into(), "list_channels"),
                // not JSON of a policy
                ("INSERT INTO mfa_policy (id, policy) VALUES (1, '{\"roles\": 7}')".into(), "load_policy"),
                // a negative time
                ("INSERT INTO mfa_grace (subject, fixed_at, deadline) VALUES ('alice', -5, 1)".into(), "grace"),
            ];
            for (sql, method) in bad {
                mfa_store_sql::sqlx::query(mfa_store_sql::sqlx::AssertSqlSafe(sql.clone()))
                    .execute(store.pool())
                    .await
                    .unwrap();
                let err = match *method {
                    "list_totp" => store.list_totp(&alice).await.map(drop),
                    "list_devices" => store.list_devices(&alice, t(0)).await.map(drop),
                    "list_audit" => store.list_audit(&AuditQuery::latest(5)).await.map(drop),
                    "list_channels" => store.list_channels(&alice).await.map(drop),
                    "load_policy" => store.load_policy().await.map(drop),
                    "grace" => store.grace(&alice).await.map(drop),
                    _ => unreachable!(),
                }
                .unwrap_err();
                assert!(matches!(err, Error::Store(_)), "{method}: {err:?}");
                let source = std::error::Error::source(&err).unwrap();
                assert!(source.is::<mfa_store_sql::SqlStoreError>(), "{method}: {source:?}");
            }
        }
    };
}

#[cfg(feature = "sqlite")]
mod sqlite {
    use super::*;

    #[tokio::test(flavor = "multi_thread")]
    async fn memory() {
        exercise(&common::sqlite::memory().await.unwrap()).await;
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn file() {
        exercise(&common::sqlite::file().await.unwrap()).await;
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn through_sql_store() {
        let store = mfa_store_sql::SqlStore::connect("sqlite::memory:")
            .await
            .unwrap();
        assert_eq!(store.engine(), mfa_store_sql::Engine::Sqlite);
        store.migrate().await.unwrap();
        exercise(&store).await;
    }

    corrupt_rows_test!(
        corrupt_rows,
        common::sqlite::memory(),
        mfa_store_sql::SqliteStore,
        |hex| format!("X'{hex}'")
    );
}

#[cfg(feature = "postgres")]
mod postgres {
    use super::*;

    #[tokio::test(flavor = "multi_thread")]
    async fn postgres() {
        let Some(store) = common::postgres::store().await else {
            return;
        };
        exercise(&store).await;
    }

    corrupt_rows_test!(
        corrupt_rows,
        common::postgres::store(),
        mfa_store_sql::PostgresStore,
        |hex| format!("'\\x{hex}'::bytea")
    );
}

#[cfg(feature = "mysql")]
mod mysql {
    use super::*;

    #[tokio::test(flavor = "multi_thread")]
    async fn mysql() {
        let Some(store) = common::mysql::store().await else {
            return;
        };
        exercise(&store).await;
    }

    corrupt_rows_test!(
        corrupt_rows,
        common::mysql::store(),
        mfa_store_sql::MySqlStore,
        |hex| format!("X'{hex}'")
    );
}
