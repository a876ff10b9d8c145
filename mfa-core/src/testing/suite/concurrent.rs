//! Races: N tasks released together, exactly the right number win.

use super::*;

// ----- concurrency --------------------------------------------------------

/// Racing `consume_totp_step` with the same step: exactly one wins.
pub async fn concurrent_totp_step_single_winner<S: Store>(store: Arc<S>) -> Result<()> {
    for _ in 0..ROUNDS {
        concurrent_totp_step_single_winner_round(&store).await?;
    }
    Ok(())
}

async fn concurrent_totp_step_single_winner_round<S: Store>(store: &Arc<S>) -> Result<()> {
    let alice = fresh_subject()?;
    let cred = active(&**store, &alice, "phone", 10, at(0)).await?;
    let wins = race(store, |store, i| {
        let (alice, id) = (alice.clone(), cred.id.clone());
        async move {
            let drift = i16::try_from(i).unwrap_or(0);
            store
                .consume_totp_step(&alice, &id, 11, drift, at(30))
                .await
        }
    })
    .await?;
    assert_eq!(
        wins.iter().filter(|w| **w).count(),
        1,
        "exactly one of {TASKS} concurrent uses of a step succeeds"
    );
    let list = store.list_totp(&alice).await?;
    assert_eq!(list.first().and_then(|c| c.last_step), Some(11));
    let winner = wins
        .iter()
        .position(|w| *w)
        .and_then(|i| i16::try_from(i).ok());
    assert_eq!(
        list.first().map(|c| c.drift),
        winner,
        "the winner's drift is stored"
    );
    Ok(())
}

/// Racing `accept_totp_step` with the same step: exactly one wins, and
/// exactly one audit event is appended.
pub async fn concurrent_accept_totp_step_single_winner<S: Store>(store: Arc<S>) -> Result<()> {
    for _ in 0..ROUNDS {
        let alice = fresh_subject()?;
        let cred = active(&*store, &alice, "phone", 10, at(0)).await?;
        let wins = race(&store, |store, _| {
            let (alice, id) = (alice.clone(), cred.id.clone());
            async move {
                let audit = success_event(&alice, at(30));
                store
                    .accept_totp_step(&alice, &id, 11, 0, ThrottleRule::default(), at(30), audit)
                    .await
            }
        })
        .await?;
        assert_eq!(
            wins.iter().filter(|w| **w).count(),
            1,
            "exactly one of {TASKS} concurrent sign-ins with one step succeeds"
        );
        let events = store
            .list_audit(&AuditQuery::latest(100).for_subject(alice.clone()))
            .await?;
        assert_eq!(events.len(), 1, "exactly one success is audited");
    }
    Ok(())
}

/// Racing `consume_recovery_code` with the same code: exactly one wins.
pub async fn concurrent_recovery_code_single_winner<S: Store>(store: Arc<S>) -> Result<()> {
    for _ in 0..ROUNDS {
        concurrent_recovery_code_single_winner_round(&store).await?;
    }
    Ok(())
}

async fn concurrent_recovery_code_single_winner_round<S: Store>(store: &Arc<S>) -> Result<()> {
    let alice = fresh_subject()?;
    let codes = hashes(3)?;
    store
        .replace_recovery_codes(&alice, codes.clone(), ReplaceCodes::Always, at(0))
        .await?;
    let target = codes[1];
    let wins = race(store, |store, _| {
        let alice = alice.clone();
        async move { store.consume_recovery_code(&alice, &target, at(1)).await }
    })
    .await?;
    assert_eq!(
        wins.iter().filter(|w| **w).count(),
        1,
        "exactly one of {TASKS} concurrent uses of a recovery code succeeds"
    );
    assert_eq!(store.recovery_codes_left(&alice).await?, 2);
    Ok(())
}

/// Racing `attempt_sent_code` with the right code: exactly one is
/// `Accepted`.
pub async fn concurrent_sent_code_single_winner<S: Store>(store: Arc<S>) -> Result<()> {
    for _ in 0..ROUNDS {
        concurrent_sent_code_single_winner_round(&store).await?;
    }
    Ok(())
}

async fn concurrent_sent_code_single_winner_round<S: Store>(store: &Arc<S>) -> Result<()> {
    let alice = fresh_subject()?;
    let code = fresh_hash()?;
    store
        .issue_sent_code(sent(&alice, Channel::Sms, code, at(0), 300), limits(60, 10))
        .await?;
    let results = race(store, |store, _| {
        let alice = alice.clone();
        async move {
            store
                .attempt_sent_code(&alice, Channel::Sms, &code, 5, at(1))
                .await
        }
    })
    .await?;
    let accepted = results
        .iter()
        .filter(|r| **r == SentCodeAttempt::Accepted)
        .count();
    assert_eq!(
        accepted, 1,
        "exactly one of {TASKS} concurrent tries of a sent code succeeds: {results:?}"
    );
    assert!(
        results
            .iter()
            .all(|r| matches!(r, SentCodeAttempt::Accepted | SentCodeAttempt::NoActiveCode)),
        "the others find no active code: {results:?}"
    );
    Ok(())
}

/// Racing `activate_totp` on one pending enrollment: exactly one `Some`,
/// and exactly one authenticator results.
pub async fn concurrent_activation_single_winner<S: Store>(store: Arc<S>) -> Result<()> {
    for _ in 0..ROUNDS {
        concurrent_activation_single_winner_round(&store).await?;
    }
    Ok(())
}

async fn concurrent_activation_single_winner_round<S: Store>(store: &Arc<S>) -> Result<()> {
    let alice = fresh_subject()?;
    let p = pending(&alice, at(0), 600)?;
    store.put_pending_totp(p.clone()).await?;
    let results = race(store, |store, i| {
        let (alice, id) = (alice.clone(), p.id.clone());
        async move {
            store
                .activate_totp(&alice, &id, activation(&format!("phone {i}"), 7, 0, at(1)))
                .await
        }
    })
    .await?;
    let winners: Vec<_> = results.into_iter().flatten().collect();
    assert_eq!(
        winners.len(),
        1,
        "exactly one of {TASKS} concurrent activations succeeds"
    );
    assert_eq!(store.list_totp(&alice).await?, winners);
    Ok(())
}

/// Racing `replace_recovery_codes(IfNone)`: exactly one succeeds, and its
/// set is the one stored.
pub async fn concurrent_replace_recovery_if_none_single_winner<S: Store>(
    store: Arc<S>,
) -> Result<()> {
    for _ in 0..ROUNDS {
        concurrent_replace_recovery_if_none_single_winner_round(&store).await?;
    }
    Ok(())
}

async fn concurrent_replace_recovery_if_none_single_winner_round<S: Store>(
    store: &Arc<S>,
) -> Result<()> {
    let alice = fresh_subject()?;
    let sets: Vec<Vec<CodeHash>> = (0..TASKS).map(|_| hashes(3)).collect::<Result<_>>()?;
    let sets = Arc::new(sets);
    let wins = race(store, |store, i| {
        let (alice, sets) = (alice.clone(), Arc::clone(&sets));
        async move {
            let set = sets.get(i).cloned().unwrap_or_default();
            store
                .replace_recovery_codes(&alice, set, ReplaceCodes::IfNone, at(0))
                .await
        }
    })
    .await?;
    assert_eq!(
        wins.iter().filter(|w| **w).count(),
        1,
        "exactly one of {TASKS} concurrent IfNone replacements succeeds"
    );
    assert_eq!(store.recovery_codes_left(&alice).await?, 3);
    let winner = wins.iter().position(|w| *w).unwrap_or(0);
    let loser = (winner + 1) % TASKS;
    assert!(
        !store
            .consume_recovery_code(&alice, &sets[loser][0], at(1))
            .await?
    );
    for code in &sets[winner] {
        assert!(
            store.consume_recovery_code(&alice, code, at(1)).await?,
            "the winner's set is stored"
        );
    }
    Ok(())
}

/// Racing `fix_grace` with different records: all get the same record
/// back, which is the one stored.
pub async fn concurrent_fix_grace_same_record<S: Store>(store: Arc<S>) -> Result<()> {
    for _ in 0..ROUNDS {
        concurrent_fix_grace_same_record_round(&store).await?;
    }
    Ok(())
}

async fn concurrent_fix_grace_same_record_round<S: Store>(store: &Arc<S>) -> Result<()> {
    let alice = fresh_subject()?;
    let records = race(store, |store, i| {
        let alice = alice.clone();
        async move {
            let i = u64::try_from(i).unwrap_or(0);
            let record = GraceRecord {
                fixed_at: at(i),
                deadline: at(86_400 + i),
            };
            store.fix_grace(&alice, record).await
        }
    })
    .await?;
    let first = records[0];
    assert!(
        records.iter().all(|r| *r == first),
        "all {TASKS} concurrent calls return the same record: {records:?}"
    );
    assert_eq!(first.deadline, first.fixed_at.plus(secs(86_400)));
    assert_eq!(store.grace(&alice).await?, Some(first));
    Ok(())
}

/// Racing `issue_sent_code` at one instant with `max_per_hour = 10` and no
/// cooldown: exactly 10 are issued, and the active code is one of them.
pub async fn concurrent_issue_sent_code_respects_hourly_cap<S: Store>(store: Arc<S>) -> Result<()> {
    for _ in 0..ROUNDS {
        concurrent_issue_sent_code_respects_hourly_cap_round(&store).await?;
    }
    Ok(())
}

async fn concurrent_issue_sent_code_respects_hourly_cap_round<S: Store>(
    store: &Arc<S>,
) -> Result<()> {
    let alice = fresh_subject()?;
    let codes = Arc::new(hashes(TASKS)?);
    let lim = limits(0, 10);
    let outcomes = race(store, |store, i| {
        let (alice, codes) = (alice.clone(), Arc::clone(&codes));
        async move {
            let code = codes
                .get(i)
                .copied()
                .unwrap_or(CodeHash::from_bytes([0; 32]));
            store
                .issue_sent_code(sent(&alice, Channel::Email, code, at(0), 300), lim)
                .await
        }
    })
    .await?;
    let issued: Vec<usize> = (0..TASKS)
        .filter(|i| outcomes[*i] == IssueOutcome::Issued)
        .collect();
    assert_eq!(
        issued.len(),
        10,
        "{TASKS} concurrent sends with a cap of 10 issue exactly 10: {outcomes:?}"
    );
    assert!(
        outcomes
            .iter()
            .all(|o| *o == IssueOutcome::Issued || *o == too_soon(at(3600))),
        "the rest retry when the hour is over: {outcomes:?}"
    );
    // Exactly one code is active, and it is one that was issued.
    let mut accepted = Vec::new();
    for (i, code) in codes.iter().enumerate() {
        let result = store
            .attempt_sent_code(&alice, Channel::Email, code, 100, at(1))
            .await?;
        if result == SentCodeAttempt::Accepted {
            accepted.push(i);
        }
    }
    assert_eq!(accepted.len(), 1, "one active code");
    assert!(issued.contains(&accepted[0]), "the active code was issued");
    Ok(())
}
