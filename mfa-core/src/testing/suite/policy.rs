//! The stored policy and grace records.

use super::*;

// ----- policy and grace ---------------------------------------------------

/// A store starts without a policy; `save_policy` then `load_policy` gives
/// back exactly what was saved (roles, requirements, grace, methods,
/// remember periods, `grace_changed_at`); saving again replaces it.
///
/// The policy is global: this case needs a store on which no policy was
/// ever saved.
pub async fn policy_load_save_round_trip<S: Store>(store: &S) -> Result<()> {
    assert_eq!(
        store.load_policy().await?,
        None,
        "a new store has no policy (the factory must give one where none was saved)"
    );
    let mut policy = Policy::default();
    let mut agent = RolePolicy::required(secs(7 * 86_400))
        .with_methods(MethodSet::APP_ONLY)
        .with_remember_device(None);
    agent.grace_changed_at = Some(at(12_345));
    policy.set_role(Role::AGENT, agent);
    policy.set_role(
        Role::END_USER,
        RolePolicy::optional()
            .with_methods(MethodSet {
                app: true,
                email: true,
                sms: false,
            })
            .with_remember_device(Some(secs(12 * 3600))),
    );
    policy.set_role(Role::new("team-lead.eu_1")?, RolePolicy::disabled());
    let mut default = RolePolicy::required(Duration::ZERO).with_remember_device(Some(secs(86_400)));
    default.grace_changed_at = Some(at(99));
    policy.default = default;
    policy.validate()?;
    store.save_policy(&policy).await?;
    assert_eq!(store.load_policy().await?, Some(policy.clone()));

    let mut second = Policy::default();
    second.set_role(
        Role::new("contractor")?,
        RolePolicy::required(secs(3 * 86_400)).with_methods(MethodSet {
            app: false,
            email: false,
            sms: true,
        }),
    );
    second.roles.remove(&Role::END_USER);
    store.save_policy(&second).await?;
    assert_eq!(
        store.load_policy().await?,
        Some(second),
        "saving replaces the whole policy"
    );
    Ok(())
}

/// `fix_grace` inserts only if absent and returns the stored record;
/// `grace` reads it; `clear_grace` forgets it, for one subject only.
pub async fn grace_fix_if_absent_and_clear<S: Store>(store: &S) -> Result<()> {
    let alice = fresh_subject()?;
    let bob = fresh_subject()?;
    let first = GraceRecord {
        fixed_at: at(0),
        deadline: at(7 * 86_400),
    };
    let second = GraceRecord {
        fixed_at: at(100),
        deadline: at(100 + 86_400),
    };
    assert_eq!(store.grace(&alice).await?, None);
    assert_eq!(store.fix_grace(&alice, first).await?, first);
    assert_eq!(
        store.fix_grace(&alice, second).await?,
        first,
        "an existing record is kept and returned"
    );
    assert_eq!(store.grace(&alice).await?, Some(first));
    assert_eq!(store.grace(&bob).await?, None);
    assert_eq!(store.fix_grace(&bob, second).await?, second);
    store.clear_grace(&alice).await?;
    assert_eq!(store.grace(&alice).await?, None);
    assert_eq!(
        store.grace(&bob).await?,
        Some(second),
        "other subjects keep theirs"
    );
    store.clear_grace(&alice).await?;
    assert_eq!(
        store.fix_grace(&alice, second).await?,
        second,
        "after clearing, a new record is fixed"
    );
    Ok(())
}
