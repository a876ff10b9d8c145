//! # mfa-store-sql
//!
//! The [`mfa_core::Store`] on [sqlx]: SQLite, PostgreSQL and
//! MySQL/MariaDB. Every single-use, counting and rate-limit guarantee of
//! the `Store` contract is enforced *by the database* — a conditional
//! statement and its affected-row count, an upsert, or a transaction that
//! locks the row everything else depends on — so it holds across any
//! number of application instances sharing one database.
//!
//! * One store type, [`SqlStore<E>`](SqlStore), generic over the
//!   [`Engine`]: [`SqliteStore`] (`SqlStore<sqlx::Sqlite>`, feature
//!   `sqlite`, bundled SQLite: no system library), [`PostgresStore`]
//!   (feature `postgres`), [`MySqlStore`] (feature `mysql`). No engine is
//!   enabled by default. All of them implement [`Store`](mfa_core::Store)
//!   with the same code; each engine only supplies its statements.
//! * [`AnyStore`] (`SqlStore<AnyEngine>`) picks the engine from a URL at
//!   run time (`sqlite:…`, `postgres://…`/`postgresql://…`,
//!   `mysql://…`/`mariadb://…`), so an application switches engines by
//!   configuration alone.
//! * [`connect`](SqlStore::connect) builds a pool with a 3 s acquire
//!   timeout (see [Timeouts](#timeouts));
//!   [`connect_with`](SqlStore::connect_with) takes [`StoreOptions`].
//! * [`migrate`](SqlStore::migrate) creates and upgrades the tables from
//!   per-dialect migration files, recorded in the crate's own
//!   `_mfa_migrations` table.
//! * [`sqlx`] is re-exported, for building pools
//!   ([`from_pool`](SqlStore::from_pool)).
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use mfa_core::{Store, SubjectId};
//! use mfa_store_sql::AnyStore;
//!
//! // "sqlite://mfa.db", "postgres://app@db/app", "mysql://app@db/app"…
//! let url = std::env::var("MFA_DATABASE_URL")?;
//! let store = AnyStore::connect(&url).await?;
//! store.migrate().await?; // at start-up; a no-op when up to date
//!
//! let alice = SubjectId::new("alice")?;
//! assert_eq!(store.recovery_codes_left(&alice).await?, 0);
//! # Ok(()) }
//! ```
//!
//! ## Features
//!
//! | feature | gives |
//! |---|---|
//! | `sqlite` | [`SqliteStore`] (SQLite compiled in) |
//! | `postgres` | [`PostgresStore`] |
//! | `mysql` | [`MySqlStore`] (MySQL 8, MariaDB 10.6+) |
//! | `testing` | [`dump_all_tables()`](SqlStore::dump_all_tables) on every store, for tests that check what a database dump reveals |
//! | `tracing` | a `tracing` warning (attempt, SQLSTATE) each time a transaction is run again after a deadlock or serialisation failure |
//!
//! No TLS stack is compiled in: the database is expected on a private
//! network or the same host.
//!
//! ## Timeouts
//!
//! A store built by `connect` waits at most **3 seconds** for a database
//! connection — a free one from its pool, or a new one being opened
//! (TCP connect, authentication and sqlx's retries while the server
//! refuses connections included) — and then fails with
//! [`Error::StoreUnavailable`](mfa_core::Error::StoreUnavailable)
//! (`connect` itself: [`SqlStoreError::Connect`], which converts to it).
//! An unreachable or saturated database thus answers a sign-in with a 503
//! in seconds instead of holding it for sqlx's default 30 s. Choose
//! another limit with [`StoreOptions`] and [`SqlStore::connect_with`]. A
//! store made with
//! `from_pool` keeps the settings of the pool you built (sqlx's default is
//! 30 s: set `acquire_timeout` on your `PoolOptions`). SQLite also waits
//! up to [`SqliteStore::BUSY_TIMEOUT`](SqlStore::BUSY_TIMEOUT) (5 s) for another connection's
//! write lock.
//!
//! ## Schema
//!
//! All tables are prefixed `mfa_`; times are `BIGINT` Unix seconds. A
//! database dump reveals no secret: TOTP secrets are stored only *sealed*
//! ([`Sealed`](mfa_core::seal::Sealed): AEAD ciphertext bound to subject and
//! credential, under a key that never enters the database), and recovery
//! codes, e-mail/SMS codes and remembered-device tokens only as 32-byte
//! keyed hashes ([`CodeHash`](mfa_core::pepper::CodeHash): HMAC-SHA-256
//! under a pepper that never enters the database). Nothing else stored is
//! secret. Identifiers compare byte for byte on every engine (`COLLATE
//! "C"` on PostgreSQL, `VARBINARY` on MySQL).
//!
//! | table | columns | keys and indexes |
//! |---|---|---|
//! | `mfa_totp_pending` | `id`, `subject`, `sealed_secret` (sealed), `algorithm`, `digits`, `period`, `t0`, `created_at`, `expires_at` | PK `id`; unique `subject` (one pending enrollment per subject) |
//! | `mfa_totp` | `seq`, `id`, `subject`, `name`, `sealed_secret` (sealed), `algorithm`, `digits`, `period`, `t0`, `last_step`, `drift`, `created_at`, `last_used_at` | PK `seq` (auto-increment: insertion order); unique `id`; (`subject`, `created_at`) |
//! | `mfa_recovery_codes` | `subject`, `code_hash` (hash), `created_at` | PK (`subject`, `code_hash`); a used code is deleted |
//! | `mfa_channels` | `subject`, `channel` (`email`/`sms`), `added_at`, `address_hash` (hash), `sealed_address` (sealed) | PK (`subject`, `channel`) |
//! | `mfa_sent_codes` | `subject`, `channel`, `code_hash` (hash), `issued_at`, `expires_at`, `tries` | PK (`subject`, `channel`): the one active code; deleted when used |
//! | `mfa_code_sends` | `seq`, `subject`, `channel`, `issued_at` | (`subject`, `channel`, `issued_at`); sends older than an hour are pruned |
//! | `mfa_throttle` | `subject`, `factor`, `failures`, `locked_until`, `recent`, `last_charge_at`, `refused`, `refused_before` | PK (`subject`, `factor`) |
//! | `mfa_devices` | `seq`, `id`, `subject`, `token_hash` (hash), `name`, `created_at`, `expires_at`, `last_used_at` | PK `seq`; unique `id`; (`subject`, `token_hash`) |
//! | `mfa_policy` | `id` (always 1), `policy` (JSON text of [`Policy`](mfa_core::policy::Policy)) | PK `id` |
//! | `mfa_grace` | `subject`, `fixed_at`, `deadline` | PK `subject` |
//! | `mfa_audit` | `id` (auto-increment), `at`, `subject`, `actor_kind` (`subject`/`admin`/`system`), `actor_id`, `action`, `factor`, `detail` | PK `id`; (`subject`, `id`) |
//! | `mfa_subject_locks` | `subject` | PK `subject`: the row multi-row operations lock first |
//! | `_mfa_migrations` | sqlx's migration bookkeeping | |
//!
//! ## How each guarantee is enforced
//!
//! Transactions that write begin with `BEGIN IMMEDIATE` on SQLite (the
//! database's single write lock is held from the first statement, so
//! transactions never interleave) and run at READ COMMITTED on PostgreSQL
//! and MySQL, where they lock the rows they depend on (MySQL at READ
//! COMMITTED takes no gap locks). Operations that depend on more than one
//! of a subject's rows first lock the subject's row in
//! `mfa_subject_locks`, so they run one after the other. A transaction
//! that the database rolls back as a deadlock victim or serialisation
//! failure is run again from the start, at most 16 times, after a random
//! pause of up to 2 ms doubled at each attempt (at most 250 ms) so that
//! the transactions that collided do not meet again; nothing else is
//! retried.
//!
//! Single use is only as good as the commit that records it: a commit
//! lost in a crash would let a consumed step or code verify again. So
//! every commit is durable before the call returns — SQLite runs in WAL
//! mode with `synchronous = FULL` (the log is synced at each commit; see
//! [`SqliteStore`]), and PostgreSQL and MySQL are expected to keep their
//! durable defaults (`synchronous_commit = on`,
//! `innodb_flush_log_at_trx_commit = 1`).
//!
//! | method | mechanism |
//! |---|---|
//! | `consume_totp_step` | one `UPDATE … SET last_step = step … WHERE … AND (last_step IS NULL OR last_step < step)`; accepted iff a row changed. A concurrent update of the row waits for the first and re-checks the condition |
//! | `charge_attempt` | PostgreSQL and SQLite: one `INSERT … ON CONFLICT (subject, factor) DO UPDATE SET …` whose `CASE` expressions apply [`ThrottleRule::charge`](mfa_core::throttle::ThrottleRule::charge) to the locked old row (charge and lock, or count a refusal) `RETURNING` the new row. MySQL (whose `SET` reads earlier assignments): a transaction that upserts the row, reads it `FOR UPDATE`, applies the rule in Rust and writes it back. Concurrent charges of a row run one after the other |
//! | `begin_totp_attempt` | PostgreSQL: the charge upsert as a data-modifying CTE joined with the policy row and the authenticators — the sign-in's first round trip. SQLite and MySQL: the charge, then one `SELECT` of an anchor row `LEFT JOIN`ed with the policy row and the authenticators |
//! | `settle_attempt` | a refund: one `UPDATE` applying [`ThrottleRule::refund`](mfa_core::throttle::ThrottleRule::refund) in SQL; a success: a transaction of one `UPDATE` applying [`ThrottleRule::succeed`](mfa_core::throttle::ThrottleRule::succeed) and a `DELETE` of the subject's other blocked kinds |
//! | `accept_totp_step` | PostgreSQL: one statement whose data-modifying CTEs run the `consume_totp_step` update and, only if it changed a row, settle the charge as a success, unblock other kinds and insert the audit event — one round trip, one commit. SQLite and MySQL (no data-modifying CTEs): a transaction of the same statements |
//! | `activate_totp` | transaction: `DELETE` the unexpired pending row `RETURNING` it (MySQL: `SELECT … FOR UPDATE`, then `DELETE`), `INSERT` the authenticator, `DELETE` the active codes of unregistered channels. The first delete locks the row; the others then find nothing |
//! | `put_pending_totp` | one `INSERT … ON CONFLICT (subject) DO UPDATE` (MySQL: transaction locking the subject row, `DELETE` + `INSERT`) |
//! | `consume_recovery_code` | one `DELETE` of (subject, hash); used iff a row was deleted |
//! | `replace_recovery_codes` | transaction: lock the subject row, count unused codes (for `IfNone`), `DELETE` them, `INSERT` the new ones |
//! | `attempt_sent_code` | one conditional `DELETE` (hash matches, unexpired, tries left) → accepted; else one conditional `UPDATE … tries = tries + 1` (hash differs) `RETURNING tries` (MySQL: the update and a read of the locked row in one transaction) → rejected; else no usable code |
//! | `issue_sent_code` | transaction: lock the subject row, read count/oldest/newest send in the hour, decide; if allowed prune, log the send and upsert the active code with `tries = 0` |
//! | `add_channel` | transaction: lock the subject row, read the channel's row, `INSERT` or `UPDATE` it (or leave it: same address hash), `DELETE` the subject's pending authenticator enrollment and the active codes of unregistered channels |
//! | `remove_factor` | transaction: lock the subject row, check the factor exists, count the usable factors that would be left (authenticators; channels whose address hash is the given one), then `DELETE` — or roll back with `LastUsable`. Removals of one subject's factors run one after the other |
//! | `fix_grace` | one `INSERT … ON CONFLICT DO NOTHING` (MySQL: a plain `INSERT` whose unique violation means "already there"), then a read of the row that won |
//! | `touch_device` | one `UPDATE … RETURNING` (MySQL: update and read in one transaction) |
//! | `reset_subject` | transaction: lock the subject row, then `DELETE` from every table (pending before active authenticators) |
//! | `append_audit` | one `INSERT`; the id comes from the auto-increment column |
//! | `replace_sealed` | conditional `UPDATE … WHERE id = ? AND sealed_secret = expected`, on pending then active authenticators |
//! | everything else | one statement |
//!
//! ## Errors
//!
//! Store methods return [`mfa_core::Error`]. A database that is down,
//! unreachable, out of connections or timed out (sqlx's `PoolTimedOut`,
//! `PoolClosed`, `WorkerCrashed`, `Io`, `Tls`; connection-class SQLSTATEs;
//! SQLite's busy/locked/I/O codes; a deadlock that persists) is
//! [`Error::StoreUnavailable`](mfa_core::Error::StoreUnavailable);
//! anything else, including a row that does not decode (an unknown enum
//! name, a hash that is not 32 bytes, a broken sealed secret), is
//! [`Error::Store`](mfa_core::Error::Store) with a [`SqlStoreError`] or
//! [`sqlx::Error`] as its source. Errors are classified by sqlx's error
//! variants and the database's error codes, never by message text.
//! Connecting and migrating return [`SqlStoreError`].
//!
//! ## Testing what a dump reveals
//!
//! With the `testing` feature every store has
//! [`dump_all_tables()`](SqlStore::dump_all_tables): every
//! cell of every `mfa_` table, keyed `table.column` (blobs as stored, text
//! as UTF-8, numbers in decimal, NULL as empty; an empty table appears
//! under its bare name). It fails if the schema holds an `mfa_` table it
//! does not know, so a table added later cannot be left out. A dump test
//! drives the service (enroll and confirm an authenticator, generate
//! recovery codes, send and use an e-mail code, remember a device), then
//! checks that no cell contains the TOTP secret (raw bytes or base32), a
//! recovery code (as shown or normalised), a sent code or a device token.
//! Look for six-digit codes only in text and blob cells: times are decimal
//! numbers too.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
// The docs link to the engine types, which exist only with their features
// (docs.rs and CI document with all of them).
#![cfg_attr(
    not(all(feature = "sqlite", feature = "postgres", feature = "mysql")),
    allow(rustdoc::broken_intra_doc_links)
)]

#[cfg(any_engine)]
mod any;
mod engine;
mod error;
mod ops;
mod options;
mod sql;
mod store;

#[cfg(feature = "mysql")]
mod mysql;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;

#[cfg(any_engine)]
pub use any::{AnyEngine, AnyPool};
pub use engine::{Engine, EngineKind};
pub use error::SqlStoreError;
#[cfg(feature = "mysql")]
pub use mysql::MySqlStore;
pub use options::StoreOptions;
#[cfg(feature = "postgres")]
pub use postgres::PostgresStore;
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;
pub use store::SqlStore;

/// The store on whichever engine a URL names, so that an application
/// switches engines by configuration alone: `AnyStore::connect(url)`
/// picks SQLite, PostgreSQL or MySQL/MariaDB from the scheme (see
/// [`EngineKind::from_url`]).
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use mfa_store_sql::AnyStore;
///
/// let url = std::env::var("MFA_DATABASE_URL")?; // e.g. sqlite://mfa.db
/// let store = AnyStore::connect(&url).await?;
/// store.migrate().await?;
/// # Ok(()) }
/// ```
#[cfg(any_engine)]
pub type AnyStore = SqlStore<AnyEngine>;

pub use sqlx;
