//! E-mail/SMS as factors, recovery codes, remembered devices, turning MFA
//! off.

use super::{Confirmation, Mfa, RecoveryCodes};
use crate::audit::AuditAction;
use crate::clock::{Clock, Timestamp};
use crate::device::{self, DeviceToken};
use crate::error::{Error, PolicyProblem, PreconditionProblem, Result};
use crate::notify::{NoticeKind, Notifier};
use crate::otp::{Code, Digits};
use crate::policy::{self, Requirement, SessionState};
use crate::store::{ChannelAdded, ChannelFactor, FactorRef, RememberedDevice, ReplaceCodes, Store};
use crate::subject::{Channel, CredentialId, Subject};

use super::verify::{ChannelState, Checked, SendOutcome};

/// The credential label an address is sealed under (never a real
/// credential id, which has no `:`).
fn address_label(channel: Channel) -> Result<CredentialId> {
    CredentialId::new(format!("address:{}", channel.as_str()))
}

/// A browser just remembered: put `token` in a long-lived, `HttpOnly`,
/// `Secure`, `SameSite=Lax` cookie. `Debug` never shows the token.
#[derive(Debug)]
pub struct Remembered {
    /// The token for the cookie.
    pub token: DeviceToken,
    /// The device's id (for listing and revoking).
    pub id: CredentialId,
    /// Its name, from the user agent.
    pub name: String,
    /// When it stops counting.
    pub expires_at: Timestamp,
}

/// A remembered device as listed on the profile page.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct DeviceInfo {
    /// Its id.
    pub id: CredentialId,
    /// Its name, from the user agent.
    pub name: String,
    /// When it was remembered.
    pub created_at: Timestamp,
    /// When it stops counting.
    pub expires_at: Timestamp,
    /// When it was last presented.
    pub last_used_at: Option<Timestamp>,
}

impl From<RememberedDevice> for DeviceInfo {
    fn from(device: RememberedDevice) -> Self {
        Self {
            id: device.id,
            name: device.name,
            created_at: device.created_at,
            expires_at: device.expires_at,
            last_used_at: device.last_used_at,
        }
    }
}

impl<S: Store, N: Notifier, C: Clock> Mfa<S, N, C> {
    /// Starts registering e-mail or SMS as a factor: sends a code to the
    /// subject's address on that channel, under the usual send limits.
    ///
    /// # Errors
    /// [`Error::PolicyForbids`] if MFA or the method is not allowed;
    /// [`Error::StepUpRequired`] if the subject already has a factor and
    /// the session has not verified recently; [`Error::Precondition`] if
    /// there is no address; [`Error::Notify`]; store errors.
    pub async fn start_channel_enrollment(
        &self,
        subject: &Subject,
        channel: Channel,
        session: &SessionState,
    ) -> Result<SendOutcome> {
        let rule = self.enabled_rule(subject).await?;
        if !rule.methods.allows_channel(channel) {
            return Err(Error::PolicyForbids(PolicyProblem::MethodNotAllowed(
                channel.factor(),
            )));
        }
        let factors = self.factors(subject).await?;
        // Moving a registered channel to a new address, like adding a
        // factor next to another, needs a fresh verification.
        if !policy::usable_factors(&rule.methods, subject, &factors).is_empty()
            || self.channel_state(subject, channel).await? != ChannelState::NotRegistered
        {
            self.require_step_up(session)?;
        }
        self.issue_code(subject, channel).await
    }

    /// Confirms a channel registration with the code sent to it. The
    /// first factor of a subject also brings the first recovery codes.
    ///
    /// # Errors
    /// [`Error::InvalidCode`] for malformed input;
    /// [`Error::PolicyForbids`]; store errors.
    pub async fn confirm_channel_enrollment(
        &self,
        subject: &Subject,
        channel: Channel,
        code: &str,
    ) -> Result<Confirmation> {
        let rule = self.enabled_rule(subject).await?;
        if !rule.methods.allows_channel(channel) {
            return Err(Error::PolicyForbids(PolicyProblem::MethodNotAllowed(
                channel.factor(),
            )));
        }
        let kind = channel.factor();
        let address = subject
            .address(channel)
            .ok_or(Error::Precondition(PreconditionProblem::NoAddress(channel)))?;
        // Malformed input is refused before anything is charged.
        let code = Code::parse(code, Digits::SIX)?;
        let charged = match self.charge(&subject.id, kind).await? {
            Ok(charged) => charged,
            Err(refusal) => return Ok(refusal.into()),
        };
        let now = self.clock.now();
        let checked = self.try_sent_code(subject, channel, &code, now).await;
        match self.refund_on_error(&subject.id, &charged, checked).await? {
            Checked::Right(()) => self.settle_right(&subject.id, &charged).await?,
            Checked::Wrong => {
                return Ok(match self.settle_wrong(subject, &charged).await? {
                    Some(refusal) => refusal.into(),
                    None => Confirmation::Rejected,
                });
            }
            Checked::Nothing => {
                self.settle_nothing(&subject.id, &charged).await?;
                return Ok(Confirmation::Rejected);
            }
        }
        let factor = ChannelFactor {
            channel,
            address_hash: self.address_hash(&subject.id, channel, address),
            sealed_address: Some(self.config.sealer.seal_bytes(
                address.as_bytes(),
                &subject.id,
                &address_label(channel)?,
            )?),
            added_at: now,
        };
        match self.store.add_channel(&subject.id, factor).await? {
            ChannelAdded::Added => {
                self.audit_self(&subject.id, AuditAction::ChannelAdded, Some(kind), None)
                    .await?;
                self.notice(subject, NoticeKind::ChannelAdded(channel))
                    .await?;
            }
            ChannelAdded::Replaced { previous } => {
                self.audit_self(
                    &subject.id,
                    AuditAction::ChannelAdded,
                    Some(kind),
                    Some("moved to a new address".to_owned()),
                )
                .await?;
                self.notice(subject, NoticeKind::ChannelAdded(channel))
                    .await?;
                // Tell the address that no longer gets the codes.
                let old = previous.sealed_address.and_then(|sealed| {
                    self.config
                        .sealer
                        .open_bytes(&sealed, &subject.id, &address_label(channel).ok()?)
                        .ok()
                });
                if let Some(old) = old.as_deref().and_then(|o| core::str::from_utf8(o).ok()) {
                    self.notice_to(
                        subject,
                        NoticeKind::ChannelAddressChanged(channel),
                        Some(old),
                    )
                    .await?;
                }
            }
            ChannelAdded::Unchanged => {}
        }
        let recovery_codes = self.first_recovery_codes(&subject.id).await?;
        Ok(Confirmation::Enrolled {
            authenticator: None,
            recovery_codes,
        })
    }

    /// Unregisters e-mail or SMS as a factor. Needs a recent verification;
    /// refused if it is the last factor and MFA is required.
    ///
    /// # Errors
    /// [`Error::StepUpRequired`], [`Error::PolicyForbids`],
    /// [`Error::NotFound`]; store errors.
    pub async fn remove_channel(
        &self,
        subject: &Subject,
        channel: Channel,
        session: &SessionState,
    ) -> Result<()> {
        self.require_step_up(session)?;
        self.remove_factor_checked(subject, FactorRef::Channel(channel))
            .await?;
        self.audit_self(
            &subject.id,
            AuditAction::ChannelRemoved,
            Some(channel.factor()),
            None,
        )
        .await?;
        self.cleanup_if_no_factor(&subject.id).await?;
        self.notice(subject, NoticeKind::ChannelRemoved(channel))
            .await
    }

    /// Replaces the subject's recovery codes with a new set of ten, shown
    /// once. Needs a recent verification.
    ///
    /// # Errors
    /// [`Error::StepUpRequired`]; [`Error::Precondition`] if the subject
    /// has no factor; store errors.
    pub async fn regenerate_recovery_codes(
        &self,
        subject: &Subject,
        session: &SessionState,
    ) -> Result<RecoveryCodes> {
        self.require_step_up(session)?;
        let factors = self.factors(subject).await?;
        if factors.authenticators == 0 && factors.channels.is_empty() {
            return Err(Error::Precondition(PreconditionProblem::NotEnrolled));
        }
        let codes = self
            .new_recovery_codes(&subject.id, ReplaceCodes::Always)
            .await?
            .ok_or(Error::Precondition(PreconditionProblem::NotEnrolled))?;
        self.audit_self(&subject.id, AuditAction::RecoveryCodesGenerated, None, None)
            .await?;
        self.notice(subject, NoticeKind::RecoveryCodesRegenerated)
            .await?;
        Ok(codes)
    }

    /// Remembers this browser for the policy's period (30 days by
    /// default), so the gate allows it without a code. Only a session that
    /// has just verified may do this.
    ///
    /// # Errors
    /// [`Error::StepUpRequired`] if the session has not verified recently;
    /// [`Error::PolicyForbids`] if remembering is not allowed; store errors.
    pub async fn remember_device(
        &self,
        subject: &Subject,
        user_agent: &str,
        session: &SessionState,
    ) -> Result<Remembered> {
        self.require_step_up(session)?;
        let rule = self.enabled_rule(subject).await?;
        let period = rule
            .remember_device
            .ok_or(Error::PolicyForbids(PolicyProblem::RememberNotAllowed))?;
        let now = self.clock.now();
        let token = DeviceToken::generate()?;
        let id = CredentialId::generate()?;
        let name = device::name_from_user_agent(user_agent);
        let expires_at = now.plus(period);
        self.store
            .put_device(RememberedDevice {
                id: id.clone(),
                subject: subject.id.clone(),
                token_hash: device::hash(&self.config.pepper, &subject.id, token.expose()),
                name: name.clone(),
                created_at: now,
                expires_at,
                last_used_at: None,
            })
            .await?;
        self.audit_self(
            &subject.id,
            AuditAction::DeviceRemembered,
            None,
            Some(name.clone()),
        )
        .await?;
        Ok(Remembered {
            token,
            id,
            name,
            expires_at,
        })
    }

    /// Whether `token` (from the browser's cookie) is a remembered device
    /// of `subject` that still counts: not expired, not revoked, remembered
    /// less than the policy's *current* period ago, and remembering still
    /// allowed. Marks it as used.
    ///
    /// # Errors
    /// Store errors.
    pub async fn check_device(&self, subject: &Subject, token: &str) -> Result<bool> {
        let rule = self.policy().await?.effective(&subject.roles);
        let Some(period) = rule.remember_device else {
            return Ok(false);
        };
        if rule.requirement == Requirement::Disabled || token.len() > 128 {
            return Ok(false);
        }
        let now = self.clock.now();
        let hash = device::hash(&self.config.pepper, &subject.id, token);
        Ok(self
            .store
            .touch_device(&subject.id, &hash, now)
            .await?
            .is_some_and(|d| d.created_at.plus(period) > now))
    }

    /// The subject's remembered devices, newest first.
    ///
    /// # Errors
    /// Store errors.
    pub async fn devices(&self, subject: &Subject) -> Result<Vec<DeviceInfo>> {
        Ok(self
            .store
            .list_devices(&subject.id, self.clock.now())
            .await?
            .into_iter()
            .map(DeviceInfo::from)
            .collect())
    }

    /// Forgets one remembered device. Needs a recent verification.
    ///
    /// # Errors
    /// [`Error::StepUpRequired`], [`Error::NotFound`]; store errors.
    pub async fn revoke_device(
        &self,
        subject: &Subject,
        id: &CredentialId,
        session: &SessionState,
    ) -> Result<()> {
        self.require_step_up(session)?;
        if !self.store.revoke_device(&subject.id, id).await? {
            return Err(Error::NotFound("device"));
        }
        self.audit_self(
            &subject.id,
            AuditAction::DeviceRevoked,
            None,
            Some(id.to_string()),
        )
        .await
    }

    /// Forgets every remembered device of the subject; returns how many.
    /// Needs a recent verification.
    ///
    /// # Errors
    /// [`Error::StepUpRequired`]; store errors.
    pub async fn revoke_all_devices(
        &self,
        subject: &Subject,
        session: &SessionState,
    ) -> Result<u64> {
        self.require_step_up(session)?;
        let removed = self.store.revoke_all_devices(&subject.id).await?;
        self.audit_self(
            &subject.id,
            AuditAction::DeviceRevoked,
            None,
            Some(format!("all ({removed})")),
        )
        .await?;
        Ok(removed)
    }

    /// For the host application, when the subject's password changed (or
    /// they asked to be signed out everywhere): forgets every remembered
    /// browser, so each asks for the second step again. No step-up — the
    /// host application has made its own checks. Returns how many were
    /// forgotten.
    ///
    /// # Errors
    /// Store errors.
    pub async fn password_changed(&self, subject: &Subject) -> Result<u64> {
        let removed = self.store.revoke_all_devices(&subject.id).await?;
        self.audit(
            &subject.id,
            crate::audit::Actor::System,
            AuditAction::DeviceRevoked,
            None,
            Some(format!("all ({removed}): the password changed")),
        )
        .await?;
        Ok(removed)
    }

    /// Turns MFA off for the subject: removes every factor, recovery code
    /// and remembered device. Needs a recent verification; refused when
    /// the policy requires MFA.
    ///
    /// # Errors
    /// [`Error::StepUpRequired`], [`Error::PolicyForbids`]; store errors.
    pub async fn disable(&self, subject: &Subject, session: &SessionState) -> Result<()> {
        self.require_step_up(session)?;
        let rule = self.policy().await?.effective(&subject.roles);
        if matches!(rule.requirement, Requirement::Required { .. }) {
            return Err(Error::PolicyForbids(PolicyProblem::MfaRequired));
        }
        let removed = self.store.reset_subject(&subject.id).await?;
        self.audit_self(
            &subject.id,
            AuditAction::MfaDisabled,
            None,
            Some(removed.to_string()),
        )
        .await?;
        self.notice(subject, NoticeKind::MfaDisabled).await
    }
}
