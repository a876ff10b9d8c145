//! The service: [`Mfa`], what the adapters call.
//!
//! Every operation takes the [`Subject`] the host application has
//! authenticated (first factor), decides with the pure rules of this crate,
//! and persists through the [`Store`], which guarantees single use and
//! exact counting. Outcomes a person causes — a wrong code, a lock-out, a
//! send that is too soon — are values, not errors; errors are for bad
//! input (4xx), policy refusals and unavailable back ends.
//!
//! ```
//! use mfa_core::notify::LogNotifier;
//! use mfa_core::otp::Totp;
//! use mfa_core::policy::{Decision, SessionState};
//! use mfa_core::seal::{Sealer, SealingKey};
//! use mfa_core::service::{Attempt, Confirmation, DriftTolerance, Verification};
//! use mfa_core::{Clock, MemoryStore, Mfa, MfaConfig, Pepper, Role, Secret, Subject, SubjectId};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let runtime = tokio::runtime::Builder::new_current_thread().build()?;
//! runtime.block_on(async {
//!     let config = MfaConfig::new(
//!         "Service Desk",
//!         Pepper::new(&[0x42; 32])?, // from your secret store
//!         Sealer::new(vec![SealingKey::new(1, [7; 32])])?,
//!     );
//!     let mfa = Mfa::new(MemoryStore::new(), LogNotifier, mfa_core::SystemClock, config);
//!     let alice =
//!         Subject::new(SubjectId::new("alice")?, [Role::AGENT]).with_email("alice@example.com");
//!
//!     // Profile → Two-Factor Authentication → Enable, then the first code.
//!     let enrollment = mfa.start_totp_enrollment(&alice, &SessionState::default()).await?;
//!     let app = Totp::new(&Secret::from_base32(&enrollment.key)?, &enrollment.config);
//!     let now = mfa.clock().now().unix();
//!     let first = app.generate_at(now).ok_or("before T0")?.expose();
//!     let confirmed = mfa
//!         .confirm_totp_enrollment(&alice, &enrollment.id, &first, "Phone", DriftTolerance::Standard)
//!         .await?;
//!     assert!(matches!(confirmed, Confirmation::Enrolled { .. }));
//!
//!     // Next sign-in, password already checked: the gate asks for a code.
//!     let mut session = SessionState::default(); // kept in the framework's session
//!     let decision = mfa.decide(&alice, &session).await?;
//!     assert!(matches!(decision, Decision::VerifyNow { .. }));
//!     let period = u64::from(enrollment.config.period());
//!     let typed = app.generate_at(now + period).ok_or("before T0")?.expose();
//!     let verification = mfa.verify(&alice, Attempt::Totp(&typed)).await?;
//!     assert!(matches!(verification, Verification::Accepted { .. }));
//!     session.verified_at = Some(mfa.clock().now()); // and cycle the session id
//!     assert_eq!(mfa.decide(&alice, &session).await?, Decision::Allow);
//!
//!     // The same code a second time (a replay, or a parallel request) is refused.
//!     let replay = mfa.verify(&alice, Attempt::Totp(&typed)).await?;
//!     assert_eq!(replay, Verification::Rejected);
//!     Ok(())
//! })
//! # }
//! ```

mod admin;
mod channels;
mod enroll;
mod verify;

use core::fmt;
use core::time::Duration;

use zeroize::Zeroizing;

pub use admin::ResealReport;
pub use channels::{DeviceInfo, Remembered};
pub use enroll::{AuthenticatorInfo, Confirmation, MAX_NAME_CHARS, TotpEnrollment};
pub use verify::{Attempt, SendOutcome, Verification};

use crate::audit::{Actor, AuditAction, NewAuditEvent};
use crate::clock::{Clock, Timestamp};
use crate::error::{Error, PolicyProblem, Result};
use crate::notify::{Notice, NoticeKind, Notifier};
use crate::otp::{TotpConfig, Window};
use crate::pepper::Pepper;
use crate::policy::{
    self, Decision, Factors, GraceRecord, Policy, Requirement, RolePolicy, SessionState,
};
use crate::recovery::{self, RecoveryCode};
use crate::seal::Sealer;
use crate::store::{ChannelFactor, FactorRef, Removal, ReplaceCodes, Store, Usable};
use crate::subject::{Channel, FactorKind, Subject, SubjectId};
use crate::throttle::ThrottleRule;

/// Rules for codes sent by e-mail or SMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SentCodeRules {
    /// How long a code works: 5 minutes.
    pub ttl: Duration,
    /// Wrong tries allowed per code: 5.
    pub max_tries: u32,
    /// Least time between two sends: 60 seconds.
    pub cooldown: Duration,
    /// Most sends per sliding hour: 10.
    pub max_per_hour: u32,
}

impl Default for SentCodeRules {
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(300),
            max_tries: 5,
            cooldown: Duration::from_secs(60),
            max_per_hour: 10,
        }
    }
}

/// How far a phone's clock may be off when an authenticator app is
/// confirmed ([`Mfa::confirm_totp_enrollment`]).
///
/// The person picks it: a page offers "my code was not accepted — my
/// phone's clock may be wrong" and retries with [`Wide`](Self::Wide).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DriftTolerance {
    /// The sign-in window ([`MfaConfig::window`], ±1 step): the clock is
    /// right.
    #[default]
    Standard,
    /// The enrollment window ([`MfaConfig::enrollment_window`], ±10 steps,
    /// 5 minutes either way), once, for a phone whose clock is off. The
    /// offset found is remembered, and later sign-ins centre their ±1
    /// window on it.
    Wide,
}

impl DriftTolerance {
    /// The verification window this tolerance stands for in `config`.
    #[must_use]
    pub fn window(self, config: &MfaConfig) -> Window {
        match self {
            Self::Standard => config.window,
            Self::Wide => config.enrollment_window,
        }
    }
}

/// Service configuration. [`MfaConfig::new`] gives the defaults listed
/// in the repository's `docs/architecture.md` (security parameters);
/// change fields to tune them.
#[derive(Debug, Clone)]
pub struct MfaConfig {
    /// The service name shown in authenticator apps and messages.
    pub issuer: String,
    /// Key for hashing recovery codes, sent codes and device tokens.
    pub pepper: Pepper,
    /// Seals TOTP secrets at rest.
    pub sealer: Sealer,
    /// Parameters of new authenticators: SHA-1, 6 digits, 30 s.
    pub totp: TotpConfig,
    /// Verification window: ±1 step (widened by remembered drift).
    pub window: Window,
    /// Window for a confirmation with [`DriftTolerance::Wide`]: ±10 steps.
    pub enrollment_window: Window,
    /// Pending enrollments expire after 10 minutes.
    pub pending_ttl: Duration,
    /// Throttling: 5 free failures, 1 min doubling to 1 h.
    pub throttle: ThrottleRule,
    /// E-mail / SMS code rules.
    pub sent_codes: SentCodeRules,
    /// Sensitive changes need a verification younger than this: 10 minutes.
    pub step_up: Duration,
    /// Authenticator apps per subject: 10.
    pub max_authenticators: usize,
    /// The policy until an administrator saves one.
    pub default_policy: Policy,
}

impl MfaConfig {
    /// The default configuration for `issuer`.
    #[must_use]
    pub fn new(issuer: impl Into<String>, pepper: Pepper, sealer: Sealer) -> Self {
        Self {
            issuer: issuer.into(),
            pepper,
            sealer,
            totp: TotpConfig::default(),
            window: Window::default(),
            enrollment_window: Window::symmetric(10).unwrap_or_default(),
            pending_ttl: Duration::from_secs(600),
            throttle: ThrottleRule::default(),
            sent_codes: SentCodeRules::default(),
            step_up: Duration::from_secs(600),
            max_authenticators: 10,
            default_policy: Policy::default(),
        }
    }
}

/// `rule`, unless it disables MFA.
fn require_enabled(rule: RolePolicy) -> Result<RolePolicy> {
    if rule.requirement == Requirement::Disabled {
        return Err(Error::PolicyForbids(PolicyProblem::MfaDisabled));
    }
    Ok(rule)
}

/// What a subject has set up, and what the policy says now.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Status {
    /// Active authenticator apps, oldest first.
    pub authenticators: Vec<AuthenticatorInfo>,
    /// E-mail / SMS registered as factors.
    pub channels: Vec<ChannelInfo>,
    /// Unused recovery codes.
    pub recovery_codes_left: u32,
    /// Whether that is at or below the warning level (3).
    pub recovery_codes_low: bool,
    /// The rule that applies to the subject.
    pub rule: RolePolicy,
    /// What to do with the subject now.
    pub decision: Decision,
}

/// E-mail or SMS as listed on the profile page.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ChannelInfo {
    /// Which channel.
    pub channel: Channel,
    /// When it was registered.
    pub added_at: Timestamp,
    /// Whether it was verified for the subject's current address; if not,
    /// it is not a usable factor until registered again.
    pub address_current: bool,
}

/// New recovery codes, shown once.
pub type RecoveryCodes = Vec<RecoveryCode>;

/// The MFA service. Cheap to share behind an `Arc`; all methods take
/// `&self`.
pub struct Mfa<S, N, C> {
    store: S,
    notifier: N,
    clock: C,
    config: MfaConfig,
}

impl<S, N, C> fmt::Debug for Mfa<S, N, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mfa")
            .field("issuer", &self.config.issuer)
            .finish_non_exhaustive()
    }
}

impl<S: Store, N: Notifier, C: Clock> Mfa<S, N, C> {
    /// A service over `store`, sending through `notifier`, reading time
    /// from `clock`.
    pub fn new(store: S, notifier: N, clock: C, config: MfaConfig) -> Self {
        Self {
            store,
            notifier,
            clock,
            config,
        }
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The notifier.
    pub fn notifier(&self) -> &N {
        &self.notifier
    }

    /// The clock.
    pub fn clock(&self) -> &C {
        &self.clock
    }

    /// The configuration.
    pub fn config(&self) -> &MfaConfig {
        &self.config
    }

    /// The policy in force: the stored one, or the configured default.
    ///
    /// # Errors
    /// Store errors.
    pub async fn policy(&self) -> Result<Policy> {
        Ok(self
            .store
            .load_policy()
            .await?
            .unwrap_or_else(|| self.config.default_policy.clone()))
    }

    /// What `subject` has enrolled, as the policy sees it: e-mail/SMS
    /// count only while registered for the subject's current address.
    ///
    /// # Errors
    /// Store errors.
    pub async fn factors(&self, subject: &Subject) -> Result<Factors> {
        let channels = self.store.list_channels(&subject.id).await?;
        Ok(Factors {
            authenticators: self.store.list_totp(&subject.id).await?.len(),
            channels: self.bound_channels(subject, &channels),
            recovery_codes: self.store.recovery_codes_left(&subject.id).await?,
        })
    }

    /// The registered channels that are bound to the subject's current
    /// address.
    fn bound_channels(&self, subject: &Subject, registered: &[ChannelFactor]) -> Vec<Channel> {
        registered
            .iter()
            .filter(|c| {
                subject.address(c.channel).is_some_and(|address| {
                    c.address_hash == self.address_hash(&subject.id, c.channel, address)
                })
            })
            .map(|c| c.channel)
            .collect()
    }

    /// The decision for `subject` in a session in `session` state: what
    /// a gate in front of the application's routes acts on. Fixes the
    /// subject's grace deadline the first time an enforced requirement
    /// applies to them.
    ///
    /// # Errors
    /// Store errors.
    pub async fn decide(&self, subject: &Subject, session: &SessionState) -> Result<Decision> {
        let policy = self.policy().await?;
        let factors = self.factors(subject).await?;
        self.decide_with(&policy, subject, &factors, session).await
    }

    async fn decide_with(
        &self,
        policy: &Policy,
        subject: &Subject,
        factors: &Factors,
        session: &SessionState,
    ) -> Result<Decision> {
        let now = self.clock.now();
        let rule = policy.effective(&subject.roles);
        let grace = match rule.requirement {
            Requirement::Required { grace }
                if !grace.is_zero()
                    && policy::usable_factors(&rule.methods, subject, factors).is_empty() =>
            {
                Some(self.current_grace(policy, subject, grace, now).await?)
            }
            _ => None,
        };
        Ok(policy::evaluate(
            policy, subject, factors, session, grace, now,
        ))
    }

    /// The subject's grace record, fixing a new one (`now + grace`, the
    /// effective rule's grace) if there is none or the stored one is
    /// stale: fixed before every requirement now applying to them (see
    /// [`policy::grace_record_is_current`]). A current record is returned
    /// as stored; [`policy::deadline`] caps it by the effective rule, so a
    /// stricter role or a shortened grace takes effect without rewriting
    /// it, and a laxer one never extends it.
    async fn current_grace(
        &self,
        policy: &Policy,
        subject: &Subject,
        grace: Duration,
        now: Timestamp,
    ) -> Result<GraceRecord> {
        if let Some(record) = self.store.grace(&subject.id).await? {
            if policy::grace_record_is_current(policy, &subject.roles, &record) {
                return Ok(record);
            }
            self.store.clear_grace(&subject.id).await?;
        }
        self.store
            .fix_grace(
                &subject.id,
                GraceRecord {
                    fixed_at: now,
                    deadline: now.plus(grace),
                },
            )
            .await
    }

    /// Everything the profile page shows: factors, recovery codes left,
    /// the rule and the decision.
    ///
    /// # Errors
    /// Store errors.
    pub async fn status(&self, subject: &Subject, session: &SessionState) -> Result<Status> {
        let policy = self.policy().await?;
        let authenticators: Vec<AuthenticatorInfo> = self
            .store
            .list_totp(&subject.id)
            .await?
            .iter()
            .map(AuthenticatorInfo::from)
            .collect();
        let channels = self.store.list_channels(&subject.id).await?;
        let recovery_codes_left = self.store.recovery_codes_left(&subject.id).await?;
        let factors = Factors {
            authenticators: authenticators.len(),
            channels: self.bound_channels(subject, &channels),
            recovery_codes: recovery_codes_left,
        };
        let decision = self
            .decide_with(&policy, subject, &factors, session)
            .await?;
        let bound = self.bound_channels(subject, &channels);
        let channels = channels
            .iter()
            .map(|c| ChannelInfo {
                channel: c.channel,
                added_at: c.added_at,
                address_current: bound.contains(&c.channel),
            })
            .collect();
        Ok(Status {
            authenticators,
            channels,
            recovery_codes_left,
            recovery_codes_low: recovery_codes_left <= recovery::LOW_WATERMARK,
            rule: policy.effective(&subject.roles),
            decision,
        })
    }

    // ----- shared helpers -------------------------------------------------

    /// Refuses unless the session verified a second factor within the
    /// step-up window.
    pub(crate) fn require_step_up(&self, session: &SessionState) -> Result<()> {
        let now = self.clock.now();
        match session.verified_at {
            Some(at) if at <= now && now.since(at) < self.config.step_up => Ok(()),
            _ => Err(Error::StepUpRequired),
        }
    }

    /// The subject's rule, refusing if MFA is disabled for them.
    async fn enabled_rule(&self, subject: &Subject) -> Result<RolePolicy> {
        require_enabled(self.policy().await?.effective(&subject.roles))
    }

    async fn audit(
        &self,
        subject: &SubjectId,
        actor: Actor,
        action: AuditAction,
        factor: Option<FactorKind>,
        detail: Option<String>,
    ) -> Result<()> {
        self.store
            .append_audit(NewAuditEvent {
                at: self.clock.now(),
                subject: Some(subject.clone()),
                actor,
                action,
                factor,
                detail,
            })
            .await
    }

    /// Records an action the subject took.
    async fn audit_self(
        &self,
        subject: &SubjectId,
        action: AuditAction,
        factor: Option<FactorKind>,
        detail: Option<String>,
    ) -> Result<()> {
        self.audit(
            subject,
            Actor::Subject(subject.clone()),
            action,
            factor,
            detail,
        )
        .await
    }

    /// Sends a security notice; a delivery failure is audited, never
    /// propagated (the change it reports has happened).
    async fn notice(&self, subject: &Subject, kind: NoticeKind) -> Result<()> {
        self.notice_to(subject, kind, None).await
    }

    /// As [`notice`](Self::notice), delivered to `to` instead of the
    /// subject's current address.
    async fn notice_to(&self, subject: &Subject, kind: NoticeKind, to: Option<&str>) -> Result<()> {
        let sent = self
            .notifier
            .notify(Notice {
                subject,
                kind,
                at: self.clock.now(),
                issuer: &self.config.issuer,
                to,
            })
            .await;
        if sent.is_err() {
            self.audit(
                &subject.id,
                Actor::System,
                AuditAction::NoticeFailed,
                None,
                Some(format!("{kind:?}")),
            )
            .await?;
        }
        Ok(())
    }

    /// Draws a new set of recovery codes and stores their hashes with
    /// `mode`; `None` if `IfNone` found codes already.
    async fn new_recovery_codes(
        &self,
        subject: &SubjectId,
        mode: ReplaceCodes,
    ) -> Result<Option<RecoveryCodes>> {
        let codes = recovery::generate_set()?;
        let hashes = codes
            .iter()
            .map(|code| {
                let normalized: Zeroizing<String> = recovery::normalize(code.expose())?;
                Ok(recovery::hash(&self.config.pepper, subject, &normalized))
            })
            .collect::<Result<Vec<_>>>()?;
        let replaced = self
            .store
            .replace_recovery_codes(subject, hashes, mode, self.clock.now())
            .await?;
        Ok(replaced.then_some(codes))
    }

    /// After a factor was added: the first set of recovery codes, if the
    /// subject has none.
    async fn first_recovery_codes(&self, subject: &SubjectId) -> Result<Option<RecoveryCodes>> {
        let codes = self
            .new_recovery_codes(subject, ReplaceCodes::IfNone)
            .await?;
        if codes.is_some() {
            self.audit_self(subject, AuditAction::RecoveryCodesGenerated, None, None)
                .await?;
        }
        Ok(codes)
    }

    /// Removes `factor` in one atomic store operation which, when the
    /// policy requires MFA, refuses to remove the subject's last usable
    /// factor ([`Store::remove_factor`]).
    async fn remove_factor_checked(&self, subject: &Subject, factor: FactorRef) -> Result<()> {
        let rule = self.policy().await?.effective(&subject.roles);
        let keep = matches!(rule.requirement, Requirement::Required { .. }).then(|| Usable {
            authenticators: rule.methods.app,
            email: self.usable_address(subject, &rule, Channel::Email),
            sms: self.usable_address(subject, &rule, Channel::Sms),
        });
        match self.store.remove_factor(&subject.id, &factor, keep).await? {
            Removal::Removed => Ok(()),
            Removal::NotFound => Err(Error::NotFound(match factor {
                FactorRef::Authenticator(_) => "authenticator",
                FactorRef::Channel(_) => "channel",
            })),
            Removal::LastUsable => Err(Error::PolicyForbids(PolicyProblem::MfaRequired)),
        }
    }

    /// The address hash a `channel` factor needs to count under `rule`.
    fn usable_address(
        &self,
        subject: &Subject,
        rule: &RolePolicy,
        channel: Channel,
    ) -> Option<crate::pepper::CodeHash> {
        if !rule.methods.allows_channel(channel) {
            return None;
        }
        subject
            .address(channel)
            .map(|address| self.address_hash(&subject.id, channel, address))
    }

    /// After a factor was removed: if none remains, the leftover recovery
    /// codes and remembered devices go too (MFA is off for the subject).
    async fn cleanup_if_no_factor(&self, subject: &SubjectId) -> Result<()> {
        let authenticators = self.store.list_totp(subject).await?;
        let channels = self.store.list_channels(subject).await?;
        if authenticators.is_empty() && channels.is_empty() {
            self.store
                .replace_recovery_codes(subject, Vec::new(), ReplaceCodes::Always, self.clock.now())
                .await?;
            self.store.revoke_all_devices(subject).await?;
        }
        Ok(())
    }
}
