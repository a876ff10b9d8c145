//! [`StoreOptions`]: what the stores' `connect_with` applies to the pool
//! they build.

use core::time::Duration;

/// Settings for the pool
/// [`SqlStore::connect_with`](crate::SqlStore::connect_with) builds, on
/// every engine; `connect` uses [`StoreOptions::default()`]. A store made with `from_pool` keeps
/// the settings of the pool it was given.
///
/// ```
/// use core::time::Duration;
/// use mfa_store_sql::StoreOptions;
///
/// let options = StoreOptions::default().with_acquire_timeout(Duration::from_secs(1));
/// assert_eq!(options.acquire_timeout, Duration::from_secs(1));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoreOptions {
    /// The longest a store call (and `connect` itself) waits for a
    /// connection: for one to come free when all are in use, or for a new
    /// one to be opened — TCP connect, authentication, and the retries
    /// sqlx makes while the server refuses connections all count. When it
    /// runs out, the call fails with
    /// [`Error::StoreUnavailable`](mfa_core::Error::StoreUnavailable)
    /// (`connect`: a [`SqlStoreError`](crate::SqlStoreError) whose
    /// [`is_unavailable`](crate::SqlStoreError::is_unavailable) is true),
    /// so an unreachable database turns into a 503 in about this long
    /// rather than a request hanging. Default:
    /// [`DEFAULT_ACQUIRE_TIMEOUT`](Self::DEFAULT_ACQUIRE_TIMEOUT) (sqlx's
    /// own default is 30 s). Give it more than zero.
    pub acquire_timeout: Duration,
}

impl StoreOptions {
    /// The default [`acquire_timeout`](Self::acquire_timeout): 3 seconds.
    pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

    /// The same options with another acquire timeout.
    #[must_use]
    pub fn with_acquire_timeout(mut self, timeout: Duration) -> Self {
        self.acquire_timeout = timeout;
        self
    }
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            acquire_timeout: Self::DEFAULT_ACQUIRE_TIMEOUT,
        }
    }
}
