//! Persistence: the [`Store`] trait and the records it keeps.
//!
//! Methods are *semantic operations*, not CRUD: each says in its doc
//! comment what must happen atomically. The store — not the service —
//! guarantees single use and exact counting, so that the guarantees hold
//! across many app instances sharing one database. Every implementation
//! runs the conformance suite in `mfa_core::testing` (feature `testing`),
//! which checks each contract below, including under concurrency.
//!
//! Conventions for every method:
//! * Subjects are independent: an operation on one subject never reads or
//!   changes another subject's records (except the global policy and
//!   audit trail).
//! * Errors: a database that is down or times out is
//!   [`Error::StoreUnavailable`](crate::Error::StoreUnavailable); anything
//!   else that fails is [`Error::Store`](crate::Error::Store). A failed call
//!   changes nothing that a later call could observe as half-done.
//! * "Expired" means `expires_at <= now`.
//! * Secrets arrive sealed ([`Sealed`]) and codes/tokens hashed
//!   ([`CodeHash`]); a store never sees plaintext.

use core::future::Future;

use crate::audit::{AuditEvent, AuditQuery, NewAuditEvent};
use crate::clock::Timestamp;
use crate::error::Result;
use crate::otp::TotpConfig;
use crate::pepper::CodeHash;
use crate::policy::{GraceRecord, Policy};
use crate::seal::Sealed;
use crate::subject::{Channel, CredentialId, FactorKind, SubjectId};
use crate::throttle::{Charge, ThrottleRule, ThrottleState};

/// An authenticator-app enrollment waiting for its first code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingTotp {
    /// The id the authenticator will keep once active.
    pub id: CredentialId,
    /// Whose.
    pub subject: SubjectId,
    /// The secret, sealed for (`subject`, `id`).
    pub sealed_secret: Sealed,
    /// Algorithm, digits, period.
    pub config: TotpConfig,
    /// When enrollment started.
    pub created_at: Timestamp,
    /// When it stops being confirmable.
    pub expires_at: Timestamp,
}

/// What activation writes onto the new authenticator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activation {
    /// The name the person gave it ("Work phone").
    pub name: String,
    /// The step the confirming code matched: it is consumed.
    pub accepted_step: u64,
    /// Clock drift observed at confirmation, in steps.
    pub drift: i16,
    /// Now.
    pub at: Timestamp,
}

/// An active authenticator app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpCredential {
    /// Its id.
    pub id: CredentialId,
    /// Whose.
    pub subject: SubjectId,
    /// The name the person gave it.
    pub name: String,
    /// The secret, sealed for (`subject`, `id`).
    pub sealed_secret: Sealed,
    /// Algorithm, digits, period.
    pub config: TotpConfig,
    /// The newest step accepted; no step at or before it is ever accepted
    /// again.
    pub last_step: Option<u64>,
    /// Drift (in steps) at the last acceptance.
    pub drift: i16,
    /// When it became active.
    pub created_at: Timestamp,
    /// When it last verified a code.
    pub last_used_at: Option<Timestamp>,
}

/// Everything verifying an authenticator-app code needs, fetched together
/// with the attempt's charge by [`Store::begin_totp_attempt`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpContext {
    /// The stored policy, if an administrator ever saved one.
    pub policy: Option<Policy>,
    /// The attempt's charge on the subject's TOTP throttle.
    pub charge: Charge,
    /// The subject's active authenticators, oldest first.
    pub credentials: Vec<TotpCredential>,
}

/// How a charged attempt ended, for [`Store::settle_attempt`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settlement {
    /// The code was right: [`ThrottleRule::succeed`], and every *other*
    /// factor kind of the subject that was blocked is unblocked (its
    /// counter cleared).
    Succeeded,
    /// The attempt evaluated nothing (a duplicate of a code just accepted,
    /// no active code, input that fits no authenticator):
    /// [`ThrottleRule::refund`].
    Refunded,
}

/// A factor to remove with [`Store::remove_factor`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FactorRef {
    /// An authenticator app.
    Authenticator(CredentialId),
    /// E-mail or SMS.
    Channel(Channel),
}

/// Which of a subject's factors count as usable, for the "not the last
/// usable factor" check of [`Store::remove_factor`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Usable {
    /// Authenticator apps count.
    pub authenticators: bool,
    /// An e-mail factor counts if its address hash is this one.
    pub email: Option<CodeHash>,
    /// An SMS factor counts if its address hash is this one.
    pub sms: Option<CodeHash>,
}

impl Usable {
    /// The address hash a `channel` factor must have to count.
    #[must_use]
    pub fn channel(&self, channel: Channel) -> Option<&CodeHash> {
        match channel {
            Channel::Email => self.email.as_ref(),
            Channel::Sms => self.sms.as_ref(),
        }
    }
}

/// What [`Store::remove_factor`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    /// Removed.
    Removed,
    /// The subject has no such factor.
    NotFound,
    /// Refused: it is the subject's last usable factor.
    LastUsable,
}

/// What [`Store::add_channel`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChannelAdded {
    /// The channel was not registered; now it is.
    Added,
    /// It was registered for the same address; nothing changed.
    Unchanged,
    /// It was registered for another address, which it now replaces.
    Replaced {
        /// The registration it replaced.
        previous: ChannelFactor,
    },
}

/// How to replace recovery codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplaceCodes {
    /// Replace whatever set exists.
    Always,
    /// Only if the subject has no unused codes at all.
    IfNone,
}

/// E-mail or SMS registered as a subject's factor, bound to the address
/// that was verified: if the subject's address changes, the factor no
/// longer counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelFactor {
    /// Which channel.
    pub channel: Channel,
    /// Keyed hash of the verified address.
    pub address_hash: CodeHash,
    /// The verified address, sealed (so the old address can be told when
    /// it is replaced); `None` where it was not kept.
    pub sealed_address: Option<Sealed>,
    /// When it was registered.
    pub added_at: Timestamp,
}

/// A one-time code sent by e-mail or SMS, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentCode {
    /// For whom.
    pub subject: SubjectId,
    /// Sent where.
    pub channel: Channel,
    /// Keyed hash of the code.
    pub hash: CodeHash,
    /// When it was sent.
    pub issued_at: Timestamp,
    /// When it stops working.
    pub expires_at: Timestamp,
}

/// Rate limits on sending codes, per subject and channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendLimits {
    /// Least time between two sends.
    pub cooldown: core::time::Duration,
    /// Most sends in any sliding hour.
    pub max_per_hour: u32,
}

/// Whether a code was recorded as sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueOutcome {
    /// Recorded; the previous code for this channel no longer works.
    Issued,
    /// A limit applies; nothing was recorded.
    TooSoon {
        /// When a send would next be allowed.
        retry_after: Timestamp,
    },
}

/// Result of trying a code against the active sent code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SentCodeAttempt {
    /// It matched and has been consumed.
    Accepted,
    /// It did not match; the try was counted. `tries_left` more are
    /// allowed on this code (0: the code is dead).
    Rejected {
        /// Tries remaining on this code.
        tries_left: u32,
    },
    /// There is no usable code (none sent, expired, used, or out of tries).
    NoActiveCode,
}

/// A remembered browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RememberedDevice {
    /// Its id (for listing and revoking).
    pub id: CredentialId,
    /// Whose.
    pub subject: SubjectId,
    /// Keyed hash of the token in the browser.
    pub token_hash: CodeHash,
    /// A name from the user agent ("Firefox on Windows").
    pub name: String,
    /// When it was remembered.
    pub created_at: Timestamp,
    /// When it stops counting.
    pub expires_at: Timestamp,
    /// When it was last presented.
    pub last_used_at: Option<Timestamp>,
}

/// What an MFA reset removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ResetSummary {
    /// Active authenticators removed.
    pub authenticators: u64,
    /// Pending enrollments removed.
    pub pending: u64,
    /// Unused recovery codes removed.
    pub recovery_codes: u64,
    /// E-mail/SMS factors removed.
    pub channels: u64,
    /// Remembered devices removed.
    pub devices: u64,
}

impl core::fmt::Display for ResetSummary {
    /// "2 authenticators, 1 channels, 10 recovery codes, 1 devices": the
    /// audit detail of a reset or of turning MFA off.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "{} authenticators, {} channels, {} recovery codes, {} devices",
            self.authenticators, self.channels, self.recovery_codes, self.devices
        )
    }
}

/// A sealed secret, for key rotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedEntry {
    /// The authenticator or pending enrollment.
    pub credential: CredentialId,
    /// Whose.
    pub subject: SubjectId,
    /// The sealed secret.
    pub sealed: Sealed,
}

/// Where MFA state lives. See the [module documentation](self) for the
/// conventions every method follows.
///
/// Methods return `impl Future + Send` so the service can be used from any
/// multi-threaded runtime; implement them with `async fn`.
pub trait Store: Send + Sync + 'static {
    // ----- authenticator apps -------------------------------------------

    /// Stores a pending enrollment, *replacing* any other pending
    /// enrollment of the same subject (one at a time per subject).
    fn put_pending_totp(&self, pending: PendingTotp) -> impl Future<Output = Result<()>> + Send;

    /// The subject's pending enrollment `id`, if it exists and has not
    /// expired at `now`.
    fn pending_totp(
        &self,
        subject: &SubjectId,
        id: &CredentialId,
        now: Timestamp,
    ) -> impl Future<Output = Result<Option<PendingTotp>>> + Send;

    /// **Atomically** turns pending enrollment `id` into an active
    /// authenticator: if it exists for `subject` and has not expired at
    /// `activation.at`, delete it and insert a [`TotpCredential`] with the
    /// same id, secret and config, `name`, `last_step =
    /// Some(activation.accepted_step)`, `drift`, `created_at =
    /// last_used_at = activation.at`, and return it. Otherwise change
    /// nothing and return `None`. Of concurrent calls for one pending
    /// enrollment, at most one returns `Some`. In the same atomic step the
    /// active sent codes of channels the subject has not registered are
    /// deleted (a channel enrollment started while the subject had no
    /// factor cannot be completed once they have one).
    fn activate_totp(
        &self,
        subject: &SubjectId,
        id: &CredentialId,
        activation: Activation,
    ) -> impl Future<Output = Result<Option<TotpCredential>>> + Send;

    /// Sets the name of authenticator `id` of `subject`; `true` if it
    /// exists (also when the name was already that).
    fn rename_totp(
        &self,
        subject: &SubjectId,
        id: &CredentialId,
        name: &str,
    ) -> impl Future<Output = Result<bool>> + Send;

    /// The subject's active authenticators, oldest first.
    fn list_totp(
        &self,
        subject: &SubjectId,
    ) -> impl Future<Output = Result<Vec<TotpCredential>>> + Send;

    /// **Compare-and-set** on the authenticator's last accepted step: if
    /// authenticator `id` of `subject` exists and its `last_step` is `None`
    /// or `< step`, set `last_step = Some(step)`, `drift`, `last_used_at =
    /// now` and return `true`; otherwise change nothing and return `false`.
    /// Of concurrent calls with the same `step`, exactly one returns
    /// `true`; a smaller or equal step never succeeds after a larger one.
    fn consume_totp_step(
        &self,
        subject: &SubjectId,
        id: &CredentialId,
        step: u64,
        drift: i16,
        now: Timestamp,
    ) -> impl Future<Output = Result<bool>> + Send;

    /// The start of an authenticator-code attempt: **charges** it on the
    /// subject's TOTP throttle exactly as
    /// [`charge_attempt`](Self::charge_attempt) does, and reads the stored
    /// policy and the active authenticators (as
    /// [`load_policy`](Self::load_policy) and [`list_totp`](Self::list_totp)
    /// would return them). This is the sign-in hot path: implementations
    /// should do it in one round trip. The default makes the three calls.
    fn begin_totp_attempt(
        &self,
        subject: &SubjectId,
        rule: ThrottleRule,
        now: Timestamp,
    ) -> impl Future<Output = Result<TotpContext>> + Send {
        async move {
            let charge = self
                .charge_attempt(subject, FactorKind::Totp, rule, now)
                .await?;
            Ok(TotpContext {
                policy: self.load_policy().await?,
                charge,
                credentials: self.list_totp(subject).await?,
            })
        }
    }

    /// A successful sign-in with an authenticator code: the
    /// **compare-and-set** of [`consume_totp_step`](Self::consume_totp_step)
    /// and, only if it succeeds, settling the attempt's TOTP charge as
    /// [`Settlement::Succeeded`] and appending `audit`. Returns whether the
    /// step was consumed; of concurrent calls with the same step exactly
    /// one returns `true` and exactly one `audit` is appended. This is the
    /// sign-in hot path: implementations should do it in one round trip,
    /// atomically. The default makes the calls in sequence.
    #[allow(clippy::too_many_arguments)]
    fn accept_totp_step(
        &self,
        subject: &SubjectId,
        id: &CredentialId,
        step: u64,
        drift: i16,
        rule: ThrottleRule,
        now: Timestamp,
        audit: NewAuditEvent,
    ) -> impl Future<Output = Result<bool>> + Send {
        async move {
            if !self
                .consume_totp_step(subject, id, step, drift, now)
                .await?
            {
                return Ok(false);
            }
            self.settle_attempt(subject, FactorKind::Totp, rule, Settlement::Succeeded)
                .await?;
            self.append_audit(audit).await?;
            Ok(true)
        }
    }

    /// **Atomically** removes `factor` of `subject`, unless `keep` is
    /// given and no usable factor (as `keep` defines it: authenticators if
    /// `keep.authenticators`, a channel if its address hash is the one in
    /// `keep`) would be left; then nothing changes and the answer is
    /// [`Removal::LastUsable`]. Of concurrent removals of a subject's last
    /// two usable factors with `keep`, exactly one succeeds.
    fn remove_factor(
        &self,
        subject: &SubjectId,
        factor: &FactorRef,
        keep: Option<Usable>,
    ) -> impl Future<Output = Result<Removal>> + Send;

    // ----- recovery codes -----------------------------------------------

    /// **Atomically** replaces the subject's recovery codes with `hashes`
    /// (all unused). With [`ReplaceCodes::IfNone`], does so only if the
    /// subject has no unused code, and returns whether it did; with
    /// [`ReplaceCodes::Always`] always returns `true`. Concurrent
    /// `IfNone` calls: exactly one succeeds.
    fn replace_recovery_codes(
        &self,
        subject: &SubjectId,
        hashes: Vec<CodeHash>,
        mode: ReplaceCodes,
        now: Timestamp,
    ) -> impl Future<Output = Result<bool>> + Send;

    /// **Single use**: if `hash` is an unused recovery code of `subject`,
    /// mark it used (or delete it) and return `true`; else `false`. Of
    /// concurrent calls with the same code, exactly one returns `true`.
    fn consume_recovery_code(
        &self,
        subject: &SubjectId,
        hash: &CodeHash,
        now: Timestamp,
    ) -> impl Future<Output = Result<bool>> + Send;

    /// How many unused recovery codes `subject` has.
    fn recovery_codes_left(&self, subject: &SubjectId) -> impl Future<Output = Result<u32>> + Send;

    // ----- e-mail / SMS as factors --------------------------------------

    /// **Atomically** registers `factor` for `subject`: if the channel is
    /// not registered, adds it ([`ChannelAdded::Added`]); if it is, with
    /// the same address hash, changes nothing ([`ChannelAdded::Unchanged`],
    /// the first `added_at` stays); with another address hash, replaces it
    /// and returns the previous registration. In the same atomic step,
    /// since the subject now has a factor, every *pending* enrollment of
    /// the subject that does not concern this registration is dropped: the
    /// pending authenticator enrollment and the active sent codes of
    /// channels that are not registered (so an enrollment started while
    /// the subject had no factor — without step-up — cannot be completed
    /// once they have one).
    fn add_channel(
        &self,
        subject: &SubjectId,
        factor: ChannelFactor,
    ) -> impl Future<Output = Result<ChannelAdded>> + Send;

    /// The subject's registered channels, ordered e-mail then SMS.
    fn list_channels(
        &self,
        subject: &SubjectId,
    ) -> impl Future<Output = Result<Vec<ChannelFactor>>> + Send;

    // ----- codes sent by e-mail / SMS -----------------------------------

    /// **Atomically** applies the send limits and records a sent code.
    /// Considering the sends recorded for (`code.subject`, `code.channel`)
    /// with `issued_at` in the hour up to `code.issued_at`, that is
    /// `code.issued_at - 1 h < issued_at <= code.issued_at` (a send exactly
    /// an hour old no longer counts):
    /// if the newest is less than `limits.cooldown` old, that is
    /// `newest + cooldown > code.issued_at`, return
    /// `TooSoon { retry_after: newest + cooldown }`; else if there are
    /// `limits.max_per_hour` or more, return
    /// `TooSoon { retry_after: oldest_in_hour + 1 h }`; else record the
    /// send and make `code` the channel's only active code (any previous
    /// code stops working, with a fresh try count) and return `Issued`.
    /// `TooSoon` records nothing: the previous code keeps working and the
    /// refused send does not count towards later limits. Concurrent calls
    /// for the same subject and channel never exceed the limits.
    fn issue_sent_code(
        &self,
        code: SentCode,
        limits: SendLimits,
    ) -> impl Future<Output = Result<IssueOutcome>> + Send;

    /// **Atomically** undoes an [`issue_sent_code`](Self::issue_sent_code)
    /// whose delivery failed: the send recorded for (`code.subject`,
    /// `code.channel`) at `code.issued_at` no longer counts towards the
    /// cooldown or the hourly limit, and `code` stops working if it is still
    /// the channel's active code (a newer one is left alone). Withdrawing a
    /// send that is not recorded changes nothing.
    fn withdraw_sent_code(&self, code: &SentCode) -> impl Future<Output = Result<()>> + Send;

    /// **Atomically** tries `hash` against the active code of (`subject`,
    /// `channel`). No code, an expired one (at `now`) or one that already
    /// had `max_tries` wrong tries: `NoActiveCode`, and nothing is counted.
    /// A match: the code is consumed (never matches again) and `Accepted`.
    /// Otherwise the wrong try is counted and `Rejected { tries_left:
    /// max_tries - wrong_tries }` (this one included; at 0 the code is
    /// dead, even for the right code). Of concurrent calls with the right
    /// code, exactly one is `Accepted`.
    fn attempt_sent_code(
        &self,
        subject: &SubjectId,
        channel: Channel,
        hash: &CodeHash,
        max_tries: u32,
        now: Timestamp,
    ) -> impl Future<Output = Result<SentCodeAttempt>> + Send;

    // ----- throttling ---------------------------------------------------

    /// The failure count and lock of (`subject`, `kind`); the default
    /// (0, no lock) if none was recorded.
    fn throttle_state(
        &self,
        subject: &SubjectId,
        kind: FactorKind,
    ) -> impl Future<Output = Result<ThrottleState>> + Send;

    /// **Atomically** charges one attempt on (`subject`, `kind`) *before*
    /// its code is checked: applies [`ThrottleRule::charge`] at `now` to
    /// the stored state (the default state if none), stores the result
    /// and returns the decision. Of concurrent calls, each sees the state
    /// the previous one stored: N concurrent calls on an unlocked factor
    /// are charged until the lock is set (at most `free_failures`), and the
    /// rest are refused.
    fn charge_attempt(
        &self,
        subject: &SubjectId,
        kind: FactorKind,
        rule: ThrottleRule,
        now: Timestamp,
    ) -> impl Future<Output = Result<Charge>> + Send;

    /// **Atomically** settles a charged attempt on (`subject`, `kind`):
    /// applies [`ThrottleRule::succeed`] or [`ThrottleRule::refund`] to
    /// the stored state (nothing if there is none). With
    /// [`Settlement::Succeeded`], in the same atomic step, the subject's
    /// counters of other kinds that reached `rule.max_failures` are
    /// cleared.
    fn settle_attempt(
        &self,
        subject: &SubjectId,
        kind: FactorKind,
        rule: ThrottleRule,
        settlement: Settlement,
    ) -> impl Future<Output = Result<()>> + Send;

    // ----- remembered devices -------------------------------------------

    /// Stores a remembered device.
    fn put_device(&self, device: RememberedDevice) -> impl Future<Output = Result<()>> + Send;

    /// The unexpired device of `subject` whose token hash is `token_hash`,
    /// after setting its `last_used_at` to `now`.
    fn touch_device(
        &self,
        subject: &SubjectId,
        token_hash: &CodeHash,
        now: Timestamp,
    ) -> impl Future<Output = Result<Option<RememberedDevice>>> + Send;

    /// The subject's unexpired devices, newest first.
    fn list_devices(
        &self,
        subject: &SubjectId,
        now: Timestamp,
    ) -> impl Future<Output = Result<Vec<RememberedDevice>>> + Send;

    /// Deletes device `id` of `subject`; `true` if it existed.
    fn revoke_device(
        &self,
        subject: &SubjectId,
        id: &CredentialId,
    ) -> impl Future<Output = Result<bool>> + Send;

    /// Deletes all of the subject's devices, expired ones included;
    /// returns how many.
    fn revoke_all_devices(&self, subject: &SubjectId) -> impl Future<Output = Result<u64>> + Send;

    // ----- policy and grace deadlines -----------------------------------

    /// The stored policy, if an administrator ever saved one.
    fn load_policy(&self) -> impl Future<Output = Result<Option<Policy>>> + Send;

    /// Replaces the stored policy.
    fn save_policy(&self, policy: &Policy) -> impl Future<Output = Result<()>> + Send;

    /// The subject's grace record, if one was fixed.
    fn grace(
        &self,
        subject: &SubjectId,
    ) -> impl Future<Output = Result<Option<GraceRecord>>> + Send;

    /// **Insert if absent**: stores `record` unless the subject already
    /// has one, and returns the one that is stored afterwards. Concurrent
    /// calls all return the same record.
    fn fix_grace(
        &self,
        subject: &SubjectId,
        record: GraceRecord,
    ) -> impl Future<Output = Result<GraceRecord>> + Send;

    /// Forgets the subject's grace record.
    fn clear_grace(&self, subject: &SubjectId) -> impl Future<Output = Result<()>> + Send;

    // ----- reset --------------------------------------------------------

    /// **Atomically** removes all of the subject's authenticators, pending
    /// enrollments, recovery codes, channels, remembered devices, sent
    /// codes and failure counters (not the grace record or audit events),
    /// and reports what was removed: every record deleted counts, expired
    /// ones included (recovery codes: the unused ones).
    fn reset_subject(
        &self,
        subject: &SubjectId,
    ) -> impl Future<Output = Result<ResetSummary>> + Send;

    // ----- audit --------------------------------------------------------

    /// Appends an event, giving it an id greater than every id before it.
    fn append_audit(&self, event: NewAuditEvent) -> impl Future<Output = Result<()>> + Send;

    /// Events matching `query`, newest (highest id) first, at most
    /// `query.limit`.
    fn list_audit(
        &self,
        query: &AuditQuery,
    ) -> impl Future<Output = Result<Vec<AuditEvent>>> + Send;

    // ----- key rotation -------------------------------------------------

    /// Sealed secrets of active and pending authenticators with a
    /// credential id greater than `after` (all if `None`), ordered by
    /// credential id, at most `limit`.
    fn sealed_secrets(
        &self,
        after: Option<&CredentialId>,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<SealedEntry>>> + Send;

    /// **Compare-and-set**: replaces the sealed secret of credential
    /// `id` (active or pending) with `new` if it is still `expected`;
    /// returns whether it did.
    fn replace_sealed(
        &self,
        id: &CredentialId,
        expected: &Sealed,
        new: &Sealed,
    ) -> impl Future<Output = Result<bool>> + Send;
}
