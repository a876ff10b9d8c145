//! Verifying a second factor, and sending e-mail/SMS codes.

use zeroize::Zeroizing;

use super::Mfa;
use crate::audit::{Actor, AuditAction, NewAuditEvent};
use crate::clock::{Clock, Timestamp};
use crate::error::{Error, PolicyProblem, PreconditionProblem, Result};
use crate::notify::{CodeMessage, NoticeKind, Notifier};
use crate::otp::{Code, Digits, Totp, Verdict, Window};
use crate::pepper::{CodeHash, Purpose};
use crate::policy::RolePolicy;
use crate::recovery;
use crate::store::{IssueOutcome, SendLimits, SentCode, SentCodeAttempt, Store};
use crate::subject::{Channel, CredentialId, FactorKind, Subject, SubjectId};

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

/// The window for an authenticator with remembered `drift`: the
/// configured window, stretched towards the drift (never beyond the
/// engine's maximum).
fn drift_window(base: Window, drift: i16) -> Window {
    let (toward_past, toward_future) = if drift < 0 {
        (drift.unsigned_abs(), 0)
    } else {
        (0, drift.unsigned_abs())
    };
    let behind = u32::from(base.behind()) + u32::from(toward_past);
    let ahead = u32::from(base.ahead()) + u32::from(toward_future);
    let max = u32::from(Window::MAX_STEPS);
    Window::new(behind.min(max), ahead.min(max)).unwrap_or(base)
}

impl<S: Store, N: Notifier, C: Clock> Mfa<S, N, C> {
    /// The end of the lock on (`subject`, `kind`), if one is in force.
    pub(super) async fn locked(
        &self,
        subject: &SubjectId,
        kind: FactorKind,
        now: Timestamp,
    ) -> Result<Option<Timestamp>> {
        Ok(self
            .store
            .throttle_state(subject, kind)
            .await?
            .locked_at(now))
    }

    /// Records a failure; returns the lock end if this failure locked the
    /// factor (notifying the subject on the first lock of a run).
    pub(super) async fn fail(
        &self,
        subject: &Subject,
        kind: FactorKind,
    ) -> Result<Option<Timestamp>> {
        let now = self.clock.now();
        let rule = self.config.throttle;
        let state = self
            .store
            .record_failure(&subject.id, kind, rule, now)
            .await?;
        self.audit_self(&subject.id, AuditAction::VerifyFailed, Some(kind), None)
            .await?;
        let Some(until) = state.locked_at(now) else {
            return Ok(None);
        };
        self.audit_self(
            &subject.id,
            AuditAction::LockedOut,
            Some(kind),
            Some(format!("{} failures, locked until {until}", state.failures)),
        )
        .await?;
        if state.failures == rule.free_failures.max(1) {
            self.notice(subject, NoticeKind::LockedOut { until })
                .await?;
        }
        Ok(Some(until))
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
    /// While the factor kind is locked, nothing is computed and the answer
    /// is [`Verification::Locked`]. Otherwise the code is checked —
    /// authenticator codes against every active authenticator, each over
    /// its whole window in constant time — and consumed in the store, so
    /// that it is accepted exactly once even across app instances. A
    /// failure counts towards the lock; a success resets it. A used
    /// recovery code notifies the subject.
    ///
    /// # Errors
    /// [`Error::InvalidCode`] for malformed input (it does not count as a
    /// failure); [`Error::PolicyForbids`] if MFA or the method is disabled;
    /// [`Error::Precondition`] if the subject has no such factor; store
    /// and sealing errors.
    pub async fn verify(&self, subject: &Subject, attempt: Attempt<'_>) -> Result<Verification> {
        if let Attempt::Totp(input) = attempt {
            return self.verify_totp(subject, input).await;
        }
        let kind = attempt.kind();
        let rule = self.enabled_rule(subject).await?;
        Self::check_method(&rule, kind)?;
        let now = self.clock.now();
        let throttle = self.store.throttle_state(&subject.id, kind).await?;
        if let Some(until) = throttle.locked_at(now) {
            return self.locked_out(subject, kind, until).await;
        }
        let accepted = match attempt {
            Attempt::Recovery(input) => self.check_recovery(subject, input, now).await?,
            Attempt::Sent(channel, input) => self.check_sent(subject, channel, input, now).await?,
            Attempt::Totp(_) => None,
        };
        match accepted {
            Some(verification) => {
                if throttle.failures > 0 {
                    self.store.reset_failures(&subject.id, kind).await?;
                }
                self.audit_self(&subject.id, AuditAction::VerifySucceeded, Some(kind), None)
                    .await?;
                Ok(verification)
            }
            None => self.rejected(subject, kind).await,
        }
    }

    async fn locked_out(
        &self,
        subject: &Subject,
        kind: FactorKind,
        until: Timestamp,
    ) -> Result<Verification> {
        self.audit_self(
            &subject.id,
            AuditAction::VerifyWhileLocked,
            Some(kind),
            None,
        )
        .await?;
        Ok(Verification::Locked { until })
    }

    async fn rejected(&self, subject: &Subject, kind: FactorKind) -> Result<Verification> {
        Ok(match self.fail(subject, kind).await? {
            Some(until) => Verification::Locked { until },
            None => Verification::Rejected,
        })
    }

    /// The sign-in hot path: one read of everything needed
    /// ([`Store::totp_context`]) and, for a right code, one atomic write
    /// ([`Store::accept_totp_step`]).
    async fn verify_totp(&self, subject: &Subject, input: &str) -> Result<Verification> {
        let kind = FactorKind::Totp;
        let context = self.store.totp_context(&subject.id).await?;
        let policy = context
            .policy
            .unwrap_or_else(|| self.config.default_policy.clone());
        let rule = super::require_enabled(policy.effective(&subject.roles))?;
        Self::check_method(&rule, kind)?;
        let now = self.clock.now();
        if let Some(until) = context.throttle.locked_at(now) {
            return self.locked_out(subject, kind, until).await;
        }
        let credentials = &context.credentials;
        let first = credentials
            .first()
            .ok_or(Error::Precondition(PreconditionProblem::NotEnrolled))?;
        let code = Code::parse(input, first.config.digits())?;
        // Every authenticator is checked, whatever matches.
        let mut found = None;
        for credential in credentials {
            let secret =
                self.config
                    .sealer
                    .open(&credential.sealed_secret, &subject.id, &credential.id)?;
            let totp = Totp::new(&secret, &credential.config);
            let window = drift_window(self.config.window, credential.drift);
            let code = if credential.config.digits() == code.digits() {
                code.clone()
            } else {
                match Code::parse(input, credential.config.digits()) {
                    Ok(code) => code,
                    Err(_) => continue,
                }
            };
            if let Verdict::Match { step, offset } =
                totp.verify(&code, now.unix(), window, credential.last_step)
            {
                found.get_or_insert((credential.id.clone(), step, offset));
            }
        }
        let Some((id, step, offset)) = found else {
            return self.rejected(subject, kind).await;
        };
        // The store's compare-and-set makes the step single use; the failure
        // count is cleared and the success audited in the same write.
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
            .accept_totp_step(&subject.id, &id, step, offset, now, audit)
            .await?
        {
            return self.rejected(subject, kind).await;
        }
        Ok(Verification::Accepted {
            factor: kind,
            step: Some(step),
            credential: Some(id),
            recovery_codes_left: None,
            recovery_codes_low: false,
        })
    }

    async fn check_recovery(
        &self,
        subject: &Subject,
        input: &str,
        now: Timestamp,
    ) -> Result<Option<Verification>> {
        let normalized: Zeroizing<String> = recovery::normalize(input)?;
        let hash = recovery::hash(&self.config.pepper, &subject.id, &normalized);
        if !self
            .store
            .consume_recovery_code(&subject.id, &hash, now)
            .await?
        {
            return Ok(None);
        }
        let left = self.store.recovery_codes_left(&subject.id).await?;
        self.audit_self(
            &subject.id,
            AuditAction::RecoveryCodeUsed,
            Some(FactorKind::Recovery),
            Some(format!("{left} left")),
        )
        .await?;
        self.notice(subject, NoticeKind::RecoveryCodeUsed { left })
            .await?;
        Ok(Some(Verification::Accepted {
            factor: FactorKind::Recovery,
            step: None,
            credential: None,
            recovery_codes_left: Some(left),
            recovery_codes_low: left <= recovery::LOW_WATERMARK,
        }))
    }

    /// Tries a sent code; `Ok(true)` if it matched and was consumed.
    pub(super) async fn try_sent_code(
        &self,
        subject: &Subject,
        channel: Channel,
        input: &str,
        now: Timestamp,
    ) -> Result<bool> {
        let code = Code::parse(input, Digits::SIX)?;
        let hash = sent_code_hash(&self.config.pepper, &subject.id, channel, &code);
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
        Ok(attempt == SentCodeAttempt::Accepted)
    }

    async fn check_sent(
        &self,
        subject: &Subject,
        channel: Channel,
        input: &str,
        now: Timestamp,
    ) -> Result<Option<Verification>> {
        self.require_channel(subject, channel).await?;
        let accepted = self.try_sent_code(subject, channel, input, now).await?;
        Ok(accepted.then_some(Verification::Accepted {
            factor: channel.factor(),
            step: None,
            credential: None,
            recovery_codes_left: None,
            recovery_codes_low: false,
        }))
    }

    /// Whether `channel` is registered as a factor of `subject`.
    pub(super) async fn has_channel(&self, subject: &Subject, channel: Channel) -> Result<bool> {
        Ok(self
            .store
            .list_channels(&subject.id)
            .await?
            .iter()
            .any(|c| c.channel == channel))
    }

    async fn require_channel(&self, subject: &Subject, channel: Channel) -> Result<()> {
        if self.has_channel(subject, channel).await? {
            Ok(())
        } else {
            Err(Error::Precondition(
                PreconditionProblem::ChannelNotEnrolled(channel),
            ))
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
        if let Some(until) = self.locked(&subject.id, channel.factor(), now).await? {
            return Ok(SendOutcome::TooSoon { retry_after: until });
        }
        let rules = self.config.sent_codes;
        let code = random_code()?;
        let expires_at = now.plus(rules.ttl);
        let issued = self
            .store
            .issue_sent_code(
                SentCode {
                    subject: subject.id.clone(),
                    channel,
                    hash: sent_code_hash(&self.config.pepper, &subject.id, channel, &code),
                    issued_at: now,
                    expires_at,
                },
                SendLimits {
                    cooldown: rules.cooldown,
                    max_per_hour: rules.max_per_hour,
                },
            )
            .await?;
        if let IssueOutcome::TooSoon { retry_after } = issued {
            return Ok(SendOutcome::TooSoon { retry_after });
        }
        self.notifier
            .send_code(CodeMessage {
                subject,
                channel,
                to,
                code: &code,
                expires_at,
                issuer: &self.config.issuer,
            })
            .await?;
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
    fn drift_stretches_the_window_towards_it() {
        let base = Window::default();
        assert_eq!(drift_window(base, 0), base);
        let w = drift_window(base, 3);
        assert_eq!((w.behind(), w.ahead()), (1, 4));
        let w = drift_window(base, -2);
        assert_eq!((w.behind(), w.ahead()), (3, 1));
        let w = drift_window(base, i16::MIN);
        assert_eq!((w.behind(), w.ahead()), (Window::MAX_STEPS, 1));
    }
}
