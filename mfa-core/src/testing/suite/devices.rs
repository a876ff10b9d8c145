//! Remembered devices.

use super::*;

// ----- remembered devices -------------------------------------------------

/// `list_devices` lists unexpired devices newest first; `touch_device`
/// finds an unexpired device by token hash for its own subject only, sets
/// `last_used_at` and returns it updated.
pub async fn devices_put_touch_list<S: Store>(store: &S) -> Result<()> {
    let alice = fresh_subject()?;
    let bob = fresh_subject()?;
    let d1 = device(&alice, "Firefox on Linux", at(0), at(1000))?;
    let d2 = device(&alice, "Safari on iPhone", at(100), at(2000))?;
    let d3 = device(&alice, "Edge on Windows", at(200), at(500))?;
    let b1 = device(&bob, "Chrome on Android", at(50), at(2000))?;
    for d in [&d2, &d1, &b1, &d3] {
        store.put_device(d.clone()).await?;
    }
    assert_eq!(
        store.list_devices(&alice, at(300)).await?,
        vec![d3.clone(), d2.clone(), d1.clone()],
        "newest first"
    );
    let touched = RememberedDevice {
        last_used_at: Some(at(400)),
        ..d1.clone()
    };
    assert_eq!(
        store.touch_device(&alice, &d1.token_hash, at(400)).await?,
        Some(touched.clone()),
        "touch returns the device with last_used_at = now"
    );
    assert_eq!(
        store.list_devices(&alice, at(499)).await?,
        vec![d3.clone(), d2.clone(), touched.clone()]
    );
    assert_eq!(
        store.list_devices(&alice, at(500)).await?,
        vec![d2.clone(), touched.clone()],
        "expired when expires_at <= now"
    );
    assert_eq!(
        store.touch_device(&alice, &d3.token_hash, at(500)).await?,
        None,
        "an expired device is not returned"
    );
    assert_eq!(
        store.touch_device(&bob, &d1.token_hash, at(10)).await?,
        None,
        "another subject's token does not match"
    );
    assert_eq!(
        store.touch_device(&alice, &b1.token_hash, at(10)).await?,
        None
    );
    assert_eq!(
        store.touch_device(&alice, &fresh_hash()?, at(10)).await?,
        None
    );
    assert_eq!(store.list_devices(&bob, at(300)).await?, vec![b1.clone()]);
    assert!(store.list_devices(&alice, at(2000)).await?.is_empty());
    Ok(())
}

/// `revoke_device` removes one of the subject's own devices, once;
/// `revoke_all_devices` removes all of them (expired ones too) and counts
/// them; other subjects keep theirs.
pub async fn devices_revoke<S: Store>(store: &S) -> Result<()> {
    let alice = fresh_subject()?;
    let bob = fresh_subject()?;
    let d1 = device(&alice, "one", at(0), at(1000))?;
    let d2 = device(&alice, "expired", at(10), at(50))?;
    let d3 = device(&alice, "three", at(20), at(1000))?;
    let b1 = device(&bob, "bob's", at(0), at(1000))?;
    for d in [&d1, &d2, &d3, &b1] {
        store.put_device(d.clone()).await?;
    }
    assert!(
        !store.revoke_device(&bob, &d1.id).await?,
        "another subject cannot revoke it"
    );
    assert_eq!(store.list_devices(&alice, at(100)).await?.len(), 2);
    assert!(store.revoke_device(&alice, &d1.id).await?);
    assert!(
        !store.revoke_device(&alice, &d1.id).await?,
        "revoking twice"
    );
    assert_eq!(
        store.touch_device(&alice, &d1.token_hash, at(100)).await?,
        None,
        "a revoked device is not remembered"
    );
    assert_eq!(store.list_devices(&alice, at(100)).await?, vec![d3.clone()]);
    assert_eq!(
        store.revoke_all_devices(&alice).await?,
        2,
        "all of the subject's devices, the expired one included"
    );
    assert_eq!(store.revoke_all_devices(&alice).await?, 0);
    assert!(store.list_devices(&alice, at(0)).await?.is_empty());
    assert_eq!(
        store.touch_device(&alice, &d3.token_hash, at(100)).await?,
        None
    );
    assert_eq!(store.list_devices(&bob, at(100)).await?, vec![b1]);
    assert_eq!(store.revoke_all_devices(&bob).await?, 1);
    Ok(())
}
