//! [`Hooked`]: a store wrapped with something that runs before each of
//! its calls — a yield to the scheduler, as a database round trip would;
//! an outage switch — for tests of what the service does around the store.

use core::future::Future;

use crate::audit::{AuditEvent, AuditQuery, NewAuditEvent};
use crate::clock::Timestamp;
use crate::error::Result;
use crate::pepper::CodeHash;
use crate::policy::{GraceRecord, Policy};
use crate::seal::Sealed;
use crate::store::{
    Activation, ChannelAdded, ChannelFactor, FactorRef, IssueOutcome, PendingTotp,
    RememberedDevice, Removal, ReplaceCodes, ResetSummary, SealedEntry, SendLimits, SentCode,
    SentCodeAttempt, Settlement, Store, TotpContext, TotpCredential, Usable,
};
use crate::subject::{Channel, CredentialId, FactorKind, SubjectId};
use crate::throttle::{Charge, ThrottleRule, ThrottleState};

/// What a [`Hooked`] store does before each call.
pub trait Hook: Send + Sync + 'static {
    /// Runs before every call of the wrapped store. An error is that
    /// call's answer, and the wrapped store is not called.
    fn before(&self) -> impl Future<Output = Result<()>> + Send;
}

/// A store that runs its [`Hook`] before every call, then makes the call
/// on the store it wraps (whose atomicity is unchanged).
#[derive(Debug, Clone, Default)]
pub struct Hooked<S, H> {
    /// The wrapped store.
    pub store: S,
    /// What runs before each call.
    pub hook: H,
}

impl<S: Store, H: Hook> Store for Hooked<S, H> {
    async fn put_pending_totp(&self, pending: PendingTotp) -> Result<()> {
        self.hook.before().await?;
        self.store.put_pending_totp(pending).await
    }

    async fn pending_totp(
        &self,
        subject: &SubjectId,
        id: &CredentialId,
        now: Timestamp,
    ) -> Result<Option<PendingTotp>> {
        self.hook.before().await?;
        self.store.pending_totp(subject, id, now).await
    }

    async fn activate_totp(
        &self,
        subject: &SubjectId,
        id: &CredentialId,
        activation: Activation,
    ) -> Result<Option<TotpCredential>> {
        self.hook.before().await?;
        self.store.activate_totp(subject, id, activation).await
    }

    async fn list_totp(&self, subject: &SubjectId) -> Result<Vec<TotpCredential>> {
        self.hook.before().await?;
        self.store.list_totp(subject).await
    }

    async fn rename_totp(
        &self,
        subject: &SubjectId,
        id: &CredentialId,
        name: &str,
    ) -> Result<bool> {
        self.hook.before().await?;
        self.store.rename_totp(subject, id, name).await
    }

    async fn consume_totp_step(
        &self,
        subject: &SubjectId,
        id: &CredentialId,
        step: u64,
        drift: i16,
        now: Timestamp,
    ) -> Result<bool> {
        self.hook.before().await?;
        self.store
            .consume_totp_step(subject, id, step, drift, now)
            .await
    }

    async fn remove_factor(
        &self,
        subject: &SubjectId,
        factor: &FactorRef,
        keep: Option<Usable>,
    ) -> Result<Removal> {
        self.hook.before().await?;
        self.store.remove_factor(subject, factor, keep).await
    }

    async fn replace_recovery_codes(
        &self,
        subject: &SubjectId,
        hashes: Vec<CodeHash>,
        mode: ReplaceCodes,
        now: Timestamp,
    ) -> Result<bool> {
        self.hook.before().await?;
        self.store
            .replace_recovery_codes(subject, hashes, mode, now)
            .await
    }

    async fn consume_recovery_code(
        &self,
        subject: &SubjectId,
        hash: &CodeHash,
        now: Timestamp,
    ) -> Result<bool> {
        self.hook.before().await?;
        self.store.consume_recovery_code(subject, hash, now).await
    }

    async fn recovery_codes_left(&self, subject: &SubjectId) -> Result<u32> {
        self.hook.before().await?;
        self.store.recovery_codes_left(subject).await
    }

    async fn add_channel(
        &self,
        subject: &SubjectId,
        factor: ChannelFactor,
    ) -> Result<ChannelAdded> {
        self.hook.before().await?;
        self.store.add_channel(subject, factor).await
    }

    async fn list_channels(&self, subject: &SubjectId) -> Result<Vec<ChannelFactor>> {
        self.hook.before().await?;
        self.store.list_channels(subject).await
    }

    async fn issue_sent_code(&self, code: SentCode, limits: SendLimits) -> Result<IssueOutcome> {
        self.hook.before().await?;
        self.store.issue_sent_code(code, limits).await
    }

    async fn withdraw_sent_code(&self, code: &SentCode) -> Result<()> {
        self.hook.before().await?;
        self.store.withdraw_sent_code(code).await
    }

    async fn attempt_sent_code(
        &self,
        subject: &SubjectId,
        channel: Channel,
        hash: &CodeHash,
        max_tries: u32,
        now: Timestamp,
    ) -> Result<SentCodeAttempt> {
        self.hook.before().await?;
        self.store
            .attempt_sent_code(subject, channel, hash, max_tries, now)
            .await
    }

    async fn throttle_state(&self, subject: &SubjectId, kind: FactorKind) -> Result<ThrottleState> {
        self.hook.before().await?;
        self.store.throttle_state(subject, kind).await
    }

    async fn charge_attempt(
        &self,
        subject: &SubjectId,
        kind: FactorKind,
        rule: ThrottleRule,
        now: Timestamp,
    ) -> Result<Charge> {
        self.hook.before().await?;
        self.store.charge_attempt(subject, kind, rule, now).await
    }

    async fn settle_attempt(
        &self,
        subject: &SubjectId,
        kind: FactorKind,
        rule: ThrottleRule,
        settlement: Settlement,
    ) -> Result<()> {
        self.hook.before().await?;
        self.store
            .settle_attempt(subject, kind, rule, settlement)
            .await
    }

    async fn begin_totp_attempt(
        &self,
        subject: &SubjectId,
        rule: ThrottleRule,
        now: Timestamp,
    ) -> Result<TotpContext> {
        self.hook.before().await?;
        self.store.begin_totp_attempt(subject, rule, now).await
    }

    async fn accept_totp_step(
        &self,
        subject: &SubjectId,
        id: &CredentialId,
        step: u64,
        drift: i16,
        rule: ThrottleRule,
        now: Timestamp,
        audit: NewAuditEvent,
    ) -> Result<bool> {
        self.hook.before().await?;
        self.store
            .accept_totp_step(subject, id, step, drift, rule, now, audit)
            .await
    }

    async fn put_device(&self, device: RememberedDevice) -> Result<()> {
        self.hook.before().await?;
        self.store.put_device(device).await
    }

    async fn touch_device(
        &self,
        subject: &SubjectId,
        token_hash: &CodeHash,
        now: Timestamp,
    ) -> Result<Option<RememberedDevice>> {
        self.hook.before().await?;
        self.store.touch_device(subject, token_hash, now).await
    }

    async fn list_devices(
        &self,
        subject: &SubjectId,
        now: Timestamp,
    ) -> Result<Vec<RememberedDevice>> {
        self.hook.before().await?;
        self.store.list_devices(subject, now).await
    }

    async fn revoke_device(&self, subject: &SubjectId, id: &CredentialId) -> Result<bool> {
        self.hook.before().await?;
        self.store.revoke_device(subject, id).await
    }

    async fn revoke_all_devices(&self, subject: &SubjectId) -> Result<u64> {
        self.hook.before().await?;
        self.store.revoke_all_devices(subject).await
    }

    async fn load_policy(&self) -> Result<Option<Policy>> {
        self.hook.before().await?;
        self.store.load_policy().await
    }

    async fn save_policy(&self, policy: &Policy) -> Result<()> {
        self.hook.before().await?;
        self.store.save_policy(policy).await
    }

    async fn grace(&self, subject: &SubjectId) -> Result<Option<GraceRecord>> {
        self.hook.before().await?;
        self.store.grace(subject).await
    }

    async fn fix_grace(&self, subject: &SubjectId, record: GraceRecord) -> Result<GraceRecord> {
        self.hook.before().await?;
        self.store.fix_grace(subject, record).await
    }

    async fn clear_grace(&self, subject: &SubjectId) -> Result<()> {
        self.hook.before().await?;
        self.store.clear_grace(subject).await
    }

    async fn reset_subject(&self, subject: &SubjectId) -> Result<ResetSummary> {
        self.hook.before().await?;
        self.store.reset_subject(subject).await
    }

    async fn append_audit(&self, event: NewAuditEvent) -> Result<()> {
        self.hook.before().await?;
        self.store.append_audit(event).await
    }

    async fn list_audit(&self, query: &AuditQuery) -> Result<Vec<AuditEvent>> {
        self.hook.before().await?;
        self.store.list_audit(query).await
    }

    async fn sealed_secrets(
        &self,
        after: Option<&CredentialId>,
        limit: u32,
    ) -> Result<Vec<SealedEntry>> {
        self.hook.before().await?;
        self.store.sealed_secrets(after, limit).await
    }

    async fn replace_sealed(
        &self,
        id: &CredentialId,
        expected: &Sealed,
        new: &Sealed,
    ) -> Result<bool> {
        self.hook.before().await?;
        self.store.replace_sealed(id, expected, new).await
    }
}
