//! [`MemoryStore`]: a complete, thread-safe [`Store`] kept in memory.
//!
//! For tests, demos and small single-process apps: everything is lost when
//! the process ends, and every instance of the app must share the same
//! `MemoryStore` value (clones share state) for the single-use guarantees
//! to hold.

use core::fmt;
use core::ops::Bound;
use core::time::Duration;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use crate::audit::{AuditEvent, AuditQuery, NewAuditEvent};
use crate::clock::Timestamp;
use crate::error::{Error, Result};
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

/// The sliding window of [`SendLimits::max_per_hour`].
const HOUR: Duration = Duration::from_secs(3600);

/// A [`Store`] kept in memory.
///
/// All state sits behind one [`Mutex`], so every operation — including the
/// multi-record ones such as [`activate_totp`](Store::activate_totp) and
/// [`reset_subject`](Store::reset_subject) — is atomic, and the lock is
/// never held across an `.await` (no operation awaits anything). Clones
/// share the same state, so one store can be handed to many tasks.
///
/// Credential ids (authenticators and pending enrollments) are unique
/// across the whole store, as they would be as a database primary key:
/// [`put_pending_totp`](Store::put_pending_totp) with an id that is
/// already used by an authenticator, or by another subject's pending
/// enrollment, fails with [`Error::Store`]. Remembered-device ids are
/// per subject; storing a device with an id the subject already uses
/// replaces that device.
///
/// Nothing here is persisted, and memory grows with the number of
/// subjects, audit events and sends in the last hour.
///
/// # Example
///
/// ```
/// use mfa_core::store::ReplaceCodes;
/// use mfa_core::pepper::CodeHash;
/// use mfa_core::{MemoryStore, Store, SubjectId, Timestamp};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let runtime = tokio::runtime::Builder::new_current_thread().build()?;
/// # runtime.block_on(async {
/// let store = MemoryStore::new();
/// let alice = SubjectId::new("alice")?;
/// let now = Timestamp::from_unix(1_700_000_000);
/// let code = CodeHash::from_bytes([7; 32]); // really: a peppered hash
///
/// store.replace_recovery_codes(&alice, vec![code], ReplaceCodes::Always, now).await?;
/// assert!(store.consume_recovery_code(&alice, &code, now).await?);
/// // Single use: the second try fails.
/// assert!(!store.consume_recovery_code(&alice, &code, now).await?);
/// assert_eq!(store.recovery_codes_left(&alice).await?, 0);
/// # Ok::<(), mfa_core::Error>(())
/// # })?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Default)]
pub struct MemoryStore {
    state: Arc<Mutex<State>>,
}

impl MemoryStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs `f` on the state under the lock.
    ///
    /// A poisoned lock is recovered rather than turned into an error:
    /// every operation below computes what it will write before writing,
    /// and nothing that runs under the lock can panic half-way through a
    /// change (no caller code runs under it, arithmetic saturates), so a
    /// poisoned state is still a consistent one.
    fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut state)
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Counts only: no hashes, secrets or identifiers.
        self.with(|s| {
            f.debug_struct("MemoryStore")
                .field("subjects", &s.subjects.len())
                .field("credentials", &s.credentials.len())
                .field("audit_events", &s.audit.len())
                .finish_non_exhaustive()
        })
    }
}

/// Why the memory store refused an operation.
#[derive(Debug)]
struct Conflict(&'static str);

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for Conflict {}

/// An authenticator or a pending enrollment, keyed by its credential id.
enum Credential {
    Pending(PendingTotp),
    Active(TotpCredential),
}

impl Credential {
    fn subject(&self) -> &SubjectId {
        match self {
            Self::Pending(p) => &p.subject,
            Self::Active(c) => &c.subject,
        }
    }

    fn sealed_mut(&mut self) -> &mut Sealed {
        match self {
            Self::Pending(p) => &mut p.sealed_secret,
            Self::Active(c) => &mut c.sealed_secret,
        }
    }

    fn sealed(&self) -> &Sealed {
        match self {
            Self::Pending(p) => &p.sealed_secret,
            Self::Active(c) => &c.sealed_secret,
        }
    }
}

/// The code currently active on one channel.
struct ActiveCode {
    hash: CodeHash,
    expires_at: Timestamp,
    wrong_tries: u32,
}

/// Sends on one channel: when (for the limits) and the active code.
#[derive(Default)]
struct SendLog {
    /// `issued_at` of each recorded send still inside some sliding hour.
    sends: Vec<Timestamp>,
    active: Option<ActiveCode>,
}

/// Everything kept per subject, except authenticator records.
#[derive(Default)]
struct SubjectState {
    /// Ids of active authenticators (records in [`State::credentials`]).
    authenticators: BTreeSet<CredentialId>,
    /// Id of the pending enrollment (record in [`State::credentials`]).
    pending: Option<CredentialId>,
    /// Unused recovery codes; a used code is deleted.
    recovery: Vec<CodeHash>,
    channels: BTreeMap<Channel, ChannelFactor>,
    sends: BTreeMap<Channel, SendLog>,
    throttle: BTreeMap<FactorKind, ThrottleState>,
    devices: BTreeMap<CredentialId, RememberedDevice>,
    grace: Option<GraceRecord>,
}

#[derive(Default)]
struct State {
    /// Authenticators and pending enrollments, ordered by id (as
    /// [`Store::sealed_secrets`] pages them).
    credentials: BTreeMap<CredentialId, Credential>,
    subjects: HashMap<SubjectId, SubjectState>,
    policy: Option<Policy>,
    /// Ordered by id, ascending.
    audit: Vec<AuditEvent>,
}

impl SubjectState {
    /// Forgets the active sent codes of channels that are not registered
    /// (pending channel enrollments).
    fn drop_unregistered_sent_codes(&mut self) {
        let channels = &self.channels;
        for (channel, log) in &mut self.sends {
            if !channels.contains_key(channel) {
                log.active = None;
            }
        }
    }
}

impl State {
    fn subject_mut(&mut self, subject: &SubjectId) -> &mut SubjectState {
        self.subjects.entry(subject.clone()).or_default()
    }

    fn put_pending_totp(&mut self, pending: PendingTotp) -> Result<()> {
        match self.credentials.get(&pending.id) {
            Some(Credential::Pending(p)) if p.subject == pending.subject => {}
            Some(_) => {
                return Err(Error::Store(Box::new(Conflict(
                    "credential id already used by another authenticator or enrollment",
                ))));
            }
            None => {}
        }
        let subject = self.subjects.entry(pending.subject.clone()).or_default();
        if let Some(old) = subject.pending.replace(pending.id.clone()) {
            self.credentials.remove(&old);
        }
        self.credentials
            .insert(pending.id.clone(), Credential::Pending(pending));
        Ok(())
    }

    fn pending_totp(
        &self,
        subject: &SubjectId,
        id: &CredentialId,
        now: Timestamp,
    ) -> Option<PendingTotp> {
        match self.credentials.get(id) {
            Some(Credential::Pending(p)) if p.subject == *subject && p.expires_at > now => {
                Some(p.clone())
            }
            _ => None,
        }
    }

    fn activate_totp(
        &mut self,
        subject: &SubjectId,
        id: &CredentialId,
        activation: Activation,
    ) -> Option<TotpCredential> {
        let entry = self.credentials.get_mut(id)?;
        let Credential::Pending(pending) = &*entry else {
            return None;
        };
        if pending.subject != *subject || pending.expires_at <= activation.at {
            return None;
        }
        let credential = TotpCredential {
            id: pending.id.clone(),
            subject: pending.subject.clone(),
            name: activation.name,
            sealed_secret: pending.sealed_secret.clone(),
            config: pending.config,
            last_step: Some(activation.accepted_step),
            drift: activation.drift,
            created_at: activation.at,
            last_used_at: Some(activation.at),
        };
        *entry = Credential::Active(credential.clone());
        let state = self.subject_mut(subject);
        state.pending = None;
        state.authenticators.insert(id.clone());
        state.drop_unregistered_sent_codes();
        Some(credential)
    }

    fn list_totp(&self, subject: &SubjectId) -> Vec<TotpCredential> {
        let Some(state) = self.subjects.get(subject) else {
            return Vec::new();
        };
        let mut list: Vec<TotpCredential> = state
            .authenticators
            .iter()
            .filter_map(|id| match self.credentials.get(id) {
                Some(Credential::Active(c)) => Some(c.clone()),
                _ => None,
            })
            .collect();
        list.sort_by(|a, b| {
            a.created_at
                .cmp(&b.created_at)
                .then_with(|| a.id.cmp(&b.id))
        });
        list
    }

    fn consume_totp_step(
        &mut self,
        subject: &SubjectId,
        id: &CredentialId,
        step: u64,
        drift: i16,
        now: Timestamp,
    ) -> bool {
        match self.credentials.get_mut(id) {
            Some(Credential::Active(c))
                if c.subject == *subject && c.last_step.is_none_or(|last| last < step) =>
            {
                c.last_step = Some(step);
                c.drift = drift;
                c.last_used_at = Some(now);
                true
            }
            _ => false,
        }
    }

    fn remove_factor(
        &mut self,
        subject: &SubjectId,
        factor: &FactorRef,
        keep: Option<Usable>,
    ) -> Removal {
        let Some(state) = self.subjects.get(subject) else {
            return Removal::NotFound;
        };
        let exists = match factor {
            FactorRef::Authenticator(id) => state.authenticators.contains(id),
            FactorRef::Channel(channel) => state.channels.contains_key(channel),
        };
        if !exists {
            return Removal::NotFound;
        }
        if let Some(keep) = keep {
            let authenticators_left = match factor {
                FactorRef::Authenticator(_) => state.authenticators.len() - 1,
                FactorRef::Channel(_) => state.authenticators.len(),
            };
            let usable_left = (keep.authenticators && authenticators_left > 0)
                || state.channels.values().any(|c| {
                    *factor != FactorRef::Channel(c.channel)
                        && keep.channel(c.channel) == Some(&c.address_hash)
                });
            if !usable_left {
                return Removal::LastUsable;
            }
        }
        match factor {
            FactorRef::Authenticator(id) => {
                self.credentials.remove(id);
                if let Some(state) = self.subjects.get_mut(subject) {
                    state.authenticators.remove(id);
                }
            }
            FactorRef::Channel(channel) => {
                if let Some(state) = self.subjects.get_mut(subject) {
                    state.channels.remove(channel);
                }
            }
        }
        Removal::Removed
    }

    fn replace_recovery_codes(
        &mut self,
        subject: &SubjectId,
        hashes: Vec<CodeHash>,
        mode: ReplaceCodes,
    ) -> bool {
        let state = self.subject_mut(subject);
        if mode == ReplaceCodes::IfNone && !state.recovery.is_empty() {
            return false;
        }
        // A code listed twice is still one code: it must work only once.
        let mut codes = Vec::with_capacity(hashes.len());
        for hash in hashes {
            if !codes.contains(&hash) {
                codes.push(hash);
            }
        }
        state.recovery = codes;
        true
    }

    fn consume_recovery_code(&mut self, subject: &SubjectId, hash: &CodeHash) -> bool {
        let Some(state) = self.subjects.get_mut(subject) else {
            return false;
        };
        // Compare against every code (constant-time `==` each), then delete.
        let mut found = None;
        for (index, stored) in state.recovery.iter().enumerate() {
            if stored == hash {
                found = Some(index);
            }
        }
        match found {
            Some(index) => {
                state.recovery.swap_remove(index);
                true
            }
            None => false,
        }
    }

    fn recovery_codes_left(&self, subject: &SubjectId) -> u32 {
        self.subjects
            .get(subject)
            .map_or(0, |s| u32::try_from(s.recovery.len()).unwrap_or(u32::MAX))
    }

    fn add_channel(&mut self, subject: &SubjectId, factor: ChannelFactor) -> ChannelAdded {
        let pending = self.subject_mut(subject).pending.take();
        if let Some(id) = pending {
            self.credentials.remove(&id);
        }
        let state = self.subject_mut(subject);
        let channel = factor.channel;
        let outcome = match state.channels.get(&channel) {
            Some(old) if old.address_hash == factor.address_hash => ChannelAdded::Unchanged,
            Some(old) => {
                let previous = old.clone();
                state.channels.insert(channel, factor);
                ChannelAdded::Replaced { previous }
            }
            None => {
                state.channels.insert(channel, factor);
                ChannelAdded::Added
            }
        };
        state.drop_unregistered_sent_codes();
        outcome
    }

    fn list_channels(&self, subject: &SubjectId) -> Vec<ChannelFactor> {
        // `Channel`'s order is e-mail, then SMS.
        self.subjects
            .get(subject)
            .map_or_else(Vec::new, |s| s.channels.values().cloned().collect())
    }

    fn issue_sent_code(&mut self, code: SentCode, limits: SendLimits) -> IssueOutcome {
        let now = code.issued_at;
        let log = self
            .subject_mut(&code.subject)
            .sends
            .entry(code.channel)
            .or_default();
        // The sends in the hour up to `now`: `now - 1 h < t <= now`.
        let in_hour = || {
            log.sends
                .iter()
                .copied()
                .filter(move |t| t.plus(HOUR) > now && *t <= now)
        };
        if let Some(newest) = in_hour().max() {
            let allowed_at = newest.plus(limits.cooldown);
            if allowed_at > now {
                return IssueOutcome::TooSoon {
                    retry_after: allowed_at,
                };
            }
        }
        let count = in_hour().count();
        if count >= usize::try_from(limits.max_per_hour).unwrap_or(usize::MAX) {
            let oldest = in_hour().min().unwrap_or(now);
            return IssueOutcome::TooSoon {
                retry_after: oldest.plus(HOUR),
            };
        }
        // Sends an hour or more before `now` no longer count for this or
        // any later send.
        log.sends.retain(|t| t.plus(HOUR) > now);
        log.sends.push(now);
        log.active = Some(ActiveCode {
            hash: code.hash,
            expires_at: code.expires_at,
            wrong_tries: 0,
        });
        IssueOutcome::Issued
    }

    fn withdraw_sent_code(&mut self, code: &SentCode) {
        let Some(log) = self.subject_mut(&code.subject).sends.get_mut(&code.channel) else {
            return;
        };
        if let Some(at) = log.sends.iter().position(|t| *t == code.issued_at) {
            log.sends.remove(at);
        }
        if log.active.as_ref().is_some_and(|a| a.hash == code.hash) {
            log.active = None;
        }
    }

    fn attempt_sent_code(
        &mut self,
        subject: &SubjectId,
        channel: Channel,
        hash: &CodeHash,
        max_tries: u32,
        now: Timestamp,
    ) -> SentCodeAttempt {
        let Some(log) = self
            .subjects
            .get_mut(subject)
            .and_then(|s| s.sends.get_mut(&channel))
        else {
            return SentCodeAttempt::NoActiveCode;
        };
        let Some(active) = log.active.as_mut() else {
            return SentCodeAttempt::NoActiveCode;
        };
        if active.expires_at <= now || active.wrong_tries >= max_tries {
            return SentCodeAttempt::NoActiveCode;
        }
        if active.hash == *hash {
            log.active = None;
            return SentCodeAttempt::Accepted;
        }
        active.wrong_tries = active.wrong_tries.saturating_add(1);
        SentCodeAttempt::Rejected {
            tries_left: max_tries.saturating_sub(active.wrong_tries),
        }
    }

    fn throttle_state(&self, subject: &SubjectId, kind: FactorKind) -> ThrottleState {
        self.subjects
            .get(subject)
            .and_then(|s| s.throttle.get(&kind))
            .copied()
            .unwrap_or_default()
    }

    fn charge_attempt(
        &mut self,
        subject: &SubjectId,
        kind: FactorKind,
        rule: ThrottleRule,
        now: Timestamp,
    ) -> Charge {
        let state = self.subject_mut(subject).throttle.entry(kind).or_default();
        let (next, charge) = rule.charge(state, now);
        *state = next;
        charge
    }

    fn settle_attempt(
        &mut self,
        subject: &SubjectId,
        kind: FactorKind,
        rule: ThrottleRule,
        settlement: Settlement,
    ) {
        let Some(s) = self.subjects.get_mut(subject) else {
            return;
        };
        if let Some(state) = s.throttle.get_mut(&kind) {
            *state = match settlement {
                Settlement::Succeeded => rule.succeed(state),
                Settlement::Refunded => rule.refund(state),
            };
        }
        if settlement == Settlement::Succeeded {
            s.throttle
                .retain(|k, state| *k == kind || state.failures < rule.max_failures.max(1));
        }
    }

    fn put_device(&mut self, device: RememberedDevice) {
        self.subject_mut(&device.subject)
            .devices
            .insert(device.id.clone(), device);
    }

    fn touch_device(
        &mut self,
        subject: &SubjectId,
        token_hash: &CodeHash,
        now: Timestamp,
    ) -> Option<RememberedDevice> {
        let state = self.subjects.get_mut(subject)?;
        let device = state
            .devices
            .values_mut()
            .find(|d| d.token_hash == *token_hash && d.expires_at > now)?;
        device.last_used_at = Some(now);
        Some(device.clone())
    }

    fn list_devices(&self, subject: &SubjectId, now: Timestamp) -> Vec<RememberedDevice> {
        let Some(state) = self.subjects.get(subject) else {
            return Vec::new();
        };
        let mut list: Vec<RememberedDevice> = state
            .devices
            .values()
            .filter(|d| d.expires_at > now)
            .cloned()
            .collect();
        list.sort_by(|a, b| {
            b.created_at
                .cmp(&a.created_at)
                .then_with(|| b.id.cmp(&a.id))
        });
        list
    }

    fn revoke_device(&mut self, subject: &SubjectId, id: &CredentialId) -> bool {
        self.subjects
            .get_mut(subject)
            .is_some_and(|s| s.devices.remove(id).is_some())
    }

    fn revoke_all_devices(&mut self, subject: &SubjectId) -> u64 {
        self.subjects.get_mut(subject).map_or(0, |s| {
            let removed = core::mem::take(&mut s.devices);
            u64::try_from(removed.len()).unwrap_or(u64::MAX)
        })
    }

    fn fix_grace(&mut self, subject: &SubjectId, record: GraceRecord) -> GraceRecord {
        *self.subject_mut(subject).grace.get_or_insert(record)
    }

    fn clear_grace(&mut self, subject: &SubjectId) {
        if let Some(s) = self.subjects.get_mut(subject) {
            s.grace = None;
        }
    }

    fn reset_subject(&mut self, subject: &SubjectId) -> ResetSummary {
        let Some(old) = self.subjects.remove(subject) else {
            return ResetSummary::default();
        };
        for id in old.authenticators.iter().chain(&old.pending) {
            self.credentials.remove(id);
        }
        let count = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
        let summary = ResetSummary {
            authenticators: count(old.authenticators.len()),
            pending: count(usize::from(old.pending.is_some())),
            recovery_codes: count(old.recovery.len()),
            channels: count(old.channels.len()),
            devices: count(old.devices.len()),
        };
        // Sent codes (and their send history) and failure counters go with
        // the rest; the grace record stays.
        if old.grace.is_some() {
            self.subjects.insert(
                subject.clone(),
                SubjectState {
                    grace: old.grace,
                    ..SubjectState::default()
                },
            );
        }
        summary
    }

    fn append_audit(&mut self, event: NewAuditEvent) {
        let id = self.audit.last().map_or(1, |e| e.id.saturating_add(1));
        self.audit.push(AuditEvent { id, event });
    }

    fn list_audit(&self, query: &AuditQuery) -> Vec<AuditEvent> {
        let end = query.before.map_or(self.audit.len(), |before| {
            self.audit.partition_point(|e| e.id < before)
        });
        let limit = usize::try_from(query.limit.min(AuditQuery::MAX_LIMIT)).unwrap_or(0);
        self.audit
            .get(..end)
            .unwrap_or_default()
            .iter()
            .rev()
            .filter(|e| {
                query
                    .subject
                    .as_ref()
                    .is_none_or(|s| e.event.subject.as_ref() == Some(s))
            })
            .take(limit)
            .cloned()
            .collect()
    }

    fn sealed_secrets(&self, after: Option<&CredentialId>, limit: u32) -> Vec<SealedEntry> {
        let lower = after.map_or(Bound::Unbounded, Bound::Excluded);
        self.credentials
            .range::<CredentialId, _>((lower, Bound::Unbounded))
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .map(|(id, credential)| SealedEntry {
                credential: id.clone(),
                subject: credential.subject().clone(),
                sealed: credential.sealed().clone(),
            })
            .collect()
    }

    fn replace_sealed(&mut self, id: &CredentialId, expected: &Sealed, new: &Sealed) -> bool {
        match self.credentials.get_mut(id) {
            Some(credential) if credential.sealed() == expected => {
                *credential.sealed_mut() = new.clone();
                true
            }
            _ => false,
        }
    }
}

impl Store for MemoryStore {
    async fn put_pending_totp(&self, pending: PendingTotp) -> Result<()> {
        self.with(|s| s.put_pending_totp(pending))
    }

    async fn pending_totp(
        &self,
        subject: &SubjectId,
        id: &CredentialId,
        now: Timestamp,
    ) -> Result<Option<PendingTotp>> {
        Ok(self.with(|s| s.pending_totp(subject, id, now)))
    }

    async fn activate_totp(
        &self,
        subject: &SubjectId,
        id: &CredentialId,
        activation: Activation,
    ) -> Result<Option<TotpCredential>> {
        Ok(self.with(|s| s.activate_totp(subject, id, activation)))
    }

    async fn rename_totp(
        &self,
        subject: &SubjectId,
        id: &CredentialId,
        name: &str,
    ) -> Result<bool> {
        Ok(self.with(|s| match s.credentials.get_mut(id) {
            Some(Credential::Active(c)) if c.subject == *subject => {
                c.name = name.to_owned();
                true
            }
            _ => false,
        }))
    }

    async fn list_totp(&self, subject: &SubjectId) -> Result<Vec<TotpCredential>> {
        Ok(self.with(|s| s.list_totp(subject)))
    }

    async fn consume_totp_step(
        &self,
        subject: &SubjectId,
        id: &CredentialId,
        step: u64,
        drift: i16,
        now: Timestamp,
    ) -> Result<bool> {
        Ok(self.with(|s| s.consume_totp_step(subject, id, step, drift, now)))
    }

    async fn remove_factor(
        &self,
        subject: &SubjectId,
        factor: &FactorRef,
        keep: Option<Usable>,
    ) -> Result<Removal> {
        Ok(self.with(|s| s.remove_factor(subject, factor, keep)))
    }

    async fn replace_recovery_codes(
        &self,
        subject: &SubjectId,
        hashes: Vec<CodeHash>,
        mode: ReplaceCodes,
        _now: Timestamp,
    ) -> Result<bool> {
        Ok(self.with(|s| s.replace_recovery_codes(subject, hashes, mode)))
    }

    async fn consume_recovery_code(
        &self,
        subject: &SubjectId,
        hash: &CodeHash,
        _now: Timestamp,
    ) -> Result<bool> {
        Ok(self.with(|s| s.consume_recovery_code(subject, hash)))
    }

    async fn recovery_codes_left(&self, subject: &SubjectId) -> Result<u32> {
        Ok(self.with(|s| s.recovery_codes_left(subject)))
    }

    async fn add_channel(
        &self,
        subject: &SubjectId,
        factor: ChannelFactor,
    ) -> Result<ChannelAdded> {
        Ok(self.with(|s| s.add_channel(subject, factor)))
    }

    async fn list_channels(&self, subject: &SubjectId) -> Result<Vec<ChannelFactor>> {
        Ok(self.with(|s| s.list_channels(subject)))
    }

    async fn issue_sent_code(&self, code: SentCode, limits: SendLimits) -> Result<IssueOutcome> {
        Ok(self.with(|s| s.issue_sent_code(code, limits)))
    }

    async fn withdraw_sent_code(&self, code: &SentCode) -> Result<()> {
        self.with(|s| s.withdraw_sent_code(code));
        Ok(())
    }

    async fn attempt_sent_code(
        &self,
        subject: &SubjectId,
        channel: Channel,
        hash: &CodeHash,
        max_tries: u32,
        now: Timestamp,
    ) -> Result<SentCodeAttempt> {
        Ok(self.with(|s| s.attempt_sent_code(subject, channel, hash, max_tries, now)))
    }

    async fn throttle_state(&self, subject: &SubjectId, kind: FactorKind) -> Result<ThrottleState> {
        Ok(self.with(|s| s.throttle_state(subject, kind)))
    }

    async fn charge_attempt(
        &self,
        subject: &SubjectId,
        kind: FactorKind,
        rule: ThrottleRule,
        now: Timestamp,
    ) -> Result<Charge> {
        Ok(self.with(|s| s.charge_attempt(subject, kind, rule, now)))
    }

    async fn settle_attempt(
        &self,
        subject: &SubjectId,
        kind: FactorKind,
        rule: ThrottleRule,
        settlement: Settlement,
    ) -> Result<()> {
        self.with(|s| s.settle_attempt(subject, kind, rule, settlement));
        Ok(())
    }

    async fn begin_totp_attempt(
        &self,
        subject: &SubjectId,
        rule: ThrottleRule,
        now: Timestamp,
    ) -> Result<TotpContext> {
        Ok(self.with(|s| TotpContext {
            charge: s.charge_attempt(subject, FactorKind::Totp, rule, now),
            policy: s.policy.clone(),
            credentials: s.list_totp(subject),
        }))
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
        Ok(self.with(|s| {
            if !s.consume_totp_step(subject, id, step, drift, now) {
                return false;
            }
            s.settle_attempt(subject, FactorKind::Totp, rule, Settlement::Succeeded);
            s.append_audit(audit);
            true
        }))
    }

    async fn put_device(&self, device: RememberedDevice) -> Result<()> {
        self.with(|s| s.put_device(device));
        Ok(())
    }

    async fn touch_device(
        &self,
        subject: &SubjectId,
        token_hash: &CodeHash,
        now: Timestamp,
    ) -> Result<Option<RememberedDevice>> {
        Ok(self.with(|s| s.touch_device(subject, token_hash, now)))
    }

    async fn list_devices(
        &self,
        subject: &SubjectId,
        now: Timestamp,
    ) -> Result<Vec<RememberedDevice>> {
        Ok(self.with(|s| s.list_devices(subject, now)))
    }

    async fn revoke_device(&self, subject: &SubjectId, id: &CredentialId) -> Result<bool> {
        Ok(self.with(|s| s.revoke_device(subject, id)))
    }

    async fn revoke_all_devices(&self, subject: &SubjectId) -> Result<u64> {
        Ok(self.with(|s| s.revoke_all_devices(subject)))
    }

    async fn load_policy(&self) -> Result<Option<Policy>> {
        Ok(self.with(|s| s.policy.clone()))
    }

    async fn save_policy(&self, policy: &Policy) -> Result<()> {
        let policy = policy.clone();
        self.with(|s| s.policy = Some(policy));
        Ok(())
    }

    async fn grace(&self, subject: &SubjectId) -> Result<Option<GraceRecord>> {
        Ok(self.with(|s| s.subjects.get(subject).and_then(|s| s.grace)))
    }

    async fn fix_grace(&self, subject: &SubjectId, record: GraceRecord) -> Result<GraceRecord> {
        Ok(self.with(|s| s.fix_grace(subject, record)))
    }

    async fn clear_grace(&self, subject: &SubjectId) -> Result<()> {
        self.with(|s| s.clear_grace(subject));
        Ok(())
    }

    async fn reset_subject(&self, subject: &SubjectId) -> Result<ResetSummary> {
        Ok(self.with(|s| s.reset_subject(subject)))
    }

    async fn append_audit(&self, event: NewAuditEvent) -> Result<()> {
        self.with(|s| s.append_audit(event));
        Ok(())
    }

    async fn list_audit(&self, query: &AuditQuery) -> Result<Vec<AuditEvent>> {
        Ok(self.with(|s| s.list_audit(query)))
    }

    async fn sealed_secrets(
        &self,
        after: Option<&CredentialId>,
        limit: u32,
    ) -> Result<Vec<SealedEntry>> {
        Ok(self.with(|s| s.sealed_secrets(after, limit)))
    }

    async fn replace_sealed(
        &self,
        id: &CredentialId,
        expected: &Sealed,
        new: &Sealed,
    ) -> Result<bool> {
        Ok(self.with(|s| s.replace_sealed(id, expected, new)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{Actor, AuditAction};

    fn block_on<F: core::future::Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(future)
    }

    fn sealed(byte: u8) -> Sealed {
        let mut bytes = vec![1, 0, 0, 0, 1];
        bytes.extend([byte; 40]);
        Sealed::from_bytes(bytes).unwrap()
    }

    fn pending(id: &CredentialId, subject: &SubjectId) -> PendingTotp {
        PendingTotp {
            id: id.clone(),
            subject: subject.clone(),
            sealed_secret: sealed(1),
            config: crate::otp::TotpConfig::default(),
            created_at: Timestamp::from_unix(0),
            expires_at: Timestamp::from_unix(600),
        }
    }

    #[test]
    fn audit_ids_start_at_one_and_increase() {
        let store = MemoryStore::new();
        block_on(async {
            for _ in 0..3 {
                store
                    .append_audit(NewAuditEvent {
                        at: Timestamp::from_unix(1),
                        subject: None,
                        actor: Actor::System,
                        action: AuditAction::SecretsResealed,
                        factor: None,
                        detail: None,
                    })
                    .await
                    .unwrap();
            }
            let ids: Vec<u64> = store
                .list_audit(&AuditQuery::latest(10))
                .await
                .unwrap()
                .iter()
                .map(|e| e.id)
                .collect();
            assert_eq!(ids, vec![3, 2, 1]);
            let page = store
                .list_audit(&AuditQuery::latest(10).before(1))
                .await
                .unwrap();
            assert!(page.is_empty());
        });
    }

    #[test]
    fn credential_ids_are_unique_across_subjects() {
        let store = MemoryStore::new();
        let alice = SubjectId::new("alice").unwrap();
        let bob = SubjectId::new("bob").unwrap();
        let id = CredentialId::new("c1").unwrap();
        block_on(async {
            store.put_pending_totp(pending(&id, &alice)).await.unwrap();
            // The same subject may put the same id again (a replacement).
            store.put_pending_totp(pending(&id, &alice)).await.unwrap();
            let taken = store.put_pending_totp(pending(&id, &bob)).await;
            assert!(matches!(taken, Err(Error::Store(_))), "{taken:?}");
            let activation = Activation {
                name: "phone".into(),
                accepted_step: 1,
                drift: 0,
                at: Timestamp::from_unix(1),
            };
            assert!(
                store
                    .activate_totp(&alice, &id, activation)
                    .await
                    .unwrap()
                    .is_some()
            );
            let taken = store.put_pending_totp(pending(&id, &alice)).await;
            assert!(
                matches!(taken, Err(Error::Store(_))),
                "an active authenticator's id cannot become pending again"
            );
            assert_eq!(store.list_totp(&alice).await.unwrap().len(), 1);
            assert!(store.list_totp(&bob).await.unwrap().is_empty());
        });
    }

    #[test]
    fn clones_share_state_and_debug_shows_no_data() {
        let store = MemoryStore::new();
        let clone = store.clone();
        let alice = SubjectId::new("alice-secret-name").unwrap();
        let hash = CodeHash::from_bytes([0xab; 32]);
        block_on(async {
            store
                .replace_recovery_codes(
                    &alice,
                    vec![hash, hash],
                    ReplaceCodes::Always,
                    Timestamp::EPOCH,
                )
                .await
                .unwrap();
            assert_eq!(
                clone.recovery_codes_left(&alice).await.unwrap(),
                1,
                "a code listed twice is stored once"
            );
        });
        let debug = format!("{clone:?}");
        assert!(debug.starts_with("MemoryStore { subjects: 1"), "{debug}");
        assert!(!debug.contains("alice"), "{debug}");
    }

    #[test]
    fn a_poisoned_lock_is_recovered() {
        let store = MemoryStore::new();
        let alice = SubjectId::new("alice").unwrap();
        let email = ChannelFactor {
            channel: Channel::Email,
            address_hash: CodeHash::from_bytes([1; 32]),
            sealed_address: None,
            added_at: Timestamp::EPOCH,
        };
        block_on(store.add_channel(&alice, email.clone())).unwrap();
        let poisoner = store.clone();
        let result = std::thread::spawn(move || {
            poisoner.with(|_| panic!("poison the lock"));
        })
        .join();
        assert!(result.is_err());
        assert!(store.state.is_poisoned());
        let channels = block_on(store.list_channels(&alice)).unwrap();
        assert_eq!(channels.len(), 1);
        let sms = ChannelFactor {
            channel: Channel::Sms,
            ..email
        };
        assert_eq!(
            block_on(store.add_channel(&alice, sms)).unwrap(),
            ChannelAdded::Added
        );
    }

    #[test]
    fn sends_older_than_an_hour_are_forgotten() {
        let store = MemoryStore::new();
        let alice = SubjectId::new("alice").unwrap();
        let limits = SendLimits {
            cooldown: Duration::ZERO,
            max_per_hour: 100,
        };
        block_on(async {
            for t in (0..10_000).step_by(100) {
                let code = SentCode {
                    subject: alice.clone(),
                    channel: Channel::Sms,
                    hash: CodeHash::from_bytes([1; 32]),
                    issued_at: Timestamp::from_unix(t),
                    expires_at: Timestamp::from_unix(t + 300),
                };
                assert_eq!(
                    store.issue_sent_code(code, limits).await.unwrap(),
                    IssueOutcome::Issued
                );
            }
        });
        let kept = store.with(|s| {
            s.subjects
                .get(&alice)
                .and_then(|s| s.sends.get(&Channel::Sms))
                .map(|log| log.sends.len())
        });
        assert_eq!(kept, Some(36), "only the sends of the last hour are kept");
    }
}
