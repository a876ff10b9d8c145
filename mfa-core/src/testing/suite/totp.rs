//! Authenticator apps: pending enrollments, activation, the step compare-and-set and the sign-in hot path.

use super::*;

// ----- authenticator apps -----------------------------------------------

/// `begin_totp_attempt` charges the attempt exactly as `charge_attempt`
/// would and returns what `load_policy` and `list_totp` return, for this
/// subject only.
pub async fn begin_totp_attempt_charges_and_reads<S: Store>(store: &S) -> Result<()> {
    let alice = fresh_subject()?;
    let bob = fresh_subject()?;
    let rule = ThrottleRule::default();
    let empty = store.begin_totp_attempt(&alice, rule, at(0)).await?;
    assert!(empty.credentials.is_empty());
    assert_eq!(
        empty.charge,
        rule.charge(&ThrottleState::default(), at(0)).1,
        "the first attempt is charged"
    );
    assert_eq!(empty.policy, store.load_policy().await?);

    active(store, &alice, "phone", 3, at(0)).await?;
    active(store, &alice, "tablet", 4, at(1)).await?;
    active(store, &bob, "bob's phone", 5, at(2)).await?;
    store
        .charge_attempt(&alice, FactorKind::Totp, rule, at(5))
        .await?;
    store
        .charge_attempt(&alice, FactorKind::Recovery, rule, at(5))
        .await?;
    store
        .charge_attempt(&bob, FactorKind::Totp, rule, at(5))
        .await?;

    let before = store.throttle_state(&alice, FactorKind::Totp).await?;
    let context = store.begin_totp_attempt(&alice, rule, at(6)).await?;
    let (after, charge) = rule.charge(&before, at(6));
    assert_eq!(context.charge, charge);
    assert_eq!(store.throttle_state(&alice, FactorKind::Totp).await?, after);
    assert_eq!(after.failures, 3);
    assert_eq!(context.credentials, store.list_totp(&alice).await?);
    assert_eq!(
        context
            .credentials
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>(),
        vec!["phone", "tablet"],
        "oldest first, this subject only"
    );
    assert_eq!(context.policy, store.load_policy().await?);
    Ok(())
}

/// `accept_totp_step`: compare-and-set like `consume_totp_step`; only when
/// it succeeds is the TOTP charge settled as a success and the event
/// appended.
pub async fn accept_totp_step_consumes_settles_and_audits<S: Store>(store: &S) -> Result<()> {
    let alice = fresh_subject()?;
    let bob = fresh_subject()?;
    let cred = active(store, &alice, "phone", 10, at(0)).await?;
    let rule = ThrottleRule::default();
    // An earlier run of three failures, then this attempt's own charge.
    for _ in 0..3 {
        store
            .charge_attempt(&alice, FactorKind::Totp, rule, at(5))
            .await?;
    }
    for _ in 0..2 {
        store
            .charge_attempt(&alice, FactorKind::Recovery, rule, at(5))
            .await?;
    }
    store
        .charge_attempt(&alice, FactorKind::Totp, rule, at(100))
        .await?;
    let charged = store.throttle_state(&alice, FactorKind::Totp).await?;
    assert_eq!(charged.failures, 4);
    let audited = AuditQuery::latest(100).for_subject(alice.clone());

    assert!(
        !store
            .accept_totp_step(
                &alice,
                &cred.id,
                10,
                0,
                rule,
                at(100),
                success_event(&alice, at(100))
            )
            .await?,
        "the step accepted at activation is refused"
    );
    assert_eq!(
        store.throttle_state(&alice, FactorKind::Totp).await?,
        charged,
        "a refused step settles nothing"
    );
    assert!(
        store.list_audit(&audited).await?.is_empty(),
        "nothing is audited for a refused step"
    );
    assert!(
        !store
            .accept_totp_step(
                &bob,
                &cred.id,
                11,
                0,
                rule,
                at(100),
                success_event(&bob, at(100))
            )
            .await?,
        "another subject cannot use the authenticator"
    );

    assert!(
        store
            .accept_totp_step(
                &alice,
                &cred.id,
                11,
                -1,
                rule,
                at(101),
                success_event(&alice, at(101))
            )
            .await?
    );
    let list = store.list_totp(&alice).await?;
    assert_eq!(
        list.first(),
        Some(&TotpCredential {
            last_step: Some(11),
            drift: -1,
            last_used_at: Some(at(101)),
            ..cred.clone()
        })
    );
    assert_eq!(
        store.throttle_state(&alice, FactorKind::Totp).await?,
        rule.succeed(&charged),
        "the success is settled"
    );
    assert_eq!(
        store
            .throttle_state(&alice, FactorKind::Totp)
            .await?
            .failures,
        0,
        "the earlier run is cleared"
    );
    assert_eq!(
        store
            .throttle_state(&alice, FactorKind::Recovery)
            .await?
            .failures,
        2,
        "other factors' failures are kept"
    );
    let events = store.list_audit(&audited).await?;
    assert_eq!(events.len(), 1);
    assert_eq!(
        events.first().map(|e| &e.event),
        Some(&success_event(&alice, at(101)))
    );

    assert!(
        !store
            .accept_totp_step(
                &alice,
                &cred.id,
                11,
                0,
                rule,
                at(102),
                success_event(&alice, at(102))
            )
            .await?,
        "the same step is refused"
    );
    assert_eq!(store.list_audit(&audited).await?.len(), 1);
    Ok(())
}

/// `put_pending_totp` replaces the subject's previous pending enrollment
/// (which then neither reads back nor activates), leaves other subjects'
/// alone, and `pending_totp` reads only the subject's own.
pub async fn pending_totp_put_replaces_previous<S: Store>(store: &S) -> Result<()> {
    let alice = fresh_subject()?;
    let bob = fresh_subject()?;
    let first = pending(&alice, at(0), 600)?;
    let second = pending(&alice, at(10), 600)?;
    let bobs = pending(&bob, at(0), 600)?;
    store.put_pending_totp(first.clone()).await?;
    store.put_pending_totp(bobs.clone()).await?;
    assert_eq!(
        store.pending_totp(&alice, &first.id, at(20)).await?,
        Some(first.clone()),
        "a pending enrollment reads back unchanged"
    );
    store.put_pending_totp(second.clone()).await?;
    assert_eq!(
        store.pending_totp(&alice, &first.id, at(20)).await?,
        None,
        "a second pending enrollment replaces the first"
    );
    assert_eq!(
        store.pending_totp(&alice, &second.id, at(20)).await?,
        Some(second.clone())
    );
    assert_eq!(
        store
            .activate_totp(&alice, &first.id, activation("x", 1, 0, at(20)))
            .await?,
        None,
        "a replaced pending enrollment does not activate"
    );
    assert_eq!(
        store.pending_totp(&bob, &bobs.id, at(20)).await?,
        Some(bobs),
        "another subject's pending enrollment is untouched"
    );
    assert_eq!(
        store.pending_totp(&bob, &second.id, at(20)).await?,
        None,
        "a pending enrollment reads back only for its own subject"
    );
    assert_eq!(
        store
            .pending_totp(&alice, &CredentialId::generate()?, at(20))
            .await?,
        None
    );
    assert!(store.list_totp(&alice).await?.is_empty());
    Ok(())
}

/// A pending enrollment is readable and activatable strictly before
/// `expires_at`, and not at or after it; a refused activation changes
/// nothing.
pub async fn pending_totp_expires_at_expires_at<S: Store>(store: &S) -> Result<()> {
    let alice = fresh_subject()?;
    let p = pending(&alice, at(0), 600)?;
    store.put_pending_totp(p.clone()).await?;
    assert_eq!(
        store.pending_totp(&alice, &p.id, at(599)).await?,
        Some(p.clone())
    );
    assert_eq!(
        store.pending_totp(&alice, &p.id, at(600)).await?,
        None,
        "expired when expires_at <= now"
    );
    assert_eq!(store.pending_totp(&alice, &p.id, at(601)).await?, None);
    assert_eq!(
        store
            .activate_totp(&alice, &p.id, activation("late", 20, 0, at(600)))
            .await?,
        None,
        "activation at expires_at fails"
    );
    assert!(store.list_totp(&alice).await?.is_empty());
    assert_eq!(
        store.pending_totp(&alice, &p.id, at(599)).await?,
        Some(p.clone()),
        "a refused activation leaves the pending enrollment as it was"
    );
    assert!(
        store
            .activate_totp(&alice, &p.id, activation("in time", 19, 0, at(599)))
            .await?
            .is_some(),
        "activation one second before expiry succeeds"
    );
    Ok(())
}

/// `activate_totp` returns and stores a credential with the pending
/// enrollment's id, subject, secret and config and the activation's name,
/// step, drift and time, and consumes the pending enrollment.
pub async fn activate_totp_copies_fields_and_consumes_pending<S: Store>(store: &S) -> Result<()> {
    let alice = fresh_subject()?;
    let p = pending(&alice, at(0), 600)?;
    store.put_pending_totp(p.clone()).await?;
    let step = 58_333_456;
    let got = store
        .activate_totp(&alice, &p.id, activation("Work phone", step, -1, at(42)))
        .await?;
    let expected = TotpCredential {
        id: p.id.clone(),
        subject: alice.clone(),
        name: "Work phone".to_owned(),
        sealed_secret: p.sealed_secret.clone(),
        config: p.config,
        last_step: Some(step),
        drift: -1,
        created_at: at(42),
        last_used_at: Some(at(42)),
    };
    assert_eq!(got, Some(expected.clone()));
    assert_eq!(store.list_totp(&alice).await?, vec![expected.clone()]);
    assert_eq!(
        store.pending_totp(&alice, &p.id, at(42)).await?,
        None,
        "activation consumes the pending enrollment"
    );
    assert_eq!(
        store
            .activate_totp(&alice, &p.id, activation("again", step + 1, 0, at(43)))
            .await?,
        None,
        "a pending enrollment activates once"
    );
    assert_eq!(store.list_totp(&alice).await?, vec![expected]);
    assert!(
        !store
            .consume_totp_step(&alice, &p.id, step, 0, at(44))
            .await?,
        "the step that confirmed the enrollment is consumed"
    );
    Ok(())
}

/// `activate_totp` refuses another subject's pending enrollment and
/// unknown ids, changing nothing.
pub async fn activate_totp_only_for_its_subject<S: Store>(store: &S) -> Result<()> {
    let alice = fresh_subject()?;
    let bob = fresh_subject()?;
    let p = pending(&alice, at(0), 600)?;
    store.put_pending_totp(p.clone()).await?;
    assert_eq!(
        store
            .activate_totp(&bob, &p.id, activation("stolen", 5, 0, at(1)))
            .await?,
        None,
        "another subject cannot activate the enrollment"
    );
    assert!(store.list_totp(&bob).await?.is_empty());
    assert_eq!(
        store
            .activate_totp(
                &alice,
                &CredentialId::generate()?,
                activation("x", 5, 0, at(1))
            )
            .await?,
        None
    );
    assert_eq!(
        store.pending_totp(&alice, &p.id, at(2)).await?,
        Some(p.clone())
    );
    assert!(
        store
            .activate_totp(&alice, &p.id, activation("mine", 5, 0, at(2)))
            .await?
            .is_some()
    );
    Ok(())
}

/// `consume_totp_step` is a compare-and-set on `last_step`: only a larger
/// step succeeds (and updates `last_step`, `drift`, `last_used_at` and
/// nothing else); equal or smaller steps, other subjects and unknown ids
/// fail and change nothing; each authenticator has its own `last_step`.
pub async fn consume_totp_step_compare_and_set<S: Store>(store: &S) -> Result<()> {
    let alice = fresh_subject()?;
    let bob = fresh_subject()?;
    // Activation sets `last_step = Some(accepted_step)`; the trait offers
    // no way to store `None`, so step 0 stands in for the smallest case.
    let cred = active(store, &alice, "phone", 0, at(0)).await?;
    let other = active(store, &alice, "tablet", 0, at(1)).await?;
    let consume = |id: &CredentialId, step, drift, now| {
        let id = id.clone();
        let alice = alice.clone();
        async move { store.consume_totp_step(&alice, &id, step, drift, now).await }
    };
    let read = |id: &CredentialId| {
        let id = id.clone();
        let alice = alice.clone();
        async move {
            let list = store.list_totp(&alice).await?;
            match list.into_iter().find(|c| c.id == id) {
                Some(c) => Ok::<_, Error>(c),
                None => panic!("authenticator {id} disappeared"),
            }
        }
    };

    assert!(
        !consume(&cred.id, 0, 0, at(5)).await?,
        "the step accepted at activation is consumed"
    );
    assert!(
        consume(&cred.id, 1, 1, at(30)).await?,
        "a larger step succeeds"
    );
    let expected = TotpCredential {
        last_step: Some(1),
        drift: 1,
        last_used_at: Some(at(30)),
        ..cred.clone()
    };
    assert_eq!(
        read(&cred.id).await?,
        expected,
        "exactly these fields change"
    );
    assert!(
        !consume(&cred.id, 1, 0, at(31)).await?,
        "the same step is refused"
    );
    assert!(
        consume(&cred.id, 5, -1, at(150)).await?,
        "skipping steps is fine"
    );
    assert!(
        !consume(&cred.id, 4, 0, at(151)).await?,
        "a smaller step is refused"
    );
    assert!(!consume(&cred.id, 5, 0, at(152)).await?);
    let expected = TotpCredential {
        last_step: Some(5),
        drift: -1,
        last_used_at: Some(at(150)),
        ..cred.clone()
    };
    assert_eq!(read(&cred.id).await?, expected, "refusals change nothing");

    assert!(
        !store
            .consume_totp_step(&bob, &cred.id, 100, 0, at(160))
            .await?,
        "another subject's authenticator is refused"
    );
    assert!(
        !consume(&CredentialId::generate()?, 100, 0, at(160)).await?,
        "an unknown authenticator is refused"
    );
    assert_eq!(read(&cred.id).await?, expected);

    assert!(
        consume(&other.id, 3, 0, at(170)).await?,
        "each authenticator has its own last step"
    );
    let big = 1 << 40; // beyond 32 bits
    assert!(consume(&cred.id, big, 0, at(180)).await?);
    assert!(!consume(&cred.id, big, 0, at(181)).await?);
    assert_eq!(read(&cred.id).await?.last_step, Some(big));
    assert_eq!(read(&other.id).await?.last_step, Some(3));
    Ok(())
}

/// `list_totp` lists the subject's authenticators oldest first (not in
/// insertion order); `remove_totp` removes one of the subject's own, once,
/// and refuses another subject's and pending enrollments.
pub async fn list_totp_oldest_first_and_remove<S: Store>(store: &S) -> Result<()> {
    let alice = fresh_subject()?;
    let bob = fresh_subject()?;
    let b = active(store, &alice, "b", 7, at(200)).await?;
    let a = active(store, &alice, "a", 3, at(100)).await?;
    let c = active(store, &alice, "c", 9, at(300)).await?;
    let bobs = active(store, &bob, "bob's", 1, at(50)).await?;
    assert_eq!(
        store.list_totp(&alice).await?,
        vec![a.clone(), b.clone(), c.clone()],
        "oldest first"
    );
    let remove = |id: &CredentialId| FactorRef::Authenticator(id.clone());
    assert_eq!(
        store.remove_factor(&bob, &remove(&b.id), None).await?,
        Removal::NotFound,
        "another subject cannot remove it"
    );
    assert_eq!(store.list_totp(&alice).await?.len(), 3);
    assert_eq!(
        store.remove_factor(&alice, &remove(&b.id), None).await?,
        Removal::Removed
    );
    assert_eq!(store.list_totp(&alice).await?, vec![a.clone(), c.clone()]);
    assert_eq!(
        store.remove_factor(&alice, &remove(&b.id), None).await?,
        Removal::NotFound,
        "removing twice"
    );
    assert!(
        !store
            .consume_totp_step(&alice, &b.id, 100, 0, at(400))
            .await?,
        "a removed authenticator accepts nothing"
    );
    let p = pending(&alice, at(400), 600)?;
    store.put_pending_totp(p.clone()).await?;
    assert_eq!(
        store.remove_factor(&alice, &remove(&p.id), None).await?,
        Removal::NotFound,
        "a pending enrollment is not an authenticator"
    );
    assert_eq!(store.pending_totp(&alice, &p.id, at(401)).await?, Some(p));
    assert_eq!(store.list_totp(&bob).await?, vec![bobs]);
    assert!(store.list_totp(&fresh_subject()?).await?.is_empty());
    Ok(())
}

/// `rename_totp` sets the name of the subject's own authenticator only,
/// reports whether it exists (also when the name does not change), and
/// touches nothing else of it.
pub async fn rename_totp_sets_the_name_of_its_own<S: Store>(store: &S) -> Result<()> {
    let alice = fresh_subject()?;
    let bob = fresh_subject()?;
    let cred = active(store, &alice, "phone", 3, at(0)).await?;
    assert!(
        !store.rename_totp(&bob, &cred.id, "mine now").await?,
        "another subject cannot rename it"
    );
    assert!(store.rename_totp(&alice, &cred.id, "Work phone").await?);
    assert!(
        store.rename_totp(&alice, &cred.id, "Work phone").await?,
        "the same name again still finds it"
    );
    assert_eq!(
        store.list_totp(&alice).await?,
        vec![TotpCredential {
            name: "Work phone".to_owned(),
            ..cred.clone()
        }]
    );
    assert!(
        !store
            .rename_totp(&alice, &CredentialId::generate()?, "x")
            .await?,
        "unknown id"
    );
    let p = pending(&alice, at(10), 600)?;
    store.put_pending_totp(p.clone()).await?;
    assert!(
        !store.rename_totp(&alice, &p.id, "x").await?,
        "a pending enrollment is not an authenticator"
    );
    Ok(())
}
