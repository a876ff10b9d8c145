//! The audit trail: what happened to whose MFA, and who did it.

use core::fmt;

use crate::clock::Timestamp;
use crate::error::{Error, InputProblem, Result};
use crate::subject::{FactorKind, SubjectId};

/// Who caused an event.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(tag = "kind", content = "id", rename_all = "snake_case")
)]
pub enum Actor {
    /// The subject themself.
    Subject(SubjectId),
    /// An administrator, by their subject id.
    Admin(SubjectId),
    /// The service (e.g. key rotation).
    System,
}

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum AuditAction {
    /// An authenticator-app enrollment was started.
    EnrollmentStarted,
    /// An authenticator app was added.
    AuthenticatorAdded,
    /// An authenticator app was removed.
    AuthenticatorRemoved,
    /// An authenticator app was renamed.
    AuthenticatorRenamed,
    /// E-mail or SMS was registered as a factor.
    ChannelAdded,
    /// E-mail or SMS was removed as a factor.
    ChannelRemoved,
    /// A verification succeeded.
    VerifySucceeded,
    /// A verification failed (wrong code or replay).
    VerifyFailed,
    /// A verification was refused because the factor is locked.
    VerifyWhileLocked,
    /// Too many failures locked a factor.
    LockedOut,
    /// A recovery code was used.
    RecoveryCodeUsed,
    /// A new set of recovery codes replaced the old one.
    RecoveryCodesGenerated,
    /// A one-time code was sent by e-mail or SMS.
    CodeSent,
    /// A browser was remembered.
    DeviceRemembered,
    /// A remembered browser was revoked.
    DeviceRevoked,
    /// The subject turned MFA off.
    MfaDisabled,
    /// An administrator reset the subject's MFA.
    MfaReset,
    /// An administrator changed the policy.
    PolicyUpdated,
    /// Secrets were re-sealed under the current key.
    SecretsResealed,
    /// A sealed secret could not be opened with any configured sealing key
    /// (its key was removed, or it is corrupt); the detail names the
    /// credential, never the ciphertext.
    SecretUnreadable,
    /// A security notice could not be delivered.
    NoticeFailed,
    /// A factor kind was blocked after too many consecutive failures.
    FactorBlocked,
}

impl AuditAction {
    /// Every action.
    pub const ALL: [Self; 22] = [
        Self::EnrollmentStarted,
        Self::AuthenticatorAdded,
        Self::AuthenticatorRemoved,
        Self::AuthenticatorRenamed,
        Self::ChannelAdded,
        Self::ChannelRemoved,
        Self::VerifySucceeded,
        Self::VerifyFailed,
        Self::VerifyWhileLocked,
        Self::LockedOut,
        Self::RecoveryCodeUsed,
        Self::RecoveryCodesGenerated,
        Self::CodeSent,
        Self::DeviceRemembered,
        Self::DeviceRevoked,
        Self::MfaDisabled,
        Self::MfaReset,
        Self::PolicyUpdated,
        Self::SecretsResealed,
        Self::NoticeFailed,
        Self::FactorBlocked,
        Self::SecretUnreadable,
    ];

    /// A stable snake_case name, for storage.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EnrollmentStarted => "enrollment_started",
            Self::AuthenticatorAdded => "authenticator_added",
            Self::AuthenticatorRemoved => "authenticator_removed",
            Self::AuthenticatorRenamed => "authenticator_renamed",
            Self::ChannelAdded => "channel_added",
            Self::ChannelRemoved => "channel_removed",
            Self::VerifySucceeded => "verify_succeeded",
            Self::VerifyFailed => "verify_failed",
            Self::VerifyWhileLocked => "verify_while_locked",
            Self::LockedOut => "locked_out",
            Self::RecoveryCodeUsed => "recovery_code_used",
            Self::RecoveryCodesGenerated => "recovery_codes_generated",
            Self::CodeSent => "code_sent",
            Self::DeviceRemembered => "device_remembered",
            Self::DeviceRevoked => "device_revoked",
            Self::MfaDisabled => "mfa_disabled",
            Self::MfaReset => "mfa_reset",
            Self::PolicyUpdated => "policy_updated",
            Self::SecretsResealed => "secrets_resealed",
            Self::SecretUnreadable => "secret_unreadable",
            Self::NoticeFailed => "notice_failed",
            Self::FactorBlocked => "factor_blocked",
        }
    }

    /// Parses [`as_str`](Self::as_str).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an unknown name.
    pub fn parse(text: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str() == text)
            .ok_or(Error::InvalidInput(InputProblem::AuditAction))
    }
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An event to record. Never contains a secret, code or token.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct NewAuditEvent {
    /// When.
    pub at: Timestamp,
    /// Whose MFA it concerns (none for policy changes).
    pub subject: Option<SubjectId>,
    /// Who did it.
    pub actor: Actor,
    /// What happened.
    pub action: AuditAction,
    /// Which factor, where it matters.
    pub factor: Option<FactorKind>,
    /// A short free-text detail (an authenticator name, a count…).
    pub detail: Option<String>,
}

/// A recorded event, with the id the store gave it. Ids increase in the
/// order events were appended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct AuditEvent {
    /// Store-assigned, increasing.
    pub id: u64,
    /// The event.
    #[cfg_attr(feature = "serde", serde(flatten))]
    pub event: NewAuditEvent,
}

/// A page of the audit trail, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditQuery {
    /// Only events about this subject; all events if `None`.
    pub subject: Option<SubjectId>,
    /// Only events with an id below this (the `id` of the last event of
    /// the previous page); from the newest if `None`.
    pub before: Option<u64>,
    /// Most events to return (1..=[`AuditQuery::MAX_LIMIT`]).
    pub limit: u32,
}

impl AuditQuery {
    /// Largest page.
    pub const MAX_LIMIT: u32 = 500;

    /// The newest `limit` events (clamped to 1..=500), for everyone.
    #[must_use]
    pub fn latest(limit: u32) -> Self {
        Self {
            subject: None,
            before: None,
            limit: limit.clamp(1, Self::MAX_LIMIT),
        }
    }

    /// The same query for one subject.
    #[must_use]
    pub fn for_subject(mut self, subject: SubjectId) -> Self {
        self.subject = Some(subject);
        self
    }

    /// The page after the one ending at event id `before`.
    #[must_use]
    pub fn before(mut self, before: u64) -> Self {
        self.before = Some(before);
        self
    }
}
