//! Verifying a second factor, and sending e-mail/SMS codes.

use super::Mfa;
use crate::audit::{Actor, AuditAction, NewAuditEvent};
use crate::clock::{Clock, Timestamp};
use crate::error::{CodeProblem, Error, PolicyProblem, PreconditionProblem, Result};
use crate::notify::{CodeMessage, NoticeKind, Notifier};
use crate::otp::{Code, Digits, Totp, Verdict, Window};
use crate::pepper::{CodeHash, Purpose};
use crate::policy::RolePolicy;
use crate::recovery;
use crate::store::{
    IssueOutcome, SendLimits, SentCode, SentCodeAttempt, Settlement, Store, TotpCredential,
};
use crate::subject::{Channel, CredentialId, FactorKind, Subject, SubjectId};
use crate::throttle::{Charge, ThrottleState};

/// What the person typed, and which factor it is for.
#[derive(Debug, Clone, Copy)]
pub enum Attempt<'a> {
    /// A code from an authenticator app.
    Totp(&'a str),
    /// A recovery code.
    Recovery(&'a str),
    /// A code sent by e-mail or SMS.
    Sent(Channel, &'a str),
}

impl Attempt<'_> {
    /// The factor kind the attempt is for.
    #[must_use]
    pub fn kind(&self) -> FactorKind {
        match self {
            Self::Totp(_) => FactorKind::Totp,
            Self::Recovery(_) => FactorKind::Recovery,
            Self::Sent(channel, _) => channel.factor(),
        }
    }
}

/// The outcome of a verification. A wrong code is an outcome, not an
/// error; the outcome never tells *why* a code was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(tag = "outcome", rename_all = "snake_case"))]
#[must_use]
pub enum Verification {
    /// The code was right and has been used up.
    Accepted {
        /// Which factor.
        factor: FactorKind,
        /// The TOTP step consumed (authenticator apps).
        step: Option<u64>,
        /// The authenticator that matched (authenticator apps).
        credential: Option<CredentialId>,
        /// Unused recovery codes left (recovery codes).
        recovery_codes_left: Option<u32>,
        /// Whether few recovery codes are left (≤ 3): suggest
        /// regenerating.
        recovery_codes_low: bool,
    },
    /// The code was not accepted (wrong, expired, already used).
    Rejected,
    /// Too many failures: no code is checked until `until`.
    Locked {
        /// End of the lock.
        until: Timestamp,
    },
    /// Too many consecutive failures (100): no code of this kind is
    /// checked until the subject succeeds with another kind of factor or
    /// an administrator resets their MFA.
    Blocked,
}

/// The outcome of asking for an e-mail/SMS code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(tag = "outcome", rename_all = "snake_case"))]
#[must_use]
pub enum SendOutcome {
    /// A code is on its way; it works until `expires_at`.
    Sent {
        /// When the code stops working.
        expires_at: Timestamp,
        /// When another code may be requested.
        resend_after: Timestamp,
    },
    /// Not now (cooldown, hourly limit or a lock): ask again after
    /// `retry_after`.
    TooSoon {
        /// When a send would next be allowed.
        retry_after: Timestamp,
    },
    /// Codes of this kind are blocked after too many consecutive failures
    /// (see [`Verification::Blocked`]): none is sent.
    Blocked,
}

/// A uniformly random six-digit code from the OS CSPRNG.
fn random_code() -> Result<Code> {
    // 4_294_000_000 is the largest multiple of 10^6 below 2^32: values at
    // or above it are redrawn so every code is equally likely.
    loop {
        let value = getrandom::u32().map_err(Error::Rng)?;
        if value < 4_294_000_000 {
            return Ok(Code::new(value % 1_000_000, Digits::SIX));
        }
    }
}

fn sent_code_hash(
    pepper: &crate::pepper::Pepper,
    subject: &SubjectId,
    channel: Channel,
    code: &Code,
) -> CodeHash {
    pepper.hash(
        Purpose::SentCode(channel),
        subject,
        code.expose().as_bytes(),
    )
}

/// Where to look for an authenticator's code: the current step moved by
/// the remembered `drift`, and a window around it of at most `base` each
/// way that never lets the drift leave `±tolerance` steps. The window is
/// centred, never widened: at most `base.behind() + 1 + base.ahead()`
/// steps are accepted at any time, and an accepted code moves the drift
/// by at most one step.
pub(super) fn centred(current: u64, drift: i16, base: Window, tolerance: u8) -> (u64, Window) {
    let tolerance = i32::from(tolerance);
    let drift = i32::from(drift).clamp(-tolerance, tolerance);
    let centre = if drift < 0 {
        current.saturating_sub(u64::from(drift.unsigned_abs()))
    } else {
        current.saturating_add(u64::from(drift.unsigned_abs()))
    };
    // Room left before the drift would pass the tolerance either way.
    let behind = u32::try_from(tolerance + drift).unwrap_or(0);
    let ahead = u32::try_from(tolerance - drift).unwrap_or(0);
    let window = Window::new(
        behind.min(u32::from(base.behind())),
        ahead.min(u32::from(base.ahead())),
    )
    .unwrap_or(Window::EXACT);
    (centre, window)
}

/// Why an attempt was not checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Refusal {
    /// Locked until then.
    Locked(Timestamp),
    /// Blocked after too many consecutive failures.
    Blocked,
}

impl From<Refusal> for Verification {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Locked(until) => Self::Locked { until },
            Refusal::Blocked => Self::Blocked,
        }
    }
}

/// What checking a charged attempt's code found.
#[derive(Debug)]
pub(super) enum Checked<T> {
    /// The code was right (and has been consumed).
    Right(T),
    /// The code was wrong.
    Wrong,
    /// Nothing was evaluated (no active code to compare with).
    Nothing,
}

/// What an authenticator code matched.
#[derive(Debug, PartialEq, Eq)]
enum TotpMatch {
    /// A step newer than the authenticator's last accepted one; `drift`
    /// is the new remembered drift.
    Fresh {
        id: CredentialId,
        step: u64,
        drift: i16,
    },
    /// The step accepted last, still within the same time step: a form
    /// sent twice.
    Duplicate,
    /// Nothing.
    None,
}

/// Whether `code` is the code of `credential`'s last accepted step and
/// that step was accepted during the current time step.
fn is_duplicate(totp: &Totp, code: &Code, credential: &TotpCredential, current: u64) -> bool {
    let (Some(last), Some(used)) = (credential.last_step, credential.last_used_at) else {
        return false;
    };
    totp.step_at(used.unix()) == Some(current)
        && totp.verify_step(code, last, Window::EXACT, None)
            == (Verdict::Match {
                step: last,
                offset: 0,
            })
}

/// Whether a channel is a usable factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ChannelState {
    /// Not registered.
    NotRegistered,
    /// Registered for another address than the subject's current one.
    AddressChanged,
    /// Registered for the current address.
    Usable,
}

/// An attempt that has been paid for: its code may be checked.
#[derive(Debug, Clone, Copy)]
pub(super) struct Charged {
    kind: FactorKind,
    state: ThrottleState,
    refused_before: u32,
    at: Timestamp,
}

impl<S: Store, N: Notifier, C: Clock> Mfa<S, N, C> {
    /// Charges an attempt on (`subject`, `kind`) before its code is checked
    /// ([`Store::charge_attempt`]); `Err` with the refusal if the factor
    /// is locked or blocked (then nothing may be checked).
    pub(super) async fn charge(
        &self,
        subject: &SubjectId,
        kind: FactorKind,
    ) -> Result<core::result::Result<Charged, Refusal>> {
        let now = self.clock.now();
        let charge = self
            .store
            .charge_attempt(subject, kind, self.config.throttle, now)
            .await?;
        Ok(Self::charged(kind, charge, now))
    }

    fn charged(
        kind: FactorKind,
        charge: Charge,
        at: Timestamp,
    ) -> core::result::Result<Charged, Refusal> {
        match charge {
            Charge::Charged {
                state,
                refused_before,
            } => Ok(Charged {
                kind,
                state,
                refused_before,
                at,
            }),
            Charge::Locked { until } => Err(Refusal::Locked(until)),
            Charge::Blocked => Err(Refusal::Blocked),
        }
    }

    /// The attempts refused during the lock this charge follows, as one
    /// audit event (not one per attempt).
    async fn audit_refused(&self, subject: &SubjectId, charged: &Charged) -> Result<()> {
        if charged.refused_before == 0 {
            return Ok(());
        }
        self.audit_self(
            subject,
            AuditAction::VerifyWhileLocked,
            Some(charged.kind),
            Some(format!(
                "{} attempts refused while locked",
                charged.refused_before
            )),
        )
        .await
    }

    /// A right code: the charge is settled as a success.
    pub(super) async fn settle_right(&self, subject: &SubjectId, charged: &Charged) -> Result<()> {
        self.store
            .settle_attempt(
                subject,
                charged.kind,
                self.config.throttle,
                Settlement::Succeeded,
            )
            .await?;
        self.audit_refused(subject, charged).await
    }

    /// An attempt that evaluated nothing: the charge is given back.
    pub(super) async fn settle_nothing(
        &self,
        subject: &SubjectId,
        charged: &Charged,
    ) -> Result<()> {
        self.store
            .settle_attempt(
                subject,
                charged.kind,
                self.config.throttle,
                Settlement::Refunded,
            )
            .await?;
        self.audit_refused(subject, charged).await
    }

    /// A wrong code: the charge stays. Audits it; if this charge locked or
    /// blocked the factor, audits that and notifies the subject (once per
    /// lock: only the charge that starts a lock can get here). Returns the
    /// refusal now in force, if any.
    pub(super) async fn settle_wrong(
        &self,
        subject: &Subject,
        charged: &Charged,
    ) -> Result<Option<Refusal>> {
        let rule = self.config.throttle;
        let kind = charged.kind;
        self.audit_self(&subject.id, AuditAction::VerifyFailed, Some(kind), None)
            .await?;
        self.audit_refused(&subject.id, charged).await?;
        let failures = charged.state.failures;
        if failures >= rule.max_failures.max(1) {
            self.audit_self(
                &subject.id,
                AuditAction::FactorBlocked,
                Some(kind),
                Some(format!("{failures} consecutive failures")),
            )
            .await?;
            self.notice(subject, NoticeKind::FactorBlocked(kind))
                .await?;
            return Ok(Some(Refusal::Blocked));
        }
        let Some(until) = charged.state.locked_at(charged.at) else {
            return Ok(None);
        };
        self.audit_self(
            &subject.id,
            AuditAction::LockedOut,
            Some(kind),
            Some(format!("{failures} failures, locked until {until}")),
        )
        .await?;
        self.notice(subject, NoticeKind::LockedOut { until })
            .await?;
        Ok(Some(Refusal::Locked(until)))
    }

    /// Settles a wrong code as the verification outcome.
    async fn rejected(&self, subject: &Subject, charged: &Charged) -> Result<Verification> {
        Ok(match self.settle_wrong(subject, charged).await? {
            Some(refusal) => refusal.into(),
            None => Verification::Rejected,
        })
    }

    /// Runs `check` on a charged attempt, giving the charge back if it
    /// fails with an error (nothing was evaluated) — except when the store
    /// itself failed: asking it again would make the request wait for a
    /// second timeout (an outage answers within one), so the charge stays.
    /// An outage can cost an attempt from the budget, never give one.
    pub(super) async fn refund_on_error<T>(
        &self,
        subject: &SubjectId,
        charged: &Charged,
        result: Result<T>,
    ) -> Result<T> {
        if let Err(e) = &result
            && !matches!(e, Error::StoreUnavailable(_))
        {
            self.settle_nothing(subject, charged).await?;
        }
        result
    }

    fn check_method(rule: &RolePolicy, kind: FactorKind) -> Result<()> {
        let allowed = match kind {
            FactorKind::Totp => rule.methods.app,
            FactorKind::Email => rule.methods.email,
            FactorKind::Sms => rule.methods.sms,
            _ => true,
        };
        if allowed {
            Ok(())
        } else {
            Err(Error::PolicyForbids(PolicyProblem::MethodNotAllowed(kind)))
        }
    }

    /// Verifies a second factor.
    ///
    /// The attempt is charged on the subject's throttle for its factor
    /// kind *before* the code is checked (see [`crate::throttle`]): while
    /// the kind is locked nothing is computed and the answer is
    /// [`Verification::Locked`] ([`Verification::Blocked`] after 100
    /// consecutive failures). Otherwise the code is checked —
    /// authenticator codes against every active authenticator, each over
    /// its window (centred on its remembered drift) in constant time — and
    /// consumed in the store, so that it is accepted exactly once even
    /// across app instances. A wrong code keeps its charge; a right one
    /// gives it back; the duplicate of an authenticator code accepted
    /// within the same time step (a form sent twice) and a try when no
    /// e-mail/SMS code is active are not counted. A used recovery code
    /// notifies the subject.
    ///
    /// # Errors
    /// [`Error::InvalidCode`] for malformed input (it does not count as a
    /// failure); [`Error::PolicyForbids`] if MFA or the method is disabled;
    /// [`Error::Precondition`] if the subject has no such factor (or, for
    /// e-mail/SMS, its address changed since it was verified); store
    /// errors.
    pub async fn verify(&self, subject: &Subject, attempt: Attempt<'_>) -> Result<Verification> {
        if let Attempt::Totp(input) = attempt {
            return self.verify_totp(subject, input).await;
        }
        let kind = attempt.kind();
        let rule = self.enabled_rule(subject).await?;
        Self::check_method(&rule, kind)?;
        // Malformed input is refused before anything is charged.
        let recovery = match attempt {
            Attempt::Recovery(input) => Some(recovery::normalize(input)?),
            _ => None,
        };
        let sent = match attempt {
            Attempt::Sent(channel, input) => {
                self.require_channel(subject, channel).await?;
                Some((channel, Code::parse(input, Digits::SIX)?))
            }
            _ => None,
        };
        let charged = match self.charge(&subject.id, kind).await? {
            Ok(charged) => charged,
            Err(refusal) => return Ok(refusal.into()),
        };
        let now = charged.at;
        let checked = if let Some(normalized) = recovery {
            self.check_recovery(subject, &normalized, now).await
        } else if let Some((channel, code)) = sent {
            self.check_sent(subject, channel, &code, now).await
        } else {
            Ok(Checked::Nothing)
        };
        match self.refund_on_error(&subject.id, &charged, checked).await? {
            Checked::Right(verification) => {
                self.settle_right(&subject.id, &charged).await?;
                self.audit_self(&subject.id, AuditAction::VerifySucceeded, Some(kind), None)
                    .await?;
                if let Verification::Accepted {
                    recovery_codes_left: Some(left),
                    ..
                } = verification
                {
                    self.notice(subject, NoticeKind::RecoveryCodeUsed { left })
                        .await?;
                }
                Ok(verification)
            }
            Checked::Wrong => self.rejected(subject, &charged).await,
            Checked::Nothing => {
                self.settle_nothing(&subject.id, &charged).await?;
                Ok(Verification::Rejected)
            }
        }
    }

    /// The sign-in hot path: one call that charges the attempt and reads
    /// everything needed ([`Store::begin_totp_attempt`]) and one atomic
    /// write: for a right code [`Store::accept_totp_step`], for a wrong one
    /// its audit event.
    async fn verify_totp(&self, subject: &Subject, input: &str) -> Result<Verification> {
        let kind = FactorKind::Totp;
        // Malformed input is refused before anything is charged; the
        // length is checked per authenticator below.
        let code = Code::parse_any(input)?;
        let now = self.clock.now();
        let rule = self.config.throttle;
        let context = self
            .store
            .begin_totp_attempt(&subject.id, rule, now)
            .await?;
        let charged = match Self::charged(kind, context.charge, now) {
            Ok(charged) => charged,
            Err(refusal) => return Ok(refusal.into()),
        };
        let policy = context
            .policy
            .unwrap_or_else(|| self.config.default_policy.clone());
        let allowed = super::require_enabled(policy.effective(&subject.roles))
            .and_then(|rule| Self::check_method(&rule, kind))
            .and_then(|()| {
                if context.credentials.is_empty() {
                    Err(Error::Precondition(PreconditionProblem::NotEnrolled))
                } else if context
                    .credentials
                    .iter()
                    .all(|c| c.config.digits() != code.digits())
                {
                    let expected = context
                        .credentials
                        .first()
                        .map_or(6, |c| c.config.digits().get());
                    Err(Error::InvalidCode(CodeProblem::WrongLength {
                        expected,
                        found: usize::from(code.digits().get()),
                    }))
                } else {
                    Ok(())
                }
            });
        self.refund_on_error(&subject.id, &charged, allowed).await?;
        let found = self
            .match_totp(subject, &context.credentials, &code, now)
            .await?;
        let (id, step, drift) = match found {
            TotpMatch::Fresh { id, step, drift } => (id, step, drift),
            TotpMatch::Duplicate => {
                self.settle_nothing(&subject.id, &charged).await?;
                return Ok(Verification::Rejected);
            }
            TotpMatch::None => return self.rejected(subject, &charged).await,
        };
        // The store's compare-and-set makes the step single use; the charge
        // is settled and the success audited in the same write.
        let audit = NewAuditEvent {
            at: now,
            subject: Some(subject.id.clone()),
            actor: Actor::Subject(subject.id.clone()),
            action: AuditAction::VerifySucceeded,
            factor: Some(kind),
            detail: None,
        };
        if !self
            .store
            .accept_totp_step(&subject.id, &id, step, drift, rule, now, audit)
            .await?
        {
            // Another request used this step first: a duplicate, not a guess.
            self.settle_nothing(&subject.id, &charged).await?;
            return Ok(Verification::Rejected);
        }
        self.audit_refused(&subject.id, &charged).await?;
        Ok(Verification::Accepted {
            factor: kind,
            step: Some(step),
            credential: Some(id),
            recovery_codes_left: None,
            recovery_codes_low: false,
        })
    }

    /// Checks `code` against every authenticator with its number of
    /// digits, whatever matches (constant time per authenticator). A secret
    /// no configured key opens never matches; each is audited.
    async fn match_totp(
        &self,
        subject: &Subject,
        credentials: &[TotpCredential],
        code: &Code,
        now: Timestamp,
    ) -> Result<TotpMatch> {
        let tolerance = self
            .config
            .enrollment_window
            .behind()
            .max(self.config.enrollment_window.ahead());
        let mut found = TotpMatch::None;
        let mut unreadable = Vec::new();
        for credential in credentials {
            if credential.config.digits() != code.digits() {
                continue;
            }
            let secret = match self.config.sealer.open(
                &credential.sealed_secret,
                &subject.id,
                &credential.id,
            ) {
                Ok(secret) => secret,
                Err(_) => {
                    unreadable.push(credential.id.clone());
                    continue;
                }
            };
            let totp = Totp::new(&secret, &credential.config);
            let Some(current) = totp.step_at(now.unix()) else {
                continue;
            };
            let (centre, window) =
                centred(current, credential.drift, self.config.window, tolerance);
            match totp.verify_step(code, centre, window, credential.last_step) {
                Verdict::Match { step, offset } => {
                    if !matches!(found, TotpMatch::Fresh { .. }) {
                        found = TotpMatch::Fresh {
                            id: credential.id.clone(),
                            step,
                            drift: credential.drift.saturating_add(offset),
                        };
                    }
                }
                Verdict::Replay => {
                    if found == TotpMatch::None && is_duplicate(&totp, code, credential, current) {
                        found = TotpMatch::Duplicate;
                    }
                }
                Verdict::NoMatch => {}
            }
        }
        for id in unreadable {
            self.audit(
                &subject.id,
                Actor::System,
                AuditAction::SecretUnreadable,
                Some(FactorKind::Totp),
                Some(id.to_string()),
            )
            .await?;
        }
        Ok(found)
    }

    /// Consumes a recovery code (already normalised); audits the use.
    async fn check_recovery(
        &self,
        subject: &Subject,
        normalized: &str,
        now: Timestamp,
    ) -> Result<Checked<Verification>> {
        let hash = recovery::hash(&self.config.pepper, &subject.id, normalized);
        if !self
            .store
            .consume_recovery_code(&subject.id, &hash, now)
            .await?
        {
            return Ok(Checked::Wrong);
        }
        let left = self.store.recovery_codes_left(&subject.id).await?;
        self.audit_self(
            &subject.id,
            AuditAction::RecoveryCodeUsed,
            Some(FactorKind::Recovery),
            Some(format!("{left} left")),
        )
        .await?;
        Ok(Checked::Right(Verification::Accepted {
            factor: FactorKind::Recovery,
            step: None,
            credential: None,
            recovery_codes_left: Some(left),
            recovery_codes_low: left <= recovery::LOW_WATERMARK,
        }))
    }

    /// Tries a sent code against the channel's active code.
    pub(super) async fn try_sent_code(
        &self,
        subject: &Subject,
        channel: Channel,
        code: &Code,
        now: Timestamp,
    ) -> Result<Checked<()>> {
        let hash = sent_code_hash(&self.config.pepper, &subject.id, channel, code);
        let attempt = self
            .store
            .attempt_sent_code(
                &subject.id,
                channel,
                &hash,
                self.config.sent_codes.max_tries,
                now,
            )
            .await?;
        Ok(match attempt {
            SentCodeAttempt::Accepted => Checked::Right(()),
            SentCodeAttempt::Rejected { .. } => Checked::Wrong,
            // No code to guess: nothing was evaluated.
            SentCodeAttempt::NoActiveCode => Checked::Nothing,
        })
    }

    async fn check_sent(
        &self,
        subject: &Subject,
        channel: Channel,
        code: &Code,
        now: Timestamp,
    ) -> Result<Checked<Verification>> {
        Ok(
            match self.try_sent_code(subject, channel, code, now).await? {
                Checked::Right(()) => Checked::Right(Verification::Accepted {
                    factor: channel.factor(),
                    step: None,
                    credential: None,
                    recovery_codes_left: None,
                    recovery_codes_low: false,
                }),
                Checked::Wrong => Checked::Wrong,
                Checked::Nothing => Checked::Nothing,
            },
        )
    }

    /// The keyed hash of `subject`'s address on `channel` (e-mail compared
    /// without case, phone numbers without spaces, dashes, dots and
    /// brackets).
    pub(super) fn address_hash(
        &self,
        subject: &SubjectId,
        channel: Channel,
        address: &str,
    ) -> CodeHash {
        let normalized: String = match channel {
            Channel::Email => address.trim().to_lowercase(),
            Channel::Sms => address
                .chars()
                .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
                .collect(),
        };
        self.config
            .pepper
            .hash(Purpose::Address(channel), subject, normalized.as_bytes())
    }

    /// Whether `channel` is a usable factor of `subject`: registered, for
    /// the address the subject has now.
    pub(super) async fn channel_state(
        &self,
        subject: &Subject,
        channel: Channel,
    ) -> Result<ChannelState> {
        let registered = self
            .store
            .list_channels(&subject.id)
            .await?
            .into_iter()
            .find(|c| c.channel == channel);
        Ok(match (registered, subject.address(channel)) {
            (None, _) => ChannelState::NotRegistered,
            (Some(factor), Some(address))
                if factor.address_hash == self.address_hash(&subject.id, channel, address) =>
            {
                ChannelState::Usable
            }
            (Some(_), _) => ChannelState::AddressChanged,
        })
    }

    /// Refuses unless `channel` is a usable factor of `subject`.
    async fn require_channel(&self, subject: &Subject, channel: Channel) -> Result<()> {
        match self.channel_state(subject, channel).await? {
            ChannelState::Usable => Ok(()),
            ChannelState::NotRegistered => Err(Error::Precondition(
                PreconditionProblem::ChannelNotEnrolled(channel),
            )),
            ChannelState::AddressChanged if subject.address(channel).is_none() => {
                Err(Error::Precondition(PreconditionProblem::NoAddress(channel)))
            }
            ChannelState::AddressChanged => Err(Error::Precondition(
                PreconditionProblem::ChannelAddressChanged(channel),
            )),
        }
    }

    /// Sends a sign-in code by e-mail or SMS to a subject who registered
    /// that channel. Six digits, valid 5 minutes, 5 tries; at most one
    /// send a minute and 10 an hour per channel (both enforced by the
    /// store, across instances); a new code replaces the previous one.
    ///
    /// # Errors
    /// [`Error::PolicyForbids`] if the method is not allowed;
    /// [`Error::Precondition`] if the channel is not registered or there
    /// is no address; [`Error::Notify`] if delivery failed; store errors.
    pub async fn send_code(&self, subject: &Subject, channel: Channel) -> Result<SendOutcome> {
        let rule = self.enabled_rule(subject).await?;
        Self::check_method(&rule, channel.factor())?;
        self.require_channel(subject, channel).await?;
        self.issue_code(subject, channel).await
    }

    /// Draws, records and delivers a code on `channel`.
    pub(super) async fn issue_code(
        &self,
        subject: &Subject,
        channel: Channel,
    ) -> Result<SendOutcome> {
        let to = subject
            .address(channel)
            .ok_or(Error::Precondition(PreconditionProblem::NoAddress(channel)))?;
        let now = self.clock.now();
        // No code is sent for a factor whose codes would not be checked.
        let throttle = self
            .store
            .throttle_state(&subject.id, channel.factor())
            .await?;
        match self.config.throttle.refusal(&throttle, now) {
            Some(Charge::Locked { until }) => {
                return Ok(SendOutcome::TooSoon { retry_after: until });
            }
            Some(_) => return Ok(SendOutcome::Blocked),
            None => {}
        }
        let rules = self.config.sent_codes;
        let code = random_code()?;
        let expires_at = now.plus(rules.ttl);
        let sent = SentCode {
            subject: subject.id.clone(),
            channel,
            hash: sent_code_hash(&self.config.pepper, &subject.id, channel, &code),
            issued_at: now,
            expires_at,
        };
        let issued = self
            .store
            .issue_sent_code(
                sent.clone(),
                SendLimits {
                    cooldown: rules.cooldown,
                    max_per_hour: rules.max_per_hour,
                },
            )
            .await?;
        if let IssueOutcome::TooSoon { retry_after } = issued {
            return Ok(SendOutcome::TooSoon { retry_after });
        }
        let delivered = self
            .notifier
            .send_code(CodeMessage {
                subject,
                channel,
                to,
                code: &code,
                expires_at,
                issuer: &self.config.issuer,
            })
            .await;
        if let Err(error) = delivered {
            // Nothing reached the person: the send does not count against
            // the cooldown or the hourly limit, and its code is dead. If
            // the store fails here too, the delivery error is the one that
            // matters to the caller.
            let _ = self.store.withdraw_sent_code(&sent).await;
            return Err(error);
        }
        self.audit_self(
            &subject.id,
            AuditAction::CodeSent,
            Some(channel.factor()),
            None,
        )
        .await?;
        Ok(SendOutcome::Sent {
            expires_at,
            resend_after: now.plus(rules.cooldown),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_codes_are_six_digits() {
        for _ in 0..100 {
            let code = random_code().unwrap();
            assert_eq!(code.expose().len(), 6);
        }
    }

    #[test]
    fn the_window_is_centred_on_the_drift_and_never_widened() {
        let base = Window::default();
        let check = |drift: i16, centre: u64, behind: u8, ahead: u8| {
            let (c, w) = centred(100, drift, base, 10);
            assert_eq!(
                (c, w.behind(), w.ahead()),
                (centre, behind, ahead),
                "drift {drift}"
            );
        };
        check(0, 100, 1, 1);
        check(3, 103, 1, 1);
        check(-2, 98, 1, 1);
        // At the tolerance the window stops short of leaving it.
        check(10, 110, 1, 0);
        check(-10, 90, 0, 1);
        // A stored drift beyond the tolerance is treated as the tolerance.
        check(i16::MAX, 110, 1, 0);
        check(i16::MIN, 90, 0, 1);
        let (c, w) = centred(0, -3, base, 10);
        assert_eq!((c, w.behind(), w.ahead()), (0, 1, 1), "no step before 0");
    }
}
