//! [`SqlStore`]: the store, generic over its [`Engine`], and its one
//! implementation of [`Store`]. Each method runs an operation from
//! [`ops`](crate::ops), again while the database rolls its transaction
//! back as a deadlock victim or serialisation failure.

use core::fmt;
use core::time::Duration;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use mfa_core::audit::{AuditEvent, AuditQuery, NewAuditEvent};
use mfa_core::pepper::CodeHash;
use mfa_core::policy::{GraceRecord, Policy};
use mfa_core::seal::Sealed;
use mfa_core::store::{
    Activation, ChannelAdded, ChannelFactor, FactorRef, IssueOutcome, PendingTotp,
    RememberedDevice, Removal, ReplaceCodes, ResetSummary, SealedEntry, SendLimits, SentCode,
    SentCodeAttempt, Settlement, TotpContext, TotpCredential, Usable,
};
use mfa_core::throttle::{Charge, ThrottleRule, ThrottleState};
use mfa_core::{Channel, CredentialId, FactorKind, Result, Store, SubjectId, Timestamp};

use crate::StoreOptions;
use crate::engine::{Arg, Engine, EngineKind, On, Row};
use crate::error::{Class, SqlStoreError, classify};
use crate::ops::totp::StepUse;
use crate::ops::{
    OpError, OpResult, audit, devices, factors, key_rotation, policy, recovery, reset, sent_codes,
    subject_arg, throttle, totp,
};
use crate::sql::{Dialect, dialect};

/// The MFA store on a SQL database, for any [`Engine`]: one type per
/// engine — [`SqliteStore`](crate::SqliteStore),
/// [`PostgresStore`](crate::PostgresStore), [`MySqlStore`](crate::MySqlStore)
/// — and [`AnyStore`](crate::AnyStore), on whichever engine a URL names.
///
/// It implements [`Store`]; clones share the pool. See the crate docs for
/// how each guarantee is enforced.
pub struct SqlStore<E: Engine> {
    pool: E::Pool,
    statements: Arc<AtomicU64>,
}

impl<E: Engine> Clone for SqlStore<E> {
    fn clone(&self) -> Self {
        Self {
            pool: self.pool.clone(),
            statements: Arc::clone(&self.statements),
        }
    }
}

impl<E: Engine> fmt::Debug for SqlStore<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqlStore")
            .field("pool", &self.pool)
            .finish_non_exhaustive()
    }
}

impl<E: Engine> SqlStore<E> {
    /// Connects a pool to `url` — `sqlite://path/to/file.db`,
    /// `sqlite::memory:`, `postgres://user:password@host:port/database`,
    /// `mysql://…` or `mariadb://…` (for [`AnyStore`](crate::AnyStore), any
    /// of them) — with [`StoreOptions::default()`]: a 3 s acquire timeout,
    /// sqlx's defaults otherwise (SQLite: see
    /// [`SqliteStore`](crate::SqliteStore)).
    ///
    /// # Errors
    /// [`SqlStoreError::Config`] for a malformed URL,
    /// [`SqlStoreError::Connect`] if the database cannot be reached within
    /// the acquire timeout; for [`AnyStore`](crate::AnyStore) also
    /// [`SqlStoreError::UnsupportedUrl`] for an unknown scheme and
    /// [`SqlStoreError::EngineNotEnabled`] for an engine this build leaves
    /// out.
    pub async fn connect(url: &str) -> core::result::Result<Self, SqlStoreError> {
        Self::connect_with(url, StoreOptions::default()).await
    }

    /// [`connect`](Self::connect) with `options` (see [`StoreOptions`]).
    ///
    /// # Errors
    /// As [`connect`](Self::connect).
    pub async fn connect_with(
        url: &str,
        options: StoreOptions,
    ) -> core::result::Result<Self, SqlStoreError> {
        Ok(Self::from_pool(E::connect(url, options).await?))
    }

    /// A store on a pool you built; the pool's own settings apply (its
    /// acquire timeout included: sqlx's default is 30 s).
    #[must_use]
    pub fn from_pool(pool: impl Into<E::Pool>) -> Self {
        Self {
            pool: pool.into(),
            statements: Arc::default(),
        }
    }

    /// The pool, e.g. to close it.
    #[must_use]
    pub fn pool(&self) -> &E::Pool {
        &self.pool
    }

    /// Which engine it runs on.
    #[must_use]
    pub fn engine(&self) -> EngineKind {
        E::kind(&self.pool)
    }

    /// Creates or upgrades the MFA tables, recording what was applied in
    /// `_mfa_migrations` (never the host application's `_sqlx_migrations`).
    /// Safe to run again (a no-op) and from several instances at once
    /// (each engine's type says how).
    ///
    /// # Errors
    /// [`SqlStoreError::Migrate`] if a migration fails or the recorded
    /// migrations do not match this version's;
    /// [`SqlStoreError::MigrateLock`] if another instance's migration held
    /// the lock for too long (MySQL/MariaDB).
    pub async fn migrate(&self) -> core::result::Result<(), SqlStoreError> {
        E::migrate(&self.pool).await
    }

    /// How many statements this store and its clones have sent to the
    /// database so far, `BEGIN` and `COMMIT` included. With prepared
    /// statements cached (sqlx's default) each is one round trip; the
    /// benchmarks divide it by the operations run.
    #[must_use]
    pub fn statements_sent(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    /// Every cell of every MFA table, for tests that check what a database
    /// dump reveals: one entry per `table.column` with that column's value
    /// in each row (blobs as stored, text as UTF-8, numbers in decimal,
    /// NULL as empty), and one entry named after each empty table.
    ///
    /// # Errors
    /// As any store method; [`mfa_core::Error::Store`] also if the schema
    /// has an `mfa_` table this list does not know (so a new table can
    /// never be left out of the dump).
    #[cfg(feature = "testing")]
    pub async fn dump_all_tables(&self) -> Result<Vec<(String, Vec<Vec<u8>>)>> {
        self.retrying(|| crate::ops::reset::dump_all_tables(self))
            .await
    }

    // ----- what the operations run ---------------------------------------

    /// The engine's statements where the engines differ.
    pub(crate) fn dialect(&self) -> &'static Dialect {
        dialect(self.engine())
    }

    /// Counts one statement.
    fn count(&self) {
        self.statements.fetch_add(1, Ordering::Relaxed);
    }

    /// Runs a statement on its own (autocommit); rows affected.
    pub(crate) async fn execute(&self, sql: &'static str, args: &[Arg<'_>]) -> OpResult<u64> {
        self.count();
        Ok(E::execute(On::Pool(&self.pool), sql, args).await?)
    }

    /// Runs a statement on its own; all rows.
    pub(crate) async fn fetch_all(
        &self,
        sql: &'static str,
        args: &[Arg<'_>],
    ) -> OpResult<Vec<Row>> {
        self.count();
        Ok(E::fetch_all(On::Pool(&self.pool), sql, args).await?)
    }

    /// Runs a statement on its own; its first row.
    pub(crate) async fn fetch_optional(
        &self,
        sql: &'static str,
        args: &[Arg<'_>],
    ) -> OpResult<Option<Row>> {
        Ok(self.fetch_all(sql, args).await?.into_iter().next())
    }

    /// Runs `body` in a transaction (see [`Engine::begin`]), committed if
    /// it returns [`End::Commit`] and rolled back if it returns
    /// [`End::Rollback`] or fails.
    pub(crate) async fn transaction<T>(
        &self,
        body: impl AsyncFnOnce(&mut Tx<E>) -> OpResult<End<T>>,
    ) -> OpResult<T> {
        self.count();
        let mut tx = Tx {
            inner: E::begin(&self.pool).await?,
            statements: Arc::clone(&self.statements),
        };
        let (value, commit) = match body(&mut tx).await? {
            End::Commit(value) => (value, true),
            End::Rollback(value) => (value, false),
        };
        tx.count();
        E::finish(tx.inner, commit).await?;
        Ok(value)
    }

    /// [`transaction`](Self::transaction) whose first statement locks the
    /// subject's row in `mfa_subject_locks`: transactions that depend on
    /// more than one of the subject's rows run one after the other, each
    /// seeing what the previous one committed.
    pub(crate) async fn with_subject_lock<T>(
        &self,
        subject: &SubjectId,
        body: impl AsyncFnOnce(&mut Tx<E>) -> OpResult<End<T>>,
    ) -> OpResult<T> {
        let lock = self.dialect().lock_subject;
        self.transaction(async |tx| {
            tx.execute(lock, &subject_arg(subject)).await?;
            body(tx).await
        })
        .await
    }

    /// Runs `op`, again while the database rolls it back as a deadlock
    /// victim or serialisation failure (at most [`MAX_RETRIES`] times,
    /// after a growing, jittered pause); then reports its error.
    async fn retrying<T, F, Fut>(&self, op: F) -> Result<T>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = OpResult<T>>,
    {
        let engine = self.engine();
        let mut attempt = 0;
        loop {
            let error = match op().await {
                Ok(value) => return Ok(value),
                Err(OpError::Db(error)) => error,
                Err(OpError::Value(error)) => return Err(mfa_core::Error::Store(Box::new(error))),
            };
            let class = classify(engine, &error);
            if class != Class::Retry || attempt == MAX_RETRIES {
                return Err(match class {
                    Class::Unavailable | Class::Retry => {
                        mfa_core::Error::StoreUnavailable(Box::new(error))
                    }
                    Class::Other => mfa_core::Error::Store(Box::new(error)),
                });
            }
            attempt += 1;
            #[cfg(feature = "tracing")]
            tracing::warn!(
                attempt,
                sqlstate = error.as_database_error().and_then(|e| e.code()).as_deref(),
                engine = ?engine,
                "mfa-store-sql: deadlock or serialisation failure, running the transaction again",
            );
            tokio::time::sleep(backoff(attempt)).await;
        }
    }
}

/// How often an operation whose transaction was chosen as a deadlock
/// victim (or failed serialisation) is run again before giving up with
/// [`mfa_core::Error::StoreUnavailable`].
pub(crate) const MAX_RETRIES: u32 = 16;

/// The pause before retry number `attempt` (from 1): a random share
/// ("full jitter") of 2 ms doubled at each attempt, at most 250 ms, so
/// that transactions that deadlocked each other do not meet again.
fn backoff(attempt: u32) -> Duration {
    const FIRST: Duration = Duration::from_millis(2);
    const LONGEST: Duration = Duration::from_millis(250);
    let ceiling = FIRST
        .saturating_mul(1 << attempt.saturating_sub(1).min(16))
        .min(LONGEST);
    // Without randomness, the whole pause.
    let share = getrandom::u32().map_or(1.0, |r| f64::from(r) / f64::from(u32::MAX));
    ceiling.mul_f64(share)
}

/// How a transaction body ends.
pub(crate) enum End<T> {
    /// Commit, then return the value.
    Commit(T),
    /// Roll back (nothing to keep), then return the value.
    Rollback(T),
}

/// An open transaction that counts its statements on its store; dropping
/// it rolls back.
pub(crate) struct Tx<E: Engine> {
    inner: E::Tx,
    statements: Arc<AtomicU64>,
}

impl<E: Engine> Tx<E> {
    fn count(&self) {
        self.statements.fetch_add(1, Ordering::Relaxed);
    }

    /// Runs a statement; rows affected.
    pub(crate) async fn execute(&mut self, sql: &'static str, args: &[Arg<'_>]) -> OpResult<u64> {
        self.count();
        Ok(E::execute(On::Tx(&mut self.inner), sql, args).await?)
    }

    /// Runs a statement; its first row.
    pub(crate) async fn fetch_optional(
        &mut self,
        sql: &'static str,
        args: &[Arg<'_>],
    ) -> OpResult<Option<Row>> {
        self.count();
        let rows = E::fetch_all(On::Tx(&mut self.inner), sql, args).await?;
        Ok(rows.into_iter().next())
    }
}

/// Implements [`Store`] for [`SqlStore`] from a table of its methods: each
/// runs its operation from [`ops`](crate::ops) through
/// [`retrying`](SqlStore::retrying), so the operation borrows the method's
/// arguments (it may run more than once).
macro_rules! store_ops {
    ($($name:ident(&$self:ident $(, $arg:ident: $ty:ty)*) -> $ret:ty = $op:expr;)*) => {
        impl<E: Engine> Store for SqlStore<E> {
            $(async fn $name(&$self $(, $arg: $ty)*) -> Result<$ret> {
                $self.retrying(|| $op).await
            })*
        }
    };
}

store_ops! {
    put_pending_totp(&self, pending: PendingTotp) -> () = totp::put_pending(self, &pending);
    pending_totp(&self, subject: &SubjectId, id: &CredentialId, now: Timestamp)
        -> Option<PendingTotp> = totp::pending(self, subject, id, now);
    activate_totp(&self, subject: &SubjectId, id: &CredentialId, activation: Activation)
        -> Option<TotpCredential> = totp::activate(self, subject, id, &activation);
    list_totp(&self, subject: &SubjectId) -> Vec<TotpCredential> = totp::list(self, subject);
    rename_totp(&self, subject: &SubjectId, id: &CredentialId, name: &str)
        -> bool = totp::rename(self, subject, id, name);
    consume_totp_step(
        &self, subject: &SubjectId, id: &CredentialId, step: u64, drift: i16, now: Timestamp
    ) -> bool = totp::consume_step(self, StepUse { subject, id, step, drift, now });
    begin_totp_attempt(&self, subject: &SubjectId, rule: ThrottleRule, now: Timestamp)
        -> TotpContext = throttle::begin_totp_attempt(self, subject, rule, now);
    accept_totp_step(
        &self, subject: &SubjectId, id: &CredentialId, step: u64, drift: i16,
        rule: ThrottleRule, now: Timestamp, audit: NewAuditEvent
    ) -> bool = throttle::accept_totp_step(
        self, StepUse { subject, id, step, drift, now }, rule, &audit
    );
    remove_factor(&self, subject: &SubjectId, factor: &FactorRef, keep: Option<Usable>)
        -> Removal = factors::remove(self, subject, factor, keep);
    replace_recovery_codes(
        &self, subject: &SubjectId, hashes: Vec<CodeHash>, mode: ReplaceCodes, now: Timestamp
    ) -> bool = recovery::replace(self, subject, &hashes, mode, now);
    consume_recovery_code(&self, subject: &SubjectId, hash: &CodeHash, _now: Timestamp)
        -> bool = recovery::consume(self, subject, hash);
    recovery_codes_left(&self, subject: &SubjectId) -> u32 = recovery::left(self, subject);
    add_channel(&self, subject: &SubjectId, factor: ChannelFactor)
        -> ChannelAdded = factors::add_channel(self, subject, &factor);
    list_channels(&self, subject: &SubjectId)
        -> Vec<ChannelFactor> = factors::list_channels(self, subject);
    issue_sent_code(&self, code: SentCode, limits: SendLimits)
        -> IssueOutcome = sent_codes::issue(self, &code, limits);
    withdraw_sent_code(&self, code: &SentCode) -> () = sent_codes::withdraw(self, code);
    attempt_sent_code(
        &self, subject: &SubjectId, channel: Channel, hash: &CodeHash, max_tries: u32,
        now: Timestamp
    ) -> SentCodeAttempt = sent_codes::attempt(self, subject, channel, hash, max_tries, now);
    throttle_state(&self, subject: &SubjectId, kind: FactorKind)
        -> ThrottleState = throttle::state(self, subject, kind);
    charge_attempt(
        &self, subject: &SubjectId, kind: FactorKind, rule: ThrottleRule, now: Timestamp
    ) -> Charge = throttle::charge(self, subject, kind, rule, now);
    settle_attempt(
        &self, subject: &SubjectId, kind: FactorKind, rule: ThrottleRule, settlement: Settlement
    ) -> () = throttle::settle(self, subject, kind, rule, settlement);
    put_device(&self, device: RememberedDevice) -> () = devices::put(self, &device);
    touch_device(&self, subject: &SubjectId, token_hash: &CodeHash, now: Timestamp)
        -> Option<RememberedDevice> = devices::touch(self, subject, token_hash, now);
    list_devices(&self, subject: &SubjectId, now: Timestamp)
        -> Vec<RememberedDevice> = devices::list(self, subject, now);
    revoke_device(&self, subject: &SubjectId, id: &CredentialId)
        -> bool = devices::revoke(self, subject, id);
    revoke_all_devices(&self, subject: &SubjectId) -> u64 = devices::revoke_all(self, subject);
    load_policy(&self) -> Option<Policy> = policy::load(self);
    save_policy(&self, policy: &Policy) -> () = policy::save(self, policy);
    grace(&self, subject: &SubjectId) -> Option<GraceRecord> = policy::grace(self, subject);
    fix_grace(&self, subject: &SubjectId, record: GraceRecord)
        -> GraceRecord = policy::fix_grace(self, subject, record);
    clear_grace(&self, subject: &SubjectId) -> () = policy::clear_grace(self, subject);
    reset_subject(&self, subject: &SubjectId)
        -> ResetSummary = reset::reset_subject(self, subject);
    append_audit(&self, event: NewAuditEvent) -> () = audit::append(self, &event);
    list_audit(&self, query: &AuditQuery) -> Vec<AuditEvent> = audit::list(self, query);
    sealed_secrets(&self, after: Option<&CredentialId>, limit: u32)
        -> Vec<SealedEntry> = key_rotation::sealed_secrets(self, after, limit);
    replace_sealed(&self, id: &CredentialId, expected: &Sealed, new: &Sealed)
        -> bool = key_rotation::replace_sealed(self, id, expected, new);
}
