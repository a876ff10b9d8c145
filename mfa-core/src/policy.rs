//! The administrator's Security settings, and the pure function that turns
//! them into a decision for one subject.
//!
//! Per role: [`Requirement::Disabled`], [`Requirement::Optional`] (people
//! may enable MFA) or [`Requirement::Required`] with a grace period; which
//! methods count (authenticator app, e-mail, SMS); whether a browser may be
//! remembered and for how long. Subjects whose roles are not listed get the
//! policy's default rule.
//!
//! [`evaluate`] is a pure function of (policy, subject, factors, session,
//! grace record, now) → [`Decision`].
//!
//! ```
//! use core::time::Duration;
//! use mfa_core::policy::{evaluate, Decision, Factors, Policy, Requirement, RolePolicy, SessionState};
//! use mfa_core::{Role, Subject, SubjectId, Timestamp};
//!
//! let mut policy = Policy::default();
//! policy.set_role(Role::AGENT, RolePolicy::required(Duration::from_secs(7 * 86_400)));
//! let agent = Subject::new(SubjectId::new("a1")?, [Role::AGENT]);
//! let now = Timestamp::from_unix(1_700_000_000);
//! // Not enrolled yet: enroll within the grace period.
//! let decision = evaluate(&policy, &agent, &Factors::default(), &SessionState::default(), None, now);
//! assert!(matches!(decision, Decision::EnrollBy { .. }));
//! # Ok::<(), mfa_core::Error>(())
//! ```

use core::time::Duration;
use std::collections::BTreeMap;

use crate::clock::Timestamp;
use crate::error::{Error, InputProblem, Result};
use crate::subject::{Channel, FactorKind, Role, Subject};

/// Longest grace period or remember-device period accepted: one year.
pub const MAX_PERIOD: Duration = Duration::from_secs(366 * 86_400);

/// Whether MFA is off, allowed or enforced for a role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(tag = "mode", rename_all = "snake_case"))]
pub enum Requirement {
    /// MFA is not offered and never asked for.
    Disabled,
    /// People may enable MFA; once they have, it is asked for.
    Optional,
    /// Everyone must enroll, within `grace` of the requirement first
    /// applying to them (zero: at once).
    Required {
        /// Time to enroll.
        #[cfg_attr(feature = "serde", serde(rename = "grace_secs", with = "secs"))]
        grace: Duration,
    },
}

impl Requirement {
    /// Strictness order: disabled < optional < required; among required,
    /// the shorter grace is stricter.
    fn strictness(&self) -> (u8, core::cmp::Reverse<Duration>) {
        match self {
            Self::Disabled => (0, core::cmp::Reverse(Duration::MAX)),
            Self::Optional => (1, core::cmp::Reverse(Duration::MAX)),
            Self::Required { grace } => (2, core::cmp::Reverse(*grace)),
        }
    }
}

/// Which methods count as a second factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct MethodSet {
    /// Authenticator apps (TOTP).
    pub app: bool,
    /// Codes by e-mail.
    pub email: bool,
    /// Codes by SMS.
    pub sms: bool,
}

impl MethodSet {
    /// All three methods.
    pub const ALL: Self = Self {
        app: true,
        email: true,
        sms: true,
    };
    /// Authenticator apps only.
    pub const APP_ONLY: Self = Self {
        app: true,
        email: false,
        sms: false,
    };
    /// Nothing.
    pub const NONE: Self = Self {
        app: false,
        email: false,
        sms: false,
    };

    /// Whether `channel` is allowed.
    #[must_use]
    pub fn allows_channel(&self, channel: Channel) -> bool {
        match channel {
            Channel::Email => self.email,
            Channel::Sms => self.sms,
        }
    }

    /// Whether no method is allowed.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        !(self.app || self.email || self.sms)
    }

    fn count(&self) -> u8 {
        u8::from(self.app) + u8::from(self.email) + u8::from(self.sms)
    }
}

impl Default for MethodSet {
    fn default() -> Self {
        Self::ALL
    }
}

/// The rule for one role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct RolePolicy {
    /// Off, allowed or enforced.
    #[cfg_attr(feature = "serde", serde(flatten))]
    pub requirement: Requirement,
    /// Which methods count.
    pub methods: MethodSet,
    /// How long a browser may be remembered; `None`: never.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "remember_device_secs", with = "opt_secs")
    )]
    pub remember_device: Option<Duration>,
    /// When the requirement last became `Required` (set by
    /// [`Policy::prepare_update`]). Grace records fixed before then belong
    /// to an earlier enforcement and are ignored: everyone gets a fresh
    /// grace period when enforcement is turned on again.
    #[cfg_attr(feature = "serde", serde(default))]
    pub required_since: Option<Timestamp>,
    /// When the grace period was last changed (set by
    /// [`Policy::prepare_update`]); deadlines fixed before then are
    /// shortened to `grace_changed_at + grace` if that is sooner, so a
    /// subject already deferred does not keep an old, longer deadline.
    #[cfg_attr(feature = "serde", serde(default))]
    pub grace_changed_at: Option<Timestamp>,
}

impl RolePolicy {
    /// Remember-device default: 30 days.
    pub const DEFAULT_REMEMBER: Duration = Duration::from_secs(30 * 86_400);

    /// MFA allowed, every method, browsers remembered for 30 days.
    #[must_use]
    pub fn optional() -> Self {
        Self {
            requirement: Requirement::Optional,
            methods: MethodSet::ALL,
            remember_device: Some(Self::DEFAULT_REMEMBER),
            required_since: None,
            grace_changed_at: None,
        }
    }

    /// MFA enforced with `grace`, every method, browsers remembered for 30 days.
    #[must_use]
    pub fn required(grace: Duration) -> Self {
        Self {
            requirement: Requirement::Required { grace },
            ..Self::optional()
        }
    }

    /// MFA off.
    #[must_use]
    pub fn disabled() -> Self {
        Self {
            requirement: Requirement::Disabled,
            ..Self::optional()
        }
    }

    /// The same rule with other methods.
    #[must_use]
    pub fn with_methods(mut self, methods: MethodSet) -> Self {
        self.methods = methods;
        self
    }

    /// The same rule with another remember-device period.
    #[must_use]
    pub fn with_remember_device(mut self, period: Option<Duration>) -> Self {
        self.remember_device = period;
        self
    }

    fn validate(&self) -> Result<()> {
        if let Requirement::Required { grace } = self.requirement {
            if self.methods.is_empty() {
                return Err(Error::InvalidInput(InputProblem::PolicyNoMethod));
            }
            if grace > MAX_PERIOD {
                return Err(Error::InvalidInput(InputProblem::PolicyPeriod));
            }
        }
        if self.remember_device.is_some_and(|d| d > MAX_PERIOD) {
            return Err(Error::InvalidInput(InputProblem::PolicyPeriod));
        }
        Ok(())
    }
}

/// The whole policy: a rule per role and a default for everyone else.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Policy {
    /// Rules by role name.
    pub roles: BTreeMap<Role, RolePolicy>,
    /// The rule for roles not listed, and for subjects with no role.
    pub default: RolePolicy,
}

impl Default for Policy {
    /// MFA optional for everyone (agents and end users alike), every
    /// method, browsers remembered for 30 days.
    fn default() -> Self {
        let mut roles = BTreeMap::new();
        roles.insert(Role::AGENT, RolePolicy::optional());
        roles.insert(Role::END_USER, RolePolicy::optional());
        Self {
            roles,
            default: RolePolicy::optional(),
        }
    }
}

impl Policy {
    /// Sets the rule for `role`.
    pub fn set_role(&mut self, role: Role, rule: RolePolicy) {
        self.roles.insert(role, rule);
    }

    /// The rule for one role (the default if it is not listed).
    #[must_use]
    pub fn rule(&self, role: &Role) -> &RolePolicy {
        self.roles.get(role).unwrap_or(&self.default)
    }

    /// The rules that apply to someone with `roles`: each role's rule (the
    /// default for a role not listed), or the default rule if they have
    /// no role.
    fn applicable<'a>(&'a self, roles: &'a [Role]) -> impl Iterator<Item = &'a RolePolicy> {
        roles
            .iter()
            .map(|role| self.rule(role))
            .chain(roles.is_empty().then_some(&self.default))
    }

    /// The rule that applies to someone with `roles`: the strictest
    /// role's whole rule (disabled < optional < required, shorter grace
    /// stricter; ties go to the rule allowing fewer methods, then the
    /// shorter remember-device period). No role: the default rule.
    #[must_use]
    pub fn effective(&self, roles: &[Role]) -> RolePolicy {
        roles
            .iter()
            .map(|role| self.rule(role))
            .max_by(|a, b| {
                a.requirement
                    .strictness()
                    .cmp(&b.requirement.strictness())
                    .then_with(|| b.methods.count().cmp(&a.methods.count()))
                    .then_with(|| {
                        let remember = |r: &RolePolicy| r.remember_device.unwrap_or(Duration::ZERO);
                        remember(b).cmp(&remember(a))
                    })
            })
            .copied()
            .unwrap_or(self.default)
    }

    /// Checks the policy: an enforced role must allow at least one method,
    /// and periods are at most a year.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the problem.
    pub fn validate(&self) -> Result<()> {
        self.roles
            .values()
            .chain(core::iter::once(&self.default))
            .try_for_each(RolePolicy::validate)
    }

    /// The policy to store when an administrator replaces `self` with
    /// `candidate` at `now`. Validates `candidate`, then stamps each rule:
    /// a requirement that becomes `Required` gets `required_since =
    /// grace_changed_at = now`; a `Required` rule whose grace changed gets
    /// `grace_changed_at = now` and keeps `required_since`; an unchanged
    /// one keeps both; a rule that is not `Required` has neither. Stamps in
    /// `candidate` itself are ignored.
    ///
    /// # Errors
    /// As [`validate`](Self::validate).
    pub fn prepare_update(&self, mut candidate: Policy, now: Timestamp) -> Result<Policy> {
        candidate.validate()?;
        let stamp = |old: &RolePolicy, new: &mut RolePolicy| {
            (new.required_since, new.grace_changed_at) = match (old.requirement, new.requirement) {
                (Requirement::Required { grace: a }, Requirement::Required { grace: b }) => (
                    old.required_since,
                    if a == b {
                        old.grace_changed_at
                    } else {
                        Some(now)
                    },
                ),
                (_, Requirement::Required { .. }) => (Some(now), Some(now)),
                _ => (None, None),
            };
        };
        for (role, rule) in &mut candidate.roles {
            stamp(self.rule(role), rule);
        }
        stamp(&self.default, &mut candidate.default);
        Ok(candidate)
    }
}

/// What a subject has enrolled.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Factors {
    /// Active authenticator apps.
    pub authenticators: usize,
    /// E-mail / SMS registered as factors.
    pub channels: Vec<Channel>,
    /// Unused recovery codes.
    pub recovery_codes: u32,
}

/// What the current session has proved: what an HTTP adapter keeps in
/// the framework's session (with the `serde` feature it serializes as
/// `{"verified_at": <unix seconds or null>, "device_remembered": <bool>}`;
/// missing fields read as their defaults, so a session written before a
/// field existed still loads).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default))]
pub struct SessionState {
    /// When this session last passed a second-factor check.
    pub verified_at: Option<Timestamp>,
    /// Whether the browser presented a valid remembered-device token
    /// (already checked against the policy's remember period).
    pub device_remembered: bool,
}

/// When a subject's grace period ends, fixed when the requirement first
/// applied to them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GraceRecord {
    /// When the deadline was fixed.
    pub fixed_at: Timestamp,
    /// The deadline then fixed.
    pub deadline: Timestamp,
}

/// What the application should do with this subject now.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(tag = "decision", rename_all = "snake_case"))]
pub enum Decision {
    /// Let them through.
    Allow,
    /// They have a usable factor and this session has not used it: ask
    /// for a code with one of `methods`.
    VerifyNow {
        /// Factors they can verify with (recovery codes included if any).
        methods: Vec<FactorKind>,
    },
    /// Enrollment is required now: nothing else until they enroll.
    EnrollNow {
        /// Methods that count.
        methods: MethodSet,
    },
    /// Enrollment is required by `deadline`: let them through, and remind
    /// them.
    EnrollBy {
        /// End of the grace period.
        deadline: Timestamp,
        /// Methods that count.
        methods: MethodSet,
    },
}

/// Factors of `factors` that `methods` lets `subject` use (a channel counts
/// only if the subject still has an address on it).
#[must_use]
pub fn usable_factors(
    methods: &MethodSet,
    subject: &Subject,
    factors: &Factors,
) -> Vec<FactorKind> {
    let mut usable = Vec::with_capacity(3);
    if methods.app && factors.authenticators > 0 {
        usable.push(FactorKind::Totp);
    }
    for channel in Channel::ALL {
        if methods.allows_channel(channel)
            && factors.channels.contains(&channel)
            && subject.address(channel).is_some()
        {
            usable.push(channel.factor());
        }
    }
    usable
}

/// Whether `record` belongs to an enforcement still in force for someone
/// with `roles`: at least one `Required` rule that applies to them (the
/// rule of each of their roles, or the default rule if they have none)
/// has been enforced since the record was fixed or earlier
/// (`required_since <= fixed_at`; a rule with no `required_since` stamp
/// counts as enforced all along).
///
/// A record fixed before every requirement now applying to them started
/// is stale: it belongs to an enforcement that has since been turned off,
/// and they get a fresh grace period. Looking at every role, not only the
/// strictest one, matters: a stricter rule enforced after the record was
/// fixed must not make a record that another, still enforced rule fixed
/// look stale (that would hand out a fresh, possibly later, deadline).
#[must_use]
pub fn grace_record_is_current(policy: &Policy, roles: &[Role], record: &GraceRecord) -> bool {
    policy.applicable(roles).any(|rule| {
        matches!(rule.requirement, Requirement::Required { .. })
            && rule
                .required_since
                .is_none_or(|since| since <= record.fixed_at)
    })
}

/// The enrollment deadline for someone with `roles` under `policy`, whose
/// rule (see [`Policy::effective`]) must be `Required { grace }`.
///
/// * No record, or a stale one (see [`grace_record_is_current`]): `now +
///   grace` (the caller stores it as the subject's new record).
/// * Otherwise the recorded deadline, capped by what the effective rule
///   allows:
///
///   `min(record.deadline, max(record.fixed_at, required_since,
///   grace_changed_at) + grace)`
///
///   where `required_since` and `grace_changed_at` are the effective
///   rule's stamps (left out of the `max` when absent).
///
/// The `max` is the earliest moment the effective rule, with its current
/// grace, can have applied to the subject's current requirement period:
/// not before the period began (`fixed_at`), not before the rule was
/// enforced, not before its grace took its present value. So:
///
/// * a record fixed under the effective rule itself is unchanged
///   (`fixed_at + grace` is its deadline);
/// * a shortened grace counts from the change (`grace_changed_at +
///   grace`);
/// * a stricter rule that applies to the subject because they gained a
///   role, or that was enforced after their deadline was fixed, counts
///   from the later of those dates. Role changes are not dated, so a role
///   gained after the rule was enforced is treated as held since the
///   subject's deadline was fixed (or the rule enforced, if later): a
///   change of roles never buys time.
///
/// The deadline is never later than the recorded one: lengthening a grace
/// period, or a laxer role, does not extend a deadline already fixed.
#[must_use]
pub fn deadline(
    policy: &Policy,
    roles: &[Role],
    grace_record: Option<GraceRecord>,
    now: Timestamp,
) -> Timestamp {
    let rule = policy.effective(roles);
    let grace = match rule.requirement {
        Requirement::Required { grace } => grace,
        _ => Duration::ZERO,
    };
    match grace_record.filter(|r| grace_record_is_current(policy, roles, r)) {
        None => now.plus(grace),
        Some(record) => {
            let start = [rule.required_since, rule.grace_changed_at]
                .into_iter()
                .flatten()
                .fold(record.fixed_at, Timestamp::max);
            record.deadline.min(start.plus(grace))
        }
    }
}

/// The decision for `subject` now. Pure: reads nothing but its arguments.
///
/// * `Disabled`: [`Decision::Allow`].
/// * A usable factor (one the rule's methods allow): [`Decision::Allow`] if
///   the session is verified or the browser is remembered (and the rule
///   allows remembering), else [`Decision::VerifyNow`].
/// * No usable factor, `Optional`: [`Decision::Allow`].
/// * No usable factor, `Required`: [`Decision::EnrollBy`] until the
///   deadline (see [`deadline`]), [`Decision::EnrollNow`] from then on or
///   when the grace is zero. A factor the policy no longer allows does not
///   count.
#[must_use]
pub fn evaluate(
    policy: &Policy,
    subject: &Subject,
    factors: &Factors,
    session: &SessionState,
    grace_record: Option<GraceRecord>,
    now: Timestamp,
) -> Decision {
    let rule = policy.effective(&subject.roles);
    if rule.requirement == Requirement::Disabled {
        return Decision::Allow;
    }
    let mut usable = usable_factors(&rule.methods, subject, factors);
    if !usable.is_empty() {
        let remembered = session.device_remembered && rule.remember_device.is_some();
        if session.verified_at.is_some() || remembered {
            return Decision::Allow;
        }
        if factors.recovery_codes > 0 {
            usable.push(FactorKind::Recovery);
        }
        return Decision::VerifyNow { methods: usable };
    }
    match rule.requirement {
        Requirement::Required { grace } => {
            let deadline = deadline(policy, &subject.roles, grace_record, now);
            if grace.is_zero() || deadline <= now {
                Decision::EnrollNow {
                    methods: rule.methods,
                }
            } else {
                Decision::EnrollBy {
                    deadline,
                    methods: rule.methods,
                }
            }
        }
        _ => Decision::Allow,
    }
}

/// One subject as the dry run sees it.
#[derive(Debug, Clone)]
pub struct DryRunSubject<'a> {
    /// The subject.
    pub subject: &'a Subject,
    /// What they have enrolled.
    pub factors: Factors,
    /// Their recorded grace deadline, if any.
    pub grace: Option<GraceRecord>,
}

/// What enforcing a candidate policy would do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct DryRunReport {
    /// Subjects considered.
    pub subjects: usize,
    /// Subjects with a usable factor already (they would be asked to
    /// verify, as now).
    pub compliant: usize,
    /// Subjects MFA would not be required of.
    pub not_required: usize,
    /// Subjects who would have to enroll at their next sign-in.
    pub enroll_now: usize,
    /// Subjects who would have to enroll by a deadline, by deadline.
    pub enroll_by: BTreeMap<Timestamp, usize>,
}

/// Evaluates `candidate` (as it would be stored: see
/// [`Policy::prepare_update`]) for every subject, as if each had just
/// signed in with a verified session, and counts the outcomes.
#[must_use]
pub fn dry_run<'a>(
    candidate: &Policy,
    subjects: impl IntoIterator<Item = DryRunSubject<'a>>,
    now: Timestamp,
) -> DryRunReport {
    let verified = SessionState {
        verified_at: Some(now),
        device_remembered: false,
    };
    let mut report = DryRunReport::default();
    for entry in subjects {
        report.subjects += 1;
        let rule = candidate.effective(&entry.subject.roles);
        match evaluate(
            candidate,
            entry.subject,
            &entry.factors,
            &verified,
            entry.grace,
            now,
        ) {
            Decision::EnrollNow { .. } => report.enroll_now += 1,
            Decision::EnrollBy { deadline, .. } => {
                *report.enroll_by.entry(deadline).or_default() += 1
            }
            Decision::Allow | Decision::VerifyNow { .. }
                if matches!(rule.requirement, Requirement::Required { .. }) =>
            {
                report.compliant += 1;
            }
            Decision::Allow | Decision::VerifyNow { .. } => {
                if usable_factors(&rule.methods, entry.subject, &entry.factors).is_empty() {
                    report.not_required += 1;
                } else {
                    report.compliant += 1;
                }
            }
        }
    }
    report
}

#[cfg(feature = "serde")]
mod secs {
    use core::time::Duration;

    pub(super) fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_secs())
    }

    pub(super) fn deserialize<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<Duration, D::Error> {
        <u64 as serde::Deserialize>::deserialize(d).map(Duration::from_secs)
    }
}

#[cfg(feature = "serde")]
mod opt_secs {
    use core::time::Duration;

    pub(super) fn serialize<S: serde::Serializer>(
        d: &Option<Duration>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&d.as_secs()),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Duration>, D::Error> {
        <Option<u64> as serde::Deserialize>::deserialize(d).map(|o| o.map(Duration::from_secs))
    }
}
