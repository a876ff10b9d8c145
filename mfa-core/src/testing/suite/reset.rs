//! Resetting a subject.

use super::*;

// ----- reset --------------------------------------------------------------

/// `reset_subject` removes the subject's authenticators, pending
/// enrollment, unused recovery codes, channels, devices (expired ones
/// too), sent codes and failure counters, reports the counts, and leaves
/// the grace record, the audit trail and other subjects alone.
pub async fn reset_subject_removes_exactly_its_records<S: Store>(store: &S) -> Result<()> {
    let alice = fresh_subject()?;
    let bob = fresh_subject()?;
    let lim = limits(60, 10);
    let grace = GraceRecord {
        fixed_at: at(0),
        deadline: at(86_400),
    };

    // Alice: two authenticators, a pending enrollment, three unused codes
    // (one of four used), two channels, three devices (one expired), a
    // code on each channel, failures on two kinds, a grace record and an
    // audit event.
    let a1 = active(store, &alice, "a1", 5, at(0)).await?;
    let a2 = active(store, &alice, "a2", 5, at(1)).await?;
    let a_codes = hashes(4)?;
    store
        .replace_recovery_codes(&alice, a_codes.clone(), ReplaceCodes::Always, at(3))
        .await?;
    assert!(
        store
            .consume_recovery_code(&alice, &a_codes[0], at(4))
            .await?
    );
    store
        .add_channel(&alice, channel(Channel::Email, at(5))?)
        .await?;
    store
        .add_channel(&alice, channel(Channel::Sms, at(5))?)
        .await?;
    // After the channels: adding a factor drops pending enrollments.
    let a_pending = pending(&alice, at(2), 600)?;
    store.put_pending_totp(a_pending.clone()).await?;
    let a_devices = [
        device(&alice, "d1", at(6), at(10_000))?,
        device(&alice, "d2", at(7), at(10_000))?,
        device(&alice, "gone", at(1), at(8))?,
    ];
    for d in &a_devices {
        store.put_device(d.clone()).await?;
    }
    let (a_email, a_sms) = (fresh_hash()?, fresh_hash()?);
    store
        .issue_sent_code(sent(&alice, Channel::Email, a_email, at(9), 300), lim)
        .await?;
    store
        .issue_sent_code(sent(&alice, Channel::Sms, a_sms, at(9), 300), lim)
        .await?;
    let rule = ThrottleRule::default();
    for _ in 0..3 {
        store
            .charge_attempt(&alice, FactorKind::Totp, rule, at(10))
            .await?;
    }
    store
        .charge_attempt(&alice, FactorKind::Email, rule, at(10))
        .await?;
    store.fix_grace(&alice, grace).await?;
    let event = NewAuditEvent {
        at: at(11),
        subject: Some(alice.clone()),
        actor: Actor::Subject(alice.clone()),
        action: AuditAction::AuthenticatorAdded,
        factor: Some(FactorKind::Totp),
        detail: Some("a1".to_owned()),
    };
    store.append_audit(event.clone()).await?;

    // Bob: one of each.
    let b1 = active(store, &bob, "b1", 5, at(0)).await?;
    let b_codes = hashes(2)?;
    store
        .replace_recovery_codes(&bob, b_codes.clone(), ReplaceCodes::Always, at(3))
        .await?;
    store
        .add_channel(&bob, channel(Channel::Email, at(5))?)
        .await?;
    let b_pending = pending(&bob, at(2), 600)?;
    store.put_pending_totp(b_pending.clone()).await?;
    let b_device = device(&bob, "bd", at(6), at(10_000))?;
    store.put_device(b_device.clone()).await?;
    let b_email = fresh_hash()?;
    store
        .issue_sent_code(sent(&bob, Channel::Email, b_email, at(9), 300), lim)
        .await?;
    store
        .charge_attempt(&bob, FactorKind::Totp, rule, at(10))
        .await?;
    let b_throttle = store.throttle_state(&bob, FactorKind::Totp).await?;
    store.fix_grace(&bob, grace).await?;

    let summary = store.reset_subject(&alice).await?;
    assert_eq!(
        summary,
        ResetSummary {
            authenticators: 2,
            pending: 1,
            recovery_codes: 3,
            channels: 2,
            devices: 3,
        }
    );

    // Alice has nothing left but her grace record and audit trail.
    let now = at(20);
    assert!(store.list_totp(&alice).await?.is_empty());
    for cred in [&a1, &a2] {
        assert!(
            !store
                .consume_totp_step(&alice, &cred.id, 100, 0, now)
                .await?
        );
    }
    assert_eq!(store.pending_totp(&alice, &a_pending.id, now).await?, None);
    assert_eq!(
        store
            .activate_totp(&alice, &a_pending.id, activation("x", 9, 0, now))
            .await?,
        None
    );
    assert!(
        !store
            .replace_sealed(&a1.id, &a1.sealed_secret, &fresh_sealed()?)
            .await?,
        "the sealed secret is gone too"
    );
    assert_eq!(store.recovery_codes_left(&alice).await?, 0);
    assert!(
        !store
            .consume_recovery_code(&alice, &a_codes[1], now)
            .await?
    );
    assert!(store.list_channels(&alice).await?.is_empty());
    assert!(store.list_devices(&alice, now).await?.is_empty());
    assert_eq!(
        store
            .touch_device(&alice, &a_devices[0].token_hash, now)
            .await?,
        None
    );
    for (channel, hash) in [(Channel::Email, &a_email), (Channel::Sms, &a_sms)] {
        assert_eq!(
            store
                .attempt_sent_code(&alice, channel, hash, 5, now)
                .await?,
            SentCodeAttempt::NoActiveCode,
            "sent codes are removed"
        );
    }
    for kind in [FactorKind::Totp, FactorKind::Email] {
        assert_eq!(
            store.throttle_state(&alice, kind).await?,
            ThrottleState::default(),
            "failure counters are removed"
        );
    }
    assert_eq!(
        store.grace(&alice).await?,
        Some(grace),
        "the grace record stays"
    );
    let trail = store
        .list_audit(&AuditQuery::latest(10).for_subject(alice.clone()))
        .await?;
    assert_eq!(
        trail.into_iter().map(|e| e.event).collect::<Vec<_>>(),
        vec![event],
        "the audit trail stays"
    );

    // Bob is untouched.
    assert_eq!(store.list_totp(&bob).await?, vec![b1]);
    assert_eq!(
        store.pending_totp(&bob, &b_pending.id, now).await?,
        Some(b_pending)
    );
    assert_eq!(store.recovery_codes_left(&bob).await?, 2);
    assert_eq!(store.list_channels(&bob).await?.len(), 1);
    assert_eq!(store.list_devices(&bob, now).await?, vec![b_device]);
    assert_eq!(
        store.throttle_state(&bob, FactorKind::Totp).await?,
        b_throttle
    );
    assert_eq!(store.grace(&bob).await?, Some(grace));
    assert_eq!(
        store
            .attempt_sent_code(&bob, Channel::Email, &b_email, 5, now)
            .await?,
        SentCodeAttempt::Accepted
    );

    assert_eq!(
        store.reset_subject(&alice).await?,
        ResetSummary::default(),
        "a second reset finds nothing"
    );
    assert!(
        store
            .replace_recovery_codes(&alice, hashes(2)?, ReplaceCodes::IfNone, now)
            .await?,
        "the subject can enroll again"
    );
    Ok(())
}
