//! E-mail and SMS as factors.

use super::*;

// ----- channels -----------------------------------------------------------

/// `add_channel` registers once (keeping the first `added_at`),
/// `list_channels` orders e-mail before SMS whatever the order they were
/// added in, `remove_channel` unregisters once; subjects are separate.
pub async fn channels_add_list_remove<S: Store>(store: &S) -> Result<()> {
    let alice = fresh_subject()?;
    let bob = fresh_subject()?;
    assert!(store.list_channels(&alice).await?.is_empty());
    let sms = channel(Channel::Sms, at(0))?;
    let email = channel(Channel::Email, at(10))?;
    assert_eq!(
        store.add_channel(&alice, sms.clone()).await?,
        ChannelAdded::Added
    );
    assert_eq!(
        store.add_channel(&alice, email.clone()).await?,
        ChannelAdded::Added
    );
    assert_eq!(
        store
            .add_channel(
                &alice,
                ChannelFactor {
                    added_at: at(20),
                    sealed_address: None,
                    ..sms.clone()
                }
            )
            .await?,
        ChannelAdded::Unchanged,
        "the same address again changes nothing"
    );
    assert_eq!(
        store.list_channels(&alice).await?,
        vec![email.clone(), sms.clone()],
        "e-mail then SMS, and the first registration is kept"
    );
    let moved = channel(Channel::Sms, at(25))?;
    assert_eq!(
        store.add_channel(&alice, moved.clone()).await?,
        ChannelAdded::Replaced {
            previous: sms.clone()
        },
        "another address replaces the registration and returns the old one"
    );
    assert_eq!(
        store.list_channels(&alice).await?,
        vec![email.clone(), moved.clone()]
    );
    assert!(store.list_channels(&bob).await?.is_empty());
    let sms_ref = FactorRef::Channel(Channel::Sms);
    assert_eq!(
        store.remove_factor(&bob, &sms_ref, None).await?,
        Removal::NotFound
    );
    assert_eq!(
        store.remove_factor(&alice, &sms_ref, None).await?,
        Removal::Removed
    );
    assert_eq!(
        store.remove_factor(&alice, &sms_ref, None).await?,
        Removal::NotFound
    );
    assert_eq!(store.list_channels(&alice).await?, vec![email.clone()]);
    let again = channel(Channel::Sms, at(30))?;
    assert_eq!(
        store.add_channel(&alice, again.clone()).await?,
        ChannelAdded::Added
    );
    assert_eq!(
        store.list_channels(&alice).await?.get(1),
        Some(&again),
        "re-adding after removal records the new registration"
    );
    Ok(())
}
