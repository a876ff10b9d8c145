//! [`SqlStore`]: the engine chosen from a URL at run time.

use crate::StoreOptions;
use crate::error::SqlStoreError;

#[cfg(feature = "mysql")]
use crate::MySqlStore;
#[cfg(feature = "postgres")]
use crate::PostgresStore;
#[cfg(feature = "sqlite")]
use crate::SqliteStore;

/// A database engine this crate supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Engine {
    /// SQLite (feature `sqlite`).
    Sqlite,
    /// PostgreSQL (feature `postgres`).
    Postgres,
    /// MySQL or MariaDB (feature `mysql`).
    MySql,
}

impl Engine {
    /// The engine a URL names by its scheme: `sqlite:`, `postgres:` or
    /// `postgresql:`, `mysql:` or `mariadb:` (any case).
    ///
    /// # Errors
    /// [`SqlStoreError::UnsupportedUrl`] for any other scheme.
    pub fn from_url(url: &str) -> Result<Self, SqlStoreError> {
        let scheme = url
            .split_once(':')
            .map(|(scheme, _)| scheme.to_ascii_lowercase())
            .ok_or(SqlStoreError::UnsupportedUrl)?;
        match scheme.as_str() {
            "sqlite" => Ok(Self::Sqlite),
            "postgres" | "postgresql" => Ok(Self::Postgres),
            "mysql" | "mariadb" => Ok(Self::MySql),
            _ => Err(SqlStoreError::UnsupportedUrl),
        }
    }

    /// Whether this build includes the engine.
    #[must_use]
    pub fn is_enabled(self) -> bool {
        match self {
            Self::Sqlite => cfg!(feature = "sqlite"),
            Self::Postgres => cfg!(feature = "postgres"),
            Self::MySql => cfg!(feature = "mysql"),
        }
    }

    /// The cargo feature that enables the engine.
    #[must_use]
    pub fn feature(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
            Self::MySql => "mysql",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "SQLite",
            Self::Postgres => "PostgreSQL",
            Self::MySql => "MySQL/MariaDB",
        }
    }

    fn not_enabled(self) -> SqlStoreError {
        SqlStoreError::EngineNotEnabled {
            engine: self.name(),
            feature: self.feature(),
        }
    }
}

/// The store on whichever engine a URL names, so that an application
/// switches engines by configuration alone. It has a variant for each
/// engine whose feature is enabled, and implements
/// [`Store`](mfa_core::Store) by handing each call to it.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use mfa_store_sql::SqlStore;
///
/// let url = std::env::var("MFA_DATABASE_URL")?; // e.g. sqlite://mfa.db
/// let store = SqlStore::connect(&url).await?;
/// store.migrate().await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum SqlStore {
    /// On SQLite.
    #[cfg(feature = "sqlite")]
    Sqlite(SqliteStore),
    /// On PostgreSQL.
    #[cfg(feature = "postgres")]
    Postgres(PostgresStore),
    /// On MySQL or MariaDB.
    #[cfg(feature = "mysql")]
    MySql(MySqlStore),
}

/// Runs `$call` on the engine's store, bound to `$s`.
macro_rules! dispatch {
    ($self:expr, $s:ident => $call:expr) => {
        match *$self {
            #[cfg(feature = "sqlite")]
            SqlStore::Sqlite(ref $s) => $call,
            #[cfg(feature = "postgres")]
            SqlStore::Postgres(ref $s) => $call,
            #[cfg(feature = "mysql")]
            SqlStore::MySql(ref $s) => $call,
        }
    };
}

impl SqlStore {
    /// Connects to the engine `url` names, with that engine's
    /// `connect` (see [`SqliteStore::connect`](crate::SqliteStore::connect)
    /// and its kin): [`connect_with`](Self::connect_with) with
    /// [`StoreOptions::default()`] (a 3 s acquire timeout).
    ///
    /// # Errors
    /// [`SqlStoreError::UnsupportedUrl`] for an unknown scheme,
    /// [`SqlStoreError::EngineNotEnabled`] for an engine this build
    /// leaves out, else as the engine's `connect`.
    pub async fn connect(url: &str) -> Result<Self, SqlStoreError> {
        Self::connect_with(url, StoreOptions::default()).await
    }

    /// Connects to the engine `url` names with `options`, through that
    /// engine's `connect_with`.
    ///
    /// # Errors
    /// As [`connect`](Self::connect).
    pub async fn connect_with(url: &str, options: StoreOptions) -> Result<Self, SqlStoreError> {
        #[cfg(not(any_engine))]
        let _ = options;
        match Engine::from_url(url)? {
            #[cfg(feature = "sqlite")]
            Engine::Sqlite => SqliteStore::connect_with(url, options)
                .await
                .map(Self::Sqlite),
            #[cfg(feature = "postgres")]
            Engine::Postgres => PostgresStore::connect_with(url, options)
                .await
                .map(Self::Postgres),
            #[cfg(feature = "mysql")]
            Engine::MySql => MySqlStore::connect_with(url, options)
                .await
                .map(Self::MySql),
            #[allow(unreachable_patterns)]
            engine => Err(engine.not_enabled()),
        }
    }

    /// Which engine it runs on.
    #[must_use]
    pub fn engine(&self) -> Engine {
        dispatch!(self, s => s.engine_of())
    }

    /// Statements sent to the database so far (see
    /// [`PostgresStore::statements_sent`](crate::PostgresStore::statements_sent)
    /// and its kin).
    #[must_use]
    pub fn statements_sent(&self) -> u64 {
        dispatch!(self, s => s.statements_sent())
    }

    /// Creates or upgrades the MFA tables (see the engine's `migrate`).
    ///
    /// # Errors
    /// [`SqlStoreError::Migrate`] if a migration fails.
    pub async fn migrate(&self) -> Result<(), SqlStoreError> {
        dispatch!(self, s => s.migrate().await)
    }

    /// Every cell of every MFA table (see
    /// [`SqliteStore::dump_all_tables`](crate::SqliteStore::dump_all_tables)).
    ///
    /// # Errors
    /// As the engine's `dump_all_tables`.
    #[cfg(feature = "testing")]
    pub async fn dump_all_tables(&self) -> mfa_core::Result<Vec<(String, Vec<Vec<u8>>)>> {
        dispatch!(self, s => s.dump_all_tables().await)
    }
}

#[cfg(feature = "sqlite")]
impl SqliteStore {
    fn engine_of(&self) -> Engine {
        Engine::Sqlite
    }
}

#[cfg(feature = "postgres")]
impl PostgresStore {
    fn engine_of(&self) -> Engine {
        Engine::Postgres
    }
}

#[cfg(feature = "mysql")]
impl MySqlStore {
    fn engine_of(&self) -> Engine {
        Engine::MySql
    }
}

#[cfg(feature = "sqlite")]
impl From<SqliteStore> for SqlStore {
    fn from(store: SqliteStore) -> Self {
        Self::Sqlite(store)
    }
}

#[cfg(feature = "postgres")]
impl From<PostgresStore> for SqlStore {
    fn from(store: PostgresStore) -> Self {
        Self::Postgres(store)
    }
}

#[cfg(feature = "mysql")]
impl From<MySqlStore> for SqlStore {
    fn from(store: MySqlStore) -> Self {
        Self::MySql(store)
    }
}

/// With no engine enabled `SqlStore` has no value, and every method is
/// unreachable.
mod store_impl {
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

    use super::SqlStore;

    #[cfg_attr(not(any_engine), allow(unused_variables))]
    impl Store for SqlStore {
        async fn put_pending_totp(&self, pending: PendingTotp) -> Result<()> {
            dispatch!(self, s => s.put_pending_totp(pending).await)
        }

        async fn pending_totp(
            &self,
            subject: &SubjectId,
            id: &CredentialId,
            now: Timestamp,
        ) -> Result<Option<PendingTotp>> {
            dispatch!(self, s => s.pending_totp(subject, id, now).await)
        }

        async fn activate_totp(
            &self,
            subject: &SubjectId,
            id: &CredentialId,
            activation: Activation,
        ) -> Result<Option<TotpCredential>> {
            dispatch!(self, s => s.activate_totp(subject, id, activation).await)
        }

        async fn list_totp(&self, subject: &SubjectId) -> Result<Vec<TotpCredential>> {
            dispatch!(self, s => s.list_totp(subject).await)
        }

        async fn consume_totp_step(
            &self,
            subject: &SubjectId,
            id: &CredentialId,
            step: u64,
            drift: i16,
            now: Timestamp,
        ) -> Result<bool> {
            dispatch!(self, s => s.consume_totp_step(subject, id, step, drift, now).await)
        }

        async fn begin_totp_attempt(
            &self,
            subject: &SubjectId,
            rule: ThrottleRule,
            now: Timestamp,
        ) -> Result<TotpContext> {
            dispatch!(self, s => s.begin_totp_attempt(subject, rule, now).await)
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
            dispatch!(self, s => s.accept_totp_step(subject, id, step, drift, rule, now, audit).await)
        }

        async fn remove_factor(
            &self,
            subject: &SubjectId,
            factor: &FactorRef,
            keep: Option<Usable>,
        ) -> Result<Removal> {
            dispatch!(self, s => s.remove_factor(subject, factor, keep).await)
        }

        async fn replace_recovery_codes(
            &self,
            subject: &SubjectId,
            hashes: Vec<CodeHash>,
            mode: ReplaceCodes,
            now: Timestamp,
        ) -> Result<bool> {
            dispatch!(self, s => s.replace_recovery_codes(subject, hashes, mode, now).await)
        }

        async fn consume_recovery_code(
            &self,
            subject: &SubjectId,
            hash: &CodeHash,
            now: Timestamp,
        ) -> Result<bool> {
            dispatch!(self, s => s.consume_recovery_code(subject, hash, now).await)
        }

        async fn recovery_codes_left(&self, subject: &SubjectId) -> Result<u32> {
            dispatch!(self, s => s.recovery_codes_left(subject).await)
        }

        async fn add_channel(
            &self,
            subject: &SubjectId,
            factor: ChannelFactor,
        ) -> Result<ChannelAdded> {
            dispatch!(self, s => s.add_channel(subject, factor).await)
        }

        async fn list_channels(&self, subject: &SubjectId) -> Result<Vec<ChannelFactor>> {
            dispatch!(self, s => s.list_channels(subject).await)
        }

        async fn issue_sent_code(
            &self,
            code: SentCode,
            limits: SendLimits,
        ) -> Result<IssueOutcome> {
            dispatch!(self, s => s.issue_sent_code(code, limits).await)
        }

        async fn attempt_sent_code(
            &self,
            subject: &SubjectId,
            channel: Channel,
            hash: &CodeHash,
            max_tries: u32,
            now: Timestamp,
        ) -> Result<SentCodeAttempt> {
            dispatch!(self, s => s.attempt_sent_code(subject, channel, hash, max_tries, now).await)
        }

        async fn throttle_state(
            &self,
            subject: &SubjectId,
            kind: FactorKind,
        ) -> Result<ThrottleState> {
            dispatch!(self, s => s.throttle_state(subject, kind).await)
        }

        async fn charge_attempt(
            &self,
            subject: &SubjectId,
            kind: FactorKind,
            rule: ThrottleRule,
            now: Timestamp,
        ) -> Result<Charge> {
            dispatch!(self, s => s.charge_attempt(subject, kind, rule, now).await)
        }

        async fn settle_attempt(
            &self,
            subject: &SubjectId,
            kind: FactorKind,
            rule: ThrottleRule,
            settlement: Settlement,
        ) -> Result<()> {
            dispatch!(self, s => s.settle_attempt(subject, kind, rule, settlement).await)
        }

        async fn put_device(&self, device: RememberedDevice) -> Result<()> {
            dispatch!(self, s => s.put_device(device).await)
        }

        async fn touch_device(
            &self,
            subject: &SubjectId,
            token_hash: &CodeHash,
            now: Timestamp,
        ) -> Result<Option<RememberedDevice>> {
            dispatch!(self, s => s.touch_device(subject, token_hash, now).await)
        }

        async fn list_devices(
            &self,
            subject: &SubjectId,
            now: Timestamp,
        ) -> Result<Vec<RememberedDevice>> {
            dispatch!(self, s => s.list_devices(subject, now).await)
        }

        async fn revoke_device(&self, subject: &SubjectId, id: &CredentialId) -> Result<bool> {
            dispatch!(self, s => s.revoke_device(subject, id).await)
        }

        async fn revoke_all_devices(&self, subject: &SubjectId) -> Result<u64> {
            dispatch!(self, s => s.revoke_all_devices(subject).await)
        }

        async fn load_policy(&self) -> Result<Option<Policy>> {
            dispatch!(self, s => s.load_policy().await)
        }

        async fn save_policy(&self, policy: &Policy) -> Result<()> {
            dispatch!(self, s => s.save_policy(policy).await)
        }

        async fn grace(&self, subject: &SubjectId) -> Result<Option<GraceRecord>> {
            dispatch!(self, s => s.grace(subject).await)
        }

        async fn fix_grace(&self, subject: &SubjectId, record: GraceRecord) -> Result<GraceRecord> {
            dispatch!(self, s => s.fix_grace(subject, record).await)
        }

        async fn clear_grace(&self, subject: &SubjectId) -> Result<()> {
            dispatch!(self, s => s.clear_grace(subject).await)
        }

        async fn reset_subject(&self, subject: &SubjectId) -> Result<ResetSummary> {
            dispatch!(self, s => s.reset_subject(subject).await)
        }

        async fn append_audit(&self, event: NewAuditEvent) -> Result<()> {
            dispatch!(self, s => s.append_audit(event).await)
        }

        async fn list_audit(&self, query: &AuditQuery) -> Result<Vec<AuditEvent>> {
            dispatch!(self, s => s.list_audit(query).await)
        }

        async fn sealed_secrets(
            &self,
            after: Option<&CredentialId>,
            limit: u32,
        ) -> Result<Vec<SealedEntry>> {
            dispatch!(self, s => s.sealed_secrets(after, limit).await)
        }

        async fn replace_sealed(
            &self,
            id: &CredentialId,
            expected: &Sealed,
            new: &Sealed,
        ) -> Result<bool> {
            dispatch!(self, s => s.replace_sealed(id, expected, new).await)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engines_from_urls() {
        assert_eq!(Engine::from_url("sqlite::memory:").unwrap(), Engine::Sqlite);
        assert_eq!(Engine::from_url("sqlite://x.db").unwrap(), Engine::Sqlite);
        assert_eq!(
            Engine::from_url("postgres://h/d").unwrap(),
            Engine::Postgres
        );
        assert_eq!(
            Engine::from_url("PostgreSQL://h/d").unwrap(),
            Engine::Postgres
        );
        assert_eq!(Engine::from_url("mysql://h/d").unwrap(), Engine::MySql);
        assert_eq!(Engine::from_url("mariadb://h/d").unwrap(), Engine::MySql);
        assert!(matches!(
            Engine::from_url("oracle://h/d"),
            Err(SqlStoreError::UnsupportedUrl)
        ));
        assert!(matches!(
            Engine::from_url("no scheme"),
            Err(SqlStoreError::UnsupportedUrl)
        ));
    }
}
