//! The administrator's side: policy, resets, audit, dry runs, key rotation.

use super::Mfa;
use crate::audit::{Actor, AuditAction, AuditEvent, AuditQuery, NewAuditEvent};
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::notify::{NoticeKind, Notifier};
use crate::policy::{self, DryRunReport, DryRunSubject, Policy};
use crate::store::{ResetSummary, Store};
use crate::subject::{CredentialId, FactorKind, Subject, SubjectId};

/// What a re-seal pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ResealReport {
    /// Sealed secrets looked at.
    pub examined: u64,
    /// Re-sealed under the current key.
    pub resealed: u64,
    /// Changed concurrently (removed or re-sealed by another instance);
    /// left alone.
    pub skipped: u64,
    /// Secrets that no configured key opens — sealed under a key that is
    /// no longer configured, or corrupt — by credential id (authenticator
    /// or pending enrollment), in the order met. They are left as they
    /// are, and each is also recorded as an
    /// [`AuditAction::SecretUnreadable`] event naming its subject and
    /// credential. Until someone acts on them (put the old key back and
    /// run the pass again, or reset the subjects), the authenticators
    /// cannot be used to sign in.
    pub unreadable: Vec<CredentialId>,
}

impl<S: Store, N: Notifier, C: Clock> Mfa<S, N, C> {
    /// Replaces the policy (Configuration → Security). The candidate is
    /// validated and stamped (see [`Policy::prepare_update`]: enforcement
    /// and grace changes are dated, so deadlines are recomputed), stored,
    /// and audited with the administrator's id. Returns what was stored.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an invalid
    /// policy; store errors.
    pub async fn update_policy(&self, admin: &SubjectId, candidate: Policy) -> Result<Policy> {
        let now = self.clock.now();
        let stored = self.policy().await?.prepare_update(candidate, now)?;
        self.store.save_policy(&stored).await?;
        self.store
            .append_audit(NewAuditEvent {
                at: now,
                subject: None,
                actor: Actor::Admin(admin.clone()),
                action: AuditAction::PolicyUpdated,
                factor: None,
                detail: None,
            })
            .await?;
        Ok(stored)
    }

    /// What enforcing `candidate` would do to `subjects`: how many are
    /// already compliant, unaffected, forced to enroll at their next
    /// sign-in, or given a deadline (and which). Nothing is stored.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an invalid
    /// policy; store errors.
    pub async fn dry_run(&self, candidate: Policy, subjects: &[Subject]) -> Result<DryRunReport> {
        let now = self.clock.now();
        let prepared = self.policy().await?.prepare_update(candidate, now)?;
        let mut entries = Vec::with_capacity(subjects.len());
        for subject in subjects {
            entries.push(DryRunSubject {
                subject,
                factors: self.factors(subject).await?,
                grace: self.store.grace(&subject.id).await?,
            });
        }
        Ok(policy::dry_run(&prepared, entries, now))
    }

    /// Resets a subject's MFA (lost phone, locked out): removes their
    /// authenticators, pending enrollments, recovery codes, channels,
    /// remembered devices, sent codes and failure counters. Audited with
    /// the administrator's id; the subject is notified.
    ///
    /// # Errors
    /// Store errors.
    pub async fn reset(&self, admin: &SubjectId, subject: &Subject) -> Result<ResetSummary> {
        let removed = self.store.reset_subject(&subject.id).await?;
        self.audit(
            &subject.id,
            Actor::Admin(admin.clone()),
            AuditAction::MfaReset,
            None,
            Some(removed.to_string()),
        )
        .await?;
        self.notice(subject, NoticeKind::MfaResetByAdmin).await?;
        Ok(removed)
    }

    /// A page of the audit trail, newest first.
    ///
    /// # Errors
    /// Store errors.
    pub async fn audit_events(&self, query: &AuditQuery) -> Result<Vec<AuditEvent>> {
        let query = AuditQuery {
            limit: query.limit.clamp(1, AuditQuery::MAX_LIMIT),
            ..query.clone()
        };
        self.store.list_audit(&query).await
    }

    /// Re-seals every stored secret that is not under the current sealing
    /// key (after adding a new key), page by page; safe to run from
    /// several instances at once (each replacement is compare-and-set).
    ///
    /// A secret that no configured key opens ([`Error::UnknownSealingKey`]:
    /// its key was removed too early; [`Error::SealedCorrupt`]: altered or
    /// opened with a different key under the same id) does not stop the
    /// pass: it is left as it is, listed in
    /// [`ResealReport::unreadable`] and audited as
    /// [`AuditAction::SecretUnreadable`] (subject and credential id only),
    /// and the pass goes on. Once a pass reports nothing left to re-seal
    /// and nothing unreadable, old keys can be removed. The pass itself is
    /// audited as [`AuditAction::SecretsResealed`] with its counts.
    ///
    /// # Errors
    /// Store errors; [`Error::Rng`] or [`Error::SealingFailed`] if sealing
    /// under the current key fails.
    pub async fn reseal_all(&self) -> Result<ResealReport> {
        const PAGE: u32 = 200;
        let sealer = &self.config.sealer;
        let mut report = ResealReport::default();
        let mut after = None;
        loop {
            let page = self.store.sealed_secrets(after.as_ref(), PAGE).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.credential.clone());
            for entry in &page {
                report.examined += 1;
                if sealer.is_current(&entry.sealed) {
                    continue;
                }
                let secret = match sealer.open(&entry.sealed, &entry.subject, &entry.credential) {
                    Ok(secret) => secret,
                    Err(Error::UnknownSealingKey(_) | Error::SealedCorrupt) => {
                        self.audit(
                            &entry.subject,
                            Actor::System,
                            AuditAction::SecretUnreadable,
                            Some(FactorKind::Totp),
                            Some(entry.credential.to_string()),
                        )
                        .await?;
                        report.unreadable.push(entry.credential.clone());
                        continue;
                    }
                    Err(other) => return Err(other),
                };
                let resealed = sealer.seal(&secret, &entry.subject, &entry.credential)?;
                if self
                    .store
                    .replace_sealed(&entry.credential, &entry.sealed, &resealed)
                    .await?
                {
                    report.resealed += 1;
                } else {
                    report.skipped += 1;
                }
            }
            if page.len() < PAGE as usize {
                break;
            }
        }
        self.store
            .append_audit(NewAuditEvent {
                at: self.clock.now(),
                subject: None,
                actor: Actor::System,
                action: AuditAction::SecretsResealed,
                factor: None,
                detail: Some(format!(
                    "{} examined, {} re-sealed, {} skipped, {} unreadable",
                    report.examined,
                    report.resealed,
                    report.skipped,
                    report.unreadable.len()
                )),
            })
            .await?;
        Ok(report)
    }
}
