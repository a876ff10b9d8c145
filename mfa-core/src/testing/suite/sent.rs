//! Codes sent by e-mail or SMS: limits, single use, tries, expiry.

use super::*;

// ----- sent codes ---------------------------------------------------------

/// The cooldown: a send less than `cooldown` after the newest recorded
/// send is `TooSoon { retry_after: newest + cooldown }` and records
/// nothing (the previous code still works); at exactly `newest + cooldown`
/// it is allowed.
pub async fn sent_code_cooldown<S: Store>(store: &S) -> Result<()> {
    let alice = fresh_subject()?;
    let lim = limits(60, 10);
    let (h1, h2, h3, h4) = (fresh_hash()?, fresh_hash()?, fresh_hash()?, fresh_hash()?);
    let issue = |hash, t| store.issue_sent_code(sent(&alice, Channel::Email, hash, t, 300), lim);
    assert_eq!(issue(h1, at(0)).await?, IssueOutcome::Issued);
    assert_eq!(issue(h2, at(59)).await?, too_soon(at(60)));
    assert_eq!(
        store
            .attempt_sent_code(&alice, Channel::Email, &h2, 5, at(59))
            .await?,
        rejected(4),
        "a refused send records no code"
    );
    assert_eq!(
        store
            .attempt_sent_code(&alice, Channel::Email, &h1, 5, at(59))
            .await?,
        SentCodeAttempt::Accepted,
        "a refused send leaves the previous code working"
    );
    assert_eq!(
        issue(h3, at(60)).await?,
        IssueOutcome::Issued,
        "allowed exactly `cooldown` after the newest send"
    );
    assert_eq!(issue(h4, at(61)).await?, too_soon(at(120)));
    assert_eq!(issue(h4, at(119)).await?, too_soon(at(120)));
    assert_eq!(issue(h4, at(120)).await?, IssueOutcome::Issued);
    Ok(())
}

/// A withdrawn send (its delivery failed) counts for neither the cooldown
/// nor the hourly cap, and its code no longer works; withdrawing an older
/// send leaves a newer active code working; withdrawing what was never
/// recorded changes nothing.
pub async fn sent_code_withdrawn_send_does_not_count<S: Store>(store: &S) -> Result<()> {
    let alice = fresh_subject()?;
    let lim = limits(60, 2);
    let (h1, h2, h3, h4) = (fresh_hash()?, fresh_hash()?, fresh_hash()?, fresh_hash()?);
    let code = |hash, t| sent(&alice, Channel::Email, hash, t, 300);
    assert_eq!(
        store.issue_sent_code(code(h1, at(0)), lim).await?,
        IssueOutcome::Issued
    );
    store.withdraw_sent_code(&code(h1, at(0))).await?;
    assert_eq!(
        store
            .attempt_sent_code(&alice, Channel::Email, &h1, 5, at(1))
            .await?,
        SentCodeAttempt::NoActiveCode,
        "a withdrawn code does not work"
    );
    assert_eq!(
        store.issue_sent_code(code(h2, at(1)), lim).await?,
        IssueOutcome::Issued,
        "no cooldown after a withdrawn send"
    );
    assert_eq!(
        store.issue_sent_code(code(h3, at(61)), lim).await?,
        IssueOutcome::Issued
    );
    assert_eq!(
        store.issue_sent_code(code(h4, at(121)), lim).await?,
        too_soon(at(3601)),
        "two sends count in the hour; the withdrawn one does not"
    );
    // Withdrawing the older send leaves the newer code working.
    store.withdraw_sent_code(&code(h2, at(1))).await?;
    store
        .withdraw_sent_code(&code(fresh_hash()?, at(500)))
        .await?;
    assert_eq!(
        store
            .attempt_sent_code(&alice, Channel::Email, &h3, 5, at(122))
            .await?,
        SentCodeAttempt::Accepted
    );
    assert_eq!(
        store.issue_sent_code(code(h4, at(122)), lim).await?,
        IssueOutcome::Issued,
        "one send left in the hour"
    );
    Ok(())
}

/// The hourly cap: with `max_per_hour` sends in the hour up to now, a send
/// is `TooSoon { retry_after: oldest_in_hour + 1 h }` (cooldown is checked
/// first); the hour slides, and refused sends do not count.
pub async fn sent_code_hourly_cap_sliding_window<S: Store>(store: &S) -> Result<()> {
    let alice = fresh_subject()?;
    let lim = limits(60, 3);
    let alice = &alice;
    let issue = |t| async move {
        store
            .issue_sent_code(sent(alice, Channel::Sms, fresh_hash()?, t, 300), lim)
            .await
    };
    let issued = IssueOutcome::Issued;
    assert_eq!(issue(at(0)).await?, issued);
    assert_eq!(issue(at(60)).await?, issued);
    assert_eq!(issue(at(120)).await?, issued);
    assert_eq!(
        issue(at(150)).await?,
        too_soon(at(180)),
        "the cooldown is checked before the cap"
    );
    assert_eq!(
        issue(at(180)).await?,
        too_soon(at(3600)),
        "three sends in the hour: retry when the oldest leaves it"
    );
    assert_eq!(issue(at(3599)).await?, too_soon(at(3600)));
    assert_eq!(
        issue(at(3600)).await?,
        issued,
        "a send exactly one hour old no longer counts"
    );
    assert_eq!(issue(at(3630)).await?, too_soon(at(3660)));
    // In the hour up to 3660: sends at 120 and 3600 (60 has just left).
    assert_eq!(issue(at(3660)).await?, issued);
    // In the hour up to 3720: sends at 3600 and 3660.
    assert_eq!(issue(at(3720)).await?, issued);
    // In the hour up to 3780: 3600, 3660 and 3720.
    assert_eq!(
        issue(at(3780)).await?,
        too_soon(at(7200)),
        "the window slides: retry_after follows the oldest send in it"
    );
    Ok(())
}

/// A new code replaces the previous one: the old code no longer matches,
/// and the new code starts with a fresh try count.
pub async fn sent_code_new_code_replaces_previous<S: Store>(store: &S) -> Result<()> {
    let alice = fresh_subject()?;
    let lim = limits(60, 10);
    let (old, new, wrong) = (fresh_hash()?, fresh_hash()?, fresh_hash()?);
    let attempt = |hash, t| store.attempt_sent_code(&alice, Channel::Email, hash, 3, t);
    assert_eq!(
        store
            .issue_sent_code(sent(&alice, Channel::Email, old, at(0), 300), lim)
            .await?,
        IssueOutcome::Issued
    );
    assert_eq!(attempt(&wrong, at(1)).await?, rejected(2));
    assert_eq!(attempt(&wrong, at(2)).await?, rejected(1));
    assert_eq!(
        store
            .issue_sent_code(sent(&alice, Channel::Email, new, at(60), 300), lim)
            .await?,
        IssueOutcome::Issued
    );
    assert_eq!(
        attempt(&old, at(61)).await?,
        rejected(2),
        "the previous code stops working, and the new one has a fresh try count"
    );
    assert_eq!(attempt(&new, at(62)).await?, SentCodeAttempt::Accepted);
    assert_eq!(attempt(&new, at(63)).await?, SentCodeAttempt::NoActiveCode);
    assert_eq!(attempt(&old, at(63)).await?, SentCodeAttempt::NoActiveCode);
    Ok(())
}

/// A matching code is accepted once; with no code ever sent there is
/// nothing to try.
pub async fn sent_code_accepted_once<S: Store>(store: &S) -> Result<()> {
    let alice = fresh_subject()?;
    let code = fresh_hash()?;
    let attempt = |hash, t| store.attempt_sent_code(&alice, Channel::Sms, hash, 5, t);
    assert_eq!(
        attempt(&code, at(0)).await?,
        SentCodeAttempt::NoActiveCode,
        "no code was sent"
    );
    assert_eq!(
        store
            .issue_sent_code(sent(&alice, Channel::Sms, code, at(0), 300), limits(60, 10))
            .await?,
        IssueOutcome::Issued
    );
    assert_eq!(attempt(&code, at(10)).await?, SentCodeAttempt::Accepted);
    assert_eq!(
        attempt(&code, at(11)).await?,
        SentCodeAttempt::NoActiveCode,
        "a code is consumed when accepted"
    );
    assert_eq!(
        attempt(&fresh_hash()?, at(12)).await?,
        SentCodeAttempt::NoActiveCode
    );
    Ok(())
}

/// Wrong tries count down `tries_left` to 0; after `max_tries` wrong tries
/// even the right code finds `NoActiveCode`, until a new code is sent.
pub async fn sent_code_tries_run_out<S: Store>(store: &S) -> Result<()> {
    let alice = fresh_subject()?;
    let (code, wrong) = (fresh_hash()?, fresh_hash()?);
    let attempt = |hash, t| store.attempt_sent_code(&alice, Channel::Email, hash, 3, t);
    let issue =
        |hash, t| store.issue_sent_code(sent(&alice, Channel::Email, hash, t, 300), limits(60, 10));
    assert_eq!(issue(code, at(0)).await?, IssueOutcome::Issued);
    assert_eq!(attempt(&wrong, at(1)).await?, rejected(2));
    assert_eq!(attempt(&wrong, at(2)).await?, rejected(1));
    assert_eq!(attempt(&wrong, at(3)).await?, rejected(0));
    assert_eq!(
        attempt(&code, at(4)).await?,
        SentCodeAttempt::NoActiveCode,
        "out of tries: even the right code is refused"
    );
    assert_eq!(attempt(&wrong, at(5)).await?, SentCodeAttempt::NoActiveCode);
    let next = fresh_hash()?;
    assert_eq!(issue(next, at(60)).await?, IssueOutcome::Issued);
    assert_eq!(attempt(&wrong, at(61)).await?, rejected(2));
    assert_eq!(attempt(&next, at(62)).await?, SentCodeAttempt::Accepted);
    Ok(())
}

/// A sent code works strictly before `expires_at` and not at it.
pub async fn sent_code_expires_at_expires_at<S: Store>(store: &S) -> Result<()> {
    let alice = fresh_subject()?;
    let (email, sms) = (fresh_hash()?, fresh_hash()?);
    let lim = limits(60, 10);
    store
        .issue_sent_code(sent(&alice, Channel::Email, email, at(0), 300), lim)
        .await?;
    store
        .issue_sent_code(sent(&alice, Channel::Sms, sms, at(0), 300), lim)
        .await?;
    assert_eq!(
        store
            .attempt_sent_code(&alice, Channel::Email, &fresh_hash()?, 5, at(299))
            .await?,
        rejected(4)
    );
    assert_eq!(
        store
            .attempt_sent_code(&alice, Channel::Email, &email, 5, at(300))
            .await?,
        SentCodeAttempt::NoActiveCode,
        "expired when expires_at <= now"
    );
    assert_eq!(
        store
            .attempt_sent_code(&alice, Channel::Email, &fresh_hash()?, 5, at(301))
            .await?,
        SentCodeAttempt::NoActiveCode
    );
    assert_eq!(
        store
            .attempt_sent_code(&alice, Channel::Sms, &sms, 5, at(299))
            .await?,
        SentCodeAttempt::Accepted,
        "one second before expiry it works"
    );
    Ok(())
}

/// Codes, tries and send limits are per subject and channel.
pub async fn sent_code_channels_and_subjects_separate<S: Store>(store: &S) -> Result<()> {
    let alice = fresh_subject()?;
    let bob = fresh_subject()?;
    let lim = limits(60, 10);
    let (email, sms, bobs) = (fresh_hash()?, fresh_hash()?, fresh_hash()?);
    let issued = IssueOutcome::Issued;
    assert_eq!(
        store
            .issue_sent_code(sent(&alice, Channel::Email, email, at(0), 300), lim)
            .await?,
        issued
    );
    assert_eq!(
        store
            .issue_sent_code(sent(&alice, Channel::Sms, sms, at(1), 300), lim)
            .await?,
        issued,
        "the cooldown is per channel"
    );
    assert_eq!(
        store
            .issue_sent_code(sent(&bob, Channel::Email, bobs, at(2), 300), lim)
            .await?,
        issued,
        "the cooldown is per subject"
    );
    assert_eq!(
        store
            .attempt_sent_code(&alice, Channel::Sms, &email, 2, at(3))
            .await?,
        rejected(1),
        "an e-mail code does not work as an SMS code"
    );
    assert_eq!(
        store
            .attempt_sent_code(&bob, Channel::Email, &email, 2, at(3))
            .await?,
        rejected(1),
        "one subject's code does not work for another"
    );
    assert_eq!(
        store
            .attempt_sent_code(&alice, Channel::Sms, &email, 2, at(4))
            .await?,
        rejected(0)
    );
    assert_eq!(
        store
            .attempt_sent_code(&alice, Channel::Sms, &sms, 2, at(5))
            .await?,
        SentCodeAttempt::NoActiveCode,
        "the SMS code is out of tries"
    );
    assert_eq!(
        store
            .attempt_sent_code(&alice, Channel::Email, &email, 2, at(5))
            .await?,
        SentCodeAttempt::Accepted,
        "wrong tries on SMS do not count against the e-mail code"
    );
    assert_eq!(
        store
            .attempt_sent_code(&bob, Channel::Email, &bobs, 2, at(6))
            .await?,
        SentCodeAttempt::Accepted,
        "consuming one subject's code leaves another's"
    );
    assert_eq!(
        store
            .attempt_sent_code(&bob, Channel::Sms, &bobs, 2, at(6))
            .await?,
        SentCodeAttempt::NoActiveCode
    );
    Ok(())
}
