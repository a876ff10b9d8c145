//! Recovery codes.

use super::*;

// ----- recovery codes ---------------------------------------------------

/// `replace_recovery_codes`: `Always` replaces whatever set exists (the old
/// codes stop working); `IfNone` replaces only when no code is unused and
/// says whether it did; `recovery_codes_left` follows.
pub async fn recovery_codes_replace_always_and_if_none<S: Store>(store: &S) -> Result<()> {
    let alice = fresh_subject()?;
    let (a, b, c) = (hashes(3)?, hashes(2)?, hashes(4)?);
    assert_eq!(store.recovery_codes_left(&alice).await?, 0);
    assert!(
        store
            .replace_recovery_codes(&alice, a.clone(), ReplaceCodes::IfNone, at(0))
            .await?,
        "IfNone succeeds for a subject who never had codes"
    );
    assert_eq!(store.recovery_codes_left(&alice).await?, 3);
    assert!(
        !store
            .replace_recovery_codes(&alice, b.clone(), ReplaceCodes::IfNone, at(1))
            .await?,
        "IfNone fails while codes are unused"
    );
    assert_eq!(store.recovery_codes_left(&alice).await?, 3);
    assert!(!store.consume_recovery_code(&alice, &b[0], at(2)).await?);
    assert!(
        store
            .replace_recovery_codes(&alice, b.clone(), ReplaceCodes::Always, at(3))
            .await?
    );
    assert_eq!(store.recovery_codes_left(&alice).await?, 2);
    for old in &a {
        assert!(
            !store.consume_recovery_code(&alice, old, at(4)).await?,
            "a replaced set no longer works"
        );
    }
    assert!(store.consume_recovery_code(&alice, &b[0], at(5)).await?);
    assert_eq!(store.recovery_codes_left(&alice).await?, 1);
    assert!(
        !store
            .replace_recovery_codes(&alice, c.clone(), ReplaceCodes::IfNone, at(6))
            .await?,
        "IfNone fails while one code is unused"
    );
    assert_eq!(store.recovery_codes_left(&alice).await?, 1);
    assert!(!store.consume_recovery_code(&alice, &c[0], at(7)).await?);
    assert!(store.consume_recovery_code(&alice, &b[1], at(8)).await?);
    assert_eq!(store.recovery_codes_left(&alice).await?, 0);
    assert!(
        store
            .replace_recovery_codes(&alice, c.clone(), ReplaceCodes::IfNone, at(9))
            .await?,
        "IfNone succeeds once every code is used"
    );
    assert_eq!(store.recovery_codes_left(&alice).await?, 4);
    assert!(
        !store.consume_recovery_code(&alice, &b[1], at(10)).await?,
        "used codes do not come back"
    );
    assert!(
        store
            .replace_recovery_codes(&alice, Vec::new(), ReplaceCodes::Always, at(11))
            .await?
    );
    assert_eq!(store.recovery_codes_left(&alice).await?, 0);
    assert!(!store.consume_recovery_code(&alice, &c[0], at(12)).await?);
    Ok(())
}

/// `consume_recovery_code` succeeds once per code, only for its own
/// subject; the same hash held by two subjects is two codes.
pub async fn recovery_codes_consume_once_per_subject<S: Store>(store: &S) -> Result<()> {
    let alice = fresh_subject()?;
    let bob = fresh_subject()?;
    let mine = hashes(5)?;
    let shared = fresh_hash()?;
    let mut bobs = hashes(2)?;
    bobs.push(shared);
    let mut alices = mine.clone();
    alices.push(shared);
    store
        .replace_recovery_codes(&alice, alices, ReplaceCodes::Always, at(0))
        .await?;
    store
        .replace_recovery_codes(&bob, bobs.clone(), ReplaceCodes::Always, at(0))
        .await?;
    assert!(
        !store.consume_recovery_code(&bob, &mine[0], at(1)).await?,
        "another subject's code is refused"
    );
    assert!(!store.consume_recovery_code(&alice, &bobs[0], at(1)).await?);
    assert!(
        !store
            .consume_recovery_code(&alice, &fresh_hash()?, at(1))
            .await?
    );
    assert_eq!(store.recovery_codes_left(&alice).await?, 6);
    assert_eq!(store.recovery_codes_left(&bob).await?, 3);
    assert!(store.consume_recovery_code(&alice, &mine[0], at(2)).await?);
    assert!(
        !store.consume_recovery_code(&alice, &mine[0], at(3)).await?,
        "a code works once"
    );
    assert_eq!(store.recovery_codes_left(&alice).await?, 5);
    assert!(store.consume_recovery_code(&alice, &shared, at(4)).await?);
    assert!(!store.consume_recovery_code(&alice, &shared, at(4)).await?);
    assert!(
        store.consume_recovery_code(&bob, &shared, at(5)).await?,
        "using a code of one subject leaves the other's equal code unused"
    );
    assert_eq!(store.recovery_codes_left(&alice).await?, 4);
    assert_eq!(store.recovery_codes_left(&bob).await?, 2);
    Ok(())
}
