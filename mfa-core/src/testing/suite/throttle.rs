//! Throttling and factor-removal cases: the attempt is charged before its
//! code is checked, and the limits hold under parallel attempts.

use super::*;
use crate::store::{Settlement, Usable};
use crate::throttle::Charge;

/// How many attempts the burst cases release at once.
pub const BURST: usize = 64;

fn is_charged(charge: &Charge) -> bool {
    matches!(charge, Charge::Charged { .. })
}

/// `charge_attempt` and `settle_attempt` apply [`ThrottleRule::charge`],
/// [`ThrottleRule::refund`] and [`ThrottleRule::succeed`] to the stored
/// state and store the result; kinds and subjects are separate; a success
/// unblocks the subject's other blocked kinds; `throttle_state` reads
/// what was stored.
pub async fn throttle_charges_and_settles<S: Store>(store: &S) -> Result<()> {
    let alice = fresh_subject()?;
    let bob = fresh_subject()?;
    for kind in FactorKind::ALL {
        assert_eq!(
            store.throttle_state(&alice, kind).await?,
            ThrottleState::default()
        );
    }
    let rule = ThrottleRule {
        free_failures: 2,
        base_lock: secs(10),
        max_lock: secs(40),
        max_failures: 7,
    };
    // The rule's own answers, step by step, for attempts at these times.
    let mut expected = ThrottleState::default();
    for (i, t) in [0, 1, 5, 11, 40, 41, 200, 300, 301, 400, 1000]
        .into_iter()
        .enumerate()
    {
        let (next, want) = rule.charge(&expected, at(t));
        let got = store
            .charge_attempt(&alice, FactorKind::Totp, rule, at(t))
            .await?;
        assert_eq!(got, want, "attempt {i} at +{t}s");
        assert_eq!(
            store.throttle_state(&alice, FactorKind::Totp).await?,
            next,
            "attempt {i}: the state is stored"
        );
        expected = next;
    }
    assert_eq!(
        store
            .charge_attempt(&alice, FactorKind::Totp, rule, at(5000))
            .await?,
        rule.charge(&expected, at(5000)).1
    );
    expected = rule.charge(&expected, at(5000)).0;
    // Refund, then success.
    store
        .settle_attempt(&alice, FactorKind::Totp, rule, Settlement::Refunded)
        .await?;
    expected = rule.refund(&expected);
    assert_eq!(
        store.throttle_state(&alice, FactorKind::Totp).await?,
        expected
    );
    store
        .settle_attempt(&alice, FactorKind::Totp, rule, Settlement::Succeeded)
        .await?;
    expected = rule.succeed(&expected);
    assert_eq!(
        store.throttle_state(&alice, FactorKind::Totp).await?,
        expected
    );
    // Kinds and subjects are separate.
    assert_eq!(
        store.throttle_state(&alice, FactorKind::Recovery).await?,
        ThrottleState::default()
    );
    assert_eq!(
        store.throttle_state(&bob, FactorKind::Totp).await?,
        ThrottleState::default()
    );
    // Settling where nothing was charged changes nothing.
    store
        .settle_attempt(&bob, FactorKind::Sms, rule, Settlement::Refunded)
        .await?;
    store
        .settle_attempt(&bob, FactorKind::Sms, rule, Settlement::Succeeded)
        .await?;
    assert_eq!(
        store.throttle_state(&bob, FactorKind::Sms).await?,
        ThrottleState::default()
    );
    // Block the e-mail kind (7 failures, an hour apart so locks are over).
    let mut email = ThrottleState::default();
    for i in 0..7u64 {
        let now = at(10_000 + i * 3600);
        store
            .charge_attempt(&alice, FactorKind::Email, rule, now)
            .await?;
        email = rule.charge(&email, now).0;
    }
    assert_eq!(
        store
            .charge_attempt(&alice, FactorKind::Email, rule, at(1_000_000))
            .await?,
        Charge::Blocked,
        "blocked after max_failures, whatever the time"
    );
    email.refused += 1;
    assert_eq!(
        store.throttle_state(&alice, FactorKind::Email).await?,
        email
    );
    // A success with the e-mail kind itself is impossible; one with another
    // kind unblocks it (and only blocked kinds are cleared).
    store
        .charge_attempt(&alice, FactorKind::Sms, rule, at(1_000_000))
        .await?;
    store
        .settle_attempt(&alice, FactorKind::Recovery, rule, Settlement::Succeeded)
        .await?;
    assert_eq!(
        store.throttle_state(&alice, FactorKind::Email).await?,
        ThrottleState::default(),
        "a success with another kind unblocks"
    );
    assert_eq!(
        store
            .throttle_state(&alice, FactorKind::Sms)
            .await?
            .failures,
        1,
        "an unblocked kind keeps its count"
    );
    assert_eq!(
        store.throttle_state(&alice, FactorKind::Totp).await?,
        expected,
        "an unblocked kind keeps its state"
    );
    Ok(())
}

/// `remove_factor` with `keep` refuses to remove the last usable factor
/// (authenticators count if `keep.authenticators`; a channel counts if its
/// address hash is the one in `keep`), and removes otherwise.
pub async fn remove_factor_keeps_one_usable<S: Store>(store: &S) -> Result<()> {
    let alice = fresh_subject()?;
    let phone = active(store, &alice, "phone", 1, at(0)).await?;
    let email = channel(Channel::Email, at(1))?;
    let sms = channel(Channel::Sms, at(2))?;
    store.add_channel(&alice, email.clone()).await?;
    store.add_channel(&alice, sms.clone()).await?;
    let app = FactorRef::Authenticator(phone.id.clone());
    let by_email = FactorRef::Channel(Channel::Email);
    let by_sms = FactorRef::Channel(Channel::Sms);
    // SMS has another address now: it does not count.
    let keep = Usable {
        authenticators: true,
        email: Some(email.address_hash),
        sms: Some(fresh_hash()?),
    };
    assert_eq!(
        store.remove_factor(&alice, &app, Some(keep)).await?,
        Removal::Removed,
        "e-mail is left"
    );
    assert_eq!(
        store.remove_factor(&alice, &by_email, Some(keep)).await?,
        Removal::LastUsable,
        "SMS (another address) does not count"
    );
    assert_eq!(store.list_channels(&alice).await?.len(), 2);
    assert_eq!(
        store.remove_factor(&alice, &by_sms, Some(keep)).await?,
        Removal::Removed,
        "an unusable factor can go"
    );
    assert_eq!(
        store.remove_factor(&alice, &by_email, None).await?,
        Removal::Removed,
        "without `keep`, the last one too"
    );
    // Authenticators only count if the policy allows them.
    let bob = fresh_subject()?;
    let one = active(store, &bob, "one", 1, at(0)).await?;
    let two = active(store, &bob, "two", 1, at(0)).await?;
    let apps_only = Usable {
        authenticators: true,
        ..Usable::default()
    };
    assert_eq!(
        store
            .remove_factor(
                &bob,
                &FactorRef::Authenticator(one.id.clone()),
                Some(apps_only)
            )
            .await?,
        Removal::Removed
    );
    assert_eq!(
        store
            .remove_factor(
                &bob,
                &FactorRef::Authenticator(two.id.clone()),
                Some(apps_only)
            )
            .await?,
        Removal::LastUsable
    );
    assert_eq!(
        store
            .remove_factor(
                &bob,
                &FactorRef::Authenticator(two.id.clone()),
                Some(Usable::default())
            )
            .await?,
        Removal::LastUsable,
        "nothing usable left either way"
    );
    assert_eq!(store.list_totp(&bob).await?.len(), 1);
    Ok(())
}

/// Adding a factor drops the subject's other pending enrollments: adding a
/// channel drops the pending authenticator enrollment and the active codes
/// of unregistered channels; activating an authenticator drops the active
/// codes of unregistered channels. Registered channels keep their codes.
pub async fn adding_a_factor_drops_pending_enrollments<S: Store>(store: &S) -> Result<()> {
    let alice = fresh_subject()?;
    let lim = limits(0, 100);
    let max_tries = 5;
    let p = pending(&alice, at(0), 600)?;
    store.put_pending_totp(p.clone()).await?;
    let sms_code = fresh_hash()?;
    store
        .issue_sent_code(sent(&alice, Channel::Sms, sms_code, at(1), 300), lim)
        .await?;
    store
        .add_channel(&alice, channel(Channel::Email, at(2))?)
        .await?;
    assert_eq!(
        store.pending_totp(&alice, &p.id, at(3)).await?,
        None,
        "the pending authenticator enrollment is dropped"
    );
    assert_eq!(
        store
            .attempt_sent_code(&alice, Channel::Sms, &sms_code, max_tries, at(3))
            .await?,
        SentCodeAttempt::NoActiveCode,
        "the pending SMS enrollment is dropped"
    );
    // A registered channel's code survives an authenticator's activation;
    // an unregistered one's does not.
    let email_code = fresh_hash()?;
    store
        .issue_sent_code(sent(&alice, Channel::Email, email_code, at(4), 300), lim)
        .await?;
    store
        .issue_sent_code(sent(&alice, Channel::Sms, sms_code, at(4), 300), lim)
        .await?;
    active(store, &alice, "phone", 1, at(5)).await?;
    assert_eq!(
        store
            .attempt_sent_code(&alice, Channel::Sms, &sms_code, max_tries, at(6))
            .await?,
        SentCodeAttempt::NoActiveCode
    );
    assert_eq!(
        store
            .attempt_sent_code(&alice, Channel::Email, &email_code, max_tries, at(6))
            .await?,
        SentCodeAttempt::Accepted
    );
    Ok(())
}

/// `BURST` parallel attempts on an unlocked factor: exactly
/// `free_failures` are charged, the rest are refused as locked, and the
/// stored state counts both.
pub async fn concurrent_charges_stop_at_the_lock<S: Store>(store: Arc<S>) -> Result<()> {
    let rule = ThrottleRule::default();
    for _ in 0..ROUNDS {
        let alice = fresh_subject()?;
        let charges = burst(&store, BURST, |store, _| {
            let alice = alice.clone();
            async move {
                store
                    .charge_attempt(&alice, FactorKind::Totp, rule, at(0))
                    .await
            }
        })
        .await?;
        let charged = charges.iter().filter(|c| is_charged(c)).count();
        assert_eq!(
            charged, 5,
            "of {BURST} parallel attempts exactly free_failures are charged"
        );
        assert!(
            charges
                .iter()
                .all(|c| is_charged(c) || *c == Charge::Locked { until: at(60) }),
            "the rest are refused until the lock ends"
        );
        let state = store.throttle_state(&alice, FactorKind::Totp).await?;
        assert_eq!(state.failures, 5);
        assert_eq!(state.locked_until, Some(at(60)));
        assert_eq!(usize::try_from(state.refused).unwrap_or(0), BURST - 5);
    }
    Ok(())
}

/// An hour of continuous parallel attempts (a burst of `BURST` every 30
/// s): no more are charged than a single attacker trying as often as the
/// lock allows would get — 10 with the default rule.
pub async fn concurrent_charges_keep_the_hourly_budget<S: Store>(store: Arc<S>) -> Result<()> {
    let rule = ThrottleRule::default();
    let alice = fresh_subject()?;
    let mut sequential = ThrottleState::default();
    let mut expected = 0;
    let mut charged = 0;
    for t in (0..3600).step_by(30) {
        let now = at(t);
        let (next, charge) = rule.charge(&sequential, now);
        if is_charged(&charge) {
            expected += 1;
            sequential = next;
        }
        let charges = burst(&store, BURST, |store, _| {
            let alice = alice.clone();
            async move {
                store
                    .charge_attempt(&alice, FactorKind::Email, rule, now)
                    .await
            }
        })
        .await?;
        charged += charges.iter().filter(|c| is_charged(c)).count();
    }
    assert_eq!(expected, 10, "the sequential budget of the first hour");
    assert_eq!(
        charged, expected,
        "parallel attempts get no more than the sequential budget"
    );
    Ok(())
}

/// Right codes in a burst of wrong ones (`BURST` attempts, 8 of them
/// settled as successes): the successes give back only their own charges,
/// so at most `free_failures` wrong attempts are charged.
pub async fn concurrent_success_in_a_burst_keeps_the_run<S: Store>(store: Arc<S>) -> Result<()> {
    let rule = ThrottleRule::default();
    for _ in 0..ROUNDS {
        let alice = fresh_subject()?;
        let outcomes = burst(&store, BURST, |store, i| {
            let alice = alice.clone();
            async move {
                let charge = store
                    .charge_attempt(&alice, FactorKind::Totp, rule, at(0))
                    .await?;
                let right = i % 8 == 0;
                if right && is_charged(&charge) {
                    store
                        .settle_attempt(&alice, FactorKind::Totp, rule, Settlement::Succeeded)
                        .await?;
                }
                Ok((right, is_charged(&charge)))
            }
        })
        .await?;
        let wrong_charged = outcomes.iter().filter(|(r, c)| !r && *c).count();
        assert!(
            wrong_charged <= 5,
            "{wrong_charged} wrong attempts were charged; a right code must not reset the run"
        );
        let state = store.throttle_state(&alice, FactorKind::Totp).await?;
        assert_eq!(
            usize::try_from(state.failures).unwrap_or(0),
            wrong_charged,
            "every wrong attempt keeps its charge"
        );
    }
    Ok(())
}

/// `BURST` parallel attempts that are all given back (duplicates of an
/// accepted code): the factor ends unlocked with no failures.
pub async fn concurrent_refunds_leave_the_factor_unlocked<S: Store>(store: Arc<S>) -> Result<()> {
    let rule = ThrottleRule::default();
    for _ in 0..ROUNDS {
        let alice = fresh_subject()?;
        burst(&store, BURST, |store, _| {
            let alice = alice.clone();
            async move {
                let charge = store
                    .charge_attempt(&alice, FactorKind::Totp, rule, at(0))
                    .await?;
                if is_charged(&charge) {
                    store
                        .settle_attempt(&alice, FactorKind::Totp, rule, Settlement::Refunded)
                        .await?;
                }
                Ok(())
            }
        })
        .await?;
        let state = store.throttle_state(&alice, FactorKind::Totp).await?;
        assert_eq!(state.failures, 0);
        assert_eq!(state.locked_at(at(0)), None, "the factor is not locked");
    }
    Ok(())
}

/// Racing removals of a subject's last two usable factors (an
/// authenticator and an e-mail channel), half of the tasks each: exactly
/// one removal succeeds and one factor is left.
pub async fn concurrent_removals_keep_one_usable_factor<S: Store>(store: Arc<S>) -> Result<()> {
    for _ in 0..ROUNDS {
        let alice = fresh_subject()?;
        let phone = active(&*store, &alice, "phone", 1, at(0)).await?;
        let email = channel(Channel::Email, at(1))?;
        store.add_channel(&alice, email.clone()).await?;
        let keep = Usable {
            authenticators: true,
            email: Some(email.address_hash),
            sms: None,
        };
        let removals = race(&store, |store, i| {
            let alice = alice.clone();
            let factor = if i % 2 == 0 {
                FactorRef::Authenticator(phone.id.clone())
            } else {
                FactorRef::Channel(Channel::Email)
            };
            async move { store.remove_factor(&alice, &factor, Some(keep)).await }
        })
        .await?;
        assert_eq!(
            removals.iter().filter(|r| **r == Removal::Removed).count(),
            1,
            "exactly one of the racing removals succeeds"
        );
        let left = store.list_totp(&alice).await?.len() + store.list_channels(&alice).await?.len();
        assert_eq!(left, 1, "one factor is left");
    }
    Ok(())
}
