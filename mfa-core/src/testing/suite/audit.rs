//! The audit trail.

use super::*;

// ----- audit --------------------------------------------------------------

/// `append_audit` gives increasing ids; `list_audit` returns events
/// unchanged, newest first, filtered by subject, at most `limit`, and
/// `before` pages through them without gaps or duplicates.
pub async fn audit_ids_order_filter_and_pages<S: Store>(store: &S) -> Result<()> {
    let alice = fresh_subject()?;
    let bob = fresh_subject()?;
    let admin = fresh_subject()?;
    let mut appended = Vec::new();
    for i in 0..7u8 {
        let event = NewAuditEvent {
            at: at(u64::from(i)),
            subject: Some(alice.clone()),
            actor: match i % 3 {
                0 => Actor::Subject(alice.clone()),
                1 => Actor::Admin(admin.clone()),
                _ => Actor::System,
            },
            action: AuditAction::ALL[usize::from(i)],
            factor: (i % 2 == 0).then_some(FactorKind::ALL[usize::from(i) % 4]),
            detail: (i % 3 == 0).then(|| format!("detail {i} — ünïcode")),
        };
        store.append_audit(event.clone()).await?;
        appended.push(event);
        if i == 2 {
            store
                .append_audit(NewAuditEvent {
                    at: at(100),
                    subject: Some(bob.clone()),
                    actor: Actor::Subject(bob.clone()),
                    action: AuditAction::VerifyFailed,
                    factor: Some(FactorKind::Sms),
                    detail: None,
                })
                .await?;
        }
        if i == 4 {
            store
                .append_audit(NewAuditEvent {
                    at: at(101),
                    subject: None,
                    actor: Actor::Admin(admin.clone()),
                    action: AuditAction::PolicyUpdated,
                    factor: None,
                    detail: None,
                })
                .await?;
        }
    }

    let mine = store
        .list_audit(&AuditQuery::latest(AuditQuery::MAX_LIMIT).for_subject(alice.clone()))
        .await?;
    let mut expected = appended.clone();
    expected.reverse();
    assert_eq!(
        mine.iter().map(|e| e.event.clone()).collect::<Vec<_>>(),
        expected,
        "the subject's events, unchanged, newest first"
    );
    assert!(
        mine.windows(2).all(|w| w[0].id > w[1].id),
        "ids increase in append order"
    );
    assert!(mine.iter().all(|e| e.id > 0));

    // Pages of 3 via `before`: 3 + 3 + 1, then nothing.
    let mut paged = Vec::new();
    let mut sizes = Vec::new();
    let mut query = AuditQuery::latest(3).for_subject(alice.clone());
    loop {
        let page = store.list_audit(&query).await?;
        if let (Some(before), Some(first)) = (query.before, page.first()) {
            assert!(first.id < before, "a page starts strictly before `before`");
        }
        let Some(last) = page.last() else { break };
        assert!(sizes.len() < 10, "paging does not end");
        query = query.clone().before(last.id);
        sizes.push(page.len());
        paged.extend(page);
    }
    assert_eq!(sizes, vec![3, 3, 1]);
    assert_eq!(paged, mine, "pages have no gaps or duplicates");

    assert_eq!(
        store
            .list_audit(&AuditQuery::latest(2).for_subject(alice.clone()))
            .await?,
        mine[..2].to_vec(),
        "at most `limit`"
    );
    let bobs = store
        .list_audit(&AuditQuery::latest(10).for_subject(bob.clone()))
        .await?;
    assert_eq!(bobs.len(), 1, "the subject filter");
    assert_eq!(bobs[0].event.action, AuditAction::VerifyFailed);

    // Everyone's events up to Alice's newest: hers, Bob's and the policy
    // change, interleaved by id. (Other cases sharing the store may add
    // events in between; only the relative order is checked.)
    let newest = mine[0].id;
    let oldest = mine[6].id;
    let all = store
        .list_audit(&AuditQuery::latest(AuditQuery::MAX_LIMIT).before(newest + 1))
        .await?;
    assert_eq!(all.first().map(|e| e.id), Some(newest));
    assert!(all.windows(2).all(|w| w[0].id > w[1].id));
    let ours: Vec<_> = all
        .iter()
        .filter(|e| e.id >= oldest)
        .filter(|e| {
            e.event.subject.as_ref() == Some(&alice)
                || e.event.subject.as_ref() == Some(&bob)
                || e.event.actor == Actor::Admin(admin.clone())
        })
        .map(|e| e.event.action)
        .collect();
    let a = |i: usize| AuditAction::ALL[i];
    assert_eq!(
        ours,
        vec![
            a(6),
            a(5),
            AuditAction::PolicyUpdated,
            a(4),
            a(3),
            AuditAction::VerifyFailed,
            a(2),
            a(1),
            a(0)
        ],
        "events of all subjects (and none) are listed without a subject filter"
    );
    assert!(
        store
            .list_audit(
                &AuditQuery::latest(10)
                    .for_subject(alice.clone())
                    .before(oldest)
            )
            .await?
            .is_empty()
    );
    Ok(())
}
