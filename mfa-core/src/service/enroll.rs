//! Authenticator apps: enroll, confirm, remove.

use core::fmt;

use zeroize::Zeroizing;

use super::verify::Refusal;
use super::{DriftTolerance, Mfa, RecoveryCodes};
use crate::audit::AuditAction;
use crate::clock::{Clock, Timestamp};
use crate::error::{Error, InputProblem, PolicyProblem, PreconditionProblem, Result};
use crate::notify::{NoticeKind, Notifier};
use crate::otp::{Code, Totp, TotpConfig, Verdict};
use crate::policy::{self, SessionState};
use crate::secret::Secret;
use crate::store::{Activation, FactorRef, PendingTotp, Store, TotpCredential};
use crate::subject::{CredentialId, FactorKind, Subject};
use crate::uri::KeyUri;

/// Longest authenticator name, in characters.
pub const MAX_NAME_CHARS: usize = 64;

/// A started authenticator-app enrollment: what the page shows. The key,
/// URI and QR code carry the secret; they are zeroized on drop and never
/// printed by `Debug`.
pub struct TotpEnrollment {
    /// Pass back to [`Mfa::confirm_totp_enrollment`].
    pub id: CredentialId,
    /// The key grouped for typing (`ABCD EFGH …`).
    pub key: Zeroizing<String>,
    /// The `otpauth://` URI (for a link on mobile).
    pub uri: Zeroizing<String>,
    /// The QR code of the URI, as an SVG document.
    pub qr_svg: Zeroizing<String>,
    /// Algorithm, digits, period (for "can't scan?" instructions).
    pub config: TotpConfig,
    /// When the enrollment stops being confirmable.
    pub expires_at: Timestamp,
}

impl fmt::Debug for TotpEnrollment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TotpEnrollment")
            .field("id", &self.id)
            .field("key", &"<redacted>")
            .field("uri", &"<redacted>")
            .field("qr_svg", &"<redacted>")
            .field("config", &self.config)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// An active authenticator as listed on the profile page.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct AuthenticatorInfo {
    /// Its id (for removal).
    pub id: CredentialId,
    /// The name the person gave it.
    pub name: String,
    /// When it was added.
    pub created_at: Timestamp,
    /// When it last verified a code.
    pub last_used_at: Option<Timestamp>,
}

impl From<&TotpCredential> for AuthenticatorInfo {
    fn from(credential: &TotpCredential) -> Self {
        Self {
            id: credential.id.clone(),
            name: credential.name.clone(),
            created_at: credential.created_at,
            last_used_at: credential.last_used_at,
        }
    }
}

/// The outcome of confirming an enrollment (authenticator app, e-mail or
/// SMS).
#[derive(Debug)]
#[must_use]
pub enum Confirmation {
    /// The factor is active.
    Enrolled {
        /// The new authenticator (for authenticator apps).
        authenticator: Option<AuthenticatorInfo>,
        /// The first recovery codes, if the subject had none: show them
        /// once.
        recovery_codes: Option<RecoveryCodes>,
    },
    /// The code was wrong; the enrollment can be retried.
    Rejected,
    /// Too many wrong codes: try again after `until`.
    Locked {
        /// End of the lock.
        until: Timestamp,
    },
    /// Too many consecutive wrong codes: this kind of factor is blocked
    /// (see [`Verification::Blocked`](super::Verification::Blocked)).
    Blocked,
}

impl From<Refusal> for Confirmation {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Locked(until) => Self::Locked { until },
            Refusal::Blocked => Self::Blocked,
        }
    }
}

/// Validates a name a person gave a factor.
pub(super) fn clean_name(name: &str) -> Result<String> {
    let name = name.trim();
    let chars = name.chars().count();
    if chars == 0 || chars > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(Error::InvalidInput(InputProblem::Name));
    }
    Ok(name.to_owned())
}

impl<S: Store, N: Notifier, C: Clock> Mfa<S, N, C> {
    /// Starts enrolling an authenticator app: a new secret, sealed and
    /// stored as pending for 10 minutes (replacing any earlier pending
    /// enrollment of the subject), and everything to show: QR code, URI
    /// and typed key.
    ///
    /// # Errors
    /// * [`Error::PolicyForbids`] if MFA is disabled for the subject or
    ///   authenticator apps are not allowed.
    /// * [`Error::StepUpRequired`] if the subject already has a factor and
    ///   `session` has not verified recently (so a hijacked session cannot
    ///   quietly add the attacker's phone).
    /// * [`Error::Precondition`] with `TooManyAuthenticators`.
    /// * [`Error::InvalidUri`] if the subject's e-mail or id cannot be an
    ///   account name; store and randomness errors.
    pub async fn start_totp_enrollment(
        &self,
        subject: &Subject,
        session: &SessionState,
    ) -> Result<TotpEnrollment> {
        let rule = self.enabled_rule(subject).await?;
        if !rule.methods.app {
            return Err(Error::PolicyForbids(PolicyProblem::MethodNotAllowed(
                FactorKind::Totp,
            )));
        }
        let factors = self.factors(subject).await?;
        if !policy::usable_factors(&rule.methods, subject, &factors).is_empty() {
            self.require_step_up(session)?;
        }
        if factors.authenticators >= self.config.max_authenticators {
            return Err(Error::Precondition(
                PreconditionProblem::TooManyAuthenticators,
            ));
        }
        let now = self.clock.now();
        let secret = Secret::generate()?;
        let id = CredentialId::generate()?;
        let config = self.config.totp;
        let uri = KeyUri::totp(
            secret.clone(),
            Some(&self.config.issuer),
            subject.account_label(),
            &config,
        )?;
        let qr_svg = uri.qr_svg()?;
        let expires_at = now.plus(self.config.pending_ttl);
        self.store
            .put_pending_totp(PendingTotp {
                id: id.clone(),
                subject: subject.id.clone(),
                sealed_secret: self.config.sealer.seal(&secret, &subject.id, &id)?,
                config,
                created_at: now,
                expires_at,
            })
            .await?;
        self.audit_self(
            &subject.id,
            AuditAction::EnrollmentStarted,
            Some(FactorKind::Totp),
            None,
        )
        .await?;
        Ok(TotpEnrollment {
            id,
            key: secret.to_base32_grouped(),
            uri: uri.to_uri(),
            qr_svg,
            config,
            expires_at,
        })
    }

    /// Confirms a pending enrollment with the first code the app shows,
    /// naming the authenticator. With [`DriftTolerance::Wide`], the code
    /// may come from up to 10 steps (5 minutes) either side, once, for
    /// phones whose clock is off; the drift is remembered for later
    /// verifications.
    ///
    /// The confirming step is consumed: the same code does not also sign
    /// in. Wrong codes count towards the subject's TOTP throttle.
    ///
    /// # Errors
    /// * [`Error::NotFound`] if the enrollment does not exist or expired
    ///   (start again).
    /// * [`Error::PolicyForbids`] if MFA or authenticator apps were
    ///   disabled since the enrollment started.
    /// * [`Error::InvalidCode`] for malformed input, [`Error::InvalidInput`]
    ///   for a bad name; store and sealing errors.
    pub async fn confirm_totp_enrollment(
        &self,
        subject: &Subject,
        id: &CredentialId,
        code: &str,
        name: &str,
        tolerance: DriftTolerance,
    ) -> Result<Confirmation> {
        let name = clean_name(name)?;
        // The policy may have changed since the enrollment started.
        let rule = self.enabled_rule(subject).await?;
        if !rule.methods.app {
            return Err(Error::PolicyForbids(PolicyProblem::MethodNotAllowed(
                FactorKind::Totp,
            )));
        }
        let now = self.clock.now();
        let pending =
            self.store
                .pending_totp(&subject.id, id, now)
                .await?
                .ok_or(Error::NotFound(
                    "enrollment (it may have expired; start again)",
                ))?;
        // Malformed input is refused before anything is charged.
        let code = Code::parse(code, pending.config.digits())?;
        let charged = match self.charge(&subject.id, FactorKind::Totp).await? {
            Ok(charged) => charged,
            Err(refusal) => return Ok(refusal.into()),
        };
        let secret = self
            .config
            .sealer
            .open(&pending.sealed_secret, &subject.id, id);
        let secret = self.refund_on_error(&subject.id, &charged, secret).await?;
        let totp = Totp::new(&secret, &pending.config);
        let window = tolerance.window(&self.config);
        let Verdict::Match { step, offset } = totp.verify(&code, now.unix(), window, None) else {
            return Ok(match self.settle_wrong(subject, &charged).await? {
                Some(refusal) => refusal.into(),
                None => Confirmation::Rejected,
            });
        };
        let activated = self
            .store
            .activate_totp(
                &subject.id,
                id,
                Activation {
                    name: name.clone(),
                    accepted_step: step,
                    drift: offset,
                    at: now,
                },
            )
            .await;
        let activated = self
            .refund_on_error(&subject.id, &charged, activated)
            .await?;
        let Some(activated) = activated else {
            // Confirmed concurrently, expired or dropped meanwhile: nothing
            // was guessed.
            self.settle_nothing(&subject.id, &charged).await?;
            return Err(Error::NotFound(
                "enrollment (it may have expired; start again)",
            ));
        };
        self.settle_right(&subject.id, &charged).await?;
        self.audit_self(
            &subject.id,
            AuditAction::AuthenticatorAdded,
            Some(FactorKind::Totp),
            Some(name),
        )
        .await?;
        let recovery_codes = self.first_recovery_codes(&subject.id).await?;
        self.notice(subject, NoticeKind::AuthenticatorAdded).await?;
        Ok(Confirmation::Enrolled {
            authenticator: Some(AuthenticatorInfo::from(&activated)),
            recovery_codes,
        })
    }

    /// Renames an authenticator app ("Work phone"). Not a sensitive change:
    /// no step-up (the HTTP layer only lets a verified session call it).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a bad name; [`Error::NotFound`]; store
    /// errors.
    pub async fn rename_authenticator(
        &self,
        subject: &Subject,
        id: &CredentialId,
        name: &str,
    ) -> Result<AuthenticatorInfo> {
        let name = clean_name(name)?;
        if !self.store.rename_totp(&subject.id, id, &name).await? {
            return Err(Error::NotFound("authenticator"));
        }
        self.audit_self(
            &subject.id,
            AuditAction::AuthenticatorRenamed,
            Some(FactorKind::Totp),
            Some(format!("{id}: {name}")),
        )
        .await?;
        self.store
            .list_totp(&subject.id)
            .await?
            .iter()
            .find(|c| &c.id == id)
            .map(AuthenticatorInfo::from)
            .ok_or(Error::NotFound("authenticator"))
    }

    /// Removes an authenticator app. Needs a recent verification; refused
    /// if it is the last factor and MFA is required. When no factor is
    /// left, the recovery codes and remembered devices go too.
    ///
    /// # Errors
    /// [`Error::StepUpRequired`], [`Error::PolicyForbids`] (`MfaRequired`),
    /// [`Error::NotFound`]; store errors.
    pub async fn remove_authenticator(
        &self,
        subject: &Subject,
        id: &CredentialId,
        session: &SessionState,
    ) -> Result<()> {
        self.require_step_up(session)?;
        self.remove_factor_checked(subject, FactorRef::Authenticator(id.clone()))
            .await?;
        self.audit_self(
            &subject.id,
            AuditAction::AuthenticatorRemoved,
            Some(FactorKind::Totp),
            Some(id.to_string()),
        )
        .await?;
        self.cleanup_if_no_factor(&subject.id).await?;
        self.notice(subject, NoticeKind::AuthenticatorRemoved).await
    }
}
