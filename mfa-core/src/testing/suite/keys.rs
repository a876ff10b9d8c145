//! Key rotation: paging sealed secrets and replacing them.

use super::*;

// ----- key rotation -------------------------------------------------------

/// `sealed_secrets` returns active and pending secrets ordered by
/// credential id, strictly after `after`, at most `limit` per page.
pub async fn sealed_secrets_pages_by_credential_id<S: Store>(store: &S) -> Result<()> {
    let alice = fresh_subject()?;
    let bob = fresh_subject()?;
    let mut mine = Vec::new(); // (id, subject, sealed)
    for (subject, at_) in [(&alice, at(0)), (&alice, at(1)), (&bob, at(2))] {
        let c = active(store, subject, "app", 1, at_).await?;
        mine.push((c.id, c.subject, c.sealed_secret));
    }
    for subject in [&alice, &bob] {
        let p = pending(subject, at(3), 600)?;
        store.put_pending_totp(p.clone()).await?;
        mine.push((p.id, p.subject, p.sealed_secret));
    }
    mine.sort_by(|a, b| a.0.cmp(&b.0));

    // Every page, from the start. (A shared store may hold other entries.)
    let mut all = Vec::new();
    let mut after: Option<CredentialId> = None;
    loop {
        let page = store.sealed_secrets(after.as_ref(), 2).await?;
        assert!(page.len() <= 2, "at most `limit`");
        if let (Some(after), Some(first)) = (&after, page.first()) {
            assert!(
                first.credential > *after,
                "a page starts strictly after `after`"
            );
        }
        let Some(last) = page.last() else { break };
        after = Some(last.credential.clone());
        all.extend(page);
    }
    assert!(
        all.windows(2).all(|w| w[0].credential < w[1].credential),
        "ordered by credential id, no duplicates across pages"
    );
    let found: Vec<_> = all
        .iter()
        .filter(|e| mine.iter().any(|m| m.0 == e.credential))
        .map(|e| (e.credential.clone(), e.subject.clone(), e.sealed.clone()))
        .collect();
    assert_eq!(found, mine, "active and pending secrets, each once");

    let from = &mine[2].0;
    let rest = store.sealed_secrets(Some(from), u32::MAX).await?;
    assert!(
        rest.iter().all(|e| e.credential > *from),
        "strictly after `after`"
    );
    let rest_ids: Vec<_> = rest
        .iter()
        .map(|e| &e.credential)
        .filter(|id| mine.iter().any(|m| m.0 == **id))
        .collect();
    assert_eq!(rest_ids, vec![&mine[3].0, &mine[4].0]);
    assert_eq!(store.sealed_secrets(None, 1).await?.len(), 1);
    assert!(store.sealed_secrets(None, 0).await?.is_empty());
    Ok(())
}

/// `replace_sealed` swaps the sealed secret of an authenticator or a
/// pending enrollment only while it still equals `expected`, and changes
/// nothing else.
pub async fn replace_sealed_compare_and_set<S: Store>(store: &S) -> Result<()> {
    let alice = fresh_subject()?;
    let bob = fresh_subject()?;
    let cred = active(store, &alice, "phone", 3, at(0)).await?;
    let (new1, new2) = (fresh_sealed()?, fresh_sealed()?);
    assert!(
        !store
            .replace_sealed(&cred.id, &fresh_sealed()?, &new1)
            .await?,
        "a wrong `expected` is refused"
    );
    assert_eq!(store.list_totp(&alice).await?, vec![cred.clone()]);
    assert!(
        store
            .replace_sealed(&cred.id, &cred.sealed_secret, &new1)
            .await?
    );
    let resealed = TotpCredential {
        sealed_secret: new1.clone(),
        ..cred.clone()
    };
    assert_eq!(store.list_totp(&alice).await?, vec![resealed.clone()]);
    assert!(
        !store
            .replace_sealed(&cred.id, &cred.sealed_secret, &new2)
            .await?,
        "the old value no longer matches"
    );
    assert_eq!(store.list_totp(&alice).await?, vec![resealed]);

    let p = pending(&bob, at(0), 600)?;
    store.put_pending_totp(p.clone()).await?;
    assert!(!store.replace_sealed(&p.id, &new1, &new2).await?);
    assert_eq!(
        store.pending_totp(&bob, &p.id, at(1)).await?,
        Some(p.clone())
    );
    assert!(store.replace_sealed(&p.id, &p.sealed_secret, &new2).await?);
    let resealed = PendingTotp {
        sealed_secret: new2.clone(),
        ..p.clone()
    };
    assert_eq!(
        store.pending_totp(&bob, &p.id, at(1)).await?,
        Some(resealed)
    );
    let activated = store
        .activate_totp(&bob, &p.id, activation("bob's", 1, 0, at(2)))
        .await?;
    assert_eq!(
        activated.map(|c| c.sealed_secret),
        Some(new2.clone()),
        "activation carries the re-sealed secret"
    );
    assert!(
        !store
            .replace_sealed(&CredentialId::generate()?, &new2, &new1)
            .await?,
        "unknown id"
    );
    Ok(())
}
